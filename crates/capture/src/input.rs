//! Opens any input noisefloor reads and tells captures from logs by their first bytes
//! (after gzip/zstd), never by the file name.

use std::fs::File;
use std::io::{self, Read};

use crate::logs::LogReader;
use crate::reader::{decompress, read_full};
use crate::{CaptureError, CaptureReader};

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
    let (name, raw, ym): (&str, Box<dyn Read + Send>, _) = if path == "-" {
        ("<stdin>", Box::new(io::stdin()), now_year_month())
    } else {
        let f = File::open(path).map_err(|source| CaptureError::Open {
            file: path.to_string(),
            source,
        })?;
        let ym = f
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| year_month(d.as_secs() as i64, "the file's modification year"))
            .unwrap_or_else(now_year_month);
        (path, Box::new(f), ym)
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
    if !is_capture && crate::logs::reader::looks_like_text(&head) {
        return Ok(Input::Log(LogReader::new(
            name,
            compression,
            stream,
            &head,
            ym,
        )));
    }
    CaptureReader::from_stream(name, compression, stream).map(Input::Capture)
}

fn year_month(secs: i64, source: &'static str) -> (i64, u32, &'static str) {
    let (y, m, _) = crate::logs::time::civil_from_days(secs.div_euclid(86_400));
    (y, m, source)
}

fn now_year_month() -> (i64, u32, &'static str) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    year_month(secs, "the current year")
}
