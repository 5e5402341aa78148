//! What the HTML pages share: the page shell (inline CSS, no scripts, no
//! external URL), number formatting for people, and tables.
//!
//! The layout is a grid of chart cards that folds to one column on a phone
//! (390 px) and never scrolls sideways: wide tables scroll inside their own
//! box.

use std::fmt::Write as _;

pub use crate::chart::esc;

const CSS: &str = "*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;line-height:1.45;max-width:1400px;margin:0 auto;padding:16px}\
h1{font-size:1.45rem;margin:.2em 0 .3em;overflow-wrap:anywhere}\
h2{font-size:1.15rem;margin:1.6em 0 .6em;padding-bottom:.2em;border-bottom:1px solid #ddd}\
p,li{overflow-wrap:anywhere}\
.meta{display:flex;flex-wrap:wrap;gap:4px 20px;font-size:.9rem;color:#444;margin:0 0 .6em;padding:0;list-style:none}\
.meta code{overflow-wrap:anywhere;word-break:break-all}\
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0}\
.card{border:1px solid #e2e2e2;border-radius:6px;padding:6px 12px;min-width:140px}\
.card b{display:block;font-size:1.2rem}\
.card span{font-size:.8rem;color:#555}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:16px}\
.wide{grid-column:1/-1;overflow-x:auto}\
.wide svg{min-width:640px}\
figure.chart,figure.empty{margin:0;padding:10px;border:1px solid #e2e2e2;border-radius:6px;background:#fff;min-width:0}\
figure.chart svg{width:100%;height:auto;display:block}\
figcaption{font-weight:600;font-size:.95rem;margin-bottom:6px}\
.legend{list-style:none;padding:0;margin:6px 0 0;display:flex;flex-wrap:wrap;gap:2px 16px;font-size:.85rem}\
.sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}\
.note{font-size:.82rem;color:#555;margin:6px 0 0}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;font-size:.85rem;margin:.4em 0}\
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}\
th{background:#f5f5f5}\
td.l,th.l{text-align:left}\
.meets{color:#05753a;font-weight:600}.fails{color:#b3261e;font-weight:600}\
.verdict{font-size:1.05rem;border-left:4px solid #0072b2;padding:4px 12px;background:#f4f8fb}\
.finding{border-left:4px solid #d55e00;padding:4px 12px;margin:8px 0;background:#fdf6f2}";

/// `<!DOCTYPE html>` up to the open `<body>`.
pub fn open(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>\n",
        esc(title)
    )
}

pub const CLOSE: &str = "</body></html>\n";

/// A table: header cells, then rows; the first column left-aligned. Wide
/// tables scroll inside their box, never the page.
pub fn table(head: &[String], rows: &[Vec<String>]) -> String {
    let mut o = String::from("<div class=\"scroll\"><table><tr>");
    for (i, h) in head.iter().enumerate() {
        let class = if i == 0 { " class=\"l\"" } else { "" };
        let _ = write!(o, "<th{class}>{}</th>", esc(h));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if i == 0 { " class=\"l\"" } else { "" };
            let _ = write!(o, "<td{class}>{}</td>", esc(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></div>\n");
    o
}

/// A number for people: at most 4 significant digits, no float noise, no
/// exponent (`0.00012`, `12.35`, `1234`).
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            "-".into()
        };
    }
    let a = x.abs();
    // Decimals for 4 significant digits, from the magnitude.
    let mut decimals = 0usize;
    let mut bound = 1000.0;
    while a < bound && decimals < 12 {
        decimals += 1;
        bound /= 10.0;
    }
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A fraction as a percentage (`0.0123` → `1.23%`).
pub fn pct(x: f64) -> String {
    format!("{}%", num(x * 100.0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_without_exponents() {
        assert_eq!(super::num(0.0009893), "0.0009893");
        assert_eq!(super::num(12.3456), "12.35");
        assert_eq!(super::num(123456.7), "123457");
        assert_eq!(super::num(0.5), "0.5");
        assert_eq!(super::pct(0.0105), "1.05%");
    }
}
