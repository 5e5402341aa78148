//! The `services` section (ksim's short form) and the checks every Service
//! passes whichever form declared it: unique names, valid ClusterIPs.

use super::super::defaults as d;
use super::super::fields::{
    Form, IpValue, SvcDecl, child, cluster_ip, duplicate, one_of, service_ports, traffic_settings,
};
use super::*;

pub(super) fn namespace(m: &mut Map) -> Result<String, Diagnostic> {
    match m.opt("namespace") {
        Some(f) => f.dns_label(),
        None => Ok(d::NAMESPACE.into()),
    }
}

/// `services[]`: ksim's short form of a Service.
pub(super) fn service(f: &Field) -> Result<Service, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = m.req("name", "the Service's name")?.dns_label()?;
    let namespace = namespace(&mut m)?;
    let cluster_ip = match m.opt("clusterIP") {
        None => ClusterIp::Auto,
        Some(f) => match cluster_ip(&f, false)? {
            IpValue::None => ClusterIp::None,
            IpValue::Auto => ClusterIp::Auto,
            IpValue::V4(ip) => ClusterIp::Fixed(ip),
            IpValue::V6(_) => unreachable!("IPv6 is refused by `cluster_ip`"),
        },
    };
    let selector = match m.opt("selector") {
        Some(f) => f.string_map()?,
        None => BTreeMap::new(),
    };
    let ports = match m.opt("ports") {
        Some(pf) => service_ports(&pf, Form::Scenario, &mut Vec::new())?,
        None => Vec::new(),
    };
    let kind = match m.opt("type") {
        None => None,
        Some(f) => one_of(
            &f,
            "a Service type (ExternalName Services are written as objects)",
            &[
                ("ClusterIP", None),
                ("NodePort", Some(false)),
                ("LoadBalancer", Some(true)),
            ],
        )?,
    };
    let t = traffic_settings(&mut m)?;
    let publish_not_ready = m
        .opt("publishNotReadyAddresses")
        .map(|f| f.bool())
        .transpose()?
        .unwrap_or(false);
    m.finish()?;
    Ok(Service {
        name,
        namespace,
        cluster_ip,
        cluster_ipv6: Vec::new(),
        external_name: None,
        session_affinity: t.session_affinity,
        local_traffic: t.local,
        prefer_close: t.prefer_close,
        external: kind.map(|load_balancer| ExternalAccess {
            load_balancer,
            local: t.external_local,
        }),
        publish_not_ready,
        selector,
        ports,
    })
}

/// No two Services (of either form) share a name in a namespace.
pub(super) fn check_services(sc: &Scenario, decls: &[SvcDecl]) -> Result<(), Diagnostic> {
    for (i, s) in sc.services.iter().enumerate() {
        if let Some(j) = sc.services[..i]
            .iter()
            .position(|p| p.name == s.name && p.namespace == s.namespace)
        {
            return Err(duplicate(
                &decls[j].name,
                &decls[i].name,
                "Service",
                &s.name,
                &s.namespace,
            ));
        }
    }
    Ok(())
}

/// Fixed ClusterIPs are inside the service CIDR (IPv4) and taken once; the
/// CIDR holds them and the allocated ones.
pub(super) fn assign_cluster_ips(
    sc: &Scenario,
    decls: &[SvcDecl],
    root: &Field,
) -> Result<(), Diagnostic> {
    let range = sc.cluster.ipam.service_cidr;
    let auto = sc
        .services
        .iter()
        .filter(|s| s.cluster_ip == ClusterIp::Auto)
        .count() as u64;
    let mut fixed: Vec<(u32, usize)> = Vec::new();
    let mut fixed6: Vec<(std::net::Ipv6Addr, usize)> = Vec::new();
    let owner = |j: usize| {
        let s = &sc.services[j];
        format!(
            "taken by Service `{}` in namespace `{}`",
            s.name, s.namespace
        )
    };
    for (i, s) in sc.services.iter().enumerate() {
        let at = &decls[i].ip;
        if let ClusterIp::Fixed(ip) = s.cluster_ip {
            let mask = u32::MAX << (32 - range.prefix as u32);
            if ip & mask != range.base {
                return Err(at
                    .err(format!(
                        "clusterIP {} is outside the service CIDR {range}",
                        fmt_ipv4(ip)
                    ))
                    .hint("pick an address inside `cluster.ipam.service_cidr`, or leave it out to have one allocated"));
            }
            crate::scenario::addresses::check_cluster_ip(ip, range, s, at)?;
            if let Some((_, j)) = fixed.iter().find(|(f, _)| *f == ip) {
                return Err(at
                    .err(format!("clusterIP {} is already taken", fmt_ipv4(ip)))
                    .hint(owner(*j)));
            }
            fixed.push((ip, i));
        }
        for ip in &s.cluster_ipv6 {
            if let Some((_, j)) = fixed6.iter().find(|(f, _)| f == ip) {
                return Err(at
                    .err(format!("clusterIP {ip} is already taken"))
                    .hint(owner(*j)));
            }
            fixed6.push((*ip, i));
        }
    }
    // The cluster DNS address is held by the DNS Service unless a Service
    // here fixed it (kube-dns itself); the allocator skips it.
    let dns = crate::scenario::addresses::dns_ip();
    let reserved = u64::from(
        crate::scenario::addresses::contains(range, dns) && !fixed.iter().any(|(ip, _)| *ip == dns),
    );
    if auto + reserved + fixed.len() as u64 > range.usable() {
        let at = child(&child(&child(root, "cluster"), "ipam"), "service_cidr");
        return Err(at
            .err(format!(
                "the service CIDR {range} is too small for {} ClusterIPs{}",
                auto + fixed.len() as u64,
                if reserved == 1 {
                    " and the cluster DNS address"
                } else {
                    ""
                },
            ))
            .path("cluster.ipam.service_cidr")
            .hint("widen `cluster.ipam.service_cidr`"));
    }
    Ok(())
}
