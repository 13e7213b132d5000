//! Live segments: a segment finished but not committed (the sensor died between its commit
//! point and the move into the lake) is committed by the next run; one cut short is
//! removed; a second process for the same sensor is refused.

use noisefloor_classify::Context;
use noisefloor_enrich::Enricher;
use noisefloor_lake::segment::{Health, SegmentOptions, Spool};
use noisefloor_lake::{Session, manifest};

fn opts() -> SegmentOptions {
    SegmentOptions {
        group: Some("lab".into()),
        ctx: Context::default(),
        zstd_level: 3,
        format: "afpacket",
        source: "interface test0".into(),
    }
}

#[test]
fn finished_segments_survive_a_crash_and_cut_ones_are_removed() {
    let root = std::env::temp_dir().join(format!("nf-segment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let enricher = Enricher::new();
    let frame = noisefloor_wire::build::seed_000_frame();
    let ts = 1_482_860_108_152_775_000i64;
    {
        let (spool, recovered, ready) = Spool::open(&root, "s1").unwrap();
        assert!(recovered.is_empty() && ready.is_empty());
        // A second process for the same sensor is refused while this one holds it.
        let err = Spool::open(&root, "s1").err().unwrap().to_string();
        assert!(err.contains("already running"), "{err}");
        let mut finished =
            noisefloor_lake::segment::Segment::begin(&spool, &enricher, &opts(), "seg-a", 0)
                .unwrap();
        for i in 0..3 {
            let class = finished
                .push(ts + i, 1, &frame, frame.len() as u32, &Context::default())
                .unwrap();
            assert_eq!(class.name(), "mirai-gre-ip");
        }
        let health = Health {
            received: 3,
            bytes: 198,
            kernel_drops: 2,
            truncated: 1,
        };
        // Finished (commit point written) but never moved in: the process "dies" here.
        let ready = finished.finish("s1", health, 1).unwrap();
        assert_eq!(ready.entry.rows, 3);
        let mut cut =
            noisefloor_lake::segment::Segment::begin(&spool, &enricher, &opts(), "seg-b", 1)
                .unwrap();
        cut.push(ts, 1, &frame, frame.len() as u32, &Context::default())
            .unwrap();
        // `cut` is never finished: its files have no footer. Leak it like a kill -9 would.
        std::mem::forget(cut);
        assert!(manifest(&root).is_empty());
    }
    let (_spool, recovered, ready) = Spool::open(&root, "s1").unwrap();
    assert_eq!(recovered.len(), 2, "{recovered:?}");
    assert!(
        recovered
            .iter()
            .any(|r| r.contains("removed an unfinished segment")),
        "{recovered:?}"
    );
    assert_eq!(ready.len(), 1);
    let entry = ready
        .into_iter()
        .next()
        .unwrap()
        .commit(&root, &|| false)
        .unwrap();
    assert_eq!(
        (
            entry.rows,
            entry.kernel_drops,
            entry.truncated,
            entry.kind.as_str()
        ),
        (3, 2, 1, "live")
    );
    assert!(!root.join("_live/s1/seg-b").exists());
    let m = manifest(&root);
    assert_eq!(m.len(), 1);
    let session = Session::open(&root).unwrap();
    let batches = session
        .sql("SELECT COUNT(*) FROM events WHERE class = 'mirai-gre-ip'")
        .unwrap();
    let n = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap()
        .value(0);
    assert_eq!(n, 3);
    let h = session
        .sql("SELECT received, stored, kernel_drops, truncated FROM sensor_health")
        .unwrap();
    assert_eq!(h[0].num_rows(), 1);
    drop(session);
    std::fs::remove_dir_all(&root).unwrap();
}
