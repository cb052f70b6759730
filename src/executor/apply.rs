//! `apply`: the start-up fast path, dry runs, one transaction per migration
//! or one for the whole run.

use super::{up_work, Executor, Locked};
use crate::connection::MigrationConnection;
use crate::error::{Error, FailureStage, MigrationFailure, Result};
use crate::guardrails::Guardrails;
use crate::observer::Observer;
use crate::plan::{plan_apply, ApplyPlan};
use crate::report::{ApplyReport, PendingMigration, StepReport};
use crate::session::Session;
use crate::step::{Chain, Handoff, Protocol, Work};
use crate::store::Store;
use crate::tracking::Shape;
use crate::transaction::{self, BeginError};

/// From this many entries up, the start-up check hashes the list beside its
/// query (below it, hashing costs less than starting a thread).
const HASH_BESIDE_THE_QUERY: usize = 1_000;

/// Options for [`Migrator::apply_with`](crate::Migrator::apply_with).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Limits for the migrations' own statements; each falls back to the
    /// migrator's ([`Migrator::with_guardrails`](crate::Migrator::with_guardrails)).
    pub guardrails: Guardrails,
}

impl ApplyOptions {
    /// Apply nothing above `version`.
    pub fn to(mut self, version: i64) -> Self {
        self.target = Some(version);
        self
    }

    /// Plan only.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// All pending migrations in one transaction.
    pub fn single_transaction(mut self, single: bool) -> Self {
        self.single_transaction = single;
        self
    }

    /// Limits for the migrations' own statements.
    pub fn guardrails(mut self, guardrails: Guardrails) -> Self {
        self.guardrails = guardrails;
        self
    }
}

impl Executor<'_> {
    pub(crate) fn apply(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        let guarded = Executor {
            guardrails: options.guardrails.or(self.guardrails),
            ..*self
        };
        guarded.apply_guarded(conn, options, observer)
    }

    fn apply_guarded(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
        observer: &mut dyn Observer,
    ) -> Result<ApplyReport> {
        if options.dry_run {
            return self.apply_dry_run(conn, options);
        }
        if let Some(report) = self.up_to_date(conn)? {
            return Ok(report);
        }
        self.locked(conn, observer, |conn, observer, locked| {
            let single = options.single_transaction.then_some(conn.dialect());
            let options_for_plan = self.plan_options(options.target, &locked.shape);
            let plan = plan_apply(self.code, &locked.rows.rows, options_for_plan, single)
                .map_err(Error::Refused)?;
            let mut report = self.new_report(&plan);
            self.prepare(conn, &locked, &plan.adopt)?;
            report.adopted_checksums = plan.adopt.clone();
            let report = match single.is_some() && !plan.pending.is_empty() {
                true => self.run_in_one_transaction(conn, observer, &locked, &plan, report),
                false => self.run_each(conn, observer, &locked, &plan, report),
            }?;
            let everything = self.code.migrations.last().map(|m| m.version);
            if everything.is_some() && report.version == everything.unwrap_or(0) {
                self.stamp(conn, &locked)?;
            }
            Ok(report)
        })
    }

    fn new_report(&self, plan: &ApplyPlan) -> ApplyReport {
        ApplyReport {
            already_applied: plan.already_applied,
            total: self.code.migrations.len(),
            version_before: plan.version_before,
            version: plan.version_before,
            ..ApplyReport::default()
        }
    }

    /// The plan and its statements; nothing is changed or created.
    fn apply_dry_run(
        &self,
        conn: &mut dyn MigrationConnection,
        options: ApplyOptions,
    ) -> Result<ApplyReport> {
        let (shape, rows) = self.read(conn)?;
        let single = options.single_transaction.then_some(conn.dialect());
        let plan = plan_apply(
            self.code,
            &rows.rows,
            self.plan_options(options.target, &shape),
            single,
        )
        .map_err(Error::Refused)?;
        let mut report = self.new_report(&plan);
        report.dry_run = true;
        report.session_sql = self.session_sql.to_vec();
        report.pending = plan
            .pending
            .iter()
            .map(|(m, _)| PendingMigration {
                version: m.version,
                description: m.description.to_string(),
                transaction: m.transaction,
                sql: m.sql.iter().map(|s| s.to_string()).collect(),
                code: m.code.map(|code| code.label()),
                from_database: false,
                blocker: None,
            })
            .collect();
        Ok(report)
    }

    /// The start-up fast path: no lock, no DDL, one row whatever the
    /// table's length. When the newest row is the code's last migration,
    /// finished, and stamped by this very list (recorded only after every
    /// row was checked against the list under the lock) and no row changed
    /// since, nothing is pending and nothing was edited. "No row changed"
    /// is the database's word where its triggers clear the stamp on any
    /// change (PostgreSQL, SQLite) or mark a row inserted or changed
    /// (MySQL, which the check counts; a deleted row other than the newest
    /// goes unseen there until the next full check), else the row digest
    /// recorded with the stamp, computed again. Anything else goes the
    /// full, locked way, which checks every row and, when all is well,
    /// stamps again. A lock
    /// wait that ran out is an error here too.
    fn up_to_date(&self, conn: &mut dyn MigrationConnection) -> Result<Option<ApplyReport>> {
        // A long list is hashed on a thread of its own while the database
        // answers (a millisecond or two at 10,000 entries, about what the
        // round trips take): the check then waits for whichever is slower.
        if self.code.migrations.len() < HASH_BESIDE_THE_QUERY {
            return self.up_to_date_now(conn);
        }
        let code = self.code;
        std::thread::scope(|scope| {
            scope.spawn(move || code.fingerprint());
            self.up_to_date_now(conn)
        })
    }

    fn up_to_date_now(&self, conn: &mut dyn MigrationConnection) -> Result<Option<ApplyReport>> {
        let store = self.store(conn);
        let Some(last) = self.code.migrations.last() else {
            return Ok(None);
        };
        let answer = |conn: &mut dyn MigrationConnection| {
            Ok(self
                .answer_from_stamp(conn, &store, last.version)?
                .then(|| ApplyReport {
                    already_applied: self.code.migrations.len(),
                    total: self.code.migrations.len(),
                    version_before: last.version,
                    version: last.version,
                    ..ApplyReport::default()
                }))
        };
        match conn.dialect().statement_lock_timeout() {
            true => Session::with_setup(conn, self.setup(), answer),
            false => Session::with(
                conn,
                self.setup(),
                self.settings(false),
                Guardrails::default(),
                |conn, _| answer(conn),
            ),
        }
    }

    /// Whether the stamp vouches that the code's list, up to `last`, is
    /// applied and unchanged (see [`Self::up_to_date`]).
    fn answer_from_stamp(
        &self,
        conn: &mut dyn MigrationConnection,
        store: &Store<'_>,
        last: i64,
    ) -> Result<bool> {
        let found = match store.load_startup(conn) {
            Ok(Some(found)) => found,
            // An empty table: the full path.
            Ok(None) => return Ok(false),
            Err(e @ Error::LockTimeout { .. }) => return Err(e),
            // A missing or older table: the full path creates or upgrades it.
            Err(_) => return Ok(false),
        };
        if !found.finished || found.version != Some(last) {
            return Ok(false);
        }
        let Some(stamp) = found.fingerprint.as_deref() else {
            return Ok(false);
        };
        Ok(match stamp.strip_prefix(self.code.fingerprint()) {
            // The stamped row is the only one carrying anything there
            // (MySQL: no row marked itself as changed).
            Some("") => found.witness.is_none_or(|marked| marked == "1"),
            Some(recorded) => {
                let digest = match found.witness {
                    Some(digest) => digest,
                    None => store.row_digest(conn)?,
                };
                recorded.strip_prefix(':') == Some(digest.as_str())
            }
            None => false,
        })
    }

    /// After a run that leaves every migration of the code applied, with
    /// every row checked against this list (the plan refuses otherwise):
    /// the newest row records the list's fingerprint, so the next start-up
    /// check reads one row. Where the triggers that clear it exist or can
    /// be made now (a table this run created or upgraded), that is all;
    /// elsewhere the row digest is recorded with it. In a transaction of
    /// its own after the migrations': a crash before it only costs the next
    /// start-up the full check.
    fn stamp(&self, conn: &mut dyn MigrationConnection, locked: &Locked) -> Result<()> {
        let Some(last) = self.code.migrations.last() else {
            return Ok(());
        };
        let store = &locked.store;
        // Outside the transaction: a refused CREATE TRIGGER would abort it.
        let guarded = locked.guarded || store.prepare_guard(conn).unwrap_or(false);
        let doing = "recording the list's fingerprint";
        self.in_transaction(conn, doing, |conn| {
            let value = match guarded {
                true => {
                    store
                        .clear_list_fingerprints(conn)
                        .map_err(|e| store.error(doing, e))?;
                    self.code.fingerprint().to_string()
                }
                false => format!("{}:{}", self.code.fingerprint(), store.row_digest(conn)?),
            };
            store
                .stamp_list_fingerprint(conn, last.version, &value)
                .map_err(|e| store.error(doing, e))
        })
    }

    /// Creates or upgrades the table and records the adopted checksums, in
    /// one transaction where DDL is transactional.
    fn prepare(
        &self,
        conn: &mut dyn MigrationConnection,
        locked: &Locked,
        adopt: &[i64],
    ) -> Result<()> {
        if locked.shape == Shape::Current && adopt.is_empty() {
            return Ok(());
        }
        let store = &locked.store;
        let record = |conn: &mut dyn MigrationConnection| -> Result<()> {
            for &version in adopt {
                if let Some((_, checksum)) = self.code.find(version) {
                    store
                        .adopt_checksum(conn, version, checksum)
                        .map_err(|e| store.error("recording the checksum", e))?;
                }
            }
            Ok(())
        };
        match conn.dialect().transactional_ddl() {
            true => self.in_transaction(conn, "preparing the tracking table", |conn| {
                store.ensure(conn, &locked.shape)?;
                record(conn)
            }),
            false => {
                store.ensure(conn, &locked.shape)?;
                self.in_transaction(conn, "recording checksums", record)
            }
        }
    }

    /// Each pending migration with its own protocol (transaction or dirty row).
    fn run_each(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        locked: &Locked,
        plan: &ApplyPlan,
        mut report: ApplyReport,
    ) -> Result<ApplyReport> {
        let mut works = plan
            .pending
            .iter()
            .map(|&(migration, checksum)| up_work(migration, checksum))
            .peekable();
        let mut handoff = Handoff::default();
        while let Some(work) = works.next() {
            let chain = Chain {
                from_previous: handoff,
                next: works.peek(),
            };
            match self.run_chained(conn, observer, locked, &work, chain) {
                Ok((done, left)) => {
                    handoff = left;
                    report.version = report.version.max(done.version);
                    observer.migration_finished(&done);
                    report.applied.push(done);
                }
                Err(mut failure) => {
                    failure.completed = report.applied;
                    return Err(Error::MigrationFailed { failure });
                }
            }
        }
        Ok(report)
    }

    /// Every pending migration and its row in one transaction: all or nothing.
    fn run_in_one_transaction(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        locked: &Locked,
        plan: &ApplyPlan,
        mut report: ApplyReport,
    ) -> Result<ApplyReport> {
        let works: Vec<Work> = plan
            .pending
            .iter()
            .map(|&(m, checksum)| up_work(m, checksum))
            .collect();
        let needs_foreign_keys_off = works.iter().any(|w| w.foreign_keys_off);
        let pragma_failed = |e| Error::database("switching foreign-key enforcement", e);
        let done = transaction::with_foreign_keys_off(
            conn,
            needs_foreign_keys_off,
            pragma_failed,
            |conn| {
                match transaction::begin(conn, locked.session.migration_local().as_deref()) {
                    Ok(()) => {}
                    Err(BeginError::Busy(_)) => return Err(self.write_lock_timeout()),
                    Err(BeginError::Database(e)) => {
                        return Err(Error::database("starting the single transaction", e))
                    }
                }
                let runner = locked.runner();
                let mut done: Vec<StepReport> = Vec::new();
                for work in &works {
                    let outer = Protocol::InOuterTransaction;
                    match runner.run(conn, observer, work, outer, Chain::default()) {
                        Ok((step, _)) => done.push(step),
                        Err(mut failure) => {
                            transaction::rollback(conn);
                            failure.whole_run_rolled_back = true;
                            failure.completed = done;
                            return Err(Error::MigrationFailed { failure });
                        }
                    }
                }
                if needs_foreign_keys_off {
                    if let Some(violations) = foreign_key_violations(conn) {
                        transaction::rollback(conn);
                        let work = works
                            .iter()
                            .rev()
                            .find(|w| w.foreign_keys_off)
                            .unwrap_or(&works[0]);
                        return Err(Error::MigrationFailed {
                            failure: one_transaction_failure(work, locked, violations, done),
                        });
                    }
                }
                let tool: Vec<String> = locked.session.tool_local().into_iter().collect();
                transaction::commit(conn, &tool)
                    .map_err(|e| Error::database("committing the single transaction", e))?;
                Ok(done)
            },
        )?;
        for step in done {
            report.version = report.version.max(step.version);
            observer.migration_finished(&step);
            report.applied.push(step);
        }
        Ok(report)
    }
}

fn foreign_key_violations(conn: &mut dyn MigrationConnection) -> Option<String> {
    let sql = conn.dialect().foreign_key_violations_query()?;
    conn.scalar_text(sql)
        .unwrap_or_else(|e| Some(e.to_string()))
}

fn one_transaction_failure(
    work: &Work,
    locked: &Locked,
    violations: String,
    done: Vec<StepReport>,
) -> Box<MigrationFailure> {
    Box::new(MigrationFailure {
        version: work.version,
        description: work.description.to_string(),
        direction: work.direction,
        stage: FailureStage::ForeignKeyCheck,
        statement_index: None,
        statement: None,
        database_message: violations,
        dirty: false,
        nothing_ran: false,
        whole_run_rolled_back: true,
        table: locked.store.table.to_string(),
        completed: done,
        lock_timeout: false,
        blockers: Vec::new(),
        dropped_index: None,
    })
}
