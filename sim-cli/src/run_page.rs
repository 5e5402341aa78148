//! `ksim run --format html`: one run as a self-contained page — what
//! happened to pods, endpoints and DNS answers over time, what requests met
//! in each window (by outcome, and stale-IP errors by layer), the load per
//! pod identity, latency when modelled, and the findings when the report has
//! them. Drawn from the library's report and timeline only; the same run
//! gives the same bytes.

use std::fmt::Write as _;

use serde_json::Value;
use sim_core::Report;
use sim_core::report::PodLifecycle;
use sim_core::timeline::Timeline;

use crate::chart::{self, Axis, Figure, HEIGHT, Mark, PALETTE, Rgb, Unit, WIDTH};
use crate::page::{self, esc, num, pct};

/// Drawing width of a chart across the whole page.
const WIDE: u32 = 1300;
/// At most this many pods get a row of the lifecycle chart.
const MAX_PODS: usize = 100;
/// At most this many Services get a line of the endpoints chart.
const MAX_SERVICES: usize = PALETTE.len();
/// At most this many DNS answer changes of a Service get a dot.
const MAX_DOTS: usize = 40;
/// At most this many identities get a bar; more are drawn ranked.
const MAX_BARS: usize = 100;

/// The phases of a pod's life, as the lifecycle chart colours them.
const PHASES: [(&str, Rgb); 4] = [
    ("starting (not Ready)", Rgb(0xe6, 0x9f, 0x00)),
    ("Ready", Rgb(0x00, 0x9e, 0x73)),
    ("terminating (draining)", Rgb(0xd5, 0x5e, 0x00)),
    ("exited, IP still held", Rgb(0xcc, 0x79, 0xa7)),
];

/// The page for `report` and its `timeline`.
pub fn html(report: &Report, timeline: &Timeline) -> String {
    let sc = &report.scenario;
    let mut o = page::open(&format!("ksim run: {}", sc.name));
    let _ = writeln!(o, "<h1>Run: {}</h1>", esc(&sc.name));
    let _ = writeln!(
        o,
        "<ul class=\"meta\"><li>seed <b>{}</b></li><li>{} s simulated</li><li>windows of {} s</li><li>ksim {}</li><li>digest <code>{}</code></li></ul>",
        report.seed,
        num(sc.duration_s),
        num(report.window_s),
        esc(&report.ksim_version),
        esc(&sc.digest)
    );
    o.push_str(&cards(report));
    let value = serde_json::to_value(report).expect("a report serializes");
    o.push_str(&findings(&value));
    o.push_str("<h2>Over time</h2>\n<div class=\"grid\">\n");
    if let Some(f) = pods_chart(report) {
        o.push_str(
            &f.html()
                .replacen("class=\"chart\"", "class=\"chart wide\"", 1),
        );
    }
    if let Some(f) = endpoints_chart(report, timeline) {
        o.push_str(&f.html());
    }
    for f in window_charts(report) {
        o.push_str(&f.html());
    }
    o.push_str("</div>\n<h2>Load and latency</h2>\n<div class=\"grid\">\n");
    if let Some(f) = load_chart(report) {
        o.push_str(&f.html());
    }
    match latency_chart(report) {
        Some(f) => o.push_str(&f.html()),
        None => o.push_str(
            "<p class=\"note\">Latency is not modelled in this run (no pod capacity: every answer is immediate), so it is not drawn.</p>\n",
        ),
    }
    o.push_str("</div>\n");
    o.push_str(&tables(report));
    for w in &report.warnings {
        let _ = writeln!(o, "<p class=\"note\">warning: {}</p>", esc(w));
    }
    o.push_str(page::CLOSE);
    o
}

fn cards(r: &Report) -> String {
    let t = &r.totals;
    let mut o = String::from("<div class=\"cards\">");
    let mut card = |value: String, what: &str| {
        let _ = write!(
            o,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(what)
        );
    };
    card(t.requests.to_string(), "requests");
    card(t.attempts.to_string(), "attempts (tries)");
    card(pct(r.rates.stale_ip_error_rate), "stale-IP errors");
    card(pct(r.rates.connection_refused_rate), "refused");
    card(pct(r.rates.request_failure_rate), "requests failed");
    card(r.pods.deleted.to_string(), "pods deleted");
    o.push_str("</div>\n");
    o
}

/// The report's `findings`, when it has any: each one's title or message,
/// then its other fields.
fn findings(report: &Value) -> String {
    let Some(list) = report.get("findings").and_then(Value::as_array) else {
        return String::new();
    };
    let mut o = String::from("<h2>Findings</h2>\n");
    if list.is_empty() {
        o.push_str("<p>No findings: nothing in this run needs explaining.</p>\n");
        return o;
    }
    const HEADLINE: [&str; 5] = ["title", "message", "summary", "cause", "kind"];
    for f in list {
        o.push_str("<div class=\"finding\">");
        match f {
            Value::Object(m) => {
                let head = HEADLINE.iter().find_map(|k| m.get(*k).map(|v| (*k, v)));
                if let Some((_, v)) = head {
                    let _ = write!(o, "<p><b>{}</b></p>", esc(&plain(v)));
                }
                let rest: Vec<String> = m
                    .iter()
                    .filter(|(k, _)| head.is_none_or(|(h, _)| h != k.as_str()))
                    .map(|(k, v)| format!("{k}: {}", plain(v)))
                    .collect();
                if !rest.is_empty() {
                    o.push_str("<ul>");
                    for line in rest {
                        let _ = write!(o, "<li>{}</li>", esc(&line));
                    }
                    o.push_str("</ul>");
                }
            }
            other => {
                let _ = write!(o, "<p>{}</p>", esc(&plain(other)));
            }
        }
        o.push_str("</div>\n");
    }
    o
}

/// A JSON value as text: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or(n.to_string(), num),
        other => other.to_string(),
    }
}

fn time_axis(r: &Report) -> Axis {
    Axis::linear(
        "simulated time",
        0.0,
        r.scenario.duration_s,
        Unit::Seconds,
        true,
    )
}

/// One row per pod name (a StatefulSet's replacement pod keeps its
/// predecessor's row), coloured by phase.
pub(crate) fn pods_chart(r: &Report) -> Option<Figure> {
    let all = &r.pods.lifecycle;
    if all.is_empty() {
        return None;
    }
    // Names in order of first creation; each with its pods.
    let mut rows: Vec<(&str, Vec<&PodLifecycle>)> = Vec::new();
    for p in all {
        match rows.iter_mut().find(|(n, _)| *n == p.name) {
            Some((_, v)) => v.push(p),
            None => rows.push((&p.name, vec![p])),
        }
    }
    let total = rows.len();
    rows.truncate(MAX_PODS);
    let end = r.scenario.duration_s;
    let n = rows.len();
    // The first name at the top.
    let names: Vec<String> = rows.iter().rev().map(|(n, _)| n.to_string()).collect();
    let y = Axis::categories("pod", &names, 40);
    let x = time_axis(r);
    let mut marks = Vec::new();
    for (i, (_, pods)) in rows.iter().enumerate() {
        let row = (n - 1 - i) as f64;
        for p in pods {
            let (ready, deleted, exited, gone) = (p.ready_s, p.deleted_s, p.exited_s, p.gone_s);
            let spans = [
                (Some(p.created_s), ready.or(deleted).or(exited).or(gone)),
                (ready, deleted.or(exited).or(gone)),
                (deleted, exited.or(gone)),
                (exited, gone),
            ];
            for (k, (from, to)) in spans.into_iter().enumerate() {
                let Some(from) = from else { continue };
                let to = to.unwrap_or(end);
                if to > from {
                    marks.push(Mark::Rect {
                        from: (from, row - 0.36),
                        to: (to, row + 0.36),
                        color: PHASES[k].1,
                    });
                }
            }
        }
    }
    let height = (70 + 14 * n as u32).clamp(HEIGHT / 2, 1500);
    let mut note = format!(
        "{} pods under {total} names; a replacement keeps its predecessor's row.",
        all.len()
    );
    if total > n {
        let _ = write!(
            note,
            " The first {n} names are drawn; every pod is in the JSON report (pods.lifecycle)."
        );
    }
    Some(Figure {
        title: "Pod lifecycle".into(),
        svg: chart::draw(&x, &y, (WIDE, height), &marks),
        legend: PHASES.iter().map(|(s, c)| (s.to_string(), *c)).collect(),
        note,
    })
}

/// Each Service's ready endpoints over time; dots where its DNS answer
/// changed with them.
fn endpoints_chart(r: &Report, t: &Timeline) -> Option<Figure> {
    if t.services.is_empty() {
        return None;
    }
    let end = r.scenario.duration_s;
    let shown = &t.services[..t.services.len().min(MAX_SERVICES)];
    let most = shown
        .iter()
        .flat_map(|s| s.changes.iter().map(|c| c.endpoints.len()))
        .max()
        .unwrap_or(0);
    let y = Axis::linear("ready endpoints", 0.0, most as f64, Unit::Plain, true);
    let x = time_axis(r);
    let mut marks = Vec::new();
    let mut dns = false;
    for (i, s) in shown.iter().enumerate() {
        let color = PALETTE[i];
        let mut points = Vec::new();
        let mut last: Option<f64> = None;
        for c in &s.changes {
            let n = c.endpoints.len() as f64;
            if let Some(prev) = last {
                points.push((c.t_s, prev));
            }
            points.push((c.t_s, n));
            last = Some(n);
        }
        if let Some(prev) = last {
            points.push((end, prev));
        }
        marks.push(Mark::Line {
            points,
            color,
            width: 2,
        });
        let answers = s.changes.iter().filter(|c| c.dns_answer);
        if answers.clone().count() > MAX_DOTS {
            continue;
        }
        for c in answers {
            dns = true;
            marks.push(Mark::Dot {
                at: (c.t_s, c.endpoints.len() as f64),
                color,
            });
        }
    }
    let mut note =
        String::from("Ready endpoints as DNS and kube-proxy see them (after propagation).");
    if dns {
        note.push_str(
            " Dots: the Service's DNS answer changed (headless Services answer their endpoints); caches may serve the old answer until their entries expire.",
        );
    }
    if t.services.len() > shown.len() {
        let _ = write!(
            note,
            " The first {} of {} Services that changed.",
            shown.len(),
            t.services.len()
        );
    }
    Some(Figure {
        title: "Endpoints and DNS answers".into(),
        svg: chart::draw(&x, &y, (WIDTH, HEIGHT), &marks),
        legend: shown
            .iter()
            .enumerate()
            .map(|(i, s)| (s.service.clone(), PALETTE[i]))
            .collect(),
        note,
    })
}

/// Successful attempts per window; failed ones stacked by outcome; stale-IP
/// errors stacked by the layer that handed out the address. Failures get
/// their own scale, so a few are as visible as many successes.
pub(crate) fn window_charts(r: &Report) -> Vec<Figure> {
    let x = time_axis(r);
    let spans: Vec<(f64, f64)> = r.windows.iter().map(|w| (w.start_s, w.end_s)).collect();
    let mut out = Vec::new();
    let ok: Vec<f64> = r.windows.iter().map(|w| w.outcomes.ok as f64).collect();
    if let Some(f) = chart::stacked(
        "Successful attempts per window",
        &x,
        "ok attempts",
        &spans,
        &[("ok".into(), chart::outcome_color("ok"), ok)],
        "Tries answered ok by a listening pod of the target.",
    ) {
        out.push(f);
    }
    let names = r.totals.outcomes.named();
    let failed: Vec<(String, Rgb, Vec<f64>)> = names
        .iter()
        .filter(|(n, _)| *n != "ok")
        .map(|(n, _)| {
            let v = r
                .windows
                .iter()
                .map(|w| {
                    w.outcomes
                        .named()
                        .iter()
                        .find(|(m, _)| m == n)
                        .map_or(0.0, |x| x.1 as f64)
                })
                .collect();
            (n.to_string(), chart::outcome_color(n), v)
        })
        .collect();
    match chart::stacked(
        "Failed attempts per window, by outcome",
        &x,
        "failed attempts",
        &spans,
        &failed,
        "Every try that was not ok, by what it met (see the outcome taxonomy).",
    ) {
        Some(f) => out.push(f),
        None => out.push(empty_figure(
            "Failed attempts per window, by outcome",
            "No attempt failed in this run.",
        )),
    }
    let layers: Vec<(String, Rgb, Vec<f64>)> = r
        .stale_ip_errors_by_layer
        .named()
        .iter()
        .enumerate()
        .map(|(k, (n, _))| {
            let v = r
                .windows
                .iter()
                .map(|w| w.stale_ip_errors_by_layer.named()[k].1 as f64)
                .collect();
            (n.replace('_', " "), chart::layer_color(n), v)
        })
        .collect();
    if let Some(f) = chart::stacked(
        "Stale-IP errors per window, by layer",
        &x,
        "stale-IP errors",
        &spans,
        &layers,
        "Failed tries whose address was not a ready endpoint at dial time, by the layer that handed it out: a client's cache, a node's cache, the DNS server's cache, propagation (not yet seen), or a pooled connection.",
    ) {
        out.push(f);
    }
    out
}

fn empty_figure(title: &str, why: &str) -> Figure {
    Figure {
        title: title.into(),
        svg: String::new(),
        legend: Vec::new(),
        note: why.into(),
    }
}

/// `ok` tries per pod identity: bars, or identities ranked by load when
/// there are too many for bars.
pub(crate) fn load_chart(r: &Report) -> Option<Figure> {
    let mut ids: Vec<(&String, &u64)> = r.skew.per_identity.iter().collect();
    if ids.is_empty() {
        return None;
    }
    ids.sort_by_key(|a| natural(a.0));
    let skew = format!(
        "max/mean {}, CoV {}, Jain {}",
        r.skew.max_over_mean.map_or("-".into(), num),
        r.skew.cov.map_or("-".into(), num),
        r.skew.jain.map_or("-".into(), num)
    );
    if ids.len() <= MAX_BARS {
        let bars: Vec<(String, f64)> = ids
            .iter()
            .map(|(k, v)| ((*k).clone(), **v as f64))
            .collect();
        return Some(chart::bars(
            "Load per pod identity",
            "pod identity",
            "ok attempts",
            &bars,
            PALETTE[0],
            &format!("Skew over {} identities: {skew}.", ids.len()),
        ));
    }
    let mut loads: Vec<u64> = ids.iter().map(|(_, v)| **v).collect();
    loads.sort_unstable_by(|a, b| b.cmp(a));
    let n = loads.len();
    let x = Axis::linear(
        "identities, most loaded first",
        1.0,
        n as f64,
        Unit::Plain,
        false,
    );
    let y = Axis::linear("ok attempts", 0.0, loads[0] as f64, Unit::Plain, true);
    let points = loads
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0, *v as f64))
        .collect();
    Some(Figure {
        title: "Load per pod identity, ranked".into(),
        svg: chart::draw(
            &x,
            &y,
            (WIDTH, HEIGHT),
            &[Mark::Line {
                points,
                color: PALETTE[0],
                width: 2,
            }],
        ),
        legend: Vec::new(),
        note: format!(
            "{n} identities, most loaded first (per identity: skew.per_identity in the JSON report). Skew: {skew}."
        ),
    })
}

/// `web-10` after `web-9`.
fn natural(s: &str) -> (String, u64, String) {
    match s.rsplit_once('-') {
        Some((a, b)) => match b.parse() {
            Ok(n) => (a.to_string(), n, s.to_string()),
            Err(_) => (s.to_string(), 0, s.to_string()),
        },
        None => (s.to_string(), 0, s.to_string()),
    }
}

/// Latency percentiles per client group (and overall), when any answer took
/// time; `None` when latency is not modelled.
pub(crate) fn latency_chart(r: &Report) -> Option<Figure> {
    if r.latency.max_ms.is_none_or(|m| m <= 0.0) {
        return None;
    }
    const PCTS: [&str; 4] = ["p50", "p90", "p99", "p99.9"];
    let mut groups: Vec<(String, [Option<f64>; 4])> = Vec::new();
    let l = &r.latency;
    groups.push(("all".into(), [l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms]));
    if r.client_groups.len() > 1 {
        for (name, g) in r.client_groups.iter().take(PALETTE.len() - 1) {
            let l = &g.latency;
            groups.push((name.clone(), [l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms]));
        }
    }
    let values: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.1.iter().flatten().copied())
        .filter(|v| *v > 0.0)
        .collect();
    let y = Axis::auto("latency (ms)", &values, Unit::Plain);
    let names: Vec<String> = PCTS.iter().map(|s| s.to_string()).collect();
    let x = Axis::categories("percentile", &names, 4);
    let k = groups.len() as f64;
    let w = 0.8 / k;
    let mut marks = Vec::new();
    for (gi, (_, vals)) in groups.iter().enumerate() {
        for (pi, v) in vals.iter().enumerate() {
            let Some(top) = v.and_then(|v| y.at(v)) else {
                continue;
            };
            let x0 = pi as f64 - 0.4 + w * gi as f64;
            marks.push(Mark::Rect {
                from: (x0 + w * 0.08, y.base()),
                to: (x0 + w * 0.92, top),
                color: PALETTE[gi],
            });
        }
    }
    Some(Figure {
        title: "Latency of ok requests".into(),
        svg: chart::draw(&x, &y, (WIDTH, HEIGHT), &marks),
        legend: groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.0.clone(), PALETTE[i]))
            .collect(),
        note: format!(
            "From sending to the answer (queueing, service, failed tries and back-off included). Overall: p50 {} ms, p99 {} ms, max {} ms.",
            l.p50_ms.map_or("-".into(), num),
            l.p99_ms.map_or("-".into(), num),
            l.max_ms.map_or("-".into(), num)
        ),
    })
}

fn tables(r: &Report) -> String {
    let t = &r.totals;
    let mut o = String::from("<h2>Totals</h2>\n<div class=\"grid\"><div>\n");
    let rows: Vec<Vec<String>> = t
        .outcomes
        .named()
        .iter()
        .filter(|(n, c)| *c > 0 || *n == "ok")
        .map(|(n, c)| {
            let share = if t.attempts == 0 {
                0.0
            } else {
                *c as f64 / t.attempts as f64
            };
            vec![n.to_string(), c.to_string(), pct(share)]
        })
        .collect();
    o.push_str(&page::table(
        &["outcome".into(), "attempts".into(), "share".into()],
        &rows,
    ));
    o.push_str("</div><div>\n");
    let rows: Vec<Vec<String>> = r
        .stale_ip_errors_by_layer
        .named()
        .iter()
        .map(|(n, c)| vec![n.replace('_', " "), c.to_string()])
        .collect();
    o.push_str(&page::table(
        &["stale-IP errors by layer".into(), "attempts".into()],
        &rows,
    ));
    o.push_str("</div></div>\n");
    o
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn findings_are_drawn_when_the_report_has_them() {
        let none = super::findings(&json!({"seed": 1}));
        assert!(none.is_empty(), "no `findings` key: no section");
        let page = super::findings(&json!({"findings": [
            {"title": "clients cache DNS past the pod's deletion", "requests": 12, "cause": "client_cache"},
            "a bare <note>"
        ]}));
        assert!(page.contains("<h2>Findings</h2>"));
        assert!(
            page.contains("<b>clients cache DNS past the pod&#x27;s deletion</b>")
                || page.contains("<b>clients cache DNS past the pod's deletion</b>")
        );
        assert!(page.contains("<li>requests: 12</li>"), "{page}");
        assert!(page.contains("a bare &lt;note&gt;"));
        let empty = super::findings(&json!({"findings": []}));
        assert!(empty.contains("No findings"));
    }
}
