"""The contract's CPU work in Python: a chain of splitmix64 steps, sized by a
calibration of this interpreter on this machine.

Pure Python on purpose: the point of H5/H9 is what CPU-bound *Python* code
does to one event loop, and pure Python holds the GIL the whole time (a
worker thread running it competes with the loop thread for the GIL; it does
not run beside it on another core).
"""

import statistics
import time

MASK = (1 << 64) - 1


def spin(iters: int, x: int = 0) -> int:
    """`iters` splitmix64 steps, each fed the last one's output (so no step can
    be skipped); returns the last value."""
    for _ in range(iters):
        z = (x + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        x = z ^ (z >> 31)
    return x


def _cpu_ms(iters: int) -> float:
    """Thread CPU time (ms) that `iters` steps take on this thread: CPU time,
    not wall time, so a busy machine does not shrink the calibration."""
    t0 = time.thread_time()
    spin(iters)
    return (time.thread_time() - t0) * 1e3


def calibrate(timings: int = 5, target_ms: float = 20.0) -> float:
    """Steps per millisecond of thread CPU time: the median of `timings`
    timings of about `target_ms` each (a first short run sizes them)."""
    guess = 2000
    while (took := _cpu_ms(guess)) < 2.0:  # grow until the clock resolves it well
        guess *= 4
    iters = max(1, int(guess * target_ms / took))
    return statistics.median(iters / _cpu_ms(iters) for _ in range(timings))
