//! `dissect`'s end-of-run summary: packets, bytes, link types, protocol chains, classes,
//! truncation and where decoding stopped, counted over a run in one pass or in parallel,
//! rendered as text or as the JSON object docs/dissect-json.md documents ("Run summary").
//! Also the one line (or tree, or JSON object) `dissect` prints for a log record.

use std::fmt::Write as _;

use noisefloor_capture::pipeline::{self, Progress};
use noisefloor_classify::{Class, Context, Verdict, classify};
use noisefloor_logs::{LogOptions, LogStats};
use noisefloor_wire::render::{self, write_time};
use noisefloor_wire::{
    Dissection, Observation, Options, Stop, chain_from_key, dissect_into, filter, linktype,
};

use crate::json::Ordered;

/// What selects packets for output: the filter expression and the classes.
pub struct Selection<'a> {
    /// Only packets this filter expression matches.
    pub filter: Option<&'a filter::Expr>,
    /// Classify at all (`--no-classes` turns it off).
    pub classify: bool,
    /// Only these classes (all when empty).
    pub classes: &'a [Class],
    /// The sensor's own addresses (for backscatter).
    pub ctx: &'a Context,
}

/// Counts by key in a seeded hash map: crafted packets can produce many distinct keys.
type Counts<K> = hashbrown::HashMap<K, u64, foldhash::fast::RandomState>;

fn add<K: std::hash::Hash + Eq>(v: &mut Counts<K>, k: K, n: u64) {
    *v.entry(k).or_default() += n;
}

/// Most frequent first, ties in key order: stable output from a hash map.
fn sorted<K: Copy + Ord>(v: &Counts<K>) -> Vec<(K, u64)> {
    let mut out: Vec<(K, u64)> = v.iter().map(|(k, n)| (*k, *n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Counters for the end-of-run summary.
#[derive(Default)]
pub struct Summary {
    /// Inputs read.
    pub files: u64,
    /// Packets and log records read.
    pub packets: u64,
    /// Packets (or log records) that passed the selection.
    pub matched: u64,
    /// Bytes on the wire.
    pub bytes_wire: u64,
    /// Bytes captured (less where the snap length cut frames).
    pub bytes_captured: u64,
    linktypes: Counts<u32>,
    /// By protocols-in-frame key ([`Dissection::chain_key`]).
    chains: Counts<u128>,
    /// Frames the snap length cut.
    pub snaplen_truncated: u64,
    /// Frames with a header cut short.
    pub header_truncated: u64,
    /// Frames with an invalid header.
    pub malformed: u64,
    /// Packets per class (index: `Class::index`).
    classes: [u64; Class::ALL.len()],
    /// Everything but a normal end, by stop reason.
    stops: Counts<Stop>,
    /// Inputs that could not be read (or only in part), with file and offset.
    pub file_errors: Vec<String>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// Reading stopped once `-c` packets were printed.
    pub stopped_early: bool,
    /// What the log lines among the inputs became.
    pub logs: LogStats,
}

impl Summary {
    fn seen_at(&mut self, t: i64) {
        self.first_ts = Some(self.first_ts.map_or(t, |x| x.min(t)));
        self.last_ts = Some(self.last_ts.map_or(t, |x| x.max(t)));
    }

    /// Counts and classifies one packet. `None` when the packet is not selected; otherwise
    /// its verdict (absent with `--no-classes`).
    pub fn account(
        &mut self,
        ts_ns: i64,
        caplen: u32,
        origlen: u32,
        linktype: u32,
        d: &Dissection,
        sel: &Selection,
    ) -> Option<Option<Verdict>> {
        self.packets += 1;
        self.bytes_wire += u64::from(origlen);
        self.bytes_captured += u64::from(caplen);
        if caplen < origlen {
            self.snaplen_truncated += 1;
        }
        self.seen_at(ts_ns);
        add(&mut self.linktypes, linktype, 1);
        add(&mut self.chains, d.chain_key(), 1);
        if d.is_truncated() {
            self.header_truncated += 1;
        }
        if d.is_malformed() {
            self.malformed += 1;
        }
        match d.stop {
            Stop::Payload | Stop::Empty => {}
            Stop::Truncated if !d.is_truncated() => {}
            s => add(&mut self.stops, s, 1),
        }
        let verdict = sel
            .classify
            .then(|| classify(&Observation::from_dissection(ts_ns, origlen, d), sel.ctx));
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
    pub fn account_record(&mut self, o: &Observation, sel: &Selection) -> Option<Option<Verdict>> {
        self.packets += 1;
        if let Some(t) = o.ts_ns {
            self.seen_at(t);
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

    /// Folds another thread's summary into this one.
    pub fn merge(&mut self, o: Summary) {
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
            self.seen_at(t);
        }
    }

    /// The summary for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        // Nothing could be read at all: the errors are the whole answer, not a summary of
        // zeros before them.
        if self.packets == 0 && self.logs.lines == 0 && !self.file_errors.is_empty() {
            for e in &self.file_errors {
                let _ = writeln!(s, "error: {e}");
            }
            return s;
        }
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
            write_time(&mut t, a, ' ', 6);
            t.push_str(" .. ");
            write_time(&mut t, b, ' ', 6);
            let _ = writeln!(s, "{t} UTC");
        }
        s.push_str("link types:\n");
        for (lt, n) in &sorted(&self.linktypes) {
            let _ = writeln!(s, "  {n:>10}  {}", linktype::label(*lt));
        }
        let chains = sorted(&self.chains);
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

    /// The summary as docs/dissect-json.md documents it: `{"summary":{…}}`, one line.
    pub fn json(&self) -> String {
        let named = |v: Vec<(String, u64)>| Ordered(v);
        let body = SummaryJson {
            files: self.files,
            packets: self.packets,
            matched: self.matched,
            stopped_early: self.stopped_early,
            bytes_wire: self.bytes_wire,
            bytes_captured: self.bytes_captured,
            snaplen_truncated: self.snaplen_truncated,
            header_truncated: self.header_truncated,
            malformed: self.malformed,
            linktypes: named(
                sorted(&self.linktypes)
                    .into_iter()
                    .map(|(k, n)| (k.to_string(), n))
                    .collect(),
            ),
            chains: named(
                sorted(&self.chains)
                    .into_iter()
                    .map(|(k, n)| (chain_from_key(k), n))
                    .collect(),
            ),
            classes: named(
                Class::ALL
                    .iter()
                    .map(|c| (c.name().to_string(), self.classes[c.index()]))
                    .filter(|(_, n)| *n > 0)
                    .collect(),
            ),
            log_lines: self.logs.lines,
            log_records: self.logs.records,
            log_skipped: self.logs.skipped_total(),
            log_rejected: self.logs.rejected_total(),
            stops: named(
                sorted(&self.stops)
                    .into_iter()
                    .map(|(k, n)| (k.describe(), n))
                    .collect(),
            ),
            errors: &self.file_errors,
        };
        serde_json::to_string(&Wrapped { summary: body }).unwrap_or_default()
    }
}

#[derive(serde::Serialize)]
struct Wrapped<'a> {
    summary: SummaryJson<'a>,
}

/// docs/dissect-json.md, "Run summary": the field names and order are the document's.
#[derive(serde::Serialize)]
struct SummaryJson<'a> {
    files: u64,
    packets: u64,
    matched: u64,
    stopped_early: bool,
    bytes_wire: u64,
    bytes_captured: u64,
    snaplen_truncated: u64,
    header_truncated: u64,
    malformed: u64,
    linktypes: Ordered<String, u64>,
    chains: Ordered<String, u64>,
    classes: Ordered<String, u64>,
    log_lines: u64,
    log_records: u64,
    log_skipped: u64,
    log_rejected: u64,
    stops: Ordered<String, u64>,
    errors: &'a [String],
}

/// Counts every packet and log record of `files` on every core (`dissect --count-only`).
pub fn count_files(
    files: &[String],
    opts: &Options,
    log_opts: &LogOptions,
    sel: &Selection,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Summary {
    let (states, report) = pipeline::fold_ordered(
        files,
        Summary::default,
        |sum, batch| {
            if let Some(chunk) = &batch.lines {
                let mut stats = std::mem::take(&mut sum.logs);
                noisefloor_logs::for_each_line(chunk, &batch.buf, log_opts, &mut stats, |o, _| {
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
        progress,
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

/// How `dissect` prints each packet or record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// One line.
    Line,
    /// Every field as a tree.
    Verbose,
    /// One JSON object (NDJSON).
    Json,
}

/// One log record as `dissect` prints it, newline included.
pub fn record_line(
    out: &mut String,
    style: Style,
    file: &str,
    line_no: u64,
    fmt: noisefloor_logs::LogFormat,
    o: &Observation,
    verdict: Option<&Verdict>,
) {
    match style {
        Style::Json => {
            out.push_str("{\"file\":");
            render::json_str(out, file);
            let _ = write!(out, ",\"line\":{line_no},\"format\":\"{}\",", fmt.name());
            o.json_fields(out);
            if let Some(v) = verdict {
                v.json_fields(out);
            }
            out.push('}');
        }
        Style::Verbose => {
            let _ = writeln!(out, "Record at {file}:{line_no} ({} log)", fmt.name());
            o.verbose(out);
            if let Some(v) = verdict {
                v.verbose(out);
            }
        }
        Style::Line => {
            let _ = write!(out, "{file}:{line_no} ");
            o.summary_line(out);
            if let Some(v) = verdict {
                out.push_str("  ");
                v.label(out);
            }
        }
    }
    out.push('\n');
}

/// One captured frame as `dissect` prints it, newline included.
pub fn frame_line(
    out: &mut String,
    style: Style,
    meta: &render::FrameMeta,
    d: &Dissection,
    verdict: Option<&Verdict>,
) {
    match style {
        Style::Json => {
            render::json_open(out, meta, d);
            if let Some(v) = verdict {
                v.json_fields(out);
            }
            out.push('}');
        }
        Style::Verbose => {
            render::verbose(out, meta, d);
            if let Some(v) = verdict {
                v.verbose(out);
            }
        }
        Style::Line => {
            render::summary_line(out, meta, d);
            if let Some(v) = verdict {
                out.push_str("  ");
                v.label(out);
            }
        }
    }
    out.push('\n');
}
