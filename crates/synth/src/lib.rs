//! Deterministic, labelled darknet traffic, written from public descriptions of each
//! sender (Mirai's `attack_gre.c` and scanner, ZMap, masscan, DoS backscatter per Moore,
//! Voelker and Savage). Used by tests (ground truth per packet) and by `bench/` (a
//! reproducible 10 M-packet capture).

pub mod attacks;
pub mod day;
pub mod lake;
pub mod live;

use noisefloor_wire::build::{
    EthernetRepr, GreRepr, IcmpRepr, Ipv4Repr, PptpGreRepr, TcpRepr, UdpRepr, ipv4_packet,
};

/// splitmix64: small, fast and reproducible on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    pub fn u16(&mut self) -> u16 {
        self.next_u64() as u16
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    pub fn addr(&mut self) -> [u8; 4] {
        self.u32().to_be_bytes()
    }
    pub fn mac(&mut self) -> [u8; 6] {
        let b = self.next_u64().to_be_bytes();
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }
}

/// What generated a packet: the ground-truth label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Mirai `attack_gre_ip` from a little-endian bot.
    MiraiGreIpLe,
    /// Mirai `attack_gre_ip` from a big-endian bot (MIPS/PowerPC devices).
    MiraiGreIpBe,
    /// Mirai `attack_gre_eth` (TEB with random inner MACs), little-endian bot.
    MiraiGreEthLe,
    /// Mirai `attack_gre_eth` from a big-endian bot.
    MiraiGreEthBe,
    /// Mirai GRE flood with the attacker fixing the IP ID: inner = !outer.
    MiraiGreFixedId,
    /// Mirai scanner SYN: sequence number equals the destination address.
    MiraiScan,
    /// ZMap SYN: IP ID 54321.
    Zmap,
    /// masscan SYN: IP ID = (dst ^ dport ^ seq) & 0xffff.
    Masscan,
    /// Ordinary SYN scan with random sequence and ID.
    ScanTcp,
    /// UDP probes to well-known services (DNS, NTP, SSDP, SIP, SNMP, memcached).
    ScanUdp,
    /// ICMP echo request sweep.
    ScanIcmp,
    /// SYN-ACK from a DoS victim answering spoofed SYNs that carried our address.
    BackscatterSynAck,
    /// RST from a DoS victim.
    BackscatterRst,
    /// ICMP unreachable quoting a packet whose source is the sensor.
    BackscatterIcmp,
    /// A keyed GRE tunnel packet (not Mirai).
    GreKeyed,
    /// PPTP GRE version 1 with PPP.
    Pptp,
    /// GRE/IP/UDP that looks like Mirai but whose IDs do not satisfy the relation.
    GreNearMiss,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::MiraiGreIpLe,
        Kind::MiraiGreIpBe,
        Kind::MiraiGreEthLe,
        Kind::MiraiGreEthBe,
        Kind::MiraiGreFixedId,
        Kind::MiraiScan,
        Kind::Zmap,
        Kind::Masscan,
        Kind::ScanTcp,
        Kind::ScanUdp,
        Kind::ScanIcmp,
        Kind::BackscatterSynAck,
        Kind::BackscatterRst,
        Kind::BackscatterIcmp,
        Kind::GreKeyed,
        Kind::Pptp,
        Kind::GreNearMiss,
    ];
}

impl Kind {
    /// The class noisefloor must give a packet of this kind (the ground-truth label).
    pub fn class_name(self) -> &'static str {
        match self {
            Kind::MiraiGreIpLe | Kind::MiraiGreIpBe | Kind::MiraiGreFixedId => "mirai-gre-ip",
            Kind::MiraiGreEthLe | Kind::MiraiGreEthBe => "mirai-gre-eth",
            Kind::MiraiScan => "mirai-scan",
            Kind::Zmap => "zmap",
            Kind::Masscan => "masscan",
            Kind::ScanTcp => "scan-tcp",
            Kind::ScanUdp => "scan-udp",
            Kind::ScanIcmp => "scan-icmp",
            Kind::BackscatterSynAck | Kind::BackscatterRst | Kind::BackscatterIcmp => "backscatter",
            Kind::GreKeyed | Kind::Pptp | Kind::GreNearMiss => "gre-other",
        }
    }
}

/// Where the sensor listens: a /24 of dark addresses.
#[derive(Clone, Copy, Debug)]
pub struct Sensor {
    pub prefix: [u8; 4],
}
impl Default for Sensor {
    fn default() -> Self {
        // TEST-NET-2, documentation space.
        Sensor {
            prefix: [198, 51, 100, 0],
        }
    }
}
impl Sensor {
    /// The single address a /32 flood hits.
    pub fn target(&self) -> [u8; 4] {
        let mut a = self.prefix;
        a[3] = 1;
        a
    }
    fn addr(&self, rng: &mut Rng) -> [u8; 4] {
        let mut a = self.prefix;
        a[3] = rng.below(256) as u8;
        a
    }
}

const SENSOR_MAC: [u8; 6] = [0x00, 0x1c, 0x7f, 0x81, 0x01, 0x3e];
const ROUTER_MAC: [u8; 6] = [0x40, 0x55, 0x39, 0x6f, 0xc8, 0x96];

pub fn eth(ip: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + ip.len());
    EthernetRepr {
        dst: SENSOR_MAC,
        src: ROUTER_MAC,
        ethertype: 0x0800,
    }
    .emit(ip, &mut f);
    f
}

/// Public-looking source: avoids 0/8, 10/8, 127/8, 224/3 so sources read as Internet hosts.
pub fn public_addr(rng: &mut Rng) -> [u8; 4] {
    loop {
        let a = rng.addr();
        if !matches!(a[0], 0 | 10 | 127 | 224..=255) {
            return a;
        }
    }
}

/// The inner packet of a GRE flood: IPv4/UDP between random addresses and ports, DF set,
/// TTL 64, the given IP ID.
fn random_inner_udp(rng: &mut Rng, id: u16, payload: &[u8]) -> Vec<u8> {
    let inner = Ipv4Repr {
        src: rng.addr(),
        dst: rng.addr(),
        protocol: 17,
        ttl: 64,
        id,
        dont_fragment: true,
        tos: 0,
    };
    let (sport, dport) = (rng.u16(), rng.u16());
    ipv4_packet(&inner, |s, d, o| {
        UdpRepr {
            src_port: sport,
            dst_port: dport,
        }
        .emit_v4(s, d, payload, o)
    })
}

fn mirai_gre(rng: &mut Rng, sensor: &Sensor, kind: Kind) -> Vec<u8> {
    // Mirai floods one /32 target, or random addresses inside a target prefix.
    mirai_gre_to(
        rng,
        kind,
        |rng| {
            if rng.below(2) == 0 {
                sensor.target()
            } else {
                sensor.addr(rng)
            }
        },
        public_addr,
    )
}

/// A Mirai GRE flood packet of `kind` to the outer destination `dst` picks, from the outer
/// source `src` picks (each called once, in this order, after the inner packet is made).
pub fn mirai_gre_to(
    rng: &mut Rng,
    kind: Kind,
    dst: impl FnOnce(&mut Rng) -> [u8; 4],
    src: impl FnOnce(&mut Rng) -> [u8; 4],
) -> Vec<u8> {
    let r = rng.u16();
    let (outer_id, inner_id) = match kind {
        // Raw values written without byte swapping: on the wire a little-endian bot's
        // fields appear byte-swapped.
        Kind::MiraiGreIpLe | Kind::MiraiGreEthLe => {
            (r.swap_bytes(), (!r.wrapping_sub(1000)).swap_bytes())
        }
        Kind::MiraiGreIpBe | Kind::MiraiGreEthBe => (r, !r.wrapping_sub(1000)),
        _ => (r, !r),
    };
    let payload_len = if rng.below(2) == 0 { 0 } else { 512 };
    let payload = rng.bytes(payload_len);
    let inner_pkt = random_inner_udp(rng, inner_id, &payload);
    let mut gre = Vec::with_capacity(inner_pkt.len() + 18);
    if matches!(kind, Kind::MiraiGreEthLe | Kind::MiraiGreEthBe) {
        let mut e = Vec::with_capacity(inner_pkt.len() + 14);
        EthernetRepr {
            dst: rng.mac(),
            src: rng.mac(),
            ethertype: 0x0800,
        }
        .emit(&inner_pkt, &mut e);
        GreRepr {
            protocol: 0x6558,
            ..Default::default()
        }
        .emit(&e, &mut gre);
    } else {
        GreRepr {
            protocol: 0x0800,
            ..Default::default()
        }
        .emit(&inner_pkt, &mut gre);
    }
    let dst = dst(rng);
    let outer = Ipv4Repr {
        src: src(rng),
        dst,
        protocol: 47,
        ttl: 40 + rng.below(24) as u8,
        id: outer_id,
        dont_fragment: true,
        tos: 0,
    };
    let mut ip = Vec::with_capacity(gre.len() + 20);
    outer.emit(&gre, &mut ip);
    eth(&ip)
}

fn tcp(rng: &mut Rng, src: [u8; 4], dst: [u8; 4], id: u16, t: TcpRepr) -> Vec<u8> {
    let ip = Ipv4Repr {
        src,
        dst,
        protocol: 6,
        ttl: 32 + rng.below(200) as u8,
        id,
        dont_fragment: false,
        tos: 0,
    };
    eth(&ipv4_packet(&ip, |s, d, o| t.emit_v4(s, d, &[], o)))
}

const SYN: u16 = 0x002;
const RST: u16 = 0x004;
const ACK: u16 = 0x010;

/// One Ethernet frame of the given kind, addressed to the sensor.
pub fn frame(rng: &mut Rng, sensor: &Sensor, kind: Kind) -> Vec<u8> {
    match kind {
        Kind::MiraiGreIpLe
        | Kind::MiraiGreIpBe
        | Kind::MiraiGreEthLe
        | Kind::MiraiGreEthBe
        | Kind::MiraiGreFixedId => mirai_gre(rng, sensor, kind),
        Kind::MiraiScan => {
            let dst = sensor.addr(rng);
            let port = [23, 23, 23, 2323, 37215, 52869, 8080, 7547, 443][rng.below(9) as usize];
            let t = TcpRepr {
                src_port: rng.u16() | 1024,
                dst_port: port,
                seq: u32::from_be_bytes(dst),
                ack: 0,
                flags: SYN,
                window: rng.u16(),
            };
            let (src, id) = (public_addr(rng), rng.u16());
            tcp(rng, src, dst, id, t)
        }
        Kind::Zmap => {
            let t = TcpRepr {
                src_port: rng.u16() | 1024,
                dst_port: [22, 80, 443, 3389, 6379][rng.below(5) as usize],
                seq: rng.u32(),
                ack: 0,
                flags: SYN,
                window: 65535,
            };
            let (src, dst) = (public_addr(rng), sensor.addr(rng));
            tcp(rng, src, dst, 54321, t)
        }
        Kind::Masscan => {
            let dst = sensor.addr(rng);
            let dport = [445, 1433, 3306, 5900, 8545][rng.below(5) as usize];
            let seq = rng.u32();
            let id = ((u32::from_be_bytes(dst) ^ dport as u32 ^ seq) & 0xffff) as u16;
            let t = TcpRepr {
                src_port: 61000 + rng.below(4000) as u16,
                dst_port: dport,
                seq,
                ack: 0,
                flags: SYN,
                window: 1024,
            };
            let src = public_addr(rng);
            tcp(rng, src, dst, id, t)
        }
        Kind::ScanTcp => {
            let t = TcpRepr {
                src_port: rng.u16() | 1024,
                dst_port: rng.u16(),
                seq: rng.u32(),
                ack: 0,
                flags: SYN,
                window: 29200,
            };
            let (src, dst, id) = (public_addr(rng), sensor.addr(rng), rng.u16());
            tcp(rng, src, dst, id, t)
        }
        Kind::BackscatterSynAck | Kind::BackscatterRst => {
            let flags = if kind == Kind::BackscatterRst {
                RST | ACK
            } else {
                SYN | ACK
            };
            let t = TcpRepr {
                src_port: [80, 443, 53, 25][rng.below(4) as usize],
                dst_port: rng.u16() | 1024,
                seq: rng.u32(),
                ack: rng.u32(),
                flags,
                window: 0,
            };
            let (src, dst, id) = (public_addr(rng), sensor.addr(rng), rng.u16());
            tcp(rng, src, dst, id, t)
        }
        Kind::ScanUdp => {
            let (port, payload): (u16, Vec<u8>) = match rng.below(6) {
                0 => (53, vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 0, 0, 1, 0, 1]),
                1 => (123, {
                    let mut v = vec![0u8; 48];
                    v[0] = 0x23;
                    v
                }),
                2 => (1900, b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: ssdp:all\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\n\r\n".to_vec()),
                3 => (5060, b"OPTIONS sip:100@198.51.100.1 SIP/2.0\r\n\r\n".to_vec()),
                4 => (161, vec![0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c']),
                _ => (11211, b"\0\x01\0\0\0\x01\0\0stats\r\n".to_vec()),
            };
            let ip = Ipv4Repr {
                src: public_addr(rng),
                dst: sensor.addr(rng),
                protocol: 17,
                ttl: 50,
                id: rng.u16(),
                dont_fragment: false,
                tos: 0,
            };
            eth(&ipv4_packet(&ip, |s, d, o| {
                UdpRepr {
                    src_port: rng.u16() | 1024,
                    dst_port: port,
                }
                .emit_v4(s, d, &payload, o)
            }))
        }
        Kind::ScanIcmp => {
            let ip = Ipv4Repr {
                src: public_addr(rng),
                dst: sensor.addr(rng),
                protocol: 1,
                ttl: 52,
                id: rng.u16(),
                dont_fragment: false,
                tos: 0,
            };
            let rest = rng.u32().to_be_bytes();
            eth(&ipv4_packet(&ip, |_, _, o| {
                IcmpRepr {
                    icmp_type: 8,
                    code: 0,
                    rest,
                }
                .emit(&[0u8; 32], o)
            }))
        }
        Kind::BackscatterIcmp => {
            // A router or victim reports that a packet "from" the sensor could not be delivered.
            let sensor_addr = sensor.addr(rng);
            let victim = public_addr(rng);
            let quoted_ip = Ipv4Repr {
                src: sensor_addr,
                dst: victim,
                protocol: 17,
                ttl: 1 + rng.below(60) as u8,
                id: rng.u16(),
                dont_fragment: false,
                tos: 0,
            };
            let quoted = ipv4_packet(&quoted_ip, |s, d, o| {
                UdpRepr {
                    src_port: rng.u16(),
                    dst_port: 53,
                }
                .emit_v4(s, d, &[0u8; 20], o)
            });
            let ip = Ipv4Repr {
                src: public_addr(rng),
                dst: sensor_addr,
                protocol: 1,
                ttl: 250,
                id: rng.u16(),
                dont_fragment: false,
                tos: 0xc0,
            };
            let code = [1, 3, 13][rng.below(3) as usize];
            eth(&ipv4_packet(&ip, |_, _, o| {
                IcmpRepr {
                    icmp_type: 3,
                    code,
                    rest: [0; 4],
                }
                .emit(&quoted[..28], o)
            }))
        }
        Kind::GreKeyed | Kind::GreNearMiss => {
            let (key, inner_id, outer_id) = if kind == Kind::GreKeyed {
                (Some(rng.u32()), rng.u16(), rng.u16())
            } else {
                // Random IDs, re-drawn in the 1-in-65536 case where they would satisfy a Mirai relation.
                loop {
                    let (o, i) = (rng.u16(), rng.u16());
                    let le = (!o.swap_bytes().wrapping_sub(1000)).swap_bytes();
                    if i != le && i != !o.wrapping_sub(1000) && i != !o {
                        break (None, i, o);
                    }
                }
            };
            let inner_pkt = random_inner_udp(rng, inner_id, &[]);
            let mut gre = Vec::new();
            GreRepr {
                protocol: 0x0800,
                key,
                ..Default::default()
            }
            .emit(&inner_pkt, &mut gre);
            let outer = Ipv4Repr {
                src: public_addr(rng),
                dst: sensor.addr(rng),
                protocol: 47,
                ttl: 55,
                id: outer_id,
                dont_fragment: true,
                tos: 0,
            };
            let mut ip = Vec::new();
            outer.emit(&gre, &mut ip);
            eth(&ip)
        }
        Kind::Pptp => {
            let ppp = [0xff, 0x03, 0xc0, 0x21, 1, rng.u16() as u8, 0, 4];
            let mut gre = Vec::new();
            PptpGreRepr {
                call_id: rng.u16(),
                seq: Some(rng.u32()),
                ack: None,
            }
            .emit(&ppp, &mut gre);
            let outer = Ipv4Repr {
                src: public_addr(rng),
                dst: sensor.addr(rng),
                protocol: 47,
                ttl: 120,
                id: rng.u16(),
                dont_fragment: false,
                tos: 0,
            };
            let mut ip = Vec::new();
            outer.emit(&gre, &mut ip);
            eth(&ip)
        }
    }
}

/// The benchmark mix: GRE floods, SYN scans, backscatter and UDP probes in darknet-like shares.
pub fn bench_kind(rng: &mut Rng) -> Kind {
    match rng.below(100) {
        0..=29 => Kind::MiraiGreIpLe,
        30..=34 => Kind::MiraiGreIpBe,
        35..=39 => Kind::MiraiGreEthLe,
        40..=54 => Kind::MiraiScan,
        55..=59 => Kind::Zmap,
        60..=64 => Kind::Masscan,
        65..=69 => Kind::ScanTcp,
        70..=76 => Kind::BackscatterSynAck,
        77..=80 => Kind::BackscatterRst,
        81..=84 => Kind::BackscatterIcmp,
        85..=94 => Kind::ScanUdp,
        95..=96 => Kind::ScanIcmp,
        97 => Kind::GreKeyed,
        98 => Kind::Pptp,
        _ => Kind::GreNearMiss,
    }
}
