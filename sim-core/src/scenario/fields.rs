//! Field readers shared by ksim's short forms (`parse`) and Kubernetes
//! objects (`manifest`): Service ports and ClusterIPs, workload strategies
//! and lifecycles, `name(args)` call syntax, duplicate and reference errors.
//! Both forms call these, so both give the same messages; neither imports
//! the other for them.

use super::defaults as d;
use super::diag::{Diagnostic, nearest};
use super::read::{Field, Map, duration_hint, join};
use super::*;
use crate::time::{SimDuration, parse_duration};

/// Where a Service was declared: its name (duplicates are reported there)
/// and its ClusterIP field (or the item, when it has none).
#[derive(Clone)]
pub(in crate::scenario) struct SvcDecl<'n> {
    pub name: Field<'n>,
    pub ip: Field<'n>,
}

/// The child field `key` of a mapping item, or the item itself if it has none
/// (a defaulted field is reported at its parent).
pub(in crate::scenario) fn child<'n>(item: &Field<'n>, key: &str) -> Field<'n> {
    match item.node.find(key) {
        Some(node) => Field {
            node,
            path: join(&item.path, key),
            file: item.file,
        },
        None => item.clone(),
    }
}

/// Two declarations (`first`, then `second`) share a name: reported at the
/// second, naming where the first is.
pub(in crate::scenario) fn duplicate(
    first: &Field,
    second: &Field,
    kind: &str,
    name: &str,
    ns: &str,
) -> Diagnostic {
    second
        .err(format!(
            "duplicate {kind} name `{name}` in namespace `{ns}` (first declared at line {}, {})",
            first.node.loc.line,
            first.path.trim_end_matches(": ")
        ))
        .hint("names must be unique per namespace; rename or remove one")
}

/// A bad duration inside `name(...)` call syntax.
pub(super) fn call_arg_error(
    f: &Field,
    expected: &str,
    arg: &str,
    e: &crate::time::DurationError,
) -> Diagnostic {
    let d = f.err(format!("{expected}: {}", e.0));
    match duration_hint(arg, e) {
        Some(h) => d.hint(h),
        None => d,
    }
}

/// Which way an object is written: ksim's short form (`services[]`,
/// `statefulsets[]`) or a Kubernetes object (`objects`, `manifests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::scenario) enum Form {
    Scenario,
    Object,
}

/// One ClusterIP as written (`clusterIP`, an entry of `clusterIPs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::scenario) enum IpValue {
    /// `None`: headless.
    None,
    /// Absent or `""`: allocated.
    Auto,
    V4(u32),
    V6(std::net::Ipv6Addr),
}

/// A `clusterIP` value: `None`, `""`, an IPv4 address, or (when `v6`, for
/// Service objects) an IPv6 one.
pub(in crate::scenario) fn cluster_ip(f: &Field, v6: bool) -> Result<IpValue, Diagnostic> {
    let t = f.str()?;
    match t {
        "None" => return Ok(IpValue::None),
        "" => return Ok(IpValue::Auto),
        _ => {}
    }
    match t.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Ok(IpValue::V4(u32::from(ip))),
        Ok(std::net::IpAddr::V6(ip)) if v6 => Ok(IpValue::V6(ip)),
        Ok(std::net::IpAddr::V6(_)) => Err(f
            .err(format!(
                "`{t}` is an IPv6 address: a Service in `services` has an IPv4 ClusterIP"
            ))
            .hint("write the Service as a Kubernetes object (under `objects`) with `clusterIPs` for IPv6 or dual-stack")),
        Err(_) => {
            let d = f.expected(if v6 {
                "`None` (headless), `\"\"` (allocated) or an IPv4 or IPv6 address"
            } else {
                "`None` (headless) or an IPv4 address"
            });
            Err(if t.eq_ignore_ascii_case("none") {
                d.hint("write `None` with a capital N, as Kubernetes does")
            } else {
                d
            })
        }
    }
}

/// A Service port whose `targetPort` names a container port (Service
/// objects only): `port` indexes the Service's ports; the number is filled
/// in once the pods are known (`manifest::resolve_named_ports`).
#[derive(Clone)]
pub(in crate::scenario) struct NamedTarget<'n> {
    pub port: usize,
    pub name: String,
    pub field: Field<'n>,
}

/// Port protocols a Service or EndpointSlice can name (`TCP` by default).
pub(in crate::scenario) const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];

/// A `protocol` field: `TCP`, `UDP` or `SCTP`.
pub(in crate::scenario) fn protocol(f: Option<Field>) -> Result<String, Diagnostic> {
    match f {
        None => Ok("TCP".into()),
        Some(f) => {
            let choices = PROTOCOLS.map(|p| (p, p));
            one_of(&f, "a protocol", &choices).map(str::to_string)
        }
    }
}

/// A Service's `ports`, in either form. Two ports with the same number and
/// protocol, or the same name, are an error; a Service object with several
/// ports must name each (as the API server requires). Named `targetPort`s
/// of objects are added to `named`.
pub(in crate::scenario) fn service_ports<'n>(
    pf: &Field<'n>,
    form: Form,
    named: &mut Vec<NamedTarget<'n>>,
) -> Result<Vec<ServicePort>, Diagnostic> {
    let items = pf.seq()?;
    let mut ports: Vec<ServicePort> = Vec::new();
    for item in &items {
        let p = service_port(item, form, ports.len(), named)?;
        if ports
            .iter()
            .any(|q| q.port == p.port && q.protocol == p.protocol)
        {
            return Err(item.err(format!("duplicate port {} ({})", p.port, p.protocol)));
        }
        if p.name.is_some() && ports.iter().any(|q| q.name == p.name) {
            return Err(item.err(format!(
                "duplicate port name `{}`",
                p.name.clone().unwrap_or_default()
            )));
        }
        ports.push(p);
    }
    if form == Form::Object
        && ports.len() > 1
        && let Some(i) = ports.iter().position(|p| p.name.is_none())
    {
        return Err(items[i]
            .err("a Service with more than one port must name each of them")
            .hint("add `name: <label>`, e.g. `name: http`"));
    }
    Ok(ports)
}

pub(super) fn service_port<'n>(
    f: &Field<'n>,
    form: Form,
    index: usize,
    named: &mut Vec<NamedTarget<'n>>,
) -> Result<ServicePort, Diagnostic> {
    if form == Form::Scenario
        && let yaml::Kind::Scalar { .. } = f.node.kind
    {
        let port = f.u16_port()?;
        return Ok(ServicePort {
            name: None,
            port,
            target_port: port,
            protocol: "TCP".into(),
        });
    }
    let mut m = Map::of(f)?;
    let name = m.opt("name").map(|f| f.dns_label()).transpose()?;
    let port = m.req("port", "the port number")?.u16_port()?;
    let target_port = match m.opt("targetPort") {
        None => port,
        Some(tf) => match &tf.node.kind {
            yaml::Kind::Scalar { text, .. }
                if form == Form::Object && !text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let name = tf.dns_label()?;
                if !name.bytes().any(|b| b.is_ascii_lowercase()) || name.len() > 15 {
                    return Err(tf.expected(
                        "a port number, or a container port's name (at most 15 characters, at least one letter)",
                    ));
                }
                named.push(NamedTarget {
                    port: index,
                    name,
                    field: tf.clone(),
                });
                // Filled in once the pods are known.
                port
            }
            _ => tf.u16_port()?,
        },
    };
    let protocol = protocol(m.opt("protocol"))?;
    if form == Form::Object {
        m.skip(&["nodePort", "appProtocol"]);
    }
    m.finish()?;
    Ok(ServicePort {
        name,
        port,
        target_port,
        protocol,
    })
}

/// `name` names no `kind` in namespace `ns`. `all` is every declared
/// (name, namespace) of that kind: a same-named one elsewhere is the likely fix.
pub(in crate::scenario) fn reference_error(
    f: &Field,
    kind: &str,
    name: &str,
    ns: &str,
    all: &[(&str, &str)],
    elsewhere: impl Fn(&str) -> String,
) -> Diagnostic {
    let d = f.err(format!("no {kind} named `{name}` in namespace `{ns}`"));
    if let Some((_, other)) = all.iter().find(|(n, o)| *n == name && *o != ns) {
        return d.hint(elsewhere(other));
    }
    let known: Vec<&str> = all
        .iter()
        .filter(|(_, o)| *o == ns)
        .map(|(n, _)| *n)
        .collect();
    match nearest(name, known.iter().copied()) {
        Some(n) => d.hint(format!("did you mean `{n}`?")),
        None if known.is_empty() => d.hint(format!(
            "the scenario declares no {kind} in namespace `{ns}`"
        )),
        None => d.hint(format!("declared: {}", known.join(", "))),
    }
}

/// The Service `service` in `namespace`, which a StatefulSet (either form)
/// names as its governing Service at `f`.
pub(in crate::scenario) fn governing_service<'s>(
    f: &Field,
    service: &str,
    namespace: &str,
    sc: &'s Scenario,
) -> Result<&'s Service, Diagnostic> {
    if let Some(svc) = sc
        .services
        .iter()
        .find(|s| s.name == service && s.namespace == namespace)
    {
        return Ok(svc);
    }
    let all: Vec<(&str, &str)> = sc
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.namespace.as_str()))
        .collect();
    Err(reference_error(
        f,
        "Service",
        service,
        namespace,
        &all,
        |other| {
            format!(
                "the Service `{service}` is in namespace `{other}`; a StatefulSet's Service must be in its own namespace"
            )
        },
    ))
}

/// `podManagementPolicy`, defaulted.
pub(in crate::scenario) fn pod_management_policy(
    f: Option<Field>,
) -> Result<PodManagementPolicy, Diagnostic> {
    match f {
        None => Ok(match d::POD_MANAGEMENT_POLICY {
            "Parallel" => PodManagementPolicy::Parallel,
            _ => PodManagementPolicy::OrderedReady,
        }),
        Some(f) => one_of(
            &f,
            "a podManagementPolicy",
            &[
                ("OrderedReady", PodManagementPolicy::OrderedReady),
                ("Parallel", PodManagementPolicy::Parallel),
            ],
        ),
    }
}

/// The pod timings when none are given.
pub(in crate::scenario) fn default_lifecycle() -> Lifecycle {
    Lifecycle {
        startup: d::STARTUP,
        drain: d::DRAIN,
        teardown: d::TEARDOWN,
        grace: d::GRACE,
        readiness: None,
        liveness: None,
    }
}

/// StatefulSet `updateStrategy`, as in the API: `{type: RollingUpdate,
/// rollingUpdate: {partition: N}}` or `{type: OnDelete}` (default
/// RollingUpdate, partition 0).
pub(in crate::scenario) fn update_strategy(f: Option<Field>) -> Result<UpdateStrategy, Diagnostic> {
    let Some(f) = f else {
        return Ok(UpdateStrategy::RollingUpdate { partition: 0 });
    };
    let mut m = Map::of(&f)?;
    let kind = match m.opt("type") {
        None => "RollingUpdate",
        Some(t) => one_of(
            &t,
            "an update strategy",
            &[("RollingUpdate", "RollingUpdate"), ("OnDelete", "OnDelete")],
        )?,
    };
    let mut partition = 0;
    if let Some(rf) = m.opt("rollingUpdate") {
        let mut rm = Map::of(&rf)?;
        if let Some(p) = rm.opt("partition") {
            partition = p.u32()?;
        }
        // `maxUnavailable` (beta since 1.35) is not modelled: one at a time.
        rm.skip(&["maxUnavailable"]);
        rm.finish()?;
    }
    m.finish()?;
    Ok(match kind {
        "OnDelete" => UpdateStrategy::OnDelete,
        _ => UpdateStrategy::RollingUpdate { partition },
    })
}

/// `ordinals: {start: N}` (GA in 1.31): the first ordinal.
pub(in crate::scenario) fn ordinals_start(f: Option<Field>) -> Result<u32, Diagnostic> {
    let Some(f) = f else {
        return Ok(0);
    };
    let mut m = Map::of(&f)?;
    let start = m.opt("start").map(|f| f.u32()).transpose()?.unwrap_or(0);
    m.finish()?;
    Ok(start)
}

/// `minReadySeconds`: whole seconds, as in the API.
pub(in crate::scenario) fn min_ready_seconds(f: Option<Field>) -> Result<SimDuration, Diagnostic> {
    Ok(match f {
        None => SimDuration::ZERO,
        Some(f) => SimDuration::from_secs(f.u32()? as u64),
    })
}

/// A Service's `sessionAffinity` (+ `sessionAffinityConfig.clientIP.
/// timeoutSeconds`, default 10800, 1..86400) and `internalTrafficPolicy`,
/// with their API names (reference/balancing.md §5).
/// What a Service says about kube-proxy's choices.
pub(in crate::scenario) struct Traffic {
    pub session_affinity: Option<SimDuration>,
    pub local: bool,
    pub prefer_close: bool,
    /// `externalTrafficPolicy: Local`.
    pub external_local: bool,
}

/// `sessionAffinity` (+ config), `internalTrafficPolicy`,
/// `trafficDistribution`, `externalTrafficPolicy`.
pub(in crate::scenario) fn traffic_settings(m: &mut Map) -> Result<Traffic, Diagnostic> {
    let affinity = match m.opt("sessionAffinity") {
        None => false,
        Some(f) => one_of(
            &f,
            "a sessionAffinity",
            &[("None", false), ("ClientIP", true)],
        )?,
    };
    let mut timeout_s = 10_800;
    if let Some(cf) = m.opt("sessionAffinityConfig") {
        let mut cm = Map::of(&cf)?;
        if let Some(ipf) = cm.opt("clientIP") {
            let mut im = Map::of(&ipf)?;
            if let Some(tf) = im.opt("timeoutSeconds") {
                timeout_s = tf.u32()?;
                if !(1..=86_400).contains(&timeout_s) {
                    return Err(tf.err(format!("timeoutSeconds is 1-86400, found {timeout_s}")));
                }
            }
            im.finish()?;
        }
        cm.finish()?;
    }
    let local = match m.opt("internalTrafficPolicy") {
        None => false,
        Some(f) => one_of(
            &f,
            "an internalTrafficPolicy",
            &[("Cluster", false), ("Local", true)],
        )?,
    };
    // `trafficDistribution` (beta 1.31): `PreferClose` keeps traffic in
    // the client's zone when that zone has endpoints.
    let prefer_close = match m.opt("trafficDistribution") {
        None => false,
        Some(f) => one_of(&f, "a trafficDistribution", &[("PreferClose", true)])?,
    };
    let external_local = match m.opt("externalTrafficPolicy") {
        None => false,
        Some(f) => one_of(
            &f,
            "an externalTrafficPolicy",
            &[("Cluster", false), ("Local", true)],
        )?,
    };
    Ok(Traffic {
        session_affinity: affinity.then(|| SimDuration::from_secs(timeout_s as u64)),
        local,
        prefer_close,
        external_local,
    })
}

/// A Deployment's `strategy`, as in the API: `{type: RollingUpdate,
/// rollingUpdate: {maxSurge, maxUnavailable}}` (25 % each by default) or
/// `{type: Recreate}`.
pub(in crate::scenario) fn deployment_strategy(
    f: Option<Field>,
) -> Result<DeploymentStrategy, Diagnostic> {
    Ok(match f {
        None => DeploymentStrategy::RollingUpdate {
            max_surge: Quantity::Percent(25),
            max_unavailable: Quantity::Percent(25),
        },
        Some(f) => {
            let mut sm = Map::of(&f)?;
            let kind = match sm.opt("type") {
                None => "RollingUpdate",
                Some(t) => one_of(
                    &t,
                    "a Deployment strategy",
                    &[("RollingUpdate", "RollingUpdate"), ("Recreate", "Recreate")],
                )?,
            };
            let (mut surge, mut unavailable) = (Quantity::Percent(25), Quantity::Percent(25));
            if let Some(rf) = sm.opt("rollingUpdate") {
                let mut rm = Map::of(&rf)?;
                if let Some(q) = rm.opt("maxSurge") {
                    surge = quantity(&q)?;
                }
                if let Some(q) = rm.opt("maxUnavailable") {
                    unavailable = quantity(&q)?;
                }
                rm.finish()?;
            }
            sm.finish()?;
            match kind {
                "Recreate" => DeploymentStrategy::Recreate,
                _ => DeploymentStrategy::RollingUpdate {
                    max_surge: surge,
                    max_unavailable: unavailable,
                },
            }
        }
    })
}

/// `3` or `25%` (IntOrString).
pub(super) fn quantity(f: &Field) -> Result<Quantity, Diagnostic> {
    let t = f.str()?.trim();
    let bad = || f.expected("a count such as `1` or a percentage such as `25%`");
    match t.strip_suffix('%') {
        Some(p) => {
            let v: u32 = p.trim().parse().map_err(|_| bad())?;
            if v > 100 {
                return Err(f.err(format!("a percentage is 0-100%, found {v}%")));
            }
            Ok(Quantity::Percent(v))
        }
        None => t.parse().map(Quantity::Count).map_err(|_| bad()),
    }
}

/// `none`, `fixed(D)` or `exponential(MEAN)`: how long a pod identity lives.
pub(in crate::scenario) fn lifetime(f: &Field) -> Result<Lifetime, Diagnostic> {
    let expected = "expected `none`, `fixed(<duration>)` or `exponential(<mean>)`";
    let arg = |name: &str, a: Option<&str>| -> Result<SimDuration, Diagnostic> {
        let a = a.ok_or_else(|| {
            f.err(format!("{expected}: missing the duration in parentheses"))
                .hint(format!("e.g. `{name}(300s)`"))
        })?;
        let v = parse_duration(a).map_err(|e| call_arg_error(f, expected, a, &e))?;
        if v == SimDuration::ZERO {
            return Err(f.err("a pod lifetime must be longer than zero"));
        }
        Ok(v)
    };
    match f.call()? {
        ("none", None) => Ok(Lifetime::None),
        ("fixed", a) => Ok(Lifetime::Fixed(arg("fixed", a)?)),
        ("exponential", a) => Ok(Lifetime::Exponential(arg("exponential", a)?)),
        (other, arg) => {
            let d = f.err(format!("{expected}, found `{}`", f.str()?));
            Err(match nearest(other, ["none", "fixed", "exponential"]) {
                Some("none") => d.hint("did you mean `none`?"),
                Some(n) => d.hint(format!("did you mean `{n}({})`?", arg.unwrap_or("300s"))),
                None => d,
            })
        }
    }
}

/// One of a fixed set of words, with a did-you-mean hint.
pub(in crate::scenario) fn one_of<T: Copy>(
    f: &Field,
    what: &str,
    choices: &[(&str, T)],
) -> Result<T, Diagnostic> {
    let t = f.str()?;
    if let Some((_, v)) = choices.iter().find(|(n, _)| *n == t) {
        return Ok(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let d = f.err(format!(
        "expected {what}: `{}`, found `{t}`",
        names.join("`, `")
    ));
    Err(match nearest(t, names.iter().copied()) {
        Some(n) => d.hint(format!("did you mean `{n}`?")),
        None => d,
    })
}

/// The duration inside `name(<duration>)`, longer than zero.
pub(super) fn call_duration(
    f: &Field,
    expected: &str,
    name: &str,
    arg: Option<&str>,
) -> Result<SimDuration, Diagnostic> {
    let a = arg.ok_or_else(|| {
        f.err(format!("{expected}: `{name}` needs a duration"))
            .hint(format!("e.g. `{name}(30s)`"))
    })?;
    let v = parse_duration(a).map_err(|e| call_arg_error(f, expected, a, &e))?;
    if v == SimDuration::ZERO {
        return Err(f.err(format!("`{name}(0s)` is not a duration longer than zero")));
    }
    Ok(v)
}

/// An unknown `name(...)` form: say what was expected, guess the intended one.
pub(super) fn unknown_call(f: &Field, expected: &str, other: &str, names: &[&str]) -> Diagnostic {
    let d = f.err(format!("{expected}, found `{}`", f.str().unwrap_or(other)));
    match nearest(other, names.iter().copied()) {
        Some(n) => d.hint(format!("did you mean `{n}`?")),
        None => d,
    }
}
