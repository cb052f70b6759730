//! Nothing lost, nothing twice: the races users actually run (apply against
//! rollback, repair during a non-transactional apply, many applies over a
//! `transaction: false` migration, readers during a writer), SQLite's
//! table-rebuild recipe, and waits that are always bounded.

mod common;

use std::process::Child;
use std::time::Duration;

use common::children::{self, applied_count, exit_ok, spawn, wait_for};
use common::{leak_list, m, returns_within, slow_sql, Backend, TestDb};
use versioned_migrations::{ApplyOptions, Error, Migration, Migrator, RollbackTarget, Silent};

/// The lists the child processes run, built the same way in every process.
fn child_list(name: &str, backend: Backend) -> &'static [Migration] {
    leak_list(match name {
        // Version 3 runs for a while, so a second command can race it.
        "slow3" => vec![
            m(1, "one", &["CREATE TABLE r1 (id INTEGER)"]),
            m(2, "two", &["CREATE TABLE r2 (id INTEGER)"]),
            m(
                3,
                "three (slow)",
                Box::leak(
                    vec!["CREATE TABLE r3 (id INTEGER)", slow_sql(backend, 1.5)].into_boxed_slice(),
                ),
            ),
            m(4, "four", &["CREATE TABLE r4 (id INTEGER)"]),
        ]
        .into_iter()
        .map(|m| Migration {
            down: match m.version {
                1 => &["DROP TABLE r1"],
                2 => &["DROP TABLE r2"],
                3 => &["DROP TABLE r3"],
                _ => &["DROP TABLE r4"],
            },
            ..m
        })
        .collect(),
        // Version 2 is non-transactional and slow; every run of a statement
        // leaves a row in `ran`, so running twice shows.
        "nontx" => vec![
            m(1, "log table", &["CREATE TABLE ran (version INTEGER)"]),
            Migration {
                transaction: false,
                ..m(
                    2,
                    "non-transactional and slow",
                    Box::leak(
                        vec![
                            "INSERT INTO ran (version) VALUES (2)",
                            slow_sql(backend, 1.0),
                        ]
                        .into_boxed_slice(),
                    ),
                )
            },
            m(3, "after", &["INSERT INTO ran (version) VALUES (3)"]),
        ],
        other => panic!("unknown list {other}"),
    })
}

/// A child process of the concurrency tests (see `common::children`);
/// in a normal run it checks the lists.
#[test]
fn child_process_entry() {
    children::entry(child_list, &["slow3", "nontx"]);
}

on_all_backends!(
    rollback_beside_a_running_apply_waits_and_undoes_the_newest,
    concurrent_applies_over_a_non_transactional_migration_all_succeed,
    repair_during_a_non_transactional_migration_waits,
    readers_during_a_writer_never_fail,
    a_table_lock_on_the_tracking_table_is_bounded_by_the_lock_timeout,
);

/// `rollback --steps 1` started while `apply` runs version 3 of 4: it waits
/// for the apply and undoes 4, the newest; never 2 from under 3 and 4.
fn rollback_beside_a_running_apply_waits_and_undoes_the_newest(db: TestDb) {
    let list = child_list("slow3", db.backend);
    let migrator = Migrator::new(list).with_lock_timeout(Duration::from_secs(60));
    let mut conn = db.connect();
    migrator
        .apply_with(&mut conn, ApplyOptions::default().to(2), &mut Silent)
        .expect("apply --to 2");
    let mut child = spawn(&db, "slow3");
    let output = wait_for(&mut child, "vm-started 3");
    let report = migrator
        .rollback(&mut conn, RollbackTarget::Steps(1), false, &mut Silent)
        .expect("rollback");
    let text = exit_ok(child, output);
    assert!(text.contains("vm-applied 2"), "{text}");
    assert_eq!(
        report
            .reverted
            .iter()
            .map(|r| r.version)
            .collect::<Vec<_>>(),
        [4],
        "the newest migration once the apply finished"
    );
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
    assert!(db.table_exists("r2") && db.table_exists("r3"));
    assert!(!db.table_exists("r4"));
    assert!(migrator.verify(&mut conn).unwrap().problems.is_empty());
    let again = migrator.apply(&mut conn).expect("the next apply");
    assert_eq!(
        again.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        [4]
    );
}

/// Eight applies at once over a `transaction: false` migration: every
/// process succeeds and every statement ran exactly once, in order.
fn concurrent_applies_over_a_non_transactional_migration_all_succeed(db: TestDb) {
    let children: Vec<Child> = (0..8).map(|_| spawn(&db, "nontx")).collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().expect("child");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "every process succeeds: {text}");
        applied += applied_count(&text);
    }
    assert_eq!(
        applied, 3,
        "three migrations applied across eight processes"
    );
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
    assert_eq!(db.count("ran WHERE version = 2"), 1, "version 2 ran once");
    assert_eq!(db.count("ran WHERE version = 3"), 1, "version 3 ran once");
}

/// `repair` while a non-transactional migration runs waits for it instead
/// of removing its in-flight row, so nothing runs twice afterwards.
fn repair_during_a_non_transactional_migration_waits(db: TestDb) {
    let list = child_list("nontx", db.backend);
    let migrator = Migrator::new(list).with_lock_timeout(Duration::from_secs(60));
    let mut child = spawn(&db, "nontx");
    let output = wait_for(&mut child, "vm-started 2");
    let mut conn = db.connect();
    let repaired = migrator
        .repair(&mut conn, false, &mut Silent)
        .expect("repair");
    assert!(
        repaired.removed_dirty.is_empty(),
        "nothing was dirty once the run finished"
    );
    exit_ok(child, output);
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
    let again = Migrator::new(list)
        .allow_out_of_order(true)
        .apply(&mut conn)
        .expect("apply");
    assert!(again.applied.is_empty(), "nothing to run again");
    assert_eq!(db.count("ran WHERE version = 2"), 1, "version 2 ran once");
}

/// `status`, `check` and `version` during another process's apply: all
/// succeed (readers wait for the writer's commit instead of failing).
fn readers_during_a_writer_never_fail(db: TestDb) {
    let list = child_list("slow3", db.backend);
    let migrator = Migrator::new(list).with_lock_timeout(Duration::from_secs(60));
    let mut child = spawn(&db, "slow3");
    let output = wait_for(&mut child, "vm-started 1");
    let mut reads = 0;
    let mut conn = common::connect_read_only(&db.url);
    while child.try_wait().expect("child").is_none() && reads < 2000 {
        migrator.status(&mut conn).expect("status during apply");
        migrator.verify(&mut conn).expect("verify during apply");
        migrator.version(&mut conn).expect("version during apply");
        reads += 1;
    }
    eprintln!("{reads} rounds of reads during the apply");
    exit_ok(child, output);
}

/// SQLite's documented table rebuild (foreign keys off, new table, copy,
/// drop, rename, foreign keys on) keeps every child row, as in the shell.
#[test]
fn sqlite_table_rebuild_recipe_keeps_child_rows() {
    static LIST: &[Migration] = &[
        m(
            1,
            "users and posts",
            &[
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, title TEXT)",
                "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace')",
                "INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')",
            ],
        ),
        m(
            2,
            "rebuild users with NOT NULL name",
            &[
                "PRAGMA foreign_keys=OFF",
                "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
                "INSERT INTO users_new (id, name) SELECT id, name FROM users",
                "DROP TABLE users",
                "ALTER TABLE users_new RENAME TO users",
                "PRAGMA foreign_keys=ON",
            ],
        ),
    ];
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    Migrator::new(LIST).apply(&mut conn).expect("apply");
    assert_eq!(db.count("posts"), 3, "no child row deleted");
    assert_eq!(db.count("users"), 2);
    assert_eq!(
        db.scalar("SELECT foreign_keys AS value FROM pragma_foreign_keys"),
        1,
        "foreign keys are enforced again afterwards"
    );
}

/// The same recipe leaving a dangling reference fails the migration with
/// the violation, and nothing of it is applied.
#[test]
fn sqlite_table_rebuild_with_a_broken_reference_is_refused() {
    static LIST: &[Migration] = &[
        m(
            1,
            "users and posts",
            &[
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT)",
                "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace')",
                "INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'a'), (2, 2, 'b')",
            ],
        ),
        m(
            2,
            "rebuild users, losing grace",
            &[
                "PRAGMA foreign_keys = off",
                "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
                "INSERT INTO users_new (id, name) SELECT id, name FROM users WHERE id = 1",
                "DROP TABLE users",
                "ALTER TABLE users_new RENAME TO users",
                "PRAGMA foreign_keys = on",
            ],
        ),
    ];
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    let err = Migrator::new(LIST).apply(&mut conn).expect_err("violation");
    let text = err.to_string();
    assert!(matches!(err, Error::MigrationFailed { .. }), "{text}");
    assert!(text.contains("foreign key"), "{text}");
    assert!(text.contains("posts"), "{text}");
    assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
    assert_eq!(db.count("users"), 2, "rolled back");
    assert_eq!(
        db.scalar("SELECT foreign_keys AS value FROM pragma_foreign_keys"),
        1,
        "foreign keys are enforced again afterwards"
    );
}

/// An application's own connection keeps its own settings: the runner
/// restores the busy timeout it changed.
#[test]
fn sqlite_settings_are_restored_on_the_apps_connection() {
    static LIST: &[Migration] = &[m(1, "t", &["CREATE TABLE t (id INTEGER)"])];
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    conn.batch_execute("PRAGMA busy_timeout = 1234").unwrap();
    Migrator::new(LIST).apply(&mut conn).expect("apply");
    Migrator::new(LIST).status(&mut conn).expect("status");
    assert_eq!(
        common::scalar(
            &mut conn,
            "SELECT timeout AS value FROM pragma_busy_timeout"
        )
        .unwrap(),
        Some(1234)
    );
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// A server that accepts connections and never says a word.
fn silent_listener() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_connect_to_a_silent_server_gives_up() {
    let port = silent_listener();
    let err = returns_within(Duration::from_secs(40), move || {
        common::connect_url(&format!("mysql://root@127.0.0.1:{port}/db")).err()
    })
    .expect("no connection to a silent server");
    assert!(err.to_string().contains("did not answer"), "{err}");
}

/// A listener that sends the start of a MySQL greeting (a packet header
/// announcing more bytes than follow) on every connection, then nothing.
#[cfg(feature = "mysql")]
fn stalling_listener() -> u16 {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(&[0x4a, 0x00, 0x00, 0x00, 0x0a, b'5', b'.', b'5']);
            held.push(stream);
        }
    });
    port
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_connect_to_a_server_that_stalls_after_greeting_gives_up() {
    let port = stalling_listener();
    let err = returns_within(Duration::from_secs(40), move || {
        common::connect_url(&format!("mysql://root@127.0.0.1:{port}/db")).err()
    })
    .expect("no connection to a stalling server");
    assert!(err.to_string().contains("did not complete"), "{err}");
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_connect_to_a_silent_server_gives_up() {
    let port = silent_listener();
    let err = returns_within(Duration::from_secs(40), move || {
        common::connect_url(&format!("postgres://postgres@127.0.0.1:{port}/db")).err()
    })
    .expect("no connection to a silent server");
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

/// Another session holds an exclusive lock on the tracking table: apply
/// gives up after the lock timeout and says what it waited for.
fn a_table_lock_on_the_tracking_table_is_bounded_by_the_lock_timeout(db: TestDb) {
    static LIST: &[Migration] = &[
        m(1, "t1", &["CREATE TABLE t1 (id INTEGER)"]),
        m(2, "t2", &["CREATE TABLE t2 (id INTEGER)"]),
    ];
    let mut conn = db.connect();
    Migrator::new(&LIST[..1]).apply(&mut conn).expect("first");
    let mut holder = db.connect();
    match db.backend {
        Backend::Postgres => holder
            .batch_execute("BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
            .unwrap(),
        Backend::Mysql => holder
            .batch_execute("LOCK TABLES schema_migrations WRITE")
            .unwrap(),
        Backend::Sqlite => holder.batch_execute("BEGIN EXCLUSIVE").unwrap(),
    }
    let url = db.url.clone();
    let err = returns_within(Duration::from_secs(30), move || {
        let mut conn = common::connect_url(&url).expect("connect");
        Migrator::new(LIST)
            .with_lock_timeout(Duration::from_secs(2))
            .apply(&mut conn)
            .expect_err("the table is locked")
    });
    assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
    drop(holder);
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true)],
        "nothing recorded"
    );
}

/// Runs the real binary in `dir` (no DATABASE_URL, no colour).
#[cfg(feature = "cli")]
fn migrate(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::migrate_in(dir, args)
}

#[cfg(feature = "cli")]
#[track_caller]
fn out(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Out-of-range seconds are a usage error (exit 2), never a panic.
#[cfg(feature = "cli")]
#[test]
fn lock_timeout_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["1e20", "-1", "NaN", "inf", "86401", "soon"] {
        let output = migrate(dir.path(), &["status", "--lock-timeout", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", out(&output));
        assert!(
            out(&output).contains("--lock-timeout"),
            "{bad}: {}",
            out(&output)
        );
        assert!(!out(&output).contains("panicked"), "{}", out(&output));
    }
}

/// Every command opens an SQLite URI the same way; options it would not
/// honour are refused instead of half-honoured.
#[cfg(feature = "cli")]
#[test]
fn sqlite_uris_mean_the_same_file_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let applied = migrate(
        dir.path(),
        &["apply", "--database-url", "sqlite://file:rel.db"],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", out(&applied));
    assert!(dir.path().join("rel.db").exists());
    let version = migrate(
        dir.path(),
        &["version", "--database-url", "sqlite://file:rel.db"],
    );
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        "6\n",
        "reads see what writes wrote"
    );
    let version = migrate(
        dir.path(),
        &["version", "--database-url", "file:rel.db?mode=ro"],
    );
    assert_eq!(String::from_utf8_lossy(&version.stdout), "6\n");

    let rwc = migrate(
        dir.path(),
        &["apply", "--database-url", "sqlite://app.db?mode=rwc"],
    );
    assert_eq!(rwc.status.code(), Some(0), "{}", out(&rwc));
    assert!(
        dir.path().join("app.db").exists(),
        "the query is not part of the name"
    );
    assert!(!dir.path().join("app.db?mode=rwc").exists());

    for refused in ["sqlite://m.db?mode=memory", "file:m.db?cache=shared"] {
        let output = migrate(dir.path(), &["apply", "--database-url", refused]);
        assert_eq!(output.status.code(), Some(1), "{refused}: {}", out(&output));
        assert!(
            out(&output).contains("invalid database URL"),
            "{}",
            out(&output)
        );
    }
    let read_only = migrate(
        dir.path(),
        &["apply", "--database-url", "sqlite://app.db?mode=ro"],
    );
    assert_eq!(read_only.status.code(), Some(1));
    assert!(out(&read_only).contains("mode=ro"), "{}", out(&read_only));
}

/// A backup killed midway never leaves a file under the final backup name
/// (it is written under a temporary name and renamed when complete).
#[cfg(feature = "cli")]
#[test]
fn a_killed_backup_leaves_no_partial_file_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    {
        // ~120 MB of data, so VACUUM INTO takes a while.
        let mut conn = common::connect_url(&db.display().to_string()).unwrap();
        conn.batch_execute(
            "CREATE TABLE blobs (b BLOB); \
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 120) \
             INSERT INTO blobs SELECT randomblob(1000000) FROM c",
        )
        .unwrap();
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args([
            "apply",
            "--backup",
            "--database-url",
            &db.display().to_string(),
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let backups = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("big.db.backup-"))
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while backups().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let found = backups();
    assert!(!found.is_empty(), "the backup had started");
    for name in found {
        if name.contains(".partial") {
            continue; // the temporary file (and its journal)
        }
        // A file under a final name must be a whole database.
        let copy = dir.path().join(&name);
        let mut conn = common::connect_read_only(&copy.display().to_string());
        assert_eq!(
            common::scalar(&mut conn, "SELECT COUNT(*) AS value FROM blobs").unwrap(),
            Some(120),
            "{name} is a whole backup"
        );
    }
}

/// A row without a checksum in a table that has the column is reported,
/// not silently re-adopted; an unreadable time is a warning, not a failure.
#[test]
fn null_checksums_and_garbage_times_are_reported() {
    static LIST: &[Migration] = &[
        m(1, "t1", &["CREATE TABLE t1 (id INTEGER)"]),
        m(2, "t2", &["CREATE TABLE t2 (id INTEGER)"]),
    ];
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    let migrator = Migrator::new(LIST);
    migrator.apply(&mut conn).unwrap();
    db.exec("UPDATE schema_migrations SET checksum = NULL WHERE version = 1");
    db.exec("UPDATE schema_migrations SET applied_at = 'yesterday' WHERE version = 2");
    let verify = migrator.verify(&mut conn).expect("verify carries on");
    assert!(
        matches!(
            verify.problems[..],
            [versioned_migrations::Problem::MissingChecksum { version: 1, .. }]
        ),
        "{:?}",
        verify.problems
    );
    assert!(verify.unverified.is_empty(), "not trusted on first use");
    assert!(
        matches!(&verify.warnings[..], [versioned_migrations::RowWarning::UnreadableAppliedAt { version: 2, value }] if value == "yesterday"),
        "{:?}",
        verify.warnings
    );
    let status = migrator.status(&mut conn).expect("status carries on");
    assert_eq!(status.warnings.len(), 1);
    let history = migrator.history(&mut conn).expect("history carries on");
    assert_eq!(history.migrations[1].applied_at, None);
    let refused = migrator
        .apply(&mut conn)
        .expect_err("an unverifiable row stops apply");
    assert!(
        refused.to_string().contains("has no checksum recorded"),
        "{refused}"
    );
    migrator
        .repair(&mut conn, false, &mut Silent)
        .expect("repair records it");
    assert!(migrator.verify(&mut conn).unwrap().problems.is_empty());
}
