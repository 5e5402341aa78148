//! The cluster DNS at one simulated instant, answering DNS packets: what
//! `ksim serve-dns` puts behind its sockets.
//!
//! An [`Answerer`] plays the scenario up to the instant (as `ksim dns` does,
//! [`world::freeze`]) and answers each packet with the very function `ksim
//! dns` uses for the server's answer ([`inspect::server_answer`]: the server
//! cache when it holds the name, else the `kubernetes` plugin model, else
//! the upstream table), framed by [`wire`] (acceptance rules, EDNS0, TC and
//! size limits). It never touches a socket or a clock: the caller says which
//! instant and which transport.
//!
//! Owns the packet → reply step and the per-query log record; not the
//! sockets, threads or wall clock (`sim-cli`).

use super::inspect;
use super::wire::{self, Parsed, Transport};
use super::zone;
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::world::{self, Frozen, RunError};

/// The server's state at one instant.
pub struct Answerer<'s> {
    sc: &'s Scenario,
    seed: u64,
    frozen: Frozen<'s>,
    zone: zone::Zone,
}

/// What one packet got, for the query log (CoreDNS `log` plugin fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub id: u16,
    /// `A`, `SRV`, …; `-` when the packet had no usable question.
    pub qtype: String,
    pub name: String,
    pub request_size: usize,
    pub dnssec_ok: bool,
    /// The client's EDNS size, or 512.
    pub bufsize: usize,
    pub rcode: String,
    /// `qr,aa,tc,rd` style.
    pub flags: String,
    pub reply_size: usize,
    /// Which layer answered (`kubernetes plugin`, `server cache`, `upstream`).
    pub answered_by: String,
}

/// The reply to send (none: drop the packet) and its log record.
#[derive(Clone, Debug)]
pub struct Handled {
    pub reply: Option<Vec<u8>>,
    pub log: Logged,
}

impl<'s> Answerer<'s> {
    /// The server as it stands at `at` in the run of `sc` with `seed`.
    pub fn new(sc: &'s Scenario, seed: u64, at: SimTime) -> Result<Self, RunError> {
        let frozen = world::freeze(sc, seed, at)?;
        let zone = inspect::zone_of(sc, &frozen);
        Ok(Answerer {
            sc,
            seed,
            frozen,
            zone,
        })
    }

    /// The simulated instant answers come from.
    pub fn at(&self) -> SimTime {
        self.frozen.at
    }

    /// Move to a later instant (the run is replayed up to it: answers stay
    /// exactly what `ksim dns --at` gives for that instant).
    pub fn advance(&mut self, to: SimTime) -> Result<(), RunError> {
        if to.as_ns() <= self.frozen.at.as_ns() {
            return Ok(());
        }
        *self = Answerer::new(self.sc, self.seed, to)?;
        Ok(())
    }

    /// The server's answer and who gave it (the same call `ksim dns` makes).
    pub fn answer(&self, qname: &str, qtype: zone::QType) -> (zone::Message, String) {
        inspect::server_answer(&self.frozen, &self.zone, qname, qtype)
    }

    /// Answer one packet that arrived over `transport`.
    pub fn handle(&self, packet: &[u8], transport: Transport) -> Handled {
        let mut log = Logged {
            id: if packet.len() >= 2 {
                u16::from_be_bytes([packet[0], packet[1]])
            } else {
                0
            },
            qtype: "-".into(),
            name: "-".into(),
            request_size: packet.len(),
            dnssec_ok: false,
            bufsize: wire::UDP_MIN_SIZE,
            rcode: "-".into(),
            flags: String::new(),
            reply_size: 0,
            answered_by: "front door".into(),
        };
        let reply = match wire::parse(packet) {
            Parsed::Drop => {
                log.rcode = "dropped".into();
                None
            }
            Parsed::Reply { bytes, rcode } => {
                log.rcode = rcode.into();
                Some(bytes)
            }
            Parsed::Query(q) => {
                log.qtype = q.qtype.to_string();
                log.name = q.name.clone();
                log.dnssec_ok = q.dnssec_ok;
                log.bufsize = q.edns_size.map_or(wire::UDP_MIN_SIZE, usize::from);
                let (msg, by) = self.answer(&q.name, q.qtype);
                let (bytes, tc) = wire::encode(&q, &msg, transport);
                log.rcode = msg.rcode.to_string();
                let mut flags = vec!["qr"];
                if msg.authoritative {
                    flags.push("aa");
                }
                if tc {
                    flags.push("tc");
                }
                if q.recursion_desired {
                    flags.push("rd");
                }
                if wire::recursion_available(&msg) {
                    flags.push("ra");
                }
                log.flags = flags.join(",");
                log.answered_by = by;
                Some(bytes)
            }
        };
        log.reply_size = reply.as_ref().map_or(0, Vec::len);
        Handled { reply, log }
    }
}
