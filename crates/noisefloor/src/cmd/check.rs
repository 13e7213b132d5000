//! `noisefloor check`: verifies every file the lake's tables reference, lists strays, and
//! with `--repair` takes damaged inputs out so they can be ingested again.

use std::process::ExitCode;

use anyhow::Result;

use crate::common::lake_args::LakeArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// Take every damaged input out of both tables (one commit each), forget it so it can
    /// be ingested again, and delete strays
    #[arg(long)]
    repair: bool,
    /// Print the findings as JSON (docs/lake.md)
    #[arg(long)]
    json: bool,
}

/// Exit status: 0 when the lake is whole (or was repaired), 2 when damage was found and
/// left as it is.
pub fn run(args: Args) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let r = noisefloor_lake::maintain::check(&root, args.repair)?;
    let damaged = r.findings.iter().any(|f| f.kind != "stray");
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "{}: {} file(s) checked (events version {}, rollup version {})",
            root.display(),
            r.files_checked,
            r.events_version,
            r.rollup_version
        );
        if r.findings.is_empty() {
            println!("every file is there, whole, and as the log says; no strays");
        }
        for f in &r.findings {
            println!("  {} {} [{}]: {}", f.table, f.path, f.kind, f.detail);
            if !f.inputs.is_empty() {
                println!("    holds rows of: {}", f.inputs.join(", "));
            }
            println!("    → {}", f.action);
        }
        if !r.reingest.is_empty() {
            println!("ingest these inputs again to restore their rows:");
            for i in &r.reingest {
                println!("  {i}");
            }
        }
    }
    Ok(if damaged && !r.repaired {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
