//! Lookups against MaxMind's own test databases and their JSON sources, and real RouteViews
//! pfx2as lines (fixtures in tests/data, see the READMEs there).

use std::net::IpAddr;
use std::path::PathBuf;

use noisefloor_enrich::{Attribution, Cache, EnrichError, Enricher};

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(p)
}

/// The first address of each IPv4 network in a MaxMind JSON source (`::a.b.c.d/n` entries are
/// IPv4 networks in the IPv6 tree), with its record.
fn ipv4_entries(json: &str) -> Vec<(IpAddr, serde_json::Value)> {
    let text = std::fs::read_to_string(data(json)).unwrap();
    let v: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for m in v {
        for (net, rec) in m {
            let addr = net.split('/').next().unwrap().trim_start_matches("::");
            if let Ok(a @ IpAddr::V4(_)) = addr.parse::<IpAddr>() {
                out.push((a, rec));
            }
        }
    }
    out
}

#[test]
fn city_database_matches_its_json_source() {
    let mut e = Enricher::new();
    e.add_mmdb(&data("maxmind-db/GeoIP2-City-Test.mmdb"))
        .unwrap();
    let entries = ipv4_entries("maxmind-db/GeoIP2-City-Test.json");
    assert!(entries.len() >= 15, "{}", entries.len());
    let mut checked = 0;
    for (addr, rec) in entries {
        let a = e.lookup(addr);
        let country = rec["country"]["iso_code"]
            .as_str()
            .or(rec["registered_country"]["iso_code"].as_str());
        let city = rec["city"]["names"]["en"].as_str();
        assert_eq!(a.country.as_deref(), country, "{addr}");
        assert_eq!(a.city.as_deref(), city, "{addr}");
        checked += 1;
    }
    assert!(checked >= 15);
    // Known values, spelled out.
    let a = e.lookup("89.160.20.112".parse().unwrap());
    assert_eq!(
        (a.country.as_deref(), a.city.as_deref()),
        (Some("SE"), Some("Linköping"))
    );
    let a = e.lookup("175.16.199.1".parse().unwrap());
    assert_eq!(
        (a.country.as_deref(), a.city.as_deref()),
        (Some("CN"), Some("Changchun"))
    );
    // Unknown stays unknown.
    assert_eq!(e.lookup("10.0.0.1".parse().unwrap()), Default::default());
}

#[test]
fn asn_database_matches_its_json_source() {
    let mut e = Enricher::new();
    e.add_mmdb(&data("maxmind-db/GeoLite2-ASN-Test.mmdb"))
        .unwrap();
    let entries = ipv4_entries("maxmind-db/GeoLite2-ASN-Test.json");
    assert!(entries.len() > 20);
    for (addr, rec) in entries {
        let a = e.lookup(addr);
        assert_eq!(
            a.asn.map(u64::from),
            rec["autonomous_system_number"].as_u64(),
            "{addr}"
        );
        assert_eq!(
            a.as_name.as_deref(),
            rec["autonomous_system_organization"].as_str(),
            "{addr}"
        );
    }
}

#[test]
fn corrupt_databases_fail_with_the_file_name_or_answer_unknown() {
    let dir = data("maxmind-db/bad-data");
    let mut n = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let path = f.unwrap().path();
        let mut e = Enricher::new();
        match e.add_mmdb(&path) {
            Err(err) => {
                let msg = err.to_string();
                assert!(
                    msg.contains(path.file_name().unwrap().to_str().unwrap()),
                    "{msg}"
                );
                assert!(matches!(err, EnrichError::Mmdb { .. }));
            }
            Ok(()) => {
                // Opened: lookups must not panic, whatever they return.
                for a in ["1.1.1.1", "::1", "255.255.255.255", "0.0.0.0"] {
                    let _ = e.lookup(a.parse().unwrap());
                }
            }
        }
        n += 1;
    }
    assert!(n >= 20);
}

#[test]
fn routeviews_pfx2as_longest_match() {
    let mut e = Enricher::new();
    let s = e
        .add_prefix_table(&data("m-lab-uuid-annotator/RouteViewIPv4.tiny.gz"))
        .unwrap();
    assert!(s.prefixes > 20_000, "{s:?}");
    assert_eq!(s.rejected, 0);
    e.add_prefix_table(&data("m-lab-uuid-annotator/RouteViewIPv6.tiny.gz"))
        .unwrap();
    // HiNet (Chunghwa Telecom), the network behind the GRE senders in the seeds.
    assert_eq!(e.lookup("1.160.1.2".parse().unwrap()).asn, Some(3462));
    assert_eq!(e.lookup("1.0.0.1".parse().unwrap()).asn, Some(13335));
    // A multi-origin prefix keeps its first AS.
    assert_eq!(e.lookup("1.2.4.9".parse().unwrap()).asn, Some(24409));
    assert_eq!(e.lookup("2001:4:112::1".parse().unwrap()).asn, Some(112));
    assert_eq!(e.lookup("10.1.1.1".parse().unwrap()).asn, None);
}

#[test]
fn corrupt_pfx2as_lines_are_counted_and_the_rest_kept() {
    let mut e = Enricher::new();
    let s = e
        .add_prefix_table(&data("m-lab-uuid-annotator/RouteViewIPv4.corrupt"))
        .unwrap();
    assert_eq!(s.rejected, 3, "{s:?}");
    assert!(s.prefixes > 10);
    let (line, _) = s.first_reject.unwrap();
    let text = std::fs::read_to_string(data("m-lab-uuid-annotator/RouteViewIPv4.corrupt")).unwrap();
    assert!(
        text.lines()
            .nth(line as usize - 1)
            .unwrap()
            .contains("MISSING_ONE_FIELD")
    );
    assert_eq!(e.lookup("1.1.8.1".parse().unwrap()).asn, Some(4134));
    // A file with nothing usable is an error that says what was expected.
    let dir = std::env::temp_dir().join(format!("nf-enrich-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("garbage.tsv");
    std::fs::write(&bad, "hello world\nmore garbage\n").unwrap();
    let err = Enricher::new()
        .add_prefix_table(&bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("garbage.tsv") && err.contains("line 1") && err.contains("pfx2as"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn databases_combine_and_the_cache_looks_each_source_up_once() {
    let mut e = Enricher::new();
    e.add_mmdb(&data("maxmind-db/GeoIP2-City-Test.mmdb"))
        .unwrap();
    e.add_mmdb(&data("maxmind-db/GeoLite2-ASN-Test.mmdb"))
        .unwrap();
    e.add_prefix_table(&data("m-lab-uuid-annotator/RouteViewIPv4.tiny.gz"))
        .unwrap();
    let mut c = Cache::new(&e);
    for _ in 0..1000 {
        let a = c.get("1.160.7.7".parse().unwrap());
        assert_eq!(a.asn, Some(3462));
        assert_eq!(a.country, None);
    }
    let a = c.get("1.128.0.1".parse().unwrap()).clone();
    assert_eq!(
        (a.asn, a.as_name.as_deref()),
        (Some(1221), Some("Telstra Pty Ltd"))
    );
    assert_eq!((c.misses, c.hits), (2, 999));
    // Ids name attributions: the same one, the same id; another one, another id.
    let (hinet, _) = c.get_with_id("1.160.7.7".parse().unwrap());
    let (hinet2, a2) = c.get_with_id("1.160.7.8".parse().unwrap());
    assert_eq!((hinet, a2.asn), (hinet2, Some(3462)));
    let (telstra, _) = c.get_with_id("1.128.0.1".parse().unwrap());
    assert_ne!(hinet, telstra);
    let (unknown, a) = c.get_with_id("0.0.0.1".parse().unwrap());
    assert_eq!((unknown, a), (0, &Attribution::default()));
}
