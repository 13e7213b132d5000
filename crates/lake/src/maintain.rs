//! Keeping the tables healthy: `compact` (many small files of a partition become one, in one
//! log commit, so no reader ever counts a row twice or misses one), `vacuum` (files no
//! version needs any more are deleted after a retention period) and `check` (every file the
//! log names is there, whole and as long as the log says; strays are listed; `--repair`
//! takes damaged inputs out in one commit so they can be ingested again).
//!
//! All three hold the lake's writer lock, like `ingest`: opening the lake for writing
//! finishes or removes interrupted ingests under `_staging`, which only one writer may do.
//! Each table commit is still checked against concurrent commits by the log itself.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use noisefloor_delta::{Action, Add, Remove, Snapshot, Table, decode_path, now_ms};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;

use crate::store::{crash_point, io_err, sync_dir};
use crate::{Lake, LakeError, table};

/// What `compact` did, per table (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct Compaction {
    pub table: String,
    /// Partitions rewritten.
    pub partitions: u64,
    pub files_before: u64,
    pub files_after: u64,
    pub rows: i64,
    /// The table version of the commit (`None`: nothing to do).
    pub version: Option<i64>,
}

/// Rows of a file, as its `add` says (its footer's count when the file was committed).
pub fn add_rows(add: &Add) -> Option<i64> {
    let stats: serde_json::Value = serde_json::from_str(add.stats.as_deref()?).ok()?;
    stats["numRecords"].as_i64()
}

fn partition_of(add: &Add) -> (String, String) {
    let v = |k: &str| {
        add.partition_values
            .get(k)
            .cloned()
            .flatten()
            .unwrap_or_default()
    };
    (v(crate::schema::col::SENSOR), v(crate::schema::col::DATE))
}

/// Merges the files of every partition (of `sensor`, or all) that has at least `min_files`
/// of them into one file, in one commit per table (data unchanged: `dataChange` false).
pub fn compact(
    root: &Path,
    sensor: Option<&str>,
    min_files: usize,
) -> Result<Vec<Compaction>, LakeError> {
    let lake = Lake::open(root)?;
    let mut out = Vec::new();
    for name in ["events", "rollup"] {
        let t = if name == "events" {
            table::events(lake.root())
        } else {
            table::rollup(lake.root())
        };
        out.push(compact_table(&t, name, sensor, min_files.max(2))?);
    }
    Ok(out)
}

fn compact_table(
    t: &Table,
    name: &str,
    sensor: Option<&str>,
    min_files: usize,
) -> Result<Compaction, LakeError> {
    let snap = t.snapshot()?;
    let mut c = Compaction {
        table: name.to_owned(),
        ..Compaction::default()
    };
    let mut groups: BTreeMap<(String, String), Vec<&Add>> = BTreeMap::new();
    for add in snap.files.values() {
        let p = partition_of(add);
        if sensor.is_none_or(|s| s == p.0) {
            groups.entry(p).or_default().push(add);
        }
    }
    let token = format!("{:x}", now_ms());
    let mut actions = vec![Action::CommitInfo(table::commit_info(
        "OPTIMIZE",
        serde_json::json!({"sensor": sensor}),
    ))];
    let mut written = Vec::new();
    let now = now_ms();
    for ((s, date), files) in groups.into_iter().filter(|(_, f)| f.len() >= min_files) {
        let rel = format!("sensor={s}/date={date}/part-compact-{token}.parquet");
        let rows = merge(t, &files, &rel, name == "events", &s)?;
        written.push(t.root().join(&rel));
        let expected: i64 = files.iter().filter_map(|a| add_rows(a)).sum();
        if files.iter().all(|a| add_rows(a).is_some()) && rows != expected {
            for w in &written {
                let _ = fs::remove_file(w);
            }
            return Err(LakeError::Corrupt(format!(
                "compacting {name} sensor={s}/date={date}: read {rows} rows where the log says {expected}; nothing was changed; run `noisefloor check`"
            )));
        }
        c.partitions += 1;
        c.files_before += files.len() as u64;
        c.files_after += 1;
        c.rows += rows;
        for a in &files {
            actions.push(Action::Remove(Remove::of(a, now, false)));
        }
        actions.push(Action::Add(table::add_for(t, &rel, false)?));
    }
    if c.partitions == 0 {
        return Ok(c);
    }
    crash_point("compact-before-log-commit");
    match t.commit(&snap, &actions) {
        Ok(v) => c.version = Some(v),
        Err(e) => {
            // Nothing references the merged files: remove them; the table is as it was.
            for w in &written {
                let _ = fs::remove_file(w);
            }
            return Err(e.into());
        }
    }
    crash_point("compact-after-log-commit");
    Ok(c)
}

/// Writes the rows of `files` (in path order) into one file at `rel`; returns its rows.
fn merge(
    t: &Table,
    files: &[&Add],
    rel: &str,
    events: bool,
    sensor: &str,
) -> Result<i64, LakeError> {
    let dest = t.root().join(rel);
    let parent = dest.parent().unwrap_or(t.root()).to_owned();
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let props = if events {
        crate::ingest::writer_properties(crate::ingest::DEFAULT_ZSTD_LEVEL, sensor)
    } else {
        crate::ingest::rollup_properties()
    };
    let schema = if events {
        crate::schema::file_schema()
    } else {
        crate::rollup::rollup_schema()
    };
    let out = File::create(&dest).map_err(io_err(&dest))?;
    let mut w = ArrowWriter::try_new(out, schema, Some(props)).map_err(LakeError::Parquet)?;
    let mut rows = 0i64;
    for a in files {
        let path = file_path(t, a)?;
        let f = File::open(&path).map_err(io_err(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.with_batch_size(64 * 1024).build())
            .map_err(|e| damaged(&path, &e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| damaged(&path, &e.to_string()))?;
            rows += batch.num_rows() as i64;
            w.write(&batch).map_err(LakeError::Parquet)?;
        }
    }
    let f = w.into_inner().map_err(LakeError::Parquet)?;
    f.sync_all().map_err(io_err(&dest))?;
    sync_dir(&parent)?;
    Ok(rows)
}

fn damaged(path: &Path, why: &str) -> LakeError {
    LakeError::Corrupt(format!(
        "{}: {why}; run `noisefloor check --lake …` to find and repair damaged files",
        path.display()
    ))
}

/// The file of an `add` on disk.
pub fn file_path(t: &Table, a: &Add) -> Result<PathBuf, LakeError> {
    decode_path(&a.path)
        .map(|rel| t.root().join(rel))
        .ok_or_else(|| {
            LakeError::Corrupt(format!(
                "{}: the log names a file outside the table: {:?}",
                t.root().display(),
                a.path
            ))
        })
}

/// What `vacuum` did (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct Vacuum {
    /// Files deleted (or, with `dry_run`, that would be), relative to the lake.
    pub deleted: Vec<String>,
    pub bytes: u64,
    /// Unreferenced files younger than the retention period, kept.
    pub kept_recent: u64,
}

/// Deletes the files of both tables that the current version does not reference and that
/// no reader of a version younger than `retention` may still read: removed files once their
/// removal is older than `retention`, files never committed once they are.
pub fn vacuum(root: &Path, retention: Duration, dry_run: bool) -> Result<Vacuum, LakeError> {
    let lake = Lake::open(root)?;
    let mut v = Vacuum::default();
    let cutoff = now_ms() - retention.as_millis() as i64;
    for t in [table::events(lake.root()), table::rollup(lake.root())] {
        let snap = t.snapshot()?;
        for rel in data_files(t.root())? {
            let encoded = noisefloor_delta::encode_path(&rel);
            if snap.files.contains_key(&encoded) {
                continue;
            }
            let path = t.root().join(&rel);
            let meta = fs::metadata(&path).map_err(io_err(&path))?;
            let since = match snap.removed.get(&encoded) {
                Some(r) => r.deletion_timestamp.unwrap_or(0),
                None => mtime_ms(&meta),
            };
            if since > cutoff {
                v.kept_recent += 1;
                continue;
            }
            if !dry_run {
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
            v.bytes += meta.len();
            v.deleted.push(lake_relative(lake.root(), &t, &rel));
        }
    }
    Ok(v)
}

fn mtime_ms(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

fn lake_relative(root: &Path, t: &Table, rel: &str) -> String {
    match t.root().strip_prefix(root) {
        Ok(p) if !p.as_os_str().is_empty() => format!("{}/{rel}", p.display()),
        _ => rel.to_owned(),
    }
}

/// Every file under a table's partition directories (`sensor=*/date=*/*`), relative to the
/// table root, sorted; other directories (`_delta_log`, `_rollup`, `_manifest`…) are not
/// the table's data.
pub fn data_files(root: &Path) -> Result<Vec<String>, LakeError> {
    let mut out = Vec::new();
    let list = |dir: &Path| -> Result<Vec<(String, PathBuf, bool)>, LakeError> {
        let mut v = Vec::new();
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
            Err(e) => return Err(io_err(dir)(e)),
        };
        for e in entries.flatten() {
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            v.push((
                e.file_name().to_string_lossy().into_owned(),
                e.path(),
                is_dir,
            ));
        }
        Ok(v)
    };
    for (s, sp, sdir) in list(root)? {
        if !sdir || !s.starts_with("sensor=") {
            continue;
        }
        for (d, dp, ddir) in list(&sp)? {
            if !ddir || !d.starts_with("date=") {
                continue;
            }
            for (f, _, fdir) in list(&dp)? {
                if !fdir && !f.starts_with('.') {
                    out.push(format!("{s}/{d}/{f}"));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One problem `check` found.
#[derive(Debug, Serialize, PartialEq)]
pub struct Finding {
    /// `events` or `rollup`.
    pub table: String,
    /// Relative to the lake.
    pub path: String,
    /// `missing`, `size`, `content` (same size, other bytes), `unreadable`, `rows` (the
    /// footer disagrees with the log), or `stray` (on disk, in no version).
    pub kind: String,
    pub detail: String,
    /// The inputs whose rows the file holds (damaged files).
    pub inputs: Vec<String>,
    /// What to do (or, after `--repair`, what was done).
    pub action: String,
}

/// What `check` found and did (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct CheckReport {
    pub events_version: i64,
    pub rollup_version: i64,
    pub files_checked: u64,
    pub findings: Vec<Finding>,
    pub repaired: bool,
    /// Inputs taken out by `--repair`: ingest them again.
    pub reingest: Vec<String>,
}

/// Verifies every file both tables reference (present, size, Parquet footer, rows against
/// the log) and lists strays; with `repair`, takes every damaged input out of both tables
/// (all its files, in one commit per table), forgets it so it can be ingested again, and
/// deletes strays.
pub fn check(root: &Path, repair: bool) -> Result<CheckReport, LakeError> {
    let lake = Lake::open(root)?;
    let root = lake.root();
    let (events_snap, entries) = table::inputs_from_log(root)?;
    let rollup_snap = table::rollup(root).snapshot()?;
    let mut r = CheckReport {
        events_version: events_snap.version,
        rollup_version: rollup_snap.version,
        ..CheckReport::default()
    };
    let mut damaged_inputs: Vec<&crate::ManifestEntry> = Vec::new();
    for (name, t, snap) in [
        ("events", table::events(root), &events_snap),
        ("rollup", table::rollup(root), &rollup_snap),
    ] {
        for a in snap.files.values() {
            r.files_checked += 1;
            let path = file_path(&t, a)?;
            let rel = lake_relative(root, &t, &decode_path(&a.path).unwrap_or_default());
            let problem = match fs::metadata(&path) {
                Err(_) => Some(("missing", "not on disk".to_owned())),
                Ok(m) if m.len() as i64 != a.size => Some((
                    "size",
                    format!("{} bytes on disk, {} in the log", m.len(), a.size),
                )),
                Ok(_)
                    if a.tags
                        .as_ref()
                        .and_then(|t| t.get(table::HASH_TAG))
                        .is_some_and(|want| {
                            crate::ingest::hash_file(&path).map_or(true, |(h, _)| &h != want)
                        }) =>
                {
                    Some((
                        "content",
                        "its bytes differ from those committed (BLAKE3)".to_owned(),
                    ))
                }
                Ok(_) => match table::footer_rows(&path) {
                    Err(e) => Some(("unreadable", e)),
                    Ok(n) => match add_rows(a) {
                        Some(want) if want != n => {
                            Some(("rows", format!("{n} rows in the footer, {want} in the log")))
                        }
                        _ => None,
                    },
                },
            };
            let Some((kind, detail)) = problem else {
                continue;
            };
            let owners: Vec<&crate::ManifestEntry> = entries
                .iter()
                .filter(|e| e.files.contains(&rel) || e.rollups.contains(&rel))
                .collect();
            // A compacted file holds its partition's inputs.
            let owners = if owners.is_empty() {
                let (s, d) = partition_of(a);
                let prefix = format!("sensor={s}/date={d}/");
                entries
                    .iter()
                    .filter(|e| e.files.iter().any(|f| f.starts_with(&prefix)))
                    .collect()
            } else {
                owners
            };
            for o in &owners {
                if !damaged_inputs.iter().any(|d| std::ptr::eq(*d, *o)) {
                    damaged_inputs.push(o);
                }
            }
            r.findings.push(Finding {
                table: name.to_owned(),
                path: rel,
                kind: kind.to_owned(),
                detail,
                inputs: owners.iter().map(|e| e.input.clone()).collect(),
                action: if repair {
                    "taken out of the table with its inputs' other files; ingest the inputs again"
                        .into()
                } else {
                    "run `noisefloor check --repair`, then ingest the inputs named again".into()
                },
            });
        }
        for rel in data_files(t.root())? {
            if !snap
                .files
                .contains_key(&noisefloor_delta::encode_path(&rel))
                && !snap
                    .removed
                    .contains_key(&noisefloor_delta::encode_path(&rel))
            {
                r.findings.push(Finding {
                    table: name.to_owned(),
                    path: lake_relative(root, &t, &rel),
                    kind: "stray".into(),
                    detail: "on disk but in no version of the table (an interrupted write, or copied in); no engine reading the log reads it".into(),
                    inputs: Vec::new(),
                    action: if repair {
                        "deleted".into()
                    } else {
                        "harmless; `noisefloor check --repair` or `noisefloor vacuum` deletes it".into()
                    },
                });
            }
        }
    }
    // Inputs whose rows share a compacted file with a damaged input's rows go too: a
    // compacted file is taken out whole.
    let dir_of = |f: &String| f.rsplit_once('/').map(|(d, _)| format!("{d}/"));
    loop {
        let compacted: HashSet<String> = damaged_inputs
            .iter()
            .flat_map(|e| e.files.iter().filter_map(dir_of))
            .filter(|d| {
                events_snap
                    .files
                    .keys()
                    .chain(rollup_snap.files.keys())
                    .any(|p| p.starts_with(d.as_str()) && p.contains("/part-compact-"))
            })
            .collect();
        let before = damaged_inputs.len();
        for e in &entries {
            if !damaged_inputs.iter().any(|d| std::ptr::eq(*d, e))
                && e.files
                    .iter()
                    .filter_map(dir_of)
                    .any(|d| compacted.contains(&d))
            {
                damaged_inputs.push(e);
            }
        }
        if damaged_inputs.len() == before {
            break;
        }
    }
    if repair && !r.findings.is_empty() {
        repair_inputs(root, &damaged_inputs, &events_snap, &rollup_snap)?;
        for f in r.findings.iter().filter(|f| f.kind == "stray") {
            let p = root.join(&f.path);
            fs::remove_file(&p).map_err(io_err(&p))?;
        }
        for e in &damaged_inputs {
            lake.forget(&e.sensor, &e.content_hash)?;
        }
        r.repaired = true;
        r.reingest = damaged_inputs.iter().map(|e| e.input.clone()).collect();
    }
    Ok(r)
}

/// Removes every live file of `inputs` from both tables, one commit each, recording which
/// inputs left (so the `inputs` table drops them).
fn repair_inputs(
    root: &Path,
    inputs: &[&crate::ManifestEntry],
    events: &Snapshot,
    rollup: &Snapshot,
) -> Result<(), LakeError> {
    if inputs.is_empty() {
        return Ok(());
    }
    let apps: Vec<String> = inputs
        .iter()
        .map(|e| table::app_id(&e.sensor, &e.content_hash))
        .collect();
    let now = now_ms();
    for (t, snap) in [(table::events(root), events), (table::rollup(root), rollup)] {
        let mut files: HashSet<String> = HashSet::new();
        for e in inputs {
            for rel in e.files.iter().chain(&e.rollups) {
                let (owner, inner) = table::split(root, rel);
                if owner.root() == t.root() {
                    files.insert(noisefloor_delta::encode_path(&inner));
                }
            }
        }
        // Compacted files of the inputs' partitions hold their rows too.
        let prefixes: HashSet<String> = inputs
            .iter()
            .flat_map(|e| e.files.iter())
            .filter_map(|f| f.rsplit_once('/').map(|(dir, _)| format!("{dir}/")))
            .collect();
        let mut actions = vec![Action::CommitInfo(table::commit_info(
            "REPAIR",
            serde_json::json!({"removed_inputs": apps}),
        ))];
        for (path, a) in &snap.files {
            let compacted = path.contains("/part-compact-")
                && prefixes.iter().any(|p| path.starts_with(p.as_str()));
            if files.contains(path) || compacted {
                actions.push(Action::Remove(Remove::of(a, now, true)));
            }
        }
        if actions.len() > 1 {
            t.commit(snap, &actions)?;
        }
    }
    Ok(())
}
