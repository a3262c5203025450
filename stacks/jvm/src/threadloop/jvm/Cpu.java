package threadloop.jvm;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The request's CPU work: threadloop's chain of splitmix64 steps (the same
 * step as engine/src/work.rs), sized by this JVM's own calibration, so that
 * `cpu_ms` means milliseconds of CPU here as it does in the Rust models.
 */
public final class Cpu {
    /** Where every result goes, so the JIT cannot drop the loop as dead code. */
    private static volatile long sink;

    private final double itersPerMs;

    public Cpu(double itersPerMs) {
        this.itersPerMs = itersPerMs;
    }

    public double itersPerMs() {
        return itersPerMs;
    }

    /** Does `ms` milliseconds of the work on the calling thread. */
    public void run(double ms) {
        long iters = Math.round(ms * itersPerMs);
        if (iters > 0) {
            sink = spin(iters);
        }
    }

    /** One splitmix64 step: a dependent chain the CPU cannot overlap or skip. */
    public static long step(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static long spin(long iters) {
        long x = iters;
        for (long i = 0; i < iters; i++) {
            x = step(x);
        }
        return x;
    }

    /**
     * Iterations per millisecond of this thread's CPU time (immune to
     * preemption, unlike the wall clock): a JIT warm-up first, so the timings
     * measure compiled code, then the median of several ~20 ms timings.
     */
    public static double calibrate() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        if (!mx.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("thread CPU time is not supported: pass --cpu-iters-per-ms");
        }
        // Warm-up: many short calls, so spin is compiled by C2 as a method
        // (not only on-stack replaced), for ~150 ms of CPU.
        long t0 = mx.getCurrentThreadCpuTime();
        long calls = 0;
        while (mx.getCurrentThreadCpuTime() - t0 < 150_000_000L || calls < 2_000) {
            sink = spin(10_000);
            calls++;
        }
        double guess = timed(mx, 1_000_000);
        long iters = Math.max(1, Math.round(guess * 20));
        double[] rounds = new double[7];
        for (int i = 0; i < rounds.length; i++) {
            rounds[i] = timed(mx, iters);
        }
        Arrays.sort(rounds);
        return rounds[rounds.length / 2];
    }

    /** Iterations per CPU millisecond of one spin of `iters`. */
    private static double timed(ThreadMXBean mx, long iters) {
        long t0 = mx.getCurrentThreadCpuTime();
        sink = spin(iters);
        long ns = Math.max(1, mx.getCurrentThreadCpuTime() - t0);
        return iters / (ns / 1e6);
    }
}
