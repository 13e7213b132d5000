//! Who is behind a source address: AS number and name, country and city.
//!
//! Sources, in the order they are asked:
//! - MaxMind-format databases (`.mmdb`): GeoIP2/GeoLite2 City, Country and ASN, and the DB-IP
//!   and IPinfo files that use the same container with slightly different field names;
//! - prefix-to-AS tables: CAIDA RouteViews `pfx2as` (`prefix<TAB>length<TAB>asn`) and iptoasn
//!   (`start<TAB>end<TAB>asn<TAB>country<TAB>name`), plain or gzip.
//!
//! An address none of them knows stays unknown: nothing is guessed. Every database is
//! attacker-reachable input (a downloaded file), so a corrupt one is an error naming the file,
//! and a bad table line is counted with its line number while the rest is kept.
//!
//! [`Enricher`] is shared read-only between threads; each thread asks through its own
//! [`Cache`], so a source seen a million times is looked up once.

mod prefix;

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

pub use prefix::{PrefixTable, TableStats};

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a usable MaxMind-format database ({source}); download it again or check that it is an .mmdb file"
    )]
    Mmdb {
        path: PathBuf,
        source: maxminddb::MaxMindDbError,
    },
    #[error(
        "{path}: no prefix-to-AS line could be read ({rejected} rejected, first at line {first_line}: {reason}); expected RouteViews pfx2as (prefix, length, AS) or iptoasn (start, end, AS, country, name) tab-separated lines"
    )]
    EmptyTable {
        path: PathBuf,
        rejected: u64,
        first_line: u64,
        reason: String,
    },
}

/// What is known about one address. Every field may be unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Attribution {
    pub asn: Option<u32>,
    pub as_name: Option<Arc<str>>,
    /// ISO 3166-1 alpha-2 code, upper case.
    pub country: Option<Arc<str>>,
    /// English city name.
    pub city: Option<Arc<str>>,
}

/// The databases, opened once and shared by all threads.
#[derive(Default)]
pub struct Enricher {
    mmdbs: Vec<(PathBuf, maxminddb::Reader<Vec<u8>>)>,
    tables: Vec<(PathBuf, PrefixTable)>,
}

impl Enricher {
    pub fn new() -> Self {
        Enricher::default()
    }
    /// True when no database was given: every attribution is unknown.
    pub fn is_empty(&self) -> bool {
        self.mmdbs.is_empty() && self.tables.is_empty()
    }
    /// Opens a MaxMind-format database (City, Country, ASN, DB-IP, IPinfo).
    pub fn add_mmdb(&mut self, path: &Path) -> Result<(), EnrichError> {
        let buf = std::fs::read(path).map_err(|source| EnrichError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add_mmdb_bytes(path, buf)
    }
    /// Adds a MaxMind-format database already in memory (`path` names it in errors).
    pub fn add_mmdb_bytes(&mut self, path: &Path, buf: Vec<u8>) -> Result<(), EnrichError> {
        let reader = maxminddb::Reader::from_source(buf).map_err(|source| EnrichError::Mmdb {
            path: path.to_owned(),
            source,
        })?;
        // Decode one record now so a database whose data section is broken fails here, with
        // its name, rather than as unknown attributions for every packet.
        if let Ok(r) = reader.lookup(IpAddr::from([1, 0, 0, 0])) {
            r.decode::<MmdbRecord>()
                .map_err(|source| EnrichError::Mmdb {
                    path: path.to_owned(),
                    source,
                })?;
        }
        self.mmdbs.push((path.to_owned(), reader));
        Ok(())
    }
    /// Loads a RouteViews pfx2as or iptoasn table (plain or gzip). Returns what was read,
    /// including rejected lines.
    pub fn add_prefix_table(&mut self, path: &Path) -> Result<TableStats, EnrichError> {
        let io = |source| EnrichError::Io {
            path: path.to_owned(),
            source,
        };
        let raw = std::fs::read(path).map_err(io)?;
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(io)?;
            out
        } else {
            raw
        };
        let (table, stats) = PrefixTable::parse(&text);
        if table.is_empty() {
            let (first_line, reason) = stats
                .first_reject
                .clone()
                .unwrap_or((0, "the file is empty".into()));
            return Err(EnrichError::EmptyTable {
                path: path.to_owned(),
                rejected: stats.rejected,
                first_line,
                reason,
            });
        }
        self.tables.push((path.to_owned(), table));
        Ok(stats)
    }
    /// Looks `addr` up in every database (uncached; use a [`Cache`] per thread).
    pub fn lookup(&self, addr: IpAddr) -> Attribution {
        let mut a = Attribution::default();
        for (_, reader) in &self.mmdbs {
            // A record that fails to decode is treated as absent: one bad record in a
            // downloaded database must not stop an ingest.
            let rec = match reader.lookup(addr) {
                Ok(r) => r.decode::<MmdbRecord>().ok().flatten(),
                Err(_) => None,
            };
            if let Some(rec) = rec {
                rec.fill(&mut a);
            }
        }
        for (_, table) in &self.tables {
            if let Some(hit) = table.lookup(addr) {
                if a.asn.is_none() {
                    a.asn = Some(hit.asn);
                }
                if a.as_name.is_none() && a.asn == Some(hit.asn) {
                    a.as_name = hit.name.clone();
                }
                if a.country.is_none() {
                    a.country = hit.country.clone();
                }
            }
        }
        a
    }
}

/// Per-thread memo of attributions: one database lookup per distinct source.
///
/// Each distinct attribution also gets a small id, the same for the life of the cache, so
/// callers that group by attribution (the rollup) key on an integer instead of hashing
/// the names for every row.
pub struct Cache<'e> {
    enricher: &'e Enricher,
    /// Address → attribution id.
    map: hashbrown::HashMap<IpAddr, u32, foldhash::fast::RandomState>,
    /// Id → attribution; id 0 is the unknown attribution.
    attributions: Vec<Attribution>,
    ids: hashbrown::HashMap<Attribution, u32, foldhash::fast::RandomState>,
    /// Lookups answered from the cache, and lookups that went to the databases.
    pub hits: u64,
    pub misses: u64,
}

/// Beyond this many distinct sources the memo starts over, so a spoofed flood with random
/// sources cannot grow memory without bound. (The id table is kept: it grows only with
/// distinct database answers, which the databases bound.)
const CACHE_LIMIT: usize = 1 << 20;

impl<'e> Cache<'e> {
    pub fn new(enricher: &'e Enricher) -> Self {
        let mut ids = hashbrown::HashMap::with_hasher(foldhash::fast::RandomState::default());
        ids.insert(Attribution::default(), 0);
        Cache {
            enricher,
            map: hashbrown::HashMap::with_hasher(foldhash::fast::RandomState::default()),
            attributions: vec![Attribution::default()],
            ids,
            hits: 0,
            misses: 0,
        }
    }

    pub fn get(&mut self, addr: IpAddr) -> &Attribution {
        self.get_with_id(addr).1
    }

    /// The attribution of `addr` and its id (equal ids, equal attributions; 0 is unknown).
    pub fn get_with_id(&mut self, addr: IpAddr) -> (u32, &Attribution) {
        if self.enricher.is_empty() {
            return (0, &self.attributions[0]);
        }
        if self.map.len() >= CACHE_LIMIT && !self.map.contains_key(&addr) {
            self.map.clear();
        }
        let id = match self.map.get(&addr) {
            Some(&id) => {
                self.hits += 1;
                id
            }
            None => {
                self.misses += 1;
                let a = self.enricher.lookup(addr);
                let next = self.attributions.len() as u32;
                let id = *self.ids.entry(a).or_insert_with_key(|a| {
                    self.attributions.push(a.clone());
                    next
                });
                self.map.insert(addr, id);
                id
            }
        };
        (id, &self.attributions[id as usize])
    }
}

/// The fields noisefloor reads from any MaxMind-format record. Field names differ between
/// vendors (MaxMind nests `country.iso_code`; IPinfo has flat `country_code` and `asn` as
/// "AS15169"), so each is optional and tolerant of either shape.
#[derive(Deserialize, Default)]
struct MmdbRecord {
    #[serde(default)]
    country: Option<CountryField>,
    #[serde(default)]
    registered_country: Option<CountryField>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    city: Option<CityField>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<String>,
    #[serde(default)]
    asn: Option<AsnField>,
    #[serde(default)]
    as_name: Option<String>,
    /// IPinfo's ASN files call the AS name `name`.
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CountryField {
    Code(String),
    Map {
        #[serde(default)]
        iso_code: Option<String>,
    },
}
impl CountryField {
    fn code(&self) -> Option<&str> {
        match self {
            CountryField::Code(c) => Some(c),
            CountryField::Map { iso_code } => iso_code.as_deref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CityField {
    Name(String),
    Map {
        #[serde(default)]
        names: Option<CityNames>,
    },
}
#[derive(Deserialize)]
struct CityNames {
    #[serde(default)]
    en: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AsnField {
    Number(u32),
    Text(String),
}

fn country_code(s: &str) -> Option<Arc<str>> {
    let s = s.trim();
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| Arc::from(s.to_ascii_uppercase()))
}

fn clean_name(s: &str) -> Option<Arc<str>> {
    let s = s.trim();
    (!s.is_empty()).then(|| Arc::from(s))
}

impl MmdbRecord {
    /// Fills what `a` does not know yet: the first database that knows a field wins.
    fn fill(self, a: &mut Attribution) {
        if a.country.is_none() {
            a.country = self
                .country
                .as_ref()
                .and_then(CountryField::code)
                .or(self.country_code.as_deref())
                .or(self
                    .registered_country
                    .as_ref()
                    .and_then(CountryField::code))
                .and_then(country_code);
        }
        if a.city.is_none() {
            a.city = match &self.city {
                Some(CityField::Name(n)) => clean_name(n),
                Some(CityField::Map { names: Some(n) }) => n.en.as_deref().and_then(clean_name),
                _ => None,
            };
        }
        let asn = self.autonomous_system_number.or(match &self.asn {
            Some(AsnField::Number(n)) => Some(*n),
            Some(AsnField::Text(t)) => t
                .trim()
                .trim_start_matches(['A', 'a'])
                .trim_start_matches(['S', 's'])
                .parse()
                .ok(),
            None => None,
        });
        if a.asn.is_none() {
            a.asn = asn;
        }
        if a.as_name.is_none() && asn.is_some() && a.asn == asn {
            a.as_name = self
                .autonomous_system_organization
                .as_deref()
                .or(self.as_name.as_deref())
                .or(self.name.as_deref())
                .and_then(clean_name);
        }
    }
}
