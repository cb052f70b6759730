//! The start-up check's SQL: one row that says whether the tracking table
//! is exactly as the last full check left it, whatever its length.
//!
//! The newest row's `list_fingerprint` holds `<list>:<count>:<sum>`: the
//! fingerprint of the list that checked every row (under the lock), and
//! the row digest the database computed right then. The check reads the
//! newest row and the digest now; the same text means the code is the same
//! list and no row was added, deleted or changed since (a checksum, a
//! version, a dirty flag, by this tool or by hand).

use super::session::millis;
use super::{Bind, Dialect, SessionSettings, Sql};
use crate::table::TableName;

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
    /// `list_fingerprint`, and the row digest now; all as text.
    pub(crate) fn startup_check(self, table: &TableName) -> String {
        let quoted = self.quote_table(table);
        let success = match self {
            Dialect::Postgres => "CASE WHEN newest.success THEN 1 ELSE 0 END",
            Dialect::Sqlite | Dialect::Mysql => "newest.success",
        };
        format!(
            "SELECT {}, {}, newest.list_fingerprint, (SELECT {} FROM {quoted}) \
             FROM {quoted} AS newest ORDER BY newest.version DESC LIMIT 1",
            self.cast_text("newest.version"),
            self.cast_text(success),
            self.row_digest(),
        )
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

    /// Records `<list>:<digest>` on the newest row.
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
