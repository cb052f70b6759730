//! Many databases in one run: reading a targets file and running one job per
//! database with bounded parallelism. Each database gets its own connection,
//! lock and transactions, exactly as in a single run; a failure in one does
//! not stop the others unless asked to.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::database_url::DatabaseUrl;
use crate::error::{Error, Result};

/// One database of a fan-out run.
#[derive(Debug, Clone)]
pub struct Target {
    /// What output shows: the URL as written, before `${VAR}` expansion,
    /// with any literal password masked, so secrets never reach the output.
    pub label: String,
    pub url: DatabaseUrl,
    /// Values substituted from the environment; scrubbed from messages.
    secrets: Vec<String>,
}

impl Target {
    /// A target from a URL given on the command line.
    pub fn from_url(text: &str) -> Result<Self> {
        let url = DatabaseUrl::parse(text)?;
        Ok(Target {
            label: url.to_string(),
            url,
            secrets: Vec::new(),
        })
    }

    /// Removes the password and every expanded variable's value from `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = self.url.redact(text);
        for secret in self.secrets.iter().filter(|s| s.len() >= 3) {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }
}

/// Reads a targets file: one URL a line, blank lines and `#` comments
/// skipped, `${VAR}` replaced from the environment (an unset variable is an
/// error naming the line).
pub fn read_targets_file(path: &Path) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.display().to_string(),
        source,
    })?;
    parse_targets(&text, path, |name| std::env::var(name).ok())
}

/// The parser behind [`read_targets_file`], with the environment passed in.
pub fn parse_targets(
    text: &str,
    path: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at_line = |reason: String| Error::InvalidTargets {
            path: path.display().to_string(),
            line: index + 1,
            reason,
        };
        let (expanded, secrets) = expand(line, &env).map_err(at_line)?;
        let url = DatabaseUrl::parse(&expanded).map_err(|e| {
            let mut message = e.to_string();
            for secret in secrets.iter().filter(|s| s.len() >= 3) {
                message = message.replace(secret.as_str(), "***");
            }
            at_line(message)
        })?;
        // The template as written, a literal password masked.
        let label = crate::database_url::mask_unparsed(line);
        targets.push(Target {
            label,
            url,
            secrets,
        });
    }
    Ok(targets)
}

/// Replaces `${NAME}`; returns the text and the substituted values.
fn expand(
    line: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> std::result::Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(line.len());
    let mut secrets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(String::from("`${` without a closing `}`"));
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!("`${{{name}}}` is not a variable name"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        out.push_str(&value);
        secrets.push(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, secrets))
}

/// What happened on one database.
#[derive(Debug)]
pub struct Outcome<T> {
    /// Index into the targets.
    pub index: usize,
    pub elapsed: Duration,
    /// `None` when the run stopped (`--fail-fast`) before reaching it.
    pub result: Option<std::result::Result<T, String>>,
}

/// Runs `job` on every target, at most `parallel` at a time (each worker
/// holds one connection at a time, so connections and memory are bounded by
/// `parallel`, not by the number of targets). `on_done` is called on the
/// calling thread as each database finishes. Errors are rendered with the
/// target's secrets removed.
pub fn run_all<T: Send>(
    targets: &[Target],
    parallel: usize,
    fail_fast: bool,
    job: impl Fn(&Target) -> Result<T> + Sync,
    mut on_done: impl FnMut(&Target, &Outcome<T>),
) -> Vec<Outcome<T>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<Outcome<T>>();
    let mut outcomes: Vec<Outcome<T>> = Vec::with_capacity(targets.len());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, targets.len().max(1)) {
            let sender = sender.clone();
            let (next, stop, job) = (&next, &stop, &job);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(target) = targets.get(index) else {
                    break;
                };
                let started = Instant::now();
                let result = match stop.load(Ordering::SeqCst) {
                    true => None,
                    false => Some(job(target).map_err(|e| target.redact(&e.to_string()))),
                };
                if fail_fast && matches!(result, Some(Err(_))) {
                    stop.store(true, Ordering::SeqCst);
                }
                let outcome = Outcome {
                    index,
                    elapsed: started.elapsed(),
                    result,
                };
                if sender.send(outcome).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for outcome in receiver {
            on_done(&targets[outcome.index], &outcome);
            outcomes.push(outcome);
        }
    });
    outcomes.sort_by_key(|o| o.index);
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DB_PASS" => Some(String::from("s3cr3t!")),
            "HOST" => Some(String::from("db.internal")),
            _ => None,
        }
    }

    #[test]
    fn parses_comments_blanks_and_variables() {
        let text = "# tenants\n\n  sqlite://a.db  \npostgres://app:${DB_PASS}@${HOST}/t1\n";
        let targets = parse_targets(text, Path::new("t.txt"), env).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].label, "sqlite://a.db");
        assert_eq!(targets[1].label, "postgres://app:***@${HOST}/t1");
        assert_eq!(
            targets[1].url.as_driver_str(),
            "postgres://app:s3cr3t!@db.internal/t1"
        );
        assert_eq!(
            targets[1].redact("login s3cr3t! failed at db.internal"),
            "login *** failed at ***"
        );
        let literal =
            parse_targets("mysql://root:hunter2@127.0.0.1/db", Path::new("t"), env).unwrap();
        assert_eq!(literal[0].label, "mysql://root:***@127.0.0.1/db");
    }

    #[test]
    fn unset_or_bad_variables_name_the_line() {
        let err = parse_targets(
            "sqlite://a.db\nmysql://u:${NOPE}@h/db\n",
            Path::new("t"),
            env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("NOPE is not set"), "{err}");
        let err = parse_targets("mysql://u:${1X}@h/db", Path::new("t"), env).unwrap_err();
        assert!(err.to_string().contains("not a variable name"), "{err}");
        let err = parse_targets("mysql://u:${DB_PASS@h/db", Path::new("t"), env).unwrap_err();
        assert!(err.to_string().contains("closing"), "{err}");
    }

    #[test]
    fn runs_every_target_with_bounded_parallelism() {
        let targets: Vec<Target> = (0..20)
            .map(|i| Target::from_url(&format!("db{i}.db")).unwrap())
            .collect();
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let mut seen = 0;
        let outcomes = run_all(
            &targets,
            3,
            false,
            |t| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                match t.label.as_str() {
                    "db7.db" => Err(Error::InvalidBaseline {
                        version: 7,
                        reason: String::from("boom"),
                    }),
                    _ => Ok(t.label.len()),
                }
            },
            |_, _| seen += 1,
        );
        assert_eq!(seen, 20);
        assert_eq!(outcomes.len(), 20);
        assert!(outcomes.iter().enumerate().all(|(i, o)| o.index == i));
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| matches!(o.result, Some(Err(_))))
                .count(),
            1
        );
    }

    #[test]
    fn fail_fast_skips_the_rest() {
        let targets: Vec<Target> = (0..10)
            .map(|i| Target::from_url(&format!("db{i}.db")).unwrap())
            .collect();
        let outcomes = run_all(
            &targets,
            1,
            true,
            |t| match t.label.as_str() {
                "db2.db" => Err(Error::InvalidBaseline {
                    version: 2,
                    reason: String::from("boom"),
                }),
                _ => Ok(()),
            },
            |_, _| {},
        );
        assert!(outcomes[..2]
            .iter()
            .all(|o| matches!(o.result, Some(Ok(())))));
        assert!(matches!(outcomes[2].result, Some(Err(_))));
        assert!(
            outcomes[3..].iter().all(|o| o.result.is_none()),
            "skipped after the failure"
        );
    }
}
