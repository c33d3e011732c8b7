//! List commands: pushes, pops, ranges, LINSERT/LREM/LTRIM/LPOS, LMOVE and LMPOP.
//! (The blocking forms come with the blocking-client machinery.)

use crate::blocking::{block, parse_timeout, BlockOp, Waiter};
use crate::ctx::{Ctx, Shared};
use crate::error::{err, CmdError, CmdResult};
use crate::notify::{self, Class};
use crate::util::{int, is};
use shardis_keyspace::list::{End, List};
use shardis_keyspace::{Locked, StrVal, Value};
use shardis_protocol::Args;
use shardis_protocol::ReplyWriter;

/// The list at `key`: `Ok(None)` when missing, WRONGTYPE for other types.
fn get_list<'l>(
    l: &'l mut Locked<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'l mut List>, CmdError> {
    match l.get(db, key).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::List(list)) => Ok(Some(list)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The event names of a pop and a push at `at`.
fn pop_event(at: End) -> &'static str {
    match at {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

fn push_event(at: End) -> &'static str {
    match at {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

fn push_generic(ctx: &mut Ctx<'_>, args: Args<'_>, at: End, only_existing: bool) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let len = match get_list(&mut l, db, key)? {
        Some(list) => {
            args.tail(2).iter().for_each(|v| list.push(at, v));
            list.len()
        }
        None if only_existing => 0,
        None => {
            let mut list = List::default();
            args.tail(2).iter().for_each(|v| list.push(at, v));
            let n = list.len();
            l.set(db, key, Value::List(Box::new(list)), None, false);
            n
        }
    };
    if len > 0 {
        notify::event_late(ctx, Class::List, push_event(at), db, key);
    }
    drop(l);
    if len > 0 {
        ctx.dirty((args.len() - 2) as u64);
    }
    ctx.out.int(len as i64);
    Ok(())
}

pub fn lpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Left, false)
}

pub fn rpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Right, false)
}

pub fn lpushx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Left, true)
}

pub fn rpushx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, End::Right, true)
}

/// Elements popped from a list, and whether that emptied (and so deleted) it.
struct Pop {
    items: Vec<StrVal>,
    emptied: bool,
}

impl Pop {
    /// Redis's events for a pop: the pop (if anything was taken), then `del` if emptied.
    fn notify(&self, mut event: impl FnMut(Class, &'static str), at: End) {
        if !self.items.is_empty() {
            event(Class::List, pop_event(at));
        }
        if self.emptied {
            event(Class::Generic, "del");
        }
    }
}

/// Pops up to `count` elements from one end, deleting the key when it empties.
fn pop_n(
    l: &mut Locked<'_>,
    db: usize,
    key: &[u8],
    at: End,
    count: usize,
) -> Result<Option<Pop>, CmdError> {
    let Some(list) = get_list(l, db, key)? else {
        return Ok(None);
    };
    let items: Vec<StrVal> = (0..count).map_while(|_| list.pop(at)).collect();
    let emptied = list.is_empty();
    if emptied {
        l.remove(db, key);
    }
    Ok(Some(Pop { items, emptied }))
}

fn pop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, at: End) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let count = match args.len() {
        2 => None,
        _ => {
            let n = crate::num::parse_i64(args.get(2))
                .filter(|n| *n >= 0)
                .ok_or_else(|| err("value is out of range, must be positive"))?;
            Some(n as usize)
        }
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let popped = pop_n(&mut l, db, key, at, count.unwrap_or(1))?;
    if let Some(p) = &popped {
        p.notify(|c, e| notify::event_late(ctx, c, e, db, key), at);
    }
    drop(l);
    let popped = popped.map(|p| p.items);
    match (popped, count) {
        (None, None) => ctx.out.null(),
        (None, Some(_)) => ctx.out.null_array(),
        (Some(items), None) => {
            ctx.dirty(1);
            ctx.out.bulk(&items[0]);
        }
        (Some(items), Some(_)) => {
            ctx.dirty(items.len() as u64);
            ctx.out.array(items.len());
            items.iter().for_each(|i| ctx.out.bulk(i));
        }
    }
    Ok(())
}

pub fn lpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, args, End::Left)
}

pub fn rpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, args, End::Right)
}

pub fn llen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = get_list(&mut l, db, key)?.map_or(0, |list| list.len());
    drop(l);
    ctx.out.int(n as i64);
    Ok(())
}

pub fn lrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let (start, stop) = (int(args.get(2))?, int(args.get(3))?);
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let items: Vec<StrVal> = match get_list(&mut l, db, key)? {
        Some(list) => list.range(start, stop).cloned().collect(),
        None => Vec::new(),
    };
    drop(l);
    ctx.out.array(items.len());
    items.iter().for_each(|i| ctx.out.bulk(i));
    Ok(())
}

// LINDEX and LSET look the key up before they parse the index, as Redis does.
pub fn lindex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let Some(list) = get_list(&mut l, db, key)? else {
        drop(l);
        ctx.out.null();
        return Ok(());
    };
    let i = int(args.get(2))?;
    let v = list.index_of(i).and_then(|p| list.get(p).cloned());
    drop(l);
    match v {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn lset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let list = get_list(&mut l, db, key)?.ok_or(CmdError::NoSuchKey)?;
    let i = int(args.get(2))?;
    let pos = list.index_of(i).ok_or(CmdError::OutOfRange)?;
    list.set(pos, args.get(3));
    notify::event_late(ctx, Class::List, "lset", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

pub fn linsert(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let before = if is(args.get(2), "before") {
        true
    } else if is(args.get(2), "after") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let n = match get_list(&mut l, db, key)? {
        None => 0,
        Some(list) => {
            if list.insert(before, args.get(3), args.get(4)) {
                list.len() as i64
            } else {
                -1
            }
        }
    };
    if n > 0 {
        notify::event(ctx, Class::List, "linsert", db, key);
    }
    drop(l);
    if n > 0 {
        ctx.dirty(1);
    }
    ctx.out.int(n);
    Ok(())
}

pub fn lrem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let count = int(args.get(2))?;
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let removed = match get_list(&mut l, db, key)? {
        None => 0,
        Some(list) => {
            let n = list.remove(count, args.get(3));
            let emptied = list.is_empty();
            if n > 0 {
                notify::event(ctx, Class::List, "lrem", db, key);
            }
            if emptied {
                l.remove(db, key);
                notify::event(ctx, Class::Generic, "del", db, key);
            }
            n
        }
    };
    drop(l);
    ctx.dirty(removed as u64);
    ctx.out.int(removed as i64);
    Ok(())
}

pub fn ltrim(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let (start, stop) = (int(args.get(2))?, int(args.get(3))?);
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    if let Some(list) = get_list(&mut l, db, key)? {
        list.trim(start, stop);
        let emptied = list.is_empty();
        notify::event(ctx, Class::List, "ltrim", db, key);
        if emptied {
            l.remove(db, key);
            notify::event(ctx, Class::Generic, "del", db, key);
        }
        ctx.dirty(1);
    }
    drop(l);
    ctx.out.ok();
    Ok(())
}

pub fn lpos(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key, v) = (ctx.db(), args.get(1), args.get(2));
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut j = 3;
    while j < args.len() {
        let (a, has_next) = (args.get(j), j + 1 < args.len());
        if is(a, "rank") && has_next {
            rank = int(args.get(j + 1))?;
            if rank == 0 {
                return Err(err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is(a, "count") && has_next {
            // Redis gives the same text for a non-number as for a negative one.
            let n = crate::num::parse_i64(args.get(j + 1))
                .filter(|n| *n >= 0)
                .ok_or_else(|| err("COUNT can't be negative"))?;
            count = Some(n as usize);
        } else if is(a, "maxlen") && has_next {
            let n = crate::num::parse_i64(args.get(j + 1))
                .filter(|n| *n >= 0)
                .ok_or_else(|| err("MAXLEN can't be negative"))?;
            maxlen = n as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let found =
        get_list(&mut l, db, key)?.map(|list| list.positions(v, rank, count.unwrap_or(1), maxlen));
    drop(l);
    let found = found.unwrap_or_default();
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            found.iter().for_each(|p| ctx.out.int(*p as i64));
        }
        None => match found.first() {
            Some(p) => ctx.out.int(*p as i64),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

/// Moves one element between lists (or rotates one list); `Ok(None)` when the source is
/// missing. The destination's type is checked before anything is popped, as in Redis.
fn move_one(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<StrVal>, CmdError> {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_keys([(db, src), (db, dst)]);
    let Some((v, emptied)) = move_locked(&mut l, db, src, dst, from, to)? else {
        return Ok(None);
    };
    // Redis answers between the push and the pop.
    let mut pushed = false;
    move_events(
        |c, e, k| {
            if pushed {
                notify::event_late(ctx, c, e, db, k);
            } else {
                pushed = true;
                notify::event(ctx, c, e, db, k);
            }
        },
        src,
        dst,
        from,
        to,
        emptied,
    );
    drop(l);
    ctx.dirty(1);
    Ok(Some(v))
}

/// LMOVE's work under the locks of both keys: the moved element and whether the source
/// emptied (and was deleted). A one-element list rotated onto itself stays, as in Redis.
fn move_locked(
    l: &mut Locked<'_>,
    db: usize,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<(StrVal, bool)>, CmdError> {
    if get_list(l, db, src)?.is_none() {
        return Ok(None);
    }
    get_list(l, db, dst)?;
    let list = get_list(l, db, src)?.expect("checked above");
    let v = list.pop(from).expect("lists are never empty");
    if src == dst {
        list.push(to, &v);
        return Ok(Some((v, false)));
    }
    match get_list(l, db, dst)? {
        Some(d) => d.push(to, &v),
        None => {
            let mut d = List::default();
            d.push(to, &v);
            l.set(db, dst, Value::List(Box::new(d)), None, false);
        }
    }
    let emptied = get_list(l, db, src)?.is_some_and(|s| s.is_empty());
    if emptied {
        l.remove(db, src);
    }
    Ok(Some((v, emptied)))
}

/// LMOVE's events in Redis's order: the push on the destination, then the pop on the
/// source and its deletion if emptied.
fn move_events(
    mut event: impl FnMut(Class, &'static str, &[u8]),
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    emptied: bool,
) {
    event(Class::List, push_event(to), dst);
    event(Class::List, pop_event(from), src);
    if emptied {
        event(Class::Generic, "del", src);
    }
}

pub fn lmove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (from, to) = (end(args.get(3))?, end(args.get(4))?);
    match move_one(ctx, args.get(1), args.get(2), from, to)? {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

pub fn rpoplpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    match move_one(ctx, args.get(1), args.get(2), End::Right, End::Left)? {
        Some(v) => ctx.out.bulk(&v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// LMPOP/BLMPOP arguments from `numkeys` on: keys, end and count, with Redis's checks.
fn parse_mpop<'a>(
    args: &Args<'a>,
    numkeys_at: usize,
) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let numkeys = crate::num::parse_i64(args.get(numkeys_at))
        .filter(|n| *n > 0)
        .ok_or_else(|| err("numkeys should be greater than 0"))? as usize;
    if numkeys > args.len().saturating_sub(numkeys_at + 2) {
        return Err(CmdError::Syntax);
    }
    let keys: Vec<&[u8]> = args.tail(numkeys_at + 1).iter().take(numkeys).collect();
    let at = end(args.get(numkeys_at + 1 + numkeys))?;
    let mut count = 1;
    let rest = args.tail(numkeys_at + 2 + numkeys);
    match rest.len() {
        0 => {}
        2 if is(rest.get(0), "count") => {
            count = crate::num::parse_i64(rest.get(1))
                .filter(|n| *n > 0)
                .ok_or_else(|| err("count should be greater than 0"))? as usize;
        }
        _ => return Err(CmdError::Syntax),
    }
    Ok((keys, at, count))
}

/// The key a multi-key pop took its elements from, and the elements.
type Popped = (Vec<u8>, Vec<StrVal>);

/// Pops from the first non-empty list among `keys`: WRONGTYPE when a key of another type
/// comes before any non-empty list, as in Redis.
fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    at: End,
    count: usize,
) -> Result<Option<Popped>, CmdError> {
    let db = ctx.db();
    let mut l = ctx.shared.keyspace.lock_keys(keys.iter().map(|k| (db, *k)));
    for k in keys {
        if let Some(p) = pop_n(&mut l, db, k, at, count)? {
            p.notify(|c, e| notify::event_late(ctx, c, e, db, k), at);
            drop(l);
            ctx.dirty(p.items.len() as u64);
            return Ok(Some((k.to_vec(), p.items)));
        }
    }
    Ok(None)
}

fn write_popped(ctx: &mut Ctx<'_>, key: &[u8], items: &[StrVal], nested: bool) {
    ctx.out.array(2);
    ctx.out.bulk(key);
    if nested {
        ctx.out.array(items.len());
    }
    items.iter().for_each(|i| ctx.out.bulk(i));
}

pub fn lmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (keys, at, count) = parse_mpop(&args, 1)?;
    match pop_first(ctx, &keys, at, count)? {
        None => ctx.out.null_array(),
        Some((k, items)) => write_popped(ctx, &k, &items, true),
    }
    Ok(())
}

fn bpop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, at: End) -> CmdResult {
    let timeout = parse_timeout(args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    match pop_first(ctx, &keys, at, 1)? {
        Some((k, items)) => write_popped(ctx, &k, &items, false),
        None => block(
            ctx,
            &keys,
            BlockOp::Pop {
                end: at,
                count: None,
            },
            timeout,
        ),
    }
    Ok(())
}

pub fn blpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bpop_generic(ctx, args, End::Left)
}

pub fn brpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bpop_generic(ctx, args, End::Right)
}

pub fn blmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (keys, at, count) = parse_mpop(&args, 2)?;
    let timeout = parse_timeout(args.get(1))?;
    match pop_first(ctx, &keys, at, count)? {
        Some((k, items)) => write_popped(ctx, &k, &items, true),
        None => block(
            ctx,
            &keys,
            BlockOp::Pop {
                end: at,
                count: Some(count),
            },
            timeout,
        ),
    }
    Ok(())
}

fn bmove_generic(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    timeout: &[u8],
) -> CmdResult {
    let timeout = parse_timeout(timeout)?;
    match move_one(ctx, src, dst, from, to)? {
        Some(v) => ctx.out.bulk(&v),
        None => block(
            ctx,
            &[src],
            BlockOp::Move {
                dst: dst.to_vec(),
                from,
                to,
            },
            timeout,
        ),
    }
    Ok(())
}

pub fn blmove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (from, to) = (end(args.get(3))?, end(args.get(4))?);
    bmove_generic(ctx, args.get(1), args.get(2), from, to, args.get(5))
}

pub fn brpoplpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bmove_generic(
        ctx,
        args.get(1),
        args.get(2),
        End::Right,
        End::Left,
        args.get(3),
    )
}

/// Serves a blocked client from `key` if it holds a list with elements: pops (and for
/// BLMOVE pushes) under the shard locks and returns the reply in the client's protocol.
pub(crate) fn serve_waiter(shared: &Shared, w: &Waiter, key: &[u8]) -> Option<Vec<u8>> {
    let db = w.db;
    let mut out = ReplyWriter::new(w.resp3);
    match &w.op {
        BlockOp::Pop { end, count } => {
            let mut l = shared.keyspace.lock_key(db, key);
            let Some(p) = pop_n(&mut l, db, key, *end, count.unwrap_or(1))
                .ok()
                .flatten()
            else {
                // Nothing to pop: no record of a pop.
                crate::aof::skip();
                return None;
            };
            p.notify(|c, e| notify::event_detached(shared, c, e, db, key), *end);
            drop(l);
            let items = p.items;
            out.array(2);
            out.bulk(key);
            if count.is_some() {
                out.array(items.len());
            }
            items.iter().for_each(|i| out.bulk(i));
        }
        BlockOp::Move { dst, from, to } => {
            let mut l = shared.keyspace.lock_keys([(db, key), (db, &dst[..])]);
            let Some((v, emptied)) = move_locked(&mut l, db, key, dst, *from, *to).ok().flatten()
            else {
                crate::aof::skip();
                return None;
            };
            move_events(
                |c, e, k| notify::event_detached(shared, c, e, db, k),
                key,
                dst,
                *from,
                *to,
                emptied,
            );
            drop(l);
            out.bulk(&v);
            // The element landed on `dst`: clients blocked there may now be served too.
            shared.blocking.signal_later(db, dst);
        }
        BlockOp::ZPop { .. } => return None,
    }
    shared.stats(|s| s.dirty.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    Some(out.out)
}
