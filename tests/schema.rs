//! Editor and shell support. The scenario JSON Schema (`ksim schema`): the committed
//! `scenario.schema.json` is what the binary prints, every shipped scenario
//! names it on its first line and validates against it, and files the
//! parser rejects for their shape are rejected by it too. Validation uses
//! Python's `jsonschema` (draft-07) and PyYAML, which `.ci/run` installs.
//! Shell completions (`ksim completions SHELL`) know every subcommand, and
//! progress shows on a terminal only.

use std::path::{Path, PathBuf};
use std::process::Command;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");
const HEADER: &str = "# yaml-language-server: $schema=../scenario.schema.json";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema_text() -> String {
    let out = Command::new(KSIM).arg("schema").output().expect("run ksim");
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn shipped() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_committed_schema_is_what_ksim_schema_prints() {
    let committed = std::fs::read_to_string(root().join("scenario.schema.json")).expect("read");
    assert!(
        committed == schema_text(),
        "scenario.schema.json is stale: run `ksim schema > scenario.schema.json`"
    );
    let v: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    // The draft the VS Code YAML extension validates.
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    // Hover text and defaults come from the field table and `defaults.rs`.
    let ttl = &v["properties"]["dns"]["properties"]["ttl"];
    assert_eq!(ttl["default"], "30s");
    assert!(ttl["description"].as_str().unwrap().contains("TTL"));
    assert_eq!(
        v["properties"]["clients"]["items"]["properties"]["connect_timeout"]["default"],
        "2m7s"
    );
    assert_eq!(v["additionalProperties"], false);
}

#[test]
fn every_shipped_scenario_names_the_schema_on_its_first_line() {
    for f in shipped() {
        let text = std::fs::read_to_string(&f).expect("read");
        assert_eq!(
            text.lines().next(),
            Some(HEADER),
            "{}: the first line names the schema",
            f.display()
        );
    }
}

/// `python3 validate.py SCHEMA FILE...`: one line per file, `ok` or `invalid: why`.
const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[2:]:
    errs = list(v.iter_errors(yaml.safe_load(open(f))))
    print(f + "\t" + ("ok" if not errs else "invalid: " + "; ".join(
        "/".join(map(str, e.path)) + " " + e.message[:120] for e in errs[:3])))
"#;

/// Each file's verdict by the schema; `None` when Python's jsonschema or
/// PyYAML is missing (said loudly).
fn validate(files: &[PathBuf]) -> Option<Vec<(String, String)>> {
    let probe = Command::new("python3")
        .args(["-c", "import yaml, jsonschema"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: python3 with jsonschema and PyYAML is missing (.ci/run installs them: pip install jsonschema pyyaml)"
        );
        return None;
    }
    // One directory per call: tests run in parallel.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ksim-schema-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("validate.py");
    std::fs::write(&script, VALIDATE).unwrap();
    let schema = dir.join("scenario.schema.json");
    std::fs::write(&schema, schema_text()).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(&schema)
        .args(files)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the validator failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let (f, verdict) = l.split_once('\t').expect("file<TAB>verdict");
                (f.to_string(), verdict.to_string())
            })
            .collect(),
    )
}

#[test]
fn every_shipped_scenario_validates_against_the_schema() {
    let files = shipped();
    let Some(verdicts) = validate(&files) else {
        return;
    };
    assert_eq!(verdicts.len(), files.len());
    for (f, verdict) in verdicts {
        assert_eq!(verdict, "ok", "{f}");
    }
}

#[test]
fn files_the_parser_rejects_for_their_shape_the_schema_rejects_too() {
    let dir = std::env::temp_dir().join(format!("ksim-schema-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let misspelt = dir.join("misspelt.yaml");
    std::fs::write(
        &misspelt,
        "name: t\nduration: 10s\nclients:\n  - {name: app, target: 'web:80', rate: 1, balancr: random}\n",
    )
    .unwrap();
    let missing = dir.join("no-duration.yaml");
    std::fs::write(&missing, "name: t\n").unwrap();
    let mut files: Vec<PathBuf> = [
        "wrong-types.yaml",
        "negative-numbers.yaml",
        "merge-key-abuse.yaml",
        "odd-scalars.yaml",
    ]
    .iter()
    .map(|n| root().join("tests/corpus").join(n))
    .collect();
    files.push(misspelt);
    files.push(missing);
    for f in &files {
        let out = Command::new(KSIM)
            .arg("run")
            .arg(f)
            .output()
            .expect("run ksim");
        assert_eq!(
            out.status.code(),
            Some(2),
            "the parser rejects {}",
            f.display()
        );
    }
    let verdicts = validate(&files);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(verdicts) = verdicts else {
        return;
    };
    for (f, verdict) in verdicts {
        assert!(verdict.starts_with("invalid"), "the schema accepts {f}");
    }
}

#[test]
fn completions_know_every_subcommand_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(KSIM)
            .args(["completions", shell])
            .output()
            .expect("run ksim");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        for word in [
            "run", "sweep", "plan", "report", "check", "schema", "format",
        ] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = Command::new(KSIM)
        .args(["completions", "tcsh"])
        .output()
        .expect("run ksim");
    assert_eq!(out.status.code(), Some(2), "an unknown shell is bad input");
}

#[test]
fn dash_o_is_the_format_as_kubectl_users_expect() {
    let f = root().join("scenarios/web-statefulset.yaml");
    let out = Command::new(KSIM)
        .arg("run")
        .arg(&f)
        .args(["-o", "json", "--seed", "1"])
        .output()
        .expect("run ksim");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["seed"], 1);
}

#[test]
fn progress_is_drawn_on_a_terminal_only_and_never_touches_the_report() {
    let f = root().join("scenarios/web-statefulset.yaml");
    let plain = Command::new(KSIM)
        .arg("run")
        .arg(&f)
        .env_remove("CI")
        .output()
        .expect("run ksim");
    assert_eq!(plain.status.code(), Some(0));
    assert!(plain.stderr.is_empty(), "no terminal: no progress");
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("SKIPPED (the terminal half): util-linux `script` is missing");
        return;
    }
    // `script` gives ksim a pseudo-terminal; the report still goes to a file.
    let dir = std::env::temp_dir().join(format!("ksim-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.txt");
    let cmd = format!("{KSIM} run {} --out {}", f.display(), out.display());
    let tty = Command::new("/usr/bin/script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("CI")
        .output()
        .expect("run script");
    assert_eq!(tty.status.code(), Some(0));
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(shown.contains("% of the simulated time"), "{shown}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        plain.stdout,
        "the same report"
    );
    let quiet = Command::new("/usr/bin/script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("CI", "true")
        .output()
        .expect("run script");
    assert!(
        !String::from_utf8_lossy(&quiet.stdout).contains("simulated time"),
        "silent under CI"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The usage lines of the README's command sections: `ksim SUB ... [--flag ...]`.
fn readme_usage() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let mut out = Vec::new();
    let mut in_code = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let Some(rest) = line.strip_prefix("ksim ").filter(|_| in_code) else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let Some(sub) = words.first() else { continue };
        if !sub.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            continue;
        }
        let sub = if words.get(1) == Some(&"merge") {
            "sweep merge".to_string()
        } else {
            sub.to_string()
        };
        let flags: Vec<String> = words
            .iter()
            .flat_map(|w| w.split(['[', ']', '|', '"']))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_string())
            .collect();
        out.push((sub, flags));
    }
    out
}

#[test]
fn help_lists_every_flag_the_readme_documents() {
    let usage = readme_usage();
    assert!(usage.len() >= 8, "the README's usage lines: {usage:?}");
    for (sub, flags) in usage {
        let mut args: Vec<&str> = sub.split(' ').collect();
        args.push("--help");
        let out = Command::new(KSIM).args(&args).output().expect("run ksim");
        assert_eq!(out.status.code(), Some(0), "ksim {sub} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in flags {
            assert!(
                help.contains(&flag),
                "`ksim {sub} --help` does not list {flag}"
            );
        }
    }
    let dns = Command::new(KSIM)
        .args(["dns", "--help"])
        .output()
        .expect("run ksim");
    assert!(String::from_utf8_lossy(&dns.stdout).contains("--from <GROUP[/INDEX]|POD>"));
}
