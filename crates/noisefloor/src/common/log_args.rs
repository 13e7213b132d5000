//! Options for reading firewall logs, shared by every command that takes inputs.

use anyhow::{Context, Result, bail};
use noisefloor_logs::time::{Zone, parse_iso};
use noisefloor_logs::{LogFormat, LogOptions, LogStats};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct LogArgs {
    /// Parse every log line with this parser instead of detecting the format per line:
    /// netfilter, cisco-asa, cisco-ios, pf, windows, dshield, junos, fortigate, paloalto,
    /// mikrotik, sonicwall
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    log_format: Option<LogFormat>,
    /// Year of syslog times that carry none (default: the year that puts no time more than
    /// a day after the file's modification time)
    #[arg(long, value_name = "YYYY")]
    year: Option<i64>,
    /// Zone of log times printed without a UTC offset: UTC, +09:00, Asia/Tokyo, or local
    /// (this machine's zone). Default: UTC
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// When the machine that wrote dmesg-style lines ([seconds since boot]) booted, e.g.
    /// 2026-11-01T08:00:00Z
    #[arg(long, value_name = "TIME")]
    boot_time: Option<String>,
    /// Print every rejected log line (file:line: reason: text) on stderr
    #[arg(long)]
    show_rejects: bool,
    /// Treat any rejected log line as an error (exit status 2)
    #[arg(long)]
    strict: bool,
}

fn parse_format(s: &str) -> Result<LogFormat, String> {
    LogFormat::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown log format '{s}'; one of: {}", names.join(", "))
    })
}

impl LogArgs {
    pub fn options(&self) -> Result<LogOptions> {
        self.options_for(None)
    }

    /// Options, with `zone` as the time zone when `--tz` was not given.
    pub fn options_for(&self, zone: Option<&str>) -> Result<LogOptions> {
        let tz = self.tz.as_deref().or(zone).unwrap_or("UTC");
        let zone = Zone::parse(tz)
            .map_err(anyhow::Error::msg)
            .context("in --tz")?;
        let boot_time_ns = match &self.boot_time {
            None => None,
            Some(t) => {
                let (stamp, n) = parse_iso(t.as_bytes())
                    .filter(|(_, n)| *n == t.len())
                    .with_context(|| {
                        format!("--boot-time '{t}' is not a time like 2026-11-01T08:00:00Z")
                    })?;
                let _ = n;
                let mut z = noisefloor_logs::time::ZoneCache::new(zone.clone());
                Some(stamp.resolve(&mut z))
            }
        };
        if let Some(y) = self.year
            && !(1970..=2261).contains(&y)
        {
            bail!("--year {y} is out of range (1970..2261)");
        }
        Ok(LogOptions {
            format: self.log_format,
            year: self.year,
            zone,
            boot_time_ns,
        })
    }

    pub fn zone_name(&self) -> String {
        let tz = self.tz.as_deref().unwrap_or("UTC");
        Zone::parse(tz)
            .map(|z| z.name())
            .unwrap_or_else(|_| tz.to_owned())
    }

    /// Prints rejects when asked; true when `--strict` and some line was rejected.
    pub fn report_rejects(&self, stats: &LogStats) -> bool {
        if self.show_rejects {
            for r in &stats.examples {
                eprintln!("{r}");
            }
            let shown = stats.examples.len() as u64;
            if stats.rejected_total() > shown {
                eprintln!(
                    "noisefloor: {} more rejected lines not shown (the first {shown} are kept)",
                    stats.rejected_total() - shown
                );
            }
        }
        if self.strict && stats.rejected_total() > 0 {
            eprintln!(
                "noisefloor: --strict: {} log lines were rejected{}",
                stats.rejected_total(),
                first_reject(stats)
            );
            return true;
        }
        false
    }
}

/// ` (first: FILE:LINE: rejected: ...)` for an error message, or nothing without rejects.
pub(crate) fn first_reject(stats: &LogStats) -> String {
    stats
        .examples
        .first()
        .map(|r| format!(" (first: {r})"))
        .unwrap_or_default()
}
