//! Reading the RESP command stream of an AOF file (the loop of `loadSingleAppendOnlyFile`), with absolute byte offsets.
//!
//! This file must not depend on command semantics or on the keyspace: it yields
//! argument vectors and where they sit in the file, nothing more.

use std::io::{self, ErrorKind, Read};

/// The first bytes of an RDB file, which is how Redis tells an RDB base (or an
/// old RDB-preamble AOF) from a plain command file.
pub const RDB_PREAMBLE_MAGIC: &[u8; 5] = b"REDIS";

/// The largest bulk length accepted (512 MiB, Redis's `proto-max-bulk-len` default).
pub const MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// The largest argument count accepted (1 Mi, Redis's multibulk limit for clients).
pub const MAX_ARGS: u64 = 1024 * 1024;

/// The size of the read buffer; also the most any header can make us allocate up front.
const BUF_SIZE: usize = 64 * 1024;

/// How many argument slots are reserved before the arguments actually arrive.
const MAX_PREALLOCATED_ARGS: usize = 1024;

/// Whether a file starting with these bytes holds an RDB snapshot first.
///
/// Redis reads five bytes and compares them with "REDIS"; when they match it
/// loads an RDB from offset 0 and then reads commands after the RDB's end, so
/// the caller should do the same and start an `AofReader` at that offset.
pub fn starts_with_rdb_preamble(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(RDB_PREAMBLE_MAGIC)
}

/// One command read from the file, with where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub args: Vec<Vec<u8>>,
    /// The absolute offset of the command's `*`.
    pub offset: u64,
    /// The absolute offset just past the command's final CRLF: the file is
    /// valid up to here, which is what Redis truncates to.
    pub end: u64,
}

/// Why reading stopped before a clean end of file.
#[derive(Debug, thiserror::Error)]
pub enum AofError {
    /// The file ends inside the command (or annotation) starting at `offset`.
    /// Redis truncates the file there with aof-load-truncated and refuses to
    /// start without it, and only the last file may be truncated.
    #[error("unexpected end of file: the command starting at offset {offset} is incomplete")]
    Truncated { offset: u64 },
    /// The byte at `offset` cannot appear there in a well-formed file.
    #[error("bad file format at offset {offset}: {what}")]
    Corrupt { offset: u64, what: &'static str },
    #[error("error reading the append only file: {0}")]
    Io(#[from] io::Error),
}

/// A copy of the error that stopped the reader, so later calls repeat it.
#[derive(Debug, Clone)]
enum Failure {
    Truncated(u64),
    Corrupt(u64, &'static str),
    Io(ErrorKind, String),
}

impl Failure {
    fn of(err: &AofError) -> Failure {
        match err {
            AofError::Truncated { offset } => Failure::Truncated(*offset),
            AofError::Corrupt { offset, what } => Failure::Corrupt(*offset, what),
            AofError::Io(e) => Failure::Io(e.kind(), e.to_string()),
        }
    }

    fn to_error(&self) -> AofError {
        match self {
            Failure::Truncated(offset) => AofError::Truncated { offset: *offset },
            Failure::Corrupt(offset, what) => AofError::Corrupt {
                offset: *offset,
                what,
            },
            Failure::Io(kind, message) => AofError::Io(io::Error::new(*kind, message.clone())),
        }
    }
}

/// Reads commands from an AOF file (or from the tail after an RDB preamble).
///
/// The parser is stricter than Redis in one way: Redis reads numbers with
/// `atoi`/`strtol` and discards the two bytes after a bulk without looking at
/// them, while this reader wants exactly digits and CRLF. Redis never writes
/// anything else, and a damaged byte is reported instead of misread.
/// Annotation lines (`#...\n`, e.g. `#TS:<unix>`) are skipped whatever their
/// length; one cut off by the end of the file counts as truncated, because
/// appending after it would glue the next command onto the annotation.
///
/// The reader does not interpret commands, so reverting a MULTI left without
/// its EXEC at the end of the file (Redis treats it as truncated at the
/// MULTI's offset) is the caller's job. After an error the reader is done:
/// `next_command` repeats the error and the iterator yields nothing more.
pub struct AofReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// The absolute offset of `buf[0]`.
    base: u64,
    failed: Option<Failure>,
}

impl<R: Read> AofReader<R> {
    /// Reads from the start of a file: offsets start at 0.
    pub fn new(inner: R) -> AofReader<R> {
        AofReader::with_offset(inner, 0)
    }

    /// Reads from a reader already positioned at `start` (for example just past
    /// an RDB preamble), so reported offsets are absolute in the file.
    pub fn with_offset(inner: R, start: u64) -> AofReader<R> {
        AofReader {
            inner,
            buf: vec![0; BUF_SIZE],
            pos: 0,
            len: 0,
            base: start,
            failed: None,
        }
    }

    /// The absolute offset of the next byte the reader will look at.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// The underlying reader; its position is past whatever was buffered.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The next command, `Ok(None)` at a clean end of file (exactly at a command boundary).
    pub fn next_command(&mut self) -> Result<Option<Command>, AofError> {
        if let Some(failure) = &self.failed {
            return Err(failure.to_error());
        }
        let result = self.read_command();
        if let Err(err) = &result {
            self.failed = Some(Failure::of(err));
        }
        result
    }

    /// Makes sure at least one unread byte is buffered; false at end of file.
    fn fill(&mut self) -> Result<bool, AofError> {
        if self.pos < self.len {
            return Ok(true);
        }
        self.base = self.base.saturating_add(self.len as u64);
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(AofError::Io(e)),
            }
        }
    }

    /// The next byte, or Truncated (blaming the command at `start`) at end of file.
    fn byte_in_command(&mut self, start: u64) -> Result<u8, AofError> {
        if !self.fill()? {
            return Err(AofError::Truncated { offset: start });
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// Reads `digits CR LF` and returns the number, refusing it as soon as it
    /// passes `max` so an endless run of digits costs nothing.
    fn read_number(
        &mut self,
        start: u64,
        max: u64,
        too_big: &'static str,
    ) -> Result<u64, AofError> {
        let mut value: u64 = 0;
        let mut digits = 0usize;
        loop {
            let at = self.offset();
            let b = self.byte_in_command(start)?;
            match b {
                b'0'..=b'9' => {
                    value = value * 10 + u64::from(b - b'0');
                    digits += 1;
                    if value > max {
                        return Err(AofError::Corrupt {
                            offset: at,
                            what: too_big,
                        });
                    }
                }
                b'\r' if digits > 0 => break,
                _ => {
                    return Err(AofError::Corrupt {
                        offset: at,
                        what: "expected a digit or CR in a length line",
                    })
                }
            }
        }
        let at = self.offset();
        if self.byte_in_command(start)? != b'\n' {
            return Err(AofError::Corrupt {
                offset: at,
                what: "expected LF after CR",
            });
        }
        Ok(value)
    }

    /// Reads a bulk payload, growing the buffer only as bytes actually arrive.
    fn read_payload(&mut self, start: u64, len: u64) -> Result<Vec<u8>, AofError> {
        // `len` is at most MAX_BULK_LEN, so it fits usize on every supported target.
        let mut remaining = usize::try_from(len).unwrap_or(usize::MAX);
        let mut data = Vec::with_capacity(remaining.min(BUF_SIZE));
        while remaining > 0 {
            if !self.fill()? {
                return Err(AofError::Truncated { offset: start });
            }
            let take = remaining.min(self.len - self.pos);
            data.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            remaining -= take;
        }
        Ok(data)
    }

    fn read_command(&mut self) -> Result<Option<Command>, AofError> {
        loop {
            if !self.fill()? {
                return Ok(None);
            }
            let start = self.offset();
            let first = self.buf[self.pos];
            self.pos += 1;
            match first {
                b'#' => {
                    self.skip_annotation(start)?;
                    continue;
                }
                b'*' => {}
                _ => {
                    return Err(AofError::Corrupt {
                        offset: start,
                        what: "expected '*' or '#' at the start of a command",
                    })
                }
            }
            let argc = self.read_number(start, MAX_ARGS, "argument count above 1048576")?;
            if argc == 0 {
                return Err(AofError::Corrupt {
                    offset: start,
                    what: "argument count below 1",
                });
            }
            let argc = usize::try_from(argc).unwrap_or(usize::MAX);
            let mut args = Vec::with_capacity(argc.min(MAX_PREALLOCATED_ARGS));
            for _ in 0..argc {
                let at = self.offset();
                if self.byte_in_command(start)? != b'$' {
                    return Err(AofError::Corrupt {
                        offset: at,
                        what: "expected '$' before an argument",
                    });
                }
                let len = self.read_number(start, MAX_BULK_LEN, "bulk length above 512 MiB")?;
                args.push(self.read_payload(start, len)?);
                for (expected, what) in [
                    (b'\r', "expected CR after an argument"),
                    (b'\n', "expected LF after an argument"),
                ] {
                    let at = self.offset();
                    if self.byte_in_command(start)? != expected {
                        return Err(AofError::Corrupt { offset: at, what });
                    }
                }
            }
            return Ok(Some(Command {
                args,
                offset: start,
                end: self.offset(),
            }));
        }
    }

    /// Skips an annotation through its LF without keeping it.
    fn skip_annotation(&mut self, start: u64) -> Result<(), AofError> {
        loop {
            if !self.fill()? {
                return Err(AofError::Truncated { offset: start });
            }
            let unread = &self.buf[self.pos..self.len];
            match memchr::memchr(b'\n', unread) {
                Some(nl) => {
                    self.pos += nl + 1;
                    return Ok(());
                }
                None => self.pos = self.len,
            }
        }
    }
}

impl<R: Read> Iterator for AofReader<R> {
    type Item = Result<Command, AofError>;

    /// Commands until a clean end of file or the first error, which is the last item.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() {
            return None;
        }
        self.next_command().transpose()
    }
}
