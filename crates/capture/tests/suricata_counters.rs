//! Suricata-verify's expected decoder counters, met by counting the same events in
//! noisefloor's dissections (tests/data/suricata-verify).

mod common;

use std::collections::BTreeMap;

use common::{data, each_packet};
use noisefloor_wire::{Options, Proto, Stop};
use regex::Regex;

/// Counts one decoder event per header decoded, as Suricata does.
fn counters(pcap: &str) -> BTreeMap<String, u64> {
    let mut c: BTreeMap<String, u64> = BTreeMap::new();
    let mut add = |k: &str, n: u64| *c.entry(k.to_string()).or_default() += n;
    let (_, err) = each_packet(pcap, Options::default(), |_, _, d| {
        add("decoder.pkts", 1);
        for l in d.layers().iter().filter(|l| !l.is_partial()) {
            let key = match l.proto() {
                Proto::Eth => "decoder.ethernet",
                Proto::Ip => "decoder.ipv4",
                Proto::Ipv6 => "decoder.ipv6",
                Proto::Gre => "decoder.gre",
                Proto::Erspan => "decoder.erspan",
                Proto::Tcp => "decoder.tcp",
                Proto::Udp => "decoder.udp",
                Proto::Sll2 => "decoder.sll2",
                Proto::Sll => "decoder.sll",
                Proto::Vlan => "decoder.vlan",
                Proto::Mpls => "decoder.mpls",
                _ => continue,
            };
            add(key, 1);
        }
        match d.stop {
            Stop::DepthLimit => add("decoder.too_many_layers", 1),
            Stop::UnknownEthertype(_) => add("decoder.unknown_ethertype", 1),
            Stop::Malformed(_) => add("decoder.invalid", 1),
            _ => {}
        }
    });
    assert!(err.is_none(), "{pcap}: {err:?}");
    c
}

#[test]
fn decoder_counters_match_suricata_verify() {
    let cases = [
        "decode-erspan-typeI-01",
        "decode-erspan-typeI-02",
        "decode-sll2-01",
        "decode-sll2-02",
        "decode-too-many-layers",
        "decode-unknown-1",
        "decode-unknown-2",
        "bug-7964-01",
        "bug-7964-02",
        "linktype-228",
    ];
    let key_re = Regex::new(r"^\s*(?:stats\.)?(decoder\.[a-z0-9_]+): (\d+)\s*$").unwrap();
    let pcap_re = Regex::new(r"^pcap: (\S+)").unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases {
        let yaml = std::fs::read_to_string(data(&format!("suricata-verify/{case}/test.yaml")))
            .expect("test.yaml");
        let pcap = match yaml.lines().find_map(|l| pcap_re.captures(l)) {
            Some(m) => format!("suricata-verify/{case}/{}", &m[1]),
            None => {
                let dir = data(&format!("suricata-verify/{case}"));
                let f = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .find(|n| n.ends_with(".pcap"))
                    .expect("a pcap");
                format!("suricata-verify/{case}/{f}")
            }
        };
        let ours = counters(&pcap);
        let mut n = 0;
        for l in yaml.lines() {
            let Some(m) = key_re.captures(l) else {
                continue;
            };
            let (key, want) = (&m[1], m[2].parse::<u64>().unwrap());
            // Counters of decoders or events noisefloor does not have are not comparable.
            if key.starts_with("decoder.event") || key == "decoder.chdlc" {
                continue;
            }
            n += 1;
            let got = ours.get(key).copied().unwrap_or(0);
            if got != want {
                failures.push(format!("{case}: {key}: suricata {want}, noisefloor {got}"));
            }
        }
        assert!(n > 0, "{case}: no decoder counter compared");
        compared += n;
    }
    println!("{compared} counters compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn two_layer_counts_for_erspan_type_i() {
    let c = counters("suricata-verify/decode-erspan-typeI-02/input.pcap");
    assert_eq!(
        (c["decoder.gre"], c["decoder.erspan"], c["decoder.ipv4"]),
        (42, 42, 84)
    );
}
