//! Carries plans out. Every command that changes the database runs the same
//! skeleton: the tool's session settings, the run-wide lock, then read the
//! tracking table, plan (pure, in `crate::plan`), execute. Reads take the
//! session settings and no lock.

mod apply;
mod maintenance;
mod rollback;

use std::time::Duration;

use crate::connection::MigrationConnection;
use crate::dialect::SessionSettings;
use crate::error::MigrationFailure;
use crate::error::{Error, LockKind, Result};
use crate::guardrails::Guardrails;
use crate::lock;
use crate::observer::Observer;
use crate::observer::StepInfo;
use crate::plan::{CodeList, PlanOptions};
use crate::report::StepReport;
use crate::session::{Session, Setup};
use crate::step::{Chain, Handoff, Protocol, Runner, Work};
use crate::store::{Rows, Store};
use crate::table::TableName;
use crate::tracking::Shape;
use crate::transaction;

pub use apply::ApplyOptions;

/// Everything a command needs besides the connection and the observer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Executor<'e> {
    pub code: CodeList<'e>,
    pub table: &'e TableName,
    pub lock_timeout: Duration,
    pub allow_out_of_order: bool,
    pub guardrails: Guardrails,
    /// Statements run first on every connection (`--session-sql`).
    pub session_sql: &'e [String],
    /// The PostgreSQL schema to work in (`search_path`), if any.
    pub schema: Option<&'e str>,
}

/// A mutating command's view once it holds the lock.
pub(crate) struct Locked<'l> {
    pub store: Store<'l>,
    pub session: &'l Session,
    pub shape: Shape,
    pub rows: Rows,
    /// The triggers that clear the start-up stamp exist (see
    /// `Store::prepare_guard`).
    pub guarded: bool,
}

impl<'l> Locked<'l> {
    fn runner(&self) -> Runner<'_> {
        Runner {
            store: &self.store,
            session: self.session,
        }
    }
}

impl<'e> Executor<'e> {
    fn setup(&self) -> Setup<'e> {
        Setup {
            schema: self.schema,
            statements: self.session_sql,
        }
    }

    fn settings(&self, check_client: bool) -> SessionSettings {
        SessionSettings {
            lock_timeout: self.lock_timeout,
            check_client,
        }
    }

    fn store(&self, conn: &dyn MigrationConnection) -> Store<'e> {
        Store::new(self.table, conn.dialect(), self.lock_timeout)
    }

    /// Reads the tracking table (creating nothing) under the tool's session
    /// settings; no lock.
    pub(crate) fn read(&self, conn: &mut dyn MigrationConnection) -> Result<(Shape, Rows)> {
        let store = self.store(conn);
        Session::with(
            conn,
            self.setup(),
            self.settings(false),
            Guardrails::default(),
            |conn, _| {
                let shape = store.inspect(conn)?;
                let rows = store.load(conn, &shape)?;
                Ok((shape, rows))
            },
        )
    }

    /// The skeleton of every mutating command: session settings, run-wide
    /// lock, the table read under it; `body` plans and executes.
    fn locked<T>(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        body: impl FnOnce(&mut dyn MigrationConnection, &mut dyn Observer, Locked<'_>) -> Result<T>,
    ) -> Result<T> {
        let store = self.store(conn);
        Session::with(
            conn,
            self.setup(),
            self.settings(true),
            self.guardrails,
            |conn, session| {
                lock::with_run_lock(
                    conn,
                    self.table,
                    self.lock_timeout,
                    observer,
                    |conn, observer| {
                        let shape = store.inspect(conn)?;
                        let rows = store.load(conn, &shape)?;
                        // Before any row changes, so that a change by this
                        // command clears the stamp too. Only the start-up
                        // shortcut depends on it: a failure (no right to
                        // create triggers) is not the command's.
                        let guarded =
                            shape == Shape::Current && store.prepare_guard(conn).unwrap_or(false);
                        let locked = Locked {
                            store,
                            session,
                            shape,
                            rows,
                            guarded,
                        };
                        body(conn, observer, locked)
                    },
                )
            },
        )
    }

    fn plan_options(&self, target: Option<i64>, shape: &Shape) -> PlanOptions {
        PlanOptions {
            target,
            allow_out_of_order: self.allow_out_of_order,
            trust_missing_checksums: shape.checksums_predate_this_tool(),
        }
    }

    /// The lock timeout SQLite reports as its busy write lock.
    fn write_lock_timeout(&self) -> Error {
        Error::LockTimeout {
            lock: LockKind::Table {
                table: String::from("database"),
            },
            waited: self.lock_timeout,
            blockers: Vec::new(),
        }
    }

    /// Runs `body` in a transaction of the tool's own.
    fn in_transaction<T>(
        &self,
        conn: &mut dyn MigrationConnection,
        action: &str,
        body: impl FnOnce(&mut dyn MigrationConnection) -> Result<T>,
    ) -> Result<T> {
        transaction::in_transaction(conn, action, || self.write_lock_timeout(), body)
    }
}

impl Executor<'_> {
    /// Runs one step with its own protocol, retrying it when it gave up
    /// waiting for a lock, as often as the guardrails allow and with growing
    /// pauses: a transactional migration was rolled back whole, and a
    /// non-transactional one is retried only when nothing of it was kept
    /// (its first statement was cancelled, and any invalid index it left was
    /// dropped).
    fn run_step(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        locked: &Locked,
        work: &Work,
    ) -> Result<StepReport, Box<MigrationFailure>> {
        self.run_chained(conn, observer, locked, work, Chain::default())
            .map(|(done, _)| done)
    }

    /// Runs one step, retrying a lock wait that ran out while nothing of
    /// it ran; besides the report, what it left for the next step (see
    /// [`Chain`]).
    fn run_chained(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        locked: &Locked,
        work: &Work,
        mut chain: Chain,
    ) -> Result<(StepReport, Handoff), Box<MigrationFailure>> {
        let runner = locked.runner();
        let protocol = Protocol::choose(conn.dialect(), work.transaction, false);
        let retries = self.guardrails.retries;
        let mut attempt = 0;
        loop {
            match runner.run(conn, observer, work, protocol, chain) {
                Err(failure)
                    if failure.lock_timeout
                        && attempt < retries
                        && (protocol == Protocol::Atomic || failure.nothing_ran) =>
                {
                    attempt += 1;
                    // Nothing ran: the dirty row was taken back and the
                    // tool's settings restored.
                    chain.from_previous = Handoff::default();
                    let pause = Guardrails::pause(attempt);
                    let step = StepInfo {
                        version: work.version,
                        description: work.description,
                        direction: work.direction,
                        from_database: work.from_database,
                    };
                    observer.retrying(&step, attempt, retries, pause);
                    std::thread::sleep(pause);
                }
                other => return other,
            }
        }
    }
}

/// The work of applying a migration of the code.
pub(crate) fn up_work<'m>(migration: &'m crate::Migration, checksum: &'m str) -> Work<'m> {
    Work {
        version: migration.version,
        description: migration.description,
        direction: crate::report::Direction::Up,
        statements: migration.sql.to_vec(),
        checksum: Some(checksum),
        down: migration.down.iter().map(|s| s.to_string()).collect(),
        transaction: migration.transaction,
        foreign_keys_off: migration.disables_foreign_keys(),
        from_database: false,
        code: migration.code.map(|code| (code.name, code.up)),
    }
}
