//! A fleet in one run: `VM_FLEET_SIZE` targets (default 100; 1000 by
//! opt-in) of SQLite files, and of PostgreSQL schemas in one database. The
//! run happens in this process (`cli::run`, as an application mounts it),
//! so its open file descriptors are counted exactly before and after, and
//! sampled while it runs; PostgreSQL sessions are counted by the server
//! (`pg_stat_activity` while it runs, `pg_stat_database.sessions` for the
//! connects made). Then the real binary checks one row per target.
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::Parser;
use common::{Backend, TestDb};
use versioned_migrations::cli::MigrateArgs;

mod list {
    include!("../migrations.rs");
}

/// Two tests count this process's file descriptors: every test here runs
/// alone.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PARALLEL: usize = 4;

#[derive(Parser)]
struct App {
    #[command(flatten)]
    migrate: MigrateArgs,
}

fn size() -> usize {
    std::env::var("VM_FLEET_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Runs `migrate ARGS` in this process while `sample` is called over and
/// over on another thread; the exit code and the largest sample.
fn run_sampling(args: &[&str], sample: impl Fn() -> usize + Sync) -> (ExitCode, usize) {
    let app = App::parse_from(std::iter::once("migrate").chain(args.iter().copied()));
    let done = AtomicBool::new(false);
    let peak = AtomicUsize::new(0);
    let code = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                peak.fetch_max(sample(), Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        });
        let code = versioned_migrations::cli::run(list::MIGRATIONS, app.migrate);
        done.store(true, Ordering::SeqCst);
        code
    });
    (code, peak.into_inner())
}

/// The rows of `migrate status --json ARGS`, through the binary.
fn status_rows(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let output = common::migrate_in(dir, &[&["status", "--json"], args].concat());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["totals"]["ok"], json["totals"]["targets"]);
    json["targets"].as_array().unwrap().clone()
}

#[test]
fn a_fleet_of_sqlite_files_leaks_no_file_descriptor() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = size();
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..n)
        .map(|i| {
            dir.path()
                .join(format!("tenant{i}.db"))
                .display()
                .to_string()
        })
        .collect();
    let targets = dir.path().join("targets.txt");
    std::fs::write(&targets, lines.join("\n")).unwrap();
    let targets = targets.display().to_string();
    let parallel = PARALLEL.to_string();

    let before = open_fds();
    let (code, peak) = run_sampling(
        &[
            "-q",
            "apply",
            "--targets",
            &targets,
            "--parallel",
            &parallel,
        ],
        open_fds,
    );
    let after = open_fds();
    assert_eq!(code, ExitCode::SUCCESS);
    eprintln!("{n} SQLite files, --parallel {PARALLEL}: {before} fds before, peak {peak} while running, {after} after");
    assert_eq!(after, before, "every file the run opened is closed");
    // Each worker holds a database file, its journal and the lock file at
    // most; a leak of one per database would pass this bound by far.
    assert!(
        peak <= before + 5 * PARALLEL + 4,
        "open files bounded by --parallel, not by the {n} databases: peak {peak}, {before} before"
    );

    let rows = status_rows(dir.path(), &["--targets", &targets]);
    assert_eq!(rows.len(), n, "one row per database");
    assert!(rows.iter().all(|r| r["version"] == 6));
}

#[test]
#[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
fn a_fleet_of_postgres_schemas_reuses_one_connection_per_worker() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = size();
    let db = TestDb::new(Backend::Postgres);
    let create: Vec<String> = (0..n)
        .map(|i| format!("CREATE SCHEMA tenant_{i:04};"))
        .collect();
    db.exec(&create.join("\n"));
    db.exec("CREATE SCHEMA other");
    let name = db.url.rsplit('/').next().unwrap().to_string();
    // One probe session for every count, open throughout, so it is not
    // among the sessions counted.
    let probe = Mutex::new(db.connect());
    let query = |sql: &str| {
        let mut conn = probe.lock().unwrap_or_else(|e| e.into_inner());
        common::scalar(&mut conn, sql).unwrap().unwrap_or(0) as usize
    };
    let sessions_now = || {
        query(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
    };
    // Sessions end a moment after their client closes them: wait (bounded)
    // until none is left, so the server has counted every one.
    let settle = || {
        for _ in 0..500 {
            if sessions_now() == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("sessions left open on {name}: {}", sessions_now());
    };
    let connects_so_far = || {
        settle();
        query(
            "SELECT CAST(1 AS BIGINT) AS value FROM (SELECT pg_stat_clear_snapshot()) AS cleared",
        );
        query(&format!(
            "SELECT CAST(sessions AS BIGINT) AS value FROM pg_stat_database WHERE datname = '{name}'"
        ))
    };
    let parallel = PARALLEL.to_string();

    let connects_before = connects_so_far();
    let fds_before = open_fds();
    let (code, peak_sessions) = run_sampling(
        &[
            "-q",
            "apply",
            "--database-url",
            &db.url,
            "--schemas",
            "tenant\\_%",
            "--parallel",
            &parallel,
        ],
        sessions_now,
    );
    let fds_after = open_fds();
    assert_eq!(code, ExitCode::SUCCESS);
    let connects = connects_so_far() - connects_before;
    eprintln!(
        "{n} PostgreSQL schemas, --parallel {PARALLEL}: {connects} connects, peak {peak_sessions} sessions, \
         {fds_before} fds before and {fds_after} after"
    );
    assert_eq!(fds_after, fds_before, "no connection left open");
    assert!(
        peak_sessions <= PARALLEL + 1,
        "at most one session per worker (and the one finding the schemas): {peak_sessions}"
    );
    assert!(
        connects <= PARALLEL + 1,
        "one connect to find the schemas and one per worker, not one per schema: {connects}"
    );

    let rows = status_rows(
        db.dir.path(),
        &["--database-url", &db.url, "--schemas", "tenant\\_%"],
    );
    assert_eq!(rows.len(), n, "one row per schema");
    assert!(rows.iter().all(|r| r["version"] == 6));
    assert_eq!(
        db.scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) AS value FROM information_schema.tables \
             WHERE table_name = 'schema_migrations'"
        ) as usize,
        n,
        "a tracking table in each tenant, none elsewhere"
    );
}

/// `migrate ARGS` in `dir` on a pseudo-terminal (util-linux `script`);
/// `None` where there is no `script` (outside CI: said, and skipped).
fn on_a_terminal(dir: &Path, args: &[&str]) -> Option<String> {
    let line = std::iter::once(env!("CARGO_BIN_EXE_migrate"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let output = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output();
    match output {
        Ok(output) => Some(String::from_utf8_lossy(&output.stdout).into_owned()),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("`script` (util-linux) is needed for the terminal test: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no `script` to run on a terminal ({e})");
            None
        }
    }
}

#[test]
fn on_a_terminal_a_live_count_replaces_the_rows_and_piped_output_keeps_them() {
    // Its child processes' pipes are file descriptors of this process too.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..30).map(|i| format!("t{i}.db")).collect();
    std::fs::write(dir.path().join("targets.txt"), lines.join("\n")).unwrap();
    common::connect_url(&dir.path().join("t7.db").display().to_string())
        .unwrap()
        .batch_execute("CREATE TABLE posts (id INTEGER)")
        .unwrap();
    let args = ["apply", "--targets", "targets.txt"];
    let Some(screen) = on_a_terminal(dir.path(), &args) else {
        return;
    };
    assert!(
        screen.contains("t7.db") && screen.contains("table posts already exists"),
        "the failed row stays:\n{screen}"
    );
    assert!(
        !screen.contains("0 → 6  6 applied"),
        "no row per database on a terminal:\n{screen}"
    );
    assert!(
        screen.contains("30 database(s): 29 ok, 1 failed"),
        "{screen}"
    );
    let piped = common::migrate_in(dir.path(), &["status", "--targets", "targets.txt"]);
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert_eq!(
        piped
            .lines()
            .filter(|l| l.contains("version 6, 0 pending"))
            .count(),
        29,
        "piped: a row each\n{piped}"
    );
}
