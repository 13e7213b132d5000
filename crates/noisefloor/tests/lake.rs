//! The lake end to end: a deterministic three-sensor, fourteen-month darknet is ingested with
//! enrichment, and every report number is checked against the generator's ground truth.
//! Re-ingest, `--replace`, `kill -9` and the SQL command are checked on the same data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use noisefloor_synth::lake::{LakeSpec, Truth, generate};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_noisefloor"))
}

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(p)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nf-lake-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Fixture {
    inputs: PathBuf,
    lake: PathBuf,
    config: PathBuf,
    truth: Truth,
    spec: LakeSpec,
}

/// Generates and ingests the synthetic lake once for all tests in this file.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tmp("synthetic");
        let inputs = dir.join("inputs");
        let spec = LakeSpec::default();
        let truth = generate(&spec, &inputs).unwrap();
        let lake = dir.join("lake");
        let config = dir.join("noisefloor.toml");
        let mut toml = format!(
            "[lake]\npath = \"lake\"\n[enrich]\nmmdb = [{:?}]\nprefix_to_as = [\"inputs/ip2asn.tsv\"]\n",
            data("maxmind-db/GeoIP2-City-Test.mmdb").display().to_string()
        );
        for (name, group, p) in &spec.sensors {
            toml.push_str(&format!(
                "[[sensor]]\nname = \"{name}\"\ngroup = \"{group}\"\nown = [\"{}.{}.{}.0/24\"]\n",
                p[0], p[1], p[2]
            ));
        }
        std::fs::write(&config, toml).unwrap();
        for (name, _, _) in &spec.sensors {
            let files: Vec<PathBuf> = truth
                .files
                .iter()
                .filter(|f| {
                    f.file_name()
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with(&format!("{name}-"))
                })
                .cloned()
                .collect();
            let out = run(bin()
                .arg("ingest")
                .args(&files)
                .args(["--sensor", name, "--json", "--config"])
                .arg(&config));
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["inputs"].as_array().unwrap().len(), files.len());
        }
        Fixture {
            inputs,
            lake,
            config,
            truth,
            spec,
        }
    })
}

fn report(args: &[&str]) -> Value {
    let f = fixture();
    let out = run(bin()
        .arg("report")
        .arg("--config")
        .arg(&f.config)
        .args(["--format", "json"])
        .args(args));
    serde_json::from_str(&out).unwrap()
}

fn sql(query: &str) -> Value {
    let f = fixture();
    let out = run(bin()
        .args(["sql", "--format", "json", "--lake"])
        .arg(&f.lake)
        .arg(query));
    serde_json::from_str(&out).unwrap()
}

fn distinct_sources(t: &Truth, key: Option<&str>, sensor: Option<&str>) -> usize {
    let mut s: BTreeSet<[u8; 4]> = BTreeSet::new();
    for ((se, _, k), set) in &t.daily_sources {
        if key.is_none_or(|x| x == k) && sensor.is_none_or(|x| x == se) {
            s.extend(set);
        }
    }
    s.len()
}

#[test]
fn report_totals_and_top_keys_match_the_ground_truth() {
    let f = fixture();
    let r = report(&[]);
    assert_eq!(r["summary"]["packets"], f.truth.total);
    assert_eq!(r["summary"]["rows"], f.truth.total);
    assert_eq!(r["summary"]["sensors"], 3);
    assert_eq!(r["summary"]["sources"], f.truth.sources.len());
    assert_eq!(r["summary"]["first_date"], "2025-09-01");
    assert_eq!(r["summary"]["last_date"], "2026-10-31");
    // Table 1.
    let want = f.truth.top_keys(None);
    let got = r["top_keys"].as_array().unwrap();
    assert_eq!(got.len(), 10);
    for (g, (k, n)) in got.iter().zip(&want) {
        assert_eq!(g["key"], *k);
        assert_eq!(g["packets"], *n);
        assert_eq!(
            g["sources"],
            distinct_sources(&f.truth, Some(k), None),
            "{k}"
        );
    }
    assert_eq!(got[0]["key"], "GRE", "GRE leads, as at TSUBAME");
    // Table 1 for sources in Taiwan: only HiNet sends from there, and only GRE.
    let r = report(&["--src-country", "TW"]);
    assert_eq!(r["country"], "TW");
    let tw: Vec<(String, u64)> = f
        .truth
        .key_by_country
        .iter()
        .filter(|((c, _), _)| *c == "TW")
        .map(|((_, k), n)| (k.clone(), *n))
        .collect();
    let got = r["top_keys_country"].as_array().unwrap();
    assert_eq!(got.len(), tw.len());
    assert_eq!(got[0]["key"], "GRE");
    assert_eq!(
        got[0]["packets"],
        tw.iter().find(|k| k.0 == "GRE").unwrap().1
    );
    // Table 2: each sensor's top 10.
    let per = report(&[])["per_sensor"].clone();
    for s in per.as_array().unwrap() {
        let name = s["sensor"].as_str().unwrap();
        let want = f.truth.top_keys(Some(name));
        for (g, (k, n)) in s["keys"].as_array().unwrap().iter().zip(&want) {
            assert_eq!(
                (g["key"].as_str().unwrap(), g["packets"].as_u64().unwrap()),
                (k.as_str(), *n),
                "{name}"
            );
        }
        assert_eq!(s["keys"].as_array().unwrap().len(), 10.min(want.len()));
    }
}

#[test]
fn gre_per_day_senders_by_as_and_city_match_the_ground_truth() {
    let f = fixture();
    let r = report(&["--from", "2026-09-01", "--to", "2026-10-31"]);
    let want = f.truth.key_per_day("GRE");
    let got = r["key_daily"].as_array().unwrap();
    let in_range: Vec<_> = want
        .iter()
        .filter(|(d, _)| d.as_str() >= "2026-09-01")
        .collect();
    assert_eq!(got.len(), in_range.len());
    for (g, (d, (n, s))) in got.iter().zip(in_range) {
        assert_eq!(g["date"], **d);
        assert_eq!(g["packets"], *n, "{d}");
        assert_eq!(g["sources"], *s, "{d}");
    }
    // The HiNet table (whole lake: the only GRE before September is stray PPTP).
    let r = report(&[]);
    let by_as = r["by_as"].as_array().unwrap();
    let want: BTreeMap<u32, (u64, usize)> = f
        .truth
        .key_by_asn
        .iter()
        .filter(|((k, _), _)| k == "GRE")
        .map(|((_, a), (n, s))| (*a, (*n, s.len())))
        .collect();
    assert_eq!(by_as.len(), want.len());
    assert_eq!(by_as[0]["asn"], 3462);
    assert_eq!(
        by_as[0]["as_name"],
        "HINET Data Communication Business Group"
    );
    for row in by_as {
        let (n, s) = want[&(row["asn"].as_u64().unwrap() as u32)];
        assert_eq!(row["packets"], n);
        assert_eq!(row["sources"], s);
    }
    let by_city = r["by_city"].as_array().unwrap();
    let want: Vec<_> = f
        .truth
        .key_by_city
        .iter()
        .filter(|((k, _, _), _)| k == "GRE")
        .collect();
    assert_eq!(by_city.len(), want.len());
    for ((_, country, city), (n, s)) in want {
        let row = by_city
            .iter()
            .find(|r| r["country"] == *country && r["city"].as_str() == *city)
            .unwrap_or_else(|| panic!("{country} {city:?} missing"));
        assert_eq!(row["packets"], *n);
        assert_eq!(row["sources"], s.len());
    }
}

#[test]
fn monthly_averages_groups_year_before_and_classes() {
    let f = fixture();
    let r = report(&["--from", "2026-09-01", "--to", "2026-10-31"]);
    let monthly = r["monthly"].as_array().unwrap();
    let per_sensor_month = |s: &str, m: &str| -> u64 {
        f.truth
            .daily
            .iter()
            .filter(|((se, d, _), _)| se == s && d.starts_with(m))
            .map(|(_, n)| n)
            .sum()
    };
    for (month, days, yb, yb_days) in [
        ("2026-09", 30.0, "2025-09", 30.0),
        ("2026-10", 31.0, "2025-10", 31.0),
    ] {
        let mut domestic = (0.0, 0.0);
        for (name, group, _) in &f.spec.sensors {
            let row = monthly
                .iter()
                .find(|x| {
                    x["month"] == month && x["name"] == name.as_str() && x["is_group"] == false
                })
                .unwrap();
            let want = per_sensor_month(name, month) as f64 / days;
            let want_yb = per_sensor_month(name, yb) as f64 / yb_days;
            assert!(
                (row["daily_average"].as_f64().unwrap() - want).abs() < 1e-9,
                "{name} {month}"
            );
            assert!(
                (row["year_before"].as_f64().unwrap() - want_yb).abs() < 1e-9,
                "{name} {yb}"
            );
            if group == "domestic" {
                domestic.0 += want / 2.0;
                domestic.1 += want_yb / 2.0;
            }
        }
        let g = monthly
            .iter()
            .find(|x| x["month"] == month && x["name"] == "domestic" && x["is_group"] == true)
            .unwrap();
        assert!((g["daily_average"].as_f64().unwrap() - domestic.0).abs() < 1e-9);
        assert!((g["year_before"].as_f64().unwrap() - domestic.1).abs() < 1e-9);
    }
    // Classes per month.
    let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
    for ((_, d, c), n) in &f.truth.classes {
        if d.as_str() >= "2026-09-01" {
            *want.entry((d[..7].to_owned(), c.clone())).or_default() += n;
        }
    }
    let got = r["classes_monthly"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for g in got {
        let k = (
            g["month"].as_str().unwrap().to_owned(),
            g["class"].as_str().unwrap().to_owned(),
        );
        assert_eq!(g["packets"], want[&k], "{k:?}");
    }
}

#[test]
fn the_gre_surge_is_found_on_its_first_day_and_nothing_else_surges() {
    let f = fixture();
    let r = report(&[]);
    let surges = r["surges"].as_array().unwrap();
    assert!(!surges.is_empty());
    assert_eq!(surges[0]["key"], "GRE");
    let (y, m, d) = noisefloor_logs::time::civil_from_days(f.spec.surge_day);
    assert_eq!(surges[0]["start"], format!("{y:04}-{m:02}-{d:02}"));
    assert!(surges[0]["ratio"].as_f64().unwrap() > 50.0);
    assert_eq!(surges.len(), 1, "{surges:?}");
}

#[test]
fn reingest_adds_nothing_and_replace_keeps_one_copy() {
    let f = fixture();
    // The shared lake: ingesting an input again adds nothing.
    let count = |lake: &Path| {
        let out = run(bin()
            .args(["sql", "--format", "json", "--lake"])
            .arg(lake)
            .arg("SELECT COUNT(*) AS n FROM events"));
        serde_json::from_str::<Value>(&out).unwrap()[0]["n"]
            .as_u64()
            .unwrap()
    };
    let before = count(&f.lake);
    assert_eq!(before, f.truth.total);
    let ingest = |lake: &Path, extra: &[&str]| -> Value {
        let out = run(bin()
            .arg("ingest")
            .arg(&f.truth.files[0])
            .args(["--sensor", "tokyo", "--json", "--lake"])
            .arg(lake)
            .args(extra));
        serde_json::from_str(&out).unwrap()
    };
    let v = ingest(&f.lake, &[]);
    assert_eq!(v["inputs"][0]["status"], "already-ingested");
    assert_eq!(v["rows_added"], 0);
    assert_eq!(count(&f.lake), before);
    // The manifest lists every input once.
    let inputs = sql("SELECT COUNT(*) AS n, COUNT(DISTINCT content_hash) AS h FROM inputs");
    assert_eq!(inputs[0]["n"], f.truth.files.len());
    assert_eq!(inputs[0]["h"], f.truth.files.len());
    // --replace (in a lake of its own: it swaps files under concurrent readers) keeps one
    // copy, and the same bytes under another sensor are another input.
    let dir = tmp("replace");
    let lake = dir.join("lake");
    let first = ingest(&lake, &[]);
    let rows = first["rows_added"].as_u64().unwrap();
    assert!(rows > 0);
    let again = ingest(&lake, &["--replace"]);
    assert_eq!(again["inputs"][0]["status"], "added");
    assert_eq!(count(&lake), rows);
    // The replaced input's rollup files went with its events files.
    let files = |sub: &str| -> usize {
        let mut n = 0;
        let mut stack = vec![lake.join(sub)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    if !p.file_name().unwrap().to_str().unwrap().starts_with('_') {
                        stack.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "parquet") {
                    n += 1;
                }
            }
        }
        n
    };
    let rollup_rows = run(bin()
        .args(["sql", "--format", "csv", "--lake"])
        .arg(&lake)
        .arg("SELECT SUM(row_count) AS n FROM rollup"));
    assert_eq!(rollup_rows, format!("n\n{rows}\n"));
    assert_eq!(files("_rollup"), files(""));
    let out = run(bin()
        .arg("ingest")
        .arg(&f.truth.files[0])
        .args(["--sensor", "osaka", "--lake"])
        .arg(&lake));
    assert!(out.contains("added"), "{out}");
    assert_eq!(count(&lake), 2 * rows);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sql_views_and_output_formats() {
    let f = fixture();
    let v = sql(
        "SELECT port_key, SUM(packets) AS p FROM daily GROUP BY port_key ORDER BY p DESC LIMIT 1",
    );
    assert_eq!(v[0]["port_key"], "GRE");
    let gre = sql("SELECT COUNT(*) AS n FROM gre")[0]["n"]
        .as_u64()
        .unwrap();
    let want = f.truth.packets_of("GRE");
    assert_eq!(gre, want);
    // Partition pruning still gives right answers.
    let one_day = sql(
        "SELECT COUNT(*) AS n FROM events WHERE sensor = 'tokyo' AND date = '2026-09-20'",
    )[0]["n"]
        .as_u64()
        .unwrap();
    let want: u64 = f
        .truth
        .daily
        .iter()
        .filter(|((s, d, _), _)| s == "tokyo" && d == "2026-09-20")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(one_day, want);
    let csv = run(bin()
        .args(["sql", "--format", "csv", "--lake"])
        .arg(&f.lake)
        .arg("SELECT class, COUNT(*) AS n FROM events GROUP BY class ORDER BY class"));
    assert!(csv.starts_with("class,n\n"), "{csv}");
    assert!(csv.contains("mirai-gre-ip,"));
    // Mirai GRE rows carry their evidence columns.
    let m = sql(
        "SELECT variant, COUNT(*) AS n FROM events WHERE class = 'mirai-gre-ip' GROUP BY variant ORDER BY variant",
    );
    assert_eq!(m[0]["variant"], "BE");
    assert_eq!(m[1]["variant"], "LE");
    let bad = bin()
        .args(["sql", "--lake"])
        .arg(&f.lake)
        .arg("SELECT nope FROM events")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nope"));
}

#[test]
fn text_markdown_html_and_png() {
    let f = fixture();
    let dir = tmp("render");
    let text = run(bin().arg("report").arg("--config").arg(&f.config));
    assert!(text.contains("1. Protocols and ports"));
    assert!(text.contains("7. Surges"));
    let html_path = dir.join("report.html");
    run(bin()
        .arg("report")
        .arg("--config")
        .arg(&f.config)
        .args(["--format", "html", "-o"])
        .arg(&html_path)
        .arg("--png")
        .arg(dir.join("png"))
        .arg("--sources-csv")
        .arg(dir.join("gre-sources.csv")));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 4, "charts inline");
    // Nothing is fetched: the only URLs are SVG's namespace names.
    let urls = html.matches("http").count();
    let namespaces = html.matches("http://www.w3.org/").count();
    assert_eq!(
        urls, namespaces,
        "the HTML refers to something outside itself"
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );
    let pngs = std::fs::read_dir(dir.join("png")).unwrap().count();
    assert!(pngs >= 4);
    let csv = std::fs::read_to_string(dir.join("gre-sources.csv")).unwrap();
    let gre = f.truth.packets_of("GRE");
    assert_eq!(csv.lines().count() as u64, gre + 1);
    let md = run(bin().arg("report").arg("--config").arg(&f.config).args([
        "--format",
        "md",
        "--section",
        "7",
    ]));
    assert!(md.contains("## 7. Surges") && !md.contains("## 1."));
    let _ = f.inputs.exists();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn kill_9_during_ingest_then_rerun_gives_one_clean_copy() {
    let dir = tmp("kill");
    let capture = dir.join("big.pcap");
    // Enough packets that a debug build is still writing when it is killed.
    let mut rng = noisefloor_synth::Rng::new(9);
    let sensor = noisefloor_synth::Sensor::default();
    {
        let f = std::fs::File::create(&capture).unwrap();
        let mut w =
            noisefloor_capture::PcapWriter::new(std::io::BufWriter::new(f), 1, 65535, false)
                .unwrap();
        let mut ts = 1_790_000_000_000_000_000i64;
        for _ in 0..400_000 {
            let k = noisefloor_synth::bench_kind(&mut rng);
            let fr = noisefloor_synth::frame(&mut rng, &sensor, k);
            ts += rng.below(400_000_000) as i64;
            w.write(ts, &fr, fr.len() as u32).unwrap();
        }
        std::io::Write::flush(&mut w.into_inner()).unwrap();
    }
    let clean = dir.join("clean");
    run(bin()
        .arg("ingest")
        .arg(&capture)
        .args(["--sensor", "s1", "--lake"])
        .arg(&clean));
    // The rollup is committed with the events: the same rows and sources, always.
    let count = |lake: &Path| -> Value {
        let out = run(bin()
            .args(["sql", "--format", "json", "--lake"])
            .arg(lake)
            .arg("SELECT COUNT(*) AS n, SUM(CAST(ip_id AS BIGINT)) AS ids, COUNT(DISTINCT src) AS s, \
                  (SELECT SUM(row_count) FROM rollup) AS rollup_n, \
                  (SELECT count_sources(src_v4, src_v6) FROM rollup) AS rollup_s FROM events"));
        let v = serde_json::from_str::<Value>(&out).unwrap()[0].clone();
        if v["n"] != 0 {
            assert_eq!(v["rollup_n"], v["n"], "{v}");
            assert_eq!(v["rollup_s"], v["s"], "{v}");
        }
        v
    };
    let want = count(&clean);
    assert_eq!(want["n"], 400_000);
    let mut killed_mid_write = 0;
    for attempt in 0..3u64 {
        let lake = dir.join(format!("crashed-{attempt}"));
        let mut child = bin()
            .arg("ingest")
            .arg(&capture)
            .args(["--sensor", "s1", "--lake"])
            .arg(&lake)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it is writing Parquet, then a little longer each attempt.
        let staging = lake.join("_staging");
        let start = std::time::Instant::now();
        while !staging.exists() && start.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(50 + 150 * attempt));
        if child.try_wait().unwrap().is_none() {
            killed_mid_write += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The lake is readable right away, with either nothing or the whole input.
        let partial = count(&lake);
        let n = partial["n"].as_u64().unwrap();
        let committed = std::fs::read_dir(&staging)
            .map(|d| d.flatten().any(|e| e.path().join("COMMIT.json").exists()))
            .unwrap_or(false);
        // Part of an input is visible only if the kill fell between the commit point and
        // the end of its renames, which the next open finishes.
        assert!(n == 0 || n == 400_000 || committed, "a reader saw {n} rows");
        // The rerun completes it: exactly one clean copy.
        run(bin()
            .arg("ingest")
            .arg(&capture)
            .args(["--sensor", "s1", "--lake"])
            .arg(&lake));
        assert_eq!(count(&lake), want, "attempt {attempt}");
        assert!(
            !lake.join("_staging").exists()
                || std::fs::read_dir(lake.join("_staging")).unwrap().count() == 0
        );
    }
    assert!(
        killed_mid_write > 0,
        "the ingest always finished before the kill"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_crash_after_the_commit_point_is_finished_by_the_next_open() {
    use noisefloor_lake::{Lake, ManifestEntry};
    let dir = tmp("commit-point");
    let lake_dir = dir.join("lake");
    let hash = "ab".repeat(32);
    let part_rel;
    {
        let lake = Lake::open(&lake_dir).unwrap();
        let staging = lake.stage("s1", &hash).unwrap();
        let (rel, staged) = staging.part("2026-01-04", 0);
        std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
        std::fs::write(&staged, b"PAR1 not really").unwrap();
        part_rel = rel.clone();
        let entry = ManifestEntry {
            sensor: "s1".into(),
            input: "x.pcap".into(),
            content_hash: hash.clone(),
            files: vec![rel],
            ..Default::default()
        };
        lake.commit_point_only(staging, entry, None).unwrap();
        assert!(lake.entry("s1", &hash).is_none(), "not yet visible");
    }
    let lake = Lake::open(&lake_dir).unwrap();
    assert_eq!(lake.recovered.len(), 1, "{:?}", lake.recovered);
    assert!(lake.entry("s1", &hash).is_some());
    assert!(part_rel.starts_with(&format!("sensor=s1/date=2026-01-04/part-{}-", &hash[..16])));
    assert!(lake_dir.join(&part_rel).exists());
    // A staged input without a commit point is removed.
    let staging = lake.stage("s1", &"cd".repeat(32)).unwrap();
    let (_, staged) = staging.part("2026-01-05", 0);
    std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
    std::fs::write(&staged, b"half").unwrap();
    drop(lake);
    let lake = Lake::open(&lake_dir).unwrap();
    assert_eq!(lake.recovered.len(), 1);
    assert!(!lake_dir.join("sensor=s1/date=2026-01-05").exists());
    // Only one writer at a time.
    let err = Lake::open(&lake_dir).err().unwrap().to_string();
    assert!(err.contains("another noisefloor process"), "{err}");
    drop(lake);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_rollup_agrees_with_the_events_for_every_group() {
    // Packets, rows and distinct sources per sensor, day and key, and per class, AS,
    // country and city: the rollup's sums and set unions against a scan of the events.
    let by_day = |table: &str| {
        let (rows, sources) = if table == "rollup" {
            ("SUM(row_count)", "count_sources(src_v4, src_v6)")
        } else {
            ("COUNT(*)", "COUNT(DISTINCT src)")
        };
        (
            sql(&format!(
                "SELECT sensor, date, port_key, SUM(packets) AS p, {rows} AS r, {sources} AS s \
                 FROM {table} GROUP BY sensor, date, port_key ORDER BY sensor, date, port_key"
            )),
            sql(&format!(
                "SELECT class, src_asn, src_country, src_city, SUM(packets) AS p, {rows} AS r, \
                 {sources} AS s FROM {table} GROUP BY class, src_asn, src_country, src_city \
                 ORDER BY class, src_asn, src_country, src_city"
            )),
        )
    };
    let (events_days, events_groups) = by_day("events");
    let (rollup_days, rollup_groups) = by_day("rollup");
    assert!(events_days.as_array().unwrap().len() > 100);
    assert_eq!(rollup_days, events_days);
    assert!(events_groups.as_array().unwrap().len() > 5);
    assert_eq!(rollup_groups, events_groups);
    // The `daily` view reads the rollup here and gives the same numbers.
    let daily = sql(
        "SELECT sensor, date, port_key, packets AS p, row_count AS r, sources AS s FROM daily \
         ORDER BY sensor, date, port_key",
    );
    assert_eq!(daily, events_days);
}

#[test]
fn a_lake_from_before_rollups_gives_the_same_report() {
    // Inputs ingested before rollups existed have no rollup files: the report then reads
    // the events with the same queries, says so, and every number is the same.
    let f = fixture();
    let dir = tmp("legacy");
    let copy = dir.join("lake");
    run(Command::new("cp").arg("-r").arg(&f.lake).arg(&copy));
    std::fs::remove_dir_all(copy.join("_rollup")).unwrap();
    let mut stripped = 0;
    for sensor in std::fs::read_dir(copy.join("_manifest")).unwrap().flatten() {
        for e in std::fs::read_dir(sensor.path()).unwrap().flatten() {
            let mut v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            v.as_object_mut().unwrap().remove("rollups").unwrap();
            std::fs::write(e.path(), serde_json::to_vec(&v).unwrap()).unwrap();
            stripped += 1;
        }
    }
    assert_eq!(stripped, f.truth.files.len());
    // Such a lake is also from before the Delta log: migrate it as its user would.
    std::fs::remove_dir_all(copy.join("_delta_log")).unwrap();
    let err = bin()
        .arg("report")
        .arg("--lake")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("noisefloor migrate --lake"));
    let m = bin()
        .args(["migrate", "--json", "--lake"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let m: Value = serde_json::from_slice(&m.stdout).unwrap();
    assert_eq!(m["inputs"].as_u64(), Some(f.truth.files.len() as u64));
    assert_eq!(m["rollup_files"].as_u64(), Some(0));
    assert_eq!(m["strays"].as_array().map(Vec::len), Some(0), "{m}");
    let fast = report(&["--top", "15"]);
    let out = bin()
        .arg("report")
        .arg("--config")
        .arg(&f.config)
        .args(["--format", "json", "--top", "15", "--lake"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ingested before rollups existed"),
        "{stderr}"
    );
    let legacy: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(legacy, fast);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_damaged_file_is_named_checked_repaired_and_reingested() {
    // The Delta lake's answer to damage: `sql` names the file instead of a byte range,
    // `check` finds it, `--repair` takes its input out, and a re-ingest restores the rows.
    let dir = tmp("damage");
    let lake = dir.join("lake");
    let inputs = [
        "../../samples/darknet-day.pcap.gz",
        "../../samples/seed-000-mirai-gre.pcap",
    ]
    .map(|p| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p));
    for i in &inputs {
        run(bin()
            .arg("ingest")
            .arg(i)
            .args(["--sensor", "s1", "--lake"])
            .arg(&lake));
    }
    let count = || {
        let out = run(bin()
            .args(["sql", "--format", "json", "--lake"])
            .arg(&lake)
            .arg("SELECT COUNT(*) AS n, SUM(packets) AS p FROM events"));
        serde_json::from_str::<Value>(&out).unwrap()[0].clone()
    };
    let clean = count();
    let check = |repair: bool| {
        let mut c = bin();
        c.args(["check", "--json", "--lake"]).arg(&lake);
        if repair {
            c.arg("--repair");
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    assert_eq!(check(false).1["findings"], serde_json::json!([]));
    // Compaction merges the day's files; the numbers stay.
    run(bin().args(["compact", "--lake"]).arg(&lake));
    assert_eq!(count(), clean);
    // Damage one events file: cut it short.
    let file = std::fs::read_dir(&lake)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("sensor="))
        .flat_map(|s| std::fs::read_dir(s.path()).unwrap().flatten())
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| f.path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let out = bin()
        .args(["sql", "--lake"])
        .arg(&lake)
        .arg("SELECT SUM(packets) FROM events")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&*file.to_string_lossy()) && stderr.contains("check"),
        "{stderr}"
    );
    let (code, found) = check(false);
    assert_eq!(code, Some(2));
    assert_eq!(found["findings"][0]["kind"], "size", "{found}");
    let (code, repaired) = check(true);
    assert_eq!(code, Some(0), "{repaired}");
    let reingest: Vec<String> = repaired["reingest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!reingest.is_empty());
    for i in &reingest {
        run(bin()
            .arg("ingest")
            .arg(i)
            .args(["--sensor", "s1", "--lake"])
            .arg(&lake));
    }
    assert_eq!(check(false).1["findings"], serde_json::json!([]));
    assert_eq!(count(), clean);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_lake_written_before_the_delta_log_migrates_and_reads_the_same() {
    // tests/data/noisefloor-pre-delta: a lake written by the release before the Delta log
    // (commit 4254f08) from two sample inputs; every command refuses it until `migrate`.
    let dir = tmp("pre-delta");
    let lake = dir.join("lake");
    run(Command::new("cp")
        .arg("-r")
        .arg(data("noisefloor-pre-delta/lake"))
        .arg(&lake));
    for args in [&["sql", "SELECT 1"][..], &["report"][..]] {
        let out = bin().args(args).arg("--lake").arg(&lake).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("noisefloor migrate --lake"), "{stderr}");
    }
    let m: Value =
        serde_json::from_str(&run(bin().args(["migrate", "--json", "--lake"]).arg(&lake))).unwrap();
    assert_eq!(
        (
            &m["inputs"],
            &m["event_files"],
            &m["rollup_files"],
            &m["rows"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(2),
            &serde_json::json!(2),
            &serde_json::json!(6)
        ),
        "{m}"
    );
    assert_eq!(m["strays"], serde_json::json!([]));
    assert_eq!(m["missing"], serde_json::json!([]));
    let rows: Value = serde_json::from_str(&run(bin()
        .args(["sql", "--format", "json", "--lake"])
        .arg(&lake)
        .arg("SELECT (SELECT SUM(packets) FROM events) AS p, (SELECT COUNT(*) FROM inputs) AS i")))
    .unwrap();
    assert_eq!(rows[0], serde_json::json!({"p": 6, "i": 2}));
    let report: Value = serde_json::from_str(&run(bin()
        .args(["report", "--format", "json", "--lake"])
        .arg(&lake)))
    .unwrap();
    assert_eq!(
        report["summary"],
        serde_json::json!({"rows": 6, "packets": 6, "sources": 6, "first_date": "2016-12-27",
            "last_date": "2025-12-27", "sensors": 1})
    );
    // Its inputs are still recognised: ingesting one again adds nothing.
    let again: Value = serde_json::from_str(&run(bin()
        .arg("ingest")
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/seed-000-mirai-gre.pcap"),
        )
        .args(["--sensor", "tokyo", "--json", "--lake"])
        .arg(&lake)))
    .unwrap();
    assert_eq!(again["rows_added"], serde_json::json!(0), "{again}");
    let m: Value =
        serde_json::from_str(&run(bin().args(["migrate", "--json", "--lake"]).arg(&lake))).unwrap();
    assert_eq!(m["already"], serde_json::json!(true));
    std::fs::remove_dir_all(dir).unwrap();
}
