//! `noisefloor compact`: merges each partition's small files into one, as one commit per
//! table.

use std::process::ExitCode;

use anyhow::Result;

use crate::common::lake_args::LakeArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// Only this sensor's partitions
    #[arg(long, value_name = "NAME")]
    sensor: Option<String>,
    /// Merge a partition once it has at least this many files
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_files: usize,
    /// Print what was done as JSON (docs/lake.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let done = noisefloor_lake::maintain::compact(&root, args.sensor.as_deref(), args.min_files)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&done)?);
        return Ok(ExitCode::SUCCESS);
    }
    for c in &done {
        match c.version {
            None => println!("{}: nothing to compact", c.table),
            Some(v) => println!(
                "{}: {} partition(s), {} files → {} ({} rows), version {v}; the old files stay for readers of older versions until `noisefloor vacuum`",
                c.table, c.partitions, c.files_before, c.files_after, c.rows
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
