//! `ksim sweep`, `ksim sweep merge` and `ksim plan`: loading a plan, running
//! its (point, seed) pairs on a rayon pool, shard files, and the text
//! summaries. The statistics and the search live in `sim_core::sweep`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::ProgressBar;
use rayon::prelude::*;
use sim_core::scenario::Diagnostic;
use sim_core::scenario::yaml::{self, Node};
use sim_core::sweep::results::{self, Head, Results, RunRecord, Shard};
use sim_core::sweep::{Plan, merge, search, slo};
use sim_core::time::SimDuration;
use sim_core::{RunOptions, Scenario};

use crate::{Format, Tree, fail, parse_scenario_diag, read_source, write_atomically};

/// A loaded sweep: the plan, each point's validated scenario, the head.
pub struct Loaded {
    pub plan: Plan,
    pub points: Vec<Scenario>,
    pub head: Head,
}

/// The scenario and plan files as given on the command line.
pub struct Inputs<'a> {
    pub file: &'a Path,
    pub plan_file: Option<&'a Path>,
    pub seed: Option<u64>,
}

fn parse_doc(file: &Path, src: &str) -> Result<Node, String> {
    let shown = file.display().to_string();
    match yaml::parse_document(src) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(format!("error: {shown}: the file is empty\n")),
        Err(d) => Err(d.render(&shown, src)),
    }
}

/// Read the scenario and the plan, and validate every point of the grid
/// before anything runs. On failure, the rendered message (exit 2).
pub fn load(inputs: &Inputs) -> Result<Loaded, String> {
    let file = inputs.file;
    let src = read_source(file)?;
    let base = parse_doc(file, &src)?;
    let (plan_path, plan_src) = match inputs.plan_file {
        Some(p) => (p.to_path_buf(), read_source(p)?),
        None => (file.to_path_buf(), src.clone()),
    };
    let plan_shown = plan_path.display().to_string();
    let plan_root = if inputs.plan_file.is_some() {
        parse_doc(&plan_path, &plan_src)?
    } else {
        base.clone()
    };
    let plan = match Plan::read(&plan_root) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(format!(
                "error: {plan_shown}: no `sweep:` block\n  hint: add `sweep: {{seeds: 3, parameters: [{{path: statefulsets[0].replicas, values: [2, 3, 4]}}]}}`, or give a plan file with --plan\n"
            ));
        }
        Err(d) => return Err(d.render(&plan_shown, &plan_src)),
    };
    // The base scenario on its own must be valid first: its errors are
    // clearer without a sweep in the way.
    if let Err(e) = parse_scenario_diag(file, Tree::Node(&base)) {
        return Err(e
            .0
            .render(&file.display().to_string(), e.1.as_deref().unwrap_or(&src)));
    }
    let mut points = Vec::with_capacity(plan.points());
    for p in 0..plan.points() {
        let tree = plan
            .point_tree(&base, p)
            .map_err(|d| d.render(&plan_shown, &plan_src))?;
        match parse_scenario_diag(file, Tree::Node(&tree)) {
            Ok(sc) => points.push(sc),
            Err(e) => {
                let (d, text) = *e;
                let swept = plan.parameters.iter().any(|q| {
                    d.path == q.path
                        || d.path.starts_with(&format!("{}.", q.path))
                        || d.path.starts_with(&format!("{}[", q.path))
                });
                let mut d = d;
                d.message = format!("at sweep point {p} ({}): {}", plan.describe(p), d.message);
                // A swept value's nodes carry their place in the plan.
                return Err(if swept && text.is_none() {
                    d.render(&plan_shown, &plan_src)
                } else {
                    d.render(&file.display().to_string(), text.as_deref().unwrap_or(&src))
                });
            }
        }
    }
    let base_seed = inputs.seed.unwrap_or(points[0].seed);
    let digests: Vec<String> = points.iter().map(|s| s.digest()).collect();
    let head = Head::new(&plan, &points[0].name, base_seed, &digests);
    Ok(Loaded { plan, points, head })
}

/// A pool of `jobs` threads (`None`: one per core).
fn pool(jobs: Option<usize>) -> rayon::ThreadPool {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(j) = jobs {
        b = b.num_threads(j);
    }
    b.build().expect("a thread pool starts")
}

fn progress(len: usize) -> ProgressBar {
    crate::progress::bar(
        len as u64,
        "{bar:40} {pos}/{len} runs  {elapsed} elapsed, ETA {eta}",
    )
}

/// Run `runs` (run indices) of the sweep; records in run order.
fn execute(
    loaded: &Loaded,
    runs: &[usize],
    window: Option<SimDuration>,
    pool: &rayon::ThreadPool,
    file: &Path,
) -> Result<Vec<RunRecord>, String> {
    let seeds = loaded.head.seeds.len();
    let bar = progress(runs.len());
    let one = |r: usize| -> Result<RunRecord, String> {
        let p = r / seeds;
        let opts = RunOptions {
            seed: Some(loaded.head.seeds[r % seeds]),
            window,
        };
        let report = sim_core::run(&loaded.points[p], &opts).map_err(|e| {
            format!(
                "error: {}: at sweep point {p} ({}): {}: {}\n",
                file.display(),
                loaded.plan.describe(p),
                e.path,
                e.message
            )
        })?;
        bar.inc(1);
        Ok(RunRecord::new(&loaded.head, r, &report))
    };
    // Metric names are checked against the first run's report before the
    // rest start.
    let first = {
        let opts = RunOptions {
            seed: Some(loaded.head.seeds[0]),
            window,
        };
        let report = sim_core::run(&loaded.points[0], &opts).map_err(|e| {
            format!(
                "error: {}: at sweep point 0 ({}): {}: {}\n",
                file.display(),
                loaded.plan.describe(0),
                e.path,
                e.message
            )
        })?;
        results::check_metrics(&loaded.plan, &report).map_err(|d: Diagnostic| {
            let (shown, text) = plan_text(file);
            d.render(&shown, &text)
        })?;
        RunRecord::new(&loaded.head, 0, &report)
    };
    let rest: Vec<usize> = runs.iter().copied().filter(|&r| r != 0).collect();
    if runs.contains(&0) {
        bar.inc(1);
    }
    let mut out: Vec<RunRecord> =
        pool.install(|| rest.par_iter().map(|&r| one(r)).collect::<Result<_, _>>())?;
    bar.finish_and_clear();
    if runs.contains(&0) {
        out.insert(0, first);
    }
    Ok(out)
}

thread_local! {
    /// The plan file when it is not the scenario (for metric diagnostics).
    static PLAN_FILE: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

fn plan_text(file: &Path) -> (String, String) {
    let path = PLAN_FILE
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| file.to_path_buf());
    (
        path.display().to_string(),
        crate::input::read_text(&path, crate::input::Kind::Text).unwrap_or_default(),
    )
}

pub struct SweepArgs<'a> {
    pub inputs: Inputs<'a>,
    pub jobs: Option<usize>,
    pub window: Option<SimDuration>,
    pub out: Option<&'a Path>,
    pub report: Option<&'a Path>,
    pub format: Format,
    pub shard_index: Option<usize>,
    pub shard_count: Option<usize>,
}

/// The shard index: the flag, else `JOB_COMPLETION_INDEX` (a Kubernetes
/// Indexed Job), else `SLURM_ARRAY_TASK_ID`.
fn shard_index(flag: Option<usize>) -> Result<Option<usize>, String> {
    if flag.is_some() {
        return Ok(flag);
    }
    for var in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] {
        if let Ok(v) = std::env::var(var) {
            return v.trim().parse().map(Some).map_err(|_| {
                format!("error: {var}={v:?} is not a shard index (a whole number)\n")
            });
        }
    }
    Ok(None)
}

pub fn sweep(a: SweepArgs) -> ExitCode {
    PLAN_FILE.with(|p| *p.borrow_mut() = a.inputs.plan_file.map(Path::to_path_buf));
    if a.jobs == Some(0) {
        return fail("error: --jobs 0: at least one job\n".into());
    }
    let shard = match a.shard_count {
        None | Some(1) if a.shard_index.unwrap_or(0) == 0 => None,
        None => {
            return fail("error: --shard-index needs --shard-count\n".into());
        }
        Some(0) => return fail("error: --shard-count 0: at least one shard\n".into()),
        Some(count) => match shard_index(a.shard_index) {
            Ok(Some(i)) if i < count => Some((i, count)),
            Ok(Some(i)) => {
                return fail(format!(
                    "error: shard index {i} is not below --shard-count {count}\n"
                ));
            }
            Ok(None) => {
                return fail("error: --shard-count without a shard index: give --shard-index, or run where JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID is set\n".into());
            }
            Err(m) => return fail(m),
        },
    };
    if shard.is_some() {
        if a.report.is_some() {
            return fail(
                "error: --report needs every run; render it after `ksim sweep merge`\n".into(),
            );
        }
        match a.out {
            Some(dir) if dir.is_dir() => {}
            Some(dir) => {
                return fail(format!(
                    "error: --out {}: a sharded sweep writes into a directory, which must exist\n",
                    dir.display()
                ));
            }
            None => {
                return fail("error: a sharded sweep needs --out DIR (each shard writes DIR/shard-I-of-N.json)\n".into());
            }
        }
    } else if let Some(out) = a.out
        && let Err(m) = crate::check_out(out, a.inputs.file)
    {
        return fail(format!("error: --out {}: {m}\n", out.display()));
    }
    let loaded = match load(&a.inputs) {
        Ok(l) => l,
        Err(m) => return fail(m),
    };
    let shard_file = shard.map(|(index, count)| {
        a.out
            .expect("checked above")
            .join(merge::shard_file_name(index, count))
    });
    if let Err(m) = check_outputs(shard_file.as_deref().or(a.out), a.report) {
        return fail(m);
    }
    let all = loaded.head.runs();
    let runs: Vec<usize> = match shard {
        Some((i, n)) => (0..all).filter(|&r| results::in_shard(r, i, n)).collect(),
        None => (0..all).collect(),
    };
    let pool = pool(a.jobs);
    let records = match execute(&loaded, &runs, a.window, &pool, a.inputs.file) {
        Ok(r) => r,
        Err(m) => return fail(m),
    };
    if let Some((index, count)) = shard {
        let s = Shard {
            kind: results::SHARD_KIND.into(),
            schema_version: results::SCHEMA_VERSION,
            shard_index: index,
            shard_count: count,
            plan: loaded.head,
            runs: records,
        };
        let path = shard_file.expect("made above");
        let mut text = serde_json::to_string(&s).expect("a shard serializes");
        text.push('\n');
        if let Err(e) = write_atomically(&path, text.as_bytes()) {
            return fail(format!("error: cannot write {}: {e}\n", path.display()));
        }
        return ExitCode::SUCCESS;
    }
    let results = match results::finish(loaded.head, records) {
        Ok(r) => r,
        Err(m) => return fail(format!("error: {m}\n")),
    };
    deliver(&results, a.out, a.report, a.format)
}

/// No output (`--out`, the files `--report` receives) is an input or
/// another output; the message when one is.
fn check_outputs(out: Option<&Path>, report: Option<&Path>) -> Result<(), String> {
    let report_files: Vec<PathBuf> = report
        .map(|dir| {
            crate::render::REPORT_FILES
                .iter()
                .map(|f| dir.join(f))
                .collect()
        })
        .unwrap_or_default();
    let mut outputs: Vec<(&str, &Path)> = out.map(|p| ("--out", p)).into_iter().collect();
    outputs.extend(report_files.iter().map(|p| ("--report", p.as_path())));
    crate::output::check(&outputs)
}

/// Write the results (`--out`, else standard output) and the report, the
/// files together or none of them.
pub fn deliver(
    results: &Results,
    out: Option<&Path>,
    report: Option<&Path>,
    format: Format,
) -> ExitCode {
    let json = out.map(|_| results.to_json());
    let also = out.zip(json.as_deref()).map(|(p, j)| (p, j.as_bytes()));
    let written = match report {
        Some(dir) => crate::render::write_report(results, dir, also),
        None => also.map_or(Ok(()), |(path, bytes)| {
            write_atomically(path, bytes)
                .map_err(|e| format!("error: cannot write {}: {e}\n", path.display()))
        }),
    };
    if let Err(m) = written {
        return fail(m);
    }
    match out {
        Some(_) => ExitCode::SUCCESS,
        None => crate::emit(
            &match format {
                Format::Json => results.to_json(),
                Format::Text => summary(results),
            },
            None,
        ),
    }
}

/// `ksim sweep merge`: shard files (or directories of them) into results.
pub fn merge(
    inputs: &[PathBuf],
    out: Option<&Path>,
    report: Option<&Path>,
    format: Format,
) -> ExitCode {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| {
                        f.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
                    })
                    .collect(),
                Err(e) => return fail(format!("error: cannot read {}: {e}\n", p.display())),
            };
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut shards = Vec::new();
    for f in &files {
        let text = match crate::input::read_text_or_message(f, crate::input::Kind::Results) {
            Ok(t) => t,
            Err(m) => return fail(m),
        };
        match read_shard(&text) {
            Ok(s) => shards.push((f.display().to_string(), s)),
            Err(why) => return fail(format!("error: {}: {why}\n", f.display())),
        }
    }
    if let Err(m) = check_outputs(out, report) {
        return fail(m);
    }
    let merged = merge::merge(shards).map_err(|e| e.to_string());
    let results = match merged.and_then(|(h, r)| results::finish(h, r)) {
        Ok(r) => r,
        Err(m) => return fail(format!("error: {m}\n")),
    };
    deliver(&results, out, report, format)
}

/// A metric's figure for the text summaries: rates as percentages, as the
/// SLO writes them; at most 4 significant digits, never in scientific
/// notation; `-` when undefined.
fn metric_num(metric: &str, x: Option<f64>) -> String {
    x.map_or("-".into(), |v| crate::render::show(metric, v))
}

/// A shard file's document, or why it is not one this ksim reads.
fn read_shard(text: &str) -> Result<Shard, String> {
    let not_shard = || {
        "not a ksim sweep shard file (written by `ksim sweep --shard-count N --out DIR`)"
            .to_string()
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| not_shard())?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(results::SHARD_KIND) {
        return Err(not_shard());
    }
    serde_json::from_value::<Shard>(value.clone()).map_err(|e| {
        let version = value
            .pointer("/plan/ksim_version")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown");
        format!(
            "a shard this ksim ({}) cannot read ({e}); it was written by ksim {version}: merge with the ksim that ran the shards",
            env!("CARGO_PKG_VERSION")
        )
    })
}

/// The metrics a summary shows: the SLO's, else the first three defaults.
fn shown_metrics(head: &Head) -> Vec<String> {
    if head.slo.is_empty() {
        head.metrics.iter().take(3).cloned().collect()
    } else {
        let mut m: Vec<String> = Vec::new();
        for o in &head.slo {
            if !m.contains(&o.metric) {
                m.push(o.metric.clone());
            }
        }
        m
    }
}

/// The text summary of a sweep.
pub fn summary(r: &Results) -> String {
    let h = &r.plan;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ksim {} sweep | scenario {} | {} points x {} seeds = {} runs",
        h.ksim_version,
        h.scenario,
        h.points,
        h.seeds.len(),
        h.runs()
    );
    let _ = writeln!(o, "plan {}", h.plan_digest);
    for s in &h.slo {
        let _ = writeln!(o, "SLO: {}", s.text);
    }
    let _ = writeln!(o);
    let metrics = shown_metrics(h);
    let mut header = format!("{:>5}", "point");
    for p in &h.parameters {
        let _ = write!(header, "  {:>14}", short(&p.path));
    }
    for m in &metrics {
        let _ = write!(header, "  {:>24}", short(m));
    }
    if !h.slo.is_empty() {
        header.push_str("  SLO");
    }
    let _ = writeln!(o, "{header}");
    for p in &r.points {
        let mut line = format!("{:>5}", p.index);
        for v in &p.values {
            let _ = write!(line, "  {:>14}", v);
        }
        for m in &metrics {
            let s = &p.stats[m];
            let half = s.ci95_high.zip(s.mean).map(|(hi, m)| hi - m);
            let cell = format!("{} ±{}", metric_num(m, s.mean), metric_num(m, half));
            let _ = write!(line, "  {cell:>24}");
        }
        if let Some(v) = &p.slo {
            line.push_str(match (v.meets, v.confident) {
                (true, true) => "  meets (confident)",
                (true, false) => "  meets (not confident)",
                _ => "  fails",
            });
        }
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(o, "(mean ±95% CI half-width across seeds; `-`: undefined)");
    for rec in &r.recommendations {
        let _ = writeln!(o);
        let given = if rec.given.is_empty() {
            String::new()
        } else {
            format!("with {}: ", rec.given.join(", "))
        };
        let _ = match (&rec.parameter, rec.point) {
            (_, None) => writeln!(o, "{given}no point meets the SLO"),
            (Some(param), Some(p)) => writeln!(
                o,
                "{given}{} {} = {} (point {p}){}{}",
                h.parameters
                    .iter()
                    .find(|q| &q.path == param)
                    .map_or("cheapest", crate::render::superlative),
                param,
                rec.value.as_deref().unwrap_or("?"),
                if rec.confident {
                    ", confident"
                } else {
                    ", not confident: the 95% bound or a seed misses"
                },
                if rec.monotone { "" } else { "; not monotone" }
            ),
            (None, Some(p)) => writeln!(
                o,
                "{given}first point meeting the SLO: {p} ({})",
                h.parameters
                    .iter()
                    .zip(&r.points[p].values)
                    .map(|(q, v)| format!("{} = {v}", q.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    o
}

/// `clients[0].resolver.cache` -> `resolver.cache` for narrow columns.
fn short(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    if path.len() <= 14 || parts.len() < 2 {
        return path.to_string();
    }
    parts[parts.len() - 2..].join(".")
}

pub struct PlanArgs<'a> {
    pub inputs: Inputs<'a>,
    pub jobs: Option<usize>,
    pub window: Option<SimDuration>,
    pub out: Option<&'a Path>,
    pub format: Format,
}

/// The outcome of `ksim plan`.
#[derive(serde::Serialize)]
struct PlanOutput {
    scenario: String,
    parameter: String,
    slo: Vec<String>,
    seeds: Vec<u64>,
    searches: Vec<PlanSearch>,
}

#[derive(serde::Serialize)]
struct PlanSearch {
    given: Vec<String>,
    method: search::Method,
    monotone: bool,
    /// The recommended value (`null`: no value meets the SLO).
    value: Option<String>,
    confident: Option<bool>,
    /// Every value evaluated, in the order evaluated.
    evaluated: Vec<Evaluated>,
}

#[derive(serde::Serialize)]
struct Evaluated {
    value: String,
    meets: bool,
    confident: bool,
    objectives: Vec<slo::Judgement>,
}

/// `ksim plan`: the cheapest value of the `cheapest` parameter meeting the
/// SLO, for each combination of the other parameters.
pub fn plan(a: PlanArgs) -> ExitCode {
    PLAN_FILE.with(|p| *p.borrow_mut() = a.inputs.plan_file.map(Path::to_path_buf));
    if a.jobs == Some(0) {
        return fail("error: --jobs 0: at least one job\n".into());
    }
    if let Some(out) = a.out
        && let Err(m) = crate::check_out(out, a.inputs.file)
    {
        return fail(format!("error: --out {}: {m}\n", out.display()));
    }
    let loaded = match load(&a.inputs) {
        Ok(l) => l,
        Err(m) => return fail(m),
    };
    if let Some(out) = a.out
        && let Err(m) = crate::output::check(&[("--out", out)])
    {
        return fail(m);
    }
    let h = &loaded.head;
    let shown = a.inputs.plan_file.unwrap_or(a.inputs.file).display();
    if h.slo.is_empty() {
        return fail(format!(
            "error: {shown}: `ksim plan` needs an `slo:` block\n  hint: slo: [\"latency.p99_ms < 50\"]\n"
        ));
    }
    let Some(k) = h.parameters.iter().position(|p| p.cheapest.is_some()) else {
        return fail(format!(
            "error: {shown}: `ksim plan` searches the parameter marked `cheapest: first` (or `last`); none is\n  hint: add `cheapest: first` to the parameter whose first value costs least (e.g. fewest replicas)\n"
        ));
    };
    let pool = pool(a.jobs);
    let seeds = h.seeds.len();
    let param = &h.parameters[k];
    let n = param.values.len();
    let order: Vec<usize> = match param.cheapest {
        Some(sim_core::sweep::Cheapest::Last) => (0..n).rev().collect(),
        _ => (0..n).collect(),
    };
    let mut searches = Vec::new();
    // Metric names are checked once, against point 0 seed 0.
    if let Err(m) = execute(&loaded, &[0], a.window, &pool, a.inputs.file) {
        return fail(m);
    }
    for p0 in 0..h.points {
        let coords = h.coords(p0);
        if coords[k] != 0 {
            continue;
        }
        let at = |i: usize| {
            let mut c = coords.clone();
            c[k] = order[i];
            h.point_at(&c)
        };
        let mut evaluated = Vec::new();
        let mut failure = None;
        let s = search::cheapest(n, |i| {
            if failure.is_some() {
                return false;
            }
            let p = at(i);
            let runs: Vec<usize> = (p * seeds..(p + 1) * seeds).collect();
            let records = pool.install(|| {
                runs.par_iter()
                    .map(|&r| {
                        let opts = RunOptions {
                            seed: Some(h.seeds[r % seeds]),
                            window: a.window,
                        };
                        sim_core::run(&loaded.points[p], &opts)
                            .map(|rep| RunRecord::new(h, r, &rep))
                            .map_err(|e| {
                                format!("error: at sweep point {p}: {}: {}\n", e.path, e.message)
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            match records {
                Ok(records) => {
                    let pr = results::point_result(h, p, &records);
                    let v = pr.slo.expect("an SLO is set");
                    evaluated.push((i, v.clone()));
                    v.meets
                }
                Err(m) => {
                    failure = Some(m);
                    false
                }
            }
        });
        if let Some(m) = failure {
            return fail(m);
        }
        let chosen = s.chosen;
        searches.push(PlanSearch {
            given: h
                .parameters
                .iter()
                .zip(&coords)
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, (q, &c))| format!("{} = {}", q.path, q.values[c]))
                .collect(),
            method: s.method,
            monotone: s.monotone,
            value: chosen.map(|i| param.values[order[i]].clone()),
            confident: chosen.map(|i| {
                evaluated
                    .iter()
                    .find(|(j, _)| *j == i)
                    .is_some_and(|(_, v)| v.confident)
            }),
            evaluated: evaluated
                .into_iter()
                .map(|(i, v)| Evaluated {
                    value: param.values[order[i]].clone(),
                    meets: v.meets,
                    confident: v.confident,
                    objectives: v.objectives,
                })
                .collect(),
        });
    }
    let output = PlanOutput {
        scenario: h.scenario.clone(),
        parameter: param.path.clone(),
        slo: h.slo.iter().map(|o| o.text.clone()).collect(),
        seeds: h.seeds.clone(),
        searches,
    };
    let text = match a.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&output).expect("serializes");
            s.push('\n');
            s
        }
        Format::Text => plan_text_summary(&output, n),
    };
    crate::emit(&text, a.out)
}

fn plan_text_summary(p: &PlanOutput, n: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "ksim plan | scenario {} | cheapest {} meeting: {} | {} seeds per value",
        p.scenario,
        p.parameter,
        p.slo.join("; "),
        p.seeds.len()
    );
    for s in &p.searches {
        let _ = writeln!(o);
        let given = if s.given.is_empty() {
            String::new()
        } else {
            format!("with {}: ", s.given.join(", "))
        };
        let how = match s.method {
            search::Method::Bisection => format!(
                "bisection, {} of {n} values run, monotone along the values run",
                s.evaluated.len()
            ),
            search::Method::Scan => format!(
                "NOT monotone (a cheaper value met the SLO where a dearer one failed): scanned all {n} values; the answer is the cheapest value from which every dearer one meets"
            ),
        };
        match &s.value {
            Some(v) => {
                let _ = writeln!(o, "{given}{} = {v}  ({how})", p.parameter);
                let e = s
                    .evaluated
                    .iter()
                    .find(|e| &e.value == v)
                    .expect("the chosen value was run");
                let _ = writeln!(
                    o,
                    "  how sure: {}",
                    if e.confident {
                        "every seed meets every objective, and so does each 95% confidence bound"
                    } else {
                        "the means meet the SLO, but a seed or a 95% confidence bound does not: add seeds, or take a dearer value"
                    }
                );
                for j in &e.objectives {
                    let m = j.objective.split([' ', '<', '>']).next().unwrap_or("");
                    let _ = writeln!(
                        o,
                        "    {:<40} mean {}  95% bound {}  margin {}  seeds meeting {}/{}",
                        j.objective,
                        metric_num(m, j.mean),
                        metric_num(m, j.bound),
                        metric_num(m, j.margin),
                        j.seeds_meeting,
                        j.seeds
                    );
                }
            }
            None => {
                let _ = writeln!(o, "{given}no value meets the SLO  ({how})");
            }
        }
        let run: Vec<String> = s
            .evaluated
            .iter()
            .map(|e| format!("{}:{}", e.value, if e.meets { "meets" } else { "fails" }))
            .collect();
        let _ = writeln!(o, "  evaluated: {}", run.join(" "));
    }
    o
}
