//! What `explain` accumulates per packet. Cheap per packet, bounded in memory, and
//! mergeable, so each decode thread keeps its own and they are merged at the end.

use std::collections::BTreeMap;
use std::net::IpAddr;

use noisefloor_classify::{Class, Evidence, MiraiVariant, Verdict, attack_shape};
use noisefloor_wire::Observation;

use crate::distinct::Distinct;
use crate::episodes::{Addr, Episodes, Sample};
use crate::top::Top;

/// Limits that keep memory bounded on any input.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Addresses counted exactly per distinct-set before switching to a sketch. Small enough
    /// to stay in cache: with spoofed or random sources every insert would miss otherwise.
    pub exact_distinct: u64,
    /// Sources (and victims) tracked for the top lists; cache-sized for the same reason.
    pub top_sources: usize,
    /// Seed of the distinct-count hashes (the same for every thread of a run).
    pub seed: u64,
}
impl Default for Limits {
    fn default() -> Self {
        Limits {
            exact_distinct: 65_536,
            top_sources: 2_048,
            seed: crate::distinct::run_seed(),
        }
    }
}

/// A protocol/port key in TSUBAME's notation: `GRE`, `23/TCP`, `123/UDP`, `ICMP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortKey {
    /// The IP protocol number.
    pub proto: u8,
    /// The destination port (TCP, UDP, SCTP; 0 for others).
    pub port: u16,
}
impl PortKey {
    /// TSUBAME's notation: `23/TCP`, `GRE`, `ICMP`, `proto N`.
    pub fn label(&self) -> String {
        let mut s = String::new();
        let port = matches!(self.proto, 6 | 17 | 132).then_some(self.port);
        noisefloor_classify::port_key(Some(self.proto), port, &mut s);
        s
    }
}

#[derive(Clone, Debug)]
/// What one class gathered.
pub struct ClassStats {
    /// Its packets.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Their distinct sources.
    pub sources: Distinct,
    /// Its first packet (ns since the epoch, UTC).
    pub first_ns: i64,
    /// Its last packet.
    pub last_ns: i64,
    /// The first packet's evidence, as an example.
    pub example: Option<Verdict>,
    /// Mirai variants: little-endian, big-endian, fixed ID.
    pub variants: [u64; 3],
    /// Packets per tag bit; complete after [`Triage::finish`].
    pub tags: [u64; 16],
    /// Packets per whole tag set, folded into `tags` by `flush_tags`: a packet's tags are
    /// one of a few combinations, so one counter per packet replaces one per tag bit.
    tag_sets: [(u32, u64); TAG_SLOTS],
    /// gre-other reasons, backscatter kinds (a handful of fixed names).
    pub reasons: Tally,
    /// Destination ports or services (scans).
    pub ports: PortCounts,
    /// Backscatter: the inferred victims.
    pub victims: Top,
    /// Distinct victims: the top list holds only the busiest, this counts them all.
    pub victim_count: Distinct,
}

impl ClassStats {
    fn new(l: &Limits) -> Self {
        ClassStats {
            packets: 0,
            bytes: 0,
            sources: Distinct::new(l.exact_distinct, l.seed),
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            example: None,
            variants: [0; 3],
            tags: [0; 16],
            tag_sets: [(0, 0); TAG_SLOTS],
            reasons: Tally::default(),
            ports: PortCounts::default(),
            // The run's seed, like every other table: reproducible for a given seed.
            victims: Top::with_seed(l.top_sources / 4, l.seed),
            victim_count: Distinct::new(VICTIMS_EXACT.min(l.exact_distinct), l.seed),
        }
    }
    /// Counts `n` packets of one verdict (time unknown for some log records).
    #[inline]
    fn count(&mut self, v: &Verdict, ts_ns: Option<i64>, n: u64, bytes: u64) {
        self.packets += n;
        self.bytes += bytes;
        if let Some(t) = ts_ns {
            self.first_ns = self.first_ns.min(t);
            self.last_ns = self.last_ns.max(t);
        }
        if self.example.is_none() {
            self.example = Some(*v);
        }
        // Direct-mapped by a multiplicative hash of the set; a collision flushes the old set.
        let at = v.tags.0.wrapping_mul(0x9e37_79b1) >> (32 - TAG_SLOTS.trailing_zeros());
        let slot = &mut self.tag_sets[at as usize];
        if slot.0 == v.tags.0 {
            slot.1 += n;
        } else {
            let (old, count) = std::mem::replace(slot, (v.tags.0, n));
            add_tag_bits(&mut self.tags, old, count);
        }
    }

    /// Folds the per-set counters into the per-bit ones.
    fn flush_tags(&mut self) {
        for slot in &mut self.tag_sets {
            let (set, count) = std::mem::take(slot);
            add_tag_bits(&mut self.tags, set, count);
        }
    }

    /// What the verdict's evidence adds: Mirai variants, reasons, victims, probed ports.
    #[inline]
    fn count_evidence(&mut self, v: &Verdict, ts_ns: i64, bytes: u64, n: u64) {
        match v.evidence {
            Evidence::MiraiGre { variant, .. } => {
                self.variants[match variant {
                    MiraiVariant::LittleEndian => 0,
                    MiraiVariant::BigEndian => 1,
                    MiraiVariant::FixedId => 2,
                }] += n;
            }
            Evidence::GreOther { reason } => self.reasons.add(reason.name(), n),
            Evidence::Backscatter { kind, victim, .. } => {
                self.reasons.add(kind.name(), n);
                self.victims
                    .add_weighted(victim, ts_ns, bytes, n, 1 << v.class.index());
                self.victim_count.add(victim);
            }
            Evidence::Scan { port, .. }
            | Evidence::MiraiScan { dport: port, .. }
            | Evidence::Masscan { dport: port, .. } => self.ports.add(port, n),
            _ => {}
        }
    }

    fn merge(&mut self, o: &ClassStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.sources.merge(&o.sources);
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        if self.example.is_none() {
            self.example = o.example;
        }
        for i in 0..3 {
            self.variants[i] += o.variants[i];
        }
        for i in 0..16 {
            self.tags[i] += o.tags[i];
        }
        for &(set, count) in &o.tag_sets {
            add_tag_bits(&mut self.tags, set, count);
        }
        for (k, v) in &o.reasons.0 {
            self.reasons.add(k, *v);
        }
        self.ports.merge(&o.ports);
        self.victims.merge(&o.victims);
        self.victim_count.merge(&o.victim_count);
    }
}

/// Slots of [`ClassStats`]'s tag-set counters (a power of two; the hash keeps the top bits).
const TAG_SLOTS: usize = 16;

fn add_tag_bits(tags: &mut [u64; 16], set: u32, count: u64) {
    let mut bits = set;
    while bits != 0 {
        let b = bits.trailing_zeros() as usize;
        if b < 16 {
            tags[b] += count;
        }
        bits &= bits - 1;
    }
}

/// Counts by a few fixed names, in first-seen order; cheaper per packet than a map.
#[derive(Clone, Debug, Default)]
pub struct Tally(pub Vec<(&'static str, u64)>);
impl Tally {
    #[inline]
    /// Adds `n` to `name`'s count.
    pub fn add(&mut self, name: &'static str, n: u64) {
        // The same literal is usually the same pointer: no byte comparison then.
        match self
            .0
            .iter_mut()
            .find(|(k, _)| std::ptr::eq(*k, name) || *k == name)
        {
            Some((_, c)) => *c += n,
            None => self.0.push((name, n)),
        }
    }
    /// `name`'s count, if any.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, c)| *c)
    }
    /// By name, for stable output.
    pub fn sorted(&self) -> Vec<(&'static str, u64)> {
        let mut v = self.0.clone();
        v.sort();
        v
    }
}

/// Packets per 16-bit port (or payload size): one byte per value, whose overflow moves into
/// a map. The byte array (64 KiB, allocated on first use) stays in cache where random
/// ports would miss a 256 KiB array of `u32` or a hash map on almost every packet.
#[derive(Clone, Debug)]
pub struct PortCounts {
    low: Box<[u8]>,
    high: hashbrown::HashMap<u16, u64, foldhash::fast::RandomState>,
}

impl Default for PortCounts {
    fn default() -> Self {
        PortCounts {
            low: Box::default(),
            high: hashbrown::HashMap::with_hasher(foldhash::fast::RandomState::default()),
        }
    }
}

impl PortCounts {
    #[inline(always)]
    /// Adds `n` to `port`'s count.
    pub fn add(&mut self, port: u16, n: u64) {
        if n <= u8::MAX as u64
            && let Some(c) = self.low.get_mut(port as usize)
            && let Some(sum) = c.checked_add(n as u8)
        {
            *c = sum;
        } else {
            self.add_slow(port, n);
        }
    }

    /// The first value (allocates the bytes) and a byte's overflow into the map.
    #[cold]
    #[inline(never)]
    fn add_slow(&mut self, port: u16, n: u64) {
        if self.low.is_empty() {
            self.low = vec![0u8; 1 << 16].into_boxed_slice();
        }
        let c = &mut self.low[port as usize];
        let sum = *c as u64 + n;
        if sum <= u8::MAX as u64 {
            *c = sum as u8;
        } else {
            *self.high.entry(port).or_default() += sum;
            *c = 0;
        }
    }

    /// `port`'s count.
    pub fn get(&self, port: u16) -> u64 {
        self.low.get(port as usize).map_or(0, |&c| c as u64)
            + self.high.get(&port).copied().unwrap_or(0)
    }

    /// Every value counted at least once, with its count, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        let low = self.low.iter().enumerate();
        let only_low = low
            .filter(|&(p, &c)| c > 0 && !self.high.contains_key(&(p as u16)))
            .map(|(p, &c)| (p as u16, c as u64));
        let high = self.high.iter().map(|(&p, &h)| (p, h + self.get_low(p)));
        high.chain(only_low)
    }

    fn get_low(&self, port: u16) -> u64 {
        self.low.get(port as usize).map_or(0, |&c| c as u64)
    }

    /// How many distinct values were counted.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.high.is_empty() && self.low.iter().all(|&c| c == 0)
    }

    /// Adds another counter's counts.
    pub fn merge(&mut self, o: &PortCounts) {
        if self.low.is_empty() {
            self.low = o.low.clone();
        } else if !o.low.is_empty() {
            // Byte by byte: two 64 KiB arrays, not 65,536 lookups of the other's map.
            for (p, (a, &b)) in self.low.iter_mut().zip(o.low.iter()).enumerate() {
                if let Some(sum) = a.checked_add(b) {
                    *a = sum;
                } else {
                    *self.high.entry(p as u16).or_default() += u64::from(*a) + u64::from(b);
                    *a = 0;
                }
            }
        }
        for (&p, &n) in &o.high {
            *self.high.entry(p).or_default() += n;
        }
    }
}

/// Backscatter victims counted exactly before the sketch: Moore et al. saw a few thousand
/// victims a week on a /8, so a sensor's count is exact; spoofed floods' random
/// "victims" go to the sketch without sorting 65,536 of them per thread.
const VICTIMS_EXACT: u64 = 16_384;

/// Mirai inner addresses counted exactly before the sketch.
const INNER_EXACT: u64 = 4_096;

/// Details of Mirai GRE floods.
#[derive(Clone, Debug)]
pub struct Flood {
    /// Mirai GRE flood packets.
    pub packets: u64,
    /// Distinct inner sources.
    pub inner_src: Distinct,
    /// Distinct inner destinations.
    pub inner_dst: Distinct,
    /// Inner sources in 0/8, 127/8, 224/4, 240/4.
    pub inner_src_ranges: [u64; 4],
    /// Inner destinations in 0/8, 127/8, 224/4, 240/4.
    pub inner_dst_ranges: [u64; 4],
    /// Inner destination ports seen (a 65,536-bit set).
    pub inner_dports: Box<[u64; 1024]>,
    /// Inner UDP payload sizes.
    pub payload_sizes: PortCounts,
    /// Packets per outer TTL.
    pub outer_ttl: [u64; 256],
    /// Outer destinations: the flood targets.
    pub targets: Top,
    /// Distinct outer destinations.
    pub target_count: Distinct,
    /// Lowest outer destination (as a number).
    pub target_min: u32,
    /// Highest outer destination.
    pub target_max: u32,
}

impl Flood {
    fn new(l: &Limits) -> Self {
        Flood {
            packets: 0,
            // Exact while a flood is small (a sketch of a few hundred random addresses
            // could read above the packet count); Mirai's inner addresses are random, so a
            // large flood is a sketch early rather than sorting 65,536 of them per thread.
            inner_src: Distinct::new(INNER_EXACT, l.seed),
            inner_dst: Distinct::new(INNER_EXACT, l.seed),
            inner_src_ranges: [0; 4],
            inner_dst_ranges: [0; 4],
            inner_dports: Box::new([0; 1024]),
            payload_sizes: PortCounts::default(),
            outer_ttl: [0; 256],
            // The run's seed, so a target is hashed once for this and `target_count`.
            targets: Top::with_seed(l.top_sources / 4, l.seed),
            target_count: Distinct::new(l.exact_distinct, l.seed),
            target_min: u32::MAX,
            target_max: 0,
        }
    }
    fn merge(&mut self, o: &Flood) {
        self.packets += o.packets;
        self.inner_src.merge(&o.inner_src);
        self.inner_dst.merge(&o.inner_dst);
        for i in 0..4 {
            self.inner_src_ranges[i] += o.inner_src_ranges[i];
            self.inner_dst_ranges[i] += o.inner_dst_ranges[i];
        }
        for (a, b) in self.inner_dports.iter_mut().zip(o.inner_dports.iter()) {
            *a |= b;
        }
        self.payload_sizes.merge(&o.payload_sizes);
        for i in 0..256 {
            self.outer_ttl[i] += o.outer_ttl[i];
        }
        self.targets.merge(&o.targets);
        self.target_count.merge(&o.target_count);
        self.target_min = self.target_min.min(o.target_min);
        self.target_max = self.target_max.max(o.target_max);
    }
}

const DAY_NS: i64 = 86_400_000_000_000;

/// A TCP segment of an established session: ACK with data, neither SYN nor RST.
#[inline]
fn is_tcp_data(flags: u8, payload: usize) -> bool {
    use noisefloor_wire::observation::tcp_flags::{ACK, RST, SYN};
    payload > 0 && flags & (ACK | SYN | RST) == ACK
}

fn range_index(a: [u8; 4]) -> Option<usize> {
    match a[0] {
        0 => Some(0),
        127 => Some(1),
        224..=239 => Some(2),
        240..=255 => Some(3),
        _ => None,
    }
}

/// Everything `explain` reports, accumulated packet by packet.
#[derive(Clone, Debug)]
pub struct Triage {
    /// The limits it was made with.
    pub limits: Limits,
    /// Packets (log records count as the packets they stand for).
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// First packet (ns since the epoch, UTC).
    pub first_ns: i64,
    /// Last packet.
    pub last_ns: i64,
    /// Packets per UTC day (days since the epoch).
    pub per_day: BTreeMap<i64, u64>,
    day_cache: (i64, u64),
    /// Where the cached day begins (ns since the epoch).
    day_start_ns: i64,
    /// Distinct sources of all classes: their union, built by [`Triage::finish`] rather than
    /// kept per packet (every source is in exactly the class sets of its packets, and the
    /// sets share one hash, so the union is what a set of its own would have counted).
    pub sources: Distinct,
    /// Packets per protocol/port key: TCP and UDP ports in flat counters and port-less
    /// protocols (GRE, ICMP) in an array, so no packet hashes its key; SCTP in a small map.
    tcp_ports: PortCounts,
    udp_ports: PortCounts,
    protocols: Box<[u64; 256]>,
    keys: hashbrown::HashMap<PortKey, u64, foldhash::fast::RandomState>,
    /// Per class (index: `Class::index`).
    pub classes: Vec<ClassStats>,
    /// Mirai GRE flood details.
    pub flood: Flood,
    /// The heaviest sources.
    pub top: Top,
    /// Packets without an IP header (not attributed to any source).
    pub non_ip: u64,
    /// Log records without an absolute time (dmesg without a boot time): counted, but not
    /// in the span or per-day counts.
    pub untimed: u64,
    /// Records that came from log lines (the rest are captured packets).
    pub from_logs: u64,
    /// Traffic per destination and attack shape over time: which of it is an attack.
    pub episodes: Episodes,
    /// TCP segments with ACK and data (not SYN or RST): sessions, which a darknet never has.
    pub tcp_data: u64,
    /// GRE reported by firewall logs, per peer pair: whether it looks like a tunnel.
    pub gre_log_pairs: GrePairs,
}

/// GRE from log lines per (source, destination), to tell tunnels from floods without the
/// GRE header: a tunnel is one peer sending a steady series whose IP IDs count up (one
/// host's IP stack numbering its packets), a Mirai flood has random IDs and many sources.
#[derive(Clone, Debug, Default)]
pub struct GrePairs {
    /// Per (source, destination) pair.
    pub pairs: hashbrown::HashMap<(IpAddr, IpAddr), GrePair, foldhash::fast::FixedState>,
    /// Pairs not tracked because the table was full (bounded memory).
    pub untracked: u64,
}

#[derive(Clone, Copy, Debug, Default)]
/// What one GRE peer pair sent, from log lines.
pub struct GrePair {
    /// Records.
    pub packets: u64,
    /// Smallest IP length.
    pub min_len: u32,
    /// Largest IP length.
    pub max_len: u32,
    /// The last record's IP ID.
    pub last_id: Option<u16>,
    /// Consecutive records whose IP ID went up by 1 to 16.
    pub sequential: u64,
    /// First record (ns since the epoch, UTC).
    pub first_ns: i64,
    /// Last record.
    pub last_ns: i64,
}

/// Pairs tracked at most.
const GRE_PAIRS: usize = 4096;

impl GrePairs {
    fn add(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        len: Option<u32>,
        id: Option<u16>,
        ts: i64,
        n: u64,
    ) {
        let full = self.pairs.len() >= GRE_PAIRS;
        let p = match self.pairs.get_mut(&(src, dst)) {
            Some(p) => p,
            None if full => {
                self.untracked += n;
                return;
            }
            None => self.pairs.entry((src, dst)).or_insert(GrePair {
                min_len: u32::MAX,
                first_ns: ts,
                last_ns: ts,
                ..GrePair::default()
            }),
        };
        p.packets += n;
        if let Some(l) = len {
            p.min_len = p.min_len.min(l);
            p.max_len = p.max_len.max(l);
        }
        if let (Some(prev), Some(id)) = (p.last_id, id)
            && (1..=16).contains(&id.wrapping_sub(prev))
        {
            p.sequential += 1;
        }
        if id.is_some() {
            p.last_id = id;
        }
        p.first_ns = p.first_ns.min(ts);
        p.last_ns = p.last_ns.max(ts);
    }

    fn merge(&mut self, o: &GrePairs) {
        // Threads read different chunks: sequence runs are judged within each, and summed.
        // In address order, so which pairs fit when the table is full never varies.
        let mut theirs: Vec<(&(IpAddr, IpAddr), &GrePair)> = o.pairs.iter().collect();
        theirs.sort_by_key(|x| *x.0);
        for (k, b) in theirs {
            let room = self.pairs.len() < GRE_PAIRS;
            match self.pairs.get_mut(k) {
                Some(a) => {
                    a.packets += b.packets;
                    a.min_len = a.min_len.min(b.min_len);
                    a.max_len = a.max_len.max(b.max_len);
                    a.sequential += b.sequential;
                    a.first_ns = a.first_ns.min(b.first_ns);
                    a.last_ns = a.last_ns.max(b.last_ns);
                }
                None if room => {
                    self.pairs.insert(*k, *b);
                }
                None => self.untracked += b.packets,
            }
        }
        self.untracked += o.untracked;
    }

    /// Pairs that look like tunnels: at least 10 records, four in five with IP IDs counting
    /// up. Ordered by packets, then addresses.
    pub fn tunnels(&self) -> Vec<((IpAddr, IpAddr), GrePair)> {
        let mut v: Vec<_> = self
            .pairs
            .iter()
            .filter(|(_, p)| p.packets >= 10 && p.sequential * 5 >= (p.packets - 1) * 4)
            .map(|(k, p)| (*k, *p))
            .collect();
        v.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
        v
    }
}

impl Triage {
    /// An empty triage with these limits.
    pub fn new(limits: Limits) -> Self {
        Triage {
            limits,
            packets: 0,
            bytes: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            per_day: BTreeMap::new(),
            day_cache: (i64::MIN, 0),
            day_start_ns: i64::MAX,
            sources: Distinct::new(limits.exact_distinct, limits.seed),
            tcp_ports: PortCounts::default(),
            udp_ports: PortCounts::default(),
            protocols: Box::new([0; 256]),
            keys: hashbrown::HashMap::with_hasher(foldhash::fast::RandomState::default()),
            classes: Class::ALL
                .iter()
                .map(|_| ClassStats::new(&limits))
                .collect(),
            flood: Flood::new(&limits),
            top: Top::with_seed(limits.top_sources, limits.seed),
            non_ip: 0,
            untimed: 0,
            from_logs: 0,
            episodes: Episodes::default(),
            tcp_data: 0,
            gre_log_pairs: GrePairs::default(),
        }
    }

    /// Adds one packet record (captured, or a log line that may stand for several packets)
    /// and its verdict.
    #[inline]
    pub fn add(&mut self, o: &Observation, v: &Verdict) {
        let (n, len) = match &o.wire {
            Some(w) => (1, u64::from(w.len)),
            None => {
                let n = u64::from(o.count.max(1));
                self.from_logs += n;
                (n, u64::from(o.ip_len.unwrap_or(0)) * n)
            }
        };
        self.packets += n;
        self.bytes += len;
        let ts = o.ts_ns;
        match ts {
            Some(t) => self.count_time(t, n),
            None => self.untimed += n,
        }
        let c = &mut self.classes[v.class.index()];
        c.count(v, ts, n, len);
        let Some(src) = o.src else {
            self.non_ip += n;
            return;
        };
        let class_bit = 1 << v.class.index();
        match src {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                let h = c.sources.hash_v4(a);
                c.sources.add_v4_hashed(a, h);
                // Records without a time sort as the epoch in first/last seen; they are
                // rare (dmesg).
                self.top
                    .add_v4_hashed(a, h, ts.unwrap_or(0), len, n, class_bit);
            }
            IpAddr::V6(a) => {
                c.sources.add_v6(u128::from(a));
                self.top
                    .add_weighted(src, ts.unwrap_or(0), len, n, class_bit);
            }
        }
        // TSUBAME's key: the protocol, and for TCP, UDP and SCTP the destination port.
        let proto = o.proto;
        let port = match proto {
            Some(6 | 17 | 132) => o.dst_port.unwrap_or(0),
            _ => 0,
        };
        match proto {
            Some(6) => self.tcp_ports.add(port, n),
            Some(17) => self.udp_ports.add(port, n),
            Some(132) => *self.keys.entry(PortKey { proto: 132, port }).or_default() += n,
            Some(p) => self.protocols[p as usize] += n,
            None => {}
        }
        c.count_evidence(v, ts.unwrap_or(0), len, n);
        let tcp_data = match (&o.wire, o.tcp_flags) {
            (Some(w), Some(f)) => is_tcp_data(f, w.payload.len()),
            _ => false,
        };
        self.tcp_data += tcp_data as u64;
        if o.wire.is_none()
            && proto == Some(47)
            && let (Some(dst), Some(t)) = (o.dst, ts)
        {
            self.gre_log_pairs.add(src, dst, o.ip_len, o.ip_id, t, n);
        }
        // A record standing for several packets (Cisco IOS "N packets" summaries over minutes)
        // has no per-second timing: it counts everywhere but in episodes.
        if n == 1
            && let (Some(t), Some(dst), Some(p)) = (ts, o.dst, proto)
            && let Some(kind) = attack_shape(
                v.class,
                p,
                o.tcp_flags,
                o.src_port,
                v.class == Class::Fragment,
            )
        {
            // A non-first fragment has no transport header, so no port; a captured TCP or
            // UDP header cut short counts as port 0, as in the keys.
            let dst_port = match &o.wire {
                Some(_) => {
                    (matches!(p, 6 | 17 | 132) && v.class != Class::Fragment).then_some(port)
                }
                None => o.dst_port,
            };
            self.episodes.add(&Sample {
                ts_ns: t,
                len,
                count: n,
                src: Addr::from_ip(src),
                dst: Addr::from_ip(dst),
                kind,
                src_port: o.src_port.unwrap_or(0),
                dst_port,
                ttl: o.ttl,
                class: v.class,
                tcp_data,
                first_fragment: v.tags.has(noisefloor_classify::Tags::FIRST_FRAGMENT),
            });
        }
        if let Evidence::MiraiGre { payload_len, .. } = v.evidence {
            self.add_flood(o, payload_len, ts.unwrap_or(0), len);
        }
    }

    /// Span and packets per day.
    #[inline]
    fn count_time(&mut self, ts_ns: i64, n: u64) {
        self.first_ns = self.first_ns.min(ts_ns);
        self.last_ns = self.last_ns.max(ts_ns);
        // Packets come in time order mostly: compare with the current day's bounds instead
        // of dividing every timestamp.
        if (self.day_start_ns..self.day_start_ns.saturating_add(DAY_NS)).contains(&ts_ns) {
            self.day_cache.1 += n;
        } else {
            self.flush_day();
            let day = ts_ns.div_euclid(DAY_NS);
            self.day_cache = (day, n);
            self.day_start_ns = day.saturating_mul(DAY_NS);
        }
    }

    fn add_flood(&mut self, o: &Observation, payload_len: u16, ts_ns: i64, len: u64) {
        let f = &mut self.flood;
        f.packets += 1;
        if let (Some(IpAddr::V4(dst)), Some(ttl)) = (o.dst, o.ttl) {
            f.outer_ttl[ttl as usize] += 1;
            let t = u32::from(dst);
            // One hash for both the target count and the target ranking.
            let h = f.target_count.hash_v4(t);
            f.target_count.add_v4_hashed(t, h);
            f.target_min = f.target_min.min(t);
            f.target_max = f.target_max.max(t);
            f.targets.add_v4_hashed(t, h, ts_ns, len, 1, 1);
        }
        f.payload_sizes.add(payload_len, 1);
        let inner = &o.tunnel;
        if let (Some(IpAddr::V4(src)), Some(IpAddr::V4(dst))) = (inner.src(), inner.dst()) {
            let (src, dst) = (src.octets(), dst.octets());
            f.inner_src.add_v4(u32::from_be_bytes(src));
            f.inner_dst.add_v4(u32::from_be_bytes(dst));
            if let Some(i) = range_index(src) {
                f.inner_src_ranges[i] += 1;
            }
            if let Some(i) = range_index(dst) {
                f.inner_dst_ranges[i] += 1;
            }
        }
        if inner.proto() == Some(17)
            && let Some(p) = inner.dport()
        {
            let p = p as usize;
            f.inner_dports[p / 64] |= 1 << (p % 64);
        }
    }

    fn flush_day(&mut self) {
        if self.day_cache.1 > 0 {
            *self.per_day.entry(self.day_cache.0).or_default() += self.day_cache.1;
            self.day_cache.1 = 0;
        }
    }

    /// Call after each batch a thread decodes: episodes record their edge seconds there, so
    /// pieces from different threads sum exactly where they meet (see [`Episodes::end_batch`]).
    pub fn end_batch(&mut self) {
        self.episodes.end_batch();
    }

    /// Folds another thread's triage into this one.
    pub fn merge(&mut self, mut o: Triage) {
        self.flush_day();
        o.flush_day();
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        for (k, v) in o.per_day {
            *self.per_day.entry(k).or_default() += v;
        }
        self.tcp_ports.merge(&o.tcp_ports);
        self.udp_ports.merge(&o.udp_ports);
        for (k, v) in o.keys {
            *self.keys.entry(k).or_default() += v;
        }
        for (a, b) in self.protocols.iter_mut().zip(o.protocols.iter()) {
            *a += b;
        }
        for (a, b) in self.classes.iter_mut().zip(o.classes.iter()) {
            a.merge(b);
        }
        self.flood.merge(&o.flood);
        self.top.merge(&o.top);
        self.non_ip += o.non_ip;
        self.untimed += o.untimed;
        self.from_logs += o.from_logs;
        self.episodes.merge(std::mem::take(&mut o.episodes));
        self.tcp_data += o.tcp_data;
        self.gre_log_pairs.merge(&o.gre_log_pairs);
    }

    /// Call once after the last `add`/`merge`, before reading the results.
    pub fn finish(&mut self) {
        self.flush_day();
        for c in &mut self.classes {
            c.flush_tags();
        }
        let mut all = Distinct::new(self.limits.exact_distinct, self.limits.seed);
        for c in &self.classes {
            all.merge(&c.sources);
        }
        self.sources = all;
    }

    /// What class `c` gathered.
    pub fn class(&self, c: Class) -> &ClassStats {
        &self.classes[c.index()]
    }

    /// The `n` keys with most packets, most first (ties by key): the whole ranking is not
    /// sorted for ten rows (a spoofed flood's random ports make it 65,536 long).
    pub fn top_keys(&self, n: usize) -> Vec<(PortKey, u64)> {
        let order = |a: &(PortKey, u64), b: &(PortKey, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        let mut v = self.unranked_keys();
        if v.len() > n && n > 0 {
            v.select_nth_unstable_by(n - 1, order);
        }
        v.truncate(n);
        v.sort_unstable_by(order);
        v
    }

    /// Protocol/port keys by packets, most first.
    pub fn ranked_keys(&self) -> Vec<(PortKey, u64)> {
        let mut v = self.unranked_keys();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    fn unranked_keys(&self) -> Vec<(PortKey, u64)> {
        // Each key has one counter (TCP and UDP ports in their arrays, SCTP ports in `keys`,
        // other protocols in `protocols`), whatever record it came from.
        let mut v: Vec<(PortKey, u64)> = self.keys.iter().map(|(k, n)| (*k, *n)).collect();
        for (proto, &n) in self.protocols.iter().enumerate().filter(|(_, n)| **n > 0) {
            let key = PortKey {
                proto: proto as u8,
                port: 0,
            };
            v.push((key, n));
        }
        for (proto, counts) in [(6u8, &self.tcp_ports), (17, &self.udp_ports)] {
            v.extend(counts.iter().map(|(port, n)| (PortKey { proto, port }, n)));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use noisefloor_classify::Tags;

    #[test]
    fn port_counts_merge_sums_bytes_that_overflow() {
        let mut a = PortCounts::default();
        let mut b = PortCounts::default();
        for _ in 0..200 {
            a.add(80, 1);
            b.add(80, 1);
        }
        a.add(443, 1_000);
        b.add(7, 3);
        let mut empty = PortCounts::default();
        empty.merge(&a);
        a.merge(&b);
        a.merge(&PortCounts::default());
        assert_eq!(
            (a.get(80), a.get(443), a.get(7), a.len()),
            (400, 1_000, 3, 3)
        );
        assert_eq!(
            (empty.get(80), empty.get(443), empty.len()),
            (200, 1_000, 2)
        );
    }

    #[test]
    fn tag_counts_match_a_count_per_bit_across_merges() {
        let limits = Limits {
            seed: 1,
            ..Limits::default()
        };
        let (mut a, mut b) = (ClassStats::new(&limits), ClassStats::new(&limits));
        let mut want = [0u64; 16];
        let mut x = 7u32;
        for i in 0..50_000u64 {
            // More distinct sets than slots, so sets collide and get flushed mid-run.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let set = if i % 3 == 0 { 0b1_0011 } else { x & 0xff_ffff };
            let v = Verdict {
                class: Class::Other,
                tags: Tags(set),
                evidence: Evidence::Other {
                    what: "test",
                    proto: 0,
                },
            };
            let n = 1 + i % 4;
            let s = if i % 2 == 0 { &mut a } else { &mut b };
            s.count(&v, Some(i as i64), n, 60);
            for (bit, w) in want.iter_mut().enumerate() {
                *w += n * u64::from(set >> bit & 1);
            }
        }
        a.merge(&b);
        a.flush_tags();
        assert_eq!(a.tags, want);
    }

    #[test]
    fn port_counts_carry_overflow_and_weights_exactly() {
        let (mut a, mut b) = (PortCounts::default(), PortCounts::default());
        let mut want = std::collections::BTreeMap::new();
        for i in 0..200_000u64 {
            // Hot ports overflow their byte many times; weights above a byte go to the map.
            let port = [23u16, 0, 65_535, (i % 5_000) as u16][(i % 4) as usize];
            let n = if i % 997 == 0 { 1_000 } else { 1 + i % 3 };
            if i % 2 == 0 {
                a.add(port, n)
            } else {
                b.add(port, n)
            };
            *want.entry(port).or_insert(0u64) += n;
        }
        a.merge(&b);
        let got: std::collections::BTreeMap<u16, u64> = a.iter().collect();
        assert_eq!(got, want);
        assert_eq!(a.get(23), want[&23]);
        assert_eq!(a.len(), want.len());
    }
}
