package threadloop.tomcat;

import threadloop.jvm.IoKind;
import threadloop.jvm.Order;

import java.io.IOException;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A request's I/O of each kind, in the two forms the modes need: `block`
 * holds the calling thread for the whole wait (pool and virtual modes);
 * `start` returns at once with a future the wait completes (async mode).
 * A failed I/O is a {@link Failure} whose message is the 500's reason.
 */
final class Io {

    /** A failed I/O: the reason names the kind (`postgres: …`, `http: …`). */
    static final class Failure extends Exception {
        Failure(IoKind kind, Throwable cause) {
            super(Options.name(kind) + ": " + reason(cause), cause);
        }

        Failure(String reason) {
            super(reason);
        }

        /**
         * The exception's class and message, following the cause chain while
         * there is no message (HttpClient's ConnectException has none), on one line.
         */
        private static String reason(Throwable e) {
            StringBuilder m = new StringBuilder(e.getClass().getSimpleName());
            Throwable t = e;
            while (t.getMessage() == null && t.getCause() != null) {
                t = t.getCause();
                m.append(": ").append(t.getClass().getSimpleName());
            }
            if (t.getMessage() != null) {
                m.append(": ").append(t.getMessage());
            }
            return String.join(" ", m.toString().trim().split("\\s+"));
        }
    }

    private final Db db;
    private final Downstream downstream;
    private final Executor dbExecutor;
    private final Executor httpExecutor;
    private final ScheduledExecutorService timer;

    /**
     * Any of these may be null: no `db` or `downstream` when the cell did not
     * configure one (the request then fails with the reason), no executors
     * or `timer` outside async mode.
     */
    Io(Db db, Downstream downstream, Executor dbExecutor, Executor httpExecutor, ScheduledExecutorService timer) {
        this.db = db;
        this.downstream = downstream;
        this.dbExecutor = dbExecutor;
        this.httpExecutor = httpExecutor;
        this.timer = timer;
    }

    /** Waits on the I/O on the calling thread: Thread.sleep, a JDBC query, HttpClient.send. */
    void block(Order o) throws Failure {
        try {
            switch (o.io()) {
                case TIMER -> TimeUnit.NANOSECONDS.sleep(nanos(o.ioMs()));
                case POSTGRES -> db().call(o.ioMs());
                case HTTP -> downstream().call(o.ioMs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(o.io(), e);
        } catch (SQLException | IOException e) {
            throw new Failure(o.io(), e);
        }
    }

    /**
     * Starts the I/O without holding the calling thread. Every stage names its
     * executor (the common pool has one thread on two cores).
     */
    CompletableFuture<Void> start(Order o) {
        try {
            return switch (o.io()) {
                case TIMER -> {
                    CompletableFuture<Void> done = new CompletableFuture<>();
                    timer.schedule(() -> done.complete(null), nanos(o.ioMs()), TimeUnit.NANOSECONDS);
                    yield done;
                }
                // There is no asynchronous JDBC: the blocking query moves to a
                // pool of --db-pool threads, one per connection. The request
                // thread is free, but each query still holds a db thread.
                case POSTGRES -> {
                    Db d = db();
                    yield CompletableFuture.runAsync(() -> {
                        try {
                            d.call(o.ioMs());
                        } catch (SQLException e) {
                            throw new CompletionException(new Failure(IoKind.POSTGRES, e));
                        }
                    }, dbExecutor);
                }
                case HTTP -> downstream().callAsync(o.ioMs()).thenAcceptAsync(r -> {
                    try {
                        Downstream.check(r);
                    } catch (IOException e) {
                        throw new CompletionException(new Failure(IoKind.HTTP, e));
                    }
                }, httpExecutor);
            };
        } catch (Failure f) {
            return CompletableFuture.failedFuture(f);
        }
    }

    /** The reason a future of {@link #start} failed with. */
    static String reason(IoKind kind, Throwable err) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        return e instanceof Failure ? e.getMessage() : new Failure(kind, e).getMessage();
    }

    private Db db() throws Failure {
        if (db == null) {
            throw new Failure("postgres: no database: start the stack with --db-pool or --db-query and THREADLOOP_PG_HOST");
        }
        return db;
    }

    private Downstream downstream() throws Failure {
        if (downstream == null) {
            throw new Failure("http: no downstream: start the stack with --downstream HOST:PORT");
        }
        return downstream;
    }

    private static long nanos(double ms) {
        return Math.round(ms * 1e6);
    }

    /** Threads for the stack's own executors: named (they show in thread dumps), daemon. */
    static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
