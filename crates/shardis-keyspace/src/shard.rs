//! One shard: a hash table of boxed entries plus the counters that expiry and INFO read.
//!
//! Entries are boxed so a table slot is one pointer: the table's unused slack (a hash table is
//! only ever partly full) then costs 8 bytes per slot instead of a whole entry.

use crate::snapshot::Owed;
use crate::watch::{self, WatchMap};
use crate::{Key, Value};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// A key, its value and its metadata.
#[derive(Debug)]
pub struct Entry {
    key: Key,
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 means none.
    expire_at: u64,
    /// Seconds clock of the last access, for OBJECT IDLETIME.
    pub lru: u32,
}

impl Entry {
    pub fn key(&self) -> &[u8] {
        self.key.as_bytes()
    }

    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    /// The expiry in Unix milliseconds, 0 for none.
    pub(crate) fn expire_raw(&self) -> u64 {
        self.expire_at
    }

    pub(crate) fn into_parts(self) -> (Key, Value) {
        (self.key, self.value)
    }

    /// Redis's rule: a key is expired once the clock is strictly past its expiry time.
    #[inline]
    pub fn is_expired(&self, now: u64) -> bool {
        self.expire_at != 0 && now > self.expire_at
    }
}

/// What the keyspace reports to its observer: a key reclaimed because it expired (lazily or
/// by the sweep), or a key created where none was live (Redis's `dbAdd`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeyEvent {
    Expired,
    Created,
}

/// The observer of [`KeyEvent`]s, installed once by the command layer (keyspace
/// notifications, client tracking). It is called under the key's shard lock, so it must never
/// take a shard lock itself.
pub type KeyHook = dyn Fn(KeyEvent, usize, &[u8]) + Send + Sync;

/// The installed hook, if any, and the database of the shard it reports for.
#[derive(Clone, Copy)]
pub(crate) struct Hook<'a> {
    pub f: Option<&'a KeyHook>,
    pub db: usize,
}

impl Hook<'_> {
    #[inline]
    fn emit(&self, e: KeyEvent, key: &[u8]) {
        if let Some(f) = self.f {
            f(e, self.db, key);
        }
    }
}

/// What a write does to the key's expiry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ttl {
    At(u64),
    Keep,
    Clear,
}

/// A shard's table and counters. Only reachable through a lock held by [`crate::Locked`].
#[derive(Default)]
pub struct Shard {
    pub(crate) table: HashTable<Box<Entry>>,
    /// Keys with an expiry set, so the sweeper can skip shards without any.
    pub(crate) volatile: usize,
    /// Keys reclaimed because they expired (lazily or by the sweep), for INFO.
    pub(crate) expired: u64,
    /// Clients watching keys of this shard, if any. It belongs to the shard's place, not to
    /// its contents: FLUSHDB and SWAPDB move tables but leave watchers where they are.
    pub(crate) watch: Option<Box<WatchMap>>,
    /// What this shard's contents still owe a running snapshot (see `crate::snapshot`).
    /// Like the watchers, absent unless needed, so writes pay one pointer check.
    pub(crate) snap: Option<Box<Owed>>,
    /// The append-only log offset of the last record of a write to this shard: a reader
    /// waits for it to be durable before its reply, so nothing it saw can be lost.
    pub(crate) log_end: u64,
}

#[cfg(test)]
#[test]
fn entry_fits_a_64_byte_allocation() {
    assert!(
        std::mem::size_of::<Entry>() <= 64,
        "{}",
        std::mem::size_of::<Entry>()
    );
}

pub(crate) fn lru_clock(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32
}

impl Shard {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Finds a live entry; an expired one is removed on the way and reported absent.
    pub(crate) fn lookup(
        &mut self,
        hash: u64,
        key: &[u8],
        now: u64,
        hook: Hook<'_>,
    ) -> Option<&mut Entry> {
        match self.table.find_entry(hash, |e| e.key.as_bytes() == key) {
            Err(_) => None,
            Ok(occ) => {
                if occ.get().is_expired(now) {
                    let (e, _) = occ.remove();
                    if let Some(o) = self.snap.as_deref_mut() {
                        o.keep_entry(&e);
                    }
                    self.volatile -= 1;
                    self.expired += 1;
                    if let Some(w) = self.watch.as_deref_mut() {
                        watch::touch(w, key, false);
                    }
                    hook.emit(KeyEvent::Expired, key);
                    None
                } else {
                    Some(&mut **occ.into_mut())
                }
            }
        }
    }

    /// Stores `value` under `key` with the expiry `ttl` says. Returns the value it replaced,
    /// if that was live, so the caller can free it after releasing the lock.
    // Each argument is a distinct piece of the one table operation; bundling them would only
    // move the list into a struct built for this single call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn upsert(
        &mut self,
        hasher: &RandomState,
        hash: u64,
        key: &[u8],
        value: Value,
        ttl: Ttl,
        now: u64,
        hook: Hook<'_>,
    ) -> Option<Value> {
        self.keep_for_snapshot(hash, key);
        let new_exp = match ttl {
            Ttl::At(t) => t,
            Ttl::Keep | Ttl::Clear => 0,
        };
        match self.table.find_mut(hash, |e| e.key.as_bytes() == key) {
            Some(e) => {
                let was_live = !e.is_expired(now);
                let exp = if ttl == Ttl::Keep && was_live {
                    e.expire_at
                } else {
                    new_exp
                };
                if e.expire_at != 0 {
                    self.volatile -= 1;
                }
                if exp != 0 {
                    self.volatile += 1;
                }
                if !was_live {
                    self.expired += 1;
                    hook.emit(KeyEvent::Expired, key);
                    hook.emit(KeyEvent::Created, key);
                }
                e.expire_at = exp;
                e.lru = lru_clock(now);
                let old = std::mem::replace(&mut e.value, value);
                was_live.then_some(old)
            }
            None => {
                if new_exp != 0 {
                    self.volatile += 1;
                }
                let entry = Box::new(Entry {
                    key: Key::new(key),
                    value,
                    expire_at: new_exp,
                    lru: lru_clock(now),
                });
                self.table
                    .insert_unique(hash, entry, |e| hasher.hash_one(e.key.as_bytes()));
                hook.emit(KeyEvent::Created, key);
                None
            }
        }
    }

    /// Removes a live entry and hands it back so the caller frees it outside the lock.
    pub(crate) fn remove(
        &mut self,
        hash: u64,
        key: &[u8],
        now: u64,
        hook: Hook<'_>,
    ) -> Option<Box<Entry>> {
        self.keep_for_snapshot(hash, key);
        let occ = self
            .table
            .find_entry(hash, |e| e.key.as_bytes() == key)
            .ok()?;
        let (e, _) = occ.remove();
        if e.expire_at != 0 {
            self.volatile -= 1;
        }
        self.touch_watched(key, false);
        if e.is_expired(now) {
            self.expired += 1;
            hook.emit(KeyEvent::Expired, key);
            return None;
        }
        Some(e)
    }

    /// Moves an existing boxed entry in under a (possibly new) key name, replacing any entry
    /// there. Returns the replaced live value.
    pub(crate) fn put_entry(
        &mut self,
        hasher: &RandomState,
        hash: u64,
        mut entry: Box<Entry>,
        new_key: &[u8],
        now: u64,
        hook: Hook<'_>,
    ) -> Option<Value> {
        let replaced = self.remove(hash, new_key, now, hook).map(|e| e.value);
        if entry.key.as_bytes() != new_key {
            entry.key = Key::new(new_key);
        }
        if entry.expire_at != 0 {
            self.volatile += 1;
        }
        self.table
            .insert_unique(hash, entry, |e| hasher.hash_one(e.key.as_bytes()));
        // Redis deletes the old key and adds the new one, so this is a creation even when
        // a key was replaced.
        hook.emit(KeyEvent::Created, new_key);
        replaced
    }

    pub(crate) fn set_expire(&mut self, e_hash: u64, key: &[u8], at: u64) -> bool {
        self.keep_for_snapshot(e_hash, key);
        let Some(e) = self.table.find_mut(e_hash, |e| e.key.as_bytes() == key) else {
            return false;
        };
        if e.expire_at != 0 {
            self.volatile -= 1;
        }
        if at != 0 {
            self.volatile += 1;
        }
        e.expire_at = at;
        true
    }

    /// Drops every expired entry; returns how many. Bounded by the shard's size.
    pub(crate) fn purge_expired(&mut self, now: u64, hook: Hook<'_>) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let mut n = 0;
        let volatile = &mut self.volatile;
        let mut watch = self.watch.as_deref_mut();
        let mut snap = self.snap.as_deref_mut();
        self.table.retain(|e| {
            if e.is_expired(now) {
                *volatile -= 1;
                n += 1;
                if let Some(o) = snap.as_deref_mut() {
                    o.keep_entry(e);
                }
                if let Some(w) = watch.as_deref_mut() {
                    watch::touch(w, e.key.as_bytes(), false);
                }
                hook.emit(KeyEvent::Expired, e.key.as_bytes());
                false
            } else {
                true
            }
        });
        self.expired += n as u64;
        n
    }

    /// Tells the watchers of `key` that it changed; `exists` says whether it is still there.
    #[inline]
    pub(crate) fn touch_watched(&mut self, key: &[u8], exists: bool) {
        if let Some(w) = self.watch.as_deref_mut() {
            watch::touch(w, key, exists);
        }
    }

    /// Whether `key` is in the table, expired or not (Redis's `dictFind`).
    pub(crate) fn contains(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.table
            .find(hash, |e| e.key.as_bytes() == key)
            .map(|b| &**b)
    }

    /// Takes the contents (table and expiry count) and leaves the watchers in place. During
    /// a snapshot that has not reached this shard yet, the table goes to the snapshot
    /// instead, and an empty one comes back.
    pub(crate) fn take_contents(&mut self) -> Shard {
        let mut table = std::mem::take(&mut self.table);
        let volatile = std::mem::take(&mut self.volatile);
        if let Some(o) = self.snap.as_deref_mut() {
            table = o.freeze(table).unwrap_or_default();
        }
        Shard {
            table,
            volatile,
            expired: 0,
            watch: None,
            snap: None,
            log_end: 0,
        }
    }

    /// Swaps contents with `other`, leaving each shard's watchers in place (SWAPDB). What
    /// the contents owe a running snapshot moves with them.
    pub(crate) fn swap_contents(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
        std::mem::swap(&mut self.snap, &mut other.snap);
    }

    /// Before `key` changes: keeps its current version for a snapshot that has not reached
    /// this shard yet.
    #[inline]
    pub(crate) fn keep_for_snapshot(&mut self, hash: u64, key: &[u8]) {
        if let Some(o) = self.snap.as_deref_mut() {
            o.keep(&self.table, hash, key);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter().map(|b| &**b)
    }
}
