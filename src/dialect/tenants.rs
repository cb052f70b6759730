//! Schema-per-tenant (PostgreSQL): finding the tenants' schemas and
//! pointing a session's `search_path` at one of them. A schema's name comes
//! from the catalog, so it is always quoted or bound, never spliced raw.

use super::{Bind, Dialect, Sql};

impl Dialect {
    /// The schemas whose names match the `LIKE` pattern (bound as `$1`), by
    /// name; system schemas (`pg_*`, `information_schema`) never. The value
    /// column is `value`. `None` where the database has no schemas of its
    /// own in this sense (SQLite, MySQL: a "schema" is a database there).
    pub(crate) fn schemas_like(self, pattern: &str) -> Option<Sql> {
        match self {
            Dialect::Postgres => Some(Sql::new(
                String::from(
                    "SELECT CAST(nspname AS TEXT) AS value FROM pg_catalog.pg_namespace \
                     WHERE nspname LIKE $1 AND nspname NOT LIKE 'pg\\_%' ESCAPE '\\' \
                     AND nspname <> 'information_schema' ORDER BY nspname COLLATE \"C\"",
                ),
                vec![Bind::Text(pattern.to_string())],
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// The session's `search_path` as text, to give back afterwards.
    pub(crate) fn search_path_query(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => {
                Some("SELECT CAST(current_setting('search_path') AS TEXT) AS value")
            }
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Points unqualified names at `schema` alone, for this session.
    pub(crate) fn set_search_path(self, schema: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!("SET search_path TO {}", self.quote_ident(schema))),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }

    /// Gives the session back the `search_path` it had (as read by
    /// [`Dialect::search_path_query`]).
    pub(crate) fn restore_search_path(self, saved: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SELECT set_config('search_path', {}, false)",
                self.string_literal(saved)
            )),
            Dialect::Sqlite | Dialect::Mysql => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_name_is_quoted_never_spliced() {
        assert_eq!(
            Dialect::Postgres.set_search_path("tenant_1").as_deref(),
            Some("SET search_path TO \"tenant_1\"")
        );
        assert_eq!(
            Dialect::Postgres
                .set_search_path("x\"; DROP TABLE users; --")
                .as_deref(),
            Some("SET search_path TO \"x\"\"; DROP TABLE users; --\"")
        );
        assert_eq!(
            Dialect::Postgres
                .restore_search_path("\"$user\", public, it's")
                .as_deref(),
            Some("SELECT set_config('search_path', '\"$user\", public, it''s', false)")
        );
        let query = Dialect::Postgres.schemas_like("tenant_%").unwrap();
        assert!(query.text.contains("LIKE $1"), "{}", query.text);
        assert!(Dialect::Mysql.schemas_like("x").is_none());
    }
}
