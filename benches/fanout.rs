//! A fleet in one `migrate apply`: N PostgreSQL schemas of one database
//! (`--schemas`) and N SQLite files (`--targets`), 20 migrations each, at
//! `--parallel 1, 4, 8`.
//!
//! cargo bench --bench fanout --all-features -- [--n 100] [--migrations 20] [--rounds 3] [--parallel 1,4,8]
//!
//! PostgreSQL comes from BENCH_POSTGRES_URL, else TEST_POSTGRES_URL (left
//! out when neither is set); a database `vm_bench_fanout_<pid>` is made and
//! dropped. Each run is `cli::run` (as an application mounts it, with `-q`)
//! in a fresh process of this bench; each round runs every scenario once,
//! interleaved, on a fresh fleet (set-up not timed). Reported: the median
//! and the minimum wall time over the rounds (timed inside the run: process
//! start-up left out), the peak RSS of the run's process and, for
//! PostgreSQL, the peak number of sessions on the database
//! (`pg_stat_activity`, sampled every 2 ms).

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::{number, value as arg};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use versioned_migrations::cli::MigrateArgs;
use versioned_migrations::{Access, AnyConnection, DatabaseUrl, Migration};

#[derive(Parser)]
struct App {
    #[command(flatten)]
    migrate: MigrateArgs,
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Per migration: a CREATE TABLE, a CREATE INDEX and a 10-row INSERT.
fn workload(n: usize) -> &'static [Migration] {
    let list: Vec<Migration> = (1..=n)
        .map(|i| {
            let values: Vec<String> = (1..=10).map(|r| format!("({r}, 'name {r}')")).collect();
            let sql = vec![
                leak(format!("CREATE TABLE t{i} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)")),
                leak(format!("CREATE INDEX idx_t{i}_name ON t{i} (name)")),
                leak(format!("INSERT INTO t{i} (id, name) VALUES {}", values.join(", "))),
            ];
            Migration {
                version: i as i64,
                description: leak(format!("table {i}")),
                sql: Box::leak(sql.into_boxed_slice()),
                ..Migration::DEFAULT
            }
        })
        .collect();
    Box::leak(list.into_boxed_slice())
}

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("bench: {what}: {error}");
    std::process::exit(1)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// The sessions on `database` other than the probe's own.
fn sessions(probe: &mut AnyConnection, database: &str) -> usize {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS value FROM pg_stat_activity \
         WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    );
    let query = diesel::sql_query(sql);
    let rows: Vec<Count> = match probe {
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => query.load(c).unwrap_or_default(),
        _ => {
            drop(query);
            Vec::new()
        }
    };
    rows.first().map_or(0, |r| r.value as usize)
}

fn connect(url: &str) -> AnyConnection {
    let parsed = DatabaseUrl::parse(url).unwrap_or_else(|e| fail(url, e));
    AnyConnection::connect(&parsed, Access::ReadWrite).unwrap_or_else(|e| fail(url, e))
}

/// One timed run of `migrate ARGS` with a sampler beside it.
struct Measured {
    elapsed: Duration,
    rss_mib: f64,
    peak_sessions: Option<usize>,
}

/// Runs `migrate ARGS` in a fresh process of this bench (so its peak RSS is
/// that run's alone), sampling the sessions on the database meanwhile.
fn run(migrations: usize, args: &[String], probe: Option<(&mut AnyConnection, &str)>) -> Measured {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail("this bench's path", e));
    let mut child = std::process::Command::new(exe)
        .args(["--child", "--migrations", &migrations.to_string(), "--"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail("starting a run", e));
    let mut peak = 0;
    let mut probe = probe;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => {}
            Err(e) => fail("waiting for a run", e),
        }
        if let Some((conn, database)) = probe.as_mut() {
            peak = peak.max(sessions(conn, database));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| fail("reading a run", e));
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok());
    let (Some(elapsed), Some(rss_mib)) = (fields.next(), fields.next()) else {
        fail("migrate apply", format!("{args:?} failed: {text}"));
    };
    Measured {
        elapsed: Duration::from_secs_f64(elapsed),
        rss_mib,
        peak_sessions: probe.map(|_| peak),
    }
}

/// The child: `--child --migrations M -- ARGS` runs `migrate ARGS` and
/// prints its wall time in seconds and its peak RSS in MiB.
fn child(args: &[String]) -> ! {
    let migrations = workload(number(args, "--migrations", 20));
    let rest = args
        .iter()
        .position(|a| a == "--")
        .map_or(&[][..], |i| &args[i + 1..]);
    let app = App::parse_from(std::iter::once("migrate".to_string()).chain(rest.iter().cloned()));
    let started = Instant::now();
    let code = versioned_migrations::cli::run(migrations, app.migrate);
    let elapsed = started.elapsed();
    if code != std::process::ExitCode::SUCCESS {
        std::process::exit(1);
    }
    println!("{} {}", elapsed.as_secs_f64(), peak_rss_mib());
    std::process::exit(0)
}

#[derive(Clone)]
enum Fleet {
    Postgres { url: String, database: String },
    Sqlite,
}

/// A fresh fleet of `n` empty targets; the arguments that migrate it.
fn prepare(
    fleet: &Fleet,
    n: usize,
    dir: &Path,
    admin: Option<&Mutex<AnyConnection>>,
) -> Vec<String> {
    match fleet {
        Fleet::Postgres { url, database } => {
            let Some(admin) = admin else {
                fail("postgres", "no server connection");
            };
            let mut conn = admin.lock().unwrap_or_else(|e| e.into_inner());
            let recreate = [
                format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
                format!("CREATE DATABASE {database}"),
            ];
            for sql in recreate {
                conn.batch_execute(&sql).unwrap_or_else(|e| fail(&sql, e));
            }
            drop(conn);
            let schemas: Vec<String> = (0..n)
                .map(|i| format!("CREATE SCHEMA tenant_{i:05};"))
                .collect();
            connect(url)
                .batch_execute(&schemas.join("\n"))
                .unwrap_or_else(|e| fail("creating the schemas", e));
            [
                "-q",
                "apply",
                "--database-url",
                url,
                "--schemas",
                "tenant\\_%",
            ]
            .map(String::from)
            .to_vec()
        }
        Fleet::Sqlite => {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir).unwrap_or_else(|e| fail("temp dir", e));
            let lines: Vec<String> = (0..n)
                .map(|i| dir.join(format!("tenant{i}.db")).display().to_string())
                .collect();
            let targets = dir.join("targets.txt");
            std::fs::write(&targets, lines.join("\n")).unwrap_or_else(|e| fail("targets", e));
            vec![
                String::from("-q"),
                String::from("apply"),
                String::from("--targets"),
                targets.display().to_string(),
            ]
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--child") {
        child(&args);
    }
    let n = number(&args, "--n", 100);
    let migrations = number(&args, "--migrations", 20);
    let rounds = number(&args, "--rounds", 3).max(1);
    let parallels: Vec<usize> = arg(&args, "--parallel")
        .unwrap_or_else(|| String::from("1,4,8"))
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let server = std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .ok()
        .filter(|u| !u.is_empty() && cfg!(feature = "postgres"));
    let database = format!("vm_bench_fanout_{}", std::process::id());
    let mut fleets = Vec::new();
    let admin = server.as_ref().map(|url| Mutex::new(connect(url)));
    if let Some(server) = &server {
        let mut url = url::Url::parse(server).unwrap_or_else(|e| fail(server, e));
        url.set_path(&format!("/{database}"));
        fleets.push(Fleet::Postgres {
            url: url.to_string(),
            database: database.clone(),
        });
    } else {
        eprintln!("bench: no BENCH_POSTGRES_URL / TEST_POSTGRES_URL (or no `postgres` feature): SQLite only");
    }
    fleets.push(Fleet::Sqlite);
    let temp = tempfile::tempdir().unwrap_or_else(|e| fail("temp dir", e));
    let dir = temp.path().join("fleet");

    let scenarios: Vec<(usize, usize)> = (0..fleets.len())
        .flat_map(|f| parallels.iter().map(move |&p| (f, p)))
        .collect();
    let mut results: Vec<Vec<Measured>> = scenarios.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for (s, &(f, parallel)) in scenarios.iter().enumerate() {
            let fleet = &fleets[f];
            let mut run_args = prepare(fleet, n, &dir, admin.as_ref());
            run_args.extend(["--parallel".to_string(), parallel.to_string()]);
            let mut probe = match fleet {
                Fleet::Postgres { url, .. } => Some(connect(url)),
                Fleet::Sqlite => None,
            };
            let measured = run(
                migrations,
                &run_args,
                probe.as_mut().map(|p| (p, database.as_str())),
            );
            eprintln!(
                "round {}: {} --parallel {parallel}: {:.2} s",
                round + 1,
                match fleet {
                    Fleet::Postgres { .. } => "postgres schemas",
                    Fleet::Sqlite => "sqlite files",
                },
                measured.elapsed.as_secs_f64()
            );
            results[s].push(measured);
        }
    }
    if let Some(admin) = &admin {
        let mut conn = admin.lock().unwrap_or_else(|e| e.into_inner());
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
    }

    println!(
        "| targets | migrations each | --parallel | median | min | per target (median) | peak RSS | peak sessions |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (s, &(f, parallel)) in scenarios.iter().enumerate() {
        let measured = &results[s];
        let mut times: Vec<f64> = measured.iter().map(|m| m.elapsed.as_secs_f64()).collect();
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        let median = median(&mut times);
        let rss = measured.iter().map(|m| m.rss_mib).fold(0.0, f64::max);
        let sessions = measured
            .iter()
            .filter_map(|m| m.peak_sessions)
            .max()
            .map_or(String::from("-"), |s| s.to_string());
        let what = match fleets[f] {
            Fleet::Postgres { .. } => format!("{n} PostgreSQL schemas"),
            Fleet::Sqlite => format!("{n} SQLite files"),
        };
        println!(
            "| {what} | {migrations} | {parallel} | {median:.2} s | {min:.2} s | {:.1} ms | {rss:.1} MiB | {sessions} |",
            median * 1000.0 / n as f64,
        );
    }
}
