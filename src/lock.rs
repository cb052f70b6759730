//! Holding the run-wide lock: a session lock where the database has one
//! (PostgreSQL advisory lock, MySQL `GET_LOCK`), SQLite's write lock
//! otherwise. Waiting is reported once and bounded by the lock timeout.

use std::time::{Duration, Instant};

use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::migrator::Observer;
use crate::table::TableName;

pub(crate) struct Locking<'a> {
    pub table: &'a TableName,
    pub timeout: Duration,
}

/// Why a transaction could not start.
pub(crate) enum BeginError {
    Database(diesel::result::Error),
    Other(Error),
}

impl Locking<'_> {
    /// Runs `body` holding the run-wide lock, releasing it on every path
    /// (a killed process releases it with its session).
    pub fn with_lock<T>(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        body: impl FnOnce(&mut dyn MigrationConnection, &mut dyn Observer) -> Result<T>,
    ) -> Result<T> {
        if conn.dialect() == Dialect::Sqlite {
            // Concurrent runners queue on SQLite's write lock for this long.
            self.set_busy_timeout(conn, self.timeout)?;
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

    /// Starts a transaction. On SQLite this takes the write lock: tried at
    /// once first, so that waiting for another run can be reported, then
    /// waited for up to the lock timeout.
    pub fn begin(
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
        self.set_busy_timeout(conn, self.timeout)
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

    /// Takes the session lock, polling so the wait is reported and bounded.
    fn lock(&self, conn: &mut dyn MigrationConnection, observer: &mut dyn Observer) -> Result<()> {
        let Some(sql) = conn.dialect().try_lock(self.table) else {
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
            if waited >= self.timeout {
                return Err(Error::LockTimeout {
                    table: self.table.to_string(),
                    waited,
                });
            }
            if !announced {
                observer.waiting_for_lock();
                announced = true;
            }
            std::thread::sleep(pause.min(self.timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    fn unlock(&self, conn: &mut dyn MigrationConnection) -> Result<()> {
        match conn.dialect().unlock(self.table) {
            Some(sql) => conn
                .scalar(&sql, &[])
                .map(drop)
                .map_err(|e| Error::database("releasing the migration lock", e)),
            None => Ok(()),
        }
    }
}

/// SQLite's "database is locked" (SQLITE_BUSY), after the busy timeout.
fn is_busy(error: &diesel::result::Error) -> bool {
    error.to_string().contains("database is locked")
}
