//! Named random streams derived from the master seed.
//!
//! Every source of randomness in a run is a [`Stream`] named by a string and an
//! index (`client/app/17/arrivals`, `churn/default/web/3`, `dns/shuffle`). The
//! derivation is a fixed function written here, not a library default:
//!
//! 1. `h = FNV-1a-64(name bytes ‖ 0xFF ‖ index as 8 little-endian bytes)`
//! 2. `state = seed ^ h.rotate_left(32)`
//! 3. four successive SplitMix64 outputs from `state` form the 32-byte key
//!    (each as 8 little-endian bytes) of a ChaCha8 generator
//!    (`rand_chacha::ChaCha8Rng::from_seed`, stream 0).
//!
//! Consequences users rely on: adding a client does not change the numbers any
//! other entity draws (each entity has its own stream); the same seed gives the
//! same numbers on every platform and thread count (ChaCha8 is a named, portable
//! algorithm; SplitMix64 and FNV-1a are integer-only). A golden test pins the
//! first outputs so an accidental change of this function cannot go unnoticed.
//!
//! Sampling helpers below use only IEEE-754 basic arithmetic plus `rand_distr`'s
//! `Exp1` and `StandardNormal` (ziggurat; its tail uses the pure-Rust `libm`, never the platform one).

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use crate::time::SimDuration;

/// One named random stream.
#[derive(Clone, Debug)]
pub struct Stream(ChaCha8Rng);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a64(bytes: impl IntoIterator<Item = u8>, mut h: u64) -> u64 {
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// SplitMix64 (Steele, Lea, Flood 2014): advances `state`, returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream `name`/`index` of the run with master seed `seed`.
    pub fn derive(seed: u64, name: &str, index: u64) -> Stream {
        let h = fnv1a64(
            name.bytes()
                .chain(std::iter::once(0xFF))
                .chain(index.to_le_bytes()),
            FNV_OFFSET,
        );
        let mut state = seed ^ h.rotate_left(32);
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Stream(ChaCha8Rng::from_seed(key))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform integer in `0..n` (`n > 0`), unbiased (rand's widening-multiply method).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        self.0.random_range(0..n)
    }

    /// A standard exponential variate (mean 1).
    pub fn exp1(&mut self) -> f64 {
        self.0.sample(Exp1)
    }

    /// A standard normal variate (mean 0, variance 1; rand_distr's ziggurat).
    pub fn normal(&mut self) -> f64 {
        self.0.sample(StandardNormal)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An exponentially distributed duration with the given mean, rounded to the nanosecond.
    pub fn exponential(&mut self, mean: SimDuration) -> SimDuration {
        let x: f64 = self.exp1() * mean.as_ns() as f64;
        // `as` saturates, so an astronomically large draw becomes u64::MAX ("never").
        SimDuration(x.round() as u64)
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the derivation function: if this fails, every report of every user changes.
    #[test]
    fn derivation_is_version_stable() {
        let mut s = Stream::derive(42, "client/app/17/arrivals", 0);
        let got: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        assert_eq!(got, GOLDEN, "stream derivation changed: {got:#x?}");
        let mut e = Stream::derive(7, "churn/default/web", 3);
        let x = e.exponential(SimDuration::from_secs(300));
        assert_eq!(
            x,
            SimDuration(GOLDEN_EXP_NS),
            "exponential sampler changed: {x:?}"
        );
    }

    const GOLDEN: [u64; 3] = [
        17838838840697209207,
        9295192072105878074,
        11016366697518787197,
    ];
    const GOLDEN_EXP_NS: u64 = 787_205_592_186;

    #[test]
    fn streams_are_independent_of_each_other() {
        let a1: Vec<u64> = {
            let mut s = Stream::derive(1, "client/a", 0);
            (0..4).map(|_| s.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut s = Stream::derive(1, "client/a", 1);
            (0..4).map(|_| s.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut s = Stream::derive(2, "client/a", 0);
            (0..4).map(|_| s.next_u64()).collect()
        };
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn exponential_mean_is_right() {
        let mut s = Stream::derive(3, "test/exp", 0);
        let n = 200_000u64;
        let sum: u128 = (0..n)
            .map(|_| s.exponential(SimDuration::from_secs(2)).as_ns() as u128)
            .sum();
        let mean_s = sum as f64 / n as f64 / 1e9;
        // Standard error of the mean is 2/sqrt(n) = 0.0045 s; allow 5 sigma.
        assert!((mean_s - 2.0).abs() < 0.0225, "mean {mean_s}");
    }
}
