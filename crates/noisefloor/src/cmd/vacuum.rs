//! `noisefloor vacuum`: deletes files no table version younger than the retention period
//! needs.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::common::lake_args::LakeArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// Keep files removed (or written and never committed) less than this many hours ago:
    /// a reader of an older version may still read them (Delta's default: 7 days)
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    retention_hours: u64,
    /// List what would be deleted, delete nothing
    #[arg(long)]
    dry_run: bool,
    /// Print what was done as JSON (docs/lake.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let retention = Duration::from_secs(args.retention_hours.saturating_mul(3600));
    let v = noisefloor_lake::maintain::vacuum(&root, retention, args.dry_run)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    println!(
        "{verb} {} file(s), {} bytes; kept {} unreferenced file(s) younger than {} h",
        v.deleted.len(),
        v.bytes,
        v.kept_recent,
        args.retention_hours
    );
    for f in &v.deleted {
        println!("  {f}");
    }
    Ok(ExitCode::SUCCESS)
}
