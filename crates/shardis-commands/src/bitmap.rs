//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.

use crate::bits::{self, BitOp, BitUnit, FieldType, Overflow};
use crate::ctx::Ctx;
use crate::error::{err, CmdError, CmdResult};
use crate::notify::{self, Class};
use crate::num::parse_i64;
use crate::util::{get_str, int, is};
use shardis_keyspace::{StrVal, Value};
use shardis_protocol::Args;

/// Redis's `getBitOffsetFromArgument`: a plain bit offset, bounded by proto-max-bulk-len.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8]) -> Result<u64, CmdError> {
    let n = parse_i64(arg).ok_or(CmdError::BitOffset)?;
    if n < 0 || (n as u64 >> 3) >= ctx.shared.max_bulk() {
        return Err(CmdError::BitOffset);
    }
    Ok(n as u64)
}

pub fn setbit(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let offset = bit_offset(ctx, args.get(2))?;
    let on = match args.get(3) {
        b"1" => true,
        b"0" => false,
        _ => return Err(err("bit is not an integer or out of range")),
    };
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let mut v = get_str(&mut l, db, key)?
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let old = bits::setbit(&mut v, offset, on);
    l.set(db, key, Value::Str(StrVal::raw(&v)), None, true);
    notify::event(ctx, Class::String, "setbit", db, key);
    drop(l);
    ctx.dirty(1);
    ctx.out.int(old as i64);
    Ok(())
}

pub fn getbit(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let offset = bit_offset(ctx, args.get(2))?;
    let v = get_str(&mut ctx.shared.keyspace.lock_key(db, key), db, key)?.unwrap_or_default();
    ctx.out.int(bits::getbit(&v, offset) as i64);
    Ok(())
}

fn unit(arg: &[u8]) -> Result<BitUnit, CmdError> {
    if is(arg, "bit") {
        Ok(BitUnit::Bit)
    } else if is(arg, "byte") {
        Ok(BitUnit::Byte)
    } else {
        Err(CmdError::Syntax)
    }
}

pub fn bitcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    // Redis looks the key up before it parses the range: a missing key is 0 whatever follows.
    let Some(v) = get_str(&mut ctx.shared.keyspace.lock_key(db, key), db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let (s, e) = (int(args.get(2))?, int(args.get(3))?);
            let u = if args.len() == 5 {
                unit(args.get(4))?
            } else {
                BitUnit::Byte
            };
            Some((s, e, u))
        }
        _ => return Err(CmdError::Syntax),
    };
    ctx.out.int(bits::bitcount(&v, range));
    Ok(())
}

pub fn bitpos(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (db, key) = (ctx.db(), args.get(1));
    let bit = match int(args.get(2))? {
        0 => false,
        1 => true,
        _ => return Err(err("The bit argument must be 1 or 0.")),
    };
    let Some(v) = get_str(&mut ctx.shared.keyspace.lock_key(db, key), db, key)? else {
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let (mut start, mut end, mut u) = (None, None, BitUnit::Byte);
    match args.len() {
        3 => {}
        4..=6 => {
            start = Some(int(args.get(3))?);
            if args.len() == 6 {
                u = unit(args.get(5))?;
            }
            if args.len() >= 5 {
                end = Some(int(args.get(4))?);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    ctx.out.int(bits::bitpos(&v, bit, start, end, u));
    Ok(())
}

pub fn bitop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let opname = args.get(1);
    let op = if is(opname, "and") {
        BitOp::And
    } else if is(opname, "or") {
        BitOp::Or
    } else if is(opname, "xor") {
        BitOp::Xor
    } else if is(opname, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(err("BITOP NOT must be called with a single source key."));
    }
    let (db, dest) = (ctx.db(), args.get(2));
    let srcs = args.tail(3);
    let mut l = ctx
        .shared
        .keyspace
        .lock_keys(std::iter::once((db, dest)).chain(srcs.iter().map(|k| (db, k))));
    let mut values = Vec::with_capacity(srcs.len());
    for k in srcs.iter() {
        values.push(get_str(&mut l, db, k)?.unwrap_or_default());
    }
    let refs: Vec<&[u8]> = values.iter().map(|b| &b[..]).collect();
    let result = bits::bitop(op, &refs);
    let len = result.len();
    let old = if result.is_empty() {
        let old = l.remove(db, dest).map(|e| e.value);
        if old.is_some() {
            notify::event(ctx, Class::Generic, "del", db, dest);
        }
        old
    } else {
        let old = l.set(db, dest, Value::Str(StrVal::raw(&result)), None, false);
        notify::event(ctx, Class::String, "set", db, dest);
        old
    };
    drop(l);
    old.into_iter()
        .for_each(shardis_keyspace::lazyfree::free_value);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

/// One BITFIELD operation.
enum FieldOp {
    Get(FieldType, u64),
    Set(FieldType, u64, i64, Overflow),
    Incr(FieldType, u64, i64, Overflow),
}

fn parse_field_ops(
    ctx: &Ctx<'_>,
    args: &Args<'_>,
    read_only: bool,
) -> Result<Vec<FieldOp>, CmdError> {
    let max_bits = ctx
        .shared
        .config
        .read()
        .proto_max_bulk_len
        .saturating_mul(8);
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        let field = |j: usize| -> Result<(FieldType, u64), CmdError> {
            let ty = bits::parse_type(args.get(j + 1)).ok_or_else(|| {
                err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
            })?;
            let off = bits::parse_offset(args.get(j + 2), ty).ok_or(CmdError::BitOffset)?;
            if off >= max_bits {
                return Err(CmdError::BitOffset);
            }
            Ok((ty, off))
        };
        if is(a, "get") && left >= 2 {
            let (ty, off) = field(j)?;
            ops.push(FieldOp::Get(ty, off));
            j += 3;
        } else if is(a, "set") && left >= 3 {
            let (ty, off) = field(j)?;
            let v = int(args.get(j + 3))?;
            ops.push(FieldOp::Set(ty, off, v, overflow));
            j += 4;
        } else if is(a, "incrby") && left >= 3 {
            let (ty, off) = field(j)?;
            let v = int(args.get(j + 3))?;
            ops.push(FieldOp::Incr(ty, off, v, overflow));
            j += 4;
        } else if is(a, "overflow") && left >= 1 {
            let o = args.get(j + 1);
            overflow = if is(o, "wrap") {
                Overflow::Wrap
            } else if is(o, "sat") {
                Overflow::Sat
            } else if is(o, "fail") {
                Overflow::Fail
            } else {
                return Err(err("Invalid OVERFLOW type specified"));
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if read_only && ops.iter().any(|o| !matches!(o, FieldOp::Get(..))) {
        return Err(err("BITFIELD_RO only supports the GET subcommand"));
    }
    Ok(ops)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: Args<'_>, read_only: bool) -> CmdResult {
    let ops = parse_field_ops(ctx, &args, read_only)?;
    let (db, key) = (ctx.db(), args.get(1));
    let mut l = ctx.shared.keyspace.lock_key(db, key);
    let existing = get_str(&mut l, db, key)?;
    let mut v = existing.as_ref().map(|b| b.to_vec()).unwrap_or_default();
    // Like Redis, a BITFIELD with any write first creates or grows the string to cover the
    // highest bit it may write, even if every write then fails an OVERFLOW FAIL check.
    let highest = ops
        .iter()
        .filter_map(|o| match *o {
            FieldOp::Set(ty, off, ..) | FieldOp::Incr(ty, off, ..) => {
                Some(off + ty.bits() as u64 - 1)
            }
            FieldOp::Get(..) => None,
        })
        .max();
    if let Some(h) = highest {
        let need = (h / 8 + 1) as usize;
        if v.len() < need {
            v.resize(need, 0);
        }
    }
    let mut results: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    // Successful writes: Redis notifies only when there was at least one.
    let mut changes = 0;
    for op in &ops {
        match *op {
            FieldOp::Get(ty, off) => results.push(Some(bits::get_field(&v, off, ty))),
            FieldOp::Set(ty, off, value, ov) => {
                let old = bits::get_field(&v, off, ty);
                match bits::set_value(value, ty, ov) {
                    Some(nv) => {
                        bits::set_field(&mut v, off, ty, nv);
                        results.push(Some(old));
                        changes += 1;
                    }
                    None => results.push(None),
                }
            }
            FieldOp::Incr(ty, off, by, ov) => {
                let old = bits::get_field(&v, off, ty);
                match bits::incr_field(old, by, ty, ov) {
                    Some(nv) => {
                        bits::set_field(&mut v, off, ty, nv);
                        results.push(Some(nv));
                        changes += 1;
                    }
                    None => results.push(None),
                }
            }
        }
    }
    if highest.is_some() {
        l.set(db, key, Value::Str(StrVal::raw(&v)), None, true);
        ctx.dirty(1);
    }
    if changes > 0 {
        notify::event_late(ctx, Class::String, "setbit", db, key);
    }
    drop(l);
    ctx.out.array(results.len());
    for r in results {
        match r {
            Some(n) => ctx.out.int(n),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

pub fn bitfield(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

pub fn bitfield_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, true)
}
