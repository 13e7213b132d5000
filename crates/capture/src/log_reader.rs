//! Cuts a log file into chunks of whole lines for the decode threads. Lines are never
//! copied one by one: a chunk is the read buffer up to its last newline, and only the
//! partial line after it is carried into the next chunk.

use std::io::Read;
use std::sync::Arc;

use noisefloor_logs::{FileContext, LineChunk, LineParser, LogOptions, LogStats, Outcome};

use crate::{Batch, CaptureError, Compression};

/// Bytes read per chunk (whole lines are cut from it).
const CHUNK: usize = 1 << 20;

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
        reference: (i64, &'static str),
    ) -> LogReader {
        let journal_export =
            head.starts_with(b"__CURSOR=") || head.starts_with(b"__REALTIME_TIMESTAMP=");
        LogReader {
            src,
            compression,
            ctx: Arc::new(FileContext {
                journal_export,
                ..FileContext::written_at(name, reference.0, reference.1)
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
    let nuls = memchr::memchr_iter(0, head).count();
    let printable = head
        .iter()
        .filter(|&&b| b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    if printable * 100 < (head.len() - nuls) * 95 {
        return false;
    }
    // NUL bytes mark most binary formats, but logs get them too: a stray one, or the
    // block of zeros a crash leaves where the last lines were. Such a file is a log when
    // a whole line around them reads as one; the lines with NULs are rejected later.
    nuls == 0 || holds_a_log_line(head)
}

/// Whether one of the lines in `head` (the last may be cut short) is a log line of a
/// known kind: a firewall record, or a syslog-style line of another program.
fn holds_a_log_line(head: &[u8]) -> bool {
    let opts = LogOptions::default();
    let mut file = FileContext::for_tests(2000, 1);
    file.name = "<sniff>".into();
    let mut p = LineParser::new(&opts, &file, None);
    head.split(|&b| b == b'\n')
        .any(|line| matches!(p.parse(line), Outcome::Record(..) | Outcome::Skipped(_)))
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
            (1_718_000_000_000_000_000, "test"),
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

    #[test]
    fn a_stray_nul_does_not_make_a_log_binary() {
        let line = b"Dec  7 10:00:00 fw1 kernel: IN=eth0 OUT= SRC=203.0.113.5 DST=198.51.100.7 LEN=40 TTL=52 ID=1 PROTO=TCP SPT=4000 DPT=23 SYN\n";
        let mut head = line.to_vec();
        head.extend_from_slice(b"Dec  7 10:00:01 fw1 kernel: IN=eth0 \0OUT= SRC=203.0.113.6\n");
        head.extend_from_slice(line);
        assert!(looks_like_text(&head));
        // A block of NULs, as a crash leaves at the end of a log, then more lines.
        let mut head = line.to_vec();
        head.extend_from_slice(&[0; 100]);
        head.extend_from_slice(line);
        assert!(looks_like_text(&head));
        // Text that is no log we read, with NULs: refused as before.
        assert!(!looks_like_text(
            b"hello world\nthis is text\0\nbut not a log\n"
        ));
        // Binary files with printable stretches: ELF, SQLite, tar, UTF-16 text.
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        elf.extend_from_slice(line);
        assert!(!looks_like_text(&elf));
        let mut sqlite = b"SQLite format 3\0".to_vec();
        sqlite.extend_from_slice(&[0x10, 0, 1, 1, 0, 0x40, 0x20, 0x20]);
        assert!(!looks_like_text(&sqlite));
        let mut tar = b"var/log/kern.log".to_vec();
        tar.resize(100, 0);
        // Mode, owner, group, size, modification time: octal text, each ended by a NUL.
        for field in [
            "0000644",
            "0000000",
            "0000000",
            "00000012345",
            "14543212345",
        ] {
            tar.extend_from_slice(field.as_bytes());
            tar.push(0);
        }
        tar.resize(512, 0);
        assert!(!looks_like_text(&tar));
        let utf16: Vec<u8> = String::from_utf8_lossy(line)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(!looks_like_text(&utf16));
        assert!(!looks_like_text(&[0; 512]));
    }
}
