package threadloop.tomcat;

import threadloop.jvm.Cpu;
import threadloop.jvm.PinningCounter;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Locale;

/**
 * `GET /stats`: what the stack knows about itself, read once by threadloop
 * after the measured window: its calibration, its configuration, the JFR
 * pinning count (virtual mode; `pinned_counted` false elsewhere, where no
 * virtual thread exists to pin), and its platform threads now and at peak.
 */
final class StatsServlet extends HttpServlet {
    private final Cpu cpu;
    private final Options options;
    private final PinningCounter pinning;

    /** `pinning` is null outside virtual mode. */
    StatsServlet(Cpu cpu, Options options, PinningCounter pinning) {
        this.cpu = cpu;
        this.options = options;
        this.pinning = pinning;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        long pinned;
        try {
            pinned = pinning == null ? 0 : pinning.count(Duration.ofSeconds(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Replies.text(resp, 500, "interrupted while waiting for JFR\n");
            return;
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        String json = String.format(Locale.ROOT,
                "{\"cpu_iters_per_ms\":%.1f,\"mode\":\"%s\",\"java\":\"%s\",\"max_threads\":%d,"
                        + "\"processor_cache\":%d,"
                        + "\"pinning\":\"%s\",\"pinned\":%d,\"pinned_counted\":%b,"
                        + "\"threads\":%d,\"peak_threads\":%d}\n",
                cpu.itersPerMs(), Options.name(options.mode()), System.getProperty("java.version"),
                options.maxThreads(), options.processorCache(), Options.name(options.pinning()), pinned,
                pinning != null,
                threads.getThreadCount(), threads.getPeakThreadCount());
        Replies.text(resp, 200, "application/json", json);
    }
}
