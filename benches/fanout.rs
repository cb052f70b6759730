//! Time for a fan-out run over many SQLite databases at different
//! parallelism: cargo bench --bench fanout -- [--databases 100] [--migrations 50]
//!
//! Each database is a fresh file; every migration creates a table, an index
//! and inserts 10 rows. Prints the wall time per `--parallel` value and the
//! peak memory of the process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use versioned_migrations::{Access, AnyConnection, DatabaseUrl, Migration, Migrator, Silent};

/// Applies `migrator` to every URL, `parallel` at a time; the failures.
fn run_all(urls: &[DatabaseUrl], parallel: usize, migrator: &Migrator) -> usize {
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| {
                while let Some(url) = urls.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let result =
                        AnyConnection::connect(url, Access::ReadWrite).and_then(|mut conn| {
                            migrator.apply_with(&mut conn, Default::default(), &mut Silent)
                        });
                    if result.is_err() {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    failed.into_inner()
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

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

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let databases = arg(&args, "--databases", 100);
    let migrations = workload(arg(&args, "--migrations", 50));
    let migrator = Migrator::new(migrations);
    println!("| databases | migrations each | --parallel | wall time | per database | peak RSS |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for parallel in [1, 4] {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("bench: {e}");
                std::process::exit(1)
            }
        };
        let urls: Vec<DatabaseUrl> = (0..databases)
            .filter_map(|i| {
                DatabaseUrl::parse(&dir.path().join(format!("db{i}.db")).display().to_string()).ok()
            })
            .collect();
        let started = Instant::now();
        let failed = run_all(&urls, parallel, &migrator);
        let elapsed = started.elapsed();
        if failed > 0 {
            eprintln!("bench: {failed} database(s) failed");
            std::process::exit(1)
        }
        println!(
            "| {databases} | {} | {parallel} | {:.2} s | {:.1} ms | {:.1} MiB |",
            migrations.len(),
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1000.0 / databases as f64,
            peak_rss_mib()
        );
    }
}
