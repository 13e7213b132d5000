//! pfSense / OPNsense `filterlog` CSV (pfSense's "Filter Log Format"): rule, sub-rule,
//! anchor, tracker, interface, reason, action, direction, IP version, then for IPv4 TOS, ECN,
//! TTL, ID, offset, flags, protocol id, protocol name, length, source, destination; for IPv6
//! class, flow label, hop limit, protocol name, protocol id, length, source, destination;
//! then per protocol: TCP ports, data length, flags, sequence, ack, window, urg, options;
//! UDP ports and data length; ICMP a type word and its details.

use noisefloor_wire::{Action, Observation};

use super::{Envelope, ParseResult, Refusal, flag_letters, num, parse_ip};

/// A CSV line whose fields 5–7 are pf's reason, action and direction.
pub(crate) fn looks_like(m: &str) -> bool {
    let mut f = m.splitn(9, ',');
    let first = f.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let v: Vec<&str> = f.collect();
    v.len() == 8
        && matches!(v[5], "block" | "pass" | "match" | "scrub")
        && matches!(v[6], "in" | "out")
}

pub(crate) fn parse<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message.trim();
    let f: Vec<&str> = m.split(',').collect();
    if f.len() < 9 || !f[0].bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::NotMine);
    }
    let mut o = Observation::new();
    o.rule = (!f[0].is_empty()).then_some(f[0]);
    o.in_interface = (!f[4].is_empty()).then_some(f[4]);
    o.action = Some(match f[6] {
        "block" => Action::Drop,
        "pass" => Action::Allow,
        "reject" => Action::Reject,
        _ => Action::Other,
    });
    if f[7] == "out" {
        o.out_interface = o.in_interface.take();
    }
    let field = |i: usize| f.get(i).copied().ok_or("pf: truncated record");
    let at = match f[8] {
        "4" => {
            o.ttl = Some(num(field(11)?).ok_or("pf: bad TTL")?);
            o.ip_id = Some(num(field(12)?).ok_or("pf: bad IP ID")?);
            let off: u32 = num(field(13)?).ok_or("pf: bad fragment offset")?;
            o.frag_offset = Some(off * 8);
            o.dont_fragment = Some(field(14)?.contains("DF"));
            o.proto = Some(num(field(15)?).ok_or("pf: bad protocol id")?);
            o.ip_len = Some(num(field(17)?).ok_or("pf: bad length")?);
            o.src = Some(parse_ip(field(18)?).ok_or("pf: bad source address")?);
            o.dst = Some(parse_ip(field(19)?).ok_or("pf: bad destination address")?);
            20
        }
        "6" => {
            o.ttl = Some(num(field(11)?).ok_or("pf: bad hop limit")?);
            o.proto = Some(num(field(13)?).ok_or("pf: bad protocol id")?);
            o.ip_len = Some(num(field(14)?).ok_or("pf: bad length")?);
            o.src = Some(parse_ip(field(15)?).ok_or("pf: bad source address")?);
            o.dst = Some(parse_ip(field(16)?).ok_or("pf: bad destination address")?);
            17
        }
        _ => return Err(Refusal::Bad("pf: IP version is neither 4 nor 6")),
    };
    if o.frag_offset.unwrap_or(0) > 0 {
        return Ok(Some(o));
    }
    match o.proto {
        Some(6) => {
            o.src_port = Some(num(field(at)?).ok_or("pf: bad source port")?);
            o.dst_port = Some(num(field(at + 1)?).ok_or("pf: bad destination port")?);
            if let Some(flags) = f.get(at + 3) {
                o.tcp_flags = Some(flag_letters(flags).ok_or("pf: bad TCP flags")?);
            }
            if let Some(seq) = f.get(at + 4).filter(|s| !s.is_empty()) {
                // "start:end" when the packet carried data.
                let first = seq.split(':').next().unwrap_or(seq);
                o.tcp_seq = Some(num(first).ok_or("pf: bad TCP sequence")?);
            }
            if let Some(ack) = f.get(at + 5).filter(|s| !s.is_empty()) {
                o.tcp_ack = Some(num(ack).ok_or("pf: bad TCP ack")?);
            }
            if let Some(w) = f.get(at + 6).filter(|s| !s.is_empty()) {
                o.tcp_window = Some(num(w).ok_or("pf: bad TCP window")?);
            }
        }
        Some(17) => {
            o.src_port = Some(num(field(at)?).ok_or("pf: bad source port")?);
            o.dst_port = Some(num(field(at + 1)?).ok_or("pf: bad destination port")?);
        }
        Some(1) | Some(58) => {
            let (t, c) = match field(at)? {
                "request" => (8, None),
                "reply" => (0, None),
                "unreachproto" => (3, Some(2)),
                "unreachport" => (3, Some(3)),
                "unreach" => (3, None),
                "needfrag" => (3, Some(4)),
                "timexceed" => (11, None),
                "paramprob" => (12, None),
                "redirect" => (5, None),
                "tstamp" => (13, None),
                "tstampreply" => (14, None),
                "maskreq" => (17, None),
                "maskreply" => (18, None),
                _ => (255, None),
            };
            if t != 255 && o.proto == Some(1) {
                o.icmp_type = Some(t);
                o.icmp_code = c;
            }
        }
        _ => {}
    }
    Ok(Some(o))
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
    fn tcp_v4_and_udp_v6() {
        let o = p("53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,460,10.0.2.2,10.0.2.15,53742,22,420,PA,29633380:29633800,3617062173,65535,,").unwrap().unwrap();
        assert_eq!(o.ip_id, Some(420));
        assert_eq!(o.tcp_seq, Some(29_633_380));
        assert_eq!(o.tcp_flags, Some(0x18));
        assert_eq!(o.action, Some(Action::Drop));
        let o = p("98,,,881dd59a3e942966c90498ac104715a0,re0,match,pass,in,6,0x00,0x0ea87,51,udp,17,73,2008:8a0:702e:ce00:acc6:c7ee:fa01:2f8a,2c02:2454:ada:d900::1738,6881,51918,73").unwrap().unwrap();
        assert_eq!(
            (o.proto, o.src_port, o.dst_port),
            (Some(17), Some(6881), Some(51918))
        );
        assert_eq!(o.ttl, Some(51));
    }

    #[test]
    fn gre_and_truncation() {
        let o = p("5,,,1000000103,igb0,match,block,in,4,0x0,,238,45000,0,DF,47,gre,564,203.0.113.5,198.51.100.7,datalength=544").unwrap().unwrap();
        assert_eq!(o.proto, Some(47));
        assert_eq!(o.ip_len, Some(564));
        assert_eq!(
            p("5,,,1,igb0,match,block,in,4,0x0,,64,1,0,none,6,tcp"),
            Err(Refusal::Bad("pf: truncated record"))
        );
    }
}
