//! The observation lake: classified, attributed events as hive-partitioned Parquet
//! (`sensor=NAME/date=YYYY-MM-DD/`), written with atomic commits and a manifest that makes
//! re-ingest a no-op, and queried with embedded SQL (DataFusion). The files are plain
//! Parquet with microsecond UTC timestamps and signed integers, so DuckDB, Spark and Trino
//! read the same directory unchanged.

pub mod columns;
pub mod config;
pub mod count_sources;
pub mod event;
pub mod event_writer;
pub mod ingest;
pub mod ingest_report;
pub mod maintain;
pub mod migrate;
pub mod rollup;
pub mod schema;
pub mod segment;
pub mod snapshot_store;
pub mod sources;
pub mod sql;
pub mod store;
pub mod table;

use std::path::PathBuf;

pub use config::{Config, SensorConfig};
pub use ingest::{IngestOptions, Outcome, ingest_one};
pub use ingest_report::IngestReport;
pub use sql::Session;
pub use store::{Lake, ManifestEntry, check_sensor_name, manifest};

/// The lake directory used when neither `--lake` nor the configuration names one.
pub const DEFAULT_LAKE: &str = "noisefloor-lake";

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing Parquet: {0}")]
    Parquet(parquet::errors::ParquetError),
    #[error("manifest JSON: {0}")]
    Json(serde_json::Error),
    #[error(
        "{0}: another noisefloor process is writing this lake; wait for it to finish (only one writer at a time)"
    )]
    Locked(PathBuf),
    #[error(
        "sensor name {0:?} is not usable: use 1-64 letters, digits, '-', '_' or '.', not starting with '.', '_' or '-'"
    )]
    BadSensorName(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Sql(String),
    #[error("{0}: no lake here; create one with `noisefloor ingest FILE --sensor NAME --lake {0}`")]
    NoLake(PathBuf),
    #[error("lake damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Delta(noisefloor_delta::DeltaError),
    #[error(
        "{0}: this lake was written before its tables had a Delta log; convert it once with `noisefloor migrate --lake {0}`"
    )]
    NeedsMigration(PathBuf),
}
