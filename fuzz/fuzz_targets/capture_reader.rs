#![no_main]
//! Fuzzes the pcap/pcapng/compressed stream reader with the dissector behind it.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = noisefloor_capture::CaptureReader::from_reader("fuzz", Box::new(std::io::Cursor::new(data.to_vec()))) else { return };
    while let Ok(Some(rec)) = r.next_record() {
        let _ = noisefloor_wire::dissect(rec.linktype, rec.data);
    }
});
