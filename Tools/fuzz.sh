#!/usr/bin/env bash
# Builds the libFuzzer targets and fuzzes one of them for SECONDS (Tools/Fuzz/README.md).
#
#   Tools/fuzz.sh TARGET [SECONDS] [libFuzzer flags …]     TARGET: segment | record | bundle | http | projection
#
# Prints libFuzzer's progress lines, then one summary line: executions, exec/s, coverage, corpus
# size and findings. The corpus grows in .build-fuzz/corpus/TARGET (seeded from the fixtures on
# every run); crashes, leaks and timeouts are written to .build-fuzz/findings/TARGET/. Exits 1
# if anything was found. Runs under `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Tools/fuzz.sh segment|record|bundle|http|projection [SECONDS] [libFuzzer flags]}
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))
scratch=.build-fuzz
nice -n 10 swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -DACCORD_FUZZ -Xswiftc -use-ld=lld \
    --product accord-fuzz --scratch-path "$scratch" 2>&1 | grep -E 'error|Compiling accord|Build of' || true
bin=$scratch/debug/accord-fuzz
[ -x "$bin" ] || { echo "fuzz.sh: the build failed" >&2; exit 2; }
corpus=$scratch/corpus/$target seeds=$scratch/seeds/$target findings=$scratch/findings/$target
mkdir -p "$corpus" "$findings"
export SWIFT_BACKTRACE=enable=no
"$bin" "$target" --seeds "$seeds"
log=$scratch/fuzz-$target.log
set +e
nice -n 10 "$bin" "$target" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$@" "$corpus" "$seeds" >"$log" 2>&1
status=$?
set -e
{ grep -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|ERROR|SUMMARY|Fatal error' "$log" || true; } | tail -n 25
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | cut -d' ' -f2)
found=$(find "$findings" -type f ! -name "slow-unit-*" | wc -l)
echo "fuzz $target: ${seconds}s, ${execs:-?} executions, ${rate:-?} exec/s, cov ${cov:-?}," \
     "corpus ${corp:-?} (libFuzzer's; $(find "$corpus" -type f | wc -l) files kept), findings $found (libFuzzer exit $status; log $log)"
[ "$status" -eq 0 ] && [ "$found" -eq 0 ]
