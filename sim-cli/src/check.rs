//! `ksim check`: search a scenario file's values for a run that breaks a
//! property, shrink the counterexample (its values and its structure, see
//! `sim_core::check::shrink`), and write it as a scenario file with an
//! explanation. Argument handling and output only; the search and the
//! shrinking live in `sim_core::check`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::check::shrink::Mode;

use super::{emit, fail, load, manifest_loader, write_atomically};

/// `--shrink`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ShrinkArg {
    Structure,
    Values,
    Both,
}

impl ShrinkArg {
    fn mode(self) -> Mode {
        match self {
            ShrinkArg::Structure => Mode::Structure,
            ShrinkArg::Values => Mode::Values,
            ShrinkArg::Both => Mode::Both,
        }
    }
}

/// `ksim check`'s arguments.
#[derive(Args)]
pub struct CheckArgs {
    /// Scenario file (YAML or JSON).
    file: PathBuf,
    /// `CLAUSE [&& ...]`: `KEY OP NUMBER` over the JSON report
    /// (`rates.stale_ip_error_rate < 0.1%`; OP is < <= > >= == !=),
    /// `every window: KEY OP NUMBER`, `any group: ...`, or
    /// `eventually pod NAME ready before 60s`.
    #[arg(long)]
    property: String,
    /// `PATH=RANGE`: a value of the scenario file to vary, e.g.
    /// `statefulsets[0].replicas=1..10`, `clients[0].rate=0.5..20`,
    /// `events[0].at=1s..60s`, `clients[0].resolver.cache=none|ttl|fixed(30s)`
    /// (ends included). Repeat for several. Without any, the seed varies.
    #[arg(long = "vary", value_name = "PATH=RANGE")]
    vary: Vec<String>,
    /// Random points to try before giving up.
    #[arg(long, default_value_t = 64)]
    cases: u32,
    /// Seed of the search (which points are tried), not of the runs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Most runs to spend shrinking a counterexample.
    #[arg(long, default_value_t = 512)]
    max_shrink_runs: u32,
    /// What shrinking reduces: the file's structure (remove events,
    /// clients, objects, ...), its values (the --vary values, replicas,
    /// counts, rates, durations, distributions), or both.
    #[arg(long, value_enum, default_value_t = ShrinkArg::Both)]
    shrink: ShrinkArg,
    /// Where to write the counterexample (default: `<name>.counterexample.yaml`
    /// next to FILE, so relative `manifests` paths still resolve).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// A bar of shrinking runs on stderr, drawn only when stderr is a terminal.
fn shrink_bar(max: u32) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(u64::from(max)), target);
    bar.set_style(
        ProgressStyle::with_template("shrinking {bar:40} {pos}/{len} runs  {elapsed}")
            .expect("a valid template"),
    );
    bar
}

/// `<dir>/<stem>.counterexample.yaml` for scenario `file`.
pub(crate) fn default_counterexample_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.counterexample.yaml"))
}

/// Run `ksim check` (see the README's "`ksim check`").
pub fn check(args: &CheckArgs) -> ExitCode {
    let CheckArgs {
        file,
        property,
        vary,
        cases,
        seed,
        max_shrink_runs,
        shrink,
        out,
    } = args;
    let (cases, seed, max_shrink_runs, out) = (*cases, *seed, *max_shrink_runs, out.as_deref());
    use sim_core::check::search::{self, Found, Range, Search, Vary};
    let out_path = out.map_or_else(|| default_counterexample_path(file), Path::to_path_buf);
    let (src, _) = match load(file, Some(&out_path)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let check = match sim_core::check::Check::parse(property) {
        Ok(c) => c,
        Err(e) => {
            return fail(format!(
                "error: --property {e}\n  hint: KEY OP NUMBER over the JSON report (`rates.stale_ip_error_rate < 0.1% && latency.p99_ms <= 50`), `every window: stale_ip_error_rate < 1%`, `any group: refused_rate > 0`, `eventually pod web-1 ready before 60s`\n"
            ));
        }
    };
    let mut varies = Vec::new();
    for spec in vary {
        match Vary::parse(spec) {
            Ok(v) => varies.push(v),
            Err(e) => return fail(format!("error: --vary {e}\n")),
        }
    }
    let seed_only = varies.is_empty();
    if seed_only {
        varies.push(Vary {
            path: "seed".into(),
            range: Range::Int(0, 1_000_000),
        });
    }
    let dir = file.parent().unwrap_or(Path::new(""));
    let loader = manifest_loader(dir);
    let bar = std::cell::OnceCell::new();
    let s = Search {
        src: &src,
        varies: &varies,
        check: &check,
        cases,
        seed,
        max_shrink_runs,
        shrink: shrink.mode(),
        progress: &|runs, max| {
            let bar = bar.get_or_init(|| shrink_bar(max));
            bar.set_position(u64::from(runs));
        },
        load: &loader,
    };
    if let Err(e) = s.validate() {
        return fail(format!("error: {e}\n"));
    }
    let shown = file.display().to_string();
    let varied: Vec<&str> = varies.iter().map(|v| v.path.as_str()).collect();
    let mut text = String::new();
    let found = s.run();
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    let found = match found {
        Ok(f) => f,
        Err(d) => {
            let at = if d.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", d.path)
            };
            return fail(format!(
                "error: {shown}: {at}{}\n  hint: narrow the --vary ranges to values the scenario accepts\n",
                d.message
            ));
        }
    };
    let c = match found {
        Found::Nothing {
            cases,
            invalid,
            first_invalid,
        } => {
            text.push_str(&format!(
                "no counterexample: `{property}` held in all {cases} cases tried (varying {}{})\n",
                varied.join(", "),
                if seed_only { "; no --vary given" } else { "" }
            ));
            if let Some(d) = first_invalid {
                text.push_str(&format!(
                    "  {invalid} points were skipped as invalid scenarios; the first: {}{}\n",
                    if d.path.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", d.path)
                    },
                    d.message
                ));
            }
            return emit(&text, None);
        }
        Found::Counterexample(c) => c,
    };
    let v = &c.violation;
    text.push_str(&format!(
        "counterexample: `{property}` does not hold\n  found after {} case{}, shrunk in {} runs\n  values:\n",
        c.cases,
        if c.cases == 1 { "" } else { "s" },
        c.shrink_runs
    ));
    for ((path, value), (_, first)) in c.values.iter().zip(&c.first_found) {
        text.push_str(&format!("    {path} = {value}"));
        if first != value {
            text.push_str(&format!("   (first found at {first})"));
        }
        text.push('\n');
    }
    if !c.steps.is_empty() {
        text.push_str("  shrunk:\n");
        for step in &c.steps {
            text.push_str(&format!("    {step}\n"));
        }
    }
    text.push_str(if c.minimal {
        match shrink {
            ShrinkArg::Both => "  1-minimal: no single further reduction keeps it failing\n",
            ShrinkArg::Structure => {
                "  1-minimal in structure: no single further removal keeps it failing\n"
            }
            ShrinkArg::Values => {
                "  1-minimal in values: no single further lowering keeps it failing\n"
            }
        }
    } else {
        "  not 1-minimal: the shrinking budget ran out (raise --max-shrink-runs)\n"
    });
    text.push_str(&v.explain(&c.scenario));
    if let Some(a) = &v.attempt {
        let ip = a.dialled.or(a.chosen).map(|d| d.ip);
        let (events, holder) = search::lifecycle_before(&c.scenario, a.at, ip, 8);
        if let (Some(ip), Some(pod)) = (ip, holder) {
            text.push_str(&format!(
                "  the address {} was {pod}'s\n",
                sim_core::scenario::fmt_ipv4(ip)
            ));
        }
        if !events.is_empty() {
            text.push_str("  pod and endpoint changes up to it (latest last):\n");
            for e in events {
                let mut line = format!(
                    "    {} {} {}",
                    sim_core::check::secs(sim_core::time::SimTime(e.t_ns)),
                    e.kind,
                    e.object
                );
                if let Some(ip) = &e.ip {
                    line.push_str(&format!(" {ip}"));
                }
                if let Some(eps) = &e.endpoints {
                    line.push_str(&format!(" [{}]", eps.join(", ")));
                }
                text.push_str(&line);
                text.push('\n');
            }
        }
    }
    let values: Vec<String> = c.values.iter().map(|(p, v)| format!("{p} = {v}")).collect();
    let shown_out = out_path.display().to_string();
    let mut file_text = format!(
        "# ksim check counterexample for {shown}\n# property: {property}\n# violated: {} ({})\n# values: {}\n",
        v.check,
        v.detail,
        values.join(", "),
    );
    if !c.steps.is_empty() {
        file_text.push_str(&format!("# shrunk: {}\n", c.steps.len()));
        for step in &c.steps {
            file_text.push_str(&format!("#   {step}\n"));
        }
    }
    file_text.push_str(&format!("# reproduce: ksim run {shown_out}\n\n{}", c.text));
    if let Err(e) = write_atomically(&out_path, file_text.as_bytes()) {
        return fail(format!("error: cannot write {shown_out}: {e}\n"));
    }
    text.push_str(&format!(
        "wrote {shown_out}; reproduce with: ksim run {shown_out}\n"
    ));
    let _ = emit(&text, None);
    ExitCode::from(EXIT_COUNTEREXAMPLE)
}

/// Exit code of `ksim check` when it found a counterexample.
pub(crate) const EXIT_COUNTEREXAMPLE: u8 = 1;
