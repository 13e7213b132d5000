//! Per-packet cost of `explain`'s stages on the benchmark mix (the frames of
//! `bench/run.sh`'s capture, generated in memory), one core, criterion:
//!
//!     cargo bench -p noisefloor-explain --bench explain
//!
//! Stable where the end-to-end run on a shared VM is not: use it to judge a change to
//! decoding, classification or the aggregates before timing the whole command.
//! 262,144 frames (about 47 MB) so packet data streams from memory as in a real run, with
//! new random sources in every round of the aggregate stage (as on the bench capture,
//! where every packet has its own source: the aggregates' worst case).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noisefloor_classify::{Context, classify};
use noisefloor_explain::{Limits, Triage};
use noisefloor_synth::{Rng, Sensor, bench_kind, frame};
use noisefloor_wire::quick::quick;
use noisefloor_wire::{Dissection, Observation, Options, dissect_into, linktype};
use std::hint::black_box;

const FRAMES: usize = 1 << 18;

/// The frames back to back in one buffer, as a capture lies in memory (so the hardware
/// prefetcher sees the same sequential stream as in a real run).
struct Frames {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Frames {
    /// Gives every IPv4-over-Ethernet frame a new outer source (XOR with `mask`), so each
    /// iteration brings sources the aggregates have not seen, as a long capture does; the
    /// classes do not depend on the outer source.
    fn new_sources(&mut self, mask: [u8; 4]) {
        let mut start = 0;
        for &end in &self.ends {
            let f = &mut self.bytes[start..end];
            if f.len() >= 34 && f[12..14] == [0x08, 0x00] && f[14] >> 4 == 4 {
                for (b, m) in f[26..30].iter_mut().zip(mask) {
                    *b ^= m;
                }
            }
            start = end;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter())
            .map(|(s, &e)| &self.bytes[s..e])
    }
}

fn frames() -> Frames {
    let mut rng = Rng::new(1);
    let sensor = Sensor::default();
    let (mut bytes, mut ends) = (Vec::new(), Vec::with_capacity(FRAMES));
    for _ in 0..FRAMES {
        let kind = bench_kind(&mut rng);
        bytes.extend_from_slice(&frame(&mut rng, &sensor, kind));
        ends.push(bytes.len());
    }
    Frames { bytes, ends }
}

fn stages(c: &mut Criterion) {
    let mut frames = frames();
    let opts = Options::default();
    let ctx = Context::default();
    let mut g = c.benchmark_group("explain per packet");
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.sample_size(20);
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut d = Dissection::empty();
            let mut layers = 0;
            for f in frames.iter() {
                dissect_into(&mut d, &opts, linktype::ETHERNET, f);
                layers += d.layers().len();
            }
            black_box(layers)
        })
    });
    g.bench_function("decode + classify", |b| {
        b.iter(|| {
            let mut d = Dissection::empty();
            let mut classes = 0;
            for f in frames.iter() {
                dissect_into(&mut d, &opts, linktype::ETHERNET, f);
                classes += classify(&Observation::from_dissection(0, f.len() as u32, &d), &ctx)
                    .class
                    .index();
            }
            black_box(classes)
        })
    });
    // The fast path explain takes for most packets, falling back to the two above.
    g.bench_function("quick decode + classify (fallback: full)", |b| {
        b.iter(|| {
            let mut d = Dissection::empty();
            let mut classes = 0;
            for f in frames.iter() {
                classes += match quick(&opts, linktype::ETHERNET, f) {
                    Some(q) => classify(&Observation::from_quick(0, f.len() as u32, &q), &ctx)
                        .class
                        .index(),
                    None => {
                        dissect_into(&mut d, &opts, linktype::ETHERNET, f);
                        classify(&Observation::from_dissection(0, f.len() as u32, &d), &ctx)
                            .class
                            .index()
                    }
                };
            }
            black_box(classes)
        })
    });
    // One triage across all iterations, and new sources in each: its sketches and tables
    // reach the steady state of a long run (full ranking table, sketches instead of exact
    // sets) instead of holding the same frames' sources exactly forever. The rewrite is
    // part of the time measured (about 1 ns per frame).
    let mut t = Triage::new(Limits::default());
    let mut ts = 1_482_796_800_000_000_000i64;
    let mut round = 0u32;
    g.bench_function("decode + classify + aggregate", |b| {
        b.iter(|| {
            round = round.wrapping_add(0x9e37_79b9);
            frames.new_sources(round.to_be_bytes());
            let mut d = Dissection::empty();
            for f in frames.iter() {
                dissect_into(&mut d, &opts, linktype::ETHERNET, f);
                ts += 1_000;
                let o = Observation::from_dissection(ts, f.len() as u32, &d);
                t.add(&o, &classify(&o, &ctx));
            }
        })
    });
    // The same with the fast path, as `explain` runs.
    let mut t = Triage::new(Limits::default());
    g.bench_function("quick decode + classify + aggregate (as explain)", |b| {
        b.iter(|| {
            round = round.wrapping_add(0x9e37_79b9);
            frames.new_sources(round.to_be_bytes());
            let mut d = Dissection::empty();
            for f in frames.iter() {
                ts += 1_000;
                let o = match quick(&opts, linktype::ETHERNET, f) {
                    Some(q) => Observation::from_quick(ts, f.len() as u32, &q),
                    None => {
                        dissect_into(&mut d, &opts, linktype::ETHERNET, f);
                        Observation::from_dissection(ts, f.len() as u32, &d)
                    }
                };
                t.add(&o, &classify(&o, &ctx));
            }
        })
    });
    g.finish();
    black_box(t.packets);
}

criterion_group!(benches, stages);
criterion_main!(benches);
