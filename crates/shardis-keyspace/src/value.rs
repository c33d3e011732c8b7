//! Stored values. Strings are `Bytes`, so a read clones a handle, not the data.

use bytes::Bytes;

/// A value held under a key.
#[derive(Clone, Debug)]
pub enum Value {
    Str(Bytes),
}

impl Value {
    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING answers, derived from the content as Redis would have encoded it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && is_canonical_int(s) {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }
}

/// Whether `s` is the canonical decimal form of an i64, the test Redis uses to int-encode.
fn is_canonical_int(s: &[u8]) -> bool {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits[0] == b'0' && (digits.len() > 1 || s.len() > 1) {
        return false;
    }
    std::str::from_utf8(s).ok().and_then(|t| t.parse::<i64>().ok()).is_some()
}
