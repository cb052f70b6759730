//! `lint`: for every rule the unsafe form is found and the safe form is
//! silent, on each backend the rule applies to; the context rules (tables
//! created in the same migration, `transaction`, `allow`, `since`); statements
//! no parser reads; the report's JSON and text. No database is involved.
#![cfg(feature = "lint")]

use versioned_migrations::lint::{lint, LintReport};
use versioned_migrations::{Dialect, Lint, Migration, Severity};

use Dialect::{Mysql, Postgres, Sqlite};

const ALL: &[Dialect] = &[Sqlite, Postgres, Mysql];

const fn m(version: i64, sql: &'static [&'static str]) -> Migration {
    Migration {
        version,
        description: "under test",
        sql,
        ..Migration::DEFAULT
    }
}

const fn no_tx(version: i64, sql: &'static [&'static str]) -> Migration {
    Migration {
        transaction: false,
        ..m(version, sql)
    }
}

/// The rules found, as (version, statement_index, rule).
fn found(backend: Dialect, migrations: &[Migration]) -> Vec<(i64, usize, Lint)> {
    let report = lint(migrations, backend, None);
    assert!(
        report.not_checked.is_empty(),
        "{backend:?}: a test statement was not read: {report}"
    );
    report
        .findings
        .iter()
        .map(|f| (f.version, f.statement_index, f.rule))
        .collect()
}

fn rules(backend: Dialect, migration: Migration) -> Vec<Lint> {
    found(backend, &[migration])
        .into_iter()
        .map(|(_, _, rule)| rule)
        .collect()
}

/// One rule's case: `unsafe_form` must yield exactly `rule` on each of
/// `backends`; `safe_form` must yield nothing there.
struct Case {
    rule: Lint,
    backends: &'static [Dialect],
    unsafe_form: Migration,
    safe_form: Migration,
}

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        for &backend in case.backends {
            let mut unsafe_rules = rules(backend, case.unsafe_form);
            unsafe_rules.dedup();
            if unsafe_rules != [case.rule] {
                failures.push(format!(
                    "{backend:?} {}: unsafe form {:?} gave {unsafe_rules:?}",
                    case.rule, case.unsafe_form.sql
                ));
            }
            let safe_rules = rules(backend, case.safe_form);
            if !safe_rules.is_empty() {
                failures.push(format!(
                    "{backend:?} {}: safe form {:?} gave {safe_rules:?}",
                    case.rule, case.safe_form.sql
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn postgres_index_rules() {
    check(&[
        Case {
            rule: Lint::IndexWithoutConcurrently,
            backends: &[Postgres],
            unsafe_form: m(2, &["CREATE INDEX users_email ON users (email)"]),
            safe_form: no_tx(
                2,
                &["CREATE INDEX CONCURRENTLY users_email ON users (email)"],
            ),
        },
        Case {
            rule: Lint::IndexWithoutConcurrently,
            backends: &[Postgres],
            unsafe_form: m(2, &["DROP INDEX users_email"]),
            safe_form: no_tx(2, &["DROP INDEX CONCURRENTLY users_email"]),
        },
        Case {
            rule: Lint::IndexWithoutConcurrently,
            backends: &[Postgres],
            unsafe_form: m(2, &["REINDEX INDEX users_email"]),
            safe_form: no_tx(2, &["REINDEX INDEX CONCURRENTLY users_email"]),
        },
        Case {
            rule: Lint::ConcurrentlyInTransaction,
            backends: &[Postgres],
            unsafe_form: m(
                2,
                &["CREATE INDEX CONCURRENTLY users_email ON users (email)"],
            ),
            safe_form: no_tx(
                2,
                &["CREATE INDEX CONCURRENTLY users_email ON users (email)"],
            ),
        },
        Case {
            rule: Lint::ConcurrentlyInTransaction,
            backends: &[Postgres],
            unsafe_form: m(2, &["DROP INDEX CONCURRENTLY users_email"]),
            safe_form: no_tx(2, &["DROP INDEX CONCURRENTLY users_email"]),
        },
        Case {
            rule: Lint::ConcurrentlyInTransaction,
            backends: &[Postgres],
            unsafe_form: m(
                2,
                &["ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY"],
            ),
            safe_form: m(2, &["REFRESH MATERIALIZED VIEW CONCURRENTLY user_stats"]),
        },
    ]);
}

#[test]
fn postgres_rules_are_silent_where_they_do_not_apply() {
    for backend in [Mysql, Sqlite] {
        for sql in [
            &["CREATE INDEX users_email ON users (email)"][..],
            &["DROP INDEX users_email"],
            &["ALTER TABLE users ADD COLUMN token TEXT DEFAULT 'x'"],
        ] {
            assert!(rules(backend, m(2, sql)).is_empty(), "{backend:?} {sql:?}");
        }
    }
    let type_change = m(2, &["ALTER TABLE users MODIFY COLUMN email VARCHAR(500)"]);
    assert_eq!(rules(Mysql, type_change), [Lint::TableRewrite]);
}

#[test]
fn concurrently_in_a_multi_statement_entry_runs_in_an_implicit_transaction() {
    let crowded = no_tx(
        2,
        &["CREATE INDEX CONCURRENTLY a ON users (email); CREATE INDEX CONCURRENTLY b ON users (name)"],
    );
    assert_eq!(
        found(Postgres, &[crowded]),
        [
            (2, 1, Lint::ConcurrentlyInTransaction),
            (2, 1, Lint::ConcurrentlyInTransaction)
        ]
    );
    let separate = no_tx(
        2,
        &[
            "CREATE INDEX CONCURRENTLY a ON users (email)",
            "CREATE INDEX CONCURRENTLY b ON users (name)",
        ],
    );
    assert!(found(Postgres, &[separate]).is_empty());
    let report = lint(&[crowded], Postgres, None);
    assert!(report.findings[0].message.contains("implicit transaction"));
}

#[test]
fn table_rewrite_rules() {
    check(&[
        Case {
            rule: Lint::TableRewrite,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ALTER COLUMN email TYPE varchar(500)"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN email_long varchar(500)"]),
        },
        Case {
            rule: Lint::TableRewrite,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now()"]),
        },
        Case {
            rule: Lint::TableRewrite,
            backends: &[Mysql],
            unsafe_form: m(2, &["ALTER TABLE users MODIFY COLUMN email VARCHAR(500) NOT NULL"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN email_long VARCHAR(500)"]),
        },
        Case {
            rule: Lint::TableRewrite,
            backends: &[Mysql],
            unsafe_form: m(2, &["ALTER TABLE users ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE"]),
            safe_form: m(2, &["ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x'"]),
        },
        Case {
            rule: Lint::TableRewrite,
            backends: &[Mysql],
            unsafe_form: m(2, &["ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id)"]),
            safe_form: m(2, &["CREATE INDEX posts_user ON posts (user_id)"]),
        },
        Case {
            rule: Lint::TableRewrite,
            backends: &[Mysql],
            unsafe_form: m(2, &["ALTER TABLE users ADD COLUMN note TEXT, ALGORITHM=COPY"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN note TEXT, ALGORITHM=INSTANT"]),
        },
    ]);
    // The same type change is no finding where the rule does not apply.
    assert!(rules(Sqlite, m(2, &["ALTER TABLE users ADD COLUMN n INT"])).is_empty());
}

#[test]
fn postgres_constraint_rules() {
    check(&[
        Case {
            rule: Lint::SetNotNull,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ALTER COLUMN email SET NOT NULL"]),
            safe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID"]),
        },
        Case {
            rule: Lint::ConstraintWithoutNotValid,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id)"]),
            safe_form: m(2, &["ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"]),
        },
        Case {
            rule: Lint::ConstraintWithoutNotValid,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_email_len CHECK (length(email) > 3)"]),
            safe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_email_len CHECK (length(email) > 3) NOT VALID"]),
        },
        Case {
            rule: Lint::ConstraintWithoutNotValid,
            backends: &[Postgres],
            unsafe_form: m(2, &[
                "ALTER TABLE posts ADD CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
                "ALTER TABLE posts VALIDATE CONSTRAINT posts_user",
            ]),
            safe_form: m(2, &["ALTER TABLE posts VALIDATE CONSTRAINT posts_user"]),
        },
        Case {
            rule: Lint::ConstraintBuildsIndex,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"]),
            safe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx"]),
        },
        Case {
            rule: Lint::ConstraintBuildsIndex,
            backends: &[Postgres],
            unsafe_form: m(2, &["ALTER TABLE users ADD PRIMARY KEY (id)"]),
            safe_form: m(2, &["ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_id_idx"]),
        },
    ]);
}

#[test]
fn rules_for_every_backend() {
    check(&[
        Case {
            rule: Lint::RequiredColumnWithoutDefault,
            backends: ALL,
            unsafe_form: m(2, &["ALTER TABLE users ADD COLUMN age INTEGER NOT NULL"]),
            safe_form: m(
                2,
                &["ALTER TABLE users ADD COLUMN age INTEGER NOT NULL DEFAULT 0"],
            ),
        },
        Case {
            rule: Lint::Rename,
            backends: ALL,
            unsafe_form: m(2, &["ALTER TABLE users RENAME COLUMN name TO full_name"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN full_name TEXT"]),
        },
        Case {
            rule: Lint::Rename,
            backends: ALL,
            unsafe_form: m(2, &["ALTER TABLE users RENAME TO people"]),
            safe_form: m(2, &["CREATE VIEW people AS SELECT * FROM users"]),
        },
        Case {
            rule: Lint::Drop,
            backends: ALL,
            unsafe_form: m(2, &["DROP TABLE users"]),
            safe_form: m(2, &["DROP VIEW user_names"]),
        },
        Case {
            rule: Lint::Drop,
            backends: ALL,
            unsafe_form: m(2, &["ALTER TABLE users DROP COLUMN name"]),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN nickname TEXT"]),
        },
        Case {
            rule: Lint::TransactionControl,
            backends: &[Sqlite, Postgres],
            unsafe_form: m(2, &["BEGIN", "UPDATE users SET name = 'x'", "COMMIT"]),
            safe_form: no_tx(2, &["BEGIN", "UPDATE users SET name = 'x'", "COMMIT"]),
        },
    ]);
}

#[test]
fn mysql_runs_no_transaction_around_a_migration_so_its_own_is_fine() {
    let own = m(
        2,
        &["START TRANSACTION", "UPDATE users SET name = 'x'", "COMMIT"],
    );
    assert!(rules(Mysql, own).is_empty());
}

#[test]
fn mysql_only_forms() {
    check(&[
        Case {
            rule: Lint::Rename,
            backends: &[Mysql],
            unsafe_form: m(2, &["RENAME TABLE users TO people"]),
            safe_form: m(2, &["ALTER TABLE users ALTER COLUMN name DROP DEFAULT"]),
        },
        Case {
            rule: Lint::Rename,
            backends: &[Mysql],
            unsafe_form: m(
                2,
                &["ALTER TABLE users CHANGE COLUMN name full_name VARCHAR(100)"],
            ),
            safe_form: m(2, &["ALTER TABLE users ADD COLUMN full_name VARCHAR(100)"]),
        },
        Case {
            rule: Lint::NonAtomicDdl,
            backends: &[Mysql],
            unsafe_form: m(
                2,
                &[
                    "ALTER TABLE users ADD COLUMN a INT",
                    "ALTER TABLE users ADD COLUMN b INT",
                ],
            ),
            safe_form: m(
                2,
                &[
                    "ALTER TABLE users ADD COLUMN a INT, ADD COLUMN b INT",
                    "UPDATE users SET a = 1",
                ],
            ),
        },
    ]);
    // Counted within an entry too, and reported once at the second one.
    let report = lint(
        &[m(
            3,
            &["CREATE TABLE a (id INT); CREATE TABLE b (id INT); CREATE TABLE c (id INT)"],
        )],
        Mysql,
        None,
    );
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.findings[0].message.starts_with("3 DDL statements"));
    assert_eq!(report.findings[0].statement, "CREATE TABLE b (id INT)");
    // Elsewhere DDL is transactional.
    assert!(rules(
        Postgres,
        m(2, &["CREATE TABLE a (id INT)", "CREATE TABLE b (id INT)"])
    )
    .is_empty());
}

#[test]
fn a_table_created_in_the_same_migration_is_new_and_empty() {
    let pg = m(
        2,
        &[
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email TEXT, owner BIGINT)",
            "CREATE INDEX accounts_email ON accounts (email); ALTER TABLE accounts ALTER COLUMN email SET NOT NULL",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_owner FOREIGN KEY (owner) REFERENCES users (id)",
            "ALTER TABLE accounts ADD COLUMN age INT NOT NULL",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email)",
            "ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200)",
        ],
    );
    assert_eq!(found(Postgres, &[pg]), []);

    // The same statements on a table an earlier migration created: findings.
    let earlier = m(
        1,
        &["CREATE TABLE accounts (id BIGINT PRIMARY KEY, email TEXT)"],
    );
    let later = m(2, &["CREATE INDEX accounts_email ON accounts (email)"]);
    assert_eq!(
        found(Postgres, &[earlier, later]),
        [(2, 1, Lint::IndexWithoutConcurrently)]
    );

    // IF NOT EXISTS may have found a table full of rows.
    let maybe = m(
        2,
        &[
            "CREATE TABLE IF NOT EXISTS accounts (id BIGINT, email TEXT)",
            "CREATE INDEX accounts_email ON accounts (email)",
        ],
    );
    assert_eq!(rules(Postgres, maybe), [Lint::IndexWithoutConcurrently]);

    // Quoting decides the name on PostgreSQL.
    let quoted = m(
        2,
        &[
            "CREATE TABLE \"Accounts\" (id BIGINT, email TEXT)",
            "CREATE INDEX a1 ON \"Accounts\" (email)",
            "CREATE INDEX a2 ON Accounts (email)",
        ],
    );
    assert_eq!(
        found(Postgres, &[quoted]),
        [(2, 3, Lint::IndexWithoutConcurrently)]
    );

    for backend in [Mysql, Sqlite] {
        let fresh = m(
            2,
            &[
                "CREATE TABLE accounts (id INT, name TEXT)",
                "ALTER TABLE accounts DROP COLUMN name",
            ],
        );
        let report = lint(&[fresh], backend, None);
        assert!(
            report.findings.iter().all(|f| f.rule == Lint::NonAtomicDdl),
            "{backend:?}: {report}"
        );
    }
}

#[test]
fn sqlite_refuses_a_required_column_even_on_a_new_table() {
    let fresh = m(
        2,
        &[
            "CREATE TABLE accounts (id INTEGER)",
            "ALTER TABLE accounts ADD COLUMN age INTEGER NOT NULL",
        ],
    );
    assert_eq!(rules(Sqlite, fresh), [Lint::RequiredColumnWithoutDefault]);
    assert!(rules(Postgres, fresh).is_empty());
}

#[test]
fn allow_silences_exactly_its_rules() {
    const BOTH: &[&str] = &[
        "DROP TABLE old_sessions",
        "CREATE INDEX users_email ON users (email)",
    ];
    let plain = m(2, BOTH);
    assert_eq!(
        rules(Postgres, plain),
        [Lint::Drop, Lint::IndexWithoutConcurrently]
    );
    let allow_drop = Migration {
        allow: &[Lint::Drop],
        ..plain
    };
    assert_eq!(
        rules(Postgres, allow_drop),
        [Lint::IndexWithoutConcurrently]
    );
    let allow_both = Migration {
        allow: &[Lint::IndexWithoutConcurrently, Lint::Drop],
        ..plain
    };
    assert!(rules(Postgres, allow_both).is_empty());
    // An allow on one migration says nothing about the next.
    assert_eq!(
        found(Postgres, &[allow_both, m(3, BOTH)]).len(),
        2,
        "the next migration keeps its findings"
    );
    // Not part of the checksum: allowing a rule on an applied migration is no edit.
    assert_eq!(allow_both.checksum(), plain.checksum());
}

#[test]
fn since_lints_only_later_versions() {
    let list = [
        m(1, &["DROP TABLE a"]),
        m(2, &["DROP TABLE b"]),
        m(5, &["DROP TABLE c"]),
    ];
    let report = lint(&list, Sqlite, Some(1));
    assert_eq!(report.checked, 2);
    let versions: Vec<i64> = report.findings.iter().map(|f| f.version).collect();
    assert_eq!(versions, [2, 5]);
    assert_eq!(lint(&list, Sqlite, Some(5)).checked, 0);
    assert_eq!(lint(&list, Sqlite, None).findings.len(), 3);
}

#[test]
fn only_sql_is_linted_not_down() {
    let migration = Migration {
        down: &["DROP TABLE users", "ALTER TABLE posts DROP COLUMN title"],
        ..m(2, &["CREATE TABLE users (id INT)"])
    };
    for &backend in ALL {
        assert!(lint(&[migration], backend, None).is_clean(), "{backend:?}");
    }
}

fn rewrite_rows(
    _: &mut versioned_migrations::Db<'_>,
) -> Result<(), versioned_migrations::CodeError> {
    Ok(())
}

#[test]
fn code_steps_are_skipped_and_their_sql_is_still_linted() {
    let step = versioned_migrations::Code {
        name: "rewrite_rows",
        revision: 1,
        up: rewrite_rows,
        down: None,
    };
    let code_only = Migration {
        code: Some(step),
        ..m(2, &[])
    };
    let with_sql = Migration {
        code: Some(step),
        ..m(3, &["ALTER TABLE users DROP COLUMN email"])
    };
    for &backend in ALL {
        assert!(lint(&[code_only], backend, None).is_clean(), "{backend:?}");
        assert_eq!(rules(backend, with_sql), vec![Lint::Drop], "{backend:?}");
    }
}

#[test]
fn an_unreadable_statement_is_noted_not_fatal() {
    for &backend in ALL {
        let list = [
            m(
                1,
                &[
                    "DROP TABLE a",
                    "ALTER TABLE users FROBNICATE name",
                    "DROP TABLE b",
                ],
            ),
            m(2, &["DROP TABLE c"]),
        ];
        let report = lint(&list, backend, None);
        assert_eq!(report.not_checked.len(), 1, "{backend:?}: {report}");
        let note = &report.not_checked[0];
        assert_eq!((note.version, note.statement_index), (1, 2), "{backend:?}");
        assert_eq!(note.statement, "ALTER TABLE users FROBNICATE name");
        assert!(!note.reason.is_empty());
        let where_found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule == Lint::Drop)
            .map(|f| (f.version, f.statement_index))
            .collect();
        assert_eq!(where_found, [(1, 1), (1, 3), (2, 1)], "{backend:?}");
        assert!(report.to_string().contains("1 statement not checked"));
    }
}

#[test]
fn hostile_input_never_panics() {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    // Recursive parsers overflow the stack on these unless guarded.
    let deep = [
        leak(format!(
            "SELECT {}1{}",
            "(".repeat(30_000),
            ")".repeat(30_000)
        )),
        leak(format!("SELECT {}true", "NOT ".repeat(100_000))),
        leak(format!("SELECT {}1", "- ".repeat(100_000))),
        leak(format!("SELECT {}1", "ARRAY[".repeat(30_000))),
    ];
    for &backend in ALL {
        for sql in deep {
            let sql: &'static [&'static str] = Box::leak(vec![sql].into_boxed_slice());
            let report = lint(&[m(1, sql)], backend, None);
            assert_eq!(report.not_checked.len(), 1, "{backend:?}");
        }
    }
    let sqls: &[&'static str] = &[
        "",
        ";;;",
        "'unterminated",
        "$$ no end",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
        "/* only a comment */",
        "ALTER TABLE",
        "\u{0}\u{feff}",
        "SELECT ((((((((((1))))))))))",
    ];
    for &backend in ALL {
        for sql in sqls {
            let sql: &'static [&'static str] = Box::leak(vec![*sql].into_boxed_slice());
            let _ = lint(&[m(1, sql)], backend, None);
        }
    }
}

#[test]
fn json_has_the_documented_shape() {
    let report = lint(
        &[m(
            3,
            &[
                "CREATE TABLE t (id INT)",
                "CREATE INDEX users_email ON users (email)",
            ],
        )],
        Postgres,
        None,
    );
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["backend"], "postgres");
    assert_eq!(json["checked"], 1);
    let finding = &json["findings"][0];
    assert_eq!(finding["rule"], "index_without_concurrently");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["version"], 3);
    assert_eq!(finding["statement_index"], 2);
    assert_eq!(
        finding["statement"],
        "CREATE INDEX users_email ON users (email)"
    );
    assert!(finding["message"]
        .as_str()
        .is_some_and(|s| s.contains("SHARE lock")));
    assert!(finding["advice"]
        .as_str()
        .is_some_and(|s| s.contains("CONCURRENTLY")));
    assert_eq!(json["not_checked"], serde_json::json!([]));
}

#[test]
fn the_text_report_says_what_happens_and_what_to_write() {
    let report: LintReport = lint(
        &[m(4, &["ALTER TABLE users RENAME TO people"])],
        Sqlite,
        None,
    );
    let text = report.to_string();
    for part in [
        "warning: migration 4 (under test), statement 1: rename",
        "    ALTER TABLE users RENAME TO people",
        "what happens: the running application still uses the old table name",
        "instead: expand and contract",
        "allow: &[Lint::Rename]",
        "SQLite: 1 finding (0 errors, 1 warning) in 1 migration",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
    assert_eq!(report.findings[0].severity, Severity::Warning);
    let clean = lint(&[m(1, &["CREATE TABLE t (id INT)"])], Postgres, None);
    assert_eq!(clean.to_string(), "PostgreSQL: no findings in 1 migration");
}

mod project {
    include!("../migrations.rs");
}

#[test]
fn the_projects_own_migrations() {
    // Migration 4 indexes a table that migration 2 created; PostgreSQL would
    // want CONCURRENTLY, which SQLite and MySQL do not know: it says so with
    // `allow`, and nothing else is found.
    for &backend in ALL {
        let report = lint(project::MIGRATIONS, backend, None);
        assert!(report.not_checked.is_empty(), "{backend:?}: {report}");
        assert!(report.findings.is_empty(), "{backend:?}: {report}");
    }
    let allowed = project::MIGRATIONS.iter().find(|m| m.version == 4).unwrap();
    assert_eq!(allowed.allow, [Lint::IndexWithoutConcurrently]);
}
