//! Inputs and outputs of the real `ksim` binary under hostile conditions:
//! devices, pipes, directories and oversized files as any input (bounded
//! reader); values at the edges of every limit (bounded time and memory);
//! outputs that are inputs, outputs that clash, and outputs committed
//! together or not at all.
//!
//! Every run is watched: a memory cap (`ulimit -v`, set by `sh` before it
//! becomes ksim) and a wall-clock deadline, so a regression fails the test
//! instead of hanging it or exhausting the machine.

// Wall-clock time here is a hang watchdog for the test itself; it never
// reaches a simulation result (clippy.toml forbids it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

/// Address space one ksim run may take: far above a small run's needs, far
/// below what an unbounded read reaches in the deadline (~1 GB/s).
const MEMORY_KIB: u64 = 1024 * 1024;

/// What a watched run did.
struct Watched {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Run ksim with `args` under [`MEMORY_KIB`] of address space, killed after
/// `deadline`; panics (naming the run) if it had to be killed.
fn watched(args: &[&str], deadline: Duration) -> Watched {
    let script = format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\"");
    let started = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(KSIM)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ksim through sh");
    // Drained while it runs: a report larger than a pipe's buffer would
    // otherwise block ksim.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ksim") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ksim {args:?} ran past {deadline:?} (a hang?); killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Watched {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed: started.elapsed(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A named pipe nobody writes to: opening it for reading would block.
fn fifo(t: &TempDir, name: &str) -> String {
    let path = t.0.join(name);
    let ok = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
    s(&path).to_string()
}

/// A file one byte over `limit` (sparse: it takes no disk).
fn oversized(t: &TempDir, name: &str, limit: u64) -> String {
    let path = t.0.join(name);
    let f = std::fs::File::create(&path).expect("create");
    f.set_len(limit + 1).expect("grow the file");
    s(&path).to_string()
}

/// One hostile input: the path, what the message says when it is a text
/// input (scenario, manifest, trace, plan) and when it is a results file.
struct Hostile {
    path: String,
    as_text: &'static str,
    as_results: &'static str,
}

fn hostile_inputs(t: &TempDir) -> Vec<Hostile> {
    use sim_core::scenario::limits::{MAX_INPUT_BYTES, MAX_RESULTS_BYTES};
    let same = |path: String, says: &'static str| Hostile {
        path,
        as_text: says,
        as_results: says,
    };
    vec![
        same("/dev/zero".into(), "is a character device"),
        same("/dev/urandom".into(), "is a character device"),
        same(fifo(t, "pipe"), "is a named pipe (FIFO)"),
        same(s(&t.0).to_string(), "is a directory"),
        Hostile {
            path: oversized(t, "huge.yaml", MAX_INPUT_BYTES),
            as_text: "larger than 16 MiB",
            as_results: "not a ksim sweep",
        },
        Hostile {
            path: oversized(t, "huger.json", MAX_RESULTS_BYTES),
            as_text: "larger than 16 MiB",
            as_results: "larger than 256 MiB",
        },
    ]
}

/// Exit 2, quickly, with `says` and the file's name in the message and
/// nothing on standard output.
fn refused(what: &str, w: &Watched, file: &str, says: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if w.code != Some(2) {
        problems.push(format!("{what}: exit {:?}, not 2", w.code));
    }
    if !w.stderr.contains(says) || !w.stderr.contains(file) {
        problems.push(format!(
            "{what}: the message does not say `{says}` about {file}:\n{}",
            w.stderr
        ));
    }
    if !w.stdout.is_empty() {
        problems.push(format!("{what}: wrote to standard output"));
    }
    if w.elapsed > Duration::from_secs(5) {
        problems.push(format!("{what}: took {:?}", w.elapsed));
    }
    problems
}

#[test]
fn devices_pipes_directories_and_huge_files_are_refused_as_every_input() {
    let t = TempDir::new("hostile");
    let deadline = Duration::from_secs(20);
    let mut problems = Vec::new();
    let base = t.write("base.yaml", b"name: base\nduration: 1s\n");
    for h in hostile_inputs(&t) {
        let (file, says) = (h.path.as_str(), h.as_text);
        // As the scenario.
        let w = watched(&["run", file], deadline);
        problems.extend(refused(&format!("run {file}"), &w, file, says));
        // As a manifest, then as a pod trace, named by a valid scenario.
        for key in ["manifests", "pod_traces"] {
            let sc = t.write(
                "host.yaml",
                format!("name: host\nduration: 10s\n{key}: [\"{file}\"]\n").as_bytes(),
            );
            let w = watched(&["run", s(&sc)], deadline);
            problems.extend(refused(&format!("{key}: [{file}]"), &w, file, says));
            if !w.stderr.contains(&format!("{key}[0]")) {
                problems.push(format!("{key}: [{file}]: no field path:\n{}", w.stderr));
            }
        }
        // As a sweep plan.
        let w = watched(&["sweep", s(&base), "--plan", file], deadline);
        problems.extend(refused(&format!("sweep --plan {file}"), &w, file, says));
        // As `ksim report` input and as a shard to merge.
        let says = h.as_results;
        let out = t.0.join("report-out");
        let w = watched(&["report", file, "--out", s(&out)], deadline);
        problems.extend(refused(&format!("report {file}"), &w, file, says));
        if t.entries().iter().any(|e| e == "report-out") {
            problems.push(format!("report {file}: the output directory was made"));
        }
        // (`merge` takes a directory of shards; a file just over the text
        // limit is within the results limit.)
        if !file.ends_with("huge.yaml") && !Path::new(file).is_dir() {
            let w = watched(&["sweep", "merge", file], deadline);
            problems.extend(refused(&format!("sweep merge {file}"), &w, file, says));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
    let t = TempDir::new("limit");
    let limit = sim_core::scenario::limits::MAX_INPUT_BYTES as usize;
    // A valid scenario padded with a comment to exactly the limit.
    let head = "name: at-limit\nduration: 1s\n#";
    let mut text = head.to_string();
    text.push_str(&"x".repeat(limit - head.len() - 1));
    text.push('\n');
    assert_eq!(text.len(), limit);
    let at = t.write("at.yaml", text.as_bytes());
    let w = watched(&["run", s(&at)], Duration::from_secs(60));
    assert_eq!(w.code, Some(0), "{}", w.stderr);
    text.insert(head.len(), 'x');
    let over = t.write("over.yaml", text.as_bytes());
    let w = watched(&["run", s(&over)], Duration::from_secs(20));
    assert_eq!(w.code, Some(2));
    assert!(w.stderr.contains("larger than 16 MiB"), "{}", w.stderr);
}

/// A scenario that reads a manifest and a pod trace, beside them in `t`,
/// and a sweep plan over it (`plan.yaml`).
fn scenario_with_inputs(t: &TempDir) -> std::path::PathBuf {
    t.write(
        "plan.yaml",
        b"sweep:\n  seeds: 1\n  parameters:\n    - path: clients[0].rate\n      values: [1, 2]\n",
    );
    std::fs::create_dir_all(t.0.join("traces")).expect("mkdir traces");
    t.write(
        "traces/web.json",
        br#"{"type": "ADDED", "object": {"kind": "Pod",
  "metadata": {"name": "web-0", "labels": {"app": "web"}, "creationTimestamp": "2026-11-20T03:00:00Z"},
  "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80}]}]},
  "status": {"phase": "Running", "podIP": "10.244.1.11",
    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-20T03:00:01Z"}]}}}
"#,
    );
    t.write(
        "svc.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}\n",
    );
    t.write(
        "sc.yaml",
        b"name: clobber\nduration: 10s\nmanifests: [svc.yaml]\npod_traces: [traces/web.json]\nclients: [{name: c, target: web:80, rate: 1}]\n",
    )
}

/// Every file in `t` with its bytes, to compare before and after a run.
fn snapshot(t: &TempDir) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&t.0, &mut out);
    out
}

/// Run in `t` (paths relative to it); exit 2, `says` in the message, and
/// every file in `t` exactly as it was.
fn refused_untouched(t: &TempDir, args: &[&str], says: &str) -> Vec<String> {
    let before = snapshot(t);
    let out = Command::new(KSIM)
        .args(args)
        .current_dir(&t.0)
        .output()
        .expect("run ksim");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(2) || !stderr.contains(says) {
        problems.push(format!(
            "ksim {args:?}: exit {:?}, expected 2 and `{says}`:\n{stderr}",
            out.status.code()
        ));
    }
    if snapshot(t) != before {
        problems.push(format!("ksim {args:?}: changed the files in its directory"));
    }
    problems
}

#[test]
fn no_output_may_be_an_input_of_the_same_command() {
    let t = TempDir::new("clobber");
    scenario_with_inputs(&t);
    let is_input = "is an input of this command";
    let mut problems = Vec::new();
    for args in [
        // The trace, the manifest, the scenario, by another spelling.
        &["run", "sc.yaml", "--out", "traces/web.json"][..],
        &["run", "sc.yaml", "--out", "./traces/../traces/web.json"],
        &["run", "sc.yaml", "--events-out", "svc.yaml"],
        &["run", "sc.yaml", "--format", "json", "--out", "./sc.yaml"],
        &["dns", "sc.yaml", "web", "--at", "1s", "--out", "svc.yaml"],
        &[
            "check",
            "sc.yaml",
            "--property",
            "requests > 0",
            "--out",
            "traces/web.json",
        ],
    ] {
        let says = if args.contains(&"./sc.yaml") {
            "is the scenario file itself"
        } else {
            is_input
        };
        problems.extend(refused_untouched(&t, args, says));
    }
    // Through a symbolic link to the trace.
    std::os::unix::fs::symlink("traces/web.json", t.0.join("link.json")).expect("symlink");
    problems.extend(refused_untouched(
        &t,
        &["run", "sc.yaml", "--out", "link.json"],
        is_input,
    ));
    // A sweep's plan (written by `scenario_with_inputs`), a report's results.
    problems.extend(refused_untouched(
        &t,
        &[
            "sweep",
            "sc.yaml",
            "--plan",
            "plan.yaml",
            "--out",
            "plan.yaml",
        ],
        is_input,
    ));
    problems.extend(refused_untouched(
        &t,
        &[
            "plan",
            "sc.yaml",
            "--plan",
            "plan.yaml",
            "--out",
            "svc.yaml",
        ],
        is_input,
    ));
    std::fs::create_dir_all(t.0.join("res")).expect("mkdir res");
    let ok = Command::new(KSIM)
        .args([
            "sweep",
            "sc.yaml",
            "--plan",
            "plan.yaml",
            "--out",
            "res/results.json",
        ])
        .current_dir(&t.0)
        .status()
        .expect("sweep runs");
    assert!(ok.success());
    problems.extend(refused_untouched(
        &t,
        &["report", "res/results.json", "--out", "res"],
        is_input,
    ));
    let ok = Command::new(KSIM)
        .args(["sweep", "sc.yaml", "--plan", "plan.yaml", "--out", "res"])
        .args(["--shard-index", "0", "--shard-count", "2"])
        .current_dir(&t.0)
        .status()
        .expect("sweep runs");
    assert!(ok.success());
    let shard = "res/shard-0000-of-0002.json";
    problems.extend(refused_untouched(
        &t,
        &["sweep", "merge", shard, "--out", shard],
        is_input,
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn two_outputs_of_one_command_may_not_be_one_file() {
    let t = TempDir::new("two-outputs");
    scenario_with_inputs(&t);
    let mut problems = refused_untouched(
        &t,
        &[
            "run",
            "sc.yaml",
            "--out",
            "same.json",
            "--events-out",
            "same.json",
        ],
        "are the same file",
    );
    std::os::unix::fs::symlink("same.json", t.0.join("alias.json")).expect("symlink");
    t.write("same.json", b"{}");
    problems.extend(refused_untouched(
        &t,
        &[
            "run",
            "sc.yaml",
            "--out",
            "same.json",
            "--events-out",
            "alias.json",
        ],
        "are the same file",
    ));
    // A device may take two outputs: it is written to, never replaced.
    let out = Command::new(KSIM)
        .args([
            "run",
            "sc.yaml",
            "--out",
            "/dev/null",
            "--events-out",
            "/dev/null",
        ])
        .current_dir(&t.0)
        .output()
        .expect("run ksim");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_outputs_of_one_command_are_written_together_or_not_at_all() {
    let t = TempDir::new("all-or-none");
    scenario_with_inputs(&t);
    // The report cannot be written (nothing can create a file under /proc,
    // not even root, for whom a read-only directory is writable): the event
    // log, written first, must not be left behind, nor any temporary file.
    let mut problems = refused_untouched(
        &t,
        &[
            "run",
            "sc.yaml",
            "--events-out",
            "ok.jsonl",
            "--out",
            "/proc/rep.json",
        ],
        "no output was written",
    );
    // The same with existing outputs: both keep their old bytes.
    t.write("ok.jsonl", b"old events\n");
    problems.extend(refused_untouched(
        &t,
        &[
            "run",
            "sc.yaml",
            "--events-out",
            "ok.jsonl",
            "--out",
            "/proc/rep.json",
        ],
        "no output was written",
    ));
    // A sweep's results and its report directory, likewise.
    problems.extend(refused_untouched(
        &t,
        &[
            "sweep",
            "sc.yaml",
            "--plan",
            "plan.yaml",
            "--out",
            "/proc/r.json",
            "--report",
            "rep",
        ],
        "no output was written",
    ));
    // And when all can be written, all are.
    let out = Command::new(KSIM)
        .args([
            "run",
            "sc.yaml",
            "--events-out",
            "ev.jsonl",
            "--out",
            "rep.json",
        ])
        .current_dir(&t.0)
        .output()
        .expect("run ksim");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t.0.join("ev.jsonl").exists() && t.0.join("rep.json").exists());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A scenario of one Service and one client group.
fn one_group(duration: &str, count: u64, rate: &str) -> String {
    format!(
        "name: extreme\nduration: {duration}\nservices: [{{name: s, ports: [80]}}]\nclients: [{{name: c, count: {count}, target: s:80, rate: {rate}}}]\n"
    )
}

/// Each limit of `scenario::limits` at its extreme, the others small: the
/// run finishes within its deadline and [`MEMORY_KIB`], exit 0. (The file
/// size limit is `a_file_at_the_limit_is_read_and_one_byte_more_is_not`;
/// clients and pods are `the_largest_fleets_finish_in_bounded_memory`.)
#[test]
fn every_limit_at_its_extreme_finishes_in_bounded_time_and_memory() {
    use sim_core::scenario::limits;
    let t = TempDir::new("extremes");
    assert_eq!(limits::MAX_RATE_PER_S, 1e9);
    assert_eq!(limits::MAX_DURATION.as_secs_f64(), 7.0 * 24.0 * 3600.0);
    assert_eq!(limits::MAX_WINDOWS, 100_000);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        // The fastest client over the shortest runs: every gap is 0 or a
        // few ns, and simulated time still advances.
        ("rate at its cap, 1 us", one_group("1us", 1, "1e9"), vec![]),
        ("rate at its cap, 1 ns", one_group("1ns", 1, "1e9"), vec![]),
        // The longest run, few requests; then as many windows as allowed.
        ("one week", one_group("168h", 1, "1e-5"), vec![]),
        (
            "100000 windows",
            one_group("168h", 1, "1e-5"),
            vec!["--window", "6048ms"],
        ),
    ];
    let mut problems = Vec::new();
    for (what, src, extra) in &cases {
        let f = t.write("extreme.yaml", src.as_bytes());
        let mut args = vec!["run", s(&f), "--format", "json"];
        args.extend(extra);
        let w = watched(&args, Duration::from_secs(30));
        if w.code != Some(0) {
            problems.push(format!("{what}: exit {:?}\n{}", w.code, w.stderr));
        }
    }
    // Just past each limit: refused at once, before running.
    for (what, src, extra) in [
        ("rate past its cap", one_group("1ns", 1, "1.1e9"), vec![]),
        ("past one week", one_group("168h1ns", 1, "1"), vec![]),
        (
            "past 100000 windows",
            one_group("168h", 1, "1e-5"),
            vec!["--window", "6047ms"],
        ),
        ("past 1e9 requests", one_group("1s", 2, "5.1e8"), vec![]),
    ] {
        let f = t.write("past.yaml", src.as_bytes());
        let mut args = vec!["run", s(&f)];
        args.extend(extra);
        let w = watched(&args, Duration::from_secs(10));
        if w.code != Some(2) || w.elapsed > Duration::from_secs(5) {
            problems.push(format!(
                "{what}: exit {:?} after {:?}\n{}",
                w.code, w.elapsed, w.stderr
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The most requests a run may send (1e9, from one client at the rate cap
/// for a second) take minutes; what must hold is that memory does not grow
/// with them: after a few seconds the run is still going, within
/// [`MEMORY_KIB`].
#[test]
fn a_billion_requests_run_in_bounded_memory() {
    let t = TempDir::new("billion");
    let f = t.write("billion.yaml", one_group("1s", 1, "1e9").as_bytes());
    let script = format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\"");
    let mut child = Command::new("sh")
        .args(["-c", &script, KSIM, "run", s(&f)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ksim");
    std::thread::sleep(Duration::from_secs(3));
    // Its peak resident memory so far (`sh` exec'd ksim: the same process).
    let peak_kib: Option<u64> = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|st| {
            st.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        });
    let status = child.try_wait().expect("poll ksim");
    let _ = child.kill();
    let out = child.wait_with_output().expect("collect");
    assert!(
        status.is_none() || status.is_some_and(|s| s.success()),
        "the run failed within its memory cap: {status:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if status.is_none() {
        let peak = peak_kib.expect("/proc/PID/status has VmHWM");
        assert!(peak < 100 * 1024, "{peak} KiB resident after 3 s");
    }
}

/// The largest fleets: `MAX_CLIENTS` clients, `MAX_PODS` pods. Ignored: in
/// a debug build a million clients take about a minute and 0.8 GB, and
/// 100 000 pods grew past 20 GB before being killed (memory per pod grows
/// with the pods: the request path and endpoint work of issue 12 is to
/// remove that). Run with `cargo test --test hardening -- --ignored`.
#[test]
#[ignore = "waits for issue 12: memory that grows with pods × pods"]
fn the_largest_fleets_finish_in_bounded_memory() {
    use sim_core::scenario::limits;
    let t = TempDir::new("fleets");
    let clients = one_group("1s", limits::MAX_CLIENTS, "1e-3");
    let pods = format!(
        "name: pods\nduration: 1s\ncluster: {{ipam: {{pod_cidr: 10.0.0.0/14}}}}\nservices: [{{name: s, clusterIP: None, selector: {{app: w}}, ports: [80]}}]\nstatefulsets: [{{name: w, service: s, replicas: {}, start_ready: true, labels: {{app: w}}}}]\n",
        limits::MAX_PODS
    );
    for (what, src) in [("clients", clients), ("pods", pods)] {
        let f = t.write("fleet.yaml", src.as_bytes());
        let w = watched(&["run", s(&f)], Duration::from_secs(120));
        assert_eq!(w.code, Some(0), "{what}: {}", w.stderr);
    }
}
