//! The public API: lock, read, plan, execute. The migrator never prints; it
//! tells an [`Observer`] what happens and returns typed reports.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;

use crate::connection::{Bind, MigrationConnection};
use crate::error::{Direction, Error, MigrationFailure, Result};
use crate::lock::{BeginError, Locking};
use crate::migration::{self, Migration};
use crate::plan::{self, AppliedMigration, PlanOptions};
use crate::report::{
    AppliedReport, ApplyReport, BaselineReport, HistoryEntry, MigrationStatus, PendingMigration,
    RepairReport, RollbackReport, StatusReport, VerifyReport,
};
use crate::step::{self, Step, StepError};
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
    /// A migration's `down` statements ran and its row was removed.
    fn migration_reverted(&mut self, _report: &AppliedReport) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Options for [`Migrator::apply_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Apply nothing above this version.
    pub target: Option<i64>,
    /// Plan only: report what would run, change nothing (not even creating
    /// the tracking table).
    pub dry_run: bool,
    /// All pending migrations in one transaction: all or nothing. Refused on
    /// MySQL/MariaDB (DDL commits implicitly) and when a pending migration
    /// has `transaction: false`.
    pub single_transaction: bool,
}

/// How far `rollback` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackTarget {
    /// Roll back every migration above this version.
    To(i64),
    /// Roll back this many of the newest applied migrations.
    Steps(usize),
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
    /// The code's checksums, computed once (hashing thousands of migrations
    /// shows in the start-up check) and shared by every plan of this migrator.
    checksums: OnceLock<Vec<String>>,
}

impl Migrator {
    pub fn new(migrations: &'static [Migration]) -> Self {
        Migrator {
            migrations,
            table: TableName::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            allow_out_of_order: false,
            checksums: OnceLock::new(),
        }
    }

    /// `checksums()[i]` is `migrations()[i].checksum()`.
    pub fn checksums(&self) -> &[String] {
        self.checksums
            .get_or_init(|| self.migrations.iter().map(Migration::checksum).collect())
    }

    /// The code's checksum of a migration of this list (which is sorted:
    /// every mutating command checks the list first).
    fn checksum_of(&self, version: i64) -> Option<&str> {
        let index = self
            .migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()?;
        Some(self.checksums()[index].as_str())
    }

    /// What [`Dialect::fingerprint_query`](crate::Dialect::fingerprint_query)
    /// must find in the tracking table for the database to be exactly up to
    /// date: the MD5 of the `version:checksum` pairs.
    pub fn fingerprint(&self) -> String {
        migration::fingerprint(self.migrations, self.checksums())
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
    /// concurrent runs apply each migration exactly once. A dry run takes the
    /// same plan and stops before executing it.
    pub fn apply_with(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        self.check_list()?;
        let store = Store::new(&self.table, conn.dialect());
        self.check_single_transaction(conn, &[], options)?;
        if options.dry_run {
            let (_, applied) = self.read(conn)?;
            let plan = self.checked_plan(&applied, options)?;
            self.check_single_transaction(conn, &plan.pending, options)?;
            let mut report = self.new_report(&applied, &plan);
            report.dry_run = true;
            report.pending = plan
                .pending
                .iter()
                .map(|m| pending(m, Direction::Up))
                .collect();
            return Ok(report);
        }
        if let Some(report) = self.up_to_date(conn, &store, options) {
            return Ok(report);
        }
        self.locking().with_lock(conn, observer, |conn, observer| {
            let shape = store.inspect(conn)?;
            store.ensure(conn, &shape)?;
            let applied = store.load(conn, &shape)?;
            let plan = self.checked_plan(&applied, options)?;
            self.check_single_transaction(conn, &plan.pending, options)?;
            let mut report = self.new_report(&applied, &plan);
            // Legacy rows carry no checksum: trust the code once, verify from then on.
            for &version in &plan.unverified {
                if let Some(checksum) = self.checksum_of(version) {
                    store.set_checksum(conn, version, checksum)?;
                    report.adopted_checksums.push(version);
                }
            }
            if options.single_transaction && !plan.pending.is_empty() {
                self.run_in_one_transaction(conn, &store, &plan.pending, report, observer)
            } else {
                self.run_each(conn, &store, &plan.pending, report, observer)
            }
        })
    }

    /// The start-up fast path: one read of a current-shape tracking table,
    /// checksums compared in memory, no lock and no DDL. `Some` only when
    /// nothing is pending and nothing is wrong; anything else (a missing or
    /// legacy table, a problem, pending work) goes the full, locked way.
    fn up_to_date(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        options: ApplyOptions,
    ) -> Option<ApplyReport> {
        // Where the server can fingerprint the table, not even the rows travel.
        if let (Some(sql), Some(last)) = (
            conn.dialect().fingerprint_query(&self.table),
            self.migrations.last(),
        ) {
            let binds = [
                Bind::I64(self.migrations.len() as i64),
                Bind::Text(self.fingerprint()),
            ];
            if let Ok(Some(1)) = conn.scalar(&sql, &binds) {
                return Some(ApplyReport {
                    already_applied: self.migrations.len(),
                    total: self.migrations.len(),
                    version_before: last.version,
                    version: last.version,
                    ..ApplyReport::default()
                });
            }
        }
        let applied = store.load_for_plan(conn).ok()?;
        let plan = plan::plan(
            self.migrations,
            self.checksums(),
            &applied,
            self.plan_options(options),
        );
        let clean =
            plan.pending.is_empty() && plan.problems.is_empty() && plan.unverified.is_empty();
        clean.then(|| self.new_report(&applied, &plan))
    }

    fn checked_plan<'m>(
        &'m self,
        applied: &[AppliedMigration],
        options: ApplyOptions,
    ) -> Result<plan::Plan<'m>> {
        let plan = plan::plan(
            self.migrations,
            self.checksums(),
            applied,
            self.plan_options(options),
        );
        match plan.problems.is_empty() {
            true => Ok(plan),
            false => Err(Error::Refused {
                problems: plan.problems,
            }),
        }
    }

    fn new_report(&self, applied: &[AppliedMigration], plan: &plan::Plan) -> ApplyReport {
        let version = plan::current_version(applied);
        ApplyReport {
            already_applied: plan.already_applied,
            total: self.migrations.len(),
            version_before: version,
            version,
            ..ApplyReport::default()
        }
    }

    fn check_single_transaction(
        &self,
        conn: &dyn MigrationConnection,
        pending: &[&Migration],
        options: ApplyOptions,
    ) -> Result<()> {
        if !options.single_transaction {
            return Ok(());
        }
        let refuse = |reason: String| Err(Error::SingleTransactionRefused { reason });
        if !conn.dialect().transactional_ddl() {
            return refuse(format!(
                "{} commits DDL implicitly, so a run cannot be rolled back as a whole",
                conn.dialect().name()
            ));
        }
        match pending.iter().find(|m| !m.transaction) {
            Some(m) => refuse(format!(
                "migration {} ({}) has `transaction: false`",
                m.version, m.description
            )),
            None => Ok(()),
        }
    }

    /// Each pending migration in its own transaction (or dirty-row protocol).
    fn run_each(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        pending: &[&Migration],
        mut report: ApplyReport,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        for migration in pending {
            let step = Step {
                migration,
                // Always found: the list was checked (sorted, unique) first.
                checksum: self.checksum_of(migration.version).unwrap_or_default(),
                direction: Direction::Up,
                outer_transaction: false,
            };
            match step::run(conn, store, &self.locking(), step, observer) {
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
                Err(error) => return Err(with_report(error, report)),
            }
        }
        Ok(report)
    }

    /// All pending migrations and their rows in one transaction.
    fn run_in_one_transaction(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store,
        pending: &[&Migration],
        mut report: ApplyReport,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        match self.locking().begin(conn, observer) {
            Ok(()) => {}
            Err(BeginError::Database(e)) => {
                return Err(Error::database("starting the transaction", e))
            }
            Err(BeginError::Other(e)) => return Err(e),
        }
        // Without a session lock (SQLite) the plan was made before the write
        // lock was ours: re-read once, and skip what a concurrent run applied.
        let mut pending = pending.to_vec();
        if !conn.dialect().has_session_lock() {
            let applied = match store.load(conn, &Shape::Current) {
                Ok(applied) => applied,
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    return Err(e);
                }
            };
            let before = pending.len();
            pending.retain(|m| !applied.iter().any(|row| row.version == m.version));
            report.already_applied += before - pending.len();
        }
        let mut done = Vec::new();
        for migration in &pending {
            let step = Step {
                migration,
                // Always found: the list was checked (sorted, unique) first.
                checksum: self.checksum_of(migration.version).unwrap_or_default(),
                direction: Direction::Up,
                outer_transaction: true,
            };
            match step::run(conn, store, &self.locking(), step, observer) {
                Ok(Some(applied)) => done.push(applied),
                Ok(None) => report.already_applied += 1,
                Err(error) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    return Err(with_report(error, report));
                }
            }
        }
        if let Err(e) = conn.batch_execute("COMMIT") {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(Error::database("committing the single transaction", e));
        }
        for applied in done {
            report.version = report.version.max(applied.version);
            observer.migration_finished(&applied);
            report.applied.push(applied);
        }
        Ok(report)
    }

    /// Runs `down` statements newest first, removing each row. Refuses,
    /// before touching anything, when a migration in range has no `down`, is
    /// unknown to the code, or the database has a dirty row.
    pub fn rollback(
        &self,
        conn: &mut dyn MigrationConnection,
        target: RollbackTarget,
        dry_run: bool,
        observer: &mut dyn Observer,
    ) -> Result<RollbackReport> {
        self.check_list()?;
        let store = Store::new(&self.table, conn.dialect());
        if dry_run {
            let (_, applied) = self.read(conn)?;
            let (range, report) = self.rollback_plan(&applied, target)?;
            return Ok(RollbackReport {
                dry_run: true,
                pending: range.iter().map(|m| pending(m, Direction::Down)).collect(),
                ..report
            });
        }
        self.locking().with_lock(conn, observer, |conn, observer| {
            let shape = store.inspect(conn)?;
            let applied = store.load(conn, &shape)?;
            let (range, mut report) = self.rollback_plan(&applied, target)?;
            for migration in range {
                let step = Step {
                    migration,
                    checksum: self.checksum_of(migration.version).unwrap_or_default(),
                    direction: Direction::Down,
                    outer_transaction: false,
                };
                match step::run(conn, &store, &self.locking(), step, observer) {
                    Ok(done) => {
                        report.version = applied
                            .iter()
                            .filter(|row| row.success && row.version < migration.version)
                            .map(|row| row.version)
                            .max()
                            .unwrap_or(0);
                        if let Some(done) = done {
                            observer.migration_reverted(&done);
                            report.reverted.push(done);
                        }
                    }
                    Err(StepError::Other(e)) => return Err(e),
                    Err(StepError::Failed(failure)) => {
                        let partial = ApplyReport {
                            version_before: report.version_before,
                            version: report.version,
                            applied: report.reverted,
                            ..ApplyReport::default()
                        };
                        return Err(Error::MigrationFailed {
                            failure: Box::new(MigrationFailure {
                                report: partial,
                                ..*failure
                            }),
                        });
                    }
                }
            }
            Ok(report)
        })
    }

    /// The migrations to roll back, newest first, checked before anything runs.
    fn rollback_plan(
        &self,
        applied: &[AppliedMigration],
        target: RollbackTarget,
    ) -> Result<(Vec<&'static Migration>, RollbackReport)> {
        let refuse = |reason: String| Err(Error::RollbackRefused { reason });
        if let Some(dirty) = applied.iter().find(|row| !row.success) {
            return refuse(format!(
                "migration {} ({}) is dirty; fix it and run `migrate repair` first",
                dirty.version, dirty.description
            ));
        }
        let mut newest_first: Vec<&AppliedMigration> = applied.iter().collect();
        newest_first.sort_by_key(|row| std::cmp::Reverse(row.version));
        let rows: Vec<&AppliedMigration> = match target {
            RollbackTarget::To(version) => newest_first
                .into_iter()
                .take_while(|row| row.version > version)
                .collect(),
            RollbackTarget::Steps(steps) => newest_first.into_iter().take(steps).collect(),
        };
        let mut range = Vec::new();
        for row in &rows {
            let Some(migration) = self.migrations.iter().find(|m| m.version == row.version) else {
                return refuse(format!(
                    "migration {} ({}) is not in the code, so its down statements are unknown",
                    row.version, row.description
                ));
            };
            if !migration.is_reversible() {
                return refuse(format!(
                    "migration {} ({}) is irreversible (it has no `down` statements)",
                    migration.version, migration.description
                ));
            }
            range.push(migration);
        }
        let version = plan::current_version(applied);
        let after = applied
            .iter()
            .filter(|row| !rows.iter().any(|r| r.version == row.version))
            .map(|row| row.version)
            .max()
            .unwrap_or(0);
        Ok((
            range,
            RollbackReport {
                reverted: Vec::new(),
                version_before: version,
                version,
                target_version: after,
                dry_run: false,
                pending: Vec::new(),
            },
        ))
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
            self.checksums(),
            &applied,
            self.plan_options(ApplyOptions::default()),
        );
        let migrations = plan::states(self.migrations, &applied)
            .into_iter()
            .zip(self.checksums())
            .map(|((m, state), checksum)| {
                let row = applied.iter().find(|row| row.version == m.version);
                MigrationStatus {
                    version: m.version,
                    description: m.description.to_string(),
                    state,
                    applied_at: row.and_then(|r| r.applied_at),
                    execution_ms: row.map(|r| r.execution_ms),
                    checksum: checksum.clone(),
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
            self.checksums(),
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
        self.locking().with_lock(conn, observer, |conn, _| {
            let shape = store.inspect(conn)?;
            if shape == Shape::Missing {
                return Ok(RepairReport::default());
            }
            store.ensure(conn, &shape)?;
            let mut report = RepairReport::default();
            for row in store.load(conn, &shape)? {
                let code = self
                    .migrations
                    .binary_search_by_key(&row.version, |m| m.version)
                    .ok()
                    .map(|i| (&self.migrations[i], self.checksums()[i].as_str()));
                if !row.success {
                    store.delete_row(conn, row.version).map_err(|e| {
                        Error::database(format!("removing the row of migration {}", row.version), e)
                    })?;
                    report.removed_dirty.push(row.version);
                } else if let Some((m, checksum)) = code {
                    if row.checksum.as_deref() != Some(checksum) || row.description != m.description
                    {
                        store.accept(conn, m.version, m.description, checksum)?;
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
        self.locking().with_lock(conn, observer, |conn, observer| {
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
            match self.locking().begin(conn, observer) {
                Ok(()) => {}
                Err(BeginError::Database(e)) => return Err(failed(e)),
                Err(BeginError::Other(e)) => return Err(e),
            }
            let now = Utc::now().naive_utc();
            for (m, checksum) in adopted.iter().zip(self.checksums()) {
                let row = NewRow {
                    version: m.version,
                    description: m.description,
                    checksum,
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

    fn locking(&self) -> Locking<'_> {
        Locking {
            table: &self.table,
            timeout: self.lock_timeout,
        }
    }
}

/// A migration's statements for a plan (dry run).
fn pending(m: &Migration, direction: Direction) -> PendingMigration {
    let statements = match direction {
        Direction::Up => m.sql,
        Direction::Down => m.down,
    };
    PendingMigration {
        version: m.version,
        description: m.description.to_string(),
        transaction: m.transaction,
        sql: statements.iter().map(|s| s.to_string()).collect(),
    }
}

/// Adds the run's report to a step's failure.
fn with_report(error: StepError, report: ApplyReport) -> Error {
    match error {
        StepError::Failed(failure) => Error::MigrationFailed {
            failure: Box::new(MigrationFailure { report, ..*failure }),
        },
        StepError::Other(error) => error,
    }
}
