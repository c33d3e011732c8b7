//! WATCH bookkeeping: which clients watch which keys, kept inside each key's shard so that
//! marking a watcher dirty happens under the same lock as the write that dirties it.
//!
//! Knows nothing of clients or connections: a watcher is an `Arc<WatchFlag>` that its owner
//! reads at EXEC. Redis 7.0's rules are followed: any write to a watched key, its deletion or
//! expiry, and a FLUSHDB/FLUSHALL/SWAPDB that changes it make the watcher dirty; a key that
//! was already expired when watched ("stale") is not a change when it finally disappears.

use hashbrown::HashMap;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// One client's "something I watch has changed" flag.
#[derive(Default, Debug)]
pub struct WatchFlag(AtomicBool);

impl WatchFlag {
    pub fn new() -> Arc<WatchFlag> {
        Arc::default()
    }

    pub fn is_dirty(&self) -> bool {
        self.0.load(Relaxed)
    }

    pub fn set_dirty(&self) {
        self.0.store(true, Relaxed);
    }

    pub fn clear(&self) {
        self.0.store(false, Relaxed);
    }
}

pub(crate) struct Watcher {
    pub flag: Arc<WatchFlag>,
    /// The key was logically expired (present but past its time) when WATCH ran.
    pub stale: bool,
}

/// Watched keys of one shard and their watchers. Absent (`None` in the shard) when nobody
/// watches a key there, so unwatched shards pay one pointer check per write.
pub(crate) type WatchMap = HashMap<Box<[u8]>, Vec<Watcher>, foldhash::fast::RandomState>;

/// Applies a change of `key` to its watchers. `exists` says whether the key is present
/// (expired or not) after the change: a stale watcher only learns that its key is gone.
pub(crate) fn touch(map: &mut WatchMap, key: &[u8], exists: bool) {
    let Some(ws) = map.get_mut(key) else { return };
    for w in ws.iter_mut() {
        if w.stale && !exists {
            w.stale = false;
            continue;
        }
        w.flag.set_dirty();
    }
}

/// How FLUSHDB/FLUSHALL/SWAPDB affect the watchers of `key` in the emptied database, given
/// whether the key existed there and what replaces it (`Some(expired)` if the other
/// database has it). Mirrors Redis 7.0's `touchAllWatchedKeysInDb`.
pub(crate) fn touch_replaced(
    map: &mut WatchMap,
    key: &[u8],
    existed: bool,
    replacement: Option<bool>,
) {
    if !existed && replacement.is_none() {
        return;
    }
    let Some(ws) = map.get_mut(key) else { return };
    for w in ws.iter_mut() {
        if w.stale {
            match replacement {
                None => {
                    w.stale = false;
                    continue;
                }
                Some(true) => continue,
                Some(false) => {}
            }
        } else if !existed && replacement == Some(true) {
            w.stale = true;
            continue;
        }
        w.flag.set_dirty();
    }
}

thread_local! {
    /// The command running on this thread writes (set by the dispatcher for every command).
    static WRITE_COMMAND: Cell<bool> = const { Cell::new(false) };
    static WRITE_ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// The open scope's keys: (database, key, deleted by this command).
    static WRITE_KEYS: RefCell<Vec<(usize, Vec<u8>, bool)>> = const { RefCell::new(Vec::new()) };
}

/// While alive, every shard lock this thread releases reports the changes to these keys
/// before it is released: watchers are marked dirty and the keyspace's write hook (client
/// tracking's invalidation) runs. The dispatcher opens one around each write command when
/// anyone watches or tracks anything, so an EXEC or a reader that takes the lock next is sure
/// to see the change reported. Scopes nest: the inner one restores the outer on drop.
pub struct WriteScope {
    outer: Option<Vec<(usize, Vec<u8>, bool)>>,
}

impl WriteScope {
    pub fn new<'k>(keys: impl IntoIterator<Item = (usize, &'k [u8])>) -> WriteScope {
        let mine = keys
            .into_iter()
            .map(|(db, k)| (db, k.to_vec(), false))
            .collect();
        let outer = WRITE_KEYS.replace(mine);
        let outer = WRITE_ACTIVE.replace(true).then_some(outer);
        WriteScope { outer }
    }
}

impl Drop for WriteScope {
    fn drop(&mut self) {
        match self.outer.take() {
            Some(o) => {
                WRITE_KEYS.set(o);
            }
            None => {
                WRITE_ACTIVE.set(false);
                WRITE_KEYS.with_borrow_mut(|v| v.clear());
            }
        }
    }
}

/// Says whether the command about to run on this thread writes. The dispatcher opens a
/// [`WriteScope`] only when someone watched before the command started; a WATCH that
/// registers after that check but before the write takes its lock is caught through this
/// flag instead (see [`mark_unscoped_write`]).
pub fn set_write_command(on: bool) {
    WRITE_COMMAND.set(on);
}

/// For a write that runs without a scope (its keys unknown here) on a shard that has
/// watchers: every watcher of the shard is marked dirty. Only a WATCH racing with the write's
/// start gets here, so the over-marking is rare, and it is never a missed change.
pub(crate) fn mark_unscoped_write(map: &mut WatchMap) {
    if WRITE_ACTIVE.get() || !WRITE_COMMAND.get() {
        return;
    }
    for w in map.values().flatten() {
        w.flag.set_dirty();
    }
}

/// Calls `f(db, key, deleted)` for each key of the open write scope, if any.
pub(crate) fn for_write_keys(mut f: impl FnMut(usize, &[u8], bool)) {
    if !WRITE_ACTIVE.get() {
        return;
    }
    WRITE_KEYS.with_borrow(|v| v.iter().for_each(|(db, k, d)| f(*db, k, *d)));
}

/// Records that the running command deleted a live `key` of `db`, if it is in the scope.
pub(crate) fn note_removed(db: usize, key: &[u8]) {
    if !WRITE_ACTIVE.get() {
        return;
    }
    WRITE_KEYS.with_borrow_mut(|v| {
        for w in v.iter_mut().filter(|w| w.0 == db && w.1 == key) {
            w.2 = true;
        }
    });
}
