//! Hash commands: HSET and friends, counters, whole-hash reads, HRANDFIELD and HSCAN.

use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify::{self, Class};
use crate::num::{self, parse_i64};
use crate::util::{int, is};
use shardis_keyspace::hash::Hash;
use shardis_keyspace::{Locked, Value};
use shardis_protocol::{Args, ReplyWriter};

/// The hash at `key` for reading: `Ok(None)` when missing, WRONGTYPE for other types.
fn hash_ref<'l>(
    l: &'l mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'l Hash>, CmdError> {
    match l.get(db, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The hash at `key` for writing, created empty when missing (Redis's
/// `hashTypeLookupWriteOrCreate`); the caller removes it again if it stays empty.
fn hash_create<'l>(l: &'l mut Locked<'_>, db: usize, key: &[u8]) -> Result<&'l mut Hash, CmdError> {
    if !l.exists(db, key) {
        l.set(db, key, Value::Hash(Default::default()), None, false);
    }
    match l.get(db, key).map(|e| &mut e.value) {
        Some(Value::Hash(h)) => Ok(h),
        _ => Err(CmdError::WrongType),
    }
}

/// The hash at `key` for writing, without creating it.
fn hash_mut<'l>(
    l: &'l mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'l mut Hash>, CmdError> {
    match l.get(db, key).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// HSET and HMSET: sets every pair, answering how many fields were new.
fn hset_generic(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Result<i64, CmdError> {
    if !args.len().is_multiple_of(2) {
        return Err(CmdError::Arity(ctx.spec.name.into()));
    }
    let (db, key) = (ctx.db(), args.get(1));
    let limits = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_create(&mut l, db, key)?;
    let pairs = args.tail(2);
    h.try_conversion(pairs.iter(), &limits);
    let mut created = 0;
    for i in (0..pairs.len()).step_by(2) {
        created += h.set(pairs.get(i), pairs.get(i + 1), &limits) as i64;
    }
    notify::event_late(ctx, Class::Hash, "hset", db, key);
    drop(l);
    ctx.dirty((pairs.len() / 2) as u64);
    Ok(created)
}

pub fn hset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let n = hset_generic(ctx, &args)?;
    ctx.out.int(n);
    Ok(())
}

pub fn hmset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    hset_generic(ctx, &args)?;
    ctx.out.ok();
    Ok(())
}

pub fn hsetnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, field, value) = (ctx.db(), args.get(1), args.get(2), args.get(3));
    let limits = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_create(&mut l, db, key)?;
    let set = !h.contains(field);
    if set {
        h.try_conversion([field, value], &limits);
        h.set(field, value, &limits);
        notify::event_late(ctx, Class::Hash, "hset", db, key);
    }
    drop(l);
    ctx.dirty(set as u64);
    ctx.out.int(set as i64);
    Ok(())
}

pub fn hget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_ref(&mut l, db, key)?;
    ctx.hit(h.is_some());
    match h.and_then(|h| h.get(args.get(2))) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn hmget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_ref(&mut l, db, key)?;
    ctx.hit(h.is_some());
    let fields = args.tail(2);
    ctx.out.array(fields.len());
    for f in fields.iter() {
        match h.and_then(|h| h.get(f)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

pub fn hdel(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let mut deleted = 0;
    let mut emptied = false;
    if let Some(h) = hash_mut(&mut l, db, key)? {
        for f in args.tail(2).iter() {
            deleted += h.remove(f) as i64;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        notify::event(ctx, Class::Hash, "hdel", db, key);
    }
    let old = if emptied { l.remove(db, key) } else { None };
    if emptied {
        notify::event(ctx, Class::Generic, "del", db, key);
    }
    drop(l);
    old.into_iter()
        .for_each(shardis_keyspace::lazyfree::free_entry);
    ctx.dirty(deleted as u64);
    ctx.out.int(deleted);
    Ok(())
}

pub fn hlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = hash_ref(&mut l, db, key)?.map_or(0, |h| h.len());
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn hstrlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = hash_ref(&mut l, db, key)?
        .and_then(|h| h.get(args.get(2)))
        .map_or(0, <[u8]>::len);
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn hexists(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let found = hash_ref(&mut l, db, key)?.is_some_and(|h| h.contains(args.get(2)));
    drop(l);
    ctx.out.int(found as i64);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Keys,
    Values,
    Both,
}

/// HGETALL, HKEYS, HVALS. Rendered under the lock: copying a big hash out first would cost
/// more than the rendering itself.
fn getall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, parts: Parts) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_ref(&mut l, db, key)?;
    ctx.hit(h.is_some());
    let n = h.map_or(0, |h| h.len());
    if parts == Parts::Both {
        ctx.out.map(n);
    } else {
        ctx.out.array(n);
    }
    for (f, v) in h.into_iter().flat_map(Hash::iter) {
        if parts != Parts::Values {
            ctx.out.bulk(f);
        }
        if parts != Parts::Keys {
            ctx.out.bulk(v);
        }
    }
    Ok(())
}

pub fn hgetall(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, &args, Parts::Both)
}

pub fn hkeys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, &args, Parts::Keys)
}

pub fn hvals(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, &args, Parts::Values)
}

pub fn hincrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, field) = (ctx.db(), args.get(1), args.get(2));
    let by = int(args.get(3))?;
    let limits = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_create(&mut l, db, key)?;
    let cur = match h.get(field) {
        Some(v) => parse_i64(v).ok_or_else(|| err("hash value is not an integer"))?,
        None => 0,
    };
    let next = cur.checked_add(by).ok_or(CmdError::Overflow)?;
    h.set(field, itoa::Buffer::new().format(next).as_bytes(), &limits);
    notify::event_late(ctx, Class::Hash, "hincrby", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(next);
    Ok(())
}

pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, field) = (ctx.db(), args.get(1), args.get(2));
    let by = num::parse_long_double(args.get(3)).ok_or(CmdError::NotFloat)?;
    if by.is_nan() || by.is_infinite() {
        return Err(err("value is NaN or Infinity"));
    }
    let limits = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_create(&mut l, db, key)?;
    let cur = match h.get(field) {
        Some(v) => num::parse_long_double(v).ok_or_else(|| err("hash value is not a float"))?,
        None => num::LongDouble::zero(),
    };
    let text = num::incr_long_double(cur, by)
        .ok_or_else(|| err("increment would produce NaN or Infinity"))?;
    h.set(field, text.as_bytes(), &limits);
    crate::aof::rewrite(&[b"HSET", key, field, text.as_bytes()]);
    notify::event_late(ctx, Class::Hash, "hincrbyfloat", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

/// Writes one HRANDFIELD element: RESP3 nests each field/value pair in its own array.
fn rand_pair(out: &mut ReplyWriter, (f, v): (&[u8], &[u8]), withvalues: bool) {
    if withvalues && out.resp3 {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

pub fn hrandfield(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    if args.len() == 2 {
        let mut l = ctx.shared.keyspace.lock_key(db, key);
        let h = hash_ref(&mut l, db, key)?;
        ctx.hit(h.is_some());
        match h.and_then(|h| h.random_pairs(1, false).first().copied()) {
            Some((f, _)) => ctx.out.bulk(f),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let count = int(args.get(2))?;
    if count == i64::MIN {
        return Err(err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "withvalues")) {
        return Err(CmdError::Syntax);
    }
    let withvalues = args.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(err("value is out of range"));
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let h = hash_ref(&mut l, db, key)?;
    ctx.hit(h.is_some());
    let Some(h) = h.filter(|_| count != 0) else {
        ctx.out.array(0);
        return Ok(());
    };
    let (n, unique) = (count.unsigned_abs() as usize, count > 0);
    // Redis answers a plain count of 1 like a negative one; both are random picks.
    let pairs = if !unique || n == 1 {
        h.random_pairs(n, false)
    } else if n >= h.len() {
        h.iter().collect()
    } else {
        h.random_pairs(n, true)
    };
    let flat = withvalues && !ctx.out.resp3;
    ctx.out
        .array(if flat { pairs.len() * 2 } else { pairs.len() });
    for p in pairs {
        rand_pair(ctx.out, p, withvalues);
    }
    Ok(())
}

pub fn hscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let cursor = crate::util::scan_cursor(args.get(2))?;
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let Some(h) = hash_ref(&mut l, db, key)? else {
        drop(l);
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    // Options are checked only once the key is known to be a hash, as in Redis.
    let (mut pattern, mut count, mut novalues) = (None, 10i64, false);
    let mut j = 3;
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
        } else if is(a, "novalues") {
            // Redis 7.4's option: fields only.
            novalues = true;
            j += 1;
            continue;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let pattern = pattern.filter(|p| *p != b"*");
    let step = h.scan(cursor, count as usize);
    let pairs: Vec<(&[u8], &[u8])> = step
        .pairs
        .into_iter()
        .filter(|(f, _)| pattern.is_none_or(|p| glob_match(p, f, false)))
        .collect();
    ctx.out.array(2);
    ctx.out
        .bulk(itoa::Buffer::new().format(step.cursor).as_bytes());
    ctx.out.array(if novalues {
        pairs.len()
    } else {
        pairs.len() * 2
    });
    for (f, v) in pairs {
        ctx.out.bulk(f);
        if !novalues {
            ctx.out.bulk(v);
        }
    }
    Ok(())
}
