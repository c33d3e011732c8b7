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
