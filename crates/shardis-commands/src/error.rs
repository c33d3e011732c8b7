//! Command errors with Redis's exact texts.

use thiserror::Error;

/// An error reply. `Display` gives the text after the leading `-`; messages without their own
/// code get `ERR ` from the reply writer, like Redis's `addReplyError`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CmdError {
    #[error("-WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("value is not an integer or out of range")]
    NotInteger,
    #[error("value is not a valid float")]
    NotFloat,
    #[error("syntax error")]
    Syntax,
    #[error("no such key")]
    NoSuchKey,
    #[error("increment or decrement would overflow")]
    Overflow,
    #[error("index out of range")]
    OutOfRange,
    #[error("invalid expire time in '{0}' command")]
    InvalidExpire(&'static str),
    #[error("DB index is out of range")]
    DbIndex,
    #[error("bit offset is not an integer or out of range")]
    BitOffset,
    #[error("string exceeds maximum allowed size (proto-max-bulk-len)")]
    TooBig,
    #[error("wrong number of arguments for '{0}' command")]
    Arity(String),
    #[error("{0}")]
    Msg(String),
}

pub type CmdResult = Result<(), CmdError>;

pub fn err(msg: impl Into<String>) -> CmdError {
    CmdError::Msg(msg.into())
}
