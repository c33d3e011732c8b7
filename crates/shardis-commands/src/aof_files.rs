//! The append-only log's files over time: loading `appenddirname` at startup (Redis 7.0's
//! multi-part layout, or an old single file upgraded into it), turning the log on and off
//! (CONFIG SET appendonly), BGREWRITEAOF without fork, the automatic rewrite, and INFO's
//! AOF fields. Formats are `shardis-persist`'s; this module decides what happens when.
//! It must not depend on sockets or an async runtime.

use crate::ctx::{Ctx, Shared};
use crate::error::{err, CmdResult};
use parking_lot::Mutex;
use shardis_persist::aof::{
    manifest_file_name, plan, temp_manifest_file_name, AofError, AofReader, BaseFormat, Manifest,
    Plan, PlannedFile,
};
use shardis_persist::aof_writer::{AofWriter, Fsync};
use shardis_protocol::{Args, ReplyWriter, Span};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// The log's files and rewrite bookkeeping.
#[derive(Default)]
pub struct AofFiles {
    /// The manifest as last persisted, while the log is on.
    manifest: Mutex<Option<Manifest>>,
    rewrite_started: Mutex<Option<Instant>>,
    last_rewrite_ok: AtomicBool,
    last_rewrite_secs: AtomicI64,
    rewrites: AtomicU64,
    failed_rewrites_in_a_row: AtomicU64,
    /// BGREWRITEAOF asked for while it could not start (inside EXEC).
    scheduled: AtomicBool,
    /// Log size after the last rewrite (or load), for auto-aof-rewrite-percentage.
    base_size: AtomicU64,
    /// Unix seconds before which a failed attempt to turn the log on is not retried.
    retry_after: AtomicU64,
}

impl AofFiles {
    pub fn new() -> AofFiles {
        AofFiles {
            last_rewrite_ok: AtomicBool::new(true),
            last_rewrite_secs: AtomicI64::new(-1),
            ..Default::default()
        }
    }

    pub fn rewriting(&self) -> bool {
        self.rewrite_started.lock().is_some()
    }
}

struct Names {
    dir: PathBuf,
    filename: String,
    preamble: bool,
    policy: Fsync,
    load_truncated: bool,
}

fn names(shared: &Shared) -> Names {
    let c = shared.config.read();
    Names {
        dir: PathBuf::from(&c.appenddirname),
        filename: c.appendfilename.clone(),
        preamble: c.aof_use_rdb_preamble,
        policy: Fsync::parse(&c.appendfsync).unwrap_or(Fsync::EverySec),
        load_truncated: c.aof_load_truncated,
    }
}

/// Writes the manifest durably: a temporary file, fsynced, renamed over the old one, and
/// the directory fsynced, so a crash leaves one manifest or the other.
fn persist_manifest(n: &Names, m: &Manifest) -> std::io::Result<()> {
    let tmp = n.dir.join(temp_manifest_file_name(&n.filename));
    let f = File::create(&tmp)?;
    std::io::Write::write_all(&mut &f, &m.to_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, n.dir.join(manifest_file_name(&n.filename)))?;
    File::open(&n.dir)?.sync_all()
}

/// Opens a writer on `path`, continuing the offsets of any earlier writer.
fn open_writer(shared: &Shared, path: &Path, policy: Fsync) -> std::io::Result<Arc<AofWriter>> {
    let start = shared.aof.next_start();
    let me = shared.me();
    let weak = me.as_ref().map(Arc::downgrade);
    let progress = Box::new(move |n: u64| {
        if let Some(s) = weak.as_ref().and_then(|w| w.upgrade()) {
            if let Some(f) = s.aof_progress.get() {
                f(n);
            }
        }
    });
    Ok(Arc::new(AofWriter::open(
        path,
        policy,
        start,
        shared.aof.failed_flag(),
        progress,
    )?))
}

/// Startup with `appendonly yes`: loads the log directory (never the RDB file, as Redis),
/// creates it when absent, and starts logging. Any failure must stop the server.
pub fn start(shared: &Shared) -> Result<(), String> {
    let n = names(shared);
    let plan =
        plan(Path::new("."), &n.dir.to_string_lossy(), &n.filename).map_err(|e| e.to_string())?;
    shared.keyspace.set_loading(true);
    let loaded = load_plan(shared, &n, plan);
    shared.keyspace.set_loading(false);
    let mut manifest = loaded?;
    std::fs::create_dir_all(&n.dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            n.dir.display()
        )
    })?;
    // Like Redis 7.0: an empty start writes a base first, so the directory is complete.
    if manifest.base.is_none() && manifest.incrs.is_empty() {
        let base = manifest.new_base(&n.filename, n.preamble).name.clone();
        write_base(shared, &n, &n.dir.join(&base), None)?;
    }
    let incr = manifest.last_incr_or_new(&n.filename).name.clone();
    persist_manifest(&n, &manifest).map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
    let w = open_writer(shared, &n.dir.join(&incr), n.policy)
        .map_err(|e| format!("Can't open the append-only file {incr}: {e}"))?;
    shared
        .aof_files
        .base_size
        .store(dir_size(&n.dir, &manifest), Relaxed);
    *shared.aof_files.manifest.lock() = Some(manifest);
    shared.aof.set_writer(&shared.keyspace, Some(w));
    Ok(())
}

fn dir_size(dir: &Path, m: &Manifest) -> u64 {
    m.load_order()
        .filter_map(|f| std::fs::metadata(dir.join(&f.name)).ok())
        .map(|md| md.len())
        .sum()
}

/// Loads every file of a plan in order; returns the manifest to continue with.
fn load_plan(shared: &Shared, n: &Names, plan: Option<Plan>) -> Result<Manifest, String> {
    let t = Instant::now();
    let (manifest, files) = match plan {
        None => return Ok(Manifest::new()),
        Some(Plan::Legacy { file, mut manifest }) => {
            // An old single-file log: moved into the directory as its base, as Redis
            // 7.0 upgrades it (the manifest first, so an interrupted move is resumed).
            std::fs::create_dir_all(&n.dir).map_err(|e| e.to_string())?;
            manifest.upgrade_legacy(&n.filename);
            persist_manifest(n, &manifest).map_err(|e| e.to_string())?;
            let moved = n.dir.join(&n.filename);
            std::fs::rename(&file.path, &moved).map_err(|e| e.to_string())?;
            tracing::info!("Successfully migrated an old-style AOF into the AOF directory");
            let file = PlannedFile {
                path: moved,
                ..file
            };
            (manifest, vec![file])
        }
        Some(Plan::MultiPart {
            manifest,
            base,
            incrs,
        }) => (manifest, base.into_iter().chain(incrs).collect::<Vec<_>>()),
    };
    let last = files.len().saturating_sub(1);
    let mut commands = 0;
    for (i, f) in files.iter().enumerate() {
        commands += replay_file(shared, f, i == last, n.load_truncated)?;
    }
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds ({commands} commands)",
        t.elapsed().as_secs_f64()
    );
    Ok(manifest)
}

/// Replays one file: its RDB preamble if it has one, then its commands, as a client
/// that is never answered. Returns the commands run.
fn replay_file(
    shared: &Shared,
    f: &PlannedFile,
    last: bool,
    load_truncated: bool,
) -> Result<u64, String> {
    let name = &f.name;
    let mut start = 0;
    if f.format == BaseFormat::Rdb {
        let opts = crate::persist::load_options(shared);
        let (_, len) = shardis_persist::load_into(&shared.keyspace, &f.path, &opts, true)
            .map_err(|e| format!("Bad file format reading the append only file {name}: {e}"))?;
        start = len;
    }
    let mut file = File::open(&f.path).map_err(|e| format!("Can't open {name}: {e}"))?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| e.to_string())?;
    let mut reader = AofReader::with_offset(BufReader::with_capacity(1 << 20, file), start);
    let handle = shared.register("aof-loader".into(), String::new());
    let mut sess = crate::Session::new(handle.clone(), false);
    sess.never_block = true;
    let mut out = ReplyWriter::new(false);
    let (mut base, mut spans): (Vec<u8>, Vec<Span>) = (Vec::new(), Vec::new());
    let mut commands = 0u64;
    // Where a MULTI without its EXEC yet started: a file ending inside the transaction is
    // cut back to here, so a transaction is replayed whole or not at all.
    let mut multi_at: Option<u64> = None;
    let result = loop {
        let cmd = match reader.next_command() {
            Ok(Some(c)) => c,
            Ok(None) => break multi_at.map_or(Ok(()), Err),
            Err(AofError::Truncated { offset }) => break Err(multi_at.unwrap_or(offset)),
            Err(AofError::Corrupt { offset, what }) => {
                shared.unregister(handle.id);
                return Err(format!(
                    "Bad file format reading the append only file {name}: {what} at offset {offset}"
                ));
            }
            Err(e) => {
                shared.unregister(handle.id);
                return Err(format!("Error reading the append only file {name}: {e}"));
            }
        };
        base.clear();
        spans.clear();
        for a in &cmd.args {
            spans.push((base.len() as u32, (base.len() + a.len()) as u32));
            base.extend_from_slice(a);
        }
        let args = Args::new(&base, &spans);
        let is_multi = args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"multi");
        let is_exec = args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"exec");
        if is_multi {
            multi_at = Some(cmd.offset);
        }
        out.out.clear();
        let _ = crate::execute(shared, &mut sess, args, &mut out);
        sess.action = None;
        if out.out.starts_with(b"-ERR unknown command") {
            shared.unregister(handle.id);
            return Err(format!(
                "Unknown command '{}' reading the append only file {name}",
                String::from_utf8_lossy(&cmd.args[0])
            ));
        }
        if is_exec {
            multi_at = None;
        }
        commands += 1;
    };
    sess.release(shared);
    shared.unregister(handle.id);
    if let Err(valid_to) = result {
        if !last {
            return Err(format!(
                "Unexpected end of file reading the append only file {name}, which is not the last one, at offset {valid_to}"
            ));
        }
        if !load_truncated {
            return Err(format!(
                "Unexpected end of file reading the append only file {name} at offset {valid_to}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
            ));
        }
        // The discarded tail: a partial command, or a transaction without its EXEC.
        File::options()
            .write(true)
            .open(&f.path)
            .and_then(|file| file.set_len(valid_to).and_then(|_| file.sync_all()))
            .map_err(|e| format!("Error truncating the AOF file {name}: {e}"))?;
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {name}!!! AOF loaded anyway because aof-load-truncated is enabled; the file was truncated to {valid_to} bytes"
        );
    }
    Ok(commands)
}

/// Writes a base file of the instant `start` was taken (or of now, with `None`): an RDB
/// snapshot (`aof-use-rdb-preamble yes`) or the commands that rebuild the dataset.
fn write_base(
    shared: &Shared,
    n: &Names,
    path: &Path,
    start: Option<shardis_keyspace::SnapshotStart>,
) -> Result<(), String> {
    let start = match start {
        Some(s) => s,
        None => shared
            .keyspace
            .begin_snapshot()
            .ok_or("a snapshot is already running")?,
    };
    if !n.preamble {
        return shardis_persist::save_snapshot_as_commands(&shared.keyspace, &start, path)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let opts = shardis_persist::WriteOptions {
        compress: shared.config.read().rdbcompression,
        checksum: true,
    };
    shardis_persist::save_snapshot(&shared.keyspace, &start, path, opts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Starts a rewrite (BGREWRITEAOF, the automatic one, or turning the log on): a new
/// incremental file is listed in the manifest first; at the snapshot's instant writes
/// switch to it; the snapshot becomes the new base in the background; then the manifest
/// names the new base and the new incremental file, and the old files are deleted. With
/// the log off (BGREWRITEAOF under `appendonly no`) only the base and the manifest are
/// written, as Redis does; the log stays off.
pub fn start_rewrite(shared: &Shared) -> Result<(), String> {
    let p = &shared.aof_files;
    let logging = shared.aof.writer().is_some();
    let enabling = !logging && shared.config.read().appendonly;
    if shared.keyspace.snapshot_running() || p.rewriting() || shardis_keyspace::in_transaction() {
        // Turning the log on is retried by the cron as soon as the snapshot is free; a
        // transaction can't take the instant (it holds shards), so it is deferred too.
        if enabling || shardis_keyspace::in_transaction() {
            p.scheduled.store(!enabling, Relaxed);
            return Ok(());
        }
        return Err("Background append only file rewriting already in progress".into());
    }
    let me = shared.me().ok_or("shutting down")?;
    let n = names(shared);
    std::fs::create_dir_all(&n.dir).map_err(|e| e.to_string())?;
    let known = p.manifest.lock().clone();
    let mut manifest = match known {
        Some(m) => m,
        // Turning the log on again: continue the sequence numbers of what is on disk.
        None => plan(Path::new("."), &n.dir.to_string_lossy(), &n.filename)
            .ok()
            .flatten()
            .map(|p| match p {
                Plan::MultiPart { manifest, .. } | Plan::Legacy { manifest, .. } => manifest,
            })
            .unwrap_or_default(),
    };
    let mut incr_path = None;
    if logging || enabling {
        let incr = manifest.new_incr(&n.filename).name.clone();
        let path = n.dir.join(&incr);
        // The new incremental file exists and is listed before anything is written to it,
        // so a crash at any point finds every acknowledged write in a listed file.
        File::create(&path).map_err(|e| e.to_string())?;
        if logging {
            persist_manifest(&n, &manifest).map_err(|e| e.to_string())?;
            *p.manifest.lock() = Some(manifest.clone());
        }
        incr_path = Some(path);
    }
    let new_writer = match (&incr_path, enabling) {
        (Some(path), true) => Some(open_writer(shared, path, n.policy).map_err(|e| e.to_string())?),
        _ => None,
    };
    *p.rewrite_started.lock() = Some(Instant::now());
    if enabling {
        shared.aof.prepare_on();
    }
    let start = shared
        .keyspace
        .begin_snapshot_with(|| match (&new_writer, &incr_path) {
            // Turning the log on: every write after the instant is logged.
            (Some(w), _) => shared.aof.set_writer(&shared.keyspace, Some(w.clone())),
            (None, Some(path)) => {
                if let Some(w) = shared.aof.writer() {
                    w.rotate(path.clone());
                }
            }
            (None, None) => {}
        });
    let Some(start) = start else {
        // A background save took the snapshot in between: undo, and let the caller retry.
        if enabling {
            shared.aof.set_writer(&shared.keyspace, None);
        }
        if let Some(path) = &incr_path {
            manifest.incrs.pop();
            if logging {
                let _ = persist_manifest(&n, &manifest);
                *p.manifest.lock() = Some(manifest.clone());
            }
            let _ = std::fs::remove_file(path);
        }
        *p.rewrite_started.lock() = None;
        return Err("Background append only file rewriting already in progress".into());
    };
    let failed_enable = incr_path.clone().filter(|_| enabling);
    let spawned = std::thread::Builder::new()
        .name("shardis-aofrw".into())
        .spawn({
            let start = start.clone();
            move || {
                let r = finish_rewrite(&me, &n, manifest, start, logging || enabling);
                let p = &me.aof_files;
                let started = p.rewrite_started.lock().take();
                p.last_rewrite_secs
                    .store(started.map_or(0, |t| t.elapsed().as_secs() as i64), Relaxed);
                match r {
                    Ok(()) => {
                        p.last_rewrite_ok.store(true, Relaxed);
                        p.rewrites.fetch_add(1, Relaxed);
                        p.failed_rewrites_in_a_row.store(0, Relaxed);
                        tracing::info!("Background AOF rewrite finished successfully");
                    }
                    Err(e) => {
                        p.last_rewrite_ok.store(false, Relaxed);
                        p.failed_rewrites_in_a_row.fetch_add(1, Relaxed);
                        tracing::warn!("Background AOF rewrite failed: {e}");
                        // Turning the log on failed: it goes off again (its file is listed
                        // nowhere) and the cron tries again a little later.
                        if let Some(path) = failed_enable {
                            me.aof.set_writer(&me.keyspace, None);
                            let _ = std::fs::remove_file(path);
                            p.retry_after.store(unix_now() + 5, Relaxed);
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // Nothing would drain the snapshot: release it, or every write keeps old versions.
        let _ = shared.keyspace.drain_snapshot(&start, |_, _| Err(()));
        if enabling {
            shared.aof.set_writer(&shared.keyspace, None);
        }
        *p.rewrite_started.lock() = None;
        return Err(e.to_string());
    }
    tracing::info!("Background append only file rewriting started");
    Ok(())
}

fn unix_now() -> u64 {
    shardis_keyspace::now_ms() / 1000
}

fn finish_rewrite(
    shared: &Shared,
    n: &Names,
    mut manifest: Manifest,
    start: shardis_keyspace::SnapshotStart,
    logging: bool,
) -> Result<(), String> {
    let base = manifest.new_base(&n.filename, n.preamble).name.clone();
    write_base(shared, n, &n.dir.join(&base), Some(start))?;
    // Everything before the instant is in the base now; the incremental files it covers
    // become history, and the one being written (if the log is on) stays.
    manifest.mark_rewritten_incrs_as_history(logging);
    if let Some(w) = shared.aof.writer() {
        // The switch to the new file must be complete before the old ones go.
        w.sync_all(std::time::Duration::from_secs(60));
    }
    persist_manifest(n, &manifest).map_err(|e| e.to_string())?;
    for h in manifest.take_history() {
        let _ = std::fs::remove_file(n.dir.join(&h.name));
    }
    persist_manifest(n, &manifest).map_err(|e| e.to_string())?;
    shared
        .aof_files
        .base_size
        .store(dir_size(&n.dir, &manifest), Relaxed);
    *shared.aof_files.manifest.lock() = Some(manifest);
    Ok(())
}

/// CONFIG SET appendonly: on starts a rewrite that writes the dataset as the base; off
/// stops logging after what was logged is durable.
pub fn set_enabled(shared: &Shared, on: bool) -> Result<(), String> {
    if on == shared.aof.on() {
        return Ok(());
    }
    if on {
        return start_rewrite(shared);
    }
    // The writer's last bytes are written and fsynced on a thread of its own.
    shared.aof.set_writer(&shared.keyspace, None);
    Ok(())
}

/// The log made durable before the process exits (SHUTDOWN, SIGTERM).
pub fn flush_for_exit(shared: &Shared) {
    if let Some(w) = shared.aof.writer() {
        w.sync_all(std::time::Duration::from_secs(30));
    }
}

/// Called about ten times a second: starts a scheduled rewrite, or the automatic one
/// when the log has grown by auto-aof-rewrite-percentage since the last rewrite.
pub fn cron(shared: &Shared) {
    let p = &shared.aof_files;
    if p.rewriting() || shared.keyspace.snapshot_running() {
        return;
    }
    let Some(w) = shared.aof.writer() else {
        // `appendonly yes` without a log yet: a CONFIG SET whose rewrite had to wait, or
        // failed and is retried.
        let want_on = shared.config.read().appendonly && unix_now() >= p.retry_after.load(Relaxed);
        if want_on || p.scheduled.swap(false, Relaxed) {
            let _ = start_rewrite(shared);
        }
        return;
    };
    if p.scheduled.swap(false, Relaxed) {
        let _ = start_rewrite(shared);
        return;
    }
    let (pct, min) = {
        let c = shared.config.read();
        (c.auto_aof_rewrite_percentage, c.auto_aof_rewrite_min_size)
    };
    let base = p.base_size.load(Relaxed).max(1);
    let size = base + w.file_len();
    if pct > 0 && size >= min && (size - base) * 100 / base >= pct {
        tracing::info!(
            "Starting automatic rewriting of AOF on {}% growth",
            (size - base) * 100 / base
        );
        let _ = start_rewrite(shared);
    }
}

pub fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.shared.aof_files.rewriting() {
        return Err(err(
            "Background append only file rewriting already in progress",
        ));
    }
    // A background save or a transaction holding shards: run it as soon as possible.
    if ctx.sess.in_exec || ctx.shared.keyspace.snapshot_running() {
        ctx.shared.aof_files.scheduled.store(true, Relaxed);
        ctx.out
            .simple("Background append only file rewriting scheduled");
        return Ok(());
    }
    if let Err(e) = start_rewrite(ctx.shared) {
        tracing::warn!("BGREWRITEAOF: {e}");
        return Err(err(
            "Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ));
    }
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}

/// INFO persistence's AOF fields, in Redis 7.0's order.
pub fn info_fields(shared: &Shared) -> String {
    let p = &shared.aof_files;
    let running = p
        .rewrite_started
        .lock()
        .map(|t| t.elapsed().as_secs() as i64);
    let w = shared.aof.writer();
    format!(
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\n\
         aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\n\
         aof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\n\
         aof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n\
         module_fork_last_cow_size:0\r\n{}",
        shared.aof.on() as u8,
        running.is_some() as u8,
        p.scheduled.load(Relaxed) as u8,
        p.last_rewrite_secs.load(Relaxed),
        running.unwrap_or(-1),
        if p.last_rewrite_ok.load(Relaxed) { "ok" } else { "err" },
        p.rewrites.load(Relaxed),
        p.failed_rewrites_in_a_row.load(Relaxed),
        if w.as_ref().is_some_and(|w| w.failure().is_some()) { "err" } else { "ok" },
        match &w {
            // Redis adds these while the log is on.
            Some(w) => {
                let base = p.base_size.load(Relaxed);
                format!(
                    "aof_current_size:{}\r\naof_base_size:{base}\r\naof_pending_rewrite:0\r\n\
                     aof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                    base + w.file_len(),
                    w.end().saturating_sub(w.written()),
                )
            }
            None => String::new(),
        }
    )
}
