//! The lake on disk, and how data gets into it without ever being half there.
//!
//! ```text
//! LAKE/sensor=NAME/date=YYYY-MM-DD/part-<hash>-<n>.parquet   the events (hive partitions)
//! LAKE/_rollup/sensor=NAME/date=YYYY-MM-DD/part-<hash>-<n>.parquet
//!                                                             each events file's rollup
//! LAKE/_manifest/NAME/<hash>.json                             one entry per ingested input
//! LAKE/_staging/NAME-<hash>/...                               an ingest in progress
//! LAKE/.lock                                                  one writer at a time
//! ```
//!
//! An input is committed in three steps: (1) its Parquet files are written and synced under
//! `_staging` with a `.staged` suffix no reader lists; (2) a `COMMIT.json` naming them is
//! written there atomically (temporary name, sync, rename) — the commit point; (3) the files
//! are renamed into their partitions, the manifest entry is written atomically, and the
//! staging directory is removed. Opening the lake for writing finishes any staged input that
//! has a `COMMIT.json` (roll forward) and deletes any that has none (roll back), so a crash or
//! `kill -9` at any moment leaves a readable lake, and the next run yields exactly the rows of
//! one clean ingest. The manifest is keyed by the input's content hash, so ingesting the same
//! bytes again adds nothing.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use noisefloor_delta::{Action, DeltaError, Remove, Table, Txn};

use crate::{LakeError, table};

pub(crate) const MANIFEST: &str = "_manifest";
const STAGING: &str = "_staging";
const COMMIT: &str = "COMMIT.json";
/// Live sensors' segments being written, one directory per sensor (see `segment`).
pub(crate) const LIVE: &str = "_live";
pub const STAGED_SUFFIX: &str = ".staged";

/// What the manifest records about one ingested input.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ManifestEntry {
    pub sensor: String,
    /// The input as named on the command line (`-` for stdin).
    pub input: String,
    /// BLAKE3 of the input's bytes as stored (compressed files hash compressed).
    pub content_hash: String,
    pub size: u64,
    /// `capture` or `log`.
    pub kind: String,
    /// pcap, pcapng, or the log formats seen.
    pub format: String,
    /// Packets (captures) or lines (logs) read.
    pub read: u64,
    /// Log records among the lines.
    pub records: u64,
    /// Lines rejected (logs) or errors met reading (captures), with the first few messages.
    pub rejected: u64,
    pub errors: Vec<String>,
    /// Records without an absolute time, which cannot be placed in a date partition.
    pub untimed: u64,
    /// Rows written to the lake (sum of their `packets` may be larger for counted logs).
    pub rows: u64,
    pub first_ts_us: Option<i64>,
    pub last_ts_us: Option<i64>,
    /// Files the input's rows are in, relative to the lake root.
    pub files: Vec<String>,
    /// The rollup file of each events file (`_rollup/...`, see `rollup`). Empty for an
    /// input ingested before rollups existed: SQL sessions then compute the rollup from
    /// the events.
    #[serde(default)]
    pub rollups: Vec<String>,
    /// Time of the commit (RFC 3339, UTC).
    pub ingested_at: String,
    pub noisefloor_version: String,
    /// Live segments (`kind` = `live`): the wall-clock span the segment covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_start_us: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_end_us: Option<i64>,
    /// Packets the kernel dropped before the sensor could read them (ring or netlink
    /// buffer full) during the segment.
    #[serde(default)]
    pub kernel_drops: u64,
    /// Packets kept shorter than they were on the wire (snap length).
    #[serde(default)]
    pub truncated: u64,
    /// Packets with a malformed header (still stored, with what could be decoded).
    #[serde(default)]
    pub decode_errors: u64,
    /// The input's stream (after gzip or zstd) up to the end of its last whole record or
    /// line. A later input whose stream starts with the same bytes (the file grew, or is a
    /// rotated, compressed copy) adds only what follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamPrefix>,
    /// Where in the stream this entry's rows start: the end of the earlier entry whose
    /// stream this input continued (0: the whole input).
    #[serde(default)]
    pub stream_from: u64,
    /// A log's last line without a newline, not stored: it may still be being written, and
    /// the next ingest of the grown file adds it once it ends.
    #[serde(default)]
    pub held_back: u64,
}

/// A stream prefix: its length in bytes, whole lines in it (logs; a last line without a
/// newline counts), and its BLAKE3.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StreamPrefix {
    pub len: u64,
    pub lines: u64,
    pub hash: String,
}

#[derive(Serialize, Deserialize)]
struct Commit {
    entry: ManifestEntry,
    /// Files of an earlier ingest of the same input that this one replaces (`--replace`).
    replaces: Vec<String>,
    /// The version of the input's `txn` in the Delta log this commit writes (0, or one
    /// more than the commit it replaces): the log itself then says whether it is in.
    #[serde(default)]
    txn_version: i64,
}

/// A lake opened for writing (holds the writer lock until dropped).
pub struct Lake {
    root: PathBuf,
    _lock: File,
    /// Staged inputs found at open and finished (rolled forward) or removed (rolled back).
    pub recovered: Vec<String>,
}

/// Sensor names become directory names: keep them to a safe alphabet.
pub fn check_sensor_name(name: &str) -> Result<(), LakeError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '_', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(LakeError::BadSensorName(name.to_owned()))
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LakeError + '_ {
    move |source| LakeError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Syncs a directory so renames and creations in it survive a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LakeError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes `bytes` to `path` atomically: a temporary name beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LakeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))?;
    sync_dir(dir)
}

/// Creates `dir` if needed and takes its `.lock` without waiting: `None` when another
/// process holds it. The lock lasts as long as the returned file.
pub(crate) fn try_lock_dir(dir: &Path) -> Result<Option<File>, LakeError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock_path = dir.join(".lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&lock_path)(e)),
    }
}

impl Lake {
    /// Opens (creating if needed) the lake at `root` for writing: takes the writer lock and
    /// finishes or removes whatever an interrupted run left staged.
    pub fn open(root: &Path) -> Result<Lake, LakeError> {
        let Some(lock) = try_lock_dir(root)? else {
            return Err(LakeError::Locked(root.to_owned()));
        };
        let mut lake = Lake {
            root: root.to_owned(),
            _lock: lock,
            recovered: Vec::new(),
        };
        if !table::events(root).exists() {
            // A lake written before the Delta log: its files are not yet any table's.
            if !manifest(root).is_empty() {
                return Err(LakeError::NeedsMigration(root.to_owned()));
            }
            table::create(root)?;
        }
        lake.recover()?;
        Ok(lake)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn recover(&mut self) -> Result<(), LakeError> {
        let staging = self.root.join(STAGING);
        let Ok(dir) = fs::read_dir(&staging) else {
            return Ok(());
        };
        let mut names: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            if !path.is_dir() {
                // A stdin spool or a stray file from an interrupted run.
                fs::remove_file(&path).map_err(io_err(&path))?;
                continue;
            }
            let commit = fs::read(path.join(COMMIT))
                .ok()
                .and_then(|b| serde_json::from_slice::<Commit>(&b).ok());
            match commit {
                Some(c) => {
                    self.roll_forward(&path, &c)?;
                    self.recovered.push(format!(
                        "finished the interrupted commit of {}",
                        c.entry.input
                    ));
                }
                None => {
                    fs::remove_dir_all(&path).map_err(io_err(&path))?;
                    self.recovered
                        .push(format!("removed the uncommitted ingest {name}"));
                }
            }
        }
        Ok(())
    }

    fn manifest_path(&self, sensor: &str, hash: &str) -> PathBuf {
        self.root
            .join(MANIFEST)
            .join(sensor)
            .join(format!("{hash}.json"))
    }

    /// The manifest entry of an input already in the lake, if any.
    pub fn entry(&self, sensor: &str, hash: &str) -> Option<ManifestEntry> {
        read_entry(&self.manifest_path(sensor, hash))
    }

    /// Forgets an input (its manifest entry), so that it can be ingested again after
    /// `check --repair` took its rows out of the tables.
    pub fn forget(&self, sensor: &str, hash: &str) -> Result<(), LakeError> {
        let p = self.manifest_path(sensor, hash);
        match fs::remove_file(&p) {
            Ok(()) => sync_dir(p.parent().unwrap_or(&self.root)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&p)(e)),
        }
    }

    /// A fresh staging directory for one input (any leftover of the same input is removed).
    pub fn stage(&self, sensor: &str, hash: &str) -> Result<Staging, LakeError> {
        Staging::fresh(
            self.root.join(STAGING).join(format!("{sensor}-{hash}")),
            sensor,
            hash,
        )
    }

    /// A path under `_staging` for spooling stdin before it can be hashed.
    pub fn spool_path(&self) -> Result<PathBuf, LakeError> {
        let dir = self.root.join(STAGING);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(dir.join(format!("stdin-{}.spool", std::process::id())))
    }

    /// Commits a staged input: the commit point, then the renames and the manifest entry.
    /// `entry.files` must list the staged files (relative to the lake root, final names).
    pub fn commit(
        &self,
        staging: Staging,
        entry: ManifestEntry,
        replaces: Option<&ManifestEntry>,
    ) -> Result<(), LakeError> {
        let (dir, commit) = self.commit_point(staging, entry, replaces)?;
        self.roll_forward(&dir, &commit)
    }

    /// Only the commit point (what a crash right after it leaves behind). Exposed so tests
    /// can check that the next [`Lake::open`] finishes the commit.
    #[doc(hidden)]
    pub fn commit_point_only(
        &self,
        staging: Staging,
        entry: ManifestEntry,
        replaces: Option<&ManifestEntry>,
    ) -> Result<(), LakeError> {
        self.commit_point(staging, entry, replaces).map(|_| ())
    }

    fn commit_point(
        &self,
        staging: Staging,
        entry: ManifestEntry,
        replaces: Option<&ManifestEntry>,
    ) -> Result<(PathBuf, Commit), LakeError> {
        let app = table::app_id(&entry.sensor, &entry.content_hash);
        let snap = table::events(&self.root).snapshot()?;
        let txn_version = snap.txn(&app).map_or(0, |v| v + 1);
        // `compact` merged the input's rows with other inputs' into files of their own:
        // removing the input's files would no longer take out its rows (and only them).
        if let Some(r) = replaces
            && let Some(gone) = r
                .files
                .iter()
                .find(|f| !snap.files.contains_key(&noisefloor_delta::encode_path(f)))
        {
            staging.discard();
            return Err(LakeError::Config(format!(
                "{}: cannot --replace: its rows were compacted with other inputs' rows ({gone} is no longer a file of the table); its rows are in the lake once already",
                r.input
            )));
        }
        let commit = Commit {
            txn_version,
            replaces: replaces
                .map(|r| {
                    r.files
                        .iter()
                        .chain(&r.rollups)
                        .filter(|f| !entry.files.contains(f) && !entry.rollups.contains(f))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            entry,
        };
        write_commit_file(&staging, &commit)?;
        Ok((staging.dir, commit))
    }

    /// Moves a staged directory that already holds its commit point (a live segment,
    /// written outside the lock) into the lake and finishes the commit. The rename into
    /// `_staging` is atomic, so a crash leaves the segment either where it was (the sensor
    /// adopts it on restart) or in `_staging` with its commit (the next open rolls it
    /// forward).
    pub(crate) fn adopt(&self, dir: &Path) -> Result<ManifestEntry, LakeError> {
        let commit: Commit = fs::read(dir.join(COMMIT))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                LakeError::Corrupt(format!("{}: no readable {COMMIT}", dir.display()))
            })?;
        let staging_root = self.root.join(STAGING);
        fs::create_dir_all(&staging_root).map_err(io_err(&staging_root))?;
        let dest = staging_root.join(format!(
            "{}-{}",
            commit.entry.sensor, commit.entry.content_hash
        ));
        fs::rename(dir, &dest).map_err(io_err(&dest))?;
        sync_dir(&staging_root)?;
        self.roll_forward(&dest, &commit)?;
        Ok(commit.entry)
    }

    /// Steps after the commit point; safe to repeat after a crash at any moment: the files
    /// go into their partitions (invisible to every reader until the log names them), the
    /// events table's log commits them with the input's `txn` (the point from which every
    /// engine sees the input), the rollup table's log commits the rollup files, the
    /// manifest entry is written. A replaced ingest's files are removed in the same log
    /// commits and stay on disk for readers of older versions until `vacuum`.
    fn roll_forward(&self, dir: &Path, c: &Commit) -> Result<(), LakeError> {
        let mut dirs = Vec::new();
        for rel in c.entry.files.iter().chain(&c.entry.rollups) {
            let staged = dir.join(format!("{rel}{STAGED_SUFFIX}"));
            let dest = self.root.join(rel);
            if !staged.exists() {
                // Renamed before the crash; it must then be in place.
                if dest.exists() {
                    continue;
                }
                return Err(LakeError::Corrupt(format!(
                    "{}: committed file {rel} is missing from staging and from the lake",
                    dir.display()
                )));
            }
            let parent = dest.parent().unwrap_or(&self.root).to_owned();
            fs::create_dir_all(&parent).map_err(io_err(&parent))?;
            fs::rename(&staged, &dest).map_err(io_err(&dest))?;
            if !dirs.contains(&parent) {
                dirs.push(parent);
            }
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        crash_point("before-log-commit");
        let entry = serde_json::to_value(&c.entry).map_err(LakeError::Json)?;
        self.commit_to_log(c, table::events(&self.root), &c.entry.files, entry)?;
        crash_point("after-events-commit");
        let rollups: Vec<String> = c
            .entry
            .rollups
            .iter()
            .map(|r| table::split(&self.root, r).1)
            .collect();
        let key =
            serde_json::json!({"sensor": c.entry.sensor, "content_hash": c.entry.content_hash});
        self.commit_to_log(c, table::rollup(&self.root), &rollups, key)?;
        crash_point("after-rollup-commit");
        let bytes = serde_json::to_vec_pretty(&c.entry).map_err(LakeError::Json)?;
        write_atomic(
            &self.manifest_path(&c.entry.sensor, &c.entry.content_hash),
            &bytes,
        )?;
        fs::remove_dir_all(dir).map_err(io_err(dir))?;
        Ok(())
    }

    /// Commits `files` (relative to `t`'s root) with the input's transaction and `info` in
    /// its `commitInfo`, unless the log already holds it (a roll-forward after a crash, or
    /// another writer).
    fn commit_to_log(
        &self,
        c: &Commit,
        t: Table,
        files: &[String],
        info: serde_json::Value,
    ) -> Result<(), LakeError> {
        let app = table::app_id(&c.entry.sensor, &c.entry.content_hash);
        let snap = t.snapshot()?;
        if snap.txn(&app).is_some_and(|v| v >= c.txn_version) {
            return Ok(());
        }
        let now = noisefloor_delta::now_ms();
        let mut actions = vec![
            Action::CommitInfo(table::commit_info("WRITE", info)),
            Action::Txn(Txn {
                app_id: app,
                version: c.txn_version,
                last_updated: Some(now),
            }),
        ];
        for old in &c.replaces {
            let (owner, rel) = table::split(&self.root, old);
            if owner.root() == t.root()
                && let Some(a) = snap.files.get(&noisefloor_delta::encode_path(&rel))
            {
                actions.push(Action::Remove(Remove::of(a, now, true)));
            }
        }
        for rel in files {
            actions.push(Action::Add(table::add_for(&t, rel, true)?));
        }
        match t.commit(&snap, &actions) {
            Ok(_) | Err(DeltaError::AlreadyCommitted { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Test hook: `NOISEFLOOR_CRASH_AT=NAME` aborts the process at the named step of a commit
/// (`before-log-commit`, `after-events-commit`, `after-rollup-commit`), as a power cut or
/// `kill -9` would, so tests can show every engine reads the state before or after.
pub(crate) fn crash_point(name: &str) {
    if std::env::var_os("NOISEFLOOR_CRASH_AT").is_some_and(|v| v == name) {
        eprintln!("noisefloor: NOISEFLOOR_CRASH_AT={name}: aborting");
        std::process::abort();
    }
}

fn write_commit_file(staging: &Staging, commit: &Commit) -> Result<(), LakeError> {
    let bytes = serde_json::to_vec_pretty(commit).map_err(LakeError::Json)?;
    write_atomic(&staging.dir.join(COMMIT), &bytes)
}

/// The manifest entry in a staged directory's commit point, if it has one.
pub(crate) fn read_commit_entry(dir: &Path) -> Option<ManifestEntry> {
    fs::read(dir.join(COMMIT))
        .ok()
        .and_then(|b| serde_json::from_slice::<Commit>(&b).ok())
        .map(|c| c.entry)
}

/// Writes the commit point of a detached staging (see [`Lake::adopt`]).
pub(crate) fn write_detached_commit(
    staging: &Staging,
    entry: ManifestEntry,
) -> Result<(), LakeError> {
    write_commit_file(
        staging,
        &Commit {
            entry,
            replaces: Vec::new(),
            txn_version: 0,
        },
    )
}

fn read_entry(path: &Path) -> Option<ManifestEntry> {
    fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// Every manifest entry of the lake at `root` (read-only; no lock needed).
pub fn manifest(root: &Path) -> Vec<ManifestEntry> {
    let mut out = Vec::new();
    let Ok(sensors) = fs::read_dir(root.join(MANIFEST)) else {
        return out;
    };
    for s in sensors.flatten() {
        let Ok(files) = fs::read_dir(s.path()) else {
            continue;
        };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "json")
                && let Some(e) = read_entry(&p)
            {
                out.push(e);
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.sensor, &a.ingested_at, &a.input).cmp(&(&b.sensor, &b.ingested_at, &b.input))
    });
    out
}

/// One input being written.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    sensor: String,
    hash: String,
    /// Unique to this staging: a file name is never reused, so a replaced input's new files
    /// never overwrite the old ones that readers of older table versions may still read.
    token: String,
}

impl Staging {
    /// An empty staging directory at `dir` (any leftover there is removed): under
    /// `_staging` for `ingest`, or under `_live` for a writer that does not hold the lake
    /// lock, which [`Lake::adopt`] moves in once its commit point is written.
    pub(crate) fn fresh(dir: PathBuf, sensor: &str, hash: &str) -> Result<Staging, LakeError> {
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let token = blake3::hash(format!("{hash}\0{nanos}\0{}", std::process::id()).as_bytes())
            .to_hex()[..8]
            .to_owned();
        Ok(Staging {
            dir,
            sensor: sensor.to_owned(),
            hash: hash.to_owned(),
            token,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The input's key: content hash, or a live segment's id.
    pub(crate) fn hash(&self) -> &str {
        &self.hash
    }

    /// Removes a staged input that will not be committed (a failed read or write); a crash
    /// before this runs is cleaned up by the next [`Lake::open`].
    pub fn discard(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }

    /// The relative (final) name of part `n` of date `date`, and where to write it now.
    pub fn part(&self, date: &str, n: u32) -> (String, PathBuf) {
        let short = &self.hash[..self.hash.len().min(16)];
        let rel = format!(
            "sensor={}/date={date}/part-{short}-{}-{n:04}.parquet",
            self.sensor, self.token
        );
        let staged = self.dir.join(format!("{rel}{STAGED_SUFFIX}"));
        (rel, staged)
    }

    /// The rollup file of part `n` of date `date` (relative name, where to write it now).
    pub fn rollup_part(&self, date: &str, n: u32) -> (String, PathBuf) {
        let (rel, _) = self.part(date, n);
        let rel = format!("{}/{rel}", crate::rollup::ROLLUP_DIR);
        let staged = self.dir.join(format!("{rel}{STAGED_SUFFIX}"));
        (rel, staged)
    }
}

impl ManifestEntry {
    /// An input with rows but no rollup files (ingested before rollups existed).
    pub fn lacks_rollup(&self) -> bool {
        !self.files.is_empty() && self.rollups.is_empty()
    }
}
