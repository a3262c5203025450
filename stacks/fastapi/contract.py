"""The request contract (stacks/CONTRACT.md) as this stack reads it: the same
parsing rules and reason texts as threadloop's own implementation
(engine/src/wire/contract.rs), so a malformed request gets the same 400 from
every server. The query is read raw (no percent-decoding), as there.
"""

import re
from dataclasses import dataclass

HEALTH_BODY = "ok\n"
NOT_FOUND_BODY = "not found\n"
IO_KINDS = ("timer", "postgres", "http")

# What Rust's `str::parse::<f64>` accepts (no spaces, no `_`, unlike float()).
_F64 = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.I | re.A)
# What `str::parse::<u16>` accepts before the range check.
_U16 = re.compile(r"\+?[0-9]+")


@dataclass(frozen=True)
class Order:
    cls: int
    cpu_ms: float
    io: str
    io_ms: float


class BadOrder(Exception):
    """A /work request the server cannot read: answered 400 with str(self)."""


def _ms(name: str, value):
    if value is None:
        raise BadOrder(f"missing parameter `{name}`")
    x = float(value) if _F64.fullmatch(value) else None
    if x is None or x != x or x in (float("inf"), float("-inf")) or x < 0:
        raise BadOrder(f"parameter `{name}`: `{value}` is not a non-negative number of milliseconds")
    return x


def parse_order(query: str) -> Order:
    """Reads `class=C&cpu_ms=X&io=KIND&io_ms=Y`; a later repeat of a key wins,
    unknown keys are ignored, and the checks run in contract.rs's order."""
    seen = {}
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if key in ("class", "cpu_ms", "io", "io_ms"):
                seen[key] = value
    cls, io = seen.get("class"), seen.get("io")
    if cls is None:
        raise BadOrder("missing parameter `class`")
    if io is None:
        raise BadOrder("missing parameter `io`")
    if not _U16.fullmatch(cls) or int(cls) > 65535:
        raise BadOrder(f"parameter `class`: `{cls}` is not a class index (0 to 65535)")
    cpu_ms = _ms("cpu_ms", seen.get("cpu_ms"))
    if io not in IO_KINDS:
        raise BadOrder(f"parameter `io`: `{io}` is not timer, http or postgres")
    return Order(int(cls), cpu_ms, io, _ms("io_ms", seen.get("io_ms")))


def answer(cls: int) -> str:
    return f"ok class={cls}\n"


def server_timing(seconds: float) -> str:
    """The W3C Server-Timing value threadloop reads the service time from."""
    return f"app;dur={seconds * 1e3:.3f}"
