//! Server configuration: the directive table shared by the config file, `--name value`
//! arguments, CONFIG GET and CONFIG SET, with Redis's value syntax and error texts.

use crate::glob::glob_match;
use shardis_keyspace::EncodingLimits;

/// Every setting the server knows, typed.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// Whether `bind` was given explicitly; protected mode only guards the default bind.
    pub bind_explicit: bool,
    pub databases: usize,
    pub requirepass: Option<Vec<u8>>,
    pub protected_mode: bool,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub loglevel: String,
    pub logfile: String,
    pub dir: String,
    pub dbfilename: String,
    pub save: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub stop_writes_on_bgsave_error: bool,
    pub appendonly: bool,
    pub appendfsync: String,
    pub appenddirname: String,
    pub appendfilename: String,
    pub aof_use_rdb_preamble: bool,
    pub aof_load_truncated: bool,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub hz: u64,
    pub daemonize: bool,
    pub io_threads: u64,
    /// Event-loop threads that run connections; 0 means one per core.
    pub event_loops: u64,
    pub cluster_enabled: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    /// When small collections leave their compact encodings.
    pub encodings: EncodingLimits,
    /// client-output-buffer-limit for the normal, replica and pubsub classes, in that order.
    pub output_limits: [ObLimit; 3],
    /// notify-keyspace-events, as `crate::notify` flag bits.
    pub notify_keyspace_events: u32,
}

/// One class of client-output-buffer-limit: a client whose queued output reaches `hard`
/// bytes, or stays at `soft` bytes or more for over `soft_seconds`, is disconnected. 0 turns
/// a limit off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The class names client-output-buffer-limit prints, in order.
const OB_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn output_limits_string(l: &[ObLimit; 3]) -> String {
    OB_CLASSES
        .iter()
        .zip(l)
        .map(|(c, l)| format!("{c} {} {} {}", l.hard, l.soft, l.soft_seconds))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses `<class> <hard> <soft> <soft-seconds>` groups, with Redis's error texts. Only the
/// classes given change; nothing changes if any group is wrong.
fn set_output_limits(l: &mut [ObLimit; 3], v: &[String]) -> Result<(), String> {
    let joined = v.join(" ");
    let words: Vec<&str> = joined.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut next = *l;
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        next[class] = ObLimit {
            hard: parse_memory(g[1]).ok_or_else(bad)?,
            soft: parse_memory(g[2]).ok_or_else(bad)?,
            soft_seconds: g[3].parse::<u64>().map_err(|_| bad())?,
        };
    }
    *l = next;
    Ok(())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            // Redis's built-in default: every interface, guarded by protected mode.
            bind: vec!["*".into(), "-::*".into()],
            bind_explicit: false,
            databases: 16,
            requirepass: None,
            protected_mode: true,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            loglevel: "notice".into(),
            logfile: String::new(),
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            save: "3600 1 300 100 60 10000".into(),
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            appendonly: false,
            appendfsync: "everysec".into(),
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            aof_use_rdb_preamble: true,
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            hz: 10,
            daemonize: false,
            io_threads: 1,
            event_loops: 0,
            cluster_enabled: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            encodings: EncodingLimits::default(),
            output_limits: [
                ObLimit::default(),
                ObLimit {
                    hard: 256 << 20,
                    soft: 64 << 20,
                    soft_seconds: 60,
                },
                ObLimit {
                    hard: 32 << 20,
                    soft: 8 << 20,
                    soft_seconds: 60,
                },
            ],
            notify_keyspace_events: 0,
        }
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &[String]) -> Result<(), String>;

/// One directive: its name, whether CONFIG SET may change it, and its accessors.
pub struct Directive {
    pub name: &'static str,
    pub mutable: bool,
    get: Getter,
    set: Setter,
}

fn one(v: &[String]) -> Result<&str, String> {
    match v {
        [x] => Ok(x),
        _ => Err("wrong number of arguments".into()),
    }
}

fn yes_no(v: &[String]) -> Result<bool, String> {
    match one(v)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn int_in(v: &[String], lo: i64, hi: i64) -> Result<i64, String> {
    let s = one(v)?;
    let n: i64 = s
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < lo || n > hi {
        return Err(format!("argument must be between {lo} and {hi} inclusive"));
    }
    Ok(n)
}

/// Redis's `memtoull`: a number with an optional b/k/kb/m/mb/g/gb unit (k = 1000, kb = 1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn memory_in(v: &[String], lo: u64, hi: u64) -> Result<u64, String> {
    let n = parse_memory(one(v)?).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < lo || n > hi {
        return Err(format!("argument must be between {lo} and {hi} inclusive"));
    }
    Ok(n)
}

fn one_of(v: &[String], allowed: &[&str]) -> Result<String, String> {
    let s = one(v)?.to_ascii_lowercase();
    if allowed.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!(
            "argument(s) must be one of the following: {}",
            allowed.join(", ")
        ))
    }
}

macro_rules! d {
    ($name:literal, $mutable:expr, |$c:ident| $get:expr, |$c2:ident, $v:ident| $set:expr) => {
        Directive {
            name: $name,
            mutable: $mutable,
            get: |$c: &Config| $get,
            set: |$c2: &mut Config, $v: &[String]| -> Result<(), String> {
                $set;
                Ok(())
            },
        }
    };
}

/// A collection-encoding threshold: an unsigned count or size.
macro_rules! enc {
    ($name:literal, $field:ident) => {
        d!($name, true, |c| c.encodings.$field.to_string(), |c, v| {
            c.encodings.$field = int_in(v, 0, i64::MAX)? as usize
        })
    };
}

/// Every directive, in the order CONFIG GET * lists them.
pub static DIRECTIVES: &[Directive] = &[
    enc!("hash-max-listpack-entries", hash_max_listpack_entries),
    enc!("hash-max-ziplist-entries", hash_max_listpack_entries),
    enc!("hash-max-listpack-value", hash_max_listpack_value),
    enc!("hash-max-ziplist-value", hash_max_listpack_value),
    enc!("set-max-intset-entries", set_max_intset_entries),
    enc!("set-max-listpack-entries", set_max_listpack_entries),
    enc!("set-max-listpack-value", set_max_listpack_value),
    enc!("zset-max-listpack-entries", zset_max_listpack_entries),
    enc!("zset-max-ziplist-entries", zset_max_listpack_entries),
    enc!("zset-max-listpack-value", zset_max_listpack_value),
    enc!("zset-max-ziplist-value", zset_max_listpack_value),
    d!(
        "list-max-listpack-size",
        true,
        |c| c.encodings.list_max_listpack_size.to_string(),
        |c, v| {
            c.encodings.list_max_listpack_size = int_in(v, i32::MIN as i64, i32::MAX as i64)?
        }
    ),
    d!(
        "list-max-ziplist-size",
        true,
        |c| c.encodings.list_max_listpack_size.to_string(),
        |c, v| {
            c.encodings.list_max_listpack_size = int_in(v, i32::MIN as i64, i32::MAX as i64)?
        }
    ),
    d!("port", true, |c| c.port.to_string(), |c, v| c.port =
        int_in(v, 0, 65535)? as u16),
    d!("bind", true, |c| c.bind.join(" "), |c, v| {
        // Like Redis, `bind` takes one or more addresses on one line; CONFIG SET passes one
        // space-separated string.
        let addrs: Vec<String> = v
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string))
            .collect();
        if addrs.is_empty() || addrs.len() > 16 {
            return Err("Too many bind addresses specified.".into());
        }
        c.bind = addrs;
        c.bind_explicit = true;
    }),
    d!("databases", false, |c| c.databases.to_string(), |c, v| c
        .databases =
        int_in(v, 1, i32::MAX as i64)? as usize),
    d!(
        "requirepass",
        true,
        |c| c
            .requirepass
            .as_ref()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default(),
        |c, v| {
            let p = one(v)?;
            c.requirepass = (!p.is_empty()).then(|| p.as_bytes().to_vec());
        }
    ),
    d!("protected-mode", true, |c| yn(c.protected_mode), |c, v| c
        .protected_mode =
        yes_no(v)?),
    d!("maxclients", true, |c| c.maxclients.to_string(), |c, v| c
        .maxclients =
        int_in(v, 1, u32::MAX as i64)? as u64),
    d!("timeout", true, |c| c.timeout.to_string(), |c, v| c
        .timeout =
        int_in(v, 0, i32::MAX as i64)? as u64),
    d!(
        "tcp-keepalive",
        true,
        |c| c.tcp_keepalive.to_string(),
        |c, v| c.tcp_keepalive = int_in(v, 0, i32::MAX as i64)? as u64
    ),
    d!(
        "proto-max-bulk-len",
        true,
        |c| c.proto_max_bulk_len.to_string(),
        |c, v| c.proto_max_bulk_len = memory_in(v, 1024 * 1024, i64::MAX as u64)?
    ),
    d!(
        "client-query-buffer-limit",
        true,
        |c| c.client_query_buffer_limit.to_string(),
        |c, v| c.client_query_buffer_limit = memory_in(v, 1024 * 1024, i64::MAX as u64)?
    ),
    d!("loglevel", true, |c| c.loglevel.clone(), |c, v| c
        .loglevel =
        one_of(
            v,
            &["debug", "verbose", "notice", "warning", "nothing"]
        )?),
    d!("logfile", false, |c| c.logfile.clone(), |c, v| c.logfile =
        one(v)?.to_string()),
    d!("dir", true, |c| c.dir.clone(), |c, v| c.dir =
        one(v)?.to_string()),
    d!("dbfilename", true, |c| c.dbfilename.clone(), |c, v| c
        .dbfilename =
        one(v)?.to_string()),
    d!("save", true, |c| c.save.clone(), |c, v| {
        let joined = v.join(" ");
        let parts: Vec<&str> = joined.split_whitespace().collect();
        if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<u64>().is_err()) {
            return Err("Invalid save parameters".into());
        }
        c.save = parts.join(" ");
    }),
    d!("appendonly", true, |c| yn(c.appendonly), |c, v| c
        .appendonly =
        yes_no(v)?),
    d!("appendfsync", true, |c| c.appendfsync.clone(), |c, v| c
        .appendfsync =
        one_of(v, &["always", "everysec", "no"])?),
    d!(
        "appenddirname",
        false,
        |c| c.appenddirname.clone(),
        |c, v| {
            let name = one(v)?;
            // Redis refuses a path: the directory lives in `dir`.
            if name.contains('/') {
                return Err("appenddirname can't be a path, just a dirname".into());
            }
            c.appenddirname = name.to_string();
        }
    ),
    d!(
        "appendfilename",
        false,
        |c| c.appendfilename.clone(),
        |c, v| {
            let name = one(v)?;
            if name.contains('/') {
                return Err("appendfilename can't be a path, just a filename".into());
            }
            c.appendfilename = name.to_string();
        }
    ),
    d!(
        "aof-use-rdb-preamble",
        true,
        |c| yn(c.aof_use_rdb_preamble),
        |c, v| c.aof_use_rdb_preamble = yes_no(v)?
    ),
    d!(
        "aof-load-truncated",
        true,
        |c| yn(c.aof_load_truncated),
        |c, v| c.aof_load_truncated = yes_no(v)?
    ),
    d!(
        "auto-aof-rewrite-percentage",
        true,
        |c| c.auto_aof_rewrite_percentage.to_string(),
        |c, v| c.auto_aof_rewrite_percentage = int_in(v, 0, i32::MAX as i64)? as u64
    ),
    d!(
        "auto-aof-rewrite-min-size",
        true,
        |c| c.auto_aof_rewrite_min_size.to_string(),
        |c, v| c.auto_aof_rewrite_min_size = memory_in(v, 0, i64::MAX as u64)?
    ),
    d!("maxmemory", true, |c| c.maxmemory.to_string(), |c, v| c
        .maxmemory =
        memory_in(v, 0, u64::MAX)?),
    d!(
        "maxmemory-policy",
        true,
        |c| c.maxmemory_policy.clone(),
        |c, v| c.maxmemory_policy = one_of(
            v,
            &[
                "volatile-lru",
                "volatile-lfu",
                "volatile-random",
                "volatile-ttl",
                "allkeys-lru",
                "allkeys-lfu",
                "allkeys-random",
                "noeviction"
            ]
        )?
    ),
    d!("hz", true, |c| c.hz.to_string(), |c, v| c.hz =
        int_in(v, 0, i32::MAX as i64)?.clamp(1, 500) as u64),
    d!("daemonize", false, |c| yn(c.daemonize), |c, v| c
        .daemonize =
        yes_no(v)?),
    d!("io-threads", false, |c| c.io_threads.to_string(), |c, v| {
        c.io_threads = int_in(v, 1, 128)? as u64
    }),
    d!(
        "event-loops",
        false,
        |c| c.event_loops.to_string(),
        |c, v| { c.event_loops = int_in(v, 0, 1024)? as u64 }
    ),
    d!(
        "cluster-enabled",
        false,
        |c| yn(c.cluster_enabled),
        |c, v| c.cluster_enabled = yes_no(v)?
    ),
    d!("rdbcompression", true, |c| yn(c.rdbcompression), |c, v| c
        .rdbcompression =
        yes_no(v)?),
    d!("rdbchecksum", false, |c| yn(c.rdbchecksum), |c, v| c
        .rdbchecksum =
        yes_no(v)?),
    d!(
        "stop-writes-on-bgsave-error",
        true,
        |c| yn(c.stop_writes_on_bgsave_error),
        |c, v| c.stop_writes_on_bgsave_error = yes_no(v)?
    ),
    d!(
        "lazyfree-lazy-user-del",
        true,
        |c| yn(c.lazyfree_lazy_user_del),
        |c, v| c.lazyfree_lazy_user_del = yes_no(v)?
    ),
    d!(
        "lazyfree-lazy-user-flush",
        true,
        |c| yn(c.lazyfree_lazy_user_flush),
        |c, v| c.lazyfree_lazy_user_flush = yes_no(v)?
    ),
    d!(
        "notify-keyspace-events",
        true,
        |c| crate::notify::flags_to_string(c.notify_keyspace_events),
        |c, v| c.notify_keyspace_events = crate::notify::parse_flags(one(v)?)
            .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
    ),
    d!(
        "client-output-buffer-limit",
        true,
        |c| output_limits_string(&c.output_limits),
        |c, v| set_output_limits(&mut c.output_limits, v)?
    ),
];

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub fn directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Applies one directive from the file or the command line.
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let d = directive(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        (d.set)(self, args)
    }

    /// CONFIG GET: every `(name, value)` a pattern asks for. As in Redis, a name without
    /// glob characters is looked up directly and echoed as typed; a pattern is matched
    /// case-insensitively against every directive; nothing is listed twice.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for p in patterns {
            if !p.iter().any(|c| b"[*?".contains(c)) {
                let name = String::from_utf8_lossy(p).into_owned();
                if let Some(d) = directive(&name) {
                    if !out.iter().any(|(n, _)| *n == name) {
                        out.push((name, (d.get)(self)));
                    }
                }
                continue;
            }
            for d in DIRECTIVES {
                if glob_match(p, d.name.as_bytes(), true) && !out.iter().any(|(n, _)| n == d.name) {
                    out.push((d.name.to_string(), (d.get)(self)));
                }
            }
        }
        out
    }

    /// CONFIG SET of several pairs, all or nothing: the new config is built on a copy and only
    /// returned when every pair applied.
    pub fn set_many(&self, pairs: &[(String, String)]) -> Result<Config, String> {
        let mut next = self.clone();
        let mut seen: Vec<&'static str> = Vec::new();
        for (name, value) in pairs {
            let Some(d) = directive(name) else {
                return Err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            };
            let fail = |why: &str| {
                format!("CONFIG SET failed (possibly related to argument '{name}') - {why}")
            };
            if seen.contains(&d.name) {
                return Err(fail("duplicate parameter"));
            }
            seen.push(d.name);
            if !d.mutable {
                return Err(fail("can't set immutable config"));
            }
            (d.set)(&mut next, std::slice::from_ref(value)).map_err(|e| fail(&e))?;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("512mb"), Some(512 * 1024 * 1024));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1GB"), Some(1 << 30));
        assert_eq!(parse_memory("12x"), None);
    }

    #[test]
    fn output_buffer_limits() {
        let c = Config::default();
        let d = directive("client-output-buffer-limit").unwrap();
        assert_eq!(
            (d.get)(&c),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let n = c
            .set_many(&[(
                "client-output-buffer-limit".into(),
                "pubsub 1mb 512kb 60 replica 1 2 3".into(),
            )])
            .unwrap();
        assert_eq!(
            (d.get)(&n),
            "normal 0 0 0 slave 1 2 3 pubsub 1048576 524288 60"
        );
        for bad in ["foo 1 2 3", "pubsub 1 2", "pubsub x 1 1", "pubsub 1 2 -1"] {
            assert!(c
                .set_many(&[("client-output-buffer-limit".into(), bad.into())])
                .is_err());
        }
    }

    #[test]
    fn set_many_is_atomic() {
        let c = Config::default();
        assert!(c
            .set_many(&[("timeout".into(), "5".into()), ("port".into(), "x".into())])
            .is_err());
        let n = c
            .set_many(&[
                ("timeout".into(), "5".into()),
                ("maxmemory".into(), "1mb".into()),
            ])
            .unwrap();
        assert_eq!(n.timeout, 5);
        assert_eq!(n.maxmemory, 1 << 20);
        let got = n.get_matching(&[b"max*", b"MAXMEMORY"]);
        assert!(got.iter().any(|(k, v)| k == "MAXMEMORY" && v == "1048576"));
        assert!(got.iter().any(|(k, v)| k == "maxmemory" && v == "1048576"));
    }
}
