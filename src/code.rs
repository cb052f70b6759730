//! Migrations that are code: a Rust step beside (or instead of) a
//! migration's SQL, for data changes SQL expresses badly (re-encoding a
//! column, splitting a name, a backfill computed by the application's own
//! logic). The step runs after the SQL, in the same transaction where the
//! migration is transactional, so SQL, code and tracking row commit together
//! or not at all.

use std::time::Instant;

use crate::connection::{DieselConnection, MigrationConnection};
use crate::dialect::{Bind, Dialect, Sql};
use crate::observer::{Observer, StepInfo};

/// What a code step returns on failure: any error, so `?` works on all of
/// them.
pub type CodeError = Box<dyn std::error::Error + Send + Sync>;

/// The function of a code step.
pub type CodeFn = fn(&mut Db<'_>) -> Result<(), CodeError>;

/// A Rust step of a migration.
///
/// Compiled code cannot be hashed, so the checksum covers `name` and
/// `revision`: bump `revision` when the function's behaviour changes (that
/// is an edit of an applied migration, reported as such). Renaming the Rust
/// function alone is not an edit.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// Shown by dry runs, `show` and `status`.
    pub name: &'static str,
    /// Part of the checksum: bump it when `up` changes what it does.
    pub revision: u32,
    /// Runs after the migration's `sql`.
    pub up: CodeFn,
    /// Runs before the migration's `down` statements on rollback; `None`
    /// skips the step (the migration is irreversible if it has no `down`
    /// statements either).
    pub down: Option<CodeFn>,
}

impl Code {
    /// `name (revision N)`, as dry runs, `show` and `status` name it.
    pub fn label(&self) -> String {
        format!("{} (revision {})", self.name, self.revision)
    }
}

impl PartialEq for Code {
    /// Code steps are the same step when their name and revision are: what
    /// the checksum records (function addresses are not stable).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.revision == other.revision
    }
}

impl Eq for Code {}

/// A value bound to a placeholder of [`Db::execute_with`] / [`Db::query_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
    /// SQL NULL (typed as text).
    Null,
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_string())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

fn bind(value: &Value) -> Bind {
    match value {
        Value::Int(v) => Bind::I64(*v),
        Value::Text(v) => Bind::Text(v.clone()),
        Value::Null => Bind::OptText(None),
    }
}

/// The database as a code step sees it: the migration's own connection,
/// inside its transaction where it has one. Do not open or end
/// transactions here: the runner owns them and begins them outside diesel's
/// transaction manager, so diesel's `transaction()` would send a `BEGIN` of
/// its own (an error on SQLite, an early commit of the runner's transaction
/// on PostgreSQL and MySQL).
pub struct Db<'a> {
    conn: &'a mut dyn MigrationConnection,
    observer: &'a mut dyn Observer,
    step: StepInfo<'a>,
}

impl<'a> Db<'a> {
    pub(crate) fn new(
        conn: &'a mut dyn MigrationConnection,
        observer: &'a mut dyn Observer,
        step: StepInfo<'a>,
    ) -> Self {
        Db {
            conn,
            observer,
            step,
        }
    }

    /// The backend, to choose SQL and placeholders by.
    pub fn backend(&self) -> Dialect {
        self.conn.dialect()
    }

    /// Placeholder number `n` (1-based) in this backend's form: `$1` on
    /// PostgreSQL, `?` elsewhere.
    pub fn placeholder(&self, n: usize) -> String {
        self.backend().placeholder(n)
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str) -> Result<usize, CodeError> {
        self.execute_with(sql, &[])
    }

    /// Runs one statement with bound values (placeholders: see
    /// [`Db::placeholder`]); the number of rows it changed.
    pub fn execute_with(&mut self, sql: &str, params: &[Value]) -> Result<usize, CodeError> {
        let sql = Sql::new(sql.to_string(), params.iter().map(bind).collect());
        Ok(self.conn.execute(&sql)?)
    }

    fn rows(&mut self, sql: Sql) -> Result<Vec<Vec<Option<String>>>, CodeError> {
        Ok(match sql.binds.is_empty() {
            true => self.conn.load_text_rows(&sql.text)?,
            false => self.conn.load_text_rows_with(&sql)?,
        })
    }

    /// Runs a query (`SELECT`, or `WITH … SELECT`); every row, every column
    /// as text (`None` for NULL; booleans `true` / `false` on PostgreSQL).
    pub fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, CodeError> {
        self.query_with(sql, &[])
    }

    /// [`Db::query`] with bound values.
    pub fn query_with(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Option<String>>>, CodeError> {
        let binds: Vec<Bind> = params.iter().map(bind).collect();
        let dialect = self.backend();
        match dialect.query_as_json(sql) {
            // PostgreSQL sends values in binary, one encoding per type: the
            // server renders each row as JSON text instead.
            Some(wrapped) => {
                let rows = self.rows(Sql::new(wrapped, binds))?;
                rows.into_iter()
                    .map(|row| {
                        json_row(row.into_iter().next().flatten().as_deref().unwrap_or("{}"))
                    })
                    .collect()
            }
            None => self.rows(Sql::new(sql.to_string(), binds)),
        }
    }

    /// Repeats `batch` until it reports 0 rows, the way a large backfill is
    /// written (`UPDATE … WHERE id IN (SELECT id … WHERE new IS NULL LIMIT
    /// 1000)`), reporting the running total to the progress display; the
    /// total. Every batch is in the migration's one transaction: for a
    /// backfill too large for one, give it a migration of its own with
    /// `transaction: false`, where each batch commits by itself.
    pub fn in_batches(
        &mut self,
        mut batch: impl FnMut(&mut Db<'_>) -> Result<usize, CodeError>,
    ) -> Result<u64, CodeError> {
        let started = Instant::now();
        let mut total = 0u64;
        loop {
            let rows = batch(self)?;
            if rows == 0 {
                return Ok(total);
            }
            total += rows as u64;
            self.observer
                .code_progress(&self.step, total, started.elapsed());
        }
    }

    /// The diesel connection itself, for diesel's query builder with the
    /// application's `table!` definitions (frozen for this migration).
    pub fn diesel(&mut self) -> DieselConnection<'_> {
        self.conn.diesel()
    }
}

/// A JSON object's values, in the order the server wrote its keys.
fn json_row(text: &str) -> Result<Vec<Option<String>>, CodeError> {
    struct Ordered(Vec<Option<String>>);
    impl<'de> serde::Deserialize<'de> for Ordered {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a row as a JSON object")
                }
                fn visit_map<M: serde::de::MapAccess<'de>>(
                    self,
                    mut map: M,
                ) -> Result<Ordered, M::Error> {
                    let mut values = Vec::new();
                    while let Some((_, value)) = map.next_entry::<String, serde_json::Value>()? {
                        values.push(match value {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(text) => Some(text),
                            other => Some(other.to_string()),
                        });
                    }
                    Ok(Ordered(values))
                }
            }
            deserializer.deserialize_map(Visit)
        }
    }
    Ok(serde_json::from_str::<Ordered>(text)?.0)
}

/// Runs a code step, catching its error and any panic (neither may leave
/// the transaction open or reach the user as a crash); the message names
/// the step.
pub(crate) fn run_caught(mut db: Db<'_>, name: &str, function: CodeFn) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| function(&mut db))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("code step {name} failed: {error}")),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| String::from("(no message)"));
            Err(format!("code step {name} panicked: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows_keep_the_column_order() {
        assert_eq!(
            json_row(r#"{"z": 1, "a": "x", "m": null, "b": true, "j": {"k": 2}}"#).unwrap(),
            [
                Some("1".into()),
                Some("x".into()),
                None,
                Some("true".into()),
                Some(r#"{"k":2}"#.into())
            ]
        );
    }

    #[test]
    fn steps_compare_by_name_and_revision() {
        fn one(_: &mut Db<'_>) -> Result<(), CodeError> {
            Ok(())
        }
        fn two(_: &mut Db<'_>) -> Result<(), CodeError> {
            Err("no".into())
        }
        let a = Code {
            name: "backfill",
            revision: 1,
            up: one,
            down: None,
        };
        let renamed = Code { up: two, ..a };
        assert_eq!(a, renamed, "the function itself is not compared");
        assert_ne!(a, Code { revision: 2, ..a });
    }
}
