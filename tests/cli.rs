//! The real `migrate` binary (with this repository's migrations.rs), checked
//! against the database after each command.
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{migrate_in, Backend, TestDb};

fn migrate(db: &TestDb, args: &[&str]) -> Output {
    let mut all = vec!["--database-url", db.url.as_str()];
    all.extend_from_slice(args);
    migrate_in(db.dir.path(), &all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

on_all_backends!(
    apply_then_inspect,
    read_commands_on_new_database,
    failing_migration_is_reported,
    quiet_and_verbose,
);

fn apply_then_inspect(db: TestDb) {
    let first = migrate(&db, &["apply"]);
    assert_exit(&first, 0);
    let out = stdout(&first);
    assert!(
        out.contains("6 applied, 0 already applied, 6 total"),
        "{out}"
    );
    assert!(out.contains("Create users table"), "{out}");
    assert_eq!(db.count("users"), 1);
    assert_eq!(
        db.count("users WHERE email = 'admin@example.com' AND language = 'en'"),
        1,
        "every migration ran, in order"
    );

    let second = migrate(&db, &["apply"]);
    assert_exit(&second, 0);
    assert!(
        stdout(&second).contains("0 applied, 6 already applied, 6 total"),
        "{}",
        stdout(&second)
    );
    assert_eq!(db.count("users"), 1);

    // Global options work before and after the subcommand.
    let version = migrate_in(db.dir.path(), &["version", "--database-url", &db.url]);
    assert_exit(&version, 0);
    assert_eq!(stdout(&version), "6\n");
    assert_eq!(json(&migrate(&db, &["version", "--json"]))["version"], 6);

    let history = json(&migrate(&db, &["history", "--json"]));
    let rows = history["migrations"].as_array().expect("migrations array");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["version"], 1);
    assert_eq!(rows[0]["description"], "Create users table");
    assert!(rows[0]["execution_ms"].is_f64());
    assert_eq!(rows[0]["checksum"].as_str().map(str::len), Some(64));
    let applied_at = rows[0]["applied_at"].as_str().expect("applied_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(applied_at).is_ok(),
        "{applied_at}"
    );

    let human_history = stdout(&migrate(&db, &["history"]));
    assert!(
        human_history.contains("Store e-mail addresses in lower case"),
        "{human_history}"
    );

    let status = json(&migrate(&db, &["status", "--json"]));
    assert_eq!(status["version"], 6);
    assert_eq!(status["pending"], serde_json::json!([]));
    assert_eq!(status["problems"], serde_json::json!([]));
    assert_eq!(status["migrations"][5]["state"], "applied");
}

fn read_commands_on_new_database(db: TestDb) {
    let version = migrate(&db, &["version"]);
    assert_exit(&version, 0);
    assert_eq!(stdout(&version), "0\n");
    let status = migrate(&db, &["status"]);
    assert_exit(&status, 0);
    assert!(
        stdout(&status).contains("0 applied, 6 pending, 6 total"),
        "{}",
        stdout(&status)
    );
    let history = migrate(&db, &["history"]);
    assert_exit(&history, 0);
    assert!(stdout(&history).contains("No migrations applied"));
    let status = json(&migrate(&db, &["status", "--json"]));
    assert_eq!(status["pending"], serde_json::json!([1, 2, 3, 4, 5, 6]));
    assert_exit(&migrate(&db, &["apply", "--dry-run"]), 0);
    if db.backend == Backend::Sqlite {
        assert!(
            !Path::new(&db.url).exists(),
            "read commands do not create the SQLite file"
        );
    } else {
        assert!(
            !db.table_exists("schema_migrations"),
            "read commands do not create the table"
        );
    }
}

fn failing_migration_is_reported(db: TestDb) {
    // A leftover `posts` table makes migration 2 fail.
    db.exec("CREATE TABLE posts (id INTEGER)");
    let failed = migrate(&db, &["apply"]);
    assert_exit(&failed, 1);
    let err = stderr(&failed);
    assert!(
        err.contains("migration 2 (Create posts table) statement 1 failed"),
        "{err}"
    );
    assert!(err.contains("CREATE TABLE posts"), "{err}");
    assert!(
        err.to_lowercase().contains("already exists"),
        "database message: {err}"
    );
    assert!(
        stdout(&failed).contains("Create users table"),
        "migration 1 was applied"
    );
    if db.transactional_ddl() {
        assert!(
            err.contains("nothing of this migration was applied"),
            "{err}"
        );
        assert_eq!(stdout(&migrate(&db, &["version"])), "1\n");
        assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
    } else {
        // MySQL rejected the first statement outright: nothing ran, so no
        // dirty row is left to repair.
        assert!(err.contains("rejected it before anything ran"), "{err}");
        assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
        let again = migrate(&db, &["apply"]);
        assert_exit(&again, 1);
        assert!(
            stderr(&again).contains("migration 2 (Create posts table) statement 1 failed"),
            "{}",
            stderr(&again)
        );
    }
    assert!(db.table_exists("users"), "migration 1 stays applied");
}

fn quiet_and_verbose(db: TestDb) {
    let verbose = migrate(&db, &["apply", "-v", "--to", "2"]);
    assert_exit(&verbose, 0);
    assert!(
        stdout(&verbose).contains("[1] CREATE TABLE users"),
        "{}",
        stdout(&verbose)
    );
    let quiet = migrate(&db, &["-q", "apply"]);
    assert_exit(&quiet, 0);
    assert_eq!(stdout(&quiet), "");
    assert_eq!(stdout(&migrate(&db, &["version"])), "6\n");
}

#[test]
fn database_url_comes_from_env_then_dotenv_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .envs(envs.iter().copied())
            .output()
            .unwrap()
    };
    assert_exit(&run(&[], &["apply"]), 0);
    assert!(
        dir.path().join("app.db").exists(),
        "embedded default is ./app.db"
    );

    std::fs::write(
        dir.path().join(".env"),
        "# settings\nDATABASE_URL=sqlite://from_dotenv.db\n",
    )
    .unwrap();
    assert_exit(&run(&[], &["apply"]), 0);
    assert!(dir.path().join("from_dotenv.db").exists(), ".env is read");

    assert_exit(&run(&[("DATABASE_URL", "from_env.db")], &["apply"]), 0);
    assert!(
        dir.path().join("from_env.db").exists(),
        "DATABASE_URL wins over .env"
    );

    assert_exit(
        &run(
            &[("DATABASE_URL", "from_env.db")],
            &["apply", "--database-url", "from_flag.db"],
        ),
        0,
    );
    assert!(
        dir.path().join("from_flag.db").exists(),
        "--database-url wins"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["frobnicate"][..],
        &["apply", "--to", "x"],
        &[],
        &["version", "--lock-timeout", "-1"],
    ] {
        let output = migrate_in(dir.path(), args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("error"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_exit(&migrate_in(dir.path(), &["--help"]), 0);
}

#[test]
fn bad_input_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("postgres://admin:hunter2@[::1/app", "invalid database URL"),
        (
            "oracle://admin:hunter2@db/app",
            "unsupported database URL scheme",
        ),
        (
            "postgres://admin:hunter2@127.0.0.1:1/app",
            "cannot reach 127.0.0.1:1",
        ),
        (
            "mysql://admin:hunter2@127.0.0.1:1/app",
            "cannot reach 127.0.0.1:1",
        ),
        ("mysql://admin:hunter2@127.0.0.1:1", "no database name"),
        (
            "sqlite://missing_dir/app.db",
            "directory missing_dir does not exist",
        ),
    ];
    for (url, expected) in cases {
        for command in ["apply", "status", "version"] {
            let output = migrate_in(dir.path(), &[command, "--database-url", url]);
            let all = format!("{}{}", stdout(&output), stderr(&output));
            if url.starts_with("mysql") && cfg!(not(feature = "mysql"))
                || url.starts_with("postgres") && cfg!(not(feature = "postgres"))
            {
                assert_exit(&output, 1);
                continue;
            }
            assert_exit(&output, 1);
            assert!(all.contains(expected), "{url} {command}: {all}");
            assert!(!all.contains("hunter2"), "password leaked for {url}: {all}");
            assert!(!all.contains("panicked"), "{all}");
        }
    }
    let output = migrate_in(dir.path(), &["apply", "--table", "x; DROP TABLE users"]);
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("invalid table name"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("app.db").exists(), "nothing was created");
}

#[test]
#[ignore = "server test: needs --all-features, the TEST_*_URL servers and -- --include-ignored"]
#[cfg(all(feature = "postgres", feature = "mysql"))]
fn wrong_credentials_never_print_the_password() {
    for backend in [Backend::Mysql, Backend::Postgres] {
        let base = common::server_url(backend);
        let mut url = url::Url::parse(&base).unwrap();
        url.set_username("vm_no_such_user").unwrap();
        url.set_password(Some("s3cretPass")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let output = migrate_in(dir.path(), &["status", "--database-url", url.as_str()]);
        assert_exit(&output, 1);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(all.contains("cannot connect to"), "{all}");
        assert!(all.contains("***"), "{all}");
        assert!(!all.contains("s3cretPass"), "{all}");
    }
}

mod gates {
    use super::*;
    on_all_backends!(
        verify_check_baseline_repair_exit_codes,
        lock_timeout_flag_bounds_the_wait
    );
}

fn verify_check_baseline_repair_exit_codes(db: TestDb) {
    // New database: verify is clean, check is not (pending).
    assert_exit(&migrate(&db, &["verify"]), 0);
    let check = migrate(&db, &["check"]);
    assert_exit(&check, 3);
    assert!(stdout(&check).contains("6 pending"), "{}", stdout(&check));

    // Adopt a database whose schema matches migrations 1..=2 (made by hand).
    assert_exit(&migrate(&db, &["apply", "--to", "2"]), 0);
    db.exec("DELETE FROM schema_migrations");
    let baseline = migrate(&db, &["baseline", "2"]);
    assert_exit(&baseline, 0);
    assert!(
        stdout(&baseline).contains("recorded 2 migration(s)"),
        "{}",
        stdout(&baseline)
    );
    assert_exit(&migrate(&db, &["baseline", "2"]), 1);
    assert_exit(&migrate(&db, &["apply"]), 0);
    assert_exit(&migrate(&db, &["check"]), 0);

    // Tamper with a recorded checksum: verify and check report it, apply refuses.
    db.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3");
    let verify = migrate(&db, &["verify", "--json"]);
    assert_exit(&verify, 3);
    let problems = json(&verify)["problems"].clone();
    assert_eq!(problems[0]["kind"], "checksum_mismatch");
    assert_eq!(problems[0]["version"], 3);
    assert_exit(&migrate(&db, &["check"]), 3);
    let refused = migrate(&db, &["apply"]);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("migration 3 (Add language preference to users) was edited"),
        "{}",
        stderr(&refused)
    );

    let repair = migrate(&db, &["repair"]);
    assert_exit(&repair, 0);
    assert!(
        stdout(&repair).contains("migration 3"),
        "{}",
        stdout(&repair)
    );
    assert_exit(&migrate(&db, &["verify"]), 0);
    assert_exit(&migrate(&db, &["check"]), 0);
}

fn lock_timeout_flag_bounds_the_wait(db: TestDb) {
    assert_exit(&migrate(&db, &["apply", "--to", "1"]), 0);
    let holder = db.hold_migration_lock();
    let waited = migrate(&db, &["apply", "--lock-timeout", "1"]);
    assert_exit(&waited, 1);
    let err = stderr(&waited);
    assert!(err.contains("waiting for another migrate run"), "{err}");
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(
        stdout(&migrate(&db, &["version"])),
        "1\n",
        "nothing applied while locked"
    );
    drop(holder);
    assert_exit(&migrate(&db, &["apply", "--lock-timeout", "1"]), 0);
    assert_eq!(stdout(&migrate(&db, &["version"])), "6\n");
}

mod authoring {
    use super::*;
    on_all_backends!(rollback_command, show_command);

    fn rollback_command(db: TestDb) {
        assert_exit(&migrate(&db, &["apply", "--to", "3"]), 0);
        let plan = migrate(&db, &["rollback", "--steps", "2", "--dry-run"]);
        assert_exit(&plan, 0);
        assert!(
            stdout(&plan).contains("ALTER TABLE users DROP COLUMN language"),
            "{}",
            stdout(&plan)
        );
        assert!(
            stdout(&plan).contains("DROP TABLE posts"),
            "{}",
            stdout(&plan)
        );
        assert_eq!(
            stdout(&migrate(&db, &["version"])),
            "3\n",
            "dry run changed nothing"
        );

        let back = migrate(&db, &["rollback", "--steps", "2"]);
        assert_exit(&back, 0);
        assert!(
            stdout(&back).contains("2 rolled back (version 3 → 1)"),
            "{}",
            stdout(&back)
        );
        assert!(!db.table_exists("posts"));
        assert_eq!(stdout(&migrate(&db, &["version"])), "1\n");
        assert_exit(&migrate(&db, &["rollback", "--to", "0"]), 0);
        assert!(!db.table_exists("users"));
        assert_eq!(db.tracked("schema_migrations"), []);

        assert_exit(&migrate(&db, &["apply"]), 0);
        let refused = migrate(&db, &["rollback", "--steps", "3"]);
        assert_exit(&refused, 1);
        assert!(
            stderr(&refused).contains("migration 4 (Index published posts) is irreversible"),
            "{}",
            stderr(&refused)
        );
        assert_eq!(
            stdout(&migrate(&db, &["version"])),
            "6\n",
            "refused before anything ran"
        );
        let plan = migrate(&db, &["rollback", "--steps", "3", "--dry-run"]);
        assert_exit(&plan, 1);
        assert!(
            stdout(&plan).contains("✗ blocked"),
            "the dry run shows the plan and its blocker: {}",
            stdout(&plan)
        );
        assert!(
            stdout(&plan).contains("DELETE FROM users WHERE id = 1"),
            "{}",
            stdout(&plan)
        );
        assert_exit(&migrate(&db, &["rollback", "--to", "1", "--steps", "2"]), 2);
    }

    fn show_command(db: TestDb) {
        let shown = migrate(&db, &["show", "3"]);
        assert_exit(&shown, 0);
        let text = stdout(&shown);
        assert!(
            text.contains("migration 3: Add language preference to users"),
            "{text}"
        );
        assert!(
            text.contains("ALTER TABLE users ADD COLUMN language"),
            "{text}"
        );
        assert!(
            text.contains("ALTER TABLE users DROP COLUMN language"),
            "{text}"
        );
        let irreversible = stdout(&migrate(&db, &["show", "4"]));
        assert!(irreversible.contains("irreversible"), "{irreversible}");
        let missing = migrate(&db, &["show", "99"]);
        assert_exit(&missing, 1);
        assert!(
            stderr(&missing).contains("no migration 99"),
            "{}",
            stderr(&missing)
        );
    }

    #[test]
    fn backup_writes_a_restorable_copy() {
        let db = TestDb::new(Backend::Sqlite);
        assert_exit(&migrate(&db, &["apply", "--to", "2"]), 0);
        let applied = migrate(&db, &["apply", "--backup"]);
        assert_exit(&applied, 0);
        let out = stdout(&applied);
        let line = out
            .lines()
            .find(|l| l.starts_with("Backed up to "))
            .unwrap_or_else(|| panic!("{out}"));
        let path = line["Backed up to ".len()..]
            .split(" (restore")
            .next()
            .unwrap()
            .trim()
            .to_string();
        assert!(path.contains(".backup-") && path.ends_with("-v2"), "{path}");
        assert_eq!(
            stdout(&migrate_in(
                db.dir.path(),
                &["version", "--database-url", &path]
            )),
            "2\n"
        );
        assert_eq!(stdout(&migrate(&db, &["version"])), "6\n");
        // Restore: copy the backup over the database.
        std::fs::copy(&path, &db.url).unwrap();
        assert_eq!(stdout(&migrate(&db, &["version"])), "2\n");
        // Nothing pending: no backup is made.
        assert_exit(&migrate(&db, &["apply"]), 0);
        let again = migrate(&db, &["apply", "--backup"]);
        assert!(!stdout(&again).contains("Backed up"), "{}", stdout(&again));
    }

    #[test]
    fn single_transaction_flag() {
        let db = TestDb::new(Backend::Sqlite);
        let run = migrate(&db, &["apply", "--single-transaction"]);
        assert_exit(&run, 0);
        assert!(stdout(&run).contains("6 applied"), "{}", stdout(&run));
        // The flag is honoured: a failure in migration 2 takes migration 1
        // back with it, where the default mode keeps it.
        for (flag, version) in [(Some("--single-transaction"), "0\n"), (None, "1\n")] {
            let db = TestDb::new(Backend::Sqlite);
            db.exec("CREATE TABLE posts (id INTEGER)");
            let mut args = vec!["apply"];
            args.extend(flag);
            assert_exit(&migrate(&db, &args), 1);
            assert_eq!(stdout(&migrate(&db, &["version"])), version, "{flag:?}");
        }
    }
}
