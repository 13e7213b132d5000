#![no_main]
//! Fuzzes the ipv6_only decoder chain (link type 229) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(229, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
