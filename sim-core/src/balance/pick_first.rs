//! grpc-go `pick_first`: one connection, to the first address that accepts.

use super::{Ctx, Host, HostId, Policy};
use crate::rng::Stream;

/// A gRPC channel's connectivity state (grpc-go `connectivity.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectivityState {
    /// No connection and none being made; the next pick starts one.
    Idle,
    /// Trying the current address.
    Connecting,
    /// Connected to the current address; every RPC goes there.
    Ready,
    /// A whole pass over the addresses failed; stays here until a later
    /// attempt succeeds (gRFC A62: "sticky" TRANSIENT_FAILURE).
    TransientFailure,
}

/// grpc-go's `pick_first` as state and transitions.
///
/// Source: grpc-go `balancer/pickfirst/pickfirst.go`
/// (`pickfirstBalancer.UpdateClientConnState`, `updateSubConnState`,
/// `idlePicker.Pick`) with the subchannel's address walk and update rule
/// from `clientconn.go` (`addrConn.resetTransportAndUnlock`,
/// `addrConn.updateAddrs`); gRFC A62 for `shuffleAddressList`:
///
/// * addresses are tried **in resolver order** (shuffled once per resolver
///   update when `shuffleAddressList` is set); the first that connects is
///   used for every RPC;
/// * a failed attempt moves to the next address; failing the last one ends
///   the pass: TRANSIENT_FAILURE, and the next pass starts again at the first;
/// * losing an established connection goes IDLE; the next pick restarts from
///   the first address;
/// * a resolver update that still contains the connected address keeps the
///   connection (`updateAddrs`: "We are connected to a valid address, so do
///   nothing but update the addresses"); otherwise the walk restarts at the
///   first address of the new list.
///
/// The caller models the connection attempts: [`Policy::pick`] names the
/// address being used or tried, and the caller reports the outcome with
/// [`PickFirst::connected`], [`PickFirst::connection_failed`] or
/// [`PickFirst::connection_lost`].
#[derive(Clone, Debug)]
pub struct PickFirst {
    shuffle_address_list: bool,
    ids: Vec<HostId>,
    order: Vec<usize>,
    pos: usize,
    state: ConnectivityState,
    started: bool,
}

impl PickFirst {
    /// `pick_first`, with gRFC A62's `shuffleAddressList` on or off.
    pub fn new(shuffle_address_list: bool) -> PickFirst {
        PickFirst {
            shuffle_address_list,
            ids: Vec::new(),
            order: Vec::new(),
            pos: 0,
            state: ConnectivityState::Idle,
            started: false,
        }
    }

    /// The channel's state.
    pub fn state(&self) -> ConnectivityState {
        self.state
    }

    /// The host index in use or being tried (`None` with no addresses).
    pub fn current(&self) -> Option<usize> {
        self.order.get(self.pos).copied()
    }

    /// The attempt at [`PickFirst::current`] succeeded: READY, pinned to it.
    pub fn connected(&mut self) {
        if self.current().is_some() {
            self.state = ConnectivityState::Ready;
        }
    }

    /// The attempt at [`PickFirst::current`] failed: move to the next
    /// address (CONNECTING), or, after the last one, end the pass
    /// (TRANSIENT_FAILURE, next pass from the first address; grpc-go then
    /// backs off and asks the resolver to re-resolve). Returns the new state.
    pub fn connection_failed(&mut self) -> ConnectivityState {
        if self.order.is_empty() {
            self.state = ConnectivityState::TransientFailure;
            return self.state;
        }
        self.pos += 1;
        if self.pos == self.order.len() {
            self.pos = 0;
            self.state = ConnectivityState::TransientFailure;
        } else if self.state != ConnectivityState::TransientFailure {
            self.state = ConnectivityState::Connecting;
        }
        self.state
    }

    /// The established connection went away (GOAWAY, reset, pod gone): IDLE,
    /// and the next pick walks the list from the first address again.
    pub fn connection_lost(&mut self) {
        self.pos = 0;
        self.state = ConnectivityState::Idle;
    }
}

impl Policy for PickFirst {
    fn set_hosts(&mut self, hosts: &[Host], rng: &mut Stream) {
        let connected = match self.state {
            ConnectivityState::Ready => self.current().map(|i| self.ids[i]),
            _ => None,
        };
        self.ids.clear();
        self.ids.extend(hosts.iter().map(|h| h.id));
        self.order.clear();
        self.order.extend(0..hosts.len());
        if self.shuffle_address_list {
            rng.shuffle(&mut self.order);
        }
        if hosts.is_empty() {
            // "produced zero addresses": the subchannel is shut down.
            self.pos = 0;
            self.state = ConnectivityState::TransientFailure;
            self.started = false;
            return;
        }
        if let Some(id) = connected
            && let Some(p) = self.order.iter().position(|&i| self.ids[i] == id)
        {
            self.pos = p;
            return;
        }
        self.pos = 0;
        self.state = match self.state {
            // First update: NewSubConn + Connect.
            _ if !self.started => ConnectivityState::Connecting,
            // Connected to a removed address, or mid-walk: restart the walk.
            ConnectivityState::Ready | ConnectivityState::Connecting => {
                ConnectivityState::Connecting
            }
            s => s,
        };
        self.started = true;
    }

    /// The address in use or being tried. From IDLE this starts a new walk
    /// at the first address (grpc-go `idlePicker.Pick` calls `Connect`).
    fn pick(&mut self, _ctx: Ctx<'_>, _rng: &mut Stream) -> Option<usize> {
        let i = self.current()?;
        if self.state == ConnectivityState::Idle {
            self.state = ConnectivityState::Connecting;
        }
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectivityState::*;
    use super::*;

    fn hosts(ids: &[u64]) -> Vec<Host> {
        ids.iter()
            .map(|&i| Host::new(i, format!("10.0.0.{i}:50051")))
            .collect()
    }

    fn id(lb: &mut PickFirst, hs: &[Host], rng: &mut Stream) -> Option<u64> {
        lb.pick(Ctx::default(), rng).map(|i| hs[i].id.0)
    }

    #[test]
    fn tries_in_order_and_stays_on_the_first_that_connects() {
        let mut rng = Stream::derive(1, "test/balance/pf", 0);
        let hs = hosts(&[10, 11, 12]);
        let mut lb = PickFirst::new(false);
        lb.set_hosts(&hs, &mut rng);
        assert_eq!(
            (id(&mut lb, &hs, &mut rng), lb.state()),
            (Some(10), Connecting)
        );
        assert_eq!(lb.connection_failed(), Connecting);
        assert_eq!(id(&mut lb, &hs, &mut rng), Some(11));
        lb.connected();
        for _ in 0..5 {
            assert_eq!((id(&mut lb, &hs, &mut rng), lb.state()), (Some(11), Ready));
        }
    }

    #[test]
    fn a_failed_pass_is_transient_failure_and_restarts_at_the_first() {
        let mut rng = Stream::derive(1, "test/balance/pf", 1);
        let hs = hosts(&[1, 2]);
        let mut lb = PickFirst::new(false);
        lb.set_hosts(&hs, &mut rng);
        assert_eq!(lb.connection_failed(), Connecting);
        assert_eq!(lb.connection_failed(), TransientFailure);
        assert_eq!(id(&mut lb, &hs, &mut rng), Some(1));
        // Sticky: a failure in the next pass does not leave TRANSIENT_FAILURE.
        assert_eq!(lb.connection_failed(), TransientFailure);
        assert_eq!(id(&mut lb, &hs, &mut rng), Some(2));
        lb.connected();
        assert_eq!(lb.state(), Ready);
    }

    #[test]
    fn losing_the_connection_goes_idle_and_restarts_from_the_first() {
        let mut rng = Stream::derive(1, "test/balance/pf", 2);
        let hs = hosts(&[1, 2, 3]);
        let mut lb = PickFirst::new(false);
        lb.set_hosts(&hs, &mut rng);
        lb.connection_failed();
        lb.connection_failed();
        lb.connected();
        assert_eq!(id(&mut lb, &hs, &mut rng), Some(3));
        lb.connection_lost();
        assert_eq!(lb.state(), Idle);
        assert_eq!(id(&mut lb, &hs, &mut rng), Some(1));
        assert_eq!(lb.state(), Connecting);
    }

    /// (connected id, new resolver answer, id used after the update, state):
    /// a surviving connected address is kept wherever it now sits; a removed
    /// one restarts the walk at the new first address.
    #[test]
    fn resolver_update_keeps_a_connected_address_that_is_still_listed() {
        let cases: [(u64, &[u64], u64, ConnectivityState); 3] = [
            (2, &[3, 2, 1], 2, Ready),
            (2, &[4, 5], 4, Connecting),
            (1, &[1], 1, Ready),
        ];
        let mut rng = Stream::derive(1, "test/balance/pf", 3);
        for (conn, update, want, state) in cases {
            let hs = hosts(&[1, 2, 3]);
            let mut lb = PickFirst::new(false);
            lb.set_hosts(&hs, &mut rng);
            for _ in 1..conn {
                lb.connection_failed();
            }
            lb.connected();
            assert_eq!(id(&mut lb, &hs, &mut rng), Some(conn));
            let hs2 = hosts(update);
            lb.set_hosts(&hs2, &mut rng);
            assert_eq!(id(&mut lb, &hs2, &mut rng), Some(want), "{update:?}");
            assert_eq!(lb.state(), state, "{update:?}");
        }
    }

    #[test]
    fn an_empty_answer_is_transient_failure_with_nothing_to_pick() {
        let mut rng = Stream::derive(1, "test/balance/pf", 4);
        let mut lb = PickFirst::new(false);
        lb.set_hosts(&hosts(&[1]), &mut rng);
        lb.connected();
        lb.set_hosts(&[], &mut rng);
        assert_eq!(lb.state(), TransientFailure);
        assert_eq!(lb.pick(Ctx::default(), &mut rng), None);
    }

    /// gRFC A62: the list is shuffled once per resolver update (the stream's
    /// Fisher–Yates), and the walk follows the shuffled order.
    #[test]
    fn shuffle_address_list_shuffles_once_per_update() {
        let hs = hosts(&[0, 1, 2, 3, 4, 5, 6, 7]);
        let mut rng = Stream::derive(1, "test/balance/pf", 5);
        let mut firsts = Vec::new();
        for _ in 0..20 {
            let mut want: Vec<usize> = (0..hs.len()).collect();
            rng.clone().shuffle(&mut want);
            let mut lb = PickFirst::new(true);
            lb.set_hosts(&hs, &mut rng);
            let mut walk = Vec::new();
            for _ in 0..hs.len() {
                walk.push(lb.pick(Ctx::default(), &mut rng).unwrap());
                lb.connection_failed();
            }
            assert_eq!(walk, want);
            firsts.push(want[0]);
        }
        firsts.sort_unstable();
        firsts.dedup();
        assert!(
            firsts.len() > 3,
            "shuffle should vary the first address: {firsts:?}"
        );
    }
}
