//! Cross-type differential test: a seeded random mix of write commands of every family on
//! the same few keys (so types collide: WRONGTYPE, emptied keys, RENAME/COPY/MOVE across
//! types, transactions) goes to redis-server and to shardis; every reply must match, and so
//! must the final contents. SPOP is left out: its choice is random in both servers.

mod common;
use common::*;

#[test]
fn cross_type_random_mix_matches_redis() {
    let Some((redis, ours)) = redis_and_shardis() else {
        return;
    };
    let (mut r, mut o) = (redis.raw(), ours.raw());
    let mut diffs = Vec::new();
    for seed in 10..14u64 {
        for line in random_writes(seed, 1500)
            .iter()
            .filter(|l| !l.starts_with("SPOP"))
        {
            let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            r.send_cmd(&words);
            o.send_cmd(&words);
            let (a, b) = (r.read_reply(), o.read_reply());
            if a != b && diffs.len() < 20 {
                diffs.push(format!(
                    "seed {seed}: {line}\n  redis:   {a:?}\n  shardis: {b:?}"
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    for db in 0..3 {
        let sel = db.to_string();
        r.cmd(&["SELECT", &sel]);
        o.cmd(&["SELECT", &sel]);
        let keys = sorted_reply(&r.cmd(&["KEYS", "*"]));
        assert_eq!(keys, sorted_reply(&o.cmd(&["KEYS", "*"])), "db {db} keys");
        for k in 0..10 {
            let k = format!("k{k}");
            for cmd in [["TYPE", &k], ["OBJECT", "ENCODING"], ["PTTL", &k]] {
                let args: Vec<&str> = if cmd[0] == "OBJECT" {
                    vec!["OBJECT", "ENCODING", &k]
                } else {
                    cmd.to_vec()
                };
                let (a, b) = (r.cmd(&args), o.cmd(&args));
                if args[0] == "PTTL" {
                    // Both expire or not; the remaining milliseconds may differ by a few.
                    assert_eq!(a.starts_with(":-"), b.starts_with(":-"), "db {db} {k} PTTL");
                } else {
                    assert_eq!(a, b, "db {db} {args:?}");
                }
            }
        }
    }
}
