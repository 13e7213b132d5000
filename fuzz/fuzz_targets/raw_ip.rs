#![no_main]
//! Fuzzes the raw_ip decoder chain (link type 101) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(101, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
