//! diesel's MigrationHarness running the compiled-in list, and the start-up
//! example app, on every backend.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Backend, TestDb};

/// diesel_migrations' `MigrationHarness` over the list (feature
/// `diesel_migrations`).
#[cfg(feature = "diesel_migrations")]
mod harness {
    use super::*;
    use versioned_migrations::diesel_migrations::MigrationHarness;
    use versioned_migrations::{AnyConnection, DieselSource, Migration};

    const fn m(
        version: i64,
        sql: &'static [&'static str],
        down: &'static [&'static str],
    ) -> Migration {
        common::reversible(version, "interop", sql, down)
    }

    /// Ten versions, so that text ordering ("10" < "2") would show.
    static LIST: [Migration; 10] = [
        m(1, &["CREATE TABLE h1 (id INTEGER)"], &["DROP TABLE h1"]),
        m(2, &["CREATE TABLE h2 (id INTEGER)"], &["DROP TABLE h2"]),
        m(3, &["CREATE TABLE h3 (id INTEGER)"], &["DROP TABLE h3"]),
        m(4, &["CREATE TABLE h4 (id INTEGER)"], &["DROP TABLE h4"]),
        m(5, &["CREATE TABLE h5 (id INTEGER)"], &["DROP TABLE h5"]),
        m(6, &["CREATE TABLE h6 (id INTEGER)"], &["DROP TABLE h6"]),
        m(7, &["CREATE TABLE h7 (id INTEGER)"], &["DROP TABLE h7"]),
        m(8, &["CREATE TABLE h8 (id INTEGER)"], &["DROP TABLE h8"]),
        m(9, &["CREATE TABLE h9 (id INTEGER)"], &["DROP TABLE h9"]),
        m(10, &["INSERT INTO h9 (id) SELECT 1 FROM h2"], &[]),
    ];

    /// `body` on the concrete diesel connection behind an AnyConnection
    /// (diesel's harness is generic over the backend).
    macro_rules! with_diesel {
        ($conn:expr, $c:ident => $body:expr) => {
            match $conn {
                AnyConnection::Sqlite($c) => $body,
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres($c) => $body,
                #[cfg(feature = "mysql")]
                AnyConnection::Mysql($c) => $body,
                _ => unreachable!("a backend this build lacks"),
            }
        };
    }

    on_all_backends!(diesel_harness_runs_the_list);

    fn diesel_harness_runs_the_list(db: TestDb) {
        let mut conn = db.connect();
        let source = DieselSource::new(&LIST);
        let ran: Vec<String> = with_diesel!(&mut conn, c => c
        .run_pending_migrations(source)
        .expect("diesel runs the list")
        .into_iter()
        .map(|v| v.to_string())
        .collect());
        assert_eq!(ran.len(), 10);
        assert_eq!(
            ran[9], "0000000000000000010",
            "in numeric order, zero-padded"
        );
        assert!(db.table_exists("h9"));
        let pending =
            with_diesel!(&mut conn, c => c.has_pending_migration(source).expect("pending"));
        assert!(!pending);
        // Reverting works where there is a down, and refuses where there is none.
        let revert =
            with_diesel!(&mut conn, c => c.revert_last_migration(source).map(|v| v.to_string()));
        let err = revert.expect_err("10 is irreversible");
        assert!(err.to_string().contains("irreversible"), "{err}");
    }
}

on_all_backends!(example_app_migrates_then_starts_or_refuses);

/// `cargo test` builds the examples next to the binaries (a lone
/// `cargo test --test interop` does not: run `cargo build --examples` first).
fn example_binary() -> PathBuf {
    example("startup")
}

fn example(name: &str) -> PathBuf {
    let debug = PathBuf::from(env!("CARGO_BIN_EXE_migrate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = debug
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run the whole `cargo test`, or `cargo build --examples` first",
        path.display()
    );
    path
}

mod replicas {
    use super::*;
    on_all_backends!(example_replicas_booting_at_once);
}

fn run_example(db: &TestDb) -> std::process::Output {
    Command::new(example_binary())
        .arg("--once")
        .env("DATABASE_URL", &db.url)
        .current_dir(db.dir.path())
        .output()
        .expect("run the example (built by cargo test)")
}

fn example_app_migrates_then_starts_or_refuses(db: TestDb) {
    let first = run_example(&db);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "ready version=6 applied=6"
    );
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("applied migration 1 (Create users table)")
    );
    let again = run_example(&db);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "ready version=6 applied=0"
    );

    let broken = TestDb::new(db.backend);
    broken.exec("CREATE TABLE posts (id INTEGER)");
    let refused = run_example(&broken);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("refusing to start"), "{err}");
    assert!(err.contains("migration 2 (Create posts table)"), "{err}");
    assert!(refused.stdout.is_empty(), "it did not start serving");
}

fn example_replicas_booting_at_once(db: TestDb) {
    let replicas: Vec<_> = (0..8)
        .map(|_| {
            Command::new(example_binary())
                .arg("--once")
                .env("DATABASE_URL", &db.url)
                .current_dir(db.dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn replica")
        })
        .collect();
    let mut applied = 0;
    for replica in replicas {
        let output = replica.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        applied += out
            .trim()
            .rsplit("applied=")
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{out}"));
    }
    assert_eq!(applied, 6, "each migration applied by exactly one replica");
    assert_eq!(db.tracked("schema_migrations").len(), 6);
    if db.backend == Backend::Sqlite {
        assert_eq!(db.count("users"), 1);
    }
}

/// The async application: migrating on tokio's blocking pool with a
/// connection from the application's own r2d2 pool, then starting.
#[test]
fn async_application_migrates_beside_its_pool() {
    let db = TestDb::new(Backend::Sqlite);
    let run = || {
        Command::new(example("async_startup"))
            .arg("--once")
            .env("DATABASE_URL", &db.url)
            .current_dir(db.dir.path())
            .output()
            .expect("run the async example (built by cargo test)")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "ready version=6 applied=6"
    );
    let again = run();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "ready version=6 applied=0"
    );
    db.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2");
    let refused = run();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refusing to start"));
}
