//! Service objects: ports (named `targetPort`s resolved against the pods
//! they select), ClusterIPs, traffic annotations.

use super::super::fields::{
    Form, IpValue, NamedTarget, SvcDecl, cluster_ip, one_of, service_ports, traffic_settings,
};
use super::*;
use super::{Objects, dns_name, metadata, selects};

/// Service `spec` fields accepted and not modelled (`type: NodePort` and
/// `LoadBalancer` are modelled without their port numbers).
pub(super) const SERVICE_SPEC_IGNORED: [&str; 6] = [
    "allocateLoadBalancerNodePorts",
    "externalIPs",
    "healthCheckNodePort",
    "loadBalancerClass",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
];

/// A Service object.
pub(super) fn service<'n>(
    mut m: Map<'n>,
) -> Result<(Service, SvcDecl<'n>, Vec<NamedTarget<'n>>), Diagnostic> {
    let meta = metadata(&mut m, "Service", &[], Name::Label)?;
    let spec = m.req(
        "spec",
        "the Service's `ports`, `selector`, `clusterIP`, ...",
    )?;
    m.opt("status");
    m.finish()?;
    let mut sm = Map::of(&spec)?;
    let type_f = sm.opt("type");
    // (is ExternalName, reached from outside: Some(is a load balancer))
    let (external, outside) = match &type_f {
        None => (false, None),
        Some(tf) => one_of(
            tf,
            "a Service type",
            &[
                ("ClusterIP", (false, None)),
                ("NodePort", (false, Some(false))),
                ("LoadBalancer", (false, Some(true))),
                ("ExternalName", (true, None)),
            ],
        )?,
    };
    let ip_f = sm.opt("clusterIP");
    let ips_f = sm.opt("clusterIPs");
    let external_f = sm.opt("externalName");
    let selector = match sm.opt("selector") {
        Some(f) => f.string_map()?,
        None => BTreeMap::new(),
    };
    let mut named = Vec::new();
    let ports = match sm.opt("ports") {
        Some(pf) => service_ports(&pf, Form::Object, &mut named)?,
        None => Vec::new(),
    };
    let publish_not_ready = sm
        .opt("publishNotReadyAddresses")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    let traffic = traffic_settings(&mut sm)?;
    let families_f = sm.opt("ipFamilies");
    let mut families = Vec::new();
    if let Some(ff) = &families_f {
        for item in ff.seq()? {
            families.push(one_of(&item, "an IP family", &[("IPv4", 4), ("IPv6", 6)])?);
        }
    }
    let policy_f = sm.opt("ipFamilyPolicy");
    let require_dual = match &policy_f {
        None => false,
        Some(pf) => one_of(
            pf,
            "an ipFamilyPolicy",
            &[
                ("SingleStack", false),
                ("PreferDualStack", false),
                ("RequireDualStack", true),
            ],
        )?,
    };
    sm.skip(&SERVICE_SPEC_IGNORED);
    sm.finish()?;

    // `clusterIP` and `clusterIPs`: where each value is written, and what.
    let mut ips: Vec<(IpValue, Field<'n>)> = Vec::new();
    if let Some(lf) = &ips_f {
        let items = lf.seq()?;
        if items.len() > 2 {
            return Err(lf.err(format!(
                "at most 2 clusterIPs (one per IP family), found {}",
                items.len()
            )));
        }
        for item in items {
            let v = cluster_ip(&item, true)?;
            if v == IpValue::Auto {
                return Err(item
                    .expected("an IPv4 or IPv6 address, or `None`")
                    .hint("leave `clusterIPs` out to have an address allocated"));
            }
            ips.push((v, item));
        }
    }
    if let Some(cf) = &ip_f {
        let v = cluster_ip(cf, true)?;
        match ips.first() {
            None => ips.push((v, cf.clone())),
            Some((first, at)) if *first != v && v != IpValue::Auto => {
                return Err(at
                    .err(format!(
                        "`clusterIPs` starts with `{}`, but `clusterIP` is `{}`",
                        at.str()?,
                        cf.str()?
                    ))
                    .hint("the first of `clusterIPs` is `clusterIP`: make them the same"));
            }
            Some(_) => {}
        }
    }
    if ips.iter().any(|(v, _)| *v == IpValue::None) && ips.len() > 1 {
        return Err(ips[1]
            .1
            .err("a headless Service (`None`) has no other clusterIPs"));
    }
    if let [(IpValue::V4(_), _), (IpValue::V4(_), at)]
    | [(IpValue::V6(_), _), (IpValue::V6(_), at)] = ips.as_slice()
    {
        return Err(at
            .err("two clusterIPs of the same IP family")
            .hint("a dual-stack Service has one IPv4 and one IPv6 ClusterIP"));
    }
    let mut cluster_ip_v4 = ClusterIp::Auto;
    let mut cluster_ipv6 = Vec::new();
    for (v, _) in &ips {
        match v {
            IpValue::None => cluster_ip_v4 = ClusterIp::None,
            IpValue::Auto => {}
            IpValue::V4(ip) => cluster_ip_v4 = ClusterIp::Fixed(*ip),
            IpValue::V6(ip) => cluster_ipv6.push(*ip),
        }
    }
    if cluster_ip_v4 == ClusterIp::Auto && !cluster_ipv6.is_empty() {
        // IPv6 only.
        cluster_ip_v4 = ClusterIp::None;
    }
    let ip_at = ips
        .iter()
        .find(|(v, _)| matches!(v, IpValue::V4(_)))
        .or(ips.first())
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| spec.clone());

    let external_name = match (external, &external_f) {
        (true, None) => {
            return Err(spec
                .err("a Service of `type: ExternalName` needs `externalName`")
                .hint("add `externalName: <DNS name>`, e.g. `db.example.com`"));
        }
        (true, Some(ef)) => {
            if let Some((_, at)) = ips.iter().find(|(v, _)| *v != IpValue::Auto) {
                return Err(at
                    .err("an ExternalName Service has no clusterIP")
                    .hint("remove `clusterIP`/`clusterIPs`"));
            }
            cluster_ip_v4 = ClusterIp::None;
            Some(dns_name(ef, "a DNS name such as `db.example.com`")?)
        }
        (false, Some(ef)) => {
            return Err(ef
                .err("`externalName` is used only by a Service of `type: ExternalName`")
                .hint("add `type: ExternalName`, or remove `externalName`"));
        }
        (false, None) => None,
    };
    let dual_wanted = families.contains(&6) || require_dual;
    if dual_wanted
        && external_name.is_none()
        && cluster_ip_v4 != ClusterIp::None
        && cluster_ipv6.is_empty()
    {
        let at = if families.contains(&6) {
            families_f.clone()
        } else {
            policy_f.clone()
        };
        return Err(at
            .unwrap_or_else(|| spec.clone())
            .err("ksim allocates IPv4 ClusterIPs only: this Service needs its IPv6 ClusterIP written out")
            .hint("list it in `clusterIPs`, e.g. `clusterIPs: [10.96.0.20, fd00:10:96::20]`"));
    }
    let svc = Service {
        name: meta.name,
        namespace: meta.namespace,
        cluster_ip: cluster_ip_v4,
        cluster_ipv6,
        external_name,
        publish_not_ready,
        session_affinity: traffic.session_affinity,
        local_traffic: traffic.local,
        prefer_close: traffic.prefer_close,
        external: outside.map(|load_balancer| ExternalAccess {
            load_balancer,
            local: traffic.external_local,
        }),
        selector,
        ports,
    };
    let decl = SvcDecl {
        name: meta.name_f,
        ip: ip_at,
    };
    Ok((svc, decl, named))
}

/// Give each named `targetPort` its number: the container port of that name
/// in the StatefulSet templates and Pods (objects) the Service selects,
/// which must agree on one number.
pub(in crate::scenario) fn resolve_named_ports(
    services: &mut [Service],
    objs: &Objects,
) -> Result<(), Diagnostic> {
    for (si, nt) in &objs.named {
        let s = &services[*si];
        let mut found: Vec<(u16, String)> = Vec::new();
        let sets = objs.statefulsets.iter().map(|d| {
            (
                &d.set.namespace,
                &d.set.labels,
                &d.named_ports,
                format!("StatefulSet `{}`", d.set.name),
            )
        });
        let pods = objs.pods.iter().map(|d| {
            (
                &d.pod.namespace,
                &d.pod.labels,
                &d.named_ports,
                format!("Pod `{}`", d.pod.name),
            )
        });
        let deployments = objs.deployments.iter().map(|d| {
            (
                &d.deployment.namespace,
                &d.deployment.labels,
                &d.named_ports,
                format!("Deployment `{}`", d.deployment.name),
            )
        });
        for (ns, labels, named, who) in sets.chain(deployments).chain(pods) {
            if *ns != s.namespace || !selects(&s.selector, labels) {
                continue;
            }
            if let Some((_, port)) = named.iter().find(|(n, _)| *n == nt.name) {
                found.push((*port, who));
            }
        }
        let mut numbers: Vec<u16> = found.iter().map(|(p, _)| *p).collect();
        numbers.sort_unstable();
        numbers.dedup();
        match numbers.as_slice() {
            [port] => services[*si].ports[nt.port].target_port = *port,
            [] => {
                let d = nt.field.err(format!(
                    "targetPort `{}` names no container port of the pods this Service selects",
                    nt.name
                ));
                return Err(if s.selector.is_empty() {
                    d.hint("a Service without a selector has no pods to name ports: write the port number")
                } else {
                    d.hint(format!(
                        "name a port `{}` in the `containers[].ports` of the selected Pods or workload templates, or write the number",
                        nt.name
                    ))
                });
            }
            _ => {
                let which: Vec<String> = found
                    .iter()
                    .map(|(p, who)| format!("{p} in {who}"))
                    .collect();
                return Err(nt
                    .field
                    .err(format!(
                        "the pods this Service selects give the port `{}` different numbers: {}",
                        nt.name,
                        which.join(", ")
                    ))
                    .hint("ksim resolves a named targetPort to one number: write the number"));
            }
        }
    }
    Ok(())
}
