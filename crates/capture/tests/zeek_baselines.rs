//! Zeek's tunnel traces decode to the tunnel endpoints in Zeek's own baselines
//! (tests/data/zeek, from zeek/zeek testing/btest).

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use common::{data, each_packet};
use noisefloor_wire::{IpRef, Layer, Options, Proto, Stop};
use regex::Regex;

type Tunnel = (IpAddr, IpAddr, &'static str);

fn norm(a: IpAddr, b: IpAddr, kind: &'static str) -> Tunnel {
    if a <= b { (a, b, kind) } else { (b, a, kind) }
}

/// Tunnels as Zeek names them: an IP header followed by GRE (also GRE in UDP 4754 and
/// ERSPAN) is `Tunnel::GRE`; an IP header directly followed by another is `Tunnel::IP`.
fn tunnels_in(rel: &str) -> BTreeSet<Tunnel> {
    let mut out = BTreeSet::new();
    let (_, err) = each_packet(rel, Options::default(), |_, _, d| {
        let l: Vec<Layer> = d.main_layers().iter().collect();
        for i in 0..l.len() {
            let Some(ip) = IpRef::from_layer(&l[i]) else {
                continue;
            };
            let next = l.get(i + 1).map(|x| x.proto());
            let after = l.get(i + 2).map(|x| x.proto());
            let kind = match (next, after) {
                (Some(Proto::Gre), _) | (Some(Proto::Udp), Some(Proto::Gre)) => "Tunnel::GRE",
                (Some(Proto::Ip | Proto::Ipv6), _) => "Tunnel::IP",
                (Some(Proto::Udp), Some(Proto::Vxlan)) => "Tunnel::VXLAN",
                _ => continue,
            };
            out.insert(norm(ip.src(), ip.dst(), kind));
        }
    });
    assert!(err.is_none(), "{rel}: {err:?}");
    out
}

/// Tunnels from a Zeek tunnel.log (DISCOVER rows) or from `encap`/`cid` lines of a script output.
fn zeek_tunnels(baseline: &str) -> BTreeSet<Tunnel> {
    let text =
        std::fs::read_to_string(data(&format!("zeek/Baseline/{baseline}"))).expect("baseline");
    let mut out = BTreeSet::new();
    let kind = |k: &str| match k {
        "Tunnel::GRE" => "Tunnel::GRE",
        "Tunnel::IP" => "Tunnel::IP",
        "Tunnel::VXLAN" => "Tunnel::VXLAN",
        other => panic!("unexpected tunnel type {other}"),
    };
    if baseline.ends_with("tunnel.log") {
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("ts\t"))
        {
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() >= 8 && c[7] == "Tunnel::DISCOVER" {
                out.insert(norm(
                    c[2].parse().unwrap(),
                    c[4].parse().unwrap(),
                    kind(c[6]),
                ));
            }
        }
    } else {
        let re = Regex::new(r"cid=\[orig_h=([^,]+), orig_p=[^,]+, resp_h=([^,]+), resp_p=[^,]+, proto=\d+, ctx=\[\]\], tunnel_type=(Tunnel::\w+)").unwrap();
        for c in re.captures_iter(&text) {
            out.insert(norm(
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
                kind(&c[3]),
            ));
        }
    }
    assert!(!out.is_empty(), "{baseline}: no tunnels parsed");
    out
}

#[test]
fn tunnel_endpoints_match_zeek() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["zeek/Traces/tunnels/gre-sample.pcap"],
            "core.tunnels.gre/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/gre-within-gre.pcap"],
            "core.tunnels.gre-in-gre/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/gre-pptp.pcap"],
            "core.tunnels.gre-pptp/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/gre-over-udp-4754.pcap"],
            "core.tunnels.gre-over-udp/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/gre-aruba.pcap"],
            "core.tunnels.gre-aruba/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/gre-aruba-amsdu.pcap"],
            "core.tunnels.gre-aruba-amsdu/tunnel.log",
        ),
        (
            &["zeek/Traces/tunnels/tunnel-direct-bypass.pcap"],
            "core.tunnels.count-default-tunnel-changes/tunnel.log",
        ),
        (&["zeek/Traces/erspan.pcap"], "core.erspan/tunnel.log"),
        (&["zeek/Traces/erspanI.pcap"], "core.erspanI/tunnel.log"),
        (&["zeek/Traces/erspanII.pcap"], "core.erspanII/tunnel.log"),
        (&["zeek/Traces/erspanIII.pcap"], "core.erspanIII/tunnel.log"),
        (
            &["zeek/Traces/tunnels/gre-erspan3-dot1q.pcap"],
            "core.tunnels.gre-erspan3-dot1q/out",
        ),
        (
            &["zeek/Traces/tunnels/ping6-in-ipv4.pcap"],
            "core.tunnels.ip-tunnel-uid/output",
        ),
        (
            &[
                "zeek/Traces/tunnels/6in6.pcap",
                "zeek/Traces/tunnels/6in6in6.pcap",
                "zeek/Traces/tunnels/6in4.pcap",
                "zeek/Traces/tunnels/4in6.pcap",
                "zeek/Traces/tunnels/4in4.pcap",
                "zeek/Traces/tunnels/6in6-tunnel-change.pcap",
            ],
            "core.tunnels.ip-in-ip/output",
        ),
    ];
    let mut failures = Vec::new();
    for (traces, baseline) in cases {
        let ours: BTreeSet<Tunnel> = traces.iter().flat_map(|t| tunnels_in(t)).collect();
        let theirs = zeek_tunnels(baseline);
        if ours != theirs {
            failures.push(format!(
                "{baseline}:\n  zeek:       {theirs:?}\n  noisefloor: {ours:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn erspan_pcap_non_first_fragments_are_never_decoded_as_gre() {
    // Zeek's erspan.pcap holds 248 GRE/TEB packets and 39 non-first IPv4 fragments.
    let (mut gre, mut frags, mut other) = (0, 0, 0);
    let (n, err) = each_packet("zeek/Traces/erspan.pcap", Options::default(), |_, _, d| {
        if d.stop == Stop::NonFirstFragment {
            frags += 1;
            assert!(
                !d.has(Proto::Gre),
                "a non-first fragment was decoded as GRE"
            );
        } else if d.has(Proto::Gre) {
            gre += 1;
        } else {
            other += 1;
        }
    });
    assert!(err.is_none());
    assert_eq!((n, gre, frags, other), (287, 248, 39, 0));
}

#[test]
fn gre_in_gre_respects_the_depth_limit_like_zeek() {
    // Zeek with Tunnel::max_depth=1 reports exceeded_tunnel_max_depth for the inner tunnel
    // 10.10.11.2 <-> 10.10.13.2; the equivalent here is at most two IP headers.
    let mut exceeded = BTreeSet::new();
    let opts = Options {
        max_ip_depth: 2,
        ..Options::default()
    };
    each_packet(
        "zeek/Traces/tunnels/gre-within-gre.pcap",
        opts,
        |_, _, d| {
            if d.stop == Stop::DepthLimit {
                let ip = d.inner_ip().expect("inner ip");
                exceeded.insert(norm(ip.src(), ip.dst(), "exceeded"));
            }
        },
    );
    let a: IpAddr = "10.10.11.2".parse().unwrap();
    let b: IpAddr = "10.10.13.2".parse().unwrap();
    assert_eq!(exceeded, BTreeSet::from([norm(a, b, "exceeded")]));
}

#[test]
fn erspan3_dot1q_inner_vlan_and_icmp() {
    // Baseline "out": echo request/reply 172.31.10.31 <-> 172.31.10.2 inside VLAN 10.
    let mut seen = 0;
    each_packet(
        "zeek/Traces/tunnels/gre-erspan3-dot1q.pcap",
        Options::default(),
        |_, _, d| {
            let vlan = d.layers().iter().find_map(|l| {
                if let Layer::Vlan(v) = l {
                    Some(v.vid())
                } else {
                    None
                }
            });
            assert_eq!(vlan, Some(10));
            let ip = d.inner_ip().unwrap();
            let pair = norm(ip.src(), ip.dst(), "icmp");
            assert_eq!(
                pair,
                norm(
                    "172.31.10.31".parse().unwrap(),
                    "172.31.10.2".parse().unwrap(),
                    "icmp"
                )
            );
            assert_eq!(d.transport().map(|l| l.proto()), Some(Proto::Icmp));
            seen += 1;
        },
    );
    assert_eq!(seen, 2);
}

#[test]
fn nflog_http_and_bad_tlv() {
    // core.nflog/http.log: a GET from 10.0.2.15:49762 to 93.184.216.34:80, all 13 packets TCP.
    let mut tcp = 0;
    let mut conn = false;
    let (n, _) = each_packet(
        "zeek/Traces/nflog-http.pcap",
        Options::default(),
        |_, _, d| {
            let mut chain = String::new();
            d.chain(&mut chain);
            if chain == "nflog:ip:tcp" {
                tcp += 1;
            }
            let ip = d.inner_ip().unwrap();
            if ip.src().to_string() == "10.0.2.15"
                && d.transport()
                    .and_then(|t| t.field("sport"))
                    .and_then(|v| v.as_u64())
                    == Some(49762)
            {
                conn |= ip.dst().to_string() == "93.184.216.34";
            }
        },
    );
    assert_eq!((n, tcp), (13, 13));
    assert!(conn);
    // core.nflog-bad-tlv-len/weird.log: nflog_bad_tlv_len (256 > 8).
    let mut malformed = 0;
    each_packet(
        "zeek/Traces/nflog-bad-tlv-len.pcap",
        Options::default(),
        |_, _, d| {
            if matches!(d.stop, Stop::Malformed(_)) {
                malformed += 1;
            }
        },
    );
    assert_eq!(malformed, 1);
}

#[test]
fn invalid_inner_ip_versions_are_reported() {
    // core.tunnels.ip-in-ip-version: truncated_inner_IP and invalid_inner_IP_version weirds.
    for t in [
        "zeek/Traces/tunnels/mpls-6in6-6in6-4in6-invalid-version-4.pcap",
        "zeek/Traces/tunnels/mpls-6in6-6in6-invalid-version-6.pcap",
    ] {
        let mut bad = 0;
        each_packet(t, Options::default(), |_, _, d| {
            if matches!(d.stop, Stop::Malformed(_) | Stop::Truncated) {
                bad += 1;
            }
        });
        assert_eq!(bad, 1, "{t}");
    }
}

#[test]
fn truncated_traces_are_marked_never_silently_complete() {
    let dir = data("zeek/Traces/trunc");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = format!(
            "zeek/Traces/trunc/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let mut flagged = 0;
        let (n, _) = each_packet(&rel, Options::default(), |_, rec, d| {
            if d.is_truncated()
                || d.is_malformed()
                || d.ip_short
                || rec.caplen < rec.origlen
                || d.stop == Stop::Truncated
            {
                flagged += 1;
            }
        });
        assert!(n > 0, "{rel}: no packets");
        assert!(
            flagged > 0,
            "{rel}: {n} packets, none marked truncated or malformed"
        );
        files += 1;
    }
    assert!(files >= 10);
}

#[test]
fn linux_sll2_decodes() {
    let mut chains = Vec::new();
    each_packet(
        "zeek/Traces/linux_dlt_sll2.pcap",
        Options::default(),
        |_, _, d| {
            let mut c = String::new();
            d.chain(&mut c);
            chains.push(c);
        },
    );
    assert_eq!(
        chains.iter().filter(|c| *c == "sll2:ip:icmp").count(),
        2,
        "{chains:?}"
    );
    assert_eq!(
        chains.iter().filter(|c| *c == "sll2:ipv6:icmpv6").count(),
        2,
        "{chains:?}"
    );
}
