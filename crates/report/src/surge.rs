//! Surges: keys whose daily count rose far above their own baseline, and the day each began.
//!
//! Method (binary segmentation on a log scale, robust to outliers):
//! 1. The series is zero-filled per day and transformed to `y = ln(1 + packets)`, so a
//!    tenfold rise weighs the same at 10 and at 10,000 packets a day.
//! 2. Noise is measured once per series, robustly: σ = 1.4826 · MAD(y_t − y_{t−1}) / √2
//!    (floored at 0.15 so near-constant series do not make every wiggle significant).
//! 3. For a segment, the split k maximising the standardised mean shift
//!    `S(k) = (mean(y[k..]) − mean(y[..k])) · √(n₁n₂/n) / σ` is a change point when
//!    |S| ≥ [`SIGNIFICANCE`] and both sides are at least [`MIN_SEGMENT`] days long; both
//!    sides are then searched again (at most [`MAX_CHANGES`] change points per key).
//! 4. An upward change point is a surge when the median daily count after it (up to the
//!    next change point) is at least [`MIN_RATIO`] times the median before it (from the
//!    previous change point), with +1 smoothing so a rise from zero is finite, and at least
//!    [`MIN_LEVEL`] packets a day.
//!
//! A one-day spike is not a surge (segments need [`MIN_SEGMENT`] days); a weekly rhythm is
//! not one either (its medians differ by less than [`MIN_RATIO`]). Surges are ranked by
//! their score |S|, which grows with both the size of the rise and how long it lasted.

pub const SIGNIFICANCE: f64 = 6.0;
pub const MIN_SEGMENT: usize = 3;
pub const MAX_CHANGES: usize = 6;
pub const MIN_RATIO: f64 = 4.0;
pub const MIN_LEVEL: f64 = 10.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Surge {
    /// Index of the first day of the new level.
    pub start: usize,
    /// Median packets per day before (since the previous change) and after (until the next).
    pub before: f64,
    pub after: f64,
    /// (after + 1) / (before + 1).
    pub ratio: f64,
    pub score: f64,
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Change points of the log series (given as prefix sums) within [a, b), by recursive best
/// split.
fn split(prefix: &[f64], a: usize, b: usize, sigma: f64, out: &mut Vec<(usize, f64)>) {
    if out.len() >= MAX_CHANGES || b - a < 2 * MIN_SEGMENT {
        return;
    }
    let sum = |i: usize, j: usize| prefix[j] - prefix[i];
    let n = (b - a) as f64;
    let mut best: Option<(usize, f64)> = None;
    for k in a + MIN_SEGMENT..=b - MIN_SEGMENT {
        let (n1, n2) = ((k - a) as f64, (b - k) as f64);
        let d = sum(k, b) / n2 - sum(a, k) / n1;
        let s = d * (n1 * n2 / n).sqrt() / sigma;
        if best.is_none_or(|(_, bs)| s.abs() > bs.abs()) {
            best = Some((k, s));
        }
    }
    if let Some((k, s)) = best
        && s.abs() >= SIGNIFICANCE
    {
        out.push((k, s));
        split(prefix, a, k, sigma, out);
        split(prefix, k, b, sigma, out);
    }
}

/// Surges in one daily series (packets per day, consecutive days, zeros included).
pub fn detect(daily: &[u64]) -> Vec<Surge> {
    if daily.len() < 2 * MIN_SEGMENT {
        return Vec::new();
    }
    let y: Vec<f64> = daily.iter().map(|&x| (x as f64).ln_1p()).collect();
    let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let med = median(&diffs);
    let mad = median(&diffs.iter().map(|d| (d - med).abs()).collect::<Vec<_>>());
    let sigma = (1.4826 * mad / std::f64::consts::SQRT_2).max(0.15);
    let mut prefix = Vec::with_capacity(y.len() + 1);
    prefix.push(0.0);
    for v in &y {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    let mut cps = Vec::new();
    split(&prefix, 0, y.len(), sigma, &mut cps);
    cps.sort_by_key(|c| c.0);
    let x: Vec<f64> = daily.iter().map(|&v| v as f64).collect();
    let mut out = Vec::new();
    for (i, &(k, s)) in cps.iter().enumerate() {
        if s <= 0.0 {
            continue;
        }
        let lo = if i == 0 { 0 } else { cps[i - 1].0 };
        let hi = cps.get(i + 1).map_or(x.len(), |c| c.0);
        let before = median(&x[lo..k]);
        let after = median(&x[k..hi]);
        let ratio = (after + 1.0) / (before + 1.0);
        if ratio >= MIN_RATIO && after >= MIN_LEVEL {
            out.push(Surge {
                start: k,
                before,
                after,
                ratio,
                score: s,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(n: usize, level: u64, seed: u64) -> Vec<u64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let jitter = (s >> 33) % (level / 3 + 1);
                level - level / 6 + jitter
            })
            .collect()
    }

    #[test]
    fn gre_from_near_zero_to_tens_of_thousands() {
        let mut d: Vec<u64> = (0..60).map(|i| if i % 9 == 0 { 2 } else { 0 }).collect();
        d.extend(noisy(30, 30_000, 1));
        let s = detect(&d);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].start, 60);
        assert!(s[0].ratio > 1000.0);
    }

    #[test]
    fn multiplied_again() {
        let mut d = noisy(40, 20, 2);
        d.extend(noisy(30, 400, 3));
        d.extend(noisy(30, 5_000, 4));
        let s = detect(&d);
        let starts: Vec<usize> = s.iter().map(|s| s.start).collect();
        assert_eq!(starts, vec![40, 70], "{s:?}");
    }

    #[test]
    fn steady_weekly_rhythm_spikes_and_drops_are_not_surges() {
        let weekly: Vec<u64> = (0..120)
            .map(|i| if i % 7 < 5 { 1000 } else { 400 })
            .collect();
        assert!(detect(&weekly).is_empty());
        let mut spike = noisy(100, 50, 5);
        spike[60] = 50_000;
        assert!(detect(&spike).is_empty(), "{:?}", detect(&spike));
        let mut drop = noisy(50, 5000, 6);
        drop.extend(noisy(50, 100, 7));
        assert!(detect(&drop).is_empty());
        assert!(detect(&noisy(200, 300, 8)).is_empty());
        assert!(detect(&[]).is_empty());
        assert!(detect(&[0, 5, 0]).is_empty());
    }

    #[test]
    fn small_absolute_rises_are_ignored() {
        let mut d = vec![0u64; 50];
        d.extend(vec![3u64; 50]);
        assert!(detect(&d).is_empty());
    }
}
