//! Text renderings of a [`Dissection`]: the one-line summary, the verbose field tree and
//! NDJSON. All three read fields through the same visitor, so they always agree.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::field::{Field, Value};
use crate::{Dissection, IpRef, Layer, Proto, Stop};

/// What the capture knows about a frame (the dissector only sees its bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameMeta {
    /// 1-based frame number across all inputs.
    pub number: u64,
    /// Nanoseconds since the Unix epoch, UTC.
    pub ts_ns: i64,
    pub caplen: u32,
    pub origlen: u32,
    pub interface: u32,
}

/// `YYYY-MM-DD hh:mm:ss.uuuuuu` in UTC (`sep` is the date/time separator: ' ' or 'T').
pub fn write_time(out: &mut String, ts_ns: i64, sep: char, digits: u8) {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000);
    let tod = secs.rem_euclid(86_400);
    let (year, month, day) = crate::time::civil_from_days(secs.div_euclid(86_400));
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}{sep}{:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    );
    match digits {
        0 => {}
        9 => {
            let _ = write!(out, ".{nanos:09}");
        }
        _ => {
            let _ = write!(out, ".{:06}", nanos / 1000);
        }
    }
}

fn write_ip(out: &mut String, a: std::net::IpAddr) {
    let _ = write!(out, "{a}");
}

fn write_endpoint(out: &mut String, a: std::net::IpAddr, port: Option<u16>) {
    match (a, port) {
        (std::net::IpAddr::V6(v6), Some(p)) => {
            let _ = write!(out, "[{v6}]:{p}");
        }
        (a, Some(p)) => {
            let _ = write!(out, "{a}:{p}");
        }
        (a, None) => write_ip(out, a),
    }
}

/// Ports of a TCP/UDP layer.
fn ports(l: &Layer) -> Option<(u16, u16)> {
    match l {
        Layer::Tcp(t) => Some((t.src_port(), t.dst_port())),
        Layer::Udp(u) => Some((u.src_port(), u.dst_port())),
        Layer::Partial {
            proto: Proto::Tcp | Proto::Udp,
            bytes,
            ..
        } if bytes.len() >= 4 => Some((
            u16::from_be_bytes([bytes[0], bytes[1]]),
            u16::from_be_bytes([bytes[2], bytes[3]]),
        )),
        _ => None,
    }
}

/// A short description of a tunnel or link layer for the summary line.
fn describe_layer(out: &mut String, l: &Layer) {
    match l {
        Layer::Gre(g) => {
            if g.version() == 1 {
                let _ = write!(out, "GREv1(call {}", g.call_id().unwrap_or(0));
                if let Some(s) = g.seq() {
                    let _ = write!(out, " seq {s}");
                }
                if let Some(a) = g.ack() {
                    let _ = write!(out, " ack {a}");
                }
                out.push(')');
            } else {
                let _ = write!(out, "GRE({}", crate::gre::gre_protocol_name(g.protocol()));
                if let Some(k) = g.key() {
                    let _ = write!(out, " key 0x{k:x}");
                }
                if let Some(s) = g.seq() {
                    let _ = write!(out, " seq {s}");
                }
                if g.has_checksum() {
                    out.push_str(match g.checksum_ok() {
                        Some(true) => " sum ok",
                        Some(false) => " sum BAD",
                        None => " sum",
                    });
                }
                if g.has_routing() {
                    out.push_str(" routed");
                }
                out.push(')');
            }
        }
        Layer::Erspan(e) => match e.kind() {
            1 => out.push_str("ERSPAN-I"),
            2 => {
                let _ = write!(
                    out,
                    "ERSPAN-II(session {} index {})",
                    e.session_id(),
                    e.index()
                );
            }
            _ => {
                let _ = write!(
                    out,
                    "ERSPAN-III(session {} ft {})",
                    e.session_id(),
                    e.frame_type()
                );
            }
        },
        Layer::Vlan(v) => {
            let _ = write!(out, "vlan {}", v.vid());
        }
        Layer::Mpls(m) => {
            let _ = write!(out, "mpls {}", m.label());
        }
        Layer::Ppp(p) => {
            let _ = write!(out, "PPP({})", crate::link::ppp_protocol_name(p.protocol()));
        }
        Layer::Wccp(w) => {
            let _ = write!(out, "WCCP(service {})", w.service_id());
        }
        Layer::Vxlan(v) => {
            let _ = write!(out, "VXLAN(vni {})", v.vni());
        }
        Layer::Eth(_) => out.push_str("eth"),
        Layer::Ah(_) => out.push_str("AH"),
        other => out.push_str(other.proto().name()),
    }
}

fn describe_transport(out: &mut String, l: &Layer, src: std::net::IpAddr, dst: std::net::IpAddr) {
    let p = ports(l);
    write_endpoint(out, src, p.map(|x| x.0));
    out.push_str(" > ");
    write_endpoint(out, dst, p.map(|x| x.1));
    match l {
        Layer::Tcp(t) => {
            out.push_str(" TCP [");
            t.flag_string(out);
            out.push(']');
        }
        Layer::Udp(_) => out.push_str(" UDP"),
        Layer::Sctp(_) => out.push_str(" SCTP"),
        Layer::Icmp(i) => {
            let _ = write!(
                out,
                " ICMP {} ({}/{})",
                crate::transport::icmp_type_name(i.icmp_type()),
                i.icmp_type(),
                i.code()
            );
        }
        Layer::Icmpv6(i) => {
            let _ = write!(
                out,
                " ICMPv6 {} ({}/{})",
                crate::transport::icmpv6_type_name(i.icmp_type()),
                i.icmp_type(),
                i.code()
            );
        }
        Layer::Partial { proto, .. } => {
            let _ = write!(out, " {} [|{}]", proto.name().to_uppercase(), proto.name());
        }
        _ => {}
    }
}

/// One line per packet: number, time, outer addresses, each tunnel layer, the innermost
/// 5-tuple, length and protocols-in-frame.
pub fn summary_line(out: &mut String, meta: &FrameMeta, d: &Dissection) {
    let _ = write!(out, "{:>6} ", meta.number);
    write_time(out, meta.ts_ns, ' ', 6);
    out.push_str("  ");
    let main = d.main_layers();
    let first_ip = main.iter().position(|l| IpRef::from_layer(&l).is_some());
    let last_ip = main.iter().rposition(|l| IpRef::from_layer(&l).is_some());
    match (first_ip, last_ip) {
        (Some(first), Some(last)) => {
            let outer = main
                .get(first)
                .and_then(|l| IpRef::from_layer(&l))
                .expect("index of an IP layer");
            let inner = main
                .get(last)
                .and_then(|l| IpRef::from_layer(&l))
                .expect("index of an IP layer");
            if first != last {
                write_ip(out, outer.src());
                out.push_str(" > ");
                write_ip(out, outer.dst());
                out.push_str("  ");
                for l in main.iter().take(last).skip(first + 1) {
                    if let Some(ip) = IpRef::from_layer(&l) {
                        // Middle IP layers of nested tunnels.
                        out.push('[');
                        write_ip(out, ip.src());
                        out.push_str(" > ");
                        write_ip(out, ip.dst());
                        out.push(']');
                    } else {
                        describe_layer(out, &l);
                    }
                    out.push(' ');
                }
                out.push_str("| ");
            }
            match main.get(last + 1) {
                Some(
                    l4 @ (Layer::Tcp(_)
                    | Layer::Udp(_)
                    | Layer::Icmp(_)
                    | Layer::Icmpv6(_)
                    | Layer::Partial { .. }),
                ) => describe_transport(out, &l4, inner.src(), inner.dst()),
                Some(other) => {
                    write_ip(out, inner.src());
                    out.push_str(" > ");
                    write_ip(out, inner.dst());
                    out.push(' ');
                    describe_layer(out, &other);
                }
                None => {
                    write_ip(out, inner.src());
                    out.push_str(" > ");
                    write_ip(out, inner.dst());
                    let _ = write!(out, " proto {}", inner.protocol());
                }
            }
        }
        _ => match main.first() {
            Some(Layer::Eth(e)) => {
                let _ = write!(
                    out,
                    "{} > {} type 0x{:04x}",
                    Mac(e.src()),
                    Mac(e.dst()),
                    e.ethertype()
                );
            }
            Some(l) => describe_layer(out, &l),
            None => out.push_str("(nothing decoded)"),
        },
    }
    let quoted = d.quoted_layers();
    if let Some(ip) = quoted.first().and_then(|l| IpRef::from_layer(&l)) {
        out.push_str(" quoting ");
        match quoted.get(1) {
            Some(l4) => describe_transport(out, &l4, ip.src(), ip.dst()),
            None => {
                write_ip(out, ip.src());
                out.push_str(" > ");
                write_ip(out, ip.dst());
            }
        }
    }
    let _ = write!(out, "  len {}  ", meta.origlen);
    d.chain(out);
    match d.stop {
        Stop::Payload | Stop::Empty => {}
        Stop::Truncated if !d.is_truncated() => {}
        s => {
            let _ = write!(out, "  [{}]", s.describe());
        }
    }
}

struct Mac([u8; 6]);
impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

fn write_value(out: &mut String, v: &Value) {
    match *v {
        Value::U(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Hex(n, w) => {
            let _ = write!(out, "0x{n:0w$x} ({n})", w = w as usize);
        }
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::V4(a) => {
            let _ = write!(out, "{}", Ipv4Addr::from(a));
        }
        Value::V6(a) => {
            let _ = write!(out, "{}", Ipv6Addr::from(a));
        }
        Value::Mac(m) => {
            let _ = write!(out, "{}", Mac(m));
        }
        Value::Name(s) => out.push_str(s),
        Value::Text(t) => {
            out.push('"');
            for c in String::from_utf8_lossy(t).chars() {
                if c.is_control() {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                } else {
                    out.push(c);
                }
            }
            out.push('"');
        }
        Value::Bytes(b) => {
            for x in b.iter().take(64) {
                let _ = write!(out, "{x:02x}");
            }
            if b.len() > 64 {
                let _ = write!(out, "... ({} bytes)", b.len());
            }
        }
    }
}

/// `.1.. .... .... .... = ` for a bit field.
fn write_bits(out: &mut String, word: u32, width: u8, mask: u32) {
    for i in (0..width as u32).rev() {
        let bit = 1u32 << i;
        out.push(if mask & bit == 0 {
            '.'
        } else if word & bit != 0 {
            '1'
        } else {
            '0'
        });
        if i % 4 == 0 && i != 0 {
            out.push(' ');
        }
    }
    out.push_str(" = ");
}

fn layer_title(l: &Layer) -> &'static str {
    l.proto().title()
}

/// The verbose tree: every field of every layer, bit fields drawn bit by bit.
pub fn verbose(out: &mut String, meta: &FrameMeta, d: &Dissection) {
    let _ = writeln!(
        out,
        "Frame {}: {} bytes on wire, {} bytes captured",
        meta.number, meta.origlen, meta.caplen
    );
    out.push_str("    Arrival time: ");
    write_time(out, meta.ts_ns, ' ', 9);
    out.push_str(" UTC\n");
    let _ = writeln!(out, "    Link type: {}", crate::linktype::label(d.linktype));
    out.push_str("    Protocols in frame: ");
    d.chain(out);
    out.push('\n');
    for (i, l) in d.layers().iter().enumerate() {
        if Some(i) == d.quote_start {
            out.push_str("  [quoted packet inside the ICMP error]\n");
        }
        let _ = write!(out, "{}", layer_title(&l));
        if let Layer::Gre(g) = l {
            let _ = write!(out, " ({})", crate::gre::gre_protocol_name(g.protocol()));
        }
        if let Layer::Erspan(e) = l {
            let _ = write!(
                out,
                " type {}",
                ["?", "I", "II", "III"][e.kind().min(3) as usize]
            );
        }
        if l.is_partial() {
            let _ = write!(
                out,
                " [truncated: only {} bytes captured]",
                match l {
                    Layer::Partial { bytes, .. } => bytes.len(),
                    _ => 0,
                }
            );
        }
        out.push('\n');
        l.visit(&mut |f: Field| {
            out.push_str("    ");
            if let Some(b) = f.bits {
                write_bits(out, b.word, b.width, b.mask);
            }
            out.push_str(f.label);
            out.push_str(": ");
            if let (Some(_), Value::Bool(v)) = (f.bits, f.value) {
                out.push_str(if v { "Set" } else { "Not set" });
            } else {
                write_value(out, &f.value);
            }
            out.push('\n');
        });
    }
    if !d.payload.is_empty() {
        let _ = writeln!(out, "Data ({} bytes)", d.payload.len());
    }
    match d.stop {
        Stop::Payload | Stop::Empty => {}
        s => {
            let _ = writeln!(out, "[Decoding stopped: {}]", s.describe());
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(out: &mut String, v: &Value) {
    match *v {
        Value::U(n) | Value::Hex(n, _) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::V4(a) => json_str(out, &Ipv4Addr::from(a).to_string()),
        Value::V6(a) => json_str(out, &Ipv6Addr::from(a).to_string()),
        Value::Mac(m) => json_str(out, &Mac(m).to_string()),
        Value::Name(s) => json_str(out, s),
        Value::Text(t) => json_str(out, &String::from_utf8_lossy(t)),
        Value::Bytes(b) => {
            out.push('"');
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
            out.push('"');
        }
    }
}

/// One JSON object (no trailing newline). Schema: docs/dissect-json.md.
pub fn json(out: &mut String, meta: &FrameMeta, d: &Dissection) {
    json_open(out, meta, d);
    out.push('}');
}

/// The JSON object without its closing brace, so a caller can add fields (the class).
pub fn json_open(out: &mut String, meta: &FrameMeta, d: &Dissection) {
    let _ = write!(out, "{{\"frame\":{},\"ts\":", meta.number);
    let mut t = String::with_capacity(32);
    write_time(&mut t, meta.ts_ns, 'T', 9);
    t.push('Z');
    json_str(out, &t);
    let _ = write!(
        out,
        ",\"ts_ns\":{},\"caplen\":{},\"len\":{},\"interface\":{},\"linktype\":{},\"protocols\":",
        meta.ts_ns, meta.caplen, meta.origlen, meta.interface, d.linktype
    );
    let mut chain = String::new();
    d.chain(&mut chain);
    json_str(out, &chain);
    out.push_str(",\"layers\":[");
    let mut keys: Vec<&'static str> = Vec::with_capacity(32);
    for (i, l) in d.layers().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // `layer`, not `proto`: IP and GRE have a `proto` field of their own, and a key
        // given twice in one object keeps only one value in jq, Python and serde.
        out.push_str("{\"layer\":");
        json_str(out, l.proto().name());
        if l.is_partial() {
            out.push_str(",\"truncated\":true");
        }
        if d.quote_start.is_some_and(|q| i >= q) {
            out.push_str(",\"quoted\":true");
        }
        keys.clear();
        keys.extend(["layer", "truncated", "quoted"]);
        l.visit(&mut |f: Field| {
            // A repeated key (a second extension header of one kind) keeps its first value.
            if keys.contains(&f.key) {
                return;
            }
            keys.push(f.key);
            out.push(',');
            json_str(out, f.key);
            out.push(':');
            json_value(out, &f.value);
        });
        out.push('}');
    }
    let _ = write!(out, "],\"payload_len\":{},\"stop\":", d.payload.len());
    json_str(out, d.stop.key());
    match d.stop {
        Stop::Payload
        | Stop::Empty
        | Stop::Truncated
        | Stop::NonFirstFragment
        | Stop::DepthLimit
        | Stop::Llc => {}
        s => {
            out.push_str(",\"stop_detail\":");
            json_str(out, &s.describe());
        }
    }
    let _ = write!(
        out,
        ",\"truncated\":{}",
        d.is_truncated() || meta.caplen < meta.origlen
    );
}
