//! The `events` table: one row per observed packet or firewall-log record.
//!
//! Chosen for other engines as much as for noisefloor: timestamps are microseconds in UTC
//! (Spark cannot read nanosecond Parquet timestamps), integers are signed (Spark before 3.2
//! and Iceberg's Arrow reader reject unsigned ones), addresses are text in their usual
//! notation so `WHERE src = '1.160.3.4'` works everywhere. `sensor` and `date` are not in the
//! files: they are the hive partition directories `sensor=NAME/date=YYYY-MM-DD/` (the UTC
//! date). docs/lake.md describes every column.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Column names, in file order.
pub mod col {
    pub const TS: &str = "ts";
    pub const SRC: &str = "src";
    pub const DST: &str = "dst";
    pub const PROTO: &str = "proto";
    pub const SPORT: &str = "sport";
    pub const DPORT: &str = "dport";
    pub const PORT_KEY: &str = "port_key";
    pub const ICMP_TYPE: &str = "icmp_type";
    pub const ICMP_CODE: &str = "icmp_code";
    pub const TCP_FLAGS: &str = "tcp_flags";
    pub const TTL: &str = "ttl";
    pub const IP_ID: &str = "ip_id";
    pub const IP_LEN: &str = "ip_len";
    pub const DF: &str = "df";
    pub const FRAG_OFFSET: &str = "frag_offset";
    pub const GRE_VERSION: &str = "gre_version";
    pub const GRE_PROTO: &str = "gre_proto";
    pub const GRE_KEY: &str = "gre_key";
    pub const INNER_SRC: &str = "inner_src";
    pub const INNER_DST: &str = "inner_dst";
    pub const INNER_PROTO: &str = "inner_proto";
    pub const INNER_SPORT: &str = "inner_sport";
    pub const INNER_DPORT: &str = "inner_dport";
    pub const INNER_IP_ID: &str = "inner_ip_id";
    pub const INNER_TTL: &str = "inner_ttl";
    pub const PAYLOAD_LEN: &str = "payload_len";
    pub const CLASS: &str = "class";
    pub const TAGS: &str = "tags";
    pub const VARIANT: &str = "variant";
    pub const VICTIM: &str = "victim";
    pub const SERVICE: &str = "service";
    pub const PACKETS: &str = "packets";
    pub const ACTION: &str = "action";
    pub const RULE: &str = "rule";
    pub const IN_IF: &str = "in_if";
    pub const OUT_IF: &str = "out_if";
    pub const REPORTER: &str = "reporter";
    pub const SRC_ASN: &str = "src_asn";
    pub const SRC_AS_NAME: &str = "src_as_name";
    pub const SRC_COUNTRY: &str = "src_country";
    pub const SRC_CITY: &str = "src_city";
    pub const SENSOR_GROUP: &str = "sensor_group";
    pub const INPUT: &str = "input";
    pub const INPUT_FORMAT: &str = "input_format";
    /// Partition columns (directory names, not stored in the files).
    pub const SENSOR: &str = "sensor";
    pub const DATE: &str = "date";
}

/// The schema stored in each Parquet file (without the partition columns).
pub fn file_schema() -> SchemaRef {
    use DataType::*;
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    Arc::new(Schema::new(vec![
        f(
            col::TS,
            Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        f(col::SRC, Utf8, true),
        f(col::DST, Utf8, true),
        f(col::PROTO, Int16, true),
        f(col::SPORT, Int32, true),
        f(col::DPORT, Int32, true),
        f(col::PORT_KEY, Utf8, false),
        f(col::ICMP_TYPE, Int16, true),
        f(col::ICMP_CODE, Int16, true),
        f(col::TCP_FLAGS, Int16, true),
        f(col::TTL, Int16, true),
        f(col::IP_ID, Int32, true),
        f(col::IP_LEN, Int32, true),
        f(col::DF, Boolean, true),
        f(col::FRAG_OFFSET, Int32, true),
        f(col::GRE_VERSION, Int16, true),
        f(col::GRE_PROTO, Int32, true),
        f(col::GRE_KEY, Int64, true),
        f(col::INNER_SRC, Utf8, true),
        f(col::INNER_DST, Utf8, true),
        f(col::INNER_PROTO, Int16, true),
        f(col::INNER_SPORT, Int32, true),
        f(col::INNER_DPORT, Int32, true),
        f(col::INNER_IP_ID, Int32, true),
        f(col::INNER_TTL, Int16, true),
        f(col::PAYLOAD_LEN, Int32, true),
        f(col::CLASS, Utf8, false),
        f(col::TAGS, Utf8, false),
        f(col::VARIANT, Utf8, true),
        f(col::VICTIM, Utf8, true),
        f(col::SERVICE, Utf8, true),
        f(col::PACKETS, Int64, false),
        f(col::ACTION, Utf8, true),
        f(col::RULE, Utf8, true),
        f(col::IN_IF, Utf8, true),
        f(col::OUT_IF, Utf8, true),
        f(col::REPORTER, Utf8, true),
        f(col::SRC_ASN, Int64, true),
        f(col::SRC_AS_NAME, Utf8, true),
        f(col::SRC_COUNTRY, Utf8, true),
        f(col::SRC_CITY, Utf8, true),
        f(col::SENSOR_GROUP, Utf8, true),
        f(col::INPUT, Utf8, false),
        f(col::INPUT_FORMAT, Utf8, false),
    ]))
}
