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

/// Parses a BITFIELD type like `getBitfieldTypeFromArgument`: a lowercase `i` or `u` (Redis
/// 7.0 refuses `I8`/`U8`), then a Redis integer width. The C code measures the width with `strlen`, so it stops at an
/// embedded NUL (`"i8\0junk"` is `i8`).
pub fn parse_type(s: &[u8]) -> Option<FieldType> {
    let (&kind, rest) = s.split_first()?;
    let width = rest.split(|&c| c == 0).next().unwrap_or_default();
    let bits = parse_i64(width)?;
    match kind {
        b'i' if (1..=64).contains(&bits) => Some(FieldType::Signed(bits as u8)),
        b'u' if (1..=63).contains(&bits) => Some(FieldType::Unsigned(bits as u8)),
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

#[cfg(test)]
mod tests {
    use super::*;

    // All expected values below come from redis-server 7.0.15.

    #[test]
    fn bitcount_matches_redis() {
        let s = b"foobar";
        use BitUnit::*;
        type Case = (Option<(i64, i64, BitUnit)>, i64);
        let cases: &[Case] = &[
            (None, 26),
            (Some((0, 0, Byte)), 4),
            (Some((1, 1, Byte)), 6),
            (Some((5, 30, Bit)), 17),
            (Some((-2, -1, Byte)), 7),
            (Some((-1, -5, Byte)), 0),
            (Some((-100, -200, Byte)), 0),
            (Some((0, -100, Byte)), 4),
            (Some((-100, 0, Byte)), 4),
            (Some((3, 1, Byte)), 0),
            (Some((0, 1000, Byte)), 26),
            (Some((-3, -1, Bit)), 1),
            (Some((-1000, 1000, Bit)), 26),
            (Some((7, 7, Bit)), 0),
            (Some((6, 9, Bit)), 2),
            (Some((47, 47, Bit)), 0),
            (Some((48, 100, Bit)), 0),
        ];
        for &(range, want) in cases {
            assert_eq!(bitcount(s, range), want, "{range:?}");
        }
        assert_eq!(bitcount(b"", None), 0);
        assert_eq!(bitcount(b"", Some((0, -1, Byte))), 0);
    }

    #[test]
    fn bitpos_matches_redis() {
        use BitUnit::*;
        let p = b"\xff\xf0\x00";
        let q = b"\x00\xff\xf0";
        let f = b"\xff\xff\xff";
        let z = b"\x00\x00\x00";
        type Case<'a> = (&'a [u8], bool, Option<i64>, Option<i64>, BitUnit, i64);
        let cases: &[Case] = &[
            (p, false, None, None, Byte, 12),
            (p, true, None, None, Byte, 0),
            (p, false, Some(0), None, Byte, 12),
            (p, false, Some(1), Some(1), Byte, 12),
            (p, true, Some(2), None, Byte, -1),
            (p, false, Some(9), Some(15), Bit, 12),
            (p, true, Some(3), Some(7), Bit, 3),
            (p, false, Some(-1), None, Byte, 16),
            (p, true, Some(-1), None, Byte, -1),
            (q, true, Some(0), None, Byte, 8),
            (q, true, Some(2), None, Byte, 16),
            (q, true, Some(2), Some(-1), Byte, 16),
            (q, true, Some(7), Some(15), Bit, 8),
            (q, false, Some(8), Some(11), Bit, -1),
            (q, false, Some(8), Some(15), Bit, -1),
            (q, false, Some(1), Some(1), Byte, -1),
            // All ones: without an explicit end the string is zero-padded on the right.
            (f, false, None, None, Byte, 24),
            (f, false, Some(1), None, Byte, 24),
            (f, false, Some(0), Some(-1), Byte, -1),
            (f, false, Some(0), Some(-1), Bit, -1),
            (f, false, Some(5), None, Byte, -1),
            (f, true, Some(5), None, Byte, -1),
            (z, true, None, None, Byte, -1),
            (z, false, None, None, Byte, 0),
            (z, true, Some(1), Some(2), Byte, -1),
            // An existing empty string has no bits at all.
            (b"", false, None, None, Byte, -1),
            (b"", true, None, None, Byte, -1),
            (b"", false, Some(0), None, Byte, -1),
        ];
        for &(s, bit, start, end, unit, want) in cases {
            assert_eq!(
                bitpos(s, bit, start, end, unit),
                want,
                "{s:?} {bit} {start:?} {end:?} {unit:?}"
            );
        }
    }

    #[test]
    fn bitop_matches_redis() {
        let (b1, b2, b3): (&[u8], &[u8], &[u8]) = (b"foobar", b"abcdef", b"xy");
        assert_eq!(bitop(BitOp::And, &[b1, b2, b3]), b"``\x00\x00\x00\x00");
        assert_eq!(bitop(BitOp::Or, &[b1, b2, b3]), b"\x7f\x7fofev");
        assert_eq!(bitop(BitOp::Xor, &[b1, b2, b3]), b"\x7ft\x0c\x06\x04\x14");
        // A missing key is an empty source.
        assert_eq!(bitop(BitOp::And, &[b3, b""]), b"\x00\x00");
        assert_eq!(bitop(BitOp::Or, &[b3, b""]), b"xy");
        assert_eq!(bitop(BitOp::Xor, &[b3, b""]), b"xy");
        assert_eq!(bitop(BitOp::Not, &[b3]), b"\x87\x86");
        assert!(bitop(BitOp::And, &[b"", b""]).is_empty());
    }

    #[test]
    fn setbit_getbit_match_redis() {
        let mut v = Vec::new();
        assert_eq!(setbit(&mut v, 7, true), 0);
        assert_eq!(v, b"\x01");
        assert_eq!(setbit(&mut v, 7, false), 1);
        assert_eq!(setbit(&mut v, 20, true), 0);
        assert_eq!(v, b"\x00\x00\x08");
        assert_eq!(getbit(&v, 20), 1);
        assert_eq!(getbit(&v, 21), 0);
        assert_eq!(getbit(&v, 1000), 0);
        assert_eq!(setbit(&mut v, 20, true), 1);
    }

    #[test]
    fn offsets_match_redis() {
        let limit = 512 * 1024 * 1024;
        // GETBIT/SETBIT: 4294967295 accepted, 4294967296 / -1 / #1 / +1 refused.
        assert_eq!(parse_bit_offset(b"4294967295"), Some(4_294_967_295));
        assert!(offset_within_limit(4_294_967_295, limit));
        assert!(!offset_within_limit(4_294_967_296, limit));
        for bad in [&b"-1"[..], b"#1", b"+1", b"-0", b""] {
            assert_eq!(parse_bit_offset(bad), None);
        }
        let (u8t, i64t, i5) = (
            FieldType::Unsigned(8),
            FieldType::Signed(64),
            FieldType::Signed(5),
        );
        assert_eq!(parse_offset(b"#2", u8t), Some(16));
        // `#N * width` wraps like C: 2^61 * 8 == 0 is accepted, 2^60 * 8 is negative.
        assert_eq!(parse_offset(b"#2305843009213693952", u8t), Some(0));
        assert_eq!(parse_offset(b"#1152921504606846976", u8t), None);
        assert_eq!(parse_offset(b"#1152921504606846976", i64t), Some(0));
        assert_eq!(parse_offset(b"#2305843009213693952", i5), None);
        assert_eq!(parse_offset(b"#9223372036854775807", u8t), None);
        for bad in [
            &b"-0"[..],
            b"#-0",
            b"+1",
            b"#+1",
            b"##1",
            b"#",
            b"1.5",
            b"a",
        ] {
            assert_eq!(
                parse_offset(bad, u8t),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn types_match_redis() {
        assert_eq!(parse_type(b"i8"), Some(FieldType::Signed(8)));
        assert_eq!(parse_type(b"i64"), Some(FieldType::Signed(64)));
        assert_eq!(parse_type(b"u63"), Some(FieldType::Unsigned(63)));
        assert_eq!(parse_type(b"i8\0x"), Some(FieldType::Signed(8)));
        for bad in [
            &b"I8"[..],
            b"U8",
            b"u64",
            b"i65",
            b"i0",
            b"i08",
            b"i",
            b"",
            b"i+8",
            b" i8",
            b"i8 ",
        ] {
            assert_eq!(parse_type(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    /// Replays one BITFIELD call's write ops the way Redis does: grow first, then run.
    fn run(v: &mut Vec<u8>, ops: &[(&str, &str, &str, i64, Overflow)]) -> Vec<Option<i64>> {
        let parsed: Vec<_> = ops
            .iter()
            .map(|&(op, ty, off, val, ow)| {
                let ty = parse_type(ty.as_bytes()).unwrap();
                (op, ty, parse_offset(off.as_bytes(), ty).unwrap(), val, ow)
            })
            .collect();
        for &(op, ty, off, _, _) in &parsed {
            if op != "get" {
                ensure_bit(v, off + u64::from(ty.bits()) - 1);
            }
        }
        parsed
            .iter()
            .map(|&(op, ty, off, val, ow)| match op {
                "get" => Some(get_field(v, off, ty)),
                "set" => bitfield_set(v, off, ty, val, ow),
                _ => bitfield_incrby(v, off, ty, val, ow),
            })
            .collect()
    }

    #[test]
    fn bitfield_matches_redis() {
        use Overflow::*;
        let mut k = Vec::new();
        assert_eq!(run(&mut k, &[("set", "i8", "0", 200, Wrap)]), [Some(0)]);
        assert_eq!(k, b"\xc8");
        let got = run(
            &mut k,
            &[("get", "i8", "0", 0, Wrap), ("get", "u8", "0", 0, Wrap)],
        );
        assert_eq!(got, [Some(-56), Some(200)]);
        let got = run(
            &mut k,
            &[
                ("incrby", "u2", "100", 1, Wrap),
                ("incrby", "u2", "102", 1, Sat),
            ],
        );
        assert_eq!(got, [Some(1), Some(1)]);
        let got = run(&mut k, &[("incrby", "u2", "100", 1, Sat); 4]);
        assert_eq!(got, [Some(2), Some(3), Some(3), Some(3)]);
        assert_eq!(k.len(), 13);
        assert_eq!(run(&mut k, &[("incrby", "u2", "100", 1, Fail)]), [None]);
        assert_eq!(run(&mut k, &[("incrby", "u2", "100", 1, Wrap)]), [Some(0)]);

        let mut k2 = Vec::new();
        let got = run(
            &mut k2,
            &[
                ("set", "u8", "#1", 255, Wrap),
                ("get", "u8", "#1", 0, Wrap),
                ("get", "u4", "#2", 0, Wrap),
                ("get", "i4", "#2", 0, Wrap),
            ],
        );
        assert_eq!(got, [Some(0), Some(255), Some(15), Some(-1)]);
        assert_eq!(k2, b"\x00\xff");

        let (max, min) = (i64::MAX, i64::MIN);
        let mut k3 = Vec::new();
        let got = run(
            &mut k3,
            &[
                ("set", "i64", "0", max, Wrap),
                ("incrby", "i64", "0", 1, Wrap),
                ("incrby", "i64", "0", -1, Sat),
                ("incrby", "i64", "0", min, Sat),
                ("incrby", "i64", "0", min, Sat),
                ("incrby", "i64", "0", -1, Fail),
            ],
        );
        assert_eq!(
            got,
            [Some(0), Some(min), Some(min), Some(min), Some(min), None]
        );
        assert_eq!(k3, b"\x80\x00\x00\x00\x00\x00\x00\x00");

        // SET runs the value through the overflow policy too.
        let mut k4 = Vec::new();
        let got = run(
            &mut k4,
            &[
                ("set", "u8", "0", -1, Wrap),
                ("set", "u8", "8", -1, Sat),
                ("set", "u8", "16", 256, Sat),
                ("set", "i8", "24", -129, Sat),
                ("set", "u8", "32", 256, Fail),
                ("set", "u8", "40", 255, Fail),
            ],
        );
        assert_eq!(got, [Some(0), Some(0), Some(0), Some(0), None, Some(0)]);
        assert_eq!(k4, b"\xff\xff\xff\x80\x00\xff");

        // A refused FAIL op still leaves the string grown.
        let mut k5 = Vec::new();
        assert_eq!(run(&mut k5, &[("set", "u8", "100", 256, Fail)]), [None]);
        assert_eq!(k5, [0u8; 14]);

        let mut k6 = Vec::new();
        let got = run(
            &mut k6,
            &[
                ("set", "u63", "1", max, Wrap),
                ("get", "u63", "1", 0, Wrap),
                ("incrby", "u63", "1", 1, Wrap),
                ("incrby", "u63", "1", min, Sat),
                ("get", "i1", "0", 0, Sat),
                ("set", "i1", "0", -1, Sat),
                ("get", "i1", "0", 0, Sat),
                ("get", "u1", "0", 0, Sat),
            ],
        );
        let want = [
            Some(0),
            Some(max),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(-1),
            Some(1),
        ];
        assert_eq!(got, want);
        assert_eq!(k6, b"\x80\x00\x00\x00\x00\x00\x00\x00");

        let mut k8 = Vec::new();
        let got = run(
            &mut k8,
            &[
                ("incrby", "i5", "3", 100, Wrap),
                ("incrby", "i5", "3", -100, Wrap),
                ("incrby", "i5", "3", 100, Sat),
                ("incrby", "i5", "3", -100, Sat),
            ],
        );
        assert_eq!(got, [Some(4), Some(0), Some(15), Some(-16)]);
        assert_eq!(k8, b"\x10");
    }

    #[test]
    fn set_field_writes_across_bytes() {
        // `SET k "\xab\xcd\xef"` then `BITFIELD k SET ...` on redis-server 7.0.15.
        let mut v = b"\xab\xcd\xef".to_vec();
        assert_eq!(set_field(&mut v, 6, FieldType::Unsigned(12), 0), 3895);
        assert_eq!(v, b"\xa8\x00/");
        let mut v = b"\xab\xcd\xef".to_vec();
        assert_eq!(
            set_field(&mut v, 13, FieldType::Signed(64), -2),
            -4764808405757984768
        );
        assert_eq!(v, b"\xab\xcf\xff\xff\xff\xff\xff\xff\xff\xf0");
        assert_eq!(FieldType::Signed(64).bits(), 64);
    }

    #[test]
    fn reads_past_the_end_are_zero() {
        let s = b"\xff";
        assert_eq!(get_field(s, 4, FieldType::Unsigned(8)), 0xf0);
        assert_eq!(get_field(s, 4_294_967_288, FieldType::Signed(64)), 0);
        assert_eq!(get_field(b"", 0, FieldType::Signed(64)), 0);
    }

    #[test]
    fn incr_and_set_value_arithmetic() {
        use Overflow::*;
        let (i8t, u8t) = (FieldType::Signed(8), FieldType::Unsigned(8));
        assert_eq!(incr_field(127, 1, i8t, Wrap), Some(-128));
        assert_eq!(incr_field(127, 1, i8t, Sat), Some(127));
        assert_eq!(incr_field(127, 1, i8t, Fail), None);
        assert_eq!(incr_field(-128, 255, i8t, Fail), Some(127));
        assert_eq!(incr_field(0, -1, u8t, Wrap), Some(255));
        assert_eq!(incr_field(0, -1, u8t, Sat), Some(0));
        assert_eq!(incr_field(255, i64::MAX, u8t, Wrap), Some(254));
        assert_eq!(set_value(200, i8t, Wrap), Some(-56));
        assert_eq!(set_value(-1, u8t, Sat), Some(255));
        assert_eq!(set_value(-129, i8t, Sat), Some(-128));
        assert_eq!(set_value(256, u8t, Fail), None);
    }
}
