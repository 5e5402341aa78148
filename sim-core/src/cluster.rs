//! The cluster's ground truth: pods and their lifecycle, pod IPs, the
//! StatefulSet controller, and each Service's endpoints.
//!
//! Owns what *is*; not what anyone has *seen* (DNS and kube-proxy see
//! endpoints only after propagation, see [`ServiceState::view`]).
//!
//! Pod lifecycle (reference/balancing.md §3.2, reference/dns.md §5):
//! created (IP assigned, port closed) → after `startup`: listening and Ready →
//! on delete: Terminating, `ready=false` at once (leaves the endpoints) but
//! still listening for `drain` → process exits, the port refuses for
//! `teardown` → gone, IP released. A StatefulSet replaces a deleted pod with
//! a same-name pod only when the old one is gone.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::scenario::{
    Cidr, ClusterIp, DeploymentStrategy, IpReuse, PodManagementPolicy, Scenario, UpdateStrategy,
};
use crate::time::{SimDuration, SimTime};

pub type PodId = u32;
/// `Addr::pod` of a Service VIP (no pod behind the address itself).
pub const NO_POD: PodId = u32::MAX;

/// What a pod is, and who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Ordinal `ordinal` of StatefulSet `sts`.
    StatefulSet { sts: u32, ordinal: u32 },
    /// The `n`-th pod Deployment `dep` created (anonymous: never recreated).
    Deployment { dep: u32, n: u32 },
    /// Hand-written Pod `n` of the scenario (`sc.pods[n]`): exists all run.
    Pod(u32),
    /// Pod `n` of the replayed traces (`sc.traced_pods[n]`).
    Traced(u32),
    /// An address of hand-written EndpointSlice `slice` that no Pod holds: a
    /// host outside the cluster's control (the "manual endpoints" pattern),
    /// listening on the slice's ports all run.
    External { slice: u32 },
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub owner: Owner,
    /// Index of this pod's identity (see [`Cluster::identities`]): a
    /// StatefulSet ordinal keeps one identity across its replacements.
    pub identity: u32,
    /// The pod template revision it was created from (StatefulSet pods).
    pub revision: u32,
    /// The node it runs on (hand-written Pods and external hosts: 0).
    pub node: u32,
    pub ip: u32,
    pub created_at: SimTime,
    pub ready_at: Option<SimTime>,
    pub deleted_at: Option<SimTime>,
    pub exited_at: Option<SimTime>,
    pub gone_at: Option<SimTime>,
    /// Its node failed: nothing answers at its address any more.
    pub lost_at: Option<SimTime>,
    /// The node controller marked it not Ready (its node stopped reporting).
    pub not_ready_at: Option<SimTime>,
    /// Its container crashed and has not come back yet.
    pub down_since: Option<SimTime>,
    /// Container restarts so far (the kubelet's back-off doubles with each).
    pub restarts: u32,
    /// CrashLoopBackOff: each start crashes again after this long.
    pub crash_loop: Option<SimDuration>,
    /// Its container hung: connections are accepted, never answered.
    pub hung_since: Option<SimTime>,
}

impl Pod {
    /// A pod just created: not yet Ready, nothing happened to it yet.
    pub fn new(
        owner: Owner,
        identity: u32,
        revision: u32,
        node: u32,
        ip: u32,
        created_at: SimTime,
    ) -> Pod {
        Pod {
            owner,
            identity,
            revision,
            node,
            ip,
            created_at,
            ready_at: None,
            deleted_at: None,
            exited_at: None,
            gone_at: None,
            lost_at: None,
            not_ready_at: None,
            down_since: None,
            restarts: 0,
            crash_loop: None,
            hung_since: None,
        }
    }

    /// `(sts, ordinal)` of a StatefulSet pod.
    pub fn ordinal(&self) -> Option<(u32, u32)> {
        match self.owner {
            Owner::StatefulSet { sts, ordinal } => Some((sts, ordinal)),
            _ => None,
        }
    }

    /// Ready and not terminating: what an EndpointSlice marks `ready`.
    pub fn is_ready(&self) -> bool {
        self.ready_at.is_some()
            && self.deleted_at.is_none()
            && self.not_ready_at.is_none()
            && self.down_since.is_none()
    }

    /// The process accepts connections (Ready, or terminating but still
    /// draining), on a node that is up.
    pub fn is_listening(&self) -> bool {
        self.ready_at.is_some()
            && self.exited_at.is_none()
            && self.lost_at.is_none()
            && self.down_since.is_none()
    }
}

/// One address in an endpoint list or DNS answer, with the pod that held it
/// when the list was made ([`NO_POD`] for a Service VIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub ip: u32,
    pub pod: PodId,
}

/// A snapshot of a Service's ready endpoints, in EndpointSlice order: its
/// generated slice (StatefulSets in declaration order, then ordinal order,
/// then selected hand-written Pods), then its hand-written slices.
#[derive(Debug, Default)]
pub struct View {
    pub version: u64,
    pub endpoints: Vec<Addr>,
    /// Terminating endpoints still serving (`serving && terminating`): what
    /// kube-proxy falls back to when there is no ready endpoint
    /// (`pkg/proxy/topology.go` CategorizeEndpoints, reference/balancing.md
    /// §5). DNS never lists them.
    pub serving_terminating: Vec<Addr>,
}

pub struct ServiceState {
    pub vip: Option<u32>,
    /// StatefulSets whose pods this service selects.
    pub selects: Vec<u32>,
    /// Deployments whose pods it selects.
    pub selects_deps: Vec<u32>,
    /// Hand-written Pods it selects (indices into `sc.pods`).
    pub selects_pods: Vec<u32>,
    /// Traced pods it selects (indices into `sc.traced_pods`).
    pub selects_traced: Vec<u32>,
    /// Its hand-written EndpointSlices' ready IPv4 endpoints, and the pod
    /// (hand-written or external) behind each.
    pub static_endpoints: Vec<Addr>,
    /// The `hostname` of each of `static_endpoints`.
    pub static_hostnames: Vec<Option<String>>,
    /// What DNS and kube-proxy currently act on.
    pub view: Rc<View>,
    /// When `view` was installed.
    pub view_since: SimTime,
    /// Snapshots on their way (installed after the propagation delay, in order).
    pending: VecDeque<Rc<View>>,
    next_version: u64,
    /// The generated EndpointSlice as it stands, kept up to date pod by pod.
    members: Members,
}

/// Where a pod sits in a Service's generated EndpointSlice: StatefulSets
/// (in declaration order, then by ordinal), then Deployments (then creation
/// order), then hand-written Pods, then traced pods. Sorting by it gives
/// the order [`View::endpoints`] lists them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SliceKey {
    /// 0 StatefulSet, 1 Deployment, 2 hand-written Pod, 3 traced pod.
    group: u8,
    /// The object's index in its scenario list (`sc.statefulsets`, ...).
    object: u32,
    /// The ordinal or creation number within the object (0 for a Pod).
    n: u32,
}

/// A Service's ready and serving-terminating pods, each list sorted by
/// [`SliceKey`]: maintained incrementally as pods change (a pod joins or
/// leaves when its readiness, phase or slot does), never rebuilt from the
/// pod list. `dirty`: changed since the last snapshot was compared.
#[derive(Debug, Default)]
struct Members {
    ready: Vec<(SliceKey, Addr)>,
    serving_terminating: Vec<(SliceKey, Addr)>,
    dirty: bool,
}

impl Members {
    /// Put pod `p`'s entry at `key` in `list` (`None`: take it out, if it
    /// is `p`'s: a StatefulSet slot's next pod has the same key as the one
    /// that left it); whether it changed.
    fn set(list: &mut Vec<(SliceKey, Addr)>, key: SliceKey, p: PodId, addr: Option<Addr>) -> bool {
        match (list.binary_search_by_key(&key, |e| e.0), addr) {
            (Ok(i), Some(a)) if list[i].1 == a => false,
            (Ok(i), Some(a)) => {
                list[i].1 = a;
                true
            }
            (Ok(i), None) if list[i].1.pod == p => {
                list.remove(i);
                true
            }
            (Ok(_), None) => false,
            (Err(i), Some(a)) => {
                list.insert(i, (key, a));
                true
            }
            (Err(_), None) => false,
        }
    }
}

pub struct StsState {
    pub replicas: u32,
    /// The pod occupying each ordinal, alive or terminating.
    pub slots: Vec<Option<PodId>>,
    /// Services selecting this set's pods.
    pub selected_by: Vec<u32>,
    /// The identity of each ordinal that ever existed.
    pub identities: Vec<u32>,
    /// The pod template revision being rolled out, and the one pods below
    /// the partition keep (equal when no rollout is under way).
    pub update_revision: u32,
    pub current_revision: u32,
    /// Revisions whose pods never become Ready (a bad image).
    pub broken: Vec<u32>,
}

/// A Deployment's controller state (its ReplicaSets folded together: pods
/// carry the template revision they were made from).
pub struct DepState {
    pub replicas: u32,
    pub update_revision: u32,
    /// Revisions whose pods never become Ready (a bad image).
    pub broken: Vec<u32>,
    /// Its pods in creation order, alive, terminating or gone.
    pub pods: Vec<PodId>,
    /// Services selecting its pods.
    pub selected_by: Vec<u32>,
}

/// A node as the control plane sees it.
#[derive(Clone, Debug, Default)]
pub struct NodeState {
    /// Unschedulable (`kubectl drain` cordons first).
    pub cordoned: bool,
    /// When it failed (stopped answering, kubelet gone).
    pub failed_at: Option<SimTime>,
}

/// One node's `host-local` range and its round-robin cursor.
struct NodeRange {
    /// First and last allocatable address (the gateway `.1` and the
    /// broadcast address are not handed out).
    first: u32,
    last: u32,
    /// The address reserved last; the search starts after it.
    last_reserved: u32,
}

/// Allocates pod IPs from the pod CIDR under the scenario's reuse policy.
pub struct Ipam {
    cidr: Cidr,
    policy: IpReuse,
    /// Fresh addresses handed out so far (`never`, `immediate`, `cooldown`).
    next: u64,
    /// `host-local`: per node.
    ranges: Vec<NodeRange>,
    /// Released addresses with when (`immediate`: the newest is reused,
    /// `cooldown`: the oldest, once it has cooled down).
    released: VecDeque<(SimTime, u32)>,
    holder: FxHashMap<u32, PodId>,
    /// Addresses a pod trace assigns at some time: never handed to a
    /// declared pod, so replay and simulation do not collide.
    traced: FxHashSet<u32>,
}

impl Ipam {
    fn new(cidr: Cidr, policy: IpReuse, nodes: u32) -> Ipam {
        // host-local: node i gets the i-th /24 of the pod CIDR (wrapping
        // when there are more nodes than blocks).
        let block_prefix = crate::scenario::defaults::NODE_CIDR_PREFIX.max(cidr.prefix);
        let block = 1u64 << (32 - block_prefix as u32);
        let blocks = 1u64 << (block_prefix - cidr.prefix);
        let ranges = (0..nodes as u64)
            .map(|i| {
                let base = cidr.base as u64 + (i % blocks) * block;
                NodeRange {
                    first: (base + 2) as u32,
                    last: (base + block - 2) as u32,
                    last_reserved: (base + 1) as u32,
                }
            })
            .collect();
        Ipam {
            cidr,
            policy,
            next: 0,
            ranges,
            released: VecDeque::new(),
            holder: FxHashMap::default(),
            traced: FxHashSet::default(),
        }
    }

    /// Whether `ip` may be handed to a new pod.
    #[inline]
    fn free(&self, ip: u32) -> bool {
        !self.holder.contains_key(&ip) && !self.traced.contains(&ip)
    }

    /// An address for `pod` on `node` at `now`, per the reuse policy.
    fn allocate(&mut self, pod: PodId, node: u32, now: SimTime) -> Option<u32> {
        let ip = match self.policy {
            IpReuse::Never => self.fresh(),
            IpReuse::Immediate => match self.released.pop_back() {
                Some((_, ip)) => Some(ip),
                None => self.fresh(),
            },
            IpReuse::Cooldown(d) => match self.released.front() {
                Some(&(at, ip)) if at.plus(d) <= now => {
                    self.released.pop_front();
                    Some(ip)
                }
                _ => self.fresh(),
            },
            IpReuse::HostLocal => self.round_robin(node as usize % self.ranges.len().max(1)),
        }?;
        self.holder.insert(ip, pod);
        Some(ip)
    }

    /// The next never-used address of the pod CIDR, skipping those
    /// hand-written objects hold.
    fn fresh(&mut self) -> Option<u32> {
        loop {
            if self.next >= self.cidr.usable() {
                return None;
            }
            let ip = self.cidr.base + 1 + self.next as u32;
            self.next += 1;
            if self.free(ip) {
                return Some(ip);
            }
        }
    }

    /// CNI host-local `GetIter`: from the address after the last reserved,
    /// the first free one, wrapping around the node's range.
    fn round_robin(&mut self, node: usize) -> Option<u32> {
        let r = self.ranges.get(node)?;
        let size = (r.last - r.first + 1) as u64;
        // `last_reserved` starts just below `first`.
        let after = r.last_reserved as u64 + 1 - r.first as u64;
        let first = r.first;
        let ip = (0..size)
            .map(|k| first + ((after + k) % size) as u32)
            .find(|&ip| self.free(ip))?;
        self.ranges[node].last_reserved = ip;
        Some(ip)
    }

    /// An address a hand-written object holds for the whole run.
    fn hold(&mut self, ip: u32, pod: PodId) {
        self.holder.insert(ip, pod);
    }

    /// `pod` lets go of `ip`; a no-op when another pod holds it now (a
    /// traced address already taken by the trace's next pod).
    fn release(&mut self, ip: u32, pod: PodId, now: SimTime) {
        if self.holder(ip) != Some(pod) {
            return;
        }
        self.holder.remove(&ip);
        let mask = u32::MAX << (32 - self.cidr.prefix as u32);
        let in_cidr = ip & mask == self.cidr.base;
        if in_cidr
            && !self.traced.contains(&ip)
            && matches!(self.policy, IpReuse::Immediate | IpReuse::Cooldown(_))
        {
            self.released.push_back((now, ip));
        }
    }

    /// The pod holding `ip` now, if any.
    #[inline]
    pub fn holder(&self, ip: u32) -> Option<PodId> {
        self.holder.get(&ip).copied()
    }
}

/// What the cluster asks the world to schedule after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    PodReady {
        pod: PodId,
        at: SimTime,
    },
    PodExit {
        pod: PodId,
        at: SimTime,
    },
    PodGone {
        pod: PodId,
        at: SimTime,
    },
    Propagate {
        svc: u32,
        at: SimTime,
    },
    /// Sync StatefulSet `sts` again then (a pod becomes available).
    Reconcile {
        sts: u32,
        at: SimTime,
    },
    /// Sync Deployment `dep` again then.
    ReconcileDeployment {
        dep: u32,
        at: SimTime,
    },
    /// The node controller marks a failed node's pods not Ready.
    NodeNotReady {
        node: u32,
        at: SimTime,
    },
    /// A crash-looping container crashes again.
    Crash {
        pod: PodId,
        at: SimTime,
    },
    /// A hung pod's readiness probe reaches its failure threshold.
    ReadinessFailed {
        pod: PodId,
        at: SimTime,
    },
    /// A hung pod's liveness probe reaches its failure threshold.
    LivenessFailed {
        pod: PodId,
        at: SimTime,
    },
    /// ... and evicts them.
    NodeEvict {
        node: u32,
        at: SimTime,
    },
}

/// kube-controller-manager `--node-monitor-grace-period` default.
const NODE_MONITOR_GRACE: SimDuration = SimDuration::from_secs(40);
/// `node.kubernetes.io/not-ready` / `unreachable` toleration the API server
/// adds to every pod (`--default-not-ready-toleration-seconds`): 300 s.
const NOT_READY_TOLERATION: SimDuration = SimDuration::from_secs(300);

/// A change in the cluster, for the lifecycle event stream (recorded only
/// when someone listens: see [`Cluster::notes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Created and given its IP.
    PodCreated(PodId),
    /// Listening and Ready (startup finished).
    PodReady(PodId),
    /// Deleted: terminating, not ready, still serving while it drains.
    PodTerminating(PodId),
    /// The process exited: the port refuses.
    PodExited(PodId),
    /// The pod object is gone and its IP released.
    PodGone(PodId),
    /// What DNS and kube-proxy see of a Service changed (after propagation).
    /// Service `svc`'s view changed; `ready`: its ready endpoints did (not
    /// only the serving-terminating ones).
    EndpointsChanged { svc: u32, ready: bool },
}

/// How a new pod comes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Startup {
    /// Listening and Ready after the StatefulSet's `startup` time.
    Normal,
    /// Ready at creation (`start_ready` sets at t = 0).
    AlreadyReady,
}

/// Raised when the pod CIDR runs out of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamExhausted {
    pub at: SimTime,
    pub cidr: Cidr,
    pub reuse: IpReuse,
}

pub struct Cluster<'s> {
    pub sc: &'s Scenario,
    pub pods: Vec<Pod>,
    /// The pod of each traced pod, once its trace created it.
    pub traced: Vec<Option<PodId>>,
    pub deps: Vec<DepState>,
    /// Names of the pod identities traffic is counted by: `web-3` (an
    /// ordinal, whichever pod holds it), a hand-written Pod's name, or an
    /// external endpoint's address.
    pub identities: Vec<String>,
    pub sts: Vec<StsState>,
    pub services: Vec<ServiceState>,
    pub ipam: Ipam,
    /// VIP → service.
    pub vips: FxHashMap<u32, u32>,
    /// What NetworkPolicies let through, per client group and workload.
    pub netpol: crate::netpol::Reach<'s>,
    /// StatefulSet and Deployment pods are placed on nodes round-robin in
    /// creation order, skipping cordoned and failed nodes.
    next_node: u32,
    pub nodes: Vec<NodeState>,
    /// Work for the world's queue; drained by the caller after each change.
    pub follow: Vec<Follow>,
    /// Changes as they happen, when recording (`Some`); drained by the caller.
    pub notes: Option<Vec<(SimTime, Note)>>,
}

impl<'s> Cluster<'s> {
    pub fn new(sc: &'s Scenario) -> Cluster<'s> {
        let mut next_vip = sc.cluster.ipam.service_cidr.base + 1;
        // The cluster DNS Service holds its ClusterIP (10.96.0.10 by
        // default) in every real cluster, so the allocator never hands it
        // out (`pkg/registry/core/service/ipallocator`: an allocated IP is
        // "already allocated").
        let dns_vip = crate::scenario::addresses::dns_ip();
        let mut vips = FxHashMap::default();
        let services: Vec<ServiceState> = sc
            .services
            .iter()
            .enumerate()
            .map(|(i, svc)| {
                let vip = match svc.cluster_ip {
                    ClusterIp::None => None,
                    ClusterIp::Fixed(ip) => Some(ip),
                    ClusterIp::Auto => {
                        // Skip addresses someone fixed by hand, and the DNS one.
                        while next_vip == dns_vip
                            || sc
                                .services
                                .iter()
                                .any(|s| s.cluster_ip == ClusterIp::Fixed(next_vip))
                        {
                            next_vip += 1;
                        }
                        next_vip += 1;
                        Some(next_vip - 1)
                    }
                };
                if let Some(v) = vip {
                    vips.insert(v, i as u32);
                }
                // Indices of the objects in `svc`'s namespace whose labels
                // its (non-empty) selector matches.
                let matching =
                    |objects: &mut dyn Iterator<Item = (&String, &BTreeMap<String, String>)>| {
                        objects
                            .enumerate()
                            .filter(|(_, (ns, labels))| {
                                **ns == svc.namespace
                                    && !svc.selector.is_empty()
                                    && svc.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                            })
                            .map(|(j, _)| j as u32)
                            .collect::<Vec<u32>>()
                    };
                let selects =
                    matching(&mut sc.statefulsets.iter().map(|o| (&o.namespace, &o.labels)));
                let selects_deps =
                    matching(&mut sc.deployments.iter().map(|o| (&o.namespace, &o.labels)));
                let selects_pods = matching(&mut sc.pods.iter().map(|o| (&o.namespace, &o.labels)));
                let selects_traced =
                    matching(&mut sc.traced_pods.iter().map(|o| (&o.namespace, &o.labels)));
                ServiceState {
                    vip,
                    selects,
                    selects_deps,
                    selects_pods,
                    selects_traced,
                    static_endpoints: Vec::new(),
                    static_hostnames: Vec::new(),
                    view: Rc::new(View::default()),
                    view_since: SimTime::ZERO,
                    pending: VecDeque::new(),
                    next_version: 1,
                    // Nothing compared yet: the first change snapshots.
                    members: Members {
                        dirty: true,
                        ..Members::default()
                    },
                }
            })
            .collect();
        let sts = sc
            .statefulsets
            .iter()
            .enumerate()
            .map(|(j, st)| StsState {
                replicas: st.replicas,
                slots: Vec::new(),
                selected_by: services
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.selects.contains(&(j as u32)))
                    .map(|(i, _)| i as u32)
                    .collect(),
                identities: Vec::new(),
                update_revision: 0,
                current_revision: 0,
                broken: Vec::new(),
            })
            .collect();
        let deps = (0..sc.deployments.len())
            .map(|j| DepState {
                replicas: sc.deployments[j].replicas,
                update_revision: 0,
                broken: Vec::new(),
                pods: Vec::new(),
                selected_by: services
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.selects_deps.contains(&(j as u32)))
                    .map(|(i, _)| i as u32)
                    .collect(),
            })
            .collect();
        Cluster {
            sc,
            pods: Vec::new(),
            traced: vec![None; sc.traced_pods.len()],
            deps,
            identities: Vec::new(),
            sts,
            services,
            ipam: {
                let mut ipam = Ipam::new(
                    sc.cluster.ipam.pod_cidr,
                    sc.cluster.ipam.reuse,
                    sc.cluster.nodes,
                );
                ipam.traced = (sc.traced_pods.iter())
                    .flat_map(|p| p.steps.iter())
                    .filter_map(|(_, s)| match s {
                        crate::scenario::trace::Step::Ip(ip) => Some(*ip),
                        _ => None,
                    })
                    .collect();
                ipam
            },
            next_node: 0,
            nodes: (0..sc.cluster.nodes)
                .map(|_| NodeState::default())
                .collect(),
            vips,
            netpol: crate::netpol::Reach::new(sc),
            follow: Vec::new(),
            notes: None,
        }
    }

    /// t = 0: `start_ready` sets come up Ready at once, with their endpoints
    /// already known to DNS; the others start their controllers.
    pub fn start(&mut self) -> Result<(), IpamExhausted> {
        self.place_hand_written();
        for j in 0..self.sts.len() {
            if self.sc.statefulsets[j].start_ready {
                for ord in 0..self.sts[j].replicas {
                    self.create_pod(j as u32, ord, SimTime::ZERO, Startup::AlreadyReady)?;
                }
            }
        }
        for d in 0..self.deps.len() {
            if self.sc.deployments[d].start_ready {
                for _ in 0..self.deps[d].replicas {
                    self.create_dep_pod(d as u32, SimTime::ZERO, Startup::AlreadyReady)?;
                }
            }
        }
        // What DNS and kube-proxy see at t = 0 is exact: nothing propagates.
        for s in 0..self.services.len() {
            let snapshot = self.snapshot(s);
            self.services[s].view = Rc::new(snapshot);
            self.services[s].pending.clear();
            self.services[s].members.dirty = false;
        }
        self.follow
            .retain(|f| !matches!(f, Follow::Propagate { .. }));
        for j in 0..self.sts.len() {
            self.reconcile(j as u32, SimTime::ZERO)?;
        }
        for d in 0..self.deps.len() {
            self.reconcile_deployment(d as u32, SimTime::ZERO)?;
        }
        Ok(())
    }

    /// A new pod of Deployment `dep` (its name: `<deployment>-<template
    /// hash>-<n>`, the hash standing for the revision).
    fn create_dep_pod(
        &mut self,
        dep: u32,
        now: SimTime,
        startup: Startup,
    ) -> Result<PodId, IpamExhausted> {
        let id = self.pods.len() as PodId;
        let (node, ip) = self.place_and_address(id, now)?;
        let spec = &self.sc.deployments[dep as usize];
        let state = &self.deps[dep as usize];
        let n = state.pods.len() as u32;
        let revision = state.update_revision;
        let name = spec.pod_name(revision, n);
        let identity = self.new_identity(qualified(&spec.namespace, &name));
        self.pods.push(Pod::new(
            Owner::Deployment { dep, n },
            identity,
            revision,
            node,
            ip,
            now,
        ));
        self.deps[dep as usize].pods.push(id);
        self.mark_lost_if_node_failed(id, node, now);
        match startup {
            Startup::AlreadyReady => self.pods[id as usize].ready_at = Some(now),
            Startup::Normal if self.deps[dep as usize].broken.contains(&revision) => {}
            Startup::Normal => self.follow.push(Follow::PodReady {
                pod: id,
                at: now.plus(spec.lifecycle.startup),
            }),
        }
        self.note(now, Note::PodCreated(id));
        if startup == Startup::AlreadyReady {
            self.note(now, Note::PodReady(id));
        }
        self.pod_changed(id, now);
        Ok(id)
    }

    /// A node and an address for the new pod `id`.
    /// The zone of node `node` (`zone-<n mod zones>`).
    #[inline]
    pub fn zone_of_node(&self, node: u32) -> u32 {
        node % self.sc.cluster.zones.max(1)
    }

    fn place_and_address(&mut self, id: PodId, now: SimTime) -> Result<(u32, u32), IpamExhausted> {
        let node = self.place();
        let ip = self.ipam.allocate(id, node, now).ok_or(IpamExhausted {
            at: now,
            cidr: self.sc.cluster.ipam.pod_cidr,
            reuse: self.sc.cluster.ipam.reuse,
        })?;
        Ok((node, ip))
    }

    /// The next node round-robin that takes pods (not cordoned, not failed);
    /// if none does, the next one anyway (its pods will never start).
    fn place(&mut self) -> u32 {
        let n = self.nodes.len().max(1) as u32;
        for k in 0..n {
            let node = (self.next_node + k) % n;
            let st = &self.nodes[node as usize];
            if !st.cordoned && st.failed_at.is_none() {
                self.next_node = (node + 1) % n;
                return node;
            }
        }
        let node = self.next_node;
        self.next_node = (node + 1) % n;
        node
    }

    /// Apply one recorded change of traced pod `n` (see `scenario::trace`).
    pub fn trace_step(&mut self, n: u32, step: crate::scenario::trace::Step, now: SimTime) {
        use crate::scenario::trace::Step;
        let p = match (self.traced[n as usize], step) {
            (None, _) => {
                let def = &self.sc.traced_pods[n as usize];
                let name = qualified(&def.namespace, &def.name);
                // A pod name is one identity: a StatefulSet replacement in
                // the trace (same name, new uid) keeps its predecessor's.
                let identity = match self.identities.iter().position(|i| *i == name) {
                    Some(i) => i as u32,
                    None => self.new_identity(name),
                };
                let id = self.pods.len() as PodId;
                self.pods
                    .push(Pod::new(Owner::Traced(n), identity, 0, 0, 0, now));
                self.traced[n as usize] = Some(id);
                self.note(now, Note::PodCreated(id));
                if step == Step::Created {
                    return;
                }
                id
            }
            (Some(p), _) => p,
        };
        let pod = &mut self.pods[p as usize];
        match step {
            Step::Created => return,
            Step::Ip(ip) => {
                pod.ip = ip;
                // A traced address wins over whatever held it.
                self.ipam.hold(ip, p);
            }
            Step::Ready(true) => {
                pod.not_ready_at = None;
                if pod.ready_at.is_none() {
                    pod.ready_at = Some(now);
                }
                self.note(now, Note::PodReady(p));
            }
            Step::Ready(false) => {
                if pod.ready_at.is_some() && pod.not_ready_at.is_none() {
                    pod.not_ready_at = Some(now);
                }
            }
            Step::Deleted => {
                pod.deleted_at = Some(now);
                self.note(now, Note::PodTerminating(p));
            }
            Step::Exited => {
                pod.exited_at = Some(now);
                self.note(now, Note::PodExited(p));
            }
            Step::Gone => {
                let replaced = self.pod_gone(p, now);
                debug_assert!(replaced.is_ok(), "no controller replaces a traced pod");
                return;
            }
        }
        self.pod_changed(p, now);
    }

    /// Pod `p`'s container crashes: the port refuses at once, the pod is
    /// not Ready (the kubelet reports the exit), and the kubelet restarts the
    /// container after its back-off: 10 s, doubling with each restart, at
    /// most 5 min (`CrashLoopBackOff`). With `crash_loop`, every start
    /// crashes again after that long. False if it was not running.
    pub fn crash_pod(&mut self, p: PodId, crash_loop: Option<SimDuration>, now: SimTime) -> bool {
        let pod = &mut self.pods[p as usize];
        if !pod.is_listening() || pod.deleted_at.is_some() {
            return false;
        }
        if crash_loop.is_some() {
            pod.crash_loop = crash_loop;
        }
        pod.down_since = Some(now);
        let backoff_s = (10u64 << pod.restarts.min(5)).min(300);
        pod.restarts += 1;
        self.note(now, Note::PodExited(p));
        self.pod_changed(p, now);
        let startup = self.lifecycle(p).startup;
        self.follow.push(Follow::PodReady {
            pod: p,
            at: now.plus(SimDuration::from_secs(backoff_s)).plus(startup),
        });
        true
    }

    /// Pod `p`'s container hangs at `now`: it keeps accepting connections
    /// and answers none. Its readiness probe (if any) fails from the next
    /// probe on and marks it not Ready after `failureThreshold` failures;
    /// its liveness probe (if any) has the kubelet restart it likewise
    /// (reference/balancing.md §3.1). False if it was not running.
    pub fn hang_pod(&mut self, p: PodId, now: SimTime) -> bool {
        let lifecycle = self.lifecycle(p);
        let pod = &mut self.pods[p as usize];
        if !pod.is_listening() || pod.deleted_at.is_some() || pod.hung_since.is_some() {
            return false;
        }
        pod.hung_since = Some(now);
        let base = pod.ready_at.expect("a listening pod has been Ready");
        if let Some(r) = lifecycle.readiness {
            self.follow.push(Follow::ReadinessFailed {
                pod: p,
                at: r.fails_at(base, now),
            });
        }
        if let Some(l) = lifecycle.liveness {
            self.follow.push(Follow::LivenessFailed {
                pod: p,
                at: l.fails_at(base, now),
            });
        }
        true
    }

    /// Pod `p`'s readiness probe failed its threshold: not Ready, out of
    /// the endpoints (if it is still the hung container).
    pub fn readiness_failed(&mut self, p: PodId, now: SimTime) {
        let pod = &mut self.pods[p as usize];
        if pod.hung_since.is_some() && pod.not_ready_at.is_none() && pod.down_since.is_none() {
            pod.not_ready_at = Some(now);
            self.pod_changed(p, now);
        }
    }

    /// Pod `p`'s liveness probe failed its threshold: the kubelet kills the
    /// container and restarts it (after its back-off, as for a crash).
    pub fn liveness_failed(&mut self, p: PodId, now: SimTime) {
        if self.pods[p as usize].hung_since.take().is_some() {
            self.crash_pod(p, None, now);
        }
    }

    /// Node `node` fails (power loss, kernel panic): its pods stop answering
    /// at once; after `node-monitor-grace-period` (40 s) the node controller
    /// marks them not Ready; after the `not-ready` toleration (300 s more) it
    /// evicts them. Evicted pods stay Terminating (their kubelet cannot
    /// confirm), so a StatefulSet does not replace them; a Deployment does,
    /// at once (reference/balancing.md §1.3, §2).
    pub fn fail_node(&mut self, node: u32, now: SimTime) {
        self.nodes[node as usize].failed_at = Some(now);
        for p in 0..self.pods.len() as PodId {
            let pod = &mut self.pods[p as usize];
            if pod.node == node
                && pod.gone_at.is_none()
                && self.nodes[node as usize].failed_at.is_some()
            {
                pod.lost_at = Some(now);
                // Serving-terminating fallback and publishNotReady lists change.
                self.pod_changed(p, now);
            }
        }
        self.follow.push(Follow::NodeNotReady {
            node,
            at: now.plus(NODE_MONITOR_GRACE),
        });
        self.follow.push(Follow::NodeEvict {
            node,
            at: now.plus(NODE_MONITOR_GRACE).plus(NOT_READY_TOLERATION),
        });
    }

    /// The node controller noticed `node` stopped reporting.
    pub fn node_not_ready(&mut self, node: u32, now: SimTime) {
        for p in 0..self.pods.len() as PodId {
            let pod = &mut self.pods[p as usize];
            if pod.node == node && pod.lost_at.is_some() && pod.not_ready_at.is_none() {
                pod.not_ready_at = Some(now);
                self.pod_changed(p, now);
            }
        }
    }

    /// Taint-based eviction of `node`'s pods; returns the evicted ones.
    pub fn node_evict(&mut self, node: u32, now: SimTime) -> Vec<PodId> {
        let mut evicted = Vec::new();
        for p in 0..self.pods.len() as PodId {
            let pod = &self.pods[p as usize];
            let managed = matches!(
                pod.owner,
                Owner::StatefulSet { .. } | Owner::Deployment { .. }
            );
            if managed && pod.node == node && pod.lost_at.is_some() && pod.deleted_at.is_none() {
                self.delete_pod(p, now);
                evicted.push(p);
            }
        }
        evicted
    }

    /// `kubectl drain`: cordon `node` and evict its pods gracefully (they
    /// terminate as any deleted pod and are recreated elsewhere); returns
    /// the evicted ones.
    pub fn drain_node(&mut self, node: u32, now: SimTime) -> Vec<PodId> {
        self.nodes[node as usize].cordoned = true;
        let mut evicted = Vec::new();
        for p in 0..self.pods.len() as PodId {
            let pod = &self.pods[p as usize];
            let managed = matches!(
                pod.owner,
                Owner::StatefulSet { .. } | Owner::Deployment { .. }
            );
            if managed && pod.node == node && pod.deleted_at.is_none() {
                self.delete_pod(p, now);
                evicted.push(p);
            }
        }
        evicted
    }

    /// Is `p` available: Ready, not terminating, Ready for `min_ready`?
    fn available(&self, p: PodId, min_ready: SimDuration, now: SimTime) -> bool {
        let pod = &self.pods[p as usize];
        pod.is_ready() && pod.ready_at.is_some_and(|t| t.plus(min_ready) <= now)
    }

    /// The Deployment controller's sync (reference/balancing.md §2): keep
    /// `replicas` pods, replacing deleted ones at once; on a new revision,
    /// `RollingUpdate` creates new pods while the total stays within
    /// `replicas + maxSurge` (rounded up) and deletes old ones while at least
    /// `replicas - maxUnavailable` (rounded down) stay available, unavailable
    /// old pods first; `Recreate` deletes every old pod and creates the new
    /// ones once they are gone. Scale-down removes not-ready pods first, then
    /// the most recently created (the ReplicaSet's victim ranking, without
    /// its log-scale and random tie-breaks).
    pub fn reconcile_deployment(&mut self, dep: u32, now: SimTime) -> Result<(), IpamExhausted> {
        let spec = &self.sc.deployments[dep as usize];
        let (replicas, update) = (
            self.deps[dep as usize].replicas,
            self.deps[dep as usize].update_revision,
        );
        let live: Vec<PodId> = self.deps[dep as usize]
            .pods
            .iter()
            .copied()
            .filter(|&p| self.pods[p as usize].deleted_at.is_none())
            .collect();
        let (new, old): (Vec<PodId>, Vec<PodId>) = live
            .iter()
            .partition(|&&p| self.pods[p as usize].revision == update);
        let steady = old.is_empty();
        let (surge, unavailable) = match spec.strategy {
            DeploymentStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            } => {
                let surge = max_surge.resolve(replicas, true);
                let unavailable = max_unavailable.resolve(replicas, false);
                // Both zero would deadlock: the API fences maxUnavailable to 1.
                (
                    surge,
                    if surge == 0 && unavailable == 0 {
                        1
                    } else {
                        unavailable
                    },
                )
            }
            DeploymentStrategy::Recreate => {
                if !steady {
                    for p in old {
                        self.delete_pod(p, now);
                    }
                    return Ok(());
                }
                let old_around = self.deps[dep as usize].pods.iter().any(|&p| {
                    let pod = &self.pods[p as usize];
                    pod.revision != update && pod.gone_at.is_none()
                });
                if old_around {
                    return Ok(());
                }
                (0, replicas)
            }
        };
        if steady {
            for _ in new.len() as u32..replicas {
                self.create_dep_pod(dep, now, Startup::Normal)?;
            }
            let extra = (new.len() as u32).saturating_sub(replicas);
            if extra == 0 {
                return Ok(()); // nothing to remove: no ranking
            }
            for p in self
                .scale_down_order(&new, &live, now)
                .into_iter()
                .take(extra as usize)
            {
                self.delete_pod(p, now);
            }
            return Ok(());
        }
        let min_ready = spec.min_ready;
        // Scale the new revision up within the surge budget.
        let room = (replicas + surge).saturating_sub(live.len() as u32);
        let want = replicas.saturating_sub(new.len() as u32);
        for _ in 0..room.min(want) {
            self.create_dep_pod(dep, now, Startup::Normal)?;
        }
        // Scale the old one down within the availability budget.
        let min_available = replicas.saturating_sub(unavailable);
        let mut available = live
            .iter()
            .filter(|&&p| self.available(p, min_ready, now))
            .count() as u32;
        let removable =
            available > min_available || old.iter().any(|&p| !self.available(p, min_ready, now));
        let order = if removable {
            self.scale_down_order(&old, &live, now)
        } else {
            Vec::new() // every old pod is available and the budget is spent
        };
        for p in order {
            if self.available(p, min_ready, now) {
                if available <= min_available {
                    continue;
                }
                available -= 1;
            }
            self.delete_pod(p, now);
        }
        // Wake up when a new pod becomes available.
        let next = new
            .iter()
            .filter_map(|&p| self.pods[p as usize].ready_at.map(|t| t.plus(min_ready)))
            .filter(|&t| t > now)
            .min();
        if let Some(at) = next {
            self.follow.push(Follow::ReconcileDeployment { dep, at });
        }
        Ok(())
    }

    /// Which of `pods` a ReplicaSet deletes first, by the controller's
    /// ranking (`ActivePodsWithRanks.Less` in `pkg/controller/
    /// controller_utils.go`, with LogarithmicScaleDown, on by default since
    /// 1.22): not Ready before Ready; then the pod sharing its node with
    /// more of `related` (the Deployment's live pods); then, both Ready, the
    /// one Ready for less time on a log2 scale; then more restarts; then
    /// the younger on a log2 scale; ties by UID, for which a hash of the
    /// pod's index stands in (the real order is as arbitrary).
    ///
    /// Each pod's key is computed once (the per-node counts of `related` in
    /// one pass), so a ranking costs O(n log n), not O(n² log n).
    fn scale_down_order(&self, pods: &[PodId], related: &[PodId], now: SimTime) -> Vec<PodId> {
        let mut on_node = vec![0u32; self.nodes.len().max(1)];
        for &r in related {
            let node = self.pods[r as usize].node as usize;
            if node >= on_node.len() {
                on_node.resize(node + 1, 0);
            }
            on_node[node] += 1;
        }
        // floor(log2(now - t)) in ns, -1 for "not before now".
        let log_rank = |t: SimTime| -> i64 {
            let d = now.as_ns().saturating_sub(t.as_ns());
            if d == 0 {
                -1
            } else {
                63 - d.leading_zeros() as i64
            }
        };
        let uid = |p: PodId| {
            let mut h = p as u64;
            crate::rng::splitmix64(&mut h)
        };
        let mut ranked: Vec<_> = pods
            .iter()
            .map(|&p| {
                let pod = &self.pods[p as usize];
                let ready = pod.is_ready();
                let key = (
                    ready,
                    std::cmp::Reverse(on_node.get(pod.node as usize).copied().unwrap_or(0)),
                    // Log-scale time Ready (only compared when both are Ready).
                    if ready {
                        pod.ready_at.map_or(-1, log_rank)
                    } else {
                        0
                    },
                    std::cmp::Reverse(pod.restarts),
                    log_rank(pod.created_at),
                    uid(p),
                );
                (key, p)
            })
            .collect();
        // Keys are unique (the last part is a bijection of the pod index).
        ranked.sort_unstable_by_key(|e| e.0);
        ranked.into_iter().map(|e| e.1).collect()
    }

    /// A Deployment's pod was deleted from outside its controller (churn, a
    /// timeline event): the controller replaces it at once.
    pub fn deleted_by_user(&mut self, p: PodId, now: SimTime) -> Result<(), IpamExhausted> {
        if let Owner::Deployment { dep, .. } = self.pods[p as usize].owner {
            self.reconcile_deployment(dep, now)?;
        }
        Ok(())
    }

    /// The Deployment pod named `name` in `namespace` (its latest holder).
    pub fn deployment_pod_named(&self, namespace: &str, name: &str) -> Option<PodId> {
        let q = qualified(namespace, name);
        self.deps
            .iter()
            .flat_map(|d| d.pods.iter().rev())
            .copied()
            .find(|&p| self.identities[self.pods[p as usize].identity as usize] == q)
    }

    pub fn scale_deployment(
        &mut self,
        dep: u32,
        replicas: u32,
        now: SimTime,
    ) -> Result<(), IpamExhausted> {
        self.deps[dep as usize].replicas = replicas;
        self.reconcile_deployment(dep, now)
    }

    pub fn rollout_deployment(
        &mut self,
        dep: u32,
        broken: bool,
        now: SimTime,
    ) -> Result<(), IpamExhausted> {
        let d = &mut self.deps[dep as usize];
        d.update_revision += 1;
        if broken {
            d.broken.push(d.update_revision);
        }
        self.reconcile_deployment(dep, now)
    }

    /// Hand-written Pods hold their IPs from t = 0; each hand-written slice
    /// endpoint is the Pod holding its address, or an external host.
    fn place_hand_written(&mut self) {
        let sc = self.sc;
        for (n, def) in sc.pods.iter().enumerate() {
            let id = self.pods.len() as PodId;
            let identity = self.new_identity(qualified(&def.namespace, &def.name));
            self.pods.push(Pod {
                ready_at: def.ready.then_some(SimTime::ZERO),
                ..Pod::new(Owner::Pod(n as u32), identity, 0, 0, def.ip, SimTime::ZERO)
            });
            self.ipam.hold(def.ip, id);
            self.refresh_pod(id);
        }
        for (k, slice) in sc.endpoint_slices.iter().enumerate() {
            let Some(svc) = sc
                .services
                .iter()
                .position(|s| s.name == slice.service && s.namespace == slice.namespace)
            else {
                continue;
            };
            for ep in &slice.endpoints {
                for addr in &ep.addresses {
                    let std::net::IpAddr::V4(v4) = addr else {
                        continue; // IPv6 endpoints are answered in DNS only.
                    };
                    let ip = u32::from(*v4);
                    let pod = match self.ipam.holder(ip) {
                        Some(p) => p,
                        None => {
                            let id = self.pods.len() as PodId;
                            let identity = self.new_identity(v4.to_string());
                            self.pods.push(Pod {
                                ready_at: Some(SimTime::ZERO),
                                ..Pod::new(
                                    Owner::External { slice: k as u32 },
                                    identity,
                                    0,
                                    0,
                                    ip,
                                    SimTime::ZERO,
                                )
                            });
                            self.ipam.hold(ip, id);
                            id
                        }
                    };
                    // CoreDNS and kube-proxy keep an endpoint iff its
                    // `ready` condition is true or unknown.
                    if ep.ready.unwrap_or(true) {
                        self.services[svc].static_endpoints.push(Addr { ip, pod });
                        self.services[svc]
                            .static_hostnames
                            .push(ep.hostname.clone());
                    }
                }
            }
        }
    }

    #[inline]
    fn note(&mut self, at: SimTime, n: Note) {
        if let Some(notes) = &mut self.notes {
            notes.push((at, n));
        }
    }

    /// A pod placed on a node that has already failed is lost from the start.
    fn mark_lost_if_node_failed(&mut self, id: PodId, node: u32, now: SimTime) {
        if self
            .nodes
            .get(node as usize)
            .is_some_and(|n| n.failed_at.is_some())
        {
            self.pods[id as usize].lost_at = Some(now);
        }
    }

    fn new_identity(&mut self, name: String) -> u32 {
        self.identities.push(name);
        (self.identities.len() - 1) as u32
    }

    fn create_pod(
        &mut self,
        sts: u32,
        ordinal: u32,
        now: SimTime,
        startup: Startup,
    ) -> Result<PodId, IpamExhausted> {
        #[cfg(debug_assertions)]
        self.check_ordered_ready(sts, ordinal, now);
        let id = self.pods.len() as PodId;
        let (node, ip) = self.place_and_address(id, now)?;
        // An ordinal keeps its identity across replacements; ordinals can be
        // created out of order (Parallel), so unseen ones are u32::MAX.
        let known = self.sts[sts as usize]
            .identities
            .get(ordinal as usize)
            .copied();
        let identity = match known.filter(|&i| i != u32::MAX) {
            Some(i) => i,
            None => {
                let i = self.new_identity(self.identity_name(sts, ordinal));
                let ids = &mut self.sts[sts as usize].identities;
                if ids.len() <= ordinal as usize {
                    ids.resize(ordinal as usize + 1, u32::MAX);
                }
                ids[ordinal as usize] = i;
                i
            }
        };
        // Ordinals below a RollingUpdate partition keep (and are recreated
        // at) the current revision.
        let revision = match self.sc.statefulsets[sts as usize].update_strategy {
            UpdateStrategy::RollingUpdate { partition } if ordinal < partition => {
                self.sts[sts as usize].current_revision
            }
            _ => self.sts[sts as usize].update_revision,
        };
        self.pods.push(Pod::new(
            Owner::StatefulSet { sts, ordinal },
            identity,
            revision,
            node,
            ip,
            now,
        ));
        let st = &mut self.sts[sts as usize];
        if st.slots.len() <= ordinal as usize {
            st.slots.resize(ordinal as usize + 1, None);
        }
        st.slots[ordinal as usize] = Some(id);
        self.mark_lost_if_node_failed(id, node, now);
        match startup {
            Startup::AlreadyReady => self.pods[id as usize].ready_at = Some(now),
            // A broken revision's pods never start.
            Startup::Normal if self.sts[sts as usize].broken.contains(&revision) => {}
            Startup::Normal => {
                let startup = self.sc.statefulsets[sts as usize].lifecycle.startup;
                self.follow.push(Follow::PodReady {
                    pod: id,
                    at: now.plus(startup),
                });
            }
        }
        self.note(now, Note::PodCreated(id));
        if startup == Startup::AlreadyReady {
            self.note(now, Note::PodReady(id));
        }
        // A Service publishing not-ready addresses lists it from now on.
        self.pod_changed(id, now);
        Ok(id)
    }

    /// Debug-build invariant (see `world::invariants`): an OrderedReady
    /// StatefulSet creates ordinal `n` only when every lower ordinal has a
    /// pod that is Running and Ready.
    #[cfg(debug_assertions)]
    fn check_ordered_ready(&self, sts: u32, ordinal: u32, now: SimTime) {
        let set = &self.sc.statefulsets[sts as usize];
        if set.pod_management_policy != PodManagementPolicy::OrderedReady {
            return;
        }
        for lower in 0..ordinal {
            let pod = self.pod_by_identity(sts, lower);
            if !pod.is_some_and(|p| self.pods[p as usize].is_ready()) {
                panic!(
                    "ksim invariant violated (StatefulSet OrderedReady ordering) at {now}: \
                     {} is being created while {} is {}\n\
                     This is a bug in ksim's model, not in the scenario; please report it with the scenario file and seed.",
                    set.pod_name(ordinal),
                    set.pod_name(lower),
                    if pod.is_some() {
                        "not Running and Ready"
                    } else {
                        "missing"
                    }
                );
            }
        }
    }

    /// The StatefulSet controller's sync (reference/balancing.md §1.2):
    /// create missing ordinals below `replicas` (OrderedReady: one at a time,
    /// each only once all lower ones are Running and Ready), then delete
    /// condemned ordinals from the highest down (OrderedReady: one at a time,
    /// waiting for each to terminate).
    pub fn reconcile(&mut self, sts: u32, now: SimTime) -> Result<(), IpamExhausted> {
        let ordered = self.sc.statefulsets[sts as usize].pod_management_policy
            == PodManagementPolicy::OrderedReady;
        let replicas = self.sts[sts as usize].replicas;
        for ord in 0..replicas {
            match self.sts[sts as usize]
                .slots
                .get(ord as usize)
                .copied()
                .flatten()
            {
                None => {
                    self.create_pod(sts, ord, now, Startup::Normal)?;
                    if ordered {
                        return Ok(());
                    }
                }
                Some(p) => {
                    let pod = &self.pods[p as usize];
                    if ordered && !pod.is_ready() {
                        return Ok(());
                    }
                }
            }
        }
        let len = self.sts[sts as usize].slots.len() as u32;
        for ord in (replicas..len).rev() {
            let Some(p) = self.sts[sts as usize].slots[ord as usize] else {
                continue;
            };
            if self.pods[p as usize].deleted_at.is_some() {
                if ordered {
                    return Ok(());
                }
                continue;
            }
            self.delete_pod(p, now);
            if ordered {
                return Ok(());
            }
        }
        self.roll(sts, now);
        Ok(())
    }

    /// The RollingUpdate step of the controller's sync (`updateStatefulSet`,
    /// reference/balancing.md §1.4): from the largest ordinal down to the
    /// partition, delete the first pod of an old revision that is not
    /// already terminating, and stop at any pod that is not yet healthy
    /// (Running, Ready, not terminating, Ready for `minReadySeconds`). One
    /// pod at a time, whatever the pod management policy.
    fn roll(&mut self, sts: u32, now: SimTime) {
        let set = &self.sc.statefulsets[sts as usize];
        let UpdateStrategy::RollingUpdate { partition } = set.update_strategy else {
            return;
        };
        let min_ready = set.min_ready;
        let state = &self.sts[sts as usize];
        let update = state.update_revision;
        for ord in (partition..state.replicas).rev() {
            let Some(p) = self.sts[sts as usize]
                .slots
                .get(ord as usize)
                .copied()
                .flatten()
            else {
                return;
            };
            let pod = &self.pods[p as usize];
            if pod.revision != update && pod.deleted_at.is_none() {
                self.delete_pod(p, now);
                return;
            }
            let Some(ready_at) = pod.ready_at.filter(|_| pod.is_ready()) else {
                return;
            };
            let available_at = ready_at.plus(min_ready);
            if available_at > now {
                self.follow.push(Follow::Reconcile {
                    sts,
                    at: available_at,
                });
                return;
            }
        }
        if partition == 0 {
            self.sts[sts as usize].current_revision = update;
        }
    }

    /// `kubectl rollout restart` (or a new image): a new template revision
    /// to roll out; `broken`: its pods never become Ready.
    pub fn rollout(&mut self, sts: u32, broken: bool, now: SimTime) -> Result<(), IpamExhausted> {
        let st = &mut self.sts[sts as usize];
        st.update_revision += 1;
        if broken {
            st.broken.push(st.update_revision);
        }
        self.reconcile(sts, now)
    }

    /// Startup finished: the pod listens and is Ready (unless deleted meanwhile).
    /// Returns whether it became Ready.
    pub fn pod_ready(&mut self, pod: PodId, now: SimTime) -> Result<bool, IpamExhausted> {
        let p = &mut self.pods[pod as usize];
        // Deleted meanwhile, or its node failed: it never starts.
        if p.deleted_at.is_some() || p.lost_at.is_some() {
            return Ok(false);
        }
        if p.down_since.take().is_some() {
            // A restarted container is up again (same pod, same IP), and
            // passes its readiness probe.
            p.ready_at = Some(now);
            p.not_ready_at = None;
            if let Some(runs_for) = p.crash_loop {
                self.follow.push(Follow::Crash {
                    pod,
                    at: now.plus(runs_for),
                });
            }
            self.note(now, Note::PodReady(pod));
            self.pod_changed(pod, now);
            return Ok(false);
        }
        p.ready_at = Some(now);
        let owner = p.owner;
        self.note(now, Note::PodReady(pod));
        self.pod_changed(pod, now);
        match owner {
            Owner::StatefulSet { sts, .. } => self.reconcile(sts, now)?,
            Owner::Deployment { dep, .. } => self.reconcile_deployment(dep, now)?,
            _ => {}
        }
        Ok(true)
    }

    /// Begin graceful deletion. No-op (returns false) if already terminating.
    pub fn delete_pod(&mut self, pod: PodId, now: SimTime) -> bool {
        let p = &mut self.pods[pod as usize];
        if p.deleted_at.is_some() {
            return false;
        }
        p.deleted_at = Some(now);
        self.note(now, Note::PodTerminating(pod));
        self.pod_changed(pod, now);
        if self.pods[pod as usize].lost_at.is_some() {
            // Its kubelet is gone: it stays Terminating.
            return true;
        }
        // The kubelet kills the process at the grace period's end.
        let l = self.lifecycle(pod);
        let drain = l.drain.min(l.grace);
        self.follow.push(Follow::PodExit {
            pod,
            at: now.plus(drain),
        });
        true
    }

    pub fn pod_exit(&mut self, pod: PodId, now: SimTime) {
        let p = &mut self.pods[pod as usize];
        p.exited_at = Some(now);
        self.note(now, Note::PodExited(pod));
        let teardown = self.lifecycle(pod).teardown;
        self.follow.push(Follow::PodGone {
            pod,
            at: now.plus(teardown),
        });
        // No longer serving: it leaves the serving-terminating fallback.
        self.pod_changed(pod, now);
    }

    /// The pod object is gone and its IP released; the controller may replace it.
    pub fn pod_gone(&mut self, pod: PodId, now: SimTime) -> Result<(), IpamExhausted> {
        let p = &mut self.pods[pod as usize];
        p.gone_at = Some(now);
        let ip = p.ip;
        self.ipam.release(ip, pod, now);
        self.note(now, Note::PodGone(pod));
        // A service publishing not-ready addresses loses it only now.
        self.pod_changed(pod, now);
        // A hand-written Pod is not replaced; a StatefulSet's ordinal is
        // (now); a Deployment's pod already was, but Recreate waits for this.
        if let Owner::Deployment { dep, .. } = self.pods[pod as usize].owner {
            return self.reconcile_deployment(dep, now);
        }
        let Some((sts, ord)) = self.pods[pod as usize].ordinal() else {
            return Ok(());
        };
        let slot = &mut self.sts[sts as usize].slots[ord as usize];
        if *slot == Some(pod) {
            *slot = None;
            // Out of its slot: out of the lists (compared at the next change).
            self.refresh_pod(pod);
        }
        self.reconcile(sts, now)
    }

    pub fn scale(&mut self, sts: u32, replicas: u32, now: SimTime) -> Result<(), IpamExhausted> {
        self.sts[sts as usize].replicas = replicas;
        self.reconcile(sts, now)
    }

    /// The pod currently occupying `name`'s ordinal.
    pub fn pod_by_identity(&self, sts: u32, ordinal: u32) -> Option<PodId> {
        self.sts[sts as usize]
            .slots
            .get(ordinal as usize)
            .copied()
            .flatten()
    }

    /// Is `pod` an endpoint of `svc` in the EndpointSlice controller's eyes:
    /// `ready = publishNotReadyAddresses || (serving && !terminating)`, and
    /// only while it has an IP (reference/dns.md §5)?
    pub fn is_endpoint(&self, svc: usize, pod: &Pod) -> bool {
        if self.sc.services[svc].publish_not_ready {
            pod.gone_at.is_none()
        } else {
            pod.is_ready()
        }
    }

    /// The EndpointSlices of `svc` as they stand: the generated one, then
    /// the hand-written ones.
    fn endpoints_now(&self, svc: usize) -> Vec<Addr> {
        self.endpoints_iter(svc).collect()
    }

    fn endpoints_iter(&self, svc: usize) -> impl Iterator<Item = Addr> + '_ {
        let s = &self.services[svc];
        (s.members.ready.iter().map(|e| e.1)).chain(s.static_endpoints.iter().copied())
    }

    /// Terminating pods of `svc` still serving: deleted, process not exited.
    fn serving_terminating_now(&self, svc: usize) -> Vec<Addr> {
        let m = &self.services[svc].members;
        m.serving_terminating.iter().map(|e| e.1).collect()
    }

    /// Pod `p`'s place in every Service that selects it, from its state now
    /// (call after any change to its readiness, phase, address or slot).
    fn refresh_pod(&mut self, p: PodId) {
        match self.pods[p as usize].owner {
            Owner::StatefulSet { sts, .. } => {
                for k in 0..self.sts[sts as usize].selected_by.len() {
                    let svc = self.sts[sts as usize].selected_by[k];
                    self.refresh_member(svc as usize, p);
                }
            }
            Owner::Deployment { dep, .. } => {
                for k in 0..self.deps[dep as usize].selected_by.len() {
                    let svc = self.deps[dep as usize].selected_by[k];
                    self.refresh_member(svc as usize, p);
                }
            }
            Owner::Pod(_) | Owner::Traced(_) => {
                for svc in 0..self.services.len() {
                    self.refresh_member(svc, p);
                }
            }
            // Only in hand-written slices, which never change.
            Owner::External { .. } => {}
        }
    }

    /// Pod `p` joins, moves in or leaves `svc`'s ready and
    /// serving-terminating lists (the rules of [`Cluster::endpoints_rebuilt`]);
    /// marks `svc` dirty if either changed.
    fn refresh_member(&mut self, svc: usize, p: PodId) {
        let s = &self.services[svc];
        let pod = &self.pods[p as usize];
        let key = |group, object, n| SliceKey { group, object, n };
        let (key, selected, listed) = match pod.owner {
            Owner::StatefulSet { sts, ordinal } => (
                key(0, sts, ordinal),
                s.selects.contains(&sts),
                self.sts[sts as usize].slots.get(ordinal as usize) == Some(&Some(p)),
            ),
            Owner::Deployment { dep, n } => (key(1, dep, n), s.selects_deps.contains(&dep), true),
            Owner::Pod(n) => (key(2, n, 0), s.selects_pods.contains(&n), true),
            Owner::Traced(n) => (
                key(3, n, 0),
                s.selects_traced.contains(&n),
                self.traced[n as usize] == Some(p),
            ),
            Owner::External { .. } => return,
        };
        if !selected {
            return;
        }
        let traced = key.group == 3;
        let ready = listed && self.is_endpoint(svc, pod) && !(traced && pod.ip == 0);
        let serving_terminating = listed
            && key.group != 2
            && !self.sc.services[svc].publish_not_ready
            && pod.deleted_at.is_some()
            && pod.is_listening();
        let a = Addr { ip: pod.ip, pod: p };
        let m = &mut self.services[svc].members;
        let changed = Members::set(&mut m.ready, key, p, ready.then_some(a))
            | Members::set(
                &mut m.serving_terminating,
                key,
                p,
                serving_terminating.then_some(a),
            );
        m.dirty |= changed;
    }

    /// Whether `view` lists what `svc`'s EndpointSlices hold now.
    fn view_is_current(&self, svc: usize, view: &View) -> bool {
        let m = &self.services[svc].members;
        view.endpoints.iter().copied().eq(self.endpoints_iter(svc))
            && view
                .serving_terminating
                .iter()
                .copied()
                .eq(m.serving_terminating.iter().map(|e| e.1))
    }

    /// [`Cluster::endpoints_now`] rebuilt from the whole pod list: the
    /// reference the incremental lists are checked against.
    #[cfg(any(test, debug_assertions))]
    fn endpoints_rebuilt(&self, svc: usize) -> Vec<Addr> {
        let s = &self.services[svc];
        let mut endpoints = Vec::new();
        for &j in &s.selects {
            for &p in self.sts[j as usize].slots.iter().flatten() {
                if self.is_endpoint(svc, &self.pods[p as usize]) {
                    endpoints.push(Addr {
                        ip: self.pods[p as usize].ip,
                        pod: p,
                    });
                }
            }
        }
        for &d in &s.selects_deps {
            for &p in &self.deps[d as usize].pods {
                if self.is_endpoint(svc, &self.pods[p as usize]) {
                    endpoints.push(Addr {
                        ip: self.pods[p as usize].ip,
                        pod: p,
                    });
                }
            }
        }
        for &n in &s.selects_pods {
            // Hand-written pods come first in `pods`, in declaration order.
            let p = n as PodId;
            if self.is_endpoint(svc, &self.pods[p as usize]) {
                endpoints.push(Addr {
                    ip: self.pods[p as usize].ip,
                    pod: p,
                });
            }
        }
        for &n in &s.selects_traced {
            if let Some(p) = self.traced[n as usize]
                && self.is_endpoint(svc, &self.pods[p as usize])
                && self.pods[p as usize].ip != 0
            {
                endpoints.push(Addr {
                    ip: self.pods[p as usize].ip,
                    pod: p,
                });
            }
        }
        endpoints.extend_from_slice(&s.static_endpoints);
        endpoints
    }

    /// [`Cluster::serving_terminating_now`] rebuilt from the whole pod list.
    #[cfg(any(test, debug_assertions))]
    fn serving_terminating_rebuilt(&self, svc: usize) -> Vec<Addr> {
        if self.sc.services[svc].publish_not_ready {
            return Vec::new(); // they are endpoints anyway until gone
        }
        let s = &self.services[svc];
        let mut out = Vec::new();
        let sts_pods = s
            .selects
            .iter()
            .flat_map(|&j| self.sts[j as usize].slots.iter().flatten().copied());
        let dep_pods = s
            .selects_deps
            .iter()
            .flat_map(|&d| self.deps[d as usize].pods.iter().copied());
        let traced = s
            .selects_traced
            .iter()
            .filter_map(|&n| self.traced[n as usize]);
        for p in sts_pods.chain(dep_pods).chain(traced) {
            let pod = &self.pods[p as usize];
            if pod.deleted_at.is_some() && pod.is_listening() {
                out.push(Addr { ip: pod.ip, pod: p });
            }
        }
        out
    }

    fn snapshot(&mut self, svc: usize) -> View {
        let endpoints = self.endpoints_now(svc);
        let serving_terminating = self.serving_terminating_now(svc);
        let s = &mut self.services[svc];
        let version = s.next_version;
        s.next_version += 1;
        View {
            version,
            endpoints,
            serving_terminating,
        }
    }

    /// The lifecycle timings of pod `p`: its StatefulSet's, or the defaults
    /// for a hand-written Pod.
    fn lifecycle(&self, p: PodId) -> crate::scenario::Lifecycle {
        use crate::scenario::defaults as d;
        if let Owner::Deployment { dep, .. } = self.pods[p as usize].owner {
            return self.sc.deployments[dep as usize].lifecycle.clone();
        }
        match self.pods[p as usize].ordinal() {
            Some((sts, _)) => self.sc.statefulsets[sts as usize].lifecycle.clone(),
            None => crate::scenario::Lifecycle {
                startup: d::STARTUP,
                drain: d::DRAIN,
                teardown: d::TEARDOWN,
                grace: d::GRACE,
                readiness: None,
                liveness: None,
            },
        }
    }

    /// Pod `p` changed: every service that may list it re-evaluates.
    fn pod_changed(&mut self, p: PodId, now: SimTime) {
        self.refresh_pod(p);
        match self.pods[p as usize].owner {
            Owner::StatefulSet { sts, .. } => self.endpoints_changed(sts, now),
            Owner::Deployment { dep, .. } => {
                let svcs: Vec<usize> = self.deps[dep as usize]
                    .selected_by
                    .iter()
                    .map(|&s| s as usize)
                    .collect();
                self.services_changed(&svcs, now);
            }
            _ => {
                let svcs: Vec<usize> = (0..self.services.len())
                    .filter(|&s| self.member(s as u32, p))
                    .collect();
                self.services_changed(&svcs, now);
            }
        }
    }

    /// Ground truth may have changed for every service selecting `sts`.
    fn endpoints_changed(&mut self, sts: u32, now: SimTime) {
        let svcs: Vec<usize> = self.sts[sts as usize]
            .selected_by
            .iter()
            .map(|&s| s as usize)
            .collect();
        self.services_changed(&svcs, now);
    }

    /// A changed EndpointSlice of any of `svcs` reaches DNS and kube-proxy
    /// after the propagation delay.
    fn services_changed(&mut self, svcs: &[usize], now: SimTime) {
        let at = now.plus(self.sc.cluster.propagation);
        for &svc in svcs {
            #[cfg(debug_assertions)]
            self.check_members(svc);
            if !self.services[svc].members.dirty {
                continue; // unchanged since the last comparison
            }
            self.services[svc].members.dirty = false;
            let s = &self.services[svc];
            if self.view_is_current(svc, s.pending.back().unwrap_or(&s.view)) {
                continue;
            }
            let snap = Rc::new(self.snapshot(svc));
            self.services[svc].pending.push_back(snap);
            self.follow.push(Follow::Propagate {
                svc: svc as u32,
                at,
            });
        }
    }

    /// Debug builds: the incremental lists of `svc` equal a rebuild from the
    /// whole pod list.
    #[cfg(debug_assertions)]
    fn check_members(&self, svc: usize) {
        assert_eq!(
            self.endpoints_now(svc),
            self.endpoints_rebuilt(svc),
            "ksim invariant violated: incremental endpoints of service {svc} differ from a rebuild"
        );
        assert_eq!(
            self.serving_terminating_now(svc),
            self.serving_terminating_rebuilt(svc),
            "ksim invariant violated: incremental serving-terminating endpoints of service {svc} differ from a rebuild"
        );
    }

    /// The oldest pending snapshot of `svc` becomes what DNS and kube-proxy see.
    pub fn propagate(&mut self, svc: u32, now: SimTime) {
        let s = &mut self.services[svc as usize];
        if let Some(v) = s.pending.pop_front() {
            let ready = v.endpoints != s.view.endpoints;
            s.view = v;
            s.view_since = now;
            self.note(now, Note::EndpointsChanged { svc, ready });
        }
    }

    /// The `hostname` an endpoint of `svc` carries in its EndpointSlice: a
    /// pod's, set by the controller iff the pod's subdomain is this Service
    /// (StatefulSet pods: `<set>-<ordinal>` under the governing Service;
    /// reference/dns.md §5), or a hand-written endpoint's as written.
    pub fn endpoint_hostname(&self, svc: u32, a: Addr) -> Option<String> {
        let s = &self.services[svc as usize];
        if let Some(k) = s.static_endpoints.iter().position(|e| *e == a) {
            return s.static_hostnames[k].clone();
        }
        let service = &self.sc.services[svc as usize];
        match self.pods.get(a.pod as usize)?.owner {
            Owner::StatefulSet { sts, ordinal } => {
                let st = &self.sc.statefulsets[sts as usize];
                (st.service == service.name && st.namespace == service.namespace)
                    .then(|| st.pod_name(ordinal))
            }
            // Deployment pods have no hostname (their template sets none).
            Owner::Deployment { .. } => None,
            Owner::Traced(n) => {
                let def = &self.sc.traced_pods[n as usize];
                if def.subdomain.as_deref() == Some(service.name.as_str()) {
                    def.hostname.clone()
                } else {
                    None
                }
            }
            Owner::Pod(n) => {
                let def = &self.sc.pods[n as usize];
                if def.subdomain.as_deref() == Some(service.name.as_str()) {
                    def.hostname.clone()
                } else {
                    None
                }
            }
            Owner::External { .. } => None,
        }
    }

    /// The namespace pod `p` runs in.
    pub fn namespace_of(&self, p: PodId) -> &str {
        match self.pods[p as usize].owner {
            Owner::StatefulSet { sts, .. } => &self.sc.statefulsets[sts as usize].namespace,
            Owner::Deployment { dep, .. } => &self.sc.deployments[dep as usize].namespace,
            Owner::Pod(n) => &self.sc.pods[n as usize].namespace,
            Owner::Traced(n) => &self.sc.traced_pods[n as usize].namespace,
            Owner::External { slice } => &self.sc.endpoint_slices[slice as usize].namespace,
        }
    }

    /// A pod's name as `kubectl` shows it (`ns/name` outside `default`).
    pub fn pod_display_name(&self, p: PodId) -> String {
        self.identities[self.pods[p as usize].identity as usize].clone()
    }

    /// The name of the pod behind `a`, for EndpointSlice `targetRef`.
    pub fn pod_name(&self, a: Addr) -> Option<String> {
        match self.pods.get(a.pod as usize)?.owner {
            Owner::StatefulSet { sts, ordinal } => {
                Some(self.sc.statefulsets[sts as usize].pod_name(ordinal))
            }
            Owner::Deployment { .. } => Some(self.pod_display_name(a.pod)),
            Owner::Pod(n) => Some(self.sc.pods[n as usize].name.clone()),
            Owner::Traced(n) => Some(self.sc.traced_pods[n as usize].name.clone()),
            Owner::External { .. } => None,
        }
    }

    /// Is `ip` held, right now, by a pod that is a ready endpoint of `svc`
    /// (the ground truth, whatever DNS and kube-proxy have seen)?
    #[inline]
    pub fn is_endpoint_ip(&self, svc: u32, ip: u32) -> bool {
        self.ipam.holder(ip).is_some_and(|p| {
            self.member(svc, p) && self.is_endpoint(svc as usize, &self.pods[p as usize])
        })
    }

    /// Is pod `p` a member of service `svc`: selected by it, or listed in
    /// one of its hand-written EndpointSlices?
    #[inline]
    pub fn member(&self, svc: u32, p: PodId) -> bool {
        let s = &self.services[svc as usize];
        match self.pods[p as usize].owner {
            Owner::StatefulSet { sts, .. } => s.selects.contains(&sts),
            Owner::Deployment { dep, .. } => s.selects_deps.contains(&dep),
            Owner::Pod(n) => {
                s.selects_pods.contains(&n) || s.static_endpoints.iter().any(|a| a.pod == p)
            }
            Owner::Traced(n) => s.selects_traced.contains(&n),
            Owner::External { .. } => s.static_endpoints.iter().any(|a| a.pod == p),
        }
    }

    /// Does pod `p` accept connections on `port` (its process is up, and the
    /// port is one of its container ports; an external host listens on its
    /// slice's ports)?
    #[inline]
    pub fn listens(&self, p: PodId, port: u16) -> bool {
        let pod = &self.pods[p as usize];
        pod.is_listening()
            && match pod.owner {
                Owner::StatefulSet { sts, .. } => {
                    self.sc.statefulsets[sts as usize].ports.contains(&port)
                }
                Owner::Deployment { dep, .. } => {
                    self.sc.deployments[dep as usize].ports.contains(&port)
                }
                Owner::Pod(n) => self.sc.pods[n as usize].ports.contains(&port),
                // `kubectl get pods` often shows no container ports (they
                // are informational); such a pod serves whatever it is asked.
                Owner::Traced(n) => {
                    let ports = &self.sc.traced_pods[n as usize].ports;
                    ports.is_empty() || ports.contains(&port)
                }
                Owner::External { slice } => self.sc.endpoint_slices[slice as usize]
                    .ports
                    .iter()
                    .any(|sp| sp.port == port),
            }
    }

    /// The identities whose traffic skew is measured for `svc`: every
    /// ordinal that ever existed of the StatefulSets it selects, the
    /// hand-written Pods it selects, and its hand-written endpoints.
    pub fn identities_of(&self, svc: u32) -> Vec<u32> {
        let s = &self.services[svc as usize];
        let mut out: Vec<u32> = Vec::new();
        for &j in &s.selects {
            out.extend(
                self.sts[j as usize]
                    .identities
                    .iter()
                    .filter(|&&i| i != u32::MAX),
            );
        }
        for &d in &s.selects_deps {
            out.extend(
                self.deps[d as usize]
                    .pods
                    .iter()
                    .map(|&p| self.pods[p as usize].identity),
            );
        }
        for &n in &s.selects_pods {
            out.push(self.pods[n as usize].identity);
        }
        for &n in &s.selects_traced {
            if let Some(p) = self.traced[n as usize] {
                out.push(self.pods[p as usize].identity);
            }
        }
        for a in &s.static_endpoints {
            out.push(self.pods[a.pod as usize].identity);
        }
        let mut seen = Vec::with_capacity(out.len());
        out.retain(|i| {
            let new = !seen.contains(i);
            seen.push(*i);
            new
        });
        out
    }

    /// Pod name, e.g. `web-3` (`ns/web-3` outside the default namespace).
    pub fn identity_name(&self, sts: u32, ordinal: u32) -> String {
        let st = &self.sc.statefulsets[sts as usize];
        qualified(&st.namespace, &st.pod_name(ordinal))
    }
}

/// A pod's name as reports show it: bare in the default namespace,
/// `namespace/name` elsewhere.
fn qualified(namespace: &str, name: &str) -> String {
    if namespace == crate::scenario::defaults::NAMESPACE {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

#[cfg(test)]
mod endpoint_tests;
