#![no_main]
//! Fuzzes the linux_sll decoder chain (link type 113) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(113, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
