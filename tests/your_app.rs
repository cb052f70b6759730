//! Your own application (issue 12), end to end: fresh Cargo projects that
//! depend on this checkout, set up by `migrate init` or by hand as the
//! README says, built, and migrating their own `migrations.rs` — with their
//! own `migrate` command, as a subcommand of their own clap CLI, and as a
//! library only. The builds are the slow part: two projects in all.
#![cfg(feature = "cli")]

mod common;

use common::text;

use std::process::Output;

use common::project::{backend_features, Project};
use common::{migrate_in, Backend, TestDb};

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", text(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The server databases these tests can reach (every server backend built
/// in, when the server tests are included).
fn server_databases() -> Vec<TestDb> {
    if std::env::var("TEST_POSTGRES_URL").is_err() && std::env::var("TEST_MYSQL_URL").is_err() {
        return Vec::new();
    }
    let mut dbs = Vec::new();
    if cfg!(feature = "postgres") {
        dbs.push(TestDb::new(Backend::Postgres));
    }
    if cfg!(feature = "mysql") {
        dbs.push(TestDb::new(Backend::Mysql));
    }
    dbs
}

const SUBCOMMAND_MAIN: &str = r#"
mod migrations {
    include!("../migrations.rs");
}

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "myapp")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (a stand-in)
    Serve,
    /// The database's migrations
    Migrate(versioned_migrations::cli::MigrateArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Migrate(args) => versioned_migrations::cli::run(migrations::MIGRATIONS, args),
        Command::Serve => ExitCode::SUCCESS,
    }
}
"#;

/// Ways 2 and 3 in one project: `migrate init` writes its own `migrate`
/// command; its main binary mounts `MigrateArgs` as `myapp migrate`.
#[test]
fn init_then_its_own_migrate_and_a_subcommand_of_its_cli() {
    let app = Project::new("myapp");
    let mut init = vec!["init"];
    for backend in backend_features() {
        init.extend(["--backend", backend]);
    }
    let first = ok(&migrate_in(app.path(), &init));
    assert!(
        first.contains("wrote") && first.contains("cargo run --bin migrate -- apply"),
        "{first}"
    );
    let again = ok(&migrate_in(app.path(), &init));
    assert!(
        !again.contains("wrote") && again.contains("unchanged"),
        "nothing written twice: {again}"
    );
    assert!(
        app.read("Cargo.toml")
            .contains("versioned-migrations = { path = "),
        "{}",
        app.read("Cargo.toml")
    );

    // Way 3 needs clap in the application itself.
    let manifest = app.read("Cargo.toml").replace(
        "[dependencies]\n",
        "[dependencies]\nclap = { version = \"4.5\", features = [\"derive\"] }\n",
    );
    app.write("Cargo.toml", &manifest);
    app.write("src/main.rs", SUBCOMMAND_MAIN);

    let added = app.ok(&[
        "run",
        "--bin",
        "migrate",
        "--",
        "new",
        "Create users table",
        "--sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL)",
    ]);
    assert!(added.contains("Added migration 1"), "{added}");
    assert!(
        added.contains("cargo run --bin migrate -- apply"),
        "the hint runs this binary: {added}"
    );
    let refused = migrate_in(app.path(), &init);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "the user's migrations.rs is never overwritten"
    );
    assert!(
        text(&refused).contains("migrations.rs: already exists"),
        "{}",
        text(&refused)
    );

    app.ok(&["build", "--bins"]);
    let version = ok(&app.run("migrate", &["--version"]));
    assert!(
        version.contains("migrate 0.3.1 (application myapp; versioned-migrations ")
            && version.contains("backends: SQLite"),
        "{version}"
    );
    let applied = ok(&app.run("migrate", &["apply", "--database-url", "app.db"]));
    assert!(
        applied.contains("1 applied, 0 already applied, 1 total"),
        "{applied}"
    );

    // The same list through `myapp migrate`, global options before or after.
    let status = ok(&app.run("myapp", &["migrate", "--database-url", "app.db", "status"]));
    assert!(
        status.contains("applied      1  Create users table"),
        "{status}"
    );
    let version = ok(&app.run("myapp", &["migrate", "version", "--database-url", "app.db"]));
    assert_eq!(version, "1\n");
    let refused = app.run(
        "myapp",
        &["migrate", "baseline", "1", "--database-url", "app.db"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("`myapp migrate history`"),
        "advice names this command: {}",
        text(&refused)
    );

    // Another entry: rebuilt, only it is applied.
    ok(&app.run(
        "migrate",
        &[
            "new",
            "Add a bio",
            "--sql",
            "ALTER TABLE users ADD COLUMN bio TEXT",
            "--down",
            "ALTER TABLE users DROP COLUMN bio",
        ],
    ));
    app.ok(&["build", "--bins"]);
    let second = ok(&app.run("myapp", &["migrate", "apply", "--database-url", "app.db"]));
    assert!(
        second.contains("1 applied, 1 already applied, 2 total"),
        "{second}"
    );

    // A Rust step beside SQL, written by hand the way the README shows.
    let listed = app
        .read("migrations.rs")
        .replace(
            "use versioned_migrations::Migration;",
            "use versioned_migrations::{Code, CodeError, Db, Migration, Value};",
        )
        .replace("\n];\n", &format!("\n{LOWER_ENTRY}];\n{LOWER_FN}"));
    app.write("migrations.rs", &listed);
    app.ok(&["build", "--bins"]);
    let preview = ok(&app.run(
        "migrate",
        &["apply", "--dry-run", "--database-url", "app.db"],
    ));
    assert!(
        preview.contains("code step lower_emails (revision 1)"),
        "{preview}"
    );
    let shown = ok(&app.run("migrate", &["show", "3"]));
    assert!(shown.contains("lower_emails (revision 1)"), "{shown}");
    let third = ok(&app.run("migrate", &["apply", "--database-url", "app.db"]));
    assert!(
        third.contains("1 applied, 2 already applied, 3 total"),
        "{third}"
    );
    let history = ok(&app.run("migrate", &["history", "--database-url", "app.db"]));
    assert!(
        history.contains("+ code lower_emails (revision 1)"),
        "{history}"
    );

    for db in server_databases() {
        let applied = ok(&app.run("migrate", &["apply", "--database-url", &db.url]));
        assert!(
            applied.contains("3 applied, 0 already applied, 3 total"),
            "{:?}: {applied}",
            db.backend
        );
        assert_eq!(
            db.tracked("schema_migrations"),
            [(1, true), (2, true), (3, true)]
        );
    }
}

const LOWER_ENTRY: &str = r#"    Migration {
        version: 3,
        description: "Lower-case e-mails",
        sql: &["ALTER TABLE users ADD COLUMN email_lower VARCHAR(200)"],
        code: Some(Code { name: "lower_emails", revision: 1, up: lower_emails, down: None }),
        ..Migration::DEFAULT
    },
"#;

const LOWER_FN: &str = r#"
fn lower_emails(db: &mut Db) -> Result<(), CodeError> {
    for row in db.query("SELECT id, email FROM users")? {
        let (Some(id), Some(email)) = (&row[0], &row[1]) else { continue };
        let sql = format!("UPDATE users SET email_lower = {} WHERE id = {}", db.placeholder(1), db.placeholder(2));
        db.execute_with(&sql, &[Value::from(email.to_lowercase()), Value::from(id.parse::<i64>()?)])?;
    }
    Ok(())
}
"#;

const LIBRARY_MAIN: &str = r#"
mod migrations {
    include!("../migrations.rs");
}

use std::process::ExitCode;

use versioned_migrations::{Access, AnyConnection, ApplyReport, DatabaseUrl, Error, Migrator};

// The same compile-time check the `migrate` binary applies.
const _: () = versioned_migrations::validate(migrations::MIGRATIONS);

fn migrate() -> Result<ApplyReport, Error> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| String::from("app.db"));
    let mut conn = AnyConnection::connect(&DatabaseUrl::parse(&url)?, Access::ReadWrite)?;
    Migrator::new(migrations::MIGRATIONS).apply(&mut conn)
}

fn main() -> ExitCode {
    match migrate() {
        Ok(report) => eprintln!("database at version {} ({} applied now)", report.version, report.applied.len()),
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    }
    // ... serve
    ExitCode::SUCCESS
}
"#;

const LIBRARY_MIGRATIONS: &str = r#"
use versioned_migrations::Migration;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "Create users table",
        sql: &["CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL)"],
        ..Migration::DEFAULT
    },
];
"#;

/// Way 1: migrating at start-up with the library alone; none of the
/// command line's code or crates is built into the application.
#[test]
fn a_library_only_application_migrates_at_start_up() {
    let app = Project::new("startup");
    let features: Vec<String> = backend_features()
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect();
    let manifest = app.read("Cargo.toml").replace(
        "[dependencies]\n",
        &format!(
            "[dependencies]\nversioned-migrations = {{ path = {:?}, default-features = false, features = [{}] }}\n",
            env!("CARGO_MANIFEST_DIR"),
            features.join(", ")
        ),
    );
    app.write("Cargo.toml", &manifest);
    app.write("migrations.rs", LIBRARY_MIGRATIONS);
    app.write("src/main.rs", LIBRARY_MAIN);
    let tree = app.ok(&["tree", "-e", "normal", "--prefix", "none"]);
    for crate_name in [
        "clap ",
        "anstream ",
        "anstyle ",
        "indicatif ",
        "dotenvy ",
        "toml ",
        "toml_edit ",
        "ctrlc ",
        "clap_complete ",
        "clap_mangen ",
    ] {
        assert!(
            !tree.contains(crate_name),
            "{crate_name}in a library-only build:\n{tree}"
        );
    }
    eprintln!(
        "cargo tree of the library-only application: {} lines",
        tree.lines().count()
    );
    app.ok(&["build"]);
    let started = app.run("startup", &[]);
    assert!(started.status.success(), "{}", text(&started));
    assert!(
        text(&started).contains("database at version 1 (1 applied now)"),
        "{}",
        text(&started)
    );
    let again = app.run("startup", &[]);
    assert!(
        text(&again).contains("database at version 1 (0 applied now)"),
        "{}",
        text(&again)
    );

    let broken = std::process::Command::new(app.binary("startup"))
        .current_dir(app.path())
        .env("DATABASE_URL", "oracle://nowhere/db")
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    let message = text(&broken);
    assert!(
        message.starts_with("cannot start: unsupported database URL scheme `oracle`"),
        "a sentence, not Debug: {message}"
    );

    for db in server_databases() {
        let started = std::process::Command::new(app.binary("startup"))
            .current_dir(app.path())
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert!(
            text(&started).contains("database at version 1 (1 applied now)"),
            "{:?}: {}",
            db.backend,
            text(&started)
        );
    }
}
