//! The HTML pages: `ksim run --format html` is byte-stable and
//! self-contained, and in a real browser headless Chromium loads the run page
//! (`ksim run --format html`) and a sweep report at a desktop width
//! (1400 px) and a phone width (390 px), and checks that nothing scrolls
//! sideways, every chart has marks, and nothing was logged as an error.
//! Screenshots are kept under `target/tmp/screenshots/` to look at.
//!
//! Chromium's window cannot be narrower than 500 px, so each page is loaded
//! into an iframe of the exact width (as `srcdoc`, so the probe may read it).

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)] // not every helper is used here
mod common;
use common::TempDir;

const KSIM: &str = env!("CARGO_BIN_EXE_ksim");

/// Five churning pods, four clients, 40 s; the sweep: 3 cache times x 2
/// balancers x 2 seeds.
const STUDY: &str = "name: browser-study
seed: 7
duration: 40s
services:
  - {name: db, clusterIP: None, selector: {app: db}, ports: [5432]}
statefulsets:
  - name: db
    service: db
    replicas: 5
    start_ready: true
    podManagementPolicy: Parallel
    lifecycle: {startup: 2s, drain: 1s, teardown: 1s}
    churn: {lifetime: exponential(30s)}
clients:
  - name: app
    count: 4
    target: db:5432
    rate: 20
    resolver: {cache: fixed(10s)}
    balancer: round-robin
    connect_timeout: 1s
sweep:
  seeds: 2
  parameters:
    - path: clients[0].balancer
      values: [round-robin, random]
    - path: clients[0].resolver.cache
      values: [fixed(1s), fixed(10s), fixed(30s)]
      cheapest: last
slo: [\"rates.stale_ip_error_rate < 5%\"]
";

/// Chromium as the machine has it (`.ci/run` installs Debian's).
fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Records errors from the first line of the page on.
const HOOK: &str = "<script>window.__errors=[];window.addEventListener('error',function(e){__errors.push(String(e.message))});(function(){var ce=console.error;console.error=function(){__errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();</script>";

/// Measures the framed page once it has loaded and writes the figures into
/// the harness as JSON: scroll and inner width, and for every chart the
/// number of marks drawn in a colour (grey, black and white are axes, grid
/// and background).
const PROBE: &str = "<script>var f=document.getElementById('page');f.addEventListener('load',function(){var d=f.contentDocument,w=f.contentWindow;function neutral(c){var m=c.match(/#[0-9a-fA-F]{6}/g)||[];return m.every(function(h){h=h.toLowerCase();return h.substr(1,2)==h.substr(3,2)&&h.substr(3,2)==h.substr(5,2)})}var charts=Array.prototype.map.call(d.querySelectorAll('figure.chart'),function(fig){var svg=fig.querySelector('svg');var marks=0;if(svg){svg.querySelectorAll('rect,path,polyline,polygon,circle,line').forEach(function(el){var c=(el.getAttribute('fill')||'')+' '+(el.getAttribute('stroke')||'');if(/#[0-9a-fA-F]{6}/.test(c)&&!neutral(c))marks++})}var r=svg?svg.getBoundingClientRect():{width:0,height:0};return {title:(fig.querySelector('figcaption')||{}).textContent||'',marks:marks,width:Math.round(r.width),height:Math.round(r.height)}});f.style.height=d.documentElement.scrollHeight+'px';var pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify({scrollWidth:d.documentElement.scrollWidth,innerWidth:w.innerWidth,charts:charts,errors:w.__errors||['no error hook']});document.body.appendChild(pre)});</script>";

fn attr_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

/// The harness page: `page` in an iframe `width` px wide.
fn harness(page: &str, width: u32) -> String {
    let framed = page.replacen("<head>", &format!("<head>{HOOK}"), 1);
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{{margin:0}}iframe{{border:0;display:block}}</style></head><body><iframe id=\"page\" width=\"{width}\" height=\"2000\" srcdoc=\"{}\"></iframe>{PROBE}</body></html>",
        attr_escape(&framed)
    )
}

fn chromium_args(profile: &Path, width: u32) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={},6000", width.max(500)),
    ]
}

struct Probe {
    scroll_width: u64,
    inner_width: u64,
    charts: Vec<serde_json::Value>,
    errors: Vec<serde_json::Value>,
}

/// Load `page` at `width` px: the probe's figures, and a screenshot at
/// `shot`.
fn load(browser: &str, t: &TempDir, page: &str, width: u32, shot: &Path) -> Probe {
    let file = t.write(
        &format!("harness-{width}.html"),
        harness(page, width).as_bytes(),
    );
    let url = format!("file://{}", file.display());
    let profile = t.0.join(format!("profile-{width}"));
    let out = Command::new(browser)
        .args(chromium_args(&profile, width))
        .args(["--dump-dom", &url])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "the probe did not report:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).expect("probe JSON");
    let shot_out = Command::new(browser)
        .args(chromium_args(&profile, width))
        .args([&format!("--screenshot={}", shot.display()), &url])
        .output()
        .expect("run chromium");
    assert!(
        shot.exists(),
        "no screenshot:\n{}",
        String::from_utf8_lossy(&shot_out.stderr)
    );
    Probe {
        scroll_width: v["scrollWidth"].as_u64().expect("scrollWidth"),
        inner_width: v["innerWidth"].as_u64().expect("innerWidth"),
        charts: v["charts"].as_array().cloned().unwrap_or_default(),
        errors: v["errors"].as_array().cloned().unwrap_or_default(),
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Load `page` at both widths and check it; `min_charts` charts at least.
fn check(name: &str, page: &str, min_charts: usize) {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: chromium is not installed (.ci/run installs it)");
        return;
    };
    let t = TempDir::new(&format!("browser-{name}"));
    for width in [1400, 390] {
        let shot = screenshots().join(format!("{name}-{width}.png"));
        let p = load(browser, &t, page, width, &shot);
        assert_eq!(p.inner_width, u64::from(width), "{name}: the frame's width");
        assert!(
            p.scroll_width <= p.inner_width,
            "{name} at {width} px scrolls sideways: {} px of content",
            p.scroll_width
        );
        assert!(p.errors.is_empty(), "{name} at {width} px: {:?}", p.errors);
        assert!(
            p.charts.len() >= min_charts,
            "{name}: {} charts, expected {min_charts} or more",
            p.charts.len()
        );
        for c in &p.charts {
            assert!(
                c["marks"].as_u64().unwrap_or(0) > 0,
                "{name} at {width} px: a chart without marks: {c}"
            );
            assert!(
                c["width"].as_u64().unwrap_or(0) >= 300,
                "{name} at {width} px: a chart squeezed: {c}"
            );
        }
        eprintln!("{name} at {width} px: screenshot {}", shot.display());
    }
}

fn ksim(args: &[&str]) {
    let out = Command::new(KSIM).args(args).output().expect("run ksim");
    assert_eq!(
        out.status.code(),
        Some(0),
        "ksim {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_run_page_fits_a_desktop_and_a_phone_with_every_chart_drawn() {
    let t = TempDir::new("browser-run");
    let page = t.0.join("run.html");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/web-statefulset.yaml");
    ksim(&[
        "run",
        scenario.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    // Pods, endpoints, ok / failed / stale per window, load.
    check("run", &html, 6);
}

#[test]
fn the_sweep_report_fits_a_desktop_and_a_phone_with_every_chart_drawn() {
    let t = TempDir::new("browser-sweep");
    let f = t.write("study.yaml", STUDY.as_bytes());
    let dir = t.0.join("report");
    ksim(&[
        "sweep",
        f.to_str().unwrap(),
        "--report",
        dir.to_str().unwrap(),
        "--out",
        t.0.join("results.json").to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // Five metrics (latency is not modelled), then the featured run.
    check("sweep", &html, 8);
}

fn run_html(seed: &str) -> String {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/rolling-update.yaml");
    let out = Command::new(KSIM)
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--format",
            "html",
            "--seed",
            seed,
        ])
        .output()
        .expect("run ksim");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_run_page_is_the_same_bytes_for_the_same_run_and_needs_no_network() {
    let a = run_html("3");
    assert_eq!(a, run_html("3"));
    assert_ne!(a, run_html("4"), "another seed, another page");
    let rest = a.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!rest.contains("http://") && !rest.contains("https://"));
    assert!(!rest.contains("<script") && !rest.contains("<link") && !rest.contains("src="));
    for part in [
        "<h1>Run: rolling-update</h1>",
        "seed <b>3</b>",
        "digest <code>sha256:",
        "Pod lifecycle",
        "Endpoints and DNS answers",
        "Successful attempts per window",
        "Load per pod identity",
    ] {
        assert!(a.contains(part), "the page has {part}");
    }
    // The report's findings (every run has the list) get their section.
    assert!(a.contains("<h2>Findings</h2>"));
}
