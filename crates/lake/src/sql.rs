//! Embedded SQL over the lake (DataFusion).
//!
//! Tables and views:
//! - `events`: every row, with the partition columns `sensor` and `date`;
//! - `rollup`: per events file, packets, rows and the exact set of sources per TSUBAME
//!   key, class, source AS, country and city (see `rollup`); `count_sources(src_v4,
//!   src_v6)` counts the distinct sources of any group of its rows;
//! - `inputs`: the manifest (one row per ingested file or live segment);
//! - `sensor_health`: per live sensor and day, segments, packets received and stored,
//!   kernel drops, truncated packets and decode errors;
//! - `gre`: `events` where `proto = 47`;
//! - `daily`: packets, rows and distinct sources per sensor, date and TSUBAME key.
//!
//! Hive partitions prune whole directories: `WHERE date >= '2026-01-01' AND sensor = 'x'`
//! reads only those files.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::LakeError;
use crate::count_sources::count_sources_udaf;
use crate::rollup::rollup_schema;
use crate::schema::{col, file_schema};
use crate::snapshot_store::SnapshotStore;
use crate::store::manifest;
use crate::table;

/// Views created on every session; plain SQL, so they run unchanged in DuckDB or Spark.
pub const VIEWS: &[(&str, &str)] = &[
    ("gre", "SELECT * FROM events WHERE proto = 47"),
    (
        "daily",
        "SELECT sensor, date, port_key, SUM(packets) AS packets, COUNT(*) AS row_count, \
         COUNT(DISTINCT src) AS sources FROM events GROUP BY sensor, date, port_key",
    ),
    (
        "sensor_health",
        "SELECT sensor, format AS source, CAST(segment_start AS DATE) AS day, \
         COUNT(*) AS segments, MIN(segment_start) AS first_start, MAX(segment_end) AS last_end, \
         SUM(read) AS received, SUM(rows) AS stored, SUM(kernel_drops) AS kernel_drops, \
         SUM(truncated) AS truncated, SUM(decode_errors) AS decode_errors \
         FROM inputs WHERE kind = 'live' GROUP BY sensor, format, CAST(segment_start AS DATE)",
    ),
];

/// `daily` from the rollup: the same columns and numbers without scanning the events,
/// used when every input has its rollup.
const DAILY_FROM_ROLLUP: &str = "SELECT sensor, date, port_key, SUM(packets) AS packets, \
     SUM(row_count) AS row_count, count_sources(src_v4, src_v6) AS sources FROM rollup \
     GROUP BY sensor, date, port_key";

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A query session over one lake.
pub struct Session {
    rt: tokio::runtime::Runtime,
    ctx: SessionContext,
    /// Inputs whose rows have no rollup files (ingested before rollups existed).
    rollup_missing: usize,
    /// Sensors with committed inputs, sorted.
    sensors: Vec<String>,
    /// Every file of both snapshots and its size in the log (to name a damaged one).
    files: Vec<(std::path::PathBuf, u64)>,
    root: std::path::PathBuf,
}

/// What `sql` can name, for the error when a query names something else.
const TABLES: &str =
    "tables: events, inputs, rollup; views: gre, daily, sensor_health (docs/lake.md)";

fn df(e: datafusion::error::DataFusionError) -> LakeError {
    LakeError::Sql(e.to_string())
}

impl Session {
    /// Opens the lake at `root` read-only (no lock: readers never see staged files).
    pub fn open(root: &Path) -> Result<Session, LakeError> {
        // A directory no writer ever opened (no lock file) and without a manifest is not a
        // lake: a typo in --lake must not read as an empty lake.
        if !root.join(crate::store::MANIFEST).is_dir() && !root.join(".lock").is_file() {
            return Err(LakeError::NoLake(root.to_owned()));
        }
        let root = root.canonicalize().map_err(|source| LakeError::Io {
            path: root.to_owned(),
            source,
        })?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .build()
            .map_err(|source| LakeError::Io {
                path: root.clone(),
                source,
            })?;
        let config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let options = || {
            ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(vec![
                    (col::SENSOR.to_owned(), DataType::Utf8),
                    (col::DATE.to_owned(), DataType::Utf8),
                ])
        };
        // Each table is read through the files of its current Delta snapshot, never by
        // listing its directory: strays, half-written and removed files are not read.
        if !table::events(&root).exists() {
            return Err(if manifest(&root).is_empty() {
                LakeError::NoLake(root.clone())
            } else {
                LakeError::NeedsMigration(root.clone())
            });
        }
        let (events, entries) = table::inputs_from_log(&root)?;
        let rollup = table::rollup(&root).snapshot()?;
        let mut files = Vec::new();
        for (t, snap) in [
            (table::events(&root), &events),
            (table::rollup(&root), &rollup),
        ] {
            for a in snap.files.values() {
                if let Some(rel) = noisefloor_delta::decode_path(&a.path) {
                    files.push((t.root().join(rel), a.size.max(0) as u64));
                }
            }
        }
        for (name, t, snapshot, schema) in [
            ("events", table::events(&root), &events, file_schema()),
            ("rollup", table::rollup(&root), &rollup, rollup_schema()),
        ] {
            let store = SnapshotStore::new(t.root(), snapshot, name)?;
            let url = format!("nf-{name}://lake/");
            let parsed = url::Url::parse(&url).map_err(|e| LakeError::Sql(e.to_string()))?;
            ctx.register_object_store(&parsed, Arc::new(store));
            rt.block_on(ctx.register_listing_table(name, &url, options(), Some(schema), None))
                .map_err(df)?;
        }
        ctx.register_udaf(count_sources_udaf());
        // An input whose rollup is not (yet) in the rollup table — ingested before rollups
        // existed, or a crash between the two tables' commits — sends the report to the
        // events.
        let rollup_missing = entries
            .iter()
            .filter(|e| {
                let app = table::app_id(&e.sensor, &e.content_hash);
                e.lacks_rollup() || (!e.rollups.is_empty() && rollup.txn(&app) < events.txn(&app))
            })
            .count();
        let mut sensors: Vec<String> = entries.iter().map(|e| e.sensor.clone()).collect();
        sensors.sort_unstable();
        sensors.dedup();
        ctx.register_table("inputs", Arc::new(inputs_table(&entries)?))
            .map_err(df)?;
        let session = Session {
            rt,
            ctx,
            rollup_missing,
            sensors,
            files,
            root: root.clone(),
        };
        for (name, body) in VIEWS {
            let body = if *name == "daily" && session.rollup_missing == 0 {
                DAILY_FROM_ROLLUP
            } else {
                body
            };
            session.sql(&format!("CREATE VIEW {name} AS {body}"))?;
        }
        Ok(session)
    }

    /// Inputs in the lake without rollup files; while any remain, the `rollup` table is
    /// incomplete and the report computes from the events instead.
    pub fn rollup_missing(&self) -> usize {
        self.rollup_missing
    }

    /// Sensors with committed inputs, sorted.
    pub fn sensors(&self) -> &[String] {
        &self.sensors
    }

    /// Runs one user query, read-only: DDL (`CREATE`, `DROP`), DML (`INSERT`, `COPY ... TO`)
    /// and session statements (`SET`) are refused. Returns the result's schema too, so an
    /// empty result still has its column names.
    pub fn query(
        &self,
        query: &str,
    ) -> Result<(arrow::datatypes::SchemaRef, Vec<RecordBatch>), LakeError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.rt.block_on(async {
            let frame = self
                .ctx
                .sql_with_options(query, options)
                .await
                .map_err(|e| {
                    let m = e.to_string();
                    // `COPY … TO 'path'` without an extension fails on the missing format
                    // before the read-only check: refuse it as what it is.
                    let copy = query
                        .trim_start()
                        .get(..4)
                        .is_some_and(|k| k.eq_ignore_ascii_case("copy"));
                    if copy {
                        LakeError::Sql(
                            "COPY … TO writes files: `sql` only reads the lake (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE); `ingest` writes it".into(),
                        )
                    } else if m.contains("not supported") || m.contains("not allowed") {
                        LakeError::Sql(format!(
                            "{m}: `sql` only reads the lake (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE); `ingest` writes it"
                        ))
                    } else if m.contains("not found") {
                        LakeError::Sql(format!("{m}; {TABLES}"))
                    } else {
                        LakeError::Sql(m)
                    }
                })?;
            let schema = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await.map_err(|e| self.explain_failure(e))?;
            Ok((schema, batches))
        })
    }

    /// A failed read names the damaged file when one of the snapshot's files is missing or
    /// not the size the log says (DataFusion's own message names a byte range or a footer).
    fn explain_failure(&self, e: datafusion::error::DataFusionError) -> LakeError {
        for (path, size) in &self.files {
            let problem = match std::fs::metadata(path) {
                Err(_) => "is missing".to_owned(),
                Ok(m) if m.len() != *size => {
                    format!("has {} bytes where the log committed {size}", m.len())
                }
                Ok(_) => continue,
            };
            return LakeError::Corrupt(format!(
                "{} {problem}: the lake is damaged; `noisefloor check --lake {} --repair` takes the damaged inputs out so they can be ingested again",
                path.display(),
                self.root.display()
            ));
        }
        df(e)
    }

    /// Runs one statement and collects its result.
    pub fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, LakeError> {
        // The session reads one snapshot: a later commit (a replace, a compaction) removes
        // files from the log but not from the disk, so nothing it reads goes away.
        self.rt.block_on(async {
            let frame = self.ctx.sql(query).await.map_err(df)?;
            frame.collect().await.map_err(|e| self.explain_failure(e))
        })
    }
}

fn inputs_table(entries: &[crate::ManifestEntry]) -> Result<MemTable, LakeError> {
    let s = |f: &dyn Fn(&crate::ManifestEntry) -> String| -> Arc<StringArray> {
        Arc::new(entries.iter().map(|e| Some(f(e))).collect::<StringArray>())
    };
    let n = |f: &dyn Fn(&crate::ManifestEntry) -> u64| -> Arc<Int64Array> {
        Arc::new(
            entries
                .iter()
                .map(|e| Some(i64::try_from(f(e)).unwrap_or(i64::MAX)))
                .collect::<Int64Array>(),
        )
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("sensor", DataType::Utf8, false),
        Field::new("input", DataType::Utf8, false),
        Field::new("content_hash", DataType::Utf8, false),
        Field::new("size", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("read", DataType::Int64, false),
        Field::new("records", DataType::Int64, false),
        Field::new("rejected", DataType::Int64, false),
        Field::new("untimed", DataType::Int64, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("files", DataType::Int64, false),
        Field::new("ingested_at", DataType::Utf8, false),
        Field::new("kernel_drops", DataType::Int64, false),
        Field::new("truncated", DataType::Int64, false),
        Field::new("decode_errors", DataType::Int64, false),
        Field::new("segment_start", ts_type(), true),
        Field::new("segment_end", ts_type(), true),
    ]));
    let t = |f: &dyn Fn(&crate::ManifestEntry) -> Option<i64>| -> Arc<TimestampMicrosecondArray> {
        Arc::new(
            entries
                .iter()
                .map(f)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        )
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            s(&|e| e.sensor.clone()),
            s(&|e| e.input.clone()),
            s(&|e| e.content_hash.clone()),
            n(&|e| e.size),
            s(&|e| e.kind.clone()),
            s(&|e| e.format.clone()),
            n(&|e| e.read),
            n(&|e| e.records),
            n(&|e| e.rejected),
            n(&|e| e.untimed),
            n(&|e| e.rows),
            n(&|e| e.files.len() as u64),
            s(&|e| e.ingested_at.clone()),
            n(&|e| e.kernel_drops),
            n(&|e| e.truncated),
            n(&|e| e.decode_errors),
            t(&|e| e.segment_start_us),
            t(&|e| e.segment_end_us),
        ],
    )
    .map_err(|e| LakeError::Sql(e.to_string()))?;
    MemTable::try_new(schema, vec![vec![batch]]).map_err(df)
}
