//! Appending rendered entries to this project's real `migrations.rs` must
//! leave a file that compiles against the real library (with the const
//! validity check) and whose strings read back exactly as the SQL rendered.
#![cfg(feature = "cli")]

mod common;

use versioned_migrations::authoring::migrations_file::{
    append_entries, entries, last_version, render_entry,
};

const PROJECT_FILE: &str = include_str!("../migrations.rs");

/// Entries as `(version, description, sql, down, transaction)`.
type Row = (i64, String, Vec<String>, Vec<String>, bool);

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
    let mut text = String::from("    // appended by the test\n");
    for (version, description, sql, down, transaction) in &rows {
        text.push_str(&render_entry(
            *version,
            description,
            sql,
            down,
            *transaction,
        ));
    }
    let appended = append_entries(PROJECT_FILE, &text).expect("append");
    assert_eq!(last_version(&appended), Ok(last + 2));
    assert!(appended.starts_with(&PROJECT_FILE[..PROJECT_FILE.rfind("];").expect("]")]));

    // What rustc compiles each literal to, read back by the file's parser.
    let read: Vec<Row> = entries(&appended)
        .expect("entries")
        .into_iter()
        .filter(|e| e.version > last)
        .map(|e| {
            (
                e.version,
                e.description.expect("literal description"),
                e.sql.expect("literal sql"),
                e.down.unwrap_or_default(),
                e.transaction.unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(read, rows);

    // And it compiles against the real library, validity check included.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("migrations.rs");
    std::fs::write(&path, &appended).unwrap();
    if let Err(errors) = common::library::compile(&path) {
        panic!("the appended migrations.rs does not compile:\n{errors}\n--- file ---\n{appended}");
    }
}
