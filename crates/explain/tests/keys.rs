//! The protocol/port keys (TSUBAME's notation) count every packet once, whichever counter
//! holds it (TCP/UDP ports, port-less protocols, the map) and across merged threads.

use noisefloor_classify::{Context, classify};
use noisefloor_explain::{Limits, PortKey, Triage};
use noisefloor_synth::{Kind, Rng, Sensor, frame};
use noisefloor_wire::{Observation, Options, dissect_with, linktype};

fn triage_of(kinds: &[(Kind, usize)], seed: u64) -> Triage {
    let mut t = Triage::new(Limits::default());
    let (mut rng, sensor) = (Rng::new(seed), Sensor::default());
    let (opts, ctx) = (Options::default(), Context::default());
    for &(kind, n) in kinds {
        for i in 0..n {
            let f = frame(&mut rng, &sensor, kind);
            let d = dissect_with(&opts, linktype::ETHERNET, &f);
            let o = Observation::from_dissection(
                1_482_796_800_000_000_000 + i as i64,
                f.len() as u32,
                &d,
            );
            t.add(&o, &classify(&o, &ctx));
        }
    }
    t
}

fn count(t: &Triage, proto: u8, port: u16) -> u64 {
    t.ranked_keys()
        .into_iter()
        .find(|(k, _)| *k == PortKey { proto, port })
        .map_or(0, |(_, n)| n)
}

#[test]
fn keys_by_protocol_add_up_across_merged_triages() {
    let mut a = triage_of(&[(Kind::MiraiGreIpLe, 30), (Kind::ScanIcmp, 7)], 1);
    let b = triage_of(&[(Kind::MiraiGreEthLe, 5), (Kind::ScanIcmp, 4)], 2);
    a.merge(b);
    a.finish();
    assert_eq!(count(&a, 47, 0), 35, "GRE from both triages");
    assert_eq!(count(&a, 1, 0), 11, "ICMP from both triages");
    let total: u64 = a.ranked_keys().iter().map(|(_, n)| n).sum();
    assert_eq!(total, a.packets);
    assert_eq!(a.ranked_keys()[0].0, PortKey { proto: 47, port: 0 });
}

#[test]
fn top_keys_are_the_head_of_the_ranking() {
    // Many ports with equal counts: the ties must fall the same way in both.
    let t = triage_of(
        &[
            (Kind::ScanUdp, 400),
            (Kind::ScanTcp, 300),
            (Kind::ScanIcmp, 20),
        ],
        7,
    );
    let all = t.ranked_keys();
    for n in [0, 1, 3, 10, all.len(), all.len() + 5] {
        assert_eq!(t.top_keys(n), all[..n.min(all.len())].to_vec(), "n = {n}");
    }
}

/// The distinct sources of the whole run are built from the classes' sets at `finish`: they
/// must count what one set fed every packet's source counts, exact or estimated, merged or not.
#[test]
fn distinct_sources_of_the_run_equal_one_set_of_every_source() {
    let mix = [
        (Kind::MiraiGreIpLe, 300),
        (Kind::ScanTcp, 200),
        (Kind::BackscatterSynAck, 150),
        (Kind::ScanUdp, 120),
    ];
    for exact_limit in [100_000u64, 256] {
        let limits = Limits {
            exact_distinct: exact_limit,
            seed: 99,
            ..Limits::default()
        };
        let mut reference = noisefloor_explain::distinct::Distinct::new(exact_limit, 99);
        let mut merged = Triage::new(limits);
        for seed in [3u64, 4] {
            let mut t = Triage::new(limits);
            let (mut rng, sensor) = (Rng::new(seed), Sensor::default());
            let (opts, ctx) = (Options::default(), Context::default());
            for &(kind, n) in &mix {
                for i in 0..n {
                    let f = frame(&mut rng, &sensor, kind);
                    let d = dissect_with(&opts, linktype::ETHERNET, &f);
                    reference.add(d.outer_ip().expect("IPv4 frames").src());
                    let o = Observation::from_dissection(i as i64, f.len() as u32, &d);
                    t.add(&o, &classify(&o, &ctx));
                }
            }
            merged.merge(t);
        }
        merged.finish();
        assert_eq!(
            merged.sources.is_exact(),
            reference.is_exact(),
            "limit {exact_limit}"
        );
        assert_eq!(
            merged.sources.count(),
            reference.count(),
            "limit {exact_limit}"
        );
    }
}
