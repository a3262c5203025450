package threadloop.spring;

import threadloop.jvm.Cpu;
import threadloop.jvm.PinningCounter;

import io.r2dbc.spi.ConnectionFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

/**
 * The Spring stack: threadloop's request contract (stacks/CONTRACT.md) on
 * one Spring Boot application in one of four configurations (`--mode`).
 * Calibrates its CPU loop, starts Spring with the cell's properties, opens
 * the database pool, and prints `LISTENING <port>` on stdout once `/health`
 * and one `/work` answer. Everything else goes to stderr; SIGTERM stops it.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // stdout carries the LISTENING line and nothing else: Logback's
        // console and anything else that prints go to stderr.
        PrintStream stdout = System.out;
        System.setOut(System.err);
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("spring: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        try {
            int port = run(o);
            stdout.println("LISTENING " + port);
            stdout.flush();
        } catch (Exception e) {
            System.err.println("spring: start-up failed: " + e);
            System.exit(1);
        }
    }

    private static int run(Options o) throws Exception {
        // Reactor Netty's client pool holds max(cores, 8) x 2 = 16 connections
        // and queues at most twice that: 200 requests in flight through
        // WebClient would fail ("Pending acquire queue has reached its maximum
        // size"). A connection per request in flight instead, as the JDK's
        // HttpClient of the blocking modes keeps.
        System.setProperty("reactor.netty.pool.maxConnections", "10000");
        // Reactor Netty's event loops wait a 2 s quiet period on shutdown
        // (LoopResources' default): every WebFlux or WebClient cell would end
        // 2 s after its window. Nothing runs after SIGTERM that needs it.
        System.setProperty("reactor.netty.ioShutdownQuietPeriod", "0");
        Cpu cpu = new Cpu(o.cpuItersPerMs() != null ? o.cpuItersPerMs() : Cpu.calibrate());
        PinningCounter pinning = o.mode() == Options.Mode.MVC_VIRTUAL ? new PinningCounter() : null;
        Setup setup = new Setup(o, cpu, pinning);

        Class<?> work = switch (o.mode()) {
            case MVC, MVC_VIRTUAL -> BlockingWork.class;
            case MVC_ASYNC -> AsyncWork.class;
            case WEBFLUX -> ReactiveWork.class;
        };
        SpringApplication app = new SpringApplication(App.class, work);
        app.setWebApplicationType(o.mode() == Options.Mode.WEBFLUX ? WebApplicationType.REACTIVE : WebApplicationType.SERVLET);
        app.setBannerMode(Banner.Mode.OFF);
        app.setLogStartupInfo(false);
        app.setRegisterShutdownHook(true);
        app.setDefaultProperties(properties(o));
        app.addInitializers(ctx -> ((GenericApplicationContext) ctx).registerBean(Setup.class, () -> setup));
        // No arguments: the flags are threadloop's, not Spring's.
        ConfigurableApplicationContext ctx = app.run();

        if (o.wantsDb()) {
            DataSource ds = ctx.getBeanProvider(DataSource.class).getIfAvailable();
            ConnectionFactory cf = ctx.getBeanProvider(ConnectionFactory.class).getIfAvailable();
            Db.warm(ds, cf, o.pool(), ctx.getBean(Db.class));
        }
        int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port", "-1"));
        if (port <= 0) {
            throw new IOException("the web server did not report its port");
        }
        expectOk(port, "/health");
        // Loads the request path's classes, so a first request in the
        // measured window does not (class loading pins a virtual thread).
        expectOk(port, "/work?class=0&cpu_ms=0&io=timer&io_ms=0");
        return port;
    }

    /** Spring Boot's own properties for the cell: its defaults unless a flag says otherwise. */
    static Map<String, Object> properties(Options o) {
        Map<String, Object> p = new HashMap<>();
        p.put("server.address", "127.0.0.1");
        p.put("server.port", o.port());
        // SIGTERM ends the cell: no graceful drain of requests in flight
        // (Boot's default waits up to 30 s; threadloop kills after 5 s).
        p.put("server.shutdown", "immediate");
        p.put("logging.level.root", "WARN");
        p.put("spring.main.banner-mode", "off");
        List<String> exclude = new ArrayList<>();
        if (o.mode() == Options.Mode.WEBFLUX) {
            // Both servers are on the classpath: WebFlux runs on Netty.
            exclude.add("org.springframework.boot.tomcat.autoconfigure.reactive.TomcatReactiveWebServerAutoConfiguration");
        } else {
            // Tomcat keeps a keep-alive connection for 100 requests by default;
            // threadloop's generator, like wrk, keeps each for the whole window.
            p.put("server.tomcat.max-keep-alive-requests", -1);
            put(p, "server.tomcat.threads.max", o.maxThreads());
            put(p, "server.tomcat.threads.min-spare", o.minSpare());
            put(p, "server.tomcat.accept-count", o.acceptCount());
            put(p, "server.tomcat.max-connections", o.maxConnections());
        }
        if (o.mode() == Options.Mode.MVC_VIRTUAL) {
            p.put("spring.threads.virtual.enabled", true);
        }

        PgEndpoint pg = o.wantsDb() ? PgEndpoint.fromEnv() : null;
        if (o.wantsDb() && pg == null) {
            throw new IllegalStateException("--db-pool/--db-query need THREADLOOP_PG_HOST (and the rest of the endpoint)");
        }
        boolean jdbc = pg != null && o.blockingClients();
        boolean r2dbc = pg != null && !o.blockingClients();
        if (jdbc) {
            pg.jdbc(p, o.pool());
        } else {
            exclude.add("org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration");
        }
        if (r2dbc) {
            pg.r2dbc(p, o.pool());
        } else {
            exclude.add("org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration");
        }
        p.put("spring.autoconfigure.exclude", String.join(",", exclude));
        return p;
    }

    private static void put(Map<String, Object> p, String key, Integer v) {
        if (v != null) {
            p.put(key, v);
        }
    }

    /** One real GET over the socket, so LISTENING means "answers", not only "bound". */
    private static void expectOk(int port, String target) throws IOException {
        try (Socket s = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            if (status == null || !status.startsWith("HTTP/1.1 200")) {
                throw new IOException("GET " + target + " answered " + status);
            }
        }
    }
}
