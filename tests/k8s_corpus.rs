//! Real-world manifests (`tests/k8s/`): rendered Helm charts, a
//! kube-prometheus-style bundle with CRDs, a `kubectl get -o yaml` List and
//! Istio policies. Each loads, with exactly the warnings expected: kinds
//! ksim does not model are skipped (one warning per kind, with a count),
//! objects read in part say what was ignored, and a snapshot's workloads
//! start as observed.

use std::path::Path;

use sim_core::scenario::{Scenario, parse_with};

/// Parse a scenario `extra` (YAML lines after `name` and `duration`)
/// reading `files` from `tests/k8s/`.
fn load(files: &[&str], extra: &str) -> Scenario {
    let list = files.join(", ");
    let src = format!("name: corpus\nduration: 10s\nmanifests: [{list}]\n{extra}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/k8s");
    parse_with(&src, &|name| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|d| panic!("{files:?}: {d}"))
}

fn warnings(sc: &Scenario) -> Vec<&str> {
    sc.provenance.notes.iter().map(String::as_str).collect()
}

const HELM_SKIPS: [&str; 4] = [
    "skipped 1 ConfigMap object: a kind ksim does not model",
    "skipped 1 PodDisruptionBudget object: a kind ksim does not model",
    "skipped 1 Secret object: a kind ksim does not model",
    "skipped 1 ServiceAccount object: a kind ksim does not model",
];

#[test]
fn helm_postgresql_reads_with_one_warning_per_skipped_kind() {
    let sc = load(&["helm-postgresql.yaml"], "");
    assert_eq!(warnings(&sc), HELM_SKIPS);
    let st = &sc.statefulsets[0];
    assert_eq!((st.name.as_str(), st.replicas), ("db-postgresql", 3));
    // Both Services' `targetPort: tcp-postgresql` resolve to the container port.
    for s in &sc.services {
        assert_eq!(s.ports[0].target_port, 5432, "{}", s.name);
    }
    assert!(
        sc.services
            .iter()
            .any(|s| s.name == "db-postgresql-hl" && s.is_headless())
    );
    // The chart's objects are where the findings will point.
    let o = sc
        .provenance
        .origin("StatefulSet", "data", "db-postgresql")
        .expect("origin recorded");
    assert_eq!(o.file.as_deref(), Some("helm-postgresql.yaml"));
    assert!(o.loc.line > 100, "{o:?}");
}

#[test]
fn helm_kafka_resolves_every_named_target_port() {
    let sc = load(&["helm-kafka.yaml"], "");
    assert_eq!(warnings(&sc), HELM_SKIPS);
    let hl = sc
        .services
        .iter()
        .find(|s| s.name == "events-kafka-controller-headless")
        .unwrap();
    let targets: Vec<u16> = hl.ports.iter().map(|p| p.target_port).collect();
    assert_eq!(targets, [9094, 9092, 9093]);
}

#[test]
fn kube_prometheus_skips_crds_and_custom_resources_and_runs_a_daemonset_per_node() {
    let sc = load(&["kube-prometheus.yaml"], "cluster: {nodes: 4}\n");
    assert_eq!(
        warnings(&sc),
        [
            "skipped 1 ClusterRole object: a kind ksim does not model",
            "skipped 1 ClusterRoleBinding object: a kind ksim does not model",
            "skipped 2 CustomResourceDefinition objects: a kind ksim does not model",
            "skipped 1 Prometheus object: a kind ksim does not model",
            "skipped 1 ServiceAccount object: a kind ksim does not model",
            "skipped 2 ServiceMonitor objects: a kind ksim does not model",
            "DaemonSet `monitoring/node-exporter`: `updateStrategy` is not modelled (rollouts replace one pod at a time)",
            "DaemonSet `monitoring/node-exporter`: `hostNetwork: true` is not modelled: its pods get pod IPs, not their nodes' addresses",
        ]
    );
    let ne = sc
        .deployments
        .iter()
        .find(|d| d.name == "node-exporter")
        .unwrap();
    assert_eq!(ne.replicas, 4, "one pod per node");
    // `targetPort: https` / `https-main` resolve against a DaemonSet and a
    // Deployment (the second container's port).
    let port = |n: &str| sc.services.iter().find(|s| s.name == n).unwrap().ports[0].target_port;
    assert_eq!(
        (port("node-exporter"), port("kube-state-metrics")),
        (9100, 8443)
    );
    assert_eq!(sc.network_policies.len(), 1);
}

#[test]
fn a_kubectl_snapshot_starts_as_observed_and_skips_what_controllers_own() {
    let sc = load(&["kubectl-get-all.yaml"], "");
    assert_eq!(
        warnings(&sc),
        [
            "skipped ReplicaSet `shop/api-6c9f8d7b5`: Deployment `api` owns it, and ksim creates its pods from the Deployment"
        ]
    );
    // Pods owned by the ReplicaSet and the StatefulSet are created by ksim,
    // not taken as given; managed EndpointSlices likewise.
    assert!(sc.pods.is_empty(), "{:?}", sc.pods);
    assert!(sc.endpoint_slices.is_empty());
    let api = &sc.deployments[0];
    assert!(api.start_ready, "readyReplicas: 2 starts Ready");
    assert!(
        sc.statefulsets[0].start_ready,
        "readyReplicas: 1 starts Ready"
    );
    assert_eq!(
        sc.services[0].ports[0].target_port, 8080,
        "targetPort: http from the Deployment"
    );
    // The documented switch: start from zero.
    let zero = load(&["kubectl-get-all.yaml"], "snapshot: zero\n");
    assert!(!zero.deployments[0].start_ready && !zero.statefulsets[0].start_ready);
}

#[test]
fn a_started_snapshot_serves_from_the_first_instant() {
    let client =
        "clients: [{name: c, namespace: shop, count: 5, target: 'api.shop:80', rate: 50}]\n";
    let observed = load(&["kubectl-get-all.yaml"], client);
    let zero = load(
        &["kubectl-get-all.yaml"],
        &format!("snapshot: zero\n{client}"),
    );
    let fails = |sc: &Scenario| {
        let out = sim_core::world::run(sc, sc.seed, sim_core::time::SimDuration::from_secs(10))
            .expect("runs");
        out.metrics.totals.requests - out.metrics.totals.request_outcomes[0]
    };
    assert_eq!(fails(&observed), 0);
    assert!(fails(&zero) > 0, "from zero, the first seconds fail");
}

#[test]
fn istio_objects_are_read_into_the_mesh_and_the_rest_warned() {
    let sc = load(
        &["kubectl-get-all.yaml", "istio-policies.yaml"],
        "mesh: {}\n",
    );
    let mesh = sc.mesh.as_ref().unwrap();
    assert!(mesh.strict_mtls, "mesh-wide STRICT PeerAuthentication");
    assert_eq!(mesh.destination_rules.len(), 1);
    assert_eq!(mesh.destination_rules[0].max_requests, Some(100));
    assert_eq!(
        &warnings(&sc)[..2],
        [
            "skipped 1 Istio Sidecar object: ksim's mesh models DestinationRule and PeerAuthentication only",
            "skipped 1 Istio VirtualService object: ksim's mesh models DestinationRule and PeerAuthentication only",
        ]
    );
    let without = load(&["kubectl-get-all.yaml", "istio-policies.yaml"], "");
    assert!(without.mesh.is_none());
    assert!(
        warnings(&without).iter().any(|w| w.starts_with(
            "ignored Istio DestinationRule `shop/api`: the scenario has no `mesh:` block"
        )),
        "{:?}",
        warnings(&without)
    );
}

#[test]
fn a_near_miss_of_a_modelled_kind_is_still_an_error() {
    let src = "name: t\nduration: 10s\nobjects:\n  - {apiVersion: v1, kind: Servise, metadata: {name: x}}\n";
    let e = sim_core::scenario::parse(src).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("did you mean `Service`?"));
}

#[test]
fn a_pod_manifest_without_status_is_skipped_with_a_warning() {
    // `helm create`'s test hook: a Pod to create, not one that exists.
    let src = "name: t\nduration: 10s\nobjects:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: web-test-connection, annotations: {helm.sh/hook: test}}\n    spec: {containers: [{name: wget, image: busybox, command: [wget], args: ['web:80']}], restartPolicy: Never}\n";
    let sc = sim_core::scenario::parse(src).unwrap_or_else(|d| panic!("{d}"));
    assert!(sc.pods.is_empty());
    assert_eq!(
        warnings(&sc),
        [
            "skipped Pod `web-test-connection`: it has no `status.podIP` (a manifest, not a snapshot); ksim takes hand-written Pods as given, with their address"
        ]
    );
}
