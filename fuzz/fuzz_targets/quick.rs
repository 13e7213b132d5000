#![no_main]
//! Fuzzes the fast path against the full decoder: on any frame, `quick` either declines or
//! yields the layers `dissect` finds, and `classify_quick` the verdict `classify` gives.
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
    let ctx = noisefloor_classify::Context::default();
    assert_eq!(
        noisefloor_classify::classify_quick(&q),
        noisefloor_classify::classify(&d, &ctx)
    );
});
