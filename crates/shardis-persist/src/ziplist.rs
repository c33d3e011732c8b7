//! Redis's ziplist (ziplist.c), the list/hash/zset encoding of RDB files before Redis 7.0: a
//! strict decoder, and an encoder for tests and tools that must produce old files. Pure
//! byte work: no I/O, no keyspace.

use crate::format::canonical_i64;
use crate::listpack::{bad, BadBlob, Elem};

const HEADER: usize = 10;
const END: u8 = 0xFF;
const BIG_PREVLEN: u8 = 254;

/// Decodes every entry of `zl`, validating as Redis's deep ziplistValidateIntegrity does:
/// header size, tail offset, count, each entry's prevlen and bounds, terminator.
pub fn decode<'a>(
    zl: &'a [u8],
    mut f: impl FnMut(Elem<'a>) -> Result<(), BadBlob>,
) -> Result<usize, BadBlob> {
    if zl.len() < HEADER + 1 {
        return bad(0, "ziplist shorter than its header");
    }
    let u32at = |i: usize| u32::from_le_bytes([zl[i], zl[i + 1], zl[i + 2], zl[i + 3]]) as usize;
    if u32at(0) != zl.len() {
        return bad(0, "ziplist size does not match its header");
    }
    let tail = u32at(4);
    let declared = u16::from_le_bytes([zl[8], zl[9]]);
    let end = zl.len() - 1;
    if zl[end] != END {
        return bad(end, "ziplist without terminator");
    }
    let (mut p, mut prev_len, mut last, mut count) = (HEADER, 0usize, HEADER, 0usize);
    while p < end {
        let start = p;
        let need = |q: usize, n: usize| {
            if q + n > end {
                bad(start, "ziplist entry past the end")
            } else {
                Ok(())
            }
        };
        let prevlen = if zl[p] < BIG_PREVLEN {
            p += 1;
            zl[p - 1] as usize
        } else if zl[p] == BIG_PREVLEN {
            need(p, 5)?;
            p += 5;
            u32at(p - 4)
        } else {
            return bad(p, "ziplist entry where its end should be");
        };
        if prevlen != prev_len {
            return bad(start, "ziplist entry with a wrong prevlen");
        }
        need(p, 1)?;
        let e = zl[p];
        let (head, data_len, int_len) = match e >> 6 {
            0 => (1, (e & 0x3f) as usize, 0),
            1 => {
                need(p, 2)?;
                (2, (((e & 0x3f) as usize) << 8) | zl[p + 1] as usize, 0)
            }
            2 => {
                need(p, 5)?;
                let n = u32::from_be_bytes([zl[p + 1], zl[p + 2], zl[p + 3], zl[p + 4]]);
                (5, n as usize, 0)
            }
            _ => match e {
                0xC0 => (1, 0, 2),
                0xD0 => (1, 0, 4),
                0xE0 => (1, 0, 8),
                0xF0 => (1, 0, 3),
                0xFE => (1, 0, 1),
                0xF1..=0xFD => (1, 0, 0),
                _ => return bad(p, "invalid ziplist entry encoding"),
            },
        };
        need(p, head + data_len + int_len)?;
        let d = p + head;
        let elem = if e >> 6 != 3 {
            Elem::Str(&zl[d..d + data_len])
        } else {
            let b = &zl[d..d + int_len];
            Elem::Int(match int_len {
                0 => (e & 0x0f) as i64 - 1,
                1 => b[0] as i8 as i64,
                2 => i16::from_le_bytes([b[0], b[1]]) as i64,
                3 => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as i64,
                4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            })
        };
        f(elem)?;
        last = start;
        p = d + data_len + int_len;
        prev_len = p - start;
        count += 1;
    }
    if tail != last {
        return bad(4, "ziplist tail offset does not point at its last entry");
    }
    if declared != u16::MAX && declared as usize != count {
        return bad(8, "ziplist count does not match its entries");
    }
    Ok(count)
}

/// Encodes `items` as a ziplist the way ziplist.c would (integers of up to 32 bytes in
/// canonical form as integer entries).
pub fn encode<I: AsRef<[u8]>>(items: &[I]) -> Vec<u8> {
    let mut zl = vec![0u8; HEADER];
    let (mut prev_len, mut last) = (0usize, HEADER);
    for it in items {
        let s = it.as_ref();
        let start = zl.len();
        last = start;
        if prev_len < BIG_PREVLEN as usize {
            zl.push(prev_len as u8);
        } else {
            zl.push(BIG_PREVLEN);
            zl.extend_from_slice(&(prev_len as u32).to_le_bytes());
        }
        match canonical_i64(s) {
            Some(v) if (0..=12).contains(&v) => zl.push(0xF1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => zl.extend_from_slice(&[0xFE, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                zl.push(0xC0);
                zl.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-8388608..=8388607).contains(&v) => {
                zl.push(0xF0);
                zl.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                zl.push(0xD0);
                zl.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                zl.push(0xE0);
                zl.extend_from_slice(&v.to_le_bytes());
            }
            None => {
                let n = s.len();
                if n <= 0x3f {
                    zl.push(n as u8);
                } else if n <= 0x3fff {
                    zl.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
                } else {
                    zl.push(0x80);
                    zl.extend_from_slice(&(n as u32).to_be_bytes());
                }
                zl.extend_from_slice(s);
            }
        }
        prev_len = zl.len() - start;
    }
    zl.push(END);
    let total = zl.len() as u32;
    zl[0..4].copy_from_slice(&total.to_le_bytes());
    zl[4..8].copy_from_slice(&(last as u32).to_le_bytes());
    let n = u16::try_from(items.len()).unwrap_or(u16::MAX);
    zl[8..10].copy_from_slice(&n.to_le_bytes());
    zl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut items: Vec<Vec<u8>> = [
            "0",
            "12",
            "13",
            "-1",
            "127",
            "-128",
            "128",
            "32767",
            "-32769",
            "8388607",
            "8388608",
            "2147483648",
            "-9223372036854775808",
            "a",
            "",
            "01",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        items.push(vec![b'y'; 300]);
        items.push(vec![b'z'; 20_000]);
        items.push(b"after a big one".to_vec());
        let zl = encode(&items);
        let mut got = Vec::new();
        decode(&zl, |e| {
            got.push(e.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(got, items);
        for cut in 0..zl.len().min(400) {
            assert!(decode(&zl[..cut], |_| Ok(())).is_err());
        }
        let mut rng = fastrand::Rng::with_seed(2);
        for _ in 0..5000 {
            let mut d = zl.clone();
            let i = rng.usize(..400);
            d[i] ^= 1 << rng.u8(..8);
            let _ = decode(&d, |_| Ok(()));
        }
        assert_eq!(decode(&encode::<&[u8]>(&[]), |_| Ok(())), Ok(0));
    }
}
