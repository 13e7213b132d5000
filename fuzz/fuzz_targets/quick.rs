#![no_main]
//! Fuzzes the fast path against the full decoder: on any frame, `quick` either declines or
//! yields the layers `dissect` finds, and the record it fills (`Observation::from_quick`)
//! equals the full decoder's (`Observation::from_dissection`), verdict included.
//! The first byte picks the link type (Ethernet or raw IP).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let linktype = if pick & 1 == 0 { 1 } else { 101 };
    let opts = noisefloor_wire::Options::default();
    if !noisefloor_wire::quick::check_against_dissection(&opts, linktype, frame) {
        return;
    }
    let q = noisefloor_wire::quick::quick(&opts, linktype, frame).expect("checked");
    let d = noisefloor_wire::dissect_with(&opts, linktype, frame);
    let len = frame.len() as u32;
    let fast = noisefloor_wire::Observation::from_quick(0, len, &q);
    let full = noisefloor_wire::Observation::from_dissection(0, len, &d);
    assert_eq!(fast, full);
    let ctx = noisefloor_classify::Context::default();
    assert_eq!(
        noisefloor_classify::classify(&fast, &ctx),
        noisefloor_classify::classify(&full, &ctx)
    );
});
