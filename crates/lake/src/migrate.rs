//! `noisefloor migrate`: a lake written before its tables had a Delta log becomes two Delta
//! tables in place. The manifest says which files each input committed; those become the
//! first commit of each table, with each input's `txn`, so a later ingest of the same input
//! is still a no-op. Files no entry names (strays of interrupted runs) are left out and
//! listed; files an entry names but that are gone are listed and left out.

use std::path::Path;

use noisefloor_delta::{Action, Txn};
use serde::Serialize;

use crate::store::{manifest, try_lock_dir};
use crate::{Lake, LakeError, table};

/// What a migration did (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct Migration {
    /// The lake already had its Delta tables: nothing was done.
    pub already: bool,
    pub inputs: u64,
    pub event_files: u64,
    pub rollup_files: u64,
    /// Rows of the events files, from their footers.
    pub rows: i64,
    /// Files the manifest names that are not on disk (their rows are lost; re-ingest the
    /// inputs named with `--replace`).
    pub missing: Vec<String>,
    /// Parquet files in partitions that no manifest entry names (not part of any table).
    pub strays: Vec<String>,
    /// What finishing interrupted commits did (see `Lake::open`).
    pub recovered: Vec<String>,
}

/// Converts the lake at `root`.
pub fn migrate(root: &Path) -> Result<Migration, LakeError> {
    let mut m = Migration::default();
    if table::events(root).exists() {
        m.already = true;
        return Ok(m);
    }
    if !root.join(crate::store::MANIFEST).is_dir() {
        return Err(LakeError::NoLake(root.to_owned()));
    }
    {
        let Some(_lock) = try_lock_dir(root)? else {
            return Err(LakeError::Locked(root.to_owned()));
        };
        let entries = manifest(root);
        table::create(root)?;
        let (events, rollup) = (table::events(root), table::rollup(root));
        // The entries ride in the conversion's commitInfo: the `inputs` table is read from
        // the log (see `table::inputs_from_log`).
        let mut ev_actions = vec![Action::CommitInfo(table::commit_info(
            "CONVERT",
            serde_json::json!({"from": "noisefloor manifest", "entries": entries}),
        ))];
        let mut ro_actions = vec![Action::CommitInfo(table::commit_info(
            "CONVERT",
            serde_json::json!({"from": "noisefloor manifest", "inputs": entries.len()}),
        ))];
        let now = noisefloor_delta::now_ms();
        let mut named = std::collections::HashSet::new();
        for e in &entries {
            m.inputs += 1;
            let txn = Action::Txn(Txn {
                app_id: table::app_id(&e.sensor, &e.content_hash),
                version: 0,
                last_updated: Some(now),
            });
            ev_actions.push(txn.clone());
            ro_actions.push(txn);
            for rel in e.files.iter().chain(&e.rollups) {
                named.insert(rel.clone());
                let (t, inner) = table::split(root, rel);
                if !t.root().join(&inner).is_file() {
                    m.missing.push(rel.clone());
                    continue;
                }
                let add = table::add_for(&t, &inner, true)?;
                if t.root() == root {
                    m.event_files += 1;
                    m.rows += add
                        .stats
                        .as_deref()
                        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                        .and_then(|v| v["numRecords"].as_i64())
                        .unwrap_or(0);
                    ev_actions.push(Action::Add(add));
                } else {
                    m.rollup_files += 1;
                    ro_actions.push(Action::Add(add));
                }
            }
        }
        // The rollup first: once the events commit lands the lake is migrated, and its
        // rollup must then already be there.
        rollup.commit(&rollup.snapshot()?, &ro_actions)?;
        events.commit(&events.snapshot()?, &ev_actions)?;
        m.strays = strays(root, &named)?;
    }
    // Interrupted commits of the old kind are finished into the new log.
    m.recovered = Lake::open(root)?.recovered;
    Ok(m)
}

/// Files under the partition directories of both tables that `named` lacks.
fn strays(
    root: &Path,
    named: &std::collections::HashSet<String>,
) -> Result<Vec<String>, LakeError> {
    let mut out = Vec::new();
    for (prefix, t) in [("", table::events(root)), ("_rollup/", table::rollup(root))] {
        for rel in crate::maintain::data_files(t.root())? {
            let rel = format!("{prefix}{rel}");
            if !named.contains(&rel) {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}
