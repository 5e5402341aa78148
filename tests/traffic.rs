//! Client traffic as capacity planners rely on it: pods that queue and
//! overload, request timeouts, retries. Statistical checks compare runs
//! with closed forms from queueing theory; each tolerance is derived from
//! the run length (stated next to it), and the seed is pinned, so a test
//! fails only when the model changes.

use sim_core::metrics::Outcome;
use sim_core::report::Report;
use sim_core::scenario::Scenario;
use sim_core::time::SimDuration;
use sim_core::world::Attempt;

mod support;
use support::{parse, run};

/// One Ready pod of Deployment `api` behind headless `api`, with `capacity`;
/// one client group with `client` fields.
fn one_pod(duration: &str, capacity: &str, client: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 3\nduration: {duration}\n\
         services:\n  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}\n\
         deployments:\n  - {{name: api, replicas: 1, start_ready: true, ports: [8080], capacity: {capacity}}}\n\
         clients:\n  - {{name: app, target: 'api:8080', resolver: {{cache: fixed(1h)}}, {client}}}\n"
    ))
}

#[test]
fn a_single_exponential_server_has_the_m_m_1_sojourn_time() {
    // λ = 50/s into one worker with exponential service of mean 10 ms
    // (μ = 100/s, ρ = 0.5): FIFO sojourn time is Exp(μ − λ), mean 20 ms,
    // median 20·ln 2 = 13.86 ms.
    let sc = one_pod(
        "2000s",
        "{workers: 1, service_time: exponential(10ms)}",
        "rate: 50",
    );
    let (_, r) = run(&sc);
    let l = &r.latency;
    assert_eq!(l.count, r.totals.requests);
    // Tolerance: the relative asymptotic variance of an M/M/1 mean over a
    // run of length t is 2(1+ρ)/(ρ·μ·(1−ρ)²·t) (Whitt 1989, number in
    // system; sojourn times follow by Little's law) = 1.2e-4 here, a
    // relative standard deviation of 1.1 %. Six of those: 6.6 %.
    let mean = l.mean_ms.unwrap();
    assert!((mean - 20.0).abs() < 20.0 * 0.066, "mean {mean} ms");
    let p50 = l.p50_ms.unwrap();
    assert!((p50 - 13.86).abs() < 13.86 * 0.066, "p50 {p50} ms");
    // Without a queue discipline (every request served at once) the mean
    // would be 10 ms; without queueing at all, no request would wait.
    assert!(l.p99_ms.unwrap() > 80.0, "p99 {:?}", l.p99_ms);
}

#[test]
fn one_worker_without_a_queue_loses_the_erlang_b_fraction() {
    // One worker, no waiting room, offered load a = λ·S = 10/s · 100 ms = 1:
    // Erlang B blocks a/(1+a) = 1/2 of arrivals, whatever the service-time
    // distribution (insensitivity).
    let sc = one_pod(
        "2000s",
        "{workers: 1, queue: 0, service_time: constant(100ms)}",
        "rate: 10",
    );
    let (_, r) = run(&sc);
    let t = &r.totals;
    let blocked = t.outcomes.overloaded as f64 / t.attempts as f64;
    // n ≈ 20,000 arrivals: a binomial standard deviation of 0.0035; the
    // alternating busy/idle cycles correlate neighbours, so allow 0.03.
    assert!((blocked - 0.5).abs() < 0.03, "blocked {blocked}");
    assert_eq!(t.outcomes.ok + t.outcomes.overloaded, t.attempts);
    // A 503 from a reachable pod is not a stale IP.
    assert_eq!(t.stale_ip_errors, 0);
}

#[test]
fn a_request_timeout_shorter_than_the_service_time_fails_every_served_request() {
    let sc = one_pod(
        "60s",
        "{workers: 8, service_time: constant(50ms)}",
        "rate: 5, request_timeout: 20ms",
    );
    let (attempts, r) = run(&sc);
    assert!(!attempts.is_empty());
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == Outcome::RequestTimeout)
    );
    assert_eq!(r.latency.count, 0, "no request was answered in time");
    assert_eq!(r.rates.request_failure_rate, 1.0);
}

#[test]
fn several_workers_serve_in_parallel_with_constant_latency_below_saturation() {
    // 4 workers, constant 100 ms, λ = 20/s (ρ = 0.5 per worker): waiting
    // happens, but the p50 is the bare service time (to the histogram's
    // 0.1 % precision).
    let sc = one_pod(
        "300s",
        "{workers: 4, service_time: constant(100ms)}",
        "rate: 20",
    );
    let (_, r) = run(&sc);
    let p50 = r.latency.p50_ms.unwrap();
    assert!((100.0..100.1).contains(&p50), "p50 {p50}");
    assert!(r.latency.max_ms.unwrap() > 100.0);
    assert_eq!(r.totals.outcomes.overloaded, 0);
}

/// Three pods; web-1 deleted at 10 s; clients cache answers for 60 s and
/// pick at random, so a third of their picks go to a dark address after it.
fn stale_cache(retries: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 11\nduration: 40s\n\
         cluster: {{propagation: 1s, unassigned_ip: unreachable(3ms)}}\n\
         services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
         statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true, \
         podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 1s, teardown: 1s}}}}\n\
         clients:\n  - {{name: app, count: 20, target: 'nginx:80', rate: 20, balancer: random, \
         resolver: {{cache: fixed(60s)}}{retries}}}\n\
         events:\n  - {{at: 10s, delete_pod: web-1}}\n"
    ))
}

#[test]
fn retries_that_avoid_the_previous_host_hide_stale_ips_from_requests() {
    let (_, plain) = run(&stale_cache(""));
    let (attempts, r) = run(&stale_cache(", retries: {attempts: 2}"));
    let t = &r.totals;
    // Without retries every stale try is a failed request.
    assert!(plain.totals.stale_ip_errors > 1000);
    assert_eq!(plain.totals.retries, 0);
    assert_eq!(
        plain.totals.request_outcomes.unreachable,
        plain.totals.outcomes.unreachable
    );
    // With them the tries still fail, but the retry picks another address:
    // with previous_hosts, two retries among two live pods always land.
    assert!(t.outcomes.unreachable > 1000);
    assert_eq!(t.retries, t.attempts - t.requests);
    // Every failed try was retried or ended its request.
    assert_eq!(
        t.retries + t.request_outcomes.unreachable + t.request_outcomes.refused,
        t.outcomes.unreachable + t.outcomes.refused
    );
    // Only a try whose retry would fall after the end of the run (back-off
    // under 25 ms after a 3 ms failure) stays a failed request.
    let at_the_end = attempts
        .iter()
        .filter(|a| a.outcome == Outcome::Unreachable && a.at.as_ns() > 39_970_000_000)
        .count() as u64;
    assert!(t.request_outcomes.unreachable <= at_the_end);
    assert_eq!(t.request_outcomes.refused, 0);
    // Every retry waited its back-off: retry 1 within [0, 25 ms) after the
    // failure (3 ms for an unreachable address, at once for a refusal).
    let mut last_fail = std::collections::BTreeMap::new();
    for a in &attempts {
        if a.try_index == 0 && a.outcome == Outcome::Unreachable {
            last_fail.insert(a.client, a.at.plus(SimDuration::from_millis(3)));
        } else if a.try_index == 0 && a.outcome == Outcome::Refused {
            last_fail.insert(a.client, a.at);
        } else if a.try_index == 1 {
            let failed = last_fail[&a.client];
            let gap = a.at.since(failed).as_ns();
            assert!(
                (0..25_000_000).contains(&gap),
                "retry {gap} ns after the failure"
            );
        }
    }
}

#[test]
fn a_retry_budget_refuses_retries_beyond_its_share_of_requests_in_flight() {
    // 1 % of the requests in flight, no minimum: never a whole retry.
    let (_, r) = run(&stale_cache(
        ", retries: {attempts: 2, budget: {percent: 1, min_concurrency: 0}}",
    ));
    let t = &r.totals;
    assert_eq!(t.retries, 0);
    assert_eq!(
        t.retries_denied,
        t.outcomes.unreachable + t.outcomes.refused
    );
    assert!(t.retries_denied > 1000);
    // The default minimum of 3 concurrent retries lets them through.
    let (_, r) = run(&stale_cache(
        ", retries: {attempts: 2, budget: {percent: 1}}",
    ));
    assert!(r.totals.retries > 1000);
    assert!(r.totals.request_outcomes.unreachable < 10);
}

#[test]
fn retry_on_names_the_failures_that_are_retried() {
    // Only resets are retried: an unreachable address is not.
    let (_, r) = run(&stale_cache(", retries: {attempts: 2, retry_on: [reset]}"));
    assert_eq!(r.totals.retries, 0);
    assert!(r.totals.request_outcomes.unreachable > 1000);
}

#[test]
fn back_off_is_envoys_fully_jittered_exponential_with_a_cap() {
    use sim_core::world::backoff;
    let base = SimDuration::from_millis(25);
    let max = SimDuration::from_millis(250);
    // Retry n waits U[0, min((2^n - 1)·25 ms, 250 ms)).
    let ceilings = [(1, 25), (2, 75), (3, 175), (4, 250), (9, 250)];
    for (n, ms) in ceilings {
        assert_eq!(backoff(n, base, max, 0.0), SimDuration::ZERO);
        assert_eq!(
            backoff(n, base, max, 0.5).as_ns(),
            ms * 1_000_000 / 2,
            "retry {n}"
        );
        assert!(backoff(n, base, max, 0.999_999) < SimDuration::from_millis(ms));
    }
}

/// ClusterIP `api` over StatefulSet `web` (2 pods, scaled to 4 at 10 s);
/// 20 clients through kube-proxy with `connections`.
fn scale_up(connections: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 5\nduration: 60s\n\
         services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
         statefulsets:\n  - {{name: web, service: api, replicas: 2, start_ready: true, ports: [8080], \
         podManagementPolicy: Parallel, lifecycle: {{startup: 2s}}}}\n\
         clients:\n  - {{name: app, count: 20, target: 'api:80', rate: 20, connections: {connections}}}\n\
         events:\n  - {{at: 10s, scale: {{statefulset: web, replicas: 4}}}}\n"
    ))
}

fn share_of_new_pods(r: &Report) -> f64 {
    let p = &r.skew.per_identity;
    let new = p["web-2"] + p["web-3"];
    new as f64 / p.values().sum::<u64>() as f64
}

#[test]
fn pooled_connections_pin_traffic_to_the_pods_that_existed_before_a_scale_up() {
    // Per request, kube-proxy spreads every connection: after 12 s half the
    // traffic (48 of 60 s at 1/2 ⇒ 0.4 of the run) reaches the new pods.
    let (_, per_request) = run(&scale_up("per_request"));
    let fresh = share_of_new_pods(&per_request);
    assert!((fresh - 0.4).abs() < 0.02, "{fresh}");
    // One HTTP/2 connection per client, opened at the start: the new pods
    // never see a request, the old ones take all of it.
    let (_, pinned) = run(&scale_up("{pool: {http2: true}}"));
    assert_eq!(share_of_new_pods(&pinned), 0.0);
    assert!(pinned.skew.max_over_mean.unwrap() > 1.9);
    // A maximum connection age makes clients reconnect, and kube-proxy
    // spreads the new connections: the new pods catch up.
    let (_, aged) = run(&scale_up("{pool: {http2: true, max_age: 5s}}"));
    let caught_up = share_of_new_pods(&aged);
    assert!(caught_up > 0.3, "{caught_up}");
}

#[test]
fn conntrack_keeps_a_pooled_connection_on_its_pod_until_the_pod_exits() {
    // web-1 is deleted at 20 s: it drains 5 s (still answering), exits at
    // 25 s (RST), and is gone at 26 s. A pooled connection to it through
    // the VIP keeps going there after it left the endpoints at 21 s.
    let sc = parse(
        "name: t\nseed: 9\nduration: 40s\n\
         cluster: {propagation: 1s}\n\
         services:\n  - {name: api, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n\
         statefulsets:\n  - {name: web, service: api, replicas: 2, start_ready: true, ports: [8080], \
         podManagementPolicy: Parallel, lifecycle: {startup: 60s, drain: 5s, teardown: 1s}}\n\
         clients:\n  - {name: app, count: 10, target: 'api:80', rate: 50, connections: {pool: {http2: true}}}\n\
         events:\n  - {at: 20s, delete_pod: web-1}\n",
    );
    let (attempts, r) = run(&sc);
    // Between 21 s and 25 s, clients pinned to web-1 are still answered.
    let draining: Vec<_> = attempts
        .iter()
        .filter(|a| a.at.as_ns() > 21_500_000_000 && a.at.as_ns() < 24_500_000_000)
        .collect();
    assert!(draining.iter().all(|a| a.outcome == Outcome::Ok));
    // Each pinned client meets exactly one reset (then reconnects to web-0).
    let resets = r.totals.outcomes.reset;
    assert!(resets > 0 && resets <= 10, "{resets}");
    assert_eq!(r.stale_ip_errors_by_layer.pooled_connection, resets);
    // After the reset, everything goes to web-0.
    let late = attempts.iter().filter(|a| a.at.as_ns() > 26_000_000_000);
    assert!(late.clone().all(|a| a.outcome == Outcome::Ok));
    assert_eq!(r.totals.request_outcomes.reset, resets);
}

/// `pods` single-worker pods with exponential service (mean 10 ms) behind
/// headless `api`, fed by one client (one proxy's view) at `rate`.
fn farm(pods: u32, rate: u32, balancer: &str, duration: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 21\nduration: {duration}\n\
         dns: {{shuffle: false}}\n\
         services:\n  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}\n\
         deployments:\n  - {{name: api, replicas: {pods}, start_ready: true, ports: [8080], \
         capacity: {{workers: 1, service_time: exponential(10ms)}}}}\n\
         clients:\n  - {{name: gw, target: 'api:8080', rate: {rate}, balancer: '{balancer}', \
         resolver: {{cache: fixed(1h)}}}}\n"
    ))
}

#[test]
fn power_of_two_choices_beats_random_as_the_supermarket_model_predicts() {
    // 100 servers at ρ = 0.8 (μ = 100/s each, λ = 8000/s in all).
    // Random splitting makes each an M/M/1: E[T] = 1/(μ − λ) = 50 ms.
    // Least-request with two choices is JSQ(2): in the fluid limit the
    // fraction of servers with at least k requests is ρ^(2^k − 1)
    // (Mitzenmacher 2001), so the mean number per server is
    // Σ_k ρ^(2^k − 1) = 1.5580 and, by Little's law, E[T] = 1.5580 / 80 s
    // = 19.47 ms.
    let (_, random) = run(&farm(100, 8000, "random", "200s"));
    let (_, p2c) = run(&farm(100, 8000, "least-request", "200s"));
    let r = random.latency.mean_ms.unwrap();
    let p = p2c.latency.mean_ms.unwrap();
    // Random: each server's mean over t = 200 s has relative variance
    // 2(1+ρ)/(ρμ(1−ρ)²t) = 0.0056; averaged over 100 independent servers,
    // a relative standard deviation of 0.75 %. Allow four: 3 %.
    assert!((r - 50.0).abs() < 50.0 * 0.03, "random: mean {r} ms");
    // JSQ(2): the fluid limit is exact as N → ∞; at N = 100 the finite-size
    // correction is of order 1/N. Allow 6 %.
    assert!(
        (p - 19.47).abs() < 19.47 * 0.06,
        "least-request: mean {p} ms"
    );
}

/// Five pods behind headless `nginx`; ten clients with `balancer`; the
/// server does not shuffle answers.
fn five(balancer: &str, events: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 2\nduration: 30s\n\
         cluster: {{propagation: 1s}}\n\
         dns: {{shuffle: false, ttl: 1s}}\n\
         services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
         statefulsets:\n  - {{name: web, service: nginx, replicas: 5, start_ready: true, \
         podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 0s, teardown: 0s}}}}\n\
         clients:\n  - {{name: app, count: 10, target: 'nginx:80', rate: 20, balancer: '{balancer}', \
         resolver: {{cache: none}}}}\n{events}"
    ))
}

/// The pod each client's `ok` attempts reached, per client.
fn pods_per_client(attempts: &[Attempt]) -> Vec<std::collections::BTreeSet<u32>> {
    let mut v = vec![std::collections::BTreeSet::new(); 10];
    for a in attempts {
        if let Some(p) = a.reached {
            v[a.client as usize].insert(p);
        }
    }
    v
}

#[test]
fn hashing_on_the_client_pins_each_client_and_on_the_request_spreads_them() {
    for b in ["ring-hash(client)", "maglev(client)"] {
        let (attempts, r) = run(&five(b, ""));
        let per = pods_per_client(&attempts);
        assert!(per.iter().all(|s| s.len() == 1), "{b}: {per:?}");
        // Different clients land on different pods.
        let distinct: std::collections::BTreeSet<_> = per.iter().flatten().collect();
        assert!(distinct.len() >= 3, "{b}: {distinct:?}");
        assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
    }
    for b in ["ring-hash(request)", "maglev(request)"] {
        let (attempts, _) = run(&five(b, ""));
        assert!(
            pods_per_client(&attempts).iter().all(|s| s.len() == 5),
            "{b}"
        );
    }
}

#[test]
fn pick_first_follows_the_answer_order_unless_it_shuffles() {
    // Without `loadbalance` every answer lists the pods in the same order:
    // pick_first puts every client on one pod; A62's shuffle spreads them.
    let (attempts, r) = run(&five("pick-first", ""));
    let per = pods_per_client(&attempts);
    let all: std::collections::BTreeSet<_> = per.iter().flatten().collect();
    assert_eq!(all.len(), 1);
    assert!((r.skew.max_over_mean.unwrap() - 5.0).abs() < 1e-9);
    let (_, shuffled) = run(&five("pick-first(shuffle)", ""));
    assert!(shuffled.skew.max_over_mean.unwrap() < 2.5);
}

#[test]
fn prefer_ordinal_sends_everything_to_the_primary_while_it_is_an_endpoint() {
    let (attempts, r) = run(&five(
        "prefer-ordinal(0)",
        "events:\n  - {at: 10s, delete_pod: web-0}\n",
    ));
    let p = &r.skew.per_identity;
    // Until web-0 leaves the answer (deleted at 10 s, gone from DNS at 11 s,
    // its replacement not Ready within the run), only web-0 is asked.
    assert!(p["web-0"] > 0);
    let early_elsewhere = attempts
        .iter()
        .filter(|a| a.at.as_ns() < 10_000_000_000)
        .filter(|a| a.reached.is_some_and(|pod| pod != 0))
        .count();
    assert_eq!(early_elsewhere, 0);
    // Afterwards the others share the traffic round robin.
    for n in 1..5 {
        assert!(p[&format!("web-{n}")] > 100, "{p:?}");
    }
}

#[test]
fn grpc_round_robin_cycles_from_a_random_start_over_connected_addresses() {
    let (attempts, r) = run(&five("grpc-round-robin", ""));
    assert!(pods_per_client(&attempts).iter().all(|s| s.len() == 5));
    assert!(r.skew.max_over_mean.unwrap() < 1.05);
}

#[test]
fn deterministic_subsetting_gives_every_pod_the_same_number_of_clients() {
    let sc = |mode: &str| {
        parse(&format!(
            "name: t\nseed: 3\nduration: 20s\n\
             services:\n  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}\n\
             deployments:\n  - {{name: api, replicas: 12, start_ready: true, ports: [8080]}}\n\
             clients:\n  - {{name: app, count: 12, target: 'api:8080', rate: 20, balancer: random, \
             subset: {{size: 3, mode: {mode}}}}}\n"
        ))
    };
    let clients_per_pod = |attempts: &[Attempt]| {
        let mut pairs = std::collections::BTreeSet::new();
        for a in attempts {
            if let Some(p) = a.reached {
                pairs.insert((a.client, p));
            }
        }
        let mut per_client = std::collections::BTreeMap::new();
        let mut per_pod = std::collections::BTreeMap::new();
        for (c, p) in pairs {
            *per_client.entry(c).or_insert(0) += 1;
            *per_pod.entry(p).or_insert(0) += 1;
        }
        (per_client, per_pod)
    };
    let (attempts, _) = run(&sc("deterministic"));
    let (per_client, per_pod) = clients_per_pod(&attempts);
    assert!(per_client.values().all(|&n| n == 3), "{per_client:?}");
    // Four rounds of four clients, each round covering the 12 pods once.
    assert_eq!(per_pod.len(), 12);
    assert!(per_pod.values().all(|&n| n == 3), "{per_pod:?}");
    let (attempts, _) = run(&sc("random"));
    let (per_client, per_pod) = clients_per_pod(&attempts);
    assert!(per_client.values().all(|&n| n == 3));
    // Random subsets are uneven (the book's point): some pod gets more
    // than its share of clients.
    assert!(per_pod.values().any(|&n| n != 3), "{per_pod:?}");
}
