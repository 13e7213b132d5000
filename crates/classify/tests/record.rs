//! The fast path's record (`Observation::from_quick`, and one record refilled frame after
//! frame by `refill_quick`) equals the full decoder's
//! (`Observation::from_dissection`) on every frame the fast path takes: every generated
//! class, cut short and with one byte changed, over Ethernet and raw IP. (Moved from the
//! lake's tests when the lake's row fields became this record.)

use noisefloor_synth::{Kind, Rng, Sensor, frame};
use noisefloor_wire::quick::quick;
use noisefloor_wire::{Observation, Options, dissect_with, linktype};

fn agree(lt: u32, data: &[u8]) -> bool {
    let opts = Options::default();
    let Some(q) = quick(&opts, lt, data) else {
        return false;
    };
    let d = dissect_with(&opts, lt, data);
    let ts = 1_482_796_800_123_456_789;
    let len = data.len() as u32;
    assert_eq!(
        Observation::from_quick(ts, len, &q),
        Observation::from_dissection(ts, len, &d),
        "{data:02x?}"
    );
    true
}

#[test]
fn fast_path_rows_match_full_decoder_rows() {
    let (mut rng, sensor) = (Rng::new(11), Sensor::default());
    let mut taken = 0;
    for kind in Kind::ALL {
        for _ in 0..1_000 {
            let f = frame(&mut rng, &sensor, kind);
            taken += agree(linktype::ETHERNET, &f) as u32;
            agree(linktype::RAW, &f[14..]);
            let cut = rng.below(f.len() as u64 + 1) as usize;
            agree(linktype::ETHERNET, &f[..cut]);
            let mut m = f.clone();
            let at = rng.below(m.len().min(90) as u64) as usize;
            m[at] = rng.u32() as u8;
            agree(linktype::ETHERNET, &m);
        }
    }
    assert!(taken > 5_000, "{taken}");
}

/// explain refills one record per batch: whatever shape the last frame had, the refilled
/// record is the full decoder's record of this one.
#[test]
fn one_refilled_record_matches_the_full_decoder_frame_after_frame() {
    let (mut rng, sensor) = (Rng::new(12), Sensor::default());
    let frames: Vec<Vec<u8>> = (0..300)
        .flat_map(|_| Kind::ALL.map(|kind| frame(&mut rng, &sensor, kind)))
        .collect();
    let opts = Options::default();
    let mut fast = Observation::new();
    let mut taken = 0;
    for (i, f) in frames.iter().enumerate() {
        let Some(q) = quick(&opts, linktype::ETHERNET, f) else {
            continue;
        };
        let ts = 1_482_796_800_000_000_000 + i as i64;
        fast.refill_quick(ts, f.len() as u32, &q);
        let d = dissect_with(&opts, linktype::ETHERNET, f);
        assert_eq!(
            fast,
            Observation::from_dissection(ts, f.len() as u32, &d),
            "{f:02x?}"
        );
        taken += 1;
    }
    assert!(taken > 1_000, "{taken}");
}
