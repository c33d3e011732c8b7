//! The append-only log's writer: records appended by commands (in the order their writes
//! happened) are written to the current incremental file by one thread, which also fsyncs
//! per `appendfsync`. Knows files and bytes only: no keyspace, no sockets, no async.
//!
//! Group commit: with `always`, a client is acknowledged once [`AofWriter::synced`] has
//! passed the end of its records. The writer takes everything appended while it was busy in
//! one write and one fsync, so one fsync covers every client waiting in that batch.

use crate::aof::encode_select;
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the writer looks for records under everysec/no (Redis writes its buffer once
/// per event-loop turn; a few milliseconds is the same order and costs no wake-ups).
const TICK: Duration = Duration::from_millis(2);

/// Queued bytes that wake the writer at once under everysec/no.
const WAKE_BYTES: usize = 1 << 16;

/// How long the writer waits for more records before an `always` fsync.
const GATHER: Duration = Duration::from_micros(30);

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn parse(s: &str) -> Option<Fsync> {
        match s {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }
}

/// Told the new synced offset after every fsync (and the written offset when fsync is not
/// waited for), so waiting clients can be released. Called on the writer thread.
pub type Progress = Box<dyn Fn(u64) + Send + Sync>;

/// Pending bytes and where the stream stands.
struct State {
    buf: Vec<u8>,
    /// Logical offset of the end of `buf` (bytes ever appended).
    end: u64,
    /// The database the stream's last record selected, if any.
    db: Option<usize>,
    /// Offsets at which the writer switches to a new file.
    rotations: Vec<(u64, PathBuf)>,
    /// Someone waits for everything to be durable whatever the policy (shutdown, rewrite).
    sync_requested: bool,
    stop: bool,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    /// Logical offsets written to the kernel and made durable.
    written: AtomicU64,
    synced: AtomicU64,
    policy: AtomicU8,
    /// The last write failed (disk full…); writes are refused with MISCONF until one works.
    /// Shared with the owner, which checks it on every write command.
    failed: Arc<AtomicBool>,
    error: Mutex<Option<String>>,
    progress: Progress,
    /// Bytes in the current file, for the automatic rewrite's growth check.
    file_len: AtomicU64,
    /// The writer sleeps long (nothing came for a while) and must be woken by the next
    /// append, even under everysec/no.
    dozing: AtomicBool,
}

/// A running writer; dropping it flushes, fsyncs and stops the thread.
pub struct AofWriter {
    inner: Arc<Inner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn policy_code(p: Fsync) -> u8 {
    match p {
        Fsync::Always => 0,
        Fsync::EverySec => 1,
        Fsync::No => 2,
    }
}

impl Inner {
    fn policy(&self) -> Fsync {
        match self.policy.load(Relaxed) {
            0 => Fsync::Always,
            1 => Fsync::EverySec,
            _ => Fsync::No,
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl AofWriter {
    /// Starts writing to the end of `path` (created if missing). Offsets count from `start`
    /// (so they keep growing across writers); `failed` is raised while writes fail.
    pub fn open(
        path: &Path,
        policy: Fsync,
        start: u64,
        failed: Arc<AtomicBool>,
        progress: Progress,
    ) -> io::Result<AofWriter> {
        let file = open_append(path)?;
        let len = file.metadata()?.len();
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                buf: Vec::new(),
                end: start,
                db: None,
                rotations: Vec::new(),
                sync_requested: false,
                stop: false,
            }),
            wake: Condvar::new(),
            written: AtomicU64::new(start),
            synced: AtomicU64::new(start),
            policy: AtomicU8::new(policy_code(policy)),
            failed,
            error: Mutex::new(None),
            progress,
            file_len: AtomicU64::new(len),
            dozing: AtomicBool::new(false),
        });
        let worker = inner.clone();
        let thread = std::thread::Builder::new()
            .name("shardis-aof".into())
            .spawn(move || run(&worker, file))?;
        Ok(AofWriter {
            inner,
            thread: Some(thread),
        })
    }

    /// Appends records, each in database `db` (`None`: valid in any, like MULTI/EXEC), with
    /// a SELECT wherever the database changes. Returns the logical offset of their end.
    pub fn append<'a>(&self, records: impl IntoIterator<Item = (Option<usize>, &'a [u8])>) -> u64 {
        let mut st = self.inner.state.lock();
        let before = st.buf.len();
        for (db, bytes) in records {
            if let Some(db) = db {
                if st.db != Some(db) {
                    encode_select(&mut st.buf, db as u32);
                    st.db = Some(db);
                }
            }
            st.buf.extend_from_slice(bytes);
        }
        st.end += (st.buf.len() - before) as u64;
        let end = st.end;
        // Under everysec/no nobody waits for these bytes: the writer picks them up on its
        // next tick (a few ms) instead of being woken for every command, unless a lot is
        // queued. Under always a client waits, so it is woken now.
        let wake = self.inner.policy() == Fsync::Always
            || st.buf.len() >= WAKE_BYTES
            || self.inner.dozing.load(Relaxed);
        drop(st);
        if wake {
            self.inner.wake.notify_all();
        }
        end
    }

    /// From the next record on, writes go to `next` (a rewrite's new incremental file).
    /// Called at the rewrite's instant, so the old files plus the new base hold exactly
    /// what precedes it.
    pub fn rotate(&self, next: PathBuf) {
        let mut st = self.inner.state.lock();
        let at = st.end;
        st.rotations.push((at, next));
        st.db = None;
    }

    /// The offset up to which everything is durable.
    pub fn synced(&self) -> u64 {
        self.inner.synced.load(Acquire)
    }

    /// The offset up to which everything is written (durable or not).
    pub fn written(&self) -> u64 {
        self.inner.written.load(Acquire)
    }

    /// The offset of everything appended so far.
    pub fn end(&self) -> u64 {
        self.inner.state.lock().end
    }

    pub fn set_policy(&self, p: Fsync) {
        self.inner.policy.store(policy_code(p), Relaxed);
        self.inner.wake.notify_one();
    }

    pub fn policy(&self) -> Fsync {
        self.inner.policy()
    }

    /// The last write or fsync error, while writing is failing.
    pub fn failure(&self) -> Option<String> {
        if self.inner.failed.load(Relaxed) {
            self.inner.error.lock().clone()
        } else {
            None
        }
    }

    /// Bytes in the current incremental file.
    pub fn file_len(&self) -> u64 {
        self.inner.file_len.load(Relaxed)
    }

    /// Waits (blocking this thread) until everything appended so far is durable, however
    /// `appendfsync` is set; false if that did not happen within `timeout` (writing fails).
    pub fn sync_all(&self, timeout: Duration) -> bool {
        let target = self.end();
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut st = self.inner.state.lock();
                if self.inner.synced.load(Acquire) >= target && st.rotations.is_empty() {
                    return true;
                }
                st.sync_requested = true;
            }
            self.inner.wake.notify_all();
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for AofWriter {
    fn drop(&mut self) {
        self.inner.state.lock().stop = true;
        self.inner.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The writer thread: takes whatever is pending, writes it (switching files at rotation
/// points), then fsyncs as the policy says, and reports progress.
fn run(inner: &Inner, mut file: File) {
    let mut last_sync = Instant::now();
    // Bytes written but not yet fsynced (for everysec/no and for shutdown).
    let mut unsynced = false;
    let mut pending: Vec<u8> = Vec::new();
    let mut base: u64 = inner.written.load(Relaxed);
    let mut stop_retries = 0u32;
    let mut last_data = Instant::now();
    loop {
        let (rotations, stop, requested) = {
            let mut st = inner.state.lock();
            loop {
                let fsync_due = unsynced && due(inner, last_sync);
                if !st.buf.is_empty() || st.stop || st.sync_requested || fsync_due {
                    break;
                }
                let quiet = last_data.elapsed() > Duration::from_secs(1);
                let wait = if inner.policy() != Fsync::Always && !quiet {
                    TICK
                } else if unsynced {
                    Duration::from_millis(100)
                } else {
                    Duration::from_secs(1)
                };
                inner.dozing.store(wait > TICK, Relaxed);
                inner.wake.wait_for(&mut st, wait);
                inner.dozing.store(false, Relaxed);
                if inner.failed.load(Relaxed) {
                    break;
                }
            }
            // Group commit: under `always`, give the clients released by the last fsync
            // a moment to send their next writes, so one fsync covers more of them.
            if inner.policy() == Fsync::Always && !st.buf.is_empty() && pending.is_empty() {
                drop(st);
                std::thread::sleep(GATHER);
                st = inner.state.lock();
            }
            if !st.buf.is_empty() {
                last_data = Instant::now();
            }
            if pending.is_empty() {
                base = st.end - st.buf.len() as u64;
                std::mem::swap(&mut pending, &mut st.buf);
            } else {
                // A failed write left bytes behind: newer ones queue after them.
                let more = std::mem::take(&mut st.buf);
                pending.extend_from_slice(&more);
            }
            let rotations: Vec<(u64, PathBuf)> = st
                .rotations
                .iter()
                .filter(|(at, _)| *at <= base + pending.len() as u64)
                .cloned()
                .collect();
            let requested = std::mem::take(&mut st.sync_requested);
            (rotations, st.stop, requested)
        };
        // Write up to each rotation point, switching files there.
        let mut ok = true;
        let mut at = 0usize;
        for (off, next) in &rotations {
            let cut = (off - base) as usize;
            if !write_some(inner, &mut file, &pending[at..cut]) {
                ok = false;
                break;
            }
            at = cut;
            match switch(inner, &mut file, next) {
                Ok(()) => {
                    inner
                        .state
                        .lock()
                        .rotations
                        .retain(|(o, p)| !(o == off && p == next));
                    unsynced = false;
                    publish_synced(inner, base + at as u64);
                }
                Err(e) => {
                    fail(inner, &e);
                    ok = false;
                    break;
                }
            }
        }
        if ok && write_some(inner, &mut file, &pending[at..]) {
            at = pending.len();
        }
        // What was written leaves the queue; the rest is retried after a pause.
        let written = base + at as u64;
        pending.drain(..at);
        base = written;
        inner.written.store(written, Release);
        if at > 0 {
            unsynced = true;
        }
        let policy = inner.policy();
        let must_sync = policy == Fsync::Always
            || stop
            || requested
            || (policy == Fsync::EverySec && due(inner, last_sync));
        if requested && !unsynced {
            publish_synced(inner, written);
        }
        if unsynced && must_sync {
            match file.sync_data() {
                Ok(()) => {
                    unsynced = false;
                    last_sync = Instant::now();
                    publish_synced(inner, written);
                    // A failure that was only the fsync's is over once one succeeds with
                    // nothing left to write.
                    if pending.is_empty() && inner.failed.swap(false, Relaxed) {
                        *inner.error.lock() = None;
                    }
                }
                Err(e) => {
                    // After a failed fsync the kernel may have dropped the pages: nothing
                    // written since the last good fsync can be called durable. Redis exits
                    // in this case with `always`; so do we, rather than acknowledge.
                    if policy == Fsync::Always {
                        eprintln!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
                        std::process::exit(1);
                    }
                    fail(inner, &e);
                }
            }
        } else if policy != Fsync::Always {
            // Clients don't wait under everysec/no: report the written offset as progress.
            (inner.progress)(written);
        }
        if !pending.is_empty() {
            // Told to stop (the log was turned off) while writes fail: give up after a
            // while rather than never let the owner finish.
            stop_retries += u32::from(stop);
            if stop_retries > 50 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        if stop {
            let st = inner.state.lock();
            if st.buf.is_empty() {
                return;
            }
        }
    }
}

fn due(inner: &Inner, last_sync: Instant) -> bool {
    inner.policy() != Fsync::No && last_sync.elapsed() >= Duration::from_secs(1)
}

fn publish_synced(inner: &Inner, at: u64) {
    inner.synced.fetch_max(at, Release);
    (inner.progress)(inner.synced.load(Acquire));
}

fn fail(inner: &Inner, e: &io::Error) {
    // Redis prints strerror's text: "No space left on device", without Rust's suffix.
    let text = e.to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_string();
    *inner.error.lock() = Some(text);
    inner.failed.store(true, Relaxed);
}

/// Writes `bytes` fully or not at all: a partial write (disk full) is cut off again, so the
/// file never ends in half a record, and the bytes stay queued for a retry.
fn write_some(inner: &Inner, file: &mut File, bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let len = inner.file_len.load(Relaxed);
    match file.write_all(bytes) {
        Ok(()) => {
            inner.file_len.store(len + bytes.len() as u64, Relaxed);
            if inner.failed.swap(false, Relaxed) {
                *inner.error.lock() = None;
            }
            true
        }
        Err(e) => {
            let _ = file.set_len(len);
            fail(inner, &e);
            false
        }
    }
}

/// Closes the current file durably and opens `next`.
fn switch(inner: &Inner, file: &mut File, next: &Path) -> io::Result<()> {
    if let Err(e) = file.sync_data() {
        // As in the main loop: a failed fsync under `always` can't be retried safely.
        if inner.policy() == Fsync::Always {
            eprintln!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
            std::process::exit(1);
        }
        return Err(e);
    }
    let f = open_append(next)?;
    inner.file_len.store(f.metadata()?.len(), Relaxed);
    *file = f;
    Ok(())
}
