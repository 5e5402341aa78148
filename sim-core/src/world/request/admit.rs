//! Admission at the pod: a pod with a capacity model queues a request for
//! its workers and tells when it will answer (`capacity`); a hung container
//! accepts and never answers; any other pod answers at once.

use crate::capacity::{self, Admission, PodQueue};
use crate::cluster::{Cluster, Owner, PodId};
use crate::rng::Stream;
use crate::scenario::{Capacity, Scenario};
use crate::time::SimTime;

/// The pod-side state of a run: one queue per pod that has a capacity
/// model, created when the pod is first reached, and one service-time
/// stream per workload (`service/<namespace>/<name>`).
pub(in crate::world) struct Serving {
    /// Some workload has a capacity model (else every pod answers at once).
    any: bool,
    seed: u64,
    queues: Vec<Option<PodQueue>>,
    streams: Vec<Option<Stream>>,
}

impl Serving {
    pub(super) fn new(sc: &Scenario, seed: u64) -> Serving {
        Serving {
            any: sc.statefulsets.iter().any(|s| s.capacity.is_some())
                || sc.deployments.iter().any(|d| d.capacity.is_some()),
            seed,
            queues: Vec::new(),
            streams: Vec::new(),
        }
    }

    /// Hand a request that reached `pod` at `now` to the pod's workers;
    /// `None` when the pod has no capacity model (it answers at once). A
    /// hung pod is served never (`done` is `SimTime::MAX`).
    #[inline]
    pub(super) fn serve(
        &mut self,
        cluster: &Cluster,
        pod: PodId,
        now: SimTime,
    ) -> Option<Admission> {
        // A hung container accepts and never answers.
        if cluster.pods[pod as usize].hung_since.is_some() {
            return Some(Admission::Served { done: SimTime::MAX });
        }
        if !self.any {
            return None;
        }
        let (slot, cap, namespace, name) = capacity_of(cluster.sc, cluster, pod)?;
        if self.queues.len() <= pod as usize {
            self.queues.resize(pod as usize + 1, None);
        }
        if self.streams.len() <= slot {
            self.streams.resize(slot + 1, None);
        }
        let seed = self.seed;
        let stream = self.streams[slot]
            .get_or_insert_with(|| Stream::derive(seed, &format!("service/{namespace}/{name}"), 0));
        let service = capacity::draw(&cap.service_time, stream);
        let q = self.queues[pod as usize].get_or_insert_with(|| PodQueue::new(cap));
        Some(q.admit(now, service))
    }
}

/// The capacity model of `pod`'s workload: (stream slot, model, namespace, name).
fn capacity_of<'s>(
    sc: &'s Scenario,
    cluster: &Cluster,
    pod: PodId,
) -> Option<(usize, &'s Capacity, &'s str, &'s str)> {
    match cluster.pods[pod as usize].owner {
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
