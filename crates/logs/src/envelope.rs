//! The part of a line around the firewall's message: syslog (RFC 3164 and RFC 5424, with or
//! without `<PRI>`), rsyslog's RFC 3339 file format and journald `short-iso`, journald
//! `-o json` and `-o export`, `dmesg` (seconds since boot) and Proxmox's firewall log. A line
//! with none of these is "bare": the whole line is the message (ASA messages without a
//! syslog header, Windows, DShield, Palo Alto files).

use super::time::{self, Civil, Stamp, ZoneCache};
use super::{LogOptions, parse_ip};
use crate::context::FileContext;

/// A line split into its envelope and message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// When the envelope says the line was written (ns since the epoch, UTC).
    pub ts_ns: Option<i64>,
    /// The host that wrote it (syslog's host name).
    pub host: Option<&'a str>,
    /// The program that wrote it (syslog's tag, `kernel`, `filterlog`).
    pub program: Option<&'a str>,
    /// What follows the envelope: the part a firewall parser reads.
    pub message: &'a str,
    /// RFC 5424 structured data (`[id k="v" ...]`), when present.
    pub structured: Option<&'a str>,
    /// No envelope was recognised.
    pub bare: bool,
    /// The time had no year, and one was assumed.
    pub assumed_year: bool,
    /// A rule or chain name the envelope carried (Proxmox).
    pub rule: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    /// A message with no envelope around it, as the vendor parsers' tests give them one.
    #[cfg(test)]
    pub(crate) fn bare(message: &'a str) -> Self {
        Envelope {
            message,
            bare: true,
            ..Envelope::default()
        }
    }

    /// A syslog-like line: another program's message here is skipped, not rejected.
    pub fn is_syslog(&self) -> bool {
        !self.bare
    }
}

pub(crate) enum Parsed<'a> {
    Line(Envelope<'a>),
    Meta,
    Bad(&'static str),
}

/// State of journald's `-o export` format: records of `KEY=value` lines separated by
/// blank lines; the time comes before the message.
#[derive(Clone, Debug, Default)]
pub struct JournalExport {
    pub active: bool,
    ts_ns: Option<i64>,
}
impl JournalExport {
    pub fn reset(&mut self) {
        self.ts_ns = None;
    }
}

pub(crate) fn parse<'s>(
    text: &'s str,
    file: &FileContext,
    opts: &LogOptions,
    zone: &mut ZoneCache,
    journal: &mut JournalExport,
    scratch: &'s mut String,
) -> Parsed<'s> {
    let b = text.as_bytes();
    if b[0] == b'{' {
        return journal_json(text, scratch);
    }
    if file.journal_export || journal.active {
        if let Some(p) = journal_export(text, journal) {
            return p;
        }
    } else if text.starts_with("__CURSOR=") || text.starts_with("__REALTIME_TIMESTAMP=") {
        journal.active = true;
        if let Some(p) = journal_export(text, journal) {
            return p;
        }
    }
    // <PRI>
    let mut rest = text;
    if b[0] == b'<' {
        let (pri, n) = time::digits(&b[1..], 3);
        if n > 0 && b.get(1 + n) == Some(&b'>') && pri <= 191 {
            rest = &text[n + 2..];
        }
    }
    let rb = rest.as_bytes();
    // RFC 5424: "1 " then an RFC 3339 time.
    if let Some(after) = rest.strip_prefix("1 ")
        && let Some(iso) = time::parse_iso_checked(after.as_bytes())
    {
        return match iso {
            Ok((stamp, n)) => Parsed::Line(rfc5424(&after[n..], stamp, zone)),
            Err(why) => Parsed::Bad(impossible(why, true)),
        };
    }
    if let Some(time::BsdStamp {
        month,
        day,
        year,
        clock: (h, mi, s, ns),
        len: n,
    }) = time::parse_bsd(rb)
    {
        let assumed = year.is_none();
        let civil = Civil {
            year: year.or(opts.year).unwrap_or(0),
            month,
            day,
            hour: h,
            minute: mi,
            second: s,
            nanos: ns,
        };
        let ts = match year.or(opts.year) {
            Some(_) if civil.valid() => Some(zone.to_utc_ns(&civil)),
            Some(_) => None,
            None => file.place_without_year(civil, zone),
        };
        let Some(ts) = ts else {
            return Parsed::Bad("impossible date in the syslog time");
        };
        // Cisco writes "Jan 24 11:28:30.407: %LINK..." (a colon after the time).
        let after = rest[n..].strip_prefix(':').unwrap_or(&rest[n..]);
        let mut e = host_tag_message(after);
        e.ts_ns = Some(ts);
        e.assumed_year = assumed && opts.year.is_none();
        return Parsed::Line(e);
    }
    if let Some(iso) = time::parse_iso_checked(rb) {
        let (stamp, n) = match iso {
            Ok(s) => s,
            Err(why) => return Parsed::Bad(impossible(why, false)),
        };
        // Windows Firewall and DShield lines begin with their own date: no envelope.
        if crate::windows::looks_like(rest)
            || (rest.contains('\t') && crate::dshield::looks_like(rest))
        {
            return Parsed::Line(Envelope {
                message: rest,
                bare: true,
                ..Default::default()
            });
        }
        let mut e = host_tag_message(&rest[n..]);
        e.ts_ns = Some(stamp.resolve(zone));
        return Parsed::Line(e);
    }
    if rb.first() == Some(&b'[')
        && let Some((secs, msg)) = dmesg(rest)
    {
        return Parsed::Line(Envelope {
            ts_ns: opts.boot_time_ns.and_then(|b| b.checked_add(secs)),
            message: msg,
            ..Default::default()
        });
    }
    if let Some(e) = proxmox(rest, zone) {
        return Parsed::Line(e);
    }
    Parsed::Line(Envelope {
        message: rest,
        bare: true,
        ..Default::default()
    })
}

/// The reason a line is rejected for a time that cannot be.
fn impossible(why: time::Impossible, rfc5424: bool) -> &'static str {
    use time::Impossible::*;
    match (why, rfc5424) {
        (Year, true) => "RFC 5424 time: year out of range",
        (Date, true) => "RFC 5424 time: impossible date or time of day",
        (Offset, true) => "RFC 5424 time: UTC offset out of range (hours 00-23, minutes 00-59)",
        (Year, false) => "RFC 3339 time: year out of range",
        (Date, false) => "RFC 3339 time: impossible date or time of day",
        (Offset, false) => "RFC 3339 time: UTC offset out of range (hours 00-23, minutes 00-59)",
    }
}

fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(' ');
    match s.find(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// RFC 5424 after the time: HOST APP PROCID MSGID SD MSG.
fn rfc5424<'a>(rest: &'a str, stamp: Stamp, zone: &mut ZoneCache) -> Envelope<'a> {
    let (host, rest) = word(rest);
    let (app, rest) = word(rest);
    let (_procid, rest) = word(rest);
    let (_msgid, rest) = word(rest);
    let rest = rest.trim_start_matches(' ');
    let (sd, msg) = if rest.starts_with('[') {
        let end = sd_end(rest);
        (Some(&rest[..end]), rest[end..].trim_start_matches(' '))
    } else if let Some(m) = rest.strip_prefix('-') {
        (None, m.trim_start_matches(' '))
    } else {
        (None, rest)
    };
    let nil = |s: &'a str| (s != "-" && !s.is_empty()).then_some(s);
    Envelope {
        ts_ns: Some(stamp.resolve(zone)),
        host: nil(host),
        program: nil(app),
        message: msg.strip_prefix('\u{feff}').unwrap_or(msg),
        structured: sd,
        ..Default::default()
    }
}

/// The end of RFC 5424 structured data: one or more `[...]`, with `\]` and quoted values.
fn sd_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b'[' {
        let mut in_quote = false;
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'"' => in_quote = !in_quote,
                b']' if !in_quote => break,
                _ => {}
            }
            i += 1;
        }
        i = (i + 1).min(b.len());
    }
    i
}

/// After a syslog time: `HOST TAG: MSG`, `TAG: MSG` (no host), or `HOST MSG`.
fn host_tag_message(s: &str) -> Envelope<'_> {
    let (first, rest) = word(s);
    let is_tag = |w: &str| {
        w.ends_with(':')
            && w.len() > 1
            && !w.starts_with('%')
            && !w.starts_with('[')
            && parse_ip(&w[..w.len() - 1]).is_none()
    };
    if is_tag(first) {
        let prog = program_name(first);
        return Envelope {
            program: Some(prog),
            message: rest,
            ..Default::default()
        };
    }
    let (second, rest2) = word(rest);
    if is_tag(second) {
        return Envelope {
            host: Some(first),
            program: Some(program_name(second)),
            message: rest2,
            ..Default::default()
        };
    }
    // "HOST firewall,info ..." (MikroTik), "HOST [RULE] ..." (UniFi), "HOST 1,2023/..." (Palo
    // Alto): no tag, the rest is the message.
    Envelope {
        host: (!first.is_empty()).then_some(first),
        message: rest,
        ..Default::default()
    }
}

/// `kernel:` → `kernel`; `sshd[123]:` → `sshd`.
fn program_name(tag: &str) -> &str {
    let t = tag.strip_suffix(':').unwrap_or(tag);
    match t.find('[') {
        Some(i) => &t[..i],
        None => t,
    }
}

/// `[  203.842973] message` → (ns since boot, message).
fn dmesg(s: &str) -> Option<(i64, &str)> {
    let end = s.find(']')?;
    let inner = s[1..end].trim();
    let ns = time::parse_epoch_seconds(inner.as_bytes())?;
    if !inner.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some((ns, s[end + 1..].trim_start_matches(' ')))
}

/// Proxmox firewall log: `VMID PRIO CHAIN DD/Mon/YYYY:HH:MM:SS +ZZZZ MESSAGE`.
fn proxmox<'a>(s: &'a str, zone: &mut ZoneCache) -> Option<Envelope<'a>> {
    let (vmid, rest) = word(s);
    let (prio, rest) = word(rest);
    let (chain, rest) = word(rest);
    let (stamp, rest) = word(rest);
    let (off, rest) = word(rest);
    if !vmid.bytes().all(|b| b.is_ascii_digit()) || !prio.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = stamp.as_bytes();
    // 20/Jun/2022:13:09:14
    if b.len() != 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let (day, n1) = time::digits(b, 2);
    let month = time::month_number(&b[3..6])?;
    let (year, n2) = time::digits(&b[7..], 4);
    let (h, mi, sec, ns, _) = time::parse_clock(&b[12..])?;
    if n1 != 2 || n2 != 4 {
        return None;
    }
    let civil = Civil {
        year: year as i64,
        month,
        day: day as u32,
        hour: h,
        minute: mi,
        second: sec,
        nanos: ns,
    };
    if !civil.valid() {
        return None;
    }
    let ts = match time::parse_offset(off.as_bytes()) {
        Some(o) => civil.utc_ns() - o as i64 * 1_000_000_000,
        None => zone.to_utc_ns(&civil),
    };
    Some(Envelope {
        ts_ns: Some(ts),
        message: rest,
        rule: Some(chain),
        ..Default::default()
    })
}

/// journald `-o json`: one object per line; MESSAGE, __REALTIME_TIMESTAMP (µs), _HOSTNAME,
/// SYSLOG_IDENTIFIER.
fn journal_json<'s>(text: &'s str, scratch: &'s mut String) -> Parsed<'s> {
    let mut ts = None;
    let mut host = None;
    let mut program = None;
    let mut message: Option<(usize, usize, bool)> = None;
    let b = text.as_bytes();
    let mut i = 1;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b',' | b'\t') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'}' {
            break;
        }
        let Some((k0, k1, _, next)) = json_string(b, i) else {
            return Parsed::Bad("journald JSON: bad key");
        };
        i = next;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if b.get(i) != Some(&b':') {
            return Parsed::Bad("journald JSON: expected ':'");
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let key = &text[k0..k1];
        match b.get(i) {
            Some(b'"') => {
                let Some((v0, v1, escaped, next)) = json_string(b, i) else {
                    return Parsed::Bad("journald JSON: unterminated string");
                };
                i = next;
                match key {
                    "MESSAGE" => message = Some((v0, v1, escaped)),
                    "__REALTIME_TIMESTAMP" => {
                        ts = super::num::<i64>(&text[v0..v1]).and_then(|us| us.checked_mul(1000))
                    }
                    "_HOSTNAME" if !escaped => host = Some(&text[v0..v1]),
                    "SYSLOG_IDENTIFIER" if !escaped => program = Some(&text[v0..v1]),
                    _ => {}
                }
            }
            Some(_) => {
                // Numbers, null, and arrays (binary fields): skip to the next top-level comma.
                let mut depth = 0i32;
                let mut in_str = false;
                while i < b.len() {
                    match b[i] {
                        b'\\' if in_str => i += 1,
                        b'"' => in_str = !in_str,
                        b'[' | b'{' if !in_str => depth += 1,
                        b']' | b'}' if !in_str && depth > 0 => depth -= 1,
                        b',' | b'}' if !in_str && depth == 0 => break,
                        _ => {}
                    }
                    i += 1;
                }
                if key == "MESSAGE" {
                    return Parsed::Bad("journald JSON: MESSAGE is not text");
                }
            }
            None => return Parsed::Bad("journald JSON: truncated"),
        }
    }
    let Some((m0, m1, escaped)) = message else {
        return Parsed::Bad("journald JSON: no MESSAGE field");
    };
    let msg: &'s str = if escaped {
        scratch.clear();
        if !unescape_json(&text[m0..m1], scratch) {
            return Parsed::Bad("journald JSON: bad escape in MESSAGE");
        }
        let s: &'s String = scratch;
        s.as_str()
    } else {
        &text[m0..m1]
    };
    Parsed::Line(Envelope {
        ts_ns: ts,
        host,
        program,
        message: msg,
        ..Default::default()
    })
}

/// A JSON string starting at `b[i] == '"'`: (content start, end, has escapes, next index).
fn json_string(b: &[u8], i: usize) -> Option<(usize, usize, bool, usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    let mut escaped = false;
    while j < b.len() {
        match b[j] {
            b'\\' => {
                escaped = true;
                j += 2;
                continue;
            }
            b'"' => return Some((start, j, escaped, j + 1)),
            _ => j += 1,
        }
    }
    None
}

fn unescape_json(s: &str, out: &mut String) -> bool {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('n') | Some('r') | Some('t') | Some('b') | Some('f') => out.push(' '),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) if !c.is_control() => out.push(c),
                    Some(_) => out.push(' '),
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    true
}

/// journald `-o export`: `KEY=value` lines. Returns `None` for a line that is not one.
fn journal_export<'a>(text: &'a str, j: &mut JournalExport) -> Option<Parsed<'a>> {
    let eq = text.find('=')?;
    let key = &text[..eq];
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let value = &text[eq + 1..];
    j.active = true;
    Some(match key {
        "__REALTIME_TIMESTAMP" => {
            j.ts_ns = super::num::<i64>(value).and_then(|us| us.checked_mul(1000));
            Parsed::Meta
        }
        "MESSAGE" => Parsed::Line(Envelope {
            ts_ns: j.ts_ns,
            message: value,
            program: Some("journal"),
            ..Default::default()
        }),
        // _HOSTNAME and the rest: the host usually follows MESSAGE, so it is not kept.
        _ => Parsed::Meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    fn env(line: &str) -> Envelope<'static> {
        let file = FileContext::for_tests(2024, 12);
        let opts = LogOptions::default();
        let mut zone = ZoneCache::new(Zone::UTC);
        let mut j = JournalExport::default();
        let scratch = Box::leak(Box::new(String::new()));
        let line: &'static str = Box::leak(line.to_string().into_boxed_str());
        match parse(line, &file, &opts, &mut zone, &mut j, scratch) {
            Parsed::Line(e) => e,
            _ => panic!("no line"),
        }
    }

    #[test]
    fn rfc3164_with_and_without_host() {
        let e = env("Jun  8 14:34:33 sd-126005 kernel: [50028442.088484] IN=enp1s0 OUT=");
        assert_eq!(e.host, Some("sd-126005"));
        assert_eq!(e.program, Some("kernel"));
        assert_eq!(e.message, "[50028442.088484] IN=enp1s0 OUT=");
        assert!(e.assumed_year);
        assert_eq!(
            e.ts_ns,
            Some(
                Civil {
                    year: 2024,
                    month: 6,
                    day: 8,
                    hour: 14,
                    minute: 34,
                    second: 33,
                    nanos: 0
                }
                .utc_ns()
            )
        );
        let e = env("Dec 17 08:05:30 RT_FLOW: RT_FLOW_SESSION_CLOSE: session closed");
        assert_eq!((e.host, e.program), (None, Some("RT_FLOW")));
        let e = env("<191>Aug  1 14:01:20 abc-asa1: %ASA-6-302013: Built");
        assert_eq!(e.program, Some("abc-asa1"));
        assert_eq!(e.message, "%ASA-6-302013: Built");
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let e = env(
            "<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - [meta sequenceId=\"2633353\"] 10,,,02f4",
        );
        assert_eq!(e.host, Some("opnsense"));
        assert_eq!(e.program, Some("filterlog"));
        assert_eq!(e.structured, Some("[meta sequenceId=\"2633353\"]"));
        assert_eq!(e.message, "10,,,02f4");
    }

    #[test]
    fn journald_json_and_dmesg() {
        let e = env(
            r#"{"__REALTIME_TIMESTAMP":"1700000000123456","_HOSTNAME":"fw1","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"DROP IN=eth0 \"x\" SRC=1.2.3.4"}"#,
        );
        assert_eq!(e.ts_ns, Some(1_700_000_000_123_456_000));
        assert_eq!(e.host, Some("fw1"));
        assert_eq!(e.message, "DROP IN=eth0 \"x\" SRC=1.2.3.4");
        let e = env("[  203.842973] IPTABLES-DROP: IN=lo");
        assert_eq!(e.ts_ns, None);
        assert_eq!(e.message, "IPTABLES-DROP: IN=lo");
    }

    #[test]
    fn proxmox_envelope() {
        let e = env("0 3 PVEFW-HOST-IN 20/Jun/2022:13:09:14 +0200 policy DROP: IN=vmbr0.94");
        assert_eq!(e.rule, Some("PVEFW-HOST-IN"));
        assert_eq!(e.message, "policy DROP: IN=vmbr0.94");
        assert_eq!(
            e.ts_ns,
            Some(
                Civil {
                    year: 2022,
                    month: 6,
                    day: 20,
                    hour: 11,
                    minute: 9,
                    second: 14,
                    nanos: 0
                }
                .utc_ns()
            )
        );
    }
}
