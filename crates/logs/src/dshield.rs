//! DShield's tab-separated submissions (isc.sans.edu).

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use crate::time::{self, ZoneCache};
use crate::{Envelope, ParseResult, Refusal, flag_letters, num, parse_ip};

pub(crate) fn looks_like(m: &str) -> bool {
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
        return Err(Refusal::NotMine);
    }
    // The ISC's order is date, user id, count, ...; some tools put the user id first.
    let (stamp, rest) = match (dshield_time(f[0]), dshield_time(f[1])) {
        (Some(s), _) => (s, &f[2..]),
        (None, Some(s)) => (s, &f[2..]),
        _ => return Err(Refusal::Bad("DShield: no date")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;
    use noisefloor_wire::observation::tcp_flags as tf;

    #[test]
    fn dshield_both_orders() {
        let mut z = ZoneCache::new(Zone::UTC);
        let m = "2005-02-10 23:42:15 -05:00\t123\t2\t192.0.2.1\t4183\t198.51.100.2\t80\t6\tS";
        assert!(looks_like(m));
        let o = dshield(&Envelope::bare(m), &mut z).unwrap().unwrap();
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
        let o = dshield(&Envelope::bare(m), &mut z).unwrap().unwrap();
        assert_eq!((o.proto, o.src_port), (Some(47), None));
    }
}
