//! `rollback` and `redo`.

use super::{up_work, Executor, Locked};
use crate::connection::MigrationConnection;
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::plan::{plan_redo, plan_rollback, RollbackPlan, RollbackStep, RollbackTarget};
use crate::report::{Direction, PendingMigration, RedoReport, RollbackReport, StepReport};
use crate::step::Work;

impl Executor<'_> {
    /// Runs `down` statements newest first, removing each row; refuses,
    /// before touching anything, when the plan has a blocker. A dry run
    /// shows the plan with its blockers marked.
    pub(crate) fn rollback(
        &self,
        conn: &mut dyn MigrationConnection,
        target: RollbackTarget,
        dry_run: bool,
        observer: &mut dyn Observer,
    ) -> Result<RollbackReport> {
        if dry_run {
            let (_, rows) = self.read(conn)?;
            let plan = plan_rollback(self.code, &rows.rows, target);
            let mut report = new_report(&plan);
            report.dry_run = true;
            report.blocked_by = plan.refusal().cloned();
            report.pending = plan.steps.iter().map(pending).collect();
            return Ok(report);
        }
        self.locked(conn, observer, |conn, observer, locked| {
            let plan = plan_rollback(self.code, &locked.rows.rows, target);
            if let Some(refusal) = plan.refusal() {
                return Err(Error::Refused(refusal.clone()));
            }
            let mut report = new_report(&plan);
            report.reverted = self.revert(conn, observer, &locked, &plan, Vec::new())?;
            report.version = plan.target_version;
            Ok(report)
        })
    }

    /// Rolls back the steps; a failure carries what was reverted before it.
    fn revert(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        locked: &Locked,
        plan: &RollbackPlan,
        mut done: Vec<StepReport>,
    ) -> Result<Vec<StepReport>> {
        for step in &plan.steps {
            let checksum = locked
                .rows
                .rows
                .iter()
                .find(|row| row.version == step.version)
                .and_then(|row| row.checksum.as_deref());
            let work = down_work(step, checksum);
            match self.run_step(conn, observer, locked, &work) {
                Ok(reverted) => {
                    observer.migration_finished(&reverted);
                    done.push(reverted);
                }
                Err(mut failure) => {
                    failure.completed = done;
                    return Err(Error::MigrationFailed { failure });
                }
            }
        }
        Ok(done)
    }

    /// Rolls back the newest `steps` migrations and applies them again.
    pub(crate) fn redo(
        &self,
        conn: &mut dyn MigrationConnection,
        steps: usize,
        observer: &mut dyn Observer,
    ) -> Result<RedoReport> {
        self.locked(conn, observer, |conn, observer, locked| {
            let (plan, again) =
                plan_redo(self.code, &locked.rows.rows, steps).map_err(Error::Refused)?;
            let reverted = self.revert(conn, observer, &locked, &plan, Vec::new())?;
            let mut applied: Vec<StepReport> = Vec::new();
            for migration in again {
                let Some((migration, checksum)) = self.code.find(migration.version) else {
                    continue;
                };
                let work = up_work(migration, checksum);
                match self.run_step(conn, observer, &locked, &work) {
                    Ok(done) => {
                        observer.migration_finished(&done);
                        applied.push(done);
                    }
                    Err(mut failure) => {
                        failure.completed = reverted.into_iter().chain(applied).collect();
                        return Err(Error::MigrationFailed { failure });
                    }
                }
            }
            Ok(RedoReport {
                version: plan.version_before,
                reverted,
                applied,
            })
        })
    }
}

fn new_report(plan: &RollbackPlan) -> RollbackReport {
    RollbackReport {
        reverted: Vec::new(),
        version_before: plan.version_before,
        version: plan.version_before,
        target_version: plan.target_version,
        dry_run: false,
        pending: Vec::new(),
        blocked_by: None,
    }
}

fn pending(step: &RollbackStep) -> PendingMigration {
    PendingMigration {
        version: step.version,
        description: step.description.clone(),
        transaction: step.transaction,
        sql: step.statements.clone(),
        code: step
            .migration
            .and_then(|m| m.code)
            .filter(|code| code.down.is_some())
            .map(|code| code.label()),
        from_database: step.is_from_database(),
        blocker: step.blocker.as_ref().map(ToString::to_string),
    }
}

fn down_work<'s>(step: &'s RollbackStep, checksum: Option<&'s str>) -> Work<'s> {
    let statements: Vec<&str> = step.statements.iter().map(String::as_str).collect();
    Work {
        version: step.version,
        description: &step.description,
        direction: Direction::Down,
        foreign_keys_off: crate::migration::disables_foreign_keys(&statements),
        statements,
        checksum,
        down: Vec::new(),
        transaction: step.transaction,
        from_database: step.is_from_database(),
        code: step
            .migration
            .and_then(|m| m.code)
            .and_then(|code| code.down.map(|down| (code.name, down))),
    }
}
