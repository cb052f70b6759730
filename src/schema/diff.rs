//! Comparing two schema models: every object missing, extra or different,
//! with the detail of what differs.

use serde::Serialize;

use super::model::{Definition, Schema, Table};
use super::text::{column_text, foreign_key_text, index_text};

/// How an object differs between the expected schema (what the migrations
/// produce) and the actual one (the database's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Expected, not in the database.
    Missing,
    /// In the database, not expected.
    Extra,
    /// In both, defined differently.
    Different,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SchemaChange {
    /// Missing, extra or different.
    pub kind: ChangeKind,
    /// What sort of object: `table`, `column`, `primary key`, `unique`,
    /// `foreign key`, `check`, `index`, `view`, `sequence`, `type`,
    /// `function`, `trigger`.
    pub object: &'static str,
    /// Its name (`table.column` for a column, `table.name` for the parts of
    /// a table).
    pub name: String,
    /// The expected definition, when there is one.
    pub expected: Option<String>,
    /// The actual definition, when there is one.
    pub actual: Option<String>,
}

impl std::fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ChangeKind::Missing => write!(f, "missing {} {}", self.object, self.name)?,
            ChangeKind::Extra => write!(f, "extra {} {}", self.object, self.name)?,
            ChangeKind::Different => write!(f, "different {} {}", self.object, self.name)?,
        }
        match (&self.expected, &self.actual, self.kind) {
            (Some(e), Some(a), _) => write!(f, "\n    expected: {e}\n    found:    {a}"),
            (Some(e), None, _) => write!(f, "\n    expected: {e}"),
            (None, Some(a), _) => write!(f, "\n    found:    {a}"),
            (None, None, _) => Ok(()),
        }
    }
}

/// Every difference between `expected` and `actual`, tables first, in name
/// order. Empty when they are the same schema.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<SchemaChange> {
    let mut changes = Vec::new();
    let mut out = |kind, object, name: String, expected: Option<String>, actual: Option<String>| {
        changes.push(SchemaChange {
            kind,
            object,
            name,
            expected,
            actual,
        })
    };
    for (name, e, a) in pair(&expected.tables, &actual.tables, |t| &t.name) {
        match (e, a) {
            (Some(e), Some(a)) => table_diff(e, a, &mut out),
            (Some(e), None) => out(ChangeKind::Missing, "table", name, Some(summary(e)), None),
            (None, Some(a)) => out(ChangeKind::Extra, "table", name, None, Some(summary(a))),
            (None, None) => {}
        }
    }
    let groups: [(&'static str, &[Definition], &[Definition]); 5] = [
        ("type", &expected.types, &actual.types),
        ("sequence", &expected.sequences, &actual.sequences),
        ("view", &expected.views, &actual.views),
        ("function", &expected.functions, &actual.functions),
        ("trigger", &expected.triggers, &actual.triggers),
    ];
    for (object, e, a) in groups {
        for (name, e, a) in pair(e, a, |d| &d.name) {
            compare(
                &mut out,
                object,
                name,
                e.map(|d| d.definition.clone()),
                a.map(|d| d.definition.clone()),
            );
        }
    }
    changes
}

type Out<'a> = dyn FnMut(ChangeKind, &'static str, String, Option<String>, Option<String>) + 'a;

fn compare(
    out: &mut Out<'_>,
    object: &'static str,
    name: String,
    expected: Option<String>,
    actual: Option<String>,
) {
    match (&expected, &actual) {
        (Some(e), Some(a)) if e == a => {}
        (Some(_), Some(_)) => out(ChangeKind::Different, object, name, expected, actual),
        (Some(_), None) => out(ChangeKind::Missing, object, name, expected, None),
        (None, Some(_)) => out(ChangeKind::Extra, object, name, None, actual),
        (None, None) => {}
    }
}

fn table_diff(expected: &Table, actual: &Table, out: &mut Out<'_>) {
    let table = &expected.name;
    let qualified = |name: &str| format!("{table}.{name}");
    for (name, e, a) in pair(&expected.columns, &actual.columns, |c| &c.name) {
        compare(
            out,
            "column",
            qualified(&name),
            e.map(column_text),
            a.map(column_text),
        );
    }
    let expected_order: Vec<&str> = expected.columns.iter().map(|c| c.name.as_str()).collect();
    let actual_order: Vec<&str> = actual.columns.iter().map(|c| c.name.as_str()).collect();
    let same_set = {
        let mut e = expected_order.clone();
        let mut a = actual_order.clone();
        e.sort_unstable();
        a.sort_unstable();
        e == a
    };
    if same_set && expected_order != actual_order {
        out(
            ChangeKind::Different,
            "column order",
            table.clone(),
            Some(expected_order.join(", ")),
            Some(actual_order.join(", ")),
        );
    }
    let key = |k: &super::model::Key| k.columns.join(", ");
    compare(
        out,
        "primary key",
        table.clone(),
        expected.primary_key.as_ref().map(key),
        actual.primary_key.as_ref().map(key),
    );
    for (name, e, a) in pair(&expected.unique, &actual.unique, |k| &k.name) {
        compare(out, "unique", qualified(&name), e.map(key), a.map(key));
    }
    for (name, e, a) in pair(&expected.foreign_keys, &actual.foreign_keys, |k| &k.name) {
        compare(
            out,
            "foreign key",
            qualified(&name),
            e.map(foreign_key_text),
            a.map(foreign_key_text),
        );
    }
    // Unnamed checks (SQLite) are known by their text.
    let check_id = |c: &super::model::Check| match c.name.is_empty() {
        true => c.expression.clone(),
        false => c.name.clone(),
    };
    let e_checks: Vec<(String, String)> = expected
        .checks
        .iter()
        .map(|c| (check_id(c), c.expression.clone()))
        .collect();
    let a_checks: Vec<(String, String)> = actual
        .checks
        .iter()
        .map(|c| (check_id(c), c.expression.clone()))
        .collect();
    for (name, e, a) in pair(&e_checks, &a_checks, |c| &c.0) {
        compare(
            out,
            "check",
            qualified(&name),
            e.map(|c| c.1.clone()),
            a.map(|c| c.1.clone()),
        );
    }
    for (name, e, a) in pair(&expected.indexes, &actual.indexes, |i| &i.name) {
        compare(
            out,
            "index",
            name,
            e.map(|i| index_text(table, i)),
            a.map(|i| index_text(table, i)),
        );
    }
}

fn summary(table: &Table) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    format!("({})", columns.join(", "))
}

/// The union of two name-sorted-or-not lists, matched by name, in name order.
fn pair<'a, T>(
    expected: &'a [T],
    actual: &'a [T],
    name: impl Fn(&T) -> &String,
) -> Vec<(String, Option<&'a T>, Option<&'a T>)> {
    let mut names: Vec<&String> = expected.iter().chain(actual).map(&name).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            (
                n.clone(),
                expected.iter().find(|x| name(x) == n),
                actual.iter().find(|x| name(x) == n),
            )
        })
        .collect()
}
