//! End-to-end tests of `ksim sweep`, `ksim sweep merge`, `ksim plan` and
//! `ksim report`: determinism across jobs and shards, the plan's search,
//! bad sweep input, and the report page (`tests/browser.rs` renders it in
//! a real browser).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[allow(dead_code)] // not every helper is used here
mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

/// Five churning pods, a few clients, 40 s: a debug-build run takes
/// milliseconds. The sweep: 3 cache times x 3 seeds.
const STUDY: &str = "name: tiny-study
seed: 7
duration: 40s
services:
  - {name: db, clusterIP: None, selector: {app: db}, ports: [5432]}
statefulsets:
  - name: db
    service: db
    replicas: 5
    start_ready: true
    podManagementPolicy: Parallel
    lifecycle: {startup: 2s, drain: 1s, teardown: 1s}
    churn: {lifetime: exponential(60s)}
clients:
  - name: app
    count: 4
    target: db:5432
    rate: 20
    resolver: {cache: fixed(10s)}
    balancer: round-robin
    connect_timeout: 1s
sweep:
  seeds: 3
  parameters:
    - path: clients[0].resolver.cache
      values: [fixed(1s), fixed(10s), fixed(30s)]
      cheapest: last
slo: [\"rates.stale_ip_error_rate < 5%\"]
";

fn ksim(args: &[&str]) -> Output {
    Command::new(KSIM).args(args).output().expect("run ksim")
}

fn ksim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(KSIM);
    c.args(args);
    c.env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run ksim")
}

fn ok(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "ksim failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn results_are_byte_identical_with_one_or_two_jobs() {
    let t = TempDir::new("sweep-jobs");
    let f = t.write("study.yaml", STUDY.as_bytes());
    let (a, b) = (t.0.join("a.json"), t.0.join("b.json"));
    ok(ksim(&["sweep", s(&f), "--jobs", "1", "--out", s(&a)]));
    ok(ksim(&["sweep", s(&f), "--jobs", "2", "--out", s(&b)]));
    assert_eq!(read(&a), read(&b));
    let r: serde_json::Value = serde_json::from_slice(&read(&a)).unwrap();
    assert_eq!(r["points"].as_array().unwrap().len(), 3);
    assert_eq!(r["plan"]["seeds"], serde_json::json!([7, 8, 9]));
    let st = &r["points"][1]["stats"]["rates.stale_ip_error_rate"];
    assert_eq!(st["n"], 3);
    assert!(st["ci95_low"].as_f64().unwrap() <= st["mean"].as_f64().unwrap());
    // Seed 0 of a point is `ksim run` of that point.
    assert_eq!(r["featured"]["seed"], 7);
}

#[test]
fn four_shards_merged_are_the_bytes_of_one_run() {
    let t = TempDir::new("sweep-shards");
    let f = t.write("study.yaml", STUDY.as_bytes());
    let one = t.0.join("one.json");
    ok(ksim(&["sweep", s(&f), "--out", s(&one)]));
    let dir = t.0.join("shards");
    std::fs::create_dir(&dir).unwrap();
    // Index by flag, by a Kubernetes Indexed Job, by a Slurm array.
    ok(ksim_env(
        &[
            "sweep",
            s(&f),
            "--shard-index",
            "0",
            "--shard-count",
            "4",
            "--out",
            s(&dir),
        ],
        &[],
    ));
    ok(ksim_env(
        &[
            "sweep",
            s(&f),
            "--shard-index",
            "1",
            "--shard-count",
            "4",
            "--out",
            s(&dir),
        ],
        &[],
    ));
    ok(ksim_env(
        &["sweep", s(&f), "--shard-count", "4", "--out", s(&dir)],
        &[("JOB_COMPLETION_INDEX", "2")],
    ));
    let missing = ksim(&["sweep", "merge", s(&dir)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing shard(s) 3 of 4"));
    ok(ksim_env(
        &["sweep", s(&f), "--shard-count", "4", "--out", s(&dir)],
        &[("SLURM_ARRAY_TASK_ID", "3")],
    ));
    let merged = t.0.join("merged.json");
    ok(ksim(&["sweep", "merge", s(&dir), "--out", s(&merged)]));
    assert_eq!(read(&one), read(&merged));
}

#[test]
fn plan_bisects_to_the_known_cheapest_point() {
    // `skew.identities` is exactly the replica count: the cheapest count
    // with at least 5 identities is 5, and the study is monotone.
    let t = TempDir::new("sweep-plan");
    let f = t.write(
        "plan.yaml",
        b"name: counted
duration: 5s
services:
  - {name: api, clusterIP: None, selector: {app: api}, ports: [80]}
deployments:
  - {name: api, replicas: 1, start_ready: true, ports: [80]}
clients:
  - {name: c, target: 'api:80', rate: 50, balancer: round-robin}
sweep:
  seeds: 2
  parameters:
    - {path: 'deployments[0].replicas', range: {from: 1, to: 16}, cheapest: first}
slo: ['skew.identities >= 5']
",
    );
    let out = ok(ksim(&["plan", s(&f), "--format", "json"]));
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    let search = &p["searches"][0];
    assert_eq!(search["value"], "5");
    assert_eq!(search["method"], "bisection");
    assert_eq!(search["monotone"], true);
    assert_eq!(search["confident"], true);
    let evaluated = search["evaluated"].as_array().unwrap().len();
    assert!(evaluated <= 7, "bisection ran {evaluated} of 16 values");
    let text = ok(ksim(&["plan", s(&f)]));
    assert!(text.contains("deployments[0].replicas = 5"), "{text}");
    // The full sweep agrees.
    let r: serde_json::Value =
        serde_json::from_str(&ok(ksim(&["sweep", s(&f), "--format", "json"]))).unwrap();
    assert_eq!(r["recommendations"][0]["value"], "5");
}

fn bad(study: &str, plan: Option<&str>) -> String {
    let t = TempDir::new("sweep-bad");
    let f = t.write("study.yaml", study.as_bytes());
    let out_path = t.0.join("out.json");
    let mut args = vec!["sweep".to_string(), s(&f).to_string()];
    if let Some(p) = plan {
        let pf = t.write("plan.yaml", p.as_bytes());
        args.extend(["--plan".into(), s(&pf).to_string()]);
    }
    args.extend(["--out".into(), s(&out_path).to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ksim(&args);
    assert_eq!(out.status.code(), Some(2), "{study}");
    assert!(!out_path.exists(), "no partial output");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn bad_sweep_input_is_located_and_exits_2() {
    let base = STUDY.split("sweep:").next().unwrap();
    // A path that is not in the scenario.
    let e = bad(
        &format!("{base}sweep:\n  parameters:\n    - {{path: 'clients[3].rate', values: [1]}}\n"),
        None,
    );
    assert!(e.contains("study.yaml:"), "{e}");
    assert!(e.contains("clients[3].rate"), "{e}");
    assert!(e.contains("there is no [3]"), "{e}");
    // A value the scenario rejects: the point, the path, the value, and a
    // caret under the value in the sweep block.
    let e = bad(
        &format!(
            "{base}sweep:\n  parameters:\n    - path: statefulsets[0].replicas\n      values: [3, many]\n"
        ),
        None,
    );
    assert!(e.contains("statefulsets[0].replicas = many"), "{e}");
    assert!(e.contains("study.yaml:25:19:"), "at the value: {e}");
    assert!(e.contains("[3, many]"), "{e}");
    // The same in a separate plan file: located in that file.
    let e = bad(
        base,
        Some("sweep:\n  parameters:\n    - {path: 'statefulsets[0].replicas', values: [-1]}\n"),
    );
    assert!(e.contains("plan.yaml:3:"), "{e}");
    assert!(e.contains("cannot be negative"), "{e}");
    // An unknown metric in the SLO, with a guess.
    let e = bad(
        &format!(
            "{base}sweep:\n  parameters:\n    - {{path: 'clients[0].rate', values: [5]}}\nslo: ['latency.p99 < 50']\n"
        ),
        None,
    );
    assert!(
        e.contains("metric `latency.p99` is not in the run report"),
        "{e}"
    );
    assert!(e.contains("did you mean"), "{e}");
    // A malformed objective and a bad range.
    let e = bad(
        &format!(
            "{base}sweep:\n  parameters:\n    - {{path: 'clients[0].rate', values: [5]}}\nslo: ['latency.p99_ms fast']\n"
        ),
        None,
    );
    assert!(e.contains("no comparison"), "{e}");
    let e = bad(
        &format!(
            "{base}sweep:\n  parameters:\n    - {{path: 'clients[0].rate', range: {{from: 5, to: 1}}}}\n"
        ),
        None,
    );
    assert!(e.contains("`to` is before `from`"), "{e}");
    // No sweep at all.
    let e = bad(base, None);
    assert!(e.contains("no `sweep:` block"), "{e}");
}

/// Write the tiny study's report; the page's path.
fn report(t: &TempDir) -> PathBuf {
    let f = t.write("study.yaml", STUDY.as_bytes());
    let dir = t.0.join("report");
    let results = t.0.join("results.json");
    ok(ksim(&[
        "sweep",
        s(&f),
        "--out",
        s(&results),
        "--report",
        s(&dir),
    ]));
    // `ksim report` renders the same bytes from the results file.
    let again = t.0.join("again");
    ok(ksim(&["report", s(&results), "--out", s(&again)]));
    for name in ["report.html", "report.md", "results.csv", "results.json"] {
        assert_eq!(read(&dir.join(name)), read(&again.join(name)), "{name}");
    }
    assert_eq!(read(&dir.join("results.json")), read(&results));
    dir.join("report.html")
}

#[test]
fn the_report_page_is_self_contained() {
    let t = TempDir::new("sweep-report");
    let html = String::from_utf8(read(&report(&t))).unwrap();
    let xmlns = "http://www.w3.org/2000/svg";
    let rest = html.replace(&format!("xmlns=\"{xmlns}\""), "");
    assert!(
        !rest.contains("http://") && !rest.contains("https://"),
        "a network reference"
    );
    assert!(!rest.contains("<script") && !rest.contains("<link") && !rest.contains("src="));
    assert!(
        html.matches("<svg").count() >= 5,
        "charts: metrics, pods, timeline, outcomes"
    );
    assert!(html.contains("<polygon"), "confidence bands");
    assert!(!html.contains("0000000000"), "no float noise in the bytes");
    // Rates in percent as the SLO writes them; the verdict in the SLO's terms.
    assert!(html.contains("%\n</text>"), "ticks in percent");
    assert!(
        html.contains("SLO: rates.stale_ip_error_rate &lt; 5%"),
        "the SLO line's legend"
    );
    assert!(html.contains("the longest <code>clients[0].resolver.cache</code>"));
    // No pod capacity: latency is left out, not drawn flat at zero.
    assert!(!html.contains("<figcaption>latency.p50_ms"));
    assert!(html.contains("did not model them"));
}
