//! `noisefloor sql`: a query over the lake, as a table, CSV or JSON.

use std::io;
use std::process::ExitCode;

use anyhow::Result;
use arrow::error::ArrowError;
use noisefloor_lake::Session;
use noisefloor_report::table::{TableFormat, write_batches};

use crate::common::lake_args::LakeArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The query: tables `events`, `rollup` and `inputs`, views `gre`, `daily` and
    /// `sensor_health` (docs/lake.md)
    #[arg(value_name = "QUERY")]
    query: String,
    #[command(flatten)]
    lake: LakeArgs,
    /// Output: a terminal table, CSV, or JSON (an array of objects)
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let session = Session::open(&root)?;
    let (schema, mut batches) = session.query(&args.query)?;
    // No rows still has columns: print their names (CSV and table), or `[]` (JSON).
    if batches.is_empty() {
        batches.push(arrow::array::RecordBatch::new_empty(schema));
    }
    let mut out = io::stdout().lock();
    let format = match args.format {
        Format::Table => TableFormat::Table,
        Format::Csv => TableFormat::Csv,
        Format::Json => TableFormat::Json,
    };
    match write_batches(&batches, format, &mut out) {
        // `| head`: the reader has what it wanted.
        Err(ArrowError::IoError(_, e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    Ok(ExitCode::SUCCESS)
}
