//! Episodes: traffic of one attack shape at one destination over time, and which of them
//! are attacks on the capture's owner.
//!
//! A packet alone cannot say "attack": a SYN is a scan probe or part of a SYN flood, a
//! SYN-ACK is backscatter or part of a reflection attack. A darknet sees backscatter as a
//! thin trickle spread over all its addresses (Moore, Voelker and Savage, "Inferring
//! Internet Denial-of-Service Activity", USENIX Security 2001); a victim sees the same
//! packet shapes as a torrent on one address. So packets are grouped by destination (an
//! IPv4 /24 with a count per address, or an IPv6 address) and by attack shape
//! ([`noisefloor_classify::attack_shape`]). Each destination and shape costs one counter of
//! the current second; when a second reaches [`HOT_PPS`] packets an **episode** opens and
//! its detail (sources, addresses, ports, TTLs, classes, peak second) is kept until
//! [`Thresholds::gap_s`] seconds pass without a hot second. So an attack's numbers are the
//! attack's own, not those of the background around it. The decision, per episode:
//!
//! - An episode is an **attack** when it has at least [`Thresholds::min_packets`] packets
//!   and reached [`Thresholds::min_pps`] packets in one calendar second (real attacks are
//!   bursty, so the peak decides rather than the mean). 100 packets/s at one address is
//!   four to five orders of magnitude above Internet background radiation: TSUBAME's
//!   single-address sensors and the ISC's readers count thousands to tens of thousands of
//!   unsolicited packets a day (< 1 packet/s), a /24 of darknet a few packets/s.
//!   Backscatter reaching a /24 at 100 packets/s would need a victim answering 1.6 billion
//!   packets/s with uniformly forged sources, so darknet backscatter stays backscatter.
//! - The target is the address that got at least half the episode's packets, else the
//!   prefix the hit addresses share. A prefix target must also get
//!   [`Thresholds::min_pps_per_address`] packets/s per address hit at the peak: traffic
//!   spread thinly over many of your addresses is what a darknet receives (scans,
//!   backscatter), not a flood (carpet bombing puts tens of packets/s on every address).
//! - Reflection and amplification need [`Thresholds::scan_sources`] reflectors or more.
//!   Other floods from fewer sources that spread over more than 16 ports, or hit each
//!   address fewer than 4 times, are scans (a fast port scan, a sweep of your /24).
//! - On a host (`--role host`, or inferred), TCP that is not SYN from real sources is the
//!   host's sessions, not a flood.
//! - **Spoofed**: at least 100 sources, at most 3 packets per source, and either 2 % of
//!   packets from bogons (uniform draws land there 13.8 % of the time) or sources in 75 % of
//!   the /8s that uniform draws of that many sources would cover. Reflection and
//!   amplification sources are real servers answering forged requests: never spoofed.
//!   IPv6 sources are never judged spoofed (no test yet).
//!
//! Threads: every batch a thread decodes ends with [`Episodes::end_batch`], which records
//! each open episode's first and last second of the batch as edge seconds (the batches
//! between a thread's own may be another thread's, which can count part of the same
//! second); seconds between a batch's edges are whole. Edges are summed by second when
//! the threads' pieces join, so the peak second is exact for time-ordered input.
//!
//! Bounded memory: [`MAX_TRACKERS`] second counters (past that, destinations that are not
//! hot are forgotten), [`MAX_OPEN`] open episodes and [`MAX_PIECES`] closed pieces per
//! thread; what could not be followed is counted and reported as a possible undercount.
//! Distinct sources are exact up to [`EXACT_SOURCES`], then a HyperLogLog estimate (1,024
//! registers, about ±3 %). Records that stand for several packets (log summaries) have no
//! per-second timing and stay out of episodes.

use std::net::IpAddr;

use foldhash::fast::FixedState;
use noisefloor_classify::{Amplifier, AttackKind, Class, amplifier};

use crate::distinct::{hll_add, hll_estimate};

/// Packets in one second that make a destination hot: its episode's detail is kept from
/// then on (a tenth of the attack rate, so an attack's ramp is kept too).
pub const HOT_PPS: u64 = 10;
/// Destinations × shapes whose current second is counted per thread; past this, the ones
/// that are not hot are forgotten (they hold one second's count).
pub const MAX_TRACKERS: usize = 65_536;
/// Hot destinations followed at once per thread (each a few KiB).
pub const MAX_OPEN: usize = 4_096;
/// Batch edge seconds kept per episode before the older ones are folded.
const MAX_EDGES: usize = 4096;
/// Closed episodes kept; past this the smallest are dropped and counted.
pub const MAX_PIECES: usize = 65_536;
/// Sources counted exactly per entry before the estimate takes over.
pub const EXACT_SOURCES: usize = 1024;
/// Registers of the sources' HyperLogLog (about ±3 %).
const HLL_M: usize = 1 << 10;
/// Ports kept exactly per entry; more distinct ports are counted, not named.
const EXACT_PORTS: usize = 16;
/// A fixed seed: the same input gives the same estimates on every run.
const SEED: u64 = 0x6570_6973_6f64_6573;

/// When an episode is an attack. Documented in the module comment and docs/explain-json.md.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Packets an episode needs at least.
    pub min_packets: u64,
    /// Packets in its busiest calendar second, at least.
    pub min_pps: f64,
    /// For a prefix target: packets per second per address hit, at the peak, at least.
    pub min_pps_per_address: f64,
    /// Seconds without a hot second that end an episode.
    pub gap_s: i64,
    /// Sources below which a spread over ports or addresses is a scan, not an attack.
    pub scan_sources: u64,
}
impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_packets: 200,
            min_pps: 100.0,
            min_pps_per_address: 5.0,
            gap_s: 60,
            scan_sources: 10,
        }
    }
}

/// An address as a number: IPv4 in the low 32 bits with `v6` false.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr {
    /// True for IPv6.
    pub v6: bool,
    /// The address bits (IPv4 in the low 32).
    pub bits: u128,
}
impl Addr {
    /// An IPv4 address.
    pub fn v4(a: u32) -> Self {
        Addr {
            v6: false,
            bits: a as u128,
        }
    }
    /// An IPv6 address.
    pub fn v6(a: u128) -> Self {
        Addr { v6: true, bits: a }
    }
    /// The address of `a`.
    pub fn from_ip(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Addr::v4(u32::from(a)),
            IpAddr::V6(a) => Addr::v6(u128::from(a)),
        }
    }
    /// Back to an address.
    pub fn ip(self) -> IpAddr {
        if self.v6 {
            IpAddr::from(std::net::Ipv6Addr::from(self.bits))
        } else {
            IpAddr::from(std::net::Ipv4Addr::from(self.bits as u32))
        }
    }
}

/// What one packet contributes to its episode.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When (ns since the epoch, UTC).
    pub ts_ns: i64,
    /// Bytes on the wire.
    pub len: u64,
    /// How many packets this record stands for (log lines may count several).
    pub count: u64,
    /// The source address.
    pub src: Addr,
    /// The destination address.
    pub dst: Addr,
    /// The packet's attack shape.
    pub kind: AttackKind,
    /// The source port, for amplification (names the service).
    pub src_port: u16,
    /// The destination port, when the packet has one.
    pub dst_port: Option<u16>,
    /// The IP TTL, when known.
    pub ttl: Option<u8>,
    /// The packet's class.
    pub class: Class,
    /// A TCP segment with ACK and data: session traffic unless the sources are forged.
    pub tcp_data: bool,
    /// The first fragment of a fragmented datagram: the non-first fragments that follow it
    /// to this destination belong to its episode.
    pub first_fragment: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    /// IPv4: the /24; IPv6: the address.
    net: Addr,
    kind: AttackKind,
    /// Amplification: the service's port; 0 otherwise.
    service: u16,
}

impl std::hash::Hash for Key {
    /// One word per key: hashing the fields one by one cost more than the map lookup.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(addr_hash(self.net) ^ (self.kind as u64) << 56 ^ (self.service as u64) << 40);
    }
}

/// A well-mixed 64-bit hash of an address (murmur3's finaliser over its folded bits):
/// cheap, deterministic, and good enough for HyperLogLog, which needs uniform bits.
#[inline]
fn addr_hash(a: Addr) -> u64 {
    let mut x = (a.bits as u64) ^ ((a.bits >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= (a.v6 as u64) << 63;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Hashes that are already [`addr_hash`]es: passed through, not hashed a second time.
#[derive(Clone, Copy, Debug, Default)]
struct PassThrough(u64);
impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}
type PassThroughState = std::hash::BuildHasherDefault<PassThrough>;

/// Sources: exact (their hashes) while few, then a HyperLogLog built from them.
#[derive(Clone, Debug)]
struct Sources {
    exact: hashbrown::HashSet<u64, PassThroughState>,
    hll: Option<Box<[u8; HLL_M]>>,
}
impl Sources {
    fn new() -> Self {
        Sources {
            exact: hashbrown::HashSet::default(),
            hll: None,
        }
    }
    #[inline]
    fn add(&mut self, h: u64) {
        match &mut self.hll {
            Some(r) => hll_add(r, h),
            None => {
                self.exact.insert(h);
                if self.exact.len() > EXACT_SOURCES {
                    self.sketch();
                }
            }
        }
    }
    /// Moves the exact hashes into the sketch (once), and returns it.
    fn sketch(&mut self) -> &mut [u8; HLL_M] {
        self.hll.get_or_insert_with(|| {
            let mut r = Box::new([0u8; HLL_M]);
            for x in self.exact.drain() {
                hll_add(&mut r, x);
            }
            r
        })
    }
    fn merge(&mut self, o: &Sources) {
        match &o.hll {
            Some(oh) => {
                for (a, b) in self.sketch().iter_mut().zip(oh.iter()) {
                    *a = (*a).max(*b);
                }
            }
            None => {
                for &x in &o.exact {
                    self.add(x);
                }
            }
        }
    }
    fn count(&self) -> (u64, bool) {
        match &self.hll {
            Some(r) => (hll_estimate(r), false),
            None => (self.exact.len() as u64, true),
        }
    }
}

/// Destination ports: counted exactly while there are at most [`EXACT_PORTS`] distinct
/// ones; past that only how many there were (a hashed bitmap, linear counting), so the
/// result never depends on which packets a thread saw first.
#[derive(Clone, Debug, Default)]
struct Ports {
    exact: Vec<(u16, u64)>,
    many: bool,
    bits: [u64; 16],
}
impl Ports {
    #[inline]
    fn add(&mut self, p: u16, n: u64) {
        let b = (p as u32).wrapping_mul(0x9e37_79b1) >> 22;
        self.bits[(b / 64) as usize] |= 1 << (b % 64);
        if self.many {
            return;
        }
        if let Some(e) = self.exact.iter_mut().find(|e| e.0 == p) {
            e.1 += n;
        } else if self.exact.len() < EXACT_PORTS {
            self.exact.push((p, n));
        } else {
            self.many = true;
            self.exact.clear();
        }
    }
    fn merge(&mut self, o: &Ports) {
        for (a, b) in self.bits.iter_mut().zip(o.bits.iter()) {
            *a |= b;
        }
        if o.many {
            self.many = true;
            self.exact.clear();
        }
        for &(p, n) in &o.exact {
            self.add(p, n);
        }
    }
    /// Distinct ports: exact while few, else a linear-counting estimate.
    fn distinct(&self) -> (u64, bool) {
        if !self.many {
            return (self.exact.len() as u64, true);
        }
        let set: u32 = self.bits.iter().map(|w| w.count_ones()).sum();
        let m = 1024.0;
        let zeros = (m - set as f64).max(1.0);
        (
            ((m * (m / zeros).ln()).round() as u64).max(EXACT_PORTS as u64 + 1),
            false,
        )
    }
}

/// The heaviest sources: a majority vote (Boyer-Moore) in each of 16 buckets of the source
/// hash, O(1) per packet. A source with most of its bucket's packets keeps a count of at
/// least its packets minus the rest of the bucket's, so "a few sources sent nearly
/// everything" is seen, and spread sources leave counts near zero.
#[derive(Clone, Debug, Default)]
struct Heavy {
    votes: [(u64, u64); HEAVY],
}
const HEAVY: usize = 16;
impl Heavy {
    #[inline]
    fn add(&mut self, h: u64, n: u64) {
        let v = &mut self.votes[(h & (HEAVY as u64 - 1)) as usize];
        if v.0 == h {
            v.1 += n;
        } else if v.1 >= n {
            v.1 -= n;
        } else {
            *v = (h, n - v.1);
        }
    }
    fn merge(&mut self, o: &Heavy) {
        for (a, b) in self.votes.iter_mut().zip(o.votes.iter()) {
            if a.0 == b.0 {
                a.1 += b.1;
            } else if a.1 >= b.1 {
                a.1 -= b.1;
            } else {
                *a = (b.0, b.1 - a.1);
            }
        }
    }
    /// Packets of the `k` heaviest sources (a lower bound).
    fn top(&self, k: usize) -> u64 {
        let mut v: Vec<u64> = self.votes.iter().map(|c| c.1).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.iter().take(k).sum()
    }
}

/// One episode's statistics: a run of seconds in which its destination got at least
/// [`HOT_PPS`] packets of its shape, allowing quiet gaps shorter than the gap threshold.
/// Allocated only while the destination is hot, so the background costs a few counters.
#[derive(Clone, Debug)]
struct Piece {
    key: Key,
    packets: u64,
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    /// The first and last second with packets.
    first_sec: i64,
    last_sec: i64,
    /// The first and last second of every batch this episode spans, with their counts: the
    /// neighbouring batch (another thread's, maybe) may have counted part of the same
    /// second, so these are summed by second at the end. Seconds between them are whole.
    edges: Vec<(i64, u64)>,
    /// The most packets in a whole second between a batch's edges.
    peak_inner: u64,
    /// The current batch's first and latest closed second.
    batch_first: Option<(i64, u64)>,
    batch_last: Option<(i64, u64)>,
    /// False when input out of time order made seconds of different batches overlap.
    peak_exact: bool,
    /// IPv4: packets per last octet of the destination.
    addrs: Option<Box<[u64; 256]>>,
    sources: Sources,
    heavy: Heavy,
    first_octets: [u64; 4],
    bogon_packets: u64,
    ttls: [u64; 4],
    ports: Ports,
    classes: [u64; 13],
    /// Non-first fragments merged in from a fragment episode at the same destination.
    fragments: u64,
    /// TCP segments with ACK and data.
    data_packets: u64,
    /// Packets counted in the second the piece opened, before it did (no detail for them).
    undetailed: u64,
}

impl Piece {
    fn new(key: Key, sec: i64) -> Self {
        Piece {
            key,
            packets: 0,
            bytes: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            first_sec: sec,
            last_sec: sec,
            edges: Vec::new(),
            peak_inner: 0,
            batch_first: None,
            batch_last: None,
            peak_exact: true,
            addrs: (!key.net.v6).then(|| Box::new([0; 256])),
            sources: Sources::new(),
            heavy: Heavy::default(),
            first_octets: [0; 4],
            bogon_packets: 0,
            ttls: [0; 4],
            ports: Ports::default(),
            classes: [0; 13],
            fragments: 0,
            data_packets: 0,
            undetailed: 0,
        }
    }

    /// A whole second of the piece ended with `count` packets.
    fn close_second(&mut self, sec: i64, count: u64) {
        match self.batch_first {
            None => self.batch_first = Some((sec, count)),
            Some(_) => {
                if let Some(l) = self.batch_last {
                    self.peak_inner = self.peak_inner.max(l.1);
                }
                self.batch_last = Some((sec, count));
            }
        }
        self.first_sec = self.first_sec.min(sec);
        self.last_sec = self.last_sec.max(sec);
    }

    /// The batch ended: its edge seconds may be shared with a neighbouring batch.
    fn seal(&mut self) {
        self.edges.extend(self.batch_first.take());
        self.edges.extend(self.batch_last.take());
        if self.edges.len() > MAX_EDGES {
            self.compact_edges();
        }
    }

    /// Sums edges of the same second; past [`MAX_EDGES`] the older half counts as whole
    /// seconds (exact unless input far out of order touches them again).
    fn compact_edges(&mut self) {
        let mut out = sum_by_second(std::mem::take(&mut self.edges));
        if out.len() > MAX_EDGES {
            let old = out.len() / 2;
            for &(_, n) in &out[..old] {
                self.peak_inner = self.peak_inner.max(n);
            }
            out.drain(..old);
        }
        self.edges = out;
    }

    /// The most packets in one second: edge seconds summed across batches, or a whole one.
    fn peak(&self) -> u64 {
        let mut edges = self.edges.clone();
        edges.extend(self.batch_first);
        edges.extend(self.batch_last);
        sum_by_second(edges)
            .iter()
            .map(|e| e.1)
            .max()
            .unwrap_or(0)
            .max(self.peak_inner)
    }

    /// Folds `o` (same key, overlapping or adjacent in time; both sealed) into this piece.
    fn absorb(&mut self, o: &Piece) {
        self.edges.extend_from_slice(&o.edges);
        if self.edges.len() > MAX_EDGES {
            self.compact_edges();
        }
        self.peak_inner = self.peak_inner.max(o.peak_inner);
        self.peak_exact &= o.peak_exact;
        self.first_sec = self.first_sec.min(o.first_sec);
        self.last_sec = self.last_sec.max(o.last_sec);
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        if let (Some(a), Some(b)) = (&mut self.addrs, &o.addrs) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
        self.sources.merge(&o.sources);
        self.heavy.merge(&o.heavy);
        for i in 0..4 {
            self.first_octets[i] |= o.first_octets[i];
            self.ttls[i] |= o.ttls[i];
        }
        self.bogon_packets += o.bogon_packets;
        self.ports.merge(&o.ports);
        for (a, b) in self.classes.iter_mut().zip(o.classes.iter()) {
            *a += b;
        }
        self.fragments += o.fragments;
        self.data_packets += o.data_packets;
        self.undetailed += o.undetailed;
    }
}

/// Per destination and shape: the current second's count, and the open piece while hot.
#[derive(Clone, Debug)]
struct Tracker {
    sec: i64,
    in_sec: u64,
    last_hot: i64,
    /// The last whole second not in a piece: it starts the piece if the next one opens it
    /// (an attack's first second, or the part of a second the previous batch did not have).
    prev: (i64, u64),
    /// Fragments among `in_sec` and `prev` (counted before a piece opened).
    frags: u64,
    prev_frags: u64,
    piece: Option<Box<Piece>>,
}

/// Episodes accumulated packet by packet; one per decode thread, merged at the end.
#[derive(Clone, Debug)]
pub struct Episodes {
    trackers: hashbrown::HashMap<Key, Tracker, PassThroughState>,
    /// Per key: the last closed piece, which a new piece within the gap continues.
    last_closed: hashbrown::HashMap<Key, usize, PassThroughState>,
    /// Per destination /24: the UDP episode whose first fragment arrived last there.
    frag_home: hashbrown::HashMap<Addr, Key, FixedState>,
    /// Pieces closed (quiet for the gap threshold) or flushed at the end.
    closed: Vec<Piece>,
    open: usize,
    gap_s: i64,
    /// Packets of hot destinations that could not be followed (memory bounds): attack
    /// counts may be low by at most this many.
    pub dropped_packets: u64,
}

impl Default for Episodes {
    fn default() -> Self {
        Episodes {
            trackers: hashbrown::HashMap::default(),
            frag_home: hashbrown::HashMap::with_hasher(FixedState::with_seed(SEED)),
            last_closed: hashbrown::HashMap::default(),
            closed: Vec::new(),
            open: 0,
            gap_s: Thresholds::default().gap_s,
            dropped_packets: 0,
        }
    }
}

/// 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 198.18/15, 224/4, 240/4:
/// addresses no Internet host sends from. Uniform draws land here 13.8 % of the time.
#[inline]
pub fn is_bogon_source_v4(a: u32) -> bool {
    let o = a.to_be_bytes();
    // Most first octets decide alone; one table lookup per packet instead of ten tests.
    match BOGON_FIRST_OCTET[o[0] as usize] {
        0 => false,
        1 => true,
        _ => {
            (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 169 && o[1] == 254)
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 198 && (18..20).contains(&o[1]))
        }
    }
}

/// Per first octet: 0 never a bogon, 1 always, 2 the second octet decides.
const BOGON_FIRST_OCTET: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i {
            0 | 10 | 127 | 224..=255 => 1,
            100 | 169 | 172 | 192 | 198 => 2,
            _ => 0,
        };
        i += 1;
    }
    t
};

impl Episodes {
    /// Adds one packet (or one log record standing for `count` packets).
    #[inline]
    pub fn add(&mut self, s: &Sample) {
        let net = if s.dst.v6 {
            s.dst
        } else {
            Addr::v4(s.dst.bits as u32 & 0xffff_ff00)
        };
        let mut key = Key {
            net,
            kind: s.kind,
            service: if s.kind == AttackKind::UdpAmplification {
                s.src_port
            } else {
                0
            },
        };
        // Non-first fragments join the datagrams they continue (an amplifier's large replies).
        let mut fragment = false;
        if s.kind == AttackKind::FragmentFlood {
            if let Some(&home) = self.frag_home.get(&net) {
                key = home;
                fragment = true;
            }
        } else if s.first_fragment
            && matches!(s.kind, AttackKind::UdpAmplification | AttackKind::UdpFlood)
        {
            if self.frag_home.len() >= MAX_TRACKERS {
                self.frag_home.clear();
            }
            self.frag_home.insert(net, key);
        }
        let n = s.count.max(1);
        let sec = s.ts_ns.div_euclid(1_000_000_000);
        if self.trackers.len() >= MAX_TRACKERS && !self.trackers.contains_key(&key) {
            self.shed_trackers();
        }
        let gap_s = self.gap_s;
        // One lookup per packet: the fields are borrowed apart.
        let Episodes {
            trackers,
            closed,
            last_closed,
            open,
            dropped_packets,
            ..
        } = self;
        let t = trackers.entry(key).or_insert(Tracker {
            sec,
            in_sec: 0,
            last_hot: i64::MIN,
            prev: (i64::MIN, 0),
            frags: 0,
            prev_frags: 0,
            piece: None,
        });
        // Times that go back by more than the gap (captures given out of time order, a
        // device clock stepped back): what was open is closed and counting starts over, so
        // months-apart packets are never summed into one second (that made one "attack"
        // of two floods months apart, at 0.001 packets/s).
        // `sec < t.sec` first: almost every packet fails it, and then nothing is subtracted.
        if sec < t.sec && t.sec.saturating_sub(sec) > gap_s {
            if let Some(mut p) = t.piece.take() {
                if t.in_sec > 0 {
                    p.close_second(t.sec, t.in_sec);
                }
                *open -= 1;
                close_piece(closed, last_closed, *p, gap_s);
            }
            *t = Tracker {
                sec,
                in_sec: 0,
                last_hot: i64::MIN,
                prev: (i64::MIN, 0),
                frags: 0,
                prev_frags: 0,
                piece: None,
            };
        }
        // A later second closes the current one; an earlier one (out of order) counts in it.
        if sec > t.sec {
            match &mut t.piece {
                // A second already closed at a batch's end has nothing more to add.
                Some(_) if t.in_sec == 0 => {}
                Some(p) => p.close_second(t.sec, t.in_sec),
                None => {
                    t.prev = (t.sec, t.in_sec);
                    t.prev_frags = t.frags;
                }
            }
            if t.in_sec >= HOT_PPS {
                t.last_hot = t.sec;
            }
            t.sec = sec;
            t.in_sec = 0;
            t.frags = 0;
            let quiet = sec.saturating_sub(t.last_hot) > gap_s;
            if quiet && let Some(p) = t.piece.take() {
                *open -= 1;
                close_piece(closed, last_closed, *p, gap_s);
            }
        }
        t.in_sec += n;
        t.frags += fragment as u64 * n;
        if t.piece.is_none() && t.in_sec >= HOT_PPS {
            if *open >= MAX_OPEN {
                *dropped_packets += n;
                return;
            }
            let mut p = Piece::new(key, t.sec);
            // The second before and this second's earlier packets: counted, without detail.
            if t.prev.0 == t.sec - 1 && t.prev.1 > 0 {
                p.close_second(t.prev.0, t.prev.1);
                p.undetailed += t.prev.1;
                p.fragments += t.prev_frags;
            }
            p.undetailed += t.in_sec - n;
            p.fragments += t.frags - fragment as u64 * n;
            p.packets = p.undetailed;
            t.piece = Some(Box::new(p));
            *open += 1;
        }
        let Some(p) = &mut t.piece else {
            return;
        };
        let h = addr_hash(s.src);
        p.packets += n;
        p.bytes += s.len;
        p.first_ns = p.first_ns.min(s.ts_ns);
        p.last_ns = p.last_ns.max(s.ts_ns);
        if let Some(a) = &mut p.addrs {
            a[(s.dst.bits & 0xff) as usize] += n;
        }
        p.sources.add(h);
        p.heavy.add(h, n);
        p.fragments += fragment as u64 * n;
        let first = if s.src.v6 {
            (s.src.bits >> 120) as u8
        } else {
            (s.src.bits >> 24) as u8
        };
        p.first_octets[(first >> 6) as usize] |= 1 << (first & 63);
        if !s.src.v6 && is_bogon_source_v4(s.src.bits as u32) {
            p.bogon_packets += n;
        }
        if let Some(ttl) = s.ttl {
            p.ttls[(ttl >> 6) as usize] |= 1 << (ttl & 63);
        }
        if let Some(port) = s.dst_port {
            p.ports.add(port, n);
        }
        p.classes[s.class.index()] += n;
        p.data_packets += s.tcp_data as u64 * n;
    }

    /// Forgets destinations that are not hot: they hold a second's count and nothing else.
    fn shed_trackers(&mut self) {
        self.trackers.retain(|_, t| t.piece.is_some());
    }

    /// The end of a batch of packets this thread decoded: the next batch it gets is not
    /// contiguous with this one (another thread may read the batches between), so every
    /// open episode records the current second's count as an edge second, which the
    /// neighbouring batch may share and which is summed exactly when pieces join. Episodes
    /// stay open, so their source sets and detail carry over to the thread's next batch
    /// instead of being rebuilt batch after batch.
    pub fn end_batch(&mut self) {
        for t in self.trackers.values_mut() {
            if let Some(p) = &mut t.piece {
                if t.in_sec > 0 {
                    p.close_second(t.sec, t.in_sec);
                    if t.in_sec >= HOT_PPS {
                        t.last_hot = t.sec;
                    }
                }
                p.seal();
                t.in_sec = 0;
                t.frags = 0;
            }
        }
    }

    /// Closes every open second and piece (before merging threads or judging).
    pub fn flush(&mut self) {
        let mut keys: Vec<Key> = self.trackers.keys().copied().collect();
        keys.sort_by_key(order_key);
        for k in keys {
            let Some(mut t) = self.trackers.remove(&k) else {
                continue;
            };
            match t.piece.take() {
                Some(mut p) => {
                    p.close_second(t.sec, t.in_sec);
                    close_piece(&mut self.closed, &mut self.last_closed, *p, self.gap_s);
                }
                // A cool second right after a hot one: the tail of an attack whose next
                // packets another thread reads. Kept so the edge second sums exactly.
                None if t.in_sec > 0 && t.sec.saturating_sub(t.last_hot) <= self.gap_s => {
                    let mut p = Piece::new(k, t.sec);
                    p.close_second(t.sec, t.in_sec);
                    p.packets = t.in_sec;
                    p.undetailed = t.in_sec;
                    p.fragments = t.frags;
                    close_piece(&mut self.closed, &mut self.last_closed, p, self.gap_s);
                }
                None => {}
            }
        }
        self.open = 0;
    }

    /// Folds another thread's episodes into these.
    pub fn merge(&mut self, mut o: Episodes) {
        self.flush();
        o.flush();
        self.closed.append(&mut o.closed);
        self.last_closed.clear();
        self.dropped_packets += o.dropped_packets;
        if self.closed.len() > MAX_PIECES {
            self.closed.sort_by(|a, b| {
                b.packets.cmp(&a.packets).then_with(|| {
                    (order_key(&a.key), a.first_sec).cmp(&(order_key(&b.key), b.first_sec))
                })
            });
            for p in self.closed.drain(MAX_PIECES..) {
                self.dropped_packets += p.packets;
            }
        }
    }

    /// The attacks among the episodes, largest first.
    pub fn attacks(&self, th: &Thresholds, role_host: bool) -> Vec<Attack> {
        let mut me = self.clone();
        me.flush();
        let mut pieces = me.closed;
        pieces.sort_by(|a, b| {
            (order_key(&a.key), a.first_sec, a.last_sec, a.packets).cmp(&(
                order_key(&b.key),
                b.first_sec,
                b.last_sec,
                b.packets,
            ))
        });
        // Pieces of one destination and shape that touch (threads, gaps) are one episode.
        let mut episodes: Vec<Piece> = Vec::new();
        for p in pieces {
            match episodes.last_mut() {
                Some(e) if e.key == p.key && p.first_sec <= e.last_sec.saturating_add(th.gap_s) => {
                    e.absorb(&p)
                }
                _ => episodes.push(p),
            }
        }
        fold_fragments(&mut episodes);
        let mut out: Vec<Attack> = episodes
            .iter()
            .filter_map(|e| judge(e, th, role_host, self.dropped_packets))
            .collect();
        out = coalesce_prefixes(out);
        out.sort_by(|a, b| {
            b.packets
                .cmp(&a.packets)
                .then(a.start_ns.cmp(&b.start_ns))
                .then(a.target.cmp(&b.target))
                .then(a.kind.cmp(&b.kind))
        });
        out
    }
}

/// Counts per second, one entry per second, ascending.
fn sum_by_second(mut v: Vec<(i64, u64)>) -> Vec<(i64, u64)> {
    v.sort_unstable();
    let mut out: Vec<(i64, u64)> = Vec::with_capacity(v.len());
    for (sec, n) in v {
        match out.last_mut() {
            Some(l) if l.0 == sec => l.1 += n,
            _ => out.push((sec, n)),
        }
    }
    out
}

/// Seals a piece and keeps it: it continues this thread's last piece of the same key when
/// it starts within the gap of its end (the batches between were another thread's), else it
/// starts a new one.
fn close_piece(
    closed: &mut Vec<Piece>,
    last: &mut hashbrown::HashMap<Key, usize, PassThroughState>,
    mut p: Piece,
    gap_s: i64,
) {
    p.seal();
    if let Some(&i) = last.get(&p.key)
        && let Some(prev) = closed.get_mut(i)
        && prev.key == p.key
        && p.first_sec <= prev.last_sec.saturating_add(gap_s)
        // and does not end long before it began (inputs out of time order)
        && prev.first_sec <= p.last_sec.saturating_add(gap_s)
    {
        if p.first_sec < prev.last_sec {
            // Out of time order: a later batch reached back into this one's seconds.
            prev.peak_exact = false;
        }
        prev.absorb(&p);
        return;
    }
    last.insert(p.key, closed.len());
    closed.push(p);
}

fn order_key(k: &Key) -> (AttackKind, Addr, u16) {
    (k.kind, k.net, k.service)
}

/// Non-first fragments at a destination that also receives UDP amplification or a UDP
/// flood at the same time are the rest of those datagrams (large DNS, CLDAP and memcached
/// replies fragment): they are counted with the largest such episode overlapping them in
/// time, instead of as a fragment flood of their own.
fn fold_fragments(episodes: &mut Vec<Piece>) {
    let mut i = 0;
    while i < episodes.len() {
        if episodes[i].key.kind != AttackKind::FragmentFlood {
            i += 1;
            continue;
        }
        let f = &episodes[i];
        let host = episodes
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.key.net == f.key.net
                    && matches!(
                        e.key.kind,
                        AttackKind::UdpAmplification | AttackKind::UdpFlood
                    )
                    && e.first_sec <= f.last_sec
                    && f.first_sec <= e.last_sec
            })
            .max_by(|a, b| {
                a.1.packets
                    .cmp(&b.1.packets)
                    .then_with(|| order_key(&b.1.key).cmp(&order_key(&a.1.key)))
            })
            .map(|(j, _)| j);
        match host {
            Some(j) => {
                let frag = episodes.remove(i);
                let j = if j > i { j - 1 } else { j };
                let h = &mut episodes[j];
                let ports = h.ports.clone();
                let frag_packets = frag.packets - frag.fragments.min(frag.packets);
                h.absorb(&frag);
                // Fragments carry no ports; their seconds add to the datagrams' seconds.
                h.ports = ports;
                h.fragments += frag_packets;
            }
            None => i += 1,
        }
    }
}

/// Evidence that the sources are forged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpoofEvidence {
    /// Share of packets from bogon sources.
    pub bogon_share: f64,
    /// /8s the sources came from, and how many uniform draws of that many sources would cover.
    pub slash8s: u32,
    /// /8s the uniform draws of that many sources would cover.
    pub slash8s_uniform: f64,
    /// Distinct IP TTL values (forged packets are often sent with random TTLs).
    pub ttl_values: u32,
    /// Packets per source.
    pub packets_per_source: f64,
}

/// An episode judged an attack on the capture's owner.
#[derive(Clone, Debug)]
pub struct Attack {
    /// The attack shape.
    pub kind: AttackKind,
    /// An address (/32, /128) or the prefix the hit addresses share.
    pub target: (IpAddr, u8),
    /// Distinct destination addresses hit (IPv4; 1 for IPv6).
    pub addresses: u64,
    /// Destination ports with packets, most first (exact while `ports_exact`), and how many
    /// distinct ports there were.
    pub ports: Vec<(u16, u64)>,
    /// Distinct destination ports (an estimate past 16).
    pub ports_distinct: u64,
    /// Whether `ports` lists every port.
    pub ports_exact: bool,
    /// For amplification: the service the source port names.
    pub service: Option<&'static Amplifier>,
    /// First packet (ns since the epoch, UTC).
    pub start_ns: i64,
    /// Last packet (ns since the epoch, UTC).
    pub end_ns: i64,
    /// Packets in the episode.
    pub packets: u64,
    /// Bytes in the episode.
    pub bytes: u64,
    /// Non-first fragments counted with the datagrams they belong to.
    pub fragments: u64,
    /// Most packets in one calendar second (`peak_exact` false when pieces counted by
    /// different threads overlapped inside a second).
    pub peak_pps: f64,
    /// Whether the peak was counted exactly (false when inputs reached back in time).
    pub peak_exact: bool,
    /// Packets per second from first to last packet.
    pub mean_pps: f64,
    /// Distinct sources.
    pub sources: u64,
    /// Whether `sources` is exact.
    pub sources_exact: bool,
    /// The sources are forged (see `evidence`).
    pub spoofed: bool,
    /// What the spoofing verdict rests on.
    pub evidence: SpoofEvidence,
    /// Packet counts by class (the packets' own per-packet classes), for the report to say
    /// which class lines the attack explains. Apportioned when the destination had other
    /// episodes of the same shape.
    pub classes: [u64; 13],
    /// Packets counted before the episode opened in its first second (in `packets`, not in
    /// `classes`, sources or ports).
    pub undetailed: u64,
    /// False when packets may be missing: hot destinations were dropped to bound memory
    /// (`Episodes::dropped_packets` in all).
    pub packets_exact: bool,
    /// Several /24s hit at once (carpet bombing), merged into one prefix.
    pub merged: u32,
}

impl Attack {
    /// Seconds from the first packet to the last.
    pub fn duration_s(&self) -> f64 {
        (self.end_ns as i128 - self.start_ns as i128).max(0) as f64 / 1e9
    }
}

fn expected_slash8s(sources: u64) -> f64 {
    256.0 * (1.0 - (1.0 - 1.0 / 256.0f64).powf(sources as f64))
}

fn judge(e: &Piece, th: &Thresholds, role_host: bool, dropped: u64) -> Option<Attack> {
    let peak = e.peak();
    if e.packets < th.min_packets || (peak as f64) < th.min_pps {
        return None;
    }
    let (sources, sources_exact) = e.sources.count();
    // An estimate never says more senders than the packets they sent.
    let sources = sources.min(e.packets);
    let (ports_distinct, ports_exact) = e.ports.distinct();
    // Where on the /24 it landed.
    let (target, addresses, per_address) = match &e.addrs {
        Some(counts) => {
            let hit: Vec<(usize, u64)> = counts
                .iter()
                .copied()
                .enumerate()
                .filter(|x| x.1 > 0)
                .collect();
            let base = e.key.net.bits as u32;
            let top = hit
                .iter()
                .copied()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap_or((0, 0));
            let total: u64 = hit.iter().map(|x| x.1).sum();
            let target = if top.1 * 2 >= total {
                (IpAddr::from((base | top.0 as u32).to_be_bytes()), 32)
            } else {
                let lo = base | hit.first().map_or(0, |x| x.0) as u32;
                let hi = base | hit.last().map_or(0, |x| x.0) as u32;
                let len = (lo ^ hi).leading_zeros().min(32) as u8;
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                (IpAddr::from((lo & mask).to_be_bytes()), len)
            };
            let n = hit.len().max(1) as u64;
            (target, n, total as f64 / n as f64)
        }
        None => ((e.key.net.ip(), 128), 1, e.packets as f64),
    };
    let is_host = target.1 == 32 || target.1 == 128;
    if !is_host && peak as f64 / (addresses as f64) < th.min_pps_per_address {
        return None;
    }
    let kind = e.key.kind;
    // Reflection needs many reflectors: one server answering is a conversation or backscatter.
    if kind.is_reflected() && sources < th.scan_sources {
        return None;
    }
    // A scan: a few sources (the nine heaviest send 90 % of the detailed packets; the
    // background around a scan adds other sources) that spread over ports, or hit each
    // address only a few times.
    let detailed = e.packets - e.undetailed.min(e.packets);
    let few_senders =
        sources < th.scan_sources || e.heavy.top(th.scan_sources as usize - 1) * 10 >= detailed * 9;
    let scan_like = !kind.is_reflected()
        && kind != AttackKind::GreFlood
        && few_senders
        && (ports_distinct > EXACT_PORTS as u64 || per_address < 4.0);
    if scan_like {
        return None;
    }
    let slash8s: u32 = e.first_octets.iter().map(|w| w.count_ones()).sum();
    let evidence = SpoofEvidence {
        bogon_share: e.bogon_packets as f64 / e.packets.max(1) as f64,
        slash8s,
        slash8s_uniform: expected_slash8s(sources),
        ttl_values: e.ttls.iter().map(|w| w.count_ones()).sum(),
        packets_per_source: e.packets as f64 / sources.max(1) as f64,
    };
    let spoofed = !kind.is_reflected()
        && !e.key.net.v6
        && sources >= 100
        && evidence.packets_per_source <= 3.0
        && (evidence.bogon_share >= 0.02 || slash8s as f64 >= 0.75 * evidence.slash8s_uniform);
    // On a host, TCP that is not SYN from real sources is its sessions (downloads' ACKs,
    // data), not a flood; on a darknet there are no sessions, so it is one (Mirai's ACK
    // flood carries 512 random bytes from real bots).
    if kind == AttackKind::TcpFlood && !spoofed && role_host {
        return None;
    }
    let mut ports: Vec<(u16, u64)> = if ports_exact {
        e.ports.exact.clone()
    } else {
        Vec::new()
    };
    ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let span_s = (e.last_ns as i128 - e.first_ns as i128).max(0) as f64 / 1e9;
    Some(Attack {
        kind,
        target,
        addresses,
        ports,
        ports_distinct,
        ports_exact,
        service: (kind == AttackKind::UdpAmplification)
            .then(|| amplifier(e.key.service))
            .flatten(),
        start_ns: e.first_ns,
        end_ns: e.last_ns,
        packets: e.packets,
        bytes: e.bytes,
        fragments: e.fragments,
        peak_pps: peak as f64,
        peak_exact: e.peak_exact,
        mean_pps: if span_s >= 0.001 && e.packets > 1 {
            (e.packets - 1) as f64 / span_s
        } else {
            e.packets as f64
        },
        sources,
        sources_exact,
        spoofed,
        evidence,
        classes: {
            // The packets counted before the episode opened are of its shape at its
            // destination: they go with its main class.
            let mut c = e.classes;
            if let Some(main) = (0..13).max_by_key(|&i| (c[i], std::cmp::Reverse(i))) {
                c[main] += e.undetailed;
            }
            c
        },
        undetailed: e.undetailed,
        packets_exact: dropped == 0,
        merged: 1,
    })
}

/// Attacks of one kind on several /24s at the same time (carpet bombing of a prefix) become
/// one attack on the prefix the targets share.
fn coalesce_prefixes(mut v: Vec<Attack>) -> Vec<Attack> {
    v.sort_by(|a, b| {
        (
            a.kind,
            a.service.map(|s| s.port),
            a.target.0.is_ipv6(),
            a.start_ns,
        )
            .cmp(&(
                b.kind,
                b.service.map(|s| s.port),
                b.target.0.is_ipv6(),
                b.start_ns,
            ))
    });
    let mut out: Vec<Attack> = Vec::new();
    for a in v {
        let joinable = |o: &Attack| {
            o.kind == a.kind
                && o.service.map(|s| s.port) == a.service.map(|s| s.port)
                && !a.target.0.is_ipv6()
                && !o.target.0.is_ipv6()
                && o.target.1 < 32
                && a.target.1 < 32
                && a.start_ns <= o.end_ns
        };
        match out.last_mut() {
            Some(o) if joinable(o) => {
                let (IpAddr::V4(x), IpAddr::V4(y)) = (o.target.0, a.target.0) else {
                    out.push(a);
                    continue;
                };
                let (x, y) = (u32::from(x), u32::from(y));
                let len = (x ^ y)
                    .leading_zeros()
                    .min(o.target.1 as u32)
                    .min(a.target.1 as u32);
                // Carpet bombing hits one network; attacks on far-apart prefixes stay apart.
                if len < 16 {
                    out.push(a);
                    continue;
                }
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                o.target = (IpAddr::from((x & mask).to_be_bytes()), len as u8);
                o.addresses += a.addresses;
                o.end_ns = o.end_ns.max(a.end_ns);
                o.peak_pps += a.peak_pps;
                o.peak_exact = false;
                o.undetailed += a.undetailed;
                o.packets += a.packets;
                o.bytes += a.bytes;
                o.fragments += a.fragments;
                let span = (o.end_ns as i128 - o.start_ns as i128) as f64 / 1e9;
                o.mean_pps = if span >= 0.001 && o.packets > 1 {
                    (o.packets - 1) as f64 / span
                } else {
                    o.packets as f64
                };
                // Sources of the parts may overlap: the larger count is a lower bound.
                o.sources = o.sources.max(a.sources);
                o.sources_exact = false;
                o.spoofed &= a.spoofed;
                for (p, n) in a.ports {
                    match o.ports.iter_mut().find(|x| x.0 == p) {
                        Some(x) => x.1 += n,
                        None => o.ports.push((p, n)),
                    }
                }
                o.ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                o.ports.truncate(EXACT_PORTS);
                o.ports_distinct = o.ports_distinct.max(a.ports_distinct);
                o.ports_exact &= a.ports_exact;
                for (c, n) in o.classes.iter_mut().zip(a.classes) {
                    *c += n;
                }
                o.merged += a.merged;
            }
            _ => out.push(a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ts_ns: i64, src: u32, dst: u32, kind: AttackKind, dport: u16) -> Sample {
        Sample {
            ts_ns,
            len: 60,
            count: 1,
            src: Addr::v4(src),
            dst: Addr::v4(dst),
            kind,
            src_port: 0,
            dst_port: Some(dport),
            ttl: Some((src % 200) as u8),
            class: Class::ScanTcp,
            tcp_data: false,
            first_fragment: false,
        }
    }

    fn lcg(x: &mut u64) -> u32 {
        *x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*x >> 32) as u32
    }

    #[test]
    fn a_spoofed_syn_flood_on_one_address_is_an_attack_split_over_threads() {
        let (mut a, mut b) = (Episodes::default(), Episodes::default());
        let mut x = 1u64;
        let target = 0x0a0a_0a0a;
        for i in 0..20_000i64 {
            let s = sample(
                i * 1_000_000,
                lcg(&mut x),
                target,
                AttackKind::SynFlood,
                25565,
            );
            // Batches of 4,096 alternate between two threads, as the decoder does, and each
            // batch ends with a flush.
            if (i / 4096) % 2 == 0 {
                a.add(&s)
            } else {
                b.add(&s)
            }
            if i % 4096 == 4095 {
                a.flush();
                b.flush();
            }
        }
        a.merge(b);
        let at = a.attacks(&Thresholds::default(), false);
        assert_eq!(at.len(), 1);
        let t = &at[0];
        assert_eq!(t.kind, AttackKind::SynFlood);
        assert_eq!(t.target, (IpAddr::from([10, 10, 10, 10]), 32));
        assert_eq!(t.packets, 20_000);
        assert_eq!(t.peak_pps, 1000.0);
        assert!(t.peak_exact);
        assert!(t.spoofed, "{:?}", t.evidence);
        // Packets counted before an episode piece opens in a batch have no port.
        assert_eq!(t.ports.len(), 1);
        assert_eq!(t.ports[0].0, 25565);
        assert!(t.ports[0].1 + t.undetailed == 20_000, "{:?}", t.ports);
        assert!(
            (t.sources as f64 - 20_000.0).abs() < 1_000.0,
            "{}",
            t.sources
        );
    }

    #[test]
    fn a_darknet_trickle_is_no_attack() {
        let mut e = Episodes::default();
        let mut x = 7u64;
        // A /24 darknet: 2 packets/s of SYN-ACK backscatter and SYN scans for six hours.
        for i in 0..43_200i64 {
            let dst = 0xc633_6400 | (lcg(&mut x) & 0xff);
            let kind = if i % 2 == 0 {
                AttackKind::TcpReflection
            } else {
                AttackKind::SynFlood
            };
            e.add(&sample(
                i * 500_000_000,
                lcg(&mut x),
                dst,
                kind,
                lcg(&mut x) as u16,
            ));
        }
        assert!(e.attacks(&Thresholds::default(), false).is_empty());
    }

    #[test]
    fn a_fast_port_scan_from_one_host_is_no_flood() {
        let mut e = Episodes::default();
        for p in 0..20_000u16 {
            e.add(&sample(
                p as i64 * 100_000,
                0x0102_0304,
                0x0a00_0001,
                AttackKind::SynFlood,
                p,
            ));
        }
        assert!(e.attacks(&Thresholds::default(), false).is_empty());
    }

    #[test]
    fn quiet_gaps_split_episodes_without_losing_packets() {
        let mut e = Episodes::default();
        let mut x = 3u64;
        // Two floods of 25 s at 200 packets/s, an hour apart.
        for i in 0..5_000i64 {
            e.add(&sample(
                i * 5_000_000,
                lcg(&mut x),
                0x0a00_0001,
                AttackKind::UdpFlood,
                53,
            ));
        }
        for i in 0..5_000i64 {
            e.add(&sample(
                3_600_000_000_000 + i * 5_000_000,
                lcg(&mut x),
                0x0a00_0001,
                AttackKind::UdpFlood,
                53,
            ));
        }
        let at = e.attacks(&Thresholds::default(), false);
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(at.iter().all(|a| a.packets == 5_000));
    }

    #[test]
    fn inputs_out_of_time_order_give_separate_episodes() {
        // Two captures of one victim months apart, the later one read first: two floods,
        // not one "attack" summing them into one second and lasting the months between.
        let mut e = Episodes::default();
        let mut x = 7u64;
        let months = 150 * 86_400_000_000_000i64;
        for start in [months, 0] {
            for i in 0..5_000i64 {
                e.add(&sample(
                    start + i * 5_000_000,
                    lcg(&mut x),
                    0x0a00_0001,
                    AttackKind::UdpFlood,
                    53,
                ));
            }
        }
        let at = e.attacks(&Thresholds::default(), false);
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(
            at.iter()
                .all(|a| a.packets == 5_000 && a.duration_s() < 30.0),
            "{at:?}"
        );
    }

    #[test]
    fn non_first_fragments_join_their_datagrams_episode() {
        let mut e = Episodes::default();
        let mut x = 5u64;
        let pool: Vec<u32> = (0..120).map(|_| lcg(&mut x)).collect();
        for i in 0..15_000i64 {
            let src = pool[(lcg(&mut x) % 120) as usize];
            let mut s = sample(
                i * 666_667,
                src,
                0x0a00_0001,
                AttackKind::UdpAmplification,
                4000,
            );
            s.src_port = 11211;
            s.first_fragment = true;
            e.add(&s);
            for _ in 0..2 {
                let mut f = sample(i * 666_667, src, 0x0a00_0001, AttackKind::FragmentFlood, 0);
                f.dst_port = None;
                e.add(&f);
            }
        }
        let at = e.attacks(&Thresholds::default(), false);
        assert_eq!(at.len(), 1, "{at:?}");
        assert_eq!(at[0].packets, 45_000);
        assert_eq!(at[0].fragments, 30_000);
    }
}
