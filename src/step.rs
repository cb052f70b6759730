//! Running one migration, up or down, with its tracking-table bookkeeping.
//! The same steps serve `apply`, `rollback` and single-transaction runs.

use std::time::Instant;

use chrono::Utc;

use crate::connection::MigrationConnection;
use crate::error::{Direction, Error, MigrationFailure};
use crate::lock::{BeginError, Locking};
use crate::migration::Migration;
use crate::migrator::Observer;
use crate::report::{AppliedReport, ApplyReport};
use crate::store::{NewRow, Store};

/// Why a step did not complete.
pub(crate) enum StepError {
    /// Its SQL or bookkeeping failed; the caller adds the run's report.
    Failed(Box<MigrationFailure>),
    /// Something around it failed (e.g. the lock timed out).
    Other(Error),
}

pub(crate) struct Step<'a> {
    pub migration: &'a Migration,
    /// The migration's checksum, from the migrator's cache.
    pub checksum: &'a str,
    pub direction: Direction,
    /// Already inside a transaction the caller owns (`--single-transaction`):
    /// no BEGIN/COMMIT here, and on failure the caller rolls back.
    pub outer_transaction: bool,
}

/// Runs a step. `Ok(None)` when a concurrent run did it first (seen only
/// where the write lock is taken per migration, i.e. SQLite).
///
/// Atomic steps (transactional DDL and `transaction: true`) run the SQL and
/// the tracking change in one transaction. Other steps use the dirty-row
/// protocol: the row is marked unfinished before the SQL runs and settled
/// after, so a failure or crash in between stays visible.
pub(crate) fn run(
    conn: &mut dyn MigrationConnection,
    store: &Store,
    locking: &Locking,
    step: Step,
    observer: &mut dyn Observer,
) -> Result<Option<AppliedReport>, StepError> {
    let Step {
        migration,
        checksum,
        direction,
        outer_transaction,
    } = step;
    let dialect = conn.dialect();
    let statements = match direction {
        Direction::Up => migration.sql,
        Direction::Down => migration.down,
    };
    let atomic = outer_transaction || (migration.transaction && dialect.transactional_ddl());
    let fail = |index: Option<usize>, dirty: bool, error: &dyn std::fmt::Display| {
        StepError::Failed(Box::new(MigrationFailure {
            version: migration.version,
            description: migration.description.to_string(),
            direction,
            statement_index: index,
            statement: index.map(|i| statements[i - 1].to_string()),
            database_message: error.to_string(),
            dirty,
            whole_run_rolled_back: outer_transaction,
            report: ApplyReport::default(),
        }))
    };
    let row = |success: bool, execution_ms: i64| NewRow {
        version: migration.version,
        description: migration.description,
        checksum,
        applied_at: Utc::now().naive_utc(),
        execution_ms,
        success,
    };
    let rollback = |conn: &mut dyn MigrationConnection| {
        let _ = conn.batch_execute("ROLLBACK");
    };

    // Without a session lock (SQLite) the write lock is taken per step and
    // the row re-checked, so two runners never both run a migration. (An
    // outer transaction re-reads the rows once after taking the lock.)
    let recheck = !dialect.has_session_lock() && !outer_transaction;
    let own_transaction = !outer_transaction && (atomic || recheck);
    if own_transaction {
        match locking.begin(conn, observer) {
            Ok(()) => {}
            Err(BeginError::Database(e)) => return Err(fail(None, false, &e)),
            Err(BeginError::Other(e)) => return Err(StepError::Other(e)),
        }
    }
    if recheck {
        let present = match store.contains(conn, migration.version) {
            Ok(present) => present,
            Err(e) => {
                if own_transaction {
                    rollback(conn);
                }
                return Err(StepError::Other(e));
            }
        };
        if present == (direction == Direction::Up) {
            if own_transaction {
                rollback(conn);
            }
            return Ok(None);
        }
    }
    if !atomic {
        let marked = match direction {
            Direction::Up => store.insert(conn, &row(false, 0)),
            Direction::Down => store.mark_dirty(conn, migration.version),
        };
        let committed = marked.and_then(|()| match own_transaction {
            true => conn.batch_execute("COMMIT"),
            false => Ok(()),
        });
        if let Err(e) = committed {
            if own_transaction {
                rollback(conn);
            }
            return Err(fail(None, false, &e));
        }
    }

    observer.migration_started(migration);
    let started = Instant::now();
    for (i, sql) in statements.iter().enumerate() {
        observer.statement_started(migration, i + 1, sql);
        if let Err(e) = conn.batch_execute(sql) {
            if atomic && own_transaction {
                rollback(conn);
            }
            return Err(fail(Some(i + 1), !atomic, &e));
        }
    }
    let elapsed = started.elapsed();
    let execution_ms = elapsed.as_millis().min(i64::MAX as u128) as i64;

    let committed =
        match (direction, atomic) {
            // The row and the COMMIT go in one batch: one round trip, where a
            // bound INSERT costs a prepare and an execute before the COMMIT.
            (Direction::Up, true) => {
                let insert = store.insert_sql(&row(true, execution_ms));
                match own_transaction {
                    true => conn.batch_execute(&format!("{insert}; COMMIT")),
                    false => conn.batch_execute(&insert),
                }
            }
            (Direction::Up, false) => store.mark_done(
                conn,
                migration.version,
                Utc::now().naive_utc(),
                execution_ms,
            ),
            (Direction::Down, _) => store.delete_row(conn, migration.version).and_then(|()| {
                match atomic && own_transaction {
                    true => conn.batch_execute("COMMIT"),
                    false => Ok(()),
                }
            }),
        };
    if let Err(e) = committed {
        if atomic && own_transaction {
            rollback(conn);
        }
        return Err(fail(None, !atomic, &e));
    }
    Ok(Some(AppliedReport {
        version: migration.version,
        description: migration.description.to_string(),
        execution_ms: elapsed.as_secs_f64() * 1000.0,
        checksum: checksum.to_string(),
    }))
}
