//! The tracking table's SQL, derived from [`crate::tracking::COLUMNS`].

use super::{Bind, Dialect, Sql};
use crate::table::TableName;
use crate::tracking::{encode_down, AppliedMigration, Column, ColumnKind, COLUMNS};

impl Dialect {
    /// The table name as SQL, each part quoted.
    pub(crate) fn quote_table(self, table: &TableName) -> String {
        match table.schema() {
            Some(schema) => format!(
                "{}.{}",
                self.quote_ident(schema),
                self.quote_ident(table.name())
            ),
            None => self.quote_ident(table.name()),
        }
    }

    /// A column's type and constraints; the same text creates a new table
    /// and adds a missing column to an older one (where it must be nullable
    /// or have a default, which every later column has).
    fn column_definition(self, column: &Column) -> String {
        let mysql = self == Dialect::Mysql;
        let sql_type = match column.kind {
            // SQLite: `INTEGER PRIMARY KEY` (64-bit there) is the rowid, so
            // the rows live in one b-tree, not a table and an index: a
            // migration's row writes half the pages.
            ColumnKind::Version if self == Dialect::Sqlite => "INTEGER NOT NULL PRIMARY KEY",
            ColumnKind::Version => "BIGINT NOT NULL PRIMARY KEY",
            ColumnKind::Text if mysql => "TEXT NOT NULL",
            ColumnKind::Text => "TEXT NOT NULL",
            ColumnKind::Checksum => "VARCHAR(64)",
            ColumnKind::Timestamp if mysql => "DATETIME(6) NOT NULL",
            ColumnKind::Timestamp => "TIMESTAMP NOT NULL",
            ColumnKind::Millis => match self {
                Dialect::Sqlite => "REAL NOT NULL DEFAULT 0",
                Dialect::Postgres => "DOUBLE PRECISION NOT NULL DEFAULT 0",
                Dialect::Mysql => "DOUBLE NOT NULL DEFAULT 0",
            },
            ColumnKind::Success => "BOOLEAN NOT NULL DEFAULT TRUE",
            ColumnKind::DownStatements if mysql => "LONGTEXT",
            ColumnKind::DownStatements => "TEXT",
            ColumnKind::ListFingerprint => "VARCHAR(128)",
        };
        format!("{} {sql_type}", column.name)
    }

    pub(crate) fn create_table(self, table: &TableName) -> String {
        let columns: Vec<String> = COLUMNS.iter().map(|c| self.column_definition(c)).collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            self.quote_table(table),
            columns.join(", ")
        )
    }

    /// Adds a later column to an older table; rows get its default (or NULL).
    pub(crate) fn add_column(self, table: &TableName, name: &str) -> Option<String> {
        let column = COLUMNS.iter().find(|c| c.name == name && c.added_later)?;
        Some(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.quote_table(table),
            self.column_definition(column)
        ))
    }

    /// Lists the table's columns as (name, data_type), empty when it does not
    /// exist. Reads only the catalog, so it never waits on the table itself.
    pub(crate) fn columns_query(self, table: &TableName) -> Sql {
        let name = Bind::Text(table.name().to_string());
        let schema = table.schema().map(|s| Bind::Text(s.to_string()));
        match self {
            Dialect::Sqlite => Sql::new(
                format!(
                    "SELECT name AS name, type AS data_type FROM {}.pragma_table_info(?)",
                    self.quote_ident(table.schema().unwrap_or("main"))
                ),
                vec![name],
            ),
            Dialect::Postgres | Dialect::Mysql => {
                let (current, cast) = match self {
                    Dialect::Postgres => ("current_schema()", "TEXT"),
                    _ => ("DATABASE()", "CHAR"),
                };
                let schema_test = match schema {
                    Some(_) => self.placeholder(2),
                    None => current.to_string(),
                };
                let sql = format!(
                    "SELECT CAST(column_name AS {cast}) AS name, CAST(data_type AS {cast}) AS data_type \
                     FROM information_schema.columns \
                     WHERE table_name = {} AND table_schema = {schema_test} ORDER BY ordinal_position",
                    self.placeholder(1)
                );
                Sql::new(sql, std::iter::once(name).chain(schema).collect())
            }
        }
    }

    /// Reads every row by version, with the columns an older table lacks
    /// replaced by their defaults. `plan_only` reads just what planning
    /// needs (version, checksum, success), for the start-up check.
    pub(crate) fn select_rows(
        self,
        table: &TableName,
        missing: &[&str],
        plan_only: bool,
    ) -> String {
        let value = |column: &Column| -> String {
            let name = column.name;
            let absent = missing.contains(&name);
            let skipped = plan_only
                && !matches!(
                    column.kind,
                    ColumnKind::Version
                        | ColumnKind::Checksum
                        | ColumnKind::Success
                        | ColumnKind::ListFingerprint
                );
            let expr = match column.kind {
                ColumnKind::Version => self.cast_bigint(name),
                _ if skipped => match column.kind {
                    ColumnKind::Text => self.cast_text("''"),
                    ColumnKind::Millis => self.cast_double("0"),
                    _ => self.null_text(),
                },
                ColumnKind::Text => format!("COALESCE({name}, '')"),
                ColumnKind::Checksum | ColumnKind::DownStatements | ColumnKind::ListFingerprint
                    if absent =>
                {
                    self.null_text()
                }
                ColumnKind::Checksum | ColumnKind::DownStatements | ColumnKind::ListFingerprint => {
                    name.to_string()
                }
                ColumnKind::Timestamp => self.cast_text(name),
                ColumnKind::Millis if absent => self.cast_double("0"),
                ColumnKind::Millis => self.cast_double(name),
                ColumnKind::Success if absent => self.cast_bigint("1"),
                ColumnKind::Success if self == Dialect::Postgres => {
                    self.cast_bigint(&format!("CAST({name} AS INTEGER)"))
                }
                ColumnKind::Success => self.cast_bigint(name),
            };
            format!("{expr} AS {name}")
        };
        let columns: Vec<String> = COLUMNS.iter().map(value).collect();
        format!(
            "SELECT {} FROM {} ORDER BY version",
            columns.join(", "),
            self.quote_table(table)
        )
    }

    fn column_list() -> String {
        COLUMNS
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The INSERT for a row as literal SQL, so it can share a batch with
    /// the COMMIT: every value is a number, hex, a formatted time, or text
    /// quoted by [`Dialect::string_literal`].
    pub(crate) fn insert_literal(self, table: &TableName, row: &AppliedMigration) -> String {
        let values: Vec<String> = COLUMNS
            .iter()
            .map(|column| match column.kind {
                ColumnKind::Version => row.version.to_string(),
                ColumnKind::Text => self.string_literal(&row.description),
                ColumnKind::Checksum => match &row.checksum {
                    Some(checksum) => self.string_literal(checksum),
                    None => String::from("NULL"),
                },
                ColumnKind::Timestamp => self.timestamp_literal(applied_at(row)),
                ColumnKind::Millis => self.millis_literal(row.execution_ms),
                ColumnKind::Success => self.bool_literal(row.success).to_string(),
                ColumnKind::DownStatements => match down_text(row) {
                    Some(text) => self.string_literal(&text),
                    None => String::from("NULL"),
                },
                ColumnKind::ListFingerprint => match &row.list_fingerprint {
                    Some(fingerprint) => self.string_literal(fingerprint),
                    None => String::from("NULL"),
                },
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.quote_table(table),
            Self::column_list(),
            values.join(", ")
        )
    }

    /// The INSERT for a row with bound values (text never goes through a
    /// literal, whatever the session's escaping mode).
    pub(crate) fn insert_bound(self, table: &TableName, row: &AppliedMigration) -> Sql {
        let mut binds = Vec::new();
        let mut bind = |value: Bind| {
            binds.push(value);
            self.placeholder(binds.len())
        };
        let values: Vec<String> = COLUMNS
            .iter()
            .map(|column| match column.kind {
                ColumnKind::Version => bind(Bind::I64(row.version)),
                ColumnKind::Text => bind(Bind::Text(row.description.clone())),
                ColumnKind::Checksum => bind(Bind::OptText(row.checksum.clone())),
                ColumnKind::Timestamp => self.cast_timestamp(&bind(Bind::Text(timestamp(row)))),
                ColumnKind::Millis => {
                    self.cast_double(&bind(Bind::Text(self.millis_literal(row.execution_ms))))
                }
                ColumnKind::Success => self.bool_literal(row.success).to_string(),
                ColumnKind::DownStatements => bind(Bind::OptText(down_text(row))),
                ColumnKind::ListFingerprint => bind(Bind::OptText(row.list_fingerprint.clone())),
            })
            .collect();
        self.per_migration(
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.quote_table(table),
                Self::column_list(),
                values.join(", ")
            ),
            binds,
        )
    }

    /// Settles a dirty row once its migration finished; touches exactly one
    /// row when the row is still ours and still dirty.
    pub(crate) fn mark_done(self, table: &TableName, row: &AppliedMigration) -> Sql {
        self.per_migration(
            format!(
                "UPDATE {} SET success = {}, applied_at = {}, execution_ms = {} WHERE version = {} AND success = {}",
                self.quote_table(table),
                self.bool_literal(true),
                self.cast_timestamp(&self.placeholder(1)),
                self.cast_double(&self.placeholder(2)),
                self.placeholder(3),
                self.bool_literal(false),
            ),
            vec![
                Bind::Text(timestamp(row)),
                Bind::Text(self.millis_literal(row.execution_ms)),
                Bind::I64(row.version),
            ],
        )
    }

    /// Marks an applied row unfinished before a non-transactional rollback.
    pub(crate) fn mark_dirty(self, table: &TableName, version: i64) -> Sql {
        Sql::new(
            format!(
                "UPDATE {} SET success = {} WHERE version = {} AND success = {}",
                self.quote_table(table),
                self.bool_literal(false),
                self.placeholder(1),
                self.bool_literal(true),
            ),
            vec![Bind::I64(version)],
        )
    }

    pub(crate) fn mark_applied(self, table: &TableName, version: i64) -> Sql {
        Sql::new(
            format!(
                "UPDATE {} SET success = {} WHERE version = {} AND success = {}",
                self.quote_table(table),
                self.bool_literal(true),
                self.placeholder(1),
                self.bool_literal(false),
            ),
            vec![Bind::I64(version)],
        )
    }

    pub(crate) fn delete_row(self, table: &TableName, version: i64) -> Sql {
        Sql::new(
            format!(
                "DELETE FROM {} WHERE version = {}",
                self.quote_table(table),
                self.placeholder(1)
            ),
            vec![Bind::I64(version)],
        )
    }

    /// Overwrites a row's description and checksum with the code's.
    pub(crate) fn accept_row(
        self,
        table: &TableName,
        version: i64,
        description: &str,
        checksum: &str,
    ) -> Sql {
        Sql::new(
            format!(
                "UPDATE {} SET description = {}, checksum = {} WHERE version = {}",
                self.quote_table(table),
                self.placeholder(1),
                self.placeholder(2),
                self.placeholder(3)
            ),
            vec![
                Bind::Text(description.to_string()),
                Bind::Text(checksum.to_string()),
                Bind::I64(version),
            ],
        )
    }

    /// Records the code's checksum for a row inherited without one.
    pub(crate) fn adopt_checksum(self, table: &TableName, version: i64, checksum: &str) -> Sql {
        Sql::new(
            format!(
                "UPDATE {} SET checksum = {} WHERE version = {} AND checksum IS NULL",
                self.quote_table(table),
                self.placeholder(1),
                self.placeholder(2)
            ),
            vec![Bind::Text(checksum.to_string()), Bind::I64(version)],
        )
    }
}

fn applied_at(row: &AppliedMigration) -> chrono::NaiveDateTime {
    row.applied_at.unwrap_or_else(chrono::Utc::now).naive_utc()
}

fn timestamp(row: &AppliedMigration) -> String {
    super::timestamp_text(applied_at(row))
}

fn down_text(row: &AppliedMigration) -> Option<String> {
    row.down.as_ref().map(|down| {
        let statements: Vec<&str> = down.iter().map(String::as_str).collect();
        encode_down(&statements)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_column_list_drives_create_and_upgrade() {
        let table = TableName::default();
        assert_eq!(
            Dialect::Postgres.create_table(&table),
            "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version BIGINT NOT NULL PRIMARY KEY, \
             description TEXT NOT NULL, checksum VARCHAR(64), applied_at TIMESTAMP NOT NULL, \
             execution_ms DOUBLE PRECISION NOT NULL DEFAULT 0, success BOOLEAN NOT NULL DEFAULT TRUE, \
             down_sql TEXT, list_fingerprint VARCHAR(128))"
        );
        assert_eq!(
            Dialect::Mysql.add_column(&table, "down_sql").as_deref(),
            Some("ALTER TABLE `schema_migrations` ADD COLUMN down_sql LONGTEXT")
        );
        assert_eq!(Dialect::Mysql.add_column(&table, "version"), None);
    }

    #[test]
    fn reads_replace_missing_columns() {
        let sql =
            Dialect::Sqlite.select_rows(&TableName::default(), &["checksum", "success"], false);
        assert!(sql.contains("CAST(NULL AS TEXT) AS checksum"), "{sql}");
        assert!(sql.contains("CAST(1 AS BIGINT) AS success"), "{sql}");
        assert!(
            sql.contains("CAST(applied_at AS TEXT) AS applied_at"),
            "{sql}"
        );
    }
}
