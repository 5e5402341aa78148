//! Kubernetes objects in a scenario (`objects`, inline, and `manifests`,
//! files): each kind is read into the scenario as the cluster would see it,
//! inline and file forms are the same scenario, real `kubectl get -o yaml`
//! output reads, and mistakes get the same clear messages as the rest of the
//! file — in the manifest's own file, line and column.
//!
//! The reading is checked through the library (`parse_with` with an
//! in-memory loader); file handling and rendering through the real binary.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::process::{Command, Output};

use sim_core::scenario::{
    AddressType, ClusterIp, Diagnostic, EndpointSliceDef, Lifetime, PodDef, PodManagementPolicy,
    Scenario, Service, ServicePort, SliceEndpoint, SlicePort, parse_with,
};
use sim_core::time::SimDuration;

mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

const HEADER: &str = "name: manifests\nduration: 60s\n";

/// Parse `scenario` with `files` (name, text) as the manifest files.
fn parse_files(scenario: &str, files: &[(&str, &str)]) -> Result<Scenario, Diagnostic> {
    let files: BTreeMap<String, String> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    parse_with(scenario, &|name| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no such file {name}"))
    })
}

/// A scenario whose objects are the manifest `docs` (`---`-separated),
/// read from a file.
fn from_file(docs: &str) -> Scenario {
    let src = format!("{HEADER}manifests: [objects.yaml]\n");
    parse_files(&src, &[("objects.yaml", docs)]).unwrap_or_else(|d| panic!("{d}\n{docs}"))
}

/// The same documents written inline under `objects`.
fn inline(docs: &str) -> String {
    let mut out = format!("{HEADER}objects:\n");
    for doc in docs.split("\n---\n") {
        let doc = doc.trim_matches('\n');
        if doc.trim().is_empty() {
            continue;
        }
        for (i, line) in doc.lines().enumerate() {
            out.push_str(if i == 0 { "  - " } else { "    " });
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn service(name: &str) -> Service {
    Service {
        name: name.into(),
        namespace: "default".into(),
        cluster_ip: ClusterIp::Auto,
        cluster_ipv6: Vec::new(),
        external_name: None,
        session_affinity: None,
        local_traffic: false,
        prefer_close: false,
        external: None,
        publish_not_ready: false,
        selector: BTreeMap::new(),
        ports: Vec::new(),
    }
}

fn port(name: Option<&str>, port: u16, target: u16, protocol: &str) -> ServicePort {
    ServicePort {
        name: name.map(str::to_string),
        port,
        target_port: target,
        protocol: protocol.into(),
    }
}

fn ip4(s: &str) -> u32 {
    u32::from(s.parse::<std::net::Ipv4Addr>().unwrap())
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn service_objects_map_to_services() {
    let cases: Vec<(&str, &str, Service)> = vec![
        (
            "fixed IPv4 ClusterIP, selector, named and unnamed ports",
            "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: prod}\nspec:\n  clusterIP: 10.96.0.50\n  selector: {app: api}\n  ports:\n    - {name: http, port: 80, targetPort: 8080}\n    - {name: dns, port: 53, protocol: UDP}\n",
            Service {
                namespace: "prod".into(),
                cluster_ip: ClusterIp::Fixed(ip4("10.96.0.50")),
                selector: labels(&[("app", "api")]),
                ports: vec![
                    port(Some("http"), 80, 8080, "TCP"),
                    port(Some("dns"), 53, 53, "UDP"),
                ],
                ..service("api")
            },
        ),
        (
            "an allocated ClusterIP, one unnamed port; a NodePort reachable from outside",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  clusterIP: \"\"\n  externalTrafficPolicy: Local\n  ports: [{port: 80, nodePort: 30080}]\n",
            Service {
                ports: vec![port(None, 80, 80, "TCP")],
                external: Some(sim_core::scenario::ExternalAccess {
                    load_balancer: false,
                    local: true,
                }),
                ..service("web")
            },
        ),
        (
            "headless, publishing not-ready addresses",
            "apiVersion: v1\nkind: Service\nmetadata: {name: nginx}\nspec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n  ports: [{name: web, port: 80, protocol: SCTP}]\n",
            Service {
                cluster_ip: ClusterIp::None,
                publish_not_ready: true,
                ports: vec![port(Some("web"), 80, 80, "SCTP")],
                ..service("nginx")
            },
        ),
        (
            "dual-stack: clusterIP is the first of clusterIPs",
            "apiVersion: v1\nkind: Service\nmetadata: {name: dual}\nspec:\n  clusterIP: 10.96.0.60\n  clusterIPs:\n    - 10.96.0.60\n    - fd00:10:96::60\n  ipFamilies: [IPv4, IPv6]\n  ipFamilyPolicy: RequireDualStack\n  ports: [{port: 80}]\n",
            Service {
                cluster_ip: ClusterIp::Fixed(ip4("10.96.0.60")),
                cluster_ipv6: vec!["fd00:10:96::60".parse::<Ipv6Addr>().unwrap()],
                ports: vec![port(None, 80, 80, "TCP")],
                ..service("dual")
            },
        ),
        (
            "IPv6 only",
            "apiVersion: v1\nkind: Service\nmetadata: {name: six}\nspec:\n  clusterIPs: [\"fd00:10:96::6\"]\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n",
            Service {
                cluster_ip: ClusterIp::None,
                cluster_ipv6: vec!["fd00:10:96::6".parse::<Ipv6Addr>().unwrap()],
                ports: vec![port(None, 80, 80, "TCP")],
                ..service("six")
            },
        ),
        (
            "ExternalName",
            "apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec:\n  type: ExternalName\n  externalName: db.example.com.\n",
            Service {
                cluster_ip: ClusterIp::None,
                external_name: Some("db.example.com".into()),
                ..service("ext")
            },
        ),
    ];
    for (what, doc, want) in cases {
        let sc = from_file(doc);
        assert_eq!(sc.services, vec![want.clone()], "{what}");
        assert_eq!(
            sc.services[0].is_headless(),
            want.cluster_ip == ClusterIp::None
                && want.cluster_ipv6.is_empty()
                && want.external_name.is_none(),
            "{what}"
        );
    }
}

#[test]
fn a_named_target_port_is_resolved_against_the_selected_pods() {
    let sc = from_file(
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n  ports: [{port: 80, targetPort: http}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-1, labels: {app: api}}\nspec:\n  containers:\n    - name: app\n      image: api:1\n      ports: [{name: http, containerPort: 8080}]\nstatus: {podIP: 10.244.9.1}\n",
    );
    assert_eq!(sc.services[0].ports, vec![port(None, 80, 8080, "TCP")]);
}

#[test]
fn an_endpoint_slice_is_taken_as_given() {
    let sc = from_file(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: None, ports: [{name: pg, port: 5432}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-manual\n  labels: {kubernetes.io/service-name: db}\naddressType: IPv4\nendpoints:\n  - addresses: [192.168.10.11]\n    hostname: db-a\n    targetRef: {kind: Pod, name: db-a}\n    conditions: {ready: true}\n  - addresses: [192.168.10.12]\n    conditions: {ready: false, serving: true}\n  - addresses: [192.168.10.13]\nports: [{name: pg, port: 5432, protocol: TCP}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-v6\n  labels: {kubernetes.io/service-name: db}\naddressType: IPv6\nendpoints: [{addresses: [\"fd00::11\"]}]\nports: [{port: 5432}]\n",
    );
    let ep = |ip: &str, hostname: Option<&str>, target: Option<&str>, ready| SliceEndpoint {
        addresses: vec![ip.parse::<IpAddr>().unwrap()],
        hostname: hostname.map(str::to_string),
        target_ref: target.map(str::to_string),
        ready,
    };
    assert_eq!(
        sc.endpoint_slices,
        vec![
            EndpointSliceDef {
                name: "db-manual".into(),
                namespace: "default".into(),
                service: "db".into(),
                address_type: AddressType::IPv4,
                endpoints: vec![
                    ep("192.168.10.11", Some("db-a"), Some("db-a"), Some(true)),
                    ep("192.168.10.12", None, None, Some(false)),
                    ep("192.168.10.13", None, None, None),
                ],
                ports: vec![SlicePort {
                    name: Some("pg".into()),
                    port: 5432,
                    protocol: "TCP".into(),
                }],
            },
            EndpointSliceDef {
                name: "db-v6".into(),
                namespace: "default".into(),
                service: "db".into(),
                address_type: AddressType::IPv6,
                endpoints: vec![ep("fd00::11", None, None, None)],
                ports: vec![SlicePort {
                    name: None,
                    port: 5432,
                    protocol: "TCP".into(),
                }],
            },
        ]
    );
}

#[test]
fn endpoints_become_a_slice_per_subset_and_family_with_not_ready_addresses() {
    let sc = from_file(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets:\n  - addresses:\n      - {ip: 192.168.10.11, hostname: primary}\n      - {ip: \"fd00::11\"}\n    notReadyAddresses:\n      - ip: 192.168.10.12\n        targetRef: {kind: Pod, name: replica}\n    ports: [{port: 5432, protocol: TCP}]\n",
    );
    // (name, addressType, [(address, ready)]) of each slice.
    type Summary<'a> = (&'a str, AddressType, Vec<(String, Option<bool>)>);
    let slices: Vec<Summary> = sc
        .endpoint_slices
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.address_type,
                s.endpoints
                    .iter()
                    .map(|e| (e.addresses[0].to_string(), e.ready))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        slices,
        vec![
            (
                "db-0",
                AddressType::IPv4,
                vec![
                    ("192.168.10.11".to_string(), Some(true)),
                    ("192.168.10.12".to_string(), Some(false)),
                ]
            ),
            (
                "db-1",
                AddressType::IPv6,
                vec![("fd00::11".to_string(), Some(true))]
            ),
        ]
    );
    let s = &sc.endpoint_slices[0];
    assert_eq!(s.service, "db");
    assert_eq!(s.endpoints[0].hostname.as_deref(), Some("primary"));
    assert_eq!(s.endpoints[1].target_ref.as_deref(), Some("replica"));
    assert_eq!(s.ports[0].port, 5432);
}

#[test]
fn a_pod_keeps_its_ip_hostname_subdomain_ports_and_readiness() {
    let sc = from_file(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: db-a\n  labels: {app: db}\n  uid: 0b3c\nspec:\n  hostname: primary\n  subdomain: db\n  nodeName: node-1\n  restartPolicy: Always\n  containers:\n    - name: pg\n      image: postgres:16\n      ports: [{containerPort: 5432, name: pg}, {containerPort: 9187}]\nstatus:\n  phase: Running\n  podIP: 10.244.7.7\n  conditions:\n    - {type: Initialized, status: \"True\"}\n    - {type: Ready, status: \"True\"}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db-b, labels: {app: db}}\nstatus:\n  podIP: 172.16.0.9\n  conditions: [{type: Ready, status: \"False\"}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db-c}\nstatus: {podIP: 172.16.0.10}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: migrate}\nstatus: {phase: Succeeded}\n",
    );
    let pod =
        |name: &str, labels: BTreeMap<String, String>, ip: &str, ready, ports: Vec<u16>| PodDef {
            name: name.into(),
            namespace: "default".into(),
            labels,
            hostname: None,
            subdomain: None,
            ip: ip4(ip),
            ready,
            ports,
        };
    assert_eq!(
        sc.pods,
        vec![
            PodDef {
                hostname: Some("primary".into()),
                subdomain: Some("db".into()),
                ..pod(
                    "db-a",
                    labels(&[("app", "db")]),
                    "10.244.7.7",
                    true,
                    vec![5432, 9187]
                )
            },
            // No container ports: the target ports of the Services selecting it.
            pod(
                "db-b",
                labels(&[("app", "db")]),
                "172.16.0.9",
                false,
                vec![5432]
            ),
            // No Ready condition: not ready.
            pod("db-c", BTreeMap::new(), "172.16.0.10", false, vec![]),
            // `migrate` has finished: no address, no pod.
        ]
    );
}

#[test]
fn a_statefulset_object_takes_ksim_settings_from_annotations() {
    let sc = from_file(
        "apiVersion: v1\nkind: Service\nmetadata: {name: kafka}\nspec: {clusterIP: None, selector: {app: kafka}, ports: [{name: broker, port: 9092}]}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: kafka\n  annotations:\n    ksim.io/start-ready: \"true\"\n    ksim.io/startup: 20s\n    ksim.io/drain: 5s\n    ksim.io/teardown: 2s\n    ksim.io/lifetime: exponential(300s)\n    kubectl.kubernetes.io/last-applied-configuration: \"{}\"\nspec:\n  serviceName: kafka\n  replicas: 3\n  podManagementPolicy: Parallel\n  selector:\n    matchLabels: {app: kafka}\n    matchExpressions: [{key: tier, operator: In, values: [data]}]\n  template:\n    metadata:\n      labels: {app: kafka, tier: data}\n    spec:\n      containers:\n        - name: broker\n          image: kafka:3\n          ports: [{containerPort: 9092, name: broker}]\n  updateStrategy: {type: RollingUpdate}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: plain}\nspec:\n  serviceName: kafka\n  selector: {matchLabels: {app: plain}}\n  template: {metadata: {labels: {app: plain}}}\n",
    );
    let st = &sc.statefulsets[0];
    assert_eq!(
        (
            st.name.as_str(),
            st.service.as_str(),
            st.replicas,
            st.start_ready,
            st.pod_management_policy,
        ),
        ("kafka", "kafka", 3, true, PodManagementPolicy::Parallel)
    );
    assert_eq!(st.labels, labels(&[("app", "kafka"), ("tier", "data")]));
    assert_eq!(st.ports, vec![9092]);
    assert_eq!(st.lifecycle.startup, SimDuration::from_secs(20));
    assert_eq!(st.lifecycle.drain, SimDuration::from_secs(5));
    assert_eq!(st.lifecycle.teardown, SimDuration::from_secs(2));
    assert_eq!(
        st.churn.lifetime,
        Lifetime::Exponential(SimDuration::from_secs(300))
    );
    // Without annotations or container ports: the short form's defaults.
    let short = sim_core::scenario::parse(&format!(
        "{HEADER}services: [{{name: kafka, clusterIP: None, ports: [{{name: broker, port: 9092}}]}}]\nstatefulsets: [{{name: plain, service: kafka, labels: {{app: plain}}}}]\n"
    ))
    .unwrap();
    assert_eq!(sc.statefulsets[1], short.statefulsets[0]);
}

#[test]
fn namespaces_are_declared_and_objects_default_to_default() {
    let sc = from_file(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {team: a}}\nspec: {finalizers: [kubernetes]}\nstatus: {phase: Active}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: staging}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
    );
    assert_eq!(sc.namespaces, ["prod", "staging"]);
    assert_eq!(sc.services[0].namespace, "default");
}

/// Every kind at once, with a client and an event using them.
const ALL_KINDS: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, annotations: {ksim.io/start-ready: \"true\"}}
spec:
  serviceName: nginx
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template: {metadata: {labels: {app: nginx}}}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets: [{addresses: [{ip: 192.168.10.11}], ports: [{port: 5432}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: static-web, labels: {app: nginx}}
status: {podIP: 10.250.0.5, conditions: [{type: Ready, status: \"True\"}]}
";

const CLIENTS: &str = "\
clients:
  - {name: app, target: nginx:80, rate: 2}
  - {name: pg, target: db:5432, rate: 1}
events:
  - {at: 10s, delete_pod: web-1}
  - {at: 20s, delete_pod: static-web}
";

#[test]
fn inline_objects_and_manifest_files_give_the_same_scenario() {
    // The same documents, split over two files.
    let docs: Vec<&str> = ALL_KINDS.split("---\n").collect();
    let (a, b) = (docs[..3].join("---\n"), docs[3..].join("---\n"));
    let from_files = parse_files(
        &format!("{HEADER}manifests: [a.yaml, b.yaml]\n{CLIENTS}"),
        &[("a.yaml", &a), ("b.yaml", &b)],
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let inline_src = format!("{}{CLIENTS}", inline(ALL_KINDS));
    let inline =
        sim_core::scenario::parse(&inline_src).unwrap_or_else(|d| panic!("{d}\n{inline_src}"));
    assert_eq!(from_files, inline);
    assert_eq!(from_files.digest(), inline.digest());
    assert_eq!(inline.services.len(), 2);
    assert_eq!(inline.statefulsets.len(), 1);
    assert_eq!(inline.endpoint_slices.len(), 1);
    assert_eq!(inline.pods.len(), 1);
    assert_eq!(inline.namespaces, ["prod"]);
}

#[test]
fn multi_document_files_and_lists_are_unwrapped() {
    // Empty documents, comments, a `---` at the start and the end, and a List.
    let docs = "# the database\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 1}]}\n---\n---\n# nothing here\n---\napiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: b}\n    spec: {ports: [{port: 2}]}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: c}\n    spec: {ports: [{port: 3}]}\n---\n";
    let sc = from_file(docs);
    let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    // A List written inline is unwrapped too.
    let src = format!(
        "{HEADER}objects:\n  - apiVersion: v1\n    kind: List\n    items:\n      - {{apiVersion: v1, kind: Namespace, metadata: {{name: x}}}}\n"
    );
    assert_eq!(sim_core::scenario::parse(&src).unwrap().namespaces, ["x"]);
}

/// What `kubectl get svc,sts,pods,endpoints,endpointslices -o yaml` prints for
/// the StatefulSet tutorial (trimmed): status, managedFields and the objects
/// controllers own, which ksim generates itself.
const KUBECTL_GET: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"labels":{"app":"nginx"},"name":"nginx","namespace":"default"},"spec":{"clusterIP":"None","ports":[{"name":"web","port":80}],"selector":{"app":"nginx"}}}
    creationTimestamp: "2026-01-07T10:00:00Z"
    labels:
      app: nginx
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:labels:
            .: {}
            f:app: {}
      manager: kubectl-client-side-apply
      operation: Update
      time: "2026-01-07T10:00:00Z"
    name: nginx
    namespace: default
    resourceVersion: "4711"
    uid: 5b7f2a7e-0c1d-4f5e-9a51-0f7d4f1e2a33
  spec:
    clusterIP: None
    clusterIPs:
    - None
    internalTrafficPolicy: Cluster
    ipFamilies:
    - IPv4
    ipFamilyPolicy: SingleStack
    ports:
    - name: web
      port: 80
      protocol: TCP
      targetPort: 80
    selector:
      app: nginx
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {}
- apiVersion: apps/v1
  kind: StatefulSet
  metadata:
    creationTimestamp: "2026-01-07T10:00:00Z"
    generation: 1
    name: web
    namespace: default
    resourceVersion: "4802"
    uid: 2d4c9f60-8a0b-4c55-b1a7-3e6f0d2c9b11
  spec:
    persistentVolumeClaimRetentionPolicy:
      whenDeleted: Retain
      whenScaled: Retain
    podManagementPolicy: OrderedReady
    replicas: 2
    revisionHistoryLimit: 10
    selector:
      matchLabels:
        app: nginx
    serviceName: nginx
    template:
      metadata:
        creationTimestamp: null
        labels:
          app: nginx
      spec:
        containers:
        - image: registry.k8s.io/nginx-slim:0.24
          imagePullPolicy: IfNotPresent
          name: nginx
          ports:
          - containerPort: 80
            name: web
            protocol: TCP
          resources: {}
          terminationMessagePath: /dev/termination-log
          terminationMessagePolicy: File
          volumeMounts:
          - mountPath: /usr/share/nginx/html
            name: www
        dnsPolicy: ClusterFirst
        restartPolicy: Always
        schedulerName: default-scheduler
        securityContext: {}
        terminationGracePeriodSeconds: 30
    updateStrategy:
      rollingUpdate:
        partition: 0
      type: RollingUpdate
    volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: www
      spec:
        accessModes:
        - ReadWriteOnce
        resources:
          requests:
            storage: 1Gi
  status:
    availableReplicas: 2
    currentReplicas: 2
    readyReplicas: 2
    replicas: 2
- apiVersion: v1
  kind: Pod
  metadata:
    generateName: web-
    labels:
      app: nginx
      apps.kubernetes.io/pod-index: "0"
      statefulset.kubernetes.io/pod-name: web-0
    name: web-0
    namespace: default
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: StatefulSet
      name: web
      uid: 2d4c9f60-8a0b-4c55-b1a7-3e6f0d2c9b11
  spec:
    containers:
    - image: registry.k8s.io/nginx-slim:0.24
      name: nginx
      ports:
      - containerPort: 80
        name: web
        protocol: TCP
    hostname: web-0
    subdomain: nginx
  status:
    conditions:
    - lastProbeTime: null
      lastTransitionTime: "2026-01-07T10:00:05Z"
      status: "True"
      type: Ready
    phase: Running
    podIP: 10.244.1.5
    podIPs:
    - ip: 10.244.1.5
- apiVersion: v1
  kind: Endpoints
  metadata:
    labels:
      app: nginx
      endpoints.kubernetes.io/managed-by: endpoint-controller
      service.kubernetes.io/headless: ""
    name: nginx
    namespace: default
  subsets:
  - addresses:
    - hostname: web-0
      ip: 10.244.1.5
      nodeName: node-1
      targetRef:
        kind: Pod
        name: web-0
        namespace: default
        uid: 9a1e
    ports:
    - name: web
      port: 80
      protocol: TCP
- addressType: IPv4
  apiVersion: discovery.k8s.io/v1
  endpoints:
  - addresses:
    - 10.244.1.5
    conditions:
      ready: true
      serving: true
      terminating: false
    hostname: web-0
    nodeName: node-1
    targetRef:
      kind: Pod
      name: web-0
      namespace: default
      uid: 9a1e
  kind: EndpointSlice
  metadata:
    generateName: nginx-
    generation: 3
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: nginx
      service.kubernetes.io/headless: ""
    name: nginx-x7k2p
    namespace: default
    ownerReferences:
    - apiVersion: v1
      blockOwnerDeletion: true
      controller: true
      kind: Service
      name: nginx
      uid: 5b7f2a7e-0c1d-4f5e-9a51-0f7d4f1e2a33
  ports:
  - name: web
    port: 80
    protocol: TCP
kind: List
metadata:
  resourceVersion: ""
"#;

#[test]
fn kubectl_get_output_reads_and_controller_owned_objects_are_generated() {
    let sc = from_file(KUBECTL_GET);
    assert_eq!(
        sc.services,
        vec![Service {
            cluster_ip: ClusterIp::None,
            selector: labels(&[("app", "nginx")]),
            ports: vec![port(Some("web"), 80, 80, "TCP")],
            ..service("nginx")
        }]
    );
    let st = &sc.statefulsets[0];
    assert_eq!(
        (st.name.as_str(), st.replicas, st.ports.as_slice()),
        ("web", 2, &[80u16][..])
    );
    // The pod, the Endpoints and the EndpointSlice are the controllers':
    // ksim creates them from the StatefulSet and the Service.
    assert!(sc.pods.is_empty(), "{:?}", sc.pods);
    assert!(sc.endpoint_slices.is_empty(), "{:?}", sc.endpoint_slices);
    // It is the same scenario as the tutorial written in ksim's short form,
    // its pods Ready from the start as the snapshot's `readyReplicas` says.
    let short = sim_core::scenario::parse(&format!(
        "{HEADER}services: [{{name: nginx, clusterIP: None, selector: {{app: nginx}}, ports: [{{name: web, port: 80}}]}}]\nstatefulsets: [{{name: web, service: nginx, replicas: 2, labels: {{app: nginx}}, ports: [80], start_ready: true}}]\n"
    ))
    .unwrap();
    assert_eq!(sc.digest(), short.digest());
}

// ---------------------------------------------------------------------------
// Mistakes, through the real binary.

/// One bad scenario: its files, and what the message must say.
struct Case {
    name: &'static str,
    /// The scenario file (`s.yaml`) and manifest files, by name.
    files: Vec<(&'static str, String)>,
    /// The file and snippet the error points at (its start, or the `|` in it).
    at: (&'static str, &'static str),
    path: &'static str,
    says: &'static [&'static str],
    hint: Option<&'static str>,
}

fn case(name: &'static str, files: Vec<(&'static str, String)>) -> Case {
    Case {
        name,
        files,
        at: ("s.yaml", ""),
        path: "",
        says: &[],
        hint: None,
    }
}

impl Case {
    fn at(mut self, file: &'static str, snippet: &'static str) -> Case {
        self.at = (file, snippet);
        self
    }
    fn path(mut self, path: &'static str) -> Case {
        self.path = path;
        self
    }
    fn says(mut self, says: &'static [&'static str]) -> Case {
        self.says = says;
        self
    }
    fn hint(mut self, hint: &'static str) -> Case {
        self.hint = Some(hint);
        self
    }
}

/// A scenario reading one manifest, `m.yaml`, holding `docs`.
fn in_manifest(name: &'static str, docs: &str) -> Case {
    case(
        name,
        vec![
            ("s.yaml", format!("{HEADER}manifests: [m.yaml]\n")),
            ("m.yaml", docs.to_string()),
        ],
    )
}

fn position(src: &str, snippet: &str) -> (usize, usize) {
    let bar = snippet.find('|').unwrap_or(0);
    let needle = snippet.replace('|', "");
    let start = src
        .find(&needle)
        .unwrap_or_else(|| panic!("`{needle}` not in\n{src}"))
        + bar;
    let before = &src[..start];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn run(path: &Path) -> Output {
    Command::new(KSIM)
        .args(["run", path.to_str().expect("utf-8 temp path")])
        .output()
        .expect("run ksim")
}

/// Run every case; report all that fail.
fn check(tag: &str, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let dir = TempDir::new(tag);
        for (name, text) in &c.files {
            dir.write(name, text.as_bytes());
        }
        let out = run(&dir.0.join("s.yaml"));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit code {:?}, expected 2", out.status.code()));
        }
        if !out.stdout.is_empty() {
            problems.push("output on stdout".to_string());
        }
        if err.matches("error:").count() != 1 || err.contains("panicked") {
            problems.push("not exactly one `error:`".into());
        }
        let (file, snippet) = c.at;
        let src = &c.files.iter().find(|(n, _)| *n == file).expect("file").1;
        let (line, col) = position(src, snippet);
        let at = format!("{}:{line}:{col}: ", dir.0.join(file).display());
        if !err.starts_with(&format!("error: {at}")) {
            problems.push(format!("does not start with `error: {at}`"));
        }
        // The caret line shows the right file's text.
        let shown = src.lines().nth(line - 1).unwrap_or_default();
        if !err.contains(&format!("{line} | {shown}")) {
            problems.push(format!("does not show line {line} of {file}"));
        }
        problems.extend(common::diagnostic_problems(&err, c.path, c.says, c.hint));
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{err}", c.name, problems.join("; ")));
        }
    }
    common::assert_no_failures(&failures, cases.len());
}

const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  ports:\n    - {name: pg, port: 5432}\n";

#[test]
fn unknown_kinds_versions_and_fields_are_named_with_the_nearest_fix() {
    check(
        "unknown",
        vec![
            in_manifest("unknown_kind", &format!("{SVC}---\napiVersion: v1\nkind: Servise\nmetadata: {{name: x}}\n"))
                .at("m.yaml", "Servise")
                .path("manifests[0] (m.yaml) doc 2: kind")
                .says(&["kind `Servise`", "Namespace, Service, EndpointSlice, Endpoints, Pod, StatefulSet"])
                .hint("did you mean `Service`?"),
            in_manifest("wrong_api_version", "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: x}\n")
                .at("m.yaml", "discovery.k8s.io/v1beta1")
                .path("manifests[0] (m.yaml) doc 1: apiVersion")
                .says(&["apiVersion `discovery.k8s.io/v1`, found `discovery.k8s.io/v1beta1`"])
                .hint("write `apiVersion: discovery.k8s.io/v1`"),
            in_manifest("unknown_spec_field", &SVC.replace("  clusterIP: None", "  clusterIP: None\n  selektor: {app: db}"))
                .at("m.yaml", "selektor")
                .path("manifests[0] (m.yaml) doc 1: spec.selektor")
                .says(&["unknown field `selektor`"])
                .hint("did you mean `selector`?"),
            in_manifest("misspelt_ignored_field", &SVC.replace("  clusterIP: None", "  clusterIP: None\n  sesionAffinity: None"))
                .at("m.yaml", "sesionAffinity")
                .hint("did you mean `sessionAffinity`?"),
            in_manifest("unknown_top_level_field", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.1.1.1}\nspecs: {}\n")
                .at("m.yaml", "specs")
                .says(&["unknown field `specs`"])
                .hint("did you mean `spec`?"),
            in_manifest("unknown_container_field", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      imge: nginx\nstatus: {podIP: 10.1.1.1}\n")
                .at("m.yaml", "imge")
                .path("manifests[0] (m.yaml) doc 1: spec.containers[0].imge")
                .hint("did you mean `image`?"),
            in_manifest("unknown_ksim_annotation", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  annotations: {ksim.io/statup: 5s}\n")
                .at("m.yaml", "ksim.io/statup")
                .says(&["unknown annotation `ksim.io/statup`"])
                .hint("did you mean `ksim.io/startup`?"),
            case("inline_object_without_kind", vec![("s.yaml", format!("{HEADER}objects:\n  - apiVersion: v1\n    metadata: {{name: x}}\n"))])
                .at("s.yaml", "apiVersion")
                .path("objects[0]")
                .says(&["missing required field `kind`"]),
        ],
    );
}

#[test]
fn references_between_objects_are_checked() {
    let slice = |labels: &str| {
        format!(
            "{SVC}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  labels: {labels}\naddressType: IPv4\nendpoints: [{{addresses: [192.168.10.11]}}]\n"
        )
    };
    check(
        "references",
        vec![
            in_manifest("slice_without_service_name_label", &slice("{app: db}"))
                .at("m.yaml", "{app: db}")
                .path("manifests[0] (m.yaml) doc 2: metadata.labels")
                .says(&["needs the label `kubernetes.io/service-name`"])
                .hint("add `labels: {kubernetes.io/service-name: <service>}`"),
            in_manifest("slice_with_a_misspelt_label", &slice("{kubernetes.io/service: db}"))
                .at("m.yaml", "{kubernetes.io/service: db}")
                .hint("did you mean `kubernetes.io/service-name`"),
            in_manifest("slice_for_a_missing_service", &slice("{kubernetes.io/service-name: bd}"))
                .at("m.yaml", "service-name: |bd")
                .path("manifests[0] (m.yaml) doc 2: metadata.labels.kubernetes.io/service-name")
                .says(&["no Service named `bd` in namespace `default`"])
                .hint("did you mean `db`?"),
            in_manifest("endpoints_for_a_missing_service", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: legacy}\n")
                .at("m.yaml", "legacy")
                .says(&["no Service named `legacy`"]),
            in_manifest("statefulset_for_a_missing_service", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  serviceName: ngnix\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: nginx}\nspec: {clusterIP: None}\n")
                .at("m.yaml", "ngnix")
                .says(&["no Service named `ngnix`"])
                .hint("did you mean `nginx`?"),
            in_manifest("pod_of_an_undeclared_statefulset", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n  ownerReferences: [{kind: StatefulSet, name: web}]\nstatus: {podIP: 10.244.0.5}\n")
                .at("m.yaml", "name: |web}")
                .says(&["owned by StatefulSet `web`"])
                .hint("remove `ownerReferences`"),
            in_manifest("a_named_target_port_nobody_has", "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n  ports: [{port: 80, targetPort: http}]\n")
                .at("m.yaml", "http")
                .says(&["targetPort `http` names no container port"]),
            case("duplicate_service_across_forms", vec![
                ("s.yaml", format!("{HEADER}services:\n  - {{name: db, clusterIP: None}}\nmanifests: [m.yaml]\n")),
                ("m.yaml", SVC.to_string()),
            ])
                .at("m.yaml", "name: |db")
                .path("manifests[0] (m.yaml) doc 1: metadata.name")
                .says(&["duplicate Service name `db`", "first declared at line 4, services[0].name"]),
            case("client_target_names_an_object_service", vec![
                ("s.yaml", format!("{HEADER}manifests: [m.yaml]\nclients:\n  - {{name: app, target: dv:5432, rate: 1}}\n")),
                ("m.yaml", SVC.to_string()),
            ])
                .at("s.yaml", "dv:5432")
                .hint("did you mean the Service `db`?"),
        ],
    );
}

#[test]
fn invalid_objects_are_refused_as_the_api_server_would() {
    check(
        "invalid",
        vec![
            in_manifest("port_out_of_range", &SVC.replace("port: 5432", "port: 99999"))
                .at("m.yaml", "99999")
                .path("manifests[0] (m.yaml) doc 1: spec.ports[0].port")
                .says(&["a port is 1-65535, found 99999"]),
            in_manifest("pod_ip_collision", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.1.2.3}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nstatus: {podIP: 10.1.2.3}\n")
                .at("m.yaml", "name: b}\nstatus: {podIP: |10.1.2.3")
                .path("manifests[0] (m.yaml) doc 2: status.podIP")
                .says(&["podIP 10.1.2.3 is also Pod `a`'s"]),
            in_manifest("pod_without_ip", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {phase: Pending}\n")
                .at("m.yaml", "{phase")
                .says(&["missing required field `podIP`"]),
            in_manifest("ipv6_in_an_ipv4_slice", &format!("{SVC}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: s, labels: {{kubernetes.io/service-name: db}}}}\naddressType: IPv4\nendpoints: [{{addresses: [\"fd00::1\"]}}]\n"))
                .at("m.yaml", "\"fd00::1\"")
                .path("manifests[0] (m.yaml) doc 2: endpoints[0].addresses[0]")
                .says(&["IPv6 address in a slice of addressType IPv4"])
                .hint("addressType: IPv6"),
            in_manifest("not_an_address", &format!("{SVC}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: s, labels: {{kubernetes.io/service-name: db}}}}\naddressType: IPv4\nendpoints: [{{addresses: [192.168.10.300]}}]\n"))
                .at("m.yaml", "192.168.10.300")
                .says(&["expected an IPv4 address"]),
            in_manifest("selector_does_not_match_the_template", &format!("{SVC}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: web}}\nspec:\n  serviceName: db\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: wbe}}\n"))
                .at("m.yaml", "{app: |web}")
                .path("manifests[0] (m.yaml) doc 2: spec.selector.matchLabels.app")
                .says(&["`selector` does not match the template's labels", "`app: wbe`"]),
            in_manifest("cluster_ips_disagree", &SVC.replace("clusterIP: None", "clusterIP: 10.96.0.5\n  clusterIPs: [10.96.0.6]"))
                .at("m.yaml", "[|10.96.0.6")
                .says(&["`clusterIPs` starts with `10.96.0.6`, but `clusterIP` is `10.96.0.5`"]),
            in_manifest("cluster_ip_outside_the_service_cidr", &SVC.replace("clusterIP: None", "clusterIP: 10.0.0.5"))
                .at("m.yaml", "10.0.0.5")
                .path("manifests[0] (m.yaml) doc 1: spec.clusterIP")
                .says(&["outside the service CIDR 10.96.0.0/12"]),
            in_manifest("external_name_with_a_cluster_ip", "apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec:\n  type: ExternalName\n  externalName: db.example.com\n  clusterIP: 10.96.0.9\n")
                .at("m.yaml", "10.96.0.9")
                .says(&["an ExternalName Service has no clusterIP"]),
            in_manifest("unnamed_ports_of_a_multi_port_service", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n    - {name: http, port: 80}\n    - {port: 443}\n")
                .at("m.yaml", "{port: 443}")
                .says(&["must name each"]),
            in_manifest("pod_named_like_a_statefulset_pod", &format!("{SVC}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: web}}\nspec:\n  serviceName: db\n  selector: {{matchLabels: {{app: web}}}}\n  template: {{metadata: {{labels: {{app: web}}}}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web-1}}\nstatus: {{podIP: 10.9.9.9}}\n"))
                .at("m.yaml", "web-1")
                .says(&["a pod of StatefulSet `web`, which ksim creates"]),
        ],
    );
}

#[test]
fn manifest_files_that_cannot_be_read_are_exit_2_and_named() {
    check(
        "files",
        vec![
            case(
                "missing_file",
                vec![("s.yaml", format!("{HEADER}manifests:\n  - db.yaml\n"))],
            )
            .at("s.yaml", "db.yaml")
            .path("manifests[0]")
            .says(&[
                "cannot read the manifest `db.yaml`",
                "db.yaml: No such file",
            ])
            .hint("relative to the scenario file's directory"),
            case(
                "yaml_syntax_error",
                vec![
                    ("s.yaml", format!("{HEADER}manifests: [m.yaml]\n")),
                    ("m.yaml", format!("{SVC}---\nkind: [Pod\n")),
                ],
            )
            .at("m.yaml", "[Pod")
            .path("manifests[0] (m.yaml) doc 2")
            .says(&["not valid YAML"]),
            case(
                "no_objects",
                vec![
                    ("s.yaml", format!("{HEADER}manifests: [m.yaml]\n")),
                    ("m.yaml", "# nothing yet\n---\n".to_string()),
                ],
            )
            .at("s.yaml", "m.yaml")
            .says(&["holds no objects"]),
            case(
                "a_path_under_objects",
                vec![("s.yaml", format!("{HEADER}objects: [db.yaml]\n"))],
            )
            .at("s.yaml", "db.yaml")
            .hint("list manifest files under `manifests`"),
        ],
    );
}

/// `pod_traces` files are read like manifests: a missing file points at
/// its entry, a broken one at the line and column inside it.
#[test]
fn pod_trace_files_that_cannot_be_read_are_exit_2_and_located() {
    check(
        "traces",
        vec![
            case(
                "missing_trace",
                vec![("s.yaml", format!("{HEADER}pod_traces: [night.json]\n"))],
            )
            .at("s.yaml", "night.json")
            .path("pod_traces[0]")
            .says(&["cannot read the pod trace `night.json`"])
            .hint("relative to the scenario file"),
            case(
                "broken_json",
                vec![
                    ("s.yaml", format!("{HEADER}pod_traces: [t.json]\n")),
                    (
                        "t.json",
                        "{\"kind\": \"Pod\",\n \"metadata\": }\n".to_string(),
                    ),
                ],
            )
            .at("t.json", "}")
            .says(&["not a JSON pod trace"])
            .hint("kubectl get pods -w -o json"),
            case(
                "not_a_pod",
                vec![
                    ("s.yaml", format!("{HEADER}pod_traces: [t.json]\n")),
                    (
                        "t.json",
                        "{\"kind\": \"Service\", \"metadata\": {\"name\": \"x\"}}\n".to_string(),
                    ),
                ],
            )
            .at("t.json", "{")
            .says(&["a pod trace holds Pod objects only"]),
        ],
    );
}

#[test]
fn a_scenario_with_manifests_runs_from_the_command_line() {
    let dir = TempDir::new("run");
    dir.write("objects.yaml", ALL_KINDS.as_bytes());
    let sc = dir.write(
        "s.yaml",
        format!("{HEADER}manifests: [objects.yaml]\n{CLIENTS}").as_bytes(),
    );
    let out = run(&sc);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        dir.entries(),
        ["objects.yaml", "s.yaml"],
        "manifests are only read"
    );
    // The library refuses to read files on its own.
    let err =
        sim_core::scenario::parse(&format!("{HEADER}manifests: [objects.yaml]\n")).unwrap_err();
    assert!(err.message.contains("reads no files"), "{err}");
}

#[test]
fn a_deployment_object_reads_as_the_short_form() {
    let object = from_file(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {ksim.io/start-ready: \"true\", ksim.io/drain: 3s}
spec:
  replicas: 4
  selector: {matchLabels: {app: api}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  minReadySeconds: 5
  revisionHistoryLimit: 3
  template:
    metadata: {labels: {app: api}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: api
          image: example/api:1
          ports: [{name: http, containerPort: 8080}]
",
    );
    let short = sim_core::scenario::parse(&format!(
        "{HEADER}deployments:\n  - {{name: api, replicas: 4, start_ready: true, ports: [8080], \
         lifecycle: {{drain: 3s}}, terminationGracePeriodSeconds: 10, minReadySeconds: 5, \
         strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}}}\n"
    ))
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(object.deployments, short.deployments);
    assert_eq!(object.digest(), short.digest());
}

#[test]
fn a_deployment_object_without_container_ports_is_refused() {
    let src = inline(
        "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: example/api:1}]
",
    );
    let e = sim_core::scenario::parse(&src).unwrap_err();
    assert!(e.message.contains("declares no container ports"), "{e}");
    assert_eq!(e.path, "objects[0].spec.template.spec");
}
