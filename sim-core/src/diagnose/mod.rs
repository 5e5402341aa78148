//! Findings: which cause explains which failed attempts of a run, and
//! `ksim lint` over manifests, confirmed by short runs (`lint`).
//!
//! How a run's failures are attributed. [`Recorder`] sees every attempt
//! where the request path classifies it (the run's [`Observer`] hook) and
//! counts each failed one under a key of what was observed: the client
//! group, the outcome, the stale-IP layer if any, and the pod dialled
//! (or none, for a rejected VIP or a failed lookup). After the run each
//! key is explained by the model's facts about that group and that pod —
//! the pod's workload does not listen on the port dialled; NetworkPolicy
//! does not allow the group to that pod; a plain-text client meets a
//! STRICT sidecar; ... — and the counts of keys with the same cause,
//! group and objects are added up. So every finding's share is what the
//! run observed, and a cause that would apply but never made a request
//! fail is not reported. Failures no rule explains stay unexplained: a
//! finding is never guessed from the configuration alone.
//!
//! Does not own: the outcomes themselves (the request path), the
//! report's rendering of findings (`report`).

pub mod facts;
pub mod lint;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::{NO_POD, PodId};
use crate::mesh::MeshRun;
use crate::metrics::{Layer, Outcome};
use crate::netpol::Endpoint;
use crate::scenario::Scenario;
use crate::scenario::netpol::PolicyType;
use crate::time::SimTime;
use crate::world::{Attempt, Event, Lifecycle, Observer, RunOutput};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A cause ksim can name, with its stable code (the README's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// A Service's selector matches no pod: it has no endpoints.
    SelectorMatchesNoPods,
    /// The port dialled (a Service's `targetPort`, or the port on a pod
    /// IP) is not one the pods listen on.
    TargetPortNotOpen,
    /// NetworkPolicy does not allow the client to the pod on that port.
    NetworkPolicyDenies,
    /// A client without a sidecar talks plain text to a STRICT mTLS pod.
    NamespaceNotInjected,
    /// A StatefulSet pod name (a pod IP) of a Service that is not
    /// headless, through a sidecar: passed through as plain TCP.
    PeerNameOnNonHeadlessService,
    /// A name under another cluster domain than the cluster's.
    ForeignClusterDomain,
    /// The client's resolver does not ask the cluster DNS.
    DnsAwayFromCluster,
    /// NetworkPolicy keeps the client's sidecar from istiod.
    SidecarCutOffFromIstiod,
    /// istiod does not know the Service (discovery selectors).
    ServiceNotDiscovered,
    /// A StatefulSet's governing Service is not headless (lint only: under
    /// a STRICT mesh the run finds `PeerNameOnNonHeadlessService`).
    GoverningServiceNotHeadless,
    /// `publishNotReadyAddresses` on a Service with a ClusterIP: kube-proxy
    /// sends clients to pods that are not Ready.
    PublishNotReadyOnClusterIp,
    /// Stale-IP errors, by the layer that handed out the address.
    StaleIp,
}

/// What every finding of one cause shares.
pub struct CauseInfo {
    pub cause: Cause,
    pub code: &'static str,
    /// A short, stable name (`selector-matches-no-pods`).
    pub slug: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
}

/// Every cause, in code order: the README's code table is this table.
pub const CAUSES: [CauseInfo; 12] = [
    CauseInfo {
        cause: Cause::SelectorMatchesNoPods,
        code: "KS001",
        slug: "selector-matches-no-pods",
        severity: Severity::Error,
        remediation: "make the Service's `selector` equal to labels of the pods' template (`kubectl get pods --show-labels`), or fix the template's labels",
    },
    CauseInfo {
        cause: Cause::TargetPortNotOpen,
        code: "KS002",
        slug: "target-port-not-open",
        severity: Severity::Error,
        remediation: "set the Service's `targetPort` (or the port the client dials) to a `containerPort` the pods listen on, or name the container port and use the name",
    },
    CauseInfo {
        cause: Cause::NetworkPolicyDenies,
        code: "KS003",
        slug: "network-policy-denies",
        severity: Severity::Error,
        remediation: "add a rule that allows this client (its namespace and labels) on this port: an ingress rule on the destination's policy and, if the client is isolated for egress, an egress rule on its own",
    },
    CauseInfo {
        cause: Cause::NamespaceNotInjected,
        code: "KS004",
        slug: "namespace-not-injected",
        severity: Severity::Error,
        remediation: "label the client's namespace `istio-injection=enabled` and restart its pods, or make the server's PeerAuthentication PERMISSIVE while clients migrate",
    },
    CauseInfo {
        cause: Cause::PeerNameOnNonHeadlessService,
        code: "KS005",
        slug: "peer-name-on-non-headless-service",
        severity: Severity::Error,
        remediation: "make the StatefulSet's governing Service headless (`clusterIP: None`; delete and recreate it), and keep a second Service with a ClusterIP for clients that want one",
    },
    CauseInfo {
        cause: Cause::ForeignClusterDomain,
        code: "KS006",
        slug: "foreign-cluster-domain",
        severity: Severity::Error,
        remediation: "write the name without the domain (`web-0.nginx`, `api.shop`: the search list adds the cluster's), or under the cluster's own domain",
    },
    CauseInfo {
        cause: Cause::DnsAwayFromCluster,
        code: "KS007",
        slug: "dns-away-from-cluster",
        severity: Severity::Error,
        remediation: "use `dnsPolicy: ClusterFirst` (`ClusterFirstWithHostNet` with hostNetwork), or put the cluster DNS Service's address in `dnsConfig.nameservers`",
    },
    CauseInfo {
        cause: Cause::SidecarCutOffFromIstiod,
        code: "KS008",
        slug: "sidecar-cut-off-from-istiod",
        severity: Severity::Error,
        remediation: "allow egress to istiod: a rule to namespace `istio-system` (pods `app: istiod`) on TCP 15012",
    },
    CauseInfo {
        cause: Cause::ServiceNotDiscovered,
        code: "KS009",
        slug: "service-not-discovered",
        severity: Severity::Error,
        remediation: "make istiod see the Service's namespace (`meshConfig.discoverySelectors`), or restart istiod if a Service created later was missed",
    },
    CauseInfo {
        cause: Cause::GoverningServiceNotHeadless,
        code: "KS010",
        slug: "governing-service-not-headless",
        severity: Severity::Warning,
        remediation: "set `clusterIP: None` on the StatefulSet's governing Service (delete and recreate it); keep a separate ClusterIP Service for clients",
    },
    CauseInfo {
        cause: Cause::PublishNotReadyOnClusterIp,
        code: "KS011",
        slug: "publish-not-ready-on-clusterip",
        severity: Severity::Warning,
        remediation: "use `publishNotReadyAddresses` only on a headless Service for peer discovery; give clients a Service without it",
    },
    CauseInfo {
        cause: Cause::StaleIp,
        code: "KS012",
        slug: "stale-ip",
        severity: Severity::Info,
        remediation: "shorten the caches that held the old address (client TTL, NodeLocal DNSCache, the DNS server's cache), drain pods before they exit (a preStop hook), or retry on another address",
    },
];

impl Cause {
    pub fn info(self) -> &'static CauseInfo {
        CAUSES
            .iter()
            .find(|c| c.cause == self)
            .expect("every cause is in CAUSES")
    }
}

/// An object a finding names, and where it is declared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The manifest file as written under `manifests`; `null`: the scenario
    /// file (the CLI writes its path in).
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl ObjectRef {
    pub fn new(sc: &Scenario, kind: &str, namespace: &str, name: &str) -> ObjectRef {
        let o = sc.provenance.origin(kind, namespace, name);
        ObjectRef {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            file: o.and_then(|o| o.file.clone()),
            line: o.map(|o| o.loc.line),
            column: o.map(|o| o.loc.col),
        }
    }

    /// `Service shop/api (api.yaml:12)`.
    pub fn describe(&self, scenario_file: &str) -> String {
        let at = match self.line {
            Some(l) => format!(" ({}:{l})", self.file.as_deref().unwrap_or(scenario_file)),
            None => String::new(),
        };
        format!("{} {}/{}{at}", self.kind, self.namespace, self.name)
    }
}

/// One cause found in a run: the failed attempts it explains.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub cause: &'static str,
    pub severity: Severity,
    /// The client group whose attempts failed (`null` for a summary over
    /// every group, the stale-IP one).
    pub group: Option<String>,
    /// Failed attempts this cause explains.
    pub failed_attempts: u64,
    /// Their share of all failed attempts of the run (0..1).
    pub share: f64,
    /// Their share of the group's attempts (0..1): the rate its clients saw.
    pub rate: f64,
    pub message: String,
    pub objects: Vec<ObjectRef>,
    pub remediation: &'static str,
}

/// What a [`Recorder`] counted: failed attempts by what was observed.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Per client group: (outcome, stale layer or 255, pod dialled or
    /// [`NO_POD`], chosen address was a pod IP) → failed attempts.
    groups: Vec<BTreeMap<(u8, u8, PodId, bool), u64>>,
    /// Per client group: every attempt.
    attempts: Vec<u64>,
    failed: u64,
}

impl Tally {
    fn record(&mut self, a: &Attempt) {
        let g = a.group as usize;
        if self.groups.len() <= g {
            self.groups.resize_with(g + 1, BTreeMap::new);
            self.attempts.resize(g + 1, 0);
        }
        self.attempts[g] += 1;
        if a.outcome == Outcome::Ok {
            return;
        }
        self.failed += 1;
        let key = (
            a.outcome as u8,
            a.stale.map_or(u8::MAX, |l| l as u8),
            a.dialled.map_or(NO_POD, |d| d.pod),
            a.chosen.is_some_and(|c| c.pod != NO_POD),
        );
        *self.groups[g].entry(key).or_default() += 1;
    }

    /// Failed attempts of the whole run.
    pub fn failed(&self) -> u64 {
        self.failed
    }
}

/// An [`Observer`] that counts failed attempts for [`findings`] and hands
/// everything on to `inner`.
pub struct Recorder<'o, O: Observer> {
    pub inner: &'o mut O,
    pub tally: Tally,
}

impl<'o, O: Observer> Recorder<'o, O> {
    pub fn new(inner: &'o mut O) -> Recorder<'o, O> {
        Recorder {
            inner,
            tally: Tally::default(),
        }
    }
}

impl<O: Observer> Observer for Recorder<'_, O> {
    const LIFECYCLE: bool = O::LIFECYCLE;
    const EVENTS: bool = O::EVENTS;
    #[inline]
    fn attempt(&mut self, a: &Attempt) {
        self.tally.record(a);
        self.inner.attempt(a);
    }
    fn lifecycle(&mut self, e: &Lifecycle) {
        self.inner.lifecycle(e);
    }
    fn event(&mut self, at: SimTime, ev: &Event) {
        self.inner.event(at, ev);
    }
}

/// What explains one key of the tally: the cause, and what it is about
/// (the findings with equal ones are added up).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Explained {
    cause: Cause,
    /// The message, without the share (built from the objects).
    message: String,
    objects: Vec<ObjectRef>,
}

/// The findings of a finished run, most failed attempts first (ties in
/// code, then group order).
pub fn findings(sc: &Scenario, out: &RunOutput, tally: &Tally) -> Vec<Finding> {
    let mesh = sc.mesh.as_ref().map(|m| MeshRun::new(sc, m, &out.cluster));
    let ctx = Context {
        sc,
        out,
        mesh: mesh.as_ref(),
    };
    let mut found: Vec<Finding> = Vec::new();
    let mut stale = [0u64; 5];
    for (g, keys) in tally.groups.iter().enumerate() {
        let mut by: BTreeMap<Explained, u64> = BTreeMap::new();
        for (&(outcome, layer, pod, chose_pod), &n) in keys {
            // A stale address is the stale-IP summary's, unless a cut-off
            // sidecar kept it: then the cut-off is the cause.
            let frozen = outcome == Outcome::Upstream503 as u8
                && ctx.mesh.is_some_and(|m| m.frozen_groups[g]);
            if layer != u8::MAX && !frozen {
                stale[layer as usize] += n;
                continue;
            }
            if let Some(e) = ctx.explain(g as u32, outcome, pod, chose_pod) {
                *by.entry(e).or_default() += n;
            }
        }
        let group = &sc.clients[g];
        for (e, n) in by {
            let info = e.cause.info();
            found.push(Finding {
                code: info.code,
                cause: info.slug,
                severity: info.severity,
                group: Some(group.name.clone()),
                failed_attempts: n,
                share: n as f64 / tally.failed.max(1) as f64,
                rate: n as f64 / tally.attempts[g].max(1) as f64,
                message: format!(
                    "{} of client group {}'s attempts failed: {}",
                    percent(n, tally.attempts[g]),
                    group.name,
                    e.message
                ),
                objects: e.objects,
                remediation: info.remediation,
            });
        }
    }
    let stale_total: u64 = stale.iter().sum();
    if stale_total > 0 {
        let info = Cause::StaleIp.info();
        let layers = [
            Layer::ClientCache,
            Layer::NodeCache,
            Layer::ServerCache,
            Layer::Propagation,
            Layer::PooledConnection,
        ];
        let parts: Vec<String> = layers
            .iter()
            .filter(|l| stale[**l as usize] > 0)
            .map(|l| {
                format!(
                    "{} {}",
                    layer_name(*l),
                    percent(stale[*l as usize], stale_total)
                )
            })
            .collect();
        let all: u64 = tally.attempts.iter().sum();
        found.push(Finding {
            code: info.code,
            cause: info.slug,
            severity: info.severity,
            group: None,
            failed_attempts: stale_total,
            share: stale_total as f64 / tally.failed.max(1) as f64,
            rate: stale_total as f64 / all.max(1) as f64,
            message: format!(
                "{} of attempts were stale-IP errors, by the layer that handed out the address: {}",
                percent(stale_total, all),
                parts.join(", ")
            ),
            objects: Vec::new(),
            remediation: info.remediation,
        });
    }
    found.sort_by(|a, b| {
        b.failed_attempts
            .cmp(&a.failed_attempts)
            .then(a.code.cmp(b.code))
    });
    found
}

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::ClientCache => "client cache",
        Layer::NodeCache => "node-local cache",
        Layer::ServerCache => "DNS server cache",
        Layer::Propagation => "propagation",
        Layer::PooledConnection => "pooled connection",
    }
}

/// `94 %`, `0.4 %`, `<0.1 %`.
pub fn percent(n: u64, of: u64) -> String {
    let p = 100.0 * n as f64 / of.max(1) as f64;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0} %")
    } else if p >= 0.1 {
        format!("{p:.1} %")
    } else {
        "<0.1 %".to_string()
    }
}

struct Context<'a, 's> {
    sc: &'s Scenario,
    out: &'a RunOutput<'s>,
    mesh: Option<&'a MeshRun<'s>>,
}

impl Context<'_, '_> {
    /// The cause of `outcome` for group `g` dialling `pod` (or none), if a
    /// rule explains it.
    fn explain(&self, g: u32, outcome: u8, pod: PodId, chose_pod: bool) -> Option<Explained> {
        let sc = self.sc;
        let group = &sc.clients[g as usize];
        let svc_i = facts::target_service(sc, group);
        let svc = svc_i.map(|i| &sc.services[i as usize]);
        let svc_ref =
            |s: &crate::scenario::Service| ObjectRef::new(sc, "Service", &s.namespace, &s.name);
        let group_ref = || ObjectRef::new(sc, "client group", &group.namespace, &group.name);
        let o = outcome_of(outcome);
        if o == Outcome::NoAddress {
            if let Some(domain) = facts::foreign_domain(sc, &group.target.host) {
                return Some(Explained {
                    cause: Cause::ForeignClusterDomain,
                    message: format!(
                        "no address: `{}` is under `{domain}`, but the cluster's domain is `{}`",
                        group.target.host, sc.cluster.domain
                    ),
                    objects: vec![group_ref()],
                });
            }
            if let Some(why) = facts::dns_away(group) {
                return Some(Explained {
                    cause: Cause::DnsAwayFromCluster,
                    message: format!("no address for `{}`: {why}", group.target.host),
                    objects: vec![group_ref()],
                });
            }
        }
        let svc = svc?;
        if matches!(o, Outcome::NoAddress | Outcome::Refused)
            && pod == NO_POD
            && facts::selects_nothing(sc, svc)
        {
            return Some(self.selector_matches_nothing(svc));
        }
        let mesh = self.mesh;
        let injected = mesh.is_some_and(|m| m.injected_groups[g as usize]);
        if o == Outcome::Upstream503
            && let Some(m) = mesh
            && m.frozen_groups[g as usize]
        {
            return Some(Explained {
                cause: Cause::SidecarCutOffFromIstiod,
                message: format!(
                    "upstream 503: NetworkPolicy keeps the group's sidecars from istiod (TCP 15012), so they keep the endpoints of `{}` they started with{}",
                    svc.name,
                    self.egress_policies(group)
                ),
                objects: self
                    .egress_refs(group)
                    .into_iter()
                    .chain([group_ref()])
                    .collect(),
            });
        }
        if o == Outcome::Reset
            && let Some(m) = mesh
        {
            let si = svc_i.expect("svc is Some") as usize;
            if injected && !m.known[si] {
                return Some(Explained {
                    cause: Cause::ServiceNotDiscovered,
                    message: format!(
                        "reset: istiod does not know Service `{}/{}` (namespace not in its discovery selectors), so the sidecar passes the connection through as plain TCP{}",
                        svc.namespace,
                        svc.name,
                        if m.mesh.strict_mtls {
                            " and the STRICT server resets it"
                        } else {
                            ""
                        }
                    ),
                    objects: vec![svc_ref(svc)],
                });
            }
            if injected && chose_pod && !svc.is_headless() {
                let sets: Vec<ObjectRef> = facts::selected(sc, svc)
                    .iter()
                    .filter(|w| w.kind == "StatefulSet")
                    .map(|w| ObjectRef::new(sc, w.kind, w.namespace, w.name))
                    .collect();
                return Some(Explained {
                    cause: Cause::PeerNameOnNonHeadlessService,
                    message: format!(
                        "reset: `{}` names a pod of Service `{}`, which is not headless; istiod builds per-pod routes only for headless Services, so the sidecar passes it through as plain TCP and the STRICT server resets it",
                        group.target.host, svc.name
                    ),
                    objects: std::iter::once(svc_ref(svc)).chain(sets).collect(),
                });
            }
            if !injected
                && m.mesh.strict_mtls
                && pod != NO_POD
                && m.pod_injected(&self.out.cluster, pod)
            {
                return Some(Explained {
                    cause: Cause::NamespaceNotInjected,
                    message: format!(
                        "reset: namespace `{}` is not injected, so its clients talk plain text, and the pods of `{}` (sidecar, mTLS STRICT) reset it",
                        group.namespace, svc.name
                    ),
                    objects: vec![group_ref(), svc_ref(svc)],
                });
            }
        }
        if pod == NO_POD {
            return None;
        }
        let p = &self.out.cluster.pods[pod as usize];
        let w = facts::workload_of(sc, p.owner)?;
        let via_vip = !chose_pod;
        let port = facts::pod_port(group, svc, via_vip);
        if matches!(o, Outcome::Refused | Outcome::Reset) && !w.ports.contains(&port) {
            let listen: Vec<String> = w.ports.iter().map(u16::to_string).collect();
            return Some(Explained {
                cause: Cause::TargetPortNotOpen,
                message: format!(
                    "refused: port {port} is not open on the pods of {} `{}` (they listen on {}){}",
                    w.kind,
                    w.name,
                    listen.join(", "),
                    if via_vip {
                        format!(
                            "; Service `{}` sends port {} to targetPort {port}",
                            svc.name,
                            facts::port_text(&group.target.port)
                        )
                    } else {
                        String::new()
                    }
                ),
                objects: vec![
                    svc_ref(svc),
                    ObjectRef::new(sc, w.kind, w.namespace, w.name),
                ],
            });
        }
        if matches!(
            o,
            Outcome::Timeout | Outcome::Unreachable | Outcome::Upstream503 | Outcome::Reset
        ) && !self.out.cluster.netpol.allows_pod(g, p.owner, p.ip, port)
        {
            return Some(self.netpol_denies(group, svc, &w, port));
        }
        None
    }

    fn selector_matches_nothing(&self, svc: &crate::scenario::Service) -> Explained {
        let sc = self.sc;
        let sel: Vec<String> = svc
            .selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let near: Vec<String> = facts::workloads(sc)
            .iter()
            .filter(|w| w.namespace == svc.namespace)
            .map(|w| {
                let l: Vec<String> = w.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{} `{}` has {}", w.kind, w.name, l.join(","))
            })
            .take(3)
            .collect();
        Explained {
            cause: Cause::SelectorMatchesNoPods,
            message: format!(
                "Service `{}/{}` selects {}, which no pod has, so it has no endpoints{}",
                svc.namespace,
                svc.name,
                sel.join(","),
                if near.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", near.join("; "))
                }
            ),
            objects: vec![ObjectRef::new(sc, "Service", &svc.namespace, &svc.name)],
        }
    }

    /// The NetworkPolicies on either side that isolate a connection from
    /// `group` to a pod of `w` on `port`, none of whose rules allows it.
    fn netpol_denies(
        &self,
        group: &crate::scenario::ClientGroup,
        svc: &crate::scenario::Service,
        w: &facts::Workload,
        port: u16,
    ) -> Explained {
        let sc = self.sc;
        let labels = group.labels();
        let src = Endpoint {
            namespace: &group.namespace,
            labels: Some(&labels),
            ip: None,
        };
        let dst = Endpoint {
            namespace: w.namespace,
            labels: Some(w.labels),
            ip: None,
        };
        let pol = crate::netpol::Policies::of(sc);
        let mut refs = Vec::new();
        let mut sides = Vec::new();
        // The policies isolating `ep` in direction `t`, named and referred to.
        let mut isolating = |ep: &Endpoint, t| {
            let names: Vec<String> = pol
                .isolating(ep, t)
                .map(|p| {
                    refs.push(ObjectRef::new(sc, "NetworkPolicy", &p.namespace, &p.name));
                    format!("`{}`", p.name)
                })
                .collect();
            let verb = if names.len() == 1 {
                "selects"
            } else {
                "select"
            };
            format!("{} {verb}", names.join(", "))
        };
        if !pol.ingress_ports(&src, &dst, "TCP").contains(port) {
            sides.push(format!(
                "ingress: {} the pods of `{}` and no ingress rule allows namespace `{}` pods {} on port {port}",
                isolating(&dst, PolicyType::Ingress),
                w.name,
                group.namespace,
                labels_text(&labels)
            ));
        }
        if !pol.egress_ports(&src, &dst, "TCP").contains(port) {
            sides.push(format!(
                "egress: {} the client's pods and no egress rule allows the pods of `{}` on port {port}",
                isolating(&src, PolicyType::Egress),
                w.name
            ));
        }
        refs.push(ObjectRef::new(sc, "Service", &svc.namespace, &svc.name));
        Explained {
            cause: Cause::NetworkPolicyDenies,
            message: format!("dropped by NetworkPolicy: {}", sides.join("; ")),
            objects: refs,
        }
    }

    /// ` (policy `a`, `b`)` naming the egress policies isolating `group`.
    fn egress_policies(&self, group: &crate::scenario::ClientGroup) -> String {
        let refs = self.egress_refs(group);
        if refs.is_empty() {
            return String::new();
        }
        let names: Vec<String> = refs.iter().map(|r| format!("`{}`", r.name)).collect();
        format!(" (egress policy {})", names.join(", "))
    }

    fn egress_refs(&self, group: &crate::scenario::ClientGroup) -> Vec<ObjectRef> {
        let labels = group.labels();
        let src = Endpoint {
            namespace: &group.namespace,
            labels: Some(&labels),
            ip: None,
        };
        crate::netpol::Policies::of(self.sc)
            .isolating(&src, PolicyType::Egress)
            .map(|p| ObjectRef::new(self.sc, "NetworkPolicy", &p.namespace, &p.name))
            .collect()
    }
}

fn labels_text(l: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(",")
}

fn outcome_of(o: u8) -> Outcome {
    Outcome::ALL
        .into_iter()
        .find(|x| *x as u8 == o)
        .expect("recorded from an Outcome")
}

/// Write `path` (the scenario file as the user named it) as the file of
/// the objects declared in the scenario itself, so every object a finding
/// names has a file.
pub fn name_scenario_file(findings: &mut [Finding], path: &str) {
    for o in findings.iter_mut().flat_map(|f| f.objects.iter_mut()) {
        if o.line.is_some() && o.file.is_none() {
            o.file = Some(path.to_string());
        }
    }
}

/// The text report's findings section (nothing when there are none).
/// `scenario_file` stands for objects declared in the scenario itself.
pub fn write_findings(o: &mut String, findings: &[Finding], scenario_file: &str) {
    use std::fmt::Write as _;
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nfindings");
    for f in findings {
        let _ = writeln!(
            o,
            "  {} {} [{}] {} of failed attempts: {}",
            f.severity.name(),
            f.code,
            f.cause,
            percent_f(f.share),
            f.message
        );
        for r in &f.objects {
            let _ = writeln!(o, "      {}", r.describe(scenario_file));
        }
        let _ = writeln!(o, "      fix: {}", f.remediation);
    }
}

fn percent_f(share: f64) -> String {
    percent((share * 1e6).round() as u64, 1_000_000)
}
