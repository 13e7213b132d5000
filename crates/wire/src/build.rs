//! Owned header descriptions that write real packets (smoltcp's `Repr` idea), for tests,
//! corpus and benchmark generators. Checksums are computed, never left zero.

use crate::checksum;

#[derive(Clone, Copy, Debug)]
pub struct EthernetRepr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: u16,
}
impl EthernetRepr {
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst);
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&self.ethertype.to_be_bytes());
        out.extend_from_slice(payload);
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Ipv4Repr {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub protocol: u8,
    pub ttl: u8,
    pub id: u16,
    pub dont_fragment: bool,
    pub tos: u8,
}
impl Ipv4Repr {
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let total = (20 + payload.len()) as u16;
        out.extend_from_slice(&[0x45, self.tos]);
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&(if self.dont_fragment { 0x4000u16 } else { 0 }).to_be_bytes());
        out.extend_from_slice(&[self.ttl, self.protocol, 0, 0]);
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&self.dst);
        let c = checksum::checksum(&out[start..start + 20]);
        out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
        out.extend_from_slice(payload);
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct GreRepr {
    pub protocol: u16,
    pub checksum: bool,
    pub key: Option<u32>,
    pub seq: Option<u32>,
}
impl GreRepr {
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let mut flags = 0u16;
        if self.checksum {
            flags |= crate::gre::FLAG_C;
        }
        if self.key.is_some() {
            flags |= crate::gre::FLAG_K;
        }
        if self.seq.is_some() {
            flags |= crate::gre::FLAG_S;
        }
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&self.protocol.to_be_bytes());
        if self.checksum {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        if let Some(k) = self.key {
            out.extend_from_slice(&k.to_be_bytes());
        }
        if let Some(s) = self.seq {
            out.extend_from_slice(&s.to_be_bytes());
        }
        out.extend_from_slice(payload);
        if self.checksum {
            let c = checksum::checksum(&out[start..]);
            out[start + 4..start + 6].copy_from_slice(&c.to_be_bytes());
        }
    }
}

/// GRE version 1 (PPTP): key = payload length and call ID.
#[derive(Clone, Copy, Debug, Default)]
pub struct PptpGreRepr {
    pub call_id: u16,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
}
impl PptpGreRepr {
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        let mut flags = crate::gre::FLAG_K | 1;
        if self.seq.is_some() {
            flags |= crate::gre::FLAG_S;
        }
        if self.ack.is_some() {
            flags |= crate::gre::FLAG_A;
        }
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&0x880bu16.to_be_bytes());
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.call_id.to_be_bytes());
        if let Some(s) = self.seq {
            out.extend_from_slice(&s.to_be_bytes());
        }
        if let Some(a) = self.ack {
            out.extend_from_slice(&a.to_be_bytes());
        }
        out.extend_from_slice(payload);
    }
}

#[derive(Clone, Copy, Debug)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
}
impl UdpRepr {
    /// Writes header and payload. The checksum covers the IPv4 pseudo-header of `src`/`dst`.
    pub fn emit_v4(&self, src: [u8; 4], dst: [u8; 4], payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let len = (8 + payload.len()) as u16;
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(payload);
        let s = checksum::sum(&out[start..], checksum::pseudo_v4(src, dst, 17, len as u32));
        let c = match !(s as u16) {
            0 => 0xffff,
            c => c,
        };
        out[start + 6..start + 8].copy_from_slice(&c.to_be_bytes());
    }
}

#[derive(Clone, Copy, Debug)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
}
impl TcpRepr {
    pub fn emit_v4(&self, src: [u8; 4], dst: [u8; 4], payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ack.to_be_bytes());
        out.extend_from_slice(&((5u16 << 12) | (self.flags & 0x1ff)).to_be_bytes());
        out.extend_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(payload);
        let len = (out.len() - start) as u32;
        let c = !(checksum::sum(&out[start..], checksum::pseudo_v4(src, dst, 6, len)) as u16);
        out[start + 16..start + 18].copy_from_slice(&c.to_be_bytes());
    }
}

#[derive(Clone, Copy, Debug)]
pub struct IcmpRepr {
    pub icmp_type: u8,
    pub code: u8,
    /// The four bytes after the checksum (id/seq, gateway, unused).
    pub rest: [u8; 4],
}
impl IcmpRepr {
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[self.icmp_type, self.code, 0, 0]);
        out.extend_from_slice(&self.rest);
        out.extend_from_slice(payload);
        let c = checksum::checksum(&out[start..]);
        out[start + 2..start + 4].copy_from_slice(&c.to_be_bytes());
    }
}

/// Helper: an IPv4 packet around `l4` built by `f` (which gets src/dst for pseudo-headers).
pub fn ipv4_packet(ip: &Ipv4Repr, f: impl FnOnce([u8; 4], [u8; 4], &mut Vec<u8>)) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(64);
    f(ip.src, ip.dst, &mut l4);
    let mut out = Vec::with_capacity(20 + l4.len());
    ip.emit(&l4, &mut out);
    out
}

/// The Mirai GRE-IP flood packet shown in seed 000 (ISC diary 21865): Ethernet, outer
/// 31.168.107.48 → 1.2.3.4, GRE 0x0800, inner 241.141.248.58:10335 → 178.177.101.55:32698.
pub fn seed_000_frame() -> Vec<u8> {
    let inner = Ipv4Repr {
        src: [241, 141, 248, 58],
        dst: [178, 177, 101, 55],
        protocol: 17,
        ttl: 64,
        id: 0x2854,
        dont_fragment: true,
        tos: 0,
    };
    let mut inner_pkt = ipv4_packet(&inner, |s, d, out| {
        UdpRepr {
            src_port: 10335,
            dst_port: 32698,
        }
        .emit_v4(s, d, &[], out)
    });
    // The capture shows UDP checksum 0x5613; the bot computed it over its own (random)
    // pseudo-header, so keep the captured value rather than our recomputation.
    inner_pkt[26..28].copy_from_slice(&0x5613u16.to_be_bytes());
    let mut gre = Vec::new();
    GreRepr {
        protocol: 0x0800,
        ..Default::default()
    }
    .emit(&inner_pkt, &mut gre);
    let outer = Ipv4Repr {
        src: [31, 168, 107, 48],
        dst: [1, 2, 3, 4],
        protocol: 47,
        ttl: 56,
        id: 0xbfaf,
        dont_fragment: true,
        tos: 0,
    };
    let mut ip = Vec::new();
    outer.emit(&gre, &mut ip);
    // Header checksums as captured. The reporter replaced the real destination with
    // 1.2.3.4, so the outer sum no longer verifies; that is part of the evidence.
    ip[10..12].copy_from_slice(&0x0f36u16.to_be_bytes());
    ip[24 + 10..24 + 12].copy_from_slice(&0x10ccu16.to_be_bytes());
    let mut frame = Vec::new();
    EthernetRepr {
        dst: [0x00, 0x1c, 0x7f, 0x81, 0x01, 0x3e],
        src: [0x40, 0x55, 0x39, 0x6f, 0xc8, 0x96],
        ethertype: 0x0800,
    }
    .emit(&ip, &mut frame);
    frame
}
