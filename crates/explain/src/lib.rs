#![warn(missing_docs)]
//! `noisefloor explain`'s engine. `Triage` accumulates what the answer needs per packet record
//! in bounded memory (exact distinct sets up to a limit, then sketches; a bounded
//! heavy-hitter table for sources; attack episodes per destination) and merges across
//! threads; `Explained` turns it into the report, rendered as text, Markdown or JSON from one
//! model. No lake and no DataFusion: explain runs on a capture or a log alone.

pub mod attack_text;
pub mod distinct;
pub mod episodes;
pub mod explain;
mod json;
pub mod run;
pub mod summary;
pub mod top;
pub mod triage;

pub use explain::{Explained, Inputs, Role};
pub use run::{Pass, triage_files};
pub use triage::{Limits, PortKey, Triage};
