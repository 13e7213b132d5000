//! The protocol table: one row per decoder, from which the protocol enum, the layer enum
//! and every per-protocol match (name, title, fields, visit, slot storage) are generated.
//! A new decoder is a view in its file implementing [`View`], one row here and its step in
//! `dissect_into`.

use crate::field::{Field, Fields};
use crate::view::View;
use crate::{Ah, Erspan, Ethernet, Gre, Icmp, Icmpv6, Ipv4, Ipv6, Llc, Mpls, Nflog, Nhrp, Null};
use crate::{Pflog, Ppp, Sctp, Sll, Sll2, Tcp, Udp, Vlan, Vxlan, Wccp};

macro_rules! count {
    () => { 0usize };
    ($head:ident $($tail:ident)*) => { 1usize + count!($($tail)*) };
}

macro_rules! protocols {
    ($($proto:ident $(= $tag:literal)? => $layer:ident($view:ident)),* $(,)?) => {
        /// Protocols a layer can be; the short names form the protocols-in-frame chain.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Proto {
            $($proto $(= $tag)?,)*
        }

        impl Proto {
            /// Every protocol, in tag order.
            pub const ALL: [Proto; count!($($proto)*)] = [$(Proto::$proto,)*];

            /// Short name in the protocols-in-frame chain.
            pub fn name(self) -> &'static str {
                match self {
                    $(Proto::$proto => <$view as View>::NAME,)*
                }
            }

            /// Title in the verbose tree.
            pub fn title(self) -> &'static str {
                match self {
                    $(Proto::$proto => <$view as View>::TITLE,)*
                }
            }

            /// Every field key this layer can emit (`-V`, `--json`, filters): the filter
            /// refuses any other name instead of matching nothing.
            pub fn fields(self) -> &'static [&'static str] {
                match self {
                    $(Proto::$proto => <$view as View>::FIELDS,)*
                }
            }
        }

        /// One decoded layer: a view borrowing the frame.
        #[derive(Clone, Copy, Debug)]
        pub enum Layer<'a> {
            $($layer($view<'a>),)*
            /// A header the capture cut short: the protocol, the bytes that exist, and for
            /// ERSPAN its type. Only fields that end within `bytes` are reported.
            Partial {
                proto: Proto,
                bytes: &'a [u8],
                aux: u8,
            },
        }

        impl<'a> Layer<'a> {
            pub fn proto(&self) -> Proto {
                match self {
                    $(Layer::$layer(_) => Proto::$proto,)*
                    Layer::Partial { proto, .. } => *proto,
                }
            }

            /// Reports every decoded field of this layer.
            pub fn visit(&self, out: &mut dyn FnMut(Field<'a>)) {
                match self {
                    $(Layer::$layer(v) => v.visit(out),)*
                    Layer::Partial { proto, bytes, aux } => visit_partial(*proto, bytes, *aux, out),
                }
            }

            /// The view of `proto` over `buf` with its slot values.
            #[inline]
            pub(crate) fn from_slot(proto: Proto, buf: &'a [u8], aux: u8, hlen: u16) -> Self {
                match proto {
                    $(Proto::$proto => Layer::$layer(<$view>::from_slot(buf, aux, hlen)),)*
                }
            }

            /// What a slot keeps of this layer: its bytes, one small value, a header length.
            #[inline]
            pub(crate) fn slot_parts(&self) -> (&'a [u8], u8, u16) {
                match self {
                    $(Layer::$layer(v) => {
                        let (aux, hlen) = v.extra();
                        (v.bytes(), aux, hlen)
                    })*
                    Layer::Partial { bytes, aux, .. } => (bytes, *aux, 0),
                }
            }
        }
    };
}

// Tags start at 1: a slot's tag 0 is no layer.
protocols! {
    Eth = 1 => Eth(Ethernet),
    Llc => Llc(Llc),
    Vlan => Vlan(Vlan),
    Mpls => Mpls(Mpls),
    Sll => Sll(Sll),
    Sll2 => Sll2(Sll2),
    Nflog => Nflog(Nflog),
    Null => Null(Null),
    Pflog => Pflog(Pflog),
    Ppp => Ppp(Ppp),
    Ip => Ipv4(Ipv4),
    Ipv6 => Ipv6(Ipv6),
    Ah => Ah(Ah),
    Gre => Gre(Gre),
    Erspan => Erspan(Erspan),
    Wccp => Wccp(Wccp),
    Nhrp => Nhrp(Nhrp),
    Vxlan => Vxlan(Vxlan),
    Tcp => Tcp(Tcp),
    Udp => Udp(Udp),
    Icmp => Icmp(Icmp),
    Icmpv6 => Icmpv6(Icmpv6),
    Sctp => Sctp(Sctp)
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
        // NFLOG's TLVs are walked to their lengths: a cut header has nothing safe to show.
        Proto::Nflog => {}
        // A cut GRE header is as long as what is there, and never complete.
        p => Layer::from_slot(p, b, aux, b.len().min(u16::MAX as usize) as u16).visit(&mut keep),
    }
}

impl Proto {
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

impl<'a> Layer<'a> {
    pub fn is_partial(&self) -> bool {
        matches!(self, Layer::Partial { .. })
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
    pub fn field(&self, key: &str) -> Option<crate::field::Value<'a>> {
        let mut found = None;
        self.visit(&mut |f| {
            if found.is_none() && f.key == key {
                found = Some(f.value);
            }
        });
        found
    }
}
