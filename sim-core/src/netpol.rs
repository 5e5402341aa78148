//! NetworkPolicy: which connections the network lets through.
//!
//! Rules (kubernetes.io "Network Policies"; the NetworkPolicy v1 API):
//! * a pod is *isolated for ingress* when some policy of its namespace
//!   selects it (`podSelector`) and has `Ingress` among its `policyTypes`;
//!   likewise for egress. A pod no policy isolates accepts (sends) anything;
//! * an isolated pod accepts (sends) only what the union of the rules of the
//!   policies selecting it allows: a rule allows traffic that matches one of
//!   its peers (`from`/`to`; none listed: every peer) *and* one of its
//!   `ports` (none listed: every port);
//! * a connection needs both: egress from the source and ingress to the
//!   destination. What is denied is dropped, so the client's connect
//!   timeout fires (`timeout`), whatever the pod's state;
//! * a peer's `podSelector` alone selects pods of the policy's namespace,
//!   `namespaceSelector` alone every pod of the matching namespaces, both
//!   together the matching pods of the matching namespaces. Every namespace
//!   carries the label `kubernetes.io/metadata.name: <name>`;
//! * policies apply after kube-proxy's DNAT: a connection to a Service VIP is
//!   judged against the endpoint pod it was sent to, at its target port.
//!
//! What ksim does not model: `ipBlock` is matched against addresses that are
//! not pods (external endpoints, addresses nobody holds); whether it also
//! matches pod IPs depends on the network plugin (Calico does, Cilium does
//! not), and the docs advise it for cluster-external addresses. Client
//! groups have no addresses, so an ingress `ipBlock` never admits them. DNS
//! queries are not subject to policies. Named ports are refused when read.
//!
//! The answer depends only on labels, namespaces and the port, and every pod
//! of a workload shares its labels: [`Reach`] computes it once at setup per
//! (client group, workload) as a graph of allowed port ranges, and answers
//! the request path with a table look-up.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::cluster::Owner;
use crate::scenario::netpol::{NetworkPolicy, Peer, PolicyType, Rule};
use crate::scenario::{AddressType, Scenario};

/// The label every namespace carries, set by the API server.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// One end of a connection, as policies see it.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint<'a> {
    pub namespace: &'a str,
    /// A pod's labels; `None` for what is not a pod (an external host).
    pub labels: Option<&'a BTreeMap<String, String>>,
    /// Its IPv4 address, when `ipBlock`s are matched against it.
    pub ip: Option<u32>,
}

/// A set of ports: sorted, disjoint, inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ports(Vec<(u16, u16)>);

impl Ports {
    pub fn all() -> Ports {
        Ports(vec![(0, u16::MAX)])
    }

    pub fn none() -> Ports {
        Ports(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.0 == [(0, u16::MAX)]
    }

    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }

    /// Add `lo..=hi`.
    pub fn add(&mut self, lo: u16, hi: u16) {
        self.0.push((lo, hi));
        self.0.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(self.0.len());
        for &(lo, hi) in &self.0 {
            match merged.last_mut() {
                Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        self.0 = merged;
    }

    pub fn union(&mut self, other: &Ports) {
        for &(lo, hi) in &other.0 {
            self.add(lo, hi);
        }
    }

    pub fn intersect(&self, other: &Ports) -> Ports {
        let mut out = Ports::none();
        for &(a, b) in &self.0 {
            for &(c, d) in &other.0 {
                let (lo, hi) = (a.max(c), b.min(d));
                if lo <= hi {
                    out.add(lo, hi);
                }
            }
        }
        out
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }
}

/// The policies of a scenario, evaluated directly (the slow path: setup,
/// and questions about endpoints that are not workloads).
#[derive(Clone, Copy)]
pub struct Policies<'a> {
    pub policies: &'a [NetworkPolicy],
    /// Declared Namespace labels (the automatic one is added on lookup).
    pub namespace_labels: &'a BTreeMap<String, BTreeMap<String, String>>,
}

impl<'a> Policies<'a> {
    pub fn of(sc: &'a Scenario) -> Policies<'a> {
        Policies {
            policies: &sc.network_policies,
            namespace_labels: &sc.namespace_labels,
        }
    }

    /// The policies that isolate `ep` in direction `t` (none for what is
    /// not a pod).
    pub fn isolating<'p>(
        &'p self,
        ep: &'p Endpoint,
        t: PolicyType,
    ) -> impl Iterator<Item = &'a NetworkPolicy> + 'p {
        self.policies.iter().filter(move |p| {
            p.affects(t)
                && p.namespace == ep.namespace
                && ep.labels.is_some_and(|l| p.pod_selector.matches(l))
        })
    }

    pub fn isolated(&self, ep: &Endpoint, t: PolicyType) -> bool {
        self.isolating(ep, t).next().is_some()
    }

    /// Whether namespace `ns` matches a `namespaceSelector`.
    fn namespace_matches(&self, sel: &crate::scenario::netpol::LabelSelector, ns: &str) -> bool {
        let declared = self.namespace_labels.get(ns);
        sel.matches_with(|k| {
            if k == NAMESPACE_NAME_LABEL {
                Some(ns)
            } else {
                declared.and_then(|l| l.get(k)).map(String::as_str)
            }
        })
    }

    /// Whether `peer`, written in a policy of namespace `policy_ns`, is `ep`.
    fn peer_matches(&self, peer: &Peer, policy_ns: &str, ep: &Endpoint) -> bool {
        match peer {
            Peer::Pods {
                pod_selector,
                namespace_selector,
            } => {
                let Some(labels) = ep.labels else {
                    return false;
                };
                let ns_ok = match namespace_selector {
                    Some(sel) => self.namespace_matches(sel, ep.namespace),
                    None => ep.namespace == policy_ns,
                };
                ns_ok && pod_selector.as_ref().is_none_or(|s| s.matches(labels))
            }
            Peer::IpBlock(b) => ep.labels.is_none() && ep.ip.is_some_and(|ip| b.contains_v4(ip)),
        }
    }

    /// The ports of `protocol` a rule allows.
    fn rule_ports(rule: &Rule, protocol: &str) -> Ports {
        if rule.ports.is_empty() {
            return Ports::all();
        }
        let mut out = Ports::none();
        for p in rule.ports.iter().filter(|p| p.protocol == protocol) {
            match p.port {
                None => return Ports::all(),
                Some(lo) => out.add(lo, p.end_port.unwrap_or(lo)),
            }
        }
        out
    }

    /// The ports `me` may use in direction `t` with `other` (the source for
    /// ingress, the destination for egress).
    fn side(&self, me: &Endpoint, other: &Endpoint, t: PolicyType, protocol: &str) -> Ports {
        let mut isolated = false;
        let mut out = Ports::none();
        for p in self.isolating(me, t) {
            isolated = true;
            for rule in p.rules(t) {
                if rule.peers.is_empty()
                    || rule
                        .peers
                        .iter()
                        .any(|peer| self.peer_matches(peer, &p.namespace, other))
                {
                    out.union(&Self::rule_ports(rule, protocol));
                }
            }
        }
        if isolated { out } else { Ports::all() }
    }

    /// Destination ports `src` may send to `dst` on (egress side only).
    pub fn egress_ports(&self, src: &Endpoint, dst: &Endpoint, protocol: &str) -> Ports {
        self.side(src, dst, PolicyType::Egress, protocol)
    }

    /// Ports `dst` accepts from `src` on (ingress side only).
    pub fn ingress_ports(&self, src: &Endpoint, dst: &Endpoint, protocol: &str) -> Ports {
        self.side(dst, src, PolicyType::Ingress, protocol)
    }

    /// Destination ports on which a connection from `src` to `dst` passes
    /// both sides.
    pub fn ports(&self, src: &Endpoint, dst: &Endpoint, protocol: &str) -> Ports {
        self.egress_ports(src, dst, protocol)
            .intersect(&self.ingress_ports(src, dst, protocol))
    }

    pub fn allowed(&self, src: &Endpoint, dst: &Endpoint, protocol: &str, port: u16) -> bool {
        self.egress_ports(src, dst, protocol).contains(port)
            && self.ingress_ports(src, dst, protocol).contains(port)
    }
}

/// A node of the reachability graph: a class of endpoints that policies
/// cannot tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Client group `n` (`sc.clients[n]`): the traffic's sources.
    Group(u32),
    StatefulSet(u32),
    Deployment(u32),
    /// Hand-written Pod `n`.
    Pod(u32),
    /// Traced pod `n`.
    Traced(u32),
    /// An external endpoint's IPv4 address (not a pod).
    External(u32),
}

/// The reachability of every workload from every client group over TCP,
/// computed once at setup.
pub struct Reach<'a> {
    policies: Policies<'a>,
    /// No policy at all: everything is allowed (the common case).
    open: bool,
    /// Groups are nodes `0..groups`, destinations follow in [`Class`] order;
    /// an edge carries the ports allowed (never empty).
    graph: DiGraph<Class, Ports>,
    groups: usize,
    /// First destination index of StatefulSets, Deployments, Pods, traced
    /// pods and external addresses.
    base: [u32; 5],
    /// Destination classes in all.
    classes: usize,
    /// External addresses (sorted) by their class's offset from `base[4]`.
    external: Vec<u32>,
    /// `groups × classes`: index into `sets` (0: nothing, 1: everything).
    table: Vec<u32>,
    sets: Vec<Ports>,
    /// Each group's namespace and labels (for the slow questions).
    group_labels: Vec<BTreeMap<String, String>>,
    group_namespace: Vec<&'a str>,
    /// Whether a policy isolates each group for egress.
    egress_isolated: Vec<bool>,
}

impl<'a> Reach<'a> {
    pub fn new(sc: &'a Scenario) -> Reach<'a> {
        let policies = Policies::of(sc);
        let group_labels: Vec<BTreeMap<String, String>> =
            sc.clients.iter().map(|g| g.labels()).collect();
        let group_namespace: Vec<&str> = sc.clients.iter().map(|g| g.namespace.as_str()).collect();
        let pod_ips: Vec<u32> = sc.pods.iter().map(|p| p.ip).collect();
        let mut external: Vec<u32> = sc
            .endpoint_slices
            .iter()
            .filter(|s| s.address_type == AddressType::IPv4)
            .flat_map(|s| s.endpoints.iter().flat_map(|e| e.addresses.iter()))
            .filter_map(|a| match a {
                std::net::IpAddr::V4(v4) => Some(u32::from(*v4)),
                std::net::IpAddr::V6(_) => None,
            })
            .filter(|ip| !pod_ips.contains(ip))
            .collect();
        external.sort_unstable();
        external.dedup();

        // Destinations, in class order, with what policies see of each.
        let pod = |class, namespace: &'a str, labels: &'a BTreeMap<String, String>| {
            let ep = Endpoint {
                namespace,
                labels: Some(labels),
                ip: None,
            };
            (class, ep)
        };
        let mut dsts: Vec<(Class, Endpoint<'a>)> = Vec::new();
        let mut base = [0u32; 5];
        for (j, s) in sc.statefulsets.iter().enumerate() {
            dsts.push(pod(Class::StatefulSet(j as u32), &s.namespace, &s.labels));
        }
        base[1] = dsts.len() as u32;
        for (j, d) in sc.deployments.iter().enumerate() {
            dsts.push(pod(Class::Deployment(j as u32), &d.namespace, &d.labels));
        }
        base[2] = dsts.len() as u32;
        for (j, p) in sc.pods.iter().enumerate() {
            dsts.push(pod(Class::Pod(j as u32), &p.namespace, &p.labels));
        }
        base[3] = dsts.len() as u32;
        for (j, p) in sc.traced_pods.iter().enumerate() {
            dsts.push(pod(Class::Traced(j as u32), &p.namespace, &p.labels));
        }
        base[4] = dsts.len() as u32;
        for &ip in &external {
            let ep = Endpoint {
                namespace: "",
                labels: None,
                ip: Some(ip),
            };
            dsts.push((Class::External(ip), ep));
        }

        let groups = sc.clients.len();
        let classes = dsts.len();
        let mut graph = DiGraph::with_capacity(groups + classes, 0);
        for g in 0..groups {
            graph.add_node(Class::Group(g as u32));
        }
        for d in &dsts {
            graph.add_node(d.0);
        }
        let open = sc.network_policies.is_empty();
        let mut egress_isolated = vec![false; groups];
        for g in 0..groups {
            let src = Endpoint {
                namespace: group_namespace[g],
                labels: Some(&group_labels[g]),
                ip: None,
            };
            egress_isolated[g] = policies.isolated(&src, PolicyType::Egress);
            for (k, (_, dst)) in dsts.iter().enumerate() {
                let ports = if open {
                    Ports::all()
                } else {
                    policies.ports(&src, dst, "TCP")
                };
                if !ports.is_empty() {
                    graph.add_edge(NodeIndex::new(g), NodeIndex::new(groups + k), ports);
                }
            }
        }

        // The hot path's table, from the graph's edges.
        let mut sets = vec![Ports::none(), Ports::all()];
        let mut table = vec![0u32; groups * classes];
        for e in graph.edge_references() {
            let (g, k) = (e.source().index(), e.target().index() - groups);
            let set = match sets.iter().position(|s| s == e.weight()) {
                Some(i) => i,
                None => {
                    sets.push(e.weight().clone());
                    sets.len() - 1
                }
            };
            table[g * classes + k] = set as u32;
        }
        Reach {
            policies,
            open,
            graph,
            groups,
            base,
            classes,
            external,
            table,
            sets,
            group_labels,
            group_namespace,
            egress_isolated,
        }
    }

    /// The reachability graph: client groups and workloads, with an edge
    /// where some port is allowed (its weight: the ports).
    pub fn graph(&self) -> &DiGraph<Class, Ports> {
        &self.graph
    }

    /// The destination class of a pod by its owner (and address, for an
    /// external host); `None` for an external address not known at setup.
    #[inline]
    pub fn class_of(&self, owner: Owner, ip: u32) -> Option<u32> {
        Some(match owner {
            Owner::StatefulSet { sts, .. } => self.base[0] + sts,
            Owner::Deployment { dep, .. } => self.base[1] + dep,
            Owner::Pod(n) => self.base[2] + n,
            Owner::Traced(n) => self.base[3] + n,
            Owner::External { .. } => self.base[4] + self.external.binary_search(&ip).ok()? as u32,
        })
    }

    /// May client group `group` open a TCP connection to destination class
    /// `class` at `port`? A table look-up.
    #[inline]
    pub fn allows(&self, group: u32, class: u32, port: u16) -> bool {
        if self.open {
            return true;
        }
        let set = self.table[group as usize * self.classes + class as usize];
        match set {
            0 => false,
            1 => true,
            s => self.sets[s as usize].contains(port),
        }
    }

    /// [`Reach::allows`] for the pod `owner` made, holding `ip`; an address
    /// no workload holds is judged by the group's egress rules alone.
    #[inline]
    pub fn allows_pod(&self, group: u32, owner: Owner, ip: u32, port: u16) -> bool {
        if self.open {
            return true;
        }
        match self.class_of(owner, ip) {
            Some(class) => self.allows(group, class, port),
            None => self.allows_ip(group, ip, port),
        }
    }

    /// May group `group` send to `ip:port`, an address no pod holds? Only
    /// its egress policies can stop it (the slow path: only for a group
    /// isolated for egress).
    #[inline]
    pub fn allows_ip(&self, group: u32, ip: u32, port: u16) -> bool {
        if self.open || !self.egress_isolated[group as usize] {
            return true;
        }
        let dst = Endpoint {
            namespace: "",
            labels: None,
            ip: Some(ip),
        };
        self.policies
            .egress_ports(&self.group_endpoint(group), &dst, "TCP")
            .contains(port)
    }

    fn group_endpoint(&self, group: u32) -> Endpoint<'_> {
        Endpoint {
            namespace: self.group_namespace[group as usize],
            labels: Some(&self.group_labels[group as usize]),
            ip: None,
        }
    }

    /// May group `group`'s egress policies let it reach a pod labelled
    /// `dst_labels` in `dst_namespace` at `protocol`/`port`? For control
    /// plane traffic to pods that are not workloads of the scenario (a
    /// sidecar to istiod on 15012): the destination's ingress is not
    /// considered (see [`Reach::reaches`] for both sides).
    pub fn egress_allowed(
        &self,
        group: u32,
        dst_namespace: &str,
        dst_labels: &BTreeMap<String, String>,
        protocol: &str,
        port: u16,
    ) -> bool {
        let dst = Endpoint {
            namespace: dst_namespace,
            labels: Some(dst_labels),
            ip: None,
        };
        self.policies
            .egress_ports(&self.group_endpoint(group), &dst, protocol)
            .contains(port)
    }

    /// Both sides, for any two endpoints.
    pub fn reaches(&self, src: &Endpoint, dst: &Endpoint, protocol: &str, port: u16) -> bool {
        self.policies.allowed(src, dst, protocol, port)
    }

    /// The group count the graph was built for.
    pub fn groups(&self) -> usize {
        self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::netpol::PolicyType;

    /// A scenario holding only `objects` (YAML list items).
    fn scenario(objects: &str) -> Scenario {
        let src = format!("name: t\nduration: 1s\nobjects:\n{objects}");
        crate::scenario::parse(&src).unwrap_or_else(|d| panic!("{}", d.render("t.yaml", &src)))
    }

    fn labels(s: &str) -> BTreeMap<String, String> {
        s.split(',')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("k=v");
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    /// A pod (`ns/app=a,tier=b`) or an address (`ip:10.0.0.1`).
    fn endpoint<'a>(spec: &'a str, store: &'a BTreeMap<String, String>) -> Endpoint<'a> {
        if let Some(ip) = spec.strip_prefix("ip:") {
            let ip: std::net::Ipv4Addr = ip.parse().expect("ip");
            return Endpoint {
                namespace: "",
                labels: None,
                ip: Some(u32::from(ip)),
            };
        }
        let (ns, _) = spec.split_once('/').expect("ns/labels");
        Endpoint {
            namespace: &spec[..ns.len()],
            labels: Some(store),
            ip: None,
        }
    }

    const NAMESPACES: &str = concat!(
        "  - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {env: prod}}}\n",
        "  - {apiVersion: v1, kind: Namespace, metadata: {name: dev, labels: {env: dev}}}\n",
    );

    fn deny_all_ingress(ns: &str) -> String {
        format!(
            "  - {{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: deny, namespace: {ns}}}, spec: {{podSelector: {{}}, policyTypes: [Ingress]}}}}\n"
        )
    }

    /// One policy in `prod` selecting `app=db`, with `spec` appended.
    fn db(spec: &str) -> String {
        format!(
            "  - {{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: db, namespace: prod}}, spec: {{podSelector: {{matchLabels: {{app: db}}}}, {spec}}}}}\n"
        )
    }

    #[test]
    fn each_rule_is_modelled() {
        // (what, objects, source, destination, port, allowed)
        let cases: Vec<(&str, String, &str, &str, u16, bool)> = vec![
            (
                "no policy: everything is allowed",
                String::new(),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "a policy elsewhere does not isolate",
                deny_all_ingress("dev"),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "default-deny ingress isolates every pod of its namespace",
                deny_all_ingress("prod"),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "ingress from a pod selector: same namespace",
                db("ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]"),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "ingress from a pod selector: other labels denied",
                db("ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]"),
                "prod/app=batch",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "a pod selector alone does not reach other namespaces",
                db("ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]"),
                "dev/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "an empty podSelector selects every pod of the namespace",
                db("ingress: [{from: [{podSelector: {}}]}]"),
                "prod/app=batch",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "a rule without from allows every source",
                db("ingress: [{}]"),
                "dev/app=x",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "ingress: [] denies everything",
                db("ingress: []"),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "unselected pods stay open",
                db("ingress: []"),
                "prod/app=web",
                "prod/app=cache",
                5432,
                true,
            ),
            (
                "namespaceSelector alone: every pod of matching namespaces",
                db("ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}}]}]"),
                "dev/app=anything",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "namespaceSelector: other namespaces denied",
                db("ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}}]}]"),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "the automatic namespace name label",
                db(
                    "ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: staging}}}]}]",
                ),
                "staging/app=x",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "both selectors in one peer: AND (namespace fails)",
                db(
                    "ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}, podSelector: {matchLabels: {app: web}}}]}]",
                ),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "both selectors in one peer: AND (both match)",
                db(
                    "ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}, podSelector: {matchLabels: {app: web}}}]}]",
                ),
                "dev/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "two peers in the list: OR",
                db(
                    "ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}}, {podSelector: {matchLabels: {app: web}}}]}]",
                ),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "matchExpressions In",
                db(
                    "ingress: [{from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [web, api]}]}}]}]",
                ),
                "prod/app=api",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "matchExpressions NotIn matches a missing label",
                db(
                    "ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [batch]}]}}]}]",
                ),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "matchExpressions Exists",
                db(
                    "ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: Exists}]}}]}]",
                ),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "matchExpressions DoesNotExist",
                db(
                    "ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}}]}]",
                ),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "ports: the listed port",
                db("ingress: [{ports: [{port: 5432}]}]"),
                "prod/app=web",
                "prod/app=db",
                5432,
                true,
            ),
            (
                "ports: another port",
                db("ingress: [{ports: [{port: 5432}]}]"),
                "prod/app=web",
                "prod/app=db",
                8080,
                false,
            ),
            (
                "ports: another protocol",
                db("ingress: [{ports: [{protocol: UDP, port: 5432}]}]"),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "endPort: inside the range",
                db("ingress: [{ports: [{port: 8000, endPort: 8100}]}]"),
                "prod/app=web",
                "prod/app=db",
                8100,
                true,
            ),
            (
                "endPort: past the range",
                db("ingress: [{ports: [{port: 8000, endPort: 8100}]}]"),
                "prod/app=web",
                "prod/app=db",
                8101,
                false,
            ),
            (
                "policyTypes default: egress rules make it Egress too",
                db("egress: [{to: [{podSelector: {matchLabels: {app: cache}}}]}]"),
                "prod/app=db",
                "prod/app=web",
                80,
                false,
            ),
            (
                "policyTypes default: Ingress always (no ingress rules: deny)",
                db("egress: [{to: [{podSelector: {}}]}]"),
                "prod/app=web",
                "prod/app=db",
                5432,
                false,
            ),
            (
                "policyTypes default: egress: [] is not Egress",
                db("egress: []"),
                "prod/app=db",
                "ip:93.184.216.34",
                443,
                true,
            ),
            (
                "policyTypes [Ingress] ignores egress rules",
                db(
                    "policyTypes: [Ingress], ingress: [{}], egress: [{to: [{podSelector: {matchLabels: {app: cache}}}]}]",
                ),
                "prod/app=db",
                "prod/app=web",
                80,
                true,
            ),
            (
                "egress isolation: allowed destination",
                db(
                    "policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: cache}}}]}]",
                ),
                "prod/app=db",
                "prod/app=cache",
                6379,
                true,
            ),
            (
                "egress isolation: other destination",
                db(
                    "policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: cache}}}]}]",
                ),
                "prod/app=db",
                "prod/app=web",
                80,
                false,
            ),
            (
                "egress needs the destination's ingress too",
                format!(
                    "{}{}",
                    db("policyTypes: [Egress], egress: [{}]"),
                    deny_all_ingress("dev")
                ),
                "prod/app=db",
                "dev/app=web",
                80,
                false,
            ),
            (
                "ipBlock: inside the cidr",
                db(
                    "policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}]}]",
                ),
                "prod/app=db",
                "ip:172.17.2.9",
                443,
                true,
            ),
            (
                "ipBlock: in an except",
                db(
                    "policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}]}]",
                ),
                "prod/app=db",
                "ip:172.17.1.9",
                443,
                false,
            ),
            (
                "ipBlock: outside the cidr",
                db("policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 172.17.0.0/16}}]}]"),
                "prod/app=db",
                "ip:10.0.0.1",
                443,
                false,
            ),
            (
                "ipBlock does not select pods",
                db("policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]"),
                "prod/app=db",
                "prod/app=web",
                80,
                false,
            ),
        ];
        let mut failures = Vec::new();
        for (what, objects, src, dst, port, want) in &cases {
            let sc = scenario(&format!("{NAMESPACES}{objects}"));
            let p = Policies::of(&sc);
            let (sl, dl) = (
                labels(src.split_once('/').map_or("", |x| x.1)),
                labels(dst.split_once('/').map_or("", |x| x.1)),
            );
            let (s, d) = (endpoint(src, &sl), endpoint(dst, &dl));
            if p.allowed(&s, &d, "TCP", *port) != *want {
                failures.push(format!("{what}: {src} -> {dst}:{port} should be {want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn policy_types_default_from_the_egress_section() {
        let sc = scenario(&format!(
            "{}{}",
            db("egress: [{}]"),
            "  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: other, namespace: prod}, spec: {egress: []}}\n"
        ));
        let types: Vec<&[PolicyType]> = sc
            .network_policies
            .iter()
            .map(|p| p.policy_types.as_slice())
            .collect();
        assert_eq!(
            types,
            [
                &[PolicyType::Ingress, PolicyType::Egress][..],
                &[PolicyType::Ingress][..]
            ]
        );
    }

    #[test]
    fn port_sets_merge_and_intersect() {
        let mut a = Ports::none();
        a.add(10, 20);
        a.add(21, 30);
        a.add(50, 50);
        assert_eq!(a.ranges(), [(10, 30), (50, 50)]);
        let mut b = Ports::none();
        b.add(25, 60);
        assert_eq!(a.intersect(&b).ranges(), [(25, 30), (50, 50)]);
        assert!(Ports::all().intersect(&a) == a);
    }

    #[test]
    fn the_table_agrees_with_the_policies() {
        let src = format!(
            "name: t\nduration: 1s\n\
             services:\n  - {{name: db, clusterIP: None, selector: {{app: db}}, ports: [5432]}}\n  - {{name: web, clusterIP: None, selector: {{app: web}}, ports: [80]}}\n\
             statefulsets:\n  - {{name: db, service: db, replicas: 1}}\n  - {{name: web, service: web, replicas: 1}}\n\
             clients:\n  - {{name: app, target: db:5432, rate: 1}}\n  - {{name: other, target: db:5432, rate: 1, labels: {{team: x}}}}\n\
             objects:\n{}",
            "  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: db}, spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: app}}}], ports: [{port: 5000, endPort: 6000}]}]}}\n"
        );
        let sc = crate::scenario::parse(&src).unwrap_or_else(|d| panic!("{}", d.render("t", &src)));
        let r = Reach::new(&sc);
        let db = r
            .class_of(Owner::StatefulSet { sts: 0, ordinal: 0 }, 0)
            .unwrap();
        let web = r
            .class_of(Owner::StatefulSet { sts: 1, ordinal: 0 }, 0)
            .unwrap();
        assert!(r.allows(0, db, 5432));
        assert!(!r.allows(0, db, 80));
        assert!(!r.allows(1, db, 5432));
        assert!(r.allows(1, web, 80));
        // Edges: app→db (ports), app→web, other→web.
        assert_eq!(r.graph().edge_count(), 3);
        let mut istiod = BTreeMap::new();
        istiod.insert("app".to_string(), "istiod".to_string());
        assert!(r.egress_allowed(1, "istio-system", &istiod, "TCP", 15012));
    }
}
