//! The `Migration` struct users write in `migrations.rs`, its checksum, and the
//! compile-time validity check over the whole list.

use sha2::{Digest, Sha256};

use crate::lint_rule::Lint;

/// One schema migration, declared in code.
///
/// ```
/// use versioned_migrations::Migration;
///
/// pub const MIGRATIONS: &[Migration] = &[Migration {
///     version: 1,
///     description: "Create users table",
///     sql: &["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"],
///     ..Migration::DEFAULT
/// }];
/// versioned_migrations::validate(MIGRATIONS);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Positive, strictly increasing down the list.
    pub version: i64,
    /// What the migration does, shown in `status` and `history`.
    pub description: &'static str,
    /// Statements run in order. Each entry is sent to the database as written
    /// (never split), so it may hold several statements or a `$$` function body.
    pub sql: &'static [&'static str],
    /// Statements that undo `sql`; empty means the migration is irreversible.
    pub down: &'static [&'static str],
    /// Run `sql` and the tracking row in one transaction (where the database
    /// allows). Set to `false` for statements a database refuses inside a
    /// transaction, such as PostgreSQL's `CREATE INDEX CONCURRENTLY`; such a
    /// migration is recorded as dirty before it runs and marked done after.
    pub transaction: bool,
    /// Lint rules this migration breaks on purpose, reviewed like any other
    /// change: `migrate lint` stays silent about exactly these for it. Not
    /// part of the checksum, so allowing a rule on an applied migration is
    /// not an edit.
    pub allow: &'static [Lint],
}

impl Migration {
    /// Fills the fields a struct literal omits: `..Migration::DEFAULT`.
    pub const DEFAULT: Migration = Migration {
        version: 0,
        description: "",
        sql: &[],
        down: &[],
        transaction: true,
        allow: &[],
    };

    /// Whether `rollback` can undo this migration.
    pub fn is_reversible(&self) -> bool {
        !self.down.is_empty()
    }

    /// The checksum recorded when the migration is applied, used to detect a
    /// migration edited after it ran. See [`checksum`].
    pub fn checksum(&self) -> String {
        checksum(self.sql)
    }
}

/// SHA-256 (lower-case hex) of the statements, normalised so that line endings
/// (CRLF vs LF) and trailing whitespace do not count as edits.
///
/// The algorithm is part of the tracking-table format and must never change:
/// for each statement, every line has its trailing whitespace (including `\r`)
/// removed, lines are joined with `\n`, trailing empty lines are dropped, and
/// the result is fed to the hash followed by one NUL byte.
pub fn checksum(statements: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for statement in statements {
        // Streams the normalised text without allocating: line breaks are
        // held back until a non-empty line follows, so trailing ones vanish.
        let mut held_breaks = 0usize;
        for (i, line) in statement.split('\n').enumerate() {
            let line = line.trim_end();
            if i > 0 {
                held_breaks += 1;
            }
            if !line.is_empty() {
                for _ in 0..held_breaks {
                    hasher.update(b"\n");
                }
                held_breaks = 0;
                hasher.update(line.as_bytes());
            }
        }
        hasher.update([0u8]);
    }
    hex(&hasher.finalize())
}

/// MD5 (hex) of the `version:checksum` pairs, comma-joined in order: what
/// [`crate::Dialect::fingerprint_query`] computes on the server over the
/// tracking table, so "everything applied, nothing edited" can be checked
/// without reading the rows. See [`crate::Migrator::fingerprint`].
pub(crate) fn fingerprint(migrations: &[Migration], checksums: &[String]) -> String {
    use md5::{Digest as _, Md5};
    let mut hasher = Md5::new();
    for (i, (m, checksum)) in migrations.iter().zip(checksums).enumerate() {
        if i > 0 {
            hasher.update(b",");
        }
        hasher.update(m.version.to_string().as_bytes());
        hasher.update(b":");
        hasher.update(checksum.as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    // By table: `format!` per byte was most of the start-up check's CPU.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

/// Checks the rules of a `MIGRATIONS` list and panics with a message naming the
/// offending version. Being a `const fn`, it turns a bad list into a build
/// error when evaluated in a constant, as the `migrate` binary does:
///
/// ```compile_fail
/// use versioned_migrations::Migration;
/// const MIGRATIONS: &[Migration] = &[
///     Migration { version: 2, description: "b", sql: &["SELECT 1"], ..Migration::DEFAULT },
///     Migration { version: 2, description: "c", sql: &["SELECT 1"], ..Migration::DEFAULT },
/// ];
/// const _: () = versioned_migrations::validate(MIGRATIONS);
/// ```
pub const fn validate(migrations: &[Migration]) {
    if let Some(problem) = find_invalid(migrations) {
        let message = problem.message();
        panic!("{}", message.as_str());
    }
}

/// The first rule a list breaks, if any.
pub const fn find_invalid(migrations: &[Migration]) -> Option<InvalidMigration> {
    let mut i = 0;
    while i < migrations.len() {
        let m = &migrations[i];
        let rule = if m.version <= 0 {
            Some(Rule::NotPositive)
        } else if i > 0 && m.version == migrations[i - 1].version {
            Some(Rule::Duplicate)
        } else if i > 0 && m.version < migrations[i - 1].version {
            Some(Rule::OutOfOrder)
        } else if m.description.is_empty() {
            Some(Rule::EmptyDescription)
        } else if m.sql.is_empty() {
            Some(Rule::EmptySql)
        } else {
            None
        };
        if let Some(rule) = rule {
            let previous = if i > 0 { migrations[i - 1].version } else { 0 };
            return Some(InvalidMigration {
                version: m.version,
                previous,
                rule,
            });
        }
        i += 1;
    }
    None
}

/// A broken rule of the `MIGRATIONS` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidMigration {
    pub version: i64,
    /// The version of the entry before it (0 for the first entry).
    pub previous: i64,
    pub rule: Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    NotPositive,
    Duplicate,
    OutOfOrder,
    EmptyDescription,
    EmptySql,
}

impl InvalidMigration {
    /// A message usable in `const` context (no allocation).
    pub const fn message(&self) -> ConstMessage {
        let mut msg = ConstMessage::new();
        msg.push("invalid MIGRATIONS: migration ");
        msg.push_i64(self.version);
        match self.rule {
            Rule::NotPositive => msg.push(": version must be greater than 0"),
            Rule::Duplicate => {
                msg.push(": version appears twice; give each migration its own version")
            }
            Rule::OutOfOrder => {
                msg.push(": versions must increase down the list, but it follows version ");
                msg.push_i64(self.previous);
            }
            Rule::EmptyDescription => msg.push(": description is empty"),
            Rule::EmptySql => msg.push(": sql has no statements"),
        }
        msg
    }
}

impl std::fmt::Display for InvalidMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message().as_str())
    }
}

/// A small fixed buffer for building text in `const fn`.
#[derive(Debug, Clone, Copy)]
pub struct ConstMessage {
    buf: [u8; 160],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            buf: [0; 160],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn push_i64(&mut self, value: i64) {
        if value < 0 {
            self.push("-");
        }
        let mut digits = [0u8; 20];
        let mut n = value.unsigned_abs();
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
    }

    pub const fn as_str(&self) -> &str {
        let (used, _) = self.buf.split_at(self.len);
        match std::str::from_utf8(used) {
            Ok(text) => text,
            // Only ASCII and whole UTF-8 literals are pushed; a literal cut at
            // the buffer's end is the one way to get here.
            Err(_) => "invalid MIGRATIONS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn m(version: i64, description: &'static str, sql: &'static [&'static str]) -> Migration {
        Migration {
            version,
            description,
            sql,
            ..Migration::DEFAULT
        }
    }

    #[test]
    fn checksum_is_pinned() {
        // Golden value: changing the algorithm would flag every applied
        // migration in every database as edited.
        assert_eq!(
            checksum(&["CREATE TABLE users (id INTEGER PRIMARY KEY)"]),
            "b20d15866d4dde954b2f51f177c2709f94d892c4e3c5b4d7c5bb62d6b0986bc6"
        );
    }

    #[test]
    fn checksum_ignores_line_endings_and_trailing_whitespace() {
        let lf = checksum(&["CREATE TABLE t (\n  id INTEGER\n)", "SELECT 1"]);
        assert_eq!(
            lf,
            checksum(&[
                "CREATE TABLE t (\r\n  id INTEGER  \r\n)\r\n",
                "SELECT 1\n\n"
            ])
        );
        assert_eq!(
            lf,
            checksum(&["CREATE TABLE t (  \n  id INTEGER\t\n)   ", "SELECT 1"])
        );
    }

    /// The documented algorithm, written the obvious way.
    fn reference_checksum(statements: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for statement in statements {
            let joined = statement
                .split('\n')
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n");
            hasher.update(joined.trim_end_matches('\n').as_bytes());
            hasher.update([0u8]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn streaming_checksum_matches_the_documented_algorithm() {
        let cases: &[&[&str]] = &[
            &[],
            &[""],
            &["\n\n"],
            &["  \r\n \t\n"],
            &["\nleading"],
            &["a\n\n\nb\n\n"],
            &["a  \r\n  b\t\r\n\r\n", "", "c"],
            &["x\r", "\ry"],
            &["CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;  \n$$ LANGUAGE sql\n"],
        ];
        for case in cases {
            assert_eq!(checksum(case), reference_checksum(case), "{case:?}");
        }
    }

    #[test]
    fn checksum_sees_real_edits_and_statement_boundaries() {
        let base = checksum(&["CREATE TABLE t (id INTEGER)"]);
        assert_ne!(base, checksum(&["CREATE TABLE t (id BIGINT)"]));
        assert_ne!(base, checksum(&["CREATE  TABLE t (id INTEGER)"]));
        assert_ne!(
            checksum(&["SELECT 1", "SELECT 2"]),
            checksum(&["SELECT 1SELECT 2"])
        );
        assert_ne!(checksum(&["SELECT 1"]), checksum(&["SELECT 1", ""]));
    }

    #[test]
    fn valid_list_passes() {
        const OK: &[Migration] = &[m(1, "a", &["x"]), m(2, "b", &["y"]), m(10, "c", &["z"])];
        const _: () = validate(OK);
        assert_eq!(find_invalid(OK), None);
        assert_eq!(find_invalid(&[]), None);
    }

    #[test]
    fn each_rule_names_the_version() {
        let cases: &[(&[Migration], &str)] = &[
            (
                &[m(0, "a", &["x"])],
                "migration 0: version must be greater than 0",
            ),
            (
                &[m(-3, "a", &["x"])],
                "migration -3: version must be greater than 0",
            ),
            (
                &[m(1, "a", &["x"]), m(1, "b", &["y"])],
                "migration 1: version appears twice",
            ),
            (
                &[m(5, "a", &["x"]), m(3, "b", &["y"])],
                "migration 3: versions must increase down the list, but it follows version 5",
            ),
            (
                &[m(1, "a", &["x"]), m(2, "", &["y"])],
                "migration 2: description is empty",
            ),
            (&[m(7, "a", &[])], "migration 7: sql has no statements"),
        ];
        for (list, expected) in cases {
            let problem = find_invalid(list).expect("a broken rule");
            let message = problem.to_string();
            assert!(
                message.contains(expected),
                "{message:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn validate_panics_with_the_message() {
        let result = std::panic::catch_unwind(|| validate(&[m(4, "a", &["x"]), m(4, "b", &["y"])]));
        let payload = result.expect_err("must panic");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            text.contains("migration 4: version appears twice"),
            "{text}"
        );
    }

    #[test]
    fn extreme_versions_format() {
        let problem = find_invalid(&[m(i64::MIN, "a", &["x"])]).expect("invalid");
        assert!(problem.to_string().contains("-9223372036854775808"));
    }
}
