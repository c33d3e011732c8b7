//! Redis's listpack (listpack.c): a builder that writes what Redis writes and a strict
//! decoder. Pure byte work: no I/O, no keyspace.

use crate::format::canonical_i64;

/// One decoded listpack or ziplist entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The entry as the text Redis would hand out.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Elem::Int(v) => v.to_string().into_bytes(),
            Elem::Str(s) => s.to_vec(),
        }
    }
}

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
/// The count field's "too many to count" value.
const UNKNOWN_COUNT: u16 = u16::MAX;

/// Builds a listpack entry by entry.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// Appends the back-length of an entry of `l` bytes (lpEncodeBacklen).
fn put_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
    } else if l < 2097151 {
        out.extend_from_slice(&[
            (l >> 14) as u8,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else if l < 268435455 {
        out.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else {
        out.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Bytes so far, header included, terminator not.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a string, as an integer when it spells one (lpAppend tries lpStringToInt64).
    pub fn push(&mut self, s: &[u8]) {
        match canonical_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Appends an integer in the smallest encoding that holds it.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf
                .extend_from_slice(&[(u >> 8) as u8 | 0xC0, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.end_entry(start);
    }

    /// Appends `s` as a string entry whatever it spells.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf
                .extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        put_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// The finished listpack: terminator, total bytes and count filled in.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count)
            .ok()
            .filter(|&c| c != UNKNOWN_COUNT)
            .unwrap_or(UNKNOWN_COUNT);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Why a blob is not a valid encoding, and where inside it.
#[derive(Debug, PartialEq, Eq)]
pub struct BadBlob {
    pub at: usize,
    pub what: &'static str,
}

pub(crate) fn bad<T>(at: usize, what: &'static str) -> Result<T, BadBlob> {
    Err(BadBlob { at, what })
}

/// Decodes every entry of `lp`, validating it as Redis's deep lpValidateIntegrity does:
/// header size, terminator, each entry inside the buffer with a matching back-length, and
/// the count. Calls `f` per entry (which may refuse it) and returns how many there were.
pub fn decode<'a>(
    lp: &'a [u8],
    mut f: impl FnMut(Elem<'a>) -> Result<(), BadBlob>,
) -> Result<usize, BadBlob> {
    if lp.len() < HEADER + 1 {
        return bad(0, "listpack shorter than its header");
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return bad(0, "listpack size does not match its header");
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]);
    let end = lp.len() - 1;
    if lp[end] != EOF {
        return bad(end, "listpack without terminator");
    }
    let mut p = HEADER;
    let mut count = 0usize;
    let mut backlen = Vec::with_capacity(5);
    while p < end {
        let c = lp[p];
        let need = |n: usize| {
            if p + n > end {
                bad(p, "listpack entry past the end")
            } else {
                Ok(())
            }
        };
        let (head, elem_len, elem) = if c & 0x80 == 0 {
            (1, 0, Some(Elem::Int((c & 0x7f) as i64)))
        } else if c & 0xC0 == 0x80 {
            (1, (c & 0x3f) as usize, None)
        } else if c & 0xE0 == 0xC0 {
            need(2)?;
            let u = (((c & 0x1f) as i64) << 8) | lp[p + 1] as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (2, 0, Some(Elem::Int(v)))
        } else if c & 0xF0 == 0xE0 {
            need(2)?;
            (2, (((c & 0x0f) as usize) << 8) | lp[p + 1] as usize, None)
        } else {
            match c {
                0xF0 => {
                    need(5)?;
                    let n = u32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]);
                    (5, n as usize, None)
                }
                0xF1 => {
                    need(3)?;
                    (
                        3,
                        0,
                        Some(Elem::Int(i16::from_le_bytes([lp[p + 1], lp[p + 2]]) as i64)),
                    )
                }
                0xF2 => {
                    need(4)?;
                    let v = i32::from_le_bytes([0, lp[p + 1], lp[p + 2], lp[p + 3]]) >> 8;
                    (4, 0, Some(Elem::Int(v as i64)))
                }
                0xF3 => {
                    need(5)?;
                    let mut b = [0u8; 4];
                    b.copy_from_slice(&lp[p + 1..p + 5]);
                    (5, 0, Some(Elem::Int(i32::from_le_bytes(b) as i64)))
                }
                0xF4 => {
                    need(9)?;
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&lp[p + 1..p + 9]);
                    (9, 0, Some(Elem::Int(i64::from_le_bytes(b))))
                }
                _ => return bad(p, "invalid listpack entry encoding"),
            }
        };
        let entry = head + elem_len;
        need(entry)?;
        let elem = elem.unwrap_or(Elem::Str(&lp[p + head..p + entry]));
        backlen.clear();
        put_backlen(&mut backlen, entry);
        let q = p + entry;
        if q + backlen.len() > end || lp[q..q + backlen.len()] != backlen[..] {
            return bad(q, "listpack entry with a wrong back-length");
        }
        f(elem)?;
        count += 1;
        p = q + backlen.len();
    }
    if declared != UNKNOWN_COUNT && declared as usize != count {
        return bad(4, "listpack count does not match its entries");
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(lp: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        decode(lp, |e| {
            v.push(e.to_vec());
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn round_trips_every_encoding() {
        let mut items: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-0",
            "01",
            "",
            "abc",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        for n in [63, 64, 4095, 4096, 70_000] {
            items.push(vec![b'x'; n]);
        }
        let mut b = Builder::new();
        for i in &items {
            b.push(i);
        }
        let lp = b.finish();
        assert_eq!(all(&lp), items);
    }

    #[test]
    fn encodes_entries_as_listpack_c_does() {
        // A 7-bit uint, a 6-bit string, a 13-bit int and a 24-bit int, each with its
        // back-length, as laid out in listpack.c's encoding table.
        let mut b = Builder::new();
        for s in ["a", "1", "-1000", "100000"] {
            b.push(s.as_bytes());
        }
        let lp = b.finish();
        assert_eq!(
            lp,
            [
                20, 0, 0, 0, 4, 0, 0x81, b'a', 2, 1, 1, 0xDC, 0x18, 2, 0xF2, 0xA0, 0x86, 0x01, 4,
                0xFF
            ]
        );
    }

    #[test]
    fn refuses_damage_without_panicking() {
        let mut b = Builder::new();
        for i in 0..50 {
            b.push(format!("item{i}").as_bytes());
            b.push_int(i * 1000);
        }
        let lp = b.finish();
        for cut in 0..lp.len() {
            assert!(decode(&lp[..cut], |_| Ok(())).is_err());
        }
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..5000 {
            let mut d = lp.clone();
            let i = rng.usize(..d.len());
            d[i] ^= 1 << rng.u8(..8);
            let _ = decode(&d, |_| Ok(()));
        }
        let mut wrong_count = lp.clone();
        wrong_count[4] = 3;
        assert!(decode(&wrong_count, |_| Ok(())).is_err());
    }
}
