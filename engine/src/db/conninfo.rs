//! The one place a connection string is extended: the user's string (libpq
//! keywords `host=… port=…` or a `postgres://` URL) plus the settings a
//! connection adds (timeouts, application name), in the same form. Both
//! drivers take the result as is: libpq's `PQconnectdb` and
//! `tokio_postgres::Config::from_str` accept both forms.

/// A `postgres://` or `postgresql://` URL (libpq's test for a URI).
pub fn is_url(conninfo: &str) -> bool {
    let s = conninfo.trim_start();
    s.starts_with("postgresql://") || s.starts_with("postgres://")
}

/// `base` with `extra` appended in `base`'s own form: URL query parameters
/// (after `?` or `&`, as the URL already has a query or not) or keywords
/// (values quoted when they need it). A setting `base` already has is
/// overridden: both libpq and tokio-postgres keep the last value.
pub fn with_params(base: &str, extra: &[(&str, &str)]) -> String {
    let base = base.trim();
    if extra.is_empty() {
        return base.to_string();
    }
    if is_url(base) {
        let query: Vec<String> = extra
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let sep = if !base.contains('?') {
            "?"
        } else if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        };
        format!("{base}{sep}{}", query.join("&"))
    } else {
        let mut out = base.to_string();
        for (k, v) in extra {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&format!("{k}={}", quote(v)));
        }
        out
    }
}

/// Where the string points, for messages: `host:port` of its first host,
/// never its credentials.
pub fn endpoint(conninfo: &str) -> String {
    match conninfo.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let host = match c.get_hosts().first() {
                Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
                #[cfg(unix)]
                Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
                None => "localhost".to_string(),
            };
            let port = c.get_ports().first().copied().unwrap_or(5432);
            format!("{host}:{port}")
        }
        Err(_) => "the given server".to_string(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A keyword value: bare when it can be, else single-quoted with `\` and `'`
/// escaped (libpq's rules, which tokio-postgres follows).
fn quote(v: &str) -> String {
    if !v.is_empty() && !v.contains([' ', '\'', '\\', '\t', '\n']) {
        return v.to_string();
    }
    let mut out = String::from("'");
    for c in v.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTRA: [(&str, &str); 3] = [
        ("connect_timeout", "10"),
        ("application_name", "threadloop-cell"),
        ("options", "-c statement_timeout=5000"),
    ];

    fn parsed(s: &str) -> tokio_postgres::Config {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn check(c: &tokio_postgres::Config, user: &str, db: &str) {
        assert_eq!(c.get_user(), Some(user));
        assert_eq!(c.get_dbname(), Some(db));
        assert_eq!(c.get_application_name(), Some("threadloop-cell"));
        assert_eq!(c.get_options(), Some("-c statement_timeout=5000"));
        assert_eq!(
            c.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(10))
        );
    }

    #[test]
    fn a_url_gets_query_parameters() {
        let s = with_params("postgres://postgres@127.0.0.1:5433/postgres", &EXTRA);
        assert_eq!(
            s,
            "postgres://postgres@127.0.0.1:5433/postgres?connect_timeout=10\
             &application_name=threadloop-cell&options=-c%20statement_timeout%3D5000"
        );
        check(&parsed(&s), "postgres", "postgres");
        assert_eq!(endpoint(&s), "127.0.0.1:5433");
    }

    #[test]
    fn a_url_with_a_query_gets_more_parameters() {
        let s = with_params("postgresql://u:p%40ss@h:1/db?sslmode=disable", &EXTRA);
        assert!(s.starts_with("postgresql://u:p%40ss@h:1/db?sslmode=disable&connect_timeout=10&"));
        let c = parsed(&s);
        check(&c, "u", "db");
        assert_eq!(c.get_password(), Some(&b"p@ss"[..]));
        let s = with_params("postgres://u@h/db?", &EXTRA);
        assert!(
            s.starts_with("postgres://u@h/db?connect_timeout=10&"),
            "{s}"
        );
        check(&parsed(&s), "u", "db");
    }

    #[test]
    fn keywords_get_keywords() {
        let s = with_params("host=127.0.0.1 port=5433 user=bench dbname=bench", &EXTRA);
        assert_eq!(
            s,
            "host=127.0.0.1 port=5433 user=bench dbname=bench connect_timeout=10 \
             application_name=threadloop-cell options='-c statement_timeout=5000'"
        );
        check(&parsed(&s), "bench", "bench");
        assert_eq!(endpoint(&s), "127.0.0.1:5433");
        assert_eq!(quote(r"it's a\b"), r"'it\'s a\\b'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn the_endpoint_names_no_credentials() {
        let e = endpoint("postgres://user:secret@db.example:6543/x");
        assert_eq!(e, "db.example:6543");
        assert_eq!(endpoint("password=secret dbname=x host=h"), "h:5432");
    }
}
