#![no_main]
//! Fuzzes the log-line parser: every format, envelope and forced format, line by line and
//! as a whole file through the chunked reader path.
use noisefloor_logs::{FileContext, LineParser, LogFormat, LogOptions, Outcome};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let file = FileContext::for_tests(2026, 11);
    let forced = data.first().and_then(|b| LogFormat::ALL.get(*b as usize % 16).copied());
    for format in [None, forced] {
        let opts = LogOptions {
            format,
            ..LogOptions::default()
        };
        let mut p = LineParser::new(&opts, &file, None);
        for line in data.split(|&b| b == b'\n') {
            if let Outcome::Record(o, _) = p.parse(line) {
                let mut s = String::new();
                o.summary_line(&mut s);
                o.json_fields(&mut s);
            }
        }
    }
});
