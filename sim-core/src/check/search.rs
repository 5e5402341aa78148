//! The search behind `ksim check`: vary values of a scenario file within
//! ranges (`--vary PATH=RANGE`), run each point, and when a point breaks the
//! property, shrink it to the smallest, roundest one that still does.
//!
//! A RANGE is `1..10` (integers), `0.5..20` (decimals, to 1/1000), `1s..60s`
//! (durations, to the millisecond) or `a|b|c` (choices); both ends are
//! included. Shrinking moves each value toward the low end (a choice toward
//! the first), then tries rounder values (`37` → `40` or `30`, `13.847s` →
//! `14s`). Points come from proptest's runner, seeded, so a search is
//! repeatable. Values are set with [`crate::scenario::vary`], so the
//! counterexample is the user's own file with those values: a normal scenario.

use std::cell::{Cell, RefCell};

use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use super::shrink::{Mode, Shrinker};
use super::{Check, Violation};
use crate::Lifecycle;
use crate::scenario::yaml::Node;
use crate::scenario::{self, Diagnostic, Loc, Scenario, vary};
use crate::time::{SimTime, parse_duration};
use crate::world::{Attempt, Observer};

/// The values one `--vary` may take, as integers: the integer itself,
/// thousandths, milliseconds, or a choice's index.
#[derive(Clone, Debug, PartialEq)]
pub enum Range {
    Int(i64, i64),
    /// Thousandths.
    Decimal(i64, i64),
    /// Milliseconds.
    Duration(i64, i64),
    Choice(Vec<String>),
}

/// One `--vary PATH=RANGE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    pub path: String,
    pub range: Range,
}

impl Vary {
    /// Parse `PATH=RANGE` (see the module doc).
    pub fn parse(spec: &str) -> Result<Vary, String> {
        let example = "e.g. `statefulsets[0].replicas=1..10`, `clients[0].rate=0.5..20`, `events[0].at=1s..60s`, `clients[0].resolver.cache=none|ttl|fixed(30s)`";
        let Some((path, range)) = spec.split_once('=') else {
            return Err(format!("`{spec}`: expected PATH=RANGE ({example})"));
        };
        let (path, range) = (path.trim(), range.trim());
        if path.is_empty() || range.is_empty() {
            return Err(format!("`{spec}`: expected PATH=RANGE ({example})"));
        }
        let range = if let Some((lo, hi)) = range.split_once("..") {
            let hi = hi.strip_prefix('=').unwrap_or(hi);
            let (lo, hi) = (lo.trim(), hi.trim());
            let r = if let (Ok(a), Ok(b)) = (lo.parse::<i64>(), hi.parse::<i64>()) {
                Range::Int(a, b)
            } else if let (Ok(a), Ok(b)) = (lo.parse::<f64>(), hi.parse::<f64>()) {
                if !(a.is_finite() && b.is_finite() && a.abs() < 1e12 && b.abs() < 1e12) {
                    return Err(format!("`{spec}`: the range's ends must be finite numbers"));
                }
                Range::Decimal((a * 1000.0).round() as i64, (b * 1000.0).round() as i64)
            } else if let (Ok(a), Ok(b)) = (parse_duration(lo), parse_duration(hi)) {
                let ms = |d: crate::time::SimDuration| (d.as_ns() / 1_000_000) as i64;
                Range::Duration(ms(a), ms(b))
            } else {
                return Err(format!(
                    "`{spec}`: `{lo}..{hi}` is not a range of integers, decimals or durations ({example})"
                ));
            };
            let (a, b) = r.bounds();
            if a > b {
                return Err(format!(
                    "`{spec}`: the range is empty (its low end is above its high end)"
                ));
            }
            r
        } else {
            let choices: Vec<String> = range.split('|').map(|c| c.trim().to_string()).collect();
            if choices.iter().any(|c| c.is_empty()) {
                return Err(format!("`{spec}`: an empty choice in `{range}`"));
            }
            Range::Choice(choices)
        };
        Ok(Vary {
            path: path.to_string(),
            range,
        })
    }

    /// The text to write at the path for value `v`.
    pub fn value(&self, v: i64) -> String {
        self.range.render(v)
    }
}

impl Range {
    /// Lowest and highest integer value.
    pub fn bounds(&self) -> (i64, i64) {
        match self {
            Range::Int(a, b) | Range::Decimal(a, b) | Range::Duration(a, b) => (*a, *b),
            Range::Choice(c) => (0, c.len() as i64 - 1),
        }
    }

    fn render(&self, v: i64) -> String {
        match self {
            Range::Int(..) => v.to_string(),
            Range::Decimal(..) => {
                let sign = if v < 0 { "-" } else { "" };
                let (whole, frac) = (v.abs() / 1000, v.abs() % 1000);
                if frac == 0 {
                    format!("{sign}{whole}")
                } else {
                    let f = format!("{frac:03}");
                    format!("{sign}{whole}.{}", f.trim_end_matches('0'))
                }
            }
            Range::Duration(..) => {
                if v != 0 && v % 60_000 == 0 {
                    format!("{}m", v / 60_000)
                } else if v % 1000 == 0 {
                    format!("{}s", v / 1000)
                } else {
                    format!("{v}ms")
                }
            }
            Range::Choice(c) => c[v as usize].clone(),
        }
    }

    /// Rounder values near `v` within the range: rounded down (toward the
    /// low end), roundest first; then rounded up, nearest first.
    fn rounder(&self, v: i64) -> Vec<i64> {
        if matches!(self, Range::Choice(_)) {
            return Vec::new();
        }
        let (lo, hi) = self.bounds();
        let mut p: i64 = 10;
        while p <= v.abs().max(1) && p < i64::MAX / 100 {
            p *= 10;
        }
        let (mut down, mut up) = (Vec::new(), Vec::new());
        while p >= 10 {
            let d = v.div_euclid(p) * p;
            if d != v && (lo..=hi).contains(&d) && !down.contains(&d) {
                down.push(d);
            }
            let u = d + p;
            // Up only to the nearest round value (never 40 -> 100).
            if d != v && 2 * (u - v) < p && (lo..=hi).contains(&u) && !up.contains(&u) {
                up.push(u);
            }
            p /= 10;
        }
        up.sort_unstable();
        down.extend(up);
        down
    }
}

/// What to search.
pub struct Search<'a> {
    /// The scenario file's text.
    pub src: &'a str,
    pub varies: &'a [Vary],
    pub check: &'a Check,
    /// Random points to try.
    pub cases: u32,
    pub seed: u64,
    /// Most runs spent shrinking.
    pub max_shrink_runs: u32,
    /// What shrinking reduces: the `--vary` values and the file's values,
    /// its structure ([`super::shrink`]), or both.
    pub shrink: Mode,
    /// Called after every shrinking run: (runs so far, budget).
    pub progress: &'a dyn Fn(u32, u32),
    /// Reads the files a scenario's `manifests` name (as `parse_with`).
    pub load: &'a dyn Fn(&str) -> Result<String, String>,
}

/// A point of the search that broke the property, shrunk.
#[derive(Debug)]
pub struct Counterexample {
    /// `(path, value)` for each `--vary`.
    pub values: Vec<(String, String)>,
    /// The values where the violation was first found, before shrinking.
    pub first_found: Vec<(String, String)>,
    /// The scenario file with those values, shrunk: block-style YAML with
    /// the source's comments where the element survives.
    pub text: String,
    /// Each structural or value reduction kept by [`super::shrink`].
    pub steps: Vec<String>,
    /// The shrinking finished (1-minimal) rather than running out of runs.
    pub minimal: bool,
    pub scenario: Scenario,
    pub violation: Violation,
    /// Points tried up to and including the first violation.
    pub cases: u32,
    /// Runs spent shrinking (and rounding).
    pub shrink_runs: u32,
}

/// How a search ended.
#[derive(Debug)]
pub enum Found {
    /// No point broke the property. `invalid`: points skipped because the
    /// values made the scenario invalid (with the first such problem).
    Nothing {
        cases: u32,
        invalid: u32,
        first_invalid: Option<Diagnostic>,
    },
    Counterexample(Box<Counterexample>),
}

impl<'a> Search<'a> {
    fn assignments(&self, point: &[i64]) -> Vec<(String, String)> {
        self.varies
            .iter()
            .zip(point)
            .map(|(v, &x)| (v.path.clone(), v.value(x)))
            .collect()
    }

    /// The scenario tree and scenario at `point`.
    fn at(&self, point: &[i64]) -> Result<(Node, Scenario), Diagnostic> {
        let values = self.assignments(point);
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(p, v)| (p.as_str(), v.as_str()))
            .collect();
        let tree = vary::apply(self.src, &pairs)?;
        let text = vary::render(&tree);
        let sc = scenario::parse_with(&text, self.load).map_err(|d| {
            let set: Vec<String> = values.iter().map(|(p, v)| format!("{p} = {v}")).collect();
            let message = format!("{} (with {})", d.message, set.join(", "));
            Diagnostic { message, ..d }
        })?;
        Ok((tree, sc))
    }

    /// Does the property hold at `point`? `Err` for an invalid point.
    fn holds(&self, point: &[i64]) -> Result<bool, Diagnostic> {
        let (_, sc) = self.at(point)?;
        Ok(self.check.run(&sc).is_ok())
    }

    /// Check the property's report keys against a run of the scenario as
    /// written, so a typo is an input error, not a "counterexample".
    pub fn validate(&self) -> Result<(), String> {
        let sc = scenario::parse_with(self.src, self.load).map_err(|d| d.to_string())?;
        let report = crate::run(&sc, &crate::RunOptions::default()).map_err(|e| e.to_string())?;
        let json = serde_json::to_value(&report).expect("a report serializes");
        self.check
            .validate_keys(&json)
            .map_err(|e| format!("--property: {e}"))
    }

    /// Run the search (see the module doc).
    pub fn run(&self) -> Result<Found, Diagnostic> {
        let strategy: Vec<std::ops::RangeInclusive<i64>> = self
            .varies
            .iter()
            .map(|v| {
                let (a, b) = v.range.bounds();
                a..=b
            })
            .collect();
        let mut runner = TestRunner::new(Config {
            cases: self.cases.max(1),
            rng_seed: RngSeed::Fixed(self.seed),
            failure_persistence: None,
            // A quarter of the budget for the `--vary` values, the rest
            // for the file's structure.
            max_shrink_iters: if self.shrink.values() {
                self.max_shrink_runs / 4
            } else {
                0
            },
            max_global_rejects: self.cases.max(1) * 4,
            ..Config::default()
        });
        let tried = Cell::new(0u32);
        let invalid = Cell::new(0u32);
        let first_invalid: RefCell<Option<Diagnostic>> = RefCell::new(None);
        let failed = Cell::new(false);
        let cases_to_failure = Cell::new(0u32);
        let shrink_runs = Cell::new(0u32);
        let first_found: RefCell<Vec<i64>> = RefCell::new(Vec::new());
        let result = runner.run(&strategy, |point| {
            if failed.get() {
                shrink_runs.set(shrink_runs.get() + 1);
                (self.progress)(shrink_runs.get(), self.max_shrink_runs);
            } else {
                tried.set(tried.get() + 1);
            }
            match self.holds(&point) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    if !failed.replace(true) {
                        cases_to_failure.set(tried.get());
                        *first_found.borrow_mut() = point.clone();
                    }
                    Err(TestCaseError::fail("the property does not hold"))
                }
                Err(d) => {
                    invalid.set(invalid.get() + 1);
                    first_invalid.borrow_mut().get_or_insert(d);
                    Err(TestCaseError::reject("invalid scenario"))
                }
            }
        });
        let mut point = match result {
            Ok(()) => {
                return Ok(Found::Nothing {
                    cases: tried.get() - invalid.get(),
                    invalid: invalid.get(),
                    first_invalid: first_invalid.into_inner(),
                });
            }
            Err(TestError::Fail(_, point)) => point,
            Err(TestError::Abort(why)) => {
                return Err(first_invalid.into_inner().unwrap_or_else(|| {
                    Diagnostic::at(Loc::default(), format!("the search stopped: {why}"))
                }));
            }
        };
        // Rounder values, one dimension at a time, roundest first.
        let mut rounding = 0;
        let rounded = if self.shrink.values() { point.len() } else { 0 };
        for i in 0..rounded {
            for c in self.varies[i].range.rounder(point[i]) {
                if rounding >= 64 {
                    break;
                }
                let mut p = point.clone();
                p[i] = c;
                rounding += 1;
                if let Ok(false) = self.holds(&p) {
                    point = p;
                    break;
                }
            }
        }
        let (tree, scenario) = self.at(&point)?;
        let violation = self
            .check
            .run(&scenario)
            .expect_err("the shrunk point breaks the property");
        let spent = shrink_runs.get() + rounding;
        let progress =
            |runs: u32, _kept: usize| (self.progress)(spent + runs, self.max_shrink_runs);
        let shrunk = Shrinker {
            check: self.check,
            mode: self.shrink,
            max_runs: self.max_shrink_runs.saturating_sub(spent),
            load: self.load,
            progress: &progress,
        }
        .shrink(self.src, tree, scenario, violation);
        Ok(Found::Counterexample(Box::new(Counterexample {
            values: self.assignments(&point),
            first_found: self.assignments(&first_found.into_inner()),
            text: shrunk.text,
            steps: shrunk.steps,
            minimal: shrunk.minimal,
            scenario: shrunk.scenario,
            violation: shrunk.violation,
            cases: cases_to_failure.get(),
            shrink_runs: spent + shrunk.runs,
        })))
    }
}

/// The scenario's lifecycle events up to `at` (the last `n` of them), and
/// the pod that held `ip` at `at`, from one more run.
pub fn lifecycle_before(
    sc: &Scenario,
    at: SimTime,
    ip: Option<u32>,
    n: usize,
) -> (Vec<Lifecycle>, Option<String>) {
    struct Keep {
        until: u64,
        n: usize,
        ip: Option<String>,
        last: std::collections::VecDeque<Lifecycle>,
        holder: Option<String>,
    }
    impl Observer for Keep {
        const LIFECYCLE: bool = true;
        fn lifecycle(&mut self, e: &Lifecycle) {
            if e.t_ns > self.until {
                return;
            }
            if e.kind == "ip_assigned" && e.ip.is_some() && e.ip == self.ip {
                self.holder = Some(e.object.clone());
            }
            if matches!(e.kind, "ip_assigned" | "pod_listening") {
                return; // shown as pod_created / pod_ready
            }
            self.last.push_back(e.clone());
            if self.last.len() > self.n {
                self.last.pop_front();
            }
        }
        fn attempt(&mut self, _: &Attempt) {}
    }
    let mut keep = Keep {
        until: at.as_ns(),
        n,
        ip: ip.map(scenario::fmt_ipv4),
        last: Default::default(),
        holder: None,
    };
    let _ = crate::run_observed(sc, &crate::RunOptions::default(), &mut keep);
    (keep.last.into(), keep.holder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_render() {
        let v = Vary::parse("statefulsets[0].replicas=1..10").unwrap();
        assert_eq!(v.range, Range::Int(1, 10));
        assert_eq!(v.value(7), "7");
        let v = Vary::parse("clients[0].rate=0.5..20").unwrap();
        assert_eq!(v.range, Range::Decimal(500, 20_000));
        assert_eq!(v.value(13_840), "13.84");
        assert_eq!(v.value(2_000), "2");
        let v = Vary::parse("events[0].at=1s..2m").unwrap();
        assert_eq!(v.range, Range::Duration(1000, 120_000));
        assert_eq!(v.value(60_000), "1m");
        assert_eq!(v.value(1500), "1500ms");
        let v = Vary::parse("clients[0].resolver.cache = none|ttl|fixed(30s)").unwrap();
        assert_eq!(v.path, "clients[0].resolver.cache");
        assert_eq!(v.value(2), "fixed(30s)");
        assert!(Vary::parse("x=10..1").unwrap_err().contains("empty"));
        assert!(Vary::parse("x").unwrap_err().contains("PATH=RANGE"));
        assert!(Vary::parse("x=a..b").unwrap_err().contains("not a range"));
    }

    #[test]
    fn rounder_values_come_roundest_first_and_stay_in_range() {
        assert_eq!(Range::Int(0, 100).rounder(37), vec![0, 30, 40]);
        assert_eq!(Range::Int(31, 45).rounder(37), vec![40]);
        assert_eq!(Range::Int(1, 100).rounder(40), Vec::<i64>::new());
        assert_eq!(
            Range::Duration(1000, 60_000).rounder(13_847),
            vec![10_000, 13_000, 13_800, 13_840, 13_850, 14_000]
        );
    }

    const SRC: &str = r#"
name: caching
duration: 20s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
statefulsets:
  - {name: web, service: nginx, replicas: 3, start_ready: true}
clients:
  - {name: app, count: 2, target: "nginx:80", rate: 20, resolver: {cache: none}}
events:
  - {at: 10s, delete_pod: web-0}
"#;

    fn no_files(_: &str) -> Result<String, String> {
        Err("no files".into())
    }

    #[test]
    fn a_violation_is_found_and_shrunk_to_the_low_end_and_round_values() {
        let varies = vec![
            Vary::parse("statefulsets[0].replicas=1..6").unwrap(),
            Vary::parse("clients[0].resolver.cache=none|fixed(30s)").unwrap(),
            Vary::parse("events[0].at=1s..15s").unwrap(),
            Vary::parse("clients[0].count=1..4").unwrap(),
        ];
        let check = Check::parse("rates.stale_ip_error_rate < 0.001").unwrap();
        let s = Search {
            src: SRC,
            varies: &varies,
            check: &check,
            cases: 32,
            seed: 0,
            max_shrink_runs: 256,
            shrink: Mode::Values,
            progress: &|_, _| {},
            load: &no_files,
        };
        s.validate().unwrap();
        let Found::Counterexample(c) = s.run().unwrap() else {
            panic!("expected a counterexample")
        };
        let get = |p: &str| c.values.iter().find(|(k, _)| k == p).unwrap().1.clone();
        // With the default propagation delay, even a client without a cache
        // resolves the deleted pod's address for a moment: the first choice
        // is enough.
        assert_eq!(get("clients[0].resolver.cache"), "none", "{c:?}");
        assert_eq!(get("statefulsets[0].replicas"), "1");
        assert_eq!(get("clients[0].count"), "1");
        assert_eq!(get("events[0].at"), "1s", "{c:?}");
        // The counterexample is a normal scenario that breaks the property.
        let sc = scenario::parse(&c.text).unwrap();
        assert!(check.run(&sc).is_err());
        assert!(c.violation.attempt.unwrap().stale.is_some());
    }

    #[test]
    fn no_violation_reports_the_cases_tried_and_a_bad_key_is_an_input_error() {
        let varies = vec![Vary::parse("clients[0].count=1..3").unwrap()];
        let check = Check::parse("totals.requests > 0").unwrap();
        let s = Search {
            src: SRC,
            varies: &varies,
            check: &check,
            cases: 5,
            seed: 0,
            max_shrink_runs: 16,
            shrink: Mode::Both,
            progress: &|_, _| {},
            load: &no_files,
        };
        let Found::Nothing { cases, invalid, .. } = s.run().unwrap() else {
            panic!("the property holds")
        };
        assert_eq!((cases, invalid), (5, 0));
        let typo = Check::parse("rates.stale_ip_eror_rate < 1").unwrap();
        let s = Search { check: &typo, ..s };
        let e = s.validate().unwrap_err();
        assert!(e.contains("did you mean `stale_ip_error_rate`"), "{e}");
    }
}
