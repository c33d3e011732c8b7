//! Client-side caching: CLIENT TRACKING (default, BCAST, OPTIN, OPTOUT, NOLOOP, REDIRECT),
//! CLIENT CACHING/GETREDIR/TRACKINGINFO, and invalidation messages in RESP3 and through a
//! RESP2 redirect, compared with redis-server; and the redis crate's RESP3 push stream.

mod common;
use common::*;

/// Whether a reply frame is a push or Pub/Sub message rather than a command's reply.
fn is_message(frame: &str) -> bool {
    frame.starts_with('>') || frame.starts_with("*3\r\n$7\r\nmessage\r\n")
}

/// Sends a command and reads frames up to and including its reply, so messages delivered
/// before the reply are part of what is compared.
fn cmd_collect(c: &mut Raw, args: &[&str]) -> String {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send_cmd(&a);
    let mut all = String::new();
    loop {
        let f = c.read_reply();
        all.push_str(&f);
        if !is_message(&f) || args[0].eq_ignore_ascii_case("subscribe") {
            return all;
        }
    }
}

/// Runs `N|command` lines on up to three connections. `$ID1` in a command is replaced by
/// connection 1's id; replies to HELLO and CLIENT ID differ between servers and are hidden.
fn run(port: u16, script: &str) -> Vec<String> {
    let mut conns: Vec<Raw> = (0..3).map(|_| Raw::connect(port)).collect();
    let id1 = conns[0].cmd(&["CLIENT", "ID"]);
    let id1 = id1.trim_start_matches(':').trim().to_string();
    let mut out = Vec::new();
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (who, cmd) = line.split_once('|').unwrap();
        let cmd = cmd.replace("$ID1", &id1);
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let c = &mut conns[who.parse::<usize>().unwrap() - 1];
        let reply = cmd_collect(c, &args);
        let reply = if args[0] == "HELLO" {
            "(hello)".into()
        } else {
            reply
        };
        let reply = if args[0] == "CLIENT" {
            reply.replace(&format!(":{id1}\r\n"), ":$ID1\r\n")
        } else {
            reply
        };
        out.push(format!("{line} => {reply:?}"));
    }
    out
}

fn differential(scripts: &[&str]) {
    compare_scripts(scripts, run);
}

#[test]
fn default_mode_invalidations_match_redis() {
    differential(&[
        "2|FLUSHALL
         1|HELLO 3
         1|CLIENT TRACKING ON
         1|GET a
         1|SET a 1
         1|GET a
         2|SET a 2
         1|PING
         2|SET a 3
         1|PING
         1|MGET a b c
         1|HGET h f
         1|SMEMBERS s
         2|MSET a 1 b 2 c 3
         2|HSET h f 1
         2|SADD s x
         1|PING
         1|CLIENT TRACKINGINFO
         1|CLIENT GETREDIR
         1|GET x
         1|ZSCORE z m
         2|FLUSHDB
         1|PING
         1|CLIENT TRACKING OFF
         1|GET y
         2|SET y 1
         1|PING
         1|CLIENT GETREDIR",
        // OPTIN, OPTOUT and NOLOOP.
        "2|FLUSHALL
         1|HELLO 3
         1|CLIENT TRACKING ON OPTIN
         1|GET k1
         1|CLIENT CACHING YES
         1|CLIENT TRACKINGINFO
         1|GET k2
         1|GET k3
         2|MSET k1 1 k2 2 k3 3
         1|PING
         1|CLIENT CACHING NO
         1|CLIENT TRACKING OFF
         1|CLIENT TRACKING ON OPTOUT
         1|GET o1
         1|CLIENT CACHING NO
         1|GET o2
         2|MSET o1 1 o2 2
         1|PING
         1|CLIENT TRACKING OFF
         1|CLIENT TRACKING ON NOLOOP
         1|GET n
         1|SET n 1
         1|PING
         1|GET n
         2|SET n 2
         1|PING",
        // BCAST with and without prefixes.
        "2|FLUSHALL
         1|HELLO 3
         1|CLIENT TRACKING ON BCAST PREFIX a PREFIX b
         1|CLIENT TRACKINGINFO
         2|SET abc 1
         2|SET zzz 1
         2|SET bbb 1
         1|PING
         1|SET axe 1
         1|CLIENT TRACKING OFF
         1|CLIENT TRACKING ON BCAST
         2|SET anything 1
         1|PING
         1|CLIENT TRACKINGINFO",
        // RESP2 through a redirect to a subscribed connection, and a broken redirect.
        "2|FLUSHALL
         1|SUBSCRIBE __redis__:invalidate
         2|CLIENT TRACKING ON REDIRECT $ID1
         2|CLIENT GETREDIR
         2|GET r
         3|SET r 1
         1|PING
         2|GET r
         2|SET r 2
         1|PING
         3|FLUSHALL
         1|PING
         2|CLIENT TRACKINGINFO",
    ]);
}

#[test]
fn tracking_errors_match_redis() {
    differential(&["1|CLIENT TRACKING ON BCAST PREFIX a
         1|CLIENT TRACKING ON BCAST PREFIX a
         1|CLIENT TRACKING ON BCAST PREFIX b PREFIX bc
         1|CLIENT TRACKING ON
         1|CLIENT TRACKING ON BCAST OPTIN
         1|CLIENT TRACKING ON BCAST REDIRECT 999999 REDIRECT 2
         1|CLIENT TRACKING ON BCAST FOO
         1|CLIENT TRACKING MAYBE
         1|CLIENT TRACKING ON REDIRECT x
         1|CLIENT TRACKINGINFO
         1|CLIENT TRACKING OFF
         1|CLIENT TRACKING ON PREFIX a
         1|CLIENT TRACKING ON OPTIN OPTOUT
         1|CLIENT TRACKING ON OPTIN
         1|CLIENT TRACKING ON OPTOUT
         1|CLIENT TRACKING ON OPTIN NOLOOP
         1|CLIENT CACHING maybe
         1|CLIENT CACHING NO
         1|CLIENT TRACKINGINFO
         1|CLIENT TRACKING OFF
         1|CLIENT CACHING YES
         1|CLIENT GETREDIR
         1|CLIENT TRACKINGINFO"]);
}

#[test]
fn broken_redirect_is_reported_once_and_flagged() {
    let s = Server::start(&[]);
    let mut target = s.raw();
    let id = target.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim().to_string();
    let mut c = s.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &id]),
        "+OK\r\n"
    );
    c.cmd(&["GET", "k"]);
    drop(target);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut w = s.raw();
    w.cmd(&["SET", "k", "1"]);
    let push = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n");
    assert_eq!(c.read_reply(), push);
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\n1\r\n");
    w.cmd(&["SET", "k", "2"]);
    // Reported once: the next reply is the PING's.
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    let list = c.cmd(&["CLIENT", "INFO"]);
    assert!(list.contains(" flags=tR "), "{list}");
    assert!(list.contains(&format!(" redir={id} ")), "{list}");
    // RESET turns tracking off.
    c.cmd(&["RESET"]);
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), ":-1\r\n");
}

/// A reader that serves GETs from a cache kept only by invalidations never serves a value
/// older than a write that had completed before it last synchronized with the server: the
/// invalidation of every finished write reaches it before the reply to any later command.
#[test]
fn a_cache_kept_by_invalidations_stays_correct() {
    use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
    use std::sync::Arc;
    const KEYS: usize = 20;
    let s = Server::start(&[]);
    let port = s.port;
    let mut init = s.raw();
    for k in 0..KEYS {
        init.cmd(&["SET", &format!("k{k}"), "-1"]);
    }
    let done: Arc<Vec<AtomicI64>> = Arc::new((0..KEYS).map(|_| AtomicI64::new(-1)).collect());
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                c.cmd(&["HELLO", "3"]);
                c.cmd(&["CLIENT", "TRACKING", "ON"]);
                let mut cache: std::collections::HashMap<String, i64> = Default::default();
                let mut hits = 0;
                // Reads frames up to the reply, applying invalidations on the way.
                let reply = |c: &mut Raw, cache: &mut std::collections::HashMap<String, i64>| loop {
                    let f = c.read_reply();
                    if !f.starts_with('>') {
                        return f;
                    }
                    let Reply::Arr(parts) = parse(&f.replacen('>', "*", 1)) else {
                        panic!("{f}")
                    };
                    for k in bulks(&parts[1]) {
                        cache.remove(&k);
                    }
                };
                for i in 0..3000 {
                    let k = i % KEYS;
                    let key = format!("k{k}");
                    let finished = done[k].load(SeqCst);
                    c.send_cmd(&[b"PING"]);
                    assert_eq!(reply(&mut c, &mut cache), "+PONG\r\n");
                    if let Some(&v) = cache.get(&key) {
                        hits += 1;
                        assert!(
                            v >= finished,
                            "{key}: cache serves {v}, write {finished} done"
                        );
                        continue;
                    }
                    c.send_cmd(&[b"GET", key.as_bytes()]);
                    let v = bulks(&parse(&format!("*1\r\n{}", reply(&mut c, &mut cache))));
                    cache.insert(key, v[0].parse().unwrap());
                }
                hits
            })
        })
        .collect();
    let writer = std::thread::spawn(move || {
        let mut c = Raw::connect(port);
        for i in 0..4000i64 {
            let k = i as usize % KEYS;
            assert_eq!(c.cmd(&["SET", &format!("k{k}"), &i.to_string()]), "+OK\r\n");
            done[k].store(i, SeqCst);
        }
    });
    writer.join().unwrap();
    let hits: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(hits > 0, "the readers never used their caches");
}

/// The redis crate over RESP3 receives tracking invalidations as `Invalidate` pushes.
#[tokio::test]
async fn redis_crate_receives_invalidation_pushes() {
    let s = Server::start(&[]);
    let url = format!("redis://127.0.0.1:{}/?protocol=resp3", s.port);
    let client = redis::Client::open(url).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut con = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    redis::cmd("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .query_async::<()>(&mut con)
        .await
        .unwrap();
    let _: Option<String> = redis::cmd("GET")
        .arg("cached")
        .query_async(&mut con)
        .await
        .unwrap();
    let mut other = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg("cached")
        .arg("new")
        .query_async::<()>(&mut other)
        .await
        .unwrap();
    let push = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("no invalidation within 5 s")
        .unwrap();
    assert_eq!(push.kind, redis::PushKind::Invalidate);
    assert_eq!(
        push.data,
        vec![redis::Value::Array(vec![redis::Value::BulkString(
            b"cached".to_vec()
        )])]
    );
}

/// Invalidations count against the normal class of client-output-buffer-limit: a tracking
/// client that stops reading is cut off instead of growing the server's memory.
#[test]
fn a_tracking_client_that_never_reads_is_cut_off() {
    let s = Server::start(&[]);
    let mut admin = s.raw();
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 0 0"
        ]),
        "+OK\r\n"
    );
    let mut stuck = s.raw();
    stuck.cmd(&["HELLO", "3"]);
    stuck.cmd(&["CLIENT", "SETNAME", "stuck"]);
    assert_eq!(stuck.cmd(&["CLIENT", "TRACKING", "ON", "BCAST"]), "+OK\r\n");
    // About 40 MB of invalidations: far more than socket buffers absorb.
    let pad = "k".repeat(180);
    for batch in 0..2000 {
        let keys: Vec<String> = (0..100).map(|i| format!("{pad}{batch}:{i}")).collect();
        let mut args = vec!["MSET"];
        for k in &keys {
            args.push(k);
            args.push("v");
        }
        assert_eq!(admin.cmd(&args), "+OK\r\n");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin.cmd(&["CLIENT", "LIST"]).contains("name=stuck") {
        assert!(
            std::time::Instant::now() < deadline,
            "the stuck client was never cut off"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}
