//! Column encoders for the events files, written for their fixed schema.
//!
//! The general path (Arrow builders, then `ArrowWriter`) spent ~1.4 µs a row: 44 builders,
//! then the Parquet crate interning every string value, enum columns included, to find its
//! dictionary index. Here every column knows its values: an enum's dictionary index comes
//! from a small key (class index, tag bits, protocol and port), an address is hashed as an
//! integer and turned into text once per distinct value, a small integer indexes a table.
//! Each page is encoded here (RLE/bit-packed levels and indices, PLAIN, delta-packed
//! timestamps), compressed with zstd, and each column chunk is handed to the Parquet crate
//! whole (`append_column`), which writes the page headers and the footer. The files read
//! back exactly as `ArrowWriter` wrote them (`tests/writer.rs` compares the two).
//!
//! Encodings are the Parquet format's own: data pages v1 with RLE definition levels, a
//! PLAIN dictionary page and RLE_DICTIONARY indices while the chunk's dictionary stays under
//! [`DICT_BYTES`]; past it, integers are PLAIN and text DELTA_LENGTH_BYTE_ARRAY (lengths
//! delta-packed, then the bytes: parquet-mr's v2 writer falls back the same way) for the
//! rest of the chunk; DELTA_BINARY_PACKED for `ts`. Spark, Trino and DuckDB read all of them.

use std::cmp::Ordering;
use std::io::Write;

use bytes::Bytes;
use hashbrown::HashMap;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::event::ipv4_text;

type Seeded = foldhash::fast::RandomState;

/// A column chunk's dictionary may grow to this many bytes (arrow-rs's default page limit);
/// beyond it the rest of the chunk is written PLAIN.
pub const DICT_BYTES: usize = 1 << 20;
/// Byte-array statistics longer than this are left out (a hostile log line must not put
/// kilobytes into every footer).
const MAX_STAT_LEN: usize = 64;

/// zstd for pages, reused across pages.
pub struct Zstd {
    level: i32,
    cx: zstd::bulk::Compressor<'static>,
}

/// zstd's match finder at level 1 skips ahead this fast through data without matches
/// (its "acceleration", the same knob as negative levels).
const LEVEL1_ACCELERATION: u32 = 1024;

impl Zstd {
    /// Level 1 is tuned for these pages: they are bit-packed indices, delta-packed numbers
    /// and address text, where zstd's gain is in Huffman-coding the literals and
    /// searching for matches finds little. With text written as DELTA_LENGTH_BYTE_ARRAY
    /// that is 43 % of the zstd instructions and 2–3 % fewer bytes on the bench capture
    /// (BENCHMARKS.md). Levels 2–22 are zstd's own.
    pub fn new(level: i32) -> Result<Self> {
        use zstd::zstd_safe::{CParameter, ParamSwitch, Strategy};
        let level = ZstdLevel::try_new(level)
            .unwrap_or_default()
            .compression_level();
        let err = |e| ParquetError::General(format!("zstd: {e}"));
        let mut cx = zstd::bulk::Compressor::new(level).map_err(err)?;
        if level == 1 {
            for p in [
                CParameter::Strategy(Strategy::ZSTD_fast),
                CParameter::TargetLength(LEVEL1_ACCELERATION),
                // Acceleration alone would also turn Huffman coding off, as negative
                // levels do; on text that costs a third more bytes.
                CParameter::LiteralCompressionMode(ParamSwitch::Enable),
            ] {
                cx.set_parameter(p).map_err(err)?;
            }
        }
        Ok(Zstd { level, cx })
    }
    fn compression(&self) -> Compression {
        Compression::ZSTD(ZstdLevel::try_new(self.level).unwrap_or_default())
    }
    fn compress(&mut self, raw: &[u8]) -> Result<Bytes> {
        self.cx
            .compress(raw)
            .map(Bytes::from)
            .map_err(|e| ParquetError::General(format!("zstd: {e}")))
    }
}

// ---------------------------------------------------------------------------------------
// Bit-level encodings.

fn uleb(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Bits needed for values up to `max`.
fn bit_width(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Appends `values` bit-packed LSB first at `width` bits each (`values.len()` × `width` must
/// be a multiple of 8, as it is for groups of 8 and miniblocks of 32).
fn bit_pack(values: impl Iterator<Item = u64>, width: u8, out: &mut Vec<u8>) {
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for v in values {
        acc |= u128::from(v) << bits;
        bits += u32::from(width);
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Eight values of at most 32 bits at `width` bits each: exactly `width` bytes.
#[inline]
fn pack8(group: &[u32; 8], width: u8, out: &mut Vec<u8>) {
    let w = u32::from(width);
    let mut acc = 0u64;
    let mut bits = 0u32;
    for &v in group {
        acc |= u64::from(v) << bits;
        bits += w;
        if bits >= 32 {
            out.extend_from_slice(&(acc as u32).to_le_bytes());
            acc >>= 32;
            bits -= 32;
        }
    }
    // 8 × width bits is a whole number of bytes.
    // A fixed-size copy then a cut: a variable-length `extend_from_slice` is a call to
    // memcpy per group.
    let keep = out.len() + (bits / 8) as usize;
    out.extend_from_slice(&acc.to_le_bytes());
    out.truncate(keep);
}

/// An RLE run's value: its `bytes` low bytes, little-endian.
#[inline]
fn push_value(v: u32, bytes: usize, out: &mut Vec<u8>) {
    let keep = out.len() + bytes;
    out.extend_from_slice(&v.to_le_bytes());
    out.truncate(keep);
}

/// The RLE / bit-packing hybrid (Parquet's levels and dictionary indices): runs of eight or
/// more equal values as RLE runs, the rest bit-packed in groups of eight. A last group is
/// padded with zeros, which readers ignore (they know the value count).
///
/// Generic so definition levels go in as the column's `bool`s, without a copy per page.
pub fn rle_hybrid<T: Copy + Eq + Into<u32>>(values: &[T], width: u8, out: &mut Vec<u8>) {
    let value_bytes = usize::from(width).div_ceil(8);
    // Most pages' levels are all present or all null: one run, found by one vector scan.
    if let Some(&first) = values.first()
        && values.iter().all(|&v| v == first)
    {
        uleb((values.len() as u64) << 1, out);
        push_value(first.into(), value_bytes, out);
        return;
    }
    let run_at = |i: usize| {
        let v = values[i];
        values[i..].iter().take_while(|&&x| x == v).count()
    };
    let mut i = 0;
    while i < values.len() {
        let run = run_at(i);
        if run >= 8 {
            uleb((run as u64) << 1, out);
            push_value(values[i].into(), value_bytes, out);
            i += run;
            continue;
        }
        // Bit-packed groups until a long run starts at a group boundary.
        let header_at = out.len();
        out.push(0); // group count, patched below (at most 63 groups per run: one byte)
        let mut groups = 0u64;
        while i < values.len() && groups < 63 {
            let end = (i + 8).min(values.len());
            let mut group = [0u32; 8];
            for (g, &v) in group.iter_mut().zip(&values[i..end]) {
                *g = v.into();
            }
            pack8(&group, width, out);
            groups += 1;
            i = end;
            if i < values.len() && run_at(i) >= 8 {
                break;
            }
        }
        out[header_at] = ((groups << 1) | 1) as u8;
    }
}

/// DELTA_BINARY_PACKED: blocks of 128 values, four miniblocks of 32.
pub fn delta_binary_packed(values: &[i64], out: &mut Vec<u8>) {
    const BLOCK: usize = 128;
    const MINI: usize = 32;
    uleb(BLOCK as u64, out);
    uleb((BLOCK / MINI) as u64, out);
    uleb(values.len() as u64, out);
    uleb(zigzag(values.first().copied().unwrap_or(0)), out);
    let deltas: Vec<i64> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    for block in deltas.chunks(BLOCK) {
        let min = block.iter().copied().min().unwrap_or(0);
        uleb(zigzag(min), out);
        // Widths of the miniblocks present; absent ones (the last block's) are written 0.
        let mut widths = [0u8; BLOCK / MINI];
        for (w, m) in widths.iter_mut().zip(block.chunks(MINI)) {
            let max = m.iter().map(|&d| d.wrapping_sub(min) as u64).max();
            *w = bit_width(max.unwrap_or(0));
        }
        out.extend_from_slice(&widths);
        for (m, &w) in block.chunks(MINI).zip(&widths) {
            let vals = m
                .iter()
                .map(|&d| d.wrapping_sub(min) as u64)
                .chain(std::iter::repeat(0))
                .take(MINI);
            bit_pack(vals, w, out);
        }
    }
}

// ---------------------------------------------------------------------------------------
// A column chunk being built: its finished pages, dictionary and statistics.

/// What every column keeps across the pages of one chunk.
#[derive(Default)]
struct Chunk {
    pages: Vec<CompressedPage>,
    rows: u64,
    nulls: u64,
    /// Whether any page used the dictionary.
    dict_pages: bool,
}

impl Chunk {
    /// Compresses one data page: `levels` (definition levels, empty for a required column)
    /// then `values`.
    fn data_page(
        &mut self,
        z: &mut Zstd,
        rows: usize,
        defs: Option<&[bool]>,
        encoding: Encoding,
        values: &[u8],
        scratch: &mut Vec<u8>,
    ) -> Result<()> {
        scratch.clear();
        if let Some(defs) = defs {
            scratch.extend_from_slice(&[0; 4]);
            rle_hybrid(defs, 1, scratch);
            let n = (scratch.len() - 4) as u32;
            scratch[..4].copy_from_slice(&n.to_le_bytes());
        }
        scratch.extend_from_slice(values);
        let page = Page::DataPage {
            buf: z.compress(scratch)?,
            num_values: rows as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        self.pages.push(CompressedPage::new(page, scratch.len()));
        self.rows += rows as u64;
        self.dict_pages |= encoding == Encoding::RLE_DICTIONARY;
        Ok(())
    }

    /// Writes the chunk (dictionary page first) into a buffer and describes it.
    fn finish(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
        dictionary: Option<(&[u8], usize)>,
        statistics: Statistics,
    ) -> Result<(Bytes, ColumnCloseResult)> {
        let mut sink = TrackedWrite::new(Vec::new());
        let (mut compressed, mut uncompressed) = (0i64, 0i64);
        let mut dict_offset = None;
        let mut encodings = vec![Encoding::RLE];
        {
            let mut pw = SerializedPageWriter::new(&mut sink);
            if let Some((bytes, entries)) = dictionary.filter(|_| self.dict_pages) {
                let page = Page::DictionaryPage {
                    buf: z.compress(bytes)?,
                    num_values: entries as u32,
                    encoding: Encoding::PLAIN,
                    is_sorted: false,
                };
                let spec = pw.write_page(CompressedPage::new(page, bytes.len()))?;
                dict_offset = Some(spec.offset as i64);
                compressed += spec.compressed_size as i64;
                uncompressed += spec.uncompressed_size as i64;
                encodings.push(Encoding::PLAIN);
                encodings.push(Encoding::RLE_DICTIONARY);
            }
            let mut data_offset = None;
            for page in self.pages.drain(..) {
                if !encodings.contains(&page.encoding()) {
                    encodings.push(page.encoding());
                }
                let spec = pw.write_page(page)?;
                data_offset.get_or_insert(spec.offset as i64);
                compressed += spec.compressed_size as i64;
                uncompressed += spec.uncompressed_size as i64;
            }
            pw.close()?;
            let metadata = ColumnChunkMetaData::builder(descr.clone())
                .set_compression(z.compression())
                .set_encodings(encodings)
                .set_num_values(self.rows as i64)
                .set_total_compressed_size(compressed)
                .set_total_uncompressed_size(uncompressed)
                .set_data_page_offset(data_offset.unwrap_or(0))
                .set_dictionary_page_offset(dict_offset)
                .set_statistics(statistics)
                .build()?;
            let close = ColumnCloseResult {
                bytes_written: compressed as u64,
                rows_written: self.rows,
                metadata,
                bloom_filter: None,
                column_index: None,
                offset_index: None,
            };
            let bytes = Bytes::from(sink.into_inner()?);
            *self = Chunk::default();
            Ok((bytes, close))
        }
    }
}

/// One column of the events table: rows in, pages and a chunk out.
pub trait Column {
    /// Encodes the rows buffered since the last page into a page.
    fn flush_page(&mut self, z: &mut Zstd, scratch: &mut Vec<u8>) -> Result<()>;
    /// Finishes the chunk of the row group (after `flush_page`) and starts a new one.
    fn finish_chunk(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
    ) -> Result<(Bytes, ColumnCloseResult)>;
}

// ---------------------------------------------------------------------------------------
// Integers (INT32 and INT64 physical types).

/// An integer physical type.
pub trait Int: Copy + Ord + Eq + std::hash::Hash + Default {
    fn to_u64(self) -> u64;
    fn plain(self, out: &mut Vec<u8>);
    fn statistics(min: Option<Self>, max: Option<Self>, nulls: u64) -> Statistics;
}
impl Int for i32 {
    fn to_u64(self) -> u64 {
        self as u32 as u64
    }
    fn plain(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn statistics(min: Option<i32>, max: Option<i32>, nulls: u64) -> Statistics {
        Statistics::int32(min, max, None, Some(nulls), false)
    }
}
impl Int for i64 {
    fn to_u64(self) -> u64 {
        self as u64
    }
    fn plain(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn statistics(min: Option<i64>, max: Option<i64>, nulls: u64) -> Statistics {
        Statistics::int64(min, max, None, Some(nulls), false)
    }
}

/// Values below this index a table instead of a hash map: ports, IP IDs, TTLs and the other
/// header fields that fill most integer columns.
const DIRECT: usize = 1 << 16;

/// A nullable (or required) integer column, dictionary-encoded while that stays small.
pub struct IntCol<T: Int> {
    values: Vec<T>,
    valid: Vec<bool>,
    nullable: bool,
    /// `index + 1` per small value (0: not in the dictionary); allocated on first use.
    direct: Vec<u32>,
    map: HashMap<T, u32, Seeded>,
    dict: Vec<T>,
    use_dict: bool,
    min: Option<T>,
    max: Option<T>,
    chunk: Chunk,
    indices: Vec<u32>,
    out: Vec<u8>,
}

impl<T: Int> IntCol<T> {
    pub fn new(nullable: bool) -> Self {
        IntCol {
            values: Vec::new(),
            valid: Vec::new(),
            nullable,
            direct: Vec::new(),
            map: HashMap::with_hasher(Seeded::default()),
            dict: Vec::new(),
            use_dict: true,
            min: None,
            max: None,
            chunk: Chunk::default(),
            indices: Vec::new(),
            out: Vec::new(),
        }
    }
    #[inline]
    pub fn push(&mut self, v: Option<T>) {
        match v {
            Some(v) => {
                self.values.push(v);
                if self.nullable {
                    self.valid.push(true);
                }
            }
            None => self.valid.push(false),
        }
    }

    fn index_of(&mut self, v: T) -> u32 {
        let u = v.to_u64();
        if u < DIRECT as u64 {
            if self.direct.is_empty() {
                self.direct = vec![0; DIRECT];
            }
            let slot = &mut self.direct[u as usize];
            if *slot == 0 {
                self.dict.push(v);
                *slot = self.dict.len() as u32;
            }
            *slot - 1
        } else {
            let next = self.dict.len() as u32;
            let i = *self.map.entry(v).or_insert(next);
            if i == next {
                self.dict.push(v);
            }
            i
        }
    }
}

impl<T: Int> Column for IntCol<T> {
    fn flush_page(&mut self, z: &mut Zstd, scratch: &mut Vec<u8>) -> Result<()> {
        let rows = if self.nullable {
            self.valid.len()
        } else {
            self.values.len()
        };
        if rows == 0 {
            return Ok(());
        }
        self.chunk.nulls += (rows - self.values.len()) as u64;
        if let (Some(lo), Some(hi)) = (
            self.values.iter().copied().min(),
            self.values.iter().copied().max(),
        ) {
            self.min = Some(self.min.map_or(lo, |m| m.min(lo)));
            self.max = Some(self.max.map_or(hi, |m| m.max(hi)));
        }
        self.out.clear();
        let mut encoding = Encoding::PLAIN;
        // A page of nulls only is PLAIN with no values: no dictionary page is needed for it.
        if self.use_dict && !self.values.is_empty() {
            let before = self.dict.len();
            self.indices.clear();
            let values = std::mem::take(&mut self.values);
            for &v in &values {
                let idx = self.index_of(v);
                self.indices.push(idx);
            }
            self.values = values;
            if self.dict.len() * std::mem::size_of::<T>() <= DICT_BYTES {
                let width = bit_width(self.dict.len().saturating_sub(1) as u64);
                self.out.push(width);
                rle_hybrid(&self.indices, width, &mut self.out);
                encoding = Encoding::RLE_DICTIONARY;
            } else {
                // Too many distinct values: this page and the rest of the chunk are PLAIN
                // (the dictionary keeps only what earlier pages used).
                self.use_dict = false;
                self.dict.truncate(before);
            }
        }
        if encoding == Encoding::PLAIN {
            for &v in &self.values {
                v.plain(&mut self.out);
            }
        }
        let defs = self.nullable.then_some(&self.valid[..]);
        self.chunk
            .data_page(z, rows, defs, encoding, &self.out, scratch)?;
        self.values.clear();
        self.valid.clear();
        Ok(())
    }

    fn finish_chunk(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
    ) -> Result<(Bytes, ColumnCloseResult)> {
        let mut dict = Vec::with_capacity(self.dict.len() * std::mem::size_of::<T>());
        for &v in &self.dict {
            v.plain(&mut dict);
        }
        let stats = T::statistics(self.min, self.max, self.chunk.nulls);
        let r = self
            .chunk
            .finish(z, descr, Some((&dict, self.dict.len())), stats);
        self.direct.clear();
        self.map.clear();
        self.dict.clear();
        self.use_dict = true;
        self.min = None;
        self.max = None;
        r
    }
}

// ---------------------------------------------------------------------------------------
// Text (BYTE_ARRAY, UTF8): enums, addresses, names.

fn update_min_max(min: &mut Option<Vec<u8>>, max: &mut Option<Vec<u8>>, v: &[u8]) {
    for (m, replace) in [(min, Ordering::Less), (max, Ordering::Greater)] {
        match m {
            Some(m) if v.cmp(m) == replace => {
                m.clear();
                m.extend_from_slice(v);
            }
            Some(_) => {}
            None => *m = Some(v.to_vec()),
        }
    }
}

/// A key whose integer order is the text order of IPv4 addresses in dotted-quad form.
///
/// Dotted quads compare octet by octet as decimal strings, a shorter string first where one
/// is a prefix of the other ('.' sorts before every digit, and the last octet simply ends),
/// so replacing each octet by the rank of its decimal string among all 256 gives a 32-bit
/// number that orders exactly as the text does.
#[inline]
pub fn v4_text_order(a: u32) -> u32 {
    static RANK: std::sync::LazyLock<[u8; 256]> = std::sync::LazyLock::new(|| {
        let mut rank = [0u8; 256];
        for (o, r) in rank.iter_mut().enumerate() {
            let text = o.to_string();
            *r = (0..256).filter(|p: &usize| p.to_string() < text).count() as u8;
        }
        rank
    });
    let rank = &*RANK;
    let b = a.to_be_bytes();
    u32::from_be_bytes([
        rank[b[0] as usize],
        rank[b[1] as usize],
        rank[b[2] as usize],
        rank[b[3] as usize],
    ])
}

/// Entries kept in the pointer index before it is cleared (pointers of strings that are
/// not `'static` or shared change from row to row).
const PTR_INDEX_LIMIT: usize = 1 << 16;

/// A text column. Values are looked up in the chunk's dictionary as they arrive, by the
/// cheapest key the caller has: a small integer key for enums and addresses, the string's
/// address for shared or static strings (checked against the entry, so a reused address
/// is never trusted), its bytes otherwise.
pub struct StrCol {
    nullable: bool,
    valid: Vec<bool>,
    use_dict: bool,
    indices: Vec<u32>,
    /// Values past the dictionary: their lengths and their bytes, one after the other
    /// (DELTA_LENGTH_BYTE_ARRAY: zstd then sees only the text, which needs no match search).
    plain_lens: Vec<i64>,
    plain_text: Vec<u8>,
    /// The dictionary page as it will be written: PLAIN (length-prefixed) entries.
    dict_page: Vec<u8>,
    /// Where each entry's text is in `dict_page`.
    entries: Vec<(u32, u32)>,
    by_key: HashMap<u64, u32, Seeded>,
    by_ptr: HashMap<(usize, usize), u32, Seeded>,
    /// The last string found by its address, and its entry.
    last_ptr: Option<((usize, usize), u32)>,
    by_text: HashMap<Box<[u8]>, u32, Seeded>,
    min: Option<Vec<u8>>,
    max: Option<Vec<u8>>,
    /// Values pushed with [`StrCol::push_v4`]: the first and last in text order, as
    /// (order key, address); merged into `min`/`max` when the chunk is finished.
    v4_range: Option<((u32, u32), (u32, u32))>,
    chunk: Chunk,
    text: Vec<u8>,
    out: Vec<u8>,
}

impl StrCol {
    pub fn new(nullable: bool) -> Self {
        StrCol {
            nullable,
            valid: Vec::new(),
            use_dict: true,
            indices: Vec::new(),
            plain_lens: Vec::new(),
            plain_text: Vec::new(),
            dict_page: Vec::new(),
            entries: Vec::new(),
            by_key: HashMap::with_hasher(Seeded::default()),
            by_ptr: HashMap::with_hasher(Seeded::default()),
            last_ptr: None,
            by_text: HashMap::with_hasher(Seeded::default()),
            min: None,
            max: None,
            v4_range: None,
            chunk: Chunk::default(),
            text: Vec::new(),
            out: Vec::new(),
        }
    }

    fn entry(&self, i: u32) -> &[u8] {
        let (start, len) = self.entries[i as usize];
        &self.dict_page[start as usize..(start + len) as usize]
    }

    #[inline]
    pub fn push_null(&mut self) {
        self.valid.push(false);
    }

    #[inline]
    fn mark_valid(&mut self) {
        if self.nullable {
            self.valid.push(true);
        }
    }

    /// Adds a new dictionary entry (the text is in `self.text`) and returns its index; or
    /// switches the column to PLAIN when the dictionary is full and returns `None`.
    /// `by_text` says whether the entry is to be found by its bytes later.
    fn insert_text(&mut self, by_text: bool) -> Option<u32> {
        if self.dict_page.len() + self.text.len() + 4 > DICT_BYTES {
            self.fall_back_to_plain();
            return None;
        }
        let i = self.entries.len() as u32;
        self.dict_page
            .extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        self.entries
            .push((self.dict_page.len() as u32, self.text.len() as u32));
        self.dict_page.extend_from_slice(&self.text);
        if by_text {
            self.by_text.insert(self.text.clone().into_boxed_slice(), i);
        }
        Some(i)
    }

    /// From here to the end of the chunk values are written whole, not as dictionary
    /// indices; this page's indices become text.
    fn fall_back_to_plain(&mut self) {
        self.use_dict = false;
        for &i in &self.indices {
            let (start, len) = self.entries[i as usize];
            let (start, len) = (start as usize, len as usize);
            self.plain_lens.push(len as i64);
            self.plain_text
                .extend_from_slice(&self.dict_page[start..start + len]);
        }
        self.indices.clear();
    }

    /// Appends the text in `self.text` as a value outside the dictionary (statistics are
    /// the caller's).
    fn push_plain_text(&mut self) {
        self.plain_lens.push(self.text.len() as i64);
        self.plain_text.extend_from_slice(&self.text);
    }

    /// Looks `self.text` up by its bytes, inserting it when new; pushes the value.
    fn push_by_text(&mut self) -> Option<u32> {
        if let Some(&i) = self.by_text.get(&self.text[..]) {
            self.indices.push(i);
            return Some(i);
        }
        self.push_new_text(true)
    }

    /// Pushes `self.text` as a new dictionary entry, or as PLAIN once the dictionary is full.
    fn push_new_text(&mut self, by_text: bool) -> Option<u32> {
        update_min_max(&mut self.min, &mut self.max, &self.text);
        self.push_new_text_unnoted(by_text)
    }

    /// [`Self::push_new_text`] for a value whose statistics are already noted.
    fn push_new_text_unnoted(&mut self, by_text: bool) -> Option<u32> {
        match self.insert_text(by_text) {
            Some(i) => {
                self.indices.push(i);
                Some(i)
            }
            None => {
                self.push_plain_text();
                None
            }
        }
    }

    /// A value with a cheap identifying key (the same key must always mean the same text,
    /// and a column takes keyed values only); `text` writes the value and is called only
    /// for new keys (or in PLAIN mode).
    #[inline]
    pub fn push_keyed(&mut self, key: u64, text: impl FnOnce(&mut Vec<u8>)) {
        self.mark_valid();
        if self.use_dict
            && let Some(&i) = self.by_key.get(&key)
        {
            self.indices.push(i);
            return;
        }
        self.text.clear();
        text(&mut self.text);
        if !self.use_dict {
            update_min_max(&mut self.min, &mut self.max, &self.text);
            self.push_plain_text();
            return;
        }
        if let Some(i) = self.push_new_text(false) {
            self.by_key.insert(key, i);
        }
    }

    /// An IPv4 address, written as dotted-quad text. Its statistics are kept as the
    /// address whose text sorts first and last, compared through [`v4_text_order`]
    /// instead of comparing text for every new value.
    #[inline]
    pub fn push_v4(&mut self, a: u32) {
        self.mark_valid();
        // A dictionary hit was noted in the statistics when it was first pushed.
        if self.use_dict
            && let Some(&i) = self.by_key.get(&u64::from(a))
        {
            self.indices.push(i);
            return;
        }
        let order = v4_text_order(a);
        match &mut self.v4_range {
            Some((lo, hi)) => {
                if order < lo.0 {
                    *lo = (order, a);
                }
                if order > hi.0 {
                    *hi = (order, a);
                }
            }
            None => self.v4_range = Some(((order, a), (order, a))),
        }
        let mut text = [0u8; 16];
        let n = ipv4_text(std::net::Ipv4Addr::from(a), &mut text);
        if !self.use_dict {
            // Past the dictionary (most addresses of a spoofed flood): straight to the page.
            self.plain_lens.push(n as i64);
            self.plain_text.extend_from_slice(&text[..n]);
            return;
        }
        self.text.clear();
        self.text.extend_from_slice(&text[..n]);
        if let Some(i) = self.push_new_text_unnoted(false) {
            self.by_key.insert(u64::from(a), i);
        }
    }

    /// A string value; strings that live at a stable address (static, or shared through an
    /// `Arc`) are found without hashing their bytes.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.mark_valid();
        let ptr = (s.as_ptr() as usize, s.len());
        if self.use_dict {
            // The same string as the row before (a file's name and format, the sensor's
            // group: every row) is found without hashing.
            let known = match self.last_ptr {
                Some((last, i)) if last == ptr => Some(i),
                _ => self.by_ptr.get(&ptr).copied(),
            };
            if let Some(i) = known
                && self.entry(i) == s.as_bytes()
            {
                self.last_ptr = Some((ptr, i));
                self.indices.push(i);
                return;
            }
        }
        self.text.clear();
        self.text.extend_from_slice(s.as_bytes());
        if !self.use_dict {
            update_min_max(&mut self.min, &mut self.max, &self.text);
            self.push_plain_text();
            return;
        }
        if let Some(i) = self.push_by_text() {
            if self.by_ptr.len() >= PTR_INDEX_LIMIT {
                self.by_ptr.clear();
            }
            self.by_ptr.insert(ptr, i);
            self.last_ptr = Some((ptr, i));
        }
    }

    /// A string found by its bytes only (one made for this row, e.g. an IPv6 address).
    pub fn push_text(&mut self, s: &str) {
        self.mark_valid();
        self.text.clear();
        self.text.extend_from_slice(s.as_bytes());
        if self.use_dict {
            self.push_by_text();
        } else {
            update_min_max(&mut self.min, &mut self.max, &self.text);
            self.push_plain_text();
        }
    }

    #[inline]
    pub fn push_opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.push_str(s),
            None => self.push_null(),
        }
    }
}

impl Column for StrCol {
    fn flush_page(&mut self, z: &mut Zstd, scratch: &mut Vec<u8>) -> Result<()> {
        let present = self.indices.len() + self.plain_lens.len();
        let rows = if self.nullable {
            self.valid.len()
        } else {
            present
        };
        if rows == 0 {
            return Ok(());
        }
        self.chunk.nulls += (rows - present) as u64;
        self.out.clear();
        // Lengths and bytes once the column fell back (`fall_back_to_plain` converted the
        // page), PLAIN (no values) for a page of nulls only, dictionary indices otherwise.
        let encoding = if !self.plain_lens.is_empty() {
            delta_binary_packed(&self.plain_lens, &mut self.out);
            self.out.extend_from_slice(&self.plain_text);
            Encoding::DELTA_LENGTH_BYTE_ARRAY
        } else if self.indices.is_empty() {
            Encoding::PLAIN
        } else {
            let width = bit_width(self.entries.len().saturating_sub(1) as u64);
            self.out.push(width);
            rle_hybrid(&self.indices, width, &mut self.out);
            Encoding::RLE_DICTIONARY
        };
        let defs = self.nullable.then_some(&self.valid[..]);
        self.chunk
            .data_page(z, rows, defs, encoding, &self.out, scratch)?;
        self.valid.clear();
        self.indices.clear();
        self.plain_lens.clear();
        self.plain_text.clear();
        Ok(())
    }

    fn finish_chunk(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
    ) -> Result<(Bytes, ColumnCloseResult)> {
        if let Some(((_, lo), (_, hi))) = self.v4_range.take() {
            for a in [lo, hi] {
                let mut text = [0u8; 16];
                let n = ipv4_text(std::net::Ipv4Addr::from(a), &mut text);
                update_min_max(&mut self.min, &mut self.max, &text[..n]);
            }
        }
        let stat = |v: &Option<Vec<u8>>| {
            v.as_ref()
                .filter(|v| v.len() <= MAX_STAT_LEN)
                .map(|v| ByteArray::from(v.clone()))
        };
        let (min, max) = match (stat(&self.min), stat(&self.max)) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => (None, None),
        };
        let stats = Statistics::byte_array(min, max, None, Some(self.chunk.nulls), false);
        let r = self
            .chunk
            .finish(z, descr, Some((&self.dict_page, self.entries.len())), stats);
        self.use_dict = true;
        self.dict_page.clear();
        self.entries.clear();
        self.by_key.clear();
        self.by_ptr.clear();
        self.last_ptr = None;
        self.by_text.clear();
        self.min = None;
        self.max = None;
        r
    }
}

// ---------------------------------------------------------------------------------------
// Timestamps and booleans.

/// The required, rising `ts` column: DELTA_BINARY_PACKED.
#[derive(Default)]
pub struct TsCol {
    values: Vec<i64>,
    min: Option<i64>,
    max: Option<i64>,
    chunk: Chunk,
    out: Vec<u8>,
}

impl TsCol {
    #[inline]
    pub fn push(&mut self, v: i64) {
        self.values.push(v);
    }
}

impl Column for TsCol {
    fn flush_page(&mut self, z: &mut Zstd, scratch: &mut Vec<u8>) -> Result<()> {
        if self.values.is_empty() {
            return Ok(());
        }
        let (lo, hi) = self
            .values
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        self.min = Some(self.min.map_or(lo, |m| m.min(lo)));
        self.max = Some(self.max.map_or(hi, |m| m.max(hi)));
        self.out.clear();
        delta_binary_packed(&self.values, &mut self.out);
        let rows = self.values.len();
        self.chunk.data_page(
            z,
            rows,
            None,
            Encoding::DELTA_BINARY_PACKED,
            &self.out,
            scratch,
        )?;
        self.values.clear();
        Ok(())
    }

    fn finish_chunk(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
    ) -> Result<(Bytes, ColumnCloseResult)> {
        let stats = Statistics::int64(self.min, self.max, None, Some(0), false);
        self.min = None;
        self.max = None;
        self.chunk.finish(z, descr, None, stats)
    }
}

/// A nullable boolean column: PLAIN (one bit per value).
#[derive(Default)]
pub struct BoolCol {
    values: Vec<bool>,
    valid: Vec<bool>,
    seen: [bool; 2],
    chunk: Chunk,
    out: Vec<u8>,
}

impl BoolCol {
    #[inline]
    pub fn push(&mut self, v: Option<bool>) {
        self.valid.push(v.is_some());
        if let Some(v) = v {
            self.values.push(v);
        }
    }
}

impl Column for BoolCol {
    fn flush_page(&mut self, z: &mut Zstd, scratch: &mut Vec<u8>) -> Result<()> {
        let rows = self.valid.len();
        if rows == 0 {
            return Ok(());
        }
        self.chunk.nulls += (rows - self.values.len()) as u64;
        for &v in &self.values {
            self.seen[v as usize] = true;
        }
        self.out.clear();
        for bits in self.values.chunks(8) {
            let mut b = 0u8;
            for (i, &v) in bits.iter().enumerate() {
                b |= (v as u8) << i;
            }
            self.out.push(b);
        }
        self.chunk.data_page(
            z,
            rows,
            Some(&self.valid),
            Encoding::PLAIN,
            &self.out,
            scratch,
        )?;
        self.values.clear();
        self.valid.clear();
        Ok(())
    }

    fn finish_chunk(
        &mut self,
        z: &mut Zstd,
        descr: &ColumnDescPtr,
    ) -> Result<(Bytes, ColumnCloseResult)> {
        let (min, max) = match self.seen {
            [false, false] => (None, None),
            [has_false, has_true] => (Some(!has_false), Some(has_true)),
        };
        let stats = Statistics::boolean(min, max, None, Some(self.chunk.nulls), false);
        self.seen = [false; 2];
        self.chunk.finish(z, descr, None, stats)
    }
}

/// Copies a finished chunk into the row group.
pub fn append_chunk<W: Write + Send>(
    rg: &mut parquet::file::writer::SerializedRowGroupWriter<'_, W>,
    chunk: (Bytes, ColumnCloseResult),
) -> Result<()> {
    rg.append_column(&chunk.0, chunk.1)
}

#[cfg(test)]
mod tests {
    use super::v4_text_order;
    use crate::event::ipv4_text;

    fn text(a: u32) -> String {
        let mut t = [0u8; 16];
        let n = ipv4_text(std::net::Ipv4Addr::from(a), &mut t);
        String::from_utf8(t[..n].to_vec()).unwrap()
    }

    /// The order key sorts addresses exactly as their text sorts, over pairs chosen to
    /// share prefixes ("1.2.3.4" / "1.23.4.5" / "10.0.0.0" / "9.255.255.255") and random.
    #[test]
    fn v4_text_order_is_text_order() {
        let mut x = 0x9e37_79b9_u32;
        let mut addrs: Vec<u32> = Vec::new();
        for o in [
            0u32, 1, 2, 9, 10, 19, 20, 25, 99, 100, 199, 200, 249, 250, 255,
        ] {
            for p in [0u32, 1, 2, 10, 23, 100, 255] {
                addrs.push((o << 24) | (p << 16) | ((o ^ p) << 8) | p);
            }
        }
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            addrs.push(x);
        }
        for w in addrs
            .windows(2)
            .chain(addrs.chunks(2).filter(|c| c.len() == 2))
        {
            let (a, b) = (w[0], w[1]);
            assert_eq!(
                v4_text_order(a).cmp(&v4_text_order(b)),
                text(a).cmp(&text(b)),
                "{} vs {}",
                text(a),
                text(b)
            );
        }
        let mut sorted = addrs.clone();
        sorted.sort_by_key(|&a| v4_text_order(a));
        let mut by_text = addrs;
        by_text.sort_by_key(|&a| text(a));
        assert_eq!(sorted, by_text);
    }
}
