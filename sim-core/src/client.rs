//! Clients: open-loop Poisson workloads, their resolver cache, and the
//! balancer that picks one address from an answer.
//!
//! Every client starts at t = 0 with an empty cache. How it resolves is its
//! group's [`Resolver`] (a profile, reference/dns.md §4): lazily when a
//! request finds no usable answer (getaddrinfo-style libraries, with or
//! without a cache), on a timer (Envoy STRICT_DNS), or at start and after
//! connection failures (gRPC). Owns per-client state and the plan shared by a
//! group; not the dial verdict (see `net`) nor the walk's queries (`world`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::cluster::Addr;
use crate::dns::{self, NameId, Nameserver};
use crate::rng::Stream;
use crate::scenario::{
    Balancer, ClientGroup, Connections, NegativeCache, Pool, PortRef, Resolver, ResolverCache,
    Retries, Scenario, Service,
};
use crate::time::{NS_PER_S, SimDuration, SimTime};

/// What a whole group shares, computed once at setup.
pub struct GroupPlan {
    /// Interned query names, in the order the resolver tries them.
    pub candidates: Vec<NameId>,
    /// Where the queries go.
    pub server: Nameserver,
    /// Per service: the port a pod must listen on when the answer is a pod IP
    /// (0: the group's port names no port of that service).
    pub direct_port: Vec<u16>,
    /// Per service: the target port behind the VIP (0: not a service port).
    pub vip_port: Vec<u16>,
    pub resolver: Resolver,
    pub balancer: Balancer,
    pub connect_timeout: SimDuration,
    pub request_timeout: Option<SimDuration>,
    pub retries: Option<Retries>,
    pub connections: Connections,
    pub subset: Option<crate::scenario::Subset>,
    /// The group's subsetting seed (set with the run's seed).
    pub subset_seed: u64,
    /// Outside clients: how they enter, and the Service they reach.
    pub entry: crate::scenario::Entry,
    pub entry_svc: u32,
    /// Mean inter-arrival time per client, ns.
    pub mean_gap_ns: f64,
}

impl GroupPlan {
    pub fn new(
        g: &ClientGroup,
        sc: &Scenario,
        candidates: Vec<NameId>,
        server: Nameserver,
    ) -> GroupPlan {
        let direct_port = sc
            .services
            .iter()
            .map(|s| direct_port(&g.target.port, s))
            .collect();
        let vip_port = sc
            .services
            .iter()
            .map(|s| vip_port(&g.target.port, s))
            .collect();
        GroupPlan {
            candidates,
            server,
            direct_port,
            vip_port,
            resolver: g.resolver,
            balancer: g.balancer,
            connect_timeout: g.connect_timeout,
            request_timeout: g.request_timeout,
            retries: g.retries,
            connections: g.connections,
            subset: g.subset,
            subset_seed: 0,
            entry: g.entry,
            entry_svc: 0,
            mean_gap_ns: NS_PER_S as f64 / g.rate,
        }
    }
}

impl GroupPlan {
    /// The port a pod serves when the client dials `addr` for service `svc`:
    /// the target port behind a VIP, else the port the group names.
    #[inline]
    pub fn port_for(&self, addr: Addr, svc: u32) -> u16 {
        if addr.pod == crate::cluster::NO_POD {
            self.vip_port[svc as usize]
        } else {
            self.direct_port[svc as usize]
        }
    }
}

/// A pod IP from DNS is dialled at the number given, or at the `targetPort`
/// of the service port with that name (the port SRV records would carry).
pub fn direct_port(port: &PortRef, svc: &Service) -> u16 {
    match port {
        PortRef::Number(n) => *n,
        PortRef::Name(name) => svc
            .ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .map_or(0, |p| p.target_port),
    }
}

/// A VIP is dialled at a service port; kube-proxy forwards to its `targetPort`.
pub fn vip_port(port: &PortRef, svc: &Service) -> u16 {
    svc.ports
        .iter()
        .find(|p| match port {
            PortRef::Number(n) => p.port == *n,
            PortRef::Name(name) => p.name.as_deref() == Some(name),
        })
        .map_or(0, |p| p.target_port)
}

/// One client's state.
pub struct Client {
    pub group: u32,
    /// Its index within the group.
    pub index: u32,
    pub arrivals: Stream,
    /// Draws for the balancer and for kube-proxy's per-connection pick.
    pub picks: Stream,
    pub cursor: u64,
    /// The cached answer (addresses in the order the client received them).
    pub addrs: Vec<Addr>,
    pub svc: u32,
    /// Whether `addrs` may be used until `valid_until` (lazy refresh) or
    /// until replaced (timer and on-failure refresh).
    pub cached: bool,
    pub valid_until: SimTime,
    /// Failed lookups are answered from the negative cache until then.
    pub negative_until: SimTime,
    pub received_at: SimTime,
    pub built_at: SimTime,
    /// When the node cache stored the answer, if it came through one.
    pub node_at: Option<SimTime>,
    /// The node this client's pod runs on.
    pub node: u32,
    /// kube-proxy `sessionAffinity: ClientIP` memory: (service, endpoint, last used).
    pub affinity: Vec<(u32, Addr, SimTime)>,
    /// A timer or on-failure re-resolution is scheduled.
    pub refresh_pending: bool,
    /// When this client last resolved (for the on-failure minimum interval).
    pub last_resolved: SimTime,
    /// Consecutive failed re-resolutions (gRPC back-off exponent).
    pub failed_resolutions: u32,
    /// Retry bookkeeping, for a client whose group retries.
    pub retry: Option<Box<RetryState>>,
    /// Open keep-alive connections (a pooling client's), oldest first.
    pub conns: Vec<Conn>,
    /// Balancer state beyond the cursor (least-request, hashing, gRPC).
    pub lb: crate::lb::Lb,
    /// Its Istio sidecar, when injected.
    pub sidecar: Option<Box<crate::mesh::Sidecar>>,
}

/// One established keep-alive connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn {
    /// The pod address it reached (after kube-proxy, for a VIP: conntrack
    /// keeps the flow on that pod even after it leaves the endpoints).
    pub backend: Addr,
    /// The address the client dialled (a pod IP, or a Service VIP).
    pub addr: Addr,
    /// That address was a Service VIP.
    pub via_vip: bool,
    pub svc: u32,
    /// The port the pod serves it on.
    pub port: u16,
    /// Closed at this instant (max connection age), or `SimTime::MAX`.
    pub closes_at: SimTime,
    /// HTTP/1.1: carrying a request until then.
    pub busy_until: SimTime,
    pub last_used: SimTime,
    pub requests: u32,
}

/// Why connections left a pool at a visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Closed {
    /// Closed by the server for age (GOAWAY): a connection loss to the client.
    pub aged: bool,
}

impl Client {
    /// Close the connections that are idle too long or too old at `now`.
    pub fn expire_conns(&mut self, now: SimTime, pool: &Pool) -> Closed {
        let mut closed = Closed::default();
        self.conns.retain(|c| {
            if now >= c.closes_at && c.busy_until <= now {
                closed.aged = true;
                return false;
            }
            !(c.busy_until <= now && now.since(c.last_used) >= pool.idle_timeout)
        });
        closed
    }

    /// The connection a new request goes on: the most recently used one
    /// free to carry it (Go's transport takes the newest idle connection).
    pub fn usable_conn(&self, now: SimTime, pool: &Pool) -> Option<usize> {
        self.conns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                now < c.closes_at
                    && (pool.http2 || c.busy_until <= now)
                    && (pool.max_requests == 0 || c.requests < pool.max_requests)
            })
            .max_by_key(|(i, c)| (c.last_used, *i))
            .map(|(i, _)| i)
    }

    /// A request on connection `k` ended at `end` (`failed`: the connection broke).
    pub fn used_conn(&mut self, k: usize, end: SimTime, failed: bool, pool: &Pool) {
        let c = &mut self.conns[k];
        c.requests += 1;
        c.last_used = c.last_used.max(end);
        c.busy_until = c.busy_until.max(end);
        if failed || (pool.max_requests != 0 && c.requests >= pool.max_requests) {
            self.conns.remove(k);
        }
    }
}

/// A retrying client's draws and its requests in flight (for the retry budget).
pub struct RetryState {
    /// Back-off draws (`client/<ns>/<group>/retries` #index).
    pub stream: Stream,
    /// Requests sent and not yet answered.
    pub active_requests: u32,
    /// Of those, requests that have been retried.
    pub active_retries: u32,
    /// When each request whose last try is decided ends, and whether it was
    /// retried: popped as time passes them.
    pub ends: BinaryHeap<Reverse<(SimTime, bool)>>,
}

impl RetryState {
    /// Forget the requests that have ended by `now`.
    pub fn settle(&mut self, now: SimTime) {
        while let Some(&Reverse((t, retried))) = self.ends.peek() {
            if t > now {
                break;
            }
            self.ends.pop();
            self.active_requests -= 1;
            self.active_retries -= retried as u32;
        }
    }
}

impl Client {
    /// Client `index` of group `g`; `retrying`: its requests may be retried
    /// (by itself or its sidecar); `injected`: it has a sidecar.
    pub fn new(
        seed: u64,
        g: &ClientGroup,
        group: u32,
        index: u32,
        retrying: bool,
        injected: bool,
    ) -> Client {
        let base = format!("client/{}/{}", g.namespace, g.name);
        let mut picks = Stream::derive(seed, &format!("{base}/picks"), index as u64);
        // Envoy seeds its round-robin cursor at random (reference §6.1).
        let cursor = match g.balancer {
            Balancer::RoundRobin { random_start: true } => picks.next_u64(),
            _ => 0,
        };
        let lb = crate::lb::Lb::new(g.balancer, index, &mut picks);
        let sidecar = injected.then(|| Box::new(crate::mesh::Sidecar::new(index, &mut picks)));
        Client {
            group,
            index,
            arrivals: Stream::derive(seed, &format!("{base}/arrivals"), index as u64),
            picks,
            cursor,
            addrs: Vec::new(),
            svc: 0,
            cached: false,
            valid_until: SimTime::ZERO,
            negative_until: SimTime::ZERO,
            received_at: SimTime::ZERO,
            built_at: SimTime::ZERO,
            node_at: None,
            node: 0,
            affinity: Vec::new(),
            refresh_pending: false,
            last_resolved: SimTime::ZERO,
            failed_resolutions: 0,
            retry: retrying.then(|| {
                Box::new(RetryState {
                    stream: Stream::derive(seed, &format!("{base}/retries"), index as u64),
                    active_requests: 0,
                    active_retries: 0,
                    ends: BinaryHeap::new(),
                })
            }),
            conns: Vec::new(),
            sidecar,
            lb,
        }
    }

    /// Keep `addrs` (just received at `now` with `ttl_s`) as `cache` says.
    pub fn hold(&mut self, cache: ResolverCache, now: SimTime, ttl_s: u64) {
        let ttl = dns::secs(ttl_s);
        let (cached, until) = match cache {
            ResolverCache::None => (false, now),
            ResolverCache::Fixed(d) => (true, now.plus(d)),
            ResolverCache::Ttl => (ttl_s > 0, now.plus(ttl)),
            ResolverCache::TtlMax(max) => (ttl_s > 0, now.plus(ttl.min(max))),
        };
        self.cached = cached;
        self.valid_until = until;
    }

    /// Remember a failed lookup (whose last negative answer had `ttl_s`).
    pub fn hold_failure(&mut self, negative: NegativeCache, now: SimTime, ttl_s: u64) {
        self.negative_until = match negative {
            NegativeCache::None => now,
            NegativeCache::Fixed(d) => now.plus(d),
            NegativeCache::Ttl => now.plus(dns::secs(ttl_s)),
        };
    }

    /// Is a failed lookup remembered at `now`?
    #[inline]
    pub fn negative_valid(&self, now: SimTime) -> bool {
        now < self.negative_until
    }

    /// Time to this client's next request.
    #[inline]
    pub fn next_gap(&mut self, mean_gap_ns: f64) -> SimDuration {
        SimDuration((self.arrivals.exp1() * mean_gap_ns).round() as u64)
    }

    /// Is the cached answer usable at `now`?
    #[inline]
    pub fn cache_valid(&self, now: SimTime) -> bool {
        self.cached && now < self.valid_until
    }

    /// Index into `addrs` chosen by the balancer at `now` (`addrs` is
    /// non-empty). `prefer-ordinal` is decided by the caller, which knows
    /// the pods; here it is round robin.
    #[inline]
    pub fn pick(&mut self, balancer: Balancer, now: SimTime) -> usize {
        let n = self.addrs.len();
        if !matches!(self.lb, crate::lb::Lb::Inline)
            && let Some(i) = self.lb.pick(&self.addrs, now, &mut self.picks)
        {
            return i;
        }
        match balancer {
            Balancer::First => 0,
            Balancer::Random => self.picks.below(n),
            // Round robin, and the fallback of a stateful policy with
            // nothing to pick (e.g. pick_first after every address failed).
            _ => {
                let i = (self.cursor % n as u64) as usize;
                self.cursor = self.cursor.wrapping_add(1);
                i
            }
        }
    }
}

/// Keep the `subset.size` addresses of `addrs` client `index` (of a group
/// seeded `seed`) uses, in answer order.
pub fn keep_subset(addrs: &mut Vec<Addr>, subset: crate::scenario::Subset, index: u32, seed: u64) {
    let k = subset.size as usize;
    if addrs.len() <= k {
        return;
    }
    let keep: Vec<u32> = if subset.deterministic {
        let mut ips: Vec<u32> = addrs.iter().map(|a| a.ip).collect();
        ips.sort_unstable();
        crate::balance::deterministic_subset(ips.len(), index as u64, k, seed)
            .into_iter()
            .map(|i| ips[i])
            .collect()
    } else {
        // Rendezvous: the k addresses whose hash with this client is highest.
        let mut ranked: Vec<(u64, u32)> = addrs
            .iter()
            .map(|a| {
                let mut h = ((index as u64) << 32) ^ a.ip as u64 ^ seed;
                (crate::rng::splitmix64(&mut h), a.ip)
            })
            .collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        ranked.into_iter().take(k).map(|(_, ip)| ip).collect()
    };
    addrs.retain(|a| keep.contains(&a.ip));
}
