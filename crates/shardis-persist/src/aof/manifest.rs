//! The AOF manifest (`appendonly.aof.manifest`): parsing, writing, file naming and the edits a rewrite makes, as in Redis 7.0's aof.c.
//!
//! This file must not depend on the file system: it turns bytes into a
//! `Manifest` and back, and the caller reads and writes the files.

use std::fmt;

use super::sds::{cat_repr, needs_repr, split_args};

/// The longest manifest line Redis reads in one `fgets` call (`MANIFEST_MAX_LINE`).
pub const MANIFEST_MAX_LINE: usize = 1024;

const BASE_FILE_SUFFIX: &str = ".base";
const INCR_FILE_SUFFIX: &str = ".incr";
const RDB_FORMAT_SUFFIX: &str = ".rdb";
const AOF_FORMAT_SUFFIX: &str = ".aof";
const MANIFEST_NAME_SUFFIX: &str = ".manifest";
const TEMP_FILE_NAME_PREFIX: &str = "temp-";

/// The role of a file listed in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AofFileKind {
    /// The snapshot written by the last rewrite (`type b`).
    Base,
    /// Commands written after that snapshot (`type i`).
    Incr,
    /// A file a rewrite made obsolete, kept until it is deleted (`type h`).
    History,
}

impl AofFileKind {
    /// The one-letter type Redis writes in the manifest.
    pub fn as_char(self) -> char {
        match self {
            AofFileKind::Base => 'b',
            AofFileKind::Incr => 'i',
            AofFileKind::History => 'h',
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AofFile {
    /// A bare file name inside the AOF directory, never a path.
    pub name: String,
    /// The sequence number; Redis never writes 0, and a 0 makes a line invalid.
    pub seq: u64,
    pub kind: AofFileKind,
}

/// What went wrong while parsing a manifest; the text is Redis's own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ManifestErrorKind {
    #[error("Found an empty AOF manifest")]
    Empty,
    #[error("The AOF manifest file contains too long line")]
    TooLongLine,
    #[error("Invalid AOF manifest file format")]
    InvalidFormat,
    #[error("File can't be a path, just a filename")]
    NameIsPath,
    #[error("Found duplicate base file information")]
    DuplicateBase,
    #[error("Found a non-monotonic sequence number")]
    NonMonotonicSeq,
    #[error("Unknown AOF file type")]
    UnknownType,
}

/// A manifest Redis would refuse to load.
///
/// Redis logs the line number and the trimmed line for every error found after
/// a line was read; `line` carries the same two things, and is None exactly
/// when Redis prints no line (an empty manifest or an overlong line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub kind: ManifestErrorKind,
    pub line: Option<(usize, String)>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.line {
            Some((number, text)) => write!(
                f,
                "{} (reading the manifest file, at line {number}: '{text}')",
                self.kind
            ),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ManifestError {}

/// The parsed manifest: at most one base, the incr files in load order, and history files.
///
/// Besides the three lists it keeps the current base and incr sequence
/// numbers, because Redis keeps counting from them even after the files that
/// carried them moved to history or were deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
    curr_base_seq: u64,
    curr_incr_seq: u64,
}

/// `{appendfilename}.manifest`.
pub fn manifest_file_name(appendfilename: &str) -> String {
    format!("{appendfilename}{MANIFEST_NAME_SUFFIX}")
}

/// `temp-{appendfilename}.manifest`, written first and renamed over the manifest.
pub fn temp_manifest_file_name(appendfilename: &str) -> String {
    format!("{TEMP_FILE_NAME_PREFIX}{appendfilename}{MANIFEST_NAME_SUFFIX}")
}

/// `temp-{appendfilename}.incr`, where writes go while AOF waits for its first rewrite.
pub fn temp_incr_file_name(appendfilename: &str) -> String {
    format!("{TEMP_FILE_NAME_PREFIX}{appendfilename}{INCR_FILE_SUFFIX}")
}

/// `{appendfilename}.{seq}.base.rdb` with an RDB preamble, `.base.aof` without.
pub fn base_file_name(appendfilename: &str, seq: u64, rdb_preamble: bool) -> String {
    let format = if rdb_preamble {
        RDB_FORMAT_SUFFIX
    } else {
        AOF_FORMAT_SUFFIX
    };
    format!("{appendfilename}.{seq}{BASE_FILE_SUFFIX}{format}")
}

/// `{appendfilename}.{seq}.incr.aof`.
pub fn incr_file_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}{INCR_FILE_SUFFIX}{AOF_FORMAT_SUFFIX}")
}

/// Removes the bytes `sdstrim(s, " \t\r\n")` removes from both ends.
fn trim(mut s: &[u8]) -> &[u8] {
    let strip = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    while let Some((first, rest)) = s.split_first() {
        if !strip(first) {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !strip(last) {
            break;
        }
        s = rest;
    }
    s
}

/// Cuts a byte string at its first NUL, as every C string function would read it.
fn c_str(s: &[u8]) -> &[u8] {
    match memchr::memchr(0, s) {
        Some(nul) => &s[..nul],
        None => s,
    }
}

/// The seq value as `atoll` reads it: None for a negative number, which Redis
/// would accept but which never comes from Redis and does not fit a `u64`.
fn atoll(s: &[u8]) -> Option<u64> {
    let s = c_str(s);
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // glibc saturates on overflow, so a huge number reads as LLONG_MAX.
    let mut value: u64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        value = value
            .saturating_mul(10)
            .saturating_add(u64::from(d - b'0'))
            .min(i64::MAX as u64);
        i += 1;
    }
    if negative && value != 0 {
        None
    } else {
        Some(value)
    }
}

impl Manifest {
    /// An empty manifest, as Redis has before its first rewrite.
    pub fn new() -> Manifest {
        Manifest::default()
    }

    /// The sequence number of the newest base file ever created (0 before the first).
    pub fn current_base_seq(&self) -> u64 {
        self.curr_base_seq
    }

    /// The sequence number of the newest incr file ever created (0 before the first).
    pub fn current_incr_seq(&self) -> u64 {
        self.curr_incr_seq
    }

    /// Parses a manifest with the rules and messages of `aofLoadManifestFromFile`.
    ///
    /// Lines are read 1024 bytes at a time like `fgets`, so a line without a
    /// final newline (even the last one) is "too long". Lines starting with `#`
    /// are comments. Unknown keys are ignored for forward compatibility.
    /// Two deliberate differences: a negative seq and a file name that is not
    /// UTF-8 are rejected as an invalid format, because Redis never writes them
    /// and they do not fit `AofFile`.
    pub fn parse(data: &[u8]) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest::default();
        let mut max_incr_seq = 0u64;
        let mut pos = 0usize;
        let mut line_number = 0usize;
        loop {
            let rest = &data[pos..];
            if rest.is_empty() {
                if line_number == 0 {
                    return Err(ManifestError {
                        kind: ManifestErrorKind::Empty,
                        line: None,
                    });
                }
                break;
            }
            let limit = rest.len().min(MANIFEST_MAX_LINE);
            let chunk_len = memchr::memchr(b'\n', &rest[..limit]).map_or(limit, |nl| nl + 1);
            let chunk = &rest[..chunk_len];
            pos += chunk_len;
            line_number += 1;

            if chunk.first() == Some(&b'#') {
                continue;
            }
            let text = c_str(chunk);
            if memchr::memchr(b'\n', text).is_none() {
                return Err(ManifestError {
                    kind: ManifestErrorKind::TooLongLine,
                    line: None,
                });
            }
            let line = trim(text);
            let fail = |kind| ManifestError {
                kind,
                line: Some((line_number, String::from_utf8_lossy(line).into_owned())),
            };
            if line.is_empty() {
                return Err(fail(ManifestErrorKind::InvalidFormat));
            }
            let args = match split_args(line) {
                Some(args) if args.len() >= 6 && args.len() % 2 == 0 => args,
                _ => return Err(fail(ManifestErrorKind::InvalidFormat)),
            };

            let mut name: Option<&[u8]> = None;
            let mut seq = 0u64;
            let mut kind_byte = 0u8;
            for pair in args.chunks_exact(2) {
                let (key, value) = (&pair[0], &pair[1]);
                if key.eq_ignore_ascii_case(b"file") {
                    let value = c_str(value);
                    if value.contains(&b'/') || value.contains(&b'\\') {
                        return Err(fail(ManifestErrorKind::NameIsPath));
                    }
                    name = Some(value);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(value).ok_or_else(|| fail(ManifestErrorKind::InvalidFormat))?;
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind_byte = value.first().copied().unwrap_or(0);
                }
            }
            let name = match name {
                Some(name) if seq != 0 && kind_byte != 0 => std::str::from_utf8(name)
                    .map_err(|_| fail(ManifestErrorKind::InvalidFormat))?
                    .to_owned(),
                _ => return Err(fail(ManifestErrorKind::InvalidFormat)),
            };

            match kind_byte {
                b'b' => {
                    if manifest.base.is_some() {
                        return Err(fail(ManifestErrorKind::DuplicateBase));
                    }
                    manifest.base = Some(AofFile {
                        name,
                        seq,
                        kind: AofFileKind::Base,
                    });
                    manifest.curr_base_seq = seq;
                }
                b'h' => manifest.history.push(AofFile {
                    name,
                    seq,
                    kind: AofFileKind::History,
                }),
                b'i' => {
                    if seq <= max_incr_seq {
                        return Err(fail(ManifestErrorKind::NonMonotonicSeq));
                    }
                    manifest.incrs.push(AofFile {
                        name,
                        seq,
                        kind: AofFileKind::Incr,
                    });
                    manifest.curr_incr_seq = seq;
                    max_incr_seq = seq;
                }
                _ => return Err(fail(ManifestErrorKind::UnknownType)),
            }
        }
        Ok(manifest)
    }

    /// The manifest as `getAofManifestAsString` writes it: base, then history, then incrs.
    ///
    /// The bytes are Redis's for every name Redis can read back; an empty name
    /// or one containing `'` is quoted here, where Redis writes a manifest that
    /// it then refuses to load.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let files = self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter());
        for file in files {
            out.extend_from_slice(b"file ");
            // Redis quotes only what sdsneedsrepr flags, so it writes an empty
            // name or one with a single quote bare and then cannot read its own
            // manifest back. Quoting those too keeps every name readable.
            let name = file.name.as_bytes();
            if needs_repr(name) || name.is_empty() || name.contains(&b'\'') {
                cat_repr(&mut out, file.name.as_bytes());
            } else {
                out.extend_from_slice(file.name.as_bytes());
            }
            out.extend_from_slice(b" seq ");
            out.extend_from_slice(itoa::Buffer::new().format(file.seq).as_bytes());
            out.extend_from_slice(b" type ");
            out.push(file.kind.as_char() as u8);
            out.push(b'\n');
        }
        out
    }

    /// Starts a new base file for a finished rewrite and turns the old base
    /// into the first history entry (`getNewBaseFileNameAndMarkPreAsHistory`).
    pub fn new_base(&mut self, appendfilename: &str, rdb_preamble: bool) -> &AofFile {
        if let Some(mut old) = self.base.take() {
            old.kind = AofFileKind::History;
            self.history.insert(0, old);
        }
        self.curr_base_seq = self.curr_base_seq.saturating_add(1);
        self.base.insert(AofFile {
            name: base_file_name(appendfilename, self.curr_base_seq, rdb_preamble),
            seq: self.curr_base_seq,
            kind: AofFileKind::Base,
        })
    }

    /// Appends a new incr file with the next incr seq (`getNewIncrAofName`);
    /// a rewrite calls this when it starts, so later writes go to the new file.
    pub fn new_incr(&mut self, appendfilename: &str) -> &AofFile {
        self.curr_incr_seq = self.curr_incr_seq.saturating_add(1);
        let file = AofFile {
            name: incr_file_name(appendfilename, self.curr_incr_seq),
            seq: self.curr_incr_seq,
            kind: AofFileKind::Incr,
        };
        self.incrs.push(file);
        &self.incrs[self.incrs.len() - 1]
    }

    /// The incr file to append to on startup: the last one, or a new one when
    /// there is none (`getLastIncrAofName`).
    pub fn last_incr_or_new(&mut self, appendfilename: &str) -> &AofFile {
        if self.incrs.is_empty() {
            return self.new_incr(appendfilename);
        }
        &self.incrs[self.incrs.len() - 1]
    }

    /// After a successful rewrite, moves the incr files the new base covers to
    /// history (`markRewrittenIncrAofAsHistory`). With AOF enabled the last
    /// incr is the one being written, so it stays.
    pub fn mark_rewritten_incrs_as_history(&mut self, aof_enabled: bool) {
        let keep = usize::from(aof_enabled && !self.incrs.is_empty());
        let moved = self.incrs.len() - keep;
        let mut rewritten: Vec<AofFile> = self.incrs.drain(..moved).collect();
        for file in &mut rewritten {
            file.kind = AofFileKind::History;
        }
        // Redis pushes each moved file to the head of the history list walking
        // from the newest, so they end up first and in ascending order.
        rewritten.append(&mut self.history);
        self.history = rewritten;
    }

    /// Removes every history entry and returns them, so the caller can delete
    /// the files and then persist the manifest (`aofDelHistoryFiles`).
    pub fn take_history(&mut self) -> Vec<AofFile> {
        std::mem::take(&mut self.history)
    }

    /// Records an old single-file `appendonly.aof` as base seq 1, the way
    /// `aofUpgradePrepare` does before moving that file into the directory.
    pub fn upgrade_legacy(&mut self, appendfilename: &str) {
        self.base = Some(AofFile {
            name: appendfilename.to_owned(),
            seq: 1,
            kind: AofFileKind::Base,
        });
        self.curr_base_seq = 1;
    }

    /// The files to load, in load order: the base (if any) then every incr.
    pub fn load_order(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(self.incrs.iter())
    }
}
