//! Turns a [`Triage`] into the report a person can act on: totals, protocols/ports, one
//! verdict per class, GRE flood detail, top sources and what to do. One model, three
//! renderings (text, Markdown, JSON), so they always say the same thing.

use std::fmt::Write as _;
use std::net::IpAddr;

use noisefloor_classify::{Class, Evidence, Tags};
use noisefloor_wire::render::write_time;

use noisefloor_logs::{LogFormat, LogStats};

use crate::attack_text;
use crate::episodes::{Attack, Thresholds};
use crate::triage::Triage;

/// Where the packets were seen: decides what "unsolicited" means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Unused addresses: nothing sent from them, everything arriving is unsolicited.
    Darknet,
    /// A host that talks: its own sessions are in the capture.
    Host,
    /// A firewall's deny log: only what it dropped.
    Firewall,
}
impl Role {
    /// The role's name (`darknet`, `host`, `firewall`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Darknet => "darknet",
            Role::Host => "host",
            Role::Firewall => "firewall",
        }
    }
    /// The role `--role NAME` names.
    pub fn from_name(s: &str) -> Option<Role> {
        [Role::Darknet, Role::Host, Role::Firewall]
            .into_iter()
            .find(|r| r.name() == s)
    }
}

/// Inputs as the caller saw them.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// The inputs as given.
    pub files: Vec<String>,
    /// One message per input that could not be read (or only in part).
    pub errors: Vec<String>,
    /// What the log lines among the inputs became (all zero when there were none).
    pub logs: LogStats,
    /// The zone used for log times printed without an offset.
    pub log_zone: String,
    /// `--role`, when given; otherwise inferred from the traffic.
    pub role: Option<Role>,
}

/// The log-lines paragraph: read, parsed (by format), skipped and rejected (by reason).
fn log_lines(l: &LogStats, zone: &str) -> Vec<String> {
    if l.files == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let formats: Vec<String> = LogFormat::ALL
        .iter()
        .filter(|f| l.by_format[f.index()] > 0)
        .map(|f| format!("{} {}", f.name(), int(l.by_format[f.index()])))
        .collect();
    out.push(format!(
        "Log lines: {} read in {}: {} records{}, {} skipped, {} rejected",
        int(l.lines),
        count(l.files, "file"),
        int(l.records),
        if formats.is_empty() {
            String::new()
        } else {
            format!(" ({})", formats.join(", "))
        },
        int(l.skipped_total()),
        int(l.rejected_total())
    ));
    let mut skipped = l.skipped.clone();
    skipped.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (why, n) in skipped {
        out.push(format!("  skipped {}: {why}", int(n)));
    }
    let mut rejected = l.rejected.clone();
    rejected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (why, n) in rejected {
        let first = l
            .examples
            .iter()
            .find(|e| e.reason == why)
            .map(|e| format!(" (first: {}:{})", e.file, e.line))
            .unwrap_or_default();
        out.push(format!("  rejected {}: {why}{first}", int(n)));
    }
    if l.rejected_total() > 0 {
        out.push(
            "  (--show-rejects prints the rejected lines; --strict makes them an error)".into(),
        );
    }
    for a in &l.assumptions {
        out.push(format!("  note: {a}"));
    }
    out.push(format!(
        "  note: log times without a UTC offset are read as {zone} (--tz to change)"
    ));
    if l.untimed > 0 {
        out.push(format!(
            "  note: {} records have no absolute time (dmesg without --boot-time): counted, but not per day",
            int(l.untimed)
        ));
    }
    out
}

/// `1234567` → `1,234,567`.
/// `1 packet`, `2 packets`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", int(n))
    }
}

/// A count with thousands separators (`12,345`).
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

pub(crate) fn time(ns: i64) -> String {
    let mut s = String::new();
    write_time(&mut s, ns, ' ', 0);
    s
}

fn day(d: i64) -> String {
    let mut s = String::new();
    write_time(&mut s, d * 86_400_000_000_000, ' ', 0);
    s.truncate(10);
    s
}

fn approx(n: u64, exact: bool) -> String {
    if exact {
        int(n)
    } else {
        format!("~{}", int(n))
    }
}

/// One class's line of the report.
#[derive(Clone, Debug)]
pub struct ClassLine {
    /// The class.
    pub class: Class,
    /// Its packets.
    pub packets: u64,
    /// Its distinct sources.
    pub sources: u64,
    /// Whether `sources` is exact.
    pub sources_exact: bool,
    /// An example packet's evidence plus class-wide shares.
    pub evidence: String,
    /// The plain-language conclusion.
    pub verdict: String,
    /// Packets of this class that belong to attacks (see [`Explained::attacks`]).
    pub in_attacks: u64,
}

#[derive(Clone, Debug)]
/// One of the top sources.
pub struct SourceLine {
    /// The address.
    pub addr: IpAddr,
    /// Its packets.
    pub packets: u64,
    /// Its first packet (ns since the epoch, UTC).
    pub first_ns: i64,
    /// Its last packet.
    pub last_ns: i64,
    /// The classes it sent.
    pub classes: Vec<&'static str>,
}

#[derive(Clone, Debug)]
/// The Mirai GRE flood section.
pub struct FloodSection {
    /// Mirai GRE flood packets.
    pub packets: u64,
    /// Distinct inner sources (an estimate past 4,096).
    pub inner_src: u64,
    /// Distinct inner destinations (an estimate past 4,096).
    pub inner_dst: u64,
    /// Whether `inner_src` is exact.
    pub inner_src_exact: bool,
    /// Whether `inner_dst` is exact.
    pub inner_dst_exact: bool,
    /// Shares of inner sources/destinations in 0/8, 127/8, 224/4, 240/4 (percent).
    pub inner_src_ranges: [f64; 4],
    /// Shares of inner destinations in 0/8, 127/8, 224/4, 240/4 (percent).
    pub inner_dst_ranges: [f64; 4],
    /// Distinct inner destination ports.
    pub inner_dports: u64,
    /// Inner UDP payload sizes with their packets, most first.
    pub payload_sizes: Vec<(u16, u64)>,
    /// Lowest outer TTL.
    pub ttl_min: u8,
    /// Highest outer TTL.
    pub ttl_max: u8,
    /// Outer TTLs with their packets, most first.
    pub ttl_top: Vec<(u8, u64)>,
    /// Distinct outer destinations: the flood targets.
    pub targets: u64,
    /// Whether `targets` is exact.
    pub targets_exact: bool,
    /// The smallest prefix covering the targets.
    pub target_prefix: Option<(IpAddr, u8)>,
    /// The most hit targets with their packets.
    pub top_targets: Vec<(IpAddr, u64)>,
    /// Packets per Mirai variant: little-endian, big-endian, fixed ID.
    pub variants: [u64; 3],
}

#[derive(Clone, Debug)]
/// A recommended action.
pub struct Action {
    /// What to do, in a few words.
    pub title: String,
    /// Why and how, in a paragraph.
    pub text: String,
    /// (syntax, command)
    pub commands: Vec<(&'static str, String)>,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Explained {
    /// The inputs as the caller saw them.
    pub inputs: Inputs,
    /// Packets (log records count as the packets they stand for).
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// First packet (ns since the epoch, UTC), when any had a time.
    pub first_ns: Option<i64>,
    /// Last packet.
    pub last_ns: Option<i64>,
    /// Packets per UTC day (`YYYY-MM-DD`).
    pub per_day: Vec<(String, u64)>,
    /// Distinct sources.
    pub sources: u64,
    /// Whether `sources` is exact.
    pub sources_exact: bool,
    /// The top protocol/port keys (TSUBAME notation) with their packets.
    pub keys: Vec<(String, u64)>,
    /// One line per class seen.
    pub classes: Vec<ClassLine>,
    /// The Mirai GRE flood section, when there were floods.
    pub flood: Option<FloodSection>,
    /// The top sources.
    pub top: Vec<SourceLine>,
    /// The most a top source's count may be low by (0: exact).
    pub top_dropped_at_most: u64,
    /// What to do, most important first.
    pub actions: Vec<Action>,
    /// Episodes judged attacks on the capture's owner, largest first.
    pub attacks: Vec<Attack>,
    /// Where the packets were seen.
    pub role: Role,
    /// Why that role: given, or what it was inferred from.
    pub role_reason: String,
    /// Most packets one destination could have lost from the episodes to bound memory.
    pub episodes_dropped_at_most: u64,
}

pub(crate) const RANGE_NAMES: [&str; 4] = ["0/8", "127/8", "224/4", "240/4"];

fn class_names(bits: u16) -> Vec<&'static str> {
    Class::ALL
        .iter()
        .filter(|c| bits & (1 << c.index()) != 0)
        .map(|c| c.name())
        .collect()
}

fn tag_share(t: &Triage, c: Class, tag: Tags) -> f64 {
    let s = t.class(c);
    pct(s.tags[tag.0.trailing_zeros() as usize], s.packets)
}

fn top_ports(t: &Triage, c: Class, n: usize) -> Vec<(u16, u64)> {
    let mut v: Vec<(u16, u64)> = t.class(c).ports.iter().collect();
    let order = |a: &(u16, u64), b: &(u16, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    // Up to 65,536 ports for the few shown: select them, then sort only those.
    if n < v.len() {
        v.select_nth_unstable_by(n, order);
        v.truncate(n);
    }
    v.sort_unstable_by(order);
    v
}

fn verdict(t: &Triage, c: Class) -> String {
    let s = t.class(c);
    let (n, src) = (
        int(s.packets),
        // An estimate never says more sources than the packets it counted.
        approx(s.sources.count().min(s.packets), s.sources.is_exact()),
    );
    match c {
        Class::MiraiGreIp | Class::MiraiGreEth => {
            let kind = if c == Class::MiraiGreIp {
                "GRE-IP"
            } else {
                "GRE-ETH"
            };
            let [le, be, fixed] = s.variants;
            format!(
                "{n} GRE packets from {src} sources are Mirai {kind} flood packets: every one satisfies Mirai's inner/outer IP-ID relation \
                 (a chance match is 1 in 65,536 per packet) — {} from little-endian bots, {} from big-endian bots, {} with a fixed ID. \
                 These are flood packets sent directly by infected devices (the outer sources), not backscatter: backscatter would be \
                 replies (SYN-ACK, RST, ICMP errors) from victims. The inner addresses and ports are random filler; the target is the \
                 outer destination.",
                int(le),
                int(be),
                int(fixed)
            )
        }
        Class::Backscatter => {
            let victims = s.victims.top(3);
            let names: Vec<String> = victims
                .iter()
                .map(|(a, v)| {
                    if v.packets == 1 {
                        format!("{a} (1 reply)")
                    } else {
                        format!("{a} ({} replies)", int(v.packets))
                    }
                })
                .collect();
            let kinds: Vec<String> = s
                .reasons
                .sorted()
                .iter()
                .map(|(k, v)| format!("{} {k}", int(*v)))
                .collect();
            format!(
                "{n} packets from {src} sources are backscatter: replies ({}) to packets that carried your addresses as forged \
                 sources. Someone attacked these hosts while spoofing addresses in your space; you are not the target and need not \
                 reply. Most affected victims: {}.",
                kinds.join(", "),
                if names.is_empty() {
                    "none recorded".into()
                } else {
                    names.join(", ")
                }
            )
        }
        Class::MiraiScan => {
            let ports: Vec<String> = top_ports(t, c, 4)
                .iter()
                .map(|(p, _)| p.to_string())
                .collect();
            format!(
                "{n} TCP SYNs from {src} sources come from Mirai-family scanners: each sequence number equals the destination address. \
                 Infected devices are looking for more devices to infect (ports {}).",
                ports.join(", ")
            )
        }
        Class::Zmap => format!(
            "{n} probes from {src} sources carry IP ID 54321, ZMap's signature: Internet-wide scans (research projects or attackers mapping services)."
        ),
        Class::Masscan => format!(
            "{n} SYNs from {src} sources carry masscan's IP ID (destination ^ port ^ sequence): fast Internet-wide port scans."
        ),
        Class::GreOther => {
            let reasons: Vec<String> = s
                .reasons
                .sorted()
                .iter()
                .map(|(k, v)| format!("{} {k}", int(*v)))
                .collect();
            format!(
                "{n} GRE packets from {src} sources are not Mirai floods ({}). PPTP, ERSPAN and keyed GRE are tunnels someone \
                 configured — check whether they are yours before blocking GRE.",
                reasons.join(", ")
            )
        }
        Class::GreUnverified => {
            let sized = s.tags[Tags::MIRAI_SIZE.0.trailing_zeros() as usize];
            let tunnels = t.gre_log_pairs.tunnels();
            let tunnel_text = if tunnels.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = tunnels
                    .iter()
                    .take(3)
                    .map(|((a, b), p)| format!("{a} → {b} ({} packets)", int(p.packets)))
                    .collect();
                format!(
                    " {} look like tunnel sessions, not floods: one peer sending a series whose IP IDs count up \
                     (one host numbering its packets; Mirai's IDs are random): {}. Check whether these are GRE or \
                     PPTP tunnels of yours before dropping GRE.",
                    count(tunnels.len() as u64, "peer pair"),
                    list.join(", ")
                )
            };
            let base = format!(
                "{n} GRE packets from {src} sources were reported by firewall logs. A log line does not carry the GRE payload, \
                 so Mirai's IP-ID relation cannot be checked here; {} ({:.1}%) have exactly the length of a Mirai GRE flood \
                 packet (564 or 578 bytes with Mirai's default 512-byte payload). Unsolicited GRE from many sources at that size is \
                 the Mirai GRE flood seen in the seeds. To confirm, capture some: tcpdump -i IFACE -w gre.pcap 'ip proto 47', \
                 then run noisefloor explain gre.pcap.",
                int(sized),
                pct(sized, s.packets)
            );
            base + &tunnel_text
        }
        Class::ScanTcp | Class::ScanUdp | Class::ScanIcmp => {
            // Only ports that stand out (≥ 2 packets and ≥ 1 % of the class): a full-port scan
            // has none.
            let ports: Vec<String> = top_ports(t, c, 5)
                .iter()
                .filter(|(_, k)| *k >= 2 && *k * 100 >= s.packets)
                .map(|(p, k)| match c {
                    Class::ScanTcp => format!(
                        "{p}/TCP {} ({})",
                        noisefloor_classify::tcp_service(*p),
                        int(*k)
                    ),
                    Class::ScanUdp => format!(
                        "{p}/UDP {} ({})",
                        noisefloor_classify::udp_service(*p),
                        int(*k)
                    ),
                    _ => format!("type {p} ({})", int(*k)),
                })
                .collect();
            let what = match c {
                Class::ScanTcp => "TCP SYN scans",
                Class::ScanUdp => "UDP probes",
                _ => "ICMP probes",
            };
            if ports.is_empty() || c == Class::ScanIcmp {
                let spread = if c == Class::ScanIcmp {
                    String::new()
                } else {
                    format!(
                        " No port stands out ({} distinct ports).",
                        int(s.ports.len() as u64)
                    )
                };
                format!(
                    "{n} packets from {src} sources are {what}: hosts looking for reachable services.{spread}"
                )
            } else {
                format!(
                    "{n} packets from {src} sources are {what}: hosts looking for reachable services; most probed: {}.",
                    ports.join(", ")
                )
            }
        }
        Class::Fragment => format!(
            "{n} packets are non-first IP fragments: the rest of larger packets, whose first fragment carries the headers."
        ),
        Class::Other => format!(
            "{n} packets from {src} sources fit no scan, flood or backscatter pattern (see the evidence for what they are)."
        ),
    }
}

/// Whether the packets come from a darknet, a host or a firewall log: given, or inferred.
fn infer_role(t: &Triage, given: Option<Role>) -> (Role, String) {
    if let Some(r) = given {
        return (r, "given with --role".into());
    }
    if t.packets > 0 && t.from_logs == t.packets {
        return (
            Role::Firewall,
            "inferred: every record is a firewall log line (--role to override)".into(),
        );
    }
    // A darknet never answers, so it never has a session with data in it.
    if t.tcp_data >= 10 && t.tcp_data * 1000 >= t.packets {
        return (
            Role::Host,
            format!(
                "inferred: {} TCP segments carry session data (ACK with payload), which only a host that talks has (--role to override)",
                int(t.tcp_data)
            ),
        );
    }
    (
        Role::Darknet,
        "inferred: only unsolicited traffic, no sessions (--role host|firewall to override)".into(),
    )
}

/// The class verdict, told apart from the packets that belong to attacks.
fn class_verdict(t: &Triage, c: Class, in_attacks: u64, attacks: &[Attack]) -> String {
    let base = verdict(t, c);
    if in_attacks == 0 {
        return base;
    }
    let packets = t.class(c).packets;
    let names: Vec<String> = attacks
        .iter()
        .filter(|a| a.classes[c.index()] > 0)
        .take(3)
        .map(attack_text::title)
        .collect();
    let what = names.join("; ");
    // A Mirai GRE flood packet in a gre-flood is what its class says: the episode adds
    // the target and the rate, and whether the outer sources are forged.
    if c.is_mirai_gre() {
        let spoofed = attacks
            .iter()
            .any(|a| a.classes[c.index()] > 0 && a.spoofed);
        return format!(
            "{} of these packets form the attack(s) above ({what}). {base}{}",
            int(in_attacks.min(packets)),
            if spoofed {
                " The flood's outer sources look forged (uniformly random, one or two packets each): they are not \
                 necessarily the infected devices."
            } else {
                ""
            }
        );
    }
    if in_attacks * 100 >= packets * 99 {
        format!(
            "{} of these {} packets belong to the attack(s) above ({what}): judged by rate and concentration on one target, they are not {}.",
            int(in_attacks.min(packets)),
            int(packets),
            match c {
                Class::Backscatter => "backscatter of someone else's attack",
                Class::ScanTcp | Class::ScanUdp | Class::ScanIcmp => "scans",
                _ => "what their per-packet shape alone suggests",
            }
        )
    } else {
        format!(
            "{} of these packets belong to the attack(s) above ({what}). The rest: {base}",
            int(in_attacks)
        )
    }
}

fn evidence_line(t: &Triage, c: Class) -> String {
    let s = t.class(c);
    let mut e = String::new();
    if let Some(v) = &s.example {
        e.push_str("e.g. ");
        v.describe(&mut e);
    }
    if c.is_mirai_gre() {
        let _ = write!(
            e,
            "; DF on outer {:.0}% / inner {:.0}%, inner TTL 64 {:.0}%, payload 0 B {:.0}% / 512 B {:.0}%",
            tag_share(t, c, Tags::DF_OUTER),
            tag_share(t, c, Tags::DF_INNER),
            tag_share(t, c, Tags::INNER_TTL_64),
            tag_share(t, c, Tags::PAYLOAD_0),
            tag_share(t, c, Tags::PAYLOAD_512)
        );
    }
    if matches!(
        s.example.map(|v| v.evidence),
        Some(Evidence::Backscatter { .. })
    ) {
        let _ = write!(
            e,
            "; {} distinct victims",
            approx(
                s.victim_count.count().min(s.packets),
                s.victim_count.is_exact()
            )
        );
    }
    e
}

fn common_prefix(min: u32, max: u32) -> (IpAddr, u8) {
    let len = (min ^ max).leading_zeros().min(32) as u8;
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    };
    (IpAddr::from((min & mask).to_be_bytes()), len)
}

impl Explained {
    /// The report of a finished [`Triage`].
    pub fn new(t: &Triage, inputs: Inputs) -> Self {
        let packets = t.packets;
        let (role, role_reason) = infer_role(t, inputs.role);
        let attacks = t
            .episodes
            .attacks(&Thresholds::default(), role == Role::Host);
        let mut in_attacks = [0u64; 13];
        for a in &attacks {
            for (x, n) in in_attacks.iter_mut().zip(a.classes) {
                *x += n;
            }
        }
        let classes: Vec<ClassLine> = Class::ALL
            .iter()
            .filter(|c| t.class(**c).packets > 0)
            .map(|&c| {
                let s = t.class(c);
                ClassLine {
                    class: c,
                    packets: s.packets,
                    sources: s.sources.count().min(s.packets),
                    sources_exact: s.sources.is_exact(),
                    evidence: evidence_line(t, c),
                    verdict: class_verdict(t, c, in_attacks[c.index()], &attacks),
                    in_attacks: in_attacks[c.index()].min(s.packets),
                }
            })
            .collect();
        let f = &t.flood;
        let flood = (f.packets > 0).then(|| {
            let mut ttl: Vec<(u8, u64)> = (0..=255u8)
                .map(|i| (i, f.outer_ttl[i as usize]))
                .filter(|x| x.1 > 0)
                .collect();
            let ttl_min = ttl.first().map_or(0, |x| x.0);
            let ttl_max = ttl.last().map_or(0, |x| x.0);
            ttl.sort_by_key(|x| std::cmp::Reverse(x.1));
            ttl.truncate(5);
            let mut sizes: Vec<(u16, u64)> = f.payload_sizes.iter().collect();
            sizes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            sizes.truncate(5);
            let variants =
                [Class::MiraiGreIp, Class::MiraiGreEth]
                    .iter()
                    .fold([0u64; 3], |mut a, c| {
                        for (x, v) in a.iter_mut().zip(t.class(*c).variants) {
                            *x += v;
                        }
                        a
                    });
            FloodSection {
                packets: f.packets,
                // An estimate cannot exceed the packets it counts.
                inner_src: f.inner_src.count().min(f.packets),
                inner_dst: f.inner_dst.count().min(f.packets),
                inner_src_exact: f.inner_src.is_exact(),
                inner_dst_exact: f.inner_dst.is_exact(),
                inner_src_ranges: f.inner_src_ranges.map(|n| pct(n, f.packets)),
                inner_dst_ranges: f.inner_dst_ranges.map(|n| pct(n, f.packets)),
                inner_dports: f.inner_dports.iter().map(|w| w.count_ones() as u64).sum(),
                payload_sizes: sizes,
                ttl_min,
                ttl_max,
                ttl_top: ttl,
                targets: f.target_count.count().min(f.packets),
                targets_exact: f.target_count.is_exact(),
                target_prefix: (f.target_min <= f.target_max)
                    .then(|| common_prefix(f.target_min, f.target_max)),
                top_targets: f
                    .targets
                    .top(5)
                    .into_iter()
                    .map(|(a, s)| (a, s.packets))
                    .collect(),
                variants,
            }
        });
        let top = t
            .top
            .top(10)
            .into_iter()
            .map(|(addr, s)| SourceLine {
                addr,
                packets: s.packets,
                first_ns: s.first_ns,
                last_ns: s.last_ns,
                classes: class_names(s.classes),
            })
            .collect();
        let mut e = Explained {
            inputs,
            packets,
            bytes: t.bytes,
            // Untimed log records count as packets but give no time.
            first_ns: (t.first_ns <= t.last_ns).then_some(t.first_ns),
            last_ns: (t.first_ns <= t.last_ns).then_some(t.last_ns),
            per_day: t.per_day.iter().map(|(d, n)| (day(*d), *n)).collect(),
            sources: t.sources.count().min(t.packets),
            sources_exact: t.sources.is_exact(),
            keys: t
                .top_keys(10)
                .into_iter()
                .map(|(k, n)| (k.label(), n))
                .collect(),
            classes,
            flood,
            top,
            top_dropped_at_most: t.top.undercount_at_most,
            actions: Vec::new(),
            attacks,
            role,
            role_reason,
            episodes_dropped_at_most: t.episodes.dropped_packets,
        };
        e.actions = actions(t, &e);
        e
    }

    /// The span in days (at least an hour's worth).
    pub fn days(&self) -> f64 {
        match (self.first_ns, self.last_ns) {
            (Some(a), Some(b)) => ((b - a) as f64 / 86_400e9).max(1.0 / 24.0),
            _ => 0.0,
        }
    }

    /// The span's length and rate: per second below a day (a 0.15-second capture is not
    /// "8,000 packets per day"), per day over days.
    pub fn rate_text(&self) -> String {
        let span_s = match (self.first_ns, self.last_ns) {
            (Some(a), Some(b)) => (b as i128 - a as i128) as f64 / 1e9,
            _ => return String::new(),
        };
        if span_s < 86_400.0 {
            let per_s = if span_s > 0.0 {
                format!(
                    "{} packets/s",
                    attack_text::rate(self.packets as f64 / span_s)
                )
            } else {
                "all at one instant".to_string()
            };
            format!("{} long, {per_s}", attack_text::duration(span_s))
        } else {
            format!(
                "{} per day on average over {}",
                count(self.packets_per_day().round() as u64, "packet"),
                count(self.per_day.len() as u64, "calendar day")
            )
        }
    }

    /// Average over the UTC calendar days the capture touches (never extrapolated).
    pub fn packets_per_day(&self) -> f64 {
        self.packets as f64 / self.per_day.len().max(1) as f64
    }
}

fn actions(t: &Triage, e: &Explained) -> Vec<Action> {
    let mut out: Vec<Action> = e.attacks.iter().take(5).map(attack_text::action).collect();
    let in_attacks = |c: Class| {
        e.classes
            .iter()
            .find(|l| l.class == c)
            .map_or(0, |l| l.in_attacks)
    };
    let mirai = t.class(Class::MiraiGreIp).packets + t.class(Class::MiraiGreEth).packets;
    let other_gre = t.class(Class::GreOther);
    let logged_gre = t.class(Class::GreUnverified).packets;
    let gre_total = mirai + other_gre.packets + logged_gre;
    if gre_total > 0 {
        let tunnels = ["pptp", "erspan", "keyed", "keepalive", "routed-tunnel"]
            .iter()
            .map(|k| other_gre.reasons.get(k).unwrap_or(0))
            .sum::<u64>();
        let captured_gre = mirai + other_gre.packets;
        let safe = if captured_gre == 0 {
            "These GRE packets come from firewall logs, which do not show the GRE header: whether any is a tunnel you \
             use cannot be told from here. Check that you terminate no GRE or PPTP tunnels (and receive no GRE from a \
             DDoS-protection service) before dropping GRE, or capture some to check: tcpdump -i IFACE -w gre.pcap 'ip proto 47'."
                .to_string()
        } else if tunnels == 0 {
            "None of the GRE seen here looks like a tunnel (no PPTP, ERSPAN, keyed or routed GRE), so dropping GRE is safe unless you \
             terminate GRE or PPTP tunnels, or receive GRE from a DDoS-protection service."
                .to_string()
        } else {
            format!(
                "{} GRE packets look like real tunnels (PPTP, ERSPAN, keyed or routed GRE): if any are yours, allow their endpoints \
                 before the drop rule. Otherwise dropping GRE is safe.",
                int(tunnels)
            )
        };
        out.push(Action {
            title: "Drop unsolicited GRE (IP protocol 47)".into(),
            text: format!(
                "{} of {} packets were GRE. Mirai GRE floods need no answer and -j DROP is the right reaction: do not reply or \
                 reject (that would only add traffic). {safe}",
                int(gre_total),
                int(t.packets)
            ),
            commands: vec![
                ("iptables", "iptables -A INPUT -p gre -j DROP\nip6tables -A INPUT -p gre -j DROP".into()),
                ("nftables", "nft add rule inet filter input meta l4proto gre drop".into()),
                ("Cisco ACL", "access-list 147 deny gre any any\naccess-list 147 permit ip any any".into()),
            ],
        });
    }
    // Forged sources are not devices: never listed as infected (bogons never; and none at
    // all when the GRE flood's outer sources were found to be spoofed).
    let gre_spoofed = e
        .attacks
        .iter()
        .any(|a| a.kind == noisefloor_classify::AttackKind::GreFlood && a.spoofed);
    let bad: Vec<&SourceLine> = e
        .top
        .iter()
        .filter(|s| !gre_spoofed && s.classes.iter().any(|c| c.starts_with("mirai")))
        .filter(|s| match s.addr {
            IpAddr::V4(a) => !crate::episodes::is_bogon_source_v4(u32::from(a)),
            IpAddr::V6(_) => true,
        })
        .take(5)
        .collect();
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(|s| s.addr.to_string()).collect();
        let (v4, v6): (Vec<&String>, Vec<&String>) = list.iter().partition(|a| !a.contains(':'));
        let mut ipt = String::new();
        for a in &v4 {
            let _ = writeln!(ipt, "iptables -A INPUT -s {a} -j DROP");
        }
        for a in &v6 {
            let _ = writeln!(ipt, "ip6tables -A INPUT -s {a} -j DROP");
        }
        let mut acl = String::new();
        for a in &v4 {
            let _ = writeln!(acl, "access-list 148 deny ip host {a} any");
        }
        acl.push_str("access-list 148 permit ip any any");
        out.push(Action {
            title: "Report the infected devices".into(),
            text: format!(
                "The heaviest Mirai sources ({}) are infected devices (often IP cameras and DVRs). Tell their networks' abuse \
                 contacts (whois); blocking them individually adds little once GRE is dropped.",
                list.join(", ")
            ),
            commands: vec![
                ("iptables", ipt.trim_end().to_string()),
                ("nftables", format!("nft add element inet filter blocked {{ {} }}", list.join(", "))),
                ("Cisco ACL", acl),
            ],
        });
    }
    // Backscatter that is mostly an attack's replies is not "nothing to block".
    let backscatter = t.class(Class::Backscatter).packets;
    if backscatter > 0 && in_attacks(Class::Backscatter) * 2 < backscatter {
        out.push(Action {
            title: "Backscatter: nothing to block".into(),
            text: "Backscatter is the echo of someone else's attack with forged sources from your space. It stops when that attack \
                   stops; dropping it is harmless, answering it is not needed."
                .into(),
            commands: Vec::new(),
        });
    }
    let scans: u64 = [
        Class::MiraiScan,
        Class::Zmap,
        Class::Masscan,
        Class::ScanTcp,
        Class::ScanUdp,
    ]
    .iter()
    .map(|c| t.class(*c).packets.saturating_sub(in_attacks(*c)))
    .sum();
    // A handful of SYNs left beside a flood is nothing to act on.
    if scans >= 10 || (scans > 0 && e.attacks.is_empty()) {
        let mut ports: Vec<(String, u64)> = Vec::new();
        for c in [Class::MiraiScan, Class::Masscan, Class::ScanTcp] {
            for (p, n) in top_ports(t, c, 5) {
                ports.push((format!("{p}/TCP"), n));
            }
        }
        for (p, n) in top_ports(t, Class::ScanUdp, 5) {
            ports.push((format!("{p}/UDP"), n));
        }
        ports.sort_by_key(|x| std::cmp::Reverse(x.1));
        ports.dedup_by(|a, b| a.0 == b.0);
        let list: Vec<String> = ports.iter().take(6).map(|p| p.0.clone()).collect();
        out.push(Action {
            title: "Scans: keep the probed services closed".into(),
            text: format!("{} scan packets. Make sure the most probed services are not reachable from the Internet: {}.", int(scans), list.join(", ")),
            commands: Vec::new(),
        });
    }
    out
}

impl Explained {
    /// The report as text for a terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "noisefloor explain: {}, {}, {}",
            count(self.packets, "packet"),
            count(self.bytes, "byte"),
            count(self.inputs.files.len() as u64, "input")
        );
        if let (Some(a), Some(b)) = (self.first_ns, self.last_ns) {
            let _ = writeln!(
                s,
                "Time span: {} .. {} UTC, {}",
                time(a),
                time(b),
                self.rate_text()
            );
        }
        let _ = writeln!(
            s,
            "Unique sources: {}{}",
            approx(self.sources, self.sources_exact),
            if self.sources_exact {
                ""
            } else {
                " (estimated: HyperLogLog, ±1.6 % typical error; every ~ in this report is such an estimate)"
            }
        );
        for l in log_lines(&self.inputs.logs, &self.inputs.log_zone) {
            let _ = writeln!(s, "{l}");
        }
        if self.per_day.len() > 1 {
            s.push_str("Packets per day:");
            for (d, n) in self.per_day.iter().take(31) {
                let _ = write!(s, " {d} {}", int(*n));
                s.push(';');
            }
            s.push('\n');
        }
        s.push_str("\nWhat arrived (protocol/port, TSUBAME notation)\n");
        for (i, (k, n)) in self.keys.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:>2}. {:<14} {:>14}  {:>5.1}%",
                i + 1,
                k,
                int(*n),
                pct(*n, self.packets)
            );
        }
        let _ = writeln!(s, "Seen as: {} ({})", self.role.name(), self.role_reason);
        if !self.attacks.is_empty() {
            s.push_str("\nAttacks on you (decided from each episode's rate and concentration)\n");
            for a in &self.attacks {
                let _ = writeln!(
                    s,
                    "\n  {} — {} .. {} UTC\n    {}",
                    attack_text::title(a),
                    time(a.start_ns),
                    time(a.end_ns),
                    attack_text::verdict(a)
                );
            }
        }
        s.push_str("\nWhy: one verdict per class\n");
        for c in &self.classes {
            let _ = writeln!(
                s,
                "\n  {} — {} ({:.1}%), {} {}",
                c.class.name(),
                count(c.packets, "packet"),
                pct(c.packets, self.packets),
                approx(c.sources, c.sources_exact),
                if c.sources == 1 { "source" } else { "sources" }
            );
            let _ = writeln!(s, "    evidence: {}", c.evidence);
            let _ = writeln!(s, "    verdict:  {}", c.verdict);
        }
        if let Some(f) = &self.flood {
            s.push_str("\nMirai GRE floods in detail\n");
            let ranges = |r: &[f64; 4]| {
                RANGE_NAMES
                    .iter()
                    .zip(r)
                    .map(|(n, p)| format!("{p:.1}% in {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                s,
                "  inner sources:       {} distinct; {}",
                approx(f.inner_src, f.inner_src_exact),
                ranges(&f.inner_src_ranges)
            );
            let _ = writeln!(
                s,
                "  inner destinations:  {} distinct; {}",
                approx(f.inner_dst, f.inner_dst_exact),
                ranges(&f.inner_dst_ranges)
            );
            let _ = writeln!(
                s,
                "  inner dest. ports:   {} distinct (random: Mirai fills them in)",
                int(f.inner_dports)
            );
            let sizes: Vec<String> = f
                .payload_sizes
                .iter()
                .map(|(b, n)| format!("{b} B {:.1}%", pct(*n, f.packets)))
                .collect();
            let _ = writeln!(s, "  UDP payload sizes:   {}", sizes.join(", "));
            let ttls: Vec<String> = f
                .ttl_top
                .iter()
                .map(|(t, n)| format!("{t} ({:.1}%)", pct(*n, f.packets)))
                .collect();
            let _ = writeln!(
                s,
                "  outer TTL:           {}..{}, most common {}",
                f.ttl_min,
                f.ttl_max,
                ttls.join(", ")
            );
            let _ = write!(
                s,
                "  flood targets:       {} outer destination(s)",
                approx(f.targets, f.targets_exact)
            );
            if let Some((net, len)) = f.target_prefix
                && f.targets > 1
            {
                let _ = write!(s, " within {net}/{len}");
            }
            s.push('\n');
            for (a, n) in &f.top_targets {
                let _ = writeln!(
                    s,
                    "    {a:<40} {:>12}  {:>5.1}%",
                    int(*n),
                    pct(*n, f.packets)
                );
            }
            let _ = writeln!(
                s,
                "  bots by byte order:  {} little-endian, {} big-endian, {} fixed ID",
                int(f.variants[0]),
                int(f.variants[1]),
                int(f.variants[2])
            );
        }
        if !self.top.is_empty() {
            s.push_str("\nTop sources\n");
            let _ = writeln!(
                s,
                "  {:<40} {:>12}  {:<19}  {:<19}  classes",
                "source", "packets", "first seen (UTC)", "last seen (UTC)"
            );
            for t in &self.top {
                let _ = writeln!(
                    s,
                    "  {:<40} {:>12}  {:<19}  {:<19}  {}",
                    t.addr.to_string(),
                    int(t.packets),
                    time(t.first_ns),
                    time(t.last_ns),
                    t.classes.join(", ")
                );
            }
            if self.top_dropped_at_most > 0 {
                let _ = writeln!(
                    s,
                    "  (bounded table: counts may be low by at most {} packets)",
                    int(self.top_dropped_at_most)
                );
            }
        }
        if !self.actions.is_empty() {
            s.push_str("\nWhat to do\n");
            for a in &self.actions {
                let _ = writeln!(s, "\n  * {}\n    {}", a.title, a.text);
                for (syntax, cmd) in &a.commands {
                    let _ = writeln!(s, "    {syntax}:");
                    for l in cmd.lines() {
                        let _ = writeln!(s, "      {l}");
                    }
                }
            }
        }
        for err in &self.inputs.errors {
            let _ = writeln!(s, "\nerror: {err}");
        }
        s
    }

    /// The report as Markdown (tickets, wikis).
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# noisefloor explain\n");
        let _ = writeln!(
            s,
            "- Packets: {} ({} bytes) from {} input(s)",
            int(self.packets),
            int(self.bytes),
            self.inputs.files.len()
        );
        if let (Some(a), Some(b)) = (self.first_ns, self.last_ns) {
            let _ = writeln!(
                s,
                "- Time span: {} .. {} UTC, {}",
                time(a),
                time(b),
                self.rate_text()
            );
        }
        for l in log_lines(&self.inputs.logs, &self.inputs.log_zone) {
            let _ = writeln!(s, "- {}", l.trim_start());
        }
        let _ = writeln!(
            s,
            "- Unique sources: {}\n",
            approx(self.sources, self.sources_exact)
        );
        s.push_str(
            "## What arrived\n\n| rank | protocol/port | packets | share |\n|---|---|---|---|\n",
        );
        for (i, (k, n)) in self.keys.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {} | {k} | {} | {:.1}% |",
                i + 1,
                int(*n),
                pct(*n, self.packets)
            );
        }
        let _ = writeln!(s, "\nSeen as: {} ({})", self.role.name(), self.role_reason);
        if !self.attacks.is_empty() {
            s.push_str("\n## Attacks on you\n");
            for a in &self.attacks {
                let _ = writeln!(
                    s,
                    "\n### {}\n\n{} .. {} UTC. {}",
                    attack_text::title(a),
                    time(a.start_ns),
                    time(a.end_ns),
                    attack_text::verdict(a)
                );
            }
        }
        s.push_str("\n## Why\n\n| class | packets | share | sources |\n|---|---|---|---|\n");
        for c in &self.classes {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1}% | {} |",
                c.class.name(),
                int(c.packets),
                pct(c.packets, self.packets),
                approx(c.sources, c.sources_exact)
            );
        }
        for c in &self.classes {
            let _ = writeln!(
                s,
                "\n### {}\n\n{}\n\nEvidence: {}",
                c.class.name(),
                c.verdict,
                c.evidence
            );
        }
        if let Some(f) = &self.flood {
            s.push_str("\n## Mirai GRE floods in detail\n\n");
            let _ = writeln!(
                s,
                "- Inner sources: {} distinct; inner destinations {}; inner destination ports {}",
                approx(f.inner_src, f.inner_src_exact),
                approx(f.inner_dst, f.inner_dst_exact),
                int(f.inner_dports)
            );
            for (i, n) in RANGE_NAMES.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "- Inner addresses in {n}: sources {:.1}%, destinations {:.1}%",
                    f.inner_src_ranges[i], f.inner_dst_ranges[i]
                );
            }
            let sizes: Vec<String> = f
                .payload_sizes
                .iter()
                .map(|(b, n)| format!("{b} B {:.1}%", pct(*n, f.packets)))
                .collect();
            let _ = writeln!(s, "- UDP payload sizes: {}", sizes.join(", "));
            let _ = writeln!(s, "- Outer TTL {}..{}", f.ttl_min, f.ttl_max);
            let _ = writeln!(
                s,
                "- Flood targets: {}{}",
                approx(f.targets, f.targets_exact),
                f.target_prefix
                    .filter(|_| f.targets > 1)
                    .map(|(n, l)| format!(" within {n}/{l}"))
                    .unwrap_or_default()
            );
        }
        if !self.top.is_empty() {
            s.push_str("\n## Top sources\n\n| source | packets | first seen (UTC) | last seen (UTC) | classes |\n|---|---|---|---|---|\n");
            for t in &self.top {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    t.addr,
                    int(t.packets),
                    time(t.first_ns),
                    time(t.last_ns),
                    t.classes.join(", ")
                );
            }
        }
        if !self.actions.is_empty() {
            s.push_str("\n## What to do\n");
            for a in &self.actions {
                let _ = writeln!(s, "\n### {}\n\n{}", a.title, a.text);
                for (syntax, cmd) in &a.commands {
                    let _ = writeln!(s, "\n{syntax}:\n\n```\n{cmd}\n```");
                }
            }
        }
        for err in &self.inputs.errors {
            let _ = writeln!(s, "\n> error: {err}");
        }
        s
    }

    /// The report as JSON (docs/explain-json.md), one line.
    pub fn json(&self) -> String {
        crate::json::explained(self)
    }
}
