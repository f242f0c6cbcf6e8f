#!/usr/bin/env bash
# Runs the whole test suite, in parallel, under ThreadSanitizer and then AddressSanitizer with
# LeakSanitizer on. Exits non-zero if either run fails or prints a sanitizer report.
#
#   Tools/sanitize.sh            # both
#   Tools/sanitize.sh thread     # ThreadSanitizer only
#   Tools/sanitize.sh address    # AddressSanitizer (+ leaks) only
#
# Each sanitizer builds into its own scratch path (.build-tsan, .build-asan; ignored by git), about
# 4 minutes each on 2 cores from clean. Child `accord` processes started by the tests inherit the
# *SAN_OPTIONS below, so they are checked too.
#
# Leak suppressions: Tools/sanitize/lsan.supp, only for leaks shown to be inside Foundation, each
# with the stack that showed it. Nothing of Accord's own code is suppressed.
set -uo pipefail
cd "$(dirname "$0")/.."

which=("${@:-thread address}")
read -r -a which <<<"${which[*]}"
status=0
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/accord-sanitize.XXXXXX")

run() {
  local sanitizer=$1 scratch=$2
  local log="$log_dir/$sanitizer.log"
  echo "== $sanitizer: building into $scratch"
  if ! swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$log_dir/$sanitizer-build.log" 2>&1; then
    tail -40 "$log_dir/$sanitizer-build.log"
    echo "== $sanitizer: build failed (log: $log_dir/$sanitizer-build.log)"
    status=1
    return
  fi
  echo "== $sanitizer: testing (log: $log)"
  local start=$SECONDS
  swift test --skip-build --parallel --sanitize="$sanitizer" --scratch-path "$scratch" >"$log" 2>&1
  local rc=$?
  local reports
  reports=$(grep -c -E '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer))' "$log")
  echo "== $sanitizer: exit $rc, $reports sanitizer report(s), $((SECONDS - start)) s"
  grep -E '^(✔|✘|􀟈|Test run with)|tests? in .* suites? (passed|failed)' "$log" | tail -3
  if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
    grep -n -A30 -E '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR)' "$log" | head -120
    status=1
  fi
}

for sanitizer in "${which[@]}"; do
  case "$sanitizer" in
    thread)
      TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
        run thread .build-tsan ;;
    address)
      # A small quarantine keeps the RSS figures that some tests bound (NetworkAbuseTests:
      # 512 MiB) near a normal build's; ASan's default 256 MiB quarantine alone pushes past it.
      ASAN_OPTIONS="detect_leaks=1 quarantine_size_mb=16 ${ASAN_OPTIONS:-}" \
      LSAN_OPTIONS="suppressions=$PWD/Tools/sanitize/lsan.supp print_suppressions=1 ${LSAN_OPTIONS:-}" \
        run address .build-asan ;;
    *) echo "unknown sanitizer '$sanitizer' (thread or address)"; exit 2 ;;
  esac
done
echo "== logs in $log_dir"
exit $status
