//! Writes a deterministic darknet capture: `noisefloor-synth --packets N --seed S --out FILE`,
//! or the seed-000 Mirai packet alone with `--seed-000`.

use std::io::BufWriter;

use noisefloor_capture::PcapWriter;
use noisefloor_synth::{Rng, Sensor, bench_kind, frame};

fn main() -> std::io::Result<()> {
    let mut packets: u64 = 10_000_000;
    let mut seed: u64 = 1;
    let mut out = String::from("darknet.pcap");
    let mut seed_packet = false;
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
            _ => usage(&format!("unknown argument {a}")),
        }
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

fn usage(msg: &str) -> ! {
    eprintln!(
        "noisefloor-synth: {msg}\nusage: noisefloor-synth [--packets N] [--seed S] [--out FILE] | --seed-000 --out FILE"
    );
    std::process::exit(1)
}
