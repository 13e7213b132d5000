//! The one packet record. A full dissection ([`Observation::from_dissection`]), the fast path
//! ([`Observation::from_quick`]) and a log line (the log parsers) all produce an
//! [`Observation`]; the classifier, the aggregates and the lake read nothing else, so a rule
//! or a column is written once whatever the packet came from.
//!
//! The flat fields are the outer packet as a firewall would log it (the first IP header and
//! what follows it). What only a capture shows (the decoded chain's shape, GRE's header and
//! the packet inside it, the payload, whether the snap length cut the frame) is in
//! [`Wire`]; a log line has none. What a tunnel carries (the lake's `inner_*` columns) is in
//! [`Tunnel`].

use std::net::IpAddr;

use crate::link::ethertype as et;
use crate::observation::{Observation, Quoted};
use crate::quick::Quick;
use crate::{Dissection, Gre, IpRef, Ipv4, Layer, Proto, Stop, Tcp};

/// What a tunnelled packet carries: the frame's first GRE header (searched in every layer, an
/// ICMP error's quote included) and its innermost IP packet outside any quote, with that
/// packet's ports. Two options, not one per field: most packets are not tunnelled, and
/// their record then writes two tags instead of eleven.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tunnel {
    pub gre: Option<TunnelGre>,
    /// The innermost IP packet, when it is not the outer one.
    pub inner: Option<InnerIp>,
}

/// The first GRE header of a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelGre {
    pub version: u8,
    pub protocol: u16,
    pub key: Option<u32>,
}

/// The innermost IP packet of a tunnelled frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InnerIp {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// IPv4 identification (`None` for IPv6).
    pub ip_id: Option<u16>,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Bytes after the innermost decoded header, as captured.
    pub payload_len: u32,
}

/// The lake's `gre_*` and `inner_*` columns, each `None` where the frame has no such value.
impl Tunnel {
    pub fn gre_version(&self) -> Option<u8> {
        self.gre.map(|g| g.version)
    }
    pub fn gre_proto(&self) -> Option<u16> {
        self.gre.map(|g| g.protocol)
    }
    pub fn gre_key(&self) -> Option<u32> {
        self.gre.and_then(|g| g.key)
    }
    pub fn src(&self) -> Option<IpAddr> {
        self.inner.map(|i| i.src)
    }
    pub fn dst(&self) -> Option<IpAddr> {
        self.inner.map(|i| i.dst)
    }
    pub fn proto(&self) -> Option<u8> {
        self.inner.map(|i| i.proto)
    }
    pub fn sport(&self) -> Option<u16> {
        self.inner.and_then(|i| i.sport)
    }
    pub fn dport(&self) -> Option<u16> {
        self.inner.and_then(|i| i.dport)
    }
    pub fn ip_id(&self) -> Option<u16> {
        self.inner.and_then(|i| i.ip_id)
    }
    pub fn ttl(&self) -> Option<u8> {
        self.inner.map(|i| i.ttl)
    }
    pub fn payload_len(&self) -> Option<u32> {
        self.inner.map(|i| i.payload_len)
    }
}

/// What only a captured frame shows about a packet.
#[derive(Clone, Debug, PartialEq)]
pub struct Wire<'a> {
    /// Bytes on the wire (the capture's original length).
    pub len: u32,
    /// The snap length cut a header of the frame (not of an ICMP quote).
    pub truncated: bool,
    /// What follows the innermost decoded header.
    pub payload: &'a [u8],
    /// What the outer IP header carries, as decoded.
    pub next: Next,
    /// The outer IPv4 header's more-fragments flag.
    pub more_fragments: bool,
    /// The outer header is a later fragment of an untunnelled packet (its offset in bytes):
    /// nothing after it could be decoded.
    pub fragment_offset: Option<u32>,
    /// The GRE header right after the outer IP header, and what it carries.
    pub gre: Option<GreFacts>,
    /// IP-in-IP and 6in4: the packet inside the wrapping IP headers, which is the one the
    /// rules judge (the flat fields stay the outermost header, as a firewall logs it).
    pub wrapped: Option<Box<Observation<'a>>>,
}

/// What the outer IP header carries, as far as the frame could be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// No complete IP header; `ip_cut` when one began but was cut short.
    NoIp {
        ip_cut: bool,
    },
    /// An IP header with nothing decoded after it.
    Nothing,
    /// A transport header cut short (its IP protocol number, 0 if not a transport).
    Cut(u8),
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Sctp,
    Gre,
    /// A GRE header cut short.
    GreCut,
    /// Another protocol (ESP, AH, IP-in-IP that could not be followed, …).
    Other,
}

/// A GRE header and what it carries where its payload type says an IPv4 packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GreFacts {
    pub version: u8,
    pub flags: u16,
    pub protocol: u16,
    pub key: Option<u32>,
    /// Nothing follows the header (a keepalive).
    pub empty: bool,
    /// Transparent Ethernet bridging whose frame carries IPv4.
    pub eth_ipv4: bool,
    /// The IPv4 header directly inside (or inside the bridged Ethernet frame).
    pub inner: Option<GreInner>,
}

/// The IPv4 header inside GRE, and the length field of the UDP header after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GreInner {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub protocol: u8,
    pub id: u16,
    pub ttl: u8,
    pub dont_fragment: bool,
    pub total_len: u16,
    pub header_len: u8,
    /// `None` when no whole UDP header follows.
    pub udp_len: Option<u16>,
}

impl GreInner {
    #[inline]
    fn of(ip: Ipv4) -> Self {
        GreInner {
            src: ip.src(),
            dst: ip.dst(),
            protocol: ip.protocol(),
            id: ip.id(),
            ttl: ip.ttl(),
            dont_fragment: ip.dont_fragment(),
            total_len: ip.total_len(),
            header_len: ip.header_len() as u8,
            udp_len: None,
        }
    }
}

impl<'a> Observation<'a> {
    /// The record of a frame decoded in full; `len` is its length on the wire.
    pub fn from_dissection(ts_ns: i64, len: u32, d: &Dissection<'a>) -> Self {
        let mut o = Observation::new();
        o.ts_ns = Some(ts_ns);
        let main = d.main_layers();
        // The NFLOG prefix is the firewall rule that logged the packet.
        if let Some(Layer::Nflog(n)) = main.get(0) {
            o.rule = n.prefix().and_then(|p| std::str::from_utf8(p).ok());
        }
        let mut wire = Wire {
            len,
            truncated: d.is_truncated(),
            payload: d.payload,
            // Set below; the layers are searched for a cut IP header only when none is whole.
            next: Next::NoIp { ip_cut: false },
            more_fragments: false,
            fragment_offset: None,
            gre: None,
            wrapped: None,
        };
        let outer = d
            .outer_ip_index()
            .and_then(|i| Some((i, IpRef::from_layer(&main.get(i)?)?)));
        let Some((oi, ip)) = outer else {
            wire.next = Next::NoIp {
                ip_cut: d.has(Proto::Ip) || d.has(Proto::Ipv6),
            };
            o.wire = Some(wire);
            return o;
        };
        ip_and_next(&mut o, &mut wire, d, oi, ip);
        o.tunnel = tunnel(d, oi);
        // Look through IP-in-IP and 6in4 wrappers: the packet is what the last of the
        // leading IP headers carries.
        let mut ji = oi;
        while d.proto_at(ji + 1).is_some_and(Proto::is_ip)
            && !main.get(ji + 1).is_some_and(|l| l.is_partial())
        {
            ji += 1;
        }
        if ji != oi
            && let Some(ip) = main.get(ji).and_then(|l| IpRef::from_layer(&l))
        {
            let mut j = Observation::new();
            j.ts_ns = o.ts_ns;
            let mut jw = Wire {
                wrapped: None,
                gre: None,
                fragment_offset: None,
                ..wire.clone()
            };
            ip_and_next(&mut j, &mut jw, d, ji, ip);
            j.wire = Some(jw);
            wire.wrapped = Some(Box::new(j));
        }
        o.wire = Some(wire);
        o
    }

    /// The record of a frame the fast path decoded ([`crate::quick`]): equal to what
    /// [`Observation::from_dissection`] gives its full dissection.
    #[inline]
    pub fn from_quick(ts_ns: i64, len: u32, q: &Quick<'a>) -> Self {
        let mut o = Observation::new();
        o.refill_quick(ts_ns, len, q);
        o
    }

    /// Refills a record that only this function has ever filled with the frame the fast
    /// path decoded: the same record [`Observation::from_quick`] builds. Written field by
    /// field where the caller keeps it, so a packet costs the stores of what it carries
    /// instead of building and moving the whole record (and dropping the last one).
    #[inline]
    pub fn refill_quick(&mut self, ts_ns: i64, len: u32, q: &Quick<'a>) {
        let ip = q.ip();
        self.ts_ns = Some(ts_ns);
        self.src = Some(IpAddr::from(ip.src()));
        self.dst = Some(IpAddr::from(ip.dst()));
        self.proto = Some(ip.protocol());
        self.ip_len = Some(u32::from(ip.total_len()));
        self.ttl = Some(ip.ttl());
        self.ip_id = Some(ip.id());
        self.dont_fragment = Some(ip.dont_fragment());
        self.frag_offset = Some(u32::from(ip.frag_offset()) * 8);
        // Lazily: `get_or_insert` would build (and drop) a `Wire` for every packet.
        #[allow(clippy::unnecessary_lazy_evaluations)]
        let wire = self.wire.get_or_insert_with(|| Wire {
            len: 0,
            truncated: false,
            payload: &[],
            next: Next::Nothing,
            more_fragments: false,
            fragment_offset: None,
            gre: None,
            wrapped: None,
        });
        wire.len = len;
        wire.more_fragments = ip.more_fragments();
        match *q {
            Quick::Tcp { tcp, payload, .. } => {
                self.src_port = Some(tcp.src_port());
                self.dst_port = Some(tcp.dst_port());
                self.tcp_flags = Some(tcp.flags() as u8);
                self.tcp_seq = Some(tcp.seq());
                self.tcp_ack = Some(tcp.ack());
                self.tcp_window = Some(tcp.window());
                self.tunnel = Tunnel::default();
                wire.next = Next::Tcp;
                wire.payload = payload;
                wire.gre = None;
            }
            Quick::Udp { udp, payload, .. } => {
                self.src_port = Some(udp.src_port());
                self.dst_port = Some(udp.dst_port());
                self.tcp_flags = None;
                self.tcp_seq = None;
                self.tcp_ack = None;
                self.tcp_window = None;
                self.tunnel = Tunnel::default();
                wire.next = Next::Udp;
                wire.payload = payload;
                wire.gre = None;
            }
            Quick::GreUdp {
                gre,
                eth,
                inner,
                udp,
                payload,
                ..
            } => {
                self.src_port = None;
                self.dst_port = None;
                self.tcp_flags = None;
                self.tcp_seq = None;
                self.tcp_ack = None;
                self.tcp_window = None;
                let key = gre.key();
                self.tunnel = Tunnel {
                    gre: Some(TunnelGre {
                        version: gre.version(),
                        protocol: gre.protocol(),
                        key,
                    }),
                    inner: Some(InnerIp {
                        src: IpAddr::from(inner.src()),
                        dst: IpAddr::from(inner.dst()),
                        proto: inner.protocol(),
                        sport: Some(udp.src_port()),
                        dport: Some(udp.dst_port()),
                        ip_id: Some(inner.id()),
                        ttl: inner.ttl(),
                        payload_len: payload.len() as u32,
                    }),
                };
                wire.next = Next::Gre;
                wire.payload = payload;
                wire.gre = Some(GreFacts {
                    version: gre.version(),
                    flags: gre.flags(),
                    protocol: gre.protocol(),
                    key,
                    empty: false,
                    eth_ipv4: eth.is_some(),
                    inner: Some(GreInner {
                        udp_len: Some(udp.length()),
                        ..GreInner::of(inner)
                    }),
                });
            }
        }
    }

    /// The packet the rules judge: inside IP-in-IP wrappers when there are any.
    pub fn judged(&self) -> &Observation<'a> {
        self.wire
            .as_ref()
            .and_then(|w| w.wrapped.as_deref())
            .unwrap_or(self)
    }
}

/// The IP header at `i` and what follows it, into the flat fields and `wire`.
fn ip_and_next<'a>(
    o: &mut Observation<'a>,
    wire: &mut Wire<'a>,
    d: &Dissection<'a>,
    i: usize,
    ip: IpRef<'a>,
) {
    let main = d.main_layers();
    o.src = Some(ip.src());
    o.dst = Some(ip.dst());
    o.proto = Some(ip.protocol());
    let nonfirst = d.stop == Stop::NonFirstFragment && d.tunnel_depth() == 0;
    match ip {
        IpRef::V4(v) => {
            ipv4_fields(o, v);
            wire.more_fragments = v.more_fragments();
            if nonfirst {
                wire.fragment_offset = Some(u32::from(v.frag_offset()) * 8);
            }
        }
        IpRef::V6(v) => {
            o.ttl = Some(v.hop_limit());
            o.ip_len = Some(u32::from(v.payload_len()) + 40);
            wire.more_fragments = false;
            if nonfirst {
                wire.fragment_offset = Some(v.fragment().map_or(0, |f| u32::from(f.0)));
            }
        }
    }
    wire.next = match main.get(i + 1) {
        None => Next::Nothing,
        Some(Layer::Tcp(t)) => {
            tcp_fields(o, &t);
            Next::Tcp
        }
        Some(Layer::Udp(u)) => {
            o.src_port = Some(u.src_port());
            o.dst_port = Some(u.dst_port());
            Next::Udp
        }
        Some(Layer::Sctp(s)) => {
            o.src_port = Some(s.src_port());
            o.dst_port = Some(s.dst_port());
            Next::Sctp
        }
        Some(Layer::Icmp(c)) => {
            o.icmp_type = Some(c.icmp_type());
            o.icmp_code = Some(c.code());
            o.quoted = quoted(d);
            Next::Icmp
        }
        Some(Layer::Icmpv6(c)) => {
            o.icmp_type = Some(c.icmp_type());
            o.icmp_code = Some(c.code());
            o.quoted = quoted(d);
            Next::Icmpv6
        }
        Some(Layer::Gre(g)) => {
            wire.gre = Some(gre_facts(d, i, g));
            Next::Gre
        }
        Some(Layer::Partial {
            proto: Proto::Gre, ..
        }) => Next::GreCut,
        Some(Layer::Partial { proto, .. }) => Next::Cut(match proto {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Sctp => 132,
            _ => 0,
        }),
        Some(_) => Next::Other,
    };
}

/// The GRE header at `i + 1` and the IPv4 header where its payload type puts one.
fn gre_facts(d: &Dissection, i: usize, g: Gre) -> GreFacts {
    let main = d.main_layers();
    let (eth_ipv4, inner_at) = match g.protocol() {
        et::IPV4 => (false, Some(i + 2)),
        et::TEB => match main.get(i + 2) {
            Some(Layer::Eth(e)) if e.ethertype() == et::IPV4 => (true, Some(i + 3)),
            _ => (false, None),
        },
        _ => (false, None),
    };
    let inner = inner_at.and_then(|at| match main.get(at) {
        Some(Layer::Ipv4(ip)) => Some(GreInner {
            udp_len: match main.get(at + 1) {
                Some(Layer::Udp(u)) => Some(u.length()),
                _ => None,
            },
            ..GreInner::of(ip)
        }),
        _ => None,
    });
    GreFacts {
        version: g.version(),
        flags: g.flags(),
        protocol: g.protocol(),
        key: g.key(),
        empty: main.len() == i + 2 && d.stop == Stop::Empty,
        eth_ipv4,
        inner,
    }
}

/// The packet an ICMP error quotes, when its IP header could be read.
fn quoted(d: &Dissection) -> Option<Quoted> {
    let q = d.quoted_layers();
    let ip = q.first().and_then(|l| IpRef::from_layer(&l))?;
    let (src_port, dst_port) = match q.get(1) {
        Some(Layer::Tcp(t)) => (Some(t.src_port()), Some(t.dst_port())),
        Some(Layer::Udp(u)) => (Some(u.src_port()), Some(u.dst_port())),
        Some(Layer::Sctp(s)) => (Some(s.src_port()), Some(s.dst_port())),
        // An error quotes as little as 8 bytes after the IP header: a TCP header cut
        // short still shows its ports (the first two fields of all three).
        Some(Layer::Partial {
            proto: Proto::Tcp | Proto::Udp | Proto::Sctp,
            bytes,
            ..
        }) => {
            let at = |i: usize| {
                bytes
                    .get(i..i + 2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
            };
            (at(0), at(2))
        }
        _ => (None, None),
    };
    Some(Quoted {
        src: ip.src(),
        dst: ip.dst(),
        proto: Some(ip.protocol()),
        src_port,
        dst_port,
    })
}

/// The frame's first GRE header and its innermost IP packet, when that is not the outer one.
fn tunnel(d: &Dissection, outer_index: usize) -> Tunnel {
    let main = d.main_layers();
    let gre = d.gre().map(|g| TunnelGre {
        version: g.version(),
        protocol: g.protocol(),
        key: g.key(),
    });
    let inner = d
        .inner_ip_index()
        .filter(|&i| i != outer_index)
        .and_then(|ii| Some((ii, main.get(ii).and_then(|l| IpRef::from_layer(&l))?)))
        .map(|(ii, ip)| {
            let (ip_id, ttl) = match ip {
                IpRef::V4(v) => (Some(v.id()), v.ttl()),
                IpRef::V6(v) => (None, v.hop_limit()),
            };
            let (sport, dport) = match main.get(ii + 1) {
                Some(Layer::Tcp(l)) => (Some(l.src_port()), Some(l.dst_port())),
                Some(Layer::Udp(u)) => (Some(u.src_port()), Some(u.dst_port())),
                _ => (None, None),
            };
            InnerIp {
                src: ip.src(),
                dst: ip.dst(),
                proto: ip.protocol(),
                sport,
                dport,
                ip_id,
                ttl,
                payload_len: d.payload.len() as u32,
            }
        });
    Tunnel { gre, inner }
}

#[inline]
fn ipv4_fields(o: &mut Observation, v: Ipv4) {
    o.ttl = Some(v.ttl());
    o.ip_id = Some(v.id());
    o.ip_len = Some(u32::from(v.total_len()));
    o.dont_fragment = Some(v.dont_fragment());
    o.frag_offset = Some(u32::from(v.frag_offset()) * 8);
}

#[inline]
fn tcp_fields(o: &mut Observation, t: &Tcp) {
    o.src_port = Some(t.src_port());
    o.dst_port = Some(t.dst_port());
    o.tcp_flags = Some(t.flags() as u8);
    o.tcp_seq = Some(t.seq());
    o.tcp_ack = Some(t.ack());
    o.tcp_window = Some(t.window());
}
