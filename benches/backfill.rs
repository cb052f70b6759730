//! A backfill of N rows (default 1,000,000): lower-casing `users.email` into
//! a new column, three ways, as one migration applied by the real runner:
//!
//! - `sql`: the same change as one statement, `UPDATE users SET
//!   email_lower = LOWER(email)`: the baseline;
//! - `code_batched`: a Rust step that reads 1,000 rows at a time (keyset on
//!   `id`) with `Db::query_with`, lower-cases them in Rust and writes each
//!   batch back with one `UPDATE … CASE` through `Db::in_batches`;
//! - `code_per_row`: a Rust step that reads every row with `Db::query` and
//!   writes each back with its own bound `UPDATE` (the obvious first draft);
//! - `diesel_per_row`: the same, each `UPDATE` written with diesel's query
//!   builder on `Db::diesel()` (diesel keeps such statements prepared;
//!   `Db::execute_with` runs raw SQL, prepared anew each time).
//!
//! cargo bench --bench backfill --all-features -- [--n 1000000]
//!     [--per-row-n 50000] [--rounds 3] [--backends sqlite,postgres,mysql]
//!     [--skip code_per_row]
//!
//! The per-row scenarios pay a round trip per row (about 0.2 ms on a local
//! PostgreSQL), so they run on `--per-row-n` rows; rows per second is what
//! compares.
//!
//! Server URLs come from BENCH_POSTGRES_URL / BENCH_MYSQL_URL (or the TEST_
//! ones); each measurement gets a fresh database, dropped afterwards. The
//! table is filled before the clock starts. Scenarios are interleaved round
//! by round, so a noisy moment hits them alike; prints median and min
//! seconds and rows per second.

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::value as arg;
use std::time::Instant;

use versioned_migrations::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use versioned_migrations::{
    Access, AnyConnection, Code, CodeError, DatabaseUrl, Db, Dialect, DieselConnection, Migration,
    Migrator, Value,
};

const BATCH: usize = 1000;
const SCENARIOS: &[&str] = &["sql", "code_batched", "code_per_row", "diesel_per_row"];

fn fail(message: &str) -> ! {
    eprintln!("backfill bench: {message}");
    std::process::exit(2)
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn connect(url: &str) -> AnyConnection {
    let url = DatabaseUrl::parse(url).unwrap_or_else(|e| fail(&e.to_string()));
    AnyConnection::connect(&url, Access::ReadWrite).unwrap_or_else(|e| fail(&e.to_string()))
}

/// Migration 1: the table with `n` rows of mixed-case addresses.
fn create_users(backend: Dialect, n: usize) -> Migration {
    let email = match backend {
        Dialect::Mysql => "CONCAT('User', i, '@Example.COM')",
        _ => "'User' || i || '@Example.COM'",
    };
    let fill = match backend {
        Dialect::Postgres => {
            format!(
                "INSERT INTO users (id, email) SELECT i, {email} FROM generate_series(1, {n}) AS i"
            )
        }
        Dialect::Sqlite => format!(
            "INSERT INTO users (id, email) WITH RECURSIVE n(i) AS \
             (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i, {email} FROM n"
        ),
        // Recursion is capped at 1,000 levels by default on MySQL and
        // MariaDB: a cross join of digits instead (10^k rows, the
        // fewest that cover n).
        _ => {
            let digits = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL \
                          SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 \
                          UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
            let width = (1..10).find(|k| 10usize.pow(*k) >= n).unwrap_or(9);
            let joined: Vec<String> = (0..width).map(|k| format!("{digits} AS d{k}")).collect();
            let number: Vec<String> = (0..width)
                .map(|k| format!("d{k}.d * {}", 10u64.pow(k)))
                .collect();
            format!(
                "INSERT INTO users (id, email) SELECT i, {email} FROM \
                 (SELECT 1 + {} AS i FROM {}) AS n WHERE i <= {n}",
                number.join(" + "),
                joined.join(" CROSS JOIN ")
            )
        }
    };
    let sql: &'static [&'static str] = Box::leak(Box::new([
        "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(200) NOT NULL, \
         email_lower VARCHAR(200))",
        leak(fill),
    ]));
    Migration {
        version: 1,
        description: "Create users",
        sql,
        ..Migration::DEFAULT
    }
}

fn lower_per_row(db: &mut Db<'_>) -> Result<(), CodeError> {
    let update = format!(
        "UPDATE users SET email_lower = {} WHERE id = {}",
        db.placeholder(1),
        db.placeholder(2)
    );
    for row in db.query("SELECT id, email FROM users")? {
        let (Some(id), Some(email)) = (&row[0], &row[1]) else {
            continue;
        };
        let values = [
            Value::from(email.to_lowercase()),
            Value::from(id.parse::<i64>()?),
        ];
        db.execute_with(&update, &values)?;
    }
    Ok(())
}

fn lower_batched(db: &mut Db<'_>) -> Result<(), CodeError> {
    let read = format!(
        "SELECT id, email FROM users WHERE id > {} ORDER BY id LIMIT {BATCH}",
        db.placeholder(1)
    );
    let mut last = 0i64;
    db.in_batches(|db| {
        let rows = db.query_with(&read, &[Value::from(last)])?;
        let mut values = Vec::with_capacity(rows.len() * 2);
        for row in &rows {
            let (Some(id), Some(email)) = (&row[0], &row[1]) else {
                continue;
            };
            last = id.parse()?;
            values.push(Value::from(last));
            values.push(Value::from(email.to_lowercase()));
        }
        if values.is_empty() {
            return Ok(0);
        }
        let update = update_from_pairs(db, values.len() / 2);
        db.execute_with(&update, &values)
            .map_err(|e| format!("{e}: {}", &update[..update.len().min(300)]))?;
        Ok(rows.len())
    })?;
    Ok(())
}

/// One `UPDATE` setting `email_lower` for `pairs` (id, value) pairs: a join
/// on a `VALUES` list (PostgreSQL, SQLite 3.33+), on a `UNION ALL` of rows
/// (MySQL, MariaDB).
fn update_from_pairs(db: &Db<'_>, pairs: usize) -> String {
    let p = |i: usize| db.placeholder(i);
    match db.backend() {
        Dialect::Mysql => {
            let rows: Vec<String> = (0..pairs)
                .map(|i| match i {
                    0 => format!("SELECT {} AS id, {} AS l", p(1), p(2)),
                    _ => format!("SELECT {}, {}", p(2 * i + 1), p(2 * i + 2)),
                })
                .collect();
            format!(
                "UPDATE users JOIN ({}) AS v ON users.id = v.id SET users.email_lower = v.l",
                rows.join(" UNION ALL ")
            )
        }
        _ => {
            let rows: Vec<String> = (0..pairs)
                .map(|i| format!("({}, {})", p(2 * i + 1), p(2 * i + 2)))
                .collect();
            format!(
                "UPDATE users SET email_lower = v.column2 FROM (VALUES {}) AS v \
                 WHERE users.id = v.column1",
                rows.join(", ")
            )
        }
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        email_lower -> Nullable<Text>,
    }
}

fn lower_with_diesel(db: &mut Db<'_>) -> Result<(), CodeError> {
    for row in db.query("SELECT id, email FROM users")? {
        let (Some(id), Some(email)) = (&row[0], &row[1]) else {
            continue;
        };
        let update = diesel::update(users::table.find(id.parse::<i64>()?))
            .set(users::email_lower.eq(email.to_lowercase()));
        match db.diesel() {
            DieselConnection::Sqlite(conn) => update.execute(conn)?,
            #[cfg(feature = "postgres")]
            DieselConnection::Postgres(conn) => update.execute(conn)?,
            #[cfg(feature = "mysql")]
            DieselConnection::Mysql(conn) => update.execute(conn)?,
            _ => return Err("a backend this build lacks".into()),
        };
    }
    Ok(())
}

fn backfill(scenario: &str) -> Migration {
    let code = |name, up| Code {
        name,
        revision: 1,
        up,
        down: None,
    };
    let (sql, code): (&'static [&'static str], _) = match scenario {
        "sql" => (&["UPDATE users SET email_lower = LOWER(email)"], None),
        "code_batched" => (&[], Some(code("lower_batched", lower_batched))),
        "diesel_per_row" => (&[], Some(code("lower_with_diesel", lower_with_diesel))),
        _ => (&[], Some(code("lower_per_row", lower_per_row))),
    };
    Migration {
        version: 2,
        description: "Lower-case e-mails",
        sql,
        code,
        ..Migration::DEFAULT
    }
}

struct Target {
    backend: Dialect,
    /// SQLite: a directory; servers: the admin URL.
    place: String,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    fn fresh(&self, tag: &str) -> String {
        match self.backend {
            Dialect::Sqlite => format!("{}/{tag}.db", self.place),
            _ => {
                let name = format!("vm_backfill_{}_{tag}", std::process::id());
                let mut admin = connect(&self.place);
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let (base, _) = self
                    .place
                    .rsplit_once('/')
                    .unwrap_or_else(|| fail("bad URL"));
                format!("{base}/{name}")
            }
        }
    }

    fn discard(&self, url: &str) {
        match self.backend {
            Dialect::Sqlite => {
                let _ = std::fs::remove_file(url);
            }
            _ => {
                if let Some((_, name)) = url.rsplit_once('/') {
                    let _ = connect(&self.place).batch_execute(&format!("DROP DATABASE {name}"));
                }
            }
        }
    }
}

/// Seconds for migration 2 alone, on a table already filled.
fn measure(target: &Target, scenario: &str, n: usize, round: usize) -> f64 {
    let url = target.fresh(&format!("{scenario}_{round}"));
    let mut conn = connect(&url);
    let setup: &'static [Migration] = Box::leak(Box::new([create_users(target.backend, n)]));
    Migrator::new(setup)
        .apply(&mut conn)
        .unwrap_or_else(|e| fail(&format!("setup: {e}")));
    let list: &'static [Migration] = Box::leak(Box::new([setup[0], backfill(scenario)]));
    let started = Instant::now();
    Migrator::new(list)
        .apply(&mut conn)
        .unwrap_or_else(|e| fail(&format!("{scenario}: {e}")));
    let seconds = started.elapsed().as_secs_f64();
    let checked: &'static [Migration] = Box::leak(Box::new([list[0], list[1], check()]));
    Migrator::new(checked)
        .apply(&mut conn)
        .unwrap_or_else(|e| fail(&format!("{scenario}: {e}")));
    drop(conn);
    target.discard(&url);
    seconds
}

/// Migration 3: every row was lower-cased (a bench that measures a no-op
/// measures nothing).
fn check() -> Migration {
    fn every_row_lowered(db: &mut Db<'_>) -> Result<(), CodeError> {
        let rows = db.query(
            "SELECT COUNT(*) FROM users WHERE email_lower IS NULL OR email_lower <> LOWER(email)",
        )?;
        match rows.first().and_then(|row| row[0].as_deref()) {
            Some("0") => Ok(()),
            other => Err(format!("rows not lower-cased: {other:?}").into()),
        }
    }
    Migration {
        version: 3,
        description: "Check the backfill",
        code: Some(Code {
            name: "every_row_lowered",
            revision: 1,
            up: every_row_lowered,
            down: None,
        }),
        ..Migration::DEFAULT
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--n")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = arg(&args, "--rounds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let per_row_n: usize = arg(&args, "--per-row-n")
        .and_then(|v| v.parse().ok())
        .unwrap_or(n.min(50_000));
    let rows_for = |scenario: &str| match scenario.ends_with("per_row") {
        true => per_row_n,
        false => n,
    };
    let skip = arg(&args, "--skip").unwrap_or_default();
    let scenarios: Vec<&str> = SCENARIOS
        .iter()
        .copied()
        .filter(|s| !skip.split(',').any(|k| k.trim() == *s))
        .collect();
    let backends = arg(&args, "--backends").unwrap_or_else(|| "sqlite,postgres".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("{rounds} rounds, batches of {BATCH}, {cores} cores");
    println!(
        "| backend | scenario | rows | median s | min s | rows/s (median) | vs sql (rows/s) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for backend in backends.split(',') {
        let target = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
                Target {
                    backend: Dialect::Sqlite,
                    place: dir.path().display().to_string(),
                    _dir: Some(dir),
                }
            }
            "postgres" | "mysql" => {
                let var = backend.to_uppercase();
                let admin = std::env::var(format!("BENCH_{var}_URL"))
                    .or_else(|_| std::env::var(format!("TEST_{var}_URL")))
                    .unwrap_or_else(|_| fail(&format!("set BENCH_{var}_URL or TEST_{var}_URL")));
                Target {
                    backend: if backend == "postgres" {
                        Dialect::Postgres
                    } else {
                        Dialect::Mysql
                    },
                    place: admin,
                    _dir: None,
                }
            }
            other => fail(&format!("unknown backend {other}")),
        };
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); scenarios.len()];
        for round in 0..rounds {
            for (i, scenario) in scenarios.iter().enumerate() {
                times[i].push(measure(&target, scenario, rows_for(scenario), round));
            }
        }
        let median = |t: &mut Vec<f64>| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        };
        let medians: Vec<f64> = times.iter_mut().map(median).collect();
        let rate = |i: usize| rows_for(scenarios[i]) as f64 / medians[i];
        let baseline = scenarios.iter().position(|s| *s == "sql").map(rate);
        for (i, scenario) in scenarios.iter().enumerate() {
            let ratio = match (*scenario, baseline) {
                ("sql", _) => "baseline".to_string(),
                (_, Some(b)) => format!("{:.1}× slower", b / rate(i)),
                (_, None) => "-".to_string(),
            };
            println!(
                "| {backend} | {scenario} | {} | {:.2} | {:.2} | {:.0} | {ratio} |",
                rows_for(scenario),
                medians[i],
                times[i][0],
                rate(i)
            );
        }
    }
}
