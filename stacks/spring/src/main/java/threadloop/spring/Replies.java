package threadloop.spring;

import threadloop.jvm.Order;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * The contract's answers as Spring's ResponseEntity (the same in MVC and
 * WebFlux): plain text as bytes, so the converter adds no charset and sets
 * the content-length; Server-Timing on `/work`.
 */
final class Replies {
    private Replies() {
    }

    static ResponseEntity<byte[]> text(int status, MediaType type, String body) {
        return ResponseEntity.status(status).contentType(type).body(body.getBytes(StandardCharsets.UTF_8));
    }

    static ResponseEntity<byte[]> text(int status, String body) {
        return text(status, MediaType.TEXT_PLAIN, body);
    }

    /**
     * The answer to a `/work` whose work began at `startNanos` and ended now:
     * 200 `ok class=C`, or 500 with the I/O's `failure` (null: none).
     */
    static ResponseEntity<byte[]> served(Order o, Throwable failure, long startNanos) {
        double ms = (System.nanoTime() - startNanos) / 1e6;
        String timing = String.format(Locale.ROOT, "app;dur=%.3f", ms);
        String body = failure == null ? o.answer() : Io.Failure.of(o.io(), failure).getMessage() + "\n";
        return ResponseEntity.status(failure == null ? 200 : 500)
                .header("server-timing", timing)
                .contentType(MediaType.TEXT_PLAIN)
                .body(body.getBytes(StandardCharsets.UTF_8));
    }
}
