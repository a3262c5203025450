package threadloop.tomcat;

import java.util.Properties;

/**
 * The PostgreSQL server, as threadloop hands it to a stack: one environment
 * variable a field (THREADLOOP_PG_HOST, _PORT, _USER, _PASSWORD, _DBNAME;
 * stacks/CONTRACT.md), turned into what pgjdbc takes: a
 * `jdbc:postgresql://host:port/dbname` URL and properties (user, password,
 * the application name). The credentials stay in the properties, never in a
 * message.
 */
record PgEndpoint(String jdbcUrl, Properties props, String endpoint) {

    /** From the environment; null when threadloop gave no server (no THREADLOOP_PG_HOST). */
    static PgEndpoint fromEnv() {
        String host = System.getenv("THREADLOOP_PG_HOST");
        if (host == null || host.isBlank()) {
            return null;
        }
        if (host.startsWith("/")) {
            throw new IllegalArgumentException("pgjdbc cannot reach a Unix socket (" + host + "): give a TCP host");
        }
        String port = required("THREADLOOP_PG_PORT");
        String user = required("THREADLOOP_PG_USER");
        String db = required("THREADLOOP_PG_DBNAME");
        String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        String endpoint = hostPart + ":" + port;
        Properties p = new Properties();
        p.setProperty("user", user);
        String password = System.getenv("THREADLOOP_PG_PASSWORD");
        if (password != null) {
            p.setProperty("password", password);
        }
        // The runner filters the server's statistics by this name (engine/src/db/mod.rs).
        p.setProperty("ApplicationName", "threadloop-cell");
        return new PgEndpoint("jdbc:postgresql://" + endpoint + "/" + db, p, endpoint);
    }

    private static String required(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set (threadloop sets it with THREADLOOP_PG_HOST)");
        }
        return v;
    }
}
