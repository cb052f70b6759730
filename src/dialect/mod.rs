//! Every SQL difference between the three databases, as data: this module
//! and its two children are the only places that write SQL. The store, the
//! lock, the session and the executor are written once against them.
//!
//! - this file: the backend's capabilities, quoting and literals;
//! - [`tracking`]: the tracking table (create, upgrade, read, write);
//! - [`session`]: transactions, locks, timeouts, SQLite pragmas, backups;
//! - [`tenants`]: PostgreSQL schemas as targets (`--schemas`), `search_path`.

mod catalog;
mod session;
mod startup;
mod tenants;
mod tracking;

pub(crate) use catalog::SCRATCH_PREFIX;
pub(crate) use session::{Saved, SessionSettings};

// `Bind` and `Sql` appear in the sealed connection trait's signatures, so
// they are `pub` in this private module: reachable by no one outside.

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub enum Bind {
    I64(i64),
    Text(String),
    OptText(Option<String>),
}

/// A time as the tracking table stores it, to the microsecond.
pub(crate) fn timestamp_text(time: chrono::NaiveDateTime) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A statement and its bound values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
    /// Kept prepared on the connection (see `connection::ops`): a text
    /// that is the same on every call, and holds no literal, only
    /// identifiers, keywords and placeholders.
    pub reused: bool,
}

impl Sql {
    pub(crate) fn new(text: String, binds: Vec<Bind>) -> Self {
        Sql {
            text,
            binds,
            reused: false,
        }
    }

    /// A statement run once per migration with other values (the tracking
    /// row's writes): prepared once per connection, not every time.
    pub(crate) fn reused(text: String, binds: Vec<Bind>) -> Self {
        Sql {
            text,
            binds,
            reused: true,
        }
    }
}

/// The database family behind a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

impl Dialect {
    /// The backend's name for people: `SQLite`, `PostgreSQL`, `MySQL`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
        }
    }

    /// Whether DDL can be rolled back. MySQL/MariaDB commit implicitly on DDL,
    /// so there a migration is guarded by the dirty-row protocol instead.
    pub fn transactional_ddl(self) -> bool {
        !matches!(self, Dialect::Mysql)
    }

    /// The statements that let a dirty-row migration's data changes share
    /// one commit with its row's settling, and end that (see
    /// `Runner::dirty_row`): MySQL, where DDL commits at once anyway.
    pub(crate) fn commit_group(self) -> Option<(&'static str, &'static str)> {
        match self {
            Dialect::Mysql => Some(("SET autocommit = 0", "SET autocommit = 1")),
            Dialect::Sqlite | Dialect::Postgres => None,
        }
    }

    /// Bind placeholder number `n` (1-based).
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::Mysql => "?".to_string(),
        }
    }

    /// A string literal that reads back as `text` whatever the server's
    /// escaping mode: PostgreSQL gets an `E''` string when a backslash is
    /// present (right with `standard_conforming_strings` on or off); MySQL
    /// escapes backslashes (its default mode reads them as escapes). Not for
    /// MySQL sessions in `NO_BACKSLASH_ESCAPES`: there the writes bind.
    pub(crate) fn string_literal(self, text: &str) -> String {
        let quoted = text.replace('\'', "''");
        match self {
            Dialect::Sqlite => format!("'{quoted}'"),
            Dialect::Postgres if text.contains('\\') => {
                format!("E'{}'", quoted.replace('\\', "\\\\"))
            }
            Dialect::Postgres => format!("'{quoted}'"),
            Dialect::Mysql => format!("'{}'", quoted.replace('\\', "\\\\")),
        }
    }

    /// A UTC timestamp literal every backend reads into its timestamp type.
    pub(crate) fn timestamp_literal(self, time: chrono::NaiveDateTime) -> String {
        format!("'{}'", timestamp_text(time))
    }

    pub(crate) fn bool_literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        }
    }

    /// A number literal for a duration in milliseconds (always with a
    /// decimal point, so every backend reads a floating-point value).
    pub(crate) fn millis_literal(self, ms: f64) -> String {
        match ms.is_finite() {
            true => format!("{ms:.3}"),
            false => String::from("0.0"),
        }
    }

    pub(crate) fn quote_ident(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// `CAST(expr AS <64-bit integer>)`, for reading tables written by others.
    pub(crate) fn cast_bigint(self, expr: &str) -> String {
        match self {
            Dialect::Mysql => format!("CAST({expr} AS SIGNED)"),
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
        }
    }

    pub(crate) fn cast_text(self, expr: &str) -> String {
        match self {
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
        }
    }

    pub(crate) fn cast_double(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST({expr} AS REAL)"),
            Dialect::Postgres => format!("CAST({expr} AS DOUBLE PRECISION)"),
            Dialect::Mysql => format!("CAST({expr} AS DOUBLE)"),
        }
    }

    /// A statement run once per migration with other values: kept prepared
    /// on MySQL and SQLite (see [`Sql::reused`]). Not on PostgreSQL, where
    /// a connection pooler in transaction mode (PgBouncer) can move the
    /// session between statements and lose a named prepared statement
    /// (there the dirty-row path, `transaction: false` only, keeps its
    /// prepare round trip per write).
    pub(crate) fn per_migration(self, text: String, binds: Vec<Bind>) -> Sql {
        match self {
            Dialect::Postgres => Sql::new(text, binds),
            Dialect::Sqlite | Dialect::Mysql => Sql::reused(text, binds),
        }
    }

    /// A bound text read as the tracking table's time column.
    pub(crate) fn cast_timestamp(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS TIMESTAMP)"),
            Dialect::Mysql => format!("CAST({expr} AS DATETIME(6))"),
        }
    }

    pub(crate) fn null_text(self) -> String {
        self.cast_text("NULL")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_quote_what_needs_quoting() {
        assert_eq!(Dialect::Sqlite.string_literal("it's"), "'it''s'");
        assert_eq!(Dialect::Postgres.string_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(Dialect::Postgres.string_literal("plain"), "'plain'");
        assert_eq!(Dialect::Mysql.string_literal("a\\b"), "'a\\\\b'");
        assert_eq!(Dialect::Mysql.quote_ident("t"), "`t`");
        assert_eq!(Dialect::Postgres.millis_literal(1.23456), "1.235");
        assert_eq!(Dialect::Sqlite.millis_literal(f64::NAN), "0.0");
    }
}
