//! The Redis RDB format, version 10 as Redis 7.0 reads and writes it, as a library: a
//! streaming snapshot writer, a streaming loader for versions 1 to 11, and DUMP/RESTORE
//! payloads. It knows the keyspace's value types but no sockets, no async runtime and no
//! commands.

mod error;
mod format;
pub mod intset;
pub mod listpack;
mod read;
mod write;
pub mod ziplist;
pub mod zipmap;

pub use error::{ErrorKind, RdbError, RestoreError};
pub use format::{crc64, put_len, put_string, MAX_LOAD_VERSION, RDB_VERSION};
pub use read::{load, restore, Item, LoadOptions, LoadSummary};
pub use write::{dump, encode_entry, RdbWriter, WriteOptions};
