//! Helpers shared by the fixture-driven tests.
#![allow(dead_code)]

use std::path::PathBuf;

use noisefloor_capture::{CaptureError, CaptureReader, Record};
use noisefloor_wire::{Dissection, Options, dissect_with};

/// Path of a fixture under tests/data.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

/// Decodes every packet of a capture; returns the number read and the error that ended it.
pub fn each_packet(
    rel: &str,
    opts: Options,
    mut f: impl FnMut(u64, &Record, &Dissection),
) -> (u64, Option<CaptureError>) {
    let path = data(rel);
    let mut r = match CaptureReader::open(path.to_str().expect("utf-8 path")) {
        Ok(r) => r,
        Err(e) => return (0, Some(e)),
    };
    let mut n = 0;
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                n += 1;
                let d = dissect_with(&opts, rec.linktype, rec.data);
                f(n, &rec, &d);
            }
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}
