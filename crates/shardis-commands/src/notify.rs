//! Keyspace notifications (`notify-keyspace-events`): Redis 7.0's event classes and flag
//! syntax, and the one call handlers make after a successful change. It must not depend on
//! sockets or take shard locks: events are published while handlers hold their shards, which
//! is safe because publishing only takes the Pub/Sub registry's lock.
//!
//! Events the keyspace reports by itself (a key created, a key reclaimed because it expired)
//! arrive through the hook [`install_hook`] sets. While a command runs on this thread they
//! are queued and published just before the command's next own event, or at the end of the
//! command ahead of its reply, so every subscriber sees them in Redis's order and a RESP3
//! client subscribed on its own connection gets them before the reply, as in Redis.
//!
//! `evicted` (class `e`) is accepted but never emitted: there is no eviction yet.

use crate::ctx::{Ctx, Shared};
use shardis_keyspace::KeyEvent;
use shardis_protocol::ReplyWriter;
use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;

/// Redis's event classes, each one flag letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `g`: DEL, EXPIRE, RENAME… on any type.
    Generic,
    /// `$`
    String,
    /// `l`
    List,
    /// `s`
    Set,
    /// `h`
    Hash,
    /// `z`
    Zset,
    /// `x`: a key reclaimed because it expired.
    Expired,
    /// `e`: a key evicted by maxmemory (never emitted yet).
    Evicted,
    /// `t`
    Stream,
    /// `m`: a read of a missing key; not part of `A`.
    KeyMiss,
    /// `d`: module events.
    Module,
    /// `n`: a key created; not part of `A`.
    New,
}

impl Class {
    /// Redis's `NOTIFY_*` bit values.
    #[inline]
    pub const fn bit(self) -> u32 {
        match self {
            Class::Generic => 1 << 2,
            Class::String => 1 << 3,
            Class::List => 1 << 4,
            Class::Set => 1 << 5,
            Class::Hash => 1 << 6,
            Class::Zset => 1 << 7,
            Class::Expired => 1 << 8,
            Class::Evicted => 1 << 9,
            Class::Stream => 1 << 10,
            Class::KeyMiss => 1 << 11,
            Class::Module => 1 << 13,
            Class::New => 1 << 14,
        }
    }
}

/// `A`: every class but key misses and new keys, as in Redis 7.0.
pub const ALL: u32 = Class::Generic.bit()
    | Class::String.bit()
    | Class::List.bit()
    | Class::Set.bit()
    | Class::Hash.bit()
    | Class::Zset.bit()
    | Class::Expired.bit()
    | Class::Evicted.bit()
    | Class::Stream.bit()
    | Class::Module.bit();

/// Letters of the classes in the order CONFIG GET prints them (when not all of `A`).
const LETTERS: [(char, Class); 11] = [
    ('g', Class::Generic),
    ('$', Class::String),
    ('l', Class::List),
    ('s', Class::Set),
    ('h', Class::Hash),
    ('z', Class::Zset),
    ('x', Class::Expired),
    ('e', Class::Evicted),
    ('t', Class::Stream),
    ('d', Class::Module),
    ('n', Class::New),
];

/// Parses a flag string such as `KEA`; `None` for any letter Redis refuses.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'm' => Class::KeyMiss.bit(),
            _ => LETTERS.iter().find(|(l, _)| *l == c)?.1.bit(),
        };
    }
    Some(flags)
}

/// Redis 7.0's canonical form: `A` or the class letters, then `K`, `E`, `m`. Like Redis 7.0,
/// `n` is only shown when the flags do not include all of `A`.
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (c, class) in LETTERS {
            if flags & class.bit() != 0 {
                s.push(c);
            }
        }
    }
    if flags & KEYSPACE != 0 {
        s.push('K');
    }
    if flags & KEYEVENT != 0 {
        s.push('E');
    }
    if flags & Class::KeyMiss.bit() != 0 {
        s.push('m');
    }
    s
}

/// Whether `flags` publish events of `class` at all.
#[inline]
fn wanted(flags: u32, class: Class) -> bool {
    flags & (KEYSPACE | KEYEVENT) != 0 && flags & class.bit() != 0
}

/// An event the keyspace reported during a command, waiting for its place in the order.
struct Pending {
    class: Class,
    event: &'static str,
    db: usize,
    key: Vec<u8>,
}

thread_local! {
    /// Whether a command runs on this thread (see [`Command`]).
    static IN_COMMAND: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
    /// A self-subscribed client's own copies of [`event_late`] events, written after the
    /// command's reply.
    static LATE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Notifies `event` of `class` on `key` of `db`, from a handler after a successful change.
/// Costs one relaxed load when notifications are off.
#[inline]
pub fn event(ctx: &mut Ctx<'_>, class: Class, event: &str, db: usize, key: &[u8]) {
    let flags = ctx.shared.notify_flags();
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    publish_ordered(
        ctx.shared,
        ctx.sess.id(),
        ctx.out,
        flags,
        class,
        event,
        db,
        key,
    );
}

/// [`event`] for the commands Redis 7.0 answers before notifying (LPUSH, HSET, ZADD,
/// EXPIRE…): other subscribers get the event now, in order, but a RESP3 client subscribed on
/// its own connection sees it after the reply, as it does with Redis.
#[inline]
pub fn event_late(ctx: &mut Ctx<'_>, class: Class, event: &str, db: usize, key: &[u8]) {
    let flags = ctx.shared.notify_flags();
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    // Keyspace reports so far (a key created) still precede the reply.
    flush_pending(ctx.shared, ctx.sess.id(), ctx.out);
    let mut mine = ReplyWriter {
        out: Vec::new(),
        resp3: ctx.out.resp3,
    };
    publish_ordered(
        ctx.shared,
        ctx.sess.id(),
        &mut mine,
        flags,
        class,
        event,
        db,
        key,
    );
    if !mine.out.is_empty() {
        LATE.with(|l| l.borrow_mut().extend_from_slice(&mine.out));
    }
}

/// [`event`] for code that has no [`Ctx`] (a blocked client being served): published as if
/// by no client, so every subscriber gets it through its queue.
pub fn event_detached(shared: &Shared, class: Class, event: &str, db: usize, key: &[u8]) {
    let flags = shared.notify_flags();
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    let mut scratch = ReplyWriter {
        out: Vec::new(),
        resp3: false,
    };
    publish_ordered(shared, 0, &mut scratch, flags, class, event, db, key);
}

#[allow(clippy::too_many_arguments)]
#[cold]
fn publish_ordered(
    shared: &Shared,
    me: u64,
    out: &mut ReplyWriter,
    flags: u32,
    class: Class,
    event: &str,
    db: usize,
    key: &[u8],
) {
    flush_pending(shared, me, out);
    if wanted(flags, class) {
        publish(shared, me, out, flags, event, db, key);
    }
}

/// Publishes one event on the channels `flags` ask for: keyspace first, then keyevent.
fn publish(
    shared: &Shared,
    me: u64,
    out: &mut ReplyWriter,
    flags: u32,
    event: &str,
    db: usize,
    key: &[u8],
) {
    if flags & KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        shared
            .pubsub
            .publish(shared, me, out, &ch, event.as_bytes(), false);
    }
    if flags & KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        shared
            .pubsub
            .publish(shared, me, out, ch.as_bytes(), key, false);
    }
}

/// Publishes what the keyspace reported during this command so far.
fn flush_pending(shared: &Shared, me: u64, out: &mut ReplyWriter) {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if pending.is_empty() {
        return;
    }
    let flags = shared.notify_flags();
    for p in pending {
        if wanted(flags, p.class) {
            publish(shared, me, out, flags, p.event, p.db, &p.key);
        }
    }
}

/// Reports a keyspace event: queued while a command runs on this thread, published at once
/// otherwise (the active expiry sweep).
fn keyspace_event(shared: &Shared, class: Class, event: &'static str, db: usize, key: &[u8]) {
    if !wanted(shared.notify_flags(), class) {
        return;
    }
    if IN_COMMAND.get() {
        PENDING.with(|p| {
            p.borrow_mut().push(Pending {
                class,
                event,
                db,
                key: key.to_vec(),
            })
        });
    } else {
        event_detached(shared, class, event, db, key);
    }
}

/// A key was reclaimed because it expired, lazily or by the active sweep. Called under the
/// key's shard lock: must not lock shards. The single place expiry is observed, for every
/// feature that reacts to it.
pub fn key_expired(shared: &Shared, db: usize, key: &[u8]) {
    keyspace_event(shared, Class::Expired, "expired", db, key);
    // Expiry is a change for client caches too, as in Redis.
    shared.tracking.invalidate(shared, key);
}

/// A key was created (Redis's `dbAdd`). Called under the key's shard lock.
pub fn key_created(shared: &Shared, db: usize, key: &[u8]) {
    keyspace_event(shared, Class::New, "new", db, key);
}

/// Connects the keyspace's reports to [`key_expired`] and [`key_created`]. The hook holds
/// the server state weakly, since the keyspace is part of it.
pub fn install_hook(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let flags = shared.notify_flags.clone();
    shared.keyspace.set_hook(Box::new(move |e, db, key| {
        // Creation is on every write path: don't touch the shared reference count (a cache
        // line every core would fight over) unless someone listens.
        if e == KeyEvent::Created && !wanted(flags.load(Relaxed), Class::New) {
            return;
        }
        let Some(shared) = weak.upgrade() else {
            return;
        };
        match e {
            KeyEvent::Created => key_created(&shared, db, key),
            KeyEvent::Expired => {
                if shared.aof.on() {
                    crate::aof::expired(&shared.aof, db, key);
                }
                key_expired(&shared, db, key)
            }
        }
    }));
}

/// Marks a command running on this thread until dropped (nested commands of EXEC restore the
/// outer mark).
pub struct Command {
    outer: bool,
}

impl Command {
    pub fn begin() -> Command {
        Command {
            outer: IN_COMMAND.replace(true),
        }
    }

    /// Writes a self-subscribed client's copies of [`event_late`] events after the reply,
    /// and publishes the keyspace's reports still queued, placing that client's copies at
    /// `mark` in `out`, ahead of the reply.
    pub fn finish(self, shared: &Shared, me: u64, out: &mut ReplyWriter, mark: usize) {
        LATE.with(|l| {
            let mut l = l.borrow_mut();
            if !l.is_empty() {
                out.out.extend_from_slice(&l);
                l.clear();
            }
        });
        if PENDING.with(|p| p.borrow().is_empty()) {
            return;
        }
        let mut mine = ReplyWriter {
            out: Vec::new(),
            resp3: out.resp3,
        };
        flush_pending(shared, me, &mut mine);
        let mark = mark.min(out.out.len());
        out.out.splice(mark..mark, mine.out);
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        IN_COMMAND.set(self.outer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_like_redis() {
        let f = |s: &str| flags_to_string(parse_flags(s).unwrap());
        assert_eq!(f(""), "");
        assert_eq!(f("KEA"), "AKE");
        assert_eq!(f("KEAn"), "AKE");
        assert_eq!(f("KEAnm"), "AKEm");
        assert_eq!(f("dtexzhsl$gEK"), "AKE");
        assert_eq!(f("Kn"), "nK");
        assert_eq!(f("Ex"), "xE");
        assert_eq!(f("Kg$lshzxetdnm"), "AKm");
        assert_eq!(parse_flags("KA?"), None);
        assert_eq!(parse_flags("a"), None);
        assert_eq!(parse_flags("KEA").unwrap() & Class::New.bit(), 0);
        assert_eq!(parse_flags("KEA").unwrap() & Class::KeyMiss.bit(), 0);
    }
}
