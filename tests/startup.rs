//! The start-up check (`apply` with nothing pending) on every backend: one
//! row whatever the table's length. The newest row records the fingerprint
//! of the list that last checked every row; an edited entry in the code, a
//! pending migration, a dirty or missing newest row, `repair` send the
//! check the full way, which refuses what is wrong and records the new
//! stamp when all is well. Rows edited by hand below the newest are found
//! by `verify`, `check`, `status` and every apply with work to do.

mod common;

use common::{m, Backend, TestDb};
use versioned_migrations::{Error, Migration, Migrator, Problem, Refusal, Silent};

static LIST: &[Migration] = &[
    m(
        1,
        "Create users",
        &["CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY)"],
    ),
    m(
        2,
        "Create posts",
        &["CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY)"],
    ),
    m(
        3,
        "Create tags",
        &["CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY)"],
    ),
];

/// The same list with migration 2's SQL edited after it was applied.
static EDITED: &[Migration] = &[
    LIST[0],
    m(
        2,
        "Create posts",
        &["CREATE TABLE posts (id BIGINT NOT NULL PRIMARY KEY)"],
    ),
    LIST[2],
];

/// The newest row's recorded fingerprint, `<list>:<count>:<sum>`.
fn stamp(db: &TestDb) -> Option<String> {
    let cast = match db.backend {
        Backend::Mysql => "CHAR",
        _ => "TEXT",
    };
    let sql = format!(
        "SELECT CAST(list_fingerprint AS {cast}) AS value FROM schema_migrations \
         ORDER BY version DESC LIMIT 1"
    );
    common::texts(&mut db.connect(), &sql)
        .expect("read the stamp")
        .into_iter()
        .next()
        .flatten()
}

fn applied(db: &TestDb) -> Migrator {
    let migrator = Migrator::new(LIST);
    migrator.apply(&mut db.connect()).expect("apply");
    migrator
}

/// Applying records the stamp; a no-op apply answers from it and a new
/// migrator over the same list agrees. A stamp in the earlier release's
/// form (`<list>:<count>:<sum>`) is read by its list part.
fn the_newest_row_carries_the_stamp(db: TestDb) {
    applied(&db);
    let first = stamp(&db).expect("stamped after apply");
    assert_eq!(first.len(), 32, "the list fingerprint: {first}");
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    let again = Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
    assert!(again.applied.is_empty());
    assert_eq!(again.version, 3);
    assert_eq!(stamp(&db).as_deref(), Some(first.as_str()));
    let older = format!("{first}:3:123456");
    db.exec(&format!(
        "UPDATE schema_migrations SET list_fingerprint = '{older}' WHERE version = 3"
    ));
    Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
    assert_eq!(stamp(&db), Some(older), "vouched for, so not written again");
}

/// The newest row is the highest version as a number (9 sorts above 10 as
/// text): the fast path is taken, so a stamp in the older form stays.
fn the_newest_row_is_the_highest_number(db: TestDb) {
    static NINE_TEN: &[Migration] = &[
        m(
            9,
            "Nine",
            &["CREATE TABLE nine (id INTEGER NOT NULL PRIMARY KEY)"],
        ),
        m(
            10,
            "Ten",
            &["CREATE TABLE ten (id INTEGER NOT NULL PRIMARY KEY)"],
        ),
    ];
    Migrator::new(NINE_TEN)
        .apply(&mut db.connect())
        .expect("apply");
    let cast = match db.backend {
        Backend::Mysql => "CHAR",
        _ => "TEXT",
    };
    let sql = format!(
        "SELECT CAST(list_fingerprint AS {cast}) AS value FROM schema_migrations WHERE version = 10"
    );
    let read = |db: &TestDb| common::texts(&mut db.connect(), &sql).expect("stamp");
    let stamped = read(&db).into_iter().next().flatten().expect("stamped");
    let older = format!("{stamped}:2:99");
    db.exec(&format!(
        "UPDATE schema_migrations SET list_fingerprint = '{older}' WHERE version = 10"
    ));
    Migrator::new(NINE_TEN)
        .apply(&mut db.connect())
        .expect("no-op");
    assert_eq!(read(&db), [Some(older)], "answered from the newest row");
}

/// Migration 4, for the applies that have work to do.
static LONGER: &[Migration] = &[
    LIST[0],
    LIST[1],
    LIST[2],
    m(
        4,
        "Create notes",
        &["CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY)"],
    ),
];

fn refused_as_edited(result: Result<versioned_migrations::ApplyReport, Error>, version: i64) {
    match result {
        Err(Error::Refused(Refusal::Problems { problems })) => assert!(
            problems.iter().any(
                |p| matches!(p, Problem::ChecksumMismatch { version: v, .. } if *v == version)
            ),
            "{problems:?}"
        ),
        other => panic!("expected a refusal naming migration {version}: {other:?}"),
    }
}

/// An entry edited in the code: the fingerprint differs, the full check
/// names it.
fn an_edited_entry_in_the_code_is_refused(db: TestDb) {
    applied(&db);
    refused_as_edited(Migrator::new(EDITED).apply(&mut db.connect()), 2);
}

/// A row edited by hand below the newest one is not the start-up check's
/// to find (it reads the newest row only, whatever the table's length):
/// `verify`, `check` and `status` read every row and name it, and so does
/// every apply with work to do. Here: a checksum, changed to one of the
/// same length.
fn a_checksum_changed_by_hand_is_found_by_verify(db: TestDb) {
    let migrator = applied(&db);
    let forged = "a".repeat(64);
    db.exec(&format!(
        "UPDATE schema_migrations SET checksum = '{forged}' WHERE version = 1"
    ));
    let verify = migrator.verify(&mut db.connect()).expect("verify");
    assert!(
        verify
            .problems
            .iter()
            .any(|p| matches!(p, Problem::ChecksumMismatch { version: 1, .. })),
        "{verify:?}"
    );
    let start_up = migrator
        .apply(&mut db.connect())
        .expect("the start-up check");
    assert!(start_up.applied.is_empty());
    refused_as_edited(Migrator::new(LONGER).apply(&mut db.connect()), 1);
}

/// A row deleted by hand: `status` shows the hole, an apply with work to do
/// refuses it.
fn a_row_deleted_by_hand_is_seen(db: TestDb) {
    let migrator = applied(&db);
    db.exec("DELETE FROM schema_migrations WHERE version = 2");
    let status = migrator.status(&mut db.connect()).expect("status");
    assert_eq!(status.pending, [2]);
    let result = Migrator::new(LONGER).apply(&mut db.connect());
    assert!(
        matches!(result, Err(Error::Refused(_))),
        "a hole below the newest version is refused: {result:?}"
    );
}

/// A dirty flag set by hand: on the newest row the start-up check itself
/// sends it the full way, which refuses; on an older row `verify` names it
/// and an apply with work to do refuses.
fn a_dirty_flag_set_by_hand_is_refused(db: TestDb) {
    let migrator = applied(&db);
    let no = match db.backend {
        Backend::Postgres => "FALSE",
        _ => "0",
    };
    db.exec(&format!(
        "UPDATE schema_migrations SET success = {no} WHERE version = 3"
    ));
    let result = migrator.apply(&mut db.connect());
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
    let db = TestDb::new(db.backend);
    let migrator = applied(&db);
    db.exec(&format!(
        "UPDATE schema_migrations SET success = {no} WHERE version = 1"
    ));
    let verify = migrator.verify(&mut db.connect()).expect("verify");
    assert!(!verify.problems.is_empty(), "{verify:?}");
    let result = Migrator::new(LONGER).apply(&mut db.connect());
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
}

/// `repair` changes rows: it forgets every stamp; the next apply checks
/// every row and records a new one.
fn repair_forgets_the_stamp(db: TestDb) {
    applied(&db);
    let edited = Migrator::new(EDITED);
    edited
        .repair(&mut db.connect(), false, &mut Silent)
        .expect("repair");
    assert_eq!(stamp(&db), None, "repair cleared it");
    // The original list now differs from what the rows record.
    refused_as_edited(Migrator::new(LIST).apply(&mut db.connect()), 2);
    edited.apply(&mut db.connect()).expect("the repaired list");
    assert!(stamp(&db).is_some(), "stamped again");
}

/// A table from before the stamp existed: the first apply adds the column
/// and records the stamp; nothing else changes.
fn a_table_from_an_earlier_release_is_upgraded_once(db: TestDb) {
    applied(&db);
    db.exec("ALTER TABLE schema_migrations DROP COLUMN list_fingerprint");
    let report = Migrator::new(LIST).apply(&mut db.connect()).expect("apply");
    assert!(report.applied.is_empty());
    assert!(stamp(&db).is_some());
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
}

/// A no-op apply writes nothing at all: the SQLite file's bytes stay the
/// same, and on PostgreSQL, where every row version has its writer, the
/// newest row's `xmin` too (MySQL: the stamp stays as it was).
fn a_no_op_apply_writes_nothing(db: TestDb) {
    applied(&db);
    let before = stamp(&db);
    if db.backend == Backend::Sqlite {
        let bytes = std::fs::read(&db.url).expect("read the file");
        for _ in 0..3 {
            Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
        }
        assert_eq!(std::fs::read(&db.url).expect("read the file"), bytes);
    }
    if db.backend != Backend::Postgres {
        Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
        assert_eq!(stamp(&db), before);
        return;
    }
    let xmin = |db: &TestDb| {
        common::texts(
            &mut db.connect(),
            "SELECT CAST(xmin AS TEXT) AS value FROM schema_migrations WHERE version = 3",
        )
        .expect("xmin")
    };
    let was = xmin(&db);
    for _ in 0..3 {
        Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
    }
    assert_eq!(xmin(&db), was, "the newest row was not written again");
}

on_all_backends!(
    the_newest_row_carries_the_stamp,
    the_newest_row_is_the_highest_number,
    an_edited_entry_in_the_code_is_refused,
    a_checksum_changed_by_hand_is_found_by_verify,
    a_row_deleted_by_hand_is_seen,
    a_dirty_flag_set_by_hand_is_refused,
    repair_forgets_the_stamp,
    a_table_from_an_earlier_release_is_upgraded_once,
    a_no_op_apply_writes_nothing,
);
