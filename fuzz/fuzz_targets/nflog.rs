#![no_main]
//! Fuzzes the nflog decoder chain (link type 239) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(239, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
