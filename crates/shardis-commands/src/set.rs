//! Set commands: SADD, SREM, membership, random members, SMOVE, the algebra
//! (SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD) and SSCAN.

use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify::{self, Class};
use crate::util::{int, is};
use shardis_keyspace::set::{Elem, Set};
use shardis_keyspace::{Locked, Value};
use shardis_protocol::{Args, ReplyWriter};
use std::collections::HashMap;

/// The set at `key`: `Ok(None)` when missing, WRONGTYPE for other types.
fn get_set<'l>(
    l: &'l mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'l mut Set>, CmdError> {
    match l.get(db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn write_elem(out: &mut ReplyWriter, e: Elem<'_>) {
    match e {
        Elem::Int(n) => out.bulk_int(n),
        Elem::Bytes(b) => out.bulk(b),
    }
}

/// A whole set as a RESP3 set (`~`), which is how Redis 7.0 answers SMEMBERS and the algebra.
fn write_set(out: &mut ReplyWriter, s: &Set) {
    out.set(s.len());
    for e in s.iter() {
        write_elem(out, e);
    }
}

pub fn sadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let added = match get_set(&mut l, db, key)? {
        Some(s) => args.tail(2).iter().filter(|m| s.insert(m, &lim)).count(),
        None => {
            let mut s = Set::new();
            let n = args.tail(2).iter().filter(|m| s.insert(m, &lim)).count();
            l.set(db, key, Value::Set(Box::new(s)), None, false);
            n
        }
    };
    if added > 0 {
        notify::event(ctx, Class::Set, "sadd", db, key);
    }
    drop(l);
    ctx.dirty(added as u64);
    ctx.out.int(added as i64);
    Ok(())
}

pub fn srem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let mut removed = 0;
    if let Some(s) = get_set(&mut l, db, key)? {
        for m in args.tail(2).iter() {
            if s.remove(m) {
                removed += 1;
                if s.is_empty() {
                    break;
                }
            }
        }
        let emptied = s.is_empty();
        if removed > 0 {
            notify::event(ctx, Class::Set, "srem", db, key);
        }
        if emptied {
            l.remove(db, key);
            notify::event(ctx, Class::Generic, "del", db, key);
        }
    }
    drop(l);
    ctx.dirty(removed);
    ctx.out.int(removed as i64);
    Ok(())
}

pub fn scard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = get_set(&mut l, db, key)?.map_or(0, |s| s.len());
    drop(l);
    ctx.hit(n > 0);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn sismember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let s = get_set(&mut l, db, key)?;
    let found = s.is_some();
    let yes = s.is_some_and(|s| s.contains(args.get(2)));
    drop(l);
    ctx.hit(found);
    ctx.out.int(yes as i64);
    Ok(())
}

pub fn smismember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let s = get_set(&mut l, db, key)?;
    let found = s.is_some();
    let members = args.tail(2);
    let hits: Vec<bool> = match s {
        Some(s) => members.iter().map(|m| s.contains(m)).collect(),
        None => vec![false; members.len()],
    };
    drop(l);
    ctx.hit(found);
    ctx.out.array(hits.len());
    for h in hits {
        ctx.out.int(h as i64);
    }
    Ok(())
}

pub fn smove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, src, dst, m) = (ctx.db(), args.get(1), args.get(2), args.get(3));
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_keys([(db, src), (db, dst)]);
    // Redis answers 0 for a missing source before looking at the destination's type.
    if l.get(db, src).is_none() {
        drop(l);
        ctx.out.int(0);
        return Ok(());
    }
    get_set(&mut l, db, src)?;
    get_set(&mut l, db, dst)?;
    let s = get_set(&mut l, db, src)?.expect("checked above");
    let moved = if src == dst {
        s.contains(m)
    } else if s.remove(m) {
        let emptied = s.is_empty();
        notify::event(ctx, Class::Set, "srem", db, src);
        if emptied {
            l.remove(db, src);
            notify::event(ctx, Class::Generic, "del", db, src);
        }
        let added = match get_set(&mut l, db, dst)? {
            Some(d) => d.insert(m, &lim),
            None => {
                let mut d = Set::new();
                d.insert(m, &lim);
                l.set(db, dst, Value::Set(Box::new(d)), None, false);
                true
            }
        };
        if added {
            notify::event(ctx, Class::Set, "sadd", db, dst);
        }
        ctx.dirty(1);
        true
    } else {
        false
    };
    drop(l);
    ctx.out.int(moved as i64);
    Ok(())
}

/// Redis's `getPositiveLongFromObjectOrReply` for SPOP's count.
fn spop_count(arg: &[u8]) -> Result<usize, CmdError> {
    match crate::num::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(err("value is out of range, must be positive")),
    }
}

pub fn spop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (db, key) = (ctx.db(), args.get(1));
    if args.len() == 3 {
        return spop_with_count(ctx, key, spop_count(args.get(2))?);
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let popped = match get_set(&mut l, db, key)? {
        Some(s) => {
            let m = s.pop_random();
            // Logged as the member it took: a replay must remove the same one.
            if let Some(m) = &m {
                crate::aof::rewrite(&[b"SREM", key, m]);
            }
            let emptied = s.is_empty();
            notify::event(ctx, Class::Set, "spop", db, key);
            if emptied {
                l.remove(db, key);
                notify::event(ctx, Class::Generic, "del", db, key);
            }
            m
        }
        None => None,
    };
    drop(l);
    match popped {
        Some(m) => {
            ctx.dirty(1);
            ctx.out.bulk(&m);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// What SPOP with a count hands back: the members, or the whole removed set.
enum Popped {
    Some(Vec<Vec<u8>>),
    All(Box<Set>),
}

fn spop_with_count(ctx: &mut Ctx<'_>, key: &[u8], count: usize) -> CmdResult {
    let db = ctx.db();
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let Some(s) = get_set(&mut l, db, key)? else {
        drop(l);
        ctx.out.set(0);
        return Ok(());
    };
    let size = s.len();
    if count > 0 {
        notify::event(ctx, Class::Set, "spop", db, key);
    }
    let popped = if count == 0 {
        crate::aof::skip();
        Popped::Some(Vec::new())
    } else if count >= size {
        crate::aof::rewrite(&[b"DEL", key]);
        let e = l.remove(db, key).expect("present");
        notify::event(ctx, Class::Generic, "del", db, key);
        match e.value {
            Value::Set(s) => Popped::All(s),
            _ => unreachable!("checked type"),
        }
    } else if (size - count) * 5 > count {
        Popped::Some((0..count).filter_map(|_| s.pop_random()).collect())
    } else {
        // Most members go: like Redis, move the few that stay into a new set (which may
        // be an intset again) and answer with what is left of the old one.
        let mut keep = Set::new();
        for _ in 0..size - count {
            let m = s.pop_random().expect("nonempty");
            keep.insert(&m, &lim);
        }
        let old = std::mem::replace(s, keep);
        Popped::All(Box::new(old))
    };
    // Logged as the members it took (not for DEL, already rewritten above).
    if crate::aof::logging() && count < size {
        let members: Vec<Vec<u8>> = match &popped {
            Popped::Some(v) => v.clone(),
            Popped::All(s) => s.iter().map(|e| e.to_vec()).collect(),
        };
        let mut rec: Vec<&[u8]> = vec![b"SREM", key];
        rec.extend(members.iter().map(|m| &m[..]));
        crate::aof::rewrite(&rec);
    }
    drop(l);
    match popped {
        Popped::Some(v) => {
            ctx.dirty(v.len() as u64);
            ctx.out.set(v.len());
            for m in v {
                ctx.out.bulk(&m);
            }
        }
        Popped::All(s) => {
            ctx.dirty(s.len() as u64);
            write_set(&mut *ctx.out, &s);
        }
    }
    Ok(())
}

pub fn srandmember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (db, key) = (ctx.db(), args.get(1));
    let count = if args.len() == 3 {
        let n = int(args.get(2))?;
        if n == i64::MIN {
            return Err(err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        Some(n)
    } else {
        None
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let s = get_set(&mut l, db, key)?;
    let found = s.is_some();
    let picked: Option<Vec<Vec<u8>>> = match (s, count) {
        (None, _) => None,
        (Some(s), None) => s.random().map(|e| vec![e.to_vec()]),
        (Some(s), Some(n)) => Some(random_members(s, n)),
    };
    drop(l);
    ctx.hit(found);
    match (picked, count) {
        (None, None) => ctx.out.null(),
        (Some(v), None) => ctx.out.bulk(&v[0]),
        (picked, Some(_)) => {
            let v = picked.unwrap_or_default();
            ctx.out.array(v.len());
            for m in v {
                ctx.out.bulk(&m);
            }
        }
    }
    Ok(())
}

/// SRANDMEMBER's members: with repetition for a negative count, distinct otherwise.
fn random_members(s: &Set, n: i64) -> Vec<Vec<u8>> {
    let size = s.len();
    // Small sets are indexed once; large ones (table or intset) index in constant time.
    let small: Vec<Elem<'_>> = if size <= 1024 {
        s.iter().collect()
    } else {
        Vec::new()
    };
    let at = |i: usize| -> Vec<u8> {
        if small.is_empty() {
            s.nth(i).expect("in range").to_vec()
        } else {
            small[i].to_vec()
        }
    };
    if n < 0 {
        let n = n.unsigned_abs() as usize;
        return (0..n).map(|_| at(fastrand::usize(..size))).collect();
    }
    let n = n as usize;
    if n >= size {
        return s.iter().map(|e| e.to_vec()).collect();
    }
    if n * 3 > size {
        let mut idx: Vec<usize> = (0..size).collect();
        fastrand::shuffle(&mut idx);
        idx.truncate(n);
        return idx.into_iter().map(at).collect();
    }
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let i = fastrand::usize(..size);
        if seen.insert(i) {
            out.push(at(i));
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The source sets of an algebra command, taken out of their entries for the operation so
/// several can be read at once under one lock, and put back afterwards. A key named twice
/// is taken once.
struct Sources<'k> {
    keys: Vec<&'k [u8]>,
    taken: Vec<Option<Set>>,
    /// For each argument position, its index in `keys`.
    slot: Vec<usize>,
}

impl<'k> Sources<'k> {
    /// Type-checks every source (a missing key is an empty set, but a wrong type is still
    /// an error, as in Redis) and takes them. `Ok(None)` means an intersection with a missing
    /// key.
    fn take(
        l: &mut Locked<'_>,
        ctx: &Ctx<'_>,
        db: usize,
        args: &[&'k [u8]],
        op: Op,
    ) -> Result<Option<Sources<'k>>, CmdError> {
        let mut missing = false;
        for k in args {
            let present = get_set(l, db, k)?.is_some();
            ctx.hit(present);
            missing |= !present;
        }
        if missing && op == Op::Inter {
            return Ok(None);
        }
        let mut index: HashMap<&[u8], usize> = HashMap::new();
        let mut src = Sources {
            keys: Vec::new(),
            taken: Vec::new(),
            slot: Vec::with_capacity(args.len()),
        };
        for &k in args {
            let i = *index.entry(k).or_insert_with(|| {
                src.keys.push(k);
                let s = get_set(l, db, k).ok().flatten().map(std::mem::take);
                src.taken.push(s);
                src.keys.len() - 1
            });
            src.slot.push(i);
        }
        Ok(Some(src))
    }

    fn sets(&self) -> Vec<Option<&Set>> {
        self.slot.iter().map(|&i| self.taken[i].as_ref()).collect()
    }

    fn put_back(self, l: &mut Locked<'_>, db: usize) {
        for (k, s) in self.keys.into_iter().zip(self.taken) {
            if let (Some(s), Ok(Some(slot))) = (s, get_set(l, db, k)) {
                *slot = s;
            }
        }
    }
}

/// Computes an algebra result as a new set (an intset when it can be, as Redis's result sets
/// start as intsets). For SINTERCARD, `limit` stops counting early and no set is built.
fn compute(sets: &[Option<&Set>], op: Op, lim: &shardis_keyspace::EncodingLimits) -> Set {
    let mut out = Set::new();
    match op {
        Op::Inter => {
            let mut sets: Vec<&Set> = sets.iter().map(|s| s.expect("all present")).collect();
            sets.sort_by_key(|s| s.len());
            let (first, rest) = sets.split_first().expect("at least one key");
            for e in first.iter() {
                if rest.iter().all(|o| o.contains_elem(e)) {
                    out.insert_elem(e, lim);
                }
            }
        }
        Op::Union => {
            for s in sets.iter().flatten() {
                for e in s.iter() {
                    out.insert_elem(e, lim);
                }
            }
        }
        Op::Diff => {
            if let Some(first) = sets[0] {
                let rest: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
                for e in first.iter() {
                    if !rest.iter().any(|o| o.contains_elem(e)) {
                        out.insert_elem(e, lim);
                    }
                }
            }
        }
    }
    out
}

fn algebra(ctx: &mut Ctx<'_>, keys: Args<'_>, dst: Option<&[u8]>, op: Op) -> CmdResult {
    let db = ctx.db();
    let lim = ctx.shared.encoding_limits();
    let srcs: Vec<&[u8]> = keys.iter().collect();
    let all = srcs.iter().copied().chain(dst).map(|k| (db, k));
    let mut l = ctx.shared.keyspace.lock_keys(all);
    let result = match Sources::take(&mut l, ctx, db, &srcs, op)? {
        None => Set::new(),
        Some(src) => {
            let r = compute(&src.sets(), op, &lim);
            src.put_back(&mut l, db);
            r
        }
    };
    let Some(dst) = dst else {
        drop(l);
        write_set(&mut *ctx.out, &result);
        return Ok(());
    };
    let n = result.len();
    let old = if n == 0 {
        let old = l.remove(db, dst).map(|e| e.value);
        if old.is_some() {
            notify::event_late(ctx, Class::Generic, "del", db, dst);
        }
        old
    } else {
        let old = l.set(db, dst, Value::Set(Box::new(result)), None, false);
        let event = match op {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        };
        notify::event_late(ctx, Class::Set, event, db, dst);
        old
    };
    drop(l);
    if n > 0 || old.is_some() {
        ctx.dirty(1);
    }
    old.into_iter()
        .for_each(shardis_keyspace::lazyfree::free_value);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn smembers(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    // A copy of the set's storage is cheaper than one allocation per member, and lets the
    // reply be rendered after the lock is released.
    let s = get_set(&mut l, db, key)?.map(|s| s.clone());
    drop(l);
    ctx.hit(s.is_some());
    match s {
        Some(s) => write_set(ctx.out, &s),
        None => ctx.out.set(0),
    }
    Ok(())
}

pub fn sinter(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(1), None, Op::Inter)
}

pub fn sinterstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(2), Some(args.get(1)), Op::Inter)
}

pub fn sunion(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(1), None, Op::Union)
}

pub fn sunionstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(2), Some(args.get(1)), Op::Union)
}

pub fn sdiff(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(1), None, Op::Diff)
}

pub fn sdiffstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    algebra(ctx, args.tail(2), Some(args.get(1)), Op::Diff)
}

pub fn sintercard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let numkeys = match crate::num::parse_i64(args.get(1)) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(err("numkeys should be greater than 0")),
    };
    if numkeys > args.len() - 2 {
        return Err(err("Number of keys can't be greater than number of args"));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if is(args.get(j), "limit") && j + 1 < args.len() {
            limit = match crate::num::parse_i64(args.get(j + 1)) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let db = ctx.db();
    let srcs: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    let mut l = ctx.shared.keyspace.lock_keys(srcs.iter().map(|k| (db, *k)));
    let n = match Sources::take(&mut l, ctx, db, &srcs, Op::Inter)? {
        None => 0,
        Some(src) => {
            let mut sets: Vec<&Set> = src.sets().into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            let (first, rest) = sets.split_first().expect("at least one key");
            let mut n = 0;
            for e in first.iter() {
                if rest.iter().all(|o| o.contains_elem(e)) {
                    n += 1;
                    if n == limit {
                        break;
                    }
                }
            }
            drop(sets);
            src.put_back(&mut l, db);
            n
        }
    };
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn sscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let cursor = crate::util::scan_cursor(args.get(2))?;
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let Some(s) = get_set(&mut l, db, key)? else {
        drop(l);
        ctx.hit(false);
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    ctx.hit(true);
    let (mut pattern, mut count) = (None, 10i64);
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
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let pattern = pattern.filter(|p| *p != b"*");
    let mut found = Vec::new();
    let next = s.scan(cursor, count as usize, |e| {
        e.with_bytes(|b| {
            if pattern.is_none_or(|p| glob_match(p, b, false)) {
                found.push(b.to_vec());
            }
        })
    });
    drop(l);
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len());
    for m in found {
        ctx.out.bulk(&m);
    }
    Ok(())
}
