//! RDB framing shared by the writer and the loader: opcodes, type bytes, length and string
//! encodings, LZF and the CRC64. Pure byte work: no I/O, no keyspace, no sockets.

use crc::{Crc, Table, CRC_64_REDIS};

/// The version Redis 7.0 writes.
pub const RDB_VERSION: u32 = 10;
/// The newest version the loader accepts (Redis 7.2 writes 11).
pub const MAX_LOAD_VERSION: u32 = 11;

/// Redis's CRC64 (Jones), sliced by 16 because it runs over every byte of a snapshot.
pub(crate) static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// CRC64 of `data` as Redis computes it (`crc64(0, data, len)`).
pub fn crc64(data: &[u8]) -> u64 {
    CRC64.checksum(data)
}

pub(crate) mod op {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

pub(crate) mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
pub(crate) const NODE_PLAIN: u64 = 1;
pub(crate) const NODE_PACKED: u64 = 2;

/// The special string encodings (RDB_ENC_*), after the 0b11 length prefix.
pub(crate) const ENC_INT8: u8 = 0;
pub(crate) const ENC_INT16: u8 = 1;
pub(crate) const ENC_INT32: u8 = 2;
pub(crate) const ENC_LZF: u8 = 3;

/// Appends `n` in Redis's length encoding (rdbSaveLen).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push((n >> 8) as u8 | 0x40);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The i64 `s` spells in canonical form (Redis's `string2ll`), if any: the keyspace's rule,
/// which also decides which strings are stored as integers.
pub(crate) use shardis_keyspace::canonical_int as canonical_i64;

/// Appends `s` as Redis's rdbSaveRawString does: integers of up to 11 bytes in canonical
/// form as INT8/16/32, then LZF when asked, the string is over 20 bytes and compression
/// saves at least 4 bytes, else the plain bytes.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = canonical_i64(s) {
            if let Ok(v) = i8::try_from(v) {
                out.extend_from_slice(&[0xC0 | ENC_INT8, v as u8]);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xC0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xC0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        // Redis gives liblzf `len - 4` bytes of room, so anything longer is not worth it.
        if let Some(c) = lzf_compress(s, s.len() - 4) {
            out.push(0xC0 | ENC_LZF);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

thread_local! {
    /// The compressor's hash table, kept between calls so a snapshot of many short strings
    /// does not allocate one per string.
    static LZF_TABLE: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Longest back reference LZF can express, and farthest back it can reach.
const LZF_MAX_REF: usize = 264;
const LZF_MAX_OFF: usize = 8192;
const LZF_NONE: u32 = u32::MAX;

/// LZF-compresses `input` into at most `max_out` bytes, or None when it does not fit.
///
/// Our own rather than the `lzf` crate's compressor: that one allocates and zeroes a
/// 512 KiB table per call, which made writing a snapshot of short strings ten times slower.
/// The output is plain LZF (literal runs of up to 32 bytes, back references of 3 to 264
/// bytes up to 8 KiB back), which liblzf and so Redis decode; the table is sized to the
/// input, so compression ratios differ slightly from liblzf's, never validity.
pub(crate) fn lzf_compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n < 4 {
        return None;
    }
    let hlog = (usize::BITS - n.leading_zeros()).clamp(8, 16);
    let hash = |i: usize| {
        let v = u32::from_le_bytes([input[i], input[i + 1], input[i + 2], 0]);
        (v.wrapping_mul(2654435761) >> (32 - hlog)) as usize
    };
    let mut out = Vec::with_capacity(max_out.min(n));
    let literals = |out: &mut Vec<u8>, lit: &[u8]| {
        for chunk in lit.chunks(32) {
            out.push(chunk.len() as u8 - 1);
            out.extend_from_slice(chunk);
        }
    };
    LZF_TABLE.with(|t| {
        let mut table = t.borrow_mut();
        table.clear();
        table.resize(1 << hlog, LZF_NONE);
        let (mut i, mut lit_start) = (0usize, 0usize);
        while i + 2 < n {
            let h = hash(i);
            let cand = table[h];
            table[h] = i as u32;
            if cand != LZF_NONE {
                let c = cand as usize;
                let dist = i - c;
                if dist <= LZF_MAX_OFF && input[c..c + 3] == input[i..i + 3] {
                    let max = (n - i).min(LZF_MAX_REF);
                    let mut l = 3;
                    while l < max && input[c + l] == input[i + l] {
                        l += 1;
                    }
                    literals(&mut out, &input[lit_start..i]);
                    let (len, off) = (l - 2, dist - 1);
                    if len < 7 {
                        out.push(((len << 5) | (off >> 8)) as u8);
                    } else {
                        out.push(((7 << 5) | (off >> 8)) as u8);
                        out.push((len - 7) as u8);
                    }
                    out.push(off as u8);
                    if out.len() > max_out {
                        return None;
                    }
                    // Index the positions the match covered, for later matches.
                    for j in i + 1..(i + l).min(n - 2) {
                        table[hash(j)] = j as u32;
                    }
                    i += l;
                    lit_start = i;
                    continue;
                }
            }
            i += 1;
        }
        literals(&mut out, &input[lit_start..]);
        (out.len() <= max_out).then_some(out)
    })
}

/// The most an LZF stream can expand: a 3-byte back reference yields 264 bytes.
const LZF_MAX_RATIO: u64 = 88;

/// Decompresses an LZF block that must expand to exactly `len` bytes. The declared length
/// is checked against what `data` could possibly expand to first, so a hostile length
/// never makes us allocate more than a bounded multiple of bytes really read.
pub(crate) fn lzf_decompress(data: &[u8], len: u64) -> Result<Vec<u8>, &'static str> {
    if len == 0 || data.is_empty() || len > data.len() as u64 * LZF_MAX_RATIO {
        return Err("invalid LZF lengths");
    }
    match lzf::decompress(data, len as usize) {
        Ok(v) if v.len() as u64 == len => Ok(v),
        _ => Err("invalid LZF compressed string"),
    }
}

/// Formats a score the way a listpack can hold it and strtod reads back exactly: integral
/// values in Redis's `d2string` integer range as integers (which a listpack then stores as
/// integers), others in Rust's shortest round-trip form.
pub(crate) fn score_text(s: f64) -> String {
    if s.is_infinite() {
        return if s > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if s == 0.0 {
        return if s.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const MAX: f64 = 4503599627370496.0; // 2^52, as in Redis's d2string.
    if s > -MAX && s < MAX && s == s.trunc() {
        return (s as i64).to_string();
    }
    format!("{s:?}")
}

/// Parses a score the way strtod does for everything Redis writes: decimal, exponent,
/// "inf"/"-inf". NaN is refused, as Redis refuses NaN scores.
pub(crate) fn parse_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_jones() {
        // The check value from Redis's crc64.c self-test.
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        let mut d = CRC64.digest();
        d.update(b"1234");
        d.update(b"56789");
        assert_eq!(d.finalize(), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lengths_use_the_smallest_form() {
        let enc = |n| {
            let mut v = Vec::new();
            put_len(&mut v, n);
            v
        };
        assert_eq!(enc(63), [63]);
        assert_eq!(enc(64), [0x40, 64]);
        assert_eq!(enc(16383), [0x7f, 0xff]);
        assert_eq!(enc(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn strings_take_integer_and_lzf_encodings() {
        let enc = |s: &[u8], c| {
            let mut v = Vec::new();
            put_string(&mut v, s, c);
            v
        };
        assert_eq!(enc(b"-128", true), [0xC0, 0x80]);
        assert_eq!(enc(b"300", true), [0xC1, 0x2c, 0x01]);
        assert_eq!(enc(b"-2147483648", true), [0xC2, 0, 0, 0, 0x80]);
        assert_eq!(enc(b"2147483648", true)[0], 10);
        assert_eq!(enc(b"007", true), [3, b'0', b'0', b'7']);
        assert_eq!(enc(b"-0", true), [2, b'-', b'0']);
        let long = vec![b'a'; 100];
        let c = enc(&long, true);
        assert_eq!(c[0], 0xC3);
        assert!(c.len() < 30);
        assert_eq!(enc(&long, false).len(), 102);
        // Incompressible data stays plain.
        let noise: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(enc(&noise, true)[0], 0x40);
    }

    #[test]
    fn our_lzf_output_decodes_with_the_lzf_crate() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..3000 {
            let n = rng.usize(4..20_000);
            let alphabet = rng.u8(1..=255);
            let step = rng.usize(1..50);
            let data: Vec<u8> = match rng.u8(..3) {
                0 => (0..n).map(|_| rng.u8(..alphabet)).collect(),
                1 => (0..n).map(|i| (i / step) as u8).collect(),
                _ => std::iter::repeat_with(|| format!("word{} ", rng.u16(..50)))
                    .flat_map(String::into_bytes)
                    .take(n)
                    .collect(),
            };
            if let Some(c) = lzf_compress(&data, n) {
                assert!(c.len() <= n);
                assert_eq!(lzf::decompress(&c, n).unwrap(), data);
                assert_eq!(lzf_decompress(&c, n as u64).unwrap(), data);
            }
        }
        assert!(lzf_compress(&[b'a'; 10_000], 9_999).unwrap().len() < 200);
        assert!(lzf_compress(b"abcdefgh", 4).is_none());
    }

    #[test]
    fn lzf_round_trips_and_refuses_bad_lengths() {
        for n in [21usize, 100, 5000, 100_000] {
            let data: Vec<u8> = (0..n)
                .map(|i| b"abcabcabd"[i % 9] ^ (i / 1000) as u8)
                .collect();
            let c = lzf_compress(&data, n).unwrap();
            assert_eq!(lzf_decompress(&c, n as u64).unwrap(), data);
            assert!(lzf_decompress(&c, n as u64 - 1).is_err());
            assert!(lzf_decompress(&c, n as u64 + 1).is_err());
        }
        assert!(lzf_decompress(&[0, b'x'], u64::MAX).is_err());
        // A back reference before the start of the output.
        assert!(lzf_decompress(&[0x20, 0x05], 3).is_err());
    }

    #[test]
    fn scores_format_and_parse_back() {
        for s in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            1.5,
            0.1,
            1e300,
            -2.5e-10,
            4503599627370496.0,
        ] {
            assert_eq!(
                parse_score(score_text(s).as_bytes()).unwrap().to_bits(),
                s.to_bits()
            );
        }
        assert_eq!(score_text(f64::INFINITY), "inf");
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b"abc"), None);
    }
}
