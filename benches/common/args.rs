//! The benches' command-line options (`--name value`), shared by every bench
//! binary through `#[path]`: each uses the helpers it needs.

/// The value after `name`, if given.
pub fn value(args: &[String], name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// The number after `name`, or `default` when it is absent or not a number.
pub fn number(args: &[String], name: &str, default: usize) -> usize {
    value(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
