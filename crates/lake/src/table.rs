//! The lake's two Delta tables: `events` (root: the lake) and `rollup` (root: `_rollup/`).
//! What the files are (Arrow schema, Parquet footers) is said here; which files are the
//! table is the Delta log's (`noisefloor-delta`). docs/lake.md lists the protocol
//! features used.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow::datatypes::{DataType, Schema, TimeUnit};
use noisefloor_delta::{Add, DeltaError, Format, Metadata, Table, encode_path, partition_values};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::LakeError;
use crate::rollup::{ROLLUP_DIR, rollup_schema};
use crate::schema::{col, file_schema};

/// The partition columns of both tables, in directory order.
pub fn partition_columns() -> Vec<String> {
    vec![col::SENSOR.to_owned(), col::DATE.to_owned()]
}

/// The events table of the lake at `root`.
pub fn events(root: &Path) -> Table {
    Table::at(root)
}

/// The rollup table of the lake at `root`.
pub fn rollup(root: &Path) -> Table {
    Table::at(root.join(ROLLUP_DIR))
}

/// Which table a lake-relative path belongs to, and the path within that table.
pub fn split(root: &Path, rel: &str) -> (Table, String) {
    match rel
        .strip_prefix(ROLLUP_DIR)
        .and_then(|r| r.strip_prefix('/'))
    {
        Some(inner) => (rollup(root), inner.to_owned()),
        None => (events(root), rel.to_owned()),
    }
}

/// The Delta type of an Arrow type the lake writes.
fn delta_type(t: &DataType) -> &'static str {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 => "string",
        DataType::Int8 => "byte",
        DataType::Int16 => "short",
        DataType::Int32 => "integer",
        DataType::Int64 => "long",
        DataType::Boolean => "boolean",
        DataType::Binary | DataType::LargeBinary => "binary",
        DataType::Float32 => "float",
        DataType::Float64 => "double",
        DataType::Date32 => "date",
        // The lake's times are microseconds in UTC: Delta's `timestamp` exactly.
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => "timestamp",
        other => unreachable!("the lake writes no {other} column"),
    }
}

/// Delta's schema (`schemaString`) of a file schema plus the partition columns.
pub fn schema_string(files: &Schema) -> String {
    let mut fields: Vec<serde_json::Value> = files
        .fields()
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f.name(),
                "type": delta_type(f.data_type()),
                "nullable": f.is_nullable(),
                "metadata": {},
            })
        })
        .collect();
    for c in partition_columns() {
        fields.push(serde_json::json!({
            "name": c, "type": "string", "nullable": false, "metadata": {},
        }));
    }
    serde_json::json!({"type": "struct", "fields": fields}).to_string()
}

/// A table id in UUID form, from the table's path and the time it was made.
fn table_id(root: &Path) -> String {
    let h = blake3::hash(
        format!(
            "{}\0{}\0{}",
            root.display(),
            noisefloor_delta::now_ms(),
            std::process::id()
        )
        .as_bytes(),
    );
    let mut b: [u8; 16] = h.as_bytes()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn metadata(table: &Table, name: &str, schema: &Schema) -> Metadata {
    Metadata {
        id: table_id(table.root()),
        name: Some(name.to_owned()),
        description: Some(format!("noisefloor {name}: see docs/lake.md")),
        format: Format {
            provider: "parquet".into(),
            options: BTreeMap::new(),
        },
        schema_string: schema_string(schema),
        partition_columns: partition_columns(),
        configuration: BTreeMap::new(),
        created_time: Some(noisefloor_delta::now_ms()),
    }
}

/// The commitInfo of a noisefloor commit.
pub fn commit_info(operation: &str, extra: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "timestamp": noisefloor_delta::now_ms(),
        "operation": operation,
        "operationParameters": {},
        "engineInfo": format!("noisefloor/{}", env!("CARGO_PKG_VERSION")),
        "isBlindAppend": operation == "WRITE",
        "noisefloor": extra,
    })
}

/// Creates the events and rollup tables of a new lake (each left alone if it exists).
pub fn create(root: &Path) -> Result<(), LakeError> {
    let ev = events(root);
    ev.create(
        metadata(&ev, "events", &file_schema()),
        commit_info("CREATE TABLE", serde_json::Value::Null),
    )?;
    let ro = rollup(root);
    ro.create(
        metadata(&ro, "rollup", &rollup_schema()),
        commit_info("CREATE TABLE", serde_json::Value::Null),
    )?;
    Ok(())
}

/// The `add` of a data file at `rel` within `table`: size and time from the file system,
/// the row count from its Parquet footer (no stats when the footer cannot be read: the
/// file is then damaged, which `check` reports).
pub fn add_for(table: &Table, rel: &str, data_change: bool) -> Result<Add, LakeError> {
    let path = table.root().join(rel);
    let meta = std::fs::metadata(&path).map_err(crate::store::io_err(&path))?;
    let modification_time = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    let rows = footer_rows(&path).ok();
    let (hash, _) = crate::ingest::hash_file(&path)?;
    Ok(Add {
        path: encode_path(rel),
        partition_values: partition_values(rel, &partition_columns()),
        size: meta.len() as i64,
        modification_time,
        data_change,
        stats: rows.map(|n| format!("{{\"numRecords\":{n}}}")),
        tags: Some(BTreeMap::from([(HASH_TAG.to_owned(), hash)])),
    })
}

/// The `tags` key of a file's BLAKE3 (hex): `check` finds bytes overwritten in place.
pub const HASH_TAG: &str = "noisefloor.blake3";

/// Rows in a Parquet file, from its footer.
pub fn footer_rows(path: &Path) -> Result<i64, String> {
    let f = File::open(path).map_err(|e| e.to_string())?;
    let r = SerializedFileReader::new(f).map_err(|e| e.to_string())?;
    Ok(r.metadata().file_metadata().num_rows())
}

/// The `txn` application id of one input (or live segment) of a sensor: the key that makes
/// a repeated ingest a no-op through the log itself.
pub fn app_id(sensor: &str, hash: &str) -> String {
    format!("noisefloor/{sensor}/{hash}")
}

impl From<DeltaError> for LakeError {
    fn from(e: DeltaError) -> Self {
        LakeError::Delta(e)
    }
}

/// The events table's snapshot and the manifest entry of every input it holds, from the
/// log's `commitInfo` (a later commit of the same input replaces the earlier one), sorted
/// as [`crate::manifest`] sorts: the `inputs` table agrees with the events at every
/// version, whatever the `_manifest` directory (the writers' index) holds yet.
pub fn inputs_from_log(
    root: &Path,
) -> Result<(noisefloor_delta::Snapshot, Vec<crate::ManifestEntry>), LakeError> {
    let mut by_app: std::collections::HashMap<String, crate::ManifestEntry> =
        std::collections::HashMap::new();
    let snapshot = events(root).snapshot_with(|c| {
        let Some(info) = &c.commit_info else { return };
        let extra = &info["noisefloor"];
        if info["operation"].as_str() == Some("REPAIR") {
            for app in extra["removed_inputs"].as_array().into_iter().flatten() {
                if let Some(app) = app.as_str() {
                    by_app.remove(app);
                }
            }
            return;
        }
        let entries: Vec<&serde_json::Value> = match info["operation"].as_str() {
            Some("WRITE") => vec![extra],
            Some("CONVERT") => extra["entries"]
                .as_array()
                .map_or(Vec::new(), |a| a.iter().collect()),
            _ => Vec::new(),
        };
        for v in entries {
            if let Ok(e) = <crate::ManifestEntry as serde::Deserialize>::deserialize(v) {
                by_app.insert(app_id(&e.sensor, &e.content_hash), e);
            }
        }
    })?;
    let mut out: Vec<crate::ManifestEntry> = by_app.into_values().collect();
    out.sort_by(|a, b| {
        (&a.sensor, &a.ingested_at, &a.input).cmp(&(&b.sensor, &b.ingested_at, &b.input))
    });
    Ok((snapshot, out))
}
