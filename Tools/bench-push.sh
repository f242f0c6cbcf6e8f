#!/usr/bin/env bash
# Benchmark row for issue 16: a push of N events applied by `accord serve`, beside a local
# `accord append --from` of the same events, printed as a Markdown row for
# Tools/Benchmarks/results.md.
#
#   Tools/bench-push.sh [EVENTS] [ACCORD] [RUNS]   (default 30000 events; ACCORD: the binary,
#                                                   default $(swift build -c release --show-bin-path)/accord;
#                                                   RUNS: interleaved runs, default 5; medians)
#
# Each run:
# - local: `accord append --from FILE` of N drafts (a third stakeholders, a third commitments,
#   a third roadmap actions) into a new journal: parse, command checks, sign, compress, write,
#   fdatasync;
# - push: the same N events, already in the journal of site 'brussels', sent by
#   `accord sync --with http://127.0.0.1:PORT` to `accord serve` over a new journal of site
#   'astana' that trusts brussels: the client reads, encodes and signs the request; the server
#   checks the signature, decodes, checks every event's chain and signature, writes and
#   fdatasyncs. The server is started before the clock and stopped after, so the time is the
#   client's wall-clock time from the first byte sent to the summary printed, process start
#   included (as for the local append).
# Times are wall-clock (python3's time.monotonic around the child); the runs are interleaved so
# that drift of a shared machine falls on both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-30000}
accord=${2:-$(swift build -c release --show-bin-path)/accord}
runs=${3:-5}
scratch=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$scratch"' EXIT

python3 - "$events" "$scratch/drafts.jsonl" <<'EOF'
import json, sys
events, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    out.write('{"type":"stakeholder.registered.v1","subject":"stakeholder/kz-miid","data":{"name":"Ministry of Industry","kind":"government","country":"KZ"}}\n')
    for n in range(1, events):
        kind = n % 3
        if kind == 0:
            out.write('{"type":"stakeholder.registered.v1","subject":"stakeholder/org-%d","data":{"name":"Organisation %d","kind":"industrial","country":"KZ"}}\n' % (n, n))
        elif kind == 1:
            out.write('{"type":"finance.committed.v1","subject":"funding/f-%d","data":{"provider":"kz-miid","receiver":"kz-miid","amount":"%d.50","currency":"EUR","date":"2024-03-01"}}\n' % (n, n))
        else:
            out.write('{"type":"action.proposed.v1","subject":"action/a-%d","data":{"title":"Action %d","pillar":"value-chain-integration"}}\n' % (n, n))
EOF

# Prints the wall-clock seconds of a command; its output is discarded.
seconds() {
  python3 - "$@" <<'EOF'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.monotonic() - start:.3f}")
EOF
}

# The source journal, made once: brussels holding the N events.
"$accord" init --site brussels --partnership bench --journal "$scratch/source" >/dev/null
"$accord" append --from "$scratch/drafts.jsonl" --journal "$scratch/source" >/dev/null

local_times=()
push_times=()
for run in $(seq 1 "$runs"); do
  "$accord" init --site brussels --partnership bench --journal "$scratch/local-$run" >/dev/null
  local_times+=("$(seconds "$accord" append --from "$scratch/drafts.jsonl" --journal "$scratch/local-$run")")

  # A copy of the source per run, so that each push sends all N events to a new peer.
  cp -a "$scratch/source" "$scratch/client-$run"
  "$accord" init --site astana --partnership bench --journal "$scratch/peer-$run" >/dev/null
  "$accord" peer add brussels --key "$(cat "$scratch/source/keys/brussels.pub")" --journal "$scratch/peer-$run" >/dev/null
  "$accord" peer add astana --key "$(cat "$scratch/peer-$run/keys/astana.pub")" --journal "$scratch/client-$run" >/dev/null
  "$accord" serve --listen 127.0.0.1:0 --max-body $((1 << 30)) --journal "$scratch/peer-$run" >"$scratch/serve-$run.out" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' "$scratch/serve-$run.out" 2>/dev/null | head -1 | cut -d: -f3 || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "accord serve did not start: $(cat "$scratch/serve-$run.out")" >&2; exit 1; }
  push_times+=("$(seconds "$accord" sync --with "http://127.0.0.1:$port" --journal "$scratch/client-$run")")
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  held=$("$accord" log --json --site brussels --journal "$scratch/peer-$run" | wc -l)
  [ "$held" -eq "$events" ] || { echo "run $run: the peer holds $held of $events events after the push" >&2; exit 1; }
  rm -rf "$scratch/local-$run" "$scratch/client-$run" "$scratch/peer-$run"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
local_median=$(median "${local_times[@]}")
push_median=$(median "${push_times[@]}")
ratio=$(python3 -c "print(f'{$push_median / $local_median:.2f}')")
met=$(python3 -c "print('met' if $push_median <= 1.5 * $local_median else '**missed**')")
echo "| a $events-event push applied by \`accord serve\` (s; median of $runs, interleaved) | $push_median ($(spread "${push_times[@]}")) | local \`append --from\` of the same events $local_median ($(spread "${local_times[@]}")) | ${ratio}× | ≤ 1.5× | $met |"
echo "binary: $accord; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
