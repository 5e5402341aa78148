//! Sweep reports: a self-contained HTML page (inline CSS and SVG, no
//! scripts, no network), Markdown, CSV and JSON. Charts are written by hand
//! with fixed number formatting, so the same results give the same bytes.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;
use sim_core::sweep::results::{Head, Results};

/// `ksim report RESULTS.json --out DIR`.
pub fn report_cmd(results: &Path, out: &Path) -> ExitCode {
    let text = match crate::input::read_text_or_message(results, crate::input::Kind::Results) {
        Ok(t) => t,
        Err(m) => return crate::fail(m),
    };
    let r: Results = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            return crate::fail(format!(
                "error: {}: not a ksim sweep results file ({e}); write one with `ksim sweep --out`\n",
                results.display()
            ));
        }
    };
    // The results file read may be one the report would rewrite.
    let paths: Vec<_> = REPORT_FILES.iter().map(|f| out.join(f)).collect();
    let outputs: Vec<(&str, &Path)> = paths.iter().map(|p| ("--out", p.as_path())).collect();
    if let Err(m) = crate::output::check(&outputs) {
        return crate::fail(m);
    }
    match write_report(&r, out, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => crate::fail(m),
    }
}

/// The files a report directory receives.
pub const REPORT_FILES: [&str; 4] = ["report.html", "report.md", "results.csv", "results.json"];

/// Write [`REPORT_FILES`] into `dir` (created if missing), and `also` (the
/// results file of `--out`) with them: all or none (a directory made here
/// is removed again on failure).
pub fn write_report(r: &Results, dir: &Path, also: Option<(&Path, &[u8])>) -> Result<(), String> {
    let made = !dir.exists();
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("error: cannot create {}: {e}\n", dir.display()))?;
    let texts = [html(r), markdown(r), csv(r), r.to_json()];
    let paths: Vec<_> = REPORT_FILES.iter().map(|name| dir.join(name)).collect();
    let mut files: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&texts)
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    files.extend(also);
    crate::output::commit(&files).map_err(|(path, e)| {
        if made {
            let _ = std::fs::remove_dir(dir);
        }
        format!(
            "error: cannot write {}: {e}; no output was written\n",
            path.display()
        )
    })
}

/// A number for humans: 4 significant digits, no float noise.
fn num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    let s = if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.3}")
    } else if a >= 0.001 {
        format!("{x:.5}")
    } else {
        format!("{x:.3e}")
    };
    trim(s)
}

fn trim(s: String) -> String {
    if s.contains('e') || !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".into(), num)
}

/// A coordinate: two decimals, fixed.
fn c(x: f64) -> String {
    format!("{x:.2}")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The metrics charted: the SLO's first, then the defaults.
fn charted(h: &Head) -> Vec<String> {
    let mut out: Vec<String> = h.slo.iter().map(|o| o.metric.clone()).collect();
    for m in &h.metrics {
        if !out.contains(m) && m != "totals.requests" {
            out.push(m.clone());
        }
    }
    out
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
];
const W: f64 = 640.0;
const H: f64 = 300.0;
const L: f64 = 70.0;
const R: f64 = 20.0;
const T: f64 = 20.0;
const B: f64 = 50.0;

fn svg_open(o: &mut String, title: &str) {
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\"><title>{}</title>",
        esc(title)
    );
}

/// Y range with a little headroom; never empty.
fn y_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.min(0.0);
    let hi = if hi > lo { hi * 1.05 } else { lo + 1.0 };
    (lo, hi)
}

fn axes(o: &mut String, y0: f64, y1: f64, x_labels: &[String], x_title: &str, y_title: &str) {
    let (pw, ph) = (W - L - R, H - T - B);
    let _ = write!(
        o,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#999\"/>",
        c(L),
        c(T),
        c(pw),
        c(ph)
    );
    for i in 0..=4 {
        let v = y0 + (y1 - y0) * i as f64 / 4.0;
        let y = T + ph - ph * i as f64 / 4.0;
        let _ = write!(
            o,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            c(L),
            c(y),
            c(L + pw),
            c(y),
            c(L - 4.0),
            c(y + 3.0),
            num(v)
        );
    }
    let n = x_labels.len().max(1);
    let step = (n / 12).max(1);
    for (i, lab) in x_labels.iter().enumerate() {
        if i % step != 0 {
            continue;
        }
        let x = x_at(i, n);
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            c(x),
            c(T + ph + 14.0),
            esc(lab)
        );
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
        c(L + pw / 2.0),
        c(H - 8.0),
        esc(x_title),
        c(T + ph / 2.0),
        c(T + ph / 2.0),
        esc(y_title)
    );
}

fn x_at(i: usize, n: usize) -> f64 {
    let pw = W - L - R;
    if n <= 1 {
        L + pw / 2.0
    } else {
        L + 20.0 + (pw - 40.0) * i as f64 / (n - 1) as f64
    }
}

fn y_at(v: f64, y0: f64, y1: f64) -> f64 {
    let ph = H - T - B;
    T + ph - ph * (v - y0) / (y1 - y0)
}

/// Metric vs the searched (or first) parameter, one line per combination
/// of the others, with the 95% confidence band and the SLO threshold.
fn line_chart(r: &Results, metric: &str) -> String {
    let h = &r.plan;
    let k = h
        .parameters
        .iter()
        .position(|p| p.cheapest.is_some())
        .unwrap_or(0);
    let xs = &h.parameters[k].values;
    // Series: points with coords[k] == 0 start one.
    let mut series: Vec<(String, Vec<usize>)> = Vec::new();
    for p in 0..h.points {
        let coords = h.coords(p);
        if coords[k] != 0 {
            continue;
        }
        let name = h
            .parameters
            .iter()
            .zip(&coords)
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, (q, &ci))| format!("{} = {}", q.path, q.values[ci]))
            .collect::<Vec<_>>()
            .join(", ");
        let pts = (0..xs.len())
            .map(|i| {
                let mut cc = coords.clone();
                cc[k] = i;
                h.point_at(&cc)
            })
            .collect();
        series.push((name, pts));
    }
    let threshold = h
        .slo
        .iter()
        .find(|o| o.metric == metric)
        .map(|o| o.threshold);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in &r.points {
        let s = &p.stats[metric];
        for v in [s.mean, s.ci95_low, s.ci95_high].into_iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if let Some(t) = threshold {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let (y0, y1) = y_range(lo, hi);
    let mut o = String::new();
    svg_open(&mut o, &format!("{metric} vs {}", h.parameters[k].path));
    axes(&mut o, y0, y1, xs, &h.parameters[k].path, metric);
    for (si, (_, pts)) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        // Band: upper bounds left to right, lower bounds back.
        let band: Vec<(usize, f64, f64)> = pts
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| {
                let s = &r.points[p].stats[metric];
                Some((i, s.ci95_low?, s.ci95_high?))
            })
            .collect();
        if band.len() >= 2 {
            let mut d = String::new();
            for (j, (i, _, up)) in band.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{} {} ",
                    if j == 0 { "M" } else { "L" },
                    c(x_at(*i, xs.len())),
                    c(y_at(*up, y0, y1))
                );
            }
            for (i, low, _) in band.iter().rev() {
                let _ = write!(d, "L{} {} ", c(x_at(*i, xs.len())), c(y_at(*low, y0, y1)));
            }
            d.push('Z');
            let _ = write!(
                o,
                "<path class=\"band\" d=\"{d}\" fill=\"{color}\" fill-opacity=\"0.15\" stroke=\"none\"/>"
            );
        }
        let mut d = String::new();
        let mut first = true;
        for (i, &p) in pts.iter().enumerate() {
            if let Some(m) = r.points[p].stats[metric].mean {
                let _ = write!(
                    d,
                    "{}{} {} ",
                    if first { "M" } else { "L" },
                    c(x_at(i, xs.len())),
                    c(y_at(m, y0, y1))
                );
                first = false;
                let _ = write!(
                    o,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{color}\"/>",
                    c(x_at(i, xs.len())),
                    c(y_at(m, y0, y1))
                );
            }
        }
        if !d.is_empty() {
            let _ = write!(
                o,
                "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
                d.trim_end()
            );
        }
    }
    if let Some(t) = threshold {
        let y = y_at(t, y0, y1);
        let _ = write!(
            o,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">SLO {}</text>",
            c(L),
            c(y),
            c(W - R),
            c(y),
            c(W - R - 4.0),
            c(y - 4.0),
            num(t)
        );
    }
    // Legend.
    for (si, (name, _)) in series.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let y = T + 14.0 + 14.0 * si as f64;
        let _ = write!(
            o,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
            c(L + 8.0),
            c(y - 9.0),
            PALETTE[si % PALETTE.len()],
            c(L + 22.0),
            c(y),
            esc(name)
        );
    }
    o.push_str("</svg>");
    o
}

/// Vertical bars, one per label.
fn bar_chart(title: &str, x_title: &str, y_title: &str, bars: &[(String, f64)]) -> String {
    let hi = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let (y0, y1) = y_range(0.0, hi);
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut o = String::new();
    svg_open(&mut o, title);
    axes(&mut o, y0, y1, &labels, x_title, y_title);
    let n = bars.len().max(1);
    let bw = ((W - L - R - 40.0) / n as f64 * 0.7).clamp(1.0, 40.0);
    for (i, (_, v)) in bars.iter().enumerate() {
        let x = x_at(i, n) - bw / 2.0;
        let y = y_at(*v, y0, y1);
        let _ = write!(
            o,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
            c(x),
            c(y),
            c(bw),
            c(y_at(0.0, y0, y1) - y),
            PALETTE[0]
        );
    }
    o.push_str("</svg>");
    o
}

const FAILURES: [&str; 9] = [
    "refused",
    "timeout",
    "unreachable",
    "wrong_backend",
    "no_address",
    "overloaded",
    "request_timeout",
    "reset",
    "upstream_503",
];

/// Failed attempts per window stacked by outcome, with pod deletions as
/// dashed lines.
fn timeline(report: &Value) -> String {
    let windows = report["windows"].as_array().cloned().unwrap_or_default();
    let counts: Vec<Vec<f64>> = windows
        .iter()
        .map(|w| {
            FAILURES
                .iter()
                .map(|f| w["outcomes"][f].as_f64().unwrap_or(0.0))
                .collect()
        })
        .collect();
    let hi = counts
        .iter()
        .map(|c| c.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let (y0, y1) = y_range(0.0, hi);
    let labels: Vec<String> = windows
        .iter()
        .map(|w| num(w["start_s"].as_f64().unwrap_or(0.0)))
        .collect();
    let mut o = String::new();
    svg_open(&mut o, "failed attempts per window by outcome");
    axes(
        &mut o,
        y0,
        y1,
        &labels,
        "window start (s)",
        "failed attempts",
    );
    let n = windows.len().max(1);
    let bw = ((W - L - R - 40.0) / n as f64 * 0.8).clamp(1.0, 40.0);
    for (i, cs) in counts.iter().enumerate() {
        let mut base = 0.0;
        for (j, v) in cs.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let top = y_at(base + v, y0, y1);
            let bottom = y_at(base, y0, y1);
            let _ = write!(
                o,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
                c(x_at(i, n) - bw / 2.0),
                c(top),
                c(bw),
                c(bottom - top),
                PALETTE[j % PALETTE.len()],
                FAILURES[j]
            );
            base += v;
        }
    }
    // Pod lifecycle events (after t = 0), placed by time along the
    // windows: created, Ready, deleted, exited, gone.
    const EVENTS: [(&str, &str, &str); 5] = [
        ("created_s", "created", "#2a7f62"),
        ("ready_s", "Ready", "#2563a8"),
        ("deleted_s", "deleted", "#555555"),
        ("exited_s", "exited", "#a8322d"),
        ("gone_s", "gone", "#999999"),
    ];
    let width = report["window_s"].as_f64().unwrap_or(10.0);
    if let Some(pods) = report["pods"]["lifecycle"].as_array() {
        for p in pods {
            for (key, what, color) in EVENTS {
                let Some(t) = p[key].as_f64().filter(|&t| t > 0.0) else {
                    continue;
                };
                let pos = (t / width - 0.5).clamp(0.0, (n - 1) as f64);
                let x = if n <= 1 {
                    x_at(0, 1)
                } else {
                    let (a, b) = (x_at(0, n), x_at(n - 1, n));
                    a + (b - a) * pos / (n - 1) as f64
                };
                let _ = write!(
                    o,
                    "<line class=\"event\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-dasharray=\"2 2\"><title>{} {what} at {} s</title></line>",
                    c(x),
                    c(T),
                    c(x),
                    c(H - B),
                    esc(p["name"].as_str().unwrap_or("")),
                    num(t)
                );
            }
        }
    }
    // Legend.
    for (j, f) in FAILURES.iter().enumerate().take(5) {
        let x = L + 8.0 + 100.0 * j as f64;
        let _ = write!(
            o,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
            c(x),
            c(T + 4.0),
            PALETTE[j % PALETTE.len()],
            c(x + 14.0),
            c(T + 13.0),
            f
        );
    }
    o.push_str("</svg>");
    o
}

fn per_pod(report: &Value) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = report["skew"]["per_identity"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, x)| (k.clone(), x.as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default();
    // web-10 after web-9.
    v.sort_by_key(|(k, _)| {
        let (a, b) = k.rsplit_once('-').unwrap_or((k, ""));
        (a.to_string(), b.parse::<u64>().unwrap_or(0), k.clone())
    });
    v
}

fn outcomes(report: &Value) -> Vec<(String, f64)> {
    let mut out = vec![(
        "ok".to_string(),
        report["totals"]["outcomes"]["ok"].as_f64().unwrap_or(0.0),
    )];
    for f in FAILURES {
        out.push((
            f.to_string(),
            report["totals"]["outcomes"][f].as_f64().unwrap_or(0.0),
        ));
    }
    out
}

fn verdict_lines(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    for rec in &r.recommendations {
        let given = if rec.given.is_empty() {
            String::new()
        } else {
            format!("With {}: ", rec.given.join(", "))
        };
        out.push(match (rec.point, &rec.parameter) {
            (None, _) => format!("{given}no point meets the SLO."),
            (Some(p), Some(param)) => format!(
                "{given}the cheapest `{param}` meeting the SLO is `{}` (point {p}); {}{}.",
                rec.value.as_deref().unwrap_or("?"),
                if rec.confident {
                    "confident: every seed and every 95% bound meet it"
                } else {
                    "not confident: a seed or a 95% bound misses, add seeds or take a dearer value"
                },
                if rec.monotone {
                    ""
                } else {
                    "; the verdicts are not monotone along it"
                }
            ),
            (Some(p), None) => format!("{given}point {p} is the first meeting the SLO."),
        });
    }
    out
}

fn table_rows(r: &Results, metrics: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    let h = &r.plan;
    let mut head = vec!["point".to_string()];
    head.extend(h.parameters.iter().map(|p| p.path.clone()));
    head.extend(metrics.iter().map(|m| format!("{m} (mean [95% CI])")));
    if !h.slo.is_empty() {
        head.push("SLO".into());
    }
    let rows = r
        .points
        .iter()
        .map(|p| {
            let mut row = vec![p.index.to_string()];
            row.extend(p.values.iter().cloned());
            for m in metrics {
                let s = &p.stats[m];
                row.push(match (s.ci95_low, s.ci95_high) {
                    (Some(a), Some(b)) => format!("{} [{}, {}]", opt(s.mean), num(a), num(b)),
                    _ => opt(s.mean),
                });
            }
            if let Some(v) = &p.slo {
                row.push(
                    match (v.meets, v.confident) {
                        (true, true) => "meets (confident)",
                        (true, false) => "meets (not confident)",
                        _ => "fails",
                    }
                    .into(),
                );
            }
            row
        })
        .collect();
    (head, rows)
}

const CSS: &str = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f4f4f4}figure{margin:1em 0}figcaption{font-size:13px;color:#555}.ok{color:#080}.bad{color:#b00}";

fn html(r: &Results) -> String {
    let h = &r.plan;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ksim sweep: {}</title><style>{CSS}</style></head><body>\n",
        esc(&h.scenario)
    );
    let _ = writeln!(
        o,
        "<h1>Sweep: {}</h1><p>ksim {} &middot; {} points &times; {} seeds = {} runs &middot; plan <code>{}</code></p>",
        esc(&h.scenario),
        esc(&h.ksim_version),
        h.points,
        h.seeds.len(),
        h.runs(),
        esc(&h.plan_digest)
    );
    if !h.slo.is_empty() {
        let _ = writeln!(o, "<h2>SLO verdict</h2><ul>");
        for s in &h.slo {
            let _ = writeln!(o, "<li><code>{}</code></li>", esc(&s.text));
        }
        let _ = writeln!(o, "</ul>");
        for line in verdict_lines(r) {
            let _ = writeln!(o, "<p><strong>{}</strong></p>", esc(&line).replace('`', ""));
        }
    }
    let _ = writeln!(o, "<h2>Metrics vs parameter</h2>");
    for m in charted(h) {
        let _ = writeln!(
            o,
            "<figure>{}<figcaption>{} (mean across seeds; band: 95% confidence interval)</figcaption></figure>",
            line_chart(r, &m),
            esc(&m)
        );
    }
    if let Some(f) = &r.featured {
        let _ = writeln!(
            o,
            "<h2>One run in detail</h2><p>Point {} ({}), seed {}.</p>",
            f.point,
            esc(&r.points[f.point]
                .values
                .iter()
                .zip(&h.parameters)
                .map(|(v, p)| format!("{} = {v}", p.path))
                .collect::<Vec<_>>()
                .join(", ")),
            f.seed
        );
        let _ = writeln!(
            o,
            "<figure>{}<figcaption>ok requests per pod identity</figcaption></figure>",
            bar_chart("load per pod", "pod", "ok requests", &per_pod(&f.report))
        );
        let _ = writeln!(
            o,
            "<figure>{}<figcaption>failed attempts per window by outcome; dashed lines: pod deletions</figcaption></figure>",
            timeline(&f.report)
        );
        let _ = writeln!(
            o,
            "<figure>{}<figcaption>attempts by outcome</figcaption></figure>",
            bar_chart("outcomes", "outcome", "attempts", &outcomes(&f.report))
        );
    }
    let (head, rows) = table_rows(r, &charted(h));
    let _ = write!(o, "<h2>Points</h2><table><tr>");
    for c in &head {
        let _ = write!(o, "<th>{}</th>", esc(c));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            let _ = write!(o, "<td>{}</td>", esc(&c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n<p>Seed i of every point is the base seed + i. The 95% interval uses Student's t with n&minus;1 degrees of freedom; with one seed it is undefined (-).</p>\n</body></html>\n");
    o
}

fn markdown(r: &Results) -> String {
    let h = &r.plan;
    let mut o = String::new();
    let _ = writeln!(o, "# Sweep: {}\n", h.scenario);
    let _ = writeln!(
        o,
        "ksim {}, {} points x {} seeds = {} runs, plan `{}`.\n",
        h.ksim_version,
        h.points,
        h.seeds.len(),
        h.runs(),
        h.plan_digest
    );
    if !h.slo.is_empty() {
        let _ = writeln!(o, "## SLO\n");
        for s in &h.slo {
            let _ = writeln!(o, "- `{}`", s.text);
        }
        o.push('\n');
        for line in verdict_lines(r) {
            let _ = writeln!(o, "{line}\n");
        }
    }
    let (head, rows) = table_rows(r, &charted(h));
    let _ = writeln!(o, "## Points\n");
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(head.len()));
    for row in rows {
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    o
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per point: parameter values, then per metric n, mean, sd, CI.
fn csv(r: &Results) -> String {
    let h = &r.plan;
    let mut head = vec!["point".to_string()];
    head.extend(h.parameters.iter().map(|p| p.path.clone()));
    for m in &h.metrics {
        for s in ["n", "mean", "sd", "ci95_low", "ci95_high"] {
            head.push(format!("{m}.{s}"));
        }
    }
    if !h.slo.is_empty() {
        head.push("slo_meets".into());
        head.push("slo_confident".into());
    }
    let mut o = head
        .iter()
        .map(|s| csv_field(s))
        .collect::<Vec<_>>()
        .join(",");
    o.push('\n');
    let f = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    for p in &r.points {
        let mut row = vec![p.index.to_string()];
        row.extend(p.values.iter().map(|v| csv_field(v)));
        for m in &h.metrics {
            let s = &p.stats[m];
            row.extend([
                s.n.to_string(),
                f(s.mean),
                f(s.sd),
                f(s.ci95_low),
                f(s.ci95_high),
            ]);
        }
        if let Some(v) = &p.slo {
            row.push(v.meets.to_string());
            row.push(v.confident.to_string());
        }
        o.push_str(&row.join(","));
        o.push('\n');
    }
    o
}
