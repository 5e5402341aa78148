//! One run: wires the cluster, DNS, clients and metrics to the event queue
//! and dispatches events until the scenario's duration.
//!
//! Owns the event vocabulary and the run loop; the request path (resolve →
//! pick → dial → admit → classify) is [`request`]'s, which borrows what it
//! needs from here for each event; the model's rules live in `dns`,
//! `client`, `net`, `cluster`.
//! The run covers `[0, duration)`: an event at exactly `duration` does not run.

#[cfg(debug_assertions)]
pub(crate) mod invariants;
mod request;

pub use request::{attribute, backoff, retriable};

use crate::client::{Client, GroupPlan};
use crate::cluster::{Addr, Cluster, Follow, IpamExhausted, Note, Owner, PodId};
use crate::dns::{self, Server};
use crate::engine::Queue;
use crate::metrics::{Layer, Metrics, Outcome};
use crate::rng::Stream;
use crate::scenario::{Action, Lifetime, Refresh, Scenario};
use crate::time::{SimDuration, SimTime};
use request::{Env, Requests};

/// Everything that can happen. Small and `Copy`: indices, not data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Client `n` sends a request. (Arrivals wait in the request path's
    /// own timing wheel, not in the general queue; the run loop hands them
    /// out as events, in the order `run_until` documents.)
    Arrival(u32),
    PodReady(PodId),
    /// A pod's churn lifetime ran out: delete it.
    ChurnDelete(PodId),
    PodExit(PodId),
    PodGone(PodId),
    /// Service `n`'s oldest pending endpoint snapshot reaches DNS and kube-proxy.
    Propagate(u32),
    /// Timeline entry `n` of the scenario.
    Timeline(u32),
    /// Client `n` re-resolves in the background (timer or on-failure refresh).
    Refresh(u32),
    /// StatefulSet `n`'s controller syncs again.
    Reconcile(u32),
    /// Deployment `n`'s controller syncs again.
    ReconcileDeployment(u32),
    /// Node `n` failed 40 s ago: its pods are marked not Ready.
    NodeNotReady(u32),
    /// Pod `n`'s crash-looping container crashes again.
    Crash(PodId),
    /// Recorded change `n` of the replayed pod traces.
    Trace(u32),
    /// Node `n`'s pods are evicted.
    NodeEvict(u32),
    /// Pending request `n` (a slot of the world's pending table) tries again.
    Retry(u32),
    /// istiod pushes service `n`'s endpoints to the sidecars.
    MeshPush(u32),
    /// Pod `n`'s readiness probe failed its threshold.
    ReadinessFailed(PodId),
    /// Pod `n`'s liveness probe failed its threshold.
    LivenessFailed(PodId),
}

// Events fill the queue's hot path: keep each one a tag and a u32.
const _: () = assert!(std::mem::size_of::<Event>() == 8);

/// A run could not complete (the scenario asked for something impossible).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub path: String,
    pub message: String,
}

impl From<IpamExhausted> for RunError {
    fn from(e: IpamExhausted) -> Self {
        RunError {
            path: "cluster.ipam.pod_cidr".into(),
            message: match e.reuse {
                crate::scenario::IpReuse::Never => format!(
                    "at {} the pod CIDR {} ran out of addresses (reuse policy `never` hands out each of its {} addresses once)",
                    e.at,
                    e.cidr,
                    e.cidr.usable()
                ),
                other => format!(
                    "at {} the pod CIDR {} had no free address (reuse policy `{other}`)",
                    e.at, e.cidr
                ),
            },
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for RunError {}

/// What a finished run leaves behind, for the report.
pub struct RunOutput<'s> {
    pub metrics: Metrics,
    pub cluster: Cluster<'s>,
    pub dns: dns::ServerStats,
    pub node_dns: dns::NodeStats,
    /// Services some client group can reach (for skew over identities).
    pub targeted_services: Vec<u32>,
    /// Timeline entries that found nothing to act on.
    pub warnings: Vec<String>,
    pub events_processed: u64,
}

/// One attempt as it happened, for an [`Observer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub at: SimTime,
    /// Index of the client (in group order, then client order within the group).
    pub client: u32,
    pub group: u32,
    /// 0 for a request's first try, n for its n-th retry.
    pub try_index: u32,
    pub outcome: Outcome,
    /// Set when this was a stale-IP error: the layer that handed out the address.
    pub stale: Option<Layer>,
    /// The address the client chose from its answer (a pod IP, or a Service
    /// VIP); `None` when resolution gave no address (`no_address`).
    pub chosen: Option<Addr>,
    /// The pod address finally dialled (after kube-proxy for a VIP; equal to
    /// `chosen` otherwise). `None` when there was no address or a VIP rejected.
    pub dialled: Option<Addr>,
    /// The pod that accepted the connection (`ok`, `wrong_backend`, and an
    /// `overloaded` or `request_timeout` try that a pod accepted).
    pub reached: Option<PodId>,
}

/// Sees every attempt of a run as it happens. The run calls it inline, so a
/// no-op observer ([`NoObserver`]) costs nothing; an observer that keeps what
/// it sees makes memory grow with requests, so the CLI only uses one when the
/// user asks for per-attempt detail.
pub trait Observer {
    /// Whether this observer wants [`Observer::lifecycle`] events (recording
    /// them costs a little; attempts are always offered).
    const LIFECYCLE: bool = false;
    /// Whether this observer wants [`Observer::event`] calls, one per event
    /// the loop dispatches (the determinism checker's log).
    const EVENTS: bool = false;
    fn attempt(&mut self, _a: &Attempt) {}
    fn lifecycle(&mut self, _e: &Lifecycle) {}
    /// An event about to be handled at `at` (only when [`Observer::EVENTS`]).
    fn event(&mut self, _at: SimTime, _ev: &Event) {}
}

/// One lifecycle event, as `ksim run --events-out` writes it (one JSON
/// object per line).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lifecycle {
    pub t_ns: u64,
    /// `pod_created`, `ip_assigned`, `pod_listening`, `pod_ready`,
    /// `pod_terminating`, `pod_exited`, `pod_gone`, `ip_released`,
    /// `endpoints_changed`, `dns_answer_changed`.
    pub kind: &'static str,
    /// The pod (`web-3`, `ns/web-3`) or the Service (`ns/name`).
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// For `endpoints_changed`: the ready endpoints DNS and kube-proxy now see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<String>>,
}

/// The observer of an ordinary run: sees nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

struct World<'s, 'o, O: Observer> {
    sc: &'s Scenario,
    observer: &'o mut O,
    end: SimTime,
    queue: Queue<Event>,
    cluster: Cluster<'s>,
    server: Server,
    nodes: dns::NodeCaches,
    /// The request path's own state (clients, plans, retries, pod queues).
    req: Requests,
    metrics: Metrics,
    /// Lifetime streams per StatefulSet, per ordinal (created on first use).
    churn: Vec<Vec<Stream>>,
    /// The replayed traces' changes: (traced pod, change), by event index.
    /// A flat copy so `Event::Trace` carries one u32 and every event stays
    /// 8 bytes in the queue (a (pod, step) pair would widen them all).
    trace_steps: Vec<(u32, crate::scenario::trace::Step)>,
    /// The Istio mesh, when the scenario has one (set up at start).
    mesh: Option<crate::mesh::MeshRun<'s>>,
    warnings: Vec<String>,
    seed: u64,
    /// Test hook (see [`run_perturbed`]): the index of the event to delay.
    perturb: Option<u64>,
}

/// Run `sc` with `seed` and report windows of `window`.
pub fn run(sc: &Scenario, seed: u64, window: SimDuration) -> Result<RunOutput<'_>, RunError> {
    run_observed(sc, seed, window, &mut NoObserver)
}

/// [`run`], telling `observer` about every attempt as it happens.
pub fn run_observed<'s, O: Observer>(
    sc: &'s Scenario,
    seed: u64,
    window: SimDuration,
    observer: &mut O,
) -> Result<RunOutput<'s>, RunError> {
    run_perturbed(sc, seed, window, observer, None)
}

/// [`run_observed`] with injected nondeterminism, for testing the
/// determinism checker: when `perturb` is `Some(n)` and the observer records
/// events ([`Observer::EVENTS`]), the `n`-th event (0-based) is put back 1 ns
/// later instead of being handled, as a scheduling bug would do. Not for
/// anything but tests.
#[doc(hidden)]
pub fn run_perturbed<'s, O: Observer>(
    sc: &'s Scenario,
    seed: u64,
    window: SimDuration,
    observer: &mut O,
    perturb: Option<u64>,
) -> Result<RunOutput<'s>, RunError> {
    let (mut w, targeted) = World::new(sc, seed, window, observer);
    w.perturb = perturb;
    w.start()?;
    let processed = w.run_until(w.end)?;
    Ok(RunOutput {
        metrics: w.metrics,
        cluster: w.cluster,
        dns: w.server.stats,
        node_dns: w.nodes.stats,
        targeted_services: targeted,
        warnings: w.warnings,
        events_processed: processed,
    })
}

/// A run stopped at an instant, every cache as the traffic left it (for
/// `ksim dns`).
pub struct Frozen<'s> {
    pub at: SimTime,
    pub cluster: Cluster<'s>,
    pub server: Server,
    pub nodes: dns::NodeCaches,
    pub clients: Vec<Client>,
    pub plans: Vec<GroupPlan>,
}

/// Run `sc` with `seed` through every event at or before `at`, and stop.
pub fn freeze(sc: &Scenario, seed: u64, at: SimTime) -> Result<Frozen<'_>, RunError> {
    let mut none = NoObserver;
    let (mut w, _) = World::new(sc, seed, crate::scenario::defaults::WINDOW, &mut none);
    w.start()?;
    w.run_until(at.plus(SimDuration(1)).min(w.end))?;
    Ok(Frozen {
        at,
        cluster: w.cluster,
        server: w.server,
        nodes: w.nodes,
        clients: w.req.clients,
        plans: w.req.plans,
    })
}

impl<'s, 'o, O: Observer> World<'s, 'o, O> {
    /// The world at t = 0 before anything is scheduled, and the services
    /// some client group can reach.
    fn new(
        sc: &'s Scenario,
        seed: u64,
        window: SimDuration,
        observer: &'o mut O,
    ) -> (World<'s, 'o, O>, Vec<u32>) {
        let mut server = Server::new(&sc.dns);
        let mut plans = Vec::new();
        let mut targeted = Vec::new();
        let mut unresolvable = Vec::new();
        for g in &sc.clients {
            let path = dns::SearchPath::of(
                g.dns_policy,
                &g.dns_config,
                &g.namespace,
                &sc.cluster.domain,
            );
            let candidates: Vec<_> = path
                .candidates(&g.target.host, g.resolver.search)
                .iter()
                .map(|q| server.intern(q, sc))
                .collect();
            for &c in &candidates {
                if let Some(s) = server.target(c).service()
                    && !targeted.contains(&s)
                {
                    targeted.push(s);
                }
            }
            let mut plan = GroupPlan::new(g, sc, candidates, path.server);
            if !plan
                .candidates
                .iter()
                .any(|&c| server.target(c).service().is_some())
            {
                unresolvable.push(format!(
                    "clients `{}` target `{}` is under another cluster domain than `{}`: every lookup fails",
                    g.name, g.target, sc.cluster.domain
                ));
            }
            // One subsetting seed per group, from the run's.
            let mut h = seed ^ (plans.len() as u64).rotate_left(17);
            plan.subset_seed = crate::rng::splitmix64(&mut h);
            plan.entry_svc = plan
                .candidates
                .iter()
                .find_map(|&c| server.target(c).service())
                .unwrap_or(0);
            plans.push(plan);
        }
        targeted.sort_unstable();
        let total_clients: usize = sc.clients.iter().map(|g| g.count as usize).sum();
        let mut cluster = Cluster::new(sc);
        if O::LIFECYCLE {
            cluster.notes = Some(Vec::new());
        }
        let w = World {
            sc,
            observer,
            end: SimTime(sc.duration.as_ns()),
            queue: Queue::with_capacity(total_clients + 64),
            cluster,
            nodes: dns::NodeCaches::new(&sc.dns.node_local, sc.cluster.nodes, server.names()),
            server,
            req: Requests::new(sc, seed, plans, total_clients),
            metrics: Metrics::new(sc.duration, window, sc.clients.len()),
            churn: vec![Vec::new(); sc.statefulsets.len() + sc.deployments.len()],
            trace_steps: Vec::new(),
            mesh: None,
            warnings: unresolvable,
            seed,
            perturb: None,
        };
        (w, targeted)
    }

    /// Dispatch every event before `until`; returns how many ran.
    ///
    /// Two sources feed the loop: the general queue (lifecycle events,
    /// timers, retries, re-resolutions; `(time, scheduling order)`, see
    /// `engine`) and the clients' arrivals (`(time, client index)`, see
    /// `request::arrivals`). The earlier goes first; **at the same instant
    /// the general event goes first**: every general event due at `t` —
    /// including one scheduled at `t` by a request sent at `t` — runs
    /// before the next request sent at `t`. So a pod deleted at `t` is gone
    /// for a request at `t`, as a retry or re-resolution due at `t` is done.
    fn run_until(&mut self, until: SimTime) -> Result<u64, RunError> {
        let mut processed = 0u64;
        loop {
            let general = self.queue.peek_time();
            let arrival = self.req.arrivals.peek().map(SimTime);
            let (now, ev) = match (arrival, general) {
                (Some(a), g) if g.is_none_or(|g| a < g) => {
                    if a >= until {
                        break;
                    }
                    let (t, c) = self.req.arrivals.pop().expect("peeked");
                    (SimTime(t), Event::Arrival(c))
                }
                (_, Some(g)) if g < until => self.queue.pop().expect("peeked"),
                _ => break,
            };
            if O::EVENTS {
                if self.perturb == Some(processed) {
                    self.perturb = None;
                    match ev {
                        Event::Arrival(c) => self.req.arrivals.schedule(c, now.as_ns() + 1),
                        _ => self.queue.schedule(now.plus(SimDuration(1)), ev),
                    }
                    continue;
                }
                self.observer.event(now, &ev);
            }
            processed += 1;
            self.handle(now, ev)?;
            #[cfg(debug_assertions)]
            self.check_invariants(now);
        }
        Ok(processed)
    }
}

impl<'s, O: Observer> World<'s, '_, O> {
    fn start(&mut self) -> Result<(), RunError> {
        self.cluster.start()?;
        if let Some(mesh) = &self.sc.mesh {
            let run = crate::mesh::MeshRun::new(self.sc, mesh, &self.cluster);
            // An injected client's requests are retried by its sidecar
            // (Istio's default policy) unless the client has its own.
            for (gi, plan) in self.req.plans.iter_mut().enumerate() {
                if run.injected_groups[gi] && plan.retries.is_none() {
                    plan.retries = Some(mesh.retries);
                }
            }
            self.mesh = Some(run);
        }
        // Pods that are Ready at t = 0 start their churn clocks now.
        for p in 0..self.cluster.pods.len() as PodId {
            if self.cluster.pods[p as usize].is_ready() {
                self.arm_churn(p, SimTime::ZERO);
            }
        }
        self.flush_follow();
        self.flush_notes();
        for (n, pod) in self.sc.traced_pods.iter().enumerate() {
            for &(at, step) in &pod.steps {
                let at = SimTime(at.as_ns());
                if at < self.end {
                    self.queue
                        .schedule(at, Event::Trace(self.trace_steps.len() as u32));
                    self.trace_steps.push((n as u32, step));
                }
            }
        }
        for (i, e) in self.sc.events.iter().enumerate() {
            self.queue
                .schedule(SimTime(e.at.as_ns()), Event::Timeline(i as u32));
        }
        for (gi, g) in self.sc.clients.iter().enumerate() {
            for i in 0..g.count {
                let injected = self.mesh.as_ref().is_some_and(|m| m.injected_groups[gi]);
                let retrying = self.req.plans[gi].retries.is_some();
                let mut c = Client::new(self.seed, g, gi as u32, i, retrying, injected);
                c.node = self.req.clients.len() as u32 % self.sc.cluster.nodes;
                let first = SimTime::ZERO.plus(c.next_gap(self.req.plans[gi].mean_gap_ns));
                let id = self.req.clients.len() as u32;
                self.req.clients.push(c);
                // Background resolvers resolve once at start, before any request.
                if self.req.plans[gi].resolver.refresh != Refresh::Lazy {
                    self.req.clients[id as usize].refresh_pending = true;
                    self.queue.schedule(SimTime::ZERO, Event::Refresh(id));
                }
                if first < self.end {
                    self.req.arrivals.schedule(id, first.as_ns());
                }
            }
        }
        Ok(())
    }

    /// Hand the cluster's recorded changes to the observer.
    fn flush_notes(&mut self) {
        let Some(notes) = self.cluster.notes.as_mut() else {
            return;
        };
        let notes = std::mem::take(notes);
        let c = &self.cluster;
        let ip_of = |p: PodId| Some(crate::scenario::fmt_ipv4(c.pods[p as usize].ip));
        for (at, n) in notes {
            let pod = |kind: &'static str, p: PodId| Lifecycle {
                t_ns: at.as_ns(),
                kind,
                object: c.pod_display_name(p),
                ip: ip_of(p),
                endpoints: None,
            };
            let events = match n {
                Note::PodCreated(p) => vec![pod("pod_created", p), pod("ip_assigned", p)],
                Note::PodReady(p) => vec![pod("pod_listening", p), pod("pod_ready", p)],
                Note::PodTerminating(p) => vec![pod("pod_terminating", p)],
                Note::PodExited(p) => vec![pod("pod_exited", p)],
                Note::PodGone(p) => vec![pod("pod_gone", p), pod("ip_released", p)],
                Note::EndpointsChanged { svc, ready } => {
                    let s = &self.sc.services[svc as usize];
                    let ips: Vec<String> = c.services[svc as usize]
                        .view
                        .endpoints
                        .iter()
                        .map(|a| crate::scenario::fmt_ipv4(a.ip))
                        .collect();
                    let event = |kind| Lifecycle {
                        t_ns: at.as_ns(),
                        kind,
                        object: format!("{}/{}", s.namespace, s.name),
                        ip: None,
                        endpoints: Some(ips.clone()),
                    };
                    // A headless Service's name answers its endpoints: the
                    // authoritative answer changes with them (caches may
                    // serve the old one until their entries expire).
                    if ready && s.is_headless() {
                        vec![event("endpoints_changed"), event("dns_answer_changed")]
                    } else {
                        vec![event("endpoints_changed")]
                    }
                }
            };
            for e in &events {
                self.observer.lifecycle(e);
            }
        }
    }

    fn flush_follow(&mut self) {
        for f in self.cluster.follow.drain(..) {
            let (at, ev) = match f {
                Follow::PodReady { pod, at } => (at, Event::PodReady(pod)),
                Follow::PodExit { pod, at } => (at, Event::PodExit(pod)),
                Follow::PodGone { pod, at } => (at, Event::PodGone(pod)),
                Follow::Propagate { svc, at } => (at, Event::Propagate(svc)),
                Follow::Reconcile { sts, at } => (at, Event::Reconcile(sts)),
                Follow::ReconcileDeployment { dep, at } => (at, Event::ReconcileDeployment(dep)),
                Follow::NodeNotReady { node, at } => (at, Event::NodeNotReady(node)),
                Follow::Crash { pod, at } => (at, Event::Crash(pod)),
                Follow::ReadinessFailed { pod, at } => (at, Event::ReadinessFailed(pod)),
                Follow::LivenessFailed { pod, at } => (at, Event::LivenessFailed(pod)),
                Follow::NodeEvict { node, at } => (at, Event::NodeEvict(node)),
            };
            if at < self.end {
                self.queue.schedule(at, ev);
            }
        }
    }

    /// The pod an event names now: the pod holding a StatefulSet ordinal,
    /// or a hand-written Pod (they are the first pods, in order).
    fn pod_named(&self, namespace: &str, pod: &str) -> Option<PodId> {
        let ordinal = self.sc.statefulsets.iter().enumerate().find_map(|(j, st)| {
            (st.namespace == namespace)
                .then(|| st.index_of(pod))
                .flatten()
                .map(|i| (j as u32, i))
        });
        let hand_written = self
            .sc
            .pods
            .iter()
            .position(|p| p.namespace == namespace && p.name == pod)
            .map(|n| n as PodId);
        ordinal
            .and_then(|(j, ord)| self.cluster.pod_by_identity(j, ord))
            .or(hand_written)
            .or_else(|| self.cluster.deployment_pod_named(namespace, pod))
    }

    fn statefulset_index(&self, namespace: &str, name: &str) -> u32 {
        self.sc
            .statefulsets
            .iter()
            .position(|s| s.namespace == namespace && s.name == name)
            .expect("validated: the StatefulSet exists") as u32
    }

    fn deployment_index(&self, namespace: &str, name: &str) -> u32 {
        self.sc
            .deployments
            .iter()
            .position(|d| d.namespace == namespace && d.name == name)
            .expect("validated: the Deployment exists") as u32
    }

    /// Schedule the deletion of `pod` after a lifetime drawn from its identity's stream.
    fn arm_churn(&mut self, pod: PodId, now: SimTime) {
        // StatefulSet ordinals draw from one stream each (`churn/<ns>/<set>`
        // #ordinal); a Deployment's pods from `churn/<ns>/<deployment>` #n.
        // Hand-written pods and external endpoints never churn.
        let (slot, index, namespace, name, churn) = match self.cluster.pods[pod as usize].owner {
            Owner::StatefulSet { sts, ordinal } => {
                let st = &self.sc.statefulsets[sts as usize];
                (
                    sts as usize,
                    ordinal,
                    &st.namespace,
                    &st.name,
                    st.churn.lifetime,
                )
            }
            Owner::Deployment { dep, n } => {
                let d = &self.sc.deployments[dep as usize];
                (
                    self.sc.statefulsets.len() + dep as usize,
                    n,
                    &d.namespace,
                    &d.name,
                    d.churn.lifetime,
                )
            }
            _ => return,
        };
        let lifetime = match churn {
            Lifetime::None => return,
            Lifetime::Fixed(d) => d,
            Lifetime::Exponential(mean) => {
                let streams = &mut self.churn[slot];
                while streams.len() <= index as usize {
                    let stream = format!("churn/{namespace}/{name}");
                    streams.push(Stream::derive(self.seed, &stream, streams.len() as u64));
                }
                streams[index as usize].exponential(mean)
            }
        };
        let at = now.plus(lifetime);
        if at < self.end {
            self.queue.schedule(at, Event::ChurnDelete(pod));
        }
    }

    /// The request path's state, and what it borrows from the rest of the run.
    fn split(&mut self) -> (&mut Requests, Env<'_, 's, O>) {
        (
            &mut self.req,
            Env {
                sc: self.sc,
                cluster: &self.cluster,
                server: &mut self.server,
                nodes: &mut self.nodes,
                mesh: self.mesh.as_ref(),
                metrics: &mut self.metrics,
                queue: &mut self.queue,
                observer: &mut *self.observer,
                end: self.end,
            },
        )
    }

    fn handle(&mut self, now: SimTime, ev: Event) -> Result<(), RunError> {
        match ev {
            Event::Arrival(c) => {
                let (req, mut env) = self.split();
                req.send(&mut env, c, now);
                return Ok(());
            }
            Event::PodReady(p) => {
                if self.cluster.pod_ready(p, now)? {
                    self.arm_churn(p, now);
                }
            }
            Event::ChurnDelete(p) => {
                if self.cluster.delete_pod(p, now) {
                    self.cluster.deleted_by_user(p, now)?;
                }
            }
            Event::PodExit(p) => self.cluster.pod_exit(p, now),
            Event::PodGone(p) => self.cluster.pod_gone(p, now)?,
            Event::Propagate(s) => {
                self.cluster.propagate(s, now);
                if let Some(m) = &self.mesh {
                    let at = now.plus(m.mesh.push_delay);
                    if at < self.end {
                        self.queue.schedule(at, Event::MeshPush(s));
                    }
                }
            }
            Event::MeshPush(s) => {
                if let Some(m) = &mut self.mesh {
                    m.push(s, &self.cluster);
                }
            }
            Event::Reconcile(s) => self.cluster.reconcile(s, now)?,
            Event::ReconcileDeployment(d) => self.cluster.reconcile_deployment(d, now)?,
            Event::NodeNotReady(n) => self.cluster.node_not_ready(n, now),
            Event::Crash(p) => {
                self.cluster.crash_pod(p, None, now);
            }
            Event::ReadinessFailed(p) => self.cluster.readiness_failed(p, now),
            Event::LivenessFailed(p) => self.cluster.liveness_failed(p, now),
            Event::Trace(k) => {
                let (n, step) = self.trace_steps[k as usize];
                self.cluster.trace_step(n, step, now);
            }
            Event::NodeEvict(n) => {
                for p in self.cluster.node_evict(n, now) {
                    self.cluster.deleted_by_user(p, now)?;
                }
            }
            Event::Timeline(i) => self.timeline(i as usize, now)?,
            Event::Refresh(c) => {
                let (req, mut env) = self.split();
                req.refresh(&mut env, c, now);
                return Ok(());
            }
            Event::Retry(slot) => {
                let (req, mut env) = self.split();
                req.retry(&mut env, slot, now);
                return Ok(());
            }
        }
        self.flush_follow();
        self.flush_notes();
        Ok(())
    }

    fn timeline(&mut self, i: usize, now: SimTime) -> Result<(), RunError> {
        match &self.sc.events[i].action {
            Action::DeletePod { namespace, pod } => {
                let p = self.pod_named(namespace, pod);
                match p.filter(|&p| self.cluster.delete_pod(p, now)) {
                    // A Deployment's ReplicaSet replaces it at once.
                    Some(p) => self.cluster.deleted_by_user(p, now)?,
                    None => self.warnings.push(format!(
                        "events[{i}] at {now}: delete_pod {pod}: no such running pod at that time"
                    )),
                }
            }
            Action::RolloutRestart {
                namespace,
                statefulset,
            } => {
                let j = self.statefulset_index(namespace, statefulset);
                self.cluster.rollout(j, false, now)?;
            }
            Action::UpdateImage {
                namespace,
                workload,
                deployment: true,
                broken,
            } => {
                let d = self.deployment_index(namespace, workload);
                self.cluster.rollout_deployment(d, *broken, now)?;
            }
            Action::UpdateImage {
                namespace,
                workload,
                deployment: false,
                broken,
            } => {
                let j = self.statefulset_index(namespace, workload);
                self.cluster.rollout(j, *broken, now)?;
            }
            Action::CrashPod {
                namespace,
                pod,
                crash_loop,
            } => {
                let p = self.pod_named(namespace, pod);
                if !p.is_some_and(|p| self.cluster.crash_pod(p, *crash_loop, now)) {
                    self.warnings.push(format!(
                        "events[{i}] at {now}: crash_pod {pod}: no such running pod at that time"
                    ));
                }
            }
            Action::HangPod { namespace, pod } => {
                let p = self.pod_named(namespace, pod);
                if !p.is_some_and(|p| self.cluster.hang_pod(p, now)) {
                    self.warnings.push(format!(
                        "events[{i}] at {now}: hang_pod {pod}: no such running pod at that time"
                    ));
                }
            }
            Action::FailNode { node } => self.cluster.fail_node(*node, now),
            Action::DrainNode { node } => {
                for p in self.cluster.drain_node(*node, now) {
                    self.cluster.deleted_by_user(p, now)?;
                }
            }
            Action::ScaleDeployment {
                namespace,
                deployment,
                replicas,
            } => {
                let d = self.deployment_index(namespace, deployment);
                self.cluster.scale_deployment(d, *replicas, now)?;
            }
            Action::RolloutRestartDeployment {
                namespace,
                deployment,
            } => {
                let d = self.deployment_index(namespace, deployment);
                self.cluster.rollout_deployment(d, false, now)?;
            }
            Action::Scale {
                namespace,
                statefulset,
                replicas,
            } => {
                let j = self.statefulset_index(namespace, statefulset);
                self.cluster.scale(j, *replicas, now)?;
            }
        }
        Ok(())
    }
}
