//! Field-by-field agreement with tcpdump's own expected outputs (tests/data/tcpdump).
//!
//! For every packet of every selected tcpdump test we parse the `.out` text and check each
//! address, port, IP header field, GRE flag/key/sequence/call/ack, ERSPAN, WCCP, NHRP and
//! NFLOG value it prints against what noisefloor decodes. A missing or different value is
//! a failure; the test prints every disagreement at once.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use noisefloor_capture::CaptureReader;
use noisefloor_wire::field::Value;
use noisefloor_wire::render::write_time;
use noisefloor_wire::{Dissection, IpRef, Layer, Proto, Stop, dissect};
use regex::Regex;
use std::sync::LazyLock;

/// Sub-patterns applied inside one header's text, compiled once.
static GRE_HEX: LazyLock<[(Regex, &str); 3]> = LazyLock::new(|| {
    [
        (r"key=0x([0-9a-f]+)", "key"),
        (r"sum 0x([0-9a-f]+)", "checksum"),
        (r"off 0x([0-9a-f]+)", "offset"),
    ]
    .map(|(r, k)| (Regex::new(r).unwrap(), k))
});
static GRE_DEC: LazyLock<[(Regex, &str); 3]> = LazyLock::new(|| {
    [
        (r", seq (\d+)", "seq"),
        (r"call (\d+)", "call_id"),
        (r", ack (\d+)", "ack"),
    ]
    .map(|(r, k)| (Regex::new(r).unwrap(), k))
});
static ERSPAN_DEC: LazyLock<[(Regex, &str); 3]> = LazyLock::new(|| {
    [
        (r"session (\d+)", "session"),
        (r"cos (\d+)", "cos"),
        (r"index (\d+)", "index"),
    ]
    .map(|(r, k)| (Regex::new(r).unwrap(), k))
});
static BSO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"bso (\w+)").unwrap());
static FT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ft (Ethernet|IP|unknown (\d+))").unwrap());

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/tcpdump")
}

fn endpoint(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if s.contains(':') {
        if let Ok(a) = s.parse::<IpAddr>() {
            return Some((a, None));
        }
        let (a, p) = s.rsplit_once('.')?;
        return Some((a.parse().ok()?, Some(p.parse().ok()?)));
    }
    let parts: Vec<&str> = s.split('.').collect();
    match parts.len() {
        4 => Some((s.parse().ok()?, None)),
        5 => Some((
            parts[..4].join(".").parse().ok()?,
            Some(parts[4].parse().ok()?),
        )),
        _ => None,
    }
}

struct Checker<'a> {
    case: &'a str,
    frame: u64,
    failures: &'a mut Vec<String>,
    checked: &'a mut u64,
}
impl Checker<'_> {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, tcpdump: T, ours: T) {
        *self.checked += 1;
        if tcpdump != ours {
            self.failures.push(format!(
                "{} frame {}: {what}: tcpdump {tcpdump:?}, noisefloor {ours:?}",
                self.case, self.frame
            ));
        }
    }
    fn fail(&mut self, msg: String) {
        *self.checked += 1;
        self.failures
            .push(format!("{} frame {}: {msg}", self.case, self.frame));
    }
}

fn field_u(l: &Layer, key: &str) -> Option<u64> {
    l.field(key).and_then(|v| v.as_u64())
}

struct Patterns {
    pkt: Regex,
    pair: Regex,
    ip4: Regex,
    ip6: Regex,
    gre: Regex,
    gre_flags: Regex,
    erspan: Regex,
    wccp: Regex,
    nhrp: Regex,
    nflog: Regex,
    invalid: Regex,
    tcpflags: Regex,
}

fn patterns() -> Patterns {
    Patterns {
        pkt: Regex::new(r"^\s*(\d+)  (\S.*)$").unwrap(),
        pair: Regex::new(r"(?:^|[\s(])([0-9a-fA-F:.]+) > ([0-9a-fA-F:.]+):").unwrap(),
        ip4: Regex::new(r"IP \(tos 0x([0-9a-f]+),(?: ttl (\d+),)? id (\d+), offset (\d+), flags \[([^\]]*)\], proto (.+?) \((\d+)\), length (\d+)(, bad cksum)?").unwrap(),
        ip6: Regex::new(r"IP6 \((?:class 0x[0-9a-f]+, )?(?:flowlabel 0x[0-9a-f]+, )?hlim (\d+), next-header .+? \((\d+)\), payload length (\d+)\)").unwrap(),
        gre: Regex::new(r"GREv(\d)([^:\n]*)").unwrap(),
        gre_flags: Regex::new(r"Flags \[([^\]]*)\]").unwrap(),
        erspan: Regex::new(r"erspan type(\d)((?: [a-z]+ [A-Za-z0-9]+(?: \d+)?)*)").unwrap(),
        wccp: Regex::new(r"wccp T:\d A:(\d) U:\d SId:(\d+) Alt:(\d+) Pri:(\d+)").unwrap(),
        nhrp: Regex::new(r"NHRP: ([a-z ]+?), (?:id (\d+), )?(?:code <[^>]*>, )?hopcnt (\d+), src nbma (\S+), (\S+) -> (\S+)").unwrap(),
        nflog: Regex::new(r"version (\d+), resource ID (\d+), family \S+ \((\d+)\)").unwrap(),
        invalid: Regex::new(r"\[version (\d) != (\d)\] \(invalid\)").unwrap(),
        tcpflags: Regex::new(r": Flags \[([SFPRUEWe.]+|none)\]").unwrap(),
    }
}

fn check_frame(c: &mut Checker, p: &Patterns, text: &str, d: &Dissection) {
    let layers: Vec<Layer> = d.layers().iter().collect();
    let ips: Vec<usize> = (0..layers.len())
        .filter(|&i| matches!(layers[i], Layer::Ipv4(_) | Layer::Ipv6(_)))
        .collect();
    let v4: Vec<&Layer> = layers
        .iter()
        .filter(|l| matches!(l, Layer::Ipv4(_)))
        .collect();
    let v6: Vec<&Layer> = layers
        .iter()
        .filter(|l| matches!(l, Layer::Ipv6(_)))
        .collect();
    for (i, cap) in p
        .pair
        .captures_iter(text)
        .filter(|c| endpoint(&c[1]).is_some() && endpoint(&c[2]).is_some())
        .enumerate()
    {
        let ((sa, sp), (da, dp)) = (endpoint(&cap[1]).unwrap(), endpoint(&cap[2]).unwrap());
        let Some(&idx) = ips.get(i) else {
            c.fail(format!(
                "tcpdump shows {} > {} but noisefloor has only {} IP layers",
                &cap[1],
                &cap[2],
                ips.len()
            ));
            continue;
        };
        let ip = IpRef::from_layer(&layers[idx]).expect("ip layer");
        c.eq("source address", sa, ip.src());
        c.eq("destination address", da, ip.dst());
        if sp.is_some() || dp.is_some() {
            let ours = layers
                .get(idx + 1)
                .and_then(|x| Some((field_u(x, "sport")? as u16, field_u(x, "dport")? as u16)));
            c.eq("ports", (sp, dp), (ours.map(|o| o.0), ours.map(|o| o.1)));
        }
    }
    for (i, cap) in p.ip4.captures_iter(text).enumerate() {
        let Some(l) = v4.get(i) else {
            c.fail(format!(
                "tcpdump shows IPv4 header #{} but noisefloor has {}",
                i + 1,
                v4.len()
            ));
            continue;
        };
        c.eq(
            "ip.tos",
            u64::from_str_radix(&cap[1], 16).ok(),
            field_u(l, "dscp")
                .zip(field_u(l, "ecn"))
                .map(|(d, e)| d << 2 | e),
        );
        if let Some(ttl) = cap.get(2) {
            c.eq(
                "ip.ttl",
                ttl.as_str().parse::<u64>().ok(),
                field_u(l, "ttl"),
            );
        }
        c.eq("ip.id", cap[3].parse::<u64>().ok(), field_u(l, "id"));
        c.eq(
            "ip.frag_offset",
            cap[4].parse::<u64>().ok(),
            field_u(l, "frag_offset"),
        );
        let flags = &cap[5];
        c.eq("ip.df", flags.contains("DF"), field_u(l, "df") == Some(1));
        c.eq("ip.mf", flags.contains('+'), field_u(l, "mf") == Some(1));
        c.eq("ip.proto", cap[7].parse::<u64>().ok(), field_u(l, "proto"));
        c.eq("ip.len", cap[8].parse::<u64>().ok(), field_u(l, "len"));
        if cap.get(9).is_some() {
            c.eq(
                "ip.checksum_ok",
                Some(Value::Bool(false)),
                l.field("checksum_ok"),
            );
        }
    }
    for (i, cap) in p.ip6.captures_iter(text).enumerate() {
        let Some(l) = v6.get(i) else {
            c.fail(format!(
                "tcpdump shows IPv6 header #{} but noisefloor has {}",
                i + 1,
                v6.len()
            ));
            continue;
        };
        c.eq("ipv6.hlim", cap[1].parse::<u64>().ok(), field_u(l, "hlim"));
        c.eq("ipv6.nxt", cap[2].parse::<u64>().ok(), field_u(l, "nxt"));
        c.eq("ipv6.plen", cap[3].parse::<u64>().ok(), field_u(l, "plen"));
    }
    let gres: Vec<&Layer> = layers.iter().filter(|l| l.proto() == Proto::Gre).collect();
    for (i, cap) in p.gre.captures_iter(text).enumerate() {
        let Some(l) = gres.get(i) else {
            c.fail(format!(
                "tcpdump shows GRE header #{} but noisefloor has {}",
                i + 1,
                gres.len()
            ));
            continue;
        };
        let seg = &cap[2];
        c.eq(
            "gre.version",
            cap[1].parse::<u64>().ok(),
            field_u(l, "version"),
        );
        if let Some(f) = p.gre_flags.captures(seg) {
            let names: Vec<&str> = f[1].split(", ").collect();
            let has = |k: &str| field_u(l, k) == Some(1);
            c.eq("gre.flag C", names.contains(&"checksum present"), has("c"));
            c.eq("gre.flag R", names.contains(&"routing present"), has("r"));
            c.eq("gre.flag K", names.contains(&"key present"), has("k"));
            c.eq("gre.flag S", names.contains(&"sequence# present"), has("s"));
            c.eq(
                "gre.flag strict",
                names.contains(&"source routing present"),
                has("ssr"),
            );
            if field_u(l, "version") == Some(1) {
                c.eq(
                    "gre.flag A",
                    names.iter().any(|n| n.starts_with("ack")),
                    has("a"),
                );
            }
        }
        for (re, key) in GRE_HEX.iter() {
            if let Some(m) = re.captures(seg) {
                c.eq(
                    &format!("gre.{key}"),
                    u64::from_str_radix(&m[1], 16).ok(),
                    field_u(l, key),
                );
            }
        }
        for (re, key) in GRE_DEC.iter() {
            if let Some(m) = re.captures(seg) {
                c.eq(
                    &format!("gre.{key}"),
                    m[1].parse::<u64>().ok(),
                    field_u(l, key),
                );
            }
        }
        if seg.contains("[|gre]") {
            c.eq(
                "gre truncated",
                true,
                l.is_partial() || d.stop == Stop::Truncated,
            );
        }
    }
    let erspans: Vec<&Layer> = layers
        .iter()
        .filter(|l| l.proto() == Proto::Erspan)
        .collect();
    for (i, cap) in p.erspan.captures_iter(text).enumerate() {
        let Some(l) = erspans.get(i) else {
            c.fail(format!(
                "tcpdump shows ERSPAN header #{} but noisefloor has {}",
                i + 1,
                erspans.len()
            ));
            continue;
        };
        c.eq(
            "erspan.type",
            cap[1].parse::<u64>().ok(),
            field_u(l, "type"),
        );
        let attrs = &cap[2];
        for (re, key) in ERSPAN_DEC.iter() {
            if let Some(m) = re.captures(attrs) {
                c.eq(
                    &format!("erspan.{key}"),
                    m[1].parse::<u64>().ok(),
                    field_u(l, key),
                );
            }
        }
        if let Some(m) = BSO.captures(attrs) {
            let v = match &m[1] {
                "Good" => 0,
                "Short" => 1,
                "Oversized" => 2,
                _ => 3,
            };
            c.eq("erspan.bso", Some(v), field_u(l, "bso"));
        }
        if let Some(m) = FT.captures(attrs) {
            let v = match &m[1] {
                "Ethernet" => 0,
                "IP" => 2,
                _ => m[2].parse().unwrap_or(99),
            };
            c.eq("erspan.ft", Some(v), field_u(l, "ft"));
        }
    }
    for cap in p.wccp.captures_iter(text) {
        let Some(l) = layers.iter().find(|l| l.proto() == Proto::Wccp) else {
            c.fail("tcpdump shows a WCCP redirect header, noisefloor none".into());
            continue;
        };
        c.eq("wccp.a", cap[1].parse::<u64>().ok(), field_u(l, "a"));
        c.eq(
            "wccp.service_id",
            cap[2].parse::<u64>().ok(),
            field_u(l, "service_id"),
        );
        c.eq(
            "wccp.alt_bucket",
            cap[3].parse::<u64>().ok(),
            field_u(l, "alt_bucket"),
        );
        c.eq(
            "wccp.pri_bucket",
            cap[4].parse::<u64>().ok(),
            field_u(l, "pri_bucket"),
        );
    }
    for cap in p.nhrp.captures_iter(text) {
        let Some(l) = layers.iter().find(|l| l.proto() == Proto::Nhrp) else {
            c.fail("tcpdump shows NHRP, noisefloor none".into());
            continue;
        };
        let op = match &cap[1] {
            "res request" => 1,
            "res reply" => 2,
            "reg request" => 3,
            "reg reply" => 4,
            "purge request" => 5,
            "purge reply" => 6,
            "error indication" => 7,
            "traffic indication" => 8,
            _ => 0,
        };
        c.eq("nhrp.op_type", Some(op), field_u(l, "op_type"));
        if let Some(id) = cap.get(2) {
            c.eq(
                "nhrp.request_id",
                id.as_str().parse::<u64>().ok(),
                field_u(l, "request_id"),
            );
        }
        c.eq(
            "nhrp.hopcnt",
            cap[3].parse::<u64>().ok(),
            field_u(l, "hopcnt"),
        );
        let addr = |k: &str| match l.field(k) {
            Some(Value::V4(a)) => Some(IpAddr::from(a)),
            Some(Value::V6(a)) => Some(IpAddr::from(a)),
            _ => None,
        };
        c.eq(
            "nhrp.src_nbma",
            cap[4].parse::<IpAddr>().ok(),
            addr("src_nbma"),
        );
        c.eq(
            "nhrp.src_proto",
            cap[5].parse::<IpAddr>().ok(),
            addr("src_proto"),
        );
        c.eq(
            "nhrp.dst_proto",
            cap[6].parse::<IpAddr>().ok(),
            addr("dst_proto"),
        );
    }
    for cap in p.nflog.captures_iter(text) {
        let Some(l) = layers.iter().find(|l| l.proto() == Proto::Nflog) else {
            c.fail("tcpdump shows an NFLOG header, noisefloor none".into());
            continue;
        };
        c.eq(
            "nflog.version",
            cap[1].parse::<u64>().ok(),
            field_u(l, "version"),
        );
        c.eq(
            "nflog.resource_id",
            cap[2].parse::<u64>().ok(),
            field_u(l, "resource_id"),
        );
        c.eq(
            "nflog.family",
            cap[3].parse::<u64>().ok(),
            field_u(l, "family"),
        );
    }
    if p.invalid.is_match(text) {
        c.eq(
            "invalid IP version is reported",
            true,
            matches!(d.stop, Stop::Malformed(_)),
        );
    }
    let tcps: Vec<noisefloor_wire::Tcp> = layers.iter().filter_map(|l| l.tcp()).collect();
    for (i, cap) in p.tcpflags.captures_iter(text).enumerate() {
        let Some(t) = tcps.get(i) else {
            c.fail(format!(
                "tcpdump shows TCP flags #{} but noisefloor has {} TCP headers",
                i + 1,
                tcps.len()
            ));
            continue;
        };
        let mut ours = String::new();
        t.flag_string(&mut ours);
        let mut a: Vec<char> = cap[1].chars().collect();
        let mut b: Vec<char> = ours.chars().collect();
        a.sort_unstable();
        b.sort_unstable();
        c.eq("tcp.flags", a, b);
    }
}

#[test]
fn tcpdump_expected_outputs_agree_field_by_field() {
    let dir = data_dir();
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    let p = patterns();
    let mut failures = Vec::new();
    let mut per_case: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut total_checked = 0u64;
    for line in cases.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (case, pcap, out, flags) = (
            cols[0],
            cols[1],
            cols[2],
            cols.get(3).copied().unwrap_or(""),
        );
        let expected = std::fs::read_to_string(dir.join(out)).expect("expected output");
        // Group the expected output by packet number.
        let mut frames: BTreeMap<u64, String> = BTreeMap::new();
        let mut cur = None;
        for l in expected.lines() {
            let (n, text) = match p.pkt.captures(l) {
                Some(m) => (m[1].parse::<u64>().ok(), m[2].to_string()),
                None => (cur, l.to_string()),
            };
            if let Some(n) = n {
                cur = Some(n);
                let e = frames.entry(n).or_default();
                e.push_str(&text);
                e.push('\n');
            }
        }
        let mut reader = CaptureReader::open(dir.join(pcap).to_str().unwrap()).expect("open");
        let mut frame = 0u64;
        let mut checked = 0u64;
        while let Ok(Some(rec)) = reader.next_record() {
            frame += 1;
            let Some(text) = frames.get(&frame) else {
                continue;
            };
            let d = dissect(rec.linktype, rec.data);
            let mut c = Checker {
                case,
                frame,
                failures: &mut failures,
                checked: &mut checked,
            };
            if !flags.contains("SPECIAL_t") {
                let mut t = String::new();
                write_time(
                    &mut t,
                    rec.ts_ns,
                    ' ',
                    if flags.contains("--nano") { 9 } else { 6 },
                );
                c.eq(
                    "timestamp",
                    text.split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" "),
                    t,
                );
            }
            check_frame(&mut c, &p, text, &d);
        }
        if frame < frames.len() as u64 {
            failures.push(format!(
                "{case}: tcpdump printed {} packets, noisefloor read {frame}",
                frames.len()
            ));
        }
        total_checked += checked;
        per_case.insert(case.to_string(), (frames.len() as u64, checked));
    }
    for (case, (frames, checked)) in &per_case {
        println!("{case:45} {frames:5} frames {checked:6} fields compared");
    }
    println!(
        "total: {total_checked} fields compared over {} tests",
        per_case.len()
    );
    for (case, (_, checked)) in &per_case {
        let gre_family = [
            "gre", "erspan", "pptp", "nhrp", "NHRP", "wccp", "nflog", "LINKTYPE",
        ]
        .iter()
        .any(|k| case.contains(k));
        if gre_family && *checked == 0 {
            failures.push(format!(
                "{case}: no field was compared; the expected-output parser missed it"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total_checked > 3000, "only {total_checked} fields compared");
}
