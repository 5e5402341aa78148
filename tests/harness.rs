//! The property-test harness at work (`sim_core::check`): a property stated
//! as an ordinary proptest over generated scenarios, and a check that the
//! harness finds and shrinks a violation when there is one.
//!
//! This file is the README's worked example. The proptest seed is pinned,
//! so CI explores the same cases every time; set `PROPTEST_CASES` or
//! `PROPTEST_RNG_SEED` to explore further.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use sim_core::check::model::{Action, ClientCache, IpReuse, MeshModel, Model, Retries, Step};
use sim_core::check::strategy::{self, Space};
use sim_core::check::{Check, Op};
use sim_core::metrics::Outcome;

fn config(cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES").map_or(cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x6b73_696d)),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Churn of at most one restart per minute per pod (and a few pod
/// deletions), at least two replicas, clients that resolve before every
/// request, no DNS server cache, and pods that keep serving (drain) at least
/// as long as endpoint changes take to propagate.
///
/// Why two replicas: with one, a restart leaves no Ready endpoint until the
/// replacement is up; kube-proxy then falls back to the terminating pod
/// while it still serves, and for the propagation delay after it exits
/// still dials it (refused). The harness found that case in this very
/// property, written first with `replicas: 1..=5` and rollouts.
fn careful_clients() -> Space {
    Space {
        replicas: 2..=5,
        all_actions: false,
        churn_mean_s: Some(60..=600),
        caches: vec![ClientCache::None],
        server_cache_s: vec![None],
        propagation_ms: 0..=1000,
        drain_ms: 1000..=3000,
        ..Space::basic()
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// "For any churn up to one restart per minute, stale-IP errors stay
    /// under 0.1%" — for clients that do not cache DNS and pods that drain
    /// longer than propagation takes. A single Service never sends a
    /// request to another Service's pod, and every request that reached a
    /// pod reached one that was listening.
    #[test]
    fn careful_clients_see_under_a_tenth_of_a_percent_stale_ip_errors(m in strategy::models(&careful_clients())) {
        let check = Check::report("rates.stale_ip_error_rate", Op::Lt, 0.001)
            .and(Check::always("no wrong backend", |a| a.outcome != Outcome::WrongBackend));
        strategy::verify(&check, &m)?;
    }
}

/// The harness must be able to fail: "no stale-IP errors at all" is false
/// as soon as a pod is deleted under a client that caches answers for 30 s.
/// proptest finds such a scenario and shrinks it to the essentials: one
/// deletion, few pods, one client group.
#[test]
fn the_harness_finds_and_shrinks_a_stale_ip_error_under_a_caching_client() {
    let space = Space {
        caches: vec![ClientCache::Fixed(30)],
        all_actions: false, // deletions only
        ..Space::basic()
    };
    let check = Check::always("no stale-IP errors", |a| a.stale.is_none());
    let mut runner = TestRunner::new(config(64));
    let result = runner.run(&strategy::models(&space), |m| {
        strategy::verify(&check, &m).map(|_| ())
    });
    let Err(TestError::Fail(why, m)) = result else {
        panic!("expected a counterexample, got {result:?}");
    };
    assert_eq!(m.deletions(), 1, "{m:?}");
    assert!(matches!(m.events[0].action, Action::DeletePod(_)));
    assert!(m.replicas <= 2, "{m:?}");
    assert_eq!(m.clients.len(), 1, "{m:?}");
    assert_eq!(m.clients[0].count, 1, "{m:?}");
    assert_eq!(m.duration_s, 10, "{m:?}");
    // The failure message explains it and carries the scenario file.
    let why = why.to_string();
    assert!(
        why.contains("violated: always(no stale-IP errors)"),
        "{why}"
    );
    assert!(why.contains("layer: client_cache"), "{why}");
    assert!(why.contains("delete_pod"), "{why}");
    // The shrunk model is a scenario that reproduces the failure.
    assert!(check.run(&m.scenario()).is_err());
}

#[test]
fn checks_over_the_lifecycle_event_log_name_the_event_that_broke_them() {
    let sc = sim_core::scenario::parse(
        "name: t\nduration: 60s\n\
         services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n\
         statefulsets:\n  - {name: web, service: nginx, replicas: 2, start_ready: true}\n\
         clients:\n  - {name: app, target: 'nginx:80', rate: 5}\n\
         events:\n  - {at: 10s, delete_pod: web-1}\n",
    )
    .unwrap();
    // A goal that holds: the deleted pod's replacement becomes Ready.
    let back = Check::eventually_event("web-1 is Ready again after 10 s", |e| {
        e.kind == "pod_ready" && e.object == "web-1" && e.t_ns > 10_000_000_000
    });
    assert!(back.run(&sc).is_ok());
    // An invariant that does not: no pod ever terminates. The violation
    // names the event and when it happened.
    let calm = Check::always_event("no pod terminates", |e| e.kind != "pod_terminating");
    let v = calm.and(back).run(&sc).unwrap_err();
    assert_eq!(v.check, "always(no pod terminates)");
    assert_eq!(v.at.map(|t| t.as_ns()), Some(10_000_000_000));
    assert!(v.detail.contains("pod_terminating web-1"), "{}", v.detail);
}

// ---------------------------------------------------------------------------
// Properties over every feature. Each holds over its space, and a broken
// variant fails with a small counterexample (every optional feature the
// failure does not need shrinks away).

/// Short runs with every optional feature in play.
fn rich(duration_s: std::ops::RangeInclusive<u32>) -> Space {
    Space {
        duration_s,
        rate: 1..=10,
        ..Space::default()
    }
}

/// Run `property` over `space`; the shrunk counterexample when it fails.
fn counterexample(space: &Space, cases: u32, check: impl Fn(&Model) -> Check) -> Option<Model> {
    let mut runner = TestRunner::new(config(cases));
    match runner.run(&strategy::models(space), |m| {
        strategy::verify(&check(&m), &m).map(|_| ())
    }) {
        Ok(()) => None,
        Err(TestError::Fail(_, m)) => Some(m),
        Err(e) => panic!("{e}"),
    }
}

fn no_wrong_backend(_: &Model) -> Check {
    Check::always("no wrong backend", |a| a.outcome != Outcome::WrongBackend)
}

/// "No wrong-backend outcome unless IP reuse is immediate." A client reaches
/// a pod that is not its target's only when that pod holds an address
/// another pod had; without reuse inside the run (`never`, or `host-local`,
/// which cycles through a node's 253 addresses first) that cannot happen,
/// whatever else is going on: Deployments, several Services, kube-proxy
/// modes, pools, retries, capacity, the mesh, policies, node failures.
/// (A `cooldown` shorter than a client's cache can produce it too.)
#[test]
fn no_wrong_backend_unless_ip_reuse_is_immediate() {
    let holds = Space {
        ip_reuse: vec![IpReuse::Never, IpReuse::HostLocal],
        ..rich(10..=20)
    };
    let found = counterexample(&holds, 16, no_wrong_backend);
    assert_eq!(found, None);
    // Broken: immediate reuse, with clients caching answers for 30 s. The
    // counterexample: `web` loses a pod, the neighbour gains one, which
    // takes the address a client still has cached.
    let broken = Space {
        ip_reuse: vec![IpReuse::Immediate],
        caches: vec![ClientCache::Fixed(30)],
        max_events: 4,
        ..rich(10..=20)
    };
    let m = counterexample(&broken, 64, no_wrong_backend).expect("immediate reuse breaks it");
    assert_eq!(m.clients.len(), 1, "{m:?}");
    assert!(m.neighbour.is_some(), "{m:?}");
    assert_eq!(m.events.len(), 2, "{m:?}");
    assert_eq!(
        (m.mesh, m.capacity, m.netpol_allowed_groups),
        (None, None, None),
        "{m:?}"
    );
    assert!(!m.deployment && m.more_services.is_empty(), "{m:?}");
    assert_eq!(m.clients[0].retries, None, "{m:?}");
}

/// At most `attempts` retries per request (the request's budget of tries),
/// and none when the retry budget is zero (`percent: 0, min_concurrency:
/// 0`: Envoy allows no retry in flight). The mesh is left out: its sidecars
/// retry on their own policy.
fn retries_within_budget(m: &Model, short: u32) -> Check {
    let limits: Vec<u32> = m
        .clients
        .iter()
        .map(|c| match c.retries {
            None => 0,
            Some(Retries {
                budget: Some((0, 0)),
                ..
            }) => 0,
            Some(r) => r.attempts.saturating_sub(short),
        })
        .collect();
    Check::always("retries within the budget", move |a| {
        a.try_index <= limits[a.group as usize]
    })
}

#[test]
fn retries_never_exceed_the_budget() {
    let space = Space {
        mesh: false,
        caches: vec![ClientCache::Fixed(30)],
        ..rich(10..=20)
    };
    assert_eq!(
        counterexample(&space, 16, |m| retries_within_budget(m, 0)),
        None
    );
    // Broken: a budget one retry short. The counterexample is one group
    // retrying once, after one failure-causing event.
    let m = counterexample(&space, 64, |m| retries_within_budget(m, 1)).expect("a retry is made");
    assert_eq!(m.clients.len(), 1, "{m:?}");
    assert_eq!(
        m.clients[0].retries,
        Some(Retries {
            attempts: 1,
            budget: None
        }),
        "{m:?}"
    );
    assert!(m.events.len() <= 1, "{m:?}");
    assert_eq!((m.capacity, m.netpol_allowed_groups), (None, None), "{m:?}");
}

/// Two to five pods behind a ClusterIP Service in the mesh, balanced round
/// robin by the sidecars, clients that give up after 500 ms, and pod 0
/// hanging (it accepts and never answers) at 1 s.
fn hung_pod(outlier: Option<u32>) -> impl Strategy<Value = Model> {
    let space = Space {
        seed: false,
        replicas: 2..=5,
        duration_s: 30..=40,
        rate: 10..=20,
        max_events: 0,
        mesh: false,
        ..Space::basic()
    };
    (strategy::models(&space), 1u32..=5).prop_map(move |(mut m, k)| {
        m.headless = false;
        m.mesh = Some(MeshModel {
            strict_mtls: false,
            outlier_consecutive: outlier.map(|_| k),
            sidecars_from: u32::MAX,
            round_robin: true,
        });
        for c in &mut m.clients {
            c.cache = ClientCache::None;
            c.request_timeout_ms = Some(500);
        }
        m.events = vec![Step {
            at_s: 1,
            action: Action::HangPod(0),
        }];
        m
    })
}

/// "With outlier detection, a hung pod's share of failures stays below
/// 10%." Envoy's consecutive-5xx detector (a request timeout counts) ejects
/// the hung pod after a few failures per sidecar for 30 s; without it,
/// round robin sends it one request in `replicas`.
#[test]
fn with_outlier_detection_a_hung_pods_failures_stay_below_ten_percent() {
    let check = Check::report("rates.request_failure_rate", Op::Lt, 0.10);
    let mut runner = TestRunner::new(config(12));
    runner
        .run(&hung_pod(Some(5)), |m| {
            strategy::verify(&check, &m).map(|_| ())
        })
        .unwrap();
    // Broken: no outlier detection. The counterexample has the most pods
    // it can shrink to that still fail (any), one group of one client.
    let mut runner = TestRunner::new(config(12));
    let r = runner.run(&hung_pod(None), |m| {
        strategy::verify(&check, &m).map(|_| ())
    });
    let Err(TestError::Fail(why, m)) = r else {
        panic!("expected a counterexample, got {r:?}")
    };
    assert!(m.replicas <= 3, "{m:?}");
    assert_eq!(m.clients.len(), 1, "{m:?}");
    assert_eq!(m.clients[0].count, 1, "{m:?}");
    assert!(why.to_string().contains("hang_pod: web-0"), "{why}");
}
