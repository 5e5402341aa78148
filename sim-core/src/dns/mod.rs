//! Cluster DNS: the name grammar of the CoreDNS `kubernetes` plugin, the
//! authoritative answers it builds from the endpoints it has seen, and the
//! CoreDNS `cache` plugin in front of it.
//!
//! Semantics (reference/dns.md §1–3):
//! * `<svc>.<ns>.svc.<zone>`: a ClusterIP service answers its VIP (even with
//!   no endpoints); a headless service answers one A per *ready* endpoint in
//!   EndpointSlice order, and **NXDOMAIN** when it has none.
//! * `<ep>.<svc>.<ns>.svc.<zone>`: the endpoints whose name is `<ep>` (the
//!   pod's hostname when its subdomain is the service, else the dashed IP) —
//!   for ClusterIP services too; none ⇒ NXDOMAIN.
//! * `svc.<zone>`, `pod.<zone>`, the apex, and `<ns>.svc.<zone>` of an
//!   existing namespace ⇒ NODATA; a last label other than `svc`/`pod`,
//!   unknown namespaces and services ⇒ NXDOMAIN; `pods disabled` (default) ⇒
//!   every `*.pod.<zone>` is NXDOMAIN. Matching is case-insensitive.
//! * Names outside the zone go upstream; the simulated cluster has no
//!   Internet, so they are NXDOMAIN.
//! * Cache (CoreDNS `cache`, off by default as kubeadm configures it): an
//!   entry lives `clamp(TTL, min_ttl, cap)`, the cap being `max_ttl` for
//!   answers with records and `denial_max_ttl` for NXDOMAIN/NODATA, whose TTL
//!   is the SOA's `min(ttl, 300)`; a hit serves `origTTL − floor(elapsed)`
//!   and the entry is usable while that is > 0; `prefetch` and `serve_stale`
//!   as the plugin does them (see [`Server::query`]).
//!
//! Owns names and answers; not client resolvers (see `client`).

pub mod inspect;
pub mod serve;
pub mod upstream;
pub mod wire;
pub mod zone;

use std::rc::Rc;

use crate::cluster::{Addr, Cluster, View};
use crate::scenario::{Dns, DnsConfig, DnsPolicy, Scenario, SearchStyle, defaults};
use crate::time::{NS_PER_S, SimDuration, SimTime};

/// What a query name refers to, decided once from the scenario's objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QTarget {
    /// The service's own name (`svc` index).
    Service(u32),
    /// `<sts>-<ordinal>.<svc>…`: a StatefulSet pod's hostname record.
    PodHostname {
        svc: u32,
        sts: u32,
        ordinal: u32,
    },
    /// `a-b-c-d.<svc>…`: an endpoint named by its dashed IP.
    EndpointIp {
        svc: u32,
        ip: u32,
    },
    /// `<hostname>.<svc>…`: a hand-written Pod's or EndpointSlice
    /// endpoint's hostname.
    Hostname {
        svc: u32,
        name: String,
    },
    NoData,
    NxDomain,
    /// Outside the cluster zone: forwarded upstream.
    Upstream,
}

impl QTarget {
    /// The Service whose records answer this name, if any.
    pub fn service(&self) -> Option<u32> {
        match *self {
            QTarget::Service(s)
            | QTarget::PodHostname { svc: s, .. }
            | QTarget::EndpointIp { svc: s, .. }
            | QTarget::Hostname { svc: s, .. } => Some(s),
            _ => None,
        }
    }
}

/// Every namespace that exists in the scenario: `default`, the declared
/// Namespace objects, and every namespace an object or client names.
pub fn namespaces(sc: &Scenario) -> Vec<String> {
    let mut out = vec![crate::scenario::defaults::NAMESPACE.to_string()];
    let named = sc
        .namespaces
        .iter()
        .chain(sc.services.iter().map(|s| &s.namespace))
        .chain(sc.statefulsets.iter().map(|s| &s.namespace))
        .chain(sc.deployments.iter().map(|d| &d.namespace))
        .chain(sc.pods.iter().map(|p| &p.namespace))
        .chain(sc.traced_pods.iter().map(|p| &p.namespace))
        .chain(sc.endpoint_slices.iter().map(|e| &e.namespace))
        .chain(sc.clients.iter().map(|c| &c.namespace));
    for ns in named {
        if !out.contains(ns) {
            out.push(ns.clone());
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    NxDomain,
    /// Before CoreDNS's informers synced, in place of NXDOMAIN.
    ServFail,
}

/// The content of one answer; shared by reference between the server's cache
/// and every response built from it.
#[derive(Debug)]
pub struct AnswerData {
    pub rcode: Rcode,
    pub addrs: Vec<Addr>,
    /// The service the records belong to (for "is this a member?" checks).
    pub svc: Option<u32>,
}

/// One response as a client receives it.
#[derive(Clone, Debug)]
pub struct Response {
    pub data: Rc<AnswerData>,
    /// TTL in the response, seconds.
    pub ttl_s: u64,
    /// When the server built the records from its view of the endpoints
    /// (or stored them in its cache).
    pub built_at: SimTime,
    pub from_cache: bool,
    /// When a NodeLocal DNSCache stored this answer, if it came through one.
    /// Such an answer's record order was fixed by that cache (it has no
    /// `loadbalance`): every pod on the node sees the same order until expiry.
    pub node_at: Option<SimTime>,
}

impl Response {
    pub fn has_addresses(&self) -> bool {
        self.data.rcode == Rcode::NoError && !self.data.addrs.is_empty()
    }
}

/// Where a pod's stub resolver sends queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nameserver {
    /// The cluster DNS (CoreDNS).
    Cluster,
    /// Another server (the node's upstream): it knows no cluster names, and
    /// the simulated cluster has no Internet, so every name is NXDOMAIN.
    Upstream,
}

/// A pod's resolv.conf as kubelet writes it (`pkg/kubelet/network/dns/dns.go`,
/// reference/dns.md §4): search domains, `ndots`, nameserver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPath {
    pub searches: Vec<String>,
    pub ndots: u8,
    pub server: Nameserver,
}

impl SearchPath {
    /// `ClusterFirst`: `<ns>.svc.<zone> svc.<zone> <zone>`, `ndots:5`, the
    /// cluster DNS. `Default`: the node's resolv.conf (no search domains on
    /// the simulated node, `ndots:1`, its upstream server). `None`: only
    /// `dnsConfig`. `dnsConfig` searches are appended (duplicates removed),
    /// its `ndots` overrides, and its first nameserver is used.
    pub fn of(policy: DnsPolicy, config: &DnsConfig, namespace: &str, domain: &str) -> SearchPath {
        let cluster_dns = u32::from(
            defaults::CLUSTER_DNS_IP
                .parse::<std::net::Ipv4Addr>()
                .expect("the default cluster DNS IP parses"),
        );
        let (mut searches, ndots, server) = match policy {
            DnsPolicy::ClusterFirst => (
                vec![
                    format!("{namespace}.svc.{domain}"),
                    format!("svc.{domain}"),
                    domain.to_string(),
                ],
                defaults::NDOTS_CLUSTER_FIRST,
                Nameserver::Cluster,
            ),
            DnsPolicy::Default => (
                Vec::new(),
                defaults::NDOTS_RESOLV_CONF,
                Nameserver::Upstream,
            ),
            DnsPolicy::None => (
                Vec::new(),
                defaults::NDOTS_RESOLV_CONF,
                Nameserver::Upstream,
            ),
        };
        for s in &config.searches {
            if !searches.contains(s) {
                searches.push(s.clone());
            }
        }
        let server = match config.nameservers.first() {
            Some(&ip) if ip == cluster_dns => Nameserver::Cluster,
            Some(_) => Nameserver::Upstream,
            None => server,
        };
        SearchPath {
            searches,
            ndots: config.ndots.unwrap_or(ndots),
            server,
        }
    }

    /// The names tried for `host`, in order (reference/dns.md §4): a trailing
    /// dot means the name as-is only. Otherwise the search domains then the
    /// name as-is; a name with at least `ndots` dots is tried as-is first
    /// (glibc, Go, c-ares) or only as-is (musl).
    pub fn candidates(&self, host: &str, style: SearchStyle) -> Vec<String> {
        let host = host.to_ascii_lowercase();
        if host.ends_with('.') {
            return vec![host];
        }
        let absolute = format!("{host}.");
        let dots = host.matches('.').count();
        if dots >= self.ndots as usize && style == SearchStyle::Musl {
            return vec![absolute];
        }
        let mut out: Vec<String> = self
            .searches
            .iter()
            .map(|s| format!("{host}.{s}."))
            .collect();
        if dots >= self.ndots as usize {
            out.insert(0, absolute);
        } else {
            out.push(absolute);
        }
        out
    }
}

/// Decide what a fully qualified query name (with or without the final dot)
/// refers to, per the CoreDNS `kubernetes` plugin's `parse.go` grammar.
pub fn classify(qname: &str, sc: &Scenario) -> QTarget {
    classify_depth(qname, sc, 0)
}

fn classify_depth(qname: &str, sc: &Scenario, depth: usize) -> QTarget {
    let q = qname.trim_end_matches('.').to_ascii_lowercase();
    let zone = sc.cluster.domain.to_ascii_lowercase();
    let base = if q == zone {
        ""
    } else if let Some(b) = q.strip_suffix(&format!(".{zone}")) {
        b
    } else {
        return QTarget::Upstream;
    };
    if base.is_empty() {
        return QTarget::NoData;
    }
    let labels: Vec<&str> = base.split('.').collect();
    let n = labels.len();
    match labels[n - 1] {
        "svc" | "pod" if n == 1 => return QTarget::NoData,
        "pod" => return QTarget::NxDomain, // `pods disabled`, the plugin default
        "svc" => {}
        _ => return QTarget::NxDomain,
    }
    // CoreDNS `namespaceExposed`: the namespace exists and, with a
    // `namespaces` list, is on it (as `zone.rs` has it).
    let listed =
        |ns: &str| sc.dns.namespaces.is_empty() || sc.dns.namespaces.iter().any(|n| n == ns);
    let namespace_exists = |ns: &str| namespaces(sc).iter().any(|n| n == ns) && listed(ns);
    let ns = labels[n - 2];
    if !listed(ns) {
        return QTarget::NxDomain;
    }
    if n == 2 {
        return if namespace_exists(ns) {
            QTarget::NoData
        } else {
            QTarget::NxDomain
        };
    }
    let svc_name = labels[n - 3];
    let Some(svc) = sc
        .services
        .iter()
        .position(|s| s.namespace == ns && s.name == svc_name)
    else {
        return QTarget::NxDomain;
    };
    let svc = svc as u32;
    if let Some(target) = &sc.services[svc as usize].external_name {
        // ExternalName: a CNAME (reference/dns.md §2). An in-zone target is
        // chased (at most `zone::MAX_CNAME_CHAIN` links); outside the zone
        // there is no upstream here, so the CNAME alone: no address.
        return match n {
            3 if depth <= zone::MAX_CNAME_CHAIN => match classify_depth(target, sc, depth + 1) {
                QTarget::Upstream | QTarget::NxDomain => QTarget::NoData,
                t => t,
            },
            3 => QTarget::NoData,
            _ => QTarget::NxDomain,
        };
    }
    match n {
        3 => QTarget::Service(svc),
        4 => classify_endpoint(labels[0], svc, sc),
        // `_port._proto.<svc>` SRV names and deeper names: not modelled for
        // A queries in this version, answered NXDOMAIN.
        _ => QTarget::NxDomain,
    }
}

fn classify_endpoint(label: &str, svc: u32, sc: &Scenario) -> QTarget {
    let s = &sc.services[svc as usize];
    // A pod has a hostname record under `svc` iff its subdomain (the
    // StatefulSet's serviceName) is `svc` (endpointslice utils.go).
    for (j, st) in sc.statefulsets.iter().enumerate() {
        if st.namespace != s.namespace || st.service != s.name {
            continue;
        }
        if let Some(ord) = st.index_of(label) {
            return QTarget::PodHostname {
                svc,
                sts: j as u32,
                ordinal: ord,
            };
        }
    }
    // With `endpoint_pod_names`, an endpoint without a hostname is named
    // after its pod: any pod the Service selects.
    if sc.dns.endpoint_pod_names {
        let selected = |labels: &std::collections::BTreeMap<String, String>| {
            !s.selector.is_empty() && s.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        };
        for (j, st) in sc.statefulsets.iter().enumerate() {
            if st.namespace == s.namespace
                && selected(&st.labels)
                && let Some(ord) = st.index_of(label)
            {
                return QTarget::PodHostname {
                    svc,
                    sts: j as u32,
                    ordinal: ord,
                };
            }
        }
        if sc
            .pods
            .iter()
            .any(|p| p.namespace == s.namespace && selected(&p.labels) && p.name == label)
        {
            return QTarget::Hostname {
                svc,
                name: label.to_string(),
            };
        }
    }
    // Hand-written Pods whose subdomain is this Service, and hand-written
    // endpoints, carry the hostnames they were given.
    let pod_hostname = sc.pods.iter().any(|p| {
        p.namespace == s.namespace
            && p.subdomain.as_deref() == Some(s.name.as_str())
            && p.hostname.as_deref() == Some(label)
    }) || sc.traced_pods.iter().any(|p| {
        p.namespace == s.namespace
            && p.subdomain.as_deref() == Some(s.name.as_str())
            && p.hostname.as_deref() == Some(label)
    });
    let slice_hostname = sc.endpoint_slices.iter().any(|e| {
        e.namespace == s.namespace
            && e.service == s.name
            && e.endpoints
                .iter()
                .any(|ep| ep.hostname.as_deref() == Some(label))
    });
    if pod_hostname || slice_hostname {
        return QTarget::Hostname {
            svc,
            name: label.to_string(),
        };
    }
    let parts: Vec<&str> = label.split('-').collect();
    if parts.len() == 4
        && let Ok(ip) = parts.join(".").parse::<std::net::Ipv4Addr>()
    {
        return QTarget::EndpointIp {
            svc,
            ip: u32::from(ip),
        };
    }
    QTarget::NxDomain
}

/// A cached response (CoreDNS `cache`).
#[derive(Clone, Debug)]
struct CacheEntry {
    data: Rc<AnswerData>,
    stored_at: SimTime,
    orig_ttl_s: u64,
    /// Hits with no gap of the prefetch duration between them (`freq.Freq`).
    hits: u32,
    last_hit: SimTime,
}

/// How long the CoreDNS `cache` plugin keeps a SERVFAIL (`servfail 5s`).
const SERVFAIL_CACHE_S: u64 = 5;

/// The address query types clients send. Pod addresses in this version are
/// IPv4, so AAAA answers are NODATA for names that exist (or NXDOMAIN with
/// them), which is what a dual-stack `getaddrinfo` sees in an IPv4 cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    A = 0,
    Aaaa = 1,
}

/// Per query name and type: the memoized fresh answer and the cache entry
/// (CoreDNS caches per (qname, qtype)).
#[derive(Default)]
struct NameState {
    /// (service view version, answer) — rebuilt only when the view changes.
    memo: Option<(u64, Rc<AnswerData>)>,
    cache: Option<CacheEntry>,
}

/// Counters the report shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    pub queries: u64,
    /// Of `queries`, how many were AAAA.
    pub aaaa_queries: u64,
    pub cache_hits: u64,
    pub nxdomain: u64,
    pub nodata: u64,
    pub upstream: u64,
    /// Entries refreshed by `prefetch`.
    pub prefetches: u64,
    /// Expired entries served by `serve_stale`.
    pub stale_served: u64,
    /// SERVFAIL answers (before the informers synced).
    pub servfail: u64,
}

/// The cluster DNS server (CoreDNS with `kubernetes`, optional `cache`).
pub struct Server {
    names: Vec<(String, QTarget)>,
    /// Per name: A, AAAA.
    state: Vec<[NameState; 2]>,
    cfg: Dns,
    pub stats: ServerStats,
}

pub type NameId = u32;

impl Server {
    pub fn new(cfg: &Dns) -> Server {
        Server {
            names: Vec::new(),
            state: Vec::new(),
            cfg: cfg.clone(),
            stats: ServerStats::default(),
        }
    }

    /// Intern a query name (setup time only).
    pub fn intern(&mut self, qname: &str, sc: &Scenario) -> NameId {
        if let Some(i) = self.names.iter().position(|(n, _)| n == qname) {
            return i as NameId;
        }
        self.names.push((qname.to_string(), classify(qname, sc)));
        self.state.push(Default::default());
        (self.names.len() - 1) as NameId
    }

    /// How many names are interned.
    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// The id of `qname` if some client asks for it (lower case, trailing dot).
    pub fn lookup(&self, qname: &str) -> Option<NameId> {
        self.names
            .iter()
            .position(|(n, _)| n == qname)
            .map(|i| i as NameId)
    }

    /// What the server's cache would answer for `id`/`ask` at `now`, without
    /// touching it: `(answer, remaining TTL s, stored at, stale)`.
    pub fn peek_cache(
        &self,
        id: NameId,
        ask: Ask,
        now: SimTime,
    ) -> Option<(Rc<AnswerData>, u64, SimTime, bool)> {
        let cfg = &self.cfg.cache;
        if !cfg.enabled {
            return None;
        }
        let e = self.state[id as usize][ask as usize].cache.as_ref()?;
        let elapsed_s = now.since(e.stored_at).as_ns() / NS_PER_S;
        if elapsed_s < e.orig_ttl_s {
            return Some((e.data.clone(), e.orig_ttl_s - elapsed_s, e.stored_at, false));
        }
        let expired_for = now.since(e.stored_at.plus(secs(e.orig_ttl_s)));
        cfg.serve_stale
            .is_some_and(|d| expired_for < d)
            .then(|| (e.data.clone(), 0, e.stored_at, true))
    }

    /// The server's DNS settings.
    pub fn config(&self) -> &Dns {
        &self.cfg
    }

    pub fn target(&self, id: NameId) -> &QTarget {
        &self.names[id as usize].1
    }

    pub fn name(&self, id: NameId) -> &str {
        &self.names[id as usize].0
    }

    fn ttl_s(&self) -> u64 {
        self.cfg.ttl.whole_secs()
    }

    /// Answer an A query for `id` at `now`.
    /// Answer `ask` for `id` at `now`, through the CoreDNS `cache` plugin
    /// when it is on (reference/dns.md §3): an entry lives
    /// `clamp(TTL, min_ttl, cap)` (cap `max_ttl` for answers with records,
    /// `denial_max_ttl` for NXDOMAIN/NODATA) and serves
    /// `origTTL − floor(elapsed)` while that is positive; `prefetch` refreshes
    /// a popular entry near its end; `serve_stale` serves an expired entry
    /// with TTL 0 and refreshes it at once.
    pub fn query(&mut self, id: NameId, ask: Ask, now: SimTime, cluster: &Cluster) -> Response {
        self.stats.queries += 1;
        if ask == Ask::Aaaa {
            self.stats.aaaa_queries += 1;
        }
        let cfg = &self.cfg.cache;
        if cfg.enabled
            && let Some(e) = &mut self.state[id as usize][ask as usize].cache
        {
            let elapsed_s = now.since(e.stored_at).as_ns() / NS_PER_S;
            if elapsed_s < e.orig_ttl_s {
                let remaining_s = e.orig_ttl_s - elapsed_s;
                let resp = Response {
                    data: e.data.clone(),
                    ttl_s: remaining_s,
                    built_at: e.stored_at,
                    from_cache: true,
                    node_at: None,
                };
                let mut refresh = false;
                if let Some(p) = cfg.prefetch {
                    // freq.Update: a gap of `duration` or more starts the count over.
                    e.hits = if now.since(e.last_hit) < p.duration {
                        e.hits + 1
                    } else {
                        1
                    };
                    e.last_hit = now;
                    let threshold_s = (p.percentage as u64 * e.orig_ttl_s).div_ceil(100);
                    refresh = e.hits >= p.amount && remaining_s <= threshold_s;
                }
                let hits = e.hits;
                self.stats.cache_hits += 1;
                self.count_rcode(&resp);
                if refresh {
                    self.stats.prefetches += 1;
                    self.fetch_and_store(id, ask, now, cluster, hits);
                }
                return resp;
            }
            let expired_for = now.since(e.stored_at.plus(secs(e.orig_ttl_s)));
            if cfg.serve_stale.is_some_and(|d| expired_for < d) {
                let resp = Response {
                    data: e.data.clone(),
                    ttl_s: 0,
                    built_at: e.stored_at,
                    from_cache: true,
                    node_at: None,
                };
                let hits = e.hits;
                self.stats.cache_hits += 1;
                self.stats.stale_served += 1;
                self.count_rcode(&resp);
                self.fetch_and_store(id, ask, now, cluster, hits);
                return resp;
            }
        }
        let resp = self.fetch_and_store(id, ask, now, cluster, 0);
        self.count_rcode(&resp);
        resp
    }

    /// Build the authoritative answer now and, with the cache on, store it
    /// (CoreDNS rewrites the reply's TTLs to the cache duration on this path too).
    fn fetch_and_store(
        &mut self,
        id: NameId,
        ask: Ask,
        now: SimTime,
        cluster: &Cluster,
        hits: u32,
    ) -> Response {
        if self.names[id as usize].1 == QTarget::Upstream {
            self.stats.upstream += 1;
        }
        let mut data = self.fresh(id, ask, cluster);
        let record_ttl = self.ttl_s();
        let positive = data.rcode == Rcode::NoError && !data.addrs.is_empty();
        // Negative answers carry the SOA, whose header TTL is min(ttl, 300).
        let mut ttl_s = if positive {
            record_ttl
        } else {
            record_ttl.min(300)
        };
        // Not synced yet: would-be NXDOMAIN is SERVFAIL, which the cache
        // plugin keeps 5 s (`servfail` default).
        let servfail = now.as_ns() < self.cfg.synced_after.as_ns() && data.rcode == Rcode::NxDomain;
        if servfail {
            data = Rc::new(AnswerData {
                rcode: Rcode::ServFail,
                addrs: Vec::new(),
                svc: None,
            });
            ttl_s = ttl_s.min(SERVFAIL_CACHE_S);
        }
        let cfg = &self.cfg.cache;
        if !cfg.enabled {
            return Response {
                data,
                ttl_s,
                built_at: now,
                from_cache: false,
                node_at: None,
            };
        }
        let cap = if positive {
            cfg.max_ttl
        } else {
            cfg.denial_max_ttl
        }
        .whole_secs();
        let orig = if servfail {
            SERVFAIL_CACHE_S
        } else {
            ttl_s.clamp(cfg.min_ttl.whole_secs().min(cap), cap)
        };
        self.state[id as usize][ask as usize].cache = (orig > 0).then(|| CacheEntry {
            data: data.clone(),
            stored_at: now,
            orig_ttl_s: orig,
            hits,
            last_hit: now,
        });
        Response {
            data,
            ttl_s: orig,
            built_at: now,
            from_cache: false,
            node_at: None,
        }
    }

    fn count_rcode(&mut self, r: &Response) {
        match r.data.rcode {
            Rcode::NxDomain => self.stats.nxdomain += 1,
            Rcode::ServFail => self.stats.servfail += 1,
            Rcode::NoError if r.data.addrs.is_empty() => self.stats.nodata += 1,
            Rcode::NoError => {}
        }
    }

    /// The authoritative answer from the current view, memoized per view version.
    /// The authoritative answer from the current view, memoized per view
    /// version. AAAA: the A answer's rcode with no records.
    pub fn fresh(&mut self, id: NameId, ask: Ask, cluster: &Cluster) -> Rc<AnswerData> {
        let target = &self.names[id as usize].1;
        let svc = target.service();
        let version = svc.map_or(0, |s| cluster.services[s as usize].view.version);
        if let Some((v, data)) = &self.state[id as usize][ask as usize].memo
            && *v == version
        {
            return data.clone();
        }
        let data = match ask {
            Ask::A => Rc::new(build(target, cluster)),
            Ask::Aaaa => {
                let a = self.fresh(id, Ask::A, cluster);
                Rc::new(AnswerData {
                    rcode: a.rcode,
                    addrs: Vec::new(),
                    svc: a.svc,
                })
            }
        };
        self.state[id as usize][ask as usize].memo = Some((version, data.clone()));
        data
    }
}

fn build(target: &QTarget, cluster: &Cluster) -> AnswerData {
    let answer = |svc: u32, addrs: Vec<Addr>| AnswerData {
        rcode: if addrs.is_empty() {
            Rcode::NxDomain
        } else {
            Rcode::NoError
        },
        addrs,
        svc: Some(svc),
    };
    let view = |svc: u32| -> &View { &cluster.services[svc as usize].view };
    // An endpoint's name is its hostname, else (with `endpoint_pod_names`)
    // its pod's name when shorter than 64, else its dashed IP (CoreDNS
    // `endpointHostname`, reference/dns.md §2).
    let by_pod = cluster.sc.dns.endpoint_pod_names;
    let named = |svc: u32, label: &str| -> AnswerData {
        let addrs = view(svc)
            .endpoints
            .iter()
            .filter(|a| {
                let name = cluster.endpoint_hostname(svc, **a).or_else(|| {
                    by_pod
                        .then(|| cluster.pod_name(**a))
                        .flatten()
                        .filter(|n| n.len() < 64)
                });
                match name {
                    Some(h) => h == label,
                    None => dashed(a.ip) == label,
                }
            })
            .copied()
            .collect();
        answer(svc, addrs)
    };
    // `ignore empty_service`: a ClusterIP Service without a ready endpoint
    // is NXDOMAIN (as `zone.rs` has it).
    let ignored = |svc: u32| {
        cluster.sc.dns.ignore_empty_service
            && !cluster.sc.services[svc as usize].is_headless()
            && view(svc).endpoints.is_empty()
    };
    match target {
        &QTarget::Service(svc) if ignored(svc) => answer(svc, Vec::new()),
        &QTarget::Service(svc) => match cluster.services[svc as usize].vip {
            Some(ip) => AnswerData {
                rcode: Rcode::NoError,
                addrs: vec![Addr {
                    ip,
                    pod: crate::cluster::NO_POD,
                }],
                svc: Some(svc),
            },
            // A ClusterIP Service with IPv6 addresses only: no A records.
            None if !cluster.sc.services[svc as usize].is_headless() => AnswerData {
                rcode: Rcode::NoError,
                addrs: Vec::new(),
                svc: Some(svc),
            },
            None => answer(svc, view(svc).endpoints.clone()),
        },
        &QTarget::PodHostname { svc, sts, ordinal } => named(
            svc,
            &cluster.sc.statefulsets[sts as usize].pod_name(ordinal),
        ),
        &QTarget::EndpointIp { svc, ip } => named(svc, &dashed(ip)),
        QTarget::Hostname { svc, name } => named(*svc, name),
        QTarget::NoData => AnswerData {
            rcode: Rcode::NoError,
            addrs: Vec::new(),
            svc: None,
        },
        QTarget::NxDomain | QTarget::Upstream => AnswerData {
            rcode: Rcode::NxDomain,
            addrs: Vec::new(),
            svc: None,
        },
    }
}

/// `10.244.0.1` → `10-244-0-1`.
fn dashed(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string().replace('.', "-")
}

/// An answer held by a node's cache.
struct NodeEntry {
    data: Rc<AnswerData>,
    stored_at: SimTime,
    orig_ttl_s: u64,
    /// The server's `built_at` for it.
    built_at: SimTime,
}

/// Counters of the NodeLocal DNSCache layer, all nodes together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub queries: u64,
    pub cache_hits: u64,
    /// Negative answers served (NXDOMAIN and NODATA, from cache or not).
    pub negative: u64,
}

/// NodeLocal DNSCache on every node (reference/dns.md §3): a CoreDNS `cache`
/// with its own caps (`success 30`, `denial 5`, minimum TTL 5 s) that
/// forwards misses to the cluster DNS and has no `loadbalance`.
pub struct NodeCaches {
    cfg: crate::scenario::NodeLocal,
    names: usize,
    /// `[node * names + name][ask]`.
    entries: Vec<[Option<NodeEntry>; 2]>,
    pub stats: NodeStats,
}

impl NodeCaches {
    /// Caches for `nodes` nodes over the `names` names interned so far.
    pub fn new(cfg: &crate::scenario::NodeLocal, nodes: u32, names: usize) -> NodeCaches {
        let n = if cfg.enabled {
            nodes as usize * names
        } else {
            0
        };
        NodeCaches {
            cfg: cfg.clone(),
            names,
            entries: (0..n).map(|_| Default::default()).collect(),
            stats: NodeStats::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.cfg.enabled
    }

    /// What `node`'s cache would answer for `id`/`ask` at `now`, without
    /// touching it: `(answer in the stored order, remaining TTL s, stored at)`.
    pub fn peek(
        &self,
        node: u32,
        id: NameId,
        ask: Ask,
        now: SimTime,
    ) -> Option<(Rc<AnswerData>, u64, SimTime)> {
        if !self.cfg.enabled {
            return None;
        }
        let e = self.entries[node as usize * self.names + id as usize][ask as usize].as_ref()?;
        let elapsed_s = now.since(e.stored_at).as_ns() / NS_PER_S;
        (elapsed_s < e.orig_ttl_s).then(|| (e.data.clone(), e.orig_ttl_s - elapsed_s, e.stored_at))
    }

    /// Answer from `node`'s cache, or ask `server` and keep the answer
    /// (its records in the order `shuffle` gives them, the server's
    /// `loadbalance`, fixed from then on).
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &mut self,
        node: u32,
        id: NameId,
        ask: Ask,
        now: SimTime,
        server: &mut Server,
        cluster: &Cluster,
        shuffle: Option<&mut crate::rng::Stream>,
    ) -> Response {
        self.stats.queries += 1;
        let slot = &mut self.entries[node as usize * self.names + id as usize][ask as usize];
        if let Some(e) = slot {
            let elapsed_s = now.since(e.stored_at).as_ns() / NS_PER_S;
            if elapsed_s < e.orig_ttl_s {
                self.stats.cache_hits += 1;
                let resp = Response {
                    data: e.data.clone(),
                    ttl_s: e.orig_ttl_s - elapsed_s,
                    built_at: e.built_at,
                    from_cache: true,
                    node_at: Some(e.stored_at),
                };
                if !resp.has_addresses() {
                    self.stats.negative += 1;
                }
                return resp;
            }
        }
        let up = server.query(id, ask, now, cluster);
        let positive = up.has_addresses();
        let data = match shuffle {
            Some(s) if up.data.addrs.len() > 1 => {
                let mut addrs = up.data.addrs.clone();
                s.shuffle(&mut addrs);
                Rc::new(AnswerData {
                    rcode: up.data.rcode,
                    addrs,
                    svc: up.data.svc,
                })
            }
            _ => up.data.clone(),
        };
        let min = crate::scenario::defaults::DNS_CACHE_MIN_TTL.whole_secs();
        let cap = if positive {
            self.cfg.max_ttl
        } else {
            self.cfg.denial_max_ttl
        }
        .whole_secs();
        let orig = up.ttl_s.clamp(min.min(cap), cap);
        *slot = Some(NodeEntry {
            data: data.clone(),
            stored_at: now,
            orig_ttl_s: orig,
            built_at: up.built_at,
        });
        if !positive {
            self.stats.negative += 1;
        }
        Response {
            data,
            ttl_s: orig,
            built_at: up.built_at,
            from_cache: false,
            node_at: Some(now),
        }
    }
}

/// Seconds to a [`SimDuration`].
pub fn secs(s: u64) -> SimDuration {
    SimDuration(s.saturating_mul(NS_PER_S))
}
