//! The fast path (`noisefloor_wire::quick` and `Observation::from_quick`) against the full
//! decoder (`Observation::from_dissection`): on every generated class, on mutations of those
//! frames, and on every packet of every real capture in tests/data and samples/, the fast path
//! either declines the frame or yields the same layers, the same record and the same verdict
//! (class, tags and evidence).

use std::path::{Path, PathBuf};

use noisefloor_classify::{Context, classify};
use noisefloor_synth::{Kind, Rng, Sensor, bench_kind, frame};
use noisefloor_wire::quick::{check_against_dissection, quick};
use noisefloor_wire::{Observation, Options, dissect_with, linktype};

/// Checks one frame both ways; returns whether the fast path took it.
fn agree(ctxs: &[Context], lt: u32, data: &[u8]) -> bool {
    let opts = Options::default();
    if !check_against_dissection(&opts, lt, data) {
        return false;
    }
    let q = quick(&opts, lt, data).expect("the checker saw a shape");
    let d = dissect_with(&opts, lt, data);
    let ts = 1_482_796_800_123_456_789;
    let (fast, full) = (
        Observation::from_quick(ts, data.len() as u32, &q),
        Observation::from_dissection(ts, data.len() as u32, &d),
    );
    assert_eq!(fast, full, "{data:02x?}");
    for ctx in ctxs {
        assert_eq!(classify(&fast, ctx), classify(&full, ctx), "{data:02x?}");
    }
    true
}

fn contexts(sensor: &Sensor) -> Vec<Context> {
    let [a, b, c, d] = sensor.prefix;
    let own = noisefloor_classify::parse_prefix(&format!("{a}.{b}.{c}.{d}/24")).unwrap();
    vec![Context::default(), Context { own: vec![own] }]
}

#[test]
fn every_generated_class_and_its_mutations_agree() {
    let sensor = Sensor::default();
    let ctxs = contexts(&sensor);
    let mut rng = Rng::new(47);
    let (mut frames, mut taken) = (0u64, 0u64);
    for kind in Kind::ALL {
        for _ in 0..2_000 {
            let f = frame(&mut rng, &sensor, kind);
            frames += 1;
            taken += agree(&ctxs, linktype::ETHERNET, &f) as u64;
            // Cut short anywhere, and one byte of the headers changed.
            let cut = (rng.u32() as usize) % (f.len() + 1);
            agree(&ctxs, linktype::ETHERNET, &f[..cut]);
            let mut m = f.clone();
            let at = (rng.u32() as usize) % m.len().min(90);
            m[at] = rng.u32() as u8;
            agree(&ctxs, linktype::ETHERNET, &m);
            // The same packet without its Ethernet header, as raw IP.
            agree(&ctxs, linktype::RAW, &f[14..]);
        }
    }
    println!("fast path took {taken} of {frames} generated frames");
    assert!(taken > 0);
}

/// The fast path must carry most of the benchmark's traffic, or it is not worth having.
#[test]
fn the_fast_path_takes_most_of_the_benchmark_mix() {
    let sensor = Sensor::default();
    let ctxs = contexts(&sensor);
    let mut rng = Rng::new(1);
    let n = 50_000;
    let taken = (0..n)
        .filter(|_| {
            let kind = bench_kind(&mut rng);
            agree(&ctxs, linktype::ETHERNET, &frame(&mut rng, &sensor, kind))
        })
        .count();
    println!("fast path took {taken} of {n} frames of the bench mix");
    assert!(taken * 100 >= n * 85, "{taken} of {n}");
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            captures(&p, out);
        } else if p.to_str().is_some_and(|s| {
            s.ends_with(".pcap")
                || s.ends_with(".pcapng")
                || s.ends_with(".pcap.gz")
                || s.ends_with(".cap")
        }) {
            out.push(p);
        }
    }
}

#[test]
fn every_real_capture_agrees() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    captures(&root.join("tests/data"), &mut files);
    captures(&root.join("samples"), &mut files);
    files.sort();
    let ctxs = contexts(&Sensor::default());
    let (mut packets, mut taken) = (0u64, 0u64);
    for path in &files {
        // Some are deliberately broken files for the readers' own tests.
        let Ok(mut r) = noisefloor_capture::CaptureReader::open(path.to_str().unwrap()) else {
            continue;
        };
        while let Ok(Some(rec)) = r.next_record() {
            packets += 1;
            taken += agree(&ctxs, rec.linktype, rec.data) as u64;
        }
    }
    println!(
        "{} captures, {packets} packets, fast path took {taken}",
        files.len()
    );
    assert!(files.len() > 100 && packets > 10_000 && taken > 1_000);
}
