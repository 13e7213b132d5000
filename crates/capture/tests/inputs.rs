//! Every capture format and malformed file: expected block counts (pcapng test generator),
//! libpcap's invalid savefiles, pcap-parser's edge cases, an 11-interface pcapng, gzip and
//! zstd input, and no panic on any fixture.

mod common;

use std::io::Write;

use common::{data, each_packet};
use noisefloor_capture::CaptureReader;
use noisefloor_wire::{Options, linktype};

#[test]
fn pcapng_test_generator_block_counts() {
    let mut files = 0;
    for order in ["output_le", "output_be"] {
        for cat in ["basic", "advanced", "difficult"] {
            let dir = data(&format!("pcapng-test-generator/{order}/{cat}"));
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.extension().and_then(|x| x.to_str()) != Some("pcapng") {
                    continue;
                }
                let txt = std::fs::read_to_string(p.with_extension("txt")).unwrap();
                let mut want: Vec<(String, u64)> = Vec::new();
                let mut in_counts = false;
                for l in txt.lines() {
                    if l.starts_with("Block sequence") {
                        break;
                    }
                    if l.starts_with("Block counts") {
                        in_counts = true;
                    } else if in_counts {
                        match l.trim().split_once(": ") {
                            Some((k, v)) => want.push((k.to_string(), v.parse().unwrap())),
                            None if l.trim().is_empty() => {}
                            None => in_counts = false,
                        }
                    }
                }
                let mut r = CaptureReader::open(p.to_str().unwrap()).unwrap();
                let mut packets = 0;
                while let Some(_rec) = r
                    .next_record()
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                {
                    packets += 1;
                }
                let stats = r.stats();
                for (k, v) in &want {
                    assert_eq!(stats.block_count(k), *v, "{}: {k} blocks", p.display());
                }
                let pkt_blocks: u64 = want
                    .iter()
                    .filter(|(k, _)| k == "EPB" || k == "SPB")
                    .map(|(_, v)| v)
                    .sum();
                assert_eq!(packets, pkt_blocks, "{}: packets", p.display());
                files += 1;
            }
        }
    }
    assert_eq!(files, 2 * 24);
}

#[test]
fn libpcap_invalid_savefiles_are_refused_with_libpcaps_reason() {
    for (file, msg) in [
        (
            "libpcap/linktype-reserved-field-not-zero.pcap",
            "savefile linktype reserved field not zero (0x00300000)",
        ),
        (
            "libpcap/pcap-invalid-version-1.pcap",
            "unsupported pcap savefile version 1.4",
        ),
        (
            "libpcap/pcap-invalid-version-2.pcap",
            "unsupported pcap savefile version 2.5",
        ),
        (
            "libpcap/pcapng-invalid-vers-1.pcapng",
            "unsupported pcapng savefile version 0.1",
        ),
        (
            "libpcap/pcapng-invalid-vers-2.pcapng",
            "unsupported pcapng savefile version 1.1",
        ),
        // libpcap reports the header length as 32 (it has consumed part of the block by
        // then); the length field in the file is 52. The disagreement is the trailer.
        (
            "libpcap/shb-option-too-long.pcapng",
            "and trailer 808464432 don't match",
        ),
    ] {
        let (n, err) = each_packet(file, Options::default(), |_, _, _| {});
        let err = err.unwrap_or_else(|| panic!("{file} was accepted"));
        let text = err.to_string();
        assert_eq!(n, 0, "{file}");
        assert!(text.contains(msg), "{file}: {text}");
        assert!(
            text.contains(file.rsplit('/').next().unwrap()),
            "error names the file: {text}"
        );
        assert!(text.contains("at byte"), "error names the offset: {text}");
    }
}

#[test]
fn bad_caplen_keeps_earlier_packets_and_names_the_offset() {
    // Suricata-verify bug-1450-04: a record at byte 5035 claims 4325376 captured bytes.
    let (n, err) = each_packet(
        "suricata-verify/bug-1450-04/tls_DER-incomplete-header.pcap",
        Options::default(),
        |_, _, _| {},
    );
    let err = err.expect("corrupt record reported");
    assert_eq!(err.offset(), Some(5035), "{err}");
    assert!(err.to_string().contains("4325376"), "{err}");
    assert_eq!(n, 6, "the packets before the bad record are kept");
}

#[test]
fn pcap_parser_assets() {
    let (n, err) = each_packet(
        "rusticata-pcap-parser/modified-format.pcap",
        Options::default(),
        |_, _, d| {
            let mut c = String::new();
            d.chain(&mut c);
            assert_eq!(c, "eth:ip:icmp");
        },
    );
    assert_eq!((n, err.is_none()), (1, true));
    let (n, err) = each_packet(
        "rusticata-pcap-parser/err-eof.bin",
        Options::default(),
        |_, _, _| {},
    );
    assert_eq!(n, 0);
    assert!(err.is_some());
    let (n, err) = each_packet(
        "rusticata-pcap-parser/wireshark_samples-test.pcapng",
        Options::default(),
        |_, _, _| {},
    );
    assert!(err.is_none(), "{err:?}");
    assert_eq!(n, 5898);
    let (n, err) = each_packet(
        "rusticata-pcap-parser/err-buffertoosmall.pcapng",
        Options::default(),
        |_, _, _| {},
    );
    assert!(err.is_none(), "{err:?}");
    assert_eq!(n, 27);
}

/// A pcapng block in little-endian order.
fn block(t: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = (12 + body.len()) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&t.to_le_bytes());
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&body);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

#[test]
fn eleven_interfaces_with_their_own_link_types_and_resolutions() {
    let seed = noisefloor_wire::build::seed_000_frame();
    let ip = &seed[14..];
    // (link type, tsresol option byte, frame)
    let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0];
    sll.extend_from_slice(ip);
    let mut sll2 = vec![
        0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    sll2.extend_from_slice(ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(ip);
    let mut lo = 2u32.to_be_bytes().to_vec();
    lo.extend_from_slice(ip);
    let mut nflog = vec![2, 0, 0, 5];
    let plen = (4 + ip.len()) as u16;
    nflog.extend_from_slice(&plen.to_le_bytes());
    nflog.extend_from_slice(&9u16.to_le_bytes());
    nflog.extend_from_slice(ip);
    let mut pflog = vec![0u8; 64];
    pflog[0] = 61;
    pflog[1] = 2;
    pflog.extend_from_slice(ip);
    let ifaces: Vec<(u32, u8, Vec<u8>)> = vec![
        (linktype::ETHERNET, 6, seed.clone()),
        (linktype::RAW, 9, ip.to_vec()),
        (linktype::IPV4, 3, ip.to_vec()),
        (linktype::LINUX_SLL, 6, sll),
        (linktype::LINUX_SLL2, 0x80 | 20, sll2),
        (linktype::NULL, 6, null),
        (linktype::LOOP, 6, lo),
        (linktype::NFLOG, 6, nflog),
        (linktype::PFLOG, 6, pflog),
        (linktype::RAW_BSD12, 6, ip.to_vec()),
        (linktype::RAW_OPENBSD14, 6, ip.to_vec()),
    ];
    let mut f = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    f.extend(block(0x0A0D0D0A, &shb));
    for (lt, res, _) in &ifaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&(*lt as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        // if_tsresol option (code 9, length 1), then end of options.
        idb.extend_from_slice(&[9, 0, 1, 0, *res, 0, 0, 0, 0, 0, 0, 0]);
        f.extend(block(1, &idb));
    }
    // Every packet at 2016-12-27 17:35:08.152775 UTC, in each interface's own units.
    let when_ns: u128 = 1_482_860_108_152_775_000;
    for (i, (_, res, frame)) in ifaces.iter().enumerate() {
        let per_sec: u128 = if res & 0x80 != 0 {
            1u128 << (res & 0x7f)
        } else {
            10u128.pow(*res as u32)
        };
        let units = when_ns * per_sec / 1_000_000_000;
        let mut epb = Vec::new();
        epb.extend_from_slice(&(i as u32).to_le_bytes());
        epb.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(units as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(frame);
        f.extend(block(6, &epb));
    }
    let mut r =
        CaptureReader::from_reader("eleven.pcapng", Box::new(std::io::Cursor::new(f))).unwrap();
    let mut i = 0;
    while let Some(rec) = r.next_record().unwrap() {
        let (lt, res, _) = &ifaces[i];
        assert_eq!(rec.linktype, *lt);
        assert_eq!(rec.interface, i as u32);
        let per_sec: i64 = if res & 0x80 != 0 {
            1i64 << (res & 0x7f)
        } else {
            10i64.pow(*res as u32)
        };
        let tolerance_ns = 1_000_000_000 / per_sec;
        assert!(
            (rec.ts_ns - when_ns as i64).abs() <= tolerance_ns,
            "iface {i}: {}",
            rec.ts_ns
        );
        let d = noisefloor_wire::dissect(rec.linktype, rec.data);
        let inner = d.inner_ip().expect("inner ip");
        assert_eq!(
            inner.src().to_string(),
            "241.141.248.58",
            "iface {i} ({lt})"
        );
        assert!(d.has(noisefloor_wire::Proto::Gre), "iface {i}");
        i += 1;
    }
    assert_eq!(i, 11);
    assert_eq!(r.stats().interfaces.len(), 11);
}

#[test]
fn gzip_and_zstd_files_decode_like_the_plain_file() {
    let plain = std::fs::read(data("tcpdump/pptp.pcap")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let dir = std::env::temp_dir().join(format!("nf-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chains = |p: &std::path::Path| {
        let mut r = CaptureReader::open(p.to_str().unwrap()).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let mut c = String::new();
            noisefloor_wire::dissect(rec.linktype, rec.data).chain(&mut c);
            v.push((rec.ts_ns, c));
        }
        v
    };
    let want = chains(&data("tcpdump/pptp.pcap"));
    assert_eq!(want.len(), 23);
    // No extensions: the format is detected from the content.
    for (name, bytes) in [("capture-a", &gz), ("capture-b", &zst)] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        assert_eq!(chains(&p), want, "{name}");
    }
    let (n, err) = each_packet(
        "zeek/Traces/trunc/mpls-6in6-broken.pcap.gz",
        Options::default(),
        |_, _, _| {},
    );
    assert!(n > 0 && err.is_none(), "{n} {err:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_fixture_reads_and_decodes_without_panic() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if ["pcap", "pcapng", "gz", "bin"]
                .contains(&p.extension().and_then(|x| x.to_str()).unwrap_or(""))
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&data(""), &mut files);
    let mut packets = 0u64;
    for f in &files {
        let mut r = match CaptureReader::open(f.to_str().unwrap()) {
            Ok(r) => r,
            Err(e) => {
                assert!(
                    e.to_string()
                        .contains(f.file_name().unwrap().to_str().unwrap())
                );
                continue;
            }
        };
        loop {
            match r.next_record() {
                Ok(Some(rec)) => {
                    packets += 1;
                    let d = noisefloor_wire::dissect(rec.linktype, rec.data);
                    let mut s = String::new();
                    let meta = noisefloor_wire::render::FrameMeta {
                        number: packets,
                        ts_ns: rec.ts_ns,
                        caplen: rec.caplen,
                        origlen: rec.origlen,
                        interface: 0,
                    };
                    noisefloor_wire::render::summary_line(&mut s, &meta, &d);
                    noisefloor_wire::render::verbose(&mut s, &meta, &d);
                    noisefloor_wire::render::json(&mut s, &meta, &d);
                }
                Ok(None) => break,
                Err(e) => {
                    let t = e.to_string();
                    assert!(t.contains("at byte"), "{}: {t}", f.display());
                    break;
                }
            }
        }
    }
    assert!(files.len() > 230, "{} files", files.len());
    assert!(packets > 10_000, "{packets} packets");
}
