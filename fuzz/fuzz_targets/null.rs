#![no_main]
//! Fuzzes the null decoder chain (link type 0) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(0, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
