//! The heaviest sources (or victims) in fixed, cache-sized memory: a four-way associative
//! table with Misra–Gries replacement, one for IPv4 and one for IPv6 addresses. An address
//! already in its bucket is counted exactly; a new one takes a free way, or else the lighter
//! way is decremented and replaced when it reaches zero. Counts stay exact until a bucket
//! overflows, and `undercount_at_most` bounds how low any reported count can be.

use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use foldhash::fast::FixedState;

#[cfg(doc)]
use crate::distinct::Distinct;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
/// What one source sent.
pub struct Seen {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// First packet (ns since the epoch, UTC).
    pub first_ns: i64,
    /// Last packet.
    pub last_ns: i64,
    /// Classes seen from this address (bit = `Class::index`).
    pub classes: u16,
}

impl Seen {
    /// One record at `ts_ns` standing for `packets` packets.
    #[inline]
    fn once(ts_ns: i64, bytes: u64, packets: u64, classes: u16) -> Seen {
        Seen {
            packets,
            bytes,
            first_ns: ts_ns,
            last_ns: ts_ns,
            classes,
        }
    }
}

const WAYS: usize = 4;

/// The keys and packet counts of one bucket: everything a lookup and a Misra–Gries
/// decrement read. With spoofed or random sources nearly every packet takes that path, so
/// the rest of each entry lives apart and is touched only on a hit or an insert. A way is
/// free when its count is 0 (its key is then stale), so every key value is usable,
/// 0.0.0.0 included. IPv4 buckets are one cache line (16-byte keys made them two, and
/// comparing them was a third of the ranking's instructions).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Bucket<K> {
    keys: [K; WAYS],
    packets: [u64; WAYS],
}

/// The rest of an entry (its packets are in the bucket).
#[derive(Clone, Copy, Debug, Default)]
struct Detail {
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    classes: u16,
}

impl Detail {
    fn of(s: &Seen) -> Self {
        Detail {
            bytes: s.bytes,
            first_ns: s.first_ns,
            last_ns: s.last_ns,
            classes: s.classes,
        }
    }
    fn seen(&self, packets: u64) -> Seen {
        Seen {
            packets,
            bytes: self.bytes,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            classes: self.classes,
        }
    }
}

/// One address family's table; the caller picks the bucket.
#[derive(Clone, Debug)]
struct Table<K> {
    buckets: Vec<Bucket<K>>,
    details: Vec<[Detail; WAYS]>,
}

impl<K: Copy + Default + Eq> Table<K> {
    fn new(buckets: usize) -> Self {
        Table {
            buckets: vec![Bucket::default(); buckets],
            details: vec![[Detail::default(); WAYS]; buckets],
        }
    }

    /// Counts `s` for `k` in bucket `i`; returns the count a replacement removed (0 if none).
    /// Nothing to count leaves the table as it is (a way with a count of 0 is free).
    #[inline(always)]
    fn add_at(&mut self, i: usize, k: K, s: Seen) -> u64 {
        if s.packets == 0 {
            return 0;
        }
        let b = &mut self.buckets[i];
        // One pass over the ways finds a hit and the lightest way at once (a free way is
        // the lightest, at 0): with spoofed sources nearly every packet misses.
        let (mut hit, mut light) = (WAYS, 0);
        for w in 0..WAYS {
            if b.keys[w] == k && b.packets[w] != 0 {
                hit = w;
            }
            if b.packets[w] < b.packets[light] {
                light = w;
            }
        }
        if hit < WAYS {
            b.packets[hit] += s.packets;
            let e = &mut self.details[i][hit];
            e.bytes += s.bytes;
            e.first_ns = e.first_ns.min(s.first_ns);
            e.last_ns = e.last_ns.max(s.last_ns);
            e.classes |= s.classes;
            return 0;
        }
        let w = light;
        let held = b.packets[w];
        if held == 0 {
            b.keys[w] = k;
            b.packets[w] = s.packets;
            self.details[i][w] = Detail::of(&s);
            return 0;
        }
        // Every way taken by other addresses: the lightest one pays. An emptied way's
        // detail is stale until the next insert overwrites it.
        if held >= s.packets {
            b.packets[w] -= s.packets;
        } else {
            b.keys[w] = k;
            b.packets[w] = s.packets - held;
            self.details[i][w] = Detail::of(&s);
        }
        held.min(s.packets)
    }

    /// Every key held, with what was seen from it.
    fn entries(&self) -> impl Iterator<Item = (K, Seen)> + '_ {
        self.buckets
            .iter()
            .zip(self.details.iter())
            .flat_map(|(b, d)| {
                (0..WAYS)
                    .filter(|&w| b.packets[w] != 0)
                    .map(move |w| (b.keys[w], d[w].seen(b.packets[w])))
            })
    }
}

#[derive(Clone, Debug)]
/// The heaviest sources in bounded memory (a fixed-size table; counts may be low by at most `undercount_at_most`).
pub struct Top {
    v4: Table<u32>,
    /// Allocated on the first IPv6 address (most darknet traffic is IPv4 only).
    v6: Option<Box<Table<u128>>>,
    mask: usize,
    /// Seeded with the run's fixed seed (see `new`): the same input keeps the same sources.
    hasher: FixedState,
    /// Seeds the IPv4 index: the same hash as [`Distinct::hash_v4`] with the same seed, so a
    /// caller that counts a source in both hashes it once.
    seed: u64,
    /// Largest count removed by replacement: a reported count may be low by at most this.
    pub undercount_at_most: u64,
}

impl Top {
    /// A table for about `cap` IPv4 and `cap` IPv6 addresses (rounded up to a power of
    /// two), hashed with the fixed seed of [`crate::distinct::run_seed`].
    pub fn new(cap: usize) -> Self {
        Self::with_seed(cap, crate::distinct::run_seed())
    }

    /// The same with a chosen seed (tests; reproducible runs).
    pub fn with_seed(cap: usize, seed: u64) -> Self {
        let n = cap.max(16).next_power_of_two() / WAYS;
        Top {
            v4: Table::new(n),
            v6: None,
            mask: n - 1,
            hasher: FixedState::with_seed(seed),
            seed,
            undercount_at_most: 0,
        }
    }

    #[inline]
    /// Counts one packet of `bytes` from `a`.
    pub fn add(&mut self, a: IpAddr, ts_ns: i64, bytes: u64, class_bit: u16) {
        self.add_weighted(a, ts_ns, bytes, 1, class_bit);
    }

    /// One record standing for `packets` packets (log lines with a count).
    #[inline]
    pub fn add_weighted(
        &mut self,
        a: IpAddr,
        ts_ns: i64,
        bytes: u64,
        packets: u64,
        class_bit: u16,
    ) {
        self.add_seen(a, Seen::once(ts_ns, bytes, packets, class_bit));
    }

    /// Adds an IPv4 address whose [`Distinct::hash_v4`] (same seed) is `hash`, for a record
    /// standing for `packets` packets.
    #[inline]
    pub fn add_v4_hashed(
        &mut self,
        a: u32,
        hash: u64,
        ts_ns: i64,
        bytes: u64,
        packets: u64,
        class_bit: u16,
    ) {
        debug_assert_eq!(hash, crate::distinct::hash_v4(a, self.seed));
        let s = Seen::once(ts_ns, bytes, packets, class_bit);
        self.add_v4_at(hash as usize & self.mask, a, s);
    }

    #[inline]
    fn add_v4_at(&mut self, i: usize, a: u32, s: Seen) {
        let removed = self.v4.add_at(i, a, s);
        self.undercount_at_most = self.undercount_at_most.max(removed);
    }

    fn add_seen(&mut self, a: IpAddr, s: Seen) {
        match a {
            IpAddr::V4(v) => {
                let a = u32::from(v);
                let i = crate::distinct::hash_v4(a, self.seed) as usize & self.mask;
                self.add_v4_at(i, a, s);
            }
            IpAddr::V6(v) => {
                let k = u128::from(v);
                let i = self.hasher.hash_one(k) as usize & self.mask;
                let buckets = self.mask + 1;
                let t = self.v6.get_or_insert_with(|| Box::new(Table::new(buckets)));
                let removed = t.add_at(i, k, s);
                self.undercount_at_most = self.undercount_at_most.max(removed);
            }
        }
    }

    /// Every address held, with what was seen from it.
    fn entries(&self) -> impl Iterator<Item = (IpAddr, Seen)> + '_ {
        let v4 = self
            .v4
            .entries()
            .map(|(a, s)| (IpAddr::V4(Ipv4Addr::from(a)), s));
        let v6 = self
            .v6
            .iter()
            .flat_map(|t| t.entries())
            .map(|(a, s)| (IpAddr::V6(Ipv6Addr::from(a)), s));
        v4.chain(v6)
    }

    /// Adds another table's counts.
    pub fn merge(&mut self, o: &Top) {
        for (a, s) in o.entries() {
            self.add_seen(a, s);
        }
        self.undercount_at_most = self.undercount_at_most.max(o.undercount_at_most);
    }

    /// The `n` heaviest, most packets first (ties by address, for stable output).
    pub fn top(&self, n: usize) -> Vec<(IpAddr, Seen)> {
        let mut v: Vec<(IpAddr, Seen)> = self.entries().collect();
        v.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Addresses currently held.
    pub fn len(&self) -> usize {
        self.entries().count()
    }
    /// Whether no source was counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_hitters_survive_a_flood_of_one_packet_sources() {
        let mut t = Top::with_seed(256, 1);
        let heavy: IpAddr = "192.0.2.1".parse().unwrap();
        let second: IpAddr = "2001:db8::7".parse().unwrap();
        for i in 0..100_000u32 {
            t.add(
                IpAddr::from(i.wrapping_mul(2_654_435_761).to_be_bytes()),
                i as i64,
                60,
                1,
            );
            if i % 10 == 0 {
                t.add(heavy, i as i64, 60, 2);
            }
            if i % 20 == 0 {
                t.add(second, i as i64, 60, 4);
            }
        }
        let top = t.top(2);
        assert_eq!((top[0].0, top[1].0), (heavy, second));
        assert!(top[0].1.packets <= 10_000 && top[0].1.packets + t.undercount_at_most >= 10_000);
        assert_eq!(top[0].1.classes, 2);
        // 256 IPv4 ways and the one IPv6 address, in its own table.
        assert!(t.len() <= 257);
    }

    #[test]
    fn exact_while_it_fits() {
        // With a fixed seed no bucket of this table holds more than four of these keys.
        let mut t = Top::with_seed(1024, 1);
        for i in 0..100u32 {
            for _ in 0..=i {
                t.add(IpAddr::from([10, 0, 0, i as u8]), 5, 1, 1);
            }
        }
        let top = t.top(3);
        assert_eq!(
            top[0],
            (
                IpAddr::from([10, 0, 0, 99]),
                Seen {
                    packets: 100,
                    bytes: 100,
                    first_ns: 5,
                    last_ns: 5,
                    classes: 1
                }
            )
        );
        assert_eq!(t.undercount_at_most, 0);
        let mut u = Top::with_seed(1024, 2);
        u.add(IpAddr::from([10, 0, 0, 99]), 1, 1, 2);
        t.merge(&u);
        assert_eq!(t.top(1)[0].1.packets, 101);
        assert_eq!(t.top(1)[0].1.classes, 3);
    }

    #[test]
    fn every_address_is_a_key_and_families_stay_apart() {
        let mut t = Top::with_seed(64, 3);
        let zero: IpAddr = "0.0.0.0".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.9".parse().unwrap();
        let v4: IpAddr = "192.0.2.9".parse().unwrap();
        let unspecified: IpAddr = "::".parse().unwrap();
        for (i, a) in [zero, zero, mapped, v4, v4, v4, unspecified]
            .into_iter()
            .enumerate()
        {
            t.add(a, i as i64, 10, 1);
        }
        let top = t.top(10);
        let got: Vec<(IpAddr, u64)> = top.iter().map(|(a, s)| (*a, s.packets)).collect();
        assert_eq!(got, vec![(v4, 3), (zero, 2), (unspecified, 1), (mapped, 1)]);
        assert_eq!(top[1].1.first_ns, 0);
        assert_eq!(top[1].1.last_ns, 1);
        assert_eq!(t.undercount_at_most, 0);
    }
}
