//! Cisco ASA / FTD / PIX messages (`%ASA-3-106010: Deny inbound protocol 47 src
//! outside:115.51.6.185 dst outside:116.6.127.120`) and Cisco IOS ACL logs
//! (`%SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(139), 1 packet`).
//!
//! ASA messages are read by their shape rather than one pattern per message ID, because the
//! same shapes recur across IDs: endpoints are written `from A to B`, `src A dst B`,
//! `A -> B` or `faddr A gaddr G laddr L`, each `[interface:]address[/port|(port)]`; the
//! protocol is a name (`TCP`, `icmp`, `GRE`) or `protocol 47`. Built/Teardown messages
//! (302013–302021) are direction-aware: for an outbound connection the first address named
//! is the remote end. Messages without endpoints (failover, licences) are skipped.

use std::net::IpAddr;

use noisefloor_wire::observation::{Quoted, protocol_number};
use noisefloor_wire::{Action, Observation};

use super::{Envelope, ParseResult, Refusal, flag_word, num, parse_ip};

/// Bodies of well-known ASA messages, recognised without the `%ASA-n-NNNNNN:` prefix.
pub(crate) fn looks_like(m: &str) -> bool {
    const STARTS: [&str; 9] = [
        "Deny ",
        "Inbound TCP connection denied",
        "access-list ",
        "Built inbound ",
        "Built outbound ",
        "Teardown ",
        "Denied ICMP",
        "No matching connection for ICMP",
        "TCP access ",
    ];
    match strip_id(m) {
        // "ASA-6-110002: …" or "302020: …": an ASA message whatever its text.
        Some(_) => true,
        None => STARTS.iter().any(|s| m.trim_start().starts_with(s)),
    }
}

/// Splits `%ASA-3-106010: body`, `ASA-3-106010: body` or `302020: body` into (id, body).
fn strip_id(m: &str) -> Option<(u32, &str)> {
    let m = m.trim_start();
    let (head, body) = m.split_once(": ")?;
    // "6|Nov 28 2014 12:59:03|302021: …" (the ASA's buffer/emblem layout).
    let head = head.rsplit('|').next().unwrap_or(head);
    let head = head.trim_start_matches('%');
    let id = match head.rsplit_once('-') {
        Some((pre, id))
            if pre.starts_with("ASA-") || pre.starts_with("FTD-") || pre.starts_with("PIX-") =>
        {
            id
        }
        None => head,
        _ => return None,
    };
    if id.len() != 6 {
        return None;
    }
    Some((num(id)?, body))
}

/// An endpoint: `[interface:]address[/port|(port)]`, also `interface/address(port)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct End<'a> {
    iface: Option<&'a str>,
    addr: IpAddr,
    port: Option<u16>,
}

fn endpoint(tok: &str) -> Option<End<'_>> {
    let tok = tok.trim_end_matches([',', ';', '.']);
    // Port in parentheses: 10.0.6.56(3067), inside/10.10.123.45(51763).
    let (tok, paren_port) = match tok.split_once('(') {
        Some((a, p)) => (a, num::<u16>(p.trim_end_matches(')'))),
        None => (tok, None),
    };
    // "interface:address": an interface name is not all hex digits, so IPv6 stays whole.
    let (iface, rest) = match tok.split_once(':') {
        Some((i, r))
            if !i.is_empty() && !i.contains('/') && i.bytes().any(|b| !b.is_ascii_hexdigit()) =>
        {
            (Some(i), r)
        }
        _ => (None, tok),
    };
    let (iface, rest) = match (iface, rest.split_once('/')) {
        // interface/address (access-list 106100).
        (None, Some((i, a))) if parse_ip(a).is_some() && parse_ip(i).is_none() => (Some(i), a),
        _ => (iface, rest),
    };
    let (addr, port) = match rest.split_once('/') {
        Some((a, p)) => (parse_ip(a)?, num::<u16>(p)),
        None => (parse_ip(rest)?, None),
    };
    Some(End {
        iface,
        addr,
        port: port.or(paren_port),
    })
}

fn words(s: &str) -> Vec<&str> {
    s.split([' ', ',']).filter(|w| !w.is_empty()).collect()
}

/// The word after `key` (case-sensitive).
fn after<'a>(w: &[&'a str], key: &str) -> Option<(usize, &'a str)> {
    let i = w.iter().position(|x| *x == key)?;
    w.get(i + 1).map(|v| (i + 1, *v))
}

/// The protocol a message names, if it does. A number past 255 is an error: IP protocol
/// numbers are one byte, so it is damage, not a message about something that is not IP.
fn protocol_in(w: &[&str]) -> Result<Option<u8>, Refusal> {
    let number = |v: &str| {
        let v = v.trim_end_matches([',', ')']);
        match protocol_number(v) {
            None if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                Err(Refusal::Bad("Cisco ASA: protocol number above 255"))
            }
            n => Ok(n),
        }
    };
    for (i, x) in w.iter().enumerate() {
        // "protocol 47", "protocol= ICMP", "proto = UDP", "protocol=UDP".
        if let Some(p) = x
            .strip_prefix("protocol=")
            .or_else(|| x.strip_prefix("proto="))
            && !p.is_empty()
            && let Some(n) = number(p)?
        {
            return Ok(Some(n));
        }
        if matches!(*x, "protocol" | "protocol=" | "proto") {
            let mut v = w.get(i + 1).copied().unwrap_or("");
            if v == "=" {
                v = w.get(i + 2).copied().unwrap_or("");
            }
            if let Some(n) = number(v)? {
                return Ok(Some(n));
            }
        }
    }
    Ok(w.iter().find_map(|x| {
        let x = x.trim_end_matches(',');
        matches!(
            x.to_ascii_lowercase().as_str(),
            "tcp" | "udp" | "icmp" | "icmp6" | "icmpv6" | "gre" | "esp" | "ah" | "sctp" | "igmp"
        )
        .then(|| protocol_number(x))
        .flatten()
    }))
}

fn action_of(body: &str, id: Option<u32>) -> Action {
    let b = body.to_ascii_lowercase();
    if b.contains("reset") {
        Action::Reject
    } else if b.contains("deny")
        || b.contains("denied")
        || b.contains("drop")
        || b.contains("discard")
        || b.contains("failed")
        || b.contains("unable")
    {
        Action::Drop
    } else if b.starts_with("built") || b.contains("permitted") || b.contains("requested") {
        Action::Allow
    } else if matches!(id, Some(302014 | 302016 | 302018 | 302021)) || b.starts_with("teardown") {
        // A teardown closes a connection that was allowed.
        Action::Allow
    } else {
        Action::Other
    }
}

pub(crate) fn parse_asa<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message;
    let start = ["%ASA-", "%FTD-", "%PIX-", "ASA-", "FTD-", "PIX-"]
        .iter()
        .filter_map(|p| m.find(p))
        .min()
        .unwrap_or(0);
    let (id, body) = match strip_id(&m[start..]) {
        Some((id, b)) => (Some(id), b),
        None if looks_like(m) => (None, m.trim()),
        None => return Err(Refusal::NotMine),
    };
    let w = words(body);
    let mut o = Observation::new();
    o.action = Some(action_of(body, id));
    o.proto = protocol_in(&w)?;
    let (a, b) = if body.starts_with("Built ") || body.starts_with("Teardown ") {
        built_teardown(&w, body)
    } else if let Some((_, f)) = after(&w, "faddr") {
        (
            endpoint(f),
            after(&w, "laddr").and_then(|(_, l)| endpoint(l)),
        )
    } else if let (Some((_, s)), Some((_, d))) = (after(&w, "src"), after(&w, "dst")) {
        (endpoint(s), endpoint(d))
    } else if let Some(i) = w.iter().position(|x| *x == "->") {
        (
            i.checked_sub(1)
                .and_then(|j| w.get(j))
                .and_then(|x| endpoint(x)),
            w.get(i + 1).and_then(|x| endpoint(x)),
        )
    } else if let Some((fi, s)) = after(&w, "from")
        && let Some(d) = w[fi..]
            .iter()
            .position(|x| *x == "to")
            .and_then(|k| w.get(fi + k + 1))
    {
        // "to" after "from": "Failed to locate … from A to B" has an earlier "to".
        (endpoint(s), endpoint(d))
    } else if let (Some((_, s)), Some((_, d))) = (after(&w, "src"), after(&w, "dest")) {
        // 209005: "src = A, dest = B" (the '=' is a word of its own).
        let s = if s == "=" {
            after(&w, "src").and_then(|(i, _)| w.get(i + 1).copied())
        } else {
            Some(s)
        };
        let d = if d == "=" {
            after(&w, "dest").and_then(|(i, _)| w.get(i + 1).copied())
        } else {
            Some(d)
        };
        (s.and_then(endpoint), d.and_then(endpoint))
    } else if let Some((_, s)) = after(&w, "from").or_else(|| after(&w, "laddr")) {
        (endpoint(s), None)
    } else {
        (None, None)
    };
    let Some(src) = a else {
        return match id {
            // Messages that always name a packet: a missing address is damage.
            Some(
                106001 | 106006 | 106007 | 106010 | 106014 | 106015 | 106021 | 106023 | 313001
                | 710003,
            ) => Err(Refusal::Bad(
                "Cisco ASA: packet message without a readable source address",
            )),
            _ => Ok(None),
        };
    };
    o.src = Some(src.addr);
    o.src_port = src.port;
    o.in_interface = src.iface;
    if let Some(d) = b {
        o.dst = Some(d.addr);
        o.dst_port = d.port;
        o.out_interface = d.iface;
    }
    if let Some((_, i)) = after(&w, "interface") {
        o.in_interface = Some(i.trim_end_matches(['.', ',']));
    }
    // ICMP: "(type 8, code 0)", "type=3, code=3", and the ICMP "ports" of 302020/21.
    if let Some(i) = w.iter().position(|x| *x == "type" || x.ends_with("(type"))
        && let Some(t) = w.get(i + 1)
    {
        o.icmp_type = num(t.trim_end_matches([',', ')']));
    }
    if let Some((_, c)) = after(&w, "code") {
        o.icmp_code = num(c.trim_end_matches([',', ')']));
    }
    for x in &w {
        if let Some(t) = x.strip_prefix("type=").or_else(|| x.strip_prefix("(type=")) {
            o.icmp_type = num(t.trim_end_matches([',', ')']));
        }
        if let Some(c) = x.strip_prefix("code=") {
            o.icmp_code = num(c.trim_end_matches([',', ')']));
        }
    }
    if matches!(o.proto, Some(1) | Some(58)) {
        o.src_port = None;
        o.dst_port = None;
        if o.icmp_type.is_none() && body.contains("ICMP") && body.contains("Built") {
            o.icmp_type = Some(8);
        }
    } else if o.proto.is_none() && (o.icmp_type.is_some() || body.contains("ICMP")) {
        o.proto = Some(1);
    }
    // TCP flags: "flags SYN ACK on interface".
    if let Some(i) = w.iter().position(|x| *x == "flags") {
        let mut f = 0;
        for x in &w[i + 1..] {
            match flag_word(x) {
                Some(b) => f |= b,
                None => break,
            }
        }
        o.tcp_flags = Some(f);
    }
    // "by access-group "NAME"" / "access-list NAME".
    if let Some((_, g)) = after(&w, "access-group").or_else(|| after(&w, "access-list")) {
        o.rule = Some(g.trim_matches('"'));
    }
    // 313005: "Original IP payload: udp src A dst B".
    if let Some(i) = body.find("Original IP payload:") {
        let qw = words(&body[i + 20..]);
        if let (Some((_, s)), Some((_, d))) = (after(&qw, "src"), after(&qw, "dst"))
            && let (Some(s), Some(d)) = (endpoint(s), endpoint(d))
        {
            o.quoted = Some(Quoted {
                src: s.addr,
                dst: d.addr,
                proto: qw.first().and_then(|p| protocol_number(p)),
                src_port: s.port,
                dst_port: d.port,
            });
        }
    }
    // "Deny IP due to Land Attack", "Login denied": the protocol stays unknown.
    Ok(Some(o))
}

/// `Built {inbound|outbound} PROTO connection ID for IF:A/p (mapped) to IF:B/p (mapped)`,
/// `Teardown PROTO connection ID for IF:A/p to IF:B/p …`, and GRE/ICMP's `from … to …`.
fn built_teardown<'a>(w: &[&'a str], body: &str) -> (Option<End<'a>>, Option<End<'a>>) {
    let (first, second) = match (after(w, "faddr"), after(w, "laddr")) {
        // ICMP (302020/302021): foreign, global and local addresses.
        (Some((_, f)), Some((_, l))) => (endpoint(f), endpoint(l)),
        _ => match (after(w, "for"), after(w, "to")) {
            (Some((_, a)), Some((_, b))) => (endpoint(a), endpoint(b)),
            _ => match (after(w, "from"), after(w, "to")) {
                (Some((_, a)), Some((_, b))) => (endpoint(a), endpoint(b)),
                _ => (None, None),
            },
        },
    };
    // Outbound: "for outside:REMOTE to inside:LOCAL" names the responder first.
    if body.starts_with("Built outbound") {
        (second, first)
    } else {
        (first, second)
    }
}

/// The most packets one IOS ACL log line may stand for. IOS reports the packets an entry
/// matched since its last message, once per log-update interval (5 minutes by default);
/// 10^9 in one report is over 3 million packets a second to one logged entry for the whole
/// interval, far past what a router logs. Larger counts (4294967295 is a 32-bit counter
/// at -1) are damage, and one such line would outweigh every other record in the totals.
const IOS_MAX_COUNT: u32 = 1_000_000_000;

/// Cisco IOS `%SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(139),
/// 1 packet` (also IPACCESSLOGDP for ICMP `(3/1)`, IPACCESSLOGNP for other protocols, and
/// IPACCESSLOGS for standard lists with only a source).
pub(crate) fn parse_ios<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message;
    let Some(i) = m.find("%SEC-6-IPACCESSLOG") else {
        return Err(Refusal::NotMine);
    };
    let body = m[i..].split_once(": ").map_or("", |(_, b)| b);
    let w = words(body);
    let mut o = Observation::new();
    let (li, list) = after(&w, "list").ok_or("Cisco IOS: no access list")?;
    o.rule = Some(list);
    let verb = w.get(li + 1).copied().unwrap_or("");
    o.action = Some(Action::from_word(verb));
    let mut at = li + 2;
    if let Some(p) = w.get(at)
        && endpoint(p).is_none()
    {
        // IPACCESSLOGNP names the protocol by number: one byte.
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && protocol_number(p).is_none() {
            return Err(Refusal::Bad("Cisco IOS: protocol number above 255"));
        }
        if let Some(n) = protocol_number(p) {
            o.proto = Some(n);
            at += 1;
        }
    }
    let src = w
        .get(at)
        .and_then(|x| endpoint(x))
        .ok_or("Cisco IOS: bad source address")?;
    o.src = Some(src.addr);
    o.src_port = src.port;
    if let Some(j) = w.iter().position(|x| *x == "->") {
        let dst = w
            .get(j + 1)
            .and_then(|x| endpoint(x))
            .ok_or("Cisco IOS: bad destination address")?;
        o.dst = Some(dst.addr);
        o.dst_port = dst.port;
        // ICMP "(type/code)".
        if let Some(tc) = w
            .get(j + 2)
            .and_then(|x| x.strip_prefix('('))
            .and_then(|x| x.strip_suffix(')'))
            && let Some((t, c)) = tc.split_once('/')
        {
            o.icmp_type = num(t);
            o.icmp_code = num(c);
        }
    }
    if let Some(k) = w.iter().position(|x| x.starts_with("packet")) {
        o.count = w
            .get(k.wrapping_sub(1))
            .and_then(|n| num(n))
            .ok_or("Cisco IOS: bad packet count")?;
        if o.count > IOS_MAX_COUNT {
            return Err(Refusal::Bad(
                "Cisco IOS: packet count above 10^9 (a wrapped or corrupt counter)",
            ));
        }
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(msg: &str) -> ParseResult<'_> {
        parse_asa(&Envelope {
            message: msg,
            ..Default::default()
        })
    }

    #[test]
    fn deny_inbound_protocol_47() {
        let o = p("%ASA-3-106010: Deny inbound protocol 47 src outside:115.51.6.185 dst outside:116.6.127.120").unwrap().unwrap();
        assert_eq!(o.proto, Some(47));
        assert_eq!(o.src.unwrap().to_string(), "115.51.6.185");
        assert_eq!(o.dst.unwrap().to_string(), "116.6.127.120");
        assert_eq!(o.action, Some(Action::Drop));
        assert_eq!(o.in_interface, Some("outside"));
    }

    #[test]
    fn shapes() {
        let o = p("%ASA-2-106001: Inbound TCP connection denied from 111.93.241.59/54322 to 116.6.127.122/1433 flags SYN on interface outside").unwrap().unwrap();
        assert_eq!(
            (o.proto, o.src_port, o.dst_port, o.tcp_flags),
            (Some(6), Some(54322), Some(1433), Some(2))
        );
        let o = p("ASA-6-302013: Built outbound TCP connection 11757 for outside:100.66.205.104/80 (100.66.205.104/80) to inside:172.31.98.44/1772 (172.31.98.44/1772)").unwrap().unwrap();
        assert_eq!(o.src.unwrap().to_string(), "172.31.98.44");
        assert_eq!(o.dst_port, Some(80));
        let o = p("access-list inside permitted tcp inside/10.10.123.45(51763) -> outside/192.168.67.89(80) hit-cnt 1 first hit [0x62c4905, 0x0]").unwrap().unwrap();
        assert_eq!(
            (o.src_port, o.dst_port, o.action),
            (Some(51763), Some(80), Some(Action::Allow))
        );
        let o = p("ASA-3-106014: Deny inbound icmp src fw111:10.10.10.10 dst fw111:10.10.10.11(type 8, code 0)").unwrap().unwrap();
        assert_eq!(
            (o.proto, o.icmp_type, o.icmp_code),
            (Some(1), Some(8), Some(0))
        );
        let o = p("No matching connection for ICMP error message: icmp src fw111:10.192.33.100 dst fw111:192.18.4.1 (type 3, code 3) on fw111 interface. Original IP payload: udp src 192.18.4.1/53 dst 8.8.8.8/10872.").unwrap().unwrap();
        assert_eq!(o.quoted.unwrap().dst_port, Some(10872));
        assert_eq!(
            p("(Secondary) Switching to ACTIVE - Service card in other unit has failed"),
            Err(Refusal::NotMine)
        );
        assert_eq!(
            p("%ASA-1-505015: Module ips, application up \"IPS\""),
            Ok(None)
        );
    }

    #[test]
    fn ios_acl() {
        let o = parse_ios(&Envelope {
            message: "%SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(139), 3 packets",
            ..Default::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            (o.proto, o.src_port, o.dst_port, o.count),
            (Some(6), Some(3067), Some(139), 3)
        );
    }

    #[test]
    fn protocol_numbers_above_255_are_rejected() {
        // IP protocol numbers are 8 bits: 99999 is damage, not a "non-IP" record.
        let r = p(
            "%ASA-3-106010: Deny inbound protocol 99999 src outside:115.51.6.185 dst outside:116.6.127.120",
        );
        assert!(r.unwrap_err().reason().contains("protocol"));
        let r = p(
            "%ASA-3-106010: Deny inbound protocol 256 src outside:115.51.6.185 dst outside:116.6.127.120",
        );
        assert!(r.is_err());
        let o = p("%ASA-3-106010: Deny inbound protocol 255 src outside:115.51.6.185 dst outside:116.6.127.120").unwrap().unwrap();
        assert_eq!(o.proto, Some(255));
        let ios = |m: &'static str| {
            parse_ios(&Envelope {
                message: m,
                ..Default::default()
            })
        };
        let r =
            ios("%SEC-6-IPACCESSLOGNP: list 101 denied 99999 10.0.6.56 -> 172.36.4.7, 1 packet");
        assert!(r.unwrap_err().reason().contains("protocol"));
        let o = ios("%SEC-6-IPACCESSLOGNP: list 101 denied 47 10.0.6.56 -> 172.36.4.7, 1 packet")
            .unwrap()
            .unwrap();
        assert_eq!(o.proto, Some(47));
    }

    #[test]
    fn ios_packet_counts_beyond_reason_are_rejected() {
        let ios = |n: &str| {
            let m: &'static str = Box::leak(
                format!("%SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(139), {n} packets")
                    .into_boxed_str(),
            );
            parse_ios(&Envelope {
                message: m,
                ..Default::default()
            })
        };
        assert_eq!(ios("1000000000").unwrap().unwrap().count, 1_000_000_000);
        assert!(
            ios("1000000001")
                .unwrap_err()
                .reason()
                .contains("packet count")
        );
        // u32::MAX: a wrapped or unset counter, not four billion packets.
        assert!(
            ios("4294967295")
                .unwrap_err()
                .reason()
                .contains("packet count")
        );
        assert!(
            ios("99999999999")
                .unwrap_err()
                .reason()
                .contains("packet count")
        );
    }
}
