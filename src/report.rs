//! What the migrator returns. Serialisable for `--json`; the CLI renders them
//! for people.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::plan::{Problem, State};

/// One migration applied by a run.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedReport {
    pub version: i64,
    pub description: String,
    pub execution_ms: f64,
    pub checksum: String,
}

/// The outcome of `apply`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyReport {
    pub applied: Vec<AppliedReport>,
    /// Migrations of the code found applied (including by a concurrent run).
    pub already_applied: usize,
    /// Migrations in the code.
    pub total: usize,
    pub version_before: i64,
    pub version: i64,
    /// Legacy rows whose checksum was recorded by this run.
    pub adopted_checksums: Vec<i64>,
    pub dry_run: bool,
    /// For a dry run: what would be applied, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingMigration>,
}

/// A migration a dry run would apply, with its statements.
#[derive(Debug, Clone, Serialize)]
pub struct PendingMigration {
    pub version: i64,
    pub description: String,
    pub transaction: bool,
    pub sql: Vec<String>,
}

/// One migration in `status`.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: State,
    pub applied_at: Option<DateTime<Utc>>,
    pub execution_ms: Option<i64>,
    pub checksum: String,
}

/// The outcome of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub version: i64,
    /// False when the tracking table does not exist yet (nothing applied).
    pub table_exists: bool,
    pub migrations: Vec<MigrationStatus>,
    /// Versions waiting to be applied.
    pub pending: Vec<i64>,
    pub problems: Vec<Problem>,
}

/// One applied migration in `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub description: String,
    pub applied_at: Option<DateTime<Utc>>,
    pub execution_ms: i64,
    pub checksum: Option<String>,
    pub success: bool,
}

/// The outcome of `verify`: what stands between the database and the code.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub version: i64,
    pub problems: Vec<Problem>,
    /// Versions waiting to be applied (not a problem for `verify`; `check` fails on them).
    pub pending: Vec<i64>,
    /// Applied rows without a checksum (from a legacy table): recorded by the next `apply`.
    pub unverified: Vec<i64>,
}

/// The outcome of `repair`.
#[derive(Debug, Clone, Default, Serialize)]
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
pub struct BaselineReport {
    /// Versions recorded as applied without running them.
    pub recorded: Vec<i64>,
    pub version: i64,
}

/// The outcome of `rollback`.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// Migrations rolled back, newest first.
    pub reverted: Vec<AppliedReport>,
    pub version_before: i64,
    /// The version now (for a dry run: unchanged).
    pub version: i64,
    /// The version the rollback goes down to.
    pub target_version: i64,
    pub dry_run: bool,
    /// For a dry run: what would be rolled back, with the `down` statements.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingMigration>,
}
