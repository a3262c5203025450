package threadloop.tomcat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The `http` I/O: one `GET http://HOST:PORT/delay/<µs>` to threadloop's slow
 * downstream through java.net.http.HttpClient (the JDK's client, HTTP/1.1
 * keep-alive, its own selector thread): `send` blocks the calling thread,
 * `sendAsync` is the non-blocking client the essay's CompletableFuture
 * pattern needs (WebClient is not packaged for Debian; this is its twin).
 */
final class Downstream {
    /** On top of the asked delay, how long a call may take before it fails (a 500). */
    private static final Duration SLACK = Duration.ofSeconds(30);

    private final HttpClient client;
    private final String base;

    /** `executor` runs the client's completions: named, so the common pool is never used. */
    Downstream(String hostPort, Executor executor) {
        this.base = "http://" + hostPort + "/delay/";
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(executor)
                .build();
    }

    private HttpRequest request(double ioMs) {
        long micros = Math.round(ioMs * 1000);
        return HttpRequest.newBuilder(URI.create(base + micros))
                .timeout(SLACK.plusNanos(micros * 1000))
                .GET()
                .build();
    }

    /** Blocks the calling thread (or parks the virtual thread) until the answer. */
    void call(double ioMs) throws IOException, InterruptedException {
        check(client.send(request(ioMs), HttpResponse.BodyHandlers.discarding()));
    }

    /** Starts the call; the future ends on the client's executor without a thread waiting on it. */
    CompletableFuture<HttpResponse<Void>> callAsync(double ioMs) {
        return client.sendAsync(request(ioMs), HttpResponse.BodyHandlers.discarding());
    }

    /** A downstream answer that is not 200 is a failed I/O. */
    static void check(HttpResponse<Void> r) throws IOException {
        if (r.statusCode() != 200) {
            throw new IOException("downstream answered " + r.statusCode());
        }
    }
}
