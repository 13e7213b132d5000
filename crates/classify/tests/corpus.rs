//! Precision and recall per class on the labelled synthetic corpus (crates/synth), and real
//! captures of PPTP and ERSPAN that must never be called Mirai.

use std::collections::BTreeMap;
use std::path::PathBuf;

use noisefloor_classify::{Class, Context, Evidence, MiraiVariant, classify};
use noisefloor_synth::{Kind, Rng, Sensor, frame};
use noisefloor_wire::{Observation, dissect, linktype};

fn expected(kind: Kind) -> Class {
    match kind {
        Kind::MiraiGreIpLe | Kind::MiraiGreIpBe | Kind::MiraiGreFixedId => Class::MiraiGreIp,
        Kind::MiraiGreEthLe | Kind::MiraiGreEthBe => Class::MiraiGreEth,
        Kind::MiraiScan => Class::MiraiScan,
        Kind::Zmap => Class::Zmap,
        Kind::Masscan => Class::Masscan,
        Kind::ScanTcp => Class::ScanTcp,
        Kind::ScanUdp => Class::ScanUdp,
        Kind::ScanIcmp => Class::ScanIcmp,
        Kind::BackscatterSynAck | Kind::BackscatterRst | Kind::BackscatterIcmp => {
            Class::Backscatter
        }
        Kind::GreKeyed | Kind::Pptp | Kind::GreNearMiss => Class::GreOther,
    }
}

fn expected_variant(kind: Kind) -> Option<MiraiVariant> {
    match kind {
        Kind::MiraiGreIpLe | Kind::MiraiGreEthLe => Some(MiraiVariant::LittleEndian),
        Kind::MiraiGreIpBe | Kind::MiraiGreEthBe => Some(MiraiVariant::BigEndian),
        Kind::MiraiGreFixedId => Some(MiraiVariant::FixedId),
        _ => None,
    }
}

#[test]
fn precision_and_recall_per_class_at_least_99_9_percent() {
    const PER_KIND: usize = 20_000;
    let sensor = Sensor::default();
    let mut rng = Rng::new(20_161_227);
    let ctx = Context::default();
    // (expected, got) -> count
    let mut confusion: BTreeMap<(Class, Class), u64> = BTreeMap::new();
    let mut wrong_variant = 0;
    for kind in Kind::ALL {
        for _ in 0..PER_KIND {
            let f = frame(&mut rng, &sensor, kind);
            let d = dissect(linktype::ETHERNET, &f);
            let v = classify(&Observation::from_dissection(0, f.len() as u32, &d), &ctx);
            *confusion.entry((expected(kind), v.class)).or_default() += 1;
            if let Some(want) = expected_variant(kind)
                && v.mirai_variant() != Some(want)
            {
                wrong_variant += 1;
            }
            if kind == Kind::BackscatterIcmp
                && let Evidence::Backscatter { victim, .. } = v.evidence
            {
                assert!(
                    !sensor_addr(victim),
                    "the victim of ICMP backscatter is the quoted destination, not the sensor"
                );
            }
        }
    }
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "class", "truth", "called", "correct", "precision", "recall"
    );
    let mut failures = Vec::new();
    for class in Class::ALL {
        let truth: u64 = confusion
            .iter()
            .filter(|((e, _), _)| *e == class)
            .map(|(_, n)| n)
            .sum();
        let called: u64 = confusion
            .iter()
            .filter(|((_, g), _)| *g == class)
            .map(|(_, n)| n)
            .sum();
        let correct = confusion.get(&(class, class)).copied().unwrap_or(0);
        if truth == 0 && called == 0 {
            continue;
        }
        let precision = if called == 0 {
            1.0
        } else {
            correct as f64 / called as f64
        };
        let recall = if truth == 0 {
            1.0
        } else {
            correct as f64 / truth as f64
        };
        println!(
            "{:<14} {truth:>9} {called:>9} {correct:>9} {:>9.4}% {:>7.4}%",
            class.name(),
            precision * 100.0,
            recall * 100.0
        );
        if precision < 0.999 || recall < 0.999 {
            failures.push(format!(
                "{}: precision {precision:.5}, recall {recall:.5}",
                class.name()
            ));
        }
    }
    for ((e, g), n) in &confusion {
        if e != g {
            println!("  {} called {}: {n}", e.name(), g.name());
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(wrong_variant, 0, "Mirai variant misreported");
    // No GRE packet without the exact relation is ever called Mirai.
    for kind in [Kind::GreKeyed, Kind::Pptp, Kind::GreNearMiss] {
        for got in [Class::MiraiGreIp, Class::MiraiGreEth] {
            assert_eq!(
                confusion.get(&(expected(kind), got)),
                None,
                "{kind:?} called {}",
                got.name()
            );
        }
    }
}

fn sensor_addr(a: std::net::IpAddr) -> bool {
    matches!(a, std::net::IpAddr::V4(v) if v.octets()[..3] == [198, 51, 100])
}

#[test]
fn seed_000_is_mirai_gre_ip_little_endian() {
    let f = noisefloor_wire::build::seed_000_frame();
    let d = dissect(linktype::ETHERNET, &f);
    let v = classify(
        &Observation::from_dissection(0, f.len() as u32, &d),
        &Context::default(),
    );
    assert_eq!(v.class, Class::MiraiGreIp);
    assert_eq!(v.mirai_variant(), Some(MiraiVariant::LittleEndian));
    let tags: Vec<&str> = v.tags.names().collect();
    for t in [
        "df-outer",
        "df-inner",
        "inner-ttl-64",
        "udp-length-consistent",
        "payload-0",
    ] {
        assert!(tags.contains(&t), "{tags:?}");
    }
    let mut s = String::new();
    v.describe(&mut s);
    assert!(
        s.contains(
            "outer IP ID 0xbfaf, inner 0x2854 = swap16(~(swap16(outer) - 1000)) (little-endian bot)"
        ),
        "{s}"
    );
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

#[test]
fn real_pptp_and_erspan_captures_are_gre_other_never_mirai() {
    let files = [
        "tcpdump/pptp.pcap",
        "tcpdump/erspan-type-i-1.pcap",
        "tcpdump/erspan-type-i-4.pcap",
        "tcpdump/erspan-type-ii-3.pcap",
        "tcpdump/erspan-type-iii-ft-0.pcap",
        "tcpdump/erspan-type-iii-ft-7.pcap",
        "zeek/Traces/erspan.pcap",
        "zeek/Traces/erspanI.pcap",
        "zeek/Traces/erspanII.pcap",
        "zeek/Traces/erspanIII.pcap",
        "zeek/Traces/tunnels/gre-pptp.pcap",
        "zeek/Traces/tunnels/gre-sample.pcap",
        "zeek/Traces/tunnels/gre-within-gre.pcap",
        "zeek/Traces/tunnels/gre-aruba.pcap",
        "tcpdump/various_gre.pcap",
        "tcpdump/NHRP_registration.pcap",
        "suricata-verify/decode-erspan-typeI-02/input.pcap",
        "suricata-verify/bug-2576-01/temp6.pcap",
    ];
    let mut gre_packets = 0;
    for f in files {
        let path = data(f);
        let mut r = noisefloor_capture::CaptureReader::open(path.to_str().unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        while let Ok(Some(rec)) = r.next_record() {
            let d = dissect(rec.linktype, rec.data);
            let o = Observation::from_dissection(0, 0, &d);
            let v = classify(&o, &Context::default());
            assert!(
                !v.class.is_mirai_gre(),
                "{f}: a real tunnel packet was called {}",
                v.class.name()
            );
            // GRE as the outer payload is always gre-other here.
            if d.main_layers()
                .iter()
                .position(|l| l.proto().is_ip())
                .and_then(|i| d.proto_at(i + 1))
                == Some(noisefloor_wire::Proto::Gre)
            {
                assert_eq!(v.class, Class::GreOther, "{f}");
                gre_packets += 1;
            }
        }
    }
    assert!(gre_packets > 1000, "{gre_packets}");
}
