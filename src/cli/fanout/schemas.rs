//! `--schemas PATTERN`: each matching schema of each PostgreSQL database
//! becomes a target of its own (schema-per-tenant).

use super::run::run_all;
use super::targets::FanoutTarget;
use crate::cli::failure::{CliError, Failure};
use crate::connection::{Access, AnyConnection};
use crate::dialect::Dialect;

/// Refuses, before anything connects, what cannot work: a database that is
/// not PostgreSQL, or a schema-qualified tracking table (each schema keeps
/// its own).
pub(super) fn check_usage(
    pattern: &str,
    targets: &[FanoutTarget],
    table: Option<&str>,
) -> Result<(), Failure> {
    let usage = |text: String| Err(Failure::from(CliError::Usage(text)));
    if pattern.is_empty() {
        return usage(String::from(
            "--schemas needs a LIKE pattern, e.g. 'tenant_%'",
        ));
    }
    if let Some(other) = targets
        .iter()
        .find(|t| t.url.dialect() != Dialect::Postgres)
    {
        return usage(format!(
            "--schemas works on PostgreSQL databases only: {} ({}) is {}",
            other.label,
            other.origin,
            other.url.dialect().name()
        ));
    }
    if let Some(table) = table.filter(|t| t.contains('.')) {
        return usage(format!(
            "--schemas keeps a tracking table in each schema: give --table an unqualified name, not `{table}`"
        ));
    }
    Ok(())
}

/// The schemas matching `pattern` in each database, in the order of the
/// databases, then by name; a database that cannot be read or has no
/// matching schema stays as one target that reports why. The databases
/// are read `parallel` at a time, one connection each.
pub(super) fn expand(
    databases: &[FanoutTarget],
    pattern: &str,
    parallel: usize,
) -> Vec<FanoutTarget> {
    let outcomes = run_all(
        databases,
        parallel,
        false,
        |_: &mut (), target| {
            let mut conn = AnyConnection::connect(&target.url, Access::ReadOnly)?;
            crate::schemas_matching(&mut conn, pattern)
        },
        |_, _| {},
    );
    let mut targets = Vec::new();
    for outcome in outcomes {
        let database = &databases[outcome.index];
        match outcome.result {
            Some(Ok(schemas)) if schemas.is_empty() => {
                targets.push(database.without_schemas(format!(
                    "no schema matches `{pattern}` (LIKE: `%` any text, `_` one character; system schemas never match)"
                )))
            }
            Some(Ok(schemas)) => targets.extend(schemas.iter().map(|s| database.in_schema(s))),
            Some(Err(message)) => targets.push(database.without_schemas(message)),
            None => {}
        }
    }
    targets
}
