//! Every message true, every output parseable: the CLI as a careful user
//! meets it (issue 13), through the real binary, checked against the
//! database after each command.
#![cfg(feature = "cli")]

mod common;

use common::{exit, json, text as all};

use std::path::Path;
use std::process::{Command, Output};

use common::{migrate_in, Backend, TestDb};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn with_env(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .output()
        .expect("run migrate")
}

/// 13.1: every command names the database and where its URL came from.
#[test]
fn the_database_and_its_source_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let default = migrate_in(dir.path(), &["apply"]);
    exit(&default, 0);
    assert!(
        stdout(&default).contains("app.db (embedded default"),
        "{}",
        stdout(&default)
    );
    let from_env = with_env(dir.path(), &[("DATABASE_URL", "env.db")], &["status"]);
    assert!(
        stdout(&from_env).contains("env.db (from DATABASE_URL"),
        "{}",
        stdout(&from_env)
    );
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=dotenv.db\n").unwrap();
    let from_dotenv = migrate_in(dir.path(), &["check"]);
    assert!(
        stdout(&from_dotenv).contains("dotenv.db (from .env at "),
        "{}",
        stdout(&from_dotenv)
    );
    let from_flag = migrate_in(dir.path(), &["verify", "--database-url", "app.db"]);
    assert!(
        stdout(&from_flag).contains("app.db (from --database-url)"),
        "{}",
        stdout(&from_flag)
    );
    let doc = json(&migrate_in(dir.path(), &["status", "--json"]));
    assert_eq!(doc["database"]["url"], "dotenv.db");
    assert_eq!(doc["database"]["source"]["kind"], "dotenv");
    let doc = json(&migrate_in(
        dir.path(),
        &["version", "--json", "--database-url", "app.db"],
    ));
    assert_eq!(doc["database"]["source"]["kind"], "flag");
    assert_eq!(
        stdout(&migrate_in(
            dir.path(),
            &["version", "--database-url", "app.db"]
        )),
        "6\n",
        "version stays a bare integer"
    );
}

/// 13.2: one rule for `.env` (the current directory's only), and a broken
/// one is an error naming the file and line.
#[test]
fn dotenv_is_read_from_here_only_and_a_broken_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=parent.db\n").unwrap();
    let child = dir.path().join("child");
    std::fs::create_dir(&child).unwrap();
    exit(&migrate_in(&child, &["apply"]), 0);
    assert!(child.join("app.db").exists() && !dir.path().join("parent.db").exists());

    std::fs::write(child.join(".env"), "OK=1\nnot an assignment\n").unwrap();
    let broken = migrate_in(&child, &["status"]);
    exit(&broken, 1);
    assert!(
        stderr(&broken).contains(".env line 2"),
        "{}",
        stderr(&broken)
    );
    let broken = migrate_in(&child, &["status", "--json"]);
    assert_eq!(json(&broken)["error"]["kind"], "dotenv");
}

/// 13.3: a read on an SQLite file that does not exist says so and creates
/// nothing.
#[test]
fn a_missing_sqlite_file_is_said_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["status", "check", "version", "history", "verify"] {
        let output = migrate_in(dir.path(), &[command, "--database-url", "app.bd"]);
        assert!(
            all(&output).contains("does not exist"),
            "{command}: {}",
            all(&output)
        );
    }
    let doc = json(&migrate_in(
        dir.path(),
        &["status", "--json", "--database-url", "app.bd"],
    ));
    assert_eq!(doc["database"]["exists"], false);
    assert!(!dir.path().join("app.bd").exists());
}

/// 13.4: the wrong binary against a database is not an "edit": status shows
/// both descriptions, and repair refuses unless told.
#[test]
fn another_projects_database_is_shown_and_not_repaired_silently() {
    let db = TestDb::new(Backend::Sqlite);
    exit(
        &migrate_in(
            db.dir.path(),
            &["apply", "--to", "1", "--database-url", &db.url],
        ),
        0,
    );
    db.exec("UPDATE schema_migrations SET description = 'Create accounts', checksum = 'x' WHERE version = 1");
    let status = migrate_in(db.dir.path(), &["status", "--database-url", &db.url]);
    exit(&status, 3);
    assert!(
        stdout(&status).contains("(database: \"Create accounts\")"),
        "{}",
        stdout(&status)
    );
    assert!(
        stdout(&status).contains("edited"),
        "not a green applied: {}",
        stdout(&status)
    );
    let repair = migrate_in(db.dir.path(), &["repair", "--database-url", &db.url]);
    exit(&repair, 1);
    assert!(
        stderr(&repair).contains("--accept-descriptions"),
        "{}",
        stderr(&repair)
    );
    assert_eq!(db.tracked("schema_migrations"), [(1, true)]);
    let accepted = migrate_in(
        db.dir.path(),
        &["repair", "--accept-descriptions", "--database-url", &db.url],
    );
    exit(&accepted, 0);
    exit(
        &migrate_in(db.dir.path(), &["verify", "--database-url", &db.url]),
        0,
    );
}

/// 13.7, 13.8: with `--json` a failure is still one document, with the
/// error and what was done before it; `applied` is a list everywhere and
/// `execution_ms` a number with a fraction.
#[test]
fn json_on_failure_is_one_document_with_the_partial_result() {
    let db = TestDb::new(Backend::Sqlite);
    db.exec("CREATE TABLE posts (id INTEGER)");
    let failed = migrate_in(
        db.dir.path(),
        &["apply", "--json", "--database-url", &db.url],
    );
    exit(&failed, 1);
    let doc = json(&failed);
    assert_eq!(doc["error"]["kind"], "migration_failed");
    assert_eq!(doc["error"]["version"], 2);
    assert_eq!(doc["error"]["statement_index"], 1);
    assert!(doc["error"]["database_message"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    assert_eq!(doc["applied"].as_array().unwrap().len(), 1);
    assert!(doc["applied"][0]["execution_ms"].is_f64());
    assert_eq!(doc["database"]["url"], db.url.as_str());
    db.exec("DROP TABLE posts");
    let ok = json(&migrate_in(
        db.dir.path(),
        &["apply", "--json", "--database-url", &db.url],
    ));
    assert!(ok["applied"].is_array() && ok["applied"][0]["execution_ms"].is_f64());
    let history = json(&migrate_in(
        db.dir.path(),
        &["history", "--json", "--database-url", &db.url],
    ));
    assert!(history["migrations"][0]["execution_ms"].is_f64());
    let status = json(&migrate_in(
        db.dir.path(),
        &["status", "--json", "--database-url", &db.url],
    ));
    assert!(status["migrations"][0]["execution_ms"].is_f64());
    let fleet = json(&migrate_in(
        db.dir.path(),
        &[
            "apply",
            "--json",
            "--database-url",
            &db.url,
            "--database-url",
            "other.db",
        ],
    ));
    assert!(fleet["targets"][0]["applied"].is_array(), "{fleet}");
    assert!(fleet["targets"][0]["database"].is_object());
}

/// 13.8: every command accepts `--json` and prints one parseable document,
/// usage errors included.
#[test]
fn every_command_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("migrations.rs"),
        include_str!("../migrations.rs"),
    )
    .unwrap();
    let imports = dir.path().join("imports");
    std::fs::create_dir(&imports).unwrap();
    std::fs::write(
        imports.join("001_tags.sql"),
        "CREATE TABLE tags (id INTEGER);",
    )
    .unwrap();
    let imports = imports.display().to_string();
    let runs: &[&[&str]] = &[
        &["apply", "--to", "5"],
        &["apply", "--dry-run"],
        &["version"],
        &["history"],
        &["status"],
        &["verify"],
        &["check"],
        &["apply"],
        &["rollback", "--dry-run"],
        &["rollback"],
        &["redo"],
        &["repair"],
        &["baseline", "3"],
        &["show", "3"],
        &["new", "Add tags", "--sql", "CREATE TABLE t (id INTEGER)"],
        &["import", &imports, "--dry-run"],
        &["lint"],
        &["schema"],
        &["drift"],
        &["roundtrip"],
        &["check", "--schema", "no-such-schema.sql"],
        &["completions", "bash"],
        &["man"],
        &["frobnicate"],
    ];
    for args in runs {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let output = migrate_in(dir.path(), &with_json);
        let doc = json(&output);
        assert!(doc.is_object(), "{args:?}: {doc}");
        if matches!(output.status.code(), Some(1 | 2)) {
            assert!(doc["error"]["kind"].is_string(), "{args:?}: {doc}");
        }
    }
}

/// 13.10: advice that names what to do, with this binary's flags.
#[test]
fn out_of_order_advice_names_the_flag() {
    let db = TestDb::new(Backend::Sqlite);
    exit(
        &migrate_in(db.dir.path(), &["apply", "--database-url", &db.url]),
        0,
    );
    db.exec("DELETE FROM schema_migrations WHERE version = 3");
    let refused = migrate_in(db.dir.path(), &["apply", "--database-url", &db.url]);
    exit(&refused, 1);
    assert!(
        stderr(&refused).contains("--allow-out-of-order"),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("hint:"), "{}", stderr(&refused));
}

/// 13.12: a URL given as a stray argument is masked in clap's message.
#[test]
fn a_stray_url_argument_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let output = migrate_in(
        dir.path(),
        &["status", "postgres://app:hunter2@db.example/app"],
    );
    exit(&output, 2);
    assert!(!all(&output).contains("hunter2"), "{}", all(&output));
    assert!(
        all(&output).contains("postgres://app:***@db.example/app"),
        "{}",
        all(&output)
    );
}

/// 13.16: completions, a man page, colour control, quiet everywhere, and
/// `status` failing when it lists problems.
#[test]
fn conventions() {
    let dir = tempfile::tempdir().unwrap();
    let bash = migrate_in(dir.path(), &["completions", "bash"]);
    exit(&bash, 0);
    assert!(stdout(&bash).contains("_migrate()"), "{}", stdout(&bash));
    let man = migrate_in(dir.path(), &["man"]);
    exit(&man, 0);
    assert!(stdout(&man).contains(".TH migrate"), "{}", stdout(&man));
    exit(&migrate_in(dir.path(), &["apply"]), 0);
    let colour = migrate_in(dir.path(), &["status", "--color", "always"]);
    assert!(stdout(&colour).contains("\u{1b}["), "colours when asked");
    let plain = migrate_in(dir.path(), &["status", "--color", "never"]);
    assert!(!stdout(&plain).contains("\u{1b}["));
    for command in ["status", "history", "verify", "check", "apply", "repair"] {
        let quiet = migrate_in(dir.path(), &[command, "-q"]);
        assert_eq!(stdout(&quiet), "", "{command} -q");
    }
    let db = dir.path().join("app.db").display().to_string();
    common::connect_url(&db)
        .unwrap()
        .batch_execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2")
        .unwrap();
    exit(&migrate_in(dir.path(), &["status"]), 3);
    exit(&migrate_in(dir.path(), &["status", "-q"]), 3);
}

/// 13.17: small truths.
#[test]
fn baseline_beyond_the_code_and_backups_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = migrate_in(dir.path(), &["baseline", "3"]);
    exit(&missing, 1);
    assert!(
        stderr(&missing).contains("does not exist (nothing was created)"),
        "{}",
        stderr(&missing)
    );
    assert!(!dir.path().join("app.db").exists());
    common::connect_url(&dir.path().join("app.db").display().to_string())
        .unwrap()
        .batch_execute("CREATE TABLE kept (id INTEGER)")
        .unwrap();
    let beyond = migrate_in(dir.path(), &["baseline", "99"]);
    exit(&beyond, 1);
    assert!(
        stderr(&beyond).contains("the code's last migration is 6"),
        "{}",
        stderr(&beyond)
    );
    std::fs::remove_file(dir.path().join("app.db")).unwrap();
    let fresh = migrate_in(dir.path(), &["apply", "--backup"]);
    exit(&fresh, 0);
    assert!(
        !stdout(&fresh).contains("Backed up"),
        "a new file has nothing to back up"
    );
    let backups = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().contains(".backup-"))
        })
        .count();
    assert_eq!(backups, 0);
    let history = stdout(&migrate_in(dir.path(), &["history"]));
    assert!(
        history.contains(" ms"),
        "durations with the apply's precision: {history}"
    );
}

/// 13.13, 13.14: rolling back what another build applied, and redo, from
/// the command line.
#[test]
fn redo_and_rollback_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    exit(&migrate_in(dir.path(), &["apply"]), 0);
    let redo = migrate_in(dir.path(), &["redo"]);
    exit(&redo, 0);
    assert!(
        stdout(&redo).contains("1 migration(s) rolled back and applied again"),
        "{}",
        stdout(&redo)
    );
    let two = migrate_in(dir.path(), &["redo", "--steps", "2"]);
    exit(&two, 0);
    assert!(
        stdout(&two).contains("↩") && stdout(&two).contains("✓"),
        "{}",
        stdout(&two)
    );
}

/// `migrate lint` needs no database: the backend comes from `--backend`
/// or the URL's scheme, which is never connected.
#[test]
fn lint_needs_no_database() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["lint"][..],
        &["lint", "--backend", "mysql"],
        &[
            "lint",
            "--database-url",
            "postgres://app:hunter2@nowhere.invalid:1/app",
        ],
    ] {
        let output = migrate_in(dir.path(), args);
        exit(&output, 0);
        assert!(!all(&output).contains("hunter2"));
    }
    let doc = json(&migrate_in(
        dir.path(),
        &[
            "lint",
            "--json",
            "--database-url",
            "postgres://nowhere.invalid/app",
        ],
    ));
    assert_eq!(doc["backend"], "postgres");
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc}");
    assert!(!dir.path().join("app.db").exists(), "nothing created");
}

/// `--json` parses on every command: `completions` and `man` put their
/// script or page in a field of the document.
#[test]
fn generated_text_is_a_json_field_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let completions = json(&migrate_in(dir.path(), &["completions", "bash", "--json"]));
    assert_eq!(completions["shell"], "bash");
    assert!(completions["script"]
        .as_str()
        .is_some_and(|s| s.contains("_migrate")));
    let man = json(&migrate_in(dir.path(), &["man", "--json"]));
    assert!(man["page"].as_str().is_some_and(|s| s.contains(".TH")));
    let plain = migrate_in(dir.path(), &["completions", "bash"]);
    assert!(
        stdout(&plain).starts_with("_migrate()"),
        "{}",
        stdout(&plain)
    );
}

/// JSON documents are printed with their keys sorted, at every depth.
#[test]
fn json_keys_are_sorted() {
    let dir = tempfile::tempdir().unwrap();
    exit(&migrate_in(dir.path(), &["apply", "-q"]), 0);
    for args in [
        &["status", "--json"][..],
        &["history", "--json"],
        &["apply", "--json"],
    ] {
        let output = migrate_in(dir.path(), args);
        let printed = stdout(&output);
        fn keys_sorted(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::Object(map) => {
                    let keys: Vec<&String> = map.keys().collect();
                    keys.windows(2).all(|w| w[0] <= w[1]) && map.values().all(keys_sorted)
                }
                serde_json::Value::Array(items) => items.iter().all(keys_sorted),
                _ => true,
            }
        }
        // Parsed in the printed order (serde_json's preserve_order is not
        // on, so check the text: re-printing the sorted value gives it back).
        let value = json(&output);
        assert!(keys_sorted(&value));
        let reprinted = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(printed.trim_end(), reprinted, "{args:?}");
    }
}

/// 13.17: Ctrl-C while `apply` waits ends with an "interrupted" line, exit
/// 130, and nothing of the waiting migration applied.
#[cfg(unix)]
#[test]
fn ctrl_c_says_interrupted_and_exits_130() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    exit(&migrate_in(dir.path(), &["apply", "-q", "--to", "1"]), 0);
    let db = dir.path().join("app.db");
    let mut holder = common::connect_url(&db.display().to_string()).expect("connect to app.db");
    holder
        .batch_execute("BEGIN EXCLUSIVE")
        .expect("hold the database");
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["apply", "--lock-timeout", "60"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The header is printed once the handler is installed and the run began.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("header");
    assert!(line.starts_with("Migrating"), "{line}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("interrupted:"), "{said}");
    holder.batch_execute("ROLLBACK").expect("release");
    drop(holder);
    let version = migrate_in(dir.path(), &["version"]);
    assert_eq!(stdout_text(&version).trim(), "1");
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
