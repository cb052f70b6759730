//! The start-up check's SQL: one row, whatever the table's length.
//!
//! The newest row's `list_fingerprint` holds the fingerprint of the list
//! that last checked every row under the lock and left every migration of
//! it applied (rows stamped by an earlier release hold
//! `<list>:<count>:<sum>`; the part before the first `:` is the list's).
//! The check reads the newest row: the same list, finished, at the list's
//! last version means nothing is pending and nothing of the code changed.
//! Every change this tool makes to other rows (rollback, repair) moves or
//! clears that stamp; a row edited by hand in the middle of the table is
//! found by `verify`, `check` and `status`, and by every `apply` that has
//! work to do, which read every row.

use super::session::millis;
use super::{Bind, Dialect, SessionSettings, Sql};
use crate::table::TableName;

impl Dialect {
    /// One row: the newest version, whether it finished (1/0) and its
    /// `list_fingerprint`, all as text. An index lookup: the same cost at
    /// 10 rows and at 10,000.
    pub(crate) fn startup_check(self, table: &TableName) -> String {
        let success = match self {
            Dialect::Postgres => "CASE WHEN newest.success THEN 1 ELSE 0 END",
            Dialect::Sqlite | Dialect::Mysql => "newest.success",
        };
        // Qualified: a bare `version` in ORDER BY would name the output
        // column, the version cast to text, and sort 999 above 5000.
        format!(
            "SELECT {}, {}, newest.list_fingerprint FROM {} AS newest \
             ORDER BY newest.version DESC LIMIT 1",
            self.cast_text("newest.version"),
            self.cast_text(success),
            self.quote_table(table),
        )
    }

    /// PostgreSQL, when the tool needs only its lock timeout: the saved
    /// settings (column `value`, as [`Dialect::save_settings_query`]) read
    /// and the tool's lock timeout set in the same statement, one round
    /// trip instead of two (`set_config` runs as the row is produced).
    pub(crate) fn save_and_set_query(self, settings: &SessionSettings) -> Option<String> {
        match (self, settings.check_client) {
            (Dialect::Postgres, false) => Some(format!(
                "SELECT current_setting('lock_timeout') || '|' || current_setting('statement_timeout') \
                 || '|' || COALESCE(current_setting('client_connection_check_interval', true), '') AS value, \
                 set_config('lock_timeout', '{}ms', false) AS applied",
                millis(settings.lock_timeout).max(1)
            )),
            _ => None,
        }
    }

    /// Forgets every row's list fingerprint, in the transaction of a change
    /// to rows the fingerprints vouched for (repair): the next start-up
    /// check goes the full way.
    pub(crate) fn clear_list_fingerprints(self, table: &TableName) -> String {
        format!(
            "UPDATE {} SET list_fingerprint = NULL WHERE list_fingerprint IS NOT NULL",
            self.quote_table(table)
        )
    }

    /// Records the list's fingerprint on the newest row.
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
