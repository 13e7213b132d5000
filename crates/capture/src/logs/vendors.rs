//! The smaller formats: Windows Firewall `pfirewall.log`, DShield's tab-separated
//! submissions, Juniper SRX `RT_FLOW`/`RT_SCREEN`, FortiGate and SonicWall key=value
//! records, Palo Alto CSV, and MikroTik's firewall log.

use std::net::IpAddr;

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use super::kv::pairs;
use super::time::{self, ZoneCache};
use super::{
    Envelope, NOT_MINE, ParseResult, action_in_text, flag_letters, flag_word, num, parse_ip,
};

// ---------------------------------------------------------------------------------------
// Windows Firewall (pfirewall.log, W3C extended format)

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WinField {
    Date,
    Time,
    Action,
    Protocol,
    SrcIp,
    DstIp,
    SrcPort,
    DstPort,
    Size,
    TcpFlags,
    TcpSyn,
    TcpAck,
    TcpWin,
    IcmpType,
    IcmpCode,
    Path,
    Other,
}

/// The column order from the file's `#Fields:` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowsFields(Vec<WinField>);

impl WindowsFields {
    pub fn parse(header: &str) -> Option<WindowsFields> {
        let header = header.strip_prefix("#Fields:").unwrap_or(header);
        let v: Vec<WinField> = header
            .split_whitespace()
            .map(|f| match f {
                "date" => WinField::Date,
                "time" => WinField::Time,
                "action" => WinField::Action,
                "protocol" => WinField::Protocol,
                "src-ip" => WinField::SrcIp,
                "dst-ip" => WinField::DstIp,
                "src-port" => WinField::SrcPort,
                "dst-port" => WinField::DstPort,
                "size" => WinField::Size,
                "tcpflags" => WinField::TcpFlags,
                "tcpsyn" => WinField::TcpSyn,
                "tcpack" => WinField::TcpAck,
                "tcpwin" => WinField::TcpWin,
                "icmptype" => WinField::IcmpType,
                "icmpcode" => WinField::IcmpCode,
                "path" => WinField::Path,
                _ => WinField::Other,
            })
            .collect();
        v.contains(&WinField::SrcIp).then_some(WindowsFields(v))
    }
    fn default_layout() -> WindowsFields {
        WindowsFields::parse(
            "date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path",
        )
        .expect("the documented layout")
    }
}

pub(crate) fn windows_looks_like(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() > 20
        && time::parse_iso(b).is_some_and(|(s, n)| s.offset.is_none() && n == 19)
        && ["ALLOW ", "DROP ", "INFO-EVENTS-LOST"]
            .iter()
            .any(|a| m[20..].starts_with(a))
}

pub(crate) fn windows<'a>(
    env: &Envelope<'a>,
    zone: &mut ZoneCache,
    fields: Option<&WindowsFields>,
) -> ParseResult<'a> {
    let default;
    let layout = match fields {
        Some(f) => f,
        None => {
            default = WindowsFields::default_layout();
            &default
        }
    };
    let cols: Vec<&str> = env.message.split_whitespace().collect();
    if !windows_looks_like(env.message) {
        return Err(NOT_MINE);
    }
    let mut o = Observation::new();
    let mut date = None;
    let mut clock = None;
    for (f, v) in layout.0.iter().zip(cols.iter().copied()) {
        if v == "-" {
            continue;
        }
        match f {
            WinField::Date => date = Some(v),
            WinField::Time => clock = Some(v),
            WinField::Action => {
                if v == "INFO-EVENTS-LOST" {
                    return Ok(None);
                }
                o.action = Some(Action::from_word(v));
            }
            WinField::Protocol => {
                o.proto = Some(protocol_number(v).ok_or("Windows: unknown protocol")?)
            }
            WinField::SrcIp => o.src = Some(parse_ip(v).ok_or("Windows: bad src-ip")?),
            WinField::DstIp => o.dst = Some(parse_ip(v).ok_or("Windows: bad dst-ip")?),
            WinField::SrcPort => o.src_port = Some(num(v).ok_or("Windows: bad src-port")?),
            WinField::DstPort => o.dst_port = Some(num(v).ok_or("Windows: bad dst-port")?),
            WinField::Size => o.ip_len = Some(num(v).ok_or("Windows: bad size")?),
            WinField::TcpFlags => {
                o.tcp_flags = Some(flag_letters(v).ok_or("Windows: bad tcpflags")?)
            }
            WinField::TcpSyn => o.tcp_seq = Some(num(v).ok_or("Windows: bad tcpsyn")?),
            WinField::TcpAck => o.tcp_ack = Some(num(v).ok_or("Windows: bad tcpack")?),
            WinField::TcpWin => o.tcp_window = Some(num(v).ok_or("Windows: bad tcpwin")?),
            WinField::IcmpType => o.icmp_type = Some(num(v).ok_or("Windows: bad icmptype")?),
            WinField::IcmpCode => o.icmp_code = Some(num(v).ok_or("Windows: bad icmpcode")?),
            WinField::Path => {
                if v == "SEND" {
                    o.out_interface = Some("SEND");
                }
            }
            WinField::Other => {}
        }
    }
    let (Some(d), Some(c)) = (date, clock) else {
        return Err("Windows: no date or time");
    };
    let mut buf = [0u8; 19];
    if d.len() != 10 || c.len() != 8 {
        return Err("Windows: bad date or time");
    }
    buf[..10].copy_from_slice(d.as_bytes());
    buf[10] = b' ';
    buf[11..].copy_from_slice(c.as_bytes());
    let (stamp, _) = time::parse_iso(&buf).ok_or("Windows: bad date or time")?;
    // pfirewall.log is written in local time ("#Time Format: Local").
    o.ts_ns = Some(stamp.resolve(zone));
    if o.src.is_none() || o.dst.is_none() || o.proto.is_none() {
        return Err("Windows: record without addresses or protocol");
    }
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// DShield (isc.sans.edu tab-separated submissions)

pub(crate) fn dshield_looks_like(m: &str) -> bool {
    let f: Vec<&str> = m.split('\t').collect();
    f.len() >= 8 && (dshield_time(f[0]).is_some() || dshield_time(f[1]).is_some())
}

fn dshield_time(s: &str) -> Option<time::Stamp> {
    let b = s.trim().as_bytes();
    let (mut st, n) = time::parse_iso(b)?;
    // "2005-02-10 23:42:15 -05:00": the zone after a space.
    if st.offset.is_none()
        && let Some(rest) = b.get(n..)
        && let Some(o) = time::parse_offset(trim_ascii(rest))
    {
        st.offset = Some(o);
    }
    Some(st)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

pub(crate) fn dshield<'a>(env: &Envelope<'a>, zone: &mut ZoneCache) -> ParseResult<'a> {
    let f: Vec<&str> = env.message.split('\t').map(str::trim).collect();
    if f.len() < 8 {
        return Err(NOT_MINE);
    }
    // The ISC's order is date, user id, count, ...; some tools put the user id first.
    let (stamp, rest) = match (dshield_time(f[0]), dshield_time(f[1])) {
        (Some(s), _) => (s, &f[2..]),
        (None, Some(s)) => (s, &f[2..]),
        _ => return Err("DShield: no date"),
    };
    let mut o = Observation::new();
    o.ts_ns = Some(stamp.resolve(zone));
    o.count = num(rest[0])
        .filter(|&c| c > 0)
        .ok_or("DShield: bad count")?;
    o.src = Some(parse_ip(rest[1]).ok_or("DShield: bad source address")?);
    let sport: Option<u16> = if rest[2].is_empty() {
        None
    } else {
        Some(num(rest[2]).ok_or("DShield: bad source port")?)
    };
    o.dst = Some(parse_ip(rest[3]).ok_or("DShield: bad target address")?);
    let dport: Option<u16> = if rest[4].is_empty() {
        None
    } else {
        Some(num(rest[4]).ok_or("DShield: bad target port")?)
    };
    let proto = protocol_number(rest[5]).ok_or("DShield: bad protocol")?;
    o.proto = Some(proto);
    if matches!(proto, 1 | 58) {
        // DShield puts the ICMP type and code in the port fields.
        o.icmp_type = sport.and_then(|p| u8::try_from(p).ok());
        o.icmp_code = dport.and_then(|p| u8::try_from(p).ok());
    } else {
        o.src_port = sport;
        o.dst_port = dport;
    }
    if let Some(fl) = rest.get(6).filter(|s| !s.is_empty()) {
        o.tcp_flags = Some(flag_letters(fl).ok_or("DShield: bad TCP flags")?);
    }
    o.action = Some(Action::Drop);
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// Juniper SRX

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
            Err(NOT_MINE)
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
        return Err("Junos: no protocol");
    }
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// FortiGate

pub(crate) fn fortigate<'a>(env: &Envelope<'a>, zone: &mut ZoneCache) -> ParseResult<'a> {
    let mut o = Observation::new();
    let (mut date, mut clock, mut tz, mut eventtime) = (None, None, None, None);
    let mut kind = None;
    let mut any = false;
    for (k, v) in pairs(env.message) {
        any = true;
        match k {
            "date" => date = Some(v),
            "time" => clock = Some(v),
            "tz" => tz = Some(v),
            "eventtime" => eventtime = Some(v),
            "type" => kind = Some(v),
            "devname" => o.host = Some(v),
            "srcip" => o.src = Some(parse_ip(v).ok_or("FortiGate: bad srcip")?),
            "dstip" => o.dst = Some(parse_ip(v).ok_or("FortiGate: bad dstip")?),
            "srcport" => o.src_port = Some(num(v).ok_or("FortiGate: bad srcport")?),
            "dstport" => o.dst_port = Some(num(v).ok_or("FortiGate: bad dstport")?),
            "proto" => o.proto = Some(num(v).ok_or("FortiGate: bad proto")?),
            "srcintf" => o.in_interface = Some(v),
            "dstintf" => o.out_interface = Some(v),
            "policyid" | "policyname" => o.rule = Some(v),
            "icmptype" => o.icmp_type = u8::from_str_radix(v.trim_start_matches("0x"), 16).ok(),
            "icmpcode" => o.icmp_code = u8::from_str_radix(v.trim_start_matches("0x"), 16).ok(),
            "action" => {
                o.action = Some(match v {
                    "deny" | "blocked" | "dropped" => Action::Drop,
                    "accept" | "close" | "timeout" | "start" | "server-rst" | "client-rst" => {
                        Action::Allow
                    }
                    other => Action::from_word(other),
                })
            }
            _ => {}
        }
    }
    if !any {
        return Err(NOT_MINE);
    }
    if kind.is_some_and(|k| k != "traffic") || o.src.is_none() {
        return Ok(None);
    }
    if let (Some(d), Some(c)) = (date, clock) {
        let s = format!("{d} {c}");
        let (mut st, _) = time::parse_iso(s.as_bytes()).ok_or("FortiGate: bad date/time")?;
        if let Some(z) = tz.and_then(|z| time::parse_offset(z.as_bytes())) {
            st.offset = Some(z);
        }
        o.ts_ns = Some(st.resolve(zone));
    } else if let Some(e) = eventtime.and_then(num::<i64>) {
        // Seconds on older firmware, nanoseconds on 6.2+.
        o.ts_ns = Some(if e > 100_000_000_000_000 {
            e
        } else {
            e * 1_000_000_000
        });
    }
    if o.proto.is_none() {
        return Err("FortiGate: no proto");
    }
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// SonicWall

fn sonic_end(v: &str) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
    // "67.101.200.27:4507:WAN", "192.168.0.62:54993:X0:pc048.example.com", ":49702:X0-V514".
    let mut it = v.split(':');
    let ip = it.next().and_then(parse_ip);
    let port = it.next().and_then(num);
    let iface = it.next();
    (ip, port, iface)
}

pub(crate) fn sonicwall<'a>(env: &Envelope<'a>, zone: &mut ZoneCache) -> ParseResult<'a> {
    let mut o = Observation::new();
    let mut msg = None;
    let mut clock = None;
    let (mut v6s, mut v6d) = (None, None);
    for (k, v) in pairs(env.message) {
        match k {
            "time" => clock = Some(v),
            "fw" => o.host = Some(v),
            "msg" => msg = Some(v),
            "src" => {
                let (a, p, i) = sonic_end(v);
                (o.src, o.src_port, o.in_interface) = (a, p, i);
            }
            "dst" => {
                let (a, p, i) = sonic_end(v);
                (o.dst, o.dst_port, o.out_interface) = (a, p, i);
            }
            "srcV6" => v6s = parse_ip(v),
            "dstV6" => v6d = parse_ip(v),
            "proto" => {
                let name = v.split('/').next().unwrap_or(v);
                o.proto = protocol_number(name);
            }
            "rule" => o.rule = Some(v),
            _ => {}
        }
    }
    o.src = o.src.or(v6s);
    o.dst = o.dst.or(v6d);
    // Older firmware leaves proto= out; the message names it ("TCP connection dropped").
    if o.proto.is_none() {
        o.proto = msg
            .and_then(|m| {
                m.split(' ').find_map(|w| {
                    ["TCP", "UDP", "ICMP"]
                        .contains(&w)
                        .then(|| protocol_number(w))
                })
            })
            .flatten();
    }
    if o.src.is_none() || o.dst.is_none() {
        return Ok(None);
    }
    o.action = msg.map(|m| {
        action_in_text(m).unwrap_or(if m.contains("dropped") || m.contains("denied") {
            Action::Drop
        } else if m.contains("Opened") {
            Action::Allow
        } else {
            Action::Other
        })
    });
    if let Some(c) = clock {
        let (mut st, n) = time::parse_iso(c.as_bytes()).ok_or("SonicWall: bad time")?;
        if c[n..].trim() == "UTC" {
            st.offset = Some(0);
        }
        o.ts_ns = Some(st.resolve(zone));
    }
    if matches!(o.proto, Some(1) | Some(58)) {
        o.src_port = None;
        o.dst_port = None;
    }
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// Palo Alto (PAN-OS syslog CSV: TRAFFIC and THREAT)

/// Splits a CSV line, honouring double quotes. Returns at most `max` fields.
fn csv(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::with_capacity(max);
    let b = s.as_bytes();
    let mut i = 0;
    while i <= b.len() && out.len() < max {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && !(b[j] == b'"' && b.get(j + 1) != Some(&b'"')) {
                j += if b[j] == b'"' { 2 } else { 1 };
            }
            out.push(&s[start..j.min(b.len())]);
            // Past the closing quote to the next comma (anything between is dropped; a
            // hostile line may put a multi-byte character there).
            let after = (j + 1).min(b.len());
            i = match s[after..].find(',') {
                Some(k) => after + k + 1,
                None => b.len() + 1,
            };
        } else {
            let end = s[i..].find(',').map_or(b.len(), |k| i + k);
            out.push(&s[i..end]);
            i = end + 1;
        }
    }
    out
}

pub(crate) fn paloalto_looks_like(m: &str) -> bool {
    let f = csv(m, 5);
    f.len() == 5
        && f[0].bytes().all(|b| b.is_ascii_digit())
        && f[1].len() == 19
        && f[1].as_bytes().get(4) == Some(&b'/')
}

pub(crate) fn paloalto<'a>(env: &Envelope<'a>, zone: &mut ZoneCache) -> ParseResult<'a> {
    if !paloalto_looks_like(env.message) {
        return Err(NOT_MINE);
    }
    let f = csv(env.message, 32);
    if !matches!(f.get(3).copied(), Some("TRAFFIC") | Some("THREAT")) {
        return Ok(None);
    }
    if f.len() < 31 {
        return Err("Palo Alto: record with fewer than 31 fields");
    }
    let mut o = Observation::new();
    if env.ts_ns.is_none() {
        let (st, _) = time::parse_iso(f[6].as_bytes()).ok_or("Palo Alto: bad generated time")?;
        o.ts_ns = Some(st.resolve(zone));
    }
    o.src = Some(parse_ip(f[7]).ok_or("Palo Alto: bad source address")?);
    o.dst = Some(parse_ip(f[8]).ok_or("Palo Alto: bad destination address")?);
    o.rule = (!f[11].is_empty()).then_some(f[11]);
    o.in_interface = (!f[18].is_empty()).then_some(f[18]);
    o.out_interface = (!f[19].is_empty()).then_some(f[19]);
    o.src_port = Some(num(f[24]).ok_or("Palo Alto: bad source port")?);
    o.dst_port = Some(num(f[25]).ok_or("Palo Alto: bad destination port")?);
    o.proto = Some(protocol_number(f[29]).ok_or("Palo Alto: bad protocol")?);
    o.action = Some(match f[30] {
        "allow" => Action::Allow,
        "deny" | "drop" | "drop-icmp" | "block-url" | "block-ip" | "sinkhole" => Action::Drop,
        "reset-client" | "reset-server" | "reset-both" => Action::Reject,
        _ => Action::Other,
    });
    if f[3] == "TRAFFIC" && matches!(f[4], "deny" | "drop") {
        o.action = Some(Action::Drop);
    }
    if matches!(o.proto, Some(1) | Some(58)) {
        o.src_port = None;
        o.dst_port = None;
    }
    Ok(Some(o))
}

// ---------------------------------------------------------------------------------------
// MikroTik RouterOS

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
        return Err(NOT_MINE);
    };
    let mut o = Observation::new();
    // "firewall,info drop-in input: in:ether1-WAN out:(unknown 0), ..."
    let mut words = m.split(' ');
    let topics = words.next().unwrap_or("");
    if !topics.contains("firewall") {
        return Err(NOT_MINE);
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
    use crate::logs::time::Zone;
    use noisefloor_wire::observation::tcp_flags as tf;

    fn bare(msg: &str) -> Envelope<'_> {
        Envelope {
            message: msg,
            bare: true,
            ..Default::default()
        }
    }

    #[test]
    fn csv_survives_junk_after_a_quote() {
        let line = "h,,\"\"\"\"\"\u{5c5}\"\" _-RT_SCREEN";
        let _ = csv(line, 32);
        assert_eq!(csv("a,\"b,c\",d", 5), vec!["a", "b,c", "d"]);
    }

    #[test]
    fn windows_firewall() {
        let mut z = ZoneCache::new(Zone::UTC);
        let m = "2019-05-13 12:00:01 DROP TCP 10.0.0.5 10.0.0.1 52813 445 52 S 1623471237 0 8192 - - - RECEIVE";
        assert!(windows_looks_like(m));
        let o = windows(&bare(m), &mut z, None).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.dst_port, o.tcp_seq, o.tcp_flags),
            (Some(6), Some(445), Some(1_623_471_237), Some(tf::SYN))
        );
        assert_eq!(o.action, Some(Action::Drop));
        let custom =
            WindowsFields::parse("#Fields: date time action protocol src-ip dst-ip").unwrap();
        let o = windows(
            &bare("2019-05-13 12:00:01 DROP 47 10.0.0.5 10.0.0.1"),
            &mut z,
            Some(&custom),
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.proto, Some(47));
    }

    #[test]
    fn dshield_both_orders() {
        let mut z = ZoneCache::new(Zone::UTC);
        let m = "2005-02-10 23:42:15 -05:00\t123\t2\t192.0.2.1\t4183\t198.51.100.2\t80\t6\tS";
        assert!(dshield_looks_like(m));
        let o = dshield(&bare(m), &mut z).unwrap().unwrap();
        assert_eq!(
            (o.count, o.proto, o.dst_port, o.tcp_flags),
            (2, Some(6), Some(80), Some(tf::SYN))
        );
        let utc = time::Civil {
            year: 2005,
            month: 2,
            day: 11,
            hour: 4,
            minute: 42,
            second: 15,
            nanos: 0,
        };
        assert_eq!(o.ts_ns, Some(utc.utc_ns()));
        let m = "123\t2005-02-10 23:42:15 -05:00\t1\t192.0.2.1\t\t198.51.100.2\t\t47\t";
        let o = dshield(&bare(m), &mut z).unwrap().unwrap();
        assert_eq!((o.proto, o.src_port), (Some(47), None));
    }

    #[test]
    fn junos_text_and_structured() {
        let o = junos(&bare("RT_FLOW: RT_FLOW_SESSION_DENY: session denied 10.0.0.1/54924->192.168.1.1/53 junos-dns-udp 17(0) default-deny(global) trust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 UNKNOWN policy deny")).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.src_port, o.dst_port, o.action),
            (Some(17), Some(54924), Some(53), Some(Action::Drop))
        );
        let o = junos(&bare("RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.39 source-address=\"192.168.1.1\" source-port=\"1080\" destination-address=\"192.168.1.2\" destination-port=\"8010\" service-name=\"junos-dns-udp\" protocol-id=\"17\" icmp-type=\"0\" policy-name=\"Local-Default-Deny\"]")).unwrap().unwrap();
        assert_eq!(
            (o.dst_port, o.rule),
            (Some(8010), Some("Local-Default-Deny"))
        );
    }

    #[test]
    fn fortigate_and_paloalto_and_mikrotik() {
        let mut z = ZoneCache::new(Zone::UTC);
        let o = fortigate(&bare("date=2019-05-10 time=11:37:47 logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" devname=\"FG\" srcip=10.1.100.11 srcport=58012 srcintf=\"port12\" dstip=23.59.154.35 dstport=80 proto=47 action=\"deny\" policyid=0 tz=\"-0700\""), &mut z).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.action, o.host),
            (Some(47), Some(Action::Drop), Some("FG"))
        );
        let m = "2023-07-06T08:11:40+02:00 host 1,2023/07/06 08:11:40,016401002737,TRAFFIC,deny,2561,2023/07/06 08:11:40,1.2.3.2,1.2.3.3,0.0.0.0,0.0.0.0,rule1,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,fwd,2023/07/06 08:11:40,0,1,47094,22,0,0,0x0,tcp,deny,60,60,0";
        let msg = &m[m.find("1,").unwrap()..];
        let o = paloalto(&bare(msg), &mut z).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.dst_port, o.action),
            (Some(6), Some(22), Some(Action::Drop))
        );
        let o = mikrotik(&bare("firewall,info drop-tcp input: in:ether1-WAN out:(unknown 0), connection-state:new src-mac 00:17:10:88:bc:02, proto TCP (SYN), 36.97.161.219:59388->81.82.202.145:23, len 40")).unwrap().unwrap();
        assert_eq!(
            (o.src_port, o.dst_port, o.tcp_flags, o.ip_len),
            (Some(59388), Some(23), Some(tf::SYN), Some(40))
        );
        assert_eq!(o.rule, Some("drop-tcp"));
        let o = mikrotik(&bare("firewall,info input: in:WAN out:(unknown 0), connection-state:new src-mac e4:41:64:93:a8:0f, proto TCP (SYN), [2001:db8:1234::1]:40384->[2001:db8:1234::2]:20461, len 24")).unwrap().unwrap();
        assert_eq!(o.dst.unwrap().to_string(), "2001:db8:1234::2");
    }
}
