//! From text to a validated [`Scenario`], or the first problem found.

use std::collections::BTreeMap;

use super::defaults as d;
use super::diag::{Diagnostic, Loc, nearest};
use super::limits;
use super::manifest;
use super::read::{Field, Map, duration_hint, join};
use super::yaml::parse_document;
use super::*;
use crate::dns;
use crate::time::{SimDuration, parse_duration};

/// Parse and validate a scenario from YAML or JSON text. It reads no files:
/// a scenario that lists `manifests` needs [`parse_with`].
pub fn parse(src: &str) -> Result<Scenario, Diagnostic> {
    parse_with(src, &|_| {
        Err("this parser reads no files (`scenario::parse`); use `scenario::parse_with` with a loader, as the `ksim` CLI does".into())
    })
}

/// Parse and validate a scenario whose `manifests` are read through `load`:
/// it gets each path as written in the scenario and returns the file's text,
/// or why it cannot (the message is shown after the path). The library
/// itself never touches files.
pub fn parse_with(
    src: &str,
    load: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Scenario, Diagnostic> {
    // No document, or an empty one (`---` alone, `~`): the same mistake.
    let root = parse_document(src)?.filter(|r| r.kind != yaml::Kind::Null);
    parse_tree(root.as_ref(), load)
}

/// [`parse_with`] from an already-parsed document (`None`: the file had
/// none). Sweeps use it to validate each point after replacing values in
/// the scenario's tree, so every point obeys the same rules as a file.
pub fn parse_tree(
    root: Option<&yaml::Node>,
    load: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Scenario, Diagnostic> {
    let root = root.filter(|r| r.kind != yaml::Kind::Null);
    let Some(root) = root else {
        return Err(Diagnostic::at(
            Loc { line: 1, col: 1 },
            "the file is empty: a scenario needs at least `name` and `duration`, and `clients` to send any traffic",
        )
        .hint("start from scenarios/web-statefulset.yaml"));
    };
    let root = Field::root(root);
    if !matches!(root.node.kind, yaml::Kind::Map(_)) {
        return Err(root
            .expected("a scenario (a mapping with `name`, `duration`, `services`, ...)")
            .hint("is this a scenario file?"));
    }
    let mut m = Map::of(&root)?;
    let name = m.req("name", "the scenario's name")?.str()?.to_string();
    let seed = m.opt("seed").map(|f| f.u64()).transpose()?.unwrap_or(0);
    let duration_f = m.req("duration", "how long to simulate, e.g. `10m`")?;
    let duration = duration_f.positive_duration()?;
    if duration > limits::MAX_DURATION {
        return Err(duration_f
            .err(format!(
                "at most {} (one week), found {duration}",
                limits::MAX_DURATION
            ))
            .hint("ksim simulates minutes to hours; shorten `duration`"));
    }
    let cluster = match m.opt("cluster") {
        Some(f) => cluster(&f)?,
        None => cluster_defaults(),
    };
    let dns = match m.opt("dns") {
        Some(f) => dns_section(&f)?,
        None => dns_defaults(),
    };
    let mut services = Vec::new();
    let mut svc_decls = Vec::new();
    if let Some(f) = m.opt("services") {
        for item in f.seq()? {
            services.push(service(&item)?);
            svc_decls.push(SvcDecl {
                name: child(&item, "name"),
                ip: child(&item, "clusterIP"),
            });
        }
    }
    let sts_fields = m.opt("statefulsets");
    let deployment_fields = m.opt("deployments");
    let object_fields = m.opt("objects");
    let manifest_fields = m.opt("manifests");
    let trace_fields = m.opt("pod_traces");
    let client_fields = m.opt("clients");
    let event_fields = m.opt("events");
    let mesh_field = m.opt("mesh");
    let netpol_fields = m.opt("network_policies");
    // A sweep plan and its SLO (read by `ksim sweep`/`plan`, see
    // `crate::sweep`): a scenario with them still runs as itself.
    m.skip(&["sweep", "slo"]);
    m.finish()?;

    // Kubernetes objects, inline and from manifest files (read first: the
    // objects borrow the files' trees). Services join the scenario's own.
    let files = manifest::load(manifest_fields.as_ref(), load)?;
    let objects = manifest::collect(object_fields.as_ref(), &files)?;
    let mut objs = manifest::read(&objects)?;
    let first_object_service = services.len();
    for (svc, decl) in objs.services.drain(..) {
        services.push(svc);
        svc_decls.push(decl);
    }
    manifest::resolve_named_ports(&mut services[first_object_service..], &objs)?;

    let mut sc = Scenario {
        name,
        seed,
        duration,
        cluster,
        dns,
        namespaces: std::mem::take(&mut objs.namespaces),
        namespace_labels: std::mem::take(&mut objs.namespace_labels),
        services,
        statefulsets: Vec::new(),
        deployments: Vec::new(),
        endpoint_slices: Vec::new(),
        pods: Vec::new(),
        traced_pods: Vec::new(),
        clients: Vec::new(),
        events: Vec::new(),
        mesh: None,
        network_policies: Vec::new(),
    };
    sc.network_policies = manifest::network_policies(&mut objs, netpol_fields.as_ref())?;
    if let Some(tf) = &trace_fields {
        for item in tf.seq()? {
            let path = item.str()?;
            let text = load(path).map_err(|why| {
                item.err(format!("cannot read the pod trace `{path}`: {why}"))
                    .hint("a path relative to the scenario file")
            })?;
            sc.traced_pods.extend(trace::read(&text, path)?);
        }
    }
    check_services(&sc, &svc_decls)?;
    assign_cluster_ips(&sc, &svc_decls, &root)?;
    // Pods alive at once per StatefulSet, at its largest (initial replicas or
    // any `scale` event): what the pod CIDR and ksim must hold.
    let mut sets = StatefulSets::default();
    if let Some(f) = &sts_fields {
        for item in f.seq()? {
            let st = statefulset(&item, &sc)?;
            sets.add(&mut sc, st, child(&item, "name"), child(&item, "replicas"))?;
        }
    }
    for draft in &objs.statefulsets {
        let st = manifest::statefulset(draft, &sc)?;
        sets.add(&mut sc, st, draft.name.clone(), draft.replicas.clone())?;
    }
    let mut peaks = sets.peaks;
    // Deployments: the short form's, then the objects'.
    let mut drafts = Vec::new();
    if let Some(f) = &deployment_fields {
        for item in f.seq()? {
            drafts.push((
                deployment(&item)?,
                child(&item, "name"),
                child(&item, "replicas"),
            ));
        }
    }
    drafts.append(&mut objs.deployments);
    let mut names: Vec<Field> = Vec::new();
    for (d, name, replicas_f) in drafts {
        if let Some(j) = sc
            .deployments
            .iter()
            .position(|x| x.name == d.name && x.namespace == d.namespace)
        {
            return Err(duplicate(
                &names[j],
                &name,
                "Deployment",
                &d.name,
                &d.namespace,
            ));
        }
        names.push(name);
        // A rollout may surge above `replicas`.
        let surge = match d.strategy {
            DeploymentStrategy::RollingUpdate { max_surge, .. } => {
                max_surge.resolve(d.replicas, true)
            }
            DeploymentStrategy::Recreate => 0,
        };
        peaks.push(u64::from(d.replicas) + u64::from(surge));
        check_pods(&sc, &peaks, &replicas_f, d.replicas)?;
        sc.deployments.push(d);
    }
    sc.endpoint_slices = manifest::endpoint_slices(&objs, &sc)?;
    sc.pods = manifest::pods(&objs, &sc)?;
    let sts_pods: u64 = peaks.iter().sum();
    if let Some(draft) = objs
        .pods
        .get(usize::try_from(limits::MAX_PODS.saturating_sub(sts_pods)).unwrap_or(usize::MAX))
    {
        return Err(draft.name.err(format!(
            "{} Pods and {sts_pods} StatefulSet pods: ksim simulates at most {} pods at once",
            objs.pods.len(),
            limits::MAX_PODS
        )));
    }
    if let Some(f) = &client_fields {
        let mut clients: u64 = 0;
        let mut names: Vec<Field> = Vec::new();
        for item in f.seq()? {
            let g = client_group(&item, &sc)?;
            let name = child(&item, "name");
            if let Some(j) = sc
                .clients
                .iter()
                .position(|c| c.name == g.name && c.namespace == g.namespace)
            {
                return Err(
                    duplicate(&names[j], &name, "client group", &g.name, &g.namespace)
                        .hint("give each group its own name"),
                );
            }
            names.push(name);
            clients += u64::from(g.count);
            if clients > limits::MAX_CLIENTS {
                return Err(child(&item, "count")
                    .err(format!(
                        "{clients} clients in all: ksim simulates at most {}",
                        limits::MAX_CLIENTS
                    ))
                    .hint("lower `count`; a few hundred clients show the same effects"));
            }
            sc.clients.push(g);
        }
        check_requests(&sc, f)?;
    }
    if let Some(f) = &mesh_field {
        sc.mesh = Some(mesh::mesh(f, &sc)?);
    }
    if let Some(f) = &event_fields {
        let mut peaks = peaks;
        let items = f.seq()?;
        for item in &items {
            let ev = timeline_event(item, &sc)?;
            if let Action::Scale {
                namespace,
                statefulset,
                replicas,
            } = &ev.action
                && let Some(k) = sc
                    .statefulsets
                    .iter()
                    .position(|s| &s.name == statefulset && &s.namespace == namespace)
                && u64::from(*replicas) > peaks[k]
            {
                peaks[k] = (*replicas).into();
                let at = child(&child(item, "scale"), "replicas");
                check_pods(&sc, &peaks, &at, *replicas)?;
            }
            sc.events.push(ev);
        }
        for (i, item) in items.iter().enumerate() {
            check_pod_exists(&sc, i, &child(item, "delete_pod"))?;
        }
    }
    Ok(sc)
}

/// Where a Service was declared: its name (duplicates are reported there)
/// and its ClusterIP field (or the item, when it has none).
#[derive(Clone)]
pub(super) struct SvcDecl<'n> {
    pub name: Field<'n>,
    pub ip: Field<'n>,
}

/// The StatefulSets being added, in both forms: where each name was
/// declared, and each set's largest size so far.
#[derive(Default)]
struct StatefulSets<'n> {
    names: Vec<Field<'n>>,
    peaks: Vec<u64>,
}

impl<'n> StatefulSets<'n> {
    /// Add `st` (named at `name`, sized at `replicas`) after checking that
    /// its name is free and that its pods fit.
    fn add(
        &mut self,
        sc: &mut Scenario,
        st: StatefulSet,
        name: Field<'n>,
        replicas: Field<'n>,
    ) -> Result<(), Diagnostic> {
        if let Some(j) = sc
            .statefulsets
            .iter()
            .position(|s| s.name == st.name && s.namespace == st.namespace)
        {
            return Err(duplicate(
                &self.names[j],
                &name,
                "StatefulSet",
                &st.name,
                &st.namespace,
            ));
        }
        let count = st.replicas;
        self.peaks.push(count.into());
        self.names.push(name);
        sc.statefulsets.push(st);
        check_pods(sc, &self.peaks, &replicas, count)
    }
}

/// The child field `key` of a mapping item, or the item itself if it has none
/// (a defaulted field is reported at its parent).
pub(super) fn child<'n>(item: &Field<'n>, key: &str) -> Field<'n> {
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
pub(super) fn duplicate(
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

/// The StatefulSets' largest sizes (`peaks`) must fit in ksim and in the pod
/// CIDR (with `reuse: never`, more pods than addresses cannot even start).
/// `at` is the field that raised the total to `replicas` for its set.
fn check_pods(sc: &Scenario, peaks: &[u64], at: &Field, replicas: u32) -> Result<(), Diagnostic> {
    let total: u64 = peaks.iter().sum();
    let all = if total == u64::from(replicas) {
        String::new()
    } else {
        format!(" ({total} pods in all StatefulSets)")
    };
    if total > limits::MAX_PODS {
        return Err(at
            .err(format!(
                "{replicas} replicas{all}: ksim simulates at most {} pods at once",
                limits::MAX_PODS
            ))
            .hint("lower `replicas`; a few dozen pods show the same effects"));
    }
    let cidr = sc.cluster.ipam.pod_cidr;
    if total > cidr.usable() {
        let need = (8..=30u8)
            .rev()
            .find(|&prefix| Cidr { base: 0, prefix }.usable() >= total)
            .unwrap_or(8);
        return Err(at
            .err(format!(
                "{replicas} replicas{all} need more pod IPs than the pod CIDR {cidr} has ({})",
                cidr.usable()
            ))
            .hint(format!(
                "widen `cluster.ipam.pod_cidr` to a /{need} or larger, or lower `replicas`"
            )));
    }
    Ok(())
}

/// Expected requests (count × rate × duration) must stay within what one run
/// can do; the group sending most is the one pointed at.
fn check_requests(sc: &Scenario, clients: &Field) -> Result<(), Diagnostic> {
    let secs = sc.duration.as_secs_f64();
    let per_group: Vec<f64> = sc
        .clients
        .iter()
        .map(|g| f64::from(g.count) * g.rate * secs)
        .collect();
    let total: f64 = per_group.iter().sum();
    if total <= limits::MAX_REQUESTS {
        return Ok(());
    }
    let worst = (0..per_group.len())
        .max_by(|&a, &b| per_group[a].total_cmp(&per_group[b]))
        .unwrap_or(0);
    let item = match clients.seq()?.into_iter().nth(worst) {
        Some(item) => item,
        None => clients.clone(),
    };
    Err(child(&item, "rate")
        .err(format!(
            "the clients would send about {total:.1e} requests in {} (count × rate × duration); ksim runs at most {:.0e}",
            sc.duration,
            limits::MAX_REQUESTS
        ))
        .hint("lower `rate` or `count`, or shorten `duration`"))
}

/// A `delete_pod` must name an ordinal its StatefulSet reaches by then
/// (its initial `replicas`, or a `scale` event at or before the deletion).
fn check_pod_exists(sc: &Scenario, i: usize, at: &Field) -> Result<(), Diagnostic> {
    let ev = &sc.events[i];
    let Action::DeletePod { namespace, pod } = &ev.action else {
        return Ok(());
    };
    let Some((st, ordinal)) = sc.statefulsets.iter().find_map(|st| {
        (&st.namespace == namespace)
            .then(|| st.index_of(pod))
            .flatten()
            .map(|o| (st, o))
    }) else {
        return Ok(());
    };
    let most = sc
        .events
        .iter()
        .filter(|e| e.at <= ev.at)
        .filter_map(|e| match &e.action {
            Action::Scale {
                namespace,
                statefulset,
                replicas,
            } if *namespace == st.namespace && *statefulset == st.name => Some(*replicas),
            _ => None,
        })
        .fold(st.replicas, u32::max);
    if ordinal < most {
        return Ok(());
    }
    let d = at.err(format!(
        "`{pod}` never exists by {}: StatefulSet `{}` has at most {most} replicas until then",
        ev.at, st.name
    ));
    Err(if most == 0 {
        d.hint(format!("`{}` has no pods; scale it up first", st.name))
    } else {
        d.hint(format!(
            "its pods are `{}` to `{}`",
            st.pod_name(0),
            st.pod_name(most - 1)
        ))
    })
}

fn cidr(f: &Field) -> Result<Cidr, Diagnostic> {
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

fn parse_default_cidr(s: &str) -> Cidr {
    let (ip, len) = s.split_once('/').expect("default CIDR has a slash");
    Cidr {
        base: u32::from(
            ip.parse::<std::net::Ipv4Addr>()
                .expect("default CIDR parses"),
        ),
        prefix: len.parse().expect("default prefix parses"),
    }
}

fn cluster_defaults() -> Cluster {
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

fn cluster(f: &Field) -> Result<Cluster, Diagnostic> {
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
            super::addresses::check_service_cidr(c.ipam.service_cidr, f)?;
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

/// A bad duration inside `name(...)` call syntax.
fn call_arg_error(
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

fn dns_defaults() -> Dns {
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
    }
}

fn whole_seconds(f: &Field, max_s: u64) -> Result<SimDuration, Diagnostic> {
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

fn dns_section(f: &Field) -> Result<Dns, Diagnostic> {
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
    m.finish()?;
    Ok(out)
}

/// `prefetch: 10`, or `prefetch: {amount: 10, duration: 1m, percentage: 10}`.
fn prefetch(f: &Field) -> Result<Prefetch, Diagnostic> {
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

fn namespace(m: &mut Map) -> Result<String, Diagnostic> {
    match m.opt("namespace") {
        Some(f) => f.dns_label(),
        None => Ok(d::NAMESPACE.into()),
    }
}

/// `services[]`: ksim's short form of a Service.
fn service(f: &Field) -> Result<Service, Diagnostic> {
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

/// Which way an object is written: ksim's short form (`services[]`,
/// `statefulsets[]`) or a Kubernetes object (`objects`, `manifests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    Scenario,
    Object,
}

/// One ClusterIP as written (`clusterIP`, an entry of `clusterIPs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IpValue {
    /// `None`: headless.
    None,
    /// Absent or `""`: allocated.
    Auto,
    V4(u32),
    V6(std::net::Ipv6Addr),
}

/// A `clusterIP` value: `None`, `""`, an IPv4 address, or (when `v6`, for
/// Service objects) an IPv6 one.
pub(super) fn cluster_ip(f: &Field, v6: bool) -> Result<IpValue, Diagnostic> {
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
pub(super) struct NamedTarget<'n> {
    pub port: usize,
    pub name: String,
    pub field: Field<'n>,
}

/// Port protocols a Service or EndpointSlice can name (`TCP` by default).
pub(super) const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];

/// A `protocol` field: `TCP`, `UDP` or `SCTP`.
pub(super) fn protocol(f: Option<Field>) -> Result<String, Diagnostic> {
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
pub(super) fn service_ports<'n>(
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

fn service_port<'n>(
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

/// No two Services (of either form) share a name in a namespace.
fn check_services(sc: &Scenario, decls: &[SvcDecl]) -> Result<(), Diagnostic> {
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
fn assign_cluster_ips(sc: &Scenario, decls: &[SvcDecl], root: &Field) -> Result<(), Diagnostic> {
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
            super::addresses::check_cluster_ip(ip, range, s, at)?;
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
    if auto + fixed.len() as u64 > range.usable() {
        let at = child(&child(&child(root, "cluster"), "ipam"), "service_cidr");
        return Err(at
            .err(format!(
                "the service CIDR {range} is too small for {} ClusterIPs",
                auto + fixed.len() as u64
            ))
            .path("cluster.ipam.service_cidr")
            .hint("widen `cluster.ipam.service_cidr`"));
    }
    Ok(())
}

fn labels_or_default(m: &mut Map, name: &str) -> Result<BTreeMap<String, String>, Diagnostic> {
    match m.opt("labels") {
        Some(f) => f.string_map(),
        None => Ok(BTreeMap::from([("app".to_string(), name.to_string())])),
    }
}

/// `name` names no `kind` in namespace `ns`. `all` is every declared
/// (name, namespace) of that kind: a same-named one elsewhere is the likely fix.
pub(super) fn reference_error(
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
pub(super) fn governing_service<'s>(
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
pub(super) fn pod_management_policy(f: Option<Field>) -> Result<PodManagementPolicy, Diagnostic> {
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
pub(super) fn default_lifecycle() -> Lifecycle {
    Lifecycle {
        startup: d::STARTUP,
        drain: d::DRAIN,
        teardown: d::TEARDOWN,
        grace: d::GRACE,
        readiness: None,
        liveness: None,
    }
}

/// `readinessProbe`/`livenessProbe`: `{periodSeconds, timeoutSeconds,
/// failureThreshold}` in whole seconds as in the API; what the probe checks
/// (`httpGet`, `exec`, ...) is accepted and not modelled.
fn probe(f: &Field) -> Result<Probe, Diagnostic> {
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
    m.skip(&[
        "httpGet",
        "tcpSocket",
        "exec",
        "grpc",
        "initialDelaySeconds",
        "successThreshold",
        "terminationGracePeriodSeconds",
    ]);
    m.finish()?;
    Ok(Probe {
        period,
        timeout,
        failure_threshold,
    })
}

/// A workload's `lifecycle: {startup, drain, teardown}` and
/// `terminationGracePeriodSeconds` (whole seconds, as in the API).
fn lifecycle_fields(m: &mut Map) -> Result<Lifecycle, Diagnostic> {
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
fn statefulset(f: &Field, sc: &Scenario) -> Result<StatefulSet, Diagnostic> {
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

/// StatefulSet `updateStrategy`, as in the API: `{type: RollingUpdate,
/// rollingUpdate: {partition: N}}` or `{type: OnDelete}` (default
/// RollingUpdate, partition 0).
pub(super) fn update_strategy(f: Option<Field>) -> Result<UpdateStrategy, Diagnostic> {
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

/// A workload's `churn: {lifetime}`.
fn churn(f: Option<Field>) -> Result<Churn, Diagnostic> {
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
fn workload_extras(m: &mut Map) -> Result<(Option<Capacity>, Option<bool>), Diagnostic> {
    let capacity = m
        .opt("capacity")
        .map(|f| traffic::capacity(&f))
        .transpose()?;
    let sidecar = m.opt("sidecar").map(|f| f.bool()).transpose()?;
    Ok((capacity, sidecar))
}

/// `ordinals: {start: N}` (GA in 1.31): the first ordinal.
pub(super) fn ordinals_start(f: Option<Field>) -> Result<u32, Diagnostic> {
    let Some(f) = f else {
        return Ok(0);
    };
    let mut m = Map::of(&f)?;
    let start = m.opt("start").map(|f| f.u32()).transpose()?.unwrap_or(0);
    m.finish()?;
    Ok(start)
}

/// `minReadySeconds`: whole seconds, as in the API.
pub(super) fn min_ready_seconds(f: Option<Field>) -> Result<SimDuration, Diagnostic> {
    Ok(match f {
        None => SimDuration::ZERO,
        Some(f) => SimDuration::from_secs(f.u32()? as u64),
    })
}

/// A Service's `sessionAffinity` (+ `sessionAffinityConfig.clientIP.
/// timeoutSeconds`, default 10800, 1..86400) and `internalTrafficPolicy`,
/// with their API names (reference/balancing.md §5).
/// What a Service says about kube-proxy's choices.
pub(super) struct Traffic {
    pub session_affinity: Option<SimDuration>,
    pub local: bool,
    pub prefer_close: bool,
    /// `externalTrafficPolicy: Local`.
    pub external_local: bool,
}

/// `sessionAffinity` (+ config), `internalTrafficPolicy`,
/// `trafficDistribution`, `externalTrafficPolicy`.
pub(super) fn traffic_settings(m: &mut Map) -> Result<Traffic, Diagnostic> {
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

/// `deployments[]`: ksim's short form of a Deployment.
fn deployment(f: &Field) -> Result<Deployment, Diagnostic> {
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

/// A Deployment's `strategy`, as in the API: `{type: RollingUpdate,
/// rollingUpdate: {maxSurge, maxUnavailable}}` (25 % each by default) or
/// `{type: Recreate}`.
pub(super) fn deployment_strategy(f: Option<Field>) -> Result<DeploymentStrategy, Diagnostic> {
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
fn quantity(f: &Field) -> Result<Quantity, Diagnostic> {
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
pub(super) fn lifetime(f: &Field) -> Result<Lifetime, Diagnostic> {
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

fn client_group(f: &Field, sc: &Scenario) -> Result<ClientGroup, Diagnostic> {
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

/// One of a fixed set of words, with a did-you-mean hint.
pub(super) fn one_of<T: Copy>(
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
fn call_duration(
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
fn unknown_call(f: &Field, expected: &str, other: &str, names: &[&str]) -> Diagnostic {
    let d = f.err(format!("{expected}, found `{}`", f.str().unwrap_or(other)));
    match nearest(other, names.iter().copied()) {
        Some(n) => d.hint(format!("did you mean `{n}`?")),
        None => d,
    }
}

/// `resolver: jvm`, or `resolver: {profile: jvm, cache: fixed(60s), ...}`:
/// a profile's defaults with any field overridden.
fn resolver(f: &Field) -> Result<Resolver, Diagnostic> {
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

fn resolver_cache(f: &Field) -> Result<ResolverCache, Diagnostic> {
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
const RESOLV_OPTIONS: [&str; 10] = [
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
fn dns_config(f: &Field) -> Result<DnsConfig, Diagnostic> {
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
fn target(
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
        if let Some(d) = super::hints::external_name_target(f, host, &candidates, sc) {
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
fn unknown_pod(f: &Field, sc: &Scenario, namespace: &str, pod: &str) -> Diagnostic {
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

/// A pod named by an event (`web-1` or `ns/web-1`): a StatefulSet's
/// ordinal or a hand-written Pod, as (namespace, name).
fn pod_ref_field(pf: &Field, sc: &Scenario) -> Result<(String, String), Diagnostic> {
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
fn known(
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
fn known_deployment(
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
fn known_statefulset(
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

fn timeline_event(f: &Field, sc: &Scenario) -> Result<TimelineEvent, Diagnostic> {
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
fn target_service(
    target: &Target,
    path: &dns::SearchPath,
    style: SearchStyle,
    sc: &Scenario,
) -> Option<u32> {
    path.candidates(&target.host, style)
        .iter()
        .find_map(|q| dns::classify(q, sc).service())
}
