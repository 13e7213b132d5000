//! TCP, UDP, ICMP, ICMPv6, VXLAN and IPv4 AH.

use crate::Proto;
use crate::bytes::*;
use crate::field::{Field, Fields, Value, flag, hex, name, u};
use crate::view::{Checked, View};

#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    pub(crate) buf: &'a [u8],
}
pub mod tcp_flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;
}
impl<'a> Tcp<'a> {
    /// The header at the start of `b` (its data offset checked), and what follows it.
    #[inline(always)]
    pub fn parse(b: &'a [u8]) -> Checked<'a, Tcp<'a>> {
        if b.len() < Self::MIN_LEN {
            return Checked::Cut;
        }
        let hl = ((b[12] >> 4) as usize) * 4;
        if hl < Self::MIN_LEN {
            let (head, rest) = b.split_at(Self::MIN_LEN);
            return Checked::Invalid(Tcp { buf: head }, rest, "TCP data offset below 5");
        }
        match b.split_at_checked(hl) {
            Some((head, rest)) => Checked::Whole(Tcp { buf: head }, rest),
            None => Checked::Cut,
        }
    }
    pub const MIN_LEN: usize = 20;
    pub fn src_port(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn dst_port(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    pub fn seq(&self) -> u32 {
        u32_at(self.buf, 4)
    }
    pub fn ack(&self) -> u32 {
        u32_at(self.buf, 8)
    }
    pub fn header_len(&self) -> usize {
        (u8_at(self.buf, 12) >> 4) as usize * 4
    }
    /// The nine flag bits (AE/NS, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
    pub fn flags(&self) -> u16 {
        u16_at(self.buf, 12) & 0x01ff
    }
    pub fn window(&self) -> u16 {
        u16_at(self.buf, 14)
    }
    pub fn checksum(&self) -> u16 {
        u16_at(self.buf, 16)
    }
    pub fn urgent(&self) -> u16 {
        u16_at(self.buf, 18)
    }
    pub fn options(&self) -> &'a [u8] {
        sub(self.buf, 20, self.header_len())
    }
    /// tcpdump-style flag string: `S`, `S.`, `R.`, `P.` ...
    pub fn flag_string(&self, out: &mut String) {
        let f = self.flags();
        for (bit, c) in [
            (0x002, 'S'),
            (0x001, 'F'),
            (0x008, 'P'),
            (0x004, 'R'),
            (0x020, 'U'),
            (0x040, 'E'),
            (0x080, 'W'),
            (0x100, 'e'),
        ] {
            if f & bit != 0 {
                out.push(c);
            }
        }
        if f & tcp_flags::ACK != 0 {
            out.push('.');
        }
        if f & 0x1ff == 0 {
            out.push_str("none");
        }
    }
    /// Iterates options as (kind, data). Malformed lengths end the walk.
    pub fn option_iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let o = self.options();
        let mut p = 0usize;
        std::iter::from_fn(move || {
            let kind = *o.get(p)?;
            match kind {
                0 => {
                    p = o.len();
                    Some((0, &o[..0]))
                }
                1 => {
                    p += 1;
                    Some((1, &o[..0]))
                }
                _ => {
                    let l = *o.get(p + 1)? as usize;
                    if l < 2 || p + l > o.len() {
                        p = o.len();
                        return None;
                    }
                    let d = &o[p + 2..p + l];
                    p += l;
                    Some((kind, d))
                }
            }
        })
    }
}
impl<'a> Fields<'a> for Tcp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("sport", "Source port", self.src_port(), 2));
        out(u("dport", "Destination port", self.dst_port(), 4));
        out(u("seq", "Sequence number", self.seq(), 8));
        out(u("ack", "Acknowledgment number", self.ack(), 12));
        out(u("hdr_len", "Header length", self.header_len() as u64, 13));
        let f = self.flags() as u32;
        out(hex("flags", "Flags", f, 3, 14));
        for (key, label, m) in [
            ("ae", "Accurate ECN", 0x100),
            ("cwr", "Congestion window reduced", 0x080),
            ("ece", "ECN-Echo", 0x040),
            ("urg", "Urgent", 0x020),
            ("ack_flag", "Acknowledgment", 0x010),
            ("psh", "Push", 0x008),
            ("rst", "Reset", 0x004),
            ("syn", "Syn", 0x002),
            ("fin", "Fin", 0x001),
        ] {
            out(flag(key, label, f, 12, m, 14));
        }
        out(u("window", "Window", self.window(), 16));
        out(hex("checksum", "Checksum", self.checksum(), 4, 18));
        out(u("urgent", "Urgent pointer", self.urgent(), 20));
        let hl = self.header_len().max(20);
        for (kind, d) in self.option_iter() {
            match kind {
                2 if d.len() == 2 => out(u("mss", "Maximum segment size", u16_at(d, 0), hl)),
                3 if d.len() == 1 => out(u("wscale", "Window scale", d[0], hl)),
                4 => out(Field::new(
                    "sack_permitted",
                    "SACK permitted",
                    Value::Bool(true),
                    hl,
                )),
                8 if d.len() == 8 => {
                    out(u("ts_val", "Timestamp value", u32_at(d, 0), hl));
                    out(u("ts_ecr", "Timestamp echo reply", u32_at(d, 4), hl));
                }
                _ => {}
            }
        }
        let opts = self.options();
        if !opts.is_empty() {
            out(Field::new("options", "Options", Value::Bytes(opts), hl));
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Udp<'a> {
    /// The fixed-size header at the start of `b`, and what follows it.
    #[inline(always)]
    pub fn parse(b: &'a [u8]) -> Checked<'a, Udp<'a>> {
        Checked::fixed(b, Self::LEN, |buf| Udp { buf })
    }
    pub const LEN: usize = 8;
    pub fn src_port(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn dst_port(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    pub fn length(&self) -> u16 {
        u16_at(self.buf, 4)
    }
    pub fn checksum(&self) -> u16 {
        u16_at(self.buf, 6)
    }
}
impl<'a> Fields<'a> for Udp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("sport", "Source port", self.src_port(), 2));
        out(u("dport", "Destination port", self.dst_port(), 4));
        out(u("len", "Length", self.length(), 6));
        out(hex("checksum", "Checksum", self.checksum(), 4, 8));
    }
}

/// ICMP (v4). Error messages quote the offending IP packet after 8 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Icmp<'a> {
    /// The fixed-size header at the start of `b`, and what follows it.
    #[inline(always)]
    pub fn parse(b: &'a [u8]) -> Checked<'a, Icmp<'a>> {
        Checked::fixed(b, Self::LEN, |buf| Icmp { buf })
    }
    pub const LEN: usize = 8;
    pub fn icmp_type(&self) -> u8 {
        u8_at(self.buf, 0)
    }
    pub fn code(&self) -> u8 {
        u8_at(self.buf, 1)
    }
    pub fn checksum(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    /// Types that carry a quoted IP header: unreachable, source quench, redirect,
    /// time exceeded, parameter problem.
    pub fn is_error(&self) -> bool {
        matches!(self.icmp_type(), 3 | 4 | 5 | 11 | 12)
    }
    pub fn is_echo(&self) -> bool {
        matches!(self.icmp_type(), 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
    }
    pub fn id(&self) -> u16 {
        u16_at(self.buf, 4)
    }
    pub fn seq(&self) -> u16 {
        u16_at(self.buf, 6)
    }
}
pub fn icmp_type_name(t: u8) -> &'static str {
    match t {
        0 => "echo-reply",
        3 => "unreachable",
        4 => "source-quench",
        5 => "redirect",
        8 => "echo-request",
        9 => "router-advertisement",
        10 => "router-solicitation",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp-request",
        14 => "timestamp-reply",
        17 => "mask-request",
        18 => "mask-reply",
        42 => "extended-echo-request",
        43 => "extended-echo-reply",
        _ => "other",
    }
}
impl<'a> Fields<'a> for Icmp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("type", "Type", self.icmp_type(), 1));
        out(name(
            "type_name",
            "Type name",
            icmp_type_name(self.icmp_type()),
            1,
        ));
        out(u("code", "Code", self.code(), 2));
        out(hex("checksum", "Checksum", self.checksum(), 4, 4));
        match self.icmp_type() {
            0 | 8 | 13 | 14 | 17 | 18 | 42 | 43 => {
                out(u("id", "Identifier", self.id(), 6));
                out(u("seq", "Sequence number", self.seq(), 8));
            }
            5 => out(Field::new(
                "gateway",
                "Gateway",
                Value::V4(arr(self.buf, 4)),
                8,
            )),
            3 if self.code() == 4 => out(u("mtu", "Next-hop MTU", u16_at(self.buf, 6), 8)),
            12 => out(u("pointer", "Pointer", u8_at(self.buf, 4), 5)),
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Icmpv6<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Icmpv6<'a> {
    /// The fixed-size header at the start of `b`, and what follows it.
    #[inline(always)]
    pub fn parse(b: &'a [u8]) -> Checked<'a, Icmpv6<'a>> {
        Checked::fixed(b, Self::LEN, |buf| Icmpv6 { buf })
    }
    pub const LEN: usize = 8;
    pub fn icmp_type(&self) -> u8 {
        u8_at(self.buf, 0)
    }
    pub fn code(&self) -> u8 {
        u8_at(self.buf, 1)
    }
    /// Destination unreachable, packet too big, time exceeded, parameter problem.
    pub fn is_error(&self) -> bool {
        matches!(self.icmp_type(), 1..=4)
    }
}
pub fn icmpv6_type_name(t: u8) -> &'static str {
    match t {
        1 => "unreachable",
        2 => "packet-too-big",
        3 => "time-exceeded",
        4 => "parameter-problem",
        128 => "echo-request",
        129 => "echo-reply",
        130 => "mld-query",
        131 => "mld-report",
        133 => "router-solicitation",
        134 => "router-advertisement",
        135 => "neighbor-solicitation",
        136 => "neighbor-advertisement",
        137 => "redirect",
        143 => "mld2-report",
        _ => "other",
    }
}
impl<'a> Fields<'a> for Icmpv6<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("type", "Type", self.icmp_type(), 1));
        out(name(
            "type_name",
            "Type name",
            icmpv6_type_name(self.icmp_type()),
            1,
        ));
        out(u("code", "Code", self.code(), 2));
        out(hex("checksum", "Checksum", u16_at(self.buf, 2), 4, 4));
        match self.icmp_type() {
            128 | 129 => {
                out(u("id", "Identifier", u16_at(self.buf, 4), 6));
                out(u("seq", "Sequence number", u16_at(self.buf, 6), 8));
            }
            2 => out(u("mtu", "MTU", u32_at(self.buf, 4), 8)),
            4 => out(u("pointer", "Pointer", u32_at(self.buf, 4), 8)),
            _ => {}
        }
    }
}

/// VXLAN (RFC 7348), UDP port 4789.
#[derive(Clone, Copy, Debug)]
pub struct Vxlan<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Vxlan<'a> {
    pub const LEN: usize = 8;
    pub fn vni(&self) -> u32 {
        u32_at(self.buf, 4) >> 8
    }
    pub fn valid_flag(&self) -> bool {
        u8_at(self.buf, 0) & 0x08 != 0
    }
}
impl<'a> Fields<'a> for Vxlan<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(hex("flags", "Flags", u8_at(self.buf, 0), 2, 1));
        out(u("vni", "VXLAN network identifier", self.vni(), 7));
    }
}

/// IP Authentication Header (RFC 4302) after IPv4; after IPv6 it is part of the chain.
#[derive(Clone, Copy, Debug)]
pub struct Ah<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Ah<'a> {
    pub fn next_header(&self) -> u8 {
        u8_at(self.buf, 0)
    }
}
impl<'a> Fields<'a> for Ah<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("nxt", "Next header", self.next_header(), 1));
        out(u("len", "Length", self.buf.len() as u64, 2));
        out(hex("spi", "SPI", u32_at(self.buf, 4), 8, 8));
        out(u("seq", "Sequence number", u32_at(self.buf, 8), 12));
    }
}

/// SCTP common header (RFC 9260): ports, verification tag, checksum.
#[derive(Clone, Copy, Debug)]
pub struct Sctp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Sctp<'a> {
    /// The fixed-size header at the start of `b`, and what follows it.
    #[inline(always)]
    pub fn parse(b: &'a [u8]) -> Checked<'a, Sctp<'a>> {
        Checked::fixed(b, Self::LEN, |buf| Sctp { buf })
    }
    pub const LEN: usize = 12;
    pub fn src_port(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn dst_port(&self) -> u16 {
        u16_at(self.buf, 2)
    }
}
impl<'a> Fields<'a> for Sctp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("sport", "Source port", self.src_port(), 2));
        out(u("dport", "Destination port", self.dst_port(), 4));
        out(hex("vtag", "Verification tag", u32_at(self.buf, 4), 8, 8));
        out(hex("checksum", "Checksum", u32_at(self.buf, 8), 8, 12));
    }
}

// What the protocol table (`proto.rs`) and the dissection's slots need of each view.

impl<'a> View<'a> for Ah<'a> {
    const PROTO: Proto = Proto::Ah;
    const NAME: &'static str = "ah";
    const TITLE: &'static str = "Authentication Header";
    const FIELDS: &'static [&'static str] = &["nxt", "len", "spi", "seq"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Ah { buf }
    }
}

impl<'a> View<'a> for Vxlan<'a> {
    const PROTO: Proto = Proto::Vxlan;
    const NAME: &'static str = "vxlan";
    const TITLE: &'static str = "Virtual eXtensible Local Area Network";
    const FIELDS: &'static [&'static str] = &["flags", "vni"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Vxlan { buf }
    }
}

impl<'a> View<'a> for Tcp<'a> {
    const PROTO: Proto = Proto::Tcp;
    const NAME: &'static str = "tcp";
    const TITLE: &'static str = "Transmission Control Protocol";
    const FIELDS: &'static [&'static str] = &[
        "sport",
        "dport",
        "seq",
        "ack",
        "hdr_len",
        "flags",
        "ae",
        "cwr",
        "ece",
        "urg",
        "ack_flag",
        "psh",
        "rst",
        "syn",
        "fin",
        "window",
        "checksum",
        "urgent",
        "mss",
        "wscale",
        "sack_permitted",
        "ts_val",
        "ts_ecr",
        "options",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Tcp { buf }
    }
}

impl<'a> View<'a> for Udp<'a> {
    const PROTO: Proto = Proto::Udp;
    const NAME: &'static str = "udp";
    const TITLE: &'static str = "User Datagram Protocol";
    const FIELDS: &'static [&'static str] = &["sport", "dport", "len", "checksum"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Udp { buf }
    }
}

impl<'a> View<'a> for Icmp<'a> {
    const PROTO: Proto = Proto::Icmp;
    const NAME: &'static str = "icmp";
    const TITLE: &'static str = "Internet Control Message Protocol";
    const FIELDS: &'static [&'static str] = &[
        "type",
        "type_name",
        "code",
        "checksum",
        "id",
        "seq",
        "gateway",
        "mtu",
        "pointer",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Icmp { buf }
    }
}

impl<'a> View<'a> for Icmpv6<'a> {
    const PROTO: Proto = Proto::Icmpv6;
    const NAME: &'static str = "icmpv6";
    const TITLE: &'static str = "Internet Control Message Protocol v6";
    const FIELDS: &'static [&'static str] = &[
        "type",
        "type_name",
        "code",
        "checksum",
        "id",
        "seq",
        "mtu",
        "pointer",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Icmpv6 { buf }
    }
}

impl<'a> View<'a> for Sctp<'a> {
    const PROTO: Proto = Proto::Sctp;
    const NAME: &'static str = "sctp";
    const TITLE: &'static str = "Stream Control Transmission Protocol";
    const FIELDS: &'static [&'static str] = &["sport", "dport", "vtag", "checksum"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Sctp { buf }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SYN from port 40000 to 23 with one MSS option (data offset 6), then 2 bytes of data.
    const SYN: [u8; 26] = [
        0x9c, 0x40, 0x00, 0x17, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0x60, 0x02, 0x72, 0x10, 0xab,
        0xcd, 0, 0, 0x02, 0x04, 0x05, 0xb4, 0xee, 0xff,
    ];

    #[test]
    fn tcp_parse_takes_the_options_and_leaves_the_data() {
        let Checked::Whole(t, rest) = Tcp::parse(&SYN) else {
            panic!("a whole header")
        };
        assert_eq!(
            (t.src_port(), t.dst_port(), t.seq()),
            (40_000, 23, 0x1234_5678)
        );
        assert_eq!(
            (t.header_len(), t.flags(), t.window()),
            (24, tcp_flags::SYN, 0x7210)
        );
        assert_eq!(
            t.option_iter().collect::<Vec<_>>(),
            vec![(2, &[0x05, 0xb4][..])]
        );
        assert_eq!(rest, &[0xee, 0xff]);
    }

    #[test]
    fn tcp_parse_refuses_cut_and_invalid_headers() {
        assert!(matches!(Tcp::parse(&SYN[..19]), Checked::Cut));
        // The offset says 24 bytes; 22 are there.
        assert!(matches!(Tcp::parse(&SYN[..22]), Checked::Cut));
        let mut bad = SYN;
        bad[12] = 0x40;
        let Checked::Invalid(t, rest, why) = Tcp::parse(&bad) else {
            panic!("offset 4 is invalid")
        };
        assert_eq!(
            (t.header_len(), rest.len(), why),
            (16, 6, "TCP data offset below 5")
        );
    }

    #[test]
    fn fixed_headers_parse_to_their_length() {
        let udp = [0x00, 0x35, 0x7f, 0xba, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4];
        let Checked::Whole(u, rest) = Udp::parse(&udp) else {
            panic!("a whole UDP header")
        };
        assert_eq!(
            (u.src_port(), u.dst_port(), u.length(), rest.len()),
            (53, 32_698, 12, 4)
        );
        assert!(matches!(Udp::parse(&udp[..7]), Checked::Cut));
        let unreachable = [3, 3, 0, 0, 0, 0, 0, 0, 0x45];
        let Checked::Whole(i, rest) = Icmp::parse(&unreachable) else {
            panic!("a whole ICMP header")
        };
        assert_eq!(
            (i.icmp_type(), i.code(), i.is_error(), rest.len()),
            (3, 3, true, 1)
        );
        assert!(matches!(Sctp::parse(&udp[..11]), Checked::Cut));
        assert!(matches!(Icmpv6::parse(&unreachable[..4]), Checked::Cut));
    }
}
