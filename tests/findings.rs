//! Findings after a run: each misconfiguration the shipped scenarios
//! reproduce is named with its code, the group and objects involved and the
//! share of failures it explains; healthy scenarios have no warning or
//! error findings; and a finding comes only from failures the run saw.

use std::path::Path;

use sim_core::diagnose::Finding;
use sim_core::scenario::{Scenario, parse_with};

fn scenario_file(name: &str) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let src = std::fs::read_to_string(dir.join(name)).unwrap();
    parse_with(&src, &|p| {
        std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|d| panic!("{name}: {d}"))
}

fn findings_of(sc: &Scenario) -> Vec<Finding> {
    let opts = sim_core::RunOptions {
        seed: None,
        window: None,
    };
    sim_core::run(sc, &opts).expect("runs").findings
}

/// The findings of `code` for `group`.
fn of<'f>(f: &'f [Finding], code: &str, group: &str) -> Vec<&'f Finding> {
    f.iter()
        .filter(|x| x.code == code && x.group.as_deref() == Some(group))
        .collect()
}

#[test]
fn each_mesh_scenario_s_cause_is_found_for_the_broken_group_only() {
    let cases = [
        (
            "mesh-dns-misconfigured.yaml",
            "KS007",
            vec!["dnspolicy-default", "own-nameserver"],
        ),
        (
            "mesh-domain-mismatch.yaml",
            "KS006",
            vec!["peers-cluster-local"],
        ),
        ("mesh-namespace-not-injected.yaml", "KS004", vec!["reports"]),
        ("mesh-netpol-blocks-istiod.yaml", "KS008", vec!["checkout"]),
        ("mesh-service-not-discovered.yaml", "KS009", vec!["to-data"]),
        (
            "mesh-service-not-headless.yaml",
            "KS005",
            vec!["peers-broken"],
        ),
        ("netpol-blocks-pod-traffic.yaml", "KS003", vec!["reports"]),
    ];
    for (file, code, groups) in cases {
        let sc = scenario_file(file);
        let f = findings_of(&sc);
        for g in &groups {
            let hit = of(&f, code, g);
            assert_eq!(hit.len(), 1, "{file}: {code} for {g} in {f:#?}");
            assert_eq!(hit[0].severity, sim_core::diagnose::Severity::Error);
            assert!(!hit[0].objects.is_empty(), "{file}: objects named");
        }
        // The cause explains (nearly) every failure of the scenario.
        let explained: f64 = f.iter().filter(|x| x.code == code).map(|x| x.share).sum();
        assert!(explained > 0.95, "{file}: {code} explains {explained}");
        // No other group is blamed for this cause.
        assert!(
            f.iter()
                .filter(|x| x.code == code)
                .all(|x| groups.contains(&x.group.as_deref().unwrap())),
            "{file}: {f:#?}"
        );
    }
}

#[test]
fn healthy_shipped_scenarios_have_no_warning_or_error_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .filter(|n| !n.starts_with("mesh-") && !n.starts_with("netpol-"))
        // The two big ones are covered by their own tests and benches.
        .filter(|n| n != "canonical-churn.yaml" && n != "service-farm.yaml")
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for n in names {
        let f = findings_of(&scenario_file(&n));
        let bad: Vec<&Finding> = f
            .iter()
            .filter(|x| x.severity > sim_core::diagnose::Severity::Info)
            .collect();
        assert!(bad.is_empty(), "{n}: {bad:#?}");
        // Churn stories may have the stale-IP summary (info), nothing else.
        assert!(f.iter().all(|x| x.code == "KS012"), "{n}: {f:#?}");
    }
}

const APP: &str = "name: t\nduration: 20s\n";

fn parse(src: &str) -> Scenario {
    sim_core::scenario::parse(src).unwrap_or_else(|d| panic!("{d}\n{src}"))
}

#[test]
fn a_selector_that_matches_no_pod_is_named_with_the_labels_there_are() {
    // The seed tutorial's mistake: `app: my-app` selects nothing; the pods are `app: web`.
    let sc = parse(&format!(
        "{APP}services: [{{name: web, selector: {{app: my-app}}, ports: [{{port: 80}}]}}]\n\
         deployments: [{{name: web, replicas: 2, labels: {{app: web}}, ports: [80]}}]\n\
         clients: [{{name: app, count: 4, target: 'web:80', rate: 20}}]\n"
    ));
    let f = findings_of(&sc);
    let hit = of(&f, "KS001", "app");
    assert_eq!(hit.len(), 1, "{f:#?}");
    assert!(
        hit[0]
            .message
            .starts_with("100 % of client group app's attempts failed"),
        "{}",
        hit[0].message
    );
    assert!(
        hit[0].message.contains("app=my-app") && hit[0].message.contains("app=web"),
        "{}",
        hit[0].message
    );
    assert_eq!(hit[0].objects[0].line, Some(3), "the Service's line");
}

#[test]
fn a_target_port_no_pod_listens_on_is_found() {
    let sc = parse(&format!(
        "{APP}services: [{{name: web, selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}]\n\
         deployments: [{{name: web, replicas: 3, labels: {{app: web}}, ports: [80], start_ready: true}}]\n\
         clients: [{{name: app, count: 4, target: 'web:80', rate: 20}}]\n"
    ));
    let f = findings_of(&sc);
    let hit = of(&f, "KS002", "app");
    assert_eq!(hit.len(), 1, "{f:#?}");
    assert!(
        hit[0].message.contains("port 8080 is not open"),
        "{}",
        hit[0].message
    );
    assert!(
        hit[0].message.contains("they listen on 80"),
        "{}",
        hit[0].message
    );
    assert!(hit[0].share > 0.99);
}

#[test]
fn a_misconfiguration_no_request_touches_is_not_a_finding() {
    // `lonely` selects nothing, but no client sends to it: nothing failed.
    let sc = parse(&format!(
        "{APP}services: [{{name: web, selector: {{app: web}}, ports: [{{port: 80}}]}}, {{name: lonely, selector: {{app: nobody}}, ports: [{{port: 80}}]}}]\n\
         deployments: [{{name: web, replicas: 2, labels: {{app: web}}, ports: [80], start_ready: true}}]\n\
         clients: [{{name: app, count: 4, target: 'web:80', rate: 20}}]\n"
    ));
    assert_eq!(findings_of(&sc), vec![]);
}

#[test]
fn findings_are_in_the_json_report() {
    let sc = scenario_file("mesh-namespace-not-injected.yaml");
    let opts = sim_core::RunOptions {
        seed: None,
        window: None,
    };
    let json = sim_core::run(&sc, &opts).unwrap().to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["code"], "KS004");
    assert_eq!(f["cause"], "namespace-not-injected");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["group"], "reports");
    assert!(f["share"].as_f64().unwrap() > 0.99);
    assert!(
        f["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["kind"] == "Service")
    );
}
