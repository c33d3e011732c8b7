//! Sorted set commands against exact Redis 7.0 replies, encodings, a 1,000,000-member set and
//! a seeded differential run against a real redis-server.

mod common;

use common::{encode, Pair, Raw, Server};

/// Sends each command and checks its exact reply.
fn expect(c: &mut Conns, script: &[(&[&str], &str)]) {
    for (cmd, want) in script {
        c.check(cmd, want);
    }
}

/// Our server, plus a real redis-server when installed: every expectation written here is
/// also checked against Redis itself, so the expected bytes are Redis 7.0's own.
struct Conns {
    _servers: Vec<Server>,
    raws: Vec<Raw>,
}

impl Conns {
    fn start() -> Conns {
        let mut servers = vec![Server::start(&[])];
        servers.extend(Server::redis(&[]));
        let raws = servers.iter().map(|s| s.raw()).collect();
        Conns {
            _servers: servers,
            raws,
        }
    }

    /// Sends to every server; returns our reply.
    fn cmd(&mut self, args: &[&str]) -> String {
        let replies: Vec<String> = self.raws.iter_mut().map(|r| r.cmd(args)).collect();
        replies.into_iter().next().unwrap()
    }

    fn check(&mut self, args: &[&str], want: &str) {
        for (i, r) in self.raws.iter_mut().enumerate() {
            let who = if i == 0 { "shardis" } else { "redis-server" };
            assert_eq!(r.cmd(args), want, "{who}: reply to {args:?}");
        }
    }
}

#[test]
fn zadd_options_and_errors() {
    let mut c = Conns::start();
    expect(
        &mut c,
        &[
            (
                &["ZADD", "z", "XX", "NX", "1", "a"],
                "-ERR XX and NX options at the same time are not compatible\r\n",
            ),
            (
                &["ZADD", "z", "GT", "LT", "1", "a"],
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                &["ZADD", "z", "NX", "GT", "1", "a"],
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                &["ZADD", "z", "INCR", "1", "a", "2", "b"],
                "-ERR INCR option supports a single increment-element pair\r\n",
            ),
            (
                &["ZADD", "z", "1"],
                "-ERR wrong number of arguments for 'zadd' command\r\n",
            ),
            (&["ZADD", "z", "1", "a", "2"], "-ERR syntax error\r\n"),
            (
                &["ZADD", "z", "abc", "a"],
                "-ERR value is not a valid float\r\n",
            ),
            (
                &["ZADD", "z", "nan", "a"],
                "-ERR value is not a valid float\r\n",
            ),
            (&["EXISTS", "z"], ":0\r\n"),
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n"),
            (&["ZINCRBY", "z", "inf", "a"], "$3\r\ninf\r\n"),
            (
                &["ZINCRBY", "z", "-inf", "a"],
                "-ERR resulting score is not a number (NaN)\r\n",
            ),
            (
                &["ZADD", "z", "INCR", "-inf", "a"],
                "-ERR resulting score is not a number (NaN)\r\n",
            ),
            (&["ZADD", "z", "XX", "INCR", "1", "zz"], "$-1\r\n"),
            (&["ZADD", "z", "NX", "INCR", "1", "a"], "$-1\r\n"),
            (&["ZADD", "z", "CH", "GT", "5", "b", "1", "c", "7", "d"], ":2\r\n"),
            (&["ZADD", "z", "LT", "CH", "6", "d", "0", "e"], ":2\r\n"),
            (&["ZADD", "z", "XX", "1", "new"], ":0\r\n"),
            (&["ZINCRBY", "z", "0.1", "e"], "$19\r\n0.10000000000000001\r\n"),
            (&["ZINCRBY", "z", "x", "e"], "-ERR value is not a valid float\r\n"),
            (
                &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
                "*10\r\n$1\r\ne\r\n$19\r\n0.10000000000000001\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n6\r\n$1\r\na\r\n$3\r\ninf\r\n",
            ),
            (&["ZADD", "nokey", "XX", "1", "a"], ":0\r\n"),
            (&["EXISTS", "nokey"], ":0\r\n"),
            (&["ZADD", "m0", "-0", "x"], ":1\r\n"),
            (&["ZSCORE", "m0", "x"], "$1\r\n0\r\n"),
            (&["ZINCRBY", "m1", "-0", "x"], "$2\r\n-0\r\n"),
        ],
    );
}

#[test]
fn lookups_ranges_and_counts() {
    let mut c = Conns::start();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "inf", "d"]);
    expect(
        &mut c,
        &[
            (&["ZCARD", "z"], ":4\r\n"),
            (&["ZCARD", "nokey"], ":0\r\n"),
            (&["ZSCORE", "z", "b"], "$1\r\n2\r\n"),
            (&["ZSCORE", "z", "x"], "$-1\r\n"),
            (
                &["ZMSCORE", "z", "a", "x", "d"],
                "*3\r\n$1\r\n1\r\n$-1\r\n$3\r\ninf\r\n",
            ),
            (&["ZMSCORE", "nokey", "a"], "*1\r\n$-1\r\n"),
            (&["ZRANK", "z", "c"], ":2\r\n"),
            (&["ZREVRANK", "z", "c"], ":1\r\n"),
            (&["ZRANK", "z", "nope"], "$-1\r\n"),
            (&["ZCOUNT", "z", "-inf", "+inf"], ":4\r\n"),
            (&["ZCOUNT", "z", "(1", "3"], ":2\r\n"),
            (&["ZCOUNT", "z", "(1", "(3"], ":1\r\n"),
            (&["ZCOUNT", "z", "", "("], ":0\r\n"),
            (&["ZCOUNT", "z", " 1", "3"], ":3\r\n"),
            (&["ZCOUNT", "z", "x", "3"], "-ERR min or max is not a float\r\n"),
            (&["ZCOUNT", "z", "nan", "3"], "-ERR min or max is not a float\r\n"),
            (
                &["ZRANGE", "z", "0", "-1"],
                "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
            ),
            (&["ZRANGE", "z", "-2", "-1"], "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            (&["ZRANGE", "z", "5", "10"], "*0\r\n"),
            (
                &["ZRANGE", "z", "0", "-1", "BYSCORE"],
                "*0\r\n",
            ),
            (
                &["ZRANGE", "z", "(1", "2", "BYSCORE", "LIMIT"],
                "-ERR syntax error\r\n",
            ),
            (
                &["ZRANGE", "z", "a", "b", "BYLEX"],
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                &["ZRANGE", "z", "-", "+", "BYSCORE"],
                "-ERR min or max is not a float\r\n",
            ),
            (
                &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
            ),
            (
                &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"],
                "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
            ),
            (
                &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
            ),
            (
                &["ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "-1", "2"],
                "*0\r\n",
            ),
            (
                &["ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "1", "-1"],
                "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (
                &["ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "WITHSCORES", "LIMIT", "1", "2"],
                "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (&["ZRANGE", "z", "0", "-1", "REV", "BYSCORE"], "*0\r\n"),
            (
                &["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
                "*4\r\n$1\r\nd\r\n$3\r\ninf\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            (
                &["ZRANGEBYSCORE", "z", "2", "+inf", "LIMIT", "1", "1"],
                "*1\r\n$1\r\nc\r\n",
            ),
            (
                &["ZRANGEBYSCORE", "z", "2", "+inf", "REV"],
                "-ERR syntax error\r\n",
            ),
            (
                &["ZREVRANGEBYSCORE", "z", "+inf", "(2", "WITHSCORES"],
                "*4\r\n$1\r\nd\r\n$3\r\ninf\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            (&["ZRANGE", "z", "x", "1"], "-ERR value is not an integer or out of range\r\n"),
            (&["ZRANGE", "nokey", "0", "-1"], "*0\r\n"),
        ],
    );
    c.cmd(&[
        "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
    ]);
    expect(
        &mut c,
        &[
            (
                &["ZRANGEBYLEX", "l", "[b", "(d"],
                "*2\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (
                &["ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "2"],
                "*2\r\n$1\r\nd\r\n$1\r\nc\r\n",
            ),
            (&["ZRANGE", "l", "(d", "+", "BYLEX"], "*1\r\n$1\r\ne\r\n"),
            (&["ZLEXCOUNT", "l", "-", "+"], ":5\r\n"),
            (&["ZLEXCOUNT", "l", "[b", "[b"], ":1\r\n"),
            (&["ZLEXCOUNT", "l", "+", "-"], ":0\r\n"),
            (
                &["ZLEXCOUNT", "l", "b", "+"],
                "-ERR min or max not valid string range item\r\n",
            ),
            (
                &["ZLEXCOUNT", "l", "+x", "+"],
                "-ERR min or max not valid string range item\r\n",
            ),
        ],
    );
}

#[test]
fn removals_pops_and_empty_keys() {
    let mut c = Conns::start();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    expect(
        &mut c,
        &[
            (&["ZREM", "z", "a", "b", "nope"], ":2\r\n"),
            (&["ZREM", "z", "c", "d"], ":1\r\n"),
            (&["EXISTS", "z"], ":0\r\n"),
            (&["ZREM", "z", "c"], ":0\r\n"),
            (
                &[
                    "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
                ],
                ":5\r\n",
            ),
            (&["ZREMRANGEBYLEX", "l", "(a", "[c"], ":2\r\n"),
            (&["ZREMRANGEBYRANK", "l", "0", "0"], ":1\r\n"),
            (&["ZREMRANGEBYRANK", "l", "5", "9"], ":0\r\n"),
            (&["ZREMRANGEBYSCORE", "l", "(0", "+inf"], ":0\r\n"),
            (&["ZREMRANGEBYSCORE", "l", "-inf", "+inf"], ":2\r\n"),
            (&["EXISTS", "l"], ":0\r\n"),
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n"),
            (
                &["ZPOPMIN", "z", "-1"],
                "-ERR value is out of range, must be positive\r\n",
            ),
            (
                &["ZPOPMIN", "z", "abc"],
                "-ERR value is out of range, must be positive\r\n",
            ),
            (&["ZPOPMIN", "z", "1", "2"], "-ERR syntax error\r\n"),
            (&["ZPOPMIN", "z", "0"], "*0\r\n"),
            (&["ZPOPMIN", "nokey"], "*0\r\n"),
            (&["ZPOPMIN", "nokey", "2"], "*0\r\n"),
            (&["ZPOPMIN", "z"], "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            (&["ZPOPMAX", "z", "1"], "*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            (&["ZPOPMAX", "z", "5"], "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            (&["EXISTS", "z"], ":0\r\n"),
            (&["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n"),
            (
                &["ZMPOP", "1", "z", "MIN", "COUNT", "2"],
                "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            (
                &["ZMPOP", "2", "nokey", "z", "MAX"],
                "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            (&["EXISTS", "z"], ":0\r\n"),
            (&["ZMPOP", "1", "nokey", "MIN"], "*-1\r\n"),
            (
                &["ZMPOP", "0", "z", "MIN"],
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                &["ZMPOP", "x", "z", "MIN"],
                "-ERR numkeys should be greater than 0\r\n",
            ),
            (
                &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
                "-ERR count should be greater than 0\r\n",
            ),
            (&["ZMPOP", "1", "z", "FOO"], "-ERR syntax error\r\n"),
            (&["ZMPOP", "2", "z", "MIN"], "-ERR syntax error\r\n"),
            (
                &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"],
                "-ERR syntax error\r\n",
            ),
        ],
    );
}

#[test]
fn resp3_shapes() {
    let mut c = Conns::start();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    expect(
        &mut c,
        &[
            (&["ZSCORE", "z", "a"], ",1\r\n"),
            (&["ZSCORE", "z", "x"], "_\r\n"),
            (&["ZMSCORE", "z", "a", "x"], "*2\r\n,1\r\n_\r\n"),
            (&["ZINCRBY", "z", "0.5", "a"], ",1.5\r\n"),
            (&["ZADD", "z", "INCR", "-0.5", "a"], ",1\r\n"),
            (&["ZADD", "z", "NX", "INCR", "1", "a"], "_\r\n"),
            (
                &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
                "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n",
            ),
            (
                &["ZRANGE", "z", "0", "-1"],
                "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (
                &["ZUNION", "2", "z", "nokey", "WITHSCORES"],
                "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n",
            ),
            (&["ZRANDMEMBER", "nokey"], "_\r\n"),
            (&["ZRANDMEMBER", "z", "0"], "*0\r\n"),
            (&["ZPOPMIN", "z"], "*2\r\n$1\r\na\r\n,1\r\n"),
            (&["ZPOPMIN", "z", "1"], "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"),
            (
                &["ZMPOP", "1", "z", "MAX", "COUNT", "5"],
                "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n",
            ),
            (&["ZMPOP", "1", "z", "MIN"], "_\r\n"),
        ],
    );
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let r = c.cmd(&["ZRANDMEMBER", "z", "-5", "WITHSCORES"]);
    assert!(r.starts_with("*5\r\n*2\r\n$1\r\n"), "{r}");
    let r = c.cmd(&["ZRANDMEMBER", "z", "2", "WITHSCORES"]);
    assert!(r.starts_with("*2\r\n*2\r\n$1\r\n"), "{r}");
}

#[test]
fn set_operations() {
    let mut c = Conns::start();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    c.cmd(&["ZADD", "dst", "2", "b", "3", "c"]);
    c.cmd(&["SADD", "set1", "a", "b", "x"]);
    c.cmd(&["SET", "str", "x"]);
    expect(
        &mut c,
        &[
            (&["ZUNIONSTORE", "out", "2", "z", "dst", "WEIGHTS", "2", "3", "AGGREGATE", "MAX"], ":4\r\n"),
            (
                &["ZRANGE", "out", "0", "-1", "WITHSCORES"],
                "*8\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n6\r\n$1\r\nd\r\n$1\r\n8\r\n$1\r\nc\r\n$1\r\n9\r\n",
            ),
            (&["ZINTERSTORE", "out", "2", "z", "dst", "WEIGHTS", "2", "3"], ":2\r\n"),
            (
                &["ZRANGE", "out", "0", "-1", "WITHSCORES"],
                "*4\r\n$1\r\nb\r\n$2\r\n10\r\n$1\r\nc\r\n$2\r\n15\r\n",
            ),
            (&["ZDIFFSTORE", "out", "2", "z", "dst"], ":2\r\n"),
            (
                &["ZRANGE", "out", "0", "-1", "WITHSCORES"],
                "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n4\r\n",
            ),
            (&["ZINTERSTORE", "out", "2", "z", "nokey"], ":0\r\n"),
            (&["EXISTS", "out"], ":0\r\n"),
            (
                &["ZUNION", "0", "z"],
                "-ERR at least 1 input key is needed for 'zunion' command\r\n",
            ),
            (&["ZUNION", "3", "z"], "-ERR syntax error\r\n"),
            (&["ZUNION", "1", "z", "WEIGHTS", "1", "2"], "-ERR syntax error\r\n"),
            (
                &["ZUNION", "1", "z", "WEIGHTS", "x"],
                "-ERR weight value is not a float\r\n",
            ),
            (&["ZUNION", "1", "z", "AGGREGATE", "foo"], "-ERR syntax error\r\n"),
            (&["ZDIFF", "1", "z", "WEIGHTS", "1"], "-ERR syntax error\r\n"),
            (&["ZUNIONSTORE", "out", "1", "z", "WITHSCORES"], "-ERR syntax error\r\n"),
            (
                &["ZUNION", "2", "z", "str", "FOO"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                &["ZINTER", "2", "z", "dst", "WITHSCORES", "AGGREGATE", "MIN"],
                "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            (
                &["ZDIFF", "2", "z", "dst", "WITHSCORES"],
                "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n4\r\n",
            ),
            (&["ZINTERCARD", "2", "z", "dst"], ":2\r\n"),
            (&["ZINTERCARD", "2", "z", "dst", "LIMIT", "1"], ":1\r\n"),
            (
                &["ZINTERCARD", "2", "z", "dst", "LIMIT", "-1"],
                "-ERR LIMIT can't be negative\r\n",
            ),
            (
                &["ZINTERCARD", "2", "z", "dst", "LIMIT", "x"],
                "-ERR LIMIT can't be negative\r\n",
            ),
            (
                &["ZINTERCARD", "0", "z"],
                "-ERR at least 1 input key is needed for 'zintercard' command\r\n",
            ),
            (
                &["ZUNION", "2", "z", "set1", "WITHSCORES"],
                "*10\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
            ),
            (
                &["ZINTER", "2", "z", "set1", "WITHSCORES"],
                "*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n",
            ),
            (&["ZUNIONSTORE", "str", "1", "z"], ":4\r\n"),
            (&["TYPE", "str"], "+zset\r\n"),
        ],
    );
}

#[test]
fn zscan_and_wrongtype() {
    let mut c = Conns::start();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    c.cmd(&["SET", "str", "x"]);
    c.cmd(&["SADD", "set", "x"]);
    c.cmd(&["RPUSH", "list", "x"]);
    c.cmd(&["HSET", "hash", "f", "v"]);
    expect(
        &mut c,
        &[
            (
                &["ZSCAN", "z", "0"],
                "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            (
                &["ZSCAN", "z", "0", "MATCH", "a*", "COUNT", "1"],
                "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
            ),
            (&["ZSCAN", "z", "0", "COUNT", "0"], "-ERR syntax error\r\n"),
            (&["ZSCAN", "z", "x"], "-ERR invalid cursor\r\n"),
            (&["ZSCAN", "z", "0", "FOO"], "-ERR syntax error\r\n"),
            (&["ZSCAN", "nokey", "0", "COUNT", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
        ],
    );
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for key in ["str", "set", "list", "hash"] {
        let cmds: Vec<Vec<&str>> = vec![
            vec!["ZADD", key, "1", "a"],
            vec!["ZINCRBY", key, "1", "a"],
            vec!["ZREM", key, "a"],
            vec!["ZCARD", key],
            vec!["ZSCORE", key, "a"],
            vec!["ZMSCORE", key, "a"],
            vec!["ZRANK", key, "a"],
            vec!["ZREVRANK", key, "a"],
            vec!["ZCOUNT", key, "0", "1"],
            vec!["ZLEXCOUNT", key, "-", "+"],
            vec!["ZRANGE", key, "0", "-1"],
            vec!["ZRANGESTORE", "dst", key, "0", "-1"],
            vec!["ZREVRANGE", key, "0", "-1"],
            vec!["ZRANGEBYSCORE", key, "0", "1"],
            vec!["ZREVRANGEBYSCORE", key, "1", "0"],
            vec!["ZRANGEBYLEX", key, "-", "+"],
            vec!["ZREVRANGEBYLEX", key, "+", "-"],
            vec!["ZREMRANGEBYRANK", key, "0", "1"],
            vec!["ZREMRANGEBYSCORE", key, "0", "1"],
            vec!["ZREMRANGEBYLEX", key, "-", "+"],
            vec!["ZPOPMIN", key],
            vec!["ZPOPMAX", key, "2"],
            vec!["ZMPOP", "1", key, "MIN"],
            vec!["ZRANDMEMBER", key],
            vec!["ZSCAN", key, "0"],
        ];
        for cmd in &cmds {
            c.check(cmd, wrongtype);
        }
        if key != "set" {
            for cmd in [
                vec!["ZUNION", "2", "z", key],
                vec!["ZINTERSTORE", "d", "2", "z", key],
                vec!["ZDIFF", "2", "z", key],
                vec!["ZINTERCARD", "2", "z", key],
            ] {
                c.check(&cmd, wrongtype);
            }
        }
    }
}

#[test]
fn encodings_follow_the_limits() {
    let mut c = Conns::start();
    let mut args: Vec<String> = vec!["ZADD".into(), "z".into()];
    for i in 0..128 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    c.check(&a, ":128\r\n");
    c.check(&["OBJECT", "ENCODING", "z"], "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "z", "1", "m1"]);
    c.check(&["OBJECT", "ENCODING", "z"], "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "z", "1000", "m128"]);
    c.check(&["OBJECT", "ENCODING", "z"], "$8\r\nskiplist\r\n");
    // One way: shrinking does not convert back.
    c.cmd(&["ZREMRANGEBYRANK", "z", "0", "-3"]);
    c.check(&["OBJECT", "ENCODING", "z"], "$8\r\nskiplist\r\n");
    // ...but a stored result small enough is packed again.
    c.check(&["ZUNIONSTORE", "u", "1", "z"], ":2\r\n");
    c.check(&["OBJECT", "ENCODING", "u"], "$8\r\nlistpack\r\n");
    // Member length: 64 bytes stays packed, 65 converts.
    let m64 = "x".repeat(64);
    let m65 = "y".repeat(65);
    c.cmd(&["ZADD", "v", "1", &m64]);
    c.check(&["OBJECT", "ENCODING", "v"], "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "v", "1", &m65]);
    c.check(&["OBJECT", "ENCODING", "v"], "$8\r\nskiplist\r\n");
    c.check(&["ZSCORE", "v", &m65], "$1\r\n1\r\n");
    c.cmd(&["ZADD", "w", "1", &m65]);
    c.check(&["OBJECT", "ENCODING", "w"], "$8\r\nskiplist\r\n");
    c.check(&["ZRANGESTORE", "rs", "v", "0", "0"], ":1\r\n");
    c.check(&["OBJECT", "ENCODING", "rs"], "$8\r\nlistpack\r\n");
    c.check(&["ZRANGESTORE", "rs", "v", "0", "-1", "BYSCORE"], ":0\r\n");
    c.check(
        &["ZRANGESTORE", "rs", "v", "-inf", "+inf", "BYSCORE"],
        ":2\r\n",
    );
    c.check(&["OBJECT", "ENCODING", "rs"], "$8\r\nskiplist\r\n");
    // After CONFIG SET the new limits apply to the next additions.
    c.check(
        &["CONFIG", "SET", "zset-max-listpack-entries", "2"],
        "+OK\r\n",
    );
    c.cmd(&["ZADD", "k", "1", "a", "2", "b"]);
    c.check(&["OBJECT", "ENCODING", "k"], "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "k", "3", "c"]);
    c.check(&["OBJECT", "ENCODING", "k"], "$8\r\nskiplist\r\n");
    c.check(
        &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
        "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    c.cmd(&["ZADD", "k0", "1", "a"]);
    c.check(&["OBJECT", "ENCODING", "k0"], "$8\r\nskiplist\r\n");
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-value", "3"]);
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
    c.cmd(&["ZADD", "k1", "1", "abc"]);
    c.check(&["OBJECT", "ENCODING", "k1"], "$8\r\nlistpack\r\n");
    c.cmd(&["ZADD", "k1", "1", "abcd"]);
    c.check(&["OBJECT", "ENCODING", "k1"], "$8\r\nskiplist\r\n");
    // Skiplist sets keep -0, packed ones store 0, as Redis does.
    c.cmd(&["ZADD", "k1", "-0", "neg"]);
    c.check(&["ZSCORE", "k1", "neg"], "$2\r\n-0\r\n");
}

#[test]
fn million_member_set_ranks_and_ranges() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    const N: usize = 1_000_000;
    const BATCH: usize = 1000;
    let rss0 = s.rss();
    // Pipelined: all batches are written first, then all replies read.
    let mut buf = Vec::new();
    for b in 0..N / BATCH {
        let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
        for i in b * BATCH..(b + 1) * BATCH {
            // Scores i*2 with members that do not sort like the scores.
            args.push((i * 2).to_string().into_bytes());
            args.push(format!("m:{}", (i * 7919) % N).into_bytes());
        }
        let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
        buf.extend_from_slice(&encode(&a));
        if buf.len() > 1 << 20 {
            c.send(&buf);
            buf.clear();
        }
    }
    c.send(&buf);
    for _ in 0..N / BATCH {
        assert_eq!(c.read_reply(), format!(":{BATCH}\r\n"));
    }
    let rss1 = s.rss();
    let per_member = rss1.saturating_sub(rss0) / N as u64;
    eprintln!("1M-member zset: ~{per_member} bytes per member (server RSS growth)");
    // Redis 7.0 needs ~115 bytes per member for this set (measured the same way); the
    // issue's target is to stay below it. (Skiplist nodes are a full cache line since links
    // moved inline, for speed; this figure was ~90 before.)
    assert!(per_member < 115, "{per_member} bytes per member");
    assert_eq!(c.cmd(&["ZCARD", "big"]), ":1000000\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "$8\r\nskiplist\r\n");
    let member = |i: usize| format!("m:{}", (i * 7919) % N);
    for i in [0usize, 1, 2, 777, 499_999, 500_000, 999_998, 999_999] {
        let m = member(i);
        assert_eq!(c.cmd(&["ZRANK", "big", &m]), format!(":{i}\r\n"));
        assert_eq!(
            c.cmd(&["ZREVRANK", "big", &m]),
            format!(":{}\r\n", N - 1 - i)
        );
        let sc = (i * 2).to_string();
        assert_eq!(
            c.cmd(&["ZSCORE", "big", &m]),
            format!("${}\r\n{sc}\r\n", sc.len())
        );
    }
    let bulk = |s: &str| format!("${}\r\n{s}\r\n", s.len());
    let want: String = (500_000..500_003).map(|i| bulk(&member(i))).collect();
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "500000", "500002"]),
        format!("*3\r\n{want}")
    );
    let want: String = (0..3).map(|i| bulk(&member(N - 1 - i))).collect();
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "0", "2", "REV"]),
        format!("*3\r\n{want}")
    );
    assert_eq!(c.cmd(&["ZCOUNT", "big", "-inf", "+inf"]), ":1000000\r\n");
    assert_eq!(c.cmd(&["ZCOUNT", "big", "1000", "(2000"]), ":500\r\n");
    assert_eq!(c.cmd(&["ZCOUNT", "big", "(1000", "2000"]), ":500\r\n");
    assert_eq!(c.cmd(&["ZCOUNT", "big", "1001", "1001"]), ":0\r\n");
    let want: String = (300_001..300_003)
        .map(|i| bulk(&member(i)) + &bulk(&(i * 2).to_string()))
        .collect();
    assert_eq!(
        c.cmd(&[
            "ZRANGEBYSCORE",
            "big",
            "(599998",
            "+inf",
            "WITHSCORES",
            "LIMIT",
            "1",
            "2"
        ]),
        format!("*4\r\n{want}")
    );
    let want: String = (699_998..700_000).rev().map(|i| bulk(&member(i))).collect();
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "(1400004", "-inf", "BYSCORE", "REV", "LIMIT", "2", "2"]),
        format!("*2\r\n{want}")
    );
    // Removals in the middle keep ranks right.
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "big", "100", "199"]), ":100\r\n");
    assert_eq!(c.cmd(&["ZRANK", "big", &member(200)]), ":100\r\n");
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "big", "0", "(10"]), ":5\r\n");
    assert_eq!(c.cmd(&["ZRANK", "big", &member(5)]), ":0\r\n");
    assert_eq!(c.cmd(&["ZCARD", "big"]), ":999895\r\n");
    let r = c.cmd(&["ZPOPMAX", "big"]);
    assert_eq!(
        r,
        format!("*2\r\n{}{}", bulk(&member(N - 1)), bulk("1999998"))
    );
    assert_eq!(c.cmd(&["DEL", "big"]), ":1\r\n");
}

// ---------------------------------------------------------------------------------------------
// Differential

struct Gen {
    rng: fastrand::Rng,
    /// Keys at which scores are not all equal; lex commands go to "l" only, where every
    /// score is 0 (Redis leaves lex ranges over mixed scores undefined).
    skiplist_phase: bool,
    /// How many distinct members commands draw from.
    members: u32,
}

impl Gen {
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.rng.usize(..v.len())]
    }
    fn key(&mut self) -> String {
        self.pick(&["z1", "z1", "z2", "z3", "set", "str", "nokey"])
            .into()
    }
    fn member(&mut self) -> String {
        format!("m{}", self.rng.u32(..self.members))
    }
    fn score(&mut self) -> String {
        if self.rng.u32(..20) == 0 {
            return self
                .pick(&[
                    "inf", "-inf", "+inf", "-0", "0.1", "1e3", "1.5", "abc", "nan", "",
                ])
                .into();
        }
        self.rng.i32(-5..6).to_string()
    }
    fn bound(&mut self) -> String {
        match self.rng.u32(..10) {
            0 => self
                .pick(&["-inf", "+inf", "(1", "(-2", "x", "((1", "(inf"])
                .into(),
            1..=3 => format!("({}", self.rng.i32(-5..6)),
            _ => self.rng.i32(-5..6).to_string(),
        }
    }
    fn lex(&mut self) -> String {
        match self.rng.u32(..8) {
            0 => self.pick(&["-", "+", "x", "+x", "", "["]).into(),
            1..=3 => format!("({}", self.member()),
            _ => format!("[{}", self.member()),
        }
    }
    fn idx(&mut self) -> String {
        self.rng.i32(-8..8).to_string()
    }

    fn command(&mut self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let n = self.rng.u32(..33);
        macro_rules! push { ($($e:expr),*) => {{ $( v.push($e.to_string()); )* }} }
        match n {
            0..=3 => {
                let key = if self.rng.bool() {
                    "l".to_string()
                } else {
                    self.key()
                };
                push!("ZADD", key);
                for o in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                    if self.rng.u32(..8) == 0 {
                        push!(o);
                    }
                }
                for _ in 0..self.rng.usize(1..4) {
                    let s = if key == "l" {
                        "0".to_string()
                    } else {
                        self.score()
                    };
                    push!(s, self.member());
                }
                if self.rng.u32(..30) == 0 {
                    v.pop();
                }
            }
            4 => {
                push!("ZINCRBY", self.key(), self.score(), self.member());
            }
            5 => {
                let key = if self.rng.bool() {
                    "l".into()
                } else {
                    self.key()
                };
                push!("ZREM", key);
                for _ in 0..self.rng.usize(1..4) {
                    push!(self.member());
                }
            }
            6 => push!("ZCARD", self.key()),
            7 => push!("ZSCORE", self.key(), self.member()),
            8 => push!("ZMSCORE", self.key(), self.member(), self.member()),
            9 => push!(self.pick(&["ZRANK", "ZREVRANK"]), self.key(), self.member()),
            10 => push!("ZCOUNT", self.key(), self.bound(), self.bound()),
            11 => push!("ZLEXCOUNT", "l", self.lex(), self.lex()),
            12..=14 => {
                let lex = self.rng.u32(..4) == 0;
                let key = if lex { "l".into() } else { self.key() };
                let store = self.rng.u32(..6) == 0;
                if store {
                    push!("ZRANGESTORE", self.pick(&["d1", "d2", "str"]), key);
                } else {
                    push!("ZRANGE", key);
                }
                match self.rng.u32(..3) {
                    0 if lex => push!(self.lex(), self.lex(), "BYLEX"),
                    1 if !lex => push!(self.bound(), self.bound(), "BYSCORE"),
                    _ => push!(self.idx(), self.idx()),
                }
                for o in ["REV", "WITHSCORES"] {
                    if self.rng.u32(..3) == 0 {
                        push!(o);
                    }
                }
                if self.rng.u32(..4) == 0 {
                    push!("LIMIT", self.rng.i32(-1..4), self.rng.i32(-1..4));
                }
            }
            15 => push!(
                self.pick(&["ZREVRANGE", "ZRANGE"]),
                self.key(),
                self.idx(),
                self.idx(),
                "WITHSCORES"
            ),
            16 => {
                let c = self.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
                push!(c, self.key(), self.bound(), self.bound());
                if self.rng.bool() {
                    push!("WITHSCORES");
                }
                if self.rng.bool() {
                    push!("LIMIT", self.rng.i32(-1..4), self.rng.i32(-1..4));
                }
            }
            17 => {
                let c = self.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
                push!(c, "l", self.lex(), self.lex());
                if self.rng.bool() {
                    push!("LIMIT", self.rng.i32(-1..4), self.rng.i32(-1..4));
                }
            }
            18 => push!("ZREMRANGEBYRANK", self.key(), self.idx(), self.idx()),
            19 => push!("ZREMRANGEBYSCORE", self.key(), self.bound(), self.bound()),
            20 => push!("ZREMRANGEBYLEX", "l", self.lex(), self.lex()),
            21 => {
                push!(self.pick(&["ZPOPMIN", "ZPOPMAX"]), self.key());
                if self.rng.bool() {
                    push!(self.rng.i32(-1..4));
                }
            }
            22 => {
                let nk = self.rng.usize(0..3);
                push!("ZMPOP", nk);
                for _ in 0..nk {
                    push!(self.key());
                }
                push!(self.pick(&["MIN", "MAX", "FOO"]));
                if self.rng.bool() {
                    push!("COUNT", self.rng.i32(-1..4));
                }
            }
            23..=26 => {
                let c = self.pick(&[
                    "ZUNION",
                    "ZINTER",
                    "ZDIFF",
                    "ZUNIONSTORE",
                    "ZINTERSTORE",
                    "ZDIFFSTORE",
                    "ZINTERCARD",
                ]);
                push!(c);
                if c.ends_with("STORE") {
                    push!(self.pick(&["d1", "d2", "z3"]));
                }
                let nk = self.rng.usize(0..4);
                push!(nk);
                for _ in 0..nk {
                    push!(self.key());
                }
                if self.rng.u32(..3) == 0 {
                    push!("WEIGHTS");
                    for _ in 0..nk {
                        push!(self.pick(&["1", "2", "-1", "0", "0.5", "inf", "x"]));
                    }
                }
                if self.rng.u32(..3) == 0 {
                    push!("AGGREGATE", self.pick(&["SUM", "MIN", "MAX", "AVG"]));
                }
                if self.rng.u32(..3) == 0 {
                    push!("WITHSCORES");
                }
                if self.rng.u32(..4) == 0 {
                    push!("LIMIT", self.rng.i32(-1..3));
                }
            }
            27 => {
                push!("ZRANDMEMBER", self.key());
                if self.rng.bool() {
                    push!(self.rng.i32(-3..4));
                    if self.rng.bool() {
                        push!(self.pick(&["WITHSCORES", "FOO"]));
                    }
                }
            }
            28 => {
                if self.skiplist_phase {
                    push!("ZCARD", self.key());
                } else {
                    push!("ZSCAN", self.key(), self.pick(&["0", "x", "-1"]));
                    if self.rng.bool() {
                        push!("MATCH", self.pick(&["m1*", "*", "m?"]));
                    }
                    if self.rng.bool() {
                        push!("COUNT", self.rng.i32(-1..3));
                    }
                }
            }
            29 => push!(self.pick(&["SADD", "SREM"]), "set", self.member()),
            30 => push!("OBJECT", "ENCODING", self.key()),
            31 => push!("EXISTS", self.key(), "l", "d1", "d2"),
            _ => push!(
                self.pick(&["TYPE", "DEL"]),
                self.pick(&["d1", "d2", "z3", "str"])
            ),
        }
        v
    }
}

fn run_differential(
    seed: u64,
    commands: usize,
    config: &[&str],
    skiplist_phase: bool,
    resp3: bool,
    members: u32,
) {
    let Some(mut p) = Pair::start(config) else {
        return;
    };
    if resp3 {
        p.both(&["HELLO", "3"]);
    }
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        skiplist_phase,
        members,
    };
    p.both(&["SET", "str", "x"]);
    p.both(&["SADD", "set", "m1", "m2", "m3"]);
    let mut history: Vec<(Vec<String>, String)> = Vec::new();
    let mut errors = 0;
    for i in 0..commands {
        let cmd = g.command();
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let (want, got) = p.both(&args);
        if args[0] == "ZRANDMEMBER" {
            // Which members come back is random: exact only for errors and empty replies,
            // otherwise the reply's type and size must agree.
            let exact = want.starts_with('-') || want == "*0\r\n" || want == "$-1\r\n";
            if exact || !want.starts_with('*') {
                assert_eq!(
                    want.as_bytes()[0],
                    got.as_bytes()[0],
                    "seed {seed} step {i}: {args:?}"
                );
            }
            if exact || want.starts_with('*') {
                assert_eq!(
                    want.lines().next(),
                    got.lines().next(),
                    "seed {seed} step {i}: {args:?}"
                );
            }
            if exact {
                assert_eq!(want, got, "seed {seed} step {i}: {args:?}");
            }
            continue;
        }
        if want != got {
            for (a, r) in &history {
                eprintln!("{a:?} => {r:?}");
            }
        }
        assert_eq!(want, got, "seed {seed} step {i}: {args:?}");
        if history.len() == 200 {
            history.remove(0);
        }
        if want.starts_with('-') {
            errors += 1;
        }
        history.push((cmd.clone(), want));
    }
    eprintln!("seed {seed}: {errors} of {commands} replies were errors");
}

#[test]
fn differential_listpack_sets_match_redis() {
    for seed in [1u64, 2, 3, 4] {
        run_differential(seed, 3000, &[], false, seed % 2 == 0, 12);
    }
}

#[test]
fn differential_skiplist_sets_match_redis() {
    for seed in [11u64, 12, 13, 14] {
        let cfg = ["--zset-max-listpack-entries", "3"];
        run_differential(seed, 3000, &cfg, true, seed % 2 == 0, 12);
    }
}

#[test]
fn zscan_walks_a_big_set_completely() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let mut args: Vec<String> = vec!["ZADD".into(), "big".into()];
    for i in 0..500 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(c.cmd(&a), ":500\r\n");
    let mut cl = s.client();
    let mut seen = std::collections::HashSet::new();
    let mut cursor: u64 = 0;
    let mut steps = 0;
    loop {
        let (next, items): (u64, Vec<String>) = redis::cmd("ZSCAN")
            .arg("big")
            .arg(cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut cl)
            .unwrap();
        for pair in items.chunks(2) {
            let i: usize = pair[0][1..].parse().unwrap();
            assert_eq!(pair[1], i.to_string());
            seen.insert(i);
        }
        // Members removed mid-scan must not make the scan skip the ones that stay.
        if steps == 3 {
            let r: i64 = redis::cmd("ZREMRANGEBYRANK")
                .arg("big")
                .arg(0)
                .arg(99)
                .query(&mut cl)
                .unwrap();
            assert_eq!(r, 100);
        }
        steps += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert!(steps > 10, "a skiplist set is scanned in steps");
    assert!((100..500).all(|i| seen.contains(&i)));
    let r: (u64, Vec<String>) = redis::cmd("ZSCAN")
        .arg("big")
        .arg(0)
        .arg("MATCH")
        .arg("m49?")
        .arg("COUNT")
        .arg(1000)
        .query(&mut cl)
        .unwrap();
    assert_eq!(r.0, 0);
    assert_eq!(r.1.len(), 20);
}

#[test]
fn differential_growing_sets_match_redis() {
    // Many distinct members and a low limit: sets grow well past the conversion point.
    for seed in [21u64, 22] {
        let cfg = ["--zset-max-listpack-entries", "16"];
        run_differential(seed, 4000, &cfg, true, seed % 2 == 0, 80);
    }
}

#[test]
fn zrank_withscore() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    c.cmd(&["ZADD", "z", "1.5", "a", "2", "b"]);
    assert_eq!(
        c.cmd(&["ZRANK", "z", "b", "WITHSCORE"]),
        "*2\r\n:1\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        c.cmd(&["ZREVRANK", "z", "b", "WITHSCORE"]),
        "*2\r\n:0\r\n$1\r\n2\r\n"
    );
    assert_eq!(c.cmd(&["ZRANK", "z", "nope", "WITHSCORE"]), "*-1\r\n");
    assert_eq!(c.cmd(&["ZRANK", "z", "a"]), ":0\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["ZRANK", "z", "a", "WITHSCORE"]),
        "*2\r\n:0\r\n,1.5\r\n"
    );
}

/// Sets of tens of thousands of members (a B+tree three levels deep, with splits, merges and
/// emptied leaves), compared with redis-server after every kind of change: in-order and random
/// fills, equal-score runs ordered by member, score moves, removals by member, rank, score and
/// lex, pops from both ends, and rank/range/count queries all over the set.
#[test]
fn differential_deep_sets_match_redis() {
    let Some(mut p) = Pair::start(&[]) else {
        return;
    };
    let mut rng = fastrand::Rng::with_seed(41);
    // Member i's name; every fifth is too long to sit inside its record.
    let name = |i: u32| {
        if i.is_multiple_of(5) {
            format!("member-with-a-long-name-{i:06}")
        } else {
            format!("m{i:06}")
        }
    };
    let fill = |p: &mut Pair,
                key: &str,
                members: std::ops::Range<u32>,
                score: &mut dyn FnMut(u32) -> String| {
        let ids: Vec<u32> = members.collect();
        for chunk in ids.chunks(500) {
            let mut args = vec!["ZADD".to_string(), key.to_string()];
            for &i in chunk {
                args.push(score(i));
                args.push(name(i));
            }
            let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let (want, got) = p.both(&a);
            assert_eq!(want, got, "{:?}", &a[..4]);
        }
    };
    // In order (appends), random scores with many ties, and one score for all (lex order).
    fill(&mut p, "seq", 0..30_000, &mut |i| i.to_string());
    fill(&mut p, "rnd", 0..30_000, &mut |_| {
        rng.u32(..2000).to_string()
    });
    fill(&mut p, "lex", 0..20_000, &mut |_| "0".to_string());
    let check = |p: &mut Pair, args: &[String]| {
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let (want, got) = p.both(&a);
        assert_eq!(want, got, "{a:?}");
    };
    let mut q = fastrand::Rng::with_seed(42);
    for round in 0..40 {
        let key = ["seq", "rnd", "lex"][round % 3];
        // Changes: score moves, removals of scattered members and of runs by rank, score
        // and lex, pops from both ends.
        let mut args = vec!["ZADD".to_string(), key.to_string()];
        for _ in 0..300 {
            args.push(if key == "lex" {
                "0".into()
            } else {
                q.u32(..3000).to_string()
            });
            args.push(name(q.u32(..30_000)));
        }
        check(&mut p, &args);
        let mut args = vec!["ZREM".to_string(), key.to_string()];
        for _ in 0..400 {
            args.push(name(q.u32(..30_000)));
        }
        check(&mut p, &args);
        let a = q.i32(0..15_000);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        check(
            &mut p,
            &s(&[
                "ZREMRANGEBYRANK",
                key,
                &a.to_string(),
                &(a + q.i32(0..2000)).to_string(),
            ]),
        );
        if key == "lex" {
            let lo = name(q.u32(..30_000));
            let hi = name(q.u32(..30_000));
            check(
                &mut p,
                &s(&["ZREMRANGEBYLEX", key, &format!("[{lo}"), &format!("({hi}")]),
            );
            check(&mut p, &s(&["ZLEXCOUNT", key, &format!("({lo}"), "+"]));
            check(
                &mut p,
                &s(&[
                    "ZRANGE",
                    key,
                    &format!("[{lo}"),
                    "+",
                    "BYLEX",
                    "LIMIT",
                    "5",
                    "20",
                ]),
            );
        } else {
            let lo = q.u32(..3000);
            check(
                &mut p,
                &s(&[
                    "ZREMRANGEBYSCORE",
                    key,
                    &lo.to_string(),
                    &format!("({}", lo + q.u32(..30)),
                ]),
            );
            check(&mut p, &s(&["ZCOUNT", key, &format!("({lo}"), "+inf"]));
            check(
                &mut p,
                &s(&[
                    "ZRANGE",
                    key,
                    &format!("{}", lo / 2),
                    &format!("({lo}"),
                    "BYSCORE",
                    "WITHSCORES",
                    "LIMIT",
                    "3",
                    "40",
                ]),
            );
            check(
                &mut p,
                &s(&[
                    "ZRANGE",
                    key,
                    "+inf",
                    &format!("{lo}"),
                    "BYSCORE",
                    "REV",
                    "LIMIT",
                    "0",
                    "30",
                ]),
            );
        }
        check(&mut p, &s(&["ZPOPMIN", key, &q.u32(..50).to_string()]));
        check(&mut p, &s(&["ZPOPMAX", key, &q.u32(..50).to_string()]));
        // Queries all over the set.
        check(&mut p, &s(&["ZCARD", key]));
        for _ in 0..20 {
            let m = name(q.u32(..30_000));
            check(&mut p, &s(&["ZRANK", key, &m]));
            check(&mut p, &s(&["ZREVRANK", key, &m]));
            check(&mut p, &s(&["ZSCORE", key, &m]));
        }
        let r = q.i32(-20_000..20_000);
        check(
            &mut p,
            &s(&[
                "ZRANGE",
                key,
                &r.to_string(),
                &(r + 50).to_string(),
                "WITHSCORES",
            ]),
        );
        check(
            &mut p,
            &s(&["ZRANGE", key, &r.to_string(), &(r + 50).to_string(), "REV"]),
        );
    }
    // Whole sets at the end, element by element.
    for key in ["seq", "rnd", "lex"] {
        let (want, got) = p.both(&["ZRANGE", key, "0", "-1", "WITHSCORES"]);
        assert!(want == got, "{key}: whole set differs");
    }
}

/// used_memory (jemalloc's allocated bytes) from INFO memory.
fn used_memory(c: &mut Raw) -> i64 {
    let info = c.cmd(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .expect("used_memory in INFO")
        .trim()
        .parse()
        .expect("a number")
}

/// A big sorted set that loses almost all its members by rank gives the memory back (its
/// records, tree nodes and index), as redis-server does, while the members left stay intact.
#[test]
fn a_big_set_emptied_by_rank_gives_memory_back() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let before = used_memory(&mut c);
    for batch in 0..200 {
        let mut args = vec!["ZADD".to_string(), "big".to_string()];
        for i in batch * 1000..(batch + 1) * 1000 {
            args.push(i.to_string());
            args.push(format!("member:{i}"));
        }
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&a), ":1000\r\n");
    }
    let full = used_memory(&mut c);
    assert!(
        full - before > 8_000_000,
        "200k members took {} bytes",
        full - before
    );
    assert_eq!(
        c.cmd(&["ZREMRANGEBYRANK", "big", "100", "-1"]),
        ":199900\r\n"
    );
    let after = used_memory(&mut c);
    assert!(
        (after - before) * 10 < full - before,
        "grew by {}, still holds {} after removal",
        full - before,
        after - before
    );
    assert_eq!(c.cmd(&["ZCARD", "big"]), ":100\r\n");
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "98", "-1", "WITHSCORES"]),
        "*4\r\n$9\r\nmember:98\r\n$2\r\n98\r\n$9\r\nmember:99\r\n$2\r\n99\r\n"
    );
    assert_eq!(c.cmd(&["ZSCORE", "big", "member:42"]), "$2\r\n42\r\n");
    assert_eq!(c.cmd(&["ZRANK", "big", "member:99"]), ":99\r\n");
}
