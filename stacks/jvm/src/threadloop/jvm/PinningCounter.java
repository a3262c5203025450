package threadloop.jvm;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.consumer.RecordingStream;

/**
 * Counts JFR's `jdk.VirtualThreadPinned` events in-process: one for each time
 * a virtual thread had to block while pinned to its carrier (threshold 0 ms,
 * so every one counts, not only those over JFR's default 20 ms). JFR hands
 * events to a stream in batches, when it flushes (about once a second), so
 * {@link #count} waits for the flushes after the moment it is asked.
 */
public final class PinningCounter implements AutoCloseable {
    private static final String EVENT = "jdk.VirtualThreadPinned";

    private final AtomicLong pinned = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final RecordingStream stream;

    public PinningCounter() {
        stream = new RecordingStream();
        stream.enable(EVENT).withThreshold(Duration.ZERO).withoutStackTrace();
        stream.onEvent(EVENT, e -> pinned.incrementAndGet());
        stream.onFlush(flushes::incrementAndGet);
        // Events are consumed as they are parsed; keep little on disk.
        stream.setMaxAge(Duration.ofMinutes(2));
        stream.startAsync();
    }

    /**
     * The events so far, including those JFR has not flushed yet: waits (up to
     * `wait`) until two flushes have ended after the call, the second of which
     * began after it and so holds every event committed before it.
     */
    public long count(Duration wait) throws InterruptedException {
        long target = flushes.get() + 2;
        long deadline = System.nanoTime() + wait.toNanos();
        while (flushes.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return pinned.get();
    }

    @Override
    public void close() {
        stream.close();
    }
}
