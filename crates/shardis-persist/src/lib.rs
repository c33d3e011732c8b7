//! The Redis RDB format, version 10 as Redis 7.0 reads and writes it, as a library: a
//! streaming snapshot writer, a streaming loader for versions 1 to 11, and DUMP/RESTORE
//! payloads. It knows the keyspace's value types but no sockets, no async runtime and no
//! commands.
//!
//! - Snapshots out: `RdbWriter` streams a file (header, `aux`, `select_db`, `entry` or
//!   `raw` bytes from `encode_entry`, `finish`), computing the CRC64 as it goes.
//! - Snapshots in: `load` streams a file's `Item`s to a callback and returns a
//!   `LoadSummary`, or an `RdbError` naming the byte offset of the trouble.
//! - DUMP/RESTORE: `dump` makes a payload as Redis does; `restore` decodes one, answering
//!   Redis's two RESTORE error texts through `RestoreError`.
//! - The encodings inside values (`listpack`, `ziplist`, `intset`, `zipmap`) and the string
//!   and length framing (`put_string`, `put_len`) are public for tools and tests that must
//!   produce files older Redis versions wrote.
//!
//! Loaded collections take the encoding Redis 7.0 would give them under the `EncodingLimits`
//! passed in; expired keys are delivered like any other (the caller decides); empty
//! collections are skipped and counted, as Redis skips them; modules, streams and functions
//! are refused with a "not supported" error rather than skipped.
//!
//! Beside the format: `file` saves a keyspace snapshot to disk and loads a file into a
//! keyspace; `aof` is Redis 7.0's multi-part append-only file format and `aof_writer` the
//! thread that appends to it with group commit.

pub mod aof;
pub mod aof_writer;
mod error;
mod file;
mod format;
pub mod intset;
pub mod listpack;
mod read;
mod write;
pub mod ziplist;
pub mod zipmap;

pub use error::{ErrorKind, RdbError, RestoreError};
pub use file::*;
pub use format::{crc64, put_len, put_string, MAX_LOAD_VERSION, RDB_VERSION};
pub use read::{load, restore, Item, LoadOptions, LoadSummary};
pub use write::{dump, encode_entry, RdbWriter, WriteOptions};
