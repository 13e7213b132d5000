//! `noisefloor explain` end to end: the seed packet, a labelled synthetic capture whose
//! per-class counts must equal the ground truth, real PPTP traffic, and every format.

// The fixture helpers live beside the decoder reference tests in the capture crate.
#[path = "../../capture/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::process::Command;

use common::data;
use noisefloor_capture::PcapWriter;
use noisefloor_synth::{Kind, Rng, Sensor, frame};
use serde_json::Value;

fn explain(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_noisefloor"))
        .arg("explain")
        .args(args)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn seed_pcap() -> String {
    let p = std::env::temp_dir().join(format!("nf-seed-{}.pcap", std::process::id()));
    let f = std::fs::File::create(&p).unwrap();
    let mut w = PcapWriter::new(BufWriter::new(f), 1, 65535, false).unwrap();
    let frame = noisefloor_wire::build::seed_000_frame();
    w.write(1_482_860_108_152_775_000, &frame, frame.len() as u32)
        .unwrap();
    drop(w);
    p.to_str().unwrap().to_string()
}

#[test]
fn seed_packet_is_named_mirai_gre_ip_little_endian_and_not_backscatter() {
    let p = seed_pcap();
    let (text, err, code) = explain(&[&p]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("mirai-gre-ip — 1 packet (100.0%), 1 source"),
        "{text}"
    );
    assert!(
        text.contains(
            "are Mirai GRE-IP flood packets: every one satisfies Mirai's inner/outer IP-ID relation"
        ),
        "{text}"
    );
    assert!(text.contains("1 from little-endian bots"), "{text}");
    assert!(text.contains("not backscatter"), "{text}");
    assert!(text.contains("iptables -A INPUT -p gre -j DROP"), "{text}");
    assert!(
        text.contains("nft add rule inet filter input meta l4proto gre drop"),
        "{text}"
    );
    assert!(text.contains("access-list 147 deny gre any any"), "{text}");
    let (json, _, _) = explain(&["--json", &p]);
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["packets"], 1);
    assert_eq!(v["classes"][0]["class"], "mirai-gre-ip");
    assert_eq!(v["gre_flood"]["little_endian"], 1);
    assert_eq!(v["protocols"][0]["key"], "GRE");
    assert_eq!(v["top_sources"][0]["address"], "31.168.107.48");
    let (md, _, _) = explain(&["--markdown", &p]);
    assert!(md.starts_with("# noisefloor explain"), "{md}");
    assert!(md.contains("| 1 | GRE | 1 | 100.0% |"), "{md}");
    std::fs::remove_file(p).ok();
}

#[test]
fn class_counts_match_the_ground_truth_of_a_labelled_capture() {
    let p = std::env::temp_dir().join(format!("nf-labelled-{}.pcap", std::process::id()));
    let f = std::fs::File::create(&p).unwrap();
    let mut w = PcapWriter::new(BufWriter::new(f), 1, 65535, false).unwrap();
    let mut rng = Rng::new(99);
    let sensor = Sensor::default();
    let mut truth: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut le, mut be) = (0u64, 0u64);
    // Two UTC days, so packets per day is checked too.
    let start: i64 = 1_482_796_800_000_000_000;
    let n = 30_000;
    for i in 0..n {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let fr = frame(&mut rng, &sensor, kind);
        let ts = start + (i as i64) * 5_000_000_000; // every 5 s: 30,000 packets span ~1.7 days
        w.write(ts, &fr, fr.len() as u32).unwrap();
        *truth.entry(kind.class_name()).or_default() += 1;
        le += matches!(kind, Kind::MiraiGreIpLe | Kind::MiraiGreEthLe) as u64;
        be += matches!(kind, Kind::MiraiGreIpBe | Kind::MiraiGreEthBe) as u64;
    }
    drop(w);
    let (json, err, code) = explain(&["--json", "--own", "198.51.100.0/24", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["packets"], n as u64);
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for c in v["classes"].as_array().unwrap() {
        got.insert(
            c["class"].as_str().unwrap().to_string(),
            c["packets"].as_u64().unwrap(),
        );
        assert!(!c["verdict"].as_str().unwrap().is_empty());
    }
    // A random IP ID equals ZMap's 54321 once in 65,536 packets: allow that many.
    for (class, want) in &truth {
        let have = got.get(*class).copied().unwrap_or(0);
        assert!(
            have.abs_diff(*want) <= 2,
            "{class}: expected {want}, explain says {have} ({got:?})"
        );
    }
    assert_eq!(v["gre_flood"]["little_endian"], le);
    assert_eq!(v["gre_flood"]["big_endian"], be);
    let per_day: u64 = v["per_day"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(per_day, n as u64);
    assert_eq!(v["per_day"].as_object().unwrap().len(), 2);
    // Every source is a distinct random address here, counted exactly below the limit.
    assert!(v["unique_sources_exact"].as_bool().unwrap());
    assert!(v["unique_sources"].as_u64().unwrap() > 29_000);
    // Mirai floods hit one /32 or random addresses inside the sensor's /24.
    assert_eq!(v["gre_flood"]["target_prefix"], "198.51.100.0/24");
    let text = explain(&[p.to_str().unwrap()]).0;
    for want in [
        "What arrived",
        "Why: one verdict per class",
        "Mirai GRE floods in detail",
        "Top sources",
        "What to do",
        "backscatter",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    std::fs::remove_file(p).ok();
}

#[test]
fn real_pptp_is_gre_other_and_the_advice_warns_about_tunnels() {
    let (text, _, code) = explain(&[data("tcpdump/pptp.pcap").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!text.contains("mirai-gre"), "{text}");
    assert!(text.contains("gre-other — 1 packet"), "{text}");
    assert!(text.contains("1 pptp"), "{text}");
    assert!(text.contains("look like real tunnels"), "{text}");
}

#[test]
fn errors_are_reported_and_the_rest_is_explained() {
    let (text, err, code) = explain(&[
        "/nonexistent.pcap",
        data("tcpdump/pptp.pcap").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.pcap: cannot open"), "{err}");
    assert!(text.contains("23 packets"), "{text}");
}
