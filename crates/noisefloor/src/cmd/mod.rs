//! One file per subcommand: its flags (clap) and the calls into the library crates that do
//! the work. Nothing here aggregates or renders; see ARCHITECTURE.md.

pub mod check;
pub mod compact;
pub mod dissect;
pub mod explain;
pub mod ingest;
pub mod migrate;
pub mod report;
#[cfg(target_os = "linux")]
pub mod sensor;
pub mod sql;
pub mod vacuum;
