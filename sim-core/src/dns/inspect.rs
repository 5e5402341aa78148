//! `ksim dns`: what a DNS query would get at one simulated instant, answered
//! as `dig` shows it, and — asked from a client — the path its resolver takes.
//!
//! The run is played up to the instant (every event at or before it, traffic
//! included, so every cache holds what the traffic left in it), then the
//! question is answered without changing anything:
//!
//! * the cluster DNS server answers from its cache when it holds a live entry
//!   for an A/AAAA question some client asks; otherwise the `kubernetes`
//!   plugin answers ([`super::zone`]) from the endpoints it has seen, and with
//!   the cache on, the TTLs are rewritten to the cache duration as the
//!   `cache` plugin does on its miss path;
//! * `--from` a client group walks that client's search list as its resolver
//!   profile does, showing for each name and type which layer answered
//!   (client cache, node cache, server cache, the plugin, an upstream).
//!
//! Owns the inspection and its rendering; not the answers themselves.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::zone::{self, Message, QType, RData, Rcode as ZRcode, Record};
use super::{AnswerData, Ask, Nameserver, Rcode, SearchPath};
use crate::scenario::{Refresh, Scenario, SearchStyle, defaults};
use crate::time::{SimDuration, SimTime};
use crate::world::{self, Frozen, RunError};

/// Version of the JSON form's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// What went wrong with an inspection request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    /// `--from` names no client group (with the nearest name, if any).
    UnknownClient { name: String, known: Vec<String> },
    /// `--from` names a pod that does not exist at that instant.
    NoSuchPod { name: String, at: SimTime },
    /// The run itself failed before the instant.
    Run(RunError),
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InspectError::UnknownClient { name, known } => write!(
                f,
                "--from: no client group or pod `{name}` (groups: {}); write `GROUP`, `GROUP/INDEX` or a pod's name",
                known.join(", ")
            ),
            InspectError::NoSuchPod { name, at } => {
                write!(f, "--from: pod `{name}` does not exist at {at}")
            }
            InspectError::Run(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InspectError {}

/// One resource record, as the JSON form lists it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    pub data: String,
}

impl From<&Record> for Rr {
    fn from(r: &Record) -> Rr {
        Rr {
            name: r.name.clone(),
            rtype: r.data.type_name().to_string(),
            ttl: r.ttl,
            data: r.data.to_string(),
        }
    }
}

/// One query of a resolver's walk.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: String,
    /// `node cache`, `server cache`, `server cache (stale)`, `kubernetes
    /// plugin`, `upstream`.
    pub answered_by: String,
    pub rcode: String,
    pub answers: usize,
    pub ttl: u64,
}

/// The resolver path of one client (`--from`).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// `group/index`.
    pub client: String,
    pub profile: String,
    pub node: u32,
    pub search: Vec<String>,
    pub ndots: u8,
    pub nameserver: String,
    /// What the client's own state said before any query, if it decided the
    /// answer (`client cache: ...`, `negative cache: ...`, `host set: ...`).
    pub client_state: Option<String>,
    /// The queries the lookup sends now (empty when the client's state answered).
    pub steps: Vec<Step>,
    /// The addresses the application would get (empty: no address).
    pub addresses: Vec<String>,
}

/// The answer to `ksim dns`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Inspection {
    pub schema_version: u32,
    pub ksim_version: String,
    pub seed: u64,
    pub scenario: String,
    pub at: String,
    pub question: Question,
    pub rcode: String,
    pub flags: Vec<String>,
    pub answered_by: String,
    pub answer: Vec<Rr>,
    pub authority: Vec<Rr>,
    pub additional: Vec<Rr>,
    pub path: Option<Path>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: String,
}

/// Answer `qname`/`qtype` at `at`; with `from` (`GROUP` or `GROUP/INDEX`),
/// `qname` is resolved as that client's resolver would (search list
/// included) and the final question shown is the name that answered.
pub fn inspect(
    sc: &Scenario,
    seed: u64,
    at: SimTime,
    qname: &str,
    qtype: QType,
    from: Option<&str>,
) -> Result<Inspection, InspectError> {
    let client = match from {
        None => None,
        Some(f) => Some(find_client(sc, f)?),
    };
    let frozen = world::freeze(sc, seed, at).map_err(InspectError::Run)?;
    let z = zone_of(sc, &frozen);
    let (final_name, (msg, by), path) = match client {
        None => {
            let q = absolute(qname);
            let a = server_answer(&frozen, &z, &q, qtype);
            (q, a, None)
        }
        Some(who) => {
            let (path, ending) = match who {
                Asker::Client(group, index) => walk(sc, &frozen, &z, group, index, qname, qtype),
                Asker::Pod(name) => {
                    let holder = (0..frozen.cluster.pods.len() as u32).rev().find(|&p| {
                        frozen.cluster.pod_display_name(p) == name
                            && frozen.cluster.pods[p as usize].created_at <= at
                            && frozen.cluster.pods[p as usize].gone_at.is_none()
                    });
                    let Some(pod) = holder else {
                        return Err(InspectError::NoSuchPod { name, at });
                    };
                    walk_from_pod(sc, &frozen, &z, pod, qname, qtype)
                }
            };
            match ending {
                Ending::Client(msg, by) => (absolute(qname), (msg, by), Some(path)),
                Ending::Queried(q) => {
                    let a = server_answer(&frozen, &z, &q, qtype);
                    (q, a, Some(path))
                }
                Ending::Nothing => {
                    let msg = nxdomain();
                    (
                        absolute(qname),
                        (msg, "nothing: no query was sent".into()),
                        Some(path),
                    )
                }
            }
        }
    };
    let mut flags = vec!["qr".to_string()];
    if msg.authoritative {
        flags.push("aa".into());
    }
    flags.push("rd".into());
    if super::wire::recursion_available(&msg) {
        flags.push("ra".into());
    }
    Ok(Inspection {
        schema_version: SCHEMA_VERSION,
        ksim_version: env!("CARGO_PKG_VERSION").to_string(),
        seed,
        scenario: sc.name.clone(),
        at: SimDuration(at.as_ns()).to_string(),
        question: Question {
            name: final_name,
            qtype: qtype.to_string(),
        },
        rcode: msg.rcode.to_string(),
        flags,
        answered_by: by,
        answer: msg.answer.iter().map(Rr::from).collect(),
        authority: msg.authority.iter().map(Rr::from).collect(),
        additional: msg.additional.iter().map(Rr::from).collect(),
        path,
    })
}

/// Who `--from` names.
enum Asker {
    /// A client: (group, index within the group).
    Client(usize, u32),
    /// A pod, by name (`web-0`, `ns/web-0`): looked up once the run has
    /// reached the instant.
    Pod(String),
}

/// `GROUP`, `GROUP/INDEX`, or a pod's name.
fn find_client(sc: &Scenario, from: &str) -> Result<Asker, InspectError> {
    let (name, index) = match from.rsplit_once('/') {
        Some((n, i)) if i.parse::<u32>().is_ok() => (n, i.parse::<u32>().unwrap_or(0)),
        _ => (from, 0),
    };
    if let Some(g) = sc
        .clients
        .iter()
        .position(|g| g.name == name && index < g.count)
    {
        return Ok(Asker::Client(g, index));
    }
    let (ns, pod) = from.split_once('/').unwrap_or((defaults::NAMESPACE, from));
    let is_pod = sc.pods.iter().any(|p| p.namespace == ns && p.name == pod)
        || sc
            .statefulsets
            .iter()
            .any(|st| st.namespace == ns && st.index_of(pod).is_some());
    if is_pod {
        return Ok(Asker::Pod(from.to_string()));
    }
    Err(InspectError::UnknownClient {
        name: from.to_string(),
        known: sc
            .clients
            .iter()
            .map(|g| format!("{} (0..{})", g.name, g.count))
            .collect(),
    })
}

fn absolute(qname: &str) -> String {
    let q = qname.to_string();
    if q.ends_with('.') { q } else { format!("{q}.") }
}

/// What the `kubernetes` plugin has seen at this instant: every Service with
/// its propagated endpoints (StatefulSet pods carry their hostname when the
/// set's governing Service is this one, as the EndpointSlice controller sets it).
pub fn zone_of(sc: &Scenario, frozen: &Frozen) -> zone::Zone {
    let cluster = &frozen.cluster;
    let mut config = zone::Config::new(&sc.cluster.domain);
    config.ttl_s = sc.dns.ttl.whole_secs() as u32;
    config.pods = match sc.dns.pods {
        crate::scenario::PodsMode::Disabled => zone::PodsMode::Disabled,
        crate::scenario::PodsMode::Insecure => zone::PodsMode::Insecure,
        crate::scenario::PodsMode::Verified => zone::PodsMode::Verified,
    };
    config.endpoint_pod_names = sc.dns.endpoint_pod_names;
    super::upstream::configure(&mut config, &sc.dns);
    let dns_ip: Ipv4Addr = defaults::CLUSTER_DNS_IP
        .parse()
        .expect("the default cluster DNS IP parses");
    config.ns_addrs = vec![IpAddr::V4(dns_ip)];
    // The serial is the Unix time of the last change in CoreDNS; here, the
    // simulated second of the last endpoint change it saw (plus one).
    config.soa_serial = cluster
        .services
        .iter()
        .map(|s| s.view_since.as_ns() / 1_000_000_000)
        .max()
        .unwrap_or(0) as u32
        + 1;
    let namespaces = super::namespaces(sc);
    let port = |name: &Option<String>, number: u16, protocol: &str| zone::Port {
        name: name.clone(),
        port: number,
        protocol: match protocol {
            "UDP" => zone::Protocol::Udp,
            "SCTP" => zone::Protocol::Sctp,
            _ => zone::Protocol::Tcp,
        },
    };
    let services = sc
        .services
        .iter()
        .zip(&cluster.services)
        .enumerate()
        .map(|(i, (svc, state))| {
            let i = i as u32;
            // The generated slice: selected pods (as propagated).
            let generated: Vec<zone::Endpoint> = state
                .view
                .endpoints
                .iter()
                .filter(|a| !state.static_endpoints.contains(a))
                .map(|&a| zone::Endpoint {
                    addresses: vec![IpAddr::V4(Ipv4Addr::from(a.ip))],
                    hostname: cluster.endpoint_hostname(i, a),
                    pod_name: cluster.pod_name(a),
                    ready: Some(true),
                })
                .collect();
            let mut slices = vec![zone::Slice {
                endpoints: generated,
                ports: svc
                    .ports
                    .iter()
                    .map(|p| port(&p.name, p.target_port, &p.protocol))
                    .collect(),
            }];
            // Hand-written slices, as written (they never change).
            for def in sc
                .endpoint_slices
                .iter()
                .filter(|e| e.service == svc.name && e.namespace == svc.namespace)
            {
                slices.push(zone::Slice {
                    endpoints: def
                        .endpoints
                        .iter()
                        .map(|ep| zone::Endpoint {
                            addresses: ep.addresses.clone(),
                            hostname: ep.hostname.clone(),
                            pod_name: ep.target_ref.clone(),
                            ready: ep.ready,
                        })
                        .collect(),
                    ports: def
                        .ports
                        .iter()
                        .map(|p| port(&p.name, p.port, &p.protocol))
                        .collect(),
                });
            }
            let kind = match (&svc.external_name, state.vip) {
                (Some(name), _) => zone::ServiceKind::ExternalName(name.clone()),
                (None, vip) if vip.is_some() || !svc.cluster_ipv6.is_empty() => {
                    let mut ips: Vec<IpAddr> = vip
                        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
                        .into_iter()
                        .collect();
                    ips.extend(svc.cluster_ipv6.iter().map(|v6| IpAddr::V6(*v6)));
                    zone::ServiceKind::ClusterIp(ips)
                }
                _ => zone::ServiceKind::Headless,
            };
            zone::Service {
                name: svc.name.clone(),
                namespace: svc.namespace.clone(),
                kind,
                ports: svc
                    .ports
                    .iter()
                    .map(|p| port(&p.name, p.port, &p.protocol))
                    .collect(),
                slices,
            }
        })
        .collect();
    // For `pods verified`: every pod that holds its address now.
    let pods = (0..cluster.pods.len() as u32)
        .filter(|&i| {
            let p = &cluster.pods[i as usize];
            p.gone_at.is_none() && !matches!(p.owner, crate::cluster::Owner::External { .. })
        })
        .map(|i| zone::Pod {
            namespace: cluster.namespace_of(i).to_string(),
            ip: IpAddr::V4(Ipv4Addr::from(cluster.pods[i as usize].ip)),
        })
        .collect();
    zone::Zone {
        config,
        namespaces,
        services,
        pods,
        synced: frozen.at.as_ns() >= sc.dns.synced_after.as_ns(),
    }
}

fn ask_of(qtype: QType) -> Option<Ask> {
    match qtype {
        QType::A => Some(Ask::A),
        QType::Aaaa => Some(Ask::Aaaa),
        _ => None,
    }
}

fn rcode(r: Rcode) -> ZRcode {
    match r {
        Rcode::NoError => ZRcode::NoError,
        Rcode::NxDomain => ZRcode::NxDomain,
        Rcode::ServFail => ZRcode::ServFail,
    }
}

/// A message carrying `data` (the form caches hold) for `qname`, every
/// record with `ttl_s`; negative answers take the zone's SOA.
fn message_of(z: &zone::Zone, qname: &str, data: &AnswerData, ttl_s: u64) -> Message {
    let ttl = ttl_s.min(u32::MAX as u64) as u32;
    let answer: Vec<Record> = data
        .addrs
        .iter()
        .map(|a| Record {
            name: qname.to_string(),
            ttl,
            data: RData::A(Ipv4Addr::from(a.ip)),
        })
        .collect();
    let authority = if answer.is_empty() {
        zone::answer(z, &z.config.zone, QType::Soa)
            .answer
            .into_iter()
            .map(|mut r| {
                r.ttl = ttl;
                r
            })
            .collect()
    } else {
        Vec::new()
    };
    Message {
        rcode: rcode(data.rcode),
        authoritative: true,
        answer,
        authority,
        additional: Vec::new(),
    }
}

/// The cluster DNS server's answer at the frozen instant, and who gave it.
pub fn server_answer(
    frozen: &Frozen,
    z: &zone::Zone,
    qname: &str,
    qtype: QType,
) -> (Message, String) {
    let lower = qname.to_ascii_lowercase();
    if let (Some(ask), Some(id)) = (ask_of(qtype), frozen.server.lookup(&lower))
        && let Some((data, ttl, _, stale)) = frozen.server.peek_cache(id, ask, frozen.at)
    {
        let by = if stale {
            "server cache (stale)"
        } else {
            "server cache"
        };
        return (message_of(z, qname, &data, ttl), by.to_string());
    }
    let mut msg = zone::answer(z, qname, qtype);
    if !zone::is_in_zone(z, qname) {
        return (msg, "upstream".to_string());
    }
    let cache = &frozen.server.config().cache;
    if cache.enabled {
        // The cache plugin's miss path: every RR to one TTL, the minimum
        // clamped to [min_ttl, cap].
        let positive = !msg.answer.is_empty();
        let cap = if positive {
            cache.max_ttl
        } else {
            cache.denial_max_ttl
        }
        .whole_secs() as u32;
        let min_rr = msg
            .answer
            .iter()
            .chain(&msg.authority)
            .chain(&msg.additional)
            .map(|r| r.ttl)
            .min();
        if let Some(m) = min_rr {
            let t = m.clamp((cache.min_ttl.whole_secs() as u32).min(cap), cap);
            for r in msg
                .answer
                .iter_mut()
                .chain(msg.authority.iter_mut())
                .chain(msg.additional.iter_mut())
            {
                r.ttl = t;
            }
        }
    }
    (msg, "kubernetes plugin".to_string())
}

/// One query as a client on `node` sends it: through the node cache when
/// there is one, to the cluster DNS or an upstream.
fn query_step(
    frozen: &Frozen,
    z: &zone::Zone,
    node: u32,
    server: Nameserver,
    name: &str,
    qtype: QType,
) -> (Step, Message) {
    let step = |by: &str, msg: &Message, ttl: u64| Step {
        name: name.to_string(),
        qtype: qtype.to_string(),
        answered_by: by.to_string(),
        rcode: msg.rcode.to_string(),
        answers: msg.answer.len(),
        ttl,
    };
    if server == Nameserver::Upstream {
        let msg = nxdomain();
        return (step("upstream", &msg, 0), msg);
    }
    if let (Some(ask), Some(id)) = (ask_of(qtype), frozen.server.lookup(name))
        && let Some((data, ttl, _)) = frozen.nodes.peek(node, id, ask, frozen.at)
    {
        let msg = message_of(z, name, &data, ttl);
        return (step("node cache", &msg, ttl), msg);
    }
    let (msg, by) = server_answer(frozen, z, name, qtype);
    let ttl = msg
        .answer
        .iter()
        .chain(&msg.authority)
        .map(|r| r.ttl)
        .min()
        .unwrap_or(0);
    (step(&by, &msg, ttl as u64), msg)
}

/// How a `--from` inspection ended.
enum Ending {
    /// The client's own state answered (`by`), no query sent.
    Client(Message, String),
    /// The last name queried (the one that answered, or the last tried).
    Queried(String),
    /// Nothing was asked and nothing held.
    Nothing,
}

/// A non-authoritative NXDOMAIN with nothing in it (no query, or an
/// upstream that knows no cluster names).
fn nxdomain() -> Message {
    Message {
        rcode: ZRcode::NxDomain,
        authoritative: false,
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
    }
}

/// Seconds with millisecond precision, for people.
fn secs(t: SimTime) -> String {
    format!("{:.3}s", t.as_ns() as f64 / 1e9)
}

/// The client's resolver path for `host`, and how it ended.
fn walk(
    sc: &Scenario,
    frozen: &Frozen,
    z: &zone::Zone,
    group: usize,
    index: u32,
    host: &str,
    qtype: QType,
) -> (Path, Ending) {
    let g = &sc.clients[group];
    let first: u32 = sc.clients[..group].iter().map(|c| c.count).sum();
    let client = &frozen.clients[(first + index) as usize];
    let plan = &frozen.plans[group];
    let sp = SearchPath::of(
        g.dns_policy,
        &g.dns_config,
        &g.namespace,
        &sc.cluster.domain,
    );
    let mut path = Path {
        client: format!("{}/{index}", g.name),
        profile: g.resolver.profile.to_string(),
        node: client.node,
        search: sp.searches.clone(),
        ndots: sp.ndots,
        nameserver: match sp.server {
            Nameserver::Cluster => format!("{} (cluster DNS)", defaults::CLUSTER_DNS_IP),
            Nameserver::Upstream => "the node's upstream".to_string(),
        },
        client_state: None,
        steps: Vec::new(),
        addresses: Vec::new(),
    };
    let at = frozen.at;
    let same_name = host
        .trim_end_matches('.')
        .eq_ignore_ascii_case(g.target.host.trim_end_matches('.'));
    let addrs = |c: &crate::client::Client| -> Vec<String> {
        c.addrs
            .iter()
            .map(|a| Ipv4Addr::from(a.ip).to_string())
            .collect()
    };
    // The application's own question: the client's state may answer it.
    if same_name && matches!(qtype, QType::A) {
        let held = |c: &crate::client::Client, ttl_s: u64| {
            let data = AnswerData {
                rcode: Rcode::NoError,
                addrs: c.addrs.clone(),
                svc: None,
            };
            let mut m = message_of(z, &absolute(host), &data, ttl_s);
            m.authoritative = false;
            m
        };
        if plan.resolver.refresh != Refresh::Lazy {
            if client.cached {
                path.client_state = Some(format!(
                    "host set from the background resolution at {} ({} addresses)",
                    secs(client.last_resolved),
                    client.addrs.len()
                ));
                path.addresses = addrs(client);
                return (
                    path,
                    Ending::Client(held(client, 0), "client host set".into()),
                );
            }
            path.client_state =
                Some("empty host set: requests get no address until the next resolution".into());
            return (path, Ending::Nothing);
        }
        if client.cache_valid(at) {
            path.client_state = Some(format!(
                "client cache: received at {}, kept until {}",
                secs(client.received_at),
                secs(client.valid_until)
            ));
            path.addresses = addrs(client);
            let ttl = client.valid_until.since(at).as_ns().div_ceil(1_000_000_000);
            return (
                path,
                Ending::Client(held(client, ttl), "client cache".into()),
            );
        }
        if client.negative_valid(at) {
            path.client_state = Some(format!(
                "negative cache: the last lookup failed, remembered until {}",
                secs(client.negative_until)
            ));
            let msg = nxdomain();
            return (path, Ending::Client(msg, "client negative cache".into()));
        }
    }
    let (style, aaaa, node) = (g.resolver.search, plan.resolver.aaaa, client.node);
    walk_queries(frozen, z, &sp, style, aaaa, node, host, qtype, path)
}

/// The queries a stub resolver with `style` sends for `host` from `node`,
/// each step recorded in `path`, until a name answers (or the walk stops).
#[allow(clippy::too_many_arguments)]
fn walk_queries(
    frozen: &Frozen,
    z: &zone::Zone,
    sp: &SearchPath,
    style: SearchStyle,
    aaaa: bool,
    node: u32,
    host: &str,
    qtype: QType,
    mut path: Path,
) -> (Path, Ending) {
    let asks: Vec<QType> = match qtype {
        QType::A if aaaa => vec![QType::A, QType::Aaaa],
        other => vec![other],
    };
    let mut last = None;
    for name in sp.candidates(host, style) {
        last = Some(name.clone());
        let mut nx = false;
        let mut servfail = false;
        let mut found = None;
        for &q in &asks {
            let (step, msg) = query_step(frozen, z, node, sp.server, &name, q);
            nx |= msg.rcode == ZRcode::NxDomain;
            servfail |= msg.rcode == ZRcode::ServFail;
            if q == qtype && !msg.answer.is_empty() {
                found = Some(msg);
            }
            path.steps.push(step);
        }
        if let Some(msg) = found {
            path.addresses = msg
                .answer
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(ip) => Some(ip.to_string()),
                    RData::Aaaa(ip) => Some(ip.to_string()),
                    _ => None,
                })
                .collect();
            return (path, Ending::Queried(name));
        }
        if (servfail || !nx) && style == SearchStyle::Musl {
            break;
        }
    }
    (path, last.map_or(Ending::Nothing, Ending::Queried))
}

/// The resolver path of a pod (`--from web-0`): glibc, `ClusterFirst` in
/// the pod's namespace, through its node's cache; pods keep no DNS cache.
fn walk_from_pod(
    sc: &Scenario,
    frozen: &Frozen,
    z: &zone::Zone,
    pod: crate::cluster::PodId,
    host: &str,
    qtype: QType,
) -> (Path, Ending) {
    let c = &frozen.cluster;
    let p = &c.pods[pod as usize];
    let namespace = c.namespace_of(pod).to_string();
    let sp = SearchPath::of(
        crate::scenario::DnsPolicy::ClusterFirst,
        &crate::scenario::DnsConfig::default(),
        &namespace,
        &sc.cluster.domain,
    );
    let path = Path {
        client: format!("pod {}", c.pod_display_name(pod)),
        profile: crate::scenario::ResolverProfile::Glibc.to_string(),
        node: p.node,
        search: sp.searches.clone(),
        ndots: sp.ndots,
        nameserver: format!("{} (cluster DNS)", defaults::CLUSTER_DNS_IP),
        client_state: None,
        steps: Vec::new(),
        addresses: Vec::new(),
    };
    walk_queries(
        frozen,
        z,
        &sp,
        SearchStyle::Glibc,
        true,
        p.node,
        host,
        qtype,
        path,
    )
}

impl Inspection {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("an inspection always serializes");
        s.push('\n');
        s
    }

    /// `dig`-style text.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "; ksim {} dns {} {} at {} (scenario {}, seed {})",
            self.ksim_version,
            self.question.name,
            self.question.qtype,
            self.at,
            self.scenario,
            self.seed
        );
        if let Some(p) = &self.path {
            let _ = writeln!(
                o,
                ";; RESOLVER PATH: client {} (profile {}, node {}), nameserver {}",
                p.client, p.profile, p.node, p.nameserver
            );
            let _ = writeln!(o, ";;   search {}  ndots:{}", p.search.join(" "), p.ndots);
            if let Some(s) = &p.client_state {
                let _ = writeln!(o, ";;   {s}");
            }
            for s in &p.steps {
                let _ = writeln!(
                    o,
                    ";;   {:<52} {:<5} {:<9} {} answer(s), ttl {}  <- {}",
                    s.name, s.qtype, s.rcode, s.answers, s.ttl, s.answered_by
                );
            }
            let _ = writeln!(
                o,
                ";;   => {}",
                if p.addresses.is_empty() {
                    "no address".to_string()
                } else {
                    p.addresses.join(", ")
                }
            );
            let _ = writeln!(o);
        }
        let _ = writeln!(o, ";; ->>HEADER<<- opcode: QUERY, status: {}", self.rcode);
        let _ = writeln!(
            o,
            ";; flags: {}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
            self.flags.join(" "),
            self.answer.len(),
            self.authority.len(),
            self.additional.len()
        );
        let _ = writeln!(o, ";; answered by: {}", self.answered_by);
        let _ = writeln!(o);
        let _ = writeln!(o, ";; QUESTION SECTION:");
        let _ = writeln!(o, ";{}\t\tIN\t{}", self.question.name, self.question.qtype);
        for (title, rrs) in [
            ("ANSWER", &self.answer),
            ("AUTHORITY", &self.authority),
            ("ADDITIONAL", &self.additional),
        ] {
            if rrs.is_empty() {
                continue;
            }
            let _ = writeln!(o);
            let _ = writeln!(o, ";; {title} SECTION:");
            for r in rrs {
                let _ = writeln!(o, "{}\t{}\tIN\t{}\t{}", r.name, r.ttl, r.rtype, r.data);
            }
        }
        o
    }
}
