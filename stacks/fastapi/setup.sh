#!/usr/bin/env bash
# Installs the FastAPI stack: a venv at <repo>/target/stacks/fastapi-venv with
# the wheels pinned in requirements.txt (binary wheels only: no compiler, and
# psycopg2-binary bundles its own libpq). Idempotent: a stamp file in the venv
# holds the hash of requirements.txt, and a venv whose stamp matches is left as
# it is. Python: $PYTHON if set, else python3 (3.8+; 3.11 on Debian bookworm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv="$repo/target/stacks/fastapi-venv"
reqs="$here/requirements.txt"
stamp="$venv/.threadloop-requirements.sha256"
python=${PYTHON:-python3}

fail() { echo "stacks/fastapi/setup.sh: $*" >&2; exit 1; }

want=$(sha256sum "$reqs" | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "FastAPI stack up to date ($venv)"
    exit 0
fi

command -v "$python" >/dev/null || fail "no $python on PATH (set PYTHON to a Python 3 interpreter)"
# Debian splits ensurepip out of python3 (package python3-venv); install it
# when we can, as `just setup` does for its own Debian packages.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    sudo=; [[ $(id -u) -ne 0 ]] && sudo=$(command -v sudo || true)
    if command -v apt-get >/dev/null && [[ $(id -u) -eq 0 || -n $sudo ]]; then
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv \
            || fail "could not install python3-venv"
    fi
    "$python" -c 'import ensurepip, venv' 2>/dev/null \
        || fail "$python has no venv/ensurepip module (on Debian: apt-get install python3-venv)"
fi

# A half-made or outdated venv is rebuilt from scratch: pins only ever change
# together with requirements.txt, and a fresh venv is a few seconds.
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" || fail "creating the venv at $venv failed"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --only-binary=:all: -r "$reqs" \
    || { rm -rf "$venv"; fail "pip install of requirements.txt failed (PyPI reachable? wheels for this Python?)"; }
"$venv/bin/python" -c 'import fastapi, uvicorn, asyncpg, psycopg2, httpx, requests, uvloop, httptools' \
    || { rm -rf "$venv"; fail "the installed packages do not import"; }
echo "$want" >"$stamp"
echo "FastAPI stack installed ($venv: $("$venv/bin/python" --version 2>&1))"
