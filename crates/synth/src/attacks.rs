//! Labelled attacks against one host or prefix, mixed with darknet background, and
//! darknet-only runs that must yield no attack: the ground truth for `explain`'s episode
//! verdicts. Rates and shapes follow published descriptions: spoofed floods with uniformly
//! random sources (hping3 `--rand-source`, Mirai `attack_tcp.c`/`attack_udp.c`), reflection
//! via open services answering requests forged with the victim's address (Rossow,
//! "Amplification Hell", NDSS 2014), Mirai GRE floods against an address or a prefix
//! (`attack_gre.c`), and DoS backscatter trickling into a darknet (Moore et al., 2001).

use crate::{Kind, Rng, Sensor, bench_kind, eth, frame, mirai_gre_to, public_addr};
use noisefloor_wire::build::{IcmpRepr, Ipv4Repr, TcpRepr, UdpRepr, ipv4_packet};

/// Frames with their capture times (ns since the epoch).
pub type Frames = Vec<(i64, Vec<u8>)>;

/// What a scenario's attack is, as `explain` must report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruthAttack {
    /// `syn-flood`, `udp-amplification`, ... (noisefloor's attack kind names).
    pub kind: &'static str,
    /// `a.b.c.d/len`.
    pub target: String,
    /// The amplifier's source port, for amplification.
    pub service_port: Option<u16>,
    pub spoofed: bool,
}

/// One capture: frames in time order and the attacks in it (none for darknet-only runs).
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub frames: Frames,
    pub attacks: Vec<TruthAttack>,
}

/// The victim host: inside the darknet's /24, so background lands beside the attack.
pub const VICTIM: [u8; 4] = [198, 51, 100, 77];
/// The prefix of the carpet-bombing GRE flood.
pub const VICTIM_NET: [u8; 4] = [203, 0, 113, 0];

const T0: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

/// Any 32-bit value: spoofers that draw sources uniformly hit bogons too.
fn spoofed(rng: &mut Rng) -> [u8; 4] {
    rng.addr()
}

fn ip(src: [u8; 4], dst: [u8; 4], protocol: u8, ttl: u8, id: u16) -> Ipv4Repr {
    Ipv4Repr {
        src,
        dst,
        protocol,
        ttl,
        id,
        dont_fragment: false,
        tos: 0,
    }
}

fn tcp_frame(
    rng: &mut Rng,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    flags: u16,
    ttl: u8,
) -> Vec<u8> {
    let t = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq: rng.u32(),
        ack: if flags & 0x10 != 0 { rng.u32() } else { 0 },
        flags,
        window: rng.u16(),
    };
    let id = rng.u16();
    eth(&ipv4_packet(&ip(src, dst, 6, ttl, id), |s, d, o| {
        t.emit_v4(s, d, &[], o)
    }))
}

/// A UDP datagram; above 1,480 bytes of UDP it is cut into IP fragments (the first carries
/// the UDP header, the rest are non-first fragments), as large DNS, CLDAP and memcached
/// replies are on the wire.
fn udp_frames(
    rng: &mut Rng,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: usize,
    ttl: u8,
) -> Vec<Vec<u8>> {
    let body = rng.bytes(payload);
    let id = rng.u16();
    let pkt = ipv4_packet(&ip(src, dst, 17, ttl, id), |s, d, o| {
        UdpRepr {
            src_port: sport,
            dst_port: dport,
        }
        .emit_v4(s, d, &body, o)
    });
    let l4 = &pkt[20..];
    if l4.len() <= 1480 {
        return vec![eth(&pkt)];
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < l4.len() {
        let end = (at + 1480).min(l4.len());
        let mut frag = pkt[..20].to_vec();
        frag.extend_from_slice(&l4[at..end]);
        let total = frag.len() as u16;
        frag[2..4].copy_from_slice(&total.to_be_bytes());
        let more = if end < l4.len() { 0x2000u16 } else { 0 };
        frag[6..8].copy_from_slice(&(more | (at / 8) as u16).to_be_bytes());
        frag[10..12].copy_from_slice(&[0, 0]);
        let c = noisefloor_wire::checksum::checksum(&frag[..20]);
        frag[10..12].copy_from_slice(&c.to_be_bytes());
        out.push(eth(&frag));
        at = end;
    }
    out
}

fn icmp_echo(rng: &mut Rng, src: [u8; 4], dst: [u8; 4], ttl: u8) -> Vec<u8> {
    let rest = rng.u32().to_be_bytes();
    let payload = rng.bytes(56);
    let id = rng.u16();
    eth(&ipv4_packet(&ip(src, dst, 1, ttl, id), |_, _, o| {
        IcmpRepr {
            icmp_type: 8,
            code: 0,
            rest,
        }
        .emit(&payload, o)
    }))
}

/// Darknet background over the sensor's /24: the benchmark's mix at `pps` for `secs`.
fn background(rng: &mut Rng, from_s: i64, secs: i64, pps: i64, out: &mut Frames) {
    let sensor = Sensor::default();
    let n = secs * pps;
    for i in 0..n {
        let ts = T0 + from_s * S + i * S / pps + rng.below(1_000_000) as i64;
        let kind = bench_kind(rng);
        out.push((ts, frame(rng, &sensor, kind)));
    }
}

/// `pps` packets per second for `secs` from `make`, starting at `from_s`.
fn burst(
    rng: &mut Rng,
    from_s: i64,
    secs: i64,
    pps: i64,
    out: &mut Frames,
    mut make: impl FnMut(&mut Rng) -> Vec<Vec<u8>>,
) {
    let n = secs * pps;
    for i in 0..n {
        let ts = T0 + from_s * S + i * S / pps;
        for f in make(rng) {
            out.push((ts, f));
        }
    }
}

fn host(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}/32", a[0], a[1], a[2], a[3])
}

/// A pool of `n` reflectors (real, public servers).
fn reflectors(rng: &mut Rng, n: usize) -> Vec<[u8; 4]> {
    (0..n).map(|_| public_addr(rng)).collect()
}

/// Every labelled scenario: attacks of each kind mixed with background, then darknet-only runs.
pub fn scenarios(seed: u64) -> Vec<Scenario> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let mut add =
        |name: &str, attacks: Vec<TruthAttack>, f: &mut dyn FnMut(&mut Rng, &mut Frames)| {
            let mut frames = Vec::new();
            background(&mut rng, 0, 600, 4, &mut frames);
            f(&mut rng, &mut frames);
            frames.sort_by_key(|x| x.0);
            out.push(Scenario {
                name: name.to_string(),
                frames,
                attacks,
            });
        };
    let truth = |kind, target: String, service_port, spoofed| TruthAttack {
        kind,
        target,
        service_port,
        spoofed,
    };
    add(
        "spoofed SYN flood on 25565/TCP",
        vec![truth("syn-flood", host(VICTIM), None, true)],
        &mut |rng, f| {
            burst(rng, 200, 23, 1_600, f, |rng| {
                let (src, sport, ttl) = (spoofed(rng), rng.u16(), rng.below(256) as u8);
                vec![tcp_frame(rng, src, VICTIM, sport, 25565, 0x002, ttl)]
            })
        },
    );
    add(
        "spoofed ACK flood on 80/TCP",
        vec![truth("tcp-flood", host(VICTIM), None, true)],
        &mut |rng, f| {
            burst(rng, 100, 15, 2_000, f, |rng| {
                let (src, sport, ttl) = (spoofed(rng), rng.u16(), rng.below(256) as u8);
                vec![tcp_frame(rng, src, VICTIM, sport, 80, 0x010, ttl)]
            })
        },
    );
    add(
        "spoofed UDP flood on random ports",
        vec![truth("udp-flood", host(VICTIM), None, true)],
        &mut |rng, f| {
            burst(rng, 300, 10, 3_000, f, |rng| {
                let (src, sport, dport, ttl) = (
                    spoofed(rng),
                    rng.u16() | 1024,
                    rng.u16() | 1024,
                    rng.below(256) as u8,
                );
                udp_frames(rng, src, VICTIM, sport, dport, 512, ttl)
            })
        },
    );
    add(
        "ICMP echo flood",
        vec![truth("icmp-flood", host(VICTIM), None, true)],
        &mut |rng, f| {
            burst(rng, 250, 20, 2_000, f, |rng| {
                let (src, ttl) = (spoofed(rng), rng.below(256) as u8);
                vec![icmp_echo(rng, src, VICTIM, ttl)]
            })
        },
    );
    add(
        "SYN-ACK reflection",
        vec![truth("tcp-reflection", host(VICTIM), None, false)],
        &mut |rng, f| {
            let pool = reflectors(rng, 800);
            burst(rng, 200, 8, 5_000, f, |rng| {
                let r = pool[rng.below(pool.len() as u64) as usize];
                let sport = [80, 443, 22, 25][rng.below(4) as usize];
                let flags = if rng.below(10) == 0 { 0x004 } else { 0x012 };
                let (dport, ttl) = (rng.u16() | 1024, 40 + rng.below(20) as u8);
                vec![tcp_frame(rng, r, VICTIM, sport, dport, flags, ttl)]
            })
        },
    );
    // (service port, reply size, reflectors): sizes from the protocols' typical amplified
    // replies; DNS ANY/RRSIG, CLDAP and memcached exceed one frame and fragment.
    for (port, size, pool_size, name) in [
        (53u16, 2_900usize, 1_500usize, "DNS"),
        (123, 440, 900, "NTP monlist"),
        (161, 1_100, 4_000, "SNMP GetBulk"),
        (1900, 300, 2_000, "SSDP"),
        (389, 2_900, 600, "CLDAP"),
        (11211, 4_400, 120, "memcached"),
        (500, 600, 700, "IKE"),
        (47808, 480, 300, "BACnet"),
    ] {
        add(
            &format!("{name} amplification"),
            vec![truth("udp-amplification", host(VICTIM), Some(port), false)],
            &mut |rng, f| {
                let pool = reflectors(rng, pool_size);
                burst(rng, 150, 10, 1_500, f, |rng| {
                    let r = pool[rng.below(pool.len() as u64) as usize];
                    let (dport, ttl) = (rng.u16() | 1024, 40 + rng.below(30) as u8);
                    udp_frames(rng, r, VICTIM, port, dport, size, ttl)
                })
            },
        );
    }
    add(
        "Mirai GRE flood on one address",
        vec![truth("gre-flood", host(VICTIM), None, false)],
        &mut |rng, f| {
            let bots = reflectors(rng, 400);
            burst(rng, 200, 30, 1_000, f, |rng| {
                let bot = bots[rng.below(bots.len() as u64) as usize];
                vec![mirai_gre_to(rng, Kind::MiraiGreIpLe, |_| VICTIM, |_| bot)]
            })
        },
    );
    add(
        "Mirai GRE flood on a /24",
        vec![truth("gre-flood", "203.0.113.0/24".into(), None, false)],
        &mut |rng, f| {
            let bots = reflectors(rng, 400);
            burst(rng, 200, 30, 3_000, f, |rng| {
                let bot = bots[rng.below(bots.len() as u64) as usize];
                let dst = |rng: &mut Rng| {
                    let mut a = VICTIM_NET;
                    a[3] = rng.below(256) as u8;
                    a
                };
                vec![mirai_gre_to(rng, Kind::MiraiGreIpBe, dst, |_| bot)]
            })
        },
    );
    // Darknet-only runs: none of these is an attack.
    let mut quiet = |name: &str, f: &mut dyn FnMut(&mut Rng, &mut Frames)| {
        let mut frames = Vec::new();
        background(&mut rng, 0, 3_600, 4, &mut frames);
        f(&mut rng, &mut frames);
        frames.sort_by_key(|x| x.0);
        out.push(Scenario {
            name: name.to_string(),
            frames,
            attacks: Vec::new(),
        });
    };
    quiet("darknet hour", &mut |_, _| {});
    quiet(
        "darknet hour with a heavy backscatter trickle (one victim, 40 replies/s over the /24)",
        &mut |rng, f| {
            let victim = public_addr(rng);
            burst(rng, 600, 900, 40, f, |rng| {
                let mut dst = Sensor::default().prefix;
                dst[3] = rng.below(256) as u8;
                let (dport, ttl) = (rng.u16(), 50);
                vec![tcp_frame(rng, victim, dst, 80, dport, 0x012, ttl)]
            })
        },
    );
    quiet(
        "darknet hour with a fast port scan of the /24 from one host",
        &mut |rng, f| {
            let scanner = public_addr(rng);
            burst(rng, 1_200, 60, 2_000, f, |rng| {
                let mut dst = Sensor::default().prefix;
                dst[3] = rng.below(256) as u8;
                let (sport, dport) = (rng.u16() | 1024, rng.u16());
                vec![tcp_frame(rng, scanner, dst, sport, dport, 0x002, 240)]
            })
        },
    );
    quiet(
        "darknet hour with a one-port sweep of the /24 by a few scanners",
        &mut |rng, f| {
            let scanners = reflectors(rng, 5);
            burst(rng, 1_800, 2, 256, f, |rng| {
                let s = scanners[rng.below(5) as usize];
                let mut dst = Sensor::default().prefix;
                dst[3] = rng.below(256) as u8;
                let sport = rng.u16() | 1024;
                vec![tcp_frame(rng, s, dst, sport, 22, 0x002, 240)]
            })
        },
    );
    out
}
