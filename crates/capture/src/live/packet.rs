//! AF_PACKET capture on one interface through a TPACKET_V3 ring: the kernel writes packets
//! into shared memory blocks, and we read a whole block per wake-up.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use super::sys::{self, Ring};
use super::{Counters, Deadline, LiveBatch, LiveError, LiveSource, ne_u16, ne_u32};

const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_LINUX_SLL2: u32 = 276;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
/// `struct tpacket3_hdr` is 48 bytes; `struct sockaddr_ll` follows it.
const TPACKET3_HDR: usize = 48;
const PACKET_OUTGOING: u8 = 4;
const ETH_P_ALL: u16 = 0x0003;

/// Where a live interface's metadata lives (sysfs): its index and ARPHRD type.
fn read_sys(name: &str, field: &str) -> Option<i64> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/{field}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn interfaces() -> String {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        "none visible".into()
    } else {
        names.join(", ")
    }
}

/// Captures every packet arriving on one interface (outgoing packets are skipped: a sensor
/// records what the Internet sends it).
pub struct PacketSource {
    fd: OwnedFd,
    ring: Ring,
    next_block: usize,
    name: String,
    linktype: u32,
    snaplen: u32,
    counters: Counters,
}

impl PacketSource {
    /// Opens `name` with a ring of `ring_bytes` (rounded to 1 MiB blocks, at least 4),
    /// keeping at most `snaplen` bytes per packet; `promisc` also takes frames for other
    /// hosts.
    pub fn open(
        name: &str,
        snaplen: u32,
        ring_bytes: usize,
        promisc: bool,
    ) -> Result<PacketSource, LiveError> {
        let (Some(ifindex), Some(hatype)) = (read_sys(name, "ifindex"), read_sys(name, "type"))
        else {
            return Err(LiveError::NoInterface {
                name: name.into(),
                available: interfaces(),
            });
        };
        let what = format!("interface {name}");
        let cap = "CAP_NET_RAW";
        // Protocol 0 receives nothing until bound, so no packet of another interface can
        // slip into the ring between socket() and bind().
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)
            .map_err(|e| LiveError::io(format!("{what}: packet socket"), cap, e))?;
        let block = 1 << 20;
        let blocks = (ring_bytes / block).max(4);
        let ring = Ring::new(&fd, block, blocks, 50)
            .map_err(|e| LiveError::io(format!("{what}: TPACKET_V3 ring"), cap, e))?;
        // Kernel ≥ 4.20 can skip our own outgoing packets; older ones are filtered below.
        let _ = sys::setsockopt_int(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1);
        sys::bind_packet(&fd, ifindex as i32, ETH_P_ALL.to_be())
            .map_err(|e| LiveError::io(format!("{what}: bind"), cap, e))?;
        if promisc {
            sys::packet_promisc(&fd, ifindex as i32)
                .map_err(|e| LiveError::io(format!("{what}: promiscuous mode"), cap, e))?;
        }
        let linktype = match hatype as u16 {
            ARPHRD_ETHER | ARPHRD_LOOPBACK => LINKTYPE_ETHERNET,
            _ => LINKTYPE_LINUX_SLL2,
        };
        // Drop whatever the kernel counted before we were ready.
        let _ = sys::packet_statistics(&fd);
        Ok(PacketSource {
            fd,
            ring,
            next_block: 0,
            name: name.into(),
            linktype,
            // Room for a cooked header at least; below that nothing useful is kept.
            snaplen: snaplen.max(20),
            counters: Counters::default(),
        })
    }

    /// Copies every packet of the next block, if the kernel has handed it over.
    fn drain_block(&mut self, batch: &mut LiveBatch) -> bool {
        let i = self.next_block;
        let (linktype, snaplen) = (self.linktype, self.snaplen);
        let mut c = self.counters;
        let Some(block) = self.ring.take(i) else {
            return false;
        };
        let mut off = block.first_packet_offset();
        for _ in 0..block.num_packets() {
            let h = block.from(off);
            // Header, then the 20 bytes of sockaddr_ll we read.
            if h.len() < TPACKET3_HDR + 20 {
                c.malformed += 1;
                break;
            }
            let u32_at = |i: usize| ne_u32(h, i);
            let u16_at = |i: usize| ne_u16(h, i);
            let (next, sec, nsec) = (u32_at(0), u32_at(4), u32_at(8));
            let (caplen, wire_len) = (u32_at(12) as usize, u32_at(16));
            let (mac, net) = (u16_at(24) as usize, u16_at(26) as usize);
            let sll = &h[TPACKET3_HDR..];
            let pkttype = sll[10];
            // The kernel's offsets are checked like any input: a bad one skips the packet.
            let sane = mac <= net && net <= mac + caplen && mac + caplen <= h.len();
            if !sane {
                c.malformed += 1;
            } else if pkttype != PACKET_OUTGOING {
                let ts = i64::from(sec) * 1_000_000_000 + i64::from(nsec);
                let status = u32_at(20);
                if linktype == LINKTYPE_ETHERNET {
                    let keep = caplen.min(snaplen as usize);
                    let frame = &h[mac..mac + keep];
                    if status & libc::TP_STATUS_VLAN_VALID != 0 && keep >= 12 {
                        // The kernel took the 802.1Q tag out of the frame (VLAN offload);
                        // put it back so the stored frame is the one on the wire.
                        let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                            u16_at(36)
                        } else {
                            0x8100
                        };
                        let tci = u32_at(32) as u16;
                        let mut tag = [0u8; 4];
                        tag[0..2].copy_from_slice(&tpid.to_be_bytes());
                        tag[2..4].copy_from_slice(&tci.to_be_bytes());
                        batch.push(
                            ts,
                            linktype,
                            &[&frame[..12], &tag, &frame[12..]],
                            wire_len + 4,
                        );
                    } else {
                        batch.push(ts, linktype, &[frame], wire_len);
                    }
                    c.truncated += u64::from((keep as u32) < wire_len);
                } else {
                    // Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype,
                    // address length, address (8), then the network layer.
                    let mut sll2 = [0u8; 20];
                    sll2[0..2].copy_from_slice(&sll[2..4]);
                    sll2[4..8].copy_from_slice(&ne_u32(sll, 4).to_be_bytes());
                    sll2[8..10].copy_from_slice(&ne_u16(sll, 8).to_be_bytes());
                    sll2[10] = pkttype;
                    sll2[11] = sll[11];
                    sll2[12..20].copy_from_slice(&sll[12..20]);
                    let body = &h[net..mac + caplen];
                    let keep = body.len().min((snaplen as usize).saturating_sub(20));
                    let wire = wire_len.saturating_sub((net - mac) as u32) + 20;
                    batch.push(ts, linktype, &[&sll2, &body[..keep]], wire);
                    c.truncated += u64::from(((keep + 20) as u32) < wire);
                }
                c.received += 1;
                c.bytes += u64::from(wire_len);
            }
            if next == 0 {
                break;
            }
            off += next as usize;
        }
        drop(block);
        self.counters = c;
        self.next_block = (i + 1) % self.ring.blocks();
        true
    }
}

impl LiveSource for PacketSource {
    fn fill(
        &mut self,
        batch: &mut LiveBatch,
        max: usize,
        timeout: Duration,
    ) -> Result<(), LiveError> {
        let deadline = Deadline::after(timeout);
        while batch.len() < max {
            if self.drain_block(batch) {
                continue;
            }
            let more = deadline
                .wait(batch, self.fd.as_raw_fd())
                .map_err(|e| LiveError::Io {
                    what: self.describe(),
                    source: e,
                })?;
            if !more {
                break;
            }
        }
        Ok(())
    }

    fn counters(&mut self) -> Counters {
        if let Ok((_, drops)) = sys::packet_statistics(&self.fd) {
            self.counters.kernel_drops += u64::from(drops);
        }
        self.counters
    }

    fn describe(&self) -> String {
        format!("interface {}", self.name)
    }

    fn format(&self) -> &'static str {
        "afpacket"
    }
}
