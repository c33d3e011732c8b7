//! String commands: GET, SET and its variants, counters, ranges, LCS.

use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::lcs;
use crate::notify::{self, Class};
use crate::num::{self, parse_i64};
use crate::util::{get_str, int, is, str_value};
use shardis_keyspace::{StrVal, Value};
use shardis_protocol::Args;

/// An expiry given as an option: relative or absolute, in seconds or milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Turns an expiry option into absolute Unix ms, with Redis's range checks.
pub fn expire_at(
    unit: ExpireUnit,
    arg: &[u8],
    now: u64,
    cmd: &'static str,
) -> Result<u64, CmdError> {
    let v = int(arg)?;
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        ms = ms
            .checked_add(now as i64)
            .ok_or(CmdError::InvalidExpire(cmd))?;
    }
    Ok(ms as u64)
}

fn expire_unit(arg: &[u8]) -> Option<ExpireUnit> {
    if is(arg, "ex") {
        Some(ExpireUnit::Ex)
    } else if is(arg, "px") {
        Some(ExpireUnit::Px)
    } else if is(arg, "exat") {
        Some(ExpireUnit::ExAt)
    } else if is(arg, "pxat") {
        Some(ExpireUnit::PxAt)
    } else {
        None
    }
}

/// Parsed SET options.
#[derive(Default)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Redis's `parseExtendedStringArgumentsOrReply` for SET: repeated options are allowed,
/// conflicting ones are a syntax error.
fn parse_set_opts<'a>(args: &Args<'a>, from: usize) -> Result<SetOpts<'a>, CmdError> {
    let mut o = SetOpts::default();
    let mut j = from;
    while j < args.len() {
        let a = args.get(j);
        let next = (j + 1 < args.len()).then(|| args.get(j + 1));
        if is(a, "nx") && !o.xx {
            o.nx = true;
        } else if is(a, "xx") && !o.nx {
            o.xx = true;
        } else if is(a, "get") {
            o.get = true;
        } else if is(a, "keepttl") && o.expire.is_none() {
            o.keep_ttl = true;
        } else if let (Some(unit), Some(v)) = (expire_unit(a), next) {
            if o.keep_ttl || o.expire.is_some_and(|(u, _)| u != unit) {
                return Err(CmdError::Syntax);
            }
            o.expire = Some((unit, v));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

pub fn get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let v = get_str(
        &mut ctx.shared.keyspace.lock_key(ctx.db(), key),
        ctx.db(),
        key,
    )?;
    ctx.hit(v.is_some());
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// The shared core of SET, SETNX, SETEX, PSETEX: returns whether the value was stored and,
/// for GET, the old value.
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    value: &[u8],
    o: &SetOpts<'_>,
    cmd: &'static str,
) -> Result<(bool, Option<StrVal>), CmdError> {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let at = match o.expire {
        Some((unit, v)) => Some(expire_at(unit, v, l.now, cmd)?),
        None => None,
    };
    let old = if o.get {
        get_str(&mut l, db, key)?
    } else {
        None
    };
    let found = if o.get {
        old.is_some()
    } else {
        l.exists(db, key)
    };
    if (o.nx && found) || (o.xx && !found) {
        return Ok((false, old));
    }
    let replaced = l.set(db, key, str_value(value), at, o.keep_ttl);
    // Logged with an absolute expiry, so a replay sets the same one (Redis's PXAT form).
    if let (Some(t), true) = (at, crate::aof::logging()) {
        crate::aof::rewrite(&[b"SET", key, value, b"PXAT", t.to_string().as_bytes()]);
    }
    // An expiry already past leaves the key to be reclaimed as expired, as in Redis 7.0.
    // GETSET answers before notifying; SET and the rest after.
    if cmd == "getset" {
        notify::event_late(ctx, Class::String, "set", db, key);
    } else {
        notify::event(ctx, Class::String, "set", db, key);
    }
    if at.is_some() {
        notify::event(ctx, Class::Generic, "expire", db, key);
    }
    drop(l);
    if let Some(v) = replaced {
        shardis_keyspace::lazyfree::free_value(v);
    }
    ctx.dirty(1);
    Ok((true, old))
}

pub fn set(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_set_opts(&args, 3)?;
    let (stored, old) = set_generic(ctx, args.get(1), args.get(2), &o, "set")?;
    if o.get {
        match old {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    } else if stored {
        ctx.out.ok();
    } else {
        ctx.out.null();
    }
    Ok(())
}

pub fn setnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = SetOpts {
        nx: true,
        ..Default::default()
    };
    let (stored, _) = set_generic(ctx, args.get(1), args.get(2), &o, "setnx")?;
    ctx.out.int(stored as i64);
    Ok(())
}

pub fn setex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = SetOpts {
        expire: Some((ExpireUnit::Ex, args.get(2))),
        ..Default::default()
    };
    set_generic(ctx, args.get(1), args.get(3), &o, "setex")?;
    ctx.out.ok();
    Ok(())
}

pub fn psetex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = SetOpts {
        expire: Some((ExpireUnit::Px, args.get(2))),
        ..Default::default()
    };
    set_generic(ctx, args.get(1), args.get(3), &o, "psetex")?;
    ctx.out.ok();
    Ok(())
}

pub fn getset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = SetOpts {
        get: true,
        ..Default::default()
    };
    let (_, old) = set_generic(ctx, args.get(1), args.get(2), &o, "getset")?;
    match old {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn mget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let db = ctx.db();
    let keys = args.tail(1);
    let mut l = ctx.shared.keyspace.lock_keys(keys.iter().map(|k| (db, k)));
    let vals: Vec<Option<StrVal>> = keys
        .iter()
        .map(|k| match l.get(db, k) {
            Some(e) => match &e.value {
                Value::Str(s) => Some(s.clone()),
                // MGET answers nil for keys of other types, as Redis does.
                _ => None,
            },
            None => None,
        })
        .collect();
    drop(l);
    ctx.out.array(vals.len());
    for v in vals {
        ctx.hit(v.is_some());
        match v {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset_generic(ctx: &mut Ctx<'_>, args: Args<'_>, nx: bool) -> Result<bool, CmdError> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Arity(ctx.spec.name.into()));
    }
    let db = ctx.db();
    let pairs = args.tail(1);
    let mut l = ctx
        .shared
        .keyspace
        .lock_keys(pairs.iter().step_by(2).map(|k| (db, k)));
    if nx && pairs.iter().step_by(2).any(|k| l.exists(db, k)) {
        return Ok(false);
    }
    let mut old = Vec::new();
    for i in (0..pairs.len()).step_by(2) {
        old.extend(l.set(db, pairs.get(i), str_value(pairs.get(i + 1)), None, false));
        notify::event(ctx, Class::String, "set", db, pairs.get(i));
    }
    drop(l);
    old.into_iter()
        .for_each(shardis_keyspace::lazyfree::free_value);
    ctx.dirty(pairs.len() as u64 / 2);
    Ok(true)
}

pub fn mset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    mset_generic(ctx, args, false)?;
    ctx.out.ok();
    Ok(())
}

pub fn msetnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let done = mset_generic(ctx, args, true)?;
    ctx.out.int(done as i64);
    Ok(())
}

pub fn getdel(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let v = get_str(&mut l, db, key)?;
    let removed = if v.is_some() { l.remove(db, key) } else { None };
    if v.is_some() {
        notify::event_late(ctx, Class::Generic, "del", db, key);
    }
    drop(l);
    drop(removed);
    match v {
        Some(v) => {
            ctx.dirty(1);
            ctx.out.bulk(&v)
        }
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn getex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut expire = None;
    let mut persist = false;
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        let next = (j + 1 < args.len()).then(|| args.get(j + 1));
        if is(a, "persist") && expire.is_none() {
            persist = true;
        } else if let (Some(unit), Some(v), false) = (expire_unit(a), next, persist) {
            if expire.is_some_and(|(u, _)| u != unit) {
                return Err(CmdError::Syntax);
            }
            expire = Some((unit, v));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let v = get_str(&mut l, db, key)?;
    // Redis validates the expiry only once it knows the key exists.
    let at = match (expire, &v) {
        (Some((unit, arg)), Some(_)) => Some(expire_at(unit, arg, l.now, "getex")?),
        _ => None,
    };
    let mut removed = None;
    if v.is_some() {
        match at {
            Some(t) if t <= l.expiry_now() => {
                crate::aof::rewrite(&[b"DEL", key]);
                removed = l.remove(db, key);
                notify::event_late(ctx, Class::Generic, "del", db, key);
            }
            Some(t) => {
                if crate::aof::logging() {
                    crate::aof::rewrite(&[b"PEXPIREAT", key, t.to_string().as_bytes()]);
                }
                l.set_expire(db, key, Some(t));
                notify::event_late(ctx, Class::Generic, "expire", db, key);
            }
            None if persist => {
                crate::aof::rewrite(&[b"PERSIST", key]);
                let had = l.peek(db, key).is_some_and(|e| e.expire_at().is_some());
                l.set_expire(db, key, None);
                if had {
                    notify::event_late(ctx, Class::Generic, "persist", db, key);
                }
            }
            None => {}
        }
    }
    drop(l);
    drop(removed);
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Checks a string's would-be length against `proto-max-bulk-len`, as Redis's
/// `checkStringLength` does.
fn check_len(ctx: &Ctx<'_>, len: u64) -> CmdResult {
    if len > ctx.shared.max_bulk() {
        return Err(CmdError::TooBig);
    }
    Ok(())
}

pub fn append(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, tail) = (ctx.db(), args.get(1), args.get(2));
    let max = ctx.shared.max_bulk();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let len = match l.get(db, key) {
        None => {
            l.set(db, key, str_value(tail), None, false);
            tail.len()
        }
        Some(e) => {
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            if (s.len() + tail.len()) as u64 > max {
                return Err(CmdError::TooBig);
            }
            let mut b = Vec::with_capacity(s.len() + tail.len());
            b.extend_from_slice(s);
            b.extend_from_slice(tail);
            *s = StrVal::raw(&b);
            s.len()
        }
    };
    notify::event(ctx, Class::String, "append", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

pub fn strlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let v = get_str(&mut ctx.shared.keyspace.lock_key(db, key), db, key)?;
    ctx.out.int(v.map_or(0, |v| v.len() as i64));
    Ok(())
}

/// INCR and friends: the stored string must be a canonical i64.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = match l.get(db, key) {
        None => {
            l.set(db, key, Value::Str(StrVal::from_int(by)), None, false);
            by
        }
        Some(e) => {
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            let cur = parse_i64(s).ok_or(CmdError::NotInteger)?;
            let n = cur.checked_add(by).ok_or(CmdError::Overflow)?;
            *s = StrVal::from_int(n);
            n
        }
    };
    notify::event(ctx, Class::String, "incrby", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(n);
    Ok(())
}

pub fn incr(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ctx, args.get(1), 1)
}

pub fn decr(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ctx, args.get(1), -1)
}

pub fn incrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let by = int(args.get(2))?;
    incr_by(ctx, args.get(1), by)
}

pub fn decrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let by = int(args.get(2))?;
    if by == i64::MIN {
        return Err(err("decrement would overflow"));
    }
    incr_by(ctx, args.get(1), -by)
}

pub fn incrbyfloat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let cur = match get_str(&mut l, db, key)? {
        Some(s) => num::parse_long_double(&s).ok_or(CmdError::NotFloat)?,
        None => num::LongDouble::zero(),
    };
    let by = num::parse_long_double(args.get(2)).ok_or(CmdError::NotFloat)?;
    let sum = num::add(&cur, &by);
    if !sum.is_finite() {
        return Err(err("increment would produce NaN or Infinity"));
    }
    let text = num::format_human(&sum);
    // The result, not the increment: float rounding must not differ on replay.
    crate::aof::rewrite(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    l.set(
        db,
        key,
        Value::Str(StrVal::text(text.as_bytes())),
        None,
        true,
    );
    notify::event(ctx, Class::String, "incrbyfloat", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

pub fn getrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let (mut start, mut end) = (int(args.get(2))?, int(args.get(3))?);
    let v = get_str(&mut ctx.shared.keyspace.lock_key(db, key), db, key)?.unwrap_or_default();
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&v[start as usize..=end as usize]);
    }
    Ok(())
}

pub fn substr(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getrange(ctx, args)
}

pub fn setrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, data) = (ctx.db(), args.get(1), args.get(3));
    let offset = int(args.get(2))?;
    if offset < 0 {
        return Err(err("offset is out of range"));
    }
    let offset = offset as u64;
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let len = match l.get(db, key) {
        None => {
            if data.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_len(ctx, offset + data.len() as u64)?;
            let mut v = vec![0u8; offset as usize + data.len()];
            v[offset as usize..].copy_from_slice(data);
            let n = v.len();
            l.set(db, key, Value::Str(StrVal::raw(&v)), None, false);
            n
        }
        Some(e) => {
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            if data.is_empty() {
                ctx.out.int(s.len() as i64);
                return Ok(());
            }
            check_len(ctx, offset + data.len() as u64)?;
            let mut v = s.to_vec();
            let end = offset as usize + data.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset as usize..end].copy_from_slice(data);
            *s = StrVal::raw(&v);
            s.len()
        }
    };
    notify::event(ctx, Class::String, "setrange", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

pub fn lcs(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let db = ctx.db();
    let (k1, k2) = (args.get(1), args.get(2));
    // Redis checks the types before it parses the options, so errors come in that order.
    let mut l = ctx.shared.keyspace.lock_keys([(db, k1), (db, k2)]);
    let wrong = |_| err("The specified keys must contain string values");
    let a = get_str(&mut l, db, k1).map_err(wrong)?.unwrap_or_default();
    let b = get_str(&mut l, db, k2).map_err(wrong)?.unwrap_or_default();
    drop(l);
    let (mut get_len, mut get_idx, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        if is(a, "idx") {
            get_idx = true;
        } else if is(a, "len") {
            get_len = true;
        } else if is(a, "withmatchlen") {
            with_len = true;
        } else if is(a, "minmatchlen") && j + 1 < args.len() {
            min_len = int(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if get_idx && get_len {
        return Err(err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let too_big = lcs::table_bytes(a.len(), b.len()).is_none_or(|n| n > ctx.shared.max_bulk());
    if too_big {
        return Err(err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let r = lcs::lcs(&a, &b);
    if get_idx {
        let ms = lcs::matches(&r, min_len as usize);
        ctx.out.map(2);
        ctx.out.bulk(b"matches");
        ctx.out.array(ms.len());
        for m in &ms {
            ctx.out.array(if with_len { 3 } else { 2 });
            ctx.out.array(2);
            ctx.out.int(m.a.0 as i64);
            ctx.out.int(m.a.1 as i64);
            ctx.out.array(2);
            ctx.out.int(m.b.0 as i64);
            ctx.out.int(m.b.1 as i64);
            if with_len {
                ctx.out.int(m.len as i64);
            }
        }
        ctx.out.bulk(b"len");
        ctx.out.int(r.len as i64);
    } else if get_len {
        ctx.out.int(r.len as i64);
    } else {
        ctx.out.bulk(&r.string);
    }
    Ok(())
}
