//! Printing: the output settings of a run, styles, and the JSON document
//! every command prints with `--json` (one, always, on stdout).

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::{json, Value};

use super::database::UrlSource;
use crate::database_url::DatabaseUrl;

pub(crate) const GREEN: Style = AnsiColor::Green.on_default();
pub(crate) const YELLOW: Style = AnsiColor::Yellow.on_default();
pub(crate) const RED: Style = AnsiColor::Red.on_default().bold();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const BOLD: Style = Style::new().bold();

/// How this run prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
}

impl Out {
    /// Human output beyond errors.
    pub(crate) fn human(&self) -> bool {
        !self.json && !self.quiet
    }
}

/// The database a command works on, and where its URL came from.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub url: DatabaseUrl,
    pub source: UrlSource,
    /// False for an SQLite file that does not exist (read as empty).
    pub exists: bool,
}

impl Target {
    /// `app.db (embedded default: …)`, and a note when the file is missing.
    pub(crate) fn describe(&self) -> String {
        let missing = match self.exists {
            true => "",
            false => "; the file does not exist: read as an empty database, nothing created",
        };
        format!(
            "{} {DIM}({}{missing}){DIM:#}",
            self.url,
            self.source.describe()
        )
    }

    pub(crate) fn json(&self) -> Value {
        let mut value = json!({ "url": self.url.to_string(), "source": self.source.json() });
        if !self.exists {
            value["exists"] = json!(false);
        }
        value
    }
}

/// A report as a JSON object with the database beside its fields. Keys
/// are sorted in every document (serde_json's map), so each reads the same.
pub(crate) fn document(report: &impl Serialize, target: Option<&Target>) -> Value {
    let mut value =
        serde_json::to_value(report).unwrap_or_else(|e| json!({ "encoding_error": e.to_string() }));
    if !value.is_object() {
        value = json!({ "value": value });
    }
    if let Some(target) = target {
        value["database"] = target.json();
    }
    value
}

pub(crate) fn print_json(value: &Value) {
    // A `Value` always encodes.
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| String::from("{}"));
    anstream::println!("{text}");
}

/// `1.3 ms`, `2.41 s`.
pub(crate) fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

pub(crate) fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn description_width<'a>(descriptions: impl Iterator<Item = &'a str>) -> usize {
    descriptions
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 60)
}

pub(crate) fn local_time(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map(|t| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
    .unwrap_or_else(|| String::from("-"))
}
