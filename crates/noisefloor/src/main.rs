//! noisefloor: records unsolicited Internet traffic and explains it.
//! This binary only parses arguments and wires the library crates together.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod common;

#[cfg(target_os = "linux")]
use cmd::sensor;
use cmd::{check, compact, dissect, explain, ingest, migrate, report, sql, vacuum};

#[derive(Parser)]
#[command(
    name = "noisefloor",
    version,
    about = "Explains unsolicited Internet traffic (GRE floods, scans, backscatter) from captures and logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode every layer of every packet (pcap, pcapng, gzip/zstd; `-` for stdin), or
    /// every record of a firewall log
    Dissect(dissect::Args),
    /// Why is someone sending me these packets? Classify everything and report
    Explain(explain::Args),
    /// Store classified, attributed observations from captures and logs in the lake
    /// (Parquet, hive-partitioned by sensor and date); re-ingesting the same file adds nothing
    Ingest(ingest::Args),
    /// The periodic report over the lake: top protocols/ports, per sensor, monthly
    /// averages, a key per day, senders by AS and city, classes, surges
    Report(report::Args),
    /// Verify every file the lake's tables reference and list strays; `--repair` takes
    /// damaged inputs out so they can be ingested again
    Check(check::Args),
    /// Merge each partition's small files into one, as one commit (readers never count twice)
    Compact(compact::Args),
    /// Delete files no table version younger than the retention period needs (7 days)
    Vacuum(vacuum::Args),
    /// Convert a lake written before the Delta log into Delta tables, in place (once)
    Migrate(migrate::Args),
    /// Run SQL over the lake (DataFusion): tables `events`, `rollup`, `inputs`, views `gre`,
    /// `daily`, `sensor_health`
    Sql(sql::Args),
    /// Live sensor: capture an NFLOG group or an interface, classify, and commit lake
    /// segments every interval, with health counters (drops, truncation) per segment
    #[cfg(target_os = "linux")]
    Sensor(sensor::Args),
}

/// Exit statuses: 0 clean, 1 usage (a wrong command line), 2 input (a file or lake that
/// could not be read, or was read with errors).
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are answers, not errors.
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Dissect(args) => dissect::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Check(args) => check::run(args),
        Command::Compact(args) => compact::run(args),
        Command::Vacuum(args) => vacuum::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Report(args) => report::run(args),
        Command::Sql(args) => sql::run(args),
        #[cfg(target_os = "linux")]
        Command::Sensor(args) => sensor::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("noisefloor: {e:#}");
            let input = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<noisefloor_lake::LakeError>(),
                    Some(
                        noisefloor_lake::LakeError::NoLake(_)
                            | noisefloor_lake::LakeError::Corrupt(_)
                            | noisefloor_lake::LakeError::Delta(_)
                            | noisefloor_lake::LakeError::NeedsMigration(_)
                    )
                )
            });
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}
