//! `repair` and `baseline`, each in one transaction of its own, and the
//! read commands' reports.

use chrono::Utc;

use super::Executor;
use crate::connection::MigrationConnection;
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::plan::{analyze, plan_baseline, plan_repair, states};
use crate::report::{
    BaselineReport, HistoryReport, MigrationStatus, RepairReport, StatusReport, StatusState,
    VerifyReport,
};
use crate::tracking::{AppliedMigration, Shape};

impl Executor<'_> {
    /// After a person fixed the database by hand: removes dirty rows (their
    /// migrations run again on the next `apply`) and records the code's
    /// checksum and description where they differ. Descriptions that differ
    /// are refused unless `accept_descriptions`.
    pub(crate) fn repair(
        &self,
        conn: &mut dyn MigrationConnection,
        accept_descriptions: bool,
        observer: &mut dyn Observer,
    ) -> Result<RepairReport> {
        self.locked(conn, observer, |conn, _, locked| {
            if locked.shape == Shape::Missing {
                return Ok(RepairReport::default());
            }
            let plan = plan_repair(self.code, &locked.rows.rows, accept_descriptions)
                .map_err(Error::Refused)?;
            let report = RepairReport {
                removed_dirty: plan.remove_dirty.clone(),
                accepted: plan.accept.iter().map(|(version, _, _)| *version).collect(),
                unknown: plan.unknown.clone(),
            };
            if plan.is_empty() {
                return Ok(report);
            }
            let store = &locked.store;
            store.ensure(conn, &locked.shape)?;
            self.in_transaction(conn, "repairing the tracking table", |conn| {
                // The rows change: no list vouches for them any more.
                store
                    .clear_list_fingerprints(conn)
                    .map_err(|e| store.error("forgetting the list fingerprints", e))?;
                for &version in &plan.remove_dirty {
                    store
                        .delete(conn, version)
                        .map_err(|e| store.error("removing a dirty row", e))?;
                }
                for (version, description, checksum) in &plan.accept {
                    store
                        .accept(conn, *version, description, checksum)
                        .map_err(|e| store.error("accepting the code's checksum", e))?;
                }
                Ok(())
            })?;
            Ok(report)
        })
    }

    /// Adopts an existing database: records every migration up to
    /// `version` as applied without running it. Only on an empty history.
    pub(crate) fn baseline(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        observer: &mut dyn Observer,
    ) -> Result<BaselineReport> {
        self.locked(conn, observer, |conn, _, locked| {
            let adopted =
                plan_baseline(self.code, &locked.rows.rows, version).map_err(Error::Refused)?;
            let store = &locked.store;
            store.ensure(conn, &locked.shape)?;
            let now = Utc::now();
            self.in_transaction(conn, "recording the baseline", |conn| {
                for migration in &adopted {
                    let checksum = self
                        .code
                        .find(migration.version)
                        .map(|(_, c)| c.to_string());
                    let row = AppliedMigration {
                        version: migration.version,
                        description: migration.description.to_string(),
                        checksum,
                        applied_at: Some(now),
                        execution_ms: 0.0,
                        success: true,
                        down: Some(migration.down.iter().map(|s| s.to_string()).collect()),
                        list_fingerprint: None,
                    };
                    store
                        .insert(conn, &row)
                        .map_err(|e| store.error("recording the baseline", e))?;
                }
                Ok(())
            })?;
            Ok(BaselineReport {
                recorded: adopted.iter().map(|m| m.version).collect(),
                version: adopted.last().map_or(0, |m| m.version),
            })
        })
    }

    /// Each migration with its state, then versions only the database has.
    pub(crate) fn status(&self, conn: &mut dyn MigrationConnection) -> Result<StatusReport> {
        let (shape, rows) = self.read(conn)?;
        let analysis = analyze(self.code, &rows.rows, self.plan_options(None, &shape));
        let mut migrations: Vec<MigrationStatus> = states(self.code, &rows.rows)
            .into_iter()
            .map(|(m, state, index)| {
                let row = index.map(|i| &rows.rows[i]);
                MigrationStatus {
                    version: m.version,
                    description: m.description.to_string(),
                    recorded_description: row
                        .map(|r| r.description.clone())
                        .filter(|recorded| recorded != m.description),
                    state: state.into(),
                    applied_at: row.and_then(|r| r.applied_at),
                    execution_ms: row.map(|r| r.execution_ms),
                    checksum: self.code.find(m.version).map(|(_, c)| c.to_string()),
                    code: m.code.map(|code| code.label()),
                }
            })
            .collect();
        for row in rows
            .rows
            .iter()
            .filter(|row| self.code.find(row.version).is_none())
        {
            migrations.push(MigrationStatus {
                version: row.version,
                description: row.description.clone(),
                recorded_description: None,
                state: match row.success {
                    true => StatusState::Unknown,
                    false => StatusState::Dirty,
                },
                applied_at: row.applied_at,
                execution_ms: Some(row.execution_ms),
                checksum: None,
                code: None,
            });
        }
        migrations.sort_by_key(|m| m.version);
        Ok(StatusReport {
            version: analysis.version,
            table_exists: shape != Shape::Missing,
            migrations,
            pending: analysis.pending.iter().map(|(m, _)| m.version).collect(),
            problems: analysis.problems,
            unverified: analysis.unverified,
            warnings: rows.warnings,
        })
    }

    /// Compares the database with the code.
    pub(crate) fn verify(&self, conn: &mut dyn MigrationConnection) -> Result<VerifyReport> {
        let (shape, rows) = self.read(conn)?;
        let analysis = analyze(self.code, &rows.rows, self.plan_options(None, &shape));
        Ok(VerifyReport {
            version: analysis.version,
            problems: analysis.problems,
            pending: analysis.pending.iter().map(|(m, _)| m.version).collect(),
            unverified: analysis.unverified,
            warnings: rows.warnings,
        })
    }

    /// Every row, by version.
    pub(crate) fn history(&self, conn: &mut dyn MigrationConnection) -> Result<HistoryReport> {
        let (_, rows) = self.read(conn)?;
        Ok(HistoryReport {
            migrations: rows.rows,
            warnings: rows.warnings,
        })
    }
}
