//! The determinism checker: run a scenario twice and find the first event
//! where the two runs differ (`ksim run --check-determinism`).
//!
//! Each run's log is every event the loop dispatches and every attempt it
//! counts, in order. Memory stays small whatever the run's length: the first
//! run keeps a rolling hash every [`BLOCK`] records; the second compares at
//! each checkpoint and keeps only the records of its current block. When a
//! block differs, a third run (the first run again) replays that block, and
//! the two blocks are compared record by record for the first divergence.
//! The two reports are compared byte for byte as well.
//!
//! Owns nothing of the model; it only watches runs through [`Observer`].

use std::fmt;

use crate::scenario::{Scenario, fmt_ipv4};
use crate::time::SimTime;
use crate::world::{Attempt, Event, Observer};
use crate::{RunError, RunOptions};

/// Records per checkpoint (and per block kept for the comparison).
pub const BLOCK: u64 = 4096;

/// One entry of a run's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// An event the loop dispatched.
    Event(SimTime, Event),
    /// An attempt the run counted.
    Attempt(Attempt),
}

impl Record {
    /// Simulated time of the record.
    pub fn at(&self) -> SimTime {
        match self {
            Record::Event(t, _) => *t,
            Record::Attempt(a) => a.at,
        }
    }

    /// `event` or `attempt`.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Event(..) => "event",
            Record::Attempt(_) => "attempt",
        }
    }

    /// The record's fields as integers, for hashing.
    fn words(&self) -> [u64; 6] {
        match *self {
            Record::Event(t, ev) => {
                let (tag, x) = event_parts(ev);
                [0, t.as_ns(), tag as u64, x as u64, 0, 0]
            }
            Record::Attempt(a) => [
                1,
                a.at.as_ns(),
                ((a.client as u64) << 32) | a.try_index as u64,
                (a.outcome as u64) << 8 | a.stale.map_or(0xff, |l| l as u64),
                ((a.dialled.map_or(0, |d| d.ip) as u64) << 32)
                    | a.chosen.map_or(0, |c| c.ip) as u64,
                a.reached.map_or(u64::MAX, |p| p as u64),
            ],
        }
    }
}

/// An event's variant number and payload.
fn event_parts(ev: Event) -> (u32, u32) {
    match ev {
        Event::Arrival(x) => (0, x),
        Event::PodReady(x) => (1, x),
        Event::ChurnDelete(x) => (2, x),
        Event::PodExit(x) => (3, x),
        Event::PodGone(x) => (4, x),
        Event::Propagate(x) => (5, x),
        Event::Timeline(x) => (6, x),
        Event::Refresh(x) => (7, x),
        Event::Reconcile(x) => (8, x),
        Event::ReconcileDeployment(x) => (9, x),
        Event::NodeNotReady(x) => (10, x),
        Event::Crash(x) => (11, x),
        Event::Trace(x) => (12, x),
        Event::NodeEvict(x) => (13, x),
        Event::Retry(x) => (14, x),
        Event::MeshPush(x) => (15, x),
        Event::ReadinessFailed(x) => (16, x),
        Event::LivenessFailed(x) => (17, x),
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Event(t, ev) => write!(f, "at {t}: event {ev:?}"),
            Record::Attempt(a) => {
                write!(
                    f,
                    "at {}: attempt by client {} (try {}): {}",
                    a.at,
                    a.client,
                    a.try_index,
                    a.outcome.name()
                )?;
                if let Some(d) = a.dialled {
                    write!(f, ", dialled {}", fmt_ipv4(d.ip))?;
                }
                if let Some(l) = a.stale {
                    write!(f, ", stale via {}", l.name())?;
                }
                Ok(())
            }
        }
    }
}

/// Where two runs first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the first differing record (0-based, events and attempts together).
    pub index: u64,
    /// The first run's record there (`None`: that run had ended).
    pub first: Option<Record>,
    /// The second run's record there (`None`: that run had ended).
    pub second: Option<Record>,
    /// The replay of the first run did not reproduce it: the runs differ
    /// somewhere in records `[index, index + BLOCK)` and `first` is
    /// what the replay saw.
    pub approximate: bool,
}

impl Divergence {
    /// Simulated time of the divergence (the earlier of the two records).
    pub fn at(&self) -> SimTime {
        match (self.first, self.second) {
            (Some(a), Some(b)) => a.at().min(b.at()),
            (Some(a), None) | (None, Some(a)) => a.at(),
            (None, None) => SimTime::ZERO,
        }
    }
}

/// The verdict of [`check`].
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The first run's report (what `ksim run` prints).
    pub report: crate::Report,
    /// Records (events and attempts) in the first run.
    pub records: u64,
    /// Events dispatched in the first run.
    pub events: u64,
    pub divergence: Option<Divergence>,
    /// The two reports were byte-identical (JSON).
    pub reports_identical: bool,
}

impl Verdict {
    pub fn is_deterministic(&self) -> bool {
        self.divergence.is_none() && self.reports_identical
    }

    /// One line (or a few) for a terminal.
    pub fn to_text(&self) -> String {
        match &self.divergence {
            None if self.reports_identical => format!(
                "deterministic: {} events identical (and {} attempts), reports identical\n",
                self.events,
                self.records - self.events
            ),
            None => format!(
                "NOT deterministic: {} events identical, but the reports differ\n",
                self.events
            ),
            Some(d) => {
                let show =
                    |r: &Option<Record>| r.map_or("(run ended)".to_string(), |r| r.to_string());
                format!(
                    "NOT deterministic: the runs diverge at {} (record #{}{})\n  first run:  {}\n  second run: {}\n",
                    d.at(),
                    d.index,
                    if d.approximate {
                        format!(
                            ", somewhere in the next {BLOCK} records; the replay did not reproduce the first run"
                        )
                    } else {
                        String::new()
                    },
                    show(&d.first),
                    show(&d.second)
                )
            }
        }
    }
}

fn mix(h: u64, words: [u64; 6]) -> u64 {
    let mut bytes = [0u8; 48];
    for (i, w) in words.iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    xxhash_rust::xxh64::xxh64(&bytes, h)
}

/// What a recording run does with its log.
enum Mode<'a> {
    /// Keep a checkpoint hash every BLOCK records.
    Checkpoints(Vec<u64>),
    /// Compare with these checkpoints; keep the current block until one differs.
    Compare {
        expected: &'a [u64],
        block: Vec<Record>,
        /// The first block that differed, and its records.
        differs: Option<(u64, Vec<Record>)>,
    },
    /// Keep block `n`'s records.
    Capture { n: u64, block: Vec<Record> },
}

struct Recorder<'a> {
    mode: Mode<'a>,
    hash: u64,
    records: u64,
    events: u64,
}

impl<'a> Recorder<'a> {
    fn new(mode: Mode<'a>) -> Recorder<'a> {
        Recorder {
            mode,
            hash: 0,
            records: 0,
            events: 0,
        }
    }

    fn push(&mut self, r: Record) {
        self.hash = mix(self.hash, r.words());
        let i = self.records;
        self.records += 1;
        let end_of_block = self.records.is_multiple_of(BLOCK);
        match &mut self.mode {
            Mode::Checkpoints(c) => {
                if end_of_block {
                    c.push(self.hash);
                }
            }
            Mode::Compare {
                expected,
                block,
                differs,
            } => {
                if differs.is_some() {
                    return;
                }
                block.push(r);
                if end_of_block {
                    let n = i / BLOCK;
                    if expected.get(n as usize) != Some(&self.hash) {
                        *differs = Some((n, std::mem::take(block)));
                    }
                    block.clear();
                }
            }
            Mode::Capture { n, block } => {
                if i / BLOCK == *n {
                    block.push(r);
                }
            }
        }
    }
}

impl Observer for Recorder<'_> {
    const EVENTS: bool = true;
    fn attempt(&mut self, a: &Attempt) {
        self.push(Record::Attempt(*a));
    }
    fn event(&mut self, at: SimTime, ev: &Event) {
        self.events += 1;
        self.push(Record::Event(at, *ev));
    }
}

/// Run `sc` twice with `opts` and compare the runs (see the module doc).
pub fn check(sc: &Scenario, opts: &RunOptions) -> Result<Verdict, RunError> {
    check_perturbed(sc, opts, None)
}

/// [`check`], with the second run perturbed at event `perturb` (the world's
/// test hook, [`crate::world::run_perturbed`]): for testing the checker itself.
#[doc(hidden)]
pub fn check_perturbed(
    sc: &Scenario,
    opts: &RunOptions,
    perturb: Option<u64>,
) -> Result<Verdict, RunError> {
    let seed = opts.seed.unwrap_or(sc.seed);
    let window = opts.window.unwrap_or(crate::scenario::defaults::WINDOW);
    let run = |rec: &mut Recorder, perturb: Option<u64>| -> Result<crate::Report, RunError> {
        crate::run_reported(sc, seed, window, rec, perturb)
    };
    crate::check_windows(sc, window)?;

    let mut first = Recorder::new(Mode::Checkpoints(Vec::new()));
    let report1 = run(&mut first, None)?;
    let Mode::Checkpoints(checkpoints) = first.mode else {
        unreachable!()
    };
    let mut second = Recorder::new(Mode::Compare {
        expected: &checkpoints,
        block: Vec::new(),
        differs: None,
    });
    let report2 = run(&mut second, perturb)?;
    let (records2, hash2) = (second.records, second.hash);
    let Mode::Compare { block, differs, .. } = second.mode else {
        unreachable!()
    };
    // A difference inside a full block, or in the last partial block (or
    // one run longer than the other).
    let differs = differs.or_else(|| {
        (records2 != first.records || hash2 != first.hash)
            .then(|| (records2.min(first.records) / BLOCK, block))
    });
    let divergence = match differs {
        None => None,
        Some((n, theirs)) => {
            let mut replay = Recorder::new(Mode::Capture {
                n,
                block: Vec::new(),
            });
            run(&mut replay, None)?;
            let Mode::Capture { block: ours, .. } = replay.mode else {
                unreachable!()
            };
            let k = (0..ours.len().max(theirs.len())).find(|&k| ours.get(k) != theirs.get(k));
            Some(match k {
                Some(k) => Divergence {
                    index: n * BLOCK + k as u64,
                    first: ours.get(k).copied(),
                    second: theirs.get(k).copied(),
                    approximate: false,
                },
                None => Divergence {
                    index: n * BLOCK,
                    first: ours.first().copied(),
                    second: theirs.first().copied(),
                    approximate: true,
                },
            })
        }
    };
    let reports_identical = report1.to_json() == report2.to_json();
    Ok(Verdict {
        report: report1,
        records: first.records,
        events: first.events,
        divergence,
        reports_identical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    const SCENARIO: &str = r#"
name: tiny
duration: 30s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
statefulsets:
  - {name: web, service: nginx, replicas: 3, start_ready: true}
clients:
  - {name: app, count: 4, target: "nginx:80", rate: 100, resolver: {cache: fixed(5s)}}
events:
  - {at: 10s, delete_pod: web-1}
"#;

    #[test]
    fn the_same_scenario_twice_is_deterministic() {
        let sc = crate::scenario::parse(SCENARIO).unwrap();
        let v = check(&sc, &RunOptions::default()).unwrap();
        assert!(v.is_deterministic(), "{}", v.to_text());
        assert!(v.events > 6000, "{} events", v.events);
        assert!(v.to_text().starts_with("deterministic: "));
    }

    #[test]
    fn a_perturbed_event_is_found_where_it_happened() {
        let sc = crate::scenario::parse(SCENARIO).unwrap();
        // Delay the 5000th event of the second run (beyond the first block,
        // so the checkpoint path and the replay are both exercised).
        let v = check_perturbed(&sc, &RunOptions::default(), Some(5000)).unwrap();
        let d = v.divergence.clone().expect("the perturbation is detected");
        assert!(!d.approximate);
        assert!(!v.reports_identical || d.index > 0);
        // Replaying the first run up to the perturbed event gives the same
        // log: the divergence is the perturbed event itself (the 5000th
        // event, so at a record index at least 5000 counting attempts).
        let (Some(Record::Event(t1, e1)), Some(second)) = (d.first, d.second) else {
            panic!("the first run's record is the delayed event: {d:?}");
        };
        assert!(d.index >= 5000);
        assert_ne!(Some(Record::Event(t1, e1)), Some(second));
        // Count events up to the divergence in a plain run: it is event 5000.
        struct Count(u64, Option<(SimTime, Event)>);
        impl Observer for Count {
            const EVENTS: bool = true;
            fn event(&mut self, at: SimTime, ev: &Event) {
                if self.0 == 5000 {
                    self.1 = Some((at, *ev));
                }
                self.0 += 1;
            }
        }
        let mut c = Count(0, None);
        crate::world::run_observed(&sc, sc.seed, SimDuration::from_secs(10), &mut c).unwrap();
        assert_eq!(c.1, Some((t1, e1)));
        assert!(
            v.to_text()
                .contains("NOT deterministic: the runs diverge at")
        );
    }

    #[test]
    fn a_perturbation_in_the_last_partial_block_is_found_too() {
        let sc = crate::scenario::parse(SCENARIO).unwrap();
        let plain = check(&sc, &RunOptions::default()).unwrap();
        let last = plain.events - 3;
        let v = check_perturbed(&sc, &RunOptions::default(), Some(last)).unwrap();
        let d = v.divergence.expect("detected");
        assert!(d.index >= last, "{d:?}");
    }
}
