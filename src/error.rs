//! One error type for the library. Messages state facts: what failed, where,
//! and the database's own words. Advice that names commands and flags is
//! the CLI's to add (it knows how it was run); an application gets the
//! facts and the typed fields.

use std::time::Duration;

use crate::database_url::UrlError;
use crate::invalid::InvalidMigration;
use crate::refusal::Refusal;
use crate::report::{Direction, StepReport};
use crate::table::InvalidTableName;

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL could not be used.
    #[error(transparent)]
    Url(#[from] UrlError),

    /// The URL names a backend this build was compiled without.
    #[error("this build has no {backend} support (cargo feature `{feature}`)")]
    BackendNotBuilt {
        /// `PostgreSQL` or `MySQL`.
        backend: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },

    /// The database could not be reached or refused the connection.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password masked.
        url: String,
        /// The driver's message, password removed.
        message: String,
    },

    /// A read on an SQLite file that does not exist (reading never creates it).
    #[error("the SQLite database {path} does not exist (nothing was created)")]
    NoSuchDatabaseFile {
        /// The path as given.
        path: String,
    },

    /// The tracking-table name is not a plain identifier.
    #[error(transparent)]
    InvalidTableName(#[from] InvalidTableName),

    /// Working in a schema (`search_path`) is for PostgreSQL only.
    #[error("working in a schema (search_path) is for PostgreSQL databases only, not {backend}")]
    SchemasUnsupported {
        /// The backend of the connection.
        backend: &'static str,
    },

    /// A table of that name exists but is not a tracking table this tool
    /// can use; it is left untouched.
    #[error("table {table} exists but is not a migrations table this tool can use: {reason}")]
    IncompatibleTable {
        /// The table.
        table: String,
        /// What does not fit.
        reason: String,
    },

    /// The `MIGRATIONS` list breaks a rule (normally caught at compile time).
    #[error("{0}")]
    InvalidMigrations(InvalidMigration),

    /// A statement of the tool's own failed.
    #[error("{action} failed: {source}")]
    Database {
        /// What the tool was doing.
        action: String,
        /// The database's error.
        #[source]
        source: diesel::result::Error,
    },

    /// A migration's statements (or its bookkeeping) failed.
    #[error("{}", failure_message(.failure))]
    MigrationFailed {
        /// What failed and what was completed before.
        failure: Box<MigrationFailure>,
    },

    /// The command was refused before it changed anything.
    #[error("{0}")]
    Refused(Refusal),

    /// A wait for a lock ran out.
    #[error("{}", lock_timeout_message(.lock, .waited, .blockers))]
    LockTimeout {
        /// Which lock.
        lock: LockKind,
        /// How long it was waited for.
        waited: Duration,
        /// Sessions holding it, where the database tells.
        blockers: Vec<Blocker>,
    },

    /// A tracking row changed under a run that held the lock (edited by
    /// hand, or by a tool that does not take the lock).
    #[error(
        "the row of migration {version} in {table} changed while this run held the lock: {what}"
    )]
    RowChanged {
        /// The migration.
        version: i64,
        /// The tracking table.
        table: String,
        /// What was expected.
        what: &'static str,
    },

    /// A file of the tool's own (lock file, backup) could not be used.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What the tool was doing.
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// Backups are made of SQLite files only.
    #[error("backups are made for SQLite files only, not {backend}")]
    BackupUnsupported {
        /// The backend asked for.
        backend: &'static str,
    },

    /// Reading the schema from the database's catalogs failed.
    #[error("reading the schema ({what}) failed: {message}")]
    Catalog {
        /// Which part of the schema was being read.
        what: &'static str,
        /// The database's message.
        message: String,
    },

    /// A scratch database (for `drift`, `roundtrip`, `check --schema`)
    /// could not be made or used.
    #[error("cannot use a scratch database: {message}")]
    Scratch {
        /// What went wrong, with the database's message.
        message: String,
        /// Whether the server refused to create a database for lack of
        /// privilege (give one to use instead).
        permission: bool,
    },

    /// The scratch database given is not empty: replaying migrations on it
    /// would mix them with what it holds.
    #[error("the scratch database is not empty (it has {objects}): give an empty database")]
    ScratchNotEmpty {
        /// What it holds, e.g. `3 tables`.
        objects: String,
    },
}

/// Which lock a [`Error::LockTimeout`] waited for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LockKind {
    /// The run-wide migration lock another run holds.
    Migration {
        /// The tracking table it guards.
        table: String,
    },
    /// A lock another session holds on a table the tool reads or writes
    /// (the tracking table), or SQLite's database write lock.
    Table {
        /// The table, or `database` for SQLite's write lock.
        table: String,
    },
    /// A lock one of the migration's own statements waited for
    /// (`--ddl-lock-timeout`).
    Statement {
        /// The migration.
        version: i64,
        /// 1-based index of the statement.
        statement_index: usize,
    },
}

/// A database session holding a lock that was waited for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Blocker {
    /// The server's id for the session (PostgreSQL pid, MySQL thread id).
    pub session: String,
    /// Its state (`active`, `idle in transaction`, …) where known.
    pub state: Option<String>,
    /// How long its transaction (or statement) has been running, seconds.
    pub running_for_s: Option<f64>,
    /// The start of its current or last query.
    pub query: Option<String>,
}

/// Where in a migration a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureStage {
    /// Opening its transaction.
    Begin,
    /// One of its statements (`statement_index` says which).
    Statement,
    /// SQLite's foreign-key check before committing a migration that
    /// turned enforcement off.
    ForeignKeyCheck,
    /// Writing, settling or removing its tracking row, or committing.
    Bookkeeping,
    /// The migration dropped or changed the tracking table itself.
    TrackingTableChanged,
    /// Its code step returned an error or panicked.
    Code,
}

/// What went wrong in a migration, and what had been completed before it.
#[derive(Debug)]
#[non_exhaustive]
pub struct MigrationFailure {
    /// The migration.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// Applying or rolling back.
    pub direction: Direction,
    /// Where it failed.
    pub stage: FailureStage,
    /// 1-based index into the statements that ran; `None` outside them.
    pub statement_index: Option<usize>,
    /// The failing statement.
    pub statement: Option<String>,
    /// The database's message.
    pub database_message: String,
    /// True when the database kept part of the migration (no transactional
    /// DDL, or `transaction: false`) and its tracking row is left dirty.
    pub dirty: bool,
    /// True when nothing of the migration ran (a dirty row written before
    /// it was removed again).
    pub nothing_ran: bool,
    /// True in single-transaction runs: the whole run was rolled back.
    pub whole_run_rolled_back: bool,
    /// The tracking table's name.
    pub table: String,
    /// Migrations applied (or rolled back) in this run before the failure;
    /// they stay so unless `whole_run_rolled_back`.
    pub completed: Vec<StepReport>,
    /// The statement gave up waiting for a lock (`--ddl-lock-timeout`).
    pub lock_timeout: bool,
    /// The sessions holding locks it waited on, where the database tells.
    pub blockers: Vec<Blocker>,
    /// An INVALID index the cancelled `CREATE INDEX CONCURRENTLY` left, dropped.
    pub dropped_index: Option<String>,
}

impl Error {
    pub(crate) fn database(action: impl Into<String>, source: diesel::result::Error) -> Self {
        Error::Database {
            action: action.into(),
            source,
        }
    }

    /// The migrations completed in this run before an error, if any.
    pub fn completed(&self) -> &[StepReport] {
        match self {
            Error::MigrationFailed { failure } => &failure.completed,
            _ => &[],
        }
    }

    /// A stable snake_case name of the error's kind (the `kind` of `--json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Url(_) => "invalid_url",
            Error::BackendNotBuilt { .. } => "backend_not_built",
            Error::Connect { .. } => "connect",
            Error::NoSuchDatabaseFile { .. } => "no_such_database_file",
            Error::InvalidTableName(_) => "invalid_table_name",
            Error::SchemasUnsupported { .. } => "schemas_unsupported",
            Error::IncompatibleTable { .. } => "incompatible_table",
            Error::InvalidMigrations(_) => "invalid_migrations",
            Error::Database { .. } => "database",
            Error::MigrationFailed { .. } => "migration_failed",
            Error::Refused(_) => "refused",
            Error::LockTimeout { .. } => "lock_timeout",
            Error::RowChanged { .. } => "row_changed",
            Error::Io { .. } => "io",
            Error::BackupUnsupported { .. } => "backup_unsupported",
            Error::Catalog { .. } => "catalog",
            Error::Scratch { .. } => "scratch",
            Error::ScratchNotEmpty { .. } => "scratch_not_empty",
        }
    }
}

fn failure_message(f: &MigrationFailure) -> String {
    let action = match f.direction {
        Direction::Up => "migration",
        Direction::Down => "rollback of migration",
    };
    let what = match (f.stage, f.statement_index, &f.statement) {
        (FailureStage::Statement, Some(index), Some(sql)) => {
            format!("statement {index} failed:\n    {}", sql.trim())
        }
        (FailureStage::Begin, _, _) => String::from("could not start its transaction:"),
        (FailureStage::Code, _, _) => String::from("failed in its code step:"),
        (FailureStage::ForeignKeyCheck, _, _) => String::from(
            "left rows whose foreign keys point nowhere (checked before commit because it turned foreign keys off):",
        ),
        (FailureStage::TrackingTableChanged, _, _) => format!(
            "dropped or changed the tracking table {} itself, so it cannot be recorded:",
            f.table
        ),
        _ => String::from("ran, but recording it failed:"),
    };
    let mut said = f.database_message.trim().to_string();
    if f.lock_timeout {
        said.push_str(&blocker_lines(&f.blockers));
    }
    if let Some(index) = &f.dropped_index {
        said.push_str(&format!(
            "\n  the invalid index {index} it left was dropped"
        ));
    }
    let outcome = if f.whole_run_rolled_back {
        "the whole run was one transaction and was rolled back: nothing was applied"
    } else if f.nothing_ran && f.lock_timeout {
        "it gave up waiting for a lock before doing anything; nothing of it was kept"
    } else if f.nothing_ran {
        "the database rejected it before anything ran; nothing of it was applied"
    } else if f.dirty {
        "this database cannot roll the statements back, so part of it may have run; its row is marked dirty"
    } else {
        match f.direction {
            Direction::Up => "nothing of this migration was applied (rolled back); earlier migrations stay applied",
            Direction::Down => "nothing of this rollback ran (rolled back); the migration stays applied",
        }
    };
    format!(
        "{action} {} ({}) {what}\n  database said: {said}\n{outcome}",
        f.version, f.description
    )
}

/// `held by session 4711 (idle in transaction for 12s): SELECT …`, a line each.
fn blocker_lines(blockers: &[Blocker]) -> String {
    let mut text = String::new();
    for blocker in blockers {
        text.push_str(&format!("\n  held by session {}", blocker.session));
        if let Some(state) = &blocker.state {
            text.push_str(&format!(" ({state}"));
            if let Some(seconds) = blocker.running_for_s {
                text.push_str(&format!(" for {seconds:.0}s"));
            }
            text.push(')');
        }
        if let Some(query) = blocker.query.as_deref().filter(|q| !q.is_empty()) {
            text.push_str(&format!(": {query}"));
        }
    }
    text
}

fn lock_timeout_message(lock: &LockKind, waited: &Duration, blockers: &[Blocker]) -> String {
    let what = match lock {
        LockKind::Migration { table } => {
            format!("another migration run to release its lock on {table}")
        }
        LockKind::Table { table } if table == "database" => {
            String::from("another connection to release the database's write lock")
        }
        LockKind::Table { table } => format!("a lock another session holds on table {table}"),
        LockKind::Statement {
            version,
            statement_index,
        } => format!("a lock for statement {statement_index} of migration {version}"),
    };
    let mut text = format!(
        "timed out after {:.1}s waiting for {what}",
        waited.as_secs_f64()
    );
    for blocker in blockers {
        text.push_str(&format!("\n  held by session {}", blocker.session));
        if let Some(state) = &blocker.state {
            text.push_str(&format!(" ({state}"));
            if let Some(seconds) = blocker.running_for_s {
                text.push_str(&format!(" for {seconds:.0}s"));
            }
            text.push(')');
        }
        if let Some(query) = &blocker.query {
            text.push_str(&format!(": {query}"));
        }
    }
    text
}
