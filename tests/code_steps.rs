//! Migrations that are code (issue 17): Rust steps beside the SQL, on every
//! backend, committing with the SQL and the tracking row or not at all.

mod common;

use common::{m, Backend, TestDb};
use versioned_migrations::diesel::{
    self, ExpressionMethods, NullableExpressionMethods, QueryDsl, RunQueryDsl,
};
use versioned_migrations::{
    ApplyOptions, Code, CodeError, Db, DieselConnection, Error, FailureStage, Migration, Migrator,
    Observer, Problem, Refusal, RollbackTarget, Silent, StepInfo, Value,
};

const USERS: Migration = m(
    1,
    "Create users",
    &[
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(200) NOT NULL)",
        "INSERT INTO users (id, email) VALUES (1, 'Ada@Example.com'), (2, 'GRACE@example.COM'), (3, 'linus@example.com')",
    ],
);

/// Lower-cases every e-mail into the new column, one row at a time, with
/// Rust's own `to_lowercase` (what SQL's LOWER does not do for every script).
fn lower_emails(db: &mut Db<'_>) -> Result<(), CodeError> {
    for row in db.query("SELECT id, email FROM users ORDER BY id")? {
        let id: i64 = row[0].as_deref().ok_or("no id")?.parse()?;
        let email = row[1].clone().ok_or("no email")?;
        let sql = format!(
            "UPDATE users SET email_lower = {} WHERE id = {}",
            db.placeholder(1),
            db.placeholder(2)
        );
        db.execute_with(&sql, &[Value::from(email.to_lowercase()), Value::from(id)])?;
    }
    Ok(())
}

fn forget_lower_emails(db: &mut Db<'_>) -> Result<(), CodeError> {
    db.execute("UPDATE users SET email_lower = NULL")?;
    Ok(())
}

const LOWER: Code = Code {
    name: "lower_emails",
    revision: 1,
    up: lower_emails,
    down: Some(forget_lower_emails),
};

static LIST: &[Migration] = &[
    USERS,
    Migration {
        sql: &["ALTER TABLE users ADD COLUMN email_lower VARCHAR(200)"],
        down: &["ALTER TABLE users DROP COLUMN email_lower"],
        code: Some(LOWER),
        ..m(2, "Lower-case e-mails into a new column", &[])
    },
];

fn lowered(db: &TestDb) -> Vec<Option<String>> {
    common::texts(
        &mut db.connect(),
        "SELECT email_lower AS value FROM users ORDER BY id",
    )
    .unwrap()
}

on_all_backends!(
    a_backfill_reads_and_writes_rows,
    a_failing_step_after_its_sql_leaves_nothing_or_a_dirty_row,
    a_panicking_step_is_caught,
    a_revision_bump_is_an_edit,
    a_code_only_entry,
    rollback_runs_the_steps_down_first,
    batches_report_progress,
    the_diesel_query_builder_works_in_a_step,
    a_code_step_round_trips,
);

/// `roundtrip` runs code steps both ways: the step's down runs before the
/// down SQL, and the schema comes back exactly.
fn a_code_step_round_trips(db: TestDb) {
    let report = Migrator::new(LIST)
        .roundtrip(&mut db.connect())
        .expect("roundtrip");
    assert!(report.is_clean(), "{report:#?}");
    let outcomes: Vec<_> = report.migrations.iter().map(|m| m.outcome).collect();
    assert_eq!(
        outcomes,
        [
            versioned_migrations::schema::RoundtripOutcome::Irreversible,
            versioned_migrations::schema::RoundtripOutcome::Reversible
        ]
    );
    let emails = lowered(&db);
    assert!(
        emails.len() == 3 && emails.iter().all(Option::is_some),
        "the step ran again after the round trip: {emails:?}"
    );
}

fn a_backfill_reads_and_writes_rows(db: TestDb) {
    let mut conn = db.connect();
    let report = Migrator::new(LIST).apply(&mut conn).expect("apply");
    assert_eq!(report.applied.len(), 2);
    assert_eq!(
        lowered(&db),
        [
            Some("ada@example.com".into()),
            Some("grace@example.com".into()),
            Some("linus@example.com".into())
        ]
    );
    let status = Migrator::new(LIST).status(&mut conn).unwrap();
    assert_eq!(
        status.migrations[1].code.as_deref(),
        Some("lower_emails (revision 1)")
    );
    assert!(Migrator::new(LIST)
        .verify(&mut conn)
        .unwrap()
        .problems
        .is_empty());
}

fn failing(_: &mut Db<'_>) -> Result<(), CodeError> {
    Err("the address book is locked".into())
}

fn panicking(_: &mut Db<'_>) -> Result<(), CodeError> {
    panic!("index out of range in the step")
}

fn broken_list(up: versioned_migrations::CodeFn) -> &'static [Migration] {
    common::leak_list(vec![
        USERS,
        Migration {
            sql: &["ALTER TABLE users ADD COLUMN email_lower VARCHAR(200)"],
            code: Some(Code {
                name: "broken_step",
                revision: 1,
                up,
                down: None,
            }),
            ..m(2, "Broken step", &[])
        },
    ])
}

fn fails_cleanly(db: &TestDb, list: &'static [Migration], said: &str) {
    let mut conn = db.connect();
    let err = Migrator::new(list)
        .apply(&mut conn)
        .expect_err("the step fails");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (failure.version, failure.stage),
        (2, FailureStage::Code),
        "{err}"
    );
    assert!(err.to_string().contains("code step broken_step"), "{err}");
    assert!(err.to_string().contains(said), "{err}");
    assert_eq!(failure.completed.len(), 1, "migration 1 stays applied");
    if db.transactional_ddl() {
        assert!(!failure.dirty);
        assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
        assert!(
            db.connect()
                .batch_execute("SELECT email_lower FROM users")
                .is_err(),
            "the SQL was rolled back too"
        );
    } else {
        // MySQL committed the ALTER: the row is dirty.
        assert!(failure.dirty);
        assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]);
    }
}

fn a_failing_step_after_its_sql_leaves_nothing_or_a_dirty_row(db: TestDb) {
    fails_cleanly(&db, broken_list(failing), "the address book is locked");
}

fn a_panicking_step_is_caught(db: TestDb) {
    fails_cleanly(
        &db,
        broken_list(panicking),
        "panicked: index out of range in the step",
    );
}

fn a_revision_bump_is_an_edit(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(LIST).apply(&mut conn).unwrap();
    let bumped = common::leak_list(vec![
        USERS,
        Migration {
            code: Some(Code {
                revision: 2,
                ..LOWER
            }),
            ..LIST[1]
        },
    ]);
    let report = Migrator::new(bumped).verify(&mut conn).unwrap();
    assert!(
        matches!(
            report.problems[..],
            [Problem::ChecksumMismatch { version: 2, .. }]
        ),
        "{:?}",
        report.problems
    );
    fn renamed_function(db: &mut Db<'_>) -> Result<(), CodeError> {
        lower_emails(db)
    }
    let renamed = common::leak_list(vec![
        USERS,
        Migration {
            code: Some(Code {
                up: renamed_function,
                ..LOWER
            }),
            ..LIST[1]
        },
    ]);
    assert!(
        Migrator::new(renamed)
            .verify(&mut conn)
            .unwrap()
            .problems
            .is_empty(),
        "renaming the function is not an edit"
    );
}

fn count_users(db: &mut Db<'_>) -> Result<(), CodeError> {
    let rows = db.query("SELECT COUNT(*) FROM users")?;
    let count = rows[0][0].clone().ok_or("no count")?;
    let sql = format!("INSERT INTO user_counts (n) VALUES ({})", db.placeholder(1));
    db.execute_with(&sql, &[Value::Text(count)])?;
    Ok(())
}

fn a_code_only_entry(db: TestDb) {
    static ONLY: &[Migration] = &[
        USERS,
        m(
            2,
            "Counts table",
            &["CREATE TABLE user_counts (n VARCHAR(20))"],
        ),
        Migration {
            code: Some(Code {
                name: "count_users",
                revision: 1,
                up: count_users,
                down: None,
            }),
            ..m(3, "Count users", &[])
        },
    ];
    assert_eq!(
        versioned_migrations::find_invalid(ONLY),
        None,
        "code only is a valid entry"
    );
    let mut conn = db.connect();
    Migrator::new(ONLY).apply(&mut conn).unwrap();
    assert_eq!(
        common::texts(&mut conn, "SELECT n AS value FROM user_counts").unwrap(),
        [Some("3".to_string())]
    );
    let refused = Migrator::new(ONLY)
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .expect_err("no down: irreversible");
    assert!(
        matches!(
            refused,
            Error::Refused(Refusal::Irreversible { version: 3, .. })
        ),
        "{refused}"
    );
}

fn rollback_runs_the_steps_down_first(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(LIST).apply(&mut conn).unwrap();
    let dry = Migrator::new(LIST)
        .rollback(&mut conn, RollbackTarget::Steps(1), true, &mut Silent)
        .unwrap();
    assert_eq!(
        dry.pending[0].code.as_deref(),
        Some("lower_emails (revision 1)")
    );
    Migrator::new(LIST)
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .unwrap();
    assert!(
        db.connect()
            .batch_execute("SELECT email_lower FROM users")
            .is_err(),
        "dropped by the down SQL"
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
    // The step's down ran before the column went: applying again works.
    Migrator::new(LIST).apply(&mut conn).unwrap();
    assert_eq!(lowered(&db).len(), 3);
}

/// Counts what batches report.
#[derive(Default)]
struct Progress(u64);
impl Observer for Progress {
    fn code_progress(&mut self, _: &StepInfo<'_>, rows: u64, _: std::time::Duration) {
        self.0 = rows;
    }
}

fn lower_in_batches(db: &mut Db<'_>) -> Result<(), CodeError> {
    let pick = match db.backend() {
        // MySQL cannot LIMIT a subquery of the table it updates.
        versioned_migrations::Dialect::Mysql => {
            "UPDATE users SET email_lower = LOWER(email) WHERE email_lower IS NULL ORDER BY id LIMIT 2"
        }
        _ => "UPDATE users SET email_lower = LOWER(email) WHERE id IN (SELECT id FROM users WHERE email_lower IS NULL ORDER BY id LIMIT 2)",
    };
    let total = db.in_batches(|db| db.execute(pick))?;
    if total != 3 {
        return Err(format!("{total} rows").into());
    }
    Ok(())
}

fn batches_report_progress(db: TestDb) {
    static BATCHED: &[Migration] = &[
        USERS,
        Migration {
            sql: &["ALTER TABLE users ADD COLUMN email_lower VARCHAR(200)"],
            code: Some(Code {
                name: "lower_in_batches",
                revision: 1,
                up: lower_in_batches,
                down: None,
            }),
            ..m(2, "Lower-case in batches", &[])
        },
    ];
    let mut conn = db.connect();
    let mut progress = Progress::default();
    Migrator::new(BATCHED)
        .apply_with(&mut conn, ApplyOptions::default(), &mut progress)
        .expect("apply");
    assert_eq!(progress.0, 3, "two batches, 3 rows");
    assert_eq!(lowered(&db).iter().filter(|v| v.is_some()).count(), 3);
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        email_lower -> Nullable<Text>,
    }
}

/// The same backfill with diesel's query builder and a `table!` frozen for
/// this migration.
fn lower_with_diesel(db: &mut Db<'_>) -> Result<(), CodeError> {
    let update = diesel::update(users::table.filter(users::id.gt(0)))
        .set(users::email_lower.eq(users::email.nullable()));
    let changed = match db.diesel() {
        DieselConnection::Sqlite(conn) => update.execute(conn)?,
        #[cfg(feature = "postgres")]
        DieselConnection::Postgres(conn) => update.execute(conn)?,
        #[cfg(feature = "mysql")]
        DieselConnection::Mysql(conn) => update.execute(conn)?,
        _ => return Err("a backend this build lacks".into()),
    };
    if changed != 3 {
        return Err(format!("{changed} rows changed").into());
    }
    Ok(())
}

fn the_diesel_query_builder_works_in_a_step(db: TestDb) {
    static DIESEL: &[Migration] = &[
        USERS,
        Migration {
            sql: &["ALTER TABLE users ADD COLUMN email_lower VARCHAR(200)"],
            code: Some(Code {
                name: "copy_with_diesel",
                revision: 1,
                up: lower_with_diesel,
                down: None,
            }),
            ..m(2, "Copy e-mails with diesel", &[])
        },
    ];
    Migrator::new(DIESEL)
        .apply(&mut db.connect())
        .expect("apply");
    assert_eq!(lowered(&db)[0].as_deref(), Some("Ada@Example.com"));
    let _ = Backend::Sqlite;
}
