//! How `schema` and `drift` scale: a database of N tables (each with a
//! primary key, a foreign key to the previous table, a unique constraint,
//! an index and a check), built by 20 migrations.
//!
//! cargo bench --bench schema --all-features -- [--tables 1000] [--runs 5] [--backends sqlite,postgres,mysql]
//!
//! Server URLs come from BENCH_POSTGRES_URL / BENCH_MYSQL_URL, else
//! TEST_POSTGRES_URL / TEST_MYSQL_URL. Prints per backend: the time to read
//! the schema (median and min of the runs, interleaved across backends), the
//! statements one read sends (whatever the number of tables), and the time
//! of a whole `drift` (make a scratch database, replay the 20 migrations on
//! it, read both schemas, compare, drop it) with its statement count.

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::value as arg;
use std::time::{Duration, Instant};

use versioned_migrations::{
    statements_sent, Access, AnyConnection, DatabaseUrl, Migration, Migrator, ScratchDatabase,
    TableName,
};

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn fail(message: &str) -> ! {
    eprintln!("bench schema: {message}");
    std::process::exit(1)
}

/// `tables` tables in 20 migrations.
fn workload(tables: usize) -> &'static [Migration] {
    let per = tables.div_ceil(20).max(1);
    let list: Vec<Migration> = (0..20)
        .map(|m| {
            let mut sql = Vec::new();
            for i in (m * per + 1)..=((m + 1) * per).min(tables) {
                let parent = match i {
                    1 => String::new(),
                    _ => format!(", parent INTEGER REFERENCES t{} (id)", i - 1),
                };
                sql.push(leak(format!(
                    "CREATE TABLE t{i} (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE, \
                     qty INTEGER NOT NULL DEFAULT 0 CHECK (qty >= 0){parent})"
                )));
                sql.push(leak(format!("CREATE INDEX t{i}_qty ON t{i} (qty, id)")));
            }
            Migration {
                version: m as i64 + 1,
                description: leak(format!("tables of batch {}", m + 1)),
                sql: Box::leak(sql.into_boxed_slice()),
                ..Migration::DEFAULT
            }
        })
        .filter(|m| !m.sql.is_empty())
        .collect();
    Box::leak(list.into_boxed_slice())
}

struct Database {
    backend: &'static str,
    url: DatabaseUrl,
    /// For servers: the admin URL and the database to drop at the end.
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn connect(url: &DatabaseUrl) -> AnyConnection {
    AnyConnection::connect(url, Access::ReadWrite).unwrap_or_else(|e| fail(&e.to_string()))
}

fn create(backend: &'static str) -> Database {
    if backend == "sqlite" {
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
        let path = dir.path().join("bench.db").display().to_string();
        let url = DatabaseUrl::parse(&path).unwrap_or_else(|e| fail(&e.to_string()));
        return Database {
            backend,
            url,
            cleanup: None,
            _dir: Some(dir),
        };
    }
    let var = backend.to_uppercase();
    let admin = std::env::var(format!("BENCH_{var}_URL"))
        .or_else(|_| std::env::var(format!("TEST_{var}_URL")))
        .unwrap_or_else(|_| fail(&format!("set BENCH_{var}_URL or TEST_{var}_URL")));
    let name = format!("vm_bench_schema_{}", std::process::id());
    let admin_url = DatabaseUrl::parse(&admin).unwrap_or_else(|e| fail(&e.to_string()));
    let mut conn = connect(&admin_url);
    let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let url = admin_url
        .with_database(&name)
        .unwrap_or_else(|| fail("cannot name the bench database"));
    Database {
        backend,
        url,
        cleanup: Some((admin, name)),
        _dir: None,
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.cleanup {
            if let Ok(url) = DatabaseUrl::parse(admin) {
                if let Ok(mut conn) = AnyConnection::connect(&url, Access::ReadWrite) {
                    let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_min(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0])
}

#[derive(Default)]
struct Samples {
    schema_ms: Vec<f64>,
    schema_statements: u64,
    drift_ms: Vec<f64>,
    drift_statements: u64,
    tables: usize,
    text_bytes: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tables: usize = arg(&args, "--tables")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runs: usize = arg(&args, "--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let backends = arg(&args, "--backends").unwrap_or_else(|| "sqlite,postgres,mysql".into());
    let list = workload(tables);
    let migrator = Migrator::new(list);
    let databases: Vec<Database> = backends
        .split(',')
        .map(|b| match b.trim() {
            "sqlite" => "sqlite",
            "postgres" => "postgres",
            "mysql" => "mysql",
            other => fail(&format!("unknown backend {other}")),
        })
        .map(create)
        .collect();
    for db in &databases {
        let started = Instant::now();
        migrator
            .apply(&mut connect(&db.url))
            .unwrap_or_else(|e| fail(&e.to_string()));
        eprintln!(
            "{}: built {tables} tables in {:.1} s",
            db.backend,
            started.elapsed().as_secs_f64()
        );
    }
    let table = TableName::default();
    let mut samples: Vec<Samples> = databases.iter().map(|_| Samples::default()).collect();
    // Interleaved: each round reads every backend once, then drifts each.
    for _ in 0..runs {
        for (db, s) in databases.iter().zip(samples.iter_mut()) {
            let mut conn = connect(&db.url);
            let before = statements_sent();
            let started = Instant::now();
            let schema = migrator
                .schema(&mut conn)
                .unwrap_or_else(|e| fail(&e.to_string()));
            s.schema_ms.push(ms(started.elapsed()));
            s.schema_statements = statements_sent() - before;
            s.tables = schema.tables.len();
            s.text_bytes = schema.to_text().len();
        }
        for (db, s) in databases.iter().zip(samples.iter_mut()) {
            let mut live = connect(&db.url);
            let before = statements_sent();
            let started = Instant::now();
            let scratch =
                ScratchDatabase::create(&db.url, &table).unwrap_or_else(|e| fail(&e.to_string()));
            let mut scratch_conn = scratch.connect().unwrap_or_else(|e| fail(&e.to_string()));
            let report = migrator
                .drift(&mut live, &mut scratch_conn)
                .unwrap_or_else(|e| fail(&e.to_string()));
            drop(scratch_conn);
            drop(scratch);
            s.drift_ms.push(ms(started.elapsed()));
            s.drift_statements = statements_sent() - before;
            if !report.is_clean() {
                fail(&format!(
                    "{}: unexpected drift {:?}",
                    db.backend, report.changes
                ));
            }
        }
    }
    println!(
        "schema and drift, {tables} tables in {} migrations, {runs} interleaved runs \
         (median / min; statements = round trips per call)",
        list.len()
    );
    println!(
        "{:<9} {:>7} {:>12} {:>10} {:>10} {:>13} {:>10}",
        "backend", "tables", "schema ms", "stmts", "text KiB", "drift ms", "stmts"
    );
    for (db, s) in databases.iter().zip(samples.iter_mut()) {
        let (schema_median, schema_min) = median_min(&mut s.schema_ms);
        let (drift_median, drift_min) = median_min(&mut s.drift_ms);
        println!(
            "{:<9} {:>7} {:>5.1} / {:<5.1} {:>10} {:>10.0} {:>6.0} / {:<6.0} {:>10}",
            db.backend,
            s.tables,
            schema_median,
            schema_min,
            s.schema_statements,
            s.text_bytes as f64 / 1024.0,
            drift_median,
            drift_min,
            s.drift_statements
        );
    }
}
