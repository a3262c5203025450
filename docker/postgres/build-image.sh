#!/usr/bin/env bash
# Build threadloop/postgres:15 from the host's Debian PostgreSQL 15 packages.
# Docker Hub is unreachable here, so there is no base image: we assemble a
# minimal rootfs (binaries + exactly the libs ldd names) and `docker import` it.
# Usage: docker/postgres/build-image.sh [--smoke]   (--smoke: run + query it)
set -euo pipefail

TAG=${TAG:-threadloop/postgres:15}
PGBIN=/usr/lib/postgresql/15/bin
PGLIB=/usr/lib/postgresql/15/lib
HERE=$(cd "$(dirname "$0")" && pwd)

if [[ ! -x $PGBIN/postgres ]]; then
    sudo=; [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-15
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# Copy a file to its canonical directory (so /lib/x -> /usr/lib/x on merged-usr
# hosts) under its own name, dereferenced: the loader looks libs up by soname.
put() {
    local f d
    for f; do
        d=$(readlink -f "$(dirname "$f")")
        mkdir -p "$root$d" && cp -L "$f" "$root$d/"
    done
}

bins=("$PGBIN"/{postgres,initdb,pg_ctl,pg_isready,psql} "$(command -v dash)"
      "$(command -v chroot)" "$(command -v chown)")
# JIT is left out on purpose: llvmjit.so drags in libLLVM (~100 MB). With the
# provider file absent, postgres silently runs with JIT unavailable.
mods=($(find "$PGLIB" -maxdepth 1 -name '*.so' ! -name 'llvmjit*'))
deps=$(ldd "${bins[@]}" "${mods[@]}" 2>/dev/null | grep -v '^/' || true)
if grep -q 'not found' <<<"$deps"; then
    echo "missing libraries:" >&2; grep 'not found' <<<"$deps" >&2; exit 1
fi
put "${bins[@]}" $(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$deps" | sort -u)

# Whole trees: extension .so/.control/.sql files, catalog bootstrap data, and
# tzdata (Debian builds with --with-system-tzdata=/usr/share/zoneinfo).
tar -C / -c --exclude='*/llvmjit*' --exclude="${PGLIB#/}/bitcode" \
    --exclude='usr/share/zoneinfo/right' --exclude='usr/share/postgresql/15/man' \
    "${PGLIB#/}" usr/share/postgresql/15 usr/share/zoneinfo | tar -C "$root" -x

# Mirror the host's merged-/usr symlinks so /bin/sh and /lib64/ld-linux resolve.
for d in bin sbin lib lib64; do if [[ -L /$d ]]; then ln -sfn "$(readlink "/$d")" "$root/$d"; fi; done
ln -sf dash "$root$(readlink -f /bin)/sh"
mkdir -p "$root"/{etc,dev,proc,sys,tmp,var/run/postgresql,var/lib/postgresql,usr/local/bin}
chmod 1777 "$root/tmp"
chmod 2775 "$root/var/run/postgresql"
cp "$HERE/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
# uid/gid 999 matches the official image, so existing volumes keep working.
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"

version=$("$PGBIN/postgres" --version)
old=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
tar -C "$root" --numeric-owner --owner=0 --group=0 -c . | docker import \
    --change "ENV PATH=$PGBIN:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' \
    --change 'EXPOSE 5432' \
    --change "LABEL org.opencontainers.image.version=\"$version\"" \
    --change "LABEL org.opencontainers.image.created=\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"" \
    --message "threadloop postgres from host packages: $version" \
    - "$TAG" >/dev/null
# Re-tagging leaves the previous build dangling; drop it (fails harmlessly if
# a container still uses it).
new=$(docker image inspect -f '{{.Id}}' "$TAG")
[[ -n $old && $old != "$new" ]] && docker rmi "$old" >/dev/null 2>&1 || true

echo "built $TAG ($version): $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si --round=nearest --format=%.1f) (${new:7:12})"

[[ ${1:-} == --smoke ]] || exit 0
# Smoke test: time to the ready line, then a password login over TCP.
t0=$(date +%s.%N)
cid=$(docker run -d -e POSTGRES_PASSWORD=x -e POSTGRES_USER=bench -e POSTGRES_DB=bench \
    -p 127.0.0.1::5432 "$TAG" -c max_connections=500 -c shared_preload_libraries=pg_stat_statements)
trap 'rm -rf "$root"; docker rm -f "$cid" >/dev/null' EXIT
until docker logs "$cid" 2>&1 | grep -q 'ready to accept connections'; do
    docker inspect -f '{{.State.Running}}' "$cid" | grep -q true || { docker logs "$cid"; exit 1; }
    sleep 0.05
done
echo "ready after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
port=$(docker port "$cid" 5432/tcp | head -1 | sed 's/.*://')
PGPASSWORD=x "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench -d bench -At \
    -c 'select version()' -c 'show max_connections' -c 'select pg_sleep(0.05)' \
    -c 'create extension pg_stat_statements' -c 'select count(*) > 0 from pg_stat_statements'
