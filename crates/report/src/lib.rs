//! The periodic report over the lake: per-key, per-class, per-sensor and per-month tables
//! with surges and charts (text, Markdown, HTML with inline SVG, JSON), read from the lake's
//! rollups through its SQL session. `explain`'s engine is the `noisefloor-explain` crate.

pub mod charts;
pub mod periodic;
mod periodic_render;
pub mod surge;
pub mod table;
