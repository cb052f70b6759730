//! The tracking table's schema, written once: the column list below drives
//! creating the table, upgrading an older one in place and recognising a
//! table that is not ours. Its one row type is [`AppliedMigration`].

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;

/// What a column holds; each dialect turns it into a SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// The migration's version: a 64-bit integer, the primary key.
    Version,
    /// Free text (the description).
    Text,
    /// A lower-case hex SHA-256.
    Checksum,
    /// When the migration finished, UTC.
    Timestamp,
    /// How long it ran, in milliseconds (fractional).
    Millis,
    /// False while a non-transactional migration runs or after it failed.
    Success,
    /// The `down` statements as they were when it was applied (JSON array).
    DownStatements,
    /// The fingerprint of the list that wrote the row, after checking every
    /// row against it (see `checksum::list_fingerprint`): the start-up check
    /// reads only the newest row.
    ListFingerprint,
}

/// One column of the tracking table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// False for the classic `(version, description, applied_at)` columns
    /// every compatible table has; true for columns this tool added later,
    /// which an older table gets by `ALTER TABLE … ADD COLUMN`.
    pub added_later: bool,
}

/// The columns, in order. Adding one here adds it to new tables, to the
/// upgrade of older ones and to every read and write.
pub(crate) const COLUMNS: &[Column] = &[
    column("version", ColumnKind::Version, false),
    column("description", ColumnKind::Text, false),
    column("checksum", ColumnKind::Checksum, true),
    column("applied_at", ColumnKind::Timestamp, false),
    column("execution_ms", ColumnKind::Millis, true),
    column("success", ColumnKind::Success, true),
    column("down_sql", ColumnKind::DownStatements, true),
    column("list_fingerprint", ColumnKind::ListFingerprint, true),
];

const fn column(name: &'static str, kind: ColumnKind, added_later: bool) -> Column {
    Column {
        name,
        kind,
        added_later,
    }
}

/// A column of an existing table, as the catalog describes it (`pub` for
/// the sealed connection trait's signatures; this module is private).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub struct ExistingColumn {
    pub name: String,
    pub data_type: String,
}

/// What the tracking table looks like before a command touches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    Missing,
    /// Every column this tool writes.
    Current,
    /// A compatible table lacking some later columns; `apply` adds them.
    Older {
        missing: Vec<&'static str>,
    },
}

impl Shape {
    /// Rows of this table may lack a checksum legitimately only when the
    /// checksum column itself is being added: the classic three-column table
    /// never had one. Those rows are trusted on first use; anywhere else a
    /// missing checksum is a problem.
    pub(crate) fn checksums_predate_this_tool(&self) -> bool {
        matches!(self, Shape::Older { missing } if missing.contains(&"checksum"))
    }

    pub(crate) fn missing(&self) -> &[&'static str] {
        match self {
            Shape::Older { missing } => missing,
            Shape::Missing | Shape::Current => &[],
        }
    }
}

/// Decides from its columns whether a table is ours, an older one we can
/// upgrade, or something else that must be left alone (the reason why).
pub(crate) fn classify(columns: &[ExistingColumn]) -> Result<Shape, String> {
    if columns.is_empty() {
        return Ok(Shape::Missing);
    }
    let find = |name: &str| {
        columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.data_type.to_ascii_lowercase())
    };
    let mut missing = Vec::new();
    for column in COLUMNS {
        let Some(data_type) = find(column.name) else {
            if column.added_later {
                missing.push(column.name);
                continue;
            }
            return Err(format!("it has no `{}` column", column.name));
        };
        if !fits(column.kind, &data_type) {
            return Err(match column.kind {
                ColumnKind::Version => format!(
                    "its `version` column is {data_type}, not an integer (written by another tool?)"
                ),
                _ => format!(
                    "its `{}` column is {data_type}, which this tool cannot use",
                    column.name
                ),
            });
        }
    }
    Ok(match missing.is_empty() {
        true => Shape::Current,
        false => Shape::Older { missing },
    })
}

fn fits(kind: ColumnKind, data_type: &str) -> bool {
    let integer = data_type.contains("int") || data_type.ends_with("serial");
    let text = ["char", "text", "clob"]
        .iter()
        .any(|t| data_type.contains(t));
    match kind {
        ColumnKind::Version => integer,
        ColumnKind::Checksum | ColumnKind::DownStatements | ColumnKind::ListFingerprint => text,
        ColumnKind::Millis => {
            integer
                || ["double", "real", "float", "numeric", "decimal"]
                    .iter()
                    .any(|t| data_type.contains(t))
        }
        ColumnKind::Success => integer || data_type.contains("bool"),
        // Anything a timestamp can be written to: the classic table was
        // created by many tools with many types.
        ColumnKind::Text | ColumnKind::Timestamp => true,
    }
}

/// One row of the tracking table: a migration the database records as
/// applied (or, when `success` is false, started and not finished).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The migration's version.
    pub version: i64,
    /// Its description when it was applied.
    pub description: String,
    /// `None` for rows inherited from a table without checksums.
    pub checksum: Option<String>,
    /// When it finished (UTC); `None` when the row holds no readable time.
    pub applied_at: Option<DateTime<Utc>>,
    /// How long its statements took, in milliseconds.
    pub execution_ms: f64,
    /// False while a non-transactional migration runs, and after it failed.
    pub success: bool,
    /// Its `down` statements as recorded when it was applied; `None` for
    /// rows written before they were recorded.
    #[serde(skip)]
    pub down: Option<Vec<String>>,
    /// The fingerprint of the list that wrote or last checked the row.
    #[serde(skip)]
    pub(crate) list_fingerprint: Option<String>,
}

/// Something odd about a row that a read command reports and carries on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RowWarning {
    /// `applied_at` holds text that is not a time.
    UnreadableAppliedAt {
        /// The row's version.
        version: i64,
        /// The text found.
        value: String,
    },
    /// `down_sql` holds text that is not a JSON list of statements.
    UnreadableDownStatements {
        /// The row's version.
        version: i64,
    },
}

impl std::fmt::Display for RowWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowWarning::UnreadableAppliedAt { version, value } => write!(
                f,
                "the row of migration {version} has an unreadable applied_at ({value:?}); its time is shown as unknown"
            ),
            RowWarning::UnreadableDownStatements { version } => write!(
                f,
                "the row of migration {version} has unreadable recorded down statements; they are ignored"
            ),
        }
    }
}

/// Reads `applied_at` as text, whatever the column's type and whoever wrote
/// it: this tool's `2026-11-21 06:38:00.029803`, ISO 8601 with `T` or an
/// offset, or Unix seconds. `Err` carries the text for a warning.
pub(crate) fn parse_applied_at(text: &str) -> Result<DateTime<Utc>, ()> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Ok(time.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Utc.from_utc_datetime(&time));
        }
    }
    if let Ok(seconds) = text.parse::<i64>() {
        if let Some(time) = DateTime::from_timestamp(seconds, 0) {
            return Ok(time);
        }
    }
    Err(())
}

/// The recorded `down` statements as stored: a JSON list of strings.
pub(crate) fn encode_down(statements: &[&str]) -> String {
    serde_json::to_string(statements).unwrap_or_else(|_| String::from("[]"))
}

pub(crate) fn decode_down(text: &str) -> Option<Vec<String>> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, &str)]) -> Vec<ExistingColumn> {
        spec.iter()
            .map(|(name, data_type)| ExistingColumn {
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
            ("execution_ms", "double precision"),
            ("success", "boolean"),
            ("down_sql", "text"),
            ("list_fingerprint", "character varying"),
        ]);
        assert_eq!(classify(&current), Ok(Shape::Current));
        let classic = cols(&[
            ("version", "INTEGER"),
            ("description", "TEXT"),
            ("applied_at", "TIMESTAMP"),
        ]);
        let shape = classify(&classic).unwrap();
        assert_eq!(
            shape,
            Shape::Older {
                missing: vec![
                    "checksum",
                    "execution_ms",
                    "success",
                    "down_sql",
                    "list_fingerprint"
                ]
            }
        );
        assert!(shape.checksums_predate_this_tool());
        // An earlier release's table: everything but the recorded downs and
        // the list fingerprint.
        let previous = cols(
            &current[..6]
                .iter()
                .map(|c| (c.name.as_str(), c.data_type.as_str()))
                .collect::<Vec<_>>(),
        );
        let shape = classify(&previous).unwrap();
        assert_eq!(
            shape,
            Shape::Older {
                missing: vec!["down_sql", "list_fingerprint"]
            }
        );
        assert!(!shape.checksums_predate_this_tool());
    }

    #[test]
    fn refuses_foreign_tables() {
        let diesel_like = cols(&[("version", "character varying"), ("run_on", "timestamp")]);
        assert_eq!(
            classify(&diesel_like),
            Err("its `version` column is character varying, not an integer (written by another tool?)".into())
        );
        let goose_like = cols(&[("id", "integer"), ("version_id", "bigint")]);
        assert_eq!(
            classify(&goose_like),
            Err("it has no `version` column".into())
        );
        let sqlx_like = cols(&[
            ("version", "bigint"),
            ("description", "text"),
            ("installed_on", "timestamp with time zone"),
            ("checksum", "bytea"),
        ]);
        assert_eq!(
            classify(&sqlx_like),
            Err("its `checksum` column is bytea, which this tool cannot use".into())
        );
    }

    #[test]
    fn reads_times_written_by_anyone() {
        let expected = Utc.with_ymd_and_hms(2026, 11, 21, 6, 38, 0).unwrap();
        for text in [
            "2026-11-21 06:38:00",
            "2026-11-21 06:38:00.000000",
            "2026-11-21T06:38:00",
            "2026-11-21T06:38:00Z",
            "2026-11-21 06:38:00+00",
            "2026-11-21 07:38:00+01:00",
            "1795243080",
        ] {
            assert_eq!(parse_applied_at(text), Ok(expected), "{text}");
        }
        assert_eq!(parse_applied_at("yesterday"), Err(()));
    }

    #[test]
    fn down_statements_round_trip() {
        let stored = encode_down(&["DROP TABLE t", "it's \"quoted\"\n"]);
        assert_eq!(
            decode_down(&stored),
            Some(vec![
                "DROP TABLE t".to_string(),
                "it's \"quoted\"\n".to_string()
            ])
        );
        assert_eq!(decode_down("not json"), None);
    }
}
