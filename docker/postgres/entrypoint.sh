#!/bin/sh
# Minimal stand-in for the official postgres image entrypoint. Runs under dash
# with only chown/chroot available, so everything else is a shell builtin.
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

# Like the official image: `docker run img -c foo=bar` means `postgres -c foo=bar`.
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

# dash has no $UID and the image has no `id`; read it from the kernel.
uid=
while read -r key real _; do [ "$key" = Uid: ] && uid=$real && break; done </proc/self/status

if [ "$uid" = 0 ]; then
    # Volumes arrive root-owned; hand them to postgres, then drop privileges.
    # `chroot --userspec` to / is the libc-only equivalent of gosu/setpriv.
    chown postgres:postgres /var/lib/postgresql /var/run/postgresql
    [ -d "$PGDATA" ] && chown postgres:postgres "$PGDATA"
    exec chroot --userspec=postgres:postgres --skip-chdir / "$0" "$@"
fi

# Informational flags must not trigger (or require env for) an initdb.
init=1
case "${2:-}" in -V | --version | --help | -\? | --describe-config) init= ;; esac
if [ "$1" = postgres ] && [ -n "$init" ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        echo "error: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    # Single-user mode logs SQL errors but still exits 0, so refuse up front
    # what would break the quoted identifier below.
    case $POSTGRES_DB in *\"*) echo "error: POSTGRES_DB must not contain '\"'" >&2; exit 1 ;; esac
    # The password goes in via stdin so it never shows up in `ps`/argv;
    # initdb rejects an empty pwfile, so trust-without-password skips it.
    pw=; [ -n "${POSTGRES_PASSWORD:-}" ] && pw=--pwfile=/dev/stdin
    # C locale: no locale files in the image, and it is the fastest collation.
    # --no-sync/fsync=off during init save ~0.8 s per fresh container; only a
    # host crash right after init could lose data, acceptable for benchmarks.
    printf '%s\n' "${POSTGRES_PASSWORD:-}" | initdb -D "$PGDATA" \
        --username="$POSTGRES_USER" $pw \
        --locale=C --encoding=UTF8 --auth-local=trust --auth-host="$auth" \
        --no-instructions --no-sync >/dev/null
    echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    # Single-user mode instead of a temporary server: nothing listens and the
    # "ready to accept connections" line is printed only by the final server.
    # (A LOG-level checkpoint line would still pass log_min_messages=warning.)
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\"" |
            postgres --single -D "$PGDATA" -c log_checkpoints=off -c fsync=off postgres >/dev/null
    fi
    echo "entrypoint: initialized $PGDATA (user=$POSTGRES_USER db=$POSTGRES_DB auth=$auth)" >&2
fi

exec "$@"
