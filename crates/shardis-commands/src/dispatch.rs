//! The one path every command takes: lookup, arity, authentication, pause, handler, stats.

use crate::ctx::{Ctx, ReplyMode, Session, Shared};
use crate::error::CmdError;
use crate::spec::{index, CommandSpec};
use shardis_keyspace::WriteScope;
use shardis_protocol::{Args, ReplyWriter};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// Whether the command ran or must wait for CLIENT PAUSE to end first.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// Nothing was executed; retry after at most this long.
    Paused(Duration),
}

/// Redis's `unknown command` text: the name and up to 128 bytes of quoted arguments.
fn unknown_command(args: &Args<'_>) -> String {
    let mut list = String::new();
    for a in args.iter().skip(1) {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        let a = String::from_utf8_lossy(a);
        let a: String = a.chars().take(room).collect();
        list.push_str(&format!("'{a}' "));
    }
    let name: String = String::from_utf8_lossy(args.get(0))
        .chars()
        .take(128)
        .collect();
    format!("unknown command '{name}', with args beginning with: {list}")
}

/// Resolves a call to its (sub)command number and spec, or the error Redis gives.
pub fn resolve(args: &Args<'_>) -> Result<(usize, &'static CommandSpec), String> {
    let idx = index();
    let Some((id, cmd)) = idx.lookup(args.get(0)) else {
        return Err(unknown_command(args));
    };
    if cmd.subcommands.is_empty() || args.len() == 1 {
        return Ok((id, cmd));
    }
    idx.lookup_sub(id, args.get(1)).ok_or_else(|| {
        let sub: String = String::from_utf8_lossy(args.get(1))
            .chars()
            .take(128)
            .collect();
        format!(
            "unknown subcommand '{sub}'. Try {} HELP.",
            cmd.name.to_ascii_uppercase()
        )
    })
}

/// Executes one command and appends its reply (unless CLIENT REPLY suppresses it).
pub fn execute(
    shared: &Shared,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut ReplyWriter,
) -> Outcome {
    let mark = out.out.len();
    let skipping = sess.reply_mode == ReplyMode::Skip;
    let outcome = run(shared, sess, args, out);
    if outcome != Outcome::Done {
        return outcome;
    }
    // Like Redis, suppression is decided when the reply is made: CLIENT REPLY ON answers +OK
    // and RESET answers +RESET even though the mode was OFF when they arrived.
    let suppress = match sess.reply_mode {
        ReplyMode::Off => true,
        ReplyMode::On => false,
        ReplyMode::Skip | ReplyMode::SkipNext => skipping,
    };
    if suppress {
        out.out.truncate(mark);
    }
    if !sess.pending_pushes.is_empty() {
        out.out.append(&mut sess.pending_pushes);
    }
    sess.reply_mode = match sess.reply_mode {
        ReplyMode::Skip if skipping => ReplyMode::On,
        ReplyMode::SkipNext => ReplyMode::Skip,
        m => m,
    };
    outcome
}

/// Refuses a command before it runs; inside MULTI that also dooms the transaction.
fn reject(shared: &Shared, sess: &mut Session, e: &str, out: &mut ReplyWriter) -> Outcome {
    if let Some(m) = sess.multi.as_mut() {
        m.aborted = true;
    }
    shared.count_error(e);
    out.error(e);
    Outcome::Done
}

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

pub(crate) fn run(
    shared: &Shared,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut ReplyWriter,
) -> Outcome {
    let (id, spec) = match resolve(&args) {
        Ok(s) => s,
        Err(e) => return reject(shared, sess, &e, out),
    };
    if !spec.arity_ok(args.len()) || spec.handler.is_none() {
        shared.stats(|s| s.rejected[id].fetch_add(1, Relaxed));
        let e = CmdError::Arity(spec.name.to_string()).to_string();
        return reject(shared, sess, &e, out);
    }
    if !sess.authenticated && !spec.has_flag("no_auth") {
        shared.stats(|s| s.rejected[id].fetch_add(1, Relaxed));
        return reject(shared, sess, "-NOAUTH Authentication required.", out);
    }
    // RESP2 cannot tell a reply from a message, so a subscribed RESP2 client may only manage
    // its subscriptions, as in Redis; RESP3 clients may run anything.
    if !sess.resp3
        && sess.handle.pubsub.active()
        && !crate::pubsub::allowed_while_subscribed(spec.name)
    {
        shared.stats(|s| s.rejected[id].fetch_add(1, Relaxed));
        let e = format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        );
        return reject(shared, sess, &e, out);
    }
    let writes = spec.has_flag("write") || spec.has_flag("may_replicate");
    // After a failed background save (with stop-writes-on-bgsave-error), writes and PING
    // are refused, as in Redis; reads go on.
    if (shared.persist.writes_denied() || shared.aof.failing()) && !sess.in_exec {
        let exec_writes = spec.name == "exec" && sess.multi.as_ref().is_some_and(|m| m.writes);
        if spec.has_flag("write") || exec_writes || spec.name == "ping" {
            // Redis reports a failed snapshot first, then the log.
            let e = if shared.persist.writes_denied() {
                crate::persist::MISCONF_RDB.to_string()
            } else {
                match shared.aof.failure() {
                    Some(why) => format!("-MISCONF Errors writing to the AOF file: {why}"),
                    None => "-MISCONF Errors writing to the AOF file".to_string(),
                }
            };
            shared.stats(|s| s.rejected[id].fetch_add(1, Relaxed));
            return reject(shared, sess, &e, out);
        }
    }
    if !sess.in_exec {
        let exec_writes = spec.name == "exec" && sess.multi.as_ref().is_some_and(|m| m.writes);
        if let Some(wait) = shared.pause_remaining(writes || exec_writes) {
            return Outcome::Paused(wait);
        }
    }
    if sess.multi.is_some() && spec.has_flag("no_multi") {
        shared.stats(|s| s.rejected[id].fetch_add(1, Relaxed));
        return reject(
            shared,
            sess,
            "Command not allowed inside a transaction",
            out,
        );
    }
    if sess.multi.is_some() && !runs_inside_multi(spec.name) {
        crate::multi::queue(sess, &args, writes, out);
        return Outcome::Done;
    }
    let handler = spec.handler.expect("checked above");
    // TOUCH touches keys whatever CLIENT NO-TOUCH says, as in Redis.
    shardis_keyspace::set_touch(!sess.handle.no_touch.load(Relaxed) || spec.name == "touch");
    // Set before running, so CLIENT LIST shows itself as the current command like Redis.
    sess.handle.last_cmd.store(id as u32 + 1, Relaxed);
    let start = Instant::now();
    let is_write = spec.has_flag("write");
    // Watchers and tracking clients of the keys this command writes hear of it under the
    // write's own locks.
    let tracking = shared.tracking.active();
    shardis_keyspace::set_write_command(is_write);
    // A running snapshot needs no old versions of what read-only commands look at.
    shardis_keyspace::set_read_only(!is_write && spec.has_flag("readonly"));
    let busy = is_write.then(|| {
        let (busy, logged) = crate::aof::enter_write(&shared.aof);
        if logged {
            crate::aof::begin(sess.db, spec.name, &args);
        }
        busy
    });
    let scope = (is_write && (tracking || shared.keyspace.watching()))
        .then(|| WriteScope::new(written_keys(shared, id, spec, &args, sess.db)));
    crate::tracking::set_current(sess.id());
    if tracking && spec.has_flag("readonly") {
        remember_reads(shared, sess, id, &args);
    }
    // Keyspace events the handler causes without reporting them itself (keys created or
    // found expired) are published in order, ahead of its reply.
    let mark = out.out.len();
    let events = crate::notify::Command::begin();
    let result = {
        let mut ctx = Ctx {
            shared,
            sess,
            out,
            spec,
        };
        handler(&mut ctx, args)
    };
    events.finish(shared, sess.id(), out, mark);
    shardis_keyspace::set_read_only(false);
    if let Some(busy) = busy {
        sess.aof_wait = sess.aof_wait.max(crate::aof::finish());
        drop(busy);
    } else if shared.aof.on() {
        // A read waits for the writes it saw to be durable, as in Redis, whose replies
        // go out only after the fsync of everything written before them.
        sess.aof_wait = sess.aof_wait.max(crate::aof::take_seen());
    }
    drop(scope);
    let nanos = start.elapsed().as_nanos() as u64;
    if result.is_ok() && matches!(spec.name, "flushall" | "flushdb") {
        shared.tracking.invalidate_all(shared);
    }
    // Like Redis, CLIENT CACHING's flag lasts through CLIENT commands and a MULTI block.
    if !spec.name.starts_with("client|") && sess.multi.is_none() {
        sess.caching = false;
    }
    if result.is_ok() && shared.blocking.any() && is_write {
        wake_blocked(shared, sess, id, spec, &args);
    }
    // Last, so invalidations caused by serving blocked clients are included too.
    crate::tracking::take_self_pushes(&mut sess.pending_pushes);
    let failed = result.is_err();
    if let Err(e) = result {
        let e = e.to_string();
        shared.count_error(&e);
        out.error(&e);
    }
    shared.stats(|s| {
        s.calls[id].fetch_add(1, Relaxed);
        s.nanos[id].fetch_add(nanos, Relaxed);
        s.latency[id].get_or_init(Default::default).record(nanos);
        if failed {
            s.failed[id].fetch_add(1, Relaxed);
        }
    });
    Outcome::Done
}

/// Client-side caching: remembers the keys a tracking client is about to read. Before the
/// read, not after: a write landing in between then invalidates the entry (a harmless extra
/// message) instead of slipping past a key not yet remembered and leaving a stale cache.
fn remember_reads(shared: &Shared, sess: &Session, id: usize, args: &Args<'_>) {
    if !sess.handle.tracking.on.load(Relaxed) {
        return;
    }
    let m = sess.handle.tracking.mode.lock().clone();
    if m.bcast || (m.optin && !sess.caching) || (m.optout && sess.caching) {
        return;
    }
    for (p, _) in index().keys(id, args).keys {
        shared.tracking.remember(sess.id(), args.get(p));
    }
}

/// The keys a write command changes, by database: its written key specifications, plus the
/// key MOVE creates in the target database.
fn written_keys<'a>(
    shared: &Shared,
    id: usize,
    spec: &CommandSpec,
    args: &Args<'a>,
    db: usize,
) -> Vec<(usize, &'a [u8])> {
    let mut keys: Vec<(usize, &[u8])> = index()
        .keys(id, args)
        .keys
        .iter()
        .filter(|k| k.1)
        .map(|&(p, _)| (db, args.get(p)))
        .collect();
    let dbs = shared.keyspace.databases();
    if spec.name == "move" {
        if let Ok(to) = crate::util::db_index(args.get(2), dbs) {
            keys.push((to, args.get(1)));
        }
    }
    // COPY … DB n writes its destination in database n.
    if spec.name == "copy" {
        let at =
            (3..args.len().saturating_sub(1)).find(|&i| args.get(i).eq_ignore_ascii_case(b"db"));
        if let Some(to) = at.and_then(|i| crate::util::db_index(args.get(i + 1), dbs).ok()) {
            keys.push((to, args.get(2)));
        }
    }
    keys
}

/// After a write, serves clients blocked on the keys it may have filled. Commands that move
/// keys between databases or rename them get their whole databases re-examined. Inside EXEC
/// the wake-ups wait until the transaction has released its shards.
fn wake_blocked(
    shared: &Shared,
    sess: &mut Session,
    id: usize,
    spec: &CommandSpec,
    args: &Args<'_>,
) {
    let signals: Vec<(usize, Option<&[u8]>)> = match spec.name {
        "move" | "copy" | "swapdb" => (0..shared.keyspace.databases())
            .map(|d| (d, None))
            .collect(),
        _ => written_keys(shared, id, spec, args, sess.db)
            .into_iter()
            .map(|(d, k)| (d, Some(k)))
            .collect(),
    };
    for (d, key) in signals {
        if sess.in_exec {
            sess.exec_signals.push((d, key.map(<[u8]>::to_vec)));
            continue;
        }
        match key {
            Some(k) => shared.blocking.signal(shared, d, k),
            None => shared.blocking.signal_db(shared, d),
        }
    }
}
