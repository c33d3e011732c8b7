//! Pub/Sub: the server-wide registry of channel, pattern and shard-channel subscribers, each
//! client's own subscriptions and outbound message queue, and the (P|S)SUBSCRIBE, PUBLISH and
//! PUBSUB commands. It must not depend on sockets or an async runtime.
//!
//! A publish never waits on a subscriber: it encodes the message once, appends it to every
//! receiver's queue and wakes the receiver's connection, which writes the queue out. A queue
//! that grows past the `pubsub` client-output-buffer-limit gets its client disconnected, as in
//! Redis, so a subscriber that never reads cannot make the server buffer without bound.
//!
//! Lock order: a client's own subscription set, then a registry map. Publishers take only a
//! registry read lock and then each receiver's queue mutex; nothing takes them the other way.

use crate::config::ObLimit;
use crate::ctx::{ClientHandle, Ctx, Shared};
use crate::error::{err, CmdResult};
use crate::glob::glob_match;
use crate::server::help;
use parking_lot::{Mutex, RwLock};
use shardis_protocol::{Args, ReplyWriter};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = HashSet<K, foldhash::fast::RandomState>;

/// Subscribers of one channel or pattern, by client id, so unsubscribing is O(1).
type Subscribers = Map<u64, Arc<ClientHandle>>;

/// The three kinds of subscription.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One client's subscriptions. Patterns keep their subscription order like Redis 7.0's list;
/// channels, like Redis's dict, have no particular order.
#[derive(Default)]
struct Subs {
    channels: Set<Vec<u8>>,
    patterns: Vec<Vec<u8>>,
    shard: Set<Vec<u8>>,
}

/// Messages waiting to be written to one client's socket.
#[derive(Default)]
struct Queue {
    buf: Vec<u8>,
    /// When the queue last rose above the soft limit, while it stays there.
    soft_since: Option<Instant>,
    /// Set once the client was cut off: later messages are dropped, not queued.
    closed: bool,
}

/// A client's outbound push queue. Bytes the connection has taken out to write no longer
/// count, like Redis's output buffer once the kernel accepted them.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    bytes: AtomicUsize,
    /// Wakes the client's connection when the queue stops being empty; set by the server.
    pub wake: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Outbox {
    /// Whether messages are waiting (a cheap check before every command).
    pub fn pending(&self) -> bool {
        self.bytes.load(Relaxed) > 0
    }

    /// Bytes waiting to be written.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Relaxed)
    }

    /// Moves every waiting message to the end of `into`.
    pub fn take(&self, into: &mut Vec<u8>) {
        let mut q = self.queue.lock();
        if into.is_empty() {
            std::mem::swap(into, &mut q.buf);
        } else {
            into.extend_from_slice(&q.buf);
            q.buf.clear();
        }
        q.soft_since = None;
        self.bytes.store(0, Relaxed);
    }

    /// Appends one encoded message (its first byte replaced by `tag`: `*` or `>`). Returns
    /// false when the client went over its limit and was cut off.
    pub(crate) fn push(&self, tag: u8, msg: &[u8], limit: ObLimit, client: &ClientHandle) -> bool {
        let mut q = self.queue.lock();
        if q.closed {
            return false;
        }
        let was_empty = q.buf.is_empty();
        q.buf.push(tag);
        q.buf.extend_from_slice(&msg[1..]);
        let len = q.buf.len();
        self.bytes.store(len, Relaxed);
        let over = if limit.hard > 0 && len as u64 >= limit.hard {
            true
        } else if limit.soft > 0 && len as u64 >= limit.soft {
            let since = *q.soft_since.get_or_insert_with(Instant::now);
            since.elapsed().as_secs() > limit.soft_seconds
        } else {
            q.soft_since = None;
            false
        };
        if over {
            // Cut the client off, as Redis does on reaching client-output-buffer-limit: its
            // backlog is dropped at once and its connection closes.
            q.closed = true;
            q.buf = Vec::new();
            self.bytes.store(0, Relaxed);
            drop(q);
            client.kill();
            return false;
        }
        drop(q);
        if was_empty {
            if let Some(w) = self.wake.get() {
                w();
            }
        }
        true
    }
}

/// A client's Pub/Sub state, kept in its `ClientHandle`.
#[derive(Default)]
pub struct ClientPubSub {
    subs: Mutex<Subs>,
    channels: AtomicUsize,
    patterns: AtomicUsize,
    shard: AtomicUsize,
    pub outbox: Outbox,
}

impl ClientPubSub {
    /// Whether the client is in Pub/Sub mode (subscribed to anything).
    pub fn active(&self) -> bool {
        self.channels.load(Relaxed) + self.patterns.load(Relaxed) + self.shard.load(Relaxed) > 0
    }

    /// (channels, patterns, shard channels), for CLIENT LIST.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.load(Relaxed),
            self.patterns.load(Relaxed),
            self.shard.load(Relaxed),
        )
    }

    fn update_counts(&self, s: &Subs) {
        self.channels.store(s.channels.len(), Relaxed);
        self.patterns.store(s.patterns.len(), Relaxed);
        self.shard.store(s.shard.len(), Relaxed);
    }
}

/// The server-wide registry: who listens to what.
#[derive(Default)]
pub struct PubSub {
    channels: RwLock<Map<Vec<u8>, Subscribers>>,
    patterns: RwLock<Map<Vec<u8>, Subscribers>>,
    shard: RwLock<Map<Vec<u8>, Subscribers>>,
}

impl PubSub {
    fn map(&self, kind: Kind) -> &RwLock<Map<Vec<u8>, Subscribers>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Subscribes `client`; returns the count its confirmation reports (channels plus
    /// patterns, or shard channels).
    pub fn subscribe(&self, client: &Arc<ClientHandle>, kind: Kind, name: &[u8]) -> usize {
        let ps = &client.pubsub;
        let mut s = ps.subs.lock();
        let added = match kind {
            Kind::Channel => s.channels.insert(name.to_vec()),
            Kind::Shard => s.shard.insert(name.to_vec()),
            Kind::Pattern if s.patterns.iter().any(|p| p == name) => false,
            Kind::Pattern => {
                s.patterns.push(name.to_vec());
                true
            }
        };
        if added {
            self.map(kind)
                .write()
                .entry(name.to_vec())
                .or_default()
                .insert(client.id, client.clone());
        }
        ps.update_counts(&s);
        reply_count(&s, kind)
    }

    /// Unsubscribes `client` from one name; returns the count its confirmation reports.
    pub fn unsubscribe(&self, client: &ClientHandle, kind: Kind, name: &[u8]) -> usize {
        let ps = &client.pubsub;
        let mut s = ps.subs.lock();
        let removed = match kind {
            Kind::Channel => s.channels.remove(name),
            Kind::Shard => s.shard.remove(name),
            Kind::Pattern => match s.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    s.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        if removed {
            self.forget(kind, client.id, name);
        }
        ps.update_counts(&s);
        reply_count(&s, kind)
    }

    /// Removes one registry entry, and the name itself once nobody listens to it.
    fn forget(&self, kind: Kind, id: u64, name: &[u8]) {
        let mut m = self.map(kind).write();
        if let Some(subs) = m.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                m.remove(name);
            }
        }
    }

    /// The names `client` is subscribed to, in the order UNSUBSCRIBE without arguments
    /// reports them.
    pub fn names(&self, client: &ClientHandle, kind: Kind) -> Vec<Vec<u8>> {
        let s = client.pubsub.subs.lock();
        match kind {
            Kind::Channel => s.channels.iter().cloned().collect(),
            Kind::Pattern => s.patterns.clone(),
            Kind::Shard => s.shard.iter().cloned().collect(),
        }
    }

    /// Drops every subscription of `client` without confirmations (disconnect, RESET).
    pub fn remove_client(&self, client: &ClientHandle) {
        let ps = &client.pubsub;
        let mut s = ps.subs.lock();
        let s = &mut *s;
        for (kind, names) in [
            (
                Kind::Channel,
                std::mem::take(&mut s.channels).into_iter().collect(),
            ),
            (Kind::Pattern, std::mem::take(&mut s.patterns)),
            (
                Kind::Shard,
                std::mem::take(&mut s.shard).into_iter().collect(),
            ),
        ] {
            let names: Vec<Vec<u8>> = names;
            if names.is_empty() {
                continue;
            }
            let mut m = self.map(kind).write();
            for n in names {
                if let Some(subs) = m.get_mut(&n) {
                    subs.remove(&client.id);
                    if subs.is_empty() {
                        m.remove(&n);
                    }
                }
            }
        }
        ps.update_counts(s);
    }

    /// Delivers `payload` on `channel` (`shard` for SPUBLISH) and returns the number of
    /// receivers; a client that matches through several patterns counts once per pattern,
    /// as in Redis. A message for the publisher itself goes straight into its reply buffer,
    /// ahead of the reply, where Redis puts it too.
    pub fn publish(
        &self,
        shared: &Shared,
        me: u64,
        out: &mut ReplyWriter,
        channel: &[u8],
        payload: &[u8],
        shard: bool,
    ) -> usize {
        let limit = pubsub_limit(shared);
        let mut receivers = 0;
        let word: &[u8] = if shard { b"smessage" } else { b"message" };
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        {
            let m = self.map(kind).read();
            if let Some(subs) = m.get(channel) {
                let msg = encode(&[word, channel, payload]);
                for c in subs.values() {
                    deliver(c, me, out, &msg, limit);
                }
                receivers += subs.len();
            }
        }
        if !shard {
            let m = self.patterns.read();
            for (pat, subs) in m.iter() {
                if !glob_match(pat, channel, false) {
                    continue;
                }
                let msg = encode(&[b"pmessage", pat, channel, payload]);
                for c in subs.values() {
                    deliver(c, me, out, &msg, limit);
                }
                receivers += subs.len();
            }
        }
        receivers
    }

    /// Active channels (or shard channels) matching `pattern`.
    fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.map(kind)
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        self.map(kind).read().get(name).map_or(0, |s| s.len())
    }

    /// Channels with at least one subscriber (INFO pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.read().len()
    }

    /// Distinct subscribed patterns (INFO pubsub_patterns, PUBSUB NUMPAT).
    pub fn pattern_count(&self) -> usize {
        self.patterns.read().len()
    }

    /// Shard channels with at least one subscriber (INFO pubsubshard_channels).
    pub fn shard_count(&self) -> usize {
        self.shard.read().len()
    }
}

fn reply_count(s: &Subs, kind: Kind) -> usize {
    match kind {
        Kind::Channel | Kind::Pattern => s.channels.len() + s.patterns.len(),
        Kind::Shard => s.shard.len(),
    }
}

/// Puts one message in a receiver's queue, or in the publisher's own reply when it is the
/// receiver.
fn deliver(c: &ClientHandle, me: u64, out: &mut ReplyWriter, msg: &[u8], limit: ObLimit) {
    if c.id == me {
        out.out.push(if out.resp3 { b'>' } else { b'*' });
        out.out.extend_from_slice(&msg[1..]);
        return;
    }
    let tag = if c.resp.load(Relaxed) == 3 {
        b'>'
    } else {
        b'*'
    };
    c.pubsub.outbox.push(tag, msg, limit, c);
}

/// A RESP2 array of bulk strings; RESP3 receivers get the same bytes with `>` in front.
fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let mut w = ReplyWriter::new(false);
    w.out.clear();
    w.array(parts.len());
    for p in parts {
        w.bulk(p);
    }
    w.out
}

/// The `pubsub` class of client-output-buffer-limit.
pub(crate) fn pubsub_limit(shared: &Shared) -> ObLimit {
    shared.output_limit(2)
}

/// One (un)subscribe confirmation: `[word, name or null, count]` as an array or a push.
fn confirm(out: &mut ReplyWriter, word: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_kind(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind) -> CmdResult {
    let me = ctx.sess.handle.clone();
    for name in args.iter().skip(1) {
        let n = ctx.shared.pubsub.subscribe(&me, kind, name);
        confirm(ctx.out, kind.subscribe_word(), Some(name), n);
    }
    Ok(())
}

fn unsubscribe_kind(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind) -> CmdResult {
    let me = ctx.sess.handle.clone();
    let ps = &ctx.shared.pubsub;
    let word = kind.unsubscribe_word();
    if args.len() > 1 {
        for name in args.iter().skip(1) {
            let n = ps.unsubscribe(&me, kind, name);
            confirm(ctx.out, word, Some(name), n);
        }
        return Ok(());
    }
    let names = ps.names(&me, kind);
    if names.is_empty() {
        let s = me.pubsub.subs.lock();
        let n = reply_count(&s, kind);
        drop(s);
        confirm(ctx.out, word, None, n);
    }
    for name in names {
        let n = ps.unsubscribe(&me, kind, &name);
        confirm(ctx.out, word, Some(&name), n);
    }
    Ok(())
}

pub fn subscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Channel)
}

pub fn psubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Pattern)
}

pub fn ssubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Shard)
}

pub fn unsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Channel)
}

pub fn punsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Pattern)
}

pub fn sunsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Shard)
}

fn publish_kind(ctx: &mut Ctx<'_>, args: Args<'_>, shard: bool) -> CmdResult {
    let me = ctx.sess.id();
    let n = ctx
        .shared
        .pubsub
        .publish(ctx.shared, me, ctx.out, args.get(1), args.get(2), shard);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn publish(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    publish_kind(ctx, args, false)
}

pub fn spublish(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    publish_kind(ctx, args, true)
}

/// PUBSUB CHANNELS and SHARDCHANNELS take at most one pattern; Redis words the error like an
/// unknown subcommand.
fn channels_kind(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind) -> CmdResult {
    if args.len() > 3 {
        return Err(err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args.get(1))
        )));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names = ctx.shared.pubsub.active(kind, pattern);
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn numsub_kind(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind) -> CmdResult {
    ctx.out.array(2 * (args.len() - 2));
    for name in args.iter().skip(2) {
        ctx.out.bulk(name);
        ctx.out.int(ctx.shared.pubsub.numsub(kind, name) as i64);
    }
    Ok(())
}

pub fn pubsub_channels(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    channels_kind(ctx, args, Kind::Channel)
}

pub fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    channels_kind(ctx, args, Kind::Shard)
}

pub fn pubsub_numsub(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    numsub_kind(ctx, args, Kind::Channel)
}

pub fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    numsub_kind(ctx, args, Kind::Shard)
}

pub fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.shared.pubsub.pattern_count() as i64);
    Ok(())
}

pub fn pubsub_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// Commands a RESP2 client may still send while subscribed.
pub fn allowed_while_subscribed(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_are_resp2_arrays() {
        assert_eq!(
            encode(&[b"message", b"ch", b"hi"]),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn outbox_cuts_off_at_the_hard_limit() {
        let o = Outbox::default();
        let sh = Shared::new(crate::Config::default(), String::new());
        let h = sh.register("127.0.0.1:1".into(), "127.0.0.1:2".into());
        let limit = ObLimit {
            hard: 100,
            soft: 0,
            soft_seconds: 0,
        };
        let msg = encode(&[b"message", b"c", &[b'x'; 40]]);
        assert!(o.push(b'*', &msg, limit, &h));
        assert_eq!(o.bytes(), msg.len());
        assert!(!o.push(b'*', &msg, limit, &h));
        assert!(h.killed.load(Relaxed));
        assert_eq!(o.bytes(), 0);
        assert!(
            !o.push(b'*', &msg, limit, &h),
            "a cut-off client gets nothing"
        );
    }
}
