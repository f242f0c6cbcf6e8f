#!/usr/bin/env bash
# One timed `accord mirror` of a journal into a new database of a running PostgreSQL, as the
# mirror rows of Tools/Benchmarks/results.md ("Mirror throughput, session 31") were measured:
# wall time, events/s, the mirror's CPU and peak RSS (/usr/bin/time), and PostgreSQL's CPU
# (utime+stime+cutime+cstime of the postmaster and its children, before and after; the backend
# is reaped when the mirror disconnects, so its CPU lands in cutime). Interleave the binaries you
# compare, and note the load.
#
#   Tools/mirror-bench.sh ACCORD JOURNAL EVENTS PGDIR [LABEL]
#
# PGDIR is the directory of a cluster started by Tools/postgres-test.sh (its Unix socket and
# data/postmaster.pid); EVENTS is the journal's event count (for events/s). The database is
# dropped afterwards. Needs psql and /usr/bin/time (Debian: postgresql-client, time).
set -euo pipefail
bin=$1; journal=$2; events=$3; dir=$4; label=${5:-run}
db=bench_$(date +%s%N)
psql=(psql -h "$dir" -U accord -d postgres -qAt)
"${psql[@]}" -c "CREATE DATABASE $db"
trap '"${psql[@]}" -c "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
pm=$(head -1 "$dir/data/postmaster.pid")
pgticks() {
  local total=0 fields
  for p in $pm $(pgrep -P "$pm"); do
    [ -r "/proc/$p/stat" ] || continue
    read -r -a fields <<<"$(sed 's/.*) //' "/proc/$p/stat")"
    total=$((total + fields[11] + fields[12] + fields[13] + fields[14]))
  done
  echo "$total"
}
before=$(pgticks)
load=$(cut -d' ' -f1-3 /proc/loadavg)
url="postgres://accord@$(printf '%s' "$dir" | sed 's|/|%2F|g'):5432/$db"
times=$(mktemp)
/usr/bin/time -f "%e %U %S %M" -o "$times" "$bin" mirror --postgres "$url" --journal "$journal" >/dev/null
sleep 0.5
after=$(pgticks)
read -r wall user sys rss <"$times"; rm -f "$times"
tick=$(getconf CLK_TCK)
awk -v l="$label" -v n="$events" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v p=$((after - before)) -v t="$tick" -v load="$load" \
  'BEGIN { printf "%s events=%d wall=%.2f s events/s=%d mirror CPU=%.1f s PostgreSQL CPU=%.1f s peak RSS=%d MiB load=[%s]\n", l, n, w, n / w, u + s, p / t, r / 1024, load }'
