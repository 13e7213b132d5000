//! GRE version 0 (RFC 2784/2890/1701 incl. source routing) and version 1 (PPTP, RFC 2637),
//! and what GRE carries that is not IP or Ethernet: ERSPAN I/II/III, WCCP, NHRP.

use crate::Proto;
use crate::bytes::*;
use crate::checksum;
use crate::field::{Field, Fields, Value, flag, hex, name, u};
use crate::link::ethertype;
use crate::view::View;

pub const FLAG_C: u16 = 0x8000;
pub const FLAG_R: u16 = 0x4000;
pub const FLAG_K: u16 = 0x2000;
pub const FLAG_S: u16 = 0x1000;
pub const FLAG_STRICT: u16 = 0x0800;
pub const FLAG_A: u16 = 0x0080;

/// A GRE header. `buf` starts at the GRE header and runs to the end of the GRE packet, so
/// the checksum can be verified; `hlen` is the header length including SREs.
#[derive(Clone, Copy, Debug)]
pub struct Gre<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) hlen: u16,
    /// True when the GRE packet was captured whole (needed to verify the checksum).
    pub(crate) complete: bool,
}

/// Why a GRE header cannot be decoded in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GreError {
    /// Fewer bytes than the flags announce.
    Truncated,
    /// Source route list not terminated within the packet or absurdly long.
    BadRouting,
}

impl<'a> Gre<'a> {
    pub const MIN_LEN: usize = 4;

    /// Computes the header length implied by the flags (and walks the SRE list).
    pub(crate) fn header_len(b: &[u8]) -> Result<usize, GreError> {
        if b.len() < 4 {
            return Err(GreError::Truncated);
        }
        let f = u16_at(b, 0);
        let mut len = 4;
        if f & 0x7 == 1 {
            // PPTP: key always present (payload length + call ID).
            len += 4;
            if f & FLAG_S != 0 {
                len += 4;
            }
            if f & FLAG_A != 0 {
                len += 4;
            }
        } else {
            if f & (FLAG_C | FLAG_R) != 0 {
                len += 4;
            }
            if f & FLAG_K != 0 {
                len += 4;
            }
            if f & FLAG_S != 0 {
                len += 4;
            }
            if f & FLAG_R != 0 {
                // SREs: address family (2), offset (1), length (1), then `length` bytes;
                // an SRE with family 0 and length 0 ends the list.
                loop {
                    if b.len() < len + 4 {
                        return Err(GreError::Truncated);
                    }
                    let af = u16_at(b, len);
                    let sl = u8_at(b, len + 3) as usize;
                    len += 4 + sl;
                    if af == 0 && sl == 0 {
                        break;
                    }
                    if len > b.len() {
                        return Err(GreError::Truncated);
                    }
                    if len > 1024 {
                        return Err(GreError::BadRouting);
                    }
                }
            }
        }
        if len > b.len() {
            Err(GreError::Truncated)
        } else {
            Ok(len)
        }
    }

    pub fn flags(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn version(&self) -> u8 {
        (self.flags() & 7) as u8
    }
    pub fn protocol(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    pub fn has_checksum(&self) -> bool {
        self.version() == 0 && self.flags() & FLAG_C != 0
    }
    pub fn has_routing(&self) -> bool {
        self.version() == 0 && self.flags() & FLAG_R != 0
    }
    pub fn recursion(&self) -> u8 {
        ((self.flags() >> 8) & 7) as u8
    }
    fn key_offset(&self) -> usize {
        if self.flags() & (FLAG_C | FLAG_R) != 0 && self.version() == 0 {
            8
        } else {
            4
        }
    }
    #[inline]
    pub fn key(&self) -> Option<u32> {
        (self.version() == 1 || self.flags() & FLAG_K != 0)
            .then(|| u32_at(self.buf, self.key_offset()))
    }
    pub fn seq(&self) -> Option<u32> {
        if self.flags() & FLAG_S == 0 {
            return None;
        }
        let off = self.key_offset() + if self.key().is_some() { 4 } else { 0 };
        Some(u32_at(self.buf, off))
    }
    /// PPTP acknowledgement number.
    pub fn ack(&self) -> Option<u32> {
        if self.version() != 1 || self.flags() & FLAG_A == 0 {
            return None;
        }
        let off = 8 + if self.flags() & FLAG_S != 0 { 4 } else { 0 };
        Some(u32_at(self.buf, off))
    }
    /// PPTP call ID (low half of the key).
    pub fn call_id(&self) -> Option<u16> {
        (self.version() == 1).then(|| (self.key().unwrap_or(0) & 0xffff) as u16)
    }
    /// PPTP payload length (high half of the key).
    pub fn pptp_payload_len(&self) -> Option<u16> {
        (self.version() == 1).then(|| (self.key().unwrap_or(0) >> 16) as u16)
    }
    pub fn checksum_field(&self) -> Option<u16> {
        (self.version() == 0 && self.flags() & (FLAG_C | FLAG_R) != 0).then(|| u16_at(self.buf, 4))
    }
    pub fn routing_offset(&self) -> Option<u16> {
        (self.version() == 0 && self.flags() & (FLAG_C | FLAG_R) != 0).then(|| u16_at(self.buf, 6))
    }
    /// Verifies the checksum over header and payload, when present and captured whole.
    pub fn checksum_ok(&self) -> Option<bool> {
        (self.has_checksum() && self.complete).then(|| checksum::verify(self.buf))
    }
    pub fn header(&self) -> &'a [u8] {
        sub(self.buf, 0, self.hlen as usize)
    }
    /// Iterates the SRE list as (address family, offset, bytes).
    pub fn sres(&self) -> impl Iterator<Item = (u16, u8, &'a [u8])> + 'a {
        let buf = self.buf;
        let start = if self.has_routing() {
            Some(self.key_offset() + self.key().map_or(0, |_| 4) + self.seq().map_or(0, |_| 4))
        } else {
            None
        };
        let mut pos = start;
        std::iter::from_fn(move || {
            let p = pos?;
            let af = u16_at(buf, p);
            let off = u8_at(buf, p + 2);
            let l = u8_at(buf, p + 3) as usize;
            if (af == 0 && l == 0) || p + 4 + l > buf.len() {
                pos = None;
                return None;
            }
            pos = Some(p + 4 + l);
            Some((af, off, sub(buf, p + 4, p + 4 + l)))
        })
    }
}

pub fn gre_protocol_name(p: u16) -> &'static str {
    match p {
        ethertype::ERSPAN_I_II => "erspan",
        ethertype::ERSPAN_III => "erspan3",
        ethertype::TEB => "teb",
        _ => ethertype::name(p),
    }
}

impl<'a> Fields<'a> for Gre<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let f = self.flags() as u32;
        out(hex("flags", "Flags and version", f, 4, 2));
        out(flag("c", "Checksum bit", f, 16, FLAG_C as u32, 2));
        out(flag("r", "Routing bit", f, 16, FLAG_R as u32, 2));
        out(flag("k", "Key bit", f, 16, FLAG_K as u32, 2));
        out(flag("s", "Sequence number bit", f, 16, FLAG_S as u32, 2));
        out(flag(
            "ssr",
            "Strict source route bit",
            f,
            16,
            FLAG_STRICT as u32,
            2,
        ));
        out(u("recursion", "Recursion control", self.recursion(), 2).bits(f, 16, 0x0700));
        if self.version() == 1 {
            out(flag("a", "Acknowledgment bit", f, 16, FLAG_A as u32, 2));
            out(u("reserved", "Flags (reserved)", (f >> 3) & 0x0f, 2).bits(f, 16, 0x0078));
        } else {
            out(u("reserved", "Flags (reserved)", (f >> 3) & 0x1f, 2).bits(f, 16, 0x00f8));
        }
        out(u("version", "Version", self.version(), 2).bits(f, 16, 0x0007));
        out(hex("proto", "Protocol type", self.protocol(), 4, 4));
        out(name(
            "proto_name",
            "Protocol name",
            gre_protocol_name(self.protocol()),
            4,
        ));
        if let Some(c) = self.checksum_field() {
            out(hex("checksum", "Checksum", c, 4, 6));
            out(hex(
                "offset",
                "Routing offset",
                self.routing_offset().unwrap_or(0),
                4,
                8,
            ));
            if let Some(ok) = self.checksum_ok() {
                out(Field::new(
                    "checksum_ok",
                    "Checksum valid",
                    Value::Bool(ok),
                    self.hlen as usize,
                ));
            }
        }
        let koff = self.key_offset();
        if self.version() == 1 {
            out(u(
                "payload_len",
                "Payload length",
                self.pptp_payload_len().unwrap_or(0),
                koff + 2,
            ));
            out(u(
                "call_id",
                "Call ID",
                self.call_id().unwrap_or(0),
                koff + 4,
            ));
        } else if let Some(k) = self.key() {
            out(hex("key", "Key", k, 8, koff + 4));
        }
        let mut end = koff + if self.key().is_some() { 4 } else { 0 };
        if let Some(s) = self.seq() {
            end += 4;
            out(u("seq", "Sequence number", s, end));
        }
        if let Some(a) = self.ack() {
            end += 4;
            out(u("ack", "Acknowledgment number", a, end));
        }
        for (af, off, data) in self.sres() {
            out(hex(
                "sre_af",
                "SRE address family",
                af,
                4,
                self.hlen as usize,
            ));
            out(u("sre_offset", "SRE offset", off, self.hlen as usize));
            out(Field::new(
                "sre",
                "SRE routing information",
                Value::Bytes(data),
                self.hlen as usize,
            ));
        }
    }
}

/// ERSPAN header. Type I has no header bytes at all (GRE 0x88BE without a sequence number);
/// type II is 8 bytes, type III 12 (+8 with the platform-specific sub-header).
#[derive(Clone, Copy, Debug)]
pub struct Erspan<'a> {
    pub(crate) buf: &'a [u8],
    /// 1, 2 or 3.
    pub(crate) kind: u8,
}
impl<'a> Erspan<'a> {
    pub fn kind(&self) -> u8 {
        self.kind
    }
    pub(crate) fn header_len(kind: u8, b: &[u8]) -> Option<usize> {
        match kind {
            1 => Some(0),
            2 => (b.len() >= 8).then_some(8),
            _ => {
                if b.len() < 12 {
                    return None;
                }
                let o = u16_at(b, 10) & 1 != 0;
                let l = if o { 20 } else { 12 };
                (b.len() >= l).then_some(l)
            }
        }
    }
    pub fn version_field(&self) -> u8 {
        u8_at(self.buf, 0) >> 4
    }
    pub fn vlan(&self) -> u16 {
        u16_at(self.buf, 0) & 0x0fff
    }
    pub fn cos(&self) -> u8 {
        (u16_at(self.buf, 2) >> 13) as u8
    }
    pub fn session_id(&self) -> u16 {
        u16_at(self.buf, 2) & 0x03ff
    }
    /// Type II index.
    pub fn index(&self) -> u32 {
        u32_at(self.buf, 4) & 0x000f_ffff
    }
    /// Type III frame type: 0 Ethernet, 2 IP.
    pub fn frame_type(&self) -> u8 {
        ((u16_at(self.buf, 10) >> 10) & 0x1f) as u8
    }
    pub fn has_subheader(&self) -> bool {
        self.kind == 3 && u16_at(self.buf, 10) & 1 != 0
    }
}
impl<'a> Fields<'a> for Erspan<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("type", "ERSPAN type", self.kind, 0));
        if self.kind == 1 {
            return;
        }
        let w0 = u16_at(self.buf, 0) as u32;
        let w1 = u16_at(self.buf, 2) as u32;
        out(u("ver", "Version", self.version_field(), 1).bits(w0, 16, 0xf000));
        out(u("vlan", "VLAN", self.vlan(), 2).bits(w0, 16, 0x0fff));
        out(u("cos", "Class of service", self.cos(), 4).bits(w1, 16, 0xe000));
        if self.kind == 2 {
            out(u("en", "Encapsulation type", (w1 >> 11) & 3, 4).bits(w1, 16, 0x1800));
        } else {
            let bso = (w1 >> 11) & 3;
            out(u("bso", "Bad/short/oversized", bso, 4).bits(w1, 16, 0x1800));
            out(name(
                "bso_name",
                "BSO",
                match bso {
                    0 => "good",
                    1 => "short",
                    2 => "oversized",
                    _ => "bad",
                },
                4,
            ));
        }
        out(flag("t", "Truncated", w1, 16, 0x0400, 4));
        out(u("session", "Session ID", self.session_id(), 4).bits(w1, 16, 0x03ff));
        if self.kind == 2 {
            out(u("index", "Index", self.index(), 8));
            return;
        }
        out(u("timestamp", "Timestamp", u32_at(self.buf, 4), 8));
        out(u("sgt", "Security group tag", u16_at(self.buf, 8), 10));
        let w = u16_at(self.buf, 10) as u32;
        out(flag("p", "Ethernet PDU (P)", w, 16, 0x8000, 12));
        out(u("ft", "Frame type", self.frame_type(), 12).bits(w, 16, 0x7c00));
        out(u("hwid", "Hardware ID", (w >> 4) & 0x3f, 12).bits(w, 16, 0x03f0));
        out(flag("d", "Direction (egress)", w, 16, 0x0008, 12));
        out(u("gra", "Timestamp granularity", (w >> 1) & 3, 12).bits(w, 16, 0x0006));
        out(flag("o", "Optional sub-header", w, 16, 0x0001, 12));
        if self.has_subheader() {
            let sw = u32_at(self.buf, 12);
            out(u("platform_id", "Platform ID", sw >> 26, 16));
            out(Field::new(
                "platform_info",
                "Platform-specific info",
                Value::Bytes(sub(self.buf, 12, 20)),
                20,
            ));
        }
    }
}

/// WCCPv2 redirect header (4 bytes) in GRE 0x883E. WCCPv1 has none: an IPv4 header
/// follows the GRE header directly.
#[derive(Clone, Copy, Debug)]
pub struct Wccp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Wccp<'a> {
    pub const LEN: usize = 4;
    pub fn service_id(&self) -> u8 {
        u8_at(self.buf, 1)
    }
    pub fn alt_bucket(&self) -> u8 {
        u8_at(self.buf, 2)
    }
    pub fn pri_bucket(&self) -> u8 {
        u8_at(self.buf, 3)
    }
}
impl<'a> Fields<'a> for Wccp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let b = u8_at(self.buf, 0) as u32;
        out(flag("d", "Dynamic service", b, 8, 0x04, 1));
        out(flag("a", "Alternate bucket used", b, 8, 0x02, 1));
        out(u("service_id", "Service ID", self.service_id(), 2));
        out(u("alt_bucket", "Alternate bucket", self.alt_bucket(), 3));
        out(u("pri_bucket", "Primary bucket", self.pri_bucket(), 4));
    }
}

/// NHRP (RFC 2332): fixed header and the mandatory part's addresses.
#[derive(Clone, Copy, Debug)]
pub struct Nhrp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Nhrp<'a> {
    pub const FIXED_LEN: usize = 20;
    pub fn afn(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn protocol_type(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    pub fn hop_count(&self) -> u8 {
        u8_at(self.buf, 9)
    }
    pub fn op_type(&self) -> u8 {
        u8_at(self.buf, 17)
    }
    fn shtl(&self) -> usize {
        (u8_at(self.buf, 18) & 0x3f) as usize
    }
    fn sstl(&self) -> usize {
        (u8_at(self.buf, 19) & 0x3f) as usize
    }
    fn src_proto_len(&self) -> usize {
        u8_at(self.buf, 20) as usize
    }
    fn dst_proto_len(&self) -> usize {
        u8_at(self.buf, 21) as usize
    }
    /// Request ID (absent for error and traffic indications, whose mandatory part differs).
    pub fn request_id(&self) -> Option<u32> {
        (!matches!(self.op_type(), 7 | 8)).then(|| u32_at(self.buf, 24))
    }
    /// Error or traffic-indication code.
    pub fn code(&self) -> Option<u16> {
        matches!(self.op_type(), 7 | 8).then(|| u16_at(self.buf, 24))
    }
    /// (source NBMA, source protocol, destination protocol) addresses, when present.
    pub fn addresses(&self) -> Option<(&'a [u8], &'a [u8], &'a [u8])> {
        let mut p = 28;
        let nbma = self.buf.get(p..p + self.shtl())?;
        p += self.shtl() + self.sstl();
        let src = self.buf.get(p..p + self.src_proto_len())?;
        p += self.src_proto_len();
        let dst = self.buf.get(p..p + self.dst_proto_len())?;
        Some((nbma, src, dst))
    }
}
pub fn nhrp_op_name(t: u8) -> &'static str {
    match t {
        1 => "res-request",
        2 => "res-reply",
        3 => "reg-request",
        4 => "reg-reply",
        5 => "purge-request",
        6 => "purge-reply",
        7 => "error-indication",
        8 => "traffic-indication",
        _ => "unknown",
    }
}
fn addr_value(b: &[u8]) -> Value<'_> {
    match b.len() {
        4 => Value::V4(arr(b, 0)),
        16 => Value::V6(arr(b, 0)),
        _ => Value::Bytes(b),
    }
}
impl<'a> Fields<'a> for Nhrp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("afn", "Address family", self.afn(), 2));
        out(hex("pro_type", "Protocol type", self.protocol_type(), 4, 4));
        out(u("hopcnt", "Hop count", self.hop_count(), 10));
        out(u("pktsz", "Packet size", u16_at(self.buf, 10), 12));
        out(hex("checksum", "Checksum", u16_at(self.buf, 12), 4, 14));
        out(u("extoff", "Extension offset", u16_at(self.buf, 14), 16));
        out(u("op_version", "Version", u8_at(self.buf, 16), 17));
        out(u("op_type", "Packet type", self.op_type(), 18));
        out(name(
            "op_name",
            "Packet type name",
            nhrp_op_name(self.op_type()),
            18,
        ));
        if let Some(id) = self.request_id() {
            out(u("request_id", "Request ID", id, 28));
        }
        if let Some(c) = self.code() {
            out(u("code", "Code", c, 26));
        }
        if let Some((nbma, src, dst)) = self.addresses() {
            let end = 28 + nbma.len() + self.sstl() + src.len() + dst.len();
            out(Field::new(
                "src_nbma",
                "Source NBMA address",
                addr_value(nbma),
                end,
            ));
            out(Field::new(
                "src_proto",
                "Source protocol address",
                addr_value(src),
                end,
            ));
            out(Field::new(
                "dst_proto",
                "Destination protocol address",
                addr_value(dst),
                end,
            ));
        }
    }
}

// What the protocol table (`proto.rs`) and the dissection's slots need of each view.

impl<'a> View<'a> for Gre<'a> {
    const PROTO: Proto = Proto::Gre;
    const NAME: &'static str = "gre";
    const TITLE: &'static str = "Generic Routing Encapsulation";
    const FIELDS: &'static [&'static str] = &[
        "flags",
        "c",
        "r",
        "k",
        "s",
        "ssr",
        "recursion",
        "a",
        "reserved",
        "version",
        "proto",
        "proto_name",
        "checksum",
        "offset",
        "checksum_ok",
        "key",
        "payload_len",
        "call_id",
        "seq",
        "ack",
        "sre_af",
        "sre_offset",
        "sre",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn extra(&self) -> (u8, u16) {
        (self.complete as u8, self.hlen)
    }
    fn from_slot(buf: &'a [u8], aux: u8, hlen: u16) -> Self {
        Gre {
            buf,
            hlen,
            complete: aux == 1,
        }
    }
}

impl<'a> View<'a> for Erspan<'a> {
    const PROTO: Proto = Proto::Erspan;
    const NAME: &'static str = "erspan";
    const TITLE: &'static str = "Encapsulated Remote Switch Packet ANalysis";
    const FIELDS: &'static [&'static str] = &[
        "type",
        "ver",
        "vlan",
        "cos",
        "t",
        "session",
        "en",
        "index",
        "bso",
        "bso_name",
        "timestamp",
        "sgt",
        "p",
        "ft",
        "hwid",
        "d",
        "gra",
        "o",
        "platform_id",
        "platform_info",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn extra(&self) -> (u8, u16) {
        (self.kind, 0)
    }
    fn from_slot(buf: &'a [u8], aux: u8, _hlen: u16) -> Self {
        Erspan { buf, kind: aux }
    }
}

impl<'a> View<'a> for Wccp<'a> {
    const PROTO: Proto = Proto::Wccp;
    const NAME: &'static str = "wccp";
    const TITLE: &'static str = "Web Cache Communication Protocol redirect";
    const FIELDS: &'static [&'static str] = &["d", "a", "service_id", "alt_bucket", "pri_bucket"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Wccp { buf }
    }
}

impl<'a> View<'a> for Nhrp<'a> {
    const PROTO: Proto = Proto::Nhrp;
    const NAME: &'static str = "nhrp";
    const TITLE: &'static str = "Next Hop Resolution Protocol";
    const FIELDS: &'static [&'static str] = &[
        "afn",
        "pro_type",
        "hopcnt",
        "pktsz",
        "checksum",
        "extoff",
        "op_version",
        "op_type",
        "op_name",
        "request_id",
        "code",
        "src_nbma",
        "src_proto",
        "dst_proto",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Nhrp { buf }
    }
}
