//! The client side of a run: resolving (the search walk and the resolver's
//! cache), background re-resolution, and the request path — pick an
//! address, dial it, let the pod serve it, classify the try, retry it.
//!
//! A request is one or more tries. Each try is decided when it starts: the
//! dial's verdict is known at once (`net`), and a pod with a capacity model
//! tells at admission when it will answer (`capacity`), so a try's outcome
//! and end are computed in one step and only a retry needs another event.
//! Tries are counted in the window in which they start; a request's final
//! outcome and latency in the window in which it was sent.

use std::cmp::Reverse;

use super::{Attempt, Event, Observer, World};
use crate::capacity::{self, Admission, PodQueue};
use crate::client::Conn;
use crate::cluster::{Addr, Owner, PodId};
use crate::dns::{self, Ask, Nameserver};
use crate::metrics::{Layer, Outcome};
use crate::net;
use crate::rng::Stream;
use crate::scenario::{Balancer, Capacity, Connections, Entry, Refresh, RetryOn, SearchStyle};
use crate::time::{SimDuration, SimTime};

/// Addresses a request remembers having tried (for `previous_hosts`).
const MAX_TRIED: usize = crate::scenario::defaults::MAX_RETRY_ATTEMPTS as usize + 1;

/// How many times a retry re-picks to avoid an address already tried
/// (Istio's `HostSelectionRetryMaxAttempts`, reference/balancing.md §7.2).
const HOST_SELECTION_RETRIES: u32 = 5;

/// A request between tries.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    client: u32,
    started: SimTime,
    /// Tries made so far.
    tries: u32,
    /// The pod IPs earlier tries dialled (the first `tries` entries).
    tried: [u32; MAX_TRIED],
    /// A sidecar retries where the app sent the request: (address, service).
    pinned: Option<(Addr, u32)>,
    /// The try went through a plain TCP passthrough: nothing retries it.
    passthrough: bool,
}

/// The pod-side state of a run: one queue per pod that has a capacity
/// model, created when the pod is first reached, and one service-time
/// stream per workload (`service/<namespace>/<name>`).
pub(super) struct Serving {
    /// Some workload has a capacity model (else every pod answers at once).
    any: bool,
    queues: Vec<Option<PodQueue>>,
    streams: Vec<Option<Stream>>,
}

impl Serving {
    pub(super) fn new(sc: &crate::scenario::Scenario) -> Serving {
        Serving {
            any: sc.statefulsets.iter().any(|s| s.capacity.is_some())
                || sc.deployments.iter().any(|d| d.capacity.is_some()),
            queues: Vec::new(),
            streams: Vec::new(),
        }
    }
}

/// Does `retry_on` cover a try that ended with `o`? (Envoy
/// `x-envoy-retry-on`: `5xx` includes connect failures and resets.)
pub fn retriable(retry_on: RetryOn, o: Outcome) -> bool {
    // A sidecar's 503 stands for the upstream connect failure it met (UF).
    let connect = matches!(
        o,
        Outcome::Refused | Outcome::Timeout | Outcome::Unreachable | Outcome::Upstream503
    );
    let reset = matches!(o, Outcome::Reset | Outcome::RequestTimeout);
    (retry_on.contains(RetryOn::CONNECT_FAILURE) && connect)
        || (retry_on.contains(RetryOn::REFUSED) && o == Outcome::Refused)
        || (retry_on.contains(RetryOn::RESET) && reset)
        || (retry_on.contains(RetryOn::STATUS_5XX)
            && (connect || reset || o == Outcome::Overloaded))
}

/// Envoy's fully jittered exponential back-off before retry `n` (1-based):
/// uniform in `[0, min((2^n − 1)·base, max))` (reference/balancing.md §6.9).
pub fn backoff(n: u32, base: SimDuration, max: SimDuration, unit: f64) -> SimDuration {
    let factor = (1u64 << n.min(62)) - 1;
    let ceiling = base.as_ns().saturating_mul(factor).min(max.as_ns());
    SimDuration((unit * ceiling as f64) as u64)
}

impl<'s, O: Observer> World<'s, '_, O> {
    /// Walk the client's candidate names, querying each (A, and AAAA when the
    /// resolver sends both), as its search style says (reference/dns.md §4):
    /// the first name with addresses wins; glibc goes on past NXDOMAIN and
    /// NODATA, musl stops at NODATA. `Err` carries the last negative TTL.
    fn walk(&mut self, c: u32, now: SimTime) -> Result<dns::Response, u64> {
        let group = self.clients[c as usize].group as usize;
        let plan = &self.plans[group];
        let cd = &mut self.metrics.client_dns[group];
        cd.lookups += 1;
        let mut negative_ttl_s = 0;
        for &name in &plan.candidates {
            // An injected pod's DNS proxy answers names istiod knows.
            if let Some(m) = &self.mesh
                && let Some(resp) =
                    m.dns_answer(group as u32, self.server.target(name), &self.cluster, now)
            {
                #[cfg(debug_assertions)]
                self.check_answer(&resp, now);
                return Ok(resp);
            }
            let asks: &[Ask] = if plan.resolver.aaaa {
                &[Ask::A, Ask::Aaaa]
            } else {
                &[Ask::A]
            };
            let mut found = None;
            let mut nxdomain = false;
            let mut servfail = false;
            for &ask in asks {
                cd.queries += 1;
                if plan.server == Nameserver::Upstream {
                    // The node's upstream knows no cluster names.
                    cd.upstream_queries += 1;
                    nxdomain = true;
                    continue;
                }
                let node = self.clients[c as usize].node;
                let resp = if self.nodes.enabled() {
                    self.nodes.query(
                        node,
                        name,
                        ask,
                        now,
                        &mut self.server,
                        &self.cluster,
                        self.shuffle.as_mut(),
                    )
                } else {
                    self.server.query(name, ask, now, &self.cluster)
                };
                nxdomain |= resp.data.rcode == dns::Rcode::NxDomain;
                servfail |= resp.data.rcode == dns::Rcode::ServFail;
                negative_ttl_s = resp.ttl_s;
                if ask == Ask::A && resp.has_addresses() {
                    found = Some(resp);
                }
            }
            if let Some(resp) = found {
                #[cfg(debug_assertions)]
                self.check_answer(&resp, now);
                return Ok(resp);
            }
            // musl: SERVFAIL (EAI_AGAIN) or NODATA (EAI_NODATA) ends the
            // lookup; NXDOMAIN moves on. glibc moves on past all three.
            if (servfail || !nxdomain) && plan.resolver.search == SearchStyle::Musl {
                break;
            }
        }
        cd.failed_lookups += 1;
        Err(negative_ttl_s)
    }

    /// Install a fresh answer in client `c`'s state.
    fn receive(&mut self, c: u32, resp: &dns::Response, now: SimTime) {
        let client = &mut self.clients[c as usize];
        client.addrs.clear();
        client.addrs.extend_from_slice(&resp.data.addrs);
        // The server's `loadbalance` shuffles every response; an answer from
        // a node cache keeps the order that cache stored.
        if resp.node_at.is_none()
            && let Some(s) = &mut self.shuffle
        {
            s.shuffle(&mut client.addrs);
        }
        let plan = &self.plans[client.group as usize];
        if let Some(sub) = plan.subset {
            crate::client::keep_subset(&mut client.addrs, sub, client.index, plan.subset_seed);
        }
        client.node_at = resp.node_at;
        client.svc = resp.data.svc.expect("address records belong to a service");
        client.received_at = now;
        client.built_at = resp.built_at;
        client.last_resolved = now;
        client.failed_resolutions = 0;
        if !matches!(client.lb, crate::lb::Lb::Inline) {
            let group = client.group as usize;
            let plan = &self.plans[group];
            let port = client
                .addrs
                .first()
                .map_or(0, |&a| plan.port_for(a, client.svc));
            client.lb.answer(
                plan.balancer,
                &client.addrs,
                port,
                &mut self.hash_tables[group],
                &mut client.picks,
            );
        }
    }

    /// Count a request that found no address to dial.
    fn no_address(&mut self, c: u32, group: u32, now: SimTime, try_index: u32) {
        self.metrics
            .attempt(now, group, Outcome::NoAddress, None, SimDuration::ZERO);
        self.observer.attempt(&Attempt {
            at: now,
            client: c,
            group,
            try_index,
            outcome: Outcome::NoAddress,
            stale: None,
            chosen: None,
            dialled: None,
            reached: None,
        });
    }

    /// A background re-resolution (Envoy's refresh timer, gRPC's ResolveNow).
    pub(super) fn refresh(&mut self, c: u32, now: SimTime) {
        self.clients[c as usize].refresh_pending = false;
        let refresh = self.plans[self.clients[c as usize].group as usize]
            .resolver
            .refresh;
        let result = self.walk(c, now);
        match result {
            Ok(resp) => {
                self.receive(c, &resp, now);
                let client = &mut self.clients[c as usize];
                client.cached = true;
                client.valid_until = SimTime::MAX;
            }
            Err(_) => {
                let client = &mut self.clients[c as usize];
                client.last_resolved = now;
                match refresh {
                    // Envoy: a successful resolution with no hosts empties the cluster.
                    Refresh::Every(_) => {
                        client.addrs.clear();
                        client.cached = false;
                    }
                    // gRPC keeps its last good addresses and retries with
                    // back-off (base 1 s, x1.6, at most 120 s; grpc-go
                    // backoff.DefaultConfig, without its ±20% jitter).
                    Refresh::OnFailure(_) => {
                        let k = client.failed_resolutions.min(20) as i32;
                        client.failed_resolutions += 1;
                        let secs = (1.6f64.powi(k)).min(120.0);
                        let at = now.plus(SimDuration((secs * 1e9) as u64));
                        client.refresh_pending = true;
                        if at < self.end {
                            self.queue.schedule(at, Event::Refresh(c));
                        }
                    }
                    Refresh::Lazy => {}
                }
            }
        }
        if let Refresh::Every(period) = refresh {
            let at = now.plus(period);
            self.clients[c as usize].refresh_pending = true;
            if at < self.end {
                self.queue.schedule(at, Event::Refresh(c));
            }
        }
    }

    /// A client sends a request: schedule its next one, then make the first try.
    #[inline]
    pub(super) fn request(&mut self, c: u32, now: SimTime) {
        let client = &mut self.clients[c as usize];
        let group = client.group;
        let plan = &self.plans[group as usize];
        let next = now.plus(client.next_gap(plan.mean_gap_ns));
        if next < self.end {
            self.queue.schedule(next, Event::Arrival(c));
        }
        self.metrics.request(now, group);
        // Requests in flight are counted only for a retry budget.
        if plan.retries.is_some_and(|r| r.budget.is_some())
            && let Some(r) = client.retry.as_mut()
        {
            r.settle(now);
            r.active_requests += 1;
        }
        let mut p = Pending {
            client: c,
            started: now,
            tries: 0,
            tried: [0; MAX_TRIED],
            pinned: None,
            passthrough: false,
        };
        self.next_try(&mut p, now);
    }

    /// A request's back-off ran out: its next try.
    pub(super) fn retry(&mut self, slot: u32, now: SimTime) {
        let mut p = self.pending[slot as usize];
        self.free_pending.push(slot);
        self.next_try(&mut p, now);
    }

    /// Make a try; then schedule a retry, or count the request as done.
    #[inline]
    fn next_try(&mut self, p: &mut Pending, now: SimTime) {
        let (outcome, end) = self.try_once(p, now);
        p.tries += 1;
        let c = p.client;
        let group = self.clients[c as usize].group;
        let plan = &self.plans[group as usize];
        let deadline = plan
            .request_timeout
            .map_or(SimTime::MAX, |t| p.started.plus(t));
        if let Some(r) = plan.retries
            && !p.passthrough
            && p.tries <= r.attempts
            && retriable(r.retry_on, outcome)
            && end < deadline
        {
            let state = self.clients[c as usize]
                .retry
                .as_mut()
                .expect("a client with a retry policy has retry state");
            state.settle(now);
            let first_retry = p.tries == 1;
            // Envoy's budget: retries in flight below max(min concurrency,
            // percent of requests in flight).
            let allowed = r.budget.is_none_or(|b| {
                let limit = (b.percent / 100.0 * state.active_requests as f64)
                    .max(b.min_concurrency as f64);
                (state.active_retries + first_retry as u32) as f64 <= limit
            });
            if allowed {
                let wait = backoff(p.tries, r.backoff_base, r.backoff_max, state.stream.unit());
                let at = end.plus(wait);
                if at < self.end && at < deadline {
                    if first_retry && r.budget.is_some() {
                        state.active_retries += 1;
                    }
                    let slot = match self.free_pending.pop() {
                        Some(s) => {
                            self.pending[s as usize] = *p;
                            s
                        }
                        None => {
                            self.pending.push(*p);
                            self.pending.len() as u32 - 1
                        }
                    };
                    self.queue.schedule(at, Event::Retry(slot));
                    return;
                }
            } else {
                self.metrics.retry_denied(group);
            }
        }
        if self.plans[group as usize]
            .retries
            .is_some_and(|r| r.budget.is_some())
            && let Some(state) = self.clients[c as usize].retry.as_mut()
        {
            state.ends.push(Reverse((end, p.tries > 1)));
        }
        let latency = (outcome == Outcome::Ok).then(|| end.since(p.started));
        self.metrics
            .request_done(p.started, group, outcome, latency);
    }

    /// The address a new connection for try `p` goes to: resolve (or use
    /// the cache) and pick. `None` when there was no address (already
    /// counted). Returns the address, its service and the index of the pick.
    fn resolve_pick(&mut self, p: &Pending, now: SimTime) -> Option<(Addr, u32, usize)> {
        let c = p.client;
        let client = &mut self.clients[c as usize];
        let group = client.group;
        let plan = &self.plans[group as usize];
        let resolver = plan.resolver;

        let from_cache = client.cache_valid(now);
        if from_cache {
            self.metrics.client_dns[group as usize].cache_hits += 1;
        } else if resolver.refresh != Refresh::Lazy || client.negative_valid(now) {
            // Background resolvers never resolve on the request path: no
            // hosts means no address. A remembered failure fails at once.
            if resolver.refresh == Refresh::Lazy {
                self.metrics.client_dns[group as usize].negative_cache_hits += 1;
            }
            self.no_address(c, group, now, p.tries);
            return None;
        } else {
            match self.walk(c, now) {
                Ok(resp) => {
                    self.receive(c, &resp, now);
                    self.clients[c as usize].hold(resolver.cache, now, resp.ttl_s);
                }
                Err(ttl_s) => {
                    let client = &mut self.clients[c as usize];
                    client.cached = false;
                    client.hold_failure(resolver.negative_cache, now, ttl_s);
                    self.no_address(c, group, now, p.tries);
                    return None;
                }
            }
        }
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[group as usize];
        let mut idx = match plan.balancer {
            // A smart client writes to the primary when the answer has it.
            Balancer::PreferOrdinal { ordinal } => {
                let pods = &self.cluster.pods;
                match client.addrs.iter().position(|a| {
                    a.pod != crate::cluster::NO_POD
                        && pods[a.pod as usize]
                            .ordinal()
                            .is_some_and(|(_, o)| o == ordinal)
                }) {
                    Some(i) => i,
                    None => client.pick(plan.balancer, now),
                }
            }
            b => client.pick(b, now),
        };
        // `previous_hosts`: re-pick a few times to avoid an address tried before.
        if p.tries > 0 && plan.retries.is_some_and(|r| r.previous_hosts) {
            let tried = &p.tried[..p.tries as usize];
            let mut n = 0;
            while n < HOST_SELECTION_RETRIES && tried.contains(&client.addrs[idx].ip) {
                idx = client.pick(plan.balancer, now);
                n += 1;
            }
        }
        Some((client.addrs[idx], client.svc, idx))
    }

    /// Client `c` dials `addr` of service `svc` itself (through kube-proxy
    /// for a VIP).
    #[inline]
    fn dial_direct(&mut self, c: u32, addr: Addr, svc: u32, now: SimTime) -> net::Dial {
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        let port = plan.port_for(addr, svc);
        let mut proxy = net::Proxy {
            state: &mut self.proxy,
            node: client.node,
            client: c,
            group: client.group,
            now,
            affinity: &mut client.affinity,
            picks: &mut client.picks,
        };
        net::dial(
            &self.cluster,
            addr,
            svc,
            port,
            plan.connect_timeout,
            &mut proxy,
        )
    }

    /// An outside client's connection through Service `svc`'s node port
    /// (on its own node) or load balancer (to a node it picks uniformly
    /// among those the balancer sends to).
    fn dial_from_outside(&mut self, c: u32, svc: u32, now: SimTime) -> net::Dial {
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        let node = match plan.entry {
            Entry::LoadBalancer => {
                let eligible = net::lb_nodes(&self.cluster, svc).count();
                if eligible == 0 {
                    // No healthy backend: the load balancer drops it.
                    return net::Dial {
                        outcome: Outcome::Timeout,
                        reached: None,
                        dialled: None,
                        via_vip: true,
                        wait: plan.connect_timeout,
                    };
                }
                let k = client.picks.below(eligible);
                net::lb_nodes(&self.cluster, svc)
                    .nth(k)
                    .expect("k is below the count")
            }
            _ => client.node,
        };
        let mut proxy = net::Proxy {
            state: &mut self.proxy,
            node,
            client: c,
            group: client.group,
            now,
            affinity: &mut client.affinity,
            picks: &mut client.picks,
        };
        net::dial_external(
            &self.cluster,
            svc,
            plan.vip_port[svc as usize],
            plan.connect_timeout,
            &mut proxy,
        )
    }

    /// An injected client sends to `addr`: its sidecar accepts, picks the
    /// upstream (the EDS view for a VIP, the address itself for a pod IP),
    /// and answers 503 when the upstream connection fails (`mesh`).
    fn sidecar_dial(&mut self, p: &mut Pending, addr: Addr, svc: u32, now: SimTime) -> net::Dial {
        let c = p.client;
        let mesh = self
            .mesh
            .as_ref()
            .expect("an injected client implies a mesh");
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        let port = plan.port_for(addr, svc);
        let rule = mesh.rules[svc as usize];
        let sidecar = client.sidecar.as_mut().expect("injected");
        let fail = |outcome| net::Dial {
            outcome,
            reached: None,
            dialled: None,
            via_vip: false,
            wait: SimDuration::ZERO,
        };
        // The circuit breaker: too many requests in flight ⇒ 503 UO.
        if sidecar.overflows(rule.and_then(|r| r.max_requests), now) {
            return fail(Outcome::Overloaded);
        }
        let via_vip = addr.pod == crate::cluster::NO_POD;
        // Plain TCP passthrough: a Service istiod does not know, or a pod IP
        // of a Service that is not headless (istiod builds per-address
        // listeners for headless Services only). Envoy proxies the bytes:
        // no retries, no mTLS, and an upstream failure closes the app's
        // connection (a reset, not a 503).
        let headless = self.sc.services[svc as usize].is_headless();
        if !mesh.known[svc as usize] || (!via_vip && !headless) {
            p.passthrough = true;
            let mut d = if via_vip {
                self.dial_direct(c, addr, svc, now)
            } else {
                let client = &self.clients[c as usize];
                let plan = &self.plans[client.group as usize];
                net::dial_pod(
                    &self.cluster,
                    addr,
                    svc,
                    port,
                    plan.connect_timeout,
                    client.group,
                )
            };
            let mesh = self.mesh.as_ref().expect("mesh");
            if let Some(pod) = d.reached
                && mesh.tls_mismatch(svc, false, mesh.pod_injected(&self.cluster, pod))
            {
                d.outcome = Outcome::Reset;
                d.reached = None;
            }
            if matches!(d.outcome, Outcome::Refused | Outcome::Unreachable) {
                d.outcome = Outcome::Reset;
            }
            return d;
        }
        let balancer = rule.map_or(Some(crate::scenario::mesh::DEFAULT_BALANCER), |r| {
            r.balancer
        });
        let target = match (via_vip, balancer) {
            (true, Some(b)) => {
                let tried = if plan.retries.is_some_and(|r| r.previous_hosts) {
                    &p.tried[..(p.tries as usize).min(MAX_TRIED)]
                } else {
                    &[]
                };
                match sidecar.pick(mesh, svc, b, client.group, c, now, &mut client.picks, tried) {
                    Some(a) => a,
                    // No healthy upstream: 503 UH.
                    None => return fail(Outcome::Upstream503),
                }
            }
            // PASSTHROUGH to a VIP: kube-proxy picks, as without a mesh.
            (true, None) => return self.dial_direct(c, addr, svc, now),
            // ORIGINAL_DST: the address the app dialled.
            (false, _) => addr,
        };
        let mut d = net::dial_pod(
            &self.cluster,
            target,
            svc,
            port,
            mesh.mesh.connect_timeout,
            client.group,
        );
        d.via_vip = via_vip;
        if let Some(pod) = d.reached
            && mesh.tls_mismatch(svc, true, mesh.pod_injected(&self.cluster, pod))
        {
            d.outcome = Outcome::Reset;
            d.reached = None;
        }
        // The app sees its sidecar's 503 (UF; URX once retries run out).
        if matches!(
            d.outcome,
            Outcome::Refused | Outcome::Timeout | Outcome::Unreachable | Outcome::Reset
        ) {
            d.outcome = Outcome::Upstream503;
        }
        d
    }

    /// One try of request `p`: find an address (from an open connection,
    /// the client's cache, or by resolving), pick one, dial it (itself,
    /// through kube-proxy, its sidecar, or from outside), let the pod serve
    /// it; classify and count the try. Returns its outcome and when the
    /// client knows it.
    #[inline]
    fn try_once(&mut self, p: &mut Pending, now: SimTime) -> (Outcome, SimTime) {
        let c = p.client;
        let group = self.clients[c as usize].group;
        let plan = &self.plans[group as usize];
        let pool = match plan.connections {
            Connections::Pool(pool) => Some(pool),
            Connections::PerRequest => None,
        };
        // A pooling client sends on an open connection when it has one free,
        // without asking DNS (HTTP clients pool by host name).
        let mut on_conn = None;
        if let Some(pool) = &pool {
            let client = &mut self.clients[c as usize];
            if client.expire_conns(now, pool).aged {
                self.connection_lost(c, now);
            }
            on_conn = self.clients[c as usize].usable_conn(now, pool);
        }
        let injected = self.clients[c as usize].sidecar.is_some();
        // Where the app sends the request: a sidecar's retry goes where the
        // first try went; else an open connection; else a new pick.
        let mut picked = None;
        let outside = self.plans[group as usize].entry != Entry::Pod;
        let (addr, svc) = match (p.pinned, on_conn) {
            // An outside client: no DNS, the Service's node port or LB.
            _ if outside => {
                let svc = self.plans[group as usize].entry_svc;
                let vip = self.cluster.services[svc as usize].vip.unwrap_or(0);
                (
                    Addr {
                        ip: vip,
                        pod: crate::cluster::NO_POD,
                    },
                    svc,
                )
            }
            (Some(pin), _) => pin,
            (None, Some(k)) => {
                let conn = &self.clients[c as usize].conns[k];
                (conn.addr, conn.svc)
            }
            (None, None) => match self.resolve_pick(p, now) {
                Some((addr, svc, idx)) => {
                    picked = Some(idx);
                    (addr, svc)
                }
                None => return (Outcome::NoAddress, now),
            },
        };
        let mut d = if outside {
            self.dial_from_outside(c, svc, now)
        } else if injected {
            p.pinned = Some((addr, svc));
            self.sidecar_dial(p, addr, svc, now)
        } else if let Some(k) = on_conn {
            let conn = self.clients[c as usize].conns[k];
            let plan = &self.plans[group as usize];
            let wait = plan.request_timeout.unwrap_or(plan.connect_timeout);
            let mut d =
                net::over_connection(&self.cluster, conn.backend, conn.svc, conn.port, wait);
            d.via_vip = conn.via_vip;
            d
        } else {
            self.dial_direct(c, addr, svc, now)
        };
        // Plain text into a sidecar that requires mTLS is reset.
        if !injected
            && let Some(mesh) = &self.mesh
            && let Some(pod) = d.reached
            && mesh.tls_mismatch(svc, false, mesh.pod_injected(&self.cluster, pod))
        {
            d.outcome = Outcome::Reset;
            d.reached = None;
        }
        let plan = &self.plans[group as usize];
        if (p.tries as usize) < MAX_TRIED {
            p.tried[p.tries as usize] = d.dialled.unwrap_or(addr).ip;
        }
        // The try's deadline: its own timeout, and the request's.
        let limit = plan
            .retries
            .and_then(|r| r.per_try_timeout)
            .map_or(SimTime::MAX, |t| now.plus(t))
            .min(
                plan.request_timeout
                    .map_or(SimTime::MAX, |t| p.started.plus(t)),
            );
        let mut outcome = d.outcome;
        let mut end = now.plus(d.wait).min(limit);
        if outcome == Outcome::Ok
            && let Some(pod) = d.reached
        {
            match self.serve(pod, now) {
                // Too late for the client's timeout; or never (a hung pod),
                // when a client without one waits its connect timeout, which
                // stands in for however long the application would wait.
                Some(Admission::Served { done }) if done > limit || done == SimTime::MAX => {
                    outcome = Outcome::RequestTimeout;
                    end = if limit < SimTime::MAX {
                        limit
                    } else {
                        now.plus(self.plans[group as usize].connect_timeout)
                    };
                }
                Some(Admission::Served { done }) => end = done,
                Some(Admission::Overloaded) => outcome = Outcome::Overloaded,
                None => {}
            }
        }
        let client = &self.clients[c as usize];
        // A stale-IP error: a failed dial to a pod address that was not, at
        // that instant, a ready endpoint of the target. (A VIP that kube-proxy
        // rejects for want of endpoints handed out no stale address.)
        let stale = match d.dialled {
            Some(dialled)
                if outcome.is_failed_dial() && !self.cluster.is_endpoint_ip(svc, dialled.ip) =>
            {
                Some(if on_conn.is_some() {
                    // The connection outlived the pod's time as an endpoint.
                    Layer::PooledConnection
                } else if d.via_vip {
                    // kube-proxy chose from a view that had not caught up.
                    Layer::Propagation
                } else {
                    let stale_since = self.cluster.pods[dialled.pod as usize].deleted_at;
                    attribute(
                        stale_since,
                        client.received_at,
                        client.node_at,
                        client.built_at,
                    )
                })
            }
            _ => None,
        };
        self.metrics.attempt(now, group, outcome, stale, d.wait);
        let attempt = Attempt {
            at: now,
            client: c,
            group,
            try_index: p.tries,
            outcome,
            stale,
            chosen: Some(addr),
            dialled: d.dialled,
            reached: d.reached,
        };
        #[cfg(debug_assertions)]
        self.check_attempt(&attempt);
        self.observer.attempt(&attempt);
        if outcome == Outcome::Ok
            && let Some(pod) = d.reached
        {
            let pod = &self.cluster.pods[pod as usize];
            self.metrics.ok_at(pod.identity);
            if self.sc.cluster.zones > 1
                && self.cluster.zone_of_node(pod.node)
                    != self.cluster.zone_of_node(self.clients[c as usize].node)
            {
                self.metrics.cross_zone(group);
            }
        }
        // IPVS lc counts this connection on its node until it closes (a
        // per-request connection: when the answer comes).
        if self.sc.cluster.kube_proxy == crate::scenario::ProxyMode::IpvsLeastConn
            && d.via_vip
            && on_conn.is_none()
            && let Some(ep) = d.dialled
        {
            let node = self.clients[c as usize].node;
            self.proxy.opened(node, svc, ep.ip, end);
        }
        // Behind a sidecar the app sees a 503, not a lost connection, so a
        // gRPC client does not re-resolve (istio #49391).
        if outcome.is_failed_dial() && !injected {
            self.connection_lost(c, now);
        }
        if let Some(i) = picked
            && !matches!(self.clients[c as usize].lb, crate::lb::Lb::Inline)
        {
            let client = &mut self.clients[c as usize];
            client.lb.tried(
                &client.addrs,
                i,
                end,
                outcome.is_failed_dial(),
                &mut client.picks,
            );
        }
        if injected {
            self.sidecar_saw(c, svc, d.dialled, outcome, now, end);
        }
        if let Some(pool) = &pool {
            let client = &mut self.clients[c as usize];
            // The app's connection to its sidecar never fails upstream.
            let broke = outcome.is_failed_dial() && !injected;
            match on_conn {
                Some(k) => client.used_conn(k, end, broke, pool),
                // A new connection joins the pool if there is room (else it
                // is closed after this request).
                None if (d.reached.is_some() || injected)
                    && p.tries == 0
                    && client.conns.len() < pool.max_idle as usize =>
                {
                    let closes_at = pool.max_age.map_or(SimTime::MAX, |age| {
                        let j = pool.max_age_jitter * (2.0 * client.picks.unit() - 1.0);
                        now.plus(SimDuration((age.as_ns() as f64 * (1.0 + j)) as u64))
                    });
                    client.conns.push(Conn {
                        addr,
                        backend: d.dialled.unwrap_or(addr),
                        via_vip: d.via_vip,
                        svc,
                        port: self.plans[group as usize].port_for(addr, svc),
                        closes_at,
                        busy_until: end,
                        last_used: end,
                        requests: 1,
                    });
                }
                None => {}
            }
        }
        (outcome, end)
    }

    /// Tell client `c`'s sidecar how a request to `dialled` went: its
    /// circuit breaker and balancer count it, its outlier detector judges
    /// the host (5xx and local-origin failures together).
    fn sidecar_saw(
        &mut self,
        c: u32,
        svc: u32,
        dialled: Option<Addr>,
        outcome: Outcome,
        now: SimTime,
        end: SimTime,
    ) {
        let Some(mesh) = &self.mesh else { return };
        let client = &mut self.clients[c as usize];
        let Some(sidecar) = client.sidecar.as_mut() else {
            return;
        };
        let failed = matches!(
            outcome,
            Outcome::Upstream503 | Outcome::Overloaded | Outcome::Reset | Outcome::RequestTimeout
        );
        let Some(a) = dialled else { return };
        sidecar.sent(a.ip, end, failed, &mut client.picks);
        if let Some(o) = mesh.rules[svc as usize].and_then(|r| r.outlier.as_ref()) {
            let hosts = mesh.views[svc as usize].0.len();
            sidecar.outcome(o, a.ip, failed, now, hosts);
        }
    }

    /// Client `c` lost a connection (it failed, or the server closed it):
    /// gRPC asks its resolver to re-resolve (`ResolveNow`), no sooner than
    /// the minimum interval after the last (reference/balancing.md §8).
    fn connection_lost(&mut self, c: u32, now: SimTime) {
        let group = self.clients[c as usize].group;
        if let Refresh::OnFailure(min_interval) = self.plans[group as usize].resolver.refresh
            && !self.clients[c as usize].refresh_pending
        {
            let client = &mut self.clients[c as usize];
            client.refresh_pending = true;
            let at = now.max(client.last_resolved.plus(min_interval));
            if at < self.end {
                self.queue.schedule(at, Event::Refresh(c));
            }
        }
    }

    /// Hand a request that reached `pod` at `now` to the pod's workers;
    /// `None` when the pod has no capacity model (it answers at once). A
    /// hung pod is served never (`done` is `SimTime::MAX`).
    #[inline]
    fn serve(&mut self, pod: PodId, now: SimTime) -> Option<Admission> {
        // A hung container accepts and never answers.
        if self.cluster.pods[pod as usize].hung_since.is_some() {
            return Some(Admission::Served { done: SimTime::MAX });
        }
        if !self.serving.any {
            return None;
        }
        let (slot, cap, namespace, name) = self.capacity_of(pod)?;
        let s = &mut self.serving;
        if s.queues.len() <= pod as usize {
            s.queues.resize(pod as usize + 1, None);
        }
        if s.streams.len() <= slot {
            s.streams.resize(slot + 1, None);
        }
        let stream = s.streams[slot].get_or_insert_with(|| {
            Stream::derive(self.seed, &format!("service/{namespace}/{name}"), 0)
        });
        let service = capacity::draw(&cap.service_time, stream);
        let q = s.queues[pod as usize].get_or_insert_with(|| PodQueue::new(cap));
        Some(q.admit(now, service))
    }

    /// The capacity model of `pod`'s workload: (stream slot, model, namespace, name).
    fn capacity_of(&self, pod: PodId) -> Option<(usize, &'s Capacity, &'s str, &'s str)> {
        let sc = self.sc;
        match self.cluster.pods[pod as usize].owner {
            Owner::StatefulSet { sts, .. } => {
                let st = &sc.statefulsets[sts as usize];
                Some((sts as usize, st.capacity.as_ref()?, &st.namespace, &st.name))
            }
            Owner::Deployment { dep, .. } => {
                let d = &sc.deployments[dep as usize];
                Some((
                    sc.statefulsets.len() + dep as usize,
                    d.capacity.as_ref()?,
                    &d.namespace,
                    &d.name,
                ))
            }
            _ => None,
        }
    }
}

/// Which layer handed out an address that stopped being a ready endpoint at
/// `stale_since`: the layer that held it across that instant. An answer is
/// built by the server at `built_at` (when it was cached there, or made),
/// stored by the node cache at `node_at` (if it passed through one) and
/// received by the client at `received_at`; so the client cache if the change
/// came after the client received it, else the node cache if after the node
/// stored it, else the server cache if after the server built it, else
/// propagation (the server built its answer from a view that had not seen
/// the change).
pub fn attribute(
    stale_since: Option<SimTime>,
    received_at: SimTime,
    node_at: Option<SimTime>,
    built_at: SimTime,
) -> Layer {
    match stale_since {
        Some(t) if t > received_at => Layer::ClientCache,
        Some(t) if node_at.is_some_and(|n| t > n) => Layer::NodeCache,
        Some(t) if t > built_at => Layer::ServerCache,
        _ => Layer::Propagation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_address_is_blamed_on_the_layer_that_held_it_across_the_change() {
        let t = SimTime;
        // (deleted at, client received at, node stored at, server built at) -> layer
        let cases = [
            // Fresh when the client cached it at 10, pod deleted at 20.
            (20, 10, None, 5, Layer::ClientCache),
            // Client resolved at 25; the server cache had built it at 15.
            (20, 25, None, 15, Layer::ServerCache),
            // The node cache stored it at 22 from the server's cache (built
            // at 15): already stale when the node got it, so the server's.
            (20, 25, Some(22), 15, Layer::ServerCache),
            // The node cache stored it at 19; it went stale in that cache.
            (20, 25, Some(19), 15, Layer::NodeCache),
            // The server built the answer at 21, after the deletion.
            (20, 21, None, 21, Layer::Propagation),
        ];
        for (deleted, received, node, built, layer) in cases {
            assert_eq!(
                attribute(Some(t(deleted)), t(received), node.map(t), t(built)),
                layer,
                "deleted {deleted}, received {received}, node {node:?}, built {built}"
            );
        }
    }
}
