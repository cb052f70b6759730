//! Compiling a `migrations.rs` against this library the way an application
//! includes it (`mod migrations { include!(…); }` plus the const check).
//!
//! The library to link is built by Cargo itself, once per test process: a
//! small project with a path dependency on this checkout, with the features
//! these tests were built with, in the same target directory (so its
//! dependencies are the ones already built). Cargo's own report of that
//! build names the exact rlib; picking one from `target/debug/deps` by name
//! or age would take another build's (other features, another checkout
//! sharing the target directory).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The library's rlib and the directory of its dependencies.
pub struct Library {
    pub rlib: PathBuf,
    pub deps: PathBuf,
}

/// The library, built on first use.
pub fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(build)
}

/// `target/<profile>` and the profile's name, from where Cargo put `migrate`.
fn profile_dir() -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_BIN_EXE_migrate"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf();
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
    let profile = match name {
        "debug" => "dev",
        other => other,
    }
    .to_string();
    (dir, profile)
}

fn features() -> Vec<&'static str> {
    let mut features = vec!["cli"];
    if cfg!(feature = "postgres") {
        features.push("postgres");
    }
    if cfg!(feature = "mysql") {
        features.push("mysql");
    }
    features
}

fn build() -> Library {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (profile_dir, profile) = profile_dir();
    let target_dir = profile_dir.parent().expect("the target directory");
    let project = Path::new(env!("CARGO_TARGET_TMPDIR")).join("library-check");
    std::fs::create_dir_all(&project).expect("project directory");

    // The same profiles as this package, so the dependencies built for the
    // tests are reused as they are.
    let manifest: toml::Table = toml::from_str(
        &std::fs::read_to_string(checkout.join("Cargo.toml")).expect("read Cargo.toml"),
    )
    .expect("Cargo.toml is TOML");
    let mut profiles = toml::Table::new();
    if let Some(profile) = manifest.get("profile") {
        profiles.insert("profile".into(), profile.clone());
    }
    let features: Vec<String> = features().iter().map(|f| format!("{f:?}")).collect();
    let text = format!(
        "[package]\nname = \"library-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [lib]\npath = \"lib.rs\"\n\n\
         [dependencies]\nversioned-migrations = {{ path = {:?}, default-features = false, features = [{}] }}\n\n\
         [workspace]\n\n{}",
        checkout.display().to_string(),
        features.join(", "),
        toml::to_string(&profiles).expect("profiles as TOML"),
    );
    write_if_changed(&project.join("Cargo.toml"), &text);
    write_if_changed(&project.join("lib.rs"), "");
    // The versions this checkout is locked to; nothing is looked up.
    let lock = std::fs::read_to_string(checkout.join("Cargo.lock")).expect("read Cargo.lock");
    write_if_changed(&project.join("Cargo.lock"), &lock);

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--offline",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--profile", &profile])
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "building the library for the compile check failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rlib = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "versioned_migrations"
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "lib"))
        })
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .find(|path| path.extension().is_some_and(|e| e == "rlib"))
        .unwrap_or_else(|| panic!("cargo reported no rlib for versioned_migrations:\n{stdout}"));
    Library {
        deps: rlib.parent().expect("deps directory").to_path_buf(),
        rlib,
    }
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write the check project");
    }
}

/// Type-checks `migrations_rs` against the library, including the
/// compile-time validity check; the compiler's messages on failure.
pub fn compile(migrations_rs: &Path) -> Result<(), String> {
    let library = library();
    let dir = migrations_rs.parent().expect("a directory");
    let main = dir.join("check_main.rs");
    std::fs::write(
        &main,
        format!(
            "mod migrations {{ include!({:?}); }}\n\
             const _: () = versioned_migrations::validate(migrations::MIGRATIONS);\n\
             pub fn count() -> usize {{ migrations::MIGRATIONS.len() }}\n",
            migrations_rs.display().to_string()
        ),
    )
    .expect("write check_main.rs");
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit",
            "metadata",
        ])
        .args(["--crate-name", "check"])
        .arg("--extern")
        .arg(format!("versioned_migrations={}", library.rlib.display()))
        .arg("-L")
        .arg(format!("dependency={}", library.deps.display()))
        .arg("--out-dir")
        .arg(dir)
        .arg(&main)
        .output()
        .expect("run rustc");
    match output.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}
