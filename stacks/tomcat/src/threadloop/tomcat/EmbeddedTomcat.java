package threadloop.tomcat;

import jakarta.servlet.http.HttpServlet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * One embedded Tomcat (org.apache.catalina.startup.Tomcat, as Spring Boot
 * runs it): an NIO connector on 127.0.0.1 sized by the cell's flags, and one
 * root context with the contract's servlets. No web.xml, JSP or sessions.
 */
final class EmbeddedTomcat {
    private final Tomcat tomcat = new Tomcat();
    private final Connector connector = new Connector("org.apache.coyote.http11.Http11NioProtocol");
    private final Path baseDir;

    EmbeddedTomcat(Options o, HttpServlet work, HttpServlet stats) throws IOException {
        // Tomcat wants a base directory for its work files; a private temporary
        // one, so concurrent cells never share it and nothing lands in the clone.
        baseDir = Files.createTempDirectory("threadloop-tomcat-");
        tomcat.setBaseDir(baseDir.toString());

        connector.setPort(o.port());
        set("address", "127.0.0.1");
        set("maxThreads", o.maxThreads());
        set("minSpareThreads", o.minSpare());
        set("acceptCount", o.acceptCount());
        set("maxConnections", o.maxConnections());
        // The processors (a request's parser and buffers) kept for reuse once
        // their request ends: Tomcat's default keeps 200, so past 200 requests
        // in flight each further one allocates its own and drops it after.
        set("processorCache", o.processorCache());
        // Tomcat closes a keep-alive connection after 100 requests by default;
        // threadloop's generator, like wrk, keeps each connection for the
        // whole window, so the limit would only add reconnects and errors.
        set("maxKeepAliveRequests", -1);
        if (o.mode() == Options.Mode.VIRTUAL) {
            // Tomcat then runs each request on a new virtual thread
            // (StandardVirtualThreadExecutor); maxThreads no longer bounds them.
            set("useVirtualThreads", true);
        }
        tomcat.setConnector(connector);

        Context ctx = tomcat.addContext("", null);
        map(ctx, "work", "/work", work, o.mode() == Options.Mode.ASYNC);
        map(ctx, "health", "/health", new PlainServlets.Health(), false);
        map(ctx, "stats", "/stats", stats, false);
        map(ctx, "notFound", "/", new PlainServlets.NotFound(), false);
    }

    private void set(String property, Object value) {
        if (!connector.setProperty(property, String.valueOf(value))) {
            throw new IllegalStateException("the NIO connector has no property " + property);
        }
    }

    private static void map(Context ctx, String name, String pattern, HttpServlet servlet, boolean async) {
        Tomcat.addServlet(ctx, name, servlet).setAsyncSupported(async);
        ctx.addServletMapping(pattern, name);
    }

    /**
     * Starts Tomcat and returns the port it listens on, once `/health` answers
     * there and so does one `/work` (a 0 ms timer): that request also loads
     * the request path's classes, so a first request in the measured window
     * does not (class loading pins a virtual thread even on Java 25).
     */
    int start() throws LifecycleException, IOException {
        tomcat.start();
        int port = connector.getLocalPort();
        if (connector.getState() != LifecycleState.STARTED || port <= 0) {
            throw new IOException("the connector did not start on 127.0.0.1:" + connector.getPort()
                    + " (state " + connector.getState() + "; see Tomcat's messages above)");
        }
        expectOk(port, "/health");
        expectOk(port, "/work?class=0&cpu_ms=0&io=timer&io_ms=0");
        return port;
    }

    /** Waits on the server until the JVM is stopped (SIGTERM runs the shutdown hooks). */
    void await() {
        tomcat.getServer().await();
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

    /** Removes the base directory (from a shutdown hook: the JVM is exiting anyway). */
    void removeBaseDir() {
        try (Stream<Path> files = Files.walk(baseDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort: a temporary directory left behind harms nothing.
        }
    }
}
