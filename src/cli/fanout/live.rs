//! On a terminal, a fleet of more than a screenful of targets shows a live
//! count (done / failed / remaining) instead of a scrolling row each; the
//! failed rows still print, above the count. Piped output (and `-v`) gets
//! every row.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::output::Out;

/// Up to this many targets, a terminal gets a row each.
const ROWS_UP_TO: usize = 20;

pub(super) struct Live {
    bar: ProgressBar,
    total: usize,
    done: usize,
    failed: usize,
}

impl Live {
    /// A live count when the output is a terminal with many targets.
    pub(super) fn start(out: Out, total: usize) -> Option<Live> {
        let wanted =
            out.human() && !out.verbose && total > ROWS_UP_TO && std::io::stdout().is_terminal();
        if !wanted {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stdout());
        if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg}  ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        let live = Live {
            bar,
            total,
            done: 0,
            failed: 0,
        };
        live.show();
        Some(live)
    }

    /// One target finished; a failed one keeps its row.
    pub(super) fn finished(&mut self, failed: bool, row: &str) {
        self.done += 1;
        if failed {
            self.failed += 1;
            self.bar.println(row);
        }
        self.show();
    }

    fn show(&self) {
        self.bar.set_position(self.done as u64);
        self.bar.set_message(format!(
            "{} ok, {} failed, {} remaining",
            self.done - self.failed,
            self.failed,
            self.total - self.done
        ));
    }

    pub(super) fn finish(self) {
        self.bar.finish_and_clear();
    }
}
