//! Time for `lint` over a large real-sized list (300 migrations) and a
//! generated one (5,000), per backend:
//! cargo bench --bench lint -- [--rounds 15]
//!
//! The lists mix what real projects hold: tables, indexes (some on tables of
//! earlier migrations, so there are findings), added columns, constraints,
//! data fixes, multi-statement entries; on PostgreSQL also `CONCURRENTLY`
//! entries and a function body. Backends are interleaved round by round, so
//! a noisy moment hits them alike. Prints median and min per run and per
//! 1,000 migrations.

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::number as arg;
use std::time::Instant;

use versioned_migrations::lint::lint;
use versioned_migrations::{Dialect, Migration};

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// One migration of a repeating pattern of twelve kinds.
fn migration(i: usize, backend: Dialect) -> Migration {
    let t = i / 12;
    let pg = backend == Dialect::Postgres;
    let (sql, transaction): (Vec<String>, bool) = match i % 12 {
        0 => (
            vec![format!(
                "CREATE TABLE t{t} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, \
                 email VARCHAR(255), created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )],
            true,
        ),
        1 => (vec![format!("CREATE INDEX idx_t{t}_name ON t{t} (name)")], true),
        2 => (
            vec![format!("ALTER TABLE t{t} ADD COLUMN language VARCHAR(10) NOT NULL DEFAULT 'en'")],
            true,
        ),
        3 => (
            vec![format!("INSERT INTO t{t} (id, name, email) VALUES (1, 'a', 'a@example.com'), (2, 'b', 'b@example.com')")],
            true,
        ),
        4 => (vec![format!("UPDATE t{t} SET email = LOWER(email) WHERE email IS NOT NULL")], true),
        5 if pg => (
            vec![format!("CREATE INDEX CONCURRENTLY idx_t{t}_email ON t{t} (email)")],
            false,
        ),
        5 => (vec![format!("CREATE INDEX idx_t{t}_email ON t{t} (email)")], true),
        6 => (
            vec![
                format!("CREATE TABLE t{t}_tags (id BIGINT NOT NULL PRIMARY KEY, t_id BIGINT NOT NULL, tag VARCHAR(50) NOT NULL)"),
                format!("CREATE INDEX idx_t{t}_tags_tag ON t{t}_tags (tag)"),
            ],
            true,
        ),
        7 => (vec![format!("ALTER TABLE t{t} ADD COLUMN score INTEGER")], true),
        8 => (
            vec![format!("ALTER TABLE t{t}_tags ADD CONSTRAINT fk_t{t}_tags FOREIGN KEY (t_id) REFERENCES t{t} (id)")],
            true,
        ),
        9 if pg => (
            vec![format!(
                "CREATE FUNCTION touch_t{t}() RETURNS trigger AS $$ BEGIN NEW.created_at := now(); \
                 RETURN NEW; END; $$ LANGUAGE plpgsql"
            )],
            true,
        ),
        9 => (vec![format!("CREATE VIEW v_t{t} AS SELECT id, name FROM t{t} WHERE score > 10")], true),
        10 => (
            vec![format!(
                "DELETE FROM t{t}_tags WHERE tag IN ('old', 'obsolete'); \
                 UPDATE t{t} SET score = 0 WHERE score IS NULL"
            )],
            true,
        ),
        _ => (vec![format!("ALTER TABLE t{t} RENAME COLUMN score TO points")], true),
    };
    let sql: Vec<&'static str> = sql.into_iter().map(leak).collect();
    Migration {
        version: i as i64 + 1,
        description: leak(format!("step {i}")),
        sql: Box::leak(sql.into_boxed_slice()),
        transaction,
        ..Migration::DEFAULT
    }
}

fn list(n: usize, backend: Dialect) -> Vec<Migration> {
    (0..n).map(|i| migration(i, backend)).collect()
}

fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = arg(&args, "--rounds", 15).max(1);
    let backends = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];
    println!("| migrations | backend | findings | median ms | min ms | median ms / 1,000 | min ms / 1,000 |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for size in [300, 5_000] {
        let lists: Vec<Vec<Migration>> = backends.iter().map(|&b| list(size, b)).collect();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
        let mut findings = vec![0; backends.len()];
        // Round 0 warms up and checks the workload; it is not counted.
        for round in 0..=rounds {
            for (b, &backend) in backends.iter().enumerate() {
                let started = Instant::now();
                let report = lint(&lists[b], backend, None);
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                if round == 0 {
                    if !report.not_checked.is_empty() {
                        eprintln!(
                            "bench: {backend:?} could not read part of the workload:\n{report}"
                        );
                        std::process::exit(1);
                    }
                    findings[b] = report.findings.len();
                } else {
                    times[b].push(ms);
                }
            }
        }
        for (b, backend) in backends.iter().enumerate() {
            let sorted = {
                let mut t = times[b].clone();
                t.sort_by(f64::total_cmp);
                t
            };
            let (med, min) = (median(&sorted), sorted[0]);
            let per = 1000.0 / size as f64;
            println!(
                "| {size} | {} | {} | {med:.1} | {min:.1} | {:.1} | {:.1} |",
                backend.name(),
                findings[b],
                med * per,
                min * per
            );
        }
    }
    println!(
        "\n{rounds} rounds, backends interleaved; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
