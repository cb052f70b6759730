//! The schema as deterministic, SQL-like text: what `migrate schema`
//! prints and what a project commits as `schema.sql`. The same model always
//! gives the same bytes.

use std::fmt::Write;

use super::model::{Column, Definition, ForeignKey, Index, Schema, Table};

impl Schema {
    /// The schema as text: tables (columns, keys, checks) and their
    /// indexes, then types, sequences, views, functions and triggers, each
    /// group sorted by name. Ends with a newline.
    pub fn to_text(&self) -> String {
        let mut out = format!("-- schema ({}), written by migrate schema\n", self.backend);
        for definition in &self.types {
            object(&mut out, "TYPE", definition);
        }
        for definition in &self.sequences {
            object(&mut out, "SEQUENCE", definition);
        }
        for table in &self.tables {
            out.push('\n');
            out.push_str(&table_text(table));
        }
        for definition in &self.views {
            object(&mut out, "VIEW", definition);
        }
        for definition in &self.functions {
            object(&mut out, "FUNCTION", definition);
        }
        for definition in &self.triggers {
            object(&mut out, "TRIGGER", definition);
        }
        out
    }
}

fn object(out: &mut String, kind: &str, definition: &Definition) {
    let _ = write!(
        out,
        "\n-- {kind} {}\n{};\n",
        definition.name, definition.definition
    );
}

pub(crate) fn column_text(column: &Column) -> String {
    let mut text = format!("{} {}", column.name, column.data_type);
    if let Some(extra) = &column.extra {
        let _ = write!(text, " {extra}");
    }
    if !column.nullable {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        let _ = write!(text, " DEFAULT {default}");
    }
    text.trim_end().to_string()
}

pub(crate) fn foreign_key_text(key: &ForeignKey) -> String {
    let mut text = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}",
        key.name,
        key.columns.join(", "),
        key.references
    );
    if !key.referenced_columns.is_empty() {
        let _ = write!(text, " ({})", key.referenced_columns.join(", "));
    }
    let _ = write!(
        text,
        " ON UPDATE {} ON DELETE {}",
        key.on_update, key.on_delete
    );
    text
}

pub(crate) fn index_text(table: &str, index: &Index) -> String {
    let unique = if index.unique { "UNIQUE " } else { "" };
    let mut text = format!("CREATE {unique}INDEX {} ON {table}", index.name);
    if let Some(method) = &index.method {
        let _ = write!(text, " USING {method}");
    }
    let _ = write!(text, " ({})", index.columns.join(", "));
    if let Some(predicate) = &index.predicate {
        let _ = write!(text, " WHERE {predicate}");
    }
    text
}

/// One table's lines: the CREATE TABLE, then its indexes.
pub(crate) fn table_text(table: &Table) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column_text).collect();
    if let Some(key) = &table.primary_key {
        let name = match key.name.is_empty() {
            true => String::new(),
            false => format!("CONSTRAINT {} ", key.name),
        };
        lines.push(format!("{name}PRIMARY KEY ({})", key.columns.join(", ")));
    }
    for key in &table.unique {
        lines.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            key.name,
            key.columns.join(", ")
        ));
    }
    for key in &table.foreign_keys {
        lines.push(foreign_key_text(key));
    }
    for check in &table.checks {
        let name = match check.name.is_empty() {
            true => String::new(),
            false => format!("CONSTRAINT {} ", check.name),
        };
        lines.push(format!("{name}CHECK ({})", check.expression));
    }
    let mut out = format!(
        "CREATE TABLE {} (\n  {}\n);\n",
        table.name,
        lines.join(",\n  ")
    );
    for index in &table.indexes {
        out.push_str(&index_text(&table.name, index));
        out.push_str(";\n");
    }
    out
}
