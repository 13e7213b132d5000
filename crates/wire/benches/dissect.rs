//! Per-packet decode cost of representative darknet frames (criterion).
//!
//!     cargo bench -p noisefloor-wire

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noisefloor_wire::build::{
    EthernetRepr, IcmpRepr, Ipv4Repr, PptpGreRepr, TcpRepr, UdpRepr, ipv4_packet, seed_000_frame,
};
use noisefloor_wire::{dissect, filter, linktype};
use std::hint::black_box;

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let eth = |ip: &[u8]| {
        let mut f = Vec::new();
        EthernetRepr {
            dst: [2; 6],
            src: [4; 6],
            ethertype: 0x0800,
        }
        .emit(ip, &mut f);
        f
    };
    let ip = |proto: u8| Ipv4Repr {
        src: [203, 0, 113, 9],
        dst: [198, 51, 100, 1],
        protocol: proto,
        ttl: 50,
        id: 1,
        dont_fragment: false,
        tos: 0,
    };
    let syn = eth(&ipv4_packet(&ip(6), |s, d, o| {
        TcpRepr {
            src_port: 40000,
            dst_port: 23,
            seq: 0xc6336401,
            ack: 0,
            flags: 2,
            window: 1024,
        }
        .emit_v4(s, d, &[], o)
    }));
    let quoted = ipv4_packet(
        &Ipv4Repr {
            src: [198, 51, 100, 1],
            dst: [192, 0, 2, 7],
            protocol: 17,
            ttl: 3,
            id: 2,
            dont_fragment: false,
            tos: 0,
        },
        |s, d, o| {
            UdpRepr {
                src_port: 5353,
                dst_port: 53,
            }
            .emit_v4(s, d, &[0; 12], o)
        },
    );
    let unreach = eth(&ipv4_packet(&ip(1), |_, _, o| {
        IcmpRepr {
            icmp_type: 3,
            code: 3,
            rest: [0; 4],
        }
        .emit(&quoted[..28], o)
    }));
    let mut gre = Vec::new();
    PptpGreRepr {
        call_id: 7,
        seq: Some(1),
        ack: None,
    }
    .emit(&[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4], &mut gre);
    let mut pptp_ip = Vec::new();
    ip(47).emit(&gre, &mut pptp_ip);
    vec![
        ("mirai_gre_ip", seed_000_frame()),
        ("syn_scan", syn),
        ("icmp_unreachable_quote", unreach),
        ("pptp", eth(&pptp_ip)),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dissect");
    g.throughput(Throughput::Elements(1));
    for (name, f) in frames() {
        g.bench_function(name, |b| {
            b.iter(|| black_box(dissect(linktype::ETHERNET, black_box(&f)).chain_key()))
        });
    }
    g.finish();
    let f = seed_000_frame();
    let expr = filter::parse("gre and inner.udp.dport == 32698").expect("filter");
    c.bench_function("filter/seed_000", |b| {
        b.iter(|| {
            let d = dissect(linktype::ETHERNET, black_box(&f));
            black_box(expr.matches(&d))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
