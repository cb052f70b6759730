//! The tracking table: inspect, create or upgrade, read, and write rows.
//! Written once; the SQL differences come from [`Dialect`].

use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::connection::{Bind, ColumnRow, MigrationConnection};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::plan::AppliedMigration;
use crate::table::TableName;

/// What exists under the tracking table's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    Missing,
    /// Every column this tool writes.
    Current,
    /// The classic `(version, description, applied_at)` table, lacking some of
    /// the newer columns; `apply` adds them in place.
    Legacy {
        missing: Vec<&'static str>,
    },
}

/// Columns added to a legacy table, with their definitions. Existing rows get
/// no checksum (adopted on the next `apply`), 0 ms, and success.
const NEWER_COLUMNS: [(&str, &str); 3] = [
    ("checksum", "VARCHAR(64)"),
    ("execution_ms", "BIGINT NOT NULL DEFAULT 0"),
    ("success", "BOOLEAN NOT NULL DEFAULT TRUE"),
];

/// A row to write.
pub(crate) struct NewRow<'a> {
    pub version: i64,
    pub description: &'a str,
    pub checksum: &'a str,
    pub applied_at: NaiveDateTime,
    pub execution_ms: i64,
    pub success: bool,
}

pub(crate) struct Store<'t> {
    table: &'t TableName,
    dialect: Dialect,
}

impl<'t> Store<'t> {
    pub fn new(table: &'t TableName, dialect: Dialect) -> Self {
        Store { table, dialect }
    }

    fn quoted(&self) -> String {
        self.table.quoted(self.dialect)
    }

    /// Reads the table's columns; never changes anything.
    pub fn inspect(&self, conn: &mut dyn MigrationConnection) -> Result<Shape> {
        let mut binds = vec![Bind::Text(self.table.name().to_string())];
        if let Some(schema) = self.table.schema() {
            if self.dialect != Dialect::Sqlite {
                binds.push(Bind::Text(schema.to_string()));
            }
        }
        let columns = conn
            .load_columns(&self.dialect.columns_query(self.table), &binds)
            .map_err(|e| Error::database(format!("inspecting table {}", self.table), e))?;
        classify(&columns).map_err(|reason| Error::IncompatibleTable {
            table: self.table.to_string(),
            reason,
        })
    }

    /// Makes the table current: creates it, or adds the newer columns to a
    /// legacy one. Rows are kept.
    pub fn ensure(&self, conn: &mut dyn MigrationConnection, shape: &Shape) -> Result<()> {
        let statements = match shape {
            Shape::Current => return Ok(()),
            Shape::Missing => vec![self.dialect.create_table(self.table)],
            Shape::Legacy { missing } => NEWER_COLUMNS
                .iter()
                .filter(|(name, _)| missing.contains(name))
                .map(|(name, definition)| self.dialect.add_column(self.table, name, definition))
                .collect(),
        };
        for sql in statements {
            conn.batch_execute(&sql)
                .map_err(|e| Error::database(format!("creating table {}", self.table), e))?;
        }
        Ok(())
    }

    /// All rows, by version. A missing table reads as no rows.
    pub fn load(
        &self,
        conn: &mut dyn MigrationConnection,
        shape: &Shape,
    ) -> Result<Vec<AppliedMigration>> {
        self.select(conn, shape, false)
    }

    /// Rows of a current-shape table with only what planning needs (version,
    /// checksum, success): the start-up check skips parsing descriptions and
    /// timestamps it would not use.
    pub fn load_for_plan(
        &self,
        conn: &mut dyn MigrationConnection,
    ) -> Result<Vec<AppliedMigration>> {
        self.select(conn, &Shape::Current, true)
    }

    fn select(
        &self,
        conn: &mut dyn MigrationConnection,
        shape: &Shape,
        plan_only: bool,
    ) -> Result<Vec<AppliedMigration>> {
        let missing: &[&str] = match shape {
            Shape::Missing => return Ok(Vec::new()),
            Shape::Current => &[],
            Shape::Legacy { missing } => missing,
        };
        let d = self.dialect;
        let column = |name: &str, fallback: &str| {
            if missing.contains(&name) {
                fallback.to_string()
            } else {
                name.to_string()
            }
        };
        let null_text = match d {
            Dialect::Mysql => "CAST(NULL AS CHAR)",
            Dialect::Sqlite | Dialect::Postgres => "CAST(NULL AS TEXT)",
        };
        let (description, applied_at) = match (plan_only, d) {
            (false, _) => ("COALESCE(description, '')", "applied_at"),
            (true, Dialect::Sqlite) => ("''", "NULL"),
            (true, Dialect::Postgres) => ("CAST('' AS TEXT)", "CAST(NULL AS TIMESTAMP)"),
            (true, Dialect::Mysql) => ("''", "CAST(NULL AS DATETIME)"),
        };
        let sql = format!(
            "SELECT {version} AS version, {description} AS description, \
             {checksum} AS checksum, {applied_at} AS applied_at, \
             {execution_ms} AS execution_ms, {success} AS success \
             FROM {table} ORDER BY version",
            version = d.cast_bigint("version"),
            checksum = column("checksum", null_text),
            execution_ms = d.cast_bigint(&column("execution_ms", "0")),
            success = d.cast_bigint(&match d {
                Dialect::Postgres => format!("CAST({} AS INTEGER)", column("success", "TRUE")),
                _ => column("success", "1"),
            }),
            table = self.quoted(),
        );
        let rows = conn
            .load_tracking_rows(&sql)
            .map_err(|e| Error::database(format!("reading table {}", self.table), e))?;
        Ok(rows
            .into_iter()
            .map(|row| AppliedMigration {
                version: row.version,
                description: row.description,
                checksum: row.checksum,
                applied_at: row.applied_at.map(|t| Utc.from_utc_datetime(&t)),
                execution_ms: row.execution_ms,
                success: row.success != 0,
            })
            .collect())
    }

    /// Whether a row for `version` exists (used inside SQLite's write lock).
    pub fn contains(&self, conn: &mut dyn MigrationConnection, version: i64) -> Result<bool> {
        let sql = format!(
            "SELECT {} AS value FROM {} WHERE version = {}",
            self.dialect.cast_bigint("COUNT(*)"),
            self.quoted(),
            self.dialect.placeholder(1)
        );
        let count = conn
            .scalar(&sql, &[Bind::I64(version)])
            .map_err(|e| Error::database(format!("reading table {}", self.table), e))?;
        Ok(count.unwrap_or(0) > 0)
    }

    pub fn insert(
        &self,
        conn: &mut dyn MigrationConnection,
        row: &NewRow,
    ) -> diesel::QueryResult<()> {
        let p = |n| self.dialect.placeholder(n);
        let sql = format!(
            "INSERT INTO {} (version, description, checksum, applied_at, execution_ms, success) \
             VALUES ({}, {}, {}, {}, {}, {})",
            self.quoted(),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        conn.execute_with(
            &sql,
            &[
                Bind::I64(row.version),
                Bind::Text(row.description.to_string()),
                Bind::OptText(Some(row.checksum.to_string())),
                Bind::Timestamp(row.applied_at),
                Bind::I64(row.execution_ms),
                Bind::Bool(row.success),
            ],
        )
        .map(drop)
    }

    /// The INSERT for a row as literal SQL, so it can share a batch with the
    /// COMMIT. Every value is an integer, hex, a formatted timestamp, or the
    /// description quoted by [`Dialect::string_literal`].
    pub fn insert_sql(&self, row: &NewRow) -> String {
        let d = self.dialect;
        format!(
            "INSERT INTO {} (version, description, checksum, applied_at, execution_ms, success) \
             VALUES ({}, {}, {}, {}, {}, {})",
            self.quoted(),
            row.version,
            d.string_literal(row.description),
            d.string_literal(row.checksum),
            d.timestamp_literal(row.applied_at),
            row.execution_ms,
            d.bool_literal(row.success),
        )
    }

    /// Marks a dirty row done once its non-transactional migration finished.
    pub fn mark_done(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        applied_at: NaiveDateTime,
        execution_ms: i64,
    ) -> diesel::QueryResult<()> {
        let p = |n| self.dialect.placeholder(n);
        let sql = format!(
            "UPDATE {} SET success = {}, applied_at = {}, execution_ms = {} WHERE version = {}",
            self.quoted(),
            p(1),
            p(2),
            p(3),
            p(4)
        );
        conn.execute_with(
            &sql,
            &[
                Bind::Bool(true),
                Bind::Timestamp(applied_at),
                Bind::I64(execution_ms),
                Bind::I64(version),
            ],
        )
        .map(drop)
    }

    /// Removes a row (rollback, and repair of a dirty migration).
    pub fn delete_row(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
    ) -> diesel::QueryResult<()> {
        let sql = format!(
            "DELETE FROM {} WHERE version = {}",
            self.quoted(),
            self.dialect.placeholder(1)
        );
        conn.execute_with(&sql, &[Bind::I64(version)]).map(drop)
    }

    /// Marks a row unfinished before a non-transactional rollback runs.
    pub fn mark_dirty(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
    ) -> diesel::QueryResult<()> {
        let sql = format!(
            "UPDATE {} SET success = {} WHERE version = {}",
            self.quoted(),
            self.dialect.placeholder(1),
            self.dialect.placeholder(2)
        );
        conn.execute_with(&sql, &[Bind::Bool(false), Bind::I64(version)])
            .map(drop)
    }

    /// Overwrites a row's description and checksum with the code's.
    pub fn accept(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        description: &str,
        checksum: &str,
    ) -> Result<()> {
        let p = |n| self.dialect.placeholder(n);
        let sql = format!(
            "UPDATE {} SET description = {}, checksum = {} WHERE version = {}",
            self.quoted(),
            p(1),
            p(2),
            p(3)
        );
        conn.execute_with(
            &sql,
            &[
                Bind::Text(description.to_string()),
                Bind::Text(checksum.to_string()),
                Bind::I64(version),
            ],
        )
        .map(drop)
        .map_err(|e| Error::database(format!("updating the row of migration {version}"), e))
    }

    /// Records the code's checksum for a row that has none (legacy tables).
    pub fn set_checksum(
        &self,
        conn: &mut dyn MigrationConnection,
        version: i64,
        checksum: &str,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET checksum = {} WHERE version = {} AND checksum IS NULL",
            self.quoted(),
            self.dialect.placeholder(1),
            self.dialect.placeholder(2)
        );
        conn.execute_with(
            &sql,
            &[Bind::Text(checksum.to_string()), Bind::I64(version)],
        )
        .map(drop)
        .map_err(|e| Error::database(format!("recording the checksum of migration {version}"), e))
    }
}

/// Decides from its columns whether a table is ours, a legacy one we can
/// upgrade, or something else that must be left alone.
pub(crate) fn classify(columns: &[ColumnRow]) -> std::result::Result<Shape, String> {
    if columns.is_empty() {
        return Ok(Shape::Missing);
    }
    let find = |name: &str| {
        columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.data_type.to_ascii_lowercase())
    };
    let version = find("version").ok_or("it has no `version` column")?;
    if !is_integer(&version) {
        return Err(format!(
            "its `version` column is {version}, not an integer (written by another tool?)"
        ));
    }
    for required in ["description", "applied_at"] {
        if find(required).is_none() {
            return Err(format!("it has no `{required}` column"));
        }
    }
    let mut missing = Vec::new();
    for (name, _) in NEWER_COLUMNS {
        match find(name) {
            None => missing.push(name),
            Some(data_type) => {
                let fits = match name {
                    "checksum" => is_text(&data_type),
                    _ => is_integer(&data_type) || data_type.contains("bool"),
                };
                if !fits {
                    return Err(format!(
                        "its `{name}` column is {data_type}, which this tool cannot use"
                    ));
                }
            }
        }
    }
    Ok(if missing.is_empty() {
        Shape::Current
    } else {
        Shape::Legacy { missing }
    })
}

fn is_integer(data_type: &str) -> bool {
    data_type.contains("int") || data_type == "serial" || data_type == "bigserial"
}

fn is_text(data_type: &str) -> bool {
    data_type.contains("char") || data_type.contains("text") || data_type.contains("clob")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, &str)]) -> Vec<ColumnRow> {
        spec.iter()
            .map(|(name, data_type)| ColumnRow {
                name: name.to_string(),
                data_type: data_type.to_string(),
            })
            .collect()
    }

    #[test]
    fn classifies_tables() {
        assert_eq!(classify(&[]), Ok(Shape::Missing));
        let current = cols(&[
            ("version", "bigint"),
            ("description", "text"),
            ("checksum", "character varying"),
            ("applied_at", "timestamp without time zone"),
            ("execution_ms", "bigint"),
            ("success", "boolean"),
        ]);
        assert_eq!(classify(&current), Ok(Shape::Current));
        let legacy = cols(&[
            ("version", "INTEGER"),
            ("description", "TEXT"),
            ("applied_at", "TIMESTAMP"),
        ]);
        assert_eq!(
            classify(&legacy),
            Ok(Shape::Legacy {
                missing: vec!["checksum", "execution_ms", "success"]
            })
        );
    }

    #[test]
    fn refuses_foreign_tables() {
        let diesel_like = cols(&[("version", "character varying"), ("run_on", "timestamp")]);
        assert!(classify(&diesel_like)
            .unwrap_err()
            .contains("not an integer"));
        let goose_like = cols(&[("id", "integer"), ("version_id", "bigint")]);
        assert!(classify(&goose_like)
            .unwrap_err()
            .contains("no `version` column"));
        let sqlx_like = cols(&[
            ("version", "bigint"),
            ("description", "text"),
            ("installed_on", "timestamp with time zone"),
            ("checksum", "bytea"),
        ]);
        assert!(classify(&sqlx_like).unwrap_err().contains("applied_at"));
    }
}
