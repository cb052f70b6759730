//! The tool's settings on a connection for the length of one command:
//! every wait of its own statements bounded by the lock timeout, and the
//! connection handed back exactly as it was found (an application's own
//! connection keeps its own settings).

use crate::connection::MigrationConnection;
use crate::dialect::{Dialect, Saved, SessionSettings};
use crate::error::{Error, Result};
use crate::guardrails::Guardrails;

/// What runs first on a command's connection: the schema to work in
/// (`search_path`, given back afterwards), then the user's statements.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Setup<'s> {
    pub schema: Option<&'s str>,
    pub statements: &'s [String],
}

/// What a command set on its connection, and what to give back.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub dialect: Dialect,
    pub settings: SessionSettings,
    pub saved: Saved,
    /// Limits for the migrations' own statements.
    pub guardrails: Guardrails,
}

impl Session {
    /// Runs `body` with the tool's settings on `conn`, restoring the
    /// session's own on every path. With a schema, `search_path` points at
    /// it alone for the command and is given back afterwards. `setup`'s
    /// statements (the user's per-connection ones, e.g. `SET search_path`)
    /// run next and are not undone: it is how the user wants this
    /// connection to be.
    pub(crate) fn with<T>(
        conn: &mut dyn MigrationConnection,
        setup: Setup<'_>,
        settings: SessionSettings,
        guardrails: Guardrails,
        body: impl FnOnce(&mut dyn MigrationConnection, &Session) -> Result<T>,
    ) -> Result<T> {
        Self::in_schema(conn, setup.schema, |conn| {
            Self::with_settings(conn, setup.statements, settings, guardrails, body)
        })
    }

    /// `setup` alone, the tool's settings left out: for a command whose one
    /// statement carries its own lock timeout (see
    /// `Dialect::statement_lock_timeout`).
    pub(crate) fn with_setup<T>(
        conn: &mut dyn MigrationConnection,
        setup: Setup<'_>,
        body: impl FnOnce(&mut dyn MigrationConnection) -> Result<T>,
    ) -> Result<T> {
        Self::in_schema(conn, setup.schema, |conn| {
            run_setup(conn, setup.statements)?;
            body(conn)
        })
    }

    /// Runs `body` with `search_path` pointing at `schema` alone, given
    /// back afterwards on every path.
    fn in_schema<T>(
        conn: &mut dyn MigrationConnection,
        schema: Option<&str>,
        body: impl FnOnce(&mut dyn MigrationConnection) -> Result<T>,
    ) -> Result<T> {
        let Some(schema) = schema else {
            return body(conn);
        };
        let dialect = conn.dialect();
        let (Some(query), Some(set)) =
            (dialect.search_path_query(), dialect.set_search_path(schema))
        else {
            return Err(Error::SchemasUnsupported {
                backend: dialect.name(),
            });
        };
        let failed = |e| Error::database(format!("setting search_path to schema {schema}"), e);
        let saved = conn.scalar_text(query).map_err(failed)?.unwrap_or_default();
        conn.batch_execute(&set).map_err(failed)?;
        let result = body(conn);
        let restored = match dialect.restore_search_path(&saved) {
            Some(sql) => conn
                .batch_execute(&sql)
                .map_err(|e| Error::database("restoring the session's search_path", e)),
            None => Ok(()),
        };
        let value = result?;
        restored?;
        Ok(value)
    }

    fn with_settings<T>(
        conn: &mut dyn MigrationConnection,
        setup: &[String],
        settings: SessionSettings,
        guardrails: Guardrails,
        body: impl FnOnce(&mut dyn MigrationConnection, &Session) -> Result<T>,
    ) -> Result<T> {
        let dialect = conn.dialect();
        run_setup(conn, setup)?;
        let failed = |e| Error::database("setting up the session", e);
        // One round trip where the dialect can save and set at once (the
        // start-up check is a few of them in all).
        let merged = dialect.save_and_set_query(&settings);
        let saved = match (
            &merged,
            dialect.save_settings_query(),
            dialect.save_timeout_query(),
        ) {
            (Some(sql), _, _) => Saved::from_text(conn.scalar_text(sql).map_err(failed)?),
            (None, Some(sql), _) => Saved::from_text(conn.scalar_text(sql).map_err(failed)?),
            (None, None, Some(sql)) => Saved::from_text(
                conn.scalar_timeout(sql)
                    .map_err(failed)?
                    .map(|ms| ms.to_string()),
            ),
            (None, None, None) => Saved::default(),
        };
        // MySQL and MariaDB name the statement time limit differently.
        let saved = match (guardrails.statement_timeout, dialect.server_version_query()) {
            (Some(_), Some(sql)) => {
                if let Some(sql) = dialect.save_settings_exec() {
                    conn.batch_execute(sql).map_err(failed)?;
                }
                let version = conn.scalar_text(sql).map_err(failed)?.unwrap_or_default();
                let saved = saved.with_server_version(&version);
                if let Some(sql) = dialect.save_statement_timer(&saved) {
                    conn.batch_execute(sql).map_err(failed)?;
                }
                saved
            }
            _ => saved,
        };
        let session = Session {
            dialect,
            settings,
            saved,
            guardrails,
        };
        let tool = dialect.tool_settings(&settings, &session.saved);
        // The save (MySQL: into session variables) and the settings share
        // one batch when nothing had to be read in between.
        let batch = match (guardrails.statement_timeout, dialect.save_settings_exec()) {
            (None, Some(save)) => Some(format!("{save}; {tool}")),
            _ => (merged.is_none()).then_some(tool),
        };
        let applied = match batch {
            Some(sql) => conn.batch_execute(&sql),
            None => Ok(()),
        };
        let result = applied.map_err(failed).and_then(|()| body(conn, &session));
        let restored = match dialect.restore_settings(&session.saved) {
            Some(sql) => conn
                .batch_execute(&sql)
                .map_err(|e| Error::database("restoring the session's settings", e)),
            None => Ok(()),
        };
        let value = result?;
        restored?;
        Ok(value)
    }

    /// Settings for a migration's statements inside its transaction.
    pub(crate) fn migration_local(&self) -> Option<String> {
        self.dialect
            .migration_settings_local(&self.saved, &self.guardrails)
    }

    /// Settings for a migration's statements outside a transaction, and the
    /// tool's settings to return to afterwards.
    pub(crate) fn migration_session(&self) -> Option<(String, String)> {
        let during = self
            .dialect
            .migration_settings_session(&self.saved, &self.guardrails)?;
        Some((
            during,
            self.dialect
                .after_migration_session(&self.settings, &self.saved),
        ))
    }

    /// Back to the tool's settings inside a migration's transaction, before
    /// its row is written.
    pub(crate) fn tool_local(&self) -> Option<String> {
        self.dialect.tool_settings_local(&self.settings)
    }
}

/// The user's per-connection statements, in order.
fn run_setup(conn: &mut dyn MigrationConnection, setup: &[String]) -> Result<()> {
    for sql in setup {
        conn.batch_execute(sql)
            .map_err(|e| Error::database(format!("running the session statement `{sql}`"), e))?;
    }
    Ok(())
}
