#![warn(missing_docs)]
//! Firewall deny logs as input: every line becomes the same [`Observation`] a packet
//! yields, or is counted — skipped (a well-formed log line that describes no packet, such
//! as sshd's) or rejected (unreadable, or a firewall record with a bad field) — with its
//! reason and line number. Nothing is dropped silently.
//!
//! A line is read in two steps. The envelope (RFC 3164 or 5424 syslog, rsyslog's RFC 3339
//! files, journald short/json/export, dmesg, Proxmox) gives the time, host and program;
//! then the body is recognised by content (`--log-format` forces one parser): netfilter
//! `LOG`/nftables/ufw, Cisco ASA/FTD/PIX and IOS ACL logs, pf `filterlog`, Windows Firewall
//! `pfirewall.log`, DShield's tab-separated format, Juniper SRX `RT_FLOW`, FortiGate and
//! SonicWall key=value records, Palo Alto CSV and MikroTik. Protocol numbers are kept as
//! numbers whatever the vendor printed: `PROTO=47`, `protocol 47` and `gre` are all 47.

mod asa;
pub mod context;
mod dshield;
mod envelope;
mod fortigate;
mod junos;
mod kv;
mod mikrotik;
mod netfilter;
mod paloalto;
mod pf;
mod sonicwall;
pub mod time;
mod windows;

use std::net::IpAddr;

pub use context::{FileContext, LineChunk};
pub use envelope::Envelope;
use noisefloor_wire::Observation;
use time::{Zone, ZoneCache};

/// Lines longer than this are rejected unread (no firewall writes them; a hostile file might).
pub const MAX_LINE: usize = 64 << 10;

/// The log formats noisefloor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogFormat {
    /// Linux netfilter `LOG` / nftables / ufw (`SRC=… DST=… PROTO=…`).
    Netfilter,
    /// Cisco ASA, FTD and PIX (`%ASA-…`).
    CiscoAsa,
    /// Cisco IOS access-list logs (`%SEC-6-IPACCESSLOG…`).
    CiscoIos,
    /// OpenBSD/FreeBSD pf `filterlog` CSV.
    Pf,
    /// Windows Firewall `pfirewall.log` (W3C extended).
    Windows,
    /// DShield's tab-separated submissions.
    Dshield,
    /// Juniper SRX `RT_FLOW` / `RT_SCREEN`.
    Junos,
    /// FortiGate key=value traffic records.
    Fortigate,
    /// Palo Alto PAN-OS syslog CSV.
    PaloAlto,
    /// MikroTik RouterOS firewall lines.
    Mikrotik,
    /// SonicWall key=value records.
    Sonicwall,
}

impl LogFormat {
    /// Every format, in detection and report order.
    pub const ALL: [LogFormat; 11] = [
        LogFormat::Netfilter,
        LogFormat::CiscoAsa,
        LogFormat::CiscoIos,
        LogFormat::Pf,
        LogFormat::Windows,
        LogFormat::Dshield,
        LogFormat::Junos,
        LogFormat::Fortigate,
        LogFormat::PaloAlto,
        LogFormat::Mikrotik,
        LogFormat::Sonicwall,
    ];
    /// The name `--log-format` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Netfilter => "netfilter",
            LogFormat::CiscoAsa => "cisco-asa",
            LogFormat::CiscoIos => "cisco-ios",
            LogFormat::Pf => "pf",
            LogFormat::Windows => "windows",
            LogFormat::Dshield => "dshield",
            LogFormat::Junos => "junos",
            LogFormat::Fortigate => "fortigate",
            LogFormat::PaloAlto => "paloalto",
            LogFormat::Mikrotik => "mikrotik",
            LogFormat::Sonicwall => "sonicwall",
        }
    }
    /// The format `--log-format NAME` names (any case), if any.
    pub fn from_name(s: &str) -> Option<LogFormat> {
        let s = s.to_ascii_lowercase();
        let alias = match s.as_str() {
            "iptables" | "nftables" | "ufw" | "nflog-text" => "netfilter",
            "asa" | "ftd" | "pix" => "cisco-asa",
            "ios" => "cisco-ios",
            "pfsense" | "opnsense" | "filterlog" => "pf",
            "pfirewall" => "windows",
            "srx" | "juniper" => "junos",
            "forti" => "fortigate",
            "panos" | "palo-alto" => "paloalto",
            other => other,
        };
        LogFormat::ALL.into_iter().find(|f| f.name() == alias)
    }
    /// Position in [`LogFormat::ALL`], for per-format counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How log lines are read.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Parse every line with this parser only.
    pub format: Option<LogFormat>,
    /// Year for timestamps without one (RFC 3164). Default: the year of the file's
    /// modification time, or the year before when that would put the line more than a day
    /// after it. Given, it is the user's word over the file's time: records are then not
    /// checked against the modification time either.
    pub year: Option<i64>,
    /// Zone of timestamps without an offset.
    pub zone: Zone,
    /// Boot time (ns since the epoch) for `dmesg` lines, which count seconds since boot.
    pub boot_time_ns: Option<i64>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            format: None,
            year: None,
            zone: Zone::UTC,
            boot_time_ns: None,
        }
    }
}

/// What one line became.
// Returned by value once per line: boxing the record would allocate per line.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// A packet record, and the format that read it.
    Record(Observation<'a>, LogFormat),
    /// A readable log line that describes no packet (another program's message, a
    /// firewall's status message).
    Skipped(&'static str),
    /// Unreadable, or a firewall record with a missing or impossible field.
    Rejected(&'static str),
    /// Format metadata (Windows `#Fields:`, journald export fields, blank lines).
    Meta,
}

/// Parses the lines of one file (or of one chunk of it).
pub struct LineParser<'o> {
    opts: &'o LogOptions,
    file: &'o FileContext,
    zone: ZoneCache,
    windows_fields: Option<windows::WindowsFields>,
    journal: envelope::JournalExport,
    scratch: String,
    /// Record times outside this range (ns since the epoch) are rejected.
    bounds: Option<(i64, i64)>,
    /// The last line's time had no year (one was assumed).
    pub last_assumed_year: bool,
}

impl<'o> LineParser<'o> {
    /// `header` is the Windows `#Fields:` line in force where parsing starts.
    pub fn new(opts: &'o LogOptions, file: &'o FileContext, header: Option<&str>) -> Self {
        LineParser {
            opts,
            file,
            zone: ZoneCache::new(opts.zone.clone()),
            windows_fields: header.and_then(windows::WindowsFields::parse),
            journal: envelope::JournalExport::default(),
            scratch: String::new(),
            bounds: file.bounded.then(|| {
                let latest = match opts.year {
                    Some(_) => i64::MAX,
                    None => file.ref_ns.saturating_add(time::SKEW_NS),
                };
                (time::EARLIEST_NS, latest)
            }),
            last_assumed_year: false,
        }
    }

    /// Parses one line (without its line terminator).
    pub fn parse<'s>(&'s mut self, line: &'s [u8]) -> Outcome<'s> {
        self.last_assumed_year = false;
        if line.len() > MAX_LINE {
            return Outcome::Rejected("line longer than 64 KiB");
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(text) = std::str::from_utf8(line) else {
            return Outcome::Rejected("not text (invalid UTF-8)");
        };
        if text.bytes().any(|b| b < 0x20 && b != b'\t') {
            return Outcome::Rejected("control characters in the line (binary data?)");
        }
        if text.trim().is_empty() {
            self.journal.reset();
            return Outcome::Meta;
        }
        if let Some(rest) = text.strip_prefix("#Fields:") {
            self.windows_fields = windows::WindowsFields::parse(rest);
            return Outcome::Meta;
        }
        if text.starts_with('#') {
            return Outcome::Meta;
        }
        let LineParser {
            opts,
            file,
            zone,
            windows_fields,
            journal,
            scratch,
            bounds,
            last_assumed_year,
        } = self;
        let env = match envelope::parse(text, file, opts, zone, journal, scratch) {
            envelope::Parsed::Line(e) => {
                *last_assumed_year = e.assumed_year;
                e
            }
            envelope::Parsed::Meta => return Outcome::Meta,
            envelope::Parsed::Bad(why) => return Outcome::Rejected(why),
        };
        match body(&env, opts.format, zone, windows_fields.as_ref()) {
            Outcome::Record(o, _)
                if let (Some(t), Some((earliest, latest))) = (o.ts_ns, *bounds)
                    && (t < earliest || t > latest) =>
            {
                // A time that cannot be the packet's would put it on a wrong day, month
                // or year in every report: reject the line, say why.
                Outcome::Rejected(if t < earliest {
                    "time before 1990 (device clock not set?)"
                } else {
                    "time more than a day after the file was last written"
                })
            }
            o => o,
        }
    }
}

/// Recognises and parses the body of a line.
fn body<'a>(
    env: &Envelope<'a>,
    forced: Option<LogFormat>,
    zone: &mut ZoneCache,
    win: Option<&windows::WindowsFields>,
) -> Outcome<'a> {
    let format = match forced {
        Some(f) => f,
        None => match detect(env) {
            Some(f) => f,
            None if env.is_syslog() => return Outcome::Skipped("not a firewall packet record"),
            None => return Outcome::Rejected("unrecognised line (no known log format)"),
        },
    };
    let r = match format {
        LogFormat::Netfilter => netfilter::parse(env),
        LogFormat::CiscoAsa => asa::parse_asa(env),
        LogFormat::CiscoIos => asa::parse_ios(env),
        LogFormat::Pf => pf::parse(env),
        LogFormat::Windows => windows::windows(env, zone, win),
        LogFormat::Dshield => dshield::dshield(env, zone),
        LogFormat::Junos => junos::junos(env),
        LogFormat::Fortigate => fortigate::fortigate(env, zone),
        LogFormat::PaloAlto => paloalto::paloalto(env, zone),
        LogFormat::Mikrotik => mikrotik::mikrotik(env),
        LogFormat::Sonicwall => sonicwall::sonicwall(env, zone),
    };
    match r {
        Ok(Some(mut o)) => {
            if o.ts_ns.is_none() {
                o.ts_ns = env.ts_ns;
            }
            if o.host.is_none() {
                o.host = env.host;
            }
            Outcome::Record(o, format)
        }
        Ok(None) => Outcome::Skipped(match format {
            LogFormat::CiscoAsa => "Cisco message that describes no packet",
            LogFormat::Junos => "Junos message that describes no packet",
            LogFormat::PaloAlto => "Palo Alto record that describes no packet",
            LogFormat::Fortigate | LogFormat::Sonicwall => "event without addresses",
            _ => "not a packet record",
        }),
        Err(Refusal::NotMine) if forced.is_some() => Outcome::Rejected(match format {
            LogFormat::Netfilter => "not a netfilter line (forced by --log-format)",
            _ => "not a line of the forced --log-format",
        }),
        Err(Refusal::NotMine) if env.is_syslog() => {
            Outcome::Skipped("not a firewall packet record")
        }
        Err(Refusal::NotMine) => Outcome::Rejected("unrecognised line (no known log format)"),
        Err(Refusal::Bad(why)) => Outcome::Rejected(why),
    }
}

/// Why a parser returned no record (`Ok(None)` is a line of its format that describes no
/// packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not this parser's format at all: the line is someone else's, or no one's.
    NotMine,
    /// This parser's format with a field missing or unreadable: the reason names it.
    Bad(&'static str),
}

#[cfg(test)]
impl Refusal {
    /// The reason, for tests that check a refusal names the bad field.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::NotMine => "not this format",
            Refusal::Bad(why) => why,
        }
    }
}

/// A reason is a refusal of a line of the parser's own format.
impl From<&'static str> for Refusal {
    fn from(why: &'static str) -> Self {
        Refusal::Bad(why)
    }
}

/// A parser's answer: a record, a line of its format without a packet, or a refusal.
type ParseResult<'a> = Result<Option<Observation<'a>>, Refusal>;

fn detect(env: &Envelope) -> Option<LogFormat> {
    let m = env.message;
    // str::contains: memmem::find would build a searcher per call.
    let has = |needle: &str| m.contains(needle);
    if has("SRC=") && has("DST=") {
        return Some(LogFormat::Netfilter);
    }
    if env.program == Some("filterlog") || pf::looks_like(m) {
        return Some(LogFormat::Pf);
    }
    if has("%ASA-") || has("%FTD-") || has("%PIX-") || asa::looks_like(m) {
        return Some(LogFormat::CiscoAsa);
    }
    if has("%SEC-6-IPACCESSLOG") {
        return Some(LogFormat::CiscoIos);
    }
    if has("RT_FLOW") || has("RT_SCREEN") || has("[junos@") {
        return Some(LogFormat::Junos);
    }
    if (has("devname=") || has("logid=")) && has("srcip=") {
        return Some(LogFormat::Fortigate);
    }
    if has("sn=") && has("fw=") && has(" m=") {
        return Some(LogFormat::Sonicwall);
    }
    if paloalto::looks_like(m) {
        return Some(LogFormat::PaloAlto);
    }
    if has("->") && has("proto ") && (has("in:") || has("out:")) {
        return Some(LogFormat::Mikrotik);
    }
    if env.bare && windows::looks_like(m) {
        return Some(LogFormat::Windows);
    }
    if env.bare && dshield::looks_like(m) {
        return Some(LogFormat::Dshield);
    }
    None
}

/// An address as firewalls print it: IPv4, IPv6 (full or compressed), `[v6]`.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    if s.len() > 45 {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// TCP flags written as letters (pf, Windows: `S`, `SA`, `PA`, `FA`, `R`).
pub(crate) fn flag_letters(s: &str) -> Option<u8> {
    use noisefloor_wire::observation::tcp_flags as tf;
    let mut f = 0;
    for c in s.bytes() {
        f |= match c {
            b'S' | b's' => tf::SYN,
            b'A' | b'a' => tf::ACK,
            b'F' | b'f' => tf::FIN,
            b'R' | b'r' => tf::RST,
            b'P' | b'p' => tf::PSH,
            b'U' | b'u' => tf::URG,
            b'E' | b'e' => tf::ECE,
            b'W' | b'w' | b'C' | b'c' => tf::CWR,
            _ => return None,
        };
    }
    Some(f)
}

/// TCP flags written as words (`SYN ACK`, `ACK PSH`).
pub(crate) fn flag_word(w: &str) -> Option<u8> {
    use noisefloor_wire::observation::tcp_flags as tf;
    Some(match w {
        "SYN" => tf::SYN,
        "ACK" => tf::ACK,
        "FIN" => tf::FIN,
        "RST" => tf::RST,
        "PSH" => tf::PSH,
        "URG" => tf::URG,
        "ECE" => tf::ECE,
        "CWR" => tf::CWR,
        _ => return None,
    })
}

/// The action a free-text rule name or prefix implies (`IPTABLES-DROP:`, `[UFW BLOCK]`,
/// `policy DROP:`, `PVEFW-reject`), if it says.
pub(crate) fn action_in_text(s: &str) -> Option<noisefloor_wire::Action> {
    use noisefloor_wire::Action;
    let lower = |w: &str| {
        s.as_bytes()
            .windows(w.len())
            .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
    };
    if lower("reject") {
        Some(Action::Reject)
    } else if lower("drop") || lower("block") || lower("deny") || lower("denied") {
        Some(Action::Drop)
    } else if lower("accept") || lower("allow") || lower("pass") || lower("permit") {
        Some(Action::Allow)
    } else {
        None
    }
}

/// Counts of what the lines of a run became, with the first rejects kept for display.
#[derive(Clone, Debug, Default)]
pub struct LogStats {
    /// Log files read.
    pub files: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines that became records.
    pub records: u64,
    /// Records per format, indexed by [`LogFormat::index`].
    pub by_format: [u64; LogFormat::ALL.len()],
    /// Lines skipped, by reason (well-formed lines that describe no packet).
    pub skipped: Vec<(&'static str, u64)>,
    /// Lines rejected, by reason (unreadable, or a record with a bad field).
    pub rejected: Vec<(&'static str, u64)>,
    /// Blank, comment and header lines.
    pub meta: u64,
    /// The first rejected lines (file, line number, reason, the line shortened).
    pub examples: Vec<Reject>,
    /// Records without an absolute time (dmesg without a boot time).
    pub untimed: u64,
    /// Assumptions made about times, stated in reports (one per file).
    pub assumptions: Vec<String>,
}

/// A rejected line, for `--show-rejects` and `--strict`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reject {
    /// The file, as named on the command line.
    pub file: String,
    /// Its line number (1-based).
    pub line: u64,
    /// Why it was rejected.
    pub reason: &'static str,
    /// The line, shortened for display.
    pub text: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: rejected: {}: {}",
            self.file, self.line, self.reason, self.text
        )
    }
}

/// Rejected lines kept verbatim per run; the rest are only counted.
pub const MAX_REJECT_EXAMPLES: usize = 1000;

fn bump(v: &mut Vec<(&'static str, u64)>, k: &'static str, n: u64) {
    match v.iter_mut().find(|(x, _)| *x == k) {
        Some((_, c)) => *c += n,
        None => v.push((k, n)),
    }
}

impl LogStats {
    /// Lines rejected, all reasons.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().map(|(_, n)| n).sum()
    }
    /// Lines skipped, all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(|(_, n)| n).sum()
    }
    /// Counts one line's outcome.
    pub fn count(&mut self, o: &Outcome, file: &str, line_no: u64, raw: &[u8]) {
        self.lines += 1;
        match o {
            Outcome::Record(obs, f) => {
                self.records += 1;
                self.by_format[f.index()] += 1;
                if obs.ts_ns.is_none() {
                    self.untimed += 1;
                }
            }
            Outcome::Skipped(why) => bump(&mut self.skipped, why, 1),
            Outcome::Meta => self.meta += 1,
            Outcome::Rejected(why) => self.reject(file, line_no, why, raw),
        }
    }
    /// Counts a rejected line and keeps it as an example while there is room.
    pub fn reject(&mut self, file: &str, line_no: u64, why: &'static str, raw: &[u8]) {
        bump(&mut self.rejected, why, 1);
        if self.examples.len() < MAX_REJECT_EXAMPLES {
            self.examples.push(Reject {
                file: file.to_string(),
                line: line_no,
                reason: why,
                text: shorten(raw),
            });
        }
    }
    /// Records, once per file, that its syslog times were given an assumed year.
    pub fn assume_year(&mut self, file: &FileContext) {
        let a = file.year_assumption();
        if !self.assumptions.contains(&a) {
            self.assumptions.push(a);
        }
    }
    /// Adds another thread's or file's counts.
    pub fn merge(&mut self, o: &LogStats) {
        self.files += o.files;
        self.lines += o.lines;
        self.records += o.records;
        for (a, b) in self.by_format.iter_mut().zip(o.by_format) {
            *a += b;
        }
        for (k, n) in &o.skipped {
            bump(&mut self.skipped, k, *n);
        }
        for (k, n) in &o.rejected {
            bump(&mut self.rejected, k, *n);
        }
        self.meta += o.meta;
        self.untimed += o.untimed;
        self.examples.extend(o.examples.iter().cloned());
        self.examples.sort();
        self.examples.truncate(MAX_REJECT_EXAMPLES);
        for a in &o.assumptions {
            if !self.assumptions.contains(a) {
                self.assumptions.push(a.clone());
            }
        }
    }
}

/// A line as it can be shown safely: at most 160 characters, control bytes and invalid
/// UTF-8 escaped.
pub fn shorten(raw: &[u8]) -> String {
    let mut out = String::new();
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if out.chars().count() >= 160 {
                out.push('…');
                return out;
            }
            if c.is_control() {
                out.push_str(&c.escape_default().to_string());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Parses a whole chunk of lines, calling `f` with each record and its format.
pub fn for_each_line(
    chunk: &LineChunk,
    data: &[u8],
    opts: &LogOptions,
    stats: &mut LogStats,
    f: impl FnMut(&Observation, LogFormat),
) {
    for_each_line_after(chunk, data, opts, stats, 0, f);
}

/// [`for_each_line`] for the lines after line `skip_through` only (a grown file whose first
/// lines are in the lake already). The earlier lines are still parsed, so a header among
/// them (Windows `#Fields:`) applies to the rest, but they are neither passed on nor counted.
pub fn for_each_line_after(
    chunk: &LineChunk,
    data: &[u8],
    opts: &LogOptions,
    stats: &mut LogStats,
    skip_through: u64,
    mut f: impl FnMut(&Observation, LogFormat),
) {
    let mut p = LineParser::new(opts, &chunk.file, chunk.header.as_deref());
    let mut year_assumed = false;
    for (line_no, line) in chunk.lines(data) {
        if line_no <= skip_through {
            if line.starts_with(b"#") {
                p.parse(line);
            }
            continue;
        }
        let o = p.parse(line);
        if let Outcome::Record(obs, fmt) = &o {
            f(obs, *fmt);
        }
        stats.count(&o, &chunk.file.name, line_no, line);
        year_assumed |= p.last_assumed_year;
    }
    if year_assumed {
        stats.assume_year(&chunk.file);
    }
}

#[cfg(test)]
mod tests {
    use super::time::Civil;
    use super::*;

    /// 2026-12-07 11:50:30 UTC, when samples/firewall-deny.log was last written.
    const WRITTEN: i64 = 1_796_644_230_000_000_000;

    fn utc(year: i64, month: u32, day: u32, hour: u32) -> i64 {
        Civil {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
            nanos: 0,
        }
        .utc_ns()
    }

    /// What a line becomes in a file written at [`WRITTEN`]: its time, or why it was refused.
    fn outcome(line: &str, opts: &LogOptions) -> Result<Option<i64>, &'static str> {
        let file = FileContext::written_at("t.log", WRITTEN, "the test");
        let mut p = LineParser::new(opts, &file, None);
        match p.parse(line.as_bytes()) {
            Outcome::Record(o, _) => Ok(o.ts_ns),
            Outcome::Rejected(why) => Err(why),
            o => panic!("{line}: {o:?}"),
        }
    }

    fn time_of(line: &str) -> Result<Option<i64>, &'static str> {
        outcome(line, &LogOptions::default())
    }

    const BODY: &str = "IN=eth0 OUT= SRC=203.0.113.5 DST=198.51.100.7 LEN=40 TTL=52 ID=1 PROTO=TCP SPT=4000 DPT=23 SYN";

    #[test]
    fn written_at_is_the_samples_mtime() {
        assert_eq!(
            WRITTEN,
            utc(2026, 12, 7, 11) + 50 * 60_000_000_000 + 30_000_000_000
        );
    }

    #[test]
    fn syslog_year_puts_no_time_more_than_a_day_after_the_file() {
        let at = |stamp: &str| time_of(&format!("{stamp} fw1 kernel: {BODY}")).unwrap();
        // Issue 26: Dec 27 in a file written on Dec 7 is last year's, not 20 days ahead.
        assert_eq!(
            at("Dec 27 17:35:08"),
            Some(utc(2025, 12, 27, 17) + 35 * 60_000_000_000 + 8_000_000_000)
        );
        assert_eq!(at("Dec  7 10:00:00"), Some(utc(2026, 12, 7, 10)));
        // A day of clock skew (or of zone difference) is allowed.
        assert_eq!(at("Dec  8 09:00:00"), Some(utc(2026, 12, 8, 9)));
        assert_eq!(at("Dec  9 12:00:00"), Some(utc(2025, 12, 9, 12)));
        assert_eq!(at("Jan  3 00:00:00"), Some(utc(2026, 1, 3, 0)));
        // --year is the user's word: no guessing.
        let forced = LogOptions {
            year: Some(2026),
            ..LogOptions::default()
        };
        assert_eq!(
            outcome(&format!("Dec 27 17:00:00 fw1 kernel: {BODY}"), &forced),
            Ok(Some(utc(2026, 12, 27, 17)))
        );
    }

    #[test]
    fn syslog_year_is_the_logs_own_at_new_year() {
        // Written 2026-12-31 20:00 UTC, 05:00 on January 1st in Tokyo.
        let file = FileContext::written_at("t.log", utc(2026, 12, 31, 20), "the test");
        let opts = LogOptions {
            zone: time::Zone::parse("Asia/Tokyo").unwrap(),
            ..LogOptions::default()
        };
        let mut p = LineParser::new(&opts, &file, None);
        let mut at = |stamp: &str| match p.parse(format!("{stamp} fw1 kernel: {BODY}").as_bytes()) {
            Outcome::Record(o, _) => o.ts_ns,
            o => panic!("{o:?}"),
        };
        assert_eq!(at("Jan  1 04:00:00"), Some(utc(2026, 12, 31, 19)));
        assert_eq!(at("Dec 31 23:00:00"), Some(utc(2026, 12, 31, 14)));
        // February 29th: the last one before the file (2024 for a file of 2025).
        let file = FileContext::written_at("t.log", utc(2025, 3, 10, 0), "the test");
        let mut p = LineParser::new(&opts, &file, None);
        let line = format!("Feb 29 09:00:00 fw1 kernel: {BODY}");
        assert!(
            matches!(p.parse(line.as_bytes()), Outcome::Record(o, _) if o.ts_ns == Some(utc(2024, 2, 29, 0)))
        );
        let file = FileContext::written_at("t.log", utc(2026, 3, 10, 0), "the test");
        let mut p = LineParser::new(&opts, &file, None);
        assert_eq!(
            p.parse(line.as_bytes()),
            Outcome::Rejected("impossible date in the syslog time")
        );
    }

    #[test]
    fn impossible_times_are_rejected_not_stored() {
        let line = |stamp: &str| time_of(&format!("<134>1 {stamp} fw1 kernel - - - {BODY}"));
        assert_eq!(
            line("2026-12-01T10:00:00+09:00"),
            Ok(Some(utc(2026, 12, 1, 1)))
        );
        // RFC 5424 TIME-NUMOFFSET: hours 00-23, minutes 00-59.
        assert!(
            line("2026-12-01T10:00:00+99:99")
                .unwrap_err()
                .contains("offset")
        );
        assert!(
            line("2026-12-01T10:00:00+23:60")
                .unwrap_err()
                .contains("offset")
        );
        assert!(line("9999-12-01T10:00:00Z").unwrap_err().contains("year"));
        assert!(
            line("1985-12-01T10:00:00Z")
                .unwrap_err()
                .contains("before 1990")
        );
        assert!(
            line("2026-02-30T10:00:00Z")
                .unwrap_err()
                .contains("impossible")
        );
        // The file was written on 2026-12-07: a day of skew is allowed, not more.
        assert!(line("2026-12-08T10:00:00Z").is_ok());
        assert!(
            line("2027-01-01T00:00:00Z")
                .unwrap_err()
                .contains("after the file")
        );
        // The same in rsyslog's RFC 3339 files and in times a firewall writes itself.
        let file_line = |stamp: &str| time_of(&format!("{stamp} fw1 kernel: {BODY}"));
        assert!(
            file_line("2026-12-01T10:00:00+99:99")
                .unwrap_err()
                .contains("offset")
        );
        assert!(
            file_line("9999-12-01T10:00:00Z")
                .unwrap_err()
                .contains("year")
        );
        assert!(
            file_line("2030-12-01T10:00:00Z")
                .unwrap_err()
                .contains("after the file")
        );
        assert!(
            file_line("Nov 28 9999 12:59:03")
                .unwrap_err()
                .contains("impossible")
        );
        let journal = |us: &str| {
            time_of(&format!(
                r#"{{"__REALTIME_TIMESTAMP":"{us}","MESSAGE":"{BODY}"}}"#
            ))
        };
        assert!(journal("1796644230000000").is_ok());
        assert!(
            journal("4102444800000000")
                .unwrap_err()
                .contains("after the file")
        );
        assert!(journal("1000000").unwrap_err().contains("before 1990"));
    }

    #[test]
    fn rejected_times_are_counted_with_their_line() {
        let file = FileContext::written_at("t.log", WRITTEN, "the test");
        let data = format!(
            "Dec  1 10:00:00 fw1 kernel: {BODY}\n<134>1 2026-12-01T10:00:00+99:99 fw1 kernel - - - {BODY}\nDec  2 10:00:00 fw1 kernel: {BODY}\n"
        );
        let chunk = LineChunk {
            file: std::sync::Arc::new(file),
            first_line: 1,
            header: None,
        };
        let mut stats = LogStats::default();
        let mut n = 0;
        for_each_line(
            &chunk,
            data.as_bytes(),
            &LogOptions::default(),
            &mut stats,
            |_, _| n += 1,
        );
        assert_eq!((n, stats.records, stats.rejected_total()), (2, 2, 1));
        let r = &stats.examples[0];
        assert_eq!(r.line, 2);
        assert!(r.to_string().starts_with("t.log:2: rejected: "), "{r}");
        assert!(r.reason.contains("offset"), "{r}");
    }
}
