//! Pod traces: a recorded stream of Pod objects, as `kubectl get pods -w -o
//! json` prints them (one JSON object after another; with
//! `--output-watch-events`, each wrapped as `{"type": ..., "object": ...}`),
//! turned into timed lifecycle steps so a real incident can be replayed
//! against other client settings.
//!
//! The watch prints no timestamps of its own, so each change is placed at
//! the time the object itself records for it:
//!
//! | change | time |
//! |---|---|
//! | created | `metadata.creationTimestamp` |
//! | IP assigned | the latest time the object records (creation, container start, condition changes) |
//! | Ready / not Ready | the `Ready` condition's `lastTransitionTime` |
//! | deleted | `metadata.deletionTimestamp − deletionGracePeriodSeconds` (the API sets the former to the end of the grace period) |
//! | process exited | the latest `finishedAt` once every container has terminated (or phase Succeeded/Failed) |
//! | gone | a `DELETED` watch event: the latest time the object records |
//!
//! Times are relative to the earliest time in the trace, which becomes
//! t = 0 of the run. A pod is followed by its `metadata.uid` (StatefulSet
//! replacements reuse names), or its namespace and name without one.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::diag::{Diagnostic, Loc};
use crate::time::SimDuration;

/// One pod of a trace and what happened to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TracedPod {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// Container ports it listens on.
    pub ports: Vec<u16>,
    /// Its changes, in time order.
    pub steps: Vec<(SimDuration, Step)>,
}

/// One change of a traced pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Created,
    Ip(#[serde(serialize_with = "super::as_ipv4")] u32),
    Ready(bool),
    Deleted,
    Exited,
    Gone,
}

/// What one observation says about a pod.
#[derive(Clone, Debug, Default, PartialEq)]
struct Seen {
    created: Option<i128>,
    ip: Option<u32>,
    ready: Option<(bool, i128)>,
    deleted: Option<i128>,
    exited: Option<i128>,
    gone: bool,
    /// The latest time the object records.
    latest: i128,
}

/// Read a trace file's text (`file` names it in errors).
pub fn read(text: &str, file: &str) -> Result<Vec<TracedPod>, Diagnostic> {
    let at = |offset: usize| {
        let before = &text[..offset.min(text.len())];
        Loc {
            line: before.matches('\n').count() as u32 + 1,
            col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1,
        }
    };
    let err = |offset: usize, msg: String| Diagnostic::at(at(offset), msg).in_file(file);
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    // (key, pod, last seen) in first-seen order; observations as (pod, time-ordered facts).
    let mut pods: Vec<(String, TracedPod, Seen)> = Vec::new();
    let mut raw: Vec<(usize, Seen)> = Vec::new();
    loop {
        let start = stream.byte_offset();
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let loc = Loc {
                    line: e.line() as u32,
                    col: e.column() as u32,
                };
                return Err(Diagnostic::at(loc, format!("not a JSON pod trace: {e}"))
                    .in_file(file)
                    .hint("record it with `kubectl get pods -w -o json` (optionally `--output-watch-events`)"));
            }
        };
        let (kind, object) = match value.get("object") {
            Some(o) if value.get("type").is_some() => (value["type"].as_str().unwrap_or(""), o),
            _ => ("", &value),
        };
        if object
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k != "Pod")
        {
            return Err(err(start, "a pod trace holds Pod objects only".into()));
        }
        let meta = &object["metadata"];
        let Some(name) = meta["name"].as_str() else {
            return Err(err(start, "a Pod without `metadata.name`".into()));
        };
        let namespace = meta["namespace"].as_str().unwrap_or("default");
        let key = meta["uid"]
            .as_str()
            .map_or_else(|| format!("{namespace}/{name}"), str::to_string);
        let time = |v: &Value| -> Result<Option<i128>, Diagnostic> {
            match v.as_str() {
                None => Ok(None),
                Some(t) => rfc3339_ns(t)
                    .map(Some)
                    .ok_or_else(|| err(start, format!("`{t}` is not an RFC 3339 time"))),
            }
        };
        let mut seen = Seen {
            created: time(&meta["creationTimestamp"])?,
            ..Seen::default()
        };
        let mut latest = seen.created.unwrap_or(i128::MIN);
        let status = &object["status"];
        if let Some(ip) = status["podIP"].as_str() {
            let ip: std::net::Ipv4Addr = ip
                .parse()
                .map_err(|_| err(start, format!("`{ip}`: ksim replays IPv4 pod addresses")))?;
            seen.ip = Some(u32::from(ip));
        }
        for c in status["conditions"].as_array().into_iter().flatten() {
            let t = time(&c["lastTransitionTime"])?;
            if let Some(t) = t {
                latest = latest.max(t);
            }
            if c["type"] == "Ready" {
                seen.ready = Some((c["status"] == "True", t.or(seen.created).unwrap_or(latest)));
            }
        }
        let mut finished: Option<i128> = None;
        let mut all_terminated = true;
        let statuses = status["containerStatuses"].as_array();
        for cs in statuses.into_iter().flatten() {
            let state = &cs["state"];
            if let Some(t) = time(&state["running"]["startedAt"])? {
                latest = latest.max(t);
            }
            match time(&state["terminated"]["finishedAt"])? {
                Some(t) => finished = Some(finished.map_or(t, |f| f.max(t))),
                None => all_terminated = false,
            }
        }
        let phase_over = matches!(status["phase"].as_str(), Some("Succeeded" | "Failed"));
        if let Some(t) = time(&meta["deletionTimestamp"])? {
            let grace = meta["deletionGracePeriodSeconds"].as_i64().unwrap_or(0) as i128;
            let requested = t - grace * 1_000_000_000;
            seen.deleted = Some(requested);
            latest = latest.max(requested);
        }
        if let Some(f) =
            finished.filter(|_| all_terminated && statuses.is_some_and(|s| !s.is_empty()))
        {
            seen.exited = Some(f);
            latest = latest.max(f);
        } else if phase_over {
            seen.exited = Some(latest);
        }
        seen.gone = kind == "DELETED";
        seen.latest = latest;
        let i = match pods.iter().position(|(k, _, _)| *k == key) {
            Some(i) => i,
            None => {
                let spec = &object["spec"];
                let ports = spec["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                    .filter_map(|p| p["containerPort"].as_u64())
                    .filter_map(|p| u16::try_from(p).ok())
                    .collect();
                let labels = meta["labels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect();
                let pod = TracedPod {
                    name: name.to_string(),
                    namespace: namespace.to_string(),
                    labels,
                    hostname: spec["hostname"].as_str().map(str::to_string),
                    subdomain: spec["subdomain"].as_str().map(str::to_string),
                    ports,
                    steps: Vec::new(),
                };
                pods.push((key, pod, Seen::default()));
                pods.len() - 1
            }
        };
        raw.push((i, seen));
    }
    if raw.is_empty() {
        return Err(
            Diagnostic::at(Loc { line: 1, col: 1 }, "the pod trace holds no Pod").in_file(file),
        );
    }
    // t = 0 is the earliest time the trace records (an event without any
    // time, `latest` = i128::MIN, records none). Offsets saturate: an
    // absurd time lands after any run's end instead of overflowing.
    let t0 = raw
        .iter()
        .map(|(_, s)| s.created.unwrap_or(s.latest).min(s.latest))
        .filter(|&t| t != i128::MIN)
        .min()
        .unwrap_or(0);
    let rel = |t: i128| {
        let ns = t.saturating_sub(t0).clamp(0, i128::from(u64::MAX >> 1));
        SimDuration(ns as u64)
    };
    for (i, seen) in raw {
        let (_, pod, last) = &mut pods[i];
        let mut push = |t: i128, step: Step| pod.steps.push((rel(t), step));
        if last.created.is_none() {
            push(seen.created.unwrap_or(seen.latest), Step::Created);
        }
        if let Some(ip) = seen.ip
            && last.ip != Some(ip)
        {
            push(seen.latest, Step::Ip(ip));
        }
        if let Some((ready, t)) = seen.ready
            && last.ready.map(|r| r.0) != Some(ready)
        {
            push(t, Step::Ready(ready));
        }
        if let Some(t) = seen.deleted
            && last.deleted.is_none()
        {
            push(t, Step::Deleted);
        }
        if let Some(t) = seen.exited
            && last.exited.is_none()
        {
            push(t, Step::Exited);
        }
        if seen.gone && !last.gone {
            push(seen.latest, Step::Gone);
        }
        let created = last.created.or(seen.created).or(Some(seen.latest));
        *last = Seen {
            created,
            ip: seen.ip.or(last.ip),
            ready: seen.ready.or(last.ready),
            deleted: seen.deleted.or(last.deleted),
            exited: seen.exited.or(last.exited),
            gone: seen.gone || last.gone,
            latest: seen.latest,
        };
    }
    let mut out: Vec<TracedPod> = pods.into_iter().map(|(_, p, _)| p).collect();
    for p in &mut out {
        // Stable: simultaneous steps keep the order they were observed in.
        p.steps.sort_by_key(|(t, _)| *t);
    }
    Ok(out)
}

/// `2024-05-01T12:00:03Z` or `2024-05-01T12:00:03.25+02:00` → nanoseconds
/// since the Unix epoch.
fn rfc3339_ns(t: &str) -> Option<i128> {
    let (date, rest) = t.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let tz_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, tz) = rest.split_at(tz_at);
    let mut c = clock.splitn(3, ':');
    let (hh, mm): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec = c.next()?;
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let ss: i64 = whole.parse().ok()?;
    let mut ns: i128 = 0;
    for (k, ch) in frac.chars().take(9).enumerate() {
        ns += ch.to_digit(10)? as i128 * 10i128.pow(8 - k as u32);
    }
    let offset_s: i64 = match tz {
        "Z" | "z" => 0,
        _ => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let (oh, om) = tz[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - offset_s;
    Some(secs as i128 * 1_000_000_000 + ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_read_to_the_nanosecond() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ns("1970-01-02T00:00:01.5Z"),
            Some(86_401_500_000_000)
        );
        assert_eq!(
            rfc3339_ns("2024-03-01T00:00:00Z"),
            Some(1_709_251_200_000_000_000)
        );
        assert_eq!(
            rfc3339_ns("2024-03-01T02:00:00+02:00"),
            Some(1_709_251_200_000_000_000)
        );
        assert_eq!(rfc3339_ns("yesterday"), None);
    }

    #[test]
    fn a_watch_stream_becomes_timed_steps() {
        let pod = |extra: &str| {
            format!(
                r#"{{"kind":"Pod","metadata":{{"name":"web-1","namespace":"default","uid":"u1",
                "labels":{{"app":"web"}},"creationTimestamp":"2024-01-01T00:00:00Z"{extra}}},
                "spec":{{"containers":[{{"name":"c","ports":[{{"containerPort":80}}]}}]}},"#
            )
        };
        let text = format!(
            "{}\"status\":{{\"phase\":\"Pending\"}}}}\n\
             {}\"status\":{{\"podIP\":\"10.244.0.9\",\"conditions\":[{{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2024-01-01T00:00:05Z\"}}],\
             \"containerStatuses\":[{{\"state\":{{\"running\":{{\"startedAt\":\"2024-01-01T00:00:02Z\"}}}}}}]}}}}\n\
             {}\"status\":{{\"podIP\":\"10.244.0.9\",\"conditions\":[{{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"2024-01-01T00:01:00Z\"}}],\
             \"containerStatuses\":[{{\"state\":{{\"terminated\":{{\"finishedAt\":\"2024-01-01T00:01:03Z\"}}}}}}]}}}}\n\
             {{\"type\":\"DELETED\",\"object\":{}\"status\":{{\"podIP\":\"10.244.0.9\",\
             \"containerStatuses\":[{{\"state\":{{\"terminated\":{{\"finishedAt\":\"2024-01-01T00:01:03Z\"}}}}}}]}}}}}}\n",
            pod(""),
            pod(""),
            pod(r#","deletionTimestamp":"2024-01-01T00:01:30Z","deletionGracePeriodSeconds":30"#),
            pod(r#","deletionTimestamp":"2024-01-01T00:01:30Z","deletionGracePeriodSeconds":30"#),
        );
        let pods = read(&text, "t.json").unwrap();
        assert_eq!(pods.len(), 1);
        let s = |secs: u64| SimDuration::from_secs(secs);
        assert_eq!(
            pods[0].steps,
            [
                (s(0), Step::Created),
                (
                    s(5),
                    Step::Ip(u32::from(std::net::Ipv4Addr::new(10, 244, 0, 9)))
                ),
                (s(5), Step::Ready(true)),
                (s(60), Step::Ready(false)),
                (s(60), Step::Deleted),
                (s(63), Step::Exited),
                (s(63), Step::Gone),
            ]
        );
        assert_eq!(pods[0].ports, [80]);
    }

    #[test]
    fn broken_json_is_located() {
        let e = read("{\"kind\": \"Pod\",\n  \"metadata\": }", "t.json").unwrap_err();
        assert_eq!(e.loc.line, 2);
        assert_eq!(e.file.as_deref(), Some("t.json"));
    }
}
