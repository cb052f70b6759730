//! `migrate schema`, `drift`, `roundtrip` and `check --schema` through the
//! real binary (over this project's own migrations.rs), on every backend:
//! exit codes, text and JSON, scratch databases never left behind, even
//! after a kill.
#![cfg(feature = "cli")]

mod common;

use common::{exit, json, text};

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{migrate_in, Backend, TestDb};

fn run(db: &TestDb, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--database-url", db.url.as_str()]);
    migrate_in(db.dir.path(), &all)
}

fn applied(backend: Backend) -> TestDb {
    let db = TestDb::new(backend);
    exit(&run(&db, &["apply", "-q"]), 0);
    db
}

/// Scratch databases on the server whose creating session is connected
/// to `db` (none once every run against it has ended).
fn scratch_databases_of(db: &TestDb) -> Vec<String> {
    let live = db.url.rsplit('/').next().unwrap_or_default().to_string();
    let sql = match db.backend {
        Backend::Postgres => format!(
            "SELECT d.datname AS value FROM pg_database d JOIN pg_stat_activity a \
             ON d.datname LIKE 'vm\\_scratch\\_' || a.pid || '\\_%' WHERE a.datname = '{live}'"
        ),
        _ => format!(
            "SELECT s.SCHEMA_NAME AS value FROM information_schema.SCHEMATA s JOIN \
             information_schema.PROCESSLIST p ON s.SCHEMA_NAME LIKE CONCAT('vm\\_scratch\\_', p.ID, '\\_%') \
             WHERE p.DB = '{live}'"
        ),
    };
    common::texts(&mut db.connect(), &sql)
        .expect("list scratch databases")
        .into_iter()
        .flatten()
        .collect()
}

fn database_exists(db: &TestDb, name: &str) -> bool {
    let sql = match db.backend {
        Backend::Postgres => {
            format!("SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_database WHERE datname = '{name}'")
        }
        _ => format!(
            "SELECT CAST(COUNT(*) AS SIGNED) AS value FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
        ),
    };
    db.scalar(&sql) > 0
}

/// The text is byte-identical across runs and databases; --file writes
/// the same bytes; --json parses.
fn schema_text_is_deterministic(db: TestDb) {
    exit(&run(&db, &["apply", "-q"]), 0);
    let other = applied(db.backend);
    let first = run(&db, &["schema"]);
    exit(&first, 0);
    assert_eq!(first.stdout, run(&db, &["schema"]).stdout);
    assert_eq!(first.stdout, run(&other, &["schema"]).stdout);
    let path = db.dir.path().join("schema.sql");
    let path_text = path.display().to_string();
    exit(&run(&db, &["schema", "--file", &path_text]), 0);
    assert_eq!(std::fs::read(&path).expect("schema.sql"), first.stdout);
    let doc = json(&run(&db, &["schema", "--json"]));
    assert!(
        doc["schema"]["tables"]
            .as_array()
            .is_some_and(|t| t.len() == 2),
        "{doc}"
    );
    assert!(doc["database"]["url"].is_string());
}

/// Drift: 0 when none, 3 with the hand change named (text and JSON).
fn drift_exits_3_naming_the_change(db: TestDb) {
    exit(&run(&db, &["apply", "-q"]), 0);
    let clean = run(&db, &["drift"]);
    exit(&clean, 0);
    assert!(text(&clean).contains("No drift"), "{}", text(&clean));
    db.exec("CREATE INDEX by_hand ON users (name)");
    let found = run(&db, &["drift"]);
    exit(&found, 3);
    assert!(
        text(&found).contains("extra     index by_hand"),
        "{}",
        text(&found)
    );
    let doc = json(&run(&db, &["drift", "--json"]));
    assert_eq!(doc["drift"], true);
    assert_eq!(doc["changes"][0]["kind"], "extra");
    assert_eq!(doc["changes"][0]["name"], "by_hand");
}

fn roundtrip_passes_this_projects_migrations(db: TestDb) {
    let output = run(&db, &["roundtrip"]);
    exit(&output, 0);
    assert!(
        text(&output).contains("every down restores its schema"),
        "{}",
        text(&output)
    );
    let doc = json(&run(&db, &["roundtrip", "--json"]));
    assert_eq!(doc["failed"], serde_json::Value::Null);
    assert_eq!(doc["migrations"][3]["outcome"], "irreversible", "{doc}");
}

/// check --schema: 0 when the file is what the migrations produce, 3 with
/// the differing lines when a migration changed without it.
fn check_schema_gates_the_committed_file(db: TestDb) {
    exit(&run(&db, &["apply", "-q"]), 0);
    let path = db.dir.path().join("schema.sql");
    let path_text = path.display().to_string();
    exit(&run(&db, &["schema", "--file", &path_text]), 0);
    let ok = run(&db, &["check", "--schema", &path_text]);
    exit(&ok, 0);
    let committed = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, committed.replace("language", "locale")).expect("write");
    let stale = run(&db, &["check", "--schema", &path_text]);
    exit(&stale, 3);
    assert!(text(&stale).contains("+   language"), "{}", text(&stale));
    let doc = json(&run(&db, &["check", "--schema", &path_text, "--json"]));
    assert_eq!(doc["ready"], false);
    assert!(doc["not_in_file"].as_array().is_some_and(|l| !l.is_empty()));
}

/// A non-empty --scratch-url is refused (exit 1, JSON error) and left alone.
fn a_non_empty_scratch_url_is_refused(db: TestDb) {
    exit(&run(&db, &["apply", "-q"]), 0);
    let scratch = TestDb::new(db.backend);
    scratch.exec("CREATE TABLE keep_me (id INTEGER PRIMARY KEY)");
    let output = run(&db, &["drift", "--json", "--scratch-url", &scratch.url]);
    exit(&output, 1);
    let doc = json(&output);
    assert_eq!(doc["error"]["kind"], "scratch_not_empty", "{doc}");
    assert!(scratch.table_exists("keep_me"));
    let empty = TestDb::new(db.backend);
    exit(&run(&db, &["drift", "--scratch-url", &empty.url]), 0);
    let left = common::texts(
        &mut empty.connect(),
        match db.backend {
            Backend::Sqlite => "SELECT name AS value FROM sqlite_schema",
            Backend::Postgres => "SELECT tablename::text AS value FROM pg_tables WHERE schemaname = 'public'",
            Backend::Mysql => "SELECT TABLE_NAME AS value FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        },
    )
    .expect("list");
    assert!(
        left.is_empty(),
        "the given scratch database was emptied: {left:?}"
    );
}

fn usage_errors_exit_2(db: TestDb) {
    let output = migrate_in(
        db.dir.path(),
        &[
            "check",
            "--schema",
            "s.sql",
            "--database-url",
            "a.db",
            "--database-url",
            "b.db",
        ],
    );
    exit(&output, 2);
    let other = match db.backend {
        Backend::Sqlite => "postgres://nobody@127.0.0.1:1/x",
        _ => "other.db",
    };
    exit(&run(&db, &["drift", "--scratch-url", other]), 2);
}

/// A killed drift leaves its scratch database behind; the next run drops it.
fn a_killed_runs_scratch_database_is_dropped_by_the_next(db: TestDb) {
    exit(&run(&db, &["apply", "-q"]), 0);
    // Hold the tracking table so the drift waits after making its scratch
    // database, then kill it there.
    let mut holder = db.connect();
    let hold = match db.backend {
        Backend::Postgres => "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE",
        _ => "LOCK TABLES schema_migrations WRITE",
    };
    holder.batch_execute(hold).expect("hold the table");
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["drift", "--database-url", &db.url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let name = loop {
        if let Some(name) = scratch_databases_of(&db).into_iter().next() {
            break name;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no scratch database appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().expect("kill");
    child.wait().expect("reap");
    let release = match db.backend {
        Backend::Postgres => "ROLLBACK",
        _ => "UNLOCK TABLES",
    };
    holder.batch_execute(release).expect("release");
    drop(holder);
    assert!(database_exists(&db, &name), "the killed run left {name}");
    // The server notices the killed client's sessions end; then the next run sweeps.
    let started = Instant::now();
    loop {
        exit(&run(&db, &["drift"]), 0);
        if !database_exists(&db, &name) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} was not dropped"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(scratch_databases_of(&db).is_empty());
}

/// An SQLite drift and roundtrip leave no scratch file behind (they are
/// made in TMPDIR, here a directory of the test's own); a missing database
/// file is read as empty, not created.
#[test]
fn sqlite_scratch_files_are_removed() {
    let db = applied(Backend::Sqlite);
    let tmp = tempfile::tempdir().expect("tmp");
    let with_tmp = |args: &[&str]| {
        let mut args = args.to_vec();
        if !args.contains(&"--database-url") {
            args.extend(["--database-url", db.url.as_str()]);
        }
        Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(args)
            .current_dir(db.dir.path())
            .env_remove("DATABASE_URL")
            .env("TMPDIR", tmp.path())
            .output()
            .expect("run migrate")
    };
    let files = || std::fs::read_dir(tmp.path()).expect("tmp").count();
    exit(&with_tmp(&["drift"]), 0);
    exit(&with_tmp(&["roundtrip"]), 0);
    db.exec("CREATE TABLE by_hand (id INTEGER PRIMARY KEY)");
    exit(&with_tmp(&["drift"]), 3);
    exit(
        &with_tmp(&["drift", "--scratch-url", "postgres://x@127.0.0.1:1/x"]),
        2,
    );
    assert_eq!(files(), 0, "scratch files left in {}", tmp.path().display());
    let missing = with_tmp(&["drift", "--database-url", "missing.db"]);
    exit(&missing, 0);
    assert!(!db.dir.path().join("missing.db").exists());
    // A scratch file of a process that no longer runs is removed by the next run.
    let stale = tmp.path().join("vm-scratch-999999999-1-0.db");
    std::fs::write(&stale, b"").expect("stale file");
    exit(&with_tmp(&["drift", "--database-url", "missing.db"]), 0);
    assert!(!stale.exists(), "the stale scratch file was removed");
}

on_all_backends!(
    schema_text_is_deterministic,
    drift_exits_3_naming_the_change,
    roundtrip_passes_this_projects_migrations,
    check_schema_gates_the_committed_file,
    a_non_empty_scratch_url_is_refused,
    usage_errors_exit_2,
);

mod servers {
    use super::*;

    #[test]
    #[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
    fn postgres_killed_run() {
        a_killed_runs_scratch_database_is_dropped_by_the_next(TestDb::new(Backend::Postgres));
    }

    #[test]
    #[ignore = "server test: needs --features mysql, TEST_MYSQL_URL and -- --include-ignored"]
    fn mysql_killed_run() {
        a_killed_runs_scratch_database_is_dropped_by_the_next(TestDb::new(Backend::Mysql));
    }
}

/// A PostgreSQL user who may not create databases is told to give one,
/// and `--scratch-url` then works.
#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn postgres_without_createdb_is_told_about_scratch_url() {
    let db = applied(Backend::Postgres);
    let role = format!("vm_nocreate_{}", std::process::id());
    db.exec(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOCREATEDB; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let output = migrate_in(db.dir.path(), &["drift", "--database-url", &url]);
    let said = text(&output);
    exit(&output, 1);
    assert!(said.contains("permission denied"), "{said}");
    assert!(said.contains("--scratch-url"), "{said}");
    let json_doc = json(&migrate_in(
        db.dir.path(),
        &["drift", "--json", "--database-url", &url],
    ));
    assert_eq!(json_doc["error"]["kind"], "scratch");
    let scratch = TestDb::new(Backend::Postgres);
    let scratch_name = scratch
        .url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    scratch.exec(&format!(
        "ALTER DATABASE {scratch_name} OWNER TO {role}; ALTER SCHEMA public OWNER TO {role}"
    ));
    let scratch_url = scratch.url.replacen("postgres@", &format!("{role}@"), 1);
    let given = migrate_in(
        db.dir.path(),
        &[
            "drift",
            "--database-url",
            &url,
            "--scratch-url",
            &scratch_url,
        ],
    );
    exit(&given, 0);
    drop(scratch);
    db.exec(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; DROP OWNED BY {role}"
    ));
    let mut admin = common::connect_url(&common::server_url(Backend::Postgres)).expect("admin");
    admin
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
        .unwrap_or_else(|e| eprintln!("could not drop role {role}: {e}"));
}
