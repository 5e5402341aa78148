//! Progress on standard error, for commands that can take a while: drawn
//! only when standard error is a terminal and not under CI (`CI` set), so
//! output files, pipes and logs never see it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::time::SimDuration;

/// Whether progress is drawn at all.
pub fn shown() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A bar of `len` steps with `template` (indicatif's syntax); hidden unless
/// [`shown`].
pub fn bar(len: u64, template: &str) -> ProgressBar {
    let target = if shown() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
}

/// Follows a run's simulated clock through the attempts it sees (one
/// comparison per attempt; the bar moves each 1% of the run).
pub struct RunProgress {
    bar: ProgressBar,
    step_ns: u64,
    next_ns: u64,
}

impl RunProgress {
    pub fn new(duration: SimDuration) -> RunProgress {
        let step_ns = (duration.as_ns() / 100).max(1);
        RunProgress {
            bar: bar(
                100,
                "{bar:40} {pos}% of the simulated time  {elapsed} elapsed, ETA {eta}",
            ),
            step_ns,
            next_ns: step_ns,
        }
    }
}

impl sim_core::Observer for RunProgress {
    fn attempt(&mut self, a: &sim_core::Attempt) {
        if a.at.as_ns() >= self.next_ns {
            self.bar.set_position(a.at.as_ns() / self.step_ns);
            self.next_ns = (a.at.as_ns() / self.step_ns + 1) * self.step_ns;
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
