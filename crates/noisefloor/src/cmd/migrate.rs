//! `noisefloor migrate`: converts a lake written before the Delta log, in place.

use std::process::ExitCode;

use anyhow::Result;

use crate::common::lake_args::LakeArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// Print what was done as JSON (docs/lake.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let m = noisefloor_lake::migrate::migrate(&root)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else if m.already {
        println!("{}: already a Delta lake; nothing to do", root.display());
    } else {
        println!(
            "{}: {} inputs, {} events files ({} rows) and {} rollup files are now the first commits of the events and rollup Delta tables",
            root.display(),
            m.inputs,
            m.event_files,
            m.rows,
            m.rollup_files
        );
        for r in &m.recovered {
            println!("  {r}");
        }
        list(
            &m.missing,
            "named by the manifest are missing and were left out (re-ingest their inputs with --replace)",
        );
        list(
            &m.strays,
            "no input committed were left out (remove them with `noisefloor vacuum`)",
        );
    }
    Ok(if m.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `  N file(s) WHAT:` and the files, one per line; nothing for none.
fn list(files: &[String], what: &str) {
    if files.is_empty() {
        return;
    }
    println!("  {} file(s) {what}:", files.len());
    for f in files {
        println!("    {f}");
    }
}
