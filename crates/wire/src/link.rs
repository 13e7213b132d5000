//! Link layers: Ethernet (+802.1Q/QinQ, MPLS), Linux cooked v1/v2, NFLOG, BSD NULL/LOOP, pflog, PPP.

use crate::Proto;
use crate::bytes::*;
use crate::field::{Field, Fields, Value, flag, hex, name, u};
use crate::view::View;

/// Well-known EtherType values used for dispatch and naming.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD: u16 = 0x9100;
    pub const IPV6: u16 = 0x86dd;
    pub const MPLS: u16 = 0x8847;
    pub const MPLS_MCAST: u16 = 0x8848;
    pub const TEB: u16 = 0x6558;
    pub const ERSPAN_I_II: u16 = 0x88be;
    pub const ERSPAN_III: u16 = 0x22eb;
    pub const WCCP: u16 = 0x883e;
    pub const NHRP: u16 = 0x2001;
    pub const PPP: u16 = 0x880b;
    pub const PPPOE_DISC: u16 = 0x8863;
    pub const PPPOE_SESS: u16 = 0x8864;
    pub const LLDP: u16 = 0x88cc;

    /// A short name for an EtherType, for summaries and chains.
    pub fn name(t: u16) -> &'static str {
        match t {
            IPV4 => "ipv4",
            ARP => "arp",
            0x8035 => "rarp",
            VLAN => "vlan",
            QINQ | QINQ_OLD => "qinq",
            IPV6 => "ipv6",
            MPLS | MPLS_MCAST => "mpls",
            TEB => "teb",
            ERSPAN_I_II => "erspan",
            ERSPAN_III => "erspan3",
            WCCP => "wccp",
            NHRP => "nhrp",
            PPP => "ppp",
            PPPOE_DISC => "pppoed",
            PPPOE_SESS => "pppoes",
            LLDP => "lldp",
            0x88e5 => "macsec",
            0x8200 | 0x8210 | 0x8220 | 0x8230 | 0x8240 | 0x8250 | 0x8260 | 0x8270 | 0x8280
            | 0x8290 | 0x82a0 | 0x82b0 | 0x82c0 | 0x82d0 | 0x82e0 | 0x82f0 | 0x8300 | 0x8310
            | 0x8320 | 0x8330 | 0x8340 | 0x8350 | 0x8360 | 0x8370 | 0x8380 | 0x8390 | 0x83a0
            | 0x83b0 | 0x83c0 | 0x83d0 | 0x83e0 | 0x83f0 => "aruba",
            0x6559 => "frame-relay",
            0x0000 => "none",
            _ => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Ethernet<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Ethernet<'a> {
    pub const LEN: usize = 14;
    pub fn dst(&self) -> [u8; 6] {
        arr(self.buf, 0)
    }
    pub fn src(&self) -> [u8; 6] {
        arr(self.buf, 6)
    }
    /// EtherType, or an 802.3 length when ≤ 1500.
    pub fn ethertype(&self) -> u16 {
        u16_at(self.buf, 12)
    }
}
impl<'a> Fields<'a> for Ethernet<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(Field::new("dst", "Destination", Value::Mac(self.dst()), 6));
        out(Field::new("src", "Source", Value::Mac(self.src()), 12));
        let t = self.ethertype();
        if t <= 1500 {
            out(u("length", "Length (802.3)", t, 14));
        } else {
            out(hex("type", "Type", t, 4, 14));
        }
    }
}

/// 802.3 LLC, with SNAP when DSAP/SSAP are 0xAA.
#[derive(Clone, Copy, Debug)]
pub struct Llc<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Llc<'a> {
    pub fn is_snap(&self) -> bool {
        self.buf.len() >= 8 && self.buf[0] == 0xaa && self.buf[1] == 0xaa
    }
    pub fn snap_type(&self) -> Option<u16> {
        self.is_snap().then(|| u16_at(self.buf, 6))
    }
}
impl<'a> Fields<'a> for Llc<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(hex("dsap", "DSAP", u8_at(self.buf, 0), 2, 1));
        out(hex("ssap", "SSAP", u8_at(self.buf, 1), 2, 2));
        out(hex("control", "Control", u8_at(self.buf, 2), 2, 3));
        if let Some(t) = self.snap_type() {
            out(hex(
                "oui",
                "Organization code",
                u32_at(self.buf, 2) & 0xff_ffff,
                6,
                6,
            ));
            out(hex("type", "Type", t, 4, 8));
        }
    }
}

/// One 802.1Q / 802.1ad tag (the 4 bytes after the TPID's position: TCI then inner type).
#[derive(Clone, Copy, Debug)]
pub struct Vlan<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Vlan<'a> {
    pub const LEN: usize = 4;
    pub fn vid(&self) -> u16 {
        u16_at(self.buf, 0) & 0x0fff
    }
    pub fn ethertype(&self) -> u16 {
        u16_at(self.buf, 2)
    }
}
impl<'a> Fields<'a> for Vlan<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let tci = u16_at(self.buf, 0) as u32;
        out(u("pcp", "Priority", (tci >> 13) as u8, 2).bits(tci, 16, 0xe000));
        out(flag("dei", "Drop eligible", tci, 16, 0x1000, 2));
        out(u("id", "ID", self.vid(), 2).bits(tci, 16, 0x0fff));
        out(hex("type", "Type", self.ethertype(), 4, 4));
    }
}

/// One MPLS label stack entry.
#[derive(Clone, Copy, Debug)]
pub struct Mpls<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Mpls<'a> {
    pub const LEN: usize = 4;
    fn word(&self) -> u32 {
        u32_at(self.buf, 0)
    }
    pub fn label(&self) -> u32 {
        self.word() >> 12
    }
    pub fn bottom(&self) -> bool {
        self.word() & 0x100 != 0
    }
}
impl<'a> Fields<'a> for Mpls<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let w = self.word();
        out(u("label", "Label", w >> 12, 3));
        out(u("tc", "Traffic class", (w >> 9) & 7, 3));
        out(flag("bottom", "Bottom of stack", w, 32, 0x100, 3));
        out(u("ttl", "TTL", w & 0xff, 4));
    }
}

/// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113).
#[derive(Clone, Copy, Debug)]
pub struct Sll<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Sll<'a> {
    pub const LEN: usize = 16;
    pub fn protocol(&self) -> u16 {
        u16_at(self.buf, 14)
    }
    pub fn hatype(&self) -> u16 {
        u16_at(self.buf, 2)
    }
}
pub(crate) fn pkttype_name(t: u16) -> &'static str {
    match t {
        0 => "host",
        1 => "broadcast",
        2 => "multicast",
        3 => "otherhost",
        4 => "outgoing",
        _ => "unknown",
    }
}
impl<'a> Fields<'a> for Sll<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let pt = u16_at(self.buf, 0);
        out(u("pkttype", "Packet type", pt, 2));
        out(name("direction", "Direction", pkttype_name(pt), 2));
        out(u("hatype", "Link-layer address type", self.hatype(), 4));
        let alen = (u16_at(self.buf, 4) as usize).min(8);
        out(u("halen", "Link-layer address length", alen as u16, 6));
        out(Field::new(
            "addr",
            "Source",
            Value::Bytes(sub(self.buf, 6, 6 + alen)),
            14,
        ));
        out(hex("protocol", "Protocol", self.protocol(), 4, 16));
    }
}

/// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276).
#[derive(Clone, Copy, Debug)]
pub struct Sll2<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Sll2<'a> {
    pub const LEN: usize = 20;
    pub fn protocol(&self) -> u16 {
        u16_at(self.buf, 0)
    }
    pub fn hatype(&self) -> u16 {
        u16_at(self.buf, 8)
    }
}
impl<'a> Fields<'a> for Sll2<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(hex("protocol", "Protocol", self.protocol(), 4, 2));
        out(u("ifindex", "Interface index", u32_at(self.buf, 4), 8));
        out(u("hatype", "Link-layer address type", self.hatype(), 10));
        let pt = u8_at(self.buf, 10) as u16;
        out(u("pkttype", "Packet type", pt, 11));
        out(name("direction", "Direction", pkttype_name(pt), 11));
        let alen = (u8_at(self.buf, 11) as usize).min(8);
        out(u("halen", "Link-layer address length", alen as u16, 12));
        out(Field::new(
            "addr",
            "Source",
            Value::Bytes(sub(self.buf, 12, 12 + alen)),
            20,
        ));
    }
}

/// NFLOG TLV types (linux/netfilter/nfnetlink_log.h).
pub mod nflog_tlv {
    pub const PACKET_HDR: u16 = 1;
    pub const MARK: u16 = 2;
    pub const TIMESTAMP: u16 = 3;
    pub const IFINDEX_INDEV: u16 = 4;
    pub const IFINDEX_OUTDEV: u16 = 5;
    pub const HWADDR: u16 = 8;
    pub const PAYLOAD: u16 = 9;
    pub const PREFIX: u16 = 10;
    pub const UID: u16 = 11;
    pub const SEQ: u16 = 12;
    pub const GID: u16 = 14;
}

/// NFLOG (LINKTYPE_NFLOG, 239): a 4-byte header then TLVs; the packet is the PAYLOAD TLV.
///
/// TLV length and type are in the capturing host's byte order; the decoder picks the order
/// under which the first TLV is well formed, and validates every TLV before the view exists.
#[derive(Clone, Copy, Debug)]
pub struct Nflog<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) little_endian: bool,
}
impl<'a> Nflog<'a> {
    pub const HEADER_LEN: usize = 4;
    pub fn family(&self) -> u8 {
        u8_at(self.buf, 0)
    }
    pub fn resource_id(&self) -> u16 {
        u16_at(self.buf, 2)
    }
    /// Iterates TLVs as (type, value). Stops at the first malformed TLV.
    pub fn tlvs(&self) -> NflogTlvs<'a> {
        NflogTlvs {
            buf: self.buf,
            pos: Self::HEADER_LEN,
            le: self.little_endian,
            bad: false,
        }
    }
    pub fn tlv(&self, t: u16) -> Option<&'a [u8]> {
        self.tlvs().find(|(ty, _)| *ty == t).map(|(_, v)| v)
    }
    pub fn payload(&self) -> Option<&'a [u8]> {
        self.tlv(nflog_tlv::PAYLOAD)
    }
    /// The log prefix (rule name) without its NUL terminator.
    pub fn prefix(&self) -> Option<&'a [u8]> {
        self.tlv(nflog_tlv::PREFIX).map(|p| {
            let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
            &p[..end]
        })
    }
    pub fn hook(&self) -> Option<u8> {
        self.tlv(nflog_tlv::PACKET_HDR)
            .filter(|v| v.len() >= 3)
            .map(|v| v[2])
    }
    pub fn hw_protocol(&self) -> Option<u16> {
        self.tlv(nflog_tlv::PACKET_HDR)
            .filter(|v| v.len() >= 2)
            .map(|v| u16_at(v, 0))
    }

    /// A view of an NFLOG record (the LINKTYPE_NFLOG bytes, which are also a netlink NFLOG
    /// message without its `nlmsghdr`), with every TLV checked.
    pub fn parse(buf: &'a [u8]) -> Result<Self, &'static str> {
        if buf.len() < Self::HEADER_LEN {
            return Err("NFLOG record shorter than its 4-byte header");
        }
        Self::check(buf)
    }

    /// The kernel's timestamp, nanoseconds since the epoch (present when the kernel
    /// timestamped the packet).
    pub fn timestamp_ns(&self) -> Option<i64> {
        let v = self.tlv(nflog_tlv::TIMESTAMP).filter(|v| v.len() >= 16)?;
        let sec = i64::try_from(u64::from_be_bytes(v[0..8].try_into().ok()?)).ok()?;
        let usec = i64::try_from(u64::from_be_bytes(v[8..16].try_into().ok()?)).ok()?;
        sec.checked_mul(1_000_000_000)?
            .checked_add(usec.checked_mul(1000)?)
    }

    /// The per-group sequence number (present when the listener asked for it).
    pub fn seq(&self) -> Option<u32> {
        self.tlv(nflog_tlv::SEQ)
            .filter(|v| v.len() >= 4)
            .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }

    /// Checks the TLV chain; returns (view, little_endian) or the reason it is malformed.
    pub(crate) fn check(buf: &'a [u8]) -> Result<Self, &'static str> {
        for le in [true, false] {
            let view = Nflog {
                buf,
                little_endian: le,
            };
            let mut it = view.tlvs();
            for _ in it.by_ref() {}
            if !it.failed() {
                return Ok(view);
            }
        }
        Err("NFLOG TLV length runs past the end of the record")
    }
}
pub struct NflogTlvs<'a> {
    buf: &'a [u8],
    pos: usize,
    le: bool,
    bad: bool,
}
impl NflogTlvs<'_> {
    fn failed(&self) -> bool {
        self.bad
    }
}
impl<'a> Iterator for NflogTlvs<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        if rest.len() < 4 {
            self.bad = true;
            self.pos = self.buf.len();
            return None;
        }
        let (len, ty) = if self.le {
            (
                u16::from_le_bytes([rest[0], rest[1]]),
                u16::from_le_bytes([rest[2], rest[3]]),
            )
        } else {
            (
                u16::from_be_bytes([rest[0], rest[1]]),
                u16::from_be_bytes([rest[2], rest[3]]),
            )
        };
        let len = len as usize;
        if len < 4 || len > rest.len() {
            self.bad = true;
            self.pos = self.buf.len();
            return None;
        }
        let value = &rest[4..len];
        // TLVs are padded to 4 bytes; the padding of the last one may be missing.
        self.pos = (self.pos + ((len + 3) & !3)).min(self.buf.len());
        Some((ty & 0x7fff, value))
    }
}
impl<'a> Fields<'a> for Nflog<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("family", "Family", self.family(), 1));
        out(u("version", "Version", u8_at(self.buf, 1), 2));
        out(u(
            "resource_id",
            "Resource ID (group)",
            self.resource_id(),
            4,
        ));
        let end = self.buf.len();
        if let Some(p) = self.hw_protocol() {
            out(hex("hw_protocol", "Hardware protocol", p, 4, end));
        }
        if let Some(h) = self.hook() {
            out(u("hook", "Netfilter hook", h, end));
            out(name("hook_name", "Hook name", hook_name(h), end));
        }
        if let Some(p) = self.prefix() {
            out(Field::new("prefix", "Prefix", Value::Text(p), end));
        }
        for (ty, key, label) in [
            (nflog_tlv::IFINDEX_INDEV, "indev", "Input interface index"),
            (
                nflog_tlv::IFINDEX_OUTDEV,
                "outdev",
                "Output interface index",
            ),
            (nflog_tlv::MARK, "mark", "Mark"),
            (nflog_tlv::UID, "uid", "UID"),
            (nflog_tlv::GID, "gid", "GID"),
            (nflog_tlv::SEQ, "seq", "Sequence"),
        ] {
            if let Some(v) = self.tlv(ty).filter(|v| v.len() >= 4) {
                out(u(key, label, u32_at(v, 0), end));
            }
        }
        if let Some(p) = self.payload() {
            out(u("payload_len", "Payload length", p.len() as u64, end));
        }
    }
}
fn hook_name(h: u8) -> &'static str {
    match h {
        0 => "prerouting",
        1 => "input",
        2 => "forward",
        3 => "output",
        4 => "postrouting",
        _ => "unknown",
    }
}

/// BSD loopback encapsulation: NULL (0, host byte order) and LOOP (108, network order).
#[derive(Clone, Copy, Debug)]
pub struct Null<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) network_order: bool,
}
impl<'a> Null<'a> {
    pub const LEN: usize = 4;
    pub fn family(&self) -> u32 {
        let b = arr::<4>(self.buf, 0);
        if self.network_order {
            u32::from_be_bytes(b)
        } else {
            // Host order of the writer is unknown: a family is a small number, so the
            // order that gives one is right.
            let le = u32::from_le_bytes(b);
            if le < 0x1_0000 {
                le
            } else {
                u32::from_be_bytes(b)
            }
        }
    }
}
impl<'a> Fields<'a> for Null<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("family", "Family", self.family(), 4));
    }
}

/// OpenBSD pflog header (LINKTYPE_PFLOG, 117).
#[derive(Clone, Copy, Debug)]
pub struct Pflog<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Pflog<'a> {
    pub const MIN_LEN: usize = 61;
    /// Header length on the wire: the length byte rounded up to 4.
    pub fn header_len(&self) -> usize {
        (u8_at(self.buf, 0) as usize + 3) & !3
    }
    pub fn af(&self) -> u8 {
        u8_at(self.buf, 1)
    }
}
fn nul_trimmed(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}
impl<'a> Fields<'a> for Pflog<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        out(u("length", "Header length", u8_at(self.buf, 0), 1));
        out(u("af", "Address family", self.af(), 2));
        let action = u8_at(self.buf, 2);
        out(u("action", "Action", action, 3));
        out(name(
            "action_name",
            "Action name",
            match action {
                0 => "pass",
                1 => "block",
                2 => "scrub",
                4 => "nat",
                6 => "binat",
                8 => "rdr",
                _ => "other",
            },
            3,
        ));
        out(u("reason", "Reason", u8_at(self.buf, 3), 4));
        out(Field::new(
            "ifname",
            "Interface",
            Value::Text(nul_trimmed(sub(self.buf, 4, 20))),
            20,
        ));
        out(Field::new(
            "ruleset",
            "Ruleset",
            Value::Text(nul_trimmed(sub(self.buf, 20, 36))),
            36,
        ));
        out(Field::new(
            "rulenr",
            "Rule number",
            Value::U(u32_at(self.buf, 36) as i32 as i64 as u64 & 0xffff_ffff),
            40,
        ));
        out(u("subrulenr", "Subrule number", u32_at(self.buf, 40), 44));
        let dir = u8_at(self.buf, 60);
        out(u("dir", "Direction", dir, 61));
        out(name(
            "dir_name",
            "Direction name",
            match dir {
                1 => "in",
                2 => "out",
                _ => "inout",
            },
            61,
        ));
    }
}

/// PPP header (as carried by PPTP GRE, LINKTYPE_PPP or GRE 0x880B): optional FF 03
/// address/control, then a 1- or 2-byte protocol (protocol-field compression).
#[derive(Clone, Copy, Debug)]
pub struct Ppp<'a> {
    pub(crate) buf: &'a [u8],
}
impl<'a> Ppp<'a> {
    /// Returns the header length, or None when it does not fit.
    pub(crate) fn header_len(b: &[u8]) -> Option<usize> {
        let ac = if b.len() >= 2 && b[0] == 0xff && b[1] == 0x03 {
            2
        } else {
            0
        };
        let first = *b.get(ac)?;
        let plen = if first & 1 == 1 { 1 } else { 2 };
        (b.len() >= ac + plen).then_some(ac + plen)
    }
    pub fn has_address_control(&self) -> bool {
        self.buf.len() >= 3 && self.buf[0] == 0xff && self.buf[1] == 0x03
    }
    pub fn protocol(&self) -> u16 {
        let off = if self.has_address_control() { 2 } else { 0 };
        if u8_at(self.buf, off) & 1 == 1 {
            u8_at(self.buf, off) as u16
        } else {
            u16_at(self.buf, off)
        }
    }
}
pub fn ppp_protocol_name(p: u16) -> &'static str {
    match p {
        0x0021 => "ipv4",
        0x0057 => "ipv6",
        0x0281 => "mpls",
        0xc021 => "lcp",
        0xc023 => "pap",
        0xc223 => "chap",
        0x8021 => "ipcp",
        0x8057 => "ipv6cp",
        0x80fd => "ccp",
        0x00fd => "compressed",
        _ => "unknown",
    }
}
impl<'a> Fields<'a> for Ppp<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        let end = self.buf.len();
        if self.has_address_control() {
            out(hex("address", "Address", 0xffu8, 2, 1));
            out(hex("control", "Control", 0x03u8, 2, 2));
        }
        let p = self.protocol();
        out(hex("protocol", "Protocol", p, 4, end));
        out(name(
            "protocol_name",
            "Protocol name",
            ppp_protocol_name(p),
            end,
        ));
    }
}

// What the protocol table (`proto.rs`) and the dissection's slots need of each view.

impl<'a> View<'a> for Ethernet<'a> {
    const PROTO: Proto = Proto::Eth;
    const NAME: &'static str = "eth";
    const TITLE: &'static str = "Ethernet II";
    const FIELDS: &'static [&'static str] = &["dst", "src", "type", "length"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Ethernet { buf }
    }
}

impl<'a> View<'a> for Llc<'a> {
    const PROTO: Proto = Proto::Llc;
    const NAME: &'static str = "llc";
    const TITLE: &'static str = "Logical-Link Control";
    const FIELDS: &'static [&'static str] = &["dsap", "ssap", "control", "oui", "type"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Llc { buf }
    }
}

impl<'a> View<'a> for Vlan<'a> {
    const PROTO: Proto = Proto::Vlan;
    const NAME: &'static str = "vlan";
    const TITLE: &'static str = "802.1Q Virtual LAN";
    const FIELDS: &'static [&'static str] = &["pcp", "dei", "id", "type"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Vlan { buf }
    }
}

impl<'a> View<'a> for Mpls<'a> {
    const PROTO: Proto = Proto::Mpls;
    const NAME: &'static str = "mpls";
    const TITLE: &'static str = "MultiProtocol Label Switching";
    const FIELDS: &'static [&'static str] = &["label", "tc", "bottom", "ttl"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Mpls { buf }
    }
}

impl<'a> View<'a> for Sll<'a> {
    const PROTO: Proto = Proto::Sll;
    const NAME: &'static str = "sll";
    const TITLE: &'static str = "Linux cooked capture v1";
    const FIELDS: &'static [&'static str] = &[
        "pkttype",
        "direction",
        "hatype",
        "halen",
        "addr",
        "protocol",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Sll { buf }
    }
}

impl<'a> View<'a> for Sll2<'a> {
    const PROTO: Proto = Proto::Sll2;
    const NAME: &'static str = "sll2";
    const TITLE: &'static str = "Linux cooked capture v2";
    const FIELDS: &'static [&'static str] = &[
        "protocol",
        "ifindex",
        "hatype",
        "pkttype",
        "direction",
        "halen",
        "addr",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Sll2 { buf }
    }
}

impl<'a> View<'a> for Nflog<'a> {
    const PROTO: Proto = Proto::Nflog;
    const NAME: &'static str = "nflog";
    const TITLE: &'static str = "Linux netfilter NFLOG";
    const FIELDS: &'static [&'static str] = &[
        "family",
        "version",
        "resource_id",
        "hw_protocol",
        "hook",
        "hook_name",
        "prefix",
        "indev",
        "outdev",
        "mark",
        "uid",
        "gid",
        "seq",
        "payload_len",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn extra(&self) -> (u8, u16) {
        (self.little_endian as u8, 0)
    }
    fn from_slot(buf: &'a [u8], aux: u8, _hlen: u16) -> Self {
        Nflog {
            buf,
            little_endian: aux == 1,
        }
    }
}

impl<'a> View<'a> for Null<'a> {
    const PROTO: Proto = Proto::Null;
    const NAME: &'static str = "null";
    const TITLE: &'static str = "Null/Loopback";
    const FIELDS: &'static [&'static str] = &["family"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn extra(&self) -> (u8, u16) {
        (self.network_order as u8, 0)
    }
    fn from_slot(buf: &'a [u8], aux: u8, _hlen: u16) -> Self {
        Null {
            buf,
            network_order: aux == 1,
        }
    }
}

impl<'a> View<'a> for Pflog<'a> {
    const PROTO: Proto = Proto::Pflog;
    const NAME: &'static str = "pflog";
    const TITLE: &'static str = "OpenBSD packet filter log";
    const FIELDS: &'static [&'static str] = &[
        "length",
        "af",
        "action",
        "action_name",
        "reason",
        "ifname",
        "ruleset",
        "rulenr",
        "subrulenr",
        "dir",
        "dir_name",
    ];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Pflog { buf }
    }
}

impl<'a> View<'a> for Ppp<'a> {
    const PROTO: Proto = Proto::Ppp;
    const NAME: &'static str = "ppp";
    const TITLE: &'static str = "Point-to-Point Protocol";
    const FIELDS: &'static [&'static str] = &["address", "control", "protocol", "protocol_name"];
    fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    fn from_slot(buf: &'a [u8], _aux: u8, _hlen: u16) -> Self {
        Ppp { buf }
    }
}
