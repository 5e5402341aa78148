//! The Istio sidecar as operators meet it (shared/reference/balancing.md
//! §6–7): headless traffic forwarded to the dialled pod IP with 503s and
//! same-address retries, ClusterIP traffic balanced per request over the
//! pushed endpoints, outlier detection, the circuit breaker and mTLS.

use sim_core::metrics::Outcome;
use sim_core::report::Report;
use sim_core::scenario::Scenario;
use sim_core::world::Attempt;

mod support;
use support::{parse, run};

/// Three `web` pods behind headless `nginx` (web-1 deleted at 10 s); ten
/// clients that cache answers for 30 s; `mesh` and `client` are raw YAML.
fn headless(mesh: &str, client: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 4\nduration: 40s\n\
         cluster: {{propagation: 1s, unassigned_ip: unreachable(1ms)}}\n\
         services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
         statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true, \
         podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 1s, teardown: 1s}}}}\n\
         clients:\n  - {{name: app, count: 10, target: 'nginx:80', rate: 10, balancer: random, \
         connect_timeout: 2s, resolver: {{cache: fixed(30s)}}{client}}}\n\
         events:\n  - {{at: 10s, delete_pod: web-1}}\n{mesh}"
    ))
}

#[test]
fn a_dead_pod_ip_behind_a_sidecar_is_a_503_and_its_retries_go_to_the_same_address() {
    let (_, plain) = run(&headless("", ""));
    assert!(
        plain.totals.outcomes.unreachable > 100,
        "{:?}",
        plain.totals.outcomes
    );
    assert_eq!(plain.totals.outcomes.upstream_503, 0);

    let (attempts, r) = run(&headless("mesh: {}\n", ""));
    let t = &r.totals;
    // The app never sees a refusal or a connect timeout: its sidecar
    // accepted the connection and answers 503 (UF, then URX).
    assert_eq!(
        t.outcomes.refused + t.outcomes.timeout + t.outcomes.unreachable,
        0
    );
    assert!(t.outcomes.upstream_503 > 100);
    // Istio retries twice, to the same pod IP (ORIGINAL_DST has one host):
    // every failed request failed all three of its tries (but for a few
    // whose retries would fall after the end of the run).
    let failed = t.request_outcomes.upstream_503;
    assert!(failed > 100);
    assert!(t.outcomes.upstream_503 <= failed * 3);
    assert!(t.outcomes.upstream_503 + 10 >= failed * 3);
    assert_eq!(t.request_outcomes.ok, t.outcomes.ok);
    // With previous_hosts a retry elsewhere would succeed; to the same
    // dead address every retry fails too.
    let mut retried: Vec<_> = attempts
        .iter()
        .filter(|a| a.try_index > 0)
        .map(|a| (a.dialled, a.outcome))
        .collect();
    retried.dedup();
    let dead = attempts
        .iter()
        .find(|a| a.outcome == Outcome::Upstream503)
        .unwrap()
        .dialled;
    assert_eq!(retried, vec![(dead, Outcome::Upstream503)]);
    // Each is still a stale-IP error, blamed on the client's DNS cache.
    assert_eq!(r.stale_ip_errors_by_layer.client_cache, t.stale_ip_errors);
    // Without a sidecar (the namespace is injected, the pod opts out).
    let (_, opted_out) = run(&headless("mesh: {}\n", ", sidecar: false"));
    assert_eq!(opted_out.totals.outcomes, plain.totals.outcomes);
}

/// ClusterIP `api` over 2 pods scaled to 4 at 10 s; 20 clients on one
/// pooled HTTP/2 connection each.
fn scale_up(mesh: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 5\nduration: 60s\n\
         services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
         statefulsets:\n  - {{name: web, service: api, replicas: 2, start_ready: true, ports: [8080], \
         podManagementPolicy: Parallel, lifecycle: {{startup: 2s}}}}\n\
         clients:\n  - {{name: app, count: 20, target: 'api:80', rate: 20, \
         connections: {{pool: {{http2: true}}}}}}\n\
         events:\n  - {{at: 10s, scale: {{statefulset: web, replicas: 4}}}}\n{mesh}"
    ))
}

#[test]
fn a_sidecar_balances_each_request_so_pinned_connections_do_not_pin_load() {
    let share = |r: &Report| {
        let p = &r.skew.per_identity;
        (p["web-2"] + p["web-3"]) as f64 / p.values().sum::<u64>() as f64
    };
    // kube-proxy balances connections: the new pods get nothing.
    let (_, plain) = run(&scale_up(""));
    assert_eq!(share(&plain), 0.0);
    // The sidecar balances requests (LEAST_REQUEST by default) over the
    // endpoints istiod pushed: from 12 s on, half goes to the new pods.
    let (_, meshed) = run(&scale_up("mesh: {}\n"));
    let s = share(&meshed);
    assert!((s - 0.4).abs() < 0.03, "{s}");
}

#[test]
fn a_slow_push_keeps_a_deleted_pod_in_the_sidecars_view() {
    // ClusterIP through the sidecar: web-1 is deleted at 10 s, drains 1 s
    // and is gone (nobody holds its IP) at 11 s, when it also leaves the
    // EndpointSlice (propagation 1 s). The sidecars keep sending to it
    // until istiod's push reaches them: 100 ms later by default, 10 s
    // later when the push is slow.
    let sc = |push: &str| {
        parse(&format!(
            "name: t\nseed: 6\nduration: 40s\n\
             cluster: {{propagation: 1s, unassigned_ip: unreachable(1ms)}}\n\
             services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
             statefulsets:\n  - {{name: web, service: api, replicas: 3, start_ready: true, ports: [8080], \
             podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 1s, teardown: 0s}}}}\n\
             clients:\n  - {{name: app, count: 10, target: 'api:80', rate: 20}}\n\
             events:\n  - {{at: 10s, delete_pod: web-1}}\n\
             mesh: {{push_delay: {push}, retries: {{attempts: 0}}}}\n"
        ))
    };
    let (fast, _) = run(&sc("100ms"));
    let (slow, r) = run(&sc("10s"));
    let failed = |a: &[Attempt]| {
        a.iter()
            .filter(|x| x.outcome == Outcome::Upstream503)
            .map(|x| x.at.as_ns() as f64 / 1e9)
            .collect::<Vec<f64>>()
    };
    let f = failed(&fast);
    assert!(f.iter().all(|&t| (11.0..11.1).contains(&t)), "{f:?}");
    let f = failed(&slow);
    assert!(f.len() > 100);
    assert!(f.iter().all(|&t| (11.0..21.0).contains(&t)), "{f:?}");
    assert!(f.iter().any(|&t| t > 20.0));
    // kube-proxy is not involved; the control plane's view was behind.
    assert_eq!(
        r.stale_ip_errors_by_layer.propagation,
        r.totals.stale_ip_errors
    );
}

#[test]
fn outlier_detection_ejects_a_failing_host_after_five_consecutive_errors() {
    let sc = |rule: &str| {
        parse(&format!(
            "name: t\nseed: 8\nduration: 40s\n\
             cluster: {{propagation: 1s, unassigned_ip: unreachable(1ms)}}\n\
             services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
             statefulsets:\n  - {{name: web, service: api, replicas: 3, start_ready: true, ports: [8080], \
             podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 0s, teardown: 0s}}}}\n\
             clients:\n  - {{name: app, count: 4, target: 'api:80', rate: 50, balancer: random}}\n\
             events:\n  - {{at: 5s, delete_pod: web-1}}\n\
             mesh: {{push_delay: 60s, retries: {{attempts: 0}}, destination_rules: [{{name: api, host: api{rule}}}]}}\n"
        ))
    };
    // The push never comes: without outlier detection a third of the
    // requests keep failing.
    let (_, none) = run(&sc(""));
    assert!(none.totals.outcomes.upstream_503 > 1000);
    // With it, each sidecar ejects web-1 after its 5th consecutive error,
    // for 30 s (until the first 10 s sweep after that): at most two rounds
    // of five errors per sidecar in the 35 s left.
    let (attempts, r) = run(&sc(
        ", trafficPolicy: {loadBalancer: {simple: RANDOM}, outlierDetection: {consecutive5xxErrors: 5}}",
    ));
    let n = r.totals.outcomes.upstream_503;
    assert!((20..=40).contains(&n), "{n}");
    for c in 0..4 {
        let first: Vec<_> = attempts
            .iter()
            .filter(|a| a.client == c && a.outcome == Outcome::Upstream503)
            .collect();
        // The first round: exactly five, then nothing until the ejection ends.
        assert!(first.len() >= 5);
        let fifth = first[4].at.as_ns();
        assert!(
            first
                .iter()
                .skip(5)
                .all(|a| a.at.as_ns() >= 40_000_000_000 || a.at.as_ns() >= fifth + 30_000_000_000)
        );
    }
}

#[test]
fn strict_mtls_resets_a_client_without_a_sidecar_and_istio_mutual_breaks_a_pod_without_one() {
    let sc = |mesh: &str, client: &str, sts: &str| {
        parse(&format!(
            "name: t\nseed: 1\nduration: 10s\n\
             services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
             statefulsets:\n  - {{name: web, service: api, replicas: 2, start_ready: true, ports: [8080]{sts}}}\n\
             clients:\n  - {{name: app, count: 2, target: 'api:80', rate: 10{client}}}\n\
             mesh: {{{mesh}}}\n"
        ))
    };
    let (_, ok) = run(&sc("mtls: STRICT", "", ""));
    assert_eq!(ok.totals.outcomes.ok, ok.totals.attempts);
    let (_, r) = run(&sc("mtls: STRICT", ", sidecar: false", ""));
    assert_eq!(r.totals.outcomes.reset, r.totals.attempts);
    let (_, r) = run(&sc(
        "destination_rules: [{name: api, host: api, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}]",
        "",
        ", sidecar: false",
    ));
    assert_eq!(r.totals.outcomes.upstream_503, r.totals.attempts);
    // Auto mTLS (no tls in the rule) talks plain text to a pod without one.
    let (_, r) = run(&sc("", "", ", sidecar: false"));
    assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
}

#[test]
fn the_circuit_breaker_answers_503_uo_beyond_its_requests_in_flight() {
    let sc = parse(
        "name: t\nseed: 1\nduration: 30s\n\
         services:\n  - {name: api, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n\
         statefulsets:\n  - {name: web, service: api, replicas: 1, start_ready: true, ports: [8080], \
         capacity: {workers: 100, service_time: constant(1s)}}\n\
         clients:\n  - {name: app, target: 'api:80', rate: 20}\n\
         mesh: {retries: {attempts: 0}, destination_rules: [{name: api, host: api, \
         trafficPolicy: {connectionPool: {http: {http2MaxRequests: 5}}}}]}\n",
    );
    let (_, r) = run(&sc);
    // 20 requests/s for 1 s each: about 20 in flight, 5 allowed.
    let t = &r.totals;
    let share = t.outcomes.overloaded as f64 / t.attempts as f64;
    assert!(share > 0.6, "{share}");
    assert!(t.outcomes.ok > 100);
}

/// ClusterIP `api` over 3 pods, rolled (every pod replaced, new IPs) from
/// 10 s; 5 injected clients; `extra` is appended (policies, mesh fields).
fn rollout(extra: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 12\nduration: 60s\n\
         cluster: {{propagation: 1s, unassigned_ip: unreachable(1ms), ipam: {{reuse: never}}}}\n\
         services:\n  - {{name: api, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}\n\
         statefulsets:\n  - {{name: web, service: api, replicas: 3, start_ready: true, ports: [8080], \
         lifecycle: {{startup: 2s, drain: 1s, teardown: 0s}}}}\n\
         clients:\n  - {{name: app, count: 5, target: 'api:80', rate: 20}}\n\
         events:\n  - {{at: 10s, rollout_restart: web}}\n{extra}"
    ))
}

#[test]
fn a_policy_that_cuts_the_sidecars_off_istiod_freezes_their_endpoints() {
    let (_, healthy) = run(&rollout("mesh: {}\n"));
    assert_eq!(healthy.rates.request_failure_rate, 0.0);
    // Egress from the clients' namespace only to port 8080: the sidecars
    // cannot reach istiod on 15012 and keep the endpoints they started
    // with; once the rollout replaced every pod, nothing they know answers.
    let (attempts, r) = run(&rollout(
        "mesh: {}\n\
         network_policies:\n  - metadata: {name: egress-app-only}\n    spec:\n      podSelector: {}\n      policyTypes: [Egress]\n      egress:\n        - ports: [{port: 8080}]\n",
    ));
    let late: Vec<_> = attempts
        .iter()
        .filter(|a| a.at.as_ns() > 40_000_000_000)
        .collect();
    assert!(!late.is_empty());
    assert!(late.iter().all(|a| a.outcome == Outcome::Upstream503));
    assert!(r.rates.request_failure_rate > 0.3);
}

#[test]
fn a_service_istiod_does_not_discover_is_plain_tcp_that_strict_mtls_resets() {
    // istiod watches only namespace `other`: `api` is unknown, so the
    // sidecar passes the bytes through unencrypted and the server's sidecar
    // (STRICT) resets them; no retries run.
    let (_, r) = run(&rollout(
        "mesh: {mtls: STRICT, discovery_namespaces: [other]}\n",
    ));
    let t = &r.totals;
    assert_eq!(t.outcomes.reset, t.attempts);
    assert_eq!(t.retries, 0);
    // Discovered, it is mTLS end to end.
    let (_, r) = run(&rollout("mesh: {mtls: STRICT}\n"));
    assert_eq!(r.totals.outcomes.reset, 0);
}

#[test]
fn dns_capture_answers_from_the_sidecars_registry_as_slowly_as_istiod_pushes() {
    // Headless; clients resolve on every request. web-1 is gone at 10 s and
    // leaves the EndpointSlice at 11 s. CoreDNS stops naming it then; the
    // DNS proxy names it until istiod's (slow, 10 s) push arrives at 21 s.
    let sc = |capture: bool| {
        parse(&format!(
            "name: t\nseed: 14\nduration: 30s\n\
             cluster: {{propagation: 1s, unassigned_ip: unreachable(1ms)}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true, \
             podManagementPolicy: Parallel, lifecycle: {{startup: 60s, drain: 0s, teardown: 0s}}}}\n\
             clients:\n  - {{name: app, count: 5, target: 'nginx:80', rate: 20, balancer: random, \
             resolver: {{cache: none}}}}\n\
             events:\n  - {{at: 10s, delete_pod: web-1}}\n\
             mesh: {{push_delay: 10s, dns_capture: {capture}, retries: {{attempts: 0}}}}\n"
        ))
    };
    let last_failure = |a: &[Attempt]| {
        a.iter()
            .filter(|x| x.outcome == Outcome::Upstream503)
            .map(|x| x.at.as_ns())
            .max()
            .unwrap_or(0)
    };
    let (plain, _) = run(&sc(false));
    assert!(last_failure(&plain) < 11_000_000_000);
    let (captured, r) = run(&sc(true));
    let last = last_failure(&captured);
    assert!((20_000_000_000..21_000_000_000).contains(&last), "{last}");
    // CoreDNS was asked nothing: the proxy answered every lookup.
    assert_eq!(r.dns.server_queries, 0);
}

/// DestinationRule `consistentHash` (Istio `ConsistentHashLB`): with
/// `useSourceIp` every client's requests go to one pod, Maglev with the
/// table size given; hashing a header (a fresh value per request) spreads
/// each client's requests over the pods.
#[test]
fn a_consistent_hash_rule_pins_each_source_and_spreads_header_keys() {
    use sim_core::scenario::{Balancer, HashOn};
    let sc = |hash: &str| {
        parse(&format!(
            "name: t\nseed: 6\nduration: 20s\n\
             services:\n  - {{name: api, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: api, replicas: 4, start_ready: true}}\n\
             clients:\n  - {{name: app, count: 12, target: 'api:80', rate: 10}}\n\
             mesh: {{destination_rules: [{{name: api, host: api, \
             trafficPolicy: {{loadBalancer: {{consistentHash: {{{hash}}}}}}}}}]}}\n"
        ))
    };
    let pods_per_client = |attempts: &[sim_core::world::Attempt]| {
        let mut seen: Vec<(u32, u32)> = attempts
            .iter()
            .filter_map(|a| Some((a.client, a.reached?)))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        (0..12)
            .map(|c| seen.iter().filter(|s| s.0 == c).count())
            .collect::<Vec<_>>()
    };

    let pinned = sc("useSourceIp: true, maglev: {tableSize: 7}");
    assert_eq!(
        pinned.mesh.as_ref().unwrap().destination_rules[0].balancer,
        Some(Balancer::Maglev {
            on: HashOn::Client,
            table_size: 7
        })
    );
    let (attempts, r) = run(&pinned);
    assert!(r.totals.outcomes.ok > 2000);
    assert_eq!(pods_per_client(&attempts), vec![1; 12]);

    let spread = sc("httpHeaderName: x-user-id, ringHash: {minimumRingSize: 64}");
    assert_eq!(
        spread.mesh.as_ref().unwrap().destination_rules[0].balancer,
        Some(Balancer::RingHash {
            on: HashOn::Request,
            min_ring_size: 64
        })
    );
    let (attempts, _) = run(&spread);
    assert_eq!(pods_per_client(&attempts), vec![4; 12]);

    // A cookie Envoy sets is sent back by the same client: pinned as well.
    let (attempts, _) = run(&sc("httpCookie: {name: session, ttl: 0s}"));
    assert_eq!(pods_per_client(&attempts), vec![1; 12]);
}
