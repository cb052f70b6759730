//! Rollback, single-transaction runs, `transaction: false` migrations and
//! backups, on every backend where they apply.

mod common;

use common::{reversible as m, Backend, TestDb};
use versioned_migrations::{
    ApplyOptions, Direction, Error, Migration, Migrator, Refusal, RollbackTarget, Silent,
    StatusState,
};

const REVERSIBLE: &[Migration] = &[
    m(
        1,
        "Create authors",
        &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)"],
        &["DROP TABLE authors"],
    ),
    m(
        2,
        "Create books",
        &["CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY)"],
        &["DROP TABLE books"],
    ),
    m(
        3,
        "Create shelves",
        &["CREATE TABLE shelves (id INTEGER NOT NULL PRIMARY KEY)"],
        &["DROP TABLE shelves"],
    ),
    m(
        4,
        "Seed authors",
        &[
            "INSERT INTO authors (id, name) VALUES (1, 'Ada')",
            "INSERT INTO authors (id, name) VALUES (2, 'Grace')",
        ],
        &["DELETE FROM authors WHERE id IN (1, 2)"],
    ),
];

fn versions(db: &TestDb) -> Vec<i64> {
    db.tracked("schema_migrations")
        .into_iter()
        .map(|(v, _)| v)
        .collect()
}

on_all_backends!(
    rollback_runs_down_newest_first,
    irreversible_migration_in_range_refuses_before_anything,
    rollback_dry_run_changes_nothing,
    failing_down_keeps_the_migration_applied,
    single_transaction_is_all_or_nothing,
    non_transactional_failure_is_visibly_dirty,
    a_default_migration_failing_midway_keeps_what_mysql_committed,
    a_second_migration_rejected_outright_leaves_no_row,
);

fn rollback_runs_down_newest_first(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(REVERSIBLE);
    migrator.apply(&mut conn).unwrap();
    assert_eq!(db.count("authors"), 2);

    let one = migrator
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .unwrap();
    assert_eq!(
        one.reverted.iter().map(|r| r.version).collect::<Vec<_>>(),
        [4]
    );
    assert_eq!((one.version_before, one.version), (4, 3));
    assert_eq!(db.count("authors"), 0, "down ran");
    assert_eq!(versions(&db), [1, 2, 3]);

    let to_one = migrator
        .rollback(&mut conn, RollbackTarget::To(1), false, &mut Silent)
        .unwrap();
    assert_eq!(
        to_one
            .reverted
            .iter()
            .map(|r| r.version)
            .collect::<Vec<_>>(),
        [3, 2],
        "newest first"
    );
    assert_eq!(to_one.version, 1);
    assert!(!db.table_exists("shelves") && !db.table_exists("books"));
    assert!(db.table_exists("authors"));
    assert_eq!(versions(&db), [1]);

    let nothing = migrator
        .rollback(&mut conn, RollbackTarget::To(1), false, &mut Silent)
        .unwrap();
    assert!(nothing.reverted.is_empty());
    // Re-applying brings them back.
    assert_eq!(migrator.apply(&mut conn).unwrap().applied.len(), 3);
    assert_eq!(versions(&db), [1, 2, 3, 4]);
}

fn irreversible_migration_in_range_refuses_before_anything(db: TestDb) {
    static LIST: [Migration; 3] = [
        REVERSIBLE[0],
        m(
            2,
            "Irreversible books",
            &["CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY)"],
            &[],
        ),
        REVERSIBLE[2],
    ];
    let mut conn = db.connect();
    let migrator = Migrator::new(&LIST);
    migrator.apply(&mut conn).unwrap();
    let err = migrator
        .rollback(&mut conn, RollbackTarget::To(0), false, &mut Silent)
        .expect_err("2 has no down");
    assert!(
        matches!(
            err,
            Error::Refused(Refusal::Irreversible { version: 2, .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("migration 2 (Irreversible books) is irreversible"),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(versions(&db), [1, 2, 3], "refused before touching anything");
    assert!(db.table_exists("shelves"), "3 was not rolled back either");
    // A range above it is fine.
    migrator
        .rollback(&mut conn, RollbackTarget::To(2), false, &mut Silent)
        .unwrap();
    assert_eq!(versions(&db), [1, 2]);
}

fn rollback_dry_run_changes_nothing(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(REVERSIBLE);
    migrator.apply(&mut conn).unwrap();
    let plan = migrator
        .rollback(&mut conn, RollbackTarget::Steps(2), true, &mut Silent)
        .unwrap();
    assert!(plan.dry_run);
    assert_eq!(
        plan.pending.iter().map(|p| p.version).collect::<Vec<_>>(),
        [4, 3]
    );
    assert_eq!(
        plan.pending[0].sql,
        ["DELETE FROM authors WHERE id IN (1, 2)"]
    );
    assert_eq!(plan.target_version, 2);
    assert_eq!(versions(&db), [1, 2, 3, 4]);
    assert_eq!(db.count("authors"), 2);
}

fn failing_down_keeps_the_migration_applied(db: TestDb) {
    static LIST: [Migration; 2] = [
        REVERSIBLE[0],
        m(
            2,
            "Books with a broken down",
            &["CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY)"],
            &["DROP TABLE books", "DROP TABLE no_such_table_here"],
        ),
    ];
    let mut conn = db.connect();
    let migrator = Migrator::new(&LIST);
    migrator.apply(&mut conn).unwrap();
    let err = migrator
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .expect_err("down fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (failure.version, failure.direction, failure.statement_index),
        (2, Direction::Down, Some(2))
    );
    assert!(err.to_string().contains("rollback of migration 2"), "{err}");
    if db.transactional_ddl() {
        assert!(
            db.table_exists("books"),
            "the down's first statement was rolled back"
        );
        assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, true)]);
    } else {
        assert!(failure.dirty);
        assert_eq!(
            db.tracked("schema_migrations"),
            [(1, true), (2, false)],
            "visibly dirty"
        );
    }
}

fn single_transaction_is_all_or_nothing(db: TestDb) {
    let mut conn = db.connect();
    let options = ApplyOptions::default().single_transaction(true);
    static BROKEN: [Migration; 3] = [
        REVERSIBLE[0],
        REVERSIBLE[1],
        m(
            3,
            "Broken",
            &["INSERT INTO no_such_table (id) VALUES (1)"],
            &[],
        ),
    ];
    let result = Migrator::new(&BROKEN).apply_with(&mut conn, options, &mut Silent);
    if !db.transactional_ddl() {
        let err = result.expect_err("refused on MySQL");
        assert!(
            matches!(
                err,
                Error::Refused(Refusal::SingleTransactionUnsupported { .. })
            ),
            "{err}"
        );
        assert!(
            !db.table_exists("schema_migrations"),
            "refused before changing anything"
        );
        assert!(!db.table_exists("authors"));
        return;
    }
    let err = result.expect_err("3 fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert!(failure.whole_run_rolled_back);
    assert!(
        err.to_string()
            .contains("the whole run was one transaction"),
        "{err}"
    );
    assert!(
        !db.table_exists("authors") && !db.table_exists("books"),
        "all or nothing"
    );
    assert!(versions(&db).is_empty());

    let report = Migrator::new(REVERSIBLE)
        .apply_with(&mut conn, options, &mut Silent)
        .unwrap();
    assert_eq!(report.applied.len(), 4);
    assert_eq!(versions(&db), [1, 2, 3, 4]);
    if db.backend == Backend::Postgres {
        // One transaction wrote every row; a normal run writes one each.
        // (The newest row is left out: the run's last transaction records
        // the list's fingerprint on it.)
        let writers = "SELECT CAST(COUNT(DISTINCT CAST(xmin AS TEXT)) AS BIGINT) AS value \
                       FROM schema_migrations WHERE version < 4";
        assert_eq!(db.scalar(writers), 1);
        let other = TestDb::new(Backend::Postgres);
        Migrator::new(REVERSIBLE)
            .apply(&mut other.connect())
            .unwrap();
        assert_eq!(other.scalar(writers), 3);
    }

    static NO_TX: [Migration; 1] = [Migration {
        transaction: false,
        ..m(1, "Outside", &["CREATE TABLE outside (id INTEGER)"], &[])
    }];
    let err = Migrator::new(&NO_TX)
        .with_table("other_versions")
        .unwrap()
        .apply_with(&mut conn, options, &mut Silent)
        .expect_err("transaction: false cannot join");
    assert!(err.to_string().contains("transaction: false"), "{err}");
}

fn non_transactional_failure_is_visibly_dirty(db: TestDb) {
    static LIST: [Migration; 2] = [
        REVERSIBLE[0],
        Migration {
            transaction: false,
            ..m(
                2,
                "Two steps outside a transaction",
                &[
                    "CREATE TABLE first_step (id INTEGER)",
                    "INSERT INTO no_such_table (id) VALUES (1)",
                ],
                &[],
            )
        },
    ];
    let mut conn = db.connect();
    let migrator = Migrator::new(&LIST);
    let err = migrator.apply(&mut conn).expect_err("fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert!(failure.dirty);
    assert!(
        db.table_exists("first_step"),
        "statement 1 ran outside a transaction"
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]);
    let status = migrator.status(&mut conn).unwrap();
    assert_eq!(status.migrations[1].state, StatusState::Dirty);
    assert!(migrator.apply(&mut conn).is_err(), "refused until repair");
}

/// A migration that asked for a transaction fails at its third statement.
/// PostgreSQL and SQLite keep nothing of it. MySQL, where its statements run
/// with autocommit off so its data changes commit with its row: the table
/// (DDL commits at once) and the row inserted before the failure are kept,
/// the row is dirty, and the connection has autocommit on again.
fn a_default_migration_failing_midway_keeps_what_mysql_committed(db: TestDb) {
    static LIST: [Migration; 2] = [
        REVERSIBLE[0],
        m(
            2,
            "Fails after a table and a row",
            &[
                "CREATE TABLE kept (id INTEGER)",
                "INSERT INTO kept (id) VALUES (1)",
                "INSERT INTO no_such_table (id) VALUES (1)",
            ],
            &[],
        ),
    ];
    let mut conn = db.connect();
    let err = Migrator::new(&LIST).apply(&mut conn).expect_err("fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    match db.backend {
        Backend::Mysql => {
            assert!(failure.dirty, "{err}");
            assert_eq!(
                db.count("kept"),
                1,
                "the row before the failure was committed"
            );
            assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]);
            let autocommit = common::scalar(&mut conn, "SELECT @@autocommit AS value");
            assert_eq!(autocommit.expect("read"), Some(1));
        }
        Backend::Postgres | Backend::Sqlite => {
            assert!(!failure.dirty, "{err}");
            assert!(!db.table_exists("kept"));
            assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
        }
    }
}

/// The second migration of a run is rejected at its first statement, so
/// nothing of it ran. On MySQL its dirty row was written in the commit that
/// settled the first migration; it is taken back, and the first stays done.
fn a_second_migration_rejected_outright_leaves_no_row(db: TestDb) {
    static LIST: [Migration; 3] = [
        REVERSIBLE[0],
        m(
            2,
            "Does not parse",
            &["CREATE TABLE broken (id INTEGER"],
            &[],
        ),
        REVERSIBLE[2],
    ];
    let mut conn = db.connect();
    let err = Migrator::new(&LIST).apply(&mut conn).expect_err("fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert_eq!(failure.version, 2, "{err}");
    assert!(!failure.dirty, "{err}");
    assert_eq!(
        failure
            .completed
            .iter()
            .map(|c| c.version)
            .collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
    assert!(!db.table_exists("shelves"));
}

#[test]
fn sqlite_vacuum_runs_outside_a_transaction() {
    let db = TestDb::new(Backend::Sqlite);
    static LIST: [Migration; 2] = [
        REVERSIBLE[0],
        Migration {
            transaction: false,
            ..m(2, "Compact the file", &["VACUUM"], &[])
        },
    ];
    let mut conn = db.connect();
    let report = Migrator::new(&LIST)
        .apply(&mut conn)
        .expect("VACUUM cannot run in a transaction");
    assert_eq!(report.version, 2);
    assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, true)]);
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
#[cfg(feature = "postgres")]
fn postgres_create_index_concurrently_without_transaction() {
    let db = TestDb::new(Backend::Postgres);
    static LIST: [Migration; 2] = [
        m(
            1,
            "Create authors",
            &["CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, born INTEGER)"],
            &[],
        ),
        Migration {
            transaction: false,
            ..m(
                2,
                "Index authors concurrently",
                &[
                    "CREATE INDEX CONCURRENTLY idx_authors_name ON authors (name)",
                    "CREATE INDEX CONCURRENTLY idx_authors_born ON authors (born)",
                ],
                &[],
            )
        },
    ];
    let mut conn = db.connect();
    let report = Migrator::new(&LIST)
        .apply(&mut conn)
        .expect("concurrent indexes");
    assert_eq!(report.version, 2);
    assert_eq!(
        db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_indexes WHERE indexname IN ('idx_authors_name', 'idx_authors_born')"),
        2
    );
    // The same in a transactional migration is refused by PostgreSQL, atomically.
    static IN_TX: [Migration; 1] = [m(
        1,
        "In a transaction",
        &["CREATE INDEX CONCURRENTLY idx_x ON authors (id)"],
        &[],
    )];
    let err = Migrator::new(&IN_TX)
        .with_table("other_versions")
        .unwrap()
        .apply(&mut conn)
        .expect_err("cannot run inside a transaction block");
    assert!(err.to_string().contains("transaction block"), "{err}");
}
