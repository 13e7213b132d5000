//! Interface capture through libpcap (cargo feature `libpcap`), for kernel-side BPF capture
//! filters in tcpdump syntax. The default build needs no system library and uses
//! [`super::PacketSource`] instead.

use std::os::fd::AsRawFd;
use std::time::Duration;

use super::{Counters, Deadline, LiveBatch, LiveError, LiveSource};

pub struct LibpcapSource {
    cap: pcap::Capture<pcap::Active>,
    name: String,
    linktype: u32,
    counters: Counters,
}

fn pcap_err(what: &str, e: pcap::Error) -> LiveError {
    let msg = e.to_string();
    if msg.contains("ermission") || msg.contains("not permitted") {
        LiveError::Permission {
            what: what.to_owned(),
            cap: "CAP_NET_RAW",
        }
    } else {
        LiveError::Io {
            what: what.to_owned(),
            source: std::io::Error::other(msg),
        }
    }
}

impl LibpcapSource {
    /// Opens `name` for incoming packets only, with `filter` (tcpdump syntax) compiled
    /// to BPF and run in the kernel.
    pub fn open(
        name: &str,
        snaplen: u32,
        buffer_bytes: usize,
        promisc: bool,
        filter: Option<&str>,
    ) -> Result<LibpcapSource, LiveError> {
        let what = format!("interface {name} (libpcap)");
        let mut cap = pcap::Capture::from_device(name)
            .map_err(|e| pcap_err(&what, e))?
            .promisc(promisc)
            .snaplen(i32::try_from(snaplen).unwrap_or(i32::MAX))
            .buffer_size(i32::try_from(buffer_bytes).unwrap_or(i32::MAX))
            .timeout(100)
            .immediate_mode(true)
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(|e| pcap_err(&what, e))?;
        cap.direction(pcap::Direction::In)
            .map_err(|e| pcap_err(&what, e))?;
        if let Some(f) = filter {
            cap.filter(f, true).map_err(|e| LiveError::Io {
                what: format!("capture filter {f:?}"),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(0);
        Ok(LibpcapSource {
            cap,
            name: name.to_owned(),
            linktype,
            counters: Counters::default(),
        })
    }
}

impl LiveSource for LibpcapSource {
    fn fill(
        &mut self,
        batch: &mut LiveBatch,
        max: usize,
        timeout: Duration,
    ) -> Result<(), LiveError> {
        let deadline = Deadline::after(timeout);
        while batch.len() < max {
            match self.cap.next_packet() {
                Ok(p) => {
                    let ts = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec * 1000;
                    let kept = p.data.len() as u32;
                    batch.push(ts, self.linktype, &[p.data], p.header.len);
                    self.counters.received += 1;
                    self.counters.bytes += u64::from(p.header.len);
                    self.counters.truncated += u64::from(kept < p.header.len);
                }
                // Non-blocking: nothing queued. libpcap's own wait would block until a
                // packet arrives (TPACKET_V3), so we poll its descriptor with our timeout
                // and stay responsive to a stop request.
                Err(pcap::Error::TimeoutExpired) => {
                    let more =
                        deadline
                            .wait(batch, self.cap.as_raw_fd())
                            .map_err(|e| LiveError::Io {
                                what: self.describe(),
                                source: e,
                            })?;
                    if !more {
                        break;
                    }
                }
                Err(e) => return Err(pcap_err(&self.describe(), e)),
            }
        }
        Ok(())
    }

    fn counters(&mut self) -> Counters {
        // libpcap's counters are cumulative since the capture opened.
        if let Ok(s) = self.cap.stats() {
            self.counters.kernel_drops = u64::from(s.dropped) + u64::from(s.if_dropped);
        }
        self.counters
    }

    fn describe(&self) -> String {
        format!("interface {} (libpcap)", self.name)
    }

    fn format(&self) -> &'static str {
        "libpcap"
    }
}
