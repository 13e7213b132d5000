//! Writes a deterministic darknet capture: `noisefloor-synth --packets N --seed S --out FILE`,
//! the seed-000 Mirai packet alone with `--seed-000`, or with `--lake-inputs DIR` the
//! multi-sensor, multi-month inputs of the synthetic lake (pcaps per sensor and month,
//! `ip2asn.tsv`, `noisefloor.toml`, and `truth.json` with the ground truth).
//!
//! Live tests: `--send-to ADDR --send-from ADDR --send-mix classes|numbered [--count N]
//! [--rate PPS] [--frames-on IF [--vlan ID]]` sends through a raw socket (CAP_NET_RAW) and
//! prints what it sent as JSON.

use std::io::BufWriter;

use noisefloor_capture::PcapWriter;
use noisefloor_synth::{Rng, Sensor, bench_kind, frame};

fn main() -> std::io::Result<()> {
    let mut packets: u64 = 10_000_000;
    let mut seed: u64 = 1;
    let mut out = String::from("darknet.pcap");
    let mut seed_packet = false;
    let mut send = Send::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--packets" => {
                packets = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--packets takes a number"))
            }
            "--seed" => {
                seed = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--seed takes a number"))
            }
            "--out" => out = val(),
            "--seed-000" => seed_packet = true,
            "--lake-inputs" => return lake_inputs(&val()),
            "--day" => return day(&val(), seed),
            "--send-to" => send.to = Some(parse_addr(&val())),
            "--send-from" => send.from = Some(parse_addr(&val())),
            "--send-mix" => send.mix = val(),
            "--count" => {
                send.count = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--count takes a number"))
            }
            "--frames-on" => send.frames_on = Some(val()),
            "--vlan" => {
                send.vlan = Some(
                    val()
                        .parse()
                        .unwrap_or_else(|_| usage("--vlan takes a VLAN id (0-4095)")),
                )
            }
            "--first" => {
                send.first = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--first takes a number"))
            }
            "--rate" => {
                send.rate = val()
                    .parse()
                    .unwrap_or_else(|_| usage("--rate takes packets per second"))
            }
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    if send.to.is_some() {
        return send.run();
    }
    let f = std::fs::File::create(&out)?;
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 22, f), 1, 65535, false)?;
    if seed_packet {
        // The single Mirai GRE-IP packet of seed 000, at its capture time.
        let f = noisefloor_wire::build::seed_000_frame();
        w.write(1_482_860_108_152_775_000, &f, f.len() as u32)?;
        std::io::Write::flush(&mut w.into_inner())?;
        eprintln!("wrote the seed-000 packet to {out}");
        return Ok(());
    }
    let mut rng = Rng::new(seed);
    let sensor = Sensor::default();
    // 2016-12-27 00:00:00 UTC, the day the ISC reader saw GRE denies jump.
    let mut ts: i64 = 1_482_796_800_000_000_000;
    for _ in 0..packets {
        let kind = bench_kind(&mut rng);
        let f = frame(&mut rng, &sensor, kind);
        ts += rng.below(2_000_000) as i64;
        w.write(ts, &f, f.len() as u32)?;
    }
    std::io::Write::flush(&mut w.into_inner())?;
    eprintln!("wrote {packets} packets to {out}");
    Ok(())
}

fn lake_inputs(dir: &str) -> std::io::Result<()> {
    use noisefloor_synth::lake::{LakeSpec, generate};
    let spec = LakeSpec::default();
    let dir = std::path::Path::new(dir);
    let truth = generate(&spec, dir)?;
    let mut toml = String::from("[enrich]\nprefix_to_as = [\"ip2asn.tsv\"]\n");
    for (name, group, prefix) in &spec.sensors {
        toml.push_str(&format!(
            "\n[[sensor]]\nname = \"{name}\"\ngroup = \"{group}\"\nown = [\"{}.{}.{}.0/24\"]\n",
            prefix[0], prefix[1], prefix[2]
        ));
    }
    std::fs::write(dir.join("noisefloor.toml"), toml)?;
    // Ground truth for scripts: packets per (sensor, date, key).
    let mut json = String::from("[");
    for (i, ((s, d, k), n)) in truth.daily.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "\n{{\"sensor\":\"{s}\",\"date\":\"{d}\",\"key\":\"{k}\",\"packets\":{n}}}"
        ));
    }
    json.push_str("\n]\n");
    std::fs::write(dir.join("truth.json"), json)?;
    eprintln!(
        "wrote {} packets in {} files to {}",
        truth.total,
        truth.files.len(),
        dir.display()
    );
    Ok(())
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "noisefloor-synth: {msg}\nusage: noisefloor-synth [--packets N] [--seed S] [--out FILE] | --seed-000 --out FILE | --lake-inputs DIR\n       | [--seed S] --day PREFIX (writes PREFIX.pcap.gz and PREFIX.log)\n       | --send-to ADDR --send-from ADDR --send-mix classes|numbered [--count N] [--first N] [--rate PPS]\n         [--frames-on IF [--vlan ID]]"
    );
    std::process::exit(1)
}

fn parse_addr(s: &str) -> [u8; 4] {
    s.parse::<std::net::Ipv4Addr>()
        .unwrap_or_else(|_| usage(&format!("{s:?} is not an IPv4 address")))
        .octets()
}

#[derive(Default)]
struct Send {
    to: Option<[u8; 4]>,
    from: Option<[u8; 4]>,
    mix: String,
    count: u64,
    /// Send Ethernet frames on this interface (AF_PACKET) instead of IP packets.
    frames_on: Option<String>,
    /// With `frames_on`: an 802.1Q tag with this VLAN id.
    vlan: Option<u16>,
    /// Number of the first numbered packet (several senders can share one stream).
    first: u64,
    /// Packets per second; 0 = as fast as the socket takes them.
    rate: u64,
}

impl Send {
    fn run(self) -> std::io::Result<()> {
        let to = self.to.unwrap_or_else(|| usage("--send-to is required"));
        let from = self
            .from
            .unwrap_or_else(|| usage("--send-from is required"));
        let sender = Sender::open(self.frames_on.as_deref(), self.vlan)?;
        let started = std::time::Instant::now();
        let (mut sent, mut failed) = (0u64, 0u64);
        let pace = |sent: u64| {
            if self.rate > 0 && sent.is_multiple_of(256) {
                let due = std::time::Duration::from_secs_f64(sent as f64 / self.rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        };
        match self.mix.as_str() {
            "classes" => {
                let mut classes: Vec<String> = Vec::new();
                for (p, class) in noisefloor_synth::live::class_mix(from, to) {
                    sender.send(&p)?;
                    sent += 1;
                    classes.push(format!("\"{class}\""));
                }
                println!(
                    "{{\"sent\": {sent}, \"failed\": 0, \"classes\": [{}]}}",
                    classes.join(", ")
                );
                return Ok(());
            }
            "numbered" => {
                for n in 0..self.count {
                    pace(n);
                    let p = noisefloor_synth::live::numbered_syn(from, to, self.first + n);
                    // A full socket buffer (ENOBUFS) is retried: the count sent must be exact.
                    loop {
                        match sender.send(&p) {
                            Ok(()) => break,
                            Err(e) if e.raw_os_error() == Some(105) => {
                                failed += 1;
                                std::thread::yield_now();
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    sent += 1;
                }
            }
            other => usage(&format!("--send-mix {other:?}: use classes or numbered")),
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{{\"sent\": {sent}, \"retries\": {failed}, \"seconds\": {secs:.3}, \"rate\": {:.0}}}",
            sent as f64 / secs.max(1e-9)
        );
        Ok(())
    }
}

/// IP packets through a raw IP socket, or as Ethernet frames (optionally 802.1Q-tagged)
/// on one interface, addressed to the live tests' sensor MAC.
enum Sender {
    Ip(noisefloor_capture::live::RawIpv4Sender),
    Frames(noisefloor_capture::live::RawFrameSender, Option<u16>),
}

impl Sender {
    fn open(frames_on: Option<&str>, vlan: Option<u16>) -> std::io::Result<Sender> {
        use noisefloor_capture::live::{RawFrameSender, RawIpv4Sender};
        Ok(match frames_on {
            Some(ifname) => Sender::Frames(
                RawFrameSender::open(ifname).map_err(std::io::Error::other)?,
                vlan,
            ),
            None => Sender::Ip(RawIpv4Sender::open().map_err(std::io::Error::other)?),
        })
    }

    fn send(&self, ip: &[u8]) -> std::io::Result<()> {
        match self {
            Sender::Ip(s) => s.send(ip),
            Sender::Frames(s, vlan) => {
                let mut f = Vec::with_capacity(ip.len() + 18);
                f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]);
                if let Some(id) = vlan {
                    f.extend_from_slice(&0x8100u16.to_be_bytes());
                    f.extend_from_slice(&(id & 0x0fff).to_be_bytes());
                }
                f.extend_from_slice(&0x0800u16.to_be_bytes());
                f.extend_from_slice(ip);
                s.send(&f)
            }
        }
    }
}

/// A realistic darknet day (the bundled sample): `PREFIX.pcap.gz`, `PREFIX.log`, and its
/// ground truth on stdout (`key value` lines, for CI).
fn day(prefix: &str, seed: u64) -> std::io::Result<()> {
    let pcap = std::fs::File::create(format!("{prefix}.pcap.gz"))?;
    let gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(pcap), flate2::Compression::best());
    let mut log = std::io::BufWriter::new(std::fs::File::create(format!("{prefix}.log"))?);
    let mut gz = gz;
    let t = noisefloor_synth::day::write_day(seed, &mut gz, &mut log)?;
    gz.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    std::io::Write::flush(&mut log)?;
    let ip = |a: [u8; 4]| std::net::Ipv4Addr::from(a).to_string();
    println!("packets {}", t.packets);
    println!("flood_target {}", ip(t.flood_target));
    println!("flood_packets {}", t.flood_packets);
    println!("flood_bots {}", t.flood_bots);
    println!("top_scanner {}", ip(t.top_scanner));
    println!("top_scanner_packets {}", t.top_scanner_packets);
    println!("backscatter_victim {}", ip(t.backscatter_victim));
    Ok(())
}
