//! The start-up check (`apply` with nothing pending) on every backend: one
//! row whatever the table's length, and still no drift missed. A full
//! check that finds everything applied stamps the list's fingerprint on the
//! newest row. On PostgreSQL and SQLite triggers clear it on any change to
//! a tracking row, by anyone; on MySQL a row inserted or changed marks
//! itself, and the check counts the marked rows through an index; without
//! triggers the stamp carries the row digest, which the check computes
//! again. An edited entry in the code (another fingerprint), a row inserted
//! or deleted, a checksum or a dirty flag changed by hand, `repair` send the
//! check the full way, which refuses what is wrong and stamps again when all
//! is well (on MySQL a deleted row other than the newest is left to the
//! next full check: `status`, `verify`).

mod common;

use common::{m, Backend, TestDb};
use std::time::Duration;
use versioned_migrations::{Error, LockKind, Migration, Migrator, Problem, Refusal, Silent};

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

/// The newest row's stamp: the list's fingerprint (with the row digest,
/// `<list>:<count>:<sum>`, without triggers), or `None` once cleared.
fn stamp(db: &TestDb) -> Option<String> {
    fingerprint_column(db, "ORDER BY version DESC LIMIT 1")
}

/// What one row carries in `list_fingerprint`.
fn fingerprint_column(db: &TestDb, rows: &str) -> Option<String> {
    let cast = match db.backend {
        Backend::Mysql => "CHAR",
        _ => "TEXT",
    };
    let sql =
        format!("SELECT CAST(list_fingerprint AS {cast}) AS value FROM schema_migrations {rows}");
    common::texts(&mut db.connect(), &sql)
        .expect("read the stamp")
        .into_iter()
        .next()
        .flatten()
}

/// After a hand edit of row `version`: PostgreSQL's and SQLite's triggers
/// cleared the stamp; on MySQL the row marked itself.
fn assert_guard_saw_a_change(db: &TestDb, version: i64) {
    match db.backend {
        Backend::Mysql => assert_eq!(
            fingerprint_column(db, &format!("WHERE version = {version}")).as_deref(),
            Some("changed"),
            "the row marked itself"
        ),
        _ => assert_eq!(stamp(db), None, "the trigger cleared the stamp"),
    }
}

fn applied(db: &TestDb) -> Migrator {
    let migrator = Migrator::new(LIST);
    migrator.apply(&mut db.connect()).expect("apply");
    migrator
}

/// Applying records the stamp; a no-op apply answers from it and a new
/// migrator over the same list agrees.
fn applying_everything_stamps_the_list(db: TestDb) {
    applied(&db);
    let first = stamp(&db).expect("stamped after apply");
    let parts: Vec<&str> = first.split(':').collect();
    assert_eq!(parts[0].len(), 32, "the list fingerprint: {first}");
    assert_eq!(parts.len(), 1, "the triggers vouch for the rows: {first}");
    let again = Migrator::new(LIST).apply(&mut db.connect()).expect("no-op");
    assert!(again.applied.is_empty());
    assert_eq!(again.version, 3);
    assert_eq!(stamp(&db).as_deref(), Some(first.as_str()));
}

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

/// A checksum changed by hand: the trigger clears the stamp, the full
/// check names it, and `verify` does too.
fn a_checksum_changed_by_hand_is_refused(db: TestDb) {
    let migrator = applied(&db);
    let forged = "a".repeat(64);
    db.exec(&format!(
        "UPDATE schema_migrations SET checksum = '{forged}' WHERE version = 1"
    ));
    assert_guard_saw_a_change(&db, 1);
    refused_as_edited(migrator.apply(&mut db.connect()), 1);
    let verify = migrator.verify(&mut db.connect()).expect("verify");
    assert!(!verify.problems.is_empty(), "{verify:?}");
}

/// A row deleted by hand: the stamp is cleared and the full check sees the
/// hole. On MySQL (no trigger can mark a row that is gone) the start-up
/// check does not see it, as the README says; `status` and `verify` do.
fn a_row_deleted_by_hand_is_seen(db: TestDb) {
    let migrator = applied(&db);
    db.exec("DELETE FROM schema_migrations WHERE version = 2");
    let status = migrator.status(&mut db.connect()).expect("status");
    assert_eq!(status.pending, [2]);
    let verify = migrator.verify(&mut db.connect()).expect("verify");
    assert!(
        !verify.problems.is_empty(),
        "verify names the hole: {verify:?}"
    );
    let result = migrator.apply(&mut db.connect());
    match db.backend {
        Backend::Mysql => assert!(
            matches!(&result, Ok(report) if report.applied.is_empty()),
            "{result:?}"
        ),
        _ => assert!(
            matches!(result, Err(Error::Refused(_))),
            "a hole below the newest version is refused: {result:?}"
        ),
    }
}

/// The newest row deleted by hand, on every backend: the stamp went with
/// it, and the full check applies migration 3 again.
fn the_newest_row_deleted_by_hand_is_seen(db: TestDb) {
    applied(&db);
    db.exec("DELETE FROM schema_migrations WHERE version = 3");
    db.exec("DROP TABLE tags");
    let report = Migrator::new(LIST).apply(&mut db.connect()).expect("apply");
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert!(stamp(&db).is_some(), "stamped again");
}

/// A row inserted by hand below the newest (a version the code does not
/// have): the guard sees it, the full check refuses it.
fn a_row_inserted_by_hand_is_refused(db: TestDb) {
    let migrator = applied(&db);
    db.exec(
        "INSERT INTO schema_migrations (version, description, checksum, applied_at) \
         VALUES (0, 'by hand', NULL, CURRENT_TIMESTAMP)",
    );
    assert_guard_saw_a_change(&db, 0);
    let result = migrator.apply(&mut db.connect());
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
}

/// A dirty flag set by hand on an older row: the stamp is cleared (MySQL:
/// the digest differs).
fn a_dirty_flag_set_by_hand_is_refused(db: TestDb) {
    let migrator = applied(&db);
    let no = match db.backend {
        Backend::Postgres => "FALSE",
        _ => "0",
    };
    db.exec(&format!(
        "UPDATE schema_migrations SET success = {no} WHERE version = 1"
    ));
    assert_guard_saw_a_change(&db, 1);
    let result = migrator.apply(&mut db.connect());
    assert!(matches!(result, Err(Error::Refused(_))), "{result:?}");
}

/// `repair` changes rows: the stamp is cleared; the next apply checks
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

/// A table from an earlier release: no stamp column (and so no triggers).
/// The first apply adds the column, makes the triggers and stamps; nothing
/// else changes, and the next hand edit clears the stamp.
fn a_table_from_an_earlier_release_is_upgraded_once(db: TestDb) {
    applied(&db);
    drop_guard(&db);
    db.exec("ALTER TABLE schema_migrations DROP COLUMN list_fingerprint");
    let report = Migrator::new(LIST).apply(&mut db.connect()).expect("apply");
    assert!(report.applied.is_empty());
    assert!(stamp(&db).is_some());
    assert_eq!(
        db.tracked("schema_migrations"),
        [(1, true), (2, true), (3, true)]
    );
    db.exec("UPDATE schema_migrations SET description = 'x' WHERE version = 1");
    assert_guard_saw_a_change(&db, 1);
}

/// Drops the triggers, their function and index, as a table from before
/// them would be.
fn drop_guard(db: &TestDb) {
    match db.backend {
        Backend::Postgres => {
            db.exec("DROP FUNCTION schema_migrations_stamp_clear() CASCADE");
            db.exec("DROP INDEX schema_migrations_stamped");
        }
        Backend::Sqlite => {
            for event in ["ins", "upd", "del"] {
                db.exec(&format!("DROP TRIGGER schema_migrations_stamp_{event}"));
            }
            db.exec("DROP INDEX schema_migrations_stamped");
        }
        Backend::Mysql => {
            for event in ["ins", "upd"] {
                db.exec(&format!("DROP TRIGGER schema_migrations_stamp_{event}"));
            }
            db.exec("DROP INDEX schema_migrations_stamped ON schema_migrations");
        }
    }
}

/// Where the triggers cannot be made (here an object of the name they
/// need is in the way; in real life, a user without the right to create
/// triggers), the stamp carries the row digest and a hand edit is still
/// refused at start-up.
fn without_triggers_the_digest_still_catches_a_hand_edit(db: TestDb) {
    applied(&db);
    drop_guard(&db);
    match db.backend {
        // CREATE OR REPLACE cannot change a function's return type.
        Backend::Postgres => db.exec(
            "CREATE FUNCTION schema_migrations_stamp_clear() RETURNS INTEGER LANGUAGE SQL AS 'SELECT 1'",
        ),
        // An index cannot take a table's name.
        Backend::Sqlite => db.exec("CREATE TABLE schema_migrations_stamped (id INTEGER)"),
        // A trigger's name is the database's, whatever its table.
        Backend::Mysql => {
            db.exec("CREATE TABLE vm_other (id INTEGER)");
            db.exec(
                "CREATE TRIGGER schema_migrations_stamp_upd BEFORE UPDATE ON vm_other \
                 FOR EACH ROW SET NEW.id = 1",
            );
        }
    }
    // A stamp from before the triggers went would still be believed (the
    // README says so): this test starts from none.
    db.exec("UPDATE schema_migrations SET list_fingerprint = NULL");
    let migrator = Migrator::new(LIST);
    let report = migrator.apply(&mut db.connect()).expect("full check");
    assert!(report.applied.is_empty());
    let recorded = stamp(&db).expect("stamped");
    assert_eq!(
        recorded.split(':').count(),
        3,
        "with the digest: {recorded}"
    );
    let again = migrator.apply(&mut db.connect()).expect("no-op");
    assert!(again.applied.is_empty());
    let no = match db.backend {
        Backend::Postgres => "FALSE",
        _ => "0",
    };
    db.exec(&format!(
        "UPDATE schema_migrations SET success = {no} WHERE version = 1"
    ));
    assert!(matches!(
        migrator.apply(&mut db.connect()),
        Err(Error::Refused(_))
    ));
}

/// On PostgreSQL, where every row version has its writer: a no-op apply
/// writes nothing at all.
fn a_no_op_apply_writes_nothing(db: TestDb) {
    applied(&db);
    if db.backend != Backend::Postgres {
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

/// Another session holds a lock that keeps readers off the tracking table
/// (PostgreSQL: ACCESS EXCLUSIVE; MySQL: `LOCK TABLES ... WRITE`): the
/// start-up check gives up after the lock timeout and names the table. On
/// MySQL the limit rides in the check's own statement, so the session's
/// setting is as it was (SQLite: readers are not kept off this way).
fn a_locked_tracking_table_bounds_the_start_up_check(db: TestDb) {
    applied(&db);
    let (lock, setting) = match db.backend {
        Backend::Postgres => (
            "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE",
            "SELECT current_setting('lock_timeout') AS value",
        ),
        Backend::Mysql => (
            "LOCK TABLES schema_migrations WRITE",
            "SELECT CAST(@@SESSION.lock_wait_timeout AS CHAR) AS value",
        ),
        Backend::Sqlite => return,
    };
    let mut holder = db.connect();
    holder.batch_execute(lock).expect("take the lock");
    let mut conn = db.connect();
    let before = common::texts(&mut conn, setting).expect("the setting");
    let (err, mut conn) = common::returns_within(Duration::from_secs(30), move || {
        let result = Migrator::new(LIST)
            .with_lock_timeout(Duration::from_secs(1))
            .apply(&mut conn);
        (result.expect_err("the table is locked"), conn)
    });
    assert!(
        matches!(&err, Error::LockTimeout { lock: LockKind::Table { table }, .. } if table == "schema_migrations"),
        "{err}"
    );
    assert_eq!(
        common::texts(&mut conn, setting).expect("the setting"),
        before,
        "the session's own lock timeout, as it was"
    );
    drop(holder);
    let report = Migrator::new(LIST).apply(&mut conn).expect("no-op");
    assert!(report.applied.is_empty());
}

on_all_backends!(
    a_locked_tracking_table_bounds_the_start_up_check,
    applying_everything_stamps_the_list,
    an_edited_entry_in_the_code_is_refused,
    a_checksum_changed_by_hand_is_refused,
    a_row_deleted_by_hand_is_seen,
    the_newest_row_deleted_by_hand_is_seen,
    a_row_inserted_by_hand_is_refused,
    a_dirty_flag_set_by_hand_is_refused,
    repair_forgets_the_stamp,
    a_table_from_an_earlier_release_is_upgraded_once,
    without_triggers_the_digest_still_catches_a_hand_edit,
    a_no_op_apply_writes_nothing,
);
