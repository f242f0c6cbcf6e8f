#!/usr/bin/env bash
# A 10k-event delta pulled over plain HTTP and over TLS pinned to the site keys, side by side
# (issue 13): Brussels records EVENTS events, Astana (empty) syncs with Brussels' server once over
# http:// and once, from a copy, over https:// (`accord serve --tls`). Prints a markdown table of
# the wall time of each `accord sync`, its events/s and the ratio, RUNS times each.
#
#   Tools/tls-delta.sh                       # the debug build (swift build), 10,000 events, 3 runs
#   ACCORD=.build/release/accord EVENTS=10000 RUNS=5 Tools/tls-delta.sh
#
# Everything listens on 127.0.0.1 only and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCORD=${ACCORD:-$(swift build --show-bin-path)/accord}
EVENTS=${EVENTS:-10000}
RUNS=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/accord-tls-delta.XXXXXX")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$ACCORD" init --site brussels --partnership eu-kz-2022 --journal "$work/brussels" >/dev/null
"$ACCORD" init --site astana --partnership eu-kz-2022 --journal "$work/astana" >/dev/null
key() { "$ACCORD" keys show --journal "$1" | awk '/public key/{print $3}'; }
"$ACCORD" peer add astana --key "$(key "$work/astana")" --journal "$work/brussels" >/dev/null
"$ACCORD" peer add brussels --key "$(key "$work/brussels")" --journal "$work/astana" >/dev/null
python3 - "$EVENTS" >"$work/events.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"type": "action.proposed.v1", "subject": f"action/delta-{i}",
                      "data": {"title": f"Joint action {i} on battery value chains", "pillar": "value-chain-integration"}},
                     separators=(",", ":")))
PY
"$ACCORD" append --from "$work/events.jsonl" --journal "$work/brussels" >/dev/null

serve() {  # serve brussels (with --tls if $1 is tls); prints the URL
  local out="$work/serve-$1.out"
  if [ "$1" = tls ]; then "$ACCORD" serve --listen 127.0.0.1:0 --tls --journal "$work/brussels" >"$out" 2>&1 &
  else "$ACCORD" serve --listen 127.0.0.1:0 --journal "$work/brussels" >"$out" 2>&1 & fi
  pids+=($!)
  for _ in $(seq 1 200); do
    if grep -qE 'Listening on https?://127\.0\.0\.1:[0-9]+ ' "$out"; then
      grep -oE 'https?://127\.0\.0\.1:[0-9]+' "$out" | head -1; return
    fi
    sleep 0.1
  done
  echo "accord serve did not start: $(cat "$out")" >&2; exit 1
}
plain=$(serve plain)
tls=$(serve tls)

seconds() {  # one sync of a fresh copy of the empty Astana journal; prints the wall time in s
  rm -rf "$work/copy"; cp -a "$work/astana" "$work/copy"
  local start end
  start=$(date +%s.%N)
  "$ACCORD" sync --with "$1" --journal "$work/copy" >/dev/null
  end=$(date +%s.%N)
  local got
  got=$("$ACCORD" log --json --journal "$work/copy" | wc -l)
  [ "$got" -eq "$EVENTS" ] || { echo "the sync brought $got events, not $EVENTS" >&2; exit 1; }
  python3 -c "print(f'{$end - $start:.3f}')"
}

echo "| delta of $EVENTS events, accord sync (pull) | run | plain HTTP, s | TLS, s | TLS ÷ plain | TLS events/s |"
echo "|---|---|---|---|---|---|"
for run in $(seq 1 "$RUNS"); do
  p=$(seconds "$plain"); t=$(seconds "$tls")
  python3 -c "print(f'| $(basename "$(dirname "$ACCORD")") build | $run | $p | $t | {$t / $p:.2f} | {$EVENTS / $t:,.0f} |')"
done
