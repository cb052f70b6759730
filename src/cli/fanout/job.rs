//! What runs on one target, on a connection of its own or (for the schemas
//! of one database) on the worker's connection, reused.

use serde::Serialize;

use super::targets::FanoutTarget;
use crate::connection::{Access, AnyConnection};
use crate::error::Error;
use crate::executor::ApplyOptions;
use crate::migrator::Migrator;
use crate::observer::Silent;
use crate::report::StepReport;

/// The commands that run over many databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Job {
    Apply {
        options: ApplyOptions,
        allow_out_of_order: bool,
    },
    Status,
    Version,
    Verify,
    Check,
}

impl Job {
    fn access(self) -> Access {
        match self {
            Job::Apply { options, .. } if !options.dry_run => Access::ReadWrite,
            _ => Access::ReadOnly,
        }
    }
}

/// What one target reported.
#[derive(Debug, Default, Serialize)]
pub(super) struct Row {
    pub version_before: i64,
    pub version: i64,
    pub applied: Vec<StepReport>,
    /// How many were applied (kept when `applied` is dropped).
    #[serde(skip)]
    pub applied_count: usize,
    pub pending: Vec<i64>,
    pub problems: usize,
}

impl Row {
    /// The row without the applied migrations' details, for output that
    /// shows only their number: what a run keeps per target is then a few
    /// numbers, so memory stays flat over a thousand targets.
    pub(super) fn summary(self) -> Row {
        Row {
            applied: Vec::new(),
            ..self
        }
    }
}

/// A worker's connection to one database, kept for its next schema of the
/// same database. Each command gives the session back as it found it
/// (`search_path` included), so the next schema starts clean; after a
/// failure the connection is dropped, never reused.
#[derive(Default)]
pub(super) struct Reused {
    conn: Option<(String, AnyConnection)>,
}

/// Why a target failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum JobError {
    #[error(transparent)]
    Database(#[from] Error),
    #[error("{0}")]
    NoSchemas(String),
}

pub(super) fn run_job(
    job: Job,
    migrator: &Migrator,
    target: &FanoutTarget,
    reused: &mut Reused,
) -> Result<Row, JobError> {
    if let Some(reason) = &target.no_schemas {
        return Err(JobError::NoSchemas(reason.clone()));
    }
    let Some(schema) = &target.schema else {
        let mut conn = AnyConnection::connect(&target.url, job.access())?;
        return Ok(run_on(job, migrator, &mut conn)?);
    };
    let key = target.url.as_driver_str();
    let mut conn = match reused.conn.take() {
        Some((url, conn)) if url == key => conn,
        // Another database's connection closes here: one per worker.
        _ => AnyConnection::connect(&target.url, job.access())?,
    };
    let migrator = migrator.clone().in_schema(schema);
    let row = run_on(job, &migrator, &mut conn)?;
    reused.conn = Some((key.to_string(), conn));
    Ok(row)
}

fn run_on(job: Job, migrator: &Migrator, conn: &mut AnyConnection) -> Result<Row, Error> {
    Ok(match job {
        Job::Apply {
            options,
            allow_out_of_order,
        } => {
            let migrator = migrator.clone().allow_out_of_order(allow_out_of_order);
            let report = migrator.apply_with(conn, options, &mut Silent)?;
            Row {
                version_before: report.version_before,
                version: report.version,
                applied_count: report.applied.len(),
                applied: report.applied,
                pending: report.pending.iter().map(|p| p.version).collect(),
                problems: 0,
            }
        }
        Job::Version => {
            let version = migrator.version(conn)?;
            Row {
                version_before: version,
                version,
                ..Row::default()
            }
        }
        Job::Status | Job::Verify | Job::Check => {
            let report = migrator.verify(conn)?;
            Row {
                version_before: report.version,
                version: report.version,
                pending: report.pending,
                problems: report.problems.len(),
                ..Row::default()
            }
        }
    })
}
