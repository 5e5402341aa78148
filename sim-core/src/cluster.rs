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

use std::collections::VecDeque;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::scenario::{Cidr, ClusterIp, PodManagementPolicy, Scenario};
use crate::time::SimTime;

pub type PodId = u32;
/// `Addr::pod` of a Service VIP (no pod behind the address itself).
pub const NO_POD: PodId = u32::MAX;

#[derive(Clone, Debug)]
pub struct Pod {
    pub sts: u32,
    pub ordinal: u32,
    pub ip: u32,
    pub created_at: SimTime,
    pub ready_at: Option<SimTime>,
    pub deleted_at: Option<SimTime>,
    pub exited_at: Option<SimTime>,
    pub gone_at: Option<SimTime>,
}

impl Pod {
    /// Ready and not terminating: what an EndpointSlice marks `ready`.
    pub fn is_ready(&self) -> bool {
        self.ready_at.is_some() && self.deleted_at.is_none()
    }

    /// The process accepts connections (Ready, or terminating but still draining).
    pub fn is_listening(&self) -> bool {
        self.ready_at.is_some() && self.exited_at.is_none()
    }
}

/// One address in an endpoint list or DNS answer, with the pod that held it
/// when the list was made ([`NO_POD`] for a Service VIP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub ip: u32,
    pub pod: PodId,
}

/// A snapshot of a Service's ready endpoints, in EndpointSlice order
/// (StatefulSets in declaration order, then ordinal order).
#[derive(Debug, Default)]
pub struct View {
    pub version: u64,
    pub endpoints: Vec<Addr>,
}

pub struct ServiceState {
    pub vip: Option<u32>,
    /// StatefulSets whose pods this service selects.
    pub selects: Vec<u32>,
    /// What DNS and kube-proxy currently act on.
    pub view: Rc<View>,
    /// When `view` was installed.
    pub view_since: SimTime,
    /// Snapshots on their way (installed after the propagation delay, in order).
    pending: VecDeque<Rc<View>>,
    next_version: u64,
}

pub struct StsState {
    pub replicas: u32,
    /// The pod occupying each ordinal, alive or terminating.
    pub slots: Vec<Option<PodId>>,
    /// Services selecting this set's pods.
    pub selected_by: Vec<u32>,
    /// Highest ordinal count ever populated (identities that existed).
    pub identities: u32,
}

/// Allocates pod IPs from the pod CIDR.
pub struct Ipam {
    cidr: Cidr,
    next: u64,
    holder: FxHashMap<u32, PodId>,
}

impl Ipam {
    fn new(cidr: Cidr) -> Ipam {
        Ipam {
            cidr,
            next: 0,
            holder: FxHashMap::default(),
        }
    }

    /// Reuse policy `never`: addresses are handed out in order and never twice.
    fn allocate(&mut self, pod: PodId) -> Option<u32> {
        if self.next >= self.cidr.usable() {
            return None;
        }
        let ip = self.cidr.base + 1 + self.next as u32;
        self.next += 1;
        self.holder.insert(ip, pod);
        Some(ip)
    }

    fn release(&mut self, ip: u32) {
        self.holder.remove(&ip);
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
    PodReady { pod: PodId, at: SimTime },
    PodExit { pod: PodId, at: SimTime },
    PodGone { pod: PodId, at: SimTime },
    Propagate { svc: u32, at: SimTime },
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
}

pub struct Cluster<'s> {
    pub sc: &'s Scenario,
    pub pods: Vec<Pod>,
    pub sts: Vec<StsState>,
    pub services: Vec<ServiceState>,
    pub ipam: Ipam,
    /// VIP → service.
    pub vips: FxHashMap<u32, u32>,
    /// Work for the world's queue; drained by the caller after each change.
    pub follow: Vec<Follow>,
}

impl<'s> Cluster<'s> {
    pub fn new(sc: &'s Scenario) -> Cluster<'s> {
        let mut next_vip = sc.cluster.ipam.service_cidr.base + 1;
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
                        // Skip addresses someone fixed by hand.
                        while sc
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
                let selects = sc
                    .statefulsets
                    .iter()
                    .enumerate()
                    .filter(|(_, st)| {
                        st.namespace == svc.namespace
                            && !svc.selector.is_empty()
                            && svc
                                .selector
                                .iter()
                                .all(|(k, v)| st.labels.get(k) == Some(v))
                    })
                    .map(|(j, _)| j as u32)
                    .collect();
                ServiceState {
                    vip,
                    selects,
                    view: Rc::new(View::default()),
                    view_since: SimTime::ZERO,
                    pending: VecDeque::new(),
                    next_version: 1,
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
                identities: 0,
            })
            .collect();
        Cluster {
            sc,
            pods: Vec::new(),
            sts,
            services,
            ipam: Ipam::new(sc.cluster.ipam.pod_cidr),
            vips,
            follow: Vec::new(),
        }
    }

    /// t = 0: `start_ready` sets come up Ready at once, with their endpoints
    /// already known to DNS; the others start their controllers.
    pub fn start(&mut self) -> Result<(), IpamExhausted> {
        for j in 0..self.sts.len() {
            if self.sc.statefulsets[j].start_ready {
                for ord in 0..self.sts[j].replicas {
                    self.create_pod(j as u32, ord, SimTime::ZERO, Startup::AlreadyReady)?;
                }
            }
        }
        for s in 0..self.services.len() {
            let snapshot = self.snapshot(s);
            self.services[s].view = Rc::new(snapshot);
        }
        for j in 0..self.sts.len() {
            self.reconcile(j as u32, SimTime::ZERO)?;
        }
        Ok(())
    }

    fn create_pod(
        &mut self,
        sts: u32,
        ordinal: u32,
        now: SimTime,
        startup: Startup,
    ) -> Result<PodId, IpamExhausted> {
        let id = self.pods.len() as PodId;
        let ip = self.ipam.allocate(id).ok_or(IpamExhausted {
            at: now,
            cidr: self.sc.cluster.ipam.pod_cidr,
        })?;
        self.pods.push(Pod {
            sts,
            ordinal,
            ip,
            created_at: now,
            ready_at: None,
            deleted_at: None,
            exited_at: None,
            gone_at: None,
        });
        let st = &mut self.sts[sts as usize];
        if st.slots.len() <= ordinal as usize {
            st.slots.resize(ordinal as usize + 1, None);
        }
        st.slots[ordinal as usize] = Some(id);
        st.identities = st.identities.max(ordinal + 1);
        match startup {
            Startup::AlreadyReady => self.pods[id as usize].ready_at = Some(now),
            Startup::Normal => {
                let startup = self.sc.statefulsets[sts as usize].lifecycle.startup;
                self.follow.push(Follow::PodReady {
                    pod: id,
                    at: now.plus(startup),
                });
            }
        }
        Ok(id)
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
        Ok(())
    }

    /// Startup finished: the pod listens and is Ready (unless deleted meanwhile).
    /// Returns whether it became Ready.
    pub fn pod_ready(&mut self, pod: PodId, now: SimTime) -> Result<bool, IpamExhausted> {
        let p = &mut self.pods[pod as usize];
        if p.deleted_at.is_some() {
            return Ok(false);
        }
        p.ready_at = Some(now);
        let sts = p.sts;
        self.endpoints_changed(sts, now);
        self.reconcile(sts, now)?;
        Ok(true)
    }

    /// Begin graceful deletion. No-op (returns false) if already terminating.
    pub fn delete_pod(&mut self, pod: PodId, now: SimTime) -> bool {
        let p = &mut self.pods[pod as usize];
        if p.deleted_at.is_some() {
            return false;
        }
        let was_ready = p.is_ready();
        p.deleted_at = Some(now);
        let sts = p.sts;
        if was_ready {
            self.endpoints_changed(sts, now);
        }
        let drain = self.sc.statefulsets[sts as usize].lifecycle.drain;
        self.follow.push(Follow::PodExit {
            pod,
            at: now.plus(drain),
        });
        true
    }

    pub fn pod_exit(&mut self, pod: PodId, now: SimTime) {
        let p = &mut self.pods[pod as usize];
        p.exited_at = Some(now);
        let teardown = self.sc.statefulsets[p.sts as usize].lifecycle.teardown;
        self.follow.push(Follow::PodGone {
            pod,
            at: now.plus(teardown),
        });
    }

    /// The pod object is gone and its IP released; the controller may replace it.
    pub fn pod_gone(&mut self, pod: PodId, now: SimTime) -> Result<(), IpamExhausted> {
        let p = &mut self.pods[pod as usize];
        p.gone_at = Some(now);
        let (sts, ord, ip) = (p.sts, p.ordinal, p.ip);
        self.ipam.release(ip);
        let slot = &mut self.sts[sts as usize].slots[ord as usize];
        if *slot == Some(pod) {
            *slot = None;
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

    fn snapshot(&mut self, svc: usize) -> View {
        let s = &mut self.services[svc];
        let version = s.next_version;
        s.next_version += 1;
        let mut endpoints = Vec::new();
        for &j in &s.selects {
            for p in self.sts[j as usize].slots.iter().flatten() {
                let pod = &self.pods[*p as usize];
                if pod.is_ready() {
                    endpoints.push(Addr {
                        ip: pod.ip,
                        pod: *p,
                    });
                }
            }
        }
        View { version, endpoints }
    }

    /// Ground truth changed for every service selecting `sts`: the new
    /// EndpointSlice state reaches DNS and kube-proxy after the propagation delay.
    fn endpoints_changed(&mut self, sts: u32, now: SimTime) {
        let at = now.plus(self.sc.cluster.propagation);
        for k in 0..self.sts[sts as usize].selected_by.len() {
            let svc = self.sts[sts as usize].selected_by[k] as usize;
            let snap = Rc::new(self.snapshot(svc));
            self.services[svc].pending.push_back(snap);
            self.follow.push(Follow::Propagate {
                svc: svc as u32,
                at,
            });
        }
    }

    /// The oldest pending snapshot of `svc` becomes what DNS and kube-proxy see.
    pub fn propagate(&mut self, svc: u32, now: SimTime) {
        let s = &mut self.services[svc as usize];
        if let Some(v) = s.pending.pop_front() {
            s.view = v;
            s.view_since = now;
        }
    }

    /// Does service `svc` select the pods of StatefulSet `sts`?
    #[inline]
    pub fn selects(&self, svc: u32, sts: u32) -> bool {
        self.services[svc as usize].selects.contains(&sts)
    }

    /// Pod name, e.g. `web-3` (`ns/web-3` outside the default namespace).
    pub fn identity_name(&self, sts: u32, ordinal: u32) -> String {
        let st = &self.sc.statefulsets[sts as usize];
        if st.namespace == crate::scenario::defaults::NAMESPACE {
            format!("{}-{}", st.name, ordinal)
        } else {
            format!("{}/{}-{}", st.namespace, st.name, ordinal)
        }
    }
}
