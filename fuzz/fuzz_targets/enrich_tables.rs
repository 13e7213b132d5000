#![no_main]
//! Fuzzes what enrichment reads from disk: prefix-to-AS tables (RouteViews pfx2as,
//! iptoasn) parsed from arbitrary bytes, then looked up; and arbitrary bytes opened as a
//! MaxMind database and looked up through noisefloor's tolerant record decoding. Neither
//! may panic.
use std::net::IpAddr;

use noisefloor_enrich::PrefixTable;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let probes: [IpAddr; 4] = [
        IpAddr::from([1, 160, 3, 4]),
        IpAddr::from([0, 0, 0, 0]),
        IpAddr::from([255, 255, 255, 255]),
        IpAddr::from([0x2001, 0x4, 0x112, 0, 0, 0, 0, 1]),
    ];
    let (table, _) = PrefixTable::parse(data);
    for p in probes {
        let _ = table.lookup(p);
    }
    let mut e = noisefloor_enrich::Enricher::new();
    if e.add_mmdb_bytes(std::path::Path::new("fuzz.mmdb"), data.to_vec()).is_ok() {
        for p in probes {
            let _ = e.lookup(p);
        }
    }
});
