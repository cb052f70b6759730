//! Apply overhead and start-up check cost, measured against the same SQL run
//! directly through the driver. Prints medians, ratios and peak memory.
//!
//! cargo bench --bench apply --all-features -- [--n 1000,5000] [--runs 5] [--backends sqlite,postgres,mysql]
//!
//! Each measurement runs in a fresh child process (so peak RSS belongs to one
//! scenario), and the scenarios of one round run interleaved, so drift in the
//! machine's speed hits them alike. PostgreSQL / MySQL use BENCH_POSTGRES_URL /
//! BENCH_MYSQL_URL, else TEST_POSTGRES_URL / TEST_MYSQL_URL.

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::value as arg;
use std::process::Command;
use std::time::Instant;

use versioned_migrations::diesel::{self, QueryableByName, RunQueryDsl};
use versioned_migrations::{
    Access, AnyConnection, ApplyOptions, DatabaseUrl, Migration, Migrator, Silent,
};

/// What the raw read of the tracking table returns.
#[derive(QueryableByName)]
#[allow(dead_code)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    checksum: Option<String>,
}

/// Loads `sql` through diesel directly, on whichever backend.
fn raw_rows(conn: &mut AnyConnection, sql: &str) -> Vec<Row> {
    let query = diesel::sql_query(sql);
    let rows = match conn {
        AnyConnection::Sqlite(c) => query.load(c),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => query.load(c),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => query.load(c),
        _ => fail("a backend this build lacks"),
    };
    rows.unwrap_or_else(|e| fail(&e.to_string()))
}

/// Per migration: a table, an index, a 10-row insert.
fn workload(n: usize) -> &'static [Migration] {
    let list: Vec<Migration> = (1..=n)
        .map(|i| {
            let values: Vec<String> = (1..=10).map(|r| format!("({r}, 'name {r}', {})", r * i)).collect();
            let sql: Vec<&'static str> = vec![
                leak(format!(
                    "CREATE TABLE bench_{i} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, score INTEGER NOT NULL)"
                )),
                leak(format!("CREATE INDEX idx_bench_{i}_name ON bench_{i} (name)")),
                leak(format!("INSERT INTO bench_{i} (id, name, score) VALUES {}", values.join(", "))),
            ];
            Migration {
                version: i as i64,
                description: leak(format!("Bench table {i}")),
                sql: Box::leak(sql.into_boxed_slice()),
                ..Migration::DEFAULT
            }
        })
        .collect();
    Box::leak(list.into_boxed_slice())
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn connect(url: &str) -> AnyConnection {
    let url = DatabaseUrl::parse(url).unwrap_or_else(|e| fail(&e.to_string()));
    AnyConnection::connect(&url, Access::ReadWrite).unwrap_or_else(|e| fail(&e.to_string()))
}

fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(1)
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One measurement, in a child process: prints "<microseconds> <peak KiB>".
fn child(scenario: &str, url: &str, n: usize) {
    let migrations = workload(n);
    let started = Instant::now();
    match scenario {
        // The same statements through the driver: BEGIN; statements; COMMIT.
        "raw" => {
            let mut conn = connect(url);
            for m in migrations {
                conn.batch_execute("BEGIN")
                    .unwrap_or_else(|e| fail(&e.to_string()));
                for sql in m.sql {
                    conn.batch_execute(sql)
                        .unwrap_or_else(|e| fail(&e.to_string()));
                }
                conn.batch_execute("COMMIT")
                    .unwrap_or_else(|e| fail(&e.to_string()));
            }
        }
        // The same statements in one transaction, for `--single-transaction`.
        "raw_single" => {
            let mut conn = connect(url);
            conn.batch_execute("BEGIN")
                .unwrap_or_else(|e| fail(&e.to_string()));
            for m in migrations {
                for sql in m.sql {
                    conn.batch_execute(sql)
                        .unwrap_or_else(|e| fail(&e.to_string()));
                }
            }
            conn.batch_execute("COMMIT")
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        "apply" | "single" => {
            let mut conn = connect(url);
            let options = ApplyOptions::default().single_transaction(scenario == "single");
            let report = Migrator::new(migrations)
                .apply_with(&mut conn, options, &mut Silent)
                .unwrap_or_else(|e| fail(&e.to_string()));
            assert_eq!(report.applied.len(), n);
        }
        "bare" => {
            let mut conn = connect(url);
            conn.batch_execute("SELECT 1")
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        // The least a correct check must do: read every version and checksum.
        "read" => {
            let mut conn = connect(url);
            let rows = raw_rows(
                &mut conn,
                "SELECT version, checksum FROM schema_migrations ORDER BY version",
            );
            assert_eq!(rows.len(), n);
        }
        "check" => {
            let mut conn = connect(url);
            if std::env::var_os("BENCH_TRACE").is_some() {
                let t = Instant::now();
                let sums: usize = migrations.iter().map(|m| m.checksum().len()).sum();
                eprintln!(
                    "connect {:?}; checksums of the list {:?} ({sums})",
                    started.elapsed(),
                    t.elapsed()
                );
            }
            let report = Migrator::new(migrations)
                .apply(&mut conn)
                .unwrap_or_else(|e| fail(&e.to_string()));
            assert!(report.applied.is_empty());
        }
        other => fail(&format!("unknown scenario {other}")),
    }
    let elapsed = started.elapsed();
    println!("{} {}", elapsed.as_micros(), peak_rss_kib());
}

struct Server {
    admin: String,
}

enum Target {
    Sqlite(tempfile::TempDir),
    Server(Server),
}

impl Target {
    /// A fresh, empty database; returns its URL.
    fn fresh(&self, tag: &str) -> String {
        match self {
            Target::Sqlite(dir) => dir.path().join(format!("{tag}.db")).display().to_string(),
            Target::Server(server) => {
                let name = format!("vm_bench_{}_{tag}", std::process::id());
                let mut conn = connect(&server.admin);
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let mut url =
                    url::Url::parse(&server.admin).unwrap_or_else(|e| fail(&e.to_string()));
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
        }
    }

    fn drop_database(&self, url: &str) {
        match self {
            Target::Sqlite(_) => {
                let _ = std::fs::remove_file(url);
            }
            Target::Server(server) => {
                if let Some(name) = url.rsplit('/').next() {
                    let _ = connect(&server.admin)
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
        }
    }
}

fn measure(scenario: &str, url: &str, n: usize) -> (f64, u64) {
    let output = Command::new(std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string())))
        .args(["--child", scenario, url, &n.to_string()])
        .output()
        .unwrap_or_else(|e| fail(&e.to_string()));
    if !output.status.success() {
        fail(&format!(
            "{scenario} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let micros: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let kib: u64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (micros / 1000.0, kib)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let (scenario, url, n) = (&args[i + 1], &args[i + 2], &args[i + 3]);
        child(scenario, url, n.parse().unwrap_or_else(|_| fail("bad n")));
        return;
    }
    let sizes: Vec<usize> = arg(&args, "--n")
        .unwrap_or_else(|| "1000,5000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let runs: usize = arg(&args, "--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let backends = arg(&args, "--backends").unwrap_or_else(|| "sqlite,postgres".into());
    // e.g. `--skip raw_single,single`: PostgreSQL cannot create 10,000
    // relations in one transaction with its default lock table.
    let skip = arg(&args, "--skip").unwrap_or_default();
    let skipped = |scenario: &str| skip.split(',').any(|s| s.trim() == scenario);

    println!("| backend | N | scenario | median | min | vs baseline (median / min) | peak RSS |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for backend in backends.split(',') {
        let target = match backend {
            "sqlite" => {
                Target::Sqlite(tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string())))
            }
            "postgres" | "mysql" => {
                let var = if backend == "postgres" {
                    "POSTGRES"
                } else {
                    "MYSQL"
                };
                let admin = std::env::var(format!("BENCH_{var}_URL"))
                    .or_else(|_| std::env::var(format!("TEST_{var}_URL")))
                    .unwrap_or_else(|_| fail(&format!("set BENCH_{var}_URL or TEST_{var}_URL")));
                Target::Server(Server { admin })
            }
            other => fail(&format!("unknown backend {other}")),
        };
        for &n in &sizes {
            let mut times: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
            let mut peaks: std::collections::BTreeMap<&str, u64> = Default::default();
            // A database with all N applied, for the start-up check (not
            // made when every start-up scenario is skipped).
            let migrated = target.fresh(&format!("migrated_{n}"));
            if !["bare", "read", "check"].iter().all(|s| skipped(s)) {
                measure("apply", &migrated, n);
            }
            // One untimed cold run first, written and dropped like every
            // timed one, so the first timed scenario too follows a large
            // write and drop (else it alone finds the server idle).
            if let Some(first) = ["raw", "apply", "raw_single", "single"]
                .into_iter()
                .find(|s| !skipped(s))
            {
                let url = target.fresh(&format!("warmup_{n}"));
                measure(first, &url, n);
                target.drop_database(&url);
            }
            for run in 0..runs {
                // Every other round runs the peers the other way round: a
                // scenario that follows another's large write (its pages
                // still being flushed, its database being dropped) is slowed
                // by it, so no peer should always come second.
                let mut order = [
                    "raw",
                    "apply",
                    "raw_single",
                    "single",
                    "bare",
                    "read",
                    "check",
                ];
                if run % 2 == 1 {
                    order.reverse();
                }
                for scenario in order {
                    if skipped(scenario) {
                        continue;
                    }
                    let (url, fresh) = match scenario {
                        "bare" | "read" | "check" => (migrated.clone(), false),
                        _ => (target.fresh(&format!("{scenario}_{n}_{run}")), true),
                    };
                    let (ms, kib) = measure(scenario, &url, n);
                    times.entry(scenario).or_default().push(ms);
                    let peak = peaks.entry(scenario).or_default();
                    *peak = (*peak).max(kib);
                    if fresh {
                        target.drop_database(&url);
                    }
                }
            }
            target.drop_database(&migrated);
            let stats = |s: &str| -> Option<(f64, f64)> {
                let mut values = times.get(s)?.clone();
                let least = values.iter().copied().fold(f64::INFINITY, f64::min);
                Some((median(&mut values), least))
            };
            let ratio = |a: &str, b: &str| match (stats(a), stats(b)) {
                (Some((ma, la)), Some((mb, lb))) => format!("{:.2}× / {:.2}×", ma / mb, la / lb),
                _ => String::from("-"),
            };
            let rows = [
                (
                    "raw SQL, one transaction per migration",
                    "raw",
                    String::from("baseline"),
                ),
                ("`apply`, cold", "apply", ratio("apply", "raw")),
                (
                    "raw SQL, all in one transaction",
                    "raw_single",
                    ratio("raw_single", "raw"),
                ),
                (
                    "`apply --single-transaction`, cold",
                    "single",
                    ratio("single", "raw_single"),
                ),
                ("connect + SELECT 1", "bare", String::from("baseline")),
                (
                    "connect + read every tracking row (raw)",
                    "read",
                    ratio("read", "bare"),
                ),
                (
                    "connect + `apply`, nothing pending",
                    "check",
                    ratio("check", "bare"),
                ),
            ];
            for (label, key, ratio) in rows {
                let Some((med, least)) = stats(key) else {
                    continue;
                };
                println!(
                    "| {backend} | {n} | {label} | {med:.2} ms | {least:.2} ms | {ratio} | {:.1} MiB |",
                    peaks.get(key).copied().unwrap_or(0) as f64 / 1024.0
                );
            }
        }
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("\n({runs} runs each in its own process, interleaved; {cores} cores)");
}
