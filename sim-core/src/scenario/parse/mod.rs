//! From text to a validated [`Scenario`], or the first problem found.
//!
//! This module reads the top level and runs the cross-section checks (pod
//! and client counts, events naming pods that exist); each section of the
//! file has its own reader: `cluster`, `dns`, `services`, `workloads`,
//! `clients`, `timeline`. Kubernetes objects are read in `manifest`, and the
//! readers both forms share live in `fields`.

mod clients;
mod cluster;
mod dns;
mod services;
mod timeline;
mod workloads;

use super::diag::{Diagnostic, Loc};
use super::fields::{SvcDecl, child, duplicate, one_of};
use super::limits;
use super::manifest;
use super::read::{Field, Map};
use super::yaml::parse_document;
use super::*;
use clients::client_group;
use cluster::{cluster, cluster_defaults};
use dns::{dns_defaults, dns_section};
use services::{assign_cluster_ips, check_services, service};
use timeline::timeline_event;
use workloads::{deployment, statefulset};

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
    // Fleets are stamped out first; errors in a copy name its template.
    match root.map(super::fleet::expand).transpose()?.flatten() {
        Some((tree, copies)) => parse_expanded(Some(&tree), load).map_err(|d| copies.relocate(d)),
        None => parse_expanded(root, load),
    }
}

fn parse_expanded(
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
    // Where the short forms' entries are declared (objects' are recorded
    // by `manifest::read`).
    let mut short_origins = Vec::new();
    if let Some(f) = m.opt("services") {
        for item in f.seq()? {
            let svc = service(&item)?;
            short_origins.push(origin("Service", &svc.namespace, &svc.name, &item));
            services.push(svc);
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
    let from_zero = match m.opt("snapshot") {
        None => false,
        Some(f) => one_of(
            &f,
            "how objects from a snapshot start",
            &[("observed", false), ("zero", true)],
        )?,
    };
    // A sweep plan and its SLO (read by `ksim sweep`/`plan`, see
    // `crate::sweep`): a scenario with them still runs as itself.
    m.skip(&["sweep", "slo", "fleets"]);
    m.finish()?;

    // Kubernetes objects, inline and from manifest files (read first: the
    // objects borrow the files' trees). Services join the scenario's own.
    let files = manifest::load(manifest_fields.as_ref(), load)?;
    let objects = manifest::collect(object_fields.as_ref(), &files)?;
    let opts = manifest::ReadOptions {
        nodes: cluster.nodes,
        from_zero,
    };
    let mut objs = manifest::read(&objects, opts)?;
    let first_object_service = services.len();
    for (svc, decl) in objs.services.drain(..) {
        services.push(svc);
        svc_decls.push(decl);
    }
    manifest::resolve_named_ports(&mut services[first_object_service..], &objs)?;

    let mut sc_notes = Vec::new();
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
        provenance: Provenance {
            notes: objs.warnings(),
            origins: std::mem::take(&mut objs.origins),
        },
    };
    sc.provenance.origins.append(&mut short_origins);
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
            let o = origin("StatefulSet", &st.namespace, &st.name, &item);
            sc.provenance.origins.push(o);
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
            let d = deployment(&item)?;
            let o = origin("Deployment", &d.namespace, &d.name, &item);
            sc.provenance.origins.push(o);
            drafts.push((d, child(&item, "name"), child(&item, "replicas")));
        }
    }
    drafts.extend(
        objs.deployments
            .drain(..)
            .map(|d| (d.deployment, d.name, d.replicas)),
    );
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
            let o = origin("client group", &g.namespace, &g.name, &item);
            sc.provenance.origins.push(o);
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
    mesh::objects(&objs.istio, &mut sc, &mut sc_notes)?;
    sc.provenance.notes.append(&mut sc_notes);
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

/// Where a short-form entry `item` of `kind` is declared: its `name`.
fn origin(kind: &str, namespace: &str, name: &str, item: &Field) -> Origin {
    Origin {
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        file: item.file.map(str::to_string),
        loc: child(item, "name").node.loc,
    }
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
