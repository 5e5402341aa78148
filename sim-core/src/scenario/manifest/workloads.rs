//! StatefulSet and Deployment objects: their pod template and settings.

use super::super::fields::{
    default_lifecycle, deployment_strategy, governing_service, lifetime, min_ready_seconds,
    ordinals_start, pod_management_policy, update_strategy,
};
use super::pod::{PodSpec, pod_spec};
use super::*;
use super::{Meta, check_selector, flag, metadata};

/// Deployment `spec` fields accepted and not modelled.
pub(super) const DEPLOYMENT_SPEC_IGNORED: [&str; 3] =
    ["paused", "progressDeadlineSeconds", "revisionHistoryLimit"];
// A DaemonSet's `updateStrategy` is read (and noted) in `deployment_object`.

/// StatefulSet `spec` fields accepted and not modelled.
pub(super) const STATEFULSET_SPEC_IGNORED: [&str; 3] = [
    "persistentVolumeClaimRetentionPolicy",
    "revisionHistoryLimit",
    "volumeClaimTemplates",
];

pub(super) const STATEFULSET_ANNOTATIONS: [&str; 5] =
    ["start-ready", "startup", "drain", "teardown", "lifetime"];

/// A StatefulSet object, read; checked against the Services by [`statefulset`].
pub(in crate::scenario) struct StatefulSetDraft<'n> {
    /// The set as read; `ports` empty when the containers declare none.
    pub(super) set: StatefulSet,
    /// Whether the containers declare ports.
    pub(super) declared_ports: bool,
    /// Container ports with a name, for named `targetPort`s.
    pub(super) named_ports: Vec<(String, u16)>,
    pub name: Field<'n>,
    pub replicas: Field<'n>,
    pub(super) service: Field<'n>,
}

/// A StatefulSet object (`apps/v1`), read; ksim's own settings come from
/// `ksim.io/*` annotations.
pub(super) fn statefulset_object<'n>(
    mut m: Map<'n>,
    opts: ReadOptions,
    notes: &mut Vec<String>,
) -> Result<StatefulSetDraft<'n>, Diagnostic> {
    let meta = metadata(&mut m, "StatefulSet", &STATEFULSET_ANNOTATIONS, Name::Label)?;
    let spec = m.req(
        "spec",
        "the StatefulSet's `serviceName`, `replicas`, `selector` and `template`",
    )?;
    let observed = observed_ready(m.opt("status").as_ref(), opts);
    m.finish()?;
    let mut sm = Map::of(&spec)?;
    let service_f = sm.req("serviceName", "its governing Service")?;
    let service = service_f.dns_label()?;
    let replicas_f = sm.opt("replicas");
    let replicas = replicas_f
        .as_ref()
        .map(|f| f.u32())
        .transpose()?
        .unwrap_or(1);
    let pod_management_policy = pod_management_policy(sm.opt("podManagementPolicy"))?;
    let selector_f = sm.req("selector", "which pods are the set's (`matchLabels`)")?;
    let template_f = sm.req("template", "the pods' `metadata.labels` and `spec`")?;
    let ordinals_start = ordinals_start(sm.opt("ordinals"))?;
    let update_strategy = update_strategy(sm.opt("updateStrategy"))?;
    let min_ready = min_ready_seconds(sm.opt("minReadySeconds"))?;
    sm.skip(&STATEFULSET_SPEC_IGNORED);
    sm.finish()?;

    let (labels, pod, _) = template(&template_f, &selector_f, false)?;
    template_notes("StatefulSet", &meta, &template_f, notes);

    let (start_ready, lifecycle, churn_lifetime) = workload_settings(&meta, &pod)?;
    let start_ready = start_ready || observed;
    Ok(StatefulSetDraft {
        set: StatefulSet {
            name: meta.name,
            namespace: meta.namespace,
            service,
            replicas,
            start_ready,
            pod_management_policy,
            labels,
            ports: pod.ports.clone(),
            lifecycle,
            churn: Churn {
                lifetime: churn_lifetime,
            },
            update_strategy,
            ordinals_start,
            min_ready,
            capacity: None,
            sidecar: None,
        },
        declared_ports: !pod.ports.is_empty(),
        named_ports: pod.named_ports,
        name: meta.name_f,
        replicas: replicas_f.unwrap_or_else(|| spec.clone()),
        service: service_f,
    })
}

/// Whether a workload's `status` reports Ready pods, so that, read from a
/// snapshot, it starts with them Ready (unless `snapshot: zero`).
fn observed_ready(status: Option<&Field>, opts: ReadOptions) -> bool {
    !opts.from_zero && ready_replicas(status).is_some_and(|n| n > 0)
}

/// A Deployment read from its object, with what `targetPort` names need.
pub(in crate::scenario) struct DeploymentDraft<'n> {
    pub deployment: Deployment,
    /// Container ports with a name, for named `targetPort`s.
    pub(super) named_ports: Vec<(String, u16)>,
    pub name: Field<'n>,
    pub replicas: Field<'n>,
}

/// A Deployment object (`apps/v1`): replicas, selector, template labels and
/// container ports, `strategy`, `minReadySeconds`; ksim's own settings come
/// from the same `ksim.io/*` annotations as a StatefulSet's.
///
/// A ReplicaSet reads as a Deployment with its replicas (and no rollout
/// strategy to speak of), unless a Deployment owns it: then the Deployment
/// creates its pods, and it is skipped (`None`). A DaemonSet runs one pod
/// per node: a Deployment with `cluster.nodes` replicas, placed
/// round-robin, so one on each node when they start.
pub(super) fn deployment_object<'n>(
    mut m: Map<'n>,
    kind: &str,
    opts: ReadOptions,
    notes: &mut Vec<String>,
) -> Result<Option<DeploymentDraft<'n>>, Diagnostic> {
    let meta = metadata(&mut m, kind, &STATEFULSET_ANNOTATIONS, Name::Label)?;
    if kind == "ReplicaSet"
        && let Some((owner_kind, owner, _)) = &meta.owner
        && owner_kind == "Deployment"
    {
        notes.push(format!(
            "skipped ReplicaSet `{}/{}`: Deployment `{owner}` owns it, and ksim creates its pods from the Deployment",
            meta.namespace, meta.name
        ));
        return Ok(None);
    }
    let spec = m.req(
        "spec",
        &format!("the {kind}'s `replicas`, `selector` and `template`"),
    )?;
    let observed = observed_ready(m.opt("status").as_ref(), opts);
    m.finish()?;
    let mut sm = Map::of(&spec)?;
    let (replicas_f, replicas) = if kind == "DaemonSet" {
        (None, opts.nodes)
    } else {
        let f = sm.opt("replicas");
        let n = f.as_ref().map(|f| f.u32()).transpose()?.unwrap_or(1);
        (f, n)
    };
    let selector_f = sm.req(
        "selector",
        &format!("which pods are the {kind}'s (`matchLabels`)"),
    )?;
    let template_f = sm.req("template", "the pods' `metadata.labels` and `spec`")?;
    let strategy = match kind {
        // A DaemonSet's `updateStrategy` (RollingUpdate, maxUnavailable 1,
        // maxSurge 0 by default) is a Deployment's with no surge.
        "DaemonSet" => {
            if sm.opt("updateStrategy").is_some() {
                notes.push(format!(
                    "DaemonSet `{}/{}`: `updateStrategy` is not modelled (rollouts replace one pod at a time)",
                    meta.namespace, meta.name
                ));
            }
            DeploymentStrategy::RollingUpdate {
                max_surge: Quantity::Count(0),
                max_unavailable: Quantity::Count(1),
            }
        }
        "ReplicaSet" => deployment_strategy(None)?,
        _ => deployment_strategy(sm.opt("strategy"))?,
    };
    let min_ready = min_ready_seconds(sm.opt("minReadySeconds"))?;
    sm.skip(&DEPLOYMENT_SPEC_IGNORED);
    sm.finish()?;

    let (labels, pod, pf) = template(&template_f, &selector_f, true)?;
    template_notes(kind, &meta, &template_f, notes);
    if pod.ports.is_empty() {
        return Err(pf
            .err(format!(
                "{kind} `{}` declares no container ports",
                meta.name
            ))
            .hint("list the ports its pods listen on: `containers: [{name: app, ports: [{containerPort: 8080}]}]`"));
    }
    let (start_ready, lifecycle, churn_lifetime) = workload_settings(&meta, &pod)?;
    let start_ready = start_ready || observed;
    let d = Deployment {
        name: meta.name,
        namespace: meta.namespace,
        replicas,
        start_ready,
        labels,
        ports: pod.ports.clone(),
        lifecycle,
        churn: Churn {
            lifetime: churn_lifetime,
        },
        strategy,
        min_ready,
        capacity: None,
        sidecar: None,
    };
    Ok(Some(DeploymentDraft {
        deployment: d,
        named_ports: pod.named_ports,
        name: meta.name_f,
        replicas: replicas_f.unwrap_or(spec),
    }))
}

/// A workload's pod `template`: its labels (which `selector` must select)
/// and its pod spec, and where the spec is written (the template when it
/// has none). `spec_required`: a Deployment's template must have one.
pub(super) fn template<'n>(
    template_f: &Field<'n>,
    selector_f: &Field<'n>,
    spec_required: bool,
) -> Result<(BTreeMap<String, String>, PodSpec, Field<'n>), Diagnostic> {
    let mut tm = Map::of(template_f)?;
    let tmeta = tm.req("metadata", "the pods' `labels`")?;
    let labels_f = Map::of(&tmeta)?.req("labels", "the pods' labels, which `selector` matches")?;
    let labels = labels_f.string_map()?;
    let spec_f = if spec_required {
        Some(tm.req("spec", "the pods' containers and their `ports`")?)
    } else {
        tm.opt("spec")
    };
    let pod = match &spec_f {
        Some(pf) => pod_spec(pf, true)?,
        None => PodSpec {
            grace: None,
            hostname: None,
            subdomain: None,
            ports: Vec::new(),
            named_ports: Vec::new(),
        },
    };
    tm.finish()?;
    check_selector(selector_f, &labels, &labels_f)?;
    Ok((labels, pod, spec_f.unwrap_or_else(|| template_f.clone())))
}

/// Notes for what a workload's pod template sets that changes networking
/// and ksim does not model: `hostNetwork` (the pods would have their
/// node's address), and DNS settings (ksim resolves names for client
/// groups only, whose `dnsPolicy` and `dnsConfig` are modelled).
fn template_notes(kind: &str, meta: &Meta, template_f: &Field, notes: &mut Vec<String>) {
    let Some(spec) = template_f.node.find("spec") else {
        return;
    };
    let who = format!("{kind} `{}/{}`", meta.namespace, meta.name);
    if spec.find("hostNetwork").and_then(|n| n.scalar()) == Some("true") {
        notes.push(format!(
            "{who}: `hostNetwork: true` is not modelled: its pods get pod IPs, not their nodes' addresses"
        ));
    }
    let policy = spec.find("dnsPolicy").and_then(|n| n.scalar());
    if policy.is_some_and(|p| p != "ClusterFirst") || spec.find("dnsConfig").is_some() {
        notes.push(format!(
            "{who}: its pods' `dnsPolicy`/`dnsConfig` are not modelled (a client group's are: give the group the same settings to see their effect)"
        ));
    }
}

/// A workload's ksim settings from its `ksim.io/*` annotations and pod
/// spec: (start Ready, lifecycle, churn lifetime).
pub(super) fn workload_settings(
    meta: &Meta,
    pod: &PodSpec,
) -> Result<(bool, Lifecycle, Lifetime), Diagnostic> {
    let mut start_ready = false;
    let mut lifecycle = default_lifecycle();
    if let Some(g) = pod.grace {
        lifecycle.grace = g;
    }
    let mut churn_lifetime = Lifetime::None;
    for (key, value) in &meta.ksim {
        match *key {
            "start-ready" => start_ready = flag(value)?,
            "startup" => lifecycle.startup = value.duration()?,
            "drain" => lifecycle.drain = value.duration()?,
            "teardown" => lifecycle.teardown = value.duration()?,
            "lifetime" => churn_lifetime = lifetime(value)?,
            _ => unreachable!("annotations are checked by `metadata`"),
        }
    }
    Ok((start_ready, lifecycle, churn_lifetime))
}

/// A StatefulSet object checked against the Services: its governing
/// Service exists; without container ports, its pods listen on the
/// Service's target ports (as in the short form).
pub(in crate::scenario) fn statefulset(
    draft: &StatefulSetDraft,
    sc: &Scenario,
) -> Result<StatefulSet, Diagnostic> {
    let st = &draft.set;
    let svc = governing_service(&draft.service, &st.service, &st.namespace, sc)?;
    let mut out = st.clone();
    if !draft.declared_ports {
        out.ports = svc.ports.iter().map(|p| p.target_port).collect();
    }
    Ok(out)
}
