//! Library scenarios, written once and run on SQLite, PostgreSQL and MySQL.

mod common;

use common::{leak, m, slow_sql, Backend, TestDb};
use versioned_migrations::{
    ApplyOptions, Error, Migration, Migrator, Problem, Refusal, RollbackTarget, Silent, StatusState,
};

const THREE: &[Migration] = &[
    m(1, "Create authors", &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)"]),
    m(
        2,
        "Create books",
        &[
            "CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, author_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL)",
            "CREATE INDEX idx_books_author ON books (author_id)",
        ],
    ),
    m(3, "Seed authors", &["INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Grace')"]),
];

/// Migration 2 fails at its second statement, after its first created a table.
const BROKEN: &[Migration] = &[
    m(
        1,
        "Create authors",
        &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)"],
    ),
    m(
        2,
        "Create books badly",
        &[
            "CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY)",
            "INSERT INTO no_such_table (id) VALUES (1)",
            "CREATE TABLE never_reached (id INTEGER)",
        ],
    ),
    m(
        3,
        "After the broken one",
        &["CREATE TABLE after_broken (id INTEGER)"],
    ),
];

on_all_backends!(
    fresh_apply_then_noop,
    new_entry_applies_only_itself,
    failing_statement_names_it_and_keeps_earlier,
    read_commands_leave_new_database_untouched,
    status_and_history_report_state,
    edited_migration_is_refused,
    database_ahead_of_code_is_refused,
    custom_table_name,
    target_version_limits_apply,
    dry_run_changes_nothing,
    concurrent_runners_apply_each_migration_once,
    descriptions_with_quotes_and_backslashes_round_trip,
    the_start_up_check_never_hides_drift,
);

/// The tracking row is written as literal SQL beside the COMMIT: any text
/// must come back exactly.
fn descriptions_with_quotes_and_backslashes_round_trip(db: TestDb) {
    static TRICKY: [Migration; 2] = [
        m(
            1,
            "it's a \\ back\\slash; 'quoted' \"double\" $$ $tag$ \\' é 🚀",
            &["CREATE TABLE tricky (id INTEGER)"],
        ),
        m(
            2,
            "ends with a backslash \\",
            &["CREATE TABLE tricky2 (id INTEGER)"],
        ),
    ];
    let mut conn = db.connect();
    let migrator = Migrator::new(&TRICKY);
    migrator.apply(&mut conn).unwrap();
    let history = migrator.history(&mut conn).unwrap().migrations;
    assert_eq!(history[0].description, TRICKY[0].description);
    assert_eq!(history[1].description, TRICKY[1].description);
    assert_eq!(
        history[0].checksum.as_deref(),
        Some(TRICKY[0].checksum().as_str())
    );
    assert!(migrator.verify(&mut conn).unwrap().problems.is_empty());
    assert!(migrator.apply(&mut conn).unwrap().applied.is_empty());
}

fn fresh_apply_then_noop(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    let report = migrator.apply(&mut conn).expect("first apply");
    assert_eq!(
        report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        (report.already_applied, report.total, report.version),
        (0, 3, 3)
    );
    assert_eq!(db.count("authors"), 2);
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );

    let again = migrator.apply(&mut conn).expect("second apply");
    assert!(again.applied.is_empty());
    assert_eq!(
        (again.already_applied, again.total, again.version),
        (3, 3, 3)
    );
    assert_eq!(db.count("authors"), 2, "nothing ran twice");
    assert_eq!(migrator.version(&mut conn).unwrap(), 3);
}

fn new_entry_applies_only_itself(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(&THREE[..2])
        .apply(&mut conn)
        .expect("first two");
    assert_eq!(db.count("authors"), 0);
    let report = Migrator::new(THREE).apply(&mut conn).expect("the new one");
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.applied[0].version, 3);
    assert_eq!(
        (
            report.already_applied,
            report.version_before,
            report.version
        ),
        (2, 2, 3)
    );
    assert_eq!(db.count("authors"), 2);
}

fn failing_statement_names_it_and_keeps_earlier(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(BROKEN);
    let err = migrator
        .apply(&mut conn)
        .expect_err("migration 2 must fail");
    let Error::MigrationFailed { failure } = &err else {
        panic!("unexpected error: {err}");
    };
    assert_eq!(failure.version, 2);
    assert_eq!(failure.description, "Create books badly");
    assert_eq!(failure.statement_index, Some(2));
    assert_eq!(
        failure.statement.as_deref(),
        Some("INSERT INTO no_such_table (id) VALUES (1)")
    );
    assert!(!failure.database_message.is_empty());
    assert_eq!(failure.completed.len(), 1, "migration 1 was applied before");
    let message = err.to_string();
    assert!(
        message.contains("migration 2 (Create books badly) statement 2 failed"),
        "{message}"
    );
    assert!(message.contains("no_such_table"), "{message}");

    assert!(
        db.table_exists("authors"),
        "earlier migration stays applied"
    );
    assert!(!db.table_exists("never_reached"));
    assert!(
        !db.table_exists("after_broken"),
        "later migrations are not attempted"
    );
    if db.transactional_ddl() {
        assert!(!failure.dirty);
        assert!(
            message.contains("nothing of this migration was applied"),
            "{message}"
        );
        assert!(
            !db.table_exists("books"),
            "the failed migration was rolled back"
        );
        assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
        assert_eq!(migrator.version(&mut conn).unwrap(), 1);
    } else {
        // MySQL committed the CREATE TABLE: the row stays, dirty.
        assert!(failure.dirty);
        assert!(message.contains("marked dirty"), "{message}");
        assert!(db.table_exists("books"));
        assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]);
        let status = migrator.status(&mut conn).unwrap();
        assert_eq!(status.migrations[1].state, StatusState::Dirty);
        assert_eq!(status.version, 1);
        let refused = migrator
            .apply(&mut conn)
            .expect_err("apply refuses a dirty database");
        assert!(
            matches!(&refused, Error::Refused(Refusal::Problems { problems }) if matches!(problems[..], [Problem::Dirty { version: 2, .. }])),
            "{refused}"
        );
        assert!(
            !db.table_exists("after_broken"),
            "nothing ran past the dirty row"
        );
    }
}

fn read_commands_leave_new_database_untouched(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    assert_eq!(migrator.version(&mut conn).unwrap(), 0);
    assert!(migrator.history(&mut conn).unwrap().migrations.is_empty());
    let status = migrator.status(&mut conn).unwrap();
    assert!(!status.table_exists);
    assert_eq!(status.pending, [1, 2, 3]);
    assert!(status
        .migrations
        .iter()
        .all(|m| m.state == StatusState::Pending));
    assert!(status.problems.is_empty());
    assert!(
        !db.table_exists("schema_migrations"),
        "read commands never create the table"
    );
}

fn status_and_history_report_state(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(&THREE[..2]).apply(&mut conn).unwrap();
    let migrator = Migrator::new(THREE);
    let status = migrator.status(&mut conn).unwrap();
    assert!(status.table_exists);
    assert_eq!(status.version, 2);
    assert_eq!(status.pending, [3]);
    let states: Vec<StatusState> = status.migrations.iter().map(|m| m.state).collect();
    assert_eq!(
        states,
        [
            StatusState::Applied,
            StatusState::Applied,
            StatusState::Pending
        ]
    );
    assert!(status.migrations[0].applied_at.is_some());
    assert_eq!(status.migrations[0].checksum, Some(THREE[0].checksum()));

    let history = migrator.history(&mut conn).unwrap().migrations;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].description, "Create books");
    assert_eq!(
        history[1].checksum.as_deref(),
        Some(THREE[1].checksum().as_str())
    );
    let applied_at = history[0].applied_at.expect("applied_at");
    let age = chrono::Utc::now() - applied_at;
    assert!(
        age.num_seconds().abs() < 300,
        "applied_at is UTC now-ish: {applied_at}"
    );

    let json = serde_json::to_value(&status).unwrap();
    for field in ["version", "pending", "problems", "migrations"] {
        assert!(json.get(field).is_some(), "status JSON has {field}");
    }
    let entry = &serde_json::to_value(&history).unwrap()[0];
    for field in [
        "version",
        "description",
        "applied_at",
        "execution_ms",
        "checksum",
    ] {
        assert!(entry.get(field).is_some(), "history JSON has {field}");
    }
}

fn edited_migration_is_refused(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(&THREE[..2]).apply(&mut conn).unwrap();
    // Same versions; migration 1's SQL edited after it was applied.
    static MIXED: [Migration; 3] = [
        m(1, "Create authors", &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL)"]),
        THREE[1],
        THREE[2],
    ];
    let err = Migrator::new(&MIXED)
        .apply(&mut conn)
        .expect_err("edited migration");
    match &err {
        Error::Refused(Refusal::Problems { problems }) => {
            assert!(
                matches!(problems[..], [Problem::ChecksumMismatch { version: 1, .. }]),
                "{err}"
            )
        }
        other => panic!("unexpected: {other}"),
    }
    assert!(
        err.to_string()
            .contains("migration 1 (Create authors) was edited"),
        "{err}"
    );
    assert_eq!(db.count("authors"), 0, "nothing applied after refusal");
    // Whitespace and line endings are not edits.
    static RESPACED: [Migration; 1] = [m(
        1,
        "Create authors",
        &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)  \r\n"],
    )];
    let status = Migrator::new(&RESPACED).status(&mut conn).unwrap();
    assert!(
        !status.problems.iter().any(|p| p.version() == 1),
        "{:?}",
        status.problems
    );
}

fn database_ahead_of_code_is_refused(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(THREE).apply(&mut conn).unwrap();
    let older = Migrator::new(&THREE[..2]);
    let err = older.apply(&mut conn).expect_err("database is ahead");
    assert!(
        matches!(&err, Error::Refused(Refusal::Problems { problems }) if matches!(problems[..], [Problem::UnknownVersion { version: 3, .. }])),
        "{err}"
    );
    assert!(err.to_string().contains("ahead"), "{err}");
    let status = older.status(&mut conn).unwrap();
    assert_eq!(status.version, 3);
    assert_eq!(status.problems.len(), 1);
}

fn custom_table_name(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE).with_table("app_versions").unwrap();
    migrator.apply(&mut conn).unwrap();
    assert_eq!(db.tracked("app_versions").len(), 3);
    assert!(!db.table_exists("schema_migrations"));
    assert_eq!(migrator.version(&mut conn).unwrap(), 3);
    assert_eq!(Migrator::new(THREE).version(&mut conn).unwrap(), 0);
}

fn target_version_limits_apply(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    let options = ApplyOptions::default().to(2);
    let report = migrator
        .apply_with(&mut conn, options, &mut Silent)
        .unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(db.count("authors"), 0);
    assert_eq!(migrator.apply(&mut conn).unwrap().applied.len(), 1);
}

fn dry_run_changes_nothing(db: TestDb) {
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    let options = ApplyOptions::default().dry_run(true);
    let report = migrator
        .apply_with(&mut conn, options, &mut Silent)
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(
        report.pending.iter().map(|p| p.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(report.pending[1].sql.len(), 2);
    assert!(
        !db.table_exists("schema_migrations"),
        "dry run creates nothing"
    );
    assert!(!db.table_exists("authors"));
}

/// Eight runners at once, each with its own connection: every migration is
/// recorded once and every runner succeeds.
fn concurrent_runners_apply_each_migration_once(db: TestDb) {
    let list = common::leak_list(
        (1..=20)
            .map(|v| {
                let sql = vec![
                    slow_sql(db.backend, 0.02),
                    leak(format!("CREATE TABLE t{v} (id INTEGER)")),
                ];
                m(v, "slow table", Box::leak(sql.into_boxed_slice()))
            })
            .collect(),
    );
    let url = db.url.clone();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = common::connect_url(&url).expect("connect");
                Migrator::new(list).apply(&mut conn)
            })
        })
        .collect();
    let mut applied_total = 0;
    for handle in handles {
        let report = handle
            .join()
            .expect("thread")
            .expect("every runner succeeds");
        assert_eq!(report.version, 20);
        applied_total += report.applied.len();
    }
    assert_eq!(
        applied_total, 20,
        "each migration applied exactly once across runners"
    );
    let tracked = db.tracked("schema_migrations");
    assert_eq!(tracked.len(), 20);
    assert!(tracked.iter().all(|(_, ok)| *ok));
    if db.backend == Backend::Sqlite {
        assert_eq!(db.count("t20"), 0);
    }
}

/// PL/pgSQL bodies are sent untouched: semicolons inside `$$` and `$tag$`
/// quoting, a trigger using the function, several statements in one entry.
#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
#[cfg(feature = "postgres")]
fn postgres_dollar_quoted_bodies_run_untouched() {
    let db = TestDb::new(Backend::Postgres);
    static LIST: &[Migration] = &[
        m(
            1,
            "Audit table and trigger",
            &[
                "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, updated_at TIMESTAMP)",
                "CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
                BEGIN
                    NEW.updated_at := now();  -- semicolons inside the body
                    RETURN NEW;
                END;
                $$ LANGUAGE plpgsql",
                "CREATE TRIGGER accounts_touch BEFORE INSERT OR UPDATE ON accounts
                 FOR EACH ROW EXECUTE FUNCTION touch_updated_at()",
            ],
        ),
        m(
            2,
            "Tagged body and two statements in one entry",
            &["CREATE FUNCTION greet(name TEXT) RETURNS TEXT AS $body$ SELECT 'hi; ' || name $body$ LANGUAGE sql;
               INSERT INTO accounts (id, balance) VALUES (1, 10);"],
        ),
    ];
    let mut conn = db.connect();
    let report = Migrator::new(LIST).apply(&mut conn).expect("apply");
    assert_eq!(report.version, 2);
    assert_eq!(
        db.count("accounts WHERE updated_at IS NOT NULL"),
        1,
        "trigger ran"
    );
    assert_eq!(
        db.scalar("SELECT CAST(length(greet('x')) AS BIGINT) AS value"),
        5,
        "function body kept its semicolon"
    );
}

/// The start-up check answers "nothing to do" only when that is true: a
/// database ahead, an edited migration or a dirty row is never hidden by
/// the fast path (on PostgreSQL a one-row fingerprint of the table).
fn the_start_up_check_never_hides_drift(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(THREE).apply(&mut conn).unwrap();
    assert!(
        Migrator::new(THREE)
            .apply(&mut conn)
            .unwrap()
            .applied
            .is_empty(),
        "up to date"
    );
    let ahead = Migrator::new(&THREE[..2])
        .apply(&mut conn)
        .expect_err("database ahead");
    assert!(matches!(ahead, Error::Refused(_)), "{ahead}");
    static EDITED: [Migration; 3] = [
        THREE[0],
        m(2, "Create books", &["CREATE TABLE books (id BIGINT)"]),
        THREE[2],
    ];
    let edited = Migrator::new(&EDITED).apply(&mut conn).expect_err("edited");
    assert!(matches!(edited, Error::Refused(_)), "{edited}");
    let success_false = match db.backend {
        Backend::Postgres => "FALSE",
        _ => "0",
    };
    db.exec(&format!(
        "UPDATE schema_migrations SET success = {success_false} WHERE version = 3"
    ));
    let dirty = Migrator::new(THREE).apply(&mut conn).expect_err("dirty");
    assert!(matches!(dirty, Error::Refused(_)), "{dirty}");
}

mod more {
    use super::*;
    on_all_backends!(
        a_migration_dropping_the_tracking_table_is_named,
        session_statements_run_first,
        the_placeholder_is_refused_before_anything_runs,
        a_version_the_code_lacks_rolls_back_with_its_recorded_down,
        redo_rolls_back_and_applies_again,
    );
}

/// Issue 14.3: `apply` says plainly that the migration dropped the tracking
/// table, instead of only that recording failed.
fn a_migration_dropping_the_tracking_table_is_named(db: TestDb) {
    static LIST: &[Migration] = &[
        m(1, "Create things", &["CREATE TABLE things (id INTEGER)"]),
        m(
            2,
            "Forget the old tool",
            &["DROP TABLE IF EXISTS schema_migrations"],
        ),
    ];
    let mut conn = db.connect();
    let err = Migrator::new(LIST)
        .apply(&mut conn)
        .expect_err("cannot be recorded");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert_eq!(failure.version, 2);
    assert_eq!(
        failure.stage,
        versioned_migrations::FailureStage::TrackingTableChanged,
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("dropped or changed the tracking table schema_migrations"),
        "{err}"
    );
}

/// Issue 14.5: statements given with `with_session_sql` run first on the
/// connection, before the tool reads anything, and dry runs show them.
fn session_statements_run_first(db: TestDb) {
    // A first migration referencing a table a later one creates.
    static FORWARD_REFERENCE: &[Migration] = &[
        m(
            1,
            "Posts first",
            &["CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, FOREIGN KEY (user_id) REFERENCES users (id))"],
        ),
        m(2, "Users second", &["CREATE TABLE users (id INTEGER PRIMARY KEY)"]),
    ];
    static ONE_TABLE: &[Migration] = &[m(1, "One table", &["CREATE TABLE things (id INTEGER)"])];
    let (setup, list) = match db.backend {
        Backend::Mysql => ("SET FOREIGN_KEY_CHECKS = 0", FORWARD_REFERENCE),
        // The tracking table and the tables land in the schema on the path.
        Backend::Postgres => ("SET search_path TO app", ONE_TABLE),
        Backend::Sqlite => ("PRAGMA recursive_triggers = ON", ONE_TABLE),
    };
    if db.backend == Backend::Postgres {
        db.exec("CREATE SCHEMA app");
    }
    let mut conn = db.connect();
    let migrator = Migrator::new(list).with_session_sql([setup]);
    let dry = migrator
        .apply_with(
            &mut conn,
            ApplyOptions::default().dry_run(true),
            &mut Silent,
        )
        .unwrap();
    assert_eq!(dry.session_sql, [setup]);
    if db.backend == Backend::Mysql {
        let without = Migrator::new(list).apply(&mut db.connect());
        assert!(without.is_err(), "the list needs the setting");
        db.exec("DROP TABLE IF EXISTS posts");
        db.exec("DROP TABLE IF EXISTS schema_migrations");
    }
    let report = migrator
        .apply(&mut conn)
        .expect("with the session statement");
    assert_eq!(report.applied.len(), list.len());
    if db.backend == Backend::Postgres {
        assert!(db.table_exists("app.schema_migrations") && db.table_exists("app.things"));
        assert!(!db.table_exists("public.schema_migrations"));
    }
}

/// Issue 13.5: the SQL `new` writes when none is given never runs.
fn the_placeholder_is_refused_before_anything_runs(db: TestDb) {
    static LIST: &[Migration] = &[
        m(1, "Real", &["CREATE TABLE real_one (id INTEGER)"]),
        m(
            2,
            "Not written yet",
            &[versioned_migrations::PLACEHOLDER_SQL],
        ),
    ];
    let mut conn = db.connect();
    let err = Migrator::new(LIST)
        .apply(&mut conn)
        .expect_err("placeholder");
    assert!(
        err.to_string()
            .contains("migration 2 (Not written yet) still has the placeholder SQL"),
        "{err}"
    );
    assert!(!db.table_exists("real_one"), "refused before anything ran");
    Migrator::new(&LIST[..1])
        .apply(&mut conn)
        .expect("the rest applies once it is gone");
}

/// Issue 13.13: a database migrated by a newer build (or another branch)
/// can be rolled back by an older one: the down statements recorded in the
/// row run, and the report says so.
fn a_version_the_code_lacks_rolls_back_with_its_recorded_down(db: TestDb) {
    static NEWER: &[Migration] = &[
        common::reversible(
            1,
            "One",
            &["CREATE TABLE one (id INTEGER)"],
            &["DROP TABLE one"],
        ),
        common::reversible(
            2,
            "Two",
            &["CREATE TABLE two (id INTEGER)"],
            &["DROP TABLE two"],
        ),
    ];
    let mut conn = db.connect();
    Migrator::new(NEWER).apply(&mut conn).unwrap();
    let older = Migrator::new(&NEWER[..1]);
    assert!(older.apply(&mut conn).is_err(), "the database is ahead");
    let report = older
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .expect("rolled back with the recorded down");
    assert_eq!(report.reverted.len(), 1);
    assert!(report.reverted[0].from_database);
    assert!(!db.table_exists("two") && db.table_exists("one"));
    assert!(
        older.verify(&mut conn).unwrap().problems.is_empty(),
        "back in step with this build"
    );
}

/// Issue 13.14: `redo` rolls the newest back and applies it again.
fn redo_rolls_back_and_applies_again(db: TestDb) {
    static LIST: &[Migration] = &[
        common::reversible(
            1,
            "One",
            &["CREATE TABLE one (id INTEGER)"],
            &["DROP TABLE one"],
        ),
        common::reversible(
            2,
            "Seed",
            &["INSERT INTO one (id) VALUES (1)"],
            &["DELETE FROM one WHERE id = 1"],
        ),
    ];
    let mut conn = db.connect();
    let migrator = Migrator::new(LIST);
    migrator.apply(&mut conn).unwrap();
    db.exec("INSERT INTO one (id) VALUES (2)");
    let report = migrator.redo(&mut conn, 1, &mut Silent).unwrap();
    assert_eq!(
        report
            .reverted
            .iter()
            .map(|r| r.version)
            .collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(
        report.applied.iter().map(|r| r.version).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(report.version, 2);
    assert_eq!(
        db.count("one"),
        2,
        "row 1 deleted and inserted again, row 2 kept"
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, true)]);
}
