#![no_main]
//! Fuzzes the ethernet decoder chain (link type 1) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(1, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
