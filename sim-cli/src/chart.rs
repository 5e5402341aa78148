//! The charts of the HTML pages (`ksim run --format html`, the sweep
//! report), drawn with plotters' SVG backend.
//!
//! plotters lays out axes, ticks, meshes and marks; this module chooses what
//! it cannot: tick positions at round values (1, 2, 5 × 10ⁿ), log axes when
//! values span decades, labels without scientific notation, and a fixed
//! colour for each outcome and layer. Legends are HTML beside the SVG
//! ([`Figure::html`]), so they never cover a mark. Every coordinate plotters
//! writes is a whole pixel and every logarithm is the pure-Rust `libm` one,
//! so the same data give the same bytes on any machine.

use std::fmt::Write as _;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Drawing size in SVG units; the page scales it to the column's width.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 320;

/// An sRGB colour, written `#rrggbb` in HTML legends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }

    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Series colours in order: Okabe and Ito's palette for colour-blind
/// readers (https://jfly.uni-koeln.de/color/), then Paul Tol's.
pub const PALETTE: [Rgb; 8] = [
    Rgb(0x00, 0x72, 0xb2),
    Rgb(0xd5, 0x5e, 0x00),
    Rgb(0x00, 0x9e, 0x73),
    Rgb(0xcc, 0x79, 0xa7),
    Rgb(0xe6, 0x9f, 0x00),
    Rgb(0x56, 0xb4, 0xe9),
    Rgb(0x88, 0x22, 0x55),
    Rgb(0x99, 0x99, 0x33),
];

/// One colour per outcome, the same on every chart of every page.
pub fn outcome_color(name: &str) -> Rgb {
    match name {
        "ok" => Rgb(0x00, 0x9e, 0x73),
        "refused" => Rgb(0xd5, 0x5e, 0x00),
        "timeout" => Rgb(0xe6, 0x9f, 0x00),
        "unreachable" => Rgb(0xcc, 0x79, 0xa7),
        "wrong_backend" => Rgb(0x88, 0x22, 0x55),
        "no_address" => Rgb(0x56, 0xb4, 0xe9),
        "overloaded" => Rgb(0x00, 0x72, 0xb2),
        "request_timeout" => Rgb(0xaa, 0x44, 0x99),
        "reset" => Rgb(0x44, 0xaa, 0x99),
        _ => Rgb(0x99, 0x99, 0x33),
    }
}

/// One colour per stale-IP layer.
pub fn layer_color(name: &str) -> Rgb {
    match name {
        "client_cache" => Rgb(0x00, 0x72, 0xb2),
        "node_cache" => Rgb(0x56, 0xb4, 0xe9),
        "server_cache" => Rgb(0x00, 0x9e, 0x73),
        "propagation" => Rgb(0xe6, 0x9f, 0x00),
        _ => Rgb(0xcc, 0x79, 0xa7),
    }
}

/// How an axis labels its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Plain,
    /// Values are percentages already (`0.25` is drawn `0.25%`).
    Percent,
    /// Seconds, labelled `30s`.
    Seconds,
}

/// An axis: what it shows, its range and its ticks, in drawing space (the
/// base-10 logarithm of the value on a log axis).
#[derive(Clone, Debug)]
pub struct Axis {
    pub title: String,
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    log: bool,
}

/// `m × 10^e` as text without float noise or scientific notation.
fn decimal(m: i64, e: i32) -> String {
    if e >= 0 {
        let mut s = m.to_string();
        if m != 0 {
            s.push_str(&"0".repeat(e as usize));
        }
        return s;
    }
    let digits = (-e) as usize;
    let neg = m < 0;
    let a = m.unsigned_abs().to_string();
    let padded = format!("{a:0>width$}", width = digits + 1);
    let (int, frac) = padded.split_at(padded.len() - digits);
    let frac = frac.trim_end_matches('0');
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(int);
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    s
}

fn pow10(e: i32) -> f64 {
    libm::pow(10.0, e as f64)
}

fn label(text: String, unit: Unit) -> String {
    match unit {
        Unit::Plain => text,
        Unit::Percent => format!("{text}%"),
        Unit::Seconds => format!("{text}s"),
    }
}

/// A round step (1, 2 or 5 × 10^e) giving about `n` intervals over `span`.
fn round_step(span: f64, n: f64) -> (i64, i32) {
    let raw = span / n;
    let e = libm::floor(libm::log10(raw)) as i32;
    let f = raw / pow10(e);
    match f {
        f if f <= 1.0 => (1, e),
        f if f <= 2.0 => (2, e),
        f if f <= 5.0 => (5, e),
        _ => (1, e + 1),
    }
}

impl Axis {
    /// A linear axis over `lo..=hi` (zero included when `from_zero`), its
    /// ends and ticks at multiples of a round step.
    pub fn linear(title: &str, lo: f64, hi: f64, unit: Unit, from_zero: bool) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if from_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi <= lo {
            hi = lo + if lo == 0.0 { 1.0 } else { lo.abs() };
        }
        let (m, e) = round_step(hi - lo, 5.0);
        let step = m as f64 * pow10(e);
        let k0 = libm::floor(lo / step + 1e-9) as i64;
        let k1 = libm::ceil(hi / step - 1e-9) as i64;
        let ticks = (k0..=k1)
            .map(|k| (k as f64 * step, label(decimal(k * m, e), unit)))
            .collect();
        Axis {
            title: title.to_string(),
            lo: k0 as f64 * step,
            hi: k1 as f64 * step,
            ticks,
            log: false,
        }
    }

    /// A log axis over `lo..=hi` (both above zero), from a power of ten to a
    /// power of ten; ticks at 1, 2, 5 × 10ⁿ over two decades or less, at the
    /// powers of ten over more.
    pub fn log(title: &str, lo: f64, hi: f64, unit: Unit) -> Axis {
        let e0 = libm::floor(libm::log10(lo) + 1e-9) as i32;
        let e1 = (libm::ceil(libm::log10(hi) - 1e-9) as i32).max(e0 + 1);
        let mantissas: &[i64] = if e1 - e0 <= 2 { &[1, 2, 5] } else { &[1] };
        let mut ticks = Vec::new();
        for e in e0..=e1 {
            for &m in mantissas {
                if e == e1 && m > 1 {
                    break;
                }
                let at = e as f64 + libm::log10(m as f64);
                ticks.push((at, label(decimal(m, e), unit)));
            }
        }
        Axis {
            title: title.to_string(),
            lo: e0 as f64,
            hi: e1 as f64,
            ticks,
            log: true,
        }
    }

    /// Log when every value is above zero and they span two decades or
    /// more; else linear from zero.
    pub fn auto(title: &str, values: &[f64], unit: Unit) -> Axis {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo > 0.0 && hi / lo >= 100.0 {
            Axis::log(title, lo, hi, unit)
        } else {
            Axis::linear(title, lo, hi, unit, true)
        }
    }

    /// An axis for a swept parameter's values: log when they span two
    /// decades or more, else linear over just their range, a little wider
    /// than it so that no point sits on the frame.
    pub fn values(title: &str, values: &[f64], unit: Unit) -> Axis {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo > 0.0 && hi / lo >= 100.0 {
            return Axis::log(title, lo, hi, unit);
        }
        let pad = (hi - lo) * 0.04;
        Axis::linear(title, lo - pad, hi + pad, unit, false)
    }

    /// The smallest value the axis shows.
    pub fn lowest(&self) -> f64 {
        if self.log {
            pow10(self.lo as i32)
        } else {
            self.lo
        }
    }

    /// Categories `0..n` (one tick each, at most about `max_labels` labelled).
    pub fn categories(title: &str, names: &[String], max_labels: usize) -> Axis {
        let n = names.len().max(1);
        let every = n.div_ceil(max_labels.max(1)).max(1);
        Axis {
            title: title.to_string(),
            lo: -0.5,
            hi: n as f64 - 0.5,
            ticks: names
                .iter()
                .enumerate()
                .filter(|(i, _)| i % every == 0)
                .map(|(i, s)| (i as f64, s.clone()))
                .collect(),
            log: false,
        }
    }

    pub fn is_log(&self) -> bool {
        self.log
    }

    /// Where `v` is drawn (`None`: not drawable, such as 0 on a log axis).
    pub fn at(&self, v: f64) -> Option<f64> {
        if self.log {
            (v > 0.0).then(|| libm::log10(v))
        } else {
            v.is_finite().then_some(v)
        }
    }

    /// The lowest drawn value (bars grow from it).
    pub fn base(&self) -> f64 {
        if self.log {
            self.lo
        } else {
            0.0f64.clamp(self.lo, self.hi)
        }
    }

    fn range(&self) -> Ticked {
        Ticked {
            lo: self.lo,
            hi: self.hi,
            ticks: self.ticks.iter().map(|t| t.0).collect(),
        }
    }

    fn tick_label(&self, v: f64) -> String {
        self.ticks
            .iter()
            .find(|t| (t.0 - v).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

/// A plotters coordinate over `lo..hi` whose mesh lines and labels are
/// exactly the axis's ticks.
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let share = (v - self.lo) / (self.hi - self.lo);
        let px = (limit.1 - limit.0) as f64 * share;
        // Whole pixels, rounded the same way on every machine.
        limit.0 + libm::floor(px + 0.5) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A mark to draw, in drawing space (see [`Axis::at`]).
pub enum Mark {
    /// A filled rectangle between two corners.
    Rect {
        from: (f64, f64),
        to: (f64, f64),
        color: Rgb,
    },
    /// A line through points.
    Line {
        points: Vec<(f64, f64)>,
        color: Rgb,
        width: u32,
    },
    /// A dashed line through points.
    Dashed { points: Vec<(f64, f64)>, color: Rgb },
    /// A translucent filled polygon (a confidence band).
    Band { points: Vec<(f64, f64)>, color: Rgb },
    /// A dot.
    Dot { at: (f64, f64), color: Rgb },
}

/// A chart ready for the page: its SVG, caption and legend.
pub struct Figure {
    pub title: String,
    pub svg: String,
    pub legend: Vec<(String, Rgb)>,
    /// A sentence under the chart (what the marks mean).
    pub note: String,
}

/// Draw `marks` over axes `x` and `y` in a `width × height` SVG.
pub fn draw(x: &Axis, y: &Axis, (width, height): (u32, u32), marks: &[Mark]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).expect("drawing into a string");
        let y_labels = y.ticks.iter().map(|t| t.1.len()).max().unwrap_or(1) as u32;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            .margin_right(18)
            .margin_left(6)
            .margin_bottom(4)
            .x_label_area_size(46)
            .y_label_area_size(30 + 8 * y_labels.min(24))
            .build_cartesian_2d(x.range(), y.range())
            .expect("a chart over finite ranges");
        let xf = |v: &f64| x.tick_label(*v);
        let yf = |v: &f64| y.tick_label(*v);
        chart
            .configure_mesh()
            .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(0x88, 0x88, 0x88))
            .label_style(
                ("sans-serif", 15.5)
                    .into_font()
                    .color(&RGBColor(0x33, 0x33, 0x33)),
            )
            .axis_desc_style(
                ("sans-serif", 17.36)
                    .into_font()
                    .color(&RGBColor(0x22, 0x22, 0x22)),
            )
            .x_desc(x.title.as_str())
            .y_desc(y.title.as_str())
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .draw()
            .expect("drawing into a string");
        for m in marks {
            let r = match m {
                Mark::Rect { from, to, color } => chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [*from, *to],
                        color.rgb().filled(),
                    )))
                    .map(|_| ()),
                Mark::Line {
                    points,
                    color,
                    width,
                } => chart
                    .draw_series(std::iter::once(PathElement::new(
                        points.clone(),
                        color.rgb().stroke_width(*width),
                    )))
                    .map(|_| ()),
                Mark::Dashed { points, color } => chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        points.clone(),
                        6,
                        4,
                        color.rgb().stroke_width(2),
                    )))
                    .map(|_| ()),
                Mark::Band { points, color } => chart
                    .draw_series(std::iter::once(Polygon::new(
                        points.clone(),
                        color.rgb().mix(0.18).filled(),
                    )))
                    .map(|_| ()),
                Mark::Dot { at, color } => chart
                    .draw_series(std::iter::once(Circle::new(*at, 4, color.rgb().filled())))
                    .map(|_| ()),
            };
            r.expect("drawing into a string");
        }
        root.present().expect("drawing into a string");
    }
    svg
}

/// HTML-escaped text.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Figure {
    /// `<figure>`: title, the chart, its legend, its note.
    pub fn html(&self) -> String {
        let mut o = String::new();
        // A figure without a chart (nothing to draw) says why in its note.
        let class = if self.svg.is_empty() {
            "empty"
        } else {
            "chart"
        };
        let _ = write!(
            o,
            "<figure class=\"{class}\"><figcaption>{}</figcaption>\n{}",
            esc(&self.title),
            self.svg
        );
        if !self.legend.is_empty() {
            o.push_str("<ul class=\"legend\">");
            for (name, c) in &self.legend {
                let _ = write!(
                    o,
                    "<li><span class=\"sw\" style=\"background:{}\"></span>{}</li>",
                    c.hex(),
                    esc(name)
                );
            }
            o.push_str("</ul>");
        }
        if !self.note.is_empty() {
            let _ = write!(o, "<p class=\"note\">{}</p>", esc(&self.note));
        }
        o.push_str("</figure>\n");
        o
    }
}

/// Stacked bars: for each bar `i` spanning `spans[i]` on x, one segment per
/// layer (`name`, colour, values), bottom up; layers with no value are left
/// out of the legend.
pub fn stacked(
    title: &str,
    x: &Axis,
    y_title: &str,
    spans: &[(f64, f64)],
    layers: &[(String, Rgb, Vec<f64>)],
    note: &str,
) -> Option<Figure> {
    let used: Vec<&(String, Rgb, Vec<f64>)> = layers
        .iter()
        .filter(|l| l.2.iter().any(|v| *v > 0.0))
        .collect();
    if used.is_empty() {
        return None;
    }
    let tops: Vec<f64> = (0..spans.len())
        .map(|i| used.iter().map(|l| l.2[i]).sum())
        .collect();
    let hi = tops.iter().copied().fold(0.0, f64::max);
    let y = Axis::linear(y_title, 0.0, hi, Unit::Plain, true);
    let mut marks = Vec::new();
    for (i, &(a, b)) in spans.iter().enumerate() {
        let gap = (b - a) * 0.08;
        let mut base = 0.0;
        for l in &used {
            let v = l.2[i];
            if v > 0.0 {
                marks.push(Mark::Rect {
                    from: (a + gap, base),
                    to: (b - gap, base + v),
                    color: l.1,
                });
                base += v;
            }
        }
    }
    Some(Figure {
        title: title.to_string(),
        svg: draw(x, &y, (WIDTH, HEIGHT), &marks),
        legend: used.iter().map(|l| (l.0.clone(), l.1)).collect(),
        note: note.to_string(),
    })
}

/// Vertical bars, one per category, in one colour.
pub fn bars(
    title: &str,
    x_title: &str,
    y_title: &str,
    bars: &[(String, f64)],
    color: Rgb,
    note: &str,
) -> Figure {
    let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let x = Axis::categories(x_title, &names, 12);
    let values: Vec<f64> = bars.iter().map(|b| b.1).collect();
    let y = Axis::auto(y_title, &values, Unit::Plain);
    let w = if bars.len() > 40 { 0.45 } else { 0.35 };
    let marks = bars
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| {
            let top = y.at(*v)?;
            Some(Mark::Rect {
                from: (i as f64 - w, y.base()),
                to: (i as f64 + w, top),
                color,
            })
        })
        .collect::<Vec<_>>();
    Figure {
        title: title.to_string(),
        svg: draw(&x, &y, (WIDTH, HEIGHT), &marks),
        legend: Vec::new(),
        note: note.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_have_no_float_noise_or_exponent() {
        assert_eq!(decimal(3, -1), "0.3");
        assert_eq!(decimal(25, -4), "0.0025");
        assert_eq!(decimal(-5, -2), "-0.05");
        assert_eq!(decimal(2, 3), "2000");
        assert_eq!(decimal(0, 3), "0");
        assert_eq!(decimal(10, -1), "1");
    }

    #[test]
    fn linear_ticks_are_round() {
        let a = Axis::linear("y", 0.0, 0.00859, Unit::Plain, true);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "0.002", "0.004", "0.006", "0.008", "0.01"]);
        let p = Axis::linear("y", 0.0, 1.05, Unit::Percent, true);
        assert_eq!(p.ticks.last().unwrap().1, "1.5%");
    }

    #[test]
    fn log_axes_span_whole_decades() {
        let a = Axis::auto("x", &[1.0, 2.0, 60.0], Unit::Seconds);
        assert!(!a.is_log(), "under two decades: linear");
        let b = Axis::auto("x", &[1.0, 600.0], Unit::Seconds);
        assert!(b.is_log());
        let labels: Vec<&str> = b.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["1s", "10s", "100s", "1000s"]);
        let c = Axis::log("x", 0.5, 40.0, Unit::Plain);
        let labels: Vec<&str> = c.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.1", "1", "10", "100"]);
        let d = Axis::log("x", 2.0, 60.0, Unit::Plain);
        let labels: Vec<&str> = d.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20", "50", "100"]);
    }

    #[test]
    fn the_same_marks_give_the_same_bytes() {
        let x = Axis::linear("t", 0.0, 60.0, Unit::Seconds, true);
        let y = Axis::linear("n", 0.0, 7.0, Unit::Plain, true);
        let marks = [
            Mark::Rect {
                from: (0.0, 0.0),
                to: (10.0, 3.5),
                color: PALETTE[0],
            },
            Mark::Line {
                points: vec![(0.0, 1.0), (30.0, 6.0)],
                color: PALETTE[1],
                width: 2,
            },
        ];
        let a = draw(&x, &y, (WIDTH, HEIGHT), &marks);
        assert_eq!(a, draw(&x, &y, (WIDTH, HEIGHT), &marks));
        assert!(a.contains("#0072B2") || a.contains("#0072b2"), "{a}");
        let b = a.as_bytes();
        assert!(
            !b.windows(3).any(|w| w[0].is_ascii_digit()
                && w[1] == b'e'
                && (w[2].is_ascii_digit() || w[2] == b'-')),
            "no exponents in the SVG:\n{a}"
        );
    }
}
