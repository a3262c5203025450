package threadloop.tomcat;

import threadloop.jvm.Cpu;
import threadloop.jvm.PinningCounter;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Tomcat stack: threadloop's request contract (stacks/CONTRACT.md) on an
 * embedded Tomcat 10.1, in one of three modes (`--mode pool|async|virtual`).
 * Calibrates its CPU loop, opens what the cell's I/O needs, starts Tomcat,
 * and prints `LISTENING <port>` on stdout once `/health` answers. Everything
 * else goes to stderr; SIGTERM stops it.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        quietLogging();
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("tomcat: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        try {
            run(o);
        } catch (Exception e) {
            System.err.println("tomcat: start-up failed: " + e);
            System.exit(1);
        }
    }

    private static void run(Options o) throws Exception {
        Cpu cpu = new Cpu(o.cpuItersPerMs() != null ? o.cpuItersPerMs() : Cpu.calibrate());
        boolean async = o.mode() == Options.Mode.ASYNC;
        PinningCounter pinning = o.mode() == Options.Mode.VIRTUAL ? new PinningCounter() : null;

        Db db = null;
        if (o.wantsDb()) {
            PgEndpoint server = PgEndpoint.fromEnv();
            if (server == null) {
                throw new IllegalStateException("--db-pool/--db-query need THREADLOOP_PG_HOST (and the rest of the endpoint)");
            }
            db = new Db(server, o.dbPool() != null ? o.dbPool() : 10,
                    o.dbQuery() != null ? o.dbQuery() : Db.Query.SLEEP);
        }
        // The HttpClient's completions run on a few named threads of their own.
        ExecutorService httpExecutor = o.downstream() == null ? null
                : Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                        Io.named("http-client"));
        Downstream downstream = o.downstream() == null ? null : new Downstream(o.downstream(), httpExecutor);
        // Async mode's waits: one timer thread for every timer, and a thread
        // per database connection for the (blocking) JDBC calls.
        ScheduledExecutorService timer = async ? Executors.newSingleThreadScheduledExecutor(Io.named("timer")) : null;
        ExecutorService dbExecutor = async && db != null
                ? Executors.newFixedThreadPool(o.dbPool() != null ? o.dbPool() : 10, Io.named("db"))
                : null;
        Io io = new Io(db, downstream, dbExecutor, httpExecutor, timer);

        var work = async ? new AsyncWorkServlet(cpu, io)
                : new BlockingWorkServlet(cpu, io, o.pinning() == Options.Pinning.SYNCHRONIZED);
        EmbeddedTomcat tomcat = new EmbeddedTomcat(o, work, new StatsServlet(cpu, o, pinning));
        Db openDb = db;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (openDb != null) {
                openDb.close();
            }
            tomcat.removeBaseDir();
        }, "shutdown"));
        int port = tomcat.start();
        System.out.println("LISTENING " + port);
        System.out.flush();
        tomcat.await();
    }

    /**
     * Tomcat, pgjdbc and HikariCP (through slf4j-jdk14) all log through
     * java.util.logging, whose console handler writes to stderr: keep only
     * warnings and errors, so start-up is quiet and stdout holds one line.
     */
    private static void quietLogging() {
        Logger root = Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (Handler h : root.getHandlers()) {
            h.setLevel(Level.WARNING);
        }
    }
}
