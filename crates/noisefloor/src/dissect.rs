//! `noisefloor dissect`: one line, a verbose tree or a JSON object per packet, then a
//! summary on stderr.

use std::fmt::Write as _;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use noisefloor_capture::logs::{self, LineParser, LogOptions, LogReader, LogStats, Outcome};
use noisefloor_capture::{Batch, Compression, Input, open_input, pipeline};
use noisefloor_classify::{Class, Context as SensorContext, Verdict, classify};
use noisefloor_wire::render::{self, FrameMeta};
use noisefloor_wire::{
    Dissection, Options, Stop, chain_from_key, dissect_into, dissect_with, filter, linktype,
};

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
    log: crate::logargs::LogArgs,
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

/// What selects packets for output: the filter expression and the classes.
struct Selection<'a> {
    filter: Option<&'a filter::Expr>,
    classify: bool,
    classes: &'a [Class],
    ctx: &'a SensorContext,
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
    linktypes: Counts<u32>,
    /// (protocols-in-frame key, packets)
    chains: Counts<u128>,
    snaplen_truncated: u64,
    header_truncated: u64,
    malformed: u64,
    /// Packets per class (index: `Class::index`).
    classes: [u64; Class::ALL.len()],
    /// (stop reason, packets) for everything but a normal end.
    stops: Counts<Stop>,
    file_errors: Vec<String>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// Reading stopped once `-c` packets were printed.
    stopped_early: bool,
    /// What the log lines among the inputs became.
    logs: LogStats,
}

/// Counts by key in a seeded hash map: crafted packets can produce many distinct keys.
type Counts<K> = hashbrown::HashMap<K, u64, foldhash::fast::RandomState>;

fn bump<K: std::hash::Hash + Eq>(v: &mut Counts<K>, k: K) {
    add(v, k, 1)
}

fn add<K: std::hash::Hash + Eq>(v: &mut Counts<K>, k: K, n: u64) {
    *v.entry(k).or_default() += n;
}

/// Most frequent first, ties in key order: stable output from a hash map.
fn sorted<K: Copy + Ord>(v: &Counts<K>) -> Vec<(K, u64)> {
    let mut out: Vec<(K, u64)> = v.iter().map(|(k, n)| (*k, *n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

impl Summary {
    /// Counts and classifies one packet. `None` when the packet is not selected; otherwise
    /// its verdict (absent with `--no-classes`).
    fn account(
        &mut self,
        ts_ns: i64,
        caplen: u32,
        origlen: u32,
        linktype: u32,
        d: &Dissection,
        sel: &Selection,
    ) -> Option<Option<Verdict>> {
        self.packets += 1;
        self.bytes_wire += origlen as u64;
        self.bytes_captured += caplen as u64;
        if caplen < origlen {
            self.snaplen_truncated += 1;
        }
        self.first_ts = Some(self.first_ts.map_or(ts_ns, |t| t.min(ts_ns)));
        self.last_ts = Some(self.last_ts.map_or(ts_ns, |t| t.max(ts_ns)));
        bump(&mut self.linktypes, linktype);
        bump(&mut self.chains, d.chain_key());
        if d.is_truncated() {
            self.header_truncated += 1;
        }
        if d.is_malformed() {
            self.malformed += 1;
        }
        match d.stop {
            Stop::Payload | Stop::Empty => {}
            Stop::Truncated if !d.is_truncated() => {}
            s => bump(&mut self.stops, s),
        }
        let verdict = sel.classify.then(|| {
            classify(
                &noisefloor_wire::Observation::from_dissection(ts_ns, origlen, d),
                sel.ctx,
            )
        });
        if let Some(v) = &verdict {
            self.classes[v.class.index()] += 1;
        }
        let pass = sel.filter.is_none_or(|f| f.matches(d))
            && (sel.classes.is_empty() || verdict.is_some_and(|v| sel.classes.contains(&v.class)));
        if pass {
            self.matched += 1;
        }
        pass.then_some(verdict)
    }

    /// Counts and classifies one log record; `None` when not selected.
    fn account_record(
        &mut self,
        o: &noisefloor_wire::Observation,
        sel: &Selection,
    ) -> Option<Option<Verdict>> {
        self.packets += 1;
        if let Some(t) = o.ts_ns {
            self.first_ts = Some(self.first_ts.map_or(t, |x| x.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |x| x.max(t)));
        }
        let verdict = sel.classify.then(|| classify(o, sel.ctx));
        if let Some(v) = &verdict {
            self.classes[v.class.index()] += 1;
        }
        let pass =
            sel.classes.is_empty() || verdict.is_some_and(|v| sel.classes.contains(&v.class));
        if pass {
            self.matched += 1;
        }
        pass.then_some(verdict)
    }

    fn merge(&mut self, o: Summary) {
        self.logs.merge(&o.logs);
        self.packets += o.packets;
        self.matched += o.matched;
        self.bytes_wire += o.bytes_wire;
        self.bytes_captured += o.bytes_captured;
        self.snaplen_truncated += o.snaplen_truncated;
        self.header_truncated += o.header_truncated;
        self.malformed += o.malformed;
        for (a, b) in self.classes.iter_mut().zip(o.classes) {
            *a += b;
        }
        for (k, n) in o.linktypes {
            add(&mut self.linktypes, k, n);
        }
        for (k, n) in o.chains {
            add(&mut self.chains, k, n);
        }
        for (k, n) in o.stops {
            add(&mut self.stops, k, n);
        }
        for t in [o.first_ts, o.last_ts].into_iter().flatten() {
            self.first_ts = Some(self.first_ts.map_or(t, |x| x.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |x| x.max(t)));
        }
    }

    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} packets ({} matched), {} bytes on the wire, {} captured, from {} file(s)",
            self.packets, self.matched, self.bytes_wire, self.bytes_captured, self.files
        );
        if self.stopped_early {
            let _ = writeln!(
                s,
                "stopped after {} printed packet(s) as asked (-c); the rest of the input was not read",
                self.matched
            );
        }
        if self.logs.files > 0 {
            let l = &self.logs;
            let _ = writeln!(
                s,
                "log lines: {} read, {} records, {} skipped, {} rejected (counted in packets above)",
                l.lines,
                l.records,
                l.skipped_total(),
                l.rejected_total()
            );
            for (why, n) in l.rejected.iter().chain(l.skipped.iter()) {
                let _ = writeln!(s, "  {n:>10}  {why}");
            }
            for a in &l.assumptions {
                let _ = writeln!(s, "note: {a}");
            }
        }
        if let (Some(a), Some(b)) = (self.first_ts, self.last_ts) {
            let mut t = String::from("time span: ");
            render::write_time(&mut t, a, ' ', 6);
            t.push_str(" .. ");
            render::write_time(&mut t, b, ' ', 6);
            let _ = writeln!(s, "{t} UTC");
        }
        s.push_str("link types:\n");
        for (lt, n) in &sorted(&self.linktypes) {
            let _ = writeln!(s, "  {n:>10}  {}", linktype::label(*lt));
        }
        let mut chains: Vec<(u128, u64)> = self.chains.iter().map(|(k, n)| (*k, *n)).collect();
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
        s.push_str("classes:\n");
        for c in Class::ALL {
            let n = self.classes[c.index()];
            if n > 0 {
                let _ = writeln!(s, "  {n:>10}  {}", c.name());
            }
        }
        let _ = writeln!(
            s,
            "truncated: {} by snap length, {} with a header cut short; malformed: {}",
            self.snaplen_truncated, self.header_truncated, self.malformed
        );
        if !self.stops.is_empty() {
            let mut stops: Vec<(String, u64)> =
                self.stops.iter().map(|(k, n)| (k.describe(), *n)).collect();
            stops.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
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
            "{{\"summary\":{{\"files\":{},\"packets\":{},\"matched\":{},\"stopped_early\":{},\"bytes_wire\":{},\"bytes_captured\":{},\"snaplen_truncated\":{},\"header_truncated\":{},\"malformed\":{},\"linktypes\":{{",
            self.files,
            self.packets,
            self.matched,
            self.stopped_early,
            self.bytes_wire,
            self.bytes_captured,
            self.snaplen_truncated,
            self.header_truncated,
            self.malformed
        );
        for (i, (lt, n)) in sorted(&self.linktypes).iter().enumerate() {
            let _ = write!(s, "{}\"{lt}\":{n}", if i > 0 { "," } else { "" });
        }
        s.push_str("},\"chains\":{");
        for (i, (k, n)) in sorted(&self.chains).iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            render::json_str(&mut s, &chain_from_key(*k));
            let _ = write!(s, ":{n}");
        }
        s.push_str("},\"classes\":{");
        let mut first = true;
        for c in Class::ALL {
            let n = self.classes[c.index()];
            if n > 0 {
                let _ = write!(s, "{}\"{}\":{n}", if first { "" } else { "," }, c.name());
                first = false;
            }
        }
        let _ = write!(
            s,
            "}},\"log_lines\":{},\"log_records\":{},\"log_skipped\":{},\"log_rejected\":{}",
            self.logs.lines,
            self.logs.records,
            self.logs.skipped_total(),
            self.logs.rejected_total()
        );
        s.push_str(",\"stops\":{");
        for (i, (why, n)) in sorted(&self.stops).iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            render::json_str(&mut s, &why.describe());
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
        let sum = count_parallel(&args.files, &opts, &log_opts, &sel);
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
            if args.json {
                render::json_open(&mut line, &meta, &d);
                if let Some(v) = &verdict {
                    v.json_fields(&mut line);
                }
                line.push('}');
            } else if args.verbose {
                render::verbose(&mut line, &meta, &d);
                if let Some(v) = &verdict {
                    v.verbose(&mut line);
                }
            } else {
                render::summary_line(&mut line, &meta, &d);
                if let Some(v) = &verdict {
                    line.push_str("  ");
                    v.label(&mut line);
                }
            }
            line.push('\n');
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
                        render_record(&mut line, args, &name, line_no, fmt, &o, verdict.as_ref());
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

fn render_record(
    line: &mut String,
    args: &Args,
    file: &str,
    line_no: u64,
    fmt: logs::LogFormat,
    o: &noisefloor_wire::Observation,
    verdict: Option<&Verdict>,
) {
    if args.json {
        line.push_str("{\"file\":");
        render::json_str(line, file);
        let _ = write!(line, ",\"line\":{line_no},\"format\":\"{}\",", fmt.name());
        o.json_fields(line);
        if let Some(v) = verdict {
            v.json_fields(line);
        }
        line.push('}');
    } else if args.verbose {
        let _ = writeln!(line, "Record at {file}:{line_no} ({} log)", fmt.name());
        o.verbose(line);
        if let Some(v) = verdict {
            v.verbose(line);
        }
    } else {
        let _ = write!(line, "{file}:{line_no} ");
        o.summary_line(line);
        if let Some(v) = verdict {
            line.push_str("  ");
            v.label(line);
        }
    }
    line.push('\n');
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

fn count_parallel(
    files: &[String],
    opts: &Options,
    log_opts: &LogOptions,
    sel: &Selection,
) -> Summary {
    let mut bars = Progressbars::default();
    let (states, report) = pipeline::fold_ordered(
        files,
        Summary::default,
        |sum, batch| {
            if let Some(chunk) = &batch.lines {
                let mut stats = std::mem::take(&mut sum.logs);
                logs::for_each_line(chunk, &batch.buf, log_opts, &mut stats, |o, _| {
                    sum.account_record(o, sel);
                });
                sum.logs = stats;
                return;
            }
            let mut d = Dissection::empty();
            for r in &batch.records {
                dissect_into(&mut d, opts, r.linktype, batch.data(r));
                sum.account(r.ts_ns, r.caplen, r.origlen, r.linktype, &d, sel);
            }
        },
        &mut |p| bars.update(p),
    );
    let mut total = Summary::default();
    for s in states {
        total.merge(s);
    }
    total.files = report.files;
    total.file_errors = report.errors;
    total.logs.merge(&report.logs);
    total
}

/// One progress bar per large input file, driven by the pipeline's reports.
#[derive(Default)]
pub struct Progressbars {
    bar: Option<indicatif::ProgressBar>,
}
impl Progressbars {
    pub fn update(&mut self, p: pipeline::Progress) {
        match p {
            pipeline::Progress::FileStart { path } => self.bar = progress_bar(path),
            pipeline::Progress::Position { offset, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(offset);
                }
            }
            pipeline::Progress::FileEnd { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
        }
    }
}
