package threadloop.spring;

import java.util.Arrays;

/**
 * The command line: threadloop's factors for a Spring cell, as flags
 * (stacks/CONTRACT.md, "Foreign stacks"). Unset flags mean Spring Boot's own
 * defaults (server.tomcat.threads.max 200, min-spare 10, accept-count 100,
 * max-connections 8192; a HikariCP or R2DBC pool of 10).
 */
record Options(
        int port,
        Mode mode,
        Integer maxThreads,
        Integer minSpare,
        Integer acceptCount,
        Integer maxConnections,
        Pinning pinning,
        Client client,
        Integer dbPool,
        Query query,
        String downstream,
        Double cpuItersPerMs) {

    /** Which configuration of the one application serves the cell. */
    enum Mode {
        /** A blocking @RestController on Spring Boot's Tomcat pool (`spring-mvc`). */
        MVC("mvc"),
        /** The controller returns a CompletableFuture composed from WebClient (`spring-mvc-async`). */
        MVC_ASYNC("mvc-async"),
        /** The blocking controller with spring.threads.virtual.enabled=true (`spring-mvc-virtual`). */
        MVC_VIRTUAL("mvc-virtual"),
        /** A WebFlux handler on Reactor Netty (`spring-webflux`). */
        WEBFLUX("webflux");

        final String flag;

        Mode(String flag) {
            this.flag = flag;
        }
    }

    /** What, if anything, pins a virtual thread to its carrier during the I/O. */
    enum Pinning {
        NONE("none"),
        /** The blocking I/O call runs inside a `synchronized` block. */
        SYNCHRONIZED("synchronized"),
        /** The I/O is a JDBC query through pgjdbc, whose lock the driver takes itself. */
        JDBC("jdbc");

        final String flag;

        Pinning(String flag) {
            this.flag = flag;
        }
    }

    /** WebFlux's client: non-blocking (WebClient, R2DBC) or the blocking ones called on the event loop. */
    enum Client {
        ASYNC("async"),
        /** RestClient and JDBC called inside the WebFlux handler, on Netty's event-loop thread. */
        BLOCKING("blocking");

        final String flag;

        Client(String flag) {
            this.flag = flag;
        }
    }

    /** The cell's `db_query`. */
    enum Query {
        /** `SELECT pg_sleep(io_ms / 1000)`: the query lasts io_ms on the server. */
        SLEEP("sleep", "SELECT pg_sleep(?)", "SELECT pg_sleep($1)"),
        /** A primary-key lookup of a random product, checked against `product-<id>`. */
        POINT("point", "SELECT name FROM products WHERE id = ?", "SELECT name FROM products WHERE id = $1"),
        /** A row update of a random product's stock, returning its id. */
        UPDATE("update", "UPDATE inventory SET stock = stock - 1 WHERE product_id = ? RETURNING product_id",
                "UPDATE inventory SET stock = stock - 1 WHERE product_id = $1 RETURNING product_id::text");

        final String flag;
        /** JDBC's placeholders. */
        final String jdbc;
        /** R2DBC PostgreSQL's placeholders. */
        final String r2dbc;

        Query(String flag, String jdbc, String r2dbc) {
            this.flag = flag;
            this.jdbc = jdbc;
            this.r2dbc = r2dbc;
        }
    }

    static final String USAGE = "usage: serve --java 21|25 [--port N] [--mode mvc|mvc-async|mvc-virtual|webflux]"
            + " [--max-threads N] [--min-spare N] [--accept-count N] [--max-connections N]"
            + " [--pinning none|synchronized|jdbc] [--client async|blocking] [--db-pool N]"
            + " [--db-query sleep|point|update] [--downstream HOST:PORT] [--cpu-iters-per-ms X]";

    /** Whether the PostgreSQL pool is wanted: the cell named its size or query. */
    boolean wantsDb() {
        return dbPool != null || query != null;
    }

    int pool() {
        return dbPool != null ? dbPool : 10;
    }

    Query dbQuery() {
        return query != null ? query : Query.SLEEP;
    }

    /** The blocking drivers (HikariCP and pgjdbc, RestClient): every MVC mode, and WebFlux's mistake. */
    boolean blockingClients() {
        return mode != Mode.WEBFLUX || client == Client.BLOCKING;
    }

    static Options parse(String[] args) {
        int port = 0;
        Mode mode = Mode.MVC;
        Integer maxThreads = null, minSpare = null, acceptCount = null, maxConnections = null, dbPool = null;
        Pinning pinning = Pinning.NONE;
        Client client = Client.ASYNC;
        Query query = null;
        String downstream = null;
        Double cpu = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            String v = args[++i];
            switch (flag) {
                case "--port" -> port = number(flag, v, 0, 65535);
                case "--mode" -> mode = choice(Mode.values(), m -> m.flag, flag, v);
                case "--max-threads" -> maxThreads = number(flag, v, 1, 1_000_000);
                case "--min-spare" -> minSpare = number(flag, v, 0, 1_000_000);
                case "--accept-count" -> acceptCount = number(flag, v, 1, 1_000_000);
                case "--max-connections" -> maxConnections = number(flag, v, -1, 10_000_000);
                case "--pinning" -> pinning = choice(Pinning.values(), p -> p.flag, flag, v);
                case "--client" -> client = choice(Client.values(), c -> c.flag, flag, v);
                case "--db-pool" -> dbPool = number(flag, v, 1, 10_000);
                case "--db-query" -> query = choice(Query.values(), q -> q.flag, flag, v);
                case "--downstream" -> downstream = hostPort(flag, v);
                case "--cpu-iters-per-ms" -> {
                    try {
                        cpu = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        cpu = Double.NaN;
                    }
                    if (!(cpu > 0) || cpu.isInfinite()) {
                        throw new IllegalArgumentException(flag + ": `" + v + "` is not a positive number");
                    }
                }
                default -> throw new IllegalArgumentException("unknown flag " + flag);
            }
        }
        if (pinning != Pinning.NONE && mode != Mode.MVC_VIRTUAL) {
            // Only a virtual thread has a carrier to pin: elsewhere the flag would mean nothing.
            throw new IllegalArgumentException("--pinning " + pinning.flag + " applies to --mode mvc-virtual");
        }
        if (client != Client.ASYNC && mode != Mode.WEBFLUX) {
            // Spring MVC's clients are what the mode says (blocking, or WebClient in mvc-async).
            throw new IllegalArgumentException("--client " + client.flag + " applies to --mode webflux");
        }
        return new Options(port, mode, maxThreads, minSpare, acceptCount, maxConnections, pinning, client,
                dbPool, query, downstream, cpu);
    }

    private static int number(String flag, String v, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(flag + ": `" + v + "` is not a whole number from " + min + " to " + max);
    }

    private static <E> E choice(E[] values, java.util.function.Function<E, String> name, String flag, String v) {
        for (E e : values) {
            if (name.apply(e).equals(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException(flag + ": `" + v + "` is not one of "
                + Arrays.stream(values).map(name).toList());
    }

    private static String hostPort(String flag, String v) {
        int colon = v.lastIndexOf(':');
        if (colon > 0) {
            try {
                int p = Integer.parseInt(v.substring(colon + 1));
                if (p > 0 && p < 65536) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(flag + ": `" + v + "` is not HOST:PORT");
    }
}
