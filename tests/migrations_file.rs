//! Appending rendered entries to this project's real `migrations.rs` must
//! leave a file rustc compiles, whose strings are exactly the SQL rendered.
//! The generated file is compiled against a stand-in `Migration` (the same
//! fields) and run, so the check needs only rustc, not a whole Cargo build.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

use versioned_migrations::authoring::migrations_file::{
    append_entries, last_version, render_entry,
};

const PROJECT_FILE: &str = include_str!("../migrations.rs");

const STAND_IN: &str = r#"
#[allow(dead_code)]
mod versioned_migrations {
    #[derive(Debug)]
    pub struct Migration {
        pub version: i64,
        pub description: &'static str,
        pub sql: &'static [&'static str],
        pub down: &'static [&'static str],
        pub transaction: bool,
    }
    impl Migration {
        pub const DEFAULT: Migration = Migration {
            version: 0,
            description: "",
            sql: &[],
            down: &[],
            transaction: true,
        };
    }
}
"#;

/// Entries as `(version, description, sql, down, transaction)`, printed with
/// `{:?}` by both sides so the comparison is exact.
type Row = (i64, String, Vec<String>, Vec<String>, bool);

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

fn compile_and_run(dir: &Path, source: &str) -> String {
    let main_rs = dir.join("main.rs");
    std::fs::write(&main_rs, source).expect("write main.rs");
    let binary = dir.join("generated");
    let output = Command::new(rustc())
        .args([
            "--edition",
            "2021",
            "--crate-name",
            "generated",
            "-C",
            "debuginfo=0",
        ])
        .arg("-o")
        .arg(&binary)
        .arg(&main_rs)
        .output()
        .expect("run rustc");
    assert!(
        output.status.success(),
        "the generated migrations.rs does not compile:\n{}\n--- source ---\n{source}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = Command::new(&binary)
        .output()
        .expect("run generated binary");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).expect("UTF-8 output")
}

#[test]
fn appended_entries_compile_and_round_trip() {
    let last = last_version(PROJECT_FILE).expect("migrations.rs has a MIGRATIONS array");
    assert!(last > 0, "migrations.rs has entries");

    let rows: Vec<Row> = vec![
        (
            last + 1,
            "Quotes \"and\" \\ backslashes\tand a tab".to_string(),
            vec![
                r###"INSERT INTO notes (body) VALUES ('say "hi"#', 'and "## too', 'C:\path\n', 'version: 99')"###
                    .to_string(),
                "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1; -- \"#\nEND;\n$$ LANGUAGE plpgsql"
                    .to_string(),
            ],
            vec!["DROP FUNCTION f".to_string(), "DELETE FROM notes".to_string()],
            true,
        ),
        (
            last + 2,
            "Index concurrently".to_string(),
            vec!["CREATE INDEX CONCURRENTLY i ON notes (body)\r\n".to_string()],
            vec![],
            false,
        ),
    ];
    let mut entries = String::from("    // appended by the test\n");
    for (version, description, sql, down, transaction) in &rows {
        entries.push_str(&render_entry(
            *version,
            description,
            sql,
            down,
            *transaction,
        ));
    }
    let appended = append_entries(PROJECT_FILE, &entries).expect("append");
    assert_eq!(last_version(&appended), Ok(last + 2));
    assert!(appended.starts_with(&PROJECT_FILE[..PROJECT_FILE.rfind("];").expect("]")]));

    const USE_LINE: &str = "use versioned_migrations::Migration;";
    assert_eq!(
        appended.matches(USE_LINE).count(),
        1,
        "one use line to adjust"
    );
    let generated = appended.replace(USE_LINE, "use crate::versioned_migrations::Migration;");
    let program = format!(
        "{STAND_IN}\n{generated}\n
fn main() {{
    let rows: Vec<(i64, String, Vec<String>, Vec<String>, bool)> = MIGRATIONS[MIGRATIONS.len() - 2..]
        .iter()
        .map(|m| (
            m.version,
            m.description.to_string(),
            m.sql.iter().map(|s| s.to_string()).collect(),
            m.down.iter().map(|s| s.to_string()).collect(),
            m.transaction,
        ))
        .collect();
    print!(\"{{rows:?}}\");
}}
"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = compile_and_run(dir.path(), &program);
    assert_eq!(printed, format!("{rows:?}"));
}
