//! The property-test harness at work (`sim_core::check`): a property stated
//! as an ordinary proptest over generated scenarios, and a check that the
//! harness finds and shrinks a violation when there is one.
//!
//! This file is the README's worked example. The proptest seed is pinned,
//! so CI explores the same cases every time; set `PROPTEST_CASES` or
//! `PROPTEST_RNG_SEED` to explore further.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use sim_core::check::model::{Action, ClientCache};
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
        ..Space::default()
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
        ..Space::default()
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
