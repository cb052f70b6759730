//! Reading and appending: fixed files, awkward literals, and random inputs
//! (proptest): an append then a read gives back what was appended.

use super::render::string_literal;
use super::*;
use proptest::prelude::*;

const FILE: &str = r###"// Header comment: version: 1000
use versioned_migrations::Migration;

/* block /* nested version: 500 */ still comment */
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "Create \"users\" version: 77",
        sql: &["CREATE TABLE users (id INTEGER)"],
        ..Migration::DEFAULT
    },
    // Migration { version: 300, description: "old", sql: &["x"], ..Migration::DEFAULT },
    Migration {
        version: 2,
        description: "Notes",
        sql: &[r##"INSERT INTO notes VALUES ('version: 99', "a"#b")"##],
        down: &['x' as u8; 0],
        ..Migration::DEFAULT
    },
];

const OTHER: &[i64] = &[version_of(400)];
"###;

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn last_version_ignores_strings_and_comments() {
    assert_eq!(last_version(FILE), Ok(2));
}

#[test]
fn last_version_of_empty_arrays_is_zero() {
    for source in [
        "pub const MIGRATIONS: &[Migration] = &[];",
        "pub const MIGRATIONS: &[Migration] = &[\n];\n",
        "pub const MIGRATIONS: &[Migration] = &[\n    // none yet\n];\n",
    ] {
        assert_eq!(last_version(source), Ok(0), "{source}");
    }
}

#[test]
fn last_version_reads_literal_forms() {
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 1_000i64, ..Migration::DEFAULT },\n    Migration { version: 0x10, ..Migration::DEFAULT }\n];";
    assert_eq!(last_version(source), Ok(1000));
}

#[test]
fn last_version_refuses_expressions() {
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: BASE + 1, ..Migration::DEFAULT },\n];";
    assert_eq!(
        last_version(source),
        Err(MigrationsFileError::VersionNotLiteral {
            line: 2,
            text: "BASE + 1".into()
        })
    );
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 6 + 1, ..Migration::DEFAULT },\n];";
    assert!(matches!(
        last_version(source),
        Err(MigrationsFileError::VersionNotLiteral { .. })
    ));
}

#[test]
fn entries_without_a_readable_version_are_errors() {
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 1, ..Migration::DEFAULT },\n    m(2, \"b\", &[\"x\"]),\n];";
    assert_eq!(
        last_version(source),
        Err(MigrationsFileError::EntryWithoutVersion { line: 3 })
    );
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { sql: &[\"x\"], ..Migration::DEFAULT },\n];";
    assert_eq!(
        last_version(source),
        Err(MigrationsFileError::EntryWithoutVersion { line: 2 })
    );
    // A nested struct's `version` field is not the entry's.
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 3, meta: Meta { version: 50 }, ..Migration::DEFAULT },\n];";
    assert_eq!(last_version(source), Ok(3));
}

#[test]
fn missing_or_duplicate_array_is_an_error() {
    assert_eq!(
        last_version("// pub const MIGRATIONS: &[Migration] = &[];\nfn main() {}"),
        Err(MigrationsFileError::NoArray)
    );
    assert_eq!(
        append_entries("const X: &[u8] = &[];", "    x,\n"),
        Err(MigrationsFileError::NoArray)
    );
    let twice = "#[cfg(a)]\nconst MIGRATIONS: &[Migration] = &[];\n#[cfg(b)]\nconst MIGRATIONS: &[Migration] = &[];\n";
    assert_eq!(
        last_version(twice),
        Err(MigrationsFileError::Ambiguous {
            first: 2,
            second: 4
        })
    );
    assert!(matches!(
        last_version("const MIGRATIONS: &[Migration] = &[\n    Migration {"),
        Err(MigrationsFileError::Syntax { .. })
    ));
    assert!(matches!(
        last_version("const MIGRATIONS: &[Migration] = &[\n    \"open"),
        Err(MigrationsFileError::Syntax { line: 2, .. })
    ));
    assert_eq!(
        last_version("const MIGRATIONS: &[Migration] = LIST;"),
        Err(MigrationsFileError::NotAnArray { line: 1 })
    );
}

#[test]
fn nested_modules_byte_order_marks_and_shebangs() {
    let nested = "\u{feff}#!/usr/bin/env run-cargo-script\nmod m {\n    pub static MIGRATIONS: &[Migration] = &[\n    ];\n}\n";
    let entry = render_entry(1, "First", &s(&["SELECT 1"]), &[], true);
    let out = append_entries(nested, &entry).expect("appends");
    assert_eq!(out, nested.replace("    ];", &format!("{entry}    ];")));
    assert_eq!(last_version(&out), Ok(1));
}

#[test]
fn append_keeps_everything_else_and_round_trips() {
    let entry = render_entry(
        3,
        "Add bio",
        &s(&["ALTER TABLE users ADD bio TEXT"]),
        &[],
        true,
    );
    let out = append_entries(FILE, &entry).expect("appends");
    let close = FILE.find("];\n\nconst OTHER").expect("close");
    assert_eq!(&out[..close], &FILE[..close]);
    assert_eq!(&out[close..close + entry.len()], entry);
    assert_eq!(&out[close + entry.len()..], &FILE[close..]);
    assert_eq!(last_version(&out), Ok(3));
}

#[test]
fn append_adds_a_missing_trailing_comma() {
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 4, ..Migration::DEFAULT } // last\n];\n";
    let entry = render_entry(5, "Five", &s(&["SELECT 5"]), &[], true);
    let out = append_entries(source, &entry).expect("appends");
    assert_eq!(
            out,
            format!("const MIGRATIONS: &[Migration] = &[\n    Migration {{ version: 4, ..Migration::DEFAULT }}, // last\n{entry}];\n")
        );
    assert_eq!(last_version(&out), Ok(5));

    let one_line =
        "const MIGRATIONS: &[Migration] = &[Migration { version: 1, ..Migration::DEFAULT }];";
    let out = append_entries(one_line, &entry).expect("appends");
    assert_eq!(
            out,
            format!("const MIGRATIONS: &[Migration] = &[Migration {{ version: 1, ..Migration::DEFAULT }},\n{entry}];")
        );
}

#[test]
fn append_to_empty_arrays() {
    let entry = render_entry(1, "First", &s(&["SELECT 1"]), &[], true);
    let out =
        append_entries("pub const MIGRATIONS: &[Migration] = &[];\n", &entry).expect("appends");
    assert_eq!(
        out,
        format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}];\n")
    );
    let out =
        append_entries("pub const MIGRATIONS: &[Migration] = &[\n];\n", &entry).expect("appends");
    assert_eq!(
        out,
        format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}];\n")
    );
    assert_eq!(last_version(&out), Ok(1));
    // Appending again continues after the first entry.
    let second = render_entry(2, "Second", &s(&["SELECT 2"]), &[], true);
    let out = append_entries(&out, &second).expect("appends");
    assert_eq!(
        out,
        format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}{second}];\n")
    );
}

#[test]
fn append_keeps_crlf_files_crlf() {
    let source = "const MIGRATIONS: &[Migration] = &[\r\n];\r\n";
    let entry = render_entry(1, "First", &s(&["SELECT 1"]), &[], true);
    let out = append_entries(source, &entry).expect("appends");
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    assert_eq!(last_version(&out), Ok(1));
}

#[test]
fn empty_entries_change_nothing() {
    let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 4, ..Migration::DEFAULT }\n];\n";
    assert_eq!(append_entries(source, "").as_deref(), Ok(source));
}

#[test]
fn render_entry_matches_the_file_style() {
    let entry = render_entry(
        7,
        "Add a bio to users",
        &s(&["ALTER TABLE users ADD COLUMN bio TEXT"]),
        &s(&["ALTER TABLE users DROP COLUMN bio"]),
        true,
    );
    assert_eq!(
        entry,
        "    Migration {
        version: 7,
        description: \"Add a bio to users\",
        sql: &[\"ALTER TABLE users ADD COLUMN bio TEXT\"],
        down: &[\"ALTER TABLE users DROP COLUMN bio\"],
        ..Migration::DEFAULT
    },
"
    );
    let entry = render_entry(8, "Two", &s(&["SELECT 1", "SELECT 2"]), &[], false);
    assert_eq!(
        entry,
        "    Migration {
        version: 8,
        description: \"Two\",
        sql: &[
            \"SELECT 1\",
            \"SELECT 2\",
        ],
        transaction: false,
        ..Migration::DEFAULT
    },
"
    );
}

#[test]
fn raw_literals_get_enough_hashes() {
    assert_eq!(string_literal("SELECT 1"), "\"SELECT 1\"");
    assert_eq!(string_literal("SELECT\n  1"), "r\"SELECT\n  1\"");
    assert_eq!(string_literal("SELECT\t'é'"), "\"SELECT\\t'é'\"");
    assert_eq!(string_literal(r#"SELECT "a""#), "r#\"SELECT \"a\"\"#");
    assert_eq!(
        string_literal(r###"SELECT '"#', '"##'"###),
        "r###\"SELECT '\"#', '\"##'\"###"
    );
    assert_eq!(string_literal(r"a\b\n"), "r\"a\\b\\n\"");
    assert_eq!(string_literal("a\r\nb"), "\"a\\r\\nb\"");
    let many = format!("\"{}", "#".repeat(300));
    assert!(string_literal(&many).starts_with("\"\\\""));
}

#[test]
fn description_is_escaped() {
    let description = "say \"hi\" \\ now\nnext\u{7}é";
    let entry = render_entry(1, description, &s(&["SELECT 1"]), &[], true);
    assert!(
        entry.contains(r#"description: "say \"hi\" \\ now\nnext\u{7}é","#),
        "{entry}"
    );
    assert_eq!(string_literal("a\u{7}\"b"), r#""a\u{7}\"b""#);
}

#[test]
fn awkward_sql_survives_the_lexer() {
    // Text rendered into the file must lex back as literals only.
    let sql = s(&[
        r###"SELECT '"#', '"##', 'version: 99', '\', '//', '/*'"###,
        "INSERT INTO t VALUES ('it''s'); -- version: 98",
    ]);
    let entry = render_entry(1, "Tricky \"one\" // version: 97", &sql, &sql, false);
    let out = append_entries("pub const MIGRATIONS: &[Migration] = &[];", &entry).expect("appends");
    assert_eq!(last_version(&out), Ok(1));
    let out = append_entries(&out, &render_entry(2, "b", &sql, &[], true)).expect("appends");
    assert_eq!(last_version(&out), Ok(2));
}

/// Pieces random files are made of: what makes Rust hard to read as text.
const AWKWARD: &[&str] = &[
    "'",
    "\"",
    "r#\"",
    "\"#",
    "#",
    "\\",
    "/*",
    "*/",
    "//",
    "\n",
    "b'",
    "'a",
    "é",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "version",
    "1",
    "-",
    "&[",
    "];",
    " ",
    "r",
    "const MIGRATIONS: &[M] = ",
    "Migration { version: 3, ..Migration::DEFAULT }",
    "\r\n",
    "\u{feff}",
    "#!",
];

/// Text a migration may hold: quotes, hashes, backslashes, line breaks and
/// control characters included.
fn sql_text() -> impl Strategy<Value = String> {
    let pieces: &[&str] = &[
        "SELECT 1",
        "'",
        "\"",
        "#",
        "\"#",
        "\"##",
        "\\",
        "\n",
        "\r\n",
        "\r",
        "\t",
        "\u{0}",
        "\u{7}",
        "é",
        "\u{301}",
        "//",
        "/*",
        "*/",
        "version: 9",
        " ",
        "];",
        "{",
        "}",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..12).prop_map(|p| p.concat())
}

#[derive(Debug, Clone)]
struct Appended {
    description: String,
    sql: Vec<String>,
    down: Vec<String>,
    transaction: bool,
}

fn appended() -> impl Strategy<Value = Appended> {
    (
        sql_text(),
        prop::collection::vec(sql_text(), 1..4),
        prop::collection::vec(sql_text(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(description, sql, down, transaction)| Appended {
            description,
            sql,
            down,
            transaction,
        })
}

/// Files the entries are appended to: empty, one-line, CRLF, a last entry
/// without its comma, comments around.
const FILES: &[&str] = &[
    "pub const MIGRATIONS: &[Migration] = &[];\n",
    "pub const MIGRATIONS: &[Migration] = &[\n];\n",
    "// head\r\nuse versioned_migrations::Migration;\r\n\r\npub const MIGRATIONS: &[Migration] = &[\r\n    // none yet\r\n];\r\n",
    "const MIGRATIONS: &[Migration] = &[Migration { version: 4, sql: &[\"x\"], ..Migration::DEFAULT }]; // tail\n",
    "static MIGRATIONS: &[Migration] = &[\n    Migration { version: 7, ..Migration::DEFAULT } /* last */\n];\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn never_panics_on_awkward_input(pieces in prop::collection::vec(prop::sample::select(AWKWARD), 0..30)) {
        let source = pieces.concat();
        let entry = render_entry(1, "x", &s(&["SELECT 1"]), &[], true);
        let _ = entries(&source);
        if let Ok(out) = append_entries(&source, &entry) {
            prop_assert!(out.len() > source.len(), "{:?}", source);
        }
    }

    #[test]
    fn append_then_read_gives_the_entries_back(
        file in prop::sample::select(FILES),
        new in prop::collection::vec(appended(), 1..4),
    ) {
        let before = entries(file).expect("fixture parses");
        let after = last_version(file).expect("fixture parses");
        let mut text = String::new();
        for (i, m) in new.iter().enumerate() {
            let version = after + 1 + i as i64;
            text.push_str(&render_entry(version, &m.description, &m.sql, &m.down, m.transaction));
        }
        let out = append_entries(file, &text).expect("appends");
        let read = entries(&out).expect("the result parses");
        prop_assert_eq!(read.len(), before.len() + new.len());
        prop_assert_eq!(&read[..before.len()], &before[..]);
        for (i, (m, entry)) in new.iter().zip(&read[before.len()..]).enumerate() {
            prop_assert_eq!(entry.version, after + 1 + i as i64);
            prop_assert_eq!(entry.description.as_ref(), Some(&m.description));
            prop_assert_eq!(entry.sql.as_ref(), Some(&m.sql));
            let down = (!m.down.is_empty()).then(|| m.down.clone());
            prop_assert_eq!(&entry.down, &down);
            prop_assert_eq!(entry.transaction, (!m.transaction).then_some(false));
        }
        // Everything else is kept byte for byte: the file is the output
        // without the inserted text and the one comma it may add.
        let newline = if file.contains("\r\n") { "\r\n" } else { "\n" };
        let inserted = text.replace('\n', newline);
        let at = out.find(&inserted).expect("inserted as rendered");
        let rest = format!("{}{}", &out[..at], &out[at + inserted.len()..]);
        // … and the line break that puts `]` on a line of its own.
        let joined = |text: &str| text.replace(&format!("{newline}]"), "]");
        let mut without_comma = rest.clone();
        if let Some(comma) = rest[..at].rfind(',') {
            without_comma.remove(comma);
        }
        prop_assert!(
            joined(&rest) == joined(file) || joined(&without_comma) == joined(file),
            "{:?} → {:?}", file, out
        );
    }
}

#[test]
fn lexer_handles_chars_lifetimes_and_raw_idents() {
    let source = "const A: char = '\"'; const B: char = '\\''; const C: &'static str = \"x\";\nconst r#type: u8 = b'\\\\'; const D: char = 'é';\nconst MIGRATIONS: &'static [Migration] = &[Migration { version: 9, ..Migration::DEFAULT }];";
    assert_eq!(last_version(source), Ok(9));
}
