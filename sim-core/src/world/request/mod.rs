//! The request path of a run: a client sends a request, and each try goes
//! pick → dial → admit → classify. `World` owns the event loop and hands
//! this module the parts of the run it needs ([`Env`]); the state only the
//! request path touches ([`Requests`]: client state, group plans, requests
//! waiting to retry, pod queues, kube-proxy state) lives here.
//!
//! * [`resolve`]: the resolver — the search walk ([`crate::dns::search`]),
//!   the client's cache, background re-resolution — and the balancer's pick;
//! * [`dial`]: the connection (direct, through kube-proxy, through a
//!   sidecar, from outside the cluster);
//! * [`admit`]: the pod's workers and queue (capacity);
//! * [`classify`]: retry rules, back-off, and which layer a stale address
//!   is blamed on.
//!
//! A request is one or more tries. Each try is decided when it starts: the
//! dial's verdict is known at once (`net`), and a pod with a capacity model
//! tells at admission when it will answer (`capacity`), so a try's outcome
//! and end are computed in one step and only a retry needs another event.
//! Tries are counted in the window in which they start; a request's final
//! outcome and latency in the window in which it was sent.

mod admit;
mod arrivals;
mod classify;
mod dial;
mod resolve;

use std::cmp::Reverse;

pub use classify::{attribute, backoff, retriable};

use super::{Attempt, Event, Observer};
use crate::capacity::Admission;
use crate::client::{Client, Conn, GroupPlan};
use crate::cluster::{Addr, Cluster};
use crate::dns::{NodeCaches, Server};
use crate::engine::Queue;
use crate::mesh::MeshRun;
use crate::metrics::{Layer, Metrics, Outcome};
use crate::net;
use crate::rng::Stream;
use crate::scenario::{Connections, Entry, Scenario};
use crate::time::{SimDuration, SimTime};

pub(super) use admit::Serving;

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
    /// Where the pinned address came from: the client's answer as it was
    /// at the first try (received, stored by the node cache, built), for
    /// blaming a stale retry on the right layer after the client has
    /// re-resolved in between.
    pinned_from: (SimTime, Option<SimTime>, SimTime),
    /// The try went through a plain TCP passthrough: nothing retries it.
    passthrough: bool,
}

/// The state only the request path touches.
pub(super) struct Requests {
    pub plans: Vec<GroupPlan>,
    pub clients: Vec<Client>,
    /// Requests waiting to retry, by slot; free slots are reused.
    pending: Vec<Pending>,
    free_pending: Vec<u32>,
    /// Pods' workers and queues.
    serving: Serving,
    /// Ring-hash and Maglev tables per client group.
    hash_tables: Vec<crate::lb::HashTables>,
    /// kube-proxy's per-node state (IPVS cursors and connection counts).
    proxy: net::KubeProxy,
    /// The DNS server's `loadbalance` shuffle (`dns/shuffle`), when on.
    shuffle: Option<Stream>,
    /// When each client sends next.
    pub arrivals: arrivals::Arrivals,
}

/// The parts of the run the request path borrows from `World` for one
/// event: what it reads (scenario, cluster, mesh), what it queries (DNS),
/// what it counts into (metrics, observer) and where it schedules retries
/// and re-resolutions (the queue, up to `end`).
pub(super) struct Env<'a, 's, O> {
    pub sc: &'s Scenario,
    pub cluster: &'a Cluster<'s>,
    pub server: &'a mut Server,
    pub nodes: &'a mut NodeCaches,
    pub mesh: Option<&'a MeshRun<'s>>,
    pub metrics: &'a mut Metrics,
    pub queue: &'a mut Queue<Event>,
    pub observer: &'a mut O,
    pub end: SimTime,
}

impl Requests {
    pub(super) fn new(sc: &Scenario, seed: u64, plans: Vec<GroupPlan>, clients: usize) -> Requests {
        Requests {
            plans,
            clients: Vec::with_capacity(clients),
            pending: Vec::new(),
            free_pending: Vec::new(),
            serving: Serving::new(sc, seed),
            hash_tables: (0..sc.clients.len())
                .map(|_| crate::lb::HashTables::default())
                .collect(),
            proxy: net::KubeProxy::new(sc.cluster.nodes, sc.services.len()),
            shuffle: sc
                .dns
                .shuffle
                .then(|| Stream::derive(seed, "dns/shuffle", 0)),
            arrivals: arrivals::Arrivals::new(clients),
        }
    }

    /// Requests waiting to retry now.
    #[cfg(debug_assertions)]
    pub(super) fn waiting(&self) -> usize {
        self.pending.len() - self.free_pending.len()
    }

    /// A client sends a request: schedule its next one, then make the first try.
    #[inline]
    pub(in crate::world) fn send<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        now: SimTime,
    ) {
        let client = &mut self.clients[c as usize];
        let group = client.group;
        let plan = &self.plans[group as usize];
        let next = now.plus(client.next_gap(plan.mean_gap_ns));
        if next < env.end {
            self.arrivals.schedule(c, next.as_ns());
        }
        env.metrics.request(now, group);
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
            pinned_from: (SimTime::ZERO, None, SimTime::ZERO),
            passthrough: false,
        };
        self.next_try(env, &mut p, now);
    }

    /// A request's back-off ran out: its next try.
    pub(in crate::world) fn retry<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        slot: u32,
        now: SimTime,
    ) {
        let mut p = self.pending[slot as usize];
        self.free_pending.push(slot);
        self.next_try(env, &mut p, now);
    }

    /// Make a try; then schedule a retry, or count the request as done.
    #[inline]
    fn next_try<O: Observer>(&mut self, env: &mut Env<'_, '_, O>, p: &mut Pending, now: SimTime) {
        let (outcome, end) = self.try_once(env, p, now);
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
                if at < env.end && at < deadline {
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
                    env.queue.schedule(at, Event::Retry(slot));
                    return;
                }
            } else {
                env.metrics.retry_denied(group);
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
        env.metrics.request_done(p.started, group, outcome, latency);
    }

    /// One try of request `p`: find an address (from an open connection,
    /// the client's cache, or by resolving), pick one, dial it (itself,
    /// through kube-proxy, its sidecar, or from outside), let the pod serve
    /// it; classify and count the try. Returns its outcome and when the
    /// client knows it.
    #[inline]
    fn try_once<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        p: &mut Pending,
        now: SimTime,
    ) -> (Outcome, SimTime) {
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
                self.connection_lost(env, c, now);
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
                let vip = env.cluster.services[svc as usize].vip.unwrap_or(0);
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
            (None, None) => match self.resolve_pick(env, p, now) {
                Some((addr, svc, idx)) => {
                    picked = Some(idx);
                    (addr, svc)
                }
                None => return (Outcome::NoAddress, now),
            },
        };
        let mut d = if outside {
            self.dial_from_outside(env, c, svc, now)
        } else if injected {
            if p.pinned.is_none() {
                let client = &self.clients[c as usize];
                p.pinned_from = (client.received_at, client.node_at, client.built_at);
            }
            p.pinned = Some((addr, svc));
            self.sidecar_dial(env, p, addr, svc, now)
        } else if let Some(k) = on_conn {
            let conn = self.clients[c as usize].conns[k];
            let plan = &self.plans[group as usize];
            let wait = plan.request_timeout.unwrap_or(plan.connect_timeout);
            let mut d = net::over_connection(env.cluster, conn.backend, conn.svc, conn.port, wait);
            d.via_vip = conn.via_vip;
            d
        } else {
            self.dial_direct(env, c, addr, svc, now)
        };
        // Plain text into a sidecar that requires mTLS is reset.
        if !injected
            && let Some(mesh) = env.mesh
            && let Some(pod) = d.reached
            && mesh.tls_mismatch(svc, false, mesh.pod_injected(env.cluster, pod))
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
            match self.serving.serve(env.cluster, pod, now) {
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
                if outcome.is_failed_dial() && !env.cluster.is_endpoint_ip(svc, dialled.ip) =>
            {
                Some(if on_conn.is_some() {
                    // The connection outlived the pod's time as an endpoint.
                    Layer::PooledConnection
                } else if d.via_vip {
                    // kube-proxy chose from a view that had not caught up.
                    Layer::Propagation
                } else {
                    let stale_since = env.cluster.pods[dialled.pod as usize].deleted_at;
                    let (received_at, node_at, built_at) = if p.pinned.is_some() {
                        p.pinned_from
                    } else {
                        (client.received_at, client.node_at, client.built_at)
                    };
                    attribute(stale_since, received_at, node_at, built_at)
                })
            }
            _ => None,
        };
        env.metrics.attempt(now, group, outcome, stale, d.wait);
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
        super::invariants::check_attempt(env.cluster, &attempt);
        env.observer.attempt(&attempt);
        if outcome == Outcome::Ok
            && let Some(pod) = d.reached
        {
            let pod = &env.cluster.pods[pod as usize];
            env.metrics.ok_at(pod.identity);
            if env.sc.cluster.zones > 1
                && env.cluster.zone_of_node(pod.node)
                    != env.cluster.zone_of_node(self.clients[c as usize].node)
            {
                env.metrics.cross_zone(group);
            }
        }
        // IPVS lc counts this connection on its node until it closes (a
        // per-request connection: when the answer comes).
        if env.sc.cluster.kube_proxy == crate::scenario::ProxyMode::IpvsLeastConn
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
            self.connection_lost(env, c, now);
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
        if injected && let Some(mesh) = env.mesh {
            self.sidecar_saw(mesh, c, svc, d.dialled, outcome, now..end);
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
}
