//! Persistence through real servers: SAVE/BGSAVE/restart round trips of every type and
//! encoding, RDB files and DUMP payloads moved both ways between shardis and redis-server,
//! a BGSAVE taken while clients write (it must be one instant), save points, SHUTDOWN and
//! SIGTERM saves, MISCONF after a failed save, and refused corrupt files.

mod common;

use common::{compare_scripts, conn, dataset as contents, temp_dir, Contents, Server, Shown};
use redis::{Connection, Value as RV};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn q(c: &mut Connection, args: &[&[u8]]) -> RV {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
}

/// Every type in every encoding, with expiries, in several databases.
fn fill(port: u16) {
    let mut c = conn(port);
    let big_bin: Vec<u8> = (0..300u32).map(|i| (i * 7 % 256) as u8).collect();
    let compressible = "abcdefgh".repeat(2000);
    let far = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 3_600_000)
        .to_string();
    let strings: Vec<(&str, Vec<u8>)> = vec![
        ("s:int", b"12345".to_vec()),
        ("s:neg", b"-7".to_vec()),
        ("s:i32max", b"2147483647".to_vec()),
        ("s:i64", b"-9223372036854775808".to_vec()),
        ("s:lead0", b"007".to_vec()),
        ("s:emb", b"hello world".to_vec()),
        ("s:empty", Vec::new()),
        ("s:bin", big_bin.clone()),
        ("s:zip", compressible.as_bytes().to_vec()),
        ("s:21", vec![b'x'; 21]),
    ];
    for (k, v) in &strings {
        q(&mut c, &[b"SET", k.as_bytes(), v]);
    }
    q(&mut c, &[b"SET", b"s:ttl", b"v", b"PXAT", far.as_bytes()]);
    q(&mut c, &[b"APPEND", b"s:raw", b"appended"]);
    q(
        &mut c,
        &[b"RPUSH", b"l:small", b"a", b"1", b"-3", b"", b"4294967296"],
    );
    for i in 0..1500 {
        let v = if i % 100 == 0 {
            "y".repeat(5000)
        } else {
            format!("item-{i}")
        };
        q(&mut c, &[b"RPUSH", b"l:big", v.as_bytes()]);
    }
    q(
        &mut c,
        &[
            b"RPUSH", b"l:ints", b"1", b"-1", b"127", b"128", b"-32768", b"65536",
        ],
    );
    q(&mut c, &[b"RPUSH", b"l:ttl", b"x"]);
    q(&mut c, &[b"PEXPIREAT", b"l:ttl", far.as_bytes()]);
    for i in 0..100 {
        q(&mut c, &[b"SADD", b"set:ints", i.to_string().as_bytes()]);
    }
    q(
        &mut c,
        &[
            b"SADD",
            b"set:wide",
            b"-9223372036854775808",
            b"9223372036854775807",
            b"0",
        ],
    );
    q(&mut c, &[b"SADD", b"set:small", b"a", b"b", b"c"]);
    for i in 0..700 {
        q(&mut c, &[b"SADD", b"set:big", format!("m{i}").as_bytes()]);
    }
    q(
        &mut c,
        &[
            b"HSET", b"h:small", b"f1", b"v1", b"f2", b"2", b"n", b"-100000",
        ],
    );
    for i in 0..200 {
        q(
            &mut c,
            &[
                b"HSET",
                b"h:big",
                format!("f{i}").as_bytes(),
                format!("v{i}").as_bytes(),
            ],
        );
    }
    q(&mut c, &[b"HSET", b"h:long", b"f", &[b'z'; 100]]);
    q(&mut c, &[b"HSET", b"h:ttl", b"f", b"v"]);
    q(&mut c, &[b"PEXPIREAT", b"h:ttl", far.as_bytes()]);
    q(
        &mut c,
        &[
            b"ZADD", b"z:small", b"1.5", b"a", b"-inf", b"b", b"inf", b"c", b"0", b"d",
        ],
    );
    q(
        &mut c,
        &[
            b"ZADD",
            b"z:small",
            b"3.141592653589793",
            b"pi",
            b"1e-300",
            b"tiny",
        ],
    );
    for i in 0..300 {
        q(
            &mut c,
            &[
                b"ZADD",
                b"z:big",
                format!("{}", i as f64 / 3.0).as_bytes(),
                format!("m{i}").as_bytes(),
            ],
        );
    }
    q(&mut c, &[b"ZADD", b"z:long", b"1", &[b'q'; 80]]);
    q(&mut c, &[b"SELECT", b"3"]);
    q(&mut c, &[b"SET", b"db3", b"three"]);
    q(&mut c, &[b"SADD", b"db3:set", b"x"]);
    q(&mut c, &[b"SELECT", b"15"]);
    q(&mut c, &[b"SET", b"db15", b"fifteen"]);
}

fn ok(c: &mut Connection, cmd: &str) {
    let r: RV = redis::cmd(cmd).query(c).unwrap();
    assert!(matches!(r, RV::Okay), "{cmd}: {r:?}");
}

fn assert_same(a: &Contents, b: &Contents, what: &str) {
    if a == b {
        return;
    }
    let mut diffs = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => diffs.push(format!("{k:?} missing")),
            Some(w) if w != v => diffs.push(format!(
                "{k:?}: {} {} ttl {} vs {} {} ttl {} (contents equal: {})",
                v.kind,
                v.encoding,
                v.expire_ms,
                w.kind,
                w.encoding,
                w.expire_ms,
                v.contents == w.contents
            )),
            _ => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        diffs.push(format!("{k:?} extra"));
    }
    panic!("{what}: {} differences:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn save_and_restart_keeps_every_type_and_encoding() {
    let dir = temp_dir("persist-roundtrip");
    let s = Server::start_in(&dir, &["--save", ""]);
    fill(s.port);
    let before = contents(s.port, 16);
    assert!(before.len() > 25);
    ok(&mut conn(s.port), "SAVE");
    drop(s);
    let s = Server::start_in(&dir, &["--save", ""]);
    assert_same(&before, &contents(s.port, 16), "after SAVE and restart");
    // DEBUG RELOAD saves, empties and loads in place.
    let mut c = conn(s.port);
    let r: RV = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
    assert_eq!(r, RV::Okay);
    assert_same(&before, &contents(s.port, 16), "after DEBUG RELOAD");
    // rdbcompression no writes a bigger file that loads the same.
    let size = |d: &Path| std::fs::metadata(d.join("dump.rdb")).unwrap().len();
    let compressed = size(&dir);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdbcompression")
        .arg("no")
        .query::<()>(&mut c)
        .unwrap();
    ok(&mut c, "SAVE");
    assert!(
        size(&dir) > compressed + 10_000,
        "{} vs {compressed}",
        size(&dir)
    );
    drop(s);
    let s = Server::start_in(&dir, &["--save", ""]);
    assert_same(&before, &contents(s.port, 16), "uncompressed file");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rdb_files_move_both_ways_between_redis_and_shardis() {
    // Redis writes, shardis reads.
    let rdir = temp_dir("persist-from-redis");
    let r = Server::redis_in(&rdir, &[]);
    fill(r.port);
    let theirs = contents(r.port, 16);
    ok(&mut conn(r.port), "SAVE");
    drop(r);
    let s = Server::start_in(&rdir, &["--save", ""]);
    assert_same(
        &theirs,
        &contents(s.port, 16),
        "redis-server's file loaded by shardis",
    );
    // Shardis writes (what it loaded), redis reads.
    ok(&mut conn(s.port), "SAVE");
    drop(s);
    let sdir = temp_dir("persist-to-redis");
    std::fs::copy(rdir.join("dump.rdb"), sdir.join("dump.rdb")).unwrap();
    let r = Server::redis_in(&sdir, &[]);
    assert_same(
        &theirs,
        &contents(r.port, 16),
        "shardis's file loaded by redis-server",
    );
    drop(r);
    // And a dataset built in shardis itself, uncompressed and without a checksum.
    let odir = temp_dir("persist-ours");
    let s = Server::start_in(
        &odir,
        &[
            "--save",
            "",
            "--rdbchecksum",
            "no",
            "--rdbcompression",
            "no",
        ],
    );
    fill(s.port);
    let ours = contents(s.port, 16);
    ok(&mut conn(s.port), "SAVE");
    drop(s);
    let r = Server::redis_in(&odir, &[]);
    assert_same(
        &ours,
        &contents(r.port, 16),
        "shardis-built file loaded by redis-server",
    );
    drop(r);
    for d in [rdir, sdir, odir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn dump_payloads_restore_both_ways() {
    let r = Server::redis_in(&temp_dir("persist-dump"), &[]);
    let s = Server::start(&[]);
    fill(r.port);
    fill(s.port);
    let (mut rc, mut sc) = (conn(r.port), conn(s.port));
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut rc).unwrap();
    for way in 0..2 {
        let (from, to) = if way == 0 {
            (&mut rc, &mut sc)
        } else {
            (&mut sc, &mut rc)
        };
        for k in &keys {
            let payload: Vec<u8> = redis::cmd("DUMP").arg(k).query(from).unwrap();
            let dst = [b"moved:".as_slice(), k].concat();
            let r: RV = redis::cmd("RESTORE")
                .arg(&dst)
                .arg(0)
                .arg(&payload)
                .query(to)
                .unwrap_or_else(|e| panic!("RESTORE of {:?}: {e}", String::from_utf8_lossy(k)));
            assert_eq!(r, RV::Okay);
        }
    }
    // Every key moved in each direction equals its source.
    let (theirs, ours) = (contents(r.port, 1), contents(s.port, 1));
    for k in &keys {
        let moved = [b"moved:".as_slice(), k].concat();
        let strip = |mut v: Shown| {
            v.expire_ms = -1;
            v
        };
        let a = strip(theirs[&(0, k.clone())].clone());
        let b = strip(ours[&(0, moved.clone())].clone());
        assert!(
            a == b,
            "{:?} into shardis: {} {} vs {} {}",
            String::from_utf8_lossy(k),
            a.kind,
            a.encoding,
            b.kind,
            b.encoding
        );
        let a = strip(ours[&(0, k.clone())].clone());
        let b = strip(theirs[&(0, moved)].clone());
        assert!(
            a == b,
            "{:?} into redis: {} {} vs {} {}",
            String::from_utf8_lossy(k),
            a.kind,
            a.encoding,
            b.kind,
            b.encoding
        );
    }
}

#[test]
fn restore_errors_match_redis() {
    let script = "\
SET s hello
DUMP s
RESTORE k 0 garbage
RESTORE s 0 garbage
RESTORE k -1 garbage
RESTORE k abc garbage
RESTORE k 0 garbage IDLETIME -1
RESTORE k 0 garbage IDLETIME 5 FREQ 5
RESTORE k 0 garbage FREQ 256
RESTORE k 0 garbage FREQ 1 IDLETIME 1
RESTORE k 0 garbage BOGUS
RESTORE k 0 garbage REPLACE ABSTTL IDLETIME
RESTORE k
DUMP nosuch
";
    compare_scripts(&[script], |port, script| {
        let mut c = common::Raw::connect(port);
        script
            .lines()
            .map(|l| {
                let words: Vec<&[u8]> = l.split(' ').map(str::as_bytes).collect();
                c.send_cmd(&words);
                format!("{l} -> {}", c.read_reply())
            })
            .collect()
    });
    // A payload that survives the checksum but not decoding, and a valid one with options.
    let s = Server::start(&[]);
    let mut c = conn(s.port);
    let _: () = redis::cmd("SET")
        .arg("s")
        .arg("hello")
        .query(&mut c)
        .unwrap();
    let p: Vec<u8> = redis::cmd("DUMP").arg("s").query(&mut c).unwrap();
    let mut bad = p.clone();
    bad[0] = 99;
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&bad)
        .query::<RV>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("DUMP payload version or checksum are wrong"),
        "{e}"
    );
    let e = redis::cmd("RESTORE")
        .arg("s")
        .arg(0)
        .arg(&p)
        .query::<RV>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string().contains("Target key name already exists"),
        "{e}"
    );
    let r: RV = redis::cmd("RESTORE")
        .arg("s")
        .arg(5000)
        .arg(&p)
        .arg("REPLACE")
        .arg("IDLETIME")
        .arg(100)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, RV::Okay);
    let ttl: i64 = redis::cmd("PTTL").arg("s").query(&mut c).unwrap();
    assert!((4000..=5000).contains(&ttl), "{ttl}");
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("s")
        .query(&mut c)
        .unwrap();
    assert!((100..=102).contains(&idle), "{idle}");
    // An absolute TTL in the past deletes the key (REPLACE) and still answers OK.
    let r: RV = redis::cmd("RESTORE")
        .arg("s")
        .arg(1000)
        .arg(&p)
        .arg("REPLACE")
        .arg("ABSTTL")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, RV::Okay);
    let n: i64 = redis::cmd("EXISTS").arg("s").query(&mut c).unwrap();
    assert_eq!(n, 0);
}

/// Loads `dir/dump.rdb` in a fresh server and returns the values of `keys` in db 0.
fn values_in_file(dir: &Path, keys: &[String]) -> Vec<Option<String>> {
    let s = Server::start_in(dir, &["--save", ""]);
    let mut c = conn(s.port);
    redis::cmd("MGET").arg(keys).query(&mut c).unwrap()
}

#[test]
fn bgsave_is_one_instant_while_clients_write() {
    let dir = temp_dir("persist-bgsave");
    let s = Server::start_in(&dir, &["--save", ""]);
    let port = s.port;
    // 100k keys so the save takes a while, written over while it runs.
    let mut c = conn(port);
    for chunk in 0..100 {
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SET")
                .arg(format!("fill:{chunk}:{i}"))
                .arg("x".repeat(50))
                .ignore();
        }
        p.query::<()>(&mut c).unwrap();
    }
    // Each writer moves a pair of keys (on different shards) together with MSET, and counts
    // a third with INCR; it records the last count acknowledged before BGSAVE was sent and
    // the first acknowledged after its reply.
    const WRITERS: usize = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(std::sync::atomic::AtomicU8::new(0));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (stop, phase) = (stop.clone(), phase.clone());
        handles.push(std::thread::spawn(move || {
            let mut c = conn(port);
            let (mut before, mut after) = (0i64, i64::MAX);
            while !stop.load(Ordering::Relaxed) {
                let p0 = phase.load(Ordering::SeqCst);
                let n: i64 = redis::cmd("INCR")
                    .arg(format!("count:{w}"))
                    .query(&mut c)
                    .unwrap();
                let v = n.to_string();
                let _: () = redis::cmd("MSET")
                    .arg(format!("pair:{w}:a"))
                    .arg(&v)
                    .arg(format!("pair:{w}:b"))
                    .arg(&v)
                    .query(&mut c)
                    .unwrap();
                // Written entirely before BGSAVE was sent / entirely after its reply.
                if p0 == 0 && phase.load(Ordering::SeqCst) == 0 {
                    before = n;
                }
                if p0 == 2 && after == i64::MAX {
                    after = n;
                }
            }
            (before, after)
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    phase.store(1, Ordering::SeqCst);
    let r: RV = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(r, RV::SimpleString("Background saving started".into()));
    phase.store(2, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        if info.contains("rdb_bgsave_in_progress:0") {
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let bounds: Vec<(i64, i64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    drop(s);
    let keys: Vec<String> = (0..WRITERS)
        .flat_map(|w| {
            [
                format!("count:{w}"),
                format!("pair:{w}:a"),
                format!("pair:{w}:b"),
            ]
        })
        .collect();
    let vals = values_in_file(&dir, &keys);
    for (w, (before, after)) in bounds.iter().enumerate() {
        let n: i64 = vals[w * 3].as_deref().unwrap_or("0").parse().unwrap();
        assert!(
            *before <= n && n < *after,
            "writer {w}: saved count {n}, acknowledged before BGSAVE {before}, first after {after}"
        );
        // The pair was set after its INCR: the snapshot has it at n or n - 1, a == b.
        let (a, b) = (vals[w * 3 + 1].clone(), vals[w * 3 + 2].clone());
        assert_eq!(a, b, "writer {w}: MSET pair split by the snapshot");
        let a: i64 = a.as_deref().unwrap_or("0").parse().unwrap();
        assert!(a == n || a == n - 1, "writer {w}: pair {a}, count {n}");
    }
    let s = Server::start_in(&dir, &["--save", ""]);
    let n: i64 = redis::cmd("DBSIZE").query(&mut conn(s.port)).unwrap();
    assert_eq!(n, 100_000 + 3 * WRITERS as i64);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_points_shutdown_and_sigterm_save() {
    // A save point of one change in one second saves by itself.
    let dir = temp_dir("persist-points");
    let s = Server::start_in(&dir, &["--save", "1 1"]);
    let mut c = conn(s.port);
    let before: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        if info.contains("rdb_changes_since_last_save:0") && dir.join("dump.rdb").exists() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no save by the save point: {info}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let after: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(after > before);
    drop(s);
    // SHUTDOWN saves when save points are set; SHUTDOWN NOSAVE does not.
    let mut s = Server::start_in(&dir, &[]);
    let mut c = conn(s.port);
    let _: () = redis::cmd("SET").arg("b").arg("2").query(&mut c).unwrap();
    let _ = redis::cmd("SHUTDOWN").query::<RV>(&mut c);
    assert_eq!(s.wait_exit(20), Some(Some(0)), "{}", s.stderr());
    let mut s = Server::start_in(&dir, &[]);
    let mut c = conn(s.port);
    let v: Vec<Option<String>> = redis::cmd("MGET").arg(&["a", "b"]).query(&mut c).unwrap();
    assert_eq!(v, [Some("1".into()), Some("2".into())]);
    let _: () = redis::cmd("SET").arg("c").arg("3").query(&mut c).unwrap();
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<RV>(&mut c);
    assert_eq!(s.wait_exit(20), Some(Some(0)));
    // SIGTERM saves too.
    let mut s = Server::start_in(&dir, &[]);
    let mut c = conn(s.port);
    let n: i64 = redis::cmd("EXISTS").arg("c").query(&mut c).unwrap();
    assert_eq!(n, 0, "SHUTDOWN NOSAVE saved");
    let _: () = redis::cmd("SET").arg("d").arg("4").query(&mut c).unwrap();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(s.wait_exit(20), Some(Some(0)));
    let s = Server::start_in(&dir, &["--save", ""]);
    let v: Option<String> = redis::cmd("GET").arg("d").query(&mut conn(s.port)).unwrap();
    assert_eq!(v.as_deref(), Some("4"));
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_background_save_stops_writes_until_a_save_works() {
    let dir = temp_dir("persist-misconf");
    let s = Server::start_in(&dir, &["--save", "3600 1"]);
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    // A working directory that no longer exists: the save can't create its file.
    let gone = temp_dir("persist-gone");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]),
        "+OK\r\n"
    );
    std::fs::remove_dir_all(&gone).unwrap();
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .cmd(&["INFO", "persistence"])
        .contains("rdb_last_bgsave_status:err")
    {
        assert!(Instant::now() < deadline, "the save did not fail");
        std::thread::sleep(Duration::from_millis(20));
    }
    let misconf = c.cmd(&["SET", "k", "w"]);
    assert!(
        misconf.starts_with("-MISCONF Redis is configured to save RDB snapshots"),
        "{misconf}"
    );
    assert!(c.cmd(&["PING"]).starts_with("-MISCONF"));
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n", "reads go on");
    // Writes come back when the option is off, and when a save works again.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "k", "w"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]),
        "+OK\r\n"
    );
    assert!(c.cmd(&["SET", "k", "x"]).starts_with("-MISCONF"));
    assert_eq!(c.cmd(&["SAVE"]), "-ERR\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", dir.to_str().unwrap()]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "x"]), "+OK\r\n");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_files_are_refused_at_startup() {
    let dir = temp_dir("persist-corrupt");
    let s = Server::start_in(&dir, &["--save", ""]);
    fill(s.port);
    ok(&mut conn(s.port), "SAVE");
    drop(s);
    let good = std::fs::read(dir.join("dump.rdb")).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x20;
    let mut wrong_version = good.clone();
    wrong_version[5..9].copy_from_slice(b"0099");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("flipped byte", flipped),
        ("cut tail", good[..good.len() - 5].to_vec()),
        ("cut middle", [&good[..mid], &good[mid + 1000..]].concat()),
        ("wrong version", wrong_version),
        ("nonsense", b"this is not an rdb file at all".to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(dir.join("dump.rdb"), &bytes).unwrap();
        let port = common::free_port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shardis-server"))
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .current_dir(&dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(
                std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
                "{what}: the server started serving"
            );
            assert!(Instant::now() < deadline, "{what}: no exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!status.success(), "{what}: exit status {status}");
        assert!(
            text.contains("dump.rdb") && text.contains("offset"),
            "{what}: {text}"
        );
        assert!(!text.contains("panicked"), "{what}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn info_persistence_has_redis_fields() {
    let r = Server::redis(&[]).expect("redis-server is required");
    let s = Server::start(&[]);
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
    let mut c = common::Raw::connect(s.port);
    assert_eq!(c.cmd(&["BGSAVE", "now"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "foo"]),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
}

#[test]
fn persistence_commands_in_transactions_match_redis() {
    let script = "\
MULTI
SAVE
SET a 1
EXEC
MULTI
BGSAVE
BGSAVE now
EXEC
MULTI
SHUTDOWN
DISCARD
LASTSAVE
";
    compare_scripts(&[script], |port, script| {
        let mut c = common::Raw::connect(port);
        script
            .lines()
            .map(|l| {
                let words: Vec<&[u8]> = l.split(' ').map(str::as_bytes).collect();
                c.send_cmd(&words);
                let r = c.read_reply();
                // LASTSAVE's time differs between two servers; its type must not.
                let r = if l == "LASTSAVE" {
                    r[..1].to_string()
                } else {
                    r
                };
                format!("{l} -> {r}")
            })
            .collect()
    });
}

#[test]
fn flushall_with_save_points_saves_the_empty_dataset() {
    let dir = temp_dir("persist-flushall");
    let s = Server::start_in(&dir, &[]);
    let mut c = common::Raw::connect(s.port);
    for i in 0..50000 {
        c.send_cmd(&[b"SET", format!("k{i}").as_bytes(), b"a value to save"]);
    }
    for _ in 0..50000 {
        c.read_reply();
    }
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    // A background save of the old data is running when FLUSHALL comes: it is dropped,
    // and the empty dataset is what the file holds afterwards.
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
    let info = c.cmd(&["INFO", "persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:1\r\n"), "{info}");
    drop(s);
    let s = Server::start_in(&dir, &[]);
    assert_eq!(common::Raw::connect(s.port).cmd(&["DBSIZE"]), ":0\r\n");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
