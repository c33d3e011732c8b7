//! The append-only log through real servers: every write command replayed after a kill -9,
//! AOF directories moved both ways between shardis and redis-server, truncated and corrupt
//! files, BGREWRITEAOF and CONFIG SET appendonly under load, and the crash test: 16 clients
//! writing with `appendfsync always`, killed at random, must never lose an acknowledged write.

mod common;

use common::{conn, temp_dir, Contents, Server};
use redis::{Connection, Value as RV};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every key of the first `dbs` databases (type, contents, absolute expiry). Encodings are
/// left out: a replay may rebuild a value in another encoding (a string APPENDed in place
/// is raw until a reload makes it embstr again, as in Redis).
fn contents(port: u16, dbs: u32) -> Contents {
    let mut all = common::dataset(port, dbs);
    for v in all.values_mut() {
        v.encoding.clear();
    }
    all
}

/// The log directory `dir` replays to `before` (the first `dbs` databases) in shardis
/// and in redis-server 7.0 alike; `what` names the case in failures.
fn replays_to(dir: &Path, before: &Contents, dbs: u32, what: &str) {
    let s = Server::start_in(dir, &["--save", "", "--appendonly", "yes"]);
    assert_eq!(before, &contents(s.port, dbs), "{what}: shardis's replay");
    drop(s);
    let r = Server::redis_in(dir, &["--appendonly", "yes"]);
    assert_eq!(
        before,
        &contents(r.port, dbs),
        "{what}: redis-server's replay"
    );
}

fn run(c: &mut Connection, line: &str) -> RV {
    let words: Vec<&str> = line.split(' ').collect();
    let mut cmd = redis::cmd(words[0]);
    for w in &words[1..] {
        cmd.arg(*w);
    }
    cmd.query(c)
        .unwrap_or_else(|e| RV::SimpleString(format!("error: {e}")))
}

/// Write commands of every family, including the non-deterministic ones the log must record
/// in deterministic form.
const SCRIPT: &str = "\
SET s1 hello
SET s2 10 EX 1000
SET s3 x PX 500000 NX
SETEX s4 1000 v
PSETEX s5 1000000 v
SET s6 12
INCRBY s6 5
INCRBYFLOAT s6 0.1
INCRBYFLOAT f 3.0e2
APPEND s1 world
SETRANGE s1 2 XY
GETEX s1 EX 5000
GETSET s7 old
GETDEL s7
MSET m1 a m2 b m3 c
MSETNX m4 d m1 z
SETBIT bits 100 1
BITOP OR bits2 bits bits
RPUSH l a b c d e f
LPUSH l z
LPOP l
RPOP l 2
LSET l 0 Q
LINSERT l BEFORE Q P
LREM l 1 P
LTRIM l 0 10
LMOVE l l2 LEFT RIGHT
RPOPLPUSH l l2
LMPOP 2 nosuch l RIGHT COUNT 1
SADD st a b c d e f g h i j 1 2 3
SPOP st
SPOP st 3
SREM st a
SMOVE st st2 b
SADD si 1 2 3 4 5
SPOP si 2
SINTERSTORE st3 st st
SUNIONSTORE st4 st st2
SDIFFSTORE st5 st st2
HSET h a 1 b 2 c 3
HINCRBY h a 10
HINCRBYFLOAT h b 1.5
HDEL h c
HSETNX h d 4
ZADD z 1 a 2 b 3 c 4 d 5 e
ZINCRBY z 2.5 a
ZREM z e
ZPOPMIN z
ZPOPMAX z 1
ZMPOP 1 z MIN
ZADD z2 1 x 2 y
ZUNIONSTORE z3 2 z z2 WEIGHTS 2 3
ZINTERSTORE z4 2 z z2
ZRANGESTORE z5 z 0 -1
ZREMRANGEBYSCORE z3 0 1
EXPIRE h 10000
PEXPIRE z 9000000
EXPIREAT z2 4000000000
PERSIST z2
EXPIRE m3 -1
RENAME m1 m1b
COPY m2 m2copy
MOVE m2 3
SORT l2 ALPHA STORE sorted
DEL m4
SELECT 2
SET indb2 yes
RPUSH l2 x
SELECT 0
SWAPDB 2 5
FLUSHDB
";

#[test]
fn log_replays_every_write_after_kill_9() {
    let dir = temp_dir("aof-replay");
    let s = Server::start_in(
        &dir,
        &[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ],
    );
    let mut c = conn(s.port);
    // Leave a database with data (FLUSHDB above only empties db 0), then write again.
    for line in SCRIPT.lines() {
        run(&mut c, line);
    }
    for line in SCRIPT.lines().filter(|l| !l.starts_with("FLUSHDB")) {
        run(&mut c, line);
    }
    // A transaction, a key that expires and is then written again, blocking pops served
    // at once and after a wait, and RESTORE.
    let r: RV = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("tx1")
        .cmd("LPUSH")
        .arg("tx2")
        .arg("a")
        .cmd("SELECT")
        .arg("1")
        .cmd("SET")
        .arg("tx3")
        .arg("db1")
        .query(&mut c)
        .unwrap();
    assert!(matches!(r, RV::Array(_)), "{r:?}");
    redis::cmd("SELECT").arg(0).query::<()>(&mut c).unwrap();
    run(&mut c, "SET dies 5 PX 50");
    std::thread::sleep(Duration::from_millis(100));
    run(&mut c, "INCR dies");
    run(&mut c, "RPUSH bl 1 2");
    run(&mut c, "BLPOP nosuch bl 1");
    let port = s.port;
    let waiter = std::thread::spawn(move || {
        let mut c = conn(port);
        let v: Option<(String, String)> = redis::cmd("BRPOP")
            .arg("bwait")
            .arg(10)
            .query(&mut c)
            .unwrap();
        v
    });
    std::thread::sleep(Duration::from_millis(200));
    run(&mut c, "RPUSH bwait p q r");
    assert_eq!(waiter.join().unwrap(), Some(("bwait".into(), "r".into())));
    run(&mut c, "SET tobedumped payload");
    let payload: Vec<u8> = redis::cmd("DUMP").arg("tobedumped").query(&mut c).unwrap();
    let _: RV = redis::cmd("RESTORE")
        .arg("restored")
        .arg(100000)
        .arg(&payload)
        .query(&mut c)
        .unwrap();
    let before = contents(port, 16);
    assert!(before.len() > 30, "{}", before.len());
    let dies = &before[&(0, b"dies".to_vec())];
    assert_eq!(
        (dies.expire_ms, &dies.contents[..]),
        (-1, &[b"1".to_vec()][..])
    );
    drop(s); // SIGKILL
    replays_to(&dir, &before, 16, "every write");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_log_directory_loads_into_shardis() {
    let dir = temp_dir("aof-from-redis");
    let r = Server::redis_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = conn(r.port);
    for line in SCRIPT.lines().filter(|l| !l.starts_with("FLUSHDB")) {
        run(&mut c, line);
    }
    // A rewrite makes an RDB-preamble base; more writes land in the new incremental file.
    let _: RV = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrite(&mut c);
    run(&mut c, "SET after-rewrite 1");
    run(&mut c, "RPUSH l after");
    let theirs = contents(r.port, 16);
    drop(r);
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    assert_eq!(theirs, contents(s.port, 16));
    // Shardis goes on appending to Redis's directory, and Redis reads it back.
    let mut c = conn(s.port);
    run(&mut c, "SET by-shardis 2");
    let theirs = contents(s.port, 16);
    drop(s);
    let r = Server::redis_in(&dir, &["--appendonly", "yes"]);
    assert_eq!(theirs, contents(r.port, 16));
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}

fn wait_rewrite(c: &mut Connection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The incremental files of a log directory, by manifest order.
fn incr_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let manifest =
        std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    manifest
        .lines()
        .filter(|l| l.ends_with("type i"))
        .map(|l| dir.join("appendonlydir").join(l.split(' ').nth(1).unwrap()))
        .collect()
}

/// Starts shardis expecting it to refuse to start; returns its output.
fn refused(dir: &Path, args: &[&str]) -> String {
    let port = common::free_port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardis-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "started: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn truncated_and_corrupt_logs() {
    let dir = temp_dir("aof-cut");
    // always: every acknowledged write is in the file when the server is killed.
    let args = [
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    let s = Server::start_in(&dir, &args);
    let mut c = conn(s.port);
    for i in 0..100 {
        run(&mut c, &format!("SET k{i} v{i}"));
    }
    let _: RV = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("tx")
        .arg("1")
        .cmd("SET")
        .arg("k0")
        .arg("changed")
        .query(&mut c)
        .unwrap();
    drop(s);
    let incr = incr_files(&dir).pop().unwrap();
    let good = std::fs::read(&incr).unwrap();
    // A cut inside the last command: dropped with a warning, and the file is repaired.
    let cut = good.len() - 3;
    std::fs::write(&incr, &good[..cut]).unwrap();
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    let mut c = conn(s.port);
    let v: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&["k99", "tx", "k0"])
        .query(&mut c)
        .unwrap();
    // The cut fell inside the transaction: all of it is reverted, nothing before it.
    assert_eq!(v, [Some("v99".into()), None, Some("v0".into())]);
    drop(s);
    assert!(
        std::fs::read(&incr).unwrap().len() < cut,
        "the partial transaction is cut off"
    );
    // With aof-load-truncated no the same cut refuses to start, naming the file and offset.
    std::fs::write(&incr, &good[..cut]).unwrap();
    let out = refused(&dir, &["--appendonly", "yes", "--aof-load-truncated", "no"]);
    assert!(
        out.contains("appendonly.aof") && out.contains("offset"),
        "{out}"
    );
    // Corruption in the middle refuses to start whatever aof-load-truncated says.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    let star = (mid..bad.len()).find(|&i| bad[i] == b'*').unwrap();
    bad[star] = b'!';
    std::fs::write(&incr, &bad).unwrap();
    let out = refused(&dir, &["--appendonly", "yes"]);
    assert!(
        out.contains("appendonly.aof") && out.contains(&format!("{star}")),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// 16 clients INCR their own counters; each remembers the last value acknowledged.
fn writers(port: u16, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Vec<i64>>> {
    (0..16)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut acked = vec![0i64; 4];
                let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/")) else {
                    return acked;
                };
                let Ok(mut c) = client.get_connection() else {
                    return acked;
                };
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("ctr:{w}:{}", i % 4);
                    match redis::cmd("INCR").arg(&key).query::<i64>(&mut c) {
                        Ok(n) => acked[i % 4] = n,
                        Err(_) => break,
                    }
                    i += 1;
                }
                acked
            })
        })
        .collect()
}

#[test]
fn crash_test_loses_no_acknowledged_write() {
    let dir = temp_dir("aof-crash");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for cycle in 0..20 {
        let s = Server::start_in(
            &dir,
            &[
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
        );
        let mut c = conn(s.port);
        // Everything acknowledged in earlier cycles survived.
        for (k, v) in &last {
            let got: i64 = redis::cmd("GET")
                .arg(k)
                .query::<Option<i64>>(&mut c)
                .unwrap()
                .unwrap_or(0);
            assert!(
                got >= *v,
                "cycle {cycle}: {k} is {got}, {v} was acknowledged"
            );
        }
        if cycle % 5 == 4 {
            let _: RV = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let hs = writers(s.port, stop.clone());
        std::thread::sleep(Duration::from_millis(100 + next() % 400));
        // SIGKILL while the writers run.
        let mut s = s;
        let _ = s.child.kill();
        let _ = s.child.wait();
        stop.store(true, Ordering::Relaxed);
        for (w, h) in hs.into_iter().enumerate() {
            for (i, v) in h.join().unwrap().into_iter().enumerate() {
                let e = last.entry(format!("ctr:{w}:{i}")).or_insert(0);
                *e = (*e).max(v);
            }
        }
        drop(s);
    }
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    let mut c = conn(s.port);
    let mut total = 0;
    for (k, v) in &last {
        let got: i64 = redis::cmd("GET")
            .arg(k)
            .query::<Option<i64>>(&mut c)
            .unwrap()
            .unwrap_or(0);
        assert!(got >= *v, "{k} is {got}, {v} was acknowledged");
        total += v;
    }
    assert!(
        total > 1000,
        "the writers got {total} writes acknowledged in all"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rewrite_and_enabling_under_load() {
    let dir = temp_dir("aof-rewrite");
    // Started without a log: CONFIG SET appendonly yes writes the dataset as the base.
    let s = Server::start_in(&dir, &["--save", ""]);
    let mut c = conn(s.port);
    for i in 0..2000 {
        run(&mut c, &format!("SET pre{i} {i}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let hs = writers(s.port, stop.clone());
    std::thread::sleep(Duration::from_millis(100));
    run(&mut c, "CONFIG SET appendonly yes");
    wait_rewrite(&mut c);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        let _: RV = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        wait_rewrite(&mut c);
    }
    std::thread::sleep(Duration::from_millis(150));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<i64>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(
        info.contains("aof_enabled:1") && info.contains("aof_rewrites:4"),
        "{info}"
    );
    let before = contents(s.port, 1);
    drop(s);
    // One base and one incremental file remain; the history is gone.
    let files: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    assert_eq!(before, contents(s.port, 1));
    let mut c = conn(s.port);
    for (w, vals) in acked.iter().enumerate() {
        for (i, v) in vals.iter().enumerate() {
            let got: Option<i64> = redis::cmd("GET")
                .arg(format!("ctr:{w}:{i}"))
                .query(&mut c)
                .unwrap();
            assert!(got.unwrap_or(0) >= *v);
        }
    }
    // CONFIG SET appendonly no stops logging.
    run(&mut c, "CONFIG SET appendonly no");
    run(&mut c, "SET unlogged 1");
    drop(s);
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    let v: Option<String> = redis::cmd("GET")
        .arg("unlogged")
        .query(&mut conn(s.port))
        .unwrap();
    assert_eq!(v, None);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small tmpfs as the server's directory, if this machine lets the test mount one.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let d = temp_dir("tmpfs");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&d)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(d))
    }
}

/// A server logging with `appendfsync <fsync>` in a fresh 2 MB tmpfs, or `None` (the
/// reason printed) where no tmpfs can be mounted.
fn server_on_tmpfs(fsync: &str) -> Option<(Tmpfs, Server)> {
    let Some(fs) = Tmpfs::mount("2m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return None;
    };
    let args = ["--save", "", "--appendonly", "yes", "--appendfsync", fsync];
    let s = Server::start_in(&fs.0, &args);
    Some((fs, s))
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn disk_full_refuses_writes_then_recovers() {
    let Some((fs, s)) = server_on_tmpfs("everysec") else {
        return;
    };
    let dir = fs.0.clone();
    let mut c = common::Raw::connect(s.port);
    // Fill the disk beside the log, leaving a little room.
    let filler = dir.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 1900 * 1024]);
    let value = "x".repeat(1000);
    let mut acked = 0;
    let mut refused = None;
    for i in 0..2000 {
        let r = c.cmd(&["SET", &format!("k{i}"), &value]);
        if r == "+OK\r\n" {
            acked = i + 1;
        } else {
            refused = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let refused = refused.expect("writes were never refused on a full disk");
    assert!(
        refused.starts_with("-MISCONF Errors writing to the AOF file"),
        "{refused}"
    );
    assert!(c.cmd(&["GET", "k0"]).starts_with("$1000"), "reads go on");
    // Space comes back: the server catches up by itself and takes writes again.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.cmd(&["SET", "after", "1"]) != "+OK\r\n" {
        assert!(Instant::now() < deadline, "no recovery");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Wait past one everysec fsync, then crash: every acknowledged write is there.
    std::thread::sleep(Duration::from_millis(1500));
    drop(s);
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    let mut c = common::Raw::connect(s.port);
    for i in 0..acked {
        assert!(
            c.cmd(&["EXISTS", &format!("k{i}")]) == ":1\r\n",
            "k{i} lost"
        );
    }
    assert_eq!(c.cmd(&["GET", "after"]), "$1\r\n1\r\n");
    drop(s);
}

#[test]
fn disk_full_with_always_holds_replies_and_rdb_recovers_by_itself() {
    // appendfsync always: a write that can't reach the disk is not acknowledged until it
    // can; then it is.
    let Some((fs, s)) = server_on_tmpfs("always") else {
        return;
    };
    let dir = fs.0.clone();
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["SET", "before", "1"]), "+OK\r\n");
    let filler = dir.join("filler");
    let free = fs_free(&dir);
    std::fs::write(&filler, vec![0u8; free.saturating_sub(4096) as usize]).unwrap();
    let big = "y".repeat(64 * 1024);
    c.send_cmd(&[b"SET", b"held", big.as_bytes()]);
    c.r.get_ref()
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut line = String::new();
    let early = std::io::BufRead::read_line(&mut c.r, &mut line);
    assert!(early.is_err(), "acknowledged on a full disk: {line:?}");
    // A reader of that key is not told of the write before it is durable either.
    let mut reader = common::Raw::connect(s.port);
    reader.send_cmd(&[b"STRLEN", b"held"]);
    reader
        .r
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let early = std::io::BufRead::read_line(&mut reader.r, &mut line);
    assert!(
        early.is_err(),
        "a reader saw a write that is not durable: {line:?}"
    );
    std::fs::remove_file(&filler).unwrap();
    c.r.get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        c.read_reply(),
        "+OK\r\n",
        "acknowledged once the disk has room"
    );
    reader
        .r
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(reader.read_reply(), format!(":{}\r\n", big.len()));
    drop(s);
    let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
    let mut c = common::Raw::connect(s.port);
    assert!(c.cmd(&["STRLEN", "held"]) == format!(":{}\r\n", big.len()));
    drop(s);
    let _ = std::fs::remove_dir_all(dir.join("appendonlydir"));
    // RDB: a background save that fails on the full disk stops writes (MISCONF); once
    // there is room again the save point's retry succeeds and writes come back by themselves.
    let s = Server::start_in(&dir, &["--save", "1 1", "--rdbcompression", "no"]);
    let mut c = common::Raw::connect(s.port);
    let value = "z".repeat(100_000);
    for i in 0..5 {
        assert_eq!(c.cmd(&["SET", &format!("k{i}"), &value]), "+OK\r\n");
    }
    let free = fs_free(&dir);
    std::fs::write(&filler, vec![0u8; free.saturating_sub(64 * 1024) as usize]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let refused = loop {
        let r = c.cmd(&["SET", "probe", "1"]);
        if r.starts_with("-MISCONF") {
            break r;
        }
        assert!(Instant::now() < deadline, "the save never failed: {r}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(refused.contains("stop-writes-on-bgsave-error"), "{refused}");
    assert!(c.cmd(&["GET", "k0"]).starts_with("$100000"), "reads go on");
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.cmd(&["SET", "probe", "2"]) != "+OK\r\n" {
        assert!(
            Instant::now() < deadline,
            "no recovery after the disk had room again"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(s);
}

/// Free bytes on the filesystem holding `dir`.
fn fs_free(dir: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

#[test]
fn info_persistence_with_the_log_on_has_redis_fields() {
    let rdir = temp_dir("aof-info-redis");
    let r = Server::redis_in(&rdir, &["--appendonly", "yes"]);
    let s = Server::start(&["--appendonly", "yes"]);
    let fields = |port: u16| -> Vec<String> {
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query(&mut conn(port))
            .unwrap();
        info.lines()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
            .collect()
    };
    assert_eq!(fields(r.port), fields(s.port));
    drop(r);
    let _ = std::fs::remove_dir_all(rdir);
}

#[test]
fn rewrite_without_rdb_preamble_writes_commands() {
    let dir = temp_dir("aof-nopreamble");
    let s = Server::start_in(
        &dir,
        &[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
        ],
    );
    let mut c = conn(s.port);
    for line in SCRIPT.lines().filter(|l| !l.starts_with("FLUSHDB")) {
        run(&mut c, line);
    }
    for i in 0..300 {
        run(&mut c, &format!("ZADD bigz {} m{i}", i as f64 / 7.0));
        run(&mut c, &format!("HSET bigh f{i} {i}"));
    }
    run(&mut c, "ZADD bigz 1e-300 tiny -inf low");
    let _: RV = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrite(&mut c);
    run(&mut c, "SET after 1");
    let before = contents(s.port, 16);
    drop(s);
    let names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".base.aof")), "{names:?}");
    replays_to(&dir, &before, 16, "a command base");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn random_write_mix_replays_identically() {
    for seed in [1u64, 2, 3] {
        let dir = temp_dir("aof-random");
        let s = Server::start_in(&dir, &["--save", "", "--appendonly", "yes"]);
        let mut c = common::Raw::connect(s.port);
        for (i, line) in common::random_writes(seed, 1500).iter().enumerate() {
            let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            c.send_cmd(&words);
            c.read_reply();
            if i == 700 {
                // A rewrite in the middle: the rest lands in a new incremental file.
                let mut rc = conn(s.port);
                let _: RV = redis::cmd("BGREWRITEAOF").query(&mut rc).unwrap();
                wait_rewrite(&mut rc);
            }
        }
        let before = contents(s.port, 3);
        drop(s);
        replays_to(&dir, &before, 3, &format!("seed {seed}"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn replay_keeps_expiry_semantics_and_log_switches() {
    let dir = temp_dir("aof-edges");
    let args = [
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    let s = Server::start_in(&dir, &args);
    let mut c = common::Raw::connect(s.port);
    // A key written to before its expiry, which then passes: gone after a replay too (a
    // replayed PEXPIREAT in the past must not delete it before the APPEND replays). The
    // sweep is off, so no DEL in the log hides the difference.
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "a"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PEXPIRE", "k", "300"]), ":1\r\n");
    assert_eq!(c.cmd(&["APPEND", "k", "x"]), ":2\r\n");
    assert_eq!(c.cmd(&["SET", "g", "a"]), "+OK\r\n");
    assert!(c.cmd(&["GETEX", "g", "PX", "300"]).starts_with("$1"));
    assert_eq!(c.cmd(&["APPEND", "g", "x"]), ":2\r\n");
    // A key that expires and is then written inside a transaction: DEL then INCR, in order.
    assert_eq!(c.cmd(&["SET", "t", "5", "PX", "30"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["INCR", "t"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n:1\r\n");
    // A rejected EXPIRE … GT is not logged in its relative form.
    assert_eq!(c.cmd(&["SET", "e", "v", "EX", "200"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "e", "100", "GT"]), ":0\r\n");
    std::thread::sleep(Duration::from_millis(400));
    drop(s);
    let log: Vec<u8> = incr_files(&dir)
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(
        !log.windows(2).any(|w| w == b"GT"),
        "a rejected EXPIRE GT reached the log"
    );
    let s = Server::start_in(&dir, &args);
    let mut c = common::Raw::connect(s.port);
    assert_eq!(
        c.cmd(&["EXISTS", "k", "g"]),
        ":0\r\n",
        "expired keys came back"
    );
    assert_eq!(c.cmd(&["GET", "t"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["PTTL", "t"]), ":-1\r\n");
    // Off and on again: the new log's offsets continue the old ones, so writes and reads
    // are acknowledged promptly and durably.
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "while-off", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    wait_rewrite(&mut conn(s.port));
    for i in 0..50 {
        assert_eq!(c.cmd(&["SET", &format!("on{i}"), "1"]), "+OK\r\n");
        assert_eq!(c.cmd(&["GET", "t"]), "$1\r\n1\r\n");
    }
    drop(s);
    let s = Server::start_in(&dir, &args);
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["EXISTS", "while-off", "on49", "t"]), ":3\r\n");
    // BGREWRITEAOF with the log off writes a base and leaves the log off.
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_rewrite(&mut conn(s.port));
    let info = c.cmd(&["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:0"), "{info}");
    assert_eq!(c.cmd(&["SET", "unlogged", "1"]), "+OK\r\n");
    // CONFIG SET appendonly yes while a BGSAVE runs still turns the log on, once it can.
    for i in 0..20000 {
        c.send_cmd(&[b"SET", format!("fill{i}").as_bytes(), b"some value to save"]);
    }
    for _ in 0..20000 {
        c.read_reply();
    }
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !c.cmd(&["INFO", "persistence"]).contains("aof_enabled:1") {
        assert!(Instant::now() < deadline, "the log never came on");
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_rewrite(&mut conn(s.port));
    drop(s);
    let s = Server::start_in(&dir, &args);
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["EXISTS", "unlogged", "fill19999"]), ":2\r\n");
    // A blocking command in a log (hand-written: Redis never writes one) does not leave
    // the replay client waiting to steal later pushes.
    drop(s);
    let incr = incr_files(&dir).pop().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n").unwrap();
    drop(f);
    let s = Server::start_in(&dir, &args);
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["RPUSH", "q", "x"]), ":1\r\n");
    assert_eq!(c.cmd(&["LLEN", "q"]), ":1\r\n");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
