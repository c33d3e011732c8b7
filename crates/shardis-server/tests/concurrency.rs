//! Many clients at once: counters stay exact, multi-key writes are seen whole.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn hundred_clients_thousand_incr_each() {
    let s = Server::start(&[]);
    let port = s.port;
    let threads: Vec<_> = (0..100)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                // Half pipelined in batches, half one at a time: both paths must be exact.
                for _ in 0..10 {
                    let mut batch = Vec::new();
                    for _ in 0..50 {
                        batch.extend(encode(&[b"INCR", b"counter"]));
                    }
                    c.send(&batch);
                    for _ in 0..50 {
                        assert!(c.read_reply().starts_with(':'));
                    }
                }
                for _ in 0..500 {
                    assert!(c.cmd(&["INCR", "counter"]).starts_with(':'));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.raw().cmd(&["GET", "counter"]), "$6\r\n100000\r\n");
}

#[test]
fn mset_is_seen_whole_by_concurrent_readers() {
    let s = Server::start(&[]);
    let port = s.port;
    // Keys chosen to land in many different shards.
    let keys: Vec<String> = (0..16).map(|i| format!("acct:{i}:{}", i * 7919)).collect();
    let done = Arc::new(AtomicBool::new(false));
    let mut writer = s.raw();
    let mut first: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for k in &keys {
        first.push(k.clone().into_bytes());
        first.push(b"0".to_vec());
    }
    let refs: Vec<&[u8]> = first.iter().map(|v| &v[..]).collect();
    writer.send_cmd(&refs);
    assert_eq!(writer.read_reply(), "+OK\r\n");
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let keys = keys.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut mget: Vec<&[u8]> = vec![b"MGET"];
                mget.extend(keys.iter().map(|k| k.as_bytes()));
                let mut reads = 0;
                while !done.load(Ordering::Relaxed) || reads < 100 {
                    c.send_cmd(&mget);
                    let reply = c.read_reply();
                    let values: Vec<&str> = reply
                        .split("\r\n")
                        .skip(1)
                        .filter(|l| !l.starts_with('$') && !l.is_empty())
                        .collect();
                    assert_eq!(values.len(), keys.len(), "{reply}");
                    assert!(
                        values.iter().all(|v| *v == values[0]),
                        "torn MSET seen: {values:?}"
                    );
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for round in 1..=3000 {
        let v = round.to_string();
        let mut cmd: Vec<&[u8]> = vec![b"MSET"];
        for k in &keys {
            cmd.push(k.as_bytes());
            cmd.push(v.as_bytes());
        }
        writer.send_cmd(&cmd);
        assert_eq!(writer.read_reply(), "+OK\r\n");
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() >= 100);
    }
}

#[test]
fn multi_key_del_and_rename_under_contention_stay_consistent() {
    let s = Server::start(&[]);
    let port = s.port;
    // Several clients rename one token around a ring of keys; exactly one key holds it.
    let ring: Vec<String> = (0..8).map(|i| format!("ring{i}")).collect();
    s.raw().cmd(&["SET", "ring0", "token"]);
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut rng = fastrand::Rng::with_seed(w);
                for _ in 0..2000 {
                    let a = &ring[rng.usize(..ring.len())];
                    let b = &ring[rng.usize(..ring.len())];
                    let r = c.cmd(&["RENAME", a, b]);
                    assert!(r == "+OK\r\n" || r == "-ERR no such key\r\n", "{r}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut c = s.raw();
    let mut exists: Vec<&str> = vec!["EXISTS"];
    exists.extend(ring.iter().map(|s| s.as_str()));
    assert_eq!(c.cmd(&exists), ":1\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":1\r\n");
}
