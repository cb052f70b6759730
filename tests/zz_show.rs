use versioned_migrations::{lint::lint, Dialect, Migration};
const L: &[Migration] = &[
    Migration { version: 1, description: "Create users", sql: &["CREATE TABLE users (id bigint primary key, email text)"], ..Migration::DEFAULT },
    Migration { version: 2, description: "Index emails", sql: &["CREATE INDEX users_email ON users (email)", "ALTER TABLE users ALTER COLUMN email SET NOT NULL"], ..Migration::DEFAULT },
    Migration { version: 3, description: "Broken", sql: &["ALTER TABLE users FROBNICATE"], ..Migration::DEFAULT },
    Migration { version: 4, description: "Two DDL", sql: &["ALTER TABLE users ADD COLUMN a INT", "ALTER TABLE users RENAME COLUMN a TO b"], ..Migration::DEFAULT },
];
#[test]
fn show() {
    for b in [Dialect::Postgres, Dialect::Mysql] {
        let r = lint(L, b, None);
        println!("{r}\n-----");
    }
    println!("{}", serde_json::to_string_pretty(&lint(&L[..3], Dialect::Postgres, None)).unwrap());
}
