//! Palo Alto PAN-OS syslog CSV (TRAFFIC and THREAT).

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use crate::time::{self, ZoneCache};
use crate::{Envelope, ParseResult, Refusal, num, parse_ip};

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

pub(crate) fn looks_like(m: &str) -> bool {
    let f = csv(m, 5);
    f.len() == 5
        && f[0].bytes().all(|b| b.is_ascii_digit())
        && f[1].len() == 19
        && f[1].as_bytes().get(4) == Some(&b'/')
}

pub(crate) fn paloalto<'a>(env: &Envelope<'a>, zone: &mut ZoneCache) -> ParseResult<'a> {
    if !looks_like(env.message) {
        return Err(Refusal::NotMine);
    }
    let f = csv(env.message, 32);
    if !matches!(f.get(3).copied(), Some("TRAFFIC") | Some("THREAT")) {
        return Ok(None);
    }
    if f.len() < 31 {
        return Err(Refusal::Bad("Palo Alto: record with fewer than 31 fields"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_survives_junk_after_a_quote() {
        let line = "h,,\"\"\"\"\"\u{5c5}\"\" _-RT_SCREEN";
        let _ = csv(line, 32);
        assert_eq!(csv("a,\"b,c\",d", 5), vec!["a", "b,c", "d"]);
    }
}
