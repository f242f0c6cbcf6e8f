#!/usr/bin/env bash
# Benchmark rows for checkpoints (Journal/Trust.md): `accord checkpoint` on a journal of N events
# (time, peak RSS), and an inclusion proof at N events (time, size in hashes and bytes), printed
# as Markdown rows for Tools/Benchmarks/results.md.
#
#   Tools/bench-checkpoint.sh [EVENTS] [ACCORD]      (default 1000000 events; ACCORD: the binary,
#                                                     default $(swift build --show-bin-path)/accord)
#
# The journal is made with `accord append --from` in batches of 100,000 events. Peak RSS is the
# child's ru_maxrss (python3's resource module); times are wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
accord=${2:-$(swift build --show-bin-path)/accord}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
journal="$scratch/journal"
"$accord" init --site brussels --partnership bench --journal "$journal" >/dev/null

python3 - "$events" "$scratch" <<'EOF'
import sys
events, scratch = int(sys.argv[1]), sys.argv[2]
batch = 100_000
for start in range(0, events, batch):
    with open(f"{scratch}/batch-{start // batch:04d}.jsonl", "w") as out:
        for n in range(start, min(events, start + batch)):
            out.write('{"type":"stakeholder.registered.v1","subject":"stakeholder/org-%d","data":{"name":"Organisation %d","kind":"government","country":"KZ"}}\n' % (n, n))
EOF
for file in "$scratch"/batch-*.jsonl; do
  "$accord" append --from "$file" --journal "$journal" >/dev/null
done

# Runs a command; prints "seconds peak-RSS-MiB" and keeps its standard output in $scratch/out.
measure() {
  python3 - "$scratch/out" "$@" <<'EOF'
import resource, subprocess, sys, time
out, command = sys.argv[1], sys.argv[2:]
start = time.monotonic()
with open(out, "wb") as sink:
    subprocess.run(command, stdout=sink, check=True)
elapsed = time.monotonic() - start
print(f"{elapsed:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}")
EOF
}

read -r ckpt_s ckpt_mib < <(measure "$accord" checkpoint --journal "$journal")
id=$("$accord" log --json --site brussels --journal "$journal" | sed -n "$((events / 2))p" | sed 's/^{"id":"\([0-9a-f]*\)".*/\1/')
read -r prove_s prove_mib < <(measure "$accord" prove "$id" --journal "$journal")
hashes=$(awk 'NR > 3 && /^$/ { exit } NR > 3 { n++ } END { print n + 0 }' "$scratch/out")
bytes=$(wc -c < "$scratch/out")

echo "| checkpoint of a $events-event journal: time (s), peak RSS (MiB) | $ckpt_s s, $ckpt_mib MiB (includes the state digest for the state note) |"
echo "| inclusion proof at $events events: time (s), size | $prove_s s ($prove_mib MiB peak); $hashes hashes, $bytes bytes of receipt with the note |"
echo "debug or release: $accord; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
