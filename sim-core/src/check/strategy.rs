//! proptest strategies for [`Model`]s: generate scenarios inside a [`Space`]
//! and shrink toward simpler ones (fewer pods, client groups and events,
//! shorter runs, smaller numbers; a choice shrinks toward its first option).
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//! use sim_core::check::{Check, strategy::{self, Space}};
//!
//! // "With no client cache and no churn, nothing is ever refused."
//! let space = Space { max_events: 0, ..Space::default() };
//! let check = Check::parse("totals.outcomes.refused == 0").unwrap();
//! let mut runner = TestRunner::new(Config { cases: 4, ..Config::default() });
//! runner
//!     .run(&strategy::models(&space), |m| strategy::verify(&check, &m).map(|_| ()))
//!     .unwrap();
//! ```

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::Check;
use super::model::{Action, ClientCache, Clients, Model, Step};
use crate::report::Report;

/// Where the strategies look. Every range shrinks toward its low end.
#[derive(Clone, Debug)]
pub struct Space {
    pub seed: bool,
    pub duration_s: RangeInclusive<u32>,
    pub replicas: RangeInclusive<u32>,
    /// Both headless and ClusterIP Services (else headless only).
    pub cluster_ip: bool,
    pub startup_ms: RangeInclusive<u32>,
    pub drain_ms: RangeInclusive<u32>,
    pub propagation_ms: RangeInclusive<u32>,
    pub dns_ttl_s: RangeInclusive<u32>,
    /// Server cache max TTLs to try (`None` among them: no cache).
    pub server_cache_s: Vec<Option<u32>>,
    /// Mean pod lifetimes (s); `None`: no churn. "At most one restart per
    /// minute per pod" is `Some(60..=600)`.
    pub churn_mean_s: Option<RangeInclusive<u32>>,
    pub client_groups: RangeInclusive<usize>,
    pub clients_per_group: RangeInclusive<u32>,
    pub rate: RangeInclusive<u32>,
    /// Client caches to choose from, simplest first.
    pub caches: Vec<ClientCache>,
    /// Timeline entries: at most this many.
    pub max_events: usize,
    /// Also scale and rollout-restart (else only pod deletions).
    pub all_actions: bool,
}

impl Default for Space {
    fn default() -> Space {
        Space {
            seed: true,
            duration_s: 10..=60,
            replicas: 1..=5,
            cluster_ip: true,
            startup_ms: 0..=5000,
            drain_ms: 0..=3000,
            propagation_ms: 0..=2000,
            dns_ttl_s: 0..=30,
            server_cache_s: vec![None, Some(5), Some(30)],
            churn_mean_s: None,
            client_groups: 1..=2,
            clients_per_group: 1..=4,
            rate: 1..=20,
            caches: vec![
                ClientCache::None,
                ClientCache::Ttl,
                ClientCache::Fixed(5),
                ClientCache::Fixed(30),
            ],
            max_events: 3,
            all_actions: true,
        }
    }
}

/// Client groups in `space`.
pub fn clients(space: &Space) -> impl Strategy<Value = Vec<Clients>> + use<> {
    let one = (
        space.clients_per_group.clone(),
        space.rate.clone(),
        prop::sample::select(space.caches.clone()),
    )
        .prop_map(|(count, rate, cache)| Clients { count, rate, cache });
    let (lo, hi) = (*space.client_groups.start(), *space.client_groups.end());
    prop::collection::vec(one, lo.max(1)..=hi.max(1))
}

/// A timeline in `space`: up to `max_events` entries within `duration_s`
/// (times clamp into the run when rendered).
pub fn steps(space: &Space) -> impl Strategy<Value = Vec<Step>> + use<> {
    let max_at = *space.duration_s.end();
    let max_replicas = *space.replicas.end();
    let kinds = if space.all_actions { 3 } else { 1 };
    let one =
        (0..max_at.max(1), 0..kinds, 0..max_replicas.max(1) + 1).prop_map(|(at_s, kind, n)| Step {
            at_s,
            action: match kind {
                0 => Action::DeletePod(n),
                1 => Action::Scale(n),
                _ => Action::RolloutRestart,
            },
        });
    prop::collection::vec(one, 0..=space.max_events)
}

/// Models in `space`.
pub fn models(space: &Space) -> impl Strategy<Value = Model> + use<> {
    let seed = if space.seed {
        any::<u64>().boxed()
    } else {
        Just(0u64).boxed()
    };
    let churn = match &space.churn_mean_s {
        None => Just(None).boxed(),
        Some(r) => prop::option::of(r.clone()).boxed(),
    };
    let headless = if space.cluster_ip {
        // `true` first: shrinks toward headless.
        prop::sample::select(vec![true, false]).boxed()
    } else {
        Just(true).boxed()
    };
    (
        (
            seed,
            space.duration_s.clone(),
            space.replicas.clone(),
            headless,
        ),
        (
            space.startup_ms.clone(),
            space.drain_ms.clone(),
            space.propagation_ms.clone(),
            space.dns_ttl_s.clone(),
            prop::sample::select(space.server_cache_s.clone()),
            churn,
        ),
        clients(space),
        steps(space),
    )
        .prop_map(
            |(
                (seed, duration_s, replicas, headless),
                (startup_ms, drain_ms, propagation_ms, dns_ttl_s, server_cache_s, churn_mean_s),
                clients,
                events,
            )| Model {
                seed,
                duration_s,
                replicas,
                headless,
                startup_ms,
                drain_ms,
                propagation_ms,
                dns_ttl_s,
                server_cache_s,
                churn_mean_s,
                clients,
                events,
            },
        )
}

/// Run `m` and check it, for use inside a proptest: a violation fails the
/// case with its explanation and the scenario file.
pub fn verify(check: &Check, m: &Model) -> Result<Report, TestCaseError> {
    let sc = m.scenario();
    check.run(&sc).map_err(|v| {
        TestCaseError::fail(format!(
            "{}\n--- scenario ---\n{}",
            v.explain(&sc),
            m.to_yaml()
        ))
    })
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};

    use super::*;

    #[test]
    fn every_model_in_the_default_space_renders_a_valid_scenario() {
        let mut runner = TestRunner::new(Config {
            cases: 64,
            rng_seed: RngSeed::Fixed(1),
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&models(&Space::default()), |m| {
                let _ = m.scenario();
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn shrinking_finds_the_smallest_model_that_breaks_a_property() {
        // "Fewer than 3 pods" fails for any model with 3 or more: the
        // shrunk model has exactly 3, and nothing else left.
        let mut runner = TestRunner::new(Config {
            cases: 64,
            rng_seed: RngSeed::Fixed(2),
            failure_persistence: None,
            ..Config::default()
        });
        let r = runner.run(&models(&Space::default()), |m| {
            prop_assert!(m.replicas < 3);
            Ok(())
        });
        let Err(TestError::Fail(_, m)) = r else {
            panic!("expected a failure, got {r:?}")
        };
        assert_eq!(m.replicas, 3);
        assert!(m.events.is_empty());
        assert_eq!(m.clients.len(), 1);
        assert_eq!(m.duration_s, 10);
        assert_eq!(m.seed, 0);
    }
}
