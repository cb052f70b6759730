//! The connections the runner works on: diesel's `SqliteConnection`,
//! `PgConnection` and `MysqlConnection`, and [`AnyConnection`], which picks
//! the backend from a URL's scheme. What the runner needs from them is a
//! small sealed set of operations, implemented once by a macro.

mod ops;
mod text;

pub(crate) use ops::RawRow;

use crate::dialect::Dialect;

/// How many statements this process has sent through the library's
/// connections (each call a round trip), for benchmarks and tests that
/// count them.
#[doc(hidden)]
pub fn statements_sent() -> u64 {
    ops::STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A connection the [`Migrator`](crate::Migrator) can work on. Implemented
/// for diesel's `SqliteConnection`, `PgConnection` and `MysqlConnection`
/// (with the backend features) and for [`AnyConnection`]; sealed, because
/// the runner's guarantees depend on exactly how each backend is driven.
pub trait MigrationConnection: ops::Ops {}

impl<T: ops::Ops + ?Sized> MigrationConnection for T {}

/// A connection to whichever database a URL names.
#[non_exhaustive]
pub enum AnyConnection {
    /// An SQLite file (or in-memory database).
    Sqlite(diesel::SqliteConnection),
    /// A PostgreSQL server (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    /// A MySQL or MariaDB server (feature `mysql`).
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

impl AnyConnection {
    /// Which backend this is.
    pub fn dialect(&self) -> Dialect {
        ops::Ops::dialect(self)
    }

    /// Runs SQL as written (may hold several statements); for an
    /// application's own set-up and for tests.
    pub fn batch_execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        ops::Ops::batch_execute(self, sql)
    }
}

/// The diesel connection behind a [`MigrationConnection`], for diesel's
/// query builder in a code step.
#[non_exhaustive]
pub enum DieselConnection<'a> {
    /// SQLite.
    Sqlite(&'a mut diesel::SqliteConnection),
    /// PostgreSQL (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(&'a mut diesel::PgConnection),
    /// MySQL and MariaDB (feature `mysql`).
    #[cfg(feature = "mysql")]
    Mysql(&'a mut diesel::MysqlConnection),
}

/// How a connection will be used: read commands never create or change a
/// SQLite file, so they can inspect read-only files and missing ones alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Commands that change the database, creating an SQLite file if
    /// needed (`apply`).
    ReadWrite,
    /// Commands that change an existing database and have nothing to do
    /// on a new one (`rollback`, `repair`, `baseline`): a missing SQLite
    /// file is [`Error::NoSuchDatabaseFile`](crate::Error::NoSuchDatabaseFile), not created.
    WriteExisting,
    /// Commands that only read it.
    ReadOnly,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database_url::DatabaseUrl;

    #[test]
    fn text_rows_read_every_column_by_position() {
        let url = DatabaseUrl::parse(":memory:").unwrap();
        let mut conn = AnyConnection::connect(&url, Access::ReadWrite).unwrap();
        let rows = ops::Ops::load_text_rows(
            &mut conn,
            "SELECT 'a' AS x, NULL AS y, 42 UNION ALL SELECT 'b', 'c', 7",
        )
        .unwrap();
        assert_eq!(
            rows,
            [
                vec![Some("a".to_string()), None, Some("42".to_string())],
                vec![
                    Some("b".to_string()),
                    Some("c".to_string()),
                    Some("7".to_string())
                ]
            ]
        );
    }
}
