//! IPv4 (with options and fragments) and IPv6 (with extension headers).

use crate::Proto;
use crate::bytes::*;
use crate::checksum;
use crate::field::{Field, Fields, Value, flag, hex, name, u};
use crate::view::View;

pub mod proto {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NONE: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const SCTP: u8 = 132;
    pub const MOBILITY: u8 = 135;

    pub fn name(p: u8) -> &'static str {
        match p {
            HOPOPT => "hopopt",
            ICMP => "icmp",
            2 => "igmp",
            IPIP => "ipip",
            TCP => "tcp",
            UDP => "udp",
            IPV6 => "ipv6",
            ROUTING => "ipv6-route",
            FRAGMENT => "ipv6-frag",
            GRE => "gre",
            ESP => "esp",
            AH => "ah",
            ICMPV6 => "icmpv6",
            NONE => "ipv6-nonxt",
            DSTOPTS => "ipv6-opts",
            89 => "ospf",
            103 => "pim",
            108 => "ipcomp",
            112 => "vrrp",
            SCTP => "sctp",
            MOBILITY => "mobility",
            _ => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Ipv4<'a> {
    /// Header bytes (IHL × 4, or fewer when the capture cut it short).
    pub(crate) buf: &'a [u8],
}
impl<'a> Ipv4<'a> {
    pub const MIN_LEN: usize = 20;
    pub fn version(&self) -> u8 {
        u8_at(self.buf, 0) >> 4
    }
    pub fn header_len(&self) -> usize {
        (u8_at(self.buf, 0) & 0x0f) as usize * 4
    }
    pub fn tos(&self) -> u8 {
        u8_at(self.buf, 1)
    }
    pub fn total_len(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    pub fn id(&self) -> u16 {
        u16_at(self.buf, 4)
    }
    pub fn dont_fragment(&self) -> bool {
        u16_at(self.buf, 6) & 0x4000 != 0
    }
    pub fn more_fragments(&self) -> bool {
        u16_at(self.buf, 6) & 0x2000 != 0
    }
    /// Fragment offset in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        u16_at(self.buf, 6) & 0x1fff
    }
    pub fn ttl(&self) -> u8 {
        u8_at(self.buf, 8)
    }
    pub fn protocol(&self) -> u8 {
        u8_at(self.buf, 9)
    }
    pub fn checksum(&self) -> u16 {
        u16_at(self.buf, 10)
    }
    pub fn src(&self) -> [u8; 4] {
        arr(self.buf, 12)
    }
    pub fn dst(&self) -> [u8; 4] {
        arr(self.buf, 16)
    }
    pub fn options(&self) -> &'a [u8] {
        sub(self.buf, 20, self.header_len())
    }
    /// Verifies the header checksum; None when the header was not captured whole.
    pub fn checksum_ok(&self) -> Option<bool> {
        let h = self.header_len();
        (h >= 20 && self.buf.len() >= h).then(|| checksum::verify(&self.buf[..h]))
    }
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.frag_offset() != 0
    }
}
impl<'a> Fields<'a> for Ipv4<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let b0 = u8_at(self.buf, 0) as u32;
        out(u("version", "Version", self.version(), 1).bits(b0, 8, 0xf0));
        out(u("hdr_len", "Header length", self.header_len() as u64, 1).bits(b0, 8, 0x0f));
        let tos = self.tos() as u32;
        out(u(
            "dscp",
            "Differentiated Services Codepoint",
            (tos >> 2) as u8,
            2,
        )
        .bits(tos, 8, 0xfc));
        out(u(
            "ecn",
            "Explicit Congestion Notification",
            (tos & 3) as u8,
            2,
        )
        .bits(tos, 8, 0x03));
        out(u("len", "Total length", self.total_len(), 4));
        out(hex("id", "Identification", self.id(), 4, 6));
        let ff = u16_at(self.buf, 6) as u32;
        out(hex("flags", "Flags", (ff >> 13) as u8, 2, 8));
        out(flag("rb", "Reserved bit", ff, 16, 0x8000, 8));
        out(flag("df", "Don't fragment", ff, 16, 0x4000, 8));
        out(flag("mf", "More fragments", ff, 16, 0x2000, 8));
        out(u(
            "frag_offset",
            "Fragment offset (bytes)",
            self.frag_offset() as u64 * 8,
            8,
        )
        .bits(ff, 16, 0x1fff));
        out(u("ttl", "Time to live", self.ttl(), 9));
        out(u("proto", "Protocol", self.protocol(), 10));
        out(name(
            "proto_name",
            "Protocol name",
            proto::name(self.protocol()),
            10,
        ));
        out(hex("checksum", "Header checksum", self.checksum(), 4, 12));
        let h = self.header_len().max(20);
        if let Some(ok) = self.checksum_ok() {
            out(Field::new(
                "checksum_ok",
                "Header checksum valid",
                Value::Bool(ok),
                h,
            ));
        }
        out(Field::new("src", "Source", Value::V4(self.src()), 16));
        out(Field::new("dst", "Destination", Value::V4(self.dst()), 20));
        let opts = self.options();
        if !opts.is_empty() {
            out(Field::new("options", "Options", Value::Bytes(opts), h));
        }
    }
}

/// IPv6 base header plus its extension-header chain (hop-by-hop, routing, fragment,
/// destination options, AH). `buf` covers all of them; the upper layer starts after.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Ipv6<'a> {
    pub const LEN: usize = 40;
    pub fn version(&self) -> u8 {
        u8_at(self.buf, 0) >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        ((u16_at(self.buf, 0) >> 4) & 0xff) as u8
    }
    pub fn flow_label(&self) -> u32 {
        u32_at(self.buf, 0) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> u16 {
        u16_at(self.buf, 4)
    }
    /// The Next Header of the base header.
    pub fn next_header(&self) -> u8 {
        u8_at(self.buf, 6)
    }
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.buf, 7)
    }
    pub fn src(&self) -> [u8; 16] {
        arr(self.buf, 8)
    }
    pub fn dst(&self) -> [u8; 16] {
        arr(self.buf, 24)
    }
    /// Extension headers in order, as (type, bytes).
    pub fn extensions(&self) -> ExtHeaders<'a> {
        ExtHeaders {
            buf: self.buf,
            pos: Self::LEN,
            next: self.next_header(),
        }
    }
    /// The protocol of what follows the whole chain.
    pub fn upper_protocol(&self) -> u8 {
        let mut it = self.extensions();
        for _ in it.by_ref() {}
        it.next
    }
    /// (offset in bytes, more fragments, identification) when a fragment header is present.
    pub fn fragment(&self) -> Option<(u16, bool, u32)> {
        self.extensions()
            .find(|(t, _)| *t == proto::FRAGMENT)
            .map(|(_, h)| {
                let w = u16_at(h, 2);
                ((w & 0xfff8), w & 1 == 1, u32_at(h, 4))
            })
    }
}
/// True for the extension headers this decoder walks through.
pub(crate) fn is_extension(t: u8) -> bool {
    matches!(
        t,
        proto::HOPOPT | proto::ROUTING | proto::FRAGMENT | proto::DSTOPTS | proto::AH
    )
}
/// Length of an extension header from its first bytes, when known.
pub(crate) fn extension_len(t: u8, h: &[u8]) -> Option<usize> {
    let l = *h.get(1)? as usize;
    Some(match t {
        proto::FRAGMENT => 8,
        proto::AH => (l + 2) * 4,
        _ => (l + 1) * 8,
    })
}
pub struct ExtHeaders<'a> {
    buf: &'a [u8],
    pos: usize,
    pub next: u8,
}
impl<'a> Iterator for ExtHeaders<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if !is_extension(self.next) {
            return None;
        }
        let rest = self.buf.get(self.pos..)?;
        let len = extension_len(self.next, rest)?;
        let h = rest.get(..len)?;
        let t = self.next;
        self.next = h[0];
        self.pos += len;
        Some((t, h))
    }
}
impl<'a> Fields<'a> for Ipv6<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let w = u32_at(self.buf, 0);
        out(u("version", "Version", self.version(), 1).bits(w, 32, 0xf000_0000));
        out(hex("tclass", "Traffic class", self.traffic_class(), 2, 2).bits(w, 32, 0x0ff0_0000));
        out(hex("flow", "Flow label", self.flow_label(), 5, 4).bits(w, 32, 0x000f_ffff));
        out(u("plen", "Payload length", self.payload_len(), 6));
        out(u("nxt", "Next header", self.next_header(), 7));
        out(u("hlim", "Hop limit", self.hop_limit(), 8));
        out(Field::new("src", "Source", Value::V6(self.src()), 24));
        out(Field::new("dst", "Destination", Value::V6(self.dst()), 40));
        let mut end = Self::LEN;
        for (t, h) in self.extensions() {
            end += h.len();
            match t {
                proto::HOPOPT => out(u(
                    "hbh_len",
                    "Hop-by-hop options length",
                    h.len() as u64,
                    end,
                )),
                proto::DSTOPTS => out(u(
                    "dstopts_len",
                    "Destination options length",
                    h.len() as u64,
                    end,
                )),
                proto::ROUTING => {
                    out(u("routing_type", "Routing type", u8_at(h, 2), end));
                    out(u("segments_left", "Segments left", u8_at(h, 3), end));
                }
                proto::FRAGMENT => {
                    let fw = u16_at(h, 2) as u32;
                    out(u(
                        "frag_offset",
                        "Fragment offset (bytes)",
                        fw & 0xfff8,
                        end,
                    ));
                    out(flag("frag_more", "More fragments", fw, 16, 1, end));
                    out(hex(
                        "frag_id",
                        "Fragment identification",
                        u32_at(h, 4),
                        8,
                        end,
                    ));
                }
                proto::AH => out(hex("ah_spi", "AH SPI", u32_at(h, 4), 8, end)),
                _ => {}
            }
        }
        let up = self.upper_protocol();
        out(u("upper_proto", "Upper-layer protocol", up, end));
        out(name(
            "upper_proto_name",
            "Upper-layer protocol name",
            proto::name(up),
            end,
        ));
    }
}

// What the protocol table (`proto.rs`) and the dissection's slots need of each view.

impl<'a> View<'a> for Ipv4<'a> {
    const PROTO: Proto = Proto::Ip;
    const NAME: &'static str = "ip";
    const TITLE: &'static str = "Internet Protocol Version 4";
    const FIELDS: &'static [&'static str] = &[
        "version",
        "hdr_len",
        "dscp",
        "ecn",
        "len",
        "id",
        "flags",
        "rb",
        "df",
        "mf",
        "frag_offset",
        "ttl",
        "proto",
        "proto_name",
        "checksum",
        "checksum_ok",
        "src",
        "dst",
        "options",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Ipv4 { buf }
    }
}

impl<'a> View<'a> for Ipv6<'a> {
    const PROTO: Proto = Proto::Ipv6;
    const NAME: &'static str = "ipv6";
    const TITLE: &'static str = "Internet Protocol Version 6";
    const FIELDS: &'static [&'static str] = &[
        "version",
        "tclass",
        "flow",
        "plen",
        "nxt",
        "hlim",
        "src",
        "dst",
        "hbh_len",
        "routing_type",
        "segments_left",
        "frag_offset",
        "frag_more",
        "frag_id",
        "dstopts_len",
        "ah_spi",
        "upper_proto",
        "upper_proto_name",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Ipv6 { buf }
    }
}
