//! The tracking table: inspect, create or upgrade, read, write. Runs the
//! dialect's SQL; every write that must touch exactly one row checks that it
//! did, because a row changed under a run holding the lock is an error, not
//! something to carry on from.

use crate::connection::{MigrationConnection, RawRow};
use crate::dialect::{Dialect, Sql};
use std::time::Duration;

use crate::error::{Error, LockKind, Result};
use crate::table::TableName;
use crate::tracking::{
    classify, decode_down, parse_applied_at, AppliedMigration, RowWarning, Shape,
};

/// Rows read from the table, with anything unreadable about them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rows {
    pub rows: Vec<AppliedMigration>,
    pub warnings: Vec<RowWarning>,
}

/// Why a write of the tracking table failed.
#[derive(Debug)]
pub(crate) enum WriteError {
    Database(diesel::result::Error),
    /// The statement ran but touched no row: someone changed the row.
    RowChanged {
        version: i64,
        what: &'static str,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Database(e) => write!(f, "{e}"),
            WriteError::RowChanged { version, what } => {
                write!(
                    f,
                    "the row of migration {version} changed under this run: {what}"
                )
            }
        }
    }
}

/// What the start-up check reads: the newest row, and on MySQL what its
/// stamp is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartupRow {
    pub version: Option<i64>,
    pub finished: bool,
    /// The stamp recorded by the last full check: the list's fingerprint,
    /// or `<fingerprint>:<digest>` where no trigger guards it.
    pub fingerprint: Option<String>,
    /// On MySQL, what the stamp is checked against now: under a plain
    /// stamp, how many rows carry anything in `list_fingerprint` (the
    /// stamped row and any marked as changed); under a digest stamp, the
    /// row digest.
    pub witness: Option<String>,
}

pub(crate) struct Store<'t> {
    pub table: &'t TableName,
    pub dialect: Dialect,
    /// How long the session lets one statement wait for a lock.
    pub lock_timeout: Duration,
}

impl<'t> Store<'t> {
    pub(crate) fn new(table: &'t TableName, dialect: Dialect, lock_timeout: Duration) -> Self {
        Store {
            table,
            dialect,
            lock_timeout,
        }
    }

    /// A failed read as the library's error: a lock wait that ran out is a
    /// [`Error::LockTimeout`] on this table, not a database error.
    fn failed(&self, doing: &str) -> impl Fn(diesel::result::Error) -> Error + '_ {
        let action = format!("{doing} table {}", self.table);
        move |e| match self.dialect.is_lock_timeout(&e.to_string()) {
            true => Error::LockTimeout {
                lock: LockKind::Table {
                    table: match self.dialect {
                        Dialect::Sqlite => String::from("database"),
                        _ => self.table.to_string(),
                    },
                },
                waited: self.lock_timeout,
                blockers: Vec::new(),
            },
            false => Error::database(action.clone(), e),
        }
    }

    /// Reads the table's columns from the catalog; never changes anything.
    pub(crate) fn inspect(&self, conn: &mut dyn MigrationConnection) -> Result<Shape> {
        let columns = conn
            .load_columns(&self.dialect.columns_query(self.table))
            .map_err(self.failed("inspecting"))?;
        classify(&columns).map_err(|reason| Error::IncompatibleTable {
            table: self.table.to_string(),
            reason,
        })
    }

    /// Makes the table current: creates it, or adds the later columns to an
    /// older one. Rows are kept.
    pub(crate) fn ensure(&self, conn: &mut dyn MigrationConnection, shape: &Shape) -> Result<()> {
        let statements: Vec<String> = match shape {
            Shape::Current => return Ok(()),
            Shape::Missing => vec![self.dialect.create_table(self.table)],
            Shape::Older { missing } => missing
                .iter()
                .filter_map(|name| self.dialect.add_column(self.table, name))
                .collect(),
        };
        for sql in statements {
            conn.batch_execute(&sql).map_err(self.failed("creating"))?;
        }
        Ok(())
    }

    /// Every row, by version. A missing table reads as no rows.
    pub(crate) fn load(&self, conn: &mut dyn MigrationConnection, shape: &Shape) -> Result<Rows> {
        if *shape == Shape::Missing {
            return Ok(Rows::default());
        }
        let sql = self.dialect.select_rows(self.table, shape.missing(), false);
        let raw = conn.load_rows(&sql).map_err(self.failed("reading"))?;
        let mut rows = Rows::default();
        for row in raw {
            let applied = map_row(row, &mut rows.warnings);
            rows.rows.push(applied);
        }
        Ok(rows)
    }

    /// The start-up check's one row (see `Dialect::startup_check`); `None`
    /// for an empty table.
    pub(crate) fn load_startup(
        &self,
        conn: &mut dyn MigrationConnection,
    ) -> Result<Option<StartupRow>> {
        let sql = self.dialect.startup_check(self.table, self.lock_timeout);
        let rows = conn.load_text_rows(&sql).map_err(self.failed("reading"))?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut values = row.into_iter();
        let mut next = || values.next().flatten();
        Ok(Some(StartupRow {
            version: next().and_then(|v| v.parse().ok()),
            finished: next().as_deref() == Some("1"),
            fingerprint: next(),
            witness: next(),
        }))
    }

    /// Makes sure the triggers and index that keep the stamp honest exist,
    /// creating what is missing (see `Dialect::stamp_guard`); false where
    /// there are none (a name too long for theirs). An error (no right to create
    /// triggers) leaves the caller to stamp with the digest.
    pub(crate) fn prepare_guard(&self, conn: &mut dyn MigrationConnection) -> Result<bool> {
        let Some(guard) = self.dialect.stamp_guard(self.table) else {
            return Ok(false);
        };
        let present: Vec<String> = conn
            .load_text_rows_with(&self.dialect.guard_names_query(self.table))
            .map_err(self.failed("inspecting"))?
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect();
        let missing: Vec<&str> = guard
            .triggers
            .iter()
            .map(|(name, _)| name.as_str())
            .chain([guard.index.as_str()])
            .filter(|name| !present.iter().any(|p| p == name))
            .collect();
        if !missing.is_empty() {
            for sql in self
                .dialect
                .create_stamp_guard(self.table, &guard, &missing)
            {
                conn.batch_execute(&sql).map_err(self.failed("creating"))?;
            }
        }
        Ok(true)
    }

    /// The row digest now (see `Dialect::startup_check`).
    pub(crate) fn row_digest(&self, conn: &mut dyn MigrationConnection) -> Result<String> {
        let sql = self.dialect.row_digest_query(self.table);
        let rows = conn.load_text_rows(&sql).map_err(self.failed("reading"))?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
            .unwrap_or_default())
    }

    /// See [`Dialect::clear_list_fingerprints`].
    pub(crate) fn clear_list_fingerprints(
        &self,
        conn: &mut dyn MigrationConnection,
    ) -> Result<(), WriteError> {
        conn.batch_execute(&self.dialect.clear_list_fingerprints(self.table))
            .map_err(WriteError::Database)
    }

    /// See [`Dialect::stamp_list_fingerprint`].
    pub(crate) fn stamp_list_fingerprint(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        value: &str,
    ) -> Result<(), WriteError> {
        let sql = self
            .dialect
            .stamp_list_fingerprint(self.table, version, value);
        exactly_one(conn, &sql, version, "it was deleted")
    }

    pub(crate) fn insert_literal(&self, row: &AppliedMigration) -> String {
        self.dialect.insert_literal(self.table, row)
    }

    pub(crate) fn insert(
        &self,
        conn: &mut dyn MigrationConnection,
        row: &AppliedMigration,
    ) -> Result<(), WriteError> {
        conn.execute(&self.dialect.insert_bound(self.table, row))
            .map(drop)
            .map_err(WriteError::Database)
    }

    pub(crate) fn mark_done(
        &self,
        conn: &mut dyn MigrationConnection,
        row: &AppliedMigration,
    ) -> Result<(), WriteError> {
        let sql = self.dialect.mark_done(self.table, row);
        exactly_one(
            conn,
            &sql,
            row.version,
            "it was no longer dirty or was removed",
        )
    }

    pub(crate) fn mark_dirty(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
    ) -> Result<(), WriteError> {
        let sql = self.dialect.mark_dirty(self.table, version);
        exactly_one(conn, &sql, version, "it was no longer applied")
    }

    /// Takes a dirty mark back (a rollback whose first statement the
    /// database rejected outright).
    pub(crate) fn mark_applied(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
    ) -> Result<(), WriteError> {
        let sql = self.dialect.mark_applied(self.table, version);
        exactly_one(conn, &sql, version, "it was no longer dirty")
    }

    pub(crate) fn delete(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
    ) -> Result<(), WriteError> {
        let sql = self.dialect.delete_row(self.table, version);
        exactly_one(conn, &sql, version, "it was already removed")
    }

    pub(crate) fn accept(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        description: &str,
        checksum: &str,
    ) -> Result<(), WriteError> {
        let sql = self
            .dialect
            .accept_row(self.table, version, description, checksum);
        exactly_one(conn, &sql, version, "it was removed")
    }

    pub(crate) fn adopt_checksum(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        checksum: &str,
    ) -> Result<(), WriteError> {
        let sql = self.dialect.adopt_checksum(self.table, version, checksum);
        exactly_one(
            conn,
            &sql,
            version,
            "it was removed or got a checksum meanwhile",
        )
    }

    /// A write error as the library's error, naming this table.
    pub(crate) fn error(&self, doing: &str, error: WriteError) -> Error {
        match error {
            WriteError::Database(e) => {
                Error::database(format!("{doing} in table {}", self.table), e)
            }
            WriteError::RowChanged { version, what } => Error::RowChanged {
                version,
                table: self.table.to_string(),
                what,
            },
        }
    }
}

fn exactly_one(
    conn: &mut dyn MigrationConnection,
    sql: &Sql,
    version: i64,
    what: &'static str,
) -> Result<(), WriteError> {
    match conn.execute(sql).map_err(WriteError::Database)? {
        1 => Ok(()),
        _ => Err(WriteError::RowChanged { version, what }),
    }
}

/// The one place a raw row becomes an [`AppliedMigration`]. Unreadable
/// values become `None` and a warning, so read commands carry on.
fn map_row(row: RawRow, warnings: &mut Vec<RowWarning>) -> AppliedMigration {
    let applied_at = row
        .applied_at
        .as_deref()
        .and_then(|text| match parse_applied_at(text) {
            Ok(time) => Some(time),
            Err(()) => {
                warnings.push(RowWarning::UnreadableAppliedAt {
                    version: row.version,
                    value: text.to_string(),
                });
                None
            }
        });
    let down = row.down_sql.as_deref().and_then(|text| {
        let decoded = decode_down(text);
        if decoded.is_none() {
            warnings.push(RowWarning::UnreadableDownStatements {
                version: row.version,
            });
        }
        decoded
    });
    AppliedMigration {
        version: row.version,
        description: row.description,
        checksum: row.checksum,
        applied_at,
        execution_ms: row.execution_ms,
        success: row.success != 0,
        down,
        list_fingerprint: row.list_fingerprint,
    }
}
