//! SQL around the migrations: transactions, the run-wide lock, the timeouts
//! of the tool's own statements and of the migration's, SQLite's pragmas,
//! backups, and recognising a lock timeout in a database's message.

use std::time::Duration;

use super::Dialect;
use crate::guardrails::Guardrails;
use crate::table::TableName;

/// The settings the tool gives its own statements on the tracking table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionSettings {
    /// How long one of the tool's statements may wait for a lock.
    pub lock_timeout: Duration,
    /// Ask the server to notice a vanished client during long statements
    /// (PostgreSQL 14+), so a killed run frees its lock within a second.
    pub check_client: bool,
}

/// What the session had before the tool changed it, to hand back to the
/// migration's statements and to restore at the end. PostgreSQL:
/// `lock_timeout|statement_timeout|client_connection_check_interval`;
/// SQLite: the busy timeout in ms; MySQL keeps it in session variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Saved {
    parts: Vec<String>,
    /// MySQL: whether the server is MariaDB, known when a statement timeout
    /// is in use (the two servers name that setting differently).
    mariadb: Option<bool>,
}

impl Saved {
    pub(crate) fn from_text(text: Option<String>) -> Saved {
        Saved {
            parts: text
                .map(|t| t.split('|').map(str::to_string).collect())
                .unwrap_or_default(),
            mariadb: None,
        }
    }

    /// Records which MySQL server this is, from `VERSION()`.
    pub(crate) fn with_server_version(mut self, version: &str) -> Saved {
        self.mariadb = Some(version.contains("MariaDB"));
        self
    }

    fn part(&self, i: usize) -> Option<&str> {
        self.parts
            .get(i)
            .map(String::as_str)
            .filter(|p| !p.is_empty())
    }
}

pub(super) fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

/// MySQL's lock waits count whole seconds, at least one.
pub(super) fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs_f64().ceil().max(1.0) as u64
}

impl Dialect {
    /// Starts a migration's transaction. On SQLite it takes the write lock at
    /// once, so a concurrent writer is waited for here, not mid-way.
    pub(crate) fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres | Dialect::Mysql => "BEGIN",
        }
    }

    pub(crate) fn commit(self) -> &'static str {
        "COMMIT"
    }

    pub(crate) fn rollback(self) -> &'static str {
        "ROLLBACK"
    }

    /// Reads what [`Saved`] keeps, as text in the column `value` (`None`:
    /// see [`Dialect::save_timeout_query`] and [`Dialect::save_settings_exec`]).
    pub(crate) fn save_settings_query(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some(
                "SELECT current_setting('lock_timeout') || '|' || current_setting('statement_timeout') \
                 || '|' || COALESCE(current_setting('client_connection_check_interval', true), '') AS value",
            ),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// SQLite: the busy timeout, read with the pragma statement (column
    /// `timeout`): its table-valued form would read the schema, which
    /// waits on the very lock this setting is for.
    pub(crate) fn save_timeout_query(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("PRAGMA busy_timeout"),
            Dialect::Postgres | Dialect::Mysql => None,
        }
    }

    pub(crate) fn save_settings_exec(self) -> Option<&'static str> {
        match self {
            Dialect::Mysql => Some(
                "SET @vm_saved_lwt = @@SESSION.lock_wait_timeout, \
                 @vm_saved_ilwt = @@SESSION.innodb_lock_wait_timeout",
            ),
            Dialect::Postgres | Dialect::Sqlite => None,
        }
    }

    /// MySQL: the server's version text (to tell MariaDB from MySQL).
    pub(crate) fn server_version_query(self) -> Option<&'static str> {
        match self {
            Dialect::Mysql => Some("SELECT CAST(VERSION() AS CHAR) AS value"),
            Dialect::Postgres | Dialect::Sqlite => None,
        }
    }

    /// MySQL: saves the statement time limit before a migration sets it.
    pub(crate) fn save_statement_timer(self, saved: &Saved) -> Option<&'static str> {
        match (self, saved.mariadb) {
            (Dialect::Mysql, Some(true)) => {
                Some("SET @vm_saved_mst = @@SESSION.max_statement_time")
            }
            (Dialect::Mysql, Some(false)) => {
                Some("SET @vm_saved_met = @@SESSION.max_execution_time")
            }
            _ => None,
        }
    }

    /// MySQL: the statement time limit back as it was.
    fn restore_statement_timer(self, saved: &Saved) -> Option<&'static str> {
        match (self, saved.mariadb) {
            (Dialect::Mysql, Some(true)) => Some("SET SESSION max_statement_time = @vm_saved_mst"),
            (Dialect::Mysql, Some(false)) => Some("SET SESSION max_execution_time = @vm_saved_met"),
            _ => None,
        }
    }

    /// The tool's settings for the session (one batch).
    pub(crate) fn tool_settings(self, settings: &SessionSettings, saved: &Saved) -> String {
        let timeout = settings.lock_timeout;
        match self {
            Dialect::Postgres => {
                let mut sql = format!("SET lock_timeout = '{}ms'", millis(timeout).max(1));
                // The setting exists on PostgreSQL 14 and later only.
                if settings.check_client && saved.part(2).is_some() {
                    sql.push_str("; SET client_connection_check_interval = 1000");
                }
                sql
            }
            Dialect::Mysql => format!(
                "SET SESSION lock_wait_timeout = {0}, SESSION innodb_lock_wait_timeout = {0}",
                whole_seconds(timeout)
            ),
            Dialect::Sqlite => {
                format!(
                    "PRAGMA busy_timeout = {}",
                    millis(timeout).min(i32::MAX as u128)
                )
            }
        }
    }

    /// Puts the session back as it was found.
    pub(crate) fn restore_settings(self, saved: &Saved) -> Option<String> {
        match self {
            Dialect::Postgres => {
                let lock = self.string_literal(saved.part(0)?);
                let statement = self.string_literal(saved.part(1)?);
                let mut sql =
                    format!("SET lock_timeout = {lock}; SET statement_timeout = {statement}");
                if let Some(interval) = saved.part(2) {
                    sql.push_str(&format!(
                        "; SET client_connection_check_interval = {}",
                        self.string_literal(interval)
                    ));
                }
                Some(sql)
            }
            Dialect::Mysql => {
                let mut sql = String::from(
                    "SET SESSION lock_wait_timeout = @vm_saved_lwt, \
                     SESSION innodb_lock_wait_timeout = @vm_saved_ilwt",
                );
                if let Some(timer) = self.restore_statement_timer(saved) {
                    sql.push_str("; ");
                    sql.push_str(timer);
                }
                Some(sql)
            }
            Dialect::Sqlite => {
                let ms: i64 = saved.part(0)?.parse().ok()?;
                Some(format!("PRAGMA busy_timeout = {ms}"))
            }
        }
    }

    /// Settings for a migration's statements inside its transaction
    /// (PostgreSQL `SET LOCAL`, gone at COMMIT): the session's own values,
    /// or the guardrails where given.
    pub(crate) fn migration_settings_local(
        self,
        saved: &Saved,
        guard: &Guardrails,
    ) -> Option<String> {
        match self {
            Dialect::Postgres => Some(self.postgres_settings("SET LOCAL", saved, guard)),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// The same for statements that run outside a transaction (dirty-row
    /// protocol): session-level, and [`Dialect::tool_settings`] after.
    pub(crate) fn migration_settings_session(
        self,
        saved: &Saved,
        guard: &Guardrails,
    ) -> Option<String> {
        match self {
            Dialect::Postgres => Some(self.postgres_settings("SET", saved, guard)),
            Dialect::Mysql => {
                let lock = match guard.ddl_lock_timeout {
                    Some(timeout) => whole_seconds(timeout).to_string(),
                    None => String::from("@vm_saved_lwt"),
                };
                let row_lock = match guard.ddl_lock_timeout {
                    Some(timeout) => whole_seconds(timeout).to_string(),
                    None => String::from("@vm_saved_ilwt"),
                };
                let mut sql = format!(
                    "SET SESSION lock_wait_timeout = {lock}, SESSION innodb_lock_wait_timeout = {row_lock}"
                );
                if let Some(timeout) = guard.statement_timeout {
                    match saved.mariadb {
                        Some(true) => sql.push_str(&format!(
                            ", SESSION max_statement_time = {:.3}",
                            timeout.as_secs_f64()
                        )),
                        Some(false) => sql.push_str(&format!(
                            ", SESSION max_execution_time = {}",
                            millis(timeout)
                        )),
                        None => {}
                    }
                }
                Some(sql)
            }
            Dialect::Sqlite => None,
        }
    }

    fn postgres_settings(self, set: &str, saved: &Saved, guard: &Guardrails) -> String {
        let value = |given: Option<Duration>, saved: Option<&str>| match given {
            Some(timeout) => format!("'{}ms'", millis(timeout).max(1)),
            None => self.string_literal(saved.unwrap_or("0")),
        };
        format!(
            "{set} lock_timeout = {}; {set} statement_timeout = {}",
            value(guard.ddl_lock_timeout, saved.part(0)),
            value(guard.statement_timeout, saved.part(1))
        )
    }

    /// After a migration's statements outside a transaction: the tool's
    /// settings again, and the statement time limit as it was.
    pub(crate) fn after_migration_session(
        self,
        settings: &SessionSettings,
        saved: &Saved,
    ) -> String {
        let mut sql = self.tool_settings(settings, saved);
        if self == Dialect::Mysql {
            if let Some(timer) = self.restore_statement_timer(saved) {
                sql.push_str("; ");
                sql.push_str(timer);
            }
        }
        if self == Dialect::Postgres {
            sql.push_str("; SET statement_timeout = ");
            sql.push_str(&self.string_literal(saved.part(1).unwrap_or("0")));
        }
        sql
    }

    /// The sessions holding locks on `tables` (or, when none are known, on
    /// any table of this database), for naming what a migration waited on:
    /// rows of (id, state, seconds running, start of its query).
    pub(crate) fn blockers_query(self, tables: &[String]) -> Option<String> {
        match self {
            Dialect::Postgres => {
                let filter = match tables.is_empty() {
                    true => String::from(
                        "l.relation IS NOT NULL AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    ),
                    false => {
                        let names: Vec<String> = tables.iter().map(|t| format!("to_regclass({})", self.string_literal(t))).collect();
                        format!("l.relation IN ({})", names.join(", "))
                    }
                };
                Some(format!(
                    "SELECT CAST(a.pid AS TEXT), CAST(a.state AS TEXT), \
                     CAST(round(EXTRACT(EPOCH FROM now() - COALESCE(a.xact_start, a.query_start))) AS TEXT), \
                     CAST(left(a.query, 200) AS TEXT) \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.granted AND a.pid <> pg_backend_pid() AND {filter} \
                     GROUP BY a.pid, a.state, a.xact_start, a.query_start, a.query ORDER BY a.pid"
                ))
            }
            Dialect::Mysql => Some(String::from(
                "SELECT CAST(p.ID AS CHAR), CAST(p.COMMAND AS CHAR), \
                 CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS CHAR), \
                 CAST(LEFT(COALESCE(p.INFO, t.trx_query, ''), 200) AS CHAR) \
                 FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p \
                 ON p.ID = t.trx_mysql_thread_id WHERE p.ID <> CONNECTION_ID() ORDER BY p.ID",
            )),
            Dialect::Sqlite => None,
        }
    }

    /// PostgreSQL: drops an index a cancelled `CREATE INDEX CONCURRENTLY`
    /// left behind INVALID (and nothing else: a valid index is kept). A
    /// `DO` block cannot run it (no concurrent drop in a transaction), so
    /// this is the check; [`Dialect::drop_index_concurrently`] the drop.
    pub(crate) fn invalid_index_query(self, index: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE NOT i.indisvalid AND c.relname = {}",
                self.string_literal(index)
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    pub(crate) fn drop_index_concurrently(self, index: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                self.quote_ident(index)
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Back to the tool's lock timeout inside a migration's transaction,
    /// before its tracking row is written (PostgreSQL).
    pub(crate) fn tool_settings_local(self, settings: &SessionSettings) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = 0",
                millis(settings.lock_timeout).max(1)
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Tries to take the run-wide session lock without waiting; yields 1
    /// when taken. The key covers the database and the tracking table, so
    /// runs over other tables or databases never wait on each other. SQLite
    /// has no session lock: the lock is a file (see `crate::lock`).
    pub(crate) fn try_lock(self, table: &TableName) -> Option<String> {
        let key = self.lock_key(table);
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!(
                "SELECT CAST(CAST(pg_try_advisory_lock(hashtext(current_database() || {key})) AS INTEGER) AS BIGINT) AS value"
            )),
            Dialect::Mysql => Some(format!(
                "SELECT CAST(GET_LOCK(SHA1(CONCAT(DATABASE(), {key})), 0) AS SIGNED) AS value"
            )),
        }
    }

    pub(crate) fn unlock(self, table: &TableName) -> Option<String> {
        let key = self.lock_key(table);
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!(
                "SELECT CAST(CAST(pg_advisory_unlock(hashtext(current_database() || {key})) AS INTEGER) AS BIGINT) AS value"
            )),
            Dialect::Mysql => Some(format!(
                "SELECT CAST(RELEASE_LOCK(SHA1(CONCAT(DATABASE(), {key}))) AS SIGNED) AS value"
            )),
        }
    }

    /// A string literal identifying a tracking table for the run-wide lock:
    /// a schema-qualified table (each tenant's, with `--schemas`) has a
    /// lock of its own. The name is quoted as a literal, since a schema
    /// found in the catalog may hold any character.
    fn lock_key(self, table: &TableName) -> String {
        self.string_literal(&format!("/versioned-migrations/{table}"))
    }

    /// SQLite: the file behind the schema holding the tracking table (empty
    /// for an in-memory database).
    pub(crate) fn database_file_query(self, table: &TableName) -> Option<String> {
        match self {
            Dialect::Sqlite => Some(format!(
                "SELECT file AS value FROM pragma_database_list WHERE name = {}",
                self.string_literal(table.schema().unwrap_or("main"))
            )),
            Dialect::Postgres | Dialect::Mysql => None,
        }
    }

    /// SQLite: whether foreign keys are enforced (1) on this connection.
    pub(crate) fn foreign_keys_query(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("SELECT foreign_keys AS value FROM pragma_foreign_keys"),
            Dialect::Postgres | Dialect::Mysql => None,
        }
    }

    pub(crate) fn set_foreign_keys(self, on: bool) -> Option<&'static str> {
        match (self, on) {
            (Dialect::Sqlite, true) => Some("PRAGMA foreign_keys = ON"),
            (Dialect::Sqlite, false) => Some("PRAGMA foreign_keys = OFF"),
            _ => None,
        }
    }

    /// SQLite: the first few rows `PRAGMA foreign_key_check` reports, as one
    /// line (`NULL` when there is none).
    pub(crate) fn foreign_key_violations_query(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some(
                "SELECT group_concat(v, '; ') AS value FROM (SELECT \"table\" || ' row ' || rowid \
                 || ' references a missing row of ' || parent AS v FROM pragma_foreign_key_check LIMIT 5)",
            ),
            Dialect::Postgres | Dialect::Mysql => None,
        }
    }

    /// SQLite: a consistent copy of the database into a new file.
    pub(crate) fn vacuum_into(self, path: &str) -> Option<String> {
        match self {
            Dialect::Sqlite => Some(format!("VACUUM INTO {}", self.string_literal(path))),
            Dialect::Postgres | Dialect::Mysql => None,
        }
    }

    /// PostgreSQL: a code step's query with each row rendered as JSON text
    /// by the server (values arrive in binary otherwise, one encoding per
    /// type). `None` elsewhere: the query runs as written.
    pub(crate) fn query_as_json(self, sql: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SELECT CAST(row_to_json(vm_row) AS TEXT) AS value FROM ({}) AS vm_row",
                sql.trim().trim_end_matches(';')
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Whether a database's message says it refused a statement before
    /// running any of it (a syntax error; on MySQL also the DDL errors
    /// raised while checking the statement against the schema), so a dirty
    /// row written for it can be taken back.
    pub(crate) fn rejected_before_running(self, message: &str) -> bool {
        match self {
            Dialect::Mysql => [
                "You have an error in your SQL syntax",
                "already exists",
                "doesn't exist",
                "Unknown column",
                "Duplicate column name",
                "Duplicate key name",
                "check that column/key exists",
                "check that it exists",
            ]
            .iter()
            .any(|needle| message.contains(needle)),
            Dialect::Postgres => message.starts_with("syntax error"),
            Dialect::Sqlite => message.contains("syntax error"),
        }
    }

    /// Whether a database's message says a statement gave up waiting for a
    /// lock (PostgreSQL `lock_timeout`, MySQL lock waits, SQLite busy).
    pub(crate) fn is_lock_timeout(self, message: &str) -> bool {
        match self {
            Dialect::Postgres => message.contains("lock timeout"),
            Dialect::Mysql => message.contains("Lock wait timeout exceeded"),
            Dialect::Sqlite => {
                message.contains("database is locked")
                    || message.contains("database table is locked")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ms: u64) -> SessionSettings {
        SessionSettings {
            lock_timeout: Duration::from_millis(ms),
            check_client: true,
        }
    }

    #[test]
    fn tool_settings_per_backend() {
        let pg14 = Saved::from_text(Some(String::from("0|0|0")));
        let pg13 = Saved::from_text(Some(String::from("0|0|")));
        assert_eq!(
            Dialect::Postgres.tool_settings(&settings(2000), &pg14),
            "SET lock_timeout = '2000ms'; SET client_connection_check_interval = 1000"
        );
        assert_eq!(
            Dialect::Postgres.tool_settings(&settings(2000), &pg13),
            "SET lock_timeout = '2000ms'"
        );
        assert_eq!(
            Dialect::Mysql.tool_settings(&settings(1500), &Saved::default()),
            "SET SESSION lock_wait_timeout = 2, SESSION innodb_lock_wait_timeout = 2"
        );
        assert_eq!(
            Dialect::Sqlite.tool_settings(&settings(250), &Saved::default()),
            "PRAGMA busy_timeout = 250"
        );
    }

    #[test]
    fn restores_what_was_saved() {
        let saved = Saved::from_text(Some(String::from("5s|0|0")));
        assert_eq!(
            Dialect::Postgres.restore_settings(&saved).as_deref(),
            Some("SET lock_timeout = '5s'; SET statement_timeout = '0'; SET client_connection_check_interval = '0'")
        );
        assert_eq!(
            Dialect::Sqlite
                .restore_settings(&Saved::from_text(Some(String::from("1234"))))
                .as_deref(),
            Some("PRAGMA busy_timeout = 1234")
        );
    }

    #[test]
    fn migrations_get_the_sessions_values_or_the_guardrails() {
        let saved = Saved::from_text(Some(String::from("0|30s|0")));
        assert_eq!(
            Dialect::Postgres
                .migration_settings_local(&saved, &Guardrails::default())
                .as_deref(),
            Some("SET LOCAL lock_timeout = '0'; SET LOCAL statement_timeout = '30s'")
        );
        let guard = Guardrails::default().ddl_lock_timeout(Duration::from_secs(2));
        assert_eq!(
            Dialect::Postgres
                .migration_settings_local(&saved, &guard)
                .as_deref(),
            Some("SET LOCAL lock_timeout = '2000ms'; SET LOCAL statement_timeout = '30s'")
        );
        assert_eq!(
            Dialect::Mysql
                .migration_settings_session(&saved, &guard)
                .as_deref(),
            Some("SET SESSION lock_wait_timeout = 2, SESSION innodb_lock_wait_timeout = 2")
        );
    }
}
