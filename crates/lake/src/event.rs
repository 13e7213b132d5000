//! Rows of the `events` table, built from decoded packets and from log records alike.

use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int16Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use noisefloor_classify::{Evidence, Verdict};
use noisefloor_enrich::Attribution;
use noisefloor_wire::Observation;

use crate::schema::file_schema;

/// The protocol and port of a row's TSUBAME key (`port_key`): the port only where the key
/// has one (TCP, UDP, SCTP).
pub(crate) fn port_key_parts(o: &Observation) -> (Option<u8>, Option<u16>) {
    let port = if matches!(o.proto, Some(6 | 17 | 132)) {
        o.dst_port
    } else {
        None
    };
    (o.proto, port)
}

/// The `tags` column: tag names joined by commas.
pub(crate) fn tags_text(tags: noisefloor_classify::Tags, out: &mut String) {
    for (i, t) in tags.names().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(t);
    }
}

/// The `service` column: the service a scan probed, when it has a name.
pub(crate) fn service(v: &Verdict) -> Option<&'static str> {
    match v.evidence {
        Evidence::Scan { service, .. } if !service.is_empty() => Some(service),
        _ => None,
    }
}

/// Per-input constants stamped on every row.
#[derive(Clone, Debug, Default)]
pub struct RowContext {
    pub sensor_group: Option<Arc<str>>,
    pub input: Arc<str>,
}

/// Column builders for one Parquet file's next batch: the Arrow form of the rows
/// [`crate::event_writer::EventWriter`] writes (the reference it is tested against, and
/// `RecordBatch`es for whoever wants them in memory).
pub struct EventBuilder {
    ts: TimestampMicrosecondBuilder,
    src: StringBuilder,
    dst: StringBuilder,
    proto: Int16Builder,
    sport: Int32Builder,
    dport: Int32Builder,
    port_key: StringBuilder,
    icmp_type: Int16Builder,
    icmp_code: Int16Builder,
    tcp_flags: Int16Builder,
    ttl: Int16Builder,
    ip_id: Int32Builder,
    ip_len: Int32Builder,
    df: BooleanBuilder,
    frag_offset: Int32Builder,
    gre_version: Int16Builder,
    gre_proto: Int32Builder,
    gre_key: Int64Builder,
    inner_src: StringBuilder,
    inner_dst: StringBuilder,
    inner_proto: Int16Builder,
    inner_sport: Int32Builder,
    inner_dport: Int32Builder,
    inner_ip_id: Int32Builder,
    inner_ttl: Int16Builder,
    payload_len: Int32Builder,
    class: StringBuilder,
    tags: StringBuilder,
    variant: StringBuilder,
    victim: StringBuilder,
    service: StringBuilder,
    packets: Int64Builder,
    action: StringBuilder,
    rule: StringBuilder,
    in_if: StringBuilder,
    out_if: StringBuilder,
    reporter: StringBuilder,
    src_asn: Int64Builder,
    src_as_name: StringBuilder,
    src_country: StringBuilder,
    src_city: StringBuilder,
    sensor_group: StringBuilder,
    input: StringBuilder,
    input_format: StringBuilder,
    rows: usize,
    scratch: String,
}

fn addr(b: &mut StringBuilder, a: Option<IpAddr>, scratch: &mut String) {
    match a {
        Some(IpAddr::V4(v4)) => {
            let mut text = [0u8; 16];
            let n = ipv4_text(v4, &mut text);
            // Digits and dots only, so always valid UTF-8.
            b.append_value(std::str::from_utf8(&text[..n]).unwrap_or_default());
        }
        Some(a) => {
            scratch.clear();
            let _ = write!(scratch, "{a}");
            b.append_value(&*scratch);
        }
        None => b.append_null(),
    }
}

/// Each octet's decimal text followed by a '.', and that length.
const OCTET_TEXT: [([u8; 4], u8); 256] = {
    let mut t = [([0u8; 4], 0u8); 256];
    let mut o = 0;
    while o < 256 {
        let (h, te, u) = ((o / 100) as u8, (o / 10 % 10) as u8, (o % 10) as u8);
        t[o] = if o >= 100 {
            ([b'0' + h, b'0' + te, b'0' + u, b'.'], 4)
        } else if o >= 10 {
            ([b'0' + te, b'0' + u, b'.', 0], 3)
        } else {
            ([b'0' + u, b'.', 0, 0], 2)
        };
        o += 1;
    }
    t
};

/// Dotted-quad text, the same as `Display`, without the formatting machinery: with three
/// or four addresses per row it was a tenth of ingest (`perf`). Each octet is one table
/// lookup and one 4-byte store (the buffer has room for a 16th byte, the last '.').
#[inline]
pub(crate) fn ipv4_text(a: std::net::Ipv4Addr, out: &mut [u8; 16]) -> usize {
    let mut n = 0;
    for o in a.octets() {
        let (text, len) = OCTET_TEXT[o as usize];
        out[n..n + 4].copy_from_slice(&text);
        n += len as usize;
    }
    n - 1
}

impl Default for EventBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBuilder {
    pub fn new() -> Self {
        EventBuilder {
            ts: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            src: StringBuilder::new(),
            dst: StringBuilder::new(),
            proto: Int16Builder::new(),
            sport: Int32Builder::new(),
            dport: Int32Builder::new(),
            port_key: StringBuilder::new(),
            icmp_type: Int16Builder::new(),
            icmp_code: Int16Builder::new(),
            tcp_flags: Int16Builder::new(),
            ttl: Int16Builder::new(),
            ip_id: Int32Builder::new(),
            ip_len: Int32Builder::new(),
            df: BooleanBuilder::new(),
            frag_offset: Int32Builder::new(),
            gre_version: Int16Builder::new(),
            gre_proto: Int32Builder::new(),
            gre_key: Int64Builder::new(),
            inner_src: StringBuilder::new(),
            inner_dst: StringBuilder::new(),
            inner_proto: Int16Builder::new(),
            inner_sport: Int32Builder::new(),
            inner_dport: Int32Builder::new(),
            inner_ip_id: Int32Builder::new(),
            inner_ttl: Int16Builder::new(),
            payload_len: Int32Builder::new(),
            class: StringBuilder::new(),
            tags: StringBuilder::new(),
            variant: StringBuilder::new(),
            victim: StringBuilder::new(),
            service: StringBuilder::new(),
            packets: Int64Builder::new(),
            action: StringBuilder::new(),
            rule: StringBuilder::new(),
            in_if: StringBuilder::new(),
            out_if: StringBuilder::new(),
            reporter: StringBuilder::new(),
            src_asn: Int64Builder::new(),
            src_as_name: StringBuilder::new(),
            src_country: StringBuilder::new(),
            src_city: StringBuilder::new(),
            sensor_group: StringBuilder::new(),
            input: StringBuilder::new(),
            input_format: StringBuilder::new(),
            rows: 0,
            scratch: String::with_capacity(64),
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row. `o.ts_ns` must be set (untimed records are not stored).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        o: &Observation,
        v: &Verdict,
        who: &Attribution,
        ctx: &RowContext,
        input_format: &str,
    ) {
        let inner = &o.tunnel;
        let s = &mut self.scratch;
        self.ts.append_value(o.ts_ns.unwrap_or(0).div_euclid(1000));
        addr(&mut self.src, o.src, s);
        addr(&mut self.dst, o.dst, s);
        self.proto.append_option(o.proto.map(i16::from));
        self.sport.append_option(o.src_port.map(i32::from));
        self.dport.append_option(o.dst_port.map(i32::from));
        s.clear();
        let (proto, port) = port_key_parts(o);
        noisefloor_classify::port_key(proto, port, s);
        self.port_key.append_value(&*s);
        self.icmp_type.append_option(o.icmp_type.map(i16::from));
        self.icmp_code.append_option(o.icmp_code.map(i16::from));
        self.tcp_flags.append_option(o.tcp_flags.map(i16::from));
        self.ttl.append_option(o.ttl.map(i16::from));
        self.ip_id.append_option(o.ip_id.map(i32::from));
        self.ip_len
            .append_option(o.ip_len.and_then(|l| i32::try_from(l).ok()));
        self.df.append_option(o.dont_fragment);
        self.frag_offset
            .append_option(o.frag_offset.and_then(|l| i32::try_from(l).ok()));
        self.gre_version
            .append_option(inner.gre_version().map(i16::from));
        self.gre_proto
            .append_option(inner.gre_proto().map(i32::from));
        self.gre_key.append_option(inner.gre_key().map(i64::from));
        addr(&mut self.inner_src, inner.src(), s);
        addr(&mut self.inner_dst, inner.dst(), s);
        self.inner_proto.append_option(inner.proto().map(i16::from));
        self.inner_sport.append_option(inner.sport().map(i32::from));
        self.inner_dport.append_option(inner.dport().map(i32::from));
        self.inner_ip_id.append_option(inner.ip_id().map(i32::from));
        self.inner_ttl.append_option(inner.ttl().map(i16::from));
        self.payload_len
            .append_option(inner.payload_len().and_then(|l| i32::try_from(l).ok()));
        self.class.append_value(v.class.name());
        s.clear();
        tags_text(v.tags, s);
        self.tags.append_value(&*s);
        self.variant
            .append_option(v.mirai_variant().map(|m| m.short()));
        match v.evidence {
            Evidence::Backscatter { victim, .. } => addr(&mut self.victim, Some(victim), s),
            _ => self.victim.append_null(),
        }
        self.service.append_option(service(v));
        self.packets.append_value(i64::from(o.count.max(1)));
        self.action.append_option(o.action.map(|a| a.name()));
        self.rule.append_option(o.rule);
        self.in_if.append_option(o.in_interface);
        self.out_if.append_option(o.out_interface);
        self.reporter.append_option(o.host);
        self.src_asn.append_option(who.asn.map(i64::from));
        self.src_as_name.append_option(who.as_name.as_deref());
        self.src_country.append_option(who.country.as_deref());
        self.src_city.append_option(who.city.as_deref());
        self.sensor_group.append_option(ctx.sensor_group.as_deref());
        self.input.append_value(&*ctx.input);
        self.input_format.append_value(input_format);
        self.rows += 1;
    }

    /// Takes the rows so far as a batch and starts empty.
    pub fn finish(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            std::sync::Arc::new(self.ts.finish()),
            std::sync::Arc::new(self.src.finish()),
            std::sync::Arc::new(self.dst.finish()),
            std::sync::Arc::new(self.proto.finish()),
            std::sync::Arc::new(self.sport.finish()),
            std::sync::Arc::new(self.dport.finish()),
            std::sync::Arc::new(self.port_key.finish()),
            std::sync::Arc::new(self.icmp_type.finish()),
            std::sync::Arc::new(self.icmp_code.finish()),
            std::sync::Arc::new(self.tcp_flags.finish()),
            std::sync::Arc::new(self.ttl.finish()),
            std::sync::Arc::new(self.ip_id.finish()),
            std::sync::Arc::new(self.ip_len.finish()),
            std::sync::Arc::new(self.df.finish()),
            std::sync::Arc::new(self.frag_offset.finish()),
            std::sync::Arc::new(self.gre_version.finish()),
            std::sync::Arc::new(self.gre_proto.finish()),
            std::sync::Arc::new(self.gre_key.finish()),
            std::sync::Arc::new(self.inner_src.finish()),
            std::sync::Arc::new(self.inner_dst.finish()),
            std::sync::Arc::new(self.inner_proto.finish()),
            std::sync::Arc::new(self.inner_sport.finish()),
            std::sync::Arc::new(self.inner_dport.finish()),
            std::sync::Arc::new(self.inner_ip_id.finish()),
            std::sync::Arc::new(self.inner_ttl.finish()),
            std::sync::Arc::new(self.payload_len.finish()),
            std::sync::Arc::new(self.class.finish()),
            std::sync::Arc::new(self.tags.finish()),
            std::sync::Arc::new(self.variant.finish()),
            std::sync::Arc::new(self.victim.finish()),
            std::sync::Arc::new(self.service.finish()),
            std::sync::Arc::new(self.packets.finish()),
            std::sync::Arc::new(self.action.finish()),
            std::sync::Arc::new(self.rule.finish()),
            std::sync::Arc::new(self.in_if.finish()),
            std::sync::Arc::new(self.out_if.finish()),
            std::sync::Arc::new(self.reporter.finish()),
            std::sync::Arc::new(self.src_asn.finish()),
            std::sync::Arc::new(self.src_as_name.finish()),
            std::sync::Arc::new(self.src_country.finish()),
            std::sync::Arc::new(self.src_city.finish()),
            std::sync::Arc::new(self.sensor_group.finish()),
            std::sync::Arc::new(self.input.finish()),
            std::sync::Arc::new(self.input_format.finish()),
        ];
        self.rows = 0;
        // The builders follow file_schema() column for column, so this cannot fail; a
        // mismatch is a programming error caught by the tests.
        RecordBatch::try_new(file_schema(), columns).expect("event columns match the schema")
    }
}

#[cfg(test)]
mod address_text_tests {
    use super::*;

    #[test]
    fn ipv4_text_equals_display() {
        let mut x = 0x9e37_79b9u32;
        let mut samples = vec![
            0u32,
            u32::MAX,
            0x0a00_6409,
            0x6400_0a01,
            0x0909_0909,
            0xc000_0201,
        ];
        // Every octet value in every position.
        samples.extend((0..=255u32).map(|o| o * 0x0101_0101));
        samples
            .extend((0..=255u32).map(|o| (o << 24) | ((255 - o) << 16) | ((o / 3) << 8) | (o / 7)));
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            samples.push(x);
        }
        let mut text = [0u8; 16];
        for a in samples {
            let a = std::net::Ipv4Addr::from(a);
            let n = ipv4_text(a, &mut text);
            assert_eq!(std::str::from_utf8(&text[..n]).unwrap(), a.to_string());
        }
    }
}
