//! Every SQL difference between the three databases, as data. The store and the
//! migrator are written once against these strings.

use crate::table::TableName;

/// The database family behind a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
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

    /// Whether the database offers a session lock the runner can hold for the
    /// whole run. SQLite has none: each migration instead takes the write lock
    /// (`BEGIN IMMEDIATE`) and re-checks the tracking table inside it.
    pub fn has_session_lock(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    /// Bind placeholder number `n` (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::Mysql => "?".to_string(),
        }
    }

    /// A string literal that reads back as `text` whatever the server's
    /// escaping mode: PostgreSQL gets an `E''` string when a backslash is
    /// present; MySQL escapes backslashes (its default mode reads them as
    /// escapes, and `NO_BACKSLASH_ESCAPES` is not assumed).
    pub fn string_literal(self, text: &str) -> String {
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

    /// A UTC timestamp literal in the text form diesel writes and reads.
    pub fn timestamp_literal(self, time: chrono::NaiveDateTime) -> String {
        format!("'{}'", time.format("%Y-%m-%d %H:%M:%S%.6f"))
    }

    pub fn bool_literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        }
    }

    pub fn quote_ident(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{ident}`"),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{ident}\""),
        }
    }

    /// Starts a migration's transaction. On SQLite it takes the write lock at
    /// once, so concurrent runners queue here rather than fail mid-way.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres | Dialect::Mysql => "BEGIN",
        }
    }

    /// The tracking table. One definition per database, same columns everywhere.
    pub fn create_table(self, table: &TableName) -> String {
        let (timestamp, boolean, text) = match self {
            Dialect::Sqlite => ("TIMESTAMP", "BOOLEAN", "TEXT"),
            Dialect::Postgres => ("TIMESTAMP", "BOOLEAN", "TEXT"),
            Dialect::Mysql => ("DATETIME(6)", "BOOLEAN", "TEXT"),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             version BIGINT NOT NULL PRIMARY KEY, \
             description {text} NOT NULL, \
             checksum VARCHAR(64), \
             applied_at {timestamp} NOT NULL, \
             execution_ms BIGINT NOT NULL DEFAULT 0, \
             success {boolean} NOT NULL DEFAULT TRUE)",
            table = table.quoted(self),
        )
    }

    /// Type used when an upgraded legacy table gets its new columns.
    pub fn add_column(self, table: &TableName, column: &str, definition: &str) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {column} {definition}",
            table.quoted(self)
        )
    }

    /// `CAST(expr AS <64-bit integer>)`, for reading tables written by others.
    pub fn cast_bigint(self, expr: &str) -> String {
        match self {
            Dialect::Mysql => format!("CAST({expr} AS SIGNED)"),
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
        }
    }

    /// Lists the tracking table's columns as (name, declared type), one row
    /// each, empty when the table does not exist. Binds: the table name, then
    /// the schema (or the database's current one when unqualified).
    pub fn columns_query(self, table: &TableName) -> String {
        match self {
            Dialect::Sqlite => format!(
                "SELECT name AS name, type AS data_type FROM {}.pragma_table_info(?)",
                self.quote_ident(table.schema().unwrap_or("main"))
            ),
            Dialect::Postgres => format!(
                "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS data_type \
                 FROM information_schema.columns \
                 WHERE table_name = $1 AND table_schema = {} ORDER BY ordinal_position",
                match table.schema() {
                    Some(_) => "$2",
                    None => "current_schema()",
                }
            ),
            Dialect::Mysql => format!(
                "SELECT CAST(column_name AS CHAR) AS name, CAST(data_type AS CHAR) AS data_type \
                 FROM information_schema.columns \
                 WHERE table_name = ? AND table_schema = {} ORDER BY ordinal_position",
                match table.schema() {
                    Some(_) => "?",
                    None => "DATABASE()",
                }
            ),
        }
    }

    /// Session settings for a run that holds the lock. PostgreSQL (14+) is
    /// told to check during long statements whether the client still exists,
    /// so a killed `migrate` releases its lock and transaction within a second
    /// instead of when the statement ends. Older servers refuse it; harmless.
    pub fn lock_session_setup(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("SET client_connection_check_interval = 1000"),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// One query that answers "is every migration of the code applied, with
    /// the same checksum, and nothing else?" without sending the rows: 1 when
    /// the row count equals bind 1, no row is dirty, and the MD5 of
    /// `version:checksum` pairs (comma-joined, by version) equals bind 2 (see
    /// [`crate::migration::fingerprint`]). PostgreSQL only: SQLite reads rows
    /// in-process at no transfer cost, and MySQL's GROUP_CONCAT is truncated
    /// at 1 KiB unless the session is changed first.
    pub fn fingerprint_query(self, table: &TableName) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SELECT CASE WHEN COUNT(*) = $1 \
                 AND COALESCE(SUM(CASE WHEN success THEN 0 ELSE 1 END), 0) = 0 \
                 AND md5(string_agg(CAST(version AS TEXT) || ':' || COALESCE(checksum, ''), ',' ORDER BY version)) = $2 \
                 THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS value FROM {}",
                table.quoted(self)
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Tries to take the run-wide lock without waiting; yields 1 when taken.
    /// The key covers the database and the tracking table, so runs over other
    /// tables or databases never wait on each other.
    pub fn try_lock(self, table: &TableName) -> Option<String> {
        let key = table.lock_key();
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!(
                "SELECT CAST(CAST(pg_try_advisory_lock(hashtext(current_database() || '{key}')) AS INTEGER) AS BIGINT) AS value"
            )),
            Dialect::Mysql => Some(format!(
                "SELECT CAST(GET_LOCK(SHA1(CONCAT(DATABASE(), '{key}')), 0) AS SIGNED) AS value"
            )),
        }
    }

    pub fn unlock(self, table: &TableName) -> Option<String> {
        let key = table.lock_key();
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!(
                "SELECT CAST(CAST(pg_advisory_unlock(hashtext(current_database() || '{key}')) AS INTEGER) AS BIGINT) AS value"
            )),
            Dialect::Mysql => Some(format!(
                "SELECT CAST(RELEASE_LOCK(SHA1(CONCAT(DATABASE(), '{key}'))) AS SIGNED) AS value"
            )),
        }
    }
}
