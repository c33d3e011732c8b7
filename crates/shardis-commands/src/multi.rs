//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! EXEC is atomic with respect to every other client however its keys are spread: before its
//! first command it locks, in the keyspace's ascending order, the shards of every key the
//! queue names (or every shard, for commands that walk or swap whole databases), and its
//! commands borrow those locks. WATCH's dirty marks are made under the same shard locks, so
//! checking them after taking the locks is race-free. Knows no sockets.

use crate::ctx::{Ctx, Session, Shared};
use crate::dispatch::{resolve, run};
use crate::error::{err, CmdResult};
use crate::spec::index;
use crate::util::db_index;
use shardis_protocol::{Args, ReplyWriter, Span};
use std::sync::atomic::Ordering::Relaxed;

/// One queued command, copied out of the read buffer.
struct Queued {
    buf: Vec<u8>,
    spans: Vec<Span>,
}

impl Queued {
    fn args(&self) -> Args<'_> {
        Args::new(&self.buf, &self.spans)
    }
}

/// The state of a client between MULTI and EXEC/DISCARD.
#[derive(Default)]
pub struct Multi {
    queue: Vec<Queued>,
    /// A command was refused while queueing: EXEC must abort (EXECABORT).
    pub aborted: bool,
    /// Whether any queued command writes, so a write-only CLIENT PAUSE holds EXEC too.
    pub writes: bool,
}

impl Multi {
    /// Queues a command (the caller has checked it exists and its arity).
    pub fn push(&mut self, args: &Args<'_>, writes: bool) {
        let mut buf = Vec::with_capacity(args.iter().map(|a| a.len()).sum());
        let mut spans = Vec::with_capacity(args.len());
        for a in args.iter() {
            let start = buf.len() as u32;
            buf.extend_from_slice(a);
            spans.push((start, buf.len() as u32));
        }
        self.queue.push(Queued { buf, spans });
        self.writes |= writes;
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

pub fn multi(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.is_some() {
        return Err(err("MULTI calls can not be nested"));
    }
    ctx.sess.multi = Some(Multi::default());
    ctx.sess.handle.multi.store(0, Relaxed);
    ctx.out.ok();
    Ok(())
}

pub fn discard(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.is_none() {
        return Err(err("DISCARD without MULTI"));
    }
    end_multi(ctx.sess);
    unwatch_all(ctx.shared, ctx.sess);
    ctx.out.ok();
    Ok(())
}

pub fn watch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.is_some() {
        return Err(err("WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db();
    for key in args.iter().skip(1) {
        if ctx.sess.watching.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        let flag = &ctx.sess.handle.watch_flag;
        ctx.shared.keyspace.watch(db, key, flag);
        ctx.sess.watching.push((db, key.to_vec()));
    }
    ctx.sess
        .handle
        .watching
        .store(ctx.sess.watching.len(), Relaxed);
    ctx.out.ok();
    Ok(())
}

pub fn unwatch(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    unwatch_all(ctx.shared, ctx.sess);
    ctx.out.ok();
    Ok(())
}

/// Forgets every watched key and the dirty mark (UNWATCH, EXEC, DISCARD, RESET, disconnect).
pub fn unwatch_all(shared: &Shared, sess: &mut Session) {
    let flag = &sess.handle.watch_flag;
    for (db, key) in sess.watching.drain(..) {
        shared.keyspace.unwatch(db, &key, flag);
    }
    flag.clear();
    sess.handle.watching.store(0, Relaxed);
}

fn end_multi(sess: &mut Session) -> Option<Multi> {
    sess.handle.multi.store(-1, Relaxed);
    sess.multi.take()
}

pub fn exec(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let Some(m) = end_multi(ctx.sess) else {
        return Err(err("EXEC without MULTI"));
    };
    if m.aborted {
        unwatch_all(ctx.shared, ctx.sess);
        return Err(err(
            "-EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let (shared, sess, out) = (ctx.shared, &mut *ctx.sess, &mut *ctx.out);
    let (keys, all) = lock_scope(shared, sess, &m);
    let mut held = shared
        .keyspace
        .hold(keys.iter().map(|(d, k)| (*d, &k[..])), all);
    let flag = sess.handle.watch_flag.clone();
    let dirty = flag.is_dirty()
        || sess
            .watching
            .iter()
            .any(|(db, k)| shared.keyspace.watched_key_expired(*db, k, &flag));
    unwatch_all(shared, sess);
    if dirty {
        drop(held);
        out.null_array();
        return Ok(());
    }
    out.array(m.queue.len());
    sess.in_exec = true;
    let tx = crate::aof::Tx::begin(&shared.aof);
    for q in &m.queue {
        run(shared, sess, q.args(), out);
    }
    // Logged as one block while the shards are still held, so nothing else that touches
    // them can be logged in between.
    let logged = tx.end(&shared.aof);
    if logged > 0 {
        held.set_log_end(logged);
    }
    sess.aof_wait = sess.aof_wait.max(logged);
    sess.in_exec = false;
    drop(held);
    // Clients blocked on keys the transaction filled are served now that its locks are gone.
    for (id, with_error) in std::mem::take(&mut sess.exec_unblocks) {
        shared.blocking.unblock(id, with_error);
    }
    for (db, key) in std::mem::take(&mut sess.exec_signals) {
        match key {
            Some(k) => shared.blocking.signal(shared, db, &k),
            None => shared.blocking.signal_db(shared, db),
        }
    }
    Ok(())
}

/// The keys (by database) whose shards EXEC must hold, and whether it must hold every
/// shard instead: for commands that walk, flush or swap databases, or whose keys can't be
/// known from their arguments (SORT … BY/GET). The watched keys are included so their
/// dirty marks are read under the locks. SELECT inside the queue changes the database of
/// the commands after it, as it will when they run.
fn lock_scope(shared: &Shared, sess: &Session, m: &Multi) -> (Vec<(usize, Vec<u8>)>, bool) {
    let dbs = shared.keyspace.databases();
    let mut db = sess.db;
    let mut keys: Vec<(usize, Vec<u8>)> = sess.watching.clone();
    let mut all = false;
    for q in &m.queue {
        let args = q.args();
        let Ok((id, spec)) = resolve(&args) else {
            continue;
        };
        match spec.name {
            "select" => {
                if let Ok(d) = db_index(args.get(1), dbs) {
                    db = d;
                }
            }
            "move" => {
                keys.push((db, args.get(1).to_vec()));
                match db_index(args.get(2), dbs) {
                    Ok(to) => keys.push((to, args.get(1).to_vec())),
                    Err(_) => all = true,
                }
            }
            // COPY … DB n writes into another database.
            "copy" if args.len() > 3 => all = true,
            "swapdb" | "flushall" | "flushdb" => all = true,
            _ => {
                let ck = index().keys(id, &args);
                let walks = ck.keys.is_empty()
                    && spec
                        .acl
                        .iter()
                        .any(|c| *c == "@keyspace" || *c == "@dangerous");
                if !ck.complete || walks {
                    all = true;
                }
                keys.extend(ck.keys.iter().map(|&(p, _)| (db, args.get(p).to_vec())));
            }
        }
        if all {
            break;
        }
    }
    (keys, all)
}

/// Queues a command for EXEC, answering `+QUEUED`.
pub fn queue(sess: &mut Session, args: &Args<'_>, writes: bool, out: &mut ReplyWriter) {
    if let Some(m) = sess.multi.as_mut() {
        m.push(args, writes);
        sess.handle.multi.store(m.len() as i64, Relaxed);
        out.simple("QUEUED");
    }
}
