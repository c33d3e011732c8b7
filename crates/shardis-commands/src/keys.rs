//! Generic keyspace commands: DEL, EXISTS, TYPE, RENAME, KEYS, SCAN, expiry, COPY, MOVE, OBJECT.

use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify::{self, Class};
use crate::util::{db_index, int, is};
use shardis_keyspace::{Entry, Value};
use shardis_protocol::Args;

fn del_generic(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let db = ctx.db();
    let keys = args.tail(1);
    let mut l = ctx.shared.keyspace.lock_keys(keys.iter().map(|k| (db, k)));
    let mut removed: Vec<Box<Entry>> = Vec::new();
    for k in keys.iter() {
        if let Some(e) = l.remove(db, k) {
            removed.push(e);
            notify::event(ctx, Class::Generic, "del", db, k);
        }
    }
    drop(l);
    let n = removed.len();
    // Freed after the locks are gone, and big collections on the lazy-free thread, so
    // neither the shard nor this event loop stalls.
    removed
        .into_iter()
        .for_each(shardis_keyspace::lazyfree::free_entry);
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn del(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ctx, args)
}

pub fn unlink(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ctx, args)
}

fn count_existing(ctx: &mut Ctx<'_>, args: Args<'_>, touch: bool) -> CmdResult {
    let db = ctx.db();
    let keys = args.tail(1);
    let mut l = ctx.shared.keyspace.lock_keys(keys.iter().map(|k| (db, k)));
    let n = keys
        .iter()
        .filter(|k| {
            if touch {
                l.get(db, k).is_some()
            } else {
                l.exists(db, k)
            }
        })
        .count();
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn exists(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    count_existing(ctx, args, false)
}

pub fn touch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    count_existing(ctx, args, true)
}

pub fn type_(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let t = ctx
        .shared
        .keyspace
        .lock_key(db, key)
        .peek(db, key)
        .map_or("none", |e| e.value.type_name());
    ctx.out.simple(t);
    Ok(())
}

fn rename_generic(ctx: &mut Ctx<'_>, args: Args<'_>, nx: bool) -> CmdResult {
    let (db, src, dst) = (ctx.db(), args.get(1), args.get(2));
    let mut l = ctx.shared.keyspace.lock_keys([(db, src), (db, dst)]);
    if !l.exists(db, src) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        drop(l);
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if nx && l.exists(db, dst) {
        drop(l);
        ctx.out.int(0);
        return Ok(());
    }
    let entry = l.remove(db, src).expect("checked above");
    let replaced = l.put(db, dst, entry);
    notify::event(ctx, Class::Generic, "rename_from", db, src);
    notify::event(ctx, Class::Generic, "rename_to", db, dst);
    drop(l);
    replaced
        .into_iter()
        .for_each(shardis_keyspace::lazyfree::free_value);
    ctx.dirty(1);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

pub fn rename(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, false)
}

pub fn renamenx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, true)
}

pub fn keys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let keys = ctx
        .shared
        .keyspace
        .keys(ctx.db(), |e| all || glob_match(pattern, e.key(), false));
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

pub fn scan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::scan_cursor(args.get(1))?;
    let (mut pattern, mut count, mut typ) = (None, 10i64, None);
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        let has_next = j + 1 < args.len();
        if is(a, "count") && has_next {
            count = int(args.get(j + 1))?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if is(a, "match") && has_next {
            pattern = Some(args.get(j + 1));
        } else if is(a, "type") && has_next {
            typ = Some(String::from_utf8_lossy(args.get(j + 1)).to_ascii_lowercase());
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let pattern = pattern.filter(|p| *p != b"*");
    let page = ctx
        .shared
        .keyspace
        .scan(ctx.db(), cursor, count as usize, |e| {
            pattern.is_none_or(|p| glob_match(p, e.key(), false))
                && typ.as_deref().is_none_or(|t| t == e.value.type_name())
        });
    ctx.out.array(2);
    ctx.out.bulk(page.cursor.to_string().as_bytes());
    ctx.out.array(page.keys.len());
    for k in page.keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

pub fn randomkey(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    match ctx.shared.keyspace.random_key(ctx.db()) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Millis,
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, following Redis's order of checks.
fn expire_generic(ctx: &mut Ctx<'_>, args: Args<'_>, unit: Unit, relative: bool) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in args.tail(3).iter() {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            return Err(err(format!(
                "Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err("GT and LT options at the same time are not compatible"));
    }
    let mut when = int(args.get(2))?;
    let name = ctx.spec.name;
    if let Unit::Seconds = unit {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(CmdError::InvalidExpire(name));
        }
        when *= 1000;
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let base = if relative { l.now as i64 } else { 0 };
    if when > i64::MAX - base {
        return Err(CmdError::InvalidExpire(name));
    }
    when += base;
    let Some(e) = l.peek(db, key) else {
        crate::aof::skip();
        ctx.out.int(0);
        return Ok(());
    };
    let current = e.expire_at().map(|t| t as i64);
    let rejected = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if rejected {
        // Nothing changed; the relative form must not reach the log (it could pass on replay).
        crate::aof::skip();
        ctx.out.int(0);
        return Ok(());
    }
    let removed = if when <= l.expiry_now() as i64 {
        crate::aof::rewrite(&[b"DEL", key]);
        let e = l.remove(db, key);
        notify::event(ctx, Class::Generic, "del", db, key);
        e
    } else {
        if crate::aof::logging() {
            crate::aof::rewrite(&[b"PEXPIREAT", key, when.to_string().as_bytes()]);
        }
        l.set_expire(db, key, Some(when as u64));
        notify::event_late(ctx, Class::Generic, "expire", db, key);
        None
    };
    drop(l);
    drop(removed);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

pub fn expire(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, Unit::Seconds, true)
}

pub fn pexpire(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, Unit::Millis, true)
}

pub fn expireat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, Unit::Seconds, false)
}

pub fn pexpireat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, Unit::Millis, false)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no key, -1 for no expiry.
fn ttl_generic(ctx: &mut Ctx<'_>, args: Args<'_>, millis: bool, absolute: bool) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let now = l.now as i64;
    let reply = match l.peek(db, key) {
        None => -2,
        Some(e) => match e.expire_at() {
            None => -1,
            Some(t) => {
                let v = if absolute {
                    t as i64
                } else {
                    (t as i64 - now).max(0)
                };
                if millis {
                    v
                } else {
                    (v + 500) / 1000
                }
            }
        },
    };
    drop(l);
    ctx.out.int(reply);
    Ok(())
}

pub fn ttl(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

pub fn pttl(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

pub fn expiretime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

pub fn pexpiretime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

pub fn persist(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let had = l.peek(db, key).is_some_and(|e| e.expire_at().is_some());
    if had {
        l.set_expire(db, key, None);
        notify::event(ctx, Class::Generic, "persist", db, key);
    }
    drop(l);
    ctx.dirty(had as u64);
    ctx.out.int(had as i64);
    Ok(())
}

pub fn copy_(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let databases = ctx.shared.keyspace.databases();
    let (mut dst_db, mut replace) = (ctx.db(), false);
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        if is(a, "replace") {
            replace = true;
        } else if is(a, "db") && j + 1 < args.len() {
            dst_db = db_index(args.get(j + 1), databases)?;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let db = ctx.db();
    if src == dst && db == dst_db {
        return Err(err("source and destination objects are the same"));
    }
    let mut l = ctx.shared.keyspace.lock_keys([(db, src), (dst_db, dst)]);
    let Some(e) = l.get(db, src) else {
        drop(l);
        ctx.out.int(0);
        return Ok(());
    };
    let (value, exp): (Value, Option<u64>) = (e.value.duplicate(), e.expire_at());
    if !replace && l.exists(dst_db, dst) {
        drop(l);
        ctx.out.int(0);
        return Ok(());
    }
    // Redis deletes what it replaces and adds the copy, so the copy is always a new key.
    let old = l.remove(dst_db, dst).map(|e| e.value);
    l.set(dst_db, dst, value, exp, false);
    notify::event(ctx, Class::Generic, "copy_to", dst_db, dst);
    drop(l);
    old.into_iter()
        .for_each(shardis_keyspace::lazyfree::free_value);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

pub fn move_(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let dst_db = db_index(args.get(2), ctx.shared.keyspace.databases())?;
    if dst_db == db {
        return Err(err("source and destination objects are the same"));
    }
    let mut l = ctx.shared.keyspace.lock_keys([(db, key), (dst_db, key)]);
    if !l.exists(db, key) || l.exists(dst_db, key) {
        drop(l);
        ctx.out.int(0);
        return Ok(());
    }
    let e = l.remove(db, key).expect("checked above");
    l.put(dst_db, key, e);
    notify::event(ctx, Class::Generic, "move_from", db, key);
    notify::event(ctx, Class::Generic, "move_to", dst_db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// Runs `f` on the entry of OBJECT's key, or replies nil when there is none.
fn object_entry(
    ctx: &mut Ctx<'_>,
    args: Args<'_>,
    f: impl FnOnce(&Entry, u64) -> Result<i64, CmdError>,
) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(2));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let now = l.now;
    let r = l.peek(db, key).map(|e| f(e, now)).transpose()?;
    drop(l);
    match r {
        Some(n) => ctx.out.int(n),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn object_encoding(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(2));
    let enc = ctx
        .shared
        .keyspace
        .lock_key(db, key)
        .peek(db, key)
        .map(|e| e.value.encoding());
    match enc {
        Some(e) => ctx.out.bulk(e.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn object_refcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    object_entry(ctx, args, |e, _| Ok(e.value.refcount()))
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.shared.config.read().maxmemory_policy.contains("lfu")
}

// Redis looks the key up before it checks the policy: a missing key is nil either way.
pub fn object_idletime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let lfu = lfu_policy(ctx);
    object_entry(ctx, args, |e, now| {
        if lfu {
            return Err(err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
        }
        Ok((now / 1000).saturating_sub(e.lru as u64) as i64)
    })
}

pub fn object_freq(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let lfu = lfu_policy(ctx);
    object_entry(ctx, args, |_, _| {
        if !lfu {
            return Err(err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
        }
        // No LFU counters are kept until eviction exists; a fresh key's counter in Redis.
        Ok(5)
    })
}

pub fn object_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    crate::server::help(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}
