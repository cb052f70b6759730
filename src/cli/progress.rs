//! Progress as migrations run. On a terminal a spinner shows the running
//! migration and its elapsed time; piped output gets plain lines. Ctrl-C
//! ends the spinner with a line saying what happens to the migration.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use anstream::{eprintln, println};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{format_ms, indent, Out, DIM, GREEN, YELLOW};
use crate::error::LockKind;
use crate::observer::{Observer, StepInfo};
use crate::report::{Direction, StepReport};

/// The spinner on screen, for the Ctrl-C handler.
static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Installs the Ctrl-C handler once per process: the spinner is cleared,
/// the interruption said, and the process ends with 130. The database
/// rolls back the open transaction when the connection drops.
pub(crate) fn handle_interrupts() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(mut spinner) = SPINNER.lock() {
            if let Some(spinner) = spinner.take() {
                spinner.finish_and_clear();
            }
        }
        eprintln!(
            "interrupted: the migration in progress is rolled back by the database (MySQL, `transaction: false`: left dirty)"
        );
        std::process::exit(130);
    });
}

pub(crate) struct Progress {
    out: Out,
}

impl Progress {
    pub(crate) fn new(out: Out) -> Self {
        Progress { out }
    }

    fn stop_spinner(&mut self) {
        if let Ok(mut spinner) = SPINNER.lock() {
            if let Some(spinner) = spinner.take() {
                spinner.finish_and_clear();
            }
        }
    }
}

impl Observer for Progress {
    fn waiting_for_lock(&mut self, lock: &LockKind) {
        if self.out.quiet {
            return;
        }
        match lock {
            LockKind::Migration { .. } => {
                eprintln!("{YELLOW}waiting for another migrate run to finish…{YELLOW:#}")
            }
            _ => eprintln!("{YELLOW}waiting for a lock…{YELLOW:#}"),
        }
    }

    fn migration_started(&mut self, step: &StepInfo<'_>) {
        if !self.out.human() {
            return;
        }
        if self.out.verbose {
            println!("{DIM}  → {:>4}  {}{DIM:#}", step.version, step.description);
        } else if std::io::stderr().is_terminal() {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg}  ({elapsed})") {
                spinner.set_style(style);
            }
            spinner.set_message(format!("{:>4}  {}", step.version, step.description));
            spinner.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut slot) = SPINNER.lock() {
                *slot = Some(spinner);
            }
        }
    }

    fn statement_started(&mut self, _step: &StepInfo<'_>, index: usize, sql: &str) {
        if self.out.human() && self.out.verbose {
            println!(
                "{DIM}{}{DIM:#}",
                indent(&format!("[{index}] {}", sql.trim()), "          ")
            );
        }
    }

    fn migration_finished(&mut self, report: &StepReport) {
        self.stop_spinner();
        if !self.out.human() {
            return;
        }
        let (mark, note) = match (report.direction, report.from_database) {
            (Direction::Up, _) => ("✓", ""),
            (Direction::Down, false) => ("↩", ""),
            (Direction::Down, true) => (
                "↩",
                "  (not in this build: its recorded down statements ran)",
            ),
        };
        println!(
            "  {GREEN}{mark}{GREEN:#} {:>4}  {}  {DIM}({}){note}{DIM:#}",
            report.version,
            report.description,
            format_ms(report.execution_ms)
        );
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}
