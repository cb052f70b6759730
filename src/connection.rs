//! What the runner needs from a diesel connection, implemented once (by a
//! macro) for SQLite, PostgreSQL and MySQL, plus [`AnyConnection`], which picks
//! the backend from a URL's scheme.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use crate::database_url::DatabaseUrl;
use crate::dialect::Dialect;
use crate::error::Error;

/// How long to wait for a server's TCP port before giving up; the drivers'
/// own defaults can hang for minutes on an unreachable host.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A bind value for the tracking-table queries.
#[derive(Debug, Clone)]
pub enum Bind {
    I64(i64),
    Text(String),
    OptText(Option<String>),
    Timestamp(NaiveDateTime),
    Bool(bool),
}

/// One row of the tracking table as read from the database.
#[derive(Debug, Clone, QueryableByName)]
pub struct TrackingRow {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub checksum: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub applied_at: Option<NaiveDateTime>,
    #[diesel(sql_type = BigInt)]
    pub execution_ms: i64,
    /// 0 for a dirty row; read as an integer because the databases disagree
    /// on what a boolean column returns.
    #[diesel(sql_type = BigInt)]
    pub success: i64,
}

/// A column of an existing table: its name and declared type.
#[derive(Debug, Clone, QueryableByName)]
pub struct ColumnRow {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub data_type: String,
}

#[derive(QueryableByName)]
struct ScalarRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    value: Option<i64>,
}

/// The few operations the store and migrator need. Implemented for diesel's
/// `SqliteConnection`, `PgConnection` and `MysqlConnection`, and for
/// [`AnyConnection`], so an application can hand over the connection it has.
pub trait MigrationConnection {
    fn dialect(&self) -> Dialect;
    /// Runs SQL as written (simple-query protocol; may hold several statements).
    fn batch_execute(&mut self, sql: &str) -> QueryResult<()>;
    fn execute_with(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<usize>;
    fn load_tracking_rows(&mut self, sql: &str) -> QueryResult<Vec<TrackingRow>>;
    fn load_columns(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Vec<ColumnRow>>;
    /// First column of the first row, read as a 64-bit integer.
    fn scalar(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Option<i64>>;
}

macro_rules! impl_migration_connection {
    ($conn:ty, $dialect:expr) => {
        impl MigrationConnection for $conn {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
                SimpleConnection::batch_execute(self, sql)
            }

            fn execute_with(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<usize> {
                bind_all!($conn, sql, binds).execute(self)
            }

            fn load_tracking_rows(&mut self, sql: &str) -> QueryResult<Vec<TrackingRow>> {
                diesel::sql_query(sql).load(self)
            }

            fn load_columns(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Vec<ColumnRow>> {
                bind_all!($conn, sql, binds).load(self)
            }

            fn scalar(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Option<i64>> {
                let rows: Vec<ScalarRow> = bind_all!($conn, sql, binds).load(self)?;
                Ok(rows.into_iter().next().and_then(|row| row.value))
            }
        }
    };
}

macro_rules! bind_all {
    ($conn:ty, $sql:expr, $binds:expr) => {{
        let mut query = diesel::sql_query($sql).into_boxed::<<$conn as Connection>::Backend>();
        for bind in $binds {
            query = match bind.clone() {
                Bind::I64(v) => query.bind::<BigInt, _>(v),
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::OptText(v) => query.bind::<Nullable<Text>, _>(v),
                Bind::Timestamp(v) => query.bind::<Timestamp, _>(v),
                Bind::Bool(v) => query.bind::<Bool, _>(v),
            };
        }
        query
    }};
}

impl_migration_connection!(diesel::SqliteConnection, Dialect::Sqlite);
#[cfg(feature = "postgres")]
impl_migration_connection!(diesel::PgConnection, Dialect::Postgres);
#[cfg(feature = "mysql")]
impl_migration_connection!(diesel::MysqlConnection, Dialect::Mysql);

/// A connection to whichever database a URL names.
pub enum AnyConnection {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

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

impl MigrationConnection for AnyConnection {
    fn dialect(&self) -> Dialect {
        delegate!(self, c => c.dialect())
    }
    fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        delegate!(self, c => MigrationConnection::batch_execute(c, sql))
    }
    fn execute_with(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<usize> {
        delegate!(self, c => c.execute_with(sql, binds))
    }
    fn load_tracking_rows(&mut self, sql: &str) -> QueryResult<Vec<TrackingRow>> {
        delegate!(self, c => c.load_tracking_rows(sql))
    }
    fn load_columns(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Vec<ColumnRow>> {
        delegate!(self, c => c.load_columns(sql, binds))
    }
    fn scalar(&mut self, sql: &str, binds: &[Bind]) -> QueryResult<Option<i64>> {
        delegate!(self, c => c.scalar(sql, binds))
    }
}

/// How a connection will be used: read commands never create or change a
/// SQLite file, so they can inspect read-only files and missing ones alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

impl AnyConnection {
    /// Connects to the database `url` names. Errors carry the URL with its
    /// password masked, and the driver's message with the password removed.
    pub fn connect(url: &DatabaseUrl, access: Access) -> Result<Self, Error> {
        let fail = |message: String| Error::Connect {
            url: url.to_string(),
            message: url.redact(message.trim()),
        };
        match url.dialect() {
            Dialect::Sqlite => connect_sqlite(url, access).map_err(fail),
            Dialect::Postgres => connect_postgres(url, &fail),
            Dialect::Mysql => connect_mysql(url, &fail),
        }
    }
}

fn connect_sqlite(url: &DatabaseUrl, access: Access) -> Result<AnyConnection, String> {
    if let Some(path) = url.sqlite_path() {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(format!("directory {} does not exist", parent.display()));
            }
        }
        if path.is_dir() {
            return Err(format!(
                "{} is a directory, not a database file",
                path.display()
            ));
        }
    }
    let target = match (url.sqlite_path(), access) {
        (None, _) => String::from(":memory:"),
        (Some(path), Access::ReadWrite) => {
            let read_only = std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly());
            if read_only {
                return Err(format!(
                    "{} is read-only: this command writes to it (read commands such as status still work)",
                    path.display()
                ));
            }
            path.to_string_lossy().into_owned()
        }
        // A missing file reads as an empty database; opening it read-only
        // would fail and opening it read-write would create it.
        (Some(path), Access::ReadOnly) if !path.exists() => String::from(":memory:"),
        (Some(path), Access::ReadOnly) => {
            format!("file:{}?mode=ro", uri_escape(&path.to_string_lossy()))
        }
    };
    diesel::SqliteConnection::establish(&target)
        .map(AnyConnection::Sqlite)
        .map_err(|e| e.to_string())
}

/// Escapes the characters that end a path in an SQLite `file:` URI.
fn uri_escape(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

type Fail<'a> = &'a dyn Fn(String) -> Error;

#[cfg(feature = "postgres")]
fn connect_postgres(url: &DatabaseUrl, fail: Fail) -> Result<AnyConnection, Error> {
    probe_tcp(url).map_err(fail)?;
    let mut driver_url = url.as_driver_str().to_string();
    if !driver_url.contains("connect_timeout=") {
        let separator = if driver_url.contains('?') { '&' } else { '?' };
        driver_url = format!(
            "{driver_url}{separator}connect_timeout={}",
            CONNECT_TIMEOUT.as_secs()
        );
    }
    diesel::PgConnection::establish(&driver_url)
        .map(AnyConnection::Postgres)
        .map_err(|e| fail(e.to_string()))
}

#[cfg(not(feature = "postgres"))]
fn connect_postgres(_: &DatabaseUrl, _: Fail) -> Result<AnyConnection, Error> {
    Err(Error::BackendNotBuilt {
        backend: "PostgreSQL",
        feature: "postgres",
    })
}

#[cfg(feature = "mysql")]
fn connect_mysql(url: &DatabaseUrl, fail: Fail) -> Result<AnyConnection, Error> {
    probe_tcp(url).map_err(fail)?;
    diesel::MysqlConnection::establish(url.as_driver_str())
        .map(AnyConnection::Mysql)
        .map_err(|e| fail(e.to_string()))
}

#[cfg(not(feature = "mysql"))]
fn connect_mysql(_: &DatabaseUrl, _: Fail) -> Result<AnyConnection, Error> {
    Err(Error::BackendNotBuilt {
        backend: "MySQL",
        feature: "mysql",
    })
}

/// Opens (and drops) a TCP connection to the server first, so an unreachable
/// host fails within [`CONNECT_TIMEOUT`] with a plain message.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn probe_tcp(url: &DatabaseUrl) -> Result<(), String> {
    use std::net::{TcpStream, ToSocketAddrs};
    let Some((host, port)) = url.tcp_endpoint() else {
        return Ok(());
    };
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host {host}: {e}"))?;
    let mut last_error = format!("host {host} has no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last_error = format!("cannot reach {host}:{port}: {e}"),
        }
    }
    Err(last_error)
}
