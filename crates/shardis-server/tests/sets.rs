//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER
//! SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN — exact replies recorded from
//! redis-server 7.0 (RESP2 and RESP3), encodings and their conversions compared with a live
//! redis-server, emptied keys, random-member properties, a 200k-member set, SSCAN across table
//! growth, and a seeded differential run against redis-server.

mod common;
use common::*;
use std::collections::HashSet;

/// Replies recorded from redis-server 7.0.15; the `hello 3` line switches to RESP3.
const EXACT: &[(&[&str], &str)] = &[
        (&["flushall"], "+OK\r\n"),
        (&["sadd", "s", "3", "1", "2", "2"], ":3\r\n"),
        (&["sadd", "s", "1", "4"], ":1\r\n"),
        (&["scard", "s"], ":4\r\n"),
        (&["scard", "nokey"], ":0\r\n"),
        (&["smembers", "s"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
        (&["object", "encoding", "s"], "$6\r\nintset\r\n"),
        (&["sismember", "s", "1"], ":1\r\n"),
        (&["sismember", "s", "9"], ":0\r\n"),
        (&["sismember", "nokey", "1"], ":0\r\n"),
        (&["smismember", "s", "1", "9", "4"], "*3\r\n:1\r\n:0\r\n:1\r\n"),
        (&["smismember", "nokey", "a"], "*1\r\n:0\r\n"),
        (&["srem", "s", "9", "4"], ":1\r\n"),
        (&["srem", "nokey", "a"], ":0\r\n"),
        (&["sadd", "t", "2", "3", "5"], ":3\r\n"),
        (&["sinter", "s", "t"], "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (&["sinter", "s", "nokey"], "*0\r\n"),
        (&["sintercard", "2", "s", "t"], ":2\r\n"),
        (&["sintercard", "2", "s", "t", "limit", "1"], ":1\r\n"),
        (&["sintercard", "2", "s", "t", "limit", "0"], ":2\r\n"),
        (&["sintercard", "2", "s", "nokey"], ":0\r\n"),
        (&["sinterstore", "d", "s", "t"], ":2\r\n"),
        (&["smembers", "d"], "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (&["sunion", "s", "t"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sunionstore", "d", "s", "t", "nokey"], ":4\r\n"),
        (&["sdiff", "s", "t"], "*1\r\n$1\r\n1\r\n"),
        (&["sdiff", "s", "nokey"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (&["sdiff", "nokey", "s"], "*0\r\n"),
        (&["sdiffstore", "d", "s", "t"], ":1\r\n"),
        (&["smembers", "d"], "*1\r\n$1\r\n1\r\n"),
        (&["sdiffstore", "d", "t", "t"], ":0\r\n"),
        (&["exists", "d"], ":0\r\n"),
        (&["sinterstore", "d", "s", "nokey"], ":0\r\n"),
        (&["sadd", "e", "1"], ":1\r\n"),
        (&["srem", "e", "1"], ":1\r\n"),
        (&["exists", "e"], ":0\r\n"),
        (&["smove", "s", "t", "1"], ":1\r\n"),
        (&["smove", "s", "t", "9"], ":0\r\n"),
        (&["smove", "s", "s", "2"], ":1\r\n"),
        (&["smove", "s", "s", "9"], ":0\r\n"),
        (&["smove", "nokey", "t", "1"], ":0\r\n"),
        (&["smembers", "t"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "t", "0"], "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "t", "0", "match", "5"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n5\r\n"),
        (&["sscan", "t", "0", "count", "1"], "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "t", "-1"], "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "nokey", "0", "count", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["srandmember", "nokey"], "$-1\r\n"),
        (&["srandmember", "nokey", "3"], "*0\r\n"),
        (&["spop", "nokey"], "$-1\r\n"),
        (&["spop", "nokey", "3"], "*0\r\n"),
        (&["spop", "t", "0"], "*0\r\n"),
        (&["srandmember", "t", "0"], "*0\r\n"),
        (&["srandmember", "t", "10"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sadd", "h", "b", "a", "c"], ":3\r\n"),
        (&["object", "encoding", "h"], "$9\r\nhashtable\r\n"),
        (&["sscan", "h", "0", "match", "a"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"),
        (&["sadd", "one", "x"], ":1\r\n"),
        (&["spop", "one"], "$1\r\nx\r\n"),
        (&["exists", "one"], ":0\r\n"),
        (&["sadd", "one", "7"], ":1\r\n"),
        (&["spop", "one", "5"], "*1\r\n$1\r\n7\r\n"),
        (&["exists", "one"], ":0\r\n"),
        (&["set", "str", "x"], "+OK\r\n"),
        (&["sadd", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["srem", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["smembers", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sinter", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sinter", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sunion", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sdiff", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sinterstore", "d", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sunionstore", "d", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sintercard", "2", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sintercard", "2", "str", "nokey"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sismember", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["smismember", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["scard", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["srandmember", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["srandmember", "str", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["spop", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["spop", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["smove", "str", "s", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["smove", "s", "str", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["smove", "nokey", "str", "2"], ":0\r\n"),
        (&["sscan", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["get", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["sintercard", "0", "s"], "-ERR numkeys should be greater than 0\r\n"),
        (&["sintercard", "x", "s"], "-ERR numkeys should be greater than 0\r\n"),
        (&["sintercard", "3", "s"], "-ERR Number of keys can't be greater than number of args\r\n"),
        (&["sintercard", "1", "s", "limit", "-1"], "-ERR LIMIT can't be negative\r\n"),
        (&["sintercard", "1", "s", "limit", "x"], "-ERR LIMIT can't be negative\r\n"),
        (&["sintercard", "1", "s", "limit"], "-ERR syntax error\r\n"),
        (&["sintercard", "1", "s", "foo", "1"], "-ERR syntax error\r\n"),
        (&["sscan", "s", "x"], "-ERR invalid cursor\r\n"),
        (&["sscan", "s", "18446744073709551616"], "-ERR invalid cursor\r\n"),
        (&["sscan", "s", "0", "count", "0"], "-ERR syntax error\r\n"),
        (&["sscan", "s", "0", "type", "set"], "-ERR syntax error\r\n"),
        (&["sscan", "s", "0", "count", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["sscan", "s", "0", "match"], "-ERR syntax error\r\n"),
        (&["spop", "s", "-1"], "-ERR value is out of range, must be positive\r\n"),
        (&["spop", "s", "x"], "-ERR value is out of range, must be positive\r\n"),
        (&["spop", "s", "1", "2"], "-ERR syntax error\r\n"),
        (&["srandmember", "s", "x"], "-ERR value is not an integer or out of range\r\n"),
        (&["srandmember", "s", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
        (&["srandmember", "s", "1", "2"], "-ERR syntax error\r\n"),
        (&["sadd"], "-ERR wrong number of arguments for 'sadd' command\r\n"),
        (&["smismember", "s"], "-ERR wrong number of arguments for 'smismember' command\r\n"),
        (&["sinterstore", "d"], "-ERR wrong number of arguments for 'sinterstore' command\r\n"),
        (&["hello", "3"], ""),
        (&["smembers", "t"], "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["smembers", "nokey"], "~0\r\n"),
        (&["sinter", "s", "t"], "~2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (&["sunion", "s", "t"], "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sdiff", "t", "s"], "~2\r\n$1\r\n1\r\n$1\r\n5\r\n"),
        (&["smismember", "t", "2", "9"], "*2\r\n:1\r\n:0\r\n"),
        (&["spop", "nokey"], "_\r\n"),
        (&["spop", "nokey", "2"], "~0\r\n"),
        (&["spop", "t", "0"], "~0\r\n"),
        (&["spop", "one", "3"], "~0\r\n"),
        (&["srandmember", "nokey"], "_\r\n"),
        (&["srandmember", "nokey", "2"], "*0\r\n"),
        (&["srandmember", "t", "10"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "t", "0"], "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (&["sscan", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
];

#[test]
fn exact_replies() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let mut diffs = Vec::new();
    for (args, want) in EXACT {
        if args[0] == "hello" {
            c.cmd(args);
            continue;
        }
        let got = c.cmd(args);
        if got != *want {
            diffs.push(format!("{args:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

fn members_of(reply: &str) -> Vec<String> {
    // Flat array/set of bulk strings: every second line after the header.
    reply
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|c| c[1].to_string())
        .collect()
}

fn int_of(reply: &str) -> i64 {
    reply.trim_start_matches(':').trim_end().parse().unwrap()
}

/// Sends a command to both servers and asserts the replies match exactly.
fn same(p: &mut Pair, args: &[&str]) -> String {
    let (a, b) = p.both(args);
    assert_eq!(b, a, "{args:?}");
    a
}

#[test]
fn encodings_follow_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let nums: Vec<String> = (0..512).map(|i| (i * 7 - 1000).to_string()).collect();
    let mut cmd = vec!["SADD", "i"];
    cmd.extend(nums.iter().map(|s| s.as_str()));
    same(&mut p, &cmd);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "i"]),
        "$6\r\nintset\r\n"
    );
    // Sorted like an intset, wider integers included.
    same(&mut p, &["SADD", "i", "70000", "-5000000000"]);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "i"]),
        "$9\r\nhashtable\r\n"
    );
    same(
        &mut p,
        &["SADD", "w", "5", "-70000", "1", "9223372036854775807"],
    );
    same(&mut p, &["SMEMBERS", "w"]);
    same(&mut p, &["OBJECT", "ENCODING", "w"]);
    // Non-canonical integers are strings.
    for (k, m) in [
        ("a", "01"),
        ("b", "-0"),
        ("c", "+1"),
        ("d", " 1"),
        ("e", "1.0"),
        ("f", "x"),
    ] {
        same(&mut p, &["SADD", k, "1", m]);
        assert_eq!(
            same(&mut p, &["OBJECT", "ENCODING", k]),
            "$9\r\nhashtable\r\n"
        );
    }
    // Removing the string does not go back.
    same(&mut p, &["SREM", "f", "x"]);
    same(&mut p, &["OBJECT", "ENCODING", "f"]);
    // Long members and many members.
    let long = "x".repeat(65);
    same(&mut p, &["SADD", "l", "a", &long]);
    same(&mut p, &["OBJECT", "ENCODING", "l"]);
    let many: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut cmd = vec!["SADD", "m"];
    cmd.extend(many.iter().map(|s| s.as_str()));
    same(&mut p, &cmd);
    same(&mut p, &["OBJECT", "ENCODING", "m"]);
    same(&mut p, &["SCARD", "m"]);
    // CONFIG SET of the threshold.
    same(&mut p, &["CONFIG", "SET", "set-max-intset-entries", "4"]);
    same(&mut p, &["SADD", "c4", "1", "2", "3", "4"]);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "c4"]),
        "$6\r\nintset\r\n"
    );
    same(&mut p, &["SADD", "c4", "5"]);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "c4"]),
        "$9\r\nhashtable\r\n"
    );
    same(&mut p, &["CONFIG", "SET", "set-max-intset-entries", "0"]);
    same(&mut p, &["SADD", "c0", "1"]);
    same(&mut p, &["OBJECT", "ENCODING", "c0"]);
    same(&mut p, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
    // Results of the algebra start as intsets.
    same(&mut p, &["SADD", "h1", "1", "2", "3", "a"]);
    same(&mut p, &["SADD", "h2", "2", "3", "4", "a"]);
    same(&mut p, &["SDIFFSTORE", "r", "h1", "h2"]);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "r"]),
        "$6\r\nintset\r\n"
    );
    same(&mut p, &["SINTERSTORE", "r", "h1", "h2"]);
    same(&mut p, &["OBJECT", "ENCODING", "r"]);
    same(&mut p, &["SMOVE", "h1", "new1", "1"]);
    same(&mut p, &["OBJECT", "ENCODING", "new1"]);
    same(&mut p, &["SMOVE", "h1", "new2", "a"]);
    same(&mut p, &["OBJECT", "ENCODING", "new2"]);
    // SPOP taking most of a big integer set leaves a new, smaller set: an intset again.
    let big: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut cmd = vec!["SADD", "p"];
    cmd.extend(big.iter().map(|s| s.as_str()));
    same(&mut p, &cmd);
    same(&mut p, &["OBJECT", "ENCODING", "p"]);
    let (a, b) = p.both(&["SPOP", "p", "590"]);
    assert_eq!(members_of(&a).len(), 590);
    assert_eq!(members_of(&b).len(), 590);
    assert_eq!(
        same(&mut p, &["OBJECT", "ENCODING", "p"]),
        "$6\r\nintset\r\n"
    );
    same(&mut p, &["SCARD", "p"]);
    // GET and other types' commands on a set.
    same(&mut p, &["GET", "m"]);
    same(&mut p, &["LPUSH", "m", "x"]);
    same(&mut p, &["TYPE", "m"]);
}

#[test]
fn emptied_keys_disappear() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    c.cmd(&["SADD", "a", "1", "x"]);
    c.cmd(&["SREM", "a", "1", "x"]);
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    c.cmd(&["SADD", "a", "1"]);
    c.cmd(&["SPOP", "a"]);
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    c.cmd(&["SADD", "a", "1", "2", "x"]);
    c.cmd(&["SPOP", "a", "3"]);
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    c.cmd(&["SADD", "a", "x"]);
    assert_eq!(c.cmd(&["SMOVE", "a", "b", "x"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(c.cmd(&["SMEMBERS", "b"]), "*1\r\n$1\r\nx\r\n");
    c.cmd(&["SET", "d", "v"]);
    assert_eq!(c.cmd(&["SINTERSTORE", "d", "b", "nokey"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "d"]), ":0\r\n");
    c.cmd(&["SET", "d", "v"]);
    assert_eq!(c.cmd(&["SUNIONSTORE", "d", "b"]), ":1\r\n");
    assert_eq!(c.cmd(&["TYPE", "d"]), "+set\r\n");
    assert_eq!(c.cmd(&["SDIFFSTORE", "d", "b", "b"]), ":0\r\n");
    assert_eq!(c.cmd(&["EXISTS", "d"]), ":0\r\n");
    // A destination that is also a source.
    c.cmd(&["SADD", "u", "1", "2"]);
    c.cmd(&["SADD", "v", "2", "3"]);
    assert_eq!(c.cmd(&["SUNIONSTORE", "u", "u", "v"]), ":3\r\n");
    assert_eq!(c.cmd(&["SINTERSTORE", "v", "u", "v"]), ":2\r\n");
    assert_eq!(c.cmd(&["SMEMBERS", "v"]), "*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
    // The destination's expiry goes with the old value.
    c.cmd(&["EXPIRE", "v", "100"]);
    c.cmd(&["SUNIONSTORE", "v", "u"]);
    assert_eq!(c.cmd(&["TTL", "v"]), ":-1\r\n");
}

#[test]
fn random_members_properties() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    for (key, members) in [
        ("ints", (0..50).map(|i| i.to_string()).collect::<Vec<_>>()),
        ("strs", (0..50).map(|i| format!("s{i}")).collect()),
        ("big", (0..3000).map(|i| format!("member-{i}")).collect()),
    ] {
        let all: HashSet<String> = members.iter().cloned().collect();
        let mut cmd = vec!["SADD", key];
        cmd.extend(members.iter().map(|s| s.as_str()));
        c.cmd(&cmd);
        let n = members.len();
        for count in [1, 5, n / 2, n - 1, n, n + 10] {
            let got = members_of(&c.cmd(&["SRANDMEMBER", key, &count.to_string()]));
            assert_eq!(got.len(), count.min(n));
            let distinct: HashSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), got.len(), "distinct for {count}");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let got = members_of(&c.cmd(&["SRANDMEMBER", key, "-200"]));
        assert_eq!(got.len(), 200);
        assert!(got.iter().all(|m| all.contains(m)));
        let one = c.cmd(&["SRANDMEMBER", key]);
        assert!(all.contains(one.split("\r\n").nth(1).unwrap()));
        // Popping in pieces returns every member exactly once.
        let mut popped = HashSet::new();
        let one = c.cmd(&["SPOP", key]);
        popped.insert(one.split("\r\n").nth(1).unwrap().to_string());
        for count in [3, n / 3, n] {
            for m in members_of(&c.cmd(&["SPOP", key, &count.to_string()])) {
                assert!(all.contains(&m));
                assert!(popped.insert(m), "popped twice");
            }
        }
        assert_eq!(popped, all);
        assert_eq!(c.cmd(&["EXISTS", key]), ":0\r\n");
    }
}

#[test]
fn big_set() {
    const N: usize = 200_000;
    let s = Server::start(&[]);
    let mut c = s.raw();
    let rss0 = s.rss();
    for chunk in (0..N).collect::<Vec<_>>().chunks(2000) {
        let ms: Vec<String> = chunk.iter().map(|i| format!("member:{i}")).collect();
        let mut cmd: Vec<&[u8]> = vec![b"SADD", b"big"];
        cmd.extend(ms.iter().map(|s| s.as_bytes()));
        c.send_cmd(&cmd);
        assert_eq!(c.read_reply(), ":2000\r\n");
    }
    let per = (s.rss().saturating_sub(rss0)) as f64 / N as f64;
    eprintln!("shardis: {per:.1} bytes of RSS per member of a {N}-member set");
    assert_eq!(c.cmd(&["SCARD", "big"]), format!(":{N}\r\n"));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "big", "member:199999"]), ":1\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "big", "member:200000"]), ":0\r\n");
    // Full SSCAN: every member at least once.
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = c.cmd(&["SSCAN", "big", &cursor, "COUNT", "500"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for m in lines[4..].chunks(2).filter(|c| c.len() == 2) {
            seen.insert(m[1].to_string());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), N);
    // Algebra on big sets.
    let evens: Vec<String> = (0..N).step_by(2).map(|i| format!("member:{i}")).collect();
    for chunk in evens.chunks(2000) {
        let mut cmd = vec!["SADD", "even"];
        cmd.extend(chunk.iter().map(|s| s.as_str()));
        c.cmd(&cmd);
    }
    let half = N / 2;
    assert_eq!(
        c.cmd(&["SINTERCARD", "2", "big", "even"]),
        format!(":{half}\r\n")
    );
    assert_eq!(
        c.cmd(&["SINTERCARD", "2", "big", "even", "LIMIT", "10"]),
        ":10\r\n"
    );
    assert_eq!(
        c.cmd(&["SDIFFSTORE", "odd", "big", "even"]),
        format!(":{half}\r\n")
    );
    assert_eq!(
        c.cmd(&["SUNIONSTORE", "u", "odd", "even"]),
        format!(":{N}\r\n")
    );
    assert_eq!(
        c.cmd(&["SINTERSTORE", "i", "u", "big"]),
        format!(":{N}\r\n")
    );
    assert_eq!(c.cmd(&["SISMEMBER", "odd", "member:1"]), ":1\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "odd", "member:2"]), ":0\r\n");
    let r = c.cmd(&["SRANDMEMBER", "big", "5000"]);
    let got = members_of(&r);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 5000);
    let got = members_of(&c.cmd(&["SPOP", "big", "150000"]));
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 150_000);
    assert_eq!(c.cmd(&["SCARD", "big"]), ":50000\r\n");
    // Removal shrinks the table; what stays is still found.
    for m in got.chunks(5000) {
        let mut cmd = vec!["SREM", "u"];
        cmd.extend(m.iter().map(|s| s.as_str()));
        assert_eq!(int_of(&c.cmd(&cmd)), m.len() as i64);
    }
    assert_eq!(c.cmd(&["SINTERCARD", "2", "u", "big"]), ":50000\r\n");
    assert_eq!(c.cmd(&["DEL", "big", "u", "i", "odd", "even"]), ":5\r\n");
}

/// Redis's figure for the same 200k members (used_memory growth), for the report.
#[test]
fn big_set_redis_memory_reference() {
    let Some(r) = Server::redis(&[]) else { return };
    let mut c = r.raw();
    let used = |c: &mut Raw| -> i64 {
        let info = c.cmd(&["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let m0 = used(&mut c);
    for chunk in (0..200_000).collect::<Vec<_>>().chunks(2000) {
        let ms: Vec<String> = chunk.iter().map(|i| format!("member:{i}")).collect();
        let mut cmd = vec!["SADD", "big"];
        cmd.extend(ms.iter().map(|s| s.as_str()));
        c.cmd(&cmd);
    }
    let per = (used(&mut c) - m0) as f64 / 200_000.0;
    eprintln!("redis-server: {per:.1} bytes of used_memory per member of a 200000-member set");
}

#[test]
fn sscan_survives_growth() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let orig: Vec<String> = (0..3000).map(|i| format!("o{i}")).collect();
    let mut cmd = vec!["SADD", "k"];
    cmd.extend(orig.iter().map(|s| s.as_str()));
    c.cmd(&cmd);
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let r = c.cmd(&["SSCAN", "k", &cursor, "MATCH", "o*"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for m in lines[4..].chunks(2).filter(|c| c.len() == 2) {
            assert!(m[1].starts_with('o'));
            seen.insert(m[1].to_string());
        }
        step += 1;
        if step == 3 || step == 30 {
            let more: Vec<String> = (0..20000).map(|i| format!("n{step}-{i}")).collect();
            let mut cmd = vec!["SADD", "k"];
            cmd.extend(more.iter().map(|s| s.as_str()));
            c.cmd(&cmd);
        }
        if step == 100 {
            // Shrink the table mid-scan.
            let gone: Vec<String> = (0..20000).map(|i| format!("n3-{i}")).collect();
            let mut cmd = vec!["SREM", "k"];
            cmd.extend(gone.iter().map(|s| s.as_str()));
            assert_eq!(c.cmd(&cmd), ":20000\r\n");
        }
        if cursor == "0" {
            break;
        }
    }
    for m in &orig {
        assert!(seen.contains(m), "{m} was never returned");
    }
}

struct Gen {
    rng: fastrand::Rng,
}

const KEYS: &[&str] = &["a", "b", "c", "i", "str", "lst", "none"];
const MEMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "-3",
    "70000",
    "-5000000000",
    "9223372036854775807",
    "01",
    "-0",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
];

impl Gen {
    fn key(&mut self) -> String {
        KEYS[self.rng.usize(..KEYS.len())].to_string()
    }
    fn member(&mut self) -> String {
        if self.rng.u8(..40) == 0 {
            "x".repeat(70)
        } else {
            MEMBERS[self.rng.usize(..MEMBERS.len())].to_string()
        }
    }
    fn members(&mut self, min: usize) -> Vec<String> {
        let n = min + self.rng.usize(..5);
        (0..n).map(|_| self.member()).collect()
    }
    fn keys(&mut self, min: usize) -> Vec<String> {
        let n = min + self.rng.usize(..3);
        (0..n).map(|_| self.key()).collect()
    }
    fn count(&mut self) -> String {
        match self.rng.u8(..10) {
            0 => "x".into(),
            1 => (-(self.rng.i64(0..30))).to_string(),
            _ => self.rng.i64(0..30).to_string(),
        }
    }
    fn cmd(&mut self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let name = match self.rng.u8(..22) {
            0..=3 => "SADD",
            4 | 5 => "SREM",
            6 => "SISMEMBER",
            7 => "SMISMEMBER",
            8 => "SCARD",
            9 => "SMEMBERS",
            10 => "SMOVE",
            11 => "SINTER",
            12 => "SUNION",
            13 => "SDIFF",
            14 => "SINTERSTORE",
            15 => "SUNIONSTORE",
            16 => "SDIFFSTORE",
            17 => "SINTERCARD",
            18 => "SSCAN",
            19 => "SRANDMEMBER",
            20 => "SPOP",
            _ => match self.rng.u8(..4) {
                0 => "SET",
                1 => "LPUSH",
                2 => "DEL",
                _ => "GET",
            },
        };
        v.push(name.into());
        match name {
            "SADD" | "SREM" | "SMISMEMBER" => {
                v.push(self.key());
                let min = if self.rng.u8(..30) == 0 { 0 } else { 1 };
                v.extend(self.members(min));
            }
            "SISMEMBER" => {
                v.push(self.key());
                v.push(self.member());
                if self.rng.u8(..20) == 0 {
                    v.push(self.member());
                }
            }
            "SCARD" | "SMEMBERS" | "GET" => v.push(self.key()),
            "SET" | "LPUSH" => {
                v.push(self.key());
                v.push("v".into());
            }
            "DEL" => v.extend(self.keys(1)),
            "SMOVE" => {
                v.push(self.key());
                v.push(self.key());
                v.push(self.member());
            }
            "SINTER" | "SUNION" | "SDIFF" => v.extend(self.keys(1)),
            "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" => {
                v.push(self.key());
                v.extend(self.keys(1));
            }
            "SINTERCARD" => {
                let keys = self.keys(1);
                let n = match self.rng.u8(..12) {
                    0 => "0".to_string(),
                    1 => (keys.len() + 1).to_string(),
                    2 => "x".to_string(),
                    _ => keys.len().to_string(),
                };
                v.push(n);
                v.extend(keys);
                match self.rng.u8(..6) {
                    0 => {
                        v.push("LIMIT".into());
                        v.push(self.count());
                    }
                    1 => v.push("LIMIT".into()),
                    2 => v.push("FOO".into()),
                    _ => {}
                }
            }
            "SSCAN" => {
                v.push(self.key());
                v.push(if self.rng.u8(..10) == 0 { "x" } else { "0" }.into());
                match self.rng.u8(..8) {
                    0 => {
                        v.push("MATCH".into());
                        v.push(["*", "1*", "[a-c]", "?"][self.rng.usize(..4)].into());
                    }
                    1 => {
                        v.push("COUNT".into());
                        v.push(self.count());
                    }
                    2 => v.push("TYPE".into()),
                    _ => {}
                }
            }
            "SRANDMEMBER" | "SPOP" => {
                v.push(self.key());
                if self.rng.bool() {
                    v.push(self.count());
                }
                if self.rng.u8(..30) == 0 {
                    v.push("1".into());
                }
            }
            _ => unreachable!(),
        }
        v
    }
}

fn is_error(r: &str) -> bool {
    r.starts_with('-')
}

/// Every member an SSCAN iteration returns, sorted and deduplicated (cursors differ between
/// servers for hash tables); errors and the first reply as is.
fn full_scan(c: &mut Raw, args: &[&str]) -> String {
    let first = c.cmd(args);
    if is_error(&first) {
        return first;
    }
    let mut all = Vec::new();
    let mut r = first;
    loop {
        let lines: Vec<String> = r.split("\r\n").map(String::from).collect();
        for m in lines[4..].chunks(2).filter(|c| c.len() == 2) {
            all.push(m[1].clone());
        }
        if lines[2] == "0" {
            break;
        }
        let mut a: Vec<&str> = args.to_vec();
        a[2] = &lines[2];
        r = c.cmd(&a);
    }
    all.sort();
    all.dedup();
    all.join(",")
}

fn differential_run(seed: u64, commands: usize) {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    same(&mut p, &["CONFIG", "SET", "set-max-intset-entries", "10"]);
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
    };
    for i in 0..commands {
        let cmd = g.cmd();
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let ctx = format!("seed {seed}, command #{i}: {cmd:?}");
        let name = args[0];
        match name {
            "SSCAN" => {
                let a = full_scan(&mut p.a, &args);
                let b = full_scan(&mut p.b, &args);
                assert_eq!(b, a, "{ctx}");
                continue;
            }
            "SRANDMEMBER" | "SPOP" => {
                let card = p.a.cmd(&["SCARD", args[1]]);
                let card = if is_error(&card) { -1 } else { int_of(&card) };
                let count = args.get(2).and_then(|c| c.parse::<i64>().ok());
                let deterministic = card <= 1
                    || args.len() > 3
                    || args.len() == 3 && count.is_none_or(|n| n == 0 || n >= card);
                if name == "SPOP" && !deterministic {
                    continue;
                }
                let (a, b) = p.both(&args);
                if deterministic {
                    assert_eq!(sorted_reply(&b), sorted_reply(&a), "{ctx}");
                } else {
                    // Random members: same shape and length.
                    assert_eq!(&b[..1], &a[..1], "{ctx}");
                    if let Some(n) = count {
                        assert_eq!(members_of(&b).len(), members_of(&a).len(), "{ctx}");
                        assert!(
                            n < 0
                                || members_of(&b).iter().collect::<HashSet<_>>().len()
                                    == members_of(&b).len()
                        );
                    }
                }
            }
            "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" => {
                let (a, b) = p.both(&args);
                // Intsets come back sorted in Redis; check that order exactly.
                let intset = name == "SMEMBERS"
                    && p.a.cmd(&["OBJECT", "ENCODING", args[1]]) == "$6\r\nintset\r\n";
                if intset {
                    assert_eq!(b, a, "{ctx}");
                } else {
                    assert_eq!(sorted_reply(&b), sorted_reply(&a), "{ctx}");
                }
            }
            _ => {
                let (a, b) = p.both(&args);
                assert_eq!(b, a, "{ctx}");
            }
        }
        // The effect on every key the command named must match too.
        for k in args.iter().filter(|a| KEYS.contains(a)) {
            let (a, b) = p.both(&["OBJECT", "ENCODING", k]);
            assert_eq!(b, a, "{ctx}: encoding of {k}");
            let (a, b) = p.both(&["SCARD", k]);
            assert_eq!(b, a, "{ctx}: SCARD of {k}");
        }
        if i % 50 == 0 {
            for k in KEYS {
                let (a, b) = p.both(&["SMEMBERS", k]);
                assert_eq!(sorted_reply(&b), sorted_reply(&a), "{ctx}: members of {k}");
            }
        }
    }
}

#[test]
fn differential_vs_redis() {
    for seed in [1, 2, 3] {
        differential_run(seed, 2500);
    }
}

#[test]
fn differential_resp3() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    p.both(&["HELLO", "3"]);
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(99),
    };
    for i in 0..1500 {
        let cmd = g.cmd();
        if matches!(cmd[0].as_str(), "SPOP" | "SRANDMEMBER" | "SSCAN") {
            continue;
        }
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let (a, b) = p.both(&args);
        assert_eq!(sorted_reply(&b), sorted_reply(&a), "#{i}: {cmd:?}");
    }
}
