//! The `cluster` section: nodes, zones, IPAM and its CIDRs, API server.

use super::super::defaults as d;
use super::super::diag::nearest;
use super::super::fields::{call_arg_error, call_duration, one_of, unknown_call};
use super::*;
use crate::time::parse_duration;

pub(super) fn cidr(f: &Field) -> Result<Cidr, Diagnostic> {
    let t = f.str()?;
    let bad = || f.expected("an IPv4 prefix such as `10.244.0.0/16`");
    let (ip, len) = t.split_once('/').ok_or_else(bad)?;
    let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let prefix: u8 = len.parse().map_err(|_| bad())?;
    if !(8..=30).contains(&prefix) {
        return Err(f.err(format!("prefix length /{prefix} is outside /8../30")));
    }
    let base = u32::from(ip);
    let mask = u32::MAX << (32 - prefix as u32);
    if base & !mask != 0 {
        return Err(f.err(format!("`{t}` has host bits set")).hint(format!(
            "did you mean `{}/{prefix}`?",
            fmt_ipv4(base & mask)
        )));
    }
    Ok(Cidr { base, prefix })
}

pub(super) fn parse_default_cidr(s: &str) -> Cidr {
    let (ip, len) = s.split_once('/').expect("default CIDR has a slash");
    Cidr {
        base: u32::from(
            ip.parse::<std::net::Ipv4Addr>()
                .expect("default CIDR parses"),
        ),
        prefix: len.parse().expect("default prefix parses"),
    }
}

pub(super) fn cluster_defaults() -> Cluster {
    Cluster {
        domain: d::DOMAIN.into(),
        propagation: d::PROPAGATION,
        ipam: Ipam {
            reuse: IpReuse::Never,
            pod_cidr: parse_default_cidr(d::POD_CIDR),
            service_cidr: parse_default_cidr(d::SERVICE_CIDR),
        },
        unassigned_ip: UnassignedIp::Timeout,
        nodes: d::NODES,
        kube_proxy: ProxyMode::Iptables,
        zones: 1,
    }
}

pub(super) fn cluster(f: &Field) -> Result<Cluster, Diagnostic> {
    let mut c = cluster_defaults();
    let mut m = Map::of(f)?;
    if let Some(f) = m.opt("domain") {
        let dom = f.str()?.trim_end_matches('.').to_ascii_lowercase();
        if dom.is_empty() || dom.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return Err(f.expected("a DNS domain such as `cluster.local`"));
        }
        c.domain = dom;
    }
    if let Some(f) = m.opt("propagation") {
        c.propagation = f.duration()?;
    }
    if let Some(f) = m.opt("ipam") {
        let mut im = Map::of(&f)?;
        if let Some(f) = im.opt("reuse") {
            let expected = "expected `never`, `host-local`, `immediate` or `cooldown(<duration>)`";
            c.ipam.reuse = match f.call()? {
                ("never", None) => IpReuse::Never,
                ("host-local", None) => IpReuse::HostLocal,
                ("immediate", None) => IpReuse::Immediate,
                // AWS VPC CNI's IP_COOLDOWN_PERIOD default.
                ("cooldown", None) => IpReuse::Cooldown(SimDuration::from_secs(30)),
                ("cooldown", a) => IpReuse::Cooldown(call_duration(&f, expected, "cooldown", a)?),
                (other, _) => {
                    return Err(unknown_call(
                        &f,
                        expected,
                        other,
                        &["never", "host-local", "immediate", "cooldown"],
                    ));
                }
            };
        }
        let pod_f = im.opt("pod_cidr");
        if let Some(f) = &pod_f {
            c.ipam.pod_cidr = cidr(f)?;
        }
        let svc_f = im.opt("service_cidr");
        if let Some(f) = &svc_f {
            c.ipam.service_cidr = cidr(f)?;
            crate::scenario::addresses::check_service_cidr(c.ipam.service_cidr, f)?;
        }
        im.finish()?;
        let (p, s) = (c.ipam.pod_cidr, c.ipam.service_cidr);
        let overlap = |a: Cidr, b: Cidr| {
            let len = a.prefix.min(b.prefix) as u32;
            let mask = u32::MAX << (32 - len);
            a.base & mask == b.base & mask
        };
        if overlap(p, s) {
            let at = pod_f.or(svc_f).unwrap_or(f);
            return Err(at
                .err(format!("pod CIDR {p} and service CIDR {s} overlap"))
                .hint(format!(
                    "pick ranges that do not overlap, e.g. the defaults {} and {}",
                    d::POD_CIDR,
                    d::SERVICE_CIDR
                )));
        }
    }
    if let Some(f) = m.opt("kube_proxy") {
        c.kube_proxy = one_of(
            &f,
            "a kube-proxy mode",
            &[
                ("iptables", ProxyMode::Iptables),
                ("nftables", ProxyMode::Nftables),
                ("ipvs", ProxyMode::IpvsRoundRobin),
                ("ipvs(rr)", ProxyMode::IpvsRoundRobin),
                ("ipvs(sh)", ProxyMode::IpvsSourceHash),
                ("ipvs(lc)", ProxyMode::IpvsLeastConn),
            ],
        )?;
    }
    if let Some(f) = m.opt("nodes") {
        c.nodes = f.positive_u32()?;
        if c.nodes as u64 > limits::MAX_PODS {
            return Err(f.err(format!(
                "at most {} nodes, found {}",
                limits::MAX_PODS,
                c.nodes
            )));
        }
    }
    if let Some(f) = m.opt("zones") {
        c.zones = f.positive_u32()?;
        if c.zones > c.nodes {
            return Err(f
                .err(format!(
                    "{} zones for {} nodes: every zone needs a node",
                    c.zones, c.nodes
                ))
                .hint("raise `cluster.nodes` (node n is in zone n mod zones)"));
        }
    }
    if let Some(f) = m.opt("unassigned_ip") {
        c.unassigned_ip = match f.call()? {
            ("timeout", None) => UnassignedIp::Timeout,
            ("unreachable", None) => UnassignedIp::Unreachable(d::UNREACHABLE_AFTER),
            ("unreachable", Some(arg)) => UnassignedIp::Unreachable(
                parse_duration(arg)
                    .map_err(|e| call_arg_error(&f, "expected `unreachable(<delay>)`", arg, &e))?,
            ),
            (other, _) => {
                let d = f.err(format!(
                    "expected `timeout` or `unreachable(<delay>)`, found `{}`",
                    f.str()?
                ));
                return Err(match nearest(other, ["timeout", "unreachable"]) {
                    Some(n) => d.hint(format!("did you mean `{n}`?")),
                    None => d,
                });
            }
        };
    }
    m.finish()?;
    Ok(c)
}
