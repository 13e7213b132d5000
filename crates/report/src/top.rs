//! The heaviest sources (or victims) in fixed, cache-sized memory: a four-way associative
//! table (the four keys of a bucket share one cache line) with Misra–Gries replacement. An address already in its bucket is
//! counted exactly; a new one takes a free way, or else the lighter way is decremented and
//! replaced when it reaches zero. Counts stay exact until a bucket overflows, and
//! `undercount_at_most` bounds how low any reported count can be.

use std::hash::BuildHasher;
use std::net::IpAddr;

use foldhash::fast::FixedState;

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

#[derive(Clone, Debug)]
pub struct Top {
    /// IPv4 as ::ffff:a.b.c.d; 0 = empty. Bucket b holds keys[b*4..b*4+4].
    keys: Vec<u128>,
    seen: Vec<Seen>,
    mask: usize,
    /// Seeded per run (see `new`), so spoofed addresses cannot be chosen to collide.
    hasher: FixedState,
    /// Largest count removed by replacement: a reported count may be low by at most this.
    pub undercount_at_most: u64,
}

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
        let n = cap.max(16).next_power_of_two();
        Top {
            keys: vec![0; n],
            seen: vec![Seen::default(); n],
            mask: n / WAYS - 1,
            hasher: FixedState::with_seed(seed),
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

    fn add_seen(&mut self, k: u128, s: Seen) {
        let b = (self.hasher.hash_one(k) as usize & self.mask) * WAYS;
        let ways = &self.keys[b..b + WAYS];
        if let Some(w) = ways.iter().position(|&x| x == k) {
            let e = &mut self.seen[b + w];
            e.packets += s.packets;
            e.bytes += s.bytes;
            e.first_ns = e.first_ns.min(s.first_ns);
            e.last_ns = e.last_ns.max(s.last_ns);
            e.classes |= s.classes;
            return;
        }
        if let Some(w) = ways.iter().position(|&x| x == 0) {
            self.keys[b + w] = k;
            self.seen[b + w] = s;
            return;
        }
        // Every way taken by other addresses: the lightest one pays.
        let i = b
            + (0..WAYS)
                .min_by_key(|&w| self.seen[b + w].packets)
                .unwrap_or(0);
        let held = self.seen[i].packets;
        self.undercount_at_most = self.undercount_at_most.max(held.min(s.packets));
        if held > s.packets {
            self.seen[i].packets -= s.packets;
        } else if s.packets > held {
            self.keys[i] = k;
            self.seen[i] = Seen {
                packets: s.packets - held,
                ..s
            };
        } else {
            self.keys[i] = 0;
            self.seen[i] = Seen::default();
        }
    }

    pub fn merge(&mut self, o: &Top) {
        for (k, s) in o.keys.iter().zip(o.seen.iter()) {
            if *k != 0 {
                self.add_seen(*k, *s);
            }
        }
        self.undercount_at_most = self.undercount_at_most.max(o.undercount_at_most);
    }

    /// The `n` heaviest, most packets first (ties by address, for stable output).
    pub fn top(&self, n: usize) -> Vec<(IpAddr, Seen)> {
        let mut v: Vec<(IpAddr, Seen)> = self
            .keys
            .iter()
            .zip(self.seen.iter())
            .filter(|(k, _)| **k != 0)
            .map(|(k, s)| (addr(*k), *s))
            .collect();
        v.sort_by(|a, b| b.1.packets.cmp(&a.1.packets).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Addresses currently held.
    pub fn len(&self) -> usize {
        self.keys.iter().filter(|k| **k != 0).count()
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
