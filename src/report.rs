//! What the migrator returns. Serialisable for `--json` (one field name, one
//! type and meaning, in every document); the CLI renders them for people.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::refusal::{Problem, Refusal, State};
use crate::tracking::{AppliedMigration, RowWarning};

/// Whether a migration was being applied or rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `apply`.
    Up,
    /// `rollback`.
    Down,
}

/// One migration applied or rolled back by a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StepReport {
    /// The migration.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// Applied or rolled back.
    pub direction: Direction,
    /// How long its statements took, in milliseconds.
    pub execution_ms: f64,
    /// The checksum recorded (applied) or removed (rolled back).
    pub checksum: Option<String>,
    /// Rolled back with the `down` statements recorded in its row, because
    /// the code does not have this migration.
    pub from_database: bool,
}

/// The outcome of `apply`.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Migrations applied by this run, in order.
    pub applied: Vec<StepReport>,
    /// Migrations of the code found applied.
    pub already_applied: usize,
    /// Migrations in the code.
    pub total: usize,
    /// The version before the run.
    pub version_before: i64,
    /// The version after it (for a dry run: unchanged).
    pub version: i64,
    /// Rows from an older table whose checksum was recorded by this run.
    pub adopted_checksums: Vec<i64>,
    /// Nothing was changed.
    pub dry_run: bool,
    /// For a dry run: what would be applied, in order.
    pub pending: Vec<PendingMigration>,
    /// For a dry run: the statements run first on the connection.
    pub session_sql: Vec<String>,
}

/// A migration a dry run would apply or roll back, with its statements.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PendingMigration {
    /// The migration.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// Whether it runs in a transaction.
    pub transaction: bool,
    /// The statements it would run.
    pub sql: Vec<String>,
    /// Its code step that would run (`name (revision N)`).
    pub code: Option<String>,
    /// Rolled back with the `down` statements recorded in its row.
    pub from_database: bool,
    /// Why it could not run, if it could not.
    pub blocker: Option<String>,
}

/// One migration in `status`: each of the code's, then any row the code
/// does not know.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The migration.
    pub version: i64,
    /// The code's description (the recorded one for an unknown version).
    pub description: String,
    /// The description the database recorded, where it differs.
    pub recorded_description: Option<String>,
    /// Where it stands.
    pub state: StatusState,
    /// When it was applied.
    pub applied_at: Option<DateTime<Utc>>,
    /// How long it took, in milliseconds.
    pub execution_ms: Option<f64>,
    /// The code's checksum (`None` for an unknown version).
    pub checksum: Option<String>,
    /// Its code step (`name (revision N)`), if it has one.
    pub code: Option<String>,
}

/// A migration's state in `status`: the code's states, and versions only
/// the database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StatusState {
    /// Applied, with the code's checksum.
    Applied,
    /// Applied, but the code's SQL differs from what ran.
    Edited,
    /// Not applied yet.
    Pending,
    /// Started and did not finish.
    Dirty,
    /// Applied, but not in the code (the database is ahead).
    Unknown,
}

impl From<State> for StatusState {
    fn from(state: State) -> Self {
        match state {
            State::Applied => StatusState::Applied,
            State::Edited => StatusState::Edited,
            State::Pending => StatusState::Pending,
            State::Dirty => StatusState::Dirty,
        }
    }
}

/// The outcome of `status`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// The current version.
    pub version: i64,
    /// False when the tracking table does not exist yet (nothing applied).
    pub table_exists: bool,
    /// Every migration.
    pub migrations: Vec<MigrationStatus>,
    /// Versions waiting to be applied.
    pub pending: Vec<i64>,
    /// What stops `apply`.
    pub problems: Vec<Problem>,
    /// Applied rows without a checksum yet (older table); `apply` records them.
    pub unverified: Vec<i64>,
    /// Rows with unreadable values.
    pub warnings: Vec<RowWarning>,
}

/// The outcome of `history`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct HistoryReport {
    /// Every row, by version.
    pub migrations: Vec<AppliedMigration>,
    /// Rows with unreadable values.
    pub warnings: Vec<RowWarning>,
}

/// The outcome of `verify`: what stands between the database and the code.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The current version.
    pub version: i64,
    /// What stops `apply`.
    pub problems: Vec<Problem>,
    /// Versions waiting to be applied (not a problem for `verify`; `check` fails on them).
    pub pending: Vec<i64>,
    /// Applied rows without a checksum yet (older table): recorded by the next `apply`.
    pub unverified: Vec<i64>,
    /// Rows with unreadable values.
    pub warnings: Vec<RowWarning>,
}

/// The outcome of `repair`.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct RepairReport {
    /// Dirty rows removed: those migrations will run again on the next `apply`.
    pub removed_dirty: Vec<i64>,
    /// Rows whose checksum and description now match the code.
    pub accepted: Vec<i64>,
    /// Rows for versions the code does not know, left alone.
    pub unknown: Vec<i64>,
}

/// The outcome of `baseline`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BaselineReport {
    /// Versions recorded as applied without running them.
    pub recorded: Vec<i64>,
    /// The version now.
    pub version: i64,
}

/// The outcome of `rollback`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RollbackReport {
    /// Migrations rolled back, newest first.
    pub reverted: Vec<StepReport>,
    /// The version before the run.
    pub version_before: i64,
    /// The version now (for a dry run: unchanged).
    pub version: i64,
    /// The version the rollback goes down to.
    pub target_version: i64,
    /// Nothing was changed.
    pub dry_run: bool,
    /// For a dry run: what would be rolled back, with the `down` statements.
    pub pending: Vec<PendingMigration>,
    /// For a dry run: why the real run would refuse, if it would.
    pub blocked_by: Option<Refusal>,
}

/// The outcome of `redo`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RedoReport {
    /// Migrations rolled back, newest first.
    pub reverted: Vec<StepReport>,
    /// The same migrations applied again, oldest first.
    pub applied: Vec<StepReport>,
    /// The version now.
    pub version: i64,
}
