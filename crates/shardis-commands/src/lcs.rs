//! Core of the LCS command: Redis 7.0's dynamic-programming longest common subsequence,
//! with the same traceback (so the same subsequence and match ranges, in the same order).
//! Pure: no keyspace, no I/O.
//!
//! The caller implements `LCS k1 k2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`; missing keys
//! are empty strings, a negative MINMATCHLEN counts as 0, and before calling [`lcs`] it must
//! refuse, as Redis does:
//! - either length `>= u32::MAX - 1`: "String too long for LCS";
//! - [`table_bytes`] above `proto-max-bulk-len`: "Insufficient memory, transient memory for
//!   LCS exceeds proto-max-bulk-len" (checked even for LEN);
//! - [`table_bytes`] overflowing (`None`): "Insufficient memory, failed allocating transient
//!   memory for LCS".

/// One contiguous run of the subsequence: inclusive byte ranges in each string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LcsResult {
    /// The subsequence itself (the reply without LEN/IDX).
    pub string: Vec<u8>,
    /// Its length (the LEN reply and the IDX `len` field).
    pub len: usize,
    /// Every run in IDX reply order: from the ends of the strings backwards.
    pub ranges: Vec<Match>,
}

/// Bytes of the `(alen+1) * (blen+1)` `u32` table Redis allocates, `None` on overflow.
pub fn table_bytes(alen: usize, blen: usize) -> Option<u64> {
    let a = u64::try_from(alen).ok()?.checked_add(1)?;
    let b = u64::try_from(blen).ok()?.checked_add(1)?;
    a.checked_mul(b)?.checked_mul(4)
}

/// Computes the LCS with the full table, like Redis. Memory is [`table_bytes`]: check it first.
pub fn lcs(a: &[u8], b: &[u8]) -> LcsResult {
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let mut table = vec![0u32; (alen + 1) * width];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let at = |i: usize, j: usize| table[i * width + j];
    let len = at(alen, blen) as usize;
    let mut string = vec![0u8; len];
    let mut ranges = Vec::new();
    let mut idx = len;
    // `None` plays the role of Redis's `arange_start == alen` "no range open" marker.
    let mut open: Option<Match> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            string[idx - 1] = a[i - 1];
            match &mut open {
                None => {
                    open = Some(Match {
                        a: (i - 1, i - 1),
                        b: (j - 1, j - 1),
                        len: 1,
                    });
                }
                Some(m) if m.a.0 == i && m.b.0 == j => {
                    m.a.0 -= 1;
                    m.b.0 -= 1;
                    m.len += 1;
                }
                // Unreachable in practice (consecutive matches are diagonal), kept for parity.
                Some(_) => emit = true,
            }
            if let Some(m) = &open {
                if m.a.0 == 0 || m.b.0 == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            // Ties go to `j`: this choice decides which subsequence is reported.
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = open.is_some();
        }
        if emit {
            if let Some(m) = open.take() {
                ranges.push(m);
            }
        }
    }
    LcsResult {
        string,
        len,
        ranges,
    }
}

/// The IDX ranges a reply lists with MINMATCHLEN `min_len` (0 keeps all).
pub fn matches(r: &LcsResult, min_len: usize) -> Vec<Match> {
    r.ranges
        .iter()
        .filter(|m| m.len >= min_len)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: (usize, usize), b: (usize, usize), len: usize) -> Match {
        Match { a, b, len }
    }

    #[test]
    fn documented_example_matches_redis() {
        // `SET key1 ohmytext; SET key2 mynewtext` then LCS on redis-server 7.0.15.
        let r = lcs(b"ohmytext", b"mynewtext");
        assert_eq!(r.string, b"mytext");
        assert_eq!(r.len, 6);
        let all = [m((4, 7), (5, 8), 4), m((2, 3), (0, 1), 2)];
        assert_eq!(matches(&r, 0), all);
        assert_eq!(matches(&r, 4), all[..1]);
        assert_eq!(matches(&r, 5), []);
    }

    #[test]
    fn traceback_order_matches_redis() {
        // Expected values from `LCS a b` and `LCS a b IDX WITHMATCHLEN` on redis-server 7.0.15.
        let r = lcs(b"aaaaaaaa", b"aaaaaaaaaaaaaaa");
        assert_eq!(r.string, b"aaaaaaaa");
        assert_eq!(r.ranges, [m((0, 7), (7, 14), 8)]);
        let r = lcs(b"", b"aaaaabbacccaacabbabbaababbc");
        assert_eq!((r.len, r.string.len(), r.ranges.len()), (0, 0, 0));
        let r = lcs(b"x", b"");
        assert_eq!((r.len, r.ranges.len()), (0, 0));
        let r = lcs(b"abcabc", b"cbacba");
        assert_eq!(r.string, b"cbc");
        assert_eq!(r.len, 3);
        assert_eq!(
            r.ranges,
            [
                m((5, 5), (3, 3), 1),
                m((4, 4), (1, 1), 1),
                m((2, 2), (0, 0), 1)
            ]
        );
        let r = lcs(b"GATTACA", b"TACGATTA");
        assert_eq!(r.string, b"GATTA");
        assert_eq!(r.ranges, [m((6, 6), (7, 7), 1), m((0, 3), (3, 6), 4)]);
    }

    #[test]
    fn table_size_matches_redis_limit() {
        // With proto-max-bulk-len 1mb, redis-server 7.0.15 refuses two 600-byte strings and
        // accepts two of 510 bytes.
        let limit = 1024 * 1024;
        assert!(table_bytes(600, 600).unwrap() > limit);
        assert!(table_bytes(510, 510).unwrap() <= limit);
        assert_eq!(table_bytes(0, 0), Some(4));
        assert_eq!(table_bytes(usize::MAX, 1), None);
        assert_eq!(table_bytes(1 << 32, 1 << 32), None);
    }
}
