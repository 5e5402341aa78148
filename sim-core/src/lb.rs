//! A client's balancer state: the glue between the addresses of its current
//! answer and the policies in [`crate::balance`].
//!
//! `first`, `random` and `round-robin` need nothing beyond the client's
//! cursor and stream and stay inline in [`crate::client::Client::pick`].
//! The others keep state here:
//! * least-request counts this client's requests in flight per address
//!   (Envoy's `rq_active` as one proxy sees it) and forgets each one when
//!   its answer comes back;
//! * ring-hash and Maglev tables are built from the answer's addresses
//!   (keys `"<ip>:<port>"`, as Envoy hashes an address) and shared by every
//!   client of a group that holds the same answer, since a Maglev table is
//!   256 KiB;
//! * gRPC `pick_first` and `round_robin` follow which connections failed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

use crate::balance::{
    self, Ctx, GrpcRoundRobin, Host, LeastRequest, Maglev, PickFirst, Policy, RingHash,
};
use crate::cluster::Addr;
use crate::rng::{Stream, splitmix64};
use crate::scenario::{Balancer, HashOn};
use crate::time::SimTime;

/// Per-client balancer state.
pub enum Lb {
    /// `first`, `random`, `round-robin`, `prefer-ordinal`: stateless here.
    Inline,
    LeastRequest(Box<LeastReq>),
    Hash(Box<HashLb>),
    PickFirst(Box<PickFirst>),
    GrpcRoundRobin(Box<GrpcRoundRobin>),
}

pub struct LeastReq {
    policy: LeastRequest,
    /// Requests in flight per address of the answer (parallel to it).
    active: Vec<u32>,
    /// Which answer `active` is parallel to (bumped by each new answer).
    generation: u32,
    /// `(end, ip, index in the answer, its generation)` of each request in
    /// flight: the index finds its counter at once while the answer stands.
    inflight: BinaryHeap<Reverse<(SimTime, u32, u32, u32)>>,
}

pub struct HashLb {
    on: HashOn,
    /// The client's own key (its "source IP").
    client_key: u64,
    table: Option<Rc<HashTable>>,
}

/// A built ring or Maglev table and the addresses it was built from
/// (sorted; the table's host indices point into `ips`).
pub struct HashTable {
    ips: Vec<u32>,
    kind: TableKind,
}

enum TableKind {
    Ring(RingHash),
    Maglev(Maglev),
}

/// Tables a group's clients share: the last few built, by address set.
#[derive(Default)]
pub struct HashTables(Vec<Rc<HashTable>>);

const SHARED_TABLES: usize = 8;

impl HashTables {
    fn get(&mut self, balancer: Balancer, ips: &[u32], port: u16) -> Rc<HashTable> {
        if let Some(t) = self.0.iter().find(|t| t.ips == ips) {
            return Rc::clone(t);
        }
        let hosts: Vec<Host> = ips
            .iter()
            .map(|&ip| {
                Host::new(
                    ip as u64,
                    format!("{}:{port}", crate::scenario::fmt_ipv4(ip)),
                )
            })
            .collect();
        // Neither construction draws from the stream.
        let mut unused = Stream::derive(0, "lb/unused", 0);
        // Sizes were checked when the scenario was read.
        let kind = match balancer {
            Balancer::Maglev { table_size, .. } => {
                let mut m = Maglev::with_table_size(table_size.into()).expect("a valid table size");
                m.set_hosts(&hosts, &mut unused);
                TableKind::Maglev(m)
            }
            Balancer::RingHash { min_ring_size, .. } => {
                let mut r =
                    RingHash::with_ring_sizes(min_ring_size.into(), balance::DEFAULT_MAX_RING_SIZE)
                        .expect("a valid ring size");
                r.set_hosts(&hosts, &mut unused);
                TableKind::Ring(r)
            }
            _ => unreachable!("only hash balancers build tables"),
        };
        let t = Rc::new(HashTable {
            ips: ips.to_vec(),
            kind,
        });
        if self.0.len() == SHARED_TABLES {
            self.0.remove(0);
        }
        self.0.push(Rc::clone(&t));
        t
    }
}

impl Lb {
    pub fn new(balancer: Balancer, client_index: u32, picks: &mut Stream) -> Lb {
        match balancer {
            Balancer::LeastRequest { choices } => {
                let selection = if choices == 0 {
                    balance::Selection::FullScan
                } else {
                    balance::Selection::NChoices(choices)
                };
                let policy = LeastRequest::with_config(selection, 1.0, picks.next_u64())
                    .expect("validated choice count");
                Lb::LeastRequest(Box::new(LeastReq {
                    policy,
                    active: Vec::new(),
                    generation: 0,
                    inflight: BinaryHeap::new(),
                }))
            }
            Balancer::RingHash { on, .. } | Balancer::Maglev { on, .. } => {
                let mut k = client_index as u64;
                Lb::Hash(Box::new(HashLb {
                    on,
                    client_key: splitmix64(&mut k),
                    table: None,
                }))
            }
            Balancer::PickFirst { shuffle } => Lb::PickFirst(Box::new(PickFirst::new(shuffle))),
            Balancer::GrpcRoundRobin => Lb::GrpcRoundRobin(Box::new(GrpcRoundRobin::new())),
            _ => Lb::Inline,
        }
    }

    /// The client received a new answer `addrs` (dialled at `port`).
    pub fn answer(
        &mut self,
        balancer: Balancer,
        addrs: &[Addr],
        port: u16,
        tables: &mut HashTables,
        picks: &mut Stream,
    ) {
        let hosts = || -> Vec<Host> {
            addrs
                .iter()
                .map(|a| Host::new(a.ip as u64, String::new()))
                .collect()
        };
        match self {
            Lb::Inline => {}
            Lb::LeastRequest(lr) => {
                lr.policy.set_hosts(&hosts(), picks);
                // Requests in flight keep counting against their address.
                lr.generation = lr.generation.wrapping_add(1);
                lr.active.clear();
                lr.active.resize(addrs.len(), 0);
                let old = std::mem::take(&mut lr.inflight).into_vec();
                for Reverse((end, ip, _, _)) in old {
                    let i = addrs.iter().position(|a| a.ip == ip);
                    if let Some(i) = i {
                        lr.active[i] += 1;
                    }
                    let idx = i.map_or(u32::MAX, |i| i as u32);
                    lr.inflight.push(Reverse((end, ip, idx, lr.generation)));
                }
            }
            Lb::Hash(h) => {
                let mut ips: Vec<u32> = addrs.iter().map(|a| a.ip).collect();
                ips.sort_unstable();
                ips.dedup();
                h.table = Some(tables.get(balancer, &ips, port));
            }
            Lb::PickFirst(pf) => pf.set_hosts(&hosts(), picks),
            Lb::GrpcRoundRobin(rr) => {
                rr.set_hosts(&hosts(), picks);
                for i in 0..addrs.len() {
                    rr.set_ready(i, true, picks);
                }
            }
        }
    }

    /// The index into `addrs` this policy picks at `now`, `None` for the
    /// inline balancers (or when the policy has nothing to pick).
    pub fn pick(&mut self, addrs: &[Addr], now: SimTime, picks: &mut Stream) -> Option<usize> {
        match self {
            Lb::Inline => None,
            Lb::LeastRequest(lr) => {
                lr.settle(now);
                lr.policy.pick(Ctx::with_active(&lr.active), picks)
            }
            Lb::Hash(h) => {
                let key = match h.on {
                    HashOn::Client => h.client_key,
                    HashOn::Request => picks.next_u64(),
                };
                let t = h.table.as_ref()?;
                let i = match &t.kind {
                    TableKind::Ring(r) => r.lookup(key)?,
                    TableKind::Maglev(m) => m.lookup(key)?,
                };
                let ip = t.ips[i];
                addrs.iter().position(|a| a.ip == ip)
            }
            Lb::PickFirst(pf) => pf.pick(Ctx::default(), picks),
            Lb::GrpcRoundRobin(rr) => rr.pick(Ctx::default(), picks),
        }
    }

    /// A try to `addrs[i]` started at `now` and ends at `end`; `failed`:
    /// the connection could not be made or broke.
    pub fn tried(
        &mut self,
        addrs: &[Addr],
        i: usize,
        end: SimTime,
        failed: bool,
        picks: &mut Stream,
    ) {
        match self {
            Lb::LeastRequest(lr) => {
                if let Some(a) = lr.active.get_mut(i) {
                    *a += 1;
                    lr.inflight
                        .push(Reverse((end, addrs[i].ip, i as u32, lr.generation)));
                }
            }
            Lb::PickFirst(pf) => {
                if failed {
                    pf.connection_failed();
                } else {
                    pf.connected();
                }
            }
            Lb::GrpcRoundRobin(rr) if failed => rr.set_ready(i, false, picks),
            _ => {}
        }
    }
}

impl LeastReq {
    /// Forget requests answered by `now`.
    fn settle(&mut self, now: SimTime) {
        while let Some(&Reverse((end, _, idx, generation))) = self.inflight.peek() {
            if end > now {
                break;
            }
            self.inflight.pop();
            // Re-indexed at each new answer, so the generation matches; an
            // address the answer dropped (u32::MAX) counts nowhere.
            debug_assert_eq!(generation, self.generation);
            if let Some(a) = self.active.get_mut(idx as usize) {
                *a = a.saturating_sub(1);
            }
        }
    }
}
