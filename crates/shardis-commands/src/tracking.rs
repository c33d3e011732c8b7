//! Client-side caching support: CLIENT TRACKING's table of which clients read which keys,
//! the BCAST prefix table, and the invalidation messages sent when keys change.
//!
//! Like Redis, the table is keyed by key name across databases, and a key's entry is
//! dropped once its invalidation is sent: a client hears about a key once per read. Writes
//! invalidate from the keyspace's write hook, while the written key's shard is still locked,
//! so no client can read the new value before every cache holding the old one has its
//! invalidation queued. Knows no sockets: messages go to a client's outbox (or, for the client
//! running the command, after its reply, as Redis 7.0 orders them).

use crate::ctx::{ClientHandle, Shared};
use crate::error::{err, CmdError};
use parking_lot::{Mutex, RwLock};
use shardis_protocol::ReplyWriter;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Table shards: readers and writers of unrelated keys rarely meet on one lock.
const SHARDS: usize = 64;

thread_local! {
    /// The client whose command runs on this thread (for NOLOOP and self-invalidations).
    static CURRENT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Invalidations for that client itself, to follow its reply.
    static SELF_PUSHES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Names the client whose command is about to run on this thread.
pub fn set_current(id: u64) {
    CURRENT.set(id);
}

/// Moves the invalidations the current command caused for its own client into `into`.
pub fn take_self_pushes(into: &mut Vec<u8>) {
    SELF_PUSHES.with_borrow_mut(|p| into.append(p));
}

type Ids = smallvec::SmallVec<[u64; 2]>;

/// One shard of the key table: key name to the clients that read it.
type KeyTable = Mutex<HashMap<Box<[u8]>, Ids>>;

/// One client's tracking mode (CLIENT TRACKING's options).
#[derive(Default, Clone, Debug)]
pub struct Mode {
    pub on: bool,
    /// Client id that receives this client's invalidations; 0 for itself.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Vec<u8>>,
    /// The redirect target went away (reported once, then shown by CLIENT TRACKINGINFO).
    pub broken_redirect: bool,
}

/// A client's tracking state, kept in its handle so writers on other threads can see it.
#[derive(Default)]
pub struct ClientTracking {
    pub on: AtomicBool,
    pub mode: Mutex<Mode>,
}

/// The server's tracking tables.
pub struct Tracking {
    keys: Box<[KeyTable]>,
    hasher: foldhash::fast::RandomState,
    /// BCAST prefixes and their clients.
    prefixes: RwLock<Vec<(Vec<u8>, Ids)>>,
    /// Clients with tracking on; writes skip everything here while it is zero.
    clients: AtomicUsize,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            keys: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            prefixes: RwLock::default(),
            clients: AtomicUsize::new(0),
        }
    }
}

/// An invalidation message for `key` (`None`: everything, after a flush) in the shape the
/// receiving connection understands: a RESP3 push, or for a RESP2 client redirected to,
/// a `__redis__:invalidate` Pub/Sub message.
fn message(resp3: bool, key: Option<&[u8]>) -> Vec<u8> {
    let mut w = ReplyWriter::new(resp3);
    w.out.clear();
    if resp3 {
        w.push(2);
        w.bulk(b"invalidate");
    } else {
        w.array(3);
        w.bulk(b"message");
        w.bulk(b"__redis__:invalidate");
    }
    match key {
        Some(k) => {
            w.array(1);
            w.bulk(k);
        }
        None => w.null(),
    }
    w.out
}

impl Tracking {
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Relaxed) > 0
    }

    fn shard(&self, key: &[u8]) -> &KeyTable {
        &self.keys[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// Remembers that client `id` read `key`.
    pub fn remember(&self, id: u64, key: &[u8]) {
        let mut t = self.shard(key).lock();
        let ids = t.entry(key.into()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// `key` changed: tells every client that read it, and every BCAST client whose prefix
    /// it matches, then forgets the readers.
    pub fn invalidate(&self, shared: &Shared, key: &[u8]) {
        if !self.active() {
            return;
        }
        let readers = self.shard(key).lock().remove(key);
        let mut targets: Ids = Ids::new();
        if let Some(ids) = readers {
            targets.extend(ids);
        }
        let mut bcast: Ids = Ids::new();
        for (p, ids) in self.prefixes.read().iter() {
            if key.starts_with(p) {
                for &i in ids {
                    if !bcast.contains(&i) {
                        bcast.push(i);
                    }
                }
            }
        }
        for (ids, want_bcast) in [(targets, false), (bcast, true)] {
            for id in ids {
                let Some(c) = shared.clients.lock().get(&id).cloned() else {
                    continue;
                };
                let mode = c.tracking.mode.lock().clone();
                if !mode.on || mode.bcast != want_bcast || (mode.noloop && id == CURRENT.get()) {
                    continue;
                }
                self.send(shared, &c, &mode, Some(key));
            }
        }
    }

    /// A database was flushed: every tracking client drops its whole cache.
    pub fn invalidate_all(&self, shared: &Shared) {
        if !self.active() {
            return;
        }
        for t in self.keys.iter() {
            t.lock().clear();
        }
        let clients: Vec<Arc<ClientHandle>> = shared.clients.lock().values().cloned().collect();
        for c in clients {
            if !c.tracking.on.load(Relaxed) {
                continue;
            }
            let mode = c.tracking.mode.lock().clone();
            self.send(shared, &c, &mode, None);
        }
    }

    /// Sends one invalidation on behalf of tracking client `c`: to its redirect target, or to
    /// itself (after the current reply if it is the client running the command).
    fn send(&self, shared: &Shared, c: &Arc<ClientHandle>, mode: &Mode, key: Option<&[u8]>) {
        let target = if mode.redirect != 0 {
            match shared.clients.lock().get(&mode.redirect).cloned() {
                Some(t) => t,
                None => {
                    let first = {
                        let mut m = c.tracking.mode.lock();
                        !std::mem::replace(&mut m.broken_redirect, true)
                    };
                    if first && c.resp.load(Relaxed) == 3 {
                        let mut w = ReplyWriter::new(true);
                        w.out.clear();
                        w.push(2);
                        w.bulk(b"tracking-redir-broken");
                        w.int(mode.redirect as i64);
                        deliver(shared, c, &w.out);
                    }
                    return;
                }
            }
        } else {
            c.clone()
        };
        let resp3 = target.resp.load(Relaxed) == 3;
        // A RESP2 connection can only take a message as Pub/Sub traffic of a redirect target.
        if !resp3 && (mode.redirect == 0 || !target.pubsub.active()) {
            return;
        }
        deliver(shared, &target, &message(resp3, key));
    }

    /// CLIENT TRACKING ON with `next` options, checked like Redis 7.0.
    pub fn enable(&self, c: &ClientHandle, next: Mode) -> Result<(), CmdError> {
        if !next.bcast && !next.prefixes.is_empty() {
            return Err(err("PREFIX option requires BCAST mode to be enabled"));
        }
        let mut m = c.tracking.mode.lock();
        if m.on && m.bcast != next.bcast {
            return Err(err("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if next.bcast && (next.optin || next.optout) {
            return Err(err("OPTIN and OPTOUT are not compatible with BCAST"));
        }
        if next.optin && next.optout {
            return Err(err("You can't specify both OPTIN mode and OPTOUT mode"));
        }
        if m.on && ((next.optin && m.optout) || (next.optout && m.optin)) {
            return Err(err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if next.bcast {
            check_prefixes(&m.prefixes, &next.prefixes)?;
        }
        let mut prefixes = std::mem::take(&mut m.prefixes);
        let mut added = next.prefixes.clone();
        if next.bcast && added.is_empty() && prefixes.is_empty() {
            // BCAST without PREFIX means every key.
            added.push(Vec::new());
        }
        {
            let mut table = self.prefixes.write();
            for p in &added {
                match table.iter_mut().find(|(q, _)| q == p) {
                    Some((_, ids)) if !ids.contains(&c.id) => ids.push(c.id),
                    Some(_) => {}
                    None => table.push((p.clone(), std::iter::once(c.id).collect())),
                }
            }
        }
        prefixes.extend(added);
        if !m.on {
            self.clients.fetch_add(1, Relaxed);
        }
        *m = Mode {
            on: true,
            prefixes,
            broken_redirect: false,
            ..next
        };
        c.tracking.on.store(true, Relaxed);
        Ok(())
    }

    /// CLIENT TRACKING OFF (also RESET and disconnect).
    pub fn disable(&self, c: &ClientHandle) {
        let mut m = c.tracking.mode.lock();
        if !m.on {
            return;
        }
        if m.bcast {
            let mut table = self.prefixes.write();
            for (_, ids) in table.iter_mut() {
                ids.retain(|i| *i != c.id);
            }
            table.retain(|(_, ids)| !ids.is_empty());
        }
        *m = Mode::default();
        c.tracking.on.store(false, Relaxed);
        self.clients.fetch_sub(1, Relaxed);
    }
}

/// Redis's prefix rules: no new prefix may be a prefix of an existing one or of another new
/// one, or the other way round.
fn check_prefixes(existing: &[Vec<u8>], new: &[Vec<u8>]) -> Result<(), CmdError> {
    let overlaps = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let s = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(q) = existing.iter().find(|q| overlaps(p, q)) {
            return Err(err(format!("Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(q))));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlaps(p, q)) {
            return Err(err(format!("Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(q))));
        }
    }
    Ok(())
}

/// Queues `msg` for `target`; for the client running the command it follows the reply.
fn deliver(shared: &Shared, target: &ClientHandle, msg: &[u8]) {
    if target.id == CURRENT.get() {
        SELF_PUSHES.with_borrow_mut(|p| p.extend_from_slice(msg));
        return;
    }
    // Redis counts a client's output against its class: pubsub once subscribed, else normal.
    let limit = shared.output_limit(if target.pubsub.active() { 2 } else { 0 });
    target.pubsub.outbox.push(msg[0], msg, limit, target);
}
