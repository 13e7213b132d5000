//! Zero-copy decoders for every layer noisefloor sees, from the capture's link type down
//! through any nesting of GRE, ERSPAN, PPTP, MPLS, VLAN and IP-in-IP tunnels to TCP, UDP
//! and ICMP (including the packet quoted inside ICMP errors).
//!
//! [`dissect`] walks a frame into a [`Dissection`]: a fixed-capacity list of [`Layer`]
//! views that borrow the frame. Nothing is allocated per packet. Each view checks its
//! length once; a header cut short by the snap length becomes [`Layer::Partial`] and only
//! the fields that fit are reported. Every layer reports its fields through
//! [`field::Fields`], which the verbose tree, the JSON output and the filter share.

pub mod build;
mod bytes;
pub mod checksum;
pub mod field;
pub mod filter;
pub mod gre;
pub mod ip;
pub mod link;
pub mod linktype;
pub mod observation;
pub mod prefix;
pub mod quick;
pub mod record;
pub mod render;
pub mod time;
pub mod transport;

use field::{Field, Fields};
pub use gre::{Erspan, Gre, Nhrp, Wccp};
pub use ip::{Ipv4, Ipv6};
pub use link::{Ethernet, Llc, Mpls, Nflog, Null, Pflog, Ppp, Sll, Sll2, Vlan};
pub use observation::{Action, Observation, Quoted};
pub use record::{GreFacts, GreInner, InnerIp, Tunnel, TunnelGre, Wire};
pub use transport::{Ah, Icmp, Icmpv6, Sctp, Tcp, Udp, Vxlan};

use link::ethertype as et;

/// Most layers one frame may hold; deeper frames stop with [`Stop::DepthLimit`].
pub const MAX_LAYERS: usize = 20;
/// Default limit on nested IP headers (tunnel depth), after Suricata's and Zeek's defaults.
pub const DEFAULT_MAX_IP_DEPTH: u8 = 8;

/// UDP ports whose payload is decoded as a tunnel.
pub const VXLAN_PORT: u16 = 4789;
pub const GRE_IN_UDP_PORT: u16 = 4754;

/// Protocols a layer can be; the short names form the protocols-in-frame chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Proto {
    Eth = 1,
    Llc,
    Vlan,
    Mpls,
    Sll,
    Sll2,
    Nflog,
    Null,
    Pflog,
    Ppp,
    Ip,
    Ipv6,
    Ah,
    Gre,
    Erspan,
    Wccp,
    Nhrp,
    Vxlan,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Sctp,
}

impl Proto {
    pub const ALL: [Proto; 23] = [
        Proto::Eth,
        Proto::Llc,
        Proto::Vlan,
        Proto::Mpls,
        Proto::Sll,
        Proto::Sll2,
        Proto::Nflog,
        Proto::Null,
        Proto::Pflog,
        Proto::Ppp,
        Proto::Ip,
        Proto::Ipv6,
        Proto::Ah,
        Proto::Gre,
        Proto::Erspan,
        Proto::Wccp,
        Proto::Nhrp,
        Proto::Vxlan,
        Proto::Tcp,
        Proto::Udp,
        Proto::Icmp,
        Proto::Icmpv6,
        Proto::Sctp,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Proto::Eth => "eth",
            Proto::Llc => "llc",
            Proto::Vlan => "vlan",
            Proto::Mpls => "mpls",
            Proto::Sll => "sll",
            Proto::Sll2 => "sll2",
            Proto::Nflog => "nflog",
            Proto::Null => "null",
            Proto::Pflog => "pflog",
            Proto::Ppp => "ppp",
            Proto::Ip => "ip",
            Proto::Ipv6 => "ipv6",
            Proto::Ah => "ah",
            Proto::Gre => "gre",
            Proto::Erspan => "erspan",
            Proto::Wccp => "wccp",
            Proto::Nhrp => "nhrp",
            Proto::Vxlan => "vxlan",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Sctp => "sctp",
        }
    }
    /// Every field key this layer can emit (`-V`, `--json`, filters): the filter refuses
    /// any other name instead of matching nothing. Kept with docs/dissect-json.md's table
    /// (a test decodes every fixture and checks each key it sees is listed here).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Proto::Eth => &["dst", "src", "type", "length"],
            Proto::Llc => &["dsap", "ssap", "control", "oui", "type"],
            Proto::Vlan => &["pcp", "dei", "id", "type"],
            Proto::Mpls => &["label", "tc", "bottom", "ttl"],
            Proto::Sll => &[
                "pkttype",
                "direction",
                "hatype",
                "halen",
                "addr",
                "protocol",
            ],
            Proto::Sll2 => &[
                "protocol",
                "ifindex",
                "hatype",
                "pkttype",
                "direction",
                "halen",
                "addr",
            ],
            Proto::Nflog => &[
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
            ],
            Proto::Null => &["family"],
            Proto::Pflog => &[
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
            ],
            Proto::Ppp => &["address", "control", "protocol", "protocol_name"],
            Proto::Ip => &[
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
            ],
            Proto::Ipv6 => &[
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
            ],
            Proto::Ah => &["nxt", "len", "spi", "seq"],
            Proto::Gre => &[
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
            ],
            Proto::Erspan => &[
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
            ],
            Proto::Wccp => &["d", "a", "service_id", "alt_bucket", "pri_bucket"],
            Proto::Nhrp => &[
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
            ],
            Proto::Vxlan => &["flags", "vni"],
            Proto::Tcp => &[
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
            ],
            Proto::Udp => &["sport", "dport", "len", "checksum"],
            Proto::Sctp => &["sport", "dport", "vtag", "checksum"],
            Proto::Icmp => &[
                "type",
                "type_name",
                "code",
                "checksum",
                "id",
                "seq",
                "gateway",
                "mtu",
                "pointer",
            ],
            Proto::Icmpv6 => &[
                "type",
                "type_name",
                "code",
                "checksum",
                "id",
                "seq",
                "mtu",
                "pointer",
            ],
        }
    }
    pub fn from_name(s: &str) -> Option<Proto> {
        match s {
            "ipv4" => Some(Proto::Ip),
            "ethernet" => Some(Proto::Eth),
            "icmp6" => Some(Proto::Icmpv6),
            _ => Proto::ALL.into_iter().find(|p| p.name() == s),
        }
    }
    pub fn is_ip(self) -> bool {
        matches!(self, Proto::Ip | Proto::Ipv6)
    }
}

/// One decoded layer: a view borrowing the frame.
#[derive(Clone, Copy, Debug)]
pub enum Layer<'a> {
    Eth(Ethernet<'a>),
    Llc(Llc<'a>),
    Vlan(Vlan<'a>),
    Mpls(Mpls<'a>),
    Sll(Sll<'a>),
    Sll2(Sll2<'a>),
    Nflog(Nflog<'a>),
    Null(Null<'a>),
    Pflog(Pflog<'a>),
    Ppp(Ppp<'a>),
    Ipv4(Ipv4<'a>),
    Ipv6(Ipv6<'a>),
    Ah(Ah<'a>),
    Gre(Gre<'a>),
    Erspan(Erspan<'a>),
    Wccp(Wccp<'a>),
    Nhrp(Nhrp<'a>),
    Vxlan(Vxlan<'a>),
    Tcp(Tcp<'a>),
    Udp(Udp<'a>),
    Icmp(Icmp<'a>),
    Icmpv6(Icmpv6<'a>),
    Sctp(Sctp<'a>),
    /// A header the capture cut short: the protocol, the bytes that exist, and for ERSPAN
    /// its type. Only fields that end within `bytes` are reported.
    Partial {
        proto: Proto,
        bytes: &'a [u8],
        aux: u8,
    },
}

impl<'a> Layer<'a> {
    pub fn proto(&self) -> Proto {
        match self {
            Layer::Eth(_) => Proto::Eth,
            Layer::Llc(_) => Proto::Llc,
            Layer::Vlan(_) => Proto::Vlan,
            Layer::Mpls(_) => Proto::Mpls,
            Layer::Sll(_) => Proto::Sll,
            Layer::Sll2(_) => Proto::Sll2,
            Layer::Nflog(_) => Proto::Nflog,
            Layer::Null(_) => Proto::Null,
            Layer::Pflog(_) => Proto::Pflog,
            Layer::Ppp(_) => Proto::Ppp,
            Layer::Ipv4(_) => Proto::Ip,
            Layer::Ipv6(_) => Proto::Ipv6,
            Layer::Ah(_) => Proto::Ah,
            Layer::Gre(_) => Proto::Gre,
            Layer::Erspan(_) => Proto::Erspan,
            Layer::Wccp(_) => Proto::Wccp,
            Layer::Nhrp(_) => Proto::Nhrp,
            Layer::Vxlan(_) => Proto::Vxlan,
            Layer::Tcp(_) => Proto::Tcp,
            Layer::Udp(_) => Proto::Udp,
            Layer::Icmp(_) => Proto::Icmp,
            Layer::Icmpv6(_) => Proto::Icmpv6,
            Layer::Sctp(_) => Proto::Sctp,
            Layer::Partial { proto, .. } => *proto,
        }
    }
    pub fn is_partial(&self) -> bool {
        matches!(self, Layer::Partial { .. })
    }
    /// Reports every decoded field of this layer.
    pub fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
        match self {
            Layer::Eth(v) => v.visit(out),
            Layer::Llc(v) => v.visit(out),
            Layer::Vlan(v) => v.visit(out),
            Layer::Mpls(v) => v.visit(out),
            Layer::Sll(v) => v.visit(out),
            Layer::Sll2(v) => v.visit(out),
            Layer::Nflog(v) => v.visit(out),
            Layer::Null(v) => v.visit(out),
            Layer::Pflog(v) => v.visit(out),
            Layer::Ppp(v) => v.visit(out),
            Layer::Ipv4(v) => v.visit(out),
            Layer::Ipv6(v) => v.visit(out),
            Layer::Ah(v) => v.visit(out),
            Layer::Gre(v) => v.visit(out),
            Layer::Erspan(v) => v.visit(out),
            Layer::Wccp(v) => v.visit(out),
            Layer::Nhrp(v) => v.visit(out),
            Layer::Vxlan(v) => v.visit(out),
            Layer::Tcp(v) => v.visit(out),
            Layer::Udp(v) => v.visit(out),
            Layer::Icmp(v) => v.visit(out),
            Layer::Icmpv6(v) => v.visit(out),
            Layer::Sctp(v) => v.visit(out),
            Layer::Partial { proto, bytes, aux } => visit_partial(*proto, bytes, *aux, out),
        }
    }
    /// A TCP header view, also over a truncated header that holds at least the flags.
    pub fn tcp(&self) -> Option<Tcp<'a>> {
        match self {
            Layer::Tcp(t) => Some(*t),
            Layer::Partial {
                proto: Proto::Tcp,
                bytes,
                ..
            } if bytes.len() >= 14 => Some(Tcp { buf: bytes }),
            _ => None,
        }
    }
    /// The value of one field by its key, e.g. `"dport"`.
    pub fn field(&self, key: &str) -> Option<field::Value<'a>> {
        let mut found = None;
        self.visit(&mut |f| {
            if found.is_none() && f.key == key {
                found = Some(f.value);
            }
        });
        found
    }
}

/// Views over a truncated header report only fields that end within the bytes present.
fn visit_partial<'a>(proto: Proto, b: &'a [u8], aux: u8, out: &mut dyn FnMut(Field<'a>)) {
    let avail = b.len();
    let mut keep = |f: Field<'a>| {
        if f.end <= avail {
            out(f)
        }
    };
    match proto {
        Proto::Eth => Ethernet { buf: b }.visit(&mut keep),
        Proto::Llc => Llc { buf: b }.visit(&mut keep),
        Proto::Vlan => Vlan { buf: b }.visit(&mut keep),
        Proto::Mpls => Mpls { buf: b }.visit(&mut keep),
        Proto::Sll => Sll { buf: b }.visit(&mut keep),
        Proto::Sll2 => Sll2 { buf: b }.visit(&mut keep),
        Proto::Nflog => {}
        Proto::Null => Null {
            buf: b,
            network_order: aux == 1,
        }
        .visit(&mut keep),
        Proto::Pflog => Pflog { buf: b }.visit(&mut keep),
        Proto::Ppp => Ppp { buf: b }.visit(&mut keep),
        Proto::Ip => Ipv4 { buf: b }.visit(&mut keep),
        Proto::Ipv6 => Ipv6 { buf: b }.visit(&mut keep),
        Proto::Ah => Ah { buf: b }.visit(&mut keep),
        Proto::Gre => Gre {
            buf: b,
            hlen: b.len().min(u16::MAX as usize) as u16,
            complete: false,
        }
        .visit(&mut keep),
        Proto::Erspan => Erspan { buf: b, kind: aux }.visit(&mut keep),
        Proto::Wccp => Wccp { buf: b }.visit(&mut keep),
        Proto::Nhrp => Nhrp { buf: b }.visit(&mut keep),
        Proto::Vxlan => Vxlan { buf: b }.visit(&mut keep),
        Proto::Tcp => Tcp { buf: b }.visit(&mut keep),
        Proto::Udp => Udp { buf: b }.visit(&mut keep),
        Proto::Icmp => Icmp { buf: b }.visit(&mut keep),
        Proto::Icmpv6 => Icmpv6 { buf: b }.visit(&mut keep),
        Proto::Sctp => Sctp { buf: b }.visit(&mut keep),
    }
}

/// Why decoding stopped after the last layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stop {
    /// A transport or leaf protocol was reached; [`Dissection::payload`] is its data.
    Payload,
    /// Nothing follows (GRE keepalive, IPv6 no-next-header, empty tunnel payload).
    Empty,
    UnknownLinkType(u32),
    UnknownEthertype(u16),
    UnknownIpProto(u8),
    UnknownPppProto(u16),
    /// An address family in NULL/LOOP, pflog or NFLOG that is not IP.
    UnknownFamily(u32),
    /// ERSPAN III frame type other than Ethernet or IP.
    ErspanFrameType(u8),
    /// 802.2 LLC without SNAP (STP, IPX, ...).
    Llc,
    /// An IP fragment with non-zero offset: its bytes are the middle of another
    /// packet's payload and are never decoded as a transport header.
    NonFirstFragment,
    /// A header was cut short (snap length); the last layer is partial.
    Truncated,
    /// A header is invalid (the reason names what is wrong).
    Malformed(&'static str),
    /// The nesting limit was reached.
    DepthLimit,
}

impl Stop {
    pub fn describe(&self) -> String {
        match self {
            Stop::Payload => "payload".into(),
            Stop::Empty => "no payload".into(),
            Stop::UnknownLinkType(n) => format!("link type {n} not decoded"),
            Stop::UnknownEthertype(t) => {
                format!("ethertype 0x{t:04x} ({}) not decoded", et::name(*t))
            }
            Stop::UnknownIpProto(p) => {
                format!("IP protocol {p} ({}) not decoded", ip::proto::name(*p))
            }
            Stop::UnknownPppProto(p) => format!(
                "PPP protocol 0x{p:04x} ({}) not decoded",
                link::ppp_protocol_name(*p)
            ),
            Stop::UnknownFamily(f) => format!("address family {f} not decoded"),
            Stop::ErspanFrameType(t) => format!("ERSPAN frame type {t} not decoded"),
            Stop::Llc => "802.2 LLC payload not decoded".into(),
            Stop::NonFirstFragment => "non-first fragment".into(),
            Stop::Truncated => "truncated".into(),
            Stop::Malformed(why) => format!("malformed: {why}"),
            Stop::DepthLimit => "nesting limit reached".into(),
        }
    }
    /// Short machine name used in JSON and counters.
    pub fn key(&self) -> &'static str {
        match self {
            Stop::Payload => "payload",
            Stop::Empty => "empty",
            Stop::UnknownLinkType(_) => "unknown_linktype",
            Stop::UnknownEthertype(_) => "unknown_ethertype",
            Stop::UnknownIpProto(_) => "unknown_ip_proto",
            Stop::UnknownPppProto(_) => "unknown_ppp_proto",
            Stop::UnknownFamily(_) => "unknown_family",
            Stop::ErspanFrameType(_) => "erspan_frame_type",
            Stop::Llc => "llc",
            Stop::NonFirstFragment => "fragment",
            Stop::Truncated => "truncated",
            Stop::Malformed(_) => "malformed",
            Stop::DepthLimit => "depth_limit",
        }
    }
}

/// Limits for [`dissect_with`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Most IP headers decoded in one frame (outer, tunnels and ICMP quotes together).
    pub max_ip_depth: u8,
    /// Decode VXLAN (UDP 4789) and GRE-in-UDP (UDP 4754) payloads as tunnels.
    pub udp_tunnels: bool,
}
impl Default for Options {
    fn default() -> Self {
        Options {
            max_ip_depth: DEFAULT_MAX_IP_DEPTH,
            udp_tunnels: true,
        }
    }
}

/// A layer as stored in a [`Dissection`]: which view, where its bytes are in the frame,
/// and the few values a view carries besides its bytes. 12 bytes instead of a 32-byte
/// view keeps building a dissection per packet cheap.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// `Proto as u8`, with `PARTIAL` set for a truncated header.
    kind: u8,
    /// Erspan kind, Null byte order, Nflog byte order, Gre completeness, Partial aux.
    aux: u8,
    /// GRE header length.
    hlen: u16,
    start: u32,
    len: u32,
}
const PARTIAL: u8 = 0x80;

/// The protocol stored in a slot tag (`Proto as u8`, 1-based, with the PARTIAL bit).
#[inline(always)]
fn proto_from_tag(kind: u8) -> Proto {
    Proto::ALL[((kind & !PARTIAL) as usize)
        .wrapping_sub(1)
        .min(Proto::ALL.len() - 1)]
}

/// A frame decoded into layers.
#[derive(Clone, Debug)]
pub struct Dissection<'a> {
    pub linktype: u32,
    frame: &'a [u8],
    slots: [Slot; MAX_LAYERS],
    len: usize,
    /// Bytes after the last decoded header (application data, or what was not decoded).
    pub payload: &'a [u8],
    pub stop: Stop,
    /// Index of the first layer inside an ICMP error's quoted packet.
    pub quote_start: Option<usize>,
    /// True when an IP header announced more bytes than were captured.
    pub ip_short: bool,
}

/// A run of layers of a [`Dissection`]; views are rebuilt from compact slots on access.
#[derive(Clone, Copy, Debug)]
pub struct Layers<'d, 'a> {
    d: &'d Dissection<'a>,
    from: usize,
    to: usize,
}
impl<'d, 'a> Layers<'d, 'a> {
    pub fn len(&self) -> usize {
        self.to - self.from
    }
    pub fn is_empty(&self) -> bool {
        self.to == self.from
    }
    #[inline]
    pub fn get(&self, i: usize) -> Option<Layer<'a>> {
        (i < self.len()).then(|| self.d.layer_at(self.from + i))
    }
    pub fn first(&self) -> Option<Layer<'a>> {
        self.get(0)
    }
    pub fn last(&self) -> Option<Layer<'a>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }
    pub fn iter(&self) -> LayerIter<'d, 'a> {
        LayerIter {
            d: self.d,
            front: self.from,
            back: self.to,
        }
    }
    /// Layers `from..` of this run.
    pub fn skip_to(&self, from: usize) -> Layers<'d, 'a> {
        Layers {
            d: self.d,
            from: (self.from + from).min(self.to),
            to: self.to,
        }
    }
}
impl<'d, 'a> IntoIterator for Layers<'d, 'a> {
    type Item = Layer<'a>;
    type IntoIter = LayerIter<'d, 'a>;
    fn into_iter(self) -> LayerIter<'d, 'a> {
        self.iter()
    }
}

#[derive(Clone, Debug)]
pub struct LayerIter<'d, 'a> {
    d: &'d Dissection<'a>,
    front: usize,
    back: usize,
}
impl<'a> Iterator for LayerIter<'_, 'a> {
    type Item = Layer<'a>;
    #[inline]
    fn next(&mut self) -> Option<Layer<'a>> {
        (self.front < self.back).then(|| {
            self.front += 1;
            self.d.layer_at(self.front - 1)
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}
impl DoubleEndedIterator for LayerIter<'_, '_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        (self.front < self.back).then(|| {
            self.back -= 1;
            self.d.layer_at(self.back)
        })
    }
}
impl ExactSizeIterator for LayerIter<'_, '_> {}

impl<'a> Dissection<'a> {
    #[inline(always)]
    /// An empty dissection to decode into with [`dissect_into`].
    pub fn empty() -> Self {
        Self::new(0, &[])
    }
    /// Forgets the previous packet. Slots past `len` are never read, so they stay as they are.
    #[inline(always)]
    fn reset(&mut self, linktype: u32, data: &'a [u8]) {
        self.linktype = linktype;
        self.frame = data;
        self.len = 0;
        self.payload = data;
        self.stop = Stop::Payload;
        self.quote_start = None;
        self.ip_short = false;
    }
    fn new(linktype: u32, data: &'a [u8]) -> Self {
        Dissection {
            linktype,
            frame: data,
            slots: [Slot::default(); MAX_LAYERS],
            len: 0,
            payload: data,
            stop: Stop::Payload,
            quote_start: None,
            ip_short: false,
        }
    }
    /// Rebuilds the view of layer `i` (which must be below `len`).
    #[inline]
    fn layer_at(&self, i: usize) -> Layer<'a> {
        let s = self.slots[i];
        let buf = self
            .frame
            .get(s.start as usize..(s.start + s.len) as usize)
            .unwrap_or(&[]);
        let proto = proto_from_tag(s.kind);
        if s.kind & PARTIAL != 0 {
            return Layer::Partial {
                proto,
                bytes: buf,
                aux: s.aux,
            };
        }
        match proto {
            Proto::Eth => Layer::Eth(Ethernet { buf }),
            Proto::Llc => Layer::Llc(Llc { buf }),
            Proto::Vlan => Layer::Vlan(Vlan { buf }),
            Proto::Mpls => Layer::Mpls(Mpls { buf }),
            Proto::Sll => Layer::Sll(Sll { buf }),
            Proto::Sll2 => Layer::Sll2(Sll2 { buf }),
            Proto::Nflog => Layer::Nflog(Nflog {
                buf,
                little_endian: s.aux == 1,
            }),
            Proto::Null => Layer::Null(Null {
                buf,
                network_order: s.aux == 1,
            }),
            Proto::Pflog => Layer::Pflog(Pflog { buf }),
            Proto::Ppp => Layer::Ppp(Ppp { buf }),
            Proto::Ip => Layer::Ipv4(Ipv4 { buf }),
            Proto::Ipv6 => Layer::Ipv6(Ipv6 { buf }),
            Proto::Ah => Layer::Ah(Ah { buf }),
            Proto::Gre => Layer::Gre(Gre {
                buf,
                hlen: s.hlen,
                complete: s.aux == 1,
            }),
            Proto::Erspan => Layer::Erspan(Erspan { buf, kind: s.aux }),
            Proto::Wccp => Layer::Wccp(Wccp { buf }),
            Proto::Nhrp => Layer::Nhrp(Nhrp { buf }),
            Proto::Vxlan => Layer::Vxlan(Vxlan { buf }),
            Proto::Tcp => Layer::Tcp(Tcp { buf }),
            Proto::Udp => Layer::Udp(Udp { buf }),
            Proto::Icmp => Layer::Icmp(Icmp { buf }),
            Proto::Icmpv6 => Layer::Icmpv6(Icmpv6 { buf }),
            Proto::Sctp => Layer::Sctp(Sctp { buf }),
        }
    }
    pub fn layers(&self) -> Layers<'_, 'a> {
        Layers {
            d: self,
            from: 0,
            to: self.len,
        }
    }
    /// Layers outside any ICMP quote.
    pub fn main_layers(&self) -> Layers<'_, 'a> {
        Layers {
            d: self,
            from: 0,
            to: self.quote_start.unwrap_or(self.len),
        }
    }
    /// Layers of the packet quoted in an ICMP error, if any.
    pub fn quoted_layers(&self) -> Layers<'_, 'a> {
        Layers {
            d: self,
            from: self.quote_start.unwrap_or(self.len),
            to: self.len,
        }
    }
    /// The protocol of layer `i`, without rebuilding its view.
    #[inline]
    pub fn proto_at(&self, i: usize) -> Option<Proto> {
        (i < self.len).then(|| proto_from_tag(self.slots[i].kind))
    }
    pub fn has(&self, p: Proto) -> bool {
        (0..self.len).any(|i| self.proto_at(i) == Some(p))
    }
    /// True when a header of the frame itself (not of an ICMP quote) was cut short.
    pub fn is_truncated(&self) -> bool {
        self.stop == Stop::Truncated && self.quote_start.is_none_or(|q| self.len <= q)
    }
    pub fn is_malformed(&self) -> bool {
        matches!(self.stop, Stop::Malformed(_))
    }
    #[inline(always)]
    fn push(&mut self, l: Layer<'a>) -> bool {
        if self.len == MAX_LAYERS {
            self.stop = Stop::DepthLimit;
            return false;
        }
        let (bytes, aux, hlen) = match l {
            Layer::Eth(v) => (v.buf, 0, 0),
            Layer::Llc(v) => (v.buf, 0, 0),
            Layer::Vlan(v) => (v.buf, 0, 0),
            Layer::Mpls(v) => (v.buf, 0, 0),
            Layer::Sll(v) => (v.buf, 0, 0),
            Layer::Sll2(v) => (v.buf, 0, 0),
            Layer::Nflog(v) => (v.buf, v.little_endian as u8, 0),
            Layer::Null(v) => (v.buf, v.network_order as u8, 0),
            Layer::Pflog(v) => (v.buf, 0, 0),
            Layer::Ppp(v) => (v.buf, 0, 0),
            Layer::Ipv4(v) => (v.buf, 0, 0),
            Layer::Ipv6(v) => (v.buf, 0, 0),
            Layer::Ah(v) => (v.buf, 0, 0),
            Layer::Gre(v) => (v.buf, v.complete as u8, v.hlen),
            Layer::Erspan(v) => (v.buf, v.kind, 0),
            Layer::Wccp(v) => (v.buf, 0, 0),
            Layer::Nhrp(v) => (v.buf, 0, 0),
            Layer::Vxlan(v) => (v.buf, 0, 0),
            Layer::Tcp(v) => (v.buf, 0, 0),
            Layer::Udp(v) => (v.buf, 0, 0),
            Layer::Icmp(v) => (v.buf, 0, 0),
            Layer::Icmpv6(v) => (v.buf, 0, 0),
            Layer::Sctp(v) => (v.buf, 0, 0),
            Layer::Partial { bytes, aux, .. } => (bytes, aux, 0),
        };
        // Every view is a sub-slice of the frame (NFLOG's payload too), so its position
        // is the distance between the two starts.
        let start = (bytes.as_ptr() as usize).wrapping_sub(self.frame.as_ptr() as usize);
        let kind = l.proto() as u8 | if l.is_partial() { PARTIAL } else { 0 };
        self.slots[self.len] = Slot {
            kind,
            aux,
            hlen,
            start: start as u32,
            len: bytes.len() as u32,
        };
        self.len += 1;
        true
    }
    /// The outermost IP header.
    pub fn outer_ip(&self) -> Option<IpRef<'a>> {
        self.outer_ip_index()
            .and_then(|i| IpRef::from_layer(&self.layer_at(i)))
    }
    /// Position of the outermost (complete) IP layer outside quotes.
    pub fn outer_ip_index(&self) -> Option<usize> {
        let end = self.quote_start.unwrap_or(self.len);
        (0..end).find(|&i| {
            self.proto_at(i).is_some_and(Proto::is_ip) && self.slots[i].kind & PARTIAL == 0
        })
    }
    /// The innermost IP header outside any ICMP quote.
    pub fn inner_ip(&self) -> Option<IpRef<'a>> {
        self.main_layers()
            .iter()
            .rev()
            .find_map(|l| IpRef::from_layer(&l))
    }
    /// Position of the innermost IP layer outside quotes.
    pub fn inner_ip_index(&self) -> Option<usize> {
        let end = self.quote_start.unwrap_or(self.len);
        (0..end).rev().find(|&i| {
            self.proto_at(i).is_some_and(Proto::is_ip) && self.slots[i].kind & PARTIAL == 0
        })
    }
    /// The transport layer following the innermost IP header.
    pub fn transport(&self) -> Option<Layer<'a>> {
        let i = self.inner_ip_index()?;
        self.main_layers().get(i + 1).filter(|l| {
            matches!(
                l.proto(),
                Proto::Tcp | Proto::Udp | Proto::Icmp | Proto::Icmpv6 | Proto::Sctp
            )
        })
    }
    /// The first GRE layer.
    pub fn gre(&self) -> Option<Gre<'a>> {
        self.layers()
            .iter()
            .find_map(|l| if let Layer::Gre(g) = l { Some(g) } else { None })
    }
    /// Number of IP headers outside quotes minus one: how deep the innermost packet is tunnelled.
    pub fn tunnel_depth(&self) -> usize {
        let end = self.quote_start.unwrap_or(self.len);
        (0..end)
            .filter(|&i| self.proto_at(i).is_some_and(Proto::is_ip))
            .count()
            .saturating_sub(1)
    }
    /// The protocols-in-frame chain, e.g. `eth:ip:gre:ip:udp`.
    pub fn chain(&self, out: &mut String) {
        for i in 0..self.len {
            if i > 0 {
                out.push(':');
            }
            out.push_str(self.proto_at(i).map_or("?", Proto::name));
        }
    }
    /// The chain as an exact integer key (5 bits per layer), for counting without allocation.
    pub fn chain_key(&self) -> u128 {
        self.slots[..self.len]
            .iter()
            .fold(0u128, |k, s| (k << 5) | (s.kind & !PARTIAL) as u128)
    }
}

/// Decodes a chain key back into its protocol names.
pub fn chain_from_key(mut key: u128) -> String {
    let mut protos = Vec::new();
    while key != 0 {
        let p = (key & 31) as u8;
        protos.push(
            Proto::ALL
                .iter()
                .find(|x| **x as u8 == p)
                .map_or("?", |x| x.name()),
        );
        key >>= 5;
    }
    protos.reverse();
    protos.join(":")
}

/// An IPv4 or IPv6 header, for code that treats both alike.
#[derive(Clone, Copy, Debug)]
pub enum IpRef<'a> {
    V4(Ipv4<'a>),
    V6(Ipv6<'a>),
}
impl<'a> IpRef<'a> {
    pub fn from_layer(l: &Layer<'a>) -> Option<Self> {
        match l {
            Layer::Ipv4(v) => Some(IpRef::V4(*v)),
            Layer::Ipv6(v) => Some(IpRef::V6(*v)),
            _ => None,
        }
    }
    pub fn src(&self) -> std::net::IpAddr {
        match self {
            IpRef::V4(v) => std::net::IpAddr::from(v.src()),
            IpRef::V6(v) => std::net::IpAddr::from(v.src()),
        }
    }
    pub fn dst(&self) -> std::net::IpAddr {
        match self {
            IpRef::V4(v) => std::net::IpAddr::from(v.dst()),
            IpRef::V6(v) => std::net::IpAddr::from(v.dst()),
        }
    }
    pub fn protocol(&self) -> u8 {
        match self {
            IpRef::V4(v) => v.protocol(),
            IpRef::V6(v) => v.upper_protocol(),
        }
    }
}

/// Decodes `data` captured with `linktype` using default limits.
pub fn dissect(linktype: u32, data: &[u8]) -> Dissection<'_> {
    dissect_with(&Options::default(), linktype, data)
}

#[derive(Clone, Copy)]
enum Next {
    Link(u32),
    Ether(u16),
    Ethernet,
    Ipv4,
    Ipv6,
    IpAny,
    IpProto(u8),
    Gre,
    Ppp,
    Mpls,
}

/// Decodes `data` captured with `linktype`.
///
/// Always inlined: otherwise the result is built in this frame and copied out with a
/// `memcpy` per packet (measured: ~10 % of the decode loop). Loops over many packets
/// should prefer [`dissect_into`], which has no result to move at all.
#[inline(always)]
pub fn dissect_with<'a>(opts: &Options, linktype: u32, data: &'a [u8]) -> Dissection<'a> {
    let mut d = Dissection::new(linktype, data);
    dissect_into(&mut d, opts, linktype, data);
    d
}

/// Decodes `data` into `d`, replacing what it held. One `Dissection` reused across a loop
/// is neither built nor moved per packet: the returned value of [`dissect_with`] still
/// costs a 328-byte copy when the caller's frame keeps it (measured: 7–10 % of decoding).
#[inline(always)]
pub fn dissect_into<'a>(d: &mut Dissection<'a>, opts: &Options, linktype: u32, data: &'a [u8]) {
    d.reset(linktype, data);
    let mut b: &'a [u8] = data;
    let mut next = Next::Link(linktype);
    let mut ip_depth = 0u8;
    macro_rules! partial {
        ($proto:expr, $aux:expr) => {{
            d.push(Layer::Partial {
                proto: $proto,
                bytes: b,
                aux: $aux,
            });
            d.stop = Stop::Truncated;
            break;
        }};
    }
    macro_rules! stop {
        ($s:expr) => {{
            d.stop = $s;
            break;
        }};
    }
    macro_rules! push {
        ($l:expr) => {
            if !d.push($l) {
                break;
            }
        };
    }
    loop {
        next = match next {
            Next::Link(lt) => match lt {
                linktype::ETHERNET => Next::Ethernet,
                linktype::RAW | linktype::RAW_BSD12 | linktype::RAW_OPENBSD14 => Next::IpAny,
                linktype::IPV4 => Next::Ipv4,
                linktype::IPV6 => Next::Ipv6,
                linktype::LINUX_SLL => {
                    if b.len() < Sll::LEN {
                        partial!(Proto::Sll, 0)
                    }
                    let v = Sll {
                        buf: &b[..Sll::LEN],
                    };
                    push!(Layer::Sll(v));
                    b = &b[Sll::LEN..];
                    match cooked_next(v.protocol()) {
                        Some(n) => n,
                        None => stop!(Stop::UnknownEthertype(v.protocol())),
                    }
                }
                linktype::LINUX_SLL2 => {
                    if b.len() < Sll2::LEN {
                        partial!(Proto::Sll2, 0)
                    }
                    let v = Sll2 {
                        buf: &b[..Sll2::LEN],
                    };
                    push!(Layer::Sll2(v));
                    b = &b[Sll2::LEN..];
                    match cooked_next(v.protocol()) {
                        Some(n) => n,
                        None => stop!(Stop::UnknownEthertype(v.protocol())),
                    }
                }
                linktype::NFLOG => {
                    if b.len() < Nflog::HEADER_LEN {
                        partial!(Proto::Nflog, 0)
                    }
                    let v = match Nflog::check(b) {
                        Ok(v) => v,
                        Err(why) => stop!(Stop::Malformed(why)),
                    };
                    push!(Layer::Nflog(v));
                    match v.payload() {
                        Some(p) if !p.is_empty() => {
                            b = p;
                            match v.family() {
                                2 => Next::Ipv4,
                                10 => Next::Ipv6,
                                _ => Next::IpAny,
                            }
                        }
                        _ => {
                            b = &b[b.len()..];
                            stop!(Stop::Empty)
                        }
                    }
                }
                linktype::NULL | linktype::LOOP => {
                    let aux = (lt == linktype::LOOP) as u8;
                    if b.len() < Null::LEN {
                        partial!(Proto::Null, aux)
                    }
                    let v = Null {
                        buf: &b[..4],
                        network_order: lt == linktype::LOOP,
                    };
                    push!(Layer::Null(v));
                    b = &b[4..];
                    match v.family() {
                        2 => Next::Ipv4,
                        10 | 24 | 28 | 30 => Next::Ipv6,
                        f => stop!(Stop::UnknownFamily(f)),
                    }
                }
                linktype::PFLOG => {
                    if b.len() < Pflog::MIN_LEN {
                        partial!(Proto::Pflog, 0)
                    }
                    let v = Pflog { buf: b };
                    let hl = v.header_len();
                    if hl < Pflog::MIN_LEN {
                        stop!(Stop::Malformed("pflog header length below 61"))
                    }
                    if b.len() < hl {
                        partial!(Proto::Pflog, 0)
                    }
                    let v = Pflog { buf: &b[..hl] };
                    push!(Layer::Pflog(v));
                    b = &b[hl..];
                    match v.af() {
                        2 => Next::Ipv4,
                        10 | 24 | 28 | 30 => Next::Ipv6,
                        f => stop!(Stop::UnknownFamily(f as u32)),
                    }
                }
                linktype::PPP | linktype::PPP_HDLC => Next::Ppp,
                other => stop!(Stop::UnknownLinkType(other)),
            },
            Next::Ethernet => {
                if b.len() < Ethernet::LEN {
                    partial!(Proto::Eth, 0)
                }
                let v = Ethernet {
                    buf: &b[..Ethernet::LEN],
                };
                push!(Layer::Eth(v));
                b = &b[Ethernet::LEN..];
                let t = v.ethertype();
                if t <= 1500 {
                    // 802.3 length: trim padding, then LLC (and SNAP).
                    b = &b[..(t as usize).min(b.len())];
                    if b.len() < 3 {
                        partial!(Proto::Llc, 0)
                    }
                    let snap = b.len() >= 8 && b[0] == 0xaa && b[1] == 0xaa;
                    let hl = if snap { 8 } else { 3 };
                    let v = Llc { buf: &b[..hl] };
                    push!(Layer::Llc(v));
                    b = &b[hl..];
                    match v.snap_type() {
                        Some(t) => Next::Ether(t),
                        None => stop!(Stop::Llc),
                    }
                } else {
                    Next::Ether(t)
                }
            }
            Next::Ether(t) => match t {
                et::IPV4 => Next::Ipv4,
                et::IPV6 => Next::Ipv6,
                et::VLAN | et::QINQ | et::QINQ_OLD => {
                    if b.len() < Vlan::LEN {
                        partial!(Proto::Vlan, 0)
                    }
                    let v = Vlan {
                        buf: &b[..Vlan::LEN],
                    };
                    push!(Layer::Vlan(v));
                    b = &b[Vlan::LEN..];
                    Next::Ether(v.ethertype())
                }
                et::MPLS | et::MPLS_MCAST => Next::Mpls,
                et::TEB => Next::Ethernet,
                et::PPP => Next::Ppp,
                other => stop!(Stop::UnknownEthertype(other)),
            },
            Next::Mpls => {
                if b.len() < Mpls::LEN {
                    partial!(Proto::Mpls, 0)
                }
                let v = Mpls {
                    buf: &b[..Mpls::LEN],
                };
                push!(Layer::Mpls(v));
                b = &b[Mpls::LEN..];
                if !v.bottom() {
                    Next::Mpls
                } else {
                    match b.first().map(|x| x >> 4) {
                        None => stop!(Stop::Empty),
                        Some(4) => Next::Ipv4,
                        Some(6) => Next::Ipv6,
                        // A zero nibble is the pseudowire control word before Ethernet.
                        Some(0) if b.len() >= 4 => {
                            b = &b[4..];
                            Next::Ethernet
                        }
                        Some(_) => Next::Ethernet,
                    }
                }
            }
            Next::IpAny => match b.first().map(|x| x >> 4) {
                None => stop!(Stop::Truncated),
                Some(4) => Next::Ipv4,
                Some(6) => Next::Ipv6,
                Some(_) => stop!(Stop::Malformed("IP version is neither 4 nor 6")),
            },
            Next::Ipv4 => {
                if b.is_empty() {
                    partial!(Proto::Ip, 0)
                }
                if b[0] >> 4 != 4 {
                    stop!(Stop::Malformed(
                        "IP version is not 4 where IPv4 was expected"
                    ))
                }
                if ip_depth >= opts.max_ip_depth {
                    stop!(Stop::DepthLimit)
                }
                if b.len() < Ipv4::MIN_LEN {
                    partial!(Proto::Ip, 0)
                }
                let hl = ((b[0] & 0x0f) as usize) * 4;
                if hl < Ipv4::MIN_LEN {
                    stop!(Stop::Malformed("IPv4 header length below 20"))
                }
                if b.len() < hl {
                    partial!(Proto::Ip, 0)
                }
                let v = Ipv4 { buf: &b[..hl] };
                let total = v.total_len() as usize;
                let packet = if total == 0 {
                    // TCP segmentation offload leaves the length zero: take what was captured.
                    b
                } else if total < hl {
                    stop!(Stop::Malformed("IPv4 total length below header length"))
                } else if total > b.len() {
                    d.ip_short = true;
                    b
                } else {
                    &b[..total]
                };
                push!(Layer::Ipv4(v));
                ip_depth += 1;
                b = &packet[hl..];
                if v.frag_offset() != 0 {
                    stop!(Stop::NonFirstFragment)
                }
                Next::IpProto(v.protocol())
            }
            Next::Ipv6 => {
                if b.is_empty() {
                    partial!(Proto::Ipv6, 0)
                }
                if b[0] >> 4 != 6 {
                    stop!(Stop::Malformed(
                        "IP version is not 6 where IPv6 was expected"
                    ))
                }
                if ip_depth >= opts.max_ip_depth {
                    stop!(Stop::DepthLimit)
                }
                if b.len() < Ipv6::LEN {
                    partial!(Proto::Ipv6, 0)
                }
                let plen = u16::from_be_bytes([b[4], b[5]]) as usize;
                let packet = if plen == 0 {
                    // Jumbogram or offload: take what was captured.
                    b
                } else if Ipv6::LEN + plen > b.len() {
                    d.ip_short = true;
                    b
                } else {
                    &b[..Ipv6::LEN + plen]
                };
                let mut pos = Ipv6::LEN;
                let mut nh = b[6];
                let mut frag_offset = 0u16;
                let mut cut = false;
                while ip::is_extension(nh) {
                    let rest = &packet[pos..];
                    match ip::extension_len(nh, rest) {
                        Some(l) if l <= rest.len() => {
                            if nh == ip::proto::FRAGMENT {
                                frag_offset = u16::from_be_bytes([rest[2], rest[3]]) & 0xfff8;
                            }
                            nh = rest[0];
                            pos += l;
                        }
                        _ => {
                            cut = true;
                            break;
                        }
                    }
                }
                push!(Layer::Ipv6(Ipv6 {
                    buf: &packet[..pos]
                }));
                ip_depth += 1;
                b = &packet[pos..];
                if cut {
                    stop!(Stop::Truncated)
                }
                if frag_offset != 0 {
                    stop!(Stop::NonFirstFragment)
                }
                Next::IpProto(nh)
            }
            Next::IpProto(p) => match p {
                ip::proto::TCP => {
                    if b.len() < Tcp::MIN_LEN {
                        partial!(Proto::Tcp, 0)
                    }
                    let hl = ((b[12] >> 4) as usize) * 4;
                    if hl < Tcp::MIN_LEN {
                        d.push(Layer::Tcp(Tcp {
                            buf: &b[..Tcp::MIN_LEN],
                        }));
                        b = &b[Tcp::MIN_LEN..];
                        stop!(Stop::Malformed("TCP data offset below 5"))
                    }
                    if b.len() < hl {
                        partial!(Proto::Tcp, 0)
                    }
                    push!(Layer::Tcp(Tcp { buf: &b[..hl] }));
                    b = &b[hl..];
                    stop!(Stop::Payload)
                }
                ip::proto::UDP => {
                    if b.len() < Udp::LEN {
                        partial!(Proto::Udp, 0)
                    }
                    let v = Udp {
                        buf: &b[..Udp::LEN],
                    };
                    push!(Layer::Udp(v));
                    b = &b[Udp::LEN..];
                    let in_quote = d.quote_start.is_some();
                    if opts.udp_tunnels && !in_quote {
                        // Random probe payloads hit these ports too: require the bits the
                        // tunnel protocols fix (VXLAN: I flag, reserved byte 7 zero; GRE:
                        // version 0, reserved flags zero, a payload type a tunnel carries).
                        if v.dst_port() == VXLAN_PORT
                            && b.len() >= Vxlan::LEN + Ethernet::LEN
                            && b[0] & 0x08 != 0
                            && b[7] == 0
                        {
                            push!(Layer::Vxlan(Vxlan {
                                buf: &b[..Vxlan::LEN]
                            }));
                            b = &b[Vxlan::LEN..];
                            Next::Ethernet
                        } else if v.dst_port() == GRE_IN_UDP_PORT
                            && b.len() >= Gre::MIN_LEN
                            && b[1] == 0
                            && b[0] & 0x47 == 0
                            && matches!(
                                u16::from_be_bytes([b[2], b[3]]),
                                et::IPV4 | et::IPV6 | et::TEB | et::MPLS | et::MPLS_MCAST
                            )
                        {
                            Next::Gre
                        } else {
                            stop!(Stop::Payload)
                        }
                    } else {
                        stop!(Stop::Payload)
                    }
                }
                ip::proto::ICMP => {
                    if b.len() < Icmp::LEN {
                        partial!(Proto::Icmp, 0)
                    }
                    let v = Icmp {
                        buf: &b[..Icmp::LEN],
                    };
                    push!(Layer::Icmp(v));
                    b = &b[Icmp::LEN..];
                    if v.is_error() && d.quote_start.is_none() && !b.is_empty() {
                        d.quote_start = Some(d.len);
                        Next::IpAny
                    } else {
                        stop!(Stop::Payload)
                    }
                }
                ip::proto::ICMPV6 => {
                    if b.len() < Icmpv6::LEN {
                        partial!(Proto::Icmpv6, 0)
                    }
                    let v = Icmpv6 {
                        buf: &b[..Icmpv6::LEN],
                    };
                    push!(Layer::Icmpv6(v));
                    b = &b[Icmpv6::LEN..];
                    if v.is_error() && d.quote_start.is_none() && !b.is_empty() {
                        d.quote_start = Some(d.len);
                        Next::IpAny
                    } else {
                        stop!(Stop::Payload)
                    }
                }
                ip::proto::SCTP => {
                    if b.len() < Sctp::LEN {
                        partial!(Proto::Sctp, 0)
                    }
                    push!(Layer::Sctp(Sctp {
                        buf: &b[..Sctp::LEN]
                    }));
                    b = &b[Sctp::LEN..];
                    stop!(Stop::Payload)
                }
                ip::proto::GRE => Next::Gre,
                ip::proto::IPIP => Next::Ipv4,
                ip::proto::IPV6 => Next::Ipv6,
                ip::proto::AH => {
                    let l = match ip::extension_len(ip::proto::AH, b) {
                        Some(l) if l >= 12 && l <= b.len() => l,
                        _ => partial!(Proto::Ah, 0),
                    };
                    let v = Ah { buf: &b[..l] };
                    push!(Layer::Ah(v));
                    b = &b[l..];
                    Next::IpProto(v.next_header())
                }
                ip::proto::NONE => stop!(Stop::Empty),
                other => stop!(Stop::UnknownIpProto(other)),
            },
            Next::Gre => {
                let hl = match Gre::header_len(b) {
                    Ok(l) => l,
                    Err(gre::GreError::Truncated) => partial!(Proto::Gre, 0),
                    Err(gre::GreError::BadRouting) => {
                        stop!(Stop::Malformed("GRE source route list too long"))
                    }
                };
                let v = Gre {
                    buf: b,
                    hlen: hl as u16,
                    complete: !d.ip_short,
                };
                push!(Layer::Gre(v));
                b = &b[hl..];
                if v.version() == 1 {
                    if v.protocol() != et::PPP {
                        stop!(Stop::UnknownEthertype(v.protocol()))
                    }
                    if b.is_empty() {
                        // PPTP acknowledgement-only packet.
                        stop!(Stop::Empty)
                    }
                    Next::Ppp
                } else if v.version() != 0 {
                    stop!(Stop::Malformed("GRE version other than 0 or 1"))
                } else if b.is_empty() {
                    stop!(Stop::Empty)
                } else {
                    match v.protocol() {
                        et::IPV4 => Next::Ipv4,
                        et::IPV6 => Next::Ipv6,
                        et::TEB => Next::Ethernet,
                        et::MPLS | et::MPLS_MCAST => Next::Mpls,
                        et::PPP => Next::Ppp,
                        et::ERSPAN_I_II => {
                            let kind = if v.seq().is_some() { 2 } else { 1 };
                            let hl = match Erspan::header_len(kind, b) {
                                Some(l) => l,
                                None => partial!(Proto::Erspan, kind),
                            };
                            push!(Layer::Erspan(Erspan {
                                buf: &b[..hl],
                                kind
                            }));
                            b = &b[hl..];
                            Next::Ethernet
                        }
                        et::ERSPAN_III => {
                            let hl = match Erspan::header_len(3, b) {
                                Some(l) => l,
                                None => partial!(Proto::Erspan, 3),
                            };
                            let v = Erspan {
                                buf: &b[..hl],
                                kind: 3,
                            };
                            push!(Layer::Erspan(v));
                            b = &b[hl..];
                            match v.frame_type() {
                                0 => Next::Ethernet,
                                2 => Next::IpAny,
                                ft => stop!(Stop::ErspanFrameType(ft)),
                            }
                        }
                        et::WCCP => {
                            // WCCPv1 puts the IP header right after GRE; v2 adds a 4-byte header.
                            if b[0] >> 4 == 4 {
                                Next::Ipv4
                            } else {
                                if b.len() < Wccp::LEN {
                                    partial!(Proto::Wccp, 0)
                                }
                                push!(Layer::Wccp(Wccp {
                                    buf: &b[..Wccp::LEN]
                                }));
                                b = &b[Wccp::LEN..];
                                Next::IpAny
                            }
                        }
                        et::NHRP => {
                            if b.len() < Nhrp::FIXED_LEN {
                                partial!(Proto::Nhrp, 0)
                            }
                            push!(Layer::Nhrp(Nhrp { buf: b }));
                            b = &b[b.len()..];
                            stop!(Stop::Payload)
                        }
                        other => stop!(Stop::UnknownEthertype(other)),
                    }
                }
            }
            Next::Ppp => {
                let hl = match Ppp::header_len(b) {
                    Some(l) => l,
                    None => partial!(Proto::Ppp, 0),
                };
                let v = Ppp { buf: &b[..hl] };
                push!(Layer::Ppp(v));
                b = &b[hl..];
                match v.protocol() {
                    0x0021 => Next::Ipv4,
                    0x0057 => Next::Ipv6,
                    0x0281 | 0x0283 => Next::Mpls,
                    // Link control, authentication and compression: PPP's own leaf protocols.
                    0xc021 | 0xc023 | 0xc223 | 0x8021 | 0x8057 | 0x80fd | 0x00fd => {
                        stop!(Stop::Payload)
                    }
                    p => stop!(Stop::UnknownPppProto(p)),
                }
            }
        };
    }
    d.payload = b;
}

/// What follows a Linux cooked header with the given protocol field.
fn cooked_next(p: u16) -> Option<Next> {
    match p {
        et::IPV4 => Some(Next::Ipv4),
        et::IPV6 => Some(Next::Ipv6),
        et::VLAN | et::QINQ | et::QINQ_OLD | et::MPLS | et::MPLS_MCAST | et::PPP => {
            Some(Next::Ether(p))
        }
        _ => None,
    }
}

#[cfg(test)]
mod size_tests {
    /// The dissection is built per packet; keep it small enough to stay cheap to create.
    #[test]
    fn dissection_stays_small() {
        assert!(
            std::mem::size_of::<super::Dissection>() <= 360,
            "{}",
            std::mem::size_of::<super::Dissection>()
        );
    }
}
