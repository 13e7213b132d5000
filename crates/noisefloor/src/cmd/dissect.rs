//! `noisefloor dissect`: one line, a verbose tree or a JSON object per packet, then a
//! summary on stderr.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use noisefloor_capture::LogReader;
use noisefloor_capture::{Batch, Compression, Input, open_input};
use noisefloor_classify::{Class, Context as SensorContext};
use noisefloor_explain::summary::{
    Selection, Style, Summary, count_files, frame_line, record_line,
};
use noisefloor_logs::{LineParser, LogOptions, Outcome};
use noisefloor_wire::render::FrameMeta;
use noisefloor_wire::{Options, dissect_with, filter};

use crate::common::progress::{Progressbars, progress_bar};

#[derive(clap::Args)]
pub struct Args {
    /// Captures or firewall logs (plain, gzip or zstd), read in order; `-` reads stdin
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Print every field of every layer as a tree
    #[arg(short = 'V', long)]
    verbose: bool,
    /// One JSON object per packet (NDJSON, schema in docs/dissect-json.md); summary as JSON on stderr
    #[arg(long, conflicts_with = "verbose")]
    json: bool,
    /// Decode everything but print only the summary (for timing and counting)
    #[arg(long, conflicts_with_all = ["verbose", "json"])]
    count_only: bool,
    /// Stop after printing N packets (counted after --filter and --skip)
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,
    /// Skip the first N packets (counted after --filter)
    #[arg(long, value_name = "N", default_value_t = 0)]
    skip: u64,
    /// Only packets matching this expression, e.g. 'gre and inner.udp.dport == 32698' (docs/filter.md)
    #[arg(short = 'f', long, value_name = "EXPR")]
    filter: Option<String>,
    /// Only packets of these classes (repeatable): mirai-gre-ip, mirai-gre-eth, mirai-scan,
    /// zmap, masscan, backscatter, gre-other, scan-tcp, scan-udp, scan-icmp, fragment, other
    #[arg(long = "class", value_name = "CLASS", value_parser = parse_class)]
    classes: Vec<Class>,
    /// The sensor's own addresses or prefixes (repeatable), e.g. 198.51.100.0/24: ICMP
    /// errors quoting packets from them are backscatter
    #[arg(long = "own", value_name = "PREFIX", value_parser = parse_own)]
    own: Vec<(std::net::IpAddr, u8)>,
    /// Decode only: skip classification (no class in the output or summary)
    #[arg(long, conflicts_with = "classes")]
    no_classes: bool,
    /// Most nested IP headers decoded per packet
    #[arg(long, value_name = "N", default_value_t = noisefloor_wire::DEFAULT_MAX_IP_DEPTH)]
    max_depth: u8,
    /// Do not print the summary on stderr
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    log: crate::common::log_args::LogArgs,
}

fn parse_class(s: &str) -> Result<Class, String> {
    Class::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
        format!("unknown class '{s}' (known: {})", names.join(", "))
    })
}

fn parse_own(s: &str) -> Result<(std::net::IpAddr, u8), String> {
    noisefloor_classify::parse_prefix(s)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let filter = match &args.filter {
        Some(f) => Some(
            filter::parse(f)
                .with_context(|| format!("in --filter '{f}'; see docs/filter.md for the syntax"))?,
        ),
        None => None,
    };
    let opts = Options {
        max_ip_depth: args.max_depth,
        ..Options::default()
    };
    let ctx = SensorContext {
        own: args.own.clone(),
    };
    let log_opts = args.log.options()?;
    let sel = Selection {
        filter: filter.as_ref(),
        classify: !args.no_classes,
        classes: &args.classes,
        ctx: &ctx,
    };
    if args.count_only {
        let mut bars = Progressbars::default();
        let sum = count_files(&args.files, &opts, &log_opts, &sel, &mut |p| bars.update(p));
        return Ok(finish(&args, &sum));
    }
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut sum = Summary::default();
    let mut line = String::with_capacity(4096);
    let mut frame_no = 0u64;
    let mut printed = 0u64;
    let mut skipped = 0u64;
    let limit = args.count.unwrap_or(u64::MAX);
    'files: for path in &args.files {
        let mut reader = match open_input(path) {
            Ok(Input::Capture(r)) => r,
            Ok(Input::Log(l)) => {
                sum.files += 1;
                if args.filter.is_some() {
                    anyhow::bail!(
                        "{path} is a log: --filter applies to decoded packets; select log records with --class"
                    );
                }
                let done = dissect_log(
                    l,
                    &args,
                    &log_opts,
                    &sel,
                    &mut sum,
                    &mut out,
                    &mut printed,
                    &mut skipped,
                    limit,
                )?;
                if done {
                    break 'files;
                }
                continue;
            }
            Err(e) => {
                sum.file_errors.push(e.to_string());
                continue;
            }
        };
        sum.files += 1;
        let pb = progress_bar(path);
        let compressed = reader.compression() != Compression::None;
        loop {
            let rec = match reader.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    sum.file_errors.push(e.to_string());
                    break;
                }
            };
            frame_no += 1;
            if let Some(pb) = &pb
                && frame_no & 0xffff == 0
                && !compressed
            {
                pb.set_position(rec.offset);
            }
            let d = dissect_with(&opts, rec.linktype, rec.data);
            let Some(verdict) =
                sum.account(rec.ts_ns, rec.caplen, rec.origlen, rec.linktype, &d, &sel)
            else {
                continue;
            };
            if skipped < args.skip {
                skipped += 1;
                continue;
            }
            printed += 1;
            let meta = FrameMeta {
                number: frame_no,
                ts_ns: rec.ts_ns,
                caplen: rec.caplen,
                origlen: rec.origlen,
                interface: rec.interface,
            };
            line.clear();
            frame_line(&mut line, style(&args), &meta, &d, verdict.as_ref());
            if let Err(e) = out.write_all(line.as_bytes()) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(e.into());
            }
            if printed == limit {
                sum.stopped_early = true;
                break 'files;
            }
        }
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(finish(&args, &sum))
}

/// Prints every record of one log. Returns true when `-c` was reached.
#[allow(clippy::too_many_arguments)]
fn dissect_log(
    mut reader: LogReader,
    args: &Args,
    log_opts: &LogOptions,
    sel: &Selection,
    sum: &mut Summary,
    out: &mut impl Write,
    printed: &mut u64,
    skipped: &mut u64,
    limit: u64,
) -> Result<bool> {
    let mut batch = Batch::default();
    let mut line = String::with_capacity(1024);
    let name = reader.name().to_string();
    loop {
        let more = match reader.read_chunk(&mut batch) {
            Ok(m) => m,
            Err(e) => {
                sum.file_errors.push(e.to_string());
                false
            }
        };
        if let Some(chunk) = &batch.lines {
            let mut p = LineParser::new(log_opts, &chunk.file, chunk.header.as_deref());
            for (line_no, raw) in chunk.lines(&batch.buf) {
                let outcome = p.parse(raw);
                let mut selected = None;
                if let Outcome::Record(o, fmt) = &outcome
                    && let Some(verdict) = sum.account_record(o, sel)
                {
                    selected = Some((o.clone(), *fmt, verdict));
                }
                if let Some((o, fmt, verdict)) = selected {
                    if *skipped < args.skip {
                        *skipped += 1;
                    } else {
                        *printed += 1;
                        line.clear();
                        record_line(
                            &mut line,
                            style(args),
                            &name,
                            line_no,
                            fmt,
                            &o,
                            verdict.as_ref(),
                        );
                        if let Err(e) = out.write_all(line.as_bytes()) {
                            if e.kind() == io::ErrorKind::BrokenPipe {
                                return Ok(true);
                            }
                            return Err(e.into());
                        }
                    }
                }
                sum.logs.count(&outcome, &name, line_no, raw);
                if p.last_assumed_year {
                    sum.logs.assume_year(&chunk.file);
                }
                if *printed == limit {
                    sum.stopped_early = true;
                    return Ok(true);
                }
            }
        }
        if !more {
            break;
        }
    }
    sum.logs.merge(&reader.stats);
    Ok(false)
}

/// Prints the summary and picks the exit status (2 when an input had errors).
fn finish(args: &Args, sum: &Summary) -> ExitCode {
    if !args.quiet {
        let text = if args.json {
            sum.json() + "\n"
        } else {
            sum.text()
        };
        let _ = io::stderr().write_all(text.as_bytes());
    }
    let strict_failed = args.log.report_rejects(&sum.logs);
    if sum.file_errors.is_empty() && !strict_failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn style(args: &Args) -> Style {
    if args.json {
        Style::Json
    } else if args.verbose {
        Style::Verbose
    } else {
        Style::Line
    }
}
