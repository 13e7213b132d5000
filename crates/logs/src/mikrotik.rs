//! MikroTik RouterOS firewall log lines.

use std::net::IpAddr;

use noisefloor_wire::Observation;
use noisefloor_wire::observation::protocol_number;

use crate::{Envelope, ParseResult, Refusal, action_in_text, flag_word, num, parse_ip};

fn mikrotik_end(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Some(r) = s.strip_prefix('[') {
        let (ip, rest) = r.split_once(']')?;
        return Some((parse_ip(ip)?, rest.strip_prefix(':').and_then(num)));
    }
    if let Some(ip) = parse_ip(s) {
        return Some((ip, None));
    }
    let (ip, p) = s.rsplit_once(':')?;
    Some((parse_ip(ip)?, Some(num(p)?)))
}

pub(crate) fn mikrotik<'a>(env: &Envelope<'a>) -> ParseResult<'a> {
    let m = env.message;
    let Some(arrow) = m.find("->") else {
        return Err(Refusal::NotMine);
    };
    let mut o = Observation::new();
    // "firewall,info drop-in input: in:ether1-WAN out:(unknown 0), ..."
    let mut words = m.split(' ');
    let topics = words.next().unwrap_or("");
    if !topics.contains("firewall") {
        return Err(Refusal::NotMine);
    }
    let head_end = m.find(" in:").or_else(|| m.find(" out:")).unwrap_or(arrow);
    let head = m[topics.len()..head_end].trim();
    // The chain ends with ':'; words before it are the log prefix.
    let (prefix, _chain) = match head.rfind(' ') {
        Some(i) => (head[..i].trim(), &head[i + 1..]),
        None => ("", head),
    };
    o.rule = (!prefix.is_empty()).then_some(prefix);
    o.action = action_in_text(prefix);
    if let Some(i) = m.find(" in:") {
        let v = m[i + 4..].split([' ', ',']).next().unwrap_or("");
        o.in_interface = (!v.is_empty() && v != "(unknown").then_some(v);
    }
    if let Some(i) = m.find(" out:") {
        let v = m[i + 5..].split([' ', ',']).next().unwrap_or("");
        o.out_interface = (!v.is_empty() && v != "(unknown").then_some(v);
    }
    let pi = m.find("proto ").ok_or("MikroTik: no proto")?;
    let after = &m[pi + 6..];
    let name = after.split([' ', ',']).next().unwrap_or("");
    o.proto = Some(protocol_number(name).ok_or("MikroTik: unknown protocol")?);
    let detail = after[name.len()..].trim_start();
    if let Some(d) = detail.strip_prefix('(') {
        let d = d.split(')').next().unwrap_or("");
        if matches!(o.proto, Some(6)) {
            let mut f = 0;
            for x in d.split(',') {
                f |= flag_word(x.trim()).ok_or("MikroTik: bad TCP flags")?;
            }
            o.tcp_flags = Some(f);
        } else if let Some(t) = d.strip_prefix("type ") {
            let (t, c) = t.split_once(", code ").unwrap_or((t, ""));
            o.icmp_type = num(t);
            o.icmp_code = num(c);
        }
    }
    // The flow is the word holding "->".
    let start = m[..arrow].rfind(' ').map_or(0, |i| i + 1);
    let end = m[arrow..].find([',', ' ']).map_or(m.len(), |i| arrow + i);
    let (a, b) = m[start..end].split_once("->").ok_or("MikroTik: bad flow")?;
    let (sa, sp) = mikrotik_end(a).ok_or("MikroTik: bad source address")?;
    let (da, dp) = mikrotik_end(b).ok_or("MikroTik: bad destination address")?;
    (o.src, o.dst) = (Some(sa), Some(da));
    if !matches!(o.proto, Some(1) | Some(58)) {
        (o.src_port, o.dst_port) = (sp, dp);
    }
    if let Some(i) = m.rfind(" len ") {
        o.ip_len = num(m[i + 5..].trim_end_matches(|c: char| !c.is_ascii_digit()));
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fortigate::fortigate;
    use crate::paloalto::paloalto;
    use crate::time::{Zone, ZoneCache};
    use noisefloor_wire::Action;
    use noisefloor_wire::observation::tcp_flags as tf;

    #[test]
    fn fortigate_and_paloalto_and_mikrotik() {
        let mut z = ZoneCache::new(Zone::UTC);
        let o = fortigate(&Envelope::bare("date=2019-05-10 time=11:37:47 logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" devname=\"FG\" srcip=10.1.100.11 srcport=58012 srcintf=\"port12\" dstip=23.59.154.35 dstport=80 proto=47 action=\"deny\" policyid=0 tz=\"-0700\""), &mut z).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.action, o.host),
            (Some(47), Some(Action::Drop), Some("FG"))
        );
        let m = "2023-07-06T08:11:40+02:00 host 1,2023/07/06 08:11:40,016401002737,TRAFFIC,deny,2561,2023/07/06 08:11:40,1.2.3.2,1.2.3.3,0.0.0.0,0.0.0.0,rule1,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,fwd,2023/07/06 08:11:40,0,1,47094,22,0,0,0x0,tcp,deny,60,60,0";
        let msg = &m[m.find("1,").unwrap()..];
        let o = paloalto(&Envelope::bare(msg), &mut z).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.dst_port, o.action),
            (Some(6), Some(22), Some(Action::Drop))
        );
        let o = mikrotik(&Envelope::bare("firewall,info drop-tcp input: in:ether1-WAN out:(unknown 0), connection-state:new src-mac 00:17:10:88:bc:02, proto TCP (SYN), 36.97.161.219:59388->81.82.202.145:23, len 40")).unwrap().unwrap();
        assert_eq!(
            (o.src_port, o.dst_port, o.tcp_flags, o.ip_len),
            (Some(59388), Some(23), Some(tf::SYN), Some(40))
        );
        assert_eq!(o.rule, Some("drop-tcp"));
        let o = mikrotik(&Envelope::bare("firewall,info input: in:WAN out:(unknown 0), connection-state:new src-mac e4:41:64:93:a8:0f, proto TCP (SYN), [2001:db8:1234::1]:40384->[2001:db8:1234::2]:20461, len 24")).unwrap().unwrap();
        assert_eq!(o.dst.unwrap().to_string(), "2001:db8:1234::2");
    }
}
