//! Juniper SRX `RT_FLOW` / `RT_SCREEN` records, as text and as RFC 5424 structured data.

use std::net::IpAddr;

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use crate::kv::pairs;
use crate::{Envelope, ParseResult, Refusal, num, parse_ip};

fn split_flow(s: &str) -> Option<(IpAddr, Option<u16>, IpAddr, Option<u16>)> {
    let (a, b) = s.split_once("->")?;
    let one = |x: &str| -> Option<(IpAddr, Option<u16>)> {
        match x.rsplit_once('/') {
            Some((ip, p)) => Some((parse_ip(ip)?, num(p))),
            None => Some((parse_ip(x)?, None)),
        }
    };
    let (sa, sp) = one(a)?;
    let (da, dp) = one(b.trim_end_matches(','))?;
    Some((sa, sp, da, dp))
}

pub(crate) fn junos<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message;
    let event = [
        "RT_FLOW_SESSION_DENY",
        "RT_FLOW_SESSION_CREATE",
        "RT_FLOW_SESSION_CLOSE",
        "RT_SCREEN_",
        "FLOW_",
    ]
    .iter()
    .find_map(|e| m.find(e).map(|i| (*e, i)));
    let Some((event, at)) = event else {
        return if m.contains("RT_FLOW") || m.contains("[junos@") {
            Ok(None)
        } else {
            Err(Refusal::NotMine)
        };
    };
    let mut o = Observation::new();
    o.action = Some(match event {
        "RT_FLOW_SESSION_DENY" | "RT_SCREEN_" | "FLOW_" => Action::Drop,
        _ => Action::Allow,
    });
    // Structured data (RFC 5424 or inside the message).
    let sd = env
        .structured
        .filter(|s| s.contains("source-address"))
        .or_else(|| m.find("[junos@").map(|i| &m[i..]));
    if let Some(sd) = sd {
        for (k, v) in pairs(sd) {
            match k {
                "source-address" => o.src = Some(parse_ip(v).ok_or("Junos: bad source-address")?),
                "destination-address" => {
                    o.dst = Some(parse_ip(v).ok_or("Junos: bad destination-address")?)
                }
                "source-port" => o.src_port = Some(num(v).ok_or("Junos: bad source-port")?),
                "destination-port" => {
                    o.dst_port = Some(num(v).ok_or("Junos: bad destination-port")?)
                }
                "protocol-id" => o.proto = Some(num(v).ok_or("Junos: bad protocol-id")?),
                "protocol-name" if o.proto.is_none() => o.proto = protocol_number(v),
                "icmp-type" => o.icmp_type = num(v),
                "policy-name" | "attack-name" => o.rule = Some(v),
                "packet-incoming-interface" | "interface-name" => o.in_interface = Some(v),
                "action" => o.action = Some(Action::from_word(v)),
                _ => {}
            }
        }
    } else {
        // Text form: "session denied A/p->B/p service 17(0) policy(...) ...".
        let w: Vec<&str> = m[at..].split(' ').filter(|x| !x.is_empty()).collect();
        let k = w
            .iter()
            .position(|x| x.contains("->"))
            .ok_or("Junos: no flow A/p->B/p")?;
        let (sa, sp, da, dp) = split_flow(w[k]).ok_or("Junos: bad flow addresses")?;
        (o.src, o.src_port, o.dst, o.dst_port) = (Some(sa), sp, Some(da), dp);
        if event == "RT_FLOW_SESSION_DENY" {
            if let Some(p) = w.get(k + 2) {
                let (proto, icmp) = p.split_once('(').unwrap_or((p, ""));
                o.proto = num(proto);
                if o.proto == Some(1) {
                    o.icmp_type = num(icmp.trim_end_matches(')'));
                }
            }
            o.rule = w.get(k + 3).copied();
        } else {
            o.proto = w.get(k + 5).and_then(|p| num(p));
            o.rule = w.get(k + 6).copied();
        }
    }
    if o.src.is_none() {
        return Ok(None);
    }
    if matches!(o.proto, Some(1) | Some(58)) {
        o.src_port = None;
        o.dst_port = None;
    } else {
        o.icmp_type = None;
    }
    if o.proto.is_none() {
        return Err(Refusal::Bad("Junos: no protocol"));
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junos_text_and_structured() {
        let o = junos(&Envelope::bare("RT_FLOW: RT_FLOW_SESSION_DENY: session denied 10.0.0.1/54924->192.168.1.1/53 junos-dns-udp 17(0) default-deny(global) trust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 UNKNOWN policy deny")).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.src_port, o.dst_port, o.action),
            (Some(17), Some(54924), Some(53), Some(Action::Drop))
        );
        let o = junos(&Envelope::bare("RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.39 source-address=\"192.168.1.1\" source-port=\"1080\" destination-address=\"192.168.1.2\" destination-port=\"8010\" service-name=\"junos-dns-udp\" protocol-id=\"17\" icmp-type=\"0\" policy-name=\"Local-Default-Deny\"]")).unwrap().unwrap();
        assert_eq!(
            (o.dst_port, o.rule),
            (Some(8010), Some("Local-Default-Deny"))
        );
    }
}
