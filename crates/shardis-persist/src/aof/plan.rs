//! Deciding which AOF files to load and in what order, from the directory layout (aofLoadManifestFromDisk and the start of loadAppendOnlyFiles).
//!
//! This file must not depend on the keyspace or on command semantics: it only
//! looks at directories, the manifest and the first bytes of each file.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::manifest::{manifest_file_name, Manifest, ManifestError};
use super::reader::{starts_with_rdb_preamble, RDB_PREAMBLE_MAGIC};

/// How a file starts: with an RDB snapshot or directly with commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseFormat {
    /// The file starts with "REDIS": load an RDB from offset 0, then read
    /// commands from where the RDB ends (an old-style RDB-preamble AOF has some).
    Rdb,
    /// The file holds commands only.
    Aof,
}

/// A file to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// The name as the manifest lists it (Redis's log messages use it).
    pub name: String,
    pub path: PathBuf,
    /// The size when planned; Redis treats a plan whose files are all empty as no data.
    pub len: u64,
    /// Redis checks every file, incr files included, for an RDB preamble.
    pub format: BaseFormat,
}

/// What to load at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Load `base` (if any) and then every incr file in order. Only the last
    /// file may be truncated; a truncation anywhere else is fatal in Redis.
    MultiPart {
        manifest: Manifest,
        base: Option<PlannedFile>,
        incrs: Vec<PlannedFile>,
    },
    /// An old single-file AOF (`{dir}/{appendfilename}`) that Redis 7.0 would
    /// upgrade: create the AOF directory, call `Manifest::upgrade_legacy` on
    /// `manifest`, persist it, move the file into the directory, and load it as
    /// the base.
    Legacy {
        file: PlannedFile,
        manifest: Manifest,
    },
}

impl Plan {
    /// The files to load in order.
    pub fn files(&self) -> Vec<&PlannedFile> {
        match self {
            Plan::MultiPart { base, incrs, .. } => base.iter().chain(incrs.iter()).collect(),
            Plan::Legacy { file, .. } => vec![file],
        }
    }

    /// The total size of the files to load; 0 means Redis starts empty.
    pub fn total_len(&self) -> u64 {
        self.files().iter().map(|f| f.len).sum()
    }
}

/// Why the AOF cannot be loaded; the texts are the ones Redis logs before exiting.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    #[error("Fatal error: can't open the AOF manifest file {} for reading: {source}", path.display())]
    ManifestRead { path: PathBuf, source: io::Error },
    /// A file the manifest lists is not in the directory.
    #[error("Unable to obtain the AOF file {name} length. stat: No such file or directory")]
    Missing { name: String },
    #[error("Unable to obtain the AOF file {name} length. stat: {source}")]
    Stat { name: String, source: io::Error },
    #[error("Fatal error: can't open the append log file {name} for reading: {source}")]
    Open { name: String, source: io::Error },
}

fn dir_exists(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_dir())
}

fn file_exists(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Stats a listed file and looks at its first bytes.
fn planned_file(dir: &Path, name: &str) -> Result<PlannedFile, PlanError> {
    let path = dir.join(name);
    let len = match fs::metadata(&path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PlanError::Missing {
                name: name.to_owned(),
            })
        }
        Err(source) => {
            return Err(PlanError::Stat {
                name: name.to_owned(),
                source,
            })
        }
    };
    let open_err = |source| PlanError::Open {
        name: name.to_owned(),
        source,
    };
    let mut magic = Vec::with_capacity(RDB_PREAMBLE_MAGIC.len());
    fs::File::open(&path)
        .map_err(open_err)?
        .take(RDB_PREAMBLE_MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(open_err)?;
    let format = if starts_with_rdb_preamble(&magic) {
        BaseFormat::Rdb
    } else {
        BaseFormat::Aof
    };
    Ok(PlannedFile {
        name: name.to_owned(),
        path,
        len,
        format,
    })
}

/// Plans loading the AOF of a server whose working directory is `dir`.
///
/// Returns None when there is nothing to load: no AOF directory, no manifest,
/// or a manifest listing neither a base nor an incr file (and no old-style
/// file to upgrade). A listed file that is missing is an error, as it is fatal
/// for Redis. The legacy rule is Redis's: `{dir}/{appendfilename}` is upgraded
/// when the AOF directory is absent, when the manifest lists no base and no
/// incr, or when it lists only a base of that name which is not yet in the
/// directory (an upgrade interrupted after writing the manifest).
pub fn plan(
    dir: &Path,
    appenddirname: &str,
    appendfilename: &str,
) -> Result<Option<Plan>, PlanError> {
    let aof_dir = dir.join(appenddirname);
    let aof_dir_exists = dir_exists(&aof_dir);
    let mut manifest = Manifest::new();
    if aof_dir_exists {
        let manifest_path = aof_dir.join(manifest_file_name(appendfilename));
        if file_exists(&manifest_path) {
            let bytes = fs::read(&manifest_path).map_err(|source| PlanError::ManifestRead {
                path: manifest_path.clone(),
                source,
            })?;
            manifest = Manifest::parse(&bytes)?;
        }
    }

    let legacy_path = dir.join(appendfilename);
    if file_exists(&legacy_path) {
        let nothing_listed = manifest.base.is_none() && manifest.incrs.is_empty();
        let interrupted_upgrade = manifest.incrs.is_empty()
            && manifest
                .base
                .as_ref()
                .is_some_and(|b| b.name == appendfilename)
            && !file_exists(&aof_dir.join(appendfilename));
        if !aof_dir_exists || nothing_listed || interrupted_upgrade {
            let file = planned_file(dir, appendfilename)?;
            return Ok(Some(Plan::Legacy { file, manifest }));
        }
    }

    if manifest.base.is_none() && manifest.incrs.is_empty() {
        return Ok(None);
    }
    let base = match &manifest.base {
        Some(b) => Some(planned_file(&aof_dir, &b.name)?),
        None => None,
    };
    let incrs = manifest
        .incrs
        .iter()
        .map(|f| planned_file(&aof_dir, &f.name))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Plan::MultiPart {
        manifest,
        base,
        incrs,
    }))
}
