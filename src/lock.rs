//! The run-wide lock every command that changes the tracking table holds
//! from planning to the end: a PostgreSQL advisory lock or MySQL `GET_LOCK`
//! on the session, and on SQLite an exclusive lock on a file beside the
//! database (`app.db.migrate-lock`). SQLite's own write lock lasts one
//! transaction, too short for a plan that spans several (a rollback racing
//! an apply, a non-transactional migration in flight); the file lock spans
//! the run, and the operating system releases it if the process dies.
//! Waiting is reported once and bounded by the lock timeout.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::connection::MigrationConnection;
use crate::dialect::{Dialect, Sql};
use crate::error::{Error, LockKind, Result};
use crate::observer::Observer;
use crate::table::TableName;

/// Runs `body` holding the run-wide lock for `table`, released on every
/// path (a killed process releases it with its session or its file).
pub(crate) fn with_run_lock<T>(
    conn: &mut dyn MigrationConnection,
    table: &TableName,
    timeout: Duration,
    observer: &mut dyn Observer,
    body: impl FnOnce(&mut dyn MigrationConnection, &mut dyn Observer) -> Result<T>,
) -> Result<T> {
    let kind = LockKind::Migration {
        table: table.to_string(),
    };
    let dialect = conn.dialect();
    if dialect == Dialect::Sqlite {
        let file = lock_file(conn, table)?;
        let _held = match file {
            Some(path) => Some(wait_for(timeout, &kind, observer, || try_file_lock(&path))?),
            None => None,
        };
        // Dropping `_held` (after the body) closes the file: unlocked.
        return body(conn, observer);
    }
    let (Some(lock), Some(unlock)) = (dialect.try_lock(table), dialect.unlock(table)) else {
        return body(conn, observer);
    };
    wait_for(timeout, &kind, observer, || {
        match conn.scalar_i64(&Sql::new(lock.clone(), Vec::new())) {
            Ok(Some(1)) => Ok(Some(())),
            Ok(_) => Ok(None),
            Err(e) => Err(Error::database("taking the migration lock", e)),
        }
    })?;
    let result = body(conn, observer);
    let unlocked = conn
        .scalar_i64(&Sql::new(unlock, Vec::new()))
        .map(drop)
        .map_err(|e| Error::database("releasing the migration lock", e));
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Polls `attempt` until it yields the lock, reporting the wait once and
/// giving up after `timeout`.
fn wait_for<L>(
    timeout: Duration,
    kind: &LockKind,
    observer: &mut dyn Observer,
    mut attempt: impl FnMut() -> Result<Option<L>>,
) -> Result<L> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    let mut announced = false;
    loop {
        if let Some(held) = attempt()? {
            return Ok(held);
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                lock: kind.clone(),
                waited,
                blockers: Vec::new(),
            });
        }
        if !announced {
            observer.waiting_for_lock(kind);
            announced = true;
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The lock file beside the SQLite database holding `table`; `None` for an
/// in-memory database (one connection, nothing to race).
fn lock_file(conn: &mut dyn MigrationConnection, table: &TableName) -> Result<Option<PathBuf>> {
    let Some(sql) = conn.dialect().database_file_query(table) else {
        return Ok(None);
    };
    let file = conn
        .scalar_text(&sql)
        .map_err(|e| Error::database("finding the database file", e))?;
    Ok(file.filter(|f| !f.is_empty()).map(|f| {
        let mut path = std::ffi::OsString::from(f);
        path.push(".migrate-lock");
        PathBuf::from(path)
    }))
}

fn try_file_lock(path: &PathBuf) -> Result<Option<File>> {
    let io = |source| Error::Io {
        action: "open the lock file",
        path: path.display().to_string(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => Err(Error::Io {
            action: "lock",
            path: path.display().to_string(),
            source,
        }),
    }
}
