#![no_main]
//! Fuzzes the filter parser and evaluates what parses against a real GRE frame.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(f) = noisefloor_wire::filter::parse(s) {
        let frame = noisefloor_wire::build::seed_000_frame();
        let d = noisefloor_wire::dissect(1, &frame);
        let _ = f.matches(&d);
    }
});
