//! `noisefloor ingest`, `sql` and `report`: the lake commands.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use noisefloor_enrich::Enricher;
use noisefloor_lake::{Config, IngestOptions, Lake, Outcome, Session, ingest_one};
use noisefloor_report::periodic::{Periodic, Scope, bind};

use crate::dissect::Progressbars;

/// Options every lake command shares.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LakeArgs {
    /// The lake directory (default: the config's [lake] path, else ./noisefloor-lake)
    #[arg(long, value_name = "DIR")]
    lake: Option<PathBuf>,
    /// Configuration file: lake path, enrichment databases, sensors and groups (TOML;
    /// docs/lake.md). Default: ./noisefloor.toml when it exists
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl LakeArgs {
    pub(crate) fn load(&self) -> Result<(Config, PathBuf)> {
        let path = self.config.clone().or_else(|| {
            let p = PathBuf::from("noisefloor.toml");
            p.exists().then_some(p)
        });
        let config = match &path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let lake = self
            .lake
            .clone()
            .or_else(|| config.lake.path.clone())
            .unwrap_or_else(|| PathBuf::from(noisefloor_lake::DEFAULT_LAKE));
        Ok((config, lake))
    }
}

#[derive(clap::Args)]
pub struct IngestArgs {
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
    log: crate::logargs::LogArgs,
}

pub(crate) fn enricher(config: &Config, mmdb: &[PathBuf], pfx: &[PathBuf]) -> Result<Enricher> {
    let mut e = Enricher::new();
    for p in config.enrich.mmdb.iter().chain(mmdb) {
        e.add_mmdb(p)?;
    }
    for p in config.enrich.prefix_to_as.iter().chain(pfx) {
        let stats = e.add_prefix_table(p)?;
        if stats.rejected > 0
            && let Some((line, why)) = &stats.first_reject
        {
            eprintln!(
                "noisefloor: {}: {} line(s) skipped, first at line {line}: {why}",
                p.display(),
                stats.rejected
            );
        }
    }
    Ok(e)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

pub fn ingest(args: IngestArgs) -> Result<ExitCode> {
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
    let mut failed = false;
    let mut lines = Vec::new();
    let mut json = Vec::new();
    let (mut added_rows, mut added_inputs, mut skipped) = (0u64, 0u64, 0u64);
    for input in &args.files {
        let outcome = ingest_one(&lake, input, &opts, &enricher, &mut |p| bars.update(p))
            .with_context(|| format!("ingesting {input}"))?;
        match &outcome {
            Outcome::Added(e) => {
                added_rows += e.rows;
                added_inputs += 1;
                lines.push(format!(
                    "added    {input}: {} rows in {} file(s), {}{}{}{}{}",
                    e.rows,
                    e.files.len(),
                    e.format,
                    if e.stream_from > 0 {
                        format!(
                            ", only what follows its first {} bytes (already in the lake: it grew, or is a copy of an ingested input)",
                            e.stream_from
                        )
                    } else {
                        String::new()
                    },
                    if e.rejected > 0 {
                        format!(
                            ", {} rejected (first: {})",
                            e.rejected,
                            e.errors.first().map_or("", |s| s)
                        )
                    } else {
                        String::new()
                    },
                    if e.untimed > 0 {
                        format!(
                            ", {} without a time not stored (give --boot-time)",
                            e.untimed
                        )
                    } else {
                        String::new()
                    },
                    if e.held_back > 0 {
                        ", its last line has no newline yet: held back until it ends (the next ingest adds it)"
                    } else {
                        ""
                    }
                ));
                json.push(format!(
                    "{{\"input\": {}, \"status\": \"added\", \"rows\": {}, \"files\": {}, \"rejected\": {}, \"untimed\": {}, \"content_hash\": {}, \"continues_from\": {}}}",
                    json_str(input), e.rows, e.files.len(), e.rejected, e.untimed, json_str(&e.content_hash), e.stream_from
                ));
            }
            Outcome::AlreadyIngested(e) => {
                skipped += 1;
                lines.push(format!(
                    "skipped  {input}: already in the lake for sensor {} (ingested {} as {}; --replace to ingest again)",
                    e.sensor, e.ingested_at, e.input
                ));
                json.push(format!(
                    "{{\"input\": {}, \"status\": \"already-ingested\", \"rows\": 0, \"content_hash\": {}}}",
                    json_str(input), json_str(&e.content_hash)
                ));
            }
            Outcome::Failed(msg) => {
                failed = true;
                lines.push(format!("failed   {msg}"));
                json.push(format!(
                    "{{\"input\": {}, \"status\": \"failed\", \"error\": {}}}",
                    json_str(input),
                    json_str(msg)
                ));
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let mut out = io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{{\"lake\": {}, \"sensor\": {}, \"inputs\": [{}], \"rows_added\": {added_rows}, \"seconds\": {secs:.3}}}",
            json_str(&root.display().to_string()),
            json_str(&args.sensor),
            json.join(", ")
        )?;
    } else {
        for l in &lines {
            writeln!(out, "{l}")?;
        }
        writeln!(
            out,
            "{} row(s) from {added_inputs} input(s) added to {} (sensor {}), {skipped} already there, in {secs:.2} s",
            added_rows,
            root.display(),
            args.sensor
        )?;
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

#[derive(clap::Args)]
pub struct SqlArgs {
    /// The query: tables `events` and `inputs`, views `gre` and `daily` (docs/lake.md)
    #[arg(value_name = "QUERY")]
    query: String,
    #[command(flatten)]
    lake: LakeArgs,
    /// Output: a terminal table, CSV, or JSON (an array of objects)
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

pub fn write_batches(
    batches: &[arrow::array::RecordBatch],
    format: TableFormat,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        TableFormat::Table => {
            let t = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{t}")?;
        }
        TableFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for b in batches {
                w.write(b)?;
            }
        }
        TableFormat::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            drop(w);
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn sql(args: SqlArgs) -> Result<ExitCode> {
    let (_, root) = args.lake.load()?;
    let session = Session::open(&root)?;
    let (schema, mut batches) = session.query(&args.query)?;
    // No rows still has columns: print their names (CSV and table), or `[]` (JSON).
    if batches.is_empty() {
        batches.push(arrow::array::RecordBatch::new_empty(schema));
    }
    let mut out = io::stdout().lock();
    match write_batches(&batches, args.format, &mut out) {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) => {}
        r => r?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Md,
    Html,
    Json,
}

#[derive(clap::Args)]
pub struct ReportArgs {
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

pub fn report(args: ReportArgs) -> Result<ExitCode> {
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
