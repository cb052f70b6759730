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
//!
//! Layers, each depending only on those above it:
//! - values: [`migration`](Migration), validity check, checksum, table name,
//!   database URL, the tracking table's schema;
//! - SQL: the dialect (every statement the runner sends), the connection;
//! - decisions: the planner (pure);
//! - execution: store, session, lock, transaction, step, executor;
//! - API: [`Migrator`]; the [`schema`] model with drift and roundtrip on
//!   scratch databases; and, with the `cli` feature, the command line.
#![warn(missing_docs, unreachable_pub)]

mod backup;
mod checksum;
mod code;
mod connect;
mod connection;
mod database_url;
mod dialect;
#[cfg(feature = "diesel_migrations")]
mod diesel_source;
mod error;
mod executor;
mod guardrails;
mod invalid;
#[cfg(feature = "lint")]
pub mod lint;
mod lint_rule;
mod lock;
mod migration;
mod migrator;
mod observer;
mod plan;
mod refusal;
mod report;
pub mod schema;
mod session;
mod step;
mod store;
mod table;
mod tenants;
mod tracking;
mod transaction;
mod validate;

#[cfg(feature = "cli")]
pub mod authoring;
#[cfg(feature = "cli")]
pub mod cli;

pub use backup::backup_sqlite;
pub use checksum::checksum;
pub use code::{Code, CodeError, CodeFn, Db, Value};
pub use connect::CONNECT_TIMEOUT;
#[doc(hidden)]
pub use connection::statements_sent;
pub use connection::{Access, AnyConnection, DieselConnection, MigrationConnection};
pub use database_url::{DatabaseUrl, SqliteMode, UrlError};
pub use dialect::Dialect;
#[cfg(feature = "diesel_migrations")]
pub use diesel_source::{DieselSource, Irreversible};
pub use error::{Blocker, Error, FailureStage, LockKind, MigrationFailure, Result};
pub use executor::ApplyOptions;
pub use guardrails::Guardrails;
pub use invalid::{InvalidMigration, Rule};
pub use lint_rule::{Lint, Severity, UnknownLint};
pub use migration::{Migration, PLACEHOLDER_SQL};
pub use migrator::{Migrator, DEFAULT_LOCK_TIMEOUT};
pub use observer::{Observer, Silent, StepInfo};
pub use plan::{DescriptionChange, Problem, Refusal, RollbackTarget, State};
pub use report::{
    ApplyReport, BaselineReport, Direction, HistoryReport, MigrationStatus, PendingMigration,
    RedoReport, RepairReport, RollbackReport, StatusReport, StatusState, StepReport, VerifyReport,
};
pub use schema::{DriftReport, RoundtripReport, Schema, ScratchDatabase};
pub use table::{InvalidTableName, TableName, DEFAULT_TABLE};
pub use tenants::schemas_matching;
pub use tracking::{AppliedMigration, RowWarning};
pub use validate::{find_invalid, validate, BUILD_TIME_SCAN_BYTES};

/// The diesel crate this library is built on, re-exported so applications
/// use the same version.
pub use diesel;
/// diesel_migrations, for [`DieselSource`] (feature `diesel_migrations`).
#[cfg(feature = "diesel_migrations")]
pub use diesel_migrations;
