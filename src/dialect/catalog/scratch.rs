//! Scratch databases: the temporary databases `drift`, `roundtrip` and
//! `check --schema` replay migrations on. Their names carry the creating
//! session's id, so a later run can tell a scratch database whose creator
//! is gone (killed) from one still in use, and drop it.

use crate::dialect::Dialect;

/// Every scratch database's name starts with this.
pub(crate) const SCRATCH_PREFIX: &str = "vm_scratch_";

impl Dialect {
    /// The id of this connection's server session (`value`).
    pub(crate) fn session_id_query(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("SELECT pg_backend_pid()::text AS value"),
            Dialect::Mysql => Some("SELECT CAST(CONNECTION_ID() AS CHAR) AS value"),
            Dialect::Sqlite => None,
        }
    }

    /// Creates the database `name` (made by this tool: a plain identifier).
    pub(crate) fn create_database(self, name: &str) -> String {
        format!("CREATE DATABASE {}", self.quote_ident(name))
    }

    /// Drops the database `name`, even with sessions still in it
    /// (PostgreSQL 13+ ends them).
    pub(crate) fn drop_database(self, name: &str) -> String {
        match self {
            Dialect::Postgres => format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.quote_ident(name)
            ),
            _ => format!("DROP DATABASE IF EXISTS {}", self.quote_ident(name)),
        }
    }

    /// Scratch databases whose creating session has ended (one name a row).
    pub(crate) fn stale_scratch_query(self) -> Option<String> {
        // `!` escapes LIKE's `_` the same way whatever the server's
        // backslash mode (standard_conforming_strings, NO_BACKSLASH_ESCAPES).
        let prefix = SCRATCH_PREFIX.replace('_', "!_");
        match self {
            Dialect::Postgres => Some(format!(
                "SELECT d.datname::text FROM pg_database d WHERE d.datname LIKE '{prefix}%' ESCAPE '!' \
                 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
                 WHERE d.datname LIKE '{prefix}' || a.pid || '!_%' ESCAPE '!')"
            )),
            Dialect::Mysql => Some(format!(
                "SELECT s.SCHEMA_NAME FROM information_schema.SCHEMATA s \
                 WHERE s.SCHEMA_NAME LIKE '{prefix}%' ESCAPE '!' AND NOT EXISTS (SELECT 1 FROM \
                 information_schema.PROCESSLIST p WHERE s.SCHEMA_NAME LIKE CONCAT('{prefix}', p.ID, '!_%') ESCAPE '!')"
            )),
            Dialect::Sqlite => None,
        }
    }

    /// Statements that drop what a replay made in a database that was
    /// empty before it: tables (with `cascade`, what depends on them), views,
    /// sequences, types, functions. Run with foreign keys off where the
    /// backend checks them on drop.
    pub(crate) fn drop_objects(self, kind: &str, name: &str) -> Option<String> {
        // Names come from the catalog: quote each part.
        let quoted = name
            .split('.')
            .map(|part| self.quote_ident(part))
            .collect::<Vec<_>>()
            .join(".");
        let cascade = match self {
            Dialect::Postgres => " CASCADE",
            _ => "",
        };
        Some(match (self, kind) {
            (_, "table") => format!("DROP TABLE IF EXISTS {quoted}{cascade}"),
            (Dialect::Postgres, "materialized view") => {
                format!("DROP MATERIALIZED VIEW IF EXISTS {quoted} CASCADE")
            }
            (_, "view") => format!("DROP VIEW IF EXISTS {quoted}{cascade}"),
            (Dialect::Postgres, "sequence") => format!("DROP SEQUENCE IF EXISTS {quoted} CASCADE"),
            (Dialect::Postgres, "type") => format!("DROP TYPE IF EXISTS {quoted} CASCADE"),
            // A function's name holds its argument types, as DROP wants them.
            (Dialect::Postgres, "function") => {
                let (bare, args) = name.split_once('(')?;
                let bare = bare
                    .split('.')
                    .map(|part| self.quote_ident(part))
                    .collect::<Vec<_>>()
                    .join(".");
                format!("DROP ROUTINE IF EXISTS {bare}({args} CASCADE")
            }
            (Dialect::Mysql, "function") => {
                let (bare, _) = name.split_once('(')?;
                format!(
                    "DROP FUNCTION IF EXISTS {}; DROP PROCEDURE IF EXISTS {}",
                    self.quote_ident(bare),
                    self.quote_ident(bare)
                )
            }
            _ => return None,
        })
    }

    /// Turns foreign-key checks off for dropping tables in any order.
    pub(crate) fn foreign_keys_off(self) -> Option<&'static str> {
        match self {
            Dialect::Mysql => Some("SET FOREIGN_KEY_CHECKS = 0"),
            Dialect::Sqlite => Some("PRAGMA foreign_keys = OFF"),
            Dialect::Postgres => None,
        }
    }
}
