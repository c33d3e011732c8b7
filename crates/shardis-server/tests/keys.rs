//! Keyspace commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX KEYS (glob patterns) SCAN
//! (MATCH COUNT TYPE, and completeness while the keyspace changes) RANDOMKEY, the EXPIRE family
//! with NX XX GT LT, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST TOUCH COPY MOVE OBJECT, and expiry:
//! expired keys are invisible at once, and the active sweep reclaims keys nobody touches.
//!
//! The expected replies were recorded from a real redis-server 7.0. Setting
//! SHARDIS_TEST_AGAINST_REDIS=1 runs these same tests against redis-server instead of shardis,
//! which checks the expectations themselves.

mod common;
use common::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// KEYS `pattern`, sorted.
fn keys(c: &mut Raw, pattern: &str) -> Vec<String> {
    let mut k = bulks(&parse(&c.cmd(&["KEYS", pattern])));
    k.sort();
    k
}

/// One SCAN call: the next cursor and the keys returned.
fn scan_once(c: &mut Raw, cursor: &str, opts: &[&str]) -> (String, Vec<String>) {
    let mut args = vec!["SCAN", cursor];
    args.extend_from_slice(opts);
    let reply = c.cmd(&args);
    match parse(&reply) {
        Reply::Arr(v) if v.len() == 2 => {
            let Reply::Str(next) = &v[0] else {
                panic!("SCAN cursor is not a bulk string: {reply:?}")
            };
            assert!(
                !next.is_empty() && next.bytes().all(|b| b.is_ascii_digit()),
                "SCAN cursor {next:?}"
            );
            (next.clone(), bulks(&v[1]))
        }
        _ => panic!("SCAN {cursor} {opts:?} replied {reply:?}"),
    }
}

/// A whole SCAN iteration: every key returned (with repeats), sorted, and the number of calls.
fn scan_all(c: &mut Raw, opts: &[&str]) -> (Vec<String>, usize) {
    let (mut cursor, mut all, mut calls) = ("0".to_string(), Vec::new(), 0);
    loop {
        let (next, k) = scan_once(c, &cursor, opts);
        all.extend(k);
        calls += 1;
        assert!(calls < 100_000, "SCAN does not terminate");
        if next == "0" {
            break;
        }
        cursor = next;
    }
    all.sort();
    (all, calls)
}

/// The value of `field` in an INFO reply.
fn info_field(c: &mut Raw, section: &str, field: &str) -> Option<String> {
    let info = c.cmd(&["INFO", section]);
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.to_string()))
}

/// Sends many commands in one write and checks every reply.
fn pipeline(c: &mut Raw, cmds: &[Vec<String>], want: &str) {
    let mut buf = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        buf.extend(encode(&args));
    }
    c.send(&buf);
    for cmd in cmds {
        assert_eq!(c.read_reply(), want, "{cmd:?}");
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn del_unlink_exists_type() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["MSET", "a", "1", "b", "2", "c", "3"], "+OK\r\n");
    s.is(&["DEL", "a", "b", "nokey"], ":2\r\n");
    s.is(&["DEL", "a"], ":0\r\n");
    s.is(&["EXISTS", "a", "b", "c"], ":1\r\n");
    s.is(&["EXISTS", "c", "c", "c", "nokey"], ":3\r\n");
    s.is(&["UNLINK", "c", "nokey"], ":1\r\n");
    s.is(&["UNLINK", "c"], ":0\r\n");
    s.is(&["EXISTS", "c"], ":0\r\n");
    s.is(&["SET", "d", "4"], "+OK\r\n");
    s.is(&["DEL", "d", "d"], ":1\r\n");
    s.is(
        &["DEL"],
        "-ERR wrong number of arguments for 'del' command\r\n",
    );
    s.is(
        &["UNLINK"],
        "-ERR wrong number of arguments for 'unlink' command\r\n",
    );
    s.is(
        &["EXISTS"],
        "-ERR wrong number of arguments for 'exists' command\r\n",
    );
    s.is(&["SET", "s", "v"], "+OK\r\n");
    s.is(&["TYPE", "s"], "+string\r\n");
    s.is(&["TYPE", "nokey"], "+none\r\n");
    s.is(
        &["TYPE"],
        "-ERR wrong number of arguments for 'type' command\r\n",
    );
    s.is(
        &["TYPE", "a", "b"],
        "-ERR wrong number of arguments for 'type' command\r\n",
    );
}

#[test]
fn rename_and_renamenx() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "a", "1"], "+OK\r\n");
    s.is(&["RENAME", "a", "b"], "+OK\r\n");
    s.is(&["GET", "b"], "$1\r\n1\r\n");
    s.is(&["EXISTS", "a"], ":0\r\n");
    s.is(&["RENAME", "nokey", "x"], "-ERR no such key\r\n");
    s.is(&["RENAMENX", "nokey", "x"], "-ERR no such key\r\n");
    s.is(&["RENAME", "b", "b"], "+OK\r\n");
    s.is(&["GET", "b"], "$1\r\n1\r\n");
    s.is(&["RENAMENX", "b", "b"], ":0\r\n");
    s.is(&["SET", "c", "3", "EX", "100"], "+OK\r\n");
    s.is(&["RENAME", "c", "b"], "+OK\r\n");
    s.is(&["TTL", "b"], ":100\r\n");
    s.is(&["GET", "b"], "$1\r\n3\r\n");
    s.is(&["SET", "d", "4"], "+OK\r\n");
    s.is(&["RENAME", "d", "b"], "+OK\r\n");
    s.is(&["TTL", "b"], ":-1\r\n");
    s.is(&["RENAMENX", "b", "e"], ":1\r\n");
    s.is(&["EXISTS", "b"], ":0\r\n");
    s.is(&["GET", "e"], "$1\r\n4\r\n");
    s.is(&["SET", "f", "5"], "+OK\r\n");
    s.is(&["RENAMENX", "f", "e"], ":0\r\n");
    s.is(&["GET", "e"], "$1\r\n4\r\n");
    s.is(&["GET", "f"], "$1\r\n5\r\n");
    s.is(&["SET", "g", "7", "EX", "100"], "+OK\r\n");
    s.is(&["RENAMENX", "g", "h"], ":1\r\n");
    s.is(&["TTL", "h"], ":100\r\n");
    s.is(
        &["RENAME", "a"],
        "-ERR wrong number of arguments for 'rename' command\r\n",
    );
    s.is(
        &["RENAMENX", "a"],
        "-ERR wrong number of arguments for 'renamenx' command\r\n",
    );
    s.is(
        &["RENAME", "a", "b", "c"],
        "-ERR wrong number of arguments for 'rename' command\r\n",
    );
}

#[test]
fn keys_glob_patterns() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    let all = [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "h*llo", "h?llo", "h[llo", "h]llo",
        "hbllo", "h\\llo", "HELLO", "", "h-llo", "a", "ab", "abc", "a[b",
    ];
    let mut mset = vec!["MSET"];
    for k in all {
        mset.extend([k, "v"]);
    }
    s.is(&mset, "+OK\r\n");
    // Matches as Redis 7.0's stringmatchlen: `?`, `*`, sets with ranges (reversed too) and `^`
    // negation (but `!` is an ordinary set member), `\` escapes inside and outside sets, and
    // its handling of unterminated sets.
    let cases: &[(&str, &[&str])] = &[
        (
            "h?llo",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo", "hello",
                "hillo", "hxllo",
            ],
        ),
        (
            "h*llo",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo",
                "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
        ("h[ae]llo", &["hallo", "hello"]),
        (
            "h[^e]llo",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo", "hillo",
                "hxllo",
            ],
        ),
        ("h[!e]llo", &["hello"]),
        ("h[a-c]llo", &["hallo", "hbllo"]),
        ("h[c-a]llo", &["hallo", "hbllo"]),
        (
            "h[^a-h]llo",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hillo", "hxllo",
            ],
        ),
        ("h[a-]llo", &[]),
        ("h\\*llo", &["h*llo"]),
        ("h\\?llo", &["h?llo"]),
        ("h\\[llo", &["h[llo"]),
        ("h\\\\llo", &["h\\llo"]),
        ("h[\\]]llo", &["h]llo"]),
        ("h[\\-]llo", &["h-llo"]),
        ("h[*]llo", &["h*llo"]),
        (
            "*",
            &[
                "", "HELLO", "a", "a[b", "ab", "abc", "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo",
                "h]llo", "hallo", "hbllo", "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
        ("", &[""]),
        ("HEL*", &["HELLO"]),
        ("hel*", &["hello"]),
        (
            "[h]?llo",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo", "hello",
                "hillo", "hxllo",
            ],
        ),
        (
            "*ll*",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo",
                "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
        ("???llo", &[]),
        ("a*", &["a", "a[b", "ab", "abc"]),
        ("a?", &["ab"]),
        ("a[", &[]),
        ("a[b", &["ab"]),
        ("a\\[b", &["a[b"]),
        ("h[", &[]),
        (
            "*o",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo",
                "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
        (
            "h*l*o",
            &[
                "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo",
                "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
        ("*[", &[]),
        ("\\a*", &["a", "a[b", "ab", "abc"]),
        ("a**", &["a", "a[b", "ab", "abc"]),
        ("*b*c*", &["abc"]),
        ("[a-b]*", &["a", "a[b", "ab", "abc"]),
        (
            "[^a]*",
            &[
                "HELLO", "h*llo", "h-llo", "h?llo", "h[llo", "h\\llo", "h]llo", "hallo", "hbllo",
                "heeeello", "hello", "hillo", "hllo", "hxllo",
            ],
        ),
    ];
    for (pattern, want) in cases {
        let got = keys(&mut s, pattern);
        s.expect(got == *want, || {
            format!("KEYS {pattern:?}\n      redis: {want:?}\n      ours:  {got:?}")
        });
    }
    s.is(
        &["KEYS"],
        "-ERR wrong number of arguments for 'keys' command\r\n",
    );
    s.is(
        &["KEYS", "a", "b"],
        "-ERR wrong number of arguments for 'keys' command\r\n",
    );
    // KEYS in another database sees only that database.
    s.is(&["SELECT", "1"], "+OK\r\n");
    s.is(&["KEYS", "*"], "*0\r\n");
}

#[test]
fn scan_match_count_type_and_errors() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SCAN", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    s.is(&["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    s.is(&["SCAN", "0", "COUNT", "-1"], "-ERR syntax error\r\n");
    s.is(
        &["SCAN", "0", "COUNT", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SCAN", "abc"], "-ERR invalid cursor\r\n");
    s.is(&["SCAN", "-abc"], "-ERR invalid cursor\r\n");
    s.is(&["SCAN", "18446744073709551616"], "-ERR invalid cursor\r\n");
    s.is(&["SCAN", "0", "MATCH"], "-ERR syntax error\r\n");
    s.is(&["SCAN", "0", "COUNT"], "-ERR syntax error\r\n");
    s.is(&["SCAN", "0", "TYPE"], "-ERR syntax error\r\n");
    s.is(&["SCAN", "0", "bogus", "x"], "-ERR syntax error\r\n");
    s.is(
        &["SCAN", "0", "MATCH", "*", "bogus"],
        "-ERR syntax error\r\n",
    );
    s.is(
        &["SCAN"],
        "-ERR wrong number of arguments for 'scan' command\r\n",
    );
    s.is(&["SET", "a", "1"], "+OK\r\n");
    s.is(
        &["SCAN", "0", "TYPE", "nosuchtype"],
        "*2\r\n$1\r\n0\r\n*0\r\n",
    );
    s.is(&["SCAN", "0", "TYPE", "list"], "*2\r\n$1\r\n0\r\n*0\r\n");
    s.is(&["DEL", "a"], ":1\r\n");
    let mut want_user = Vec::new();
    let mut mset = vec!["MSET".to_string()];
    for i in 0..300 {
        mset.extend([format!("user:{i}"), "v".into()]);
        want_user.push(format!("user:{i}"));
    }
    for i in 0..50 {
        mset.extend([format!("item:{i}"), "v".into()]);
    }
    let mset: Vec<&str> = mset.iter().map(|a| a.as_str()).collect();
    s.is(&mset, "+OK\r\n");
    want_user.sort();

    // Without options every key comes back; repeats are allowed, omissions are not.
    let (all, calls) = scan_all(&mut s, &[]);
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 350, "SCAN must return every key");
    assert!(
        calls > 1,
        "350 keys with the default COUNT 10 take several calls"
    );
    // MATCH filters; COUNT only bounds the work per call.
    for opts in [
        &["MATCH", "user:*"][..],
        &["MATCH", "user:*", "COUNT", "7"],
        &["COUNT", "1000", "MATCH", "user:*"],
        &["match", "user:*", "count", "3", "type", "string"],
        &["MATCH", "user:*", "TYPE", "STRING"],
    ] {
        let (mut got, _) = scan_all(&mut s, opts);
        got.dedup();
        assert_eq!(got, want_user, "SCAN {opts:?}");
    }
    let (got, _) = scan_all(&mut s, &["MATCH", "item:1?"]);
    let want: Vec<String> = (10..20).map(|i| format!("item:{i}")).collect();
    let mut got = got;
    got.dedup();
    assert_eq!(got, want);
    // A COUNT larger than the keyspace returns everything in one call.
    let (cursor, got) = scan_once(&mut s, "0", &["COUNT", "100000"]);
    assert_eq!((cursor.as_str(), got.len()), ("0", 350));
    // TYPE filters by value type: every key here is a string.
    let (got, _) = scan_all(&mut s, &["TYPE", "string", "COUNT", "50"]);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 350);
    for t in ["list", "hash", "zset", "set", "stream", "nosuchtype"] {
        let (got, _) = scan_all(&mut s, &["TYPE", t, "COUNT", "50"]);
        assert_eq!(got, Vec::<String>::new(), "SCAN TYPE {t}");
    }
    // A database of its own.
    s.is(&["SELECT", "5"], "+OK\r\n");
    s.is(&["SCAN", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn scan_returns_every_key_while_others_are_added_and_deleted() {
    let srv = start(&[]);
    let mut c = srv.raw();
    let mut churn = srv.raw();
    let stable: Vec<String> = (0..10_000).map(|i| format!("stable:{i}")).collect();
    for chunk in stable.chunks(1000) {
        let mut mset = vec!["MSET"];
        for k in chunk {
            mset.extend([k.as_str(), "v"]);
        }
        assert_eq!(c.cmd(&mset), "+OK\r\n");
    }
    assert_eq!(c.cmd(&["DBSIZE"]), ":10000\r\n");

    // Between SCAN calls another client adds 150 keys and deletes 90 of the earlier ones, so the
    // table grows (and rehashes) many times during the iteration.
    let mut seen: HashSet<String> = HashSet::new();
    let (mut cursor, mut calls, mut added, mut deleted) = ("0".to_string(), 0, 0usize, 0usize);
    loop {
        let (next, got) = scan_once(&mut c, &cursor, &["COUNT", "50"]);
        for k in got {
            assert!(
                k.starts_with("stable:") || k.starts_with("churn:"),
                "SCAN returned a key that never existed: {k}"
            );
            seen.insert(k);
        }
        calls += 1;
        if next == "0" {
            break;
        }
        cursor = next;
        let adds: Vec<Vec<String>> = (added..added + 150)
            .map(|i| strs(&["SET", &format!("churn:{i}"), "x"]))
            .collect();
        pipeline(&mut churn, &adds, "+OK\r\n");
        added += 150;
        let dels: Vec<Vec<String>> = (deleted..deleted + 90)
            .map(|i| strs(&["DEL", &format!("churn:{i}")]))
            .collect();
        pipeline(&mut churn, &dels, ":1\r\n");
        deleted += 90;
    }
    let missing: Vec<&String> = stable.iter().filter(|k| !seen.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} of 10000 keys present during the whole SCAN were never returned (first: {:?}); \
         {calls} calls, {added} keys added, {deleted} deleted",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        added >= 10_000,
        "the keyspace should have changed a lot: {added} added"
    );
    assert_eq!(
        c.cmd(&["DBSIZE"]),
        format!(":{}\r\n", 10_000 + added - deleted)
    );
}

#[test]
fn randomkey() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["RANDOMKEY"], "$-1\r\n");
    s.is(&["SET", "only", "v"], "+OK\r\n");
    s.is(&["RANDOMKEY"], "$4\r\nonly\r\n");
    s.is(&["DEL", "only"], ":1\r\n");
    s.is(&["RANDOMKEY"], "$-1\r\n");
    // A non-empty keyspace always yields a key, however it is spread internally.
    s.is(&["SET", "only", "v"], "+OK\r\n");
    let replies: Vec<String> = (0..500).map(|_| s.cmd(&["RANDOMKEY"])).collect();
    let wrong: Vec<&String> = replies.iter().filter(|r| *r != "$4\r\nonly\r\n").collect();
    s.expect(wrong.is_empty(), || {
        format!(
            "RANDOMKEY with one key: {} of 500 replies were not \"$4\\r\\nonly\\r\\n\", e.g. {:?}",
            wrong.len(),
            wrong[0]
        )
    });
    s.is(&["DEL", "only"], ":1\r\n");
    s.is(&["MSET", "a", "1", "b", "2", "c", "3"], "+OK\r\n");
    let mut seen = HashSet::new();
    for _ in 0..300 {
        seen.insert(s.cmd(&["RANDOMKEY"]));
    }
    let mut seen: Vec<String> = seen.into_iter().collect();
    seen.sort();
    s.expect(
        seen == ["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"],
        || format!("300 RANDOMKEY calls over 3 keys returned {seen:?}"),
    );
    s.is(
        &["RANDOMKEY", "x"],
        "-ERR wrong number of arguments for 'randomkey' command\r\n",
    );
}

#[test]
fn expire_pexpire_expireat_pexpireat_ttl_persist() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["EXPIRE", "k", "100"], ":1\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["EXPIRE", "nokey", "100"], ":0\r\n");
    s.is(&["PEXPIRE", "nokey", "100"], ":0\r\n");
    s.is(&["EXPIREAT", "nokey", "4000000000"], ":0\r\n");
    s.is(&["PEXPIREAT", "nokey", "4000000000000"], ":0\r\n");
    s.is(&["EXPIRE", "k", "100", "NX"], ":0\r\n");
    s.is(&["EXPIRE", "k", "200", "XX"], ":1\r\n");
    s.is(&["TTL", "k"], ":200\r\n");
    s.is(&["EXPIRE", "k", "50", "GT"], ":0\r\n");
    s.is(&["EXPIRE", "k", "300", "GT"], ":1\r\n");
    s.is(&["TTL", "k"], ":300\r\n");
    s.is(&["EXPIRE", "k", "400", "LT"], ":0\r\n");
    s.is(&["EXPIRE", "k", "100", "LT"], ":1\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["PERSIST", "k"], ":1\r\n");
    s.is(&["PERSIST", "k"], ":0\r\n");
    s.is(&["PERSIST", "nokey"], ":0\r\n");
    s.is(&["TTL", "k"], ":-1\r\n");
    s.is(&["EXPIRE", "k", "100", "XX"], ":0\r\n");
    s.is(&["EXPIRE", "k", "100", "GT"], ":0\r\n");
    s.is(&["TTL", "k"], ":-1\r\n");
    s.is(&["EXPIRE", "k", "100", "LT"], ":1\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["PERSIST", "k"], ":1\r\n");
    s.is(&["EXPIRE", "k", "100", "NX"], ":1\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(
        &["EXPIRE", "k", "100", "nx", "xx"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    );
    s.is(
        &["EXPIRE", "k", "100", "GT", "LT"],
        "-ERR GT and LT options at the same time are not compatible\r\n",
    );
    s.is(
        &["EXPIRE", "k", "100", "NX", "GT"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    );
    s.is(
        &["EXPIRE", "k", "100", "NX", "LT"],
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
    );
    s.is(&["EXPIRE", "k", "200", "XX", "GT"], ":1\r\n");
    s.is(&["TTL", "k"], ":200\r\n");
    s.is(
        &["EXPIRE", "k", "100", "bogus"],
        "-ERR Unsupported option bogus\r\n",
    );
    s.is(
        &["EXPIRE", "k", "100", "NX", "bogus"],
        "-ERR Unsupported option bogus\r\n",
    );
    s.is(
        &["EXPIRE", "k", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["EXPIRE", "k", "1.5"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["EXPIRE", "k", ""],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["EXPIRE", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    s.is(
        &["EXPIRE", "k", "-9223372036854775808"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    s.is(
        &["EXPIRE", "k", "9223372036854775"],
        "-ERR invalid expire time in 'expire' command\r\n",
    );
    s.is(
        &["PEXPIRE", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'pexpire' command\r\n",
    );
    s.is(
        &["EXPIREAT", "k", "9223372036854775807"],
        "-ERR invalid expire time in 'expireat' command\r\n",
    );
    s.is(
        &["PEXPIRE", "k", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["EXPIREAT", "k", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(
        &["PEXPIREAT", "k", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["TTL", "k"], ":200\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["PEXPIRE", "k", "100000"], ":1\r\n");
    s.is(&["TTL", "k"], ":100\r\n");
    s.is(&["PEXPIRE", "k", "200000", "GT"], ":1\r\n");
    s.is(&["TTL", "k"], ":200\r\n");
    s.is(&["EXPIREAT", "k", "4000000000"], ":1\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000000\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000000\r\n");
    s.is(&["PEXPIREAT", "k", "4000000000500"], ":1\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000001\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000500\r\n");
    s.is(&["EXPIREAT", "k", "4000000001", "GT"], ":1\r\n");
    s.is(&["EXPIREAT", "k", "3999999999", "GT"], ":0\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000001\r\n");
    s.is(&["PEXPIREAT", "k", "4000000000000", "LT"], ":1\r\n");
    s.is(&["PEXPIRETIME", "k"], ":4000000000000\r\n");
    s.is(&["PEXPIREAT", "k", "4000000000000", "NX"], ":0\r\n");
    s.is(&["PEXPIREAT", "k", "4000000000999", "XX"], ":1\r\n");
    s.is(&["EXPIRETIME", "k"], ":4000000001\r\n");
    s.is(&["EXPIRETIME", "nokey"], ":-2\r\n");
    s.is(&["PEXPIRETIME", "nokey"], ":-2\r\n");
    s.is(&["TTL", "nokey"], ":-2\r\n");
    s.is(&["PTTL", "nokey"], ":-2\r\n");
    s.is(&["SET", "p", "v"], "+OK\r\n");
    s.is(&["TTL", "p"], ":-1\r\n");
    s.is(&["PTTL", "p"], ":-1\r\n");
    s.is(&["EXPIRETIME", "p"], ":-1\r\n");
    s.is(&["PEXPIRETIME", "p"], ":-1\r\n");
    s.is(&["EXPIRE", "k", "0"], ":1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["EXPIRE", "k", "-10"], ":1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["PEXPIREAT", "k", "1"], ":1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["EXPIREAT", "k", "100"], ":1\r\n");
    s.is(&["GET", "k"], "$-1\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["PEXPIRE", "k", "0"], ":1\r\n");
    s.is(&["GET", "k"], "$-1\r\n");
    s.is(&["SET", "k", "v"], "+OK\r\n");
    s.is(&["EXPIRE", "k", "-1", "NX"], ":1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    s.is(&["EXPIRE", "k", "-1", "GT"], ":0\r\n");
    s.is(&["EXISTS", "k"], ":1\r\n");
    s.is(&["EXPIRE", "k", "-1", "LT"], ":1\r\n");
    s.is(&["EXISTS", "k"], ":0\r\n");
    s.is(
        &["EXPIRE", "k"],
        "-ERR wrong number of arguments for 'expire' command\r\n",
    );
    s.is(
        &["PEXPIRE", "k"],
        "-ERR wrong number of arguments for 'pexpire' command\r\n",
    );
    s.is(
        &["EXPIREAT", "k"],
        "-ERR wrong number of arguments for 'expireat' command\r\n",
    );
    s.is(
        &["PEXPIREAT", "k"],
        "-ERR wrong number of arguments for 'pexpireat' command\r\n",
    );
    s.is(
        &["TTL"],
        "-ERR wrong number of arguments for 'ttl' command\r\n",
    );
    s.is(
        &["PTTL"],
        "-ERR wrong number of arguments for 'pttl' command\r\n",
    );
    s.is(
        &["EXPIRETIME"],
        "-ERR wrong number of arguments for 'expiretime' command\r\n",
    );
    s.is(
        &["PEXPIRETIME"],
        "-ERR wrong number of arguments for 'pexpiretime' command\r\n",
    );
    s.is(
        &["PERSIST"],
        "-ERR wrong number of arguments for 'persist' command\r\n",
    );
}

#[test]
fn ttls_count_down_from_the_absolute_expiry() {
    let srv = start(&[]);
    let mut c = srv.raw();
    let now_ms = |c: &mut Raw| -> i64 {
        let t = bulks(&parse(&c.cmd(&["TIME"])));
        t[0].parse::<i64>().unwrap() * 1000 + t[1].parse::<i64>().unwrap() / 1000
    };
    let int = |r: String| -> i64 { r.trim_start_matches(':').trim_end().parse().unwrap() };
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100000"]), "+OK\r\n");
    let pttl = int(c.cmd(&["PTTL", "k"]));
    assert!((99_000..=100_000).contains(&pttl), "PTTL {pttl}");
    let t0 = now_ms(&mut c);
    let at = int(c.cmd(&["PEXPIRETIME", "k"]));
    assert!(
        (t0 + 99_000..=t0 + 100_000).contains(&at),
        "PEXPIRETIME {at}, now {t0}"
    );
    assert_eq!(
        c.cmd(&["EXPIRETIME", "k"]),
        format!(":{}\r\n", (at + 500) / 1000)
    );
    assert_eq!(c.cmd(&["PEXPIRE", "k", "2800"]), ":1\r\n");
    let t0 = now_ms(&mut c);
    let at = int(c.cmd(&["PEXPIRETIME", "k"]));
    assert!(
        (t0 + 2300..=t0 + 2800).contains(&at),
        "PEXPIRETIME {at}, now {t0}"
    );
    // TTL rounds to the nearest second: about 2.8 s left is 3.
    assert_eq!(c.cmd(&["TTL", "k"]), ":3\r\n");
    assert_eq!(
        c.cmd(&["PEXPIREAT", "k", &(t0 + 60_000).to_string()]),
        ":1\r\n"
    );
    assert_eq!(
        c.cmd(&["PEXPIRETIME", "k"]),
        format!(":{}\r\n", t0 + 60_000)
    );
    let ttl = int(c.cmd(&["TTL", "k"]));
    assert!((59..=60).contains(&ttl), "TTL {ttl}");
}

#[test]
fn touch_copy_move() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["MSET", "a", "1", "b", "2"], "+OK\r\n");
    s.is(&["TOUCH", "a", "b", "nokey"], ":2\r\n");
    s.is(&["TOUCH", "a", "a"], ":2\r\n");
    s.is(&["TOUCH", "nokey"], ":0\r\n");
    s.is(
        &["TOUCH"],
        "-ERR wrong number of arguments for 'touch' command\r\n",
    );
    s.is(&["SET", "src", "hello", "EX", "100"], "+OK\r\n");
    s.is(&["COPY", "src", "dst"], ":1\r\n");
    s.is(&["GET", "dst"], "$5\r\nhello\r\n");
    s.is(&["TTL", "dst"], ":100\r\n");
    s.is(&["COPY", "src", "dst"], ":0\r\n");
    s.is(&["COPY", "src", "dst", "REPLACE"], ":1\r\n");
    s.is(&["COPY", "nokey", "dst"], ":0\r\n");
    s.is(&["COPY", "nokey", "dst", "REPLACE"], ":0\r\n");
    s.is(&["GET", "dst"], "$5\r\nhello\r\n");
    s.is(
        &["COPY", "src", "src"],
        "-ERR source and destination objects are the same\r\n",
    );
    s.is(
        &["COPY", "src", "src", "REPLACE"],
        "-ERR source and destination objects are the same\r\n",
    );
    s.is(
        &["COPY", "src", "src", "DB", "0"],
        "-ERR source and destination objects are the same\r\n",
    );
    s.is(&["COPY", "src", "dst", "DB", "1"], ":1\r\n");
    s.is(&["COPY", "src", "dst", "DB", "1"], ":0\r\n");
    s.is(&["COPY", "src", "dst", "db", "1", "replace"], ":1\r\n");
    s.is(&["SELECT", "1"], "+OK\r\n");
    s.is(&["GET", "dst"], "$5\r\nhello\r\n");
    s.is(&["TTL", "dst"], ":100\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(
        &["COPY", "src", "dst", "DB", "16"],
        "-ERR DB index is out of range\r\n",
    );
    s.is(
        &["COPY", "src", "dst", "DB", "-1"],
        "-ERR DB index is out of range\r\n",
    );
    s.is(
        &["COPY", "src", "dst", "DB", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["COPY", "src", "dst", "bogus"], "-ERR syntax error\r\n");
    s.is(&["COPY", "src", "dst", "DB"], "-ERR syntax error\r\n");
    s.is(&["COPY", "src", "dst", "REPLACE", "REPLACE"], ":1\r\n");
    s.is(
        &["COPY", "src"],
        "-ERR wrong number of arguments for 'copy' command\r\n",
    );
    s.is(
        &["COPY"],
        "-ERR wrong number of arguments for 'copy' command\r\n",
    );
    s.is(&["MOVE", "a", "1"], ":1\r\n");
    s.is(&["EXISTS", "a"], ":0\r\n");
    s.is(&["MOVE", "a", "1"], ":0\r\n");
    s.is(&["MOVE", "nokey", "1"], ":0\r\n");
    s.is(&["SELECT", "1"], "+OK\r\n");
    s.is(&["GET", "a"], "$1\r\n1\r\n");
    s.is(&["SET", "b", "other"], "+OK\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(&["MOVE", "b", "1"], ":0\r\n");
    s.is(&["GET", "b"], "$1\r\n2\r\n");
    s.is(
        &["MOVE", "b", "0"],
        "-ERR source and destination objects are the same\r\n",
    );
    s.is(&["MOVE", "b", "16"], "-ERR DB index is out of range\r\n");
    s.is(&["MOVE", "b", "-1"], "-ERR DB index is out of range\r\n");
    s.is(
        &["MOVE", "b", "abc"],
        "-ERR value is not an integer or out of range\r\n",
    );
    s.is(&["SET", "t", "v", "EX", "100"], "+OK\r\n");
    s.is(&["MOVE", "t", "2"], ":1\r\n");
    s.is(&["EXISTS", "t"], ":0\r\n");
    s.is(&["SELECT", "2"], "+OK\r\n");
    s.is(&["TTL", "t"], ":100\r\n");
    s.is(&["GET", "t"], "$1\r\nv\r\n");
    s.is(&["SELECT", "0"], "+OK\r\n");
    s.is(
        &["MOVE", "b"],
        "-ERR wrong number of arguments for 'move' command\r\n",
    );
    s.is(
        &["MOVE"],
        "-ERR wrong number of arguments for 'move' command\r\n",
    );
}

#[test]
fn object_encoding_refcount_idletime_freq_help() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["SET", "int", "12345"], "+OK\r\n");
    s.is(&["SET", "emb", "hello"], "+OK\r\n");
    s.is(
        &[
            "SET",
            "raw",
            "this is a string that is longer than forty-four bytes in total!!",
        ],
        "+OK\r\n",
    );
    s.is(&["SET", "neg", "-5"], "+OK\r\n");
    s.is(&["SET", "big", "12345678901234567890"], "+OK\r\n");
    s.is(&["SET", "f", "1.5"], "+OK\r\n");
    s.is(&["SET", "e", ""], "+OK\r\n");
    s.is(
        &["SET", "l", "12345678901234567890123456789012345678901234"],
        "+OK\r\n",
    );
    s.is(
        &["SET", "l2", "123456789012345678901234567890123456789012345"],
        "+OK\r\n",
    );
    s.is(&["SET", "i", "9223372036854775807"], "+OK\r\n");
    s.is(&["SET", "i2", " 1"], "+OK\r\n");
    s.is(&["SET", "i3", "01"], "+OK\r\n");
    s.is(&["OBJECT", "ENCODING", "int"], "$3\r\nint\r\n");
    s.is(&["OBJECT", "ENCODING", "emb"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "raw"], "$3\r\nraw\r\n");
    s.is(&["OBJECT", "ENCODING", "neg"], "$3\r\nint\r\n");
    s.is(&["OBJECT", "ENCODING", "big"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "f"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "e"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "l"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "l2"], "$3\r\nraw\r\n");
    s.is(&["OBJECT", "ENCODING", "i"], "$3\r\nint\r\n");
    s.is(&["OBJECT", "ENCODING", "i2"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "i3"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "ENCODING", "nokey"], "$-1\r\n");
    s.is(&["APPEND", "int", "6"], ":6\r\n");
    s.is(&["OBJECT", "ENCODING", "int"], "$3\r\nraw\r\n");
    s.is(&["SETRANGE", "emb", "0", "j"], ":5\r\n");
    s.is(&["OBJECT", "ENCODING", "emb"], "$3\r\nraw\r\n");
    s.is(&["SET", "x", "0"], "+OK\r\n");
    s.is(&["INCR", "x"], ":1\r\n");
    s.is(&["OBJECT", "ENCODING", "x"], "$3\r\nint\r\n");
    s.is(&["SET", "y", "9"], "+OK\r\n");
    s.is(&["INCRBYFLOAT", "y", "1"], "$2\r\n10\r\n");
    s.is(&["OBJECT", "ENCODING", "y"], "$6\r\nembstr\r\n");
    s.is(&["OBJECT", "encoding", "int"], "$3\r\nraw\r\n");
    s.is(&["OBJECT", "REFCOUNT", "int"], ":1\r\n");
    s.is(&["OBJECT", "REFCOUNT", "emb"], ":1\r\n");
    s.is(&["OBJECT", "REFCOUNT", "nokey"], "$-1\r\n");
    s.is(&["SET", "small", "5"], "+OK\r\n");
    s.is(&["OBJECT", "REFCOUNT", "small"], ":2147483647\r\n");
    s.is(&["OBJECT", "IDLETIME", "nokey"], "$-1\r\n");
    s.is(
        &["OBJECT", "FREQ", "emb"],
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
         note that when switching between policies at runtime LRU and LFU data will take some \
         time to adjust.\r\n",
    );
    s.is(&["OBJECT", "FREQ", "nokey"], "$-1\r\n");
    s.is(
        &["OBJECT", "nosuch", "emb"],
        "-ERR unknown subcommand 'nosuch'. Try OBJECT HELP.\r\n",
    );
    s.is(
        &["OBJECT"],
        "-ERR wrong number of arguments for 'object' command\r\n",
    );
    s.is(
        &["OBJECT", "ENCODING"],
        "-ERR wrong number of arguments for 'object|encoding' command\r\n",
    );
    s.is(
        &["OBJECT", "ENCODING", "a", "b"],
        "-ERR wrong number of arguments for 'object|encoding' command\r\n",
    );
    s.is(
        &["OBJECT", "REFCOUNT"],
        "-ERR wrong number of arguments for 'object|refcount' command\r\n",
    );
    s.is(
        &["OBJECT", "HELP"],
        "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING \
         <key>\r\n+    Return the kind of internal representation used in order to store the \
         value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access \
         frequency index of the <key>. The returned integer is\r\n+    proportional to the \
         logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    \
         Return the idle time of the <key>, that is the approximated number of\r\n+    \
         seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return \
         the number of references of the value associated with the specified\r\n+    <key>.\r\n\
         +HELP\r\n+    Prints this help.\r\n",
    );
    s.is(
        &["OBJECT", "help"],
        "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING \
         <key>\r\n+    Return the kind of internal representation used in order to store the \
         value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access \
         frequency index of the <key>. The returned integer is\r\n+    proportional to the \
         logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    \
         Return the idle time of the <key>, that is the approximated number of\r\n+    \
         seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return \
         the number of references of the value associated with the specified\r\n+    <key>.\r\n\
         +HELP\r\n+    Prints this help.\r\n",
    );
    s.is(
        &["RANDOMKEY", "x"],
        "-ERR wrong number of arguments for 'randomkey' command\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        "+OK\r\n",
    );
    s.is(&["SET", "f", "v"], "+OK\r\n");
    s.is(&["OBJECT", "FREQ", "nokey"], "$-1\r\n");
    s.is(
        &["OBJECT", "IDLETIME", "f"],
        "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that \
         when switching between policies at runtime LRU and LFU data will take some time to \
         adjust.\r\n",
    );
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        "+OK\r\n",
    );
    // Under an LFU policy OBJECT FREQ is the key's logarithmic access counter (0..=255).
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        "+OK\r\n",
    );
    let freq = s.cmd(&["OBJECT", "FREQ", "f"]);
    let ok = freq
        .strip_prefix(':')
        .and_then(|r| r.strip_suffix("\r\n"))
        .and_then(|r| r.parse::<u8>().ok())
        .is_some();
    s.expect(ok, || format!("OBJECT FREQ f replied {freq:?}"));
    // A key just written has been idle for (about) no time.
    s.is(
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        "+OK\r\n",
    );
    s.is(&["SET", "fresh", "v"], "+OK\r\n");
    let idle = s.cmd(&["OBJECT", "IDLETIME", "fresh"]);
    s.expect(idle == ":0\r\n" || idle == ":1\r\n", || {
        format!("OBJECT IDLETIME of a new key: {idle:?}")
    });
}

#[test]
fn object_idletime_grows_until_the_key_is_used() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    s.is(&["MSET", "a", "1", "b", "2"], "+OK\r\n");
    let int = |r: String| -> i64 { r.trim_start_matches(':').trim_end().parse().unwrap() };
    // The idle clock has a resolution of one second: wait until it has moved.
    let deadline = Instant::now() + Duration::from_secs(10);
    while int(s.cmd(&["OBJECT", "IDLETIME", "a"])) < 2 {
        assert!(Instant::now() < deadline, "OBJECT IDLETIME never grew");
        std::thread::sleep(Duration::from_millis(100));
    }
    // OBJECT does not count as an access; GET and TOUCH do.
    let idle = int(s.cmd(&["OBJECT", "IDLETIME", "b"]));
    assert!(idle >= 2, "OBJECT IDLETIME b = {idle}");
    // (At most 1: the one-second clock may tick between the two commands.)
    s.is(&["GET", "a"], "$1\r\n1\r\n");
    let idle = int(s.cmd(&["OBJECT", "IDLETIME", "a"]));
    s.expect(idle <= 1, || format!("OBJECT IDLETIME after GET: {idle}"));
    s.is(&["TOUCH", "b"], ":1\r\n");
    let idle = int(s.cmd(&["OBJECT", "IDLETIME", "b"]));
    s.expect(idle <= 1, || format!("OBJECT IDLETIME after TOUCH: {idle}"));
}

#[test]
fn expired_keys_are_invisible_as_soon_as_they_expire() {
    let srv = start(&[]);
    let mut s = Check::new(&srv);
    // The sweep is off, so only lookups can notice the expiry.
    s.is(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"], "+OK\r\n");
    s.is(&["SET", "keep", "v"], "+OK\r\n");
    for k in ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"] {
        s.is(&["SET", k, "v", "PX", "50"], "+OK\r\n");
    }
    s.is(&["GET", "k1"], "$1\r\nv\r\n");
    s.is(&["EXISTS", "k2"], ":1\r\n");
    // Let the 50 ms pass (waiting for time, not measuring speed).
    std::thread::sleep(Duration::from_millis(120));
    let listed = keys(&mut s, "*");
    s.expect(listed == ["keep"], || format!("KEYS * returned {listed:?}"));
    s.is(&["GET", "k1"], "$-1\r\n");
    s.is(&["EXISTS", "k2", "k3"], ":0\r\n");
    s.is(&["TTL", "k3"], ":-2\r\n");
    s.is(&["PTTL", "k4"], ":-2\r\n");
    s.is(&["EXPIRETIME", "k5"], ":-2\r\n");
    s.is(&["TYPE", "k6"], "+none\r\n");
    s.is(&["MGET", "k7", "keep"], "*2\r\n$-1\r\n$1\r\nv\r\n");
    s.is(&["STRLEN", "k8"], ":0\r\n");
    s.is(&["RANDOMKEY"], "$4\r\nkeep\r\n");
    let (got, _) = scan_all(&mut s, &[]);
    s.expect(got == ["keep"], || format!("SCAN returned {got:?}"));
    s.is(&["DBSIZE"], ":1\r\n");
    s.is(
        &["INFO", "keyspace"],
        "$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n",
    );
    // Writes treat an expired key as absent too.
    s.is(&["SET", "n", "v", "PX", "50"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    s.is(&["SET", "n", "w", "NX"], "+OK\r\n");
    s.is(&["TTL", "n"], ":-1\r\n");
    s.is(&["SET", "m", "5", "PX", "50"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    s.is(&["INCR", "m"], ":1\r\n");
    s.is(&["APPEND", "keep2", "x"], ":1\r\n");

    // With the sweep on, DBSIZE stops counting an expired key without any lookup.
    s.is(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"], "+OK\r\n");
    s.is(&["DBSIZE"], ":4\r\n");
    s.is(&["SET", "x", "v", "PX", "50"], "+OK\r\n");
    s.is(&["DBSIZE"], ":5\r\n");
    std::thread::sleep(Duration::from_millis(120));
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.cmd(&["DBSIZE"]) != ":4\r\n" {
        assert!(
            Instant::now() < deadline,
            "DBSIZE still counts an expired key"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Loads 10 persistent keys and `n` keys that expire in `px` ms, in one pipeline.
fn load_volatile(c: &mut Raw, n: usize, px: &str) {
    let persistent: Vec<Vec<String>> = (0..10)
        .map(|i| strs(&["SET", &format!("keep:{i}"), "v"]))
        .collect();
    pipeline(c, &persistent, "+OK\r\n");
    let volatile: Vec<Vec<String>> = (0..n)
        .map(|i| strs(&["SET", &format!("vol:{i}"), "v", "PX", px]))
        .collect();
    pipeline(c, &volatile, "+OK\r\n");
}

/// Polls INFO (which touches no key) until the server has reclaimed `n` expired keys.
fn wait_for_sweep(c: &mut Raw, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reclaimed = info_field(c, "stats", "expired_keys");
        if reclaimed.as_deref() == Some(n.to_string().as_str()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the active sweep did not reclaim the expired keys: expired_keys:{reclaimed:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn active_expiry_reclaims_keys_nobody_touches() {
    let srv = start(&[]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    load_volatile(&mut c, 3000, "300");
    let db0 = info_field(&mut c, "keyspace", "db0").unwrap();
    assert!(db0.starts_with("keys=3010,expires=3000,"), "db0:{db0}");
    assert_eq!(
        info_field(&mut c, "stats", "expired_keys").as_deref(),
        Some("0")
    );
    // No command names a vol: key again; only the background sweep can remove them.
    wait_for_sweep(&mut c, 3000);
    assert_eq!(
        info_field(&mut c, "keyspace", "db0").as_deref(),
        Some("keys=10,expires=0,avg_ttl=0")
    );
    assert_eq!(c.cmd(&["DBSIZE"]), ":10\r\n");
    assert_eq!(c.cmd(&["EXISTS", "keep:0", "keep:9"]), ":2\r\n");
}

#[test]
fn debug_set_active_expire_0_stops_the_sweep() {
    let srv = start(&[]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    load_volatile(&mut c, 1000, "100");
    // Expired keys that nobody looks up stay in memory while the sweep is off (nothing is
    // reclaimed), but unlike Redis, shardis never counts an expired key as present: INFO
    // keyspace and DBSIZE report only live keys (the "never visible" rule).
    std::thread::sleep(Duration::from_millis(600));
    let db0 = info_field(&mut c, "keyspace", "db0").unwrap();
    let expired = info_field(&mut c, "stats", "expired_keys");
    assert!(
        db0.starts_with("keys=10,expires=0,") && expired.as_deref() == Some("0"),
        "with the sweep off: db0:{db0}, expired_keys:{expired:?}"
    );
    // Turned back on, the sweep reclaims them.
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    wait_for_sweep(&mut c, 1000);
}

#[test]
fn keyspace_commands_through_the_redis_crate() {
    use redis::Commands;
    let srv = start(&[]);
    let mut con = srv.client();
    let () = con.set_ex("session", "data", 100).unwrap();
    let ttl: i64 = con.ttl("session").unwrap();
    assert_eq!(ttl, 100);
    let set: bool = con.expire("session", 300).unwrap();
    assert!(set);
    let pttl: i64 = con.pttl("session").unwrap();
    assert!((299_000..=300_000).contains(&pttl), "{pttl}");
    let removed: bool = con.persist("session").unwrap();
    assert!(removed);
    let ttl: i64 = con.ttl("session").unwrap();
    assert_eq!(ttl, -1);
    let ttl: i64 = con.ttl("missing").unwrap();
    assert_eq!(ttl, -2);
    let exists: bool = con.exists("session").unwrap();
    assert!(exists);
    let () = con.rename("session", "s2").unwrap();
    let kind: String = redis::cmd("TYPE").arg("s2").query(&mut con).unwrap();
    assert_eq!(kind, "string");

    let mut items: Vec<(String, String)> = (0..500)
        .map(|i| (format!("u:{i}"), i.to_string()))
        .collect();
    let () = con.mset(&items).unwrap();
    let mut scanned: Vec<String> = con.scan_match("u:*").unwrap().collect();
    scanned.sort();
    scanned.dedup();
    items.sort();
    let want: Vec<String> = items.into_iter().map(|(k, _)| k).collect();
    assert_eq!(scanned, want);

    let mut listed: Vec<String> = con.keys("u:1?").unwrap();
    listed.sort();
    assert_eq!(
        listed,
        (10..20).map(|i| format!("u:{i}")).collect::<Vec<_>>()
    );
    let deleted: usize = con.del(&["u:1", "u:2", "nope"]).unwrap();
    assert_eq!(deleted, 2);
    let n: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 499);
}
