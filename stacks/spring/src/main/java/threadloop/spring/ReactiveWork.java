package threadloop.spring;

import threadloop.jvm.Order;

import java.time.Duration;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * `/work` as a WebFlux handler on Reactor Netty (`spring-webflux`): the CPU
 * work inline on the event-loop thread, then the I/O as a Mono: Reactor's
 * timer, R2DBC PostgreSQL, WebClient (`--client async`, non-blocking end to
 * end); or, the essay's mistake, JdbcTemplate and RestClient called inside
 * the handler (`--client blocking`), which holds the event-loop thread for
 * the whole query or call.
 */
@RestController
class ReactiveWork {
    private final Setup setup;
    private final Db db;
    private final Downstream downstream;

    ReactiveWork(Setup setup, Db db, Downstream downstream) {
        this.setup = setup;
        this.db = db;
        this.downstream = downstream;
    }

    @GetMapping("/work")
    Mono<ResponseEntity<byte[]>> work(ServerHttpRequest req) {
        Order o;
        try {
            o = Order.parse(req.getURI().getRawQuery());
        } catch (Order.BadOrder e) {
            return Mono.just(Replies.text(400, e.getMessage() + "\n"));
        }
        long start = System.nanoTime();
        setup.cpu().run(o.cpuMs());
        boolean blocking = setup.options().client() == Options.Client.BLOCKING;
        Mono<Void> io;
        try {
            io = switch (o.io()) {
                case TIMER -> Mono.delay(Duration.ofNanos(Io.nanos(o.ioMs()))).then();
                case POSTGRES -> {
                    if (blocking) {
                        db.call(o.ioMs()); // here, on the event loop
                        yield Mono.empty();
                    }
                    yield db.start(o.ioMs());
                }
                case HTTP -> {
                    if (blocking) {
                        downstream.call(o.ioMs()); // here, on the event loop
                        yield Mono.empty();
                    }
                    yield downstream.start(o.ioMs());
                }
            };
        } catch (RuntimeException e) {
            return Mono.just(Replies.served(o, e, start));
        }
        return io.then(Mono.fromSupplier(() -> Replies.served(o, null, start)))
                .onErrorResume(e -> Mono.just(Replies.served(o, e, start)));
    }
}
