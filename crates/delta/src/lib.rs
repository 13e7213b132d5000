//! The Delta Lake transaction log of one table, written and read by hand.
//!
//! Hand-written because the one Rust implementation, delta-rs (`deltalake-core` 1.1), brings
//! an HTTP client stack, a second async engine (delta_kernel) and a C build (aws-lc-sys)
//! even with its default features off — about 130 more crates in every build of a binary
//! whose first build is already the newcomer's longest wait — while the lake needs only the
//! protocol's core: JSON commits of `add`, `remove`, `txn`, `metaData`, `protocol` and
//! `commitInfo` (reader version 1, writer version 2, no table features), written with the
//! protocol's mutual exclusion (a version's file is created only if absent). delta-rs
//! (Python), DuckDB's `delta_scan` and Spark read what this writes; the lake's tests check
//! it with the first two.
//!
//! ```text
//! TABLE/_delta_log/00000000000000000000.json   version 0: protocol, metaData
//! TABLE/_delta_log/00000000000000000001.json   version 1: add, remove, txn, commitInfo …
//! ```

mod action;

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub use action::{Action, Add, Format, Metadata, Protocol, Remove, Txn};

/// The log directory under a table's root.
pub const LOG_DIR: &str = "_delta_log";

/// What can go wrong with a table's log.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// A commit file that cannot be read as the protocol says.
    #[error("{path}, line {line}: {message}; the table's log is damaged (`noisefloor check`)")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}: not a Delta table (no {LOG_DIR}/00000000000000000000.json)")]
    NoTable(PathBuf),
    #[error("{path}: the log has version {next} but not {missing}; the table's log is damaged")]
    Gap {
        path: PathBuf,
        missing: i64,
        next: i64,
    },
    #[error(
        "{path}: the table needs a Delta reader or writer newer than noisefloor's (protocol {reader}/{writer}{features})"
    )]
    Unsupported {
        path: PathBuf,
        reader: i32,
        writer: i32,
        features: String,
    },
    /// Another writer committed the same application transaction first: what this commit
    /// would add is already in the table.
    #[error("{app_id} was committed by another writer (version {version})")]
    AlreadyCommitted { app_id: String, version: i64 },
    /// Another writer's commit took away a file this commit removes or changed the table's
    /// metadata: retry from a fresh snapshot.
    #[error("version {version} of {path} conflicts with this commit: {why}")]
    Conflict {
        path: PathBuf,
        version: i64,
        why: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DeltaError + '_ {
    move |source| DeltaError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One table: a directory with a `_delta_log`.
#[derive(Clone, Debug)]
pub struct Table {
    root: PathBuf,
}

/// A table as of one version: its live files and the applications' last versions.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The last version replayed (-1: no commit yet).
    pub version: i64,
    pub protocol: Option<Protocol>,
    pub metadata: Option<Metadata>,
    /// Live files by (encoded) path, in path order.
    pub files: BTreeMap<String, Add>,
    /// Application id → last committed version.
    pub txns: HashMap<String, i64>,
    /// Files removed and not added again (tombstones), by path: `vacuum` keeps them until
    /// their removal is older than its retention period.
    pub removed: BTreeMap<String, Remove>,
}

impl Snapshot {
    /// The version of `app_id` in this snapshot.
    pub fn txn(&self, app_id: &str) -> Option<i64> {
        self.txns.get(app_id).copied()
    }
}

/// One commit as read back: its version and actions.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    pub version: i64,
    pub adds: Vec<Add>,
    pub removes: Vec<Remove>,
    pub txns: Vec<Txn>,
    pub protocol: Option<Protocol>,
    pub metadata: Option<Metadata>,
    pub commit_info: Option<serde_json::Value>,
}

/// The file name of a version's commit.
pub fn commit_name(version: i64) -> String {
    format!("{version:020}.json")
}

fn parse_version(name: &str) -> Option<i64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

impl Table {
    /// The table whose root is `root` (nothing is read yet).
    pub fn at(root: impl Into<PathBuf>) -> Table {
        Table { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn log_dir(&self) -> PathBuf {
        self.root.join(LOG_DIR)
    }

    /// Whether the table has its first commit.
    pub fn exists(&self) -> bool {
        self.log_dir().join(commit_name(0)).is_file()
    }

    /// The versions present in the log, ascending.
    pub fn versions(&self) -> Result<Vec<i64>, DeltaError> {
        let dir = self.log_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut versions: Vec<i64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(parse_version))
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    /// Reads one commit.
    pub fn read_commit(&self, version: i64) -> Result<Commit, DeltaError> {
        let path = self.log_dir().join(commit_name(version));
        let text = fs::read_to_string(&path).map_err(io_err(&path))?;
        let mut c = Commit {
            version,
            ..Commit::default()
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let l: action::Line = serde_json::from_str(line).map_err(|e| DeltaError::Corrupt {
                path: path.clone(),
                line: i + 1,
                message: e.to_string(),
            })?;
            c.adds.extend(l.add);
            c.removes.extend(l.remove);
            c.txns.extend(l.txn);
            if l.protocol.is_some() {
                c.protocol = l.protocol;
            }
            if l.meta_data.is_some() {
                c.metadata = l.meta_data;
            }
            if l.commit_info.is_some() {
                c.commit_info = l.commit_info;
            }
        }
        Ok(c)
    }

    /// The table as of its latest version: every commit replayed in order.
    pub fn snapshot(&self) -> Result<Snapshot, DeltaError> {
        self.snapshot_with(|_| {})
    }

    /// [`Table::snapshot`], showing `visit` each commit as it is replayed (to gather what
    /// a snapshot does not keep, such as each commit's `commitInfo`).
    pub fn snapshot_with(&self, mut visit: impl FnMut(&Commit)) -> Result<Snapshot, DeltaError> {
        let versions = self.versions()?;
        if versions.first() != Some(&0) {
            return Err(DeltaError::NoTable(self.root.clone()));
        }
        let mut s = Snapshot {
            version: -1,
            ..Snapshot::default()
        };
        for v in versions {
            if v != s.version + 1 {
                return Err(DeltaError::Gap {
                    path: self.log_dir(),
                    missing: s.version + 1,
                    next: v,
                });
            }
            let c = self.read_commit(v)?;
            visit(&c);
            apply(&mut s, c);
        }
        self.check_protocol(&s)?;
        Ok(s)
    }

    fn check_protocol(&self, s: &Snapshot) -> Result<(), DeltaError> {
        let Some(p) = &s.protocol else {
            return Err(DeltaError::Corrupt {
                path: self.log_dir().join(commit_name(0)),
                line: 0,
                message: "no protocol action".into(),
            });
        };
        if p.min_reader_version > 1 || p.min_writer_version > 2 {
            let features: Vec<&str> = p
                .reader_features
                .iter()
                .chain(&p.writer_features)
                .flatten()
                .map(String::as_str)
                .collect();
            return Err(DeltaError::Unsupported {
                path: self.root.clone(),
                reader: p.min_reader_version,
                writer: p.min_writer_version,
                features: if features.is_empty() {
                    String::new()
                } else {
                    format!(", features {}", features.join(", "))
                },
            });
        }
        if s.metadata.is_none() {
            return Err(DeltaError::Corrupt {
                path: self.log_dir().join(commit_name(0)),
                line: 0,
                message: "no metaData action".into(),
            });
        }
        Ok(())
    }

    /// Creates the table (version 0: protocol and metadata). An existing table is left as
    /// it is and `false` returned.
    pub fn create(&self, metadata: Metadata, info: serde_json::Value) -> Result<bool, DeltaError> {
        let actions = [
            Action::CommitInfo(info),
            Action::Protocol(Protocol::lake()),
            Action::MetaData(metadata),
        ];
        self.try_write(0, &actions)
    }

    /// Commits `actions` on top of `read` (the snapshot the writer decided from) and returns
    /// the version it became. When other writers committed since, their commits are checked
    /// against this one and it goes in after them, unless one of them committed one of this
    /// commit's application transactions ([`DeltaError::AlreadyCommitted`]: the work is
    /// already in), removed a file this one removes, or changed the table's metadata or
    /// protocol ([`DeltaError::Conflict`]).
    pub fn commit(&self, read: &Snapshot, actions: &[Action]) -> Result<i64, DeltaError> {
        let mut version = read.version + 1;
        loop {
            if self.try_write(version, actions)? {
                return Ok(version);
            }
            let winner = self.read_commit(version)?;
            self.check_conflict(&winner, actions)?;
            version += 1;
        }
    }

    fn check_conflict(&self, winner: &Commit, ours: &[Action]) -> Result<(), DeltaError> {
        let conflict = |why: String| DeltaError::Conflict {
            path: self.root.clone(),
            version: winner.version,
            why,
        };
        if winner.metadata.is_some() || winner.protocol.is_some() {
            return Err(conflict(
                "it changed the table's metadata or protocol".into(),
            ));
        }
        for a in ours {
            match a {
                Action::Txn(t) => {
                    if let Some(w) = winner.txns.iter().find(|w| w.app_id == t.app_id) {
                        return Err(DeltaError::AlreadyCommitted {
                            app_id: t.app_id.clone(),
                            version: w.version,
                        });
                    }
                }
                Action::Remove(r) if winner.removes.iter().any(|w| w.path == r.path) => {
                    return Err(conflict(format!("it removed {} first", r.path)));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes version `version` if no writer has: `false` when it exists.
    fn try_write(&self, version: i64, actions: &[Action]) -> Result<bool, DeltaError> {
        let dir = self.log_dir();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let mut text = Vec::new();
        for a in actions {
            serde_json::to_writer(&mut text, a).map_err(|e| DeltaError::Io {
                path: dir.clone(),
                source: io::Error::other(e),
            })?;
            text.push(b'\n');
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = dir.join(format!(
            ".{}.{}-{nanos}.tmp",
            commit_name(version),
            std::process::id()
        ));
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&text).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        drop(f);
        let path = dir.join(commit_name(version));
        // A hard link fails when the name exists: the protocol's put-if-absent, atomic on
        // every local file system (a rename would silently replace the other writer's
        // commit).
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io_err(&dir))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

/// Applies one commit to a snapshot (log replay).
pub fn apply(s: &mut Snapshot, c: Commit) {
    s.version = c.version;
    if c.protocol.is_some() {
        s.protocol = c.protocol;
    }
    if c.metadata.is_some() {
        s.metadata = c.metadata;
    }
    // Within one commit a path is added or removed, not both (the protocol's rule), so the
    // order between the two kinds does not matter.
    for r in c.removes {
        s.files.remove(&r.path);
        s.removed.insert(r.path.clone(), r);
    }
    for a in c.adds {
        s.removed.remove(&a.path);
        s.files.insert(a.path.clone(), a);
    }
    for t in c.txns {
        s.txns.insert(t.app_id, t.version);
    }
}

/// A relative file path as the log stores it: URI-encoded, `/` kept.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'=' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A log path back to the relative file path (`None` when it is not valid percent-encoded
/// UTF-8, escapes the table root, or is absolute).
pub fn decode_path(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    let safe = !s.is_empty()
        && !s.starts_with('/')
        && !s.contains('\\')
        && !s.contains('\0')
        && s.split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    safe.then_some(s)
}

/// The `partitionValues` of a hive-style relative path (`k=v/k2=v2/file`), for the columns
/// named.
pub fn partition_values(path: &str, columns: &[String]) -> BTreeMap<String, Option<String>> {
    let mut out: BTreeMap<String, Option<String>> =
        columns.iter().map(|c| (c.clone(), None)).collect();
    for part in path.split('/') {
        if let Some((k, v)) = part.split_once('=')
            && let Some(slot) = out.get_mut(k)
        {
            *slot = Some(v.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;
