//! Schema-per-tenant on PostgreSQL: the schemas of a database that are
//! targets of their own. Each is then migrated with
//! [`Migrator::in_schema`](crate::Migrator::in_schema).

use crate::connection::MigrationConnection;
use crate::error::{Error, Result};

/// The schemas of the connected PostgreSQL database whose names match the
/// SQL `LIKE` pattern (`tenant_%`; `\` escapes `_` and `%`), sorted by
/// name. System schemas (`pg_*`, `information_schema`) never match. Other
/// backends give [`Error::SchemasUnsupported`].
pub fn schemas_matching(conn: &mut dyn MigrationConnection, pattern: &str) -> Result<Vec<String>> {
    let dialect = conn.dialect();
    let Some(sql) = dialect.schemas_like(pattern) else {
        return Err(Error::SchemasUnsupported {
            backend: dialect.name(),
        });
    };
    let rows = conn
        .load_text_rows_with(&sql)
        .map_err(|e| Error::database(format!("listing the schemas matching `{pattern}`"), e))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}
