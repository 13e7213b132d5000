//! Opens any input noisefloor reads and tells captures from logs by their first bytes
//! (after gzip/zstd), never by the file name.

use std::fs::File;
use std::io::{self, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::log_reader::LogReader;
use crate::reader::{decompress, read_full};
use crate::{CaptureError, CaptureReader};
use noisefloor_logs::time;

/// A capture or a log, ready to read.
pub enum Input {
    Capture(CaptureReader),
    Log(LogReader),
}

impl Input {
    pub fn name(&self) -> &str {
        match self {
            Input::Capture(c) => c.name(),
            Input::Log(l) => l.name(),
        }
    }
}

const PCAP_MAGICS: [[u8; 4]; 7] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

/// Opens a file, or stdin for `-`: pcap/pcapng by magic, text as a log, anything else an
/// error that says what was found.
pub fn open_input(path: &str) -> Result<Input, CaptureError> {
    let (name, raw, reference): (&str, Box<dyn Read + Send>, _) = if path == "-" {
        ("<stdin>", Box::new(io::stdin()), reference_time(None))
    } else {
        let f = File::open(path).map_err(|source| CaptureError::Open {
            file: path.to_string(),
            source,
        })?;
        let mtime = f.metadata().and_then(|m| m.modified()).ok();
        (path, Box::new(f), reference_time(mtime))
    };
    let (compression, mut src) = decompress(name, raw)?;
    let mut head = vec![0u8; 512];
    let n = read_full(&mut src, &mut head).map_err(|source| CaptureError::Io {
        file: name.to_string(),
        offset: 0,
        source,
    })?;
    head.truncate(n);
    let is_capture = n >= 4 && PCAP_MAGICS.iter().any(|m| head[..4] == m[..]);
    let stream: Box<dyn Read + Send> = Box::new(io::Cursor::new(head.clone()).chain(src));
    if !is_capture && crate::log_reader::looks_like_text(&head) {
        return Ok(Input::Log(LogReader::new(
            name,
            compression,
            stream,
            &head,
            reference,
        )));
    }
    CaptureReader::from_stream(name, compression, stream).map(Input::Capture)
}

/// When a log was last written, as ns since the epoch and where that came from: its
/// modification time, or now (stdin, or a modification time that cannot be right: before
/// 1990, as archives and package stores set it, or ahead of this machine's clock).
fn reference_time(mtime: Option<SystemTime>) -> (i64, &'static str) {
    let ns = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
    };
    let now = ns(SystemTime::now()).unwrap_or(0);
    match mtime.and_then(ns) {
        Some(m) if m >= time::EARLIEST_NS && m <= now.saturating_add(time::SKEW_NS) => {
            (m, "the file's modification time")
        }
        Some(_) => (now, "now: the file's modification time is implausible"),
        None => (now, "now"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Batch;
    use noisefloor_logs::{LogOptions, LogStats, for_each_line};

    const LINE: &str = "fw1 kernel: IN=eth0 OUT= SRC=203.0.113.5 DST=198.51.100.7 LEN=40 TTL=52 ID=1 PROTO=TCP SPT=4000 DPT=23 SYN";

    /// A file in the temp directory holding `bytes`, last written at `mtime` (s since 1970).
    fn temp(name: &str, bytes: &[u8], mtime: Option<u64>) -> String {
        let path = std::env::temp_dir().join(format!("nf-input-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        if let Some(s) = mtime {
            let f = File::options().write(true).open(&path).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_secs(s)).unwrap();
        }
        path.to_str().unwrap().to_string()
    }

    /// Reads a log through the pipeline's steps: (record times, stats).
    fn read_log(path: &str) -> (Vec<Option<i64>>, LogStats) {
        let Ok(Input::Log(mut r)) = open_input(path) else {
            panic!("{path}: not read as a log");
        };
        let opts = LogOptions::default();
        let mut stats = LogStats::default();
        let mut times = Vec::new();
        let mut b = Batch::default();
        loop {
            let more = r.read_chunk(&mut b).unwrap();
            if let Some(chunk) = &b.lines {
                for_each_line(chunk, &b.buf, &opts, &mut stats, |o, _| times.push(o.ts_ns));
            }
            if !more {
                break;
            }
        }
        stats.merge(&r.stats);
        let _ = std::fs::remove_file(path);
        (times, stats)
    }

    #[test]
    fn syslog_years_come_from_the_files_modification_time() {
        // Written 2026-12-07 11:50:30 UTC, like samples/firewall-deny.log.
        let text = format!("Dec 27 17:35:08 {LINE}\nDec  7 11:00:00 {LINE}\n");
        let path = temp("year.log", text.as_bytes(), Some(1_796_644_230));
        let (times, stats) = read_log(&path);
        let day = |y, m, d| noisefloor_logs::time::days_from_civil(y, m, d) * 86_400_000_000_000;
        assert_eq!(
            times,
            [
                Some(day(2025, 12, 27) + (17 * 3600 + 35 * 60 + 8) * 1_000_000_000),
                Some(day(2026, 12, 7) + 11 * 3_600_000_000_000),
            ]
        );
        assert!(
            stats.assumptions[0].contains("2025"),
            "{:?}",
            stats.assumptions
        );
    }

    #[test]
    fn an_implausible_modification_time_gives_way_to_now() {
        let at = |s: u64| reference_time(Some(UNIX_EPOCH + Duration::from_secs(s)));
        assert_eq!(
            at(1_796_644_230),
            (1_796_644_230_000_000_000, "the file's modification time")
        );
        // Package stores and some archives set 1970; a clock far ahead sets the future.
        for s in [1, 600_000_000, 40_000_000_000] {
            let (ns, source) = at(s);
            assert!(source.starts_with("now"), "{s}: {source}");
            assert!(ns > 1_700_000_000_000_000_000, "{s}: {ns}");
        }
    }

    #[test]
    fn a_log_with_a_stray_nul_is_read_and_only_that_line_rejected() {
        let mut bytes = format!("Dec  1 10:00:00 {LINE}\n").into_bytes();
        bytes.extend_from_slice(b"Dec  1 10:00:01 fw1 kernel: IN=eth0\0 OUT=\n");
        bytes.extend_from_slice(format!("Dec  1 10:00:02 {LINE}\n").as_bytes());
        let path = temp("nul.log", &bytes, None);
        let (times, stats) = read_log(&path);
        assert_eq!((times.len(), stats.rejected_total()), (2, 1));
        assert_eq!(stats.examples[0].line, 2);
    }

    #[test]
    fn binary_files_that_are_not_captures_are_still_refused() {
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0".to_vec();
        elf.resize(600, 0);
        let path = temp("a.out", &elf, None);
        let r = open_input(&path);
        let _ = std::fs::remove_file(&path);
        assert!(
            matches!(r, Err(CaptureError::UnknownFormat { .. })),
            "{:?}",
            r.err()
        );
    }
}
