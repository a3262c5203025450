package threadloop.spring;

import threadloop.jvm.PinningCounter;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The contract's fixed answers, the same controller in Spring MVC and in
 * WebFlux (both run annotated controllers returning a ResponseEntity):
 * `/health`, `/stats`, and a 404 for every other path.
 */
@RestController
class Common {
    private final Setup setup;

    Common(Setup setup) {
        this.setup = setup;
    }

    /** `GET /health`: 200 `ok`, once the server takes requests. */
    @GetMapping("/health")
    ResponseEntity<byte[]> health() {
        return Replies.text(200, "ok\n");
    }

    /**
     * `GET /stats`: the calibration, the configuration, JFR's pinned-event
     * count (mvc-virtual; `pinned_counted` false elsewhere, where no virtual
     * thread exists to pin), and the platform threads now and at peak. In
     * mvc-virtual it waits for JFR's next flushes (about 1 s).
     */
    @GetMapping("/stats")
    ResponseEntity<byte[]> stats() throws InterruptedException {
        PinningCounter pinning = setup.pinning();
        long pinned = pinning == null ? 0 : pinning.count(Duration.ofSeconds(3));
        Options o = setup.options();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        String json = String.format(Locale.ROOT,
                "{\"cpu_iters_per_ms\":%.1f,\"mode\":\"%s\",\"java\":\"%s\",\"spring_boot\":\"%s\",\"pgjdbc\":\"%s\","
                        + "\"pinning\":\"%s\",\"client\":\"%s\",\"pinned\":%d,\"pinned_counted\":%b,"
                        + "\"threads\":%d,\"peak_threads\":%d}\n",
                setup.cpu().itersPerMs(), o.mode().flag, System.getProperty("java.version"),
                org.springframework.boot.SpringBootVersion.getVersion(), org.postgresql.util.DriverInfo.DRIVER_VERSION,
                o.pinning().flag, o.client().flag,
                pinned, pinning != null, threads.getThreadCount(), threads.getPeakThreadCount());
        return Replies.text(200, MediaType.APPLICATION_JSON, json);
    }

    /** Anything not mapped is a 404, whatever the method (more specific mappings win). */
    @RequestMapping("/**")
    ResponseEntity<byte[]> notFound() {
        return Replies.text(404, "not found\n");
    }
}
