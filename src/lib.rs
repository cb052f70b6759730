//! Database schema migrations declared as Rust code.
//!
//! Migrations are a `MIGRATIONS` array of [`Migration`] structs, compiled into
//! the `migrate` binary and into any application that links this library. A
//! [`Migrator`] applies them to SQLite, PostgreSQL or MySQL/MariaDB through
//! diesel, recording each in a tracking table (`schema_migrations`).
//!
//! Guarantees: each migration commits atomically with its tracking row where
//! the database allows (SQLite, PostgreSQL); elsewhere a dirty row makes a
//! half-applied migration visible. Concurrent runs apply each migration once.
//! Edited or unknown migrations are refused.

pub mod authoring;
mod backup;
mod connection;
mod database_url;
mod dialect;
mod diesel_source;
mod error;
pub mod fanout;
pub mod import;
#[cfg(feature = "lint")]
pub mod lint;
mod lint_rule;
mod lock;
mod migration;
pub mod migrations_file;
mod migrator;
pub mod plan;
mod report;
mod step;
mod store;
mod table;

#[cfg(feature = "cli")]
pub mod cli;

pub use backup::backup_sqlite;
pub use connection::{
    Access, AnyConnection, Bind, ColumnRow, MigrationConnection, TrackingRow, CONNECT_TIMEOUT,
};
pub use database_url::{DatabaseUrl, DEFAULT_DATABASE};
pub use dialect::Dialect;
pub use diesel_source::{DieselSource, Irreversible};
// The diesel crates this library is built on, re-exported so applications
// use the same versions.
pub use diesel;
pub use diesel_migrations;
pub use error::{Direction, Error, MigrationFailure, Result};
pub use lint_rule::{Lint, Severity, UnknownLint};
pub use migration::{checksum, find_invalid, validate, InvalidMigration, Migration, Rule};
pub use migrator::{
    ApplyOptions, Migrator, Observer, RollbackTarget, Silent, DEFAULT_LOCK_TIMEOUT,
};
pub use plan::{AppliedMigration, Problem, State};
pub use report::{
    AppliedReport, ApplyReport, BaselineReport, HistoryEntry, MigrationStatus, PendingMigration,
    RepairReport, RollbackReport, StatusReport, VerifyReport,
};
pub use table::{TableName, DEFAULT_TABLE};
