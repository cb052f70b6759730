//! The lint rules a migration can be checked against, as data: each rule's
//! stable id, the databases it applies to and its severity. Always compiled,
//! because [`crate::Migration::allow`] names them; the checks themselves live
//! behind the `lint` feature.

use std::fmt;
use std::str::FromStr;

use crate::dialect::Dialect;

/// A hazard that `migrate lint` finds in a migration's `sql`.
///
/// Name one in a migration's `allow` to accept it deliberately; being an
/// enum, a misspelt rule does not compile. The snake_case [`Lint::id`] is what
/// the command line and JSON show, and never changes once released.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lint {
    /// PostgreSQL: `CREATE INDEX`, `DROP INDEX` or `REINDEX` without
    /// `CONCURRENTLY` on a table the migration did not create.
    IndexWithoutConcurrently,
    /// PostgreSQL: `CONCURRENTLY` where the database refuses it: in a
    /// migration with `transaction: true`, or in an `sql` entry holding
    /// several statements (run as one implicit transaction).
    ConcurrentlyInTransaction,
    /// PostgreSQL, MySQL: a change that rewrites or copies an existing table
    /// under a lock (a column type change, an added column with a volatile
    /// default; on MySQL also primary keys, foreign keys, `AUTO_INCREMENT`).
    TableRewrite,
    /// PostgreSQL: `SET NOT NULL` on an existing column without a validated
    /// `CHECK (column IS NOT NULL)` first.
    SetNotNull,
    /// PostgreSQL: a foreign key or check added to an existing table without
    /// `NOT VALID`, or validated in the same transaction that added it.
    ConstraintWithoutNotValid,
    /// PostgreSQL: a `UNIQUE` or `PRIMARY KEY` constraint added to an existing
    /// table, which builds its index under an exclusive lock.
    ConstraintBuildsIndex,
    /// All: `ADD COLUMN ... NOT NULL` without a default on an existing table.
    RequiredColumnWithoutDefault,
    /// All: renaming a table or a column.
    Rename,
    /// All: dropping a table, a column or a database.
    Drop,
    /// MySQL: more than one DDL statement in one migration.
    NonAtomicDdl,
    /// SQLite, PostgreSQL: `BEGIN`, `COMMIT` or `ROLLBACK` inside a migration
    /// with `transaction: true`, which the runner already wraps in a
    /// transaction (on MySQL it does not: DDL commits there anyway).
    TransactionControl,
}

/// How bad a finding is. Both fail `migrate lint`; the severity orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks or blocks production: a migration that fails on real data, or
    /// a lock that stops the application's queries.
    Error,
    /// Loses data or breaks the running application unless the deploy is
    /// planned around it.
    Warning,
}

const ALL_BACKENDS: &[Dialect] = &[Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];
const POSTGRES: &[Dialect] = &[Dialect::Postgres];
const MYSQL: &[Dialect] = &[Dialect::Mysql];
const POSTGRES_MYSQL: &[Dialect] = &[Dialect::Postgres, Dialect::Mysql];
const SQLITE_POSTGRES: &[Dialect] = &[Dialect::Sqlite, Dialect::Postgres];

impl Lint {
    /// Every rule, in the order of the README's table.
    pub const ALL: &'static [Lint] = &[
        Lint::IndexWithoutConcurrently,
        Lint::ConcurrentlyInTransaction,
        Lint::TableRewrite,
        Lint::SetNotNull,
        Lint::ConstraintWithoutNotValid,
        Lint::ConstraintBuildsIndex,
        Lint::RequiredColumnWithoutDefault,
        Lint::Rename,
        Lint::Drop,
        Lint::NonAtomicDdl,
        Lint::TransactionControl,
    ];

    /// The stable snake_case id shown by `migrate lint` and in JSON.
    pub const fn id(self) -> &'static str {
        match self {
            Lint::IndexWithoutConcurrently => "index_without_concurrently",
            Lint::ConcurrentlyInTransaction => "concurrently_in_transaction",
            Lint::TableRewrite => "table_rewrite",
            Lint::SetNotNull => "set_not_null",
            Lint::ConstraintWithoutNotValid => "constraint_without_not_valid",
            Lint::ConstraintBuildsIndex => "constraint_builds_index",
            Lint::RequiredColumnWithoutDefault => "required_column_without_default",
            Lint::Rename => "rename",
            Lint::Drop => "drop",
            Lint::NonAtomicDdl => "non_atomic_ddl",
            Lint::TransactionControl => "transaction_control",
        }
    }

    /// The rule whose [`Lint::id`] is `id`.
    pub fn from_id(id: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|lint| lint.id() == id)
    }

    /// The variant's name as written in `allow: &[Lint::...]`.
    pub const fn variant_name(self) -> &'static str {
        match self {
            Lint::IndexWithoutConcurrently => "IndexWithoutConcurrently",
            Lint::ConcurrentlyInTransaction => "ConcurrentlyInTransaction",
            Lint::TableRewrite => "TableRewrite",
            Lint::SetNotNull => "SetNotNull",
            Lint::ConstraintWithoutNotValid => "ConstraintWithoutNotValid",
            Lint::ConstraintBuildsIndex => "ConstraintBuildsIndex",
            Lint::RequiredColumnWithoutDefault => "RequiredColumnWithoutDefault",
            Lint::Rename => "Rename",
            Lint::Drop => "Drop",
            Lint::NonAtomicDdl => "NonAtomicDdl",
            Lint::TransactionControl => "TransactionControl",
        }
    }

    /// The databases the rule checks; on the others it never fires.
    pub const fn backends(self) -> &'static [Dialect] {
        match self {
            Lint::IndexWithoutConcurrently
            | Lint::ConcurrentlyInTransaction
            | Lint::SetNotNull
            | Lint::ConstraintWithoutNotValid
            | Lint::ConstraintBuildsIndex => POSTGRES,
            Lint::TableRewrite => POSTGRES_MYSQL,
            Lint::NonAtomicDdl => MYSQL,
            Lint::TransactionControl => SQLITE_POSTGRES,
            Lint::RequiredColumnWithoutDefault | Lint::Rename | Lint::Drop => ALL_BACKENDS,
        }
    }

    /// Whether the rule checks migrations for `backend`.
    pub fn applies_to(self, backend: Dialect) -> bool {
        self.backends().contains(&backend)
    }

    /// How bad its findings are.
    pub const fn severity(self) -> Severity {
        match self {
            Lint::Rename | Lint::Drop | Lint::NonAtomicDdl => Severity::Warning,
            Lint::IndexWithoutConcurrently
            | Lint::ConcurrentlyInTransaction
            | Lint::TableRewrite
            | Lint::SetNotNull
            | Lint::ConstraintWithoutNotValid
            | Lint::ConstraintBuildsIndex
            | Lint::RequiredColumnWithoutDefault
            | Lint::TransactionControl => Severity::Error,
        }
    }

    /// One line: what the rule finds.
    pub const fn summary(self) -> &'static str {
        match self {
            Lint::IndexWithoutConcurrently => {
                "CREATE INDEX, DROP INDEX or REINDEX without CONCURRENTLY on an existing table"
            }
            Lint::ConcurrentlyInTransaction => {
                "CONCURRENTLY in a transactional migration or in a multi-statement sql entry"
            }
            Lint::TableRewrite => {
                "a column type change or an added column with a volatile default on an existing table"
            }
            Lint::SetNotNull => "a SET NOT NULL on an existing column",
            Lint::ConstraintWithoutNotValid => {
                "a foreign key or check added to an existing table without NOT VALID"
            }
            Lint::ConstraintBuildsIndex => {
                "a UNIQUE or PRIMARY KEY constraint added to an existing table"
            }
            Lint::RequiredColumnWithoutDefault => {
                "ADD COLUMN ... NOT NULL without a default on an existing table"
            }
            Lint::Rename => "renaming a table or a column",
            Lint::Drop => "dropping a table, a column or a database",
            Lint::NonAtomicDdl => "more than one DDL statement in one migration",
            Lint::TransactionControl => {
                "a BEGIN, COMMIT or ROLLBACK in a transactional migration"
            }
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A rule id that names no [`Lint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lint rule `{0}`; the rules are: {ids}", ids = all_ids())]
pub struct UnknownLint(pub String);

fn all_ids() -> String {
    Lint::ALL
        .iter()
        .map(|lint| lint.id())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Lint {
    type Err = UnknownLint;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Lint::from_id(id).ok_or_else(|| UnknownLint(id.to_string()))
    }
}

impl Severity {
    /// `error` or `warning`, as shown and serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serialized_names_and_round_trip() {
        for &lint in Lint::ALL {
            let json = serde_json::to_string(&lint).expect("serializes");
            assert_eq!(json, format!("\"{}\"", lint.id()));
            assert_eq!(Lint::from_id(lint.id()), Some(lint));
            assert_eq!(lint.id().parse::<Lint>(), Ok(lint));
            assert_eq!(lint.to_string(), lint.id());
        }
    }

    #[test]
    fn every_rule_is_listed_once_and_applies_somewhere() {
        let mut ids: Vec<_> = Lint::ALL.iter().map(|l| l.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Lint::ALL.len());
        for &lint in Lint::ALL {
            assert!(!lint.backends().is_empty(), "{lint}");
            assert!(!lint.summary().is_empty(), "{lint}");
        }
    }

    #[test]
    fn the_spec_table_pins_backends() {
        use Dialect::*;
        assert_eq!(Lint::IndexWithoutConcurrently.backends(), &[Postgres]);
        assert_eq!(Lint::TableRewrite.backends(), &[Postgres, Mysql]);
        assert_eq!(Lint::NonAtomicDdl.backends(), &[Mysql]);
        assert!(Lint::Drop.applies_to(Sqlite));
        assert!(!Lint::SetNotNull.applies_to(Mysql));
    }

    #[test]
    fn unknown_ids_are_refused_with_the_list() {
        let err = "drop_table".parse::<Lint>().expect_err("unknown");
        assert!(err.to_string().contains("unknown lint rule `drop_table`"));
        assert!(err.to_string().contains("index_without_concurrently"));
    }
}
