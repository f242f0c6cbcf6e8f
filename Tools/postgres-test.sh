#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the mirror tests (Journal/Mirror.md §6), the same one .ci/run
# starts: it listens only on a Unix socket in DIR (no TCP port, nothing to collide with), trusts
# local logins of the role 'accord', and is removed by 'stop'.
#
#   Tools/postgres-test.sh start [DIR]   # prints: export ACCORD_TEST_POSTGRES_URL=postgres://accord@…
#   Tools/postgres-test.sh stop  [DIR]   # stops the server and deletes DIR
#
# DIR defaults to $ACCORD_TEST_POSTGRES_DIR, else /tmp/accord-postgres-test. Run as root (as CI
# does), initdb and postgres run as the 'postgres' user, since both refuse to run as root.
# PostgreSQL comes from Debian's packages (postgresql-15 or newer): 'apt-get install postgresql'.
set -euo pipefail

command=${1:-}
dir=${2:-${ACCORD_TEST_POSTGRES_DIR:-/tmp/accord-postgres-test}}

bin=""
if command -v initdb >/dev/null 2>&1; then
  bin=$(dirname "$(command -v initdb)")
else
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ]; then bin=$candidate; break; fi
  done
fi
if [ -z "$bin" ]; then
  echo "postgres-test.sh: no PostgreSQL server found (initdb); install it with 'apt-get install postgresql'." >&2
  exit 2
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() {
  # The socket directory as the URL's host, percent-encoded as libpq does.
  printf 'postgres://accord@%s:5432/postgres\n' "$(printf '%s' "$dir" | sed 's|/|%2F|g')"
}

case "$command" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U accord --auth=trust -E UTF8 --no-locale -N >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # max_wal_size 4GB (default 1GB): a mirror of 1,000,000 events writes about 2 GB of WAL, and
    # with the default the server checkpointed every 10 s and logged "checkpoints are occurring
    # too frequently … consider increasing max_wal_size" (Journal/Mirror.md §9). Durability is
    # the same: it only spaces the checkpoints out.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir -p 5432 -c max_connections=60 -c max_wal_size=4GB" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "export ACCORD_TEST_POSTGRES_URL=$(url)"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  url)
    url
    ;;
  *)
    echo "usage: Tools/postgres-test.sh start|stop|url [DIR]" >&2
    exit 2
    ;;
esac
