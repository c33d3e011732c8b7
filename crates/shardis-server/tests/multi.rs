//! Transactions: MULTI/EXEC/DISCARD/WATCH replies against redis-server, atomicity of EXEC
//! across shards and databases under concurrent clients, WATCH races, blocking commands
//! inside MULTI, and the redis crate's atomic pipelines.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Runs a script on a server: lines `N|command args` sent on connection N (1 or 2), or
/// `sleep|seconds`. Returns every reply, labelled with its line.
fn run_script(port: u16, script: &str) -> Vec<String> {
    let mut conns: Vec<Raw> = vec![Raw::connect(port), Raw::connect(port)];
    let mut out = Vec::new();
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (who, cmd) = line.split_once('|').expect("N|command");
        if who == "sleep" {
            std::thread::sleep(Duration::from_secs_f64(cmd.parse().unwrap()));
            continue;
        }
        let c = &mut conns[who.parse::<usize>().unwrap() - 1];
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let reply = c.cmd(&args);
        // HELLO's reply carries the connection id, which differs between servers.
        let reply = if args[0] == "HELLO" {
            "(hello)".into()
        } else {
            reply
        };
        out.push(format!("{line} => {reply:?}"));
    }
    out
}

/// Runs each script on redis-server and shardis and compares every reply.
fn differential(scripts: &[&str]) {
    compare_scripts(scripts, run_script);
}

#[test]
fn queueing_errors_and_replies_match_redis() {
    differential(&[
        "1|FLUSHALL
         1|MULTI
         1|MULTI
         1|WATCH x
         1|SET a
         1|FOO bar
         1|EXEC
         1|EXEC
         1|DISCARD
         1|MULTI
         1|SET a 1
         1|INCR a
         1|LPUSH a b
         1|GET a
         1|EXEC
         1|MULTI
         1|DISCARD
         1|GET a
         1|MULTI
         1|SELECT 2
         1|SET q 1
         1|EXEC
         1|GET q
         1|SELECT 0
         1|GET q
         1|MULTI
         1|SELECT 99
         1|SET q 2
         1|EXEC
         1|MULTI
         1|KEYS a*
         1|DBSIZE
         1|SWAPDB 0 2
         1|DBSIZE
         1|FLUSHALL
         1|EXEC
         1|MULTI
         1|EXEC
         1|MULTI
         1|PING
         1|UNWATCH
         1|ECHO hi
         1|EXEC",
        // Queue-time errors: unknown command and arity abort; a run-time error does not.
        "1|MULTI
         1|GET
         1|PING
         1|EXEC
         1|MULTI
         1|INCR a
         1|SET a x
         1|INCR a
         1|EXEC
         1|HELLO 3
         1|MULTI
         1|HSET h f 1
         1|HGETALL h
         1|ZADD z 1.5 m
         1|ZSCORE z m
         1|EXEC
         1|WATCH h
         1|SET h x
         1|MULTI
         1|PING
         1|EXEC",
        // Blocking commands inside MULTI act like their non-blocking forms.
        "1|FLUSHALL
         1|MULTI
         1|BLPOP nol 0
         1|BRPOPLPUSH nol x 0
         1|BLMOVE nol x LEFT LEFT 0
         1|BZPOPMIN noz 0
         1|BLMPOP 0 1 nol LEFT
         1|RPUSH l a b
         1|BLPOP l 0
         1|BRPOP l 0
         1|BLPOP l 0
         1|EXEC",
    ]);
}

#[test]
fn watch_semantics_match_redis() {
    differential(&[
        // Modified by another client, by itself, not modified, unwatched, after EXEC.
        "1|FLUSHALL
         1|WATCH x
         2|SET x 1
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x y z
         2|SET y 1
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         1|INCR x
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         1|UNWATCH
         2|SET x 2
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         1|MULTI
         1|PING
         1|EXEC
         2|SET x 3
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         2|DEL x
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         2|DEL x
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         1|MULTI
         1|DISCARD
         2|SET x 4
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH l
         2|RPUSH l a
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH l
         2|LPOP l
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH l
         2|LPOP l
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH r1 r2
         2|SET r1 v
         2|RENAME r1 r2
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH nokey
         2|DEL nokey
         2|SREM nokey a
         1|MULTI
         1|PING
         1|EXEC",
        // FLUSHALL, FLUSHDB and SWAPDB touch watched keys only where something changes.
        "1|FLUSHALL
         1|SET x 1
         1|WATCH x
         2|FLUSHALL
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         2|FLUSHALL
         1|MULTI
         1|PING
         1|EXEC
         1|SET x 1
         1|WATCH x
         2|SELECT 1
         2|FLUSHDB
         1|MULTI
         1|PING
         1|EXEC
         1|WATCH x
         2|SELECT 0
         2|FLUSHDB
         1|MULTI
         1|PING
         1|EXEC
         1|SET x 1
         1|WATCH x
         2|SWAPDB 0 1
         1|MULTI
         1|PING
         1|EXEC
         2|FLUSHALL
         1|WATCH x
         2|SWAPDB 0 1
         1|MULTI
         1|PING
         1|EXEC
         2|SELECT 1
         2|SET x 1
         1|WATCH x
         2|SWAPDB 0 1
         1|MULTI
         1|PING
         1|EXEC
         2|SELECT 0
         1|SELECT 3
         1|WATCH k
         1|SELECT 0
         2|SELECT 3
         2|SET k 1
         1|MULTI
         1|PING
         1|EXEC",
        // Expiry: a key watched live that expires fails EXEC; one already expired when
        // watched (stale) does not, unless it is written again.
        "1|FLUSHALL
         1|DEBUG SET-ACTIVE-EXPIRE 0
         1|SET x 1 PX 5
         1|WATCH x
         sleep|0.03
         1|MULTI
         1|PING
         1|EXEC
         1|SET y 1 PX 1
         sleep|0.02
         1|WATCH y
         1|MULTI
         1|PING
         1|EXEC
         1|SET y 1 PX 1
         sleep|0.02
         1|WATCH y
         2|DEL y
         1|MULTI
         1|PING
         1|EXEC
         1|SET y 1 PX 1
         sleep|0.02
         1|WATCH y
         2|SET y 2
         1|MULTI
         1|PING
         1|EXEC
         1|SET z 1 PX 1
         sleep|0.02
         1|WATCH z
         2|FLUSHALL
         1|MULTI
         1|PING
         1|EXEC
         1|SET w 1 PX 5
         1|WATCH w
         sleep|0.03
         2|GET w
         1|MULTI
         1|PING
         1|EXEC
         1|DEBUG SET-ACTIVE-EXPIRE 1",
    ]);
}

#[test]
fn client_list_and_reset_show_transaction_state() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    c.cmd(&["WATCH", "a", "b"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["GET", "a"]);
    let mut other = s.raw();
    let list = other.cmd(&["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.starts_with("id=") && !l.contains("cmd=client|list"))
        .expect("the other client");
    assert!(line.contains(" flags=x "), "{line}");
    assert!(line.contains(" multi=2 watch=2 "), "{line}");
    other.cmd(&["SET", "b", "x"]);
    let list = other.cmd(&["CLIENT", "LIST"]);
    assert!(list.contains(" flags=xd "), "{list}");
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    let list = other.cmd(&["CLIENT", "LIST"]);
    assert!(
        list.contains("flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 "),
        "{list}"
    );
    // RESET dropped the transaction and the watches: EXEC now has nothing to run.
    assert_eq!(c.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    other.cmd(&["SET", "a", "2"]);
    c.cmd(&["MULTI"]);
    assert_eq!(c.cmd(&["EXEC"]), "*0\r\n");
    // A client that disconnects while watching leaves nothing behind.
    let mut gone = s.raw();
    gone.cmd(&["WATCH", "a"]);
    drop(gone);
    std::thread::sleep(Duration::from_millis(100));
    other.cmd(&["SET", "a", "3"]);
    assert_eq!(other.cmd(&["GET", "a"]), "$1\r\n3\r\n");
}

/// Many clients move amounts between accounts spread over shards and databases with
/// MULTI/EXEC, while others observe with MGET, read-only transactions and SCAN inside a
/// transaction. Every observation must see the total unchanged.
#[test]
fn exec_is_atomic_across_shards_and_databases() {
    let s = Server::start(&[]);
    const ACCOUNTS: usize = 64;
    const TOTAL: i64 = ACCOUNTS as i64 * 100;
    let mut c = s.raw();
    for i in 0..ACCOUNTS {
        c.cmd(&["SET", &format!("acct:{i}"), "100"]);
    }
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["SET", "moves", "0"]);
    let stop = Arc::new(AtomicBool::new(false));
    let observations = Arc::new(AtomicU64::new(0));
    let port = s.port;
    let movers: Vec<_> = (0..6)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut rng = t as u64 * 7919 + 1;
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    rng = rng
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let a = (rng >> 33) as usize % ACCOUNTS;
                    let b = (rng >> 17) as usize % ACCOUNTS;
                    let amt = ((rng >> 40) % 50).to_string();
                    c.cmd(&["MULTI"]);
                    c.cmd(&["DECRBY", &format!("acct:{a}"), &amt]);
                    c.cmd(&["SELECT", "1"]);
                    c.cmd(&["INCR", "moves"]);
                    c.cmd(&["SELECT", "0"]);
                    c.cmd(&["INCRBY", &format!("acct:{b}"), &amt]);
                    let r = c.cmd(&["EXEC"]);
                    assert!(r.starts_with("*5\r\n"), "{r}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let keys: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
    let observers: Vec<_> = (0..3)
        .map(|kind| {
            let stop = stop.clone();
            let seen = observations.clone();
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let sum =
                    |r: &Reply| -> i64 { bulks(r).iter().map(|v| v.parse::<i64>().unwrap()).sum() };
                while !stop.load(Ordering::Relaxed) {
                    let total = match kind {
                        0 => {
                            let mut args = vec!["MGET"];
                            args.extend(keys.iter().map(String::as_str));
                            sum(&parse(&c.cmd(&args)))
                        }
                        1 => {
                            c.cmd(&["MULTI"]);
                            for k in &keys {
                                c.cmd(&["GET", k]);
                            }
                            sum(&parse(&c.cmd(&["EXEC"])))
                        }
                        _ => {
                            // SCAN inside a transaction holds every shard, so the page and
                            // the MGET after it are one instant.
                            c.cmd(&["MULTI"]);
                            c.cmd(&["SCAN", "0", "MATCH", "acct:*", "COUNT", "100000"]);
                            let mut args = vec!["MGET"];
                            args.extend(keys.iter().map(String::as_str));
                            c.cmd(&args);
                            let r = parse(&c.cmd(&["EXEC"]));
                            let Reply::Arr(parts) = r else {
                                panic!("{r:?}")
                            };
                            let Reply::Arr(page) = &parts[0] else {
                                panic!("{parts:?}")
                            };
                            assert_eq!(bulks(&page[1]).len(), ACCOUNTS);
                            sum(&parts[1])
                        }
                    };
                    assert_eq!(total, TOTAL, "observer {kind} saw a half-applied transfer");
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let moves: u64 = movers.into_iter().map(|h| h.join().unwrap()).sum();
    for o in observers {
        o.join().unwrap();
    }
    assert!(moves > 100, "only {moves} transfers ran");
    assert!(observations.load(Ordering::Relaxed) > 30);
    let mut args = vec!["MGET"];
    args.extend(keys.iter().map(String::as_str));
    let mut c = s.raw();
    assert_eq!(
        bulks(&parse(&c.cmd(&args)))
            .iter()
            .map(|v| v.parse::<i64>().unwrap())
            .sum::<i64>(),
        TOTAL
    );
    c.cmd(&["SELECT", "1"]);
    assert_eq!(
        c.cmd(&["GET", "moves"]),
        format!("${}\r\n{moves}\r\n", moves.to_string().len())
    );
}

/// N clients run WATCH/GET/MULTI/SET/EXEC on one counter in lock-step rounds: every client
/// has watched before anyone executes, so exactly one EXEC per round may succeed.
#[test]
fn watch_race_has_exactly_one_winner_per_round() {
    let s = Server::start(&[]);
    const N: usize = 8;
    const ROUNDS: usize = 150;
    s.raw().cmd(&["SET", "counter", "0"]);
    let watched = Arc::new(Barrier::new(N));
    let done = Arc::new(Barrier::new(N));
    let wins = Arc::new(AtomicU64::new(0));
    let port = s.port;
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let (watched, done, wins) = (watched.clone(), done.clone(), wins.clone());
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                for round in 0..ROUNDS {
                    c.cmd(&["WATCH", "counter"]);
                    let v = c.cmd(&["GET", "counter"]);
                    assert_eq!(v, format!("${}\r\n{round}\r\n", round.to_string().len()));
                    watched.wait();
                    c.cmd(&["MULTI"]);
                    c.cmd(&["SET", "counter", &(round + 1).to_string()]);
                    if c.cmd(&["EXEC"]) == "*1\r\n+OK\r\n" {
                        wins.fetch_add(1, Ordering::Relaxed);
                    }
                    done.wait();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(wins.load(Ordering::Relaxed), ROUNDS as u64);
    assert_eq!(
        s.raw().cmd(&["GET", "counter"]),
        format!("${}\r\n{ROUNDS}\r\n", ROUNDS.to_string().len())
    );
}

/// Unsynchronized check-and-set increments from many clients lose no update: every
/// successful EXEC adds exactly one.
#[test]
fn check_and_set_loops_lose_no_update() {
    let s = Server::start(&[]);
    let port = s.port;
    let handles: Vec<_> = (0..6)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut ok = 0u64;
                for _ in 0..300 {
                    loop {
                        c.cmd(&["WATCH", "n"]);
                        let cur: u64 = match parse(&c.cmd(&["GET", "n"])) {
                            Reply::Str(v) => v.parse().unwrap(),
                            _ => 0,
                        };
                        c.cmd(&["MULTI"]);
                        c.cmd(&["SET", "n", &(cur + 1).to_string()]);
                        if c.cmd(&["EXEC"]) != "*-1\r\n" {
                            ok += 1;
                            break;
                        }
                    }
                }
                ok
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 1800);
    assert_eq!(s.raw().cmd(&["GET", "n"]), "$4\r\n1800\r\n");
}

/// A client blocked on a list is woken by a push made inside another client's EXEC, once
/// the transaction is complete.
#[test]
fn exec_wakes_blocked_clients() {
    let s = Server::start(&[]);
    let mut waiter = s.raw();
    waiter.send_cmd(&[b"BLPOP", b"jobs", b"0"]);
    let mut admin = s.raw();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !admin
        .cmd(&["INFO", "clients"])
        .contains("blocked_clients:1\r\n")
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    admin.cmd(&["MULTI"]);
    admin.cmd(&["RPUSH", "jobs", "a", "b"]);
    admin.cmd(&["LLEN", "jobs"]);
    assert_eq!(admin.cmd(&["EXEC"]), "*2\r\n:2\r\n:2\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$4\r\njobs\r\n$1\r\na\r\n");
    assert_eq!(
        admin.cmd(&["LRANGE", "jobs", "0", "-1"]),
        "*1\r\n$1\r\nb\r\n"
    );
}

#[tokio::test]
async fn redis_crate_atomic_pipeline() {
    let s = Server::start(&[]);
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", s.port)).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let (a, b, n): (String, i64, i64) = redis::pipe()
        .atomic()
        .set("k", "v")
        .ignore()
        .get("k")
        .incr("n", 5)
        .lpush("l", &["x", "y"])
        .query_async(&mut con)
        .await
        .map(|(a, b, n): (String, i64, i64)| (a, b, n))
        .unwrap();
    assert_eq!((a.as_str(), b, n), ("v", 5, 2));
    // A failed WATCH makes the pipeline return nil, which the crate reports as None.
    let mut other = client.get_multiplexed_async_connection().await.unwrap();
    let mut watcher = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("WATCH")
        .arg("k")
        .query_async::<()>(&mut watcher)
        .await
        .unwrap();
    redis::cmd("SET")
        .arg("k")
        .arg("w")
        .query_async::<()>(&mut other)
        .await
        .unwrap();
    let r: Option<(String,)> = redis::pipe()
        .atomic()
        .get("k")
        .query_async(&mut watcher)
        .await
        .unwrap();
    assert_eq!(r, None);
}

/// CLIENT UNBLOCK inside EXEC answers like Redis and unblocks once the transaction is done
/// (the blocking registry is never taken under the transaction's shard locks).
#[test]
fn client_unblock_inside_exec() {
    let s = Server::start(&[]);
    let mut waiter = s.raw();
    let id = waiter.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim().to_string();
    waiter.send_cmd(&[b"BLPOP", b"q", b"0"]);
    let mut c = s.raw();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .cmd(&["INFO", "clients"])
        .contains("blocked_clients:1\r\n")
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    c.cmd(&["MULTI"]);
    c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]);
    c.cmd(&["CLIENT", "UNBLOCK", "999999"]);
    c.cmd(&["KEYS", "*"]);
    assert_eq!(c.cmd(&["EXEC"]), "*3\r\n:1\r\n:0\r\n*0\r\n");
    assert_eq!(
        waiter.read_reply(),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
}

/// COPY … DB n changes a key of database n: its watchers see the change.
#[test]
fn copy_into_another_database_dirties_its_watchers() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let mut other = s.raw();
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["WATCH", "dst"]);
    other.cmd(&["SET", "src", "v"]);
    assert_eq!(other.cmd(&["COPY", "src", "dst", "DB", "2"]), ":1\r\n");
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
}
