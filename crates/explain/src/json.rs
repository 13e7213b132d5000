//! `explain --json` (docs/explain-json.md) by serde: these structs are the document's
//! fields in its order. Numbers a person reads are rounded where the text rounds them (shares
//! to 4 decimals, rates to 1), so the JSON and the text agree; maps keep the report's order.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use noisefloor_logs::{LogFormat, LogStats};
use noisefloor_wire::render::write_time;

use crate::attack_text;
use crate::episodes::Attack;
use crate::explain::{Explained, RANGE_NAMES, pct, time};

/// A JSON object whose keys keep the order given (serde_json's own map sorts them).
pub(crate) struct Ordered<K, V>(pub(crate) Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Ordered<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// A share of `whole` as a fraction, to 4 decimals.
fn share(part: u64, whole: u64) -> f64 {
    round(pct(part, whole) / 100.0, 4)
}

#[derive(Serialize)]
struct Report<'a> {
    inputs: &'a [String],
    errors: &'a [String],
    packets: u64,
    bytes: u64,
    logs: Option<Logs<'a>>,
    first: Option<String>,
    last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    packets_per_day: Option<u64>,
    unique_sources: u64,
    unique_sources_exact: bool,
    per_day: Ordered<&'a str, u64>,
    protocols: Vec<Protocol<'a>>,
    role: &'a str,
    role_reason: &'a str,
    attacks: Vec<AttackJson>,
    attacks_undercount_at_most: u64,
    classes: Vec<ClassJson<'a>>,
    gre_flood: Option<Flood>,
    top_sources: Vec<Source>,
    top_sources_undercount_at_most: u64,
    actions: Vec<ActionJson<'a>>,
}

#[derive(Serialize)]
struct Logs<'a> {
    files: u64,
    lines: u64,
    records: u64,
    skipped: u64,
    rejected: u64,
    untimed: u64,
    formats: Ordered<&'static str, u64>,
    skip_reasons: Ordered<&'static str, u64>,
    reject_reasons: Ordered<&'static str, u64>,
    rejects: Vec<RejectJson<'a>>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct RejectJson<'a> {
    file: &'a str,
    line: u64,
    reason: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct Protocol<'a> {
    key: &'a str,
    packets: u64,
    share: f64,
}

#[derive(Serialize)]
struct ClassJson<'a> {
    class: &'static str,
    packets: u64,
    share: f64,
    sources: u64,
    sources_exact: bool,
    evidence: &'a str,
    verdict: &'a str,
    in_attacks: u64,
}

#[derive(Serialize)]
struct Flood {
    packets: u64,
    inner_sources: u64,
    inner_sources_exact: bool,
    inner_destinations: u64,
    inner_destinations_exact: bool,
    inner_dest_ports: u64,
    inner_source_shares: Ordered<&'static str, f64>,
    inner_destination_shares: Ordered<&'static str, f64>,
    payload_sizes: Ordered<String, u64>,
    outer_ttl_min: u8,
    outer_ttl_max: u8,
    targets: u64,
    targets_exact: bool,
    target_prefix: Option<String>,
    top_targets: Vec<Target>,
    little_endian: u64,
    big_endian: u64,
    fixed_id: u64,
}

#[derive(Serialize)]
struct Target {
    address: String,
    packets: u64,
}

#[derive(Serialize)]
struct Source {
    address: String,
    packets: u64,
    first: String,
    last: String,
    classes: Vec<&'static str>,
}

#[derive(Serialize)]
struct ActionJson<'a> {
    title: &'a str,
    text: &'a str,
    commands: Ordered<&'static str, &'a str>,
}

#[derive(Serialize)]
struct AttackJson {
    kind: &'static str,
    target: String,
    addresses: u64,
    ports: Vec<PortJson>,
    ports_distinct: u64,
    ports_exact: bool,
    service: Option<ServiceJson>,
    start: String,
    end: String,
    duration_s: f64,
    packets: u64,
    packets_exact: bool,
    bytes: u64,
    fragments: u64,
    peak_pps: f64,
    peak_pps_exact: bool,
    mean_pps: f64,
    sources: u64,
    sources_exact: bool,
    spoofed: bool,
    spoof_evidence: SpoofJson,
    prefixes_merged: u32,
    verdict: String,
}

#[derive(Serialize)]
struct PortJson {
    port: u16,
    packets: u64,
}

#[derive(Serialize)]
struct ServiceJson {
    name: &'static str,
    port: u16,
    amplification_factor: Option<u16>,
}

#[derive(Serialize)]
struct SpoofJson {
    bogon_share: f64,
    slash8s: u32,
    slash8s_if_uniform: f64,
    ttl_values: u32,
    packets_per_source: f64,
}

fn logs<'a>(l: &'a LogStats, zone: &str) -> Option<Logs<'a>> {
    if l.files == 0 {
        return None;
    }
    let by_name = |list: &[(&'static str, u64)]| {
        let mut v = list.to_vec();
        v.sort();
        Ordered(v)
    };
    let mut notes = l.assumptions.clone();
    notes.push(format!("log times without a UTC offset are read as {zone}"));
    Some(Logs {
        files: l.files,
        lines: l.lines,
        records: l.records,
        skipped: l.skipped_total(),
        rejected: l.rejected_total(),
        untimed: l.untimed,
        formats: Ordered(
            LogFormat::ALL
                .iter()
                .map(|f| (f.name(), l.by_format[f.index()]))
                .filter(|(_, n)| *n > 0)
                .collect(),
        ),
        skip_reasons: by_name(&l.skipped),
        reject_reasons: by_name(&l.rejected),
        rejects: l
            .examples
            .iter()
            .take(100)
            .map(|e| RejectJson {
                file: &e.file,
                line: e.line,
                reason: e.reason,
                text: &e.text,
            })
            .collect(),
        notes,
    })
}

/// UTC time with microseconds: attacks can last a fraction of a second.
fn time_precise(ns: i64) -> String {
    let mut s = String::new();
    write_time(&mut s, ns, 'T', 6);
    s.push('Z');
    s
}

fn attack(a: &Attack) -> AttackJson {
    AttackJson {
        kind: a.kind.name(),
        target: format!("{}/{}", a.target.0, a.target.1),
        addresses: a.addresses,
        ports: a
            .ports
            .iter()
            .map(|&(port, packets)| PortJson { port, packets })
            .collect(),
        ports_distinct: a.ports_distinct,
        ports_exact: a.ports_exact,
        service: a.service.map(|sv| ServiceJson {
            name: sv.service,
            port: sv.port,
            amplification_factor: (sv.factor > 0).then_some(sv.factor),
        }),
        start: time_precise(a.start_ns),
        end: time_precise(a.end_ns),
        duration_s: round(a.duration_s(), 3),
        packets: a.packets,
        packets_exact: a.packets_exact,
        bytes: a.bytes,
        fragments: a.fragments,
        peak_pps: round(a.peak_pps, 1),
        peak_pps_exact: a.peak_exact,
        mean_pps: round(a.mean_pps, 1),
        sources: a.sources,
        sources_exact: a.sources_exact,
        spoofed: a.spoofed,
        spoof_evidence: SpoofJson {
            bogon_share: round(a.evidence.bogon_share, 4),
            slash8s: a.evidence.slash8s,
            slash8s_if_uniform: round(a.evidence.slash8s_uniform, 1),
            ttl_values: a.evidence.ttl_values,
            packets_per_source: round(a.evidence.packets_per_source, 2),
        },
        prefixes_merged: a.merged,
        verdict: attack_text::verdict(a),
    }
}

/// The report as one JSON object (one line, no newline).
pub fn explained(e: &Explained) -> String {
    let span = e.first_ns.zip(e.last_ns);
    let report = Report {
        inputs: &e.inputs.files,
        errors: &e.inputs.errors,
        packets: e.packets,
        bytes: e.bytes,
        logs: logs(&e.inputs.logs, &e.inputs.log_zone),
        first: span.map(|(a, _)| time(a)),
        last: span.map(|(_, b)| time(b)),
        days: span.map(|_| round(e.days(), 3)),
        packets_per_day: span.map(|_| e.packets_per_day().round() as u64),
        unique_sources: e.sources,
        unique_sources_exact: e.sources_exact,
        per_day: Ordered(e.per_day.iter().map(|(d, n)| (d.as_str(), *n)).collect()),
        protocols: e
            .keys
            .iter()
            .map(|(k, n)| Protocol {
                key: k,
                packets: *n,
                share: share(*n, e.packets),
            })
            .collect(),
        role: e.role.name(),
        role_reason: &e.role_reason,
        attacks: e.attacks.iter().map(attack).collect(),
        attacks_undercount_at_most: e.episodes_dropped_at_most,
        classes: e
            .classes
            .iter()
            .map(|c| ClassJson {
                class: c.class.name(),
                packets: c.packets,
                share: share(c.packets, e.packets),
                sources: c.sources,
                sources_exact: c.sources_exact,
                evidence: &c.evidence,
                verdict: &c.verdict,
                in_attacks: c.in_attacks,
            })
            .collect(),
        gre_flood: e.flood.as_ref().map(|f| {
            let shares = |r: &[f64; 4]| {
                Ordered(
                    RANGE_NAMES
                        .iter()
                        .zip(r)
                        .map(|(n, v)| (*n, round(v / 100.0, 4)))
                        .collect(),
                )
            };
            Flood {
                packets: f.packets,
                inner_sources: f.inner_src,
                inner_sources_exact: f.inner_src_exact,
                inner_destinations: f.inner_dst,
                inner_destinations_exact: f.inner_dst_exact,
                inner_dest_ports: f.inner_dports,
                inner_source_shares: shares(&f.inner_src_ranges),
                inner_destination_shares: shares(&f.inner_dst_ranges),
                payload_sizes: Ordered(
                    f.payload_sizes
                        .iter()
                        .map(|(b, n)| (b.to_string(), *n))
                        .collect(),
                ),
                outer_ttl_min: f.ttl_min,
                outer_ttl_max: f.ttl_max,
                targets: f.targets,
                targets_exact: f.targets_exact,
                target_prefix: f.target_prefix.map(|(n, l)| format!("{n}/{l}")),
                top_targets: f
                    .top_targets
                    .iter()
                    .map(|(a, n)| Target {
                        address: a.to_string(),
                        packets: *n,
                    })
                    .collect(),
                little_endian: f.variants[0],
                big_endian: f.variants[1],
                fixed_id: f.variants[2],
            }
        }),
        top_sources: e
            .top
            .iter()
            .map(|t| Source {
                address: t.addr.to_string(),
                packets: t.packets,
                first: time(t.first_ns),
                last: time(t.last_ns),
                classes: t.classes.clone(),
            })
            .collect(),
        top_sources_undercount_at_most: e.top_dropped_at_most,
        actions: e
            .actions
            .iter()
            .map(|a| ActionJson {
                title: &a.title,
                text: &a.text,
                commands: Ordered(a.commands.iter().map(|(k, c)| (*k, c.as_str())).collect()),
            })
            .collect(),
    };
    serde_json::to_string(&report).unwrap_or_default()
}
