//! `explain --json` without the command line around it: a small binary that links in seconds
//! where `noisefloor` links DataFusion, so a change to the per-packet path can be measured
//! under callgrind without a full release build (see BENCHMARKS.md).
//!
//!     cargo build --release --example triage -p noisefloor-explain
//!     valgrind --tool=callgrind target/release/examples/triage FILE...

use noisefloor_explain::{Explained, Inputs, Limits, Pass, triage_files};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let log_opts = noisefloor_logs::LogOptions::default();
    let ctx = noisefloor_classify::Context::default();
    let Pass {
        triage,
        logs,
        report,
    } = triage_files(&files, Limits::default(), &ctx, &log_opts, &mut |_| {});
    let inputs = Inputs {
        files,
        errors: report.errors,
        logs,
        log_zone: "UTC".into(),
        role: None,
    };
    println!("{}", Explained::new(&triage, inputs).json());
}
