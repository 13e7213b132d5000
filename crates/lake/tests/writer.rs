//! The events writer (`EventWriter`, hand-made pages) against the reference: the same rows
//! through `EventBuilder` and the Parquet crate's `ArrowWriter`. Both files must read back
//! to the same Arrow batches (types, nulls, every value), and every statistic the writer
//! puts in a footer must equal the reference's, since query engines skip row groups by them.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::RecordBatchReader;
use arrow::compute::concat_batches;
use noisefloor_classify::{Context, Verdict, classify};
use noisefloor_enrich::Attribution;
use noisefloor_lake::event::{EventBuilder, RowContext};
use noisefloor_lake::event_writer::EventWriter;
use noisefloor_lake::ingest::writer_properties;
use noisefloor_synth::{Kind, Rng, Sensor, bench_kind, frame};
use noisefloor_wire::{Action, Observation, Options, dissect_with, linktype};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};

struct Row<'a> {
    o: Observation<'a>,
    v: Verdict,
    who: Attribution,
    format: &'static str,
}

/// Rows of every kind the synthetic darknet sends, from random sources (enough distinct
/// addresses to overflow the address dictionaries), timestamps rising with jitter.
fn packet_rows(frames: &[Vec<u8>]) -> Vec<Row<'_>> {
    let (opts, ctx) = (Options::default(), Context::default());
    let mut ts = 1_482_796_800_000_000_000i64;
    let mut rng = Rng::new(5);
    frames
        .iter()
        .map(|f| {
            ts += rng.below(2_000_000) as i64;
            let d = dissect_with(&opts, linktype::ETHERNET, f);
            let mut o = Observation::from_dissection(ts, f.len() as u32, &d);
            let v = classify(&o, &ctx);
            // A distinct 64-bit value on every row: 150,000 of them overflow the integer
            // dictionary (1 MiB) into PLAIN pages.
            o.tunnel.gre.get_or_insert_with(Default::default).key = Some(rng.u32());
            Row {
                o,
                v,
                who: Attribution::default(),
                format: "pcap",
            }
        })
        .collect()
}

/// Log-like rows: IPv6 and IPv4 sources, rules that are unique per line (the text
/// dictionary overflows and falls back to PLAIN), interfaces, actions, counts, times far
/// apart and before 1970, attributions whose names are shared or fresh copies.
fn log_rows<'a>(rules: &'a [String], names: &[Arc<str>]) -> Vec<Row<'a>> {
    let ctx = Context::default();
    let mut rng = Rng::new(9);
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut o = Observation::new();
            o.ts_ns = Some(match i % 5 {
                0 => -86_400_000_000_000 * (i as i64),
                1 => 4_102_444_800_000_000_000 + i as i64,
                _ => 1_700_000_000_000_000_000 + (i as i64) * 1_000_000_007,
            });
            o.src = Some(if i % 3 == 0 {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, rng.u16()))
            } else {
                IpAddr::from(rng.addr())
            });
            o.dst = Some(IpAddr::from([192, 0, 2, (i % 7) as u8]));
            o.proto = Some([6u8, 17, 47, 1][i % 4]);
            if i % 4 < 2 {
                o.src_port = Some(rng.u16());
                o.dst_port = Some([23u16, 2323, 37215, 123][i % 4]);
            }
            o.ttl = (i % 6 != 0).then_some((i % 256) as u8);
            o.ip_len = Some(if i % 11 == 0 {
                u32::MAX
            } else {
                40 + i as u32 % 1500
            });
            o.dont_fragment = [Some(true), Some(false), None][i % 3];
            o.rule = (i % 10 != 0).then_some(rule.as_str());
            o.in_interface = Some(["eth0", "wan", "ppp0"][i % 3]);
            o.action = Some([Action::Drop, Action::Reject, Action::Allow][i % 3]);
            o.host = (i % 2 == 0).then_some("fw1");
            o.count = [1, 3, 0, 1000][i % 4];
            let v = classify(&o, &ctx);
            let name = |k: usize| {
                // Every other row a fresh allocation of the same text: found by content.
                let s = &names[k % names.len()];
                if i % 2 == 0 {
                    s.clone()
                } else {
                    Arc::from(&**s)
                }
            };
            let who = Attribution {
                asn: (i % 4 != 0).then_some(3462 + (i % 3) as u32),
                as_name: (i % 4 != 0).then(|| name(i)),
                country: Some(name(i + 1)),
                city: (i % 5 == 0).then(|| name(i + 2)),
            };
            Row {
                o,
                v,
                who,
                format: "netfilter",
            }
        })
        .collect()
}

fn reference(rows: &[Row], ctx: &RowContext, props: &WriterProperties) -> Vec<u8> {
    let mut w = ArrowWriter::try_new(
        Vec::new(),
        noisefloor_lake::schema::file_schema(),
        Some(props.clone()),
    )
    .unwrap();
    let mut b = EventBuilder::new();
    for chunk in rows.chunks(10_000) {
        for r in chunk {
            b.push(&r.o, &r.v, &r.who, ctx, r.format);
        }
        w.write(&b.finish()).unwrap();
    }
    w.into_inner().unwrap()
}

fn ours(rows: &[Row], ctx: &RowContext, props: &WriterProperties) -> Vec<u8> {
    let mut w = EventWriter::try_new(Vec::new(), props).unwrap();
    for r in rows {
        w.push(&r.o, &r.v, &r.who, ctx, r.format).unwrap();
    }
    assert_eq!(w.rows(), rows.len());
    w.finish().unwrap()
}

fn read(file: &[u8]) -> arrow::array::RecordBatch {
    let bytes = bytes::Bytes::copy_from_slice(file);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap()
        .with_batch_size(1 << 16)
        .build()
        .unwrap();
    let schema = reader.schema();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&schema, &batches).unwrap()
}

fn compare(rows: &[Row], ctx: &RowContext, props: &WriterProperties, what: &str) {
    let (a, b) = (reference(rows, ctx, props), ours(rows, ctx, props));
    let (ra, rb) = (read(&a), read(&b));
    assert_eq!(ra.schema(), rb.schema(), "{what}: schema");
    assert_eq!(ra.num_rows(), rows.len(), "{what}: rows");
    for (i, f) in ra.schema().fields().iter().enumerate() {
        assert_eq!(ra.column(i), rb.column(i), "{what}: column {}", f.name());
    }
    // Footers: the same row groups, and our statistics equal the reference's.
    let fa = SerializedFileReader::new(bytes::Bytes::from(a)).unwrap();
    let fb = SerializedFileReader::new(bytes::Bytes::from(b)).unwrap();
    let (ma, mb) = (fa.metadata(), fb.metadata());
    assert_eq!(
        ma.num_row_groups(),
        mb.num_row_groups(),
        "{what}: row groups"
    );
    assert_eq!(
        ma.file_metadata().key_value_metadata(),
        mb.file_metadata().key_value_metadata(),
        "{what}: key-value metadata"
    );
    let mut compared = 0;
    for g in 0..ma.num_row_groups() {
        let (ga, gb) = (ma.row_group(g), mb.row_group(g));
        assert_eq!(ga.num_rows(), gb.num_rows());
        for c in 0..ga.num_columns() {
            let (ca, cb) = (ga.column(c), gb.column(c));
            let name = ca.column_path().string();
            let (Some(sa), Some(sb)) = (ca.statistics(), cb.statistics()) else {
                panic!("{what}: {name}: statistics missing");
            };
            assert_eq!(
                sa.null_count_opt(),
                sb.null_count_opt(),
                "{what}: {name} nulls"
            );
            if sb.min_bytes_opt().is_some() {
                assert!(sa.min_is_exact() && sa.max_is_exact(), "{name}");
                assert_eq!(sa.min_bytes_opt(), sb.min_bytes_opt(), "{what}: {name} min");
                assert_eq!(sa.max_bytes_opt(), sb.max_bytes_opt(), "{what}: {name} max");
                compared += 1;
            } else {
                // Left out only where the reference's would be truncated or absent.
                let long = sa.min_bytes_opt().is_none_or(|m| m.len() >= 64)
                    || sa.max_bytes_opt().is_none_or(|m| m.len() >= 64)
                    || !sa.max_is_exact();
                assert!(long, "{what}: {name}: statistics left out");
            }
        }
    }
    assert!(compared > 20, "{what}: only {compared} statistics compared");
}

#[test]
fn packets_read_back_as_the_reference_writes_them() {
    let mut rng = Rng::new(1);
    let sensor = Sensor::default();
    // Every kind, then the bench mix: 150,000 rows are three pages of one row group, and
    // 150,000 random sources overflow the address dictionaries into PLAIN pages.
    let mut frames: Vec<Vec<u8>> = Kind::ALL
        .iter()
        .flat_map(|&k| (0..50).map(move |_| k))
        .map(|k| frame(&mut rng, &sensor, k))
        .collect();
    frames.extend((0..150_000).map(|_| {
        let k = bench_kind(&mut rng);
        frame(&mut rng, &sensor, k)
    }));
    let rows = packet_rows(&frames);
    let ctx = RowContext {
        sensor_group: None,
        input: Arc::from("bench/darknet.pcap"),
    };
    compare(&rows, &ctx, &writer_properties(3, "s1"), "packets");
}

#[test]
fn logs_and_small_row_groups_read_back_as_the_reference_writes_them() {
    let rules: Vec<String> = (0..30_000)
        .map(|i| format!("DROP-{i:08}-{}", "x".repeat(i % 90)))
        .collect();
    let names: Vec<Arc<str>> = [
        "HINET Data Communication Business Group",
        "TW",
        "Taipei",
        "CN",
        "Chunghwa Telecom",
    ]
    .iter()
    .map(|&s| Arc::from(s))
    .collect();
    let rows = log_rows(&rules, &names);
    let ctx = RowContext {
        sensor_group: Some(Arc::from("domestic")),
        input: Arc::from("/var/log/kern.log"),
    };
    let props = {
        // The lake's settings with small row groups: dictionaries start over every 7,000 rows.
        let base = writer_properties(1, "tokyo");
        WriterProperties::builder()
            .set_compression(base.compression(&"ts".into()))
            .set_max_row_group_row_count(Some(7_000))
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
            .set_created_by(base.created_by().to_owned())
            .set_key_value_metadata(base.key_value_metadata().cloned())
            .set_column_dictionary_enabled("ts".into(), false)
            .set_column_encoding("ts".into(), parquet::basic::Encoding::DELTA_BINARY_PACKED)
            .build()
    };
    compare(&rows, &ctx, &props, "logs");
    // And the lake's own settings over the same rows (one row group; rule overflows).
    compare(
        &rows,
        &ctx,
        &writer_properties(3, "tokyo"),
        "logs, one row group",
    );
}

#[test]
fn an_empty_file_reads_as_empty() {
    let props = writer_properties(3, "s1");
    let w = EventWriter::try_new(Vec::new(), &props).unwrap();
    let file = w.finish().unwrap();
    let b = read(&file);
    assert_eq!(b.num_rows(), 0);
    assert_eq!(b.schema().fields().len(), 44);
}
