//! The keyspace: every database's shards in one array, the lock-ordering rule, and the
//! whole-keyspace walks (SCAN, KEYS, RANDOMKEY, sweep, flush, swap).
//!
//! Lock order: shards are numbered `db * shards_per_db + shard`, and any operation holding
//! more than one shard lock takes them in ascending number. That single rule makes multi-key
//! commands atomic and deadlock-free.

use crate::lock::{Mutex, MutexGuard};
use crate::shard::{lru_clock, Entry, Hook, KeyHook, Shard, Ttl};
use crate::watch::{self, WatchFlag, Watcher};
use crate::{now_ms, Value};
use foldhash::fast::RandomState;
use smallvec::SmallVec;
use std::hash::BuildHasher;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Shards per database. A power of two; enough that 2–64 cores rarely meet on one lock and
/// that one shard's resize or sweep is a small, bounded pause.
pub const SHARDS_PER_DB: usize = 256;

/// A shard padded to its own cache line, so neighbouring locks don't share one, and the
/// thread whose transaction holds it (see [`Held`]).
#[repr(align(64))]
#[derive(Default)]
struct Slot(Mutex<Shard>, AtomicU32);

/// Set in a slot's owner word while a [`Locked`] of the owning thread borrows the shard.
const LENT: u32 = 1 << 31;

/// This thread's nonzero token for slot ownership.
fn thread_token() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    thread_local! {
        static TOKEN: u32 = NEXT.fetch_add(1, Ordering::Relaxed) & !LENT;
    }
    TOKEN.with(|t| *t)
}

/// A locked shard: either locked for this command, or borrowed from the transaction that
/// this thread is running, which locked it before its first command.
enum ShardRef<'a> {
    Own(MutexGuard<'a, Shard>),
    Held(&'a mut Shard, &'a AtomicU32),
}

impl Deref for ShardRef<'_> {
    type Target = Shard;
    #[inline]
    fn deref(&self) -> &Shard {
        match self {
            ShardRef::Own(g) => g,
            ShardRef::Held(s, _) => s,
        }
    }
}

impl DerefMut for ShardRef<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Shard {
        match self {
            ShardRef::Own(g) => g,
            ShardRef::Held(s, _) => s,
        }
    }
}

impl Drop for ShardRef<'_> {
    fn drop(&mut self) {
        if let ShardRef::Held(_, owner) = self {
            owner.fetch_and(!LENT, Ordering::Relaxed);
        }
    }
}

/// Shards held by a transaction (EXEC) for its whole run, in ascending order. While it
/// lives, this thread's commands borrow these shards instead of locking them, so every
/// command of the transaction sees and changes them with no other client in between.
pub struct Held<'a> {
    ks: &'a Keyspace,
    slots: Vec<usize>,
    /// Not `Send`: ownership is tied to the token of the thread that locked the shards.
    _thread: std::marker::PhantomData<*const ()>,
}

impl Held<'_> {
    /// Records that the transaction's writes are logged up to `end` (its MULTI … EXEC
    /// block), so readers of the held shards wait for that to be durable.
    pub fn set_log_end(&mut self, end: u64) {
        for &s in &self.slots {
            // SAFETY: this thread locked the slot in `hold` and no command borrows it now
            // (the LENT bit is clear between commands), so this is the only access.
            #[allow(unsafe_code)]
            let shard = unsafe { &mut *self.ks.slots[s].0.data_ptr() };
            shard.log_end = shard.log_end.max(end);
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        for &s in self.slots.iter().rev() {
            let slot = &self.ks.slots[s];
            // Unlocking under a live borrow would hand out an aliased shard: never go on.
            if slot.1.load(Ordering::Relaxed) & LENT != 0 {
                std::process::abort();
            }
            slot.1.store(0, Ordering::Relaxed);
            // SAFETY: `hold` locked this mutex and forgot the guard; nothing else unlocks it.
            #[allow(unsafe_code)]
            unsafe {
                slot.0.force_unlock()
            };
        }
        HOLDING.set(false);
    }
}

/// The databases and their shards.
pub struct Keyspace {
    slots: Box<[Slot]>,
    dbs: usize,
    hasher: RandomState,
    active_expire: AtomicBool,
    sweep_cursor: AtomicUsize,
    /// WATCH registrations, read without locks so writes skip watch work when there are none.
    watchers: AtomicUsize,
    /// Called for each key a write scope's command changed, before its shard lock is
    /// released (client tracking's invalidation, installed by the command layer).
    write_hook: std::sync::OnceLock<WriteHook>,
    /// Told of keys created and expired; see [`Keyspace::set_hook`].
    hook: OnceLock<Box<KeyHook>>,
    /// A snapshot is running (see `crate::snapshot`).
    pub(crate) snapshotting: AtomicBool,
    /// Shards whose contents the running snapshot has not collected yet.
    pub(crate) snapshot_owed: AtomicUsize,
    /// Called when a command's locks that changed something are about to be released
    /// (the append-only log's record, which must be ordered as the writes are).
    commit_hook: OnceLock<CommitHook>,
    /// Whether the commit hook wants calls (the log is on), so writes skip it otherwise.
    commit_hook_on: AtomicBool,
    /// Replaying a log: nothing counts as expired, as in Redis while loading, so commands
    /// replay against the data they first ran on.
    loading: AtomicBool,
}

/// See [`Keyspace::set_commit_hook`].
/// Called with whether the locks' holder changed something and the newest log offset any of
/// its shards has seen; returns the log offset of the holder's own record (0 if none).
pub type CommitHook = Box<dyn Fn(bool, u64) -> u64 + Send + Sync>;

/// A key being loaded: name, value and absolute expiry in Unix milliseconds.
pub type LoadedKey = (Vec<u8>, Value, Option<u64>);

/// Told `(db, key)` of each key a write scope's command changed, under its shard lock.
pub type WriteHook = Box<dyn Fn(usize, &[u8]) + Send + Sync>;

/// A page of SCAN results.
pub struct ScanPage {
    pub cursor: u64,
    pub keys: Vec<Vec<u8>>,
}

/// Shard locks held for one command, in ascending order, and the command's clock.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: SmallVec<[(usize, ShardRef<'a>); 2]>,
    /// The command's time: every expiry check within one command sees the same instant.
    pub now: u64,
    /// The time expiry checks use: `now`, or 0 while replaying a log (nothing expires).
    clock: u64,
    /// Something was (or, for a write command's lookups, may have been) changed.
    mutated: bool,
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
            watchers: AtomicUsize::new(0),
            write_hook: std::sync::OnceLock::new(),
            hook: OnceLock::new(),
            snapshotting: AtomicBool::new(false),
            snapshot_owed: AtomicUsize::new(0),
            commit_hook: OnceLock::new(),
            commit_hook_on: AtomicBool::new(false),
            loading: AtomicBool::new(false),
        }
    }

    /// Installs the hook run under the locks of every [`Locked`] that changed something,
    /// just before they are released (once; later calls are ignored). It must not lock
    /// shards. Writes to one key are serialized by its shard lock, so whatever the hook
    /// records is in the order the writes happened.
    pub fn set_commit_hook(&self, hook: CommitHook) {
        let _ = self.commit_hook.set(hook);
    }

    /// Turns calls of the commit hook on or off.
    pub fn set_commit_hook_on(&self, on: bool) {
        self.commit_hook_on.store(on, Ordering::Relaxed);
    }

    /// Turns replay mode on or off: while on, no key is treated as expired.
    pub fn set_loading(&self, on: bool) {
        self.loading.store(on, Ordering::Relaxed);
    }

    fn new_locked<'a>(&'a self, guards: SmallVec<[(usize, ShardRef<'a>); 2]>) -> Locked<'a> {
        let now = now_ms();
        let loading = self.loading.load(Ordering::Relaxed);
        Locked {
            ks: self,
            guards,
            now,
            clock: if loading { 0 } else { now },
            mutated: false,
        }
    }

    /// Shards in all databases.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Locks one shard by its global number (the snapshot saver's walk).
    pub(crate) fn lock_slot_for_snapshot(&self, s: usize) -> impl DerefMut<Target = Shard> + '_ {
        self.lock_slot(s)
    }

    /// Installs the observer of key creation and expiry (once; later calls are ignored).
    pub fn set_hook(&self, hook: Box<KeyHook>) {
        let _ = self.hook.set(hook);
    }

    #[inline]
    fn hook(&self, db: usize) -> Hook<'_> {
        Hook {
            f: self.hook.get().map(|b| &**b),
            db,
        }
    }

    /// Installs the hook told about every changed key of a write scope (see [`WriteScope`]).
    pub fn set_write_hook(&self, hook: WriteHook) {
        let _ = self.write_hook.set(hook);
    }

    /// Locks slot `s`, or borrows it if this thread's transaction holds it.
    #[inline]
    fn lock_slot(&self, s: usize) -> ShardRef<'_> {
        let slot = &self.slots[s];
        let owner = slot.1.load(Ordering::Relaxed);
        // Only this thread ever stores its own token, so seeing it means we hold the lock.
        if owner != 0 && owner & !LENT == thread_token() {
            assert!(owner & LENT == 0, "shard {s} borrowed twice by one command");
            slot.1.store(owner | LENT, Ordering::Relaxed);
            // SAFETY: this thread's `Held` owns the lock and lends the shard to one `ShardRef`
            // at a time (the LENT bit), so this is the only reference to it.
            #[allow(unsafe_code)]
            let shard = unsafe { &mut *slot.0.data_ptr() };
            return ShardRef::Held(shard, &slot.1);
        }
        debug_assert!(
            !HOLDING.get(),
            "a transaction locked shard {s} it does not hold: lock order broken"
        );
        ShardRef::Own(slot.0.lock())
    }

    /// Locks the shards of `keys` (or with `all`, every shard) for a transaction, in
    /// ascending order, until the returned guard drops. Commands run on this thread
    /// meanwhile borrow them; a command needing any other shard is a bug (the transaction
    /// must name every key up front), caught by a debug assertion.
    pub fn hold<'k>(
        &self,
        keys: impl IntoIterator<Item = (usize, &'k [u8])>,
        all: bool,
    ) -> Held<'_> {
        let mut slots: Vec<usize> = if all {
            (0..self.slots.len()).collect()
        } else {
            keys.into_iter()
                .map(|(db, k)| self.slot_of(db, self.hash(k)))
                .collect()
        };
        slots.sort_unstable();
        slots.dedup();
        let token = thread_token();
        for &s in &slots {
            std::mem::forget(self.slots[s].0.lock());
            self.slots[s].1.store(token, Ordering::Relaxed);
        }
        HOLDING.set(true);
        Held {
            ks: self,
            slots,
            _thread: std::marker::PhantomData,
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
        guards.push((s, self.lock_slot(s)));
        self.new_locked(guards)
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
        let guards = sorted.iter().map(|&s| (s, self.lock_slot(s))).collect();
        self.new_locked(guards)
    }

    /// Makes room for about `keys` more keys in `db`, spread over its shards, so a load
    /// grows each table once instead of rehashing it again and again (RDB's resize hint).
    pub fn reserve(&self, db: usize, keys: u64) {
        if db >= self.dbs {
            return;
        }
        // A hint from a file: never trust it with more than a bounded allocation.
        let per_shard = (keys.min(1 << 32) as usize / SHARDS_PER_DB).min(1 << 22);
        let hasher = &self.hasher;
        for s in db * SHARDS_PER_DB..(db + 1) * SHARDS_PER_DB {
            let mut g = self.lock_slot(s);
            g.table.reserve(per_shard, |e| hasher.hash_one(e.key()));
        }
    }

    /// Stores a batch of loaded keys (from an RDB file or a log's base) in `db`, replacing
    /// any of the same name: each shard is locked once per batch. The batch is emptied.
    pub fn insert_batch(&self, db: usize, batch: &mut Vec<LoadedKey>) {
        let mut order: Vec<(usize, u64, usize)> = batch
            .iter()
            .enumerate()
            .map(|(i, (k, _, _))| {
                let h = self.hash(k);
                (self.slot_of(db, h), h, i)
            })
            .collect();
        order.sort_unstable_by_key(|o| (o.0, o.2));
        let mut items: Vec<Option<LoadedKey>> = batch.drain(..).map(Some).collect();
        let now = now_ms();
        let clock = if self.loading.load(Ordering::Relaxed) {
            0
        } else {
            now
        };
        let hook = self.hook(db);
        let mut replaced = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let slot = order[i].0;
            let mut g = self.lock_slot(slot);
            while i < order.len() && order[i].0 == slot {
                let (_, h, at) = order[i];
                if let Some((key, value, exp)) = items[at].take() {
                    let ttl = exp.map_or(Ttl::Clear, Ttl::At);
                    replaced.extend(g.upsert(&self.hasher, h, &key, value, ttl, clock, hook));
                }
                i += 1;
            }
        }
        drop(replaced);
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
            let mut shard = self.lock_slot(i);
            if shard.volatile > 0 {
                reclaimed += shard.purge_expired(now_ms(), self.hook(i / SHARDS_PER_DB));
            }
            drop(shard);
            if start.elapsed() >= budget {
                break;
            }
        }
        reclaimed
    }

    /// Locks (or borrows) each shard of `db` in turn.
    fn db_shards(&self, db: usize) -> impl Iterator<Item = ShardRef<'_>> {
        (db * SHARDS_PER_DB..(db + 1) * SHARDS_PER_DB).map(|s| self.lock_slot(s))
    }

    /// Live keys in `db`. Expired keys awaiting reclamation are not counted, and counting
    /// reclaims nothing, so `DEBUG SET-ACTIVE-EXPIRE 0` leaves them in place as in Redis.
    pub fn dbsize(&self, db: usize) -> usize {
        self.db_stats(db).0
    }

    /// `(live keys, live keys with an expiry)` of `db`, for DBSIZE and INFO keyspace.
    pub fn db_stats(&self, db: usize) -> (usize, usize) {
        let now = now_ms();
        self.db_shards(db).fold((0, 0), |(k, v), g| {
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
        (0..self.slots.len())
            .map(|s| self.lock_slot(s).expired)
            .sum()
    }

    /// Every live key of `db` that `keep` accepts. Each shard is locked on its own in turn.
    pub fn keys(&self, db: usize, mut keep: impl FnMut(&Entry) -> bool) -> Vec<Vec<u8>> {
        let now = now_ms();
        let mut out = Vec::new();
        for g in self.db_shards(db) {
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
            let g = self.lock_slot(db * SHARDS_PER_DB + shard);
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
        // A few random shards first; then every shard in order from a random start, so a
        // nearly empty database still finds its keys in bounded time.
        let start = fastrand::usize(..SHARDS_PER_DB);
        let tries = (0..8)
            .map(|_| fastrand::usize(..SHARDS_PER_DB))
            .chain((0..SHARDS_PER_DB).map(|i| (start + i) % SHARDS_PER_DB));
        for s in tries {
            let g = self.lock_slot(db * SHARDS_PER_DB + s);
            let live: Vec<&Entry> = g.iter().filter(|e| !e.is_expired(now)).collect();
            if !live.is_empty() {
                return Some(live[fastrand::usize(..live.len())].key().to_vec());
            }
        }
        None
    }

    /// Empties `db` (or every database) atomically and hands back the old contents, so the
    /// caller can drop them off the request path (FLUSHDB ASYNC), and how many keys went
    /// (counted here: contents a running snapshot still owes go to it, not to the caller).
    pub fn flush(&self, db: Option<usize>) -> (Vec<Shard>, u64) {
        let dbs: Vec<usize> = match db {
            Some(d) => vec![d],
            None => (0..self.dbs).collect(),
        };
        let mut l = self.lock_dbs(&dbs);
        let now = l.now;
        l.mutated = true;
        let mut removed = 0;
        let old = l
            .guards
            .iter_mut()
            .map(|(_, g)| {
                removed += g.len() as u64;
                self.touch_all_watched(g, None, now);
                g.take_contents()
            })
            .collect();
        (old, removed)
    }

    /// Swaps two databases atomically: every shard of both is locked, then contents swapped.
    pub fn swap_dbs(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let mut l = self.lock_dbs(&[a, b]);
        let now = l.now;
        l.mutated = true;
        let (lo, hi) = l.guards.split_at_mut(SHARDS_PER_DB);
        for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
            self.touch_all_watched(&mut x.1, Some(&*y.1), now);
            self.touch_all_watched(&mut y.1, Some(&*x.1), now);
            x.1.swap_contents(&mut y.1);
        }
    }

    /// FLUSHDB/FLUSHALL/SWAPDB's effect on the watchers of one shard that is emptied (and,
    /// for SWAPDB, refilled from `replaced_with`, the same-numbered shard of the other
    /// database: a key hashes to the same shard number in every database).
    fn touch_all_watched(&self, shard: &mut Shard, replaced_with: Option<&Shard>, now: u64) {
        let Some(mut map) = shard.watch.take() else {
            return;
        };
        let keys: Vec<Box<[u8]>> = map.keys().cloned().collect();
        for key in keys {
            let h = self.hash(&key);
            let existed = shard.contains(h, &key).is_some();
            let replacement = replaced_with
                .and_then(|r| r.contains(h, &key))
                .map(|e| e.is_expired(now));
            watch::touch_replaced(&mut map, &key, existed, replacement);
        }
        shard.watch = Some(map);
    }

    /// Registrations of WATCH, for the dispatcher's "anyone watching?" test.
    #[inline]
    pub fn watching(&self) -> bool {
        self.watchers.load(Ordering::Relaxed) > 0
    }

    /// Registers `flag` as watching `key` of `db`.
    pub fn watch(&self, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
        let h = self.hash(key);
        let mut l = self.lock_key(db, key);
        let now = l.now;
        let shard = l.shard(db, h);
        let stale = shard.contains(h, key).is_some_and(|e| e.is_expired(now));
        let map = shard.watch.get_or_insert_with(Default::default);
        map.entry(key.into()).or_default().push(Watcher {
            flag: flag.clone(),
            stale,
        });
        self.watchers.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes `flag`'s registration on `key` of `db`.
    pub fn unwatch(&self, db: usize, key: &[u8], flag: &Arc<WatchFlag>) {
        let h = self.hash(key);
        let mut l = self.lock_key(db, key);
        let shard = l.shard(db, h);
        let Some(map) = shard.watch.as_deref_mut() else {
            return;
        };
        let Some(ws) = map.get_mut(key) else { return };
        let Some(i) = ws.iter().position(|w| Arc::ptr_eq(&w.flag, flag)) else {
            return;
        };
        ws.swap_remove(i);
        self.watchers.fetch_sub(1, Ordering::Relaxed);
        if ws.is_empty() {
            map.remove(key);
            if map.is_empty() {
                shard.watch = None;
            }
        }
    }

    /// At EXEC: whether a key `flag` watched while it was live has expired since, even if
    /// nobody has reclaimed it yet (Redis's `isWatchedKeyExpired`).
    pub fn watched_key_expired(&self, db: usize, key: &[u8], flag: &Arc<WatchFlag>) -> bool {
        let h = self.hash(key);
        let mut l = self.lock_key(db, key);
        let now = l.now;
        let shard = l.shard(db, h);
        let live_when_watched = shard
            .watch
            .as_deref()
            .and_then(|m| m.get(key))
            .and_then(|ws| ws.iter().find(|w| Arc::ptr_eq(&w.flag, flag)))
            .is_some_and(|w| !w.stale);
        live_when_watched && shard.contains(h, key).is_some_and(|e| e.is_expired(now))
    }
}

thread_local! {
    static TOUCH: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    /// Whether this thread runs a transaction (holds a [`Held`]), for the lock-order check.
    static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread runs a transaction that holds shards (work that locks every shard,
/// like a snapshot's instant, must not start there).
pub fn in_transaction() -> bool {
    HOLDING.get()
}

/// Whether reads by the command about to run on this thread update keys' access clocks.
/// A thread-local because the flag belongs to the client (CLIENT NO-TOUCH) while the clock
/// lives deep in the keyspace, and commands run to completion on one thread.
pub fn set_touch(on: bool) {
    TOUCH.set(on);
}

impl Drop for Locked<'_> {
    /// Marks the watchers of the running write command's keys before the locks go, so an
    /// EXEC that locks next sees them dirty.
    fn drop(&mut self) {
        let (ks, guards) = (self.ks, &mut self.guards);
        for (_, g) in guards.iter_mut() {
            if let Some(m) = g.watch.as_deref_mut() {
                watch::mark_unscoped_write(m);
            }
        }
        watch::for_write_keys(|db, key, deleted| {
            let h = ks.hash(key);
            let s = ks.slot_of(db, h);
            let Some((_, g)) = guards.iter_mut().find(|(i, _)| *i == s) else {
                return;
            };
            // A key that is gone now was either deleted (`remove` told its watchers) or
            // never there, which changes nothing: Redis reports nothing for a DEL of nothing.
            let exists = g.contains(h, key).is_some();
            if exists {
                g.touch_watched(key, true);
            }
            if exists || deleted {
                if let Some(hook) = ks.write_hook.get() {
                    hook(db, key);
                }
            }
        });
        if ks.commit_hook_on.load(Ordering::Relaxed) {
            if let Some(hook) = ks.commit_hook.get() {
                let seen = guards.iter().map(|(_, g)| g.log_end).max().unwrap_or(0);
                let end = hook(self.mutated, seen);
                if self.mutated {
                    for (_, g) in guards.iter_mut() {
                        g.log_end = g.log_end.max(end);
                    }
                }
            }
        }
    }
}

impl<'a> Locked<'a> {
    /// The time to compare expiries with: `now`, or 0 while replaying a log, when no key
    /// counts as expired (a replayed expiry in the past must not delete the key early).
    pub fn expiry_now(&self) -> u64 {
        self.clock
    }

    /// Every locked shard with its global number.
    pub(crate) fn shards_mut(&mut self) -> impl Iterator<Item = (usize, &mut Shard)> + use<'_, 'a> {
        self.guards.iter_mut().map(|(i, g)| (*i, &mut **g))
    }

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
        let (h, now, clock) = (self.ks.hash(key), self.now, self.clock);
        let hook = self.ks.hook(db);
        let writing = crate::snapshot::writing();
        self.mutated |= writing;
        let shard = self.shard(db, h);
        if shard.snap.is_some() && writing {
            shard.keep_for_snapshot(h, key);
        }
        let e = shard.lookup(h, key, clock, hook)?;
        if TOUCH.get() {
            e.lru = lru_clock(now);
        }
        Some(e)
    }

    /// The live entry of `key` without touching its access clock (OBJECT IDLETIME, TTL).
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let (h, clock) = (self.ks.hash(key), self.clock);
        let hook = self.ks.hook(db);
        let writing = crate::snapshot::writing();
        self.mutated |= writing;
        let shard = self.shard(db, h);
        if shard.snap.is_some() && writing {
            shard.keep_for_snapshot(h, key);
        }
        shard.lookup(h, key, clock, hook)
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
        let (h, now) = (self.ks.hash(key), self.clock);
        self.mutated = true;
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
        g.1.upsert(hasher, h, key, value, ttl, now, self.ks.hook(db))
    }

    /// Removes `key`, returning its live entry (to drop after unlock).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Box<Entry>> {
        let (h, now) = (self.ks.hash(key), self.clock);
        let hook = self.ks.hook(db);
        let e = self.shard(db, h).remove(h, key, now, hook);
        if e.is_some() {
            self.mutated = true;
            watch::note_removed(db, key);
        }
        e
    }

    /// Puts a removed entry back under `key` in `db` (RENAME, MOVE), replacing what is there.
    pub fn put(&mut self, db: usize, key: &[u8], entry: Box<Entry>) -> Option<Value> {
        let (h, now) = (self.ks.hash(key), self.clock);
        self.mutated = true;
        let hasher = &self.ks.hasher;
        let s = self.ks.slot_of(db, h);
        let g = self
            .guards
            .iter_mut()
            .find(|(i, _)| *i == s)
            .expect("shard of this key is not locked");
        g.1.put_entry(hasher, h, entry, key, now, self.ks.hook(db))
    }

    /// Sets (or with `None` clears) the expiry of a live key; false if there is no such key.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<u64>) -> bool {
        if self.peek(db, key).is_none() {
            return false;
        }
        let h = self.ks.hash(key);
        self.mutated = true;
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
        assert_eq!(ks.flush(None).1, 1);
        assert_eq!(ks.dbsize(1), 0);
    }
}
