# threadloop: threads vs. event loops, measured. One cargo command per recipe;
# the logic lives in Rust.

set shell := ["bash", "-euo", "pipefail", "-c"]

runner := "target/release/runner"

# List recipes.
default:
    @just --list

# Install what runs and tests need (Debian): build tools; idempotent.
setup:
    command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
    cargo build --release --workspace

# Build everything runs and tests use (one profile: release).
build:
    cargo build --release --workspace

# Every experiment, default profile, then the report.
run-all: build
    {{runner}} run
    -target/release/report

# One experiment: `just run pool-saturation quick`.
run NAME PROFILE="": build
    {{runner}} run experiments/{{NAME}}.toml {{ if PROFILE != "" { "--profile " + PROFILE } else { "" } }}

# Every experiment's quick profile and the report.
smoke: build
    {{runner}} run --profile quick
    -target/release/report

# The HTML report of a run (default: the newest under data/runs/).
report RUN="": build
    target/release/report {{RUN}}

# Compare two runs; fails on a significant regression beyond PCT percent.
compare BASE NEW PCT="25": build
    target/release/report compare {{BASE}} {{NEW}} --fail-on-regression {{PCT}}

# Show the catalogue: cells and estimated time per experiment.
list PROFILE="": build
    {{runner}} list {{ if PROFILE != "" { "--profile " + PROFILE } else { "" } }}

# Check every spec.
validate: build
    {{runner}} validate

# The test suite (the same command .ci/run calls).
test:
    cargo build --release --workspace
    cargo nextest run --release --workspace --no-fail-fast

# The harness's own overhead benchmark.
bench:
    cargo bench -p threadloop-engine --bench overhead
