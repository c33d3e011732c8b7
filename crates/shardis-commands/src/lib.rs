//! Command layer: the declarative command table, argument parsing and one handler file per
//! command family. It must not depend on sockets or an async runtime.

pub mod bits;
pub mod glob;
pub mod lcs;
pub mod num;
