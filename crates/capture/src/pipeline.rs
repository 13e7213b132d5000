//! Decoding on every core: worker threads take turns reading and cutting the next buffer
//! into a batch (under one lock), then each folds its batch into its own state while the
//! other reads. Nothing is copied per packet and each worker holds one buffer, so memory
//! stays bounded whatever the input size. The worker that reads a buffer decodes it, so its
//! bytes are still in that core's cache; a separate reader thread was a third thread on two
//! cores, and both cores idled whenever it was descheduled with the queue empty.

use std::sync::Mutex;

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
    progress: &mut (dyn FnMut(Progress) + Send),
) -> (Vec<S>, ReadReport) {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1);
    let feed = Mutex::new(Feed {
        files: files.iter(),
        current: None,
        report: ReadReport::default(),
        progress,
    });
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
    let report = match feed.into_inner() {
        Ok(f) => f.report,
        Err(poisoned) => poisoned.into_inner().report,
    };
    (states, report)
}

/// The inputs, read in order by whichever worker asks next.
struct Feed<'f, 'p> {
    files: std::slice::Iter<'f, String>,
    current: Option<(&'f str, Input)>,
    report: ReadReport,
    progress: &'p mut (dyn FnMut(Progress) + Send),
}

impl Feed<'_, '_> {
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
                if let Input::Log(reader) = input {
                    self.report.logs.merge(&reader.stats);
                }
                (self.progress)(Progress::FileEnd { path });
                self.current = None;
            }
            if !batch.records.is_empty() || batch.lines.is_some() {
                return true;
            }
        }
    }
}
