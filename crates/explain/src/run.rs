//! The whole pass over a list of inputs: every capture frame and log line becomes one
//! [`Observation`], is classified and counted, on every core, in input order per state (so
//! the same input gives the same answer; see [`pipeline::fold_ordered`]).

use noisefloor_capture::pipeline::{self, Progress, ReadReport};
use noisefloor_classify::{Context, classify};
use noisefloor_logs::{LogOptions, LogStats};
use noisefloor_wire::quick::quick;
use noisefloor_wire::{Dissection, Observation, Options, dissect_into};

use crate::triage::{Limits, Triage};

/// What one pass over the inputs gathered.
pub struct Pass {
    /// Every packet and log record, merged across threads and finished.
    pub triage: Triage,
    /// Log lines read, kept and refused, per format.
    pub logs: LogStats,
    /// Inputs that could not be read (or only in part), with file and offset.
    pub report: ReadReport,
}

/// Reads `files` (captures and logs, plain or compressed, `-` for stdin) and triages every
/// record they hold.
pub fn triage_files(
    files: &[String],
    limits: Limits,
    ctx: &Context,
    log_opts: &LogOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Pass {
    let opts = Options::default();
    let (states, report) = pipeline::fold_ordered(
        files,
        || (Triage::new(limits), LogStats::default()),
        |(t, stats), batch| {
            if let Some(chunk) = &batch.lines {
                noisefloor_logs::for_each_line(chunk, &batch.buf, log_opts, stats, |o, _| {
                    t.add(o, &classify(o, ctx));
                });
                t.end_batch();
                return;
            }
            let mut d = Dissection::empty();
            // The fast path refills one record in place; only it ever fills this one.
            let mut fast = Observation::new();
            for r in &batch.records {
                let data = batch.data(r);
                // Most packets take the fast path; it fills the same record. One `add` per
                // arm: a record chosen by a `match` is copied out of it first (~400 bytes).
                match quick(&opts, r.linktype, data) {
                    Some(q) => {
                        fast.refill_quick(r.ts_ns, r.origlen, &q);
                        t.add(&fast, &classify(&fast, ctx));
                    }
                    None => {
                        dissect_into(&mut d, &opts, r.linktype, data);
                        let o = Observation::from_dissection(r.ts_ns, r.origlen, &d);
                        t.add(&o, &classify(&o, ctx));
                    }
                }
            }
            t.end_batch();
        },
        progress,
    );
    let mut triage = Triage::new(limits);
    let mut report = report;
    let mut logs = std::mem::take(&mut report.logs);
    for (t, l) in states {
        triage.merge(t);
        logs.merge(&l);
    }
    triage.finish();
    Pass {
        triage,
        logs,
        report,
    }
}
