//! The `clients` section: client groups, their resolver profile (search
//! list, ndots, cache, `dnsConfig`) and target.

use super::super::defaults as d;
use super::super::diag::nearest;
use super::super::fields::{call_duration, one_of, unknown_call};
use super::services::namespace;
use super::timeline::target_service;
use super::*;
use crate::dns;
use crate::time::{SimDuration, parse_duration};

pub(super) fn client_group(f: &Field, sc: &Scenario) -> Result<ClientGroup, Diagnostic> {
    let mut m = Map::of(f)?;
    let name = m.req("name", "the group's name")?.dns_label()?;
    let namespace = namespace(&mut m)?;
    let count = m
        .opt("count")
        .map(|f| f.positive_u32())
        .transpose()?
        .unwrap_or(1);
    // Read before the resolver settings (field order in hints), checked after
    // them: the search path decides which Service the host names.
    let tf = m.req("target", "`host:port`, e.g. `nginx:80` or `web-0.nginx:80`")?;
    let rate_f = m.req("rate", "requests per second per client")?;
    let rate = rate_f.positive_f64()?;
    if rate > limits::MAX_RATE_PER_S {
        return Err(rate_f
            .err(format!("at most {:.0e} requests per second per client (one every nanosecond on average, the resolution of simulated time), found {rate:e}", limits::MAX_RATE_PER_S))
            .hint("raise `count` instead: more clients, each at a lower rate"));
    }
    let resolver = match m.opt("resolver") {
        None => d::profile(d::RESOLVER_PROFILE),
        Some(f) => resolver(&f)?,
    };
    let dns_policy = match m.opt("dnsPolicy") {
        None => DnsPolicy::ClusterFirst,
        Some(f) => one_of(
            &f,
            "a dnsPolicy",
            &[
                ("ClusterFirst", DnsPolicy::ClusterFirst),
                ("Default", DnsPolicy::Default),
                ("None", DnsPolicy::None),
            ],
        )?,
    };
    let dns_config = match m.opt("dnsConfig") {
        None => DnsConfig::default(),
        Some(f) => dns_config(&f)?,
    };
    if dns_policy == DnsPolicy::None && dns_config.nameservers.is_empty() {
        let at = m.opt("dnsPolicy").expect("dnsPolicy was read");
        return Err(at
            .err("`dnsPolicy: None` needs at least one nameserver in `dnsConfig.nameservers`")
            .hint(format!(
                "the cluster DNS is `{}`: `dnsConfig: {{nameservers: [{}]}}`",
                d::CLUSTER_DNS_IP,
                d::CLUSTER_DNS_IP
            )));
    }
    let path = dns::SearchPath::of(dns_policy, &dns_config, &namespace, &sc.cluster.domain);
    let target = target(&tf, &namespace, &path, resolver.search, sc)?;
    let balancer = match m.opt("balancer") {
        None => traffic::balancer_named(d::BALANCER).expect("default balancer is valid"),
        Some(f) => traffic::balancer(&f)?,
    };
    let connect_timeout = m
        .opt("connect_timeout")
        .map(|f| f.positive_duration())
        .transpose()?
        .unwrap_or(d::CONNECT_TIMEOUT);
    let request_timeout = m
        .opt("request_timeout")
        .map(|f| f.positive_duration())
        .transpose()?;
    let retries = m.opt("retries").map(|f| traffic::retries(&f)).transpose()?;
    let connections = m
        .opt("connections")
        .map(|f| traffic::connections(&f))
        .transpose()?
        .unwrap_or(Connections::PerRequest);
    let sidecar = m.opt("sidecar").map(|f| f.bool()).transpose()?;
    let subset = m.opt("subset").map(|f| traffic::subset(&f)).transpose()?;
    let entry = match m.opt("entry") {
        None => Entry::Pod,
        Some(ef) => {
            let e = one_of(
                &ef,
                "where the clients' connections enter",
                &[
                    ("pod", Entry::Pod),
                    ("node_port", Entry::NodePort),
                    ("load_balancer", Entry::LoadBalancer),
                ],
            )?;
            // An outside client needs a Service of the right type.
            let svc = target_service(&target, &path, resolver.search, sc)
                .map(|i| &sc.services[i as usize]);
            let ok = match (e, svc.and_then(|s| s.external)) {
                (Entry::Pod, _) => true,
                (Entry::NodePort, Some(_)) => true,
                (Entry::LoadBalancer, Some(x)) => x.load_balancer,
                _ => false,
            };
            if !ok {
                return Err(ef
                    .err(format!(
                        "`entry: {}` needs a Service of type {}, and `{}` is not one",
                        ef.str()?,
                        if e == Entry::LoadBalancer {
                            "LoadBalancer"
                        } else {
                            "NodePort or LoadBalancer"
                        },
                        svc.map_or(target.host.as_str(), |s| s.name.as_str())
                    ))
                    .hint("set `type: NodePort` (or `LoadBalancer`) on the Service"));
            }
            e
        }
    };
    let custom_labels = match m.opt("labels") {
        Some(lf) => {
            let labels = lf.string_map()?;
            // The default written out is the default.
            let default = BTreeMap::from([("app".to_string(), name.clone())]);
            (labels != default).then_some(labels)
        }
        None => None,
    };
    m.finish()?;
    Ok(ClientGroup {
        name,
        namespace,
        custom_labels,
        count,
        target,
        rate,
        resolver,
        dns_policy,
        dns_config,
        balancer,
        connect_timeout,
        request_timeout,
        retries,
        connections,
        sidecar,
        subset,
        entry,
    })
}

/// `resolver: jvm`, or `resolver: {profile: jvm, cache: fixed(60s), ...}`:
/// a profile's defaults with any field overridden.
pub(super) fn resolver(f: &Field) -> Result<Resolver, Diagnostic> {
    let profile_named = |f: &Field| -> Result<ResolverProfile, Diagnostic> {
        let choices: Vec<(&str, ResolverProfile)> = ResolverProfile::ALL
            .iter()
            .map(|p| (p.name(), *p))
            .collect();
        one_of(f, "a resolver profile", &choices)
    };
    if let yaml::Kind::Scalar { .. } = f.node.kind {
        return Ok(d::profile(profile_named(f)?));
    }
    let mut m = Map::of(f)?;
    let mut r = match m.opt("profile") {
        None => d::profile(d::RESOLVER_PROFILE),
        Some(f) => d::profile(profile_named(&f)?),
    };
    if let Some(f) = m.opt("search") {
        r.search = one_of(
            &f,
            "a search-list walk",
            &[("glibc", SearchStyle::Glibc), ("musl", SearchStyle::Musl)],
        )?;
    }
    if let Some(f) = m.opt("aaaa") {
        r.aaaa = f.bool()?;
    }
    if let Some(f) = m.opt("cache") {
        r.cache = resolver_cache(&f)?;
    }
    if let Some(f) = m.opt("negative_cache") {
        let expected = "expected `none`, `ttl` or `fixed(<duration>)`";
        r.negative_cache = match f.call()? {
            ("none", None) => NegativeCache::None,
            ("ttl", None) => NegativeCache::Ttl,
            ("fixed", a) => NegativeCache::Fixed(call_duration(&f, expected, "fixed", a)?),
            (other, _) => return Err(unknown_call(&f, expected, other, &["none", "ttl", "fixed"])),
        };
    }
    if let Some(f) = m.opt("refresh") {
        let expected = "expected `lazy`, `every(<duration>)` or `on_failure(<duration>)`";
        r.refresh = match f.call()? {
            ("lazy", None) => Refresh::Lazy,
            ("every", a) => Refresh::Every(call_duration(&f, expected, "every", a)?),
            ("on_failure", a) => Refresh::OnFailure(call_duration(&f, expected, "on_failure", a)?),
            (other, _) => {
                return Err(unknown_call(
                    &f,
                    expected,
                    other,
                    &["lazy", "every", "on_failure"],
                ));
            }
        };
    }
    m.finish()?;
    Ok(r)
}

pub(super) fn resolver_cache(f: &Field) -> Result<ResolverCache, Diagnostic> {
    let expected = "expected `none`, `ttl`, `ttl(<max>)` or `fixed(<duration>)`";
    match f.call()? {
        ("none", None) => Ok(ResolverCache::None),
        ("ttl", None) => Ok(ResolverCache::Ttl),
        ("ttl", a) => Ok(ResolverCache::TtlMax(call_duration(f, expected, "ttl", a)?)),
        ("fixed", Some(a)) if parse_duration(a) == Ok(SimDuration::ZERO) => {
            Err(f.err("`fixed(0s)` caches nothing").hint("write `none`"))
        }
        ("fixed", None) => Err(f
            .err(format!("{expected}: `fixed` needs a duration"))
            .hint("e.g. `fixed(30s)`, the JVM's default")),
        ("fixed", a) => Ok(ResolverCache::Fixed(call_duration(
            f, expected, "fixed", a,
        )?)),
        (other, arg) => {
            let d = f.err(format!("{expected}, found `{}`", f.str()?));
            Err(match nearest(other, ["none", "ttl", "fixed"]) {
                Some("fixed") => d.hint(format!("did you mean `fixed({})`?", arg.unwrap_or("30s"))),
                Some(n) => d.hint(format!("did you mean `{n}`?")),
                None => d,
            })
        }
    }
}

/// resolv.conf options Kubernetes passes through; only `ndots` changes what
/// ksim does (the others concern timeouts and transport, not modelled).
pub(super) const RESOLV_OPTIONS: [&str; 10] = [
    "ndots",
    "timeout",
    "attempts",
    "rotate",
    "single-request",
    "single-request-reopen",
    "edns0",
    "use-vc",
    "no-tld-query",
    "trust-ad",
];

/// Pod `dnsConfig` (API validation: at most 3 nameservers, 32 searches).
pub(super) fn dns_config(f: &Field) -> Result<DnsConfig, Diagnostic> {
    let mut m = Map::of(f)?;
    let mut c = DnsConfig::default();
    if let Some(nf) = m.opt("nameservers") {
        let items = nf.seq()?;
        if items.len() > 3 {
            return Err(nf.err(format!("at most 3 nameservers, found {}", items.len())));
        }
        for item in items {
            let t = item.str()?;
            let ip: std::net::Ipv4Addr = t
                .parse()
                .map_err(|_| item.expected("an IPv4 address such as `10.96.0.10`"))?;
            c.nameservers.push(u32::from(ip));
        }
    }
    if let Some(sf) = m.opt("searches") {
        let items = sf.seq()?;
        if items.len() > 32 {
            return Err(sf.err(format!("at most 32 search domains, found {}", items.len())));
        }
        for item in items {
            let t = item.str()?.trim_end_matches('.').to_ascii_lowercase();
            if t.is_empty() || t.split('.').any(|l| l.is_empty() || l.len() > 63) {
                return Err(item.expected("a DNS domain such as `nginx.default.svc.cluster.local`"));
            }
            c.searches.push(t);
        }
    }
    if let Some(of) = m.opt("options") {
        for item in of.seq()? {
            let mut om = Map::of(&item)?;
            let nf = om.req("name", "the option's name, e.g. `ndots`")?;
            let name = nf.str()?;
            if !RESOLV_OPTIONS.contains(&name) {
                let d = nf.err(format!("unknown resolv.conf option `{name}`"));
                return Err(match nearest(name, RESOLV_OPTIONS) {
                    Some(n) => d.hint(format!("did you mean `{n}`?")),
                    None => d.hint(format!("known: {}", RESOLV_OPTIONS.join(", "))),
                });
            }
            let value = om.opt("value");
            if name == "ndots" {
                let vf = value.ok_or_else(|| item.err("`ndots` needs a `value`, e.g. \"2\""))?;
                let v: u64 = vf
                    .str()?
                    .trim()
                    .parse()
                    .map_err(|_| vf.expected("a whole number of dots"))?;
                // glibc caps ndots at RES_MAXNDOTS = 15.
                c.ndots = Some(v.min(15) as u8);
            }
            om.finish()?;
        }
    }
    m.finish()?;
    Ok(c)
}

/// `host:port`, checked against the services the host can resolve to.
pub(super) fn target(
    f: &Field,
    namespace: &str,
    path: &dns::SearchPath,
    style: SearchStyle,
    sc: &Scenario,
) -> Result<Target, Diagnostic> {
    let t = f.str()?;
    let Some((host, port)) = t.rsplit_once(':') else {
        return Err(f
            .expected("`host:port`")
            .hint(format!("add the port, e.g. `{t}:80`")));
    };
    if host.is_empty() {
        return Err(f.expected("`host:port` with a host name"));
    }
    if host.len() > 253 {
        return Err(f.err(format!(
            "a DNS name is at most 253 characters, found {}",
            host.len()
        )));
    }
    let port = match port.parse::<u16>() {
        Ok(0) => return Err(f.err("port 0 is not a port")),
        Ok(n) => PortRef::Number(n),
        Err(_) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(f.err(format!("port {port} is outside 1-65535")));
        }
        Err(_) if !port.is_empty() => PortRef::Name(port.to_string()),
        Err(_) => return Err(f.expected("`host:port` with a port")),
    };
    // Which service would the client's search list reach?
    let candidates = path.candidates(host, style);
    let svc = candidates
        .iter()
        .find_map(|q| dns::classify(q, sc).service());
    // A fully qualified name under another cluster domain is a real
    // misconfiguration (an app configured for `cluster.local` in a cluster
    // that is not): accepted, and every lookup of it fails.
    let domain = sc.cluster.domain.trim_end_matches('.');
    if svc.is_none()
        && let Some((_, dom)) = host.trim_end_matches('.').split_once(".svc.")
        && dom != domain
    {
        return Ok(Target {
            host: host.to_string(),
            port,
        });
    }
    let Some(svc) = svc else {
        if let Some(d) = crate::scenario::hints::external_name_target(f, host, &candidates, sc) {
            return Err(d);
        }
        let last_label_service = host.split('.').next().unwrap_or(host);
        let known: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
        let guess = host
            .split('.')
            .find_map(|l| nearest(l, known.iter().copied()).filter(|n| *n != l))
            .or_else(|| nearest(last_label_service, known.iter().copied()));
        let d = f.err(format!(
            "`{host}` names no Service from namespace `{namespace}` (tried `{}`)",
            candidates.join("`, `")
        ));
        if !host.contains('.')
            && let Some(other) = sc.services.iter().find(|s| s.name == host)
        {
            return Err(d.hint(format!(
                "the Service `{host}` is in namespace `{0}`: write `{host}.{0}:{port}`",
                other.namespace,
                port = t.rsplit_once(':').map_or("", |(_, p)| p)
            )));
        }
        return Err(match guess {
            Some(n) => d.hint(format!("did you mean the Service `{n}`?")),
            None if known.is_empty() => d.hint("declare the Service under `services`"),
            None => d.hint(format!("declared Services: {}", known.join(", "))),
        });
    };
    let s = &sc.services[svc as usize];
    let known_port = s.ports.iter().any(|p| match &port {
        PortRef::Number(n) => p.port == *n,
        PortRef::Name(n) => p.name.as_deref() == Some(n),
    });
    if !known_port && (!s.is_headless() || matches!(port, PortRef::Name(_))) {
        let list: Vec<String> = s
            .ports
            .iter()
            .map(|p| match &p.name {
                Some(n) => format!("{} ({n})", p.port),
                None => p.port.to_string(),
            })
            .collect();
        return Err(f
            .err(format!(
                "Service `{}` has no port `{}`",
                s.name,
                match &port {
                    PortRef::Number(n) => n.to_string(),
                    PortRef::Name(n) => n.clone(),
                }
            ))
            .hint(if list.is_empty() {
                "declare it under the Service's `ports`".to_string()
            } else {
                format!("its ports: {}", list.join(", "))
            }));
    }
    Ok(Target {
        host: host.to_string(),
        port,
    })
}

/// `delete_pod` names no pod of a declared StatefulSet: guess which one.
pub(super) fn unknown_pod(f: &Field, sc: &Scenario, namespace: &str, pod: &str) -> Diagnostic {
    let d = f.err(format!(
        "`{pod}` is not a pod of any StatefulSet in namespace `{namespace}`"
    ));
    // `Some(None)`: digits, but too many for an ordinal.
    let (set, ordinal) = match pod.rsplit_once('-') {
        Some((set, o)) if !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = o.trim_start_matches('0');
            (
                set,
                Some(if digits.is_empty() {
                    Some(0)
                } else {
                    digits.parse::<u32>().ok()
                }),
            )
        }
        _ => (pod, None),
    };
    // The same pod in another namespace.
    if let Some(st) = sc
        .statefulsets
        .iter()
        .find(|st| st.name == set && st.namespace != namespace)
        && ordinal.is_some()
    {
        return d.hint(format!(
            "StatefulSet `{set}` is in namespace `{0}`: write `{0}/{pod}`",
            st.namespace
        ));
    }
    let here: Vec<&str> = sc
        .statefulsets
        .iter()
        .filter(|s| s.namespace == namespace)
        .map(|s| s.name.as_str())
        .collect();
    match (nearest(set, here.iter().copied()), ordinal) {
        (Some(n), Some(None)) => d.hint(format!(
            "the ordinal is out of range; `{n}` numbers its pods from `{n}-0`"
        )),
        (Some(n), Some(Some(o))) => d.hint(format!("did you mean `{n}-{o}`?")),
        (Some(n), None) => d.hint(format!(
            "StatefulSet pods are named `<set>-<ordinal>`, e.g. `{n}-0`"
        )),
        (None, _) if here.is_empty() => d.hint(format!(
            "no StatefulSet is declared in namespace `{namespace}`"
        )),
        (None, _) => d.hint(format!(
            "StatefulSet pods are named `<set>-<ordinal>`; declared here: {}",
            here.join(", ")
        )),
    }
}
