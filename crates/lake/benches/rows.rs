//! Per-row cost of `ingest`'s writing side on the benchmark mix (the frames of
//! `bench/run.sh`'s capture, decoded and classified once, in memory), one core, criterion:
//!
//!     cargo bench -p noisefloor-lake --bench rows
//!
//! "event writer" is what `ingest` does: `EventWriter`'s own column encoders and zstd into
//! memory. "arrow build" fills the Arrow column builders (`EventBuilder`), and "arrow build +
//! ArrowWriter" also encodes them through the Parquet crate's general writer: the path
//! `ingest` took before, kept as the reference the writer is tested against. The
//! end-to-end ingest on a shared VM varies by ±20 %; this is the place to judge a change
//! to the row layout or the writer settings.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noisefloor_classify::{Context, Verdict, classify};
use noisefloor_enrich::Attribution;
use noisefloor_lake::event::{EventBuilder, RowContext};
use noisefloor_lake::event_writer::EventWriter;
use noisefloor_lake::ingest::writer_properties;
use noisefloor_synth::{Rng, Sensor, bench_kind, frame};
use noisefloor_wire::{Observation, Options, dissect_with, linktype};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::hint::black_box;
use std::sync::Arc;

const ROWS: usize = 1 << 18;
/// As `ingest`: rows per batch handed to Parquet.
const BATCH: usize = 64 * 1024;

fn stages(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let sensor = Sensor::default();
    let frames: Vec<Vec<u8>> = (0..ROWS)
        .map(|_| {
            let kind = bench_kind(&mut rng);
            frame(&mut rng, &sensor, kind)
        })
        .collect();
    let (opts, ctx) = (Options::default(), Context::default());
    let mut ts = 1_482_796_800_000_000_000i64;
    let rows: Vec<(Observation, Verdict)> = frames
        .iter()
        .map(|f| {
            ts += 1_000;
            let d = dissect_with(&opts, linktype::ETHERNET, f);
            let o = Observation::from_dissection(ts, f.len() as u32, &d);
            let v = classify(&o, &ctx);
            (o, v)
        })
        .collect();
    let who = Attribution::default();
    let row_ctx = RowContext {
        sensor_group: None,
        input: Arc::from("bench/out/darknet-10000000.pcap"),
    };
    let props = writer_properties(3, "s1");

    // Size as well as speed: settings that save time must not cost bytes unnoticed.
    for (name, file) in [
        ("event writer", write_events(&rows, &who, &row_ctx, &props)),
        ("ArrowWriter", write_parquet(&rows, &who, &row_ctx, &props)),
    ] {
        eprintln!(
            "events Parquet ({name}): {} bytes for {ROWS} rows = {:.2} bytes/row",
            file.len(),
            file.len() as f64 / ROWS as f64
        );
    }

    let mut g = c.benchmark_group("ingest per row");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function("event writer", |b| {
        b.iter(|| black_box(write_events(&rows, &who, &row_ctx, &props).len()))
    });
    g.bench_function("arrow build", |b| {
        let mut e = EventBuilder::new();
        b.iter(|| {
            let mut columns = 0;
            for chunk in rows.chunks(BATCH) {
                for (o, v) in chunk {
                    e.push(o, v, &who, &row_ctx, "pcap");
                }
                columns += e.finish().num_columns();
            }
            black_box(columns)
        })
    });
    g.bench_function("arrow build + ArrowWriter", |b| {
        b.iter(|| black_box(write_parquet(&rows, &who, &row_ctx, &props).len()))
    });
    g.finish();
}

/// One events file of all rows, as `ingest` writes it.
fn write_events(
    rows: &[(Observation, Verdict)],
    who: &Attribution,
    row_ctx: &RowContext,
    props: &WriterProperties,
) -> Vec<u8> {
    let mut w = EventWriter::try_new(Vec::new(), props).expect("an in-memory writer");
    for (o, v) in rows {
        w.push(o, v, who, row_ctx, "pcap").expect("in memory");
    }
    w.finish().expect("a closed file")
}

/// The same through the Arrow builders and `ArrowWriter`, in 64 Ki-row batches.
fn write_parquet(
    rows: &[(Observation, Verdict)],
    who: &Attribution,
    row_ctx: &RowContext,
    props: &WriterProperties,
) -> Vec<u8> {
    let mut e = EventBuilder::new();
    let schema = noisefloor_lake::schema::file_schema();
    let mut w =
        ArrowWriter::try_new(Vec::new(), schema, Some(props.clone())).expect("an in-memory writer");
    for chunk in rows.chunks(BATCH) {
        for (o, v) in chunk {
            e.push(o, v, who, row_ctx, "pcap");
        }
        w.write(&e.finish()).expect("rows match the schema");
    }
    w.into_inner().expect("a closed file")
}

criterion_group!(benches, stages);
criterion_main!(benches);
