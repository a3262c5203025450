package threadloop.tomcat;

import threadloop.jvm.Cpu;
import threadloop.jvm.Order;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * `/work` on the Servlet async API, the essay's remedy (H3): the CPU work
 * runs on the request thread, then `startAsync` hands the request back and
 * the thread returns to Tomcat's pool while the I/O is in flight (a timer,
 * HttpClient.sendAsync, or a JDBC call on the db executor). When the I/O
 * ends, the answer is written from a container thread (AsyncContext.start),
 * as Spring MVC does when a controller's CompletableFuture completes.
 */
final class AsyncWorkServlet extends HttpServlet {
    private final Cpu cpu;
    private final Io io;

    AsyncWorkServlet(Cpu cpu, Io io) {
        this.cpu = cpu;
        this.io = io;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Order o;
        try {
            o = Order.parse(req.getQueryString());
        } catch (Order.BadOrder e) {
            Replies.text(resp, 400, e.getMessage() + "\n");
            return;
        }
        long start = System.nanoTime();
        cpu.run(o.cpuMs());
        AsyncContext ac = req.startAsync();
        // No container timeout: the I/O has its own (HikariCP's connection
        // timeout, the HTTP request's), and a timer always ends.
        ac.setTimeout(0);
        io.start(o).whenCompleteAsync((ok, err) -> {
            try {
                Replies.served(resp, o, err == null ? null : Io.reason(o.io(), err), start);
            } catch (IOException e) {
                // The client went away; there is no one to answer.
            } finally {
                ac.complete();
            }
        }, ac::start);
    }
}
