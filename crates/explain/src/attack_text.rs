//! What `explain` says about an attack: one sentence of verdict, and what to do. Kept apart
//! from the episode logic (`episodes.rs`) so wording changes never touch the decision.

use std::fmt::Write as _;

use noisefloor_classify::AttackKind;

use crate::episodes::Attack;
use crate::explain::{Action, int};

/// `23 s`, `0.15 s`, `4 min 10 s`, `2 h 5 min`.
pub fn duration(s: f64) -> String {
    if s < 0.01 {
        format!("{:.1} ms", s * 1000.0)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{} h {} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

/// `1,650`, or `0.4` below ten.
pub fn rate(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}")
    } else if r < 10.0 {
        format!("{r:.1}")
    } else {
        int(r.round() as u64)
    }
}

/// The target as a person writes it: `10.10.10.10:25565`, `10.10.10.10`, `203.0.113.0/24`.
pub fn target(a: &Attack) -> String {
    let (addr, len) = a.target;
    let host = (addr.is_ipv4() && len == 32) || (addr.is_ipv6() && len == 128);
    let mut s = if host {
        addr.to_string()
    } else {
        format!("{addr}/{len} ({} addresses hit)", int(a.addresses))
    };
    // A port only when one port took (nearly) everything: floods of random ports have none.
    if host
        && !a.kind.is_reflected()
        && matches!(
            a.kind,
            AttackKind::SynFlood | AttackKind::TcpFlood | AttackKind::UdpFlood
        )
        && let Some(&(p, n)) = a.ports.first()
        && n * 10 >= a.packets * 9
    {
        if addr.is_ipv6() {
            s = format!("[{s}]:{p}");
        } else {
            let _ = write!(s, ":{p}");
        }
    }
    s
}

fn sources(a: &Attack) -> String {
    let n = if a.sources_exact {
        int(a.sources)
    } else {
        format!("~{}", int(a.sources))
    };
    match a.kind {
        AttackKind::UdpAmplification => match a.service {
            Some(s) => format!("{n} {} servers (source port {})", s.service, s.port),
            None => format!("{n} reflectors"),
        },
        AttackKind::TcpReflection => format!("{n} reflectors"),
        _ if a.spoofed => format!("{n} spoofed sources"),
        _ if a.sources == 1 => "one source".into(),
        _ => format!("{n} sources"),
    }
}

fn name(a: &Attack) -> String {
    match (a.kind, a.service) {
        (AttackKind::UdpAmplification, Some(s)) => format!("{} amplification", s.service),
        _ => {
            let p = a.kind.phrase();
            let p = p.split_once(' ').map_or(p, |x| x.1);
            p.split(" (").next().unwrap_or(p).to_string()
        }
    }
}

/// `SYN flood against 10.10.10.10:25565` — for titles.
pub fn title(a: &Attack) -> String {
    let mut n = name(a);
    if let Some(c) = n.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    format!("{n} against {}", target(a))
}

/// The attack's verdict in one paragraph.
pub fn verdict(a: &Attack) -> String {
    let est = |exact: bool| if exact { "" } else { "~" };
    let mut s = format!(
        "{} against {}: {} {} at {}{} packets/s for {} (peak {}{}/s) from {}",
        article(&name(a)),
        target(a),
        int(a.packets),
        match a.kind {
            AttackKind::UdpAmplification | AttackKind::TcpReflection => "replies",
            _ => "packets",
        },
        if a.duration_s() < 1.0 { "~" } else { "" },
        rate(a.mean_pps),
        duration(a.duration_s()),
        est(a.peak_exact),
        rate(a.peak_pps),
        sources(a)
    );
    if a.fragments > 0 {
        let _ = write!(
            s,
            ", {} of them IP fragments of the same datagrams",
            int(a.fragments)
        );
    }
    s.push_str(". You are the target");
    match a.kind {
        AttackKind::UdpAmplification => {
            let _ = write!(
                s,
                ": someone sent requests to these servers with your address as the forged source, and they answer you{}. \
                 The servers are misused, not infected, and not the attacker",
                match a.service {
                    Some(sv) if sv.factor > 0 => format!(
                        " with up to {}× more bytes than the requests (Rossow, \"Amplification Hell\", and later advisories)",
                        int(sv.factor as u64)
                    ),
                    _ => String::new(),
                }
            );
        }
        AttackKind::TcpReflection => s.push_str(
            ": someone sent SYNs to these servers with your address as the forged source, and they answer you with \
             SYN-ACKs/RSTs; at this rate and concentration this is an attack on you, not the thin backscatter a darknet sees",
        ),
        _ if a.spoofed => {
            let _ = write!(
                s,
                "; the sources are forged (spoofed) and are not the senders: {:.1} packets per source, {} of 256 /8s \
                 (uniform draws would cover ~{:.0}), {:.1}% bogon sources, {} distinct TTLs",
                a.evidence.packets_per_source,
                a.evidence.slash8s,
                a.evidence.slash8s_uniform,
                a.evidence.bogon_share * 100.0,
                a.evidence.ttl_values
            );
        }
        _ => s.push_str("; the sources look real (not uniformly random), so they are the senders"),
    }
    s.push('.');
    if !a.packets_exact {
        s.push_str(" (Counts are lower bounds: memory limits dropped some destinations' packets.)");
    }
    s
}

fn article(n: &str) -> String {
    let vowel = n.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c))
        || n.starts_with("SNMP")
        || n.starts_with("SSDP")
        || n.starts_with("NTP")
        || n.starts_with("IKE")
        || n.starts_with("ICMP")
        || n.starts_with("IP ");
    let mut out = if vowel {
        "An ".to_string()
    } else {
        "A ".to_string()
    };
    out.push_str(n);
    out
}

/// What to do about one attack.
pub fn action(a: &Attack) -> Action {
    let t = a.target.0.to_string();
    let dst = if a.target.1 == 32 || a.target.1 == 128 {
        t.clone()
    } else {
        format!("{}/{}", a.target.0, a.target.1)
    };
    // IPv6 targets need ip6tables and nft's ip6 family.
    let (ipt, fam) = if a.target.0.is_ipv6() {
        ("ip6tables", "ip6")
    } else {
        ("iptables", "ip")
    };
    let (text, commands): (String, Vec<(&'static str, String)>) = match a.kind {
        AttackKind::UdpAmplification => {
            let port = a.service.map_or(0, |s| s.port);
            (
                format!(
                    "Drop UDP from source port {port} to {dst} as far upstream as you can. A local rule protects the host but \
                     not a full link: if the link saturates, ask your provider to filter source port {port} towards {dst} \
                     (or use a scrubbing service). Do not block the reflectors one by one ({} of them, and they change); \
                     their operators can close the open service, which your CERT can tell them.",
                    int(a.sources)
                ),
                vec![
                    (ipt, format!("{ipt} -I INPUT -p udp --sport {port} -d {dst} -j DROP\n{ipt} -I INPUT -f -d {dst} -j DROP")),
                    ("nftables", format!("nft insert rule inet filter input {fam} daddr {dst} udp sport {port} drop")),
                ],
            )
        }
        AttackKind::TcpReflection => (
            format!(
                "SYN-ACKs and RSTs that answer no connection of yours can be dropped statelessly before they reach \
                 anything: the connection tracker marks them INVALID. If the link saturates, only upstream filtering helps; \
                 the {} reflectors are ordinary servers that were sent SYNs in your name.",
                int(a.sources)
            ),
            vec![
                (ipt, format!("{ipt} -I INPUT -d {dst} -p tcp -m conntrack --ctstate INVALID -j DROP\n{ipt} -I INPUT -d {dst} -p tcp --tcp-flags SYN,ACK SYN,ACK -m conntrack --ctstate NEW -j DROP")),
                ("nftables", format!("nft insert rule inet filter input {fam} daddr {dst} ct state invalid drop")),
            ],
        ),
        AttackKind::SynFlood if a.spoofed => (
            "The sources are forged, so blocking them does nothing and would block random innocent hosts. Keep SYN cookies \
             on so half-open connections cost no memory, limit new connections per destination, and if the link saturates \
             ask your provider for upstream filtering or scrubbing."
                .into(),
            vec![
                ("sysctl", "sysctl -w net.ipv4.tcp_syncookies=1".into()),
                (ipt, format!("{ipt} -I INPUT -d {dst} -p tcp --syn -m hashlimit --hashlimit-above 200/second --hashlimit-burst 400 --hashlimit-mode dstip --hashlimit-name synflood -j DROP")),
            ],
        ),
        AttackKind::GreFlood => (
            format!(
                "Drop GRE (IP protocol 47) to {dst} unless you terminate GRE tunnels there{}; if the link saturates, ask your \
                 provider to drop protocol 47 towards you.",
                if a.spoofed {
                    ". The outer sources are forged: no per-source rules, and they are not infected devices"
                } else {
                    ""
                }
            ),
            vec![(ipt, format!("{ipt} -I INPUT -d {dst} -p gre -j DROP"))],
        ),
        _ if a.spoofed => (
            format!(
                "The sources are forged, so blocking them does nothing. Drop or rate-limit this traffic to {dst} by what \
                 it is (protocol and port), and if the link saturates ask your provider for upstream filtering or scrubbing."
            ),
            vec![(ipt, limit_rule(a, &dst, ipt))],
        ),
        _ => (
            format!(
                "The sources look real ({}): block or rate-limit them, and tell their networks' abuse contacts. The top \
                 sources below are the heaviest.",
                int(a.sources)
            ),
            vec![(ipt, limit_rule(a, &dst, ipt))],
        ),
    };
    Action {
        title: title(a),
        text,
        commands,
    }
}

fn limit_rule(a: &Attack, dst: &str, ipt: &str) -> String {
    let what = match a.kind {
        AttackKind::SynFlood => "-p tcp --syn".to_string(),
        AttackKind::TcpFlood => "-p tcp ! --syn".to_string(),
        AttackKind::UdpFlood => match a.ports.first() {
            Some(&(p, n)) if n * 10 >= a.packets * 9 => format!("-p udp --dport {p}"),
            _ => "-p udp".to_string(),
        },
        AttackKind::IcmpFlood => "-p icmp".to_string(),
        AttackKind::FragmentFlood => "-f".to_string(),
        _ => String::new(),
    };
    format!(
        "{ipt} -I INPUT -d {dst} {what} -m hashlimit --hashlimit-above 100/second --hashlimit-mode dstip --hashlimit-name flood -j DROP"
    )
}
