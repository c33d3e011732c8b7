//! Stored values. Strings are `Bytes`, so a read clones a handle, not the data, and carry the
//! encoding Redis would have given them, since OBJECT ENCODING and REFCOUNT depend on how a
//! value was made, not only on its bytes.

use bytes::Bytes;
use std::ops::Deref;

/// How Redis would hold a string, which decides what OBJECT ENCODING/REFCOUNT answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEnc {
    Int,
    /// One of Redis's shared integers 0..9999 (reported with an immortal refcount).
    SharedInt,
    Embstr,
    Raw,
}

/// A string value and its encoding.
#[derive(Clone, Debug)]
pub struct StrVal {
    data: Bytes,
    enc: StrEnc,
}

/// Redis's OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10000;
/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const EMBSTR_LIMIT: usize = 44;

fn by_len(data: Bytes) -> StrVal {
    let enc = if data.len() <= EMBSTR_LIMIT {
        StrEnc::Embstr
    } else {
        StrEnc::Raw
    };
    StrVal { data, enc }
}

impl StrVal {
    /// A value stored by SET and friends: Redis's `tryObjectEncoding`.
    pub fn encoded(data: Bytes) -> StrVal {
        match canonical_int(&data) {
            Some(n) if (0..SHARED_INTEGERS).contains(&n) => StrVal {
                data,
                enc: StrEnc::SharedInt,
            },
            Some(_) => StrVal {
                data,
                enc: StrEnc::Int,
            },
            None => by_len(data),
        }
    }

    /// The result of INCR/DECR.
    pub fn from_int(n: i64) -> StrVal {
        let data = Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes());
        let enc = if (0..SHARED_INTEGERS).contains(&n) {
            StrEnc::SharedInt
        } else {
            StrEnc::Int
        };
        StrVal { data, enc }
    }

    /// A string built as text (INCRBYFLOAT): embstr or raw by length, never an integer.
    pub fn text(data: Bytes) -> StrVal {
        by_len(data)
    }

    /// A string modified in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP): always raw.
    pub fn raw(data: Bytes) -> StrVal {
        StrVal {
            data,
            enc: StrEnc::Raw,
        }
    }

    /// The copy COPY makes: a shared integer becomes a private one.
    pub fn duplicate(&self) -> StrVal {
        let enc = if self.enc == StrEnc::SharedInt {
            StrEnc::Int
        } else {
            self.enc
        };
        StrVal {
            data: self.data.clone(),
            enc,
        }
    }

    pub fn bytes(&self) -> &Bytes {
        &self.data
    }

    pub fn encoding(&self) -> StrEnc {
        self.enc
    }
}

impl Deref for StrVal {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

/// A value held under a key.
#[derive(Clone, Debug)]
pub enum Value {
    Str(StrVal),
}

impl Value {
    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => match s.enc {
                StrEnc::Int | StrEnc::SharedInt => "int",
                StrEnc::Embstr => "embstr",
                StrEnc::Raw => "raw",
            },
        }
    }

    /// What OBJECT REFCOUNT answers.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Str(s) if s.enc == StrEnc::SharedInt => i32::MAX as i64,
            Value::Str(_) => 1,
        }
    }

    /// The copy COPY stores.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.duplicate()),
        }
    }
}

/// The i64 `s` spells in canonical form (Redis's `string2l`: no sign but '-', no leading
/// zeros, no spaces, at most 20 bytes), if any.
fn canonical_int(s: &[u8]) -> Option<i64> {
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
        let enc =
            |s: &str| Value::Str(StrVal::encoded(Bytes::copy_from_slice(s.as_bytes()))).encoding();
        assert_eq!(enc("123"), "int");
        assert_eq!(enc("-0"), "embstr");
        assert_eq!(enc("007"), "embstr");
        assert_eq!(enc(&"x".repeat(44)), "embstr");
        assert_eq!(enc(&"x".repeat(45)), "raw");
        assert_eq!(Value::Str(StrVal::from_int(5)).refcount(), i32::MAX as i64);
        assert_eq!(Value::Str(StrVal::from_int(5)).duplicate().refcount(), 1);
        assert_eq!(
            Value::Str(StrVal::raw(Bytes::from_static(b"12"))).encoding(),
            "raw"
        );
    }
}
