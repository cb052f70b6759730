//! Running one migration, up or down, with its tracking-row bookkeeping,
//! under one of three named protocols. The same runner serves `apply`,
//! `rollback`, `redo` and single-transaction runs.

use std::time::Instant;

use chrono::Utc;

use crate::code::{CodeFn, Db};
use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Blocker, FailureStage, MigrationFailure};
use crate::observer::{Observer, StepInfo};
use crate::report::{Direction, StepReport};
use crate::session::Session;
use crate::store::{Store, WriteError};

mod dirty;
use crate::tracking::AppliedMigration;
use crate::transaction::{self, BeginError};

/// How a migration's statements and its tracking change are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Statements and the tracking change in one transaction of their own:
    /// all or nothing (transactional DDL and `transaction: true`).
    Atomic,
    /// The row is marked unfinished (committed) before the statements run
    /// one by one, and settled after: a failure or crash in between stays
    /// visible as a dirty row (MySQL, `transaction: false`).
    DirtyRow,
    /// Inside a transaction the caller owns (`--single-transaction`): no
    /// BEGIN or COMMIT here, and the caller rolls back on failure.
    InOuterTransaction,
}

impl Protocol {
    pub(crate) fn choose(dialect: Dialect, transaction: bool, outer: bool) -> Protocol {
        match (outer, transaction && dialect.transactional_ddl()) {
            (true, _) => Protocol::InOuterTransaction,
            (false, true) => Protocol::Atomic,
            (false, false) => Protocol::DirtyRow,
        }
    }
}

/// One migration to run, up or down.
#[derive(Debug, Clone)]
pub(crate) struct Work<'a> {
    pub version: i64,
    pub description: &'a str,
    pub direction: Direction,
    pub statements: Vec<&'a str>,
    /// Up: the code's checksum, recorded in the row.
    pub checksum: Option<&'a str>,
    /// Up: the `down` statements, recorded in the row.
    pub down: Vec<String>,
    pub transaction: bool,
    /// SQLite: the migration turns foreign keys off (see
    /// [`crate::transaction::with_foreign_keys_off`]).
    pub foreign_keys_off: bool,
    /// Down: the statements come from the row, not the code.
    pub from_database: bool,
    /// The code step to run (its name and function): `up` when applying,
    /// its `down` when rolling back.
    pub code: Option<(&'a str, CodeFn)>,
}

/// Where a step sits among dirty-row migrations applied one after another
/// (MySQL): its dirty row may have been committed with the step before's
/// settling, and it may do the same for the step after it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Chain<'c, 'a> {
    /// What the step before left for this one.
    pub from_previous: Handoff,
    /// The migration the run applies next, if any.
    pub next: Option<&'c Work<'a>>,
}

/// What a step leaves for the next (MySQL, migrations in commit groups):
/// the next one's dirty row, committed with this one's settling, and the
/// session still in the migrations' settings with autocommit off, so the
/// next one's statements start at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Handoff {
    /// The next step's dirty row is written.
    pub row_written: bool,
    /// The next step's commit group is open.
    pub group_open: bool,
}

/// What failed in a migration's body.
enum BodyError {
    /// A statement (1-based; 0: the settings around them).
    Statement(usize, diesel::result::Error),
    /// The code step, with its error or panic message.
    Code(String),
}

/// Runs a code step (see [`crate::code::run_caught`]).
fn run_code(
    conn: &mut dyn MigrationConnection,
    observer: &mut dyn Observer,
    info: StepInfo<'_>,
    code: Option<(&str, CodeFn)>,
) -> Result<(), BodyError> {
    let Some((name, function)) = code else {
        return Ok(());
    };
    crate::code::run_caught(Db::new(conn, observer, info), name, function).map_err(BodyError::Code)
}

/// What a step needs besides the work.
pub(crate) struct Runner<'r> {
    pub store: &'r Store<'r>,
    pub session: &'r Session,
}

impl Runner<'_> {
    /// Runs `work` under `protocol`. A failure says where and how much of
    /// the migration the database kept; the caller adds what completed
    /// before it. Besides the report: what it left for the next step (see
    /// [`Chain`]).
    pub(crate) fn run(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        work: &Work,
        protocol: Protocol,
        chain: Chain,
    ) -> Result<(StepReport, Handoff), Box<MigrationFailure>> {
        match protocol {
            Protocol::DirtyRow => self.dirty_row(conn, observer, work, chain),
            Protocol::Atomic | Protocol::InOuterTransaction => {
                let own = protocol == Protocol::Atomic;
                let pragma_failed = |e: diesel::result::Error| {
                    let message = format!("switching foreign-key enforcement failed: {e}");
                    self.failure(work, FailureStage::Begin, None, &message, false)
                };
                transaction::with_foreign_keys_off(
                    conn,
                    work.foreign_keys_off && own,
                    pragma_failed,
                    |conn| self.transactional(conn, observer, work, own),
                )
                .map(|done| (done, Handoff::default()))
            }
        }
    }

    fn transactional(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        work: &Work,
        own: bool,
    ) -> Result<StepReport, Box<MigrationFailure>> {
        let fail = |stage, index, message: &dyn std::fmt::Display| {
            self.failure(work, stage, index, message, false)
        };
        if own {
            if let Err(e) = transaction::begin(conn, self.session.migration_local().as_deref()) {
                return Err(self.begin_failure(work, e));
            }
        }
        let abandon = |conn: &mut dyn MigrationConnection| {
            if own {
                transaction::rollback(conn);
            }
        };
        let elapsed = match self.body(conn, observer, work) {
            Ok(elapsed) => elapsed,
            Err(BodyError::Statement(index, e)) => {
                abandon(conn);
                let mut failure = fail(FailureStage::Statement, Some(index), &e);
                self.note_lock_wait(conn, work, &mut failure);
                return Err(failure);
            }
            Err(BodyError::Code(message)) => {
                abandon(conn);
                return Err(self.code_failure(work, &message, false));
            }
        };
        if work.foreign_keys_off && own {
            if let Some(violations) = self.foreign_key_violations(conn) {
                abandon(conn);
                return Err(fail(FailureStage::ForeignKeyCheck, None, &violations));
            }
        }
        let row = self.row(work, true, elapsed);
        let recorded = match (work.direction, own) {
            (Direction::Up, true) => {
                let mut batch: Vec<String> = self.session.tool_local().into_iter().collect();
                batch.push(self.store.insert_literal(&row));
                transaction::commit(conn, &batch).map_err(WriteError::Database)
            }
            (Direction::Up, false) => conn
                .batch_execute(&self.store.insert_literal(&row))
                .map_err(WriteError::Database),
            (Direction::Down, _) => {
                let tool = self.session.tool_local();
                let deleted = match tool {
                    Some(sql) => conn.batch_execute(&sql).map_err(WriteError::Database),
                    None => Ok(()),
                }
                .and_then(|()| self.store.delete(conn, work.version));
                match (deleted, own) {
                    (Ok(()), true) => transaction::commit(conn, &[]).map_err(WriteError::Database),
                    (result, _) => result,
                }
            }
        };
        if let Err(e) = recorded {
            abandon(conn);
            return Err(self.bookkeeping_failure(work, &e, false));
        }
        Ok(self.report(work, elapsed))
    }

    /// A statement that gave up waiting for a lock: names who held it.
    fn note_lock_wait(
        &self,
        conn: &mut dyn MigrationConnection,
        work: &Work,
        failure: &mut MigrationFailure,
    ) {
        if !conn.dialect().is_lock_timeout(&failure.database_message) {
            return;
        }
        failure.lock_timeout = true;
        let statement = failure
            .statement_index
            .and_then(|i| work.statements.get(i - 1))
            .copied()
            .unwrap_or_default();
        failure.blockers = self.blockers(conn, statement);
    }

    /// The sessions holding locks on the tables `statement` names.
    fn blockers(&self, conn: &mut dyn MigrationConnection, statement: &str) -> Vec<Blocker> {
        let tables = crate::guardrails::tables_named(statement);
        let Some(sql) = conn.dialect().blockers_query(&tables) else {
            return Vec::new();
        };
        conn.load_text_rows(&sql)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|row| {
                let mut columns = row.into_iter();
                Some(Blocker {
                    session: columns.next()??,
                    state: columns.next().flatten(),
                    running_for_s: columns.next().flatten().and_then(|s| s.parse().ok()),
                    query: columns
                        .next()
                        .flatten()
                        .map(|q| q.split_whitespace().collect::<Vec<_>>().join(" ")),
                })
            })
            .collect()
    }

    /// Runs the migration's body: applying, its statements in order, then
    /// its code step; rolling back, the code step's `down`, then the
    /// statements. The elapsed milliseconds, or what failed.
    fn body(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        work: &Work,
    ) -> Result<f64, BodyError> {
        let info = StepInfo {
            version: work.version,
            description: work.description,
            direction: work.direction,
            from_database: work.from_database,
        };
        observer.migration_started(&info);
        let started = Instant::now();
        if work.direction == Direction::Down {
            run_code(conn, observer, info, work.code)?;
        }
        for (i, sql) in work.statements.iter().enumerate() {
            observer.statement_started(&info, i + 1, sql);
            conn.batch_execute(sql)
                .map_err(|e| BodyError::Statement(i + 1, e))?;
        }
        if work.direction == Direction::Up {
            run_code(conn, observer, info, work.code)?;
        }
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    /// A code step failed or panicked.
    fn code_failure(&self, work: &Work, message: &str, dirty: bool) -> Box<MigrationFailure> {
        let mut failure = self.failure(work, FailureStage::Code, None, &message, dirty);
        failure.statement = work.code.map(|(name, _)| format!("code step {name}"));
        failure
    }

    /// SQLite: the first rows `PRAGMA foreign_key_check` reports, if any.
    fn foreign_key_violations(&self, conn: &mut dyn MigrationConnection) -> Option<String> {
        let sql = conn.dialect().foreign_key_violations_query()?;
        match conn.scalar_text(sql) {
            Ok(found) => found,
            Err(e) => Some(format!("the foreign-key check itself failed: {e}")),
        }
    }

    fn row(&self, work: &Work, success: bool, execution_ms: f64) -> AppliedMigration {
        AppliedMigration {
            version: work.version,
            description: work.description.to_string(),
            checksum: work.checksum.map(str::to_string),
            applied_at: Some(Utc::now()),
            execution_ms,
            success,
            down: Some(work.down.clone()),
            list_fingerprint: None,
        }
    }

    fn report(&self, work: &Work, execution_ms: f64) -> StepReport {
        StepReport {
            version: work.version,
            description: work.description.to_string(),
            direction: work.direction,
            execution_ms,
            checksum: work.checksum.map(str::to_string),
            from_database: work.from_database,
        }
    }

    fn begin_failure(&self, work: &Work, error: BeginError) -> Box<MigrationFailure> {
        self.failure(work, FailureStage::Begin, None, &error, false)
    }

    /// The tracking row could not be written: when the database's message
    /// names the tracking table, the migration itself dropped or changed it.
    fn bookkeeping_failure(
        &self,
        work: &Work,
        error: &WriteError,
        dirty: bool,
    ) -> Box<MigrationFailure> {
        let message = error.to_string();
        let stage = match message.contains(self.store.table.name()) {
            true => FailureStage::TrackingTableChanged,
            false => FailureStage::Bookkeeping,
        };
        self.failure(work, stage, None, &message, dirty)
    }

    fn failure(
        &self,
        work: &Work,
        stage: FailureStage,
        index: Option<usize>,
        message: &dyn std::fmt::Display,
        dirty: bool,
    ) -> Box<MigrationFailure> {
        Box::new(MigrationFailure {
            version: work.version,
            description: work.description.to_string(),
            direction: work.direction,
            stage,
            statement_index: index,
            statement: index
                .and_then(|i| work.statements.get(i - 1))
                .map(|s| s.to_string()),
            database_message: message.to_string(),
            dirty,
            nothing_ran: false,
            whole_run_rolled_back: false,
            table: self.store.table.to_string(),
            completed: Vec::new(),
            lock_timeout: false,
            blockers: Vec::new(),
            dropped_index: None,
        })
    }
}
