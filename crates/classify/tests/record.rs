//! The fast path's record (`Observation::from_quick`) equals the full decoder's
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
