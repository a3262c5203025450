package threadloop.spring;

import threadloop.jvm.Order;

import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * `/work` as the essay's `processOrder()` (`spring-mvc-async`): the CPU work
 * on Tomcat's request thread, then a CompletableFuture composed from
 * WebClient (Reactor Netty), returned to Spring MVC, which releases the
 * request thread and writes the answer from a container thread when the
 * future completes. A timer is a scheduled completion; JDBC has no
 * non-blocking form, so the query runs on an executor of `db_pool` threads.
 */
@RestController
class AsyncWork {
    private final Setup setup;
    private final Db db;
    private final Downstream downstream;
    private final ScheduledExecutorService timer;
    private final Executor dbExecutor;

    AsyncWork(Setup setup, Db db, Downstream downstream, Executors executors) {
        this.setup = setup;
        this.db = db;
        this.downstream = downstream;
        this.timer = executors.timer();
        this.dbExecutor = executors.db();
    }

    @GetMapping("/work")
    CompletableFuture<ResponseEntity<byte[]>> work(HttpServletRequest req) {
        Order o;
        try {
            o = Order.parse(req.getQueryString());
        } catch (Order.BadOrder e) {
            return CompletableFuture.completedFuture(Replies.text(400, e.getMessage() + "\n"));
        }
        long start = System.nanoTime();
        setup.cpu().run(o.cpuMs());
        CompletableFuture<Void> io = switch (o.io()) {
            case TIMER -> {
                CompletableFuture<Void> done = new CompletableFuture<>();
                timer.schedule(() -> done.complete(null), Io.nanos(o.ioMs()), TimeUnit.NANOSECONDS);
                yield done;
            }
            case POSTGRES -> CompletableFuture.runAsync(() -> db.call(o.ioMs()), dbExecutor);
            case HTTP -> downstream.start(o.ioMs()).toFuture();
        };
        return io.handle((ok, err) -> Replies.served(o, err, start));
    }
}
