//! The append-only log's command side: which record each write command leaves, in the order
//! the writes happened, and how far the log must be durable before a client's reply may go.
//! It must not depend on sockets or an async runtime; files are `shardis-persist`'s.
//!
//! Ordering: a command's record is appended by the keyspace's commit hook, under the shard
//! locks of the write it describes, so two writes to one key are logged in the order they
//! happened even when they ran on different threads. A transaction's records are collected
//! and appended as one MULTI … EXEC block before it releases its shards.
//!
//! Determinism: a record must replay to the same effect later. Relative expiries become
//! absolute (PXAT, PEXPIREAT), INCRBYFLOAT becomes SET, SPOP becomes SREM, blocking pops
//! become their non-blocking forms, and a key found expired is logged as a DEL before the
//! command that found it, as Redis propagates them.

use parking_lot::RwLock;
use shardis_persist::aof_writer::AofWriter;
use shardis_protocol::Args;
use std::cell::RefCell;
use std::sync::atomic::{
    AtomicBool,
    Ordering::{Relaxed, Release, SeqCst},
};
use std::sync::Arc;

/// The log's shared state: whether commands are logged and the writer they go to.
#[derive(Default)]
pub struct Aof {
    on: AtomicBool,
    writer: RwLock<Option<Arc<AofWriter>>>,
    /// Raised by the writer while writing fails; write commands then get MISCONF.
    failed: Arc<AtomicBool>,
    /// Where a new writer's offsets start: offsets only grow, across writers too, so a
    /// client's or a shard's remembered offset never refers to another writer's bytes.
    next_start: std::sync::atomic::AtomicU64,
}

impl Aof {
    /// Whether write commands are being logged (one relaxed load per write command).
    #[inline]
    pub fn on(&self) -> bool {
        self.on.load(Relaxed)
    }

    /// Starts logging to `w` (or stops, with `None`). The keyspace's commit hook is
    /// called only while logging, so writes pay nothing for the log when it is off. An old
    /// writer finishes (last write, fsync) on a thread of its own: the caller may hold
    /// shards (the snapshot's instant, EXEC) and must not wait for I/O.
    pub fn set_writer(&self, ks: &shardis_keyspace::Keyspace, w: Option<Arc<AofWriter>>) {
        let on = w.is_some();
        if !on {
            ks.set_commit_hook_on(false);
            self.on.store(false, SeqCst);
        }
        let old = std::mem::replace(&mut *self.writer.write(), w);
        if let Some(old) = &old {
            self.next_start.fetch_max(old.end(), Relaxed);
        }
        if on {
            ks.set_commit_hook_on(true);
            self.on.store(true, SeqCst);
        } else {
            self.failed.store(false, Relaxed);
        }
        if let Some(old) = old {
            let _ = std::thread::Builder::new()
                .name("shardis-aof-close".into())
                .spawn(move || drop(old));
        }
    }

    /// The first offset of the next writer.
    pub fn next_start(&self) -> u64 {
        let current = self.writer().map_or(0, |w| w.end());
        self.next_start.load(Relaxed).max(current)
    }

    /// Turning the log on, before its first instant: write commands start making records
    /// (appended only once the writer is set), and those that started without one are
    /// waited for, so each write is either in the snapshot taken next or logged after it.
    pub fn prepare_on(&self) {
        self.on.store(true, SeqCst);
        quiesce();
    }

    pub fn writer(&self) -> Option<Arc<AofWriter>> {
        self.writer.read().clone()
    }

    /// The flag a writer raises while its writes fail.
    pub fn failed_flag(&self) -> Arc<AtomicBool> {
        self.failed.clone()
    }

    /// Whether writes must be refused because the log can't be written (one relaxed load).
    #[inline]
    pub fn failing(&self) -> bool {
        self.failed.load(Relaxed)
    }

    /// The error that stops writes, for the MISCONF text.
    pub fn failure(&self) -> Option<String> {
        self.writer().and_then(|w| w.failure())
    }

    fn append<'a>(&self, records: impl IntoIterator<Item = (Option<usize>, &'a [u8])>) -> u64 {
        match &*self.writer.read() {
            Some(w) => w.append(records),
            None => 0,
        }
    }
}

/// The record of the command running on this thread.
#[derive(Default)]
struct Rec {
    /// A write command runs and its record is not appended yet.
    active: bool,
    db: usize,
    buf: Vec<u8>,
    /// The log offset a client must see durable: the end of the last record appended.
    last_end: u64,
    /// Records of the running transaction, appended together at its end.
    tx: Option<Vec<(usize, Vec<u8>)>>,
}

thread_local! {
    static REC: RefCell<Rec> = RefCell::default();
    /// This thread is inside a write command (see [`enter_write`]).
    static BUSY: Arc<AtomicBool> = {
        let flag = Arc::new(AtomicBool::new(false));
        BUSY_FLAGS.lock().push(flag.clone());
        flag
    };
}

/// Every thread's [`BUSY`] flag, for [`quiesce`].
static BUSY_FLAGS: parking_lot::Mutex<Vec<Arc<AtomicBool>>> = parking_lot::Mutex::new(Vec::new());

/// Marks this thread as inside a write command until dropped (also when the command
/// panics, so [`quiesce`] never waits for a thread that has moved on).
pub(crate) struct Busy;

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.with(|b| b.store(false, Release));
    }
}

/// A write command starts: returns its mark and whether it is logged. Paired with
/// [`quiesce`] through sequentially consistent operations, so a command either sees the log
/// on or is waited for before the log's first instant.
pub(crate) fn enter_write(aof: &Aof) -> (Busy, bool) {
    BUSY.with(|b| b.store(true, SeqCst));
    (Busy, aof.on.load(SeqCst))
}

/// Waits until every write command running on another thread is over (those that started
/// before a switch: the log turned on, writes paused for the final save). Must be called
/// with no shard lock held (those commands may wait for one).
pub(crate) fn quiesce() {
    let flags: Vec<Arc<AtomicBool>> = BUSY_FLAGS.lock().clone();
    let mine = BUSY.with(|b| b.clone());
    for f in flags.iter().filter(|f| !Arc::ptr_eq(f, &mine)) {
        while f.load(SeqCst) {
            std::thread::yield_now();
        }
    }
}

/// Replaces `buf` with a command in RESP multibulk, as the log stores commands.
fn encode<'a>(buf: &mut Vec<u8>, args: impl ExactSizeIterator<Item = &'a [u8]>) {
    buf.clear();
    shardis_persist::aof::encode_command_from(buf, args);
}

/// Before a write command runs: its record is its own arguments unless the handler
/// rewrites it. Blocking commands are logged in their non-blocking form right away.
pub(crate) fn begin(db: usize, name: &str, args: &Args<'_>) {
    REC.with_borrow_mut(|r| {
        r.active = true;
        r.db = db;
        match nonblocking_form(name, args) {
            Some(v) => encode(&mut r.buf, v.iter().map(|a| &a[..])),
            None => encode(&mut r.buf, (0..args.len()).map(|i| args.get(i))),
        }
    });
}

/// After the command: no record may be appended any more. Returns the log offset the
/// client must wait for (0 if it appended nothing).
pub(crate) fn finish() -> u64 {
    REC.with_borrow_mut(|r| {
        r.active = false;
        std::mem::take(&mut r.last_end)
    })
}

/// Whether the running command's record is still to be appended (so a handler knows
/// whether building a rewritten record is worth it).
pub fn logging() -> bool {
    REC.with_borrow(|r| r.active)
}

/// Replaces the running command's record, before the locks of its write are released.
pub fn rewrite(args: &[&[u8]]) {
    REC.with_borrow_mut(|r| {
        if r.active {
            encode(&mut r.buf, args.iter().copied());
        }
    });
}

/// The running command changed nothing worth replaying: no record.
pub fn skip() {
    REC.with_borrow_mut(|r| r.active = false);
}

/// The keyspace's commit hook, run as a command's locks are released: appends its record
/// (once) if it changed something, and remembers the newest log offset of the shards it
/// saw, which must be durable before its reply. Returns the offset of its own record.
pub(crate) fn commit(aof: &Aof, mutated: bool, seen: u64) -> u64 {
    REC.with_borrow_mut(|r| {
        r.last_end = r.last_end.max(seen);
        if !mutated || !r.active {
            return r.last_end;
        }
        r.active = false;
        if let Some(tx) = &mut r.tx {
            tx.push((r.db, r.buf.clone()));
            return r.last_end;
        }
        let end = aof.append([(Some(r.db), &r.buf[..])]);
        r.last_end = r.last_end.max(end);
        end
    })
}

/// After a command that wrote nothing (a read): the log offset its reply must wait for.
pub(crate) fn take_seen() -> u64 {
    REC.with_borrow_mut(|r| std::mem::take(&mut r.last_end))
}

/// A key found expired (and reclaimed) is logged as deleted, ahead of the command that
/// found it: a replay, which never expires keys, must not see it.
pub(crate) fn expired(aof: &Aof, db: usize, key: &[u8]) {
    let mut buf = Vec::with_capacity(key.len() + 24);
    encode(&mut buf, [&b"DEL"[..], key].into_iter());
    // Inside a transaction it takes its place among the transaction's records.
    let queued = REC.with_borrow_mut(|r| match &mut r.tx {
        Some(tx) => {
            tx.push((db, std::mem::take(&mut buf)));
            true
        }
        None => false,
    });
    if !queued {
        let end = aof.append([(Some(db), &buf[..])]);
        REC.with_borrow_mut(|r| r.last_end = r.last_end.max(end));
    }
}

/// EXEC's records are gathered while it runs and appended as one block before its
/// shards are released.
pub(crate) struct Tx {
    on: bool,
}

impl Tx {
    pub(crate) fn begin(aof: &Aof) -> Tx {
        let on = aof.on();
        if on {
            REC.with_borrow_mut(|r| r.tx = Some(Vec::new()));
        }
        Tx { on }
    }

    /// Appends the block; returns the offset the client must wait for.
    pub(crate) fn end(self, aof: &Aof) -> u64 {
        if !self.on {
            return 0;
        }
        let recs = REC.with_borrow_mut(|r| r.tx.take()).unwrap_or_default();
        if recs.is_empty() {
            return 0;
        }
        let (mut multi, mut exec) = (Vec::new(), Vec::new());
        encode(&mut multi, [&b"MULTI"[..]].into_iter());
        encode(&mut exec, [&b"EXEC"[..]].into_iter());
        let block = std::iter::once((None, &multi[..]))
            .chain(recs.iter().map(|(db, b)| (Some(*db), &b[..])))
            .chain(std::iter::once((None, &exec[..])));
        aof.append(block)
    }
}

/// Runs `f` (serving a blocked client, with the log on) with `args` as the record of what
/// it does, and returns its result with the log offset its record ends at.
pub(crate) fn scoped<R>(db: usize, args: &[&[u8]], f: impl FnOnce() -> R) -> (R, u64) {
    let outer = REC.with_borrow_mut(|r| {
        let mut mine = Rec {
            active: true,
            db,
            ..Rec::default()
        };
        encode(&mut mine.buf, args.iter().copied());
        mine.tx = r.tx.take();
        std::mem::replace(r, mine)
    });
    let out = f();
    let end = REC.with_borrow_mut(|r| {
        let mine = std::mem::replace(r, outer);
        r.tx = mine.tx;
        // The command that served the client waits for the record too (harmless when it is
        // another client's push, needed when a blocking command is served at once).
        r.last_end = r.last_end.max(mine.last_end);
        mine.last_end
    });
    (out, end)
}

/// The non-blocking command a blocking one is logged as: it pops from the first non-empty
/// key exactly as the blocking form does when data is there, and does nothing otherwise,
/// so a replay never waits.
fn nonblocking_form(name: &str, args: &Args<'_>) -> Option<Vec<Vec<u8>>> {
    let a = |i: usize| args.get(i).to_vec();
    let n = args.len();
    let keys = |from: usize, to: usize| (from..to).map(a);
    let v = |s: &str| s.as_bytes().to_vec();
    Some(match name {
        "blpop" | "brpop" => {
            let mut out = vec![v("LMPOP"), (n - 2).to_string().into_bytes()];
            out.extend(keys(1, n - 1));
            out.push(v(if name == "blpop" { "LEFT" } else { "RIGHT" }));
            out
        }
        "bzpopmin" | "bzpopmax" => {
            let mut out = vec![v("ZMPOP"), (n - 2).to_string().into_bytes()];
            out.extend(keys(1, n - 1));
            out.push(v(if name == "bzpopmin" { "MIN" } else { "MAX" }));
            out
        }
        "blmpop" => std::iter::once(v("LMPOP")).chain(keys(2, n)).collect(),
        "bzmpop" => std::iter::once(v("ZMPOP")).chain(keys(2, n)).collect(),
        "blmove" => std::iter::once(v("LMOVE")).chain(keys(1, n - 1)).collect(),
        "brpoplpush" => vec![v("RPOPLPUSH"), a(1), a(2)],
        _ => return None,
    })
}
