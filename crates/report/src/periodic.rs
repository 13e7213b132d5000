//! `noisefloor report`: the periodic report over the lake (TSUBAME's tables and figures, the
//! ISC's denies per day, the HiNet table, classes over time, surges). Every number comes from
//! the plain SQL files in `crates/report/sql/`, so the same queries run in DuckDB or Spark.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use noisefloor_lake::LakeError;
use noisefloor_lake::Session;
use serde::Serialize;

use crate::surge;

/// The report's queries, by file name.
pub const QUERIES: &[(&str, &str)] = &[
    ("summary", include_str!("../sql/summary.sql")),
    ("key_packets", include_str!("../sql/key_packets.sql")),
    (
        "key_packets_country",
        include_str!("../sql/key_packets_country.sql"),
    ),
    ("key_sources", include_str!("../sql/key_sources.sql")),
    (
        "key_sources_country",
        include_str!("../sql/key_sources_country.sql"),
    ),
    ("top_country", include_str!("../sql/top_country.sql")),
    ("keys_by_sensor", include_str!("../sql/keys_by_sensor.sql")),
    (
        "daily_by_sensor",
        include_str!("../sql/daily_by_sensor.sql"),
    ),
    ("key_daily", include_str!("../sql/key_daily.sql")),
    ("sources_by_as", include_str!("../sql/sources_by_as.sql")),
    (
        "sources_by_city",
        include_str!("../sql/sources_by_city.sql"),
    ),
    ("source_listing", include_str!("../sql/source_listing.sql")),
    ("classes_daily", include_str!("../sql/classes_daily.sql")),
    ("key_date", include_str!("../sql/key_date.sql")),
    ("sensor_health", include_str!("../sql/sensor_health.sql")),
];

fn query(name: &str) -> &'static str {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, q)| q)
}

/// A SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A query file with its `:name` parameters replaced by literals.
pub fn bind(name: &str, params: &[(&str, &str)]) -> String {
    let rendered: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, literal(v))).collect();
    bind_sql(query(name), &rendered)
}

/// Replaces each `:name` in `q` by its SQL text, in one pass: text substituted for one
/// parameter (lake data, command-line values) is never searched for another.
fn bind_sql(q: &str, params: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(q.len());
    let mut rest = q;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        match params.iter().find(|(k, _)| *k == &after[..name_len]) {
            Some((_, sql)) if name_len > 0 => {
                out.push_str(sql);
                rest = &after[name_len..];
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the report covers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scope {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Sensors to include (empty: all).
    pub sensors: Vec<String>,
    /// The group the sensors were chosen by, if any.
    pub group: Option<String>,
    /// The key sections 4 and 5 follow (default `GRE`).
    pub key: String,
    /// Country for the second Table 1 (default: the country with the most packets).
    pub country: Option<String>,
    pub top: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub rows: i64,
    pub packets: i64,
    pub sources: i64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub sensors: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KeyRow {
    pub rank: usize,
    pub key: String,
    pub packets: i64,
    /// Share of the table's packets, percent.
    pub share: f64,
    pub sources: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SensorKeys {
    pub sensor: String,
    pub keys: Vec<KeyRow>,
}

/// Daily average packets per sensor in one month (TSUBAME Figures 2 and 3).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MonthRow {
    pub month: String,
    /// A sensor, or a group (average over its sensors).
    pub name: String,
    pub is_group: bool,
    pub daily_average: f64,
    /// The same month a year earlier, when the lake has it.
    pub year_before: Option<f64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DayRow {
    pub date: String,
    pub packets: i64,
    pub sources: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AsRow {
    pub asn: Option<i64>,
    pub as_name: Option<String>,
    pub packets: i64,
    pub sources: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CityRow {
    pub country: Option<String>,
    pub city: Option<String>,
    pub packets: i64,
    pub sources: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassMonth {
    pub month: String,
    pub class: String,
    pub packets: i64,
}

/// Section 8: one live sensor's health over the period.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HealthRow {
    pub sensor: String,
    pub source: String,
    pub segments: i64,
    pub received: i64,
    pub stored: i64,
    pub kernel_drops: i64,
    pub truncated: i64,
    pub decode_errors: i64,
    pub last_end: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SurgeRow {
    pub key: String,
    pub start: String,
    pub before_per_day: f64,
    pub after_per_day: f64,
    pub ratio: f64,
    pub score: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Periodic {
    pub scope: Scope,
    pub summary: Summary,
    pub top_keys: Vec<KeyRow>,
    pub country: Option<String>,
    pub top_keys_country: Vec<KeyRow>,
    pub per_sensor: Vec<SensorKeys>,
    pub monthly: Vec<MonthRow>,
    pub key_daily: Vec<DayRow>,
    pub by_as: Vec<AsRow>,
    pub by_city: Vec<CityRow>,
    pub classes_monthly: Vec<ClassMonth>,
    /// (date, class, packets) for the chart.
    #[serde(skip)]
    pub classes_daily: Vec<(String, String, i64)>,
    pub surges: Vec<SurgeRow>,
    pub sensor_health: Vec<HealthRow>,
    /// Only this section is rendered (1-8), when set.
    #[serde(skip)]
    pub only_section: Option<u8>,
}

/// A column of a result as strings (NULL as `None`).
pub fn strings(batches: &[RecordBatch], col: usize) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let c = b.column(col);
        let c = arrow::compute::cast(c, &DataType::Utf8).unwrap_or_else(|_| c.clone());
        if let Some(s) = c.as_any().downcast_ref::<arrow::array::StringArray>() {
            out.extend(s.iter().map(|v| v.map(str::to_owned)));
        } else {
            out.extend(std::iter::repeat_n(None, c.len()));
        }
    }
    out
}

/// A column of a result as integers (NULL as `None`).
pub fn ints(batches: &[RecordBatch], col: usize) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for b in batches {
        let c = b.column(col);
        let c = arrow::compute::cast(c, &DataType::Int64).unwrap_or_else(|_| c.clone());
        if let Some(s) = c.as_any().downcast_ref::<arrow::array::Int64Array>() {
            out.extend(s.iter());
        } else {
            out.extend(std::iter::repeat_n(None, c.len()));
        }
    }
    out
}

/// TSUBAME Table 1: the `top` keys by packets with their share of all packets, and their
/// distinct sources (counted for those keys only: the expensive part).
fn table_one(
    session: &Session,
    top: usize,
    country: Option<&str>,
) -> Result<Vec<KeyRow>, LakeError> {
    let params: Vec<(&str, String)> = country
        .map(|c| ("country", literal(c)))
        .into_iter()
        .collect();
    let (packets_query, sources_query) = match country {
        Some(_) => ("key_packets_country", "key_sources_country"),
        None => ("key_packets", "key_sources"),
    };
    let kp = session.sql(&bind_sql(query(packets_query), &params))?;
    let packets = ints(&kp, 1);
    let total: i64 = packets.iter().flatten().sum();
    let ranked: Vec<(String, i64)> = strings(&kp, 0)
        .into_iter()
        .zip(packets)
        .take(top)
        .map(|(k, p)| (k.unwrap_or_default(), p.unwrap_or(0)))
        .collect();
    let mut sources: HashMap<String, i64> = HashMap::new();
    if !ranked.is_empty() {
        let list: Vec<String> = ranked.iter().map(|(k, _)| literal(k)).collect();
        let mut params = params;
        params.push(("ranked", list.join(", ")));
        let ks = session.sql(&bind_sql(query(sources_query), &params))?;
        for (k, n) in strings(&ks, 0).into_iter().zip(ints(&ks, 1)) {
            sources.insert(k.unwrap_or_default(), n.unwrap_or(0));
        }
    }
    Ok(ranked
        .into_iter()
        .enumerate()
        .map(|(i, (key, packets))| KeyRow {
            rank: i + 1,
            share: if total > 0 {
                100.0 * packets as f64 / total as f64
            } else {
                0.0
            },
            sources: Some(sources.get(&key).copied().unwrap_or(0)),
            key,
            packets,
        })
        .collect())
}

fn days_in_month(y: i64, m: u32) -> i64 {
    use noisefloor_wire::time::days_from_civil;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
}

pub(crate) fn parse_date(d: &str) -> Option<i64> {
    let y = d.get(0..4)?.parse().ok()?;
    let m = d.get(5..7)?.parse().ok()?;
    let dd = d.get(8..10)?.parse().ok()?;
    Some(noisefloor_wire::time::days_from_civil(y, m, dd))
}

pub(crate) fn date_of(days: i64) -> String {
    let (y, m, d) = noisefloor_wire::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The month twelve months before `YYYY-MM`.
fn year_before(month: &str) -> String {
    let y: i64 = month[..4].parse().unwrap_or(0);
    format!("{:04}{}", y - 1, &month[4..])
}

impl Periodic {
    /// Runs every section's query over `session`.
    pub fn build(session: &Session, mut scope: Scope) -> Result<Periodic, LakeError> {
        // `history` starts on the first day of --from's month a year earlier (for the
        // year-on-year months); otherwise both views share the same conditions.
        let history_from = match &scope.from {
            Some(f) => {
                let from = parse_date(f).ok_or_else(|| {
                    LakeError::Sql(format!("--from {f}: expected a date as YYYY-MM-DD"))
                })?;
                let (y, m, _) = noisefloor_wire::time::civil_from_days(from);
                Some(date_of(noisefloor_wire::time::days_from_civil(y - 1, m, 1)))
            }
            None => None,
        };
        let conditions = |from: Option<&str>| {
            let mut c = Vec::new();
            if let Some(f) = from {
                c.push(format!("date >= {}", literal(f)));
            }
            if let Some(t) = &scope.to {
                c.push(format!("date <= {}", literal(t)));
            }
            if !scope.sensors.is_empty() {
                let list: Vec<String> = scope.sensors.iter().map(|s| literal(s)).collect();
                c.push(format!("sensor IN ({})", list.join(", ")));
            }
            c
        };
        let cond = conditions(scope.from.as_deref());
        let hist = conditions(history_from.as_deref());
        let where_ = |c: &[String]| {
            if c.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", c.join(" AND "))
            }
        };
        // The rollup holds everything the sections need. A lake with inputs ingested before
        // rollups existed is read as events in the rollup's shape instead (same queries,
        // same numbers, a full scan).
        let source = if session.rollup_missing() == 0 {
            "rollup"
        } else {
            "(SELECT *, src AS src_v4, NULL AS src_v6, 1 AS row_count FROM events) AS events_as_rollup"
        };
        session.sql(&format!(
            "CREATE OR REPLACE VIEW scope AS SELECT * FROM {source}{}",
            where_(&cond)
        ))?;
        session.sql(&format!(
            "CREATE OR REPLACE VIEW history AS SELECT * FROM {source}{}",
            where_(&hist)
        ))?;
        session.sql(&format!(
            "CREATE OR REPLACE VIEW scope_events AS SELECT * FROM events{}",
            where_(&cond)
        ))?;
        // The health view has a `day` where the events have a `date` partition.
        let health_cond: Vec<String> = cond
            .iter()
            .map(|c| c.replacen("date ", "day ", 1))
            .collect();
        session.sql(&format!(
            "CREATE OR REPLACE VIEW health_scope AS SELECT * FROM sensor_health{}",
            where_(&health_cond)
        ))?;

        let s = session.sql(query("summary"))?;
        let summary = Summary {
            rows: ints(&s, 0).first().copied().flatten().unwrap_or(0),
            packets: ints(&s, 1).first().copied().flatten().unwrap_or(0),
            sources: ints(&s, 2).first().copied().flatten().unwrap_or(0),
            first_date: strings(&s, 3).into_iter().next().flatten(),
            last_date: strings(&s, 4).into_iter().next().flatten(),
            sensors: ints(&s, 5).first().copied().flatten().unwrap_or(0),
        };
        let top = scope.top.max(1);
        let top_keys = table_one(session, top, None)?;
        let country = match &scope.country {
            Some(c) => Some(c.to_ascii_uppercase()),
            None => strings(&session.sql(query("top_country"))?, 0)
                .into_iter()
                .next()
                .flatten(),
        };
        scope.country.clone_from(&country);
        let top_keys_country = match &country {
            Some(c) => table_one(session, top, Some(c))?,
            None => Vec::new(),
        };

        let kb = session.sql(query("keys_by_sensor"))?;
        let mut per_sensor: Vec<SensorKeys> = Vec::new();
        for ((s, k), p) in strings(&kb, 0)
            .into_iter()
            .zip(strings(&kb, 1))
            .zip(ints(&kb, 2))
        {
            let s = s.unwrap_or_default();
            if per_sensor.last().is_none_or(|x| x.sensor != s) {
                per_sensor.push(SensorKeys {
                    sensor: s,
                    keys: Vec::new(),
                });
            }
            if let Some(last) = per_sensor.last_mut() {
                last.keys.push(KeyRow {
                    rank: last.keys.len() + 1,
                    key: k.unwrap_or_default(),
                    packets: p.unwrap_or(0),
                    share: 0.0,
                    sources: None,
                });
            }
        }
        for ps in &mut per_sensor {
            let total: i64 = ps.keys.iter().map(|k| k.packets).sum();
            ps.keys.truncate(10);
            for k in &mut ps.keys {
                k.share = if total > 0 {
                    100.0 * k.packets as f64 / total as f64
                } else {
                    0.0
                };
            }
        }

        let monthly = monthly(&session.sql(query("daily_by_sensor"))?, &scope, &summary);

        let key = scope.key.clone();
        let kd = session.sql(&bind("key_daily", &[("key", &key)]))?;
        let key_daily = strings(&kd, 0)
            .into_iter()
            .zip(ints(&kd, 1))
            .zip(ints(&kd, 2))
            .map(|((d, p), s)| DayRow {
                date: d.unwrap_or_default(),
                packets: p.unwrap_or(0),
                sources: s.unwrap_or(0),
            })
            .collect();
        let ba = session.sql(&bind("sources_by_as", &[("key", &key)]))?;
        let by_as = ints(&ba, 0)
            .into_iter()
            .zip(strings(&ba, 1))
            .zip(ints(&ba, 2))
            .zip(ints(&ba, 3))
            .map(|(((asn, name), p), s)| AsRow {
                asn,
                as_name: name,
                packets: p.unwrap_or(0),
                sources: s.unwrap_or(0),
            })
            .collect();
        let bc = session.sql(&bind("sources_by_city", &[("key", &key)]))?;
        let by_city = strings(&bc, 0)
            .into_iter()
            .zip(strings(&bc, 1))
            .zip(ints(&bc, 2))
            .zip(ints(&bc, 3))
            .map(|(((country, city), p), s)| CityRow {
                country,
                city,
                packets: p.unwrap_or(0),
                sources: s.unwrap_or(0),
            })
            .collect();

        let cd = session.sql(query("classes_daily"))?;
        let classes_daily: Vec<(String, String, i64)> = strings(&cd, 0)
            .into_iter()
            .zip(strings(&cd, 1))
            .zip(ints(&cd, 2))
            .map(|((d, c), p)| (d.unwrap_or_default(), c.unwrap_or_default(), p.unwrap_or(0)))
            .collect();
        let mut cm: BTreeMap<(String, String), i64> = BTreeMap::new();
        for (d, c, p) in &classes_daily {
            *cm.entry((d[..7.min(d.len())].to_owned(), c.clone()))
                .or_default() += p;
        }
        let classes_monthly = cm
            .into_iter()
            .map(|((month, class), packets)| ClassMonth {
                month,
                class,
                packets,
            })
            .collect();

        let surges = surges(&session.sql(query("key_date"))?, &summary);
        let h = session.sql(query("sensor_health"))?;
        let hint = |c: usize| ints(&h, c).into_iter().map(|v| v.unwrap_or(0));
        let sensor_health = strings(&h, 0)
            .into_iter()
            .zip(strings(&h, 1))
            .zip(hint(2).zip(hint(3)).zip(hint(4).zip(hint(5))))
            .zip(hint(6).zip(hint(7)).zip(strings(&h, 8)))
            .map(
                |(
                    ((sensor, source), ((segments, received), (stored, kernel_drops))),
                    ((truncated, decode_errors), last_end),
                )| HealthRow {
                    sensor: sensor.unwrap_or_default(),
                    source: source.unwrap_or_default(),
                    segments,
                    received,
                    stored,
                    kernel_drops,
                    truncated,
                    decode_errors,
                    last_end,
                },
            )
            .collect();
        Ok(Periodic {
            scope,
            summary,
            top_keys,
            country,
            top_keys_country,
            per_sensor,
            monthly,
            key_daily,
            by_as,
            by_city,
            classes_monthly,
            classes_daily,
            surges,
            sensor_health,
            only_section: None,
        })
    }

    /// Keeps one section (1-8): the others are emptied and not rendered.
    pub fn keep_section(&mut self, n: u8) {
        self.only_section = Some(n);
        if n != 1 {
            self.top_keys.clear();
            self.top_keys_country.clear();
        }
        if n != 2 {
            self.per_sensor.clear();
        }
        if n != 3 {
            self.monthly.clear();
        }
        if n != 4 {
            self.key_daily.clear();
        }
        if n != 5 {
            self.by_as.clear();
            self.by_city.clear();
        }
        if n != 6 {
            self.classes_monthly.clear();
            self.classes_daily.clear();
        }
        if n != 7 {
            self.surges.clear();
        }
        if n != 8 {
            self.sensor_health.clear();
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Daily averages per sensor and month (packets in the month ÷ days of the month inside the
/// report's date range), per group (the mean of its sensors' averages), with the same month
/// a year earlier.
fn monthly(batches: &[RecordBatch], scope: &Scope, summary: &Summary) -> Vec<MonthRow> {
    let sensors = strings(batches, 0);
    let groups = strings(batches, 1);
    let dates = strings(batches, 2);
    let packets = ints(batches, 3);
    // (sensor, month) → packets, over the history range.
    let mut per: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut group_of: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..sensors.len() {
        let (Some(s), Some(d)) = (&sensors[i], &dates[i]) else {
            continue;
        };
        *per.entry((s.clone(), d[..7.min(d.len())].to_owned()))
            .or_default() += packets[i].unwrap_or(0);
        if let Some(g) = &groups[i] {
            group_of.insert(s.clone(), g.clone());
        }
    }
    let (Some(first), Some(last)) = (
        scope
            .from
            .as_deref()
            .or(summary.first_date.as_deref())
            .and_then(parse_date),
        scope
            .to
            .as_deref()
            .or(summary.last_date.as_deref())
            .and_then(parse_date),
    ) else {
        return Vec::new();
    };
    // Days of each month inside [first, last], and of the same month a year earlier (whole).
    let mut months: Vec<(String, i64)> = Vec::new();
    let mut d = first;
    while d <= last {
        let (y, m, _) = noisefloor_wire::time::civil_from_days(d);
        let start = noisefloor_wire::time::days_from_civil(y, m, 1);
        let end = start + days_in_month(y, m) - 1;
        let covered = end.min(last) - d.max(start) + 1;
        months.push((format!("{y:04}-{m:02}"), covered));
        d = end + 1;
    }
    let sensor_names: Vec<String> = {
        let mut v: Vec<String> = per.keys().map(|(s, _)| s.clone()).collect();
        v.dedup();
        v
    };
    let avg = |sensor: &str, month: &str, days: i64| -> Option<f64> {
        per.get(&(sensor.to_owned(), month.to_owned()))
            .map(|p| *p as f64 / days.max(1) as f64)
    };
    let mut out = Vec::new();
    for (month, days) in &months {
        let yb = year_before(month);
        let yb_days = days_in_month(
            yb[..4].parse().unwrap_or(1970),
            yb[5..7].parse().unwrap_or(1),
        );
        let mut groups: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for s in &sensor_names {
            let this = avg(s, month, *days).unwrap_or(0.0);
            let before = avg(s, &yb, yb_days);
            out.push(MonthRow {
                month: month.clone(),
                name: s.clone(),
                is_group: false,
                daily_average: this,
                year_before: before,
            });
            if let Some(g) = group_of.get(s) {
                let e = groups.entry(g.clone()).or_default();
                e.0.push(this);
                if let Some(b) = before {
                    e.1.push(b);
                }
            }
        }
        for (g, (this, before)) in groups {
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            out.push(MonthRow {
                month: month.clone(),
                name: g,
                is_group: true,
                daily_average: mean(&this),
                year_before: (!before.is_empty()).then(|| mean(&before)),
            });
        }
    }
    out
}

fn surges(batches: &[RecordBatch], summary: &Summary) -> Vec<SurgeRow> {
    let (Some(first), Some(last)) = (
        summary.first_date.as_deref().and_then(parse_date),
        summary.last_date.as_deref().and_then(parse_date),
    ) else {
        return Vec::new();
    };
    let n = (last - first + 1).max(0) as usize;
    let mut series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let keys = strings(batches, 0);
    let dates = strings(batches, 1);
    let packets = ints(batches, 2);
    for i in 0..keys.len() {
        let (Some(k), Some(d)) = (&keys[i], dates[i].as_deref().and_then(parse_date)) else {
            continue;
        };
        let idx = d - first;
        if idx < 0 || idx as usize >= n {
            continue;
        }
        let v = series.entry(k.clone()).or_insert_with(|| vec![0; n]);
        v[idx as usize] += packets[i].unwrap_or(0).max(0) as u64;
    }
    let mut out = Vec::new();
    for (k, v) in series {
        for s in surge::detect(&v) {
            out.push(SurgeRow {
                key: k.clone(),
                start: date_of(first + s.start as i64),
                before_per_day: s.before,
                after_per_day: s.after,
                ratio: s.ratio,
                score: s.score,
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_bound_once_and_casts_survive() {
        // A value that itself looks like a parameter stays a literal.
        let q = bind_sql(
            "SELECT x::int FROM t WHERE c = :country AND k IN (:ranked) AND t > '12:00'",
            &[
                ("country", literal(":ranked'x")),
                ("ranked", ["GRE", "23/TCP"].map(literal).join(", ")),
            ],
        );
        assert_eq!(
            q,
            "SELECT x::int FROM t WHERE c = ':ranked''x' AND k IN ('GRE', '23/TCP') AND t > '12:00'"
        );
        // Unknown names and a trailing colon are left as written.
        assert_eq!(bind_sql("a :nope b:", &[]), "a :nope b:");
    }
}
