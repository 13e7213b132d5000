//! The Mirai GRE-IP packet from seed 000 (ISC diary 21865, tshark -V output), field by field.

use noisefloor_wire::field::Value;
use noisefloor_wire::render::{FrameMeta, json, summary_line, verbose};
use noisefloor_wire::{Layer, Proto, Stop, build, dissect, linktype};

#[test]
fn seed_000_every_field_tshark_shows() {
    let frame = build::seed_000_frame();
    assert_eq!(frame.len(), 66, "Frame Length: 66 bytes");
    let d = dissect(linktype::ETHERNET, &frame);
    let protos: Vec<Proto> = d.layers().iter().map(|l| l.proto()).collect();
    assert_eq!(
        protos,
        [Proto::Eth, Proto::Ip, Proto::Gre, Proto::Ip, Proto::Udp]
    );
    assert_eq!(d.stop, Stop::Payload);
    assert!(d.payload.is_empty());

    let Layer::Eth(eth) = d.layers().get(0).unwrap() else {
        panic!()
    };
    assert_eq!(eth.dst(), [0x00, 0x1c, 0x7f, 0x81, 0x01, 0x3e]);
    assert_eq!(eth.src(), [0x40, 0x55, 0x39, 0x6f, 0xc8, 0x96]);
    assert_eq!(eth.ethertype(), 0x0800);

    let Layer::Ipv4(outer) = d.layers().get(1).unwrap() else {
        panic!()
    };
    assert_eq!(outer.version(), 4);
    assert_eq!(outer.header_len(), 20);
    assert_eq!(outer.tos(), 0);
    assert_eq!(outer.total_len(), 52);
    assert_eq!(outer.id(), 0xbfaf);
    assert!(outer.dont_fragment() && !outer.more_fragments());
    assert_eq!(outer.frag_offset(), 0);
    assert_eq!(outer.ttl(), 56);
    assert_eq!(outer.protocol(), 47);
    assert_eq!(outer.checksum(), 0x0f36, "Header checksum: 0x0f36");
    // 1.2.3.4 is the reporter's stand-in for their own address; the sum was computed
    // over the real one.
    assert_eq!(outer.checksum_ok(), Some(false));
    assert_eq!(outer.src(), [31, 168, 107, 48]);
    assert_eq!(outer.dst(), [1, 2, 3, 4]);

    let Layer::Gre(gre) = d.layers().get(2).unwrap() else {
        panic!()
    };
    assert_eq!(gre.flags(), 0x0000);
    assert!(!gre.has_checksum() && !gre.has_routing());
    assert_eq!(gre.key(), None);
    assert_eq!(gre.seq(), None);
    assert_eq!(gre.recursion(), 0);
    assert_eq!(gre.version(), 0);
    assert_eq!(gre.protocol(), 0x0800);

    let Layer::Ipv4(inner) = d.layers().get(3).unwrap() else {
        panic!()
    };
    assert_eq!(inner.total_len(), 28);
    assert_eq!(inner.id(), 0x2854);
    assert!(inner.dont_fragment());
    assert_eq!(inner.ttl(), 64);
    assert_eq!(inner.protocol(), 17);
    assert_eq!(inner.checksum(), 0x10cc, "Header checksum: 0x10cc");
    assert_eq!(inner.src(), [241, 141, 248, 58]);
    assert_eq!(inner.dst(), [178, 177, 101, 55]);

    let Layer::Udp(udp) = d.layers().get(4).unwrap() else {
        panic!()
    };
    assert_eq!(udp.src_port(), 10335);
    assert_eq!(udp.dst_port(), 32698);
    assert_eq!(udp.length(), 8);
    assert_eq!(udp.checksum(), 0x5613);

    // The same values through the field visitor, which JSON, -V and filters use.
    assert_eq!(
        d.layers().get(2).unwrap().field("proto"),
        Some(Value::Hex(0x0800, 4))
    );
    assert_eq!(
        d.layers().get(4).unwrap().field("dport"),
        Some(Value::U(32698))
    );
    assert_eq!(
        d.inner_ip().map(|ip| ip.src().to_string()).as_deref(),
        Some("241.141.248.58")
    );
    assert_eq!(
        d.outer_ip().map(|ip| ip.dst().to_string()).as_deref(),
        Some("1.2.3.4")
    );

    let mut chain = String::new();
    d.chain(&mut chain);
    assert_eq!(chain, "eth:ip:gre:ip:udp");

    let meta = FrameMeta {
        number: 1,
        ts_ns: 1_482_860_108_152_775_000,
        caplen: 66,
        origlen: 66,
        interface: 0,
    };
    let mut s = String::new();
    summary_line(&mut s, &meta, &d);
    assert!(s.contains("2016-12-27 17:35:08.152775"), "{s}");
    assert!(s.contains("31.168.107.48 > 1.2.3.4"), "{s}");
    assert!(
        s.contains("241.141.248.58:10335 > 178.177.101.55:32698 UDP"),
        "{s}"
    );
    assert!(s.contains("eth:ip:gre:ip:udp"), "{s}");

    let mut v = String::new();
    verbose(&mut v, &meta, &d);
    for line in [
        ".1.. .... .... .... = Don't fragment: Set",
        "0... .... .... .... = Checksum bit: Not set",
        ".... .... .... .000 = Version: 0",
        "Protocol type: 0x0800 (2048)",
        "Identification: 0xbfaf (49071)",
        "Identification: 0x2854 (10324)",
        "Time to live: 56",
        "Destination port: 32698",
    ] {
        assert!(v.contains(line), "verbose tree lacks {line:?}:\n{v}");
    }

    let mut j = String::new();
    json(&mut j, &meta, &d);
    assert!(
        j.starts_with("{\"frame\":1,\"ts\":\"2016-12-27T17:35:08.152775000Z\""),
        "{j}"
    );
    assert!(j.contains("\"protocols\":\"eth:ip:gre:ip:udp\""), "{j}");
    assert!(j.contains("{\"layer\":\"gre\",\"flags\":0,"), "{j}");
}
