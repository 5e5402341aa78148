//! The Istio sidecar at run time (reference/balancing.md §6–7).
//!
//! An injected client's connections are redirected to its own Envoy, which
//! always accepts them; what happens upstream decides what the app sees:
//! * a **ClusterIP** address is routed per request over the endpoints istiod
//!   last pushed (the EDS view, `push_delay` behind the EndpointSlices),
//!   balanced by the DestinationRule (default LEAST_REQUEST), skipping
//!   hosts outlier detection ejected;
//! * a **pod IP** (a headless Service) goes to an ORIGINAL_DST cluster:
//!   forwarded to that very address, DestinationRule balancing does not
//!   apply, and a retry goes to the same address again;
//! * an upstream connect failure is an HTTP **503** (`UF`, `URX` after
//!   retries) to the app, never ECONNREFUSED, and the app's connection to
//!   its sidecar stays up, so a pooled app connection keeps sending to a
//!   dead pod IP (istio #29669, #54539).
//!
//! Owns the EDS view, injection, and each sidecar's balancer, outlier and
//! circuit-breaker state; not the dial verdict (see `net`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::cluster::{Addr, Cluster, Owner, PodId};
use crate::dns::{AnswerData, QTarget, Rcode, Response};
use crate::lb::{HashTables, Lb};
use crate::rng::Stream;
use crate::scenario::{Balancer, DestinationRule, Mesh, OutlierDetection, Scenario};
use crate::time::{SimDuration, SimTime};

/// Where istiod runs and the port sidecars fetch their configuration on
/// (XDS over mTLS, `istiod.istio-system:15012`).
const ISTIOD_NAMESPACE: &str = "istio-system";
const XDS_PORT: u16 = 15012;

/// The TTL of the DNS proxy's answers (istio `pkg/dns/server`,
/// `defaultTTLInSeconds`).
const DNS_PROXY_TTL_S: u64 = 30;

/// Envoy caps an ejection at `max_ejection_time`, 300 s by default.
const MAX_EJECTION: SimDuration = SimDuration::from_secs(300);

/// The mesh's shared state.
pub struct MeshRun<'s> {
    pub mesh: &'s Mesh,
    /// Per service: the endpoints istiod last pushed, and a version that
    /// changes with every push.
    pub views: Vec<(Vec<Addr>, u64)>,
    /// Per service: its DestinationRule.
    pub rules: Vec<Option<&'s DestinationRule>>,
    /// Per client group: it has a sidecar.
    pub injected_groups: Vec<bool>,
    /// Per client group: NetworkPolicy keeps its sidecars from istiod
    /// (egress to port 15012): they keep the endpoints they started with.
    pub frozen_groups: Vec<bool>,
    /// The endpoints every sidecar had at start (what a frozen one keeps).
    initial: Vec<(Vec<Addr>, u64)>,
    /// Per service: istiod knows it (its namespace is discovered).
    pub known: Vec<bool>,
    injected_sts: Vec<bool>,
    injected_deps: Vec<bool>,
}

impl<'s> MeshRun<'s> {
    pub fn new(sc: &'s Scenario, mesh: &'s Mesh, cluster: &Cluster) -> MeshRun<'s> {
        let injected = |ns: &str, over: Option<bool>| {
            over.unwrap_or_else(|| mesh.injected_namespaces.iter().any(|n| n == ns))
        };
        let istiod = std::collections::BTreeMap::from([("app".to_string(), "istiod".to_string())]);
        let frozen_groups = (0..sc.clients.len() as u32)
            .map(|g| {
                !cluster
                    .netpol
                    .egress_allowed(g, ISTIOD_NAMESPACE, &istiod, "TCP", XDS_PORT)
            })
            .collect();
        let views: Vec<(Vec<Addr>, u64)> = cluster
            .services
            .iter()
            .map(|s| (s.view.endpoints.clone(), 0))
            .collect();
        let mut rules = vec![None; sc.services.len()];
        for r in &mesh.destination_rules {
            rules[r.service as usize] = Some(r);
        }
        MeshRun {
            mesh,
            initial: views.clone(),
            views,
            frozen_groups,
            known: sc
                .services
                .iter()
                .map(|s| {
                    mesh.discovery_namespaces.is_empty()
                        || mesh.discovery_namespaces.contains(&s.namespace)
                })
                .collect(),
            rules,
            injected_groups: sc
                .clients
                .iter()
                .map(|g| injected(&g.namespace, g.sidecar))
                .collect(),
            injected_sts: sc
                .statefulsets
                .iter()
                .map(|s| injected(&s.namespace, s.sidecar))
                .collect(),
            injected_deps: sc
                .deployments
                .iter()
                .map(|d| injected(&d.namespace, d.sidecar))
                .collect(),
        }
    }

    /// The endpoints of `svc` the sidecars of `group` have.
    pub fn view(&self, group: u32, svc: u32) -> &(Vec<Addr>, u64) {
        if self.frozen_groups[group as usize] {
            &self.initial[svc as usize]
        } else {
            &self.views[svc as usize]
        }
    }

    /// The DNS proxy's answer for `target` asked by a pod of `group` at
    /// `now`, when it answers at all (DNS capture on, the group injected,
    /// the name a Service istiod knows): the VIP of a ClusterIP Service,
    /// the pushed endpoints of a headless one, or the pushed address of a
    /// StatefulSet pod's hostname. `None`: forwarded to the cluster DNS.
    pub fn dns_answer(
        &self,
        group: u32,
        target: &QTarget,
        cluster: &Cluster,
        now: SimTime,
    ) -> Option<Response> {
        if !self.mesh.dns_capture || !self.injected_groups[group as usize] {
            return None;
        }
        let svc = target.service()?;
        if !self.known[svc as usize] {
            return None;
        }
        let (view, _) = self.view(group, svc);
        let addrs: Vec<Addr> = match *target {
            QTarget::Service(s) => match cluster.services[s as usize].vip {
                Some(vip) => vec![Addr {
                    ip: vip,
                    pod: crate::cluster::NO_POD,
                }],
                None => view.clone(),
            },
            QTarget::PodHostname { sts, ordinal, .. } => view
                .iter()
                .copied()
                .filter(|a| {
                    a.pod != crate::cluster::NO_POD
                        && cluster.pods[a.pod as usize].ordinal() == Some((sts, ordinal))
                })
                .collect(),
            _ => return None,
        };
        if addrs.is_empty() {
            return None;
        }
        Some(Response {
            data: std::rc::Rc::new(AnswerData {
                rcode: Rcode::NoError,
                addrs,
                svc: Some(svc),
            }),
            ttl_s: DNS_PROXY_TTL_S,
            built_at: now,
            from_cache: false,
            node_at: None,
        })
    }

    /// istiod pushes service `svc`'s current endpoints to the sidecars.
    pub fn push(&mut self, svc: u32, cluster: &Cluster) {
        let (v, version) = &mut self.views[svc as usize];
        v.clear();
        v.extend_from_slice(&cluster.services[svc as usize].view.endpoints);
        *version += 1;
    }

    /// Does pod `p` run a sidecar? (Hand-written and traced pods, and
    /// hosts outside the cluster, do not.)
    pub fn pod_injected(&self, cluster: &Cluster, p: PodId) -> bool {
        match cluster.pods[p as usize].owner {
            Owner::StatefulSet { sts, .. } => self.injected_sts[sts as usize],
            Owner::Deployment { dep, .. } => self.injected_deps[dep as usize],
            _ => false,
        }
    }

    /// Would a connection from a client (`client_injected`) to pod `p` be
    /// reset by a TLS mismatch? ISTIO_MUTUAL toward a pod without a sidecar
    /// (nothing speaks mTLS there), or plain text into a sidecar under
    /// STRICT PeerAuthentication. Auto mTLS (no `tls` in the rule) sends
    /// mTLS exactly to pods with a sidecar, so it never mismatches.
    pub fn tls_mismatch(&self, svc: u32, client_injected: bool, server_injected: bool) -> bool {
        let forced = self.rules[svc as usize].and_then(|r| r.istio_mutual);
        if client_injected {
            forced == Some(true) && !server_injected
        } else {
            self.mesh.strict_mtls && server_injected
        }
    }
}

/// One host's standing with a sidecar's outlier detector.
#[derive(Clone, Copy, Debug)]
struct HostHealth {
    ip: u32,
    consecutive: u32,
    /// Ejected until the first interval sweep at or after this instant.
    ejected_until: SimTime,
    /// Times ejected (the multiplier of the ejection time).
    ejections: u32,
}

/// One client's sidecar.
pub struct Sidecar {
    lb: Lb,
    cursor: u64,
    tables: HashTables,
    /// The hosts the balancer was last given: (service, view version).
    healthy: Vec<Addr>,
    built_for: Option<(u32, u64)>,
    /// Rebuild `healthy` at or after this instant (an ejection ends).
    next_change: SimTime,
    hosts: Vec<HostHealth>,
    /// Ends of the requests in flight (the circuit breaker's count).
    inflight: BinaryHeap<Reverse<SimTime>>,
}

impl Sidecar {
    pub fn new(client_index: u32, picks: &mut Stream) -> Sidecar {
        Sidecar {
            // Replaced by the rule's balancer on first use.
            lb: Lb::new(Balancer::Random, client_index, picks),
            cursor: picks.next_u64(),
            tables: HashTables::default(),
            healthy: Vec::new(),
            built_for: None,
            next_change: SimTime::MAX,
            hosts: Vec::new(),
            inflight: BinaryHeap::new(),
        }
    }

    fn ejected(&self, ip: u32, now: SimTime) -> bool {
        self.hosts
            .iter()
            .any(|h| h.ip == ip && now < h.ejected_until)
    }

    /// The upstream host for a request to service `svc` through its VIP, or
    /// `None` when no host is left (503 UH). `tried`: earlier tries' hosts,
    /// avoided as `previous_hosts` does (up to 5 re-picks).
    #[allow(clippy::too_many_arguments)]
    pub fn pick(
        &mut self,
        run: &MeshRun,
        svc: u32,
        balancer: Balancer,
        group: u32,
        client_index: u32,
        now: SimTime,
        picks: &mut Stream,
        tried: &[u32],
    ) -> Option<Addr> {
        let (view, version) = run.view(group, svc);
        if self.built_for != Some((svc, *version)) || now >= self.next_change {
            let outlier = run.rules[svc as usize].and_then(|r| r.outlier);
            let mut healthy = std::mem::take(&mut self.healthy);
            healthy.clear();
            healthy.extend(view.iter().copied().filter(|a| !self.ejected(a.ip, now)));
            self.healthy = healthy;
            // Panic: too few healthy hosts, balance over all of them.
            let min = outlier.map_or(0, |o| o.min_health_percent) as usize;
            if self.healthy.len() * 100 < min * view.len() {
                self.healthy.clone_from(view);
            }
            self.next_change = self
                .hosts
                .iter()
                .map(|h| h.ejected_until)
                .filter(|&t| t > now)
                .min()
                .unwrap_or(SimTime::MAX);
            if self.built_for.is_none_or(|(s, _)| s != svc) {
                self.lb = Lb::new(balancer, client_index, picks);
            }
            self.built_for = Some((svc, *version));
            self.lb
                .answer(balancer, &self.healthy, 0, &mut self.tables, picks);
        }
        if self.healthy.is_empty() {
            return None;
        }
        let n = self.healthy.len();
        let pick = |sc: &mut Sidecar, picks: &mut Stream| {
            sc.lb
                .pick(&sc.healthy, now, picks)
                .unwrap_or_else(|| match balancer {
                    Balancer::Random => picks.below(n),
                    _ => {
                        let i = (sc.cursor % n as u64) as usize;
                        sc.cursor = sc.cursor.wrapping_add(1);
                        i
                    }
                })
        };
        let mut i = pick(self, picks);
        let mut again = 0;
        while again < 5 && tried.contains(&self.healthy[i].ip) {
            i = pick(self, picks);
            again += 1;
        }
        Some(self.healthy[i])
    }

    /// Record a request to `healthy[..]` host `ip` that started at `now`
    /// and ends at `end` (least-request and circuit-breaker counts).
    pub fn sent(&mut self, ip: u32, end: SimTime, failed: bool, picks: &mut Stream) {
        self.inflight.push(Reverse(end));
        if let Some(i) = self.healthy.iter().position(|a| a.ip == ip) {
            self.lb.tried(&self.healthy, i, end, failed, picks);
        }
    }

    /// Would one more request overflow `max` requests in flight (503 UO)?
    pub fn overflows(&mut self, max: Option<u32>, now: SimTime) -> bool {
        while self.inflight.peek().is_some_and(|Reverse(t)| *t <= now) {
            self.inflight.pop();
        }
        max.is_some_and(|m| self.inflight.len() >= m as usize)
    }

    /// Feed the outlier detector: a request to `ip` at `now` failed (a 5xx
    /// or a local-origin failure, counted together as Envoy does unless
    /// told to split them) or succeeded. `hosts`: the cluster's size.
    pub fn outcome(
        &mut self,
        o: &OutlierDetection,
        ip: u32,
        failed: bool,
        now: SimTime,
        hosts: usize,
    ) {
        let k = match self.hosts.iter().position(|h| h.ip == ip) {
            Some(k) => k,
            None => {
                self.hosts.push(HostHealth {
                    ip,
                    consecutive: 0,
                    ejected_until: SimTime::ZERO,
                    ejections: 0,
                });
                self.hosts.len() - 1
            }
        };
        if !failed {
            self.hosts[k].consecutive = 0;
            return;
        }
        self.hosts[k].consecutive += 1;
        if self.hosts[k].consecutive < o.consecutive_errors || now < self.hosts[k].ejected_until {
            return;
        }
        // Envoy `DetectorImpl::ejectHost`: eject if the share ejected stays
        // within max_ejection_percent, or if nothing is ejected yet.
        let active = self.hosts.iter().filter(|h| now < h.ejected_until).count();
        let share = 100.0 * (active + 1) as f64 / hosts.max(1) as f64;
        if share > o.max_ejection_percent as f64 && active > 0 {
            return;
        }
        let h = &mut self.hosts[k];
        // The multiplier drops by one at each sweep the host was healthy.
        let healthy_sweeps = if h.ejections > 0 {
            now.since(h.ejected_until).as_ns() / o.interval.as_ns()
        } else {
            0
        };
        h.ejections = h.ejections.saturating_sub(healthy_sweeps as u32) + 1;
        let time = SimDuration(o.base_ejection_time.as_ns() * h.ejections as u64).min(MAX_EJECTION);
        // Un-ejected by the first interval sweep after the time is up.
        let up = now.plus(time).as_ns();
        let sweep = up.div_ceil(o.interval.as_ns()) * o.interval.as_ns();
        h.ejected_until = SimTime(sweep);
        h.consecutive = 0;
        self.next_change = SimTime::ZERO;
    }
}
