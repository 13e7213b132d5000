//! The only `unsafe` in noisefloor: thin wrappers over the Linux socket calls live capture
//! needs (netlink, AF_PACKET, its mmap'd TPACKET_V3 ring). Everything above this module is
//! safe code working on byte slices; each block states why its call is sound.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `socket(2)`, close-on-exec.
pub fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; a non-negative result is a new descriptor
    // that nothing else owns.
    let fd = check(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Binds a netlink socket with a kernel-assigned port id.
pub fn bind_netlink(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: sockaddr_nl is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: the pointer and length describe `addr`, which outlives the call.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Binds an AF_PACKET socket to one interface and an ethertype (network order).
pub fn bind_packet(fd: &OwnedFd, ifindex: i32, protocol_be: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = protocol_be;
    addr.sll_ifindex = ifindex;
    // SAFETY: the pointer and length describe `addr`, which outlives the call.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `setsockopt(2)` with any plain-old-data value.
fn setsockopt_raw<T: Copy>(fd: RawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, a Copy (plain) value the kernel only reads.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

pub fn setsockopt_int(fd: &OwnedFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    setsockopt_raw(fd.as_raw_fd(), level, name, &value)
}

/// Joins promiscuous mode on `ifindex` for as long as the socket lives.
pub fn packet_promisc(fd: &OwnedFd, ifindex: i32) -> io::Result<()> {
    // SAFETY: packet_mreq is plain old data; all-zero is a valid value.
    let mut mreq: libc::packet_mreq = unsafe { std::mem::zeroed() };
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
    setsockopt_raw(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_ADD_MEMBERSHIP,
        &mreq,
    )
}

/// Kernel counters of an AF_PACKET socket since the last call (the kernel resets them):
/// (packets seen including drops, packets dropped because the ring was full).
pub fn packet_statistics(fd: &OwnedFd) -> io::Result<(u32, u32)> {
    // tpacket_stats_v3: tp_packets, tp_drops, tp_freeze_q_cnt.
    let mut stats = [0u32; 3];
    let mut len = std::mem::size_of_val(&stats) as libc::socklen_t;
    // SAFETY: the pointer and length describe `stats`, which the kernel fills (at most `len`).
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            stats.as_mut_ptr().cast(),
            &mut len,
        )
    })?;
    Ok((stats[0], stats[1]))
}

pub fn send(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `buf`, which the kernel only reads.
    let n = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Non-blocking `recv(2)`: `Ok(None)` when nothing is queued.
pub fn recv_nonblocking(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    // SAFETY: the pointer and length describe `buf`, which the kernel writes at most
    // `buf.len()` bytes into.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes; true when readable.
pub fn poll_readable(fd: &OwnedFd, timeout_ms: i32) -> io::Result<bool> {
    poll_readable_raw(fd.as_raw_fd(), timeout_ms)
}

/// [`poll_readable`] for a descriptor owned elsewhere (libpcap's). An invalid descriptor
/// only makes poll report POLLNVAL.
pub fn poll_readable_raw(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN | libc::POLLERR,
        revents: 0,
    };
    // SAFETY: one valid pollfd that outlives the call.
    match check(unsafe { libc::poll(&mut p, 1, timeout_ms) }) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

/// TPACKET_V3 ring request (linux/if_packet.h `struct tpacket_req3`).
#[repr(C)]
#[derive(Clone, Copy)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

const TPACKET_V3: i32 = 2;
/// Offset of `hdr.bh1.block_status` in `struct tpacket_block_desc`.
const BLOCK_STATUS_OFFSET: usize = 8;

/// A TPACKET_V3 receive ring mapped into this process.
///
/// Blocks alternate between the kernel and us through their status word: the kernel fills
/// a block and sets `TP_STATUS_USER`; we read it and hand it back with `TP_STATUS_KERNEL`.
/// A block is only readable through a [`Block`] guard, which hands it back when dropped,
/// so no slice of a kernel-owned block can exist.
pub struct Ring {
    base: *mut u8,
    block_size: usize,
    blocks: usize,
}

// SAFETY: the mapping is owned by the Ring and only touched through &mut self methods.
unsafe impl Send for Ring {}

impl Ring {
    /// Sets TPACKET_V3 on `fd`, asks for `blocks` blocks of `block_size` bytes (a multiple
    /// of the page size) retired after `retire_ms` even when not full, and maps them.
    pub fn new(fd: &OwnedFd, block_size: usize, blocks: usize, retire_ms: u32) -> io::Result<Ring> {
        setsockopt_int(fd, libc::SOL_PACKET, libc::PACKET_VERSION, TPACKET_V3)?;
        let frame_size = 2048usize;
        let req = TpacketReq3 {
            block_size: block_size as u32,
            block_nr: blocks as u32,
            frame_size: frame_size as u32,
            frame_nr: (block_size / frame_size * blocks) as u32,
            retire_blk_tov: retire_ms,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt_raw(fd.as_raw_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = block_size * blocks;
        // SAFETY: a fresh shared mapping of the socket's ring, sized exactly as requested
        // above; the kernel validates the length against the ring.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring {
            base: base.cast(),
            block_size,
            blocks,
        })
    }

    pub fn blocks(&self) -> usize {
        self.blocks
    }

    fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: `i < blocks`, so the word lies inside the mapping; it is 4-byte aligned
        // (blocks are page aligned) and the kernel accesses it atomically too.
        unsafe {
            AtomicU32::from_ptr(
                self.base
                    .add(i * self.block_size + BLOCK_STATUS_OFFSET)
                    .cast(),
            )
        }
    }

    /// Block `i` if the kernel has handed it to us.
    pub fn take(&mut self, i: usize) -> Option<Block<'_>> {
        if i >= self.blocks || self.status(i).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let after_status = BLOCK_STATUS_OFFSET + 4;
        // SAFETY: the range lies inside the mapping, and while the block's status says USER
        // the kernel does not write it. The slice starts after the status word, so it never
        // overlaps the atomic we store to; the guard borrows the ring mutably so the block
        // cannot be handed back while the slice lives.
        let tail = unsafe {
            std::slice::from_raw_parts(
                self.base.add(i * self.block_size + after_status),
                self.block_size - after_status,
            )
        };
        Some(Block {
            tail,
            status: self.status(i),
        })
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no Block can outlive `self`.
        unsafe {
            libc::munmap(self.base.cast(), self.block_size * self.blocks);
        }
    }
}

/// A ring block we own until the guard is dropped.
pub struct Block<'r> {
    /// The block from just after its status word (offset 12) to its end.
    tail: &'r [u8],
    status: &'r AtomicU32,
}

impl<'r> Block<'r> {
    const TAIL_START: usize = BLOCK_STATUS_OFFSET + 4;

    fn u32_at(&self, block_offset: usize) -> u32 {
        super::ne_u32(self.tail, block_offset - Self::TAIL_START)
    }
    /// `hdr.bh1.num_pkts`.
    pub fn num_packets(&self) -> u32 {
        self.u32_at(12)
    }
    /// `hdr.bh1.offset_to_first_pkt`.
    pub fn first_packet_offset(&self) -> usize {
        self.u32_at(16) as usize
    }
    /// The block's bytes from `block_offset` (≥ 12) to its end; empty if out of range.
    pub fn from(&self, block_offset: usize) -> &'r [u8] {
        block_offset
            .checked_sub(Self::TAIL_START)
            .and_then(|i| self.tail.get(i..))
            .unwrap_or(&[])
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        self.status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

static STOP_REQUESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_stop_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

/// Installs handlers so SIGINT and SIGTERM set the returned flag instead of killing the
/// process (without SA_RESTART, so a blocked poll returns at once).
pub fn stop_on_signals() -> io::Result<&'static std::sync::atomic::AtomicBool> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: sigaction is plain old data; all-zero is a valid (empty) value.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_stop_signal as *const () as libc::sighandler_t;
        // SAFETY: `action.sa_mask` is a valid sigset_t owned by this frame.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: installs a handler that only performs an atomic store; `action` outlives
        // the call and the old action is not requested.
        check(unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) })?;
    }
    Ok(&STOP_REQUESTED)
}

/// `sendto(2)` of a complete IPv4 packet (header included) on a raw socket.
pub fn send_to_v4(fd: &OwnedFd, packet: &[u8], dst: std::net::Ipv4Addr) -> io::Result<usize> {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = u32::from_ne_bytes(dst.octets());
    // SAFETY: the pointers and lengths describe `packet` (only read) and `addr`, both of
    // which outlive the call.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
