//! `explain --json` pinned: the report of each sample and each real attack capture equals its
//! golden file (written by the hand-made JSON writer before serde took over; numbers compared
//! to 1e-4, since the text rounds them and so does the JSON), and every field it prints is
//! one docs/explain-json.md documents. `NOISEFLOOR_UPDATE_GOLDEN=1` rewrites the golden files
//! after an intended change (review the diff).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use noisefloor_explain::{Explained, Inputs, Limits, Pass, triage_files};
use serde_json::Value;

const INPUTS: [&str; 11] = [
    "samples/darknet-day.pcap.gz",
    "samples/firewall-day.log",
    "samples/seed-000-mirai-gre.pcap",
    "tests/data/stopddos/amp.TCP.reflection.SYNACK.head.pcap",
    "tests/data/stopddos/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
    "tests/data/stopddos/amp.UDP.bacnet.IOT.37810.head.pcapng",
    "tests/data/stopddos/amp.UDP.isakmp.head.pcap",
    "tests/data/stopddos/amp.UDP.snmp.src161.head.pcapng",
    "tests/data/stopddos/amp.dns.RRSIG.fragmented.pcap",
    "tests/data/stopddos/pkt.TCP.DOMINATE.syn.ecn.cwr.head.pcapng",
    "tests/data/stopddos/pkt.TCP.synflood.spoofed.head.pcap",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn explain_json(rel: &str) -> (Value, String) {
    let path = root().join(rel).to_string_lossy().into_owned();
    let files = vec![path.clone()];
    // The samples' syslog times carry no year: fixed here, not taken from the file's
    // modification time (a fresh clone's), so the report is the same every year.
    let log_opts = noisefloor_logs::LogOptions {
        year: Some(2025),
        ..noisefloor_logs::LogOptions::default()
    };
    let ctx = noisefloor_classify::Context::default();
    let Pass {
        triage,
        logs,
        report,
    } = triage_files(&files, Limits::default(), &ctx, &log_opts, &mut |_| {});
    let inputs = Inputs {
        files: vec![rel.to_string()],
        errors: report.errors,
        logs,
        log_zone: "UTC".into(),
        role: None,
    };
    // Notes name the file as read (an absolute path here): name it as given.
    let text = Explained::new(&triage, inputs)
        .json()
        .replace(serde_json::to_string(&path).unwrap().trim_matches('"'), rel);
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: not JSON ({e}): {text}"));
    (v, text)
}

/// Equal, with numbers within 1e-4 and the file names left out (they depend on the
/// directory a run starts in); the first difference's path otherwise. Key order is not
/// compared (a parsed object keeps none).
fn diff(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            ((x - y).abs() > 1e-4).then(|| format!("{at}: {x} != {y}"))
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: BTreeSet<&String> = x.keys().filter(|k| *k != "inputs").collect();
            let ky: BTreeSet<&String> = y.keys().filter(|k| *k != "inputs").collect();
            if kx != ky {
                return Some(format!("{at}: keys {kx:?} != {ky:?}"));
            }
            kx.iter()
                .find_map(|k| diff(&x[k.as_str()], &y[k.as_str()], &format!("{at}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{at}: {} != {} items", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff(p, q, &format!("{at}[{i}]")))
        }
        _ => (a != b).then(|| format!("{at}: {a} != {b}")),
    }
}

#[test]
fn reports_equal_their_golden_files() {
    let update = std::env::var_os("NOISEFLOOR_UPDATE_GOLDEN").is_some();
    for rel in INPUTS {
        let (got, text) = explain_json(rel);
        // Whatever the goldens say, no count of senders exceeds the packets they sent.
        for a in got["attacks"].as_array().into_iter().flatten() {
            let (s, p) = (a["sources"].as_u64(), a["packets"].as_f64());
            assert!(s.is_some() && p.is_some(), "{rel}: {a}");
            assert!(s.unwrap() as f64 <= p.unwrap(), "{rel}: {a}");
        }
        let name = Path::new(rel)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
        if update {
            std::fs::write(&golden, text + "\n").unwrap();
            continue;
        }
        let want: Value = serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
        if let Some(d) = diff(&got, &want, "") {
            panic!("{rel}: differs from {}: {d}", golden.display());
        }
    }
}

/// Backticked names in the first column of the document's tables.
fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(root().join("docs/explain-json.md")).unwrap();
    let mut names = BTreeSet::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let first = line.split('|').nth(1).unwrap_or("");
        for part in first.split('`').skip(1).step_by(2) {
            names.insert(part.to_string());
        }
    }
    names
}

#[test]
fn every_field_printed_is_documented() {
    let doc = documented();
    let mut missing = BTreeSet::new();
    for rel in INPUTS {
        let (v, _) = explain_json(rel);
        let obj = v.as_object().unwrap();
        for k in obj.keys() {
            if !doc.contains(k) {
                missing.insert(format!("{k} (top level)"));
            }
        }
        for a in obj["attacks"].as_array().unwrap() {
            for k in a.as_object().unwrap().keys() {
                if !doc.contains(k) {
                    missing.insert(format!("{k} (attacks)"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/explain-json.md: {missing:?}"
    );
}
