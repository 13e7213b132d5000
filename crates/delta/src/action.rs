//! The actions of a Delta commit, as the protocol spells them (camelCase JSON, one action
//! per line). Only what the lake writes or must honour when reading; a reader ignores
//! actions and fields it does not know, as the protocol asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A data file becomes part of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    /// Relative to the table root, URI-encoded (see [`crate::encode_path`]).
    pub path: String,
    /// Partition column → value, as text (`None` is SQL NULL).
    pub partition_values: BTreeMap<String, Option<String>>,
    /// Bytes.
    pub size: i64,
    /// Milliseconds since the epoch.
    pub modification_time: i64,
    /// `false` for a rewrite that changes no row (compaction).
    pub data_change: bool,
    /// JSON text: `numRecords`, `minValues`, `maxValues`, `nullCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    /// Free-form metadata readers ignore; the lake keeps each file's BLAKE3 here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A data file stops being part of the table (it stays on disk until vacuumed, for readers
/// of older versions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    pub data_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl Remove {
    /// The removal of `add`'s file at `now_ms`, with the file's metadata (readers that
    /// vacuum need the size and partition).
    pub fn of(add: &Add, now_ms: i64, data_change: bool) -> Remove {
        Remove {
            path: add.path.clone(),
            deletion_timestamp: Some(now_ms),
            data_change,
            extended_file_metadata: Some(true),
            partition_values: Some(add.partition_values.clone()),
            size: Some(add.size),
        }
    }
}

/// An application's last committed version: the lake's key for "this input is in".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Txn {
    pub app_id: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<i64>,
}

/// What a reader and a writer must support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub min_reader_version: i32,
    pub min_writer_version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_features: Option<Vec<String>>,
}

impl Protocol {
    /// The lake's tables: plain Parquet files, no table features (every Delta reader).
    pub fn lake() -> Protocol {
        Protocol {
            min_reader_version: 1,
            min_writer_version: 2,
            reader_features: None,
            writer_features: None,
        }
    }
}

/// The file format of the data files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub provider: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// What the table is: its schema (Delta's JSON schema as text) and partition columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub format: Format,
    pub schema_string: String,
    pub partition_columns: Vec<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

/// One action of a commit.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Add(Add),
    Remove(Remove),
    Txn(Txn),
    Protocol(Protocol),
    MetaData(Metadata),
    /// Free-form provenance; the lake puts its manifest entry here.
    CommitInfo(serde_json::Value),
}

/// One line of a commit file as read: every known action optional, unknown ones ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line {
    pub add: Option<Add>,
    pub remove: Option<Remove>,
    pub txn: Option<Txn>,
    pub protocol: Option<Protocol>,
    pub meta_data: Option<Metadata>,
    pub commit_info: Option<serde_json::Value>,
}
