//! `noisefloor sensor`: live capture into the lake.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use noisefloor_capture::live::{LiveSource, NflogSource, PacketSource, stop_on_signals};
use noisefloor_lake::segment::SegmentOptions;
use noisefloor_sensor::{Event, RingOptions, SensorOptions};

use crate::common::lake_args::{LakeArgs, enricher};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["nflog_group", "interface"]))]
pub struct Args {
    /// Receive packets logged by `iptables ... -j NFLOG --nflog-group N` (or nftables
    /// `log group N`); needs CAP_NET_ADMIN
    #[arg(long, value_name = "N")]
    nflog_group: Option<u16>,
    /// Capture every packet arriving on this interface (AF_PACKET, TPACKET_V3 ring);
    /// needs CAP_NET_RAW
    #[arg(long, value_name = "IF")]
    interface: Option<String>,
    /// The sensor's name in the lake (a name from the config, or any new name)
    #[arg(long, value_name = "NAME")]
    sensor: String,
    #[command(flatten)]
    lake: LakeArgs,
    /// Segment length: each is committed to the lake when it ends (on clock multiples,
    /// UTC); e.g. 30s, 5m, 1h
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    rotate: Duration,
    /// Bytes kept per packet (longer packets are stored truncated and counted)
    #[arg(long, value_name = "BYTES", default_value_t = 65535)]
    snaplen: u32,
    /// Kernel buffer that absorbs bursts: the NFLOG socket buffer, or the AF_PACKET ring
    #[arg(long, value_name = "MB", default_value_t = 64)]
    buffer_mb: usize,
    /// Also take frames addressed to other hosts (--interface only)
    #[arg(long)]
    promisc: bool,
    /// Capture filter in tcpdump syntax, run in the kernel (--interface through libpcap;
    /// built with the `libpcap` cargo feature)
    #[cfg(feature = "libpcap")]
    #[arg(long, value_name = "EXPR", requires = "interface")]
    bpf: Option<String>,
    /// Keep the last --ring-size MB of raw packets as rotating pcap files in DIR
    #[arg(long, value_name = "DIR")]
    pcap_ring: Option<PathBuf>,
    /// Size of the pcap ring
    #[arg(long, value_name = "MB", default_value_t = 256, requires = "pcap_ring")]
    ring_size: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics; a bare port listens on 127.0.0.1
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = parse_metrics_addr)]
    metrics: Option<SocketAddr>,
    /// MaxMind-format database for source AS/country/city; repeatable
    #[arg(long, value_name = "FILE")]
    mmdb: Vec<PathBuf>,
    /// Prefix-to-AS table (RouteViews pfx2as or iptoasn TSV); repeatable
    #[arg(long = "prefix-to-as", value_name = "FILE")]
    prefix_to_as: Vec<PathBuf>,
    /// zstd level of the Parquet pages
    #[arg(long, value_name = "N", default_value_t = 1)]
    zstd_level: i32,
    /// Print the final summary as JSON
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with s, m or h, e.g. 5m"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

fn parse_metrics_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse()
        .map_err(|_| format!("{s:?}: expected PORT or ADDR:PORT, e.g. 9477 or 127.0.0.1:9477"))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn clock(us: Option<i64>) -> String {
    let secs = us.unwrap_or(0).div_euclid(1_000_000);
    let (h, m, s) = (
        secs.rem_euclid(86_400) / 3600,
        secs.rem_euclid(3600) / 60,
        secs.rem_euclid(60),
    );
    format!("{h:02}:{m:02}:{s:02}")
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (config, root) = args.lake.load()?;
    noisefloor_lake::check_sensor_name(&args.sensor)?;
    let enricher = enricher(&config, &args.mmdb, &args.prefix_to_as)?;
    if args.promisc && args.interface.is_none() {
        bail!("--promisc applies to --interface only");
    }
    let buffer = args.buffer_mb.max(1) << 20;
    #[cfg(feature = "libpcap")]
    if let (Some(ifname), Some(filter)) = (&args.interface, &args.bpf) {
        let src = noisefloor_capture::live::LibpcapSource::open(
            ifname,
            args.snaplen,
            buffer,
            args.promisc,
            Some(filter),
        )?;
        return run_with(args, Box::new(src), config, root, enricher);
    }
    let source: Box<dyn LiveSource> = match (&args.interface, args.nflog_group) {
        (Some(ifname), _) => Box::new(PacketSource::open(
            ifname,
            args.snaplen,
            buffer,
            args.promisc,
        )?),
        (None, Some(group)) => Box::new(NflogSource::open(group, args.snaplen, buffer)?),
        (None, None) => bail!("give --nflog-group N or --interface IF"),
    };
    run_with(args, source, config, root, enricher)
}

fn run_with(
    args: Args,
    source: Box<dyn LiveSource>,
    config: noisefloor_lake::Config,
    root: PathBuf,
    enricher: noisefloor_enrich::Enricher,
) -> Result<ExitCode> {
    let sensor_cfg = config.sensor(&args.sensor).cloned().unwrap_or_default();
    let stop = stop_on_signals()?;
    let opts = SensorOptions {
        sensor: args.sensor.clone(),
        lake: root.clone(),
        segment: SegmentOptions {
            group: sensor_cfg.group.clone(),
            ctx: noisefloor_classify::Context {
                own: sensor_cfg.own_prefixes()?,
            },
            zstd_level: args.zstd_level,
            format: source.format(),
            source: source.describe(),
        },
        rotate: args.rotate,
        ring: args.pcap_ring.clone().map(|dir| RingOptions {
            dir,
            max_bytes: args.ring_size.max(1) << 20,
            snaplen: args.snaplen,
        }),
        metrics: args.metrics,
    };
    eprintln!(
        "noisefloor sensor {}: {} → {}, a segment every {} s; SIGINT/SIGTERM commits and stops",
        args.sensor,
        source.describe(),
        root.display(),
        args.rotate.as_secs()
    );
    let summary = noisefloor_sensor::run(source, &opts, &enricher, stop, &mut |e| match e {
        Event::Recovered(r) => eprintln!("noisefloor: {}: {r}", root.display()),
        Event::MetricsListening(a) => eprintln!("noisefloor: metrics at http://{a}/metrics"),
        Event::Committed(e) => eprintln!(
            "noisefloor: segment {}–{} committed: {} stored, {} kernel drops, {} truncated, {} decode errors",
            clock(e.segment_start_us),
            clock(e.segment_end_us),
            e.rows,
            e.kernel_drops,
            e.truncated,
            e.decode_errors
        ),
        Event::Warning(w) => eprintln!("noisefloor: warning: {w}"),
    })?;
    let c = &summary.capture;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{{\"sensor\": {}, \"lake\": {}, \"received\": {}, \"bytes\": {}, \"stored\": {}, \"kernel_drops\": {}, \"netlink_overruns\": {}, \"truncated\": {}, \"decode_errors\": {}, \"malformed\": {}, \"segments\": {}, \"segments_left_ready\": {}}}",
            json_str(&args.sensor),
            json_str(&root.display().to_string()),
            c.received,
            c.bytes,
            summary.stored,
            c.kernel_drops,
            c.overruns,
            c.truncated,
            summary.decode_errors,
            c.malformed,
            summary.segments,
            summary.segments_left_ready
        )?;
    } else {
        writeln!(
            out,
            "sensor {}: {} packets received, {} stored in {} segment(s), {} dropped by the kernel, {} truncated, {} with decode errors",
            args.sensor,
            c.received,
            summary.stored,
            summary.segments,
            c.kernel_drops,
            c.truncated,
            summary.decode_errors
        )?;
        if summary.segments_left_ready > 0 {
            writeln!(
                out,
                "{} segment(s) could not take the lake lock and will be committed at the next start",
                summary.segments_left_ready
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
