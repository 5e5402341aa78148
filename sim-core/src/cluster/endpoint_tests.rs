//! The incremental endpoint lists against a rebuild from the whole pod list,
//! after every change of a churny cluster driven by random operations
//! (deletions, crashes, hangs, node failures and drains, scaling, rollouts),
//! with the cluster's own follow-up work (readiness, exits, reconciles,
//! propagation) run in time order as the world would run it.

use proptest::prelude::*;

use super::*;
use crate::scenario::PodDef;

const SCENARIO: &str = "\
name: endpoints
duration: 1h
cluster: {nodes: 3, propagation: 1s}
services:
  - {name: web, clusterIP: None, selector: {app: web}, ports: [80]}
  - {name: mixed, selector: {tier: x}, ports: [80]}
  - {name: early, clusterIP: None, selector: {app: web}, ports: [80], publishNotReadyAddresses: true}
statefulsets:
  - name: web
    service: web
    replicas: 3
    labels: {app: web, tier: x}
    ports: [80]
    lifecycle: {startup: 2s, drain: 3s, teardown: 1s}
  - name: par
    service: web
    replicas: 3
    start_ready: true
    podManagementPolicy: Parallel
    labels: {app: web}
    ports: [80]
    lifecycle: {startup: 1s, drain: 0s, teardown: 2s}
    readinessProbe: {periodSeconds: 2, failureThreshold: 1}
    livenessProbe: {periodSeconds: 3, failureThreshold: 2}
deployments:
  - name: api
    replicas: 4
    start_ready: true
    labels: {app: web, tier: x}
    ports: [80]
    lifecycle: {startup: 1s, drain: 2s, teardown: 1s}
";

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Delete(usize),
    Crash(usize, bool),
    Hang(usize),
    FailNode(u32),
    DrainNode(u32),
    ScaleSts(u32, u32),
    ScaleDep(u32),
    RolloutSts(u32, bool),
    RolloutDep(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..8_000).prop_map(Op::Advance),
        3 => any::<usize>().prop_map(Op::Delete),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, l)| Op::Crash(k, l)),
        1 => any::<usize>().prop_map(Op::Hang),
        1 => (0u32..3).prop_map(Op::FailNode),
        1 => (0u32..3).prop_map(Op::DrainNode),
        1 => (0u32..2, 0u32..6).prop_map(|(j, r)| Op::ScaleSts(j, r)),
        1 => (0u32..7).prop_map(Op::ScaleDep),
        1 => (0u32..2, any::<bool>()).prop_map(|(j, b)| Op::RolloutSts(j, b)),
        1 => any::<bool>().prop_map(Op::RolloutDep),
    ]
}

/// The world's part: the cluster's follow-up work, run in time order.
struct Driver<'s> {
    c: Cluster<'s>,
    now: SimTime,
    queue: Vec<(SimTime, u64, Follow)>,
    seq: u64,
}

impl<'s> Driver<'s> {
    fn new(sc: &'s Scenario) -> Driver<'s> {
        let mut c = Cluster::new(sc);
        c.start().expect("the pod CIDR is large enough");
        let mut d = Driver {
            c,
            now: SimTime::ZERO,
            queue: Vec::new(),
            seq: 0,
        };
        d.settle();
        d
    }

    /// Queue the cluster's follow-ups, then check every Service.
    fn settle(&mut self) {
        for f in std::mem::take(&mut self.c.follow) {
            let at = match f {
                Follow::PodReady { at, .. }
                | Follow::PodExit { at, .. }
                | Follow::PodGone { at, .. }
                | Follow::Propagate { at, .. }
                | Follow::Reconcile { at, .. }
                | Follow::ReconcileDeployment { at, .. }
                | Follow::NodeNotReady { at, .. }
                | Follow::Crash { at, .. }
                | Follow::ReadinessFailed { at, .. }
                | Follow::LivenessFailed { at, .. }
                | Follow::NodeEvict { at, .. } => at,
            };
            self.queue.push((at, self.seq, f));
            self.seq += 1;
        }
        for svc in 0..self.c.services.len() {
            assert_eq!(
                self.c.endpoints_now(svc),
                self.c.endpoints_rebuilt(svc),
                "ready endpoints of service {svc} at {}",
                self.now
            );
            assert_eq!(
                self.c.serving_terminating_now(svc),
                self.c.serving_terminating_rebuilt(svc),
                "serving-terminating endpoints of service {svc} at {}",
                self.now
            );
        }
    }

    /// Run the follow-ups due up to `until`, one at a time.
    fn advance(&mut self, until: SimTime) {
        loop {
            let next = (0..self.queue.len()).min_by_key(|&i| (self.queue[i].0, self.queue[i].1));
            let Some(i) = next.filter(|&i| self.queue[i].0 <= until) else {
                break;
            };
            let (at, _, f) = self.queue.swap_remove(i);
            self.now = at;
            let c = &mut self.c;
            match f {
                Follow::PodReady { pod, .. } => {
                    c.pod_ready(pod, at).unwrap();
                }
                Follow::PodExit { pod, .. } => c.pod_exit(pod, at),
                Follow::PodGone { pod, .. } => c.pod_gone(pod, at).unwrap(),
                Follow::Propagate { svc, .. } => c.propagate(svc, at),
                Follow::Reconcile { sts, .. } => c.reconcile(sts, at).unwrap(),
                Follow::ReconcileDeployment { dep, .. } => c.reconcile_deployment(dep, at).unwrap(),
                Follow::NodeNotReady { node, .. } => c.node_not_ready(node, at),
                Follow::Crash { pod, .. } => {
                    c.crash_pod(pod, None, at);
                }
                Follow::ReadinessFailed { pod, .. } => c.readiness_failed(pod, at),
                Follow::LivenessFailed { pod, .. } => c.liveness_failed(pod, at),
                Follow::NodeEvict { node, .. } => {
                    for p in c.node_evict(node, at) {
                        c.deleted_by_user(p, at).unwrap();
                    }
                }
            }
            self.settle();
        }
        self.now = until;
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        let pods = self.c.pods.len();
        let c = &mut self.c;
        match *op {
            Op::Advance(ms) => {
                self.advance(now.plus(SimDuration::from_millis(ms)));
                return;
            }
            Op::Delete(k) => {
                let p = (k % pods) as PodId;
                if c.delete_pod(p, now) {
                    c.deleted_by_user(p, now).unwrap();
                }
            }
            Op::Crash(k, looping) => {
                let crash_loop = looping.then(|| SimDuration::from_secs(4));
                c.crash_pod((k % pods) as PodId, crash_loop, now);
            }
            Op::Hang(k) => {
                c.hang_pod((k % pods) as PodId, now);
            }
            Op::FailNode(n) => {
                if c.nodes[n as usize].failed_at.is_none() {
                    c.fail_node(n, now);
                }
            }
            Op::DrainNode(n) => {
                for p in c.drain_node(n, now) {
                    c.deleted_by_user(p, now).unwrap();
                }
            }
            Op::ScaleSts(j, r) => c.scale(j, r, now).unwrap(),
            Op::ScaleDep(r) => c.scale_deployment(0, r, now).unwrap(),
            Op::RolloutSts(j, broken) => c.rollout(j, broken, now).unwrap(),
            Op::RolloutDep(broken) => c.rollout_deployment(0, broken, now).unwrap(),
        }
        self.settle();
    }
}

fn scenario() -> Scenario {
    let mut sc = crate::scenario::parse(SCENARIO).expect("the test scenario parses");
    // A hand-written Pod the headless Services select too.
    sc.pods.push(PodDef {
        name: "static".into(),
        namespace: "default".into(),
        labels: [("app".to_string(), "web".to_string())].into(),
        hostname: None,
        subdomain: None,
        ip: u32::from(std::net::Ipv4Addr::new(10, 244, 200, 9)),
        ready: true,
        ports: vec![80],
    });
    sc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn incremental_endpoints_equal_a_rebuild_after_every_change(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let sc = scenario();
        let mut d = Driver::new(&sc);
        for op in &ops {
            d.apply(op);
        }
        // Once everything has played out (a crash loop never ends: bound
        // it), the last snapshot of every Service is what it holds.
        let end = d.now.plus(SimDuration::from_secs(600));
        d.advance(end);
        for svc in 0..d.c.services.len() {
            let s = &d.c.services[svc];
            let latest = s.pending.back().unwrap_or(&s.view);
            prop_assert!(d.c.view_is_current(svc, latest), "service {} at {}", svc, d.now);
        }
    }
}

#[test]
fn the_hand_written_pod_is_an_endpoint_from_the_start() {
    let sc = scenario();
    let d = Driver::new(&sc);
    let web = &d.c.services[0].view.endpoints;
    // 3 Parallel pods Ready at t = 0, then the Deployment's 4, then the Pod;
    // the OrderedReady set is still starting.
    assert_eq!(web.len(), 3 + 4 + 1);
    assert_eq!(web.last().map(|a| a.ip), Some(sc.pods[0].ip));
    // publishNotReadyAddresses lists the starting pod too, once propagated.
    let early = d.c.services[2].pending.back().expect("web-0 is on its way");
    assert_eq!(early.endpoints.len(), web.len() + 1);
}
