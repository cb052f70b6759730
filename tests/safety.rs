//! Safety on every backend: exactly once across processes, locks that are
//! bounded and never stuck (even after SIGKILL), drift, verify / check /
//! repair / baseline, legacy and foreign tracking tables.

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::children::{self, applied_count, spawn, wait_for};
use common::{leak, leak_list, m, slow_sql, Backend, TestDb};
use versioned_migrations::{
    Error, LockKind, Migration, Migrator, Observer, Problem, Refusal, Silent,
};

const THREE: &[Migration] = &[
    m(
        1,
        "Create authors",
        &["CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)"],
    ),
    m(
        2,
        "Create books",
        &["CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(200) NOT NULL)"],
    ),
    m(
        3,
        "Seed authors",
        &["INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Grace')"],
    ),
];

/// The lists child processes run, built the same way in every process.
fn child_list(name: &str, backend: Backend) -> &'static [Migration] {
    leak_list(match name {
        // 20 migrations, each with a slow statement and a table.
        "slow20" => (1..=20)
            .map(|v| {
                let sql = vec![
                    slow_sql(backend, 0.02),
                    leak(format!("CREATE TABLE t{v} (id INTEGER)")),
                ];
                m(v, "slow table", Box::leak(sql.into_boxed_slice()))
            })
            .collect(),
        // Migration 2 creates a table, then runs for a long time (to be
        // killed); "rerun" is the same list with migration 2 made quick, for
        // the run after the kill (its checksum is not recorded yet).
        "kill" | "rerun" => vec![
            m(1, "quick", &["CREATE TABLE k1 (id INTEGER)"]),
            m(
                2,
                "long",
                Box::leak(
                    vec![
                        "CREATE TABLE k2 (id INTEGER)",
                        match name {
                            "rerun" => "SELECT 1",
                            _ => slow_sql(
                                backend,
                                if backend == Backend::Mysql { 3.0 } else { 60.0 },
                            ),
                        },
                    ]
                    .into_boxed_slice(),
                ),
            ),
            m(3, "after", &["CREATE TABLE k3 (id INTEGER)"]),
        ],
        other => panic!("unknown list {other}"),
    })
}

/// A child process of the concurrency tests (see `common::children`);
/// in a normal run it checks the lists.
#[test]
fn child_process_entry() {
    children::entry(child_list, &["slow20", "kill", "rerun"]);
}

on_all_backends!(
    eight_processes_apply_each_migration_exactly_once,
    killed_process_leaves_no_half_applied_migration,
    lock_wait_is_reported_and_bounded,
    verify_check_repair_after_an_edit,
    baseline_adopts_an_existing_database,
    legacy_table_is_upgraded_in_place,
    foreign_table_is_refused_and_left_alone,
    out_of_order_is_refused_unless_allowed,
);

fn eight_processes_apply_each_migration_exactly_once(db: TestDb) {
    let children: Vec<Child> = (0..8).map(|_| spawn(&db, "slow20")).collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().expect("child");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "every process succeeds: {text}");
        applied += applied_count(&text);
    }
    assert_eq!(
        applied, 20,
        "20 migrations applied in total across 8 processes"
    );
    let tracked = db.tracked("schema_migrations");
    assert_eq!(tracked.len(), 20, "one row per version");
    assert!(tracked.iter().all(|(_, ok)| *ok));
    for v in 1..=20 {
        assert!(db.table_exists(&format!("t{v}")));
    }
}

fn killed_process_leaves_no_half_applied_migration(db: TestDb) {
    let mut child = spawn(&db, "kill");
    let started = Instant::now();
    let _output = wait_for(&mut child, "vm-started 2");
    eprintln!("migration 2 started after {:?}", started.elapsed());
    // Let it get into the long statement, then SIGKILL.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("kill");
    child.wait().expect("reap");

    let list = child_list("rerun", db.backend);
    let migrator = Migrator::new(list).with_lock_timeout(Duration::from_secs(30));
    let mut conn = db.connect();
    if db.transactional_ddl() {
        assert_eq!(
            db.tracked("schema_migrations"),
            [(1, true)],
            "migration 2 not recorded"
        );
        assert!(!db.table_exists("k2"), "nothing of migration 2 remains");
        let began = Instant::now();
        let report = migrator.apply(&mut conn).expect("the next run succeeds");
        assert_eq!(
            report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
            [2, 3]
        );
        // Not a timing assertion: printed so a stuck lock would show.
        eprintln!("next run after the kill took {:?}", began.elapsed());
    } else {
        // MySQL: the CREATE TABLE committed; the row says so.
        assert_eq!(db.tracked("schema_migrations"), [(1, true), (2, false)]);
        assert!(db.table_exists("k2"));
        let err = migrator
            .apply(&mut conn)
            .expect_err("apply refuses a dirty database");
        assert!(
            matches!(&err, Error::Refused(Refusal::Problems { problems }) if matches!(problems[..], [Problem::Dirty { version: 2, .. }])),
            "{err}"
        );
        // A person undoes the partial migration, then repairs.
        db.exec("DROP TABLE k2");
        let repaired = migrator
            .repair(&mut conn, false, &mut Silent)
            .expect("repair");
        assert_eq!(repaired.removed_dirty, [2]);
        let report = migrator.apply(&mut conn).expect("apply after repair");
        assert_eq!(report.applied.len(), 2);
    }
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
}

#[derive(Default)]
struct CountWaits(usize);
impl Observer for CountWaits {
    fn waiting_for_lock(&mut self, _: &LockKind) {
        self.0 += 1;
    }
}

fn lock_wait_is_reported_and_bounded(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(&THREE[..1]).apply(&mut conn).unwrap();
    // Another run holds the lock.
    let holder = db.hold_migration_lock();
    let migrator = Migrator::new(THREE).with_lock_timeout(Duration::from_millis(800));
    let mut waits = CountWaits::default();
    let err = migrator
        .apply_with(&mut conn, Default::default(), &mut waits)
        .expect_err("lock is held");
    assert!(
        matches!(
            err,
            Error::LockTimeout {
                lock: LockKind::Migration { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("another migration run"), "{err}");
    assert_eq!(waits.0, 1, "waiting is reported once");
    assert_eq!(db.tracked("schema_migrations").len(), 1, "nothing applied");
    drop(holder);
    let report = migrator
        .apply(&mut conn)
        .expect("lock released with its session");
    assert_eq!(report.applied.len(), 2);
}

fn verify_check_repair_after_an_edit(db: TestDb) {
    let mut conn = db.connect();
    Migrator::new(THREE).apply(&mut conn).unwrap();
    let clean = Migrator::new(THREE).verify(&mut conn).unwrap();
    assert!(clean.problems.is_empty() && clean.pending.is_empty());

    static EDITED: [Migration; 3] = [
        THREE[0],
        m(
            2,
            "Create books (renamed)",
            &["CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(250) NOT NULL)"],
        ),
        THREE[2],
    ];
    let edited = Migrator::new(&EDITED);
    let report = edited.verify(&mut conn).unwrap();
    assert!(
        matches!(
            report.problems[..],
            [Problem::ChecksumMismatch { version: 2, .. }]
        ),
        "{:?}",
        report.problems
    );
    assert!(edited.apply(&mut conn).is_err(), "apply refuses drift");

    // The description changed too: repair wants to be told.
    let refused = edited
        .repair(&mut conn, false, &mut Silent)
        .expect_err("descriptions differ");
    assert!(
        matches!(refused, Error::Refused(Refusal::DescriptionsDiffer { .. })),
        "{refused}"
    );
    let repaired = edited.repair(&mut conn, true, &mut Silent).unwrap();
    assert_eq!(repaired.accepted, [2]);
    assert!(
        edited.verify(&mut conn).unwrap().problems.is_empty(),
        "repair accepted the edit"
    );
    let history = edited.history(&mut conn).unwrap().migrations;
    assert_eq!(history[1].description, "Create books (renamed)");
    assert_eq!(
        history[1].checksum.as_deref(),
        Some(EDITED[1].checksum().as_str())
    );
    assert!(edited.apply(&mut conn).unwrap().applied.is_empty());

    // Database ahead of the code: verify names it; repair leaves it alone.
    let older = Migrator::new(&THREE[..2]);
    let ahead = older.verify(&mut conn).unwrap();
    assert!(
        matches!(
            ahead.problems[..],
            [
                Problem::ChecksumMismatch { version: 2, .. },
                Problem::UnknownVersion { version: 3, .. }
            ]
        ),
        "{:?}",
        ahead.problems
    );
}

fn baseline_adopts_an_existing_database(db: TestDb) {
    // The schema of migrations 1 and 2 exists already, made by hand.
    db.exec("CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)");
    db.exec("CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(200) NOT NULL)");
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    let bad = migrator
        .baseline(&mut conn, 0, &mut Silent)
        .expect_err("version 0");
    assert!(
        matches!(bad, Error::Refused(Refusal::BaselineNothing { .. })),
        "{bad}"
    );
    let beyond = migrator
        .baseline(&mut conn, 99, &mut Silent)
        .expect_err("beyond the code");
    assert!(
        matches!(
            beyond,
            Error::Refused(Refusal::BaselineBeyondCode { last: 3, .. })
        ),
        "{beyond}"
    );
    let report = migrator.baseline(&mut conn, 2, &mut Silent).unwrap();
    assert_eq!(report.recorded, [1, 2]);
    assert_eq!(migrator.version(&mut conn).unwrap(), 2);
    let again = migrator
        .baseline(&mut conn, 2, &mut Silent)
        .expect_err("history not empty");
    assert!(
        matches!(
            again,
            Error::Refused(Refusal::BaselineNotEmpty { applied: 2 })
        ),
        "{again}"
    );
    let applied = migrator.apply(&mut conn).unwrap();
    assert_eq!(
        applied
            .applied
            .iter()
            .map(|a| a.version)
            .collect::<Vec<_>>(),
        [3],
        "nothing re-run"
    );
    assert_eq!(db.count("authors"), 2);
}

fn legacy_table_is_upgraded_in_place(db: TestDb) {
    // The classic table kept by hand-rolled runners, with two rows.
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT, applied_at TIMESTAMP)");
    db.exec("CREATE TABLE authors (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)");
    db.exec("CREATE TABLE books (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(200) NOT NULL)");
    db.exec(
        "INSERT INTO schema_migrations (version, description, applied_at) VALUES \
         (1, 'Create authors', '2024-01-02 03:04:05'), (2, 'Create books', '2024-02-03 04:05:06')",
    );
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    // Read commands understand it without changing it.
    let status = migrator.status(&mut conn).unwrap();
    assert_eq!((status.version, status.pending.clone()), (2, vec![3]));
    assert!(
        status.problems.is_empty(),
        "missing checksums are not drift: {:?}",
        status.problems
    );
    assert_eq!(migrator.verify(&mut conn).unwrap().unverified, [1, 2]);

    let report = migrator.apply(&mut conn).unwrap();
    assert_eq!(
        report.adopted_checksums,
        [1, 2],
        "checksums recorded once, then verified"
    );
    assert_eq!(
        report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        [3]
    );
    let history = migrator.history(&mut conn).unwrap().migrations;
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[0]
            .applied_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
        Some("2024-01-02 03:04:05".to_string()),
        "rows keep their times"
    );
    assert!(history.iter().all(|h| h.checksum.is_some() && h.success));
    let verified = migrator.verify(&mut conn).unwrap();
    assert!(verified.problems.is_empty() && verified.unverified.is_empty());
    // From now on an edit of migration 1 is drift.
    static EDITED: [Migration; 3] = [
        m(1, "Create authors", &["CREATE TABLE authors (id BIGINT)"]),
        THREE[1],
        THREE[2],
    ];
    assert!(!Migrator::new(&EDITED)
        .verify(&mut conn)
        .unwrap()
        .problems
        .is_empty());
}

fn foreign_table_is_refused_and_left_alone(db: TestDb) {
    // diesel's own shape: text versions.
    db.exec("CREATE TABLE schema_migrations (version VARCHAR(50) PRIMARY KEY, run_on TIMESTAMP)");
    db.exec("INSERT INTO schema_migrations (version, run_on) VALUES ('20240101000000', '2024-01-01 00:00:00')");
    let mut conn = db.connect();
    let migrator = Migrator::new(THREE);
    for result in [
        migrator.apply(&mut conn).err(),
        migrator.status(&mut conn).err(),
    ] {
        let err = result.expect("refused");
        assert!(matches!(err, Error::IncompatibleTable { .. }), "{err}");
        assert!(err.to_string().contains("not an integer"), "{err}");
    }
    assert_eq!(db.count("schema_migrations"), 1, "left untouched");
    assert!(!db.table_exists("authors"));
}

fn out_of_order_is_refused_unless_allowed(db: TestDb) {
    let mut conn = db.connect();
    static GAPPED: [Migration; 2] = [THREE[0], THREE[2]];
    Migrator::new(&GAPPED).apply(&mut conn).unwrap();
    let err = Migrator::new(THREE)
        .apply(&mut conn)
        .expect_err("2 is below 3");
    assert!(
        matches!(&err, Error::Refused(Refusal::Problems { problems }) if matches!(problems[..], [Problem::OutOfOrder { version: 2, .. }])),
        "{err}"
    );
    let report = Migrator::new(THREE)
        .allow_out_of_order(true)
        .apply(&mut conn)
        .unwrap();
    assert_eq!(
        report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        [2]
    );
}

#[test]
fn read_only_sqlite_file_can_be_read_not_written() {
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    Migrator::new(&THREE[..2]).apply(&mut conn).unwrap();
    drop(conn);
    let path = std::path::Path::new(&db.url);
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(path, permissions).unwrap();

    let url = versioned_migrations::DatabaseUrl::parse(&db.url).unwrap();
    let mut reader =
        versioned_migrations::AnyConnection::connect(&url, versioned_migrations::Access::ReadOnly)
            .unwrap();
    assert_eq!(
        Migrator::new(THREE).status(&mut reader).unwrap().pending,
        [3]
    );
    let err =
        versioned_migrations::AnyConnection::connect(&url, versioned_migrations::Access::ReadWrite)
            .err()
            .expect("read-only file refused for writing");
    assert!(err.to_string().contains("is read-only"), "{err}");
}
