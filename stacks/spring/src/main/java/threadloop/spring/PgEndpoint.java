package threadloop.spring;

import java.util.Map;

/**
 * The PostgreSQL server, as threadloop hands it to a stack: one environment
 * variable a field (THREADLOOP_PG_HOST, _PORT, _USER, _PASSWORD, _DBNAME;
 * stacks/CONTRACT.md), turned into Spring Boot's own properties for the
 * JDBC DataSource (HikariCP) and the R2DBC ConnectionFactory (r2dbc-pool).
 * The credentials stay in the properties, never in a message.
 */
record PgEndpoint(String host, String port, String user, String password, String db) {

    /** The runner filters the server's statistics by this name (engine/src/db/mod.rs). */
    static final String APPLICATION_NAME = "threadloop-cell";

    /** From the environment; null when threadloop gave no server (no THREADLOOP_PG_HOST). */
    static PgEndpoint fromEnv() {
        String host = System.getenv("THREADLOOP_PG_HOST");
        if (host == null || host.isBlank()) {
            return null;
        }
        if (host.startsWith("/")) {
            throw new IllegalArgumentException("pgjdbc and R2DBC cannot reach a Unix socket (" + host + "): give a TCP host");
        }
        String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return new PgEndpoint(hostPart, required("THREADLOOP_PG_PORT"), required("THREADLOOP_PG_USER"),
                System.getenv("THREADLOOP_PG_PASSWORD"), required("THREADLOOP_PG_DBNAME"));
    }

    String endpoint() {
        return host + ":" + port;
    }

    /** spring.datasource.*: Spring Boot's HikariCP, `size` connections, all opened up front. */
    void jdbc(Map<String, Object> p, int size) {
        p.put("spring.datasource.url", "jdbc:postgresql://" + endpoint() + "/" + db);
        p.put("spring.datasource.username", user);
        if (password != null) {
            p.put("spring.datasource.password", password);
        }
        p.put("spring.datasource.hikari.pool-name", "threadloop-db");
        p.put("spring.datasource.hikari.maximum-pool-size", size);
        p.put("spring.datasource.hikari.minimum-idle", size);
        // How long a request waits for a free connection before it fails
        // (a 500): HikariCP's default, 30 s, so an undersized pool queues.
        p.put("spring.datasource.hikari.connection-timeout", 30_000);
        p.put("spring.datasource.hikari.data-source-properties.ApplicationName", APPLICATION_NAME);
    }

    /** spring.r2dbc.*: Spring Boot's R2DBC pool of `size` connections. */
    void r2dbc(Map<String, Object> p, int size) {
        p.put("spring.r2dbc.url", "r2dbc:postgresql://" + endpoint() + "/" + db);
        p.put("spring.r2dbc.username", user);
        if (password != null) {
            p.put("spring.r2dbc.password", password);
        }
        p.put("spring.r2dbc.pool.initial-size", size);
        p.put("spring.r2dbc.pool.max-size", size);
        p.put("spring.r2dbc.pool.max-acquire-time", "30s");
        p.put("spring.r2dbc.properties.applicationName", APPLICATION_NAME);
    }

    private static String required(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set (threadloop sets it with THREADLOOP_PG_HOST)");
        }
        return v;
    }
}
