//! Rich schemas per backend for the schema, drift and roundtrip tests:
//! keys with actions, checks, partial and expression indexes, views,
//! triggers and functions (and on PostgreSQL enums, domains, sequences,
//! identity columns and a materialised view). Every migration has a `down`.

use super::{reversible, Backend};
use versioned_migrations::Migration;

pub static SQLITE: &[Migration] = &[
    reversible(
        1,
        "Users",
        &[
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
           name TEXT DEFAULT 'anon', age INTEGER CHECK (age >= 0), \
           CONSTRAINT name_len CHECK (length(name) < 100))",
            "CREATE UNIQUE INDEX users_lower_email ON users (lower(email))",
        ],
        &["DROP TABLE users"],
    ),
    reversible(
        2,
        "Posts",
        &[
            "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, \
           user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
           title TEXT NOT NULL, deleted_at TEXT)",
            "CREATE INDEX posts_live ON posts (user_id) WHERE deleted_at IS NULL",
        ],
        &["DROP TABLE posts"],
    ),
    reversible(
        3,
        "Settings, a view and a trigger",
        &[
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT DEFAULT 'on')",
            "CREATE VIEW live_posts AS SELECT p.id, p.title, u.email FROM posts p \
           JOIN users u ON u.id = p.user_id WHERE p.deleted_at IS NULL",
            "CREATE TRIGGER posts_soft_delete BEFORE DELETE ON posts BEGIN \
           UPDATE posts SET deleted_at = 'now' WHERE id = OLD.id; END",
        ],
        &[
            "DROP TRIGGER posts_soft_delete",
            "DROP VIEW live_posts",
            "DROP TABLE settings",
        ],
    ),
    reversible(
        4,
        "A bio for users",
        &["ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT ''"],
        &["ALTER TABLE users DROP COLUMN bio"],
    ),
];

pub static POSTGRES: &[Migration] = &[
    reversible(
        1,
        "Types and users",
        &["CREATE TYPE mood AS ENUM ('happy', 'sad')",
          "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
          "CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 10",
          "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
           email varchar(200) NOT NULL UNIQUE, name text DEFAULT 'anon', mood mood, \
           age positive, created_at timestamptz NOT NULL DEFAULT now(), \
           CONSTRAINT name_len CHECK (length(name) < 100))",
          "CREATE UNIQUE INDEX users_lower_email ON users (lower(email))"],
        &["DROP TABLE users", "DROP SEQUENCE invoice_numbers", "DROP DOMAIN positive", "DROP TYPE mood"],
    ),
    reversible(
        2,
        "Posts",
        &["CREATE TABLE posts (id serial PRIMARY KEY, \
           user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE ON UPDATE RESTRICT, \
           title text NOT NULL, tags text[] NOT NULL DEFAULT '{}', deleted_at timestamptz)",
          "CREATE INDEX posts_live ON posts (user_id) WHERE deleted_at IS NULL",
          "CREATE INDEX posts_tags ON posts USING gin (tags)",
          "CREATE INDEX posts_recent ON posts (user_id, id DESC)"],
        &["DROP TABLE posts"],
    ),
    reversible(
        3,
        "Settings, views, a function and a trigger",
        &["CREATE TABLE settings (key text PRIMARY KEY, value text DEFAULT 'on')",
          "CREATE VIEW live_posts AS SELECT p.id, p.title, u.email FROM posts p \
           JOIN users u ON u.id = p.user_id WHERE p.deleted_at IS NULL",
          "CREATE MATERIALIZED VIEW post_counts AS SELECT user_id, count(*) AS n FROM posts GROUP BY user_id",
          "CREATE FUNCTION soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  \
           UPDATE posts SET deleted_at = now() WHERE id = OLD.id;\n  RETURN NULL;\nEND\n$$",
          "CREATE TRIGGER posts_soft_delete BEFORE DELETE ON posts FOR EACH ROW EXECUTE FUNCTION soft_delete()"],
        &["DROP TRIGGER posts_soft_delete ON posts", "DROP FUNCTION soft_delete()",
          "DROP MATERIALIZED VIEW post_counts", "DROP VIEW live_posts", "DROP TABLE settings"],
    ),
    reversible(
        4,
        "A bio for users",
        &["ALTER TABLE users ADD COLUMN bio text NOT NULL DEFAULT ''"],
        &["ALTER TABLE users DROP COLUMN bio"],
    ),
];

pub static MYSQL: &[Migration] = &[
    reversible(
        1,
        "Users",
        &["CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
           email VARCHAR(200) NOT NULL UNIQUE, name VARCHAR(100) DEFAULT 'anon', \
           mood ENUM('happy', 'sad'), age INT CHECK (age >= 0), \
           created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
           CONSTRAINT name_len CHECK (CHAR_LENGTH(name) < 100))",
          "CREATE INDEX users_name_prefix ON users (name(10))"],
        &["DROP TABLE users"],
    ),
    reversible(
        2,
        "Posts",
        &["CREATE TABLE posts (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
           user_id BIGINT NOT NULL, title VARCHAR(200) NOT NULL, deleted_at DATETIME NULL, \
           CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users (id) \
           ON DELETE CASCADE ON UPDATE RESTRICT)",
          "CREATE INDEX posts_recent ON posts (user_id, id DESC)"],
        &["DROP TABLE posts"],
    ),
    reversible(
        3,
        "Settings, a view, a function and a trigger",
        &["CREATE TABLE settings (`key` VARCHAR(50) PRIMARY KEY, value VARCHAR(50) DEFAULT 'on')",
          "CREATE VIEW live_posts AS SELECT p.id, p.title, u.email FROM posts p \
           JOIN users u ON u.id = p.user_id WHERE p.deleted_at IS NULL",
          "CREATE FUNCTION shout(s VARCHAR(50)) RETURNS VARCHAR(60) DETERMINISTIC RETURN CONCAT(UPPER(s), '!')",
          "CREATE TRIGGER posts_title BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = TRIM(NEW.title)"],
        &["DROP TRIGGER posts_title", "DROP FUNCTION shout", "DROP VIEW live_posts", "DROP TABLE settings"],
    ),
    reversible(
        4,
        "A bio for users",
        &["ALTER TABLE users ADD COLUMN bio VARCHAR(200) NOT NULL DEFAULT ''"],
        &["ALTER TABLE users DROP COLUMN bio"],
    ),
];

/// The fixture for a backend.
pub fn rich(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
        Backend::Mysql => MYSQL,
    }
}

/// Hand changes of the kinds `drift` must find: (SQL, the change's
/// object kind and name as drift reports it).
pub fn hand_changes(backend: Backend) -> Vec<(&'static str, &'static str, &'static str)> {
    let default = match backend {
        // SQLite cannot alter a default: the table is rebuilt by hand.
        Backend::Sqlite => {
            "CREATE TABLE settings_new (key TEXT PRIMARY KEY, value TEXT DEFAULT 'off'); \
             INSERT INTO settings_new SELECT * FROM settings; DROP TABLE settings; \
             ALTER TABLE settings_new RENAME TO settings"
        }
        Backend::Postgres => "ALTER TABLE settings ALTER COLUMN value SET DEFAULT 'off'",
        Backend::Mysql => "ALTER TABLE settings ALTER COLUMN value SET DEFAULT 'off'",
    };
    let drop_index = match backend {
        Backend::Mysql => "DROP INDEX users_name_prefix ON users",
        _ => "DROP INDEX posts_live",
    };
    let dropped = match backend {
        Backend::Mysql => "users_name_prefix",
        _ => "posts_live",
    };
    vec![
        (
            "ALTER TABLE users ADD COLUMN nickname VARCHAR(20)",
            "column",
            "users.nickname",
        ),
        (drop_index, "index", dropped),
        (
            "CREATE TABLE audit (id INTEGER PRIMARY KEY)",
            "table",
            "audit",
        ),
        (default, "column", "settings.value"),
    ]
}
