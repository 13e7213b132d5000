//! Counters shared by the sensor's threads, and their Prometheus text exposition.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use noisefloor_capture::live::Counters;
use noisefloor_classify::Class;

/// Everything `/metrics` shows; updated lock-free by the capture, writer and commit threads.
#[derive(Default)]
pub struct Metrics {
    pub received: AtomicU64,
    pub bytes: AtomicU64,
    pub kernel_drops: AtomicU64,
    pub overruns: AtomicU64,
    pub truncated: AtomicU64,
    pub malformed: AtomicU64,
    pub decode_errors: AtomicU64,
    pub stored: AtomicU64,
    pub by_class: [AtomicU64; Class::ALL.len()],
    pub segments: AtomicU64,
    pub commit_errors: AtomicU64,
    pub last_commit_unix: AtomicU64,
    pub ring_bytes: AtomicU64,
}

impl Metrics {
    pub fn set_capture(&self, c: &Counters) {
        self.received.store(c.received, Relaxed);
        self.bytes.store(c.bytes, Relaxed);
        self.kernel_drops.store(c.kernel_drops, Relaxed);
        self.overruns.store(c.overruns, Relaxed);
        self.truncated.store(c.truncated, Relaxed);
        self.malformed.store(c.malformed, Relaxed);
    }

    pub fn count_class(&self, class: Class) {
        if let Some(i) = Class::ALL.iter().position(|&c| c == class) {
            self.by_class[i].fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text format (version 0.0.4).
    pub fn render(&self, sensor: &str, source: &str) -> String {
        let mut out = String::new();
        let labels = format!(
            "sensor=\"{}\",source=\"{}\"",
            escape(sensor),
            escape(source)
        );
        let mut metric = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP noisefloor_{name} {help}");
            let _ = writeln!(out, "# TYPE noisefloor_{name} {kind}");
            let _ = writeln!(out, "noisefloor_{name}{{{labels}}} {v}");
        };
        let mut counter = |name: &str, help: &str, v: u64| metric(name, "counter", help, v);
        counter(
            "packets_total",
            "Packets read from the kernel.",
            self.received.load(Relaxed),
        );
        counter(
            "bytes_total",
            "Bytes on the wire of those packets.",
            self.bytes.load(Relaxed),
        );
        counter(
            "kernel_drops_total",
            "Packets the kernel dropped before the sensor read them (ring full, NFLOG sequence gaps).",
            self.kernel_drops.load(Relaxed),
        );
        counter(
            "netlink_overruns_total",
            "Times the NFLOG netlink socket overflowed (ENOBUFS).",
            self.overruns.load(Relaxed),
        );
        counter(
            "truncated_total",
            "Packets kept shorter than on the wire (snap length).",
            self.truncated.load(Relaxed),
        );
        counter(
            "decode_errors_total",
            "Packets with a malformed header, plus unreadable kernel messages.",
            self.decode_errors.load(Relaxed) + self.malformed.load(Relaxed),
        );
        counter(
            "stored_total",
            "Rows written to lake segments.",
            self.stored.load(Relaxed),
        );
        counter(
            "segments_total",
            "Segments committed to the lake.",
            self.segments.load(Relaxed),
        );
        counter(
            "commit_errors_total",
            "Segments that could not be committed (they stay ready for the next start).",
            self.commit_errors.load(Relaxed),
        );
        metric(
            "last_commit_timestamp_seconds",
            "gauge",
            "Unix time of the last segment commit.",
            self.last_commit_unix.load(Relaxed),
        );
        metric(
            "pcap_ring_bytes",
            "gauge",
            "Bytes held by the pcap ring.",
            self.ring_bytes.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP noisefloor_class_packets_total Packets per class."
        );
        let _ = writeln!(out, "# TYPE noisefloor_class_packets_total counter");
        for (i, c) in Class::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "noisefloor_class_packets_total{{{labels},class=\"{}\"}} {}",
                c.name(),
                self.by_class[i].load(Relaxed)
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `GET /metrics` on `addr` from a background thread (which lives as long as the
/// process). Anything else gets 404. Requests are read with a short timeout so a stalled
/// client cannot hold the thread.
pub fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    sensor: String,
    source: String,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let req = read_request_head(&mut conn);
                let line = String::from_utf8_lossy(&req);
                let (status, body) = if line.starts_with("GET /metrics ") || line.starts_with("GET / ") {
                    ("200 OK", metrics.render(&sensor, &source))
                } else {
                    ("404 Not Found", "only GET /metrics is served\n".to_owned())
                };
                let _ = write!(
                    conn,
                    "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                // Close only our side, then read what the client still sends until it
                // closes: closing with unread bytes makes the kernel answer with a reset,
                // which can discard the response before the client has read it.
                let _ = conn.shutdown(std::net::Shutdown::Write);
                let mut rest = Vec::new();
                read_until(&mut conn, &mut rest, 64 * 1024, Duration::from_millis(500), |_| false);
            }
        })?;
    Ok(bound)
}

/// The request line and headers (up to the blank line), read in as many segments as the
/// client sends them; at most 8 KiB and 2 s, so a stalled client cannot hold the thread.
fn read_request_head(conn: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::with_capacity(1024);
    read_until(conn, &mut head, 8 * 1024, Duration::from_secs(2), |h| {
        h.windows(4).any(|w| w == b"\r\n\r\n")
    });
    head
}

/// Reads into `into` until `done(into)`, the peer closes, `max` bytes or `within` has
/// passed in all (one deadline for the whole loop, not per read, so a client trickling
/// bytes cannot hold the single metrics thread either).
fn read_until(
    conn: &mut TcpStream,
    into: &mut Vec<u8>,
    max: usize,
    within: Duration,
    done: impl Fn(&[u8]) -> bool,
) {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 1024];
    while into.len() < max && !done(into) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => into.extend_from_slice(&buf[..n]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Shutdown;

    fn get(addr: SocketAddr, parts: &[&[u8]]) -> String {
        let mut c = TcpStream::connect(addr).expect("the metrics port accepts");
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for p in parts {
            c.write_all(p).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        // A reset instead of a clean close fails here.
        c.read_to_string(&mut out)
            .expect("the response ends with a clean close");
        let _ = c.shutdown(Shutdown::Both);
        out
    }

    #[test]
    fn a_request_in_pieces_gets_the_whole_response_and_a_clean_close() {
        let m = Arc::new(Metrics::default());
        m.received.store(7, Relaxed);
        let local = "127.0.0.1:0".parse().unwrap();
        let addr = serve(local, m, "lab".into(), "test".into()).unwrap();
        let out = get(
            addr,
            &[b"GET /metrics HTTP/1.0\r\n", b"User-Agent: t\r\n", b"\r\n"],
        );
        assert!(out.starts_with("HTTP/1.0 200 OK\r\n"), "{out}");
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap();
        assert_eq!(length.parse::<usize>().unwrap(), body.len());
        assert!(body.contains("noisefloor_packets_total{sensor=\"lab\",source=\"test\"} 7"));
        let other = get(addr, &[b"GET /other HTTP/1.0\r\n\r\n"]);
        assert!(other.starts_with("HTTP/1.0 404 Not Found\r\n"), "{other}");
    }
}
