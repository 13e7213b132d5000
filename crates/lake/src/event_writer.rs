//! Writes events files: rows in, Parquet out, with the column encoders of
//! [`crate::columns`]. The same rows and the same file as [`crate::event::EventBuilder`]
//! through `ArrowWriter` (the reference, compared in `tests/writer.rs`), at a fraction of
//! the cost per row.

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;

use noisefloor_classify::{Evidence, MiraiVariant, PORT_KEY_MAX, Verdict};
use noisefloor_enrich::Attribution;
use noisefloor_wire::Observation;
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::Result;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use crate::columns::{BoolCol, Column, IntCol, StrCol, TsCol, Zstd, append_chunk};
use crate::event::RowContext;
use crate::schema::file_schema;

/// Rows per data page.
pub const PAGE_ROWS: usize = 64 * 1024;

/// An events file being written.
pub struct EventWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    z: Zstd,
    scratch: Vec<u8>,
    group_rows: usize,
    rows_in_page: usize,
    rows_in_group: usize,
    cols: Columns,
}

/// The columns, in file order (`schema::file_schema`).
struct Columns {
    ts: TsCol,
    src: StrCol,
    dst: StrCol,
    proto: IntCol<i32>,
    sport: IntCol<i32>,
    dport: IntCol<i32>,
    port_key: StrCol,
    icmp_type: IntCol<i32>,
    icmp_code: IntCol<i32>,
    tcp_flags: IntCol<i32>,
    ttl: IntCol<i32>,
    ip_id: IntCol<i32>,
    ip_len: IntCol<i32>,
    df: BoolCol,
    frag_offset: IntCol<i32>,
    gre_version: IntCol<i32>,
    gre_proto: IntCol<i32>,
    gre_key: IntCol<i64>,
    inner_src: StrCol,
    inner_dst: StrCol,
    inner_proto: IntCol<i32>,
    inner_sport: IntCol<i32>,
    inner_dport: IntCol<i32>,
    inner_ip_id: IntCol<i32>,
    inner_ttl: IntCol<i32>,
    payload_len: IntCol<i32>,
    class: StrCol,
    tags: StrCol,
    variant: StrCol,
    victim: StrCol,
    service: StrCol,
    packets: IntCol<i64>,
    action: StrCol,
    rule: StrCol,
    in_if: StrCol,
    out_if: StrCol,
    reporter: StrCol,
    src_asn: IntCol<i64>,
    src_as_name: StrCol,
    src_country: StrCol,
    src_city: StrCol,
    sensor_group: StrCol,
    input: StrCol,
    input_format: StrCol,
}

impl Columns {
    fn new() -> Self {
        let int = || IntCol::<i32>::new(true);
        let text = || StrCol::new(true);
        Columns {
            ts: TsCol::default(),
            src: text(),
            dst: text(),
            proto: int(),
            sport: int(),
            dport: int(),
            port_key: StrCol::new(false),
            icmp_type: int(),
            icmp_code: int(),
            tcp_flags: int(),
            ttl: int(),
            ip_id: int(),
            ip_len: int(),
            df: BoolCol::default(),
            frag_offset: int(),
            gre_version: int(),
            gre_proto: int(),
            gre_key: IntCol::new(true),
            inner_src: text(),
            inner_dst: text(),
            inner_proto: int(),
            inner_sport: int(),
            inner_dport: int(),
            inner_ip_id: int(),
            inner_ttl: int(),
            payload_len: int(),
            class: StrCol::new(false),
            tags: StrCol::new(false),
            variant: text(),
            victim: text(),
            service: text(),
            packets: IntCol::new(false),
            action: text(),
            rule: text(),
            in_if: text(),
            out_if: text(),
            reporter: text(),
            src_asn: IntCol::new(true),
            src_as_name: text(),
            src_country: text(),
            src_city: text(),
            sensor_group: text(),
            input: StrCol::new(false),
            input_format: StrCol::new(false),
        }
    }

    fn all(&mut self) -> [&mut dyn Column; 44] {
        [
            &mut self.ts,
            &mut self.src,
            &mut self.dst,
            &mut self.proto,
            &mut self.sport,
            &mut self.dport,
            &mut self.port_key,
            &mut self.icmp_type,
            &mut self.icmp_code,
            &mut self.tcp_flags,
            &mut self.ttl,
            &mut self.ip_id,
            &mut self.ip_len,
            &mut self.df,
            &mut self.frag_offset,
            &mut self.gre_version,
            &mut self.gre_proto,
            &mut self.gre_key,
            &mut self.inner_src,
            &mut self.inner_dst,
            &mut self.inner_proto,
            &mut self.inner_sport,
            &mut self.inner_dport,
            &mut self.inner_ip_id,
            &mut self.inner_ttl,
            &mut self.payload_len,
            &mut self.class,
            &mut self.tags,
            &mut self.variant,
            &mut self.victim,
            &mut self.service,
            &mut self.packets,
            &mut self.action,
            &mut self.rule,
            &mut self.in_if,
            &mut self.out_if,
            &mut self.reporter,
            &mut self.src_asn,
            &mut self.src_as_name,
            &mut self.src_country,
            &mut self.src_city,
            &mut self.sensor_group,
            &mut self.input,
            &mut self.input_format,
        ]
    }
}

/// An address as text, found in the dictionary by its value: IPv4 as a 32-bit key (text
/// made once per distinct address), IPv6 by its text.
#[inline]
fn push_addr(c: &mut StrCol, a: Option<IpAddr>) {
    match a {
        Some(IpAddr::V4(v4)) => c.push_v4(u32::from(v4)),
        Some(IpAddr::V6(v6)) => {
            c.push_text(&v6.to_string());
        }
        None => c.push_null(),
    }
}

fn small<T: Into<i32>>(v: Option<T>) -> Option<i32> {
    v.map(Into::into)
}

impl<W: Write + Send> EventWriter<W> {
    /// A writer of events files into `sink` with `props`' metadata (created-by, key-value
    /// pairs), row group size and zstd level (pages are always zstd).
    pub fn try_new(sink: W, props: &WriterProperties) -> Result<Self> {
        let zstd_level = match props.compression(&ColumnPath::from(crate::schema::col::TS)) {
            Compression::ZSTD(l) => l.compression_level(),
            _ => ZstdLevel::default().compression_level(),
        };
        let schema = file_schema();
        let descr = ArrowSchemaConverter::new().convert(&schema)?;
        let group_rows = props.max_row_group_row_count().unwrap_or(1 << 20).max(1);
        let mut props = props.clone();
        // As ArrowWriter does: readers rebuild the exact Arrow types (the `UTC` zone of
        // `ts`) from this.
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let file = SerializedFileWriter::new(sink, descr.root_schema_ptr(), Arc::new(props))?;
        Ok(EventWriter {
            file,
            z: Zstd::new(zstd_level)?,
            scratch: Vec::new(),
            group_rows,
            rows_in_page: 0,
            rows_in_group: 0,
            cols: Columns::new(),
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows_in_group
            + self
                .file
                .flushed_row_groups()
                .iter()
                .map(|g| g.num_rows() as usize)
                .sum::<usize>()
    }

    /// Appends one row. `o.ts_ns` must be set (untimed records are not stored).
    pub fn push(
        &mut self,
        o: &Observation,
        v: &Verdict,
        who: &Attribution,
        ctx: &RowContext,
        input_format: &str,
    ) -> Result<()> {
        let inner = &o.tunnel;
        let c = &mut self.cols;
        c.ts.push(o.ts_ns.unwrap_or(0).div_euclid(1000));
        push_addr(&mut c.src, o.src);
        push_addr(&mut c.dst, o.dst);
        c.proto.push(small(o.proto));
        c.sport.push(small(o.src_port));
        c.dport.push(small(o.dst_port));
        let (key_proto, key_port) = crate::event::port_key_parts(o);
        let key = (u64::from(key_proto.map_or(0, |p| u32::from(p) + 1)) << 32)
            | u64::from(key_port.map_or(0, |p| u32::from(p) + 1));
        c.port_key.push_keyed(key, |out| {
            let mut s = String::with_capacity(PORT_KEY_MAX);
            noisefloor_classify::port_key(key_proto, key_port, &mut s);
            out.extend_from_slice(s.as_bytes());
        });
        c.icmp_type.push(small(o.icmp_type));
        c.icmp_code.push(small(o.icmp_code));
        c.tcp_flags.push(small(o.tcp_flags));
        c.ttl.push(small(o.ttl));
        c.ip_id.push(small(o.ip_id));
        c.ip_len.push(o.ip_len.and_then(|l| i32::try_from(l).ok()));
        c.df.push(o.dont_fragment);
        c.frag_offset
            .push(o.frag_offset.and_then(|l| i32::try_from(l).ok()));
        c.gre_version.push(small(inner.gre_version()));
        c.gre_proto.push(small(inner.gre_proto()));
        c.gre_key.push(inner.gre_key().map(i64::from));
        push_addr(&mut c.inner_src, inner.src());
        push_addr(&mut c.inner_dst, inner.dst());
        c.inner_proto.push(small(inner.proto()));
        c.inner_sport.push(small(inner.sport()));
        c.inner_dport.push(small(inner.dport()));
        c.inner_ip_id.push(small(inner.ip_id()));
        c.inner_ttl.push(small(inner.ttl()));
        c.payload_len
            .push(inner.payload_len().and_then(|l| i32::try_from(l).ok()));
        c.class.push_keyed(v.class.index() as u64, |out| {
            out.extend_from_slice(v.class.name().as_bytes())
        });
        c.tags.push_keyed(u64::from(v.tags.0), |out| {
            let mut s = String::new();
            crate::event::tags_text(v.tags, &mut s);
            out.extend_from_slice(s.as_bytes());
        });
        match v.mirai_variant() {
            Some(m) => c.variant.push_keyed(variant_key(m), |out| {
                out.extend_from_slice(m.short().as_bytes())
            }),
            None => c.variant.push_null(),
        }
        match v.evidence {
            Evidence::Backscatter { victim, .. } => push_addr(&mut c.victim, Some(victim)),
            _ => c.victim.push_null(),
        }
        c.service.push_opt_str(crate::event::service(v));
        c.packets.push(Some(i64::from(o.count.max(1))));
        c.action.push_opt_str(o.action.map(|a| a.name()));
        c.rule.push_opt_str(o.rule);
        c.in_if.push_opt_str(o.in_interface);
        c.out_if.push_opt_str(o.out_interface);
        c.reporter.push_opt_str(o.host);
        c.src_asn.push(who.asn.map(i64::from));
        c.src_as_name.push_opt_str(who.as_name.as_deref());
        c.src_country.push_opt_str(who.country.as_deref());
        c.src_city.push_opt_str(who.city.as_deref());
        c.sensor_group.push_opt_str(ctx.sensor_group.as_deref());
        c.input.push_str(&ctx.input);
        c.input_format.push_str(input_format);
        self.rows_in_page += 1;
        self.rows_in_group += 1;
        if self.rows_in_group >= self.group_rows {
            self.flush_row_group()?;
        } else if self.rows_in_page >= PAGE_ROWS {
            self.flush_pages()?;
        }
        Ok(())
    }

    fn flush_pages(&mut self) -> Result<()> {
        for c in self.cols.all() {
            c.flush_page(&mut self.z, &mut self.scratch)?;
        }
        self.rows_in_page = 0;
        Ok(())
    }

    fn flush_row_group(&mut self) -> Result<()> {
        if self.rows_in_group == 0 {
            return Ok(());
        }
        self.flush_pages()?;
        let descr = self.file.schema_descr().columns().to_vec();
        let mut rg = self.file.next_row_group()?;
        for (c, d) in self.cols.all().into_iter().zip(&descr) {
            append_chunk(&mut rg, c.finish_chunk(&mut self.z, d)?)?;
        }
        rg.close()?;
        self.rows_in_group = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the sink.
    pub fn finish(mut self) -> Result<W> {
        self.flush_row_group()?;
        self.file.into_inner()
    }
}

fn variant_key(m: MiraiVariant) -> u64 {
    match m {
        MiraiVariant::LittleEndian => 0,
        MiraiVariant::BigEndian => 1,
        MiraiVariant::FixedId => 2,
    }
}
