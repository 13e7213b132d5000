//! Reads captures and firewall logs. Captures: legacy pcap (both byte orders, micro- and nanosecond, the "modified"
//! Kuznetzov variant) and pcapng (many sections, many interfaces with their own link type,
//! `if_tsresol`/`if_tsoffset`, EPB and SPB), plain or gzip/zstd compressed (detected by
//! magic, not extension), from files or stdin.
//!
//! The reader owns one growable buffer and hands out [`Record`]s borrowing it, so memory
//! stays bounded by the largest record whatever the file size. Every error names the file
//! and the byte offset where the problem starts; records before it have been delivered.
//!
//! Text input is read as firewall logs (parsed by `noisefloor_logs`): each line becomes an
//! observation or a counted skip/reject with its line number. [`open_input`] tells the two apart by content.

mod error;
mod input;
#[cfg(target_os = "linux")]
pub mod live;
mod log_reader;
pub mod pipeline;
mod reader;
mod writer;

pub use error::CaptureError;
pub use input::{Input, open_input};
pub use log_reader::LogReader;
pub use reader::{
    Batch, BatchRecord, CaptureReader, Compression, Format, Interface, ReaderStats, Record,
    open_stream,
};
pub use writer::PcapWriter;

/// The largest captured length accepted for one record (libpcap's limit is 262144 for
/// most link types; a larger snap length in the file header raises it up to this).
pub const MAX_RECORD: usize = 16 << 20;
