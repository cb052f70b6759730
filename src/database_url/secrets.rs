//! Finding every password-like part of a server URL, and removing it from
//! text. Passwords reach output in more forms than the URL grammar allows:
//! an unencoded `@` (libpq splits at the first `@`, URL parsers at the last,
//! so an error may echo the part between), an unencoded `/` that makes the
//! password read as a port, a `password=` query parameter, percent-encoding.

/// What [`find`] learnt about a URL.
pub(super) struct Found {
    /// The URL as written, every password replaced by `***`.
    pub masked: String,
    /// Texts to scrub from messages, longest first.
    pub secrets: Vec<String>,
}

/// Parts shorter than this are not scrubbed on their own: replacing every
/// `ab` in a message would garble it more than it protects.
const SHORTEST_PIECE: usize = 3;

pub(super) fn find(raw: &str) -> Found {
    let mut secrets = Vec::new();
    let mut masked = raw.to_string();
    if let Some((scheme, rest)) = raw.split_once("://") {
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let mut authority_and_path = before_query.to_string();
        // User-info ends at the last `@` before the query, whatever `/` or
        // `@` the password holds unencoded.
        if let Some(at) = before_query.rfind('@') {
            let userinfo = &before_query[..at];
            if let Some((user, password)) = userinfo.split_once(':') {
                if !password.is_empty() {
                    add_password(&mut secrets, password);
                    authority_and_path = format!("{user}:***{}", &before_query[at..]);
                }
            }
        }
        let query = query.map(|q| mask_query(q, &mut secrets));
        masked = match query {
            Some(query) => format!("{scheme}://{authority_and_path}?{query}"),
            None => format!("{scheme}://{authority_and_path}"),
        };
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    Found { masked, secrets }
}

/// A password as written, decoded, and the pieces a parser splitting at
/// the first `@` or `/` could echo.
fn add_password(secrets: &mut Vec<String>, password: &str) {
    secrets.push(password.to_string());
    if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
        secrets.push(decoded.into_owned());
    }
    for piece in password.split(['@', '/', ':']) {
        if piece.len() >= SHORTEST_PIECE {
            secrets.push(piece.to_string());
            if let Ok(decoded) = percent_encoding::percent_decode_str(piece).decode_utf8() {
                secrets.push(decoded.into_owned());
            }
        }
    }
}

/// `password=…` (any case) in a query string, masked.
fn mask_query(query: &str, secrets: &mut Vec<String>) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("password") && !value.is_empty() => {
                add_password(secrets, value);
                format!("{key}=***")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = match secret.len() >= SHORTEST_PIECE {
            true => text.replace(secret.as_str(), "***"),
            false => replace_whole_words(&text, secret),
        };
    }
    text
}

/// A very short password is removed only where it stands on its own, so a
/// password `ab` does not turn `table` into `t***le`.
fn replace_whole_words(text: &str, secret: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + secret.len()..].chars().next();
        let alone =
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if alone { "***" } else { secret });
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}
