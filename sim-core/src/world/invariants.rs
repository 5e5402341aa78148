//! Built-in invariants, checked in debug builds only (`cfg(debug_assertions)`)
//! on every event and every attempt. Each is a guarantee the model must keep
//! whatever the scenario says; a violation is a bug in ksim, never in the
//! user's input, so it panics with a message naming the instant and objects.
//!
//! * **Conservation of requests**: every request sent is either finished
//!   (counted under exactly one request outcome) or waiting to retry.
//! * **No traffic to an address never assigned**: an `ok` or
//!   `wrong_backend` reached a pod that holds the dialled address at that
//!   instant.
//! * **StatefulSet OrderedReady ordering**: checked where pods are created
//!   (`cluster::Cluster::create_pod`): no ordinal is created while a lower
//!   one is missing or not Running and Ready.
//! * **DNS names only endpoints that were ready**: every pod address in an
//!   answer a client receives belongs to a pod that was Ready at some earlier
//!   instant (or to a Service that publishes not-ready addresses, or to a
//!   hand-written endpoint).
//!
//! Each check is O(1) per event, or O(answer) per resolution, so the debug
//! test suite stays fast. Release builds compile none of this.

use super::{Attempt, Observer, World};
use crate::cluster::{Cluster, NO_POD};
use crate::dns;
use crate::metrics::Outcome;
use crate::time::SimTime;

/// Panic with a message that says this is ksim's bug, not the user's.
#[track_caller]
fn violated(name: &str, now: SimTime, detail: std::fmt::Arguments<'_>) -> ! {
    panic!(
        "ksim invariant violated ({name}) at {now}: {detail}\n\
         This is a bug in ksim's model, not in the scenario; please report it with the scenario file and seed."
    )
}

impl<O: Observer> World<'_, '_, O> {
    /// After every event: requests sent = requests finished + waiting to retry.
    pub(super) fn check_invariants(&self, now: SimTime) {
        let t = &self.metrics.totals;
        let finished: u64 = t.request_outcomes.iter().sum();
        let pending = self.req.waiting() as u64;
        if t.requests != finished + pending {
            violated(
                "conservation of requests",
                now,
                format_args!(
                    "{} requests sent, but {finished} finished and {pending} waiting to retry",
                    t.requests
                ),
            );
        }
    }
}

/// Before an attempt is counted: a connection that was accepted went to
/// a pod that holds the dialled address now.
pub(crate) fn check_attempt(cluster: &Cluster, a: &Attempt) {
    if !matches!(a.outcome, Outcome::Ok | Outcome::WrongBackend) {
        return;
    }
    let (Some(dialled), Some(reached)) = (a.dialled, a.reached) else {
        violated(
            "no traffic to an address never assigned",
            a.at,
            format_args!(
                "client {} got `{}` without a dialled address and a pod that accepted ({:?})",
                a.client,
                a.outcome.name(),
                a
            ),
        );
    };
    let pod = &cluster.pods[reached as usize];
    let holds =
        pod.ip == dialled.ip && pod.created_at <= a.at && pod.gone_at.is_none_or(|g| g > a.at);
    if !holds {
        violated(
            "no traffic to an address never assigned",
            a.at,
            format_args!(
                "client {} got `{}` from {} at {}, but that pod {} (created {}, gone {:?})",
                a.client,
                a.outcome.name(),
                cluster.pod_display_name(reached),
                crate::scenario::fmt_ipv4(dialled.ip),
                if pod.ip == dialled.ip {
                    "did not exist then".to_string()
                } else {
                    format!("holds {}", crate::scenario::fmt_ipv4(pod.ip))
                },
                pod.created_at,
                pod.gone_at
            ),
        );
    }
}

/// A DNS answer a client is about to use names only endpoints that were
/// Ready at some instant up to now.
pub(crate) fn check_answer(cluster: &Cluster, resp: &dns::Response, now: SimTime) {
    let Some(svc) = resp.data.svc else { return };
    let svc = svc as usize;
    let state = &cluster.services[svc];
    let publishes = cluster.sc.services[svc].publish_not_ready;
    for a in &resp.data.addrs {
        if a.pod == NO_POD || state.static_endpoints.contains(a) {
            continue;
        }
        let Some(pod) = cluster.pods.get(a.pod as usize) else {
            violated(
                "DNS names only endpoints that were ready",
                now,
                format_args!("an answer names pod #{} that does not exist", a.pod),
            );
        };
        let ok = pod.ip == a.ip
            && pod.created_at <= now
            && (publishes || pod.ready_at.is_some_and(|r| r <= now));
        if !ok {
            violated(
                "DNS names only endpoints that were ready",
                now,
                format_args!(
                    "an answer for service {} names {} ({}), which {}",
                    cluster.sc.services[svc].name,
                    crate::scenario::fmt_ipv4(a.ip),
                    cluster.pod_display_name(a.pod),
                    if pod.ip != a.ip {
                        format!("holds {}", crate::scenario::fmt_ipv4(pod.ip))
                    } else {
                        "was never Ready".to_string()
                    }
                ),
            );
        }
    }
}
