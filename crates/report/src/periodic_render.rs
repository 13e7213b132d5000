//! The periodic report as terminal text, Markdown and one self-contained HTML file.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::charts::{Chart, Series};
use crate::periodic::Periodic;

/// Thousands separators: 20,000.
pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "unknown".into())
}

/// A table: headers, rows of cells, and which columns are numbers (right-aligned).
struct Table {
    title: String,
    headers: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn text(&self, out: &mut String) {
        let _ = writeln!(out, "\n{}", self.title);
        if self.rows.is_empty() {
            out.push_str("  (none)\n");
            return;
        }
        let mut w: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String], out: &mut String| {
            out.push(' ');
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                out.push(' ');
                if self.numeric[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(c);
                } else {
                    out.push_str(c);
                    out.push_str(&" ".repeat(pad));
                }
                out.push(' ');
            }
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
        };
        line(&self.headers, out);
        let rule: Vec<String> = w.iter().map(|n| "─".repeat(*n)).collect();
        line(&rule, out);
        for r in &self.rows {
            line(r, out);
        }
    }
    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "\n### {}\n", self.title);
        if self.rows.is_empty() {
            out.push_str("(none)\n");
            return;
        }
        let _ = writeln!(out, "| {} |", self.headers.join(" | "));
        let al: Vec<&str> = self
            .numeric
            .iter()
            .map(|n| if *n { "---:" } else { "---" })
            .collect();
        let _ = writeln!(out, "| {} |", al.join(" | "));
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    fn html(&self, out: &mut String) {
        let _ = writeln!(out, "<h3>{}</h3>", esc(&self.title));
        if self.rows.is_empty() {
            out.push_str("<p>(none)</p>\n");
            return;
        }
        out.push_str("<table><thead><tr>");
        for h in &self.headers {
            let _ = write!(out, "<th>{}</th>", esc(h));
        }
        out.push_str("</tr></thead><tbody>\n");
        for r in &self.rows {
            out.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let class = if self.numeric[i] { " class=\"n\"" } else { "" };
                let _ = write!(out, "<td{class}>{}</td>", esc(c));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }
}

fn hs(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| (*s).to_owned()).collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A section: a heading, a sentence, tables and charts.
struct Section {
    title: String,
    lead: String,
    tables: Vec<Table>,
    charts: Vec<Chart>,
}

impl Periodic {
    fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        let key_table = |title: String, rows: &[crate::periodic::KeyRow], sources: bool| Table {
            title,
            headers: if sources {
                hs(&["#", "key", "packets", "share", "sources"])
            } else {
                hs(&["#", "key", "packets", "share"])
            },
            numeric: vec![true, false, true, true, true],
            rows: rows
                .iter()
                .map(|r| {
                    let mut v = vec![
                        r.rank.to_string(),
                        r.key.clone(),
                        thousands(r.packets),
                        format!("{:.1}%", r.share),
                    ];
                    if sources {
                        v.push(r.sources.map(thousands).unwrap_or_default());
                    }
                    v
                })
                .collect(),
        };
        // 1. Top keys.
        let mut tables = vec![key_table(
            format!("Top {} keys, all sources", self.scope.top),
            &self.top_keys,
            true,
        )];
        if let Some(c) = &self.country {
            tables.push(key_table(
                format!("Top {} keys, sources in {c}", self.scope.top),
                &self.top_keys_country,
                true,
            ));
        }
        out.push(Section {
            title: "1. Protocols and ports (TSUBAME Table 1)".into(),
            lead: "Packets per protocol/port key: GRE, ICMP, and destination port for TCP/UDP."
                .into(),
            tables,
            charts: Vec::new(),
        });
        // 2. Per sensor, side by side.
        let depth = self
            .per_sensor
            .iter()
            .map(|s| s.keys.len())
            .max()
            .unwrap_or(0);
        let mut headers = hs(&["#"]);
        let names: Vec<String> = self.per_sensor.iter().map(|s| s.sensor.clone()).collect();
        headers.extend(names.iter().cloned());
        let rows = (0..depth)
            .map(|i| {
                let mut r = vec![(i + 1).to_string()];
                for s in &self.per_sensor {
                    r.push(
                        s.keys
                            .get(i)
                            .map(|k| format!("{} ({:.1}%)", k.key, k.share))
                            .unwrap_or_default(),
                    );
                }
                r
            })
            .collect();
        out.push(Section {
            title: "2. Top 10 per sensor (TSUBAME Table 2)".into(),
            lead: "Each sensor's keys by packets, with their share of that sensor's packets."
                .into(),
            tables: vec![Table {
                title: "Keys per sensor".into(),
                numeric: std::iter::once(true)
                    .chain(std::iter::repeat_n(false, names.len()))
                    .collect(),
                headers,
                rows,
            }],
            charts: Vec::new(),
        });
        // 3. Monthly daily averages.
        let months: Vec<String> = {
            let mut m: Vec<String> = self.monthly.iter().map(|r| r.month.clone()).collect();
            m.dedup();
            m
        };
        let mut by_name: BTreeMap<(bool, String), Vec<&crate::periodic::MonthRow>> =
            BTreeMap::new();
        for r in &self.monthly {
            by_name
                .entry((!r.is_group, r.name.clone()))
                .or_default()
                .push(r);
        }
        let mut series = Vec::new();
        for ((_, name), rows) in by_name.iter().filter(|((sensor, _), _)| !sensor) {
            series.push(Series {
                name: name.clone(),
                values: rows.iter().map(|r| r.daily_average).collect(),
                dashed: false,
            });
            if rows.iter().any(|r| r.year_before.is_some()) {
                series.push(Series {
                    name: format!("{name}, a year earlier"),
                    values: rows.iter().map(|r| r.year_before.unwrap_or(0.0)).collect(),
                    dashed: true,
                });
            }
        }
        let month_rows = self
            .monthly
            .iter()
            .map(|r| {
                vec![
                    r.month.clone(),
                    if r.is_group {
                        format!("group {}", r.name)
                    } else {
                        r.name.clone()
                    },
                    format!("{:.1}", r.daily_average),
                    r.year_before
                        .map(|v| format!("{v:.1}"))
                        .unwrap_or_else(|| "–".into()),
                    match r.year_before {
                        Some(b) if b > 0.0 => {
                            format!("{:+.0}%", 100.0 * (r.daily_average / b - 1.0))
                        }
                        _ => "–".into(),
                    },
                ]
            })
            .collect();
        out.push(Section {
            title: "3. Daily average packets per sensor (TSUBAME Figures 2 and 3)".into(),
            lead: "Packets in the month divided by its days in the report's range; a group is the mean of its sensors. The year-earlier column is the same calendar month twelve months before.".into(),
            tables: vec![Table {
                title: "Per month".into(),
                headers: hs(&["month", "sensor or group", "per day", "a year earlier", "change"]),
                numeric: vec![false, false, true, true, true],
                rows: month_rows,
            }],
            charts: if series.is_empty() {
                Vec::new()
            } else {
                vec![Chart {
                    title: "Daily average packets per sensor, by group".into(),
                    y_label: "packets/day".into(),
                    x_labels: months.clone(),
                    series,
                }]
            },
        });
        // 4. One key per day; the charts run over every day of the range, zeros included.
        let key = &self.scope.key;
        let range = (
            self.summary
                .first_date
                .as_deref()
                .and_then(crate::periodic::parse_date),
            self.summary
                .last_date
                .as_deref()
                .and_then(crate::periodic::parse_date),
        );
        let (days, packets_per_day, sources_per_day) = match range {
            (Some(a), Some(b)) if !self.key_daily.is_empty() => {
                let by_day: BTreeMap<&str, &crate::periodic::DayRow> = self
                    .key_daily
                    .iter()
                    .map(|d| (d.date.as_str(), d))
                    .collect();
                let days: Vec<String> = (a..=b).map(crate::periodic::date_of).collect();
                let p = days
                    .iter()
                    .map(|d| by_day.get(d.as_str()).map_or(0.0, |r| r.packets as f64))
                    .collect();
                let s = days
                    .iter()
                    .map(|d| by_day.get(d.as_str()).map_or(0.0, |r| r.sources as f64))
                    .collect();
                (days, p, s)
            }
            _ => (Vec::new(), Vec::new(), Vec::new()),
        };
        out.push(Section {
            title: format!("4. {key} per day"),
            lead: format!(
                "Packets and distinct sources of {key} per day (the ISC's \"denies per day\"); days without any are left out of the table."
            ),
            tables: vec![Table {
                title: format!("{key} per day"),
                headers: hs(&["date", "packets", "sources"]),
                numeric: vec![false, true, true],
                rows: self
                    .key_daily
                    .iter()
                    .map(|d| vec![d.date.clone(), thousands(d.packets), thousands(d.sources)])
                    .collect(),
            }],
            charts: if days.is_empty() {
                Vec::new()
            } else {
                vec![
                    Chart {
                        title: format!("{key}: packets per day"),
                        y_label: "packets".into(),
                        x_labels: days.clone(),
                        series: vec![Series {
                            name: "packets".into(),
                            values: packets_per_day,
                            dashed: false,
                        }],
                    },
                    Chart {
                        title: format!("{key}: distinct sources per day"),
                        y_label: "sources".into(),
                        x_labels: days,
                        series: vec![Series {
                            name: "sources".into(),
                            values: sources_per_day,
                            dashed: false,
                        }],
                    },
                ]
            },
        });
        // 5. Who sends it.
        out.push(Section {
            title: format!("5. Who sends {key}"),
            lead: "Sources grouped by network and by place. Unknown means no database given knew the address.".into(),
            tables: vec![
                Table {
                    title: "By AS".into(),
                    headers: hs(&["AS", "name", "packets", "sources"]),
                    numeric: vec![false, false, true, true],
                    rows: self
                        .by_as
                        .iter()
                        .map(|r| {
                            vec![
                                r.asn.map(|a| format!("AS{a}")).unwrap_or_else(|| "unknown".into()),
                                opt(&r.as_name),
                                thousands(r.packets),
                                thousands(r.sources),
                            ]
                        })
                        .collect(),
                },
                Table {
                    title: "By city".into(),
                    headers: hs(&["country", "city", "packets", "sources"]),
                    numeric: vec![false, false, true, true],
                    rows: self
                        .by_city
                        .iter()
                        .map(|r| {
                            vec![opt(&r.country), opt(&r.city), thousands(r.packets), thousands(r.sources)]
                        })
                        .collect(),
                },
            ],
            charts: Vec::new(),
        });
        // 6. Classes.
        let mut class_totals: BTreeMap<&str, i64> = BTreeMap::new();
        for c in &self.classes_monthly {
            *class_totals.entry(&c.class).or_default() += c.packets;
        }
        let mut top_classes: Vec<(&str, i64)> = class_totals.into_iter().collect();
        top_classes.sort_by_key(|c| std::cmp::Reverse(c.1));
        top_classes.truncate(6);
        let mut dates: Vec<String> = self.classes_daily.iter().map(|c| c.0.clone()).collect();
        dates.dedup();
        let idx: BTreeMap<&str, usize> = dates
            .iter()
            .enumerate()
            .map(|(i, d)| (d.as_str(), i))
            .collect();
        let class_series = top_classes
            .iter()
            .map(|(c, _)| {
                let mut v = vec![0.0; dates.len()];
                for (d, cl, p) in &self.classes_daily {
                    if cl == c
                        && let Some(&i) = idx.get(d.as_str())
                    {
                        v[i] += *p as f64;
                    }
                }
                Series {
                    name: (*c).to_owned(),
                    values: v,
                    dashed: false,
                }
            })
            .collect();
        out.push(Section {
            title: "6. Classes over time".into(),
            lead: "Packets per class and month (Mirai GRE floods, scans, backscatter ...).".into(),
            tables: vec![Table {
                title: "Per month".into(),
                headers: hs(&["month", "class", "packets"]),
                numeric: vec![false, false, true],
                rows: self
                    .classes_monthly
                    .iter()
                    .map(|c| vec![c.month.clone(), c.class.clone(), thousands(c.packets)])
                    .collect(),
            }],
            charts: if dates.is_empty() {
                Vec::new()
            } else {
                vec![Chart {
                    title: "Packets per day by class".into(),
                    y_label: "packets".into(),
                    x_labels: dates,
                    series: class_series,
                }]
            },
        });
        // 7. Surges.
        out.push(Section {
            title: "7. Surges".into(),
            lead: "Keys whose daily packets rose at least fourfold above their own earlier level and stayed there (binary segmentation on log counts; docs/report.md). Ranked by score.".into(),
            tables: vec![Table {
                title: "Surges".into(),
                headers: hs(&["key", "began", "before/day", "after/day", "×", "score"]),
                numeric: vec![false, false, true, true, true, true],
                rows: self
                    .surges
                    .iter()
                    .map(|s| {
                        vec![
                            s.key.clone(),
                            s.start.clone(),
                            format!("{:.0}", s.before_per_day),
                            format!("{:.0}", s.after_per_day),
                            format!("{:.0}", s.ratio),
                            format!("{:.1}", s.score),
                        ]
                    })
                    .collect(),
            }],
            charts: Vec::new(),
        });
        // 8. Sensor health.
        out.push(Section {
            title: "8. Sensor health".into(),
            lead: "Live sensors (`noisefloor sensor`): packets read from the kernel and stored, and what was lost — kernel drops are packets discarded before the sensor could read them (ring or netlink buffer full), truncated ones were kept shorter than on the wire.".into(),
            tables: vec![Table {
                title: "Live sensors".into(),
                headers: hs(&[
                    "sensor", "source", "segments", "received", "stored", "kernel drops", "drop %",
                    "truncated", "decode errors", "last segment end",
                ]),
                numeric: vec![false, false, true, true, true, true, true, true, true, false],
                rows: self
                    .sensor_health
                    .iter()
                    .map(|h| {
                        let seen = h.received + h.kernel_drops;
                        vec![
                            h.sensor.clone(),
                            h.source.clone(),
                            thousands(h.segments),
                            thousands(h.received),
                            thousands(h.stored),
                            thousands(h.kernel_drops),
                            if seen > 0 {
                                format!("{:.2}", 100.0 * h.kernel_drops as f64 / seen as f64)
                            } else {
                                "0.00".into()
                            },
                            thousands(h.truncated),
                            thousands(h.decode_errors),
                            h.last_end.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            }],
            charts: Vec::new(),
        });
        if let Some(n) = self.only_section {
            let keep = usize::from(n).saturating_sub(1);
            out = out.into_iter().skip(keep).take(1).collect();
        }
        out
    }

    fn heading(&self) -> String {
        let s = &self.summary;
        let range = match (&s.first_date, &s.last_date) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "no data".into(),
        };
        let who = match (&self.scope.group, self.scope.sensors.is_empty()) {
            (Some(g), _) => format!("group {g} ({})", self.scope.sensors.join(", ")),
            (None, false) => self.scope.sensors.join(", "),
            (None, true) => "all sensors".into(),
        };
        format!(
            "{} packets ({} rows) from {} sources at {} sensor(s), {range}; {who}",
            thousands(s.packets),
            thousands(s.rows),
            thousands(s.sources),
            s.sensors
        )
    }

    pub fn text(&self) -> String {
        let mut out = format!("noisefloor report\n{}\n", self.heading());
        for s in self.sections() {
            let _ = writeln!(out, "\n══ {} ══\n{}", s.title, s.lead);
            for t in &s.tables {
                t.text(&mut out);
            }
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("# noisefloor report\n\n{}\n", self.heading());
        for s in self.sections() {
            let _ = writeln!(out, "\n## {}\n\n{}", s.title, s.lead);
            for t in &s.tables {
                t.markdown(&mut out);
            }
        }
        out
    }

    /// One self-contained HTML file: inline CSS and SVG, nothing fetched.
    pub fn html(&self) -> String {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>noisefloor report</title>\n<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}h2{margin-top:2em;border-bottom:2px solid #444}svg{max-width:100%;height:auto}</style></head><body>\n",
        );
        let _ = writeln!(
            out,
            "<h1>noisefloor report</h1>\n<p>{}</p>",
            esc(&self.heading())
        );
        for s in self.sections() {
            let _ = writeln!(out, "<h2>{}</h2>\n<p>{}</p>", esc(&s.title), esc(&s.lead));
            for c in &s.charts {
                let svg = c.svg();
                // Drop the XML prolog so the SVG can sit inside HTML.
                let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
                let _ = writeln!(out, "<figure>{svg}</figure>");
            }
            for t in &s.tables {
                t.html(&mut out);
            }
        }
        out.push_str("</body></html>\n");
        out
    }

    /// Every chart, for `--png DIR`.
    pub fn charts(&self) -> Vec<Chart> {
        self.sections().into_iter().flat_map(|s| s.charts).collect()
    }
}
