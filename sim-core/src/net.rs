//! What answers when a client dials an address *at that instant*: a pod, a
//! refusing port, a Service VIP (through kube-proxy), or nothing.
//!
//! Rules (reference/dns.md §5, reference/balancing.md §5):
//! * pod IP held by a pod listening on the port: `ok` if the pod belongs to the
//!   target service, else `wrong_backend` (the IP was reused);
//! * pod IP held by a pod not listening (starting, exited): RST ⇒ `refused`;
//! * nobody holds the IP: `timeout` (dropped, the connect timeout fires) or
//!   `unreachable` after the node's delay, per `cluster.unassigned_ip`;
//! * a NetworkPolicy denies the connection (`netpol`): dropped ⇒ `timeout`,
//!   whatever holds the address (for a VIP: judged at the endpoint chosen);
//! * a ClusterIP VIP: kube-proxy picks one endpoint of its view uniformly per
//!   connection (iptables/nftables); with no ready endpoint it falls back to
//!   serving-terminating ones; none at all ⇒ REJECT ⇒ `refused` at once.
//!
//! Owns the dial verdict; not the choice of address (see `client`).

use crate::cluster::{Addr, Cluster, NO_POD, PodId};
use crate::metrics::Outcome;
use crate::rng::Stream;
use crate::scenario::{ProxyMode, UnassignedIp};
use crate::time::{SimDuration, SimTime};

/// The verdict of one dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dial {
    pub outcome: Outcome,
    /// The pod that accepted the connection (for `ok` and `wrong_backend`).
    pub reached: Option<PodId>,
    /// The pod address actually dialled (after kube-proxy for a VIP); `None`
    /// when kube-proxy rejected a VIP that has no endpoints.
    pub dialled: Option<Addr>,
    /// Whether the address went through kube-proxy.
    pub via_vip: bool,
    /// How long the client waited for a failure (zero for RSTs and successes).
    pub wait: SimDuration,
}

/// Dial `addr:port` on behalf of a client of service `svc`.
/// `pod_port` is the port a pod must listen on (the target port behind a VIP).
#[inline]
pub fn dial(
    cluster: &Cluster,
    addr: Addr,
    svc: u32,
    pod_port: u16,
    connect_timeout: SimDuration,
    proxy: &mut Proxy<'_>,
) -> Dial {
    if addr.pod != NO_POD {
        return dial_pod(cluster, addr, svc, pod_port, connect_timeout, proxy.group);
    }
    let pool = proxy_pool(cluster, svc);
    if pool.is_empty() {
        return Dial {
            outcome: Outcome::Refused,
            reached: None,
            dialled: None,
            via_vip: true,
            wait: SimDuration::ZERO,
        };
    }
    // internalTrafficPolicy: Local: only endpoints on the client's node;
    // none there ⇒ the packet is dropped.
    let local: Vec<Addr>;
    let pool: &[Addr] = if cluster.sc.services[svc as usize].local_traffic {
        local = on_node(cluster, pool, proxy.node);
        if local.is_empty() {
            return Dial {
                outcome: Outcome::Timeout,
                reached: None,
                dialled: None,
                via_vip: true,
                wait: connect_timeout,
            };
        }
        &local
    } else {
        pool
    };
    // trafficDistribution: PreferClose: the EndpointSlice controller hints
    // each endpoint for its own zone; kube-proxy uses the endpoints hinted
    // for the client's zone when there are any, else all of them
    // (pkg/proxy/topology.go).
    let near: Vec<Addr>;
    let pool: &[Addr] = if cluster.sc.services[svc as usize].prefer_close {
        let zone = cluster.zone_of_node(proxy.node);
        near = pool
            .iter()
            .copied()
            .filter(|a| cluster.zone_of_node(cluster.pods[a.pod as usize].node) == zone)
            .collect();
        if near.is_empty() { pool } else { &near }
    } else {
        pool
    };
    let ep = proxy.pick(cluster, svc, pool);
    let mut d = dial_pod(cluster, ep, svc, pod_port, connect_timeout, proxy.group);
    d.via_vip = true;
    d
}

/// An outside client's connection to NodePort/LoadBalancer Service `svc`
/// entering at `node` (its own node for `node_port`; for a load balancer,
/// the caller's pick among the nodes it sends to, see [`lb_nodes`]).
/// kube-proxy on that node picks an endpoint: any of the Service's with
/// `externalTrafficPolicy: Cluster`, only the node's own with `Local`
/// (none there: the packet is dropped). A failed node answers nothing.
pub fn dial_external(
    cluster: &Cluster,
    svc: u32,
    pod_port: u16,
    connect_timeout: SimDuration,
    proxy: &mut Proxy<'_>,
) -> Dial {
    let dropped = Dial {
        outcome: Outcome::Timeout,
        reached: None,
        dialled: None,
        via_vip: true,
        wait: connect_timeout,
    };
    if cluster.nodes[proxy.node as usize].failed_at.is_some() {
        return dropped;
    }
    let pool = proxy_pool(cluster, svc);
    let local: Vec<Addr>;
    let pool: &[Addr] = if cluster.sc.services[svc as usize]
        .external
        .is_some_and(|x| x.local)
    {
        local = on_node(cluster, pool, proxy.node);
        &local
    } else {
        pool
    };
    if pool.is_empty() {
        // No endpoint at all: REJECT for Cluster; Local: dropped.
        return if cluster.sc.services[svc as usize]
            .external
            .is_some_and(|x| x.local)
        {
            dropped
        } else {
            Dial {
                outcome: Outcome::Refused,
                wait: SimDuration::ZERO,
                ..dropped
            }
        };
    }
    let ep = proxy.pick(cluster, svc, pool);
    let mut d = dial_pod(cluster, ep, svc, pod_port, connect_timeout, proxy.group);
    d.via_vip = true;
    d
}

/// The nodes a cloud load balancer sends Service `svc`'s connections to:
/// every node that is up with `externalTrafficPolicy: Cluster`; with
/// `Local`, those whose health check (`healthCheckNodePort`) passes, i.e.
/// that have a ready local endpoint. The health check's own delay is not
/// modelled.
pub fn lb_nodes<'c>(cluster: &'c Cluster<'_>, svc: u32) -> impl Iterator<Item = u32> + 'c {
    let local = cluster.sc.services[svc as usize]
        .external
        .is_some_and(|x| x.local);
    let view = &cluster.services[svc as usize].view;
    (0..cluster.nodes.len() as u32).filter(move |&n| {
        cluster.nodes[n as usize].failed_at.is_none()
            && (!local
                || view
                    .endpoints
                    .iter()
                    .any(|a| cluster.pods[a.pod as usize].node == n))
    })
}

/// The endpoints kube-proxy balances Service `svc` over: the ready ones; with
/// none, the serving-terminating ones (`pkg/proxy/topology.go`), which may
/// be none too.
fn proxy_pool<'c>(cluster: &'c Cluster, svc: u32) -> &'c [Addr] {
    let view = &cluster.services[svc as usize].view;
    if view.endpoints.is_empty() {
        &view.serving_terminating
    } else {
        &view.endpoints
    }
}

/// Those of `pool` on node `node`.
fn on_node(cluster: &Cluster, pool: &[Addr], node: u32) -> Vec<Addr> {
    pool.iter()
        .copied()
        .filter(|a| cluster.pods[a.pod as usize].node == node)
        .collect()
}

/// kube-proxy state across the run: IPVS round-robin cursors, one per node
/// and Service.
pub struct KubeProxy {
    services: usize,
    rr: Vec<u32>,
    /// IPVS `lc`: per node and Service, the connections open through it
    /// (pod IP, when it closes); pruned as time passes.
    open: Vec<Vec<(u32, SimTime)>>,
}

impl KubeProxy {
    pub fn new(nodes: u32, services: usize) -> KubeProxy {
        KubeProxy {
            services,
            rr: vec![0; nodes.max(1) as usize * services],
            open: Vec::new(),
        }
    }

    /// A connection through node `node`'s proxy to `ip` of Service `svc`
    /// stays open until `until` (IPVS `lc` counts it meanwhile).
    pub fn opened(&mut self, node: u32, svc: u32, ip: u32, until: SimTime) {
        let i = node as usize * self.services + svc as usize;
        if self.open.len() <= i {
            self.open.resize(i + 1, Vec::new());
        }
        self.open[i].push((ip, until));
    }
}

/// One connection's view of kube-proxy: the node's proxy state and the
/// client's own (its affinities, its random stream).
pub struct Proxy<'a> {
    pub state: &'a mut KubeProxy,
    pub node: u32,
    /// The client, standing for its source IP (IPVS `sh`).
    pub client: u32,
    /// The client's group, whose labels NetworkPolicies select.
    pub group: u32,
    pub now: SimTime,
    /// `sessionAffinity: ClientIP` memory: (service, endpoint, last used).
    pub affinity: &'a mut Vec<(u32, Addr, SimTime)>,
    pub picks: &'a mut Stream,
}

impl Proxy<'_> {
    /// The endpoint of `pool` (non-empty) this connection goes to.
    fn pick(&mut self, cluster: &Cluster, svc: u32, pool: &[Addr]) -> Addr {
        let timeout = cluster.sc.services[svc as usize].session_affinity;
        if let Some(t) = timeout
            && let Some(entry) = self.affinity.iter_mut().find(|e| e.0 == svc)
            && entry.2.plus(t) > self.now
            && pool.contains(&entry.1)
        {
            entry.2 = self.now;
            return entry.1;
        }
        let ep = match cluster.sc.cluster.kube_proxy {
            ProxyMode::Iptables | ProxyMode::Nftables => pool[self.picks.below(pool.len())],
            ProxyMode::IpvsRoundRobin => {
                let i = self.node as usize * self.state.services + svc as usize;
                let cursor = &mut self.state.rr[i];
                let ep = pool[*cursor as usize % pool.len()];
                *cursor = cursor.wrapping_add(1);
                ep
            }
            ProxyMode::IpvsLeastConn => {
                // ip_vs_lc: the destination with the least overhead
                // (active connections), the first one on a tie.
                let i = self.node as usize * self.state.services + svc as usize;
                let now = self.now;
                let open = self.state.open.get_mut(i);
                let open: &[(u32, SimTime)] = match open {
                    Some(v) => {
                        v.retain(|&(_, until)| until > now);
                        v
                    }
                    None => &[],
                };
                *pool
                    .iter()
                    .min_by_key(|a| open.iter().filter(|(ip, _)| *ip == a.ip).count())
                    .expect("the pool is not empty")
            }
            ProxyMode::IpvsSourceHash => {
                let mut h = self.client as u64;
                pool[(crate::rng::splitmix64(&mut h) % pool.len() as u64) as usize]
            }
        };
        if timeout.is_some() {
            self.affinity.retain(|e| e.0 != svc);
            self.affinity.push((svc, ep, self.now));
        }
        ep
    }
}

/// A request sent on an established connection to pod address `backend`
/// (reached at `port` when the connection opened). Conntrack keeps the flow
/// whatever the endpoints say (reference/balancing.md §5): the pod answers
/// while it listens; once its process exited, or another pod took the
/// address, the kernel answers RST (`reset`); if nothing holds the address
/// the request hangs, and `dark_wait` (the client's timeout) ends it.
#[inline]
pub fn over_connection(
    cluster: &Cluster,
    backend: Addr,
    svc: u32,
    port: u16,
    dark_wait: SimDuration,
) -> Dial {
    let holder = cluster
        .ipam
        .holder(backend.ip)
        .filter(|&p| cluster.pods[p as usize].lost_at.is_none());
    let (outcome, reached, wait) = match holder {
        None => (Outcome::Timeout, None, dark_wait),
        Some(p) if p == backend.pod && cluster.listens(p, port) => {
            if cluster.member(svc, p) {
                (Outcome::Ok, Some(p), SimDuration::ZERO)
            } else {
                (Outcome::WrongBackend, Some(p), SimDuration::ZERO)
            }
        }
        Some(_) => (Outcome::Reset, None, SimDuration::ZERO),
    };
    Dial {
        outcome,
        reached,
        dialled: Some(backend),
        via_vip: false,
        wait,
    }
}

/// Dial a pod address directly (no kube-proxy) from client group `group`:
/// what holds it at that instant answers, if NetworkPolicy lets it.
#[inline]
pub fn dial_pod(
    cluster: &Cluster,
    addr: Addr,
    svc: u32,
    port: u16,
    connect_timeout: SimDuration,
    group: u32,
) -> Dial {
    // A pod on a failed node answers nothing, like an address nobody holds.
    let holder = cluster
        .ipam
        .holder(addr.ip)
        .filter(|&p| cluster.pods[p as usize].lost_at.is_none());
    // Denied by a NetworkPolicy: the packets are dropped.
    let allowed = match holder {
        Some(p) => {
            let pod = &cluster.pods[p as usize];
            cluster.netpol.allows_pod(group, pod.owner, pod.ip, port)
        }
        None => cluster.netpol.allows_ip(group, addr.ip, port),
    };
    let (outcome, reached, wait) = match holder {
        _ if !allowed => (Outcome::Timeout, None, connect_timeout),
        None => match cluster.sc.cluster.unassigned_ip {
            UnassignedIp::Timeout => (Outcome::Timeout, None, connect_timeout),
            UnassignedIp::Unreachable(after) if after < connect_timeout => {
                (Outcome::Unreachable, None, after)
            }
            UnassignedIp::Unreachable(_) => (Outcome::Timeout, None, connect_timeout),
        },
        Some(p) => {
            if !cluster.listens(p, port) {
                (Outcome::Refused, None, SimDuration::ZERO)
            } else if cluster.member(svc, p) {
                (Outcome::Ok, Some(p), SimDuration::ZERO)
            } else {
                (Outcome::WrongBackend, Some(p), SimDuration::ZERO)
            }
        }
    };
    Dial {
        outcome,
        reached,
        dialled: Some(addr),
        via_vip: false,
        wait,
    }
}
