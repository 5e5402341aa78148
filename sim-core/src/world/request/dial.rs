//! The connection a try makes: the client dials itself (through kube-proxy
//! for a VIP), from outside the cluster (node port, load balancer), or
//! through its Istio sidecar; the verdict is `net`'s.

use super::{Env, MAX_TRIED, Pending, Requests};
use crate::client::Client;
use crate::cluster::Addr;
use crate::mesh::MeshRun;
use crate::metrics::Outcome;
use crate::net;
use crate::scenario::Entry;
use crate::time::{SimDuration, SimTime};
use crate::world::Observer;

impl Requests {
    /// Client `c` dials `addr` of service `svc` itself (through kube-proxy
    /// for a VIP).
    #[inline]
    pub(super) fn dial_direct<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        addr: Addr,
        svc: u32,
        now: SimTime,
    ) -> net::Dial {
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        let port = plan.port_for(addr, svc);
        let node = client.node;
        let mut proxy = proxy_for(&mut self.proxy, client, c, node, now);
        net::dial(
            env.cluster,
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
    pub(super) fn dial_from_outside<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        svc: u32,
        now: SimTime,
    ) -> net::Dial {
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        let node = match plan.entry {
            Entry::LoadBalancer => {
                let eligible = net::lb_nodes(env.cluster, svc).count();
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
                net::lb_nodes(env.cluster, svc)
                    .nth(k)
                    .expect("k is below the count")
            }
            _ => client.node,
        };
        let mut proxy = proxy_for(&mut self.proxy, client, c, node, now);
        net::dial_external(
            env.cluster,
            svc,
            plan.vip_port[svc as usize],
            plan.connect_timeout,
            &mut proxy,
        )
    }

    /// An injected client sends to `addr`: its sidecar accepts, picks the
    /// upstream (the EDS view for a VIP, the address itself for a pod IP),
    /// and answers 503 when the upstream connection fails (`mesh`).
    pub(super) fn sidecar_dial<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        p: &mut Pending,
        addr: Addr,
        svc: u32,
        now: SimTime,
    ) -> net::Dial {
        let c = p.client;
        let mesh = env.mesh.expect("an injected client implies a mesh");
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
        let headless = env.sc.services[svc as usize].is_headless();
        if !mesh.known[svc as usize] || (!via_vip && !headless) {
            p.passthrough = true;
            let mut d = if via_vip {
                self.dial_direct(env, c, addr, svc, now)
            } else {
                let client = &self.clients[c as usize];
                let plan = &self.plans[client.group as usize];
                net::dial_pod(
                    env.cluster,
                    addr,
                    svc,
                    port,
                    plan.connect_timeout,
                    client.group,
                )
            };
            let mesh = env.mesh.expect("mesh");
            if let Some(pod) = d.reached
                && mesh.tls_mismatch(svc, false, mesh.pod_injected(env.cluster, pod))
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
            (true, None) => return self.dial_direct(env, c, addr, svc, now),
            // ORIGINAL_DST: the address the app dialled.
            (false, _) => addr,
        };
        let mut d = net::dial_pod(
            env.cluster,
            target,
            svc,
            port,
            mesh.mesh.connect_timeout,
            client.group,
        );
        d.via_vip = via_vip;
        if let Some(pod) = d.reached
            && mesh.tls_mismatch(svc, true, mesh.pod_injected(env.cluster, pod))
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

    /// Tell client `c`'s sidecar how a request to `dialled` went: its
    /// circuit breaker and balancer count it, its outlier detector judges
    /// the host (5xx and local-origin failures together). The try ran
    /// `now..end`.
    pub(super) fn sidecar_saw(
        &mut self,
        mesh: &MeshRun,
        c: u32,
        svc: u32,
        dialled: Option<Addr>,
        outcome: Outcome,
        std::ops::Range { start: now, end }: std::ops::Range<SimTime>,
    ) {
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
}

/// kube-proxy on `node` as client `c` meets it at `now` (its session
/// affinity memory and its draws for the per-connection pick).
fn proxy_for<'a>(
    state: &'a mut net::KubeProxy,
    client: &'a mut Client,
    c: u32,
    node: u32,
    now: SimTime,
) -> net::Proxy<'a> {
    net::Proxy {
        state,
        node,
        client: c,
        group: client.group,
        now,
        affinity: &mut client.affinity,
        picks: &mut client.picks,
    }
}
