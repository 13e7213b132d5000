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
mod dissect;
mod dissection;
pub mod field;
pub mod filter;
pub mod gre;
pub mod ip;
pub mod link;
pub mod linktype;
pub mod observation;
pub mod prefix;
mod proto;
pub mod quick;
pub mod record;
pub mod render;
mod stop;
pub mod time;
pub mod transport;
pub mod view;

pub use dissect::{dissect, dissect_into, dissect_with};
pub use dissection::{Dissection, IpRef, LayerIter, Layers, chain_from_key};
pub use gre::{Erspan, Gre, Nhrp, Wccp};
pub use ip::{Ipv4, Ipv6};
pub use link::{Ethernet, Llc, Mpls, Nflog, Null, Pflog, Ppp, Sll, Sll2, Vlan};
pub use observation::{Action, Observation, Quoted};
pub use proto::{Layer, Proto};
pub use record::{GreFacts, GreInner, InnerIp, Tunnel, TunnelGre, Wire};
pub use stop::{Options, Stop};
pub use transport::{Ah, Icmp, Icmpv6, Sctp, Tcp, Udp, Vxlan};

/// Most layers one frame may hold; deeper frames stop with [`Stop::DepthLimit`].
pub const MAX_LAYERS: usize = 20;
/// Default limit on nested IP headers (tunnel depth), after Suricata's and Zeek's defaults.
pub const DEFAULT_MAX_IP_DEPTH: u8 = 8;

/// UDP ports whose payload is decoded as a tunnel.
pub const VXLAN_PORT: u16 = 4789;
pub const GRE_IN_UDP_PORT: u16 = 4754;

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
