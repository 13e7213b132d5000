//! The attack shape of one packet: which kind of flood it would belong to if many like it
//! arrived at one destination. A packet alone never makes an attack (a SYN is a scan probe
//! or part of a SYN flood, a SYN-ACK is backscatter or part of a reflection attack); the
//! episode it belongs to decides (`noisefloor-report`'s episodes). The shape is decided
//! here, once, from the fields every record kind has (capture fast path, full dissection,
//! log line), so the three paths cannot disagree.

use crate::Class;

/// The kind of attack an episode of packets of one shape at one destination would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttackKind {
    /// TCP SYN without ACK.
    SynFlood,
    /// TCP with other flags: ACK, PSH-ACK, FIN, URG, NULL, Xmas.
    TcpFlood,
    /// TCP SYN-ACK or RST from many reflectors aimed at the target.
    TcpReflection,
    /// UDP to the target, not from a known amplifier's port.
    UdpFlood,
    /// UDP replies from an amplifying service (named by the source port).
    UdpAmplification,
    /// ICMP or ICMPv6 of any type.
    IcmpFlood,
    /// Mirai GRE floods (the IP-ID relation holds).
    GreFlood,
    /// Non-first IP fragments that belong to no other episode at the target.
    FragmentFlood,
}

impl AttackKind {
    /// Every kind, in report order.
    pub const ALL: [AttackKind; 8] = [
        AttackKind::SynFlood,
        AttackKind::TcpFlood,
        AttackKind::TcpReflection,
        AttackKind::UdpFlood,
        AttackKind::UdpAmplification,
        AttackKind::IcmpFlood,
        AttackKind::GreFlood,
        AttackKind::FragmentFlood,
    ];
    /// The kind's name in reports and JSON (`syn-flood`, `udp-amplification`, …).
    pub fn name(self) -> &'static str {
        match self {
            AttackKind::SynFlood => "syn-flood",
            AttackKind::TcpFlood => "tcp-flood",
            AttackKind::TcpReflection => "tcp-reflection",
            AttackKind::UdpFlood => "udp-flood",
            AttackKind::UdpAmplification => "udp-amplification",
            AttackKind::IcmpFlood => "icmp-flood",
            AttackKind::GreFlood => "gre-flood",
            AttackKind::FragmentFlood => "fragment-flood",
        }
    }
    /// The kind a name (as [`AttackKind::name`] gives it) stands for.
    pub fn from_name(s: &str) -> Option<AttackKind> {
        AttackKind::ALL.into_iter().find(|k| k.name() == s)
    }
    /// Whether the sources are reflectors (real hosts answering forged requests), not the
    /// senders themselves.
    pub fn is_reflected(self) -> bool {
        matches!(
            self,
            AttackKind::TcpReflection | AttackKind::UdpAmplification
        )
    }
    /// What a person calls it, in a sentence.
    pub fn phrase(self) -> &'static str {
        match self {
            AttackKind::SynFlood => "a SYN flood",
            AttackKind::TcpFlood => "a TCP flood",
            AttackKind::TcpReflection => "a TCP reflection attack (SYN-ACK/RST from reflectors)",
            AttackKind::UdpFlood => "a UDP flood",
            AttackKind::UdpAmplification => "a UDP amplification attack",
            AttackKind::IcmpFlood => "an ICMP flood",
            AttackKind::GreFlood => "a Mirai GRE flood",
            AttackKind::FragmentFlood => "an IP fragment flood",
        }
    }
}

/// A UDP service abused for reflection/amplification, named by its port, with the bandwidth
/// amplification factor Rossow measured ("Amplification Hell", NDSS 2014, Table 3) or, for
/// services found later, the factor their advisories give (US-CERT TA14-017A and its
/// updates; memcached: Cloudflare, 2018; WS-Discovery: ZDNet/Akamai, 2019; BACnet and
/// IKE: the DDoS-capture collection's notes). `0` where no published factor is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Amplifier {
    /// The UDP source port the amplifier answers from.
    pub port: u16,
    /// The service's name (`DNS`, `NTP`, `memcached`, …).
    pub service: &'static str,
    /// Bandwidth amplification factor, as published (the upper value where a range is given).
    pub factor: u16,
}

/// Source ports of services abused for amplification. Sorted by port.
pub const AMPLIFIERS: &[Amplifier] = &[
    Amplifier {
        port: 17,
        service: "QOTD",
        factor: 140,
    },
    Amplifier {
        port: 19,
        service: "chargen",
        factor: 359,
    },
    Amplifier {
        port: 53,
        service: "DNS",
        factor: 54,
    },
    Amplifier {
        port: 69,
        service: "TFTP",
        factor: 60,
    },
    Amplifier {
        port: 111,
        service: "portmap",
        factor: 28,
    },
    Amplifier {
        port: 123,
        service: "NTP",
        factor: 556,
    },
    Amplifier {
        port: 137,
        service: "NetBIOS",
        factor: 4,
    },
    Amplifier {
        port: 161,
        service: "SNMP",
        factor: 6,
    },
    Amplifier {
        port: 389,
        service: "CLDAP",
        factor: 70,
    },
    Amplifier {
        port: 500,
        service: "IKE",
        factor: 0,
    },
    Amplifier {
        port: 520,
        service: "RIPv1",
        factor: 131,
    },
    Amplifier {
        port: 1434,
        service: "MS-SQL browser",
        factor: 25,
    },
    Amplifier {
        port: 1900,
        service: "SSDP",
        factor: 31,
    },
    Amplifier {
        port: 3283,
        service: "ARD",
        factor: 35,
    },
    Amplifier {
        port: 3702,
        service: "WS-Discovery",
        factor: 500,
    },
    Amplifier {
        port: 4500,
        service: "IKE (NAT-T)",
        factor: 0,
    },
    Amplifier {
        port: 5353,
        service: "mDNS",
        factor: 10,
    },
    Amplifier {
        port: 5683,
        service: "CoAP",
        factor: 34,
    },
    Amplifier {
        port: 10001,
        service: "Ubiquiti discovery",
        factor: 30,
    },
    Amplifier {
        port: 11211,
        service: "memcached",
        factor: 51_000,
    },
    Amplifier {
        port: 17185,
        service: "VxWorks debug",
        factor: 0,
    },
    Amplifier {
        port: 27015,
        service: "Steam",
        factor: 5,
    },
    Amplifier {
        port: 37810,
        service: "DVR discovery",
        factor: 0,
    },
    Amplifier {
        port: 47808,
        service: "BACnet",
        factor: 0,
    },
];

/// The amplifier behind a UDP source port, if it is one.
pub fn amplifier(src_port: u16) -> Option<&'static Amplifier> {
    AMPLIFIERS
        .binary_search_by_key(&src_port, |a| a.port)
        .ok()
        .map(|i| &AMPLIFIERS[i])
}

/// The attack shape of one packet, from its outer header fields and its class. `tcp_flags`
/// is `None` when unknown (log lines that do not record flags); `fragment` is true for
/// non-first IP fragments. The class decides GRE: only Mirai GRE floods make `gre-flood`
/// (a PPTP or keyed tunnel at a high rate is someone's tunnel, not a flood).
#[inline]
pub fn attack_shape(
    class: Class,
    proto: u8,
    tcp_flags: Option<u8>,
    src_port: Option<u16>,
    fragment: bool,
) -> Option<AttackKind> {
    use noisefloor_wire::observation::tcp_flags::{ACK, RST, SYN};
    if fragment {
        return Some(AttackKind::FragmentFlood);
    }
    match proto {
        6 => Some(match tcp_flags {
            Some(f) if f & RST != 0 => AttackKind::TcpReflection,
            Some(f) if f & (SYN | ACK) == SYN | ACK => AttackKind::TcpReflection,
            Some(f) if f & SYN != 0 => AttackKind::SynFlood,
            Some(_) => AttackKind::TcpFlood,
            // A log line without flags: the class says whether it was a SYN probe.
            None if class == Class::Backscatter => AttackKind::TcpReflection,
            None => AttackKind::SynFlood,
        }),
        17 => Some(match src_port.and_then(amplifier) {
            Some(_) => AttackKind::UdpAmplification,
            None => AttackKind::UdpFlood,
        }),
        1 | 58 => Some(AttackKind::IcmpFlood),
        // GRE from a log line cannot be checked for Mirai's relation: it may be a tunnel.
        47 if class.is_mirai_gre() => Some(AttackKind::GreFlood),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amplifiers_are_sorted_for_the_binary_search() {
        assert!(AMPLIFIERS.windows(2).all(|w| w[0].port < w[1].port));
        assert_eq!(amplifier(161).map(|a| a.service), Some("SNMP"));
        assert_eq!(amplifier(47808).map(|a| a.service), Some("BACnet"));
        assert!(amplifier(80).is_none());
    }

    #[test]
    fn shapes() {
        let s = |flags| attack_shape(Class::ScanTcp, 6, Some(flags), Some(1234), false);
        assert_eq!(s(0x02), Some(AttackKind::SynFlood));
        assert_eq!(s(0x12), Some(AttackKind::TcpReflection));
        assert_eq!(s(0x14), Some(AttackKind::TcpReflection));
        assert_eq!(s(0x10), Some(AttackKind::TcpFlood));
        assert_eq!(s(0xc2), Some(AttackKind::SynFlood));
        let u = |sport| attack_shape(Class::ScanUdp, 17, None, Some(sport), false);
        assert_eq!(u(161), Some(AttackKind::UdpAmplification));
        assert_eq!(u(40000), Some(AttackKind::UdpFlood));
        assert_eq!(
            attack_shape(Class::GreOther, 47, None, None, false),
            None,
            "a tunnel is not a flood"
        );
        assert_eq!(
            attack_shape(Class::MiraiGreIp, 47, None, None, false),
            Some(AttackKind::GreFlood)
        );
        assert_eq!(
            attack_shape(Class::Fragment, 17, None, None, true),
            Some(AttackKind::FragmentFlood)
        );
    }
}
