//! The `events` section: the timeline of scale, delete, rollout, ... events,
//! and the objects they name.

use super::super::defaults as d;
use super::super::fields::reference_error;
use super::clients::unknown_pod;
use super::services::namespace;
use super::*;
use crate::dns;

/// A pod named by an event (`web-1` or `ns/web-1`): a StatefulSet's
/// ordinal or a hand-written Pod, as (namespace, name).
pub(super) fn pod_ref_field(pf: &Field, sc: &Scenario) -> Result<(String, String), Diagnostic> {
    let text = pf.str()?;
    let (namespace, pod) = match text.split_once('/') {
        Some((ns, p)) => (ns.to_string(), p.to_string()),
        None => (d::NAMESPACE.to_string(), text.to_string()),
    };
    if namespace.is_empty() || pod.is_empty() || pod.contains('/') {
        return Err(pf
            .expected("a pod name, `web-1` or `namespace/web-1`")
            .hint("StatefulSet pods are named `<set>-<ordinal>`"));
    }
    let owner = sc
        .statefulsets
        .iter()
        .find(|st| st.namespace == namespace && st.index_of(&pod).is_some());
    // A hand-written Pod can be named too.
    let written = sc
        .pods
        .iter()
        .any(|p| p.name == pod && p.namespace == namespace);
    if owner.is_none() && !written {
        return Err(unknown_pod(pf, sc, &namespace, &pod));
    }
    Ok((namespace, pod))
}

/// `name` is one of `objects` (name, namespace) in `namespace`, or a
/// located error naming the `kind`, with a hint.
pub(super) fn known(
    f: &Field,
    kind: &str,
    name: &str,
    namespace: &str,
    objects: &[(&str, &str)],
) -> Result<(), Diagnostic> {
    if objects.iter().any(|&(n, ns)| n == name && ns == namespace) {
        return Ok(());
    }
    Err(reference_error(
        f,
        kind,
        name,
        namespace,
        objects,
        |other| format!("it is in namespace `{other}`: add `namespace: {other}`"),
    ))
}

/// `name` is a Deployment of `namespace`.
pub(super) fn known_deployment(
    f: &Field,
    name: &str,
    namespace: &str,
    sc: &Scenario,
) -> Result<(), Diagnostic> {
    let all: Vec<(&str, &str)> = sc
        .deployments
        .iter()
        .map(|d| (d.name.as_str(), d.namespace.as_str()))
        .collect();
    known(f, "Deployment", name, namespace, &all)
}

/// `name` is a StatefulSet of `namespace`.
pub(super) fn known_statefulset(
    f: &Field,
    name: &str,
    namespace: &str,
    sc: &Scenario,
) -> Result<(), Diagnostic> {
    let all: Vec<(&str, &str)> = sc
        .statefulsets
        .iter()
        .map(|s| (s.name.as_str(), s.namespace.as_str()))
        .collect();
    known(f, "StatefulSet", name, namespace, &all)
}

pub(super) fn timeline_event(f: &Field, sc: &Scenario) -> Result<TimelineEvent, Diagnostic> {
    let mut m = Map::of(f)?;
    let at_f = m.req("at", "when it happens, e.g. `60s`")?;
    let at = at_f.duration()?;
    if at >= sc.duration {
        return Err(at_f
            .err(format!(
                "{at} is not before the end of the run ({})",
                sc.duration
            ))
            .hint("events must happen within `duration`"));
    }
    const VERBS: [&str; 8] = [
        "delete_pod",
        "crash_pod",
        "hang_pod",
        "scale",
        "rollout_restart",
        "update_image",
        "fail_node",
        "drain_node",
    ];
    let present: Vec<&str> = VERBS.iter().copied().filter(|v| m.has(v)).collect();
    let action = match present.as_slice() {
        ["delete_pod"] => {
            let pf = m
                .opt("delete_pod")
                .ok_or_else(|| f.err("`delete_pod` needs a pod name"))?;
            let (namespace, pod) = pod_ref_field(&pf, sc)?;
            Action::DeletePod { namespace, pod }
        }
        ["hang_pod"] => {
            let pf = m
                .opt("hang_pod")
                .ok_or_else(|| f.err("`hang_pod` needs a pod name"))?;
            let (namespace, pod) = pod_ref_field(&pf, sc)?;
            Action::HangPod { namespace, pod }
        }
        ["crash_pod"] => {
            let cf = m
                .opt("crash_pod")
                .ok_or_else(|| f.err("`crash_pod` needs a pod name"))?;
            let (pf, crash_loop) = match cf.node.kind {
                yaml::Kind::Map(_) => {
                    let mut cm = Map::of(&cf)?;
                    let pf = cm.req("pod", "the pod whose container crashes, e.g. `web-1`")?;
                    let crash_loop = cm.opt("loop").map(|f| f.positive_duration()).transpose()?;
                    cm.finish()?;
                    (pf, crash_loop)
                }
                _ => (cf, None),
            };
            let (namespace, pod) = pod_ref_field(&pf, sc)?;
            Action::CrashPod {
                namespace,
                pod,
                crash_loop,
            }
        }
        ["scale"] => {
            let sf = m
                .opt("scale")
                .ok_or_else(|| f.err("`scale` needs `statefulset` and `replicas`"))?;
            let mut sm = Map::of(&sf)?;
            let namespace = namespace(&mut sm)?;
            if let Some(df) = sm.opt("deployment") {
                let deployment = df.str()?.to_string();
                known_deployment(&df, &deployment, &namespace, sc)?;
                let replicas = sm.req("replicas", "the new replica count")?.u32()?;
                sm.finish()?;
                Action::ScaleDeployment {
                    namespace,
                    deployment,
                    replicas,
                }
            } else {
                let nf = sm.req("statefulset", "the StatefulSet (or `deployment`) to scale")?;
                let statefulset = nf.str()?.to_string();
                known_statefulset(&nf, &statefulset, &namespace, sc)?;
                let replicas = sm.req("replicas", "the new replica count")?.u32()?;
                sm.finish()?;
                Action::Scale {
                    namespace,
                    statefulset,
                    replicas,
                }
            }
        }
        [verb @ ("fail_node" | "drain_node")] => {
            let nf = m
                .opt(verb)
                .ok_or_else(|| f.err(format!("`{verb}` needs a node name, e.g. `node-0`")))?;
            let text = nf.str()?;
            let nodes = sc.cluster.nodes;
            let node = text
                .strip_prefix("node-")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|&n| n < nodes && text == format!("node-{n}"))
                .ok_or_else(|| {
                    nf.err(format!(
                        "no node `{text}`: the cluster has node-0 .. node-{}",
                        nodes - 1
                    ))
                    .hint("nodes are named `node-<n>`; add more with `cluster.nodes`")
                })?;
            if *verb == "fail_node" {
                Action::FailNode { node }
            } else {
                Action::DrainNode { node }
            }
        }
        ["update_image"] => {
            let uf = m.opt("update_image").ok_or_else(|| {
                f.err("`update_image` needs `statefulset` or `deployment`")
                    .hint("e.g. `update_image: {statefulset: web, broken: true}`")
            })?;
            let mut um = Map::of(&uf)?;
            let namespace = namespace(&mut um)?;
            let (workload, deployment) = match um.opt("deployment") {
                Some(df) => {
                    let name = df.str()?.to_string();
                    known_deployment(&df, &name, &namespace, sc)?;
                    (name, true)
                }
                None => {
                    let nf =
                        um.req("statefulset", "the StatefulSet (or `deployment`) to update")?;
                    let name = nf.str()?.to_string();
                    known_statefulset(&nf, &name, &namespace, sc)?;
                    (name, false)
                }
            };
            let broken = um
                .opt("broken")
                .map(|f| f.bool())
                .transpose()?
                .unwrap_or(false);
            um.finish()?;
            Action::UpdateImage {
                namespace,
                workload,
                deployment,
                broken,
            }
        }
        ["rollout_restart"] => {
            let rf = m.opt("rollout_restart").ok_or_else(|| {
                f.err("`rollout_restart` needs a StatefulSet name")
                    .hint("e.g. `rollout_restart: web`")
            })?;
            let text = rf.str()?;
            let (namespace, statefulset) = match text.split_once('/') {
                Some((ns, n)) => (ns.to_string(), n.to_string()),
                None => (d::NAMESPACE.to_string(), text.to_string()),
            };
            if sc
                .deployments
                .iter()
                .any(|d| d.name == statefulset && d.namespace == namespace)
            {
                Action::RolloutRestartDeployment {
                    namespace,
                    deployment: statefulset,
                }
            } else {
                known_statefulset(&rf, &statefulset, &namespace, sc)?;
                Action::RolloutRestart {
                    namespace,
                    statefulset,
                }
            }
        }
        [] => {
            return Err(f
                .err("an event needs an action")
                .hint(format!("one of: {}", VERBS.join(", "))));
        }
        _ => {
            return Err(f
                .err(format!(
                    "an event has exactly one action, found {}",
                    present.join(" and ")
                ))
                .hint("write two events with the same `at`"));
        }
    };
    m.finish()?;
    Ok(TimelineEvent { at, action })
}

/// The Service a validated `target` reaches through the search `path`
/// (`None`: a name under another cluster domain).
pub(super) fn target_service(
    target: &Target,
    path: &dns::SearchPath,
    style: SearchStyle,
    sc: &Scenario,
) -> Option<u32> {
    path.candidates(&target.host, style)
        .iter()
        .find_map(|q| dns::classify(q, sc).service())
}
