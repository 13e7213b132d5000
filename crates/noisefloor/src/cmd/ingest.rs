//! `noisefloor ingest`: captures and logs into the lake, once each.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use noisefloor_lake::{IngestOptions, IngestReport, Lake, ingest_one};

use crate::common::lake_args::{LakeArgs, enricher};
use crate::common::progress::Progressbars;

#[derive(clap::Args)]
pub struct Args {
    /// Captures and firewall logs (plain, gzip or zstd; `-` reads stdin)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// The sensor that saw the traffic (a name from the config, or any new name)
    #[arg(long, value_name = "NAME")]
    sensor: String,
    #[command(flatten)]
    lake: LakeArgs,
    /// MaxMind-format database for source AS/country/city (GeoLite2/GeoIP2 City, Country,
    /// ASN; DB-IP; IPinfo); repeatable, added to the config's
    #[arg(long, value_name = "FILE")]
    mmdb: Vec<PathBuf>,
    /// Prefix-to-AS table: CAIDA RouteViews pfx2as or iptoasn TSV (plain or gzip); repeatable
    #[arg(long = "prefix-to-as", value_name = "FILE")]
    prefix_to_as: Vec<PathBuf>,
    /// Ingest again even if these exact bytes are already in the lake, replacing their rows
    #[arg(long)]
    replace: bool,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
    /// zstd level of the Parquet pages (1 fastest … 22 smallest; above 1 saves under 1 % on captures)
    #[arg(long, value_name = "N", default_value_t = 1)]
    zstd_level: i32,
    #[command(flatten)]
    log: crate::common::log_args::LogArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (config, root) = args.lake.load()?;
    noisefloor_lake::check_sensor_name(&args.sensor)?;
    let sensor_cfg = config.sensor(&args.sensor).cloned().unwrap_or_default();
    let enricher = enricher(&config, &args.mmdb, &args.prefix_to_as)?;
    let lake = Lake::open(&root)?;
    for r in &lake.recovered {
        eprintln!("noisefloor: {}: {r}", root.display());
    }
    let opts = IngestOptions {
        sensor: args.sensor.clone(),
        group: sensor_cfg.group.clone(),
        ctx: noisefloor_classify::Context {
            own: sensor_cfg.own_prefixes()?,
        },
        log: args.log.options_for(sensor_cfg.timezone.as_deref())?,
        replace: args.replace,
        zstd_level: args.zstd_level,
    };
    let started = std::time::Instant::now();
    let mut bars = Progressbars::default();
    let mut report = IngestReport {
        lake: root.display().to_string(),
        sensor: args.sensor.clone(),
        ..IngestReport::default()
    };
    for input in &args.files {
        let outcome = ingest_one(&lake, input, &opts, &enricher, &mut |p| bars.update(p))
            .with_context(|| format!("ingesting {input}"))?;
        report.inputs.push((input.clone(), outcome));
    }
    report.seconds = started.elapsed().as_secs_f64();
    let text = if args.json {
        report.json() + "\n"
    } else {
        report.text()
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let failed = report.failed();
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
