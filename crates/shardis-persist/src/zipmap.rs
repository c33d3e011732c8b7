//! Redis's zipmap (zipmap.c), the hash encoding of Redis 2.4 and older: a strict decoder and
//! an encoder for tests. Pure byte work: no I/O, no keyspace.

use crate::listpack::{bad, BadBlob};

/// Field/value pairs borrowed from the zipmap.
pub type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

const BIGLEN: u8 = 254;
const END: u8 = 255;

/// Decodes a zipmap's field/value pairs, validating as zipmapValidateIntegrity does: every
/// length inside the buffer, the count when it is below 254, the terminator last, not empty.
pub fn decode(z: &[u8]) -> Result<Pairs<'_>, BadBlob> {
    if z.len() < 2 {
        return bad(0, "zipmap shorter than its header");
    }
    let declared = z[0];
    let mut p = 1;
    let len_at = |p: &mut usize| -> Result<Option<usize>, BadBlob> {
        match z.get(*p) {
            None => bad(*p, "zipmap entry past the end"),
            Some(&END) => Ok(None),
            Some(&BIGLEN) => {
                let b = z.get(*p + 1..*p + 5).ok_or(BadBlob {
                    at: *p,
                    what: "zipmap entry past the end",
                })?;
                *p += 5;
                Ok(Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize))
            }
            Some(&n) => {
                *p += 1;
                Ok(Some(n as usize))
            }
        }
    };
    let take = |p: &mut usize, n: usize| -> Result<&[u8], BadBlob> {
        let s = z.get(*p..p.saturating_add(n)).ok_or(BadBlob {
            at: *p,
            what: "zipmap entry past the end",
        })?;
        *p += n;
        Ok(s)
    };
    let mut pairs = Vec::new();
    loop {
        let at = p;
        let Some(flen) = len_at(&mut p)? else { break };
        let f = take(&mut p, flen)?;
        let Some(vlen) = len_at(&mut p)? else {
            return bad(at, "zipmap field without a value");
        };
        let free = *take(&mut p, 1)?.first().unwrap_or(&0) as usize;
        let v = take(&mut p, vlen)?;
        take(&mut p, free)?;
        pairs.push((f, v));
    }
    if p != z.len() - 1 {
        return bad(p, "zipmap terminator before its end");
    }
    if pairs.is_empty() {
        return bad(0, "empty zipmap");
    }
    if declared < BIGLEN && declared as usize != pairs.len() {
        return bad(0, "zipmap count does not match its entries");
    }
    Ok(pairs)
}

/// Encodes pairs as a zipmap with no free space, as Redis 2.4 wrote a freshly built one.
pub fn encode<F: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(F, V)]) -> Vec<u8> {
    let mut z = vec![u8::try_from(pairs.len()).unwrap_or(BIGLEN).min(BIGLEN)];
    let put_len = |z: &mut Vec<u8>, n: usize| {
        if n < BIGLEN as usize {
            z.push(n as u8);
        } else {
            z.push(BIGLEN);
            z.extend_from_slice(&(n as u32).to_le_bytes());
        }
    };
    for (f, v) in pairs {
        put_len(&mut z, f.as_ref().len());
        z.extend_from_slice(f.as_ref());
        put_len(&mut z, v.as_ref().len());
        z.push(0);
        z.extend_from_slice(v.as_ref());
    }
    z.push(END);
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let long = vec![b'v'; 300];
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"", b""), (b"f", &long)];
        let z = encode(&pairs);
        assert_eq!(decode(&z).unwrap(), pairs);
        for cut in 0..z.len() {
            assert!(decode(&z[..cut]).is_err());
        }
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..3000 {
            let mut d = z.clone();
            let i = rng.usize(..d.len());
            d[i] ^= 1 << rng.u8(..8);
            let _ = decode(&d);
        }
        assert!(decode(&[0, END]).is_err());
    }
}
