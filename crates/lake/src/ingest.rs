//! `ingest`: captures and logs → classified, attributed rows → staged Parquet → one commit
//! per input.
//!
//! Every core decodes, classifies and encodes: each worker owns its Parquet writers (one per
//! date it has seen), so encoding and compression run in parallel and no row is copied
//! between threads.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::Path;
use std::sync::Arc;

use noisefloor_capture::pipeline::{self, Progress};
use noisefloor_capture::{Format, Input, open_input, open_stream};
use noisefloor_classify::{Context, classify};
use noisefloor_enrich::{Cache, Enricher};
use noisefloor_logs::{LogOptions, LogStats};
use noisefloor_wire::quick::quick;
use noisefloor_wire::{Dissection, Observation, Options, dissect_into};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::LakeError;
use crate::event::RowContext;
use crate::event_writer::EventWriter;
use crate::rollup::{RollupBuilder, rollup_schema};
use crate::store::{Lake, ManifestEntry, Staging, StreamPrefix};

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 1 << 20;
/// zstd level of `ingest`'s pages when none is asked for (and of `compact`'s).
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;
/// Dates a worker keeps open at once; beyond it the least recently used file is closed (a
/// year of logs must not hold 365 row groups in memory).
const OPEN_DATES: usize = 8;

/// How to ingest.
pub struct IngestOptions {
    pub sensor: String,
    pub group: Option<String>,
    pub ctx: Context,
    pub log: LogOptions,
    /// Ingest even if the same bytes are already in the lake, replacing their rows.
    pub replace: bool,
    /// zstd level for the Parquet pages.
    pub zstd_level: i32,
}

/// What happened to one input.
#[derive(Debug)]
pub enum Outcome {
    /// Rows were committed.
    Added(ManifestEntry),
    /// The same bytes were already in the lake for this sensor: nothing was added.
    AlreadyIngested(ManifestEntry),
    /// The input could not be read at all; nothing was added and a rerun will retry it.
    Failed(String),
}

pub(crate) struct PartWriter {
    date: i64,
    rel: String,
    staged: std::path::PathBuf,
    writer: EventWriter<BufWriter<File>>,
    rows: u64,
    last_used: u64,
    rollup: RollupBuilder,
    rollup_rel: String,
    rollup_staged: std::path::PathBuf,
    sensor_group: Option<Arc<str>>,
}

/// A written events file and its rollup file (names relative to the lake root).
pub(crate) struct ClosedPart {
    pub(crate) file: String,
    pub(crate) rows: u64,
    pub(crate) rollup: String,
}

pub(crate) struct Worker<'e> {
    open: Vec<PartWriter>,
    done: Vec<ClosedPart>,
    sensor_group: Option<Arc<str>>,
    cache: Cache<'e>,
    stats: LogStats,
    formats: Vec<&'static str>,
    pub(crate) rows: u64,
    untimed: u64,
    /// A log's unterminated last line, not stored until it ends.
    held_back: u64,
    pub(crate) first_ts: Option<i64>,
    pub(crate) last_ts: Option<i64>,
    tick: u64,
    next_part: u32,
    worker_id: u32,
    error: Option<LakeError>,
}

fn date_string(days: i64) -> String {
    let (y, m, d) = noisefloor_logs::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

impl<'e> Worker<'e> {
    pub(crate) fn new(
        enricher: &'e Enricher,
        worker_id: u32,
        sensor_group: Option<Arc<str>>,
    ) -> Self {
        Worker {
            open: Vec::new(),
            done: Vec::new(),
            sensor_group,
            cache: Cache::new(enricher),
            stats: LogStats::default(),
            formats: Vec::new(),
            rows: 0,
            untimed: 0,
            held_back: 0,
            first_ts: None,
            last_ts: None,
            tick: 0,
            next_part: 0,
            worker_id,
            error: None,
        }
    }

    /// Closes every open file: each events file written, with its rollup.
    pub(crate) fn close_all(&mut self) -> Result<Vec<ClosedPart>, LakeError> {
        let mut files = std::mem::take(&mut self.done);
        let mut first_error = None;
        for pw in self.open.drain(..) {
            match close(pw) {
                Ok(fr) => files.push(fr),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(files),
        }
    }

    fn writer_for(
        &mut self,
        date: i64,
        staging: &Staging,
        props: &WriterProperties,
    ) -> Result<usize, LakeError> {
        self.tick += 1;
        if let Some(i) = self.open.iter().position(|w| w.date == date) {
            self.open[i].last_used = self.tick;
            return Ok(i);
        }
        if self.open.len() >= OPEN_DATES
            && let Some(i) = self
                .open
                .iter()
                .enumerate()
                .min_by_key(|(_, w)| w.last_used)
                .map(|(i, _)| i)
        {
            let w = self.open.swap_remove(i);
            self.done.push(close(w)?);
        }
        // Parts are numbered per worker so names never collide across threads.
        let n = self.worker_id * 100_000 + self.next_part;
        self.next_part += 1;
        let (rel, staged) = staging.part(&date_string(date), n);
        let (rollup_rel, rollup_staged) = staging.rollup_part(&date_string(date), n);
        for dir in [staged.parent(), rollup_staged.parent()]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(dir).map_err(|source| LakeError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let file = File::create(&staged).map_err(|source| LakeError::Io {
            path: staged.clone(),
            source,
        })?;
        let writer = EventWriter::try_new(BufWriter::with_capacity(1 << 20, file), props)
            .map_err(LakeError::Parquet)?;
        self.open.push(PartWriter {
            date,
            rel,
            staged,
            writer,
            rows: 0,
            last_used: self.tick,
            rollup: RollupBuilder::new(),
            rollup_rel,
            rollup_staged,
            sensor_group: self.sensor_group.clone(),
        });
        Ok(self.open.len() - 1)
    }
}

pub(crate) fn close(mut w: PartWriter) -> Result<ClosedPart, LakeError> {
    let buf = w.writer.finish().map_err(LakeError::Parquet)?;
    sync_file(buf, &w.staged)?;
    if w.rows > 0 {
        let file = File::create(&w.rollup_staged).map_err(|source| LakeError::Io {
            path: w.rollup_staged.clone(),
            source,
        })?;
        let mut writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            rollup_schema(),
            Some(rollup_properties()),
        )
        .map_err(LakeError::Parquet)?;
        writer
            .write(&w.rollup.finish(w.sensor_group.as_deref()))
            .map_err(LakeError::Parquet)?;
        sync_file(
            writer.into_inner().map_err(LakeError::Parquet)?,
            &w.rollup_staged,
        )?;
    }
    Ok(ClosedPart {
        file: w.rel,
        rows: w.rows,
        rollup: w.rollup_rel,
    })
}

fn sync_file(buf: BufWriter<File>, path: &std::path::Path) -> Result<(), LakeError> {
    let file = buf.into_inner().map_err(|e| LakeError::Io {
        path: path.to_owned(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(|source| LakeError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Rollup files: small except for the source sets, which are already compact (Roaring)
/// and would only bloat a dictionary or min/max statistics.
pub(crate) fn rollup_properties() -> WriterProperties {
    use crate::rollup::col;
    let sets = [col::SRC_V4, col::SRC_V6].map(parquet::schema::types::ColumnPath::from);
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("noisefloor {}", env!("CARGO_PKG_VERSION")));
    for c in sets {
        b = b
            .set_column_dictionary_enabled(c.clone(), false)
            .set_column_statistics_enabled(c, EnabledStatistics::None);
    }
    b.build()
}

/// The events files' Parquet settings (zstd at `zstd_level`, chunk statistics, the sensor
/// in the footer); public so the row benchmark writes exactly what `ingest` writes.
pub fn writer_properties(zstd_level: i32, sensor: &str) -> WriterProperties {
    let level = ZstdLevel::try_new(zstd_level).unwrap_or_default();
    // Timestamps are nearly all distinct and rise within a file: a dictionary only fills
    // up and falls back (interning every value on the way), where deltas stay a few bits.
    let ts = parquet::schema::types::ColumnPath::from(crate::schema::col::TS);
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_column_dictionary_enabled(ts.clone(), false)
        .set_column_encoding(ts, parquet::basic::Encoding::DELTA_BINARY_PACKED)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_created_by(format!("noisefloor {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "noisefloor.sensor".into(),
            sensor.to_owned(),
        )]))
        .build()
}

/// BLAKE3 of a file's bytes, and its size.
///
/// One thread reads while the other hashes (the previous buffer, on every core with
/// `update_rayon`), so the kernel's copy and the hashing overlap instead of alternating.
pub fn hash_file(path: &Path) -> Result<(String, u64), LakeError> {
    const BUF: usize = 4 << 20;
    let mut f = File::open(path).map_err(|source| LakeError::Io {
        path: path.to_owned(),
        source,
    })?;
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(2);
    let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(3);
    for _ in 0..3 {
        let _ = empty_tx.send(vec![0u8; BUF]);
    }
    std::thread::scope(|s| {
        let reader = s.spawn(move || -> io::Result<u64> {
            let mut size = 0u64;
            while let Ok(mut buf) = empty_rx.recv() {
                // Fill the buffer (short reads happen on pipes and some filesystems).
                let mut n = 0;
                while n < buf.len() {
                    match f.read(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
                size += n as u64;
                let eof = n < buf.len();
                if n > 0 && full_tx.send((buf, n)).is_err() {
                    break;
                }
                if eof {
                    break;
                }
            }
            Ok(size)
        });
        let mut h = blake3::Hasher::new();
        for (buf, n) in full_rx {
            h.update_rayon(&buf[..n]);
            let _ = empty_tx.send(buf);
        }
        let size = reader
            .join()
            .expect("the hashing reader panicked")
            .map_err(|source| LakeError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok((h.finalize().to_hex().to_string(), size))
    })
}

/// One read of an input's stream (after gzip or zstd): its length, BLAKE3 and lines, the
/// same up to its last newline (a log's whole lines), and the BLAKE3 of its first `len`
/// bytes for each `len` in `at` (sorted ascending). A stream that ends in an error (a
/// compressed file still being written) gives what was read before it.
struct StreamScan {
    len: u64,
    hash: String,
    /// Up to and including the last newline: length, BLAKE3 and lines.
    line_end: u64,
    line_end_hash: String,
    lines: u64,
    /// Per asked-for length: the BLAKE3 and the newlines before it.
    prefixes: Vec<(u64, String, u64)>,
    /// The stream was read to its end without an error.
    complete: bool,
}

fn scan_stream(path: &str, at: &[u64]) -> Option<StreamScan> {
    let (_, mut s) = open_stream(path).ok()?;
    let mut h = blake3::Hasher::new();
    let mut scan = StreamScan {
        len: 0,
        hash: String::new(),
        line_end: 0,
        line_end_hash: h.finalize().to_hex().to_string(),
        lines: 0,
        prefixes: Vec::new(),
        complete: true,
    };
    let mut next = 0;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                scan.complete = false;
                break;
            }
        };
        let chunk = &buf[..n];
        let pos = scan.len;
        // Where to stop and take a hash inside this chunk: asked-for lengths, and the end
        // of its last line.
        let newline = memchr::memrchr(b'\n', chunk).map(|i| pos + i as u64 + 1);
        let mut cuts: Vec<u64> = Vec::new();
        while next < at.len() && at[next] <= pos + n as u64 {
            cuts.push(at[next]);
            next += 1;
        }
        cuts.extend(newline);
        cuts.sort_unstable();
        cuts.dedup();
        let mut done = pos;
        for cut in cuts {
            let part = &chunk[(done - pos) as usize..(cut - pos) as usize];
            h.update(part);
            scan.lines += memchr::memchr_iter(b'\n', part).count() as u64;
            done = cut;
            let hash = h.finalize().to_hex().to_string();
            if at.binary_search(&cut).is_ok() {
                scan.prefixes.push((cut, hash.clone(), scan.lines));
            }
            if Some(cut) == newline {
                scan.line_end = cut;
                scan.line_end_hash = hash;
            }
        }
        let rest = &chunk[(done - pos) as usize..];
        h.update(rest);
        scan.lines += memchr::memchr_iter(b'\n', rest).count() as u64;
        scan.len += n as u64;
    }
    scan.hash = h.finalize().to_hex().to_string();
    Some(scan)
}

/// The entry of `sensor` (other than the input's own, `own_hash`) whose stream `path`'s
/// stream starts with, the longest if several do, and the scan that found it.
fn known_prefix(
    lake: &Lake,
    sensor: &str,
    path: &str,
    own_hash: &str,
) -> (Option<ManifestEntry>, Option<StreamScan>) {
    let mut known: Vec<ManifestEntry> = crate::store::manifest(lake.root())
        .into_iter()
        .filter(|e| {
            e.sensor == sensor
                && e.content_hash != own_hash
                && e.stream.as_ref().is_some_and(|s| s.len > 0)
        })
        .collect();
    let mut at: Vec<u64> = known
        .iter()
        .filter_map(|e| e.stream.as_ref().map(|s| s.len))
        .collect();
    at.sort_unstable();
    at.dedup();
    let Some(scan) = scan_stream(path, &at) else {
        return (None, None);
    };
    // Longest first; ties by input name, so the answer does not depend on directory order.
    let len = |e: &ManifestEntry| e.stream.as_ref().map_or(0, |s| s.len);
    known.sort_by(|a, b| len(b).cmp(&len(a)).then_with(|| a.input.cmp(&b.input)));
    let found = known.into_iter().find(|e| {
        e.stream.as_ref().is_some_and(|s| {
            scan.prefixes
                .iter()
                .any(|(len, hash, _)| *len == s.len && *hash == s.hash)
        })
    });
    (found, Some(scan))
}

/// Ingests one input (`-` for stdin) into `lake`.
pub fn ingest_one(
    lake: &Lake,
    input: &str,
    opts: &IngestOptions,
    enricher: &Enricher,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Outcome, LakeError> {
    // stdin cannot be hashed before it is read, so it is spooled into the lake first.
    let spool;
    let path: &str = if input == "-" {
        spool = lake.spool_path()?;
        let mut f = File::create(&spool).map_err(|source| LakeError::Io {
            path: spool.clone(),
            source,
        })?;
        io::copy(&mut io::stdin().lock(), &mut f).map_err(|source| LakeError::Io {
            path: spool.clone(),
            source,
        })?;
        spool.to_str().unwrap_or("-")
    } else {
        input
    };
    let mut result = ingest_path(lake, input, path, opts, enricher, progress);
    if input == "-" {
        let _ = std::fs::remove_file(path);
        // Messages name the input as the user gave it, not the spool file.
        if let Ok(Outcome::Failed(m)) = &mut result {
            *m = m.replace(path, "<stdin>");
        }
    }
    result
}

fn ingest_path(
    lake: &Lake,
    input: &str,
    path: &str,
    opts: &IngestOptions,
    enricher: &Enricher,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Outcome, LakeError> {
    let (hash, size) = match hash_file(Path::new(path)) {
        Ok(h) => h,
        Err(e) => return Ok(Outcome::Failed(e.to_string())),
    };
    if size == 0 {
        return Ok(Outcome::Failed(format!(
            "{input}: empty file, nothing to ingest yet (a log just emptied by copytruncate?); not recorded"
        )));
    }
    let previous = lake.entry(&opts.sensor, &hash);
    if let Some(prev) = &previous
        && !opts.replace
    {
        return Ok(Outcome::AlreadyIngested(prev.clone()));
    }
    // A grown file or a rotated, compressed copy: its stream starts with one already in the
    // lake, and only what follows is new. `--replace` replaces this input's own entry only,
    // so a continuation still skips what the entry it continues holds.
    let (continues, scan) = known_prefix(lake, &opts.sensor, path, &hash);
    let (skip_bytes, skip_lines) = continues
        .as_ref()
        .and_then(|e| e.stream.as_ref())
        .map_or((0, 0), |s| (s.len, s.lines));
    // Sniff once for the kind and format the manifest records.
    let (kind, capture_format) = match open_input(path) {
        Ok(Input::Capture(r)) => (
            "capture",
            match r.format() {
                Format::Pcapng => "pcapng",
                Format::Pcap { .. } => "pcap",
            },
        ),
        Ok(Input::Log(_)) => ("log", ""),
        Err(e) => return Ok(Outcome::Failed(e.to_string())),
    };
    // Nothing after what the lake holds (a log's unterminated last line waits for its end).
    if let (Some(e), Some(scan)) = (&continues, &scan) {
        let whole = if kind == "log" {
            scan.line_end
        } else {
            scan.len
        };
        if scan.complete && skip_bytes >= whole {
            return Ok(Outcome::AlreadyIngested(e.clone()));
        }
    }
    let staging = lake.stage(&opts.sensor, &hash)?;
    let props = writer_properties(opts.zstd_level, &opts.sensor);
    let row_ctx = RowContext {
        sensor_group: opts.group.as_deref().map(Arc::from),
        input: Arc::from(input),
    };
    let decode = Options::default();
    let next_worker = std::sync::atomic::AtomicU32::new(0);
    let files = [path.to_owned()];
    let (workers, report) = pipeline::fold_parallel(
        &files,
        || {
            Worker::new(
                enricher,
                next_worker.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                row_ctx.sensor_group.clone(),
            )
        },
        |w, batch| {
            if w.error.is_some() {
                return;
            }
            let r = if let Some(chunk) = &batch.lines {
                let mut err = None;
                let mut stats = std::mem::take(&mut w.stats);
                // An unterminated last line may still be being written: it waits for its
                // newline (the next ingest adds it), so it is never stored cut short.
                let buf = match memchr::memrchr(b'\n', &batch.buf) {
                    Some(i) if i + 1 < batch.buf.len() => {
                        w.held_back += 1;
                        &batch.buf[..=i]
                    }
                    None if !batch.buf.is_empty() => {
                        w.held_back += 1;
                        &batch.buf[..0]
                    }
                    _ => &batch.buf[..],
                };
                let log = &opts.log;
                noisefloor_logs::for_each_line_after(
                    chunk,
                    buf,
                    log,
                    &mut stats,
                    skip_lines,
                    |o, fmt| {
                        if err.is_some() {
                            return;
                        }
                        let Some(ts) = o.ts_ns else {
                            w.untimed += 1;
                            return;
                        };
                        if !w.formats.contains(&fmt.name()) {
                            w.formats.push(fmt.name());
                        }
                        let v = classify(o, &opts.ctx);
                        if let Err(e) =
                            push_row(w, ts, o, &v, &row_ctx, fmt.name(), &staging, &props)
                        {
                            err = Some(e);
                        }
                    },
                );
                w.stats = stats;
                err.map_or(Ok(()), Err)
            } else {
                let mut r = Ok(());
                let mut d = Dissection::empty();
                // The fast path refills one record in place (see `refill_quick`).
                let mut fast = Observation::new();
                for rec in batch.records.iter().filter(|r| r.offset >= skip_bytes) {
                    let data = batch.data(rec);
                    let slow;
                    // Most packets take the fast path: the same verdict and fields.
                    let o = match quick(&decode, rec.linktype, data) {
                        Some(q) => {
                            fast.refill_quick(rec.ts_ns, rec.origlen, &q);
                            &fast
                        }
                        None => {
                            dissect_into(&mut d, &decode, rec.linktype, data);
                            slow = Observation::from_dissection(rec.ts_ns, rec.origlen, &d);
                            &slow
                        }
                    };
                    let v = classify(o, &opts.ctx);
                    r = push_row(
                        w,
                        rec.ts_ns,
                        o,
                        &v,
                        &row_ctx,
                        capture_format,
                        &staging,
                        &props,
                    );
                    if r.is_err() {
                        break;
                    }
                }
                r
            };
            if let Err(e) = r {
                w.error = Some(e);
            }
        },
        progress,
    );
    // Close every file; the first write error aborts the input (nothing is committed).
    let mut parts: Vec<ClosedPart> = Vec::new();
    let mut stats = report.logs;
    let mut entry = ManifestEntry {
        sensor: opts.sensor.clone(),
        input: input.to_owned(),
        content_hash: hash.clone(),
        size,
        kind: kind.into(),
        noisefloor_version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    let mut formats: Vec<&str> = Vec::new();
    let mut first_error = None;
    // Each worker's last row groups and rollups are encoded on its own thread: closed one
    // after another they left a core idle for the last second of a large input.
    let closed: Vec<(Worker, Result<Vec<ClosedPart>, LakeError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut w| {
                s.spawn(move || {
                    let r = w.close_all();
                    (w, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("closing a worker's files panicked"))
            .collect()
    });
    for (mut w, closed) in closed {
        if let Some(e) = w.error.take() {
            first_error.get_or_insert(e);
        }
        match closed {
            Ok(mut fr) => parts.append(&mut fr),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        stats.merge(&w.stats);
        entry.rows += w.rows;
        entry.untimed += w.untimed;
        entry.held_back += w.held_back;
        entry.first_ts_us = min_opt(entry.first_ts_us, w.first_ts);
        entry.last_ts_us = max_opt(entry.last_ts_us, w.last_ts);
        for f in w.formats {
            if !formats.contains(&f) {
                formats.push(f);
            }
        }
    }
    if let Some(e) = first_error {
        staging.discard();
        return Err(e);
    }
    if report.files == 0 {
        staging.discard();
        return Ok(Outcome::Failed(
            report
                .errors
                .first()
                .cloned()
                .unwrap_or_else(|| format!("{input}: could not be opened")),
        ));
    }
    formats.sort_unstable();
    entry.format = if kind == "capture" {
        capture_format.into()
    } else {
        formats.join(",")
    };
    if kind == "log" {
        entry.read = stats.lines;
        entry.records = stats.records;
        entry.rejected = stats.rejected_total();
        entry.errors = stats
            .examples
            .iter()
            .take(20)
            .map(|r| r.to_string())
            .collect();
    } else {
        entry.read = entry.rows;
        entry.records = entry.rows;
    }
    entry.rejected += report.errors.len() as u64;
    entry.errors.extend(report.errors.iter().cloned());
    // A capture with no packet yet (only its file header: a capture just started) is not
    // recorded either, as an empty log is not: the next ingest takes it whole.
    if entry.kind == "capture" && skip_bytes == 0 && entry.read == 0 && entry.rejected == 0 {
        staging.discard();
        return Ok(Outcome::Failed(format!(
            "{input}: no packet in it yet (only the capture's file header: a capture just started?); not recorded, so the next ingest takes it"
        )));
    }
    // Nothing could be read: not recorded, so a rerun (with the right format, say) retries.
    if entry.rows == 0 && entry.untimed == 0 && entry.rejected > 0 {
        staging.discard();
        let first = entry
            .errors
            .first()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default();
        return Ok(Outcome::Failed(format!(
            "{input}: nothing could be read: {} line(s) or error(s) rejected{first}; not recorded, so the next ingest retries it",
            entry.rejected
        )));
    }
    // What a later, longer copy of this input will start with: up to its last whole record
    // (captures) or line (logs), even when the stream ended in an error (a compressed file
    // still being written).
    let end = report.ends.first().copied();
    entry.stream_from = skip_bytes;
    entry.stream = match (&scan, end) {
        (Some(s), _) if kind == "log" && (report.errors.is_empty() || end == Some(s.line_end)) => {
            Some(StreamPrefix {
                len: s.line_end,
                lines: s.lines,
                hash: s.line_end_hash.clone(),
            })
        }
        (Some(s), Some(end)) if kind == "capture" && s.complete && end == s.len => {
            Some(StreamPrefix {
                len: s.len,
                lines: 0,
                hash: s.hash.clone(),
            })
        }
        // Cut short (a capture's last record, or a compressed stream that ends in an error):
        // the prefix ends where the reader's last whole record or line did.
        (Some(_), Some(end)) if end > 0 => scan_stream(path, &[end]).and_then(|s| {
            s.prefixes
                .into_iter()
                .next()
                .map(|(len, hash, lines)| StreamPrefix {
                    len,
                    lines: if kind == "log" { lines } else { 0 },
                    hash,
                })
        }),
        _ => None,
    };
    (entry.files, entry.rollups) = file_lists(parts);
    entry.ingested_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| String::new(), |t| t.to_string());
    lake.commit(staging, entry.clone(), previous.as_ref())?;
    Ok(Outcome::Added(entry))
}

/// The events files and rollup files of the parts that hold rows, each list sorted.
pub(crate) fn file_lists(parts: Vec<ClosedPart>) -> (Vec<String>, Vec<String>) {
    let (mut files, mut rollups): (Vec<String>, Vec<String>) = parts
        .into_iter()
        .filter(|p| p.rows > 0)
        .map(|p| (p.file, p.rollup))
        .unzip();
    files.sort();
    rollups.sort();
    (files, rollups)
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn push_row(
    w: &mut Worker,
    ts_ns: i64,
    o: &noisefloor_wire::Observation,
    v: &noisefloor_classify::Verdict,
    ctx: &RowContext,
    format: &str,
    staging: &Staging,
    props: &WriterProperties,
) -> Result<(), LakeError> {
    let ts_us = ts_ns.div_euclid(1000);
    w.first_ts = min_opt(w.first_ts, Some(ts_us));
    w.last_ts = max_opt(w.last_ts, Some(ts_us));
    let date = ts_us.div_euclid(86_400_000_000);
    w.rows += 1;
    let i = w.writer_for(date, staging, props)?;
    let unknown = noisefloor_enrich::Attribution::default();
    let (who_id, who) = match o.src {
        Some(a) => w.cache.get_with_id(a),
        None => (0, &unknown),
    };
    let pw = &mut w.open[i];
    pw.writer
        .push(o, v, who, ctx, format)
        .map_err(LakeError::Parquet)?;
    pw.rollup.push(o, v, who, who_id);
    pw.rows += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hash_file;

    /// The overlapped reader hashes exactly the file's bytes, whatever their length against
    /// its 4 MiB buffers (empty, one byte, a buffer's worth, one over, several and a tail).
    #[test]
    fn hash_file_equals_blake3_of_the_bytes() {
        let dir = std::env::temp_dir().join(format!("nf-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let buf = 4 << 20;
        for len in [0usize, 1, 4095, buf, buf + 1, 3 * buf + 12_345] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let (hash, size) = hash_file(&path).unwrap();
            assert_eq!(size, len as u64);
            assert_eq!(
                hash,
                blake3::hash(&bytes).to_hex().to_string(),
                "length {len}"
            );
        }
        assert!(hash_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
