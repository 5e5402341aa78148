//! NetworkPolicy, end to end: a scenario with policies runs through the
//! public API, and the report shows what each client group met.

use sim_core::scenario::{self, Scenario};

fn parse(yaml: &str) -> Scenario {
    scenario::parse(yaml).unwrap_or_else(|d| panic!("{}", d.render("test.yaml", yaml)))
}

/// A `db` StatefulSet behind a ClusterIP Service and a headless one, two
/// client groups (`api`, `batch`), and `policies` (object list items).
fn scenario(target: &str, policies: &str) -> Scenario {
    parse(&format!(
        "name: t\nseed: 3\nduration: 30s\n\
         services:\n\
         \x20 - {{name: db, selector: {{app: db}}, ports: [5432]}}\n\
         \x20 - {{name: db-pods, clusterIP: None, selector: {{app: db}}, ports: [5432]}}\n\
         statefulsets:\n  - {{name: db, service: db-pods, replicas: 2, start_ready: true}}\n\
         clients:\n\
         \x20 - {{name: api, count: 2, target: \"{target}\", rate: 5, connect_timeout: 2s}}\n\
         \x20 - {{name: batch, count: 2, target: \"{target}\", rate: 5, connect_timeout: 2s, labels: {{app: batch, tier: jobs}}}}\n\
         objects:\n{policies}"
    ))
}

const DENY_ALL_INGRESS: &str = "  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: default-deny-ingress}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
";

const ALLOW_API: &str = "  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: db-from-api}
    spec:
      podSelector: {matchLabels: {app: db}}
      ingress:
        - from: [{podSelector: {matchLabels: {app: api}}}]
          ports: [{port: 5432}]
";

#[test]
fn default_deny_with_one_allow_rule_times_out_the_other_group() {
    for target in ["db:5432", "db-pods:5432"] {
        let sc = scenario(target, &format!("{DENY_ALL_INGRESS}{ALLOW_API}"));
        let report = sim_core::run(&sc, &sim_core::RunOptions::default()).expect("runs");
        let api = &report.client_groups["api"];
        let batch = &report.client_groups["batch"];
        assert!(api.attempts > 0 && batch.attempts > 0, "{target}");
        assert_eq!(api.outcomes.ok, api.attempts, "{target}: api is allowed");
        assert_eq!(batch.outcomes.ok, 0, "{target}");
        assert_eq!(
            batch.outcomes.timeout, batch.attempts,
            "{target}: batch's packets are dropped, its connect timeout fires"
        );
    }
}

#[test]
fn deny_all_alone_times_out_everyone() {
    let sc = scenario("db:5432", DENY_ALL_INGRESS);
    let report = sim_core::run(&sc, &sim_core::RunOptions::default()).expect("runs");
    assert_eq!(report.totals.outcomes.ok, 0);
    assert_eq!(report.totals.outcomes.timeout, report.totals.attempts);
}

#[test]
fn egress_isolation_of_the_client_blocks_it_too() {
    // `batch` may only talk to port 80 (the db listens on 5432).
    let egress = "  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: batch-egress}
    spec:
      podSelector: {matchLabels: {tier: jobs}}
      policyTypes: [Egress]
      egress:
        - ports: [{port: 80}]
";
    let sc = scenario("db:5432", egress);
    let report = sim_core::run(&sc, &sim_core::RunOptions::default()).expect("runs");
    assert_eq!(report.client_groups["api"].outcomes.timeout, 0);
    let batch = &report.client_groups["batch"];
    assert_eq!(batch.outcomes.timeout, batch.attempts);
}

#[test]
fn a_scenario_without_policies_keeps_its_canonical_form() {
    // Digests hash the canonical form: no new keys where nothing is used.
    let plain = parse(
        "name: t\nduration: 1s\nservices: [{name: s, ports: [80]}]\n\
         clients:\n  - {name: app, target: \"s:80\", rate: 1, labels: {app: app}}\n",
    );
    let json = plain.to_canonical_json();
    for key in ["network_policies", "labels", "namespace_labels"] {
        assert!(!json.contains(key), "{key} in {json}");
    }
}
