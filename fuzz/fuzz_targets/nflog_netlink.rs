//! NFLOG netlink datagrams as the live sensor reads them: arbitrary bytes must never panic,
//! every record handed on must be a valid NFLOG record, and counters must stay consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use noisefloor_capture::live::{LiveBatch, NflogStream};

fuzz_target!(|data: &[u8]| {
    let group = data.first().copied().map_or(0, u16::from);
    let mut stream = NflogStream::new(group);
    let mut batch = LiveBatch::default();
    stream.datagram(data, &mut batch);
    assert_eq!(batch.len() as u64, stream.counters.received);
    for p in &batch.packets {
        let rec = batch.data(p);
        assert!(noisefloor_wire::Nflog::parse(rec).is_ok());
        assert!(p.orig_len as usize >= rec.len());
        let _ = noisefloor_wire::dissect(239, rec);
    }
});
