# Sourced by scripts/test.sh: a PostgreSQL server of the tests' own, in a temporary
# folder on a free loopback port, stopped when the calling script exits. Installs the
# server from Debian's packages if it is missing. Exports MPOS_TEST_POSTGRES, the
# connection string the store tests use (each test makes its own schema in it).

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ]; then
    step "installing PostgreSQL (Debian)"
    as_root=""
    [ "$(id -u)" -ne 0 ] && as_root="sudo"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq postgresql
fi
PG_BIN="$(pg_bin)"

# PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user.
pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "$(id -u)" -eq 0 ]; then
    # Root's /tmp may be closed to other users; /var/tmp is open to all (sticky).
    PG_DIR="$(mktemp -d -p /var/tmp mpos-pg.XXXXXX)"
    chown postgres "$PG_DIR"
else
    PG_DIR="$(mktemp -d -t mpos-pg.XXXXXX)"
fi
PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_postgres() {
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT

pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U mpos -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
# Loopback only, and a socket in the temporary folder: nothing outside the machine can
# reach it, and it never meets a server already running here.
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c max_connections=200" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; exit 1; }
export MPOS_TEST_POSTGRES="host=127.0.0.1 port=$PG_PORT user=mpos dbname=postgres"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
