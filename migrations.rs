// This project's migrations, compiled into the `migrate` binary.
//
// Add a migration: append an entry with the next version, then rebuild
// (`cargo run -- apply`). Never edit an entry that has been applied anywhere:
// `migrate` refuses to run when an applied migration's `sql` has changed.
// The SQL here runs unchanged on SQLite, PostgreSQL and MySQL/MariaDB.

use versioned_migrations::{Lint, Migration};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "Create users table",
        sql: &["CREATE TABLE users (
            id INTEGER NOT NULL PRIMARY KEY,
            email VARCHAR(255) NOT NULL UNIQUE,
            name VARCHAR(100) NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        )"],
        down: &["DROP TABLE users"],
        ..Migration::DEFAULT
    },
    Migration {
        version: 2,
        description: "Create posts table",
        sql: &["CREATE TABLE posts (
            id INTEGER NOT NULL PRIMARY KEY,
            user_id INTEGER NOT NULL,
            title VARCHAR(200) NOT NULL,
            body TEXT NOT NULL,
            published BOOLEAN NOT NULL DEFAULT FALSE,
            FOREIGN KEY (user_id) REFERENCES users (id)
        )"],
        down: &["DROP TABLE posts"],
        ..Migration::DEFAULT
    },
    Migration {
        version: 3,
        description: "Add language preference to users",
        sql: &["ALTER TABLE users ADD COLUMN language VARCHAR(10) NOT NULL DEFAULT 'en'"],
        down: &["ALTER TABLE users DROP COLUMN language"],
        ..Migration::DEFAULT
    },
    Migration {
        version: 4,
        description: "Index published posts",
        sql: &["CREATE INDEX idx_posts_published ON posts (published, id)"],
        // Portable on all three backends; on a live PostgreSQL table this
        // would be CREATE INDEX CONCURRENTLY in a `transaction: false` entry.
        allow: &[Lint::IndexWithoutConcurrently],
        ..Migration::DEFAULT
    },
    Migration {
        version: 5,
        description: "Seed the administrator account",
        sql: &["INSERT INTO users (id, email, name, language) VALUES (1, 'Admin@Example.com', 'Administrator', 'en')"],
        down: &["DELETE FROM users WHERE id = 1"],
        ..Migration::DEFAULT
    },
    Migration {
        version: 6,
        description: "Store e-mail addresses in lower case",
        sql: &["UPDATE users SET email = LOWER(email)"],
        // The original case is gone, and nothing needs it back: rolling back
        // past this migration leaves the addresses lower case.
        down: &["SELECT 1"],
        ..Migration::DEFAULT
    },
];
