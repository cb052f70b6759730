//! Schema-per-tenant (`--schemas`) on PostgreSQL and canary waves
//! (`--canary`), through the real binary and this repository's six
//! migrations. Each PostgreSQL test makes its own database (with its
//! tenants' schemas) and drops it.
#![cfg(feature = "cli")]

mod common;

use common::{json, text};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Backend, TestDb};
use serde_json::Value;
use versioned_migrations::Migrator;

fn migrate(dir: &Path, args: &[&str]) -> Output {
    common::migrate_in(dir, args)
}

/// A PostgreSQL database with the schemas `tenants`, plus `other` (does
/// not match `tenant\_%`) and `public`.
fn tenants_db(tenants: &[&str]) -> TestDb {
    let db = TestDb::new(Backend::Postgres);
    for schema in tenants.iter().chain(&["other"]) {
        db.exec(&format!(
            "CREATE SCHEMA \"{}\"",
            schema.replace('"', "\"\"")
        ));
    }
    db
}

/// Versions recorded in `schema`'s own tracking table.
fn versions(db: &TestDb, schema: &str) -> Vec<i64> {
    Migrator::new(&[])
        .in_schema(schema)
        .history(&mut db.connect())
        .unwrap_or_else(|e| panic!("history of {schema}: {e}"))
        .migrations
        .iter()
        .map(|m| m.version)
        .collect()
}

/// The tables of `schema`, by name.
fn tables(db: &TestDb, schema: &str) -> Vec<String> {
    common::texts(
        &mut db.connect(),
        &format!(
            "SELECT CAST(table_name AS TEXT) AS value FROM information_schema.tables \
             WHERE table_schema = '{schema}' ORDER BY table_name"
        ),
    )
    .unwrap()
    .into_iter()
    .flatten()
    .collect()
}

fn rows(json: &Value) -> &Vec<Value> {
    json["targets"].as_array().expect("targets")
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn only_matching_schemas_migrate_each_with_its_own_tracking_table() {
    let db = tenants_db(&["tenant_a", "tenant_b", "tenant_c"]);
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            &db.url,
            "--schemas",
            "tenant\\_%",
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let json = json(&output);
    let labels: Vec<&str> = rows(&json)
        .iter()
        .map(|r| r["database"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["tenant_a", "tenant_b", "tenant_c"]
            .map(|s| format!("{}/{s}", db.url))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "one row per tenant, labelled database/schema, in name order"
    );
    assert!(rows(&json)
        .iter()
        .all(|r| r["database"]["url"] == db.url.as_str()
            && r["applied"].as_array().unwrap().len() == 6
            && r["canary"] == false));
    assert_eq!(json["totals"]["targets"], 3);
    assert_eq!(json["totals"]["databases"], 1);
    assert_eq!(json["totals"]["migrations_applied"], 18);
    for tenant in ["tenant_a", "tenant_b", "tenant_c"] {
        assert_eq!(versions(&db, tenant), [1, 2, 3, 4, 5, 6], "{tenant}");
        assert_eq!(
            tables(&db, tenant),
            ["posts", "schema_migrations", "users"],
            "{tenant} holds its tables and its own tracking table"
        );
    }
    assert!(tables(&db, "other").is_empty(), "not matching: untouched");
    assert!(tables(&db, "public").is_empty(), "public: untouched");

    // Human rows name database/schema; a second run applies nothing.
    let again = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            &db.url,
            "--schemas",
            "tenant\\_%",
        ],
    );
    let out = text(&again);
    assert!(again.status.success(), "{out}");
    assert!(
        out.contains(&format!("{}/tenant_b", db.url)) && out.contains("6 → 6  0 applied"),
        "{out}"
    );
    assert!(
        out.contains("3 target(s): 3 ok, 0 failed; 0 migration(s) applied"),
        "{out}"
    );
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn a_conflicting_table_in_one_tenant_fails_only_it_and_status_and_check_are_per_schema() {
    let db = tenants_db(&["tenant_a", "tenant_b", "tenant_c"]);
    db.exec("CREATE TABLE tenant_b.posts (id INTEGER)");
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.as_str();
    let apply = migrate(
        dir.path(),
        &["apply", "--database-url", url, "--schemas", "tenant_%"],
    );
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("{url}/tenant_b"))
            && out.contains("failed: migration 2 (Create posts table) statement 1 failed: relation \"posts\" already exists"),
        "the tenant's row carries the database's message:\n{out}"
    );
    assert!(out.contains("3 target(s): 2 ok, 1 failed"), "{out}");
    assert_eq!(versions(&db, "tenant_a"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        versions(&db, "tenant_b"),
        [1],
        "migration 1 stays, 2 rolled back"
    );
    assert_eq!(versions(&db, "tenant_c"), [1, 2, 3, 4, 5, 6]);

    let check = migrate(
        dir.path(),
        &[
            "check",
            "--database-url",
            url,
            "--schemas",
            "tenant_%",
            "--json",
        ],
    );
    assert_eq!(check.status.code(), Some(3), "{}", text(&check));
    let doc = json(&check);
    let pending: Vec<(String, usize)> = rows(&doc)
        .iter()
        .map(|r| {
            (
                r["database"]["schema"].as_str().unwrap().to_string(),
                r["pending"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        pending,
        [("tenant_a", 0), ("tenant_b", 5), ("tenant_c", 0)].map(|(s, n)| (s.to_string(), n))
    );
    let status = migrate(
        dir.path(),
        &["status", "--database-url", url, "--schemas", "tenant_%"],
    );
    let out = text(&status);
    assert_eq!(status.status.code(), Some(3), "{out}");
    assert!(out.contains("version 1, 5 pending"), "{out}");
    let version = migrate(
        dir.path(),
        &[
            "version",
            "--database-url",
            url,
            "--schemas",
            "tenant_%",
            "--json",
        ],
    );
    let versions: Vec<i64> = rows(&json(&version))
        .iter()
        .map(|r| r["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [6, 1, 6]);

    // Fixed by hand: the next run finishes only tenant_b.
    db.exec("DROP TABLE tenant_b.posts");
    let apply = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            url,
            "--schemas",
            "tenant_%",
            "--json",
        ],
    );
    assert!(apply.status.success(), "{}", text(&apply));
    assert_eq!(json(&apply)["totals"]["migrations_applied"], 5);
    let check = migrate(
        dir.path(),
        &["check", "--database-url", url, "--schemas", "tenant_%"],
    );
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn two_concurrent_runs_apply_each_migration_once_per_schema() {
    let tenants: Vec<String> = (0..8).map(|i| format!("tenant_{i}")).collect();
    let names: Vec<&str> = tenants.iter().map(String::as_str).collect();
    let db = tenants_db(&names);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_migrate"))
                .args([
                    "apply",
                    "--database-url",
                    &db.url,
                    "--schemas",
                    "tenant_%",
                    "--parallel",
                    "3",
                    "--json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        applied += json(&output)["totals"]["migrations_applied"]
            .as_u64()
            .unwrap();
    }
    assert_eq!(
        applied,
        8 * 6,
        "every migration once per schema across both runs"
    );
    for tenant in &names {
        assert_eq!(versions(&db, tenant), [1, 2, 3, 4, 5, 6], "{tenant}");
    }
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn the_lock_is_per_schema_and_odd_schema_names_are_quoted() {
    let odd = "tenant_Odd \"name\"; DROP SCHEMA other; --";
    let db = tenants_db(&["tenant_a", "tenant_b", odd]);
    // Another run holds tenant_a's lock (the key migrate uses for it).
    let mut holder = db.connect();
    let key = "SELECT CAST(CAST(pg_try_advisory_lock(hashtext(current_database() || \
               '/versioned-migrations/tenant_a.schema_migrations')) AS INTEGER) AS BIGINT) AS value";
    assert_eq!(common::scalar(&mut holder, key).unwrap(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            &db.url,
            "--schemas",
            "tenant_%",
            "--lock-timeout",
            "1",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let json = json(&output);
    let failed: Vec<&str> = rows(&json)
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| r["database"]["schema"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["tenant_a"],
        "only the locked schema waits and gives up"
    );
    assert!(versions(&db, "tenant_a").is_empty());
    assert_eq!(versions(&db, "tenant_b"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        versions(&db, odd),
        [1, 2, 3, 4, 5, 6],
        "the odd name is one schema"
    );
    assert_eq!(
        tables(&db, "other"),
        Vec::<String>::new(),
        "still there, untouched"
    );
    assert_eq!(
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_namespace WHERE nspname = 'other'"
        ),
        1
    );
    drop(holder);
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn a_broken_canary_schema_stops_the_fleet_and_a_good_one_lets_it_through() {
    let db = tenants_db(&["tenant_a", "tenant_b", "tenant_c", "tenant_d"]);
    db.exec("CREATE TABLE tenant_a.posts (id INTEGER)");
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.as_str();
    let args = [
        "apply",
        "--database-url",
        url,
        "--schemas",
        "tenant_%",
        "--canary",
        "1",
    ];
    let output = migrate(dir.path(), &[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let json = json(&output);
    assert_eq!(json["error"]["kind"], "canary_failed");
    assert_eq!(json["error"]["canaries"][0], format!("{url}/tenant_a"));
    let rows = rows(&json);
    assert_eq!(rows[0]["canary"], true);
    assert_eq!(rows[0]["ok"], false);
    assert!(rows[1..].iter().all(|r| r["canary"] == false
        && r["skipped"] == true
        && r["skipped_because"] == "canary_failed"));
    assert_eq!(json["totals"]["skipped"], 3);
    for tenant in ["tenant_b", "tenant_c", "tenant_d"] {
        assert!(tables(&db, tenant).is_empty(), "{tenant} untouched");
    }

    db.exec("DROP TABLE tenant_a.posts");
    let output = migrate(dir.path(), &args);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("the first 1 as canary"), "{out}");
    for tenant in ["tenant_a", "tenant_b", "tenant_c", "tenant_d"] {
        assert_eq!(versions(&db, tenant), [1, 2, 3, 4, 5, 6], "{tenant}");
    }
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn no_matching_schema_is_said_and_fails() {
    let db = tenants_db(&[]);
    let dir = tempfile::tempdir().unwrap();
    for pattern in ["tenant_%", "pg_%", "information_schema"] {
        let output = migrate(
            dir.path(),
            &["apply", "--database-url", &db.url, "--schemas", pattern],
        );
        let out = text(&output);
        assert_eq!(output.status.code(), Some(1), "{out}");
        assert!(
            out.contains(&format!("no schema matches `{pattern}`")),
            "system schemas are never targets:\n{out}"
        );
    }
    assert!(tables(&db, "public").is_empty());
}

#[test]
fn schemas_on_a_database_that_is_not_postgres_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate(
        dir.path(),
        &["apply", "--database-url", "app.db", "--schemas", "tenant_%"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains(
            "--schemas works on PostgreSQL databases only: app.db (--database-url) is SQLite"
        ),
        "{}",
        text(&output)
    );
    // The embedded default (no URL given) is SQLite too.
    let output = migrate(dir.path(), &["status", "--schemas", "tenant_%"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("embedded default"),
        "{}",
        text(&output)
    );
    let output = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            "postgres://u@127.0.0.1:1/x",
            "--schemas",
            "t%",
            "--table",
            "meta.schema_migrations",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("unqualified"), "{}", text(&output));
    assert!(!dir.path().join("app.db").exists(), "nothing ran");
}

/// Six SQLite files in a targets file; `broken` gets a table in the way of
/// migration 2.
fn sqlite_fleet(dir: &Path, broken: Option<usize>) -> String {
    let lines: Vec<String> = (0..6)
        .map(|i| dir.join(format!("t{i}.db")).display().to_string())
        .collect();
    if let Some(i) = broken {
        common::connect_url(&lines[i])
            .unwrap()
            .batch_execute("CREATE TABLE posts (id INTEGER)")
            .unwrap();
    }
    let path = dir.join("targets.txt");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.display().to_string()
}

#[test]
fn a_broken_canary_stops_the_fleet_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let targets = sqlite_fleet(dir.path(), Some(0));
    let output = migrate(
        dir.path(),
        &[
            "apply",
            "--targets",
            &targets,
            "--canary",
            "2",
            "--parallel",
            "4",
        ],
    );
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("t0.db")
            && out.contains("failed: the other 4 target(s) were skipped, untouched"),
        "names the canary:\n{out}"
    );
    assert!(
        out.contains("6 database(s): 1 ok, 1 failed, 4 skipped (canary failed)"),
        "{out}"
    );
    for i in 2..6 {
        assert!(
            !dir.path().join(format!("t{i}.db")).exists(),
            "t{i} untouched"
        );
    }
    let json = json(&migrate(
        dir.path(),
        &["apply", "--targets", &targets, "--canary", "2", "--json"],
    ));
    let canaries: Vec<bool> = rows(&json).iter().map(|r| r["canary"] == true).collect();
    assert_eq!(canaries, [true, true, false, false, false, false]);
    assert_eq!(json["totals"]["canaries"], 2);
    assert_eq!(json["error"]["kind"], "canary_failed");
}

#[test]
fn a_good_canary_lets_the_fleet_through() {
    let dir = tempfile::tempdir().unwrap();
    let targets = sqlite_fleet(dir.path(), Some(4));
    let output = migrate(
        dir.path(),
        &["apply", "--targets", &targets, "--canary", "1", "--json"],
    );
    assert_eq!(output.status.code(), Some(1), "t4 fails after the canary");
    let json = json(&output);
    assert!(json.get("error").is_none(), "the canary did not fail");
    let ok: Vec<bool> = rows(&json).iter().map(|r| r["ok"] == true).collect();
    assert_eq!(ok, [true, true, true, true, false, true], "the rest ran");
    assert_eq!(json["totals"]["skipped"], 0);
    assert_eq!(rows(&json)[0]["canary"], true);
}

static TWO: &[versioned_migrations::Migration] = &[
    common::m(
        1,
        "Create users table",
        &["CREATE TABLE users (id INTEGER PRIMARY KEY)"],
    ),
    common::m(
        2,
        "Create posts table",
        &["CREATE TABLE posts (id INTEGER PRIMARY KEY)"],
    ),
];

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn the_library_migrates_each_schema_on_one_connection_and_gives_search_path_back() {
    let db = tenants_db(&["tenant_a", "tenant_b"]);
    let mut conn = db.connect();
    conn.batch_execute("SET search_path TO other, public")
        .unwrap();
    let schemas = versioned_migrations::schemas_matching(&mut conn, "tenant\\_%").unwrap();
    assert_eq!(schemas, ["tenant_a", "tenant_b"]);
    for schema in &schemas {
        let report = Migrator::new(TWO)
            .in_schema(schema)
            .apply(&mut conn)
            .unwrap();
        assert_eq!(report.applied.len(), 2, "{schema}");
    }
    let search_path = common::texts(
        &mut conn,
        "SELECT CAST(current_setting('search_path') AS TEXT) AS value",
    )
    .unwrap();
    assert_eq!(
        search_path,
        [Some(String::from("other, public"))],
        "as it was found"
    );
    for schema in &schemas {
        assert_eq!(versions(&db, schema), [1, 2]);
        assert_eq!(tables(&db, schema), ["posts", "schema_migrations", "users"]);
    }
    assert!(tables(&db, "other").is_empty() && tables(&db, "public").is_empty());
}

#[test]
fn the_library_refuses_a_schema_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    let mut conn = db.connect();
    let error = Migrator::new(TWO)
        .in_schema("tenant_a")
        .apply(&mut conn)
        .unwrap_err();
    assert!(
        matches!(
            error,
            versioned_migrations::Error::SchemasUnsupported { .. }
        ),
        "{error}"
    );
    assert!(versioned_migrations::schemas_matching(&mut conn, "%").is_err());
    assert!(!db.table_exists("schema_migrations"), "nothing created");
}
