"""The contract's CPU work in Python, of one of two kinds (`--cpu-work`),
each sized by a calibration of this interpreter on this machine:

- `python`: a chain of splitmix64 steps in pure Python. It holds the GIL the
  whole time: a worker thread running it competes with the loop thread for
  the GIL, it does not run beside it on another core (pdfminer.six's text
  extraction is such code; PyMuPDF's does not release the GIL either).
- `hashlib`: SHA-256 over a buffer, in C. hashlib releases the GIL for each
  update over more than 2 KiB, so a worker thread hashing leaves the loop
  thread free to run Python on another core (as zlib and numpy's vectorised
  operations do).

A kind's unit is what its calibration counts: steps, or bytes hashed.
"""

import hashlib
import statistics
import time

MASK = (1 << 64) - 1

# Hashed a chunk at a time: each update releases the GIL for about 0.2 ms
# here and takes it back between chunks for a few microseconds.
CHUNK = 256 * 1024
_BUFFER = memoryview(bytes(range(256)) * (CHUNK // 256))


def spin(iters: int, x: int = 0) -> int:
    """`iters` splitmix64 steps, each fed the last one's output (so no step can
    be skipped); returns the last value."""
    for _ in range(iters):
        z = (x + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        x = z ^ (z >> 31)
    return x


def sha256(nbytes: int) -> int:
    """SHA-256 over `nbytes` bytes, `CHUNK` at a time; returns the digest's
    first byte (so the work is not skipped)."""
    h = hashlib.sha256()
    full, rest = divmod(nbytes, CHUNK)
    for _ in range(full):
        h.update(_BUFFER)
    if rest:
        h.update(_BUFFER[:rest])
    return h.digest()[0]


# Each kind's work, called with its unit count (module-level functions, so a
# ProcessPoolExecutor can send them to its processes), and a first guess of
# that count.
KINDS = {"python": (spin, 2000), "hashlib": (sha256, 64 * 1024)}


def work(kind: str):
    """The work function of `kind` (`python` or `hashlib`)."""
    return KINDS[kind][0]


def _cpu_ms(run, units: int) -> float:
    """Thread CPU time (ms) that `units` of `run` take on this thread: CPU
    time, not wall time, so a busy machine does not shrink the calibration."""
    t0 = time.thread_time()
    run(units)
    return (time.thread_time() - t0) * 1e3


def calibrate(kind: str = "python", timings: int = 5, target_ms: float = 20.0) -> float:
    """Units of `kind` per millisecond of thread CPU time: the median of
    `timings` timings of about `target_ms` each (a first short run sizes them)."""
    run, guess = KINDS[kind]
    while (took := _cpu_ms(run, guess)) < 2.0:  # grow until the clock resolves it well
        guess *= 4
    units = max(1, int(guess * target_ms / took))
    return statistics.median(units / _cpu_ms(run, units) for _ in range(timings))
