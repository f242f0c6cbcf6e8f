#!/usr/bin/env bash
# Two offices, one partnership: Brussels and Astana keep their own journals, exchange keys, record
# what happens, and merge over HTTP (accord serve / accord sync) and by bundle files. At the end
# both must hold the same events, so both print the same state digest (Journal/SyncProtocol.md).
#
# Usage:  Tools/two-office-demo.sh                      builds the CLI (swift build --product accord)
#         ACCORD=/path/to/accord Tools/two-office-demo.sh   uses that binary, builds nothing
#         KEEP=1 …                                      keeps the temporary directory for inspection
#
# Exit status 0 when both digests are equal; non-zero on any failure. The amounts and dates are
# illustrative, not records of real transactions.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${ACCORD:-}" ]]; then
    [[ -x "$ACCORD" ]] || { echo "ACCORD='$ACCORD' is not an executable file." >&2; exit 2; }
    accord="$ACCORD"
else
    (cd "$here" && swift build --product accord >&2)
    accord="$(cd "$here" && swift build --show-bin-path)/accord"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/accord-two-offices.XXXXXX")"
server_pid=""
cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ "${KEEP:-0}" == 1 ]]; then echo "Kept $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

brussels="$work/brussels"
astana="$work/astana"
step() { printf '\n== %s\n' "$*"; }
# Run accord and show the command line, with the journal paths shortened.
run() {
    printf '$ accord %s\n' "$(printf '%s ' "$@" | sed "s#$work/##g")"
    "$accord" "$@"
}
public_key() { "$accord" keys show --journal "$1" | awk '$1 == "public" && $2 == "key" { print $3 }'; }

step "Each office creates its journal (same partnership) and its Ed25519 key"
run init --site brussels --partnership eu-kz-2022 --journal "$brussels"
run init --site astana --partnership eu-kz-2022 --journal "$astana"

step "They exchange public keys (out of band) and trust each other"
run peer add astana --key "$(public_key "$astana")" --journal "$brussels"
run peer add brussels --key "$(public_key "$brussels")" --journal "$astana"
run peer list --journal "$brussels"

step "Brussels records the EU side"
cat > "$work/brussels-1.jsonl" <<'EOF'
{"type":"stakeholder.registered.v1","subject":"stakeholder/european-commission","time":"2022-11-07T08:00:00Z","actor":"eu-secretariat","data":{"name":"European Commission","kind":"government","country":"EU","valueChains":["raw-materials","batteries","renewable-hydrogen"]}}
{"type":"stakeholder.registered.v1","subject":"stakeholder/eib","time":"2022-11-07T08:05:00Z","actor":"eu-secretariat","data":{"name":"European Investment Bank","kind":"financial","country":"EU"}}
{"type":"action.proposed.v1","subject":"action/raw-materials-mapping","time":"2022-11-08T09:00:00Z","actor":"eu-secretariat","data":{"title":"Joint mapping of critical raw-materials deposits","pillar":"value-chain-integration","valueChains":["raw-materials"],"leads":["european-commission"],"due":"2024-06-30"}}
EOF
run append --from "$work/brussels-1.jsonl" --journal "$brussels"

step "Astana records the Kazakh side"
cat > "$work/astana-1.jsonl" <<'EOF'
{"type":"stakeholder.registered.v1","subject":"stakeholder/kz-miid","time":"2022-11-07T07:05:00Z","actor":"kz-secretariat","data":{"name":"Ministry of Industry and Infrastructural Development of the Republic of Kazakhstan","kind":"government","country":"KZ"}}
{"type":"stakeholder.registered.v1","subject":"stakeholder/samruk-kazyna","time":"2022-11-07T07:10:00Z","actor":"kz-secretariat","data":{"name":"Samruk-Kazyna","kind":"financial","country":"KZ","valueChains":["renewable-hydrogen"]}}
{"type":"action.proposed.v1","subject":"action/h2-skills","time":"2022-11-08T05:00:00Z","actor":"kz-secretariat","data":{"title":"Training programme for renewable-hydrogen engineers","pillar":"skills-research-innovation","valueChains":["renewable-hydrogen"],"leads":["kz-miid"]}}
EOF
run append --from "$work/astana-1.jsonl" --journal "$astana"

step "Astana serves its journal over HTTP"
"$accord" serve --listen 127.0.0.1:0 --journal "$astana" >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
port=""
for _ in $(seq 1 300); do
    if [[ -s "$work/serve.out" ]]; then
        port="$(head -n 1 "$work/serve.out" | sed -nE 's#^Listening on http://[^ ]*:([0-9]+) .*#\1#p')"
        [[ -n "$port" ]] && break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "accord serve exited early." >&2; exit 1; }
    sleep 0.1
done
[[ -n "$port" ]] || { echo "accord serve did not report its port." >&2; exit 1; }
head -n 1 "$work/serve.out"

step "Brussels syncs with Astana over HTTP (pull, then push)"
run sync --with "http://127.0.0.1:$port" --journal "$brussels"

step "More on both sides, concurrently"
cat > "$work/brussels-2.jsonl" <<'EOF'
{"type":"action.agreed.v1","subject":"action/h2-skills","time":"2023-05-22T08:00:00Z","actor":"eu-secretariat","data":{"note":"Part of the 2023-2024 roadmap"}}
{"type":"finance.committed.v1","subject":"funding/demo-h2-skills","time":"2023-06-01T09:00:00Z","actor":"eu-secretariat","data":{"provider":"eib","receiver":"samruk-kazyna","amount":"1500000.00","currency":"EUR","date":"2023-06-01","instrument":"loan","valueChain":"renewable-hydrogen","action":"h2-skills"}}
{"type":"finance.disbursed.v1","subject":"funding/demo-h2-skills","time":"2023-09-15T09:00:00Z","actor":"eu-secretariat","data":{"provider":"eib","receiver":"samruk-kazyna","amount":"500000.00","currency":"EUR","date":"2023-09-15"}}
EOF
run append --from "$work/brussels-2.jsonl" --journal "$brussels"
cat > "$work/astana-2.jsonl" <<'EOF'
{"type":"action.agreed.v1","subject":"action/raw-materials-mapping","time":"2023-05-22T05:00:00Z","actor":"kz-secretariat","data":{"note":"Part of the 2023-2024 roadmap"}}
{"type":"industry.project.registered.v1","subject":"project/demo-green-h2","time":"2023-09-01T04:00:00Z","actor":"kz-secretariat","data":{"name":"Green hydrogen plant (demo)","sponsor":"samruk-kazyna","valueChain":"renewable-hydrogen","country":"KZ","capacity":"1000","capacityUnit":"MW"}}
{"type":"skills.programme.delivered.v1","subject":"programme/h2-engineers-2023","time":"2023-12-01T04:00:00Z","actor":"kz-secretariat","data":{"title":"Renewable-hydrogen engineering, first cohort","provider":"kz-miid","participants":24,"date":"2023-11-30"}}
EOF
run append --from "$work/astana-2.jsonl" --journal "$astana"

step "Astana stops serving (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
tail -n 1 "$work/serve.out"
# The server logs one line per request (method, path, status, signing site), never a payload.
sed -nE 's/^.*\[AccordServer\] /  served: /p' "$work/serve.log"

step "Astana sends a bundle file to Brussels"
run bundle create --for brussels --out "$work/astana-to-brussels.bundle" --journal "$astana"
run bundle verify "$work/astana-to-brussels.bundle" --journal "$brussels"
run bundle apply "$work/astana-to-brussels.bundle" --journal "$brussels"

step "Brussels answers with a bundle file of its own"
run bundle create --for astana --out "$work/brussels-to-astana.bundle" --journal "$brussels"
run bundle apply "$work/brussels-to-astana.bundle" --journal "$astana"
run bundle apply "$work/brussels-to-astana.bundle" --journal "$astana"   # a second time adds nothing

step "Both journals verify and hold the same events"
run verify --journal "$brussels"
run verify --journal "$astana"
run status --journal "$brussels"
run status --journal "$astana"
run conflicts --journal "$brussels"

digest_brussels="$("$accord" state --digest --journal "$brussels")"
digest_astana="$("$accord" state --digest --journal "$astana")"
step "State digests"
echo "brussels  $digest_brussels"
echo "astana    $digest_astana"
if [[ "$digest_brussels" != "$digest_astana" ]]; then
    echo "FAIL: the two offices do not hold the same state." >&2
    exit 1
fi
echo "OK: both offices hold the same state."
