//! The model's rules, one test per rule, each read from the real system's
//! documented behaviour (shared/reference/dns.md, balancing.md). Every test
//! runs a small scenario file through the public API and checks what a user
//! would see: the timeline of one pod, the outcome of each attempt, the DNS
//! counters.

use sim_core::metrics::{Layer, Outcome};
use sim_core::report::Report;
use sim_core::scenario::{self, Scenario};
use sim_core::time::{SimDuration, SimTime};
use sim_core::world::{self, Attempt, Observer, RunOutput};

mod support;
use support::{parse, run_full};

fn run(sc: &Scenario) -> (RunOutput<'_>, Vec<Attempt>, Report) {
    run_full(sc)
}

fn s(secs: f64) -> SimTime {
    SimTime((secs * 1e9) as u64)
}

/// Outcomes of one group's attempts strictly inside `(from, to)` seconds.
fn outcomes_between(attempts: &[Attempt], group: u32, from: f64, to: f64) -> Vec<Outcome> {
    attempts
        .iter()
        .filter(|a| a.group == group && a.at > s(from) && a.at < s(to))
        .map(|a| a.outcome)
        .collect()
}

fn all(outcomes: &[Outcome], o: Outcome) -> bool {
    !outcomes.is_empty() && outcomes.iter().all(|x| *x == o)
}

/// One headless service `nginx` over a StatefulSet `web`; `extra` is
/// appended to the StatefulSet entry, `clients` and `tail` are raw YAML.
fn headless(replicas: u32, sts_extra: &str, clients: &str, tail: &str) -> String {
    format!(
        "name: t\nseed: 7\nduration: 40s\n\
         cluster: {{propagation: 1s, unassigned_ip: timeout}}\n\
         dns: {{ttl: 5s, shuffle: false}}\n\
         services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [{{name: web, port: 80}}]}}\n\
         statefulsets:\n  - {{name: web, service: nginx, replicas: {replicas}, start_ready: true, \
         lifecycle: {{startup: 5s, drain: 3s, teardown: 1s}}{sts_extra}}}\n\
         clients:\n{clients}{tail}"
    )
}

#[test]
fn headless_service_without_ready_endpoints_is_nxdomain_after_walking_the_search_list() {
    let sc = parse(
        "name: t\nduration: 20s\n\
         services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n\
         statefulsets:\n  - {name: web, service: nginx, replicas: 1, lifecycle: {startup: 30s}}\n\
         clients:\n  - {name: app, count: 2, target: 'nginx:80', rate: 10}\n",
    );
    let (_, attempts, r) = run(&sc);
    // Nothing is Ready before 30 s: every lookup fails.
    assert!(all(
        &outcomes_between(&attempts, 0, 0.0, 20.0),
        Outcome::NoAddress
    ));
    // glibc walks `nginx.default.svc.cluster.local.`, `nginx.svc.cluster.local.`,
    // `nginx.cluster.local.`, `nginx.`, sending A and AAAA for each: eight
    // NXDOMAINs per failed lookup.
    let failed = r.dns.client_failed_lookups;
    assert!(failed > 0);
    assert_eq!(r.dns.client_lookups, failed);
    assert_eq!(r.dns.client_queries, 8 * failed);
    assert_eq!(r.dns.server_nxdomain, 8 * failed);
    assert_eq!(r.totals.stale_ip_errors, 0);
}

#[test]
fn clusterip_service_with_no_endpoints_resolves_to_its_vip_and_refuses_at_once() {
    let sc = parse(
        "name: t\nduration: 20s\n\
         services:\n  - {name: api, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n\
         statefulsets:\n  - {name: web, service: api, replicas: 1, lifecycle: {startup: 30s}}\n\
         clients:\n  - {name: app, count: 2, target: 'api:80', rate: 10, connect_timeout: 2s}\n",
    );
    let (_, attempts, r) = run(&sc);
    assert!(all(
        &outcomes_between(&attempts, 0, 0.0, 20.0),
        Outcome::Refused
    ));
    // kube-proxy REJECTs at once: no waiting, and no stale address was involved.
    assert_eq!(r.totals.failed_connect_wait_s, 0.0);
    assert_eq!(r.totals.stale_ip_errors, 0);
    assert_eq!(r.dns.server_nxdomain, 0);
}

#[test]
fn terminating_pod_leaves_dns_after_propagation_but_serves_through_its_drain() {
    // web-0 deleted at 10 s: out of DNS at 11 s (propagation 1 s), still
    // listening until 13 s (drain 3 s), refusing until 14 s (teardown 1 s),
    // then its IP is gone. The replacement is Ready at 19 s, in DNS at 20 s.
    let sc = parse(&headless(
        1,
        "",
        "  - {name: fresh, count: 4, target: 'nginx:80', rate: 50, resolver: {cache: none}, connect_timeout: 1s}\n\
         \x20 - {name: cached, count: 4, target: 'nginx:80', rate: 50, resolver: {cache: fixed(60s)}, connect_timeout: 1s}\n",
        "events:\n  - {at: 10s, delete_pod: web-0}\n",
    ));
    let (_, a, r) = run(&sc);
    // A client that resolves every time follows DNS.
    assert!(all(&outcomes_between(&a, 0, 0.0, 11.0), Outcome::Ok));
    assert!(all(
        &outcomes_between(&a, 0, 11.0, 20.0),
        Outcome::NoAddress
    ));
    assert!(all(&outcomes_between(&a, 0, 20.0, 40.0), Outcome::Ok));
    // A client holding the old address sees the pod's whole shutdown.
    assert!(all(&outcomes_between(&a, 1, 0.0, 13.0), Outcome::Ok));
    assert!(all(&outcomes_between(&a, 1, 13.0, 14.0), Outcome::Refused));
    assert!(all(&outcomes_between(&a, 1, 14.0, 40.0), Outcome::Timeout));
    // Those failures were the client cache's doing.
    let cached = &r.client_groups["cached"];
    assert_eq!(
        cached.stale_ip_errors,
        cached.outcomes.refused + cached.outcomes.timeout
    );
    assert_eq!(
        r.stale_ip_errors_by_layer.client_cache,
        cached.stale_ip_errors
    );
    assert!(
        a.iter()
            .filter(|x| x.stale.is_some())
            .all(|x| x.stale == Some(Layer::ClientCache))
    );
}

#[test]
fn statefulset_replacement_is_created_only_when_the_old_pod_is_gone_and_gets_a_new_ip() {
    let sc = parse(&headless(
        1,
        "",
        "  - {name: app, target: 'nginx:80', rate: 1}\n",
        "events:\n  - {at: 10s, delete_pod: web-0}\n",
    ));
    let (out, _, _) = run(&sc);
    let pods = &out.cluster.pods;
    assert_eq!(pods.len(), 2);
    let (old, new) = (&pods[0], &pods[1]);
    assert_eq!((old.ordinal(), new.ordinal()), (Some((0, 0)), Some((0, 0))));
    assert_eq!(
        old.ready_at,
        Some(s(0.0)),
        "start_ready pods are Ready from t = 0"
    );
    assert_eq!(old.deleted_at, Some(s(10.0)));
    assert_eq!(old.exited_at, Some(s(13.0)));
    assert_eq!(old.gone_at, Some(s(14.0)));
    assert_eq!(new.created_at, s(14.0));
    assert_eq!(new.ready_at, Some(s(19.0)));
    assert_ne!(new.ip, old.ip);
}

#[test]
fn orderedready_replacement_waits_for_every_lower_ordinal_but_parallel_does_not() {
    // web-0 and web-2 deleted together; both are gone at 14 s. OrderedReady
    // recreates web-2 only once web-0's replacement is Running and Ready.
    for (policy, web2_created) in [("OrderedReady", 19.0), ("Parallel", 14.0)] {
        let sc = parse(&headless(
            3,
            &format!(", podManagementPolicy: {policy}"),
            "  - {name: app, target: 'nginx:80', rate: 1}\n",
            "events:\n  - {at: 10s, delete_pod: web-0}\n  - {at: 10s, delete_pod: web-2}\n",
        ));
        let (out, _, _) = run(&sc);
        let created = |ord: u32| {
            out.cluster
                .pods
                .iter()
                .filter(|p| p.ordinal().is_some_and(|(_, o)| o == ord))
                .map(|p| p.created_at)
                .max()
        };
        assert_eq!(created(0), Some(s(14.0)), "{policy}");
        assert_eq!(created(2), Some(s(web2_created)), "{policy}");
    }
}

#[test]
fn scale_up_creates_in_ordinal_order_and_scale_down_removes_the_highest_first() {
    let sc = parse(&headless(
        1,
        "",
        "  - {name: app, target: 'nginx:80', rate: 1}\n",
        "events:\n  - {at: 1s, scale: {statefulset: web, replicas: 3}}\n  - {at: 20s, scale: {statefulset: web, replicas: 1}}\n",
    ));
    let (out, _, _) = run(&sc);
    let pod = |ord: u32| {
        out.cluster
            .pods
            .iter()
            .find(|p| p.ordinal() == Some((0, ord)))
            .unwrap()
    };
    // OrderedReady: web-1 at 1 s, web-2 once web-1 is Ready (startup 5 s).
    assert_eq!(pod(1).created_at, s(1.0));
    assert_eq!(pod(2).created_at, s(6.0));
    // Scale-down: web-2 first; web-1 only once web-2 is gone (drain 3 s + teardown 1 s).
    assert_eq!(pod(2).deleted_at, Some(s(20.0)));
    assert_eq!(pod(1).deleted_at, Some(s(24.0)));
    assert_eq!(pod(0).deleted_at, None);
}

#[test]
fn kube_proxy_picks_a_ready_endpoint_uniformly_for_each_connection() {
    let sc = parse(
        "name: t\nseed: 3\nduration: 60s\n\
         services:\n  - {name: api, selector: {app: web}, ports: [{port: 80}]}\n\
         statefulsets:\n  - {name: web, service: api, replicas: 4, start_ready: true}\n\
         clients:\n  - {name: app, count: 10, target: 'api:80', rate: 100, balancer: first}\n",
    );
    let (_, _, r) = run(&sc);
    let n = r.totals.outcomes.ok as f64;
    assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
    // Each pod's share is Binomial(n, 1/4): allow 6 standard deviations.
    let sd = (n * 0.25 * 0.75).sqrt();
    for (pod, count) in &r.skew.per_identity {
        assert!(
            (*count as f64 - n / 4.0).abs() < 6.0 * sd,
            "{pod}: {count} of {n}"
        );
    }
}

#[test]
fn balancers_first_round_robin_and_random_spread_load_as_documented() {
    let run_with = |balancer: &str, shuffle: bool| {
        let sc = parse(&format!(
            "name: t\nseed: 5\nduration: 30s\ndns: {{shuffle: {shuffle}}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true}}\n\
             clients:\n  - {{name: app, count: 3, target: 'nginx:80', rate: 20, balancer: {balancer}}}\n"
        ));
        let (_, _, r) = run(&sc);
        r.skew.per_identity.values().copied().collect::<Vec<u64>>()
    };
    // `first` without the loadbalance shuffle: everyone on answer[0] = web-0.
    let first = run_with("first", false);
    assert!(first[0] > 0 && first[1] == 0 && first[2] == 0, "{first:?}");
    // Round-robin's cursor survives every refresh (no cache: one per request),
    // so each client cycles web-0, web-1, web-2: counts differ by at most one per client.
    let rr = run_with("round-robin", false);
    let (lo, hi) = (rr.iter().min().unwrap(), rr.iter().max().unwrap());
    assert!(hi - lo <= 3, "{rr:?}");
    // `first` with the shuffle and `random` both spread the load.
    for counts in [run_with("first", true), run_with("random", false)] {
        let total: u64 = counts.iter().sum();
        assert!(counts.iter().all(|&c| c * 4 > total), "{counts:?}");
    }
}

#[test]
fn fixed_resolver_cache_ignores_the_ttl_and_ttl_cache_honours_it() {
    let lookups = |cache: &str| {
        let sc = parse(&headless(
            2,
            "",
            &format!(
                "  - {{name: app, target: 'nginx:80', rate: 50, resolver: {{cache: {cache}}}}}\n"
            ),
            "",
        ));
        run(&sc).2.dns.client_lookups
    };
    // 40 s run, record TTL 5 s: the JVM-style 30 s cache refreshes once,
    // the TTL-honouring cache about every 5 s, no cache on every request.
    assert_eq!(lookups("fixed(30s)"), 2);
    assert!((8..=9).contains(&lookups("ttl")), "{}", lookups("ttl"));
    assert!(lookups("none") > 1500);
}

#[test]
fn a_dial_to_a_released_ip_times_out_or_is_unreachable_as_configured() {
    // (unassigned_ip, connect timeout, expected outcome, expected wait)
    let cases = [
        ("timeout", "1s", Outcome::Timeout, 1.0),
        ("unreachable(3s)", "5s", Outcome::Unreachable, 3.0),
        // The connect timeout fires before the node's ICMP arrives.
        ("unreachable(3s)", "2s", Outcome::Timeout, 2.0),
    ];
    for (unassigned, timeout, outcome, wait_s) in cases {
        let yaml = headless(
            1,
            "",
            &format!(
                "  - {{name: app, count: 2, target: 'nginx:80', rate: 20, resolver: {{cache: fixed(60s)}}, connect_timeout: {timeout}}}\n"
            ),
            "events:\n  - {at: 10s, delete_pod: web-0}\n",
        )
        .replace("unassigned_ip: timeout", &format!("unassigned_ip: '{unassigned}'"));
        let sc = parse(&yaml);
        let (_, a, r) = run(&sc);
        let after = outcomes_between(&a, 0, 14.0, 40.0);
        assert!(all(&after, outcome), "{unassigned} {timeout}: {after:?}");
        let n = after.len() as f64;
        assert!(
            (r.totals.failed_connect_wait_s - n * wait_s).abs() < 1e-6,
            "{unassigned}"
        );
    }
}

#[test]
fn a_server_cache_keeps_serving_a_deleted_pod_until_its_entry_expires() {
    // Server cache holds answers 30 s; a client without its own cache keeps
    // receiving web-0's old address after it left the endpoints.
    let yaml = headless(
        2,
        "",
        "  - {name: app, count: 2, target: 'nginx:80', rate: 50, balancer: random, connect_timeout: 1s}\n",
        "events:\n  - {at: 2s, delete_pod: web-0}\n",
    )
    .replace("dns: {ttl: 5s, shuffle: false}", "dns: {ttl: 30s, cache: {enabled: true, max_ttl: 30s}, shuffle: false}");
    let (_, a, r) = run(&parse(&yaml));
    let by_server = r.stale_ip_errors_by_layer.server_cache;
    assert!(by_server > 0);
    assert_eq!(r.stale_ip_errors_by_layer.client_cache, 0);
    // The entry cached at t≈0 expires at 30 s: no stale answers after that.
    assert!(
        a.iter()
            .filter(|x| x.stale.is_some())
            .all(|x| x.at < s(31.0))
    );
    assert_eq!(by_server, r.totals.stale_ip_errors);
}

/// Queries one lookup costs, by profile and name form (reference/dns.md §4):
/// A and AAAA go out together for each name tried.
#[test]
fn a_lookup_costs_the_queries_it_costs_in_a_real_pod() {
    // (profile, target host, queries per lookup)
    let cases = [
        // The first search domain finds it: 1 name x (A + AAAA).
        ("glibc", "web-0.nginx", 2),
        ("musl", "web-0.nginx", 2),
        // 4 dots < ndots 5: three bogus search suffixes first, then as-is.
        ("glibc", "nginx.default.svc.cluster.local", 8),
        // A trailing dot: the name as-is only.
        ("glibc", "nginx.default.svc.cluster.local.", 2),
        // Envoy's c-ares and gRPC's Go resolver walk like glibc.
        ("envoy-strict-dns", "nginx", 2),
    ];
    for (profile, host, per_lookup) in cases {
        let sc = parse(&headless(
            2,
            "",
            &format!("  - {{name: app, target: '{host}:80', rate: 5, resolver: {profile}}}\n"),
            "",
        ));
        let r = run(&sc).2;
        assert!(r.dns.client_lookups > 0, "{profile} {host}");
        assert_eq!(r.dns.client_failed_lookups, 0, "{profile} {host}");
        assert_eq!(
            r.dns.client_queries,
            per_lookup * r.dns.client_lookups,
            "{profile} {host}"
        );
    }
}

#[test]
fn musl_stops_at_the_first_nodata_where_glibc_walks_on() {
    // From namespace `other`, `default` is first tried as
    // `default.other.svc.cluster.local.` (NXDOMAIN), then as
    // `default.svc.cluster.local.`, the namespace `default`: NODATA. glibc
    // goes on and finds the Service through the extra search domain; musl
    // stops there (EAI_NODATA).
    let yaml = |profile: &str| {
        format!(
            "name: t\nduration: 10s\n\
             services:\n  - {{name: default, namespace: prod, clusterIP: None, selector: {{app: db}}, ports: [5432]}}\n\
             \x20 - {{name: web, namespace: default, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: db, namespace: prod, service: default, replicas: 1, start_ready: true}}\n\
             clients:\n  - {{name: app, namespace: other, target: 'default:5432', rate: 5, resolver: {profile}, \
             dnsConfig: {{searches: [prod.svc.cluster.local]}}}}\n"
        )
    };
    let glibc = run(&parse(&yaml("glibc"))).2;
    assert_eq!(glibc.totals.outcomes.ok, glibc.totals.attempts);
    let musl = run(&parse(&yaml("musl"))).2;
    assert_eq!(musl.totals.outcomes.no_address, musl.totals.attempts);
    assert_eq!(musl.dns.server_nodata, musl.dns.client_lookups * 2);
}

#[test]
fn jvm_remembers_a_failed_lookup_for_ten_seconds() {
    // web-1 is created at 1 s and Ready at 6 s (startup 5 s). A JVM client
    // asking for it at once caches the failure 10 s, so it keeps failing
    // after web-1 is in DNS (7 s); glibc recovers as soon as DNS has it.
    let clients = "  - {name: jvm, target: 'web-1.nginx:80', rate: 20, resolver: jvm}\n\
                   \x20 - {name: glibc, target: 'web-1.nginx:80', rate: 20, resolver: glibc}\n";
    let sc = parse(&headless(
        1,
        "",
        clients,
        "events:\n  - {at: 1s, scale: {statefulset: web, replicas: 2}}\n",
    ));
    let (_, a, r) = run(&sc);
    assert!(all(&outcomes_between(&a, 1, 0.0, 7.0), Outcome::NoAddress));
    assert!(all(&outcomes_between(&a, 1, 7.0, 40.0), Outcome::Ok));
    // The JVM's first lookup fails just after t = 0 and the failure is
    // remembered 10 s: it fails on until ~10 s, three seconds after web-1
    // entered DNS; its next lookup succeeds and is cached 30 s.
    let jvm = outcomes_between(&a, 0, 0.0, 9.9);
    assert!(all(&jvm, Outcome::NoAddress), "{jvm:?}");
    assert!(all(&outcomes_between(&a, 0, 10.1, 40.0), Outcome::Ok));
    assert!(r.dns.client_negative_cache_hits > 0);
}

#[test]
fn envoy_refreshes_on_a_timer_and_grpc_only_after_a_failure() {
    // web-0 deleted at 10 s: gone (IP released) at 14 s, replacement in DNS at 20 s.
    let clients = "  - {name: envoy, target: 'nginx:80', rate: 20, resolver: envoy-strict-dns, connect_timeout: 1s}\n\
                   \x20 - {name: grpc, target: 'nginx:80', rate: 20, resolver: grpc, connect_timeout: 1s}\n";
    let sc = parse(&headless(
        1,
        "",
        clients,
        "events:\n  - {at: 10s, delete_pod: web-0}\n",
    ));
    let (_, a, r) = run(&sc);
    // Envoy resolves at 0, 5, 10, 15, 20, 25 s, whatever the traffic. The
    // refresh at 15 s finds no endpoint: an empty host set, no address. The
    // one at 20 s runs before the endpoint update due at that same instant
    // (it was scheduled first), so the new pod is picked up at 25 s.
    assert!(all(&outcomes_between(&a, 0, 0.0, 13.0), Outcome::Ok));
    assert!(all(&outcomes_between(&a, 0, 14.0, 15.0), Outcome::Timeout));
    assert!(all(
        &outcomes_between(&a, 0, 15.0, 25.0),
        Outcome::NoAddress
    ));
    assert!(all(&outcomes_between(&a, 0, 25.0, 40.0), Outcome::Ok));
    // gRPC resolved once at 0 s. The first failure (refused at 13 s) asks
    // for a re-resolution, allowed from 30 s (30 s after the last one): it
    // keeps dialling the dead address until then.
    assert!(all(&outcomes_between(&a, 1, 0.0, 13.0), Outcome::Ok));
    assert!(all(&outcomes_between(&a, 1, 14.0, 30.0), Outcome::Timeout));
    assert!(all(&outcomes_between(&a, 1, 30.0, 40.0), Outcome::Ok));
    assert_eq!(
        r.client_groups["grpc"].stale_ip_errors,
        r.client_groups["grpc"].outcomes.refused + r.client_groups["grpc"].outcomes.timeout
    );
}

#[test]
fn dns_policy_default_sends_cluster_names_to_the_upstream_which_knows_none() {
    let sc = parse(&headless(
        1,
        "",
        "  - {name: app, target: 'nginx.default.svc.cluster.local:80', rate: 5, dnsPolicy: Default}\n",
        "",
    ));
    let r = run(&sc).2;
    assert_eq!(r.totals.outcomes.no_address, r.totals.attempts);
    assert_eq!(r.dns.server_queries, 0);
    assert_eq!(r.dns.client_upstream_queries, r.dns.client_queries);
}

/// The CoreDNS `cache` plugin's knobs (reference/dns.md §3).
#[test]
fn the_denial_cap_decides_how_long_a_pod_looked_up_too_early_stays_nxdomain() {
    // web-1 is created at 1 s, Ready at 6 s, in DNS at 7 s. A client without
    // its own cache asks for it from t≈0; the server holds the NXDOMAIN for
    // `denial_max_ttl`, re-asking the plugin only when the entry expires.
    for (denial, ok_after) in [(5, 10.2), (30, 30.2)] {
        let yaml = headless(
            1,
            "",
            "  - {name: app, target: 'web-1.nginx:80', rate: 20}\n",
            "events:\n  - {at: 1s, scale: {statefulset: web, replicas: 2}}\n",
        )
        .replace(
            "dns: {ttl: 5s, shuffle: false}",
            &format!("dns: {{ttl: 30s, cache: {{enabled: true, max_ttl: 30s, denial_max_ttl: {denial}s}}}}"),
        );
        let (_, a, _) = run(&parse(&yaml));
        let before = outcomes_between(&a, 0, 0.0, ok_after - 0.3);
        assert!(all(&before, Outcome::NoAddress), "denial {denial}s");
        assert!(
            all(&outcomes_between(&a, 0, ok_after, 40.0), Outcome::Ok),
            "denial {denial}s"
        );
    }
}

#[test]
fn prefetch_keeps_a_popular_entry_from_ever_expiring() {
    let run_with = |prefetch: &str| {
        let yaml = headless(
            2,
            "",
            "  - {name: app, count: 5, target: 'nginx:80', rate: 20}\n",
            "",
        )
        .replace(
            "dns: {ttl: 5s, shuffle: false}",
            &format!("dns: {{ttl: 10s, cache: {{enabled: true, max_ttl: 10s{prefetch}}}}}"),
        );
        run(&parse(&yaml)).2.dns
    };
    let plain = run_with("");
    let pre = run_with(", prefetch: {amount: 1, percentage: 50}");
    // Without prefetch every 10 s entry expires and one query misses (A and
    // AAAA: 2 misses per expiry); with it the entries are refreshed at 5 s
    // remaining, so only the first query of each type ever misses.
    assert_eq!(plain.server_prefetches, 0);
    assert!(plain.server_queries - plain.server_cache_hits >= 8);
    assert_eq!(pre.server_queries - pre.server_cache_hits, 2);
    assert!(pre.server_prefetches >= 7, "{}", pre.server_prefetches);
}

#[test]
fn serve_stale_answers_from_an_expired_entry_and_refreshes_it() {
    // web-0 is deleted at 10 s. The entry cached at 0 s expired at 5 s; with
    // serve_stale, the first query after that gets the old answer (TTL 0)
    // while the entry is refreshed, so stale answers reach clients.
    let run_with = |stale: &str| {
        let yaml = headless(
            2,
            "",
            "  - {name: app, target: 'nginx:80', rate: 0.2, balancer: random, connect_timeout: 1s}\n",
            "events:\n  - {at: 10s, delete_pod: web-0}\n",
        )
        .replace(
            "dns: {ttl: 5s, shuffle: false}",
            &format!("dns: {{ttl: 5s, cache: {{enabled: true, max_ttl: 5s{stale}}}}}"),
        );
        run(&parse(&yaml)).2
    };
    let plain = run_with("");
    let stale = run_with(", serve_stale: 1h");
    assert_eq!(plain.dns.server_stale_served, 0);
    assert!(stale.dns.server_stale_served > 0);
    // Sparse queries find the entry expired: without serve_stale they miss,
    // with it they hit (stale) and the refresh keeps the next ones fresh.
    assert!(stale.dns.server_cache_hits > plain.dns.server_cache_hits);
    assert_eq!(stale.totals.requests, plain.totals.requests);
}

#[test]
fn a_node_local_cache_freezes_the_answer_order_for_every_pod_on_its_node() {
    // CoreDNS `loadbalance` shuffles each response, but NodeLocal DNSCache
    // has no `loadbalance`: the order it stored is what every pod on the node
    // gets until the entry expires (30 s here), so `first` clients pile up.
    let per_identity = |node_local: bool| {
        let sc = parse(&format!(
            "name: t\nseed: 11\nduration: 25s\n\
             dns: {{ttl: 30s, shuffle: true, node_local: {{enabled: {node_local}}}}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true}}\n\
             clients:\n  - {{name: app, count: 6, target: 'nginx:80', rate: 10, balancer: first}}\n"
        ));
        run(&sc)
            .2
            .skew
            .per_identity
            .values()
            .copied()
            .collect::<Vec<u64>>()
    };
    let frozen = per_identity(true);
    assert_eq!(frozen.iter().filter(|&&n| n > 0).count(), 1, "{frozen:?}");
    let shuffled = per_identity(false);
    assert!(shuffled.iter().all(|&n| n > 0), "{shuffled:?}");
}

#[test]
fn a_stale_answer_held_by_the_node_cache_is_blamed_on_it() {
    // The server does not cache; the node cache holds the answer 30 s. web-0
    // is deleted at 2 s: clients without a cache of their own keep getting
    // its address from the node cache.
    let yaml = headless(
        2,
        "",
        "  - {name: app, count: 2, target: 'nginx:80', rate: 50, balancer: random, connect_timeout: 1s}\n",
        "events:\n  - {at: 2s, delete_pod: web-0}\n",
    )
    .replace(
        "dns: {ttl: 5s, shuffle: false}",
        "dns: {ttl: 30s, shuffle: false, node_local: {enabled: true}}",
    );
    let r = run(&parse(&yaml)).2;
    let l = &r.stale_ip_errors_by_layer;
    assert!(l.node_cache > 0);
    assert_eq!(l.node_cache, r.totals.stale_ip_errors);
    assert!(r.dns.node_cache_hits > 0);
}

#[test]
fn a_node_local_cache_holds_a_negative_answer_exactly_five_seconds() {
    // `denial 9984 5`: the record TTL is 30 s, NXDOMAIN is held 5 s. web-1
    // (created at 1 s, in DNS at 7 s) is picked up at the first expiry after
    // 7 s: the entries stored at ~0, ~5, ~10 s -> resolvable from ~10 s.
    let yaml = headless(
        1,
        "",
        "  - {name: app, target: 'web-1.nginx:80', rate: 20}\n",
        "events:\n  - {at: 1s, scale: {statefulset: web, replicas: 2}}\n",
    )
    .replace(
        "dns: {ttl: 5s, shuffle: false}",
        "dns: {ttl: 30s, node_local: {enabled: true}}",
    );
    let (_, a, _) = run(&parse(&yaml));
    assert!(all(&outcomes_between(&a, 0, 0.0, 9.9), Outcome::NoAddress));
    assert!(all(&outcomes_between(&a, 0, 10.2, 40.0), Outcome::Ok));
}

/// Kubernetes objects taken as given (hand-written EndpointSlices and Pods,
/// ExternalName, publishNotReadyAddresses): built here on top of a parsed
/// scenario, as the manifest reader produces them.
mod objects {
    use std::net::{IpAddr, Ipv4Addr};

    use sim_core::scenario::{AddressType, EndpointSliceDef, PodDef, SliceEndpoint, SlicePort};

    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn slice(
        service: &str,
        endpoints: &[(&str, Option<bool>, Option<&str>)],
        port: u16,
    ) -> EndpointSliceDef {
        EndpointSliceDef {
            name: format!("{service}-manual"),
            namespace: "default".into(),
            service: service.into(),
            address_type: AddressType::IPv4,
            endpoints: endpoints
                .iter()
                .map(|(a, ready, host)| SliceEndpoint {
                    addresses: vec![IpAddr::V4(ip(a))],
                    hostname: host.map(str::to_string),
                    target_ref: None,
                    ready: *ready,
                })
                .collect(),
            ports: vec![SlicePort {
                name: Some("pg".into()),
                port,
                protocol: "TCP".into(),
            }],
        }
    }

    #[test]
    fn manual_endpoints_answer_in_dns_and_take_connections_when_ready() {
        // A selector-less headless Service over two external addresses; the
        // second is marked not ready, so it never appears in DNS.
        let mut sc = parse(
            "name: t\nduration: 20s\n\
             services:\n  - {name: legacy-db, clusterIP: None, ports: [5432]}\n  \
             - {name: other, clusterIP: None, selector: {app: x}, ports: [5432]}\n\
             clients:\n  - {name: app, count: 2, target: 'other:5432', rate: 10, balancer: random}\n",
        );
        sc.endpoint_slices.push(slice(
            "legacy-db",
            &[
                ("192.168.10.11", Some(true), Some("primary")),
                ("192.168.10.12", Some(false), None),
            ],
            5432,
        ));
        // Point the clients at the manual service (a parsed target would be checked).
        sc.clients[0].target.host = "legacy-db".into();
        let (out, a, r) = run(&sc);
        assert_eq!(
            r.totals.outcomes.ok, r.totals.attempts,
            "{:?}",
            r.totals.outcomes
        );
        assert!(
            a.iter()
                .all(|x| x.dialled.map(|d| d.ip) == Some(u32::from(ip("192.168.10.11"))))
        );
        assert_eq!(
            r.skew.per_identity.keys().collect::<Vec<_>>(),
            ["192.168.10.11"]
        );
        // DNS: the hostname names the ready endpoint; the other is absent.
        let frozen = world::freeze(&sc, 0, SimTime(1_000_000_000)).unwrap();
        let z = sim_core::dns::inspect::zone_of(&sc, &frozen);
        let ans = |q: &str| {
            sim_core::dns::zone::answer(&z, q, sim_core::dns::zone::QType::A)
                .answer
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ans("legacy-db.default.svc.cluster.local."),
            ["legacy-db.default.svc.cluster.local. 30 IN A 192.168.10.11"]
        );
        assert_eq!(ans("primary.legacy-db.default.svc.cluster.local.").len(), 1);
        drop(out);
    }

    #[test]
    fn publish_not_ready_addresses_makes_a_starting_pod_an_endpoint_that_refuses() {
        // web-0 starts at 0 and is Ready at 30 s. With publishNotReadyAddresses
        // it is in DNS from 1 s (propagation) and refuses until it listens;
        // without, the name is NXDOMAIN until then.
        for (publish, before) in [(true, Outcome::Refused), (false, Outcome::NoAddress)] {
            let mut sc = parse(
                "name: t\nduration: 40s\n\
                 services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n\
                 statefulsets:\n  - {name: web, service: nginx, replicas: 1, lifecycle: {startup: 30s}}\n\
                 clients:\n  - {name: app, target: 'nginx:80', rate: 10}\n",
            );
            sc.services[0].publish_not_ready = publish;
            let (_, a, r) = run(&sc);
            assert!(
                all(&outcomes_between(&a, 0, 1.1, 29.9), before),
                "publish {publish}"
            );
            assert!(
                all(&outcomes_between(&a, 0, 31.1, 40.0), Outcome::Ok),
                "publish {publish}"
            );
            // A published, not-yet-listening pod is an endpoint: no stale-IP error.
            assert_eq!(r.totals.stale_ip_errors, 0);
        }
    }

    #[test]
    fn an_external_name_inside_the_zone_leads_to_its_target_services_pods() {
        let mut sc = parse(&headless(
            2,
            "",
            "  - {name: app, target: 'nginx:80', rate: 10}\n",
            "",
        ));
        let mut alias = sc.services[0].clone();
        alias.name = "db".into();
        alias.cluster_ip = sim_core::scenario::ClusterIp::None;
        alias.selector.clear();
        alias.external_name = Some("nginx.default.svc.cluster.local".into());
        sc.services.push(alias);
        sc.clients[0].target.host = "db".into();
        let r = run(&sc).2;
        assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
    }

    #[test]
    fn a_hand_written_pod_with_the_service_as_subdomain_gets_a_hostname_record() {
        let mut sc = parse(
            "name: t\nduration: 10s\n\
             services:\n  - {name: kv, clusterIP: None, selector: {app: kv}, ports: [6379]}\n\
             clients:\n  - {name: app, target: 'kv:6379', rate: 10}\n",
        );
        sc.pods.push(PodDef {
            name: "kv-main".into(),
            namespace: "default".into(),
            labels: [("app".to_string(), "kv".to_string())].into(),
            hostname: Some("main".into()),
            subdomain: Some("kv".into()),
            ip: u32::from(ip("10.244.9.9")),
            ready: true,
            ports: vec![6379],
        });
        sc.clients[0].target.host = "main.kv".into();
        let r = run(&sc).2;
        assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
        assert_eq!(
            r.skew.per_identity.get("kv-main"),
            Some(&r.totals.outcomes.ok)
        );
    }
}

/// Pod IP reuse (reference/dns.md §5, IPAM): with reuse, a client holding a
/// stale address can reach a *different* pod.
mod ip_reuse {
    use sim_core::scenario::IpReuse;
    use sim_core::time::SimDuration;

    use super::*;

    /// `web` (2 pods, port 80) behind `nginx`; `db` (1 pod, port 80) behind
    /// `dbs`. web is scaled to 1 at 10 s (web-1 gone at 14 s, its IP
    /// released); db is scaled to 2 at 15 s (db-1 created then, listening at
    /// 20 s). A JVM-style client of nginx keeps web-1's old address 60 s.
    fn scenario(reuse: IpReuse) -> Scenario {
        let mut sc = parse(
            "name: t\nseed: 5\nduration: 40s\n\
             cluster: {unassigned_ip: timeout}\n\
             services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n  \
             - {name: dbs, clusterIP: None, selector: {app: db}, ports: [80]}\n\
             statefulsets:\n  - {name: web, service: nginx, replicas: 2, start_ready: true, \
             lifecycle: {startup: 5s, drain: 3s, teardown: 1s}}\n  \
             - {name: db, service: dbs, replicas: 1, start_ready: true, lifecycle: {startup: 5s}}\n\
             clients:\n  - {name: app, count: 2, target: 'nginx:80', rate: 20, balancer: round-robin, \
             resolver: {cache: fixed(60s)}, connect_timeout: 1s}\n\
             events:\n  - {at: 10s, scale: {statefulset: web, replicas: 1}}\n  \
             - {at: 15s, scale: {statefulset: db, replicas: 2}}\n",
        );
        sc.cluster.ipam.reuse = reuse;
        sc
    }

    /// Outcomes of attempts to web-1's old address after `from` seconds.
    fn to_old_web1(reuse: IpReuse, from: f64) -> Vec<Outcome> {
        let sc = scenario(reuse);
        let (out, a, _) = run(&sc);
        let web1 = out
            .cluster
            .pods
            .iter()
            .find(|p| p.ordinal() == Some((0, 1)))
            .unwrap()
            .ip;
        a.iter()
            .filter(|x| x.at > s(from) && x.dialled.is_some_and(|d| d.ip == web1))
            .map(|x| x.outcome)
            .collect()
    }

    #[test]
    fn immediate_reuse_sends_stale_clients_to_the_wrong_backend() {
        // db-1 takes web-1's address at 15 s: refused while it starts, then
        // it answers on port 80 but is not nginx's: wrong_backend.
        assert!(all(
            &to_old_web1(IpReuse::Immediate, 20.1),
            Outcome::WrongBackend
        ));
        let starting = to_old_web1(IpReuse::Immediate, 15.1);
        assert!(starting.contains(&Outcome::Refused));
    }

    #[test]
    fn a_cooldown_or_never_keeps_the_old_address_dark() {
        // 30 s cooldown: at 15 s web-1's address is too fresh, db-1 gets a new one.
        for reuse in [
            IpReuse::Never,
            IpReuse::Cooldown(SimDuration::from_secs(30)),
        ] {
            assert!(all(&to_old_web1(reuse, 14.1), Outcome::Timeout), "{reuse}");
        }
    }

    #[test]
    fn host_local_reuses_an_address_only_after_the_range_cycles() {
        // One node, /24 range .2-.254: the next allocation after web-1's
        // release is the address after the last reserved, not web-1's.
        assert!(all(
            &to_old_web1(IpReuse::HostLocal, 14.1),
            Outcome::Timeout
        ));
        let sc = scenario(IpReuse::HostLocal);
        let (out, _, _) = run(&sc);
        let ips: Vec<String> = out
            .cluster
            .pods
            .iter()
            .map(|p| std::net::Ipv4Addr::from(p.ip).to_string())
            .collect();
        assert_eq!(
            ips,
            ["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5"]
        );
    }
}

#[test]
fn kube_proxy_falls_back_to_a_terminating_pod_that_still_serves() {
    // One pod behind a ClusterIP, deleted at 10 s (drain 3 s, teardown 1 s,
    // propagation 1 s). From 11 s it has no ready endpoint, but kube-proxy
    // still sends new connections to the terminating pod while it serves;
    // after it exits (13 s) they are refused, and from 14 s kube-proxy
    // REJECTs until the replacement is in its view (20 s).
    let sc = parse(
        "name: t\nduration: 30s\ncluster: {propagation: 1s}\n\
         services:\n  - {name: api, selector: {app: web}, ports: [80]}\n\
         statefulsets:\n  - {name: web, service: api, replicas: 1, start_ready: true, \
         lifecycle: {startup: 5s, drain: 3s, teardown: 1s}}\n\
         clients:\n  - {name: app, count: 2, target: 'api:80', rate: 20}\n\
         events:\n  - {at: 10s, delete_pod: web-0}\n",
    );
    let (_, a, _) = run(&sc);
    assert!(all(&outcomes_between(&a, 0, 0.0, 13.0), Outcome::Ok));
    assert!(all(&outcomes_between(&a, 0, 13.0, 20.0), Outcome::Refused));
    assert!(all(&outcomes_between(&a, 0, 20.0, 30.0), Outcome::Ok));
}

/// Collects the lifecycle events of a run (`--events-out`'s lines).
#[derive(Default)]
struct Events(Vec<sim_core::Lifecycle>);
impl Observer for Events {
    const LIFECYCLE: bool = true;
    fn lifecycle(&mut self, e: &sim_core::Lifecycle) {
        self.0.push(e.clone());
    }
}

#[test]
fn lifecycle_events_tell_a_deleted_pods_story_in_order() {
    let sc = parse(&headless(
        1,
        "",
        "  - {name: app, target: 'nginx:80', rate: 1}\n",
        "events:\n  - {at: 10s, delete_pod: web-0}\n",
    ));
    let mut ev = Events::default();
    world::run_observed(&sc, 1, SimDuration::from_secs(10), &mut ev).unwrap();
    let story: Vec<(f64, &str)> = ev.0.iter().map(|e| (e.t_ns as f64 / 1e9, e.kind)).collect();
    assert_eq!(
        story,
        [
            (0.0, "pod_created"),
            (0.0, "ip_assigned"),
            (0.0, "pod_listening"),
            (0.0, "pod_ready"),
            (10.0, "pod_terminating"),
            (11.0, "endpoints_changed"),
            (11.0, "dns_answer_changed"),
            (13.0, "pod_exited"),
            (14.0, "pod_gone"),
            (14.0, "ip_released"),
            (14.0, "pod_created"),
            (14.0, "ip_assigned"),
            // The slice's `serving` condition flipped at exit (13 s): seen at 14 s.
            (14.0, "endpoints_changed"),
            (19.0, "pod_listening"),
            (19.0, "pod_ready"),
            (20.0, "endpoints_changed"),
            (20.0, "dns_answer_changed"),
        ]
    );
    assert_eq!(ev.0[5].endpoints.as_deref(), Some(&[][..]));
    assert_eq!(ev.0[15].endpoints.as_ref().map(Vec::len), Some(1));
}

#[test]
fn ip_reuse_policies_are_spelt_as_the_readme_says() {
    use sim_core::scenario::IpReuse;
    let reuse = |text: &str| {
        scenario::parse(&format!(
            "name: t\nduration: 1s\ncluster: {{ipam: {{reuse: '{text}'}}}}\n"
        ))
        .map(|sc| sc.cluster.ipam.reuse)
    };
    assert_eq!(reuse("never"), Ok(IpReuse::Never));
    assert_eq!(reuse("host-local"), Ok(IpReuse::HostLocal));
    assert_eq!(reuse("immediate"), Ok(IpReuse::Immediate));
    assert_eq!(
        reuse("cooldown"),
        Ok(IpReuse::Cooldown(SimDuration::from_secs(30)))
    );
    assert_eq!(
        reuse("cooldown(10s)"),
        Ok(IpReuse::Cooldown(SimDuration::from_secs(10)))
    );
    let err = reuse("hostlocal").unwrap_err();
    assert_eq!(err.hint.as_deref(), Some("did you mean `host-local`?"));
}

#[test]
fn before_coredns_syncs_nxdomain_is_servfail_which_stops_musl_but_not_glibc() {
    // A client in namespace `other` asks for `nginx.default`: its first
    // search name, `nginx.default.other.svc.cluster.local.`, is NXDOMAIN --
    // SERVFAIL until CoreDNS has synced (10 s). glibc walks on to
    // `nginx.default.svc.cluster.local.`; musl gives up (EAI_AGAIN).
    let yaml = |profile: &str| {
        format!(
            "name: t\nduration: 20s\ndns: {{synced_after: 10s}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 1, start_ready: true}}\n\
             clients:\n  - {{name: app, namespace: other, target: 'nginx.default:80', rate: 10, resolver: {profile}}}\n"
        )
    };
    let (_, glibc, g) = run(&parse(&yaml("glibc")));
    assert!(all(&outcomes_between(&glibc, 0, 0.0, 20.0), Outcome::Ok));
    assert!(g.dns.server_servfail > 0);
    let (_, musl, _) = run(&parse(&yaml("musl")));
    assert!(all(
        &outcomes_between(&musl, 0, 0.0, 10.0),
        Outcome::NoAddress
    ));
    assert!(all(&outcomes_between(&musl, 0, 10.0, 20.0), Outcome::Ok));
}

/// StatefulSet rolling updates (reference/balancing.md §1.4).
mod rollout {
    use super::*;

    /// Deletion times per ordinal of the pods that existed at the rollout.
    fn deleted(strategy: &str) -> Vec<Option<f64>> {
        let sc = parse(&format!(
            "name: t\nduration: 60s\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true, \
             lifecycle: {{startup: 5s, drain: 2s, teardown: 1s}}{strategy}}}\n\
             clients:\n  - {{name: app, target: 'nginx:80', rate: 1}}\n\
             events:\n  - {{at: 10s, rollout_restart: web}}\n"
        ));
        let (out, _, _) = run(&sc);
        (0..3)
            .map(|ord| {
                let first = out
                    .cluster
                    .pods
                    .iter()
                    .find(|p| p.ordinal() == Some((0, ord)))
                    .unwrap();
                first.deleted_at.map(|t| t.as_ns() as f64 / 1e9)
            })
            .collect()
    }

    #[test]
    fn rolling_update_replaces_from_the_highest_ordinal_one_healthy_pod_at_a_time() {
        // web-2 at 10 s, gone 13 s, new one Ready 18 s; then web-1 at 18 s
        // (gone 21, Ready 26); then web-0 at 26 s.
        assert_eq!(deleted(""), [Some(26.0), Some(18.0), Some(10.0)]);
    }

    #[test]
    fn min_ready_seconds_holds_each_step_until_the_new_pod_is_available() {
        // web-2 at 10 s, new one Ready at 18 s, available at 28 s: web-1 then;
        // its successor is Ready at 36 s, available at 46 s: web-0 then.
        assert_eq!(
            deleted(", minReadySeconds: 10"),
            [Some(46.0), Some(28.0), Some(10.0)]
        );
    }

    #[test]
    fn a_partition_keeps_the_lower_ordinals_and_on_delete_replaces_nothing() {
        let partitioned = ", updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}";
        assert_eq!(deleted(partitioned), [None, Some(18.0), Some(10.0)]);
        assert_eq!(
            deleted(", updateStrategy: {type: OnDelete}"),
            [None, None, None]
        );
    }
}

/// Deployments (reference/balancing.md §2).
mod deployments {
    use super::*;

    fn scenario(extra: &str, events: &str) -> Scenario {
        parse(&format!(
            "name: t\nduration: 80s\n\
             services:\n  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}\n\
             deployments:\n  - {{name: api, replicas: 4, start_ready: true, ports: [8080], \
             lifecycle: {{startup: 5s, drain: 2s, teardown: 1s}}{extra}}}\n\
             clients:\n  - {{name: app, target: 'api:8080', rate: 5}}\n{events}"
        ))
    }

    /// Pods not deleted, at instant `t`, and how many of them are available.
    fn census(out: &RunOutput, t: f64) -> (usize, usize) {
        let at = s(t);
        let live: Vec<_> = out
            .cluster
            .pods
            .iter()
            .filter(|p| p.created_at <= at && p.deleted_at.is_none_or(|d| d > at))
            .collect();
        let ready = live
            .iter()
            .filter(|p| p.ready_at.is_some_and(|r| r <= at))
            .count();
        (live.len(), ready)
    }

    #[test]
    fn a_deleted_pod_is_replaced_at_once_while_it_still_terminates() {
        let sc = scenario(", churn: {lifetime: fixed(20s)}", "");
        let (out, _, _) = run(&sc);
        let first = &out.cluster.pods[0];
        assert_eq!(first.deleted_at, Some(s(20.0)));
        // Its replacement is created at the same instant, not when it is gone.
        assert!(out.cluster.pods.iter().any(|p| p.created_at == s(20.0)));
        assert_eq!(first.gone_at, Some(s(23.0)));
    }

    #[test]
    fn a_rolling_update_stays_within_its_surge_and_unavailability_budgets() {
        // replicas 4, maxSurge 25% -> 1 (rounded up), maxUnavailable 25% -> 1
        // (rounded down): at most 5 pods, at least 3 available, throughout.
        let sc = scenario("", "events:\n  - {at: 10s, rollout_restart: api}\n");
        let (out, _, _) = run(&sc);
        for tenth in 0..800 {
            let (live, ready) = census(&out, tenth as f64 / 10.0);
            assert!(live <= 5, "{live} pods at {}", tenth as f64 / 10.0);
            assert!(ready >= 3, "{ready} ready at {}", tenth as f64 / 10.0);
        }
        // Every original pod was replaced, one new pod per old one.
        assert!(out.cluster.pods[..4].iter().all(|p| p.deleted_at.is_some()));
        assert_eq!(out.cluster.pods.len(), 8);
    }

    #[test]
    fn recreate_deletes_every_old_pod_first_and_creates_after_they_are_gone() {
        let sc = scenario(
            ", strategy: {type: Recreate}",
            "events:\n  - {at: 10s, rollout_restart: api}\n",
        );
        let (out, _, r) = run(&sc);
        assert!(
            out.cluster.pods[..4]
                .iter()
                .all(|p| p.deleted_at == Some(s(10.0)))
        );
        assert!(
            out.cluster.pods[4..]
                .iter()
                .all(|p| p.created_at == s(13.0))
        );
        // Nothing is in DNS between 11 s and 19 s: clients get no address.
        assert!(r.totals.outcomes.no_address > 0);
    }
}

/// Nodes failing and being drained (reference/balancing.md §1.3, §2).
mod nodes {
    use super::*;

    fn scenario(events: &str) -> Scenario {
        parse(&format!(
            "name: t\nduration: 400s\ncluster: {{nodes: 2, propagation: 1s, unassigned_ip: timeout}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n  \
             - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 2, start_ready: true, \
             lifecycle: {{startup: 5s, drain: 2s, teardown: 1s}}}}\n\
             deployments:\n  - {{name: api, replicas: 2, start_ready: true, ports: [80], \
             lifecycle: {{startup: 5s, drain: 2s, teardown: 1s}}}}\n\
             clients:\n  - {{name: app, target: 'nginx:80', rate: 10, balancer: round-robin, connect_timeout: 1s}}\n\
             events:\n{events}"
        ))
    }

    #[test]
    fn a_failed_nodes_pods_go_dark_then_leave_dns_and_only_deployment_pods_are_replaced() {
        // Placement: web-0 node-0, web-1 node-1, api-a node-0, api-b node-1.
        let sc = scenario("  - {at: 10s, fail_node: node-1}\n");
        let (out, a, _) = run(&sc);
        let web1 = &out.cluster.pods[1];
        assert_eq!((web1.ordinal(), web1.node), (Some((0, 1)), 1));
        // Dark from 10 s: dials to it time out; DNS still lists it until the
        // node controller marks it not Ready (50 s) plus propagation.
        let dark: Vec<_> = a
            .iter()
            .filter(|x| {
                x.at > s(10.0) && x.at < s(50.0) && x.dialled.is_some_and(|d| d.ip == web1.ip)
            })
            .map(|x| x.outcome)
            .collect();
        assert!(all(&dark, Outcome::Timeout), "{dark:?}");
        assert!(all(&outcomes_between(&a, 0, 52.0, 400.0), Outcome::Ok));
        // Evicted at 350 s: it stays Terminating, so the StatefulSet never
        // recreates web-1; the Deployment replaces its pod at once.
        assert_eq!(web1.deleted_at, Some(s(350.0)));
        assert_eq!(web1.gone_at, None);
        assert!(
            !out.cluster
                .pods
                .iter()
                .any(|p| p.ordinal() == Some((0, 1)) && p.created_at > s(0.0))
        );
        let replaced: Vec<_> = out
            .cluster
            .pods
            .iter()
            .filter(|p| p.created_at == s(350.0))
            .collect();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].node, 0, "not on the failed node");
    }

    #[test]
    fn a_drained_nodes_pods_terminate_normally_and_come_back_elsewhere() {
        let sc = scenario("  - {at: 10s, drain_node: node-1}\n");
        let (out, _, r) = run(&sc);
        assert_eq!(out.cluster.pods[1].gone_at, Some(s(13.0)));
        let later: Vec<_> = out
            .cluster
            .pods
            .iter()
            .filter(|p| p.created_at > s(0.0))
            .collect();
        assert_eq!(later.len(), 2, "web-1 and the api pod are recreated");
        assert!(
            later.iter().all(|p| p.node == 0),
            "never on the cordoned node"
        );
        assert_eq!(r.totals.outcomes.timeout, 0);
    }
}

/// kube-proxy modes and Service traffic settings (reference/balancing.md §5).
mod kube_proxy {
    use super::*;

    fn per_identity(cluster: &str, service: &str, clients: u32) -> Vec<u64> {
        let sc = parse(&format!(
            "name: t\nseed: 4\nduration: 30s\ncluster: {{nodes: 2{cluster}}}\n\
             services:\n  - {{name: api, selector: {{app: web}}, ports: [80]{service}}}\n\
             statefulsets:\n  - {{name: web, service: api, replicas: 4, start_ready: true}}\n\
             clients:\n  - {{name: app, count: {clients}, target: 'api:80', rate: 20}}\n"
        ));
        run(&sc).2.skew.per_identity.values().copied().collect()
    }

    #[test]
    fn ipvs_round_robin_cycles_the_endpoints_per_node() {
        // One client on node 0: its node's cursor visits web-0..web-3 in turn.
        let counts = per_identity(", kube_proxy: ipvs", "", 1);
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(hi - lo <= 1, "{counts:?}");
    }

    #[test]
    fn ipvs_source_hashing_and_client_ip_affinity_pin_a_client_to_one_endpoint() {
        for (cluster, service) in [
            (", kube_proxy: 'ipvs(sh)'", ""),
            ("", ", sessionAffinity: ClientIP"),
        ] {
            let counts = per_identity(cluster, service, 1);
            assert_eq!(
                counts.iter().filter(|&&n| n > 0).count(),
                1,
                "{cluster}{service}: {counts:?}"
            );
        }
        // iptables without affinity spreads a single client's connections.
        assert!(per_identity("", "", 1).iter().all(|&n| n > 0));
    }

    #[test]
    fn internal_traffic_policy_local_keeps_connections_on_the_clients_node() {
        // Pods alternate nodes: web-0, web-2 on node 0; web-1, web-3 on node 1.
        // One client, on node 0.
        let counts = per_identity("", ", internalTrafficPolicy: Local", 1);
        assert!(counts[0] > 0 && counts[2] > 0, "{counts:?}");
        assert_eq!((counts[1], counts[3]), (0, 0), "{counts:?}");
    }
}

#[test]
fn the_grace_period_cuts_a_long_drain_short() {
    // drain 60 s, terminationGracePeriodSeconds 10: killed at 10 s.
    for (extra, exited) in [("", 13.0), (", terminationGracePeriodSeconds: 10", 20.0)] {
        let sc = parse(&format!(
            "name: t\nduration: 80s\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 1, start_ready: true, \
             lifecycle: {{drain: {}}}{extra}}}\n\
             clients:\n  - {{name: app, target: 'nginx:80', rate: 1}}\n\
             events:\n  - {{at: 10s, delete_pod: web-0}}\n",
            if extra.is_empty() { "3s" } else { "60s" }
        ));
        let (out, _, _) = run(&sc);
        assert_eq!(out.cluster.pods[0].exited_at, Some(s(exited)), "{extra}");
    }
}

/// A new image that never becomes Ready: the rollout stalls where the
/// controller's rules make it stall (reference/balancing.md §1.4, §2).
#[test]
fn a_broken_image_stalls_a_statefulset_after_one_pod_and_a_deployment_within_its_budget() {
    let sc = parse(
        "name: t\nduration: 120s\n\
         services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n  \
         - {name: api, clusterIP: None, selector: {app: api}, ports: [80]}\n\
         statefulsets:\n  - {name: web, service: nginx, replicas: 3, start_ready: true, \
         lifecycle: {startup: 5s, drain: 2s, teardown: 1s}}\n\
         deployments:\n  - {name: api, replicas: 4, start_ready: true, ports: [80], \
         lifecycle: {startup: 5s, drain: 2s, teardown: 1s}}\n\
         clients:\n  - {name: app, target: 'nginx:80', rate: 1}\n\
         events:\n  - {at: 10s, update_image: {statefulset: web, broken: true}}\n  \
         - {at: 10s, update_image: {deployment: api, broken: true}}\n",
    );
    let (out, _, _) = run(&sc);
    let c = &out.cluster;
    // StatefulSet: web-2 replaced by a pod that never starts; web-1 and web-0 untouched.
    let web = |ord: u32| {
        c.pods
            .iter()
            .filter(|p| p.ordinal() == Some((0, ord)))
            .collect::<Vec<_>>()
    };
    assert_eq!(web(2).len(), 2);
    assert!(web(2)[1].ready_at.is_none());
    assert!(
        web(1)
            .iter()
            .chain(web(0).iter())
            .all(|p| p.deleted_at.is_none())
    );
    // Deployment (4 replicas, 25%/25%: surge 1, unavailable 1): it ends
    // with 3 old pods available and 2 new ones that never start.
    let api: Vec<_> = c.deps[0]
        .pods
        .iter()
        .map(|&p| &c.pods[p as usize])
        .collect();
    let live_old = api
        .iter()
        .filter(|p| p.revision == 0 && p.deleted_at.is_none())
        .count();
    let live_new = api
        .iter()
        .filter(|p| p.revision == 1 && p.deleted_at.is_none())
        .count();
    assert_eq!((live_old, live_new), (3, 2));
    assert!(
        api.iter()
            .filter(|p| p.revision == 1)
            .all(|p| p.ready_at.is_none())
    );
}

#[test]
fn a_crashing_container_refuses_on_its_own_ip_and_comes_back_after_the_kubelet_back_off() {
    // web-0 crashes at 10 s: the kubelet restarts it after 10 s, then it
    // starts in 5 s (Ready at 25 s). In a loop (runs 5 s each time) the
    // back-off doubles: up at 25 s, crash 30 s, up at 55 s (20 s + 5 s),
    // crash 60 s, up at 105 s (40 s + 5 s).
    let yaml = |crash: &str| {
        headless(
            1,
            "",
            "  - {name: app, target: 'nginx:80', rate: 20, resolver: {cache: fixed(300s)}, connect_timeout: 1s}\n",
            &format!("events:\n  - {{at: 10s, crash_pod: {crash}}}\n"),
        )
        .replace("duration: 40s", "duration: 120s")
    };
    let once = parse(&yaml("web-0"));
    let (out, a, _) = run(&once);
    // The cached address keeps pointing at the same pod: refused, not timeouts.
    assert!(all(&outcomes_between(&a, 0, 10.0, 25.0), Outcome::Refused));
    assert!(all(&outcomes_between(&a, 0, 25.0, 120.0), Outcome::Ok));
    assert_eq!(
        out.cluster.pods.len(),
        1,
        "no replacement: the same pod restarts"
    );
    assert_eq!(out.cluster.pods[0].restarts, 1);

    let looping = parse(&yaml("{pod: web-0, loop: 5s}"));
    let (out, a, _) = run(&looping);
    let ups = [(25.0, 30.0), (55.0, 60.0), (105.0, 110.0)];
    for (up, down) in ups {
        assert!(
            all(&outcomes_between(&a, 0, up, down), Outcome::Ok),
            "up {up}"
        );
    }
    assert!(all(&outcomes_between(&a, 0, 60.0, 105.0), Outcome::Refused));
    assert_eq!(out.cluster.pods[0].restarts, 4);
}

#[test]
fn ordinals_start_numbers_the_pods_from_there() {
    let yaml = |event: &str| {
        format!(
            "name: t\nduration: 30s\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 2, start_ready: true, ordinals: {{start: 1}}}}\n\
             clients:\n  - {{name: app, target: 'web-2.nginx:80', rate: 5}}\n\
             events:\n  - {{at: 10s, delete_pod: {event}}}\n"
        )
    };
    let sc = parse(&yaml("web-1"));
    let (_, _, r) = run(&sc);
    assert_eq!(
        r.skew.per_identity.keys().collect::<Vec<_>>(),
        ["web-1", "web-2"]
    );
    assert_eq!(r.totals.outcomes.ok, r.totals.attempts);
    assert_eq!(r.pods.deleted, 1);
    // `web-0` is below the start: not a pod of the set.
    assert!(scenario::parse(&yaml("web-0")).is_err());
}

/// `pod_traces`: a recorded pod watch replaces the controllers. Each change
/// lands at the time the object records for it (sim-core/src/scenario/trace.rs).
mod trace_replay {
    use super::*;

    /// One watch line for pod `name` (uid `uid`, IP `ip`), created at
    /// second `created`, Ready since `ready`, with `extra` metadata fields.
    fn pod(name: &str, uid: &str, ip: &str, created: u32, ready: u32, extra: &str) -> String {
        let t = |s: u32| format!("2026-11-20T03:00:{s:02}Z");
        format!(
            r#"{{"kind": "Pod", "metadata": {{"name": "{name}", "namespace": "default", "uid": "{uid}",
 "labels": {{"app": "web"}}, "creationTimestamp": "{c}"{extra}}},
 "spec": {{"containers": [{{"name": "c", "ports": [{{"containerPort": 80}}]}}]}},
 "status": {{"podIP": "{ip}", "conditions": [{{"type": "Ready", "status": "True", "lastTransitionTime": "{r}"}}]}}}}
"#,
            c = t(created),
            r = t(ready),
        )
    }

    /// web-0 and web-1 from 0 s (Ready at 2 s); web-1 is deleted at 10 s
    /// with a 5 s grace period, its process exits at 14 s, it is gone at
    /// 15 s, and its replacement (same name, new uid and IP) is Ready at 20 s.
    fn trace() -> String {
        let deleting =
            r#", "deletionTimestamp": "2026-11-20T03:00:15Z", "deletionGracePeriodSeconds": 5"#;
        let mut t = pod("web-0", "a", "10.244.1.10", 0, 2, "");
        t += &pod("web-1", "b", "10.244.1.11", 0, 2, "");
        t += &pod("web-1", "b", "10.244.1.11", 0, 2, deleting);
        // The exit: every container terminated at 14 s.
        let exited = pod("web-1", "b", "10.244.1.11", 0, 2, deleting).replace(
            r#""conditions""#,
            r#""containerStatuses": [{"name": "c", "state": {"terminated": {"finishedAt": "2026-11-20T03:00:14Z"}}}], "conditions""#,
        );
        t += &exited;
        t += &format!(
            "{{\"type\": \"DELETED\", \"object\": {}}}\n",
            exited.trim_end()
        )
        .replace("03:00:14Z\"}}}]", "03:00:15Z\"}}}]");
        t += &pod("web-1", "c", "10.244.2.20", 16, 20, "");
        t
    }

    fn scenario(cache: &str) -> Scenario {
        let src = format!(
            "name: t\nseed: 3\nduration: 40s\n\
             cluster: {{propagation: 1s, unassigned_ip: timeout}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             pod_traces: [night.json]\n\
             clients:\n  - {{name: app, count: 2, target: 'nginx:80', rate: 20, balancer: round-robin, \
             resolver: {{cache: {cache}}}, connect_timeout: 1s}}\n"
        );
        let trace = trace();
        scenario::parse_with(&src, &|name| {
            if name == "night.json" {
                Ok(trace.clone())
            } else {
                Err("no such file".into())
            }
        })
        .unwrap_or_else(|d| panic!("{}", d.render("t.yaml", &src)))
    }

    #[test]
    fn a_traced_deletion_drains_leaves_dns_and_its_replacement_keeps_the_name() {
        let sc = scenario("none");
        assert_eq!(sc.traced_pods.len(), 3, "web-0, web-1 (b), web-1 (c)");
        let (_, attempts, report) = run(&sc);
        let old = "10.244.1.11".parse::<std::net::Ipv4Addr>().unwrap();
        let to_old = |from: f64, to: f64| {
            attempts
                .iter()
                .filter(|a| a.at > s(from) && a.at < s(to))
                .filter(|a| a.dialled.map(|d| d.ip) == Some(u32::from(old)))
                .count()
        };
        // Not Ready before 2 s: nothing to resolve.
        assert!(all(
            &outcomes_between(&attempts, 0, 0.0, 1.9),
            Outcome::NoAddress
        ));
        // Until the deletion web-1 takes its share; an uncached client stops
        // dialling it once the deletion has propagated (10 s + 1 s).
        assert!(to_old(3.0, 10.0) > 50);
        assert_eq!(to_old(11.1, 40.0), 0);
        // web-0 alone serves 11-20 s, then the replacement joins.
        assert!(all(
            &outcomes_between(&attempts, 0, 11.1, 40.0),
            Outcome::Ok
        ));
        assert_eq!(report.pods.created, 3);
        assert_eq!(
            report.skew.per_identity.keys().collect::<Vec<_>>(),
            ["web-0", "web-1"],
            "a replacement with the same name is the same identity"
        );
    }

    /// A trace and a declared StatefulSet share the pod CIDR: ksim never
    /// hands a declared pod an address the trace assigns, even one it would
    /// otherwise give first (10.244.0.1).
    #[test]
    fn declared_pods_never_take_an_address_the_trace_uses() {
        let src = "name: t\nduration: 10s\n\
                   services:\n  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}\n\
                   statefulsets:\n  - {name: db, service: nginx, replicas: 3, start_ready: true}\n\
                   pod_traces: [t.json]\n";
        let trace =
            pod("web-0", "a", "10.244.0.1", 0, 0, "") + &pod("web-9", "z", "10.244.0.3", 5, 5, "");
        let sc = scenario::parse_with(src, &|_| Ok(trace.clone())).unwrap();
        let out = world::run(&sc, sc.seed, SimDuration::from_secs(10)).unwrap();
        let mut ips: Vec<u32> = out.cluster.pods.iter().map(|p| p.ip).collect();
        assert_eq!(ips.len(), 5);
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), 5, "five pods, five addresses");
    }

    #[test]
    fn a_cached_client_serves_from_the_draining_pod_then_times_out_after_the_recorded_exit() {
        let (_, attempts, report) = run(&scenario("fixed(30s)"));
        let old = u32::from("10.244.1.11".parse::<std::net::Ipv4Addr>().unwrap());
        let to_old = |from: f64, to: f64| -> Vec<Outcome> {
            attempts
                .iter()
                .filter(|a| a.at > s(from) && a.at < s(to))
                .filter(|a| a.dialled.map(|d| d.ip) == Some(old))
                .map(|a| a.outcome)
                .collect()
        };
        // Deleted at 10 s but still running: it serves its drain.
        assert!(all(&to_old(10.0, 13.9), Outcome::Ok));
        // Exited at 14 s: the sandbox still holds the address and refuses;
        // gone at 15 s, the address is free and the cached address times out.
        assert!(all(&to_old(14.05, 14.95), Outcome::Refused));
        assert!(all(&to_old(15.05, 30.0), Outcome::Timeout));
        assert!(report.totals.stale_ip_errors > 0);
    }
}

mod probes {
    use super::*;

    /// Three pods (Ready at 0) behind headless `nginx`; web-1 hangs at 20 s.
    /// Clients resolve every request and time out after 1 s.
    fn hung(probes: &str) -> (Vec<Attempt>, Report) {
        let sc = parse(&format!(
            "name: t\nseed: 3\nduration: 120s\n\
             cluster: {{propagation: 1s}}\n\
             services:\n  - {{name: nginx, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: web, service: nginx, replicas: 3, start_ready: true, \
             podManagementPolicy: Parallel, lifecycle: {{startup: 5s}}{probes}}}\n\
             clients:\n  - {{name: app, count: 4, target: 'nginx:80', rate: 20, balancer: random, \
             request_timeout: 1s, resolver: {{cache: none}}}}\n\
             events:\n  - {{at: 20s, hang_pod: web-1}}\n"
        ));
        let (_, attempts, r) = run(&sc);
        (attempts, r)
    }

    fn timeouts(attempts: &[Attempt]) -> Vec<f64> {
        attempts
            .iter()
            .filter(|a| a.outcome == Outcome::RequestTimeout)
            .map(|a| a.at.as_ns() as f64 / 1e9)
            .collect()
    }

    #[test]
    fn a_hung_pod_without_probes_stays_an_endpoint_and_eats_a_third_of_requests() {
        let (attempts, _) = hung("");
        let t = timeouts(&attempts);
        assert!(t.iter().all(|&x| x >= 20.0));
        assert!(t.iter().any(|&x| x > 110.0));
        let late = outcomes_between(&attempts, 0, 60.0, 120.0);
        let share = late
            .iter()
            .filter(|o| **o == Outcome::RequestTimeout)
            .count() as f64
            / late.len() as f64;
        assert!((share - 1.0 / 3.0).abs() < 0.05, "{share}");
    }

    #[test]
    fn a_readiness_probe_takes_a_hung_pod_out_after_its_failure_threshold() {
        // Probes every 10 s from Ready at 0: the first one after the hang is
        // at 20 s; the third failure times out at 40 s + 1 s; the endpoint
        // change reaches DNS 1 s later.
        let (attempts, _) =
            hung(", readinessProbe: {periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3}");
        let t = timeouts(&attempts);
        assert!(!t.is_empty());
        assert!(t.iter().all(|&x| (20.0..42.0).contains(&x)), "{t:?}");
        assert!(t.iter().any(|&x| x > 41.0));
        assert!(all(
            &outcomes_between(&attempts, 0, 42.0, 120.0),
            Outcome::Ok
        ));
    }

    #[test]
    fn a_liveness_probe_restarts_a_hung_container_after_the_back_off() {
        // Liveness fails at 41 s; the kubelet restarts the container after
        // its 10 s back-off plus the 5 s startup: Ready again at 56 s. With
        // no readiness probe the pod stayed an endpoint, refusing from 41 s.
        let (attempts, r) =
            hung(", livenessProbe: {periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3}");
        let t = timeouts(&attempts);
        assert!(t.iter().all(|&x| (20.0..41.0).contains(&x)), "{t:?}");
        let refused: Vec<f64> = attempts
            .iter()
            .filter(|a| a.outcome == Outcome::Refused)
            .map(|a| a.at.as_ns() as f64 / 1e9)
            .collect();
        assert!(!refused.is_empty());
        assert!(
            refused.iter().all(|&x| (41.0..56.0).contains(&x)),
            "{refused:?}"
        );
        assert!(all(
            &outcomes_between(&attempts, 0, 56.5, 120.0),
            Outcome::Ok
        ));
        assert!(r.skew.per_identity["web-1"] > 0);
    }
}

mod scale_down {
    use super::*;

    /// Pods left after a Deployment of `start` pods on 3 nodes (placed
    /// round robin) is scaled to `end` at `down_at`: (node, created at).
    fn survivors(start: u32, events: &str) -> Vec<(u32, f64)> {
        let sc = parse(&format!(
            "name: t\nduration: 120s\n\
             cluster: {{nodes: 3}}\n\
             services:\n  - {{name: api, clusterIP: None, selector: {{app: api}}, ports: [8080]}}\n\
             deployments:\n  - {{name: api, replicas: {start}, start_ready: true, ports: [8080], \
             lifecycle: {{startup: 5s}}}}\n\
             events:\n{events}"
        ));
        let (out, _, _) = run(&sc);
        out.cluster
            .pods
            .iter()
            .filter(|p| p.deleted_at.is_none())
            .map(|p| (p.node, p.created_at.as_ns() as f64 / 1e9))
            .collect()
    }

    #[test]
    fn a_replicaset_removes_doubled_up_pods_first() {
        // Four pods on three nodes: node 0 holds two. Scaled to two, the
        // controller deletes both pods of node 0 (not the two newest).
        let left = survivors(4, "  - {at: 100s, scale: {deployment: api, replicas: 2}}\n");
        let mut nodes: Vec<u32> = left.iter().map(|(n, _)| *n).collect();
        nodes.sort_unstable();
        assert_eq!(nodes, vec![1, 2], "{left:?}");
    }

    #[test]
    fn then_the_pod_ready_for_less_time_on_a_log_scale() {
        // Scaled 3 -> 6 at 10 s (new pods Ready at 15 s: every node holds
        // two), back to 3 at 16 s: the new pods have been Ready 1 s, the old
        // ones 16 s, so the new ones go.
        let left = survivors(
            3,
            "  - {at: 10s, scale: {deployment: api, replicas: 6}}\n  - {at: 16s, scale: {deployment: api, replicas: 3}}\n",
        );
        assert_eq!(left.len(), 3);
        assert!(left.iter().all(|&(_, created)| created == 0.0), "{left:?}");
    }
}

mod zones {
    use super::*;

    fn run_zones(extra: &str) -> Report {
        let sc = parse(&format!(
            "name: t\nseed: 5\nduration: 30s\n\
             cluster: {{nodes: 3, zones: 3}}\n\
             services:\n  - {{name: api, selector: {{app: api}}, ports: [{{port: 80, targetPort: 8080}}]{extra}}}\n\
             deployments:\n  - {{name: api, replicas: 6, start_ready: true, ports: [8080]}}\n\
             clients:\n  - {{name: app, count: 6, target: 'api:80', rate: 20}}\n"
        ));
        run(&sc).2
    }

    #[test]
    fn prefer_close_keeps_connections_in_the_clients_zone() {
        // Two pods and two clients per zone. kube-proxy spreads connections
        // over all six pods: two thirds leave the zone.
        let spread = run_zones("");
        let share = spread.totals.cross_zone_ok as f64 / spread.totals.outcomes.ok as f64;
        assert!((share - 2.0 / 3.0).abs() < 0.03, "{share}");
        // With trafficDistribution: PreferClose none does.
        let close = run_zones(", trafficDistribution: PreferClose");
        assert!(close.totals.outcomes.ok > 3000);
        assert_eq!(close.totals.cross_zone_ok, 0);
    }
}

mod external_traffic {
    use super::*;

    /// Two pods (nodes 0 and 1 of 3) behind Service `api` of `ty` with
    /// `policy`; three outside clients, one per node, entering by `entry`.
    fn outcomes(ty: &str, policy: &str, entry: &str) -> Vec<(u32, Outcome)> {
        let sc = parse(&format!(
            "name: t\nseed: 2\nduration: 10s\n\
             cluster: {{nodes: 3}}\n\
             services:\n  - {{name: api, type: {ty}, externalTrafficPolicy: {policy}, selector: {{app: api}}, \
             ports: [{{port: 80, targetPort: 8080}}]}}\n\
             deployments:\n  - {{name: api, replicas: 2, start_ready: true, ports: [8080]}}\n\
             clients:\n  - {{name: users, count: 3, target: 'api:80', rate: 10, entry: {entry}, connect_timeout: 1s}}\n"
        ));
        let (_, attempts, _) = run(&sc);
        attempts.iter().map(|a| (a.client, a.outcome)).collect()
    }

    #[test]
    fn a_node_port_with_local_policy_drops_traffic_at_a_node_without_endpoints() {
        let cluster = outcomes("NodePort", "Cluster", "node_port");
        assert!(cluster.iter().all(|(_, o)| *o == Outcome::Ok));
        // Client 2 enters at node 2, which runs no api pod.
        let local = outcomes("NodePort", "Local", "node_port");
        assert!(
            local
                .iter()
                .filter(|(c, _)| *c == 2)
                .all(|(_, o)| *o == Outcome::Timeout)
        );
        assert!(
            local
                .iter()
                .filter(|(c, _)| *c != 2)
                .all(|(_, o)| *o == Outcome::Ok)
        );
    }

    #[test]
    fn a_load_balancer_health_check_keeps_local_traffic_off_empty_nodes() {
        let local = outcomes("LoadBalancer", "Local", "load_balancer");
        assert!(!local.is_empty());
        assert!(local.iter().all(|(_, o)| *o == Outcome::Ok));
    }
}

#[test]
fn ipvs_least_connections_steers_new_connections_away_from_a_slow_pod() {
    let share_slow = |mode: &str| {
        let sc = parse(&format!(
            "name: t\nseed: 6\nduration: 60s\ncluster: {{kube_proxy: '{mode}'}}\n\
             services:\n  - {{name: api, selector: {{tier: api}}, ports: [80]}}\n\
             statefulsets:\n  \
             - {{name: slow, service: api, replicas: 1, start_ready: true, labels: {{tier: api}}, \
             capacity: {{workers: 100, service_time: constant(2s)}}}}\n  \
             - {{name: fast, service: api, replicas: 1, start_ready: true, labels: {{tier: api}}, \
             capacity: {{workers: 100, service_time: constant(10ms)}}}}\n\
             clients:\n  - {{name: app, count: 4, target: 'api:80', rate: 5}}\n"
        ));
        let r = run(&sc).2;
        let p = &r.skew.per_identity;
        p["slow-0"] as f64 / (p["slow-0"] + p["fast-0"]) as f64
    };
    // iptables picks uniformly: half the connections wait 2 s.
    let uniform = share_slow("iptables");
    assert!((uniform - 0.5).abs() < 0.05, "{uniform}");
    // IPVS lc sees the slow pod's connections pile up and sends new ones to
    // the fast pod: the slow one gets only what arrives while it is idle.
    let lc = share_slow("ipvs(lc)");
    assert!(lc < 0.1, "{lc}");
}

/// `delete_pod` on a Deployment's pod: the ReplicaSet replaces it at once,
/// while the old pod is still Terminating, with a new pod (new name, new
/// IP) — "the replacement will be created immediately (even if the old Pod
/// is still in a Terminating state)" (kubernetes.io Deployment docs;
/// reference/balancing.md §1.3, §2). A StatefulSet waits for the old pod
/// to be gone and reuses its name.
#[test]
fn deleting_a_deployment_pod_replaces_it_at_once_with_a_new_name_and_ip() {
    let first = "api-882e5e0f-00000";
    let sc = parse(&format!(
        "name: t\nduration: 30s\ncluster: {{propagation: 1s}}\n\
         services:\n  - {{name: api, selector: {{app: api}}, ports: [80]}}\n\
         deployments:\n  - {{name: api, replicas: 1, start_ready: true, ports: [80], \
         lifecycle: {{startup: 5s, drain: 3s, teardown: 1s}}}}\n\
         clients:\n  - {{name: app, target: 'api:80', rate: 20}}\n\
         events:\n  - {{at: 10s, delete_pod: {first}}}\n"
    ));
    assert_eq!(sc.deployments[0].pod_name(0, 0), first);
    let mut ev = Events::default();
    world::run_observed(&sc, 1, SimDuration::from_secs(10), &mut ev).unwrap();
    let at = |t: f64| -> Vec<(&str, &str)> {
        ev.0.iter()
            .filter(|e| e.t_ns == s(t).0 && e.kind != "endpoints_changed")
            .filter(|e| e.kind != "dns_answer_changed")
            .map(|e| (e.kind, e.object.as_str()))
            .collect()
    };
    let second = "api-882e5e0f-00001";
    assert_eq!(
        at(10.0),
        [
            ("pod_terminating", first),
            ("pod_created", second),
            ("ip_assigned", second)
        ]
    );
    assert_eq!(at(15.0), [("pod_listening", second), ("pod_ready", second)]);
    let ip = |pod: &str| {
        ev.0.iter()
            .find(|e| e.kind == "ip_assigned" && e.object == pod)
            .and_then(|e| e.ip.clone())
    };
    assert!(ip(first).is_some() && ip(first) != ip(second));

    // Through the ClusterIP: served until the old pod exits (13 s), refused
    // until the replacement is Ready and seen (16 s), then served again.
    let (_, a, _) = run(&sc);
    assert!(all(&outcomes_between(&a, 0, 0.0, 13.0), Outcome::Ok));
    assert!(all(&outcomes_between(&a, 0, 16.5, 30.0), Outcome::Ok));
    assert!(outcomes_between(&a, 0, 13.0, 16.0).contains(&Outcome::Refused));
}

/// `crash_pod` names a Deployment's pod the same way: the container exits
/// and the kubelet restarts it in place (same pod, same IP, no
/// replacement by the ReplicaSet).
#[test]
fn crashing_a_deployment_pod_restarts_it_in_place() {
    let sc = parse(
        "name: t\nduration: 30s\ncluster: {propagation: 1s}\n\
         services:\n  - {name: api, selector: {app: api}, ports: [80]}\n\
         deployments:\n  - {name: api, replicas: 1, start_ready: true, ports: [80], \
         lifecycle: {startup: 2s}}\n\
         clients:\n  - {name: app, target: 'api:80', rate: 20}\n\
         events:\n  - {at: 5s, crash_pod: api-882e5e0f-00000}\n",
    );
    let (out, a, _) = run(&sc);
    assert_eq!(out.cluster.deps[0].pods.len(), 1, "no replacement pod");
    assert!(outcomes_between(&a, 0, 5.0, 6.0).contains(&Outcome::Refused));
    assert!(all(&outcomes_between(&a, 0, 25.0, 30.0), Outcome::Ok));
}
