//! Small argument helpers shared by the command families.

use crate::error::CmdError;
use crate::num::parse_i64;
use shardis_keyspace::{Locked, StrVal, Value};

/// Parses an integer argument with Redis's error text.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// Case-insensitive comparison of an argument with an option name.
#[inline]
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The string stored at `key`: `Ok(None)` when missing, WRONGTYPE for other types.
pub fn get_str(l: &mut Locked<'_>, db: usize, key: &[u8]) -> Result<Option<StrVal>, CmdError> {
    match l.get(db, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// A string value copied out of the request buffer, so stored data never pins a read buffer.
#[inline]
pub fn str_value(data: &[u8]) -> Value {
    Value::Str(StrVal::encoded(data))
}

/// Parses a database index argument (SELECT, MOVE, COPY DB, SWAPDB).
pub fn db_index(arg: &[u8], databases: usize) -> Result<usize, CmdError> {
    let n = int(arg)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(CmdError::NotInteger);
    }
    if n < 0 || n as usize >= databases {
        return Err(CmdError::DbIndex);
    }
    Ok(n as usize)
}

/// A SCAN-family cursor, parsed as Redis's `parseScanCursorOrReply` does with `strtoul`: an
/// optional sign (a negative value wraps), digits and nothing else; an empty argument is 0.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let bad = || crate::error::err("invalid cursor");
    let (neg, digits) = match arg.split_first() {
        None => return Ok(0),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::scan_cursor;

    #[test]
    fn cursor_like_strtoul() {
        assert_eq!(scan_cursor(b"").unwrap(), 0);
        assert_eq!(scan_cursor(b"+5").unwrap(), 5);
        assert_eq!(scan_cursor(b"-1").unwrap(), u64::MAX);
        assert_eq!(scan_cursor(b"18446744073709551615").unwrap(), u64::MAX);
        assert!(scan_cursor(b"18446744073709551616").is_err());
        assert!(scan_cursor(b" 1").is_err());
        assert!(scan_cursor(b"1x").is_err());
    }
}
