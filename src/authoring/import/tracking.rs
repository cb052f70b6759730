//! What an imported statement does to migration bookkeeping: the previous
//! tool's (dropped, with a notice), the runner's own tracking table (the
//! import stops), or nothing (kept).
//!
//! The runner records each migration in its tracking table in the same
//! transaction as the migration's statements. A statement that creates,
//! alters, drops or writes a table of that name would break the recording
//! (`DROP TABLE IF EXISTS schema_migrations` is in real projects: it is the
//! default name of Rails, golang-migrate and dbmate too), so such a file
//! cannot be imported as it is under that table name.

use super::split::{lex, Kind, Token};

/// Tables other migration tools record applied versions in.
const OLD_TRACKING_TABLES: &[&str] = &[
    "schema_migrations",
    "migrations",
    "__diesel_schema_migrations",
    "_sqlx_migrations",
    "flyway_schema_history",
    "refinery_schema_history",
    "goose_db_version",
    "schema_version",
];

/// First words of statements that create, change or write a table.
const CHANGING: &[&str] = &[
    "CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "INSERT", "REPLACE", "UPSERT", "UPDATE",
    "DELETE", "MERGE", "COMMENT", "LOCK",
];

/// What to do with one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep,
    /// Bookkeeping of the previous tool or transaction control: dropped,
    /// with this reason in a notice.
    Drop(String),
    /// Creates, changes or writes a table named like the runner's tracking
    /// table: the import must stop.
    TouchesTrackingTable,
}

/// Judges `statement` for an import whose runner records migrations in
/// `ours` (possibly schema-qualified; its last part is compared, without
/// regard to case, since an unqualified name may resolve to it).
pub(crate) fn judge(statement: &str, ours: &str) -> Verdict {
    let (tokens, _) = lex(statement);
    let tokens: Vec<&Token> = tokens.iter().filter(|t| t.is_significant()).collect();
    let words: Vec<String> = tokens
        .iter()
        .take_while(|t| t.kind == Kind::Word)
        .map(|t| statement[t.start..t.end].to_ascii_uppercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if tokens.len() == words.len() && is_transaction_control(&words) {
        return Verdict::Drop(format!(
            "`{}` (migrate runs each migration in its own transaction)",
            words.join(" ")
        ));
    }
    let ours = ours.rsplit('.').next().unwrap_or(ours);
    let changing = words.first().is_some_and(|w| CHANGING.contains(w));
    if changing && names(statement, &tokens).any(|name| name.eq_ignore_ascii_case(ours)) {
        return Verdict::TouchesTrackingTable;
    }
    match written_table(statement, &tokens) {
        Some(table) if OLD_TRACKING_TABLES.contains(&table.to_ascii_lowercase().as_str()) => {
            Verdict::Drop(format!(
                "a write to {table}, the previous tool's tracking table"
            ))
        }
        _ => Verdict::Keep,
    }
}

/// The last part of every name (`a`, `s.a`, `"s"."a"`, `` `a` ``) in the
/// statement, unquoted. Strings, comments and dollar-quoted bodies are not
/// names.
fn names<'a>(statement: &'a str, tokens: &'a [&'a Token]) -> impl Iterator<Item = String> + 'a {
    tokens.iter().enumerate().filter_map(move |(i, t)| {
        let name = match t.kind {
            Kind::Word => statement[t.start..t.end].to_string(),
            Kind::QuotedIdent => unquote(&statement[t.start..t.end]),
            _ => return None,
        };
        // Only the last part of `a.b.c`.
        let followed_by_dot = tokens
            .get(i + 1)
            .is_some_and(|next| next.kind == Kind::Punct(b'.'));
        (!followed_by_dot).then_some(name)
    })
}

/// `BEGIN`, `COMMIT`, `START TRANSACTION`, `END`, … with nothing else.
fn is_transaction_control(words: &[&str]) -> bool {
    let optional_noise = |rest: &[&str]| matches!(rest, [] | ["TRANSACTION"] | ["WORK"] | ["TRAN"]);
    match words {
        ["BEGIN", "IMMEDIATE" | "DEFERRED" | "EXCLUSIVE", rest @ ..] => optional_noise(rest),
        ["BEGIN" | "COMMIT" | "END", rest @ ..] => optional_noise(rest),
        ["START", "TRANSACTION"] => true,
        _ => false,
    }
}

/// The table an `INSERT`, `REPLACE`, `UPDATE` or `DELETE` writes (its last
/// name part, unquoted), or `None` for other statements.
fn written_table(statement: &str, tokens: &[&Token]) -> Option<String> {
    let word = |i: usize| -> Option<String> {
        let t = tokens.get(i)?;
        (t.kind == Kind::Word).then(|| statement[t.start..t.end].to_ascii_uppercase())
    };
    let mut i = 0;
    match word(0)?.as_str() {
        "INSERT" | "REPLACE" | "UPSERT" => {
            i += 1;
            // INSERT OR IGNORE INTO (SQLite), INSERT IGNORE INTO (MySQL).
            while let Some(w) = word(i) {
                i += 1;
                if w == "INTO" {
                    break;
                }
                if !matches!(
                    w.as_str(),
                    "OR" | "IGNORE"
                        | "REPLACE"
                        | "ABORT"
                        | "FAIL"
                        | "ROLLBACK"
                        | "LOW_PRIORITY"
                        | "DELAYED"
                        | "HIGH_PRIORITY"
                ) {
                    return None;
                }
            }
        }
        "UPDATE" => {
            i += 1;
            while let Some(w) = word(i) {
                if !matches!(
                    w.as_str(),
                    "OR" | "IGNORE"
                        | "REPLACE"
                        | "ABORT"
                        | "FAIL"
                        | "ROLLBACK"
                        | "ONLY"
                        | "LOW_PRIORITY"
                ) {
                    break;
                }
                i += 1;
            }
        }
        "DELETE" => {
            i += 1;
            while let Some(w) = word(i) {
                i += 1;
                if w == "FROM" {
                    break;
                }
                if !matches!(w.as_str(), "LOW_PRIORITY" | "QUICK" | "IGNORE") {
                    return None;
                }
            }
            if word(i).as_deref() == Some("ONLY") {
                i += 1;
            }
        }
        _ => return None,
    }
    // name ( . name )*
    let mut last = None;
    loop {
        let t = tokens.get(i)?;
        let part = match t.kind {
            Kind::Word => statement[t.start..t.end].to_string(),
            Kind::QuotedIdent => unquote(&statement[t.start..t.end]),
            _ => return last,
        };
        last = Some(part);
        match tokens.get(i + 1) {
            Some(dot) if dot.kind == Kind::Punct(b'.') => i += 2,
            _ => return last,
        }
    }
}

/// `"a""b"` → `a"b`, `` `a` `` → `a`.
fn unquote(quoted: &str) -> String {
    let quote = &quoted[..1];
    let inner = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    inner.replace(&format!("{quote}{quote}"), quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "schema_migrations";

    #[test]
    fn previous_tools_bookkeeping_and_transaction_control_are_dropped() {
        let dropped: &[&str] = &[
            "INSERT OR IGNORE INTO \"__diesel_schema_migrations\" (version) VALUES ('1')",
            "INSERT IGNORE INTO `app`.`goose_db_version` VALUES (1)",
            "REPLACE INTO migrations VALUES (1)",
            "UPDATE flyway_schema_history SET success = 1",
            "UPDATE ONLY \"Refinery_Schema_History\" SET x = 1",
            "DELETE FROM _sqlx_migrations WHERE version = 3",
            "DELETE FROM \"schema_version\" WHERE 1 = 1",
            "BEGIN",
            "begin transaction",
            "BEGIN IMMEDIATE TRANSACTION",
            "START TRANSACTION",
            "COMMIT",
            "COMMIT WORK",
            "END",
        ];
        for statement in dropped {
            assert!(
                matches!(judge(statement, OURS), Verdict::Drop(_)),
                "{statement}"
            );
        }
        // Under another tracking table, `schema_migrations` is only the
        // previous tool's (Rails, golang-migrate, dbmate).
        for statement in [
            "INSERT INTO schema_migrations (version) VALUES ('20240101')",
            "insert into public.schema_migrations values (1) on conflict do nothing",
        ] {
            assert!(
                matches!(judge(statement, "app_migrations"), Verdict::Drop(_)),
                "{statement}"
            );
        }
    }

    #[test]
    fn statements_on_our_tracking_table_stop_the_import() {
        let touching: &[&str] = &[
            "DROP TABLE IF EXISTS schema_migrations",
            "drop table users, \"Schema_Migrations\" cascade",
            "CREATE TABLE schema_migrations (version BIGINT)",
            "ALTER TABLE public.schema_migrations ADD COLUMN x INT",
            "ALTER TABLE old RENAME TO schema_migrations",
            "RENAME TABLE `schema_migrations` TO old",
            "TRUNCATE schema_migrations",
            "CREATE INDEX i ON schema_migrations (version)",
            "INSERT INTO schema_migrations (version) VALUES ('1')",
            "UPDATE app.schema_migrations SET version = 2",
            "DELETE FROM schema_migrations",
        ];
        for statement in touching {
            assert_eq!(
                judge(statement, OURS),
                Verdict::TouchesTrackingTable,
                "{statement}"
            );
        }
        assert_eq!(
            judge("DROP TABLE app_migrations", "app.app_migrations"),
            Verdict::TouchesTrackingTable
        );
        // Another tool's table under our default name is fine under another.
        assert_eq!(
            judge("DROP TABLE IF EXISTS schema_migrations", "app_migrations"),
            Verdict::Keep
        );
    }

    #[test]
    fn other_statements_are_kept() {
        let kept: &[&str] = &[
            "INSERT INTO users (name) VALUES ('schema_migrations')",
            "INSERT INTO schema_migrations_archive VALUES (1)",
            "CREATE TABLE schema_migrations_old (version BIGINT)",
            "SELECT * FROM schema_migrations",
            "UPDATE users SET migrations = 1",
            "DELETE FROM users WHERE note = 'migrations'",
            "CREATE TABLE t (a TEXT) -- schema_migrations",
            "BEGIN ATOMIC",
            "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        ];
        for statement in kept {
            assert_eq!(judge(statement, OURS), Verdict::Keep, "{statement}");
        }
    }
}
