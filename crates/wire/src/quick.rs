//! The three shapes most background radiation takes, recognised without building a
//! [`Dissection`](crate::Dissection): IPv4 carrying TCP, UDP, or GRE around IPv4/UDP (Mirai's
//! floods), over Ethernet or raw IP. Every frame of another shape, or one that is cut short,
//! fragmented past its first piece, malformed or tunnelled further, gets `None`, and the caller
//! decodes it with [`dissect_into`](crate::dissect_into) as before.
//!
//! The contract, checked by this module's tests on every corpus and mutated frame: whenever
//! [`quick`] returns a shape, `dissect_into` with the same options yields exactly that chain of
//! layers over the same bytes, stopping at the same payload, not truncated, with no ICMP quote.
//! So whatever the caller reads from the views is what it would have read from the dissection;
//! the fast path only skips the bookkeeping that makes a dissection general (layer slots, the
//! stop reason, the protocol chain).

use crate::bytes::u16_at;
use crate::link::ethertype as et;
use crate::view::Checked;
use crate::{Ethernet, Gre, Ipv4, Options, Tcp, Udp, ip, linktype};

/// A frame of one of the common shapes, as views into its bytes.
#[derive(Clone, Copy, Debug)]
pub enum Quick<'a> {
    /// IPv4/TCP; `payload` is what follows the TCP header within the IP packet.
    Tcp {
        ip: Ipv4<'a>,
        tcp: Tcp<'a>,
        payload: &'a [u8],
    },
    /// IPv4/UDP, not a decoded UDP tunnel.
    Udp {
        ip: Ipv4<'a>,
        udp: Udp<'a>,
        payload: &'a [u8],
    },
    /// IPv4/GRE (a plain 4-byte header: no flags, version 0) carrying IPv4/UDP, directly
    /// (protocol 0x0800) or in an Ethernet frame (0x6558, then `eth` is that frame's header).
    GreUdp {
        ip: Ipv4<'a>,
        gre: Gre<'a>,
        eth: Option<Ethernet<'a>>,
        inner: Ipv4<'a>,
        udp: Udp<'a>,
        payload: &'a [u8],
    },
}

impl<'a> Quick<'a> {
    /// The outer IPv4 header.
    #[inline]
    pub fn ip(&self) -> Ipv4<'a> {
        match *self {
            Quick::Tcp { ip, .. } | Quick::Udp { ip, .. } | Quick::GreUdp { ip, .. } => ip,
        }
    }
    /// The outer transport's destination port (TCP, UDP), 0 for GRE.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        match self {
            Quick::Tcp { tcp, .. } => tcp.dst_port(),
            Quick::Udp { udp, .. } => udp.dst_port(),
            Quick::GreUdp { .. } => 0,
        }
    }
}

/// The frame as one of the common shapes, or `None` to decode it in full.
#[inline]
pub fn quick<'a>(opts: &Options, linktype: u32, data: &'a [u8]) -> Option<Quick<'a>> {
    // Two IP headers at most, so any depth limit of two or more lets both through.
    if opts.max_ip_depth < 2 {
        return None;
    }
    let at_ip = match linktype {
        linktype::ETHERNET => {
            if data.len() < Ethernet::LEN || u16_at(data, 12) != et::IPV4 {
                return None;
            }
            Ethernet::LEN
        }
        linktype::RAW | linktype::RAW_BSD12 | linktype::RAW_OPENBSD14 | linktype::IPV4 => 0,
        _ => return None,
    };
    let (ip, b) = ipv4(&data[at_ip..])?;
    match ip.protocol() {
        ip::proto::TCP => {
            let (tcp, payload) = tcp(b)?;
            Some(Quick::Tcp { ip, tcp, payload })
        }
        ip::proto::UDP => {
            let (udp, payload) = udp(opts, b)?;
            Some(Quick::Udp { ip, udp, payload })
        }
        ip::proto::GRE => {
            // Flags and version all zero: the header is four bytes, no key, no checksum.
            if b.len() < Gre::MIN_LEN || b[0] != 0 || b[1] != 0 {
                return None;
            }
            let gre = Gre {
                buf: b,
                hlen: Gre::MIN_LEN as u16,
                complete: true,
            };
            let (eth, rest) = match gre.protocol() {
                et::IPV4 => (None, &b[Gre::MIN_LEN..]),
                et::TEB => {
                    let e = &b[Gre::MIN_LEN..];
                    if e.len() < Ethernet::LEN || u16_at(e, 12) != et::IPV4 {
                        return None;
                    }
                    let eth = Ethernet {
                        buf: &e[..Ethernet::LEN],
                    };
                    (Some(eth), &e[Ethernet::LEN..])
                }
                _ => return None,
            };
            let (inner, b) = ipv4(rest)?;
            if inner.protocol() != ip::proto::UDP {
                return None;
            }
            let (udp, payload) = udp(opts, b)?;
            Some(Quick::GreUdp {
                ip,
                gre,
                eth,
                inner,
                udp,
                payload,
            })
        }
        _ => None,
    }
}

/// A whole, unfragmented (or first-fragment) IPv4 header and the packet's payload: the total
/// length fits the capture, so nothing is cut short and padding is trimmed as the dissector
/// trims it.
#[inline(always)]
fn ipv4(b: &[u8]) -> Option<(Ipv4<'_>, &[u8])> {
    if b.len() < Ipv4::MIN_LEN || b[0] >> 4 != 4 {
        return None;
    }
    let hl = ((b[0] & 0x0f) as usize) * 4;
    let total = u16_at(b, 2) as usize;
    // Also rejects a zero total length (offload), which the dissector reads differently.
    if hl < Ipv4::MIN_LEN || total < hl || total > b.len() {
        return None;
    }
    let v = Ipv4 { buf: &b[..hl] };
    if v.frag_offset() != 0 {
        return None;
    }
    Some((v, &b[hl..total]))
}

#[inline(always)]
fn tcp(b: &[u8]) -> Option<(Tcp<'_>, &[u8])> {
    match Tcp::parse(b) {
        Checked::Whole(v, rest) => Some((v, rest)),
        _ => None,
    }
}

/// UDP, unless its port is one the dissector would decode a tunnel from (the full decode
/// then decides).
#[inline(always)]
fn udp<'a>(opts: &Options, b: &'a [u8]) -> Option<(Udp<'a>, &'a [u8])> {
    let Checked::Whole(v, rest) = Udp::parse(b) else {
        return None;
    };
    if opts.udp_tunnels && matches!(v.dst_port(), crate::VXLAN_PORT | crate::GRE_IN_UDP_PORT) {
        return None;
    }
    Some((v, rest))
}

/// Checks the contract on one frame: decodes it both ways and panics where the full
/// dissection differs from the shape [`quick`] found. Returns whether the fast path took the
/// frame. For tests and the fuzz target (a frame is decoded twice).
pub fn check_against_dissection(opts: &Options, linktype: u32, data: &[u8]) -> bool {
    use crate::{Dissection, Layer, Stop, dissect_into};
    let Some(q) = quick(opts, linktype, data) else {
        return false;
    };
    let mut d = Dissection::empty();
    dissect_into(&mut d, opts, linktype, data);
    assert_eq!(d.stop, Stop::Payload, "{data:02x?}");
    assert!(!d.is_truncated() && !d.ip_short && d.quote_start.is_none());
    let layers: Vec<Layer> = d.main_layers().iter().collect();
    let link = usize::from(linktype == linktype::ETHERNET);
    let same = |a: &[u8], b: &[u8]| a.as_ptr() == b.as_ptr() && a.len() == b.len();
    let expect_ip = |l: &Layer, v: &Ipv4| match l {
        Layer::Ipv4(x) => assert!(same(x.buf, v.buf)),
        other => panic!("expected IPv4, dissector has {other:?}"),
    };
    expect_ip(&layers[link], &q.ip());
    match q {
        Quick::Tcp { tcp, payload, .. } => {
            assert_eq!(layers.len(), link + 2);
            let Layer::Tcp(t) = &layers[link + 1] else {
                panic!("expected TCP: {layers:?}")
            };
            assert!(same(t.buf, tcp.buf) && same(d.payload, payload));
        }
        Quick::Udp { udp, payload, .. } => {
            assert_eq!(layers.len(), link + 2);
            let Layer::Udp(u) = &layers[link + 1] else {
                panic!("expected UDP: {layers:?}")
            };
            assert!(same(u.buf, udp.buf) && same(d.payload, payload));
        }
        Quick::GreUdp {
            gre,
            eth,
            inner,
            udp,
            payload,
            ..
        } => {
            let e = usize::from(eth.is_some());
            assert_eq!(layers.len(), link + 4 + e, "{layers:?}");
            let Layer::Gre(g) = &layers[link + 1] else {
                panic!("expected GRE: {layers:?}")
            };
            assert!(same(g.buf, gre.buf) && g.hlen == gre.hlen && g.complete);
            if let Some(eth) = eth {
                let Layer::Eth(x) = &layers[link + 2] else {
                    panic!("expected Ethernet: {layers:?}")
                };
                assert!(same(x.buf, eth.buf));
            }
            expect_ip(&layers[link + 2 + e], &inner);
            let Layer::Udp(u) = &layers[link + 3 + e] else {
                panic!("expected UDP: {layers:?}")
            };
            assert!(same(u.buf, udp.buf) && same(d.payload, payload));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_frame(opts: &Options, linktype: u32, data: &[u8]) -> bool {
        check_against_dissection(opts, linktype, data)
    }

    fn eth_ipv4(proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + l4.len()) as u16;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0x12,
            0x34,
            0x40,
            0,
        ]);
        f.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 192, 0, 2, 1]);
        f.extend_from_slice(l4);
        f
    }

    #[test]
    fn takes_the_common_shapes_and_leaves_the_rest() {
        let opts = Options::default();
        let mut syn = vec![0u8; 20];
        syn[12] = 0x50;
        syn[13] = 0x02;
        assert!(check_frame(&opts, linktype::ETHERNET, &eth_ipv4(6, &syn)));
        let udp = [0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0];
        assert!(check_frame(&opts, linktype::ETHERNET, &eth_ipv4(17, &udp)));
        // Raw IP: the same packet without the Ethernet header.
        assert!(check_frame(&opts, linktype::RAW, &eth_ipv4(17, &udp)[14..]));
        // GRE around IPv4/UDP.
        let inner = &eth_ipv4(17, &udp)[14..];
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(inner);
        assert!(check_frame(&opts, linktype::ETHERNET, &eth_ipv4(47, &gre)));
        // Left to the full decoder: keyed GRE, VXLAN's port, ICMP, truncation, a fragment.
        let mut keyed = vec![0x20, 0, 0x08, 0x00, 0, 0, 0, 1];
        keyed.extend_from_slice(inner);
        assert!(!check_frame(
            &opts,
            linktype::ETHERNET,
            &eth_ipv4(47, &keyed)
        ));
        let vxlan = [0x30, 0x39, 0x12, 0xb5, 0, 8, 0, 0];
        assert!(!check_frame(
            &opts,
            linktype::ETHERNET,
            &eth_ipv4(17, &vxlan)
        ));
        assert!(!check_frame(
            &opts,
            linktype::ETHERNET,
            &eth_ipv4(1, &[8, 0, 0, 0, 0, 0, 0, 0])
        ));
        let f = eth_ipv4(6, &syn);
        assert!(!check_frame(&opts, linktype::ETHERNET, &f[..f.len() - 1]));
        let mut frag = eth_ipv4(17, &udp);
        frag[14 + 7] = 1;
        assert!(!check_frame(&opts, linktype::ETHERNET, &frag));
    }

    /// Every prefix and every single-byte change of the frames above either leaves the fast
    /// path or keeps its contract.
    #[test]
    fn mutated_frames_keep_the_contract() {
        let opts = Options::default();
        let udp = [0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0];
        let inner = eth_ipv4(17, &udp)[14..].to_vec();
        let mut gre = vec![0, 0, 0x65, 0x58];
        gre.extend_from_slice(&[0; 12]);
        gre.extend_from_slice(&[0x08, 0x00]);
        gre.extend_from_slice(&inner);
        let frames = [eth_ipv4(47, &gre), eth_ipv4(17, &udp)];
        for f in &frames {
            for n in 0..=f.len() {
                check_frame(&opts, linktype::ETHERNET, &f[..n]);
            }
            for i in 0..f.len() {
                for x in [0x00, 0x01, 0x04, 0x08, 0x11, 0x2f, 0x45, 0x80, 0xff] {
                    let mut m = f.clone();
                    m[i] = x;
                    check_frame(&opts, linktype::ETHERNET, &m);
                    check_frame(&opts, linktype::RAW, &m[14..]);
                }
            }
        }
    }
}
