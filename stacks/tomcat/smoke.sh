#!/usr/bin/env bash
# Smoke test of the Tomcat stack: for Java 21 and 25 and each mode, start
# `serve --port 0`, wait for LISTENING, and check /health, a /work with a
# timer, a 400, a 404 and /stats against the contract. Exits non-zero on the
# first mismatch; the trap stops the JVM, so nothing outlives the script.
# Needs setup.sh first (serve exits 3 otherwise).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
pid=""
stop() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=""
    fi
}
trap 'stop; rm -rf "$tmp"' EXIT

fail() { echo "smoke: FAIL java $java mode $mode: $*" >&2; tail -n 20 "$tmp/err" >&2 || true; exit 1; }

# expect URL STATUS BODY: one GET, its status and exact body.
expect() {
    local got status body
    got=$(curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$1") || fail "GET $1: curl failed"
    status=$got body=$(cat "$tmp/body"; echo x)
    body=${body%x}
    [ "$status" = "$2" ] || fail "GET $1 answered $status, expected $2 ($(cat "$tmp/body"))"
    [ -z "${3+x}" ] || [ "$body" = "$3" ] || fail "GET $1 answered body '$body', expected '$3'"
}

passed=0
for java in 21 25; do
    for mode in pool async virtual; do
        : >"$tmp/out"
        "$TOMCAT_STACK/serve" --java "$java" --port 0 --mode "$mode" >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        start=$(date +%s%N)
        port=""
        for _ in $(seq 600); do
            port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$tmp/out")
            [ -n "$port" ] && break
            kill -0 "$pid" 2>/dev/null || fail "exited before LISTENING"
            sleep 0.1
        done
        [ -n "$port" ] || fail "no LISTENING line within 60 s"
        ms=$((($(date +%s%N) - start) / 1000000))
        base="http://127.0.0.1:$port"
        expect "$base/health" 200 $'ok\n'
        expect "$base/work?class=7&cpu_ms=2&io=timer&io_ms=30" 200 $'ok class=7\n'
        grep -qi '^server-timing: app;dur=[0-9.]*' "$tmp/head" || fail "/work has no server-timing header"
        grep -qi '^content-type: text/plain' "$tmp/head" || fail "/work is not text/plain"
        expect "$base/work?class=0&cpu_ms=1&io=timer" 400 $'missing parameter `io_ms`\n'
        expect "$base/work?class=0&cpu_ms=-1&io=timer&io_ms=1" 400
        expect "$base/elsewhere" 404
        expect "$base/stats" 200
        grep -q "\"cpu_iters_per_ms\":[0-9]" "$tmp/body" || fail "/stats has no cpu_iters_per_ms: $(cat "$tmp/body")"
        grep -q "\"mode\":\"$mode\"" "$tmp/body" || fail "/stats has the wrong mode: $(cat "$tmp/body")"
        grep -q "\"pinned\":[0-9]" "$tmp/body" || fail "/stats has no pinned: $(cat "$tmp/body")"
        stop
        echo "smoke: ok java $java mode $mode (LISTENING after $ms ms)"
        passed=$((passed + 1))
    done
done
echo "$passed passed, 0 failed"
