//! Exact sets of source addresses, and the on-disk form the rollup stores them in.
//!
//! IPv4 sets are written in Roaring's portable serialization (the format every Roaring
//! library reads: Java, Go, C, Python's pyroaring, Rust's `roaring`), but held in memory as
//! plain `u32` vectors sorted by radix sort. Darknet sources are scattered over the whole
//! address space, so a Roaring bitmap of them is mostly one-value containers, each its own
//! allocation: unions of such bitmaps spent 85 % of the report in malloc, free and container
//! copies (measured with `perf` over 100 M events). A sorted vector is 4 bytes per address,
//! appends are memcpy, and a union is one radix sort.

use std::net::IpAddr;

/// Roaring's cookie for bitmaps without run containers (the only kind written here).
const COOKIE_NO_RUNS: u32 = 12346;
/// Roaring's cookie for bitmaps that may hold run containers (low 16 bits).
const COOKIE_RUNS: u32 = 12347;
/// Containers with more values than this are bitsets, the rest sorted arrays.
const ARRAY_MAX: usize = 4096;
const BITSET_BYTES: usize = 8192;
/// Below this, `sort_unstable` beats the radix sort's fixed cost.
const SMALL_SORT: usize = 1 << 12;
/// Appended values are compacted (sorted, deduplicated) once they outnumber the compacted
/// ones and this many: memory stays within about twice the distinct count.
const MIN_COMPACT: usize = 1 << 16;
/// Sorted runs at least this long are merged as they are rather than re-sorted.
const LONG_RUN: usize = 1 << 12;

/// An exact set of source addresses.
#[derive(Clone, Debug, Default)]
pub struct SourceSet {
    /// Sorted and distinct up to `v4_clean`; appended values follow in any order.
    v4: Vec<u32>,
    v4_clean: usize,
    /// Long sorted runs (decoded bitmaps, partial states) waiting to be merged in: merging
    /// sorted runs streams through memory, where a radix sort scatters.
    v4_runs: Vec<Vec<u32>>,
    v4_run_values: usize,
    /// Their capacity, kept as they come and go: `heap_bytes` is asked per row.
    v4_run_capacity: usize,
    v6: Vec<u128>,
    v6_clean: usize,
    /// Reused by compactions (a fresh buffer per sort costs page faults).
    scratch: Vec<u32>,
    /// Buffers freed by merges, reused by the next ones for the same reason.
    spare: Vec<Vec<u32>>,
}

impl SourceSet {
    pub fn insert(&mut self, a: IpAddr) {
        match a {
            IpAddr::V4(v4) => {
                self.v4.push(u32::from(v4));
                self.maybe_compact_v4();
            }
            IpAddr::V6(v6) => {
                self.v6.push(u128::from(v6));
                self.maybe_compact_v6();
            }
        }
    }

    fn maybe_compact_v4(&mut self) {
        let pending = self.v4.len() - self.v4_clean + self.v4_run_values;
        if pending >= self.v4_clean.max(MIN_COMPACT) {
            self.compact_v4();
        }
    }

    fn maybe_compact_v6(&mut self) {
        if self.v6.len() - self.v6_clean >= self.v6_clean.max(MIN_COMPACT) {
            self.compact_v6();
        }
    }

    /// Sorts and deduplicates the appended values, then merges them and the waiting runs
    /// into the sorted part, smallest runs first (a Huffman order: each value is copied
    /// about log(runs) times, and the large sorted part once).
    fn compact_v4(&mut self) {
        if self.v4_clean == self.v4.len() && self.v4_runs.is_empty() {
            return;
        }
        let clean = self.v4_clean;
        let tail_len = sort_dedup_u32(&mut self.v4[clean..], &mut self.scratch);
        self.v4.truncate(clean + tail_len);
        if self.v4_runs.is_empty() {
            if clean > 0 && tail_len > 0 {
                let (a, b) = self.v4.split_at(clean);
                self.scratch.clear();
                self.scratch.reserve(a.len() + b.len());
                merge_dedup(a, b, &mut self.scratch);
                std::mem::swap(&mut self.v4, &mut self.scratch);
            }
        } else {
            let mut runs = std::mem::take(&mut self.v4_runs);
            if tail_len > 0 {
                let mut tail = self.take_spare(tail_len);
                tail.extend_from_slice(&self.v4[clean..]);
                runs.push(tail);
            }
            self.v4.truncate(clean);
            let sorted = std::mem::take(&mut self.v4);
            if clean > 0 {
                runs.push(sorted);
            } else {
                self.give_spare(sorted);
            }
            self.v4 = self.merge_runs(runs);
            self.v4_run_values = 0;
            self.v4_run_capacity = 0;
            // Two spares cover the next compaction's largest merge; more is hoarding.
            self.spare
                .sort_unstable_by_key(|b| std::cmp::Reverse(b.capacity()));
            self.spare.truncate(2);
        }
        self.v4_clean = self.v4.len();
    }

    /// Merges sorted, distinct runs into one, always the two shortest next.
    fn merge_runs(&mut self, runs: Vec<Vec<u32>>) -> Vec<u32> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut slots: Vec<Option<Vec<u32>>> = runs.into_iter().map(Some).collect();
        let mut heap: BinaryHeap<Reverse<(usize, usize)>> = slots
            .iter()
            .enumerate()
            .map(|(i, r)| Reverse((r.as_ref().map_or(0, Vec::len), i)))
            .collect();
        loop {
            let Some(Reverse((_, i))) = heap.pop() else {
                return Vec::new();
            };
            let a = slots[i].take().unwrap_or_default();
            let Some(Reverse((_, j))) = heap.pop() else {
                return a;
            };
            let b = slots[j].take().unwrap_or_default();
            let mut out = self.take_spare(a.len() + b.len());
            merge_dedup(&a, &b, &mut out);
            self.give_spare(a);
            self.give_spare(b);
            heap.push(Reverse((out.len(), slots.len())));
            slots.push(Some(out));
        }
    }

    /// An empty buffer for `n` values: the roomiest spare, else a new one.
    fn take_spare(&mut self, n: usize) -> Vec<u32> {
        let best = (0..self.spare.len()).max_by_key(|&i| self.spare[i].capacity());
        let mut b = match best {
            Some(i) => self.spare.swap_remove(i),
            None => Vec::new(),
        };
        b.clear();
        b.reserve(n);
        b
    }

    fn give_spare(&mut self, b: Vec<u32>) {
        if b.capacity() > 0 {
            self.spare.push(b);
        }
    }

    /// Queues a run that is known sorted and distinct, or appends it unsorted.
    fn push_run(&mut self, run: Vec<u32>) {
        if run.len() >= LONG_RUN {
            self.v4_run_values += run.len();
            self.v4_run_capacity += run.capacity();
            self.v4_runs.push(run);
        } else {
            self.v4.extend_from_slice(&run);
        }
    }

    fn compact_v6(&mut self) {
        if self.v6_clean < self.v6.len() {
            self.v6.sort_unstable();
            self.v6.dedup();
            self.v6_clean = self.v6.len();
        }
    }

    fn compact(&mut self) {
        self.compact_v4();
        self.compact_v6();
    }

    /// Adds every address of `other`.
    pub fn union_with(&mut self, other: &SourceSet) {
        self.v4.extend_from_slice(&other.v4);
        for r in &other.v4_runs {
            self.push_run(r.clone());
        }
        self.v6.extend_from_slice(&other.v6);
        self.maybe_compact_v4();
        self.maybe_compact_v6();
    }

    /// Number of distinct sources.
    pub fn len(&mut self) -> u64 {
        self.compact();
        (self.v4.len() + self.v6.len()) as u64
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Bytes held, for memory accounting (capacity, not length: what the allocator gave).
    pub fn heap_bytes(&self) -> usize {
        // At most a few spares, however many runs wait.
        let spare: usize = self.spare.iter().map(Vec::capacity).sum();
        (self.v4.capacity() + self.scratch.capacity() + self.v4_run_capacity + spare) * 4
            + self.v6.capacity() * 16
    }

    /// The IPv4 sources in Roaring's portable serialization.
    pub fn encode_v4(&mut self) -> Vec<u8> {
        self.compact_v4();
        let mut out = Vec::new();
        encode_portable(&self.v4, &mut out);
        out
    }

    /// The IPv6 sources: sorted, distinct, 16 bytes each in network order.
    pub fn encode_v6(&mut self) -> Vec<u8> {
        self.compact_v6();
        self.v6.iter().flat_map(|a| a.to_be_bytes()).collect()
    }

    /// Adds the sources of an encoded pair (as [`SourceSet::encode_v4`] and
    /// [`SourceSet::encode_v6`] write them). The bytes come from files anyone could have
    /// written, so both are validated; on error nothing is added.
    pub fn merge_encoded(&mut self, v4: &[u8], v6: &[u8]) -> Result<(), String> {
        if !v6.len().is_multiple_of(16) {
            return Err(format!(
                "src_v6 holds {} bytes, not a whole number of 16-byte addresses",
                v6.len()
            ));
        }
        // A bitmap this large may hold a long run (an array value takes 2 bytes; a
        // one-value container 10 with its header): decode it on its own, and `push_run`
        // keeps it as a run if it is long, or appends it to the unsorted values if not.
        if v4.len() >= 2 * LONG_RUN + 8 {
            let mut run = self.take_spare(v4.len() / 2);
            if let Err(e) = decode_portable(v4, &mut run) {
                self.give_spare(run);
                return Err(format!("src_v4 is not a Roaring bitmap: {e}"));
            }
            // The decoder refuses values out of order, so the run is sorted and distinct.
            self.push_run(run);
        } else {
            let before = self.v4.len();
            if let Err(e) = decode_portable(v4, &mut self.v4) {
                self.v4.truncate(before);
                return Err(format!("src_v4 is not a Roaring bitmap: {e}"));
            }
        }
        self.extend_v6(v6);
        self.maybe_compact_v4();
        Ok(())
    }

    /// The set as two flat byte strings (IPv4 as little-endian `u32`s, IPv6 as 16 bytes in
    /// network order), the cheapest form to hand between threads of one query.
    pub fn to_raw(&mut self) -> (Vec<u8>, Vec<u8>) {
        self.compact();
        let mut v4 = Vec::with_capacity(self.v4.len() * 4);
        for a in &self.v4 {
            v4.extend_from_slice(&a.to_le_bytes());
        }
        (v4, self.encode_v6())
    }

    /// Adds a set written by [`SourceSet::to_raw`].
    pub fn merge_raw(&mut self, v4: &[u8], v6: &[u8]) -> Result<(), String> {
        if !v4.len().is_multiple_of(4) || !v6.len().is_multiple_of(16) {
            return Err(format!(
                "a raw source set holds {} and {} bytes, not whole addresses",
                v4.len(),
                v6.len()
            ));
        }
        let values = v4
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        if v4.len() / 4 >= LONG_RUN {
            let run: Vec<u32> = values.collect();
            // States come from this process, but only a checked run skips the sort.
            if run.windows(2).all(|w| w[0] < w[1]) {
                self.push_run(run);
            } else {
                self.v4.extend_from_slice(&run);
            }
        } else {
            self.v4.extend(values);
        }
        self.extend_v6(v6);
        self.maybe_compact_v4();
        Ok(())
    }

    fn extend_v6(&mut self, v6: &[u8]) {
        for chunk in v6.chunks_exact(16) {
            let mut a = [0u8; 16];
            a.copy_from_slice(chunk);
            self.v6.push(u128::from_be_bytes(a));
        }
        self.maybe_compact_v6();
    }

    /// Every address, IPv4 first, each in ascending order.
    pub fn addresses(&mut self) -> Vec<IpAddr> {
        self.compact();
        self.v4
            .iter()
            .map(|&a| IpAddr::from(std::net::Ipv4Addr::from(a)))
            .chain(
                self.v6
                    .iter()
                    .map(|&a| IpAddr::from(std::net::Ipv6Addr::from(a))),
            )
            .collect()
    }
}

/// Sorts `v` and moves its distinct values to the front; returns how many there are.
/// LSD radix sort, four passes of 8 bits, skipping a pass whose digit is the same in every
/// value (sources from one /8 share their top digit). The scatter is memory-bound: 256
/// buckets measured twice as fast as 2,048 (three passes of 11 bits) on 5 M addresses.
fn sort_dedup_u32(v: &mut [u32], scratch: &mut Vec<u32>) -> usize {
    if v.len() < SMALL_SORT {
        v.sort_unstable();
    } else {
        radix_sort(v, scratch);
    }
    let mut kept = 0;
    for i in 0..v.len() {
        if kept == 0 || v[i] != v[kept - 1] {
            v[kept] = v[i];
            kept += 1;
        }
    }
    kept
}

fn radix_sort(v: &mut [u32], scratch: &mut Vec<u32>) {
    const BITS: u32 = 8;
    const BUCKETS: usize = 1 << BITS;
    let mut counts = [[0usize; BUCKETS]; 4];
    for &x in v.iter() {
        for (pass, c) in counts.iter_mut().enumerate() {
            c[((x >> (pass as u32 * BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    scratch.clear();
    scratch.resize(v.len(), 0);
    // Where the values are now: `v` (false) or `scratch` (true).
    let mut in_scratch = false;
    for (pass, c) in counts.iter_mut().enumerate() {
        if c.contains(&v.len()) {
            continue;
        }
        let mut start = 0;
        for n in c.iter_mut() {
            let here = *n;
            *n = start;
            start += here;
        }
        let shift = pass as u32 * BITS;
        let (from, to): (&[u32], &mut [u32]) = if in_scratch {
            (&scratch[..], &mut v[..])
        } else {
            (&v[..], &mut scratch[..])
        };
        for &x in from {
            let d = ((x >> shift) as usize) & (BUCKETS - 1);
            to[c[d]] = x;
            c[d] += 1;
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        v.copy_from_slice(scratch);
    }
}

/// Appends the union of two sorted, distinct slices to `out`, sorted and distinct.
///
/// Which input advances depends on the data, so the merge is written without branches
/// (random addresses would mispredict half the time); what remains is the latency of
/// load, compare, advance. Four independent merges over value ranges split at the same
/// pivots in both inputs run interleaved to hide it (2.5 ns per value as one merge).
fn merge_dedup(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    const LANES: usize = 4;
    let base = out.len();
    out.resize(base + a.len() + b.len(), 0);
    let dst = &mut out[base..];
    let big = if a.len() >= b.len() { a } else { b };
    // Lane l merges a[ai[l]..ai[l + 1]] with b[bi[l]..bi[l + 1]]: every value of lane l is
    // below every value of lane l + 1, so no duplicate crosses lanes.
    let mut ai = [a.len(); LANES + 1];
    let mut bi = [b.len(); LANES + 1];
    ai[0] = 0;
    bi[0] = 0;
    for l in 1..LANES {
        match big.get(big.len() * l / LANES) {
            Some(&pivot) if big.len() >= 1024 => {
                ai[l] = a.partition_point(|&x| x < pivot);
                bi[l] = b.partition_point(|&x| x < pivot);
            }
            _ => {}
        }
    }
    let mut i: [usize; LANES] = std::array::from_fn(|l| ai[l]);
    let mut j: [usize; LANES] = std::array::from_fn(|l| bi[l]);
    let mut k: [usize; LANES] = std::array::from_fn(|l| ai[l] + bi[l]);
    while (0..LANES).all(|l| i[l] < ai[l + 1] && j[l] < bi[l + 1]) {
        for l in 0..LANES {
            let (x, y) = (a[i[l]], b[j[l]]);
            dst[k[l]] = x.min(y);
            k[l] += 1;
            i[l] += usize::from(x <= y);
            j[l] += usize::from(y <= x);
        }
    }
    let mut written = 0;
    for l in 0..LANES {
        while i[l] < ai[l + 1] && j[l] < bi[l + 1] {
            let (x, y) = (a[i[l]], b[j[l]]);
            dst[k[l]] = x.min(y);
            k[l] += 1;
            i[l] += usize::from(x <= y);
            j[l] += usize::from(y <= x);
        }
        let (ra, rb) = (&a[i[l]..ai[l + 1]], &b[j[l]..bi[l + 1]]);
        dst[k[l]..k[l] + ra.len()].copy_from_slice(ra);
        k[l] += ra.len();
        dst[k[l]..k[l] + rb.len()].copy_from_slice(rb);
        k[l] += rb.len();
        // Close the gap duplicates left before this lane's output.
        let start = ai[l] + bi[l];
        dst.copy_within(start..k[l], written);
        written += k[l] - start;
    }
    out.truncate(base + written);
}

/// Writes sorted, distinct values as a Roaring bitmap without run containers.
fn encode_portable(sorted: &[u32], out: &mut Vec<u8>) {
    // (key, first index, count) per container.
    let mut containers: Vec<(u16, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let key = (sorted[i] >> 16) as u16;
        let start = i;
        while i < sorted.len() && (sorted[i] >> 16) as u16 == key {
            i += 1;
        }
        containers.push((key, start, i - start));
    }
    let body: usize = containers
        .iter()
        .map(|&(_, _, n)| if n > ARRAY_MAX { BITSET_BYTES } else { 2 * n })
        .sum();
    let header = 8 + containers.len() * 8;
    out.reserve(header + body);
    out.extend_from_slice(&COOKIE_NO_RUNS.to_le_bytes());
    out.extend_from_slice(&(containers.len() as u32).to_le_bytes());
    for &(key, _, n) in &containers {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&((n - 1) as u16).to_le_bytes());
    }
    let mut offset = header;
    for &(_, _, n) in &containers {
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        offset += if n > ARRAY_MAX { BITSET_BYTES } else { 2 * n };
    }
    for &(_, start, n) in &containers {
        let values = &sorted[start..start + n];
        if n > ARRAY_MAX {
            let mut words = [0u64; BITSET_BYTES / 8];
            for &v in values {
                let low = (v & 0xffff) as usize;
                words[low / 64] |= 1 << (low % 64);
            }
            for w in words {
                out.extend_from_slice(&w.to_le_bytes());
            }
        } else {
            for &v in values {
                out.extend_from_slice(&(v as u16).to_le_bytes());
            }
        }
    }
}

/// A cursor over untrusted bytes: every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "truncated: {n} bytes needed at offset {}, {} present",
                    self.at,
                    self.bytes.len()
                )
            })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Appends the values of a portable Roaring bitmap to `out`, in ascending order. Empty
/// input is the empty set. Refused: unknown cookies, run containers (never written here,
/// and four bytes of a run can claim 65,536 addresses), keys or array values out of order,
/// cardinalities that disagree with the container, trailing bytes.
fn decode_portable(bytes: &[u8], out: &mut Vec<u32>) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut r = Reader { bytes, at: 0 };
    let cookie = r.u32()?;
    if cookie & 0xffff == COOKIE_RUNS {
        return Err("run containers are not accepted (noisefloor never writes them)".into());
    }
    if cookie != COOKIE_NO_RUNS {
        return Err(format!("unknown cookie {cookie:#x}"));
    }
    let n = r.u32()? as usize;
    if n > 1 << 16 {
        return Err(format!("{n} containers (at most 65,536)"));
    }
    let header = r.take(n * 4)?;
    r.take(n * 4)?; // offsets: containers follow in order, so they are not needed
    // The header alone says how many bytes the containers take: check it against the
    // input before reading any value, so the copy loops below need no checks.
    let (mut need, mut total) = (0usize, 0usize);
    let mut last_key: Option<u16> = None;
    for h in header.chunks_exact(4) {
        let key = u16::from_le_bytes([h[0], h[1]]);
        let card = usize::from(u16::from_le_bytes([h[2], h[3]])) + 1;
        if last_key.is_some_and(|k| k >= key) {
            return Err(format!("container key {key} out of order"));
        }
        last_key = Some(key);
        need += if card > ARRAY_MAX {
            BITSET_BYTES
        } else {
            2 * card
        };
        total += card;
    }
    let body = &bytes[r.at..];
    if need > body.len() {
        return Err(format!(
            "truncated: {need} bytes of containers needed at offset {}, {} present",
            r.at,
            body.len()
        ));
    }
    if need < body.len() {
        return Err(format!("{} trailing bytes", body.len() - need));
    }
    // At most 8 values per byte of input (a full bitset), so this cannot be made huge.
    let base = out.len();
    out.resize(base + total, 0);
    let dst = &mut out[base..];
    let (mut at, mut written) = (0, 0);
    for h in header.chunks_exact(4) {
        let key = u16::from_le_bytes([h[0], h[1]]);
        let card = usize::from(u16::from_le_bytes([h[2], h[3]])) + 1;
        let high = u32::from(key) << 16;
        let dst = &mut dst[written..written + card];
        written += card;
        if card > ARRAY_MAX {
            let words = &body[at..at + BITSET_BYTES];
            at += BITSET_BYTES;
            let mut found = 0;
            for (w, chunk) in words.chunks_exact(8).enumerate() {
                let mut word = u64::from_le_bytes([
                    chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
                ]);
                while word != 0 {
                    let bit = word.trailing_zeros();
                    if let Some(d) = dst.get_mut(found) {
                        *d = high | (w as u32 * 64 + bit);
                    }
                    found += 1;
                    word &= word - 1;
                }
            }
            if found != card {
                out.truncate(base);
                return Err(format!(
                    "container {key}: header says {card} values, bitset holds {found}"
                ));
            }
        } else {
            let values = &body[at..at + 2 * card];
            at += 2 * card;
            // No early exit: the order check folds along with the copy.
            let mut previous = -1i32;
            let mut ordered = true;
            for (d, c) in dst.iter_mut().zip(values.chunks_exact(2)) {
                let v = u16::from_le_bytes([c[0], c[1]]);
                ordered &= i32::from(v) > previous;
                previous = i32::from(v);
                *d = high | u32::from(v);
            }
            if !ordered {
                out.truncate(base);
                return Err(format!("container {key}: values out of order"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use roaring::RoaringBitmap;

    fn scattered(n: u32, salt: u32) -> Vec<u32> {
        (0..n)
            .map(|i| (i ^ salt).wrapping_mul(2_654_435_761))
            .collect()
    }

    #[test]
    fn radix_sort_sorts_and_dedups() {
        let mut scratch = Vec::new();
        for n in [0, 1, 5, SMALL_SORT - 1, SMALL_SORT, 100_000] {
            let mut v = scattered(n as u32, 7);
            // Duplicates and a shared top digit, so both the skip and the scatter run.
            v.extend(v.clone().iter().take(50).map(|x| x & 0x00ff_ffff));
            v.extend(v.clone().iter().take(20));
            let mut expected = v.clone();
            expected.sort_unstable();
            expected.dedup();
            let kept = sort_dedup_u32(&mut v, &mut scratch);
            assert_eq!(&v[..kept], &expected[..], "n = {n}");
        }
    }

    #[test]
    fn merge_keeps_each_value_once() {
        let mut out = vec![42];
        merge_dedup(&[1, 3, 5, 9], &[2, 3, 9, 10, 11], &mut out);
        assert_eq!(out, [42, 1, 2, 3, 5, 9, 10, 11]);
    }

    /// Inputs long enough for the four-lane merge, with duplicates on the lane pivots,
    /// skewed sizes, an empty side and one side entirely below the other.
    #[test]
    fn lane_merge_equals_a_sorted_union() {
        let sorted = |mut v: Vec<u32>| {
            v.sort_unstable();
            v.dedup();
            v
        };
        let big = sorted(scattered(50_000, 1));
        let overlapping = sorted(
            big.iter()
                .step_by(3)
                .copied()
                .chain(scattered(9_000, 2))
                .collect(),
        );
        let cases: Vec<(Vec<u32>, Vec<u32>)> = vec![
            (big.clone(), overlapping.clone()),
            (overlapping.clone(), big.clone()),
            (big.clone(), big.clone()),
            (big.clone(), Vec::new()),
            (Vec::new(), big.clone()),
            (
                big.clone(),
                vec![big[big.len() / 4], big[big.len() / 2], u32::MAX],
            ),
            ((0..5_000).collect(), (10_000..20_000).collect()),
            ((10_000..20_000).collect(), (0..5_000).collect()),
        ];
        for (n, (a, b)) in cases.into_iter().enumerate() {
            let mut out = vec![7];
            merge_dedup(&a, &b, &mut out);
            let expected = sorted(a.iter().chain(&b).copied().collect());
            assert_eq!(out[0], 7, "case {n}");
            assert_eq!(&out[1..], &expected[..], "case {n}");
        }
    }

    /// Large bitmaps and partial states take the sorted-run path; a long raw state that is
    /// not sorted must still be sorted rather than trusted.
    #[test]
    fn long_runs_and_unsorted_states_give_the_exact_union() {
        let as_set = |v: &[u32]| {
            let mut s = SourceSet::default();
            for &a in v {
                s.insert(IpAddr::from(std::net::Ipv4Addr::from(a)));
            }
            s
        };
        let parts: Vec<Vec<u32>> = (0..6).map(|k| scattered(20_000 + k * 3_000, k)).collect();
        let mut expected: Vec<u32> = parts.iter().flatten().copied().collect();
        expected.sort_unstable();
        expected.dedup();

        let mut from_bitmaps = SourceSet::default();
        for p in &parts {
            let encoded = as_set(p).encode_v4();
            assert!(encoded.len() >= 2 * LONG_RUN + 8);
            from_bitmaps.merge_encoded(&encoded, &[]).unwrap();
            // Single values in between go to the unsorted tail.
            from_bitmaps.insert(IpAddr::from(std::net::Ipv4Addr::from(p[0])));
        }
        let mut from_states = SourceSet::default();
        for (k, p) in parts.iter().enumerate() {
            let raw: Vec<u8> = if k % 2 == 0 {
                as_set(p).to_raw().0
            } else {
                // Unsorted and with repeats: must not be taken as a sorted run.
                p.iter()
                    .chain(p.iter().take(10))
                    .flat_map(|a| a.to_le_bytes())
                    .collect()
            };
            from_states.merge_raw(&raw, &[]).unwrap();
        }
        for mut s in [from_bitmaps, from_states] {
            assert_eq!(s.len(), expected.len() as u64);
            let (raw, _) = s.to_raw();
            let got: Vec<u32> = raw
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn many_compactions_give_the_exact_union() {
        // Overlapping batches large enough to compact many times.
        let mut s = SourceSet::default();
        let mut expected = std::collections::BTreeSet::new();
        for round in 0..12u32 {
            for i in 0..40_000u32 {
                let a = (i + round * 10_000).wrapping_mul(2_654_435_761);
                s.insert(IpAddr::from(std::net::Ipv4Addr::from(a)));
                expected.insert(a);
            }
        }
        let got: Vec<u32> = s
            .addresses()
            .into_iter()
            .map(|a| match a {
                IpAddr::V4(v) => u32::from(v),
                IpAddr::V6(_) => unreachable!(),
            })
            .collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn portable_format_matches_the_roaring_crate_both_ways() {
        // Sparse (array containers) and dense (a bitset container) in one set.
        let mut values = scattered(50_000, 1);
        values.extend((0..10_000u32).map(|i| 0x0a0a_0000 | (i * 5)));
        values.extend([0, u32::MAX]);
        let reference: RoaringBitmap = values.iter().copied().collect();
        let mut ours = Vec::new();
        let mut sorted: Vec<u32> = reference.iter().collect();
        encode_portable(&sorted, &mut ours);
        let mut theirs = Vec::new();
        reference.serialize_into(&mut theirs).unwrap();
        assert_eq!(
            ours, theirs,
            "byte-identical to roaring's own serialization"
        );
        assert_eq!(
            RoaringBitmap::deserialize_from(&ours[..]).unwrap(),
            reference
        );
        let mut decoded = Vec::new();
        decode_portable(&theirs, &mut decoded).unwrap();
        sorted.dedup();
        assert_eq!(decoded, sorted);
    }

    #[test]
    fn sets_round_trip_and_union_exactly() {
        let mut a = SourceSet::default();
        let mut b = SourceSet::default();
        for i in 0..200_000u32 {
            // Overlapping halves, scattered over the address space.
            a.insert(IpAddr::from(std::net::Ipv4Addr::from(
                i.wrapping_mul(2_654_435_761),
            )));
            b.insert(IpAddr::from(std::net::Ipv4Addr::from(
                (i + 100_000).wrapping_mul(2_654_435_761),
            )));
        }
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        a.insert(v6);
        a.insert(v6);
        b.insert("2001:db8::2".parse().unwrap());
        assert_eq!(a.len(), 200_001);
        let mut decoded = SourceSet::default();
        decoded
            .merge_encoded(&a.encode_v4(), &a.encode_v6())
            .unwrap();
        assert_eq!(decoded.addresses(), a.addresses());
        decoded.union_with(&b);
        assert_eq!(decoded.len(), 300_002);
        let (r4, r6) = b.to_raw();
        let mut raw = SourceSet::default();
        raw.merge_raw(&r4, &r6).unwrap();
        raw.merge_raw(&r4, &r6).unwrap();
        assert_eq!(raw.addresses(), b.addresses());
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        let mut s = SourceSet::default();
        assert!(s.merge_encoded(&[0xff; 40], &[]).is_err());
        assert!(s.merge_encoded(&[], &[1, 2, 3]).is_err());
        assert!(s.merge_raw(&[1, 2, 3], &[]).is_err());
        assert!(s.merge_encoded(&[], &[]).is_ok());
        // A run container claiming a whole /16 in a few bytes is refused, not expanded.
        let runs = [
            0x3b, 0x30, 0, 0, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 0, 0, 0, 0xff, 0xff,
        ];
        assert!(s.merge_encoded(&runs, &[]).unwrap_err().contains("run"));
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn corrupted_bitmaps_never_panic_and_add_nothing_when_refused() {
        // Rollup files are input like any other: flip bytes of a real bitmap and feed
        // random bytes; each must be merged or refused, never crash.
        let mut set = SourceSet::default();
        for i in 0..5_000u32 {
            set.insert(IpAddr::from(std::net::Ipv4Addr::from(
                i.wrapping_mul(40_503) ^ 0x0a00_0000,
            )));
        }
        for i in 0..5_000u32 {
            set.insert(IpAddr::from(std::net::Ipv4Addr::from(0x0b0b_0000 | i)));
        }
        let good = set.encode_v4();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut bytes = good.clone();
            for _ in 0..=(next() % 4) {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = next() as u8;
            }
            let cut = (next() % (bytes.len() as u64 + 1)) as usize;
            let mut s = SourceSet::default();
            if s.merge_encoded(&bytes[..cut], &[]).is_err() {
                assert_eq!(s.len(), 0);
            }
            let random: Vec<u8> = (0..(next() % 64)).map(|_| next() as u8).collect();
            let _ = s.merge_encoded(&random, &random);
            let _ = s.merge_raw(&random, &random);
            let _ = s.len();
        }
    }
}
