//! SonicWall key=value records (`sn=… fw=… m=…`).

use std::net::IpAddr;

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use crate::kv::pairs;
use crate::time::{self, ZoneCache};
use crate::{Envelope, ParseResult, action_in_text, num, parse_ip};

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
