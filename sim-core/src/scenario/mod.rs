//! Scenario files: the schema, its defaults, and validation with precise errors.
//!
//! A scenario is YAML (JSON is accepted as the subset it is). [`parse`] turns
//! the text into a validated [`Scenario`] or one [`Diagnostic`] naming the line,
//! column, field path, what was expected and, when guessable, the fix.
//!
//! Naming rule: fields that mirror a Kubernetes API field keep its exact name
//! (`clusterIP`, `targetPort`, `podManagementPolicy`); ksim's own fields are
//! `snake_case`. Every default lives in [`defaults`] with the source it follows.
//!
//! A [`Scenario`] serializes back (as JSON, which is YAML) to a file that
//! parses to the same scenario: that is what [`Scenario::digest`] hashes, so
//! formatting and comments do not change a digest but any semantic change does.

pub(crate) mod addresses;
pub mod block;
pub mod coredns;
pub mod defaults;
pub mod diag;
mod fields;
mod fleet;
mod hints;
pub mod limits;
mod manifest;
pub mod mesh;
pub mod netpol;
mod parse;
pub mod read;
pub mod schema;
pub mod trace;
pub mod traffic;
pub mod vary;
pub mod yaml;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use diag::{Diagnostic, Loc};
pub use mesh::{DestinationRule, Mesh, OutlierDetection};
pub use netpol::NetworkPolicy;
pub use parse::{parse, parse_tree, parse_with};
pub use traffic::{
    Capacity, Connections, Pool, Retries, RetryBudget, RetryOn, ServiceTime, Subset,
};

/// Where the field at `path` (as in a [`Diagnostic`] or a run error, e.g.
/// `cluster.ipam.pod_cidr`) is written in `src`, if it is.
pub fn locate(src: &str, path: &str) -> Option<Loc> {
    let root = yaml::parse_document(src).ok()??;
    // A path may be into a fleet's copy (its position is the template's).
    if let Ok(Some((expanded, _))) = fleet::expand(&root) {
        return expanded.find(path).map(|n| n.loc);
    }
    root.find(path).map(|n| n.loc)
}

use crate::time::{SimDuration, SimTime};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub duration: SimDuration,
    pub cluster: Cluster,
    pub dns: Dns,
    /// Namespaces declared by Namespace objects (others exist implicitly
    /// when an object names them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// The labels of Namespace objects that have any (besides the automatic
    /// `kubernetes.io/metadata.name`, which every namespace has).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    pub services: Vec<Service>,
    pub statefulsets: Vec<StatefulSet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
    /// Hand-written EndpointSlices (and Endpoints, converted): taken as given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoint_slices: Vec<EndpointSliceDef>,
    /// Hand-written Pods: taken as given, never replaced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<PodDef>,
    /// Pods whose lifecycle replays a recorded watch (`pod_traces`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traced_pods: Vec<trace::TracedPod>,
    pub clients: Vec<ClientGroup>,
    pub events: Vec<TimelineEvent>,
    /// The Istio mesh, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<Mesh>,
    /// NetworkPolicies (objects, or `network_policies`), defaults applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_policies: Vec<NetworkPolicy>,
    /// Where the objects came from and what reading them skipped: not part
    /// of the scenario's meaning (not serialized, not compared).
    #[serde(skip)]
    pub provenance: Provenance,
}

/// What reading a scenario noticed without refusing it, and where each
/// object was declared. Two scenarios that differ only here are equal:
/// the same objects read from other files are the same scenario.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// Warnings from reading: kinds skipped (one line per kind, with a
    /// count), fields read only in part, Istio objects not modelled.
    pub notes: Vec<String>,
    /// Where each named object was declared.
    pub origins: Vec<Origin>,
}

impl PartialEq for Provenance {
    fn eq(&self, _: &Provenance) -> bool {
        true
    }
}

/// Where one object was declared: a Kubernetes object (`kind` as in its
/// manifest) or a short-form entry (`kind` is the section's kind:
/// `Service`, `StatefulSet`, `Deployment`, `client group`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The manifest file as written under `manifests`; `None`: the scenario.
    pub file: Option<String>,
    pub loc: Loc,
}

impl Provenance {
    /// Where `kind` `namespace/name` was declared, if recorded.
    pub fn origin(&self, kind: &str, namespace: &str, name: &str) -> Option<&Origin> {
        self.origins
            .iter()
            .find(|o| o.kind == kind && o.namespace == namespace && o.name == name)
    }
}

/// A hand-written EndpointSlice (`discovery.k8s.io/v1`), or the slice an
/// `Endpoints` object converts to: addresses served for a Service whatever
/// its selector, as the "manual endpoints" pattern does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointSliceDef {
    pub name: String,
    pub namespace: String,
    /// The `kubernetes.io/service-name` label: the Service it belongs to.
    pub service: String,
    #[serde(rename = "addressType")]
    pub address_type: AddressType,
    pub endpoints: Vec<SliceEndpoint>,
    pub ports: Vec<SlicePort>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AddressType {
    IPv4,
    IPv6,
    #[serde(rename = "FQDN")]
    Fqdn,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceEndpoint {
    pub addresses: Vec<std::net::IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `targetRef.name` of a Pod.
    #[serde(rename = "targetRef", skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<String>,
    /// `conditions.ready`; absent means unknown, which counts as ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlicePort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: u16,
    pub protocol: String,
}

/// A hand-written Pod (`v1`): it exists, with its IP and readiness, for the
/// whole run; Services whose selector matches its labels get it as an
/// endpoint (with its hostname when its subdomain is the Service).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodDef {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// `status.podIP`.
    #[serde(rename = "podIP", serialize_with = "as_ipv4")]
    pub ip: u32,
    /// The `Ready` condition.
    pub ready: bool,
    /// Container ports it listens on.
    pub ports: Vec<u16>,
}

fn as_ipv4<S: serde::Serializer>(ip: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&std::net::Ipv4Addr::from(*ip))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cluster {
    pub domain: String,
    pub propagation: SimDuration,
    pub ipam: Ipam,
    #[serde(serialize_with = "as_display")]
    pub unassigned_ip: UnassignedIp,
    /// Nodes the client pods are spread over (client `i` of the run on node
    /// `i mod nodes`); each runs its own NodeLocal DNSCache when enabled.
    pub nodes: u32,
    /// kube-proxy's mode on every node.
    #[serde(serialize_with = "as_display")]
    pub kube_proxy: ProxyMode,
    /// Zones (`topology.kubernetes.io/zone`): node `n` is in zone
    /// `zone-<n mod zones>`.
    #[serde(skip_serializing_if = "is_one")]
    pub zones: u32,
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// How kube-proxy picks an endpoint for a new connection to a ClusterIP
/// (reference/balancing.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// iptables: rule i of n matches with probability 1/(n-i): uniform.
    Iptables,
    /// nftables: `numgen random`: uniform.
    Nftables,
    /// IPVS round robin, one cursor per node and Service.
    IpvsRoundRobin,
    /// IPVS source hashing: a client always lands on the same endpoint
    /// while the endpoint list is unchanged.
    IpvsSourceHash,
    /// IPVS least connections: the endpoint with the fewest of this node's
    /// connections open (first in the list on a tie).
    IpvsLeastConn,
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Nftables => "nftables",
            ProxyMode::IpvsRoundRobin => "ipvs(rr)",
            ProxyMode::IpvsSourceHash => "ipvs(sh)",
            ProxyMode::IpvsLeastConn => "ipvs(lc)",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ipam {
    #[serde(serialize_with = "as_display")]
    pub reuse: IpReuse,
    #[serde(serialize_with = "as_display")]
    pub pod_cidr: Cidr,
    #[serde(serialize_with = "as_display")]
    pub service_cidr: Cidr,
}

/// What happens to a released pod IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpReuse {
    /// Never hand an address out twice in a run (the whole pod CIDR).
    Never,
    /// CNI host-local: each node allocates from its own range round-robin,
    /// starting after the last address it reserved, so a released address
    /// comes back only once the range has cycled (reference/dns.md §5).
    HostLocal,
    /// The last address released is the next handed out.
    Immediate,
    /// A released address may be handed out again after this long (AWS VPC
    /// CNI `IP_COOLDOWN_PERIOD`, 30 s); the longest-released first.
    Cooldown(SimDuration),
}

/// An IPv4 prefix such as `10.244.0.0/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Number of host addresses usable for allocation (network and broadcast excluded).
    pub fn usable(&self) -> u64 {
        let size = 1u64 << (32 - self.prefix as u32);
        size.saturating_sub(2).max(1)
    }
}

/// What a dial to an address nobody holds does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnassignedIp {
    /// Packets are dropped: the client's connect timeout fires (`timeout`).
    Timeout,
    /// The node answers ICMP host-unreachable after this delay (`unreachable(3s)`).
    Unreachable(SimDuration),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dns {
    /// Record TTL (whole seconds), CoreDNS `kubernetes { ttl N }`.
    pub ttl: SimDuration,
    pub cache: DnsCache,
    /// CoreDNS `loadbalance`: shuffle A records in every response.
    pub shuffle: bool,
    /// NodeLocal DNSCache on every node.
    pub node_local: NodeLocal,
    /// CoreDNS `kubernetes { pods ... }`: `<a-b-c-d>.<ns>.pod.<zone>` records.
    #[serde(serialize_with = "as_display")]
    pub pods: PodsMode,
    /// CoreDNS `kubernetes { endpoint_pod_names }`: an endpoint without a
    /// hostname is named after its pod.
    pub endpoint_pod_names: bool,
    /// When CoreDNS's informers have synced (a restarting CoreDNS); before,
    /// answers that would be NXDOMAIN are SERVFAIL (reference/dns.md §2).
    pub synced_after: SimDuration,
    /// CoreDNS `kubernetes { ignore empty_service }` (see [`coredns`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_empty_service: bool,
    /// CoreDNS `kubernetes { namespaces ... }`: exposed namespaces (empty: all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// CoreDNS `kubernetes { fallthrough [ZONES] }` (empty list: all zones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallthrough: Option<Vec<String>>,
    /// What the resolver behind `forward .` answers for names outside the
    /// cluster (empty: no name exists outside).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<coredns::UpstreamName>,
    /// The reverse zones of the `kubernetes` plugin's `zones` list (`None`:
    /// `in-addr.arpa ip6.arpa`, as both standard Corefiles list them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_zones: Option<Vec<String>>,
}

/// CoreDNS `pods` option (reference/dns.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodsMode {
    /// No pod records (the plugin's default): `*.pod.<zone>` is NXDOMAIN.
    Disabled,
    /// An A record for any well-formed dashed IP in an existing namespace.
    Insecure,
    /// Only for an IP some pod in that namespace has.
    Verified,
}

impl fmt::Display for PodsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PodsMode::Disabled => "disabled",
            PodsMode::Insecure => "insecure",
            PodsMode::Verified => "verified",
        })
    }
}

/// NodeLocal DNSCache (`nodelocaldns.yaml`: `cache { success 9984 30;
/// denial 9984 5 }`, no `loadbalance`): a CoreDNS cache on each node between
/// its pods and the cluster DNS.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeLocal {
    pub enabled: bool,
    /// Cap for answers with records (`success ... 30`).
    pub max_ttl: SimDuration,
    /// Cap for NXDOMAIN/NODATA (`denial ... 5`).
    pub denial_max_ttl: SimDuration,
}

/// CoreDNS `cache` plugin for the cluster zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsCache {
    pub enabled: bool,
    /// Upper bound on how long a positive answer is held (`cache N`, `success`).
    pub max_ttl: SimDuration,
    /// Upper bound for negative answers (`denial`); `cache N` sets both.
    pub denial_max_ttl: SimDuration,
    /// Lower bound for both (`MINTTL`, CoreDNS `MinimalDefaultTTL` 5 s).
    pub min_ttl: SimDuration,
    /// `prefetch AMOUNT [DURATION] [PERCENTAGE%]`; off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<Prefetch>,
    /// `serve_stale DURATION` (immediate mode); off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serve_stale: Option<SimDuration>,
}

/// CoreDNS `cache { prefetch }`: an entry asked for at least `amount` times
/// with no gap of `duration` is refreshed when its remaining TTL falls to
/// `ceil(percentage% of its TTL)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Prefetch {
    pub amount: u32,
    pub duration: SimDuration,
    pub percentage: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    /// The IPv4 ClusterIP (or `None` for headless and ExternalName services).
    #[serde(rename = "clusterIP", serialize_with = "as_display")]
    pub cluster_ip: ClusterIp,
    /// IPv6 entries of `spec.clusterIPs` (dual-stack or IPv6-only services).
    /// Answered in AAAA records; the simulated data path is IPv4.
    #[serde(rename = "clusterIPv6", skip_serializing_if = "Vec::is_empty")]
    pub cluster_ipv6: Vec<std::net::Ipv6Addr>,
    /// `type: ExternalName`: the name its DNS record is a CNAME to.
    #[serde(rename = "externalName", skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    /// `sessionAffinity: ClientIP`: kube-proxy keeps a client on its endpoint
    /// for this long after its last connection (`timeoutSeconds`, 3 h).
    #[serde(rename = "sessionAffinity", skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<SimDuration>,
    /// `type: NodePort` or `LoadBalancer`: reachable from outside the
    /// cluster through every node's port, with its `externalTrafficPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalAccess>,
    /// `trafficDistribution: PreferClose`: kube-proxy prefers endpoints in
    /// the client's zone.
    #[serde(
        rename = "trafficDistributionPreferClose",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub prefer_close: bool,
    /// `internalTrafficPolicy: Local`: only endpoints on the client's node.
    #[serde(
        rename = "internalTrafficPolicyLocal",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub local_traffic: bool,
    /// `spec.publishNotReadyAddresses`: not-ready pods are endpoints too.
    #[serde(
        rename = "publishNotReadyAddresses",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub publish_not_ready: bool,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
}

/// How a NodePort or LoadBalancer Service is reached from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExternalAccess {
    /// `type: LoadBalancer` (a cloud load balancer in front of the nodes).
    pub load_balancer: bool,
    /// `externalTrafficPolicy: Local`: a node only sends to its own
    /// endpoints (none: dropped), and the load balancer's health check
    /// (`healthCheckNodePort`) takes nodes without one out of rotation.
    pub local: bool,
}

/// Where a client group's connections enter the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// A pod in the cluster: DNS, then the ClusterIP or pod IPs.
    Pod,
    /// Outside, through the node port of the client's node.
    NodePort,
    /// Outside, through the Service's cloud load balancer.
    LoadBalancer,
}

impl Service {
    /// `clusterIP: None` (and not ExternalName): DNS answers its endpoints.
    pub fn is_headless(&self) -> bool {
        self.cluster_ip == ClusterIp::None
            && self.cluster_ipv6.is_empty()
            && self.external_name.is_none()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterIp {
    /// `clusterIP: None`: a headless service.
    None,
    /// Allocated from the service CIDR in declaration order.
    Auto,
    Fixed(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServicePort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: u16,
    #[serde(rename = "targetPort")]
    pub target_port: u16,
    pub protocol: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatefulSet {
    pub name: String,
    pub namespace: String,
    /// The governing service (`spec.serviceName`).
    pub service: String,
    pub replicas: u32,
    pub start_ready: bool,
    #[serde(rename = "podManagementPolicy", serialize_with = "as_display")]
    pub pod_management_policy: PodManagementPolicy,
    pub labels: BTreeMap<String, String>,
    /// Container ports the pods listen on.
    pub ports: Vec<u16>,
    pub lifecycle: Lifecycle,
    pub churn: Churn,
    #[serde(rename = "updateStrategy", serialize_with = "as_display")]
    pub update_strategy: UpdateStrategy,
    /// `ordinals.start`: the first pod is `<name>-<start>`.
    #[serde(rename = "ordinalsStart", skip_serializing_if = "is_zero")]
    pub ordinals_start: u32,
    /// `minReadySeconds`: a pod counts as available (for rolling updates)
    /// once it has been Ready this long.
    #[serde(rename = "minReadySeconds")]
    pub min_ready: SimDuration,
    /// What one pod can serve at once; `None`: every request at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    /// `sidecar.istio.io/inject`: overrides the namespace's injection label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<bool>,
}

/// A Deployment (through its ReplicaSets): anonymous pods, replaced at once
/// when deleted, rolled by surge and unavailability budgets
/// (reference/balancing.md §2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Deployment {
    pub name: String,
    pub namespace: String,
    pub replicas: u32,
    pub start_ready: bool,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<u16>,
    pub lifecycle: Lifecycle,
    pub churn: Churn,
    #[serde(serialize_with = "as_display")]
    pub strategy: DeploymentStrategy,
    #[serde(rename = "minReadySeconds")]
    pub min_ready: SimDuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<bool>,
}

/// Deployment `strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentStrategy {
    /// At most `replicas + maxSurge` pods, at least `replicas -
    /// maxUnavailable` available, during a rollout.
    RollingUpdate {
        max_surge: Quantity,
        max_unavailable: Quantity,
    },
    /// Delete every old pod, then create the new ones.
    Recreate,
}

/// An absolute count or a percentage of `replicas` (IntOrString).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    Count(u32),
    Percent(u32),
}

impl Quantity {
    /// The count for `replicas`: percentages round up (`up`) or down.
    pub fn resolve(self, replicas: u32, up: bool) -> u32 {
        match self {
            Quantity::Count(n) => n,
            Quantity::Percent(p) => {
                let x = p as u64 * replicas as u64;
                (if up { x.div_ceil(100) } else { x / 100 }) as u32
            }
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Count(n) => write!(f, "{n}"),
            Quantity::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl fmt::Display for DeploymentStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeploymentStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            } => write!(
                f,
                "RollingUpdate(maxSurge={max_surge}, maxUnavailable={max_unavailable})"
            ),
            DeploymentStrategy::Recreate => f.write_str("Recreate"),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Deployment {
    /// The name of its `n`-th pod (0-based, over the run), created from
    /// template revision `revision`: `<deployment>-<template hash>-<n>`,
    /// as a ReplicaSet names pods `<deployment>-<pod-template-hash>-<suffix>`
    /// (the hash here stands for the revision; the suffix counts instead of
    /// Kubernetes' random one, so a scenario can name the pod).
    pub fn pod_name(&self, revision: u32, n: u32) -> String {
        let hash = crate::rng::splitmix64(&mut (revision as u64 ^ 0x6b73_696d)) as u32;
        format!("{}-{hash:08x}-{n:05}", self.name)
    }

    /// Whether `pod` has the shape of one of its pod names (any revision).
    pub fn may_own(&self, pod: &str) -> bool {
        let Some(rest) = pod
            .strip_prefix(self.name.as_str())
            .and_then(|r| r.strip_prefix('-'))
        else {
            return false;
        };
        let Some((hash, n)) = rest.split_once('-') else {
            return false;
        };
        hash.len() == 8
            && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && n.len() >= 5
            && n.bytes().all(|b| b.is_ascii_digit())
    }
}

impl StatefulSet {
    /// The name of the pod at index `i` (0-based among `replicas`): the
    /// set's name and its ordinal, `ordinals.start + i` (`web-0`).
    pub fn pod_name(&self, i: u32) -> String {
        format!("{}-{}", self.name, self.ordinals_start + i)
    }

    /// The index (0-based) of the pod named `pod`, if it is one of this set's
    /// names (`<name>-<ordinal>`, ordinal in canonical form, not below the start).
    pub fn index_of(&self, pod: &str) -> Option<u32> {
        let ordinal: u32 = pod
            .strip_prefix(self.name.as_str())?
            .strip_prefix('-')?
            .parse()
            .ok()?;
        (pod == format!("{}-{ordinal}", self.name))
            .then(|| ordinal.checked_sub(self.ordinals_start))
            .flatten()
    }
}

/// StatefulSet `updateStrategy` (reference/balancing.md §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateStrategy {
    /// Replace pods of an old revision from the largest ordinal down, one at
    /// a time, each only once the previous is Running, Ready and available;
    /// ordinals below `partition` keep the old revision.
    RollingUpdate { partition: u32 },
    /// Never replace pods on an update; a deleted pod comes back at the new revision.
    OnDelete,
}

impl fmt::Display for UpdateStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateStrategy::RollingUpdate { partition: 0 } => f.write_str("RollingUpdate"),
            UpdateStrategy::RollingUpdate { partition } => {
                write!(f, "RollingUpdate(partition={partition})")
            }
            UpdateStrategy::OnDelete => f.write_str("OnDelete"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodManagementPolicy {
    OrderedReady,
    Parallel,
}

/// Pod timings: created → (startup) → listening and Ready; deleted → still
/// serving for `drain` → process exits, port refuses for `teardown` → IP released.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lifecycle {
    pub startup: SimDuration,
    pub drain: SimDuration,
    pub teardown: SimDuration,
    /// `terminationGracePeriodSeconds`: the kubelet kills the process this
    /// long after deletion, so draining stops there at the latest.
    #[serde(rename = "terminationGracePeriodSeconds")]
    pub grace: SimDuration,
    /// `readinessProbe`: without one a pod stays Ready while its container
    /// runs, even hung.
    #[serde(rename = "readinessProbe", skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Probe>,
    /// `livenessProbe`: without one a hung container is never restarted.
    #[serde(rename = "livenessProbe", skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Probe>,
}

/// A probe's timing (`core/v1` Probe; defaults period 10 s, timeout 1 s,
/// failureThreshold 3, reference/balancing.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    #[serde(rename = "periodSeconds")]
    pub period: SimDuration,
    #[serde(rename = "timeoutSeconds")]
    pub timeout: SimDuration,
    #[serde(rename = "failureThreshold")]
    pub failure_threshold: u32,
}

impl Probe {
    /// When a probe that starts failing at `since` (the container hung) has
    /// failed `failureThreshold` times in a row, for a container whose
    /// probes run every period from `base`: the first probe at or after
    /// `since` times out after `timeout`, and so do the next ones.
    pub fn fails_at(&self, base: SimTime, since: SimTime) -> SimTime {
        let period = self.period.as_ns().max(1);
        let k = since.as_ns().saturating_sub(base.as_ns()).div_ceil(period);
        let first = base.as_ns() + k * period;
        SimTime(first + (self.failure_threshold.max(1) as u64 - 1) * period + self.timeout.as_ns())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Churn {
    #[serde(serialize_with = "as_display")]
    pub lifetime: Lifetime,
}

/// How long a pod identity lives before it is deleted, counted from the moment
/// its current pod became Ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    None,
    Fixed(SimDuration),
    Exponential(SimDuration),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientGroup {
    pub name: String,
    pub namespace: String,
    /// The client pods' labels, when not the default `{app: <name>}`
    /// (see [`ClientGroup::labels`]); NetworkPolicies select them.
    #[serde(rename = "labels", skip_serializing_if = "Option::is_none")]
    pub custom_labels: Option<BTreeMap<String, String>>,
    pub count: u32,
    #[serde(serialize_with = "as_display")]
    pub target: Target,
    /// Poisson arrival rate per client, requests per second.
    pub rate: f64,
    pub resolver: Resolver,
    #[serde(rename = "dnsPolicy", serialize_with = "as_display")]
    pub dns_policy: DnsPolicy,
    #[serde(rename = "dnsConfig")]
    pub dns_config: DnsConfig,
    #[serde(serialize_with = "as_display")]
    pub balancer: Balancer,
    pub connect_timeout: SimDuration,
    /// The client gives up on a request this long after sending it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<SimDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
    #[serde(skip_serializing_if = "is_per_request")]
    pub connections: Connections,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<Subset>,
    /// Outside clients enter through a node port or load balancer.
    #[serde(skip_serializing_if = "is_pod_entry")]
    pub entry: Entry,
}

impl ClientGroup {
    /// The labels of the group's pods: as written, or `{app: <name>}`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        match &self.custom_labels {
            Some(l) => l.clone(),
            None => BTreeMap::from([("app".to_string(), self.name.clone())]),
        }
    }
}

fn is_pod_entry(e: &Entry) -> bool {
    *e == Entry::Pod
}

fn is_per_request(c: &Connections) -> bool {
    *c == Connections::PerRequest
}

/// Pod `dnsPolicy` (kubelet `pkg/kubelet/network/dns/dns.go`, reference/dns.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsPolicy {
    /// Cluster DNS, search `<ns>.svc.<zone> svc.<zone> <zone>`, `ndots:5`.
    ClusterFirst,
    /// The node's resolv.conf: its upstream nameserver, no cluster search
    /// domains (the simulated node has none), `ndots:1`.
    Default,
    /// Only what `dnsConfig` says.
    None,
}

/// Pod `dnsConfig`: merged into what the policy gives (kubelet appends the
/// searches, de-duplicated, and lets options override).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DnsConfig {
    /// Nameserver addresses; the cluster DNS Service's ClusterIP means the
    /// cluster DNS, anything else an upstream server.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ipv4_list")]
    pub nameservers: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub searches: Vec<String>,
    /// The `ndots` option, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ndots: Option<u8>,
}

fn ipv4_list<S: serde::Serializer>(ips: &[u32], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ips.iter().map(|ip| fmt_ipv4(*ip)))
}

/// `host:port` as a client would write it: the host is looked up through the
/// client's search list, the port is a number or a service port name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: PortRef,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Resolver {
    /// The profile the other fields start from (each may be overridden).
    #[serde(serialize_with = "as_display")]
    pub profile: ResolverProfile,
    #[serde(serialize_with = "as_display")]
    pub search: SearchStyle,
    /// Sends an AAAA query beside each A query (`getaddrinfo` with AF_UNSPEC).
    pub aaaa: bool,
    #[serde(serialize_with = "as_display")]
    pub cache: ResolverCache,
    #[serde(serialize_with = "as_display")]
    pub negative_cache: NegativeCache,
    #[serde(serialize_with = "as_display")]
    pub refresh: Refresh,
}

/// Client resolver profiles: each is a set of defaults for [`Resolver`]'s
/// fields, from the real library's behaviour (see `defaults::profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolverProfile {
    Glibc,
    Musl,
    Go,
    Jvm,
    Nscd,
    SystemdResolved,
    EnvoyStrictDns,
    Grpc,
    None,
}

impl ResolverProfile {
    pub const ALL: [ResolverProfile; 9] = [
        ResolverProfile::Glibc,
        ResolverProfile::Musl,
        ResolverProfile::Go,
        ResolverProfile::Jvm,
        ResolverProfile::Nscd,
        ResolverProfile::SystemdResolved,
        ResolverProfile::EnvoyStrictDns,
        ResolverProfile::Grpc,
        ResolverProfile::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ResolverProfile::Glibc => "glibc",
            ResolverProfile::Musl => "musl",
            ResolverProfile::Go => "go",
            ResolverProfile::Jvm => "jvm",
            ResolverProfile::Nscd => "nscd",
            ResolverProfile::SystemdResolved => "systemd-resolved",
            ResolverProfile::EnvoyStrictDns => "envoy-strict-dns",
            ResolverProfile::Grpc => "grpc",
            ResolverProfile::None => "none",
        }
    }
}

/// How the stub resolver walks the search list (reference/dns.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchStyle {
    /// glibc `__res_context_search` (also Go, c-ares): a name with at least
    /// `ndots` dots is tried as-is first, then the search list; the walk goes
    /// on past NXDOMAIN, NODATA and SERVFAIL.
    Glibc,
    /// musl `name_from_dns_search`: a name with at least `ndots` dots is tried
    /// only as-is; the walk stops at the first NODATA or SERVFAIL.
    Musl,
}

/// The client-side answer cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolverCache {
    /// Resolve on every request (glibc, musl, Go).
    None,
    /// Keep an answer for the TTL it arrived with.
    Ttl,
    /// Keep an answer for its TTL, but at most this long (systemd-resolved: 2 h).
    TtlMax(SimDuration),
    /// Keep an answer for a fixed time, ignoring its TTL (the JVM's 30 s).
    Fixed(SimDuration),
}

/// The client-side cache of failed lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegativeCache {
    None,
    /// For the TTL of the negative answer (the SOA's).
    Ttl,
    /// For a fixed time (JVM `networkaddress.cache.negative.ttl=10`).
    Fixed(SimDuration),
}

/// When the client resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// When a request finds no usable cached answer (getaddrinfo-style).
    Lazy,
    /// On a timer from t = 0, whatever the traffic; the answer is used until
    /// the next one (Envoy STRICT_DNS `dns_refresh_rate`, 5 s). An empty
    /// answer empties the host set.
    Every(SimDuration),
    /// At t = 0, then only after a connection fails, no sooner than this long
    /// after the previous resolution (gRPC `ResolveNow`, `MinResolutionInterval` 30 s).
    OnFailure(SimDuration),
}

/// How a client picks one address from its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    /// Uniformly at random per request.
    Random,
    /// Always the first address.
    First,
    /// A per-client cursor: `list[cursor % len]`, then `cursor += 1`; the
    /// cursor survives answer refreshes. `random_start`: the cursor starts
    /// at a random index (Envoy seeds it so), else at 0.
    RoundRobin { random_start: bool },
    /// Envoy LEAST_REQUEST over the requests this client has in flight to
    /// each address: `choices` draws with replacement, fewest active wins,
    /// ties to the earlier draw; `choices: 0` scans every address.
    LeastRequest { choices: u32 },
    /// Envoy RING_HASH (Ketama, XXH64) with `minimum_ring_size` (Envoy
    /// and Istio default 1024; the maximum is Envoy's default, 8M).
    RingHash { on: HashOn, min_ring_size: u32 },
    /// Envoy MAGLEV with `table_size` (a prime; default 65537).
    Maglev { on: HashOn, table_size: u32 },
    /// gRPC `pick_first`: the first address that connects, kept until it
    /// fails; `shuffle`: gRFC A62 `shuffleAddressList`.
    PickFirst { shuffle: bool },
    /// gRPC `round_robin`: from a random start over the addresses whose
    /// connection is up.
    GrpcRoundRobin,
    /// A "smart" client: the address of StatefulSet ordinal `ordinal` when
    /// the answer has it (writes to the primary), else round robin.
    PreferOrdinal { ordinal: u32 },
}

/// What a hash balancer hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashOn {
    /// The client's source address (Istio `useSourceIp`): a client sticks
    /// to one pod.
    Client,
    /// A per-request key (a header carrying, say, a user id).
    Request,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub at: SimDuration,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `delete_pod: web-1` (or `ns/web-1`).
    #[serde(serialize_with = "pod_ref")]
    DeletePod { namespace: String, pod: String },
    /// `rollout_restart: web` (`kubectl rollout restart statefulset/web`): a
    /// new revision of the pod template, rolled out by its update strategy.
    #[serde(serialize_with = "pod_ref")]
    RolloutRestart {
        namespace: String,
        statefulset: String,
    },
    /// `rollout_restart: api` naming a Deployment.
    #[serde(serialize_with = "pod_ref")]
    RolloutRestartDeployment {
        namespace: String,
        deployment: String,
    },
    /// `update_image: {statefulset: web, broken: true}` (or `deployment:`):
    /// a new template revision rolled out like `rollout_restart`; `broken`:
    /// its pods never become Ready (a bad image), so the rollout stalls.
    UpdateImage {
        namespace: String,
        workload: String,
        deployment: bool,
        broken: bool,
    },
    /// `crash_pod: web-1` or `{pod: web-1, loop: 10s}`: the container exits
    /// and the kubelet restarts it after its back-off; with `loop`, every
    /// restart crashes again after that long (CrashLoopBackOff).
    CrashPod {
        namespace: String,
        pod: String,
        crash_loop: Option<SimDuration>,
    },
    /// `hang_pod: web-1`: the container stops answering (deadlock, GC
    /// death spiral) but keeps its port open: connections are accepted and
    /// never answered. Only a readiness probe takes it out of the
    /// endpoints, only a liveness probe restarts it.
    HangPod { namespace: String, pod: String },
    /// `fail_node: node-1`: the node stops (power loss); its pods go dark.
    FailNode { node: u32 },
    /// `drain_node: node-1` (`kubectl drain`): cordon, evict its pods.
    DrainNode { node: u32 },
    /// `scale: {deployment: api, replicas: 5}`.
    ScaleDeployment {
        namespace: String,
        deployment: String,
        replicas: u32,
    },
    /// `scale: {statefulset: web, replicas: 5}`.
    Scale {
        namespace: String,
        statefulset: String,
        replicas: u32,
    },
}

fn pod_ref<S: serde::Serializer>(ns: &str, pod: &str, s: S) -> Result<S::Ok, S::Error> {
    if ns == defaults::NAMESPACE {
        s.serialize_str(pod)
    } else {
        s.collect_str(&format_args!("{ns}/{pod}"))
    }
}

fn as_display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn as_display_opt<T: fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

impl Scenario {
    /// `sha256:<hex>` of the canonical JSON form (defaults applied, seed
    /// included). Comments and layout do not change it; any semantic change does.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("a scenario always serializes");
        let hash = Sha256::digest(&json);
        let mut out = String::from("sha256:");
        for b in hash {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// The canonical scenario file for this scenario (JSON, which is YAML).
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serializes")
    }
}

pub fn fmt_ipv4(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", fmt_ipv4(self.base), self.prefix)
    }
}

impl fmt::Display for IpReuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpReuse::Never => f.write_str("never"),
            IpReuse::HostLocal => f.write_str("host-local"),
            IpReuse::Immediate => f.write_str("immediate"),
            IpReuse::Cooldown(d) => write!(f, "cooldown({d})"),
        }
    }
}

impl fmt::Display for UnassignedIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnassignedIp::Timeout => f.write_str("timeout"),
            UnassignedIp::Unreachable(d) => write!(f, "unreachable({d})"),
        }
    }
}

impl fmt::Display for ClusterIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterIp::None => f.write_str("None"),
            ClusterIp::Auto => f.write_str("auto"),
            ClusterIp::Fixed(ip) => f.write_str(&fmt_ipv4(*ip)),
        }
    }
}

impl fmt::Display for PodManagementPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PodManagementPolicy::OrderedReady => "OrderedReady",
            PodManagementPolicy::Parallel => "Parallel",
        })
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::None => f.write_str("none"),
            Lifetime::Fixed(d) => write!(f, "fixed({d})"),
            Lifetime::Exponential(d) => write!(f, "exponential({d})"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.port {
            PortRef::Number(n) => write!(f, "{}:{n}", self.host),
            PortRef::Name(n) => write!(f, "{}:{n}", self.host),
        }
    }
}

impl fmt::Display for ResolverCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolverCache::None => f.write_str("none"),
            ResolverCache::Ttl => f.write_str("ttl"),
            ResolverCache::TtlMax(d) => write!(f, "ttl({d})"),
            ResolverCache::Fixed(d) => write!(f, "fixed({d})"),
        }
    }
}

impl fmt::Display for NegativeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegativeCache::None => f.write_str("none"),
            NegativeCache::Ttl => f.write_str("ttl"),
            NegativeCache::Fixed(d) => write!(f, "fixed({d})"),
        }
    }
}

impl fmt::Display for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refresh::Lazy => f.write_str("lazy"),
            Refresh::Every(d) => write!(f, "every({d})"),
            Refresh::OnFailure(d) => write!(f, "on_failure({d})"),
        }
    }
}

impl fmt::Display for ResolverProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for SearchStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SearchStyle::Glibc => "glibc",
            SearchStyle::Musl => "musl",
        })
    }
}

impl fmt::Display for DnsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsPolicy::ClusterFirst => "ClusterFirst",
            DnsPolicy::Default => "Default",
            DnsPolicy::None => "None",
        })
    }
}

impl Balancer {
    /// Envoy RING_HASH with Envoy's (and Istio's) default sizes.
    pub fn ring_hash(on: HashOn) -> Balancer {
        Balancer::RingHash {
            on,
            min_ring_size: crate::balance::DEFAULT_MIN_RING_SIZE as u32,
        }
    }

    /// Envoy MAGLEV with the default table size, 65537.
    pub fn maglev(on: HashOn) -> Balancer {
        Balancer::Maglev {
            on,
            table_size: crate::balance::MAGLEV_DEFAULT_TABLE_SIZE as u32,
        }
    }
}

impl fmt::Display for Balancer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |o: &HashOn| match o {
            HashOn::Client => "client",
            HashOn::Request => "request",
        };
        match self {
            Balancer::Random => f.write_str("random"),
            Balancer::First => f.write_str("first"),
            Balancer::RoundRobin {
                random_start: false,
            } => f.write_str("round-robin"),
            Balancer::RoundRobin { random_start: true } => f.write_str("round-robin(random-start)"),
            Balancer::LeastRequest { choices: 0 } => f.write_str("least-request(full-scan)"),
            Balancer::LeastRequest { choices } => write!(f, "least-request({choices})"),
            Balancer::RingHash {
                on: o,
                min_ring_size,
            } => {
                write!(f, "ring-hash({})", on(o))?;
                if u64::from(*min_ring_size) != crate::balance::DEFAULT_MIN_RING_SIZE {
                    write!(f, " minimumRingSize {min_ring_size}")?;
                }
                Ok(())
            }
            Balancer::Maglev { on: o, table_size } => {
                write!(f, "maglev({})", on(o))?;
                if u64::from(*table_size) != crate::balance::MAGLEV_DEFAULT_TABLE_SIZE {
                    write!(f, " tableSize {table_size}")?;
                }
                Ok(())
            }
            Balancer::PickFirst { shuffle: false } => f.write_str("pick-first"),
            Balancer::PickFirst { shuffle: true } => f.write_str("pick-first(shuffle)"),
            Balancer::GrpcRoundRobin => f.write_str("grpc-round-robin"),
            Balancer::PreferOrdinal { ordinal } => write!(f, "prefer-ordinal({ordinal})"),
        }
    }
}
