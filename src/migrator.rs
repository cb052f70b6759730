//! The public API: a [`Migrator`] over a `MIGRATIONS` list. Each method
//! checks the list, then hands a plan to the executor; it never prints.

use std::sync::OnceLock;
use std::time::Duration;

use crate::connection::MigrationConnection;
use crate::error::{Error, Result};
use crate::executor::{ApplyOptions, Executor};
use crate::guardrails::Guardrails;
use crate::migration::Migration;
use crate::observer::{Observer, Silent};
use crate::plan::{CodeList, RollbackTarget};
use crate::report::{
    ApplyReport, BaselineReport, HistoryReport, RedoReport, RepairReport, RollbackReport,
    StatusReport, VerifyReport,
};
use crate::table::TableName;
use crate::validate;

/// Default bound on waiting for a lock (another run's, or a table's).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Applies and inspects a list of migrations on a database.
///
/// ```no_run
/// use versioned_migrations::{AnyConnection, Access, DatabaseUrl, Migration, Migrator};
///
/// static MIGRATIONS: &[Migration] = &[Migration {
///     version: 1,
///     description: "Create users table",
///     sql: &["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"],
///     ..Migration::DEFAULT
/// }];
///
/// # fn main() -> Result<(), versioned_migrations::Error> {
/// let url = DatabaseUrl::parse("app.db")?;
/// let mut conn = AnyConnection::connect(&url, Access::ReadWrite)?;
/// let report = Migrator::new(MIGRATIONS).apply(&mut conn)?;
/// println!("{} applied, now at version {}", report.applied.len(), report.version);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: &'static [Migration],
    table: TableName,
    lock_timeout: Duration,
    allow_out_of_order: bool,
    guardrails: Guardrails,
    session_sql: Vec<String>,
    /// The PostgreSQL schema to work in, if any (see [`Migrator::in_schema`]).
    schema: Option<String>,
    /// The code's checksums, computed once (hashing thousands of migrations
    /// shows in the start-up check) and shared by every command.
    checksums: OnceLock<Vec<String>>,
    /// The list's fingerprint, likewise.
    fingerprint: OnceLock<String>,
}

impl Migrator {
    /// A migrator over `migrations`, with the default tracking table
    /// (`schema_migrations`) and lock timeout (60 s).
    pub fn new(migrations: &'static [Migration]) -> Self {
        Migrator {
            migrations,
            table: TableName::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            allow_out_of_order: false,
            guardrails: Guardrails::default(),
            session_sql: Vec::new(),
            schema: None,
            checksums: OnceLock::new(),
            fingerprint: OnceLock::new(),
        }
    }

    /// Uses another tracking table (a plain identifier, optionally
    /// schema-qualified).
    pub fn with_table(mut self, name: &str) -> Result<Self> {
        self.table = TableName::parse(name)?;
        Ok(self)
    }

    /// Bounds every wait: for another run's lock, and for locks other
    /// sessions hold on the tracking table.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Statements run first on every connection this migrator works on,
    /// before anything else (e.g. MySQL `SET FOREIGN_KEY_CHECKS = 0` for a
    /// list that references a table it creates later, PostgreSQL
    /// `SET search_path TO app`). They are shown by dry runs and not undone.
    pub fn with_session_sql<S: Into<String>>(
        mut self,
        statements: impl IntoIterator<Item = S>,
    ) -> Self {
        self.session_sql = statements.into_iter().map(Into::into).collect();
        self
    }

    /// Works in one PostgreSQL schema (schema-per-tenant): every command
    /// points the session's `search_path` at `schema` alone (quoted as an
    /// identifier, so any name found in the catalog is safe), keeps the
    /// tracking table in it and takes a lock of its own for it, then gives
    /// the connection its `search_path` back. The migrations' unqualified
    /// names land in the schema. On other backends every command fails
    /// with [`Error::SchemasUnsupported`]. Replaces the schema of a
    /// qualified tracking table.
    pub fn in_schema(mut self, schema: &str) -> Self {
        self.table = self.table.in_schema(schema);
        self.schema = Some(schema.to_string());
        self
    }

    /// Limits for the migrations' own statements in every command that runs
    /// them (`apply`, `rollback`, `redo`): how long a statement may wait for
    /// a lock, how long it may run, how often to retry a migration that gave
    /// up waiting for a lock. `ApplyOptions::guardrails` overrides them for
    /// one `apply`.
    pub fn with_guardrails(mut self, guardrails: Guardrails) -> Self {
        self.guardrails = guardrails;
        self
    }

    /// Lets a pending version below the newest applied one run.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow_out_of_order = allow;
        self
    }

    /// The list this migrator applies.
    pub fn migrations(&self) -> &'static [Migration] {
        self.migrations
    }

    /// The tracking table.
    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// The same migrator over another list (a replay's).
    pub(crate) fn over(&self, migrations: &'static [Migration]) -> Migrator {
        Migrator {
            migrations,
            checksums: OnceLock::new(),
            fingerprint: OnceLock::new(),
            ..self.clone()
        }
    }

    fn executor(&self) -> Result<Executor<'_>> {
        if let Some(problem) = validate::find_invalid(self.migrations) {
            return Err(Error::InvalidMigrations(problem));
        }
        Ok(Executor {
            code: CodeList::new(self.migrations, &self.checksums, &self.fingerprint),
            table: &self.table,
            lock_timeout: self.lock_timeout,
            allow_out_of_order: self.allow_out_of_order,
            guardrails: self.guardrails,
            session_sql: &self.session_sql,
            schema: self.schema.as_deref(),
        })
    }

    /// Checks the list for what hurts a live `backend` (long locks, table
    /// rewrites, statements that fail once a table has rows); no database
    /// is connected. An application pins it in its own `cargo test`:
    /// `assert!(Migrator::new(MIGRATIONS).lint(Dialect::Postgres).is_clean())`.
    #[cfg(feature = "lint")]
    pub fn lint(&self, backend: crate::Dialect) -> crate::lint::LintReport {
        crate::lint::lint(self.migrations, backend, None)
    }

    /// Applies every pending migration.
    pub fn apply(&self, conn: &mut dyn MigrationConnection) -> Result<ApplyReport> {
        self.apply_with(conn, ApplyOptions::default(), &mut Silent)
    }

    /// Applies pending migrations in version order, each atomically with its
    /// tracking row where the database allows, under a lock that makes
    /// concurrent runs apply each migration exactly once. A dry run takes the
    /// same plan and stops before executing it. When nothing is pending this
    /// costs one read: no lock, no DDL.
    pub fn apply_with(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        self.executor()?.apply(conn, options, observer)
    }

    /// Runs `down` statements newest first, removing each row. Refuses,
    /// before touching anything, when a migration in range has no `down`
    /// (in the code, or recorded in its row for a version the code does not
    /// know) or the database has a dirty row. A dry run reports the plan
    /// with any blocker in `blocked_by`.
    pub fn rollback(
        &self,
        conn: &mut dyn MigrationConnection,
        target: RollbackTarget,
        dry_run: bool,
        observer: &mut dyn Observer,
    ) -> Result<RollbackReport> {
        self.executor()?.rollback(conn, target, dry_run, observer)
    }

    /// Rolls back the newest `steps` applied migrations and applies them
    /// again: the loop of writing a migration.
    pub fn redo(
        &self,
        conn: &mut dyn MigrationConnection,
        steps: usize,
        observer: &mut dyn Observer,
    ) -> Result<RedoReport> {
        self.executor()?.redo(conn, steps, observer)
    }

    /// The current version: the highest applied, 0 when none. Read-only.
    pub fn version(&self, conn: &mut dyn MigrationConnection) -> Result<i64> {
        Ok(self.executor()?.verify(conn)?.version)
    }

    /// Every row of the tracking table, by version. Read-only.
    pub fn history(&self, conn: &mut dyn MigrationConnection) -> Result<HistoryReport> {
        self.executor()?.history(conn)
    }

    /// Each migration with its state, and every problem. Read-only.
    pub fn status(&self, conn: &mut dyn MigrationConnection) -> Result<StatusReport> {
        self.executor()?.status(conn)
    }

    /// Compares the database with the code: edited migrations, versions the
    /// code does not know, dirty rows, out-of-order pending ones. Read-only.
    pub fn verify(&self, conn: &mut dyn MigrationConnection) -> Result<VerifyReport> {
        self.executor()?.verify(conn)
    }

    /// After a person fixed the database by hand: removes dirty rows (their
    /// migrations run again on the next `apply`) and records the code's
    /// checksum and description for applied migrations that differ, in one
    /// transaction. A recorded description that differs from the code's is
    /// refused unless `accept_descriptions` (another project's binary
    /// against this database looks exactly like that).
    pub fn repair(
        &self,
        conn: &mut dyn MigrationConnection,
        accept_descriptions: bool,
        observer: &mut dyn Observer,
    ) -> Result<RepairReport> {
        self.executor()?.repair(conn, accept_descriptions, observer)
    }

    /// Adopts an existing database: records every migration up to `version`
    /// as applied without running it. Only on an empty history.
    pub fn baseline(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        observer: &mut dyn Observer,
    ) -> Result<BaselineReport> {
        self.executor()?.baseline(conn, version, observer)
    }
}
