//! Compact key storage: short keys live inline in the entry, long keys in one heap block.

/// Keys of up to this many bytes need no allocation of their own.
const INLINE: usize = 22;

/// A key: 24 bytes, inline up to 22 bytes, which covers most real keys (and
/// redis-benchmark's 16-byte `key:000000000042`).
#[derive(Clone)]
pub enum Key {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn new(k: &[u8]) -> Key {
        if k.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..k.len()].copy_from_slice(k);
            Key::Inline {
                len: k.len() as u8,
                buf,
            }
        } else {
            Key::Heap(k.into())
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, buf } => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn inline_and_heap() {
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert_eq!(
            Key::new(b"key:000000000042").as_bytes(),
            b"key:000000000042"
        );
        let long = vec![7u8; 100];
        assert!(matches!(Key::new(&long), Key::Heap(_)));
        assert_eq!(Key::new(&long).as_bytes(), &long[..]);
        assert_eq!(Key::new(b"").as_bytes(), b"");
    }
}
