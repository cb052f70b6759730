//! Reading the schema model from a live connection: the dialect's four
//! catalog queries, assembled the same way for every backend.

use std::collections::BTreeMap;

use super::model::{Check, Column, Definition, ForeignKey, Index, Key, Schema, Table};
use super::normalize::{collapse, sqlite_checks, sqlite_index_parts, strip_outer_parens};
use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::table::TableName;

type Row = Vec<Option<String>>;

/// [`read_schema_in`] in a snapshot of its own where the backend has them.
pub(crate) fn read_schema(
    conn: &mut dyn MigrationConnection,
    tracking: &TableName,
) -> Result<Schema> {
    in_snapshot(conn, |conn| read_schema_in(conn, tracking))
}

/// Runs `read` in one read-only snapshot where the backend has them (see
/// `Dialect::snapshot_begin`), so what it reads belongs to one moment.
pub(crate) fn in_snapshot<T>(
    conn: &mut dyn MigrationConnection,
    read: impl FnOnce(&mut dyn MigrationConnection) -> Result<T>,
) -> Result<T> {
    let dialect = conn.dialect();
    let snapshot = dialect.snapshot_begin();
    if let Some(begin) = snapshot {
        conn.batch_execute(begin)
            .map_err(|e| catalog_error(e, "a read snapshot"))?;
    }
    let result = read(conn);
    if snapshot.is_some() {
        // Nothing was written; ending it cannot lose anything.
        let _ = conn.batch_execute(dialect.snapshot_end());
    }
    result
}

/// The schema `conn` holds, `tracking` left out: four catalog queries (five
/// on MySQL, which is first asked whether it is MariaDB).
pub(crate) fn read_schema_in(
    conn: &mut dyn MigrationConnection,
    tracking: &TableName,
) -> Result<Schema> {
    let dialect = conn.dialect();
    let mariadb = match dialect.server_version_query() {
        Some(sql) => conn
            .scalar_text(sql)
            .map_err(|e| catalog_error(e, "the server's version"))?
            .is_some_and(|v| v.contains("MariaDB")),
        None => false,
    };
    let queries = dialect.catalog_queries(tracking, mariadb);
    let mut load = |sql: &str, what: &'static str| {
        conn.load_text_rows(sql).map_err(|e| catalog_error(e, what))
    };
    let columns = load(&queries.columns, "columns")?;
    let keys = load(&queries.keys, "keys and constraints")?;
    let indexes = load(&queries.indexes, "indexes")?;
    let objects = load(&queries.objects, "views, functions and triggers")?;
    Ok(assemble(dialect, columns, keys, indexes, objects))
}

fn catalog_error(error: diesel::result::Error, what: &'static str) -> Error {
    Error::Catalog {
        what,
        message: error.to_string(),
    }
}

fn text(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn opt(row: &Row, i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

fn truthy(value: &str) -> bool {
    matches!(value, "1" | "t" | "true" | "TRUE")
}

fn position(row: &Row, i: usize) -> i64 {
    text(row, i).parse().unwrap_or(0)
}

fn assemble(
    dialect: Dialect,
    columns: Vec<Row>,
    keys: Vec<Row>,
    indexes: Vec<Row>,
    objects: Vec<Row>,
) -> Schema {
    let mut schema = Schema::empty(backend_name(dialect));
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in &columns {
        let table = tables.entry(text(row, 0)).or_insert_with(|| Table {
            name: text(row, 0),
            ..Table::default()
        });
        table.columns.push(Column {
            name: text(row, 1),
            data_type: text(row, 3),
            nullable: truthy(&text(row, 4)),
            default: opt(row, 5),
            extra: opt(row, 6),
        });
    }
    add_keys(&mut tables, &keys);
    add_indexes(&mut tables, &indexes);
    for row in &objects {
        let definition = Definition {
            name: text(row, 1),
            definition: collapse(&text(row, 2)),
        };
        match text(row, 0).as_str() {
            "view" => schema.views.push(definition),
            "sequence" => schema.sequences.push(definition),
            "type" => schema.types.push(definition),
            "function" => schema.functions.push(definition),
            "trigger" => schema.triggers.push(definition),
            "table_sql" => {
                if let Some(table) = tables.get_mut(&definition.name) {
                    table.checks = sqlite_checks(&text(row, 2))
                        .into_iter()
                        .map(|(name, expression)| Check { name, expression })
                        .collect();
                }
            }
            _ => {}
        }
    }
    // MySQL lists a view's columns with the tables'.
    for view in &schema.views {
        tables.remove(&view.name);
    }
    schema.tables = tables.into_values().collect();
    schema.sort();
    schema
}

fn backend_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
    }
}

/// Rows are ordered by table, name and position, so each key's columns
/// arrive together and in order.
fn add_keys(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    let mut positions: BTreeMap<(String, String, String), Vec<(i64, Row)>> = BTreeMap::new();
    for row in rows {
        positions
            .entry((text(row, 0), text(row, 1), text(row, 2)))
            .or_default()
            .push((position(row, 3), row.clone()));
    }
    // MySQL sends a foreign key's actions in a row of their own (kind `r`).
    let mut actions: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for ((table, kind, name), parts) in &positions {
        if kind == "r" {
            let row = &parts[0].1;
            actions.insert((table.clone(), name.clone()), (text(row, 7), text(row, 8)));
        }
    }
    for ((table_name, kind, name), mut parts) in positions {
        let Some(table) = tables.get_mut(&table_name) else {
            continue;
        };
        let (on_update, on_delete) = actions
            .get(&(table_name.clone(), name.clone()))
            .cloned()
            .unwrap_or_else(|| (text(&parts[0].1, 7), text(&parts[0].1, 8)));
        parts.sort_by_key(|(at, _)| *at);
        let columns: Vec<String> = parts.iter().map(|(_, r)| text(r, 4)).collect();
        let first = &parts[0].1;
        match kind.as_str() {
            "p" => table.primary_key = Some(Key { name, columns }),
            "u" => table.unique.push(Key { name, columns }),
            "f" => {
                let referenced: Vec<String> = parts.iter().filter_map(|(_, r)| opt(r, 6)).collect();
                // SQLite keeps no constraint names: name it by its columns.
                let name = match name.strip_prefix('#') {
                    Some(_) => format!("fk({})", columns.join(", ")),
                    None => name,
                };
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    references: text(first, 5),
                    referenced_columns: referenced,
                    on_update: on_update.to_uppercase(),
                    on_delete: on_delete.to_uppercase(),
                });
            }
            "c" => {
                let clause = collapse(&text(first, 9));
                let inner = clause.strip_prefix("CHECK").unwrap_or(&clause);
                let expression = strip_outer_parens(inner).to_string();
                table.checks.push(Check { name, expression });
            }
            _ => {}
        }
    }
}

fn add_indexes(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    let mut by_index: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_index
            .entry((text(row, 0), text(row, 1)))
            .or_default()
            .push(row);
    }
    for ((table_name, name), mut parts) in by_index {
        let Some(table) = tables.get_mut(&table_name) else {
            continue;
        };
        parts.sort_by_key(|r| position(r, 3));
        let first = parts[0];
        let (columns, predicate) = match opt(first, 7) {
            Some(create) => sqlite_index_parts(&create),
            None => (
                parts.iter().map(|r| collapse(&text(r, 4))).collect(),
                opt(first, 6).map(|p| collapse(&p)),
            ),
        };
        table.indexes.push(Index {
            name,
            unique: truthy(&text(first, 2)),
            columns,
            method: opt(first, 5).map(|m| m.to_lowercase()),
            predicate,
        });
    }
}
