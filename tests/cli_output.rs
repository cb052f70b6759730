//! The command line's texts, snapshotted: `--help` of every command, and
//! the human output of the everyday commands (times and paths filtered).
//! A change to any of them shows up in review as a snapshot diff.
#![cfg(feature = "cli")]

mod common;

use common::migrate_in;

const COMMANDS: &[&str] = &[
    "apply",
    "rollback",
    "redo",
    "version",
    "history",
    "status",
    "verify",
    "check",
    "schema",
    "drift",
    "roundtrip",
    "lint",
    "repair",
    "baseline",
    "show",
    "new",
    "import",
    "init",
    "completions",
    "man",
];

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate_in(dir.path(), args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]));
    for command in COMMANDS {
        insta::assert_snapshot!(format!("help_{command}"), help(&[command, "--help"]));
    }
}

#[test]
fn every_subcommand_help_has_an_example_and_no_foreign_options() {
    for command in COMMANDS {
        let text = help(&[command, "--help"]);
        assert!(
            text.contains("Example: migrate "),
            "{command} --help: {text}"
        );
    }
    for command in [
        "show",
        "new",
        "import",
        "completions",
        "man",
        "history",
        "rollback",
        "repair",
        "baseline",
    ] {
        let text = help(&[command, "--help"]);
        for fanout in ["--targets", "--parallel", "--fail-fast"] {
            assert!(!text.contains(fanout), "{command} --help offers {fanout}");
        }
    }
    for command in ["show", "new", "import", "init", "completions", "man"] {
        assert!(
            !help(&[command, "--help"]).contains("--database-url"),
            "{command} works on no database"
        );
    }
}

/// Human output with what changes between runs (times, durations, the
/// temporary directory) replaced by placeholders.
fn human(dir: &std::path::Path, args: &[&str]) -> String {
    let output = migrate_in(dir, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    format!("exit {}\n{text}", output.status.code().unwrap_or(-1))
}

#[test]
fn human_output_of_everyday_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d+\.\d+ (ms|s)\b", "[duration]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[time]");
    settings.add_filter(&regex_escape(&dir.path().display().to_string()), "[dir]");
    settings.bind(|| {
        insta::assert_snapshot!("status_new", human(dir.path(), &["status"]));
        insta::assert_snapshot!("apply_to_3", human(dir.path(), &["apply", "--to", "3"]));
        insta::assert_snapshot!("dry_run", human(dir.path(), &["apply", "--dry-run"]));
        insta::assert_snapshot!("apply", human(dir.path(), &["apply"]));
        insta::assert_snapshot!("status", human(dir.path(), &["status"]));
        insta::assert_snapshot!("history", human(dir.path(), &["history"]));
        insta::assert_snapshot!("check", human(dir.path(), &["check"]));
        insta::assert_snapshot!("rollback", human(dir.path(), &["rollback", "--steps", "2"]));
        insta::assert_snapshot!(
            "rollback_blocked",
            human(dir.path(), &["rollback", "--to", "0", "--dry-run"])
        );
    });
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\' => {
                format!("\\{c}")
            }
            _ => c.to_string(),
        })
        .collect()
}
