//! The client's resolver and the balancer's pick: the search walk (one rule,
//! [`crate::dns::search::walk`], shared with `ksim dns --from`), the answer
//! a client keeps, background re-resolution (Envoy's timer, gRPC's
//! `ResolveNow`), and which address of the answer a try goes to.

use super::{Attempt, Env, HOST_SELECTION_RETRIES, Pending, Requests};
use crate::client::Answer;
use crate::cluster::{Addr, Cluster};
use crate::dns::search::{self, Lookup, Walked};
use crate::dns::{self, Ask, NameId, Nameserver, NodeCaches, Server};
use crate::mesh::MeshRun;
use crate::metrics::{ClientDns, Outcome};
use crate::rng::Stream;
use crate::scenario::{Balancer, Refresh};
use crate::time::{SimDuration, SimTime};
use crate::world::{Event, Observer};

/// One client's lookup as the search walk sees it: each query answered by
/// its node's cache or the cluster DNS (or the node's upstream, which knows
/// no cluster names), unless the pod's sidecar answers the name first.
pub(crate) struct Resolving<'a, 's> {
    pub server: &'a mut Server,
    pub nodes: &'a mut NodeCaches,
    pub cluster: &'a Cluster<'s>,
    pub mesh: Option<&'a MeshRun<'s>>,
    pub shuffle: Option<&'a mut Stream>,
    pub stats: &'a mut ClientDns,
    pub nameserver: Nameserver,
    pub node: u32,
    pub group: u32,
    pub now: SimTime,
    /// The TTL of the last response (a failed walk's negative TTL).
    pub last_ttl_s: u64,
}

impl Lookup<NameId, Ask> for Resolving<'_, '_> {
    type Answer = dns::Response;

    /// An injected pod's DNS proxy answers names istiod knows.
    fn intercept(&mut self, name: NameId) -> Option<dns::Response> {
        self.mesh?
            .dns_answer(self.group, self.server.target(name), self.cluster, self.now)
    }

    fn query(&mut self, name: NameId, ask: Ask) -> (dns::Rcode, Option<dns::Response>) {
        self.stats.queries += 1;
        if self.nameserver == Nameserver::Upstream {
            // The node's upstream knows no cluster names.
            self.stats.upstream_queries += 1;
            return (dns::Rcode::NxDomain, None);
        }
        let resp = if self.nodes.enabled() {
            self.nodes.query(
                self.node,
                name,
                ask,
                self.now,
                self.server,
                self.cluster,
                self.shuffle.as_deref_mut(),
            )
        } else {
            self.server.query(name, ask, self.now, self.cluster)
        };
        self.last_ttl_s = resp.ttl_s;
        (resp.data.rcode, resp.has_addresses().then_some(resp))
    }
}

/// The query types a resolver sends for each name.
pub(crate) fn asks(aaaa: bool) -> &'static [Ask] {
    if aaaa {
        &[Ask::A, Ask::Aaaa]
    } else {
        &[Ask::A]
    }
}

impl Requests {
    /// Walk client `c`'s candidate names (reference/dns.md §4,
    /// [`crate::dns::search`]). `Err` carries the last negative TTL.
    pub(super) fn walk<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        now: SimTime,
    ) -> Result<dns::Response, u64> {
        let client = &self.clients[c as usize];
        let group = client.group as usize;
        let plan = &self.plans[group];
        let stats = &mut env.metrics.client_dns[group];
        stats.lookups += 1;
        let mut lookup = Resolving {
            server: env.server,
            nodes: env.nodes,
            cluster: env.cluster,
            mesh: env.mesh,
            shuffle: self.shuffle.as_mut(),
            stats,
            nameserver: plan.server,
            node: client.node,
            group: group as u32,
            now,
            last_ttl_s: 0,
        };
        let walked = search::walk(
            &plan.candidates,
            asks(plan.resolver.aaaa),
            Ask::A,
            plan.resolver.search,
            &mut lookup,
        );
        match walked {
            Walked::Found(_, resp) => {
                #[cfg(debug_assertions)]
                crate::world::invariants::check_answer(env.cluster, &resp, now);
                Ok(resp)
            }
            Walked::Failed { .. } => {
                let ttl = lookup.last_ttl_s;
                lookup.stats.failed_lookups += 1;
                Err(ttl)
            }
        }
    }

    /// Install a fresh answer in client `c`'s state.
    fn receive(&mut self, c: u32, resp: &dns::Response, now: SimTime) {
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[client.group as usize];
        // The server's `loadbalance` shuffles every response; an answer from
        // a node cache keeps the order that cache stored.
        let shuffle = self.shuffle.as_mut().filter(|_| resp.node_at.is_none());
        client.addrs = if shuffle.is_none() && plan.subset.is_none() {
            // As the server answered: share its snapshot.
            Answer::shared(&resp.data)
        } else {
            let mut own = resp.data.addrs.clone();
            if let Some(s) = shuffle {
                s.shuffle(&mut own);
            }
            if let Some(sub) = plan.subset {
                crate::client::keep_subset(&mut own, sub, client.index, plan.subset_seed);
            }
            Answer::owned(own, resp.data.svc)
        };
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
    pub(super) fn no_address<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        group: u32,
        now: SimTime,
        try_index: u32,
    ) {
        env.metrics
            .attempt(now, group, Outcome::NoAddress, None, SimDuration::ZERO);
        env.observer.attempt(&Attempt {
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
    pub(in crate::world) fn refresh<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        now: SimTime,
    ) {
        self.clients[c as usize].refresh_pending = false;
        let refresh = self.plans[self.clients[c as usize].group as usize]
            .resolver
            .refresh;
        let result = self.walk(env, c, now);
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
                        client.addrs = Answer::default();
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
                        if at < env.end {
                            env.queue.schedule(at, Event::Refresh(c));
                        }
                    }
                    Refresh::Lazy => {}
                }
            }
        }
        if let Refresh::Every(period) = refresh {
            let at = now.plus(period);
            self.clients[c as usize].refresh_pending = true;
            if at < env.end {
                env.queue.schedule(at, Event::Refresh(c));
            }
        }
    }

    /// Client `c` lost a connection (it failed, or the server closed it):
    /// gRPC asks its resolver to re-resolve (`ResolveNow`), no sooner than
    /// the minimum interval after the last (reference/balancing.md §8).
    pub(super) fn connection_lost<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        c: u32,
        now: SimTime,
    ) {
        let group = self.clients[c as usize].group;
        if let Refresh::OnFailure(min_interval) = self.plans[group as usize].resolver.refresh
            && !self.clients[c as usize].refresh_pending
        {
            let client = &mut self.clients[c as usize];
            client.refresh_pending = true;
            let at = now.max(client.last_resolved.plus(min_interval));
            if at < env.end {
                env.queue.schedule(at, Event::Refresh(c));
            }
        }
    }

    /// The address a new connection for try `p` goes to: resolve (or use
    /// the cache) and pick. `None` when there was no address (already
    /// counted). Returns the address, its service and the index of the pick.
    pub(super) fn resolve_pick<O: Observer>(
        &mut self,
        env: &mut Env<'_, '_, O>,
        p: &Pending,
        now: SimTime,
    ) -> Option<(Addr, u32, usize)> {
        let c = p.client;
        let client = &mut self.clients[c as usize];
        let group = client.group;
        let plan = &self.plans[group as usize];
        let resolver = plan.resolver;

        let from_cache = client.cache_valid(now);
        if from_cache {
            env.metrics.client_dns[group as usize].cache_hits += 1;
        } else if resolver.refresh != Refresh::Lazy || client.negative_valid(now) {
            // Background resolvers never resolve on the request path: no
            // hosts means no address. A remembered failure fails at once.
            if resolver.refresh == Refresh::Lazy {
                env.metrics.client_dns[group as usize].negative_cache_hits += 1;
            }
            self.no_address(env, c, group, now, p.tries);
            return None;
        } else {
            match self.walk(env, c, now) {
                Ok(resp) => {
                    self.receive(c, &resp, now);
                    self.clients[c as usize].hold(resolver.cache, now, resp.ttl_s);
                }
                Err(ttl_s) => {
                    let client = &mut self.clients[c as usize];
                    client.cached = false;
                    client.hold_failure(resolver.negative_cache, now, ttl_s);
                    self.no_address(env, c, group, now, p.tries);
                    return None;
                }
            }
        }
        let client = &mut self.clients[c as usize];
        let plan = &self.plans[group as usize];
        let mut idx = match plan.balancer {
            // A smart client writes to the primary when the answer has it.
            Balancer::PreferOrdinal { ordinal } => {
                let pods = &env.cluster.pods;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::inspect::inspect;
    use crate::dns::zone::QType;

    /// A lookup that records the names it is asked, in order.
    struct Recorder<L>(L, Vec<NameId>);

    impl<L: Lookup<NameId, Ask>> Lookup<NameId, Ask> for Recorder<L> {
        type Answer = L::Answer;
        fn intercept(&mut self, name: NameId) -> Option<L::Answer> {
            self.0.intercept(name)
        }
        fn query(&mut self, name: NameId, ask: Ask) -> (dns::Rcode, Option<L::Answer>) {
            if self.1.last() != Some(&name) {
                self.1.push(name);
            }
            self.0.query(name, ask)
        }
    }

    /// Clients whose walks differ: found at once; found after an NXDOMAIN;
    /// and `default`, whose second name `default.svc.cluster.local.` is
    /// NODATA (a namespace), which ends musl's walk while glibc goes on to
    /// the Service `default` of namespace `prod` through an extra search
    /// domain.
    const SCENARIO: &str = "
name: walks
duration: 10s
services:
  - {name: web, clusterIP: None, selector: {app: web}, ports: [{name: http, port: 80}]}
  - {name: default, namespace: prod, clusterIP: None, selector: {app: d}, ports: [{port: 80}]}
statefulsets:
  - {name: web, service: web, replicas: 2, start_ready: true}
  - {name: d, namespace: prod, service: default, replicas: 2, start_ready: true}
clients:
  - {name: short, target: web:80, rate: 1}
  - {name: ns-glibc, target: web.default:80, rate: 1}
  - {name: ns-musl, target: web.default:80, rate: 1, resolver: musl}
  - name: nodata-glibc
    target: default:80
    rate: 1
    dnsConfig: {searches: [prod.svc.cluster.local]}
  - name: nodata-musl
    target: default:80
    rate: 1
    resolver: musl
    dnsConfig: {searches: [prod.svc.cluster.local]}
  - {name: fqdn-musl, target: web.default.svc.cluster.local:80, rate: 1, resolver: musl}
";

    #[test]
    fn the_request_path_and_ksim_dns_take_the_same_search_walk() {
        let sc = crate::scenario::parse(SCENARIO).expect("the scenario parses");
        let at = SimTime(5_000_000_000);
        let mut walks = Vec::new();
        for (group, g) in sc.clients.iter().enumerate() {
            let shown = inspect(&sc, 1, at, &g.target.host, QType::A, Some(&g.name))
                .expect("ksim dns answers");
            let mut shown: Vec<String> = shown
                .path
                .expect("a --from inspection has a path")
                .steps
                .into_iter()
                .map(|s| s.name)
                .collect();
            shown.dedup();

            let mut frozen = crate::world::freeze(&sc, 1, at).expect("the run freezes");
            let plan = &frozen.plans[group];
            let mut stats = ClientDns::default();
            let lookup = Resolving {
                server: &mut frozen.server,
                nodes: &mut frozen.nodes,
                cluster: &frozen.cluster,
                mesh: None,
                shuffle: None,
                stats: &mut stats,
                nameserver: plan.server,
                node: 0,
                group: group as u32,
                now: at,
                last_ttl_s: 0,
            };
            let mut rec = Recorder(lookup, Vec::new());
            search::walk(
                &plan.candidates,
                asks(plan.resolver.aaaa),
                Ask::A,
                plan.resolver.search,
                &mut rec,
            );
            let sent: Vec<String> = rec
                .1
                .iter()
                .map(|&id| frozen.server.name(id).to_string())
                .collect();
            assert_eq!(sent, shown, "client group `{}`", g.name);
            walks.push(sent.len());
        }
        // The cases are what they claim: one name; two (past an NXDOMAIN);
        // glibc past a NODATA that ends musl's walk; and a 4-dot name under
        // ndots:5, which musl too walks through the search list first.
        assert_eq!(walks, [1, 2, 2, 4, 2, 4]);
    }
}
