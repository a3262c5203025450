"""threadloop's FastAPI stack: a FastAPI app on one uvicorn worker (one
process, one event loop) serving threadloop's request contract
(stacks/CONTRACT.md), started by `stacks/fastapi/serve` with the cell's flags.

--uvicorn says what uvicorn runs on: asyncio-h11 (a plain `pip install
uvicorn`: asyncio's loop, the pure-Python h11 parser) or uvloop-httptools
(what `uvicorn[standard]` and `fastapi[standard]` install and uvicorn then
picks: libuv's loop, the C parser).

--client says how a request waits (all three I/O kinds alike):
  async             `async def /work` with asyncio.sleep / asyncpg /
                    httpx.AsyncClient: each wait hands the loop back.
  blocking          `async def /work` calling time.sleep / psycopg2 /
                    requests: each wait holds the one loop, so every other
                    request waits too (the essay's mistake, H6/H7).
  blocking-offload  `def /work` with the same blocking calls: Starlette runs a
                    plain `def` endpoint in AnyIO's worker threads (a limiter
                    of 40 by default, left as it is and reported in /stats),
                    so each wait holds one worker thread, not the loop.
--offload says where an `async def` request's CPU work runs (H5/H9): inline on
the loop, or `await loop.run_in_executor(executor, ...)` with a
ThreadPoolExecutor (worker-pool) or a ProcessPoolExecutor (process-pool) of
--pool-threads workers. A `def` request runs its CPU on the worker thread it
is on. --cpu-work says what the CPU is (cpu.py): pure Python holds the GIL
wherever it runs, so a thread pool frees the loop only between GIL switches
(sys.getswitchinterval(), 5 ms) and adds no core; hashlib releases the GIL,
so a thread pool runs it beside the loop; a process pool has a GIL per
process, so it runs either beside the loop.
"""

import argparse
import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager

import anyio.to_thread
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import backends
import contract
import cpu

BACKLOG = 1024
# Below the runner's SIGKILL (5 s after SIGTERM): uvicorn waits this long for
# open keep-alive connections and running requests, then cancels them.
GRACEFUL_SHUTDOWN_S = 1
# prctl(2)'s option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def parse_args(argv=None):
    def positive(s):
        n = int(s)
        if n < 1:
            raise argparse.ArgumentTypeError(f"{s} is not a positive integer")
        return n

    p = argparse.ArgumentParser(prog="stacks/fastapi/serve", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--client", choices=("async", "blocking", "blocking-offload"), default="async")
    p.add_argument("--offload", choices=("inline", "worker-pool", "process-pool"), default="inline")
    p.add_argument("--pool-threads", type=positive, default=10, help="the CPU executor's max_workers")
    p.add_argument("--cpu-work", choices=tuple(cpu.KINDS), default="python",
                   help="the CPU part's code: pure Python, or hashlib (releases the GIL)")
    p.add_argument("--uvicorn", choices=("asyncio-h11", "uvloop-httptools"), default="asyncio-h11",
                   help="uvicorn's event loop and HTTP parser")
    p.add_argument("--db-pool", type=positive, help="connections in the PostgreSQL pool (none: no pool)")
    p.add_argument("--db-query", choices=tuple(backends.SQL), default="sleep")
    p.add_argument("--downstream", metavar="HOST:PORT", help="the slow downstream for io=http")
    p.add_argument("--debug", action="store_true", help="asyncio debug mode; counts slow callbacks")
    p.add_argument("--cpu-iters-per-ms", type=float, help="skip the calibration, use this")
    return p.parse_args(argv)


class SlowCallbacks(logging.Handler):
    """Counts asyncio debug mode's "Executing <handle> took 0.123 seconds"
    warnings: one per callback or task step that held the loop longer than
    loop.slow_callback_duration."""

    def __init__(self):
        super().__init__()
        self.count = 0

    @staticmethod
    def is_slow(record: logging.LogRecord) -> bool:
        return isinstance(record.msg, str) and record.msg.startswith("Executing ") and " took " in record.msg

    def emit(self, record):
        if self.is_slow(record):
            self.count += 1


def count_slow_callbacks() -> SlowCallbacks:
    """Counts the slow-callback warnings instead of printing them (writing one
    line to stderr per blocked request would itself be blocking I/O on the
    loop); every other asyncio message still goes to stderr."""
    counter = SlowCallbacks()
    rest = logging.StreamHandler(sys.stderr)
    rest.addFilter(lambda r: not SlowCallbacks.is_slow(r))
    log = logging.getLogger("asyncio")
    log.addHandler(counter)
    log.addHandler(rest)
    log.propagate = False
    return counter


def make_app(args, io, executor, iters_per_ms: float, slow: SlowCallbacks | None) -> FastAPI:
    blocking_io = args.client != "async"

    @asynccontextmanager
    async def lifespan(_app):
        yield
        # uvicorn's graceful shutdown (SIGTERM) ends here, before it re-raises
        # the signal: close the pools so PostgreSQL sees clean disconnects.
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if blocking_io:
            io.close()
        else:
            await io.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def plain_errors(_request, exc):
        # The contract's bodies are text, not FastAPI's JSON {"detail": ...}.
        if exc.status_code == 404:
            return PlainTextResponse(contract.NOT_FOUND_BODY, 404)
        return PlainTextResponse(f"{exc.detail}\n", exc.status_code, headers=exc.headers)

    @app.get("/health")
    async def health():
        return PlainTextResponse(contract.HEALTH_BODY)

    @app.get("/stats")
    async def stats():
        s = {
            # Units of --cpu-work per ms: splitmix64 steps, or bytes hashed.
            "cpu_iters_per_ms": iters_per_ms,
            "cpu_calibrated": args.cpu_iters_per_ms is None,
            "cpu_work": args.cpu_work,
            "uvicorn": args.uvicorn,
            # The loop's class: what really runs (uvloop.Loop or asyncio's).
            "event_loop": type(asyncio.get_running_loop()).__module__,
            "client": args.client,
            "offload": args.offload,
            "cpu_runs_on": "anyio-thread" if args.client == "blocking-offload"
            else args.offload if executor is not None else "loop",
            "pool_threads": args.pool_threads if executor is not None else None,
            "db_pool": args.db_pool if io.pool is not None else None,
            "db_query": args.db_query,
            # AnyIO's default limiter: how many `def` endpoints run at once.
            "thread_pool_threads": anyio.to_thread.current_default_thread_limiter().total_tokens,
            "python": sys.version.split()[0],
        }
        if slow is not None:
            s["slow_callbacks"] = slow.count
        return JSONResponse(s)

    def order_of(request: Request):
        try:
            return contract.parse_order(request.scope["query_string"].decode("utf-8", "replace")), None
        except contract.BadOrder as e:
            return None, PlainTextResponse(f"{e}\n", 400)

    def answered(order, t0: float, failure: backends.IoFailed | None):
        status, body = (500, f"{failure}\n") if failure else (200, contract.answer(order.cls))
        timing = contract.server_timing(time.perf_counter() - t0)
        return PlainTextResponse(body, status, headers={"server-timing": timing})

    def iters(order) -> int:
        return round(order.cpu_ms * iters_per_ms)

    spin = cpu.work(args.cpu_work)

    if args.client == "blocking-offload":

        @app.get("/work")
        def work_in_thread(request: Request):
            """Runs on one of AnyIO's worker threads: CPU and blocking I/O
            hold this thread only."""
            order, bad = order_of(request)
            if bad:
                return bad
            t0 = time.perf_counter()
            spin(iters(order))
            try:
                io.run(order.io, order.io_ms)
            except backends.IoFailed as e:
                return answered(order, t0, e)
            return answered(order, t0, None)

    else:

        @app.get("/work")
        async def work_on_loop(request: Request):
            """Runs on the event loop: with --client blocking, io.run() holds
            the loop for the whole wait."""
            order, bad = order_of(request)
            if bad:
                return bad
            t0 = time.perf_counter()
            n = iters(order)
            if n and executor is not None:
                await asyncio.get_running_loop().run_in_executor(executor, spin, n)
            elif n:
                spin(n)
            try:
                if blocking_io:
                    io.run(order.io, order.io_ms)
                else:
                    await io.run(order.io, order.io_ms)
            except backends.IoFailed as e:
                return answered(order, t0, e)
            return answered(order, t0, None)

    return app


def die_with_parent(parent: int) -> None:
    """A pool process's initializer: it gets SIGKILL when the stack's process
    dies, however that dies (as the stack does with the cell), so no worker
    outlives its cell."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0 or os.getppid() != parent:
        os._exit(1)


def start_process_pool(args) -> ProcessPoolExecutor:
    """The process-pool offload's executor, its processes forked now, before
    the loop or any thread exists (fork copies only the calling thread, and
    the cpu module is already imported in them). With fork, CPython starts
    every worker at the first submit."""
    pool = ProcessPoolExecutor(max_workers=args.pool_threads, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    pool.submit(cpu.work(args.cpu_work), 0).result()
    return pool


async def serve(args, iters_per_ms: float, executor) -> None:
    slow = None
    if args.debug:
        asyncio.get_running_loop().slow_callback_duration = 0.1
        slow = count_slow_callbacks()

    # Pools connect now, before LISTENING, and only when asked for.
    pg = backends.PgEndpoint.from_env()
    if args.client == "async":
        io = backends.AsyncIo(args.db_query, args.downstream)
        await io.open(pg, args.db_pool)
    else:
        io = backends.BlockingIo(args.db_query, args.downstream)
        io.open(pg, args.db_pool)  # blocks the loop, but nothing is served yet
    if args.offload == "worker-pool":
        executor = ThreadPoolExecutor(max_workers=args.pool_threads, thread_name_prefix="cpu")

    app = make_app(args, io, executor, iters_per_ms, slow)
    # proto=IPPROTO_TCP, not the default 0: asyncio turns Nagle off
    # (TCP_NODELAY) only on sockets whose proto says TCP, and uvicorn writes
    # the head and the body of an answer in two sends. With Nagle on, the body
    # waits for the client's delayed ACK: +40 ms on every keep-alive request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(BACKLOG)
    config = uvicorn.Config(
        app,
        # informational: this process's loop is the one main() runs
        loop="uvloop" if args.uvicorn == "uvloop-httptools" else "asyncio",
        http="httptools" if args.uvicorn == "uvloop-httptools" else "h11",
        workers=1,
        lifespan="on",
        access_log=False,
        backlog=BACKLOG,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_level="info",  # uvicorn logs to stderr; stdout carries only LISTENING
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    # `started` turns true once the socket is being served: /health answers.
    while not server.started:
        if serving.done():
            await serving
            raise RuntimeError("uvicorn stopped before it served")
        await asyncio.sleep(0.005)
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    await serving


def main() -> None:
    args = parse_args()
    if args.cpu_iters_per_ms is not None and not args.cpu_iters_per_ms > 0:
        sys.exit("--cpu-iters-per-ms must be positive")
    iters_per_ms = args.cpu_iters_per_ms or cpu.calibrate(args.cpu_work)
    print(f"fastapi stack: {iters_per_ms:.0f} units of {args.cpu_work} work per ms of CPU; "
          f"client={args.client} offload={args.offload} uvicorn={args.uvicorn}", file=sys.stderr, flush=True)
    executor = start_process_pool(args) if args.offload == "process-pool" else None
    if args.uvicorn == "uvloop-httptools":
        import uvloop

        run = uvloop.run
    else:
        run = asyncio.run
    try:
        run(serve(args, iters_per_ms, executor), debug=args.debug)
    except (backends.IoFailed, ValueError, OSError) as e:
        sys.exit(f"fastapi stack: {e}")


if __name__ == "__main__":
    main()
