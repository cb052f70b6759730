//! Rollback and redo plans: which rows, newest first, with which `down`
//! statements (the code's, or those recorded in the row for a version the
//! code does not know), and what blocks them.

use super::{current_version, CodeList, Refusal};
use crate::migration::Migration;
use crate::tracking::AppliedMigration;

/// How far a rollback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RollbackTarget {
    /// Roll back every migration above this version.
    To(i64),
    /// Roll back this many of the newest applied migrations.
    Steps(usize),
}

/// One migration to roll back.
#[derive(Debug, Clone)]
pub(crate) struct RollbackStep {
    pub version: i64,
    pub description: String,
    pub statements: Vec<String>,
    /// Whether the code has this migration (else its recorded `down` is used).
    pub migration: Option<&'static Migration>,
    /// Whether the statements run in one transaction with the row's removal.
    pub transaction: bool,
    /// Why this step cannot run, if it cannot.
    pub blocker: Option<Refusal>,
}

impl RollbackStep {
    pub(crate) fn is_from_database(&self) -> bool {
        self.migration.is_none()
    }
}

/// What `rollback` will do.
#[derive(Debug, Clone)]
pub(crate) struct RollbackPlan {
    /// Newest first.
    pub steps: Vec<RollbackStep>,
    pub version_before: i64,
    /// The version once every step ran.
    pub target_version: i64,
    /// Blocks the whole plan (a dirty row).
    pub blocker: Option<Refusal>,
}

impl RollbackPlan {
    /// The first reason the plan cannot run, if any.
    pub(crate) fn refusal(&self) -> Option<&Refusal> {
        self.blocker
            .as_ref()
            .or_else(|| self.steps.iter().find_map(|s| s.blocker.as_ref()))
    }
}

/// Plans a rollback. Every blocker is marked on the plan (so a dry run can
/// show it) rather than returned: the executor refuses a plan with any.
pub(crate) fn plan_rollback(
    code: CodeList,
    rows: &[AppliedMigration],
    target: RollbackTarget,
) -> RollbackPlan {
    let blocker = rows
        .iter()
        .find(|row| !row.success)
        .map(|row| Refusal::Dirty {
            version: row.version,
            description: row.description.clone(),
        });
    let mut newest_first: Vec<&AppliedMigration> = rows.iter().collect();
    newest_first.sort_by_key(|row| std::cmp::Reverse(row.version));
    let chosen: Vec<&AppliedMigration> = match target {
        RollbackTarget::To(version) => newest_first
            .into_iter()
            .take_while(|row| row.version > version)
            .collect(),
        RollbackTarget::Steps(steps) => newest_first.into_iter().take(steps).collect(),
    };
    let steps = chosen.iter().map(|row| step_for(code, row)).collect();
    let target_version = rows
        .iter()
        .filter(|row| row.success && !chosen.iter().any(|c| c.version == row.version))
        .map(|row| row.version)
        .max()
        .unwrap_or(0);
    RollbackPlan {
        steps,
        version_before: current_version(rows),
        target_version,
        blocker,
    }
}

fn step_for(code: CodeList, row: &AppliedMigration) -> RollbackStep {
    let (version, recorded) = (row.version, row.description.clone());
    match code.find(version) {
        Some((migration, _)) => RollbackStep {
            version,
            description: migration.description.to_string(),
            statements: migration.down.iter().map(|s| s.to_string()).collect(),
            migration: Some(migration),
            transaction: migration.transaction,
            blocker: (!migration.is_reversible()).then(|| Refusal::Irreversible {
                version,
                description: migration.description.to_string(),
            }),
        },
        None => {
            let statements = row.down.clone().unwrap_or_default();
            let blocker = match &row.down {
                None => Some(Refusal::DownUnknown {
                    version,
                    description: recorded.clone(),
                }),
                Some(down) if down.is_empty() => Some(Refusal::Irreversible {
                    version,
                    description: recorded.clone(),
                }),
                Some(_) => None,
            };
            RollbackStep {
                version,
                description: recorded,
                statements,
                migration: None,
                transaction: true,
                blocker,
            }
        }
    }
}

/// `redo`: roll back the newest `steps` and apply them again from the code.
/// Refuses a version the code does not have, besides everything a rollback
/// refuses.
pub(crate) fn plan_redo(
    code: CodeList,
    rows: &[AppliedMigration],
    steps: usize,
) -> Result<(RollbackPlan, Vec<&'static Migration>), Refusal> {
    let plan = plan_rollback(code, rows, RollbackTarget::Steps(steps));
    if let Some(refusal) = plan.refusal() {
        return Err(refusal.clone());
    }
    let mut again = Vec::new();
    for step in plan.steps.iter().rev() {
        match step.migration {
            Some(migration) => again.push(migration),
            None => {
                return Err(Refusal::RedoNotInCode {
                    version: step.version,
                    description: step.description.clone(),
                })
            }
        }
    }
    Ok((plan, again))
}
