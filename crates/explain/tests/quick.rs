//! `Triage::add` of the fast path's records counts exactly what it counts from the same
//! packets' full dissections: the whole explain report, as JSON, is the same.

use noisefloor_classify::{Context, classify};
use noisefloor_explain::{Explained, Inputs, Limits, Triage};
use noisefloor_synth::{Kind, Rng, Sensor, bench_kind, frame};
use noisefloor_wire::quick::quick;
use noisefloor_wire::{Observation, Options, dissect_with, linktype};

fn report(fast: bool, frames: &[Vec<u8>]) -> String {
    let limits = Limits {
        seed: 7,
        // Small, so both the exact sets and the sketches they turn into are compared.
        exact_distinct: 256,
        ..Limits::default()
    };
    let mut t = Triage::new(limits);
    let (opts, ctx) = (Options::default(), Context::default());
    let mut taken = 0;
    for (i, f) in frames.iter().enumerate() {
        let ts = 1_482_796_800_000_000_000 + i as i64 * 1_000_000_000;
        if fast && let Some(q) = quick(&opts, linktype::ETHERNET, f) {
            let o = Observation::from_quick(ts, f.len() as u32, &q);
            t.add(&o, &classify(&o, &ctx));
            taken += 1;
            continue;
        }
        let d = dissect_with(&opts, linktype::ETHERNET, f);
        let o = Observation::from_dissection(ts, f.len() as u32, &d);
        t.add(&o, &classify(&o, &ctx));
    }
    assert!(!fast || taken * 10 > frames.len() * 8, "{taken}");
    t.finish();
    let inputs = Inputs {
        files: vec!["generated".into()],
        errors: Vec::new(),
        logs: Default::default(),
        log_zone: "UTC".into(),
        role: None,
    };
    Explained::new(&t, inputs).json()
}

#[test]
fn fast_and_full_paths_give_the_same_report() {
    let (mut rng, sensor) = (Rng::new(3), Sensor::default());
    let mut frames: Vec<Vec<u8>> = (0..20_000)
        .map(|_| {
            let kind = bench_kind(&mut rng);
            frame(&mut rng, &sensor, kind)
        })
        .collect();
    // Every kind, and repeat sources so the top list has real counts.
    for kind in Kind::ALL {
        for _ in 0..200 {
            frames.push(frame(&mut rng, &sensor, kind));
        }
    }
    let again: Vec<Vec<u8>> = frames.iter().take(3_000).cloned().collect();
    frames.extend(again);
    let (full, fast) = (report(false, &frames), report(true, &frames));
    assert!(full.contains("mirai-gre-ip") && full.contains("backscatter"));
    assert_eq!(full, fast);
}
