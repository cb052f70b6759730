//! Moving over: `migrate new`, `migrate import` from each SQL-file layout
//! (the imported list compiles against the real library and gives the same
//! schema as running the files directly), on every backend.
#![cfg(feature = "cli")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::library::compile;
use common::{imported_list, migrate_in, Backend, TestDb};
use versioned_migrations::authoring::import;
use versioned_migrations::Migrator;

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The repository's migrations.rs, copied into a temp dir.
fn copy_of_migrations_rs(dir: &Path) -> PathBuf {
    let path = dir.join("migrations.rs");
    std::fs::write(&path, include_str!("../migrations.rs")).unwrap();
    path
}

/// Type-checks a migrations.rs against the real library, including the
/// compile-time validity check, the way the `migrate` binary includes it.
#[track_caller]
fn assert_compiles(migrations_rs: &Path) {
    if let Err(errors) = compile(migrations_rs) {
        panic!(
            "generated migrations.rs does not compile:\n{errors}\n--- file ---\n{}",
            std::fs::read_to_string(migrations_rs).unwrap_or_default()
        );
    }
}

#[test]
fn a_broken_list_fails_to_compile_naming_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of_migrations_rs(dir.path());
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("version: 5,", "version: 4,");
    std::fs::write(&path, text).unwrap();
    let errors = compile(&path).expect_err("duplicate version 4");
    assert!(
        errors.contains("invalid MIGRATIONS: migration 4: version appears twice"),
        "{errors}"
    );
}

#[test]
fn new_appends_entries_that_compile() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of_migrations_rs(dir.path());
    let original = std::fs::read_to_string(&path).unwrap();
    let out = ok(&migrate_in(
        dir.path(),
        &[
            "new",
            "Add a bio to users",
            "--sql",
            "ALTER TABLE users ADD COLUMN bio TEXT",
            "--down",
            "ALTER TABLE users DROP COLUMN bio",
        ],
    ));
    assert!(
        out.contains("Added migration 7 (Add a bio to users)"),
        "{out}"
    );
    assert!(out.contains("Rebuild"), "{out}");
    // Found from a subdirectory too; no SQL given: a placeholder.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out = ok(&migrate_in(
        &dir.path().join("sub"),
        &["new", "Backfill \"quoted\" names"],
    ));
    assert!(out.contains("Added migration 8"), "{out}");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept = original.trim_end().trim_end_matches("];");
    assert!(
        text.starts_with(kept),
        "everything before the array's end is kept byte for byte"
    );
    assert!(text.contains("version: 7,") && text.contains("version: 8,"));
    assert!(text.contains(r#"ALTER TABLE users DROP COLUMN bio"#));
    assert!(text.contains(versioned_migrations::PLACEHOLDER_SQL));
    assert_compiles(&path);

    let missing = migrate_in(tempfile::tempdir().unwrap().path(), &["new", "x"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no migrations.rs found"));
}

/// Writes fixture files under `dir`.
fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Portable SQL with the traps: semicolons in strings and comments, an old
/// tracking-table INSERT, explicit BEGIN/COMMIT.
const CREATE_NOTES: &str = "-- notes; the first table\n\
    BEGIN;\n\
    CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body VARCHAR(200) NOT NULL);\n\
    /* a block comment; with a semicolon */\n\
    INSERT INTO notes (id, body) VALUES (1, 'semi;colon'), (2, 'it''s; quoted');\n\
    INSERT INTO migrations (version) VALUES (1);\n\
    COMMIT;\n";
const CREATE_TAGS: &str =
    "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);\n\
    CREATE INDEX idx_tags_name ON tags (name);\n";
const DROP_TAGS: &str = "DROP TABLE tags;\n";

fn layouts() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "flat",
            vec![
                ("001_create_notes.sql", CREATE_NOTES),
                ("002_create_tags.sql", CREATE_TAGS),
            ],
        ),
        (
            "flyway",
            vec![
                ("V1__create_notes.sql", CREATE_NOTES),
                ("V2__create_tags.sql", CREATE_TAGS),
                ("U2__create_tags.sql", DROP_TAGS),
            ],
        ),
        (
            "diesel",
            vec![
                ("2024-01-01-000001_create_notes/up.sql", CREATE_NOTES),
                (
                    "2024-01-01-000001_create_notes/down.sql",
                    "DROP TABLE notes;",
                ),
                ("2024-02-01-000002_create_tags/up.sql", CREATE_TAGS),
                ("2024-02-01-000002_create_tags/down.sql", DROP_TAGS),
            ],
        ),
        (
            "sqlx",
            vec![
                ("1_create_notes.up.sql", CREATE_NOTES),
                ("1_create_notes.down.sql", "DROP TABLE notes;"),
                ("2_create_tags.up.sql", CREATE_TAGS),
                ("2_create_tags.down.sql", DROP_TAGS),
            ],
        ),
    ]
}

/// Table and column names, sorted, ignoring tracking tables.
fn schema(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => "SELECT m.name || '.' || p.name AS name, p.type AS data_type \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
            .to_string(),
        Backend::Postgres => "SELECT CAST(table_name || '.' || column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS data_type \
             FROM information_schema.columns WHERE table_schema = 'public'"
            .to_string(),
        Backend::Mysql => "SELECT CAST(CONCAT(table_name, '.', column_name) AS CHAR) AS name, CAST(data_type AS CHAR) AS data_type \
             FROM information_schema.columns WHERE table_schema = DATABASE()"
            .to_string(),
    };
    let mut names: Vec<String> = common::pairs(&mut db.connect(), &sql)
        .expect("schema")
        .into_iter()
        .map(|c| format!("{} {}", c.name.to_lowercase(), c.data_type.to_lowercase()))
        .filter(|n| !n.starts_with("schema_migrations.") && !n.starts_with("migrations."))
        .collect();
    names.sort();
    names
}

on_all_backends!(imported_layouts_apply_like_the_files);

fn imported_layouts_apply_like_the_files(db: TestDb) {
    for (layout, files) in layouts() {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files);
        let imported = import::scan(dir.path(), "schema_migrations")
            .unwrap_or_else(|e| panic!("{layout}: {e}"))
            .migrations;
        assert_eq!(imported.len(), 2, "{layout}");
        assert!(
            imported[0].notices.iter().any(|n| n.contains("migrations")),
            "{layout}: tracking insert dropped with a notice: {:?}",
            imported[0].notices
        );
        assert!(
            imported[0]
                .up
                .iter()
                .all(|s| !s.contains("INSERT INTO migrations")),
            "{layout}"
        );
        if layout != "flat" {
            assert_eq!(imported[1].down.len(), 1, "{layout}: down read");
        }

        // The files run directly (by the old tool, with its tracking table) …
        let direct = TestDb::new(db.backend);
        direct.exec("CREATE TABLE migrations (version INTEGER)");
        for (name, text) in &files {
            if name.contains("down") || name.starts_with('U') {
                continue;
            }
            direct.exec(text);
        }
        // … and the imported list through the migrator: the same schema and data.
        let target = TestDb::new(db.backend);
        let list = imported_list(&imported, 6);
        let report = Migrator::new(list)
            .apply(&mut target.connect())
            .unwrap_or_else(|e| panic!("{layout}: {e}"));
        assert_eq!(
            report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
            [7, 8]
        );
        assert_eq!(schema(&target), schema(&direct), "{layout}: same schema");
        assert_eq!(
            target.count("notes WHERE body = 'semi;colon'"),
            1,
            "{layout}"
        );
        assert_eq!(target.count("notes"), direct.count("notes"), "{layout}");
    }
}

#[test]
fn import_command_writes_entries_that_compile() {
    for (layout, files) in layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = copy_of_migrations_rs(dir.path());
        let source = dir.path().join("old_migrations");
        write_files(&source, &files);
        let before = std::fs::read_to_string(&path).unwrap();
        let dry = ok(&migrate_in(
            dir.path(),
            &["import", "old_migrations", "--dry-run"],
        ));
        assert!(
            dry.contains("version: 7,") && dry.contains("version: 8,"),
            "{layout}: {dry}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            before,
            "{layout}: dry run changes nothing"
        );

        let output = migrate_in(dir.path(), &["import", "old_migrations"]);
        let out = ok(&output);
        assert!(out.contains("Imported 2 migration(s)"), "{layout}: {out}");
        assert!(out.contains("migrate baseline 8"), "{layout}: {out}");
        let notes = String::from_utf8_lossy(&output.stderr);
        assert!(
            notes.contains("migrations"),
            "{layout}: notices on stderr: {notes}"
        );
        assert_compiles(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    copy_of_migrations_rs(dir.path());
    write_files(
        &dir.path().join("weird"),
        &[("create_things.sql", "SELECT 1;")],
    );
    let refused = migrate_in(dir.path(), &["import", "weird"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("create_things.sql"));
}

/// A PostgreSQL file with a `$$` function and a trigger is split correctly
/// and behaves as when run directly.
#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
#[cfg(feature = "postgres")]
fn postgres_function_and_trigger_import() {
    let db = TestDb::new(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "001_audit.sql",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, touched TIMESTAMP);\n\
             CREATE FUNCTION touch() RETURNS trigger AS $$\n\
             BEGIN\n  NEW.touched := now(); -- keep; this\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n\
             CREATE FUNCTION label(n INTEGER) RETURNS TEXT AS $fn$ SELECT 'n;' || n $fn$ LANGUAGE sql;\n\
             CREATE TRIGGER accounts_touch BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION touch();\n\
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, true) ON CONFLICT DO NOTHING;\n\
             INSERT INTO accounts (id, balance) VALUES (1, 5);\n",
        )],
    );
    let imported = import::scan(dir.path(), "schema_migrations")
        .unwrap()
        .migrations;
    assert_eq!(imported[0].up.len(), 5, "{:#?}", imported[0].up);
    let mut conn = db.connect();
    Migrator::new(imported_list(&imported, 0))
        .apply(&mut conn)
        .unwrap();
    assert_eq!(
        db.count("accounts WHERE touched IS NOT NULL"),
        1,
        "trigger fired"
    );
    assert_eq!(
        db.scalar("SELECT CAST(length(label(7)) AS BIGINT) AS value"),
        3
    );
}
