//! The keyspace: every database's shards in one array, the lock-ordering rule, and the
//! whole-keyspace walks (SCAN, KEYS, RANDOMKEY, sweep, flush, swap).
//!
//! Lock order: shards are numbered `db * shards_per_db + shard`, and any operation holding
//! more than one shard lock takes them in ascending number. That single rule makes multi-key
//! commands atomic and deadlock-free.

use crate::shard::{lru_clock, Entry, Shard, Ttl};
use crate::{now_ms, Value};
use foldhash::fast::RandomState;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Shards per database. A power of two; enough that 2–64 cores rarely meet on one lock and
/// that one shard's resize or sweep is a small, bounded pause.
pub const SHARDS_PER_DB: usize = 256;

/// A shard padded to its own cache line, so neighbouring locks don't share one.
#[repr(align(64))]
#[derive(Default)]
struct Slot(Mutex<Shard>);

/// The databases and their shards.
pub struct Keyspace {
    slots: Box<[Slot]>,
    dbs: usize,
    hasher: RandomState,
    active_expire: AtomicBool,
    sweep_cursor: AtomicUsize,
}

/// A page of SCAN results.
pub struct ScanPage {
    pub cursor: u64,
    pub keys: Vec<Vec<u8>>,
}

/// Shard locks held for one command, in ascending order, and the command's clock.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: SmallVec<[(usize, MutexGuard<'a, Shard>); 2]>,
    /// The command's time: every expiry check within one command sees the same instant.
    pub now: u64,
}

impl Keyspace {
    pub fn new(dbs: usize) -> Keyspace {
        let dbs = dbs.max(1);
        let slots = (0..dbs * SHARDS_PER_DB).map(|_| Slot::default()).collect();
        Keyspace {
            slots,
            dbs,
            hasher: RandomState::default(),
            active_expire: AtomicBool::new(true),
            sweep_cursor: AtomicUsize::new(0),
        }
    }

    pub fn databases(&self) -> usize {
        self.dbs
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The global shard number of `key` in `db`. The shard uses hash bits that the table's own
    /// bucket index and tag bits don't, so shards stay evenly used.
    #[inline]
    fn slot_of(&self, db: usize, hash: u64) -> usize {
        db * SHARDS_PER_DB + ((hash >> 32) as usize & (SHARDS_PER_DB - 1))
    }

    /// Locks the shard holding `key`.
    pub fn lock_key(&self, db: usize, key: &[u8]) -> Locked<'_> {
        let s = self.slot_of(db, self.hash(key));
        let mut guards = SmallVec::new();
        guards.push((s, self.slots[s].0.lock()));
        Locked {
            ks: self,
            guards,
            now: now_ms(),
        }
    }

    /// Locks the shards of several keys, possibly in several databases, in ascending order.
    pub fn lock_keys<'k>(&self, keys: impl IntoIterator<Item = (usize, &'k [u8])>) -> Locked<'_> {
        let mut idx: SmallVec<[usize; 8]> = keys
            .into_iter()
            .map(|(db, k)| self.slot_of(db, self.hash(k)))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        self.lock_slots(&idx)
    }

    /// Locks every shard of the given databases (for FLUSHDB, SWAPDB, FLUSHALL).
    pub fn lock_dbs(&self, dbs: &[usize]) -> Locked<'_> {
        let mut idx: Vec<usize> = dbs
            .iter()
            .flat_map(|&db| db * SHARDS_PER_DB..(db + 1) * SHARDS_PER_DB)
            .collect();
        idx.sort_unstable();
        idx.dedup();
        self.lock_slots(&idx)
    }

    fn lock_slots(&self, sorted: &[usize]) -> Locked<'_> {
        let guards = sorted
            .iter()
            .map(|&s| (s, self.slots[s].0.lock()))
            .collect();
        Locked {
            ks: self,
            guards,
            now: now_ms(),
        }
    }

    /// Turns the active sweep on or off (DEBUG SET-ACTIVE-EXPIRE).
    pub fn set_active_expire(&self, on: bool) {
        self.active_expire.store(on, Ordering::Relaxed);
    }

    /// One step of the active expiry sweep: visits shards round-robin, dropping expired keys,
    /// until `budget` is spent or every shard was seen once. Each shard is locked on its own,
    /// so no client waits for more than one shard's work. Returns keys reclaimed.
    pub fn sweep(&self, budget: Duration) -> usize {
        if !self.active_expire.load(Ordering::Relaxed) {
            return 0;
        }
        let start = Instant::now();
        let n = self.slots.len();
        let mut reclaimed = 0;
        for _ in 0..n {
            let i = self.sweep_cursor.fetch_add(1, Ordering::Relaxed) % n;
            let mut shard = self.slots[i].0.lock();
            if shard.volatile > 0 {
                reclaimed += shard.purge_expired(now_ms());
            }
            drop(shard);
            if start.elapsed() >= budget {
                break;
            }
        }
        reclaimed
    }

    fn db_slots(&self, db: usize) -> &[Slot] {
        &self.slots[db * SHARDS_PER_DB..(db + 1) * SHARDS_PER_DB]
    }

    /// Live keys in `db`. Expired keys awaiting reclamation are not counted, and counting
    /// reclaims nothing, so `DEBUG SET-ACTIVE-EXPIRE 0` leaves them in place as in Redis.
    pub fn dbsize(&self, db: usize) -> usize {
        self.db_stats(db).0
    }

    /// `(live keys, live keys with an expiry)` of `db`, for DBSIZE and INFO keyspace.
    pub fn db_stats(&self, db: usize) -> (usize, usize) {
        let now = now_ms();
        self.db_slots(db).iter().fold((0, 0), |(k, v), s| {
            let g = s.0.lock();
            if g.volatile == 0 {
                return (k + g.len(), v);
            }
            let (mut live, mut vol) = (0, 0);
            for e in g.iter().filter(|e| !e.is_expired(now)) {
                live += 1;
                vol += e.expire_at().is_some() as usize;
            }
            (k + live, v + vol)
        })
    }

    /// Keys reclaimed by expiry since start, for INFO stats.
    pub fn expired_keys(&self) -> u64 {
        self.slots.iter().map(|s| s.0.lock().expired).sum()
    }

    /// Every live key of `db` that `keep` accepts. Each shard is locked on its own in turn.
    pub fn keys(&self, db: usize, mut keep: impl FnMut(&Entry) -> bool) -> Vec<Vec<u8>> {
        let now = now_ms();
        let mut out = Vec::new();
        for s in self.db_slots(db) {
            let g = s.0.lock();
            out.extend(
                g.iter()
                    .filter(|e| !e.is_expired(now) && keep(e))
                    .map(|e| e.key().to_vec()),
            );
        }
        out
    }

    /// One SCAN step. The cursor is `shard << 16 | position`, where position is a 16-bit slice
    /// of the key's hash. A step returns every key of a shard whose position lies in a range
    /// `[pos, next)`, and ranges are visited in order, so a key present for the whole scan is
    /// returned however the table resizes in between — the same contract Redis gives.
    /// `keep` filters what is returned (MATCH, TYPE) without changing what is visited.
    pub fn scan(
        &self,
        db: usize,
        cursor: u64,
        count: usize,
        mut keep: impl FnMut(&Entry) -> bool,
    ) -> ScanPage {
        let now = now_ms();
        let mut shard = (cursor >> 16) as usize;
        let mut pos = (cursor & 0xffff) as u32;
        let mut keys = Vec::new();
        let mut visited = 0usize;
        let count = count.max(1);
        while shard < SHARDS_PER_DB && visited < count {
            let g = self.db_slots(db)[shard].0.lock();
            // Take at least a sixteenth of a large shard per step, so a full scan
            // costs a bounded multiple of the keyspace's size.
            let want = (count - visited).max(g.len() / 16).max(1);
            let mut cands: Vec<(u32, &Entry)> = g
                .iter()
                .filter(|e| !e.is_expired(now))
                .map(|e| (self.scan_pos(e.key()), e))
                .filter(|(p, _)| *p >= pos)
                .collect();
            let next = if cands.len() > want {
                cands.sort_unstable_by_key(|c| c.0);
                // Cut after `want` keys but never inside one position's group.
                let last = cands[want - 1].0;
                cands.retain(|c| c.0 <= last);
                Some(last + 1)
            } else {
                None
            };
            visited += cands.len();
            keys.extend(
                cands
                    .into_iter()
                    .filter(|c| keep(c.1))
                    .map(|c| c.1.key().to_vec()),
            );
            drop(g);
            match next {
                Some(p) if p <= 0xffff => pos = p,
                _ => {
                    shard += 1;
                    pos = 0;
                }
            }
        }
        let cursor = if shard >= SHARDS_PER_DB {
            0
        } else {
            (shard as u64) << 16 | pos as u64
        };
        ScanPage { cursor, keys }
    }

    #[inline]
    fn scan_pos(&self, key: &[u8]) -> u32 {
        ((self.hash(key) >> 16) & 0xffff) as u32
    }

    /// A random live key of `db`, or `None` when it is empty.
    pub fn random_key(&self, db: usize) -> Option<Vec<u8>> {
        let now = now_ms();
        let slots = self.db_slots(db);
        // A few random shards first; then every shard in order from a random start, so a
        // nearly empty database still finds its keys in bounded time.
        let start = fastrand::usize(..SHARDS_PER_DB);
        let tries = (0..8)
            .map(|_| fastrand::usize(..SHARDS_PER_DB))
            .chain((0..SHARDS_PER_DB).map(|i| (start + i) % SHARDS_PER_DB));
        for s in tries {
            let g = slots[s].0.lock();
            let live: Vec<&Entry> = g.iter().filter(|e| !e.is_expired(now)).collect();
            if !live.is_empty() {
                return Some(live[fastrand::usize(..live.len())].key().to_vec());
            }
        }
        None
    }

    /// Empties `db` (or every database) atomically and hands back the old contents, so the
    /// caller can drop them off the request path (FLUSHDB ASYNC).
    pub fn flush(&self, db: Option<usize>) -> Vec<Shard> {
        let dbs: Vec<usize> = match db {
            Some(d) => vec![d],
            None => (0..self.dbs).collect(),
        };
        let mut l = self.lock_dbs(&dbs);
        l.guards
            .iter_mut()
            .map(|(_, g)| std::mem::take(&mut **g))
            .collect()
    }

    /// Swaps two databases atomically: every shard of both is locked, then contents swapped.
    pub fn swap_dbs(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let mut l = self.lock_dbs(&[a, b]);
        let (lo, hi) = l.guards.split_at_mut(SHARDS_PER_DB);
        for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
            std::mem::swap(&mut *x.1, &mut *y.1);
        }
    }
}

thread_local! {
    static TOUCH: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether reads by the command about to run on this thread update keys' access clocks.
/// A thread-local because the flag belongs to the client (CLIENT NO-TOUCH) while the clock
/// lives deep in the keyspace, and commands run to completion on one thread.
pub fn set_touch(on: bool) {
    TOUCH.set(on);
}

impl<'a> Locked<'a> {
    #[inline]
    fn shard(&mut self, db: usize, hash: u64) -> &mut Shard {
        let s = self.ks.slot_of(db, hash);
        let g = self
            .guards
            .iter_mut()
            .find(|(i, _)| *i == s)
            .expect("shard of this key is not locked");
        &mut g.1
    }

    /// The live entry of `key`, touching its access clock unless this thread's command runs
    /// for a CLIENT NO-TOUCH client.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (h, now) = (self.ks.hash(key), self.now);
        let e = self.shard(db, h).lookup(h, key, now)?;
        if TOUCH.get() {
            e.lru = lru_clock(now);
        }
        Some(e)
    }

    /// The live entry of `key` without touching its access clock (OBJECT IDLETIME, TTL).
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (h, now) = (self.ks.hash(key), self.now);
        self.shard(db, h).lookup(h, key, now)
    }

    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.peek(db, key).is_some()
    }

    /// Sets `key` to `value`; with `expire_at == None` the old expiry is kept if `keep_ttl`,
    /// cleared otherwise. Returns the replaced live value for dropping after unlock.
    pub fn set(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_at: Option<u64>,
        keep_ttl: bool,
    ) -> Option<Value> {
        let (h, now) = (self.ks.hash(key), self.now);
        let hasher = &self.ks.hasher;
        let s = self.ks.slot_of(db, h);
        let g = self
            .guards
            .iter_mut()
            .find(|(i, _)| *i == s)
            .expect("shard of this key is not locked");
        let ttl = match (expire_at, keep_ttl) {
            (Some(t), _) => Ttl::At(t),
            (None, true) => Ttl::Keep,
            (None, false) => Ttl::Clear,
        };
        g.1.upsert(hasher, h, key, value, ttl, now)
    }

    /// Removes `key`, returning its live entry (to drop after unlock).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Box<Entry>> {
        let (h, now) = (self.ks.hash(key), self.now);
        self.shard(db, h).remove(h, key, now)
    }

    /// Puts a removed entry back under `key` in `db` (RENAME, MOVE), replacing what is there.
    pub fn put(&mut self, db: usize, key: &[u8], entry: Box<Entry>) -> Option<Value> {
        let (h, now) = (self.ks.hash(key), self.now);
        let hasher = &self.ks.hasher;
        let s = self.ks.slot_of(db, h);
        let g = self
            .guards
            .iter_mut()
            .find(|(i, _)| *i == s)
            .expect("shard of this key is not locked");
        g.1.put_entry(hasher, h, entry, key, now)
    }

    /// Sets (or with `None` clears) the expiry of a live key; false if there is no such key.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<u64>) -> bool {
        if self.peek(db, key).is_none() {
            return false;
        }
        let h = self.ks.hash(key);
        self.shard(db, h).set_expire(h, key, at.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(crate::StrVal::encoded(v.as_bytes()))
    }

    #[test]
    fn scan_returns_every_key_across_growth() {
        let ks = Keyspace::new(1);
        for i in 0..5000 {
            let k = format!("k{i}");
            ks.lock_key(0, k.as_bytes())
                .set(0, k.as_bytes(), s("v"), None, false);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            let page = ks.scan(0, cursor, 10, |_| true);
            seen.extend(page.keys);
            // Grow the table while scanning.
            for j in 0..50 {
                let k = format!("new{steps}_{j}");
                ks.lock_key(0, k.as_bytes())
                    .set(0, k.as_bytes(), s("v"), None, false);
            }
            steps += 1;
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missing");
        }
    }

    #[test]
    fn expired_keys_are_invisible_and_swept() {
        let ks = Keyspace::new(2);
        let past = now_ms() - 10;
        {
            let mut l = ks.lock_key(0, b"a");
            l.set(0, b"a", s("1"), Some(past), false);
            assert!(l.get(0, b"a").is_none());
        }
        ks.lock_key(0, b"b")
            .set(0, b"b", s("1"), Some(now_ms() + 5), false);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(ks.sweep(Duration::from_secs(1)), 1);
        assert_eq!(ks.dbsize(0), 0);
        assert_eq!(ks.expired_keys(), 2);
    }

    #[test]
    fn swap_and_flush() {
        let ks = Keyspace::new(2);
        ks.lock_key(0, b"a").set(0, b"a", s("1"), None, false);
        ks.swap_dbs(0, 1);
        assert_eq!(ks.dbsize(0), 0);
        assert_eq!(ks.dbsize(1), 1);
        ks.flush(None);
        assert_eq!(ks.dbsize(1), 0);
    }
}
