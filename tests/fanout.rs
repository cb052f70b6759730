//! Many databases in one run, through the real binary: SQLite files plus
//! PostgreSQL and MariaDB databases (when configured), one of them broken.
#![cfg(feature = "cli")]

mod common;

use common::text;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Backend, TestDb};

const SECRET: &str = "Sup3rSecretValue";

fn migrate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("VM_TEST_SECRET", SECRET)
        .output()
        .expect("run migrate")
}

/// 10 SQLite files, and 5 PostgreSQL and 5 MariaDB databases where
/// configured. PostgreSQL URLs carry a password from ${VM_TEST_SECRET}
/// (the test server trusts any password).
struct Fleet {
    dir: tempfile::TempDir,
    servers: Vec<TestDb>,
    lines: Vec<String>,
}

impl Fleet {
    /// SQLite files only, or with the server databases too.
    fn new(with_servers: bool) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = vec![String::from("# tenants"), String::new()];
        for i in 0..10 {
            lines.push(format!(
                "sqlite://{}",
                dir.path().join(format!("tenant{i}.db")).display()
            ));
        }
        let mut servers = Vec::new();
        for backend in [Backend::Postgres, Backend::Mysql] {
            let built = match backend {
                Backend::Postgres => cfg!(feature = "postgres"),
                _ => cfg!(feature = "mysql"),
            };
            if !built || !with_servers {
                continue;
            }
            for _ in 0..5 {
                let db = TestDb::new(backend);
                let line = match backend {
                    Backend::Postgres => {
                        let mut url = url::Url::parse(&db.url).unwrap();
                        url.set_password(Some("PLACEHOLDER")).unwrap();
                        url.to_string().replace("PLACEHOLDER", "${VM_TEST_SECRET}")
                    }
                    _ => db.url.clone(),
                };
                lines.push(line);
                servers.push(db);
            }
        }
        Fleet {
            dir,
            servers,
            lines,
        }
    }

    fn write(&self) -> String {
        let path = self.dir.path().join("targets.txt");
        std::fs::write(&path, self.lines.join("\n")).unwrap();
        path.display().to_string()
    }

    fn sqlite(&self, i: usize) -> TestDbView {
        TestDbView(
            self.dir
                .path()
                .join(format!("tenant{i}.db"))
                .display()
                .to_string(),
        )
    }

    fn count(&self) -> usize {
        10 + self.servers.len()
    }
}

/// Reads a SQLite tenant's version through the library.
struct TestDbView(String);
impl TestDbView {
    fn version(&self) -> i64 {
        let mut conn = common::connect_url(&self.0).unwrap();
        versioned_migrations::Migrator::new(&[])
            .history(&mut conn)
            .unwrap()
            .migrations
            .len() as i64
    }
}

#[test]
fn one_broken_sqlite_database_does_not_stop_the_others() {
    one_broken_database_does_not_stop_the_others(Fleet::new(false));
}

#[test]
#[ignore = "server test: needs --all-features, the TEST_*_URL servers and -- --include-ignored"]
#[cfg(all(feature = "postgres", feature = "mysql"))]
fn one_broken_database_among_all_backends_does_not_stop_the_others() {
    one_broken_database_does_not_stop_the_others(Fleet::new(true));
}

fn one_broken_database_does_not_stop_the_others(fleet: Fleet) {
    // Tenant 3 has a leftover table that breaks migration 2; with servers,
    // the first MariaDB or PostgreSQL database gets one too.
    common::connect_url(&fleet.sqlite(3).0)
        .unwrap()
        .batch_execute("CREATE TABLE posts (id INTEGER)")
        .unwrap();
    if let Some(server) = fleet.servers.first() {
        server.exec("CREATE TABLE posts (id INTEGER)");
    }
    let targets = fleet.write();
    let broken_count = 1 + usize::from(!fleet.servers.is_empty());

    let first = migrate(
        fleet.dir.path(),
        &["apply", "--targets", &targets, "--parallel", "4"],
    );
    let out = text(&first);
    assert_eq!(
        first.status.code(),
        Some(1),
        "a failed database fails the run:\n{out}"
    );
    assert!(!out.contains(SECRET), "secret leaked:\n{out}");
    assert!(
        out.contains("tenant3.db")
            && out.contains("failed: migration 2 (Create posts table) statement 1 failed: table posts already exists"),
        "the row carries the database's own message:\n{out}"
    );
    assert!(
        out.contains(&format!(
            "{} database(s): {} ok, {broken_count} failed",
            fleet.count(),
            fleet.count() - broken_count
        )),
        "{out}"
    );
    for i in (0..10).filter(|&i| i != 3) {
        assert_eq!(fleet.sqlite(i).version(), 6, "tenant {i} migrated");
    }
    for server in fleet.servers.iter().skip(1) {
        assert_eq!(server.tracked("schema_migrations").len(), 6);
    }

    // Fix the broken ones; the second run only finishes them.
    common::connect_url(&fleet.sqlite(3).0)
        .unwrap()
        .batch_execute("DROP TABLE posts")
        .unwrap();
    if let Some(server) = fleet.servers.first() {
        // MariaDB rejected the statement outright, so nothing is dirty there either.
        server.exec("DROP TABLE posts");
    }
    let second = migrate(
        fleet.dir.path(),
        &["apply", "--targets", &targets, "--json"],
    );
    assert!(second.status.success(), "{}", text(&second));
    let json: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(json["totals"]["failed"], 0);
    let applied_now: Vec<(String, usize)> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["database"]["url"].as_str().unwrap().to_string(),
                t["applied"].as_array().unwrap().len(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        applied_now.len(),
        broken_count,
        "only the fixed ones: {applied_now:?}"
    );
    assert!(applied_now
        .iter()
        .any(|(db, n)| db.contains("tenant3.db") && *n == 5));
    assert!(!String::from_utf8_lossy(&second.stdout).contains(SECRET));

    let check = migrate(fleet.dir.path(), &["check", "--targets", &targets]);
    assert!(check.status.success(), "{}", text(&check));
    let versions = migrate(
        fleet.dir.path(),
        &["version", "--targets", &targets, "--json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    assert!(json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["version"] == 6));
}

#[test]
fn two_sqlite_fanout_runs_at_once_apply_every_migration_once() {
    two_fanout_runs_at_once_apply_every_migration_once(Fleet::new(false));
}

#[test]
#[ignore = "server test: needs --all-features, the TEST_*_URL servers and -- --include-ignored"]
#[cfg(all(feature = "postgres", feature = "mysql"))]
fn two_fanout_runs_over_all_backends_apply_every_migration_once() {
    two_fanout_runs_at_once_apply_every_migration_once(Fleet::new(true));
}

fn two_fanout_runs_at_once_apply_every_migration_once(fleet: Fleet) {
    let targets = fleet.write();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_migrate"))
                .args(["apply", "--targets", &targets, "--json", "--parallel", "3"])
                .current_dir(fleet.dir.path())
                .env("VM_TEST_SECRET", SECRET)
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
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        applied += json["totals"]["migrations_applied"].as_u64().unwrap();
    }
    assert_eq!(
        applied as usize,
        6 * fleet.count(),
        "every migration once across both runs"
    );
    for i in 0..10 {
        assert_eq!(fleet.sqlite(i).version(), 6);
    }
    for server in &fleet.servers {
        assert_eq!(server.tracked("schema_migrations").len(), 6);
    }
}

#[test]
fn fanout_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.txt"),
        "sqlite://a.db\nmysql://u:${VM_NOT_SET_ANYWHERE}@h/db\n",
    )
    .unwrap();
    let output = migrate(dir.path(), &["apply", "--targets", "t.txt"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("t.txt line 2: environment variable VM_NOT_SET_ANYWHERE is not set"),
        "{}",
        text(&output)
    );
    assert!(!dir.path().join("a.db").exists(), "nothing ran");

    let output = migrate(
        dir.path(),
        &[
            "rollback",
            "--database-url",
            "a.db",
            "--database-url",
            "b.db",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let missing = migrate(dir.path(), &["status", "--targets", "nope.txt"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).contains("nope.txt"));

    // Repeated --database-url, and --fail-fast with --parallel 1.
    let output = migrate(
        dir.path(),
        &[
            "apply",
            "--database-url",
            "nodir/x.db",
            "--database-url",
            "b.db",
            "--parallel",
            "1",
            "--fail-fast",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("1 skipped"), "{}", text(&output));
    assert!(
        !dir.path().join("b.db").exists(),
        "skipped after the first failure"
    );
}
