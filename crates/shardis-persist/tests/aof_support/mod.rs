//! Shared helpers for the AOF integration tests: temp dirs, a real redis-server child and a minimal RESP client.
//!
//! This file must not depend on anything but std and the crate under test: the
//! tests check our reading of Redis's files against Redis itself.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shardis_persist::aof::encode_command;

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "shardis-aof-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The redis-server binary; the tests fail rather than skip without it.
pub fn redis_server_bin() -> String {
    let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("redis-server ({bin}) is required for this test: {e}"));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        version.contains("v=7.0."),
        "these tests compare with Redis 7.0, found: {version}"
    );
    bin
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// A running redis-server child, killed if the test ends without stopping it.
pub struct Redis {
    pub child: Child,
    pub port: u16,
    pub conn: Conn,
    pub log: PathBuf,
}

impl Redis {
    /// Starts redis-server on a free port with `dir` as working directory.
    pub fn start(dir: &Path, extra: &[&str]) -> Redis {
        let bin = redis_server_bin();
        let log = dir.join("redis.log");
        for _attempt in 0..5 {
            let port = free_port();
            let mut args: Vec<String> = vec![
                "--port".into(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--dir".into(),
                dir.display().to_string(),
                "--save".into(),
                "".into(),
                "--logfile".into(),
                log.display().to_string(),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            let child = Command::new(&bin)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut child = child;
            while Instant::now() < deadline {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    let mut conn = Conn::new(stream);
                    if conn.cmd(&[b"PING"]) == Reply::Status("PONG".into()) {
                        return Redis {
                            child,
                            port,
                            conn,
                            log,
                        };
                    }
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "redis-server did not start; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        self.conn.cmd(args)
    }

    /// Runs BGREWRITEAOF and waits until the rewrite (and its done handler) finished.
    pub fn bgrewriteaof(&mut self) {
        match self.cmd(&[b"BGREWRITEAOF"]) {
            Reply::Status(_) => {}
            other => panic!("BGREWRITEAOF failed: {other:?}"),
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info = match self.cmd(&[b"INFO", b"persistence"]) {
                Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("INFO failed: {other:?}"),
            };
            if info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
            {
                assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
                return;
            }
            assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SHUTDOWN (which flushes and fsyncs the AOF) and waits for the exit.
    pub fn stop(mut self) {
        let _ = self.conn.send(&[b"SHUTDOWN"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not shut down");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs redis-server expecting it to refuse to start, and returns what it logged.
pub fn run_expecting_exit(dir: &Path, extra: &[&str]) -> String {
    let bin = redis_server_bin();
    let mut args: Vec<String> = vec![
        // Port 0 would make Redis exit before loading anything, so it listens
        // on a unix socket inside the test's own directory instead.
        "--port".into(),
        "0".into(),
        "--unixsocket".into(),
        dir.join("redis.sock").display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
        "--save".into(),
        "".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = Command::new(&bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server was expected to exit but kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    let mut bytes = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut bytes);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut bytes);
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let writer = stream.try_clone().expect("clone stream");
        Conn {
            reader: BufReader::new(stream),
            writer,
        }
    }

    pub fn send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let mut buf = Vec::new();
        encode_command(&mut buf, args);
        self.writer.write_all(&buf)
    }

    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        self.send(args).expect("send");
        self.read_reply()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read reply line");
        assert!(line.ends_with("\r\n"), "bad reply line {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    pub fn read_reply(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Status(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(rest.parse().expect("int reply")),
            "$" => {
                let len: i64 = rest.parse().expect("bulk len");
                if len < 0 {
                    return Reply::Bulk(None);
                }
                let mut data = vec![0; len as usize + 2];
                self.reader.read_exact(&mut data).expect("bulk body");
                data.truncate(len as usize);
                Reply::Bulk(Some(data))
            }
            "*" => {
                let len: i64 = rest.parse().expect("array len");
                if len < 0 {
                    return Reply::Array(None);
                }
                Reply::Array(Some((0..len).map(|_| self.read_reply()).collect()))
            }
            _ => panic!("unexpected reply {line:?}"),
        }
    }
}

/// Owned argument vectors from string-ish literals, for expected command lists.
pub fn cmd(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

/// Shows an argument vector readably in assertion messages.
pub fn show(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            if a.len() > 40 {
                format!("<{} bytes>", a.len())
            } else {
                format!("{:?}", String::from_utf8_lossy(a))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
