//! Facts about a scenario's objects that findings and `ksim lint` both
//! judge by: which workloads a Service selects and what they listen on,
//! the Service a client group targets, and whether its resolver can reach
//! the cluster DNS. One rule, one place: the run's attribution and the
//! linter call the same functions.

use std::collections::BTreeMap;

use crate::cluster::Owner;
use crate::dns;
use crate::scenario::{
    ClientGroup, DnsConfig, DnsPolicy, PortRef, Scenario, Service, defaults as d, fmt_ipv4,
};

/// One workload (or hand-written Pod) as a Service sees it.
#[derive(Clone, Debug)]
pub struct Workload<'s> {
    /// `StatefulSet`, `Deployment`, `Pod` (hand-written or traced).
    pub kind: &'static str,
    pub name: &'s str,
    pub namespace: &'s str,
    pub labels: &'s BTreeMap<String, String>,
    /// The ports its pods listen on.
    pub ports: &'s [u16],
}

/// Every workload of the scenario, in a fixed order (StatefulSets,
/// Deployments, Pods, traced Pods).
pub fn workloads(sc: &Scenario) -> Vec<Workload<'_>> {
    let sets = sc.statefulsets.iter().map(|s| Workload {
        kind: "StatefulSet",
        name: &s.name,
        namespace: &s.namespace,
        labels: &s.labels,
        ports: &s.ports,
    });
    let deps = sc.deployments.iter().map(|s| Workload {
        kind: "Deployment",
        name: &s.name,
        namespace: &s.namespace,
        labels: &s.labels,
        ports: &s.ports,
    });
    let pods = sc.pods.iter().map(|s| Workload {
        kind: "Pod",
        name: &s.name,
        namespace: &s.namespace,
        labels: &s.labels,
        ports: &s.ports,
    });
    let traced = sc.traced_pods.iter().map(|s| Workload {
        kind: "Pod",
        name: &s.name,
        namespace: &s.namespace,
        labels: &s.labels,
        ports: &s.ports,
    });
    sets.chain(deps).chain(pods).chain(traced).collect()
}

/// The workload that made a pod (`None` for an external host).
pub fn workload_of<'s>(sc: &'s Scenario, owner: Owner) -> Option<Workload<'s>> {
    let all = workloads(sc);
    let i = match owner {
        Owner::StatefulSet { sts, .. } => sts as usize,
        Owner::Deployment { dep, .. } => sc.statefulsets.len() + dep as usize,
        Owner::Pod(n) => sc.statefulsets.len() + sc.deployments.len() + n as usize,
        Owner::Traced(n) => {
            sc.statefulsets.len() + sc.deployments.len() + sc.pods.len() + n as usize
        }
        Owner::External { .. } => return None,
    };
    all.into_iter().nth(i)
}

/// Whether `selector` (a Service's: equality on every key) selects `labels`.
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The workloads Service `svc` selects (none for a Service without a
/// selector: its endpoints are written by hand).
pub fn selected<'s>(sc: &'s Scenario, svc: &Service) -> Vec<Workload<'s>> {
    if svc.selector.is_empty() {
        return Vec::new();
    }
    workloads(sc)
        .into_iter()
        .filter(|w| w.namespace == svc.namespace && selects(&svc.selector, w.labels))
        .collect()
}

/// A Service with a selector that no workload's labels satisfy: it can
/// never have an endpoint. Hand-written EndpointSlices for it count as
/// endpoints.
pub fn selects_nothing(sc: &Scenario, svc: &Service) -> bool {
    !svc.selector.is_empty()
        && svc.external_name.is_none()
        && selected(sc, svc).is_empty()
        && !sc
            .endpoint_slices
            .iter()
            .any(|s| s.service == svc.name && s.namespace == svc.namespace)
}

/// The Service client group `g` targets, as the cluster DNS would name it
/// through a `ClusterFirst` search list (whatever the group's own DNS
/// settings: the Service it means).
pub fn target_service(sc: &Scenario, g: &ClientGroup) -> Option<u32> {
    let path = dns::SearchPath::of(
        DnsPolicy::ClusterFirst,
        &DnsConfig::default(),
        &g.namespace,
        &sc.cluster.domain,
    );
    let host = strip_foreign_domain(sc, &g.target.host);
    path.candidates(&host, g.resolver.search)
        .iter()
        .find_map(|q| dns::classify(q, sc).service())
}

/// `host` with a foreign cluster domain (`...svc.cluster.local` in a
/// `corp.local` cluster) cut back to `...svc`, so the Service it means can
/// be named.
fn strip_foreign_domain(sc: &Scenario, host: &str) -> String {
    match foreign_domain(sc, host) {
        Some(domain) => host
            .trim_end_matches('.')
            .trim_end_matches(domain.as_str())
            .trim_end_matches('.')
            .to_string(),
        None => host.to_string(),
    }
}

/// The cluster domain `host` is written under, when it is not the
/// cluster's: `web-0.nginx.default.svc.cluster.local` in a cluster whose
/// domain is `corp.local` gives `cluster.local`.
pub fn foreign_domain(sc: &Scenario, host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    let own = sc.cluster.domain.trim_end_matches('.');
    let (_, domain) = host.split_once(".svc.")?;
    (domain != own && !domain.is_empty()).then(|| domain.to_string())
}

/// Why client group `g`'s resolver does not ask the cluster DNS, if it
/// does not: `dnsPolicy: Default` (the node's resolv.conf), or `None` with
/// nameservers none of which is the cluster DNS.
pub fn dns_away(g: &ClientGroup) -> Option<String> {
    let cluster_dns = d::CLUSTER_DNS_IP
        .parse::<std::net::Ipv4Addr>()
        .map_or(0, u32::from);
    match g.dns_policy {
        DnsPolicy::ClusterFirst => None,
        DnsPolicy::Default => Some(
            "`dnsPolicy: Default` takes the node's resolv.conf: an upstream server that knows no cluster names"
                .to_string(),
        ),
        DnsPolicy::None if !g.dns_config.nameservers.contains(&cluster_dns) => Some(format!(
            "`dnsPolicy: None` with nameservers {} and not the cluster DNS {}",
            g.dns_config
                .nameservers
                .iter()
                .map(|ip| fmt_ipv4(*ip))
                .collect::<Vec<_>>()
                .join(", "),
            fmt_ipv4(cluster_dns)
        )),
        DnsPolicy::None => None,
    }
}

/// The port a pod must listen on for client group `g` to reach it through
/// Service `svc`: the `targetPort` behind the VIP (`via_vip`), or the port
/// dialled on a pod IP. Zero when the Service has no such port.
pub fn pod_port(g: &ClientGroup, svc: &Service, via_vip: bool) -> u16 {
    if via_vip {
        crate::client::vip_port(&g.target.port, svc)
    } else {
        crate::client::direct_port(&g.target.port, svc)
    }
}

/// The port as the client wrote it (`80`, `http`).
pub fn port_text(p: &PortRef) -> String {
    match p {
        PortRef::Number(n) => n.to_string(),
        PortRef::Name(n) => n.clone(),
    }
}
