#![no_main]
//! Fuzzes the loop_bsd decoder chain (link type 108) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(108, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
