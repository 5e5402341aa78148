//! Pod objects and the pod spec shared with workload templates.

use std::net::{IpAddr, Ipv4Addr};

use super::super::fields::{duplicate, one_of, protocol};
use super::*;
use super::{Objects, metadata, selects};

/// PodSpec fields accepted and not modelled (a Pod's, or a StatefulSet
/// template's).
pub(super) const POD_SPEC_IGNORED: [&str; 37] = [
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "ephemeralContainers",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "hostnameOverride",
    "imagePullSecrets",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "os",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "schedulingGates",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
];

/// Container fields accepted and not modelled (only `ports` is read).
pub(super) const CONTAINER_IGNORED: [&str; 24] = [
    "args",
    "command",
    "env",
    "envFrom",
    "image",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "name",
    "readinessProbe",
    "resizePolicy",
    "resources",
    "restartPolicy",
    "restartPolicyRules",
    "securityContext",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
];

/// A Pod object, read; checked by [`pods`].
pub(in crate::scenario) struct PodDraft<'n> {
    pub(super) pod: PodDef,
    pub(super) declared_ports: bool,
    pub(super) named_ports: Vec<(String, u16)>,
    pub name: Field<'n>,
    pub(super) ip: Field<'n>,
    /// `ownerReferences` naming a workload: its kind, name, and where.
    pub(super) owner: Option<(String, String, Field<'n>)>,
}

/// What ksim reads of a PodSpec: hostname, subdomain and container ports.
pub(super) struct PodSpec {
    /// `terminationGracePeriodSeconds`.
    pub(super) grace: Option<SimDuration>,
    pub(super) hostname: Option<String>,
    pub(super) subdomain: Option<String>,
    /// Container port numbers, each once, in order.
    pub(super) ports: Vec<u16>,
    /// Those with a name.
    pub(super) named_ports: Vec<(String, u16)>,
}

/// A PodSpec (a Pod's, or a StatefulSet template's: there the controller
/// sets hostname and subdomain, and those written are not read).
pub(super) fn pod_spec(f: &Field, template: bool) -> Result<PodSpec, Diagnostic> {
    let mut m = Map::of(f)?;
    let mut spec = PodSpec {
        grace: None,
        hostname: None,
        subdomain: None,
        ports: Vec::new(),
        named_ports: Vec::new(),
    };
    if template {
        m.skip(&["hostname", "subdomain"]);
    } else {
        spec.hostname = m.opt("hostname").map(|f| f.dns_label()).transpose()?;
        spec.subdomain = m.opt("subdomain").map(|f| f.dns_label()).transpose()?;
    }
    if let Some(cf) = m.opt("containers") {
        for container in cf.seq()? {
            let mut cm = Map::of(&container)?;
            if let Some(pf) = cm.opt("ports") {
                for item in pf.seq()? {
                    let mut pm = Map::of(&item)?;
                    let port = pm
                        .req("containerPort", "the port number the container listens on")?
                        .u16_port()?;
                    let name = pm.opt("name").map(|f| f.dns_label()).transpose()?;
                    protocol(pm.opt("protocol"))?;
                    pm.skip(&["hostIP", "hostPort"]);
                    pm.finish()?;
                    if !spec.ports.contains(&port) {
                        spec.ports.push(port);
                    }
                    if let Some(name) = name {
                        spec.named_ports.push((name, port));
                    }
                }
            }
            cm.skip(&CONTAINER_IGNORED);
            cm.finish()?;
        }
    }
    if let Some(f) = m.opt("terminationGracePeriodSeconds") {
        spec.grace = Some(SimDuration::from_secs(f.u32()? as u64));
    }
    m.skip(&POD_SPEC_IGNORED);
    m.finish()?;
    Ok(spec)
}

/// A Pod object; `None` when it has finished (phase Succeeded or Failed: it
/// holds no address and is no endpoint).
pub(super) fn pod<'n>(mut m: Map<'n>, f: &Field<'n>) -> Result<Option<PodDraft<'n>>, Diagnostic> {
    let meta = metadata(&mut m, "Pod", &[], Name::Subdomain)?;
    let spec = match m.opt("spec") {
        Some(sf) => pod_spec(&sf, false)?,
        None => PodSpec {
            grace: None,
            hostname: None,
            subdomain: None,
            ports: Vec::new(),
            named_ports: Vec::new(),
        },
    };
    let Some(status) = m.opt("status") else {
        m.finish()?;
        return Err(f
            .err("a Pod needs `status.podIP`: ksim takes a hand-written Pod as given, with its address and readiness")
            .hint("add `status: {podIP: <IPv4 address>}`, and a `Ready` condition if it is ready"));
    };
    m.finish()?;
    let mut sm = Map::of(&status)?;
    if let Some(pf) = sm.opt("phase")
        && matches!(pf.str()?, "Succeeded" | "Failed")
    {
        return Ok(None);
    }
    let ip_f = sm.req("podIP", "the Pod's IPv4 address")?;
    let ip = match ip_f.str()?.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => u32::from(ip),
        Ok(IpAddr::V6(_)) => {
            return Err(ip_f
                .err("ksim's pods are IPv4 in this version")
                .hint("give the Pod's IPv4 address as `podIP`"));
        }
        Err(_) => return Err(ip_f.expected("an IPv4 address such as `10.244.1.5`")),
    };
    // Ready when the `Ready` condition is "True"; no condition: not ready.
    let mut ready = false;
    if let Some(cf) = sm.opt("conditions") {
        for item in cf.seq()? {
            let mut cm = Map::of(&item)?;
            let ty = cm.req("type", "the condition, e.g. `Ready`")?;
            if ty.str()? != "Ready" {
                continue;
            }
            let st = cm.req("status", "`\"True\"`, `\"False\"` or `\"Unknown\"`")?;
            ready = one_of(
                &st,
                "a condition status",
                &[("True", true), ("False", false), ("Unknown", false)],
            )?;
        }
    }
    // The rest of `status` (hostIP, containerStatuses, ...) is not modelled.
    Ok(Some(PodDraft {
        pod: PodDef {
            name: meta.name,
            namespace: meta.namespace,
            labels: meta.labels,
            hostname: spec.hostname,
            subdomain: spec.subdomain,
            ip,
            ready,
            ports: spec.ports.clone(),
        },
        declared_ports: !spec.ports.is_empty(),
        named_ports: spec.named_ports,
        name: meta.name_f,
        ip: ip_f,
        owner: meta.owner,
    }))
}

/// The hand-written Pods: Pods owned by a declared StatefulSet are skipped
/// (ksim creates them); names and IPs are unique; a Pod that declares no
/// container port listens on the target ports of the Services selecting it.
pub(in crate::scenario) fn pods(objs: &Objects, sc: &Scenario) -> Result<Vec<PodDef>, Diagnostic> {
    let mut out: Vec<PodDef> = Vec::new();
    let mut drafts: Vec<&PodDraft> = Vec::new();
    for draft in &objs.pods {
        let p = &draft.pod;
        if let Some((kind, owner, _)) = &draft.owner
            && kind != "StatefulSet"
        {
            // A ReplicaSet's pods (`<deployment>-<hash>-<id>`) or a
            // DaemonSet's: skipped when ksim creates them, from the
            // workload read (a ReplicaSet is named `<deployment>-<hash>`).
            let generated = sc.deployments.iter().any(|d| {
                d.namespace == p.namespace
                    && (d.name == *owner
                        || (kind == "ReplicaSet"
                            && owner
                                .strip_prefix(d.name.as_str())
                                .is_some_and(|r| r.starts_with('-'))))
            });
            if generated {
                continue;
            }
        }
        if let Some((kind, owner, at)) = &draft.owner
            && kind == "StatefulSet"
        {
            if sc
                .statefulsets
                .iter()
                .any(|s| s.name == *owner && s.namespace == p.namespace)
            {
                continue;
            }
            return Err(at
                .err(format!(
                    "Pod `{}` is owned by StatefulSet `{owner}`, which the scenario does not declare in namespace `{}`",
                    p.name, p.namespace
                ))
                .hint("add the StatefulSet (ksim creates its pods), or remove `ownerReferences` to take the Pod as given"));
        }
        if let Some(st) = sc
            .statefulsets
            .iter()
            .find(|st| st.namespace == p.namespace && st.index_of(&p.name).is_some())
        {
            return Err(draft
                .name
                .err(format!(
                    "`{}` is the name of a pod of StatefulSet `{}`, which ksim creates",
                    p.name, st.name
                ))
                .hint("remove this Pod (the StatefulSet's pods are generated), or rename it"));
        }
        if let Some(j) = out
            .iter()
            .position(|q| q.name == p.name && q.namespace == p.namespace)
        {
            return Err(duplicate(
                &drafts[j].name,
                &draft.name,
                "Pod",
                &p.name,
                &p.namespace,
            ));
        }
        crate::scenario::addresses::check_pod_ip(p.ip, sc.cluster.ipam.service_cidr, &draft.ip)?;
        if let Some(j) = out.iter().position(|q| q.ip == p.ip) {
            let other = &drafts[j];
            return Err(draft
                .ip
                .err(format!(
                    "podIP {} is also Pod `{}`'s (line {}, {})",
                    Ipv4Addr::from(p.ip),
                    other.pod.name,
                    other.ip.node.loc.line,
                    other.ip.path
                ))
                .hint("each Pod has its own IP address"));
        }
        let mut pod = p.clone();
        if !draft.declared_ports {
            for s in &sc.services {
                if s.namespace == pod.namespace && selects(&s.selector, &pod.labels) {
                    for port in &s.ports {
                        if !pod.ports.contains(&port.target_port) {
                            pod.ports.push(port.target_port);
                        }
                    }
                }
            }
        }
        out.push(pod);
        drafts.push(draft);
    }
    Ok(out)
}
