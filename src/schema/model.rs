//! The schema model: what a database holds, normalised so that the same
//! schema gives the same value whatever order it was built in (every list
//! sorted by name, columns in their table order, types as the catalog
//! spells them canonically, bodies with their whitespace collapsed).

use serde::{Deserialize, Serialize};

/// A database's schema, the tracking table left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schema {
    /// The backend it was read from (`sqlite`, `postgres`, `mysql`).
    pub backend: String,
    /// Tables, by name.
    pub tables: Vec<Table>,
    /// Views (and PostgreSQL materialised views), by name.
    pub views: Vec<Definition>,
    /// Sequences (PostgreSQL), by name.
    pub sequences: Vec<Definition>,
    /// Enum and other user types (PostgreSQL), by name.
    pub types: Vec<Definition>,
    /// Functions and procedures, by name and arguments.
    pub functions: Vec<Definition>,
    /// Triggers, by name.
    pub triggers: Vec<Definition>,
}

/// A table and everything that belongs to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Table {
    /// The table's name (schema-qualified outside the current schema).
    pub name: String,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// The primary key, if any.
    pub primary_key: Option<Key>,
    /// Unique constraints, by name.
    pub unique: Vec<Key>,
    /// Foreign keys, by name.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints, by name (SQLite: by their text).
    pub checks: Vec<Check>,
    /// Indexes that are not a key's own, by name.
    pub indexes: Vec<Index>,
}

/// One column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type, as the catalog spells it canonically (`integer`, not `int4`).
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default expression, if any.
    pub default: Option<String>,
    /// Identity, generation, auto-increment, collation: what else the
    /// catalog says about it.
    pub extra: Option<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Key {
    /// The constraint's name (SQLite's own for unnamed ones).
    pub name: String,
    /// Its columns, in key order.
    pub columns: Vec<String>,
}

/// A foreign key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ForeignKey {
    /// The constraint's name (numbered by position on SQLite, which keeps none).
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// The referenced columns (empty: the referenced table's primary key).
    pub referenced_columns: Vec<String>,
    /// `ON UPDATE` action, upper case (`NO ACTION`, `CASCADE`, …).
    pub on_update: String,
    /// `ON DELETE` action.
    pub on_delete: String,
}

/// A check constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Check {
    /// Its name, when it has one.
    pub name: String,
    /// The condition.
    pub expression: String,
}

/// An index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Whether it enforces uniqueness.
    pub unique: bool,
    /// Its key parts: column names or expressions, with any order or
    /// prefix length.
    pub columns: Vec<String>,
    /// The access method where the backend has several (`btree`, `gin`, …).
    pub method: Option<String>,
    /// A partial index's condition.
    pub predicate: Option<String>,
}

/// A view, sequence, type, function or trigger: a name and its normalised
/// definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Definition {
    /// Its name (functions: with their argument types; triggers: with their table).
    pub name: String,
    /// What it is, as normalised text.
    pub definition: String,
}

impl Schema {
    /// An empty schema read from `backend`.
    pub(crate) fn empty(backend: &str) -> Self {
        Schema {
            backend: backend.to_string(),
            ..Schema::default()
        }
    }

    /// Whether it holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.views.is_empty()
            && self.sequences.is_empty()
            && self.types.is_empty()
            && self.functions.is_empty()
            && self.triggers.is_empty()
    }

    /// What it holds, for people: `3 tables, 1 view` (empty when nothing).
    pub(crate) fn describe(&self) -> String {
        let counts = [
            (self.tables.len(), "table"),
            (self.views.len(), "view"),
            (self.sequences.len(), "sequence"),
            (self.types.len(), "type"),
            (self.functions.len(), "function"),
            (self.triggers.len(), "trigger"),
        ];
        counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Puts every list in its canonical order.
    pub(crate) fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.unique.sort_by(|a, b| a.name.cmp(&b.name));
            table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            table
                .checks
                .sort_by(|a, b| (&a.name, &a.expression).cmp(&(&b.name, &b.expression)));
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        for list in [
            &mut self.views,
            &mut self.sequences,
            &mut self.types,
            &mut self.functions,
            &mut self.triggers,
        ] {
            list.sort();
        }
    }

    /// The table called `name`, if there is one.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    /// The column called `name`, if there is one.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
