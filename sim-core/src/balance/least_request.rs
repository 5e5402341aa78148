//! Envoy LEAST_REQUEST: power of N choices, full scan, or weighted EDF.

use super::{ConfigError, Ctx, EdfScheduler, Host, Policy, random_index, weights_are_equal};
use crate::rng::Stream;

/// How an equal-weight least-request pick chooses (Envoy
/// `LeastRequest.selection_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// `N_CHOICES` (the default, with 2): this many draws of `random() % n`
    /// **with replacement**; the first draw stands unless a later one has
    /// strictly fewer active requests. Drawing `n` times is not a scan.
    NChoices(u32),
    /// `FULL_SCAN`: every host is compared; ties among the least loaded are
    /// broken by reservoir sampling (`random() % tied == 0` replaces).
    FullScan,
}

/// Envoy's least-request balancer for one host source.
///
/// Source: Envoy `source/extensions/load_balancing_policies/least_request/least_request_lb.cc`:
/// `unweightedHostPickNChoices`, `unweightedHostPickFullScan`, `hostWeight`;
/// the choice between them is `EdfLoadBalancerBase::refresh`
/// (`common/load_balancer_impl.cc`): equal weights use the unweighted pick
/// (and never the bias); unequal weights use an EDF schedule whose weights
/// are `weight / (active + 1)^active_request_bias`, recomputed for the
/// picked host each time it is put back.
#[derive(Clone, Debug)]
pub struct LeastRequest {
    selection: Selection,
    bias: f64,
    seed: u64,
    n: usize,
    weights: Vec<u32>,
    edf: Option<EdfScheduler>,
}

/// Envoy's default `choice_count`.
pub const DEFAULT_CHOICE_COUNT: u32 = 2;
/// Envoy's default `active_request_bias`.
pub const DEFAULT_ACTIVE_REQUEST_BIAS: f64 = 1.0;

impl LeastRequest {
    /// Envoy's defaults: power of two choices, bias 1.0, `seed_` one random draw.
    pub fn new(rng: &mut Stream) -> LeastRequest {
        LeastRequest::with_config(
            Selection::NChoices(DEFAULT_CHOICE_COUNT),
            DEFAULT_ACTIVE_REQUEST_BIAS,
            rng.next_u64(),
        )
        .expect("defaults are valid")
    }

    /// An explicit configuration: selection method, `active_request_bias`,
    /// and the balancer's `seed_` (it positions the weighted schedule, as in
    /// round robin).
    pub fn with_config(
        selection: Selection,
        active_request_bias: f64,
        seed: u64,
    ) -> Result<LeastRequest, ConfigError> {
        if let Selection::NChoices(c) = selection
            && c < 2
        {
            return Err(ConfigError::ChoiceCount(c));
        }
        if !(active_request_bias.is_finite() && active_request_bias >= 0.0) {
            return Err(ConfigError::Bias(active_request_bias));
        }
        Ok(LeastRequest {
            selection,
            bias: active_request_bias,
            seed,
            n: 0,
            weights: Vec::new(),
            edf: None,
        })
    }

    /// [`Policy::set_hosts`] when the active counts at the moment of the
    /// change are known: Envoy builds the weighted schedule with the hosts'
    /// current `rq_active` (`createWithPicks(hosts, hostWeight, seed_)`).
    pub fn set_hosts_with_active(&mut self, hosts: &[Host], active: &[u32]) {
        self.n = hosts.len();
        self.weights.clear();
        self.weights.extend(hosts.iter().map(Host::lb_weight));
        self.edf = (!weights_are_equal(hosts)).then(|| {
            let (w, bias) = (&self.weights, self.bias);
            let ctx = Ctx::with_active(active);
            EdfScheduler::with_picks(
                hosts.len(),
                |i| host_weight(w[i], ctx.active_of(i), bias),
                self.seed as u32,
            )
        });
    }

    fn pick_n_choices(&self, choices: u32, ctx: &Ctx<'_>, rng: &mut Stream) -> usize {
        let mut candidate = random_index(rng, self.n);
        for _ in 1..choices {
            let sampled = random_index(rng, self.n);
            if ctx.active_of(sampled) < ctx.active_of(candidate) {
                candidate = sampled;
            }
        }
        candidate
    }

    fn pick_full_scan(&self, ctx: &Ctx<'_>, rng: &mut Stream) -> usize {
        let mut candidate = 0;
        let mut tied: u64 = 1;
        for sampled in 1..self.n {
            let (c, s) = (ctx.active_of(candidate), ctx.active_of(sampled));
            if s < c {
                tied = 1;
                candidate = sampled;
            } else if s == c {
                tied += 1;
                // Envoy: `random() % num_hosts_known_tied_for_least == 0`.
                if rng.next_u64().is_multiple_of(tied) {
                    candidate = sampled;
                }
            }
        }
        candidate
    }
}

/// Envoy `LeastRequestLoadBalancer::hostWeight`:
/// `weight / (active + 1)^bias`, with the exact division for bias 1.0 and the
/// plain weight for bias 0.0 (behaves like weighted round robin).
fn host_weight(weight: u32, active: u32, bias: f64) -> f64 {
    let w = f64::from(weight);
    let a = f64::from(active) + 1.0;
    if bias == 1.0 {
        w / a
    } else if bias != 0.0 {
        // Pure-Rust libm: the same bits on every platform.
        w / libm::pow(a, bias)
    } else {
        w
    }
}

impl Policy for LeastRequest {
    /// The schedule (unequal weights only) is built as if no request were
    /// active; see [`LeastRequest::set_hosts_with_active`].
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.set_hosts_with_active(hosts, &[]);
    }

    fn pick(&mut self, ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize> {
        if let Some(edf) = &mut self.edf {
            let (w, bias) = (&self.weights, self.bias);
            return edf.pick_and_add(|i| host_weight(w[i], ctx.active_of(i), bias));
        }
        if self.n == 0 {
            return None;
        }
        Some(match self.selection {
            Selection::NChoices(c) => self.pick_n_choices(c, &ctx, rng),
            Selection::FullScan => self.pick_full_scan(&ctx, rng),
        })
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

    fn p2c(rng: &mut Stream) -> LeastRequest {
        LeastRequest::with_config(Selection::NChoices(2), 1.0, rng.next_u64()).unwrap()
    }

    /// Replays the stream to predict P2C: first draw stands unless the
    /// second has strictly fewer active requests. Covers ties (all equal),
    /// strict wins and losses, and the with-replacement case.
    #[test]
    fn p2c_keeps_the_first_draw_unless_the_second_is_strictly_less_loaded() {
        let actives: [&[u32]; 4] = [&[3, 3, 3, 3], &[0, 1, 2, 3], &[5, 0, 5, 0, 5], &[1, 1]];
        let mut rng = Stream::derive(2, "test/balance/lr", 0);
        for active in actives {
            let n = active.len();
            let mut lb = p2c(&mut rng);
            lb.set_hosts(&hosts(n as u64), &mut rng);
            for _ in 0..500 {
                let mut probe = rng.clone();
                let a = (probe.next_u64() % n as u64) as usize;
                let b = (probe.next_u64() % n as u64) as usize;
                let want = if active[b] < active[a] { b } else { a };
                let got = lb.pick(Ctx::with_active(active), &mut rng);
                assert_eq!(got, Some(want), "active {active:?}, draws {a} {b}");
            }
        }
    }

    /// Envoy's docs say the busiest host "will never receive new requests";
    /// with replacement it does, exactly when both draws hit it (≈ 1/n²).
    #[test]
    fn p2c_picks_the_busiest_host_only_when_both_draws_hit_it() {
        let active = [0, 1, 2, 9];
        let mut rng = Stream::derive(2, "test/balance/lr", 1);
        let mut lb = p2c(&mut rng);
        lb.set_hosts(&hosts(4), &mut rng);
        let (mut busiest, mut both_hit) = (0, 0);
        for _ in 0..4000 {
            let mut probe = rng.clone();
            let hit = probe.next_u64() % 4 == 3 && probe.next_u64() % 4 == 3;
            both_hit += u32::from(hit);
            let got = lb.pick(Ctx::with_active(&active), &mut rng).unwrap();
            assert_eq!(got == 3, hit);
            busiest += u32::from(got == 3);
        }
        assert_eq!(busiest, both_hit);
        // 4000/16 = 250 expected; the contract is "rarely", not "never".
        assert!((150..350).contains(&busiest), "{busiest}");
    }

    /// `choice_count == n` is n draws with replacement, not a scan: with one
    /// idle host among three, some picks still miss it ((2/3)^3 ≈ 30%).
    /// FULL_SCAN never misses it.
    #[test]
    fn n_choices_equal_to_n_is_not_a_full_scan() {
        let active = [5, 0, 5];
        let mut rng = Stream::derive(2, "test/balance/lr", 2);
        let mut three = LeastRequest::with_config(Selection::NChoices(3), 1.0, 0).unwrap();
        let mut scan = LeastRequest::with_config(Selection::FullScan, 1.0, 0).unwrap();
        three.set_hosts(&hosts(3), &mut rng);
        scan.set_hosts(&hosts(3), &mut rng);
        let mut missed = 0;
        for _ in 0..1000 {
            let ctx = Ctx::with_active(&active);
            missed += u32::from(three.pick(ctx, &mut rng) != Some(1));
            assert_eq!(scan.pick(ctx, &mut rng), Some(1));
        }
        assert!((200..400).contains(&missed), "{missed}");
    }

    /// FULL_SCAN ties: every least-loaded host is chosen, about equally
    /// (reservoir sampling), and no other host ever is.
    #[test]
    fn full_scan_spreads_ties_evenly_among_the_least_loaded() {
        let active = [0, 3, 0, 0, 1];
        let mut rng = Stream::derive(2, "test/balance/lr", 3);
        let mut lb = LeastRequest::with_config(Selection::FullScan, 1.0, 0).unwrap();
        lb.set_hosts(&hosts(5), &mut rng);
        let mut count = [0u32; 5];
        for _ in 0..3000 {
            count[lb.pick(Ctx::with_active(&active), &mut rng).unwrap()] += 1;
        }
        assert_eq!((count[1], count[4]), (0, 0), "{count:?}");
        for i in [0, 2, 3] {
            assert!((850..1150).contains(&count[i]), "{count:?}");
        }
    }

    /// Unequal weights use EDF with `w / (active+1)^bias`: with no load the
    /// shares follow the weights; loading the heavy host evens them out;
    /// bias 0 ignores load.
    #[test]
    fn weighted_picks_divide_weight_by_active_requests() {
        let hs = vec![Host::weighted(0, "a", 1), Host::weighted(1, "b", 3)];
        // (bias, active, expected share of host 1 in 1200 picks)
        let cases: [(f64, [u32; 2], i64); 4] = [
            (1.0, [0, 0], 900),
            (1.0, [0, 2], 600), // 3/(2+1) = 1 vs 1/(0+1) = 1
            (0.0, [0, 2], 900),
            (2.0, [0, 1], 514), // 3/4 vs 1: 3/7 of picks
        ];
        let mut rng = Stream::derive(2, "test/balance/lr", 4);
        for (bias, active, want) in cases {
            let mut lb = LeastRequest::with_config(Selection::NChoices(2), bias, 0).unwrap();
            lb.set_hosts_with_active(&hs, &active);
            let mut heavy = 0i64;
            for _ in 0..1200 {
                heavy += (lb.pick(Ctx::with_active(&active), &mut rng) == Some(1)) as i64;
            }
            assert!(
                (heavy - want).abs() <= 2,
                "bias {bias}, {active:?}: {heavy}"
            );
        }
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let cases = [
            (Selection::NChoices(1), 1.0, ConfigError::ChoiceCount(1)),
            (Selection::NChoices(0), 1.0, ConfigError::ChoiceCount(0)),
            (Selection::FullScan, -0.5, ConfigError::Bias(-0.5)),
        ];
        for (sel, bias, want) in cases {
            assert_eq!(LeastRequest::with_config(sel, bias, 0).unwrap_err(), want);
        }
        assert!(LeastRequest::with_config(Selection::FullScan, f64::NAN, 0).is_err());
    }
}
