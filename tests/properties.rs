//! Properties every run must have, checked over generated scenarios.
//!
//! The generator writes scenario *files* (YAML), so the parser is exercised
//! the way users exercise it. Each property names the guarantee a user relies
//! on. The proptest seed is pinned, so CI explores the same cases every time;
//! set `PROPTEST_RNG_SEED` or `PROPTEST_CASES` to explore further.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use sim_core::metrics::Outcome;
use sim_core::report::Report;
use sim_core::time::SimDuration;
use sim_core::world::{self, Attempt, Observer};
use sim_core::{RunOptions, scenario};

#[derive(Clone, Debug)]
enum Lifetime {
    None,
    Fixed(u32),
    Exponential(u32),
}

#[derive(Clone, Debug)]
struct Group {
    count: u32,
    rate: u32,
    /// `None`: the service name; `Some(k)`: the pod hostname `web-k.<svc>`.
    pod: Option<u32>,
    profile: &'static str,
    cache: &'static str,
    balancer: &'static str,
    connect_timeout_ms: u32,
    /// Retries, pools, timeouts, sidecar opt-out: raw YAML fields.
    extras: &'static str,
}

#[derive(Clone, Debug)]
enum Action {
    Delete(u32),
    Scale(u32),
    Rollout,
    BrokenImage,
    FailNode,
    DrainNode,
}

#[derive(Clone, Debug)]
struct Gen {
    seed: u64,
    duration_s: u32,
    replicas: u32,
    headless: bool,
    start_ready: bool,
    parallel: bool,
    lifetime: Lifetime,
    startup_ms: u32,
    drain_ms: u32,
    teardown_ms: u32,
    propagation_ms: u32,
    ttl_s: u32,
    cache: Option<u32>,
    shuffle: bool,
    unreachable_ms: Option<u32>,
    reuse: &'static str,
    /// The Deployment's pods model capacity.
    capacity: bool,
    /// An Istio mesh over the default namespace.
    mesh: bool,
    groups: Vec<Group>,
    events: Vec<(u32, Action)>,
}

impl Gen {
    /// Requests the scenario is expected to send.
    fn expected_requests(&self) -> u32 {
        self.groups.iter().map(|g| g.count * g.rate).sum::<u32>() * self.duration_s
    }

    fn churns(&self) -> bool {
        !matches!(self.lifetime, Lifetime::None) || !self.events.is_empty()
    }

    fn yaml(&self) -> String {
        let mut y = String::new();
        let _ = writeln!(
            y,
            "name: generated\nseed: {}\nduration: {}s",
            self.seed, self.duration_s
        );
        let unassigned = match self.unreachable_ms {
            None => "timeout".to_string(),
            Some(ms) => format!("unreachable({ms}ms)"),
        };
        let _ = writeln!(
            y,
            "cluster: {{nodes: 2, propagation: {}ms, unassigned_ip: {unassigned}, ipam: {{reuse: '{}'}}}}",
            self.propagation_ms, self.reuse
        );
        let cache = match self.cache {
            None => "{enabled: false}".to_string(),
            Some(s) => format!("{{enabled: true, max_ttl: {s}s}}"),
        };
        let _ = writeln!(
            y,
            "dns: {{ttl: {}s, cache: {cache}, shuffle: {}}}",
            self.ttl_s, self.shuffle
        );
        let cluster_ip = if self.headless { "None" } else { "\"\"" };
        let _ = writeln!(
            y,
            "services:\n  - {{name: db, clusterIP: {cluster_ip}, selector: {{app: web}}, ports: [{{name: sql, port: 5432}}]}}"
        );
        let lifetime = match self.lifetime {
            Lifetime::None => "none".to_string(),
            Lifetime::Fixed(s) => format!("fixed({s}s)"),
            Lifetime::Exponential(s) => format!("exponential({s}s)"),
        };
        let policy = if self.parallel {
            "Parallel"
        } else {
            "OrderedReady"
        };
        let _ = writeln!(
            y,
            "statefulsets:\n  - {{name: web, service: db, replicas: {}, start_ready: {}, podManagementPolicy: {policy}, \
             lifecycle: {{startup: {}ms, drain: {}ms, teardown: {}ms}}, churn: {{lifetime: {lifetime}}}}}",
            self.replicas, self.start_ready, self.startup_ms, self.drain_ms, self.teardown_ms
        );
        // A Deployment behind the same Service (same labels), churning alike.
        let _ = writeln!(
            y,
            "deployments:\n  - {{name: api, replicas: {}, start_ready: {}, labels: {{app: web}}, ports: [5432], \
             lifecycle: {{startup: {}ms, drain: {}ms, teardown: {}ms}}, churn: {{lifetime: {lifetime}}}{}}}",
            self.replicas,
            self.start_ready,
            self.startup_ms,
            self.drain_ms,
            self.teardown_ms,
            if self.capacity {
                ", capacity: {workers: 2, queue: 5, service_time: exponential(20ms)}"
            } else {
                ""
            }
        );
        y.push_str("clients:\n");
        for (i, g) in self.groups.iter().enumerate() {
            let host = match g.pod {
                None => "db".to_string(),
                Some(k) => format!("web-{k}.db"),
            };
            let _ = writeln!(
                y,
                "  - {{name: g{i}, count: {}, target: \"{host}:5432\", rate: {}, resolver: {{profile: {}, cache: {}}}, balancer: '{}', connect_timeout: {}ms{}}}",
                g.count, g.rate, g.profile, g.cache, g.balancer, g.connect_timeout_ms, g.extras
            );
        }
        if self.mesh {
            y.push_str("mesh: {}\n");
        }
        if !self.events.is_empty() {
            y.push_str("events:\n");
            for (at, a) in &self.events {
                match a {
                    Action::Delete(k) => {
                        let _ = writeln!(y, "  - {{at: {at}ms, delete_pod: web-{k}}}");
                    }
                    Action::Scale(n) => {
                        let _ = writeln!(
                            y,
                            "  - {{at: {at}ms, scale: {{statefulset: web, replicas: {n}}}}}"
                        );
                    }
                    Action::Rollout => {
                        let _ = writeln!(y, "  - {{at: {at}ms, rollout_restart: web}}");
                    }
                    Action::BrokenImage => {
                        let _ = writeln!(
                            y,
                            "  - {{at: {at}ms, update_image: {{deployment: api, broken: true}}}}"
                        );
                    }
                    Action::FailNode => {
                        let _ = writeln!(y, "  - {{at: {at}ms, fail_node: node-1}}");
                    }
                    Action::DrainNode => {
                        let _ = writeln!(y, "  - {{at: {at}ms, drain_node: node-1}}");
                    }
                }
            }
        }
        y
    }
}

fn group() -> impl Strategy<Value = Group> {
    (
        1u32..=4,
        1u32..=30,
        prop::option::weighted(0.25, 0u32..4),
        (
            prop::sample::select(vec![
                "glibc",
                "musl",
                "go",
                "jvm",
                "nscd",
                "systemd-resolved",
                "envoy-strict-dns",
                "grpc",
                "none",
            ]),
            prop::sample::select(vec!["none", "ttl", "ttl(10s)", "fixed(5s)", "fixed(30s)"]),
        ),
        prop::sample::select(vec![
            "random",
            "first",
            "round-robin",
            "round-robin(random-start)",
            "least-request",
            "ring-hash(request)",
            "maglev(client)",
            "pick-first",
            "grpc-round-robin",
            "prefer-ordinal(0)",
        ]),
        50u32..=3000,
        prop::sample::select(vec![
            "",
            ", retries: {attempts: 2}",
            ", retries: {attempts: 1, retry_on: [5xx], budget: {percent: 20}}",
            ", connections: {pool: {http2: true}}",
            ", connections: {pool: {max_idle: 1, max_age: 5s}}, request_timeout: 300ms",
            ", request_timeout: 50ms, retries: {attempts: 1, per_try_timeout: 30ms, retry_on: [reset]}",
            ", sidecar: false",
        ]),
    )
        .prop_map(
            |(count, rate, pod, (profile, cache), balancer, connect_timeout_ms, extras)| Group {
                count,
                rate,
                pod,
                profile,
                cache,
                balancer,
                connect_timeout_ms,
                extras,
            },
        )
}

fn lifetime() -> impl Strategy<Value = Lifetime> {
    prop_oneof![
        Just(Lifetime::None),
        (2u32..30).prop_map(Lifetime::Fixed),
        (2u32..60).prop_map(Lifetime::Exponential),
    ]
}

fn scenario_gen(churn: bool) -> impl Strategy<Value = Gen> {
    let lifetimes = if churn {
        lifetime().boxed()
    } else {
        Just(Lifetime::None).boxed()
    };
    let max_events = if churn { 4 } else { 0 };
    (
        (
            any::<u64>(),
            5u32..=40,
            1u32..=6,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (lifetimes, 0u32..5000, 0u32..3000, 0u32..2000, 0u32..2000),
        (
            0u32..=30,
            prop::option::of(1u32..=30),
            any::<bool>(),
            prop::option::of(10u32..4000),
        ),
        (
            prop::collection::vec(group(), 1..=3),
            prop::sample::select(vec!["never", "host-local", "immediate", "cooldown(5s)"]),
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.2),
        ),
        prop::collection::vec((0u32..1000, 0u32..12), 0..=max_events),
    )
        .prop_map(
            |(
                (seed, duration_s, replicas, headless, start_ready, parallel),
                (lifetime, startup_ms, drain_ms, teardown_ms, propagation_ms),
                (ttl_s, cache, shuffle, unreachable_ms),
                (groups, reuse, capacity, mesh),
                events,
            )| {
                let events = events
                    .into_iter()
                    .map(|(permille, k)| {
                        let at = duration_s * permille;
                        let action = match k {
                            0..4 => Action::Delete(k % replicas),
                            4..8 => Action::Scale(k - 2),
                            8 => Action::Rollout,
                            9 => Action::BrokenImage,
                            10 => Action::FailNode,
                            _ => Action::DrainNode,
                        };
                        (at, action)
                    })
                    .collect();
                Gen {
                    seed,
                    duration_s,
                    replicas,
                    headless,
                    start_ready,
                    parallel,
                    lifetime,
                    startup_ms,
                    drain_ms,
                    teardown_ms,
                    propagation_ms,
                    ttl_s,
                    cache,
                    shuffle,
                    unreachable_ms,
                    reuse,
                    capacity,
                    mesh,
                    groups,
                    events,
                }
            },
        )
}

/// 48 cases from a pinned seed, so CI explores the same scenarios every
/// time; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override either.
fn config() -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    Config {
        cases: env("PROPTEST_CASES").map_or(48, |n| n as u32),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x6b73_696d)),
        failure_persistence: None,
        ..Config::default()
    }
}

fn parse(g: &Gen) -> scenario::Scenario {
    let y = g.yaml();
    scenario::parse(&y).unwrap_or_else(|d| panic!("generated scenario rejected: {d}\n{y}"))
}

fn report(sc: &scenario::Scenario, seed: Option<u64>) -> Report {
    sim_core::run(sc, &RunOptions { seed, window: None }).expect("run completes")
}

/// Keeps every attempt (fine for the small generated runs).
#[derive(Default)]
struct Keep(Vec<Attempt>);
impl Observer for Keep {
    fn attempt(&mut self, a: &Attempt) {
        self.0.push(*a);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn same_seed_gives_identical_bytes_and_another_seed_other_traffic(g in scenario_gen(true)) {
        let sc = parse(&g);
        let a = report(&sc, None);
        let b = report(&sc, None);
        prop_assert_eq!(a.to_json(), b.to_json());
        prop_assert_eq!(a.to_text(), b.to_text());
        // Another seed draws other arrival times: the attempts' instants differ.
        if g.expected_requests() >= 20 {
            let times = |seed: u64| {
                let mut keep = Keep::default();
                world::run_observed(&sc, seed, SimDuration::from_secs(10), &mut keep)
                    .expect("run completes");
                keep.0.iter().map(|x| x.at).collect::<Vec<_>>()
            };
            prop_assert_ne!(times(g.seed), times(g.seed ^ 0x9e37_79b9));
        }
    }

    #[test]
    fn every_attempt_is_counted_in_exactly_one_outcome_and_windows_sum_to_totals(g in scenario_gen(true)) {
        let r = report(&parse(&g), None);
        let t = &r.totals;
        let sum = |o: &sim_core::report::Outcomes| {
            o.ok + o.refused + o.timeout + o.unreachable + o.wrong_backend + o.no_address
                + o.overloaded + o.request_timeout + o.reset + o.upstream_503
        };
        // Every request is counted once by its last try; every try once.
        prop_assert_eq!(sum(&t.request_outcomes), t.requests);
        prop_assert_eq!(t.attempts, t.requests + t.retries);
        prop_assert_eq!(sum(&t.outcomes), t.attempts);
        prop_assert!(t.request_outcomes.ok <= t.outcomes.ok);
        prop_assert_eq!(r.latency.count, t.request_outcomes.ok);
        prop_assert!(t.stale_ip_errors <= t.attempts - t.outcomes.ok - t.outcomes.no_address);
        let l = &r.stale_ip_errors_by_layer;
        prop_assert_eq!(
            l.client_cache + l.node_cache + l.server_cache + l.propagation + l.pooled_connection,
            t.stale_ip_errors
        );
        for w in &r.windows {
            prop_assert_eq!(sum(&w.outcomes), w.attempts);
        }
        let wsum = |f: &dyn Fn(&sim_core::report::WindowReport) -> u64| r.windows.iter().map(f).sum::<u64>();
        prop_assert_eq!(wsum(&|w| w.requests), t.requests);
        prop_assert_eq!(wsum(&|w| w.attempts), t.attempts);
        prop_assert_eq!(wsum(&|w| w.stale_ip_errors), t.stale_ip_errors);
        prop_assert_eq!(wsum(&|w| w.outcomes.ok), t.outcomes.ok);
        prop_assert_eq!(wsum(&|w| w.outcomes.refused), t.outcomes.refused);
        prop_assert_eq!(wsum(&|w| w.outcomes.timeout), t.outcomes.timeout);
        prop_assert_eq!(wsum(&|w| w.outcomes.unreachable), t.outcomes.unreachable);
        prop_assert_eq!(wsum(&|w| w.outcomes.no_address), t.outcomes.no_address);
        let gsum = |f: &dyn Fn(&sim_core::report::GroupReport) -> u64| r.client_groups.values().map(f).sum::<u64>();
        prop_assert_eq!(gsum(&|g| g.requests), t.requests);
        prop_assert_eq!(gsum(&|g| g.outcomes.ok), t.outcomes.ok);
        prop_assert_eq!(gsum(&|g| g.stale_ip_errors), t.stale_ip_errors);
        // Skew counts successes per identity: they add up to the ok total.
        prop_assert_eq!(r.skew.per_identity.values().sum::<u64>(), t.outcomes.ok);
    }

    #[test]
    fn ok_only_reaches_a_pod_that_holds_the_dialled_address_at_that_instant(g in scenario_gen(true)) {
        let sc = parse(&g);
        let mut keep = Keep::default();
        let out = world::run_observed(&sc, sc.seed, SimDuration::from_secs(10), &mut keep)
            .expect("run completes");
        let assigned: BTreeSet<u32> = out.cluster.pods.iter().map(|p| p.ip).collect();
        prop_assert_eq!(keep.0.len() as u64, out.metrics.totals.attempts);
        for a in &keep.0 {
            // A pod that accepted and then answered 503 or too late was
            // reached too (and may be absent: a sidecar's own 503 or timeout).
            let reached_anyway = matches!(a.outcome, Outcome::Overloaded | Outcome::RequestTimeout)
                && a.reached.is_some();
            match a.outcome {
                _ if reached_anyway || matches!(a.outcome, Outcome::Ok | Outcome::WrongBackend) => {
                    let d = a.dialled.expect("a connection was made to an address");
                    prop_assert!(assigned.contains(&d.ip), "reached {:?}, never assigned", d);
                    let p = &out.cluster.pods[a.reached.expect("a pod accepted") as usize];
                    prop_assert_eq!(p.ip, d.ip);
                    prop_assert!(p.created_at <= a.at && p.gone_at.is_none_or(|t| t > a.at));
                    prop_assert!(p.ready_at.is_some_and(|t| t <= a.at));
                    prop_assert!(p.exited_at.is_none_or(|t| t > a.at));
                    prop_assert!(p.lost_at.is_none_or(|t| t > a.at), "its node had failed");
                }
                Outcome::NoAddress => prop_assert!(a.chosen.is_none() && a.stale.is_none()),
                _ => prop_assert!(a.reached.is_none()),
            }
        }
        let stale = keep.0.iter().filter(|a| a.stale.is_some()).count() as u64;
        prop_assert_eq!(stale, out.metrics.totals.stale_ip_errors);
    }

    #[test]
    fn nothing_churns_means_no_stale_ip_errors(g in scenario_gen(false)) {
        prop_assert!(!g.churns());
        let r = report(&parse(&g), None);
        let t = &r.totals;
        prop_assert_eq!(t.stale_ip_errors, 0);
        prop_assert_eq!(t.outcomes.timeout, 0);
        prop_assert_eq!(t.outcomes.unreachable, 0);
        prop_assert_eq!(t.outcomes.wrong_backend, 0);
        if g.start_ready && g.groups.iter().all(|c| c.pod.is_none_or(|k| k < g.replicas)) {
            // Every pod is an endpoint from t = 0 and never leaves: every
            // try reaches one (which may be too busy or too slow).
            prop_assert_eq!(
                t.outcomes.ok + t.outcomes.overloaded + t.outcomes.request_timeout,
                t.attempts
            );
            if !g.capacity {
                prop_assert_eq!(t.outcomes.ok, t.attempts);
            }
        }
    }
}

proptest! {
    #![proptest_config(Config { cases: 24, ..config() })]

    /// The request path's answers and `ksim dns`'s (the full CoreDNS record
    /// logic in `dns::zone`) are two implementations of one rule: for every
    /// name a client asks, at any instant, they give the same addresses in
    /// the same order.
    #[test]
    fn the_request_path_and_ksim_dns_agree_on_every_a_answer(g in scenario_gen(true), permille in 0u32..1000) {
        use sim_core::dns::{Ask, inspect, zone};
        use sim_core::time::SimTime;
        let sc = parse(&g);
        let at = SimTime(sc.duration.as_ns() / 1000 * permille as u64);
        let mut frozen = world::freeze(&sc, sc.seed, at).expect("run completes");
        let z = inspect::zone_of(&sc, &frozen);
        for id in 0..frozen.server.names() as u32 {
            let name = frozen.server.name(id).to_string();
            let ours = frozen.server.fresh(id, Ask::A, &frozen.cluster);
            let theirs = zone::answer(&z, &name, zone::QType::A);
            let ours_ips: Vec<String> = ours.addrs.iter().map(|a| std::net::Ipv4Addr::from(a.ip).to_string()).collect();
            let theirs_ips: Vec<String> = theirs.answer.iter().map(|r| r.data.to_string()).collect();
            prop_assert_eq!(&ours_ips, &theirs_ips, "{} at {:?}", name, at);
            let ours_nx = ours.rcode == sim_core::dns::Rcode::NxDomain;
            prop_assert_eq!(ours_nx, theirs.rcode == zone::Rcode::NxDomain, "{} at {:?}", name, at);
        }
    }
}
