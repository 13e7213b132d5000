//! Numbers you can trust (issue 26): the same input gives byte-identical reports, counts
//! called exact are exact, estimates never exceed what they count, and wrong inputs are
//! refused with an error and a meaningful exit status.

// The fixture helpers live beside the decoder reference tests in the capture crate.
#[path = "../../capture/tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::Command;

use noisefloor_capture::PcapWriter;
use noisefloor_synth::{Kind, Rng, Sensor, frame};
use serde_json::Value;

fn noisefloor(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_noisefloor"))
        .args(args)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nf-trust-{}-{name}", std::process::id()))
}

/// Writes `n` frames of `kinds` (in turn), 1 ms apart; returns the frames too.
fn capture(name: &str, n: usize, kinds: &[Kind], seed: u64) -> (PathBuf, Vec<Vec<u8>>) {
    let p = temp(name);
    let f = std::fs::File::create(&p).unwrap();
    let mut w = PcapWriter::new(BufWriter::new(f), 1, 65535, false).unwrap();
    let mut rng = Rng::new(seed);
    let sensor = Sensor::default();
    let start: i64 = 1_482_796_800_000_000_000;
    let mut frames = Vec::with_capacity(n);
    for i in 0..n {
        let fr = frame(&mut rng, &sensor, kinds[i % kinds.len()]);
        w.write(start + i as i64 * 1_000_000, &fr, fr.len() as u32)
            .unwrap();
        frames.push(fr);
    }
    drop(w);
    (p, frames)
}

fn int(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn explain_twice_on_one_input_is_byte_identical_in_text_and_json() {
    // Big enough for many read batches, so several decode threads and all fold states take
    // part, and for the bounded top lists to evict.
    let (p, _) = capture("mix.pcap", 150_000, &Kind::ALL, 7);
    let p = p.to_str().unwrap();
    for args in [vec!["explain", p], vec!["explain", "--json", p]] {
        let (a, err, code) = noisefloor(&args);
        assert_eq!(code, 0, "{err}");
        for _ in 0..2 {
            let (b, _, _) = noisefloor(&args);
            assert!(a == b, "{args:?} differs between runs");
        }
    }
    std::fs::remove_file(p).ok();
}

#[test]
fn backscatter_victims_are_counted_exactly() {
    // TCP replies: the victim is the replying host (an ICMP error's may be the router's).
    let kinds = [Kind::BackscatterSynAck, Kind::BackscatterRst];
    let (p, frames) = capture("bs.pcap", 9_000, &kinds, 11);
    // The outer source (Ethernet + 12).
    let victims: HashSet<[u8; 4]> = frames
        .iter()
        .map(|f| f[26..30].try_into().unwrap())
        .collect();
    assert!(victims.len() > 5_000);
    let (text, err, code) = noisefloor(&["explain", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let want = format!("; {} distinct victims", int(victims.len()));
    assert!(text.contains(&want), "want {want:?} in\n{text}");
    std::fs::remove_file(p).ok();
}

#[test]
fn mirai_inner_address_counts_are_exact_for_a_small_flood_and_never_exceed_the_packets() {
    let (p, _) = capture("gre.pcap", 520, &[Kind::MiraiGreIpLe], 3);
    let (json, err, code) = noisefloor(&["explain", "--json", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let f = &v["gre_flood"];
    assert_eq!(f["packets"], 520);
    for k in ["inner_sources", "inner_destinations"] {
        assert!(f[k].as_u64().unwrap() <= 520, "{k}: {f}");
        assert_eq!(f[format!("{k}_exact")], true, "{f}");
    }
    for c in v["classes"].as_array().unwrap() {
        assert!(c["sources"].as_u64() <= c["packets"].as_u64(), "{c}");
    }
    let (text, _, _) = noisefloor(&["explain", p.to_str().unwrap()]);
    assert!(!text.contains("inner destinations:  ~"), "{text}");
    // Past the exact limit every count is an estimate: labelled with its error, and never
    // more sources than packets, in the text as in the JSON.
    let (text, _, code) = noisefloor(&["explain", "--exact-limit", "64", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains("±1.6 %"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("GRE packets from"))
        .unwrap_or_else(|| panic!("{text}"));
    let sources: u64 = line
        .split("from ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .map(|n| n.trim_start_matches('~').replace(',', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(sources <= 520, "{line}");
    std::fs::remove_file(p).ok();
}

fn count_where(lake: &std::path::Path, cond: &str) -> u64 {
    let (out, err, code) = noisefloor(&[
        "sql",
        "--format",
        "json",
        "--lake",
        lake.to_str().unwrap(),
        &format!("SELECT COUNT(*) AS n FROM events WHERE {cond}"),
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Value>(&out).unwrap()[0]["n"]
        .as_u64()
        .unwrap()
}

fn rows(lake: &std::path::Path) -> u64 {
    count_where(lake, "true")
}

fn ingest(lake: &std::path::Path, file: &std::path::Path) -> (String, i32) {
    ingest_with(&[], lake, file)
}

/// `ingest FILE --sensor s1 --lake LAKE` with `extra` options.
fn ingest_with(extra: &[&str], lake: &std::path::Path, file: &std::path::Path) -> (String, i32) {
    let mut args = vec!["ingest", file.to_str().unwrap(), "--sensor", "s1", "--lake"];
    args.push(lake.to_str().unwrap());
    args.extend_from_slice(extra);
    let (out, err, code) = noisefloor(&args);
    (out + &err, code)
}

fn deny_line(i: usize) -> String {
    format!(
        "Dec  5 10:{:02}:{:02} fw kernel: [12345.678] DROP IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.{} DST=198.51.100.7 LEN=24 TOS=0x00 PREC=0x00 TTL=53 ID={i} PROTO=47\n",
        i / 60 % 60,
        i % 60,
        i % 250 + 1
    )
}

#[test]
fn a_grown_log_and_its_rotated_gzip_copy_are_ingested_once() {
    let dir = temp("grow-log");
    std::fs::create_dir_all(&dir).unwrap();
    let lake = dir.join("lake");
    let log = dir.join("kern.log");
    let mut text: String = (0..1_000).map(deny_line).collect();
    std::fs::write(&log, &text).unwrap();
    assert_eq!(ingest(&lake, &log).1, 0);
    assert_eq!(rows(&lake), 1_000);
    text.extend((1_000..1_010).map(deny_line));
    std::fs::write(&log, &text).unwrap();
    let (out, code) = ingest(&lake, &log);
    assert_eq!(code, 0, "{out}");
    assert_eq!(rows(&lake), 1_010, "{out}");
    // logrotate's `compress`: the same lines, gzipped.
    let gz = dir.join("kern.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let (out, code) = ingest(&lake, &gz);
    assert_eq!(code, 0, "{out}");
    assert_eq!(rows(&lake), 1_010, "{out}");
    // A different file that starts like an ingested one still adds its own lines.
    let other = dir.join("other.log");
    let more: String = (2_000..2_005).map(deny_line).collect();
    std::fs::write(&other, text.clone() + &more).unwrap();
    let (out, code) = ingest(&lake, &other);
    assert_eq!(code, 0, "{out}");
    assert_eq!(rows(&lake), 1_015, "{out}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_capture_ingested_while_written_and_again_when_complete_has_each_packet_once() {
    let dir = temp("grow-pcap");
    std::fs::create_dir_all(&dir).unwrap();
    let lake = dir.join("lake");
    let (full, _) = capture("full.pcap", 20_000, &Kind::ALL, 5);
    let bytes = std::fs::read(&full).unwrap();
    // Cut in the middle of a record, as a file still being written is.
    let part = dir.join("growing.pcap");
    std::fs::write(&part, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let (out, _) = ingest(&lake, &part);
    let first = rows(&lake);
    assert!(first > 9_000 && first < 11_000, "{first}: {out}");
    std::fs::write(&part, &bytes).unwrap();
    let (out, code) = ingest(&lake, &part);
    assert_eq!(code, 0, "{out}");
    assert_eq!(rows(&lake), 20_000, "{out}");
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_file(full).ok();
}

#[test]
fn an_input_where_nothing_could_be_read_is_not_recorded_and_is_retried() {
    let dir = temp("unreadable");
    std::fs::create_dir_all(&dir).unwrap();
    let lake = dir.join("lake");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "shopping list\neggs\nmilk\n").unwrap();
    let (out, code) = ingest(&lake, &notes);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("nothing could be read"), "{out}");
    let (out, code) = ingest(&lake, &notes);
    assert_eq!(code, 2, "retried, not 'already ingested': {out}");
    let empty = dir.join("kern.log");
    std::fs::write(&empty, "").unwrap();
    let (out, code) = ingest(&lake, &empty);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("empty file"), "{out}");
    // A capture just started: its file header and no packet yet.
    let (full, _) = capture("started.pcap", 3, &[Kind::ScanTcp], 5);
    let header_only = dir.join("started.pcap");
    std::fs::write(&header_only, &std::fs::read(&full).unwrap()[..24]).unwrap();
    let (out, code) = ingest(&lake, &header_only);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no packet in it yet"), "{out}");
    std::fs::copy(&full, &header_only).unwrap();
    let (out, code) = ingest(&lake, &header_only);
    assert_eq!(code, 0, "taken whole once it has packets: {out}");
    assert_eq!(rows(&lake), 3);
    std::fs::remove_file(full).ok();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn explain_refuses_an_input_it_cannot_read_instead_of_printing_an_empty_report() {
    let p = temp("notes.txt");
    std::fs::write(&p, "shopping list\neggs\n").unwrap();
    let (out, err, code) = noisefloor(&["explain", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no packet and no log record could be read"),
        "{err}"
    );
    let (out, err, code) = noisefloor(&["explain", "/nonexistent/x.pcap"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("x.pcap"), "{err}");
    // dissect too: the error, not a summary of zeros before it.
    let (out, err, code) = noisefloor(&["dissect", "/nonexistent/x.pcap"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("x.pcap") && !err.contains("0 packets"),
        "{err}"
    );
    // Help for explain and dissect names no configuration (only ingest reads one).
    for cmd in ["explain", "dissect"] {
        let (help, _, _) = noisefloor(&[cmd, "--help"]);
        assert!(!help.contains("config"), "{cmd} --help: {help}");
    }
    std::fs::remove_file(p).ok();
}

#[test]
fn dissect_json_gives_every_key_once_per_layer() {
    let (p, _) = capture("one.pcap", 1, &[Kind::MiraiGreIpLe], 1);
    let (out, err, code) = noisefloor(&["dissect", "--json", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("{\"layer\":\"ip\","), "{out}");
    assert!(
        !out.contains("\"proto\":\""),
        "a layer name under `proto`: {out}"
    );
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["layers"][1]["proto"], 47);
    std::fs::remove_file(p).ok();
}

/// A small lake with one sensor, `s1`, for the wrong-input checks.
fn small_lake(name: &str) -> PathBuf {
    let dir = temp(name);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("kern.log");
    std::fs::write(&log, (0..50).map(deny_line).collect::<String>()).unwrap();
    let lake = dir.join("lake");
    assert_eq!(ingest(&lake, &log).1, 0);
    lake
}

#[test]
fn wrong_report_arguments_are_refused_with_what_to_do() {
    let lake = small_lake("report-args");
    let l = lake.to_str().unwrap();
    let report = |extra: &[&str]| {
        let mut a = vec!["report", "--lake", l];
        a.extend_from_slice(extra);
        noisefloor(&a)
    };
    let (_, err, code) = report(&["--from", "2021-09-01", "--to", "2021-04-01"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is after --to"), "{err}");
    let (_, err, code) = report(&["--from", "2021-13-01"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a calendar date"), "{err}");
    let (_, err, code) = report(&["--top", "0"]);
    assert_eq!(code, 1, "{err}");
    let (_, err, code) = report(&["--sensor", "nosuch"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("its sensors: s1"), "{err}");
    let (_, err, code) = report(&["--key", "gre/xyz"]);
    assert_eq!(code, 1, "{err}");
    // Case does not matter: `gre` is GRE.
    let (upper, _, code) = report(&["--key", "GRE", "--format", "json"]);
    assert_eq!(code, 0);
    let (lower, _, _) = report(&["--key", "gre", "--format", "json"]);
    assert_eq!(upper, lower);
    let missing = lake.with_file_name("not-a-lake");
    std::fs::create_dir_all(&missing).unwrap();
    let (_, err, code) = noisefloor(&["report", "--lake", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no lake here"), "{err}");
    std::fs::remove_dir_all(lake.parent().unwrap()).ok();
}

#[test]
fn sql_only_reads_and_says_what_it_can_read() {
    let lake = small_lake("sql-ro");
    let l = lake.to_str().unwrap();
    for q in [
        "DROP TABLE events",
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT * FROM events) TO '/tmp/nf-trust-copy.parquet'",
        // No extension: DataFusion asks for a format before any read-only check.
        "COPY (SELECT * FROM events) TO '/tmp/nf-trust-copy'",
        "INSERT INTO inputs SELECT * FROM inputs",
    ] {
        let (_, err, code) = noisefloor(&["sql", "--lake", l, q]);
        assert_eq!(code, 1, "{q}: {err}");
        assert!(err.contains("only reads the lake"), "{q}: {err}");
    }
    assert!(!std::path::Path::new("/tmp/nf-trust-copy.parquet").exists());
    assert!(!std::path::Path::new("/tmp/nf-trust-copy").exists());
    assert_eq!(rows(&lake), 50);
    let (out, _, code) = noisefloor(&[
        "sql",
        "--format",
        "csv",
        "--lake",
        l,
        "SELECT src, packets FROM events WHERE false",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "src,packets",
        "an empty result keeps its header"
    );
    let (_, err, code) = noisefloor(&["sql", "--lake", l, "SELECT * FROM evnets"]);
    assert_eq!(code, 1);
    assert!(err.contains("tables: events, inputs, rollup"), "{err}");
    std::fs::remove_dir_all(lake.parent().unwrap()).ok();
}

#[test]
fn every_field_a_layer_emits_is_one_a_filter_accepts() {
    use noisefloor_wire::{Dissection, Options};
    let mut files = Vec::new();
    for dir in ["tcpdump", "zeek", "suricata-verify", "libpcap", "stopddos"] {
        let Ok(rd) = std::fs::read_dir(common::data(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".pcap") || name.ends_with(".pcapng") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "{}", files.len());
    let mut seen = 0u64;
    for f in &files {
        common::each_packet(f, Options::default(), |_, _, d: &Dissection| {
            for l in d.layers() {
                let known = l.proto().fields();
                l.visit(&mut |field| {
                    seen += 1;
                    assert!(
                        known.contains(&field.key),
                        "{f}: {} emits '{}', not in Proto::fields (docs/dissect-json.md)",
                        l.proto().name(),
                        field.key
                    );
                });
            }
        });
    }
    assert!(seen > 10_000, "{seen}");
    // And the filter refuses a field no layer has.
    let (p, _) = capture("f.pcap", 3, &[Kind::MiraiGreIpLe], 1);
    let (_, err, code) = noisefloor(&[
        "dissect",
        "--filter",
        "outer.ip.srcx == 1.2.3.4",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unknown field 'srcx' of ip"), "{err}");
    std::fs::remove_file(p).ok();
}

/// The cases an adversarial review found: `--replace` of a continuation, an over-long line,
/// a gzip still being written, and a last line cut mid-way.
#[test]
fn grown_inputs_hold_in_the_corner_cases() {
    let dir = temp("grow-corners");
    std::fs::create_dir_all(&dir).unwrap();
    let lines = |a: usize, b: usize| (a..b).map(deny_line).collect::<String>();

    // --replace of a continuation replaces only what the continuation added.
    let lake = dir.join("replace");
    let log = dir.join("r.log");
    std::fs::write(&log, lines(0, 100)).unwrap();
    ingest(&lake, &log);
    std::fs::write(&log, lines(0, 150)).unwrap();
    ingest(&lake, &log);
    let (out, code) = ingest_with(&["--replace"], &lake, &log);
    assert_eq!(code, 0, "{out}");
    assert_eq!(rows(&lake), 150, "{out}");

    // A line over the reader's limit does not stop the file from being recognised.
    let lake = dir.join("long");
    let log = dir.join("l.log");
    let long = "x".repeat(2_000_000) + "\n";
    std::fs::write(&log, lines(0, 50) + &long + &lines(50, 100)).unwrap();
    ingest(&lake, &log);
    assert_eq!(rows(&lake), 100);
    std::fs::write(&log, lines(0, 50) + &long + &lines(50, 150)).unwrap();
    let (out, _) = ingest(&lake, &log);
    assert_eq!(rows(&lake), 150, "{out}");

    // A gzip still being written (cut mid-stream), then complete.
    let lake = dir.join("gz");
    let gz = dir.join("g.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, lines(0, 20_000).as_bytes()).unwrap();
    let full = enc.finish().unwrap();
    std::fs::write(&gz, &full[..full.len() * 2 / 3]).unwrap();
    let (out, _) = ingest(&lake, &gz);
    let first = rows(&lake);
    assert!(first > 5_000 && first < 20_000, "{first}: {out}");
    std::fs::write(&gz, &full).unwrap();
    let (out, _) = ingest(&lake, &gz);
    assert_eq!(rows(&lake), 20_000, "{out}");

    // A last line cut mid-way waits for its end: never stored cut short, never lost.
    let lake = dir.join("cut");
    let log = dir.join("c.log");
    let text = lines(0, 100);
    let cut = text.len() - 12;
    std::fs::write(&log, &text[..cut]).unwrap();
    let (out, _) = ingest(&lake, &log);
    assert_eq!(rows(&lake), 99, "{out}");
    assert!(out.contains("held back"), "{out}");
    std::fs::write(&log, lines(0, 150)).unwrap();
    let (out, _) = ingest(&lake, &log);
    assert_eq!(rows(&lake), 150, "{out}");
    assert_eq!(count_where(&lake, "proto <> 47"), 0);
    std::fs::remove_dir_all(dir).ok();
}
