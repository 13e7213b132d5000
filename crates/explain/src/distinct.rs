//! Distinct counts that stay bounded: exact up to a limit (IPv4 in a sorted vector filled
//! by sorted batches, IPv6 in a seeded hash set), then a HyperLogLog sketch (2^12 registers,
//! 4 KiB, ±1.6 % typical error; small enough that the dozen sketches of a report stay in
//! cache). Hashing uses one fixed seed ([`run_seed`]) so the same input gives the same
//! estimates on every run: byte-identical reports matter more than hiding the seed, since
//! colliding addresses chosen by a sender can only make a labelled estimate less close.
//!
//! Not a roaring bitmap: roaring keeps its containers in one sorted vector, so random
//! 32-bit values (spoofed sources, Mirai's inner addresses) shift that vector on almost
//! every new container. Measured on 1 M darknet packets: 67 % of the time in memmove,
//! 250 K packets/s. Not a hash table either: at 65,536 random addresses per class it no
//! longer fits the cache, and every insert waited for memory (the probe was 58 % of the
//! distinct counting on the bench capture); a sorted batch merged in is sequential work.

use std::hash::BuildHasher;
use std::net::IpAddr;

use foldhash::fast::FixedState;

const HLL_P: u32 = 12;
const HLL_M: usize = 1 << HLL_P;

#[derive(Clone, Debug)]
/// A distinct count of addresses: exact up to a limit, a HyperLogLog estimate beyond (see the module comment).
pub struct Distinct {
    v4: V4Set,
    v6: hashbrown::HashSet<u128, FixedState>,
    hll: Option<Box<[u8; HLL_M]>>,
    /// Values held exactly and settled: the sorted IPv4 set and the IPv6 set (IPv4 values
    /// still pending are not in it).
    exact: u64,
    limit: u64,
    /// IPv4 values collected before they are sorted into the set.
    batch: usize,
    /// Seeds the IPv4 hash directly; builds the set and IPv6 hashes.
    seed: u64,
    hasher: FixedState,
}

impl Distinct {
    /// `limit`: most values kept exactly before switching to the sketch. `seed` must be the
    /// same for counters that will be merged.
    pub fn new(limit: u64, seed: u64) -> Self {
        let hasher = FixedState::with_seed(seed);
        Distinct {
            v4: V4Set::default(),
            v6: hashbrown::HashSet::with_hasher(hasher.clone()),
            hll: None,
            exact: 0,
            limit,
            // A sixteenth of the limit: each settled value is moved about sixteen times
            // before the set is full, whatever the limit.
            batch: (limit / 16).clamp(64, 1 << 16) as usize,
            seed,
            hasher,
        }
    }

    #[inline]
    /// Adds an IPv4 address (as a number).
    pub fn add_v4(&mut self, a: u32) {
        self.add_v4_hashed(a, self.hash_v4(a));
    }

    /// The sketch hash of an IPv4 address: counters with the same seed agree on it, so a
    /// caller adding one address to several of them hashes it once.
    #[inline]
    pub fn hash_v4(&self, a: u32) -> u64 {
        hash_v4(a, self.seed)
    }

    /// Adds `a`, whose [`Distinct::hash_v4`] is `hash`. Inlined: it runs several times per
    /// packet and its common paths are a few instructions (the call was a third of it).
    #[inline(always)]
    pub fn add_v4_hashed(&mut self, a: u32, hash: u64) {
        match &mut self.hll {
            Some(h) => hll_add(h, hash),
            None => {
                let v4 = &mut self.v4;
                if v4.recent.is_empty() {
                    v4.recent = vec![0; RECENT].into_boxed_slice();
                }
                // A value met again while its slot still holds it is in the set already:
                // the few addresses of a flood's targets or of a bot's packets are not
                // queued and sorted once per packet.
                let slot = &mut v4.recent[hash as usize & (RECENT - 1)];
                let tagged = a as u64 | 1 << 32;
                if *slot == tagged {
                    return;
                }
                *slot = tagged;
                v4.pending.push(a);
                if v4.pending.len() >= self.settle_at() {
                    self.settle_v4();
                }
            }
        }
    }

    /// Pending values that trigger a merge: as many as the set holds (so each value is
    /// moved a few times, not once per batch), but never so many that the set could pass
    /// its limit by more than a batch before it is checked.
    #[inline]
    fn settle_at(&self) -> usize {
        let held = self.v4.sorted.len();
        let room = (self.limit as usize).saturating_add(1).saturating_sub(held);
        held.min(room).max(self.batch)
    }

    /// Sorts the pending IPv4 values into the set; past the limit, turns into the sketch.
    #[cold]
    #[inline(never)]
    fn settle_v4(&mut self) {
        self.v4.settle();
        self.exact = (self.v4.sorted.len() + self.v6.len()) as u64;
        if self.exact > self.limit {
            self.switch_to_sketch();
        }
    }

    fn hash_v6(&self, a: u128) -> u64 {
        mix(self.hasher.hash_one((a | 1) ^ (1u128 << 127)))
    }

    /// Adds an address.
    pub fn add(&mut self, a: IpAddr) {
        match a {
            IpAddr::V4(v) => self.add_v4(u32::from(v)),
            IpAddr::V6(v) => self.add_v6(u128::from(v)),
        }
    }

    /// IPv6 values are hashed differently, so they rarely share a register pattern with
    /// IPv4 ones in the sketch.
    pub fn add_v6(&mut self, a: u128) {
        let hash = self.hash_v6(a);
        match &mut self.hll {
            Some(h) => hll_add(h, hash),
            None => {
                if self.v6.insert(a) {
                    self.exact += 1;
                    if self.exact > self.limit {
                        self.switch_to_sketch();
                    }
                }
            }
        }
    }

    fn switch_to_sketch(&mut self) {
        if self.hll.is_some() {
            return;
        }
        let mut h = Box::new([0u8; HLL_M]);
        for a in self.v4.values() {
            hll_add(&mut h, self.hash_v4(a));
        }
        for &a in self.v6.iter() {
            hll_add(&mut h, self.hash_v6(a));
        }
        self.v4 = V4Set::default();
        self.v6 = hashbrown::HashSet::with_hasher(self.hasher.clone());
        self.exact = 0;
        self.hll = Some(h);
    }

    /// Distinct values held exactly, pending ones included (no sketch yet).
    fn exact_count(&self) -> u64 {
        (self.v4.distinct_len() + self.v6.len()) as u64
    }

    /// True while the count is exact: no more than `limit` distinct values so far.
    pub fn is_exact(&self) -> bool {
        self.hll.is_none() && self.exact_count() <= self.limit
    }

    /// The count: exact, or the sketch's estimate. Pending values are counted as if they
    /// had been settled, so the answer depends only on the values added.
    pub fn count(&self) -> u64 {
        match &self.hll {
            None => {
                let n = self.exact_count();
                if n <= self.limit {
                    return n;
                }
                let mut settled = self.clone();
                settled.switch_to_sketch();
                settled.count()
            }
            Some(h) => hll_estimate(h),
        }
    }

    /// Adds another counter's values (same seed): the union.
    pub fn merge(&mut self, o: &Distinct) {
        match (&mut self.hll, &o.hll) {
            (Some(h), Some(oh)) => {
                for (a, b) in h.iter_mut().zip(oh.iter()) {
                    *a = (*a).max(*b);
                }
            }
            (None, None) => {
                // Both exact: the other's values join the pending batch and are sorted in
                // at once, not added (hashed, filtered, queued) one by one. Should an IPv6
                // value pass the limit, the sketch takes the pending values along.
                self.v4.pending.extend(o.v4.values());
                for &a in o.v6.iter() {
                    self.add_v6(a);
                }
                if self.hll.is_none() {
                    self.settle_v4();
                }
            }
            (Some(_), None) => {
                for a in o.v4.values() {
                    self.add_v4(a);
                }
                for &a in o.v6.iter() {
                    self.add_v6(a);
                }
            }
            (None, Some(_)) => {
                self.switch_to_sketch();
                self.merge(o);
            }
        }
    }
}

/// An exact set of IPv4 addresses: a sorted vector, with new values collected unsorted and
/// merged in by the batch, and values seen recently skipped. Random addresses (spoofed
/// sources, Mirai's filler) would miss the cache on every insert into a hash table of this
/// size; sorting a batch and merging it is sequential work instead. The set itself is not
/// hashed, so spoofed values have nothing to collide on but the recent-values filter, which
/// only skips work.
#[derive(Clone, Debug, Default)]
struct V4Set {
    /// Distinct addresses, ascending.
    sorted: Vec<u32>,
    /// Added since the last merge: unsorted, may repeat or be in `sorted` already.
    pending: Vec<u32>,
    /// The previous `sorted`, reused as the next merge's output.
    spare: Vec<u32>,
    /// Recently added values, direct-mapped by their hash (tagged with bit 32, so 0 is
    /// empty); allocated on the first value.
    recent: Box<[u64]>,
}

/// Slots of [`V4Set::recent`]: 4 KiB.
const RECENT: usize = 512;

impl V4Set {
    /// Merges the pending values into the sorted set.
    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        sort_addresses(&mut self.pending);
        self.pending.dedup();
        let mut out = std::mem::take(&mut self.spare);
        out.clear();
        out.reserve(self.sorted.len() + self.pending.len());
        let (a, b) = (&self.sorted, &self.pending);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (x, y) = (a[i], b[j]);
            out.push(x.min(y));
            i += (x <= y) as usize;
            j += (y <= x) as usize;
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        self.spare = std::mem::replace(&mut self.sorted, out);
        self.pending.clear();
    }

    /// How many distinct addresses, pending ones included.
    fn distinct_len(&self) -> usize {
        if self.pending.is_empty() {
            return self.sorted.len();
        }
        let mut p = self.pending.clone();
        sort_addresses(&mut p);
        p.dedup();
        let new = p
            .iter()
            .filter(|a| self.sorted.binary_search(a).is_err())
            .count();
        self.sorted.len() + new
    }

    /// Every address held, pending ones possibly more than once.
    fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.sorted.iter().chain(self.pending.iter()).copied()
    }
}

/// Sorts addresses ascending. A batch of random addresses (spoofed sources, Mirai's inner
/// ones) sorts in four linear radix passes where a comparison sort makes about log n passes
/// (16 at a 65,536-address batch): it was a quarter of explain's instructions on the
/// benchmark capture. Short batches, where the radix passes' tables cost more than they
/// save, take the comparison sort.
fn sort_addresses(v: &mut [u32]) {
    if v.len() < 256 {
        v.sort_unstable();
    } else {
        radsort::sort(v);
    }
}

/// The seeded hash of an IPv4 address that [`Distinct`] and [`crate::top::Top`] share.
#[inline]
pub(crate) fn hash_v4(a: u32, seed: u64) -> u64 {
    mix(a as u64 ^ seed)
}

/// murmur3's 64-bit finalizer: foldhash's fast hash is built for tables, not for the
/// uniform leading bits a sketch needs. A bijection, so distinct seeded IPv4 values never
/// collide before the registers; without the seed, values cannot be chosen to pile up.
#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// `hash` must be uniform in its leading bits (one of the `hash_*` methods). `M`, the
/// register count, is a power of two; its bits are known at compile time.
#[inline]
pub(crate) fn hll_add<const M: usize>(h: &mut [u8; M], hash: u64) {
    let p = M.trailing_zeros();
    let idx = (hash >> (64 - p)) as usize;
    let rest = hash << p | (1 << (p - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    // A store every time rather than a branch that the random ranks would mispredict.
    h[idx] = h[idx].max(rank);
}

/// The HyperLogLog estimate, with linear counting while registers are still empty.
pub(crate) fn hll_estimate<const M: usize>(h: &[u8; M]) -> u64 {
    let m = M as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let (mut sum, mut zeros) = (0.0f64, 0usize);
    for &r in h.iter() {
        sum += 2f64.powi(-(r as i32));
        zeros += (r == 0) as usize;
    }
    let raw = alpha * m * m / sum;
    let est = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    est.round() as u64
}

/// The seed of the hashes, shared by the counters that get merged. Fixed, so a report is
/// reproducible (see the module comment).
pub fn run_seed() -> u64 {
    0x6e6f_6973_6566_6c6f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_sketch_within_two_percent() {
        let mut d = Distinct::new(10_000, 42);
        for i in 0..5_000u32 {
            d.add_v4(i.wrapping_mul(2_654_435_761));
            d.add_v4(i.wrapping_mul(2_654_435_761));
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), 5_000);
        for i in 5_000..200_000u32 {
            d.add_v4(i.wrapping_mul(2_654_435_761));
        }
        assert!(!d.is_exact());
        let c = d.count() as f64;
        assert!((c / 200_000.0 - 1.0).abs() < 0.05, "{c}");
    }

    #[test]
    fn sequential_and_strided_addresses_estimate_well() {
        // Scanners and floods walk address ranges: the seeded hash must still spread them.
        for seed in 1..6u64 {
            for stride in [1u32, 256, 65_537] {
                let mut d = Distinct::new(1_000, seed);
                for i in 0..300_000u32 {
                    d.add_v4(0x0a00_0000u32.wrapping_add(i.wrapping_mul(stride)));
                }
                let c = d.count() as f64;
                assert!(
                    (c / 300_000.0 - 1.0).abs() < 0.05,
                    "seed {seed} stride {stride}: {c}"
                );
            }
        }
    }

    #[test]
    fn exact_set_counts_every_address_once_including_zero() {
        let mut d = Distinct::new(1 << 20, 3);
        let mut model = std::collections::HashSet::new();
        let mut x = 1u32;
        for i in 0..300_000u32 {
            // Repeats, 0.0.0.0, 255.255.255.255 and a walk through one /16 among random values.
            let a = match i % 5 {
                0 => 0,
                1 => u32::MAX,
                2 => 0x0a00_0000 | (i % 70_000),
                _ => {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x
                }
            };
            d.add_v4(a);
            model.insert(a);
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), model.len() as u64);
        d.v4.settle();
        let mut want: Vec<u32> = model.into_iter().collect();
        want.sort_unstable();
        assert_eq!(d.v4.sorted, want);
    }

    #[test]
    fn exactness_depends_on_the_values_not_on_when_they_were_settled() {
        // At the limit exactly, one over it with the last value still pending, and the same
        // values merged from two halves: the same answers.
        let limit = 1_000u64;
        let mut at = Distinct::new(limit, 5);
        for i in 0..limit as u32 {
            at.add_v4(i * 7);
            at.add_v4(i * 7);
        }
        assert!(at.is_exact());
        assert_eq!(at.count(), limit);
        let mut over = at.clone();
        over.add_v4(1);
        assert!(!over.is_exact());
        let mut whole = Distinct::new(limit, 5);
        for a in (0..=limit as u32).map(|i| if i == limit as u32 { 1 } else { i * 7 }) {
            whole.add_v4(a);
        }
        whole.switch_to_sketch();
        assert_eq!(over.count(), whole.count());
        let (mut a, mut b) = (Distinct::new(limit, 5), Distinct::new(limit, 5));
        for i in 0..limit as u32 {
            if i % 2 == 0 {
                a.add_v4(i * 7)
            } else {
                b.add_v4(i * 7)
            }
        }
        a.merge(&b);
        assert!(a.is_exact());
        assert_eq!(a.count(), limit);
        // A zero limit is an estimate from the first value on.
        let mut z = Distinct::new(0, 5);
        assert_eq!(z.count(), 0);
        z.add_v4(9);
        assert!(!z.is_exact());
        assert_eq!(z.count(), 1);
    }

    #[test]
    fn repeated_values_are_counted_once_without_piling_up() {
        // A flood's few targets, or a bot's packets, arrive again and again (some of them
        // sharing a slot of the recent-values filter).
        let mut d = Distinct::new(65_536, 9);
        for i in 0..1_000_000u32 {
            d.add_v4(0xc000_0200 | (i % 200));
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), 200);
        assert!(d.v4.pending.len() + d.v4.sorted.len() <= 200 + d.batch);
        d.v4.settle();
        assert_eq!(
            d.v4.sorted,
            (0..200).map(|i| 0xc000_0200 | i).collect::<Vec<_>>()
        );
    }

    #[test]
    fn merges_exact_and_sketch() {
        let (mut a, mut b) = (Distinct::new(1_000, 7), Distinct::new(1_000, 7));
        for i in 0..800u32 {
            a.add_v4(i);
            b.add_v4(i + 400);
        }
        a.merge(&b);
        assert!(!a.is_exact());
        let c = a.count() as f64;
        assert!((c / 1_200.0 - 1.0).abs() < 0.05, "{c}");
        let (mut x, mut y) = (Distinct::new(10_000, 7), Distinct::new(10_000, 7));
        x.add("2001:db8::1".parse().unwrap());
        y.add("2001:db8::1".parse().unwrap());
        y.add("192.0.2.1".parse().unwrap());
        x.merge(&y);
        assert_eq!(x.count(), 2);
    }
}
