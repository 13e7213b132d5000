//! The `rollup` table: what the periodic report needs, summed at ingest so a report over
//! months never reads the events again.
//!
//! Every events file has a rollup file beside it, under `_rollup/` with the same hive
//! partitions (`_rollup/sensor=NAME/date=YYYY-MM-DD/part-….parquet`), committed with it in
//! the same manifest entry. One row per (TSUBAME key, class, source AS, country, city,
//! sensor group) of that file holds the packets, the rows and the **exact set of sources**:
//! `src_v4` is a Roaring bitmap in the portable format every Roaring library reads (Java,
//! Go, C, Python's pyroaring), `src_v6` the IPv6 sources as sorted 16-byte addresses.
//! `count_sources(src_v4, src_v6)` (see `count_sources`, registered on every SQL session)
//! counts the union, so
//! distinct sources over any grouping of rollup rows are exact, not estimated, and a
//! year of reports costs a union of bitmaps instead of a scan of every packet.
//!
//! `count_sources` also takes address text, so the report's queries run unchanged over raw
//! events (`src AS src_v4`), in DataFusion for lakes written before the rollup existed and
//! in other engines (`CREATE MACRO count_sources(a, b) AS COUNT(DISTINCT a)` in DuckDB).

use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryBuilder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use noisefloor_classify::Verdict;
use noisefloor_enrich::Attribution;
use noisefloor_wire::Observation;

use crate::sources::SourceSet;

/// Column names of the rollup files (the partition columns `sensor` and `date` are
/// directories, as for the events).
pub mod col {
    pub const PORT_KEY: &str = "port_key";
    pub const CLASS: &str = "class";
    pub const SRC_ASN: &str = "src_asn";
    pub const SRC_AS_NAME: &str = "src_as_name";
    pub const SRC_COUNTRY: &str = "src_country";
    pub const SRC_CITY: &str = "src_city";
    pub const SENSOR_GROUP: &str = "sensor_group";
    pub const PACKETS: &str = "packets";
    pub const ROW_COUNT: &str = "row_count";
    pub const SRC_V4: &str = "src_v4";
    pub const SRC_V6: &str = "src_v6";
}

/// The directory under the lake root that holds the rollup partitions.
pub const ROLLUP_DIR: &str = "_rollup";

/// The schema stored in each rollup file.
pub fn rollup_schema() -> SchemaRef {
    use DataType::*;
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    Arc::new(Schema::new(vec![
        f(col::PORT_KEY, Utf8, false),
        f(col::CLASS, Utf8, false),
        f(col::SRC_ASN, Int64, true),
        f(col::SRC_AS_NAME, Utf8, true),
        f(col::SRC_COUNTRY, Utf8, true),
        f(col::SRC_CITY, Utf8, true),
        f(col::SENSOR_GROUP, Utf8, true),
        f(col::PACKETS, Int64, false),
        f(col::ROW_COUNT, Int64, false),
        f(col::SRC_V4, Binary, false),
        f(col::SRC_V6, Binary, false),
    ]))
}

/// One rollup row's grouping. `port` is only set where the key has one (TCP, UDP, SCTP),
/// exactly as the events' `port_key` is formed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupKey {
    proto: Option<u8>,
    port: Option<u16>,
    class: &'static str,
    who: Attribution,
}

struct GroupTotals {
    key: GroupKey,
    packets: i64,
    rows: i64,
    sources: SourceSet,
}

/// The rollup rows of one events file, built as its rows are written.
pub struct RollupBuilder {
    /// Each group's place in `groups`, by a packed integer key (protocol, port, class,
    /// attribution id): one cheap hash per row instead of hashing the attribution's names.
    /// The table holds indices, not the groups: growing it then moves 12-byte entries
    /// instead of whole groups (rehashing moved every group's key and set once per doubling).
    // Seeded hashing: protocols, ports and (through spoofed sources) attributions come
    // from the packets.
    index: hashbrown::HashMap<u64, u32, foldhash::fast::RandomState>,
    groups: Vec<GroupTotals>,
}

impl Default for RollupBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Protocol (9 bits: none or 0–255), port (17 bits: none or 0–65535), class (6 bits),
/// attribution id (32 bits).
fn pack_key(proto: Option<u8>, port: Option<u16>, class: usize, who_id: u32) -> u64 {
    let proto = proto.map_or(0, |p| u64::from(p) + 1);
    let port = port.map_or(0, |p| u64::from(p) + 1);
    proto | (port << 9) | ((class as u64 & 0x3f) << 26) | (u64::from(who_id) << 32)
}

impl RollupBuilder {
    pub fn new() -> Self {
        RollupBuilder {
            index: hashbrown::HashMap::with_hasher(foldhash::fast::RandomState::default()),
            groups: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Counts one events row. `who_id` identifies `who` (equal ids for equal attributions
    /// within this builder's life, as `noisefloor_enrich::Cache` hands them out).
    pub fn push(&mut self, o: &Observation, v: &Verdict, who: &Attribution, who_id: u32) {
        let port = if matches!(o.proto, Some(6 | 17 | 132)) {
            o.dst_port
        } else {
            None
        };
        let next = self.groups.len() as u32;
        let at = *self
            .index
            .entry(pack_key(o.proto, port, v.class.index(), who_id))
            .or_insert(next);
        if at == next {
            self.groups.push(GroupTotals {
                key: GroupKey {
                    proto: o.proto,
                    port,
                    class: v.class.name(),
                    who: who.clone(),
                },
                packets: 0,
                rows: 0,
                sources: SourceSet::default(),
            });
        }
        let totals = &mut self.groups[at as usize];
        totals.packets += i64::from(o.count.max(1));
        totals.rows += 1;
        if let Some(src) = o.src {
            totals.sources.insert(src);
        }
    }

    /// The rows, ordered by key, as one batch (empty builder: no rows).
    pub fn finish(&mut self, sensor_group: Option<&str>) -> RecordBatch {
        self.index.clear();
        let mut groups: Vec<(String, GroupTotals)> = self
            .groups
            .drain(..)
            .map(|t| {
                let mut key = String::with_capacity(noisefloor_classify::PORT_KEY_MAX);
                noisefloor_classify::port_key(t.key.proto, t.key.port, &mut key);
                (key, t)
            })
            .collect();
        // Sorted by position: the groups are large (their source sets), and moving them
        // about in the sort cost more than the comparisons. The port key's first 16 bytes
        // as one integer order it as its text does (keys are short ASCII; the text itself
        // breaks ties), so most comparisons are one integer's.
        fn sort_key(
            (key, t): &(String, GroupTotals),
        ) -> (u128, &str, &str, Option<u32>, Option<&str>, Option<&str>) {
            let mut head = [0u8; 16];
            let n = key.len().min(16);
            head[..n].copy_from_slice(&key.as_bytes()[..n]);
            let k = &t.key;
            (
                u128::from_be_bytes(head),
                key.as_str(),
                k.class,
                k.who.asn,
                k.who.country.as_deref(),
                k.who.city.as_deref(),
            )
        }
        let mut order: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (sort_key(g), i))
            .collect();
        order.sort_unstable();
        let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
        let mut port_key = StringBuilder::new();
        let mut class = StringBuilder::new();
        let mut asn = Int64Builder::new();
        let mut as_name = StringBuilder::new();
        let mut country = StringBuilder::new();
        let mut city = StringBuilder::new();
        let mut group = StringBuilder::new();
        let mut packets = Int64Builder::new();
        let mut rows = Int64Builder::new();
        let mut v4 = BinaryBuilder::new();
        let mut v6 = BinaryBuilder::new();
        for &i in &order {
            let (key, t) = &mut groups[i];
            let k = &t.key;
            port_key.append_value(&*key);
            class.append_value(k.class);
            asn.append_option(k.who.asn.map(i64::from));
            as_name.append_option(k.who.as_name.as_deref());
            country.append_option(k.who.country.as_deref());
            city.append_option(k.who.city.as_deref());
            group.append_option(sensor_group);
            packets.append_value(t.packets);
            rows.append_value(t.rows);
            v4.append_value(t.sources.encode_v4());
            v6.append_value(t.sources.encode_v6());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(port_key.finish()),
            Arc::new(class.finish()),
            Arc::new(asn.finish()),
            Arc::new(as_name.finish()),
            Arc::new(country.finish()),
            Arc::new(city.finish()),
            Arc::new(group.finish()),
            Arc::new(packets.finish()),
            Arc::new(rows.finish()),
            Arc::new(v4.finish()),
            Arc::new(v6.finish()),
        ];
        // The builders follow rollup_schema() column for column.
        RecordBatch::try_new(rollup_schema(), columns).expect("rollup columns match the schema")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    use noisefloor_classify::{Class, Evidence, Tags};

    use super::*;

    /// Every row lands in its (key, class, attribution) group with its packets, rows and
    /// exact sources, over enough groups that the index grows many times, and the rows
    /// come out in key order.
    #[test]
    fn groups_equal_a_naive_grouping() {
        let names: Vec<Arc<str>> = ["HINET", "OTHER"].iter().map(|s| Arc::from(*s)).collect();
        let whos: Vec<Attribution> = (0..3)
            .map(|i| Attribution {
                asn: (i > 0).then_some(3462 + i),
                as_name: (i > 0).then(|| names[i as usize - 1].clone()),
                country: (i == 1).then(|| Arc::from("TW")),
                city: None,
            })
            .collect();
        let mut b = RollupBuilder::new();
        // (port key, class, AS) -> (packets, rows, sources)
        type Groups = BTreeMap<(String, &'static str, Option<u32>), (i64, i64, BTreeSet<IpAddr>)>;
        let mut want = Groups::new();
        let mut rng = noisefloor_synth::Rng::new(7);
        for _ in 0..60_000 {
            let r = rng.next_u64();
            let proto = [6u8, 17, 47, 1][(r % 4) as usize];
            let port = (r >> 8) as u16 % 3_000;
            let class = Class::ALL[((r >> 24) % 3) as usize];
            let who_id = ((r >> 32) % 3) as u32;
            let src = if (r >> 40) & 7 == 0 {
                IpAddr::V6(Ipv6Addr::from(u128::from(r as u16)))
            } else {
                IpAddr::V4(Ipv4Addr::from((r >> 40) as u32 & 0xfff))
            };
            let count = 1 + (r >> 60) as u32 % 3;
            let o = Observation {
                proto: Some(proto),
                dst_port: Some(port),
                src: Some(src),
                count,
                ..Default::default()
            };
            let v = Verdict {
                class,
                tags: Tags::default(),
                evidence: Evidence::Other {
                    what: "test",
                    proto,
                },
            };
            b.push(&o, &v, &whos[who_id as usize], who_id);
            let mut key = String::new();
            let keyed_port = matches!(proto, 6 | 17).then_some(port);
            noisefloor_classify::port_key(Some(proto), keyed_port, &mut key);
            let g = want
                .entry((key, class.name(), whos[who_id as usize].asn))
                .or_default();
            g.0 += i64::from(count);
            g.1 += 1;
            g.2.insert(src);
        }
        assert!(want.len() > 10_000, "{} groups", want.len());
        let batch = b.finish(Some("domestic"));
        assert!(b.is_empty());
        let text = |i: usize| batch.column(i).as_string::<i32>();
        let int = |i: usize| batch.column(i).as_primitive::<Int64Type>();
        let bin = |i: usize| batch.column(i).as_binary::<i32>();
        let (keys, classes, asns) = (text(0), text(1), int(2));
        let (packets, rows, v4, v6) = (int(7), int(8), bin(9), bin(10));
        assert_eq!(batch.num_rows(), want.len());
        let mut seen = Vec::new();
        for i in 0..batch.num_rows() {
            let asn = (!asns.is_null(i)).then(|| asns.value(i) as u32);
            let k = (keys.value(i).to_owned(), classes.value(i), asn);
            let (p, n, sources) = want
                .get(&(k.0.clone(), k.1, k.2))
                .unwrap_or_else(|| panic!("unexpected group {k:?}"));
            assert_eq!((packets.value(i), rows.value(i)), (*p, *n), "{k:?}");
            let mut got = SourceSet::default();
            got.merge_encoded(v4.value(i), v6.value(i)).unwrap();
            let got: BTreeSet<IpAddr> = got.addresses().into_iter().collect();
            assert_eq!(&got, sources, "{k:?}");
            assert_eq!(text(6).value(i), "domestic");
            seen.push(k.0);
        }
        assert!(seen.is_sorted(), "rows come out ordered by key");
    }
}
