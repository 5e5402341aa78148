//! The `statefulsets` and `deployments` sections (ksim's short forms):
//! labels, probes, lifecycle, churn.

use super::super::fields::{
    default_lifecycle, deployment_strategy, governing_service, lifetime, min_ready_seconds,
    ordinals_start, pod_management_policy, update_strategy,
};
use super::services::namespace;
use super::*;

pub(super) fn labels_or_default(
    m: &mut Map,
    name: &str,
) -> Result<BTreeMap<String, String>, Diagnostic> {
    match m.opt("labels") {
        Some(f) => f.string_map(),
        None => Ok(BTreeMap::from([("app".to_string(), name.to_string())])),
    }
}

/// `readinessProbe`/`livenessProbe`: `{periodSeconds, timeoutSeconds,
/// failureThreshold}` in whole seconds as in the API; what the probe checks
/// (`httpGet`, `exec`, ...) is accepted and not modelled.
pub(super) fn probe(f: &Field) -> Result<Probe, Diagnostic> {
    let mut m = Map::of(f)?;
    let secs = |m: &mut Map, k: &'static str, dflt: u64| -> Result<SimDuration, Diagnostic> {
        Ok(SimDuration::from_secs(
            m.opt(k)
                .map(|f| f.positive_u32())
                .transpose()?
                .map_or(dflt, u64::from),
        ))
    };
    let period = secs(&mut m, "periodSeconds", 10)?;
    let timeout = secs(&mut m, "timeoutSeconds", 1)?;
    let failure_threshold = m
        .opt("failureThreshold")
        .map(|f| f.positive_u32())
        .transpose()?
        .unwrap_or(3);
    m.skip(crate::scenario::schema::PROBE_IGNORED);
    m.finish()?;
    Ok(Probe {
        period,
        timeout,
        failure_threshold,
    })
}

/// A workload's `lifecycle: {startup, drain, teardown}` and
/// `terminationGracePeriodSeconds` (whole seconds, as in the API).
pub(super) fn lifecycle_fields(m: &mut Map) -> Result<Lifecycle, Diagnostic> {
    let mut l = default_lifecycle();
    if let Some(f) = m.opt("lifecycle") {
        let mut lm = Map::of(&f)?;
        for (key, slot) in [
            ("startup", &mut l.startup),
            ("drain", &mut l.drain),
            ("teardown", &mut l.teardown),
        ] {
            if let Some(f) = lm.opt(key) {
                *slot = f.duration()?;
            }
        }
        lm.finish()?;
    }
    if let Some(f) = m.opt("terminationGracePeriodSeconds") {
        l.grace = SimDuration::from_secs(f.u32()? as u64);
    }
    l.readiness = m.opt("readinessProbe").map(|f| probe(&f)).transpose()?;
    l.liveness = m.opt("livenessProbe").map(|f| probe(&f)).transpose()?;
    Ok(l)
}

/// `statefulsets[]`: ksim's short form of a StatefulSet.
pub(super) fn statefulset(f: &Field, sc: &Scenario) -> Result<StatefulSet, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = m.req("name", "the StatefulSet's name")?.dns_label()?;
    let namespace = namespace(&mut m)?;
    let svc_field = m.req("service", "its governing Service (`spec.serviceName`)")?;
    let service = svc_field.str()?.to_string();
    let svc = governing_service(&svc_field, &service, &namespace, sc)?;
    let replicas = m.opt("replicas").map(|f| f.u32()).transpose()?.unwrap_or(1);
    let start_ready = m
        .opt("start_ready")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    let pod_management_policy = pod_management_policy(m.opt("podManagementPolicy"))?;
    let labels = labels_or_default(&mut m, &name)?;
    let ports = match m.opt("ports") {
        Some(pf) => {
            let mut v = Vec::new();
            for item in pf.seq()? {
                v.push(item.u16_port()?);
            }
            v
        }
        // Default: the pods listen on the governing service's target ports.
        None => svc.ports.iter().map(|p| p.target_port).collect(),
    };
    let lifecycle = lifecycle_fields(&mut m)?;
    let churn = churn(m.opt("churn"))?;
    let update_strategy = update_strategy(m.opt("updateStrategy"))?;
    let min_ready = min_ready_seconds(m.opt("minReadySeconds"))?;
    let ordinals_start = ordinals_start(m.opt("ordinals"))?;
    let (capacity, sidecar) = workload_extras(&mut m)?;
    m.finish()?;
    Ok(StatefulSet {
        capacity,
        sidecar,
        ordinals_start,
        name,
        namespace,
        service,
        replicas,
        start_ready,
        pod_management_policy,
        labels,
        ports,
        lifecycle,
        churn,
        update_strategy,
        min_ready,
    })
}

/// A workload's `churn: {lifetime}`.
pub(super) fn churn(f: Option<Field>) -> Result<Churn, Diagnostic> {
    let Some(f) = f else {
        return Ok(Churn {
            lifetime: Lifetime::None,
        });
    };
    let mut cm = Map::of(&f)?;
    let lifetime = cm
        .opt("lifetime")
        .map(|f| lifetime(&f))
        .transpose()?
        .unwrap_or(Lifetime::None);
    cm.finish()?;
    Ok(Churn { lifetime })
}

/// A workload's `capacity` and `sidecar`.
pub(super) fn workload_extras(m: &mut Map) -> Result<(Option<Capacity>, Option<bool>), Diagnostic> {
    let capacity = m
        .opt("capacity")
        .map(|f| traffic::capacity(&f))
        .transpose()?;
    let sidecar = m.opt("sidecar").map(|f| f.bool()).transpose()?;
    Ok((capacity, sidecar))
}

/// `deployments[]`: ksim's short form of a Deployment.
pub(super) fn deployment(f: &Field) -> Result<Deployment, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = m.req("name", "the Deployment's name")?.dns_label()?;
    let namespace = namespace(&mut m)?;
    let replicas = m.opt("replicas").map(|f| f.u32()).transpose()?.unwrap_or(1);
    let start_ready = m
        .opt("start_ready")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    let labels = labels_or_default(&mut m, &name)?;
    let ports = match m.opt("ports") {
        Some(pf) => pf
            .seq()?
            .iter()
            .map(|i| i.u16_port())
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let lifecycle = lifecycle_fields(&mut m)?;
    let churn = churn(m.opt("churn"))?;
    let strategy = deployment_strategy(m.opt("strategy"))?;
    let min_ready = min_ready_seconds(m.opt("minReadySeconds"))?;
    let (capacity, sidecar) = workload_extras(&mut m)?;
    m.finish()?;
    if ports.is_empty() {
        return Err(f
            .err(format!(
                "Deployment `{name}` needs the container `ports` its pods listen on"
            ))
            .path(format!("{}.ports", f.path))
            .hint("e.g. `ports: [8080]`"));
    }
    Ok(Deployment {
        name,
        namespace,
        replicas,
        start_ready,
        labels,
        ports,
        lifecycle,
        churn,
        strategy,
        min_ready,
        capacity,
        sidecar,
    })
}
