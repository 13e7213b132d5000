//! The flat record one observed packet yields, whether it was captured or described by a
//! firewall log line. Fields a source does not carry are `None`, never invented: a log line
//! has no GRE header, a capture has no rule name. Strings borrow the line they came from.

use std::net::IpAddr;

/// TCP flag bits as on the wire.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
    /// Names in wire order, as tcpdump and netfilter print them.
    pub const NAMES: [(u8, &str); 8] = [
        (CWR, "CWR"),
        (ECE, "ECE"),
        (URG, "URG"),
        (ACK, "ACK"),
        (PSH, "PSH"),
        (RST, "RST"),
        (SYN, "SYN"),
        (FIN, "FIN"),
    ];
}

/// What the firewall did with the packet, normalised across vendors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// accept, allow, permit, pass, built (a session was set up).
    Allow,
    /// drop, deny, block, discard: silently.
    Drop,
    /// reject, reset: the sender was told (RST or ICMP unreachable).
    Reject,
    /// Logged only (alert, teardown, log) or a word we do not know.
    Other,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::Other => "other",
        }
    }
    /// Maps a vendor's word (any case) to an action.
    pub fn from_word(w: &str) -> Action {
        let w = w.trim();
        let is = |s: &str| w.eq_ignore_ascii_case(s);
        if is("accept")
            || is("accepted")
            || is("allow")
            || is("allowed")
            || is("permit")
            || is("permitted")
            || is("pass")
            || is("built")
        {
            Action::Allow
        } else if is("drop")
            || is("dropped")
            || is("deny")
            || is("denied")
            || is("block")
            || is("blocked")
            || is("discard")
        {
            Action::Drop
        } else if is("reject")
            || is("rejected")
            || is("reset")
            || is("reset-both")
            || is("reset-client")
            || is("reset-server")
        {
            Action::Reject
        } else {
            Action::Other
        }
    }
}

/// The packet an ICMP error quotes (as netfilter logs it in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quoted {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Option<u8>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
}

/// One observed packet (or, for session logs, the first packet of a session): the one record
/// every consumer reads (see [`crate::record`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation<'a> {
    /// Nanoseconds since the Unix epoch, UTC. `None` when the source has no absolute time
    /// (`dmesg` output read without a boot time).
    pub ts_ns: Option<i64>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    /// IP protocol number (47 for GRE, whatever name or number the log used).
    pub proto: Option<u8>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub tcp_flags: Option<u8>,
    pub tcp_seq: Option<u32>,
    pub tcp_ack: Option<u32>,
    pub tcp_window: Option<u16>,
    /// IP total length (header included), as the firewall saw it.
    pub ip_len: Option<u32>,
    pub ttl: Option<u8>,
    /// IPv4 identification.
    pub ip_id: Option<u16>,
    pub dont_fragment: Option<bool>,
    /// Fragment offset in bytes (non-zero: not the first fragment).
    pub frag_offset: Option<u32>,
    pub in_interface: Option<&'a str>,
    pub out_interface: Option<&'a str>,
    pub action: Option<Action>,
    /// The rule: netfilter log prefix, ACL or policy name, pf rule number.
    pub rule: Option<&'a str>,
    /// The device that reported the packet (syslog host name).
    pub host: Option<&'a str>,
    pub quoted: Option<Quoted>,
    /// How many packets the record stands for (DShield's count, repeated messages): 1
    /// unless the log says otherwise.
    pub count: u32,
    /// What a tunnel carries (GRE, the innermost IP packet): captures only.
    pub tunnel: crate::record::Tunnel,
    /// What only a captured frame shows; `None` for a log line.
    pub wire: Option<crate::record::Wire<'a>>,
}

impl Observation<'_> {
    /// An empty record standing for one packet.
    pub fn new() -> Self {
        Observation {
            count: 1,
            ..Default::default()
        }
    }
    pub fn has_flag(&self, flag: u8) -> Option<bool> {
        self.tcp_flags.map(|f| f & flag != 0)
    }
}

/// Protocol numbers by the names firewalls print (any case). Unknown names give `None`;
/// numbers pass through.
pub fn protocol_number(name: &str) -> Option<u8> {
    let name = name.trim();
    if let Ok(n) = name.parse::<u16>() {
        return u8::try_from(n).ok();
    }
    const NAMES: [(&str, u8); 17] = [
        ("tcp", 6),
        ("udp", 17),
        ("icmp", 1),
        ("icmpv6", 58),
        ("ipv6-icmp", 58),
        ("icmp6", 58),
        ("gre", 47),
        ("esp", 50),
        ("ah", 51),
        ("igmp", 2),
        ("sctp", 132),
        ("ipip", 4),
        ("ipencap", 4),
        ("ipv6", 41),
        ("pim", 103),
        ("ospf", 89),
        ("udplite", 136),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| *p)
}

/// The name noisefloor prints for a protocol number.
pub fn protocol_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        89 => "ospf",
        103 => "pim",
        132 => "sctp",
        136 => "udplite",
        _ => return None,
    })
}

/// TCP flags as netfilter prints them: `SYN ACK`.
pub fn flag_names(f: u8) -> String {
    let mut out = String::new();
    for (bit, name) in tcp_flags::NAMES.iter().rev() {
        if f & bit != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
    out
}

fn endpoint(out: &mut String, a: Option<IpAddr>, port: Option<u16>) {
    use std::fmt::Write;
    match (a, port) {
        (Some(IpAddr::V6(a)), Some(p)) => {
            let _ = write!(out, "[{a}]:{p}");
        }
        (Some(a), Some(p)) => {
            let _ = write!(out, "{a}:{p}");
        }
        (Some(a), None) => {
            let _ = write!(out, "{a}");
        }
        (None, _) => out.push('?'),
    }
}

impl Observation<'_> {
    /// One line: `time src:port > dst:port proto details`.
    pub fn summary_line(&self, out: &mut String) {
        use std::fmt::Write;
        match self.ts_ns {
            Some(t) => crate::render::write_time(out, t, ' ', 6),
            None => out.push_str("(no time)                 "),
        }
        out.push(' ');
        endpoint(out, self.src, self.src_port);
        out.push_str(" > ");
        endpoint(out, self.dst, self.dst_port);
        match self.proto {
            Some(p) => {
                let _ = write!(out, " {}", protocol_name(p).unwrap_or("proto"));
                if protocol_name(p).is_none() {
                    let _ = write!(out, " {p}");
                }
            }
            None => out.push_str(" ?"),
        }
        if let Some(f) = self.tcp_flags {
            let _ = write!(out, " [{}]", flag_names(f));
        }
        if let (Some(t), c) = (self.icmp_type, self.icmp_code) {
            let _ = write!(out, " type {t} code {}", c.unwrap_or(0));
        }
        if let Some(l) = self.ip_len {
            let _ = write!(out, " len {l}");
        }
        if self.count > 1 {
            let _ = write!(out, " x{}", self.count);
        }
        if let Some(a) = self.action {
            let _ = write!(out, " {}", a.name());
        }
        if let Some(r) = self.rule {
            let _ = write!(out, " rule {r:?}");
        }
    }

    /// The fields as `name: value` lines (absent fields are left out).
    pub fn verbose(&self, out: &mut String) {
        let mut fields = String::new();
        self.json_fields(&mut fields);
        // Reuse the JSON field list so the two never disagree.
        for part in split_top_level(&fields) {
            if let Some((k, v)) = part.split_once(':') {
                out.push_str("    ");
                out.push_str(k.trim_matches('"'));
                out.push_str(": ");
                out.push_str(v.trim_matches('"'));
                out.push('\n');
            }
        }
    }

    /// JSON members (no braces, no leading comma) for the fields present.
    pub fn json_fields(&self, out: &mut String) {
        use crate::render::json_str;
        use std::fmt::Write;
        let mut first = true;
        let mut key = |out: &mut String, k: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "\"{k}\":");
        };
        if let Some(t) = self.ts_ns {
            key(out, "time");
            let mut s = String::new();
            crate::render::write_time(&mut s, t, 'T', 6);
            s.push('Z');
            json_str(out, &s);
        }
        if let Some(a) = self.src {
            key(out, "src");
            json_str(out, &a.to_string());
        }
        if let Some(a) = self.dst {
            key(out, "dst");
            json_str(out, &a.to_string());
        }
        if let Some(p) = self.proto {
            key(out, "proto");
            let _ = write!(out, "{p}");
            if let Some(n) = protocol_name(p) {
                key(out, "proto_name");
                json_str(out, n);
            }
        }
        let nums: [(&str, Option<u64>); 11] = [
            ("sport", self.src_port.map(u64::from)),
            ("dport", self.dst_port.map(u64::from)),
            ("icmp_type", self.icmp_type.map(u64::from)),
            ("icmp_code", self.icmp_code.map(u64::from)),
            ("tcp_seq", self.tcp_seq.map(u64::from)),
            ("tcp_ack", self.tcp_ack.map(u64::from)),
            ("tcp_window", self.tcp_window.map(u64::from)),
            ("ip_len", self.ip_len.map(u64::from)),
            ("ttl", self.ttl.map(u64::from)),
            ("ip_id", self.ip_id.map(u64::from)),
            ("frag_offset", self.frag_offset.map(u64::from)),
        ];
        for (k, v) in nums {
            if let Some(v) = v {
                key(out, k);
                let _ = write!(out, "{v}");
            }
        }
        if let Some(f) = self.tcp_flags {
            key(out, "tcp_flags");
            json_str(out, &flag_names(f));
        }
        if let Some(df) = self.dont_fragment {
            key(out, "df");
            let _ = write!(out, "{df}");
        }
        let strs: [(&str, Option<&str>); 5] = [
            ("in_interface", self.in_interface),
            ("out_interface", self.out_interface),
            ("action", self.action.map(Action::name)),
            ("rule", self.rule),
            ("host", self.host),
        ];
        for (k, v) in strs {
            if let Some(v) = v {
                key(out, k);
                json_str(out, v);
            }
        }
        key(out, "count");
        let _ = write!(out, "{}", self.count);
        if let Some(q) = &self.quoted {
            key(out, "quoted");
            out.push_str("{\"src\":");
            json_str(out, &q.src.to_string());
            out.push_str(",\"dst\":");
            json_str(out, &q.dst.to_string());
            if let Some(p) = q.proto {
                let _ = write!(out, ",\"proto\":{p}");
            }
            if let Some(p) = q.src_port {
                let _ = write!(out, ",\"sport\":{p}");
            }
            if let Some(p) = q.dst_port {
                let _ = write!(out, ",\"dport\":{p}");
            }
            out.push('}');
        }
    }
}

/// Splits `"a":1,"b":"x,y","c":{...}` at top-level commas.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut start) = (0i32, false, 0);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'{' | b'[' if !in_str => depth += 1,
            b'}' | b']' if !in_str => depth -= 1,
            b',' if !in_str && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_and_numbers() {
        assert_eq!(protocol_number("GRE"), Some(47));
        assert_eq!(protocol_number("47"), Some(47));
        assert_eq!(protocol_number("tcp"), Some(6));
        assert_eq!(protocol_number("300"), None);
        assert_eq!(protocol_number("carrier-pigeon"), None);
        assert_eq!(protocol_name(47), Some("gre"));
    }

    #[test]
    fn actions_from_vendor_words() {
        assert_eq!(Action::from_word("DROP"), Action::Drop);
        assert_eq!(Action::from_word("block"), Action::Drop);
        assert_eq!(Action::from_word("Deny"), Action::Drop);
        assert_eq!(Action::from_word("REJECT"), Action::Reject);
        assert_eq!(Action::from_word("reset-both"), Action::Reject);
        assert_eq!(Action::from_word("pass"), Action::Allow);
        assert_eq!(Action::from_word("alert"), Action::Other);
    }
}
