//! The generator's command line (this test also makes `cargo test` build the binary, which
//! the live-capture tests run in a network namespace).

use std::process::Command;

fn synth() -> Command {
    Command::new(env!("CARGO_BIN_EXE_noisefloor-synth"))
}

#[test]
fn seed_000_file_holds_the_seed_frame() {
    let out = std::env::temp_dir().join(format!("nf-synth-seed-{}.pcap", std::process::id()));
    let st = synth()
        .args(["--seed-000", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&out).unwrap();
    let frame = noisefloor_wire::build::seed_000_frame();
    assert_eq!(bytes.len(), 24 + 16 + frame.len());
    assert_eq!(&bytes[40..], &frame[..]);
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn send_refuses_an_unknown_mix_and_a_bad_address() {
    let out = synth()
        .args([
            "--send-to",
            "10.0.0.1",
            "--send-from",
            "10.0.0.2",
            "--send-mix",
            "bogus",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // Either the mix is refused, or (unprivileged) the raw socket is, naming the capability.
    assert!(
        err.contains("--send-mix \"bogus\"") || err.contains("CAP_NET_RAW"),
        "{err}"
    );
    let out = synth().args(["--send-to", "10.0.0.300"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an IPv4 address"));
}

#[test]
fn class_mix_is_what_the_classifier_says() {
    use noisefloor_synth::live::{class_mix, numbered_syn, syn_number};
    let mix = class_mix([10, 0, 0, 2], [10, 0, 0, 1]);
    assert_eq!(mix.len(), 7);
    for (pkt, class) in &mix {
        let d = noisefloor_wire::dissect(101, pkt);
        let o = noisefloor_wire::Observation::from_dissection(0, pkt.len() as u32, &d);
        let v = noisefloor_classify::classify(&o, &noisefloor_classify::Context::default());
        assert_eq!(v.class.name(), *class);
    }
    for n in [0u64, 1, 65_534, 65_535, 1_000_000] {
        let p = numbered_syn([10, 0, 0, 2], [10, 0, 0, 1], n);
        let id = u16::from_be_bytes([p[4], p[5]]);
        let sport = u16::from_be_bytes([p[20], p[21]]);
        assert_ne!(id, 0);
        assert_eq!(syn_number(sport, id), n);
    }
}
