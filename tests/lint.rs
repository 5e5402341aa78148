//! `ksim lint`: findings with stable codes at file:line:column, confirmed
//! by simulation (rate as written and with the fix), text/JSON/SARIF, the
//! exit codes of `--fail-on`, and no false positives on correct manifests
//! and the healthy shipped scenarios.

use std::path::Path;
use std::process::{Command, Output};

use sim_core::diagnose::lint;
use sim_core::scenario::{Scenario, parse_with};

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn ksim(args: &[&str]) -> Output {
    Command::new(KSIM)
        .args(args)
        .current_dir(root())
        .output()
        .expect("ksim runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn each_mistake_is_found_where_it_is_written_and_confirmed_with_and_without_the_fix() {
    let out = ksim(&["lint", "tests/lint/broken.yaml", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["schema_version"], 1);
    let f = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = f.iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["KS001", "KS002", "KS003", "KS010"]);
    // Each at the Service's `metadata.name`, in the file as named.
    let at: Vec<(u64, u64)> = f
        .iter()
        .map(|x| (x["line"].as_u64().unwrap(), x["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(at, [(8, 18), (26, 18), (44, 18), (44, 18)]);
    assert!(f.iter().all(|x| x["file"] == "tests/lint/broken.yaml"));
    assert_eq!(f[0]["object"], "Service default/web");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("Deployment `web` has app=web")
    );
    // The three errors: every request fails as written, none with the fix.
    let expected_symptoms = ["refused", "refused", "timeout"];
    for (x, symptom) in f.iter().zip(expected_symptoms) {
        let c = &x["confirmed"];
        assert_eq!(c["symptom"], symptom, "{x}");
        assert_eq!(c["rate"], 1.0, "{x}");
        assert_eq!(c["rate_with_fix"], 0.0, "{x}");
        assert_eq!(x["severity"], "error");
        assert!(!x["remediation"].as_str().unwrap().is_empty());
    }
}

#[test]
fn text_output_names_file_line_column_code_and_the_confirmed_rates() {
    let out = ksim(&["lint", "tests/lint/broken.yaml"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("tests/lint/broken.yaml:8:18: error KS001 Service default/web: "),
        "{text}"
    );
    assert!(
        text.contains("  confirmed: 100 % of requests failed (refused); with the fix: 0 %\n"),
        "{text}"
    );
    assert!(
        text.ends_with("4 findings: 3 errors, 1 warnings, 0 info\n"),
        "{text}"
    );
}

#[test]
fn fail_on_sets_the_exit_code_and_no_confirm_skips_the_runs() {
    let warn = "tests/lint/warning-only.yaml";
    assert_eq!(
        ksim(&["lint", warn]).status.code(),
        Some(0),
        "a warning is below the default `error`"
    );
    assert_eq!(
        ksim(&["lint", warn, "--fail-on", "warning"]).status.code(),
        Some(1)
    );
    assert_eq!(
        ksim(&["lint", "tests/lint/broken.yaml", "--fail-on", "none"])
            .status
            .code(),
        Some(0)
    );
    let out = ksim(&[
        "lint",
        "tests/lint/broken.yaml",
        "--no-confirm",
        "--format",
        "json",
    ]);
    assert!(
        json(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["confirmed"].is_null())
    );
}

#[test]
fn bad_input_is_exit_2_with_the_place() {
    let dir = std::env::temp_dir().join(format!("ksim-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 99999}]\n",
    )
    .unwrap();
    let out = ksim(&["lint", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("error: {}:5:", bad.display())),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let missing = ksim(&["lint", "tests/lint/no-such-file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn correct_manifests_have_no_findings() {
    // The realistic corpus (charts, kube-prometheus, a kubectl snapshot,
    // Istio policies), as a directory.
    let out = ksim(&["lint", "tests/k8s", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["findings"], serde_json::json!([]));
}

fn scenario_file(name: &str) -> Scenario {
    let dir = root().join("scenarios");
    let src = std::fs::read_to_string(dir.join(name)).unwrap();
    parse_with(&src, &|p| {
        std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|d| panic!("{name}: {d}"))
}

#[test]
fn the_rules_find_nothing_in_healthy_scenarios_and_the_cause_in_broken_ones() {
    let dir = root().join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml") && !n.starts_with("mesh-") && !n.starts_with("netpol-"))
        .collect();
    names.sort();
    for n in &names {
        let issues = lint::rules(&scenario_file(n));
        assert!(issues.is_empty(), "{n}: {issues:#?}");
    }
    let codes = |n: &str| -> Vec<&'static str> {
        lint::rules(&scenario_file(n))
            .iter()
            .map(|i| i.cause.info().code)
            .collect()
    };
    assert_eq!(codes("mesh-service-not-headless.yaml"), ["KS005"]);
    // Its `orders` StatefulSet also has a ClusterIP governing Service.
    assert_eq!(codes("mesh-netpol-blocks-istiod.yaml"), ["KS008", "KS010"]);
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let out = ksim(&["lint", "tests/lint/broken.yaml", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    // The fields code scanning requires, checked here whatever is installed.
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ksim");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), sim_core::diagnose::CAUSES.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "tests/lint/broken.yaml");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    // And against the OASIS schema (tests/sarif-2.1.0-rtm.5.json), with
    // Python's jsonschema (Debian python3-jsonschema, in .ci/run).
    let check = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    if !check.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: SARIF schema validation needs python3 with jsonschema (apt-get install python3-jsonschema)"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("ksim-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    let schema = root().join("tests/sarif-2.1.0-rtm.5.json");
    let v = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')",
            file.to_str().unwrap(),
            schema.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), "valid");
}
