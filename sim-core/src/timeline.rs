//! What changed over a run, for pictures of it: every lifecycle event as it
//! happened, and each Service's ready endpoints and DNS answer over time.
//!
//! A [`Recorder`] is an [`Observer`] that keeps the run's lifecycle events
//! (they grow with pods and endpoint changes, never with requests);
//! [`Timeline::of`] turns them into per-Service step series. Times are
//! seconds (`t_s`), as in the run report. The library only collects: the CLI
//! draws (`ksim run --format html`).

use serde::Serialize;

use crate::report::Report;
use crate::world::{Lifecycle, Observer, RunError};
use crate::{RunOptions, Scenario};

/// Keeps every lifecycle event of a run, in the order they happened.
#[derive(Default)]
pub struct Recorder {
    pub events: Vec<Lifecycle>,
}

impl Observer for Recorder {
    const LIFECYCLE: bool = true;
    fn lifecycle(&mut self, e: &Lifecycle) {
        self.events.push(e.clone());
    }
}

/// Each Service's endpoints over the run, Services in scenario order (those
/// that never had an endpoint and never changed are left out).
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub services: Vec<ServiceTimeline>,
}

/// One Service (`namespace/name`): its ready endpoints at t = 0 (when it
/// had any) and after each change.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ServiceTimeline {
    pub service: String,
    pub changes: Vec<Change>,
}

/// A change at `t_s`: the ready endpoints DNS and kube-proxy see from then
/// on; `dns_answer` when the Service's name answers them (a headless
/// Service), so the authoritative DNS answer changed with them.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Change {
    pub t_s: f64,
    pub endpoints: Vec<String>,
    pub dns_answer: bool,
}

impl Timeline {
    /// `sc`'s Services at t = 0 (the cluster as it starts: `start_ready`
    /// pods are endpoints at once, nothing propagates), then their changes
    /// among `events` (as a [`Recorder`] kept them).
    pub fn of(sc: &Scenario, events: &[Lifecycle]) -> Timeline {
        let mut services: Vec<ServiceTimeline> = sc
            .services
            .iter()
            .map(|s| ServiceTimeline {
                service: format!("{}/{}", s.namespace, s.name),
                changes: Vec::new(),
            })
            .collect();
        let mut start = crate::cluster::Cluster::new(sc);
        // A cluster that cannot start fails the run itself, before this.
        if start.start().is_ok() {
            for (i, s) in start.services.iter().enumerate() {
                if !s.view.endpoints.is_empty() {
                    services[i].changes.push(Change {
                        t_s: 0.0,
                        endpoints: s
                            .view
                            .endpoints
                            .iter()
                            .map(|a| crate::scenario::fmt_ipv4(a.ip))
                            .collect(),
                        dns_answer: sc.services[i].is_headless(),
                    });
                }
            }
        }
        for e in events {
            let dns = match e.kind {
                "endpoints_changed" => false,
                "dns_answer_changed" => true,
                _ => continue,
            };
            let t_s = e.t_ns as f64 / 1e9;
            let i = match services.iter().position(|s| s.service == e.object) {
                Some(i) => i,
                None => {
                    services.push(ServiceTimeline {
                        service: e.object.clone(),
                        changes: Vec::new(),
                    });
                    services.len() - 1
                }
            };
            let changes = &mut services[i].changes;
            // `dns_answer_changed` follows its `endpoints_changed` at once:
            // one change whose DNS answer changed too.
            if dns && let Some(last) = changes.last_mut().filter(|c| c.t_s == t_s) {
                last.dns_answer = true;
                continue;
            }
            changes.push(Change {
                t_s,
                endpoints: e.endpoints.clone().unwrap_or_default(),
                dns_answer: dns,
            });
        }
        services.retain(|s| !s.changes.is_empty());
        Timeline { services }
    }
}

/// Run `sc` and keep its lifecycle events: the report, the timeline, and
/// the events themselves (for `--events-out`).
pub fn run(
    sc: &Scenario,
    opts: &RunOptions,
) -> Result<(Report, Timeline, Vec<Lifecycle>), RunError> {
    let mut rec = Recorder::default();
    let report = crate::run_observed(sc, opts, &mut rec)?;
    Ok((report, Timeline::of(sc, &rec.events), rec.events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_ns: u64, kind: &'static str, object: &str, eps: &[&str]) -> Lifecycle {
        Lifecycle {
            t_ns,
            kind,
            object: object.into(),
            ip: None,
            endpoints: Some(eps.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn a_dns_answer_change_marks_its_endpoint_change() {
        let events = [
            ev(
                1_000_000_000,
                "endpoints_changed",
                "default/db",
                &["10.0.0.1"],
            ),
            ev(
                1_000_000_000,
                "dns_answer_changed",
                "default/db",
                &["10.0.0.1"],
            ),
            ev(2_500_000_000, "endpoints_changed", "default/web", &[]),
            Lifecycle {
                t_ns: 3,
                kind: "pod_ready",
                object: "db-0".into(),
                ip: Some("10.0.0.1".into()),
                endpoints: None,
            },
        ];
        let sc = crate::scenario::parse(
            "name: t\nduration: 10s\nservices:\n  - {name: db, clusterIP: None, selector: {app: db}, ports: [80]}\n  - {name: web, selector: {app: web}, ports: [80]}\n  - {name: idle, selector: {app: idle}, ports: [80]}\nstatefulsets:\n  - {name: db, service: db, replicas: 2, start_ready: true}\n",
        )
        .unwrap();
        let t = Timeline::of(&sc, &events);
        assert_eq!(t.services.len(), 2, "idle never had an endpoint");
        assert_eq!(t.services[0].service, "default/db");
        let at_start = &t.services[0].changes[0];
        assert_eq!((at_start.t_s, at_start.endpoints.len()), (0.0, 2));
        assert!(
            at_start.dns_answer,
            "a headless Service answers its endpoints"
        );
        assert_eq!(
            t.services[0].changes[1..],
            vec![Change {
                t_s: 1.0,
                endpoints: vec!["10.0.0.1".into()],
                dns_answer: true
            }]
        );
        assert_eq!(t.services[1].changes[0].t_s, 2.5);
        assert!(!t.services[1].changes[0].dns_answer);
    }
}
