//! `ksim lint`: the causes of [`super::CAUSES`] found in manifests as they
//! are, with no scenario — and each confirmed by simulation.
//!
//! [`rules`] reads the model of the objects (a [`Scenario`] without
//! clients) and names what is wrong, using the same facts as a run's
//! findings (`super::facts`). [`confirm`] proves a finding: it gives the
//! affected Service a client group (the defaults below), runs the objects
//! for a short simulated time as they are and again with the fix applied
//! to the model, and reports the failure rate each time — what a user
//! would see, before and after.
//!
//! Confirmation defaults: one group `lint-client` of 5 clients in the
//! Service's namespace, labels `app: lint-client`, 20 requests/s each, for
//! [`CONFIRM_DURATION`], every workload starting Ready (so only the cause
//! shows), with a sidecar when the namespace is injected; the target is the
//! Service's first port (`<svc>.<ns>:<port>`), or for a StatefulSet's
//! governing Service its first pod (`<sts>-0.<svc>.<ns>:<port>`).

use serde::Serialize;

use super::facts::{self, Workload};
use super::{Cause, ObjectRef};
use crate::netpol::{Endpoint, Policies};
use crate::scenario::netpol::PolicyType;
use crate::scenario::{ClusterIp, Scenario, Service};
use crate::time::SimDuration;

/// How long a confirmation run simulates.
pub const CONFIRM_DURATION: SimDuration = SimDuration::from_secs(20);
/// The confirmation client group's name.
pub const CLIENT: &str = "lint-client";

/// One thing wrong in the manifests.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub cause: Cause,
    /// The object it is reported at.
    pub object: ObjectRef,
    pub message: String,
    /// The change that fixes it, applied to the model to confirm.
    pub fix: Fix,
    /// Where a confirmation client sends (`None`: not simulated).
    pub probe: Option<Probe>,
}

/// A fix, as a change to the model.
#[derive(Clone, Debug, PartialEq)]
pub enum Fix {
    /// Give Service `svc` this selector.
    Selector {
        svc: usize,
        selector: std::collections::BTreeMap<String, String>,
    },
    /// Give port `port` of Service `svc` this `targetPort`.
    TargetPort { svc: usize, port: usize, to: u16 },
    /// Remove these NetworkPolicies (`namespace`, `name`).
    DropPolicies(Vec<(String, String)>),
    /// Make Service `svc` headless.
    Headless { svc: usize },
    /// No fix ksim can apply to simulate.
    None,
}

/// Where the confirmation client is and what it dials.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub namespace: String,
    /// `host:port`.
    pub target: String,
}

/// What simulation showed for a finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Confirmed {
    /// The failed outcome most requests ended with (`refused`, `reset`,
    /// ...; `none` when nothing failed).
    pub symptom: String,
    /// Failed requests over requests, as the manifests are.
    pub rate: f64,
    /// The same with the fix applied (`null` when there is no fix to apply).
    pub rate_with_fix: Option<f64>,
}

/// Everything [`rules`] finds in `sc`, in a fixed order (by cause, then
/// object order).
pub fn rules(sc: &Scenario) -> Vec<Issue> {
    let mut out = Vec::new();
    let strict = sc.mesh.as_ref().is_some_and(|m| m.strict_mtls);
    for (si, svc) in sc.services.iter().enumerate() {
        let at = ObjectRef::new(sc, "Service", &svc.namespace, &svc.name);
        let probe = service_probe(svc);
        if facts::selects_nothing(sc, svc) {
            out.push(selector_issue(sc, si, svc, at.clone(), probe.clone()));
            continue;
        }
        let selected = facts::selected(sc, svc);
        for (pi, port) in svc.ports.iter().enumerate() {
            let listening: Vec<&Workload> =
                selected.iter().filter(|w| !w.ports.is_empty()).collect();
            if listening.is_empty()
                || listening
                    .iter()
                    .any(|w| w.ports.contains(&port.target_port))
            {
                continue;
            }
            let w = listening[0];
            let ports: Vec<String> = w.ports.iter().map(u16::to_string).collect();
            out.push(Issue {
                cause: Cause::TargetPortNotOpen,
                object: at.clone(),
                message: format!(
                    "Service `{}` port {} sends to targetPort {}, which the pods it selects do not listen on ({} `{}` listens on {})",
                    svc.name,
                    port.port,
                    port.target_port,
                    w.kind,
                    w.name,
                    ports.join(", ")
                ),
                fix: Fix::TargetPort {
                    svc: si,
                    port: pi,
                    to: w.ports[0],
                },
                probe: Some(Probe {
                    namespace: svc.namespace.clone(),
                    target: format!("{}.{}:{}", svc.name, svc.namespace, port.port),
                }),
            });
        }
        if let Some(issue) = netpol_issue(sc, svc, &selected, at.clone(), probe.clone()) {
            out.push(issue);
        }
        if svc.publish_not_ready && !svc.is_headless() {
            out.push(Issue {
                cause: Cause::PublishNotReadyOnClusterIp,
                object: at.clone(),
                message: format!(
                    "Service `{}` has a ClusterIP and `publishNotReadyAddresses: true`: kube-proxy sends its clients to pods that are not Ready",
                    svc.name
                ),
                fix: Fix::None,
                probe: None,
            });
        }
    }
    for st in &sc.statefulsets {
        let Some(si) = sc
            .services
            .iter()
            .position(|s| s.name == st.service && s.namespace == st.namespace)
        else {
            continue;
        };
        let svc = &sc.services[si];
        if svc.is_headless() || svc.external_name.is_some() {
            continue;
        }
        let cause = if strict {
            Cause::PeerNameOnNonHeadlessService
        } else {
            Cause::GoverningServiceNotHeadless
        };
        let port = st
            .ports
            .first()
            .copied()
            .or(svc.ports.first().map(|p| p.target_port))
            .unwrap_or(80);
        out.push(Issue {
            cause,
            object: ObjectRef::new(sc, "Service", &svc.namespace, &svc.name),
            message: format!(
                "StatefulSet `{}` names `{}` as its governing Service, which is not headless (it has a ClusterIP){}",
                st.name,
                svc.name,
                if strict {
                    ": under STRICT mTLS its pods' peers (`<pod>.<service>`) are passed through as plain TCP and reset"
                } else {
                    ": pod names still resolve, but under a mesh istiod gives pod IPs of a non-headless Service no routes"
                }
            ),
            fix: Fix::Headless { svc: si },
            probe: Some(Probe {
                namespace: st.namespace.clone(),
                target: format!(
                    "{}-{}.{}.{}:{port}",
                    st.name, st.ordinals_start, svc.name, st.namespace
                ),
            }),
        });
    }
    out.extend(istiod_issues(sc));
    out.sort_by_key(|i| i.cause);
    out
}

fn service_probe(svc: &Service) -> Option<Probe> {
    let port = svc.ports.first()?;
    Some(Probe {
        namespace: svc.namespace.clone(),
        target: format!("{}.{}:{}", svc.name, svc.namespace, port.port),
    })
}

fn selector_issue(
    sc: &Scenario,
    si: usize,
    svc: &Service,
    at: ObjectRef,
    probe: Option<Probe>,
) -> Issue {
    let sel: Vec<String> = svc
        .selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // What the selector most likely meant: the workload of the namespace
    // whose labels share the most keys with it, preferring one no Service
    // selects, then the first by name.
    let orphan = |w: &Workload| {
        !sc.services.iter().any(|s| {
            s.namespace == w.namespace
                && !s.selector.is_empty()
                && facts::selects(&s.selector, w.labels)
        })
    };
    let near = facts::workloads(sc)
        .into_iter()
        .filter(|w| w.namespace == svc.namespace)
        .max_by_key(|w| {
            let shared = svc
                .selector
                .keys()
                .filter(|k| w.labels.contains_key(*k))
                .count();
            (shared, orphan(w), std::cmp::Reverse(w.name.to_string()))
        });
    let (hint, fix) = match &near {
        Some(w) => {
            let l: Vec<String> = w.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (
                format!("; {} `{}` has {}", w.kind, w.name, l.join(",")),
                Fix::Selector {
                    svc: si,
                    selector: w.labels.clone(),
                },
            )
        }
        None => (
            format!("; namespace `{}` has no workloads", svc.namespace),
            Fix::None,
        ),
    };
    Issue {
        cause: Cause::SelectorMatchesNoPods,
        object: at,
        message: format!(
            "Service `{}` selects {}, which no pod has: it has no endpoints{hint}",
            svc.name,
            sel.join(",")
        ),
        fix,
        probe,
    }
}

/// The pods `svc` selects are isolated for ingress, and no ingress rule of
/// the isolating policies allows a Service target port from any peer: no
/// client can reach it. (A rule that allows the port from some peer is a
/// deliberate choice, which only a client's identity can judge: a run's
/// findings do.)
fn netpol_issue(
    sc: &Scenario,
    svc: &Service,
    selected: &[Workload],
    at: ObjectRef,
    probe: Option<Probe>,
) -> Option<Issue> {
    let pol = Policies::of(sc);
    for w in selected {
        let dst = Endpoint {
            namespace: w.namespace,
            labels: Some(w.labels),
            ip: None,
        };
        let isolating: Vec<_> = pol.isolating(&dst, PolicyType::Ingress).collect();
        if isolating.is_empty() {
            continue;
        }
        for port in &svc.ports {
            let t = port.target_port;
            let open = isolating.iter().any(|p| {
                p.ingress.iter().any(|r| {
                    r.ports.is_empty()
                        || r.ports.iter().any(|pp| {
                            pp.protocol == port.protocol
                                && pp
                                    .port
                                    .is_none_or(|lo| lo <= t && t <= pp.end_port.unwrap_or(lo))
                        })
                })
            });
            if open {
                continue;
            }
            let names: Vec<String> = isolating.iter().map(|p| format!("`{}`", p.name)).collect();
            return Some(Issue {
                cause: Cause::NetworkPolicyDenies,
                object: at,
                message: format!(
                    "NetworkPolicy {} select{} the pods of {} `{}` and no ingress rule allows port {t}: no client can reach Service `{}` port {}",
                    names.join(", "),
                    if names.len() == 1 { "s" } else { "" },
                    w.kind,
                    w.name,
                    svc.name,
                    port.port
                ),
                fix: Fix::DropPolicies(
                    isolating
                        .iter()
                        .map(|p| (p.namespace.clone(), p.name.clone()))
                        .collect(),
                ),
                probe,
            });
        }
    }
    None
}

/// Injected workloads whose egress NetworkPolicy does not allow TCP 15012
/// to istiod: their sidecars never hear of endpoint changes.
fn istiod_issues(sc: &Scenario) -> Vec<Issue> {
    let Some(mesh) = &sc.mesh else {
        return Vec::new();
    };
    let pol = Policies::of(sc);
    let istiod = std::collections::BTreeMap::from([("app".to_string(), "istiod".to_string())]);
    let dst = Endpoint {
        namespace: "istio-system",
        labels: Some(&istiod),
        ip: None,
    };
    let mut out = Vec::new();
    for w in facts::workloads(sc) {
        if !mesh.injected_namespaces.iter().any(|n| n == w.namespace) || w.kind == "Pod" {
            continue;
        }
        let src = Endpoint {
            namespace: w.namespace,
            labels: Some(w.labels),
            ip: None,
        };
        if pol.egress_ports(&src, &dst, "TCP").contains(15012) {
            continue;
        }
        let names: Vec<String> = pol
            .isolating(&src, PolicyType::Egress)
            .map(|p| format!("`{}`", p.name))
            .collect();
        out.push(Issue {
            cause: Cause::SidecarCutOffFromIstiod,
            object: ObjectRef::new(sc, w.kind, w.namespace, w.name),
            message: format!(
                "the sidecars of {} `{}` cannot reach istiod (TCP 15012 in `istio-system`): egress NetworkPolicy {} allows it nowhere, so they keep the endpoints they started with",
                w.kind,
                w.name,
                names.join(", ")
            ),
            fix: Fix::None,
            probe: None,
        });
    }
    out
}

/// Run `sc` with the confirmation client of `issue`, as it is and with the
/// fix; `None` when the issue has nothing to send to.
pub fn confirm(sc: &Scenario, issue: &Issue) -> Option<Confirmed> {
    let probe = issue.probe.as_ref()?;
    let base = with_client(sc, probe)?;
    let (rate, symptom) = failure_rate(&base)?;
    let rate_with_fix = match &issue.fix {
        Fix::None => None,
        fix => {
            let mut fixed = base.clone();
            apply(&mut fixed, fix);
            failure_rate(&fixed).map(|(r, _)| r)
        }
    };
    Some(Confirmed {
        symptom,
        rate,
        rate_with_fix,
    })
}

/// `sc` for [`CONFIRM_DURATION`], every workload starting Ready and
/// without churn or timeline, and one client group sending to `probe`. The
/// group is read from a small scenario of its own (so it has every
/// default a file's group has), then pointed at the probe's host.
fn with_client(sc: &Scenario, probe: &Probe) -> Option<Scenario> {
    let (host, port) = probe.target.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let src = format!(
        "name: probe\nduration: {CONFIRM_DURATION}\nservices: [{{name: probe, namespace: {ns}, clusterIP: None, ports: [{{port: {port}}}]}}]\nclients: [{{name: {CLIENT}, namespace: {ns}, count: 5, rate: 20, target: 'probe:{port}'}}]\n",
        ns = probe.namespace
    );
    let mut group = crate::scenario::parse(&src).ok()?.clients.pop()?;
    group.target.host = host.to_string();
    let mut out = sc.clone();
    out.duration = CONFIRM_DURATION;
    out.events.clear();
    out.clients = vec![group];
    for s in &mut out.statefulsets {
        s.start_ready = true;
        s.churn.lifetime = crate::scenario::Lifetime::None;
    }
    for d in &mut out.deployments {
        d.start_ready = true;
        d.churn.lifetime = crate::scenario::Lifetime::None;
    }
    Some(out)
}

/// Failed requests over requests of the confirmation client, and the
/// failed outcome most of them ended with.
fn failure_rate(sc: &Scenario) -> Option<(f64, String)> {
    let report = crate::run(sc, &crate::RunOptions::default()).ok()?;
    let g = report.client_groups.get(CLIENT)?;
    let o = serde_json::to_value(&g.request_outcomes).ok()?;
    let o = o.as_object()?;
    let ok = o.get("ok")?.as_u64()?;
    let requests: u64 = o.values().filter_map(|x| x.as_u64()).sum();
    let worst = o
        .iter()
        .filter(|(k, _)| *k != "ok")
        .max_by_key(|(_, n)| n.as_u64().unwrap_or(0))
        .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
        .map_or("none".to_string(), |(k, _)| k.clone());
    Some(((requests - ok) as f64 / requests.max(1) as f64, worst))
}

/// Apply `fix` to the model.
fn apply(sc: &mut Scenario, fix: &Fix) {
    match fix {
        Fix::Selector { svc, selector } => sc.services[*svc].selector = selector.clone(),
        Fix::TargetPort { svc, port, to } => sc.services[*svc].ports[*port].target_port = *to,
        Fix::DropPolicies(names) => sc
            .network_policies
            .retain(|p| !names.contains(&(p.namespace.clone(), p.name.clone()))),
        Fix::Headless { svc } => sc.services[*svc].cluster_ip = ClusterIp::None,
        Fix::None => {}
    }
}
