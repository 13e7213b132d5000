use std::fs::File;
use std::io::{self, Read};

use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le};
use pcap_parser::traits::PcapNGPacketBlock;

use crate::{CaptureError, MAX_RECORD};

const BUF_INITIAL: usize = 512 << 10;
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;
const PCAP_MAX_SNAPLEN: u32 = 262_144;

/// One captured packet, borrowing the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub data: &'a [u8],
    /// Nanoseconds since the Unix epoch (UTC). 0 for pcapng simple packet blocks, which
    /// carry no time.
    pub ts_ns: i64,
    pub caplen: u32,
    pub origlen: u32,
    pub linktype: u32,
    /// pcapng interface index (0 for legacy pcap).
    pub interface: u32,
    /// Byte offset of the record header in the (decompressed) stream.
    pub offset: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap {
        big_endian: bool,
        nanosecond: bool,
        modified: bool,
    },
    Pcapng,
}

/// A pcapng interface (or the single implicit interface of a legacy pcap file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub linktype: u32,
    pub snaplen: u32,
    /// Timestamp units per second.
    pub ts_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    pub ts_offset: i64,
    pub name: Option<String>,
}

/// What the reader has seen so far.
#[derive(Clone, Debug, Default)]
pub struct ReaderStats {
    pub packets: u64,
    pub bytes: u64,
    pub sections: u64,
    /// pcapng blocks by type name (`SHB`, `IDB`, `EPB`, `SPB`, `NRB`, `ISB`, ...).
    pub blocks: Vec<(&'static str, u64)>,
    /// Every interface of every section, in order.
    pub interfaces: Vec<Interface>,
    /// Records whose captured length is below the original length (snap length).
    pub snaplen_truncated: u64,
}
impl ReaderStats {
    fn count_block(&mut self, name: &'static str) {
        match self.blocks.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.blocks.push((name, 1)),
        }
    }
    pub fn block_count(&self, name: &str) -> u64 {
        self.blocks
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| *c)
    }
}

/// Streams records from one capture.
pub struct CaptureReader {
    name: String,
    src: Box<dyn Read + Send>,
    compression: Compression,
    format: Format,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Current pcapng section byte order.
    section_be: bool,
    /// Interfaces of the current pcapng section (legacy: exactly one).
    section_ifaces: Vec<Interface>,
    /// Index into `stats.interfaces` of the current section's first interface.
    stats: ReaderStats,
    max_caplen: u32,
    done: bool,
    /// False while a batch is being cut: parse only what is buffered.
    refill: bool,
    /// Set when a parse needed bytes that were not buffered and refill was off.
    stalled: bool,
}

/// Records decoded from one buffer, handed to another thread whole (no per-packet copy).
/// A batch from a log file holds whole lines instead, described by `lines`.
#[derive(Debug, Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub records: Vec<BatchRecord>,
    pub lines: Option<noisefloor_logs::LineChunk>,
}

/// A record inside a [`Batch`]: `buf[pos..pos + caplen]`.
#[derive(Clone, Copy, Debug)]
pub struct BatchRecord {
    pub pos: usize,
    pub ts_ns: i64,
    pub caplen: u32,
    pub origlen: u32,
    pub linktype: u32,
    pub interface: u32,
    pub offset: u64,
}

impl Batch {
    pub fn data(&self, r: &BatchRecord) -> &[u8] {
        &self.buf[r.pos..r.pos + r.caplen as usize]
    }
}

fn magic_hex(b: &[u8]) -> String {
    let hex: Vec<String> = b.iter().take(4).map(|x| format!("{x:02x}")).collect();
    if hex.is_empty() {
        "nothing (empty file)".into()
    } else {
        hex.join(" ")
    }
}

/// Detects gzip or zstd by magic and wraps the stream in a decoder.
/// The input's bytes after gzip or zstd, and whether it was compressed: what the lake
/// hashes to recognise a grown input or a rotated, compressed copy (same stream).
pub fn open_stream(path: &str) -> Result<(bool, Box<dyn Read + Send>), CaptureError> {
    let f = std::fs::File::open(path).map_err(|source| CaptureError::Open {
        file: path.to_string(),
        source,
    })?;
    let (c, s) = decompress(path, Box::new(f))?;
    Ok((c != Compression::None, s))
}

pub(crate) fn decompress(
    name: &str,
    mut raw: Box<dyn Read + Send>,
) -> Result<(Compression, Box<dyn Read + Send>), CaptureError> {
    let mut head = [0u8; 4];
    let n = read_full(&mut raw, &mut head).map_err(|source| CaptureError::Io {
        file: name.to_string(),
        offset: 0,
        source,
    })?;
    let head_vec = head[..n].to_vec();
    let chained: Box<dyn Read + Send> = Box::new(io::Cursor::new(head_vec).chain(raw));
    Ok(match head {
        [0x1f, 0x8b, ..] if n >= 2 => (
            Compression::Gzip,
            Box::new(flate2::read::MultiGzDecoder::new(chained)),
        ),
        [0x28, 0xb5, 0x2f, 0xfd] => {
            let dec =
                zstd::stream::read::Decoder::new(chained).map_err(|source| CaptureError::Io {
                    file: name.to_string(),
                    offset: 0,
                    source,
                })?;
            (Compression::Zstd, Box::new(dec))
        }
        _ => (Compression::None, chained),
    })
}

impl CaptureReader {
    /// Stream offset (after decompression) just past the last whole record read: where a
    /// record cut short at the end of a file still being written would start.
    pub fn consumed(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Opens a file, or stdin for `-`.
    pub fn open(path: &str) -> Result<Self, CaptureError> {
        if path == "-" {
            return Self::from_reader("<stdin>", Box::new(io::stdin()));
        }
        let f = File::open(path).map_err(|source| CaptureError::Open {
            file: path.to_string(),
            source,
        })?;
        Self::from_reader(path, Box::new(f))
    }

    /// Reads from any byte stream; `name` is used in messages.
    pub fn from_reader(name: &str, raw: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        let (compression, src) = decompress(name, raw)?;
        Self::from_stream(name, compression, src)
    }

    /// Reads an already decompressed stream.
    pub(crate) fn from_stream(
        name: &str,
        compression: Compression,
        src: Box<dyn Read + Send>,
    ) -> Result<Self, CaptureError> {
        let name = name.to_string();
        let mut r = CaptureReader {
            name,
            src,
            compression,
            format: Format::Pcapng,
            buf: vec![0; BUF_INITIAL],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            section_be: false,
            section_ifaces: Vec::new(),
            stats: ReaderStats::default(),
            max_caplen: PCAP_MAX_SNAPLEN,
            done: false,
            refill: true,
            stalled: false,
        };
        r.read_file_header()?;
        Ok(r)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn format(&self) -> Format {
        self.format
    }
    pub fn compression(&self) -> Compression {
        self.compression
    }
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    fn corrupt(&self, offset: u64, what: &'static str, message: String) -> CaptureError {
        CaptureError::Corrupt {
            file: self.name.clone(),
            offset,
            compressed: self.compression != Compression::None,
            what,
            message,
        }
    }

    /// Makes at least `n` bytes available at `start`. Returns how many are (less than `n`
    /// only at end of stream).
    fn fill(&mut self, n: usize) -> Result<usize, CaptureError> {
        if self.end - self.start >= n {
            return Ok(self.end - self.start);
        }
        if !self.refill && !self.eof {
            self.stalled = true;
            return Ok(self.end - self.start);
        }
        if self.start + n > self.buf.len() {
            // Move the unread tail to the front, growing the buffer for large records.
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
            if n > self.buf.len() {
                self.buf.resize(n.next_power_of_two(), 0);
            }
        }
        while self.end - self.start < n && !self.eof {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Io {
                        file: self.name.clone(),
                        offset: self.base + self.end as u64,
                        source,
                    });
                }
            }
        }
        Ok(self.end - self.start)
    }

    fn read_file_header(&mut self) -> Result<(), CaptureError> {
        let have = self.fill(24)?;
        let b = &self.buf[self.start..self.end];
        if have < 4 {
            return Err(CaptureError::UnknownFormat {
                file: self.name.clone(),
                magic: magic_hex(b),
            });
        }
        let magic_le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let (big_endian, nanosecond, modified) = match magic_le {
            0xa1b2_c3d4 => (false, false, false),
            0xd4c3_b2a1 => (true, false, false),
            0xa1b2_3c4d => (false, true, false),
            0x4d3c_b2a1 => (true, true, false),
            0xa1b2_cd34 => (false, false, true),
            0x34cd_b2a1 => (true, false, true),
            PCAPNG_SHB => {
                self.format = Format::Pcapng;
                return Ok(());
            }
            _ => {
                return Err(CaptureError::UnknownFormat {
                    file: self.name.clone(),
                    magic: magic_hex(b),
                });
            }
        };
        if have < 24 {
            return Err(self.corrupt(
                0,
                "truncated file header",
                format!("a pcap file header is 24 bytes, the file has {have}"),
            ));
        }
        let rd32 = |o: usize| {
            let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
            if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        let rd16 = |o: usize| {
            let a = [b[o], b[o + 1]];
            if big_endian {
                u16::from_be_bytes(a)
            } else {
                u16::from_le_bytes(a)
            }
        };
        let (major, minor) = (rd16(4), rd16(6));
        if !(major == 2 && minor <= 4 || major == 543 && minor == 0) {
            return Err(self.corrupt(
                4,
                "bad file header",
                format!(
                    "unsupported pcap savefile version {major}.{minor} (only 2.x up to 2.4 exists)"
                ),
            ));
        }
        let snaplen = rd32(16);
        let network = rd32(20);
        if network & 0x03ff_0000 != 0 {
            return Err(self.corrupt(
                20,
                "bad file header",
                format!(
                    "savefile linktype reserved field not zero (0x{:08x})",
                    network & 0x03ff_0000
                ),
            ));
        }
        // The top bits carry the FCS length; the link type is the low 16.
        let linktype = network & 0xffff;
        self.max_caplen = snaplen.clamp(PCAP_MAX_SNAPLEN, MAX_RECORD as u32);
        self.format = Format::Pcap {
            big_endian,
            nanosecond,
            modified,
        };
        let iface = Interface {
            linktype,
            snaplen,
            ts_per_sec: if nanosecond { 1_000_000_000 } else { 1_000_000 },
            ts_offset: 0,
            name: None,
        };
        self.section_ifaces = vec![iface.clone()];
        self.stats.interfaces.push(iface);
        self.stats.sections = 1;
        self.start += 24;
        Ok(())
    }

    /// The next record, `Ok(None)` at a clean end of file. After an error the reader is
    /// finished: later calls return `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.next_raw() {
            Ok(Some((pos, len, meta))) => Ok(Some(Record {
                data: &self.buf[pos..pos + len],
                ..meta
            })),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// The next record of either format as (buffer position, length, record without data),
    /// counted in the stats.
    fn next_raw(&mut self) -> Result<Option<(usize, usize, Record<'static>)>, CaptureError> {
        let r = match self.format {
            Format::Pcap {
                big_endian,
                nanosecond,
                modified,
            } => self.next_pcap(big_endian, nanosecond, modified),
            Format::Pcapng => self.next_pcapng(),
        };
        if let Ok(Some((_, len, meta))) = &r {
            self.stats.packets += 1;
            self.stats.bytes += *len as u64;
            if meta.caplen < meta.origlen {
                self.stats.snaplen_truncated += 1;
            }
        }
        r
    }

    /// Cuts up to `max` records into `batch` without copying packet bytes: the reader's
    /// buffer moves into the batch and the batch's old buffer becomes the reader's. Returns
    /// false at the end of input (the batch may still hold records). After an error the
    /// records before it are in `batch`.
    pub fn read_batch(&mut self, batch: &mut Batch, max: usize) -> Result<bool, CaptureError> {
        batch.records.clear();
        batch.lines = None;
        if self.done {
            return Ok(false);
        }
        let mut more = true;
        let mut err = None;
        // Fill the whole buffer first, so which records make a batch does not depend on how
        // much each read returned (a pipe gives what is there): the same input makes the
        // same batches, and `explain` the same report.
        self.refill = true;
        if let Err(e) = self.fill(self.buf.len()) {
            self.done = true;
            return Err(e);
        }
        while batch.records.len() < max {
            // The first record may read; the rest only take what is already buffered, so
            // the buffer can be handed over whole.
            self.refill = batch.records.is_empty();
            self.stalled = false;
            match self.next_raw() {
                Ok(Some((pos, len, meta))) => {
                    batch.records.push(BatchRecord {
                        pos,
                        ts_ns: meta.ts_ns,
                        caplen: len as u32,
                        origlen: meta.origlen,
                        linktype: meta.linktype,
                        interface: meta.interface,
                        offset: meta.offset,
                    });
                    if let Format::Pcap {
                        big_endian,
                        nanosecond,
                        modified: false,
                    } = self.format
                    {
                        // The buffer was just refilled: take the rest of it in a tight loop.
                        self.cut_pcap_records(batch, max, big_endian, nanosecond);
                    }
                }
                Ok(None) if self.stalled => break,
                Ok(None) => {
                    self.done = true;
                    more = false;
                    break;
                }
                Err(e) => {
                    self.done = true;
                    more = false;
                    err = Some(e);
                    break;
                }
            }
        }
        self.refill = true;
        self.stalled = false;
        // Hand the buffer over; keep the unparsed tail in the other one.
        let tail = self.end - self.start;
        let mut next = std::mem::take(&mut batch.buf);
        if next.len() < self.buf.len() {
            next.resize(self.buf.len(), 0);
        }
        next[..tail].copy_from_slice(&self.buf[self.start..self.end]);
        batch.buf = std::mem::replace(&mut self.buf, next);
        self.base += self.start as u64;
        self.end = tail;
        self.start = 0;
        match err {
            Some(e) => Err(e),
            None => Ok(more),
        }
    }

    /// Appends every complete legacy-pcap record in the buffer (up to `max`) to `batch`.
    /// Stops before anything unusual (an oversized caplen, a partial record) and leaves it to
    /// the general path, which reports errors with offsets.
    fn cut_pcap_records(&mut self, batch: &mut Batch, max: usize, be: bool, nanos: bool) {
        let linktype = self.section_ifaces[0].linktype;
        let max_caplen = self.max_caplen as usize;
        let frac_mul: i64 = if nanos { 1 } else { 1000 };
        let buf = &self.buf[..self.end];
        let mut pos = self.start;
        let (mut packets, mut bytes, mut short) = (0u64, 0u64, 0u64);
        while batch.records.len() < max && pos + 16 <= buf.len() {
            let h = &buf[pos..pos + 16];
            let rd = |o: usize| {
                let a = [h[o], h[o + 1], h[o + 2], h[o + 3]];
                if be {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            };
            let caplen = rd(8) as usize;
            if caplen > max_caplen || pos + 16 + caplen > buf.len() {
                break;
            }
            let origlen = rd(12);
            batch.records.push(BatchRecord {
                pos: pos + 16,
                ts_ns: rd(0) as i64 * 1_000_000_000 + rd(4) as i64 * frac_mul,
                caplen: caplen as u32,
                origlen,
                linktype,
                interface: 0,
                offset: self.base + pos as u64,
            });
            packets += 1;
            bytes += caplen as u64;
            short += ((caplen as u32) < origlen) as u64;
            pos += 16 + caplen;
        }
        self.start = pos;
        self.stats.packets += packets;
        self.stats.bytes += bytes;
        self.stats.snaplen_truncated += short;
    }

    /// Returns (buffer position, length, record without data).
    fn next_pcap(
        &mut self,
        be: bool,
        nanos: bool,
        modified: bool,
    ) -> Result<Option<(usize, usize, Record<'static>)>, CaptureError> {
        let hdr = if modified { 24 } else { 16 };
        let have = self.fill(hdr)?;
        if self.stalled {
            return Ok(None);
        }
        if have == 0 {
            return Ok(None);
        }
        let offset = self.offset();
        if have < hdr {
            return Err(self.corrupt(
                offset,
                "truncated record",
                format!("the file ends {have} bytes into a {hdr}-byte record header; {} packets before it were read", self.stats.packets),
            ));
        }
        let b = &self.buf[self.start..self.start + hdr];
        let rd = |o: usize| {
            let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
            if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        let (sec, frac, caplen, origlen) = (rd(0), rd(4), rd(8), rd(12));
        if caplen > self.max_caplen {
            return Err(self.corrupt(
                offset,
                "corrupt record header",
                format!(
                    "record claims {caplen} captured bytes, more than the {} a packet can have; the file is damaged from here on ({} packets before it were read)",
                    self.max_caplen, self.stats.packets
                ),
            ));
        }
        let need = hdr + caplen as usize;
        let have = self.fill(need)?;
        if self.stalled {
            return Ok(None);
        }
        if have < need {
            return Err(self.corrupt(
                offset,
                "truncated record",
                format!(
                    "record promises {caplen} bytes but the file ends after {}; {} packets before it were read (was the capture still being written?)",
                    have - hdr,
                    self.stats.packets
                ),
            ));
        }
        let pos = self.start + hdr;
        self.start += need;
        let ts_ns = sec as i64 * 1_000_000_000
            + if nanos {
                frac as i64
            } else {
                frac as i64 * 1000
            };
        let linktype = self.section_ifaces[0].linktype;
        Ok(Some((
            pos,
            caplen as usize,
            Record {
                data: &[],
                ts_ns,
                caplen,
                origlen,
                linktype,
                interface: 0,
                offset,
            },
        )))
    }

    fn next_pcapng(&mut self) -> Result<Option<(usize, usize, Record<'static>)>, CaptureError> {
        loop {
            let have = self.fill(12)?;
            if self.stalled {
                return Ok(None);
            }
            if have == 0 {
                return Ok(None);
            }
            let offset = self.offset();
            if have < 12 {
                return Err(self.corrupt(
                    offset,
                    "truncated record",
                    format!("the file ends {have} bytes into a pcapng block header"),
                ));
            }
            let b = &self.buf[self.start..self.start + 12];
            let type_le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if type_le == PCAPNG_SHB {
                let bom = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
                self.section_be =
                    match bom {
                        PCAPNG_BOM => false,
                        x if x.swap_bytes() == PCAPNG_BOM => true,
                        _ => return Err(self.corrupt(
                            offset + 8,
                            "bad section header",
                            format!(
                                "byte-order magic 0x{bom:08x} is neither 1a2b3c4d nor its reverse"
                            ),
                        )),
                    };
            } else if self.stats.sections == 0 {
                return Err(self.corrupt(
                    offset,
                    "bad pcapng file",
                    "the first block is not a section header block".into(),
                ));
            }
            let be = self.section_be;
            let rd = |b: &[u8], o: usize| {
                let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
                if be {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            };
            let block_type = rd(b, 0);
            let len = rd(b, 4) as usize;
            if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD + 64 {
                return Err(self.corrupt(
                    offset,
                    "corrupt block header",
                    format!("block of type 0x{block_type:08x} has impossible length {len}"),
                ));
            }
            let have = self.fill(len)?;
            if self.stalled {
                return Ok(None);
            }
            if have < len {
                return Err(self.corrupt(
                    offset,
                    "truncated record",
                    format!("block promises {len} bytes but the file ends after {have}; {} packets before it were read", self.stats.packets),
                ));
            }
            let block = &self.buf[self.start..self.start + len];
            let trailer = rd(block, len - 4) as usize;
            if trailer != len {
                return Err(self.corrupt(
                    offset,
                    "corrupt block",
                    format!("block total length in header {len} and trailer {trailer} don't match"),
                ));
            }
            let parsed = if be {
                parse_block_be(block)
            } else {
                parse_block_le(block)
            };
            let block_start = self.start;
            let blk = match parsed {
                Ok((_, blk)) => blk,
                Err(e) => {
                    return Err(self.corrupt(
                        offset,
                        "corrupt block",
                        format!(
                            "block of type 0x{block_type:08x} ({len} bytes) does not parse: {e:?}"
                        ),
                    ));
                }
            };
            let mut out = None;
            match blk {
                Block::SectionHeader(shb) => {
                    self.stats.count_block("SHB");
                    let (maj, min) = (shb.major_version, shb.minor_version);
                    if !(maj == 1 && (min == 0 || min == 2)) {
                        return Err(self.corrupt(
                            offset,
                            "bad section header",
                            format!("unsupported pcapng savefile version {maj}.{min}"),
                        ));
                    }
                    self.stats.sections += 1;
                    self.section_ifaces.clear();
                }
                Block::InterfaceDescription(idb) => {
                    self.stats.count_block("IDB");
                    let ts_per_sec = match ts_units_per_sec(idb.if_tsresol) {
                        Some(r) => r,
                        _ => {
                            return Err(self.corrupt(
                                offset,
                                "bad interface description",
                                format!(
                                    "if_tsresol 0x{:02x} is not a usable resolution",
                                    idb.if_tsresol
                                ),
                            ));
                        }
                    };
                    let name = idb.if_name().and_then(|n| n.ok()).map(str::to_string);
                    let iface = Interface {
                        linktype: (idb.linktype.0 as u32) & 0xffff,
                        snaplen: idb.snaplen,
                        ts_per_sec,
                        ts_offset: idb.if_tsoffset,
                        name,
                    };
                    self.section_ifaces.push(iface.clone());
                    self.stats.interfaces.push(iface);
                }
                Block::EnhancedPacket(epb) => {
                    self.stats.count_block("EPB");
                    let Some(iface) = self.section_ifaces.get(epb.if_id as usize) else {
                        return Err(self.corrupt(
                            offset,
                            "corrupt block",
                            format!(
                                "packet refers to interface {} but the section describes {}",
                                epb.if_id,
                                self.section_ifaces.len()
                            ),
                        ));
                    };
                    let data = epb.packet_data();
                    let caplen = (epb.caplen as usize).min(data.len());
                    let pos = block_start + (data.as_ptr() as usize - block.as_ptr() as usize);
                    let ts_units = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                    let ts_ns = units_to_ns(ts_units, iface.ts_per_sec, iface.ts_offset);
                    out = Some((
                        pos,
                        caplen,
                        Record {
                            data: &[],
                            ts_ns,
                            caplen: caplen as u32,
                            origlen: epb.origlen,
                            linktype: iface.linktype,
                            interface: epb.if_id,
                            offset,
                        },
                    ));
                }
                Block::SimplePacket(spb) => {
                    self.stats.count_block("SPB");
                    let Some(iface) = self.section_ifaces.first() else {
                        return Err(self.corrupt(
                            offset,
                            "corrupt block",
                            "simple packet block before any interface description".into(),
                        ));
                    };
                    let data = spb.packet_data();
                    let mut caplen = data.len().min(spb.origlen as usize);
                    if iface.snaplen > 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    let pos = block_start + (data.as_ptr() as usize - block.as_ptr() as usize);
                    out = Some((
                        pos,
                        caplen,
                        Record {
                            data: &[],
                            ts_ns: 0,
                            caplen: caplen as u32,
                            origlen: spb.origlen,
                            linktype: iface.linktype,
                            interface: 0,
                            offset,
                        },
                    ));
                }
                Block::NameResolution(_) => self.stats.count_block("NRB"),
                Block::InterfaceStatistics(_) => self.stats.count_block("ISB"),
                Block::SystemdJournalExport(_) => self.stats.count_block("SJE"),
                Block::DecryptionSecrets(_) => self.stats.count_block("DSB"),
                Block::ProcessInformation(_) => self.stats.count_block("PIB"),
                Block::Custom(cb) => self.stats.count_block(
                    if cb.block_type == pcap_parser::DCB_MAGIC
                        || cb.block_type.swap_bytes() == pcap_parser::DCB_MAGIC
                    {
                        "DCB"
                    } else {
                        "CB"
                    },
                ),
                Block::Unknown(_) => self.stats.count_block("unknown"),
            }
            self.start += len;
            if out.is_some() {
                return Ok(out);
            }
        }
    }
}

/// Timestamp units per second from `if_tsresol`: 10^n, or 2^n when the top bit is set.
/// (pcap-parser 0.17's `build_ts_resolution` compares the byte with 63 before masking the
/// top bit, so it rejects every binary resolution; hence our own.)
fn ts_units_per_sec(resol: u8) -> Option<u64> {
    let n = (resol & 0x7f) as u32;
    if resol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

fn units_to_ns(units: u64, per_sec: u64, offset_s: i64) -> i64 {
    let secs = units / per_sec;
    let frac = units % per_sec;
    let frac_ns = (frac as u128 * 1_000_000_000 / per_sec as u128) as i64;
    (secs as i64)
        .saturating_add(offset_s)
        .saturating_mul(1_000_000_000)
        .saturating_add(frac_ns)
}

pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(be: bool, nanos: bool, linktype: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut out = Vec::new();
        out.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
        out.extend_from_slice(&w16(2));
        out.extend_from_slice(&w16(4));
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&w32(65535));
        out.extend_from_slice(&w32(linktype));
        for (s, f, d) in records {
            out.extend_from_slice(&w32(*s));
            out.extend_from_slice(&w32(*f));
            out.extend_from_slice(&w32(d.len() as u32));
            out.extend_from_slice(&w32(d.len() as u32));
            out.extend_from_slice(d);
        }
        out
    }

    /// (timestamp, bytes, link type) of each record, and the error that ended reading.
    type Read = (Vec<(i64, Vec<u8>, u32)>, Option<CaptureError>);

    fn read_all(bytes: Vec<u8>) -> Read {
        let mut r =
            CaptureReader::from_reader("t", Box::new(io::Cursor::new(bytes))).expect("header");
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(rec)) => out.push((rec.ts_ns, rec.data.to_vec(), rec.linktype)),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn both_byte_orders_and_resolutions() {
        for be in [false, true] {
            for nanos in [false, true] {
                let bytes = pcap(be, nanos, 101, &[(10, 5, b"abc"), (11, 0, b"")]);
                let (recs, err) = read_all(bytes);
                assert!(err.is_none());
                assert_eq!(recs.len(), 2);
                assert_eq!(recs[0].0, 10_000_000_000 + if nanos { 5 } else { 5_000 });
                assert_eq!(recs[0].1, b"abc");
                assert_eq!(recs[0].2, 101);
            }
        }
    }

    #[test]
    fn gzip_and_zstd_detected_by_magic() {
        let plain = pcap(false, false, 1, &[(1, 0, &[7u8; 100]), (2, 0, &[8u8; 60])]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &plain).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&plain[..], 1).unwrap();
        for bytes in [gz, zs] {
            let (recs, err) = read_all(bytes);
            assert!(err.is_none());
            assert_eq!(recs.len(), 2);
            assert_eq!(recs[1].1, vec![8u8; 60]);
        }
    }

    #[test]
    fn truncated_record_keeps_earlier_packets_and_names_offset() {
        let mut bytes = pcap(false, false, 1, &[(1, 0, &[1u8; 40]), (2, 0, &[2u8; 40])]);
        bytes.truncate(bytes.len() - 10);
        let (recs, err) = read_all(bytes);
        assert_eq!(recs.len(), 1);
        let e = err.expect("error");
        assert_eq!(e.offset(), Some(24 + 16 + 40));
        assert!(e.is_truncation());
        assert!(e.to_string().contains("byte 80"), "{e}");
    }

    #[test]
    fn records_larger_than_the_buffer_grow_it() {
        let big = vec![9u8; 200_000];
        let bytes = pcap(false, false, 1, &[(1, 0, &big), (2, 0, b"x")]);
        let (recs, err) = read_all(bytes);
        assert!(err.is_none());
        assert_eq!(recs[0].1.len(), 200_000);
    }

    #[test]
    fn garbage_is_refused() {
        let e = CaptureReader::from_reader("g", Box::new(io::Cursor::new(b"hello world".to_vec())))
            .err()
            .expect("refused");
        assert!(e.to_string().contains("68 65 6c 6c"), "{e}");
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn batches_see_every_record_once_in_order() {
        // Records that straddle buffer boundaries and a record larger than the buffer.
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&262144u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        let mut want = Vec::new();
        for i in 0..60_000u32 {
            let len = if i == 30_000 {
                200_000
            } else {
                (i % 300) as usize
            };
            let data: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
            f.extend_from_slice(&i.to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(&data);
            want.push(data);
        }
        let mut r = CaptureReader::from_reader("b", Box::new(io::Cursor::new(f))).unwrap();
        let mut batch = Batch::default();
        let mut got = 0usize;
        loop {
            let more = r.read_batch(&mut batch, 1000).unwrap();
            for rec in &batch.records {
                assert_eq!(batch.data(rec), &want[got][..], "record {got}");
                assert_eq!(rec.ts_ns, got as i64 * 1_000_000_000);
                got += 1;
            }
            if !more {
                break;
            }
        }
        assert_eq!(got, want.len());
    }
}
