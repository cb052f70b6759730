//! The one transaction helper: begin, commit or roll back on every path.
//! Every transaction of the runner (a migration's, a whole run's, repair's,
//! baseline's) goes through here.

use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Why a transaction could not start.
#[derive(Debug)]
pub(crate) enum BeginError {
    /// SQLite: another connection held the write lock past the busy timeout.
    Busy(diesel::result::Error),
    Database(diesel::result::Error),
}

impl std::fmt::Display for BeginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BeginError::Busy(e) | BeginError::Database(e) => write!(f, "{e}"),
        }
    }
}

/// Opens a transaction (on SQLite taking the write lock at once), with
/// `settings` for it in the same round trip.
pub(crate) fn begin(
    conn: &mut dyn MigrationConnection,
    settings: Option<&str>,
) -> Result<(), BeginError> {
    let dialect = conn.dialect();
    let sql = match settings {
        Some(settings) => format!("{}; {settings}", dialect.begin()),
        None => dialect.begin().to_string(),
    };
    match conn.batch_execute(&sql) {
        Ok(()) => Ok(()),
        Err(e) => {
            // A batch that began may have failed on its settings.
            rollback(conn);
            match dialect.is_lock_timeout(&e.to_string()) && dialect == Dialect::Sqlite {
                true => Err(BeginError::Busy(e)),
                false => Err(BeginError::Database(e)),
            }
        }
    }
}

/// Commits, sending `before` (e.g. the tracking row) in the same batch: one
/// round trip. On failure the transaction is rolled back.
pub(crate) fn commit(
    conn: &mut dyn MigrationConnection,
    before: &[String],
) -> diesel::QueryResult<()> {
    let dialect = conn.dialect();
    let mut batch = before.join("; ");
    if !batch.is_empty() {
        batch.push_str("; ");
    }
    batch.push_str(dialect.commit());
    let committed = conn.batch_execute(&batch);
    if committed.is_err() {
        rollback(conn);
    }
    committed
}

/// Rolls back whatever is open; nothing to report if nothing was.
pub(crate) fn rollback(conn: &mut dyn MigrationConnection) {
    let sql = conn.dialect().rollback();
    let _ = conn.batch_execute(sql);
}

/// Runs `body` in a transaction of the tool's own: committed when it
/// succeeds, rolled back when it fails. `busy` turns a busy SQLite write
/// lock into the caller's error.
pub(crate) fn in_transaction<T>(
    conn: &mut dyn MigrationConnection,
    action: &str,
    busy: impl FnOnce() -> Error,
    body: impl FnOnce(&mut dyn MigrationConnection) -> Result<T>,
) -> Result<T> {
    match begin(conn, None) {
        Ok(()) => {}
        Err(BeginError::Busy(_)) => return Err(busy()),
        Err(BeginError::Database(e)) => return Err(Error::database(action, e)),
    }
    match body(conn) {
        Ok(value) => {
            commit(conn, &[]).map_err(|e| Error::database(action, e))?;
            Ok(value)
        }
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

/// SQLite: runs `body` with foreign-key enforcement off when `needed`
/// (the migration asked for it with `PRAGMA foreign_keys = OFF`, which does
/// nothing inside a transaction), turning it back on afterwards on every
/// path. Elsewhere, or when enforcement is already off, just runs `body`.
pub(crate) fn with_foreign_keys_off<T, E>(
    conn: &mut dyn MigrationConnection,
    needed: bool,
    pragma_failed: impl Fn(diesel::result::Error) -> E,
    body: impl FnOnce(&mut dyn MigrationConnection) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let dialect = conn.dialect();
    let (Some(query), Some(off), Some(on)) = (
        dialect.foreign_keys_query(),
        dialect.set_foreign_keys(false),
        dialect.set_foreign_keys(true),
    ) else {
        return body(conn);
    };
    if !needed {
        return body(conn);
    }
    let enforced = conn
        .scalar_i64(&crate::dialect::Sql::new(query.to_string(), Vec::new()))
        .map_err(&pragma_failed)?;
    if enforced != Some(1) {
        return body(conn);
    }
    conn.batch_execute(off).map_err(&pragma_failed)?;
    let result = body(conn);
    let restored = conn.batch_execute(on).map_err(&pragma_failed);
    let value = result?;
    restored?;
    Ok(value)
}
