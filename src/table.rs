//! The tracking table's name: validated once, then quoted per database by
//! the dialect.

/// Default name of the tracking table.
pub const DEFAULT_TABLE: &str = "schema_migrations";

/// A plain SQL identifier, optionally schema-qualified (`schema.table`).
/// Only `[A-Za-z_][A-Za-z0-9_]*` parts of at most 63 characters are accepted,
/// so a name can never carry SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    schema: Option<String>,
    name: String,
}

impl TableName {
    /// Parses `NAME` or `SCHEMA.NAME`.
    pub fn parse(input: &str) -> Result<Self, InvalidTableName> {
        let invalid = |reason: &str| InvalidTableName {
            name: input.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = input.split('.').collect();
        if parts.len() > 2 {
            return Err(invalid("use NAME or SCHEMA.NAME"));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(invalid("a part of the name is empty"));
            }
            if part.len() > 63 {
                return Err(invalid("a part is longer than 63 characters"));
            }
            let mut chars = part.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(
                    "only letters, digits and underscores are allowed, not starting with a digit",
                ));
            }
        }
        Ok(match parts.as_slice() {
            [schema, name] => TableName {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            },
            _ => TableName {
                schema: None,
                name: input.to_string(),
            },
        })
    }

    /// The schema part, if the name is qualified.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The table part.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same table in `schema` (a schema found in the catalog, so any
    /// text: every use quotes it as an identifier or binds it as a value,
    /// never splices it raw).
    pub(crate) fn in_schema(&self, schema: &str) -> TableName {
        TableName {
            schema: Some(schema.to_string()),
            name: self.name.clone(),
        }
    }

    /// The name `<table><suffix>` beside this table (same schema), for the
    /// objects the tool keeps next to it; `None` when it would pass the
    /// 63 characters every backend accepts.
    pub(crate) fn beside(&self, suffix: &str) -> Option<TableName> {
        let name = format!("{}{suffix}", self.name);
        (name.len() <= 63).then(|| TableName {
            schema: self.schema.clone(),
            name,
        })
    }
}

/// A tracking-table name that is not a plain identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid table name `{name}`: {reason}")]
pub struct InvalidTableName {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Default for TableName {
    fn default() -> Self {
        TableName {
            schema: None,
            name: DEFAULT_TABLE.to_string(),
        }
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_qualified_names() {
        assert_eq!(
            TableName::parse("schema_migrations").unwrap().to_string(),
            "schema_migrations"
        );
        let qualified = TableName::parse("app._Migrations2").unwrap();
        assert_eq!(qualified.schema(), Some("app"));
        assert_eq!(qualified.name(), "_Migrations2");
        assert_eq!(qualified.to_string(), "app._Migrations2");
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "a.b.c",
            ".x",
            "x.",
            "1abc",
            "users; DROP TABLE users",
            "a-b",
            "\"quoted\"",
            "name with space",
            "tabl€",
            &"x".repeat(64),
        ] {
            let err = TableName::parse(bad).expect_err(bad);
            assert_eq!(err.name, bad);
        }
    }
}
