//! End-to-end tests of `ksim run`: what a user relies on from the command
//! line (the example scenarios run, the JSON report's shape, determinism,
//! `--seed`, `--out`, `--window`).
//!
//! `web-statefulset` is small (well under a second in a debug build) and is
//! used wherever one run will do; `canonical-churn` runs once, in
//! `every_scenario_in_the_directory_runs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// `scenarios/web-statefulset.yaml`.
fn web() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        scenarios_dir()
            .join("web-statefulset.yaml")
            .to_str()
            .expect("utf-8 path")
            .to_string()
    })
}

fn ksim(args: &[&str]) -> Output {
    Command::new(KSIM).args(args).output().expect("run ksim")
}

/// Run and insist on success; returns standard output.
fn ok(args: &[&str]) -> String {
    let out = ksim(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ksim {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "ksim {args:?} wrote to stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("report is UTF-8")
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("report is not JSON ({e}):\n{text}"))
}

/// The value at a JSON pointer such as `/totals/outcomes/ok`.
fn at<'v>(report: &'v Value, pointer: &str) -> &'v Value {
    report
        .pointer(pointer)
        .unwrap_or_else(|| panic!("report has no `{pointer}`"))
}

fn u64_at(report: &Value, pointer: &str) -> u64 {
    at(report, pointer)
        .as_u64()
        .unwrap_or_else(|| panic!("`{pointer}` is not a whole number"))
}

fn f64_at(report: &Value, pointer: &str) -> f64 {
    at(report, pointer)
        .as_f64()
        .unwrap_or_else(|| panic!("`{pointer}` is not a number"))
}

#[test]
fn the_default_scenario_runs_and_prints_a_text_summary() {
    let text = ok(&["run", web()]);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("ksim "), "{first}");
    assert!(first.contains("scenario web-statefulset"), "{first}");
    assert!(first.contains("seed 42"), "{first}");
    for label in [
        "digest sha256:",
        "requests",
        "attempts",
        "  ok",
        "  refused",
        "  timeout",
        "  unreachable",
        "  wrong_backend",
        "  no_address",
        "stale-IP errors",
        "skew over 3 identities",
        "client group",
        "pinned",
        "jvm",
        "glibc",
        "window",
    ] {
        assert!(text.contains(label), "the summary lacks `{label}`:\n{text}");
    }
    assert!(!text.trim_start().starts_with('{'), "text, not JSON");
}

#[test]
fn the_json_report_has_every_documented_field() {
    let r = json(&ok(&["run", web(), "--format", "json"]));
    assert!(u64_at(&r, "/schema_version") >= 1);
    assert_eq!(at(&r, "/ksim_version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(u64_at(&r, "/seed"), 42, "the file's seed");
    assert_eq!(at(&r, "/scenario/name"), "web-statefulset");
    let digest = at(&r, "/scenario/digest").as_str().unwrap();
    assert!(
        digest.starts_with("sha256:")
            && digest.len() == 7 + 64
            && digest[7..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{digest}"
    );

    let requests = u64_at(&r, "/totals/requests");
    let attempts = u64_at(&r, "/totals/attempts");
    assert!(
        requests > 0 && attempts >= requests,
        "{requests} {attempts}"
    );
    let outcomes: u64 = [
        "ok",
        "refused",
        "timeout",
        "unreachable",
        "wrong_backend",
        "no_address",
    ]
    .iter()
    .map(|o| u64_at(&r, &format!("/totals/outcomes/{o}")))
    .sum();
    assert_eq!(outcomes, attempts, "every attempt has one outcome");
    // The scenario's story: web-1 is deleted, so some dials fail.
    assert!(u64_at(&r, "/totals/outcomes/ok") < attempts);

    let stale = u64_at(&r, "/totals/stale_ip_errors");
    let by_layer: u64 = ["client_cache", "server_cache", "propagation"]
        .iter()
        .map(|l| u64_at(&r, &format!("/stale_ip_errors_by_layer/{l}")))
        .sum();
    assert_eq!(by_layer, stale, "stale-IP errors split over the layers");

    for rate in ["stale_ip_error_rate", "connection_refused_rate"] {
        let v = f64_at(&r, &format!("/rates/{rate}"));
        assert!((0.0..=1.0).contains(&v), "{rate} = {v}");
    }
    let refused = u64_at(&r, "/totals/outcomes/refused") as f64;
    let rate = f64_at(&r, "/rates/connection_refused_rate");
    assert!((rate - refused / attempts as f64).abs() < 1e-12);

    assert!(f64_at(&r, "/skew/max_over_mean") >= 1.0);
    assert!(f64_at(&r, "/skew/cov") >= 0.0);
    let jain = f64_at(&r, "/skew/jain");
    assert!(jain > 0.0 && jain <= 1.0, "jain = {jain}");
    let per_identity = at(&r, "/skew/per_identity").as_object().unwrap();
    let names: Vec<&str> = per_identity.keys().map(String::as_str).collect();
    assert_eq!(names, ["web-0", "web-1", "web-2"]);

    let windows = at(&r, "/windows").as_array().unwrap();
    assert_eq!(windows.len(), 30, "300 s in 10 s windows");
    let in_windows: u64 = windows
        .iter()
        .map(|w| w["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(in_windows, requests, "windows add up to the totals");
}

#[test]
fn the_same_seed_gives_byte_identical_json() {
    let a = ok(&["run", web(), "--format", "json"]);
    let b = ok(&["run", web(), "--format", "json"]);
    assert!(a == b, "two runs with the same seed differ");
    let c = ok(&["run", web(), "--format", "json", "--seed", "42"]);
    assert!(a == c, "--seed equal to the file's seed changes nothing");
}

#[test]
fn the_seed_flag_overrides_the_files_seed() {
    let base = ok(&["run", web(), "--format", "json"]);
    let other = ok(&["run", web(), "--format", "json", "--seed", "7"]);
    let (b, o) = (json(&base), json(&other));
    assert_eq!(u64_at(&b, "/seed"), 42);
    assert_eq!(u64_at(&o, "/seed"), 7);
    assert_ne!(base, other);
    assert_ne!(
        at(&b, "/totals"),
        at(&o, "/totals"),
        "another seed, another run"
    );
    // The scenario itself is the same: the digest does not include --seed.
    assert_eq!(at(&b, "/scenario/digest"), at(&o, "/scenario/digest"));
    // The text report shows the seed in effect too.
    let text = ok(&["run", web(), "--seed", "7"]);
    assert!(text.lines().next().unwrap().contains("seed 7"), "{text}");
}

#[test]
fn out_writes_the_same_bytes_as_stdout_and_no_temp_file() {
    let dir = TempDir::new("out");
    let stdout = ok(&["run", web(), "--format", "json"]);
    let path = dir.0.join("report.json");
    let printed = ok(&[
        "run",
        web(),
        "--format",
        "json",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(printed.is_empty(), "--out prints nothing");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), stdout);
    assert_eq!(dir.entries(), ["report.json"], "no temp file left behind");

    // Overwriting replaces the file whole, the text format included.
    let text = ok(&["run", web()]);
    ok(&["run", web(), "--out", path.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(dir.entries(), ["report.json"]);
}

/// `--out` through a symlink updates the file it points to and keeps the
/// link; a path that is not a regular file (a pipe, `/dev/null`) is written
/// to, never replaced.
#[cfg(unix)]
#[test]
fn out_follows_symlinks_and_writes_into_pipes() {
    let dir = TempDir::new("out-special");
    let expected = ok(&["run", web(), "--format", "json"]);

    let target = dir.0.join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(&[
        "run",
        web(),
        "--format",
        "json",
        "--out",
        link.to_str().unwrap(),
    ]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);

    let fifo = dir.0.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut expected_entries = vec!["link.json", "target.json"];
    if made.is_ok_and(|s| s.success()) {
        expected_entries.insert(1, "pipe");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        ok(&[
            "run",
            web(),
            "--format",
            "json",
            "--out",
            fifo.to_str().unwrap(),
        ]);
        assert_eq!(reader.join().unwrap(), expected);
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
    assert_eq!(dir.entries(), expected_entries, "no temp file left behind");
}

#[test]
fn the_window_flag_changes_the_window_count() {
    let count = |extra: &[&str]| {
        let mut args = vec!["run", web(), "--format", "json"];
        args.extend_from_slice(extra);
        let r = json(&ok(&args));
        (at(&r, "/windows").as_array().unwrap().len(), r)
    };
    let (default, d) = count(&[]);
    let (thirty, t) = count(&["--window", "30s"]);
    let (uneven, _) = count(&["--window", "7s"]);
    assert_eq!(default, 30);
    assert_eq!(thirty, 10);
    assert_eq!(uneven, 43, "300 s in 7 s windows: the last one is short");
    // Only the windows change, not the run.
    assert_eq!(at(&d, "/totals"), at(&t, "/totals"));
    let first = &at(&t, "/windows").as_array().unwrap()[0];
    assert_eq!(first["end_s"].as_f64(), Some(30.0));
}

#[test]
fn every_scenario_in_the_directory_runs() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected the example scenarios, found {files:?}"
    );
    let dir = TempDir::new("scenarios");
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let mut file = file.clone();
        // A production-scale scenario runs here as a small copy of itself
        // (this is a debug build): its first fleet 2 copies, 5 s.
        if stem == "fleet-10k" {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in ["\nduration: 1h\n", "\n  - count: 100\n"] {
                assert!(text.contains(line), "fleet-10k.yaml: no `{}`", line.trim());
            }
            let small = text
                .replacen("\nduration: 1h\n", "\nduration: 5s\n", 1)
                .replacen("\n  - count: 100\n", "\n  - count: 2\n", 1);
            file = dir.write("fleet-10k.yaml", small.as_bytes());
        }
        let r = json(&ok(&["run", file.to_str().unwrap(), "--format", "json"]));
        assert_eq!(
            at(&r, "/scenario/name"),
            stem,
            "{}: name matches the file",
            file.display()
        );
        assert!(u64_at(&r, "/totals/requests") > 0, "{}", file.display());
        assert!(u64_at(&r, "/totals/outcomes/ok") > 0, "{}", file.display());
    }
}

#[test]
fn version_and_help_exit_0() {
    let v = ok(&["--version"]);
    assert_eq!(v.trim(), format!("ksim {}", env!("CARGO_PKG_VERSION")));
    let help = ok(&["run", "--help"]);
    for flag in ["--seed", "--format", "--out", "--window"] {
        assert!(help.contains(flag), "help lacks {flag}:\n{help}");
    }
}

#[test]
fn dns_answers_like_dig_at_an_instant() {
    // web-1 is deleted at 75 s: before, its name resolves; after (80 s), NXDOMAIN with the SOA.
    let before = ok(&[
        "dns",
        web(),
        "--at",
        "60s",
        "web-1.nginx.default.svc.cluster.local",
    ]);
    assert!(before.contains("status: NOERROR"), "{before}");
    assert!(
        before.contains("web-1.nginx.default.svc.cluster.local.\t30\tIN\tA\t10.244.0.2"),
        "{before}"
    );
    let after = ok(&[
        "dns",
        web(),
        "--at",
        "80s",
        "web-1.nginx.default.svc.cluster.local",
    ]);
    assert!(after.contains("status: NXDOMAIN"), "{after}");
    assert!(after.contains(";; AUTHORITY SECTION:"), "{after}");
    assert!(
        after.contains("IN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local."),
        "{after}"
    );
    // Other record types: SRV per named port, with targets and glue.
    let srv = ok(&[
        "dns",
        web(),
        "--at",
        "20s",
        "_web._tcp.nginx.default.svc.cluster.local",
        "SRV",
    ]);
    assert!(
        srv.contains("IN\tSRV\t0 33 80 web-0.nginx.default.svc.cluster.local."),
        "{srv}"
    );
    assert!(srv.contains(";; ADDITIONAL SECTION:"), "{srv}");
    // PTR from an address.
    let ptr = ok(&["dns", web(), "--at", "20s", "10.244.0.1", "PTR"]);
    assert!(
        ptr.contains(
            "1.0.244.10.in-addr.arpa.\t30\tIN\tPTR\tweb-0.nginx.default.svc.cluster.local."
        ),
        "{ptr}"
    );
}

#[test]
fn dns_from_a_client_shows_its_resolver_path() {
    // The pinned group resolves web-1.nginx on every request: at 80 s every
    // search-list name is NXDOMAIN, A and AAAA each.
    let path = ok(&[
        "dns",
        web(),
        "--at",
        "80s",
        "web-1.nginx",
        "--from",
        "pinned",
    ]);
    assert!(
        path.contains(";; RESOLVER PATH: client pinned/0 (profile glibc"),
        "{path}"
    );
    assert_eq!(path.matches("NXDOMAIN  0 answer(s)").count(), 8, "{path}");
    assert!(path.contains("=> no address"), "{path}");
    // A JVM client at 80 s still holds the list it cached at ~60 s.
    let jvm = ok(&[
        "dns",
        web(),
        "--at",
        "80s",
        "nginx",
        "--from",
        "jvm/3",
        "--format",
        "json",
    ]);
    let v = json(&jvm);
    assert_eq!(v["answered_by"], "client cache");
    assert_eq!(v["path"]["client"], "jvm/3");
    assert_eq!(v["answer"].as_array().map(Vec::len), Some(3));
    for key in [
        "schema_version",
        "question",
        "rcode",
        "flags",
        "answer",
        "authority",
        "additional",
    ] {
        assert!(v.get(key).is_some(), "no `{key}` in {jvm}");
    }
    assert_eq!(v["answer"][0]["type"], "A");
    // From a pod: glibc, ClusterFirst in its namespace, no cache of its own.
    let pod = ok(&["dns", web(), "--at", "30s", "nginx", "--from", "web-0"]);
    assert!(
        pod.contains("RESOLVER PATH: client pod web-0 (profile glibc"),
        "{pod}"
    );
    assert!(
        pod.contains("=> 10.244.0.1, 10.244.0.2, 10.244.0.3"),
        "{pod}"
    );
}

#[test]
fn dns_refuses_bad_questions_with_exit_2() {
    for (args, says) in [
        (
            vec!["--at", "10m", "nginx"],
            "not before the end of the run",
        ),
        (vec!["--at", "10s", "nginx", "BOGUS"], "query type `BOGUS`"),
        (
            vec!["--at", "10s", "nginx", "--from", "nobody"],
            "no client group or pod `nobody`",
        ),
        (
            vec!["--at", "10s", "nginx", "--from", "web-7"],
            "pod `web-7` does not exist at 10s",
        ),
    ] {
        let mut full = vec!["dns", web()];
        full.extend(args);
        let out = ksim(&full);
        assert_eq!(out.status.code(), Some(2), "{full:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{full:?}: {err}");
    }
}

#[test]
fn events_out_writes_one_json_lifecycle_event_per_line_and_leaves_the_report_alone() {
    let dir = TempDir::new("events");
    let path = dir.0.join("events.jsonl");
    let with = ok(&[
        "run",
        web(),
        "--format",
        "json",
        "--events-out",
        path.to_str().unwrap(),
    ]);
    let without = ok(&["run", web(), "--format", "json"]);
    assert_eq!(with, without, "the report does not depend on --events-out");
    let text = std::fs::read_to_string(&path).expect("events written");
    let events: Vec<Value> = text.lines().map(json).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    // web-1 is deleted at 75 s: terminating, out of the endpoints, exited, gone, replaced.
    let at = |kind: &str, object: &str| {
        events
            .iter()
            .filter(|e| e["kind"] == kind && e["object"] == object)
            .map(|e| e["t_ns"].as_u64().unwrap() as f64 / 1e9)
            .collect::<Vec<f64>>()
    };
    assert_eq!(at("pod_terminating", "web-1"), [75.0]);
    assert_eq!(at("pod_exited", "web-1"), [80.0]);
    assert_eq!(at("pod_gone", "web-1"), [82.0]);
    assert_eq!(at("pod_created", "web-1"), [0.0, 82.0]);
    assert!(kinds.contains(&"endpoints_changed"));
    assert!(
        events
            .iter()
            .all(|e| e["t_ns"].is_u64() && e["object"].is_string())
    );
}

#[test]
fn check_determinism_prints_the_verdict_on_stderr_and_the_report_as_usual() {
    let out = ksim(&["run", web(), "--check-determinism", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("deterministic: ") && stderr.contains("events identical"),
        "{stderr}"
    );
    let plain = ok(&["run", web(), "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain);
}

/// A small scenario for `ksim check`: one deletion under a caching client.
const CHECKED: &str = r#"# a deletion under caching clients
name: checked
duration: 20s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
statefulsets:
  - {name: web, service: nginx, replicas: 3, start_ready: true}
clients:
  - {name: app, count: 2, target: "nginx:80", rate: 10, resolver: {cache: none}}
events:
  - {at: 10s, delete_pod: web-0}
"#;

#[test]
fn check_writes_a_shrunk_counterexample_that_ksim_run_reproduces() {
    let dir = TempDir::new("check");
    let file = dir.write("checked.yaml", CHECKED.as_bytes());
    let file = file.to_str().unwrap();
    let out = ksim(&[
        "check",
        file,
        "--property",
        "rates.stale_ip_error_rate < 0.001",
        "--vary",
        "statefulsets[0].replicas=1..6",
        "--vary",
        "clients[0].resolver.cache=none|fixed(30s)",
        "--vary",
        "events[0].at=1s..15s",
        "--cases",
        "16",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("counterexample: `rates.stale_ip_error_rate < 0.001` does not hold"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    statefulsets[0].replicas = 1"),
        "{stdout}"
    );
    assert!(stdout.contains("    events[0].at = 1s"), "{stdout}");
    assert!(
        stdout.contains("first failing attempt: client group `app`"),
        "{stdout}"
    );
    assert!(stdout.contains("a stale IP from the"), "{stdout}");
    assert!(stdout.contains("events[0] at 1s"), "{stdout}");
    // Shrinking went on in the file itself.
    assert!(stdout.contains("    lowered duration: 20s -> "), "{stdout}");
    assert!(stdout.contains("  1-minimal: "), "{stdout}");
    let written = dir.0.join("checked.counterexample.yaml");
    assert!(
        stdout.contains(&format!("wrote {}", written.display())),
        "{stdout}"
    );
    // A normal scenario file: `ksim run` reproduces the violation.
    let report = json(&ok(&["run", written.to_str().unwrap(), "--format", "json"]));
    let rate = report["rates"]["stale_ip_error_rate"].as_f64().unwrap();
    assert!(rate >= 0.001, "{rate}");
}

/// Three client groups and three deletions, where one group and one
/// deletion are enough to break "no stale-IP errors for `jvm`".
const CHECKED_BIG: &str = r#"# story: a deletion under a caching JVM
name: big
seed: 7
duration: 20s
services:
  - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
  # an unused Service
  - {name: other, selector: {app: nothing}, ports: [81]}
statefulsets:
  - {name: web, service: nginx, replicas: 3, start_ready: true}
clients:
  # resolves before every request
  - {name: fresh, count: 2, target: "nginx:80", rate: 5}
  # caches answers for 30 s
  - name: jvm
    count: 3   # three JVMs
    target: "nginx:80"
    rate: 10
    resolver: {cache: fixed(30s)}
events:
  - {at: 5s, delete_pod: web-0}  # the first deletion
  - {at: 8s, delete_pod: web-1}
  - {at: 12s, delete_pod: web-2}
"#;

#[test]
fn check_shrinks_the_file_itself_keeping_the_comments_of_what_survives() {
    let dir = TempDir::new("check-shrink");
    let file = dir.write("big.yaml", CHECKED_BIG.as_bytes());
    let file = file.to_str().unwrap();
    let out = ksim(&[
        "check",
        file,
        "--property",
        "client_groups.jvm.stale_ip_error_rate < 0.1%",
        "--vary",
        "clients[0].rate=1..5",
        "--cases",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for removed in [
        "removed clients[0] (`fresh`)",
        "removed services[1] (`other`)",
        "removed events[0] (`{at: 5s, delete_pod: web-0}`)",
        "removed clients[0].count (was ",
    ] {
        assert!(stdout.contains(removed), "{removed}: {stdout}");
    }
    assert!(stdout.contains("  1-minimal: "), "{stdout}");
    let text = std::fs::read_to_string(dir.0.join("big.counterexample.yaml")).unwrap();
    assert!(
        text.contains("# story: a deletion under a caching JVM"),
        "{text}"
    );
    assert!(
        text.contains("  # caches answers for 30 s\n  - name: jvm\n"),
        "{text}"
    );
    assert!(text.contains("seed: 7\n"), "{text}");
    assert!(!text.contains("an unused Service"), "{text}");
    assert!(!text.contains("resolves before every request"), "{text}");
    assert!(!text.contains("three JVMs"), "{text}");
    let body = text.split_once("# reproduce").unwrap().1;
    assert!(!body.contains('{'), "block style: {text}");
    // One deletion is left, and `ksim run` reproduces the violation.
    assert_eq!(body.matches("delete_pod").count(), 1, "{text}");
    let report = json(&ok(&[
        "run",
        dir.0.join("big.counterexample.yaml").to_str().unwrap(),
        "--format",
        "json",
    ]));
    let rate = report["client_groups"]["jvm"]["stale_ip_error_rate"]
        .as_f64()
        .unwrap();
    assert!(rate >= 0.001, "{rate}");
}

#[test]
fn check_shrink_structure_removes_and_values_only_lowers() {
    let dir = TempDir::new("check-shrink-modes");
    let file = dir.write("big.yaml", CHECKED_BIG.as_bytes());
    let file = file.to_str().unwrap();
    let run = |mode: &str, runs: &str| {
        let out = ksim(&[
            "check",
            file,
            "--property",
            "client_groups.jvm.stale_ip_error_rate < 0.001",
            "--cases",
            "1",
            "--shrink",
            mode,
            "--max-shrink-runs",
            runs,
        ]);
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let structure = run("structure", "200");
    assert!(structure.contains("    removed "), "{structure}");
    assert!(!structure.contains("    lowered "), "{structure}");
    let values = run("values", "200");
    assert!(values.contains("    lowered "), "{values}");
    assert!(!values.contains("    removed "), "{values}");
    assert!(values.contains("  1-minimal in values: "), "{values}");
    // 3 runs are not enough to finish: it says so.
    let short = run("both", "3");
    assert!(
        short.contains("not 1-minimal: the shrinking budget ran out"),
        "{short}"
    );
}

#[test]
fn check_properties_over_windows_groups_and_pods() {
    let dir = TempDir::new("check-over-time");
    let file = dir.write("checked.yaml", CHECKED.as_bytes());
    let file = file.to_str().unwrap();
    for (property, code) in [
        ("every window: stale_ip_error_rate < 100%", 0),
        ("any group: refused_rate >= 0", 0),
        ("eventually pod web-0 ready before 20s", 0),
        ("never pod web-0 terminating", 1),
        ("eventually pod web-9 ready", 1),
    ] {
        let out = ksim(&[
            "check",
            file,
            "--property",
            property,
            "--cases",
            "1",
            "--max-shrink-runs",
            "0",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{property}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = ksim(&[
        "check",
        file,
        "--property",
        "every window: stale_ip_eror_rate < 1%",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("windows[0]") && stderr.contains("stale_ip_eror_rate"),
        "{stderr}"
    );
}

#[test]
fn check_without_a_counterexample_says_how_many_cases_it_tried() {
    let dir = TempDir::new("check-ok");
    let file = dir.write("checked.yaml", CHECKED.as_bytes());
    let out = ok(&[
        "check",
        file.to_str().unwrap(),
        "--property",
        "totals.requests > 0 && rates.outcomes.wrong_backend == 0",
        "--vary",
        "clients[0].rate=1..20",
        "--cases",
        "6",
    ]);
    assert!(
        out.starts_with("no counterexample: `totals.requests > 0 && rates.outcomes.wrong_backend == 0` held in all 6 cases tried (varying clients[0].rate)"),
        "{out}"
    );
    assert!(!dir.0.join("checked.counterexample.yaml").exists());
}

#[test]
fn check_rejects_bad_properties_and_ranges_with_exit_code_2() {
    let dir = TempDir::new("check-bad");
    let file = dir.write("checked.yaml", CHECKED.as_bytes());
    let file = file.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--property", "rates.stale_ip_error_rate"],
            "no comparison",
        ),
        (
            vec!["--property", "rates.stale_ip_eror_rate < 1"],
            "did you mean `stale_ip_error_rate`",
        ),
        (
            vec!["--property", "every pod: x < 1"],
            "`pod` is not something to quantify over",
        ),
        (
            vec!["--property", "eventually pod web-0 raedy"],
            "did you mean `ready`",
        ),
        (
            vec!["--property", "totals.requests > 0", "--shrink", "all"],
            "possible values: structure, values, both",
        ),
        (
            vec![
                "--property",
                "totals.requests > 0",
                "--vary",
                "clients[0].rate=9..1",
            ],
            "empty",
        ),
        (
            vec![
                "--property",
                "totals.requests > 0",
                "--vary",
                "clients[7].rate=1..2",
            ],
            "out of range",
        ),
    ] {
        let mut all = vec!["check", file];
        all.extend(args.iter().copied());
        let out = ksim(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// The cluster DNS Service holds 10.96.0.10 in every cluster, so the tenth
/// allocated ClusterIP is 10.96.0.11, never the DNS address; a CIDR with room
/// for the Services but not for them and the DNS address is refused.
#[test]
fn allocated_cluster_ips_skip_the_cluster_dns_address() {
    let dir = TempDir::new("dns-vip");
    let services: String = (1..=12)
        .map(|i| format!("  - {{name: s{i}, selector: {{app: w}}, ports: [80]}}\n"))
        .collect();
    let text = format!(
        "name: vips\nduration: 5s\nservices:\n{services}statefulsets:\n  - {{name: w, service: s1, replicas: 1, start_ready: true, labels: {{app: w}}}}\n"
    );
    let file = dir.write("vips.yaml", text.as_bytes());
    let file = file.to_str().unwrap();
    let ip_of = |name: &str| {
        let out = ok(&[
            "dns",
            file,
            "--at",
            "1s",
            &format!("{name}.default.svc.cluster.local"),
        ]);
        let line = out
            .lines()
            .find(|l| l.contains("\tIN\tA\t"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        line.rsplit('\t').next().unwrap().to_string()
    };
    assert_eq!(ip_of("s9"), "10.96.0.9");
    assert_eq!(ip_of("s10"), "10.96.0.11");
    assert_eq!(ip_of("s12"), "10.96.0.13");
    // 10.96.0.0/28 has 14 usable addresses: 12 Services and the DNS one fit,
    // 14 Services do not.
    let tight = text.replace(
        "name: vips\n",
        "name: vips\ncluster: {ipam: {service_cidr: 10.96.0.0/28}}\n",
    );
    let more: String = (13..=14)
        .map(|i| format!("  - {{name: s{i}, selector: {{app: w}}, ports: [80]}}\n"))
        .collect();
    let fits = dir.write("fits.yaml", tight.as_bytes());
    ok(&[
        "dns",
        fits.to_str().unwrap(),
        "--at",
        "1s",
        "s1.default.svc.cluster.local",
    ]);
    let over = dir.write(
        "over.yaml",
        tight
            .replace("statefulsets:", &format!("{more}statefulsets:"))
            .as_bytes(),
    );
    let out = ksim(&["run", over.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("too small for 14 ClusterIPs and the cluster DNS address"),
        "{err}"
    );
}
