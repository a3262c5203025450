package threadloop.tomcat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The `postgres` I/O: one query per request through pgjdbc (Debian's 42.5.5,
 * a blocking driver whose QueryExecutorImpl.execute is `synchronized`) and
 * a HikariCP pool of `--db-pool` connections, the Spring Boot default pair.
 * The same three queries as engine/src/db/mod.rs, checked the same way.
 */
final class Db implements AutoCloseable {

    /** The cell's `db_query`. */
    enum Query {
        /** `SELECT pg_sleep(io_ms / 1000)`: the query lasts io_ms on the server. */
        SLEEP("SELECT pg_sleep(?)"),
        /** A primary-key lookup of a random product, checked against `product-<id>`. */
        POINT("SELECT name FROM products WHERE id = ?"),
        /** A row update of a random product's stock, returning its id. */
        UPDATE("UPDATE inventory SET stock = stock - 1 WHERE product_id = ? RETURNING product_id");

        final String sql;

        Query(String sql) {
            this.sql = sql;
        }
    }

    /** Rows of `products` the runner seeds (engine/src/db/schema.rs). */
    private static final int PRODUCTS = 100_000;

    private final HikariDataSource pool;
    private final Query query;

    /**
     * Opens the pool and every one of its connections, and runs one query,
     * before the server listens (the Rust drivers also connect up front), so
     * connecting is not inside the measured window and a database that cannot
     * be reached fails start-up.
     */
    Db(PgEndpoint url, int size, Query query) throws SQLException {
        this.query = query;
        HikariConfig c = new HikariConfig();
        c.setPoolName("threadloop-db");
        c.setJdbcUrl(url.jdbcUrl());
        c.setDataSourceProperties(url.props());
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(size);
        // How long a request waits for a free connection before it fails
        // (a 500): long, so that an undersized pool shows as queueing.
        c.setConnectionTimeout(30_000);
        c.setAutoCommit(true);
        try {
            pool = new HikariDataSource(c);
        } catch (RuntimeException e) {
            throw new SQLException("connect to PostgreSQL at " + url.endpoint() + ": " + e.getMessage(), e);
        }
        List<Connection> all = new ArrayList<>();
        try {
            for (int i = 0; i < size; i++) {
                all.add(pool.getConnection());
            }
        } finally {
            for (Connection conn : all) {
                conn.close();
            }
        }
        // One query of the cell's kind: a schema that is not seeded fails
        // start-up with the reason, and the driver's classes are loaded here
        // rather than in the measured window.
        call(0);
    }

    /** One query of the cell's kind, lasting `ioMs` for `sleep`; throws on a failure or a wrong answer. */
    void call(double ioMs) throws SQLException {
        int id = 1 + ThreadLocalRandom.current().nextInt(PRODUCTS);
        try (Connection conn = pool.getConnection();
                PreparedStatement st = conn.prepareStatement(query.sql)) {
            if (query == Query.SLEEP) {
                st.setDouble(1, ioMs / 1000.0);
            } else {
                st.setInt(1, id);
            }
            try (ResultSet rs = st.executeQuery()) {
                int rows = 0;
                String first = null;
                while (rs.next()) {
                    if (rows++ == 0) {
                        first = rs.getString(1);
                    }
                }
                check(id, rows, first);
            }
        }
    }

    private void check(int id, int rows, String first) throws SQLException {
        String name = Options.name(query);
        if (rows != 1) {
            throw new SQLException(name + " returned " + rows + " rows, expected 1");
        }
        if (query == Query.POINT && !("product-" + id).equals(first)) {
            throw new SQLException("products[" + id + "] is " + first + ", expected product-" + id);
        }
        if (query == Query.UPDATE && !Integer.toString(id).equals(first)) {
            throw new SQLException("update of " + id + " returned " + first);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
