//! The `Migration` struct users write in `migrations.rs`.

use crate::lint_rule::Lint;

/// The SQL `migrate new` writes when none is given. It would run anywhere,
/// so `apply` refuses a pending migration that still holds it.
pub const PLACEHOLDER_SQL: &str = "SELECT 1 -- TODO: replace with this migration's SQL";

use crate::code::Code;

/// One schema migration, declared in code.
///
/// ```
/// use versioned_migrations::Migration;
///
/// pub const MIGRATIONS: &[Migration] = &[Migration {
///     version: 1,
///     description: "Create users table",
///     sql: &["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"],
///     ..Migration::DEFAULT
/// }];
/// const _: () = versioned_migrations::validate(MIGRATIONS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Positive, strictly increasing down the list.
    pub version: i64,
    /// What the migration does, shown in `status` and `history`.
    pub description: &'static str,
    /// Statements run in order. Each entry is sent to the database as written
    /// (never split), so it may hold several statements or a `$$` function body.
    pub sql: &'static [&'static str],
    /// Statements that undo `sql`; empty means the migration is irreversible.
    pub down: &'static [&'static str],
    /// Run `sql` and the tracking row in one transaction (where the database
    /// allows). Set to `false` for statements a database refuses inside a
    /// transaction, such as PostgreSQL's `CREATE INDEX CONCURRENTLY`; such a
    /// migration is recorded as dirty before it runs and marked done after.
    pub transaction: bool,
    /// A Rust step run after `sql` (and, with its `down`, before the `down`
    /// statements on rollback), in the same transaction where the migration
    /// is transactional. An entry may be code only (`sql: &[]`).
    pub code: Option<Code>,
    /// Lint rules this migration breaks on purpose, reviewed like any other
    /// change: `migrate lint` stays silent about exactly these for it. Not
    /// part of the checksum, so allowing a rule on an applied migration is
    /// not an edit.
    pub allow: &'static [Lint],
}

impl Migration {
    /// Fills the fields a struct literal omits: `..Migration::DEFAULT`.
    pub const DEFAULT: Migration = Migration {
        version: 0,
        description: "",
        sql: &[],
        down: &[],
        transaction: true,
        code: None,
        allow: &[],
    };

    /// Whether `rollback` can undo this migration: it has `down` statements
    /// or a code step with a `down` (a code step without one is skipped on
    /// rollback).
    pub fn is_reversible(&self) -> bool {
        !self.down.is_empty() || self.code.is_some_and(|code| code.down.is_some())
    }

    /// The checksum recorded when the migration is applied, used to detect a
    /// migration edited after it ran: of its `sql` (see [`crate::checksum()`])
    /// and, with a code step, of the step's name and revision.
    pub fn checksum(&self) -> String {
        match &self.code {
            None => crate::checksum::checksum(self.sql),
            Some(code) => crate::checksum::checksum_with_code(self.sql, code.name, code.revision),
        }
    }

    /// Whether its SQL is still what `migrate new` wrote as a placeholder.
    pub fn is_placeholder(&self) -> bool {
        self.sql.iter().any(|sql| sql.trim() == PLACEHOLDER_SQL)
    }

    /// Whether a SQLite migration turns foreign-key enforcement off
    /// (`PRAGMA foreign_keys = OFF`, as SQLite's table-rebuild procedure
    /// does). Inside a transaction that pragma does nothing, so the runner
    /// turns enforcement off around the transaction instead and checks the
    /// references before it commits.
    pub(crate) fn disables_foreign_keys(&self) -> bool {
        disables_foreign_keys(self.sql)
    }
}

/// Whether any of `statements` is `PRAGMA foreign_keys = OFF` (see
/// [`Migration::disables_foreign_keys`]).
pub(crate) fn disables_foreign_keys(statements: &[&str]) -> bool {
    statements.iter().any(|sql| is_foreign_keys_off(sql))
}

/// `PRAGMA foreign_keys = OFF` (or `0`, `false`, `no`), any case and spacing,
/// with or without a `;`, alone in its string.
fn is_foreign_keys_off(sql: &str) -> bool {
    let words: String = sql
        .trim()
        .trim_end_matches(';')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let Some(value) = words.strip_prefix("pragmaforeign_keys=") else {
        return false;
    };
    matches!(
        value.trim_matches(|c| c == '\'' || c == '"'),
        "off" | "0" | "false" | "no"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_foreign_keys_off() {
        for yes in [
            "PRAGMA foreign_keys=OFF",
            "pragma foreign_keys = off;",
            "PRAGMA foreign_keys = 0",
            " PRAGMA Foreign_Keys='no' ",
        ] {
            assert!(is_foreign_keys_off(yes), "{yes}");
        }
        for no in [
            "PRAGMA foreign_keys=ON",
            "PRAGMA foreign_key_check",
            "SELECT 'PRAGMA foreign_keys=OFF'",
        ] {
            assert!(!is_foreign_keys_off(no), "{no}");
        }
    }

    #[test]
    fn placeholder_is_recognised() {
        let m = Migration {
            version: 1,
            description: "d",
            sql: &[PLACEHOLDER_SQL],
            ..Migration::DEFAULT
        };
        assert!(m.is_placeholder());
        assert!(!Migration {
            sql: &["SELECT 1"],
            ..m
        }
        .is_placeholder());
    }
}
