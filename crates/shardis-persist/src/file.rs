//! RDB files on disk: a keyspace snapshot written to a temporary file that is fsynced and
//! renamed over the old one, and a file loaded into a keyspace. Knows no sockets, no async
//! runtime and no commands; the caller decides when to save and what a failure means.

use crate::{load, Item, LoadOptions, RdbError, RdbWriter, WriteOptions};
use shardis_keyspace::{Keyspace, SnapshotStart};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The Redis version an RDB file's `redis-ver` field names: the one whose format we write.
pub const RDB_REDIS_VER: &str = "7.0.15";

/// What a save wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveStats {
    pub keys: u64,
    pub bytes: u64,
}

/// Why a save or a load failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: {source}")]
    Format { path: String, source: RdbError },
    #[error("{path}: {why}")]
    Content { path: String, why: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A temporary name next to `path` that no concurrent save of this process uses.
fn temp_path(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let name = format!("temp-{}-{n}.rdb", std::process::id());
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(&name), |p| p.join(&name))
}

/// Writes the snapshot begun with `start` to `path`: a temporary file first, flushed and
/// fsynced, then renamed over `path` and the directory fsynced, so a crash leaves either
/// the old file or the new one, never a torn one. The snapshot is drained (or abandoned on
/// error) before this returns.
pub fn save_snapshot(
    ks: &Keyspace,
    start: &SnapshotStart,
    path: &Path,
    opts: WriteOptions,
) -> Result<SaveStats, FileError> {
    save_snapshot_until(ks, start, path, opts, &AtomicBool::new(false))
}

/// [`save_snapshot`] that gives up (and releases the snapshot) once `cancel` is raised,
/// leaving the old file in place (FLUSHALL drops a background save, as Redis kills it).
pub fn save_snapshot_until(
    ks: &Keyspace,
    start: &SnapshotStart,
    path: &Path,
    opts: WriteOptions,
    cancel: &AtomicBool,
) -> Result<SaveStats, FileError> {
    replace_file(path, |tmp| write_file(ks, start, tmp, opts, cancel))
}

/// Writes `path` through a temporary file next to it (made by `write`, which must fsync
/// it), renamed over `path` with the directory fsynced; the temporary file goes on error.
fn replace_file(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<SaveStats, FileError>,
) -> Result<SaveStats, FileError> {
    let tmp = temp_path(path);
    let result = write(&tmp).and_then(|stats| {
        std::fs::rename(&tmp, path).map_err(io_err(path))?;
        sync_dir(path).map_err(io_err(path))?;
        Ok(stats)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates the temporary file of a snapshot save, releasing the snapshot if it can't.
fn create_for(ks: &Keyspace, start: &SnapshotStart, tmp: &Path) -> Result<File, FileError> {
    File::create(tmp).map_err(|e| {
        let _ = ks.drain_snapshot(start, |_, _| Err(()));
        io_err(tmp)(e)
    })
}

/// Flushes and fsyncs a finished file; returns its size.
fn seal(w: BufWriter<File>, tmp: &Path) -> Result<u64, FileError> {
    let file = w.into_inner().map_err(|e| io_err(tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(tmp))?;
    Ok(file.metadata().map_err(io_err(tmp))?.len())
}

fn write_file(
    ks: &Keyspace,
    start: &SnapshotStart,
    tmp: &Path,
    opts: WriteOptions,
    cancel: &AtomicBool,
) -> Result<SaveStats, FileError> {
    let file = create_for(ks, start, tmp)?;
    let opened = RdbWriter::new(BufWriter::with_capacity(1 << 20, file), opts).and_then(|mut w| {
        header(&mut w, start.at_ms)?;
        Ok(w)
    });
    let mut w = match opened {
        Ok(w) => w,
        Err(e) => {
            // The snapshot must be released even when nothing can be written.
            let _ = ks.drain_snapshot(start, |_, _| Err(()));
            return Err(io_err(tmp)(e));
        }
    };
    let mut stats = SaveStats::default();
    let mut db_now = None;
    ks.drain_snapshot(start, |db, entries| {
        if cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("the save was cancelled"));
        }
        if db_now != Some(db) {
            let (keys, expires) = start.sizes.get(db).copied().unwrap_or_default();
            w.select_db(db as u64, keys, expires)?;
            db_now = Some(db);
        }
        for e in &entries {
            w.entry(e.key.as_bytes(), &e.value, e.expire_ms)?;
        }
        stats.keys += entries.len() as u64;
        Ok(())
    })
    .map_err(io_err(tmp))?;
    stats.bytes = seal(w.finish().map_err(io_err(tmp))?, tmp)?;
    Ok(stats)
}

/// Writes the snapshot begun with `start` to `path` as commands (an AOF-format base, for
/// `aof-use-rdb-preamble no`), through a temporary file fsynced and renamed like an RDB file.
pub fn save_snapshot_as_commands(
    ks: &Keyspace,
    start: &SnapshotStart,
    path: &Path,
) -> Result<SaveStats, FileError> {
    replace_file(path, |tmp| {
        let mut w = BufWriter::with_capacity(1 << 20, create_for(ks, start, tmp)?);
        let mut stats = SaveStats::default();
        let (mut db_now, mut buf) = (None, Vec::new());
        ks.drain_snapshot(start, |db, entries| {
            buf.clear();
            if db_now != Some(db) {
                crate::aof::encode_select(&mut buf, db as u32);
                db_now = Some(db);
            }
            for e in &entries {
                crate::aof::encode_entry_as_commands(
                    &mut buf,
                    e.key.as_bytes(),
                    &e.value,
                    e.expire_ms,
                );
            }
            stats.keys += entries.len() as u64;
            w.write_all(&buf)
        })
        .map_err(io_err(tmp))?;
        stats.bytes = seal(w, tmp)?;
        Ok(stats)
    })
}

/// The aux fields Redis 7.0 writes at the top of a file.
fn header<W: Write>(w: &mut RdbWriter<W>, at_ms: u64) -> io::Result<()> {
    w.aux(b"redis-ver", RDB_REDIS_VER.as_bytes())?;
    w.aux(b"redis-bits", b"64")?;
    w.aux(b"ctime", (at_ms / 1000).to_string().as_bytes())?;
    w.aux(b"used-mem", b"0")?;
    w.aux(b"aof-base", b"0")
}

/// Fsyncs the directory holding `path`, so its rename survives a crash.
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// What a load read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

/// Loads the RDB file at `path` into `ks`, skipping keys already expired (as a Redis master
/// does). On error, some keys may be in `ks` already: the caller must not serve them as a
/// complete dataset (at startup, the server refuses to start).
pub fn load_file(ks: &Keyspace, path: &Path, opts: &LoadOptions) -> Result<LoadStats, FileError> {
    load_into(ks, path, opts, false).map(|(stats, _)| stats)
}

/// [`load_file`], also returning the bytes the snapshot took (an RDB-preamble log's
/// commands follow it). With `keep_expired` (a log's base, whose later commands may still
/// touch a key that has expired since) expired keys are loaded too, as Redis does.
pub fn load_into(
    ks: &Keyspace,
    path: &Path,
    opts: &LoadOptions,
    keep_expired: bool,
) -> Result<(LoadStats, u64), FileError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut stats = LoadStats::default();
    let mut bad_db = None;
    let now = shardis_keyspace::now_ms();
    let dbs = ks.databases() as u64;
    // Decoding (this thread) and inserting (another) overlap: batches of keys go through a
    // short queue, and each batch locks every shard it touches once.
    const BATCH: usize = 4096;
    type Batch = Vec<shardis_keyspace::LoadedKey>;
    let summary = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Batch)>(4);
        let inserter = scope.spawn(move || {
            for (db, mut batch) in rx {
                ks.insert_batch(db, &mut batch);
            }
        });
        let mut batch: Batch = Vec::with_capacity(BATCH);
        let mut batch_db = 0usize;
        let summary = load(BufReader::with_capacity(1 << 20, file), opts, |item| {
            let (db, key, value, expire_ms) = match item {
                Item::Resize { db, keys, .. } => {
                    ks.reserve(db as usize, keys);
                    return;
                }
                Item::Entry {
                    db,
                    key,
                    value,
                    expire_ms,
                    ..
                } => (db, key, value, expire_ms),
                Item::Aux(..) => return,
            };
            if db >= dbs {
                bad_db.get_or_insert(db);
                return;
            }
            if !keep_expired && expire_ms.is_some_and(|t| t < now) {
                stats.keys_expired += 1;
                return;
            }
            let db = db as usize;
            if (db != batch_db && !batch.is_empty()) || batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                let _ = tx.send((batch_db, full));
            }
            batch_db = db;
            batch.push((key, value, expire_ms));
            stats.keys_loaded += 1;
        });
        if !batch.is_empty() {
            let _ = tx.send((batch_db, batch));
        }
        drop(tx);
        let _ = inserter.join();
        summary
    })
    .map_err(|source| FileError::Format {
        path: path.display().to_string(),
        source,
    })?;
    if let Some(db) = bad_db {
        return Err(FileError::Content {
            path: path.display().to_string(),
            why: format!(
                "the file has keys in database {db}, but this server has only {dbs} databases"
            ),
        });
    }
    Ok((stats, summary.len))
}
