//! Composable checks over one run: invariants over the attempt stream
//! ([`Check::always`]), goals that must be met at some point
//! ([`Check::eventually`]), the same over the lifecycle event log
//! ([`Check::always_event`], [`Check::eventually_event`]), conditions on
//! the report ([`Check::report`]),
//! joined with [`Check::and`] and [`Check::or`]. [`Check::run`] runs a
//! scenario and returns its report, or the [`Violation`] that says which
//! check failed, when, and on which attempt.

// A violation is built at most once per run; its size does not matter.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::expr::{self, Clause, Comparison, Op, Quantifier, Scope};
use crate::metrics::Outcome;
use crate::report::Report;
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::world::{Attempt, Lifecycle, Observer};
use crate::{RunOptions, run_observed};

type AttemptFn = Arc<dyn Fn(&Attempt) -> bool + Send + Sync>;
type EventFn = Arc<dyn Fn(&Lifecycle) -> bool + Send + Sync>;
/// A report condition's test: `Err((what was found, the report key whose
/// witness attempt shows it best))`.
type ReportFn = Arc<dyn Fn(&Report, &Value) -> Result<(), (String, Option<String>)> + Send + Sync>;

/// What a report condition reads, so a typo can be caught before a search.
#[derive(Clone)]
enum Reads {
    Nothing,
    Key(String),
    Each(Scope, String),
}

#[derive(Clone)]
enum Node {
    Always(String, AttemptFn),
    Eventually(String, AttemptFn),
    AlwaysEvent(String, EventFn),
    EventuallyEvent(String, EventFn),
    /// A report condition: (description, what it reads, the test over the
    /// report's JSON).
    Report(String, Reads, ReportFn),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

/// A property of one run. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Check(Node);

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Check({self})")
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn go(n: &Node, f: &mut fmt::Formatter<'_>, top: bool) -> fmt::Result {
            match n {
                Node::Always(d, _) | Node::AlwaysEvent(d, _) => write!(f, "always({d})"),
                Node::Eventually(d, _) | Node::EventuallyEvent(d, _) => {
                    write!(f, "eventually({d})")
                }
                Node::Report(d, _, _) => write!(f, "{d}"),
                Node::And(a, b) | Node::Or(a, b) => {
                    let op = if matches!(n, Node::And(..)) {
                        "&&"
                    } else {
                        "||"
                    };
                    if !top {
                        write!(f, "(")?;
                    }
                    go(a, f, false)?;
                    write!(f, " {op} ")?;
                    go(b, f, false)?;
                    if !top {
                        write!(f, ")")?;
                    }
                    Ok(())
                }
            }
        }
        go(&self.0, f, true)
    }
}

impl Check {
    /// An invariant: `holds` is true of every attempt of the run.
    /// `name` says what it means ("no stale-IP errors").
    pub fn always(
        name: impl Into<String>,
        holds: impl Fn(&Attempt) -> bool + Send + Sync + 'static,
    ) -> Check {
        Check(Node::Always(name.into(), Arc::new(holds)))
    }

    /// A goal: `reached` is true of at least one attempt of the run
    /// (e.g. "a request succeeds after 20 s").
    pub fn eventually(
        name: impl Into<String>,
        reached: impl Fn(&Attempt) -> bool + Send + Sync + 'static,
    ) -> Check {
        Check(Node::Eventually(name.into(), Arc::new(reached)))
    }

    /// An invariant over the lifecycle event log (`--events-out`'s events:
    /// pods created, Ready, terminating, exited, gone; endpoints and DNS
    /// answers changed): `holds` is true of every event.
    pub fn always_event(
        name: impl Into<String>,
        holds: impl Fn(&Lifecycle) -> bool + Send + Sync + 'static,
    ) -> Check {
        Check(Node::AlwaysEvent(name.into(), Arc::new(holds)))
    }

    /// A goal over the lifecycle event log: `reached` is true of at least
    /// one event (e.g. "web-1's replacement becomes Ready").
    pub fn eventually_event(
        name: impl Into<String>,
        reached: impl Fn(&Lifecycle) -> bool + Send + Sync + 'static,
    ) -> Check {
        Check(Node::EventuallyEvent(name.into(), Arc::new(reached)))
    }

    /// The number at `key` in the JSON report (`rates.stale_ip_error_rate`,
    /// `client_groups.app.stale_ip_error_rate`, see [`expr`]) compares so
    /// with `value`: `Check::report("rates.stale_ip_error_rate", Op::Lt, 0.001)`.
    pub fn report(key: impl Into<String>, op: Op, value: f64) -> Check {
        Check::comparison(Comparison {
            key: key.into(),
            op,
            value,
            written: None,
        })
    }

    fn comparison(c: Comparison) -> Check {
        let name = c.to_string();
        let key = c.key.clone();
        Check(Node::Report(
            name,
            Reads::Key(key.clone()),
            Arc::new(move |_: &Report, v: &Value| {
                let k = &c.key;
                match expr::number(v, k) {
                    Ok(Some(x)) if c.holds(x) => Ok(()),
                    Ok(Some(x)) => Err((format!("{k} = {x}"), Some(k.clone()))),
                    Ok(None) => Err((format!("{k} is null"), Some(k.clone()))),
                    Err(e) => Err((e, None)),
                }
            }),
        ))
    }

    /// `every window: KEY OP NUMBER`, `any group: ...` (see [`expr`]): the
    /// comparison over each report window or client group.
    pub fn each(quantifier: Quantifier, scope: Scope, cmp: Comparison) -> Check {
        let name = Clause::Each {
            quantifier,
            scope,
            cmp: cmp.clone(),
        }
        .to_string();
        let key = cmp.key.clone();
        Check(Node::Report(
            name,
            Reads::Each(scope, key),
            Arc::new(move |_: &Report, v: &Value| {
                let k = &cmp.key;
                let mut seen = 0usize;
                let mut first_bad = None;
                for (label, entry) in expr::entries(v, scope) {
                    let x = match expr::entry_number(entry, k) {
                        Ok(Some(x)) => x,
                        Ok(None) => continue,
                        Err(e) => return Err((format!("{label}: {e}"), None)),
                    };
                    seen += 1;
                    let holds = cmp.holds(x);
                    if holds && quantifier == Quantifier::Any {
                        return Ok(());
                    }
                    if !holds && first_bad.is_none() {
                        first_bad = Some((label, x));
                    }
                }
                match (quantifier, first_bad) {
                    (Quantifier::Every, None) => Ok(()),
                    (Quantifier::Every, Some((label, x))) => {
                        let witness = match scope {
                            Scope::Group => Some(format!("{label}.{k}")),
                            Scope::Window => Some(k.clone()),
                        };
                        Err((format!("{label}: {k} = {x}"), witness))
                    }
                    (Quantifier::Any, _) => Err((
                        format!(
                            "no {} has {cmp} ({seen} with a value)",
                            match scope {
                                Scope::Window => "window",
                                Scope::Group => "client group",
                            }
                        ),
                        None,
                    )),
                }
            }),
        ))
    }

    /// Any condition on the report.
    pub fn report_fn(
        name: impl Into<String>,
        holds: impl Fn(&Report) -> bool + Send + Sync + 'static,
    ) -> Check {
        let name = name.into();
        Check(Node::Report(
            name,
            Reads::Nothing,
            Arc::new(move |r: &Report, _: &Value| {
                if holds(r) {
                    Ok(())
                } else {
                    Err(("false".into(), None))
                }
            }),
        ))
    }

    /// One clause of a property expression (see [`expr`]).
    pub fn clause(clause: Clause) -> Check {
        match clause {
            Clause::Report(c) => Check::comparison(c),
            Clause::Each {
                quantifier,
                scope,
                cmp,
            } => Check::each(quantifier, scope, cmp),
            ref pod_clause @ Clause::Pod {
                eventually,
                ref pod,
                event,
                before,
            } => {
                let name = pod_clause.to_string();
                let name = name
                    .strip_prefix(if eventually { "eventually " } else { "never " })
                    .unwrap_or(&name)
                    .to_string();
                let pod = pod.clone();
                let until = before.map_or(u64::MAX, |d| d.as_ns());
                let kind = event.kind();
                let matches = move |e: &Lifecycle| {
                    e.kind == kind
                        && e.t_ns <= until
                        && (e.object == pod
                            || e.object.rsplit_once('/').is_some_and(|(_, p)| p == pod))
                };
                if eventually {
                    Check::eventually_event(name, matches)
                } else {
                    Check(Node::AlwaysEvent(
                        format!("never {name}"),
                        Arc::new(move |e: &Lifecycle| !matches(e)),
                    ))
                }
            }
        }
    }

    /// A property expression, `CLAUSE [&& CLAUSE ...]` (see [`expr`]).
    pub fn parse(property: &str) -> Result<Check, String> {
        let clauses = expr::parse_property(property)?;
        let mut it = clauses.into_iter().map(Check::clause);
        let first = it.next().expect("at least one clause");
        Ok(it.fold(first, Check::and))
    }

    /// Both must hold.
    pub fn and(self, other: Check) -> Check {
        Check(Node::And(Box::new(self.0), Box::new(other.0)))
    }

    /// At least one must hold.
    pub fn or(self, other: Check) -> Check {
        Check(Node::Or(Box::new(self.0), Box::new(other.0)))
    }

    /// Check that every report key this check reads exists in `report` (a
    /// run's JSON report), so a typo is an input error rather than a
    /// violation; the error names the nearest key.
    pub fn validate_keys(&self, report: &Value) -> Result<(), String> {
        fn go(n: &Node, v: &Value) -> Result<(), String> {
            match n {
                Node::Report(_, Reads::Key(k), _) => expr::number(v, k).map(|_| ()),
                Node::Report(_, Reads::Each(scope, k), _) => {
                    match expr::entries(v, *scope).first() {
                        Some((label, entry)) => expr::entry_number(entry, k)
                            .map(|_| ())
                            .map_err(|e| format!("{label}: {e}")),
                        None => Ok(()),
                    }
                }
                Node::And(a, b) | Node::Or(a, b) => {
                    go(a, v)?;
                    go(b, v)
                }
                _ => Ok(()),
            }
        }
        go(&self.0, report)
    }

    /// Run `sc` (with its own seed) and check it.
    pub fn run(&self, sc: &Scenario) -> Result<Report, Violation> {
        self.run_with(sc, &RunOptions::default())
    }

    /// Run `sc` with `opts` and check it.
    pub fn run_with(&self, sc: &Scenario, opts: &RunOptions) -> Result<Report, Violation> {
        let mut leaves = Vec::new();
        collect(&self.0, &mut leaves);
        let mut watch = Watch {
            leaves: leaves
                .iter()
                .map(|l| match l {
                    Node::Always(_, f) => Some((true, f.clone())),
                    Node::Eventually(_, f) => Some((false, f.clone())),
                    _ => None,
                })
                .collect(),
            event_leaves: leaves
                .iter()
                .map(|l| match l {
                    Node::AlwaysEvent(_, f) => Some((true, f.clone())),
                    Node::EventuallyEvent(_, f) => Some((false, f.clone())),
                    _ => None,
                })
                .collect(),
            event_hit: vec![None; leaves.len()],
            events: 0,
            hit: vec![None; leaves.len()],
            attempts: 0,
            first_stale: vec![None; sc.clients.len() + 1],
            first_of: vec![[None; 10]; sc.clients.len() + 1],
            groups: sc.clients.iter().map(|g| g.name.clone()).collect(),
        };
        let report = match run_observed(sc, opts, &mut watch) {
            Ok(r) => r,
            Err(e) => {
                return Err(Violation {
                    check: "the run completes".into(),
                    at: None,
                    attempt: None,
                    detail: e.to_string(),
                    report: None,
                });
            }
        };
        let mut next = 0;
        let json = serde_json::to_value(&report).expect("a report serializes");
        match eval(&self.0, &watch, (&report, &json), &mut next) {
            Ok(()) => Ok(report),
            Err(mut v) => {
                v.report = Some(Box::new(report));
                Err(v)
            }
        }
    }
}

/// Run `sc` and check `check` on it (see [`Check::run`]).
pub fn run_checked(sc: &Scenario, check: &Check) -> Result<Report, Violation> {
    check.run(sc)
}

fn collect<'c>(n: &'c Node, out: &mut Vec<&'c Node>) {
    match n {
        Node::And(a, b) | Node::Or(a, b) => {
            collect(a, out);
            collect(b, out);
        }
        leaf => out.push(leaf),
    }
}

/// Watches a run's attempts for the leaves that need them.
struct Watch {
    /// Per leaf: (is an invariant, predicate), for attempt checks.
    leaves: Vec<Option<(bool, AttemptFn)>>,
    /// Per leaf: the same for lifecycle-event checks, and the first event
    /// that broke the invariant / reached the goal.
    event_leaves: Vec<Option<(bool, EventFn)>>,
    event_hit: Vec<Option<Lifecycle>>,
    events: u64,
    /// Per leaf: the first attempt that broke the invariant / reached the goal.
    hit: Vec<Option<Attempt>>,
    attempts: u64,
    /// Per client group, and for all groups (the last entry).
    first_stale: Vec<Option<Attempt>>,
    first_of: Vec<[Option<Attempt>; 10]>,
    groups: Vec<String>,
}

impl Observer for Watch {
    // Lifecycle events grow with pods, not requests.
    const LIFECYCLE: bool = true;

    fn lifecycle(&mut self, e: &Lifecycle) {
        self.events += 1;
        for (leaf, hit) in self.event_leaves.iter().zip(&mut self.event_hit) {
            if let (Some((invariant, f)), None) = (leaf, &hit)
                && f(e) != *invariant
            {
                *hit = Some(e.clone());
            }
        }
    }

    fn attempt(&mut self, a: &Attempt) {
        self.attempts += 1;
        let all = self.groups.len();
        for g in [a.group as usize, all] {
            if a.stale.is_some() && self.first_stale[g].is_none() {
                self.first_stale[g] = Some(*a);
            }
            let o = &mut self.first_of[g][a.outcome as usize];
            if o.is_none() {
                *o = Some(*a);
            }
        }
        for (leaf, hit) in self.leaves.iter().zip(&mut self.hit) {
            if let (Some((invariant, f)), None) = (leaf, &hit) {
                // An invariant is hit when it fails; a goal when it holds.
                if f(a) != *invariant {
                    *hit = Some(*a);
                }
            }
        }
    }
}

impl Watch {
    /// The attempt that best shows why a report key is off: the first
    /// stale-IP error for a stale-IP key, the first attempt with the
    /// outcome a key names, else the first attempt that was not `ok`.
    /// A key under `client_groups.<name>` looks at that group's attempts.
    fn witness(&self, key: &str) -> Option<Attempt> {
        let g = key
            .strip_prefix("client_groups.")
            .and_then(|rest| {
                (self.groups.iter().enumerate())
                    .filter(|(_, name)| {
                        rest.strip_prefix(name.as_str())
                            .is_some_and(|after| after.is_empty() || after.starts_with('.'))
                    })
                    .max_by_key(|(_, name)| name.len())
                    .map(|(i, _)| i)
            })
            .unwrap_or(self.groups.len());
        if key.contains("stale") {
            return self.first_stale[g];
        }
        let first_of = &self.first_of[g];
        if let Some(o) = Outcome::ALL
            .iter()
            .filter(|o| key.contains(o.name()))
            .max_by_key(|o| o.name().len())
        {
            return first_of[*o as usize];
        }
        if key.contains("refused") {
            return first_of[Outcome::Refused as usize];
        }
        first_of
            .iter()
            .skip(1)
            .flatten()
            .min_by_key(|a| a.at)
            .copied()
    }
}

fn eval(n: &Node, w: &Watch, r: (&Report, &Value), next: &mut usize) -> Result<(), Violation> {
    match n {
        Node::And(a, b) => {
            let x = eval(a, w, r, next);
            let y = eval(b, w, r, next);
            x.and(y)
        }
        Node::Or(a, b) => {
            let x = eval(a, w, r, next);
            let y = eval(b, w, r, next);
            match (x, y) {
                (Err(mut x), Err(y)) => {
                    x.detail = format!("{}; and {}: {}", x.detail, y.check, y.detail);
                    Err(x)
                }
                _ => Ok(()),
            }
        }
        leaf => {
            let i = *next;
            *next += 1;
            let hit = w.hit[i];
            match leaf {
                Node::Always(name, _) => match hit {
                    None => Ok(()),
                    Some(a) => Err(Violation {
                        check: format!("always({name})"),
                        at: Some(a.at),
                        attempt: Some(a),
                        detail: format!("broken at {}", secs(a.at)),
                        report: None,
                    }),
                },
                Node::Eventually(name, _) => match hit {
                    Some(_) => Ok(()),
                    None => Err(Violation {
                        check: format!("eventually({name})"),
                        at: None,
                        attempt: None,
                        detail: format!("never held in {} attempts", w.attempts),
                        report: None,
                    }),
                },
                Node::AlwaysEvent(name, _) => match &w.event_hit[i] {
                    None => Ok(()),
                    Some(e) => Err(Violation {
                        check: format!("always({name})"),
                        at: Some(SimTime(e.t_ns)),
                        attempt: None,
                        detail: format!(
                            "broken at {} by {} {}",
                            secs(SimTime(e.t_ns)),
                            e.kind,
                            e.object
                        ),
                        report: None,
                    }),
                },
                Node::EventuallyEvent(name, _) => match &w.event_hit[i] {
                    Some(_) => Ok(()),
                    None => Err(Violation {
                        check: format!("eventually({name})"),
                        at: None,
                        attempt: None,
                        detail: format!("never held in {} lifecycle events", w.events),
                        report: None,
                    }),
                },
                Node::Report(name, _, f) => f(r.0, r.1).map_err(|(detail, key)| {
                    let attempt = key.as_deref().and_then(|k| w.witness(k));
                    Violation {
                        check: name.clone(),
                        at: attempt.map(|a| a.at),
                        attempt,
                        detail,
                        report: None,
                    }
                }),
                _ => unreachable!("collected leaves only"),
            }
        }
    }
}

/// Simulated time as seconds with millisecond precision (`10.204s`).
pub fn secs(t: SimTime) -> String {
    let ms = t.as_ns() / 1_000_000;
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// `the attempt at 10.204s by client 3 (try 0): refused, dialling
/// 10.244.0.5, a stale IP from the client_cache layer`.
pub fn describe_attempt(a: &Attempt) -> String {
    let mut s = format!(
        "the attempt at {} by client {} (try {}): {}",
        secs(a.at),
        a.client,
        a.try_index,
        a.outcome.name()
    );
    if let Some(d) = a.dialled.or(a.chosen) {
        s.push_str(&format!(", dialling {}", crate::scenario::fmt_ipv4(d.ip)));
    }
    if let Some(l) = a.stale {
        s.push_str(&format!(", a stale IP from the {} layer", l.name()));
    }
    s
}

/// A check that failed: which one, when, and on which attempt.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The check that failed (`always(no stale-IP errors)`,
    /// `rates.stale_ip_error_rate < 0.001`).
    pub check: String,
    /// When: the attempt that broke an invariant, or the first attempt
    /// that contributed to a report value (`None`: an end-of-run verdict).
    pub at: Option<SimTime>,
    pub attempt: Option<Attempt>,
    /// What was found (`rates.stale_ip_error_rate = 0.0123`).
    pub detail: String,
    /// The run's report (`None` when the run could not complete).
    pub report: Option<Box<Report>>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.check, self.detail)?;
        if let Some(a) = &self.attempt {
            write!(f, "; first seen in {}", describe_attempt(a))?;
        }
        Ok(())
    }
}

impl std::error::Error for Violation {}

impl Violation {
    /// A few lines for a person: the check, the values found, the first
    /// failing attempt (time, client group, outcome, stale layer) and the
    /// scenario's timeline events up to it.
    pub fn explain(&self, sc: &Scenario) -> String {
        let mut out = format!("violated: {}\n  found: {}\n", self.check, self.detail);
        if let Some(a) = &self.attempt {
            let group = sc
                .clients
                .get(a.group as usize)
                .map_or("?", |g| g.name.as_str());
            out.push_str(&format!(
                "  first failing attempt: client group `{group}`, {}\n",
                describe_attempt(a)
            ));
            out.push_str(&format!(
                "  layer: {}\n",
                match a.stale {
                    Some(l) => format!(
                        "{} (the address had stopped being a ready endpoint; this layer still handed it out)",
                        l.name()
                    ),
                    None => "none (not a stale-IP error)".into(),
                }
            ));
        }
        let until = self.at.map_or(u64::MAX, |t| t.as_ns());
        let before: Vec<String> = sc
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.at.as_ns() <= until)
            .map(|(i, e)| {
                let v = serde_json::to_value(e).unwrap_or(Value::Null);
                format!("    events[{i}] at {}: {}", e.at, action_text(&v))
            })
            .collect();
        if before.is_empty() {
            out.push_str("  timeline events before it: none\n");
        } else {
            out.push_str("  timeline events before it:\n");
            for l in before {
                out.push_str(&l);
                out.push('\n');
            }
        }
        out
    }
}

/// An event's action as compact JSON, without its `at`.
fn action_text(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let rest: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "at")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(rest).to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    const CACHING: &str = r#"
name: caching
duration: 30s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
statefulsets:
  - {name: web, service: nginx, replicas: 3, start_ready: true}
clients:
  - {name: app, count: 2, target: "nginx:80", rate: 20, resolver: {cache: fixed(30s)}}
events:
  - {at: 10s, delete_pod: web-0}
"#;

    fn sc() -> Scenario {
        crate::scenario::parse(CACHING).unwrap()
    }

    #[test]
    fn an_invariant_names_the_first_attempt_that_broke_it() {
        let c = Check::always("no stale-IP errors", |a| a.stale.is_none());
        let v = c.run(&sc()).unwrap_err();
        assert_eq!(v.check, "always(no stale-IP errors)");
        let a = v.attempt.unwrap();
        assert!(a.at >= SimTime(SimDuration::from_secs(10).as_ns()));
        let text = v.explain(&sc());
        assert!(text.contains("client group `app`"), "{text}");
        assert!(text.contains("events[0] at 10s"), "{text}");
        assert!(text.contains("client_cache"), "{text}");
    }

    #[test]
    fn report_checks_and_combinators() {
        let sc = sc();
        assert!(
            Check::parse("totals.requests > 0")
                .unwrap()
                .run(&sc)
                .is_ok()
        );
        let v = Check::parse("totals.requests > 0 && rates.stale_ip_error_rate < 0.0001")
            .unwrap()
            .run(&sc)
            .unwrap_err();
        assert_eq!(v.check, "rates.stale_ip_error_rate < 0.0001");
        assert!(v.detail.starts_with("rates.stale_ip_error_rate = 0."));
        assert!(v.attempt.unwrap().stale.is_some());
        // `or`: one side is enough.
        let either = Check::report("rates.stale_ip_error_rate", Op::Lt, 0.0001).or(Check::report(
            "totals.requests",
            Op::Gt,
            0.0,
        ));
        assert!(either.run(&sc).is_ok());
        let goal = Check::eventually("a request fails", |a| a.outcome != Outcome::Ok);
        assert!(goal.run(&sc).is_ok());
        let never = Check::eventually("a wrong backend", |a| a.outcome == Outcome::WrongBackend);
        let v = never.run(&sc).unwrap_err();
        assert!(v.detail.starts_with("never held in"), "{}", v.detail);
        assert_eq!(
            format!("{}", never.clone().and(either)),
            "eventually(a wrong backend) && (rates.stale_ip_error_rate < 0.0001 || totals.requests > 0)"
        );
    }

    #[test]
    fn an_unknown_report_key_is_a_violation_that_says_what_exists() {
        let v = Check::parse("rates.stale_rate < 1")
            .unwrap()
            .run(&sc())
            .unwrap_err();
        assert!(
            v.detail.contains("`rates` has no `stale_rate`"),
            "{}",
            v.detail
        );
    }
}
