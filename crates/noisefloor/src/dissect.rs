//! `noisefloor dissect`: one line, a verbose tree or a JSON object per packet, then a
//! summary on stderr.

use std::fmt::Write as _;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use noisefloor_capture::{CaptureReader, Compression, Format};
use noisefloor_wire::render::{self, FrameMeta};
use noisefloor_wire::{Options, Stop, chain_from_key, dissect_with, filter, linktype};

#[derive(clap::Args)]
pub struct Args {
    /// Capture files, read in order; `-` reads stdin
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
    /// Most nested IP headers decoded per packet
    #[arg(long, value_name = "N", default_value_t = noisefloor_wire::DEFAULT_MAX_IP_DEPTH)]
    max_depth: u8,
    /// Do not print the summary on stderr
    #[arg(short, long)]
    quiet: bool,
}

/// Counters for the end-of-run summary.
#[derive(Default)]
struct Summary {
    files: u64,
    packets: u64,
    matched: u64,
    bytes_wire: u64,
    bytes_captured: u64,
    /// (link type, packets)
    linktypes: Vec<(u32, u64)>,
    /// (protocols-in-frame key, packets)
    chains: Vec<(u128, u64)>,
    snaplen_truncated: u64,
    header_truncated: u64,
    /// (stop reason, packets) for everything but a normal end.
    stops: Vec<(String, u64)>,
    file_errors: Vec<String>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

fn bump<K: PartialEq>(v: &mut Vec<(K, u64)>, k: K) {
    match v.iter_mut().find(|(x, _)| *x == k) {
        Some((_, c)) => *c += 1,
        None => v.push((k, 1)),
    }
}

impl Summary {
    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} packets ({} matched), {} bytes on the wire, {} captured, from {} file(s)",
            self.packets, self.matched, self.bytes_wire, self.bytes_captured, self.files
        );
        if let (Some(a), Some(b)) = (self.first_ts, self.last_ts) {
            let mut t = String::from("time span: ");
            render::write_time(&mut t, a, ' ', 6);
            t.push_str(" .. ");
            render::write_time(&mut t, b, ' ', 6);
            let _ = writeln!(s, "{t} UTC");
        }
        s.push_str("link types:\n");
        for (lt, n) in &self.linktypes {
            let _ = writeln!(s, "  {n:>10}  {}", linktype::label(*lt));
        }
        let mut chains = self.chains.clone();
        chains.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        s.push_str("protocols in frame:\n");
        for (k, n) in chains.iter().take(25) {
            let name = if *k == 0 {
                "(nothing decoded)".to_string()
            } else {
                chain_from_key(*k)
            };
            let _ = writeln!(s, "  {n:>10}  {name}");
        }
        if chains.len() > 25 {
            let rest: u64 = chains[25..].iter().map(|c| c.1).sum();
            let _ = writeln!(s, "  {rest:>10}  ({} more chains)", chains.len() - 25);
        }
        let _ = writeln!(
            s,
            "truncated: {} by snap length, {} with a header cut short",
            self.snaplen_truncated, self.header_truncated
        );
        if !self.stops.is_empty() {
            let mut stops = self.stops.clone();
            stops.sort_by(|a, b| b.1.cmp(&a.1));
            s.push_str("not decoded to the end:\n");
            for (why, n) in &stops {
                let _ = writeln!(s, "  {n:>10}  {why}");
            }
        }
        for e in &self.file_errors {
            let _ = writeln!(s, "error: {e}");
        }
        s
    }

    fn json(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"summary\":{{\"files\":{},\"packets\":{},\"matched\":{},\"bytes_wire\":{},\"bytes_captured\":{},\"snaplen_truncated\":{},\"header_truncated\":{},\"linktypes\":{{",
            self.files,
            self.packets,
            self.matched,
            self.bytes_wire,
            self.bytes_captured,
            self.snaplen_truncated,
            self.header_truncated
        );
        for (i, (lt, n)) in self.linktypes.iter().enumerate() {
            let _ = write!(s, "{}\"{lt}\":{n}", if i > 0 { "," } else { "" });
        }
        s.push_str("},\"chains\":{");
        for (i, (k, n)) in self.chains.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            render::json_str(&mut s, &chain_from_key(*k));
            let _ = write!(s, ":{n}");
        }
        s.push_str("},\"stops\":{");
        for (i, (why, n)) in self.stops.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            render::json_str(&mut s, why);
            let _ = write!(s, ":{n}");
        }
        s.push_str("},\"errors\":[");
        for (i, e) in self.file_errors.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            render::json_str(&mut s, e);
        }
        s.push_str("]}}");
        s
    }
}

fn progress_bar(path: &str) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() || path == "-" {
        return None;
    }
    let len = std::fs::metadata(path).ok()?.len();
    if len < 64 << 20 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb.set_message(path.to_string());
    Some(pb)
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
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut sum = Summary::default();
    let mut line = String::with_capacity(4096);
    let mut frame_no = 0u64;
    let mut printed = 0u64;
    let mut skipped = 0u64;
    let limit = args.count.unwrap_or(u64::MAX);
    'files: for path in &args.files {
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
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
            sum.packets += 1;
            sum.bytes_wire += rec.origlen as u64;
            sum.bytes_captured += rec.caplen as u64;
            if rec.caplen < rec.origlen {
                sum.snaplen_truncated += 1;
            }
            if let Some(pb) = &pb
                && frame_no & 0xffff == 0
                && !compressed
            {
                pb.set_position(rec.offset);
            }
            sum.first_ts = Some(sum.first_ts.map_or(rec.ts_ns, |t| t.min(rec.ts_ns)));
            sum.last_ts = Some(sum.last_ts.map_or(rec.ts_ns, |t| t.max(rec.ts_ns)));
            bump(&mut sum.linktypes, rec.linktype);
            let d = dissect_with(&opts, rec.linktype, rec.data);
            bump(&mut sum.chains, d.chain_key());
            if d.is_truncated() {
                sum.header_truncated += 1;
            }
            match d.stop {
                Stop::Payload | Stop::Empty => {}
                Stop::Truncated if !d.is_truncated() => {}
                s => bump(&mut sum.stops, s.describe()),
            }
            if let Some(f) = &filter
                && !f.matches(&d)
            {
                continue;
            }
            sum.matched += 1;
            if args.count_only {
                continue;
            }
            if skipped < args.skip {
                skipped += 1;
                continue;
            }
            if printed >= limit {
                break 'files;
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
            if args.json {
                render::json(&mut line, &meta, &d);
            } else if args.verbose {
                render::verbose(&mut line, &meta, &d);
            } else {
                render::summary_line(&mut line, &meta, &d);
            }
            line.push('\n');
            if let Err(e) = out.write_all(line.as_bytes()) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(e.into());
            }
        }
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        if let Format::Pcapng = reader.format()
            && reader
                .stats()
                .interfaces
                .iter()
                .any(|i| linktype::name(i.linktype).is_none())
        {
            // Unsupported link types are counted per packet; nothing else to do here.
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    if !args.quiet {
        let text = if args.json {
            sum.json() + "\n"
        } else {
            sum.text()
        };
        let _ = io::stderr().write_all(text.as_bytes());
    }
    Ok(if sum.file_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
