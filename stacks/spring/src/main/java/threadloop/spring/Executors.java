package threadloop.spring;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * mvc-async's own threads: one timer for every timer, and a thread per
 * database connection for the (blocking) JDBC calls. Named and daemon.
 */
record Executors(ScheduledExecutorService timer, ExecutorService db) {

    static Executors of(int dbThreads) {
        return new Executors(java.util.concurrent.Executors.newSingleThreadScheduledExecutor(named("timer")),
                java.util.concurrent.Executors.newFixedThreadPool(dbThreads, named("db")));
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
