//! Fork-less point-in-time snapshots (BGSAVE): every shard owes the snapshot its contents as
//! they were at one instant, and a write that reaches a shard before the saver does first
//! keeps the old version of the key it changes. Knows no file format and no I/O.
//!
//! Memory: only keys changed while the snapshot runs are kept twice (key-level copy on
//! write), plus the entries of the one shard being handed to the saver, instead of the
//! page-level copy of the whole dataset that Redis's fork can cost.

use crate::keyspace::SHARDS_PER_DB;
use crate::shard::{Entry, Shard};
use crate::{Key, Keyspace, Value};
use foldhash::fast::RandomState;
use hashbrown::{HashMap, HashTable};
use std::cell::Cell;
use std::sync::atomic::Ordering;

/// What one shard still owes a running snapshot.
pub(crate) struct Owed {
    /// The database these contents belong to in the snapshot. SWAPDB moves contents (and
    /// what they owe) between databases, so this is not always the shard's current one.
    db: usize,
    /// Keys changed since the snapshot's instant, as they were then (`None`: absent then).
    before: HashMap<Box<[u8]>, Option<(Value, u64)>, RandomState>,
    /// The whole table as it was when a FLUSHDB/FLUSHALL emptied the shard, after which
    /// nothing more needs keeping.
    frozen: Option<HashTable<Box<Entry>>>,
}

impl Owed {
    fn new(db: usize) -> Box<Owed> {
        Box::new(Owed {
            db,
            before: HashMap::default(),
            frozen: None,
        })
    }

    fn settled(&self, key: &[u8]) -> bool {
        self.frozen.is_some() || self.before.contains_key(key)
    }

    /// Keeps the current version of `key` (from `table`) unless an older one is kept.
    pub(crate) fn keep(&mut self, table: &HashTable<Box<Entry>>, hash: u64, key: &[u8]) {
        if self.settled(key) {
            return;
        }
        let old = table
            .find(hash, |e| e.key() == key)
            .map(|e| (e.value.clone(), e.expire_raw()));
        self.before.insert(key.into(), old);
    }

    /// Keeps an entry that is leaving the table (expiry) unless an older version is kept.
    pub(crate) fn keep_entry(&mut self, e: &Entry) {
        if !self.settled(e.key()) {
            self.before
                .insert(e.key().into(), Some((e.value.clone(), e.expire_raw())));
        }
    }

    /// A FLUSH is emptying the shard: the old table becomes the snapshot's version. Returns
    /// the table back if an earlier flush already froze one (it then holds only newer data).
    pub(crate) fn freeze(&mut self, table: HashTable<Box<Entry>>) -> Option<HashTable<Box<Entry>>> {
        if self.frozen.is_some() {
            return Some(table);
        }
        self.frozen = Some(table);
        None
    }
}

thread_local! {
    static READ_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Says whether the command about to run on this thread only reads. Its lookups then keep
/// no old versions for a running snapshot; anything not marked read-only (writes, internal
/// work) is assumed to write, so a forgotten mark costs memory, never a wrong snapshot.
pub fn set_read_only(on: bool) {
    READ_ONLY.set(on);
}

#[inline]
pub(crate) fn writing() -> bool {
    !READ_ONLY.get()
}

/// A snapshot's instant and the sizes of its databases then (RDB's resize hints).
#[derive(Debug, Clone)]
pub struct SnapshotStart {
    /// Unix milliseconds of the instant; keys expired by then are left out.
    pub at_ms: u64,
    /// `(keys, keys with an expiry)` per database, expired ones included.
    pub sizes: Vec<(u64, u64)>,
}

/// One key of a snapshot.
pub struct SnapEntry {
    pub key: Key,
    pub value: Value,
    pub expire_ms: Option<u64>,
}

impl Keyspace {
    /// Starts a snapshot of every database as of now: all shards are locked together for
    /// the moment it takes to mark them, so no multi-key command or transaction is half in.
    /// `None` if a snapshot is already running.
    pub fn begin_snapshot(&self) -> Option<SnapshotStart> {
        self.begin_snapshot_with(|| ())
    }

    /// [`Keyspace::begin_snapshot`], running `at_instant` while every shard is locked: no
    /// write happens between the snapshot's instant and it (an append-only log rewrite
    /// switches files there). It must be quick and must not lock shards.
    pub fn begin_snapshot_with(&self, at_instant: impl FnOnce()) -> Option<SnapshotStart> {
        if self.snapshotting.swap(true, Ordering::AcqRel) {
            return None;
        }
        let dbs: Vec<usize> = (0..self.databases()).collect();
        let mut sizes = vec![(0u64, 0u64); dbs.len()];
        // Allocated before the locks are taken: every client waits while they are held.
        let mut owed: Vec<Box<Owed>> = (0..self.slot_count())
            .map(|s| Owed::new(s / SHARDS_PER_DB))
            .collect();
        let mut l = self.lock_dbs(&dbs);
        let at_ms = l.now;
        for ((i, g), o) in l.shards_mut().zip(owed.drain(..)) {
            debug_assert_eq!(o.db, i / SHARDS_PER_DB);
            let db = i / SHARDS_PER_DB;
            sizes[db].0 += g.len() as u64;
            sizes[db].1 += g.volatile as u64;
            g.snap = Some(o);
        }
        self.snapshot_owed
            .store(self.slot_count(), Ordering::Release);
        at_instant();
        Some(SnapshotStart { at_ms, sizes })
    }

    /// Hands the snapshot to `sink` one shard at a time: `(database, its entries as of the
    /// instant)`, never holding a lock while `sink` runs. Each shard is locked only to copy
    /// out its entries (values are handles, so strings are not copied). On a sink error the
    /// snapshot is abandoned and every shard released from it.
    pub fn drain_snapshot<E>(
        &self,
        start: &SnapshotStart,
        mut sink: impl FnMut(usize, Vec<SnapEntry>) -> Result<(), E>,
    ) -> Result<(), E> {
        let result = (|| loop {
            // SWAPDB can move what a shard owes into a shard this pass has already
            // visited, so passes repeat until every shard's contents are collected (a
            // count, not "a pass found nothing": swaps can keep one step ahead of a pass).
            for s in 0..self.slot_count() {
                let mut g = self.lock_slot_for_snapshot(s);
                let Some(owed) = g.snap.take() else { continue };
                self.snapshot_owed.fetch_sub(1, Ordering::AcqRel);
                let (db, entries) = collect(&g, *owed, start.at_ms);
                drop(g);
                if !entries.is_empty() {
                    sink(db, entries)?;
                }
            }
            if self.snapshot_owed.load(Ordering::Acquire) == 0 {
                return Ok(());
            }
        })();
        if result.is_err() {
            for s in 0..self.slot_count() {
                self.lock_slot_for_snapshot(s).snap = None;
            }
            self.snapshot_owed.store(0, Ordering::Release);
        }
        self.snapshotting.store(false, Ordering::Release);
        result
    }

    /// Whether a snapshot is running.
    pub fn snapshot_running(&self) -> bool {
        self.snapshotting.load(Ordering::Acquire)
    }
}

/// The snapshot's version of one shard: the entries kept for keys changed since the
/// instant, and the current (or frozen) entries for every other key.
fn collect(shard: &Shard, owed: Owed, at: u64) -> (usize, Vec<SnapEntry>) {
    let Owed {
        db,
        mut before,
        frozen,
    } = owed;
    let live = |exp: u64| exp == 0 || at <= exp;
    let mut out = Vec::new();
    let mut push = |key: Key, value: Value, exp: u64| {
        if live(exp) {
            out.push(SnapEntry {
                key,
                value,
                expire_ms: (exp != 0).then_some(exp),
            });
        }
    };
    match frozen {
        Some(table) => {
            for e in table {
                if !before.contains_key(e.key()) {
                    let e = *e;
                    let exp = e.expire_raw();
                    let (key, value) = e.into_parts();
                    push(key, value, exp);
                }
            }
        }
        None => {
            for e in shard.iter() {
                if !before.contains_key(e.key()) {
                    push(Key::new(e.key()), e.value.clone(), e.expire_raw());
                }
            }
        }
    }
    for (k, v) in before.drain() {
        if let Some((value, exp)) = v {
            push(Key::new(&k), value, exp);
        }
    }
    (db, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{now_ms, StrVal};
    use std::collections::BTreeMap;

    fn s(v: &str) -> Value {
        Value::Str(StrVal::encoded(v.as_bytes()))
    }

    fn put(ks: &Keyspace, db: usize, k: &str, v: &str) {
        ks.lock_key(db, k.as_bytes())
            .set(db, k.as_bytes(), s(v), None, false);
    }

    type Dump = BTreeMap<(usize, Vec<u8>), Vec<u8>>;

    fn drain(ks: &Keyspace, start: &SnapshotStart) -> Dump {
        let mut out = Dump::new();
        ks.drain_snapshot(start, |db, entries| {
            for e in entries {
                let Value::Str(v) = e.value else { panic!() };
                let old = out.insert((db, e.key.as_bytes().to_vec()), v.to_vec());
                assert!(old.is_none(), "key delivered twice");
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        out
    }

    fn current(ks: &Keyspace) -> Dump {
        let mut out = Dump::new();
        for db in 0..ks.databases() {
            for k in ks.keys(db, |_| true) {
                let mut l = ks.lock_key(db, &k);
                let Some(Value::Str(v)) = l.get(db, &k).map(|e| e.value.clone()) else {
                    panic!()
                };
                out.insert((db, k), v.to_vec());
            }
        }
        out
    }

    #[test]
    fn snapshot_is_the_state_at_its_instant() {
        let ks = Keyspace::new(3);
        for i in 0..2000 {
            put(&ks, i % 3, &format!("k{i}"), &format!("v{i}"));
        }
        ks.lock_key(0, b"dies")
            .set(0, b"dies", s("x"), Some(now_ms() + 30), false);
        let before = current(&ks);
        let start = ks.begin_snapshot().unwrap();
        assert!(ks.begin_snapshot().is_none(), "one snapshot at a time");
        // Overwrites, deletions, new keys, a flushed database and swapped databases.
        for i in (0..2000).step_by(7) {
            put(&ks, i % 3, &format!("k{i}"), "changed");
        }
        for i in (1..2000).step_by(11) {
            let k = format!("k{i}");
            ks.lock_key(i % 3, k.as_bytes()).remove(i % 3, k.as_bytes());
        }
        put(&ks, 0, "new", "n");
        ks.swap_dbs(1, 2);
        put(&ks, 1, "after-swap", "n");
        ks.flush(Some(2));
        put(&ks, 2, "after-flush", "n");
        std::thread::sleep(std::time::Duration::from_millis(40));
        // The expired key is reclaimed lazily, after which its old version still counts.
        assert!(ks.lock_key(0, b"dies").get(0, b"dies").is_none());
        let snap = drain(&ks, &start);
        assert_eq!(snap, before);
        assert!(!ks.snapshot_running());
        // Nothing is kept any more, and the next snapshot sees the new state.
        let now = current(&ks);
        let start = ks.begin_snapshot().unwrap();
        assert_eq!(drain(&ks, &start), now);
    }

    #[test]
    fn swaps_while_draining_lose_nothing() {
        let ks = Keyspace::new(3);
        for i in 0..3000 {
            put(&ks, i % 3, &format!("k{i}"), &format!("v{i}"));
        }
        let before = current(&ks);
        let start = ks.begin_snapshot().unwrap();
        // The sink runs between shard visits: swap databases all the while, so what a
        // shard owes keeps moving ahead of and behind the saver.
        let pairs = [(0, 1), (1, 2), (0, 2), (2, 1)];
        let mut calls = 0usize;
        let mut out = Dump::new();
        ks.drain_snapshot(&start, |db, entries| {
            for e in entries {
                let Value::Str(v) = e.value else { panic!() };
                assert!(out
                    .insert((db, e.key.as_bytes().to_vec()), v.to_vec())
                    .is_none());
            }
            let (a, b) = pairs[calls % pairs.len()];
            ks.swap_dbs(a, b);
            calls += 1;
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(out, before);
        assert_eq!(ks.snapshot_owed.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn read_only_lookups_keep_nothing() {
        let ks = Keyspace::new(1);
        put(&ks, 0, "a", "1");
        let start = ks.begin_snapshot().unwrap();
        set_read_only(true);
        ks.lock_key(0, b"a").get(0, b"a");
        set_read_only(false);
        let shard_keeps = |ks: &Keyspace| {
            (0..ks.slot_count())
                .filter_map(|s| {
                    ks.lock_slot_for_snapshot(s)
                        .snap
                        .as_ref()
                        .map(|o| o.before.len())
                })
                .sum::<usize>()
        };
        assert_eq!(shard_keeps(&ks), 0);
        ks.lock_key(0, b"a").get(0, b"a");
        assert_eq!(shard_keeps(&ks), 1);
        drain(&ks, &start);
    }
}
