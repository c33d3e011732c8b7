//! RESP2/RESP3 wire protocol: an incremental, bounded request parser and a reply writer.
//!
//! This crate knows bytes only. It must not depend on the keyspace, the command table or any
//! socket or async runtime, so it can be fuzzed and reused on its own.

mod parser;
mod reply;
mod split;

pub use parser::{Args, Limits, ParseError, Parsed, RequestParser, Span};
pub use reply::{format_double, ReplyWriter};
pub use split::split_args;
