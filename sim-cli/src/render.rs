//! Sweep reports: a self-contained HTML page (inline CSS and SVG charts
//! drawn by plotters, no scripts, no network), Markdown, CSV and JSON. The
//! same results give the same bytes.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use sim_core::sweep::Cheapest;
use sim_core::sweep::results::{Head, ParamInfo, Results};

use crate::chart::{self, Axis, Figure, HEIGHT, Mark, PALETTE, Rgb, Unit, WIDTH};
use crate::page::{self, esc, num, pct};
use crate::run_page;

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

/// A metric's value as people read it: rates as percentages (as the SLO
/// writes them), other figures with at most 4 significant digits.
pub fn show(metric: &str, x: f64) -> String {
    if is_rate(metric) { pct(x) } else { num(x) }
}

fn opt(metric: &str, x: Option<f64>) -> String {
    x.map_or("-".into(), |v| show(metric, v))
}

/// Whether `metric` is a share of attempts or requests (drawn in percent).
fn is_rate(metric: &str) -> bool {
    metric.starts_with("rates.") || metric.ends_with("_rate")
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

/// Whether the sweep modelled `metric`: some point has a value, and a
/// latency is not zero everywhere (zero latency means no pod capacity
/// model: every answer is immediate).
fn modelled(r: &Results, metric: &str) -> bool {
    let means: Vec<f64> = r
        .points
        .iter()
        .filter_map(|p| p.stats[metric].mean)
        .collect();
    let unmodelled_latency = metric.starts_with("latency.") && means.iter().all(|m| *m == 0.0);
    !means.is_empty() && !unmodelled_latency
}

/// A parameter's values as numbers, when every one is a number or a
/// duration (`fixed(30s)` and `30s` are 30 seconds).
fn numeric(values: &[String]) -> Option<(Vec<f64>, Unit)> {
    let as_secs = |v: &str| {
        let inner = v
            .strip_prefix("fixed(")
            .and_then(|v| v.strip_suffix(')'))
            .unwrap_or(v);
        sim_core::time::parse_duration(inner)
            .ok()
            .map(|d| d.as_secs_f64())
    };
    if let Some(n) = values
        .iter()
        .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<f64>>>()
    {
        return Some((n, Unit::Plain));
    }
    values
        .iter()
        .map(|v| as_secs(v))
        .collect::<Option<Vec<f64>>>()
        .map(|n| (n, Unit::Seconds))
}

/// The parameter the verdict is about: the one marked `cheapest`, else the first.
fn searched(h: &Head) -> usize {
    h.parameters
        .iter()
        .position(|p| p.cheapest.is_some())
        .unwrap_or(0)
}

/// What "cheapest" means for `p`, in the words of the question: the longest
/// cache, the fewest replicas.
pub fn superlative(p: &ParamInfo) -> &'static str {
    let last = p.cheapest == Some(Cheapest::Last);
    let count = p.path.ends_with("replicas") || p.path.ends_with("count");
    match numeric(&p.values).map(|n| n.1) {
        Some(Unit::Seconds) if last => "longest",
        Some(Unit::Seconds) => "shortest",
        Some(_) if count && last => "most",
        Some(_) if count => "fewest",
        Some(_) if last => "largest",
        Some(_) => "smallest",
        None if last => "last-listed",
        None => "first-listed",
    }
}

/// Metric vs the searched parameter, one line per combination of the
/// others, with the 95% confidence band and the SLO threshold.
fn metric_chart(r: &Results, metric: &str, palette_of: &[usize]) -> Figure {
    let h = &r.plan;
    let k = searched(h);
    let param = &h.parameters[k];
    let scale = if is_rate(metric) { 100.0 } else { 1.0 };
    // Rates, counts, skew and latency are never negative: neither is a band.
    let floor = if r
        .points
        .iter()
        .all(|p| p.stats[metric].mean.is_none_or(|m| m >= 0.0))
    {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let unit = if is_rate(metric) {
        Unit::Percent
    } else {
        Unit::Plain
    };
    let (x, xs): (Axis, Vec<f64>) = match numeric(&param.values) {
        Some((n, u)) => (Axis::values(&param.path, &n, u), n),
        None => (
            Axis::categories(&param.path, &param.values, 12),
            (0..param.values.len()).map(|i| i as f64).collect(),
        ),
    };
    let threshold = h
        .slo
        .iter()
        .find(|o| o.metric == metric)
        .map(|o| o.threshold * scale);
    let mut all: Vec<f64> = threshold.into_iter().collect();
    for p in &r.points {
        let st = &p.stats[metric];
        all.extend(
            [st.mean, st.ci95_low, st.ci95_high]
                .into_iter()
                .flatten()
                .map(|v| v.max(floor) * scale),
        );
    }
    let lo = all.iter().copied().fold(0.0, f64::min);
    let hi = all.iter().copied().fold(0.0, f64::max);
    // Means over a wide range (a p99 of seconds at too few replicas, of
    // milliseconds at enough) on a log scale, so the region the SLO is
    // about stays readable.
    let means: Vec<f64> = r
        .points
        .iter()
        .filter_map(|p| p.stats[metric].mean)
        .map(|m| m * scale)
        .chain(threshold)
        .collect();
    let (m_lo, m_hi) = means
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &m| (a.min(m), b.max(m)));
    let y = if m_lo > 0.0 && m_hi / m_lo >= 20.0 {
        Axis::log(&axis_title(metric), m_lo, m_hi, unit)
    } else {
        Axis::linear(&axis_title(metric), lo, hi, unit, true)
    };
    // On a log axis a band's end at or below its lowest value is drawn there.
    let y_at = |v: f64| y.at(v.max(y.lowest()));
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    for (si, (name, pts)) in series(h, k).iter().enumerate() {
        let color = PALETTE[palette_of[si] % PALETTE.len()];
        let at = |i: usize| x.at(xs[i]);
        let band: Vec<(f64, f64, f64)> = pts
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| {
                let st = &r.points[p].stats[metric];
                Some((
                    at(i)?,
                    st.ci95_low?.max(floor) * scale,
                    st.ci95_high? * scale,
                ))
            })
            .collect();
        if band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
            marks.push(Mark::Band {
                points: poly,
                color,
            });
        }
        let line: Vec<(f64, f64)> = pts
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| Some((at(i)?, y_at(r.points[p].stats[metric].mean? * scale)?)))
            .collect();
        for &pt in &line {
            marks.push(Mark::Dot { at: pt, color });
        }
        marks.push(Mark::Line {
            points: line,
            color,
            width: 2,
        });
        legend.push((
            if name.is_empty() {
                "mean".to_string()
            } else {
                name.clone()
            },
            color,
        ));
    }
    if let Some(t) = threshold {
        let (a, b) = (x.at(xs[0]), x.at(xs[xs.len() - 1]));
        let (a, b) = (a.unwrap_or(0.0), b.unwrap_or(0.0));
        let pad =
            (b - a).abs() * 0.02 + 0.4 * f64::from(!x.is_log() && numeric(&param.values).is_none());
        let t = y_at(t).unwrap_or(t);
        marks.push(Mark::Dashed {
            points: vec![(a.min(b) - pad, t), (a.max(b) + pad, t)],
            color: Rgb(0x22, 0x22, 0x22),
        });
        legend.push((
            format!("SLO: {}", slo_text(h, metric)),
            Rgb(0x22, 0x22, 0x22),
        ));
    }
    Figure {
        title: metric.to_string(),
        svg: chart::draw(&x, &y, (WIDTH, HEIGHT), &marks),
        legend,
        note: "Mean across seeds; band: its 95% confidence interval.".into(),
    }
}

/// `rates.stale_ip_error_rate` → `stale-IP error rate (%)`-like titles:
/// the metric's last part, its unit.
fn axis_title(metric: &str) -> String {
    let last = metric.rsplit('.').next().unwrap_or(metric);
    let (name, unit) = match last.strip_suffix("_ms") {
        Some(n) => (n, " (ms)"),
        None if is_rate(metric) => (last, " (%)"),
        None => (last, ""),
    };
    format!("{}{unit}", name.replace('_', " "))
}

fn slo_text(h: &Head, metric: &str) -> String {
    h.slo
        .iter()
        .filter(|o| o.metric == metric)
        .map(|o| o.text.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The lines of a chart: for each combination of the parameters other than
/// `k`, its name and its points in the order of `k`'s values.
fn series(h: &Head, k: usize) -> Vec<(String, Vec<usize>)> {
    let n = h.parameters[k].values.len();
    let mut out = Vec::new();
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
        let pts = (0..n)
            .map(|i| {
                let mut cc = coords.clone();
                cc[k] = i;
                h.point_at(&cc)
            })
            .collect();
        out.push((name, pts));
    }
    out
}

fn verdict_lines(r: &Results) -> Vec<String> {
    let h = &r.plan;
    let mut out = Vec::new();
    for rec in &r.recommendations {
        let given = if rec.given.is_empty() {
            String::new()
        } else {
            format!("With {}: ", rec.given.join(", "))
        };
        let param = rec
            .parameter
            .as_ref()
            .and_then(|name| h.parameters.iter().find(|p| &p.path == name));
        out.push(match (rec.point, param) {
            (None, _) => format!("{given}no point meets the SLO."),
            (Some(p), Some(param)) => format!(
                "{given}the {} `{}` that meets the SLO is `{}` (point {p}); {}{}.",
                superlative(param),
                param.path,
                rec.value.as_deref().unwrap_or("?"),
                if rec.confident {
                    "confident: every seed and every 95% bound meet it"
                } else {
                    "not confident: a seed or a 95% bound misses, add seeds or take a safer value"
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
                    (Some(a), Some(b)) => {
                        format!("{} [{}, {}]", opt(m, s.mean), show(m, a), show(m, b))
                    }
                    _ => opt(m, s.mean),
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

fn html(r: &Results) -> String {
    let h = &r.plan;
    let mut o = page::open(&format!("ksim sweep: {}", h.scenario));
    let _ = writeln!(o, "<h1>Sweep: {}</h1>", esc(&h.scenario));
    let _ = writeln!(
        o,
        "<ul class=\"meta\"><li>ksim {}</li><li>{} points &times; {} seeds = {} runs</li><li>seeds {}&ndash;{}</li><li>plan <code>{}</code></li></ul>",
        esc(&h.ksim_version),
        h.points,
        h.seeds.len(),
        h.runs(),
        h.seeds.first().copied().unwrap_or(0),
        h.seeds.last().copied().unwrap_or(0),
        esc(&h.plan_digest)
    );
    if !h.slo.is_empty() {
        let _ = writeln!(o, "<h2>SLO verdict</h2><ul>");
        for s in &h.slo {
            let _ = writeln!(o, "<li><code>{}</code></li>", esc(&s.text));
        }
        let _ = writeln!(o, "</ul>");
        for line in verdict_lines(r) {
            let _ = writeln!(o, "<p class=\"verdict\">{}</p>", code_spans(&line));
        }
    }
    let k = searched(h);
    let _ = writeln!(
        o,
        "<h2>Metrics vs {}</h2>\n<div class=\"grid\">",
        esc(&h.parameters[k].path)
    );
    let metrics = charted(h);
    let (modelled_metrics, left_out): (Vec<&String>, Vec<&String>) =
        metrics.iter().partition(|m| modelled(r, m));
    let (shown, zero): (Vec<&String>, Vec<&String>) = modelled_metrics.into_iter().partition(|m| {
        r.points
            .iter()
            .any(|p| p.stats[m.as_str()].mean != Some(0.0))
    });
    let lines = series(h, k).len();
    let palette_of: Vec<usize> = (0..lines).collect();
    for m in &shown {
        o.push_str(&metric_chart(r, m, &palette_of).html());
    }
    o.push_str("</div>\n");
    if !zero.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"note\">Zero at every point, so not drawn: {}.</p>",
            zero.iter()
                .map(|m| format!("<code>{}</code>", esc(m)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"note\">Not drawn, because this sweep did not model them (no value, or a latency of zero everywhere: no pod capacity model): {}.</p>",
            left_out
                .iter()
                .map(|m| format!("<code>{}</code>", esc(m)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(f) = &r.featured {
        let _ = writeln!(
            o,
            "<h2>One run in detail</h2><p>Point {} ({}), seed {}.</p>\n<div class=\"grid\">",
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
        match serde_json::from_value::<sim_core::Report>(f.report.clone()) {
            Ok(report) => {
                let mut figures: Vec<Figure> = Vec::new();
                figures.extend(run_page::pods_chart(&report));
                figures.extend(run_page::window_charts(&report));
                figures.extend(run_page::load_chart(&report));
                figures.extend(run_page::latency_chart(&report));
                for (i, f) in figures.iter().enumerate() {
                    let html = f.html();
                    o.push_str(&if i == 0 {
                        html.replacen("class=\"chart\"", "class=\"chart wide\"", 1)
                    } else {
                        html
                    });
                }
            }
            Err(_) => o.push_str(
                "<p class=\"note\">The featured run's report is from another ksim version; run the sweep again to draw it.</p>",
            ),
        }
        o.push_str("</div>\n");
    }
    let (head, rows) = table_rows(r, &metrics);
    o.push_str("<h2>Points</h2>\n");
    o.push_str(&page::table(&head, &rows));
    o.push_str("<p class=\"note\">Seed i of every point is the base seed + i. The 95% interval uses Student's t with n&minus;1 degrees of freedom; with one seed it is undefined (-). Rates are percentages of attempts (or requests), as the SLO writes them.</p>\n");
    o.push_str(page::CLOSE);
    o
}

/// Escape `line`, with `` `code` `` spans as `<code>`.
fn code_spans(line: &str) -> String {
    let mut o = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(o, "<code>{}</code>", esc(part));
        } else {
            o.push_str(&esc(part));
        }
    }
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
