//! The shared keyspace: databases split into shards, each a hash table behind its own short
//! synchronous lock, with lazy and active expiry.
//!
//! This crate knows no sockets, no async runtime and no wire protocol. Locks taken here are
//! plain `parking_lot` mutexes held for one command's shard work and released before any I/O.

mod clock;
pub mod hash;
mod key;
mod keyspace;
pub mod lazyfree;
pub mod list;
mod lock;
pub mod set;
mod shard;
mod snapshot;
mod value;
mod watch;
pub mod zset;
mod ztree;

pub use clock::now_ms;
pub use key::Key;
pub use keyspace::{
    in_transaction, set_touch, CommitHook, Held, Keyspace, LoadedKey, Locked, ScanPage,
};
pub use shard::{Entry, KeyEvent, KeyHook, Shard};
pub use snapshot::{set_read_only, SnapEntry, SnapshotStart};
pub use value::{canonical_int, EncodingLimits, StrEnc, StrVal, Value};
pub use watch::{set_write_command, WatchFlag, WriteScope};
