//! Why decoding a frame stopped, and the limits it decodes under.

use crate::link::ethertype as et;
use crate::{DEFAULT_MAX_IP_DEPTH, ip, link};

/// Why decoding stopped after the last layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stop {
    /// A transport or leaf protocol was reached; [`crate::Dissection::payload`] is its data.
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

/// Limits for [`crate::dissect_with`].
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
