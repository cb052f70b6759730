use std::path::Path;

use super::*;

fn file(input: &str) -> (PathBuf, SqliteMode) {
    let url = DatabaseUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    (
        url.sqlite_path()
            .unwrap_or_else(|| panic!("{input}: not a file"))
            .to_path_buf(),
        url.sqlite_mode().unwrap_or_default(),
    )
}

#[test]
fn recognises_backends() {
    assert_eq!(
        DatabaseUrl::parse("app.db").unwrap().dialect(),
        Dialect::Sqlite
    );
    assert_eq!(
        DatabaseUrl::parse("postgresql://u@h/db").unwrap().dialect(),
        Dialect::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("postgres://u@h/db").unwrap().dialect(),
        Dialect::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("mysql://u@h/db").unwrap().dialect(),
        Dialect::Mysql
    );
    assert_eq!(
        DatabaseUrl::parse("mariadb://u@h/db").unwrap().dialect(),
        Dialect::Mysql
    );
}

#[test]
fn every_sqlite_form_reads_as_one_file_and_mode() {
    let rwc = SqliteMode::ReadWriteCreate;
    let cases: &[(&str, &str, SqliteMode)] = &[
        ("app.db", "app.db", rwc),
        ("./data/app.db", "./data/app.db", rwc),
        ("sqlite://data/app.db", "data/app.db", rwc),
        ("sqlite:///tmp/x.db", "/tmp/x.db", rwc),
        ("sqlite:data/app.db", "data/app.db", rwc),
        ("SQLITE3://app.db", "app.db", rwc),
        ("sqlite://app.db?mode=rwc", "app.db", rwc),
        ("sqlite://app.db?mode=rw", "app.db", SqliteMode::ReadWrite),
        ("sqlite:app.db?mode=ro", "app.db", SqliteMode::ReadOnly),
        ("file:rel.db", "rel.db", rwc),
        ("sqlite://file:rel.db", "rel.db", rwc),
        (
            "file:///abs/dir/x.db?mode=ro",
            "/abs/dir/x.db",
            SqliteMode::ReadOnly,
        ),
        ("file://localhost/abs/x.db", "/abs/x.db", rwc),
        ("file:my%20app.db", "my app.db", rwc),
        ("C:\\data\\app.db", "C:\\data\\app.db", rwc),
    ];
    for (input, path, mode) in cases {
        assert_eq!(file(input), (PathBuf::from(path), *mode), "{input}");
    }
    for memory in [
        ":memory:",
        "sqlite::memory:",
        "sqlite://:memory:",
        "file::memory:",
    ] {
        assert!(
            DatabaseUrl::parse(memory).unwrap().is_sqlite_memory(),
            "{memory}"
        );
    }
}

#[test]
fn sqlite_options_that_would_be_ignored_are_refused() {
    for (input, reason) in [
        ("sqlite://app.db?mode=memory", "keeps nothing"),
        ("file:app.db?mode=memory&cache=shared", "keeps nothing"),
        (
            "sqlite://app.db?cache=shared",
            "unsupported SQLite URL option `cache=shared`",
        ),
        (
            "file:app.db?vfs=unix-dotfile",
            "unsupported SQLite URL option",
        ),
        ("file://otherhost/x.db", "on host `otherhost`"),
        ("sqlite://", "no file path"),
    ] {
        let err = DatabaseUrl::parse(input).expect_err(input).to_string();
        assert!(err.contains(reason), "{input}: {err}");
    }
}

#[test]
fn rejects_unknown_schemes_and_bad_urls() {
    assert!(matches!(
        DatabaseUrl::parse("oracle://x/y"),
        Err(UrlError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        DatabaseUrl::parse("redis:x"),
        Err(UrlError::UnsupportedScheme { .. })
    ));
    assert_eq!(DatabaseUrl::parse("  ").unwrap_err(), UrlError::Empty);
    assert!(matches!(
        DatabaseUrl::parse("mysql://root@localhost"),
        Err(UrlError::Invalid { .. })
    ));
    assert!(matches!(
        DatabaseUrl::parse("postgres://u@host:99999/db"),
        Err(UrlError::Invalid { .. })
    ));
    assert!(
        DatabaseUrl::parse("sqlite:x").is_ok(),
        "sqlite: is a scheme this tool speaks"
    );
}

/// Every form a password takes, masked in `Display` and scrubbed from
/// messages that echo any part of it.
#[test]
fn masks_every_form_of_password() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "postgres://admin:s3cr%40t@db.example:6543/app",
            "postgres://admin:***@db.example:6543/app",
            &["login s3cr@t failed", "login s3cr%40t failed"],
        ),
        (
            "postgres://u:ab@Secret@host/db",
            "postgres://u:***@host/db",
            &[
                "could not translate host name \"Secret@host\"",
                "password ab@Secret",
            ],
        ),
        (
            "postgres://u:2024/Secret@h/db",
            "postgres://u:***@h/db",
            &[
                "connection to server at \"u\", port 2024 failed",
                "database \"Secret@h/db\"",
            ],
        ),
        (
            "postgres://u@h/db?sslmode=disable&password=hunter2",
            "postgres://u@h/db?sslmode=disable&password=***",
            &["password hunter2 rejected"],
        ),
        (
            "mysql://root:Pa55word@127.0.0.1:3306/db",
            "mysql://root:***@127.0.0.1:3306/db",
            &["Access denied (using password: Pa55word)"],
        ),
    ];
    for (input, masked, messages) in cases {
        let url = DatabaseUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.to_string(), *masked, "{input}");
        assert_eq!(format!("{url:?}"), format!("DatabaseUrl({masked})"));
        for message in *messages {
            let redacted = url.redact(message);
            for secret in ["s3cr", "Secret", "2024", "hunter2", "Pa55word", "ab@"] {
                assert!(
                    !redacted.contains(secret),
                    "{input}: {message} -> {redacted}"
                );
            }
        }
    }
    let bad = DatabaseUrl::parse("postgres://admin:hunter2@[bad/app").unwrap_err();
    assert!(!bad.to_string().contains("hunter2"), "{bad}");
}

#[test]
fn short_passwords_are_scrubbed_where_they_stand_alone() {
    let url = DatabaseUrl::parse("postgres://u:ab@h/db").unwrap();
    assert_eq!(url.redact("table ab failed"), "table *** failed");
}

#[test]
fn probes_tcp_where_the_driver_would() {
    let pg = DatabaseUrl::parse("postgres://u@db.example:6543/app").unwrap();
    assert_eq!(pg.tcp_endpoint(), Some(("db.example", 6543)));
    let socket = DatabaseUrl::parse("mysql://u@localhost/app").unwrap();
    assert_eq!(socket.tcp_endpoint(), None);
    assert_eq!(file("x.db").0, Path::new("x.db"));
}
