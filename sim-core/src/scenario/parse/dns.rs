//! The `dns` section: the cluster DNS server, its cache, NodeLocal DNSCache.

use super::super::defaults as d;
use super::super::fields::one_of;
use super::*;

pub(super) fn dns_defaults() -> Dns {
    Dns {
        ttl: d::DNS_TTL,
        cache: DnsCache {
            enabled: d::DNS_CACHE_ENABLED,
            max_ttl: d::DNS_CACHE_MAX_TTL,
            denial_max_ttl: d::DNS_CACHE_MAX_TTL,
            min_ttl: d::DNS_CACHE_MIN_TTL,
            prefetch: None,
            serve_stale: None,
        },
        shuffle: d::DNS_SHUFFLE,
        node_local: NodeLocal {
            enabled: d::NODE_LOCAL_ENABLED,
            max_ttl: d::NODE_LOCAL_MAX_TTL,
            denial_max_ttl: d::NODE_LOCAL_DENIAL_MAX_TTL,
        },
        pods: d::DNS_PODS,
        endpoint_pod_names: false,
        synced_after: SimDuration::ZERO,
        ignore_empty_service: false,
        namespaces: Vec::new(),
        fallthrough: None,
        upstream: Vec::new(),
        reverse_zones: None,
    }
}

pub(super) fn whole_seconds(f: &Field, max_s: u64) -> Result<SimDuration, Diagnostic> {
    let v = f.duration()?;
    if v.as_ns() % crate::time::NS_PER_S != 0 {
        return Err(f
            .err(format!("DNS TTLs are whole seconds, found {v}"))
            .hint(format!("use `{}s`", v.whole_secs().max(1))));
    }
    if v.whole_secs() > max_s {
        return Err(f.err(format!("at most {max_s}s, found {v}")));
    }
    Ok(v)
}

pub(super) fn dns_section(f: &Field) -> Result<Dns, Diagnostic> {
    let mut out = dns_defaults();
    let mut m = Map::of(f)?;
    if let Some(f) = m.opt("ttl") {
        // CoreDNS: "ttl must be in range [0, 3600]".
        out.ttl = whole_seconds(&f, 3600)?;
    }
    if let Some(f) = m.opt("cache") {
        let mut cm = Map::of(&f)?;
        if let Some(f) = cm.opt("enabled") {
            out.cache.enabled = f.bool()?;
        }
        let positive_cap = |f: &Field| -> Result<SimDuration, Diagnostic> {
            let v = whole_seconds(f, u32::MAX as u64)?;
            if v == SimDuration::ZERO {
                return Err(f
                    .err("must be at least 1s")
                    .hint("to turn the cache off write `enabled: false`"));
            }
            Ok(v)
        };
        if let Some(f) = cm.opt("max_ttl") {
            // `cache N` caps success and denial alike.
            out.cache.max_ttl = positive_cap(&f)?;
            out.cache.denial_max_ttl = out.cache.max_ttl;
        }
        if let Some(f) = cm.opt("denial_max_ttl") {
            out.cache.denial_max_ttl = positive_cap(&f)?;
        }
        if let Some(f) = cm.opt("min_ttl") {
            out.cache.min_ttl = whole_seconds(&f, u32::MAX as u64)?;
        }
        if let Some(f) = cm.opt("prefetch") {
            out.cache.prefetch = Some(prefetch(&f)?);
        }
        if let Some(f) = cm.opt("serve_stale") {
            out.cache.serve_stale = Some(f.positive_duration()?);
        }
        cm.finish()?;
    }
    if let Some(f) = m.opt("shuffle") {
        out.shuffle = f.bool()?;
    }
    if let Some(f) = m.opt("pods") {
        out.pods = one_of(
            &f,
            "a `pods` mode",
            &[
                ("disabled", PodsMode::Disabled),
                ("insecure", PodsMode::Insecure),
                ("verified", PodsMode::Verified),
            ],
        )?;
    }
    if let Some(f) = m.opt("endpoint_pod_names") {
        out.endpoint_pod_names = f.bool()?;
    }
    if let Some(f) = m.opt("synced_after") {
        out.synced_after = f.duration()?;
    }
    if let Some(f) = m.opt("node_local") {
        let mut nm = Map::of(&f)?;
        if let Some(f) = nm.opt("enabled") {
            out.node_local.enabled = f.bool()?;
        }
        for (key, slot) in [
            ("max_ttl", &mut out.node_local.max_ttl),
            ("denial_max_ttl", &mut out.node_local.denial_max_ttl),
        ] {
            if let Some(f) = nm.opt(key) {
                *slot = whole_seconds(&f, u32::MAX as u64)?;
                if *slot == SimDuration::ZERO {
                    return Err(f.err("must be at least 1s"));
                }
            }
        }
        nm.finish()?;
    }
    super::super::coredns::read(&mut m, &mut out)?;
    m.finish()?;
    Ok(out)
}

/// `prefetch: 10`, or `prefetch: {amount: 10, duration: 1m, percentage: 10}`.
pub(super) fn prefetch(f: &Field) -> Result<Prefetch, Diagnostic> {
    let mut p = Prefetch {
        amount: 0,
        duration: d::DNS_PREFETCH_DURATION,
        percentage: d::DNS_PREFETCH_PERCENTAGE,
    };
    if let yaml::Kind::Scalar { .. } = f.node.kind {
        p.amount = f.positive_u32()?;
        return Ok(p);
    }
    let mut m = Map::of(f)?;
    p.amount = m
        .req("amount", "how many hits make an entry worth refreshing")?
        .positive_u32()?;
    if let Some(f) = m.opt("duration") {
        p.duration = f.positive_duration()?;
    }
    if let Some(f) = m.opt("percentage") {
        let v = f.u32()?;
        if !(1..=100).contains(&v) {
            return Err(f.err(format!("a percentage is 1-100, found {v}")));
        }
        p.percentage = v;
    }
    m.finish()?;
    Ok(p)
}
