//! Redis's intset (intset.c): sorted integers in the narrowest of 16, 32 or 64 bits. Pure
//! byte work: no I/O, no keyspace.

use crate::listpack::{bad, BadBlob};

/// Encodes ascending, distinct `values` as an intset in the narrowest width holding them.
pub fn encode(values: &[i64]) -> Vec<u8> {
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// Decodes an intset, validating its encoding and size as intsetValidateIntegrity does.
pub fn decode(b: &[u8]) -> Result<Vec<i64>, BadBlob> {
    if b.len() < 8 {
        return bad(0, "intset shorter than its header");
    }
    let width = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if ![2, 4, 8].contains(&width) {
        return bad(0, "invalid intset encoding");
    }
    let n = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if b.len() - 8 != n * width {
        return bad(4, "intset size does not match its header");
    }
    Ok(b[8..]
        .chunks_exact(width)
        .map(|c| match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_each_width() {
        for vals in [
            vec![-3, 5, 32767],
            vec![-3, 5, 32768],
            vec![i64::MIN, 0, i64::MAX],
            vec![],
        ] {
            let b = encode(&vals);
            assert_eq!(decode(&b).unwrap(), vals);
        }
        assert_eq!(encode(&[1])[..4], 2u32.to_le_bytes());
        assert_eq!(encode(&[70000])[..4], 4u32.to_le_bytes());
        let b = encode(&[1, 2, 3]);
        for cut in 0..b.len() {
            assert!(decode(&b[..cut]).is_err());
        }
        let mut w = b.clone();
        w[0] = 3;
        assert!(decode(&w).is_err());
    }
}
