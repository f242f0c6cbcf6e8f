#!/usr/bin/env bash
# The mirror's long runs (Journal/Mirror.md §3): builds accord and accord-mirror-campaign in release
# mode, starts a throwaway PostgreSQL (Tools/postgres-test.sh) unless ACCORD_TEST_POSTGRES_URL is
# set, runs the campaign, and stops the server.
#
#   Tools/mirror-campaign.sh crash [--events 100000] [--kills 50]   # SIGKILL during a mirror, resume, compare
#   Tools/mirror-campaign.sh throughput [--events 1000000]          # events per second into local PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product accord >/dev/null
swift build -c release --product accord-mirror-campaign >/dev/null
bin=$(swift build -c release --show-bin-path)
if [ -z "${ACCORD_TEST_POSTGRES_URL:-}" ]; then
  dir=$(mktemp -d /tmp/accord-mirror-campaign-pg.XXXXXX)
  trap 'Tools/postgres-test.sh stop "$dir"' EXIT
  eval "$(Tools/postgres-test.sh start "$dir")"
fi
"$bin/accord-mirror-campaign" "$@" --postgres "$ACCORD_TEST_POSTGRES_URL" --accord "$bin/accord"
