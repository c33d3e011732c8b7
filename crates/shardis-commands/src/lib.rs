//! Command layer: the declarative command table, argument parsing and one handler file per
//! command family. It must not depend on sockets or an async runtime.

pub mod aof;
pub mod aof_files;
pub mod bitmap;
pub mod bits;
pub mod blocking;
pub mod config;
pub mod connection;
pub mod ctx;
pub mod dispatch;
pub mod error;
pub mod glob;
pub mod hash;
pub mod keys;
pub mod lcs;
pub mod list;
pub mod multi;
pub mod notify;
pub mod num;
pub mod persist;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod spec;
pub mod string;
pub mod table;
pub mod tracking;
pub mod util;
pub mod zset;

pub use config::Config;
pub use ctx::{Action, ClientHandle, Session, Shared};
pub use dispatch::{execute, Outcome};
