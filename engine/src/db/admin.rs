//! A plain libpq connection for set-up and bookkeeping (seeding, counts),
//! never on a measured path. The runner uses it too, so the workspace needs
//! only one synchronous PostgreSQL client.

use super::libpq::Conn;
use super::DbError;

pub struct Admin(Conn);

impl Admin {
    /// `url` in either form (keywords or `postgres://`); a connect gives up
    /// after 10 s, and the server sees `application_name=threadloop-admin`
    /// (the cells' own connections are `threadloop-cell`).
    pub fn connect(url: &str) -> Result<Admin, DbError> {
        let url = super::conninfo::with_params(
            url,
            &[
                ("connect_timeout", "10"),
                ("application_name", "threadloop-admin"),
            ],
        );
        Conn::connect(&url)
            .map(Admin)
            .map_err(|e| super::connect_error(&url, "libpq", e))
    }

    /// Runs one or more statements (the simple query protocol).
    pub fn exec(&mut self, sql: &str) -> Result<(), DbError> {
        self.0.exec(sql).map(drop).map_err(DbError)
    }

    /// The first column of the first row.
    pub fn scalar(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        self.0.exec(sql).map(|a| a.first).map_err(DbError)
    }
}
