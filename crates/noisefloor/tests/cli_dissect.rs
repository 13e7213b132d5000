//! `noisefloor dissect` end to end: output modes, stdin, several files, filters, limits,
//! summary and exit status.

// The fixture helpers live beside the decoder reference tests in the capture crate.
#[path = "../../capture/tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::data;

fn nf(args: &[&str], stdin: Option<&[u8]>) -> (String, String, i32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_noisefloor"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run noisefloor");
    if let Some(input) = stdin {
        let mut s = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || s.write_all(&input).ok());
    }
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn p(rel: &str) -> String {
    data(rel).to_str().unwrap().to_string()
}

#[test]
fn summary_lines_show_the_whole_encapsulation() {
    let (out, err, code) = nf(
        &[
            "dissect",
            &p("zeek/Traces/tunnels/gre-within-gre.pcap"),
            "-c",
            "1",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1);
    let l = out.lines().next().unwrap();
    assert!(l.contains("72.205.54.70 > 86.106.164.150"), "{l}");
    assert!(l.contains("[10.10.11.2 > 10.10.13.2]"), "{l}");
    assert!(
        l.contains("10.10.25.1 > 192.168.1.2 ICMP echo-request"),
        "{l}"
    );
    assert!(
        l.ends_with("eth:ip:gre:ip:gre:ip:icmp  gre-other(routed-tunnel)"),
        "{l}"
    );
    assert!(err.starts_with("1 packets (1 matched)"), "{err}");
    assert!(err.contains("stopped after 1 printed packet(s)"), "{err}");
    let (_, err, _) = nf(
        &[
            "dissect",
            "--count-only",
            &p("zeek/Traces/tunnels/gre-within-gre.pcap"),
        ],
        None,
    );
    assert!(err.contains("628 packets"), "{err}");
    assert!(err.contains("eth:ip:gre:ip:gre:ip:icmp"), "{err}");
}

#[test]
fn json_is_one_object_per_packet_with_every_layer() {
    let (out, err, code) = nf(
        &["dissect", "--json", &p("tcpdump/erspan-type-ii-1.pcap")],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let line = out.lines().next().unwrap();
    assert!(line.starts_with("{\"frame\":1,"), "{line}");
    assert!(
        line.contains("{\"layer\":\"erspan\",\"type\":2,\"ver\":1,\"vlan\":"),
        "{line}"
    );
    assert!(line.contains("\"session\":666"), "{line}");
    assert!(line.contains("\"index\":32760"), "{line}");
    assert!(err.starts_with("{\"summary\":{"), "{err}");
}

#[test]
fn verbose_tree_decodes_flags_bit_by_bit() {
    let (out, _, code) = nf(
        &[
            "dissect",
            "-V",
            &p("tcpdump/pptp.pcap"),
            "--filter",
            "gre",
            "-c",
            "1",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("Generic Routing Encapsulation (ppp)"), "{out}");
    assert!(out.contains("..1. .... .... .... = Key bit: Set"), "{out}");
    assert!(out.contains(".... .... .... .001 = Version: 1"), "{out}");
    assert!(out.contains("Call ID: 0"), "{out}");
    assert!(out.contains("Point-to-Point Protocol"), "{out}");
}

#[test]
fn stdin_gzip_and_several_files_in_order() {
    let plain = std::fs::read(data("tcpdump/pptp.pcap")).unwrap();
    let (a, _, code) = nf(
        &["dissect", "-", &p("tcpdump/erspan-type-i-1.pcap")],
        Some(&plain),
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines.len(), 23 + 2);
    assert!(
        lines[0].trim_start().starts_with("1 2000-03-27"),
        "{}",
        lines[0]
    );
    assert!(
        lines[23].trim_start().starts_with("24 2011-09-07"),
        "frame numbers run on across files: {}",
        lines[23]
    );
}

#[test]
fn filter_skip_and_count() {
    let f = p("tcpdump/pptp.pcap");
    let (out, err, _) = nf(
        &["dissect", &f, "--filter", "tcp.syn and not tcp.ack_flag"],
        None,
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(err.contains("(1 matched)"), "{err}");
    let (out, _, _) = nf(
        &[
            "dissect",
            &f,
            "--filter",
            "outer.ip.src == 10.1.1.10 and tcp.port == 1723",
            "--skip",
            "2",
            "-c",
            "3",
        ],
        None,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines.iter().all(|l| l.contains("10.1.1.10:1723 >")),
        "{out}"
    );
    let (out, _, _) = nf(
        &[
            "dissect",
            &f,
            "--filter",
            "gre.call_id == 0 and gre.version == 1",
        ],
        None,
    );
    assert_eq!(out.lines().count(), 1);
    let (out, _, _) = nf(&["dissect", &f, "--filter", "ip.addr == 10.1.1.0/24"], None);
    assert_eq!(out.lines().count(), 23);
}

#[test]
fn seed_packet_filter_from_the_issue() {
    let frame = noisefloor_wire::build::seed_000_frame();
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&2u16.to_le_bytes());
    pcap.extend_from_slice(&4u16.to_le_bytes());
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&1u32.to_le_bytes());
    pcap.extend_from_slice(&1482860108u32.to_le_bytes());
    pcap.extend_from_slice(&152775u32.to_le_bytes());
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    pcap.extend_from_slice(&frame);
    let (out, _, code) = nf(
        &[
            "dissect",
            "-",
            "--filter",
            "gre and inner.udp.dport == 32698",
        ],
        Some(&pcap),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "31.168.107.48 > 1.2.3.4  GRE(ipv4) | 241.141.248.58:10335 > 178.177.101.55:32698 UDP"
        ),
        "{out}"
    );
    let (out, _, _) = nf(
        &["dissect", "-", "--filter", "inner.udp.dport == 32697"],
        Some(&pcap),
    );
    assert!(out.is_empty());
}

#[test]
fn bad_filter_is_explained() {
    let (_, err, code) = nf(
        &[
            "dissect",
            &p("tcpdump/pptp.pcap"),
            "--filter",
            "gree and udp",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("unknown protocol 'gree'"), "{err}");
    assert!(err.contains("docs/filter.md"), "{err}");
}

#[test]
fn corrupt_and_missing_files_are_reported_and_the_rest_is_read() {
    let (out, err, code) = nf(
        &[
            "dissect",
            "--count-only",
            &p("suricata-verify/bug-1450-04/tls_DER-incomplete-header.pcap"),
            "/nonexistent/capture.pcap",
            &p("tcpdump/pptp.pcap"),
        ],
        None,
    );
    assert_eq!(code, 2, "exit status 2 when an input had errors");
    assert!(out.is_empty());
    assert!(err.contains("29 packets"), "{err}");
    assert!(
        err.contains("tls_DER-incomplete-header.pcap: corrupt record header at byte 5035"),
        "{err}"
    );
    assert!(
        err.contains("/nonexistent/capture.pcap: cannot open"),
        "{err}"
    );
}

#[test]
fn unknown_link_type_is_named_and_counted() {
    let (_, err, code) = nf(
        &["dissect", "--count-only", &p("tcpdump/LINKTYPE_PKTAP.pcap")],
        None,
    );
    assert_eq!(code, 0);
    assert!(err.contains("unsupported link type 258"), "{err}");
    assert!(err.contains("link type 258 not decoded"), "{err}");
}
