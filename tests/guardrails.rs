//! Guardrails on a live database (issue 15), on PostgreSQL and MariaDB: a
//! migration stuck behind a long transaction gives up fast and names the
//! session in the way, retries when asked, slow statements are stopped, and
//! none of the settings leak.

#![cfg(any(feature = "postgres", feature = "mysql"))]

mod common;

use std::time::Duration;

use common::{m, returns_within, Backend, TestDb};
use versioned_migrations::{
    ApplyOptions, Error, Guardrails, Migration, Migrator, Observer, Silent, StepInfo,
};

/// A session with an open transaction that has read `t`: every later
/// exclusive lock on `t` waits for it. Its session id.
fn hold_table(db: &TestDb) -> (versioned_migrations::AnyConnection, String) {
    let mut conn = db.connect();
    let id_sql = match db.backend {
        Backend::Postgres => "SELECT CAST(pg_backend_pid() AS TEXT) AS value",
        _ => "SELECT CAST(CONNECTION_ID() AS CHAR) AS value",
    };
    let id = common::texts(&mut conn, id_sql).unwrap()[0]
        .clone()
        .unwrap();
    conn.batch_execute(match db.backend {
        Backend::Postgres => "BEGIN; SELECT COUNT(*) FROM t",
        _ => "START TRANSACTION; SELECT COUNT(*) FROM t",
    })
    .unwrap();
    (conn, id)
}

static BASE: &[Migration] = &[m(
    1,
    "Create t",
    &["CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)"],
)];
static ALTER: &[Migration] = &[
    BASE[0],
    m(2, "Add a column", &["ALTER TABLE t ADD COLUMN c INTEGER"]),
];

fn guarded(seconds: u64, retries: u32) -> Guardrails {
    Guardrails::default()
        .ddl_lock_timeout(Duration::from_secs(seconds))
        .retries(retries)
}

macro_rules! on_servers {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[test]
            #[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
            fn $name() {
                #[cfg(feature = "postgres")]
                super::$name(super::TestDb::new(super::Backend::Postgres));
                #[cfg(not(feature = "postgres"))]
                panic!("built without the `postgres` feature");
            })*
        }
        mod mysql {
            $(#[test]
            #[ignore = "server test: needs --features mysql, TEST_MYSQL_URL and -- --include-ignored"]
            fn $name() {
                #[cfg(feature = "mysql")]
                super::$name(super::TestDb::new(super::Backend::Mysql));
                #[cfg(not(feature = "mysql"))]
                panic!("built without the `mysql` feature");
            })*
        }
    };
}

on_servers!(
    a_blocked_migration_gives_up_and_names_the_blocker,
    retries_succeed_once_the_blocker_ends,
    a_retried_migration_that_follows_another_in_the_run_applies_once,
    a_slow_statement_is_stopped,
    settings_never_leak,
    migrations_in_one_run_each_get_the_limits_and_none_leak,
);

fn a_blocked_migration_gives_up_and_names_the_blocker(db: TestDb) {
    Migrator::new(BASE).apply(&mut db.connect()).unwrap();
    let (blocker, blocker_id) = hold_table(&db);
    let url = db.url.clone();
    let apply = std::thread::spawn(move || {
        let mut conn = common::connect_url(&url).unwrap();
        Migrator::new(ALTER)
            .with_guardrails(guarded(2, 0))
            .apply(&mut conn)
    });
    // Meanwhile a third session's read of the table is held up at most as
    // long as the migration waits, never until the blocker ends.
    std::thread::sleep(Duration::from_millis(300));
    let url = db.url.clone();
    returns_within(Duration::from_secs(20), move || {
        let mut reader = common::connect_url(&url).unwrap();
        reader.batch_execute("SELECT COUNT(*) FROM t").unwrap();
    });
    let err = returns_within(Duration::from_secs(30), move || apply.join().unwrap())
        .expect_err("the lock is held");
    let Error::MigrationFailed { failure } = &err else {
        panic!("{err}")
    };
    assert!(failure.lock_timeout, "{err}");
    assert!(
        failure.blockers.iter().any(|b| b.session == blocker_id),
        "names session {blocker_id}: {:?}",
        failure.blockers
    );
    assert!(
        err.to_string()
            .contains(&format!("held by session {blocker_id}")),
        "{err}"
    );
    drop(blocker);
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true)],
        "nothing recorded"
    );
    assert_eq!(db.count("t WHERE 1 = 1"), 0);
    let mut conn = db.connect();
    Migrator::new(ALTER)
        .apply(&mut conn)
        .expect("applies once the blocker is gone");
}

#[derive(Default)]
struct Retries(u32);
impl Observer for Retries {
    fn retrying(&mut self, _: &StepInfo<'_>, attempt: u32, _: u32, _: Duration) {
        self.0 = attempt;
    }
}

/// Applies `list` over `BASE` with a ddl lock timeout of 1 s and 5 retries
/// while another session holds `t` for 2.5 s: how many migrations it
/// applied (or its error) and how many retries it made.
fn apply_while_t_is_held(db: &TestDb, list: &'static [Migration]) -> (Result<usize, Error>, u32) {
    Migrator::new(BASE).apply(&mut db.connect()).unwrap();
    let (mut blocker, _) = hold_table(db);
    let url = db.url.clone();
    let apply = std::thread::spawn(move || {
        let mut conn = common::connect_url(&url).unwrap();
        let mut retries = Retries::default();
        let result = Migrator::new(list)
            .apply_with(
                &mut conn,
                ApplyOptions::default().guardrails(guarded(1, 5)),
                &mut retries,
            )
            .map(|report| report.applied.len());
        (result, retries.0)
    });
    std::thread::sleep(Duration::from_millis(2500));
    blocker.batch_execute("COMMIT").unwrap();
    returns_within(Duration::from_secs(60), move || apply.join().unwrap())
}

fn retries_succeed_once_the_blocker_ends(db: TestDb) {
    let (result, retried) = apply_while_t_is_held(&db, ALTER);
    assert_eq!(result.expect("succeeds on a retry"), 1);
    assert!(retried >= 1, "retried {retried} time(s)");
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true)],
        "applied once"
    );
}

/// On MySQL the second migration's dirty row is written in the commit that
/// settles the first; when its first statement then gives up on the lock,
/// the row is taken back and the retry writes it again.
fn a_retried_migration_that_follows_another_in_the_run_applies_once(db: TestDb) {
    static THREE: &[Migration] = &[
        BASE[0],
        m(2, "Create u", &["CREATE TABLE u (id INTEGER PRIMARY KEY)"]),
        m(3, "Add a column", &["ALTER TABLE t ADD COLUMN c INTEGER"]),
    ];
    let (result, retried) = apply_while_t_is_held(&db, THREE);
    assert_eq!(result.expect("succeeds on a retry"), 2);
    assert!(retried >= 1, "retried {retried} time(s)");
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)],
        "each applied once"
    );
}

fn a_slow_statement_is_stopped(db: TestDb) {
    static SLOW: &[Migration] = &[m(1, "Slow", &["CREATE TABLE slow_done (id INTEGER)"])];
    let sleep = match db.backend {
        Backend::Postgres => "SELECT pg_sleep(120)",
        // MariaDB's max_statement_time stops a SELECT SLEEP, not a DO SLEEP.
        _ => "SELECT SLEEP(120)",
    };
    let list: &'static [Migration] = Box::leak(
        vec![
            SLOW[0],
            m(2, "Sleeps", Box::leak(vec![sleep].into_boxed_slice())),
        ]
        .into_boxed_slice(),
    );
    let url = db.url.clone();
    let err = returns_within(Duration::from_secs(60), move || {
        let mut conn = common::connect_url(&url).unwrap();
        Migrator::new(list)
            .with_guardrails(Guardrails::default().statement_timeout(Duration::from_secs(1)))
            .apply(&mut conn)
            .expect_err("stopped")
    });
    assert!(
        matches!(err, Error::MigrationFailed { ref failure } if failure.version == 2),
        "{err}"
    );
    match db.backend {
        // Rolled back with its transaction.
        Backend::Postgres => assert_eq!(db.tracked("schema_migrations"), [(1, true)]),
        // MySQL cannot tell what a stopped statement kept: the row stays dirty.
        _ => assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]),
    }
}

fn settings_never_leak(db: TestDb) {
    let (lock_setting, statement_setting) = match db.backend {
        Backend::Postgres => (
            "current_setting('lock_timeout')",
            "current_setting('statement_timeout')",
        ),
        _ => (
            "CAST(@@SESSION.lock_wait_timeout AS CHAR)",
            "CAST(@@SESSION.innodb_lock_wait_timeout AS CHAR)",
        ),
    };
    let seen = |table: &str| -> &'static str {
        common::leak(format!("CREATE TABLE {table} AS SELECT {lock_setting} AS lock_value, {statement_setting} AS other"))
    };
    let guarded_list: &'static [Migration] = Box::leak(
        vec![m(
            1,
            "Seen guarded",
            Box::leak(vec![seen("seen_guarded")].into_boxed_slice()),
        )]
        .into_boxed_slice(),
    );
    let plain_list: &'static [Migration] = Box::leak(
        vec![
            guarded_list[0],
            m(
                2,
                "Seen plain",
                Box::leak(vec![seen("seen_plain")].into_boxed_slice()),
            ),
        ]
        .into_boxed_slice(),
    );
    let mut conn = db.connect();
    let before = common::texts(&mut conn, &format!("SELECT {lock_setting} AS value")).unwrap();
    Migrator::new(guarded_list)
        .with_guardrails(
            Guardrails::default()
                .ddl_lock_timeout(Duration::from_secs(7))
                .statement_timeout(Duration::from_secs(9)),
        )
        .apply(&mut conn)
        .unwrap();
    let after = common::texts(&mut conn, &format!("SELECT {lock_setting} AS value")).unwrap();
    assert_eq!(before, after, "the connection has its own setting back");
    Migrator::new(plain_list)
        .apply_with(&mut conn, ApplyOptions::default(), &mut Silent)
        .unwrap();
    let text = match db.backend {
        Backend::Postgres => "TEXT",
        _ => "CHAR",
    };
    let guarded = common::texts(
        &mut db.connect(),
        &format!("SELECT CAST(lock_value AS {text}) AS value FROM seen_guarded"),
    )
    .unwrap();
    let plain = common::texts(
        &mut db.connect(),
        &format!("SELECT CAST(lock_value AS {text}) AS value FROM seen_plain"),
    )
    .unwrap();
    match db.backend {
        Backend::Postgres => assert_eq!(guarded, [Some(String::from("7s"))]),
        _ => assert_eq!(guarded, [Some(String::from("7"))]),
    }
    assert_eq!(
        plain, before,
        "the next migration runs with the session's own setting"
    );
}

/// Three migrations in one run (on MySQL the later ones start in the
/// settings the one before left on): each runs under the ddl lock timeout
/// asked for, and afterwards the connection has its own setting and, on
/// MySQL, autocommit back.
fn migrations_in_one_run_each_get_the_limits_and_none_leak(db: TestDb) {
    let (lock_setting, text) = match db.backend {
        Backend::Postgres => ("current_setting('lock_timeout')", "TEXT"),
        _ => ("CAST(@@SESSION.lock_wait_timeout AS CHAR)", "CHAR"),
    };
    let list: &'static [Migration] = Box::leak(
        (1..=3)
            .map(|i| {
                let sql = format!("CREATE TABLE seen_{i} AS SELECT {lock_setting} AS lock_value");
                let statements = vec![common::leak(sql)];
                m(i, "Seen", Box::leak(statements.into_boxed_slice()))
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let mut conn = db.connect();
    let before = common::texts(&mut conn, &format!("SELECT {lock_setting} AS value")).unwrap();
    Migrator::new(list)
        .with_guardrails(Guardrails::default().ddl_lock_timeout(Duration::from_secs(7)))
        .apply(&mut conn)
        .unwrap();
    let after = common::texts(&mut conn, &format!("SELECT {lock_setting} AS value")).unwrap();
    assert_eq!(before, after, "the connection has its own setting back");
    let expected = match db.backend {
        Backend::Postgres => "7s",
        _ => "7",
    };
    for i in 1..=3 {
        let seen = common::texts(
            &mut conn,
            &format!("SELECT CAST(lock_value AS {text}) AS value FROM seen_{i}"),
        )
        .unwrap();
        assert_eq!(seen, [Some(String::from(expected))], "migration {i}");
    }
    if db.backend == Backend::Mysql {
        let autocommit = common::scalar(&mut conn, "SELECT @@autocommit AS value");
        assert_eq!(autocommit.expect("read"), Some(1));
    }
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
}

/// A `CREATE INDEX CONCURRENTLY` that gave up waiting leaves an INVALID
/// index; the retry drops it first and builds it again.
#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
#[cfg(feature = "postgres")]
fn a_cancelled_concurrent_index_is_dropped_and_built_again() {
    static LIST: &[Migration] = &[
        BASE[0],
        Migration {
            transaction: false,
            ..m(
                2,
                "Index x concurrently",
                &["CREATE INDEX CONCURRENTLY idx_t_x ON t (x)"],
            )
        },
    ];
    let db = TestDb::new(Backend::Postgres);
    Migrator::new(&LIST[..1]).apply(&mut db.connect()).unwrap();
    // A concurrent build waits for every open transaction that writes the table.
    let mut blocker = db.connect();
    blocker
        .batch_execute("BEGIN; INSERT INTO t (id, x) VALUES (1, 1)")
        .unwrap();
    let url = db.url.clone();
    let apply = std::thread::spawn(move || {
        let mut conn = common::connect_url(&url).unwrap();
        let mut retries = Retries::default();
        let result = Migrator::new(LIST)
            .with_guardrails(guarded(1, 5))
            .apply_with(&mut conn, ApplyOptions::default(), &mut retries)
            .map(|report| report.applied.len());
        (result, retries.0)
    });
    std::thread::sleep(Duration::from_millis(2500));
    blocker.batch_execute("COMMIT").unwrap();
    let (result, retried) = returns_within(Duration::from_secs(60), move || apply.join().unwrap());
    assert_eq!(result.expect("built on a retry"), 1);
    assert!(retried >= 1);
    assert_eq!(
        db.scalar("SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_t_x' AND i.indisvalid"),
        1,
        "one valid index"
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, true)]);
}
