//! Properties over arbitrary input: no link type panics on any bytes, every renderer and
//! filter copes with whatever was decoded, and built packets decode to what was built.

use noisefloor_wire::build::{
    EthernetRepr, GreRepr, IcmpRepr, Ipv4Repr, PptpGreRepr, UdpRepr, ipv4_packet,
};
use noisefloor_wire::render::{FrameMeta, json, summary_line, verbose};
use noisefloor_wire::{
    Dissection, Layer, MAX_LAYERS, Options, Proto, dissect, dissect_into, dissect_with, filter,
    linktype,
};
use proptest::prelude::*;

const LINKTYPES: [u32; 15] = [
    linktype::NULL,
    linktype::ETHERNET,
    linktype::PPP,
    linktype::RAW_BSD12,
    linktype::RAW_OPENBSD14,
    linktype::PPP_HDLC,
    linktype::RAW,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::PFLOG,
    linktype::IPV4,
    linktype::IPV6,
    linktype::NFLOG,
    linktype::LINUX_SLL2,
    147,
];

fn exercise(lt: u32, data: &[u8]) {
    let d = dissect(lt, data);
    assert!(d.layers().len() <= MAX_LAYERS);
    let meta = FrameMeta {
        number: 1,
        ts_ns: 0,
        caplen: data.len() as u32,
        origlen: data.len() as u32,
        interface: 0,
    };
    let mut s = String::new();
    summary_line(&mut s, &meta, &d);
    verbose(&mut s, &meta, &d);
    json(&mut s, &meta, &d);
    let mut c = String::new();
    d.chain(&mut c);
    assert_eq!(noisefloor_wire::chain_from_key(d.chain_key()), c);
    let f = filter::parse("gre.key == 5 or inner.udp.port == 53 or outer.ip.src == 10.0.0.0/8 or quoted.tcp.syn or ipv6.addr == ::1").unwrap();
    let _ = f.matches(&d);
    // The decoded layers and the payload never claim more bytes than exist.
    assert!(d.payload.len() <= data.len());
}

/// Everything a dissection says about its packet (not its unused slots).
fn described(d: &Dissection) -> String {
    let mut chain = String::new();
    d.chain(&mut chain);
    format!(
        "{chain} {:?} {:?} {:?} {:?} {} {}",
        d.layers().iter().collect::<Vec<_>>(),
        d.stop,
        d.payload,
        d.quote_start,
        d.ip_short,
        d.linktype
    )
}

/// A real frame with a few bytes overwritten: reaches deep into the decoders.
fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    mutated(noisefloor_wire::build::seed_000_frame())
}

/// An ICMP port unreachable quoting a UDP packet (the decoder's quote path).
fn icmp_error_frame() -> Vec<u8> {
    let quoted = Ipv4Repr {
        src: [198, 51, 100, 7],
        dst: [192, 0, 2, 9],
        protocol: 17,
        ttl: 3,
        id: 7,
        dont_fragment: false,
        tos: 0,
    };
    let quoted = ipv4_packet(&quoted, |s, d, out| {
        UdpRepr {
            src_port: 5353,
            dst_port: 53,
        }
        .emit_v4(s, d, &[1, 2, 3], out)
    });
    let mut icmp = Vec::new();
    IcmpRepr {
        icmp_type: 3,
        code: 3,
        rest: [0; 4],
    }
    .emit(&quoted, &mut icmp);
    let outer = Ipv4Repr {
        src: [192, 0, 2, 9],
        dst: [198, 51, 100, 7],
        protocol: 1,
        ttl: 60,
        id: 1,
        dont_fragment: false,
        tos: 0,
    };
    let mut ip = Vec::new();
    outer.emit(&icmp, &mut ip);
    let mut frame = Vec::new();
    EthernetRepr {
        dst: [2; 6],
        src: [4; 6],
        ethertype: 0x0800,
    }
    .emit(&ip, &mut frame);
    frame
}

fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((0usize..base.len(), any::<u8>()), 0..8),
        0usize..=base.len(),
    )
        .prop_map(move |(edits, cut)| {
            let mut f = base.clone();
            for (i, v) in edits {
                f[i] = v;
            }
            f.truncate(cut);
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(lt in proptest::sample::select(LINKTYPES.to_vec()), data in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(lt, &data);
    }

    #[test]
    fn a_reused_dissection_forgets_the_previous_packet(frames in proptest::collection::vec(prop_oneof![mutated_seed(), mutated(icmp_error_frame())], 1..6)) {
        // Deep frames followed by short or broken ones: nothing of an earlier packet leaks.
        let opts = Options::default();
        let mut d = Dissection::empty();
        for f in &frames {
            for (lt, bytes) in [(linktype::ETHERNET, &f[..]), (linktype::RAW, f.get(14..).unwrap_or(&[]))] {
                dissect_into(&mut d, &opts, lt, bytes);
                prop_assert_eq!(described(&d), described(&dissect_with(&opts, lt, bytes)));
            }
        }
    }

    #[test]
    fn mutated_gre_frames_never_panic(f in mutated_seed()) {
        exercise(linktype::ETHERNET, &f);
        exercise(linktype::RAW, f.get(14..).unwrap_or(&[]));
    }

    #[test]
    fn gre_fields_round_trip(key in proptest::option::of(any::<u32>()), seq in proptest::option::of(any::<u32>()), csum in any::<bool>(),
                              id in any::<u16>(), sport in any::<u16>(), dport in any::<u16>(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let inner = Ipv4Repr { src: [10, 0, 0, 1], dst: [10, 0, 0, 2], protocol: 17, ttl: 64, id, dont_fragment: true, tos: 0 };
        let inner_pkt = ipv4_packet(&inner, |s, d, out| UdpRepr { src_port: sport, dst_port: dport }.emit_v4(s, d, &payload, out));
        let mut gre = Vec::new();
        GreRepr { protocol: 0x0800, checksum: csum, key, seq }.emit(&inner_pkt, &mut gre);
        let outer = Ipv4Repr { src: [192, 0, 2, 1], dst: [198, 51, 100, 7], protocol: 47, ttl: 50, id: !id, dont_fragment: false, tos: 0 };
        let mut ip = Vec::new();
        outer.emit(&gre, &mut ip);
        let mut frame = Vec::new();
        EthernetRepr { dst: [2; 6], src: [4; 6], ethertype: 0x0800 }.emit(&ip, &mut frame);
        let d = dissect(linktype::ETHERNET, &frame);
        let g = d.gre().expect("gre");
        prop_assert_eq!(g.key(), key);
        prop_assert_eq!(g.seq(), seq);
        prop_assert_eq!(g.has_checksum(), csum);
        if csum {
            prop_assert_eq!(g.checksum_ok(), Some(true));
        }
        let Some(Layer::Udp(u)) = d.transport() else { panic!("no udp") };
        prop_assert_eq!((u.src_port(), u.dst_port()), (sport, dport));
        prop_assert_eq!(d.payload, &payload[..]);
        let Some(noisefloor_wire::IpRef::V4(i)) = d.inner_ip() else { panic!() };
        prop_assert_eq!(i.id(), id);
        prop_assert_eq!(i.checksum_ok(), Some(true));
    }

    #[test]
    fn pptp_fields_round_trip(call in any::<u16>(), seq in proptest::option::of(any::<u32>()), ack in proptest::option::of(any::<u32>())) {
        let ppp = [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4];
        let mut gre = Vec::new();
        PptpGreRepr { call_id: call, seq, ack }.emit(&ppp, &mut gre);
        let outer = Ipv4Repr { src: [192, 0, 2, 1], dst: [198, 51, 100, 7], protocol: 47, ttl: 50, id: 1, dont_fragment: false, tos: 0 };
        let mut ip = Vec::new();
        outer.emit(&gre, &mut ip);
        let d = dissect(linktype::RAW, &ip);
        let g = d.gre().expect("gre");
        prop_assert_eq!(g.version(), 1);
        prop_assert_eq!(g.call_id(), Some(call));
        prop_assert_eq!(g.pptp_payload_len(), Some(ppp.len() as u16));
        prop_assert_eq!(g.seq(), seq);
        prop_assert_eq!(g.ack(), ack);
        prop_assert!(d.has(Proto::Ppp));
    }
}

#[test]
fn nesting_is_limited_and_marked() {
    // 20 IP-in-IP headers: decoding stops at the limit with a clear mark.
    let mut pkt = ipv4_packet(
        &Ipv4Repr {
            src: [1, 1, 1, 1],
            dst: [2, 2, 2, 2],
            protocol: 17,
            ttl: 1,
            id: 0,
            dont_fragment: false,
            tos: 0,
        },
        |s, d, o| {
            UdpRepr {
                src_port: 1,
                dst_port: 2,
            }
            .emit_v4(s, d, &[], o)
        },
    );
    for _ in 0..20 {
        let mut o = Vec::new();
        Ipv4Repr {
            src: [3, 3, 3, 3],
            dst: [4, 4, 4, 4],
            protocol: 4,
            ttl: 9,
            id: 0,
            dont_fragment: false,
            tos: 0,
        }
        .emit(&pkt, &mut o);
        pkt = o;
    }
    let d = dissect_with(&Options::default(), linktype::RAW, &pkt);
    assert_eq!(d.stop, noisefloor_wire::Stop::DepthLimit);
    assert_eq!(
        d.layers().iter().filter(|l| l.proto() == Proto::Ip).count(),
        8
    );
    let d = dissect_with(
        &Options {
            max_ip_depth: 3,
            ..Options::default()
        },
        linktype::RAW,
        &pkt,
    );
    assert_eq!(d.layers().len(), 3);
}
