//! `roundtrip`: proves every `down` on a scratch database. For each
//! migration in order: read the schema, apply it, roll it back, the schema
//! must be what it was; apply it again, the schema must be what the first
//! apply made.

use serde::Serialize;

use super::diff::{diff, SchemaChange};
use super::drift::ensure_empty;
use crate::connection::MigrationConnection;
use crate::error::Result;
use crate::migrator::Migrator;
use crate::observer::Silent;
use crate::plan::RollbackTarget;

/// What happened to one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoundtripOutcome {
    /// Applied, rolled back to exactly the schema before, applied again to
    /// exactly the same schema.
    Reversible,
    /// It has no `down`: applied and kept (not a failure).
    Irreversible,
    /// Its `down` did not restore the schema before it.
    DownDiffers,
    /// Applying it again after its `down` gave another schema than the
    /// first time.
    ReapplyDiffers,
}

/// One migration's round trip.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RoundtripStep {
    /// Its version.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// What happened.
    pub outcome: RoundtripOutcome,
    /// For a failure: `expected` is the schema that should have been there
    /// (before the migration, or after its first apply), `actual` what was.
    pub changes: Vec<SchemaChange>,
}

/// What `roundtrip` found: every migration up to and including the first
/// failure.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RoundtripReport {
    /// Each migration tried, in order.
    pub migrations: Vec<RoundtripStep>,
    /// The first migration whose round trip failed.
    pub failed: Option<i64>,
}

impl RoundtripReport {
    /// Every `down` restored its schema.
    pub fn is_clean(&self) -> bool {
        self.failed.is_none()
    }
}

impl Migrator {
    /// On `scratch` (an empty database), for each migration in order:
    /// apply, roll back, compare with the schema before; apply again,
    /// compare with the first apply's. Stops at the first migration whose
    /// `down` does not restore the schema. An application's `cargo test`
    /// calls it on a temporary database to prove every `down`.
    pub fn roundtrip(&self, scratch: &mut dyn MigrationConnection) -> Result<RoundtripReport> {
        ensure_empty(self, scratch)?;
        let mut before = self.schema(scratch)?;
        let mut report = RoundtripReport {
            migrations: Vec::new(),
            failed: None,
        };
        let mut previous = 0;
        for migration in self.migrations() {
            let to = crate::executor::ApplyOptions::default().to(migration.version);
            self.apply_with(scratch, to, &mut Silent)?;
            let applied = self.schema(scratch)?;
            let mut step = RoundtripStep {
                version: migration.version,
                description: migration.description.to_string(),
                outcome: RoundtripOutcome::Irreversible,
                changes: Vec::new(),
            };
            if migration.is_reversible() {
                self.rollback(scratch, RollbackTarget::To(previous), false, &mut Silent)?;
                let restored = self.schema(scratch)?;
                step.changes = diff(&before, &restored);
                step.outcome = RoundtripOutcome::DownDiffers;
                if step.changes.is_empty() {
                    self.apply_with(scratch, to, &mut Silent)?;
                    let again = self.schema(scratch)?;
                    step.changes = diff(&applied, &again);
                    step.outcome = match step.changes.is_empty() {
                        true => RoundtripOutcome::Reversible,
                        false => RoundtripOutcome::ReapplyDiffers,
                    };
                }
            }
            let failed = !step.changes.is_empty();
            report.migrations.push(step);
            if failed {
                report.failed = Some(migration.version);
                break;
            }
            before = applied;
            previous = migration.version;
        }
        Ok(report)
    }
}
