//! Cuts a log file into chunks of whole lines for the decode threads. Lines are never
//! copied one by one: a chunk is the read buffer up to its last newline, and only the
//! partial line after it is carried into the next chunk.

use std::io::Read;
use std::sync::Arc;

use crate::{Batch, CaptureError, Compression};

use super::LogStats;

/// Bytes read per chunk (whole lines are cut from it).
const CHUNK: usize = 1 << 20;

/// What every line of one file shares.
#[derive(Clone, Debug)]
pub struct FileContext {
    pub name: String,
    /// Year and month the file was last written (or today, for stdin): a line dated in a
    /// later month than this, without a year, is from the year before.
    pub ref_year: i64,
    pub ref_month: u32,
    /// Where `ref_year` came from, for the statement in reports.
    pub year_source: &'static str,
    /// journald `-o export`: records are separated by blank lines.
    pub journal_export: bool,
}

impl FileContext {
    pub fn year_for_month(&self, month: u32) -> i64 {
        if month > self.ref_month {
            self.ref_year - 1
        } else {
            self.ref_year
        }
    }
    /// A context for lines that come from nowhere in particular.
    pub fn for_tests(year: i64, month: u32) -> FileContext {
        FileContext {
            name: "<test>".into(),
            ref_year: year,
            ref_month: month,
            year_source: "the test",
            journal_export: false,
        }
    }
    /// The statement made when syslog times without a year were read.
    pub fn year_assumption(&self) -> String {
        format!(
            "{}: syslog times carry no year; read as {} ({}), or {} for months after {} (--year to set)",
            self.name,
            self.ref_year,
            self.year_source,
            self.ref_year - 1,
            MONTHS[(self.ref_month.clamp(1, 12) - 1) as usize]
        )
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A chunk of whole lines inside a [`Batch`]'s buffer.
#[derive(Clone, Debug)]
pub struct LineChunk {
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

/// Streams chunks of lines from one log file.
pub struct LogReader {
    src: Box<dyn Read + Send>,
    compression: Compression,
    ctx: Arc<FileContext>,
    carry: Vec<u8>,
    eof: bool,
    next_line: u64,
    header: Option<Arc<str>>,
    /// Inside a line too long for a chunk: drop bytes up to the next newline.
    discarding: bool,
    /// Bytes handed out so far (of the decompressed stream).
    position: u64,
    /// Lines the reader itself rejected (too long to buffer).
    pub stats: LogStats,
}

impl LogReader {
    pub(crate) fn new(
        name: &str,
        compression: Compression,
        src: Box<dyn Read + Send>,
        head: &[u8],
        ref_ym: (i64, u32, &'static str),
    ) -> LogReader {
        let journal_export =
            head.starts_with(b"__CURSOR=") || head.starts_with(b"__REALTIME_TIMESTAMP=");
        LogReader {
            src,
            compression,
            ctx: Arc::new(FileContext {
                name: name.to_string(),
                ref_year: ref_ym.0,
                ref_month: ref_ym.1,
                year_source: ref_ym.2,
                journal_export,
            }),
            carry: Vec::new(),
            eof: false,
            next_line: 1,
            header: None,
            discarding: false,
            position: 0,
            stats: LogStats {
                files: 1,
                ..Default::default()
            },
        }
    }

    pub fn name(&self) -> &str {
        &self.ctx.name
    }
    pub fn context(&self) -> &Arc<FileContext> {
        &self.ctx
    }
    pub fn compression(&self) -> Compression {
        self.compression
    }
    /// Bytes of the (decompressed) file handed out so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Fills `batch` with the next chunk of whole lines. Returns false at the end of the
    /// file (the batch may still hold lines).
    pub fn read_chunk(&mut self, batch: &mut Batch) -> Result<bool, CaptureError> {
        batch.records.clear();
        batch.lines = None;
        batch.buf.clear();
        batch.buf.append(&mut self.carry);
        loop {
            while batch.buf.len() < CHUNK && !self.eof {
                let have = batch.buf.len();
                batch.buf.resize(CHUNK.max(have + 64 * 1024), 0);
                match self.src.read(&mut batch.buf[have..]) {
                    Ok(0) => {
                        batch.buf.truncate(have);
                        self.eof = true;
                    }
                    Ok(k) => batch.buf.truncate(have + k),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                        batch.buf.truncate(have)
                    }
                    Err(source) => {
                        batch.buf.truncate(have);
                        return Err(CaptureError::Io {
                            file: self.ctx.name.clone(),
                            offset: 0,
                            source: std::io::Error::new(
                                source.kind(),
                                format!(
                                    "{source} (after line {})",
                                    self.next_line.saturating_sub(1)
                                ),
                            ),
                        });
                    }
                }
            }
            if self.discarding {
                match memchr::memchr(b'\n', &batch.buf) {
                    Some(i) => {
                        batch.buf.drain(..=i);
                        self.discarding = false;
                        self.next_line += 1;
                    }
                    None => {
                        batch.buf.clear();
                        if self.eof {
                            self.next_line += 1;
                            return Ok(false);
                        }
                        continue;
                    }
                }
            }
            if batch.buf.is_empty() {
                return Ok(!self.eof);
            }
            let cut = if self.eof {
                Some(batch.buf.len())
            } else {
                self.cut_point(&batch.buf).map(|i| i + 1)
            };
            match cut {
                Some(cut) => {
                    self.carry.extend_from_slice(&batch.buf[cut..]);
                    batch.buf.truncate(cut);
                    let lines = memchr::memchr_iter(b'\n', &batch.buf).count() as u64
                        + u64::from(!batch.buf.ends_with(b"\n"));
                    batch.lines = Some(LineChunk {
                        file: self.ctx.clone(),
                        first_line: self.next_line,
                        header: self.header.clone(),
                    });
                    self.next_line += lines;
                    self.position += cut as u64;
                    self.track_header(&batch.buf);
                    return Ok(!self.eof || !self.carry.is_empty());
                }
                None => {
                    // A whole chunk without a newline: a line far beyond MAX_LINE.
                    let line = self.next_line;
                    self.stats.lines += 1;
                    self.stats.reject(
                        &self.ctx.name,
                        line,
                        "line longer than 64 KiB",
                        &batch.buf[..160.min(batch.buf.len())],
                    );
                    batch.buf.clear();
                    self.discarding = true;
                }
            }
        }
    }

    /// The end of the last complete line (or record, for journald export) in `buf`.
    fn cut_point(&self, buf: &[u8]) -> Option<usize> {
        if self.ctx.journal_export
            && let Some(i) = memchr::memmem::rfind(buf, b"\n\n")
        {
            return Some(i + 1);
        }
        // A line over MAX_LINE that fits in a chunk is cut here too, and rejected by the
        // parser with its line number.
        memchr::memrchr(b'\n', buf)
    }

    /// Remembers the last Windows `#Fields:` header for the chunks that follow.
    fn track_header(&mut self, buf: &[u8]) {
        let Some(i) = memchr::memmem::rfind(buf, b"#Fields:") else {
            return;
        };
        if i != 0 && buf[i - 1] != b'\n' {
            return;
        }
        let end = memchr::memchr(b'\n', &buf[i..]).map_or(buf.len(), |e| i + e);
        if let Ok(h) = std::str::from_utf8(&buf[i..end]) {
            self.header = Some(Arc::from(h.trim_end_matches('\r')));
        }
    }
}

/// True when the first bytes of a stream look like text (a log) rather than binary.
pub(crate) fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    if head.contains(&0) {
        return false;
    }
    let printable = head
        .iter()
        .filter(|&&b| b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    printable * 100 >= head.len() * 95
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(data: &'static [u8]) -> LogReader {
        LogReader::new(
            "t.log",
            Compression::None,
            Box::new(data),
            data,
            (2024, 6, "test"),
        )
    }

    #[test]
    fn chunks_hold_whole_lines_and_count_them() {
        let mut r = reader(b"a\nb\nc");
        let mut b = Batch::default();
        assert!(!r.read_chunk(&mut b).unwrap());
        assert_eq!(b.buf, b"a\nb\nc");
        assert_eq!(b.lines.as_ref().unwrap().first_line, 1);
        assert_eq!(r.next_line, 4);
    }

    #[test]
    fn text_sniffing() {
        assert!(looks_like_text(b"Jun  8 14:34:33 host kernel: IN=eth0"));
        assert!(!looks_like_text(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]));
        assert!(!looks_like_text(b""));
    }
}
