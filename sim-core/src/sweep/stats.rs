//! Summary statistics across a point's seeds: mean, sample standard
//! deviation and the 95% confidence interval of the mean from Student's t
//! distribution with n − 1 degrees of freedom.
//!
//! Sums run in seed order, so the same values give the same bits whatever
//! order the runs finished in. With one value the deviation and interval are
//! undefined (`None`, `null` in JSON), not zero.

use serde::{Deserialize, Serialize};

/// Two-sided 95% quantiles t(0.975, df) for df = 1..=30.
const T975: [f64; 30] = [
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
];
/// Beyond 30: (df, t) anchors, interpolated linearly in 1/df; then the normal 1.959963985.
const T975_TAIL: [(f64, f64); 4] = [
    (30.0, 2.042272456),
    (40.0, 2.021075390),
    (60.0, 2.000297822),
    (120.0, 1.979930405),
];
const Z975: f64 = 1.959963985;

/// t(0.975, df): exact to 9 decimals for df ≤ 30 and at 40, 60, 120;
/// interpolated in 1/df between them (error below 1e-4).
pub fn t975(df: u64) -> f64 {
    assert!(df >= 1, "a t quantile needs at least one degree of freedom");
    if df <= 30 {
        return T975[df as usize - 1];
    }
    let x = 1.0 / df as f64;
    for w in T975_TAIL.windows(2) {
        let ((d0, t0), (d1, t1)) = (w[0], w[1]);
        if (df as f64) <= d1 {
            let (x0, x1) = (1.0 / d0, 1.0 / d1);
            return t1 + (t0 - t1) * (x - x1) / (x0 - x1);
        }
    }
    let (d0, t0) = T975_TAIL[3];
    Z975 + (t0 - Z975) * x * d0
}

/// Statistics of one metric at one point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Seeds with a value (a metric may be `null` in a run, e.g. a latency
    /// percentile when nothing was answered).
    pub n: u64,
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1 in the denominator).
    pub sd: Option<f64>,
    /// 95% confidence interval of the mean: mean ∓ t(0.975, n−1)·sd/√n.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stats {
    /// From the values in seed order (`None`: the run had no value).
    pub fn of(values: &[Option<f64>]) -> Stats {
        let xs: Vec<f64> = values.iter().flatten().copied().collect();
        let n = xs.len();
        if n == 0 {
            return Stats {
                n: 0,
                mean: None,
                sd: None,
                ci95_low: None,
                ci95_high: None,
                min: None,
                max: None,
            };
        }
        let mut sum = 0.0;
        for x in &xs {
            sum += x;
        }
        let mean = sum / n as f64;
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (sd, lo, hi) = if n >= 2 {
            let mut ss = 0.0;
            for x in &xs {
                ss += (x - mean) * (x - mean);
            }
            let sd = (ss / (n - 1) as f64).sqrt();
            let half = t975(n as u64 - 1) * sd / (n as f64).sqrt();
            (Some(sd), Some(mean - half), Some(mean + half))
        } else {
            (None, None, None)
        };
        Stats {
            n: n as u64,
            mean: Some(mean),
            sd,
            ci95_low: lo,
            ci95_high: hi,
            min: Some(min),
            max: Some(max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_hand_computed_example() {
        // 10, 12, 14: mean 12, sd 2, t(0.975, 2) = 4.302652730,
        // half-width 4.302652730 * 2 / sqrt(3) = 4.968275...
        let s = Stats::of(&[Some(10.0), Some(12.0), Some(14.0)]);
        assert_eq!(s.n, 3);
        assert_eq!(s.mean, Some(12.0));
        assert_eq!(s.sd, Some(2.0));
        let half = 4.302652730 * 2.0 / 3f64.sqrt();
        assert!((s.ci95_low.unwrap() - (12.0 - half)).abs() < 1e-12);
        assert!((s.ci95_high.unwrap() - 16.968275).abs() < 1e-6);
        assert_eq!((s.min, s.max), (Some(10.0), Some(14.0)));
    }

    #[test]
    fn one_value_has_no_interval_and_nulls_are_skipped() {
        let s = Stats::of(&[Some(3.0), None]);
        assert_eq!((s.n, s.mean, s.sd, s.ci95_low), (1, Some(3.0), None, None));
        let s = Stats::of(&[None, None]);
        assert_eq!((s.n, s.mean), (0, None));
    }

    #[test]
    fn t_quantiles_fall_towards_the_normal() {
        assert_eq!(t975(1), 12.706204736);
        assert_eq!(t975(40), 2.021075390);
        assert!((t975(50) - 2.008559112).abs() < 1e-4);
        assert!((t975(1000) - 1.962339).abs() < 1e-4);
        let mut last = f64::INFINITY;
        for df in 1..2000 {
            assert!(t975(df) < last && t975(df) > Z975);
            last = t975(df);
        }
    }
}
