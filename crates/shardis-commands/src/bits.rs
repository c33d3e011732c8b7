//! Bitmap algorithms of Redis 7.0 `bitops.c` on plain byte strings: BITCOUNT, BITPOS, BITOP,
//! GETBIT/SETBIT and BITFIELD arithmetic. Pure: no keyspace, no I/O.
//!
//! Bits are numbered MSB-first: bit 0 is the `0x80` bit of byte 0.
//!
//! What the callers keep, as Redis does:
//! - BITCOUNT on a missing key replies 0 before looking at any other argument.
//! - BITPOS on a missing key replies 0 when looking for 0 and -1 when looking for 1 (a
//!   missing key is an infinite run of zeros), after the bit argument has been validated
//!   ("The bit argument must be 1 or 0.").
//! - BITOP treats missing sources as empty strings; an all-empty result deletes the target;
//!   NOT takes exactly one source ("BITOP NOT must be called with a single source key.").
//! - Bit offsets above the configured limit are refused: see [`offset_within_limit`].
//! - BITFIELD grows the string once, up front, to the farthest bit any SET/INCRBY touches
//!   ([`ensure_bit`]), even when an op is later refused by `OVERFLOW FAIL`.

use crate::num::parse_i64;

/// Error text for every rejected bit offset (parse failure, negative, beyond the limit).
pub const OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Error text for a rejected BITFIELD type.
pub const TYPE_ERR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Unit of a BITCOUNT / BITPOS range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitUnit {
    Byte,
    Bit,
}

fn popcount(s: &[u8]) -> i64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n += chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    n as i64
}

/// Applies Redis's range normalisation: negative indexes count from `totlen`, then both ends
/// are clamped to `[0, totlen-1]`. Returns `None` for an empty range.
fn normalize(mut start: i64, mut end: i64, totlen: i64) -> Option<(i64, i64)> {
    if start < 0 {
        start += totlen;
    }
    if end < 0 {
        end += totlen;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    (start <= end).then_some((start, end))
}

/// Number of set bits in bit positions `[first, last]` (inclusive, both within `s`).
fn count_bit_range(s: &[u8], first: u64, last: u64) -> i64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let head_mask = 0xffu8 >> (first & 7);
    let tail_mask = 0xffu8 << (7 - (last & 7));
    if fb == lb {
        return i64::from((s[fb] & head_mask & tail_mask).count_ones());
    }
    i64::from((s[fb] & head_mask).count_ones())
        + popcount(&s[fb + 1..lb])
        + i64::from((s[lb] & tail_mask).count_ones())
}

/// BITCOUNT on an existing string: the whole string, or `start end [BYTE|BIT]` with negative
/// indexes, clamping, and 0 for empty ranges.
pub fn bitcount(s: &[u8], range: Option<(i64, i64, BitUnit)>) -> i64 {
    let Some((start, end, unit)) = range else {
        return popcount(s);
    };
    // Both ends negative and inverted is empty before clamping could make it `[0, 0]`.
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let strlen = s.len() as i64;
    match unit {
        BitUnit::Byte => match normalize(start, end, strlen) {
            Some((a, b)) => popcount(&s[a as usize..=b as usize]),
            None => 0,
        },
        BitUnit::Bit => match normalize(start, end, strlen * 8) {
            Some((a, b)) => count_bit_range(s, a as u64, b as u64),
            None => 0,
        },
    }
}

/// First bit equal to `bit` in bit positions `[first, last]`, if any.
fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let skip = if bit { 0x00 } else { 0xff };
    let hit = |i: usize, mask: u8| {
        let v = (if bit { s[i] } else { !s[i] }) & mask;
        (v != 0).then(|| (i as u64) * 8 + u64::from(v.leading_zeros()))
    };
    let head_mask = 0xffu8 >> (first & 7);
    let tail_mask = 0xffu8 << (7 - (last & 7));
    if fb == lb {
        return hit(fb, head_mask & tail_mask);
    }
    if let Some(p) = hit(fb, head_mask) {
        return Some(p);
    }
    if let Some(i) = s[fb + 1..lb].iter().position(|&b| b != skip) {
        return hit(fb + 1 + i, 0xff);
    }
    hit(lb, tail_mask)
}

/// BITPOS on an existing string (see the module docs for missing keys).
///
/// `start`/`end` are the optional range arguments; `unit` only applies when both are given,
/// as in Redis where BYTE/BIT can only follow an explicit end. Looking for 0 without an
/// explicit end treats the string as padded with zeros on the right, so a string of all 1s
/// yields the bit just past its end; with an explicit end it yields -1.
pub fn bitpos(s: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, unit: BitUnit) -> i64 {
    let strlen = s.len() as i64;
    let end_given = start.is_some() && end.is_some();
    let range = match start {
        None => normalize(0, strlen - 1, strlen).map(|(a, b)| (a * 8, b * 8 + 7)),
        Some(start) => {
            if end_given && unit == BitUnit::Bit {
                normalize(start, end.unwrap_or(0), strlen * 8)
            } else {
                normalize(start, end.unwrap_or(strlen - 1), strlen).map(|(a, b)| (a * 8, b * 8 + 7))
            }
        }
    };
    let Some((first, last)) = range else {
        return -1;
    };
    match find_bit(s, bit, first as u64, last as u64) {
        Some(p) => p as i64,
        None if !bit && !end_given => last + 1,
        None => -1,
    }
}

/// BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP over the source strings: shorter sources count as zero-padded and the result is
/// as long as the longest. NOT uses only the first source (the caller enforces exactly one).
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let Some((first, rest)) = srcs.split_first() else {
        return Vec::new();
    };
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut res = first.to_vec();
    res.resize(maxlen, 0);
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for src in rest {
                res.iter_mut().zip(src.iter()).for_each(|(r, s)| *r &= s);
                res[src.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for src in rest {
                res.iter_mut().zip(src.iter()).for_each(|(r, s)| *r |= s);
            }
        }
        BitOp::Xor => {
            for src in rest {
                res.iter_mut().zip(src.iter()).for_each(|(r, s)| *r ^= s);
            }
        }
    }
    res
}

/// Parses a SETBIT/GETBIT offset (`getBitOffsetFromArgument` without the `#` form): a
/// Redis integer that is not negative. The size limit is [`offset_within_limit`].
pub fn parse_bit_offset(s: &[u8]) -> Option<u64> {
    parse_i64(s).and_then(|n| u64::try_from(n).ok())
}

/// Whether a parsed offset is allowed for a normal client: the byte holding it must be
/// below `proto-max-bulk-len` (512MB by default). Replication from a master is exempt.
pub fn offset_within_limit(offset: u64, proto_max_bulk_len: u64) -> bool {
    (offset >> 3) < proto_max_bulk_len
}

/// GETBIT: the bit at `offset`, 0 past the end.
pub fn getbit(s: &[u8], offset: u64) -> u8 {
    let byte = offset >> 3;
    match usize::try_from(byte).ok().and_then(|b| s.get(b)) {
        Some(&v) => (v >> (7 - (offset & 7))) & 1,
        None => 0,
    }
}

/// Grows `v` with zero bytes so that bit `bit_offset` exists (`lookupStringForBitCommand`).
/// The offset must have passed [`offset_within_limit`].
pub fn ensure_bit(v: &mut Vec<u8>, bit_offset: u64) {
    let need = (bit_offset >> 3) as usize + 1;
    if v.len() < need {
        v.resize(need, 0);
    }
}

/// SETBIT: grows `v` with zeros as needed, sets or clears the bit, returns the old bit.
pub fn setbit(v: &mut Vec<u8>, offset: u64, on: bool) -> u8 {
    ensure_bit(v, offset);
    let byte = (offset >> 3) as usize;
    let shift = 7 - (offset & 7);
    let old = (v[byte] >> shift) & 1;
    if on {
        v[byte] |= 1 << shift;
    } else {
        v[byte] &= !(1 << shift);
    }
    old
}

/// A BITFIELD integer type: `i1`..=`i64` or `u1`..=`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Signed(u8),
    Unsigned(u8),
}

impl FieldType {
    pub fn bits(self) -> u32 {
        match self {
            FieldType::Signed(b) | FieldType::Unsigned(b) => u32::from(b),
        }
    }
}

/// Parses a BITFIELD type like `getBitfieldTypeFromArgument`: `i`/`I` or `u`/`U`, then a
/// Redis integer width. The C code measures the width with `strlen`, so it stops at an
/// embedded NUL (`"i8\0junk"` is `i8`).
pub fn parse_type(s: &[u8]) -> Option<FieldType> {
    let (&kind, rest) = s.split_first()?;
    let width = rest.split(|&c| c == 0).next().unwrap_or_default();
    let bits = parse_i64(width)?;
    match kind {
        b'i' | b'I' if (1..=64).contains(&bits) => Some(FieldType::Signed(bits as u8)),
        b'u' | b'U' if (1..=63).contains(&bits) => Some(FieldType::Unsigned(bits as u8)),
        _ => None,
    }
}

/// Parses a BITFIELD offset: a plain bit offset, or `#N` meaning `N * width`. The product
/// wraps like the C `long long` multiplication it is, so a huge `#N` can wrap back into
/// range. The size limit is [`offset_within_limit`].
pub fn parse_offset(s: &[u8], ty: FieldType) -> Option<u64> {
    let (digits, mul) = match s.split_first() {
        Some((b'#', rest)) => (rest, i64::from(ty.bits())),
        _ => (s, 1),
    };
    let n = parse_i64(digits)?.wrapping_mul(mul);
    u64::try_from(n).ok()
}

/// BITFIELD OVERFLOW behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// The raw `bits`-wide big-endian field at `offset`, zero-padded past the end.
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut buf = [0u8; 16];
    if let Some(tail) = usize::try_from(offset >> 3).ok().and_then(|b| s.get(b..)) {
        let n = tail.len().min(9);
        buf[..n].copy_from_slice(&tail[..n]);
    }
    let v = u128::from_be_bytes(buf) << (offset & 7);
    (v >> (128 - bits)) as u64
}

/// BITFIELD GET: the field value, sign-extended for signed types.
pub fn get_field(s: &[u8], offset: u64, ty: FieldType) -> i64 {
    let bits = ty.bits();
    let raw = get_unsigned(s, offset, bits);
    match ty {
        FieldType::Signed(_) if bits < 64 && raw >> (bits - 1) & 1 == 1 => {
            (raw | (u64::MAX << bits)) as i64
        }
        _ => raw as i64,
    }
}

/// Writes the low `ty.bits()` bits of `value` at `offset` (growing `v` with zeros as needed)
/// and returns the previous field value. No overflow handling: see [`set_value`].
pub fn set_field(v: &mut Vec<u8>, offset: u64, ty: FieldType, value: i64) -> i64 {
    let bits = ty.bits();
    let old = get_field(v, offset, ty);
    ensure_bit(v, offset + u64::from(bits) - 1);
    let byte = (offset >> 3) as usize;
    let n = (v.len() - byte).min(9);
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(&v[byte..byte + n]);
    let shift = 128 - bits - (offset & 7) as u32;
    let field_mask = (u128::from(u64::MAX) >> (64 - bits)) << shift;
    let cur = u128::from_be_bytes(buf);
    let new = (cur & !field_mask) | ((u128::from(value as u64) << shift) & field_mask);
    v[byte..byte + n].copy_from_slice(&new.to_be_bytes()[..n]);
    old
}

/// Outcome of Redis's overflow checks: `Ok(v)` when in range, `Err(Some(v))` when
/// overflowing with a WRAP/SAT replacement, `Err(None)` when overflowing under FAIL.
type Checked = Result<i64, Option<i64>>;

/// `checkUnsignedBitfieldOverflow`, with the C's wrapping integer conversions.
fn check_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Checked {
    let max: u64 = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || (value.wrapping_add(incr as u64) & !(u64::MAX << bits)) as i64;
    if value > max || (incr > 0 && incr > maxincr) {
        return Err(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max as i64),
            Overflow::Fail => None,
        });
    }
    if incr < 0 && incr < minincr {
        return Err(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        });
    }
    Ok(value.wrapping_add(incr as u64) as i64)
}

/// `checkSignedBitfieldOverflow`, with the C's wrapping integer conversions.
fn check_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Checked {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    let narrow = bits != 64;
    if value > max || (narrow && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        return Err(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        });
    }
    if value < min || (narrow && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        return Err(match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        });
    }
    Ok(value.wrapping_add(incr))
}

fn check(value: i64, incr: i64, ty: FieldType, ow: Overflow) -> Option<i64> {
    let checked = match ty {
        FieldType::Signed(_) => check_signed(value, incr, ty.bits(), ow),
        FieldType::Unsigned(_) => check_unsigned(value as u64, incr, ty.bits(), ow),
    };
    match checked {
        Ok(v) => Some(v),
        Err(alt) => alt,
    }
}

/// BITFIELD INCRBY arithmetic: the new field value for `old + incr`, or `None` when it
/// overflows under `OVERFLOW FAIL` (reply nil, write nothing).
pub fn incr_field(old: i64, incr: i64, ty: FieldType, ow: Overflow) -> Option<i64> {
    check(old, incr, ty, ow)
}

/// BITFIELD SET value handling: Redis runs the value through the same overflow check (with
/// a zero increment), so an out-of-range value is wrapped, saturated, or refused (`None`).
/// For unsigned types a negative value is seen as a huge unsigned one: `SET u8 0 -1` stores
/// 255 under both WRAP and SAT.
pub fn set_value(value: i64, ty: FieldType, ow: Overflow) -> Option<i64> {
    check(value, 0, ty, ow)
}

/// Full BITFIELD SET: returns the previous value, or `None` (nothing written) on FAIL.
pub fn bitfield_set(
    v: &mut Vec<u8>,
    offset: u64,
    ty: FieldType,
    value: i64,
    ow: Overflow,
) -> Option<i64> {
    let stored = set_value(value, ty, ow)?;
    Some(set_field(v, offset, ty, stored))
}

/// Full BITFIELD INCRBY: returns the new value, or `None` (nothing written) on FAIL.
pub fn bitfield_incrby(
    v: &mut Vec<u8>,
    offset: u64,
    ty: FieldType,
    incr: i64,
    ow: Overflow,
) -> Option<i64> {
    let new = incr_field(get_field(v, offset, ty), incr, ty, ow)?;
    set_field(v, offset, ty, new);
    Some(new)
}
