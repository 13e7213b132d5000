//! `noisefloor report`: the periodic report over the lake.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use noisefloor_lake::Session;
use noisefloor_report::periodic::{Periodic, Scope, bind};
use noisefloor_report::table::{TableFormat, write_batches};

use crate::common::lake_args::LakeArgs;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Md,
    Html,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lake: LakeArgs,
    /// First date (YYYY-MM-DD, UTC), inclusive
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last date (YYYY-MM-DD, UTC), inclusive
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Only these sensors (repeatable)
    #[arg(long, value_name = "NAME")]
    sensor: Vec<String>,
    /// Only the sensors of this group in the config
    #[arg(long, value_name = "GROUP", conflicts_with = "sensor")]
    group: Option<String>,
    /// Country for the second protocol/port table (ISO code; default: the top country)
    #[arg(long, value_name = "CC")]
    src_country: Option<String>,
    /// The protocol/port sections 4 and 5 follow, in TSUBAME notation (GRE, 23/TCP, ICMP)
    #[arg(long, value_name = "KEY", default_value = "GRE")]
    key: String,
    /// Rows in the top-N tables (1-10000)
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    top: u16,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Write the report to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write every chart as PNG into this directory
    #[arg(long, value_name = "DIR")]
    png: Option<PathBuf>,
    /// Also write every packet of --key with its source and time as CSV (the raw listing)
    #[arg(long, value_name = "FILE")]
    sources_csv: Option<PathBuf>,
    /// Only this section: 1-8 (top keys, per sensor, monthly, key per day, sources, classes,
    /// surges, sensor health)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    section: Option<u8>,
}

/// A calendar date as YYYY-MM-DD (2021-13-01 and 2021-02-30 are refused).
fn check_date(d: &Option<String>, what: &str) -> Result<Option<jiff::civil::Date>> {
    let Some(d) = d else { return Ok(None) };
    let shape = d.len() == 10
        && d.as_bytes()[4] == b'-'
        && d.as_bytes()[7] == b'-'
        && d.bytes().filter(u8::is_ascii_digit).count() == 8;
    match d.parse::<jiff::civil::Date>() {
        Ok(date) if shape => Ok(Some(date)),
        Ok(_) => bail!("{what} {d:?}: expected a date as YYYY-MM-DD"),
        Err(e) => bail!("{what} {d:?}: not a calendar date as YYYY-MM-DD ({e})"),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (config, root) = args.lake.load()?;
    let from = check_date(&args.from, "--from")?;
    let to = check_date(&args.to, "--to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        bail!(
            "--from {f} is after --to {t}: the range is empty (both dates are inclusive; swap them?)"
        );
    }
    let key = noisefloor_classify::parse_port_key(&args.key).ok_or_else(|| {
        anyhow::anyhow!(
            "--key {:?}: expected a protocol/port in TSUBAME notation: GRE, ICMP, 23/TCP, 123/UDP, ESP, proto 41, ...",
            args.key
        )
    })?;
    let sensors = match &args.group {
        Some(g) => {
            let m: Vec<String> = config
                .group_members(g)
                .into_iter()
                .map(String::from)
                .collect();
            if m.is_empty() {
                bail!(
                    "no sensor in group {g:?}: groups come from [[sensor]] entries in the config (--config FILE)"
                );
            }
            m
        }
        None => args.sensor.clone(),
    };
    let session = Session::open(&root)?;
    let unknown: Vec<&String> = sensors
        .iter()
        .filter(|s| !session.sensors().contains(s))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "no sensor {} in the lake at {}; its sensors: {}",
            unknown
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            root.display(),
            if session.sensors().is_empty() {
                "none yet (ingest first)".to_string()
            } else {
                session.sensors().join(", ")
            }
        );
    }
    let scope = Scope {
        from: args.from.clone(),
        to: args.to.clone(),
        sensors,
        group: args.group.clone(),
        key: key.clone(),
        country: args.src_country.clone(),
        top: args.top.into(),
    };
    if session.rollup_missing() > 0 {
        eprintln!(
            "noisefloor: {} input(s) in this lake were ingested before rollups existed, so the report reads every event (slower); `noisefloor ingest FILE --replace` rewrites an input with its rollup",
            session.rollup_missing()
        );
    }
    let mut report = Periodic::build(&session, scope)?;
    if report.summary.rows == 0 {
        eprintln!(
            "noisefloor: the lake at {} has no rows in this scope; check --from/--to/--sensor, or ingest first",
            root.display()
        );
    }
    if let Some(n) = args.section {
        report.keep_section(n);
    }
    if let Some(path) = &args.sources_csv {
        let batches = session.sql(&bind("source_listing", &[("key", &key)]))?;
        let mut f = io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        write_batches(&batches, TableFormat::Csv, &mut f)?;
        f.flush()?;
    }
    if let Some(dir) = &args.png {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (i, c) in report.charts().iter().enumerate() {
            let name: String = c
                .title
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() {
                        ch.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            c.png(&dir.join(format!("{:02}-{name}.png", i + 1)))
                .map_err(anyhow::Error::msg)?;
        }
    }
    let text = match args.format {
        ReportFormat::Text => report.text(),
        ReportFormat::Md => report.markdown(),
        ReportFormat::Html => report.html(),
        ReportFormat::Json => report.json() + "\n",
    };
    match &args.output {
        Some(p) => write_file(p, &text)?,
        None => {
            let mut out = io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_file(p: &Path, text: &str) -> Result<()> {
    std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))
}
