//! One class, tags and the evidence behind them for every packet.
//!
//! Rules, in the order they are tried (the first that holds decides the class):
//!
//! 1. `fragment` — a non-first IP fragment: its bytes are the middle of another packet, so
//!    nothing about its sender can be read from them.
//! 2. `mirai-gre-ip` / `mirai-gre-eth` — Mirai's GRE floods (`attack_gre.c`, public since
//!    2016): outer IPv4 protocol 47, a 4-byte GRE header with no flags and protocol 0x0800
//!    (ip) or 0x6558 with an inner Ethernet header (eth), inner IPv4/UDP, and the exact IP-ID
//!    relation. The bot stores outer ID = r & 0xffff and inner ID = ~(outer − 1000) on the
//!    same raw 16-bit value without byte swapping, so on the wire a little-endian bot gives
//!    inner = swap16(~(swap16(outer) − 1000)) and a big-endian bot inner = ~(outer − 1000);
//!    with the ID fixed by the attacker, inner = ~outer. A chance match is 1 in 65,536 per
//!    relation; GRE without an exact relation is never called Mirai. Supporting tags: DF on
//!    both headers, inner TTL 64, UDP length = 8 + payload, 0- or 512-byte payload (512 is
//!    the default), inner source in bogon space.
//! 3. `gre-other` — any other GRE: PPTP (version 1), ERSPAN, keyed tunnels, keepalives, other
//!    payloads, and GRE/IP/UDP whose IDs miss the relation (the reason is kept).
//! 4. `backscatter` — replies to packets the sensor never sent (Moore, Voelker and Savage,
//!    "Inferring Internet Denial-of-Service Activity", 2001): TCP SYN-ACK or RST, ICMP/ICMPv6
//!    echo replies, ICMP errors quoting a packet whose source is the sensor (the packet's
//!    destination, or one of the sensor's own prefixes), DNS responses. The victim is the
//!    packet's source, or for ICMP errors the quoted packet's destination.
//! 5. `mirai-scan` — TCP SYN whose sequence number equals the destination IPv4 address
//!    (Mirai `scanner.c`; ports 23, 2323 and its descendants' 37215, 52869, 8080, 7547 ...).
//! 6. `zmap` — IPv4 ID 54321 on a probe (ZMap's default, `src/probe_modules`).
//! 7. `masscan` — TCP SYN with IPv4 ID = (destination ^ destination port ^ sequence) & 0xffff
//!    (masscan `templ-pkt.c`).
//! 8. `scan-tcp`, `scan-udp` (service named by port), `scan-icmp`.
//! 9. `other` — everything else (non-IP, other IP protocols, TCP without SYN ...).

use std::net::IpAddr;

use noisefloor_wire::quick::Quick;
use noisefloor_wire::{IpRef, Ipv4, Layer, Proto, Stop, Tcp, Udp, link::ethertype};

/// The class of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    MiraiGreIp,
    MiraiGreEth,
    MiraiScan,
    Zmap,
    Masscan,
    Backscatter,
    GreOther,
    /// GRE described by a firewall log: no inner header, so Mirai cannot be tested.
    GreUnverified,
    ScanTcp,
    ScanUdp,
    ScanIcmp,
    Fragment,
    Other,
}

impl Class {
    pub const ALL: [Class; 13] = [
        Class::MiraiGreIp,
        Class::MiraiGreEth,
        Class::MiraiScan,
        Class::Zmap,
        Class::Masscan,
        Class::Backscatter,
        Class::GreOther,
        Class::GreUnverified,
        Class::ScanTcp,
        Class::ScanUdp,
        Class::ScanIcmp,
        Class::Fragment,
        Class::Other,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Class::MiraiGreIp => "mirai-gre-ip",
            Class::MiraiGreEth => "mirai-gre-eth",
            Class::MiraiScan => "mirai-scan",
            Class::Zmap => "zmap",
            Class::Masscan => "masscan",
            Class::Backscatter => "backscatter",
            Class::GreOther => "gre-other",
            Class::GreUnverified => "gre-unverified",
            Class::ScanTcp => "scan-tcp",
            Class::ScanUdp => "scan-udp",
            Class::ScanIcmp => "scan-icmp",
            Class::Fragment => "fragment",
            Class::Other => "other",
        }
    }
    pub fn from_name(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn is_mirai_gre(self) -> bool {
        matches!(self, Class::MiraiGreIp | Class::MiraiGreEth)
    }
}

/// Which IP-ID relation a Mirai GRE packet satisfies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MiraiVariant {
    /// inner = swap16(~(swap16(outer) − 1000)): a little-endian bot (x86, ARM).
    LittleEndian,
    /// inner = ~(outer − 1000): a big-endian bot (MIPS, PowerPC).
    BigEndian,
    /// inner = ~outer: the attacker fixed the IP ID.
    FixedId,
}
impl MiraiVariant {
    pub fn name(self) -> &'static str {
        match self {
            MiraiVariant::LittleEndian => "little-endian",
            MiraiVariant::BigEndian => "big-endian",
            MiraiVariant::FixedId => "fixed-id",
        }
    }
    pub fn short(self) -> &'static str {
        match self {
            MiraiVariant::LittleEndian => "LE",
            MiraiVariant::BigEndian => "BE",
            MiraiVariant::FixedId => "fixed",
        }
    }
    /// The inner ID this variant predicts from the outer one.
    pub fn expected_inner(self, outer: u16) -> u16 {
        match self {
            MiraiVariant::LittleEndian => (!(outer.swap_bytes().wrapping_sub(1000))).swap_bytes(),
            MiraiVariant::BigEndian => !(outer.wrapping_sub(1000)),
            MiraiVariant::FixedId => !outer,
        }
    }
}

/// The variant whose relation the two IDs satisfy exactly, if any.
pub fn mirai_relation(outer: u16, inner: u16) -> Option<MiraiVariant> {
    [
        MiraiVariant::LittleEndian,
        MiraiVariant::BigEndian,
        MiraiVariant::FixedId,
    ]
    .into_iter()
    .find(|v| v.expected_inner(outer) == inner)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackscatterKind {
    SynAck,
    Rst,
    EchoReply,
    /// ICMP/ICMPv6 error (type, code) about a packet from the sensor.
    IcmpError(u8, u8),
    DnsResponse,
}
impl BackscatterKind {
    pub fn name(self) -> &'static str {
        match self {
            BackscatterKind::SynAck => "tcp-syn-ack",
            BackscatterKind::Rst => "tcp-rst",
            BackscatterKind::EchoReply => "icmp-echo-reply",
            BackscatterKind::IcmpError(..) => "icmp-error",
            BackscatterKind::DnsResponse => "dns-response",
        }
    }
}

/// Why GRE is not a Mirai flood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GreReason {
    Pptp,
    Erspan,
    Keyed(u32),
    Keepalive,
    /// GRE/IP/UDP shaped like Mirai, but the IDs satisfy no relation.
    NoRelation {
        outer_id: u16,
        inner_id: u16,
    },
    /// Flags or version other than a plain 4-byte header.
    Flags(u16),
    /// A payload type Mirai does not send (or IPv6 outside or inside).
    Payload(u16),
    /// IPv4 inside, but not UDP: a routed tunnel (the inner IP protocol).
    InnerNotUdp(u8),
    /// Cut short before the inner headers.
    Truncated,
}
impl GreReason {
    pub fn name(self) -> &'static str {
        match self {
            GreReason::Pptp => "pptp",
            GreReason::Erspan => "erspan",
            GreReason::Keyed(_) => "keyed",
            GreReason::Keepalive => "keepalive",
            GreReason::NoRelation { .. } => "no-id-relation",
            GreReason::Flags(_) => "flags",
            GreReason::Payload(_) => "payload",
            GreReason::InnerNotUdp(_) => "routed-tunnel",
            GreReason::Truncated => "truncated",
        }
    }
}

/// What decided the class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Evidence {
    MiraiGre {
        variant: MiraiVariant,
        outer_id: u16,
        inner_id: u16,
        payload_len: u16,
        inner_ttl: u8,
    },
    MiraiScan {
        seq: u32,
        dport: u16,
    },
    Zmap {
        ip_id: u16,
    },
    Masscan {
        ip_id: u16,
        seq: u32,
        dport: u16,
    },
    Backscatter {
        kind: BackscatterKind,
        victim: IpAddr,
        victim_port: Option<u16>,
    },
    GreOther {
        reason: GreReason,
    },
    /// GRE from a log line: the IP total length, when logged.
    GreUnverified {
        ip_len: Option<u32>,
    },
    Scan {
        port: u16,
        service: &'static str,
    },
    Fragment {
        offset_bytes: u32,
    },
    Other {
        what: &'static str,
        proto: u8,
    },
}

/// Supporting observations, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(pub u32);

macro_rules! tags {
    ($($name:ident = $bit:expr, $label:literal;)*) => {
        impl Tags {
            $(pub const $name: Tags = Tags(1 << $bit);)*
            const NAMES: &'static [(Tags, &'static str)] = &[$((Tags::$name, $label)),*];
        }
    };
}
tags! {
    DF_OUTER = 0, "df-outer";
    DF_INNER = 1, "df-inner";
    INNER_TTL_64 = 2, "inner-ttl-64";
    UDP_LEN_OK = 3, "udp-length-consistent";
    PAYLOAD_0 = 4, "payload-0";
    PAYLOAD_512 = 5, "payload-512";
    INNER_SRC_BOGON = 6, "inner-src-bogon";
    FIRST_FRAGMENT = 7, "first-fragment";
    TRUNCATED = 8, "truncated";
    IPV6 = 9, "ipv6";
    FROM_SENSOR_QUOTED = 10, "quotes-sensor";
    TUNNELLED = 11, "tunnelled";
    SYN_PAYLOAD = 12, "syn-with-payload";
    MIRAI_PORT = 13, "mirai-port";
    MIRAI_SIZE = 14, "mirai-size";
    FLAGS_UNKNOWN = 15, "tcp-flags-not-logged";
}
impl Tags {
    pub fn has(self, t: Tags) -> bool {
        self.0 & t.0 != 0
    }
    pub fn set(&mut self, t: Tags) {
        self.0 |= t.0;
    }
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Tags::NAMES
            .iter()
            .filter(move |(t, _)| self.has(*t))
            .map(|(_, n)| *n)
    }
}

/// The class, tags and evidence of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verdict {
    pub class: Class,
    pub tags: Tags,
    pub evidence: Evidence,
}

impl Verdict {
    fn new(class: Class, evidence: Evidence) -> Self {
        Verdict {
            class,
            tags: Tags::default(),
            evidence,
        }
    }
    /// The Mirai variant, for Mirai GRE floods.
    pub fn mirai_variant(&self) -> Option<MiraiVariant> {
        match self.evidence {
            Evidence::MiraiGre { variant, .. } => Some(variant),
            _ => None,
        }
    }
    /// One line a person can check against the packet.
    pub fn describe(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self.evidence {
            Evidence::MiraiGre {
                variant,
                outer_id,
                inner_id,
                payload_len,
                inner_ttl,
            } => write!(
                out,
                "outer IP ID 0x{outer_id:04x}, inner 0x{inner_id:04x} = {} ({} bot); inner TTL {inner_ttl}, {payload_len}-byte UDP payload",
                match variant {
                    MiraiVariant::LittleEndian => "swap16(~(swap16(outer) - 1000))",
                    MiraiVariant::BigEndian => "~(outer - 1000)",
                    MiraiVariant::FixedId => "~outer",
                },
                variant.name()
            ),
            Evidence::MiraiScan { seq, dport } => write!(
                out,
                "TCP SYN to port {dport} whose sequence number {seq} is the destination address"
            ),
            Evidence::Zmap { ip_id } => write!(out, "IP ID {ip_id} (ZMap's fixed value)"),
            Evidence::Masscan { ip_id, seq, dport } => write!(
                out,
                "IP ID 0x{ip_id:04x} = (destination ^ port {dport} ^ sequence {seq}) & 0xffff"
            ),
            Evidence::Backscatter {
                kind,
                victim,
                victim_port,
            } => {
                let what = match kind {
                    BackscatterKind::SynAck => "TCP SYN-ACK".to_string(),
                    BackscatterKind::Rst => "TCP RST".to_string(),
                    BackscatterKind::EchoReply => "ICMP echo reply".to_string(),
                    BackscatterKind::IcmpError(t, c) => {
                        format!("ICMP error type {t} code {c} quoting a packet from the sensor")
                    }
                    BackscatterKind::DnsResponse => "DNS response".to_string(),
                };
                match victim_port {
                    Some(p) => write!(out, "{what}; victim {victim} port {p}"),
                    None => write!(out, "{what}; victim {victim}"),
                }
            }
            Evidence::GreOther { reason } => match reason {
                GreReason::Pptp => write!(out, "GRE version 1 (PPTP)"),
                GreReason::Erspan => write!(out, "ERSPAN mirror traffic"),
                GreReason::Keyed(k) => write!(out, "GRE key 0x{k:x} (a configured tunnel)"),
                GreReason::Keepalive => write!(out, "GRE without payload (keepalive)"),
                GreReason::NoRelation { outer_id, inner_id } => {
                    write!(
                        out,
                        "GRE/IP/UDP, but inner IP ID 0x{inner_id:04x} matches no Mirai relation to outer 0x{outer_id:04x}"
                    )
                }
                GreReason::Flags(f) => write!(out, "GRE flags/version 0x{f:04x}"),
                GreReason::Payload(p) => write!(
                    out,
                    "GRE payload 0x{p:04x} ({})",
                    noisefloor_wire::gre::gre_protocol_name(p)
                ),
                GreReason::InnerNotUdp(p) => write!(
                    out,
                    "GRE carrying IP protocol {p} ({}), not UDP: a routed tunnel",
                    noisefloor_wire::ip::proto::name(p)
                ),
                GreReason::Truncated => write!(out, "GRE cut short before the inner headers"),
            },
            Evidence::GreUnverified { ip_len } => {
                write!(
                    out,
                    "GRE (IP protocol 47) in a firewall log: the inner headers are not logged, so Mirai's IP-ID relation cannot be checked"
                )
                .and_then(|_| match ip_len {
                    Some(l) if mirai_gre_size(l).is_some() => write!(
                        out,
                        "; length {l} is a Mirai GRE flood's default size ({})",
                        mirai_gre_size(l).unwrap_or_default()
                    ),
                    Some(l) => write!(out, "; length {l}"),
                    None => Ok(()),
                })
            }
            Evidence::Scan { port, service } => write!(out, "port {port} ({service})"),
            Evidence::Fragment { offset_bytes } => {
                write!(out, "IP fragment at offset {offset_bytes}")
            }
            Evidence::Other { what, proto } => write!(out, "{what} (IP protocol {proto})"),
        };
    }
}

/// The Mirai GRE flood a packet of this IP total length would be, with its default
/// (512-byte) or empty payload: 20 outer IP + 4 GRE (+ 14 Ethernet) + 20 IP + 8 UDP + payload.
pub fn mirai_gre_size(ip_len: u32) -> Option<&'static str> {
    match ip_len {
        564 => Some("GRE-IP, 512-byte payload"),
        578 => Some("GRE-ETH, 512-byte payload"),
        52 => Some("GRE-IP, empty payload"),
        66 => Some("GRE-ETH, empty payload"),
        _ => None,
    }
}

/// What the classifier knows about the sensor.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The sensor's own addresses or prefixes.
    pub own: Vec<(IpAddr, u8)>,
}
impl Context {
    pub fn is_own(&self, a: IpAddr) -> bool {
        self.own.iter().any(|&(net, len)| in_prefix(net, len, a))
    }
}

pub use noisefloor_wire::prefix::{contains as in_prefix, parse as parse_prefix};

mod attack;
mod observation;
pub use attack::{AMPLIFIERS, Amplifier, AttackKind, amplifier, attack_shape};
pub use observation::classify_observation;

/// 0/8, 127/8, 224/4 (multicast) or 240/4 (reserved): never a real source.
pub fn is_bogon_v4(a: [u8; 4]) -> bool {
    a[0] == 0 || a[0] == 127 || a[0] >= 224
}

/// The longest text [`port_key`] writes (`IPv6-in-IPv4`, `65535/SCTP`, `proto 255`).
pub const PORT_KEY_MAX: usize = 16;

/// A protocol/port key in TSUBAME's notation: `GRE`, `23/TCP`, `123/UDP`, `ICMP`. The port
/// counts for TCP, UDP and SCTP only; `None` is a frame without IP.
pub fn port_key(proto: Option<u8>, dport: Option<u16>, out: &mut String) {
    // Written without `fmt`: the lake formats a key per new dictionary entry and per
    // rollup group (tens of thousands of backscatter ports per file); its callers make
    // their `String`s with `PORT_KEY_MAX` bytes so the text never reallocates.
    let text = match (proto, dport) {
        (Some(6), Some(p)) => return push_port_key(out, p, "/TCP"),
        (Some(17), Some(p)) => return push_port_key(out, p, "/UDP"),
        (Some(132), Some(p)) => return push_port_key(out, p, "/SCTP"),
        // Port unknown (a log line without one, a truncated header).
        (Some(6), None) => "TCP",
        (Some(17), None) => "UDP",
        (Some(1), _) => "ICMP",
        (Some(58), _) => "ICMPv6",
        (Some(47), _) => "GRE",
        (Some(4), _) => "IPIP",
        (Some(41), _) => "IPv6-in-IPv4",
        (Some(50), _) => "ESP",
        (Some(p), _) => {
            out.push_str("proto ");
            return push_decimal(out, p.into());
        }
        (None, _) => "non-IP",
    };
    out.push_str(text);
}

/// The key [`port_key`] writes, from what a user typed: any case, spaces around it
/// (`gre` → `GRE`, `23/tcp` → `23/TCP`, `Proto 41` → `proto 41`). None if it is no key.
pub fn parse_port_key(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    const NAMED: [&str; 9] = [
        "TCP",
        "UDP",
        "ICMP",
        "ICMPv6",
        "GRE",
        "IPIP",
        "IPv6-in-IPv4",
        "ESP",
        "non-IP",
    ];
    if let Some(k) = NAMED.iter().find(|k| k.to_ascii_uppercase() == u) {
        return Some((*k).to_string());
    }
    if let Some(n) = u.strip_prefix("PROTO ") {
        return n.trim().parse::<u8>().ok().map(|n| format!("proto {n}"));
    }
    let (port, proto) = u.split_once('/')?;
    let port: u16 = port.trim().parse().ok()?;
    let proto = proto.trim();
    matches!(proto, "TCP" | "UDP" | "SCTP").then(|| format!("{port}/{proto}"))
}

fn push_port_key(out: &mut String, port: u16, suffix: &str) {
    push_decimal(out, port);
    out.push_str(suffix);
}

fn push_decimal(out: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut at = digits.len();
    let mut v = v;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // ASCII digits only.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// The service usually behind a UDP port probed by scanners.
pub fn udp_service(port: u16) -> &'static str {
    match port {
        19 => "chargen",
        53 => "DNS",
        69 => "TFTP",
        111 => "portmap",
        123 => "NTP",
        137 => "NetBIOS",
        161 => "SNMP",
        389 => "CLDAP",
        500 => "IKE",
        1434 => "MS-SQL browser",
        1900 => "SSDP",
        3283 => "ARD",
        3702 => "WS-Discovery",
        5060 => "SIP",
        5353 => "mDNS",
        5683 => "CoAP",
        10001 => "Ubiquiti discovery",
        11211 => "memcached",
        27015 => "Steam",
        37810 => "DVR discovery",
        _ => "other",
    }
}

/// The service usually behind a TCP port probed by scanners.
pub fn tcp_service(port: u16) -> &'static str {
    match port {
        21 => "FTP",
        22 => "SSH",
        23 | 2323 => "Telnet",
        25 => "SMTP",
        80 | 8080 | 8000 | 8081 | 81 => "HTTP",
        443 | 8443 => "HTTPS",
        445 => "SMB",
        1433 => "MS-SQL",
        2375 | 2376 => "Docker",
        3306 => "MySQL",
        3389 => "RDP",
        5555 => "ADB",
        5900 => "VNC",
        6379 => "Redis",
        7547 => "TR-069",
        8545 => "Ethereum RPC",
        37215 => "Huawei HG532",
        52869 => "Realtek UPnP",
        _ => "other",
    }
}

/// Classifies one decoded packet.
pub fn classify(d: &noisefloor_wire::Dissection, ctx: &Context) -> Verdict {
    let mut v = classify_inner(d, ctx);
    if d.is_truncated() {
        v.tags.set(Tags::TRUNCATED);
    }
    v
}

fn classify_inner(d: &noisefloor_wire::Dissection, ctx: &Context) -> Verdict {
    let main = d.main_layers();
    let Some(oi) = d.outer_ip_index() else {
        let what = if d.has(Proto::Ip) || d.has(Proto::Ipv6) {
            "IP header cut short"
        } else {
            "no IP header"
        };
        return Verdict::new(Class::Other, Evidence::Other { what, proto: 0 });
    };
    // Look through IP-in-IP and 6in4 wrappers: the packet is what the last of the leading
    // IP headers carries.
    let mut oi = oi;
    let mut wrapped = false;
    while d.proto_at(oi + 1).is_some_and(Proto::is_ip)
        && !main.get(oi + 1).is_some_and(|l| l.is_partial())
    {
        oi += 1;
        wrapped = true;
    }
    let outer_layer = main.get(oi).expect("index of an IP layer");
    let Some(outer) = IpRef::from_layer(&outer_layer) else {
        // The IP header itself was cut short.
        return Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "IP header cut short",
                proto: 0,
            },
        );
    };
    let mut tags = Tags::default();
    if wrapped {
        tags.set(Tags::TUNNELLED);
    }
    if matches!(outer, IpRef::V6(_)) {
        tags.set(Tags::IPV6);
    }
    if let IpRef::V4(ip) = outer {
        outer_v4_tags(ip, &mut tags);
    }
    // A non-first fragment of the outer packet carries no header of its own.
    if d.stop == Stop::NonFirstFragment && d.tunnel_depth() == 0 {
        let offset_bytes = match outer {
            IpRef::V4(ip) => ip.frag_offset() as u32 * 8,
            IpRef::V6(ip) => ip.fragment().map_or(0, |f| f.0 as u32),
        };
        return Verdict {
            class: Class::Fragment,
            tags,
            evidence: Evidence::Fragment { offset_bytes },
        };
    }
    let next = main.get(oi + 1);
    let mut v = match next {
        Some(Layer::Gre(g)) => classify_gre(d, oi, outer, g, &mut tags),
        Some(Layer::Partial {
            proto: Proto::Gre, ..
        }) => Verdict::new(
            Class::GreOther,
            Evidence::GreOther {
                reason: GreReason::Truncated,
            },
        ),
        Some(l4) => classify_l4(d, ctx, outer, &l4, &mut tags),
        None => Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "IP header without a decoded payload",
                proto: outer.protocol(),
            },
        ),
    };
    v.tags.0 |= tags.0;
    v
}

fn classify_gre(
    d: &noisefloor_wire::Dissection,
    oi: usize,
    outer: IpRef,
    g: noisefloor_wire::Gre,
    tags: &mut Tags,
) -> Verdict {
    let other = |reason| Verdict::new(Class::GreOther, Evidence::GreOther { reason });
    if g.version() == 1 {
        return other(GreReason::Pptp);
    }
    if matches!(g.protocol(), ethertype::ERSPAN_I_II | ethertype::ERSPAN_III) {
        return other(GreReason::Erspan);
    }
    if let Some(k) = g.key() {
        return other(GreReason::Keyed(k));
    }
    let layers = d.main_layers();
    if layers.len() == oi + 2 && d.stop == Stop::Empty {
        return other(GreReason::Keepalive);
    }
    if g.flags() != 0 {
        return other(GreReason::Flags(g.flags()));
    }
    let IpRef::V4(outer4) = outer else {
        return other(GreReason::Payload(g.protocol()));
    };
    // Where the inner IPv4 header should be.
    let (inner_at, class) = match g.protocol() {
        ethertype::IPV4 => (oi + 2, Class::MiraiGreIp),
        ethertype::TEB => match layers.get(oi + 2) {
            Some(Layer::Eth(e)) if e.ethertype() == ethertype::IPV4 => (oi + 3, Class::MiraiGreEth),
            _ => return other(GreReason::Payload(g.protocol())),
        },
        p => return other(GreReason::Payload(p)),
    };
    let (Some(Layer::Ipv4(inner)), udp) = (layers.get(inner_at), layers.get(inner_at + 1)) else {
        return other(if d.is_truncated() {
            GreReason::Truncated
        } else {
            GreReason::Payload(g.protocol())
        });
    };
    let Some(Layer::Udp(udp)) = udp else {
        return other(GreReason::InnerNotUdp(inner.protocol()));
    };
    gre_udp_verdict(outer4, inner, udp, class, tags)
}

/// GRE around IPv4/UDP: a Mirai flood when the IP IDs satisfy one of the relations, else
/// `gre-other` with the IDs that missed. Shared by [`classify`] and [`classify_quick`].
#[inline]
fn gre_udp_verdict(outer4: Ipv4, inner: Ipv4, udp: Udp, class: Class, tags: &mut Tags) -> Verdict {
    let other = |reason| Verdict::new(Class::GreOther, Evidence::GreOther { reason });
    tags.set(Tags::TUNNELLED);
    let Some(variant) = mirai_relation(outer4.id(), inner.id()) else {
        return other(GreReason::NoRelation {
            outer_id: outer4.id(),
            inner_id: inner.id(),
        });
    };
    let payload_len = (inner.total_len() as usize).saturating_sub(inner.header_len() + 8) as u16;
    if inner.dont_fragment() {
        tags.set(Tags::DF_INNER);
    }
    if inner.ttl() == 64 {
        tags.set(Tags::INNER_TTL_64);
    }
    if udp.length() as usize == 8 + payload_len as usize {
        tags.set(Tags::UDP_LEN_OK);
    }
    match payload_len {
        0 => tags.set(Tags::PAYLOAD_0),
        512 => tags.set(Tags::PAYLOAD_512),
        _ => {}
    }
    if is_bogon_v4(inner.src()) {
        tags.set(Tags::INNER_SRC_BOGON);
    }
    Verdict::new(
        class,
        Evidence::MiraiGre {
            variant,
            outer_id: outer4.id(),
            inner_id: inner.id(),
            payload_len,
            inner_ttl: inner.ttl(),
        },
    )
}

fn classify_l4(
    d: &noisefloor_wire::Dissection,
    ctx: &Context,
    outer: IpRef,
    l4: &Layer,
    tags: &mut Tags,
) -> Verdict {
    let v4 = match outer {
        IpRef::V4(ip) => Some(ip),
        IpRef::V6(_) => None,
    };
    match l4 {
        Layer::Tcp(t) => tcp_verdict(outer.src(), v4, *t, d.payload, tags),
        Layer::Udp(u) => udp_verdict(outer.src(), v4, *u, d.payload),
        Layer::Icmp(i) => {
            icmp_message(d, ctx, outer, tags, i.icmp_type(), i.code(), IcmpFamily::V4)
        }
        Layer::Icmpv6(i) => {
            icmp_message(d, ctx, outer, tags, i.icmp_type(), i.code(), IcmpFamily::V6)
        }
        Layer::Sctp(s) => Verdict::new(
            Class::Other,
            Evidence::Other {
                what: if s.dst_port() == 0 {
                    "SCTP"
                } else {
                    "SCTP probe"
                },
                proto: 132,
            },
        ),
        Layer::Partial { proto, .. } => Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "transport header cut short",
                proto: proto_number(*proto),
            },
        ),
        _ => Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "IP protocol not scanned or flooded",
                proto: outer.protocol(),
            },
        ),
    }
}

/// Outer IPv4 header tags: DF, and the first piece of a fragmented packet.
#[inline]
fn outer_v4_tags(ip: Ipv4, tags: &mut Tags) {
    if ip.dont_fragment() {
        tags.set(Tags::DF_OUTER);
    }
    if ip.more_fragments() && ip.frag_offset() == 0 {
        tags.set(Tags::FIRST_FRAGMENT);
    }
}

/// TCP: replies are backscatter (the victim is the sender), SYNs are probes with or without
/// a tool's fingerprint, anything else is `other`.
#[inline]
fn tcp_verdict(src: IpAddr, v4: Option<Ipv4>, t: Tcp, payload: &[u8], tags: &mut Tags) -> Verdict {
    let f = t.flags();
    if let Some(kind) = tcp_reply_kind(f as u8) {
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind,
                victim: src,
                victim_port: Some(t.src_port()),
            },
        );
    }
    if f & 0x02 == 0 {
        return Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "TCP without SYN, SYN-ACK or RST",
                proto: 6,
            },
        );
    }
    if !payload.is_empty() {
        tags.set(Tags::SYN_PAYLOAD);
    }
    if is_mirai_port(t.dst_port()) {
        tags.set(Tags::MIRAI_PORT);
    }
    if let Some(ip) = v4
        && let Some(v) = syn_fingerprint(
            u32::from_be_bytes(ip.dst()),
            t.dst_port(),
            t.seq(),
            Some(ip.id()),
        )
    {
        return v;
    }
    Verdict::new(
        Class::ScanTcp,
        Evidence::Scan {
            port: t.dst_port(),
            service: tcp_service(t.dst_port()),
        },
    )
}

/// UDP: DNS responses are backscatter, ZMap's ID marks its probes, the rest are probes of
/// the service behind the port.
#[inline]
fn udp_verdict(src: IpAddr, v4: Option<Ipv4>, u: Udp, payload: &[u8]) -> Verdict {
    // DNS responses (QR bit) from port 53 answer queries the sensor never sent.
    if u.src_port() == 53 && payload.len() >= 12 && payload[2] & 0x80 != 0 {
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind: BackscatterKind::DnsResponse,
                victim: src,
                victim_port: Some(53),
            },
        );
    }
    if v4.is_some_and(|ip| ip.id() == 54321) {
        return Verdict::new(Class::Zmap, Evidence::Zmap { ip_id: 54321 });
    }
    Verdict::new(
        Class::ScanUdp,
        Evidence::Scan {
            port: u.dst_port(),
            service: udp_service(u.dst_port()),
        },
    )
}

/// Classifies a frame the fast path decoded ([`noisefloor_wire::quick`]): the same verdict
/// [`classify`] gives its full dissection, by the same rule functions, without the walk over
/// layers (none of these shapes needs the sensor's context: that is for ICMP errors).
#[inline]
pub fn classify_quick(q: &Quick) -> Verdict {
    let ip = q.ip();
    let mut tags = Tags::default();
    outer_v4_tags(ip, &mut tags);
    let src = IpAddr::from(ip.src());
    let mut v = match *q {
        Quick::Tcp { tcp, payload, .. } => tcp_verdict(src, Some(ip), tcp, payload, &mut tags),
        Quick::Udp { udp, payload, .. } => udp_verdict(src, Some(ip), udp, payload),
        Quick::GreUdp {
            eth, inner, udp, ..
        } => {
            let class = if eth.is_some() {
                Class::MiraiGreEth
            } else {
                Class::MiraiGreIp
            };
            gre_udp_verdict(ip, inner, udp, class, &mut tags)
        }
    };
    v.tags.0 |= tags.0;
    v
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IcmpFamily {
    V4,
    V6,
}

/// The backscatter a TCP packet's flags make it: SYN-ACK, or RST (with or without ACK).
pub(crate) fn tcp_reply_kind(flags: u8) -> Option<BackscatterKind> {
    let (syn, ack, rst) = (flags & 0x02 != 0, flags & 0x10 != 0, flags & 0x04 != 0);
    if rst {
        Some(BackscatterKind::Rst)
    } else if syn && ack {
        Some(BackscatterKind::SynAck)
    } else {
        None
    }
}

/// Ports Mirai's scanner and its descendants probe.
pub(crate) fn is_mirai_port(port: u16) -> bool {
    matches!(port, 23 | 2323 | 37215 | 52869 | 8080 | 7547 | 443 | 80)
}

/// The SYN fingerprints that need the IPv4 destination, port, sequence number and IP ID, in
/// rule order: mirai-scan, zmap, masscan. The IP ID may be unknown (some logs omit it).
pub(crate) fn syn_fingerprint(
    dst: u32,
    dport: u16,
    seq: u32,
    ip_id: Option<u16>,
) -> Option<Verdict> {
    if seq == dst {
        return Some(Verdict::new(
            Class::MiraiScan,
            Evidence::MiraiScan { seq, dport },
        ));
    }
    let id = ip_id?;
    if id == 54321 {
        return Some(Verdict::new(Class::Zmap, Evidence::Zmap { ip_id: id }));
    }
    (id as u32 == (dst ^ dport as u32 ^ seq) & 0xffff).then(|| {
        Verdict::new(
            Class::Masscan,
            Evidence::Masscan {
                ip_id: id,
                seq,
                dport,
            },
        )
    })
}

/// (echo reply, error, type name) of an ICMP (`v4`) or ICMPv6 type.
pub(crate) fn icmp_kind(v4: bool, ty: u8) -> (bool, bool, &'static str) {
    if v4 {
        (
            ty == 0,
            matches!(ty, 3 | 4 | 5 | 11 | 12),
            noisefloor_wire::transport::icmp_type_name(ty),
        )
    } else {
        (
            ty == 129,
            matches!(ty, 1..=4),
            noisefloor_wire::transport::icmpv6_type_name(ty),
        )
    }
}

/// ICMP and ICMPv6 alike: echo replies and errors about the sensor's packets are
/// backscatter; ZMap marks its IPv4 probes with ID 54321; the rest are probes.
fn icmp_message(
    d: &noisefloor_wire::Dissection,
    ctx: &Context,
    outer: IpRef,
    tags: &mut Tags,
    ty: u8,
    code: u8,
    family: IcmpFamily,
) -> Verdict {
    let (echo_reply, error, name) = icmp_kind(matches!(family, IcmpFamily::V4), ty);
    if echo_reply {
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind: BackscatterKind::EchoReply,
                victim: outer.src(),
                victim_port: None,
            },
        );
    }
    if error {
        return icmp_error(d, ctx, outer, ty, code, tags);
    }
    if matches!(outer, IpRef::V4(ip) if ip.id() == 54321) {
        return Verdict::new(Class::Zmap, Evidence::Zmap { ip_id: 54321 });
    }
    Verdict::new(
        Class::ScanIcmp,
        Evidence::Scan {
            port: 0,
            service: name,
        },
    )
}

fn proto_number(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp => 1,
        Proto::Icmpv6 => 58,
        Proto::Sctp => 132,
        _ => 0,
    }
}

fn icmp_error(
    d: &noisefloor_wire::Dissection,
    ctx: &Context,
    outer: IpRef,
    t: u8,
    c: u8,
    tags: &mut Tags,
) -> Verdict {
    let quoted = d.quoted_layers();
    let Some(q) = quoted.first().and_then(|l| IpRef::from_layer(&l)) else {
        return Verdict::new(
            Class::Other,
            Evidence::Other {
                what: "ICMP error without a readable quoted packet",
                proto: if matches!(outer, IpRef::V4(_)) { 1 } else { 58 },
            },
        );
    };
    // The sensor never sends; an error about a packet "from" it answers a forged source.
    if q.src() == outer.dst() || ctx.is_own(q.src()) {
        tags.set(Tags::FROM_SENSOR_QUOTED);
        let victim_port = quoted
            .get(1)
            .and_then(|l| l.field("dport"))
            .and_then(|v| v.as_u64())
            .map(|p| p as u16);
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind: BackscatterKind::IcmpError(t, c),
                victim: q.dst(),
                victim_port,
            },
        );
    }
    Verdict::new(
        Class::Other,
        Evidence::Other {
            what: "ICMP error about a packet the sensor did not send",
            proto: if matches!(outer, IpRef::V4(_)) { 1 } else { 58 },
        },
    )
}

/// Renderings of a verdict for `dissect`'s three output modes.
impl Verdict {
    /// Short label for summary lines: `mirai-gre-ip(LE)`, `backscatter(victim 192.0.2.7)`.
    pub fn label(&self, out: &mut String) {
        out.push_str(self.class.name());
        match self.evidence {
            Evidence::MiraiGre { variant, .. } => {
                out.push('(');
                out.push_str(variant.short());
                out.push(')');
            }
            Evidence::Backscatter { victim, .. } => {
                out.push_str("(victim ");
                out.push_str(&victim.to_string());
                out.push(')');
            }
            Evidence::GreOther { reason } => {
                out.push('(');
                out.push_str(reason.name());
                out.push(')');
            }
            Evidence::Scan { service, .. } if service != "other" => {
                out.push('(');
                out.push_str(service);
                out.push(')');
            }
            _ => {}
        }
    }

    /// The section appended to the verbose tree.
    pub fn verbose(&self, out: &mut String) {
        out.push_str("Classification: ");
        out.push_str(self.class.name());
        if let Some(v) = self.mirai_variant() {
            out.push_str(" (");
            out.push_str(v.name());
            out.push_str(" bot)");
        }
        out.push_str("\n    Evidence: ");
        self.describe(out);
        out.push('\n');
        if self.tags.0 != 0 {
            out.push_str("    Tags: ");
            for (i, t) in self.tags.names().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(t);
            }
            out.push('\n');
        }
    }

    /// JSON fields (each preceded by a comma) for the NDJSON object.
    pub fn json_fields(&self, out: &mut String) {
        use noisefloor_wire::render::json_str;
        out.push_str(",\"class\":");
        json_str(out, self.class.name());
        if let Some(v) = self.mirai_variant() {
            out.push_str(",\"mirai_variant\":");
            json_str(out, v.name());
        }
        match self.evidence {
            Evidence::Backscatter {
                kind,
                victim,
                victim_port,
            } => {
                out.push_str(",\"backscatter\":");
                json_str(out, kind.name());
                out.push_str(",\"victim\":");
                json_str(out, &victim.to_string());
                if let Some(p) = victim_port {
                    out.push_str(&format!(",\"victim_port\":{p}"));
                }
            }
            Evidence::GreOther { reason } => {
                out.push_str(",\"gre_reason\":");
                json_str(out, reason.name());
            }
            Evidence::Scan { port, service } => {
                out.push_str(&format!(",\"service_port\":{port},\"service\":"));
                json_str(out, service);
            }
            _ => {}
        }
        out.push_str(",\"tags\":[");
        for (i, t) in self.tags.names().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(out, t);
        }
        out.push_str("],\"evidence\":");
        let mut e = String::new();
        self.describe(&mut e);
        json_str(out, &e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written formatting gives `format!`'s text for every protocol and port.
    #[test]
    fn port_keys_read_as_formatted() {
        let expected = |proto: u8, port: Option<u16>| match (proto, port) {
            (6, Some(p)) => format!("{p}/TCP"),
            (17, Some(p)) => format!("{p}/UDP"),
            (132, Some(p)) => format!("{p}/SCTP"),
            (6, None) => "TCP".into(),
            (17, None) => "UDP".into(),
            (1, _) => "ICMP".into(),
            (58, _) => "ICMPv6".into(),
            (47, _) => "GRE".into(),
            (4, _) => "IPIP".into(),
            (41, _) => "IPv6-in-IPv4".into(),
            (50, _) => "ESP".into(),
            (p, _) => format!("proto {p}"),
        };
        let mut out = String::new();
        for proto in 0..=255u8 {
            let ports: Box<dyn Iterator<Item = u16>> = if matches!(proto, 6 | 17 | 132) {
                Box::new(0..=u16::MAX)
            } else {
                Box::new([0, 9, 10, 65535].into_iter())
            };
            for port in ports.map(Some).chain([None]) {
                out.clear();
                port_key(Some(proto), port, &mut out);
                assert_eq!(out, expected(proto, port), "{proto} {port:?}");
            }
        }
        out.clear();
        port_key(None, Some(80), &mut out);
        assert_eq!(out, "non-IP");
    }

    #[test]
    fn seed_000_relation_is_little_endian() {
        assert_eq!(
            mirai_relation(0xbfaf, 0x2854),
            Some(MiraiVariant::LittleEndian)
        );
        assert_eq!(MiraiVariant::LittleEndian.expected_inner(0xbfaf), 0x2854);
        assert_eq!(mirai_relation(0xbfaf, 0x2855), None);
    }

    #[test]
    fn relations_by_hand() {
        // Big-endian bot: raw r = 0x1234 -> inner ~(0x1234 - 1000) = ~0x0e4c = 0xf1b3.
        assert_eq!(
            mirai_relation(0x1234, 0xf1b3),
            Some(MiraiVariant::BigEndian)
        );
        assert_eq!(mirai_relation(0x1234, 0xedcb), Some(MiraiVariant::FixedId));
    }

    #[test]
    fn prefixes() {
        let ctx = Context {
            own: vec![("198.51.100.0".parse().unwrap(), 24)],
        };
        assert!(ctx.is_own("198.51.100.7".parse().unwrap()));
        assert!(!ctx.is_own("198.51.101.7".parse().unwrap()));
        assert!(
            is_bogon_v4([240, 1, 2, 3]) && is_bogon_v4([0, 1, 2, 3]) && !is_bogon_v4([8, 8, 8, 8])
        );
    }
}
