//! Server-wide shared state, per-connection session state, and the context a handler gets.
//!
//! Nothing here touches sockets: the server crate owns connections and reacts to the
//! [`Action`]s and kill flags that commands leave here.

use crate::config::Config;
use crate::spec::{index, CommandSpec};
use parking_lot::{Mutex, RwLock};
use shardis_keyspace::{EncodingLimits, Keyspace, WatchFlag};
use shardis_protocol::ReplyWriter;
use std::collections::BTreeMap;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What the connection must do after a command, beyond sending its reply.
#[derive(Clone)]
pub enum Action {
    /// Send the reply, then close (QUIT, CLIENT KILL of oneself).
    Close,
    /// Wait before the next command (DEBUG SLEEP); other clients keep running.
    Sleep(Duration),
    /// Stop the server (SHUTDOWN).
    Shutdown,
    /// Wait (with an optional timeout) until a blocking command is served, then send its reply.
    Block(Arc<crate::blocking::Waiter>, Option<Duration>),
}

/// CLIENT REPLY state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Suppress only the next command's reply.
    Skip,
    /// Set by CLIENT REPLY SKIP itself: the skip starts with the following command.
    SkipNext,
}

/// Commands counters of one thread. Each worker thread bumps its own, so hot counters never
/// bounce a cache line between cores; INFO adds the threads up.
#[derive(Default)]
pub struct ThreadStats {
    pub calls: Box<[AtomicU64]>,
    /// Time spent per command in nanoseconds (INFO reports microseconds).
    pub nanos: Box<[AtomicU64]>,
    pub failed: Box<[AtomicU64]>,
    pub rejected: Box<[AtomicU64]>,
    /// Per-command latency histograms, allocated on a command's first call.
    pub latency: Box<[OnceLock<Histogram>]>,
    /// Error replies by error code (the first word: ERR, WRONGTYPE…), for INFO errorstats.
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub dirty: AtomicU64,
}

/// Sub-buckets per power of two: values are kept to within 1/8 (12.5%).
const SUB: u32 = 8;
const BUCKETS: usize = (16 + (64 - 4) * SUB) as usize;

/// A log-linear histogram of nanosecond durations: exact below 16 ns, then eight buckets per
/// power of two. Enough for INFO latencystats' p50/p99/p99.9 at a fixed, small cost.
pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: counters(BUCKETS),
        }
    }
}

impl Histogram {
    fn bucket(v: u64) -> usize {
        if v < 16 {
            return v as usize;
        }
        let msb = 63 - v.leading_zeros();
        (16 + (msb - 4) * SUB + ((v >> (msb - 3)) & (SUB as u64 - 1)) as u32) as usize
    }

    /// The largest value that falls in bucket `b`.
    fn upper(b: usize) -> u64 {
        if b < 16 {
            return b as u64;
        }
        let b = b as u32 - 16;
        let msb = b / SUB + 4;
        let sub = (b % SUB) as u64;
        ((8 + sub + 1) << (msb - 3)) - 1
    }

    pub fn record(&self, nanos: u64) {
        self.counts[Self::bucket(nanos)].fetch_add(1, Relaxed);
    }

    /// Adds this histogram's counts into `into`.
    pub fn merge_into(&self, into: &mut [u64]) {
        for (d, c) in into.iter_mut().zip(self.counts.iter()) {
            *d += c.load(Relaxed);
        }
    }

    /// The value at percentile `p` (0–100) of merged `counts`, in nanoseconds.
    pub fn percentile(counts: &[u64], p: f64) -> u64 {
        let total: u64 = counts.iter().sum();
        let want = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Self::upper(b);
            }
        }
        0
    }

    pub fn buckets() -> usize {
        BUCKETS
    }
}

fn counters(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// A client as others see it: CLIENT LIST, CLIENT KILL and INFO read these.
pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created: Instant,
    pub name: Mutex<Vec<u8>>,
    pub lib_name: Mutex<Vec<u8>>,
    pub lib_ver: Mutex<Vec<u8>>,
    pub db: AtomicUsize,
    pub resp: AtomicU32,
    /// Index of the last command in the spec index, plus one (0 = none yet).
    pub last_cmd: AtomicU32,
    pub last_active_ms: AtomicU64,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    pub authenticated: AtomicBool,
    pub query_buf: AtomicUsize,
    pub killed: AtomicBool,
    /// Commands queued since MULTI, or -1 outside a transaction (CLIENT LIST's `multi`).
    pub multi: AtomicI64,
    /// Keys watched (CLIENT LIST's `watch`).
    pub watching: AtomicUsize,
    /// Set when a watched key changes; read at EXEC.
    pub watch_flag: Arc<WatchFlag>,
    /// CLIENT TRACKING state.
    pub tracking: crate::tracking::ClientTracking,
    /// Wakes the connection's task so it notices `killed`.
    pub waker: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// Subscriptions and the queue of messages waiting to be written.
    pub pubsub: crate::pubsub::ClientPubSub,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        if let Some(w) = self.waker.get() {
            w();
        }
    }

    /// One CLIENT LIST / CLIENT INFO line, Redis 7's fields in Redis's order. `blocked`: the
    /// client waits in BLPOP or the like (the blocking registry knows, not the handle).
    pub fn describe(&self, blocked: bool) -> String {
        let now = now_ms();
        let idle = now.saturating_sub(self.last_active_ms.load(Relaxed)) / 1000;
        // Redis's order: P, x, b, t, R, B, d, e, T.
        let mut flags = String::new();
        if self.pubsub.active() {
            flags.push('P');
        }
        let multi = self.multi.load(Relaxed);
        if multi >= 0 {
            flags.push('x');
        }
        if blocked {
            flags.push('b');
        }
        let tracking = self.tracking.mode.lock().clone();
        if tracking.on {
            flags.push('t');
            if tracking.broken_redirect {
                flags.push('R');
            }
            if tracking.bcast {
                flags.push('B');
            }
        }
        if self.watch_flag.is_dirty() {
            flags.push('d');
        }
        if self.no_evict.load(Relaxed) {
            flags.push('e');
        }
        if self.no_touch.load(Relaxed) {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let cmd = match self.last_cmd.load(Relaxed) {
            0 => "NULL",
            i => index().all[i as usize - 1].name,
        };
        let qbuf = self.query_buf.load(Relaxed);
        let (sub, psub, ssub) = self.pubsub.counts();
        let omem = self.pubsub.outbox.bytes();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={sub} psub={psub} ssub={ssub} multi={} watch={} \
             qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={omem} tot-mem={} events=r \
             cmd={} user=default redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.id + 7,
            String::from_utf8_lossy(&self.name.lock()),
            self.created.elapsed().as_secs(),
            idle,
            flags,
            self.db.load(Relaxed),
            multi,
            self.watching.load(Relaxed),
            qbuf,
            16384usize.saturating_sub(qbuf),
            16384 + qbuf + omem,
            cmd,
            if tracking.on {
                tracking.redirect as i64
            } else {
                -1
            },
            self.resp.load(Relaxed),
            String::from_utf8_lossy(&self.lib_name.lock()),
            String::from_utf8_lossy(&self.lib_ver.lock()),
        )
    }
}

/// CLIENT PAUSE state.
#[derive(Default)]
pub struct Pause {
    pub until: Option<Instant>,
    /// true: only writes are paused (WRITE mode).
    pub write_only: bool,
}

/// State shared by every connection.
pub struct Shared {
    pub keyspace: Keyspace,
    /// Clients blocked in BLPOP and friends.
    pub blocking: crate::blocking::Blocking,
    /// CLIENT TRACKING's tables.
    pub tracking: crate::tracking::Tracking,
    /// Pub/Sub subscribers by channel, pattern and shard channel.
    pub pubsub: crate::pubsub::PubSub,
    pub config: RwLock<Config>,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_client_id: AtomicU64,
    thread_stats: Mutex<Vec<Arc<ThreadStats>>>,
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub started: Instant,
    pub run_id: String,
    pub pause: Mutex<Pause>,
    pub paused: AtomicBool,
    pub last_save_unix: AtomicU64,
    /// Set by SHUTDOWN; the server's main loop watches it.
    pub shutdown_requested: AtomicBool,
    pub tcp_port: AtomicU32,
    pub executable: String,
    pub config_file: String,
    /// Bytes allocated by the process's allocator, installed by the binary that picks it.
    pub allocated_bytes: OnceLock<fn() -> u64>,
    /// Applies CONFIG SET's effects outside the config itself (log level, working directory);
    /// an error refuses the whole CONFIG SET. Installed by the binary.
    #[allow(clippy::type_complexity)]
    pub on_config_change:
        OnceLock<Box<dyn Fn(&Config, &Config) -> Result<(), String> + Send + Sync>>,
    /// Bumped by every CONFIG SET, so connections refresh their cached limits without taking
    /// the config lock on every read.
    pub config_gen: AtomicU64,
    /// `proto-max-bulk-len`, mirrored for handlers that check it per command.
    max_bulk: AtomicU64,
    /// `notify-keyspace-events` flags, mirrored so a write's notification check is one
    /// relaxed load. Shared with the keyspace's hook, which checks it without upgrading its
    /// weak reference to this state.
    pub(crate) notify_flags: Arc<AtomicU32>,
    /// Snapshot state: BGSAVE, save points, MISCONF.
    pub persist: crate::persist::Persistence,
    /// The append-only log: whether writes are logged and where.
    pub aof: Arc<crate::aof::Aof>,
    /// The log's files: manifest, rewrites.
    pub aof_files: crate::aof_files::AofFiles,
    /// Told how far the log is durable (installed by the server, which wakes the clients
    /// waiting for it).
    #[allow(clippy::type_complexity)]
    pub aof_progress: OnceLock<Box<dyn Fn(u64) + Send + Sync>>,
    /// A weak handle on this state, for work that outlives a command (BGSAVE's thread).
    me: std::sync::Weak<Shared>,
}

thread_local! {
    static STATS: std::cell::RefCell<Option<Arc<ThreadStats>>> = const { std::cell::RefCell::new(None) };
}

impl Shared {
    pub fn new(config: Config, config_file: String) -> Arc<Shared> {
        let max_bulk = config.proto_max_bulk_len;
        let notify_flags = config.notify_keyspace_events;
        let run_id: String = (0..40)
            .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
            .collect();
        let run_id = run_id
            .chars()
            .map(|c| if c.is_ascii_hexdigit() { c } else { 'a' })
            .collect();
        let shared = Arc::new_cyclic(|me| Shared {
            keyspace: Keyspace::new(config.databases),
            blocking: Default::default(),
            tracking: Default::default(),
            pubsub: Default::default(),
            tcp_port: AtomicU32::new(config.port as u32),
            config: RwLock::new(config),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            thread_stats: Mutex::new(Vec::new()),
            connections_received: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            started: Instant::now(),
            run_id,
            pause: Mutex::new(Pause::default()),
            paused: AtomicBool::new(false),
            last_save_unix: AtomicU64::new(now_ms() / 1000),
            shutdown_requested: AtomicBool::new(false),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config_file,
            allocated_bytes: OnceLock::new(),
            on_config_change: OnceLock::new(),
            config_gen: AtomicU64::new(0),
            max_bulk: AtomicU64::new(max_bulk),
            notify_flags: Arc::new(AtomicU32::new(notify_flags)),
            persist: Default::default(),
            aof: Default::default(),
            aof_files: crate::aof_files::AofFiles::new(),
            aof_progress: OnceLock::new(),
            me: me.clone(),
        });
        // Tracking invalidates from inside the keyspace, under the written key's lock. A weak
        // handle, so the keyspace does not keep its owner alive.
        let weak = Arc::downgrade(&shared);
        shared.keyspace.set_write_hook(Box::new(move |_db, key| {
            if let Some(s) = weak.upgrade() {
                s.tracking.invalidate(&s, key);
            }
        }));
        crate::notify::install_hook(&shared);
        let aof = shared.aof.clone();
        shared
            .keyspace
            .set_commit_hook(Box::new(move |mutated, seen| {
                crate::aof::commit(&aof, mutated, seen)
            }));
        shared
    }

    /// A strong handle on this state, unless the server is being torn down.
    pub fn me(&self) -> Option<Arc<Shared>> {
        self.me.upgrade()
    }

    /// Replaces the configuration (CONFIG SET), applies its outside effects, and tells
    /// connections to refresh. Nothing changes if an effect fails.
    pub fn set_config(&self, next: Config) -> Result<(), String> {
        let mut cfg = self.config.write();
        if let Some(apply) = self.on_config_change.get() {
            apply(&cfg, &next)?;
        }
        self.max_bulk.store(next.proto_max_bulk_len, Relaxed);
        self.notify_flags
            .store(next.notify_keyspace_events, Relaxed);
        self.persist.refresh(&next);
        let aof_changed = next.appendonly != cfg.appendonly;
        let fsync = (next.appendfsync != cfg.appendfsync).then(|| next.appendfsync.clone());
        *cfg = next;
        drop(cfg);
        self.config_gen.fetch_add(1, Relaxed);
        // Log changes run after the config lock is released: they read the config.
        if let Some(p) = fsync.and_then(|p| shardis_persist::aof_writer::Fsync::parse(&p)) {
            if let Some(w) = self.aof.writer() {
                w.set_policy(p);
            }
        }
        if aof_changed {
            let on = self.config.read().appendonly;
            if let Err(e) = crate::aof_files::set_enabled(self, on) {
                tracing::warn!("CONFIG SET appendonly: {e}");
            }
        }
        Ok(())
    }

    /// The collection-encoding thresholds, cached per thread and refreshed when CONFIG SET
    /// bumps the generation, so collection writes never touch the config lock.
    pub fn encoding_limits(&self) -> EncodingLimits {
        self.hot_config().0
    }

    /// One class of client-output-buffer-limit (0 normal, 1 replica, 2 pubsub), from the same
    /// per-thread cache, so a publish never takes the config lock.
    pub fn output_limit(&self, class: usize) -> crate::config::ObLimit {
        self.hot_config().1[class]
    }

    /// The settings read on every write or publish, cached per thread and refreshed when
    /// CONFIG SET bumps the generation.
    fn hot_config(&self) -> (EncodingLimits, [crate::config::ObLimit; 3]) {
        type Hot = (EncodingLimits, [crate::config::ObLimit; 3]);
        thread_local! {
            static CACHE: std::cell::Cell<Option<(u64, Hot)>> = const { std::cell::Cell::new(None) };
        }
        let gen = self.config_gen.load(Relaxed);
        CACHE.with(|c| match c.get() {
            Some((g, h)) if g == gen => h,
            _ => {
                let cfg = self.config.read();
                let h = (cfg.encodings, cfg.output_limits);
                c.set(Some((gen, h)));
                h
            }
        })
    }

    /// `proto-max-bulk-len` without taking the config lock.
    pub fn max_bulk(&self) -> u64 {
        self.max_bulk.load(Relaxed)
    }

    /// `notify-keyspace-events` as `crate::notify` flag bits, without the config lock.
    #[inline]
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Relaxed)
    }

    /// This thread's counters, registered on first use.
    pub fn stats<R>(&self, f: impl FnOnce(&ThreadStats) -> R) -> R {
        STATS.with(|cell| {
            let mut slot = cell.borrow_mut();
            let s = slot.get_or_insert_with(|| {
                let n = index().all.len();
                let s = Arc::new(ThreadStats {
                    calls: counters(n),
                    nanos: counters(n),
                    failed: counters(n),
                    rejected: counters(n),
                    latency: (0..n).map(|_| OnceLock::new()).collect(),
                    ..Default::default()
                });
                self.thread_stats.lock().push(s.clone());
                s
            });
            f(s)
        })
    }

    /// Counts an error reply under its code (the word after `-`, or ERR).
    pub fn count_error(&self, msg: &str) {
        let code = match msg.strip_prefix('-') {
            Some(rest) => rest.split(' ').next().unwrap_or("ERR"),
            None => "ERR",
        };
        self.stats(|s| *s.errors.lock().entry(code.to_string()).or_insert(0) += 1);
    }

    /// Error counts by code, summed over every thread.
    pub fn error_counts(&self) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for s in self.thread_stats.lock().iter() {
            for (k, v) in s.errors.lock().iter() {
                *all.entry(k.clone()).or_insert(0) += v;
            }
        }
        all
    }

    /// Command `id`'s latency histogram merged over every thread, or `None` if never called.
    pub fn latency(&self, id: usize) -> Option<Vec<u64>> {
        let mut merged = vec![0u64; Histogram::buckets()];
        let mut any = false;
        for s in self.thread_stats.lock().iter() {
            if let Some(h) = s.latency[id].get() {
                h.merge_into(&mut merged);
                any = true;
            }
        }
        any.then_some(merged)
    }

    /// Sums a counter over every thread.
    pub fn total(&self, f: impl Fn(&ThreadStats) -> u64) -> u64 {
        self.thread_stats.lock().iter().map(|s| f(s)).sum()
    }

    pub fn reset_stats(&self) {
        for s in self.thread_stats.lock().iter() {
            for a in s
                .calls
                .iter()
                .chain(s.nanos.iter())
                .chain(s.failed.iter())
                .chain(s.rejected.iter())
            {
                a.store(0, Relaxed);
            }
            s.hits.store(0, Relaxed);
            s.misses.store(0, Relaxed);
            s.errors.lock().clear();
            for h in s.latency.iter().filter_map(|h| h.get()) {
                h.counts.iter().for_each(|c| c.store(0, Relaxed));
            }
        }
        self.connections_received.store(0, Relaxed);
        self.rejected_connections.store(0, Relaxed);
    }

    /// Registers a new client and returns its handle.
    pub fn register(&self, addr: String, laddr: String) -> Arc<ClientHandle> {
        let id = self.next_client_id.fetch_add(1, Relaxed);
        let h = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            resp: AtomicU32::new(2),
            last_cmd: AtomicU32::new(0),
            last_active_ms: AtomicU64::new(now_ms()),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            authenticated: AtomicBool::new(false),
            query_buf: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            multi: AtomicI64::new(-1),
            watching: AtomicUsize::new(0),
            watch_flag: WatchFlag::new(),
            tracking: Default::default(),
            waker: OnceLock::new(),
            pubsub: Default::default(),
        });
        self.clients.lock().insert(id, h.clone());
        self.connections_received.fetch_add(1, Relaxed);
        h
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// How long a command must still wait because of CLIENT PAUSE, if at all.
    pub fn pause_remaining(&self, is_write: bool) -> Option<Duration> {
        if !self.paused.load(Relaxed) {
            return None;
        }
        let mut p = self.pause.lock();
        let until = p.until?;
        let now = Instant::now();
        if now >= until {
            p.until = None;
            self.paused.store(false, Relaxed);
            return None;
        }
        (!p.write_only || is_write).then(|| until - now)
    }

    pub fn unix_time(&self) -> u64 {
        now_ms() / 1000
    }
}

pub use shardis_keyspace::now_ms;

/// Per-connection state.
pub struct Session {
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub handle: Arc<ClientHandle>,
    pub action: Option<Action>,
    /// Between MULTI and EXEC/DISCARD: the queued commands.
    pub multi: Option<crate::multi::Multi>,
    /// Keys this client WATCHes, by database.
    pub watching: Vec<(usize, Vec<u8>)>,
    /// True while EXEC runs the queue: blocking commands don't block, pause doesn't apply.
    pub in_exec: bool,
    /// Blocked-client wake-ups that EXEC's commands caused, served after its locks go
    /// (`None`: the whole database).
    pub exec_signals: Vec<(usize, Option<Vec<u8>>)>,
    /// CLIENT UNBLOCKs run inside EXEC, carried out after its locks go: (client, with error).
    pub exec_unblocks: Vec<(u64, bool)>,
    /// Messages for this client caused by its own command (tracking invalidations), sent
    /// after that command's reply as Redis does.
    pub pending_pushes: Vec<u8>,
    /// The append-only log offset that must be durable before this client's pending replies
    /// go out (`appendfsync always`); 0 when there is nothing to wait for.
    pub aof_wait: u64,
    /// Blocking commands act like their non-blocking forms (the log's replay client:
    /// nobody could ever push for it).
    pub never_block: bool,
    /// CLIENT CACHING was given for the next command (OPTIN yes / OPTOUT no).
    pub caching: bool,
}

impl Session {
    pub fn new(handle: Arc<ClientHandle>, needs_auth: bool) -> Session {
        handle.authenticated.store(!needs_auth, Relaxed);
        Session {
            db: 0,
            resp3: false,
            authenticated: !needs_auth,
            reply_mode: ReplyMode::On,
            handle,
            action: None,
            multi: None,
            watching: Vec::new(),
            in_exec: false,
            exec_signals: Vec::new(),
            exec_unblocks: Vec::new(),
            pending_pushes: Vec::new(),
            aof_wait: 0,
            never_block: false,
            caching: false,
        }
    }

    /// Drops what the client holds in shared registries (watched keys, subscriptions), for
    /// RESET and for the server when the connection ends. RESET leaves Pub/Sub mode without
    /// unsubscribe confirmations, as in Redis.
    pub fn release(&mut self, shared: &Shared) {
        shared.pubsub.remove_client(&self.handle);
        shared.tracking.disable(&self.handle);
        self.multi = None;
        self.handle.multi.store(-1, Relaxed);
        crate::multi::unwatch_all(shared, self);
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }
}

/// What a handler works with.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub sess: &'a mut Session,
    pub out: &'a mut ReplyWriter,
    pub spec: &'static CommandSpec,
}

impl Ctx<'_> {
    pub fn db(&self) -> usize {
        self.sess.db
    }

    pub fn hit(&self, hit: bool) {
        self.shared
            .stats(|s| if hit { &s.hits } else { &s.misses }.fetch_add(1, Relaxed));
    }

    pub fn dirty(&self, n: u64) {
        if n > 0 {
            self.shared.stats(|s| s.dirty.fetch_add(n, Relaxed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn histogram_buckets_bound_their_values() {
        for v in (0..5000u64).chain([1 << 20, 123_456_789, u32::MAX as u64, 1 << 40]) {
            let b = Histogram::bucket(v);
            assert!(Histogram::upper(b) >= v, "{v}");
            assert!(b == 0 || Histogram::upper(b - 1) < v, "{v}");
            assert!(Histogram::upper(b) - v <= v / 8 + 1, "{v} is within 1/8");
        }
        let h = Histogram::default();
        for v in 1..=1000 {
            h.record(v);
        }
        let mut m = vec![0; Histogram::buckets()];
        h.merge_into(&mut m);
        let p50 = Histogram::percentile(&m, 50.0);
        assert!((500..=570).contains(&p50), "{p50}");
    }
}
