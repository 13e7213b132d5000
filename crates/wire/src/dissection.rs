//! A decoded frame: its layers kept as compact slots (rebuilt into views on access), where
//! decoding stopped, and the questions every consumer asks of it (outer and inner IP, the
//! transport, the GRE header, the protocols-in-frame chain).

use crate::{Gre, Ipv4, Ipv6, Layer, MAX_LAYERS, Proto, Stop};

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
    pub(crate) len: usize,
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
    /// An empty dissection to decode into with [`crate::dissect_into`].
    pub fn empty() -> Self {
        Self::new(0, &[])
    }
    /// Forgets the previous packet. Slots past `len` are never read, so they stay as they are.
    #[inline(always)]
    pub(crate) fn reset(&mut self, linktype: u32, data: &'a [u8]) {
        self.linktype = linktype;
        self.frame = data;
        self.len = 0;
        self.payload = data;
        self.stop = Stop::Payload;
        self.quote_start = None;
        self.ip_short = false;
    }
    pub(crate) fn new(linktype: u32, data: &'a [u8]) -> Self {
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
        Layer::from_slot(proto, buf, s.aux, s.hlen)
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
    pub(crate) fn push(&mut self, l: Layer<'a>) -> bool {
        if self.len == MAX_LAYERS {
            self.stop = Stop::DepthLimit;
            return false;
        }
        let (bytes, aux, hlen) = l.slot_parts();
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
