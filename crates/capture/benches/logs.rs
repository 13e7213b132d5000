//! Log parsing speed on one core: a realistic mix of netfilter lines (kernel syslog, TCP
//! SYNs, UDP, ICMP and GRE `PROTO=47`). Target: ≥ 1 M lines/s per core (BENCHMARKS.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use noisefloor_logs::{FileContext, LineParser, LogOptions, Outcome};

const LINES: [&str; 4] = [
    "Nov 20 03:14:07 fw1 kernel: [50028442.088484] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=195.54.160.107 DST=51.15.166.67 LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID=37308 PROTO=TCP SPT=8080 DPT=8123 WINDOW=1024 RES=0x00 SYN URGP=0",
    "Nov 20 03:14:07 fw1 kernel: [50028442.088485] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=203.0.113.5 DST=51.15.166.67 LEN=564 TOS=0x00 PREC=0x00 TTL=52 ID=49071 DF PROTO=47 ",
    "Nov 20 03:14:08 fw1 kernel: [50028442.088486] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=192.0.2.9 DST=51.15.166.67 LEN=76 TOS=0x00 PREC=0x00 TTL=64 ID=25029 DF PROTO=UDP SPT=49007 DPT=53 LEN=56 ",
    "Nov 20 03:14:08 fw1 kernel: [50028442.088487] IPTABLES-DROP: IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=192.0.2.10 DST=51.15.166.67 LEN=84 TOS=0x00 PREC=0x00 TTL=55 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=5 SEQ=1 ",
];

fn parse(c: &mut Criterion) {
    let opts = LogOptions::default();
    let file = FileContext::for_tests(2026, 11);
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    g.bench_function("netfilter_syslog_lines", |b| {
        let mut p = LineParser::new(&opts, &file, None);
        b.iter(|| {
            let mut records = 0;
            for l in LINES {
                if let Outcome::Record(o, _) = p.parse(black_box(l.as_bytes())) {
                    records += o.count;
                }
            }
            records
        })
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
