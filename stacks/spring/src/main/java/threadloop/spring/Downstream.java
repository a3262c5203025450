package threadloop.spring;

import threadloop.jvm.IoKind;

import java.time.Duration;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/**
 * The `http` I/O: one `GET http://HOST:PORT/delay/<µs>` to threadloop's slow
 * downstream, through Spring's clients as Spring Boot builds them: the
 * blocking RestClient (on the JDK's HttpClient, as the Tomcat stack's client)
 * or the non-blocking WebClient (on Reactor Netty). Either may be null when
 * the cell's mode does not use it.
 */
final class Downstream {
    /** On top of the asked delay, how long a call may take before it fails (a 500). */
    private static final Duration SLACK = Duration.ofSeconds(30);

    private final String base;
    private final RestClient rest;
    private final WebClient web;

    Downstream(String hostPort, RestClient rest, WebClient web) {
        this.base = hostPort == null ? null : "http://" + hostPort + "/delay/";
        this.rest = rest;
        this.web = web;
    }

    /** Blocks the calling thread (or parks the virtual thread) until the answer. */
    void call(double ioMs) {
        if (base == null || rest == null) {
            throw Io.noDownstream();
        }
        ResponseEntity<Void> r;
        try {
            r = rest.get().uri(base + micros(ioMs)).retrieve().toBodilessEntity();
        } catch (RuntimeException e) {
            throw Io.Failure.of(IoKind.HTTP, e);
        }
        check(r.getStatusCode().value());
    }

    /** Starts the call; the Mono completes on Reactor Netty's event loop, no thread waiting on it. */
    Mono<Void> start(double ioMs) {
        if (base == null || web == null) {
            return Mono.error(Io.noDownstream());
        }
        return web.get().uri(base + micros(ioMs)).retrieve().toBodilessEntity()
                .timeout(SLACK.plusNanos(Io.nanos(ioMs)))
                .onErrorMap(e -> Io.Failure.of(IoKind.HTTP, e))
                .doOnNext(r -> check(r.getStatusCode().value()))
                .then();
    }

    private static long micros(double ioMs) {
        return Math.round(ioMs * 1000);
    }

    /** A downstream answer that is not 200 is a failed I/O (retrieve() already fails on 4xx and 5xx). */
    private static void check(int status) {
        if (status != 200) {
            throw new Io.Failure("http: downstream answered " + status);
        }
    }
}
