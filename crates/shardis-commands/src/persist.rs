//! Persistence commands and their state: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE, DEBUG
//! RELOAD's save and load, save points, the MISCONF write stop and INFO persistence. The
//! file format and file handling live in `shardis-persist`; this module decides when.
//! It must not depend on sockets or an async runtime: BGSAVE runs on a plain thread.

use crate::ctx::{Ctx, Shared};
use crate::error::{err, CmdError, CmdResult};
use crate::notify::{self, Class};
use crate::util::{int, is};
use parking_lot::Mutex;
use shardis_keyspace::now_ms;
use shardis_persist::{FileError, LoadOptions, LoadStats, RestoreError, SaveStats, WriteOptions};
use shardis_protocol::Args;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// Redis's MISCONF text for writes refused after a failed background save.
pub const MISCONF_RDB: &str = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Seconds before a failed background save is retried by a save point (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const RETRY_DELAY_SECS: u64 = 5;

/// Snapshot bookkeeping shared by every connection.
pub struct Persistence {
    /// The server-wide change counter when the last successful save's snapshot began.
    dirty_at_save: AtomicU64,
    /// When the running BGSAVE began, if one runs.
    bgsave_started: Mutex<Option<Instant>>,
    last_bgsave_ok: AtomicBool,
    last_bgsave_secs: AtomicI64,
    /// Unix seconds of the last BGSAVE attempt, for the retry delay after a failure.
    last_try_unix: AtomicU64,
    saves: AtomicU64,
    /// BGSAVE asked for while it could not start (inside EXEC); the cron starts it.
    scheduled: AtomicBool,
    /// Writes are refused with MISCONF (the last BGSAVE failed and the config says stop).
    deny_writes: AtomicBool,
    /// Raised to make a running background save give up (FLUSHALL).
    cancel: AtomicBool,
    loaded: Mutex<LoadStats>,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            dirty_at_save: AtomicU64::new(0),
            bgsave_started: Mutex::new(None),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            last_try_unix: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            scheduled: AtomicBool::new(false),
            deny_writes: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            loaded: Mutex::new(LoadStats::default()),
        }
    }
}

/// `save` as (seconds, changes) pairs; empty when saving is off.
fn save_points(save: &str) -> Vec<(u64, u64)> {
    let nums: Vec<u64> = save
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    nums.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

fn unix_secs() -> u64 {
    now_ms() / 1000
}

impl Persistence {
    /// Whether writes get MISCONF: one relaxed load per write command.
    #[inline]
    pub fn writes_denied(&self) -> bool {
        self.deny_writes.load(Relaxed)
    }

    /// Recomputes the MISCONF stop from the config and the last save's outcome (Redis's
    /// `writeCommandsDeniedByDiskError`): only with save points and the option on.
    pub fn refresh(&self, cfg: &crate::Config) {
        let deny = cfg.stop_writes_on_bgsave_error
            && !save_points(&cfg.save).is_empty()
            && !self.last_bgsave_ok.load(Relaxed);
        self.deny_writes.store(deny, Relaxed);
    }

    pub fn bgsave_running(&self) -> bool {
        self.bgsave_started.lock().is_some()
    }

    /// Records what a startup or DEBUG RELOAD load read, for INFO.
    pub fn set_loaded(&self, stats: LoadStats) {
        *self.loaded.lock() = stats;
    }
}

/// The RDB file's path: `dbfilename` in the working directory, which is `dir`.
pub fn rdb_path(shared: &Shared) -> PathBuf {
    PathBuf::from(&shared.config.read().dbfilename)
}

fn write_options(shared: &Shared) -> WriteOptions {
    let cfg = shared.config.read();
    WriteOptions {
        compress: cfg.rdbcompression,
        checksum: cfg.rdbchecksum,
    }
}

/// Load options for the current configuration.
pub fn load_options(shared: &Shared) -> LoadOptions {
    let cfg = shared.config.read();
    LoadOptions {
        limits: cfg.encodings,
        verify_checksum: cfg.rdbchecksum,
    }
}

/// The server-wide count of changes, as Redis's `server.dirty` grows.
fn dirty_total(shared: &Shared) -> u64 {
    shared.total(|s| s.dirty.load(Relaxed))
}

fn changes_since_save(shared: &Shared) -> u64 {
    dirty_total(shared).saturating_sub(shared.persist.dirty_at_save.load(Relaxed))
}

/// A save finished well: the changes it covered are no longer pending.
fn saved(shared: &Shared, dirty_mark: u64) {
    shared.last_save_unix.store(unix_secs(), Relaxed);
    shared.persist.dirty_at_save.fetch_max(dirty_mark, Relaxed);
    shared.persist.saves.fetch_add(1, Relaxed);
}

/// Saves a snapshot of now on this thread (SAVE, SHUTDOWN, DEBUG RELOAD). Other clients
/// keep running; only this caller waits. Fails if a background save is running.
pub fn save_now(shared: &Shared) -> Result<SaveStats, String> {
    let dirty_mark = dirty_total(shared);
    let Some(start) = shared.keyspace.begin_snapshot() else {
        return Err("Background save already in progress".into());
    };
    let t = Instant::now();
    match shardis_persist::save_snapshot(
        &shared.keyspace,
        &start,
        &rdb_path(shared),
        write_options(shared),
    ) {
        Ok(stats) => {
            saved(shared, dirty_mark);
            shared.persist.last_bgsave_ok.store(true, Relaxed);
            shared.persist.refresh(&shared.config.read());
            tracing::info!(
                "DB saved on disk ({} keys, {} bytes, {:.3} seconds)",
                stats.keys,
                stats.bytes,
                t.elapsed().as_secs_f64()
            );
            Ok(stats)
        }
        Err(e) => {
            tracing::warn!("Error saving DB on disk: {e}");
            Err(e.to_string())
        }
    }
}

/// Starts a background save of now. The instant is taken here, on the caller's thread;
/// the file is written by a thread of its own.
pub fn start_bgsave(shared: &Shared) -> Result<(), &'static str> {
    let Some(me) = shared.me() else {
        return Err("server is shutting down");
    };
    let dirty_mark = dirty_total(shared);
    let Some(start) = shared.keyspace.begin_snapshot() else {
        return Err("Background save already in progress");
    };
    *shared.persist.bgsave_started.lock() = Some(Instant::now());
    shared.persist.last_try_unix.store(unix_secs(), Relaxed);
    shared.persist.cancel.store(false, Relaxed);
    let start2 = start.clone();
    let path = rdb_path(shared);
    let opts = write_options(shared);
    tracing::info!("Background saving started");
    let spawned = std::thread::Builder::new()
        .name("shardis-bgsave".into())
        .spawn(move || {
            let result = shardis_persist::save_snapshot_until(
                &me.keyspace,
                &start,
                &path,
                opts,
                &me.persist.cancel,
            );
            finish_bgsave(&me, result, dirty_mark);
        });
    if spawned.is_err() {
        // Nothing will drain the snapshot: release it here rather than leave every shard
        // keeping old versions forever.
        let _ = shared.keyspace.drain_snapshot(&start2, |_, _| Err(()));
        *shared.persist.bgsave_started.lock() = None;
        return Err("can't start the background save thread");
    }
    Ok(())
}

fn finish_bgsave(shared: &Arc<Shared>, result: Result<SaveStats, FileError>, dirty_mark: u64) {
    let p = &shared.persist;
    let started = p.bgsave_started.lock().take();
    let secs = started.map_or(0, |t| t.elapsed().as_secs() as i64);
    p.last_bgsave_secs.store(secs, Relaxed);
    match result {
        Ok(stats) => {
            saved(shared, dirty_mark);
            p.last_bgsave_ok.store(true, Relaxed);
            tracing::info!(
                "Background saving terminated with success ({} keys, {} bytes)",
                stats.keys,
                stats.bytes
            );
        }
        // Cancelled by FLUSHALL: not a failure (Redis kills the child with a signal it
        // does not count as one).
        Err(e) if p.cancel.swap(false, Relaxed) => {
            tracing::info!("Background saving cancelled: {e}");
        }
        Err(e) => {
            p.last_bgsave_ok.store(false, Relaxed);
            tracing::warn!("Background saving error: {e}");
        }
    }
    p.refresh(&shared.config.read());
}

/// Called about ten times a second: starts a scheduled BGSAVE, or one a save point asks
/// for (`save <seconds> <changes>`: that many changes and that much time since the last
/// save), waiting a few seconds between attempts after a failure.
pub fn cron(shared: &Shared) {
    let p = &shared.persist;
    if shared.keyspace.snapshot_running() {
        return;
    }
    if p.scheduled.swap(false, Relaxed) {
        let _ = start_bgsave(shared);
        return;
    }
    let points = save_points(&shared.config.read().save);
    if points.is_empty() {
        return;
    }
    let now = unix_secs();
    let changes = changes_since_save(shared);
    let since_save = now.saturating_sub(shared.last_save_unix.load(Relaxed));
    let may_retry = p.last_bgsave_ok.load(Relaxed)
        || now.saturating_sub(p.last_try_unix.load(Relaxed)) >= RETRY_DELAY_SECS;
    let due = points
        .iter()
        .find(|&&(secs, n)| changes >= n && since_save >= secs);
    if let (Some((secs, _)), true) = (due, may_retry) {
        tracing::info!("{changes} changes in {secs} seconds. Saving...");
        let _ = start_bgsave(shared);
    }
}

pub fn save(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.shared.persist.bgsave_running() {
        return Err(err("Background save already in progress"));
    }
    match save_now(ctx.shared) {
        Ok(_) => ctx.out.ok(),
        Err(e) if e.contains("in progress") => return Err(err(e)),
        Err(_) => ctx.out.error("-ERR"),
    }
    Ok(())
}

pub fn bgsave(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if is(args.get(1), "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    if ctx.shared.persist.bgsave_running() {
        return Err(err("Background save already in progress"));
    }
    // The one snapshot is busy with an AOF rewrite: as Redis answers when another child
    // process runs, SCHEDULE queues the save for when it is done.
    if ctx.shared.keyspace.snapshot_running() {
        if schedule {
            ctx.shared.persist.scheduled.store(true, Relaxed);
            ctx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(err("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    }
    // Inside EXEC this thread holds shards, so the instant can't be taken here; Redis
    // schedules it in that case too.
    if ctx.sess.in_exec {
        ctx.shared.persist.scheduled.store(true, Relaxed);
        ctx.out.simple("Background saving scheduled");
        return Ok(());
    }
    match start_bgsave(ctx.shared) {
        Ok(()) => ctx.out.simple("Background saving started"),
        Err(e) => return Err(err(e)),
    }
    Ok(())
}

pub fn lastsave(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.shared.last_save_unix.load(Relaxed) as i64);
    Ok(())
}

/// INFO's persistence section, with Redis 7.0's fields.
pub fn info_section(shared: &Shared) -> String {
    let p = &shared.persist;
    let running = p
        .bgsave_started
        .lock()
        .map(|t| t.elapsed().as_secs() as i64);
    let loaded = *p.loaded.lock();
    format!(
        "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\n\
         current_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n\
         current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n\
         rdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\n\
         rdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\n\
         rdb_last_load_keys_loaded:{}\r\n{}",
        changes_since_save(shared),
        running.is_some() as u8,
        shared.last_save_unix.load(Relaxed),
        if p.last_bgsave_ok.load(Relaxed) { "ok" } else { "err" },
        p.last_bgsave_secs.load(Relaxed),
        running.unwrap_or(-1),
        p.saves.load(Relaxed),
        loaded.keys_expired,
        loaded.keys_loaded,
        crate::aof_files::info_fields(shared),
    )
}

/// Loads the RDB file into the (empty) keyspace at startup. A missing file is an empty
/// dataset; any other failure must stop the server from serving.
pub fn load_at_startup(shared: &Shared) -> Result<Option<LoadStats>, String> {
    // With the log on, the data is the log's, as in Redis (the RDB file is not read).
    if shared.config.read().appendonly {
        crate::aof_files::start(shared)?;
        return Ok(None);
    }
    let path = rdb_path(shared);
    if !path.exists() {
        return Ok(None);
    }
    let t = Instant::now();
    let stats = shardis_persist::load_file(&shared.keyspace, &path, &load_options(shared))
        .map_err(|e| {
            format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})")
        })?;
    shared.persist.set_loaded(stats);
    tracing::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded,
        stats.keys_expired
    );
    tracing::info!(
        "DB loaded from disk: {:.3} seconds",
        t.elapsed().as_secs_f64()
    );
    Ok(Some(stats))
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the keyspace, load the file back.
pub fn debug_reload(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if shardis_keyspace::in_transaction() {
        return Err(err("DEBUG RELOAD is not allowed inside a transaction"));
    }
    let (mut flush, mut save) = (true, true);
    for a in args.tail(2).iter() {
        if is(a, "merge") {
            // Loading over existing keys replaces them, which is MERGE's effect.
        } else if is(a, "noflush") {
            flush = false;
        } else if is(a, "nosave") {
            save = false;
        } else {
            return Err(err(
                "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    if save && save_now(ctx.shared).is_err() {
        return Err(err("Error trying to save the DB"));
    }
    if flush {
        let (old, _) = ctx.shared.keyspace.flush(None);
        shardis_keyspace::lazyfree::free_shards(old);
    }
    let path = rdb_path(ctx.shared);
    match shardis_persist::load_file(&ctx.shared.keyspace, &path, &load_options(ctx.shared)) {
        Ok(stats) => ctx.shared.persist.set_loaded(stats),
        Err(e) => {
            tracing::warn!("DEBUG RELOAD: {e}");
            return Err(err("Error trying to load the RDB dump, check server logs."));
        }
    }
    ctx.out.ok();
    Ok(())
}

pub fn dump(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let value = ctx
        .shared
        .keyspace
        .lock_key(db, key)
        .get(db, key)
        .map(|e| e.value.clone());
    match value {
        Some(v) => ctx.out.bulk(&shardis_persist::dump(&v)),
        None => ctx.out.null(),
    }
    Ok(())
}

/// RESTORE's options, parsed before anything is looked at (Redis's order of errors).
struct RestoreArgs {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
}

fn restore_args(args: &Args<'_>) -> Result<RestoreArgs, CmdError> {
    let mut r = RestoreArgs {
        replace: false,
        absttl: false,
        idle: None,
    };
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < args.len() {
        let (a, more) = (args.get(j), j + 1 < args.len());
        if is(a, "replace") {
            r.replace = true;
        } else if is(a, "absttl") {
            r.absttl = true;
        } else if is(a, "idletime") && more && freq.is_none() {
            let n = int(args.get(j + 1))?;
            if n < 0 {
                return Err(err("Invalid IDLETIME value, must be >= 0"));
            }
            r.idle = Some(n);
            j += 1;
        } else if is(a, "freq") && more && r.idle.is_none() {
            let n = int(args.get(j + 1))?;
            if !(0..=255).contains(&n) {
                return Err(err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(n);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(r)
}

pub fn restore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let opts = restore_args(&args)?;
    let (db, key) = (ctx.db(), args.get(1));
    let busy = || err("-BUSYKEY Target key name already exists.");
    // The TTL and the payload are checked before the key is locked (decoding a big payload
    // costs only this client's time), but their errors come after BUSYKEY's, as in Redis:
    // one lock covers the existence check and the write, so the log sees one write.
    let ttl = int(args.get(2)).and_then(|t| {
        if t < 0 {
            Err(err("Invalid TTL value, must be >= 0"))
        } else {
            Ok(t)
        }
    });
    let limits = ctx.shared.encoding_limits();
    let value = match &ttl {
        Ok(_) => Some(shardis_persist::restore(args.get(3), &limits)),
        Err(_) => None,
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let now = l.now;
    if !opts.replace && l.exists(db, key) {
        return Err(busy());
    }
    let ttl = ttl?;
    let value = match value {
        Some(Ok(v)) => v,
        Some(Err(RestoreError::BadVersionOrChecksum)) => {
            return Err(err("DUMP payload version or checksum are wrong"))
        }
        _ => return Err(err("Bad data format")),
    };
    let at = match ttl {
        0 => None,
        t if opts.absttl => Some(t as u64),
        t => Some(now.saturating_add(t as u64)),
    };
    // An expiry already past deletes the key instead, as in Redis.
    if at.is_some_and(|t| t <= l.expiry_now()) {
        crate::aof::rewrite(&[b"DEL", key]);
        let old = if opts.replace {
            l.remove(db, key)
        } else {
            None
        };
        drop(l);
        if old.is_some() {
            notify::event(ctx, Class::Generic, "del", db, key);
            ctx.dirty(1);
        }
        old.into_iter()
            .for_each(shardis_keyspace::lazyfree::free_entry);
        ctx.out.ok();
        return Ok(());
    }
    // Logged with an absolute TTL, so a replay gives the key the same expiry.
    if let (Some(t), true) = (at, crate::aof::logging()) {
        let mut rec: Vec<&[u8]> = vec![b"RESTORE", key];
        let t = t.to_string();
        rec.extend([t.as_bytes(), args.get(3), b"ABSTTL", b"REPLACE"]);
        crate::aof::rewrite(&rec);
    }
    let old = l.set(db, key, value, at, false);
    if let (Some(idle), Some(e)) = (opts.idle, l.peek(db, key)) {
        e.lru = ((now / 1000) as i64 - idle).max(0) as u32;
    }
    drop(l);
    if let Some(v) = old {
        shardis_keyspace::lazyfree::free_value(v);
    }
    notify::event(ctx, Class::Generic, "restore", db, key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// After FLUSHALL: a running background save of the old data is cancelled, and with save
/// points the empty dataset is saved at once, as Redis does (else a restart would bring the
/// flushed keys back from the last file).
pub fn after_flushall(shared: &Shared) {
    if shared.persist.bgsave_running() {
        shared.persist.cancel.store(true, Relaxed);
    }
    if !has_save_points(shared) || shardis_keyspace::in_transaction() {
        return;
    }
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while shared.persist.bgsave_running() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if let Err(e) = save_now(shared) {
        tracing::warn!("FLUSHALL could not save the empty dataset: {e}");
    }
}

/// Whether `save` names any save point.
pub fn has_save_points(shared: &Shared) -> bool {
    !save_points(&shared.config.read().save).is_empty()
}

/// The save before exiting (SHUTDOWN, SIGTERM): writes are paused first, so no write is
/// acknowledged after the snapshot's instant and then lost, and resume if the save fails
/// (the server then keeps running, as Redis does).
pub fn save_for_shutdown(shared: &Shared) -> Result<(), String> {
    let old = {
        let mut p = shared.pause.lock();
        let old = (p.until, p.write_only);
        let forever = Instant::now() + std::time::Duration::from_secs(365 * 86400);
        let all_paused = p.until.is_some_and(|u| u > Instant::now()) && !p.write_only;
        p.until = Some(forever);
        p.write_only = !all_paused;
        shared.paused.store(true, Relaxed);
        old
    };
    // Writes that passed the pause check just before it was set are waited for, so their
    // effects are inside the snapshot. A background save or rewrite in progress is waited
    // for too: the final save needs the snapshot.
    crate::aof::quiesce();
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    while shared.keyspace.snapshot_running() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    save_now(shared).map(|_| ()).inspect_err(|_| {
        let mut p = shared.pause.lock();
        (p.until, p.write_only) = old;
        shared.paused.store(old.0.is_some(), Relaxed);
    })
}
