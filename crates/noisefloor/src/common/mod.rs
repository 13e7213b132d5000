//! Options and output helpers several subcommands share.

pub mod lake_args;
pub mod log_args;
pub mod progress;
