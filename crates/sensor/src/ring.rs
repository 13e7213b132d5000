//! The raw evidence ring: the last N MB of packets as rotating pcap files, so an analyst
//! can open exactly what the sensor saw in Wireshark.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use noisefloor_capture::PcapWriter;

/// Files the ring is split into; the oldest is deleted when the ring is full.
const FILES: u64 = 8;
const PREFIX: &str = "ring-";

pub struct PcapRing {
    dir: PathBuf,
    max_bytes: u64,
    file_bytes: u64,
    /// Finished files, oldest first, with their sizes, and the sum of those sizes.
    files: VecDeque<(PathBuf, u64)>,
    finished_bytes: u64,
    current: Option<(PathBuf, PcapWriter<BufWriter<File>>, u64, u32)>,
    seq: u64,
    snaplen: u32,
}

impl PcapRing {
    /// A ring in `dir` holding at most `max_bytes`; files left by an earlier run count
    /// towards the limit (oldest deleted first).
    pub fn open(dir: &Path, max_bytes: u64, snaplen: u32) -> io::Result<PcapRing> {
        fs::create_dir_all(dir)?;
        let mut old: Vec<(PathBuf, u64)> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".pcap"))
            })
            .filter_map(|e| Some((e.path(), e.metadata().ok()?.len())))
            .collect();
        old.sort();
        let mut ring = PcapRing {
            dir: dir.to_owned(),
            max_bytes,
            file_bytes: (max_bytes / FILES).max(64 * 1024),
            finished_bytes: old.iter().map(|f| f.1).sum(),
            files: old.into(),
            current: None,
            seq: 0,
            snaplen,
        };
        ring.trim()?;
        Ok(ring)
    }

    pub fn bytes(&self) -> u64 {
        self.finished_bytes + self.current.as_ref().map_or(0, |c| c.2)
    }

    fn trim(&mut self) -> io::Result<()> {
        while self.bytes() > self.max_bytes {
            let Some((path, size)) = self.files.pop_front() else {
                break;
            };
            self.finished_bytes -= size;
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Closes the open file (it stays in the ring).
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some((path, w, size, _)) = self.current.take() {
            w.into_inner()
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            self.files.push_back((path, size));
            self.finished_bytes += size;
        }
        Ok(())
    }

    pub fn write(
        &mut self,
        ts_ns: i64,
        linktype: u32,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let record = 16 + data.len() as u64;
        let rotate = match &self.current {
            Some((_, _, size, lt)) => size + record > self.file_bytes || *lt != linktype,
            None => true,
        };
        if rotate {
            self.flush()?;
            // Names sort in time order: UTC seconds, then a sequence number.
            let secs = ts_ns.div_euclid(1_000_000_000);
            self.seq += 1;
            let path = self.dir.join(format!(
                "{PREFIX}{secs:012}-{:06}-{}.pcap",
                self.seq,
                std::process::id()
            ));
            let w = PcapWriter::new(
                BufWriter::new(File::create(&path)?),
                linktype,
                self.snaplen,
                true,
            )?;
            self.current = Some((path, w, 24, linktype));
        }
        if let Some((_, w, size, _)) = &mut self.current {
            w.write(ts_ns, data, orig_len)?;
            *size += record;
        }
        self.trim()
    }
}

impl Drop for PcapRing {
    fn drop(&mut self) {
        if let Some((_, w, _, _)) = &mut self.current {
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_stays_within_its_size_and_keeps_the_newest() {
        let dir = std::env::temp_dir().join(format!("nf-ring-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut ring = PcapRing::open(&dir, 8 * 64 * 1024, 65535).unwrap();
        let pkt = vec![0x45u8; 1000];
        for i in 0..2000i64 {
            ring.write(i * 1_000_000_000, 101, &pkt, 1000).unwrap();
        }
        ring.flush().unwrap();
        let total: u64 = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= 8 * 64 * 1024, "ring holds {total} bytes");
        assert!(total >= 6 * 64 * 1024, "ring holds only {total} bytes");
        // The newest packet is in the ring: the last file ends with it.
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let last = fs::read(names.last().unwrap()).unwrap();
        let rec = &last[last.len() - 1016..];
        assert_eq!(u32::from_le_bytes(rec[0..4].try_into().unwrap()), 1999);
        // A reopened ring counts the files already there.
        let ring = PcapRing::open(&dir, 64 * 1024, 65535).unwrap();
        assert!(ring.bytes() <= 64 * 1024);
        fs::remove_dir_all(&dir).unwrap();
    }
}
