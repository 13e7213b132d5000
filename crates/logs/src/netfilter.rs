//! netfilter's `LOG` target (iptables, ip6tables), nftables `log`, ufw, and the firewalls
//! built on them (UniFi, Proxmox, SuSE SFW2): `PREFIX IN=eth0 OUT= MAC=… SRC=… DST=… LEN=…
//! TOS=… PREC=… TTL=… ID=… DF PROTO=TCP SPT=… DPT=… WINDOW=… RES=… SYN URGP=0`.
//!
//! The kernel (`nf_log_syslog.c`) prints `PROTO=%u` for protocols it has no name for, so
//! GRE is `PROTO=47`; it is kept as 47 like every other number. An ICMP error's quoted
//! packet is printed in brackets (`[SRC=… DST=… … PROTO=UDP SPT=… DPT=…]`) and becomes the
//! observation's quoted packet. Only the first `LEN=` and `ID=` are the IP header's (later
//! ones are UDP's length and ICMP's echo ID).

use noisefloor_wire::observation::Quoted;
use noisefloor_wire::{Action, Observation};

use super::{Envelope, ParseResult, Refusal, action_in_text, flag_word, num, parse_ip};

pub(crate) fn parse<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message;
    // The fields start at the first KEY= netfilter always prints (IN= is empty for output).
    let Some(start) = find_fields(m) else {
        return Err(Refusal::NotMine);
    };
    let mut o = Observation::new();
    let prefix = clean_prefix(&m[..start]);
    o.rule = prefix.or(env.rule);
    o.action = prefix
        .and_then(action_in_text)
        .or_else(|| unifi_action(prefix));
    if o.action.is_none() {
        o.action = env.rule.and_then(action_in_text);
    }
    let mut proto_seen = false;
    let mut ip_len_seen = false;
    let mut id_seen = false;
    let mut rest = &m[start..];
    while !rest.is_empty() {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let first = rest.as_bytes()[0];
        if first == b'[' {
            // The packet an ICMP error quotes.
            let end = rest
                .find(']')
                .ok_or("netfilter: unterminated quoted packet")?;
            if o.quoted.is_none() {
                o.quoted = quoted(&rest[1..end]);
            }
            rest = &rest[end + 1..];
            continue;
        }
        if first == b'O' && rest.starts_with("OPT (") {
            let end = rest.find(')').unwrap_or(rest.len() - 1);
            rest = &rest[end + 1..];
            continue;
        }
        // memchr: a vectorised search, much faster than str::find on these short tokens.
        let (tok, next) = match memchr::memchr(b' ', rest.as_bytes()) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = next;
        let kv = memchr::memchr(b'=', tok.as_bytes()).map(|i| (&tok[..i], &tok[i + 1..]));
        let Some((k, v)) = kv else {
            // Bare flags: DF, MF, CE, and TCP flags after PROTO=TCP.
            match tok {
                "DF" => o.dont_fragment = Some(true),
                "MF" | "CE" | "INCOMPLETE" => {}
                _ => {
                    if let Some(f) = flag_word(tok)
                        && o.proto == Some(6)
                    {
                        o.tcp_flags = Some(o.tcp_flags.unwrap_or(0) | f);
                    } else if let Some(off) = tok.strip_prefix("FRAG:") {
                        let off: u32 = num(off).ok_or("netfilter: bad FRAG")?;
                        o.frag_offset = Some(off * 8);
                    }
                }
            }
            continue;
        };
        match k {
            "IN" => o.in_interface = (!v.is_empty()).then_some(v),
            "OUT" => o.out_interface = (!v.is_empty()).then_some(v),
            "SRC" => o.src = Some(parse_ip(v).ok_or("netfilter: bad SRC address")?),
            "DST" => o.dst = Some(parse_ip(v).ok_or("netfilter: bad DST address")?),
            "LEN" if !ip_len_seen => {
                ip_len_seen = true;
                o.ip_len = Some(
                    num(v)
                        .filter(|&l: &u32| l <= 65_535 + 40)
                        .ok_or("netfilter: bad LEN")?,
                );
            }
            "TTL" | "HOPLIMIT" => o.ttl = Some(num(v).ok_or("netfilter: bad TTL")?),
            "ID" if !id_seen && !proto_seen => {
                id_seen = true;
                // IPv6 fragment IDs are 32-bit; only IPv4's 16-bit ID is kept.
                let id: u32 = num(v).ok_or("netfilter: bad ID")?;
                if id <= 0xffff {
                    o.ip_id = Some(id as u16);
                }
            }
            "FRAG" => {
                let off: u32 = num(v).ok_or("netfilter: bad FRAG")?;
                o.frag_offset = Some(off * 8);
            }
            "PROTO" => {
                proto_seen = true;
                o.proto = Some(
                    noisefloor_wire::observation::protocol_number(v)
                        .ok_or("netfilter: unknown PROTO name")?,
                );
            }
            "SPT" => o.src_port = Some(num(v).ok_or("netfilter: bad SPT")?),
            "DPT" => o.dst_port = Some(num(v).ok_or("netfilter: bad DPT")?),
            "WINDOW" => o.tcp_window = Some(num(v).ok_or("netfilter: bad WINDOW")?),
            "SEQ" if o.proto == Some(6) => o.tcp_seq = Some(num(v).ok_or("netfilter: bad SEQ")?),
            "ACK" if o.proto == Some(6) => o.tcp_ack = Some(num(v).ok_or("netfilter: bad ACK")?),
            "TYPE" => o.icmp_type = Some(num(v).ok_or("netfilter: bad ICMP TYPE")?),
            "CODE" => o.icmp_code = Some(num(v).ok_or("netfilter: bad ICMP CODE")?),
            _ => {}
        }
    }
    if o.src.is_none() {
        return Err(Refusal::Bad("netfilter: no SRC address"));
    }
    if o.dst.is_none() {
        return Err(Refusal::Bad("netfilter: no DST address"));
    }
    if o.proto.is_none() {
        return Err(Refusal::Bad("netfilter: no PROTO"));
    }
    if matches!(o.proto, Some(6) | Some(17))
        && o.frag_offset.unwrap_or(0) == 0
        && o.src_port.is_none()
        && o.dst_port.is_none()
        && !m.contains("INCOMPLETE")
    {
        return Err(Refusal::Bad(
            "netfilter: TCP/UDP line without SPT/DPT (truncated?)",
        ));
    }
    if matches!(o.proto, Some(1) | Some(58))
        && o.icmp_type.is_none()
        && o.frag_offset.unwrap_or(0) == 0
        && !m.contains("INCOMPLETE")
    {
        return Err(Refusal::Bad(
            "netfilter: ICMP line without TYPE (truncated?)",
        ));
    }
    Ok(Some(o))
}

/// Where the KEY=value fields begin: `IN=` (or `OUT=` / `SRC=` when IN is left out).
fn find_fields(m: &str) -> Option<usize> {
    for key in ["IN=", "OUT=", "SRC="] {
        let mut from = 0;
        while let Some(i) = m[from..].find(key) {
            let at = from + i;
            if at == 0 || m.as_bytes()[at - 1] == b' ' || m.as_bytes()[at - 1] == b']' {
                return Some(at);
            }
            from = at + key.len();
        }
    }
    None
}

/// The log prefix, without the kernel's uptime stamp and UniFi's DESCR.
fn clean_prefix(p: &str) -> Option<&str> {
    let mut p = p.trim();
    if p.starts_with('[')
        && let Some(end) = p.find(']')
        && p[1..end]
            .trim()
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
    {
        p = p[end + 1..].trim();
    }
    if let Some(i) = p.find(" DESCR=") {
        p = p[..i].trim();
    }
    let p = p.trim_end_matches(':').trim();
    (!p.is_empty()).then_some(p)
}

/// UniFi's rule names `[WAN_LOCAL-D-2147483647]`: A(ccept), D(rop), R(eject).
fn unifi_action(prefix: Option<&str>) -> Option<Action> {
    let p = prefix?.trim_start_matches('[').split(']').next()?;
    let mut parts = p.rsplitn(3, '-');
    let _num = parts.next()?;
    match parts.next()? {
        "A" => Some(Action::Allow),
        "D" => Some(Action::Drop),
        "R" => Some(Action::Reject),
        _ => None,
    }
}

fn quoted(s: &str) -> Option<Quoted> {
    let mut src = None;
    let mut dst = None;
    let mut proto = None;
    let mut sport = None;
    let mut dport = None;
    for tok in s.split(' ') {
        if let Some((k, v)) = tok.split_once('=') {
            match k {
                "SRC" => src = parse_ip(v),
                "DST" => dst = parse_ip(v),
                "PROTO" => proto = noisefloor_wire::observation::protocol_number(v),
                "SPT" => sport = num(v),
                "DPT" => dport = num(v),
                _ => {}
            }
        }
    }
    Some(Quoted {
        src: src?,
        dst: dst?,
        proto,
        src_port: sport,
        dst_port: dport,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(msg: &str) -> ParseResult<'_> {
        parse(&Envelope {
            message: msg,
            ..Default::default()
        })
    }

    #[test]
    fn gre_is_protocol_47() {
        let o = p("IPTABLES-DROP: IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.5 DST=198.51.100.7 LEN=564 TOS=0x00 PREC=0x00 TTL=52 ID=49071 DF PROTO=47 ")
            .unwrap()
            .unwrap();
        assert_eq!(o.proto, Some(47));
        assert_eq!(o.ip_len, Some(564));
        assert_eq!(o.ip_id, Some(49071));
        assert_eq!(o.dont_fragment, Some(true));
        assert_eq!(o.action, Some(Action::Drop));
        assert_eq!(o.rule, Some("IPTABLES-DROP"));
    }

    #[test]
    fn tcp_flags_seq_and_second_len() {
        let o = p("[  203.8] IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.53 LEN=76 TTL=64 ID=25029 DF PROTO=UDP SPT=49007 DPT=53 LEN=56 ").unwrap().unwrap();
        assert_eq!(
            (o.ip_len, o.src_port, o.dst_port),
            (Some(76), Some(49007), Some(53))
        );
        assert_eq!(o.rule, None);
        let o = p("IN=eth0 SRC=10.3.95.34 DST=10.3.94.12 LEN=60 TTL=62 ID=64432 DF PROTO=TCP SPT=56386 DPT=8006 SEQ=2853565861 ACK=0 WINDOW=64240 SYN ").unwrap().unwrap();
        assert_eq!(o.tcp_seq, Some(2_853_565_861));
        assert_eq!(o.tcp_flags, Some(0x02));
    }

    #[test]
    fn icmp_error_quotes_its_packet() {
        let o = p("IN=eth0 OUT= SRC=192.0.2.1 DST=198.51.100.7 LEN=56 TTL=50 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.51.100.7 DST=192.0.2.99 LEN=40 TTL=49 ID=2 PROTO=TCP SPT=80 DPT=4444 ] ").unwrap().unwrap();
        assert_eq!((o.icmp_type, o.icmp_code), (Some(3), Some(3)));
        let q = o.quoted.unwrap();
        assert_eq!(q.dst.to_string(), "192.0.2.99");
        assert_eq!(q.dst_port, Some(4444));
    }

    #[test]
    fn bad_fields_are_rejected() {
        assert_eq!(
            p("IN=eth0 SRC=1.2.3 DST=1.2.3.4 PROTO=TCP"),
            Err(Refusal::Bad("netfilter: bad SRC address"))
        );
        assert_eq!(
            p("IN=eth0 SRC=1.2.3.4 DST=1.2.3.4 PROTO=TCP SPT=99999999 DPT=1"),
            Err(Refusal::Bad("netfilter: bad SPT"))
        );
        assert_eq!(
            p("IN=eth0 SRC=1.2.3.4 DST="),
            Err(Refusal::Bad("netfilter: bad DST address"))
        );
        assert_eq!(
            p("IN=eth0 SRC=1.2.3.4 DST=1.2.3.5 LEN=40"),
            Err(Refusal::Bad("netfilter: no PROTO"))
        );
        assert_eq!(p("no fields"), Err(Refusal::NotMine));
    }

    #[test]
    fn unifi_rule_codes() {
        let o = p("[WAN_LOCAL-D-2147483647] DESCR=\"[WAN_LOCAL]Block All Traffic\" IN=eth8 OUT= SRC=192.168.1.1 DST=192.168.1.25 LEN=122 PROTO=UDP SPT=38451 DPT=54329 LEN=102").unwrap().unwrap();
        assert_eq!(o.action, Some(Action::Drop));
        assert_eq!(o.rule, Some("[WAN_LOCAL-D-2147483647]"));
    }
}
