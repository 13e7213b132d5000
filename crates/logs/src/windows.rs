//! Windows Firewall's `pfirewall.log` (W3C extended format, columns from its `#Fields:` header).

use noisefloor_wire::observation::protocol_number;
use noisefloor_wire::{Action, Observation};

use crate::time::{self, ZoneCache};
use crate::{Envelope, ParseResult, Refusal, flag_letters, num, parse_ip};

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

pub(crate) fn looks_like(m: &str) -> bool {
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
    if !looks_like(env.message) {
        return Err(Refusal::NotMine);
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
        return Err(Refusal::Bad("Windows: no date or time"));
    };
    let mut buf = [0u8; 19];
    if d.len() != 10 || c.len() != 8 {
        return Err(Refusal::Bad("Windows: bad date or time"));
    }
    buf[..10].copy_from_slice(d.as_bytes());
    buf[10] = b' ';
    buf[11..].copy_from_slice(c.as_bytes());
    let (stamp, _) = time::parse_iso(&buf).ok_or("Windows: bad date or time")?;
    // pfirewall.log is written in local time ("#Time Format: Local").
    o.ts_ns = Some(stamp.resolve(zone));
    if o.src.is_none() || o.dst.is_none() || o.proto.is_none() {
        return Err(Refusal::Bad(
            "Windows: record without addresses or protocol",
        ));
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;
    use noisefloor_wire::observation::tcp_flags as tf;

    #[test]
    fn windows_firewall() {
        let mut z = ZoneCache::new(Zone::UTC);
        let m = "2019-05-13 12:00:01 DROP TCP 10.0.0.5 10.0.0.1 52813 445 52 S 1623471237 0 8192 - - - RECEIVE";
        assert!(looks_like(m));
        let o = windows(&Envelope::bare(m), &mut z, None).unwrap().unwrap();
        assert_eq!(
            (o.proto, o.dst_port, o.tcp_seq, o.tcp_flags),
            (Some(6), Some(445), Some(1_623_471_237), Some(tf::SYN))
        );
        assert_eq!(o.action, Some(Action::Drop));
        let custom =
            WindowsFields::parse("#Fields: date time action protocol src-ip dst-ip").unwrap();
        let o = windows(
            &Envelope::bare("2019-05-13 12:00:01 DROP 47 10.0.0.5 10.0.0.1"),
            &mut z,
            Some(&custom),
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.proto, Some(47));
    }
}
