#![no_main]
//! Fuzzes the pflog decoder chain (link type 117) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(117, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
