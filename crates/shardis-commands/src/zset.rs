//! Sorted set commands: ZADD and updates, lookups, ranges by rank/score/lex, removals, pops,
//! random members, union/intersection/difference, ZSCAN.

use crate::blocking::{block, parse_timeout, BlockOp, Waiter};
use crate::ctx::{Ctx, Shared};
use crate::error::{err, CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify::{self, Class};
use crate::num::parse_f64;
use crate::util::{int, is};
use shardis_keyspace::zset::{LexBound, ZSet};
use shardis_keyspace::{EncodingLimits, Locked, Value};
use shardis_protocol::{format_double, Args, ReplyWriter};

type Items = Vec<(Vec<u8>, f64)>;

const NAN_ERR: &str = "resulting score is not a number (NaN)";

/// The sorted set at `key`: `Ok(None)` when missing, WRONGTYPE for other types.
fn zset_mut<'l>(
    l: &'l mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'l mut ZSet>, CmdError> {
    match l.get(db, key).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Removes `key` if the sorted set there was emptied; true if it did.
fn drop_if_empty(l: &mut Locked<'_>, db: usize, key: &[u8]) -> bool {
    if matches!(l.get(db, key).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty()) {
        l.remove(db, key);
        return true;
    }
    false
}

/// The event of a pop from the low or high end.
fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// Elements, as an array of members, or with scores (flat in RESP2, pairs in RESP3).
fn reply_items(out: &mut ReplyWriter, items: &[(Vec<u8>, f64)], withscores: bool) {
    if !withscores {
        out.array(items.len());
        for (m, _) in items {
            out.bulk(m);
        }
    } else if out.resp3 {
        out.array(items.len());
        for (m, s) in items {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else {
        out.array(items.len() * 2);
        for (m, s) in items {
            out.bulk(m);
            out.double(*s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Intervals

/// C `strtod` as `zslParseRange` uses it: leading whitespace skipped, the empty string is 0,
/// overflow gives infinity, NaN refused.
fn strtod(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let t = match s.iter().position(|c| !matches!(c, b' ' | b'\t'..=b'\r')) {
        Some(i) => &s[i..],
        None => return None,
    };
    parse_f64(t).or_else(|| {
        std::str::from_utf8(t)
            .ok()?
            .parse::<f64>()
            .ok()
            .filter(|v| !v.is_nan())
    })
}

#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn score_bound(a: &[u8]) -> Option<(f64, bool)> {
    match a.first() {
        Some(b'(') => strtod(&a[1..]).map(|v| (v, true)),
        _ => strtod(a).map(|v| (v, false)),
    }
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        }),
        _ => Err(err("min or max is not a float")),
    }
}

fn lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first()? {
        b'+' => (a.len() == 1).then_some(LexBound::PosInf),
        b'-' => (a.len() == 1).then_some(LexBound::NegInf),
        b'(' => Some(LexBound::Excl(a[1..].to_vec())),
        b'[' => Some(LexBound::Incl(a[1..].to_vec())),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(err("min or max not valid string range item")),
    }
}

impl ScoreRange {
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        z.score_ranks(self.min, self.minex, self.max, self.maxex)
    }
}

/// Redis's start/end normalisation for rank ranges: the (start, count) to visit.
fn rank_window(start: i64, end: i64, len: usize) -> (usize, usize) {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    if end >= llen {
        end = llen - 1;
    }
    (start as usize, (end - start + 1) as usize)
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// What one `zadd_one` did.
enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Present and kept as it was (same score, or the flags said no).
    Same(f64),
    Nop,
}

/// Redis's `zsetAdd`.
fn zadd_one(
    z: &mut ZSet,
    m: &[u8],
    score: f64,
    f: AddFlags,
    lim: &EncodingLimits,
) -> Result<AddOutcome, CmdError> {
    match z.score(m) {
        Some(cur) => {
            if f.nx {
                return Ok(AddOutcome::Nop);
            }
            let mut score = score;
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return Err(err(NAN_ERR));
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return Ok(AddOutcome::Nop);
            }
            if score != cur {
                z.insert(m, score, lim);
                Ok(AddOutcome::Updated(score))
            } else {
                Ok(AddOutcome::Same(score))
            }
        }
        None if !f.xx => {
            z.insert(m, score, lim);
            Ok(AddOutcome::Added(score))
        }
        None => Ok(AddOutcome::Nop),
    }
}

/// The shared core of ZADD and ZINCRBY: (added, updated, last processed score).
fn zadd_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    pairs: &[(f64, &[u8])],
    f: AddFlags,
) -> Result<(i64, i64, Option<f64>), CmdError> {
    let db = ctx.db();
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    if zset_mut(&mut l, db, key)?.is_none() {
        if f.xx {
            return Ok((0, 0, None));
        }
        l.set(db, key, Value::ZSet(Box::new(ZSet::new())), None, false);
    }
    let z = zset_mut(&mut l, db, key)?.expect("just created");
    let (mut added, mut updated, mut last) = (0, 0, None);
    let mut res = Ok(());
    for &(score, m) in pairs {
        match zadd_one(z, m, score, f, &lim) {
            Ok(AddOutcome::Added(s)) => {
                added += 1;
                last = Some(s);
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                last = Some(s);
            }
            Ok(AddOutcome::Same(s)) => last = Some(s),
            Ok(AddOutcome::Nop) => {}
            Err(e) => {
                res = Err(e);
                break;
            }
        }
    }
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        notify::event_late(ctx, Class::Zset, event, db, key);
    }
    drop_if_empty(&mut l, db, key);
    drop(l);
    ctx.dirty((added + updated) as u64);
    res.map(|_| (added, updated, last))
}

pub fn zadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut f = AddFlags::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements % 2 == 1 || elements == 0 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(err("XX and NX options at the same time are not compatible"));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 2 {
        return Err(err("INCR option supports a single increment-element pair"));
    }
    let pairs = (i..args.len())
        .step_by(2)
        .map(|j| Ok((float(args.get(j))?, args.get(j + 1))))
        .collect::<Result<Vec<_>, CmdError>>()?;
    let (added, updated, last) = zadd_generic(ctx, args.get(1), &pairs, f)?;
    if f.incr {
        match last {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

pub fn zincrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let incr = float(args.get(2))?;
    let f = AddFlags {
        incr: true,
        ..Default::default()
    };
    let (_, _, last) = zadd_generic(ctx, args.get(1), &[(incr, args.get(3))], f)?;
    match last {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lookups

pub fn zcard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = zset_mut(&mut l, db, key)?.map_or(0, |z| z.len());
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let s = zset_mut(&mut l, db, key)?.and_then(|z| z.score(args.get(2)));
    drop(l);
    match s {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn zmscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let scores: Vec<Option<f64>> = match zset_mut(&mut l, db, key)? {
        Some(z) => args.iter().skip(2).map(|m| z.score(m)).collect(),
        None => vec![None; args.len() - 2],
    };
    drop(l);
    ctx.out.array(scores.len());
    for s in scores {
        match s {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let withscore = if args.len() > 3 {
        if args.len() > 4 || !is(args.get(3), "withscore") {
            return Err(CmdError::Syntax);
        }
        true
    } else {
        false
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let r = zset_mut(&mut l, db, key)?.and_then(|z| z.rank(args.get(2), rev));
    drop(l);
    match (r, withscore) {
        (Some((r, _)), false) => ctx.out.int(r as i64),
        (Some((r, s)), true) => {
            ctx.out.array(2);
            ctx.out.int(r as i64);
            ctx.out.double(s);
        }
        (None, false) => ctx.out.null(),
        (None, true) => ctx.out.null_array(),
    }
    Ok(())
}

pub fn zrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ctx, args, false)
}

pub fn zrevrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ctx, args, true)
}

pub fn zcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let range = score_range(args.get(2), args.get(3))?;
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = zset_mut(&mut l, db, key)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zlexcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = lex_range(args.get(2), args.get(3))?;
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = zset_mut(&mut l, db, key)?.map_or(0, |z| {
        let (lo, hi) = z.lex_ranks(&min, &max);
        hi - lo
    });
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Ranges

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

enum Interval {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexBound, LexBound),
}

struct RangeSpec {
    interval: Interval,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// Redis's `zrangeGenericCommand` argument parsing; `at` is the source key's index.
fn parse_range(
    args: &Args<'_>,
    at: usize,
    store: bool,
    mut kind: Kind,
    rev: Option<bool>,
) -> Result<RangeSpec, CmdError> {
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut dir = rev;
    let mut j = at + 3;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = int(args.get(j + 1))?;
            limit = int(args.get(j + 2))?;
            j += 2;
        } else if dir.is_none() && is(a, "rev") {
            dir = Some(true);
        } else if kind == Kind::Auto && is(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && is(a, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = dir.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut a, mut b) = (args.get(at + 1), args.get(at + 2));
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    let interval = match kind {
        Kind::Score => Interval::Score(score_range(a, b)?),
        Kind::Lex => {
            let (min, max) = lex_range(a, b)?;
            Interval::Lex(min, max)
        }
        _ => Interval::Rank(int(a)?, int(b)?),
    };
    Ok(RangeSpec {
        interval,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// The elements a range selects, in reply order.
fn range_items(z: &ZSet, spec: &RangeSpec) -> Items {
    let len = z.len();
    let (lo, hi) = match &spec.interval {
        Interval::Rank(s, e) => {
            let (start, n) = rank_window(*s, *e, len);
            return z.collect(start, n, spec.rev);
        }
        Interval::Score(r) => r.ranks(z),
        Interval::Lex(min, max) => z.lex_ranks(min, max),
    };
    if spec.offset < 0 {
        return Vec::new();
    }
    let n = hi - lo;
    let offset = (spec.offset as u64).min(n as u64) as usize;
    let mut count = n - offset;
    if spec.limit >= 0 {
        count = count.min(spec.limit as u64 as usize);
    }
    let start = if spec.rev { len - hi } else { lo } + offset;
    z.collect(start, count, spec.rev)
}

fn range_generic(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind, rev: Option<bool>) -> CmdResult {
    let spec = parse_range(&args, 1, false, kind, rev)?;
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let items = zset_mut(&mut l, db, key)?.map_or_else(Vec::new, |z| range_items(z, &spec));
    drop(l);
    reply_items(ctx.out, &items, spec.withscores);
    Ok(())
}

pub fn zrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Auto, None)
}

pub fn zrevrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Rank, Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Score, Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Score, Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Lex, Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, Kind::Lex, Some(true))
}

pub fn zrangestore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let spec = parse_range(&args, 2, true, Kind::Auto, None)?;
    let (db, dst, src) = (ctx.db(), args.get(1), args.get(2));
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx.shared.keyspace.lock_keys([(db, dst), (db, src)]);
    let items = match zset_mut(&mut l, db, src)? {
        Some(z) => range_items(z, &spec),
        None => Vec::new(),
    };
    let n = items.len();
    let old = if n > 0 {
        // Starts packed and converts as members arrive, which is where Redis 7.0 ends up
        // for every kind of range.
        let mut z = ZSet::new();
        for (m, s) in &items {
            z.insert(m, *s, &lim);
        }
        let old = l.set(db, dst, Value::ZSet(Box::new(z)), None, false);
        notify::event_late(ctx, Class::Zset, "zrangestore", db, dst);
        old
    } else {
        let old = l.remove(db, dst).map(|e| e.value);
        if old.is_some() {
            notify::event_late(ctx, Class::Generic, "del", db, dst);
        }
        old
    };
    let changed = n > 0 || old.is_some();
    drop(l);
    drop(old);
    if changed {
        ctx.dirty(1);
    }
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Removals

pub fn zrem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = match zset_mut(&mut l, db, key)? {
        Some(z) => args.iter().skip(2).filter(|m| z.remove(m)).count(),
        None => 0,
    };
    if n > 0 {
        notify::event(ctx, Class::Zset, "zrem", db, key);
    }
    if drop_if_empty(&mut l, db, key) {
        notify::event(ctx, Class::Generic, "del", db, key);
    }
    drop(l);
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

/// Removes the forward rank window chosen by `pick` and answers how many went.
fn remrange_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    event: &'static str,
    pick: impl FnOnce(&ZSet) -> (usize, usize),
) -> CmdResult {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = match zset_mut(&mut l, db, key)? {
        Some(z) => {
            let (start, n) = pick(z);
            z.remove_range(start, n);
            n
        }
        None => 0,
    };
    if n > 0 {
        notify::event(ctx, Class::Zset, event, db, key);
    }
    let removed = if n > 0 && zset_mut(&mut l, db, key)?.is_some_and(|z| z.is_empty()) {
        let e = l.remove(db, key);
        notify::event(ctx, Class::Generic, "del", db, key);
        e
    } else {
        None
    };
    drop(l);
    drop(removed);
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn zremrangebyrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (start, end) = (int(args.get(2))?, int(args.get(3))?);
    remrange_generic(ctx, args.get(1), "zremrangebyrank", |z| {
        rank_window(start, end, z.len())
    })
}

pub fn zremrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = score_range(args.get(2), args.get(3))?;
    remrange_generic(ctx, args.get(1), "zremrangebyscore", |z| {
        let (lo, hi) = r.ranks(z);
        (lo, hi - lo)
    })
}

pub fn zremrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (min, max) = lex_range(args.get(2), args.get(3))?;
    remrange_generic(ctx, args.get(1), "zremrangebylex", |z| {
        let (lo, hi) = z.lex_ranks(&min, &max);
        (lo, hi - lo)
    })
}

// ---------------------------------------------------------------------------------------------
// Pops

/// Pops up to `count` lowest (or highest) elements of `z`, in pop order.
fn pop_from(z: &mut ZSet, count: usize, max: bool) -> Items {
    let n = count.min(z.len());
    let items = z.collect(0, n, max);
    let start = if max { z.len() - n } else { 0 };
    z.remove_range(start, n);
    items
}

/// Pops from the first of `keys` holding a non-empty sorted set: (key index, elements).
fn pop_keys(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    count: usize,
    max: bool,
) -> Result<Option<(usize, Items)>, CmdError> {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_keys(keys.iter().map(|k| (db, *k)));
    for (i, key) in keys.iter().enumerate() {
        let Some(z) = zset_mut(&mut l, db, key)? else {
            continue;
        };
        let items = pop_from(z, count, max);
        let emptied = z.is_empty();
        // Redis notifies the pop in the middle of its reply (which a self-subscribed RESP3
        // client can't get here: it comes first) and the deletion after it.
        if !items.is_empty() {
            notify::event(ctx, Class::Zset, pop_event(max), db, key);
        }
        let removed = if emptied { l.remove(db, key) } else { None };
        if emptied {
            notify::event_late(ctx, Class::Generic, "del", db, key);
        }
        drop(l);
        drop(removed);
        ctx.dirty(items.len() as u64);
        return Ok(Some((i, items)));
    }
    Ok(None)
}

fn zpop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 {
        match crate::num::parse_i64(args.get(2)) {
            Some(c) if c >= 0 => Some(c as usize),
            _ => return Err(err("value is out of range, must be positive")),
        }
    } else {
        None
    };
    if count == Some(0) {
        // Redis still type-checks the key before answering an empty pop.
        let (db, key) = (ctx.db(), args.get(1));
        zset_mut(&mut ctx.shared.keyspace.lock_key(db, key), db, key)?;
        ctx.out.array(0);
        return Ok(());
    }
    let items = pop_keys(ctx, &[args.get(1)], count.unwrap_or(1), max)?
        .map_or_else(Vec::new, |(_, items)| items);
    if count.is_none() {
        // Without COUNT the reply is one flat pair even in RESP3.
        ctx.out.array(items.len() * 2);
        for (m, s) in &items {
            ctx.out.bulk(m);
            ctx.out.double(*s);
        }
    } else {
        reply_items(ctx.out, &items, true);
    }
    Ok(())
}

pub fn zpopmin(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zpop_generic(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zpop_generic(ctx, args, true)
}

/// `getRangeLongFromObjectOrReply(1, LONG_MAX)` with a custom message for every failure.
fn positive(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    match crate::num::parse_i64(arg) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(err(msg)),
    }
}

/// ZMPOP/BZMPOP arguments: the keys, MAX rather than MIN, and the COUNT if given.
struct MPop<'a> {
    keys: Vec<&'a [u8]>,
    max: bool,
    count: Option<i64>,
}

/// ZMPOP/BZMPOP arguments from `numkeys` on, with Redis's checks.
fn parse_mpop<'a>(args: &Args<'a>, numkeys_at: usize) -> Result<MPop<'a>, CmdError> {
    let numkeys = positive(args.get(numkeys_at), "numkeys should be greater than 0")?;
    let where_idx = (numkeys as u64).saturating_add(numkeys_at as u64 + 1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let max = match args.get(where_idx) {
        a if is(a, "min") => false,
        a if is(a, "max") => true,
        _ => return Err(CmdError::Syntax),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(args.get(j), "count") && j + 1 < args.len() {
            count = Some(positive(args.get(j + 1), "count should be greater than 0")?);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys: Vec<&[u8]> = (numkeys_at + 1..where_idx).map(|i| args.get(i)).collect();
    Ok(MPop { keys, max, count })
}

/// `[key, [[member, score], …]]`, the reply of ZMPOP and BZMPOP.
fn write_mpop(out: &mut ReplyWriter, key: &[u8], items: &Items) {
    out.array(2);
    out.bulk(key);
    out.array(items.len());
    for (m, s) in items {
        out.array(2);
        out.bulk(m);
        out.double(*s);
    }
}

/// `[key, member, score]`, the reply of BZPOPMIN and BZPOPMAX.
fn write_bzpop(out: &mut ReplyWriter, key: &[u8], items: &Items) {
    let (m, s) = &items[0];
    out.array(3);
    out.bulk(key);
    out.bulk(m);
    out.double(*s);
}

pub fn zmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let MPop { keys, max, count } = parse_mpop(&args, 1)?;
    match pop_keys(ctx, &keys, count.unwrap_or(1) as usize, max)? {
        Some((i, items)) => write_mpop(ctx.out, keys[i], &items),
        None => ctx.out.null_array(),
    }
    Ok(())
}

fn bzpop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, max: bool) -> CmdResult {
    let timeout = parse_timeout(args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    match pop_keys(ctx, &keys, 1, max)? {
        Some((i, items)) => write_bzpop(ctx.out, keys[i], &items),
        None => block(ctx, &keys, BlockOp::ZPop { max, count: None }, timeout),
    }
    Ok(())
}

pub fn bzpopmin(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bzpop_generic(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bzpop_generic(ctx, args, true)
}

pub fn bzmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let MPop { keys, max, count } = parse_mpop(&args, 2)?;
    let timeout = parse_timeout(args.get(1))?;
    let count = count.unwrap_or(1) as usize;
    match pop_keys(ctx, &keys, count, max)? {
        Some((i, items)) => write_mpop(ctx.out, keys[i], &items),
        None => block(
            ctx,
            &keys,
            BlockOp::ZPop {
                max,
                count: Some(count),
            },
            timeout,
        ),
    }
    Ok(())
}

/// Serves a client blocked in BZPOPMIN/BZPOPMAX/BZMPOP from `key` if it holds a non-empty
/// sorted set; returns the reply in the client's protocol.
pub(crate) fn serve_waiter(shared: &Shared, w: &Waiter, key: &[u8]) -> Option<Vec<u8>> {
    let BlockOp::ZPop { max, count } = w.op else {
        return None;
    };
    let db = w.db;
    let mut l = shared.keyspace.lock_key(db, key);
    let Some(z) = zset_mut(&mut l, db, key).ok().flatten() else {
        // Nothing to pop: no record of a pop.
        crate::aof::skip();
        return None;
    };
    let items = pop_from(z, count.unwrap_or(1), max);
    let emptied = z.is_empty();
    notify::event_detached(shared, Class::Zset, pop_event(max), db, key);
    let removed = if emptied { l.remove(db, key) } else { None };
    if emptied {
        notify::event_detached(shared, Class::Generic, "del", db, key);
    }
    drop(l);
    removed
        .into_iter()
        .for_each(shardis_keyspace::lazyfree::free_entry);
    let mut out = ReplyWriter::new(w.resp3);
    match count {
        None => write_bzpop(&mut out, key, &items),
        Some(_) => write_mpop(&mut out, key, &items),
    }
    shared.stats(|s| {
        s.dirty
            .fetch_add(items.len() as u64, std::sync::atomic::Ordering::Relaxed)
    });
    Some(out.out)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

pub fn zrandmember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    if args.len() == 2 {
        let mut l = ctx.shared.keyspace.lock_key(db, key);
        let m = zset_mut(&mut l, db, key)?
            .filter(|z| !z.is_empty())
            .map(|z| z.get(fastrand::usize(..z.len())).0.to_vec());
        drop(l);
        match m {
            Some(m) => ctx.out.bulk(&m),
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
    let withscores = match args.len() {
        3 => false,
        4 if is(args.get(3), "withscores") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(err("value is out of range"));
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let items = match zset_mut(&mut l, db, key)? {
        None => Vec::new(),
        Some(z) if z.is_empty() || count == 0 => Vec::new(),
        Some(z) => {
            let len = z.len();
            if count < 0 {
                (0..count.unsigned_abs())
                    .map(|_| {
                        let (m, s) = z.get(fastrand::usize(..len));
                        (m.to_vec(), s)
                    })
                    .collect()
            } else if count as u64 >= len as u64 {
                z.iter()
            } else {
                // Distinct ranks: a partial Fisher-Yates over the rank space.
                let n = count as usize;
                let mut ranks: Vec<usize> = if n * 3 > len {
                    let mut all: Vec<usize> = (0..len).collect();
                    fastrand::shuffle(&mut all);
                    all.truncate(n);
                    all
                } else {
                    let mut seen = std::collections::HashSet::with_capacity(n);
                    while seen.len() < n {
                        seen.insert(fastrand::usize(..len));
                    }
                    seen.into_iter().collect()
                };
                ranks.truncate(n);
                ranks
                    .into_iter()
                    .map(|r| {
                        let (m, s) = z.get(r);
                        (m.to_vec(), s)
                    })
                    .collect()
            }
        }
    };
    drop(l);
    reply_items(ctx.out, &items, withscores);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Union, intersection, difference

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(a: Aggregate, acc: &mut f64, v: f64) {
    match a {
        Aggregate::Sum => {
            *acc += v;
            // inf + -inf: Redis keeps the sum defined.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        // Written as Redis compares, so a NaN operand keeps the accumulator.
        Aggregate::Min => {
            if v < *acc {
                *acc = v
            }
        }
        Aggregate::Max => {
            if v > *acc {
                *acc = v
            }
        }
    }
}

struct OpArgs<'a> {
    keys: Vec<&'a [u8]>,
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Redis's `zunionInterDiffGenericCommand` key parsing; `numkeys_at` is numkeys' index.
fn parse_op<'a>(args: &Args<'a>, numkeys_at: usize, name: &str) -> Result<OpArgs<'a>, CmdError> {
    let setnum = int(args.get(numkeys_at))?;
    if setnum < 1 {
        return Err(err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (args.len() - numkeys_at - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (0..setnum).map(|i| args.get(numkeys_at + 1 + i)).collect();
    Ok(OpArgs {
        keys,
        weights: vec![1.0; setnum],
        agg: Aggregate::Sum,
        withscores: false,
        limit: 0,
    })
}

/// Parses the options after the keys (done after the keys' type check, as Redis does).
fn parse_op_options(
    args: &Args<'_>,
    from: usize,
    o: &mut OpArgs<'_>,
    op: SetOp,
    store: bool,
    card_only: bool,
) -> Result<(), CmdError> {
    let setnum = o.keys.len();
    let mut j = from;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args.get(j);
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a, "weights") {
            for i in 0..setnum {
                o.weights[i] = parse_f64(args.get(j + 1 + i))
                    .ok_or_else(|| err("weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = args.get(j + 1);
            o.agg = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !card_only && is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            o.limit = match crate::num::parse_i64(args.get(j + 1)) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(())
}

/// One input of a set operation: a sorted set, or a plain set whose members score 1.
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a shardis_keyspace::set::Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.range(0, z.len(), false, f),
            Src::S(s) => {
                for e in s.iter() {
                    e.with_bytes(|b| f(b, 1.0));
                }
            }
        }
    }
}

/// Computes the operation over the locked inputs; the result is unordered.
fn compute_op(l: &mut Locked<'_>, db: usize, o: &OpArgs<'_>, op: SetOp) -> Items {
    // Inputs are read one at a time through the lock guard; owned copies of the keys'
    // values are avoided by working from each borrowed value in turn.
    let lens: Vec<usize> = o
        .keys
        .iter()
        .map(|k| with_src(l, db, k, |s| s.len()))
        .collect();
    let weighted = |v: f64, w: f64| {
        let x = v * w;
        if x.is_nan() {
            0.0
        } else {
            x
        }
    };
    match op {
        SetOp::Union => {
            let mut order: Vec<usize> = (0..o.keys.len()).collect();
            order.sort_by_key(|&i| lens[i]);
            let mut acc: std::collections::HashMap<Vec<u8>, f64, foldhash::fast::RandomState> =
                Default::default();
            for &i in &order {
                with_src(l, db, o.keys[i], |s| {
                    s.for_each(|m, v| {
                        let v = weighted(v, o.weights[i]);
                        match acc.get_mut(m) {
                            Some(a) => aggregate(o.agg, a, v),
                            None => {
                                acc.insert(m.to_vec(), v);
                            }
                        }
                    })
                });
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            let mut order: Vec<usize> = (0..o.keys.len()).collect();
            order.sort_by_key(|&i| lens[i]);
            if lens[order[0]] == 0 {
                return Vec::new();
            }
            let first = order[0];
            let mut cands: Vec<(Vec<u8>, f64, bool)> = Vec::with_capacity(lens[first]);
            with_src(l, db, o.keys[first], |s| {
                s.for_each(|m, v| cands.push((m.to_vec(), weighted(v, o.weights[first]), true)))
            });
            for &i in &order[1..] {
                with_src(l, db, o.keys[i], |s| {
                    for c in cands.iter_mut().filter(|c| c.2) {
                        match s.score(&c.0) {
                            // Unlike the first input's, later products are not cleared of
                            // NaN: only the aggregate is (Redis's order of operations).
                            Some(v) => aggregate(o.agg, &mut c.1, v * o.weights[i]),
                            None => c.2 = false,
                        }
                    }
                });
            }
            cands
                .into_iter()
                .filter(|c| c.2)
                .map(|(m, s, _)| (m, s))
                .collect()
        }
        SetOp::Diff => {
            let mut cands: Vec<(Vec<u8>, f64, bool)> = Vec::with_capacity(lens[0]);
            with_src(l, db, o.keys[0], |s| {
                s.for_each(|m, v| cands.push((m.to_vec(), v, true)))
            });
            for k in &o.keys[1..] {
                if cands.iter().all(|c| !c.2) {
                    break;
                }
                with_src(l, db, k, |s| {
                    for c in cands.iter_mut().filter(|c| c.2) {
                        if s.score(&c.0).is_some() {
                            c.2 = false;
                        }
                    }
                });
            }
            cands
                .into_iter()
                .filter(|c| c.2)
                .map(|(m, s, _)| (m, s))
                .collect()
        }
    }
}

/// Runs `f` on the input at `key` (already type-checked).
fn with_src<R>(l: &mut Locked<'_>, db: usize, key: &[u8], f: impl FnOnce(&Src<'_>) -> R) -> R {
    match l.get(db, key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => f(&Src::Z(z)),
        Some(Value::Set(s)) => f(&Src::S(s)),
        _ => f(&Src::Missing),
    }
}

fn check_sources(l: &mut Locked<'_>, db: usize, keys: &[&[u8]]) -> Result<(), CmdError> {
    for k in keys {
        match l.get(db, k).map(|e| &e.value) {
            None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    Ok(())
}

fn sort_items(items: &mut Items) {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

fn op_generic(
    ctx: &mut Ctx<'_>,
    args: Args<'_>,
    op: SetOp,
    store: bool,
    card_only: bool,
    name: &str,
) -> CmdResult {
    let numkeys_at = if store { 2 } else { 1 };
    let mut o = parse_op(&args, numkeys_at, name)?;
    let db = ctx.db();
    let dst: Option<&[u8]> = store.then(|| args.get(1));
    let lim = ctx.shared.encoding_limits();
    let mut l = ctx
        .shared
        .keyspace
        .lock_keys(o.keys.iter().chain(dst.iter()).map(|k| (db, *k)));
    check_sources(&mut l, db, &o.keys)?;
    parse_op_options(
        &args,
        numkeys_at + 1 + o.keys.len(),
        &mut o,
        op,
        store,
        card_only,
    )?;
    let mut items = compute_op(&mut l, db, &o, op);
    if card_only {
        drop(l);
        let n = if o.limit > 0 {
            items.len().min(o.limit)
        } else {
            items.len()
        };
        ctx.out.int(n as i64);
        return Ok(());
    }
    if let Some(dst) = dst {
        let n = items.len();
        let old = if n > 0 {
            let z = ZSet::from_members(items, &lim);
            let old = l.set(db, dst, Value::ZSet(Box::new(z)), None, false);
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            notify::event_late(ctx, Class::Zset, event, db, dst);
            old
        } else {
            let old = l.remove(db, dst).map(|e| e.value);
            if old.is_some() {
                notify::event_late(ctx, Class::Generic, "del", db, dst);
            }
            old
        };
        let changed = n > 0 || old.is_some();
        drop(l);
        drop(old);
        if changed {
            ctx.dirty(1);
        }
        ctx.out.int(n as i64);
        return Ok(());
    }
    drop(l);
    sort_items(&mut items);
    reply_items(ctx.out, &items, o.withscores);
    Ok(())
}

pub fn zunion(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Union, false, false, "zunion")
}

pub fn zinter(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Inter, false, false, "zinter")
}

pub fn zdiff(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Diff, false, false, "zdiff")
}

pub fn zunionstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Union, true, false, "zunionstore")
}

pub fn zinterstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Inter, true, false, "zinterstore")
}

pub fn zdiffstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Diff, true, false, "zdiffstore")
}

pub fn zintercard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    op_generic(ctx, args, SetOp::Inter, false, true, "zintercard")
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

pub fn zscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::scan_cursor(args.get(2))?;
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    if zset_mut(&mut l, db, key)?.is_none() {
        drop(l);
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    }
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        let more = args.len() - j >= 2;
        if is(a, "count") && more {
            let n = int(args.get(j + 1))?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if is(a, "match") && more {
            let p = args.get(j + 1);
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let z = zset_mut(&mut l, db, key)?.expect("checked above");
    let mut items: Items = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            items.push((m.to_vec(), s));
        }
    });
    drop(l);
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(items.len() * 2);
    for (m, s) in &items {
        ctx.out.bulk(m);
        ctx.out.bulk(format_double(*s).as_bytes());
    }
    Ok(())
}
