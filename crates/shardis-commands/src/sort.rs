//! SORT and SORT_RO: sort a list, set or sorted set, numerically or lexically, optionally by
//! external keys (`BY weight_*`, hash fields with `->`), with LIMIT, GET and STORE.

use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::notify::{self, Class};
use crate::util::{int, is};
use shardis_keyspace::list::{End, List};
use shardis_keyspace::{Locked, Value};
use shardis_protocol::Args;
use std::cmp::Ordering;

/// Parsed SORT options.
struct SortOpts<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse<'a>(args: &Args<'a>, read_only: bool) -> Result<SortOpts<'a>, CmdError> {
    let mut o = SortOpts {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit = Some((int(args.get(j + 1))?, int(args.get(j + 2))?));
            j += 2;
        } else if is(a, "store") && left >= 1 && !read_only {
            o.store = Some(args.get(j + 1));
            j += 1;
        } else if is(a, "by") && left >= 1 {
            o.by = Some(args.get(j + 1));
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: the first `*` of `pattern` becomes `subst`; `key->field`
/// reads a hash field; `#` is the element itself. Missing keys, fields or types give `None`.
fn lookup_by_pattern(
    l: &mut Locked<'_>,
    db: usize,
    pattern: &[u8],
    subst: &[u8],
) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(subst.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let arrow = pattern
        .windows(2)
        .rposition(|w| w == b"->")
        .filter(|&p| p > star && p + 2 < pattern.len());
    let (key_pat, field) = match arrow {
        Some(p) => (&pattern[..p], Some(&pattern[p + 2..])),
        None => (pattern, None),
    };
    let mut key = Vec::with_capacity(key_pat.len() + subst.len());
    key.extend_from_slice(&key_pat[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&key_pat[star + 1..]);
    match (&l.get(db, &key)?.value, field) {
        (Value::Str(s), None) => Some(s.to_vec()),
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.to_vec()),
        _ => None,
    }
}

/// SORT's one path. BY and GET patterns can name any key, and which ones is known only once
/// the elements are, so with patterns the whole database is locked for the sort (it is
/// atomic, as in Redis); without them only the source and the STORE destination are.
fn sort_generic(ctx: &mut Ctx<'_>, args: Args<'_>, read_only: bool) -> CmdResult {
    let o = parse(&args, read_only)?;
    let (db, key) = (ctx.db(), args.get(1));
    let patterns = o.by.is_some_and(|b| b.contains(&b'*')) || o.gets.iter().any(|g| *g != b"#");
    let mut l = if patterns {
        ctx.shared.keyspace.lock_dbs(&[db])
    } else {
        ctx.shared
            .keyspace
            .lock_keys(std::iter::once((db, key)).chain(o.store.map(|s| (db, s))))
    };
    // A BY pattern without `*` means "don't sort".
    let mut dont_sort = o.by.is_some_and(|b| !b.contains(&b'*'));
    let mut alpha = o.alpha;
    let mut by = o.by.filter(|_| !dont_sort);
    let mut elems: Vec<Vec<u8>> = match l.get(db, key).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::List(list)) => list.range(0, -1).map(|v| v.to_vec()).collect(),
        Some(Value::Set(set)) => {
            // An unsorted set would store in hash order; Redis sorts it to stay deterministic.
            if dont_sort && o.store.is_some() {
                dont_sort = false;
                alpha = true;
                by = None;
            }
            set.iter().map(|e| e.to_vec()).collect()
        }
        Some(Value::ZSet(z)) => z.iter().into_iter().map(|(m, _)| m).collect(),
        Some(_) => return Err(CmdError::WrongType),
    };
    if dont_sort && o.desc {
        if let Some(Value::ZSet(_)) = l.get(db, key).map(|e| &e.value) {
            elems.reverse();
        }
    }
    if !dont_sort {
        // Each element's sort weight: its own value or its BY lookup; numbers unless ALPHA.
        let mut keyed: Vec<(Vec<u8>, Option<Vec<u8>>, f64)> = Vec::with_capacity(elems.len());
        for e in elems {
            let w = match by {
                Some(p) => lookup_by_pattern(&mut l, db, p, &e),
                None => Some(e.clone()),
            };
            let score = if alpha {
                0.0
            } else {
                match &w {
                    None => 0.0,
                    Some(w) => crate::num::parse_f64(w)
                        .filter(|v| !v.is_nan())
                        .ok_or_else(|| err("One or more scores can't be converted into double"))?,
                }
            };
            keyed.push((e, w, score));
        }
        let cmp = |a: &(Vec<u8>, Option<Vec<u8>>, f64), b: &(Vec<u8>, Option<Vec<u8>>, f64)| {
            let c = if alpha {
                match (&a.1, &b.1) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.2.partial_cmp(&b.2).unwrap_or(Ordering::Equal)
            };
            // Numeric ties fall back to the elements, as in Redis. ALPHA BY ties stay equal and
            // keep their input order: Redis sorts with glibc's (stable) qsort there.
            let c = if alpha {
                c
            } else {
                c.then_with(|| a.0.cmp(&b.0))
            };
            if o.desc {
                c.reverse()
            } else {
                c
            }
        };
        keyed.sort_by(cmp);
        elems = keyed.into_iter().map(|k| k.0).collect();
    }
    if let Some((offset, count)) = o.limit {
        let len = elems.len() as i64;
        let mut start = offset.max(0);
        let mut end = if count < 0 {
            len - 1
        } else {
            start.saturating_add(count).saturating_sub(1)
        };
        if start >= len {
            start = len - 1;
            end = len - 2;
        }
        if end >= len {
            end = len - 1;
        }
        elems = if start <= end {
            elems[start as usize..=end as usize].to_vec()
        } else {
            Vec::new()
        };
    }
    // The reply (or stored list): the elements, or for each element its GET lookups.
    let mut rows: Vec<Option<Vec<u8>>> = Vec::new();
    for e in &elems {
        if o.gets.is_empty() {
            rows.push(Some(e.clone()));
        } else {
            for g in &o.gets {
                rows.push(lookup_by_pattern(&mut l, db, g, e));
            }
        }
    }
    if let Some(dst) = o.store {
        let n = rows.len();
        let old = if n == 0 {
            let old = l.remove(db, dst).map(|e| e.value);
            if old.is_some() {
                notify::event(ctx, Class::Generic, "del", db, dst);
            }
            old
        } else {
            let mut list = List::default();
            for r in &rows {
                list.push(End::Right, r.as_deref().unwrap_or_default());
            }
            let old = l.set(db, dst, Value::List(Box::new(list)), None, false);
            notify::event(ctx, Class::List, "sortstore", db, dst);
            old
        };
        drop(l);
        old.into_iter()
            .for_each(shardis_keyspace::lazyfree::free_value);
        ctx.dirty(n as u64);
        ctx.out.int(n as i64);
        return Ok(());
    }
    drop(l);
    ctx.out.array(rows.len());
    for r in rows {
        match r {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

pub fn sort(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sort_generic(ctx, args, false)
}

pub fn sort_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sort_generic(ctx, args, true)
}
