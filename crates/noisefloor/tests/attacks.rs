//! Attack verdicts from episodes, end to end through `noisefloor explain --json`:
//! - labelled simulations of every attack kind against one host or prefix, mixed with
//!   darknet background, and darknet-only runs that must give no attack (per-kind precision
//!   and recall printed);
//! - real one-way attack captures (tests/data/stopddos, see its README).

// The fixture helpers live beside the decoder reference tests in the capture crate.
#[path = "../../capture/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::process::Command;

use common::data;
use noisefloor_capture::PcapWriter;
use noisefloor_synth::attacks::{Scenario, TruthAttack, scenarios};
use serde_json::Value;

fn explain_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_noisefloor"))
        .arg("explain")
        .arg("--json")
        .args(args)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "explain {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn write_pcap(s: &Scenario, i: usize) -> String {
    let p = std::env::temp_dir().join(format!("nf-attack-{}-{i}.pcap", std::process::id()));
    let f = std::fs::File::create(&p).unwrap();
    let mut w = PcapWriter::new(BufWriter::new(f), 1, 65535, true).unwrap();
    for (ts, frame) in &s.frames {
        w.write(*ts, frame, frame.len() as u32).unwrap();
    }
    drop(w);
    p.to_str().unwrap().to_string()
}

/// An attack as reported, reduced to what the truth says.
fn reported(v: &Value) -> Vec<TruthAttack> {
    v["attacks"]
        .as_array()
        .expect("attacks")
        .iter()
        .map(|a| TruthAttack {
            kind: noisefloor_classify::AttackKind::from_name(a["kind"].as_str().unwrap())
                .expect("known kind")
                .name(),
            target: a["target"].as_str().unwrap().to_string(),
            service_port: a["service"]["port"].as_u64().map(|p| p as u16),
            spoofed: a["spoofed"].as_bool().unwrap(),
        })
        .collect()
}

#[test]
fn every_simulated_attack_is_found_with_kind_target_service_and_spoofing_and_darknets_have_none() {
    // kind -> (true positives, false positives, false negatives)
    let mut score: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, s) in scenarios(2016).iter().enumerate() {
        let path = write_pcap(s, i);
        let v = explain_json(&[&path]);
        let _ = std::fs::remove_file(&path);
        let got = reported(&v);
        for t in &s.attacks {
            let e = score.entry(t.kind).or_default();
            if got.contains(t) {
                e.0 += 1;
            } else {
                e.2 += 1;
                failures.push(format!("{}: missed {t:?}; got {got:?}", s.name));
            }
        }
        for g in &got {
            if !s.attacks.contains(g) {
                score.entry(g.kind).or_default().1 += 1;
                failures.push(format!("{}: reported {g:?}", s.name));
            }
        }
        if s.attacks.is_empty() {
            assert_eq!(v["role"], "darknet", "{}", s.name);
        }
    }
    println!(
        "{:<20} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "kind", "tp", "fp", "fn", "precision", "recall"
    );
    for (k, (tp, fp, fn_)) in &score {
        let p = *tp as f64 / (*tp + *fp).max(1) as f64;
        let r = *tp as f64 / (*tp + *fn_).max(1) as f64;
        println!("{k:<20} {tp:>4} {fp:>4} {fn_:>4} {p:>9.3} {r:>7.3}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for kind in [
        "syn-flood",
        "tcp-flood",
        "udp-flood",
        "icmp-flood",
        "tcp-reflection",
        "udp-amplification",
        "gre-flood",
    ] {
        assert!(score.contains_key(kind), "no scenario of {kind}");
    }
}

#[test]
fn amplification_fragments_are_counted_with_their_datagrams() {
    let s = scenarios(2016)
        .into_iter()
        .find(|s| s.name.starts_with("memcached"))
        .unwrap();
    let path = write_pcap(&s, 99);
    let v = explain_json(&[&path]);
    let _ = std::fs::remove_file(&path);
    let a = &v["attacks"][0];
    assert_eq!(a["kind"], "udp-amplification");
    assert_eq!(a["service"]["name"], "memcached");
    // 4,400-byte replies: each is one first fragment and two non-first fragments.
    assert_eq!(
        a["fragments"].as_u64().unwrap() * 3,
        a["packets"].as_u64().unwrap() * 2,
        "{a}"
    );
    assert_eq!(
        v["attacks"].as_array().unwrap().len(),
        1,
        "no separate fragment flood"
    );
}

/// Expected attack on a real capture: kind, target, service port, spoofed.
struct Want {
    file: &'static str,
    attacks: &'static [(&'static str, &'static str, Option<u16>, bool)],
    role: &'static str,
}

#[test]
fn real_attack_captures_get_the_right_verdicts() {
    let cases = [
        Want {
            file: "pkt.TCP.synflood.spoofed.head.pcap",
            attacks: &[("syn-flood", "10.10.10.10/32", None, true)],
            role: "darknet",
        },
        Want {
            file: "pkt.TCP.DOMINATE.syn.ecn.cwr.head.pcapng",
            attacks: &[("syn-flood", "10.10.10.10/32", None, true)],
            role: "darknet",
        },
        Want {
            file: "amp.TCP.reflection.SYNACK.head.pcap",
            attacks: &[("tcp-reflection", "10.10.10.10/32", None, false)],
            role: "darknet",
        },
        Want {
            file: "amp.UDP.snmp.src161.head.pcapng",
            attacks: &[("udp-amplification", "10.10.10.10/32", Some(161), false)],
            role: "darknet",
        },
        Want {
            file: "amp.UDP.isakmp.head.pcap",
            attacks: &[("udp-amplification", "10.10.10.10/32", Some(4500), false)],
            role: "darknet",
        },
        Want {
            file: "amp.UDP.bacnet.IOT.37810.head.pcapng",
            attacks: &[
                ("udp-amplification", "10.10.10.1/32", Some(47808), false),
                ("udp-amplification", "10.10.10.1/32", Some(37810), false),
            ],
            role: "darknet",
        },
        Want {
            file: "amp.dns.RRSIG.fragmented.pcap",
            attacks: &[("udp-amplification", "10.10.10.10/32", Some(53), false)],
            role: "host",
        },
        Want {
            // 1.1 packets/s for 14 minutes: scans and a slow trickle, no attack.
            file: "amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
            attacks: &[],
            role: "darknet",
        },
    ];
    let mut failures = Vec::new();
    for w in &cases {
        let path = data(&format!("stopddos/{}", w.file));
        let v = explain_json(&[path.to_str().unwrap()]);
        let mut got = reported(&v);
        got.sort_by(|a, b| {
            (a.kind, &a.target, a.service_port).cmp(&(b.kind, &b.target, b.service_port))
        });
        let mut want: Vec<TruthAttack> = w
            .attacks
            .iter()
            .map(|&(kind, target, service_port, spoofed)| TruthAttack {
                kind,
                target: target.to_string(),
                service_port,
                spoofed,
            })
            .collect();
        want.sort_by(|a, b| {
            (a.kind, &a.target, a.service_port).cmp(&(b.kind, &b.target, b.service_port))
        });
        println!("{}: {} attack(s), role {}", w.file, got.len(), v["role"]);
        for a in v["attacks"].as_array().unwrap() {
            println!("  {}", a["verdict"].as_str().unwrap_or(""));
        }
        if got != want {
            failures.push(format!("{}: want {want:?}\n  got {got:?}", w.file));
        }
        if v["role"] != w.role {
            failures.push(format!("{}: role {} (want {})", w.file, v["role"], w.role));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The text report of a fixture under tests/data/stopddos.
fn explain_text(file: &str) -> String {
    let path = data(&format!("stopddos/{file}"));
    let out = Command::new(env!("CARGO_BIN_EXE_noisefloor"))
        .args(["explain", path.to_str().unwrap()])
        .output()
        .expect("run");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_spoofed_syn_flood_is_not_called_a_scan_and_its_sources_are_not_listed_as_devices() {
    let text = explain_text("pkt.TCP.synflood.spoofed.head.pcap");
    assert!(text.contains("Attacks on you"), "{text}");
    assert!(
        text.contains("SYN flood against 10.10.10.10:25565"),
        "{text}"
    );
    assert!(text.contains("spoofed sources"), "{text}");
    assert!(!text.contains("keep the probed services closed"), "{text}");
    assert!(
        !text.contains("per day"),
        "a 0.24 s capture has no daily rate: {text}"
    );
    assert!(text.contains("packets/s"), "{text}");
}

#[test]
fn reflection_is_not_called_backscatter_with_nothing_to_block() {
    let text = explain_text("amp.TCP.reflection.SYNACK.head.pcap");
    assert!(text.contains("TCP reflection"), "{text}");
    assert!(!text.contains("Backscatter: nothing to block"), "{text}");
}
