//! Progress hooks. The migrator never prints; it tells an [`Observer`] what
//! happens as it happens (the CLI's progress display is one).

use crate::error::LockKind;
use crate::report::{Direction, StepReport};

/// A migration about to run.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StepInfo<'a> {
    /// The migration.
    pub version: i64,
    /// Its description.
    pub description: &'a str,
    /// Applying or rolling back.
    pub direction: Direction,
    /// Rolled back with the `down` statements recorded in its row.
    pub from_database: bool,
}

/// Hooks for progress output. Every method has a no-op default.
pub trait Observer {
    /// Another session holds a lock this run needs; called once per lock
    /// before waiting.
    fn waiting_for_lock(&mut self, _lock: &LockKind) {}
    /// A migration (up or down) starts.
    fn migration_started(&mut self, _step: &StepInfo<'_>) {}
    /// One of its statements starts; `index` is 1-based.
    fn statement_started(&mut self, _step: &StepInfo<'_>, _index: usize, _sql: &str) {}
    /// A migration finished and is recorded (or its row removed).
    fn migration_finished(&mut self, _report: &StepReport) {}
    /// A code step's batches (`Db::in_batches`) have changed `rows` rows so far.
    fn code_progress(&mut self, _step: &StepInfo<'_>, _rows: u64, _elapsed: std::time::Duration) {}
    /// A migration gave up waiting for a lock and nothing of it was kept; it
    /// runs again after `pause` (retry `attempt` of `retries`).
    fn retrying(
        &mut self,
        _step: &StepInfo<'_>,
        _attempt: u32,
        _retries: u32,
        _pause: std::time::Duration,
    ) {
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}
