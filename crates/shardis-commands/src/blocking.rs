//! Blocked clients (BLPOP and friends): a registry of waiters per key, served in the order
//! they blocked when a write makes their key non-empty.
//!
//! A blocked client holds no lock and costs no CPU: its connection awaits a wake-up. The
//! registry's mutex is taken before any shard lock (never while holding one), and both
//! registering and serving re-check the keys under it, so a push can never slip between a
//! client's last look at its keys and its registration.

use crate::ctx::Shared;
use parking_lot::Mutex;
use shardis_keyspace::list::End;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// What a blocked client is waiting to do once one of its keys has data.
#[derive(Debug, Clone)]
pub enum BlockOp {
    /// BLPOP/BRPOP (`count: None`, reply `[key, element]`) or BLMPOP (reply `[key, [elements]]`).
    Pop { end: End, count: Option<usize> },
    /// BLMOVE/BRPOPLPUSH: pop from the key, push onto `dst`, reply with the element.
    Move { dst: Vec<u8>, from: End, to: End },
    /// BZPOPMIN/BZPOPMAX (`count: None`, reply `[key, member, score]`) or BZMPOP.
    ZPop { max: bool, count: Option<usize> },
}

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    pub op: BlockOp,
    pub resp3: bool,
    /// The encoded reply once the client is served (or unblocked).
    reply: Mutex<Option<Vec<u8>>>,
    /// Wakes the client's connection; installed by the server before it waits.
    pub wake: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// The append-only log offset of the pop that served the client, which must be durable
    /// before its reply goes out (`appendfsync always`).
    pub aof_end: std::sync::atomic::AtomicU64,
}

impl Waiter {
    pub fn new(
        client_id: u64,
        db: usize,
        keys: Vec<Vec<u8>>,
        op: BlockOp,
        resp3: bool,
    ) -> Arc<Waiter> {
        Arc::new(Waiter {
            client_id,
            db,
            keys,
            op,
            resp3,
            reply: Mutex::new(None),
            wake: OnceLock::new(),
            aof_end: Default::default(),
        })
    }

    /// The reply, if the client has been served.
    pub fn take_reply(&self) -> Option<Vec<u8>> {
        self.reply.lock().take()
    }

    /// The reply a timeout gives: a null array for pops, a null bulk for moves.
    pub fn timeout_reply(&self) -> Vec<u8> {
        match (&self.op, self.resp3) {
            (_, true) => b"_\r\n".to_vec(),
            (BlockOp::Pop { .. } | BlockOp::ZPop { .. }, false) => b"*-1\r\n".to_vec(),
            (BlockOp::Move { .. }, false) => b"$-1\r\n".to_vec(),
        }
    }

    fn serve(&self, reply: Vec<u8>) {
        *self.reply.lock() = Some(reply);
        if let Some(w) = self.wake.get() {
            w();
        }
    }
}

#[derive(Default)]
struct Registry {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

impl Registry {
    fn remove(&mut self, w: &Waiter) {
        self.by_client.remove(&w.client_id);
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = self.by_key.get_mut(&slot) {
                q.retain(|x| x.client_id != w.client_id);
                if q.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
    }
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Registry>,
    /// Blocked clients, read without the mutex so writes skip all this when nobody waits.
    count: AtomicUsize,
    /// Keys that received data while clients were being served (BLMOVE's destination), to
    /// serve before the registry is released.
    pending: Mutex<Vec<(usize, Vec<u8>)>>,
    /// Ids of blocked clients, kept beside the registry behind a lock that is taken last and
    /// never held while taking another, so code holding shard locks (EXEC) may read it.
    ids: Mutex<std::collections::HashSet<u64>>,
}

impl Blocking {
    /// Whether any client is blocked.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Relaxed) > 0
    }

    pub fn blocked_clients(&self) -> usize {
        self.count.load(Relaxed)
    }

    /// Tries the waiter's operation once more and, if its keys are still empty, registers it.
    /// Returns the reply when it could be served at once.
    pub fn block_or_serve(&self, shared: &Shared, w: Arc<Waiter>) -> Option<Vec<u8>> {
        let mut reg = self.inner.lock();
        if let Some(reply) = w.keys.iter().find_map(|k| serve(shared, &w, k)) {
            self.drain(&mut reg, shared);
            return Some(reply);
        }
        for k in &w.keys {
            reg.by_key
                .entry((w.db, k.clone()))
                .or_default()
                .push_back(w.clone());
        }
        self.ids.lock().insert(w.client_id);
        reg.by_client.insert(w.client_id, w);
        self.count.store(reg.by_client.len(), Relaxed);
        None
    }

    /// Serves, in blocking order, the clients waiting for `key` while it has data.
    pub fn signal(&self, shared: &Shared, db: usize, key: &[u8]) {
        if !self.any() {
            return;
        }
        let mut reg = self.inner.lock();
        self.serve_key(&mut reg, shared, db, key);
        self.drain(&mut reg, shared);
        self.count.store(reg.by_client.len(), Relaxed);
    }

    /// Notes that `key` got data while the registry is held; served before it is released.
    pub fn signal_later(&self, db: usize, key: &[u8]) {
        self.pending.lock().push((db, key.to_vec()));
    }

    fn drain(&self, reg: &mut Registry, shared: &Shared) {
        loop {
            let next = self.pending.lock().pop();
            let Some((db, key)) = next else { break };
            self.serve_key(reg, shared, db, &key);
        }
    }

    fn serve_key(&self, reg: &mut Registry, shared: &Shared, db: usize, key: &[u8]) {
        loop {
            let Some(w) = reg
                .by_key
                .get(&(db, key.to_vec()))
                .and_then(|q| q.front().cloned())
            else {
                break;
            };
            match serve(shared, &w, key) {
                Some(reply) => {
                    reg.remove(&w);
                    self.ids.lock().remove(&w.client_id);
                    w.serve(reply);
                }
                None => break,
            }
        }
    }

    /// Serves whatever can be served in `db` (after MOVE, COPY … DB, SWAPDB and the like).
    pub fn signal_db(&self, shared: &Shared, db: usize) {
        if !self.any() {
            return;
        }
        let keys: Vec<Vec<u8>> = self
            .inner
            .lock()
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect();
        for k in keys {
            self.signal(shared, db, &k);
        }
    }

    /// Removes a waiting client (timeout, disconnect). False if it was already served.
    pub fn cancel(&self, client_id: u64) -> bool {
        let mut reg = self.inner.lock();
        let Some(w) = reg.by_client.get(&client_id).cloned() else {
            return false;
        };
        reg.remove(&w);
        self.ids.lock().remove(&w.client_id);
        self.count.store(reg.by_client.len(), Relaxed);
        true
    }

    /// Whether a client is blocked, without the registry (safe under shard locks).
    pub fn is_blocked(&self, client_id: u64) -> bool {
        self.ids.lock().contains(&client_id)
    }

    /// CLIENT UNBLOCK: ends a client's wait with its timeout reply or an error.
    pub fn unblock(&self, client_id: u64, with_error: bool) -> bool {
        let mut reg = self.inner.lock();
        let Some(w) = reg.by_client.get(&client_id).cloned() else {
            return false;
        };
        reg.remove(&w);
        self.ids.lock().remove(&w.client_id);
        self.count.store(reg.by_client.len(), Relaxed);
        drop(reg);
        let reply = if with_error {
            b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec()
        } else {
            w.timeout_reply()
        };
        w.serve(reply);
        true
    }
}

/// Blocks the calling client on `keys` unless they got data meanwhile (then replies at once):
/// the shared end of every blocking command.
pub fn block(
    ctx: &mut crate::ctx::Ctx<'_>,
    keys: &[&[u8]],
    op: BlockOp,
    timeout: Option<std::time::Duration>,
) {
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    let w = Waiter::new(ctx.sess.id(), ctx.db(), keys, op, ctx.sess.resp3);
    // Inside EXEC nothing blocks: the command acts like its non-blocking form, which found
    // nothing, and the registry (taken before shard locks) must not be touched while the
    // transaction holds shards.
    if ctx.sess.in_exec || ctx.sess.never_block {
        ctx.out.raw(&w.timeout_reply());
        return;
    }
    match ctx.shared.blocking.block_or_serve(ctx.shared, w.clone()) {
        Some(reply) => ctx.out.raw(&reply),
        None => ctx.sess.action = Some(crate::ctx::Action::Block(w, timeout)),
    }
}

/// Runs a waiter's operation on `key`, by the family its command belongs to.
fn serve(shared: &Shared, w: &Waiter, key: &[u8]) -> Option<Vec<u8>> {
    // Serving writes the key (and BLMOVE's destination): watchers and caches must hear.
    let _scope = (shared.keyspace.watching() || shared.tracking.active()).then(|| {
        let dst = match &w.op {
            BlockOp::Move { dst, .. } => Some((w.db, &dst[..])),
            _ => None,
        };
        shardis_keyspace::WriteScope::new(std::iter::once((w.db, key)).chain(dst))
    });
    let pop = || match w.op {
        BlockOp::Pop { .. } | BlockOp::Move { .. } => crate::list::serve_waiter(shared, w, key),
        BlockOp::ZPop { .. } => crate::zset::serve_waiter(shared, w, key),
    };
    // With the log off there is no record to build.
    if !shared.aof.on() {
        return pop();
    }
    let record = served_as(&w.op, key);
    let record: Vec<&[u8]> = record.iter().map(|a| &a[..]).collect();
    let (reply, end) = crate::aof::scoped(w.db, &record, pop);
    w.aof_end.fetch_max(end, Relaxed);
    reply
}

/// The non-blocking command that does what serving a waiter from `key` does, for the
/// append-only log.
fn served_as(op: &BlockOp, key: &[u8]) -> Vec<Vec<u8>> {
    let end = |e: End| if e == End::Left { "LEFT" } else { "RIGHT" };
    let mut out: Vec<Vec<u8>> = match op {
        BlockOp::Pop { end: e, .. } => {
            vec![
                if *e == End::Left { "LPOP" } else { "RPOP" }.into(),
                key.to_vec(),
            ]
        }
        BlockOp::Move { dst, from, to } => vec![
            "LMOVE".into(),
            key.to_vec(),
            dst.clone(),
            end(*from).into(),
            end(*to).into(),
        ],
        BlockOp::ZPop { max, .. } => {
            vec![
                if *max { "ZPOPMAX" } else { "ZPOPMIN" }.into(),
                key.to_vec(),
            ]
        }
    };
    if let BlockOp::Pop { count: Some(n), .. } | BlockOp::ZPop { count: Some(n), .. } = op {
        out.push(n.to_string().into_bytes());
    }
    out
}

/// Parses a blocking command's timeout in seconds like Redis 7.0's
/// `getTimeoutFromObjectOrReply`: a long double, times 1000, rounded up to whole milliseconds
/// (so `-0.0001` means "forever"), `None` meaning forever. A value too big for a 64-bit
/// millisecond count comes out as Redis reports it on x86-64, where the conversion yields the
/// most negative integer: "timeout is negative".
pub fn parse_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, crate::error::CmdError> {
    use crate::error::err;
    let not_float = || err("timeout is not a float or out of range");
    let v = match crate::num::parse_f64(arg) {
        Some(v) if !v.is_nan() => v,
        _ => match crate::num::parse_long_double(arg) {
            // Valid for a long double but beyond f64: far too large either way.
            Some(ld) if !ld.is_nan() => f64::INFINITY,
            _ => return Err(not_float()),
        },
    };
    let ms = (v * 1000.0).ceil();
    let representable = ms.abs() < 9.223_372_036_854_775e18;
    if !representable || ms < 0.0 {
        return Err(err("timeout is negative"));
    }
    if ms as i64 > i64::MAX - shardis_keyspace::now_ms() as i64 {
        return Err(err("timeout is out of range"));
    }
    Ok((ms > 0.0).then(|| std::time::Duration::from_millis(ms as u64)))
}
