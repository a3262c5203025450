package threadloop.tomcat;

import threadloop.jvm.Order;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The contract's answers: plain text with a content-length, and Server-Timing on `/work`. */
final class Replies {
    private Replies() {
    }

    static void text(HttpServletResponse resp, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        resp.setStatus(status);
        resp.setContentType(contentType);
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    static void text(HttpServletResponse resp, int status, String body) throws IOException {
        text(resp, status, "text/plain", body);
    }

    /**
     * The answer to a `/work` whose work began at `startNanos` (System.nanoTime)
     * and ended now: 200 `ok class=C`, or 500 with the I/O's `failure`. Its
     * time goes out as `server-timing: app;dur=MS`, so the generator can split
     * the latency into service and the wait before it.
     */
    static void served(HttpServletResponse resp, Order o, String failure, long startNanos) throws IOException {
        double ms = (System.nanoTime() - startNanos) / 1e6;
        resp.setHeader("server-timing", String.format(Locale.ROOT, "app;dur=%.3f", ms));
        if (failure == null) {
            text(resp, 200, o.answer());
        } else {
            text(resp, 500, failure + "\n");
        }
    }
}
