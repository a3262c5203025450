//! The `postgres` I/O kind: a real PostgreSQL server (started once per run by
//! the runner), the schema every run seeds, the three queries, and two
//! drivers with their pools: a non-blocking one on the runtime under test
//! ([`async_driver`], the asyncpg analog) and libpq called synchronously
//! ([`blocking`], the psycopg2 analog: psycopg2 *is* libpq).
//!
//! Where the server is comes from the environment ([`URL_ENV`]), not from the
//! cell, so that credentials never land in stored results.

pub mod admin;
pub mod async_driver;
pub mod blocking;
pub mod conninfo;
mod libpq;
pub(crate) mod pool_wait;
pub mod schema;
pub mod verify;

use crate::cell::DbQuery;
use crate::cell::Factor as _;
use crate::counters::CellCounters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The connection string the runner hands every cell process: libpq keywords
/// (`host=… port=… user=… password=… dbname=…`) or a `postgres://` URL.
pub const URL_ENV: &str = "THREADLOOP_PG_URL";

/// Connections a pool opens at once. PostgreSQL forks a backend and checks
/// the password (SCRAM) for each, about 7 ms here, so a pool of 400 opened
/// one by one took 3 s before its cell's load; a few at a time overlap the
/// round trips and the two sides' hashing. Before the load, not in it.
pub const OPENERS: u32 = 8;

/// How many of a pool's `size` connections each opener opens: [`OPENERS`]
/// shares (fewer for a small pool), the remainder spread over the first.
pub fn opener_shares(size: u32) -> Vec<u32> {
    let size = size.max(1);
    let n = OPENERS.min(size);
    (0..n).map(|i| size / n + u32::from(i < size % n)).collect()
}

/// A failed query: connection lost, server error, wrong answer, pool timeout.
#[derive(Debug, thiserror::Error)]
#[error("postgres: {0}")]
pub struct DbError(pub String);

/// A failure of the cell's driver, remembered in its counters (as
/// [`check`]'s are) so that verification can say why a request failed.
pub fn err(counters: &CellCounters, e: impl std::fmt::Display) -> DbError {
    remember(counters, DbError(e.to_string()))
}

fn remember(counters: &CellCounters, e: DbError) -> DbError {
    counters.remember_db_error(&e.0);
    e
}

/// The connection string from the environment.
pub fn url_from_env() -> Result<String, DbError> {
    std::env::var(URL_ENV).map_err(|_| {
        DbError(format!(
            "a postgres cell needs {URL_ENV} (the runner starts the server and sets it)"
        ))
    })
}

/// The one prepared statement per query kind. The same SQL for both drivers,
/// so they differ only in how they wait.
pub fn sql(q: DbQuery) -> &'static str {
    match q {
        DbQuery::Sleep => "SELECT pg_sleep($1::float8)",
        DbQuery::Point => "SELECT name FROM products WHERE id = $1::int4",
        DbQuery::Update => {
            "UPDATE inventory SET stock = stock - 1 WHERE product_id = $1::int4 RETURNING product_id"
        }
    }
}

/// The parameter of one call, already in the form both drivers send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param {
    Seconds(f64),
    Id(i32),
}

/// Which product a call touches: spread over the table, deterministic per
/// process (a counter through splitmix64), no shared RNG to contend on.
/// Process-wide on purpose: it only spreads ids over the table and counts
/// nothing a cell reports ([`check`] accepts the right row for any id), so
/// it is not per-cell state and stays out of [`CellCounters`].
fn next_id() -> i32 {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut z = N
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    1 + (z % schema::PRODUCTS as u64) as i32
}

pub fn param(q: DbQuery, latency: Duration) -> Param {
    match q {
        DbQuery::Sleep => Param::Seconds(latency.as_secs_f64()),
        DbQuery::Point | DbQuery::Update => Param::Id(next_id()),
    }
}

/// Checks a call's answer: one row, and for a lookup the row that the seeded
/// schema puts at that id. `first` is the first column of the first row.
/// A right answer is counted in the cell's `counters`, a wrong one remembered.
pub fn check(
    counters: &CellCounters,
    q: DbQuery,
    p: Param,
    rows: usize,
    first: Option<&str>,
) -> Result<(), DbError> {
    let wrong = |e| remember(counters, e);
    if rows != 1 {
        return Err(wrong(DbError(format!(
            "{} returned {rows} rows, expected 1",
            q.name()
        ))));
    }
    match (q, p) {
        (DbQuery::Point, Param::Id(id)) if first != Some(schema::product_name(id).as_str()) => {
            Err(wrong(DbError(format!(
                "products[{id}] is {first:?}, expected {:?}",
                schema::product_name(id)
            ))))
        }
        (DbQuery::Update, Param::Id(id)) if first != Some(id.to_string().as_str()) => {
            Err(wrong(DbError(format!("update of {id} returned {first:?}"))))
        }
        _ => {
            counters.count_query_ok();
            Ok(())
        }
    }
}

/// Adds the per-connection settings to the run's connection string, in its
/// own form (keywords or URL, see [`conninfo`]): a bounded connect, a
/// server-side statement timeout (so a query never outlives its request by
/// much) and an application name the runner filters the server's counts by.
pub fn session_url(base: &str, statement_timeout_ms: u64) -> String {
    conninfo::with_params(
        base,
        &[
            ("connect_timeout", "10"),
            ("application_name", "threadloop-cell"),
            (
                "options",
                &format!("-c statement_timeout={statement_timeout_ms}"),
            ),
        ],
    )
}

/// Why connecting failed, naming where (never the credentials): the first
/// thing a failed cell's error says.
pub fn connect_error(conninfo: &str, driver: &str, e: impl std::fmt::Display) -> DbError {
    DbError(format!(
        "connect to PostgreSQL at {} ({driver}): {}",
        conninfo::endpoint(conninfo),
        one_line(&e.to_string())
    ))
}

/// libpq's messages span lines (`…failed: Connection refused\n\tIs the
/// server running…`); an error is recorded on one.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Connections per cell when the spec does not say (asyncpg's pool default
/// maximum is 10; HikariCP's is 10).
pub const DEFAULT_POOL: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openers_share_the_whole_pool_and_no_more() {
        for size in [0, 1, 3, OPENERS, OPENERS + 1, 10, 400, 401] {
            let shares = opener_shares(size);
            assert_eq!(shares.iter().sum::<u32>(), size.max(1), "size {size}");
            assert!(shares.len() as u32 <= OPENERS && shares.iter().all(|&s| s > 0));
            let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(hi - lo <= 1, "even shares for {size}: {shares:?}");
        }
    }
}
