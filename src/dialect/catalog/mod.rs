//! The catalog queries behind the schema model: four per backend (columns,
//! keys, indexes, other objects), each returning every table's rows at once
//! in one shape shared by all three backends, so reading 1,000 tables is
//! still four queries. Rows are text columns by position:
//!
//! - columns: table, column, position, type, nullable (`1`/`0`), default, extra;
//! - keys: table, kind (`p`/`u`/`f`/`c`), name, position, column,
//!   referenced table, referenced column, on update, on delete, check text;
//! - indexes: table, name, unique (`1`/`0`), position, key part, method,
//!   predicate, CREATE statement (SQLite, which keeps only that);
//! - objects: kind (`view`, `sequence`, `type`, `function`, `trigger`, or
//!   SQLite's `table_sql`), name, definition.

mod mysql;
mod postgres;
mod scratch;
mod sqlite;

pub(crate) use scratch::SCRATCH_PREFIX;

use super::Dialect;
use crate::table::TableName;

/// The four catalog queries for one database.
#[derive(Debug, Clone)]
pub(crate) struct CatalogQueries {
    pub columns: String,
    pub keys: String,
    pub indexes: String,
    pub objects: String,
}

impl Dialect {
    /// The catalog queries, leaving out the tracking table `table` with its
    /// indexes and triggers, and PostgreSQL's function behind them. `mariadb` picks MariaDB's form of the
    /// check-constraint join.
    pub(crate) fn catalog_queries(self, table: &TableName, mariadb: bool) -> CatalogQueries {
        let tables = self.string_literal(table.name());
        match self {
            Dialect::Sqlite => sqlite::queries(&tables),
            Dialect::Postgres => {
                let schema = match table.schema() {
                    Some(schema) => self.string_literal(schema),
                    None => String::from("current_schema()"),
                };
                let function = self
                    .stamp_guard(table)
                    .and_then(|guard| guard.triggers.into_iter().next())
                    .map(|(name, _)| self.string_literal(&name))
                    .unwrap_or_else(|| String::from("NULL"));
                postgres::queries(&schema, &tables, &function)
            }
            Dialect::Mysql => mysql::queries(&tables, mariadb),
        }
    }

    /// Reads the catalogs of one consistent moment where the backend can:
    /// PostgreSQL in a read-only repeatable-read transaction (the tracking
    /// rows and the schema then agree even beside a running `apply`),
    /// SQLite in a read transaction.
    pub(crate) fn snapshot_begin(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            Dialect::Sqlite => Some("BEGIN"),
            Dialect::Mysql => None,
        }
    }

    /// Ends [`Self::snapshot_begin`]'s transaction (it wrote nothing).
    pub(crate) fn snapshot_end(self) -> &'static str {
        "ROLLBACK"
    }
}
