//! Sweeps across machines, end to end: `ksim sweep merge` refusing shards of
//! different sweeps; the README's Slurm recipe run word for word on a real
//! one-node Slurm cluster (munged, slurmctld and slurmd started here); the
//! Kubernetes manifests and Containerfile the README ships.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)] // not every helper is used here
mod common;
use common::TempDir;
use sim_core::scenario::yaml::{self, Kind, Node};

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

/// The repository root (this crate is `sim-cli/`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `ksim ARGS` in `dir`, with no shard index in the environment.
fn ksim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(KSIM)
        .args(args)
        .current_dir(dir)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .expect("run ksim")
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "ksim failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------- README

/// The body of the first fenced block after the line holding `marker`.
fn readme_block_after(marker: &str) -> String {
    let readme = read_text(&repo().join("README.md"));
    let at = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README.md has no `{marker}`"));
    let mut lines = readme[at..].lines().skip_while(|l| !l.starts_with("```"));
    lines.next().expect("a fenced block after the marker");
    let body: Vec<&str> = lines.take_while(|l| !l.starts_with("```")).collect();
    body.join("\n") + "\n"
}

const SLURM_RUN: &str = "runs this block, word for word, on a real single-node Slurm";
const SLURM_RERUN: &str = "runs this block too, after cancelling array task";
const IMAGE_BUILD: &str = "checks the manifests below use this image";

/// The README's Slurm recipe: the shard count (the number after the study
/// in its `sbatch` line) and the array task its re-run block runs.
fn slurm_recipe() -> (usize, usize) {
    let run = readme_block_after(SLURM_RUN);
    let sbatch = run
        .lines()
        .find(|l| l.starts_with("sbatch "))
        .expect("an sbatch line");
    let words: Vec<&str> = sbatch.split_whitespace().collect();
    let script = words
        .iter()
        .position(|w| w.ends_with(".sbatch"))
        .expect("the batch script");
    let shards: usize = words[script + 2].parse().expect("the shard count");
    assert!(
        words.contains(&format!("--array=0-{}", shards - 1).as_str()),
        "the array covers every shard: {sbatch}"
    );
    let rerun = readme_block_after(SLURM_RERUN);
    let task = rerun
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--array="))
        .and_then(|t| t.parse().ok())
        .expect("the re-run names one task");
    (shards, task)
}

#[test]
fn the_readme_embeds_the_shipped_files_verbatim() {
    let readme = read_text(&repo().join("README.md"));
    for file in ["deploy/slurm/sweep.sbatch", "deploy/sweep-indexed-job.yaml"] {
        let text = read_text(&repo().join(file));
        let fenced = format!("\n{}```", text);
        assert!(
            readme.contains(&fenced),
            "README.md must show {file} exactly as shipped (in a fenced block)"
        );
    }
}

// ------------------------------------------------------- merge refusals

/// Three cache times x 2 seeds, 20 s: a debug-build run takes milliseconds.
const STUDY: &str = "name: merge-study
seed: 7
duration: 20s
services:
  - {name: db, clusterIP: None, selector: {app: db}, ports: [5432]}
statefulsets:
  - {name: db, service: db, replicas: 3, start_ready: true}
clients:
  - {name: app, count: 2, target: db:5432, rate: 10, resolver: {cache: fixed(5s)}}
sweep:
  seeds: 2
  parameters:
    - path: clients[0].resolver.cache
      values: [fixed(1s), fixed(5s), fixed(10s)]
";

/// Shard `index` of `count` of `study` (extra flags in `more`), written
/// into a directory of its own named `tag`; the shard file.
fn shard(
    t: &TempDir,
    tag: &str,
    study: &str,
    index: usize,
    count: usize,
    more: &[&str],
) -> PathBuf {
    let dir = t.0.join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("study.yaml");
    std::fs::write(&f, study).unwrap();
    let (i, n) = (index.to_string(), count.to_string());
    let mut args = vec![
        "sweep",
        "study.yaml",
        "--shard-index",
        &i,
        "--shard-count",
        &n,
    ];
    args.extend_from_slice(&["--out", "."]);
    args.extend_from_slice(more);
    ok(&ksim_in(&dir, &args));
    dir.join(sim_core::sweep::merge::shard_file_name(index, count))
}

#[test]
fn merge_refuses_shards_of_other_plans_seeds_versions_or_counts_naming_the_mismatch() {
    let t = TempDir::new("merge-refusals");
    let first = shard(&t, "first", STUDY, 0, 2, &[]);
    let other_plan = STUDY.replace("fixed(10s)]", "fixed(30s)]");
    let other_scenario = STUDY.replace("rate: 10", "rate: 12");
    let other_version = t.0.join("other-version.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&read_text(&shard(&t, "second", STUDY, 1, 2, &[])))
            .expect("a shard is JSON");
    v["plan"]["ksim_version"] = "0.0.1".into();
    v["plan"]["plan_digest"] = "sha256:0001".into();
    std::fs::write(&other_version, v.to_string()).unwrap();
    let cases: Vec<(&str, PathBuf, &str)> = vec![
        (
            "seeds",
            shard(&t, "seeds", STUDY, 1, 2, &["--seed", "100"]),
            "they differ in seeds ([100, 101] in",
        ),
        (
            "plan",
            shard(&t, "plan", &other_plan, 1, 2, &[]),
            "they differ in swept parameters (clients[0].resolver.cache = [fixed(1s), fixed(5s), fixed(30s)] in",
        ),
        (
            "scenario",
            shard(&t, "scenario", &other_scenario, 1, 2, &[]),
            "they differ in scenario contents (plan_digest sha256:",
        ),
        (
            "version",
            other_version.clone(),
            "they differ in ksim version (0.0.1 in",
        ),
        (
            "count",
            shard(&t, "count", STUDY, 1, 3, &[]),
            "they differ in shard count (3 in",
        ),
    ];
    let mut failures = Vec::new();
    for (case, odd, says) in &cases {
        let out = t.0.join(format!("{case}.json"));
        let r = ksim_in(
            &t.0,
            &["sweep", "merge", s(&first), s(odd), "--out", s(&out)],
        );
        let err = String::from_utf8_lossy(&r.stderr);
        let names_both = err.contains(s(&first)) && err.contains(s(odd));
        if r.status.code() != Some(2) || !err.contains(says) || !names_both || out.exists() {
            failures.push(format!(
                "{case}: exit {:?}, wrote {}, said:\n{err}",
                r.status.code(),
                out.exists()
            ));
        }
    }
    // Shards all of another version: this ksim does not merge them.
    let r = ksim_in(&t.0, &["sweep", "merge", s(&other_version)]);
    let err = String::from_utf8_lossy(&r.stderr);
    if r.status.code() != Some(2) || !err.contains("written by ksim 0.0.1; this is ksim") {
        failures.push(format!("all of another version: {err}"));
    }
    // A shard of a future shape: not read, and said so with its version.
    let future = t.0.join("future.json");
    std::fs::write(
        &future,
        r#"{"kind": "ksim-sweep-shard", "schema_version": 9, "plan": {"ksim_version": "9.9.9"}}"#,
    )
    .unwrap();
    let r = ksim_in(&t.0, &["sweep", "merge", s(&first), s(&future)]);
    let err = String::from_utf8_lossy(&r.stderr);
    if r.status.code() != Some(2)
        || !err.contains("future.json: a shard this ksim")
        || !err.contains("written by ksim 9.9.9")
    {
        failures.push(format!("a shard of a future ksim: {err}"));
    }
    common::assert_no_failures(&failures, cases.len() + 2);
}

// -------------------------------------------------- Kubernetes manifests

fn find<'n>(n: &'n Node, path: &str) -> &'n Node {
    n.find(path)
        .unwrap_or_else(|| panic!("no `{path}` in the manifest"))
}

fn text<'n>(n: &'n Node, path: &str) -> &'n str {
    find(n, path)
        .scalar()
        .unwrap_or_else(|| panic!("`{path}` is not a scalar"))
}

fn items(n: &Node) -> &[Node] {
    match &n.kind {
        Kind::Seq(v) => v,
        _ => panic!("not a list: {}", n.describe()),
    }
}

/// The documents of a shipped manifest file, by `kind`.
fn manifests(file: &str) -> Vec<Node> {
    let src = read_text(&repo().join(file));
    yaml::parse_documents(&src).unwrap_or_else(|d| panic!("{}", d.render(file, &src)))
}

/// The claim name of the volume mounted at `mount` in a pod `spec`.
fn claim_at(spec: &Node, mount: &str) -> String {
    let container = &items(find(spec, "containers"))[0];
    let name = items(find(container, "volumeMounts"))
        .iter()
        .find(|m| text(m, "mountPath") == mount)
        .map(|m| text(m, "name"))
        .unwrap_or_else(|| panic!("nothing is mounted at {mount}"));
    let volume = items(find(spec, "volumes"))
        .iter()
        .find(|v| text(v, "name") == name)
        .unwrap_or_else(|| panic!("no volume `{name}`"));
    text(volume, "persistentVolumeClaim.claimName").to_string()
}

/// The value after `flag` in a container's args.
fn arg_after<'n>(args: &'n [Node], flag: &str) -> &'n str {
    let i = args
        .iter()
        .position(|a| a.scalar() == Some(flag))
        .unwrap_or_else(|| panic!("no {flag} in the args"));
    args[i + 1].scalar().expect("a scalar argument")
}

#[test]
fn the_indexed_job_runs_the_readme_shard_count_on_one_shared_volume() {
    let (shards, _) = slurm_recipe();
    let image = readme_block_after(IMAGE_BUILD)
        .split_whitespace()
        .skip_while(|w| *w != "-t")
        .nth(1)
        .expect("podman build -t IMAGE")
        .to_string();
    let docs = manifests("deploy/sweep-indexed-job.yaml");
    let of_kind = |k: &str| {
        docs.iter()
            .find(|d| d.find("kind").and_then(Node::scalar) == Some(k))
            .unwrap_or_else(|| panic!("no {k} in the manifest"))
    };
    let job = of_kind("Job");
    assert_eq!(text(job, "apiVersion"), "batch/v1");
    assert_eq!(text(job, "spec.completionMode"), "Indexed");
    let completions: usize = text(job, "spec.completions").parse().unwrap();
    assert_eq!(
        completions, shards,
        "one pod per shard of the README's recipe"
    );
    let parallelism: usize = text(job, "spec.parallelism").parse().unwrap();
    assert!(parallelism > 1 && parallelism <= completions);
    let spec = find(job, "spec.template.spec");
    let container = &items(find(spec, "containers"))[0];
    assert_eq!(
        text(container, "image"),
        image,
        "the image the README builds"
    );
    let args = items(find(container, "args"));
    assert_eq!(args[0].scalar(), Some("sweep"));
    assert_eq!(arg_after(args, "--shard-count"), shards.to_string());
    assert!(
        !args.iter().any(|a| a.scalar() == Some("--shard-index")),
        "the index comes from JOB_COMPLETION_INDEX"
    );
    // Every pod writes its shard to one claim that many nodes may mount.
    let out = arg_after(args, "--out");
    let claim = claim_at(spec, out);
    let pvc = of_kind("PersistentVolumeClaim");
    assert_eq!(text(pvc, "metadata.name"), claim);
    let modes: Vec<&str> = items(find(pvc, "spec.accessModes"))
        .iter()
        .filter_map(Node::scalar)
        .collect();
    assert_eq!(modes, ["ReadWriteMany"]);
    // The merge reads that same claim.
    let merge = &manifests("deploy/sweep-merge-job.yaml")[0];
    let mspec = find(merge, "spec.template.spec");
    let mc = &items(find(mspec, "containers"))[0];
    assert_eq!(text(mc, "image"), image);
    let margs = items(find(mc, "args"));
    assert_eq!(
        (margs[0].scalar(), margs[1].scalar()),
        (Some("sweep"), Some("merge"))
    );
    let shards_dir = margs[2].scalar().unwrap();
    assert_eq!(claim_at(mspec, shards_dir), claim);
}

#[test]
fn the_containerfile_builds_in_two_stages_the_binary_the_manifests_run() {
    let cf = read_text(&repo().join("Containerfile"));
    let froms: Vec<&str> = cf.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a run stage");
    assert!(froms[0].contains("rust:") && froms[0].ends_with(" AS build"));
    assert!(froms[1].contains("-slim"), "a slim run stage");
    assert!(cf.contains("RUN cargo build --release --locked -p sim-cli"));
    assert!(cf.contains("COPY --from=build /src/target/release/ksim /usr/local/bin/ksim"));
    assert!(cf.contains("ENTRYPOINT [\"ksim\"]"));
    // The build stage's Rust is the workspace's minimum.
    let manifest = read_text(&repo().join("Cargo.toml"));
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version");
    assert!(froms[0].contains(&format!("rust:{msrv}-")), "{}", froms[0]);
    // The build context leaves out build outputs.
    let ignore = read_text(&repo().join(".dockerignore"));
    assert!(ignore.lines().any(|l| l == "target"));
}

// ------------------------------------------------------------- Slurm

const WAIT_NODE: Duration = Duration::from_secs(60);
const WAIT_JOBS: Duration = Duration::from_secs(120);

/// A one-node Slurm cluster in a temporary directory: munged, slurmctld and
/// slurmd as children of this test, stopped on drop (pass or fail).
struct Slurm {
    dir: TempDir,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

/// Why Slurm cannot be started here, if it cannot.
fn slurm_missing() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root (slurmd and munged run as root here)".into());
    }
    let needed = [
        "/usr/sbin/munged",
        "/usr/sbin/slurmctld",
        "/usr/sbin/slurmd",
        "/usr/bin/sbatch",
        "/usr/bin/squeue",
        "/usr/bin/sinfo",
        "/usr/bin/scancel",
        "/usr/bin/scontrol",
    ];
    let absent: Vec<&str> = needed
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    (!absent.is_empty()).then(|| {
        format!(
            "{} not installed (Debian packages slurm-wlm and munge; .ci/run installs them)",
            absent.join(", ")
        )
    })
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    l.local_addr().expect("its address").port()
}

/// The wall clock: here it only bounds waits for real daemons and times
/// the test's phases; it never reaches a result.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let start = now();
    while !done() {
        if start.elapsed() > limit {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

impl Slurm {
    fn start() -> Slurm {
        let dir = TempDir::new("slurm");
        let d = dir.0.clone();
        for sub in ["state", "spool", "munge"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let key = d.join("munge/munge.key");
        let mut bytes = vec![0u8; 1024];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .expect("random bytes for the munge key");
        std::fs::write(&key, &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let socket = d.join("munge/munge.socket");
        let hostname = read_text(Path::new("/proc/sys/kernel/hostname"));
        let host = hostname.trim().split('.').next().unwrap_or("localhost");
        let (ctld_port, slurmd_port) = (free_port(), free_port());
        let conf = d.join("slurm.conf");
        let p = |f: &str| d.join(f).display().to_string();
        // A minimal one-node cluster: no cgroups, no accounting. The node
        // claims 16 CPUs (config_overrides) so that every array task starts
        // at once; MinJobAge 4 s keeps `sbatch --wait` polling every 2 s.
        let text = format!(
            "ClusterName=ksimtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={socket}
CredType=cred/munge
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={ctld_pid}
SlurmdPidFile={slurmd_pid}
SlurmctldLogFile={ctld_log}
SlurmdLogFile={slurmd_log}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=4
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
NodeName=ksim NodeHostname={host} NodeAddr=127.0.0.1 CPUs=16 State=UNKNOWN
PartitionName=ksim Nodes=ksim Default=YES MaxTime=INFINITE State=UP
",
            socket = socket.display(),
            state = p("state"),
            spool = p("spool"),
            ctld_pid = p("slurmctld.pid"),
            slurmd_pid = p("slurmd.pid"),
            ctld_log = p("slurmctld.log"),
            slurmd_log = p("slurmd.log"),
        );
        std::fs::write(&conf, text).unwrap();
        let mut cluster = Slurm {
            dir,
            conf,
            daemons: Vec::new(),
        };
        let munge_args = [
            "-F".to_string(),
            "--force".into(),
            format!("--key-file={}", key.display()),
            format!("--socket={}", socket.display()),
            format!("--pid-file={}", p("munge/munged.pid")),
            format!("--log-file={}", p("munge/munged.log")),
            format!("--seed-file={}", p("munge/munge.seed")),
        ];
        cluster.spawn("munged", "/usr/sbin/munged", &munge_args);
        cluster.expect(wait_until("munged's socket", WAIT_NODE, || socket.exists()));
        let conf_s = cluster.conf.display().to_string();
        cluster.spawn(
            "slurmctld",
            "/usr/sbin/slurmctld",
            &["-D".into(), "-i".into(), "-f".into(), conf_s.clone()],
        );
        cluster.spawn(
            "slurmd",
            "/usr/sbin/slurmd",
            &["-D".into(), "-N".into(), "ksim".into(), "-f".into(), conf_s],
        );
        let waited = wait_until("the node to be idle (sinfo)", WAIT_NODE, || {
            let o = cluster
                .command("sinfo")
                .args(["-h", "-N", "-o", "%T"])
                .output();
            o.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        cluster.expect(waited);
        cluster
    }

    /// Start a daemon in the foreground, its output in DIR/NAME.out.
    fn spawn(&mut self, name: &'static str, program: &str, args: &[String]) {
        let out = std::fs::File::create(self.dir.0.join(format!("{name}.out"))).unwrap();
        let child = Command::new(program)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.daemons.push((name, child));
    }

    /// A Slurm client command talking to this cluster.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// The daemons' logs, for a failure message.
    fn logs(&self) -> String {
        let mut o = String::new();
        for f in [
            "munged.out",
            "munge/munged.log",
            "slurmctld.out",
            "slurmctld.log",
            "slurmd.out",
            "slurmd.log",
        ] {
            let t = std::fs::read_to_string(self.dir.0.join(f)).unwrap_or_default();
            let tail: Vec<&str> = t.lines().rev().take(15).collect();
            o.push_str(&format!("--- {f} (last lines)\n"));
            for l in tail.into_iter().rev() {
                o.push_str(l);
                o.push('\n');
            }
        }
        o
    }

    fn expect<T>(&self, r: Result<T, String>) -> T {
        r.unwrap_or_else(|m| panic!("{m}\n{}", self.logs()))
    }

    /// Run a shell script (a README block) in `dir`, with `ksim` first on
    /// the PATH, bounded in time; its output.
    fn script(&self, dir: &Path, body: &str) -> Output {
        let ksim_dir = Path::new(KSIM).parent().unwrap();
        let path = format!(
            "{}:{}",
            ksim_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let stdout = dir.join(".script.out");
        let stderr = dir.join(".script.err");
        let mut child = self
            .command("bash")
            .args(["-euo", "pipefail", "-c", body])
            .current_dir(dir)
            .env("PATH", path)
            // Submitted jobs inherit this environment: no index but Slurm's.
            .env_remove("JOB_COMPLETION_INDEX")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("run bash");
        let mut status = None;
        let waited = wait_until(&format!("`{}`", body.trim()), WAIT_JOBS, || {
            status = child.try_wait().expect("wait for bash");
            status.is_some()
        });
        if waited.is_err() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.expect(waited);
        Output {
            status: status.expect("exited"),
            stdout: std::fs::read(&stdout).unwrap(),
            stderr: std::fs::read(&stderr).unwrap(),
        }
    }

    /// Wait until job `id` has left the queue.
    fn wait_job(&self, id: &str) {
        let waited = wait_until(&format!("job {id} to end"), WAIT_JOBS, || {
            let o = self
                .command("squeue")
                .args(["-h", "-j", id, "-o", "%i"])
                .output()
                .expect("run squeue");
            let gone = String::from_utf8_lossy(&o.stderr).contains("Invalid job id");
            (o.status.success() || gone) && o.stdout.iter().all(u8::is_ascii_whitespace)
        });
        self.expect(waited);
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        // Jobs first (their slurmstepd outlive slurmd), then the daemons: by
        // the children we hold, and by the pid files they wrote.
        let _ = self.command("scancel").args(["--user", "root"]).output();
        let _ = wait_until("jobs to end", Duration::from_secs(10), || {
            self.command("squeue")
                .args(["-h", "-o", "%i"])
                .output()
                .is_ok_and(|o| o.stdout.iter().all(u8::is_ascii_whitespace))
        });
        let pids: Vec<String> = ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(self.dir.0.join(f)).ok())
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").args(&pids).output();
        }
        for (_, child) in self.daemons.iter_mut().rev() {
            let exited = wait_until("a daemon to stop", Duration::from_secs(5), || {
                child.try_wait().ok().flatten().is_some()
            });
            if exited.is_err() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// A child process killed if the test ends before it is waited for.
struct Reaped(Option<Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A directory to run README commands in: the repository's `scenarios/`
/// and `deploy/` linked in, as if it were a checkout.
fn checkout(t: &TempDir, name: &str) -> PathBuf {
    let dir = t.0.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for sub in ["scenarios", "deploy"] {
        std::os::unix::fs::symlink(repo().join(sub), dir.join(sub)).unwrap();
    }
    dir
}

fn assert_script_ok(slurm: &Slurm, out: &Output, what: &str) {
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            slurm.logs()
        );
    }
}

#[test]
fn slurm_array_sweep_merges_to_the_bytes_of_one_process() {
    if let Some(why) = slurm_missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("Slurm cannot be started, and CI must run this test: {why}");
        }
        eprintln!(
            "\n*** SKIPPED slurm_array_sweep_merges_to_the_bytes_of_one_process: {why} ***\n"
        );
        return;
    }
    let (shards, task) = slurm_recipe();
    let run = readme_block_after(SLURM_RUN);
    let rerun = readme_block_after(SLURM_RERUN);
    let clock = now();
    let lap = |what: &str| eprintln!("slurm test: {what} at {:.1?}", clock.elapsed());
    let t = TempDir::new("slurm-work");
    // The study in one process, meanwhile: the bytes every merge must give.
    let one = checkout(&t, "one");
    let study = run
        .split_whitespace()
        .find(|w| w.starts_with("scenarios/"))
        .expect("the recipe's study");
    let mut single_run = Reaped(Some(
        Command::new(KSIM)
            .args(["sweep", study, "--out", "single.json"])
            .current_dir(&one)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ksim"),
    ));
    let slurm = Slurm::start();
    lap("cluster idle");

    // 1. The README's recipe, word for word.
    let a = checkout(&t, "a");
    let out = slurm.script(&a, &run);
    assert_script_ok(&slurm, &out, "the README's Slurm recipe");
    lap("README recipe done");
    let single_run = single_run.0.take().expect("started");
    ok(&single_run.wait_with_output().expect("wait for ksim"));
    let single = std::fs::read(one.join("single.json")).unwrap();
    lap("one-process sweep done");
    let written = std::fs::read_dir(a.join("out")).unwrap().count();
    assert_eq!(written, shards, "one shard file per array task");
    assert!(
        std::fs::read(a.join("results.json")).unwrap() == single,
        "the merged shards are not the bytes of one process"
    );
    assert!(a.join("report/report.html").exists());

    // 2. The same submission, held; array task `task` cancelled; released.
    let b = checkout(&t, "b");
    let sbatch = run.lines().find(|l| l.starts_with("sbatch ")).unwrap();
    let held = sbatch.replace(" --wait ", " --hold --parsable ");
    assert_ne!(held, sbatch, "the recipe waits with --wait");
    let out = slurm.script(&b, &held);
    assert_script_ok(&slurm, &out, &held);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = stdout.trim().split(';').next().unwrap().to_string();
    let cancel = slurm
        .command("scancel")
        .arg(format!("{job}_{task}"))
        .output()
        .unwrap();
    assert!(cancel.status.success(), "scancel: {cancel:?}");
    let release = slurm
        .command("scontrol")
        .args(["release", &job])
        .output()
        .unwrap();
    assert!(release.status.success(), "scontrol release: {release:?}");
    slurm.wait_job(&job);
    lap("held array with one task cancelled done");
    // The merge names the missing shard, and writes nothing.
    let merge_line = run
        .lines()
        .find(|l| l.starts_with("ksim sweep merge"))
        .unwrap();
    let out = slurm.script(&b, merge_line);
    let err = String::from_utf8_lossy(&out.stderr);
    let file = sim_core::sweep::merge::shard_file_name(task, shards);
    assert_eq!(
        out.status.code(),
        Some(2),
        "merge with a shard missing: {err}"
    );
    assert!(
        err.contains(&format!("missing shard(s) {task} of {shards} ({file})")),
        "{err}"
    );
    assert!(!b.join("results.json").exists(), "nothing written");

    // 3. The README's re-run of that task alone completes the study.
    let out = slurm.script(&b, &rerun);
    assert_script_ok(&slurm, &out, "the README's re-run");
    assert!(
        std::fs::read(b.join("results.json")).unwrap() == single,
        "the re-run study is not the bytes of one process"
    );
    lap("README re-run done");
}
