//! Timestamps as firewalls print them, turned into UTC nanoseconds. Parsing is by hand (no
//! allocation, a million lines a second); only the zone lookup for times printed without an
//! offset goes through jiff, cached per hour.

// Day numbers are shared with the decoders' timestamps: one implementation, in `wire`.
pub use noisefloor_wire::time::{civil_from_days, days_from_civil};

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A wall-clock time without a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Calendar year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–60 (a leap second is kept).
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Civil {
    /// Checks ranges (a leap second 60 is accepted and folded into the next second).
    pub fn valid(&self) -> bool {
        // Nanoseconds since 1970 in an i64 reach from 1677 to 2262.
        (1900..=2261).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
    }
    /// What makes the time impossible, if anything.
    pub fn problem(&self) -> Option<Impossible> {
        match self.valid() {
            true => None,
            false if !(1900..=2261).contains(&self.year) => Some(Impossible::Year),
            false => Some(Impossible::Date),
        }
    }
    /// Nanoseconds since the epoch if this wall-clock time were UTC.
    pub fn utc_ns(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let secs =
            days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64;
        secs * 1_000_000_000 + self.nanos as i64
    }
}

/// A day in nanoseconds.
pub const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// 1990-01-01 00:00 UTC. A record time before it is a device clock that was never set
/// (boxes without a battery start at 1970, some at 1980): no firewall log this program
/// reads is older, so such a time is rejected rather than stored.
pub const EARLIEST_NS: i64 = 631_152_000 * 1_000_000_000;

/// How far a time may lie after the moment its file was last written: clocks of the
/// device and of the log host disagree, and a time written without an offset is read in
/// a zone that may not be the device's (offsets reach +14 h). More is not skew: a syslog
/// date without a year is put in the year before, and a dated record is rejected.
pub const SKEW_NS: i64 = DAY_NS;

/// Where times printed without an offset are.
#[derive(Clone, Debug)]
pub enum Zone {
    /// A fixed offset east of UTC, in seconds.
    Fixed(i32),
    /// An IANA zone (DST-aware).
    Named(jiff::tz::TimeZone, String),
}

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone::Fixed(0);

    /// `UTC`, `Z`, `+09:00`, `-0500`, `local`, or an IANA name such as `Asia/Tokyo`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::UTC);
        }
        if let Some(off) = parse_offset(t.as_bytes()) {
            return Ok(Zone::Fixed(off));
        }
        if t.eq_ignore_ascii_case("local") {
            return Ok(Zone::local());
        }
        jiff::tz::TimeZone::get(t)
            .map(|tz| Zone::Named(tz, t.to_string()))
            .map_err(|e| {
                format!("unknown time zone {t:?} ({e}); use UTC, an offset like +09:00, or an IANA name like Asia/Tokyo")
            })
    }

    /// This machine's zone (TZ, /etc/localtime), or UTC when it cannot be read.
    pub fn local() -> Zone {
        let tz = jiff::tz::TimeZone::system();
        let name = tz.iana_name().unwrap_or("local").to_string();
        if name == "UTC" || name == "Etc/UTC" {
            return Zone::UTC;
        }
        Zone::Named(tz, name)
    }

    /// The zone's name as reports state it (`UTC`, `Europe/Berlin`, `+02:00`).
    pub fn name(&self) -> String {
        match self {
            Zone::Fixed(0) => "UTC".into(),
            Zone::Fixed(o) => {
                let sign = if *o < 0 { '-' } else { '+' };
                let a = o.unsigned_abs();
                format!("UTC{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
            }
            Zone::Named(_, n) => n.clone(),
        }
    }

    /// UTC offset in seconds at this instant (ns since the epoch).
    fn offset_of_instant(&self, ns: i64) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz, _) => tz
                .to_offset(jiff::Timestamp::from_nanosecond(ns as i128).unwrap_or_default())
                .seconds(),
        }
    }
    /// UTC offset in seconds at this wall-clock time.
    fn offset_at(&self, c: &Civil) -> i32 {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz, _) => {
                let dt = jiff::civil::DateTime::new(
                    c.year as i16,
                    c.month as i8,
                    c.day as i8,
                    c.hour as i8,
                    c.minute as i8,
                    c.second.min(59) as i8,
                    0,
                );
                match dt.and_then(|dt| tz.to_ambiguous_zoned(dt).compatible()) {
                    Ok(z) => z.offset().seconds(),
                    Err(_) => 0,
                }
            }
        }
    }
}

/// Converts wall-clock times in one zone, remembering the offset of the last hour seen
/// (log lines arrive in time order, so nearly every lookup hits).
#[derive(Clone, Debug)]
pub struct ZoneCache {
    zone: Zone,
    last: Option<((i64, u32, u32, u32), i32)>,
    /// The last instant asked of [`ZoneCache::year_at`] and its year.
    year: Option<(i64, i64)>,
}

impl ZoneCache {
    /// A cache of `zone`'s offsets, empty.
    pub fn new(zone: Zone) -> Self {
        ZoneCache {
            zone,
            last: None,
            year: None,
        }
    }
    /// The year on this zone's calendar at an instant (ns since the epoch).
    pub fn year_at(&mut self, ns: i64) -> i64 {
        match self.year {
            Some((at, y)) if at == ns => y,
            _ => {
                let secs = ns.div_euclid(1_000_000_000) + self.zone.offset_of_instant(ns) as i64;
                let y = civil_from_days(secs.div_euclid(86_400)).0;
                self.year = Some((ns, y));
                y
            }
        }
    }
    /// The UTC time (ns since the epoch) of a wall-clock time in this zone.
    pub fn to_utc_ns(&mut self, c: &Civil) -> i64 {
        let off = match self.zone {
            Zone::Fixed(o) => o,
            Zone::Named(..) => {
                let key = (c.year, c.month, c.day, c.hour);
                match self.last {
                    Some((k, o)) if k == key => o,
                    _ => {
                        let o = self.zone.offset_at(c);
                        self.last = Some((key, o));
                        o
                    }
                }
            }
        };
        c.utc_ns() - off as i64 * 1_000_000_000
    }
}

/// Reads up to `max` ASCII digits; returns the value and how many were read.
#[inline]
pub fn digits(b: &[u8], max: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut n = 0;
    while n < max && n < b.len() && b[n].is_ascii_digit() {
        v = v * 10 + (b[n] - b'0') as u64;
        n += 1;
    }
    (v, n)
}

fn exact(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let (v, k) = digits(s, n);
    (k == n).then_some(v as u32)
}

/// `Jan`..`Dec` (any case) to 1..12.
pub fn month_number(b: &[u8]) -> Option<u32> {
    const M: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let m = b.get(..3)?;
    M.iter()
        .position(|x| x.eq_ignore_ascii_case(m))
        .map(|i| i as u32 + 1)
}

/// `hh:mm:ss[.fraction]` at the start of `b`; returns (h, m, s, nanos, bytes used).
pub fn parse_clock(b: &[u8]) -> Option<(u32, u32, u32, u32, usize)> {
    let h = exact(b, 0, 2)?;
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    let mi = exact(b, 3, 2)?;
    let s = exact(b, 6, 2)?;
    let mut used = 8;
    let mut nanos = 0;
    if matches!(b.get(8), Some(b'.') | Some(b',')) {
        let (v, n) = digits(&b[9..], 9);
        if n == 0 {
            return None;
        }
        nanos = (v * 10u64.pow(9 - n as u32)) as u32;
        used = 9 + n;
        // More than nanosecond precision: skip the rest of the digits.
        while b.get(used).is_some_and(u8::is_ascii_digit) {
            used += 1;
        }
    }
    Some((h, mi, s, nanos, used))
}

/// `Z`, `+hh:mm`, `+hhmm` or `+hh` at the start of `b`, as seconds east of UTC. The whole
/// slice must be the offset.
pub fn parse_offset(b: &[u8]) -> Option<i32> {
    parse_offset_prefix(b)
        .filter(|&(_, n)| n == b.len())
        .map(|(o, _)| o)
}

/// An offset at the start of `b` and the bytes it used.
pub fn parse_offset_prefix(b: &[u8]) -> Option<(i32, usize)> {
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        s @ (b'+' | b'-') => {
            let h = exact(b, 1, 2)?;
            let (m, used) = if b.get(3) == Some(&b':') {
                (exact(b, 4, 2)?, 6)
            } else if let Some(m) = exact(b, 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = (h * 3600 + m * 60) as i32;
            Some((if *s == b'-' { -o } else { o }, used))
        }
        _ => None,
    }
}

/// A parsed timestamp: the wall-clock time and the offset, when the text had one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The wall-clock time as written.
    pub civil: Civil,
    /// The UTC offset written with it, in seconds, if any.
    pub offset: Option<i32>,
}

impl Stamp {
    /// The UTC time (ns since the epoch): the written offset, else `zone`'s.
    pub fn resolve(&self, zone: &mut ZoneCache) -> i64 {
        match self.offset {
            Some(o) => self.civil.utc_ns() - o as i64 * 1_000_000_000,
            None => zone.to_utc_ns(&self.civil),
        }
    }
}

/// Why a time written in the right shape cannot be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impossible {
    /// Outside what nanoseconds since 1970 in an i64 can hold (1900-2261 here).
    Year,
    /// Month, day, hour, minute or second out of range (`02-30`, `25:00`).
    Date,
    /// An offset whose hours pass 23 or minutes 59 (RFC 3339 / 5424 `time-numoffset`).
    Offset,
}

/// ISO 8601 / RFC 3339: `2025-11-06T11:32:42.868451+00:00`, `2019-01-01 12:00:00`,
/// `2023/07/06 08:11:40` (Palo Alto). Returns the stamp and bytes used; `None` also for a
/// time in the right shape with impossible values ([`parse_iso_checked`] says which).
pub fn parse_iso(b: &[u8]) -> Option<(Stamp, usize)> {
    parse_iso_checked(b)?.ok()
}

/// [`parse_iso`], telling text that is no time (`None`) from a time that cannot be
/// (`Some(Err)`), so that the second is rejected rather than read as something else.
pub fn parse_iso_checked(b: &[u8]) -> Option<Result<(Stamp, usize), Impossible>> {
    let y = exact(b, 0, 4)?;
    let sep = *b.get(4)?;
    if !(sep == b'-' || sep == b'/') || b.get(7) != Some(&sep) {
        return None;
    }
    let mo = exact(b, 5, 2)?;
    let d = exact(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let (h, mi, s, nanos, used) = parse_clock(&b[11..])?;
    let mut at = 11 + used;
    // A sign and a digit right after the time are an offset: one out of range (+99:99) is
    // an error, not a time without an offset (it was once read as UTC).
    let signed =
        matches!(b.get(at), Some(b'+' | b'-')) && b.get(at + 1).is_some_and(u8::is_ascii_digit);
    let offset = match b.get(at..).and_then(parse_offset_prefix) {
        Some((o, n)) => {
            at += n;
            Some(o)
        }
        None if signed => return Some(Err(Impossible::Offset)),
        None => None,
    };
    let civil = Civil {
        year: y as i64,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: s,
        nanos,
    };
    Some(match civil.problem() {
        None => Ok((Stamp { civil, offset }, at)),
        Some(why) => Err(why),
    })
}

/// RFC 3164: `Jun  8 14:34:33` (day space-padded), optionally with a year (`Nov 28 2014
/// 12:59:03`, Cisco) and a fraction (`Jan 24 11:28:30.407`). The year is `None` when the
/// line has none.
pub fn parse_bsd(b: &[u8]) -> Option<BsdStamp> {
    let month = month_number(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut at = 4;
    if b.get(at) == Some(&b' ') {
        at += 1;
    }
    let (day, n) = digits(&b[at..], 2);
    if n == 0 || b.get(at + n) != Some(&b' ') {
        return None;
    }
    at += n + 1;
    let mut year = None;
    let (y, n) = digits(&b[at..], 4);
    if n == 4 && b.get(at + 4) == Some(&b' ') {
        year = Some(y as i64);
        at += 5;
    }
    let (h, mi, s, nanos, used) = parse_clock(&b[at..])?;
    at += used;
    Some(BsdStamp {
        month,
        day: day as u32,
        year,
        clock: (h, mi, s, nanos),
        len: at,
    })
}

/// An RFC 3164 time as written: the year only when the line had one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BsdStamp {
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Year, when the line wrote one.
    pub year: Option<i64>,
    /// Hour, minute, second, nanoseconds.
    pub clock: (u32, u32, u32, u32),
    /// Bytes used.
    pub len: usize,
}

/// Unix time in seconds with an optional fraction (`1600000000.123`).
pub fn parse_epoch_seconds(b: &[u8]) -> Option<i64> {
    let (s, n) = digits(b, 12);
    if n == 0 {
        return None;
    }
    let mut ns = (s as i64).checked_mul(1_000_000_000)?;
    if b.get(n) == Some(&b'.') {
        let (f, k) = digits(&b[n + 1..], 9);
        ns = ns.checked_add((f * 10u64.pow(9 - k as u32)) as i64)?;
    }
    Some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 10_957, 19_000, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn iso_and_offsets() {
        let (s, n) = parse_iso(b"2025-11-06T11:32:42.868451+00:00 x").unwrap();
        assert_eq!(n, 32);
        assert_eq!(s.offset, Some(0));
        assert_eq!(s.civil.nanos, 868_451_000);
        let (s, _) = parse_iso(b"2022-09-06T18:37:34+02:00").unwrap();
        assert_eq!(
            s.resolve(&mut ZoneCache::new(Zone::UTC)),
            Civil {
                year: 2022,
                month: 9,
                day: 6,
                hour: 16,
                minute: 37,
                second: 34,
                nanos: 0
            }
            .utc_ns()
        );
        assert!(parse_iso(b"2023-02-30T00:00:00Z").is_none());
        assert!(
            parse_iso(b"2023/07/06 08:11:40")
                .unwrap()
                .0
                .offset
                .is_none()
        );
    }

    #[test]
    fn bsd_stamps() {
        let b = parse_bsd(b"Jun  8 14:34:33 host").unwrap();
        assert_eq!(
            (b.month, b.day, b.year, b.clock, b.len),
            (6, 8, None, (14, 34, 33, 0), 15)
        );
        assert_eq!(
            parse_bsd(b"Nov 28 2014 12:59:03|").unwrap().year,
            Some(2014)
        );
        let b = parse_bsd(b"Jan 24 11:28:30.407: %X").unwrap();
        assert_eq!(b.clock.3, 407_000_000);
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        // 999,999,999,999 s in nanoseconds does not fit an i64.
        assert_eq!(parse_epoch_seconds(b"999999999999.5"), None);
        assert_eq!(parse_epoch_seconds(b"203.842973"), Some(203_842_973_000));
        assert!(parse_iso(b"9999-12-31T23:59:59Z").is_none());
    }

    #[test]
    fn named_zone_is_dst_aware() {
        let mut z = ZoneCache::new(Zone::parse("Europe/Paris").unwrap());
        let winter = Civil {
            year: 2022,
            month: 1,
            day: 10,
            hour: 12,
            minute: 0,
            second: 0,
            nanos: 0,
        };
        let summer = Civil { month: 7, ..winter };
        assert_eq!(winter.utc_ns() - z.to_utc_ns(&winter), 3_600_000_000_000);
        assert_eq!(summer.utc_ns() - z.to_utc_ns(&summer), 7_200_000_000_000);
        assert_eq!(Zone::parse("+09:00").unwrap().name(), "UTC+09:00");
        assert!(Zone::parse("Mars/Olympus").is_err());
    }
}
