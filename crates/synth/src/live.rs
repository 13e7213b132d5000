//! Packets for live-capture tests: sent from one network namespace to a sensor in another,
//! with addresses of those namespaces only.

use noisefloor_wire::build::{Ipv4Repr, PptpGreRepr, TcpRepr, ipv4_packet, seed_000_frame};

/// The mix `noisefloor-synth --send-mix classes` sends once, with the class each packet
/// must get: the seed-000 Mirai GRE-IP flood packet (outer addresses replaced, its IP IDs
/// and inner packet untouched), SYN scans, and PPTP GRE.
pub fn class_mix(from: [u8; 4], to: [u8; 4]) -> Vec<(Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    let mut seed = seed_000_frame()[14..].to_vec();
    seed[12..16].copy_from_slice(&from);
    seed[16..20].copy_from_slice(&to);
    out.push((seed, "mirai-gre-ip"));
    for (i, port) in [22u16, 23, 80, 443].into_iter().enumerate() {
        let ip = Ipv4Repr {
            src: from,
            dst: to,
            protocol: 6,
            ttl: 52,
            id: 0x1000 + i as u16,
            dont_fragment: false,
            tos: 0,
        };
        let syn = ipv4_packet(&ip, |s, d, o| {
            TcpRepr {
                src_port: 40_000 + i as u16,
                dst_port: port,
                seq: 0x0bad_f00d + i as u32,
                ack: 0,
                flags: 0x002,
                window: 1024,
            }
            .emit_v4(s, d, &[], o)
        });
        out.push((syn, "scan-tcp"));
    }
    for call_id in [7u16, 8] {
        let ip = Ipv4Repr {
            src: from,
            dst: to,
            protocol: 47,
            ttl: 60,
            id: 0x2000 + call_id,
            dont_fragment: true,
            tos: 0,
        };
        let mut pkt = Vec::new();
        let mut gre = Vec::new();
        PptpGreRepr {
            call_id,
            seq: Some(u32::from(call_id)),
            ack: None,
        }
        .emit(&[0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 20], &mut gre);
        ip.emit(&gre, &mut pkt);
        out.push((pkt, "gre-other"));
    }
    out
}

/// SYN number `n` (from 0) of a numbered stream: (source port, IP ID) is unique per
/// packet, so duplicates and losses in a lake can be counted exactly. IP ID is never 0
/// (the kernel would replace it).
pub fn numbered_syn(from: [u8; 4], to: [u8; 4], n: u64) -> Vec<u8> {
    let (port_step, id) = (n / 65_535, (n % 65_535) as u16 + 1);
    let ip = Ipv4Repr {
        src: from,
        dst: to,
        protocol: 6,
        ttl: 64,
        id,
        dont_fragment: false,
        tos: 0,
    };
    ipv4_packet(&ip, |s, d, o| {
        TcpRepr {
            src_port: 1024 + port_step as u16,
            dst_port: 2323,
            seq: n as u32,
            ack: 0,
            flags: 0x002,
            window: 1024,
        }
        .emit_v4(s, d, &[], o)
    })
}

/// The number a [`numbered_syn`] carries.
pub fn syn_number(sport: u16, ip_id: u16) -> u64 {
    u64::from(sport - 1024) * 65_535 + u64::from(ip_id - 1)
}
