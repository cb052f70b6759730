//! Build time of an application's long `migrations.rs`: the release rebuild
//! after adding one entry, with and without the compile-time list check.
//!
//! `cargo bench --bench rebuild -- [--n 10000] [--runs 3]`
//!
//! Writes an application crate under `target/rebuild-bench` (this library
//! by path, `default-features = false`, the SQLite backend), whose list is
//! `--n` entries of the benches' usual migration (a CREATE TABLE, a CREATE
//! INDEX and a 10-row INSERT, here with a `down`). Builds it once (the
//! dependencies, not timed), then per round adds one entry and times
//! `cargo build --release` twice: the binary with `const _: () =
//! validate(MIGRATIONS);` and the same binary without it, in alternating
//! order. Prints the median and the minimum of each; the difference is the
//! check's cost. The rest is the compiler's own work on the literal (type
//! checking, borrow checking and promoting 10,000 struct literals, then
//! LLVM on some 70,000 constants), which no choice of this library's can
//! take away.

#[path = "common/args.rs"]
#[allow(dead_code)] // each bench uses the helpers it needs
mod args;
use args::number as arg;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn entry(version: usize) -> String {
    let rows: Vec<String> = (1..=10)
        .map(|r| format!("({r}, 'row {r} of table {version}')"))
        .collect();
    format!(
        "    Migration {{
        version: {version},
        description: \"Create table t{version} with an index and ten rows\",
        sql: &[
            \"CREATE TABLE t{version} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)\",
            \"CREATE INDEX t{version}_name ON t{version} (name)\",
            \"INSERT INTO t{version} (id, name) VALUES {}\",
        ],
        down: &[\"DROP TABLE t{version}\"],
        ..Migration::DEFAULT
    }},\n",
        rows.join(", ")
    )
}

fn write_list(dir: &Path, n: usize) -> std::io::Result<()> {
    let mut text = String::from(
        "use versioned_migrations::Migration;\n\npub const MIGRATIONS: &[Migration] = &[\n",
    );
    for version in 1..=n {
        text.push_str(&entry(version));
    }
    text.push_str("];\n");
    std::fs::write(dir.join("migrations.rs"), text)
}

fn write_main(dir: &Path, checked: bool) -> std::io::Result<()> {
    let mut text = String::from("include!(\"../migrations.rs\");\n");
    if checked {
        text.push_str("const _: () = versioned_migrations::validate(MIGRATIONS);\n");
    }
    text.push_str(
        "fn main() {\n    let migrator = versioned_migrations::Migrator::new(MIGRATIONS);\n    \
         std::hint::black_box(&migrator);\n    println!(\"{}\", MIGRATIONS.len());\n}\n",
    );
    std::fs::write(dir.join("src/main.rs"), text)
}

fn build(dir: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    let took = started.elapsed();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(took)
}

fn summary(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 10_000);
    let runs = arg(&args, "--runs", 3).max(1);
    let library = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = library.join("target/rebuild-bench");
    let io = |e: std::io::Error| format!("writing the bench crate: {e}");
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let manifest = format!(
        "[package]\nname = \"rebuild-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[dependencies]\nversioned-migrations = {{ path = {:?}, default-features = false }}\n",
        library.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io)?;
    write_list(&dir, n).map_err(io)?;
    write_main(&dir, true).map_err(io)?;
    println!("rebuild after adding one entry to a {n}-entry list, release, {runs} rounds");
    build(&dir)?;
    let mut checked = Vec::new();
    let mut unchecked = Vec::new();
    for round in 0..runs {
        // Alternate which variant goes first, so a slow moment hits both.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for check in order {
            write_list(&dir, n + round + 1).map_err(io)?;
            write_main(&dir, check).map_err(io)?;
            let took = build(&dir)?;
            println!(
                "  round {}: {} {:.2} s",
                round + 1,
                if check {
                    "with the check"
                } else {
                    "without it"
                },
                took.as_secs_f64()
            );
            if check { &mut checked } else { &mut unchecked }.push(took);
        }
    }
    let (with_median, with_min) = summary(&mut checked);
    let (without_median, without_min) = summary(&mut unchecked);
    println!(
        "with the check: median {:.2} s, min {:.2} s",
        with_median.as_secs_f64(),
        with_min.as_secs_f64()
    );
    println!(
        "without it:     median {:.2} s, min {:.2} s",
        without_median.as_secs_f64(),
        without_min.as_secs_f64()
    );
    println!(
        "the check:      {:+.2} s by the median, {:+.2} s by the minimum",
        with_median.as_secs_f64() - without_median.as_secs_f64(),
        with_min.as_secs_f64() - without_min.as_secs_f64()
    );
    Ok(())
}

fn main() {
    if let Err(message) = run() {
        eprintln!("rebuild bench failed: {message}");
        std::process::exit(1);
    }
}
