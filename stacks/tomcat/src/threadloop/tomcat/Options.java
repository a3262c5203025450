package threadloop.tomcat;

/**
 * The command line: threadloop's factors for a Tomcat cell, as flags (see
 * stacks/CONTRACT.md, "Foreign stacks"). Defaults are Tomcat's own
 * (maxThreads 200, minSpareThreads 10, acceptCount 100, maxConnections 8192
 * for NIO, processorCache 200), so an unset flag means "what a default
 * deployment does".
 */
record Options(
        int port,
        Mode mode,
        int maxThreads,
        int minSpare,
        int acceptCount,
        int maxConnections,
        int processorCache,
        Pinning pinning,
        Integer dbPool,
        Db.Query dbQuery,
        String downstream,
        Double cpuItersPerMs) {

    /** How a request waits for its I/O. */
    enum Mode {
        /** A blocking servlet on Tomcat's bounded pool of platform threads. */
        POOL,
        /** The Servlet async API: the request thread is released during the I/O. */
        ASYNC,
        /** The same blocking servlet on one virtual thread per request (Java 21+). */
        VIRTUAL
    }

    /** What, if anything, pins a virtual thread to its carrier during the I/O. */
    enum Pinning {
        NONE,
        /** The blocking I/O call runs inside a `synchronized` block. */
        SYNCHRONIZED,
        /**
         * The I/O is a pgjdbc 42.5.5 query, whose QueryExecutorImpl.execute is
         * synchronized: the driver pins by itself, so nothing is added.
         */
        JDBC
    }

    static final String USAGE = "usage: serve --java 21|25 [--port N] [--mode pool|async|virtual]"
            + " [--max-threads N] [--min-spare N] [--accept-count N] [--max-connections N]"
            + " [--processor-cache stock|unbounded|N]"
            + " [--pinning none|synchronized|jdbc] [--db-pool N] [--db-query sleep|point|update]"
            + " [--downstream HOST:PORT] [--cpu-iters-per-ms X]";

    /** Whether the PostgreSQL pool is wanted: the cell named its size or query. */
    boolean wantsDb() {
        return dbPool != null || dbQuery != null;
    }

    static Options parse(String[] args) {
        int port = 0;
        Mode mode = Mode.POOL;
        int maxThreads = 200, minSpare = 10, acceptCount = 100, maxConnections = 8192;
        int processorCache = 200;
        Pinning pinning = Pinning.NONE;
        Integer dbPool = null;
        Db.Query dbQuery = null;
        String downstream = null;
        Double cpuItersPerMs = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            String v = args[++i];
            switch (flag) {
                case "--port" -> port = number(flag, v, 0, 65535);
                case "--mode" -> mode = choice(Mode.class, flag, v);
                case "--max-threads" -> maxThreads = number(flag, v, 1, 1_000_000);
                case "--min-spare" -> minSpare = number(flag, v, 0, 1_000_000);
                case "--accept-count" -> acceptCount = number(flag, v, 1, 1_000_000);
                case "--max-connections" -> maxConnections = number(flag, v, -1, 10_000_000);
                // -1: no limit (Tomcat's spelling).
                // The factor's names (stock: Tomcat's 200; unbounded: -1), or a count.
                case "--processor-cache" -> processorCache = switch (v) {
                    case "stock" -> 200;
                    case "unbounded" -> -1;
                    default -> number(flag, v, -1, 10_000_000);
                };
                case "--pinning" -> pinning = choice(Pinning.class, flag, v);
                case "--db-pool" -> dbPool = number(flag, v, 1, 10_000);
                case "--db-query" -> dbQuery = choice(Db.Query.class, flag, v);
                case "--downstream" -> downstream = hostPort(flag, v);
                case "--cpu-iters-per-ms" -> {
                    try {
                        cpuItersPerMs = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        cpuItersPerMs = Double.NaN;
                    }
                    if (!(cpuItersPerMs > 0) || cpuItersPerMs.isInfinite()) {
                        throw new IllegalArgumentException(flag + ": `" + v + "` is not a positive number");
                    }
                }
                default -> throw new IllegalArgumentException("unknown flag " + flag);
            }
        }
        if (mode == Mode.VIRTUAL && Runtime.version().feature() < 21) {
            throw new IllegalArgumentException("--mode virtual needs Java 21 or later, this is "
                    + System.getProperty("java.version"));
        }
        if (mode == Mode.ASYNC && pinning == Pinning.SYNCHRONIZED) {
            // In async mode no request thread blocks on the I/O, so there is
            // no blocking call to wrap: the flag would silently mean nothing.
            throw new IllegalArgumentException("--pinning synchronized applies to pool and virtual modes");
        }
        return new Options(port, mode, maxThreads, minSpare, acceptCount, maxConnections,
                processorCache, pinning, dbPool, dbQuery, downstream, cpuItersPerMs);
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

    private static <E extends Enum<E>> E choice(Class<E> type, String flag, String v) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException(flag + ": `" + v + "` is not one of "
                + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase());
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

    /** The flag's spelling of an enum value (`pool`, `synchronized`). */
    static String name(Enum<?> e) {
        return e.name().toLowerCase();
    }
}
