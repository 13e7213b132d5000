//! The heaviest sources (or victims) in fixed, cache-sized memory: a four-way associative
//! table (the keys and counts of a bucket share two cache lines) with Misra–Gries replacement. An address already in its bucket is
//! counted exactly; a new one takes a free way, or else the lighter way is decremented and
//! replaced when it reaches zero. Counts stay exact until a bucket overflows, and
//! `undercount_at_most` bounds how low any reported count can be.

use std::hash::BuildHasher;
use std::net::IpAddr;

use foldhash::fast::FixedState;

#[cfg(doc)]
use crate::distinct::Distinct;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub packets: u64,
    pub bytes: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    /// Classes seen from this address (bit = `Class::index`).
    pub classes: u16,
}

const WAYS: usize = 4;

/// The keys and packet counts of one bucket: everything a lookup and a Misra–Gries
/// decrement read, in two cache lines. With spoofed or random sources nearly every packet
/// takes that path, so the rest of each entry lives apart and is touched only on a hit or
/// an insert.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(32))]
struct Bucket {
    /// IPv4 as ::ffff:a.b.c.d; 0 = empty.
    keys: [u128; WAYS],
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

#[derive(Clone, Debug)]
pub struct Top {
    buckets: Vec<Bucket>,
    details: Vec<[Detail; WAYS]>,
    mask: usize,
    /// Seeded per run (see `new`), so spoofed addresses cannot be chosen to collide.
    hasher: FixedState,
    /// Seeds the IPv4 index: the same hash as [`Distinct::hash_v4`] with the same seed, so a
    /// caller that counts a source in both hashes it once.
    seed: u64,
    /// Largest count removed by replacement: a reported count may be low by at most this.
    pub undercount_at_most: u64,
}

/// `::ffff:0.0.0.0`, the IPv4-mapped prefix.
const V4_MAPPED: u128 = 0xffff << 32;

fn key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(v).max(1),
    }
}

fn addr(k: u128) -> IpAddr {
    let v6 = std::net::Ipv6Addr::from(k);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

impl Top {
    /// A table for about `cap` addresses (rounded up to a power of two), hashed with a
    /// random seed.
    pub fn new(cap: usize) -> Self {
        Self::with_seed(cap, crate::distinct::run_seed())
    }

    /// The same with a chosen seed (tests; reproducible runs).
    pub fn with_seed(cap: usize, seed: u64) -> Self {
        let n = cap.max(16).next_power_of_two() / WAYS;
        Top {
            buckets: vec![Bucket::default(); n],
            details: vec![[Detail::default(); WAYS]; n],
            mask: n - 1,
            hasher: FixedState::with_seed(seed),
            seed,
            undercount_at_most: 0,
        }
    }

    #[inline]
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
        let s = Seen {
            packets,
            bytes,
            first_ns: ts_ns,
            last_ns: ts_ns,
            classes: class_bit,
        };
        self.add_seen(key(a), s);
    }

    /// Adds an IPv4 address whose [`Distinct::hash_v4`] (same seed) is `hash`.
    #[inline]
    pub fn add_v4_hashed(&mut self, a: u32, hash: u64, ts_ns: i64, bytes: u64, class_bit: u16) {
        debug_assert_eq!(hash, crate::distinct::hash_v4(a, self.seed));
        let s = Seen {
            packets: 1,
            bytes,
            first_ns: ts_ns,
            last_ns: ts_ns,
            classes: class_bit,
        };
        self.add_at(hash as usize & self.mask, V4_MAPPED | a as u128, s);
    }

    fn index(&self, k: u128) -> usize {
        let h = match k >> 32 {
            0xffff => crate::distinct::hash_v4(k as u32, self.seed),
            _ => self.hasher.hash_one(k),
        };
        h as usize & self.mask
    }

    fn add_seen(&mut self, k: u128, s: Seen) {
        self.add_at(self.index(k), k, s);
    }

    #[inline]
    fn add_at(&mut self, i: usize, k: u128, s: Seen) {
        let b = &mut self.buckets[i];
        // One pass over the ways finds a hit, a free way and the lightest way at once: with
        // spoofed sources nearly every packet misses, and three scans were a third of this.
        let (mut hit, mut free, mut light) = (WAYS, WAYS, 0);
        for w in 0..WAYS {
            if b.keys[w] == k {
                hit = w;
            }
            if b.keys[w] == 0 {
                free = w;
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
            return;
        }
        if free < WAYS {
            b.keys[free] = k;
            b.packets[free] = s.packets;
            self.details[i][free] = Detail::of(&s);
            return;
        }
        // Every way taken by other addresses: the lightest one pays.
        let w = light;
        let held = b.packets[w];
        self.undercount_at_most = self.undercount_at_most.max(held.min(s.packets));
        if held > s.packets {
            b.packets[w] -= s.packets;
        } else if s.packets > held {
            b.keys[w] = k;
            b.packets[w] = s.packets - held;
            self.details[i][w] = Detail::of(&s);
        } else {
            // An emptied way's detail is stale until the next insert overwrites it.
            b.keys[w] = 0;
            b.packets[w] = 0;
        }
    }

    /// Every address held, with what was seen from it.
    fn entries(&self) -> impl Iterator<Item = (u128, Seen)> + '_ {
        self.buckets
            .iter()
            .zip(self.details.iter())
            .flat_map(|(b, d)| {
                (0..WAYS)
                    .filter(|&w| b.keys[w] != 0)
                    .map(move |w| (b.keys[w], d[w].seen(b.packets[w])))
            })
    }

    pub fn merge(&mut self, o: &Top) {
        for (k, s) in o.entries() {
            self.add_seen(k, s);
        }
        self.undercount_at_most = self.undercount_at_most.max(o.undercount_at_most);
    }

    /// The `n` heaviest, most packets first (ties by address, for stable output).
    pub fn top(&self, n: usize) -> Vec<(IpAddr, Seen)> {
        let mut v: Vec<(IpAddr, Seen)> = self.entries().map(|(k, s)| (addr(k), s)).collect();
        v.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Addresses currently held.
    pub fn len(&self) -> usize {
        self.entries().count()
    }
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
        assert!(t.len() <= 256);
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
}
