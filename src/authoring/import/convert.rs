//! Turning one SQL file's text into the statements of a migration.
//!
//! Files written for another tool carry that tool's habits: statements that
//! write its tracking table, explicit `BEGIN`/`COMMIT` around the file, and
//! markers that switch the transaction off. `migrate` keeps its own tracking
//! table and supplies the transaction, so the bookkeeping is dropped and the
//! markers become `transaction: false`, each with a notice naming the file.

use super::split::split_statements;
use super::tracking::{judge, Verdict};

/// The statements read from a text, and what was changed on the way.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Statements {
    pub(crate) statements: Vec<String>,
    pub(crate) notices: Vec<String>,
    /// Statements (`file: excerpt`) that create, change or write a table
    /// named like the runner's tracking table: the import must stop.
    pub(crate) conflicts: Vec<String>,
}

impl Statements {
    fn extend(&mut self, other: Statements) {
        self.statements.extend(other.statements);
        self.notices.extend(other.notices);
        self.conflicts.extend(other.conflicts);
    }
}

/// Splits `text` (from `file`) into statements, dropping tracking-table
/// bookkeeping and transaction control; `ours` is the runner's tracking
/// table. When the split is uncertain the whole text is kept as one batch,
/// with a notice saying why.
pub(crate) fn statements(text: &str, file: &str, ours: &str) -> Statements {
    let split = split_statements(text);
    let mut out = Statements::default();
    if let Some(reason) = split.reason {
        let whole = text.trim();
        if !whole.is_empty() {
            out.statements.push(whole.to_string());
        }
        out.notices
            .push(format!("{file}: kept as one batch: {reason}"));
        // The statements are a best effort here: still worth a look.
        for statement in &split.statements {
            match judge(statement, ours) {
                Verdict::Keep => {}
                Verdict::Drop(what) => out.notices.push(format!(
                    "{file}: check by hand, it seems to contain {what}: {}",
                    excerpt(statement)
                )),
                Verdict::TouchesTrackingTable => out
                    .conflicts
                    .push(format!("{file}: {}", excerpt(statement))),
            }
        }
        return out;
    }
    for statement in split.statements {
        keep_unless_unwanted(&mut out, statement, file, ours);
    }
    out
}

/// Adds `statement` to `out` unless it is bookkeeping or transaction control.
fn keep_unless_unwanted(out: &mut Statements, statement: String, file: &str, ours: &str) {
    match judge(&statement, ours) {
        Verdict::Keep => out.statements.push(statement),
        Verdict::Drop(what) => out
            .notices
            .push(format!("{file}: dropped {what}: {}", excerpt(&statement))),
        Verdict::TouchesTrackingTable => {
            out.conflicts
                .push(format!("{file}: {}", excerpt(&statement)));
            out.statements.push(statement);
        }
    }
}

/// The statement's first line, shortened, for a notice.
fn excerpt(statement: &str) -> String {
    let first = statement.lines().next().unwrap_or_default().trim();
    let mut text: String = first.chars().take(80).collect();
    if text.len() < first.len() || statement.lines().nth(1).is_some() {
        text.push_str(" …");
    }
    format!("`{text}`")
}

/// A migration read from one file that may hold both directions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FileMigration {
    pub(crate) up: Vec<String>,
    pub(crate) down: Vec<String>,
    pub(crate) transaction: bool,
    pub(crate) notices: Vec<String>,
    /// See [`Statements::conflicts`].
    pub(crate) conflicts: Vec<String>,
}

/// Reads a single-file migration (flat, sqlx, Flyway): goose
/// (`-- +goose Up`/`Down`) and dbmate (`-- migrate:up`/`down`) files hold both
/// directions, and running the down half as part of up would undo the
/// migration as it is applied, so their sections are honoured.
pub(crate) fn single_file(text: &str, file: &str, ours: &str) -> FileMigration {
    if let Some(goose) = goose(text, file, ours) {
        return goose;
    }
    if let Some(dbmate) = dbmate(text, file, ours) {
        return dbmate;
    }
    let read = statements(text, file, ours);
    let mut migration = FileMigration {
        up: read.statements,
        down: Vec::new(),
        transaction: true,
        notices: read.notices,
        conflicts: read.conflicts,
    };
    if sqlx_no_transaction(text) {
        migration.transaction = false;
        migration.notices.push(format!(
            "{file}: `-- no-transaction` marker: transaction: false"
        ));
    }
    migration
}

/// sqlx's marker: `-- no-transaction` as the file's first line.
pub(crate) fn sqlx_no_transaction(text: &str) -> bool {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|line| {
            let line = line.trim();
            line.strip_prefix("--")
                .is_some_and(|rest| rest.trim().eq_ignore_ascii_case("no-transaction"))
        })
}

/// A goose annotation line: `-- +goose Word …`, returned lower-cased.
fn goose_annotation(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?;
    Some(rest.trim().to_ascii_lowercase())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Before,
    Up,
    Down,
}

/// Reads a goose file, or `None` when it has no `-- +goose Up`.
fn goose(text: &str, file: &str, ours: &str) -> Option<FileMigration> {
    if !text
        .lines()
        .any(|line| goose_annotation(line).as_deref() == Some("up"))
    {
        return None;
    }
    let mut migration = FileMigration {
        transaction: true,
        ..FileMigration::default()
    };
    let mut up = Statements::default();
    let mut down = Statements::default();
    let mut section = Section::Before;
    // Plain text between annotations, and a StatementBegin block if open.
    let mut plain = String::new();
    let mut block: Option<String> = None;
    let flush =
        |section: Section, plain: &mut String, up: &mut Statements, down: &mut Statements| {
            let read = statements(plain, file, ours);
            match section {
                Section::Up => up.extend(read),
                Section::Down => down.extend(read),
                Section::Before => {}
            }
            plain.clear();
        };
    for line in text.split_inclusive('\n') {
        let Some(annotation) = goose_annotation(line) else {
            match &mut block {
                Some(block) => block.push_str(line),
                None => plain.push_str(line),
            }
            continue;
        };
        match annotation.as_str() {
            "up" | "down" => {
                flush(section, &mut plain, &mut up, &mut down);
                section = if annotation == "up" {
                    Section::Up
                } else {
                    Section::Down
                };
            }
            "statementbegin" => {
                flush(section, &mut plain, &mut up, &mut down);
                block = Some(String::new());
            }
            "statementend" => {
                if let Some(body) = block.take() {
                    let body = body.trim().trim_end_matches(';').trim_end().to_string();
                    if !body.is_empty() {
                        let target = if section == Section::Down {
                            &mut down
                        } else {
                            &mut up
                        };
                        keep_unless_unwanted(target, body, file, ours);
                    }
                }
            }
            "no transaction" => {
                migration.transaction = false;
                migration.notices.push(format!(
                    "{file}: `-- +goose NO TRANSACTION`: transaction: false"
                ));
            }
            other => {
                if other.starts_with("envsub") {
                    migration.notices.push(format!(
                        "{file}: goose ENVSUB is not supported: ${{VAR}} references are kept as written"
                    ));
                }
            }
        }
    }
    if let Some(body) = block.take() {
        // An unterminated StatementBegin: keep its text as one statement.
        migration.notices.push(format!(
            "{file}: `-- +goose StatementBegin` without StatementEnd; kept the rest as one statement"
        ));
        let target = if section == Section::Down {
            &mut down
        } else {
            &mut up
        };
        let body = body.trim().to_string();
        if !body.is_empty() {
            target.statements.push(body);
        }
    }
    flush(section, &mut plain, &mut up, &mut down);
    migration.notices.insert(
        0,
        format!("{file}: goose file: the `-- +goose Down` section became down"),
    );
    migration.up = up.statements;
    migration.down = down.statements;
    migration.notices.extend(up.notices);
    migration.notices.extend(down.notices);
    migration.conflicts.extend(up.conflicts);
    migration.conflicts.extend(down.conflicts);
    Some(migration)
}

/// Reads a dbmate file (`-- migrate:up` … `-- migrate:down` …), or `None`.
fn dbmate(text: &str, file: &str, ours: &str) -> Option<FileMigration> {
    let directive = |line: &str| -> Option<(Section, String)> {
        let rest = line.trim().strip_prefix("--")?.trim_start();
        let rest = rest.strip_prefix("migrate:")?;
        let (name, options) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let section = match name.to_ascii_lowercase().as_str() {
            "up" => Section::Up,
            "down" => Section::Down,
            _ => return None,
        };
        Some((section, options.trim().to_ascii_lowercase()))
    };
    if !text
        .lines()
        .any(|line| matches!(directive(line), Some((Section::Up, _))))
    {
        return None;
    }
    let mut migration = FileMigration {
        transaction: true,
        ..FileMigration::default()
    };
    let mut section = Section::Before;
    let mut up_text = String::new();
    let mut down_text = String::new();
    for line in text.split_inclusive('\n') {
        if let Some((next, options)) = directive(line) {
            section = next;
            if next == Section::Up && options.contains("transaction:false") {
                migration.transaction = false;
                migration.notices.push(format!(
                    "{file}: `-- migrate:up transaction:false`: transaction: false"
                ));
            }
            continue;
        }
        match section {
            Section::Up => up_text.push_str(line),
            Section::Down => down_text.push_str(line),
            Section::Before => {}
        }
    }
    migration.notices.insert(
        0,
        format!("{file}: dbmate file: the `-- migrate:down` section became down"),
    );
    let up = statements(&up_text, file, ours);
    let down = statements(&down_text, file, ours);
    migration.up = up.statements;
    migration.down = down.statements;
    migration.notices.extend(up.notices);
    migration.notices.extend(down.notices);
    migration.conflicts.extend(up.conflicts);
    migration.conflicts.extend(down.conflicts);
    Some(migration)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "schema_migrations";

    #[test]
    fn statements_on_the_tracking_table_are_conflicts() {
        let sql = "CREATE TABLE a (id INT);\nDROP TABLE IF EXISTS schema_migrations;\n";
        let read = statements(sql, "1_a/up.sql", OURS);
        assert_eq!(
            read.conflicts,
            ["1_a/up.sql: `DROP TABLE IF EXISTS schema_migrations`"]
        );
        let batch = "SELECT 'C:\\'; DROP TABLE schema_migrations;\n";
        assert_eq!(statements(batch, "b.sql", OURS).conflicts.len(), 1);
        let goose = "-- +goose Up\n-- +goose StatementBegin\nDELETE FROM schema_migrations;\n-- +goose StatementEnd\n";
        assert_eq!(single_file(goose, "1_g.sql", OURS).conflicts.len(), 1);
        assert!(statements(sql, "1_a/up.sql", "app_migrations")
            .conflicts
            .is_empty());
    }

    #[test]
    fn drops_with_notices_naming_the_file() {
        let sql = "BEGIN;\nCREATE TABLE a (id INT);\nINSERT INTO schema_migrations (version) VALUES ('1') ON CONFLICT DO NOTHING;\nCOMMIT;\n";
        let read = statements(sql, "001_a.sql", "app_migrations");
        assert_eq!(read.statements, ["CREATE TABLE a (id INT)"]);
        assert_eq!(read.notices.len(), 3);
        assert!(read
            .notices
            .iter()
            .all(|n| n.starts_with("001_a.sql: dropped ")));
        assert!(read.notices[1].contains("schema_migrations, the previous tool's tracking table"));
    }

    #[test]
    fn uncertain_text_is_one_batch() {
        let sql = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n";
        let read = statements(sql, "V1__p.sql", OURS);
        assert_eq!(read.statements, [sql.trim()]);
        assert!(read.notices[0].starts_with("V1__p.sql: kept as one batch: a MySQL DELIMITER"));
    }

    #[test]
    fn sqlx_marker() {
        let read = single_file(
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n",
            "1_i.sql",
            OURS,
        );
        assert!(!read.transaction);
        assert_eq!(read.up, ["CREATE INDEX CONCURRENTLY i ON t (a)"]);
        assert!(
            single_file(
                "CREATE TABLE t (a INT);\n-- no-transaction\n",
                "2_t.sql",
                OURS
            )
            .transaction
        );
    }

    #[test]
    fn goose_sections() {
        let text = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id INT);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\n-- +goose StatementEnd\nINSERT INTO goose_db_version (version_id, is_applied) VALUES (1, true);\n\n-- +goose Down\nDROP FUNCTION f;\nDROP TABLE a;\n";
        let read = single_file(text, "00001_a.sql", OURS);
        assert_eq!(
            read.up,
            [
                "CREATE TABLE a (id INT)",
                "CREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql"
            ]
        );
        assert_eq!(read.down, ["DROP FUNCTION f", "DROP TABLE a"]);
        assert!(!read.transaction);
        assert!(read.notices.iter().any(|n| n.contains("goose_db_version")));
    }

    #[test]
    fn dbmate_sections() {
        let text = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n";
        let read = single_file(text, "20240101_i.sql", OURS);
        assert_eq!(read.up, ["CREATE INDEX CONCURRENTLY i ON t (a)"]);
        assert_eq!(read.down, ["DROP INDEX i"]);
        assert!(!read.transaction);
    }
}
