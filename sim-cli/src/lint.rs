//! `ksim lint FILE|DIR...`: read manifests as they are, report what
//! `sim_core::diagnose::lint` finds, each confirmed by a short simulation
//! (unless `--no-confirm`), as text, JSON or SARIF 2.1.0. File handling
//! and rendering only: the rules and the confirmation live in the library.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use sim_core::diagnose::lint::{self, Confirmed};
use sim_core::diagnose::{CAUSES, Severity, percent};

use super::{check_out, emit, fail, read_source};

/// Version of `ksim lint --format json`'s shape.
pub const LINT_SCHEMA_VERSION: u32 = 1;

#[derive(Args, Debug)]
pub struct LintCli {
    /// Manifest files, or directories (searched for `.yaml`, `.yml` and
    /// `.json` files, recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    format: LintFormat,
    /// Exit 1 when a finding is at least this severe (`none`: never).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Report findings without confirming them by simulation.
    #[arg(long)]
    no_confirm: bool,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    None,
}

/// One finding as `--format json` writes it.
#[derive(Serialize)]
struct Out {
    code: &'static str,
    severity: Severity,
    file: String,
    line: u32,
    column: u32,
    object: String,
    message: String,
    remediation: &'static str,
    confirmed: Option<Confirmed>,
}

pub fn run(c: LintCli) -> ExitCode {
    let files = match collect(&c.paths) {
        Ok(f) => f,
        Err(m) => return fail(m),
    };
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        if let Some(out) = &c.out
            && let Err(m) = check_out(out, f)
        {
            return fail(format!("error: --out {}: {m}\n", out.display()));
        }
        match read_source(f) {
            Ok(t) => {
                texts.insert(f.display().to_string(), t);
            }
            Err(m) => return fail(m),
        }
    }
    let sc = match scenario(&texts) {
        Ok(sc) => sc,
        Err(m) => return fail(m),
    };
    let issues = lint::rules(&sc);
    let outs: Vec<Out> = issues
        .iter()
        .map(|i| {
            let info = i.cause.info();
            Out {
                code: info.code,
                severity: info.severity,
                file: i.object.file.clone().unwrap_or_default(),
                line: i.object.line.unwrap_or(1),
                column: i.object.column.unwrap_or(1),
                object: format!("{} {}/{}", i.object.kind, i.object.namespace, i.object.name),
                message: i.message.clone(),
                remediation: info.remediation,
                confirmed: if c.no_confirm {
                    None
                } else {
                    lint::confirm(&sc, i)
                },
            }
        })
        .collect();
    let text = match c.format {
        LintFormat::Text => text(&outs, !c.no_confirm),
        LintFormat::Json => {
            let doc = serde_json::json!({
                "schema_version": LINT_SCHEMA_VERSION,
                "findings": outs,
            });
            serde_json::to_string_pretty(&doc).expect("serializes") + "\n"
        }
        LintFormat::Sarif => sarif(&outs),
    };
    let code = emit(&text, c.out.as_deref());
    let threshold = match c.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::None => None,
    };
    if code != ExitCode::SUCCESS {
        return code;
    }
    if threshold.is_some_and(|t| outs.iter().any(|o| o.severity >= t)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The manifest files under `paths`, in the order given (a directory's in
/// name order).
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("error: cannot read {}: {e}\n", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(format!(
            "error: no manifest files (`.yaml`, `.yml`, `.json`) under {}\n",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
        {
            out.push(e);
        }
    }
    Ok(())
}

/// The objects of every file as one scenario (no clients). With Istio
/// objects, or namespaces labelled `istio-injection=enabled`, it has a mesh
/// injecting those namespaces. A mistake is rendered in its file.
fn scenario(texts: &BTreeMap<String, String>) -> Result<sim_core::Scenario, String> {
    let names: Vec<String> = texts
        .keys()
        .map(|k| serde_json::to_string(k).expect("a string serializes"))
        .collect();
    let head = format!(
        "name: lint\nduration: {}\nmanifests: [{}]\n",
        lint::CONFIRM_DURATION,
        names.join(", ")
    );
    let parse = |src: &str| {
        sim_core::scenario::parse_with(src, &|name| {
            texts
                .get(name)
                .cloned()
                .ok_or_else(|| "not read".to_string())
        })
        .map_err(|d| {
            let file = d.file.clone().unwrap_or_default();
            let text = texts.get(&file).map_or("", String::as_str);
            d.render(&file, text)
        })
    };
    let sc = parse(&head)?;
    let injected: Vec<&String> = sc
        .namespace_labels
        .iter()
        .filter(|(_, l)| l.get("istio-injection").map(String::as_str) == Some("enabled"))
        .map(|(ns, _)| ns)
        .collect();
    let istio = sc
        .provenance
        .notes
        .iter()
        .any(|n| n.starts_with("ignored Istio"));
    if injected.is_empty() && !istio {
        return Ok(sc);
    }
    let mesh = if injected.is_empty() {
        "mesh: {}\n".to_string()
    } else {
        format!(
            "mesh: {{injected_namespaces: [{}]}}\n",
            injected
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    parse(&format!("{head}{mesh}"))
}

fn confirmed_text(c: &Confirmed) -> String {
    let pct = |r: f64| percent((r * 1e6).round() as u64, 1_000_000);
    let fixed = match c.rate_with_fix {
        Some(r) => format!("; with the fix: {}", pct(r)),
        None => String::new(),
    };
    format!("{} of requests failed ({}){fixed}", pct(c.rate), c.symptom)
}

fn text(outs: &[Out], confirming: bool) -> String {
    let mut s = String::new();
    for o in outs {
        s.push_str(&format!(
            "{}:{}:{}: {} {} {}: {}\n",
            o.file,
            o.line,
            o.column,
            o.severity.name(),
            o.code,
            o.object,
            o.message
        ));
        match (&o.confirmed, confirming) {
            (Some(c), _) => s.push_str(&format!("  confirmed: {}\n", confirmed_text(c))),
            (None, true) => s.push_str("  confirmed: not simulated for this finding\n"),
            (None, false) => {}
        }
        s.push_str(&format!("  fix: {}\n", o.remediation));
    }
    let n = |sev| outs.iter().filter(|o| o.severity == sev).count();
    s.push_str(&format!(
        "{} findings: {} errors, {} warnings, {} info\n",
        outs.len(),
        n(Severity::Error),
        n(Severity::Warning),
        n(Severity::Info)
    ));
    s
}

/// SARIF 2.1.0 (OASIS), as CI code scanning reads it: one run, the rules
/// of every code, one result per finding at its file, line and column.
fn sarif(outs: &[Out]) -> String {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<serde_json::Value> = CAUSES
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.code,
                "name": c.slug,
                "shortDescription": {"text": c.slug.replace('-', " ")},
                "help": {"text": c.remediation},
                "defaultConfiguration": {"level": level(c.severity)},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = outs
        .iter()
        .map(|o| {
            let mut message = format!("{}: {}", o.object, o.message);
            if let Some(c) = &o.confirmed {
                message.push_str(&format!(" (confirmed: {})", confirmed_text(c)));
            }
            serde_json::json!({
                "ruleId": o.code,
                "ruleIndex": CAUSES.iter().position(|c| c.code == o.code).unwrap_or(0),
                "level": level(o.severity),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": o.file.replace('\\', "/")},
                        "region": {"startLine": o.line, "startColumn": o.column},
                    }
                }],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ksim",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("serializes") + "\n"
}
