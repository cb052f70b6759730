//! One error type for the library. Messages are lower-case, name the version
//! and say what to do next; the CLI prints them as they are.

use std::time::Duration;

use crate::plan::Problem;
use crate::report::ApplyReport;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error(
        "unsupported database URL scheme `{scheme}`: use sqlite://PATH (or a bare path), postgres://, postgresql:// or mysql://"
    )]
    UnsupportedScheme { scheme: String },

    #[error(
        "this build has no {backend} support: rebuild with `--features {feature}` (see README, Backends)"
    )]
    BackendNotBuilt {
        backend: &'static str,
        feature: &'static str,
    },

    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },

    #[error("invalid table name `{name}`: {reason}")]
    InvalidTableName { name: String, reason: String },

    #[error("table {table} exists but is not a migrations table this tool can use: {reason}; pass --table to use another name")]
    IncompatibleTable { table: String, reason: String },

    #[error("{0}")]
    InvalidMigrations(crate::migration::InvalidMigration),

    #[error("{action} failed: {source}")]
    Database {
        action: String,
        #[source]
        source: diesel::result::Error,
    },

    #[error("{}", failed_message(.failure))]
    MigrationFailed { failure: Box<MigrationFailure> },

    #[error("{}", refused_message(.problems))]
    Refused { problems: Vec<Problem> },

    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} line {line}: {reason}")]
    InvalidTargets {
        path: String,
        line: usize,
        reason: String,
    },

    #[error("backups are made for SQLite files only; back up {backend} with its own tools (pg_dump, mysqldump)")]
    BackupUnsupported { backend: &'static str },

    #[error("cannot roll back: {reason}; nothing was changed")]
    RollbackRefused { reason: String },

    #[error("--single-transaction is not possible here: {reason}")]
    SingleTransactionRefused { reason: String },

    #[error("cannot baseline: {applied} migration(s) are already recorded in {table}; baseline only adopts a database with no history")]
    BaselineNotEmpty { table: String, applied: usize },

    #[error("cannot baseline at version {version}: {reason}")]
    InvalidBaseline { version: i64, reason: String },

    #[error(
        "timed out after {:.1}s waiting for another migration run to release its lock on {table}; retry, or raise --lock-timeout",
        .waited.as_secs_f64()
    )]
    LockTimeout { table: String, waited: Duration },
}

/// Whether a migration was being applied or rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// What went wrong in a migration, and what had been applied before it.
#[derive(Debug)]
pub struct MigrationFailure {
    pub version: i64,
    pub description: String,
    pub direction: Direction,
    /// 1-based index into the migration's `sql`; `None` when the failure came
    /// from the bookkeeping around it (tracking row, commit).
    pub statement_index: Option<usize>,
    pub statement: Option<String>,
    pub database_message: String,
    /// True when the database kept part of the migration (no transactional
    /// DDL, or `transaction: false`) and its tracking row is left dirty.
    pub dirty: bool,
    /// True in `--single-transaction` runs: the whole run was rolled back.
    pub whole_run_rolled_back: bool,
    /// Migrations applied (or rolled back) in this run before the failure;
    /// they stay so unless `whole_run_rolled_back`.
    pub report: ApplyReport,
}

impl Error {
    pub(crate) fn database(action: impl Into<String>, source: diesel::result::Error) -> Self {
        Error::Database {
            action: action.into(),
            source,
        }
    }

    /// The migrations applied in this run before an error, if any.
    pub fn partial_report(&self) -> Option<&ApplyReport> {
        match self {
            Error::MigrationFailed { failure } => Some(&failure.report),
            _ => None,
        }
    }
}

fn failed_message(f: &MigrationFailure) -> String {
    let what = match (f.statement_index, &f.statement) {
        (Some(index), Some(sql)) => format!("statement {index} failed:\n    {}\n", sql.trim()),
        _ => String::from("recording it failed:\n"),
    };
    let (action, undone) = match f.direction {
        Direction::Up => (
            "migration",
            "nothing of this migration was applied (rolled back); earlier migrations stay applied",
        ),
        Direction::Down => (
            "rollback of migration",
            "nothing of this rollback ran (rolled back); the migration stays applied",
        ),
    };
    let outcome = if f.whole_run_rolled_back {
        String::from(
            "the whole run was one transaction and was rolled back: nothing was applied. \
             Fix the statement and run `migrate apply` again",
        )
    } else if f.dirty {
        format!(
            "this database cannot roll the statements back, so part of it may have run; it is marked dirty. \
             Check the schema by hand, finish or undo version {v}, then run `migrate repair`",
            v = f.version
        )
    } else {
        format!("{undone}. Fix the statement and run the command again")
    };
    format!(
        "{action} {} ({}) {what}  database said: {}\n{outcome}",
        f.version,
        f.description,
        f.database_message.trim()
    )
}

fn refused_message(problems: &[Problem]) -> String {
    let mut text = String::from("refusing to apply: the database and the code disagree");
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(&problem.to_string());
    }
    text
}
