//! Bad input to `ksim run`: every mistake gets one clear message (file, line
//! and column, field path, what was expected, a hint when the fix is
//! guessable), exit code 2, nothing on standard output, and never a panic.
//!
//! Each table case writes a scenario to a temporary file and runs the real
//! binary on it. Positions are given as a snippet of the source: the error
//! must point at its start, or at the `|` inside it (`"rate: |0"`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

/// A small valid scenario the cases edit (see `the_base_scenario_is_valid`).
const BASE: &str = "\
name: bad-input
duration: 60s
services:
  - name: nginx
    clusterIP: None
    selector: {app: web}
    ports:
      - {name: http, port: 80}
statefulsets:
  - name: web
    service: nginx
    replicas: 3
    start_ready: true
clients:
  - name: app
    count: 2
    target: nginx:80
    rate: 5
    resolver:
      cache: ttl
events:
  - at: 10s
    delete_pod: web-1
";

/// The same scenario as JSON (which ksim reads as the YAML subset it is).
const JSON_BASE: &str = r#"{
  "name": "json-input",
  "duration": "60s",
  "services": [{"name": "nginx", "clusterIP": "None", "ports": [80]}],
  "clients": [{"name": "app", "target": "nginx:80", "rate": 5}]
}
"#;

/// `BASE` with `from` (which must occur exactly once) replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    edit_of(BASE, from, to)
}

fn edit_of(src: &str, from: &str, to: &str) -> String {
    assert_eq!(src.matches(from).count(), 1, "`{from}` must occur once");
    src.replacen(from, to, 1)
}

fn ksim(args: &[&str]) -> Output {
    Command::new(KSIM).args(args).output().expect("run ksim")
}

fn run_file(path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", path.to_str().expect("utf-8 temp path")];
    args.extend_from_slice(extra);
    ksim(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One bad scenario and what its message must say.
struct Case {
    name: &'static str,
    src: Vec<u8>,
    /// Snippet whose start (or `|`) is the reported position; `None` for 1:1.
    at: Option<&'static str>,
    /// An explicit line and column instead (for files that are not text).
    line_col: Option<(usize, usize)>,
    /// Which occurrence of the snippet (0 = first).
    nth: usize,
    /// Field path the message names; empty for none.
    path: &'static str,
    /// Fragments of the message (what is wrong, what was expected).
    says: &'static [&'static str],
    /// Fragment of the `hint:` line, when the fix is guessable.
    hint: Option<&'static str>,
}

fn case(name: &'static str, src: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        src: src.into(),
        at: None,
        line_col: None,
        nth: 0,
        path: "",
        says: &[],
        hint: None,
    }
}

impl Case {
    fn at(mut self, snippet: &'static str) -> Case {
        self.at = Some(snippet);
        self
    }
    fn at_nth(mut self, snippet: &'static str, nth: usize) -> Case {
        self.at = Some(snippet);
        self.nth = nth;
        self
    }
    fn line_col(mut self, line: usize, col: usize) -> Case {
        self.line_col = Some((line, col));
        self
    }
    fn path(mut self, path: &'static str) -> Case {
        self.path = path;
        self
    }
    fn says(mut self, says: &'static [&'static str]) -> Case {
        self.says = says;
        self
    }
    fn hint(mut self, hint: &'static str) -> Case {
        self.hint = Some(hint);
        self
    }

    /// 1-based line and column (in characters) of the expected position.
    fn position(&self) -> (usize, usize) {
        if let Some(lc) = self.line_col {
            return lc;
        }
        let Some(snippet) = self.at else {
            return (1, 1);
        };
        let src = text(&self.src);
        let bar = snippet.find('|').unwrap_or(0);
        let needle = snippet.replace('|', "");
        let start = src
            .match_indices(&needle)
            .nth(self.nth)
            .unwrap_or_else(|| panic!("{}: `{needle}` #{} not in source", self.name, self.nth))
            .0
            + bar;
        let before = &src[..start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }
}

/// Run every case and report all that fail, not just the first.
fn check(tag: &str, cases: Vec<Case>) {
    let dir = TempDir::new(tag);
    let mut failures = Vec::new();
    for c in &cases {
        let ext = if c.src.first() == Some(&b'{') {
            "json"
        } else {
            "yaml"
        };
        let file = dir.write(&format!("{}.{ext}", c.name), &c.src);
        let out = run_file(&file, &[]);
        let err = text(&out.stderr);
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit code {:?}, expected 2", out.status.code()));
        }
        if !out.stdout.is_empty() {
            problems.push(format!("{} bytes on stdout", out.stdout.len()));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if err.matches("error:").count() != 1 {
            problems.push("not exactly one `error:`".into());
        }
        let (line, col) = c.position();
        let at = format!("{}:{line}:{col}: ", file.display());
        if !err.contains(&at) {
            problems.push(format!("no `{at}`"));
        }
        problems.extend(common::diagnostic_problems(&err, c.path, c.says, c.hint));
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{err}", c.name, problems.join("; ")));
        }
    }
    common::assert_no_failures(&failures, cases.len());
}

#[test]
fn the_base_scenario_is_valid() {
    let dir = TempDir::new("base");
    for (name, src) in [("base.yaml", BASE), ("base.json", JSON_BASE)] {
        let out = run_file(&dir.write(name, src.as_bytes()), &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn unknown_field_names_the_nearest_valid_field() {
    check(
        "unknown-field",
        vec![
            case("top_level", format!("{BASE}seeed: 7\n"))
                .at("seeed")
                .path("seeed")
                .says(&["unknown field `seeed`"])
                .hint("did you mean `seed`?"),
            case("nested", edit("      cache: ttl", "      cahce: ttl"))
                .at("cahce")
                .path("clients[0].resolver.cahce")
                .says(&["unknown field `cahce`"])
                .hint("did you mean `cache`?"),
            case(
                "in_a_statefulset",
                edit("    start_ready: true", "    startReady: true"),
            )
            .at("startReady")
            .path("statefulsets[0].startReady")
            .says(&["unknown field `startReady`"])
            .hint("did you mean `start_ready`?"),
            case(
                "deep_in_cluster",
                edit(
                    "services:\n",
                    "cluster:\n  ipam:\n    pod_cdir: 10.1.0.0/16\nservices:\n",
                ),
            )
            .at("pod_cdir")
            .path("cluster.ipam.pod_cdir")
            .hint("did you mean `pod_cidr`?"),
            case(
                "misspelt_required_field",
                edit("duration: 60s", "duraton: 60s"),
            )
            .at("duraton")
            .path("duraton")
            .says(&["unknown field `duraton`"])
            .hint("did you mean `duration`?"),
            case(
                "nothing_close_lists_the_known_fields",
                edit("    rate: 5\n", "    rate: 5\n    colour: blue\n"),
            )
            .at("colour")
            .path("clients[0].colour")
            .hint("known fields here: name, namespace, count, target, rate"),
            case("a_list_as_a_key", format!("{BASE}[a, b]: 1\n"))
                .at("[a, b]")
                .says(&["expected a field name, found a list"]),
        ],
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    check(
        "wrong-type",
        vec![
            case("word_for_a_number", edit("replicas: 3", "replicas: three"))
                .at("three")
                .path("statefulsets[0].replicas")
                .says(&["expected a whole number", "found `three`"])
                .hint("`3`"),
            case(
                "list_for_a_mapping",
                edit("    resolver:\n      cache: ttl", "    resolver: [ttl]"),
            )
            .at("[ttl]")
            .path("clients[0].resolver")
            .says(&["expected a mapping", "found a list"]),
            case(
                "mapping_for_a_string",
                edit("target: nginx:80", "target: {host: nginx, port: 80}"),
            )
            .at("{host")
            .path("clients[0].target")
            .says(&["expected a string", "found a mapping"]),
            case(
                "number_for_a_list",
                edit(
                    "    ports:\n      - {name: http, port: 80}",
                    "    ports: 80",
                ),
            )
            .at("ports: |80")
            .path("services[0].ports")
            .says(&["expected a list"]),
            case("quoted_number", edit("rate: 5", "rate: \"5\""))
                .at("\"5\"")
                .path("clients[0].rate")
                .says(&["expected a positive number"])
                .hint("remove the quotes"),
            case(
                "yes_for_a_boolean",
                edit("start_ready: true", "start_ready: yes"),
            )
            .at("yes")
            .path("statefulsets[0].start_ready")
            .says(&["expected `true` or `false`"])
            .hint("write `true`"),
            // In block YAML `]` is plain text: `3]` is a string, not a syntax error.
            case(
                "stray_bracket_in_a_number",
                edit("replicas: 3", "replicas: 3]"),
            )
            .at("3]")
            .path("statefulsets[0].replicas")
            .says(&["expected a whole number ≥ 0, found `3]`"]),
            case("fraction_for_a_count", edit("count: 2", "count: 2.5"))
                .at("2.5")
                .path("clients[0].count")
                .says(&["expected a whole number ≥ 1"]),
            case("name_not_a_dns_label", edit("name: web", "name: Web_1"))
                .at("Web_1")
                .path("statefulsets[0].name")
                .says(&["expected a DNS label"])
                .hint("`web-1`"),
            case("empty_required_value", edit("name: bad-input", "name:"))
                .at("name:")
                .path("name")
                .says(&["no value", "the scenario's name"]),
            case("missing_required_field", edit("    rate: 5\n", ""))
                .at("name: app")
                .path("clients[0]")
                .says(&["missing required field `rate`"])
                .hint("add `rate: ...`"),
            case(
                "headless_spelt_lower_case",
                edit("clusterIP: None", "clusterIP: none"),
            )
            .at("none")
            .path("services[0].clusterIP")
            .says(&["expected `None` (headless) or an IPv4 address"])
            .hint("capital N"),
            case(
                "unknown_policy",
                edit("      cache: ttl", "      cache: fixd(30s)"),
            )
            .at("fixd")
            .path("clients[0].resolver.cache")
            .says(&["expected `none`, `ttl`, `ttl(<max>)` or `fixed(<duration>)`"])
            .hint("did you mean `fixed(30s)`?"),
        ],
    );
}

#[test]
fn bad_duration_says_how_to_write_one() {
    check(
        "bad-duration",
        vec![
            case("no_unit", edit("duration: 60s", "duration: 10"))
                .at("10")
                .path("duration")
                .says(&["expected a duration", "has no unit"])
                .hint("add a unit, e.g. `10s`"),
            case("spelt_out_unit", edit("duration: 60s", "duration: 5sec"))
                .at("5sec")
                .path("duration")
                .says(&["unknown unit `sec`"])
                .hint("did you mean `5s`?"),
            case("word_unit_with_space", edit("at: 10s", "at: 10 seconds"))
                .at("10 seconds")
                .path("events[0].at")
                .hint("did you mean `10s`?"),
            case("upper_case_unit", edit("duration: 60s", "duration: 60S"))
                .at("60S")
                .hint("did you mean `60s`?"),
            case("negative", edit("at: 10s", "at: -5s"))
                .at("-5s")
                .path("events[0].at")
                .says(&["cannot be negative"]),
            case(
                "missing_last_unit",
                edit("    rate: 5\n", "    rate: 5\n    connect_timeout: 1m30\n"),
            )
            .at("1m30")
            .path("clients[0].connect_timeout")
            .says(&["has no unit"])
            .hint("units: ns, us, ms, s, m, h"),
            case("a_list", edit("duration: 60s", "duration: [60s]"))
                .at("[60s]")
                .path("duration")
                .says(&["expected a duration such as `250ms`"]),
            case(
                "bad_lifetime",
                edit(
                    "    start_ready: true\n",
                    "    start_ready: true\n    churn: {lifetime: exponential(5 min)}\n",
                ),
            )
            .at("exponential")
            .path("statefulsets[0].churn.lifetime"),
            case("event_after_the_end", edit("at: 10s", "at: 90s"))
                .at("90s")
                .path("events[0].at")
                .says(&["is not before the end of the run (1m)"])
                .hint("within `duration`"),
        ],
    );
}

#[test]
fn zero_or_negative_where_positive_is_required() {
    check(
        "not-positive",
        vec![
            case("rate_zero", edit("rate: 5", "rate: 0"))
                .at("rate: |0")
                .path("clients[0].rate")
                .says(&["must be greater than zero, found 0"]),
            case("rate_negative", edit("rate: 5", "rate: -1"))
                .at("-1")
                .path("clients[0].rate")
                .says(&["must be greater than zero, found -1"]),
            case("count_zero", edit("count: 2", "count: 0"))
                .at("count: |0")
                .path("clients[0].count")
                .says(&["must be at least 1"]),
            case("count_negative", edit("count: 2", "count: -3"))
                .at("-3")
                .path("clients[0].count")
                .says(&["expected a whole number ≥ 1"])
                .hint("cannot be negative"),
            case("duration_zero", edit("duration: 60s", "duration: 0s"))
                .at("0s")
                .path("duration")
                .says(&["must be longer than zero"]),
            case(
                "connect_timeout_zero",
                edit("    rate: 5\n", "    rate: 5\n    connect_timeout: 0ms\n"),
            )
            .at("0ms")
            .path("clients[0].connect_timeout")
            .says(&["must be longer than zero"]),
            case("replicas_negative", edit("replicas: 3", "replicas: -1"))
                .at("-1")
                .path("statefulsets[0].replicas")
                .hint("cannot be negative"),
            case("port_zero", edit("port: 80}", "port: 0}"))
                .at("port: |0")
                .path("services[0].ports[0].port")
                .says(&["a port is 1-65535, found 0"]),
            case("cache_fixed_zero", edit("cache: ttl", "cache: fixed(0s)"))
                .at("fixed(0s)")
                .path("clients[0].resolver.cache")
                .hint("write `none`"),
        ],
    );
}

#[test]
fn duplicate_names_point_at_the_second_and_name_the_first() {
    check(
        "duplicates",
        vec![
            case(
                "two_services",
                edit(
                    "statefulsets:\n",
                    "  - name: nginx\n    clusterIP: None\nstatefulsets:\n",
                ),
            )
            .at_nth("name: |nginx", 1)
            .path("services[1].name")
            .says(&[
                "duplicate Service name `nginx` in namespace `default`",
                "first declared at line 4",
            ])
            .hint("unique per namespace"),
            case(
                "two_statefulsets",
                edit(
                    "clients:\n",
                    "  - name: web\n    service: nginx\nclients:\n",
                ),
            )
            .at_nth("name: |web", 1)
            .path("statefulsets[1].name")
            .says(&[
                "duplicate StatefulSet name `web`",
                "first declared at line 10",
            ]),
            case(
                "two_client_groups",
                edit(
                    "events:\n",
                    "  - name: app\n    target: nginx:80\n    rate: 1\nevents:\n",
                ),
            )
            .at_nth("name: |app", 1)
            .path("clients[1].name")
            .says(&[
                "duplicate client group name `app`",
                "first declared at line 15",
            ])
            .hint("give each group its own name"),
            case(
                "same_key_twice",
                edit("name: bad-input\n", "name: bad-input\nname: other\n"),
            )
            .at("name: other")
            .path("name")
            .says(&["duplicate key `name`", "first written at line 1, column 1"])
            .hint("remove one of the two"),
            case(
                "same_nested_key_twice",
                edit("replicas: 3\n", "replicas: 3\n    replicas: 4\n"),
            )
            .at("replicas: 4")
            .path("statefulsets[0].replicas")
            .says(&["duplicate key `replicas`", "line 12"]),
            case(
                "same_port_twice",
                edit(
                    "{name: http, port: 80}",
                    "{name: http, port: 80}\n      - 80",
                ),
            )
            .at("- |80")
            .path("services[0].ports[1]")
            .says(&["duplicate port 80"]),
        ],
    );
}

#[test]
fn dangling_references_suggest_the_nearest_name() {
    check(
        "references",
        vec![
            case(
                "client_target",
                edit("target: nginx:80", "target: ngnix:80"),
            )
            .at("ngnix:80")
            .path("clients[0].target")
            .says(&["`ngnix` names no Service from namespace `default`"])
            .hint("did you mean the Service `nginx`?"),
            case(
                "client_target_pod_name",
                edit("target: nginx:80", "target: web-0.ngnix:80"),
            )
            .at("web-0.ngnix")
            .path("clients[0].target")
            .hint("did you mean the Service `nginx`?"),
            case(
                "client_target_in_another_namespace",
                edit("  - name: app\n", "  - name: app\n    namespace: prod\n"),
            )
            .at("nginx:80")
            .path("clients[0].target")
            .says(&["from namespace `prod`"])
            .hint("write `nginx.default:80`"),
            case(
                "client_target_port",
                edit("target: nginx:80", "target: nginx:grpc"),
            )
            .at("nginx:grpc")
            .path("clients[0].target")
            .says(&["Service `nginx` has no port `grpc`"])
            .hint("its ports: 80 (http)"),
            case(
                "statefulset_service",
                edit("service: nginx", "service: nginz"),
            )
            .at("nginz")
            .path("statefulsets[0].service")
            .says(&["no Service named `nginz` in namespace `default`"])
            .hint("did you mean `nginx`?"),
            case(
                "delete_missing_ordinal",
                edit("delete_pod: web-1", "delete_pod: web-7"),
            )
            .at("web-7")
            .path("events[0].delete_pod")
            .says(&["`web-7` never exists by 10s", "at most 3 replicas"])
            .hint("`web-0` to `web-2`"),
            case(
                "delete_misspelt_pod",
                edit("delete_pod: web-1", "delete_pod: wbe-1"),
            )
            .at("wbe-1")
            .path("events[0].delete_pod")
            .says(&["`wbe-1` is not a pod of any StatefulSet"])
            .hint("did you mean `web-1`?"),
            case(
                "delete_pod_in_another_namespace",
                edit("delete_pod: web-1", "delete_pod: prod/web-1"),
            )
            .at("prod/web-1")
            .says(&["in namespace `prod`"])
            .hint("write `default/web-1`"),
            case(
                "scale_missing_statefulset",
                edit(
                    "    delete_pod: web-1",
                    "    scale: {statefulset: webb, replicas: 5}",
                ),
            )
            .at("webb")
            .path("events[0].scale.statefulset")
            .says(&["no StatefulSet named `webb` in namespace `default`"])
            .hint("did you mean `web`?"),
        ],
    );
}

/// `BASE` with one NetworkPolicy object whose `spec` is `spec` (indented
/// six spaces).
fn with_policy(spec: &str) -> String {
    format!(
        "{BASE}objects:\n  - apiVersion: networking.k8s.io/v1\n    kind: NetworkPolicy\n    metadata: {{name: db}}\n    spec:\n{spec}"
    )
}

#[test]
fn network_policy_mistakes_point_at_the_field() {
    check(
        "netpol",
        vec![
            case(
                "unknown_spec_field",
                with_policy("      podSelectr: {}\n      policyTypes: [Ingress]\n"),
            )
            .at("podSelectr")
            .path("objects[0].spec.podSelectr")
            .says(&["unknown field `podSelectr`"])
            .hint("did you mean `podSelector`?"),
            case(
                "unknown_rule_field",
                with_policy("      ingress:\n        - form: [{podSelector: {}}]\n"),
            )
            .at("form")
            .path("objects[0].spec.ingress[0].form")
            .says(&["unknown field `form`"])
            .hint("did you mean `from`?"),
            case(
                "bad_operator",
                with_policy(
                    "      podSelector:\n        matchExpressions:\n          - {key: app, operator: Notin, values: [web]}\n",
                ),
            )
            .at("Notin")
            .path("objects[0].spec.podSelector.matchExpressions[0].operator")
            .says(&["expected an operator", "found `Notin`"])
            .hint("did you mean `NotIn`?"),
            case(
                "operator_without_values",
                with_policy(
                    "      podSelector:\n        matchExpressions:\n          - {key: app, operator: In}\n",
                ),
            )
            .at("In}")
            .path("objects[0].spec.podSelector.matchExpressions[0].operator")
            .says(&["`In` needs at least one value"])
            .hint("`Exists`"),
            case(
                "cidr_prefix_too_long",
                with_policy(
                    "      egress:\n        - to:\n            - ipBlock: {cidr: 10.0.0.0/33}\n",
                ),
            )
            .at("10.0.0.0/33")
            .path("objects[0].spec.egress[0].to[0].ipBlock.cidr")
            .says(&["expected a CIDR"])
            .hint("the prefix length is 0-32"),
            case(
                "cidr_without_prefix",
                with_policy(
                    "      egress:\n        - to:\n            - ipBlock: {cidr: 10.0.0.7}\n",
                ),
            )
            .at("10.0.0.7")
            .path("objects[0].spec.egress[0].to[0].ipBlock.cidr")
            .says(&["expected a CIDR"])
            .hint("`10.0.0.7/32`"),
            case(
                "except_outside_cidr",
                with_policy(
                    "      egress:\n        - to:\n            - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}\n",
                ),
            )
            .at("10.1.0.0/24")
            .path("objects[0].spec.egress[0].to[0].ipBlock.except[0]")
            .says(&["not a strict subset of `cidr` (10.0.0.0/16)"])
            .hint("inside `cidr`"),
            case(
                "named_port",
                with_policy("      ingress:\n        - ports: [{port: postgres}]\n"),
            )
            .at("postgres")
            .path("objects[0].spec.ingress[0].ports[0].port")
            .says(&["named port (`postgres`)"])
            .hint("write the container port's number"),
            case(
                "end_port_below_port",
                with_policy("      ingress:\n        - ports: [{port: 9000, endPort: 8000}]\n"),
            )
            .at("8000")
            .path("objects[0].spec.ingress[0].ports[0].endPort")
            .says(&["endPort 8000 is below port 9000"])
            .hint("at least `port`"),
            case(
                "listed_policy_unknown_field",
                format!(
                    "{BASE}network_policies:\n  - metadata: {{name: db}}\n    spec: {{podSelector: {{}}, polcyTypes: [Egress]}}\n"
                ),
            )
            .at("polcyTypes")
            .path("network_policies[0].spec.polcyTypes")
            .says(&["unknown field `polcyTypes`"])
            .hint("did you mean `policyTypes`?"),
        ],
    );
}

#[test]
fn empty_and_comment_only_files_say_what_a_scenario_needs() {
    check(
        "empty",
        vec![
            case("empty", "")
                .says(&["the file is empty", "`name`", "`duration`"])
                .hint("start from scenarios/web-statefulset.yaml"),
            case("comments_only", "# a scenario\n\n# to be written\n")
                .says(&["the file is empty"])
                .hint("start from"),
            case("blank_lines_only", "\n\n   \n").says(&["the file is empty"]),
            case("document_marker_only", "---\n").says(&["the file is empty"]),
            case("null_only", "~\n").says(&["the file is empty"]),
        ],
    );
}

#[test]
fn not_yaml_points_at_the_syntax_error() {
    // An executable's header: eight valid UTF-8 bytes, then 0xff.
    let elf = b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00\x3e".to_vec();
    // `é` in Latin-1 is the single byte 0xe9, which is not UTF-8.
    let latin1 = [
        b"name: caf\xe9\n".as_slice(),
        BASE.split_once('\n').unwrap().1.as_bytes(),
    ]
    .concat();
    check(
        "not-yaml",
        vec![
            case("binary_garbage", elf)
                .line_col(1, 9)
                .says(&["not UTF-8 text (byte 0xff)"])
                .hint("binary"),
            case("latin1", latin1)
                .line_col(1, 10)
                .says(&["not UTF-8 text (byte 0xe9)"])
                .hint("save the file as UTF-8"),
            case("control_characters", "name: \u{1}\u{2}\n")
                .at("\u{1}")
                .says(&["control character U+0001"]),
            case(
                "unclosed_bracket",
                edit("selector: {app: web}", "selector: {app: web"),
            )
            .at("    ports|:")
            .says(&["not valid YAML"])
            .hint("the `{` at line 6, column 15 is never closed; close it with `}`"),
            case("unclosed_json", "{\"name\": \"x\", \"duration\": \"60s\"\n")
                .says(&["not valid YAML", "unclosed"]),
            case(
                "stray_closing_bracket",
                edit("selector: {app: web}", "selector: {app: web}}"),
            )
            .at("web}|}")
            .says(&["not valid YAML"]),
            case("tab_indentation", edit("    rate: 5", "\trate: 5"))
                .at("\trate")
                .says(&["a tab in the indentation"])
                .hint("replace the tab with spaces"),
            case(
                "unquoted_colon",
                edit("name: bad-input", "name: bad: input"),
            )
            .at("bad|: input")
            .says(&["not valid YAML"])
            .hint("`name: \"bad: input\"`"),
            case("second_document", format!("{BASE}---\nname: again\n"))
                .at("---")
                .says(&["a second YAML document"])
                .hint("remove the `---` line"),
            case("prose", "This is not a scenario, it is a sentence.\n")
                .says(&["expected a scenario", "found `This is not a scenario"])
                .hint("is this a scenario file?"),
            case("a_list", "- name: x\n- duration: 60s\n")
                .says(&["expected a scenario", "found a list"]),
        ],
    );
}

#[test]
fn json_input_errors_have_line_and_column() {
    check(
        "json",
        vec![
            case(
                "zero_rate",
                edit_of(JSON_BASE, "\"rate\": 5", "\"rate\": 0"),
            )
            .at("\"rate\": |0")
            .path("clients[0].rate")
            .says(&["must be greater than zero"]),
            case(
                "misspelt_field",
                edit_of(
                    JSON_BASE,
                    "\"target\": \"nginx:80\"",
                    "\"tagret\": \"nginx:80\"",
                ),
            )
            .at("\"tagret\"")
            .path("clients[0].tagret")
            .hint("did you mean `target`?"),
            case(
                "duration_without_unit",
                edit_of(JSON_BASE, "\"duration\": \"60s\"", "\"duration\": 60"),
            )
            .at("\"duration\": |60")
            .path("duration")
            .hint("add a unit, e.g. `60s`"),
            case(
                "duplicate_key",
                edit_of(
                    JSON_BASE,
                    "\"name\": \"json-input\",",
                    "\"name\": \"a\", \"name\": \"b\",",
                ),
            )
            .at_nth("\"name\"", 1)
            .path("name")
            .says(&["duplicate key `name`", "line 2, column 3"]),
            case(
                "trailing_comma_missing",
                edit_of(JSON_BASE, "\"duration\": \"60s\",", "\"duration\": \"60s\""),
            )
            .at("  |\"services\"")
            .says(&["not valid YAML"]),
            case(
                "dangling_target",
                edit_of(JSON_BASE, "\"nginx:80\"", "\"nginy:80\""),
            )
            .at("\"nginy:80\"")
            .path("clients[0].target")
            .hint("did you mean the Service `nginx`?"),
        ],
    );
}

#[test]
fn absurd_sizes_are_refused_before_running() {
    check(
        "limits",
        vec![
            case("rate_beyond_any_run", edit("rate: 5", "rate: 1e9"))
                .at("1e9")
                .path("clients[0].rate")
                .says(&["requests", "ksim runs at most 1e9"])
                .hint("lower `rate` or `count`"),
            // Faster than one request per nanosecond: the gaps would round
            // to zero and time would stand still.
            case("rate_beyond_the_clock", edit("rate: 5", "rate: 1e300"))
                .at("1e300")
                .path("clients[0].rate")
                .says(&["at most 1e9 requests per second per client", "nanosecond"])
                .hint("raise `count` instead"),
            case("rate_overflowing_a_float", edit("rate: 5", "rate: 1e400"))
                .at("1e400")
                .path("clients[0].rate")
                .says(&["too large", "finite positive number"]),
            case("count_beyond_memory", edit("count: 2", "count: 4294967295"))
                .at("4294967295")
                .path("clients[0].count")
                .says(&["ksim simulates at most 1000000"]),
            case(
                "replicas_beyond_a_u32",
                edit("replicas: 3", "replicas: 99999999999999999999"),
            )
            .at("99999999999999999999")
            .path("statefulsets[0].replicas")
            .says(&["too large"]),
            case(
                "replicas_beyond_ksim",
                edit("replicas: 3", "replicas: 4294967295"),
            )
            .at("4294967295")
            .path("statefulsets[0].replicas")
            .says(&["at most 100000 pods"]),
            case(
                "replicas_beyond_the_pod_cidr",
                edit("replicas: 3", "replicas: 70000"),
            )
            .at("70000")
            .path("statefulsets[0].replicas")
            .says(&["more pod IPs than the pod CIDR 10.244.0.0/16 has (65534)"])
            .hint("widen `cluster.ipam.pod_cidr` to a /15"),
            case(
                "scale_beyond_ksim",
                edit(
                    "    delete_pod: web-1",
                    "    scale: {statefulset: web, replicas: 4294967295}",
                ),
            )
            .at("4294967295")
            .path("events[0].scale.replicas")
            .says(&["at most 100000 pods"]),
            case(
                "duration_beyond_a_week",
                edit("duration: 60s", "duration: 5000000h"),
            )
            .at("5000000h")
            .path("duration")
            .says(&["at most 168h (one week)"]),
            case(
                "duration_beyond_the_clock",
                edit("duration: 60s", "duration: 99999999999h"),
            )
            .at("99999999999h")
            .path("duration")
            .says(&["too long"]),
            case(
                "seed_beyond_a_u64",
                edit(
                    "name: bad-input\n",
                    "name: bad-input\nseed: 18446744073709551616\n",
                ),
            )
            .at("18446744073709551616")
            .path("seed")
            .says(&["too large (at most 18446744073709551615)"]),
        ],
    );
}

/// A run that fails part-way (the pod CIDR runs out) still names the field.
#[test]
fn run_errors_point_at_the_field_they_concern() {
    let src = edit(
        "services:\n",
        "cluster:\n  ipam:\n    pod_cidr: 10.1.0.0/29\nservices:\n",
    );
    let src = edit_of(
        &src,
        "    start_ready: true\n",
        "    start_ready: true\n    lifecycle: {startup: 1s, drain: 0s, teardown: 0s}\n    churn: {lifetime: fixed(1s)}\n",
    );
    let dir = TempDir::new("run-error");
    let file = dir.write("exhausted.yaml", src.as_bytes());
    let out = run_file(
        &file,
        &["--out", dir.0.join("report.json").to_str().unwrap()],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains(&format!("{}:5:15: cluster.ipam.pod_cidr: ", file.display())),
        "{err}"
    );
    assert!(err.contains("ran out of addresses"), "{err}");
    assert_eq!(dir.entries(), ["exhausted.yaml"], "no report, no temp file");
}

#[test]
fn a_missing_or_unreadable_scenario_is_exit_2() {
    let dir = TempDir::new("missing");
    let missing = dir.0.join("nope.yaml");
    for path in [missing.as_path(), dir.0.as_path()] {
        let out = run_file(path, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(out.stdout.is_empty());
        assert!(
            err.starts_with(&format!("error: cannot read {}", path.display())),
            "{err}"
        );
    }
}

/// Usage errors come from clap, which also exits 2.
#[test]
fn bad_flags_are_exit_2_and_name_the_flag() {
    let dir = TempDir::new("flags");
    let file = dir.write("ok.yaml", BASE.as_bytes());
    let f = file.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["run", f, "--seed", "abc"], "--seed"),
        (&["run", f, "--seed", "-1"], "-1"),
        (&["run", f, "--seed", "18446744073709551616"], "--seed"),
        (&["run", f, "--seed"], "--seed"),
        (&["run", f, "--window", "10"], "has no unit"),
        (&["run", f, "--window", "5sec"], "--window"),
        (&["run", f, "--window", "0s"], "longer than zero"),
        (&["run", f, "--format", "xml"], "--format"),
        (&["run", f, "--colour"], "--colour"),
        (&["run"], "<FILE>"),
        (&["walk", f], "walk"),
        (&[], "Usage"),
    ];
    for (args, says) in cases {
        let out = ksim(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(err.contains(says), "{args:?} should say `{says}`: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_window_that_splits_the_run_too_finely_is_refused() {
    let dir = TempDir::new("window");
    let file = dir.write("ok.yaml", BASE.as_bytes());
    let out = run_file(&file, &["--window", "1ns"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("--window 1ns splits the 1m run into 60000000000 windows"),
        "{err}"
    );
    assert!(err.contains("hint: use --window 1s or longer"), "{err}");
}

#[test]
fn out_to_an_unwritable_path_fails_and_leaves_no_file() {
    let dir = TempDir::new("out");
    let file = dir.write("ok.yaml", BASE.as_bytes());
    let sub = dir.0.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let cases = [
        (dir.0.join("no/such/dir/report.json"), "does not exist"),
        (sub.clone(), "is a directory"),
        (file.join("report.json"), "is not a directory"),
        (file.clone(), "is the scenario file itself"),
        // Nobody may create files in /proc, not even root.
        (PathBuf::from("/proc/ksim-report.json"), "cannot write"),
    ];
    for (out_path, says) in cases {
        let out = run_file(&file, &["--out", out_path.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", out_path.display());
        assert!(out.stdout.is_empty());
        assert!(
            err.contains(says),
            "{} should say `{says}`: {err}",
            out_path.display()
        );
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        BASE,
        "scenario intact"
    );
    assert_eq!(dir.entries(), ["ok.yaml", "sub"]);
    assert!(std::fs::read_dir(&sub).unwrap().next().is_none());
    assert!(!Path::new("/proc/ksim-report.json").exists());
}

/// A bad scenario never touches the report file: an old report stays whole.
#[test]
fn bad_input_leaves_an_existing_report_untouched() {
    let dir = TempDir::new("keep");
    let file = dir.write("bad.yaml", edit("rate: 5", "rate: 0").as_bytes());
    let report = dir.write("report.json", b"old report\n");
    let out = run_file(
        &file,
        &["--format", "json", "--out", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&report).unwrap(), b"old report\n");
    assert_eq!(dir.entries(), ["bad.yaml", "report.json"]);
}

/// Run with a time limit: a hang is a failure too.
fn run_bounded(path: &Path) -> Output {
    use std::io::Read;
    let mut child = Command::new(KSIM)
        .args(["run", path.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn ksim");
    // Drain both pipes while waiting, or a large report would block the child.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    // Poll every 5 ms for at most 60 s (counted in polls: no wall clock).
    let mut polls = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        polls += 1;
        if polls > 12_000 {
            let _ = child.kill();
            panic!("{} did not finish within 60 s", path.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Hostile and odd inputs: each is refused with exit 2 and one message, or
/// (when it is in fact valid) runs with exit 0. Never a panic, never a hang,
/// never a message as long as the input.
#[test]
fn nasty_inputs_never_panic() {
    let deep_block: String = (0..2000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    let long = "x".repeat(200_000);
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = format!("*a{}", i - 1);
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![p; 10].join(", ")));
    }
    let storm = edit(
        "    start_ready: true\n",
        "    start_ready: true\n    lifecycle: {startup: 0s, drain: 0s, teardown: 0s}\n    churn: {lifetime: fixed(1ns)}\n",
    );
    let merged = edit_of(
        &edit(
            "clients:\n  - name: app\n",
            "clients:\n  - &base\n    name: app\n",
        ),
        "events:\n",
        "  - <<: *base\n    name: app2\nevents:\n",
    );
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        (
            "deep_flow_lists",
            format!(
                "name: x\nduration: 1s\nclients: {}{}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )
            .into(),
            2,
        ),
        (
            "deep_flow_maps",
            format!("a: {}1{}", "{a: ".repeat(5_000), "}".repeat(5_000)).into(),
            2,
        ),
        ("deep_block_maps", deep_block.into(), 2),
        ("alias_bomb", bomb.into(), 2),
        ("unknown_alias", edit("rate: 5", "rate: *nope").into(), 2),
        (
            "merge_of_a_scalar",
            edit("    rate: 5\n", "    rate: 5\n    <<: 7\n").into(),
            2,
        ),
        ("merge_keys_are_fine", merged.into(), 0),
        (
            "huge_replicas",
            edit("replicas: 3", "replicas: 99999999999999999999").into(),
            2,
        ),
        (
            "replicas_u32_plus_one",
            edit("replicas: 3", "replicas: 4294967296").into(),
            2,
        ),
        ("rate_1e400", edit("rate: 5", "rate: 1e400").into(), 2),
        ("rate_NaN", edit("rate: 5", "rate: NaN").into(), 2),
        ("rate_nan", edit("rate: 5", "rate: nan").into(), 2),
        ("rate_dot_nan", edit("rate: 5", "rate: .nan").into(), 2),
        ("rate_dot_inf", edit("rate: 5", "rate: .inf").into(), 2),
        ("rate_inf", edit("rate: 5", "rate: inf").into(), 2),
        ("rate_minus_inf", edit("rate: 5", "rate: -inf").into(), 2),
        ("rate_hex", edit("rate: 5", "rate: 0x10").into(), 2),
        (
            "rate_tiny_is_valid",
            edit("rate: 5", "rate: 1e-300").into(),
            0,
        ),
        (
            "rate_with_underscores_is_valid",
            edit("rate: 5", "rate: 1_0").into(),
            0,
        ),
        (
            "unicode_scenario_name_is_valid",
            edit("name: bad-input", "name: tëst ☃ 日本 🚀").into(),
            0,
        ),
        (
            "unicode_service_name",
            edit("- name: nginx", "- name: ngïnx").into(),
            2,
        ),
        (
            "unicode_key",
            edit("name: bad-input", "nâme: bad-input").into(),
            2,
        ),
        (
            "zero_width_space_in_target",
            edit("target: nginx:80", "target: ngi\u{200b}nx:80").into(),
            2,
        ),
        (
            "right_to_left_override",
            edit("name: bad-input", "name: \u{202e}tupni-dab").into(),
            0,
        ),
        (
            "tab_indentation",
            edit("    rate: 5", "\trate: 5").into(),
            2,
        ),
        (
            "tab_after_colon_is_valid",
            edit("rate: 5", "rate:\t5").into(),
            0,
        ),
        (
            "tab_in_quoted_name_is_valid",
            edit("name: bad-input", "name: \"bad\tinput\"").into(),
            0,
        ),
        (
            "very_long_name_is_valid",
            edit("name: bad-input", &format!("name: {long}")).into(),
            0,
        ),
        (
            "very_long_unknown_value",
            format!("{BASE}extra: {long}\n").into(),
            2,
        ),
        (
            "very_long_unknown_key",
            format!("{BASE}{long}: 1\n").into(),
            2,
        ),
        (
            "very_long_target",
            edit("target: nginx:80", &format!("target: {long}:80")).into(),
            2,
        ),
        (
            "very_long_service_name",
            edit("- name: nginx", &format!("- name: {long}")).into(),
            2,
        ),
        (
            "seed_minus_one",
            edit("name: bad-input\n", "name: bad-input\nseed: -1\n").into(),
            2,
        ),
        (
            "seed_max_is_valid",
            edit(
                "name: bad-input\n",
                "name: bad-input\nseed: 18446744073709551615\n",
            )
            .into(),
            0,
        ),
        (
            "seed_fraction",
            edit("name: bad-input\n", "name: bad-input\nseed: 1.5\n").into(),
            2,
        ),
        (
            "seed_quoted",
            edit("name: bad-input\n", "name: bad-input\nseed: \"7\"\n").into(),
            2,
        ),
        (
            "event_with_two_actions",
            edit(
                "    delete_pod: web-1\n",
                "    delete_pod: web-1\n    scale: {statefulset: web, replicas: 5}\n",
            )
            .into(),
            2,
        ),
        (
            "event_with_no_action",
            edit("    delete_pod: web-1\n", "").into(),
            2,
        ),
        ("event_after_the_end", edit("at: 10s", "at: 90s").into(), 2),
        ("event_at_the_end", edit("at: 10s", "at: 60s").into(), 2),
        (
            "event_at_zero_is_valid",
            edit("at: 10s", "at: 0s").into(),
            0,
        ),
        (
            "events_not_a_list",
            edit("  - at: 10s\n    delete_pod: web-1\n", "  at: 10s\n").into(),
            2,
        ),
        (
            "delete_pod_empty",
            edit("delete_pod: web-1", "delete_pod: \"\"").into(),
            2,
        ),
        (
            "delete_pod_slash",
            edit("delete_pod: web-1", "delete_pod: /").into(),
            2,
        ),
        (
            "delete_pod_leading_zero",
            edit("delete_pod: web-1", "delete_pod: web-01").into(),
            2,
        ),
        (
            "delete_pod_huge_ordinal",
            edit("delete_pod: web-1", "delete_pod: web-4294967296").into(),
            2,
        ),
        (
            "delete_pod_with_namespace_is_valid",
            edit("delete_pod: web-1", "delete_pod: default/web-1").into(),
            0,
        ),
        (
            "scale_to_zero_is_valid",
            edit(
                "    delete_pod: web-1",
                "    scale: {statefulset: web, replicas: 0}",
            )
            .into(),
            0,
        ),
        ("bom_is_valid", format!("\u{feff}{BASE}").into(), 0),
        ("crlf_is_valid", BASE.replace('\n', "\r\n").into(), 0),
        (
            "nul_byte",
            edit("name: bad-input", "name: bad\u{0}input").into(),
            2,
        ),
        (
            "escape_sequence_in_unknown_key",
            format!("{BASE}\u{1b}[2J: 1\n").into(),
            2,
        ),
        ("complex_key", format!("{BASE}? [a, b]\n: 1\n").into(), 2),
        ("empty_key", format!("{BASE}: 1\n").into(), 2),
        (
            "yaml_tags_are_ignored",
            edit("rate: 5", "rate: !!float 5").into(),
            0,
        ),
        ("just_a_number", "42\n".into(), 2),
        ("just_a_quoted_string", "\"name: x\"\n".into(), 2),
        (
            "duration_decimal_is_valid",
            edit("duration: 60s", "duration: 60.5s").into(),
            0,
        ),
        (
            "duration_exponent",
            edit("duration: 60s", "duration: 1e3s").into(),
            2,
        ),
        (
            "duration_max_ns",
            edit("duration: 60s", "duration: 18446744073709551615ns").into(),
            2,
        ),
        (
            "duration_overflowing",
            edit("duration: 60s", "duration: 18446744073709551616ns").into(),
            2,
        ),
        (
            "clients_a_mapping",
            edit("clients:\n", "clients: {}\nx:\n").into(),
            2,
        ),
        (
            "port_too_large",
            edit("port: 80}", "port: 65536}").into(),
            2,
        ),
        (
            "target_port_too_large",
            edit("target: nginx:80", "target: nginx:99999").into(),
            2,
        ),
        (
            "target_no_host",
            edit("target: nginx:80", "target: \":80\"").into(),
            2,
        ),
        (
            "target_no_port",
            edit("target: nginx:80", "target: nginx").into(),
            2,
        ),
        (
            "target_empty_port",
            edit("target: nginx:80", "target: \"nginx:\"").into(),
            2,
        ),
        (
            "target_port_zero",
            edit("target: nginx:80", "target: nginx:0").into(),
            2,
        ),
        (
            "target_port_name_is_valid",
            edit("target: nginx:80", "target: nginx:http").into(),
            0,
        ),
        (
            "dns_ttl_too_long",
            edit("services:\n", "dns: {ttl: 3601s}\nservices:\n").into(),
            2,
        ),
        (
            "dns_ttl_fraction",
            edit("services:\n", "dns: {ttl: 1.5s}\nservices:\n").into(),
            2,
        ),
        (
            "pod_cidr_host_bits",
            edit(
                "services:\n",
                "cluster: {ipam: {pod_cidr: 10.244.0.1/16}}\nservices:\n",
            )
            .into(),
            2,
        ),
        (
            "pod_cidr_slash_33",
            edit(
                "services:\n",
                "cluster: {ipam: {pod_cidr: 10.244.0.0/33}}\nservices:\n",
            )
            .into(),
            2,
        ),
        (
            "pod_cidr_bad_ip",
            edit(
                "services:\n",
                "cluster: {ipam: {pod_cidr: 999.1.1.0/24}}\nservices:\n",
            )
            .into(),
            2,
        ),
        (
            "pod_cidr_overlaps_services",
            edit(
                "services:\n",
                "cluster: {ipam: {pod_cidr: 10.96.0.0/16}}\nservices:\n",
            )
            .into(),
            2,
        ),
        (
            "cache_fixed_unclosed",
            edit("cache: ttl", "cache: fixed(30s").into(),
            2,
        ),
        (
            "cache_fixed_empty",
            edit("cache: ttl", "cache: fixed()").into(),
            2,
        ),
        (
            // `ttl(<max>)` caps the TTL (systemd-resolved's 2 h): valid.
            "cache_ttl_with_argument",
            edit("cache: ttl", "cache: ttl(5s)").into(),
            0,
        ),
        (
            "lifetime_zero",
            edit(
                "    start_ready: true\n",
                "    start_ready: true\n    churn: {lifetime: exponential(0s)}\n",
            )
            .into(),
            2,
        ),
        (
            "lifetime_without_mean",
            edit(
                "    start_ready: true\n",
                "    start_ready: true\n    churn: {lifetime: exponential}\n",
            )
            .into(),
            2,
        ),
        (
            "unassigned_ip_bad_delay",
            edit(
                "services:\n",
                "cluster: {unassigned_ip: unreachable(abc)}\nservices:\n",
            )
            .into(),
            2,
        ),
        (
            "unassigned_ip_timeout_argument",
            edit(
                "services:\n",
                "cluster: {unassigned_ip: timeout(5s)}\nservices:\n",
            )
            .into(),
            2,
        ),
        // Pods replaced every nanosecond exhaust the pod CIDR: a run error.
        ("churn_storm", storm.into(), 2),
        (
            "clients_over_the_limit",
            edit("count: 2", "count: 1000001").into(),
            2,
        ),
    ];
    let dir = TempDir::new("nasty");
    let mut failures = Vec::new();
    for (name, src, want) in &cases {
        let file = dir.write(&format!("{name}.yaml"), src);
        let out = run_bounded(&file);
        let err = text(&out.stderr);
        let code = out.status.code();
        let mut problems = Vec::new();
        if code != Some(*want) {
            problems.push(format!("exit {code:?}, expected {want}"));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if code == Some(2) {
            if !out.stdout.is_empty() {
                problems.push("output on stdout".into());
            }
            if !err.starts_with("error: ") || err.matches("error:").count() != 1 {
                problems.push("not one `error:` message".into());
            }
            if err.len() > 2_000 {
                problems.push(format!("a {}-byte message", err.len()));
            }
        } else if code == Some(0) && out.stdout.is_empty() {
            problems.push("no report".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n{}",
                problems.join("; "),
                &err[..err.len().min(600)]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn traffic_settings_say_what_they_take() {
    check(
        "traffic",
        vec![
            case(
                "balancer_typo",
                edit("    rate: 5\n", "    rate: 5\n    balancer: least-requests\n"),
            )
            .at("least-requests")
            .path("clients[0].balancer")
            .says(&["expected a balancer", "found `least-requests`"])
            .hint("did you mean `least-request`?"),
            case(
                "balancer_argument",
                edit("    rate: 5\n", "    rate: 5\n    balancer: least-request(1)\n"),
            )
            .at("least-request(1)")
            .path("clients[0].balancer")
            .says(&["`least-request` takes", "found `1`"]),
            case(
                "hash_on",
                edit("    rate: 5\n", "    rate: 5\n    balancer: maglev(header)\n"),
            )
            .at("maglev(header)")
            .path("clients[0].balancer")
            .says(&["`client` or `request`", "found `header`"]),
            case(
                "retry_on",
                edit(
                    "    rate: 5\n",
                    "    rate: 5\n    retries: {attempts: 2, retry_on: [connect_failure]}\n",
                ),
            )
            .at("connect_failure")
            .path("clients[0].retries.retry_on[0]")
            .says(&["expected a retry condition", "found `connect_failure`"])
            .hint("did you mean `connect-failure`?"),
            case(
                "too_many_retries",
                edit("    rate: 5\n", "    rate: 5\n    retries: {attempts: 50}\n"),
            )
            .at("50")
            .path("clients[0].retries.attempts")
            .says(&["at most 10 retries"]),
            case(
                "retry_field",
                edit("    rate: 5\n", "    rate: 5\n    retries: {atempts: 2}\n"),
            )
            .at("atempts")
            .path("clients[0].retries.atempts")
            .says(&["unknown field `atempts`"])
            .hint("did you mean `attempts`?"),
            case(
                "pool_word",
                edit("    rate: 5\n", "    rate: 5\n    connections: keepalive\n"),
            )
            .at("keepalive")
            .path("clients[0].connections")
            .says(&["expected `per_request`, `pool`", "found `keepalive`"]),
            case(
                "pool_jitter",
                edit(
                    "    rate: 5\n",
                    "    rate: 5\n    connections: {pool: {max_age: 5m, max_age_jitter: 1.5}}\n",
                ),
            )
            .at("1.5")
            .path("clients[0].connections.pool.max_age_jitter")
            .says(&["a fraction from 0 to below 1", "found `1.5`"])
            .hint("gRPC uses 0.1"),
            case(
                "service_time_unit",
                edit(
                    "    start_ready: true\n",
                    "    start_ready: true\n    capacity: {workers: 4, service_time: exponential(5)}\n",
                ),
            )
            .at("exponential(5)")
            .path("statefulsets[0].capacity.service_time")
            .says(&["`5` has no unit"]),
            case(
                "service_time_name",
                edit(
                    "    start_ready: true\n",
                    "    start_ready: true\n    capacity: {service_time: exponentail(5ms)}\n",
                ),
            )
            .at("exponentail(5ms)")
            .path("statefulsets[0].capacity.service_time")
            .says(&["found `exponentail(5ms)`"])
            .hint("did you mean `exponential(...)`?"),
            case(
                "service_time_missing",
                edit(
                    "    start_ready: true\n",
                    "    start_ready: true\n    capacity: {workers: 4}\n",
                ),
            )
            .at("{workers")
            .path("statefulsets[0].capacity")
            .says(&["service_time"]),
            case(
                "lognormal_sigma",
                edit(
                    "    start_ready: true\n",
                    "    start_ready: true\n    capacity: {service_time: 'lognormal(5ms, -1)'}\n",
                ),
            )
            .at("'lognormal")
            .path("statefulsets[0].capacity.service_time")
            .says(&["sigma must be a number from 0 to 10", "found `-1`"]),
        ],
    );
}

#[test]
fn mesh_settings_point_at_the_field() {
    check(
        "mesh",
        vec![
            case("mtls_mode", format!("{BASE}mesh: {{mtls: strict}}\n"))
                .at("strict")
                .path("mesh.mtls")
                .says(&["expected a PeerAuthentication mode", "found `strict`"])
                .hint("did you mean `STRICT`?"),
            case(
                "rule_host",
                format!("{BASE}mesh:\n  destination_rules:\n    - {{name: r, host: ngnix}}\n"),
            )
            .at("ngnix")
            .path("mesh.destination_rules[0].host")
            .says(&["no Service `ngnix`"])
            .hint("did you mean `nginx`?"),
            case(
                "rule_balancer",
                format!(
                    "{BASE}mesh:\n  destination_rules:\n    - {{name: r, host: nginx, trafficPolicy: {{loadBalancer: {{simple: LEAST_REQUESTS}}}}}}\n"
                ),
            )
            .at("LEAST_REQUESTS")
            .path("mesh.destination_rules[0].trafficPolicy.loadBalancer.simple")
            .says(&["expected a load balancer", "found `LEAST_REQUESTS`"])
            .hint("did you mean `LEAST_REQUEST`?"),
            case(
                "outlier_field",
                format!(
                    "{BASE}mesh:\n  destination_rules:\n    - {{name: r, host: nginx, trafficPolicy: {{outlierDetection: {{consecutiveErrors: 5}}}}}}\n"
                ),
            )
            .at("consecutiveErrors")
            .path("mesh.destination_rules[0].trafficPolicy.outlierDetection.consecutiveErrors")
            .says(&["unknown field `consecutiveErrors`"])
            .hint("did you mean `consecutive5xxErrors`?"),
            case(
                "entry_without_node_port",
                edit("    rate: 5\n", "    rate: 5\n    entry: node_port\n"),
            )
            .at("node_port")
            .path("clients[0].entry")
            .says(&["needs a Service of type NodePort or LoadBalancer"])
            .hint("set `type: NodePort`"),
            case("sidecar_type", edit("    rate: 5\n", "    rate: 5\n    sidecar: maybe\n"))
                .at("maybe")
                .path("clients[0].sidecar"),
        ],
    );
}

/// `BASE` plus a fleet of three shards; the cases edit the fleet.
fn fleet(from: &str, to: &str) -> String {
    const FLEET: &str = "\
fleets:
  - count: 3
    services:
      - {name: \"db-{i}\", clusterIP: None, selector: {app: \"db-{i}\"}, ports: [5432]}
    statefulsets:
      - {name: \"db-{i}\", service: \"db-{i}\", replicas: 2, labels: {app: \"db-{i}\"}}
    clients:
      - {name: \"app-{i}\", target: \"db-{i}:5432\", rate: 1}
";
    format!("{BASE}{}", edit_of(FLEET, from, to))
}

#[test]
fn a_fleet_is_valid_and_its_mistakes_point_at_the_template() {
    let dir = TempDir::new("fleet-ok");
    let out = run_file(
        &dir.write("ok.yaml", fleet("count: 3", "count: 3").as_bytes()),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    check(
        "fleet",
        vec![
            case("unknown_placeholder", fleet("\"app-{i}\"", "\"app-{n}\""))
                .at("\"app-{n}\"")
                .path("fleets[0].clients[0].name")
                .says(&["unknown placeholder `{n}`"])
                .hint("`{i}` (the copy index)"),
            case("unclosed_brace", fleet("\"db-{i}:5432\"", "\"db-{i:5432\""))
                .at("\"db-{i:5432\"")
                .path("fleets[0].clients[0].target")
                .says(&["an unclosed `{` in `db-{i:5432`"])
                .hint("write `{{` for a literal `{`"),
            case("stray_brace", fleet("\"app-{i}\"", "\"app-i}\""))
                .at("\"app-i}\"")
                .path("fleets[0].clients[0].name")
                .says(&["a `}` with no `{`"])
                .hint("write `}}`"),
            case(
                "placeholder_read_as_a_mapping",
                fleet(
                    "      - {name: \"app-{i}\", target: \"db-{i}:5432\", rate: 1}\n",
                    "      - name: {i}\n        target: \"db-{i}:5432\"\n        rate: 1\n",
                ),
            )
            .at("{i}\n")
            .path("fleets[0].clients[0].name")
            .says(&["`{i}` here is a YAML mapping"])
            .hint("quote the value"),
            case("copies_share_a_name", fleet("\"app-{i}\"", "app"))
                .at("app, target")
                .path("fleets[0].clients[0].name")
                .says(&["all 3 copies would be named `app`"])
                .hint("`\"app-{i}\"`"),
            case(
                "unknown_fleet_field",
                fleet("    clients:\n", "    client:\n"),
            )
            .at("client:")
            .path("fleets[0].client")
            .says(&["unknown field `client` in a fleet"])
            .hint("did you mean `clients`?"),
            case("zero_copies", fleet("count: 3", "count: 0"))
                .at("count: |0")
                .path("fleets[0].count")
                .says(&["expected a whole number from 1"]),
            case("too_many_nodes", fleet("count: 3", "count: 90000"))
                .at("90000")
                .path("fleets[0].count")
                .says(&["the fleets expand to more than 1000000 YAML nodes"])
                .hint("fewer copies"),
            // A mistake the scenario reader finds in a copy: the template's
            // position and path, and which copy.
            case("error_in_a_copy", fleet("rate: 1}", "rate: -1}"))
                .at("-1}")
                .path("fleets[0].clients[0].rate")
                .says(&["(in the copy with i = 0)"]),
            case(
                "copy_names_no_service",
                fleet("\"db-{i}:5432\"", "\"dbx-{i}:5432\""),
            )
            .at("\"dbx-{i}:5432\"")
            .path("fleets[0].clients[0].target")
            .says(&["(in the copy with i = 0)"]),
        ],
    );
}
