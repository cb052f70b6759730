//! The start-up check's SQL: one row that says whether the tracking table
//! is exactly as the last full check left it, whatever its length.
//!
//! After a full check under the lock finds every migration of the code
//! applied and every row matching it, the newest row's `list_fingerprint`
//! records the list's fingerprint. On PostgreSQL and SQLite, triggers on the
//! tracking table clear that stamp on any insert, delete, truncate or
//! change to a row (by this tool, another tool, a person at a SQL prompt),
//! so the check reads the newest row alone: the same fingerprint means the
//! code is the list that was checked and no row changed since. MySQL's
//! triggers cannot write the table they fire on, but a row's own BEFORE
//! trigger can set its columns: there an inserted or changed row marks
//! itself (`list_fingerprint = 'changed'`) and the check also counts the
//! rows that carry anything there, through an index, so one row, the
//! stamped one, means none changed. A row deleted by hand (other than the
//! newest) leaves no mark there: the next full check sees it. Where the
//! triggers cannot be made (a user without the right to), the stamp is
//! `<list>:<count>:<sum>`, the row digest the database computed right then,
//! and the check computes the digest again: every row is read by the
//! server, still no row is sent.

use super::session::{millis, whole_seconds};
use super::{Bind, Dialect, SessionSettings, Sql};
use crate::table::TableName;
use crate::tracking::{ColumnKind, COLUMNS};
use std::time::Duration;

/// What a MySQL row inserted or changed since the last stamp carries in
/// `list_fingerprint` (never a fingerprint: those are hex).
const CHANGED: &str = "changed";

/// The triggers (name, events) and the index that keep the stamp honest
/// (see `Dialect::stamp_guard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StampGuard {
    pub triggers: Vec<(String, String)>,
    pub index: String,
}

impl Dialect {
    /// A per-row hash of (version, checksum, success), summed with the row
    /// count by the database. PostgreSQL's `hashtextextended` and MySQL's
    /// `CRC32` hash the whole row; SQLite has no hash function, so its sum
    /// weighs the version, the flag, the checksum's length and six of its
    /// characters (a tampered checksum goes unseen only when it keeps its
    /// length and those six characters).
    fn row_digest(self) -> String {
        let sum = match self {
            Dialect::Postgres => {
                "hashtextextended(CAST(version AS TEXT) || ':' || COALESCE(checksum, '') \
                 || ':' || CAST(CASE WHEN success THEN 1 ELSE 0 END AS TEXT), 0)"
                    .to_string()
            }
            Dialect::Mysql => {
                "CRC32(CONCAT(version, ':', COALESCE(checksum, ''), ':', CAST(success AS SIGNED)))"
                    .to_string()
            }
            Dialect::Sqlite => {
                let c = "(COALESCE(checksum, '') || '.')";
                let samples: Vec<String> =
                    [(1, 31), (13, 37), (29, 41), (41, 43), (53, 47), (64, 53)]
                        .iter()
                        .map(|(at, weight)| {
                            format!("COALESCE(unicode(substr({c}, {at})), 0) * {weight}")
                        })
                        .collect();
                format!(
                    "(version % 1000003) * 7919 + CAST(success AS INTEGER) * 104729 \
                     + length({c}) * 1299709 + {}",
                    samples.join(" + ")
                )
            }
        };
        let count = self.cast_text("COUNT(*)");
        let total = self.cast_text(&format!("COALESCE(SUM({sum}), 0)"));
        match self {
            Dialect::Mysql => format!("CONCAT({count}, ':', {total})"),
            Dialect::Sqlite | Dialect::Postgres => format!("{count} || ':' || {total}"),
        }
    }

    /// One row: the newest version, whether it finished (1/0), its
    /// `list_fingerprint`, and on MySQL what that stamp is checked against:
    /// under a plain stamp (rows mark themselves there rather than clear
    /// it) how many rows carry anything in that column, found through the
    /// guard's index; under a digest stamp (no triggers) the row digest now;
    /// all as text. The newest row is
    /// found by the number through the primary key: qualified, because an
    /// unqualified `ORDER BY version` beside a text cast of the same name
    /// sorts the text on PostgreSQL.
    ///
    /// On MySQL the statement carries its own lock wait limit (see
    /// [`Dialect::statement_lock_timeout`]).
    pub(crate) fn startup_check(self, table: &TableName, lock_timeout: Duration) -> String {
        let quoted = self.quote_table(table);
        let success = match self {
            Dialect::Postgres => "CASE WHEN newest.success THEN 1 ELSE 0 END",
            Dialect::Sqlite | Dialect::Mysql => "newest.success",
        };
        // MySQL evaluates only the branch the stamp's form picks.
        let witness = match self {
            Dialect::Mysql => format!(
                "CASE WHEN LOCATE(':', newest.list_fingerprint) > 0 \
                 THEN (SELECT {} FROM {quoted}) \
                 ELSE (SELECT {} FROM {quoted} WHERE list_fingerprint IS NOT NULL) END",
                self.row_digest(),
                self.cast_text("COUNT(*)"),
            ),
            Dialect::Sqlite | Dialect::Postgres => String::from("NULL"),
        };
        let (before, hint) = match self {
            // MariaDB runs what `/*M!` holds and reads `/*+` as a comment;
            // MySQL (8.0.3 and later) the other way round.
            Dialect::Mysql => {
                let seconds = whole_seconds(lock_timeout);
                (
                    format!("/*M!100102 SET STATEMENT lock_wait_timeout = {seconds} FOR */ "),
                    format!("/*+ SET_VAR(lock_wait_timeout = {seconds}) */ "),
                )
            }
            Dialect::Sqlite | Dialect::Postgres => (String::new(), String::new()),
        };
        format!(
            "{before}SELECT {hint}{}, {}, newest.list_fingerprint, {witness} \
             FROM {quoted} AS newest ORDER BY newest.version DESC LIMIT 1",
            self.cast_text("newest.version"),
            self.cast_text(success),
        )
    }

    /// Whether [`Dialect::startup_check`] bounds its own lock wait, so the
    /// session's settings need not be saved, set and given back around it
    /// (MySQL: two batches of three round trips each).
    pub(crate) fn statement_lock_timeout(self) -> bool {
        matches!(self, Dialect::Mysql)
    }

    /// The objects by which the database keeps the stamp honest: triggers
    /// that clear it (PostgreSQL, SQLite) or that mark the row they insert
    /// or change (MySQL), and the index that finds the stamped (or marked)
    /// rows; `None` when the tracking table's name leaves no room for their
    /// names.
    pub(crate) fn stamp_guard(self, table: &TableName) -> Option<StampGuard> {
        let name = |suffix: &str| table.beside(suffix).map(|t| t.name().to_string());
        let changed: Vec<&str> = watched_columns().collect();
        let update = format!("UPDATE OF {}", changed.join(", "));
        let triggers = match self {
            Dialect::Postgres => vec![(
                name("_stamp_clear")?,
                format!("INSERT OR DELETE OR TRUNCATE OR {update}"),
            )],
            Dialect::Sqlite => vec![
                (name("_stamp_ins")?, String::from("INSERT")),
                (name("_stamp_upd")?, update),
                (name("_stamp_del")?, String::from("DELETE")),
            ],
            Dialect::Mysql => vec![
                (name("_stamp_ins")?, String::from("INSERT")),
                (name("_stamp_upd")?, String::from("UPDATE")),
            ],
        };
        Some(StampGuard {
            triggers,
            index: name("_stamped")?,
        })
    }

    /// The names of the triggers and indexes on the tracking table, to
    /// find which of the guard's are missing.
    pub(crate) fn guard_names_query(self, table: &TableName) -> Sql {
        match self {
            Dialect::Mysql => {
                let schema = match table.schema() {
                    Some(schema) => self.string_literal(schema),
                    None => String::from("DATABASE()"),
                };
                let name = self.string_literal(table.name());
                Sql::new(
                    format!(
                        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS \
                         WHERE EVENT_OBJECT_SCHEMA = {schema} AND EVENT_OBJECT_TABLE = {name} \
                         UNION ALL SELECT INDEX_NAME FROM information_schema.STATISTICS \
                         WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = {name}"
                    ),
                    vec![],
                )
            }
            Dialect::Sqlite => Sql::new(
                format!(
                    "SELECT name FROM {}.sqlite_master \
                     WHERE type IN ('trigger', 'index') AND tbl_name = ?",
                    self.quote_ident(table.schema().unwrap_or("main"))
                ),
                vec![Bind::Text(table.name().to_string())],
            ),
            Dialect::Postgres => Sql::new(
                "SELECT CAST(t.tgname AS TEXT) FROM pg_trigger t \
                 WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal \
                 UNION ALL SELECT CAST(c.relname AS TEXT) FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1)"
                    .to_string(),
                vec![Bind::Text(self.quote_table(table))],
            ),
        }
    }

    /// Makes the guard: the partial index that finds the stamped row
    /// without a scan, and the triggers `missing` names, each clearing
    /// every stamp on a change to anything but the stamp itself
    /// (PostgreSQL: through a function of the trigger's name, replaced if
    /// it exists).
    pub(crate) fn create_stamp_guard(
        self,
        table: &TableName,
        guard: &StampGuard,
        missing: &[&str],
    ) -> Vec<String> {
        let in_schema = |name: &str| match table.schema() {
            Some(schema) => format!("{}.{}", self.quote_ident(schema), self.quote_ident(name)),
            None => self.quote_ident(name),
        };
        let unqualified = self.quote_ident(table.name());
        let mut statements = Vec::new();
        if missing.contains(&guard.index.as_str()) {
            let (index, on) = match self {
                Dialect::Sqlite => (in_schema(&guard.index), unqualified.clone()),
                Dialect::Postgres | Dialect::Mysql => {
                    (self.quote_ident(&guard.index), self.quote_table(table))
                }
            };
            statements.push(match self {
                // No partial indexes: NULLs are most of it, and a range
                // scan of the rest reads the stamped and marked rows alone.
                Dialect::Mysql => format!("CREATE INDEX {index} ON {on} (list_fingerprint)"),
                Dialect::Sqlite | Dialect::Postgres => format!(
                    "CREATE INDEX IF NOT EXISTS {index} ON {on} (version) \
                     WHERE list_fingerprint IS NOT NULL"
                ),
            });
        }
        let clear = "SET list_fingerprint = NULL WHERE list_fingerprint IS NOT NULL";
        for (name, events) in &guard.triggers {
            if !missing.contains(&name.as_str()) {
                continue;
            }
            match self {
                // The function finds the table by the trigger's own
                // schema and name, whatever the session's search_path, and
                // the stamped row by the partial index: without statistics
                // the planner takes `IS NOT NULL` for nearly every row and
                // would scan the table on every change.
                Dialect::Postgres => {
                    statements.push(format!(
                        "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql \
                         SET enable_seqscan = off AS \
                         $vm_stamp$BEGIN EXECUTE format('UPDATE %I.%I {clear}', \
                         TG_TABLE_SCHEMA, TG_TABLE_NAME); RETURN NULL; END$vm_stamp$",
                        function = in_schema(name),
                    ));
                    statements.push(format!(
                        "CREATE TRIGGER {} AFTER {events} ON {} FOR EACH STATEMENT EXECUTE PROCEDURE {}()",
                        self.quote_ident(name),
                        self.quote_table(table),
                        in_schema(name),
                    ));
                }
                // A trigger's table and body name tables of its own schema,
                // unqualified.
                Dialect::Sqlite => statements.push(format!(
                    "CREATE TRIGGER IF NOT EXISTS {} AFTER {events} ON {unqualified} \
                     BEGIN UPDATE {unqualified} {clear}; END",
                    in_schema(name),
                )),
                // The row marks itself; an UPDATE that changes nothing but
                // the stamp (clearing or writing it) leaves it as written.
                Dialect::Mysql => statements.push(format!(
                    "CREATE TRIGGER {} BEFORE {events} ON {} FOR EACH ROW \
                     SET NEW.list_fingerprint = {}",
                    in_schema(name),
                    self.quote_table(table),
                    match events.as_str() {
                        "INSERT" => format!("'{CHANGED}'"),
                        _ => format!(
                            "IF({}, NEW.list_fingerprint, '{CHANGED}')",
                            watched_columns()
                                .map(|c| format!("NEW.{c} <=> OLD.{c}"))
                                .collect::<Vec<_>>()
                                .join(" AND ")
                        ),
                    },
                )),
            }
        }
        statements
    }

    /// The row digest alone, for recording it.
    pub(crate) fn row_digest_query(self, table: &TableName) -> String {
        format!(
            "SELECT {} FROM {}",
            self.row_digest(),
            self.quote_table(table)
        )
    }

    /// PostgreSQL, when the tool needs only its lock timeout: the saved
    /// settings (column `value`, as [`Dialect::save_settings_query`]) read
    /// and the tool's lock timeout set in the same statement, one round
    /// trip instead of two (`set_config` runs as the row is produced).
    /// `concat_ws` rather than `||`: a new session resolves one function
    /// instead of four operators (0.42 against 0.52 ms of server time on a
    /// fresh connection, medians of 15).
    pub(crate) fn save_and_set_query(self, settings: &SessionSettings) -> Option<String> {
        match (self, settings.check_client) {
            (Dialect::Postgres, false) => Some(format!(
                "SELECT concat_ws('|', current_setting('lock_timeout'), current_setting('statement_timeout'), \
                 COALESCE(current_setting('client_connection_check_interval', true), '')) AS value, \
                 set_config('lock_timeout', '{}ms', false) AS applied",
                millis(settings.lock_timeout).max(1)
            )),
            _ => None,
        }
    }

    /// Forgets every row's list fingerprint: in the transaction of a change
    /// to rows the fingerprints vouched for where no trigger does it
    /// (repair), and before a stamp where the triggers exist, so that only
    /// the newest row is ever stamped.
    pub(crate) fn clear_list_fingerprints(self, table: &TableName) -> String {
        format!(
            "UPDATE {} SET list_fingerprint = NULL WHERE list_fingerprint IS NOT NULL",
            self.quote_table(table)
        )
    }

    /// Records the stamp (`<list>`, or `<list>:<digest>` without the
    /// triggers) on the newest row.
    pub(crate) fn stamp_list_fingerprint(
        self,
        table: &TableName,
        version: i64,
        value: &str,
    ) -> Sql {
        Sql::new(
            format!(
                "UPDATE {} SET list_fingerprint = {} WHERE version = {}",
                self.quote_table(table),
                self.placeholder(1),
                self.placeholder(2)
            ),
            vec![Bind::Text(value.to_string()), Bind::I64(version)],
        )
    }
}

/// The tracking columns a change to which the guard notices: all but the
/// stamp itself.
fn watched_columns() -> impl Iterator<Item = &'static str> {
    COLUMNS
        .iter()
        .filter(|c| c.kind != ColumnKind::ListFingerprint)
        .map(|c| c.name)
}
