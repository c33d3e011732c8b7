//! Lists: every non-blocking list command against redis-server (seeded differential mix,
//! malformed input and wrong types included), plus RESP3 shapes and a big list.

mod common;
use common::*;

fn gen(rng: &mut fastrand::Rng) -> Vec<String> {
    let pick = |rng: &mut fastrand::Rng, v: &[&str]| v[rng.usize(..v.len())].to_string();
    let key = |rng: &mut fastrand::Rng| format!("l{}", rng.usize(..4));
    let val = |rng: &mut fastrand::Rng| {
        pick(
            rng,
            &[
                "a",
                "b",
                "c",
                "",
                "1",
                "x y",
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            ],
        )
    };
    let idx = |rng: &mut fastrand::Rng| match rng.u8(..8) {
        0 => pick(
            rng,
            &["abc", "9223372036854775807", "-9223372036854775808", "1.5"],
        ),
        _ => rng.i64(-8..8).to_string(),
    };
    let k = key(rng);
    let s = |x: &str| x.to_string();
    match rng.u8(..30) {
        0..=3 => {
            let mut c = vec![pick(rng, &["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k];
            for _ in 0..rng.usize(1..4) {
                c.push(val(rng));
            }
            c
        }
        4..=6 => {
            let mut c = vec![pick(rng, &["LPOP", "RPOP"]), k];
            if rng.bool() {
                c.push(pick(rng, &["0", "1", "2", "5", "-1", "x"]));
            }
            c
        }
        7 => vec![s("LLEN"), k],
        8..=10 => vec![s("LRANGE"), k, idx(rng), idx(rng)],
        11 => vec![s("LINDEX"), k, idx(rng)],
        12 => vec![s("LSET"), k, idx(rng), val(rng)],
        13 => vec![
            s("LINSERT"),
            k,
            pick(rng, &["BEFORE", "after", "middle"]),
            val(rng),
            val(rng),
        ],
        14 => vec![s("LREM"), k, idx(rng), val(rng)],
        15 => vec![s("LTRIM"), k, idx(rng), idx(rng)],
        16 | 17 => {
            let mut c = vec![s("LPOS"), k, val(rng)];
            for _ in 0..rng.usize(0..3) {
                c.push(pick(rng, &["RANK", "COUNT", "MAXLEN", "bogus"]));
                c.push(pick(rng, &["0", "1", "2", "-1", "-2", "x"]));
            }
            c
        }
        18 | 19 => vec![
            s("LMOVE"),
            k,
            key(rng),
            pick(rng, &["LEFT", "right", "up"]),
            pick(rng, &["left", "RIGHT"]),
        ],
        20 => vec![s("RPOPLPUSH"), k, key(rng)],
        21 | 22 => {
            let n = rng.usize(0..4);
            let mut c = vec![
                s("LMPOP"),
                if rng.u8(..10) == 0 {
                    s("x")
                } else {
                    n.to_string()
                },
            ];
            for _ in 0..n {
                c.push(key(rng));
            }
            c.push(pick(rng, &["LEFT", "RIGHT", "middle"]));
            if rng.bool() {
                c.push(pick(rng, &["COUNT", "count", "LIMIT"]));
                c.push(pick(rng, &["1", "3", "0", "-1"]));
            }
            c
        }
        23 => vec![s("SET"), k, s("str")],
        24 => vec![s("DEL"), k],
        25 => vec![s("TYPE"), k],
        26 => vec![s("OBJECT"), s("ENCODING"), k],
        27 => vec![s("LPUSH"), k],
        28 => vec![s("EXISTS"), k],
        _ => vec![s("GET"), k],
    }
}

#[test]
fn random_list_commands_match_redis() {
    for seed in [11, 12, 13] {
        let Some(mut p) = Pair::start(&[]) else {
            return;
        };
        let mut rng = fastrand::Rng::with_seed(seed);
        for i in 0..4000 {
            let cmd = gen(&mut rng);
            let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
            let (a, b) = p.both(&args);
            assert_eq!(b, a, "seed {seed}, command #{i}: {cmd:?}");
        }
        for k in ["l0", "l1", "l2", "l3"] {
            let (a, b) = p.both(&["LRANGE", k, "0", "-1"]);
            assert_eq!(b, a, "seed {seed}: final {k}");
        }
    }
}

#[test]
fn list_replies_in_resp3_and_wrong_types() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["LPOP", "nolist"]), "_\r\n");
    assert_eq!(c.cmd(&["LPOP", "nolist", "2"]), "_\r\n");
    assert_eq!(c.cmd(&["LMPOP", "1", "nolist", "LEFT"]), "_\r\n");
    assert_eq!(c.cmd(&["LPOS", "l", "zz"]), "_\r\n");
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nolist", "l", "RIGHT", "COUNT", "2"]),
        "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    c.cmd(&["SET", "s", "x"]);
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert_eq!(c.cmd(&["LPUSH", "s", "a"]), wrongtype);
    assert_eq!(c.cmd(&["GET", "l"]), wrongtype);
    assert_eq!(c.cmd(&["LMOVE", "l", "s", "LEFT", "LEFT"]), wrongtype);
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        "*1\r\n$1\r\na\r\n",
        "nothing moved to a wrong type"
    );
    assert_eq!(c.cmd(&["LPOP", "l"]), "$1\r\na\r\n");
    assert_eq!(
        c.cmd(&["EXISTS", "l"]),
        ":0\r\n",
        "an emptied list disappears"
    );
    assert_eq!(c.cmd(&["TYPE", "s"]), "+string\r\n");
}

#[test]
fn a_big_list() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let mut batch = Vec::new();
    for i in 0..200_000 {
        batch.extend(encode(&[b"RPUSH", b"big", i.to_string().as_bytes()]));
    }
    c.send(&batch);
    for i in 0..200_000 {
        assert_eq!(c.read_reply(), format!(":{}\r\n", i + 1));
    }
    assert_eq!(c.cmd(&["LINDEX", "big", "100000"]), "$6\r\n100000\r\n");
    assert_eq!(c.cmd(&["LINDEX", "big", "-1"]), "$6\r\n199999\r\n");
    assert_eq!(
        c.cmd(&["LRANGE", "big", "-2", "-1"]),
        "*2\r\n$6\r\n199998\r\n$6\r\n199999\r\n"
    );
    assert_eq!(c.cmd(&["LPOS", "big", "150000"]), ":150000\r\n");
    assert_eq!(c.cmd(&["LTRIM", "big", "1000", "-1000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LLEN", "big"]), ":198001\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "big"]), "$9\r\nquicklist\r\n");
    assert_eq!(c.cmd(&["UNLINK", "big"]), ":1\r\n");
}
