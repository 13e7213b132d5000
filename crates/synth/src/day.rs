//! A realistic day at a /24 darknet, for the bundled sample: senders are heavy-tailed (a
//! few persistent scanners and bots send most packets, a long tail of one-off probes), a
//! Mirai GRE flood burst from a few hundred bots hits one address and then the whole
//! prefix, scan campaigns (Mirai, masscan, ZMap) run for hours, one DoS victim's backscatter
//! lasts twenty minutes, and two real tunnels talk. Background follows a daily curve.
//! Packets are cut at 128 bytes, as telescopes capture them; the ground truth (flood
//! target, top scanner) is returned so CI can check what `explain` says about it.

use std::io::{self, Write};

use crate::{Kind, Rng, Sensor, frame, mirai_gre_to, public_addr};

/// The day: 2016-12-27 UTC, when the ISC's readers first reported the GRE denies.
pub const DAY_START_NS: i64 = 1_482_796_800_000_000_000;
const DAY_NS: i64 = 86_400_000_000_000;
/// Bytes kept of each packet (headers of every layer noisefloor reads fit).
pub const SNAPLEN: usize = 128;

/// What the day holds, for checks.
#[derive(Clone, Debug)]
pub struct DayTruth {
    pub packets: u64,
    pub flood_target: [u8; 4],
    pub flood_packets: u64,
    pub flood_bots: usize,
    /// The source with most packets: a Mirai scanner.
    pub top_scanner: [u8; 4],
    pub top_scanner_packets: u64,
    pub backscatter_victim: [u8; 4],
}

struct Packet {
    ts: i64,
    frame: Vec<u8>,
}

/// Rewrites the outer IPv4 source and/or destination of an Ethernet/IPv4 frame, fixing the
/// IP header checksum and the TCP/UDP checksum (whose pseudo-header holds both addresses)
/// by RFC 1624's incremental update.
pub fn set_addrs(f: &mut [u8], src: Option<[u8; 4]>, dst: Option<[u8; 4]>) {
    let ihl = ((f[14] & 0x0f) as usize) * 4;
    let proto = f[23];
    let l4 = 14 + ihl;
    for (at, new) in [(26usize, src), (30usize, dst)] {
        let Some(new) = new else { continue };
        let old: [u8; 4] = f[at..at + 4].try_into().expect("4 bytes");
        f[at..at + 4].copy_from_slice(&new);
        adjust(f, 24, &old, &new);
        let sum_at = match proto {
            6 => Some(l4 + 16),
            17 if f.len() >= l4 + 8 && (f[l4 + 6], f[l4 + 7]) != (0, 0) => Some(l4 + 6),
            _ => None,
        };
        if let Some(s) = sum_at
            && s + 2 <= f.len()
        {
            adjust(f, s, &old, &new);
        }
    }
}

/// RFC 1624: HC' = ~(~HC + ~m + m') over the 16-bit words that changed.
fn adjust(f: &mut [u8], at: usize, old: &[u8; 4], new: &[u8; 4]) {
    let mut sum = !u16::from_be_bytes([f[at], f[at + 1]]) as u32;
    for i in [0, 2] {
        sum += !u16::from_be_bytes([old[i], old[i + 1]]) as u32;
        sum += u16::from_be_bytes([new[i], new[i + 1]]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    f[at..at + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// A Pareto-like weight: a few senders get most of the traffic.
fn heavy(rng: &mut Rng, scale: f64) -> u64 {
    let u = (rng.below(1_000_000) as f64 + 1.0) / 1_000_001.0;
    (scale / u.powf(1.0 / 1.2)).min(scale * 400.0) as u64
}

/// A time in the day following a daily curve (more in the evening, UTC+8 at the sensor).
fn daily_time(rng: &mut Rng) -> i64 {
    loop {
        let t = rng.below(DAY_NS as u64) as i64;
        let hour = (t / 3_600_000_000_000) as f64;
        let w = 0.6 + 0.4 * ((hour - 12.0) / 24.0 * std::f64::consts::TAU).cos().abs();
        if (rng.below(1000) as f64) < w * 1000.0 {
            return DAY_START_NS + t;
        }
    }
}

fn push(out: &mut Vec<Packet>, ts: i64, mut f: Vec<u8>, src: Option<[u8; 4]>) {
    set_addrs(&mut f, src, None);
    out.push(Packet { ts, frame: f });
}

/// Generates the day; returns its packets in time order and the truth.
fn generate(seed: u64) -> (Vec<Packet>, DayTruth) {
    let mut rng = Rng::new(seed);
    let sensor = Sensor::default();
    let mut out: Vec<Packet> = Vec::new();

    // Persistent scanners: Mirai-infected devices, masscan and ZMap hosts, heavy-tailed.
    let mut top = ([0u8; 4], 0u64);
    for i in 0..60 {
        let src = public_addr(&mut rng);
        let kind = match i % 6 {
            0..=3 => Kind::MiraiScan,
            4 => Kind::Masscan,
            _ => Kind::Zmap,
        };
        let n = if i == 0 { 2_600 } else { heavy(&mut rng, 12.0) };
        // A campaign of a few hours, sending at a steady rate.
        let start = DAY_START_NS + rng.below(DAY_NS as u64 / 2) as i64;
        let span = 3_600_000_000_000 * (1 + rng.below(10) as i64);
        for k in 0..n {
            let ts = start + span / n as i64 * k as i64 + rng.below(1_000_000_000) as i64;
            push(&mut out, ts, frame(&mut rng, &sensor, kind), Some(src));
        }
        if n > top.1 || (n == top.1 && src < top.0) {
            top = (src, n);
        }
    }

    // The long tail: one-off probes from everywhere.
    for _ in 0..6_000 {
        let kind = match rng.below(10) {
            0..=4 => Kind::ScanTcp,
            5..=7 => Kind::ScanUdp,
            8 => Kind::ScanIcmp,
            _ => Kind::MiraiScan,
        };
        let ts = daily_time(&mut rng);
        out.push(Packet {
            ts,
            frame: frame(&mut rng, &sensor, kind),
        });
    }

    // A Mirai GRE flood burst: 300 bots, 45 s at one address, then 30 s over the prefix
    // (Mirai's `attack_gre_ip`/`_eth` with a /24 target: a random address each), at about
    // 150 packets/s as this sensor sees it.
    let bots: Vec<([u8; 4], Kind)> = (0..300)
        .map(|i| {
            let kind = match i % 10 {
                0..=5 => Kind::MiraiGreIpLe,
                6 => Kind::MiraiGreIpBe,
                7 | 8 => Kind::MiraiGreEthLe,
                _ => Kind::MiraiGreEthBe,
            };
            (public_addr(&mut rng), kind)
        })
        .collect();
    let target = sensor.target();
    let burst = DAY_START_NS + 14 * 3_600_000_000_000 + 1_234_000_000_000;
    let mut flood_packets = 0;
    for s in 0..75i64 {
        let prefix_phase = s >= 45;
        for _ in 0..150 {
            let (src, kind) = bots[rng.below(bots.len() as u64) as usize];
            let ts = burst + s * 1_000_000_000 + rng.below(1_000_000_000) as i64;
            let f = mirai_gre_to(
                &mut rng,
                kind,
                |r| {
                    if prefix_phase {
                        let mut a = sensor.prefix;
                        a[3] = r.below(256) as u8;
                        a
                    } else {
                        target
                    }
                },
                |_| src,
            );
            flood_packets += u64::from(!prefix_phase);
            out.push(Packet { ts, frame: f });
        }
    }

    // Backscatter: one DoS victim answers spoofed SYNs that carried our addresses.
    let victim = public_addr(&mut rng);
    let bs_start = DAY_START_NS + 6 * 3_600_000_000_000;
    for k in 0..1_500i64 {
        let kind = if k % 5 == 0 {
            Kind::BackscatterRst
        } else {
            Kind::BackscatterSynAck
        };
        let ts = bs_start + k * 800_000_000 + rng.below(800_000_000) as i64;
        push(&mut out, ts, frame(&mut rng, &sensor, kind), Some(victim));
    }
    // The usual thin trickle of other victims' backscatter.
    for _ in 0..800 {
        let kind = [
            Kind::BackscatterSynAck,
            Kind::BackscatterRst,
            Kind::BackscatterIcmp,
        ][rng.below(3) as usize];
        let ts = daily_time(&mut rng);
        out.push(Packet {
            ts,
            frame: frame(&mut rng, &sensor, kind),
        });
    }

    // Two real tunnels: a PPTP peer and a keyed GRE peer, each to one address of ours.
    for (kind, n) in [(Kind::Pptp, 120i64), (Kind::GreKeyed, 80)] {
        let peer = public_addr(&mut rng);
        let mut ours = sensor.prefix;
        ours[3] = 20 + rng.below(10) as u8;
        let start = DAY_START_NS + rng.below(DAY_NS as u64 / 2) as i64;
        for k in 0..n {
            let mut f = frame(&mut rng, &sensor, kind);
            set_addrs(&mut f, Some(peer), Some(ours));
            out.push(Packet {
                ts: start + k * 30_000_000_000,
                frame: f,
            });
        }
    }

    out.sort_by_key(|p| p.ts);
    let truth = DayTruth {
        packets: out.len() as u64,
        flood_target: target,
        flood_packets,
        flood_bots: bots.len(),
        top_scanner: top.0,
        top_scanner_packets: top.1,
        backscatter_victim: victim,
    };
    (out, truth)
}

/// Writes the day as pcap (Ethernet, snap length [`SNAPLEN`]) to `pcap`, and the same
/// day's GRE and scan denies as a firewall would log them (netfilter, kernel syslog) to
/// `log`: a firewall at 203.0.113.0/24 hit by the same bots and scanners.
pub fn write_day(seed: u64, pcap: impl Write, log: &mut impl Write) -> io::Result<DayTruth> {
    let (packets, truth) = generate(seed);
    let mut w = noisefloor_capture::PcapWriter::new(pcap, 1, SNAPLEN as u32, false)?;
    for p in &packets {
        let keep = p.frame.len().min(SNAPLEN);
        w.write(p.ts, &p.frame[..keep], p.frame.len() as u32)?;
    }
    drop(w);
    // The firewall sees one packet in 40 of the same senders, to its own addresses.
    let mut rng = Rng::new(seed ^ 0x6677);
    for p in packets.iter().step_by(40) {
        let f = &p.frame;
        let (src, proto) = (&f[26..30], f[23]);
        let secs = (p.ts - DAY_START_NS) / 1_000_000_000;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let dst = format!("203.0.113.{}", 1 + rng.below(254));
        let len = u16::from_be_bytes([f[16], f[17]]);
        let id = u16::from_be_bytes([f[18], f[19]]);
        let ttl = f[22];
        let l4 = 14 + ((f[14] & 0x0f) as usize) * 4;
        let ports = match proto {
            6 | 17 if f.len() >= l4 + 4 => format!(
                " SPT={} DPT={}",
                u16::from_be_bytes([f[l4], f[l4 + 1]]),
                u16::from_be_bytes([f[l4 + 2], f[l4 + 3]])
            ),
            1 if f.len() >= l4 + 8 => {
                let (t, c) = (f[l4], f[l4 + 1]);
                if t == 8 || t == 0 {
                    format!(
                        " TYPE={t} CODE={c} ID={} SEQ={}",
                        u16::from_be_bytes([f[l4 + 4], f[l4 + 5]]),
                        u16::from_be_bytes([f[l4 + 6], f[l4 + 7]])
                    )
                } else {
                    format!(" TYPE={t} CODE={c}")
                }
            }
            _ => String::new(),
        };
        let name = match proto {
            6 => "TCP".to_string(),
            17 => "UDP".to_string(),
            1 => "ICMP".to_string(),
            n => n.to_string(),
        };
        let extra = if proto == 6 {
            " WINDOW=65535 RES=0x00 SYN URGP=0"
        } else {
            ""
        };
        writeln!(
            log,
            "Dec 27 {h:02}:{m:02}:{s:02} fw kernel: [{}.{:06}] DROP IN=eth0 OUT= MAC=00:1c:7f:81:01:3e:40:55:39:6f:c8:96:08:00 SRC={}.{}.{}.{} DST={dst} LEN={len} TOS=0x00 PREC=0x00 TTL={ttl} ID={id} PROTO={name}{ports}{extra}",
            100_000 + secs,
            (p.ts % 1_000_000_000) / 1000,
            src[0],
            src[1],
            src[2],
            src[3]
        )?;
    }
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_an_address_keeps_the_checksums_right() {
        let mut rng = Rng::new(5);
        let sensor = Sensor::default();
        for kind in [Kind::ScanTcp, Kind::ScanUdp, Kind::Pptp, Kind::MiraiScan] {
            let mut f = frame(&mut rng, &sensor, kind);
            set_addrs(&mut f, Some([203, 0, 113, 9]), Some([198, 51, 100, 77]));
            let d = noisefloor_wire::dissect(1, &f);
            let mut ok = true;
            d.layers().get(1).expect("ip").visit(&mut |fl| {
                if fl.key == "checksum_ok" {
                    ok = matches!(fl.value, noisefloor_wire::field::Value::Bool(true));
                }
            });
            assert!(ok, "{kind:?}");
        }
    }

    /// samples/darknet-day.* are what `noisefloor-synth --seed 27 --day` writes today.
    #[test]
    fn the_bundled_sample_is_this_generator_s_output() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
        let mut pcap = Vec::new();
        let mut log = Vec::new();
        let t = write_day(27, &mut pcap, &mut log).unwrap();
        let gz = std::fs::read(dir.join("darknet-day.pcap.gz")).unwrap();
        let mut bundled = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bundled)
            .unwrap();
        assert!(
            bundled == pcap,
            "regenerate: noisefloor-synth --seed 27 --day samples/darknet-day"
        );
        assert_eq!(std::fs::read(dir.join("firewall-day.log")).unwrap(), log);
        let truth = std::fs::read_to_string(dir.join("darknet-day.truth")).unwrap();
        let ip = |a: [u8; 4]| std::net::Ipv4Addr::from(a).to_string();
        assert!(truth.contains(&format!("flood_target {}\n", ip(t.flood_target))));
        assert!(truth.contains(&format!("top_scanner {}\n", ip(t.top_scanner))));
        assert!(truth.contains(&format!("packets {}\n", t.packets)));
    }

    #[test]
    fn the_day_is_heavy_tailed_and_the_same_for_a_seed() {
        let (a, truth) = generate(1);
        let (b, _) = generate(1);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.frame == y.frame));
        assert!(truth.top_scanner_packets >= 1_000);
        assert_eq!(truth.flood_packets, 45 * 150);
    }
}
