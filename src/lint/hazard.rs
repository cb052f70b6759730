//! The concrete operations the scanners recognise, each with its rule, what
//! it does to a live database and the form to write instead. One place for
//! every text a finding shows.

use crate::lint_rule::Lint;
use crate::Dialect;

/// One dangerous operation found in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hazard {
    CreateIndex,
    DropIndex,
    Reindex,
    ConcurrentlyInTransaction,
    ConcurrentlyInMultiStatementEntry,
    AlterColumnType,
    VolatileDefault,
    /// MySQL `MODIFY COLUMN` / `CHANGE COLUMN` keeping the name.
    ModifyColumn,
    /// MySQL: an added `AUTO_INCREMENT` or stored generated column.
    FilledColumn,
    /// MySQL: adding or dropping the primary key.
    PrimaryKeyRebuild,
    /// MySQL: adding a foreign key while `foreign_key_checks` is on.
    ForeignKeyCopy,
    /// MySQL: `ALGORITHM=COPY` written out.
    CopyAlgorithm,
    SetNotNull,
    ForeignKey,
    CheckConstraint,
    ValidateInSameTransaction,
    UniqueConstraint,
    PrimaryKey,
    RequiredColumn,
    RenameTable,
    RenameColumn,
    DropTable,
    DropColumn,
    DropDatabase,
    NonAtomicDdl,
    TransactionControl,
}

impl Hazard {
    pub(crate) fn lint(self) -> Lint {
        use Hazard::*;
        match self {
            CreateIndex | DropIndex | Reindex => Lint::IndexWithoutConcurrently,
            ConcurrentlyInTransaction | ConcurrentlyInMultiStatementEntry => {
                Lint::ConcurrentlyInTransaction
            }
            AlterColumnType | VolatileDefault | ModifyColumn | FilledColumn | PrimaryKeyRebuild
            | ForeignKeyCopy | CopyAlgorithm => Lint::TableRewrite,
            SetNotNull => Lint::SetNotNull,
            ForeignKey | CheckConstraint | ValidateInSameTransaction => {
                Lint::ConstraintWithoutNotValid
            }
            UniqueConstraint | PrimaryKey => Lint::ConstraintBuildsIndex,
            RequiredColumn => Lint::RequiredColumnWithoutDefault,
            RenameTable | RenameColumn => Lint::Rename,
            DropTable | DropColumn | DropDatabase => Lint::Drop,
            NonAtomicDdl => Lint::NonAtomicDdl,
            TransactionControl => Lint::TransactionControl,
        }
    }

    /// Whether a table created earlier in the same migration makes this
    /// harmless: such a table holds no rows and nobody else uses it yet.
    pub(crate) fn silenced_by_new_table(self, backend: Dialect) -> bool {
        use Hazard::*;
        match self {
            ConcurrentlyInTransaction
            | ConcurrentlyInMultiStatementEntry
            | NonAtomicDdl
            | TransactionControl
            | DropDatabase => false,
            // SQLite refuses the statement itself, rows or not.
            RequiredColumn => backend != Dialect::Sqlite,
            _ => true,
        }
    }

    /// What goes wrong on a live database: the lock, how long, what waits.
    pub(crate) fn message(self, backend: Dialect) -> &'static str {
        use Hazard::*;
        match (self, backend) {
            (CreateIndex, _) => "CREATE INDEX holds a SHARE lock on the table for the whole build: every INSERT, UPDATE and DELETE on it waits until the index is built, minutes on a large table",
            (DropIndex, _) => "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: it queues behind every open transaction that touched the table, and every query on the table, reads included, queues behind it",
            (Reindex, _) => "REINDEX locks out writes to the table, and reads that would use the index, until the rebuild ends",
            (ConcurrentlyInTransaction, _) => "PostgreSQL refuses CONCURRENTLY inside a transaction block, and this migration runs in one (`transaction: true`): apply fails with \"cannot run inside a transaction block\"",
            (ConcurrentlyInMultiStatementEntry, _) => "this sql entry holds several statements, which PostgreSQL runs as one implicit transaction: the CONCURRENTLY statement fails with \"cannot run inside a transaction block\"",
            (AlterColumnType, _) => "changing a column's type takes an ACCESS EXCLUSIVE lock and, for most type changes, rewrites the table and rebuilds its indexes: no reads or writes until the rewrite ends",
            (VolatileDefault, Dialect::Mysql) => "an expression default such as (UUID()) or (RAND()) must be computed for every existing row, so the column cannot be added in place: MySQL copies the table and blocks writes until the copy ends",
            (VolatileDefault, _) => "adding a column with a volatile default (random(), gen_random_uuid(), clock_timestamp(), ...) or a stored generated or identity column rewrites the whole table under an ACCESS EXCLUSIVE lock: no reads or writes until it ends",
            (ModifyColumn, _) => "MODIFY/CHANGE COLUMN with a new type, nullability or character set copies the table (ALGORITHM=COPY): writes wait for the whole copy, and the copy needs room for a second table",
            (FilledColumn, _) => "adding an AUTO_INCREMENT or stored generated column fills every existing row: MySQL copies the table and blocks writes until the copy ends",
            (PrimaryKeyRebuild, _) => "adding or dropping a primary key rebuilds the whole InnoDB table (dropping one copies it and blocks writes)",
            (ForeignKeyCopy, _) => "adding a foreign key while foreign_key_checks is on copies the table (ALGORITHM=COPY): writes wait for the whole copy",
            (CopyAlgorithm, _) => "ALGORITHM=COPY copies the table row by row while writes to it wait",
            (SetNotNull, _) => "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no NULL: reads and writes wait for the scan",
            (ForeignKey, _) => "adding a foreign key scans the table to check every row while holding SHARE ROW EXCLUSIVE locks on both tables: writes to both wait for the scan",
            (CheckConstraint, _) => "adding a check constraint scans the whole table under an ACCESS EXCLUSIVE lock: reads and writes wait for the scan",
            (ValidateInSameTransaction, _) => "VALIDATE CONSTRAINT in the transaction that added the constraint keeps that ALTER TABLE's ACCESS EXCLUSIVE lock through the whole validation scan, so NOT VALID gains nothing",
            (UniqueConstraint, _) => "adding a UNIQUE (or EXCLUDE) constraint builds its index under an ACCESS EXCLUSIVE lock: no reads or writes until the index is built",
            (PrimaryKey, _) => "adding a primary key builds its index (and checks NOT NULL) under an ACCESS EXCLUSIVE lock: no reads or writes until it ends",
            (RequiredColumn, Dialect::Sqlite) => "SQLite refuses ADD COLUMN ... NOT NULL without a default (\"Cannot add a NOT NULL column with default value NULL\"), even on an empty table",
            (RequiredColumn, Dialect::Mysql) => "existing rows get the type's implicit default (0, '' or a zero date, refused under strict mode): the migration either fails on a table with rows or fills it with values nobody chose",
            (RequiredColumn, _) => "adding a NOT NULL column without a default fails as soon as the table has a row (\"column contains null values\"): it passes on an empty development database and fails in production",
            (RenameTable, _) => "the running application still uses the old table name: from this migration until every instance runs the new code, its queries on that table fail",
            (RenameColumn, _) => "the running application still uses the old column name: from this migration until every instance runs the new code, its queries on that column fail",
            (DropTable, Dialect::Postgres) => "dropping a table destroys its data for good, and queries of the running application that still use it fail; it also waits for an ACCESS EXCLUSIVE lock",
            (DropColumn, Dialect::Postgres) => "dropping a column destroys its data for good, and queries of the running application that still name it fail; it also waits for an ACCESS EXCLUSIVE lock",
            (DropTable, _) => "dropping a table destroys its data for good, and queries of the running application that still use it fail",
            (DropColumn, Dialect::Mysql) => "dropping a column destroys its data for good, rebuilds the table on MySQL before 8.0.29, and breaks queries of the running application that still name it",
            (DropColumn, _) => "dropping a column destroys its data for good, and queries of the running application that still name it fail",
            (DropDatabase, _) => "dropping a database destroys everything in it",
            (NonAtomicDdl, _) => "MySQL commits every DDL statement on its own, so this migration cannot be rolled back as a whole: if a later statement fails, the earlier ones stay applied and the migration is left half-done (dirty)",
            (TransactionControl, Dialect::Sqlite) => "the runner already holds a transaction around the migration: SQLite refuses the nested BEGIN, and a COMMIT or ROLLBACK ends the runner's transaction before the tracking row is written",
            (TransactionControl, _) => "the runner already holds a transaction around the migration: a COMMIT or ROLLBACK here ends it early, so what ran before stays even if a later statement fails, and the tracking row is no longer written atomically with the change",
        }
    }

    /// The form to write instead.
    pub(crate) fn advice(self, backend: Dialect) -> &'static str {
        use Hazard::*;
        match (self, backend) {
            (CreateIndex, _) => "CREATE INDEX CONCURRENTLY, as the only statement of a migration with `transaction: false`",
            (DropIndex, _) => "DROP INDEX CONCURRENTLY, as the only statement of a migration with `transaction: false`",
            (Reindex, _) => "REINDEX ... CONCURRENTLY (PostgreSQL 12+), as the only statement of a migration with `transaction: false`",
            (ConcurrentlyInTransaction, _) => "move the statement to a migration of its own with `transaction: false`",
            (ConcurrentlyInMultiStatementEntry, _) => "give the CONCURRENTLY statement an sql entry of its own",
            (AlterColumnType, _) => "add a column of the new type, backfill it in batches, switch the application to it, then drop the old column (varchar(n) to a larger n or to text needs no rewrite)",
            (VolatileDefault, _) => "add the column without a default (or with a constant one), then set the default and backfill existing rows in batches",
            (ModifyColumn, _) | (FilledColumn, _) | (PrimaryKeyRebuild, _) | (CopyAlgorithm, _) => "add a new column or table and backfill it in batches, or run the change with an online schema change tool (gh-ost, pt-online-schema-change); ALGORITHM=INPLACE, LOCK=NONE makes MySQL refuse instead of copying",
            (ForeignKeyCopy, _) => "add the foreign key with foreign_key_checks off (in place, no copy) after checking the data, or with an online schema change tool",
            (SetNotNull, _) => "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a later migration; then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
            (ForeignKey, _) | (CheckConstraint, _) => "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (validation takes only a SHARE UPDATE EXCLUSIVE lock)",
            (ValidateInSameTransaction, _) => "move VALIDATE CONSTRAINT to a later migration",
            (UniqueConstraint, _) => "CREATE UNIQUE INDEX CONCURRENTLY in a migration with `transaction: false`, then ALTER TABLE ... ADD CONSTRAINT c UNIQUE USING INDEX i",
            (PrimaryKey, _) => "CREATE UNIQUE INDEX CONCURRENTLY in a migration with `transaction: false`, then ALTER TABLE ... ADD CONSTRAINT c PRIMARY KEY USING INDEX i",
            (RequiredColumn, Dialect::Postgres) => "give it a constant DEFAULT (no rewrite on PostgreSQL 11+), or add it nullable, backfill, then make it NOT NULL",
            (RequiredColumn, _) => "give it a DEFAULT, or add it nullable and backfill it",
            (RenameTable, _) | (RenameColumn, _) => "expand and contract: add the new name (a column, or a view or table), write to both, switch the application, and drop the old one in a later release",
            (DropTable, _) | (DropColumn, _) | (DropDatabase, _) => "first deploy code that no longer uses it, keep a backup, then drop it in a later migration with `allow: &[Lint::Drop]` once reviewed",
            (NonAtomicDdl, _) => "one DDL statement per migration (several changes to one table fit in one ALTER TABLE), so a failure leaves nothing half-applied",
            (TransactionControl, _) => "leave transactions to the runner: split the work into migrations, with `transaction: false` for a statement that must run outside one",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hazard_has_texts_on_every_backend_of_its_rule() {
        use Hazard::*;
        let all = [
            CreateIndex,
            DropIndex,
            Reindex,
            ConcurrentlyInTransaction,
            ConcurrentlyInMultiStatementEntry,
            AlterColumnType,
            VolatileDefault,
            ModifyColumn,
            FilledColumn,
            PrimaryKeyRebuild,
            ForeignKeyCopy,
            CopyAlgorithm,
            SetNotNull,
            ForeignKey,
            CheckConstraint,
            ValidateInSameTransaction,
            UniqueConstraint,
            PrimaryKey,
            RequiredColumn,
            RenameTable,
            RenameColumn,
            DropTable,
            DropColumn,
            DropDatabase,
            NonAtomicDdl,
            TransactionControl,
        ];
        for hazard in all {
            for &backend in hazard.lint().backends() {
                assert!(!hazard.message(backend).is_empty());
                assert!(!hazard.advice(backend).is_empty());
                assert!(!hazard.message(backend).ends_with('.'), "{hazard:?}");
            }
        }
    }
}
