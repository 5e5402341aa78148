//! Envoy ROUND_ROBIN: a cursor for equal weights, an EDF schedule otherwise.

use super::{Ctx, EdfScheduler, Host, Policy, weights_are_equal};
use crate::rng::Stream;

/// Envoy's round-robin balancer for one host source.
///
/// Source: Envoy `source/extensions/load_balancing_policies/round_robin/round_robin_lb.h`
/// (`RoundRobinLoadBalancer::unweightedHostPick`, `refreshHostSource`) and
/// `common/load_balancer_impl.cc` (`EdfLoadBalancerBase` constructor,
/// `refresh`, `chooseHostOnce`):
///
/// * `seed_ = random()` once per balancer (per worker thread in Envoy).
/// * Equal weights: `hosts[rr_index++ % n]`, with `rr_index` starting at
///   `seed_`. The index is created once and **survives host-set changes**
///   (`rr_indexes_.insert` does not overwrite), taken modulo the new size.
/// * Unequal weights: an [`EdfScheduler`] rebuilt on every host-set change by
///   `createWithPicks(hosts, weight, seed_)` (the `u64` seed truncated to
///   `u32`, as the C++ call does).
#[derive(Clone, Debug)]
pub struct RoundRobin {
    seed: u64,
    rr_index: u64,
    n: usize,
    weights: Vec<f64>,
    edf: Option<EdfScheduler>,
}

impl RoundRobin {
    /// Envoy's default: the seed (and so the cursor's start) is one random draw.
    pub fn new(rng: &mut Stream) -> RoundRobin {
        RoundRobin::with_seed(rng.next_u64())
    }

    /// A balancer whose `seed_` is given: the cursor starts at `seed`
    /// (0: the first pick is host 0, the plain textbook round robin).
    pub fn with_seed(seed: u64) -> RoundRobin {
        RoundRobin {
            seed,
            rr_index: seed,
            n: 0,
            weights: Vec::new(),
            edf: None,
        }
    }

    /// The cursor: the next equal-weight pick is `cursor % n`.
    pub fn cursor(&self) -> u64 {
        self.rr_index
    }
}

impl Policy for RoundRobin {
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.n = hosts.len();
        self.weights.clear();
        self.weights
            .extend(hosts.iter().map(|h| f64::from(h.lb_weight())));
        // `hostWeightsAreEqual(hosts)` (or a single host): no scheduler.
        self.edf = (!weights_are_equal(hosts)).then(|| {
            let w = &self.weights;
            EdfScheduler::with_picks(hosts.len(), |i| w[i], self.seed as u32)
        });
    }

    fn pick(&mut self, _ctx: Ctx<'_>, _rng: &mut Stream) -> Option<usize> {
        if let Some(edf) = &mut self.edf {
            let w = &self.weights;
            return edf.pick_and_add(|i| w[i]);
        }
        if self.n == 0 {
            return None;
        }
        let i = (self.rr_index % self.n as u64) as usize;
        self.rr_index = self.rr_index.wrapping_add(1);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(n: u64) -> Vec<Host> {
        (0..n)
            .map(|i| Host::new(i, format!("10.0.0.{i}:80")))
            .collect()
    }

    /// (seed, host count before, picks, host count after, picks after):
    /// the cursor wraps, and a host-set change keeps it, reduced modulo the
    /// new size.
    #[test]
    fn cursor_wraps_and_survives_resizing() {
        type Case = (u64, u64, &'static [usize], u64, &'static [usize]);
        let cases: [Case; 4] = [
            (0, 3, &[0, 1, 2, 0], 5, &[4, 0, 1]),
            (0, 5, &[0, 1, 2], 2, &[1, 0, 1]),
            (7, 3, &[1, 2, 0], 4, &[2, 3, 0]),
            (u64::MAX, 2, &[1, 0, 1], 3, &[2, 0, 1]),
        ];
        let mut rng = Stream::derive(1, "test/balance/rr", 0);
        for (seed, n0, before, n1, after) in cases {
            let mut lb = RoundRobin::with_seed(seed);
            lb.set_hosts(&hosts(n0), &mut rng);
            let got: Vec<usize> = (0..before.len())
                .map(|_| lb.pick(Ctx::default(), &mut rng).unwrap())
                .collect();
            assert_eq!(got, before, "seed {seed}, {n0} hosts");
            lb.set_hosts(&hosts(n1), &mut rng);
            let got: Vec<usize> = (0..after.len())
                .map(|_| lb.pick(Ctx::default(), &mut rng).unwrap())
                .collect();
            assert_eq!(got, after, "seed {seed}, then {n1} hosts");
        }
    }

    #[test]
    fn default_start_is_the_random_seed() {
        let mut rng = Stream::derive(9, "test/balance/rr", 1);
        let seed = rng.clone().next_u64();
        let mut lb = RoundRobin::new(&mut rng);
        lb.set_hosts(&hosts(10), &mut rng);
        assert_eq!(
            lb.pick(Ctx::default(), &mut rng),
            Some((seed % 10) as usize)
        );
    }

    #[test]
    fn empty_set_picks_nothing() {
        let mut rng = Stream::derive(1, "test/balance/rr", 2);
        let mut lb = RoundRobin::with_seed(0);
        lb.set_hosts(&[], &mut rng);
        assert_eq!(lb.pick(Ctx::default(), &mut rng), None);
    }

    /// Unequal weights switch to EDF: over whole periods each host's share
    /// is its weight's share, whatever the seed.
    #[test]
    fn unequal_weights_are_served_in_proportion() {
        let hs = vec![
            Host::weighted(0, "a", 1),
            Host::weighted(1, "b", 2),
            Host::weighted(2, "c", 5),
        ];
        let mut rng = Stream::derive(1, "test/balance/rr", 3);
        for seed in [0, 1, 12_345, u64::MAX] {
            let mut lb = RoundRobin::with_seed(seed);
            lb.set_hosts(&hs, &mut rng);
            let mut count = [0i64; 3];
            for _ in 0..800 {
                count[lb.pick(Ctx::default(), &mut rng).unwrap()] += 1;
            }
            for (c, want) in count.iter().zip([100, 200, 500]) {
                assert!((c - want).abs() <= 1, "seed {seed}: {count:?}");
            }
        }
    }

    /// The weighted schedule starts where `createWithPicks(seed)` puts it,
    /// which is where `seed` picks from a fresh schedule would.
    #[test]
    fn weighted_start_is_seed_picks_into_the_schedule() {
        let hs = vec![Host::weighted(0, "a", 1), Host::weighted(1, "b", 3)];
        let mut rng = Stream::derive(1, "test/balance/rr", 4);
        let mut fresh = RoundRobin::with_seed(0);
        fresh.set_hosts(&hs, &mut rng);
        let seq: Vec<usize> = (0..40)
            .map(|_| fresh.pick(Ctx::default(), &mut rng).unwrap())
            .collect();
        for seed in [1u64, 2, 3, 5, 17] {
            let mut lb = RoundRobin::with_seed(seed);
            lb.set_hosts(&hs, &mut rng);
            let got: Vec<usize> = (0..20)
                .map(|_| lb.pick(Ctx::default(), &mut rng).unwrap())
                .collect();
            assert_eq!(got, seq[seed as usize..seed as usize + 20], "seed {seed}");
        }
    }
}
