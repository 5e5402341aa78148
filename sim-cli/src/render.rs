//! Sweep reports: a self-contained HTML page with inline SVG charts,
//! Markdown, CSV and JSON. Same results, same bytes.

use std::path::Path;
use std::process::ExitCode;

use sim_core::sweep::results::Results;

pub fn write_report(_r: &Results, _dir: &Path) -> Result<(), String> {
    Err("error: reports are not written yet\n".into())
}

pub fn report_cmd(_results: &Path, _out: &Path) -> ExitCode {
    crate::fail("error: reports are not written yet\n".into())
}
