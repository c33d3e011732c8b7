//! Test support: starts a real shardis-server (or redis-server) process on a free port and
//! talks to it over TCP with raw RESP or the `redis` crate.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A port that is free now, picked below Linux's ephemeral range so that client sockets of
/// tests running in parallel can't take it between this check and the server's bind.
pub fn free_port() -> u16 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = 20000 + ((std::process::id() as u64 * 7919 + n * 17) % 12000) as u16;
        if TcpListener::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("0.0.0.0", p)).is_ok()
        {
            return p;
        }
    }
}

/// What every reference redis-server runs with: no persistence unless a test asks for it.
const REDIS_DEFAULTS: &[&str] = &["--save", "", "--appendonly", "no"];

/// A server's command line: loopback on `port`, then `extra`, then the test's own `args`
/// (later arguments override earlier ones, as in redis-server).
fn args_for(port: u16, extra: &[&str], args: &[&str]) -> Vec<String> {
    ["--port", &port.to_string(), "--bind", "127.0.0.1"]
        .iter()
        .chain(extra)
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// A server process, killed when dropped. It runs in a fresh working directory of its own
/// (its `dir`, where it saves and loads files), with its stderr kept there.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: std::path::PathBuf,
    /// The directory was made for this server alone and goes with it.
    owns_dir: bool,
}

/// A fresh empty directory for one test server.
pub fn temp_dir(what: &str) -> std::path::PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "shardis-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether the server on `port` answers PING with -LOADING (an unreadable answer counts as
/// not loading: the caller's own requests will then show what is wrong).
fn loading(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 64];
    match s.write_all(b"PING\r\n").and_then(|_| s.read(&mut buf)) {
        Ok(n) => buf[..n].starts_with(b"-LOADING"),
        Err(_) => false,
    }
}

impl Server {
    /// Starts shardis with `args` on a free loopback port.
    pub fn start(args: &[&str]) -> Server {
        let port = free_port();
        Self::spawn(
            env!("CARGO_BIN_EXE_shardis-server"),
            &args_for(port, &[], args),
            port,
        )
    }

    /// Starts shardis on a free port in the working directory `dir` (for files it loads).
    pub fn start_in(dir: &std::path::Path, args: &[&str]) -> Server {
        let port = free_port();
        Self::spawn_in(
            env!("CARGO_BIN_EXE_shardis-server"),
            &args_for(port, &[], args),
            port,
            dir.to_path_buf(),
        )
    }

    /// Starts redis-server on a free port in the working directory `dir`, with saving off
    /// unless `args` turn it on. Panics when redis-server is missing: callers are interop
    /// tests that mean nothing without it.
    pub fn redis_in(dir: &std::path::Path, args: &[&str]) -> Server {
        let port = free_port();
        // Debian's redis-server 7.0 defaults hash-max-listpack-entries to 512; upstream
        // Redis 7.0 and shardis use 128. Files moved between them then keep their encodings.
        let mut extra = REDIS_DEFAULTS.to_vec();
        extra.extend(["--hash-max-listpack-entries", "128"]);
        Self::spawn_in(
            "redis-server",
            &args_for(port, &extra, args),
            port,
            dir.to_path_buf(),
        )
    }

    /// Starts shardis with exactly these arguments (the caller picks the port).
    pub fn start_raw(args: &[String], port: u16) -> Server {
        Self::spawn(env!("CARGO_BIN_EXE_shardis-server"), args, port)
    }

    /// Starts a reference redis-server, or returns None when it is not installed.
    pub fn redis(args: &[&str]) -> Option<Server> {
        let bin = [
            "redis-server",
            "/usr/bin/redis-server",
            "/usr/local/bin/redis-server",
        ]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok()
        })?;
        let port = free_port();
        Some(Self::spawn(
            bin,
            &args_for(port, REDIS_DEFAULTS, args),
            port,
        ))
    }

    fn spawn(bin: &str, args: &[String], port: u16) -> Server {
        let mut s = Self::spawn_in(bin, args, port, temp_dir("server"));
        s.owns_dir = true;
        s
    }

    /// Starts `bin` with `args` in the working directory `dir`, which outlives the server.
    pub fn spawn_in(bin: &str, args: &[String], port: u16, dir: std::path::PathBuf) -> Server {
        let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
        let child = Command::new(bin)
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let mut server = Server {
            child,
            port,
            dir,
            owns_dir: false,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{bin} did not start on port {port}: {}",
                server.stderr()
            );
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "{bin} exited at start (port {port}): {}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // redis-server accepts connections while it loads its files and answers -LOADING
        // until it is done; shardis loads before it listens. Either way, wait until ready.
        while loading(port) {
            assert!(
                Instant::now() < deadline,
                "{bin} still loading on port {port}: {}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "{bin} exited at start (port {port}): {}",
            server.stderr()
        );
        server
    }

    /// What the server wrote to stderr so far (its last 4 KiB).
    pub fn stderr(&self) -> String {
        let s = std::fs::read(self.dir.join("stderr.log")).unwrap_or_default();
        String::from_utf8_lossy(&s[s.len().saturating_sub(4096)..]).into_owned()
    }

    /// Waits up to `secs` for the process to exit by itself; its exit code if it did.
    pub fn wait_exit(&mut self, secs: u64) -> Option<Option<i32>> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, from /proc.
    pub fn rss(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/statm", self.pid())).unwrap();
        s.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "server on port {} (dir {}) wrote to stderr:\n{}",
                self.port,
                self.dir.display(),
                self.stderr()
            );
        } else if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A raw RESP connection that returns each reply's exact bytes.
pub struct Raw {
    pub r: BufReader<TcpStream>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw {
            r: BufReader::new(s),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).unwrap();
    }

    /// Sends one command as a RESP multibulk.
    pub fn send_cmd(&mut self, args: &[&[u8]]) {
        self.send(&encode(args));
    }

    /// Sends a command and returns its reply's bytes.
    pub fn cmd(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_cmd(&a);
        self.read_reply()
    }

    /// Reads exactly one reply and returns its bytes (lossy UTF-8).
    pub fn read_reply(&mut self) -> String {
        String::from_utf8_lossy(&self.read_reply_bytes()).into_owned()
    }

    pub fn read_reply_bytes(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_into(&mut out);
        out
    }

    fn read_into(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).unwrap();
        assert!(
            !line.is_empty(),
            "connection closed while waiting for a reply"
        );
        out.extend_from_slice(&line);
        let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        match line[0] {
            b'$' | b'=' | b'!' => {
                let n: i64 = body.parse().unwrap();
                if n >= 0 {
                    let mut buf = vec![0; n as usize + 2];
                    self.r.read_exact(&mut buf).unwrap();
                    out.extend_from_slice(&buf);
                }
            }
            b'*' | b'~' | b'>' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..n.max(0) {
                    self.read_into(out);
                }
            }
            b'%' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..n * 2 {
                    self.read_into(out);
                }
            }
            _ => {}
        }
    }

    /// True once the server has closed this connection (reads EOF within the timeout).
    pub fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        self.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        matches!(self.r.read(&mut buf), Ok(0) | Err(_))
    }
}

pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A reference redis-server and a shardis started side by side, for differential tests.
pub struct Pair {
    pub redis: Server,
    pub ours: Server,
    /// Connection to redis-server.
    pub a: Raw,
    /// Connection to shardis.
    pub b: Raw,
}

impl Pair {
    /// Starts both servers with `args`. Without redis-server installed the test is skipped
    /// with a message, except under CI (`CI` set), where that is a failure.
    pub fn start(args: &[&str]) -> Option<Pair> {
        let Some(redis) = Server::redis(args) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required in CI"
            );
            eprintln!("SKIPPED: redis-server is not installed, differential test not run");
            return None;
        };
        let ours = Server::start(args);
        let (a, b) = (redis.raw(), ours.raw());
        Some(Pair { redis, ours, a, b })
    }

    /// Sends one command to both servers: `(redis reply, shardis reply)`.
    pub fn both(&mut self, args: &[&str]) -> (String, String) {
        (self.a.cmd(args), self.b.cmd(args))
    }
}

/// A redis-server with DEBUG enabled (shardis always allows it) and a shardis, for tests that
/// run the same script on both. Without redis-server the test is skipped with a message,
/// except under CI (`CI` set), where that is a failure.
pub fn redis_and_shardis() -> Option<(Server, Server)> {
    let Some(redis) = Server::redis(&["--enable-debug-command", "yes"]) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is required in CI"
        );
        eprintln!("SKIPPED: redis-server is not installed, differential test not run");
        return None;
    };
    Some((redis, Server::start(&[])))
}

/// Runs each script through `run(port, script)` (which returns one labelled line per step) on
/// redis-server and on shardis, and fails listing every step whose output differs.
pub fn compare_scripts(scripts: &[&str], run: impl Fn(u16, &str) -> Vec<String>) {
    let Some((redis, ours)) = redis_and_shardis() else {
        return;
    };
    let mut diffs = Vec::new();
    for script in scripts {
        let (theirs, mine) = (run(redis.port, script), run(ours.port, script));
        for (t, o) in theirs.iter().zip(&mine) {
            if t != o {
                diffs.push(format!("redis:   {t}\nshardis: {o}"));
            }
        }
        assert_eq!(theirs.len(), mine.len(), "step counts differ");
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A reply whose element order Redis leaves open, made comparable: the lines after the
/// header, sorted (for flat arrays of simple elements).
pub fn sorted_reply(reply: &str) -> String {
    let mut lines = reply.split("\r\n");
    let header = lines.next().unwrap_or_default().to_string();
    let mut rest: Vec<&str> = lines.collect();
    rest.sort();
    format!("{header}|{}", rest.join("|"))
}

// The exact-reply checker shared by the command test files.

/// Whether the command tests run against redis-server instead of shardis, to check their
/// own expectations (SHARDIS_TEST_AGAINST_REDIS=1).
pub fn against_redis() -> bool {
    std::env::var_os("SHARDIS_TEST_AGAINST_REDIS").is_some()
}

/// Starts the server under test: shardis, or redis-server when SHARDIS_TEST_AGAINST_REDIS is set.
pub fn start(args: &[&str]) -> Server {
    if against_redis() {
        let mut all = vec!["--enable-debug-command", "yes"];
        all.extend_from_slice(args);
        Server::redis(&all).expect("SHARDIS_TEST_AGAINST_REDIS is set but redis-server is missing")
    } else {
        Server::start(args)
    }
}

/// A raw connection whose replies are compared with Redis's exact bytes. A mismatch does not
/// stop the test: each is recorded with its source line, and the test fails at the end listing
/// all of them, so one run shows every difference.
pub struct Check {
    pub c: Raw,
    pub diffs: Vec<String>,
}

impl Check {
    pub fn new(s: &Server) -> Check {
        Check {
            c: s.raw(),
            diffs: Vec::new(),
        }
    }

    /// Sends `args` and expects exactly the reply `want`.
    #[track_caller]
    pub fn is(&mut self, args: &[&str], want: &str) {
        let got = self.c.cmd(args);
        self.expect(got == want, || {
            format!("{args:?}\n      redis: {want:?}\n      ours:  {got:?}")
        });
    }

    /// `is` for binary arguments or replies.
    #[track_caller]
    pub fn is_bytes(&mut self, args: &[&[u8]], want: &[u8]) {
        self.c.send_cmd(args);
        let got = self.c.read_reply_bytes();
        self.expect(got == want, || {
            let args: Vec<String> = args.iter().map(|a| a.escape_ascii().to_string()).collect();
            format!(
                "{args:?}\n      redis: \"{}\"\n      ours:  \"{}\"",
                want.escape_ascii(),
                got.escape_ascii()
            )
        });
    }

    #[track_caller]
    pub fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.diffs
                .push(format!("at {}: {}", Location::caller(), what()));
        }
    }
}

impl Deref for Check {
    type Target = Raw;
    fn deref(&self) -> &Raw {
        &self.c
    }
}

impl DerefMut for Check {
    fn deref_mut(&mut self) -> &mut Raw {
        &mut self.c
    }
}

impl Drop for Check {
    fn drop(&mut self) {
        if !self.diffs.is_empty() && !std::thread::panicking() {
            panic!(
                "{} replies differ from Redis 7.0:\n{}",
                self.diffs.len(),
                self.diffs.join("\n")
            );
        }
    }
}

/// A parsed reply, for checks that cannot compare bytes (unordered or time-dependent replies).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Str(String),
    Err(String),
    Int(i64),
    Nil,
    Arr(Vec<Reply>),
}

pub fn parse(reply: &str) -> Reply {
    let mut rest = reply;
    let r = parse_one(&mut rest);
    assert!(rest.is_empty(), "trailing bytes after the reply {reply:?}");
    r
}

pub fn parse_one(s: &mut &str) -> Reply {
    let end = s.find("\r\n").expect("incomplete reply");
    let line = &s[..end];
    *s = &s[end + 2..];
    let (kind, body) = line.split_at(1);
    match kind {
        "+" => Reply::Str(body.to_string()),
        "-" => Reply::Err(body.to_string()),
        ":" => Reply::Int(body.parse().unwrap()),
        "_" => Reply::Nil,
        // Bulk and verbatim strings (the verbatim "txt:" prefix is kept).
        "$" | "=" => match body.parse::<i64>().unwrap() {
            n if n < 0 => Reply::Nil,
            n => {
                let v = s[..n as usize].to_string();
                *s = &s[n as usize + 2..];
                Reply::Str(v)
            }
        },
        // Arrays, sets, and maps flattened to key, value, key, value...
        "*" | "~" | "%" => match body.parse::<i64>().unwrap() {
            n if n < 0 => Reply::Nil,
            n => {
                let n = if kind == "%" { n * 2 } else { n };
                Reply::Arr((0..n).map(|_| parse_one(s)).collect())
            }
        },
        _ => panic!("unexpected reply line {line:?}"),
    }
}

/// The elements of an array of bulk strings.
pub fn bulks(r: &Reply) -> Vec<String> {
    match r {
        Reply::Arr(items) => items
            .iter()
            .map(|i| match i {
                Reply::Str(s) => s.clone(),
                other => panic!("expected a bulk string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// A seeded random mix of write commands of every family on a few keys (so types collide
/// and commands fail as well as succeed), with transactions, database switches and
/// non-deterministic commands.
pub fn random_writes(seed: u64, n: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();
    for _ in 0..n {
        let k = format!("k{}", rng.usize(..10));
        let k2 = format!("k{}", rng.usize(..10));
        let v = match rng.u8(..4) {
            0 => rng.i64(-50..50).to_string(),
            1 => format!("{}.{}", rng.i64(-9..9), rng.u8(..99)),
            2 => "x".repeat(rng.usize(..80)),
            _ => format!("v{}", rng.u8(..20)),
        };
        let i = rng.i64(-3..6);
        let cmd = match rng.u8(..60) {
            0 => format!("SET {k} {v}"),
            1 => format!("SET {k} {v} EX {}", rng.u32(100..10000)),
            2 => format!("SET {k} {v} PX {} NX", rng.u32(100000..900000)),
            3 => format!("SET {k} {v} KEEPTTL XX GET"),
            4 => format!("APPEND {k} {v}"),
            5 => format!("INCRBY {k} {i}"),
            6 => format!("INCRBYFLOAT {k} 1.{}", rng.u8(..99)),
            7 => format!("SETRANGE {k} {} {v}", rng.u8(..10)),
            8 => format!("GETDEL {k}"),
            9 => format!("GETEX {k} PX {}", rng.u32(100000..900000)),
            10 => format!("MSET {k} {v} {k2} {v}"),
            11 => format!("SETBIT {k} {} 1", rng.u16(..100)),
            12 => format!("LPUSH {k} {v} {v}a"),
            13 => format!("RPUSH {k} {v}"),
            14 => format!("LPOP {k} {}", rng.u8(1..3)),
            15 => format!("RPOP {k}"),
            16 => format!("LSET {k} {i} {v}"),
            17 => format!("LINSERT {k} BEFORE {v} new"),
            18 => format!("LREM {k} {i} {v}"),
            19 => format!("LTRIM {k} {i} {}", rng.i64(-3..8)),
            20 => format!("LMOVE {k} {k2} LEFT RIGHT"),
            21 => format!("RPOPLPUSH {k} {k2}"),
            22 => format!("LMPOP 2 {k} {k2} RIGHT COUNT 2"),
            23 => format!("BLPOP {k} {k2} 0.01"),
            24 => format!("SADD {k} {v} {} {}", rng.u8(..30), rng.u8(..30)),
            25 => format!("SREM {k} {v} {}", rng.u8(..30)),
            26 => format!("SPOP {k}"),
            27 => format!("SPOP {k} {}", rng.u8(..4)),
            28 => format!("SMOVE {k} {k2} {}", rng.u8(..30)),
            29 => format!("SINTERSTORE {k} {k2} {k}"),
            30 => format!("SUNIONSTORE {k} {k2} {k}"),
            31 => format!("SDIFFSTORE {k2} {k} {k2}"),
            32 => format!("HSET {k} f{} {v}", rng.u8(..8)),
            33 => format!("HDEL {k} f{}", rng.u8(..8)),
            34 => format!("HINCRBY {k} f{} {i}", rng.u8(..8)),
            35 => format!("HINCRBYFLOAT {k} f{} 0.{}", rng.u8(..8), rng.u8(..99)),
            36 => format!("HSETNX {k} f{} {v}", rng.u8(..8)),
            37 => format!("ZADD {k} {i} m{} {}.5 m{}", rng.u8(..10), i, rng.u8(..10)),
            38 => format!("ZADD {k} GT CH {i} m{}", rng.u8(..10)),
            39 => format!("ZINCRBY {k} {i} m{}", rng.u8(..10)),
            40 => format!("ZREM {k} m{}", rng.u8(..10)),
            41 => format!("ZPOPMIN {k} {}", rng.u8(1..3)),
            42 => format!("ZPOPMAX {k}"),
            43 => format!("ZREMRANGEBYRANK {k} 0 {}", rng.u8(..2)),
            44 => format!("ZUNIONSTORE {k} 2 {k} {k2} WEIGHTS 2 1"),
            45 => format!("ZINTERSTORE {k2} 2 {k} {k2} AGGREGATE MAX"),
            46 => format!("ZRANGESTORE {k2} {k} 0 -1"),
            47 => format!("ZMPOP 2 {k} {k2} MAX COUNT 2"),
            48 => format!("BZPOPMIN {k} 0.01"),
            49 => format!("DEL {k} {k2}"),
            50 => format!("EXPIRE {k} {}", rng.u32(1000..100000)),
            51 => format!("PEXPIRE {k} {} NX", rng.u32(1000000..9000000)),
            52 => format!("PERSIST {k}"),
            53 => format!("RENAME {k} {k2}"),
            54 => format!("COPY {k} {k2} REPLACE"),
            55 => format!("MOVE {k} {}", rng.u8(..3)),
            56 => format!("SELECT {}", rng.u8(..3)),
            57 => "SWAPDB 0 1".to_string(),
            58 => format!("SORT {k} ALPHA LIMIT 0 5 STORE {k2}"),
            _ => format!("MULTI\nINCR {k}\nRPUSH {k2} t\nSPOP {k}\nEXEC"),
        };
        out.extend(cmd.lines().map(str::to_string));
    }
    out
}

// Whole datasets, read through commands (persistence and log tests).

/// One key as commands show it: type, encoding, contents and absolute expiry.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Shown {
    pub kind: String,
    pub encoding: String,
    pub contents: Vec<Vec<u8>>,
    pub expire_ms: i64,
}

pub type Contents = std::collections::BTreeMap<(u32, Vec<u8>), Shown>;

pub fn conn(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// Every key of every database, read through commands, so the same function describes a
/// shardis and a redis-server dataset.
pub fn dataset(port: u16, dbs: u32) -> Contents {
    let mut c = conn(port);
    let mut out = std::collections::BTreeMap::new();
    for db in 0..dbs {
        redis::cmd("SELECT").arg(db).query::<()>(&mut c).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        for k in keys {
            let kind: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
            let encoding: String = redis::cmd("OBJECT")
                .arg("ENCODING")
                .arg(&k)
                .query(&mut c)
                .unwrap();
            let mut contents: Vec<Vec<u8>> = match kind.as_str() {
                "string" => vec![redis::cmd("GET").arg(&k).query(&mut c).unwrap()],
                "list" => redis::cmd("LRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .query(&mut c)
                    .unwrap(),
                "set" => redis::cmd("SMEMBERS").arg(&k).query(&mut c).unwrap(),
                "hash" => {
                    let pairs: Vec<(Vec<u8>, Vec<u8>)> =
                        redis::cmd("HGETALL").arg(&k).query(&mut c).unwrap();
                    pairs
                        .into_iter()
                        .map(|(f, v)| [f, b"=".to_vec(), v].concat())
                        .collect()
                }
                "zset" => {
                    let v: Vec<Vec<u8>> = redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query(&mut c)
                        .unwrap();
                    v
                }
                other => panic!("unexpected type {other}"),
            };
            if kind == "set" || kind == "hash" {
                contents.sort();
            }
            let expire_ms: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(&mut c).unwrap();
            out.insert(
                (db, k),
                Shown {
                    kind,
                    encoding,
                    contents,
                    expire_ms,
                },
            );
        }
    }
    out
}
