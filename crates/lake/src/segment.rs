//! Live segments: a sensor writes what it captures for one interval into a segment, then
//! commits it like an ingested input — one manifest entry per segment, with the sensor's
//! health (kernel drops, truncation, decode errors) for that interval.
//!
//! Segments are written under `_live/<sensor>/` without the lake's writer lock, so a long
//! `ingest` never stalls capture; the lock is taken only to move a finished segment in. A
//! segment's commit point (`COMMIT.json`) is written before the move, so a crash at any
//! moment leaves a finished segment either still under `_live` (adopted when the sensor
//! restarts) or in `_staging` (rolled forward by the next writer), and an unfinished one
//! under `_live` (removed on restart: its Parquet files have no footer).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use noisefloor_classify::{Class, Context, classify};
use noisefloor_enrich::Enricher;
use noisefloor_wire::{Observation, Options, Stop, dissect_with};
use parquet::file::properties::WriterProperties;

use crate::LakeError;
use crate::event::RowContext;
use crate::ingest::{Worker, file_lists, push_row, writer_properties};
use crate::store::{
    LIVE, Lake, ManifestEntry, Staging, io_err, read_commit_entry, try_lock_dir,
    write_detached_commit,
};

/// One sensor's directory of segments in progress, held by this process.
pub struct Spool {
    root: PathBuf,
    dir: PathBuf,
    sensor: String,
    _lock: File,
}

impl Spool {
    /// Takes `_live/<sensor>` for this process (one sensor process per name and lake).
    /// Unfinished segments of a previous run are removed; finished ones (commit point
    /// written) are returned, to be committed like new ones. Also returns what was done.
    pub fn open(root: &Path, sensor: &str) -> Result<(Spool, Vec<String>, Vec<Ready>), LakeError> {
        crate::check_sensor_name(sensor)?;
        let dir = root.join(LIVE).join(sensor);
        let Some(lock) = try_lock_dir(&dir)? else {
            return Err(LakeError::Config(format!(
                "a sensor named {sensor:?} is already running on the lake {}; stop it or pick another --sensor name",
                root.display()
            )));
        };
        let spool = Spool {
            root: root.to_owned(),
            dir,
            sensor: sensor.to_owned(),
            _lock: lock,
        };
        let mut recovered = Vec::new();
        let mut ready = Vec::new();
        let mut leftovers: Vec<PathBuf> = fs::read_dir(&spool.dir)
            .map_err(io_err(&spool.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        leftovers.sort();
        for seg in leftovers {
            match read_commit_entry(&seg) {
                Some(entry) => {
                    recovered.push(format!(
                        "a finished segment ({}) was waiting to be committed; committing it",
                        entry.input
                    ));
                    ready.push(Ready { dir: seg, entry });
                }
                None => {
                    fs::remove_dir_all(&seg).map_err(io_err(&seg))?;
                    recovered.push(format!(
                        "removed an unfinished segment ({}), cut short by a crash",
                        seg.file_name().and_then(|n| n.to_str()).unwrap_or("?")
                    ));
                }
            }
        }
        Ok((spool, recovered, ready))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Opens the lake (waiting for its lock while `give_up` says no) and adopts `dir`.
fn commit_dir(
    root: &Path,
    dir: &Path,
    give_up: &dyn Fn() -> bool,
) -> Result<ManifestEntry, LakeError> {
    loop {
        match Lake::open(root) {
            Ok(lake) => return lake.adopt(dir),
            Err(LakeError::Locked(p)) => {
                if give_up() {
                    return Err(LakeError::Locked(p));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// What the capture side counted during a segment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Health {
    /// Records read from the kernel.
    pub received: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    pub kernel_drops: u64,
    pub truncated: u64,
}

/// How segments are written.
#[derive(Clone)]
pub struct SegmentOptions {
    pub group: Option<String>,
    pub ctx: Context,
    pub zstd_level: i32,
    /// Manifest format: `nflog` or `afpacket`.
    pub format: &'static str,
    /// Names the source in the manifest's `input`, e.g. `nflog group 5`.
    pub source: String,
}

/// A segment being written.
pub struct Segment<'e> {
    staging: Staging,
    worker: Worker<'e>,
    props: WriterProperties,
    row_ctx: RowContext,
    decode: Options,
    start_us: i64,
    decode_errors: u64,
    format: &'static str,
}

impl<'e> Segment<'e> {
    /// Starts segment `key` (unique per run and sequence number) at `start_us`.
    pub fn begin(
        spool: &Spool,
        enricher: &'e Enricher,
        opts: &SegmentOptions,
        key: &str,
        start_us: i64,
    ) -> Result<Segment<'e>, LakeError> {
        let staging = Staging::fresh(spool.dir.join(key), &spool.sensor, key)?;
        let stamp = jiff::Timestamp::from_microsecond(start_us)
            .ok()
            .and_then(|t| t.round(jiff::Unit::Second).ok())
            .map_or_else(String::new, |t| t.to_string());
        Ok(Segment {
            staging,
            worker: Worker::new(enricher, 0, opts.group.as_deref().map(Arc::from)),
            props: writer_properties(opts.zstd_level, &spool.sensor),
            row_ctx: RowContext {
                sensor_group: opts.group.as_deref().map(Arc::from),
                input: Arc::from(format!("{} {stamp}", opts.source)),
            },
            decode: Options::default(),
            start_us,
            decode_errors: 0,
            format: opts.format,
        })
    }

    /// Decodes, classifies and stores one packet (`orig_len` bytes on the wire, `data` as
    /// captured); returns its class.
    pub fn push(
        &mut self,
        ts_ns: i64,
        linktype: u32,
        data: &[u8],
        orig_len: u32,
        ctx: &Context,
    ) -> Result<Class, LakeError> {
        let d = dissect_with(&self.decode, linktype, data);
        if matches!(d.stop, Stop::Malformed(_)) {
            self.decode_errors += 1;
        }
        let o = Observation::from_dissection(ts_ns, orig_len, &d);
        let v = classify(&o, ctx);
        push_row(
            &mut self.worker,
            ts_ns,
            &o,
            &v,
            &self.row_ctx,
            self.format,
            &self.staging,
            &self.props,
        )?;
        Ok(v.class)
    }

    pub fn rows(&self) -> u64 {
        self.worker.rows
    }

    /// Closes the segment's files and writes its commit point; the result only needs
    /// moving into the lake ([`Ready::commit`]).
    pub fn finish(mut self, sensor: &str, health: Health, end_us: i64) -> Result<Ready, LakeError> {
        let files = match self.worker.close_all() {
            Ok(f) => f,
            Err(e) => {
                self.staging.discard();
                return Err(e);
            }
        };
        let (files, rollups) = file_lists(files);
        let w = &self.worker;
        let entry = ManifestEntry {
            sensor: sensor.to_owned(),
            input: self.row_ctx.input.to_string(),
            content_hash: self.staging.hash().to_owned(),
            size: health.bytes,
            kind: "live".into(),
            format: self.format.into(),
            read: health.received,
            records: w.rows,
            rows: w.rows,
            first_ts_us: w.first_ts,
            last_ts_us: w.last_ts,
            files,
            rollups,
            ingested_at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .map_or_else(|_| String::new(), |t| t.to_string()),
            noisefloor_version: env!("CARGO_PKG_VERSION").into(),
            segment_start_us: Some(self.start_us),
            segment_end_us: Some(end_us),
            kernel_drops: health.kernel_drops,
            truncated: health.truncated,
            decode_errors: self.decode_errors,
            ..Default::default()
        };
        write_detached_commit(&self.staging, entry.clone())?;
        Ok(Ready {
            dir: self.staging.dir().to_owned(),
            entry,
        })
    }
}

/// A finished segment with its commit point written, waiting to be moved into the lake.
pub struct Ready {
    dir: PathBuf,
    pub entry: ManifestEntry,
}

impl Ready {
    /// Moves the segment into the lake, waiting for the writer lock (an `ingest` may hold
    /// it) until `give_up` says stop; a segment not moved stays ready and is committed when
    /// the sensor next starts.
    pub fn commit(
        self,
        root: &Path,
        give_up: &dyn Fn() -> bool,
    ) -> Result<ManifestEntry, LakeError> {
        commit_dir(root, &self.dir, give_up)
    }
}
