//! NFLOG over netlink (linux/netfilter/nfnetlink_log.h): bind a group, ask for whole
//! packets with sequence numbers, read batched messages.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use noisefloor_wire::Nflog;

use super::{
    Counters, Deadline, LiveBatch, LiveError, LiveSource, ip_wire_len, ne_u16, ne_u32, now_ns, sys,
};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = NFNL_SUBSYS_ULOG << 8;
const NFULNL_MSG_CONFIG: u16 = (NFNL_SUBSYS_ULOG << 8) | 1;
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULA_CFG_NLBUFSIZ: u16 = 3;
const NFULA_CFG_TIMEOUT: u16 = 4;
const NFULA_CFG_QTHRESH: u16 = 5;
const NFULA_CFG_FLAGS: u16 = 6;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_COPY_PACKET: u8 = 2;
const NFULNL_CFG_F_SEQ: u16 = 1;
/// LINKTYPE_NFLOG.
pub const LINKTYPE_NFLOG: u32 = 239;

/// The kernel batches log messages into skbs of this size (its maximum is 128 KiB)...
const KERNEL_BATCH: u32 = 128 * 1024;
/// ...sending one when it holds this many packets...
const KERNEL_QTHRESH: u32 = 256;
/// ...or after this many hundredths of a second.
const KERNEL_FLUSH_CS: u32 = 1;

/// Appends one netlink attribute, padded to 4 bytes.
fn attr(msg: &mut Vec<u8>, ty: u16, value: &[u8]) {
    msg.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    msg.extend_from_slice(&ty.to_ne_bytes());
    msg.extend_from_slice(value);
    while !msg.len().is_multiple_of(4) {
        msg.push(0);
    }
}

/// A config request for `group` carrying `attrs`.
fn config_msg(seq: u32, group: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&[0; NLMSG_HDRLEN]);
    // nfgenmsg: family AF_UNSPEC, version NFNETLINK_V0, res_id = group (network order).
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&group.to_be_bytes());
    for (ty, v) in attrs {
        attr(&mut m, *ty, v);
    }
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m[4..6].copy_from_slice(&NFULNL_MSG_CONFIG.to_ne_bytes());
    m[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    m
}

/// Walks the netlink messages in one datagram: (type, flags, seq, body).
fn messages(buf: &[u8]) -> impl Iterator<Item = Result<(u16, u16, u32, &[u8]), ()>> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos + NLMSG_HDRLEN > buf.len() {
            return None;
        }
        let len = ne_u32(buf, pos) as usize;
        if len < NLMSG_HDRLEN || pos + len > buf.len() {
            pos = buf.len();
            return Some(Err(()));
        }
        let item = (
            ne_u16(buf, pos + 4),
            ne_u16(buf, pos + 6),
            ne_u32(buf, pos + 8),
            &buf[pos + NLMSG_HDRLEN..pos + len],
        );
        pos += (len + 3) & !3;
        Some(Ok(item))
    })
}

/// Decodes the datagrams of one NFLOG group: packet messages become LINKTYPE_NFLOG
/// records, sequence gaps become drop counts. Kernel data is still checked like any input.
pub struct NflogStream {
    group: u16,
    next_seq: Option<u32>,
    pub counters: Counters,
}

impl NflogStream {
    pub fn new(group: u16) -> NflogStream {
        NflogStream {
            group,
            next_seq: None,
            counters: Counters::default(),
        }
    }

    /// Appends the packets of one netlink datagram to `batch`.
    pub fn datagram(&mut self, buf: &[u8], batch: &mut LiveBatch) {
        for m in messages(buf) {
            let Ok((ty, _, _, body)) = m else {
                self.counters.malformed += 1;
                break;
            };
            if ty != NFULNL_MSG_PACKET {
                // Acknowledgements, NLMSG_DONE closing a batch, other subsystems.
                continue;
            }
            let Ok(view) = Nflog::parse(body) else {
                self.counters.malformed += 1;
                continue;
            };
            if view.resource_id() != self.group {
                continue;
            }
            if let Some(seq) = view.seq() {
                if let Some(expected) = self.next_seq {
                    let gap = seq.wrapping_sub(expected);
                    // A gap is packets the kernel numbered but could not deliver.
                    if gap < 1 << 31 {
                        self.counters.kernel_drops += u64::from(gap);
                    }
                }
                self.next_seq = Some(seq.wrapping_add(1));
            }
            let payload = view.payload().unwrap_or(&[]);
            let kept = payload.len() as u32;
            let wire = ip_wire_len(payload).unwrap_or(kept).max(kept);
            if kept < wire {
                self.counters.truncated += 1;
            }
            self.counters.received += 1;
            self.counters.bytes += u64::from(wire);
            let ts = view.timestamp_ns().unwrap_or_else(now_ns);
            // The record's length on the wire: its NFLOG header and TLVs plus the whole packet.
            let orig = body.len() as u32 - kept + wire;
            batch.push(ts, LINKTYPE_NFLOG, &[body], orig);
        }
    }
}

/// Receives packets logged by `-j NFLOG --nflog-group N` (or nftables `log group N`).
pub struct NflogSource {
    fd: OwnedFd,
    group: u16,
    buf: Vec<u8>,
    stream: NflogStream,
}

impl NflogSource {
    /// Binds NFLOG group `group`, copying up to `snaplen` bytes of each packet, with a
    /// socket receive buffer of `rcvbuf` bytes (the kernel's queue while we are busy).
    pub fn open(group: u16, snaplen: u32, rcvbuf: usize) -> Result<NflogSource, LiveError> {
        let what = format!("NFLOG group {group}");
        let cap = "CAP_NET_ADMIN";
        let fd = sys::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_NETFILTER)
            .map_err(|e| LiveError::io(format!("{what}: netlink socket"), cap, e))?;
        sys::bind_netlink(&fd).map_err(|e| LiveError::io(format!("{what}: bind"), cap, e))?;
        // Beyond net.core.rmem_max only with CAP_NET_ADMIN; fall back to what is allowed.
        let rcv = i32::try_from(rcvbuf).unwrap_or(i32::MAX);
        if sys::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, rcv).is_err() {
            let _ = sys::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, rcv);
        }
        // Asking for timestamps turns on kernel receive timestamps, so NFLOG messages carry
        // the time the packet arrived rather than the time we read it.
        let _ = sys::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1);
        let mut src = NflogSource {
            fd,
            group,
            buf: vec![0; 1 << 20],
            stream: NflogStream::new(group),
        };
        src.request(1, &[(NFULA_CFG_CMD, &[NFULNL_CFG_CMD_BIND])])
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EBUSY) => LiveError::GroupBusy(group),
                _ => LiveError::io(format!("{what}: bind group"), cap, e),
            })?;
        let mut mode = snaplen.to_be_bytes().to_vec();
        mode.extend_from_slice(&[NFULNL_COPY_PACKET, 0]);
        src.request(
            2,
            &[
                (NFULA_CFG_MODE, &mode),
                (NFULA_CFG_NLBUFSIZ, &KERNEL_BATCH.to_be_bytes()),
                (NFULA_CFG_QTHRESH, &KERNEL_QTHRESH.to_be_bytes()),
                (NFULA_CFG_TIMEOUT, &KERNEL_FLUSH_CS.to_be_bytes()),
                (NFULA_CFG_FLAGS, &NFULNL_CFG_F_SEQ.to_be_bytes()),
            ],
        )
        .map_err(|e| LiveError::io(format!("{what}: configure"), cap, e))?;
        Ok(src)
    }

    /// Sends one config request and waits for its acknowledgement.
    fn request(&mut self, seq: u32, attrs: &[(u16, &[u8])]) -> std::io::Result<()> {
        sys::send(&self.fd, &config_msg(seq, self.group, attrs))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !sys::poll_readable(&self.fd, 100)? {
                continue;
            }
            let Some(n) = sys::recv_nonblocking(&self.fd, &mut self.buf)? else {
                continue;
            };
            for m in messages(&self.buf[..n]) {
                let Ok((ty, _, mseq, body)) = m else { break };
                if ty == NLMSG_ERROR && mseq == seq {
                    let errno = -(ne_u32(body, 0) as i32);
                    return if errno == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::from_raw_os_error(errno))
                    };
                }
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the kernel did not acknowledge the NFLOG configuration",
        ))
    }
}

impl LiveSource for NflogSource {
    fn fill(
        &mut self,
        batch: &mut LiveBatch,
        max: usize,
        timeout: Duration,
    ) -> Result<(), LiveError> {
        let deadline = Deadline::after(timeout);
        while batch.len() < max {
            match sys::recv_nonblocking(&self.fd, &mut self.buf) {
                Ok(Some(n)) => self.stream.datagram(&self.buf[..n], batch),
                Ok(None) => {
                    let more =
                        deadline
                            .wait(batch, self.fd.as_raw_fd())
                            .map_err(|e| LiveError::Io {
                                what: self.describe(),
                                source: e,
                            })?;
                    if !more {
                        return Ok(());
                    }
                }
                // The socket buffer overflowed: the kernel dropped messages, which the
                // sequence numbers will count; reading on is the way to recover.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.stream.counters.overruns += 1
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(()),
                Err(e) => {
                    return Err(LiveError::Io {
                        what: self.describe(),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    fn counters(&mut self) -> Counters {
        self.stream.counters
    }

    fn describe(&self) -> String {
        format!("nflog group {}", self.group)
    }

    fn format(&self) -> &'static str {
        "nflog"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_message_layout() {
        let m = config_msg(7, 5, &[(NFULA_CFG_CMD, &[NFULNL_CFG_CMD_BIND])]);
        // 16 header + 4 nfgenmsg + attribute of 5 bytes padded to 8.
        assert_eq!(m.len(), 28);
        assert_eq!(ne_u32(&m, 0), 28);
        assert_eq!(ne_u16(&m, 4), 0x0401);
        assert_eq!(ne_u32(&m, 8), 7);
        assert_eq!(&m[16..20], &[0, 0, 0, 5]);
        assert_eq!(ne_u16(&m, 20), 5);
        assert_eq!(ne_u16(&m, 22), NFULA_CFG_CMD);
        assert_eq!(m[24], NFULNL_CFG_CMD_BIND);
    }

    #[test]
    fn messages_stop_at_a_bad_length() {
        let mut buf = config_msg(1, 1, &[]);
        buf.extend_from_slice(&[200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let got: Vec<_> = messages(&buf).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert!(got[1].is_err());
    }

    /// A netlink NFLOG packet message as the kernel sends it, parsed as a LINKTYPE_NFLOG
    /// record, with sequence gaps counted as drops.
    #[test]
    fn packets_sequence_gaps_and_truncation() {
        let ip = {
            let mut ip = vec![
                0x45, 0, 0, 60, 0, 1, 0, 0, 64, 47, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
            ];
            ip.extend_from_slice(&[0; 20]); // 40 of 60 bytes kept
            ip
        };
        let packet = |seq: u32| {
            let mut m = vec![0u8; NLMSG_HDRLEN];
            m.extend_from_slice(&[2, 0, 0, 9]);
            attr(&mut m, 1, &[0x08, 0x00, 1, 0]);
            attr(&mut m, 10, b"darknet\0");
            attr(&mut m, 12, &seq.to_be_bytes());
            let mut ts = 1_700_000_000u64.to_be_bytes().to_vec();
            ts.extend_from_slice(&250_000u64.to_be_bytes());
            attr(&mut m, 3, &ts);
            attr(&mut m, 9, &ip);
            let len = m.len() as u32;
            m[0..4].copy_from_slice(&len.to_ne_bytes());
            m[4..6].copy_from_slice(&NFULNL_MSG_PACKET.to_ne_bytes());
            m
        };
        let mut stream = NflogStream::new(9);
        let mut dgram = packet(10);
        dgram.extend(packet(11));
        dgram.extend(packet(15));
        let mut batch = LiveBatch::default();
        stream.datagram(&dgram, &mut batch);
        assert_eq!(batch.len(), 3);
        let c = stream.counters;
        assert_eq!((c.received, c.kernel_drops, c.truncated), (3, 3, 3));
        let p = batch.packets[0];
        assert_eq!(p.linktype, LINKTYPE_NFLOG);
        assert_eq!(p.ts_ns, 1_700_000_000_250_000_000);
        let view = Nflog::parse(batch.data(&p)).unwrap();
        assert_eq!(view.prefix(), Some(&b"darknet"[..]));
        assert_eq!(view.payload().map(<[u8]>::len), Some(40));
        assert_eq!(p.orig_len as usize, batch.data(&p).len() + 20);
    }
}
