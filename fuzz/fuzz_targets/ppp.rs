#![no_main]
//! Fuzzes the ppp decoder chain (link type 9) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(9, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
