//! Fresh Cargo projects that depend on this checkout: an application as a
//! user would write it. They build offline, with this checkout's Cargo.lock,
//! in one target directory shared by all of them (`target/apps`, so the
//! dependencies are built once per checkout, then incrementally). Not this
//! package's own target directory: an application's `migrate` binary would
//! land on top of ours there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
}

/// The applications' target directory, beside this package's.
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_migrate"))
        .parent()
        .and_then(Path::parent)
        .expect("the target directory")
        .join("apps")
}

/// The backend features these tests were built with.
pub fn backend_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "postgres") {
        features.push("postgres");
    }
    if cfg!(feature = "mysql") {
        features.push("mysql");
    }
    features
}

impl Project {
    /// `cargo new NAME` (a binary package), with this package's profiles and lock file.
    pub fn new(name: &str) -> Project {
        let dir = tempfile::tempdir().expect("project dir");
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(checkout.join("Cargo.toml")).unwrap()).unwrap();
        let mut profiles = toml::Table::new();
        if let Some(profile) = manifest.get("profile") {
            profiles.insert("profile".into(), profile.clone());
        }
        let text = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.3.1\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n\n[workspace]\n\n{}",
            toml::to_string(&profiles).unwrap()
        );
        std::fs::write(dir.path().join("Cargo.toml"), text).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::copy(checkout.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        Project {
            dir,
            name: name.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    /// Runs cargo in the project, offline, in the shared target directory.
    pub fn cargo(&self, args: &[&str]) -> Output {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let started = std::time::Instant::now();
        let output = Command::new(cargo)
            .args(args)
            .env("CARGO_NET_OFFLINE", "true")
            .current_dir(self.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .expect("run cargo");
        // Not an assertion: printed so the test's cost in CI shows.
        eprintln!(
            "cargo {} in {}: {:?}",
            args.join(" "),
            self.name,
            started.elapsed()
        );
        output
    }

    /// `cargo` that must succeed; its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.cargo(args);
        assert!(
            output.status.success(),
            "cargo {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A built binary of the project.
    pub fn binary(&self, name: &str) -> PathBuf {
        target_dir()
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// Runs a built binary of the project in its directory.
    pub fn run(&self, binary: &str, args: &[&str]) -> Output {
        Command::new(self.binary(binary))
            .args(args)
            .current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .expect("run the project's binary")
    }
}
