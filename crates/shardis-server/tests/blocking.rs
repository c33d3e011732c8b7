//! Blocking list pops: timeouts, order of service, wake-ups from any connection, chains,
//! CLIENT UNBLOCK, disconnects, and error texts against redis-server.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(c: &mut Raw, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("blocked_clients:{n}\r\n");
    while !c.cmd(&["INFO", "clients"]).contains(&want) {
        assert!(
            Instant::now() < deadline,
            "never reached {n} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn timeout_and_immediate_replies() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.2"]), "*-1\r\n");
    assert!(t.elapsed() >= Duration::from_millis(190));
    assert_eq!(
        c.cmd(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.05"]),
        "$-1\r\n"
    );
    c.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(
        c.cmd(&["BRPOP", "nokey", "l", "0"]),
        "*2\r\n$1\r\nl\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "5"]),
        "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(c.cmd(&["EXISTS", "l"]), ":0\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.01"]), "_\r\n");
}

#[test]
fn clients_are_served_in_the_order_they_blocked() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let mut w = s.raw();
        w.send_cmd(&[b"BLPOP", b"q", b"0"]);
        wait_blocked(&mut admin, i + 1);
        waiters.push(w);
    }
    assert_eq!(admin.cmd(&["RPUSH", "q", "a", "b", "c"]), ":3\r\n");
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(w.read_reply(), format!("*2\r\n$1\r\nq\r\n$1\r\n{v}\r\n"));
    }
    assert_eq!(admin.cmd(&["EXISTS", "q"]), ":0\r\n");
    wait_blocked(&mut admin, 0);
}

#[test]
fn woken_by_lmove_and_chains_of_blmove() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut first = s.raw();
    first.send_cmd(&[b"BLMOVE", b"a", b"b", b"LEFT", b"RIGHT", b"0"]);
    wait_blocked(&mut admin, 1);
    let mut second = s.raw();
    second.send_cmd(&[b"BLPOP", b"b", b"0"]);
    wait_blocked(&mut admin, 2);
    admin.cmd(&["RPUSH", "src", "x"]);
    // LMOVE fills `a`; the first client moves it on to `b`, which serves the second.
    assert_eq!(
        admin.cmd(&["LMOVE", "src", "a", "LEFT", "LEFT"]),
        "$1\r\nx\r\n"
    );
    assert_eq!(first.read_reply(), "$1\r\nx\r\n");
    assert_eq!(second.read_reply(), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    for k in ["a", "b", "src"] {
        assert_eq!(admin.cmd(&["EXISTS", k]), ":0\r\n", "{k}");
    }
}

#[test]
fn a_blocked_client_blocks_nobody_else() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut w = s.raw();
    w.send_cmd(&[b"BLPOP", b"q", b"0"]);
    wait_blocked(&mut admin, 1);
    // Writes and reads on the same shard and key go on while the client waits.
    assert_eq!(admin.cmd(&["LPUSH", "other", "1"]), ":1\r\n");
    assert_eq!(admin.cmd(&["LLEN", "q"]), ":0\r\n");
    admin.cmd(&["SET", "q", "string"]);
    // A key of the wrong type does not serve (or error) the waiter; it keeps waiting.
    std::thread::sleep(Duration::from_millis(50));
    wait_blocked(&mut admin, 1);
    admin.cmd(&["DEL", "q"]);
    admin.cmd(&["RPUSH", "q", "v"]);
    assert_eq!(w.read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
}

#[test]
fn disconnect_while_blocked_leaves_nothing_behind() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    {
        let mut w = s.raw();
        w.send_cmd(&[b"BLPOP", b"q", b"0"]);
        wait_blocked(&mut admin, 1);
    }
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.cmd(&["RPUSH", "q", "v"]), ":1\r\n");
    assert_eq!(
        admin.cmd(&["LLEN", "q"]),
        ":1\r\n",
        "nothing was popped for the gone client"
    );
}

/// CLIENT LIST's flags for a client blocked in BLPOP, and again once it is served, in
/// shardis and in redis-server.
#[test]
fn client_list_flags_a_blocked_client() {
    let ours = Server::start(&[]);
    let theirs = Server::redis(&[]).expect("redis-server is installed");
    let mut seen = Vec::new();
    for s in [&ours, &theirs] {
        let mut admin = s.raw();
        let mut w = s.raw();
        let id = w.cmd(&["CLIENT", "ID"]);
        let id = id.trim_start_matches(':').trim_end().to_string();
        w.send_cmd(&[b"BLPOP", b"q", b"0"]);
        wait_blocked(&mut admin, 1);
        let flags = |admin: &mut Raw| {
            let line = admin.cmd(&["CLIENT", "LIST", "ID", &id]);
            let at = line.find(" flags=").expect("a flags field") + 7;
            let end = at + line[at..].find(' ').unwrap();
            (line[at..end].to_string(), line.contains(" cmd=blpop "))
        };
        let blocked = flags(&mut admin);
        admin.cmd(&["RPUSH", "q", "x"]);
        assert_eq!(w.read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
        seen.push((blocked, flags(&mut admin)));
    }
    assert_eq!(
        seen[0],
        ((String::from("b"), true), (String::from("N"), true))
    );
    assert_eq!(seen[0], seen[1], "shardis vs redis-server");
}

#[test]
fn client_unblock_timeout_and_error() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut w = s.raw();
    let id = w.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end();
    w.send_cmd(&[b"BRPOP", b"q", b"0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", id, "TIMEOUT"]), ":1\r\n");
    assert_eq!(w.read_reply(), "*-1\r\n");
    w.send_cmd(&[b"BRPOP", b"q", b"0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", id, "ERROR"]), ":1\r\n");
    assert_eq!(
        w.read_reply(),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", id]), ":0\r\n");
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", id, "later"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
}

#[test]
fn errors_and_non_blocking_cases_match_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let cases: &[&[&str]] = &[
        &["BLPOP", "k", "-1"],
        &["BLPOP", "k", "abc"],
        &["BLPOP", "k", "1e400"],
        &["BLPOP", "k", "0.001"],
        &["BLPOP", "k", "-0.0001x"],
        &["SET", "s", "v"],
        &["BLPOP", "s", "0"],
        &["BLPOP", "k", "s", "0.01"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BLMOVE", "k", "d", "UP", "LEFT", "0"],
        &["BLMPOP", "0", "0", "k", "LEFT"],
        &["BLMPOP", "x", "1", "k", "LEFT"],
        &["BLMPOP", "0.01", "1", "k", "LEFT", "COUNT", "0"],
        &["BLMPOP", "0.01", "1", "k", "MIDDLE"],
        &["BLMPOP", "0.01", "2", "k", "LEFT"],
        &["BLMPOP", "0.01", "1", "k", "LEFT"],
        &["RPUSH", "k", "1", "2", "3"],
        &["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "2"],
        &["BRPOPLPUSH", "k", "k2", "0"],
        &["RPUSH", "k", "9"],
        &["BRPOPLPUSH", "k", "s", "0"],
        &["LRANGE", "k2", "0", "-1"],
    ];
    for c in cases {
        let (a, b) = p.both(c);
        assert_eq!(b, a, "{c:?}");
    }
}

#[test]
fn blocking_sorted_set_pops() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    let mut a = s.raw();
    a.send_cmd(&[b"BZPOPMIN", b"z1", b"z2", b"0"]);
    wait_blocked(&mut admin, 1);
    let mut b = s.raw();
    b.cmd(&["HELLO", "3"]);
    b.send_cmd(&[b"BZMPOP", b"0", b"1", b"z2", b"MAX", b"COUNT", b"2"]);
    wait_blocked(&mut admin, 2);
    assert_eq!(
        admin.cmd(&["ZADD", "z2", "1", "a", "2", "b", "3", "c"]),
        ":3\r\n"
    );
    // The first blocked client takes the minimum, the second the two largest left.
    assert_eq!(a.read_reply(), "*3\r\n$2\r\nz2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        b.read_reply(),
        "*2\r\n$2\r\nz2\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(admin.cmd(&["EXISTS", "z2"]), ":0\r\n");
    assert_eq!(admin.cmd(&["BZPOPMAX", "z2", "0.05"]), "*-1\r\n");
}

#[test]
fn sorted_set_blocking_errors_match_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let cases: &[&[&str]] = &[
        &["BZPOPMIN", "z", "-1"],
        &["BZPOPMIN", "z", "x"],
        &["SET", "s", "v"],
        &["BZPOPMAX", "s", "0"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["BZPOPMAX", "z", "0"],
        &["BZMPOP", "0", "0", "z", "MIN"],
        &["BZMPOP", "0", "1", "z", "LEFT"],
        &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"],
        &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"],
        &["BZMPOP", "0.01", "1", "z", "MIN"],
        &["BZPOPMIN", "z", "0.01"],
    ];
    for c in cases {
        let (a, b) = p.both(c);
        assert_eq!(b, a, "{c:?}");
    }
}
