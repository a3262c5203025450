"""The contract's three I/O kinds, twice: with asyncio's own clients (the
essay's fix: asyncio.sleep, asyncpg, httpx.AsyncClient) and with blocking ones
(the essay's mistake when called on the loop: time.sleep, psycopg2,
requests). Which one a request uses, and on which thread, is app.py's choice.

Both ask PostgreSQL the same SQL as threadloop's Rust drivers
(engine/src/db/mod.rs) and check the answer the same way; a failed or wrong
answer raises IoFailed, which the request answers with 500 and its reason.
"""

import asyncio
import itertools
import os
import threading
import time
from contextlib import contextmanager

import cpu

# Bounds every downstream call and every wait for a connection. Generous on
# purpose: the load generator's own timeout is what a cell counts; this only
# keeps a lost peer from holding a request forever.
IO_TIMEOUT_S = 30.0
# The runner counts the server's activity by this application name.
APP_NAME = "threadloop-cell"
CONNECT_TIMEOUT_S = 10
PRODUCTS = 100_000

# `{}` is the driver's placeholder: `$1` for asyncpg, `%s` for psycopg2.
SQL = {
    "sleep": "SELECT pg_sleep({}::float8)",
    "point": "SELECT name FROM products WHERE id = {}::int4",
    "update": "UPDATE inventory SET stock = stock - 1 WHERE product_id = {}::int4 RETURNING product_id",
}


class IoFailed(Exception):
    """A failed I/O (refused, timed out, wrong answer): the request's 500."""


def _one_line(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())


_ids = itertools.count()  # next() is atomic under the GIL: safe from any thread


def query_param(db_query: str, io_ms: float):
    """pg_sleep's seconds, or a product id spread over the table (a counter
    through splitmix64, as the Rust drivers draw theirs)."""
    if db_query == "sleep":
        return io_ms / 1e3
    return 1 + cpu.spin(1, next(_ids)) % PRODUCTS


def check_rows(db_query: str, param, rows) -> None:
    if len(rows) != 1:
        raise IoFailed(f"postgres: {db_query} returned {len(rows)} rows, expected 1")
    first = rows[0][0]
    if db_query == "point" and first != f"product-{param}":
        raise IoFailed(f"postgres: products[{param}] is {first!r}, expected 'product-{param}'")
    if db_query == "update" and first != param:
        raise IoFailed(f"postgres: update of {param} returned {first!r}")


class PgEndpoint:
    """The PostgreSQL server as threadloop hands it to a stack: one
    environment variable a field (stacks/CONTRACT.md), so nothing here parses
    a connection string. The password stays out of every message."""

    def __init__(self, host: str, port: int, user: str, password: str | None, dbname: str):
        self.host, self.port, self.user = host, port, user
        self.password, self.dbname = password, dbname

    @staticmethod
    def from_env(env=os.environ) -> "PgEndpoint | None":
        """None when threadloop gave no server (no THREADLOOP_PG_HOST)."""
        if not env.get("THREADLOOP_PG_HOST"):
            return None

        def required(name: str) -> str:
            v = env.get(name)
            if not v:
                raise ValueError(f"{name} is not set (threadloop sets it with THREADLOOP_PG_HOST)")
            return v

        return PgEndpoint(
            host=env["THREADLOOP_PG_HOST"],
            port=int(required("THREADLOOP_PG_PORT")),
            user=required("THREADLOOP_PG_USER"),
            password=env.get("THREADLOOP_PG_PASSWORD"),
            dbname=required("THREADLOOP_PG_DBNAME"),
        )

    def __str__(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    def asyncpg(self) -> dict:
        """asyncpg's connect arguments."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.dbname,
            "timeout": CONNECT_TIMEOUT_S,
            "server_settings": {"application_name": APP_NAME},
        }

    def psycopg2(self) -> dict:
        """psycopg2's (libpq's) connect keywords."""
        kw = {"host": self.host, "port": self.port, "user": self.user, "dbname": self.dbname}
        if self.password is not None:
            kw["password"] = self.password
        return {**kw, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": APP_NAME}


class AsyncIo:
    """Non-blocking I/O on the event loop: each wait hands the loop back."""

    def __init__(self, db_query: str, downstream: str | None):
        self.db_query = db_query
        self.downstream = downstream
        self.pool = None
        self.http = None

    async def open(self, pg: PgEndpoint | None, db_pool: int | None) -> None:
        import asyncpg
        import httpx

        # httpx's default Limits cap a client at 100 connections (20 kept
        # alive): a hidden pool in front of the downstream. Unbounded here, so
        # the loop is the only limit, as with the Rust async clients.
        self.http = httpx.AsyncClient(
            timeout=IO_TIMEOUT_S,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        )
        if pg and db_pool:
            # min = max = N: every connection is opened now, before LISTENING.
            # A request that finds all N in use waits in pool.acquire() (a
            # queue on the loop, FIFO) until one is released: it never fails
            # for want of a connection, it queues.
            try:
                self.pool = await asyncpg.create_pool(min_size=db_pool, max_size=db_pool, **pg.asyncpg())
            except Exception as e:
                raise IoFailed(f"connect to PostgreSQL at {pg} (asyncpg): {_one_line(e)}") from e

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.pool is not None:
            await self.pool.close()

    async def run(self, io: str, io_ms: float) -> None:
        if io == "timer":
            await asyncio.sleep(io_ms / 1e3)
        elif io == "postgres":
            if self.pool is None:
                raise IoFailed("postgres: no connection pool (the stack needs --db-pool N and THREADLOOP_PG_HOST)")
            p = query_param(self.db_query, io_ms)
            try:
                async with self.pool.acquire(timeout=IO_TIMEOUT_S) as con:
                    rows = await con.fetch(SQL[self.db_query].format("$1"), p)
            except Exception as e:
                raise IoFailed(f"postgres: {_one_line(e)}") from e
            check_rows(self.db_query, p, rows)
        else:
            url = _delay_url(self.downstream, io_ms)
            try:
                r = await self.http.get(url)
            except Exception as e:
                raise IoFailed(f"http: GET {url}: {_one_line(e)}") from e
            if r.status_code != 200:
                raise IoFailed(f"http: GET {url} answered {r.status_code}")


class _WaitingPool:
    """psycopg2's ThreadedConnectionPool of N connections, made to wait.

    ThreadedConnectionPool.getconn() raises PoolError("connection pool
    exhausted") when all N are out, where asyncpg's pool (and HikariCP) make
    the caller wait. A semaphore of N in front of it makes a thread that
    finds all N in use block until one is returned, so both drivers queue
    the same way. (On the loop thread, with --client blocking, only one
    request runs at a time, so it never waits there.)"""

    def __init__(self, n: int, pg: PgEndpoint):
        from psycopg2.pool import ThreadedConnectionPool

        self.slots = threading.BoundedSemaphore(n)
        self.pool = ThreadedConnectionPool(n, n, **pg.psycopg2())

    @contextmanager
    def connection(self):
        if not self.slots.acquire(timeout=IO_TIMEOUT_S):
            raise IoFailed(f"postgres: no connection free within {IO_TIMEOUT_S:.0f} s")
        try:
            con = self.pool.getconn()
            con.autocommit = True  # one query, one transaction, as asyncpg does
            try:
                yield con
            finally:
                self.pool.putconn(con, close=bool(con.closed))
        finally:
            self.slots.release()

    def close(self) -> None:
        self.pool.closeall()


class BlockingIo:
    """Blocking I/O: each wait holds the calling thread (on the loop thread,
    it holds every request)."""

    def __init__(self, db_query: str, downstream: str | None):
        self.db_query = db_query
        self.downstream = downstream
        self.pool = None
        # requests.Session is not documented as thread-safe: one per thread,
        # each keeping its one keep-alive connection to the downstream.
        self._local = threading.local()

    def open(self, pg: PgEndpoint | None, db_pool: int | None) -> None:
        if pg and db_pool:
            try:
                self.pool = _WaitingPool(db_pool, pg)
            except Exception as e:
                raise IoFailed(f"connect to PostgreSQL at {pg} (psycopg2): {_one_line(e)}") from e

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def _session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            import requests

            s = self._local.session = requests.Session()
        return s

    def run(self, io: str, io_ms: float) -> None:
        if io == "timer":
            time.sleep(io_ms / 1e3)
        elif io == "postgres":
            if self.pool is None:
                raise IoFailed("postgres: no connection pool (the stack needs --db-pool N and THREADLOOP_PG_HOST)")
            p = query_param(self.db_query, io_ms)
            try:
                with self.pool.connection() as con, con.cursor() as cur:
                    cur.execute(SQL[self.db_query].format("%s"), (p,))
                    rows = cur.fetchall()
            except IoFailed:
                raise
            except Exception as e:
                raise IoFailed(f"postgres: {_one_line(e)}") from e
            check_rows(self.db_query, p, rows)
        else:
            url = _delay_url(self.downstream, io_ms)
            try:
                r = self._session().get(url, timeout=IO_TIMEOUT_S)
            except Exception as e:
                raise IoFailed(f"http: GET {url}: {_one_line(e)}") from e
            if r.status_code != 200:
                raise IoFailed(f"http: GET {url} answered {r.status_code}")


def _delay_url(downstream: str | None, io_ms: float) -> str:
    if not downstream:
        raise IoFailed("http: no downstream (the stack needs --downstream HOST:PORT)")
    return f"http://{downstream}/delay/{int(io_ms * 1e3)}"
