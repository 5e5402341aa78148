//! Named random streams derived from the master seed, drawn by a
//! counter-based generator.
//!
//! Every source of randomness in a run is a [`Stream`] named by a string and an
//! index (`client/default/app/arrivals` #17, `churn/default/web` #3,
//! `dns/shuffle` #0). Its n-th number is a pure function of (seed, name,
//! index, n), written here and not left to a library default:
//!
//! 1. `family = mix(seed ^ FNV-1a-64(name bytes ‖ 0xFF).rotate_left(32))`
//!    (once per name: [`Family::new`]);
//! 2. `key = draw(family, index)` (the stream of entity `index`);
//! 3. draw `n` (0, 1, 2, ...) of the stream is `draw(key, n)`;
//!
//! where `draw(k, n) = mix(k + (n + 1)·γ)` with `γ = 0x9E37_79B9_7F4A_7C15`,
//! all arithmetic modulo 2⁶⁴, and `mix` is SplitMix64's output function
//! (`z ^= z >> 30; z *= 0xBF58_476D_1CE4_E5B9; z ^= z >> 27;
//! z *= 0x94D0_49BB_1331_11EB; z ^= z >> 31`). A stream is thus SplitMix64
//! (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014) started at its key, with the difference that draw `n` is
//! computed directly from `(key, n)`: there is no generator state, only the
//! count of draws made. A [`Stream`] is that pair (16 bytes); a hot path
//! that keeps one stream per client keeps only the count and asks the
//! family ([`Family::draw`]).
//!
//! Consequences users rely on: adding a client does not change the numbers any
//! other entity draws (each entity has its own stream); the same seed gives the
//! same numbers on every platform and thread count (integer arithmetic only).
//! A golden test pins the first outputs so an accidental change of this
//! function cannot go unnoticed.
//!
//! Sampling uses only IEEE-754 basic arithmetic (with its correctly rounded
//! square root) and the pure-Rust `libm` (never the platform's): an
//! exponential variate is `−ln(u)` of one draw, by inversion, so the n-th
//! arrival of a client is a function of its n-th draw alone, with the log
//! written out here (a 256-entry table and a short series, no library call
//! on the hot path); a
//! normal one is Box–Muller's cosine branch over two draws (`libm::cos`);
//! an integer below `n` is Lemire's unbiased multiply-and-reject.
//!
//! (Until ksim 0.1's request-path rework the streams were ChaCha8 generators
//! keyed by the same FNV-1a/SplitMix64 derivation; every report changed
//! with the switch, none of its statistics.)

use crate::time::SimDuration;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// SplitMix64's increment (the golden ratio in 64-bit fixed point).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn fnv1a64(bytes: impl IntoIterator<Item = u8>, mut h: u64) -> u64 {
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// SplitMix64's output function.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draw `n` of the stream keyed `key`.
#[inline(always)]
pub fn draw(key: u64, n: u64) -> u64 {
    mix(key.wrapping_add(n.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// SplitMix64 (Steele, Lea, Flood 2014): advances `state`, returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GAMMA);
    mix(*state)
}

/// `ln(u)` of the uniform number `u = ((x >> 11) + 1)·2⁻⁵³` in `(0, 1]`
/// (never 0, so the log is finite: at least −36.74), in IEEE-754 basic
/// arithmetic only, so every platform gets the same bits. `v = (x >> 11) + 1`
/// is `2^e·m` with `m` in `[1, 2)`; `c = 1 + k/256` is `m` cut to its top 8
/// fraction bits, and `ln u = (e − 53)·ln 2 + ln c + ln(1 + r)` with
/// `r = m·(1/c) − 1` in `[0, 2⁻⁸)` and `ln(1 + r)` its Taylor series to `r⁵`
/// (truncation below 2·10⁻¹⁵). `1/c` and `ln c` come from [`LN_TABLE`],
/// computed at compile time. `ln 1 = 0` exactly.
#[inline(always)]
fn ln_open_unit(x: u64) -> f64 {
    // v ≤ 2⁵³ converts exactly.
    let bits = (((x >> 11) + 1) as f64).to_bits();
    let e = ((bits >> 52) as i64) - 1023;
    let m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    let (inv_c, ln_c) = LN_TABLE[((bits >> 44) & 0xFF) as usize];
    let r = m * inv_c - 1.0;
    let r2 = r * r;
    let low = -0.5 + r * (1.0 / 3.0);
    let high = -0.25 + r * 0.2;
    let ln_1p = r + r2 * (low + r2 * high);
    (e - 53) as f64 * std::f64::consts::LN_2 + (ln_c + ln_1p)
}

/// For `k` in `0..256`, `c = 1 + k/256`: `(1/c, ln c)`, with `ln c` as
/// `−ln(1/c)` of the stored reciprocal so that the two agree.
static LN_TABLE: [(f64, f64); 256] = ln_table();

const fn ln_table() -> [(f64, f64); 256] {
    let mut table = [(0.0, 0.0); 256];
    let mut k = 0;
    while k < 256 {
        let inv_c = 1.0 / (1.0 + k as f64 / 256.0);
        table[k] = (inv_c, -ln_near_one(inv_c));
        k += 1;
    }
    table
}

/// `ln x` for `x` in `(½, 1]`: `2·atanh(t)`, `t = (x − 1)/(x + 1)`, `|t| < ⅓`,
/// summed until the terms vanish (only for building [`LN_TABLE`]).
const fn ln_near_one(x: f64) -> f64 {
    let t = (x - 1.0) / (x + 1.0);
    let t2 = t * t;
    let mut power = t;
    let mut sum = 0.0;
    let mut n = 1.0;
    while n < 80.0 {
        sum += power / n;
        power *= t2;
        n += 2.0;
    }
    2.0 * sum
}

/// A standard exponential variate (mean 1) from one draw, by inversion:
/// `−ln(u)`, `u` in `(0, 1]` as [`ln_open_unit`] makes it.
#[inline(always)]
pub fn exp1_of(x: u64) -> f64 {
    -ln_open_unit(x)
}

/// All the streams of one name (`client/default/app/arrivals`), one per index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Family(u64);

impl Family {
    /// The family `name` of the run with master seed `seed`.
    pub fn new(seed: u64, name: &str) -> Family {
        let h = fnv1a64(name.bytes().chain(std::iter::once(0xFF)), FNV_OFFSET);
        Family(mix(seed ^ h.rotate_left(32)))
    }

    /// The stream of entity `index`, before its first draw.
    #[inline]
    pub fn stream(self, index: u64) -> Stream {
        Stream {
            key: draw(self.0, index),
            n: 0,
        }
    }

    /// Draw `n` of entity `index`'s stream (what `stream(index)` yields at
    /// its `n`-th call of [`Stream::next_u64`]).
    #[inline(always)]
    pub fn draw(self, index: u64, n: u64) -> u64 {
        draw(draw(self.0, index), n)
    }
}

/// One named random stream: its key and how many numbers it has given.
/// (Not `Copy`: a silent copy would draw the same numbers twice.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    key: u64,
    n: u64,
}

impl Stream {
    /// The stream `name`/`index` of the run with master seed `seed`.
    pub fn derive(seed: u64, name: &str, index: u64) -> Stream {
        Family::new(seed, name).stream(index)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let x = draw(self.key, self.n);
        self.n += 1;
        x
    }

    /// Uniform integer in `0..n` (`n > 0`), unbiased (Lemire, "Fast random
    /// integer generation in an interval", 2019: multiply, reject the few
    /// low products that would bias).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        let n = n as u64;
        let mut m = self.next_u64() as u128 * n as u128;
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = self.next_u64() as u128 * n as u128;
            }
        }
        (m >> 64) as usize
    }

    /// A standard exponential variate (mean 1).
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        exp1_of(self.next_u64())
    }

    /// A standard normal variate (mean 0, variance 1): Box–Muller's cosine
    /// branch over two draws.
    pub fn normal(&mut self) -> f64 {
        let r = (-2.0 * ln_open_unit(self.next_u64())).sqrt();
        r * libm::cos(std::f64::consts::TAU * self.unit())
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An exponentially distributed duration with the given mean, rounded to the nanosecond.
    pub fn exponential(&mut self, mean: SimDuration) -> SimDuration {
        SimDuration(round_ns(self.exp1() * mean.as_ns() as f64))
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A non-negative number of nanoseconds rounded to the nearest integer
/// (halves up), without a libm call; `as` saturates, so an astronomically
/// large value becomes `u64::MAX` ("never").
#[inline(always)]
pub fn round_ns(x: f64) -> u64 {
    (x + 0.5) as u64
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

    /// Computed from the function as documented above by an independent
    /// (Python) implementation.
    const GOLDEN: [u64; 3] = [
        15896429856413983921,
        17704784415238727138,
        2023777384772646133,
    ];
    const GOLDEN_EXP_NS: u64 = 548_067_734_492;

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
    fn a_family_draws_what_its_streams_draw() {
        let f = Family::new(9, "client/default/app/arrivals");
        for index in [0u64, 1, 17, 99_999] {
            let mut s = f.stream(index);
            for n in 0..5 {
                assert_eq!(s.next_u64(), f.draw(index, n));
            }
        }
        assert_eq!(
            f.stream(3),
            Stream::derive(9, "client/default/app/arrivals", 3)
        );
    }

    #[test]
    fn the_written_out_log_matches_libm() {
        let mut worst = 0f64;
        let mut s = Stream::derive(1, "test/ln", 0);
        let edge = [0, u64::MAX, 1 << 11, (1 << 11) - 1, 0x6A09_E667_F3BC_C908];
        for x in edge.into_iter().chain((0..200_000).map(|_| s.next_u64())) {
            let u = ((x >> 11) + 1) as f64 / (1u64 << 53) as f64;
            let (got, want) = (ln_open_unit(x), libm::log(u));
            worst = worst.max((got - want).abs() / want.abs().max(1.0));
            if u == 1.0 {
                assert_eq!(got, 0.0);
            }
        }
        assert!(worst < 2e-15, "error {worst:e}");
    }

    #[test]
    fn below_is_uniform_and_in_range() {
        let mut s = Stream::derive(5, "test/below", 0);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[s.below(7)] += 1;
        }
        // Each count is Binomial(70000, 1/7): sd ≈ 93; allow 5 sd.
        for c in counts {
            assert!((c as i64 - 10_000).abs() < 465, "{counts:?}");
        }
    }

    #[test]
    fn normal_has_mean_zero_and_variance_one() {
        let mut s = Stream::derive(4, "test/normal", 0);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        // se(mean) = 0.0032, se(var) ≈ 0.0045; 5 sigma.
        assert!(mean.abs() < 0.016, "mean {mean}");
        assert!((var - 1.0).abs() < 0.023, "variance {var}");
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
