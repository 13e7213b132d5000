//! Logs end to end: GRE in netfilter and Cisco ASA lines counted by `explain`, a capture and
//! a log in one run, hostile lines rejected (never a panic) with their line numbers,
//! `--strict`, envelopes (journald JSON/export, dmesg with --boot-time), compressed logs,
//! Windows' `#Fields:` header and `dissect --json` on a log.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn run(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_noisefloor"))
        .args(args)
        .output()
        .expect("run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn temp(name: &str, bytes: &[u8]) -> String {
    let p: PathBuf = std::env::temp_dir().join(format!("nf-logs-{}-{name}", std::process::id()));
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p.to_str().unwrap().to_string()
}

const GRE_NETFILTER: &str = "Nov 20 03:14:07 fw1 kernel: [123.456] IPTABLES-DROP: IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.5 DST=198.51.100.7 LEN=564 TOS=0x00 PREC=0x00 TTL=52 ID=49071 DF PROTO=47 ";
const GRE_ASA: &str = "Nov 20 03:14:08 asa1 %ASA-3-106010: Deny inbound protocol 47 src outside:115.51.6.185 dst outside:116.6.127.120";
const SYN: &str = "Nov 20 03:14:09 fw1 kernel: IPTABLES-DROP: IN=eth0 OUT= SRC=192.0.2.77 DST=198.51.100.7 LEN=40 TTL=240 ID=1234 PROTO=TCP SPT=40000 DPT=23 WINDOW=65535 RES=0x00 SYN URGP=0";

fn explain_json(files: &[&str], extra: &[&str]) -> (Value, String, i32) {
    let mut args = vec!["explain", "--json", "--year", "2026"];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    let (out, err, code) = run(&args);
    (serde_json::from_str(&out).unwrap_or(Value::Null), err, code)
}

fn class_packets(v: &Value, class: &str) -> u64 {
    v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == class)
        .map_or(0, |c| c["packets"].as_u64().unwrap())
}

#[test]
fn gre_in_netfilter_and_asa_lines_is_counted_as_gre() {
    let log = temp(
        "gre.log",
        format!("{GRE_NETFILTER}\n{GRE_ASA}\n{SYN}\n").as_bytes(),
    );
    let (v, err, code) = explain_json(&[&log], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["packets"], 3);
    assert_eq!(class_packets(&v, "gre-unverified"), 2);
    assert_eq!(class_packets(&v, "scan-tcp"), 1);
    let gre = v["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "GRE")
        .unwrap();
    assert_eq!(gre["packets"], 2);
    assert_eq!(v["logs"]["formats"]["netfilter"], 2);
    assert_eq!(v["logs"]["formats"]["cisco-asa"], 1);
    assert_eq!(v["logs"]["rejected"], 0);
    assert_eq!(v["first"], "2026-11-20 03:14:07");
    // The verdict tells the admin how to confirm.
    let verdict = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "gre-unverified")
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        verdict.contains("cannot be checked") && verdict.contains("tcpdump"),
        "{verdict}"
    );
    // The text report names the drop rule for GRE.
    let (text, _, _) = run(&["explain", "--year", "2026", &log]);
    assert!(text.contains("iptables -A INPUT -p gre -j DROP"), "{text}");
}

#[test]
fn a_capture_and_a_log_in_one_run() {
    let log = temp("mixed.log", format!("{GRE_NETFILTER}\n").as_bytes());
    let pcap =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/seed-000-mirai-gre.pcap");
    let (v, err, code) = explain_json(&[pcap.to_str().unwrap(), &log], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["packets"], 2);
    assert_eq!(class_packets(&v, "mirai-gre-ip"), 1);
    assert_eq!(class_packets(&v, "gre-unverified"), 1);
}

/// Hostile lines: each must be rejected, none may crash the run or stop it.
fn hostile() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        // Very long lines: one that fits a chunk, one that does not.
        format!("Nov 20 03:14:07 fw1 kernel: SRC={}", "A".repeat(100_000)).into_bytes(),
        vec![b'x'; 3 << 20],
        // Binary garbage and invalid UTF-8.
        vec![0xff, 0xfe, 0x00, 0x01, 0x02, 0x80, 0x81, b'S', b'R', b'C', b'='],
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 \xc3\x28 PROTO=TCP".to_vec(),
        // Truncated fields.
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=".to_vec(),
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TTL=64 PROTO=TCP".to_vec(),
        b"Nov 20 03:14:07 fw1 filterlog: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,1,0,none,6,tcp".to_vec(),
        b"%ASA-2-106001: Inbound TCP connection denied from".to_vec(),
        // Absurd numbers.
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=40 PROTO=TCP SPT=99999999999999999999999 DPT=1".to_vec(),
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 LEN=40 TTL=300 PROTO=TCP SPT=1 DPT=1".to_vec(),
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 SRC=999.2.3.4 DST=5.6.7.8 PROTO=UDP SPT=1 DPT=1".to_vec(),
        b"Nov 20 03:14:07 fw1 kernel: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 PROTO=4000 SPT=1 DPT=1".to_vec(),
        b"Feb 30 03:14:07 fw1 kernel: IN=eth0 SRC=1.2.3.4 DST=5.6.7.8 PROTO=UDP SPT=1 DPT=1".to_vec(),
        b"1,2023/07/06 08:11:40,0164,TRAFFIC,deny,2561,2023/07/06 08:11:40,1.2.3.2".to_vec(),
        b"{\"MESSAGE\":\"IN=eth0 SRC=1.2.3.4\\q\"}".to_vec(),
    ];
    // Control characters inside an otherwise valid line.
    v.push(format!("{SYN}\x07\x1b[2J").into_bytes());
    v
}

#[test]
fn hostile_lines_are_rejected_with_line_numbers_and_the_rest_kept() {
    let h = hostile();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(GRE_NETFILTER.as_bytes());
    bytes.push(b'\n');
    for l in &h {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(SYN.as_bytes());
    bytes.push(b'\n');
    let log = temp("hostile.log", &bytes);
    let (v, err, code) = explain_json(&[&log], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["logs"]["lines"], h.len() as u64 + 2, "{}", v["logs"]);
    assert_eq!(v["logs"]["records"], 2, "{}", v["logs"]);
    assert_eq!(v["logs"]["rejected"], h.len() as u64, "{}", v["logs"]);
    assert_eq!(v["packets"], 2);
    // Every rejected line is listed with its number: lines 2 .. h.len() + 1.
    let mut lines: Vec<u64> = v["logs"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, (2..h.len() as u64 + 2).collect::<Vec<_>>());

    let (_, err, code) = run(&["explain", "--strict", "--year", "2026", &log]);
    assert_eq!(code, 2);
    assert!(err.contains("--strict") && err.contains(":2:"), "{err}");
    let (_, err, _) = run(&["explain", "--show-rejects", "--year", "2026", &log]);
    assert!(
        err.contains("hostile.log:3: rejected: line longer than 64 KiB"),
        "{err}"
    );
}

#[test]
fn envelopes_journald_dmesg_and_compression() {
    let journal_json = r#"{"__REALTIME_TIMESTAMP":"1763608447000000","_HOSTNAME":"fw1","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"IPTABLES-DROP: IN=eth0 OUT= SRC=203.0.113.5 DST=198.51.100.7 LEN=564 TTL=52 ID=1 DF PROTO=47 "}"#;
    let export = "__CURSOR=s=1\n__REALTIME_TIMESTAMP=1763608448000000\n_TRANSPORT=kernel\nMESSAGE=IN=eth0 OUT= SRC=203.0.113.6 DST=198.51.100.7 LEN=52 TTL=52 ID=2 PROTO=47 \n_HOSTNAME=fw1\n\n__CURSOR=s=2\n__REALTIME_TIMESTAMP=1763608449000000\nMESSAGE=IN=eth0 OUT= SRC=203.0.113.7 DST=198.51.100.7 LEN=52 TTL=52 ID=3 PROTO=47 \n\n";
    let dmesg = "[  203.842973] IPTABLES-DROP: IN=eth0 OUT= SRC=203.0.113.8 DST=198.51.100.7 LEN=40 TTL=64 ID=25029 PROTO=TCP SPT=1 DPT=23 SYN \n";
    let j = temp("journal.json", journal_json.as_bytes());
    let e = temp("journal.export", export.as_bytes());
    let d = temp("dmesg.txt", dmesg.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("{GRE_ASA}\n").as_bytes()).unwrap();
    let g = temp("asa.log.gz", &gz.finish().unwrap());
    let (v, err, code) = explain_json(&[&j, &e, &d, &g], &["--boot-time", "2025-11-20T03:00:00Z"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["logs"]["records"], 5, "{}", v["logs"]);
    assert_eq!(class_packets(&v, "gre-unverified"), 4);
    assert_eq!(v["logs"]["untimed"], 0);
    // journald's time is UTC microseconds: 1763608447 = 2025-11-20 03:14:07.
    assert_eq!(v["first"], "2025-11-20 03:03:23");
    // Without a boot time the dmesg record is counted but has no time.
    let (v, _, _) = explain_json(&[&d], &[]);
    assert_eq!(v["logs"]["untimed"], 1);
    assert_eq!(v["packets"], 1);
}

#[test]
fn windows_firewall_log_follows_its_fields_header() {
    let log = "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\n\n2019-05-13 12:00:01 DROP TCP 10.0.0.5 10.0.0.1 52813 445 52 S 1623471237 0 8192 - - - RECEIVE\n2019-05-13 12:00:02 DROP 47 10.0.0.6 10.0.0.1 - - 564 - - - - - - - RECEIVE\n";
    let f = temp("pfirewall.log", log.as_bytes());
    let (v, err, code) = explain_json(&[&f], &["--tz", "+02:00"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["logs"]["formats"]["windows"], 2, "{}", v["logs"]);
    assert_eq!(class_packets(&v, "gre-unverified"), 1);
    assert_eq!(v["first"], "2019-05-13 10:00:01");
}

#[test]
fn dissect_json_prints_one_record_per_line() {
    let log = temp(
        "d.log",
        format!("{GRE_NETFILTER}\nnot a firewall line at all\n{GRE_ASA}\n").as_bytes(),
    );
    let (out, err, code) = run(&["dissect", "--json", "--year", "2026", &log]);
    assert_eq!(code, 0, "{err}");
    let recs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["proto"], 47);
    assert_eq!(recs[0]["line"], 1);
    assert_eq!(recs[0]["ip_len"], 564);
    assert_eq!(recs[0]["class"], "gre-unverified");
    assert_eq!(recs[1]["format"], "cisco-asa");
    assert_eq!(recs[1]["src"], "115.51.6.185");
    assert_eq!(recs[1]["line"], 3);
    let summary: Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["log_rejected"], 1);
}
