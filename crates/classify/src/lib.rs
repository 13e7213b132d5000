#![warn(missing_docs)]
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

/// The class of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Mirai GRE flood carrying IPv4 directly (the IP-ID relation holds).
    MiraiGreIp,
    /// Mirai GRE flood carrying an Ethernet frame (transparent bridging).
    MiraiGreEth,
    /// Mirai's telnet scanner (TCP SYN whose sequence number is the destination address).
    MiraiScan,
    /// ZMap probes (IP ID 54321).
    Zmap,
    /// Masscan probes (its IP-ID/sequence relation).
    Masscan,
    /// Replies to packets that carried the sensor's addresses as forged sources.
    Backscatter,
    /// GRE that is not a Mirai flood (tunnels, keepalives, no relation).
    GreOther,
    /// GRE described by a firewall log: no inner header, so Mirai cannot be tested.
    GreUnverified,
    /// Other TCP probes.
    ScanTcp,
    /// Other UDP probes.
    ScanUdp,
    /// ICMP probes (echo requests and the like).
    ScanIcmp,
    /// Non-first IP fragments: no transport header to judge.
    Fragment,
    /// Anything else, with what it is.
    Other,
}

impl Class {
    /// Every class, in report order (index order).
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
    /// The class's name in reports, JSON, filters and the lake.
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
    /// The class a name (as [`Class::name`] gives it) stands for.
    pub fn from_name(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == s)
    }
    /// Position in [`Class::ALL`], for per-class counters.
    pub fn index(self) -> usize {
        self as usize
    }
    /// Either Mirai GRE class.
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
    /// The variant's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            MiraiVariant::LittleEndian => "little-endian",
            MiraiVariant::BigEndian => "big-endian",
            MiraiVariant::FixedId => "fixed-id",
        }
    }
    /// The variant's short label in one-line output (`LE`, `BE`, `fixed`).
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
/// What a backscatter packet answers.
pub enum BackscatterKind {
    /// TCP SYN-ACK: a server answering a forged SYN.
    SynAck,
    /// TCP RST: a host refusing a forged packet.
    Rst,
    /// ICMP echo reply to a forged echo request.
    EchoReply,
    /// ICMP/ICMPv6 error (type, code) about a packet from the sensor.
    IcmpError(u8, u8),
    /// A DNS response to a forged query.
    DnsResponse,
}
impl BackscatterKind {
    /// The kind's name in reports.
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
    /// PPTP (GRE version 1).
    Pptp,
    /// ERSPAN mirrored traffic.
    Erspan,
    /// A keyed GRE tunnel (the key).
    Keyed(u32),
    /// A keepalive (nothing follows the header).
    Keepalive,
    /// GRE/IP/UDP shaped like Mirai, but the IDs satisfy no relation.
    NoRelation {
        /// The outer IPv4 header's IP ID.
        outer_id: u16,
        /// The inner IPv4 header's IP ID.
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
    /// The reason's short name in reports and JSON.
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
    /// A Mirai GRE flood packet: which bot variant, by its IP-ID relation.
    MiraiGre {
        /// Which relation held (the bot's byte order, or a fixed ID).
        variant: MiraiVariant,
        /// The outer IPv4 header's IP ID.
        outer_id: u16,
        /// The inner IPv4 header's IP ID.
        inner_id: u16,
        /// The inner UDP payload's length.
        payload_len: u16,
        /// The inner IPv4 header's TTL.
        inner_ttl: u8,
    },
    /// A Mirai telnet-scanner SYN.
    MiraiScan {
        /// The TCP sequence number (the destination address).
        seq: u32,
        /// The probed port.
        dport: u16,
    },
    /// A ZMap probe.
    Zmap {
        /// The IP ID (54321).
        ip_id: u16,
    },
    /// A Masscan probe.
    Masscan {
        /// The IP ID.
        ip_id: u16,
        /// The TCP sequence number.
        seq: u32,
        /// The probed port.
        dport: u16,
    },
    /// A reply to a forged packet.
    Backscatter {
        /// What kind of reply.
        kind: BackscatterKind,
        /// The victim: the host that sent the reply.
        victim: IpAddr,
        /// The victim's port, where the reply has one.
        victim_port: Option<u16>,
    },
    /// GRE that is not a Mirai flood.
    GreOther {
        /// Why not.
        reason: GreReason,
    },
    /// GRE from a log line: the IP total length, when logged.
    GreUnverified {
        /// The logged IP total length.
        ip_len: Option<u32>,
    },
    /// A probe of a port or service.
    Scan {
        /// The probed port.
        port: u16,
        /// The service usually on that port.
        service: &'static str,
    },
    /// A non-first IP fragment.
    Fragment {
        /// Its offset in bytes.
        offset_bytes: u32,
    },
    /// Anything else.
    Other {
        /// What it is, in words.
        what: &'static str,
        /// The IP protocol number (0 without IP).
        proto: u8,
    },
}

/// Supporting observations, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(pub u32);

macro_rules! tags {
    ($($name:ident = $bit:expr, $label:literal;)*) => {
        impl Tags {
            $(#[doc = concat!("Tag `", $label, "`.")] pub const $name: Tags = Tags(1 << $bit);)*
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
    /// Whether every bit of `t` is set.
    pub fn has(self, t: Tags) -> bool {
        self.0 & t.0 != 0
    }
    /// Sets the bits of `t`.
    pub fn set(&mut self, t: Tags) {
        self.0 |= t.0;
    }
    /// The names of the bits set, in bit order.
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
    /// The class.
    pub class: Class,
    /// What else was noticed (DF, tunnelled, truncated, …).
    pub tags: Tags,
    /// Why: the fields the class was decided on.
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
    /// Whether `a` is one of the sensor's own addresses or prefixes.
    pub fn is_own(&self, a: IpAddr) -> bool {
        self.own.iter().any(|&(net, len)| in_prefix(net, len, a))
    }
}

pub use noisefloor_wire::prefix::{contains as in_prefix, parse as parse_prefix};

mod attack;
mod rules;
pub use attack::{AMPLIFIERS, Amplifier, AttackKind, amplifier, attack_shape};
pub use rules::classify;

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
