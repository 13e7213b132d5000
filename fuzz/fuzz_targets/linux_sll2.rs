#![no_main]
//! Fuzzes the linux_sll2 decoder chain (link type 276) and every renderer over its result.
libfuzzer_sys::fuzz_target!(|data: &[u8]| noisefloor_fuzz_support::exercise(276, data));

mod noisefloor_fuzz_support {
    include!("../support.rs");
}
