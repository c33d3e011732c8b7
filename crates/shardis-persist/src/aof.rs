//! Redis 7.0's multi-part append-only file format: the manifest, the RESP command stream, its encoder and the directory loading plan.
//!
//! This module knows files and bytes only. It must not depend on the keyspace, on
//! sockets, on async runtimes or on command semantics: the caller decides what a
//! command means and when files are written.

mod encode;
mod manifest;
mod plan;
mod reader;
mod rewrite;
mod sds;

pub use encode::{encode_command, encode_command_from, encode_select, encode_timestamp_annotation};
pub use manifest::{
    base_file_name, incr_file_name, manifest_file_name, temp_incr_file_name,
    temp_manifest_file_name, AofFile, AofFileKind, Manifest, ManifestError, ManifestErrorKind,
    MANIFEST_MAX_LINE,
};
pub use plan::{plan, BaseFormat, Plan, PlanError, PlannedFile};
pub use reader::{
    starts_with_rdb_preamble, AofError, AofReader, Command, MAX_ARGS, MAX_BULK_LEN,
    RDB_PREAMBLE_MAGIC,
};
pub use rewrite::encode_entry_as_commands;
