//! `migrate init`: sets up a Cargo project to own its migrations: its
//! `migrations.rs`, its own `migrate` command (`src/bin/migrate.rs`) and the
//! dependency on this library in its `Cargo.toml`, formatting and comments
//! kept. Everything is checked before anything is written, and nothing is
//! ever overwritten.

use std::path::{Path, PathBuf};

use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

use super::AuthoringError;

/// Where the dependency on this library points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencySource {
    /// A path to this library's source (the default: the source the running
    /// binary was built from).
    Path(PathBuf),
    /// A git repository.
    Git(String),
    /// A published version.
    Version(String),
}

impl DependencySource {
    /// The source the running binary was built from.
    pub fn this_source() -> DependencySource {
        DependencySource::Path(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
    }
}

/// What `init` writes.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The Cargo project's directory.
    pub dir: PathBuf,
    /// Backends to build in besides SQLite: `postgres`, `mysql`.
    pub backends: Vec<String>,
    /// The dependency's source.
    pub source: DependencySource,
}

/// One file `init` looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFile {
    /// The file.
    pub path: PathBuf,
    /// `true` when it was written, `false` when it already had exactly this
    /// content (or, for `Cargo.toml`, the dependency already).
    pub written: bool,
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// `migrations.rs`, `src/bin/migrate.rs`, `Cargo.toml`.
    pub files: Vec<InitFile>,
    /// The project's package name.
    pub package: String,
}

const MIGRATIONS_RS: &str = r#"// This application's migrations, compiled into its binaries.
//
// Add one: append an entry with the next version (or run
// `cargo run --bin migrate -- new "What it does" --sql "..."`), then
// `cargo run --bin migrate -- apply`. Never edit an entry that has been
// applied anywhere: add a new one instead.

use versioned_migrations::Migration;

pub const MIGRATIONS: &[Migration] = &[
    // Migration {
    //     version: 1,
    //     description: "Create users table",
    //     sql: &["CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)"],
    //     down: &["DROP TABLE users"],
    //     ..Migration::DEFAULT
    // },
];
"#;

const MIGRATE_RS: &str = r#"//! This application's own `migrate` command (written by `migrate init`).
include!("../../migrations.rs");
const _: () = versioned_migrations::validate(MIGRATIONS);
fn main() -> std::process::ExitCode { versioned_migrations::cli::main_with(versioned_migrations::app!(), MIGRATIONS) }
"#;

fn io<'p>(action: &'static str, path: &'p Path) -> impl Fn(std::io::Error) -> AuthoringError + 'p {
    move |source| AuthoringError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn refuse(path: &Path, reason: impl Into<String>) -> AuthoringError {
    AuthoringError::Init {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A file to create, unless it already holds exactly `text`; any other
/// content is the user's and stops `init`.
fn plan_file(path: PathBuf, text: &str) -> Result<Option<(PathBuf, String)>, AuthoringError> {
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == text => Ok(None),
        Ok(_) => Err(refuse(
            &path,
            "already exists, and init never overwrites a file; remove or rename it to start over",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some((path, text.to_string()))),
        Err(e) => Err(io("read", &path)(e)),
    }
}

/// The manifest with the dependency added, or `None` when it is there.
fn plan_manifest(
    options: &InitOptions,
    path: &Path,
    text: &str,
) -> Result<(String, Option<String>), AuthoringError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        refuse(path, format!("is not valid TOML: {}", e.message()))
    })?;
    let package = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    let Some(package) = package else {
        let reason = match doc.get("workspace").is_some() {
            true => "is a workspace root without a package: run init in the directory of the member that migrates",
            false => "has no [package] name: init needs a Cargo package (cargo new NAME)",
        };
        return Err(refuse(path, reason));
    };
    if let Some(bins) = doc.get("bin").and_then(Item::as_array_of_tables) {
        let taken = bins.iter().any(|bin| {
            bin.get("name").and_then(|n| n.as_str()) == Some("migrate")
                && bin.get("path").and_then(|p| p.as_str()) != Some("src/bin/migrate.rs")
        });
        if taken {
            return Err(refuse(
                path,
                "already declares a binary named migrate with another path",
            ));
        }
    }
    let dependencies = doc
        .entry("dependencies")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| refuse(path, "has a `dependencies` entry that is not a table"))?;
    if dependencies.contains_key("versioned-migrations") {
        return Ok((package, None));
    }
    let mut spec = InlineTable::new();
    match &options.source {
        DependencySource::Path(dir) => spec.insert("path", dir.display().to_string().into()),
        DependencySource::Git(url) => spec.insert("git", url.as_str().into()),
        DependencySource::Version(version) => spec.insert("version", version.as_str().into()),
    };
    if !options.backends.is_empty() {
        let features: Array = options.backends.iter().map(String::as_str).collect();
        spec.insert("features", features.into());
    }
    dependencies.insert("versioned-migrations", value(spec));
    Ok((package, Some(doc.to_string())))
}

/// Sets the project up. Every check comes first; then the files are
/// written beside their place and renamed into it, so a failure leaves
/// nothing half-written.
pub fn init(options: &InitOptions) -> Result<InitReport, AuthoringError> {
    for backend in &options.backends {
        if !matches!(backend.as_str(), "postgres" | "mysql") {
            return Err(refuse(
                &options.dir,
                format!("`{backend}` is not a backend to add: use postgres or mysql (SQLite is always built in)"),
            ));
        }
    }
    let manifest = options.dir.join("Cargo.toml");
    let text = match std::fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(
                &options.dir,
                "is not a Cargo project (no Cargo.toml); create one with `cargo new NAME`",
            ))
        }
        Err(e) => return Err(io("read", &manifest)(e)),
    };
    let (package, new_manifest) = plan_manifest(options, &manifest, &text)?;
    let migrations = options.dir.join("migrations.rs");
    let binary = options.dir.join("src").join("bin").join("migrate.rs");
    let mut writes: Vec<(PathBuf, String)> = Vec::new();
    writes.extend(plan_file(migrations.clone(), MIGRATIONS_RS)?);
    writes.extend(plan_file(binary.clone(), MIGRATE_RS)?);
    writes.extend(new_manifest.map(|text| (manifest.clone(), text)));
    write_all(&writes)?;
    let written = |path: &Path| writes.iter().any(|(p, _)| p == path);
    Ok(InitReport {
        files: [migrations, binary, manifest]
            .into_iter()
            .map(|path| InitFile {
                written: written(&path),
                path,
            })
            .collect(),
        package,
    })
}

/// Writes every file under a temporary name first; only when all are
/// written are they renamed into place.
fn write_all(writes: &[(PathBuf, String)]) -> Result<(), AuthoringError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (temporary, _) in staged {
            let _ = std::fs::remove_file(temporary);
        }
    };
    for (path, text) in writes {
        let temporary = path.with_extension("init-tmp");
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&temporary, text));
        if let Err(e) = written {
            cleanup(&staged);
            return Err(io("write", path)(e));
        }
        staged.push((temporary, path.clone()));
    }
    for (temporary, path) in &staged {
        std::fs::rename(temporary, path).map_err(io("write", path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> InitOptions {
        InitOptions {
            dir: dir.to_path_buf(),
            backends: vec![String::from("postgres")],
            source: DependencySource::Version(String::from("0.1")),
        }
    }

    fn project(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        dir
    }

    #[test]
    fn writes_the_three_files_keeping_the_manifests_formatting() {
        let manifest = "[package]\nname = \"myapp\" # my app\nversion = \"0.1.0\"\n\n[dependencies]\n# keep me\nserde = \"1\"\n";
        let dir = project(manifest);
        let report = init(&options(dir.path())).unwrap();
        assert_eq!(report.package, "myapp");
        assert!(report.files.iter().all(|f| f.written));
        let after = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
        assert!(
            after.starts_with("[package]\nname = \"myapp\" # my app\n"),
            "{after}"
        );
        assert!(after.contains("# keep me\nserde = \"1\"\n"), "{after}");
        assert!(
            after.contains(
                "versioned-migrations = { version = \"0.1\", features = [\"postgres\"] }"
            ),
            "{after}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("migrations.rs")).unwrap(),
            MIGRATIONS_RS
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/bin/migrate.rs")).unwrap(),
            MIGRATE_RS
        );
        let again = init(&options(dir.path())).unwrap();
        assert!(again.files.iter().all(|f| !f.written), "idempotent");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap(),
            after
        );
    }

    #[test]
    fn never_overwrites_and_writes_nothing_when_refusing() {
        let dir = project("[package]\nname = \"myapp\"\nversion = \"0.1.0\"\n");
        std::fs::write(dir.path().join("migrations.rs"), "// mine\n").unwrap();
        let err = init(&options(dir.path())).unwrap_err().to_string();
        assert!(err.contains("migrations.rs: already exists"), "{err}");
        assert!(
            !dir.path().join("src/bin/migrate.rs").exists(),
            "nothing half-written"
        );
        assert!(!std::fs::read_to_string(dir.path().join("Cargo.toml"))
            .unwrap()
            .contains("versioned"));
    }

    #[test]
    fn refuses_what_is_not_a_package() {
        let empty = tempfile::tempdir().unwrap();
        assert!(init(&options(empty.path()))
            .unwrap_err()
            .to_string()
            .contains("is not a Cargo project"));
        let workspace = project("[workspace]\nmembers = [\"app\"]\n");
        assert!(init(&options(workspace.path()))
            .unwrap_err()
            .to_string()
            .contains("workspace root without a package"));
        let broken = project("[package\nname = ");
        assert!(init(&options(broken.path()))
            .unwrap_err()
            .to_string()
            .contains("is not valid TOML"));
        let dir = project("[package]\nname = \"a\"\n");
        let mut bad = options(dir.path());
        bad.backends = vec![String::from("oracle")];
        assert!(init(&bad)
            .unwrap_err()
            .to_string()
            .contains("`oracle` is not a backend"));
    }
}
