//! `ksim`: the scenario runner. Argument parsing, file I/O and rendering only;
//! every model decision lives in `sim-core`.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sim_core::scenario::{Diagnostic, Loc, limits};
use sim_core::time::{SimDuration, parse_duration};

mod chart;
mod check;
mod hash;
mod input;
mod lint;
mod output;
mod page;
mod progress;
mod render;
mod run_page;
mod serve;
mod sweep;

/// Exit code for bad input (scenario, flags, files).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "ksim",
    version,
    about = "Deterministic simulator of Kubernetes service networking"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its report.
    Run {
        /// Scenario file (YAML or JSON).
        file: PathBuf,
        /// Seed for all randomness (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Report format: `html` is a self-contained page with charts.
        #[arg(short = 'o', long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
        /// Write the report to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Width of the report's time windows, e.g. `10s`.
        #[arg(long, value_parser = window_arg)]
        window: Option<SimDuration>,
        /// Also write every lifecycle event (pod created/ready/terminating/
        /// exited/gone, IP assigned/released, endpoints changed) to this file,
        /// one JSON object per line.
        #[arg(long)]
        events_out: Option<PathBuf>,
        /// Run twice and compare the event logs; print the verdict (or the
        /// first divergence: simulated time, event, payload) on standard
        /// error. Exit code 1 when the runs differ.
        #[arg(long, conflicts_with = "events_out")]
        check_determinism: bool,
    },
    /// Answer a DNS query as the cluster would at one simulated instant, like
    /// `dig`; with --from, the path a client's resolver takes.
    Dns {
        /// Scenario file (YAML or JSON).
        file: PathBuf,
        /// The name to look up (for PTR, an IP address is turned into its reverse name).
        name: String,
        /// Query type: A, AAAA, SRV, PTR, TXT, CNAME, NS, SOA, ...
        #[arg(default_value = "A")]
        qtype: String,
        /// The simulated instant, e.g. `30s` (everything up to it has happened).
        #[arg(long, value_parser = at_arg)]
        at: SimDuration,
        /// Resolve as this client would (`GROUP` or `GROUP/INDEX`): its search
        /// list, its cache, its node's cache; or as a pod would (`POD`, a
        /// pod's name): its namespace's search list.
        #[arg(long, value_name = "GROUP[/INDEX]|POD")]
        from: Option<String>,
        /// Seed for all randomness (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the answer to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Serve the cluster's DNS at one simulated instant over UDP and TCP on
    /// a loopback address, for real clients (dig, a stub resolver, an app).
    ServeDns {
        /// Scenario file (YAML or JSON).
        file: PathBuf,
        /// The simulated instant answers start from, e.g. `30s`.
        #[arg(long, value_parser = at_arg)]
        at: SimDuration,
        /// Loopback address and port to answer on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:5353")]
        listen: std::net::SocketAddr,
        /// `frozen`: hold --at; `run`: advance from --at at --speed x wall clock.
        #[arg(long, value_enum, default_value_t = serve::Clock::Frozen)]
        clock: serve::Clock,
        /// Simulated seconds per wall-clock second with `--clock run`.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Seed for all randomness (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// One log line per query on standard error (CoreDNS `log` format).
        #[arg(short, long)]
        verbose: bool,
    },
    /// Run a parameter sweep: every point of the scenario's `sweep:` grid
    /// with several seeds, in parallel; statistics per point and metric.
    Sweep(SweepCli),
    /// Lint Kubernetes manifests for the causes of failed requests; each
    /// finding confirmed by a short simulation (exit 1 at --fail-on).
    Lint(lint::LintCli),
    /// Find the cheapest value of the `cheapest` parameter that meets the
    /// `slo:`, by bisection (assuming monotonicity, checked).
    Plan {
        /// Scenario file with `sweep:` and `slo:` blocks.
        file: PathBuf,
        #[command(flatten)]
        study: StudyOpts,
        /// Write the answer to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Render a sweep's results file as an HTML page (inline SVG charts),
    /// Markdown, CSV and JSON in a directory.
    Report {
        /// A results file written by `ksim sweep --out`.
        results: PathBuf,
        /// The directory to write `report.html`, `report.md`, `results.csv`
        /// and `results.json` into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the JSON Schema (draft-07) of scenario files, for editors: add
    /// `# yaml-language-server: $schema=PATH` as a scenario's first line.
    Schema,
    /// Print a shell completion script: `ksim completions bash > /etc/bash_completion.d/ksim`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Search for a scenario that breaks a property of the report, shrink it
    /// (its values and its structure), and write it as a scenario file `ksim
    /// run` reproduces. Exit code 1 when a counterexample is found, 0 when
    /// none is found within --cases.
    Check(check::CheckArgs),
    /// Build Envoy's Maglev or ring-hash table from hosts and show which
    /// host each key picks, the whole table, or each host's share.
    Hash(hash::HashCli),
}

/// What `ksim sweep` and `ksim plan` share: where the plan is, how to run.
#[derive(Args)]
struct StudyOpts {
    /// Read `sweep:` and `slo:` from this file instead of the scenario.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Worker threads (default: one per core). The output does not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Base seed: seed i of every point is BASE + i (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Width of the reports' time windows, e.g. `10s`.
    #[arg(long, value_parser = window_arg)]
    window: Option<SimDuration>,
    /// Standard output format when there is no --out.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepCli {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// Scenario file with a `sweep:` block (or give the plan with --plan).
    #[arg(required = true)]
    file: Option<PathBuf>,
    #[command(flatten)]
    study: StudyOpts,
    /// Write the results JSON here (atomically); with --shard-count, a
    /// directory that receives `shard-I-of-N.json`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also render the report (HTML, Markdown, CSV, JSON) into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Run only the runs r with r % N == I. Falls back to the environment:
    /// JOB_COMPLETION_INDEX (Kubernetes Indexed Job), then SLURM_ARRAY_TASK_ID.
    #[arg(long)]
    shard_index: Option<usize>,
    /// Number of shards N.
    #[arg(long)]
    shard_count: Option<usize>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Merge shard files into the results a single run gives (same bytes).
    Merge {
        /// Shard files, or directories holding `shard-*.json`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Write the results JSON here (atomically).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also render the report into this directory.
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// `ksim run`'s formats: a run also has a page.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Text,
    Json,
    Html,
}

fn window_arg(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the window must be longer than zero".into()),
        Err(e) => Err(format!("{} (e.g. `10s`, `1m`)", e.0)),
    }
}

fn at_arg(s: &str) -> Result<SimDuration, String> {
    parse_duration(s).map_err(|e| format!("{} (e.g. `30s`, `1m30s`)", e.0))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            file,
            seed,
            format,
            out,
            window,
            events_out,
            check_determinism,
        } => run(
            &file,
            seed,
            format,
            out.as_deref(),
            window,
            events_out.as_deref(),
            check_determinism,
        ),
        Command::Dns {
            file,
            name,
            qtype,
            at,
            from,
            seed,
            format,
            out,
        } => dns(
            &file,
            &name,
            &qtype,
            at,
            from.as_deref(),
            seed,
            format,
            out.as_deref(),
        ),
        Command::ServeDns {
            file,
            at,
            listen,
            clock,
            speed,
            seed,
            verbose,
        } => serve::serve_dns(serve::ServeArgs {
            file: &file,
            at,
            listen,
            clock,
            speed,
            seed,
            verbose,
        }),
        Command::Lint(c) => lint::run(c),
        Command::Sweep(c) => match c.command {
            Some(SweepCommand::Merge {
                inputs,
                out,
                report,
                format,
            }) => sweep::merge(&inputs, out.as_deref(), report.as_deref(), format),
            None => sweep::sweep(sweep::SweepArgs {
                inputs: sweep::Inputs {
                    file: c.file.as_deref().expect("clap requires FILE"),
                    plan_file: c.study.plan.as_deref(),
                    seed: c.study.seed,
                },
                jobs: c.study.jobs,
                window: c.study.window,
                out: c.out.as_deref(),
                report: c.report.as_deref(),
                format: c.study.format,
                shard_index: c.shard_index,
                shard_count: c.shard_count,
            }),
        },
        Command::Plan { file, study, out } => sweep::plan(sweep::PlanArgs {
            inputs: sweep::Inputs {
                file: &file,
                plan_file: study.plan.as_deref(),
                seed: study.seed,
            },
            jobs: study.jobs,
            window: study.window,
            out: out.as_deref(),
            format: study.format,
        }),
        Command::Report { results, out } => render::report_cmd(&results, &out),
        Command::Schema => emit(&sim_core::scenario::schema::to_json(), None),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "ksim", &mut out);
            emit(&String::from_utf8_lossy(&out), None)
        }
        Command::Check(args) => check::check(&args),
        Command::Hash(c) => hash::hash(c),
    }
}

fn fail(message: String) -> ExitCode {
    let _ = std::io::stderr().write_all(message.as_bytes());
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Collects lifecycle events as JSON lines (they grow with pods, not requests).
#[derive(Default)]
struct EventLines(String);

impl sim_core::Observer for EventLines {
    const LIFECYCLE: bool = true;
    fn lifecycle(&mut self, e: &sim_core::Lifecycle) {
        self.0
            .push_str(&serde_json::to_string(e).expect("an event always serializes"));
        self.0.push('\n');
    }
}

/// Exit code of `ksim run --check-determinism` when the two runs differ.
const EXIT_NOT_DETERMINISTIC: u8 = 1;

#[allow(clippy::too_many_arguments)]
fn run(
    file: &Path,
    seed: Option<u64>,
    format: RunFormat,
    out: Option<&Path>,
    window: Option<SimDuration>,
    events_out: Option<&Path>,
    check_determinism: bool,
) -> ExitCode {
    let shown = file.display().to_string();
    if let Some(path) = events_out
        && let Err(message) = check_out(path, file)
    {
        return fail(format!(
            "error: --events-out {}: {message}\n",
            path.display()
        ));
    }
    let (src, scenario) = match load(file, out) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let outputs: Vec<(&str, &Path)> = [("--out", out), ("--events-out", events_out)]
        .into_iter()
        .filter_map(|(flag, p)| Some((flag, p?)))
        .collect();
    if let Err(m) = output::check(&outputs) {
        return fail(m);
    }
    let width = window.unwrap_or(sim_core::scenario::defaults::WINDOW);
    let windows = limits::windows(scenario.duration, width);
    if windows > limits::MAX_WINDOWS {
        let flag = match window {
            Some(w) => format!("--window {w}"),
            None => format!("the default window ({width})"),
        };
        return fail(format!(
            "error: {flag} splits the {} run into {windows} windows; at most {} are reported\n  hint: use --window {} or longer\n",
            scenario.duration,
            limits::MAX_WINDOWS,
            limits::min_window(scenario.duration)
        ));
    }
    let opts = sim_core::RunOptions { seed, window };
    let mut events = EventLines::default();
    let mut timeline = None;
    let mut verdict = None;
    let result = if check_determinism {
        sim_core::determinism::check(&scenario, &opts).map(|v| {
            let report = v.report.clone();
            verdict = Some(v);
            report
        })
    } else if format == RunFormat::Html {
        sim_core::timeline::run(&scenario, &opts).map(|(report, t, lifecycle)| {
            for e in &lifecycle {
                sim_core::Observer::lifecycle(&mut events, e);
            }
            timeline = Some(t);
            report
        })
    } else if events_out.is_some() {
        sim_core::run_observed(&scenario, &opts, &mut events)
    } else if progress::shown() {
        let mut bar = progress::RunProgress::new(scenario.duration);
        sim_core::run_observed(&scenario, &opts, &mut bar)
    } else {
        sim_core::run(&scenario, &opts)
    };
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            let loc = sim_core::scenario::locate(&src, &e.path).unwrap_or_default();
            return fail(
                Diagnostic::at(loc, e.message)
                    .path(e.path)
                    .render(&shown, &src),
            );
        }
    };
    sim_core::diagnose::name_scenario_file(&mut report.findings, &shown);
    let text = match format {
        RunFormat::Text => report.to_text(),
        RunFormat::Json => report.to_json(),
        RunFormat::Html => run_page::html(&report, &timeline.unwrap_or_default()),
    };
    // The event log and the report file are committed together.
    let mut files: Vec<(&Path, &[u8])> = Vec::new();
    if let Some(path) = events_out {
        files.push((path, events.0.as_bytes()));
    }
    if let Some(path) = out {
        files.push((path, text.as_bytes()));
    }
    if let Err((path, e)) = output::commit(&files) {
        return fail(format!(
            "error: cannot write {}: {e}; no output was written\n",
            path.display()
        ));
    }
    let code = if out.is_some() {
        ExitCode::SUCCESS
    } else {
        emit(&text, None)
    };
    match verdict {
        Some(v) => {
            let _ = std::io::stderr().write_all(v.to_text().as_bytes());
            if v.is_deterministic() {
                code
            } else {
                ExitCode::from(EXIT_NOT_DETERMINISTIC)
            }
        }
        None => code,
    }
}

/// Read and validate a scenario; on failure, the exit code after the message.
fn load(file: &Path, out: Option<&Path>) -> Result<(String, sim_core::Scenario), ExitCode> {
    // Check the output path before a possibly long run, not after it.
    if let Some(path) = out
        && let Err(message) = check_out(path, file)
    {
        return Err(fail(format!(
            "error: --out {}: {message}\n",
            path.display()
        )));
    }
    let src = read_source(file).map_err(fail)?;
    let scenario = parse_scenario(file, &src, None).map_err(fail)?;
    // Its manifests and traces are read now: none may be the output.
    if let Some(path) = out {
        output::check(&[("--out", path)]).map_err(fail)?;
    }
    Ok((src, scenario))
}

/// A scenario file's text; the message for a file that cannot be read.
fn read_source(file: &Path) -> Result<String, String> {
    let shown = file.display().to_string();
    match input::read_text(file, input::Kind::Text) {
        Ok(s) => Ok(s),
        Err(input::ReadError::NotUtf8(bytes, e)) => Err(not_utf8(&shown, &bytes, e)),
        Err(e) => Err(input::message(file, &e, input::Kind::Text)),
    }
}

/// Validate the scenario in `src` (or in `tree`, a changed copy of its
/// document, for a sweep point), reading manifests relative to `file`.
/// On failure, the rendered diagnostic.
fn parse_scenario(
    file: &Path,
    src: &str,
    tree: Option<&sim_core::scenario::yaml::Node>,
) -> Result<sim_core::Scenario, String> {
    parse_scenario_diag(file, tree.map_or(Tree::Text(src), Tree::Node)).map_err(|e| {
        e.0.render(&file.display().to_string(), e.1.as_deref().unwrap_or(src))
    })
}

enum Tree<'a> {
    Text(&'a str),
    Node(&'a sim_core::scenario::yaml::Node),
}

/// [`parse_scenario`] with the diagnostic, and the text of the manifest it
/// points into (`None`: the scenario itself).
fn parse_scenario_diag(
    file: &Path,
    tree: Tree,
) -> Result<sim_core::Scenario, Box<(Diagnostic, Option<String>)>> {
    // Manifest files, read relative to the scenario's directory; their
    // texts are kept to show the line an error points at.
    let dir = file.parent().unwrap_or(Path::new(""));
    let manifests: RefCell<Vec<(String, PathBuf, String)>> = RefCell::new(Vec::new());
    let read_manifest = |name: &str| -> Result<String, String> {
        let path = dir.join(name);
        let text = read_named(&path)?;
        manifests
            .borrow_mut()
            .push((name.to_string(), path, text.clone()));
        Ok(text)
    };
    let result = match tree {
        Tree::Text(src) => sim_core::scenario::parse_with(src, &read_manifest),
        Tree::Node(n) => sim_core::scenario::parse_tree(Some(n), &read_manifest),
    };
    result.map_err(|d| {
        // An error inside a manifest is shown with that file's path and text.
        let read = manifests.borrow();
        let inside = d
            .file
            .as_deref()
            .and_then(|name| read.iter().find(|(n, _, _)| n == name));
        match inside {
            Some((_, path, text)) => Box::new((
                d.clone().in_file(path.display().to_string()),
                Some(text.clone()),
            )),
            None => Box::new((d, None)),
        }
    })
}

/// Print `text`, or write it atomically to `out`.
fn emit(text: &str, out: Option<&Path>) -> ExitCode {
    match out {
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
        }
        Some(path) => {
            if let Err(e) = write_atomically(path, text.as_bytes()) {
                return fail(format!("error: cannot write {}: {e}\n", path.display()));
            }
        }
    }
    ExitCode::SUCCESS
}

#[allow(clippy::too_many_arguments)]
fn dns(
    file: &Path,
    name: &str,
    qtype: &str,
    at: SimDuration,
    from: Option<&str>,
    seed: Option<u64>,
    format: Format,
    out: Option<&Path>,
) -> ExitCode {
    use sim_core::dns::{inspect, zone};
    let qtype: zone::QType = match qtype.parse() {
        Ok(q) => q,
        Err(e) => {
            return fail(format!(
                "error: query type `{qtype}`: {e}\n  hint: A, AAAA, SRV, PTR, TXT, CNAME, NS or SOA\n"
            ));
        }
    };
    let (src, scenario) = match load(file, out) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if at >= scenario.duration {
        return fail(format!(
            "error: --at {at} is not before the end of the run ({})\n  hint: pick an instant within `duration`\n",
            scenario.duration
        ));
    }
    let name = match (qtype, name.parse::<std::net::IpAddr>()) {
        (zone::QType::Ptr, Ok(ip)) => zone::reverse_name(ip),
        _ => name.to_string(),
    };
    let seed = seed.unwrap_or(scenario.seed);
    let at = sim_core::time::SimTime(at.as_ns());
    let result = match inspect::inspect(&scenario, seed, at, &name, qtype, from) {
        Ok(r) => r,
        Err(inspect::InspectError::Run(e)) => {
            let shown = file.display().to_string();
            let loc = sim_core::scenario::locate(&src, &e.path).unwrap_or_default();
            return fail(
                Diagnostic::at(loc, e.message)
                    .path(e.path)
                    .render(&shown, &src),
            );
        }
        Err(e) => return fail(format!("error: {e}\n")),
    };
    let text = match format {
        Format::Text => result.to_text(),
        Format::Json => result.to_json(),
    };
    emit(&text, out)
}

/// Why `path` cannot take the report, if that is already clear: it is a
/// directory, its directory does not exist, or it is the scenario itself.
fn check_out(path: &Path, scenario: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("is a directory; give a file name".into());
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        return Err(format!("the directory {} does not exist", dir.display()));
    }
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if let (Ok(a), Ok(b)) = (path.canonicalize(), scenario.canonicalize())
        && a == b
    {
        return Err("is the scenario file itself; the report would overwrite it".into());
    }
    Ok(())
}

/// Where the first byte that is not UTF-8 is, and that byte.
fn utf8_error_at(bytes: &[u8], e: std::str::Utf8Error) -> (Loc, u8) {
    let good = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
    let line = good.matches('\n').count() as u32 + 1;
    let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (Loc { line, col }, bytes[e.valid_up_to()])
}

/// The message for a file that is not UTF-8: where the first bad byte is.
fn not_utf8(shown: &str, bytes: &[u8], e: std::str::Utf8Error) -> String {
    let (at, byte) = utf8_error_at(bytes, e);
    let d = Diagnostic::at(
        at,
        format!("not UTF-8 text (byte 0x{byte:02x}); a scenario is a YAML or JSON text file"),
    );
    let d = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        d.hint("the file looks like UTF-16; save it as UTF-8")
    } else if bytes.contains(&0) {
        d.hint("this looks like a binary file; is it the right one?")
    } else {
        d.hint("save the file as UTF-8 (it may be in a legacy encoding such as Latin-1)")
    };
    d.render(shown, &String::from_utf8_lossy(bytes))
}

/// Write to a temporary file beside `path`, then rename over it: readers see
/// the old file or the whole new one, never a partial report (see
/// [`output::commit`], which writes several files together).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    output::commit(&[(path, bytes)]).map_err(|(_, e)| e)
}

/// Reads the files a scenario's `manifests` name, relative to `dir`.
fn manifest_loader(dir: &Path) -> impl Fn(&str) -> Result<String, String> + '_ {
    move |name: &str| read_named(&dir.join(name))
}

/// A file a scenario names (a manifest, a pod trace), read through the
/// bounded reader; the message says where and why when it cannot be.
fn read_named(path: &Path) -> Result<String, String> {
    input::read_text(path, input::Kind::Text).map_err(|e| match e {
        input::ReadError::NotUtf8(bytes, e) => {
            let (at, byte) = utf8_error_at(&bytes, e);
            format!(
                "{}:{}:{}: not UTF-8 text (byte 0x{byte:02x}); a manifest or trace is a YAML or JSON text file",
                path.display(),
                at.line,
                at.col
            )
        }
        e => format!("{}: {}", path.display(), e.describe(input::Kind::Text)),
    })
}
