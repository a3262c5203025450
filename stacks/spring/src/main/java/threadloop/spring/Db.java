package threadloop.spring;

import threadloop.jvm.IoKind;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * The `postgres` I/O, one query per request, the same three as
 * engine/src/db/mod.rs checked the same way: through Spring's JdbcTemplate
 * on Spring Boot's HikariCP (blocking), or through Spring's DatabaseClient
 * on R2DBC PostgreSQL and r2dbc-pool (non-blocking). Either may be null
 * when the cell does not use it.
 */
final class Db {
    /** Rows of `products` the runner seeds (engine/src/db/schema.rs). */
    private static final int PRODUCTS = 100_000;

    private final Options.Query query;
    private final JdbcTemplate jdbc;
    private final DatabaseClient r2dbc;

    Db(Options.Query query, JdbcTemplate jdbc, DatabaseClient r2dbc) {
        this.query = query;
        this.jdbc = jdbc;
        this.r2dbc = r2dbc;
    }

    /**
     * Opens every connection of the pools and runs one query of the cell's
     * kind through each before the server listens, so connecting is not in
     * the measured window and an unseeded schema fails start-up.
     */
    static void warm(DataSource ds, ConnectionFactory cf, int size, Db db) throws SQLException {
        if (ds != null) {
            List<java.sql.Connection> all = new ArrayList<>();
            try {
                for (int i = 0; i < size; i++) {
                    all.add(ds.getConnection());
                }
            } finally {
                for (java.sql.Connection c : all) {
                    c.close();
                }
            }
            db.call(0);
        }
        if (cf instanceof ConnectionPool pool) {
            pool.warmup().block();
        }
        if (cf != null) {
            db.start(0).block();
        }
    }

    /** One blocking query, lasting `ioMs` for `sleep`; throws a Failure on an error or a wrong answer. */
    void call(double ioMs) {
        if (jdbc == null) {
            throw Io.noDatabase();
        }
        int id = 1 + ThreadLocalRandom.current().nextInt(PRODUCTS);
        Object arg = query == Options.Query.SLEEP ? (Object) (ioMs / 1000.0) : (Object) id;
        List<String> rows;
        try {
            rows = jdbc.query(query.jdbc, (rs, n) -> rs.getString(1), arg);
        } catch (RuntimeException e) {
            throw Io.Failure.of(IoKind.POSTGRES, e);
        }
        check(id, rows);
    }

    /** The same query, non-blocking: the Mono completes when the answer is in and checked. */
    Mono<Void> start(double ioMs) {
        if (r2dbc == null) {
            return Mono.error(Io.noDatabase());
        }
        int id = 1 + ThreadLocalRandom.current().nextInt(PRODUCTS);
        Object arg = query == Options.Query.SLEEP ? (Object) (ioMs / 1000.0) : (Object) id;
        // pg_sleep's `void` is not read: the row is all the check needs.
        return r2dbc.sql(query.r2dbc).bind(0, arg)
                .map(row -> query == Options.Query.SLEEP ? "" : String.valueOf(row.get(0)))
                .all().collectList()
                .onErrorMap(e -> Io.Failure.of(IoKind.POSTGRES, e))
                .doOnNext(rows -> check(id, rows))
                .then();
    }

    private void check(int id, List<String> rows) {
        if (rows.size() != 1) {
            throw new Io.Failure("postgres: " + query.flag + " returned " + rows.size() + " rows, expected 1");
        }
        String first = rows.get(0);
        if (query == Options.Query.POINT && !("product-" + id).equals(first)) {
            throw new Io.Failure("postgres: products[" + id + "] is " + first + ", expected product-" + id);
        }
        if (query == Options.Query.UPDATE && !Integer.toString(id).equals(first)) {
            throw new Io.Failure("postgres: update of " + id + " returned " + first);
        }
    }
}
