//! The rules, once, over the one packet record ([`Observation`]): the order in the crate's
//! documentation is the order of [`decide`]. A record from a log line uses only what the
//! log carried, and what it cannot show is never guessed:
//!
//! - GRE: a log line has no inner header, so Mirai's IP-ID relation cannot be tested. GRE
//!   becomes `gre-unverified`, tagged `mirai-size` when its length is a Mirai flood's default
//!   (564/578 bytes with the 512-byte payload, 52/66 empty).
//! - TCP without logged flags (Cisco ASA's "Deny tcp src …") is counted as a connection
//!   attempt (`scan-tcp`, tagged `tcp-flags-not-logged`): a stateful firewall logs denies of
//!   packets that open nothing.
//! - `mirai-scan` and `masscan` need the sequence number (netfilter `--log-tcp-sequence`,
//!   Proxmox, pf); `zmap` needs the IP ID (netfilter, pf).
//! - ICMP errors are backscatter only when the quoted packet is known (a capture shows it;
//!   netfilter logs it in brackets) and it came from the sensor.

use std::net::IpAddr;

use noisefloor_wire::link::ethertype;
use noisefloor_wire::observation::tcp_flags as tf;
use noisefloor_wire::record::{GreFacts, Next};
use noisefloor_wire::{GreInner, Observation};

use crate::{
    BackscatterKind, Class, Context, Evidence, GreReason, Tags, Verdict, is_bogon_v4,
    mirai_gre_size, mirai_relation, tcp_service, udp_service,
};

/// Classifies one packet, captured or logged.
#[inline]
pub fn classify(o: &Observation, ctx: &Context) -> Verdict {
    let mut v = judge(o, ctx);
    if o.wire.as_ref().is_some_and(|w| w.truncated) {
        v.tags.set(Tags::TRUNCATED);
    }
    v
}

fn other(what: &'static str, proto: u8) -> Verdict {
    Verdict::new(Class::Other, Evidence::Other { what, proto })
}

// Inlined into the caller, where the record was just filled: the fast path's record is
// known to be a captured IPv4 packet, and its branches fold away.
#[inline(always)]
fn judge(o: &Observation, ctx: &Context) -> Verdict {
    if let Some(w) = &o.wire
        && let Next::NoIp { ip_cut } = w.next
    {
        return other(
            if ip_cut {
                "IP header cut short"
            } else {
                "no IP header"
            },
            0,
        );
    }
    let mut tags = Tags::default();
    let p = o.judged();
    if !std::ptr::eq(p, o) {
        tags.set(Tags::TUNNELLED);
    }
    if p.src.is_some_and(|a| a.is_ipv6()) {
        tags.set(Tags::IPV6);
    }
    if p.dont_fragment == Some(true) {
        tags.set(Tags::DF_OUTER);
    }
    if p.wire.as_ref().is_some_and(|w| w.more_fragments) && p.frag_offset == Some(0) {
        tags.set(Tags::FIRST_FRAGMENT);
    }
    let mut v = decide(p, ctx, &mut tags);
    v.tags.0 |= tags.0;
    v
}

/// The rule order: fragment, GRE (Mirai or not), then by transport, backscatter before the
/// scanners' fingerprints before plain probes.
#[inline]
fn decide(o: &Observation, ctx: &Context, tags: &mut Tags) -> Verdict {
    let fragment = match &o.wire {
        Some(w) => w.fragment_offset,
        None => o.frag_offset.filter(|&off| off > 0),
    };
    if let Some(offset_bytes) = fragment {
        return Verdict::new(Class::Fragment, Evidence::Fragment { offset_bytes });
    }
    let proto = o.proto.unwrap_or(0);
    let next = match &o.wire {
        Some(w) => w.next,
        // A log line names the protocol; the transport fields are whatever it logged.
        None => match o.proto {
            None => return other("no protocol in the log line", 0),
            Some(47) => Next::Gre,
            Some(6) => Next::Tcp,
            Some(17) => Next::Udp,
            Some(1) => Next::Icmp,
            Some(58) => Next::Icmpv6,
            Some(p) => return other("IP protocol without ports", p),
        },
    };
    match next {
        Next::NoIp { .. } => other("no IP header", 0),
        Next::Nothing => other("IP header without a decoded payload", proto),
        Next::Cut(p) => other("transport header cut short", p),
        Next::Other => other("IP protocol not scanned or flooded", proto),
        Next::Sctp => other(
            if o.dst_port == Some(0) {
                "SCTP"
            } else {
                "SCTP probe"
            },
            132,
        ),
        Next::GreCut => Verdict::new(
            Class::GreOther,
            Evidence::GreOther {
                reason: GreReason::Truncated,
            },
        ),
        Next::Gre => match o.wire.as_ref().and_then(|w| w.gre) {
            Some(g) => gre(o, g, tags),
            None => {
                if o.ip_len.and_then(mirai_gre_size).is_some() {
                    tags.set(Tags::MIRAI_SIZE);
                }
                Verdict::new(
                    Class::GreUnverified,
                    Evidence::GreUnverified { ip_len: o.ip_len },
                )
            }
        },
        Next::Tcp => tcp(o, tags),
        Next::Udp => udp(o),
        Next::Icmp => icmp(o, ctx, tags, true),
        Next::Icmpv6 => icmp(o, ctx, tags, false),
    }
}

/// Captured GRE: why it is not Mirai, or the IP-ID relation that says it is.
fn gre(o: &Observation, g: GreFacts, tags: &mut Tags) -> Verdict {
    let other = |reason| Verdict::new(Class::GreOther, Evidence::GreOther { reason });
    if g.version == 1 {
        return other(GreReason::Pptp);
    }
    if matches!(g.protocol, ethertype::ERSPAN_I_II | ethertype::ERSPAN_III) {
        return other(GreReason::Erspan);
    }
    if let Some(k) = g.key {
        return other(GreReason::Keyed(k));
    }
    if g.empty {
        return other(GreReason::Keepalive);
    }
    if g.flags != 0 {
        return other(GreReason::Flags(g.flags));
    }
    let Some(outer_id) = o.ip_id.filter(|_| o.src.is_some_and(|a| a.is_ipv4())) else {
        return other(GreReason::Payload(g.protocol));
    };
    let class = match g.protocol {
        ethertype::IPV4 => Class::MiraiGreIp,
        ethertype::TEB if g.eth_ipv4 => Class::MiraiGreEth,
        p => return other(GreReason::Payload(p)),
    };
    let Some(inner) = g.inner else {
        let truncated = o.wire.as_ref().is_some_and(|w| w.truncated);
        return other(if truncated {
            GreReason::Truncated
        } else {
            GreReason::Payload(g.protocol)
        });
    };
    let Some(udp_len) = inner.udp_len else {
        return other(GreReason::InnerNotUdp(inner.protocol));
    };
    gre_udp_verdict(outer_id, inner, udp_len, class, tags)
}

/// GRE around IPv4/UDP: a Mirai flood when the IP IDs satisfy one of the relations, else
/// `gre-other` with the IDs that missed.
#[inline]
fn gre_udp_verdict(
    outer_id: u16,
    inner: GreInner,
    udp_len: u16,
    class: Class,
    tags: &mut Tags,
) -> Verdict {
    tags.set(Tags::TUNNELLED);
    let Some(variant) = mirai_relation(outer_id, inner.id) else {
        return Verdict::new(
            Class::GreOther,
            Evidence::GreOther {
                reason: GreReason::NoRelation {
                    outer_id,
                    inner_id: inner.id,
                },
            },
        );
    };
    let payload_len =
        (inner.total_len as usize).saturating_sub(inner.header_len as usize + 8) as u16;
    if inner.dont_fragment {
        tags.set(Tags::DF_INNER);
    }
    if inner.ttl == 64 {
        tags.set(Tags::INNER_TTL_64);
    }
    if udp_len as usize == 8 + payload_len as usize {
        tags.set(Tags::UDP_LEN_OK);
    }
    match payload_len {
        0 => tags.set(Tags::PAYLOAD_0),
        512 => tags.set(Tags::PAYLOAD_512),
        _ => {}
    }
    if is_bogon_v4(inner.src) {
        tags.set(Tags::INNER_SRC_BOGON);
    }
    Verdict::new(
        class,
        Evidence::MiraiGre {
            variant,
            outer_id,
            inner_id: inner.id,
            payload_len,
            inner_ttl: inner.ttl,
        },
    )
}

/// TCP: replies are backscatter (the victim is the sender), SYNs are probes with or without
/// a tool's fingerprint, anything else is `other`.
#[inline]
fn tcp(o: &Observation, tags: &mut Tags) -> Verdict {
    let Some(dport) = o.dst_port else {
        return other("TCP without a logged port", 6);
    };
    if let (Some(f), Some(src)) = (o.tcp_flags, o.src) {
        if let Some(kind) = tcp_reply_kind(f) {
            return Verdict::new(
                Class::Backscatter,
                Evidence::Backscatter {
                    kind,
                    victim: src,
                    victim_port: o.src_port,
                },
            );
        }
        if f & tf::SYN == 0 {
            return other("TCP without SYN, SYN-ACK or RST", 6);
        }
    } else {
        tags.set(Tags::FLAGS_UNKNOWN);
    }
    if o.wire.as_ref().is_some_and(|w| !w.payload.is_empty()) {
        tags.set(Tags::SYN_PAYLOAD);
    }
    if is_mirai_port(dport) {
        tags.set(Tags::MIRAI_PORT);
    }
    if let (Some(IpAddr::V4(dst)), Some(seq)) = (o.dst, o.tcp_seq) {
        if let Some(v) = syn_fingerprint(u32::from(dst), dport, seq, o.ip_id) {
            return v;
        }
    } else if is_zmap_id(o) {
        return Verdict::new(Class::Zmap, Evidence::Zmap { ip_id: 54321 });
    }
    Verdict::new(
        Class::ScanTcp,
        Evidence::Scan {
            port: dport,
            service: tcp_service(dport),
        },
    )
}

/// UDP: DNS responses are backscatter, ZMap's ID marks its probes, the rest are probes of
/// the service behind the port.
#[inline]
fn udp(o: &Observation) -> Verdict {
    let Some(dport) = o.dst_port else {
        return other("UDP without a logged port", 17);
    };
    // DNS responses (QR bit) from port 53 answer queries the sensor never sent.
    if o.src_port == Some(53)
        && let Some(src) = o.src
        && let Some(w) = &o.wire
        && w.payload.len() >= 12
        && w.payload[2] & 0x80 != 0
    {
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind: BackscatterKind::DnsResponse,
                victim: src,
                victim_port: Some(53),
            },
        );
    }
    if is_zmap_id(o) {
        return Verdict::new(Class::Zmap, Evidence::Zmap { ip_id: 54321 });
    }
    Verdict::new(
        Class::ScanUdp,
        Evidence::Scan {
            port: dport,
            service: udp_service(dport),
        },
    )
}

/// ICMP and ICMPv6 alike: echo replies and errors about the sensor's packets are
/// backscatter; ZMap marks its IPv4 probes with ID 54321; the rest are probes.
fn icmp(o: &Observation, ctx: &Context, tags: &mut Tags, v4: bool) -> Verdict {
    // A capture's verdict names the IP version; a log line the protocol it logged.
    let proto = match (&o.wire, o.src) {
        (Some(_), Some(IpAddr::V6(_))) => 58,
        (Some(_), _) => 1,
        (None, _) => o.proto.unwrap_or(1),
    };
    let Some(ty) = o.icmp_type else {
        return other("ICMP without a logged type", proto);
    };
    let code = o.icmp_code.unwrap_or(0);
    let (echo_reply, error, name) = icmp_kind(v4, ty);
    if echo_reply && let Some(src) = o.src {
        return Verdict::new(
            Class::Backscatter,
            Evidence::Backscatter {
                kind: BackscatterKind::EchoReply,
                victim: src,
                victim_port: None,
            },
        );
    }
    if error {
        return match o.quoted {
            // The sensor never sends; an error about a packet "from" it answers a forged
            // source.
            Some(q) if Some(q.src) == o.dst || ctx.is_own(q.src) => {
                tags.set(Tags::FROM_SENSOR_QUOTED);
                Verdict::new(
                    Class::Backscatter,
                    Evidence::Backscatter {
                        kind: BackscatterKind::IcmpError(ty, code),
                        victim: q.dst,
                        victim_port: q.dst_port,
                    },
                )
            }
            Some(_) => other("ICMP error about a packet the sensor did not send", proto),
            None if o.wire.is_some() => other("ICMP error without a readable quoted packet", proto),
            None => other(
                "ICMP error logged without its quoted packet (victim unknown)",
                proto,
            ),
        };
    }
    // A log line's ICMP (protocol 1) with ZMap's ID; a capture's by its IPv4 header.
    let zmap = match &o.wire {
        Some(_) => is_zmap_id(o),
        None => v4 && o.ip_id == Some(54321),
    };
    if zmap {
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

/// ZMap's IPv4 ID on a probe.
#[inline]
fn is_zmap_id(o: &Observation) -> bool {
    o.ip_id == Some(54321) && o.dst.is_some_and(|a| a.is_ipv4())
}

/// The backscatter a TCP packet's flags make it: SYN-ACK, or RST (with or without ACK).
#[inline]
fn tcp_reply_kind(flags: u8) -> Option<BackscatterKind> {
    let (syn, ack, rst) = (
        flags & tf::SYN != 0,
        flags & tf::ACK != 0,
        flags & tf::RST != 0,
    );
    if rst {
        Some(BackscatterKind::Rst)
    } else if syn && ack {
        Some(BackscatterKind::SynAck)
    } else {
        None
    }
}

/// Ports Mirai's scanner and its descendants probe.
#[inline]
fn is_mirai_port(port: u16) -> bool {
    matches!(port, 23 | 2323 | 37215 | 52869 | 8080 | 7547 | 443 | 80)
}

/// The SYN fingerprints that need the IPv4 destination, port, sequence number and IP ID, in
/// rule order: mirai-scan, zmap, masscan. The IP ID may be unknown (some logs omit it).
#[inline]
fn syn_fingerprint(dst: u32, dport: u16, seq: u32, ip_id: Option<u16>) -> Option<Verdict> {
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
fn icmp_kind(v4: bool, ty: u8) -> (bool, bool, &'static str) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use noisefloor_wire::Quoted;
    use noisefloor_wire::observation::tcp_flags as tf;

    fn obs(proto: u8) -> Observation<'static> {
        Observation {
            src: Some("203.0.113.9".parse().unwrap()),
            dst: Some("198.51.100.7".parse().unwrap()),
            proto: Some(proto),
            ..Observation::new()
        }
    }

    #[test]
    fn gre_from_a_log_is_never_mirai() {
        let mut o = obs(47);
        o.ip_len = Some(564);
        let v = classify(&o, &Context::default());
        assert_eq!(v.class, Class::GreUnverified);
        assert!(v.tags.has(Tags::MIRAI_SIZE));
        o.ip_len = Some(100);
        let v = classify(&o, &Context::default());
        assert_eq!(v.class, Class::GreUnverified);
        assert!(!v.tags.has(Tags::MIRAI_SIZE));
    }

    #[test]
    fn tcp_rules_use_what_was_logged() {
        let mut o = obs(6);
        o.dst_port = Some(23);
        o.tcp_flags = Some(tf::SYN);
        o.tcp_seq = Some(u32::from_be_bytes([198, 51, 100, 7]));
        assert_eq!(classify(&o, &Context::default()).class, Class::MiraiScan);
        o.tcp_seq = Some(5);
        o.ip_id = Some(54321);
        assert_eq!(classify(&o, &Context::default()).class, Class::Zmap);
        o.ip_id = Some(((u32::from_be_bytes([198, 51, 100, 7]) ^ 23 ^ 5) & 0xffff) as u16);
        assert_eq!(classify(&o, &Context::default()).class, Class::Masscan);
        o.tcp_flags = Some(tf::SYN | tf::ACK);
        assert_eq!(classify(&o, &Context::default()).class, Class::Backscatter);
        o.tcp_flags = None;
        o.tcp_seq = None;
        let v = classify(&o, &Context::default());
        assert_eq!(v.class, Class::ScanTcp);
        assert!(v.tags.has(Tags::FLAGS_UNKNOWN));
    }

    #[test]
    fn icmp_errors_need_the_quote() {
        let mut o = obs(1);
        o.icmp_type = Some(3);
        o.icmp_code = Some(3);
        assert_eq!(classify(&o, &Context::default()).class, Class::Other);
        o.quoted = Some(Quoted {
            src: "198.51.100.7".parse().unwrap(),
            dst: "192.0.2.1".parse().unwrap(),
            proto: Some(6),
            src_port: Some(80),
            dst_port: Some(4444),
        });
        let v = classify(&o, &Context::default());
        assert_eq!(v.class, Class::Backscatter);
        assert!(matches!(
            v.evidence,
            Evidence::Backscatter { victim, victim_port: Some(4444), .. } if victim.to_string() == "192.0.2.1"
        ));
    }
}
