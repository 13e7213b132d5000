//! What the lines of one file share (its name, when it was last written, how to place
//! times without a year) and a chunk of whole lines as the readers hand them to the parsers.

use std::sync::Arc;

use crate::time::{self, Civil, ZoneCache};

/// What every line of one file shares.
#[derive(Clone, Debug)]
pub struct FileContext {
    /// The file's name as given (`-` for stdin).
    pub name: String,
    /// When the file was last written (its modification time; now, for stdin), in ns
    /// since the epoch. No line can be much later: a syslog date without a year is put in
    /// the year that keeps it before this, and with `bounded`, a later record is rejected.
    pub ref_ns: i64,
    /// Where `ref_ns` came from, for the statement in reports.
    pub ref_source: &'static str,
    /// Record times are checked: none before [`time::EARLIEST_NS`], none more than
    /// [`time::SKEW_NS`] after `ref_ns`.
    pub bounded: bool,
    /// journald `-o export`: records are separated by blank lines.
    pub journal_export: bool,
}

impl FileContext {
    /// A file last written at `ref_ns` (ns since the epoch): its times are checked.
    pub fn written_at(name: &str, ref_ns: i64, source: &'static str) -> FileContext {
        FileContext {
            name: name.into(),
            ref_ns,
            ref_source: source,
            bounded: true,
            journal_export: false,
        }
    }
    /// A context for lines that come from nowhere in particular, as if written at the end
    /// of `month` of `year`: syslog dates without a year are placed in `year`, or the year
    /// before when more than a day after that; times are not checked.
    pub fn for_tests(year: i64, month: u32) -> FileContext {
        // The last second of the month.
        let (y, m) = if month >= 12 {
            (year + 1, 1)
        } else {
            (year, month.max(1) + 1)
        };
        FileContext {
            bounded: false,
            ..FileContext::written_at(
                "<test>",
                time::days_from_civil(y, m, 1) * time::DAY_NS - 1_000_000_000,
                "the test",
            )
        }
    }
    /// The time of a syslog date written without a year (`c.year` is ignored): in the
    /// year of `ref_ns` (on the log's calendar), or in the year before when that would be
    /// more than [`time::SKEW_NS`] after `ref_ns` (a file holds no lines from its future).
    /// `None` when the date exists in neither year (February 29).
    pub fn place_without_year(&self, c: Civil, zone: &mut ZoneCache) -> Option<i64> {
        let year = zone.year_at(self.ref_ns);
        let this = Civil { year, ..c };
        if this.valid() {
            let ts = zone.to_utc_ns(&this);
            if ts <= self.ref_ns.saturating_add(time::SKEW_NS) {
                return Some(ts);
            }
        }
        let last = Civil {
            year: year - 1,
            ..c
        };
        last.valid().then(|| zone.to_utc_ns(&last))
    }
    /// The statement made when syslog times without a year were read.
    pub fn year_assumption(&self) -> String {
        let secs = self.ref_ns.div_euclid(1_000_000_000);
        let (y, m, d) = time::civil_from_days(secs.div_euclid(86_400));
        let hm = secs.rem_euclid(86_400) / 60;
        format!(
            "{}: syslog times carry no year; read as {y}, or as {} where {y} would put a time more than a day after {y}-{m:02}-{d:02} {:02}:{:02} UTC ({}) (--year to set)",
            self.name,
            y - 1,
            hm / 60,
            hm % 60,
            self.ref_source,
        )
    }
}

/// A chunk of whole lines inside a batch's buffer (`noisefloor_capture::Batch`).
#[derive(Clone, Debug)]
pub struct LineChunk {
    /// The file the lines come from.
    pub file: Arc<FileContext>,
    /// Line number (1-based) of the chunk's first line.
    pub first_line: u64,
    /// The last Windows `#Fields:` header before this chunk.
    pub header: Option<Arc<str>>,
}

impl LineChunk {
    /// The chunk's lines (without terminators) with their line numbers.
    pub fn lines<'d>(&self, data: &'d [u8]) -> impl Iterator<Item = (u64, &'d [u8])> {
        let first = self.first_line;
        data.strip_suffix(b"\n")
            .unwrap_or(data)
            .split(|&b| b == b'\n')
            .enumerate()
            .map(move |(i, l)| (first + i as u64, l))
    }
}
