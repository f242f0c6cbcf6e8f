#!/usr/bin/env bash
# Rebuilds the sample partnership journal, Journal/sample, from Journal/sample-source.jsonl.
# The result is reproducible: the keys come from fixed public seeds and every time is in the
# source, so the records (what `zcat Journal/sample/segments/*` prints) come out identical.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product accord-sample
rm -rf Journal/sample
"$(swift build --show-bin-path)/accord-sample" sample Journal/sample-source.jsonl Journal/sample brussels
