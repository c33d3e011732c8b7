//! Redis number parsing and formatting: `string2ll`, `string2d`, and an exact software model
//! of the x86_64 80-bit `long double` behind INCRBYFLOAT and HINCRBYFLOAT (`string2ld`,
//! long double addition, `ld2string(LD_STR_HUMAN)`). Pure: no keyspace, no I/O.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive};

/// Redis `MAX_LONG_DOUBLE_CHARS`: `string2ld` copies into a buffer this size, so inputs of
/// this length or more are refused before any parsing.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Redis `LONG_STR_SIZE`: `string2ll` refuses inputs of this length or more up front.
const LONG_STR_SIZE: usize = 21;

/// Parses a signed 64-bit integer exactly like Redis `string2ll`: an optional `-`, then no
/// leading zeros (so `"-0"`, `"+1"`, `"01"`, `" 1"` are all refused), overflow refused.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > 1u64 << 63 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a double exactly like Redis `string2d` (ZADD, ZINCRBY, ...): C `strtod` syntax
/// (decimal, hex floats, `inf`/`infinity` in any case, optional sign) that must consume the
/// whole input. Refused: empty input, leading whitespace, trailing bytes (an embedded NUL
/// included), NaN, and literals that overflow to infinity or underflow to zero (`ERANGE`).
/// Results that land in the subnormal range are accepted.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let num = scan(s)?;
    let magnitude = match num.kind {
        Kind::Nan => return None,
        Kind::Inf => f64::INFINITY,
        Kind::Dec { int, frac, .. } => {
            // The scanner has checked the whole input against the grammar that Rust's own
            // correctly rounded parser accepts, so it is used as the fast path.
            let text = std::str::from_utf8(s).ok()?;
            let v: f64 = text.parse().ok()?;
            if v.is_infinite() || (v == 0.0 && has_nonzero_digit(int, frac)) {
                return None;
            }
            return Some(v);
        }
        Kind::Hex { int, frac, exp } => match hex_to_rounded(int, frac, exp, &F64) {
            Rounded::Zero if has_nonzero_digit(int, frac) => return None,
            Rounded::Zero => 0.0,
            Rounded::Inf => return None,
            Rounded::Finite(m, e) => f64_from_parts(m, e),
        },
    };
    Some(if num.neg { -magnitude } else { magnitude })
}

fn has_nonzero_digit(int: &[u8], frac: &[u8]) -> bool {
    int.iter().chain(frac).any(|&c| c != b'0')
}

/// Builds `m * 2^e` from a mantissa and exponent already rounded to the binary64 format.
fn f64_from_parts(m: u64, e: i64) -> f64 {
    if m >= 1 << 52 {
        let biased = (e + 1075) as u64;
        f64::from_bits((biased << 52) | (m & ((1 << 52) - 1)))
    } else {
        // Subnormal: e is pinned to the minimum, and the mantissa is the bit pattern.
        f64::from_bits(m)
    }
}

/// Binary floating-point format: values are `m * 2^e` with `m < 2^prec` and `e >= emin`,
/// normal when `m >= 2^(prec-1)`; anything needing `e > emax` is infinite.
struct Format {
    prec: u32,
    emin: i64,
    emax: i64,
    /// Decimal exponent of the leading digit above which a literal surely overflows.
    max_dec_lead: i64,
    /// `digits + exponent` at or below which a literal surely rounds to zero.
    min_dec_end: i64,
}

/// x87 extended precision: 64-bit mantissa with explicit integer bit, 15-bit exponent.
const LD: Format = Format {
    prec: 64,
    emin: -16445,
    emax: 16320,
    max_dec_lead: 4932,
    min_dec_end: -4951,
};

const F64: Format = Format {
    prec: 53,
    emin: -1074,
    emax: 971,
    max_dec_lead: 308,
    min_dec_end: -324,
};

enum Rounded {
    Zero,
    Finite(u64, i64),
    Inf,
}

/// Rounds `num / den * 2^e2` (`num > 0`) to nearest, ties to even, with gradual underflow,
/// which is what glibc `strtold`/`strtod` and the x87 adder do in the default mode.
fn round_ratio(num: &BigUint, den: &BigUint, e2: i64, fmt: &Format) -> Rounded {
    let lead = i64::try_from(num.bits()).unwrap_or(i64::MAX)
        - i64::try_from(den.bits()).unwrap_or(i64::MAX)
        + e2;
    // num/den lies in [2^(lead-1), 2^(lead+1)), so at most one retry is needed.
    let mut e = (lead - i64::from(fmt.prec) + 1).max(fmt.emin);
    loop {
        let (m, rem, scaled_den) = divide_scaled(num, den, e2 - e);
        let half_cmp = (&rem << 1u32).cmp(&scaled_den);
        let m = m.to_u64().unwrap_or(u64::MAX);
        if m < 1 << (fmt.prec - 1) && e > fmt.emin {
            e -= 1;
            continue;
        }
        let round_up = match half_cmp {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => m & 1 == 1,
            std::cmp::Ordering::Less => false,
        };
        return finish(m, e, round_up, fmt);
    }
}

/// `floor(num * 2^shift / den)`, the remainder, and the denominator it is relative to.
fn divide_scaled(num: &BigUint, den: &BigUint, shift: i64) -> (BigUint, BigUint, BigUint) {
    if shift >= 0 {
        let n = num << shift as u64;
        let (q, r) = n.div_rem(den);
        (q, r, den.clone())
    } else {
        let d = den << shift.unsigned_abs();
        let (q, r) = num.div_rem(&d);
        (q, r, d)
    }
}

fn finish(m: u64, e: i64, round_up: bool, fmt: &Format) -> Rounded {
    let mut m = u128::from(m) + u128::from(round_up);
    let mut e = e;
    if m == 1u128 << fmt.prec {
        m >>= 1;
        e += 1;
    }
    if m == 0 {
        Rounded::Zero
    } else if e > fmt.emax {
        Rounded::Inf
    } else {
        Rounded::Finite(m as u64, e)
    }
}

/// Same as [`round_ratio`] for an integer held in a `u128`, the common case of addition.
fn round_u128(v: u128, e: i64, fmt: &Format) -> Rounded {
    if v == 0 {
        return Rounded::Zero;
    }
    let len = i64::from(128 - v.leading_zeros());
    let target = (e + len - i64::from(fmt.prec)).max(fmt.emin);
    if target <= e {
        // Exact: shift left into canonical position.
        let m = (v << (e - target) as u32) as u64;
        return if target > fmt.emax {
            Rounded::Inf
        } else {
            Rounded::Finite(m, target)
        };
    }
    let shift = (target - e) as u32;
    let m = (v >> shift) as u64;
    let rem = v & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let round_up = rem > half || (rem == half && m & 1 == 1);
    finish(m, target, round_up, fmt)
}

/// Scanned `strtod` literal that consumed its whole input.
struct Num<'a> {
    neg: bool,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Inf,
    Nan,
    /// `int.frac * 10^exp`
    Dec {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    /// `0xint.frac * 2^exp`
    Hex {
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
}

/// Large enough that any literal with an exponent beyond it over- or underflows whatever its
/// (at most a few thousand) digits are, small enough to add digit counts without overflow.
const EXP_CLAMP: i64 = 1 << 40;

/// Matches the C `strtod` grammar against the whole input. `strtod` consumes the longest
/// valid prefix, and Redis refuses any unconsumed tail, so this is equivalent to requiring
/// the entire input to be a literal. A leading space is never part of the grammar, which
/// covers Redis's explicit `isspace(buf[0])` refusal.
fn scan(s: &[u8]) -> Option<Num<'_>> {
    let (neg, rest) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(Num {
            neg,
            kind: Kind::Inf,
        });
    }
    if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"nan") {
        let tail = &rest[3..];
        let payload_ok = tail.is_empty()
            || (tail.len() >= 2
                && tail[0] == b'('
                && tail[tail.len() - 1] == b')'
                && tail[1..tail.len() - 1]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'_'));
        return payload_ok.then_some(Num {
            neg,
            kind: Kind::Nan,
        });
    }
    let hex = rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x';
    let body = if hex { &rest[2..] } else { rest };
    let is_digit = |c: &u8| {
        if hex {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    let int_len = body.iter().take_while(|c| is_digit(c)).count();
    let int = &body[..int_len];
    let mut pos = int_len;
    let mut frac: &[u8] = &[];
    if body.get(pos) == Some(&b'.') {
        let f = body[pos + 1..].iter().take_while(|c| is_digit(c)).count();
        frac = &body[pos + 1..pos + 1 + f];
        pos += 1 + f;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp = 0i64;
    let exp_char = if hex { b'p' } else { b'e' };
    if let Some(&c) = body.get(pos) {
        if c | 0x20 != exp_char {
            return None;
        }
        let mut p = pos + 1;
        let exp_neg = match body.get(p) {
            Some(b'-') => {
                p += 1;
                true
            }
            Some(b'+') => {
                p += 1;
                false
            }
            _ => false,
        };
        let digits = &body[p..];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for &d in digits {
            exp = (exp * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
        }
        if exp_neg {
            exp = -exp;
        }
    }
    let kind = if hex {
        Kind::Hex { int, frac, exp }
    } else {
        Kind::Dec { int, frac, exp }
    };
    Some(Num { neg, kind })
}

fn dec_to_rounded(int: &[u8], frac: &[u8], exp: i64, fmt: &Format) -> Rounded {
    let mut digits: Vec<u8> = int.iter().chain(frac).copied().collect();
    let mut e10 = exp - frac.len() as i64;
    let lead_zeros = digits.iter().take_while(|&&c| c == b'0').count();
    digits.drain(..lead_zeros);
    if digits.is_empty() {
        return Rounded::Zero;
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
        e10 += 1;
    }
    let n = digits.len() as i64;
    if n - 1 + e10 > fmt.max_dec_lead {
        return Rounded::Inf;
    }
    if n + e10 <= fmt.min_dec_end {
        return Rounded::Zero;
    }
    let d = BigUint::parse_bytes(&digits, 10).unwrap_or_default();
    let ten = BigUint::from(10u32);
    if e10 >= 0 {
        let num = d * ten.pow(e10 as u32);
        round_ratio(&num, &BigUint::one(), 0, fmt)
    } else {
        let den = ten.pow(e10.unsigned_abs() as u32);
        round_ratio(&d, &den, 0, fmt)
    }
}

/// Hex literals are rounded exactly. Known divergence: glibc's `strtold` drops a sticky bit
/// in one deep-subnormal tie (`0x1.0000000000000001p-16446` is refused there as an
/// underflow to zero, while the exact rounding here gives the smallest subnormal).
fn hex_to_rounded(int: &[u8], frac: &[u8], exp: i64, fmt: &Format) -> Rounded {
    let digits: Vec<u8> = int.iter().chain(frac).copied().collect();
    let lead_zeros = digits.iter().take_while(|&&c| c == b'0').count();
    let digits = &digits[lead_zeros..];
    if digits.is_empty() {
        return Rounded::Zero;
    }
    let e2 = exp - 4 * frac.len() as i64;
    let lead = e2 + 4 * digits.len() as i64;
    // The value lies in [2^(lead-4), 2^lead): decide the far-out cases before shifting.
    if lead - 4 > fmt.emax + i64::from(fmt.prec) {
        return Rounded::Inf;
    }
    if lead < fmt.emin - 1 {
        return Rounded::Zero;
    }
    let v = BigUint::parse_bytes(digits, 16).unwrap_or_default();
    round_ratio(&v, &BigUint::one(), e2, fmt)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Zero,
    Finite,
    Inf,
    Nan,
}

/// An x86_64 Linux `long double` (x87 80-bit extended precision), modelled exactly.
///
/// Finite non-zero values are `±mant * 2^exp` in canonical form: the top mantissa bit is set
/// unless the value is subnormal, in which case `exp` is the format minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    class: Class,
    mant: u64,
    exp: i32,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        class: Class::Zero,
        mant: 0,
        exp: 0,
    };

    /// Positive zero: the value of a missing key.
    pub fn zero() -> LongDouble {
        LongDouble::ZERO
    }

    fn special(neg: bool, class: Class) -> LongDouble {
        LongDouble {
            neg,
            class,
            mant: 0,
            exp: 0,
        }
    }

    fn from_rounded(neg: bool, r: Rounded) -> LongDouble {
        match r {
            Rounded::Zero => LongDouble::special(neg, Class::Zero),
            Rounded::Inf => LongDouble::special(neg, Class::Inf),
            Rounded::Finite(mant, exp) => LongDouble {
                neg,
                class: Class::Finite,
                mant,
                exp: exp as i32,
            },
        }
    }

    /// Exact conversion, as C's `(long double)ll` for an integer-encoded value.
    pub fn from_i64(n: i64) -> LongDouble {
        let r = round_u128(u128::from(n.unsigned_abs()), 0, &LD);
        LongDouble::from_rounded(n < 0, r)
    }

    /// Neither NaN nor infinite: the validity check INCRBYFLOAT applies to its result.
    pub fn is_finite(&self) -> bool {
        matches!(self.class, Class::Zero | Class::Finite)
    }

    pub fn is_nan(&self) -> bool {
        self.class == Class::Nan
    }

    pub fn is_infinite(&self) -> bool {
        self.class == Class::Inf
    }

    pub fn is_sign_negative(&self) -> bool {
        self.neg
    }
}

/// Parses like Redis `string2ld`: refuses empty input, input of [`MAX_LONG_DOUBLE_CHARS`]
/// bytes or more, leading whitespace, unconsumed bytes (an embedded NUL included), NaN, and
/// finite literals that overflow to infinity or round to zero. `inf`/`infinity` are
/// accepted; the result is the `strtold` value correctly rounded to 64 mantissa bits.
pub fn parse_long_double(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let num = scan(s)?;
    let (rounded, nonzero) = match num.kind {
        Kind::Nan => return None,
        Kind::Inf => return Some(LongDouble::special(num.neg, Class::Inf)),
        Kind::Dec { int, frac, exp } => (
            dec_to_rounded(int, frac, exp, &LD),
            has_nonzero_digit(int, frac),
        ),
        Kind::Hex { int, frac, exp } => (
            hex_to_rounded(int, frac, exp, &LD),
            has_nonzero_digit(int, frac),
        ),
    };
    match rounded {
        Rounded::Inf => None,
        Rounded::Zero if nonzero => None,
        r => Some(LongDouble::from_rounded(num.neg, r)),
    }
}

/// IEEE addition in x87 extended precision, round to nearest even.
pub fn add(a: &LongDouble, b: &LongDouble) -> LongDouble {
    let (a, b) = (*a, *b);
    use Class::*;
    match (a.class, b.class) {
        // The x87 "real indefinite" NaN has its sign bit set (glibc prints it as "-nan").
        (Nan, _) | (_, Nan) => LongDouble::special(true, Nan),
        (Inf, Inf) if a.neg != b.neg => LongDouble::special(true, Nan),
        (Inf, _) => a,
        (_, Inf) => b,
        (Zero, Zero) => LongDouble::special(a.neg && b.neg, Zero),
        (Zero, _) => b,
        (_, Zero) => a,
        (Finite, Finite) => add_finite(a, b),
    }
}

fn add_finite(a: LongDouble, b: LongDouble) -> LongDouble {
    let (hi, lo) = if a.exp >= b.exp { (a, b) } else { (b, a) };
    let diff = i64::from(hi.exp) - i64::from(lo.exp);
    if diff <= 63 {
        let h = u128::from(hi.mant) << diff;
        let l = u128::from(lo.mant);
        let (neg, mag) = if hi.neg == lo.neg {
            (hi.neg, h + l)
        } else if h >= l {
            (hi.neg, h - l)
        } else {
            (lo.neg, l - h)
        };
        if mag == 0 {
            return LongDouble::ZERO;
        }
        return LongDouble::from_rounded(neg, round_u128(mag, i64::from(lo.exp), &LD));
    }
    let h = BigUint::from(hi.mant) << diff as u64;
    let l = BigUint::from(lo.mant);
    let (neg, mag) = if hi.neg == lo.neg {
        (hi.neg, h + l)
    } else {
        // With more than 63 bits of separation the larger exponent always wins.
        (hi.neg, h - l)
    };
    let r = round_ratio(&mag, &BigUint::one(), i64::from(lo.exp), &LD);
    LongDouble::from_rounded(neg, r)
}

/// `ld2string(LD_STR_HUMAN)`: glibc `%.17Lf` (exact binary value, rounded half-even to 17
/// decimals), trailing zeros and a then-trailing `.` removed, and `-0` rewritten to `0`.
/// Infinities print as `inf`/`-inf`; NaN as glibc prints it.
pub fn format_human(v: &LongDouble) -> String {
    let digits = match v.class {
        Class::Inf => return if v.neg { "-inf" } else { "inf" }.to_string(),
        Class::Nan => return if v.neg { "-nan" } else { "nan" }.to_string(),
        Class::Zero => return "0".to_string(),
        Class::Finite => fixed17(v.mant, i64::from(v.exp)),
    };
    let mut out = String::with_capacity(digits.len() + 1);
    if v.neg {
        out.push('-');
    }
    out.push_str(&digits);
    if let Some(dot) = out.find('.') {
        let trimmed = out.trim_end_matches('0').len();
        out.truncate(trimmed);
        if out.len() == dot + 1 {
            out.truncate(dot);
        }
    }
    if out == "-0" {
        out = "0".to_string();
    }
    out
}

const TEN_POW_17: u128 = 100_000_000_000_000_000;

/// `mant * 2^exp` printed as `%.17f` without sign.
fn fixed17(mant: u64, exp: i64) -> String {
    if exp >= 0 {
        let int = if exp <= 64 {
            (u128::from(mant) << exp).to_string()
        } else {
            (BigUint::from(mant) << exp as u64).to_string()
        };
        return format!("{int}.00000000000000000");
    }
    let shift = exp.unsigned_abs();
    // mant * 10^17 < 2^121: from a shift of 122 on it is below half a unit and rounds to 0.
    let scaled = u128::from(mant) * TEN_POW_17;
    let q = if shift >= 122 {
        0
    } else {
        let q = scaled >> shift;
        let rem = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    format!("{}.{:017}", q / TEN_POW_17, q % TEN_POW_17)
}

/// Convenience for the INCRBYFLOAT / HINCRBYFLOAT core: `None` when the sum is NaN or
/// infinite (Redis: "increment would produce NaN or Infinity"), else the stored text.
pub fn incr_long_double(value: LongDouble, incr: LongDouble) -> Option<String> {
    let sum = add(&value, &incr);
    sum.is_finite().then(|| format_human(&sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCR_1E400: &str =
        "1000000000000000000028188068394758651458645343362905203862591069353968\
        5534008629862039363994848324160522094053927317616200295822777259255734023828976593340661\
        0177974474345461739178624481166749717237789438243915933380474706750262466844013592375136\
        0383034373548550524495596497902182503828009106841494740245689865304095101751265809261582\
        7588920183472511643316591362664138176309734806343732497430221946880";

    /// `SET k <stored>` then `INCRBYFLOAT k <incr>`, as the command core does it.
    fn incrbyfloat(stored: &str, incr: &str) -> Result<String, &'static str> {
        let (Some(v), Some(i)) = (
            parse_long_double(stored.as_bytes()),
            parse_long_double(incr.as_bytes()),
        ) else {
            return Err("ERR value is not a valid float");
        };
        incr_long_double(v, i).ok_or("ERR increment would produce NaN or Infinity")
    }

    #[test]
    fn parse_i64_matches_string2ll() {
        // Expected values: `SET k <v>` then `INCRBY k 0` on redis-server 7.0.15.
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"-0"[..],
            b"+1",
            b"01",
            b"00",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"12345678901234567890",
            b"000000000000000000001",
            b"",
            b"-",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_f64_matches_string2d() {
        // ZSCORE prints this one as 4.9406564584124654e-324.
        const DENORM_MIN: f64 = f64::from_bits(1);
        // Expected values: `ZADD z <v> m` then `ZSCORE z m` on redis-server 7.0.15.
        let ok: &[(&str, f64)] = &[
            ("0x10", 16.0),
            ("4e-324", DENORM_MIN),
            ("3e-324", DENORM_MIN),
            ("1.e5", 100_000.0),
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("+INFINITY", f64::INFINITY),
            ("1.7976931348623158e308", f64::MAX),
            ("+.5", 0.5),
            ("0x1p-1074", DENORM_MIN),
            ("0x1.8p-1075", DENORM_MIN),
            ("1.5e-310", 1.5e-310),
            ("0.1", 0.1),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_f64(s.as_bytes()), Some(want), "{s}");
        }
        let neg_zero = parse_f64(b"-0").unwrap();
        assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
        for bad in [
            "2e-324",
            "1e-400",
            " 1",
            "1\0",
            "nan",
            "1e309",
            "1.7976931348623159e308",
            "1e",
            "0x1p-1075",
            "0x1p1024",
            "1_0",
            "",
        ] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn incrbyfloat_matches_redis() {
        // Expected values: `SET k <stored>` then `INCRBYFLOAT k <incr>` on redis-server 7.0.15.
        let cases: &[(&str, &str, &str)] = &[
            ("10.50", "0.1", "10.6"),
            ("10.6", "-5", "5.6"),
            ("5.0e3", "2.0e2", "5200"),
            ("3.0", "1.1", "4.1"),
            ("4.1", "1e400", INCR_1E400),
            ("0.1", "0.2", "0.3"),
            ("0", "1e-20", "0"),
            ("0", "-1e-20", "0"),
            ("-0", "-0", "0"),
            (
                "0.3333333333333333333",
                "0.3333333333333333333",
                "0.66666666666666667",
            ),
            ("1", "-0.9", "0.1"),
            ("1.5", "-1.5", "0"),
            ("17179869184", "0.5", "17179869184.5"),
            ("0", "0x1p-18", "0.00000381469726562"),
            ("0", "0x3p-18", "0.00001144409179688"),
            ("1e17", "0.1", "100000000000000000.1015625"),
            ("123456789012345678", "1", "123456789012345679"),
            ("18446744073709551615", "1", "18446744073709551616"),
            ("1e4932", "-1e4932", "0"),
            (
                "0",
                "1.23456789012345678901234567890",
                "1.23456789012345679",
            ),
            ("0", "-123.456", "-123.456"),
            ("9007199254740993", "0", "9007199254740993"),
            ("0", "1e-4940", "0"),
            ("0", "0.000000000000000005", "0"),
            ("0", "0.000000000000000015", "0.00000000000000002"),
            ("0", "0.000000000000000025", "0.00000000000000002"),
            ("2.5", "0", "2.5"),
            ("0", "1e20", "100000000000000000000"),
            ("0", "1.0e-5", "0.00001"),
            ("0", "99999999999999999.5", "99999999999999999.5"),
            ("0", "+.5e1", "5"),
            ("0", "5.", "5"),
            ("0", "0x1.8p1", "3"),
            ("0", "0x1p-16382", "0"),
            ("-5.5", "2.25", "-3.25"),
            ("1e-17", "0", "0.00000000000000001"),
            (
                "-0.000000000000000005",
                "-0.000000000000000001",
                "-0.00000000000000001",
            ),
        ];
        for &(stored, incr, want) in cases {
            assert_eq!(
                incrbyfloat(stored, incr).as_deref(),
                Ok(want),
                "{stored} + {incr}"
            );
        }
    }

    #[test]
    fn incrbyfloat_errors_match_redis() {
        let invalid = "ERR value is not a valid float";
        let nan_inf = "ERR increment would produce NaN or Infinity";
        let long_ok = format!("1.{}", "0".repeat(5117));
        let too_long = format!("1.{}", "0".repeat(5118));
        let huge = format!("1{}", "0".repeat(5117));
        let cases: &[(&str, &str, &str)] = &[
            ("-1.1e4932", "-1e4931", nan_inf),
            ("1.18e4932", "1e4930", nan_inf),
            ("0", "inf", nan_inf),
            ("0", "-inf", nan_inf),
            ("0", "INFINITY", nan_inf),
            ("0", "123abc", invalid),
            ("abc", "1", invalid),
            ("", "1", invalid),
            ("0", "1e5000", invalid),
            ("0", "1e-5000", invalid),
            ("0", " 1", invalid),
            ("0", "1 ", invalid),
            ("0", "nan", invalid),
            ("\0abc", "1", invalid),
            ("1.5\0abc", "1", invalid),
            ("0", &huge, invalid),
            ("0", &too_long, invalid),
        ];
        for &(stored, incr, want) in cases {
            assert_eq!(
                incrbyfloat(stored, incr),
                Err(want),
                "{stored:?} + {incr:?}"
            );
        }
        assert_eq!(long_ok.len(), MAX_LONG_DOUBLE_CHARS - 1);
        assert_eq!(incrbyfloat("0", &long_ok).as_deref(), Ok("1"));
    }

    #[test]
    fn parse_long_double_classes() {
        let inf = parse_long_double(b"-Infinity").unwrap();
        assert!(inf.is_infinite() && inf.is_sign_negative() && !inf.is_finite());
        assert!(parse_long_double(b"infinit").is_none());
        assert!(parse_long_double(b"nan(123)").is_none());
        assert!(parse_long_double(b"0x").is_none());
        assert!(parse_long_double(b"0x1p").is_none());
        assert!(parse_long_double(b"0e99999999999999999999")
            .unwrap()
            .is_finite());
        assert!(parse_long_double(b"1e99999999999999999999").is_none());
        // Largest finite long double is accepted, anything rounding beyond it is not.
        let max = b"1.18973149535723176502e4932";
        assert!(parse_long_double(max).unwrap().is_finite());
        assert!(parse_long_double(b"1.18973149535723176509e4932").is_none());
        // Half the smallest subnormal rounds to zero (refused); just above it rounds up.
        assert!(parse_long_double(b"1.8e-4951").is_none());
        assert!(parse_long_double(b"1.9e-4951").is_some());
        assert!(parse_long_double(b"0x1p-16446").is_none());
        assert!(parse_long_double(b"0x1p-16445").is_some());
    }

    #[test]
    fn add_special_values() {
        let inf = parse_long_double(b"inf").unwrap();
        let ninf = parse_long_double(b"-inf").unwrap();
        let one = LongDouble::from_i64(1);
        assert!(add(&inf, &ninf).is_nan());
        assert_eq!(add(&inf, &one), inf);
        assert_eq!(add(&one, &ninf), ninf);
        let nzero = parse_long_double(b"-0").unwrap();
        assert!(add(&nzero, &nzero).is_sign_negative());
        assert!(!add(&nzero, &LongDouble::zero()).is_sign_negative());
        assert!(!add(&one, &LongDouble::from_i64(-1)).is_sign_negative());
        assert_eq!(format_human(&inf), "inf");
        assert_eq!(format_human(&ninf), "-inf");
        assert_eq!(format_human(&nzero), "0");
    }

    #[test]
    fn from_i64_is_exact() {
        for n in [0, 1, -1, 42, i64::MAX, i64::MIN, 1 << 62, -(1 << 53) - 1] {
            let parsed = parse_long_double(n.to_string().as_bytes()).unwrap();
            assert_eq!(LongDouble::from_i64(n), parsed, "{n}");
            assert_eq!(format_human(&parsed), n.to_string());
        }
    }

    #[test]
    fn overflow_from_addition() {
        // `SET k 1e4932; INCRBYFLOAT k 1.1e4931` on redis-server 7.0.15: a 4933-digit result.
        let got = incrbyfloat("1e4932", "1.1e4931").unwrap();
        assert_eq!(got.len(), 4933);
        assert!(got.starts_with("111000000000000000000990580750049176564917899766262605925051"));
    }
}
