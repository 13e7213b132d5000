//! A deterministic multi-sensor, multi-month darknet: one pcap per sensor and month, a
//! prefix-to-AS table (iptoasn format) naming the networks the sources come from, and the
//! ground truth every report number must equal.
//!
//! The story it tells is the seeds': steady scanning and backscatter at domestic and
//! overseas sensors for a year, then from [`LakeSpec::surge_day`] Mirai GRE floods from
//! devices on HiNet (AS3462, Taiwan), with some from China and Sweden, at every sensor. The
//! month a year before the last is generated too, so year-on-year comparisons have data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use noisefloor_capture::PcapWriter;
use noisefloor_logs::time::{civil_from_days, days_from_civil};

use crate::{Kind, Rng, Sensor, frame};

/// A network sources are drawn from: its addresses, and what the databases say about it.
#[derive(Clone, Debug)]
pub struct Network {
    pub first: [u8; 4],
    /// Number of addresses drawn from (consecutive from `first`).
    pub size: u32,
    pub asn: u32,
    pub as_name: &'static str,
    pub country: &'static str,
    /// The city MaxMind's GeoIP2-City-Test database gives these addresses, if any.
    pub city: Option<&'static str>,
}

/// HiNet, China Telecom (Changchun), Telenor Sweden (Linköping), a London ISP, a US ISP
/// (Milton): cities as in MaxMind's test database; AS numbers and names as the generated
/// table states them.
pub fn networks() -> Vec<Network> {
    vec![
        Network {
            first: [1, 160, 0, 10],
            size: 180,
            asn: 3462,
            as_name: "HINET Data Communication Business Group",
            country: "TW",
            city: None,
        },
        Network {
            first: [175, 16, 199, 0],
            size: 200,
            asn: 4837,
            as_name: "CHINA UNICOM China169 Backbone",
            country: "CN",
            city: Some("Changchun"),
        },
        Network {
            first: [89, 160, 20, 128],
            size: 100,
            asn: 29518,
            as_name: "Bredband2 AB",
            country: "SE",
            city: Some("Linköping"),
        },
        Network {
            first: [81, 2, 69, 160],
            size: 30,
            asn: 20712,
            as_name: "Andrews & Arnold Ltd",
            country: "GB",
            city: Some("London"),
        },
        Network {
            first: [216, 160, 83, 56],
            size: 8,
            asn: 209,
            as_name: "CenturyLink Communications, LLC",
            country: "US",
            city: Some("Milton"),
        },
    ]
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct LakeSpec {
    pub seed: u64,
    /// (name, group, the sensor's /24)
    pub sensors: Vec<(String, String, [u8; 4])>,
    /// First and last day (inclusive), days since 1970-01-01.
    pub first_day: i64,
    pub last_day: i64,
    /// The day GRE floods begin.
    pub surge_day: i64,
}

impl Default for LakeSpec {
    fn default() -> Self {
        LakeSpec {
            seed: 2016,
            sensors: vec![
                ("tokyo".into(), "domestic".into(), [198, 51, 100, 0]),
                ("osaka".into(), "domestic".into(), [198, 51, 101, 0]),
                ("frankfurt".into(), "overseas".into(), [203, 0, 113, 0]),
            ],
            // 2025-09-01 .. 2026-10-31: 14 months, so Sep/Oct 2026 have a year-earlier month.
            first_day: days_from_civil(2025, 9, 1),
            last_day: days_from_civil(2026, 10, 31),
            surge_day: days_from_civil(2026, 9, 14),
        }
    }
}

/// Packets and the distinct sources that sent them.
pub type Senders = (u64, BTreeSet<[u8; 4]>);

/// Ground truth, keyed the way reports are.
#[derive(Clone, Debug, Default)]
pub struct Truth {
    /// (sensor, date, key) → packets.
    pub daily: BTreeMap<(String, String, String), u64>,
    /// (sensor, date, key) → distinct sources.
    pub daily_sources: BTreeMap<(String, String, String), BTreeSet<[u8; 4]>>,
    /// (sensor, date, class) → packets.
    pub classes: BTreeMap<(String, String, String), u64>,
    /// Source address → (packets, keys it was seen on).
    pub sources: BTreeMap<[u8; 4], u64>,
    /// Packets per key from sources in each country.
    pub key_by_country: BTreeMap<(&'static str, String), u64>,
    /// Per key: packets and distinct sources per ASN and per (country, city).
    pub key_by_asn: BTreeMap<(String, u32), Senders>,
    pub key_by_city: BTreeMap<(String, &'static str, Option<&'static str>), Senders>,
    pub total: u64,
    pub files: Vec<PathBuf>,
}

fn date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The address `i` of a network.
fn nth(n: &Network, i: u32) -> [u8; 4] {
    (u32::from_be_bytes(n.first) + i).to_be_bytes()
}

/// Rewrites the outer IPv4 source of an Ethernet frame and recomputes the checksums that
/// cover it (IP header; TCP/UDP pseudo-header).
fn set_source(f: &mut [u8], src: [u8; 4]) {
    use noisefloor_wire::checksum::{checksum, pseudo_v4, sum};
    let ip = 14;
    let ihl = usize::from(f[ip] & 0x0f) * 4;
    f[ip + 12..ip + 16].copy_from_slice(&src);
    f[ip + 10..ip + 12].copy_from_slice(&[0, 0]);
    let c = checksum(&f[ip..ip + ihl]);
    f[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
    let proto = f[ip + 9];
    let total = usize::from(u16::from_be_bytes([f[ip + 2], f[ip + 3]]));
    let l4 = ip + ihl;
    let end = (ip + total).min(f.len());
    let off = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let dst = [f[ip + 16], f[ip + 17], f[ip + 18], f[ip + 19]];
    f[l4 + off..l4 + off + 2].copy_from_slice(&[0, 0]);
    let seg = &f[l4..end];
    let s = sum(seg, pseudo_v4(src, dst, proto, seg.len() as u32));
    let mut c = !(((s & 0xffff) + (s >> 16)) as u16);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    f[l4 + off..l4 + off + 2].copy_from_slice(&c.to_be_bytes());
}

/// TSUBAME's key of a generated frame, read from the bytes the generator wrote.
fn key_of(f: &[u8]) -> String {
    let ip = 14;
    let ihl = usize::from(f[ip] & 0x0f) * 4;
    let dport = || u16::from_be_bytes([f[ip + ihl + 2], f[ip + ihl + 3]]);
    match f[ip + 9] {
        6 => format!("{}/TCP", dport()),
        17 => format!("{}/UDP", dport()),
        1 => "ICMP".into(),
        47 => "GRE".into(),
        p => format!("proto {p}"),
    }
}

/// Writes the pcaps and `ip2asn.tsv` into `dir` and returns the ground truth.
pub fn generate(spec: &LakeSpec, dir: &Path) -> std::io::Result<Truth> {
    std::fs::create_dir_all(dir)?;
    let nets = networks();
    let mut table = String::new();
    for n in &nets {
        let last = nth(n, n.size - 1);
        let f = |a: [u8; 4]| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            f(n.first),
            f(last),
            n.asn,
            n.country,
            n.as_name
        ));
    }
    std::fs::write(dir.join("ip2asn.tsv"), table)?;
    let mut truth = Truth::default();
    let mut rng = Rng::new(spec.seed);
    for (sensor_index, (name, _group, prefix)) in spec.sensors.iter().enumerate() {
        let sensor = Sensor { prefix: *prefix };
        let mut writer: Option<(String, PcapWriter<BufWriter<std::fs::File>>)> = None;
        for day in spec.first_day..=spec.last_day {
            let d = date(day);
            let month = d[..7].to_owned();
            if writer.as_ref().is_none_or(|(m, _)| *m != month) {
                if let Some((_, w)) = writer.take() {
                    std::io::Write::flush(&mut w.into_inner())?;
                }
                let path = dir.join(format!("{name}-{month}.pcap"));
                let f = std::fs::File::create(&path)?;
                truth.files.push(path);
                writer = Some((month, PcapWriter::new(BufWriter::new(f), 1, 65535, false)?));
            }
            let Some((_, w)) = writer.as_mut() else {
                continue;
            };
            // Background: scans and backscatter, more at the overseas sensor, with a
            // weekly rhythm; sources from London, Milton, Changchun and Linköping.
            let base = 20 + 5 * sensor_index as u64 + (day.rem_euclid(7) as u64) * 2;
            let mut events: Vec<(i64, Kind, usize)> = Vec::new();
            for _ in 0..base + rng.below(10) {
                let kind = match rng.below(20) {
                    0..=7 => Kind::MiraiScan,
                    8..=10 => Kind::ScanTcp,
                    11..=13 => Kind::ScanUdp,
                    14 => Kind::ScanIcmp,
                    15..=16 => Kind::BackscatterSynAck,
                    17 => Kind::Zmap,
                    18 => Kind::Masscan,
                    _ => Kind::BackscatterIcmp,
                };
                let net = match rng.below(10) {
                    0..=3 => 3,
                    4..=5 => 4,
                    6..=7 => 1,
                    _ => 2,
                };
                events.push((rng.below(86_400_000_000_000) as i64, kind, net));
            }
            // GRE: a stray PPTP packet now and then before the surge; floods after it,
            // growing for a week and then steady.
            if day < spec.surge_day {
                if rng.below(10) == 0 {
                    events.push((rng.below(86_400_000_000_000) as i64, Kind::Pptp, 3));
                }
            } else {
                let ramp = (day - spec.surge_day + 1).min(7) as u64;
                let n = ramp * (40 + 10 * sensor_index as u64) + rng.below(20);
                for _ in 0..n {
                    let net = match rng.below(10) {
                        0..=6 => 0,
                        7..=8 => 1,
                        _ => 2,
                    };
                    let kind = if rng.below(10) == 0 {
                        Kind::MiraiGreIpBe
                    } else {
                        Kind::MiraiGreIpLe
                    };
                    events.push((rng.below(86_400_000_000_000) as i64, kind, net));
                }
            }
            events.sort_by_key(|e| e.0);
            for (offset, kind, net) in events {
                let n = &nets[net];
                // Few hosts send most: a skewed pick inside the network.
                let i = (rng.below(u64::from(n.size)) * rng.below(u64::from(n.size))
                    / u64::from(n.size)) as u32;
                let src = nth(n, i);
                let mut f = frame(&mut rng, &sensor, kind);
                set_source(&mut f, src);
                let key = key_of(&f);
                let ts = day * 86_400_000_000_000 + offset;
                w.write(ts, &f, f.len() as u32)?;
                let k = (name.clone(), date(day), key.clone());
                *truth.daily.entry(k.clone()).or_default() += 1;
                truth.daily_sources.entry(k).or_default().insert(src);
                *truth
                    .classes
                    .entry((name.clone(), date(day), kind.class_name().into()))
                    .or_default() += 1;
                *truth.sources.entry(src).or_default() += 1;
                let e = truth.key_by_asn.entry((key.clone(), n.asn)).or_default();
                e.0 += 1;
                e.1.insert(src);
                let e = truth
                    .key_by_city
                    .entry((key.clone(), n.country, n.city))
                    .or_default();
                e.0 += 1;
                e.1.insert(src);
                *truth.key_by_country.entry((n.country, key)).or_default() += 1;
                truth.total += 1;
            }
        }
        if let Some((_, w)) = writer.take() {
            std::io::Write::flush(&mut w.into_inner())?;
        }
    }
    Ok(truth)
}

impl Truth {
    /// Packets per key over everything, sorted by packets then key.
    pub fn top_keys(&self, sensor: Option<&str>) -> Vec<(String, u64)> {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for ((s, _, k), n) in &self.daily {
            if sensor.is_none_or(|x| x == s) {
                *m.entry(k.clone()).or_default() += n;
            }
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
    /// Packets of `key` over all sensors and days.
    pub fn packets_of(&self, key: &str) -> u64 {
        self.daily
            .iter()
            .filter(|((_, _, k), _)| k == key)
            .map(|(_, n)| n)
            .sum()
    }
    /// Packets of `key` per date over all sensors, and distinct sources per date.
    pub fn key_per_day(&self, key: &str) -> BTreeMap<String, (u64, usize)> {
        let mut packets: BTreeMap<String, u64> = BTreeMap::new();
        let mut sources: BTreeMap<String, BTreeSet<[u8; 4]>> = BTreeMap::new();
        for ((_, d, k), n) in &self.daily {
            if k == key {
                *packets.entry(d.clone()).or_default() += n;
            }
        }
        for ((_, d, k), s) in &self.daily_sources {
            if k == key {
                sources.entry(d.clone()).or_default().extend(s);
            }
        }
        packets
            .into_iter()
            .map(|(d, n)| {
                let s = sources.get(&d).map_or(0, BTreeSet::len);
                (d, (n, s))
            })
            .collect()
    }
}
