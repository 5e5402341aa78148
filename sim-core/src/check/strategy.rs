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
//! let space = Space { max_events: 0, ..Space::basic() };
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
use super::model::{
    Action, Capacity, ClientCache, Clients, IpReuse, KubeProxy, MeshModel, Model, Retries, Step,
};
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
    /// Also hang and crash pods and fail nodes in the timeline.
    pub failure_actions: bool,
    // Optional features: each is generated present or absent and shrinks
    // toward absent (lists: toward their first entry).
    /// The workload may be a Deployment (else always a StatefulSet).
    pub deployments: bool,
    /// Up to this many more Services over the same pods (ClusterIP or
    /// headless), which client groups may target.
    pub max_more_services: usize,
    pub kube_proxy: Vec<KubeProxy>,
    pub ip_reuse: Vec<IpReuse>,
    pub nodes: RangeInclusive<u32>,
    /// Pod capacity (workers, queue, service time).
    pub capacity: bool,
    /// Request timeouts, retries with and without budgets, connection pools.
    pub request_timeouts: bool,
    pub retries: bool,
    pub pools: bool,
    /// The mesh: sidecars, mTLS, a DestinationRule with outlier detection.
    pub mesh: bool,
    /// A NetworkPolicy admitting only some client groups.
    pub netpol: bool,
    /// A neighbouring StatefulSet no client targets (and, with
    /// `all_actions`, scalings of it in the timeline).
    pub neighbour: bool,
}

impl Space {
    /// The model without any optional feature: one StatefulSet, headless or
    /// ClusterIP Services, clients with caches, churn and a timeline of
    /// deletions, scalings and rollouts.
    pub fn basic() -> Space {
        Space {
            failure_actions: false,
            deployments: false,
            max_more_services: 0,
            kube_proxy: vec![KubeProxy::Iptables],
            ip_reuse: vec![IpReuse::Never],
            nodes: 1..=1,
            capacity: false,
            request_timeouts: false,
            retries: false,
            pools: false,
            mesh: false,
            netpol: false,
            neighbour: false,
            ..Space::default()
        }
    }
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
            failure_actions: true,
            deployments: true,
            max_more_services: 2,
            kube_proxy: vec![
                KubeProxy::Iptables,
                KubeProxy::Ipvs,
                KubeProxy::IpvsSh,
                KubeProxy::IpvsLc,
            ],
            ip_reuse: vec![
                IpReuse::Never,
                IpReuse::HostLocal,
                IpReuse::Cooldown(30),
                IpReuse::Immediate,
            ],
            nodes: 1..=3,
            capacity: true,
            request_timeouts: true,
            retries: true,
            pools: true,
            mesh: true,
            netpol: true,
            neighbour: true,
        }
    }
}

/// `Some` of `inner` when `on` (shrinking toward `None`), else always `None`.
fn maybe<T: Clone + std::fmt::Debug + 'static>(
    on: bool,
    inner: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    if on {
        prop::option::of(inner).boxed()
    } else {
        Just(None).boxed()
    }
}

/// `false` or, when `on`, `true` too (shrinking toward `false`).
fn flag(on: bool) -> BoxedStrategy<bool> {
    if on {
        prop::sample::select(vec![false, true]).boxed()
    } else {
        Just(false).boxed()
    }
}

/// Client groups in `space`.
pub fn clients(space: &Space) -> impl Strategy<Value = Vec<Clients>> + use<> {
    let retries = (0u32..=3, maybe(space.retries, (0u32..=100, 0u32..=5)))
        .prop_map(|(attempts, budget)| Retries { attempts, budget });
    let one = (
        space.clients_per_group.clone(),
        space.rate.clone(),
        prop::sample::select(space.caches.clone()),
        0..=space.max_more_services as u32,
        maybe(space.request_timeouts, 100u32..=2000),
        maybe(space.retries, retries),
        maybe(space.pools, 1u32..=4),
    )
        .prop_map(
            |(count, rate, cache, service, request_timeout_ms, retries, pool_max_idle)| Clients {
                count,
                rate,
                cache,
                service,
                request_timeout_ms,
                retries,
                pool_max_idle,
            },
        );
    let (lo, hi) = (*space.client_groups.start(), *space.client_groups.end());
    prop::collection::vec(one, lo.max(1)..=hi.max(1))
}

/// A timeline in `space`: up to `max_events` entries within `duration_s`
/// (times clamp into the run when rendered).
pub fn steps(space: &Space) -> impl Strategy<Value = Vec<Step>> + use<> {
    let max_at = *space.duration_s.end();
    let max_replicas = *space.replicas.end();
    let mut kinds = vec![0u8];
    if space.all_actions {
        kinds.extend([1, 2]);
    }
    if space.failure_actions {
        kinds.extend([3, 4, 5]);
    }
    if space.all_actions && space.neighbour {
        kinds.push(6);
    }
    let one = (
        0..max_at.max(1),
        prop::sample::select(kinds),
        0..max_replicas.max(1) + 1,
    )
        .prop_map(|(at_s, kind, n)| Step {
            at_s,
            action: match kind {
                0 => Action::DeletePod(n),
                1 => Action::Scale(n),
                2 => Action::RolloutRestart,
                3 => Action::HangPod(n),
                4 => Action::CrashPod(n),
                5 => Action::FailNode(n),
                _ => Action::ScaleNeighbour(n),
            },
        });
    prop::collection::vec(one, 0..=space.max_events)
}

/// The optional features of a model (see [`Space`]).
#[derive(Clone, Debug)]
struct Features {
    deployment: bool,
    more_services: Vec<bool>,
    kube_proxy: KubeProxy,
    ip_reuse: IpReuse,
    nodes: u32,
    capacity: Option<Capacity>,
    mesh: Option<MeshModel>,
    netpol_allowed_groups: Option<u32>,
    neighbour: Option<u32>,
}

fn features(space: &Space) -> impl Strategy<Value = Features> + use<> {
    let capacity =
        (1u32..=4, 0u32..=20, 1u32..=50).prop_map(|(workers, queue, service_ms)| Capacity {
            workers,
            queue,
            service_ms,
        });
    let mesh = (flag(true), maybe(true, 1u32..=5), 0u32..=2, flag(true)).prop_map(
        |(strict_mtls, outlier_consecutive, sidecars_from, round_robin)| MeshModel {
            strict_mtls,
            outlier_consecutive,
            // Shrinks toward every group having a sidecar.
            sidecars_from: 2 - sidecars_from,
            round_robin,
        },
    );
    let max_groups = *space.client_groups.end() as u32;
    (
        flag(space.deployments),
        prop::collection::vec(
            prop::sample::select(vec![true, false]),
            0..=space.max_more_services,
        ),
        prop::sample::select(space.kube_proxy.clone()),
        prop::sample::select(space.ip_reuse.clone()),
        space.nodes.clone(),
        maybe(space.capacity, capacity),
        maybe(space.mesh, mesh),
        // Shrinks toward admitting every group.
        maybe(
            space.netpol,
            (0..=max_groups).prop_map(move |k| max_groups - k),
        ),
        maybe(space.neighbour, 1u32..=3),
    )
        .prop_map(
            |(
                deployment,
                more_services,
                kube_proxy,
                ip_reuse,
                nodes,
                capacity,
                mesh,
                netpol,
                neighbour,
            )| {
                Features {
                    deployment,
                    more_services,
                    kube_proxy,
                    ip_reuse,
                    nodes,
                    capacity,
                    mesh,
                    netpol_allowed_groups: netpol,
                    neighbour,
                }
            },
        )
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
        features(space),
    )
        .prop_map(
            |(
                (seed, duration_s, replicas, headless),
                (startup_ms, drain_ms, propagation_ms, dns_ttl_s, server_cache_s, churn_mean_s),
                clients,
                events,
                f,
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
                deployment: f.deployment,
                more_services: f.more_services,
                kube_proxy: f.kube_proxy,
                ip_reuse: f.ip_reuse,
                nodes: f.nodes,
                capacity: f.capacity,
                mesh: f.mesh,
                netpol_allowed_groups: f.netpol_allowed_groups,
                neighbour: f.neighbour,
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
        // Every optional feature shrank to its absence.
        assert!(!m.deployment && m.more_services.is_empty(), "{m:?}");
        assert_eq!(
            (m.kube_proxy, m.ip_reuse, m.nodes),
            (KubeProxy::Iptables, IpReuse::Never, 1)
        );
        assert_eq!(
            (m.capacity, m.mesh, m.netpol_allowed_groups),
            (None, None, None)
        );
        assert_eq!(
            m.clients[0],
            Clients {
                count: 1,
                rate: 1,
                ..Clients::default()
            }
        );
    }
}
