//! Importing a diesel directory gives what diesel gives: each fault real
//! projects met (issue 14) as a synthetic directory, run once by diesel's
//! own `MigrationHarness` over `FileBasedMigrations` and once through
//! `migrate import` + `apply`, on every backend, comparing the order and
//! the schema.
#![cfg(feature = "cli")]

mod common;

use std::path::Path;

use common::library::compile;
use common::{imported_list, migrate_in, Backend, TestDb};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use versioned_migrations::authoring::import::{self, Scanned};
use versioned_migrations::{AnyConnection, Migrator};

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// diesel runs the directory on `db`; the versions in the order it ran them.
fn run_with_diesel(db: &TestDb, dir: &Path) -> Vec<String> {
    let source = FileBasedMigrations::from_path(dir).expect("diesel reads the directory");
    let mut conn = db.connect();
    let ran = match &mut conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(source),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => c.run_pending_migrations(source),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => c.run_pending_migrations(source),
        _ => unreachable!("a backend this build lacks"),
    };
    ran.unwrap_or_else(|e| panic!("diesel: {e}"))
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// Imports `dir` and applies it to `db` with tracking table `table`.
fn import_and_apply(db: &TestDb, dir: &Path, table: &str) -> Scanned {
    let scanned = import::scan(dir, table).unwrap_or_else(|e| panic!("import: {e}"));
    Migrator::new(imported_list(&scanned.migrations, 0))
        .with_table(table)
        .expect("table name")
        .apply(&mut db.connect())
        .unwrap_or_else(|e| panic!("apply: {e}"));
    scanned
}

/// Tables, columns, indexes, triggers, views and functions, one line each,
/// sorted; the tracking tables left out.
fn schema(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => "SELECT 'column ' || m.name || '.' || p.name AS name, p.type AS data_type \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             UNION ALL SELECT type || ' ' || name AS name, coalesce(sql, '') AS data_type \
             FROM sqlite_master WHERE type IN ('index', 'trigger', 'view')",
        Backend::Postgres => "SELECT CAST('column ' || table_name || '.' || column_name AS TEXT) AS name, \
             CAST(data_type AS TEXT) AS data_type FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT CAST('index ' || indexname AS TEXT), CAST(indexdef AS TEXT) \
             FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT CAST('function ' || p.proname AS TEXT), CAST(pg_get_function_identity_arguments(p.oid) AS TEXT) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
             UNION ALL SELECT CAST('trigger ' || trigger_name || ' on ' || event_object_table AS TEXT), \
             CAST(event_manipulation AS TEXT) FROM information_schema.triggers WHERE trigger_schema = 'public'",
        Backend::Mysql => "SELECT CAST(CONCAT('column ', table_name, '.', column_name) AS CHAR) AS name, \
             CAST(column_type AS CHAR) AS data_type FROM information_schema.columns WHERE table_schema = DATABASE() \
             UNION ALL SELECT CAST(CONCAT('index ', table_name, '.', index_name, '.', column_name) AS CHAR), \
             CAST(non_unique AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() \
             UNION ALL SELECT CAST(CONCAT('routine ', routine_name) AS CHAR), CAST(routine_type AS CHAR) \
             FROM information_schema.routines WHERE routine_schema = DATABASE()",
    };
    let tracking = [
        "__diesel_schema_migrations",
        "schema_migrations",
        "app_migrations",
    ];
    let mut lines: Vec<String> = common::pairs(&mut db.connect(), sql)
        .expect("schema")
        .into_iter()
        .map(|c| format!("{} {}", c.name.to_lowercase(), c.data_type.to_lowercase()))
        .filter(|line| !tracking.iter().any(|t| line.contains(t)))
        .collect();
    lines.sort();
    lines
}

/// Runs `files` through diesel on one database and through the import on
/// another (tracking table `table`); checks they ran in the same order and
/// left the same schema. Returns what the import read.
fn same_as_diesel(backend: Backend, files: &[(&str, &str)], table: &str) -> Scanned {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    let by_diesel = TestDb::new(backend);
    let order = run_with_diesel(&by_diesel, dir.path());
    let ours = TestDb::new(backend);
    let scanned = import_and_apply(&ours, dir.path(), table);
    let imported: Vec<&str> = scanned
        .migrations
        .iter()
        .map(|m| m.source_version.as_str())
        .collect();
    assert_eq!(imported, order, "the order diesel ran them in");
    let schema = schema(&ours);
    assert!(!schema.is_empty());
    assert_eq!(schema, self::schema(&by_diesel), "the schema diesel made");
    scanned
}

on_all_backends!(
    mixed_length_versions_keep_diesels_order,
    files_beside_the_folders_are_skipped,
    dropping_schema_migrations_needs_another_table_name,
    diesels_setup_migration_is_imported,
);

/// Issue 14.1: diesel compares versions as text. Numerically each second
/// migration below would run before the first and fail.
fn mixed_length_versions_keep_diesels_order(db: TestDb) {
    let files = [
        // 18 digits: after the 14-digit one as a number, before it as text.
        (
            "2017-01-01-000000-0000_create_a/up.sql",
            "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY);",
        ),
        ("2017-01-01-000000-0000_create_a/down.sql", "DROP TABLE a;"),
        (
            "2018-01-01-000000_alter_a/up.sql",
            "ALTER TABLE a ADD COLUMN note VARCHAR(20);",
        ),
        (
            "2024-03-06-170000_create_b/up.sql",
            "CREATE TABLE b (id INTEGER NOT NULL PRIMARY KEY);",
        ),
        // The version ends at the first `_`: 20240313, shorter, so after
        // 20240306170000 as text and before it as a number.
        (
            "2024-03-13_170000_alter_b/up.sql",
            "ALTER TABLE b ADD COLUMN title VARCHAR(20);\nCREATE INDEX idx_b_title ON b (title);",
        ),
    ];
    let scanned = same_as_diesel(db.backend, &files, "schema_migrations");
    let sources: Vec<&str> = scanned
        .migrations
        .iter()
        .map(|m| m.source.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "2017-01-01-000000-0000_create_a",
            "2018-01-01-000000_alter_a",
            "2024-03-06-170000_create_b",
            "2024-03-13_170000_alter_b",
        ]
    );
    assert!(scanned.notices[0].contains("by version compared as text, as diesel runs them"));
}

/// Issue 14.2: a README and a data file beside the folders, a note inside
/// one: diesel ignores them, the import skips them with a notice.
fn files_beside_the_folders_are_skipped(db: TestDb) {
    let files = [
        ("README.md", "# Migrations\nRun them with diesel.\n"),
        ("seed.sql", "INSERT INTO notes (id) VALUES (1);"),
        (
            "2024-01-01-000000_create_notes/up.sql",
            "CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY, body VARCHAR(200));",
        ),
        (
            "2024-01-01-000000_create_notes/down.sql",
            "DROP TABLE notes;",
        ),
        ("2024-01-01-000000_create_notes/NOTES.txt", "reviewed"),
    ];
    let scanned = same_as_diesel(db.backend, &files, "schema_migrations");
    assert_eq!(scanned.migrations.len(), 1);
    assert!(scanned
        .notices
        .iter()
        .any(|n| n.starts_with("README.md: skipped")));
    assert!(scanned
        .notices
        .iter()
        .any(|n| n.starts_with("seed.sql: skipped")));
    assert!(scanned.migrations[0]
        .notices
        .iter()
        .any(|n| n.contains("NOTES.txt: skipped")));
}

/// Issue 14.3: a migration dropping `schema_migrations` (another tool's
/// table under our default name) cannot be imported under that name; under
/// another one it gives diesel's schema.
fn dropping_schema_migrations_needs_another_table_name(db: TestDb) {
    let files = [
        (
            "2024-01-01-000000_create_things/up.sql",
            "CREATE TABLE things (id INTEGER NOT NULL PRIMARY KEY);",
        ),
        (
            "2024-02-01-000000_forget_rails/up.sql",
            "CREATE TABLE schema_migrations (version VARCHAR(50));\nDROP TABLE IF EXISTS schema_migrations;\nCREATE TABLE later (id INTEGER NOT NULL PRIMARY KEY);",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &files);
    let refused = import::scan(dir.path(), "schema_migrations")
        .expect_err("touches the tracking table")
        .to_string();
    assert!(
        refused.contains("2 statement(s) create, change or write a table named schema_migrations")
            && refused.contains(
                "2024-02-01-000000_forget_rails/up.sql: `DROP TABLE IF EXISTS schema_migrations`"
            )
            && refused.contains("--table app_migrations"),
        "{refused}"
    );
    let scanned = same_as_diesel(db.backend, &files, "app_migrations");
    assert_eq!(scanned.migrations[1].up.len(), 3);
}

/// Issue 14.4: diesel's `00000000000000_diesel_initial_setup` is imported
/// like any other migration; on PostgreSQL its functions are then there and
/// work, as under diesel.
fn diesels_setup_migration_is_imported(db: TestDb) {
    let (setup_up, setup_down, posts) = match db.backend {
        Backend::Postgres => (
            DIESEL_SETUP_UP,
            DIESEL_SETUP_DOWN,
            "CREATE TABLE posts (id SERIAL PRIMARY KEY, title VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\nSELECT diesel_manage_updated_at('posts');",
        ),
        // diesel writes no setup migration for these; one of the same name
        // stands in.
        _ => (
            "CREATE TABLE settings (name VARCHAR(50) NOT NULL PRIMARY KEY);",
            "DROP TABLE settings;",
            "CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(50) NOT NULL);",
        ),
    };
    let files = [
        ("00000000000000_diesel_initial_setup/up.sql", setup_up),
        ("00000000000000_diesel_initial_setup/down.sql", setup_down),
        ("2024-01-01-000000_create_posts/up.sql", posts),
        (
            "2024-01-01-000000_create_posts/down.sql",
            "DROP TABLE posts;",
        ),
    ];
    let scanned = same_as_diesel(db.backend, &files, "schema_migrations");
    let setup = &scanned.migrations[0];
    assert_eq!(setup.source, "00000000000000_diesel_initial_setup");
    assert!(!setup.down.is_empty(), "its down is real");
    if db.backend == Backend::Postgres {
        assert_eq!(setup.up.len(), 2);
        assert_eq!(setup.down.len(), 2);
        let ours = TestDb::new(db.backend);
        import_and_apply(&ours, &write_dir(&files), "schema_migrations");
        ours.exec("INSERT INTO posts (title, updated_at) VALUES ('a', '2000-01-01')");
        ours.exec("UPDATE posts SET title = 'b'");
        assert_eq!(
            ours.count("posts WHERE updated_at > '2000-01-01'"),
            1,
            "diesel_set_updated_at fired"
        );
    }
}

fn write_dir(files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    write_files(&dir, files);
    dir
}

/// diesel's own `00000000000000_diesel_initial_setup` for PostgreSQL.
const DIESEL_SETUP_UP: &str = r#"-- This file was automatically created by Diesel to setup helper functions
-- and other internal bookkeeping. This file is safe to edit, any future
-- changes will be added to existing projects as new migrations.

-- Sets up a trigger for the given table to automatically set a column called
-- `updated_at` whenever the row is modified (unless `updated_at` was included
-- in the modified columns)
--
-- # Example
--
-- ```sql
-- CREATE TABLE users (id SERIAL PRIMARY KEY, updated_at TIMESTAMP NOT NULL DEFAULT NOW());
--
-- SELECT diesel_manage_updated_at('users');
-- ```
CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF (
        NEW IS DISTINCT FROM OLD AND
        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
    ) THEN
        NEW.updated_at := current_timestamp;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"#;

const DIESEL_SETUP_DOWN: &str =
    "-- This file was automatically created by Diesel to setup helper functions
-- and other internal bookkeeping. This file is safe to edit, any future
-- changes will be added to existing projects as new migrations.

DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);
DROP FUNCTION IF EXISTS diesel_set_updated_at();
";

/// Issue 14.6: empty `down.sql` files stay irreversible entries, told once;
/// and the command stops on the tracking table with its advice, writing
/// nothing, then imports under `--table`, entries that compile.
#[test]
fn import_command_summarises_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("migrations.rs");
    std::fs::write(&path, include_str!("../migrations.rs")).unwrap();
    let source = dir.path().join("old");
    let empty_down = "-- This file should undo anything in `up.sql`\n";
    write_files(
        &source,
        &[
            ("2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INTEGER);"),
            ("2024-01-01-000000_a/down.sql", empty_down),
            ("2024-01-02-000000_b/up.sql", "CREATE TABLE b (id INTEGER);"),
            ("2024-01-02-000000_b/down.sql", "DROP TABLE b;"),
            ("2024-01-03-000000_c/up.sql", "CREATE TABLE c (id INTEGER);"),
            ("2024-01-03-000000_c/down.sql", empty_down),
        ],
    );
    let plan = versioned_migrations::authoring::import(&source, &path, "schema_migrations", true)
        .expect("imports");
    let irreversible: Vec<&String> = plan
        .notices
        .iter()
        .filter(|n| n.contains("irreversible"))
        .collect();
    assert_eq!(irreversible.len(), 1, "{:#?}", plan.notices);
    assert!(
        irreversible[0].starts_with("2 of 3 imported migration(s) have no down statements and are irreversible (version 7, 9)")
            && irreversible[0].contains("add `down: &[\"…\"]` to its entry"),
        "{}",
        irreversible[0]
    );
    assert!(plan
        .notices
        .iter()
        .any(|n| n == "2024-01-01-000000_a: diesel version 20240101000000 becomes 7"));

    let before = std::fs::read_to_string(&path).unwrap();
    write_files(
        &source,
        &[(
            "2024-01-04-000000_d/up.sql",
            "DELETE FROM schema_migrations;",
        )],
    );
    let refused = migrate_in(dir.path(), &["import", "old"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("2024-01-04-000000_d/up.sql: `DELETE FROM schema_migrations`")
            && stderr.contains("Migrator::new(MIGRATIONS).with_table(\"app_migrations\")"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "nothing written"
    );

    let output = migrate_in(dir.path(), &["--table", "app_migrations", "import", "old"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let notes = String::from_utf8_lossy(&output.stderr);
    assert_eq!(notes.matches("irreversible").count(), 1, "{notes}");
    assert!(
        notes.contains("dropped a write to schema_migrations"),
        "{notes}"
    );
    compile(&path).unwrap_or_else(|e| panic!("{e}"));
}
