//! Reports over classified traffic. `Triage` accumulates what `noisefloor explain` needs
//! per packet in bounded memory (exact distinct sets up to a limit, then sketches; a
//! bounded heavy-hitter table for sources) and merges across threads; `Explained` turns it
//! into the report, rendered as text, Markdown or JSON from one model.

pub mod attack_text;
pub mod charts;
pub mod distinct;
pub mod episodes;
pub mod explain;
pub mod periodic;
mod periodic_render;
pub mod surge;
pub mod top;
pub mod triage;

pub use explain::{Explained, Inputs, Role};
pub use triage::{Limits, PortKey, Triage};
