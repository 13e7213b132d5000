//! `noisefloor explain`: why is someone sending me these packets?

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use noisefloor_classify::Context as SensorContext;
use noisefloor_explain::{Explained, Inputs, Limits, Pass, Role, triage_files};

use crate::common::progress::Progressbars;

#[derive(clap::Args)]
pub struct Args {
    /// Captures (pcap, pcapng) and firewall logs (netfilter, Cisco, pf, Windows, DShield,
    /// Junos, FortiGate, Palo Alto, ...), plain or gzip/zstd, read in order; `-` reads stdin
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Machine-readable report (schema in docs/explain-json.md)
    #[arg(long)]
    json: bool,
    /// Markdown report (for tickets and wikis)
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
    /// The sensor's own addresses or prefixes (repeatable), e.g. 198.51.100.0/24
    #[arg(long = "own", value_name = "PREFIX", value_parser = noisefloor_classify::parse_prefix)]
    own: Vec<(std::net::IpAddr, u8)>,
    /// Addresses counted exactly per set before switching to an estimate (±1.6 %); larger
    /// is exact for longer but slower on spoofed traffic
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    exact_limit: u64,
    /// Where the packets were seen: darknet (unused addresses), host (a machine that talks)
    /// or firewall (a deny log); inferred from the traffic when not given, and stated
    #[arg(long, value_name = "ROLE", value_parser = ["darknet", "host", "firewall"])]
    role: Option<String>,
    #[command(flatten)]
    log: crate::common::log_args::LogArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let ctx = SensorContext {
        own: args.own.clone(),
    };
    let log_opts = args.log.options()?;
    let limits = Limits {
        exact_distinct: args.exact_limit,
        ..Limits::default()
    };
    let mut bars = Progressbars::default();
    let Pass {
        triage: total,
        logs: log_stats,
        report,
    } = triage_files(&args.files, limits, &ctx, &log_opts, &mut |p| {
        bars.update(p)
    });
    let strict_failed = args.log.report_rejects(&log_stats);
    // Nothing readable at all: an empty report would read as "nothing arrived".
    if total.packets == 0 && (!report.errors.is_empty() || log_stats.rejected_total() > 0) {
        for e in &report.errors {
            eprintln!("noisefloor: {e}");
        }
        if log_stats.rejected_total() > 0 {
            eprintln!(
                "noisefloor: no packet and no log record could be read: {} line(s) matched no \
                 known log format{}",
                log_stats.rejected_total(),
                crate::common::log_args::first_reject(&log_stats)
            );
        }
        eprintln!(
            "noisefloor: explain reads pcap and pcapng captures (plain, gzip or zstd) and firewall \
             deny logs; --log-format names a log's format, --show-rejects prints the lines it \
             could not read"
        );
        return Ok(ExitCode::from(2));
    }
    let failed = !report.errors.is_empty() || strict_failed;
    let explained = Explained::new(
        &total,
        Inputs {
            files: args.files.clone(),
            errors: report.errors,
            logs: log_stats,
            log_zone: args.log.zone_name(),
            role: args.role.as_deref().and_then(Role::from_name),
        },
    );
    let text = if args.json {
        explained.json() + "\n"
    } else if args.markdown {
        explained.markdown()
    } else {
        explained.text()
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    if failed {
        for e in &explained.inputs.errors {
            eprintln!("noisefloor: {e}");
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
