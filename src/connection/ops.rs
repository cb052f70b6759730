//! The operations the runner needs from a connection, implemented once (by
//! a macro) for each diesel connection type and for `AnyConnection`.
//!
//! These items are `pub` inside a private module: the sealed-trait pattern.
//! [`super::MigrationConnection`] requires [`Ops`], so only this crate can
//! implement it, and none of this is part of the public API.
#![allow(unreachable_pub)]

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

use super::text::TextColumns;
use super::{AnyConnection, DieselConnection};
use crate::dialect::{Bind, Dialect, Sql};
use crate::tracking::ExistingColumn;

/// A tracking-table row as the database returns it (every column cast to
/// a type all three backends agree on); mapped to `AppliedMigration` once,
/// in the store.
#[derive(Debug, Clone, QueryableByName)]
pub struct RawRow {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub checksum: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub applied_at: Option<String>,
    #[diesel(sql_type = Double)]
    pub execution_ms: f64,
    #[diesel(sql_type = BigInt)]
    pub success: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub down_sql: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub list_fingerprint: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct IntegerRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    value: Option<i64>,
}

/// What `PRAGMA busy_timeout` returns (a pragma's column cannot be renamed).
#[derive(QueryableByName)]
struct BusyTimeoutRow {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Statements sent on any connection of this process (for benchmarks that
/// report how many round trips a command takes).
pub static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// What the runner does on a connection.
pub trait Ops {
    fn dialect(&self) -> Dialect;
    /// Runs SQL as written (simple-query protocol; may hold several statements).
    fn batch_execute(&mut self, sql: &str) -> QueryResult<()>;
    /// Runs one statement with bound values; the number of rows it touched.
    fn execute(&mut self, sql: &Sql) -> QueryResult<usize>;
    fn load_rows(&mut self, sql: &str) -> QueryResult<Vec<RawRow>>;
    fn load_columns(&mut self, sql: &Sql) -> QueryResult<Vec<ExistingColumn>>;
    /// The column `value` of the first row, as a 64-bit integer.
    fn scalar_i64(&mut self, sql: &Sql) -> QueryResult<Option<i64>>;
    /// The column `value` of the first row, as text.
    fn scalar_text(&mut self, sql: &str) -> QueryResult<Option<String>>;
    /// The column `timeout` of the first row (SQLite's `PRAGMA busy_timeout`).
    fn scalar_timeout(&mut self, sql: &str) -> QueryResult<Option<i64>>;
    /// Every row, every column as text (see [`TextColumns`]).
    fn load_text_rows(&mut self, sql: &str) -> QueryResult<Vec<Vec<Option<String>>>>;
    /// The same with bound values.
    fn load_text_rows_with(&mut self, sql: &Sql) -> QueryResult<Vec<Vec<Option<String>>>>;
    /// The diesel connection itself.
    fn diesel(&mut self) -> DieselConnection<'_>;
}

/// A statement diesel keeps prepared on the connection, keyed by its text
/// (it prepares a raw `sql_query` anew on every call: on MySQL one more
/// round trip and a parse on the server for every tracking-row write). Its
/// text holds no literal (see [`Sql::reused`]), so every `?` or `$n` in it
/// is a placeholder, replaced here by diesel's own in order.
struct Reused<'s>(&'s Sql);

impl<DB> diesel::query_builder::QueryFragment<DB> for Reused<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<Text>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    String: diesel::serialize::ToSql<Text, DB>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        let mut binds = self.0.binds.iter();
        let mut rest = self.0.text.as_str();
        while let Some(at) = rest.find(['?', '$']) {
            out.push_sql(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = match rest.as_bytes()[at] {
                b'$' => after.bytes().take_while(u8::is_ascii_digit).count(),
                _ => 0,
            };
            rest = &after[digits..];
            match binds.next() {
                Some(Bind::I64(v)) => out.push_bind_param::<BigInt, _>(v)?,
                Some(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Some(Bind::OptText(v)) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                None => {
                    let message = "a reused statement has more placeholders than values";
                    return Err(diesel::result::Error::QueryBuilderError(message.into()));
                }
            }
        }
        if binds.next().is_some() {
            let message = "a reused statement has fewer placeholders than values";
            return Err(diesel::result::Error::QueryBuilderError(message.into()));
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl diesel::query_builder::QueryId for Reused<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

macro_rules! bind_all {
    ($conn:ty, $sql:expr) => {{
        let mut query =
            diesel::sql_query($sql.text.as_str()).into_boxed::<<$conn as Connection>::Backend>();
        for bind in &$sql.binds {
            query = match bind.clone() {
                Bind::I64(v) => query.bind::<BigInt, _>(v),
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::OptText(v) => query.bind::<Nullable<Text>, _>(v),
            };
        }
        query
    }};
}

macro_rules! impl_ops {
    ($conn:ty, $dialect:expr, $variant:ident) => {
        impl Ops for $conn {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                SimpleConnection::batch_execute(self, sql)
            }

            fn execute(&mut self, sql: &Sql) -> QueryResult<usize> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                match sql.reused {
                    true => self.execute_returning_count(&Reused(sql)),
                    false => bind_all!($conn, sql).execute(self),
                }
            }

            fn load_rows(&mut self, sql: &str) -> QueryResult<Vec<RawRow>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                diesel::sql_query(sql).load(self)
            }

            fn load_columns(&mut self, sql: &Sql) -> QueryResult<Vec<ExistingColumn>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<ColumnRow> = bind_all!($conn, sql).load(self)?;
                Ok(rows
                    .into_iter()
                    .map(|row| ExistingColumn {
                        name: row.name,
                        data_type: row.data_type,
                    })
                    .collect())
            }

            fn scalar_i64(&mut self, sql: &Sql) -> QueryResult<Option<i64>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<IntegerRow> = bind_all!($conn, sql).load(self)?;
                Ok(rows.into_iter().next().and_then(|row| row.value))
            }

            fn scalar_text(&mut self, sql: &str) -> QueryResult<Option<String>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<TextRow> = diesel::sql_query(sql).load(self)?;
                Ok(rows.into_iter().next().and_then(|row| row.value))
            }

            fn scalar_timeout(&mut self, sql: &str) -> QueryResult<Option<i64>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<BusyTimeoutRow> = diesel::sql_query(sql).load(self)?;
                Ok(rows.into_iter().next().map(|row| row.timeout))
            }

            fn load_text_rows(&mut self, sql: &str) -> QueryResult<Vec<Vec<Option<String>>>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<TextColumns> = diesel::sql_query(sql).load(self)?;
                Ok(rows.into_iter().map(|row| row.0).collect())
            }

            fn load_text_rows_with(&mut self, sql: &Sql) -> QueryResult<Vec<Vec<Option<String>>>> {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<TextColumns> = bind_all!($conn, sql).load(self)?;
                Ok(rows.into_iter().map(|row| row.0).collect())
            }

            fn diesel(&mut self) -> DieselConnection<'_> {
                DieselConnection::$variant(self)
            }
        }
    };
}

impl_ops!(diesel::SqliteConnection, Dialect::Sqlite, Sqlite);
#[cfg(feature = "postgres")]
impl_ops!(diesel::PgConnection, Dialect::Postgres, Postgres);
#[cfg(feature = "mysql")]
impl_ops!(diesel::MysqlConnection, Dialect::Mysql, Mysql);

macro_rules! delegate {
    ($self:expr, $conn:ident => $body:expr) => {
        match $self {
            AnyConnection::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres($conn) => $body,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql($conn) => $body,
        }
    };
}

impl Ops for AnyConnection {
    fn dialect(&self) -> Dialect {
        delegate!(self, c => c.dialect())
    }
    fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        delegate!(self, c => Ops::batch_execute(c, sql))
    }
    fn execute(&mut self, sql: &Sql) -> QueryResult<usize> {
        delegate!(self, c => Ops::execute(c, sql))
    }
    fn load_rows(&mut self, sql: &str) -> QueryResult<Vec<RawRow>> {
        delegate!(self, c => c.load_rows(sql))
    }
    fn load_columns(&mut self, sql: &Sql) -> QueryResult<Vec<ExistingColumn>> {
        delegate!(self, c => c.load_columns(sql))
    }
    fn scalar_i64(&mut self, sql: &Sql) -> QueryResult<Option<i64>> {
        delegate!(self, c => c.scalar_i64(sql))
    }
    fn scalar_text(&mut self, sql: &str) -> QueryResult<Option<String>> {
        delegate!(self, c => c.scalar_text(sql))
    }
    fn scalar_timeout(&mut self, sql: &str) -> QueryResult<Option<i64>> {
        delegate!(self, c => c.scalar_timeout(sql))
    }
    fn load_text_rows(&mut self, sql: &str) -> QueryResult<Vec<Vec<Option<String>>>> {
        delegate!(self, c => c.load_text_rows(sql))
    }
    fn load_text_rows_with(&mut self, sql: &Sql) -> QueryResult<Vec<Vec<Option<String>>>> {
        delegate!(self, c => c.load_text_rows_with(sql))
    }
    fn diesel(&mut self) -> DieselConnection<'_> {
        delegate!(self, c => c.diesel())
    }
}
