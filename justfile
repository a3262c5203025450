# threadloop: threads vs. event loops, measured. One cargo command per recipe;
# the logic lives in Rust.

set shell := ["bash", "-euo", "pipefail", "-c"]

runner := "target/release/runner"

# The whole catalogue's time budget (`runner run --budget`): the planned
# repetitions and each server's calibration always run; adaptive ones stop
# where the next would end past it. The Spring stack's four models, at the
# two repetitions an interval needs, took the planned repetitions alone to
# about 27 minutes here (measured: 26m52s, with 2m of calibrating servers),
# so a budget of 24m left no adaptive repetition and 27 rules undecided at
# n = 2. Measured at b619408: calibration 4m15s, planned executions 23m44s,
# so 32m leaves about 4 minutes to the adaptive repetitions (42 ran), and
# `just run-all` takes about 34 minutes on 2 cores with build and report.
budget := "32m"

# The bare-servlet Tomcat experiments whose claims the Spring stack repeats
# on Spring Boot's Tomcat (H2's pool of 500, H3's async servlet, H10's
# pinning plain and through JDBC): left out of `just run-all` (their place
# goes to Spring), still in the catalogue, the smoke run and `just run NAME`.
# tomcat-pool (H1, what Spring adds on its container), tomcat-virtual-c10k
# and tomcat-virtual-unloaded have no Spring twin and stay.
spring_repeats := "tomcat-pool-size tomcat-async tomcat-virtual tomcat-virtual-jdbc"

# List recipes.
default:
    @just --list

# Install what runs and tests need (Debian; idempotent): libpq (the blocking
# driver links it), PostgreSQL 15 (local cluster and image), Docker (starts
# dockerd when none answers), wrk (the HTTP generator's peer check),
# iproute2 (the two-namespace test), the local PostgreSQL image,
# cargo-nextest, and the essay's own stacks under target/stacks/ (Tomcat
# 10.1 on Java 21 and 25, FastAPI on uvicorn: pinned versions, each
# stacks/*/setup.sh).
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=$(command -v sudo || true)
    need=()
    command -v pg_config >/dev/null || need+=(libpq-dev)
    [ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v wrk >/dev/null || need+=(wrk)
    command -v ip >/dev/null || need+=(iproute2)
    if [ ${#need[@]} -gt 0 ]; then
      $SUDO apt-get update -qq
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    fi
    if ! docker info >/dev/null 2>&1; then
      ($SUDO nohup dockerd >/tmp/threadloop-dockerd.log 2>&1 &)
      for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    fi
    if docker info >/dev/null 2>&1; then
      docker image inspect threadloop/postgres:15 >/dev/null 2>&1 || docker/postgres/build-image.sh
    else
      echo "no Docker engine answers: postgres cells will use a local cluster (--pg local)" >&2
    fi
    command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
    for s in stacks/*/setup.sh; do "$s"; done

# Build the local PostgreSQL image threadloop/postgres:15 from Debian's
# PostgreSQL 15 (Docker Hub is not reachable everywhere); `--smoke` checks it.
pg-image *ARGS:
    docker/postgres/build-image.sh {{ARGS}}

# Build everything runs and tests use (one profile: release).
build:
    cargo build --release --workspace

# Every experiment, default profile, then the report.
run-all: setup build
    {{runner}} run --budget {{budget}} {{ replace_regex(spring_repeats, '(\S+)', '--except $1') }}
    -target/release/report

# One experiment: `just run pool-saturation quick`.
run NAME PROFILE="": build
    {{runner}} run experiments/{{NAME}}.toml {{ if PROFILE != "" { "--profile " + PROFILE } else { "" } }}

# Every experiment's quick profile and the report.
smoke: setup build
    {{runner}} run --profile quick
    -target/release/report

# The HTML report of a run (default: the newest under data/runs/).
report RUN="": build
    target/release/report {{RUN}}

# Compare two runs; fails on a significant regression beyond PCT percent.
compare BASE NEW PCT="8": build
    target/release/report compare {{BASE}} {{NEW}} --fail-on-regression {{PCT}}

# Show the catalogue: cells and estimated time per experiment.
list PROFILE="": build
    {{runner}} list {{ if PROFILE != "" { "--profile " + PROFILE } else { "--budget " + budget } }}

# Check every spec.
validate: build
    {{runner}} validate

# The test suite (the same command .ci/run calls).
test: setup
    cargo build --release --workspace
    cargo nextest run --release --workspace --no-fail-fast

# Clippy over every target, warnings as errors (.ci/run runs it when clippy is installed).
lint:
    cargo clippy --release --workspace --all-targets -- -D warnings

# The spec checker and the Parquet reader under the fuzzer (proptest), SECS
# seconds each with fresh seeds; `just test` runs the same targets seeded.
fuzz SECS="600": build
    THREADLOOP_FUZZ_SECS={{SECS}} cargo nextest run --release -p threadloop-runner --test fuzz_spec --no-capture
    THREADLOOP_FUZZ_SECS={{SECS}} cargo nextest run --release -p threadloop-reports --test fuzz_parquet --no-capture

# The CI regression gate (docs/gate.md): RUN (default: the newest run) against
# the committed baseline at PCT percent (default 8), rerunning what fails on a
# ratio; `report gate --help` for the rest.
gate RUN="" PCT="": build
    target/release/report gate {{RUN}} {{ if PCT != "" { "--threshold " + PCT } else { "" } }}

# Copy the newest run (a `just smoke`) into the committed CI baseline.
baseline RUN="":
    #!/usr/bin/env bash
    set -euo pipefail
    run="{{RUN}}"; [ -n "$run" ] || run=$(ls -d data/runs/*/ | sort | tail -1)
    mkdir -p data/baselines/smoke
    rm -f data/baselines/smoke/*
    for f in results.parquet latency.parquet manifest.json; do
      [ -f "$run/$f" ] && cp "$run/$f" data/baselines/smoke/
    done
    echo "baseline <- $run"; ls -la data/baselines/smoke

# The harness's own overhead benchmark.
bench:
    cargo bench -p threadloop-engine --bench overhead

# The HTTP generator against wrk on a trivial endpoint (needs wrk: just setup).
peer: setup
    cargo bench -p threadloop-engine --bench peer
