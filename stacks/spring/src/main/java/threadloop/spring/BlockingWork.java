package threadloop.spring;

import threadloop.jvm.IoKind;
import threadloop.jvm.Order;

import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.TimeUnit;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * `/work` as the essay's Spring MVC controller (`spring-mvc`,
 * `spring-mvc-virtual`): the request's thread does the CPU work, then waits
 * out the I/O (Thread.sleep, JdbcTemplate on HikariCP, RestClient). That
 * thread is one of Tomcat's `server.tomcat.threads.max`, or with
 * spring.threads.virtual.enabled a virtual thread, which unmounts from its
 * carrier while it waits unless something pins it.
 */
@RestController
class BlockingWork {
    private final Setup setup;
    private final Db db;
    private final Downstream downstream;

    BlockingWork(Setup setup, Db db, Downstream downstream) {
        this.setup = setup;
        this.db = db;
        this.downstream = downstream;
    }

    @GetMapping("/work")
    ResponseEntity<byte[]> work(HttpServletRequest req) {
        Order o;
        try {
            o = Order.parse(req.getQueryString());
        } catch (Order.BadOrder e) {
            return Replies.text(400, e.getMessage() + "\n");
        }
        long start = System.nanoTime();
        setup.cpu().run(o.cpuMs());
        try {
            if (setup.options().pinning() == Options.Pinning.SYNCHRONIZED) {
                // The monitor is this request's own object, so no other thread
                // contends for it: the block's only effect is that, on Java 21,
                // the virtual thread cannot unmount while it waits (JEP 491
                // lifts that in Java 24).
                synchronized (req) {
                    block(o);
                }
            } else {
                block(o);
            }
        } catch (RuntimeException e) {
            return Replies.served(o, e, start);
        }
        return Replies.served(o, null, start);
    }

    private void block(Order o) {
        switch (o.io()) {
            case TIMER -> {
                try {
                    TimeUnit.NANOSECONDS.sleep(Io.nanos(o.ioMs()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Io.Failure.of(IoKind.TIMER, e);
                }
            }
            case POSTGRES -> db.call(o.ioMs());
            case HTTP -> downstream.call(o.ioMs());
        }
    }
}
