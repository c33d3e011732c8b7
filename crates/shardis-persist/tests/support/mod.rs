//! Test support: a real redis-server child process, a minimal blocking RESP client, and a
//! canonical form of a whole keyspace that both redis-server's answers and loaded `Value`s map
//! to. Plain std only: no async runtime, no Redis client crate, nothing of the server's.

#![allow(dead_code)]

use shardis_keyspace::hash::Hash;
use shardis_keyspace::list::{End, List};
use shardis_keyspace::set::{Elem, Set};
use shardis_keyspace::zset::ZSet;
use shardis_keyspace::{EncodingLimits, StrVal, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        // Tests run in parallel and may share a name: a counter keeps their directories apart.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("shardis-persist-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server child on a free loopback port, killed on drop.
pub struct Redis {
    child: Child,
    pub port: u16,
    conn: BufReader<TcpStream>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Resp {
    Simple(String),
    Err(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Resp::Bulk(Some(b)) => b.clone(),
            Resp::Simple(s) => s.clone().into_bytes(),
            other => panic!("not a string reply: {other:?}"),
        }
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes()).unwrap()
    }
    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("not an integer reply: {other:?}"),
        }
    }
    pub fn array(&self) -> Vec<Resp> {
        match self {
            Resp::Array(Some(a)) => a.clone(),
            other => panic!("not an array reply: {other:?}"),
        }
    }
}

/// Server directives giving redis-server the same encoding thresholds as `lim`, so a
/// differential test compares like with like.
pub fn limit_args(lim: &shardis_keyspace::EncodingLimits) -> Vec<String> {
    [
        (
            "hash-max-listpack-entries",
            lim.hash_max_listpack_entries as i64,
        ),
        (
            "hash-max-listpack-value",
            lim.hash_max_listpack_value as i64,
        ),
        ("set-max-intset-entries", lim.set_max_intset_entries as i64),
        (
            "zset-max-listpack-entries",
            lim.zset_max_listpack_entries as i64,
        ),
        (
            "zset-max-listpack-value",
            lim.zset_max_listpack_value as i64,
        ),
        ("list-max-listpack-size", lim.list_max_listpack_size),
    ]
    .iter()
    .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
    .collect()
}

impl Redis {
    /// Starts redis-server 7.0 in `dir`, loading `dbfilename` there if it exists. Panics
    /// (failing the test) when redis-server is missing: CI installs it.
    pub fn start(dir: &Path, dbfilename: &str) -> Redis {
        Redis::start_with(dir, dbfilename, &[])
    }

    /// `start` with further directives.
    pub fn start_with(dir: &Path, dbfilename: &str, extra: &[&str]) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args([
                "--daemonize",
                "no",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
            ])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", dbfilename, "--logfile", "redis.log"])
            .args(limit_args(&shardis_keyspace::EncodingLimits::default()))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for these tests");
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start; see {}/redis.log",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut r = Redis {
            child,
            port,
            conn: BufReader::new(stream),
        };
        loop {
            match r.cmd(&["PING"]) {
                Resp::Simple(s) if s == "PONG" => break,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                other => panic!("redis-server not ready: {other:?}"),
            }
        }
        r
    }

    /// True while the server process is running (it exits when its file fails to load).
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Resp {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&out).unwrap();
        read_resp(&mut self.conn)
    }

    /// Runs a command that must not fail.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Resp {
        let r = self.cmd(args);
        if let Resp::Err(e) = &r {
            panic!(
                "{:?} failed: {e}",
                args.iter()
                    .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                    .collect::<Vec<_>>()
            );
        }
        r
    }

    /// Every key of every database in canonical form.
    pub fn contents(&mut self) -> Keyspace {
        let mut ks = Keyspace::new();
        for db in 0..16u64 {
            self.ok(&["SELECT", &db.to_string()]);
            for k in self.ok(&["KEYS", "*"]).array() {
                let key = k.bytes();
                let kind = self.ok(&[&b"TYPE"[..], &key]).text();
                let enc = self.ok(&[&b"OBJECT"[..], b"ENCODING", &key]).text();
                let exp = self.ok(&[&b"PEXPIRETIME"[..], &key]).int();
                let data = match kind.as_str() {
                    "string" => Data::Str(self.ok(&[&b"GET"[..], &key]).bytes()),
                    "list" => Data::List(
                        self.ok(&[&b"LRANGE"[..], &key, b"0", b"-1"])
                            .array()
                            .iter()
                            .map(Resp::bytes)
                            .collect(),
                    ),
                    "set" => {
                        let mut m: Vec<Vec<u8>> = self
                            .ok(&[&b"SMEMBERS"[..], &key])
                            .array()
                            .iter()
                            .map(Resp::bytes)
                            .collect();
                        m.sort();
                        Data::Set(m)
                    }
                    "hash" => {
                        let a = self.ok(&[&b"HGETALL"[..], &key]).array();
                        let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                            a.chunks(2).map(|c| (c[0].bytes(), c[1].bytes())).collect();
                        p.sort();
                        Data::Hash(p)
                    }
                    "zset" => {
                        let a = self
                            .ok(&[&b"ZRANGE"[..], &key, b"0", b"-1", b"WITHSCORES"])
                            .array();
                        Data::ZSet(
                            a.chunks(2)
                                .map(|c| (c[0].bytes(), score_of(&c[1].text())))
                                .collect(),
                        )
                    }
                    other => panic!("unexpected type {other}"),
                };
                ks.insert(
                    (db, key),
                    Entry {
                        encoding: enc,
                        expire_ms: (exp >= 0).then_some(exp as u64),
                        data,
                    },
                );
            }
        }
        self.ok(&["SELECT", "0"]);
        ks
    }
}

fn score_of(s: &str) -> u64 {
    let v: f64 = match s {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap(),
    };
    // -0 and 0 print alike; compare them alike.
    if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn line(r: &mut impl BufRead) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    assert!(s.ends_with("\r\n"), "bad RESP line {s:?}");
    s.truncate(s.len() - 2);
    s
}

fn read_resp(r: &mut impl BufRead) -> Resp {
    let l = line(r);
    let (t, rest) = l.split_at(1);
    match t {
        "+" => Resp::Simple(rest.into()),
        "-" => Resp::Err(rest.into()),
        ":" => Resp::Int(rest.parse().unwrap()),
        "$" => {
            let n: i64 = rest.parse().unwrap();
            if n < 0 {
                return Resp::Bulk(None);
            }
            let mut b = vec![0; n as usize + 2];
            r.read_exact(&mut b).unwrap();
            b.truncate(n as usize);
            Resp::Bulk(Some(b))
        }
        "*" => {
            let n: i64 = rest.parse().unwrap();
            if n < 0 {
                return Resp::Array(None);
            }
            Resp::Array(Some((0..n).map(|_| read_resp(r)).collect()))
        }
        _ => panic!("bad RESP type {l:?}"),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// Members in order with their scores' bits.
    ZSet(Vec<(Vec<u8>, u64)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub encoding: String,
    pub expire_ms: Option<u64>,
    pub data: Data,
}

pub type Keyspace = BTreeMap<(u64, Vec<u8>), Entry>;

/// A value in the same canonical form as `Redis::contents`.
pub fn canon(v: &Value, expire_ms: Option<u64>) -> Entry {
    let data = match v {
        Value::Str(s) => Data::Str(s.to_vec()),
        Value::List(l) => Data::List(l.range(0, -1).map(|s| s.to_vec()).collect()),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.iter().map(|e: Elem<'_>| e.to_vec()).collect();
            m.sort();
            Data::Set(m)
        }
        Value::Hash(h) => {
            let mut p: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            p.sort();
            Data::Hash(p)
        }
        Value::ZSet(z) => {
            let mut out = Vec::new();
            z.range(0, z.len(), false, |m, s| {
                out.push((m.to_vec(), if s == 0.0 { 0 } else { s.to_bits() }))
            });
            Data::ZSet(out)
        }
    };
    Entry {
        encoding: v.encoding().to_string(),
        expire_ms,
        data,
    }
}

/// Loads a file with the library into canonical form.
pub fn load_file(
    path: &Path,
    opts: &shardis_persist::LoadOptions,
) -> (Keyspace, shardis_persist::LoadSummary) {
    let mut ks = Keyspace::new();
    let f = std::fs::File::open(path).unwrap();
    let sum = shardis_persist::load(f, opts, |item| {
        if let shardis_persist::Item::Entry {
            db,
            key,
            value,
            expire_ms,
            ..
        } = item
        {
            assert!(
                ks.insert((db, key), canon(&value, expire_ms)).is_none(),
                "key delivered twice"
            );
        }
    })
    .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    (ks, sum)
}

/// A short account of how two entries differ (whole values are too long to print).
fn diff(o: &Entry, r: &Entry) -> String {
    let mut out = String::new();
    if o.encoding != r.encoding {
        out += &format!("encoding ours {} redis {}; ", o.encoding, r.encoding);
    }
    if o.expire_ms != r.expire_ms {
        out += &format!("expiry ours {:?} redis {:?}; ", o.expire_ms, r.expire_ms);
    }
    if o.data != r.data {
        let show = |d: &Data| -> Vec<String> {
            match d {
                Data::Str(b) => vec![String::from_utf8_lossy(b).into_owned()],
                Data::List(v) | Data::Set(v) => v
                    .iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect(),
                Data::Hash(v) => v
                    .iter()
                    .map(|(f, x)| {
                        format!(
                            "{}={}",
                            String::from_utf8_lossy(f),
                            String::from_utf8_lossy(x)
                        )
                    })
                    .collect(),
                Data::ZSet(v) => v
                    .iter()
                    .map(|(m, s)| format!("{}@{}", String::from_utf8_lossy(m), f64::from_bits(*s)))
                    .collect(),
            }
        };
        let (a, b) = (show(&o.data), show(&r.data));
        let i = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        out += &format!(
            "data: {} vs {} items, first difference at {i}: ours {:.80?} redis {:.80?}",
            a.len(),
            b.len(),
            a.get(i),
            b.get(i)
        );
    }
    out
}

/// Reports every difference between two keyspaces readably.
pub fn assert_same(ours: &Keyspace, redis: &Keyspace) {
    let mut problems = Vec::new();
    for (k, v) in redis {
        let name = format!("db {} key {:?}", k.0, String::from_utf8_lossy(&k.1));
        match ours.get(k) {
            None => problems.push(format!("{name}: missing from ours")),
            Some(o) if o != v => problems.push(format!("{name}: {}", diff(o, v))),
            _ => {}
        }
    }
    for k in ours.keys() {
        if !redis.contains_key(k) {
            problems.push(format!(
                "db {} key {:?}: only in ours",
                k.0,
                String::from_utf8_lossy(&k.1)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Random bytes: integers, short words, long runs, binary, decimals.
pub fn bytes(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(..6) {
        0 => rng.i64(..).to_string().into_bytes(),
        1 => rng.i64(-300..300).to_string().into_bytes(),
        2 => (0..rng.usize(..10))
            .map(|_| rng.alphanumeric() as u8)
            .collect(),
        3 => vec![b'r'; rng.usize(..200)],
        4 => (0..rng.usize(..100)).map(|_| rng.u8(..)).collect(),
        _ => format!("{:.3}", rng.f64() * 1000.0).into_bytes(),
    }
}

/// A random value of any type, built through the keyspace's own API under `lim`.
pub fn value(rng: &mut fastrand::Rng, lim: &EncodingLimits) -> Value {
    let n = if rng.bool() {
        rng.usize(1..10)
    } else {
        rng.usize(1..700)
    };
    match rng.u8(..5) {
        0 => Value::Str(StrVal::encoded(&bytes(rng))),
        1 => {
            let mut l = List::default();
            for _ in 0..n {
                l.push(End::Right, &bytes(rng));
            }
            Value::List(Box::new(l))
        }
        2 => {
            let mut s = Set::new();
            let ints = rng.bool();
            for _ in 0..n {
                let m = if ints {
                    rng.i64(..).to_string().into_bytes()
                } else {
                    bytes(rng)
                };
                s.insert(&m, lim);
            }
            Value::Set(Box::new(s))
        }
        3 => {
            let mut h = Hash::new();
            for _ in 0..n {
                h.set(&bytes(rng), &bytes(rng), lim);
            }
            Value::Hash(h)
        }
        _ => {
            let mut z = ZSet::new();
            for _ in 0..n {
                let score = match rng.u8(..5) {
                    0 => f64::INFINITY,
                    1 => f64::NEG_INFINITY,
                    2 => rng.i32(..) as f64,
                    _ => (rng.f64() - 0.5) * 10f64.powi(rng.i32(-20..20)),
                };
                z.insert(&bytes(rng), score, lim);
            }
            Value::ZSet(Box::new(z))
        }
    }
}
