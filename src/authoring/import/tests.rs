//! Layout tests: fixtures written into temporary directories.

use super::*;
use std::fs;

/// A temporary directory holding `files` (`path`, `content`); a path ending
/// in `/` creates an empty directory.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let full = dir.path().join(path);
        if path.ends_with('/') {
            fs::create_dir_all(&full).expect("create dir");
            continue;
        }
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).expect("create parent");
        }
        fs::write(&full, content).expect("write fixture");
    }
    dir
}

/// The runner's tracking table in these tests.
const OURS: &str = "schema_migrations";

fn scan_all(files: &[(&str, &str)]) -> Scanned {
    let dir = fixture(files);
    scan(dir.path(), OURS).unwrap_or_else(|e| panic!("scan failed: {e}"))
}

fn scan_ok(files: &[(&str, &str)]) -> Vec<ImportedMigration> {
    scan_all(files).migrations
}

fn scan_err(files: &[(&str, &str)]) -> String {
    let dir = fixture(files);
    match scan(dir.path(), OURS) {
        Ok(found) => panic!("expected an error, got {found:?}"),
        Err(e) => e.to_string(),
    }
}

fn has_notice(migration: &ImportedMigration, needle: &str) -> bool {
    migration.notices.iter().any(|n| n.contains(needle))
}

#[test]
fn flat_layout_sorted_by_name() {
    let scanned = scan_all(&[
        ("010_add_index.sql", "CREATE INDEX i ON users (name);"),
        (
            "002_create_posts.sql",
            "CREATE TABLE posts (id INT);\nCREATE TABLE tags (id INT);\n",
        ),
        (
            "001_create_users.sql",
            "-- users\nCREATE TABLE users (id INT, name TEXT);",
        ),
        (".gitkeep", ""),
    ]);
    assert_eq!(
        scanned.notices,
        ["3 file migration(s), ordered by file name"]
    );
    let found = scanned.migrations;
    let versions: Vec<&str> = found.iter().map(|m| m.source_version.as_str()).collect();
    assert_eq!(versions, ["001", "002", "010"]);
    assert_eq!(found[0].description, "Create users");
    assert_eq!(found[0].source, "001_create_users.sql");
    assert_eq!(found[0].up, ["CREATE TABLE users (id INT, name TEXT)"]);
    assert_eq!(
        found[1].up,
        ["CREATE TABLE posts (id INT)", "CREATE TABLE tags (id INT)"]
    );
    assert!(found.iter().all(|m| m.down.is_empty() && m.transaction));
    assert!(found.iter().all(|m| m.layout == Layout::Flat));
}

#[test]
fn flat_names_and_numbers_must_agree() {
    // sqlx and goose would run these by number, a shell loop by name.
    let err = scan_err(&[
        ("1_a.sql", "SELECT 1;"),
        ("2_b.sql", "SELECT 2;"),
        ("10_c.sql", "SELECT 3;"),
    ]);
    assert!(
        err.starts_with("10_c.sql sorts before 1_a.sql by name but after it by number")
            && err.contains("zero-padded"),
        "{err}"
    );
}

#[test]
fn flyway_orders_by_its_version_comparison() {
    let scanned = scan_all(&[
        ("V10__j.sql", "SELECT 10;"),
        ("V2__b.sql", "SELECT 2;"),
        ("V1.10__i.sql", "SELECT 110;"),
        ("V1_2__c.sql", "SELECT 12;"),
        ("V1.1__a.sql", "SELECT 11;"),
        ("V1__first.sql", "SELECT 1;"),
    ]);
    let versions: Vec<&str> = scanned
        .migrations
        .iter()
        .map(|m| m.source_version.as_str())
        .collect();
    assert_eq!(versions, ["1", "1.1", "1_2", "1.10", "2", "10"]);
    assert!(scanned.notices[0].contains("dotted parts compared as numbers"));
    // `1.0` is version 1 to Flyway.
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("V1.0__b.sql", "SELECT 2;")]);
    assert!(err.contains("appears twice"), "{err}");
}

#[test]
fn sqlx_orders_by_number() {
    let found = scan_ok(&[
        ("10_c.up.sql", "SELECT 3;"),
        ("2_b.up.sql", "SELECT 2;"),
        ("1_a.up.sql", "SELECT 1;"),
        ("1_a.down.sql", "SELECT 0;"),
    ]);
    let versions: Vec<&str> = found.iter().map(|m| m.source_version.as_str()).collect();
    assert_eq!(versions, ["1", "2", "10"]);
}

#[test]
fn flyway_layout_with_undo_and_config() {
    let found = scan_ok(&[
        ("V1__Create_users.sql", "CREATE TABLE users (id INT);"),
        ("U1__Create_users.sql", "DROP TABLE users;"),
        ("V2__index_users.sql", "CREATE INDEX CONCURRENTLY i ON users (id);"),
        ("V2__index_users.sql.conf", "# Flyway script config\nexecuteInTransaction=false\n"),
        (
            "V10__seed.sql",
            "INSERT INTO users VALUES (1);\nINSERT INTO flyway_schema_history (installed_rank, version) VALUES (99, '10');",
        ),
    ]);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].description, "Create users");
    assert_eq!(found[0].down, ["DROP TABLE users"]);
    assert!(!found[1].transaction);
    assert!(has_notice(&found[1], "executeInTransaction=false"));
    assert_eq!(found[2].source_version, "10");
    assert_eq!(found[2].up, ["INSERT INTO users VALUES (1)"]);
    assert!(has_notice(
        &found[2],
        "V10__seed.sql: dropped a write to flyway_schema_history"
    ));
    assert!(found.iter().all(|m| m.layout == Layout::Flyway));
}

#[test]
fn flyway_errors_name_the_file() {
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("V1a__b.sql", "SELECT 2;")]);
    assert!(
        err.contains("V1a__b.sql") && err.contains("not a Flyway version"),
        "{err}"
    );
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("R__views.sql", "SELECT 2;")]);
    assert!(
        err.contains("R__views.sql") && err.contains("repeatable"),
        "{err}"
    );
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("U2__b.sql", "SELECT 2;")]);
    assert!(
        err.contains("U2__b.sql") && err.contains("no matching V<n>__"),
        "{err}"
    );
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("V01__b.sql", "SELECT 2;")]);
    assert!(
        err.contains("appears twice") && err.contains("V01__b.sql"),
        "{err}"
    );
    let err = scan_err(&[("V1__a.sql", "SELECT 1;"), ("002_b.sql", "SELECT 2;")]);
    assert!(
        err.contains("002_b.sql") && err.contains("expected V<n>__<name>.sql"),
        "{err}"
    );
}

#[test]
fn diesel_layout() {
    let found = scan_ok(&[
        (
            "00000000000000_diesel_initial_setup/up.sql",
            "CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\nBEGIN\n  EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\nEND;\n$$ LANGUAGE plpgsql;\n",
        ),
        ("00000000000000_diesel_initial_setup/down.sql", "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);"),
        (
            "2024-01-02-090000_create_posts/up.sql",
            "CREATE TABLE posts (id SERIAL PRIMARY KEY, updated_at TIMESTAMP);\nSELECT diesel_manage_updated_at('posts');\n",
        ),
        ("2024-01-02-090000_create_posts/down.sql", "-- This file should undo anything in `up.sql`\n"),
        (
            "2024-01-01-120000_create_users/up.sql",
            "CREATE TABLE users (id SERIAL PRIMARY KEY);\r\nINSERT INTO __diesel_schema_migrations (version) VALUES ('20240101120000') ON CONFLICT DO NOTHING;\r\n",
        ),
        ("2024-01-01-120000_create_users/down.sql", "DROP TABLE users;\n"),
        ("2024-01-03-000000_concurrent_index/up.sql", "CREATE INDEX CONCURRENTLY i ON posts (id);"),
        ("2024-01-03-000000_concurrent_index/metadata.toml", "run_in_transaction = false\n"),
        ("2024-01-04-000000_no_key/up.sql", "SELECT 1;"),
        ("2024-01-04-000000_no_key/metadata.toml", "# nothing\n"),
        ("2024-01-05-000000_bad_toml/up.sql", "SELECT 1;"),
        ("2024-01-05-000000_bad_toml/metadata.toml", "run_in_transaction = nope\n"),
        (".keep", ""),
    ]);
    let sources: Vec<&str> = found.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            "00000000000000_diesel_initial_setup",
            "2024-01-01-120000_create_users",
            "2024-01-02-090000_create_posts",
            "2024-01-03-000000_concurrent_index",
            "2024-01-04-000000_no_key",
            "2024-01-05-000000_bad_toml",
        ]
    );
    // diesel's setup migration is one like the others, with its real down.
    let setup = &found[0];
    assert_eq!(setup.description, "Diesel initial setup");
    assert_eq!(setup.up.len(), 1);
    assert_eq!(
        setup.down,
        ["DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass)"]
    );
    let found = &found[1..];
    let users = &found[0];
    assert_eq!(users.source_version, "20240101120000");
    assert_eq!(users.description, "Create users");
    assert_eq!(users.up, ["CREATE TABLE users (id SERIAL PRIMARY KEY)"]);
    assert_eq!(users.down, ["DROP TABLE users"]);
    assert!(has_notice(
        users,
        "2024-01-01-120000_create_users/up.sql: dropped a write to __diesel_schema_migrations"
    ));
    let posts = &found[1];
    assert!(posts.down.is_empty());
    assert!(posts.notices.is_empty(), "{:?}", posts.notices);
    assert!(!found[2].transaction);
    assert!(has_notice(&found[2], "run_in_transaction = false"));
    // diesel reads a metadata.toml without the key as false, and one that is
    // not TOML as absent.
    assert!(!found[3].transaction);
    assert!(has_notice(&found[3], "which diesel reads as false"));
    assert!(found[4].transaction);
    assert!(has_notice(
        &found[4],
        "not valid TOML, so diesel ignores it"
    ));
    assert_eq!(
        found[0].renumbering_notice(7),
        "2024-01-01-120000_create_users: diesel version 20240101120000 becomes 7"
    );
}

#[test]
fn diesel_skips_what_diesel_skips() {
    let scanned = scan_all(&[
        ("2024-01-01-120000_a/up.sql", "SELECT 1;"),
        ("2024-01-01-120000_a/notes.txt", ""),
        ("README.md", "notes"),
        ("seed.sql", "INSERT INTO a VALUES (1);"),
    ]);
    assert_eq!(scanned.migrations.len(), 1);
    assert_eq!(
        scanned.notices[1..],
        [
            "README.md: skipped, a file beside the migration directories (diesel reads directories only)",
            "seed.sql: skipped, a file beside the migration directories (diesel reads directories only)",
        ]
    );
    assert!(has_notice(
        &scanned.migrations[0],
        "2024-01-01-120000_a/notes.txt: skipped"
    ));
    let err = scan_err(&[("README.md", "notes"), ("old/", "")]);
    assert!(
        err.contains("old") && err.contains("not a diesel migration directory name"),
        "{err}"
    );
}

#[test]
fn diesel_orders_versions_as_text() {
    // The version ends at the first `_`: `20240313` is shorter than the
    // others, and after them as text although smaller as a number; so is an
    // 18-digit version before a 14-digit one.
    let found = scan_ok(&[
        ("2024-03-13_170000_alter_b/up.sql", "SELECT 3;"),
        ("2024-03-06-170000_create_b/up.sql", "SELECT 2;"),
        ("2017-01-01-000000-0000_create_a/up.sql", "SELECT 1;"),
        ("2018-01-01-000000_alter_a/up.sql", "SELECT 1;"),
    ]);
    let versions: Vec<&str> = found.iter().map(|m| m.source_version.as_str()).collect();
    assert_eq!(
        versions,
        [
            "201701010000000000",
            "20180101000000",
            "20240306170000",
            "20240313"
        ]
    );
}

#[test]
fn statements_on_the_tracking_table_stop_the_import() {
    let files = [
        ("2024-01-01-120000_a/up.sql", "CREATE TABLE a (id INT);"),
        (
            "2024-01-02-120000_b/up.sql",
            "DROP TABLE IF EXISTS schema_migrations;\nCREATE TABLE b (id INT);",
        ),
        (
            "2024-01-02-120000_b/down.sql",
            "DELETE FROM schema_migrations;",
        ),
    ];
    let err = scan_err(&files);
    assert!(
        err.starts_with("nothing imported: 2 statement(s) create, change or write a table named schema_migrations")
            && err.contains("\n  2024-01-02-120000_b/up.sql: `DROP TABLE IF EXISTS schema_migrations`")
            && err.contains("\n  2024-01-02-120000_b/down.sql: `DELETE FROM schema_migrations`")
            && err.contains("`migrate --table app_migrations import ")
            && err.contains("with_table(\"app_migrations\")"),
        "{err}"
    );
    // Under another tracking table they are the migrations' own business.
    let dir = fixture(&files);
    let scanned = scan(dir.path(), "app_migrations").expect("imports");
    assert_eq!(scanned.migrations[1].up.len(), 2);
    // … and a write to it is the previous tool's bookkeeping, dropped.
    assert!(scanned.migrations[1].down.is_empty());
    assert!(has_notice(
        &scanned.migrations[1],
        "down.sql: dropped a write to schema_migrations, the previous tool's tracking table"
    ));
}

#[test]
fn diesel_errors_name_the_entry() {
    let err = scan_err(&[("2024-01-01-120000_a/down.sql", "SELECT 1;")]);
    assert!(
        err.contains("2024-01-01-120000_a") && err.contains("without up.sql"),
        "{err}"
    );
}

#[test]
fn sqlx_reversible_and_simple() {
    let found = scan_ok(&[
        ("20240101120000_create_users.up.sql", "CREATE TABLE users (id INT);"),
        ("20240101120000_create_users.down.sql", "DROP TABLE users;"),
        (
            "20240102120000_index.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);",
        ),
        ("20240102120000_index.down.sql", "DROP INDEX CONCURRENTLY i;"),
        (
            "20240103120000_seed.up.sql",
            "BEGIN;\nINSERT INTO users VALUES (1);\nINSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20240103120000, 'seed', true, '\\x00', 0);\nCOMMIT;",
        ),
    ]);
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|m| m.layout == Layout::Sqlx));
    assert_eq!(found[0].up, ["CREATE TABLE users (id INT)"]);
    assert_eq!(found[0].down, ["DROP TABLE users"]);
    assert_eq!(found[1].up, ["CREATE INDEX CONCURRENTLY i ON users (id)"]);
    assert!(!found[1].transaction);
    assert_eq!(found[2].up, ["INSERT INTO users VALUES (1)"]);
    assert!(found[2].down.is_empty());
    assert_eq!(
        found[2]
            .notices
            .iter()
            .filter(|n| n.starts_with("20240103120000_seed.up.sql: dropped"))
            .count(),
        3
    );

    let simple = scan_ok(&[("1_init.sql", "-- no-transaction\nVACUUM;")]);
    assert!(!simple[0].transaction);
    assert_eq!(simple[0].layout, Layout::Flat);
}

#[test]
fn sqlx_errors() {
    let err = scan_err(&[("1_a.up.sql", "SELECT 1;"), ("2_b.down.sql", "SELECT 2;")]);
    assert!(
        err.contains("2_b.down.sql") && err.contains("without its .up.sql"),
        "{err}"
    );
    let err = scan_err(&[("1_a.sql", "SELECT 1;"), ("1_a.down.sql", "SELECT 2;")]);
    assert!(err.contains("1_a.down.sql"), "{err}");
    let err = scan_err(&[("1_a.up.sql", "SELECT 1;"), ("notes.sql", "")]);
    assert!(
        err.contains("notes.sql") && err.contains("N_name.up.sql"),
        "{err}"
    );
}

#[test]
fn unrecognised_file_names_are_errors() {
    let err = scan_err(&[("001_a.sql", "SELECT 1;"), ("schema.sql", "SELECT 2;")]);
    assert!(
        err.contains("schema.sql") && err.contains("expected NNN_description.sql"),
        "{err}"
    );
    let err = scan_err(&[("001_a.sql", "SELECT 1;"), ("README.md", "")]);
    assert!(err.contains("README.md"), "{err}");
    let err = scan_err(&[("001_a.sql", "SELECT 1;"), ("1_b.sql", "SELECT 2;")]);
    assert!(err.contains("version 1 appears twice"), "{err}");
    let err = scan_err(&[]);
    assert!(err.contains("no migrations found"), "{err}");
    let dir = fixture(&[("001_a.sql", "SELECT 1;")]);
    let err = scan(&dir.path().join("001_a.sql"), OURS)
        .expect_err("a file")
        .to_string();
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn non_utf8_file_is_an_error() {
    let dir = fixture(&[]);
    fs::write(dir.path().join("001_a.sql"), [0xff, 0xfe, b'x']).expect("write");
    let err = scan(dir.path(), OURS).expect_err("not UTF-8").to_string();
    assert!(err.contains("001_a.sql") && err.contains("UTF-8"), "{err}");
}

#[test]
fn uncertain_file_is_kept_as_one_batch() {
    let body = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;";
    let found = scan_ok(&[("001_proc.sql", body)]);
    assert_eq!(found[0].up, [body]);
    assert!(has_notice(
        &found[0],
        "001_proc.sql: kept as one batch: a MySQL DELIMITER"
    ));
}

#[test]
fn empty_file_becomes_a_no_op() {
    let found = scan_ok(&[("001_placeholder.sql", "-- nothing yet\n")]);
    assert_eq!(found[0].up, ["SELECT 1"]);
    assert!(has_notice(&found[0], "no statements to import"));
}

#[test]
fn goose_file_keeps_down_out_of_up() {
    let found = scan_ok(&[(
        "00002_add_bio.sql",
        "-- +goose Up\nALTER TABLE users ADD bio TEXT;\n-- +goose Down\nALTER TABLE users DROP bio;\n",
    )]);
    assert_eq!(found[0].up, ["ALTER TABLE users ADD bio TEXT"]);
    assert_eq!(found[0].down, ["ALTER TABLE users DROP bio"]);
}

#[test]
fn descriptions_from_names() {
    let v = "3";
    assert_eq!(description("add_users__table", v), "Add users table");
    assert_eq!(description("éclair_menu", v), "Éclair menu");
    assert_eq!(description("", v), "Imported migration 3");
    assert_eq!(description("Already Capital", v), "Already Capital");
}

#[test]
fn renumber_and_render() {
    let found = scan_ok(&[
        (
            "20240101120000_create_users.up.sql",
            "CREATE TABLE users (name TEXT DEFAULT '\"#');",
        ),
        ("20240101120000_create_users.down.sql", "DROP TABLE users;"),
        (
            "20240102120000_index.up.sql",
            "-- no-transaction\nCREATE INDEX i ON users (name);",
        ),
    ]);
    let numbered: Vec<(i64, &str)> = renumber(&found, 6)
        .into_iter()
        .map(|(v, m)| (v, m.source_version.as_str()))
        .collect();
    assert_eq!(numbered, [(7, "20240101120000"), (8, "20240102120000")]);
    let text = render(&found, 6);
    assert_eq!(
        text,
        r####"    // imported from 20240101120000_create_users.up.sql (sqlx version 20240101120000)
    Migration {
        version: 7,
        description: "Create users",
        sql: &[r##"CREATE TABLE users (name TEXT DEFAULT '"#')"##],
        down: &["DROP TABLE users"],
        ..Migration::DEFAULT
    },
    // imported from 20240102120000_index.up.sql (sqlx version 20240102120000)
    Migration {
        version: 8,
        description: "Index",
        sql: &["CREATE INDEX i ON users (name)"],
        transaction: false,
        ..Migration::DEFAULT
    },
"####
    );
    let file = "pub const MIGRATIONS: &[Migration] = &[\n    Migration { version: 6, ..Migration::DEFAULT },\n];\n";
    let appended = crate::authoring::migrations_file::append_entries(file, &text).expect("appends");
    assert_eq!(
        crate::authoring::migrations_file::last_version(&appended),
        Ok(8)
    );
    assert_eq!(renumber(&found, i64::MAX)[0].0, i64::MAX);
}

#[test]
fn comments_in_render_stay_comments() {
    assert_eq!(comment_safe("a\nb\rc"), "a?b?c");
}
