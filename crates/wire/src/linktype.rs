//! pcap link types (<https://www.tcpdump.org/linktypes.html>) this crate decodes.

pub const NULL: u32 = 0;
pub const ETHERNET: u32 = 1;
pub const PPP: u32 = 9;
/// DLT_RAW as written by most BSDs.
pub const RAW_BSD12: u32 = 12;
/// DLT_RAW as written by OpenBSD.
pub const RAW_OPENBSD14: u32 = 14;
pub const PPP_HDLC: u32 = 50;
pub const RAW: u32 = 101;
pub const LOOP: u32 = 108;
pub const LINUX_SLL: u32 = 113;
pub const PFLOG: u32 = 117;
pub const IPV4: u32 = 228;
pub const IPV6: u32 = 229;
pub const NFLOG: u32 = 239;
pub const LINUX_SLL2: u32 = 276;

/// The registry name of a link type, or `None` when this crate does not decode it.
pub fn name(lt: u32) -> Option<&'static str> {
    Some(match lt {
        NULL => "NULL",
        ETHERNET => "EN10MB",
        PPP => "PPP",
        RAW_BSD12 | RAW_OPENBSD14 | RAW => "RAW",
        PPP_HDLC => "PPP_HDLC",
        LOOP => "LOOP",
        LINUX_SLL => "LINUX_SLL",
        PFLOG => "PFLOG",
        IPV4 => "IPV4",
        IPV6 => "IPV6",
        NFLOG => "NFLOG",
        LINUX_SLL2 => "LINUX_SLL2",
        _ => return None,
    })
}

/// A label for any link type, decoded or not.
pub fn label(lt: u32) -> String {
    match name(lt) {
        Some(n) => format!("{n} ({lt})"),
        None => format!("unsupported link type {lt}"),
    }
}
