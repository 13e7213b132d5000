use std::io;

/// A capture that cannot be read (further). `offset` is the byte position in the file, or
/// in the decompressed stream for compressed input.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{file}: cannot open: {source}")]
    Open { file: String, source: io::Error },
    #[error("{file}: read failed at byte {offset}: {source}")]
    Io {
        file: String,
        offset: u64,
        source: io::Error,
    },
    #[error(
        "{file}: not a pcap or pcapng capture (starts with {magic}); noisefloor reads pcap, pcapng, and either compressed with gzip or zstd"
    )]
    UnknownFormat { file: String, magic: String },
    #[error("{file}: {what} at byte {offset}{}: {message}", if *.compressed { " of the decompressed stream" } else { "" })]
    Corrupt {
        file: String,
        offset: u64,
        compressed: bool,
        what: &'static str,
        message: String,
    },
}

impl CaptureError {
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Io { offset, .. } | CaptureError::Corrupt { offset, .. } => Some(*offset),
            _ => None,
        }
    }
    /// True when the file ended in the middle of a record (rather than holding garbage).
    pub fn is_truncation(&self) -> bool {
        matches!(
            self,
            CaptureError::Corrupt {
                what: "truncated record",
                ..
            }
        )
    }
}
