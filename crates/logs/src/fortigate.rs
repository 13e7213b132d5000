//! FortiGate key=value traffic records.

use noisefloor_wire::{Action, Observation};

use crate::kv::pairs;
use crate::time::{self, ZoneCache};
use crate::{Envelope, ParseResult, Refusal, num, parse_ip};

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
        return Err(Refusal::NotMine);
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
        return Err(Refusal::Bad("FortiGate: no proto"));
    }
    Ok(Some(o))
}
