#!/usr/bin/env bash
# Smoke test of the FastAPI stack: for each --client, start it on a free port,
# wait for LISTENING, check /health, an io=timer /work (body, content type,
# Server-Timing), a 400 and a 404, /stats, then stop it with SIGTERM as a cell
# does. Exits non-zero on the first mismatch; nothing it starts outlives it.
# Extra arguments go to every serve (e.g. --debug).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
pid=
stop() {
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}
trap 'stop; rm -rf "$tmp"' EXIT

fail() {
    echo "smoke: FAIL: $*" >&2
    [[ -s $tmp/err ]] && { echo "--- stack stderr (last lines):" >&2; tail -n 15 "$tmp/err" >&2; }
    exit 1
}

# expect STATUS BODY PATH: GET PATH, compare status and the exact body.
expect() {
    local status=$1 body=$2 path=$3 got
    got=$(curl -sS -m 10 -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port$path") \
        || fail "$client: GET $path: curl failed"
    [[ $got == "$status" ]] || fail "$client: GET $path answered $got ($(head -c 200 "$tmp/body")), expected $status"
    printf '%s' "$body" | cmp -s - "$tmp/body" \
        || fail "$client: GET $path answered body $(od -c "$tmp/body" | head -3), expected $(printf %q "$body")"
}

for client in async blocking blocking-offload; do
    : >"$tmp/out"
    "$here/serve" --port 0 --client "$client" "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    port=
    for _ in $(seq 600); do  # the contract's 60 s
        port=$(awk '$1 == "LISTENING" {print $2; exit}' "$tmp/out")
        [[ -n $port ]] && break
        kill -0 "$pid" 2>/dev/null || fail "$client: the stack exited before LISTENING"
        sleep 0.1
    done
    [[ -n $port ]] || fail "$client: no LISTENING line within 60 s"
    [[ $(wc -l <"$tmp/out") -eq 1 ]] || fail "$client: stdout has more than the LISTENING line"

    expect 200 $'ok\n' /health
    expect 200 $'ok class=7\n' '/work?class=7&cpu_ms=1&io=timer&io_ms=5'
    grep -qi '^content-type: text/plain' "$tmp/headers" || fail "$client: /work is not text/plain"
    grep -qiE '^server-timing: app;dur=[0-9.]+' "$tmp/headers" || fail "$client: /work has no server-timing"
    expect 200 $'ok class=0\n' '/work?class=0&cpu_ms=0&io=timer&io_ms=0'
    expect 400 $'missing parameter `io_ms`\n' '/work?class=0&cpu_ms=0&io=timer'
    expect 400 $'parameter `io`: `disk` is not timer, http or postgres\n' '/work?class=0&cpu_ms=0&io=disk&io_ms=1'
    expect 404 $'not found\n' '/nope'
    curl -sS -m 10 "http://127.0.0.1:$port/stats" >"$tmp/stats" || fail "$client: /stats failed"
    grep -q "\"client\":\"$client\"" "$tmp/stats" && grep -q '"cpu_iters_per_ms":' "$tmp/stats" \
        || fail "$client: /stats is $(cat "$tmp/stats")"

    stop
    echo "smoke: $client ok (port $port)"
done
echo "smoke: 3 passed, 0 failed"
