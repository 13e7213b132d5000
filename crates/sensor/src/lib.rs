//! The live sensor: capture → classify → lake segments, continuously.
//!
//! Three threads: capture (owns the kernel source and does nothing but read, so the kernel
//! queue drains quickly), writer (decode, classify, enrich, Parquet, pcap ring), committer
//! (moves finished segments into the lake, waiting for the lake lock if an `ingest` holds
//! it). Segments rotate on clock boundaries; stopping flushes and commits the open one.

mod metrics;
mod ring;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use noisefloor_capture::live::{Counters, LiveBatch, LiveError, LiveSource};
use noisefloor_enrich::Enricher;
use noisefloor_lake::segment::{Health, Ready, Segment, SegmentOptions, Spool};
use noisefloor_lake::{LakeError, ManifestEntry};

pub use metrics::Metrics;
pub use ring::PcapRing;

/// Records per batch handed from the capture thread to the writer.
const BATCH: usize = 4096;
/// Batches in flight between capture and writer; beyond it capture waits and the kernel
/// queue (ring or socket buffer) absorbs the burst.
const IN_FLIGHT: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// The raw evidence ring.
#[derive(Clone, Debug)]
pub struct RingOptions {
    pub dir: PathBuf,
    pub max_bytes: u64,
    pub snaplen: u32,
}

pub struct SensorOptions {
    pub sensor: String,
    pub lake: PathBuf,
    pub segment: SegmentOptions,
    /// Segment length; segments end on multiples of it (UTC).
    pub rotate: Duration,
    pub ring: Option<RingOptions>,
    pub metrics: Option<SocketAddr>,
}

/// What the sensor reports while it runs.
pub enum Event<'a> {
    /// Something a previous run left was finished or removed.
    Recovered(&'a str),
    MetricsListening(SocketAddr),
    Committed(&'a ManifestEntry),
    /// A problem that did not stop the sensor.
    Warning(String),
}

/// Totals of one run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub capture: Counters,
    pub stored: u64,
    pub decode_errors: u64,
    pub segments: u64,
    pub segments_left_ready: u64,
}

struct Delivery {
    batch: LiveBatch,
    counters: Counters,
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn health_between(a: &Counters, b: &Counters) -> Health {
    Health {
        received: b.received - a.received,
        bytes: b.bytes - a.bytes,
        kernel_drops: b.kernel_drops - a.kernel_drops,
        truncated: b.truncated - a.truncated,
    }
}

/// Runs until `stop` is set (SIGINT/SIGTERM in the CLI) or the source fails, then commits
/// the open segment and returns the totals.
pub fn run(
    mut source: Box<dyn LiveSource>,
    opts: &SensorOptions,
    enricher: &Enricher,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event),
) -> Result<Summary, SensorError> {
    let (spool, recovered, pending) = Spool::open(&opts.lake, &opts.sensor)?;
    for r in &recovered {
        on_event(Event::Recovered(r));
    }
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = opts.metrics {
        let bound = metrics::serve(
            addr,
            metrics.clone(),
            opts.sensor.clone(),
            source.describe(),
        )
        .map_err(|source| SensorError::Io {
            what: format!("metrics endpoint {addr}"),
            source,
        })?;
        on_event(Event::MetricsListening(bound));
    }
    let mut ring = match &opts.ring {
        Some(r) => Some(
            PcapRing::open(&r.dir, r.max_bytes, r.snaplen).map_err(|source| SensorError::Io {
                what: format!("pcap ring {}", r.dir.display()),
                source,
            })?,
        ),
        None => None,
    };
    // Segment keys: unique per run and sequence number, so a restart never reuses one.
    let run_id =
        blake3::hash(format!("{}:{}:{}", opts.sensor, now_us(), std::process::id()).as_bytes());
    let rotate_us = i64::try_from(opts.rotate.as_micros())
        .unwrap_or(i64::MAX)
        .max(1);

    let (to_writer, from_capture) = sync_channel::<Delivery>(IN_FLIGHT);
    let (recycle_tx, recycle_rx) = channel::<LiveBatch>();
    let (to_committer, from_writer) = channel::<Ready>();
    // Segments a previous run finished but could not commit go first.
    for ready in pending {
        let _ = to_committer.send(ready);
    }
    let capture_error: Mutex<Option<LiveError>> = Mutex::new(None);
    let events: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let committed: Mutex<Vec<ManifestEntry>> = Mutex::new(Vec::new());
    let mut summary = Summary::default();

    let writer_result = std::thread::scope(|scope| -> Result<(), SensorError> {
        // Each thread owns its channel ends: when capture returns, dropping `to_writer`
        // tells the writer to finish; when the writer returns, the committer finishes.
        let source = &mut *source;
        let (capture_error, metrics_ref) = (&capture_error, &*metrics);
        scope.spawn(move || {
            capture_loop(
                source,
                stop,
                &to_writer,
                &recycle_rx,
                capture_error,
                metrics_ref,
            )
        });
        let (spool_ref, committed_ref, events_ref) = (&spool, &committed, &events);
        let committer = scope.spawn(move || {
            commit_loop(
                &from_writer,
                spool_ref,
                stop,
                metrics_ref,
                committed_ref,
                events_ref,
            )
        });
        // The writer runs here; dropping `to_committer` at its end lets the committer finish.
        let result = writer_loop(
            &from_capture,
            &recycle_tx,
            &spool,
            enricher,
            opts,
            run_id.to_hex().as_str(),
            rotate_us,
            &mut ring,
            &metrics,
            to_committer,
            &mut summary,
            &committed,
            on_event,
        );
        if result.is_err() {
            // Stop capturing too; the capture thread notices within its poll timeout.
            stop.store(true, Ordering::SeqCst);
            while from_capture.recv().is_ok() {}
        }
        summary.segments_left_ready = committer.join().unwrap_or(0);
        result
    });
    for e in committed
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
    {
        on_event(Event::Committed(&e));
    }
    for w in events
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
    {
        on_event(Event::Warning(w));
    }
    if let Some(r) = ring.as_mut() {
        r.flush().map_err(|source| SensorError::Io {
            what: "pcap ring".into(),
            source,
        })?;
    }
    writer_result?;
    if let Some(e) = capture_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e.into());
    }
    summary.segments = metrics.segments.load(Ordering::Relaxed);
    Ok(summary)
}

fn capture_loop(
    source: &mut dyn LiveSource,
    stop: &AtomicBool,
    to_writer: &SyncSender<Delivery>,
    recycled: &Receiver<LiveBatch>,
    error: &Mutex<Option<LiveError>>,
    metrics: &Metrics,
) {
    let mut quiet_polls_after_stop = 0;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let mut batch = recycled.try_recv().unwrap_or_default();
        batch.clear();
        // After a stop request, keep reading until the kernel has nothing more for a few
        // polls, so packets already queued (and NFLOG's batched messages) are not lost.
        let timeout = if stopping {
            Duration::from_millis(30)
        } else {
            Duration::from_millis(200)
        };
        if let Err(e) = source.fill(&mut batch, BATCH, timeout) {
            if let Ok(mut slot) = error.lock() {
                *slot = Some(e);
            }
            stop.store(true, Ordering::SeqCst);
            break;
        }
        let counters = source.counters();
        metrics.set_capture(&counters);
        let empty = batch.is_empty();
        if to_writer.send(Delivery { batch, counters }).is_err() {
            break;
        }
        if stopping {
            quiet_polls_after_stop = if empty { quiet_polls_after_stop + 1 } else { 0 };
            if quiet_polls_after_stop >= 3 {
                break;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn writer_loop(
    from_capture: &Receiver<Delivery>,
    recycle: &std::sync::mpsc::Sender<LiveBatch>,
    spool: &Spool,
    enricher: &Enricher,
    opts: &SensorOptions,
    run_id: &str,
    rotate_us: i64,
    ring: &mut Option<PcapRing>,
    metrics: &Metrics,
    to_committer: std::sync::mpsc::Sender<Ready>,
    summary: &mut Summary,
    committed: &Mutex<Vec<ManifestEntry>>,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), SensorError> {
    let mut seq = 0u64;
    let key = |seq: u64| {
        blake3::hash(format!("{run_id}:{seq}").as_bytes())
            .to_hex()
            .to_string()
    };
    let start = now_us();
    let mut end = (start.div_euclid(rotate_us) + 1) * rotate_us;
    let mut segment = Segment::begin(spool, enricher, &opts.segment, &key(seq), start)?;
    let mut at_start = Counters::default();
    let mut last = Counters::default();
    let mut ring_failed = false;
    loop {
        let delivery = match from_capture.recv_timeout(Duration::from_millis(100)) {
            Ok(d) => Some(d),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(d) = delivery {
            for p in &d.batch.packets {
                let data = d.batch.data(p);
                if let Some(r) = ring.as_mut().filter(|_| !ring_failed)
                    && let Err(e) = r.write(p.ts_ns, p.linktype, data, p.orig_len)
                {
                    ring_failed = true;
                    on_event(Event::Warning(format!("pcap ring stopped: {e}")));
                }
                let class =
                    segment.push(p.ts_ns, p.linktype, data, p.orig_len, &opts.segment.ctx)?;
                metrics.count_class(class);
            }
            if let Some(r) = ring.as_ref() {
                metrics.ring_bytes.store(r.bytes(), Ordering::Relaxed);
            }
            metrics
                .stored
                .fetch_add(d.batch.len() as u64, Ordering::Relaxed);
            summary.stored += d.batch.len() as u64;
            last = d.counters;
            let _ = recycle.send(d.batch);
        }
        let now = now_us();
        if now >= end {
            let next = Segment::begin(spool, enricher, &opts.segment, &key(seq + 1), now)?;
            let done = std::mem::replace(&mut segment, next);
            let ready = done.finish(&opts.sensor, health_between(&at_start, &last), now)?;
            summary.decode_errors += ready.entry.decode_errors;
            metrics
                .decode_errors
                .fetch_add(ready.entry.decode_errors, Ordering::Relaxed);
            let _ = to_committer.send(ready);
            seq += 1;
            at_start = last;
            end = (now.div_euclid(rotate_us) + 1) * rotate_us;
            for e in committed
                .lock()
                .map(|mut v| std::mem::take(&mut *v))
                .unwrap_or_default()
            {
                on_event(Event::Committed(&e));
            }
        }
    }
    // Capture has stopped: the open segment is the last.
    summary.capture = last;
    let ready = segment.finish(&opts.sensor, health_between(&at_start, &last), now_us())?;
    summary.decode_errors += ready.entry.decode_errors;
    metrics
        .decode_errors
        .fetch_add(ready.entry.decode_errors, Ordering::Relaxed);
    let _ = to_committer.send(ready);
    Ok(())
}

/// Commits segments as they come; returns how many were left ready (lake lock held by
/// another writer at shutdown) for the next start to commit.
fn commit_loop(
    from_writer: &Receiver<Ready>,
    spool: &Spool,
    stop: &AtomicBool,
    metrics: &Metrics,
    committed: &Mutex<Vec<ManifestEntry>>,
    events: &Mutex<Vec<String>>,
) -> u64 {
    let mut left = 0;
    // After a stop, wait up to 10 s for the lake lock, then leave the rest ready for the
    // next start rather than hang a service stop.
    let stopped_at = std::sync::OnceLock::new();
    let give_up = || {
        stop.load(Ordering::SeqCst)
            && stopped_at.get_or_init(std::time::Instant::now).elapsed() >= Duration::from_secs(10)
    };
    for ready in from_writer.iter() {
        let input = ready.entry.input.clone();
        match ready.commit(spool.root(), &give_up) {
            Ok(entry) => {
                metrics.segments.fetch_add(1, Ordering::Relaxed);
                metrics.last_commit_unix.store(
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                    Ordering::Relaxed,
                );
                if let Ok(mut c) = committed.lock() {
                    c.push(entry);
                }
            }
            Err(e) => {
                left += 1;
                metrics.commit_errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut ev) = events.lock() {
                    ev.push(format!(
                        "segment {input} not committed yet ({e}); it is committed when the sensor next starts"
                    ));
                }
            }
        }
    }
    left
}
