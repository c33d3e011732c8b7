//! Stored values. Strings are inline or reference-counted, so a read clones a handle, not the
//! data, and carry the encoding Redis would have given them, since OBJECT ENCODING and
//! REFCOUNT depend on how a value was made, not only on its bytes.

use std::ops::Deref;
use std::sync::Arc;

/// How Redis would hold a string, which decides what OBJECT ENCODING/REFCOUNT answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEnc {
    Int,
    /// One of Redis's shared integers 0..9999 (reported with an immortal refcount).
    SharedInt,
    Embstr,
    Raw,
}

/// Strings up to this many bytes live inside the entry with no allocation of their own.
const INLINE: usize = 21;

/// A string value and its encoding: 24 bytes. Short strings are stored inline; longer ones in
/// a reference-counted block, so a read clones a handle (one atomic increment), never the data,
/// and the first read allocates nothing (unlike `Bytes`, whose first clone of a vector-backed
/// value allocates a shared header).
#[derive(Clone)]
pub enum StrVal {
    Inline {
        enc: StrEnc,
        len: u8,
        buf: [u8; INLINE],
    },
    Heap {
        enc: StrEnc,
        data: Arc<[u8]>,
    },
}

/// Redis's OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10000;
/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const EMBSTR_LIMIT: usize = 44;

fn by_len(data: &[u8]) -> StrVal {
    StrVal::with_enc(
        data,
        if data.len() <= EMBSTR_LIMIT {
            StrEnc::Embstr
        } else {
            StrEnc::Raw
        },
    )
}

impl StrVal {
    fn with_enc(data: &[u8], enc: StrEnc) -> StrVal {
        if data.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..data.len()].copy_from_slice(data);
            StrVal::Inline {
                enc,
                len: data.len() as u8,
                buf,
            }
        } else {
            StrVal::Heap {
                enc,
                data: Arc::from(data),
            }
        }
    }

    /// A value stored by SET and friends: Redis's `tryObjectEncoding`.
    pub fn encoded(data: &[u8]) -> StrVal {
        match canonical_int(data) {
            Some(n) if (0..SHARED_INTEGERS).contains(&n) => {
                StrVal::with_enc(data, StrEnc::SharedInt)
            }
            Some(_) => StrVal::with_enc(data, StrEnc::Int),
            None => by_len(data),
        }
    }

    /// The result of INCR/DECR.
    pub fn from_int(n: i64) -> StrVal {
        let enc = if (0..SHARED_INTEGERS).contains(&n) {
            StrEnc::SharedInt
        } else {
            StrEnc::Int
        };
        StrVal::with_enc(itoa::Buffer::new().format(n).as_bytes(), enc)
    }

    /// A string built as text (INCRBYFLOAT): embstr or raw by length, never an integer.
    pub fn text(data: &[u8]) -> StrVal {
        by_len(data)
    }

    /// A string modified in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP): always raw.
    pub fn raw(data: &[u8]) -> StrVal {
        StrVal::with_enc(data, StrEnc::Raw)
    }

    /// The copy COPY makes: a shared integer becomes a private one.
    pub fn duplicate(&self) -> StrVal {
        let mut d = self.clone();
        let (StrVal::Inline { enc, .. } | StrVal::Heap { enc, .. }) = &mut d;
        if *enc == StrEnc::SharedInt {
            *enc = StrEnc::Int;
        }
        d
    }

    pub fn encoding(&self) -> StrEnc {
        match self {
            StrVal::Inline { enc, .. } | StrVal::Heap { enc, .. } => *enc,
        }
    }
}

impl Default for StrVal {
    fn default() -> Self {
        StrVal::with_enc(b"", StrEnc::Embstr)
    }
}

impl Deref for StrVal {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            StrVal::Inline { len, buf, .. } => &buf[..*len as usize],
            StrVal::Heap { data, .. } => data,
        }
    }
}

impl std::fmt::Debug for StrVal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}({:?})",
            self.encoding(),
            String::from_utf8_lossy(self)
        )
    }
}

/// A value held under a key. Collections are boxed so a value stays 24 bytes.
#[derive(Clone, Debug)]
pub enum Value {
    Str(StrVal),
    Hash(crate::hash::Hash),
    List(Box<crate::list::List>),
    Set(Box<crate::set::Set>),
    ZSet(Box<crate::zset::ZSet>),
}

/// The thresholds at which small collections leave their compact encoding, from the Redis
/// directives of the same names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodingLimits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Positive: entries per list node; -1..-5: node size limit of 4, 8, 16, 32 or 64 KiB.
    pub list_max_listpack_size: i64,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
        }
    }
}

impl Value {
    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => match s.encoding() {
                StrEnc::Int | StrEnc::SharedInt => "int",
                StrEnc::Embstr => "embstr",
                StrEnc::Raw => "raw",
            },
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// What OBJECT REFCOUNT answers.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Str(s) if s.encoding() == StrEnc::SharedInt => i32::MAX as i64,
            _ => 1,
        }
    }

    /// The copy COPY stores.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.duplicate()),
            other => other.clone(),
        }
    }
}

/// The i64 `s` spells in canonical form (Redis's `string2l`: no sign but '-', no leading
/// zeros, no spaces, at most 20 bytes), if any. Public: the RDB encoder picks integer
/// encodings by the same rule.
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && s.len() > 1 {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        let enc = |s: &str| Value::Str(StrVal::encoded(s.as_bytes())).encoding();
        assert_eq!(enc("123"), "int");
        assert_eq!(enc("-0"), "embstr");
        assert_eq!(enc("007"), "embstr");
        assert_eq!(enc(&"x".repeat(44)), "embstr");
        assert_eq!(enc(&"x".repeat(45)), "raw");
        assert_eq!(Value::Str(StrVal::from_int(5)).refcount(), i32::MAX as i64);
        assert_eq!(Value::Str(StrVal::from_int(5)).duplicate().refcount(), 1);
        assert_eq!(Value::Str(StrVal::raw(b"12")).encoding(), "raw");
        assert_eq!(std::mem::size_of::<StrVal>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(&*StrVal::encoded(&[7u8; 100]), &[7u8; 100][..]);
        assert_eq!(&*StrVal::encoded(&[7u8; 21]), &[7u8; 21][..]);
    }
}
