//! What `ingest` tells its user: one line (or JSON object) per input and a total, built from
//! the [`Outcome`]s. The JSON is `{"lake", "sensor", "inputs": [...], "rows_added",
//! "seconds"}`; each input has `input`, `status` (`added`, `already-ingested`, `failed`) and
//! the counts of its status (docs/lake.md).

use serde::Serialize;

use crate::ingest::Outcome;

/// The outcomes of one `ingest` run, in input order.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub lake: String,
    pub sensor: String,
    /// (input as given, what became of it)
    pub inputs: Vec<(String, Outcome)>,
    pub seconds: f64,
}

#[derive(Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
enum InputJson<'a> {
    Added {
        input: &'a str,
        rows: u64,
        files: usize,
        rejected: u64,
        untimed: u64,
        content_hash: &'a str,
        continues_from: u64,
    },
    AlreadyIngested {
        input: &'a str,
        rows: u64,
        content_hash: &'a str,
    },
    Failed {
        input: &'a str,
        error: &'a str,
    },
}

#[derive(Serialize)]
struct ReportJson<'a> {
    lake: &'a str,
    sensor: &'a str,
    inputs: Vec<InputJson<'a>>,
    rows_added: u64,
    seconds: f64,
}

impl IngestReport {
    /// Rows committed by this run.
    pub fn rows_added(&self) -> u64 {
        self.inputs
            .iter()
            .map(|(_, o)| match o {
                Outcome::Added(e) => e.rows,
                _ => 0,
            })
            .sum()
    }

    /// Some input could not be read at all.
    pub fn failed(&self) -> bool {
        self.inputs
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Failed(_)))
    }

    /// One line per input, then the total.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let (mut added, mut skipped) = (0u64, 0u64);
        for (input, o) in &self.inputs {
            match o {
                Outcome::Added(e) => {
                    added += 1;
                    out.push_str(&format!(
                        "added    {input}: {} rows in {} file(s), {}",
                        e.rows,
                        e.files.len(),
                        e.format
                    ));
                    if e.stream_from > 0 {
                        out.push_str(&format!(
                            ", only what follows its first {} bytes (already in the lake: it grew, or is a copy of an ingested input)",
                            e.stream_from
                        ));
                    }
                    if e.rejected > 0 {
                        out.push_str(&format!(
                            ", {} rejected (first: {})",
                            e.rejected,
                            e.errors.first().map_or("", |s| s)
                        ));
                    }
                    if e.untimed > 0 {
                        out.push_str(&format!(
                            ", {} without a time not stored (give --boot-time)",
                            e.untimed
                        ));
                    }
                    if e.held_back > 0 {
                        out.push_str(", its last line has no newline yet: held back until it ends (the next ingest adds it)");
                    }
                }
                Outcome::AlreadyIngested(e) => {
                    skipped += 1;
                    out.push_str(&format!(
                        "skipped  {input}: already in the lake for sensor {} (ingested {} as {}; --replace to ingest again)",
                        e.sensor, e.ingested_at, e.input
                    ));
                }
                Outcome::Failed(msg) => out.push_str(&format!("failed   {msg}")),
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "{} row(s) from {added} input(s) added to {} (sensor {}), {skipped} already there, in {:.2} s\n",
            self.rows_added(),
            self.lake,
            self.sensor,
            self.seconds
        ));
        out
    }

    /// The run as one JSON object (one line, no newline).
    pub fn json(&self) -> String {
        let inputs = self
            .inputs
            .iter()
            .map(|(input, o)| match o {
                Outcome::Added(e) => InputJson::Added {
                    input,
                    rows: e.rows,
                    files: e.files.len(),
                    rejected: e.rejected,
                    untimed: e.untimed,
                    content_hash: &e.content_hash,
                    continues_from: e.stream_from,
                },
                Outcome::AlreadyIngested(e) => InputJson::AlreadyIngested {
                    input,
                    rows: 0,
                    content_hash: &e.content_hash,
                },
                Outcome::Failed(msg) => InputJson::Failed { input, error: msg },
            })
            .collect();
        let r = ReportJson {
            lake: &self.lake,
            sensor: &self.sensor,
            inputs,
            rows_added: self.rows_added(),
            // Milliseconds are all a run's time is worth.
            seconds: (self.seconds * 1000.0).round() / 1000.0,
        };
        serde_json::to_string(&r).unwrap_or_default()
    }
}
