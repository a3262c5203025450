package threadloop.tomcat;

import threadloop.jvm.Cpu;
import threadloop.jvm.Order;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * `/work` as a plain blocking servlet (what a Spring MVC controller is): the
 * request's thread does the CPU work, then waits out the I/O. In pool mode
 * that thread is one of Tomcat's maxThreads, held for the whole request;
 * in virtual mode it is a virtual thread, which unmounts from its carrier
 * while it waits unless something pins it.
 */
final class BlockingWorkServlet extends HttpServlet {
    private final Cpu cpu;
    private final Io io;
    private final boolean synchronize;

    /** `synchronize`: run the I/O inside `synchronized` (the `--pinning synchronized` case). */
    BlockingWorkServlet(Cpu cpu, Io io, boolean synchronize) {
        this.cpu = cpu;
        this.io = io;
        this.synchronize = synchronize;
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
        String failure = null;
        try {
            if (synchronize) {
                // The monitor is this request's own object, so no other thread
                // ever contends for it: the block's only effect is that, on
                // Java 21, the virtual thread cannot unmount while it waits
                // (JEP 491 lifts that in Java 24). Not a fresh `new Object()`:
                // the JIT may elide a lock on an object that never escapes.
                synchronized (req) {
                    io.block(o);
                }
            } else {
                io.block(o);
            }
        } catch (Io.Failure f) {
            failure = f.getMessage();
        }
        Replies.served(resp, o, failure, start);
    }
}
