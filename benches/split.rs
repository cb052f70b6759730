//! Time for `migrate import`'s SQL statement splitter on inputs that once
//! made it slow: `cargo bench --bench split -- [--runs 5]`.
//!
//! Prints the median time per input size, and the ratio to the size before:
//! a linear splitter stays near 2x per doubling. The quadratic one took 4x
//! per doubling on a line of `#`: 447 ms for 40,000 here (2.25 s where issue 10
//! measured it); linear, 0.6 ms.

use std::time::{Duration, Instant};

use versioned_migrations::authoring::import::split_statements;

/// Makes an input of about the given size in bytes.
type Input = fn(usize) -> String;

/// Inputs by name.
const INPUTS: &[(&str, Input)] = &[
    // MySQL `#` comments vs PostgreSQL's `#` operator: decided per `#`.
    ("`#` on one line", |n| format!("SELECT 1 {}", "#".repeat(n))),
    ("`# x` on one line", |n| {
        format!("SELECT a {}", "# x ".repeat(n / 4))
    }),
    // Strings a backslash ends differently for MySQL: once re-scanned each.
    ("`'\\'` strings", |n| {
        format!("SELECT {}", "'\\' ".repeat(n / 4))
    }),
    ("statements with comments", |n| {
        "INSERT INTO t (a, b) VALUES (1, 'x;y'); -- c\n".repeat(n / 45)
    }),
    ("dollar-quoted bodies", |n| {
        "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;\n".repeat(n / 70)
    }),
];

const SIZES: &[usize] = &[10_000, 20_000, 40_000, 80_000];

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize);
    println!("split_statements, median of {runs} runs");
    for (name, make) in INPUTS {
        println!("{name}:");
        let mut previous: Option<Duration> = None;
        for &size in SIZES {
            let sql = make(size);
            let times = (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    let split = split_statements(&sql);
                    std::hint::black_box(split);
                    started.elapsed()
                })
                .collect();
            let time = median(times);
            let ratio = previous
                .map(|p| format!("  x{:.1}", time.as_secs_f64() / p.as_secs_f64().max(1e-9)))
                .unwrap_or_default();
            println!(
                "  {size:>7} bytes  {:>10.3} ms{ratio}",
                time.as_secs_f64() * 1e3
            );
            previous = Some(time);
        }
    }
}
