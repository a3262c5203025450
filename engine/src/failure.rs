//! How a failed cell process says why: one machine-readable line on stderr,
//! `threadloop-cell error: <cause chain>`, which the runner records as the
//! cell's error. A backtrace follows it only when one was asked for
//! (`RUST_BACKTRACE` / `RUST_LIB_BACKTRACE` set).

/// What the error line starts with.
pub const PREFIX: &str = "threadloop-cell error: ";

/// The cause chain on one line (anyhow's `{:#}`: "outer: inner: root"),
/// whitespace runs (libpq's multi-line messages) collapsed to one space.
pub fn line(e: &anyhow::Error) -> String {
    let chain = format!("{e:#}");
    format!(
        "{PREFIX}{}",
        chain.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// Writes the error line to stderr, then the backtrace if one was captured.
pub fn report(e: &anyhow::Error) {
    use std::backtrace::BacktraceStatus;
    eprintln!("{}", line(e));
    if e.backtrace().status() == BacktraceStatus::Captured {
        eprintln!("Stack backtrace:\n{}", e.backtrace());
    }
}

/// The cause from a cell process's stderr, and what came after its line
/// (a backtrace, when one was asked for); `None` when there is no error line
/// (a panic, a signal).
pub fn extract(stderr: &str) -> Option<(&str, &str)> {
    let start = stderr
        .match_indices(PREFIX)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || stderr.as_bytes()[i - 1] == b'\n')?;
    let rest = &stderr[start + PREFIX.len()..];
    let (cause, after) = rest.split_once('\n').unwrap_or((rest, ""));
    // Only a backtrace follows the cause: whatever else another thread
    // printed while the process went down (a second panic on shutdown) is
    // not the cause and is left out.
    let after = after.find("Stack backtrace:").map_or("", |i| &after[i..]);
    Some((cause.trim(), after.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_line_is_the_whole_chain_on_one_line() {
        let e = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
            .context("connect to PostgreSQL at 127.0.0.1:1\n\tretry")
            .unwrap_err();
        let l = line(&e);
        assert_eq!(
            l,
            "threadloop-cell error: connect to PostgreSQL at 127.0.0.1:1 retry: connection refused"
        );
        let stderr = format!("warning: something\n{l}\nStack backtrace:\n   0: main\n");
        assert_eq!(
            extract(&stderr),
            Some((
                "connect to PostgreSQL at 127.0.0.1:1 retry: connection refused",
                "Stack backtrace:\n   0: main"
            ))
        );
        assert_eq!(extract("thread 'main' panicked at x.rs:1:1:\nboom"), None);
    }
}
