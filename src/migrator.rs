//! The public API: lock, read, plan, execute. The migrator never prints; it
//! tells an [`Observer`] what happens and returns typed reports.

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Error, MigrationFailure, Result};
use crate::migration::{self, Migration};
use crate::plan::{self, AppliedMigration, PlanOptions};
use crate::report::{
    AppliedReport, ApplyReport, BaselineReport, HistoryEntry, MigrationStatus, PendingMigration,
    RepairReport, StatusReport, VerifyReport,
};
use crate::store::{NewRow, Shape, Store};
use crate::table::TableName;

/// Default bound on waiting for another run's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Hooks for progress output. Every method has a no-op default.
pub trait Observer {
    /// Another run holds the lock; called once per run, before waiting.
    fn waiting_for_lock(&mut self) {}
    fn migration_started(&mut self, _migration: &Migration) {}
    /// `index` is 1-based.
    fn statement_started(&mut self, _migration: &Migration, _index: usize, _sql: &str) {}
    fn migration_finished(&mut self, _report: &AppliedReport) {}
    /// Found applied by a concurrent run just before this one would have run it.
    fn migration_skipped(&mut self, _migration: &Migration) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Options for [`Migrator::apply_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Apply nothing above this version.
    pub target: Option<i64>,
    /// Plan only: report what would run, change nothing (not even creating
    /// the tracking table).
    pub dry_run: bool,
}

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
}

impl Migrator {
    pub fn new(migrations: &'static [Migration]) -> Self {
        Migrator {
            migrations,
            table: TableName::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            allow_out_of_order: false,
        }
    }

    /// Uses another tracking table (a plain identifier, optionally
    /// schema-qualified).
    pub fn with_table(mut self, name: &str) -> Result<Self> {
        self.table = TableName::parse(name)?;
        Ok(self)
    }

    /// Bounds how long `apply` waits for another run's lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Lets a pending version below the newest applied one run.
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow_out_of_order = allow;
        self
    }

    pub fn migrations(&self) -> &'static [Migration] {
        self.migrations
    }

    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// Applies every pending migration.
    pub fn apply(&self, conn: &mut dyn MigrationConnection) -> Result<ApplyReport> {
        self.apply_with(conn, ApplyOptions::default(), &mut Silent)
    }

    /// Applies pending migrations in version order, each atomically with its
    /// tracking row where the database allows, under a lock that makes
    /// concurrent runs apply each migration exactly once.
    pub fn apply_with(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        self.check_list()?;
        let dialect = conn.dialect();
        let store = Store::new(&self.table, dialect);
        if options.dry_run {
            return self.dry_run(conn, &store, options);
        }
        self.with_lock(conn, observer, |conn, observer| {
            self.apply_locked(conn, &store, options, observer)
        })
    }

    fn dry_run(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        options: ApplyOptions,
    ) -> Result<ApplyReport> {
        let shape = store.inspect(conn)?;
        let applied = store.load(conn, &shape)?;
        let plan = plan::plan(self.migrations, &applied, self.plan_options(options));
        if !plan.problems.is_empty() {
            return Err(Error::Refused {
                problems: plan.problems,
            });
        }
        let version = plan::current_version(&applied);
        Ok(ApplyReport {
            already_applied: plan.already_applied,
            total: self.migrations.len(),
            version_before: version,
            version,
            dry_run: true,
            pending: plan
                .pending
                .iter()
                .map(|m| PendingMigration {
                    version: m.version,
                    description: m.description.to_string(),
                    transaction: m.transaction,
                    sql: m.sql.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            ..ApplyReport::default()
        })
    }

    fn apply_locked(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        let shape = store.inspect(conn)?;
        store.ensure(conn, &shape)?;
        let applied = store.load(conn, &shape)?;
        let plan = plan::plan(self.migrations, &applied, self.plan_options(options));
        if !plan.problems.is_empty() {
            return Err(Error::Refused {
                problems: plan.problems,
            });
        }
        let version_before = plan::current_version(&applied);
        let mut report = ApplyReport {
            already_applied: plan.already_applied,
            total: self.migrations.len(),
            version_before,
            version: version_before,
            ..ApplyReport::default()
        };
        // Legacy rows carry no checksum: trust the code once, verify from then on.
        for &version in &plan.unverified {
            if let Some(m) = self.migrations.iter().find(|m| m.version == version) {
                store.set_checksum(conn, version, &m.checksum())?;
                report.adopted_checksums.push(version);
            }
        }
        for migration in plan.pending {
            match self.run_one(conn, store, migration, observer) {
                Ok(Some(done)) => {
                    report.version = report.version.max(done.version);
                    observer.migration_finished(&done);
                    report.applied.push(done);
                }
                Ok(None) => {
                    report.already_applied += 1;
                    report.version = report.version.max(migration.version);
                    observer.migration_skipped(migration);
                }
                Err(RunError::Failed(failure)) => {
                    return Err(Error::MigrationFailed {
                        failure: Box::new(MigrationFailure { report, ..*failure }),
                    })
                }
                Err(RunError::Other(error)) => return Err(error),
            }
        }
        Ok(report)
    }

    /// Runs one migration. `Ok(None)`: a concurrent run applied it first.
    fn run_one(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        migration: &Migration,
        observer: &mut dyn Observer,
    ) -> std::result::Result<Option<AppliedReport>, RunError> {
        let dialect = conn.dialect();
        let checksum = migration.checksum();
        let atomic = migration.transaction && dialect.transactional_ddl();
        let fail = |index: Option<usize>, dirty: bool, error: &dyn std::fmt::Display| {
            RunError::Failed(Box::new(MigrationFailure {
                version: migration.version,
                description: migration.description.to_string(),
                statement_index: index,
                statement: index.map(|i| migration.sql[i - 1].to_string()),
                database_message: error.to_string(),
                dirty,
                report: ApplyReport::default(),
            }))
        };
        let new_row = |success: bool, execution_ms: i64| NewRow {
            version: migration.version,
            description: migration.description,
            checksum: &checksum,
            applied_at: Utc::now().naive_utc(),
            execution_ms,
            success,
        };

        // Without a session lock (SQLite) the write lock is taken here and
        // the row re-checked, so two runners never both run a migration.
        let recheck = !dialect.has_session_lock();
        if atomic || recheck {
            match self.begin(conn, observer) {
                Ok(()) => {}
                Err(BeginError::Database(e)) => return Err(fail(None, false, &e)),
                Err(BeginError::Other(e)) => return Err(RunError::Other(e)),
            }
            if recheck {
                match store.contains(conn, migration.version) {
                    Ok(false) => {}
                    Ok(true) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        return Ok(None);
                    }
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        return Err(fail(None, false, &e));
                    }
                }
            }
        }
        if !atomic {
            // Dirty-row protocol: the row says "started" before anything runs.
            let marked = store.insert(conn, &new_row(false, 0));
            let committed = marked.and_then(|()| match recheck {
                true => conn.batch_execute("COMMIT"),
                false => Ok(()),
            });
            if let Err(e) = committed {
                if recheck {
                    let _ = conn.batch_execute("ROLLBACK");
                }
                return Err(fail(None, false, &e));
            }
        }

        observer.migration_started(migration);
        let started = Instant::now();
        for (i, sql) in migration.sql.iter().enumerate() {
            observer.statement_started(migration, i + 1, sql);
            if let Err(e) = conn.batch_execute(sql) {
                if atomic {
                    let _ = conn.batch_execute("ROLLBACK");
                }
                return Err(fail(Some(i + 1), !atomic, &e));
            }
        }
        let elapsed = started.elapsed();
        let execution_ms = elapsed.as_millis().min(i64::MAX as u128) as i64;

        if atomic {
            let recorded = store
                .insert(conn, &new_row(true, execution_ms))
                .and_then(|()| conn.batch_execute("COMMIT"));
            if let Err(e) = recorded {
                let _ = conn.batch_execute("ROLLBACK");
                return Err(fail(None, false, &e));
            }
        } else {
            store
                .mark_done(
                    conn,
                    migration.version,
                    Utc::now().naive_utc(),
                    execution_ms,
                )
                .map_err(|e| fail(None, true, &e))?;
        }
        Ok(Some(AppliedReport {
            version: migration.version,
            description: migration.description.to_string(),
            execution_ms: elapsed.as_secs_f64() * 1000.0,
            checksum,
        }))
    }

    /// The current version: the highest applied, 0 when none. Read-only.
    pub fn version(&self, conn: &mut dyn MigrationConnection) -> Result<i64> {
        Ok(plan::current_version(&self.read(conn)?.1))
    }

    /// Applied migrations (and dirty ones), by version. Read-only.
    pub fn history(&self, conn: &mut dyn MigrationConnection) -> Result<Vec<HistoryEntry>> {
        Ok(self
            .read(conn)?
            .1
            .into_iter()
            .map(|row| HistoryEntry {
                version: row.version,
                description: row.description,
                applied_at: row.applied_at,
                execution_ms: row.execution_ms,
                checksum: row.checksum,
                success: row.success,
            })
            .collect())
    }

    /// Each migration of the code with its state, and every problem. Read-only.
    pub fn status(&self, conn: &mut dyn MigrationConnection) -> Result<StatusReport> {
        let (table_exists, applied) = self.read(conn)?;
        let plan = plan::plan(
            self.migrations,
            &applied,
            self.plan_options(ApplyOptions::default()),
        );
        let migrations = plan::states(self.migrations, &applied)
            .into_iter()
            .map(|(m, state)| {
                let row = applied.iter().find(|row| row.version == m.version);
                MigrationStatus {
                    version: m.version,
                    description: m.description.to_string(),
                    state,
                    applied_at: row.and_then(|r| r.applied_at),
                    execution_ms: row.map(|r| r.execution_ms),
                    checksum: m.checksum(),
                }
            })
            .collect();
        Ok(StatusReport {
            version: plan::current_version(&applied),
            table_exists,
            migrations,
            pending: plan.pending.iter().map(|m| m.version).collect(),
            problems: plan.problems,
        })
    }

    /// Compares the database with the code: edited migrations, versions the
    /// code does not know, dirty rows, out-of-order pending ones. Read-only.
    pub fn verify(&self, conn: &mut dyn MigrationConnection) -> Result<VerifyReport> {
        let (_, applied) = self.read(conn)?;
        let plan = plan::plan(
            self.migrations,
            &applied,
            self.plan_options(ApplyOptions::default()),
        );
        Ok(VerifyReport {
            version: plan::current_version(&applied),
            problems: plan.problems,
            pending: plan.pending.iter().map(|m| m.version).collect(),
            unverified: plan.unverified,
        })
    }

    /// After a person fixed the database by hand: removes dirty rows (their
    /// migrations run again on the next `apply`) and records the code's
    /// checksum and description for applied migrations that differ.
    pub fn repair(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
    ) -> Result<RepairReport> {
        self.check_list()?;
        let store = Store::new(&self.table, conn.dialect());
        self.with_lock(conn, observer, |conn, _| {
            let shape = store.inspect(conn)?;
            if shape == Shape::Missing {
                return Ok(RepairReport::default());
            }
            store.ensure(conn, &shape)?;
            let mut report = RepairReport::default();
            for row in store.load(conn, &shape)? {
                let code = self.migrations.iter().find(|m| m.version == row.version);
                if !row.success {
                    store.delete(conn, row.version)?;
                    report.removed_dirty.push(row.version);
                } else if let Some(m) = code {
                    let checksum = m.checksum();
                    if row.checksum.as_deref() != Some(checksum.as_str())
                        || row.description != m.description
                    {
                        store.accept(conn, m.version, m.description, &checksum)?;
                        report.accepted.push(m.version);
                    }
                } else {
                    report.unknown.push(row.version);
                }
            }
            Ok(report)
        })
    }

    /// Adopts an existing database: records every migration up to `version`
    /// as applied without running it. Only on an empty history.
    pub fn baseline(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        observer: &mut dyn Observer,
    ) -> Result<BaselineReport> {
        self.check_list()?;
        let adopted: Vec<&Migration> = self
            .migrations
            .iter()
            .filter(|m| m.version <= version)
            .collect();
        if version <= 0 || adopted.is_empty() {
            return Err(Error::InvalidBaseline {
                version,
                reason: String::from("no migration in the code has a version at or below it"),
            });
        }
        let store = Store::new(&self.table, conn.dialect());
        self.with_lock(conn, observer, |conn, observer| {
            let shape = store.inspect(conn)?;
            store.ensure(conn, &shape)?;
            let applied = store.load(conn, &shape)?;
            if !applied.is_empty() {
                return Err(Error::BaselineNotEmpty {
                    table: self.table.to_string(),
                    applied: applied.len(),
                });
            }
            let failed = |e| Error::database("recording the baseline", e);
            match self.begin(conn, observer) {
                Ok(()) => {}
                Err(BeginError::Database(e)) => return Err(failed(e)),
                Err(BeginError::Other(e)) => return Err(e),
            }
            let now = Utc::now().naive_utc();
            for m in &adopted {
                let checksum = m.checksum();
                let row = NewRow {
                    version: m.version,
                    description: m.description,
                    checksum: &checksum,
                    applied_at: now,
                    execution_ms: 0,
                    success: true,
                };
                if let Err(e) = store.insert(conn, &row) {
                    let _ = conn.batch_execute("ROLLBACK");
                    return Err(failed(e));
                }
            }
            conn.batch_execute("COMMIT").map_err(failed)?;
            Ok(BaselineReport {
                recorded: adopted.iter().map(|m| m.version).collect(),
                version: adopted.last().map_or(0, |m| m.version),
            })
        })
    }

    /// Reads the tracking table without creating it.
    fn read(&self, conn: &mut dyn MigrationConnection) -> Result<(bool, Vec<AppliedMigration>)> {
        let store = Store::new(&self.table, conn.dialect());
        let shape = store.inspect(conn)?;
        let applied = store.load(conn, &shape)?;
        Ok((shape != Shape::Missing, applied))
    }

    fn plan_options(&self, options: ApplyOptions) -> PlanOptions {
        PlanOptions {
            target: options.target,
            allow_out_of_order: self.allow_out_of_order,
        }
    }

    fn check_list(&self) -> Result<()> {
        match migration::find_invalid(self.migrations) {
            Some(problem) => Err(Error::InvalidMigrations(problem)),
            None => Ok(()),
        }
    }

    /// Runs `body` holding the run-wide lock, releasing it on every path.
    fn with_lock<T>(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        body: impl FnOnce(&mut dyn MigrationConnection, &mut dyn Observer) -> Result<T>,
    ) -> Result<T> {
        if conn.dialect() == Dialect::Sqlite {
            // Concurrent runners queue on SQLite's write lock for this long.
            self.set_busy_timeout(conn, self.lock_timeout)?;
        }
        if let Some(setup) = conn.dialect().lock_session_setup() {
            let _ = conn.batch_execute(setup);
        }
        self.lock(conn, observer)?;
        let result = body(conn, observer);
        let unlocked = self.unlock(conn);
        let value = result?;
        unlocked?;
        Ok(value)
    }

    fn set_busy_timeout(
        &self,
        conn: &mut dyn MigrationConnection,
        timeout: Duration,
    ) -> Result<()> {
        let ms = timeout.as_millis().min(i32::MAX as u128);
        conn.batch_execute(&format!("PRAGMA busy_timeout = {ms}"))
            .map_err(|e| Error::database("setting the busy timeout", e))
    }

    /// Starts a migration's transaction. On SQLite this takes the write lock:
    /// tried at once first, so that waiting for another run can be reported,
    /// then waited for up to the lock timeout.
    fn begin(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
    ) -> std::result::Result<(), BeginError> {
        let dialect = conn.dialect();
        if dialect != Dialect::Sqlite {
            return conn
                .batch_execute(dialect.begin())
                .map_err(BeginError::Database);
        }
        self.set_busy_timeout(conn, Duration::ZERO)
            .map_err(BeginError::Other)?;
        let quick = conn.batch_execute(dialect.begin());
        self.set_busy_timeout(conn, self.lock_timeout)
            .map_err(BeginError::Other)?;
        match quick {
            Ok(()) => return Ok(()),
            Err(e) if !is_busy(&e) => return Err(BeginError::Database(e)),
            Err(_) => {}
        }
        observer.waiting_for_lock();
        let started = Instant::now();
        conn.batch_execute(dialect.begin())
            .map_err(|e| match is_busy(&e) {
                true => BeginError::Other(Error::LockTimeout {
                    table: self.table.to_string(),
                    waited: started.elapsed(),
                }),
                false => BeginError::Database(e),
            })
    }

    /// Takes the run-wide lock, polling so the wait is reported and bounded.
    fn lock(&self, conn: &mut dyn MigrationConnection, observer: &mut dyn Observer) -> Result<()> {
        let Some(sql) = conn.dialect().try_lock(&self.table) else {
            return Ok(());
        };
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        let mut announced = false;
        loop {
            let taken = conn
                .scalar(&sql, &[])
                .map_err(|e| Error::database("taking the migration lock", e))?;
            if taken == Some(1) {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.lock_timeout {
                return Err(Error::LockTimeout {
                    table: self.table.to_string(),
                    waited,
                });
            }
            if !announced {
                observer.waiting_for_lock();
                announced = true;
            }
            std::thread::sleep(pause.min(self.lock_timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    fn unlock(&self, conn: &mut dyn MigrationConnection) -> Result<()> {
        match conn.dialect().unlock(&self.table) {
            Some(sql) => conn
                .scalar(&sql, &[])
                .map(drop)
                .map_err(|e| Error::database("releasing the migration lock", e)),
            None => Ok(()),
        }
    }
}

/// Why a migration did not run.
enum RunError {
    /// It failed; the caller adds the run's report.
    Failed(Box<MigrationFailure>),
    /// Something around it failed (e.g. the lock timed out).
    Other(Error),
}

enum BeginError {
    Database(diesel::result::Error),
    Other(Error),
}

/// SQLite's "database is locked" (SQLITE_BUSY), after the busy timeout.
fn is_busy(error: &diesel::result::Error) -> bool {
    error.to_string().contains("database is locked")
}
