//! `ksim`: the scenario runner. Argument parsing, file I/O and rendering only;
//! every model decision lives in `sim-core`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sim_core::time::{SimDuration, parse_duration};

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
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the report to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Width of the report's time windows, e.g. `10s`.
        #[arg(long, value_parser = window_arg)]
        window: Option<SimDuration>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn window_arg(s: &str) -> Result<SimDuration, String> {
    match parse_duration(s) {
        Ok(d) if d > SimDuration::ZERO => Ok(d),
        Ok(_) => Err("the window must be longer than zero".into()),
        Err(e) => Err(format!("{} (e.g. `10s`, `1m`)", e.0)),
    }
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
        } => run(&file, seed, format, out.as_deref(), window),
    }
}

fn fail(message: String) -> ExitCode {
    let _ = std::io::stderr().write_all(message.as_bytes());
    ExitCode::from(EXIT_BAD_INPUT)
}

fn run(
    file: &Path,
    seed: Option<u64>,
    format: Format,
    out: Option<&Path>,
    window: Option<SimDuration>,
) -> ExitCode {
    let shown = file.display().to_string();
    let src = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => {
                return fail(format!(
                    "error: {shown}: not UTF-8 text; a scenario is a YAML or JSON file\n"
                ));
            }
        },
        Err(e) => return fail(format!("error: cannot read {shown}: {e}\n")),
    };
    let scenario = match sim_core::scenario::parse(&src) {
        Ok(s) => s,
        Err(d) => return fail(d.render(&shown, &src)),
    };
    let opts = sim_core::RunOptions { seed, window };
    let report = match sim_core::run(&scenario, &opts) {
        Ok(r) => r,
        Err(e) => return fail(format!("error: {shown}: {}: {}\n", e.path, e.message)),
    };
    let text = match format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
    };
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

/// Write to a temporary file beside `path`, then rename over it: readers see
/// the old file or the whole new one, never a partial report.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
