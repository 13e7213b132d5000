//! Progress bars on stderr for inputs large enough to wait for (64 MiB and more, on a
//! terminal only), driven by the pipeline's progress reports.

use std::io::{self, IsTerminal};

use noisefloor_capture::pipeline;

/// A bar for `path`, or `None` when it would only flicker (small, stdin, not a terminal).
pub fn progress_bar(path: &str) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() || path == "-" {
        return None;
    }
    let len = std::fs::metadata(path).ok()?.len();
    if len < 64 << 20 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb.set_message(path.to_string());
    Some(pb)
}

/// One progress bar per large input file, driven by the pipeline's reports.
#[derive(Default)]
pub struct Progressbars {
    bar: Option<indicatif::ProgressBar>,
}
impl Progressbars {
    pub fn update(&mut self, p: pipeline::Progress) {
        match p {
            pipeline::Progress::FileStart { path } => self.bar = progress_bar(path),
            pipeline::Progress::Position { offset, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(offset);
                }
            }
            pipeline::Progress::FileEnd { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
        }
    }
}
