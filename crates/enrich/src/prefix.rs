//! Prefix-to-AS tables: CAIDA RouteViews pfx2as and iptoasn.
//!
//! RouteViews lines are `prefix<TAB>length<TAB>origin`, where the origin may be a
//! multi-origin list (`701_702`) or an AS set (`{1,2}` / `1,2`); the first AS is kept, as
//! CAIDA's own tools do. Prefixes nest (a /12 and /16s inside it), so lookups take the
//! longest match. iptoasn lines are `start<TAB>end<TAB>asn<TAB>country<TAB>description`
//! ranges that do not overlap; AS 0 means "not routed" and is skipped.

use std::net::IpAddr;
use std::sync::Arc;

use hashbrown::HashMap;

type Map<K> = HashMap<K, u32, foldhash::fast::RandomState>;

/// What a table knows about an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableHit {
    pub asn: u32,
    pub name: Option<Arc<str>>,
    pub country: Option<Arc<str>>,
}

/// Lines read from a table file.
#[derive(Clone, Debug, Default)]
pub struct TableStats {
    pub lines: u64,
    pub prefixes: u64,
    pub ranges: u64,
    pub rejected: u64,
    /// The first rejected line's number and reason.
    pub first_reject: Option<(u64, String)>,
}

#[derive(Default)]
pub struct PrefixTable {
    /// One exact-match map per prefix length that occurs, longest first.
    v4: Vec<(u8, Map<u32>)>,
    v6: Vec<(u8, Map<u128>)>,
    /// Sorted, non-overlapping iptoasn ranges: (start, end, index into `info`).
    ranges4: Vec<(u32, u32, u32)>,
    ranges6: Vec<(u128, u128, u32)>,
    info: Vec<TableHit>,
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - len))
    }
}
fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - len))
    }
}

/// The first AS of a RouteViews origin field.
fn first_asn(field: &str) -> Option<u32> {
    let f = field.trim().trim_start_matches('{');
    let end = f.find(['_', ',', '}']).unwrap_or(f.len());
    f[..end].parse().ok()
}

impl PrefixTable {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty()
            && self.v6.is_empty()
            && self.ranges4.is_empty()
            && self.ranges6.is_empty()
    }

    pub fn parse(text: &[u8]) -> (PrefixTable, TableStats) {
        let mut t = PrefixTable::default();
        let mut stats = TableStats::default();
        let mut v4: HashMap<u8, Map<u32>> = HashMap::new();
        let mut v6: HashMap<u8, Map<u128>> = HashMap::new();
        let mut names: HashMap<String, Arc<str>> = HashMap::new();
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line_no = i as u64 + 1;
            let Ok(line) = std::str::from_utf8(raw) else {
                stats.reject(line_no, "not UTF-8");
                continue;
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            stats.lines += 1;
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.len() {
                3 => {
                    let (Ok(addr), Ok(len), Some(asn)) = (
                        cols[0].trim().parse::<IpAddr>(),
                        cols[1].trim().parse::<u8>(),
                        first_asn(cols[2]),
                    ) else {
                        stats.reject(line_no, "expected prefix, length and AS number");
                        continue;
                    };
                    match addr {
                        IpAddr::V4(a) if len <= 32 => {
                            let m = v4.entry(len).or_default();
                            m.insert(mask4(u32::from(a), len), asn);
                        }
                        IpAddr::V6(a) if len <= 128 => {
                            let m = v6.entry(len).or_default();
                            m.insert(mask6(u128::from(a), len), asn);
                        }
                        _ => {
                            stats.reject(line_no, "prefix length too long for the address");
                            continue;
                        }
                    }
                    stats.prefixes += 1;
                }
                5.. => {
                    let (Ok(start), Ok(end), Ok(asn)) = (
                        cols[0].trim().parse::<IpAddr>(),
                        cols[1].trim().parse::<IpAddr>(),
                        cols[2].trim().parse::<u32>(),
                    ) else {
                        stats.reject(line_no, "expected start, end and AS number");
                        continue;
                    };
                    if asn == 0 {
                        continue;
                    }
                    let name = cols[4].trim();
                    let name = (!name.is_empty() && name != "Not routed").then(|| {
                        names
                            .entry(name.to_owned())
                            .or_insert_with(|| Arc::from(name))
                            .clone()
                    });
                    let country = crate::country_code(cols[3]);
                    let idx = t.info.len() as u32;
                    match (start, end) {
                        (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
                            t.ranges4.push((u32::from(s), u32::from(e), idx))
                        }
                        (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
                            t.ranges6.push((u128::from(s), u128::from(e), idx))
                        }
                        _ => {
                            stats.reject(line_no, "range start after end or mixed families");
                            continue;
                        }
                    }
                    t.info.push(TableHit { asn, name, country });
                    stats.ranges += 1;
                }
                _ => stats.reject(
                    line_no,
                    "expected 3 (pfx2as) or 5 (iptoasn) tab-separated columns",
                ),
            }
        }
        t.v4 = v4.into_iter().collect();
        t.v4.sort_by_key(|m| std::cmp::Reverse(m.0));
        t.v6 = v6.into_iter().collect();
        t.v6.sort_by_key(|m| std::cmp::Reverse(m.0));
        t.ranges4.sort_unstable();
        t.ranges6.sort_unstable();
        (t, stats)
    }

    pub fn lookup(&self, addr: IpAddr) -> Option<TableHit> {
        match addr {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for (len, m) in &self.v4 {
                    if let Some(&asn) = m.get(&mask4(a, *len)) {
                        return Some(TableHit {
                            asn,
                            name: None,
                            country: None,
                        });
                    }
                }
                range_hit(&self.ranges4, a).map(|i| self.info[i as usize].clone())
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for (len, m) in &self.v6 {
                    if let Some(&asn) = m.get(&mask6(a, *len)) {
                        return Some(TableHit {
                            asn,
                            name: None,
                            country: None,
                        });
                    }
                }
                range_hit(&self.ranges6, a).map(|i| self.info[i as usize].clone())
            }
        }
    }
}

fn range_hit<T: Ord + Copy>(ranges: &[(T, T, u32)], a: T) -> Option<u32> {
    let i = ranges.partition_point(|r| r.0 <= a);
    let r = ranges.get(i.checked_sub(1)?)?;
    (a <= r.1).then_some(r.2)
}

impl TableStats {
    fn reject(&mut self, line: u64, why: &str) {
        self.rejected += 1;
        if self.first_reject.is_none() {
            self.first_reject = Some((line, why.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_origin_lists_keep_the_first_as() {
        let (t, s) = PrefixTable::parse(
            b"1.160.0.0\t12\t3462\n1.161.0.0\t16\t9999\n1.2.4.0\t24\t24409_24151\n2001:4::\t32\t{6939,1101}\nbad line\n",
        );
        assert_eq!(s.prefixes, 4);
        assert_eq!(s.rejected, 1);
        assert_eq!(s.first_reject.as_ref().map(|r| r.0), Some(5));
        let asn = |a: &str| t.lookup(a.parse().unwrap()).map(|h| h.asn);
        assert_eq!(asn("1.160.9.9"), Some(3462));
        assert_eq!(asn("1.161.9.9"), Some(9999));
        assert_eq!(asn("1.2.4.200"), Some(24409));
        assert_eq!(asn("2001:4::1"), Some(6939));
        assert_eq!(asn("8.8.8.8"), None);
    }

    #[test]
    fn iptoasn_ranges_carry_name_and_country() {
        let (t, s) = PrefixTable::parse(
            b"1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n1.0.4.0\t1.0.7.255\t38803\tau\tGTELECOM\n",
        );
        assert_eq!(s.ranges, 2);
        let h = t.lookup("1.0.5.1".parse().unwrap()).unwrap();
        assert_eq!(
            (h.asn, h.country.as_deref(), h.name.as_deref()),
            (38803, Some("AU"), Some("GTELECOM"))
        );
        assert!(t.lookup("1.0.2.1".parse().unwrap()).is_none());
        assert!(t.lookup("1.0.8.0".parse().unwrap()).is_none());
    }
}
