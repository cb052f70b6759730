//! The databases of a fan-out run: a targets file (one URL a line, `#`
//! comments, `${VAR}` from the environment) and repeated `--database-url`.

use std::path::Path;

use crate::database_url::{mask_unparsed, DatabaseUrl};

/// One database of a fan-out run.
#[derive(Debug, Clone)]
pub(crate) struct FanoutTarget {
    /// What output shows: the URL as written, before `${VAR}` expansion,
    /// with any literal password masked, so secrets never reach the output;
    /// `URL/SCHEMA` for a schema of it (`--schemas`).
    pub label: String,
    /// The database's part of the label: the URL as shown.
    pub database: String,
    pub url: DatabaseUrl,
    /// Where it was named: `--database-url` or `FILE line N`.
    pub origin: String,
    /// With `--schemas`: the schema of the database that is this target.
    pub schema: Option<String>,
    /// With `--schemas`: why this database has no schema to work on (it
    /// could not be read, or none matched); its row reports it.
    pub no_schemas: Option<String>,
    /// Values substituted from the environment; scrubbed from messages.
    secrets: Vec<String>,
}

impl FanoutTarget {
    /// A target from a URL given on the command line.
    pub(crate) fn from_flag(text: &str) -> Result<Self, String> {
        Self::from_source(text, "--database-url")
    }

    /// A target from a URL found elsewhere (`DATABASE_URL`, `.env`).
    pub(crate) fn from_source(text: &str, origin: &str) -> Result<Self, String> {
        let url = DatabaseUrl::parse(text).map_err(|e| e.to_string())?;
        Ok(FanoutTarget::new(
            url.to_string(),
            url,
            origin.to_string(),
            Vec::new(),
        ))
    }

    fn new(label: String, url: DatabaseUrl, origin: String, secrets: Vec<String>) -> Self {
        FanoutTarget {
            database: label.clone(),
            label,
            url,
            origin,
            schema: None,
            no_schemas: None,
            secrets,
        }
    }

    /// The target that is `schema` of this database.
    pub(crate) fn in_schema(&self, schema: &str) -> FanoutTarget {
        FanoutTarget {
            label: format!("{}/{schema}", self.database),
            schema: Some(schema.to_string()),
            ..self.clone()
        }
    }

    /// This database, reported as failed for `reason` (`--schemas`).
    pub(crate) fn without_schemas(&self, reason: String) -> FanoutTarget {
        FanoutTarget {
            no_schemas: Some(reason),
            ..self.clone()
        }
    }

    /// Removes the password and every expanded variable's value from `text`.
    pub(crate) fn redact(&self, text: &str) -> String {
        scrub(&self.url.redact(text), &self.secrets)
    }
}

fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        text = text.replace(secret.as_str(), "***");
    }
    text
}

/// Reads a targets file. An unset variable or a bad URL is an error naming
/// the file and line.
pub(crate) fn read_file(path: &Path) -> Result<Vec<FanoutTarget>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text, path, |name| std::env::var(name).ok())
}

/// The parser behind [`read_file`], with the environment passed in. A `#`
/// starts a comment at the start of a line or after whitespace (a `#`
/// inside a URL, e.g. in a password, is kept: use `${VAR}` for those).
pub(crate) fn parse(
    text: &str,
    path: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<FanoutTarget>, String> {
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = without_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        let at_line = |reason: String| format!("{} line {}: {reason}", path.display(), index + 1);
        let (expanded, secrets) = expand(line, &env).map_err(at_line)?;
        let url =
            DatabaseUrl::parse(&expanded).map_err(|e| at_line(scrub(&e.to_string(), &secrets)))?;
        targets.push(FanoutTarget::new(
            mask_unparsed(line),
            url,
            format!("{} line {}", path.display(), index + 1),
            secrets,
        ));
    }
    Ok(targets)
}

fn without_comment(line: &str) -> &str {
    let mut previous_blank = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_blank {
            return &line[..i];
        }
        previous_blank = c.is_whitespace();
    }
    line
}

/// Replaces `${NAME}`; returns the text and the substituted values.
fn expand(
    line: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), String> {
    let mut out = String::with_capacity(line.len());
    let mut secrets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(String::from("`${` without a closing `}`"));
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!("`${{{name}}}` is not a variable name"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        out.push_str(&value);
        secrets.push(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DB_PASS" => Some(String::from("s3cr3t!")),
            "HOST" => Some(String::from("db.internal")),
            _ => None,
        }
    }

    #[test]
    fn parses_comments_blanks_and_variables() {
        let text = "# tenants\n\n  sqlite://a.db  # the first tenant\npostgres://app:${DB_PASS}@${HOST}/t1\n";
        let targets = parse(text, Path::new("t.txt"), env).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].label, "sqlite://a.db");
        assert_eq!(
            targets[0].url.sqlite_path(),
            Some(Path::new("a.db")),
            "the trailing comment is not part of the path"
        );
        assert_eq!(targets[0].origin, "t.txt line 3");
        assert_eq!(targets[1].label, "postgres://app:***@${HOST}/t1");
        assert_eq!(
            targets[1].url.as_driver_str(),
            "postgres://app:s3cr3t!@db.internal/t1"
        );
        assert_eq!(
            targets[1].redact("login s3cr3t! failed at db.internal"),
            "login *** failed at ***"
        );
        let literal = parse("mysql://root:hunter2@127.0.0.1/db", Path::new("t"), env).unwrap();
        assert_eq!(literal[0].label, "mysql://root:***@127.0.0.1/db");
    }

    #[test]
    fn a_hash_inside_a_url_is_kept() {
        let targets = parse("sqlite://data/a#b.db  # tenant a", Path::new("t"), env).unwrap();
        assert_eq!(targets[0].url.sqlite_path(), Some(Path::new("data/a#b.db")));
    }

    #[test]
    fn unset_or_bad_variables_name_the_line() {
        let err = parse(
            "sqlite://a.db\nmysql://u:${NOPE}@h/db\n",
            Path::new("t"),
            env,
        )
        .unwrap_err();
        assert_eq!(err, "t line 2: environment variable NOPE is not set");
        let err = parse("mysql://u:${1X}@h/db", Path::new("t"), env).unwrap_err();
        assert!(err.contains("not a variable name"), "{err}");
        let err = parse("mysql://u:${DB_PASS@h/db", Path::new("t"), env).unwrap_err();
        assert!(err.contains("closing"), "{err}");
        let err = parse("postgres://u:${DB_PASS}@h:99999/db", Path::new("t"), env).unwrap_err();
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
