//! Limits for the migrations' own statements on a live database, and the
//! little reading of a statement they need (which tables it waits on, which
//! index a `CREATE INDEX CONCURRENTLY` builds).

use std::time::Duration;

/// Limits for the migrations' own statements (off unless given): so a
/// migration stuck behind a long transaction fails fast instead of queueing
/// every other query on that table behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Guardrails {
    /// How long one statement may wait for a table lock (PostgreSQL
    /// `lock_timeout`, MySQL/MariaDB `lock_wait_timeout`).
    pub ddl_lock_timeout: Option<Duration>,
    /// The longest one statement may run (PostgreSQL `statement_timeout`,
    /// MariaDB `max_statement_time`, MySQL `max_execution_time`, which
    /// MySQL applies to `SELECT` only).
    pub statement_timeout: Option<Duration>,
    /// How often a migration that failed on a lock timeout is retried, with
    /// growing pauses.
    pub retries: u32,
}

impl Guardrails {
    /// Limits how long one statement waits for a lock.
    pub fn ddl_lock_timeout(mut self, timeout: Duration) -> Self {
        self.ddl_lock_timeout = Some(timeout);
        self
    }

    /// Limits how long one statement runs.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Retries a migration that failed on a lock timeout up to `retries` times.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// These limits, each falling back to `other`'s where not given.
    pub(crate) fn or(self, other: Guardrails) -> Guardrails {
        Guardrails {
            ddl_lock_timeout: self.ddl_lock_timeout.or(other.ddl_lock_timeout),
            statement_timeout: self.statement_timeout.or(other.statement_timeout),
            retries: match self.retries {
                0 => other.retries,
                n => n,
            },
        }
    }

    /// The pause before retry number `attempt` (1-based): 1 s, 2 s, 4 s, …,
    /// at most 30 s.
    pub(crate) fn pause(attempt: u32) -> Duration {
        Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30))
    }
}

/// The words of a statement, upper-cased where they are keywords, with
/// quotes around identifiers removed.
fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(|c| c == '"' || c == '`').to_string())
        .collect()
}

fn is(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// The tables a statement takes locks on, as far as its words tell
/// (`ALTER TABLE t`, `CREATE INDEX … ON t`, `DROP TABLE t`, `UPDATE t`,
/// `INSERT INTO t`, `DELETE FROM t`, `TRUNCATE t`, `REFERENCES t`,
/// `LOCK TABLE t`): which sessions to name when it waited too long.
pub(crate) fn tables_named(sql: &str) -> Vec<String> {
    let words = words(sql);
    let skip = ["ONLY", "IF", "NOT", "EXISTS", "TABLE", "CONCURRENTLY"];
    let mut tables = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let takes_name = match word.to_ascii_uppercase().as_str() {
            "TABLE" => {
                i > 0
                    && ["ALTER", "DROP", "LOCK", "TRUNCATE"]
                        .iter()
                        .any(|k| is(&words[i - 1], k))
            }
            "ON" => words[..i].iter().any(|w| is(w, "INDEX")),
            "UPDATE" => i == 0,
            "INTO" | "FROM" | "REFERENCES" | "TRUNCATE" => true,
            _ => false,
        };
        if !takes_name {
            continue;
        }
        if let Some(name) = words[i + 1..]
            .iter()
            .find(|w| !skip.iter().any(|k| is(w, k)))
        {
            let name = name.to_string();
            if !tables.contains(&name)
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                tables.push(name);
            }
        }
    }
    tables
}

/// The index a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON …`
/// builds (`None` for other statements, or an unnamed index).
pub(crate) fn concurrent_index(sql: &str) -> Option<String> {
    let words = words(sql);
    let mut rest = words.iter().map(String::as_str);
    if !is(rest.next()?, "CREATE") {
        return None;
    }
    let mut word = rest.next()?;
    if is(word, "UNIQUE") {
        word = rest.next()?;
    }
    if !is(word, "INDEX") || !is(rest.next()?, "CONCURRENTLY") {
        return None;
    }
    let mut name = rest.next()?;
    if is(name, "IF") {
        rest.next()?;
        rest.next()?;
        name = rest.next()?;
    }
    match is(name, "ON") {
        true => None,
        false => Some(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_tables_a_statement_locks() {
        let cases: &[(&str, &[&str])] = &[
            ("ALTER TABLE users ADD COLUMN bio TEXT", &["users"]),
            (
                "ALTER TABLE ONLY \"public.users\" ALTER COLUMN x SET NOT NULL",
                &["public.users"],
            ),
            ("CREATE INDEX idx ON posts (published)", &["posts"]),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t (a)",
                &["t"],
            ),
            ("DROP TABLE IF EXISTS old", &["old"]),
            ("UPDATE users SET x = 1", &["users"]),
            ("INSERT INTO log SELECT * FROM users", &["log", "users"]),
            (
                "ALTER TABLE posts ADD FOREIGN KEY (u) REFERENCES users (id)",
                &["posts", "users"],
            ),
            ("TRUNCATE TABLE t", &["t"]),
        ];
        for (sql, tables) in cases {
            assert_eq!(tables_named(sql), *tables, "{sql}");
        }
    }

    #[test]
    fn finds_the_index_a_concurrent_build_makes() {
        assert_eq!(
            concurrent_index("CREATE INDEX CONCURRENTLY idx_a ON t (a)"),
            Some("idx_a".into())
        );
        assert_eq!(
            concurrent_index("create unique index concurrently if not exists \"i\" on t (a)"),
            Some("i".into())
        );
        assert_eq!(concurrent_index("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(concurrent_index("CREATE INDEX idx ON t (a)"), None);
    }

    #[test]
    fn pauses_grow_and_stop_growing() {
        let pauses: Vec<u64> = (1..=7).map(|n| Guardrails::pause(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
        let given = Guardrails::default().retries(3);
        assert_eq!(Guardrails::default().or(given).retries, 3);
    }
}
