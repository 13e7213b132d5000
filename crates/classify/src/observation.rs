//! The same rules applied to an [`Observation`] (a firewall log line), using only the fields
//! the log carried. What a log cannot show is never guessed:
//!
//! - GRE: a log line has no inner header, so Mirai's IP-ID relation cannot be tested. GRE
//!   becomes `gre-unverified`, tagged `mirai-size` when its length is a Mirai flood's default
//!   (564/578 bytes with the 512-byte payload, 52/66 empty).
//! - TCP without logged flags (Cisco ASA's "Deny tcp src …") is counted as a connection
//!   attempt (`scan-tcp`, tagged `tcp-flags-not-logged`): a stateful firewall logs denies of
//!   packets that open nothing.
//! - `mirai-scan` and `masscan` need the sequence number (netfilter `--log-tcp-sequence`,
//!   Proxmox, pf); `zmap` needs the IP ID (netfilter, pf).
//! - ICMP errors are backscatter only when the log shows the quoted packet (netfilter does,
//!   in brackets) and it came from the sensor.

use noisefloor_wire::Observation;
use noisefloor_wire::observation::tcp_flags as tf;

use crate::{
    BackscatterKind, Class, Context, Evidence, Tags, Verdict, icmp_kind, is_mirai_port,
    mirai_gre_size, syn_fingerprint, tcp_reply_kind, tcp_service, udp_service,
};

/// Classifies one observation from a log.
pub fn classify_observation(o: &Observation, ctx: &Context) -> Verdict {
    let mut tags = Tags::default();
    if o.src.is_some_and(|a| a.is_ipv6()) {
        tags.set(Tags::IPV6);
    }
    if o.dont_fragment == Some(true) {
        tags.set(Tags::DF_OUTER);
    }
    let mut v = decide(o, ctx, &mut tags);
    v.tags.0 |= tags.0;
    v
}

fn other(what: &'static str, proto: u8) -> Verdict {
    Verdict::new(Class::Other, Evidence::Other { what, proto })
}

fn decide(o: &Observation, ctx: &Context, tags: &mut Tags) -> Verdict {
    if let Some(off) = o.frag_offset.filter(|&off| off > 0) {
        return Verdict::new(Class::Fragment, Evidence::Fragment { offset_bytes: off });
    }
    let Some(proto) = o.proto else {
        return other("no protocol in the log line", 0);
    };
    match proto {
        47 => {
            if o.ip_len.and_then(mirai_gre_size).is_some() {
                tags.set(Tags::MIRAI_SIZE);
            }
            Verdict::new(
                Class::GreUnverified,
                Evidence::GreUnverified { ip_len: o.ip_len },
            )
        }
        6 => tcp(o, tags),
        17 => udp(o),
        1 | 58 => icmp(o, ctx, proto),
        p => other("IP protocol without ports", p),
    }
}

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
    if is_mirai_port(dport) {
        tags.set(Tags::MIRAI_PORT);
    }
    if let (Some(std::net::IpAddr::V4(dst)), Some(seq)) = (o.dst, o.tcp_seq) {
        if let Some(v) = syn_fingerprint(u32::from(dst), dport, seq, o.ip_id) {
            return v;
        }
    } else if o.ip_id == Some(54321) && o.dst.is_some_and(|a| a.is_ipv4()) {
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

fn udp(o: &Observation) -> Verdict {
    let Some(dport) = o.dst_port else {
        return other("UDP without a logged port", 17);
    };
    if o.ip_id == Some(54321) && o.dst.is_some_and(|a| a.is_ipv4()) {
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

fn icmp(o: &Observation, ctx: &Context, proto: u8) -> Verdict {
    let Some(ty) = o.icmp_type else {
        return other("ICMP without a logged type", proto);
    };
    let code = o.icmp_code.unwrap_or(0);
    let v4 = proto == 1;
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
            Some(q) if Some(q.src) == o.dst || ctx.is_own(q.src) => {
                let mut v = Verdict::new(
                    Class::Backscatter,
                    Evidence::Backscatter {
                        kind: BackscatterKind::IcmpError(ty, code),
                        victim: q.dst,
                        victim_port: q.dst_port,
                    },
                );
                v.tags.set(Tags::FROM_SENSOR_QUOTED);
                v
            }
            Some(_) => other("ICMP error about a packet the sensor did not send", proto),
            None => other(
                "ICMP error logged without its quoted packet (victim unknown)",
                proto,
            ),
        };
    }
    if v4 && o.ip_id == Some(54321) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use noisefloor_wire::Quoted;

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
        let v = classify_observation(&o, &Context::default());
        assert_eq!(v.class, Class::GreUnverified);
        assert!(v.tags.has(Tags::MIRAI_SIZE));
        o.ip_len = Some(100);
        let v = classify_observation(&o, &Context::default());
        assert_eq!(v.class, Class::GreUnverified);
        assert!(!v.tags.has(Tags::MIRAI_SIZE));
    }

    #[test]
    fn tcp_rules_use_what_was_logged() {
        let mut o = obs(6);
        o.dst_port = Some(23);
        o.tcp_flags = Some(tf::SYN);
        o.tcp_seq = Some(u32::from_be_bytes([198, 51, 100, 7]));
        assert_eq!(
            classify_observation(&o, &Context::default()).class,
            Class::MiraiScan
        );
        o.tcp_seq = Some(5);
        o.ip_id = Some(54321);
        assert_eq!(
            classify_observation(&o, &Context::default()).class,
            Class::Zmap
        );
        o.ip_id = Some(((u32::from_be_bytes([198, 51, 100, 7]) ^ 23 ^ 5) & 0xffff) as u16);
        assert_eq!(
            classify_observation(&o, &Context::default()).class,
            Class::Masscan
        );
        o.tcp_flags = Some(tf::SYN | tf::ACK);
        assert_eq!(
            classify_observation(&o, &Context::default()).class,
            Class::Backscatter
        );
        o.tcp_flags = None;
        o.tcp_seq = None;
        let v = classify_observation(&o, &Context::default());
        assert_eq!(v.class, Class::ScanTcp);
        assert!(v.tags.has(Tags::FLAGS_UNKNOWN));
    }

    #[test]
    fn icmp_errors_need_the_quote() {
        let mut o = obs(1);
        o.icmp_type = Some(3);
        o.icmp_code = Some(3);
        assert_eq!(
            classify_observation(&o, &Context::default()).class,
            Class::Other
        );
        o.quoted = Some(Quoted {
            src: "198.51.100.7".parse().unwrap(),
            dst: "192.0.2.1".parse().unwrap(),
            proto: Some(6),
            src_port: Some(80),
            dst_port: Some(4444),
        });
        let v = classify_observation(&o, &Context::default());
        assert_eq!(v.class, Class::Backscatter);
        assert!(matches!(
            v.evidence,
            Evidence::Backscatter { victim, victim_port: Some(4444), .. } if victim.to_string() == "192.0.2.1"
        ));
    }
}
