//! Live capture on Linux: netfilter's NFLOG over netlink, and AF_PACKET with a TPACKET_V3
//! ring — both in pure Rust (no libpcap, no libnetfilter_log).
//!
//! A source fills a [`LiveBatch`] with records in a pcap link type (NFLOG records are the
//! netlink message body, which *is* LINKTYPE_NFLOG; interfaces give Ethernet frames, or
//! Linux cooked v2 for other link types), so everything downstream treats live packets and
//! capture files alike. Each source counts what it could not keep ([`Counters`]).

#[cfg(feature = "libpcap")]
mod libpcap;
mod nflog;
mod packet;
mod sys;

use std::io;
use std::time::Duration;

#[cfg(feature = "libpcap")]
pub use libpcap::LibpcapSource;
pub use nflog::{LINKTYPE_NFLOG, NflogSource, NflogStream};
pub use packet::PacketSource;
pub use sys::stop_on_signals;

/// Records received in one call, in one buffer.
#[derive(Default)]
pub struct LiveBatch {
    pub buf: Vec<u8>,
    pub packets: Vec<LivePacket>,
}

/// One record of a [`LiveBatch`].
#[derive(Clone, Copy, Debug)]
pub struct LivePacket {
    pub ts_ns: i64,
    pub linktype: u32,
    start: u32,
    len: u32,
    /// Length on the wire (≥ the kept length).
    pub orig_len: u32,
}

impl LiveBatch {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.packets.clear();
    }
    pub fn len(&self) -> usize {
        self.packets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }
    pub fn data(&self, p: &LivePacket) -> &[u8] {
        &self.buf[p.start as usize..(p.start + p.len) as usize]
    }
    /// Appends a record made of `parts` (a header and a body, say).
    pub fn push(&mut self, ts_ns: i64, linktype: u32, parts: &[&[u8]], orig_len: u32) {
        let start = self.buf.len() as u32;
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        let len = self.buf.len() as u32 - start;
        self.packets.push(LivePacket {
            ts_ns,
            linktype,
            start,
            len,
            orig_len: orig_len.max(len),
        });
    }
}

/// What a source saw and could not keep, cumulative since it opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records handed to the caller.
    pub received: u64,
    /// Bytes on the wire of those records.
    pub bytes: u64,
    /// Packets the kernel dropped before we could read them (ring full, netlink buffer
    /// overrun: NFLOG sequence gaps).
    pub kernel_drops: u64,
    /// Times the kernel reported a netlink overrun (ENOBUFS); the packets lost are in
    /// `kernel_drops`.
    pub overruns: u64,
    /// Records kept shorter than on the wire (snap length).
    pub truncated: u64,
    /// Kernel messages we could not read (malformed netlink, unknown ring layout).
    pub malformed: u64,
}

/// Why a live source could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "{what}: permission denied. It needs {cap}: run as root, or once \
         `sudo setcap cap_net_admin,cap_net_raw+ep $(command -v noisefloor)` (docs/sensor.md)"
    )]
    Permission { what: String, cap: &'static str },
    #[error(
        "NFLOG group {0} is already bound by another process (ulogd? another noisefloor?): \
         stop it or use another group with `-j NFLOG --nflog-group N`"
    )]
    GroupBusy(u16),
    #[error("no network interface {name:?}; interfaces here: {available}")]
    NoInterface { name: String, available: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl LiveError {
    fn io(what: impl Into<String>, cap: &'static str, source: io::Error) -> LiveError {
        if source.kind() == io::ErrorKind::PermissionDenied {
            LiveError::Permission {
                what: what.into(),
                cap,
            }
        } else {
            LiveError::Io {
                what: what.into(),
                source,
            }
        }
    }
}

/// A live packet source.
pub trait LiveSource: Send {
    /// Appends records to `batch` until it holds `max` records or `timeout` passes with
    /// nothing more to read. Returns early, possibly with nothing, on timeout.
    fn fill(
        &mut self,
        batch: &mut LiveBatch,
        max: usize,
        timeout: Duration,
    ) -> Result<(), LiveError>;
    /// Counters since the source opened.
    fn counters(&mut self) -> Counters;
    /// "nflog group 5" / "interface eth0", for logs and the manifest.
    fn describe(&self) -> String;
    /// The manifest's format name: "nflog" or "afpacket".
    fn format(&self) -> &'static str;
}

/// A native-endian u16 at `i` (kernel structures), 0 when out of range.
fn ne_u16(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2)
        .map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]))
}

/// A native-endian u32 at `i`, 0 when out of range.
fn ne_u32(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// When a source's `fill` must return, shared by every source: once the batch has records
/// and nothing more is queued, or when the timeout has passed.
struct Deadline(std::time::Instant);

impl Deadline {
    fn after(timeout: Duration) -> Deadline {
        Deadline(std::time::Instant::now() + timeout)
    }

    /// Called when nothing is queued: false if `fill` should return now, else waits until
    /// `fd` is readable (at most the time left, and at most a second) and returns true.
    fn wait(&self, batch: &LiveBatch, fd: std::os::fd::RawFd) -> io::Result<bool> {
        let left = self.0.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || !batch.is_empty() {
            return Ok(false);
        }
        sys::poll_readable_raw(fd, left.as_millis().clamp(1, 1000) as i32)?;
        Ok(true)
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The length an IP packet had on the wire, from its own header (NFLOG gives no original
/// length); `None` when `ip` is not IPv4/IPv6 or too short.
fn ip_wire_len(ip: &[u8]) -> Option<u32> {
    match ip.first()? >> 4 {
        4 if ip.len() >= 4 => Some(u32::from(u16::from_be_bytes([ip[2], ip[3]]))),
        6 if ip.len() >= 6 => Some(u32::from(u16::from_be_bytes([ip[4], ip[5]])) + 40),
        _ => None,
    }
}

/// Sends hand-made IPv4 packets (header included) through a raw socket: the other end of
/// live-capture tests and load benchmarks. Needs CAP_NET_RAW.
pub struct RawIpv4Sender {
    fd: std::os::fd::OwnedFd,
}

impl RawIpv4Sender {
    pub fn open() -> Result<RawIpv4Sender, LiveError> {
        // IPPROTO_RAW implies IP_HDRINCL: the kernel sends our header as is (filling in
        // the checksum and total length).
        let fd = sys::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW)
            .map_err(|e| LiveError::io("raw IPv4 socket", "CAP_NET_RAW", e))?;
        Ok(RawIpv4Sender { fd })
    }

    /// Sends one packet to its destination address (bytes 16..20 of the header).
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        let dst = packet
            .get(16..20)
            .map(|d| std::net::Ipv4Addr::new(d[0], d[1], d[2], d[3]))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IPv4 packet"))?;
        sys::send_to_v4(&self.fd, packet, dst).map(|_| ())
    }
}

/// Sends whole Ethernet frames on one interface (AF_PACKET): the other end of tests that
/// need link-layer control (802.1Q tags). Needs CAP_NET_RAW.
pub struct RawFrameSender {
    fd: std::os::fd::OwnedFd,
}

impl RawFrameSender {
    pub fn open(ifname: &str) -> Result<RawFrameSender, LiveError> {
        let ifindex = std::fs::read_to_string(format!("/sys/class/net/{ifname}/ifindex"))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .ok_or_else(|| LiveError::NoInterface {
                name: ifname.into(),
                available: "see `ip link`".into(),
            })?;
        let what = format!("interface {ifname}");
        // Protocol 0: this socket sends only, it receives nothing.
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)
            .map_err(|e| LiveError::io(format!("{what}: packet socket"), "CAP_NET_RAW", e))?;
        sys::bind_packet(&fd, ifindex, 0)
            .map_err(|e| LiveError::io(format!("{what}: bind"), "CAP_NET_RAW", e))?;
        Ok(RawFrameSender { fd })
    }

    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        sys::send(&self.fd, frame).map(|_| ())
    }
}
