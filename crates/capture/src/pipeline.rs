//! Decoding on every core: worker threads take turns reading and cutting the next buffer
//! into a batch (under one lock), then each folds its batch into its own state while the
//! other reads. Nothing is copied per packet and each worker holds one buffer, so memory
//! stays bounded whatever the input size. The worker that reads a buffer decodes it, so its
//! bytes are still in that core's cache; a separate reader thread was a third thread on two
//! cores, and both cores idled whenever it was descheduled with the queue empty.

use std::sync::Mutex;

use crate::{Batch, Input, open_input};
use noisefloor_logs::LogStats;

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
    /// Per input read, in order: the stream offset (after decompression) past its last
    /// whole record or line, where a later, longer copy of it has new data.
    pub ends: Vec<u64>,
}

/// Reads `files` in order and folds every batch into per-worker states made by `init`.
/// Returns the states (one per worker; merge them) and what was read.
pub fn fold_parallel<S: Send>(
    files: &[String],
    init: impl Fn() -> S + Sync,
    fold: impl Fn(&mut S, &Batch) + Sync,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> (Vec<S>, ReadReport) {
    let workers = cores();
    let feed = Feed::new(files, progress);
    let states: Vec<S> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (feed, init, fold) = (&feed, &init, &fold);
                scope.spawn(move || {
                    let mut state = init();
                    let mut batch = Batch::default();
                    // A poisoned lock means another worker panicked: stop reading.
                    while feed.lock().is_ok_and(|mut f| f.next(&mut batch)) {
                        fold(&mut state, &batch);
                    }
                    state
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let report = Feed::into_report(feed);
    (states, report)
}

/// Most states of [`fold_ordered`] (and so decode threads).
pub const ORDERED_STATES: usize = 8;

/// Like [`fold_parallel`], but reproducible: with `n` states (one per core, at most
/// [`ORDERED_STATES`]), batch `k` (in input order) is folded into state `k % n`, and each
/// state gets its batches in input order, whatever the thread timing. Folds whose result
/// depends on the order (bounded top lists that evict, "first example seen") then give the
/// same states, so the same merge, on every run on machines with the same core count.
/// (A fixed count of 8 states made it independent of the machine too, but merging 8 states
/// cost explain a quarter more instructions on 2 cores.) The states are made on first use.
pub fn fold_ordered<S: Send>(
    files: &[String],
    init: impl Fn() -> S + Sync,
    fold: impl Fn(&mut S, &Batch) + Sync,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> (Vec<S>, ReadReport) {
    let workers = cores().min(ORDERED_STATES);
    let feed = Feed::new(files, progress);
    let states: Vec<Mutex<Option<S>>> = (0..workers).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (feed, states, init, fold) = (&feed, &states, &init, &fold);
            scope.spawn(move || {
                let mut batch = Batch::default();
                loop {
                    // A poisoned lock means another worker panicked: stop reading.
                    let Ok(mut f) = feed.lock() else { break };
                    if !f.next(&mut batch) {
                        break;
                    }
                    let k = f.batches - 1;
                    // Taken before the reader is released, so a state's batches are folded
                    // in the order they were read; it waits only if the state is still
                    // folding batch k - workers.
                    let Ok(mut state) = states[k % workers].lock() else {
                        break;
                    };
                    drop(f);
                    fold(state.get_or_insert_with(init), &batch);
                }
            });
        }
    });
    let report = Feed::into_report(feed);
    let states = states
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect();
    (states, report)
}

/// Decode threads: one per core.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The inputs, read in order by whichever worker asks next.
struct Feed<'f, 'p> {
    files: std::slice::Iter<'f, String>,
    current: Option<(&'f str, Input)>,
    report: ReadReport,
    progress: &'p mut (dyn FnMut(Progress) + Send),
    /// Batches handed out so far (the last one's index in input order is this minus one).
    batches: usize,
}

impl<'f, 'p> Feed<'f, 'p> {
    fn new(files: &'f [String], progress: &'p mut (dyn FnMut(Progress) + Send)) -> Mutex<Self> {
        Mutex::new(Feed {
            files: files.iter(),
            current: None,
            report: ReadReport::default(),
            progress,
            batches: 0,
        })
    }

    /// What was read, also after a worker panicked holding the lock.
    fn into_report(feed: Mutex<Self>) -> ReadReport {
        match feed.into_inner() {
            Ok(f) => f.report,
            Err(poisoned) => poisoned.into_inner().report,
        }
    }

    /// Fills `batch` with the next records or log lines; false once every input is read.
    /// Errors go to the report (each names its file and byte offset) and end that file only.
    fn next(&mut self, batch: &mut Batch) -> bool {
        loop {
            let Some((path, input)) = &mut self.current else {
                let Some(path) = self.files.next() else {
                    return false;
                };
                match open_input(path) {
                    Ok(input) => {
                        self.report.files += 1;
                        (self.progress)(Progress::FileStart { path });
                        self.current = Some((path, input));
                    }
                    Err(e) => self.report.errors.push(e.to_string()),
                }
                continue;
            };
            let path = *path;
            let r = match input {
                Input::Capture(reader) => {
                    let r = reader.read_batch(batch, BATCH_PACKETS);
                    if let Some(last) = batch.records.last() {
                        (self.progress)(Progress::Position {
                            path,
                            offset: last.offset,
                        });
                    }
                    r
                }
                Input::Log(reader) => {
                    let r = reader.read_chunk(batch);
                    (self.progress)(Progress::Position {
                        path,
                        offset: reader.position(),
                    });
                    r
                }
            };
            let file_done = match r {
                Ok(more) => !more,
                Err(e) => {
                    self.report.errors.push(e.to_string());
                    true
                }
            };
            if file_done {
                self.report.ends.push(match input {
                    Input::Capture(reader) => reader.consumed(),
                    Input::Log(reader) => reader.position(),
                });
                if let Input::Log(reader) = input {
                    self.report.logs.merge(&reader.stats);
                }
                (self.progress)(Progress::FileEnd { path });
                self.current = None;
            }
            if !batch.records.is_empty() || batch.lines.is_some() {
                self.batches += 1;
                return true;
            }
        }
    }
}
