//! Decoding on every core: the calling thread reads and cuts buffers into batches, worker
//! threads each fold batches into their own state, and buffers come back for reuse. Nothing
//! is copied per packet and a fixed pool of buffers is in flight, so memory stays bounded
//! whatever the input size.

use std::sync::{Mutex, mpsc};

use crate::logs::LogStats;
use crate::{Batch, Input, open_input};

/// A batch takes the whole read buffer, so only a partial record is carried over.
const BATCH_PACKETS: usize = 1 << 20;

/// What the reader reports while it works (for progress bars).
pub enum Progress<'a> {
    FileStart { path: &'a str },
    Position { path: &'a str, offset: u64 },
    FileEnd { path: &'a str },
}

/// Files read and the errors met (each names its file and byte offset).
#[derive(Debug, Default)]
pub struct ReadReport {
    pub files: u64,
    pub errors: Vec<String>,
    /// Log files among them, and the lines their readers rejected before parsing (too long
    /// to buffer). Per-line outcomes are counted by the workers.
    pub logs: LogStats,
}

/// Reads `files` in order and folds every batch into per-worker states made by `init`.
/// Returns the states (one per worker; merge them) and what was read.
pub fn fold_parallel<S: Send>(
    files: &[String],
    init: impl Fn() -> S + Sync,
    fold: impl Fn(&mut S, &Batch) + Sync,
    progress: &mut dyn FnMut(Progress),
) -> (Vec<S>, ReadReport) {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1);
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(workers * 2);
    let full_rx = Mutex::new(full_rx);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    let mut report = ReadReport::default();
    let mut states = Vec::with_capacity(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (full_rx, empty_tx, init, fold) = (&full_rx, empty_tx.clone(), &init, &fold);
                scope.spawn(move || {
                    let mut state = init();
                    loop {
                        let next = match full_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = next else { break };
                        fold(&mut state, &batch);
                        let _ = empty_tx.send(batch);
                    }
                    state
                })
            })
            .collect();
        drop(empty_tx);
        let pool = workers * 2 + 2;
        let mut allocated = 0;
        'files: for path in files {
            let mut input = match open_input(path) {
                Ok(r) => r,
                Err(e) => {
                    report.errors.push(e.to_string());
                    continue;
                }
            };
            report.files += 1;
            progress(Progress::FileStart { path });
            loop {
                // A fixed pool of buffers: wait for a worker to return one rather than allocate.
                let mut batch = match empty_rx.try_recv() {
                    Ok(b) => b,
                    Err(_) if allocated < pool => {
                        allocated += 1;
                        Batch::default()
                    }
                    Err(_) => match empty_rx.recv() {
                        Ok(b) => b,
                        Err(_) => break 'files,
                    },
                };
                let r = match &mut input {
                    Input::Capture(reader) => {
                        let r = reader.read_batch(&mut batch, BATCH_PACKETS);
                        if let Some(last) = batch.records.last() {
                            progress(Progress::Position {
                                path,
                                offset: last.offset,
                            });
                        }
                        r
                    }
                    Input::Log(reader) => {
                        let r = reader.read_chunk(&mut batch);
                        progress(Progress::Position {
                            path,
                            offset: reader.position(),
                        });
                        r
                    }
                };
                let has_work = !batch.records.is_empty() || batch.lines.is_some();
                if has_work && full_tx.send(batch).is_err() {
                    break 'files;
                }
                match r {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        report.errors.push(e.to_string());
                        break;
                    }
                }
            }
            if let Input::Log(reader) = &input {
                report.logs.merge(&reader.stats);
            }
            progress(Progress::FileEnd { path });
        }
        drop(full_tx);
        for h in handles {
            if let Ok(s) = h.join() {
                states.push(s);
            }
        }
    });
    (states, report)
}
