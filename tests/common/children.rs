//! Child processes for the concurrency tests: the test binary runs itself
//! with one test selected (`child_process_entry`) and the database, list
//! and command in the environment. The child prints a line when each
//! migration starts (`vm-started N`), so the parent can race it, and
//! `vm-applied N` / `vm-error …` at the end.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use versioned_migrations::{Migration, Migrator, Observer, StepInfo};

use super::{Backend, TestDb};

/// The lists a test file's children can run, by name.
pub type Lists = fn(&str, Backend) -> &'static [Migration];

/// Prints a marker when a migration starts.
struct Announce;

impl Observer for Announce {
    fn migration_started(&mut self, step: &StepInfo<'_>) {
        println!("vm-started {}", step.version);
        let _ = std::io::stdout().flush();
    }
}

/// The body of a file's `child_process_entry` test. In a child it applies
/// the named list and exits; in a normal run it checks that every named
/// list is a valid `MIGRATIONS` list (so the entry is a real test there too).
pub fn entry(lists: Lists, names: &[&str]) {
    let (Ok(url), Ok(list), Ok(backend)) = (
        std::env::var("VM_CHILD_URL"),
        std::env::var("VM_CHILD_LIST"),
        std::env::var("VM_CHILD_BACKEND"),
    ) else {
        for name in names {
            for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
                let list = lists(name, backend);
                assert_eq!(
                    versioned_migrations::find_invalid(list),
                    None,
                    "{name} on {backend:?}"
                );
                assert!(!list.is_empty(), "{name}");
            }
        }
        return;
    };
    let backend = Backend::from_name(&backend);
    let migrator = Migrator::new(lists(&list, backend)).with_lock_timeout(Duration::from_secs(120));
    let result = super::connect_url(&url)
        .and_then(|mut conn| migrator.apply_with(&mut conn, Default::default(), &mut Announce));
    match result {
        Ok(report) => {
            println!("vm-applied {}", report.applied.len());
            std::process::exit(0)
        }
        Err(e) => {
            println!("vm-error {e}");
            std::process::exit(1)
        }
    }
}

/// Starts a child applying `list` to `db`.
pub fn spawn(db: &TestDb, list: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VM_CHILD_URL", &db.url)
        .env("VM_CHILD_LIST", list)
        .env("VM_CHILD_BACKEND", db.backend.name())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

/// Reads the child's output in the background; returns once `marker`
/// appeared (within a minute). Join the handle for the whole output.
pub fn wait_for(child: &mut Child, marker: &str) -> std::thread::JoinHandle<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = mpsc::channel();
    let marker = marker.to_string();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut signalled = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if !signalled && line.contains(&marker) {
                signalled = true;
                let _ = sender.send(());
            }
        }
        seen
    });
    receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the child reached the marker");
    reader
}

/// Waits for the child; its whole output, which must report success.
#[track_caller]
pub fn exit_ok(mut child: Child, output: std::thread::JoinHandle<String>) -> String {
    let status = child.wait().expect("child");
    let text = output.join().expect("reader");
    assert!(status.success(), "child failed: {text}");
    text
}

/// How many migrations a finished child reported applying.
pub fn applied_count(text: &str) -> usize {
    text.lines()
        .find_map(|l| l.split_once("vm-applied ").map(|(_, n)| n))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no report: {text}"))
}
