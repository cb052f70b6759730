//! Static checks of migrations for what hurts a live database: long locks,
//! table rewrites, statements that fail once a table has rows, changes that
//! break the running application. No database is connected.
//!
//! A file-based linter guesses at context this crate knows exactly: the
//! backend, each migration's `transaction` mode, which tables the migration
//! itself created (empty, so index and constraint rules are silent for them;
//! a table created by an earlier migration may hold data), and the rules a
//! migration deliberately breaks (`allow`). Only `sql` is checked, not `down`.
//!
//! PostgreSQL is read by squawk's parser and checked by squawk's rules,
//! mapped onto [`Lint`]; MySQL and SQLite are read by sqlparser. A statement
//! a parser cannot read is reported as not checked, never as a finding.
//!
//! ```
//! use versioned_migrations::{lint, Dialect, Lint, Migration};
//!
//! const MIGRATIONS: &[Migration] = &[
//!     Migration {
//!         version: 1,
//!         description: "Create users",
//!         sql: &["CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT)",
//!                "CREATE INDEX users_email ON users (email)"],
//!         ..Migration::DEFAULT
//!     },
//!     Migration {
//!         version: 2,
//!         description: "Index e-mail addresses",
//!         sql: &["CREATE UNIQUE INDEX CONCURRENTLY users_email_u ON users (email)"],
//!         transaction: false,
//!         ..Migration::DEFAULT
//!     },
//! ];
//! let report = lint::lint(MIGRATIONS, Dialect::Postgres, None);
//! assert!(report.findings.is_empty(), "{report}");
//! ```

mod depth;
mod engine;
mod hazard;
mod postgres;
mod render;
mod scan;
mod sql;

use serde::Serialize;

pub use crate::lint_rule::{Lint, Severity, UnknownLint};
use crate::{Dialect, Migration};

/// Checks `migrations` for `backend`; with `since: Some(n)` only versions
/// above `n` (the ones not yet applied anywhere that matters).
pub fn lint(migrations: &[Migration], backend: Dialect, since: Option<i64>) -> LintReport {
    engine::run(migrations, backend, since)
}

/// What [`lint`] found. `Display` renders it for people; `Serialize` gives
/// the `--json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// The database the migrations were checked for.
    pub backend: Dialect,
    /// Migrations looked at (after `since`).
    pub checked: usize,
    /// In migration order, then statement order.
    pub findings: Vec<Finding>,
    /// Statements no parser could read: not checked, and not a finding.
    pub not_checked: Vec<NotChecked>,
}

impl LintReport {
    /// No findings (statements not checked do not count).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Findings of [`Severity::Error`].
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Findings of [`Severity::Warning`].
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// One hazard in one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule it breaks (`rule` in JSON: its snake_case id).
    pub rule: Lint,
    /// The rule's severity.
    pub severity: Severity,
    /// The migration's version.
    pub version: i64,
    /// The migration's description.
    pub description: String,
    /// 1-based index into the migration's `sql`, as in every error message.
    pub statement_index: usize,
    /// The statement, shortened to one line.
    pub statement: String,
    /// What goes wrong in production: which lock, for how long, what waits.
    pub message: String,
    /// The safe form to write instead.
    pub advice: String,
}

/// An `sql` entry the parser could not read, so no rule looked at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// The migration's version.
    pub version: i64,
    /// The migration's description.
    pub description: String,
    /// 1-based index into the migration's `sql`.
    pub statement_index: usize,
    /// The entry, shortened to one line.
    pub statement: String,
    /// The parser's message.
    pub reason: String,
}
