//! Errors of loading a snapshot and restoring a DUMP payload. No I/O beyond naming it.

/// A load failure and the byte offset in the file where it was found.
#[derive(Debug, thiserror::Error)]
#[error("{kind} at offset {offset}")]
pub struct RdbError {
    pub offset: u64,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    #[error("unexpected end of file")]
    Truncated,
    #[error("not an RDB file (bad magic)")]
    BadMagic,
    #[error("unsupported RDB version {0} (1 to 11 are supported)")]
    Version(u32),
    #[error("wrong RDB checksum (stored {stored:016x}, computed {computed:016x})")]
    Checksum { stored: u64, computed: u64 },
    /// Valid RDB content this library does not load (modules, streams, functions).
    #[error("{0} not supported")]
    Unsupported(&'static str),
    #[error("corrupt RDB: {0}")]
    Corrupt(&'static str),
}

/// Why RESTORE refuses a payload, with the texts Redis answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error("DUMP payload version or checksum are wrong")]
    BadVersionOrChecksum,
    #[error("Bad data format")]
    BadFormat,
}
