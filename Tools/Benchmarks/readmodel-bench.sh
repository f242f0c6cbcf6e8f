#!/bin/bash
# The read-model phases of accord-benchmarks, two binaries (OLD, NEW) interleaved, each on its own
# copy of one journal per size: $S/n<SIZE> (a journal of the benchmark workload, e.g. made with
# `phase ingest-accord`); the copies are $S/w-old-<SIZE> and $S/w-new-<SIZE>. At 1000000 also
# 1,000 more events, then REPS builds and summaries of each, and the incremental write.
# usage: S=DIR readmodel-bench.sh OLD NEW REPS SIZES...
OLD=$1; NEW=$2; REPS=$3; shift 3
echo "old $OLD new $NEW"
S=${S:-/tmp/s27r-data}
run() { # label binary phase args...
  local label=$1 bin=$2 phase=$3; shift 3
  /usr/bin/time -f "%M" -o $S/t.rss $bin phase $phase --result $S/t.res "$@" || { echo "$label $phase FAILED"; return; }
  echo "$label $phase $(tr '\n' ' ' < $S/t.res) peakKiB $(cat $S/t.rss)"
}
both() { # phase size label args (journal substituted)
  local phase=$1 n=$2 label=$3; shift 3
  for who in old new; do B=$OLD; [ $who = new ] && B=$NEW; run "$who $label" $B $phase --journal $S/w-$who-$n "$@"; done
}
for n in "$@"; do
  for who in old new; do
    rm -rf $S/w-$who-$n; cp -a $S/n$n $S/w-$who-$n; rm -f $S/w-$who-$n/cache/partnership.*
  done
  echo "== $n $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  both readmodel-write $n $n
  for i in 1 2 3; do both state-accord $n $n --readmodel yes; done
  both state-accord $n $n --readmodel no
  ls -l $S/w-old-$n/cache/ $S/w-new-$n/cache/ | grep partnership
  if [ $n = 1000000 ]; then
    both append-more $n $n --events 1000 --from 11000000
    echo "== +1000 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    for i in $(seq 1 $REPS); do both state-accord $n $n+1000 --readmodel yes; done
    for i in $(seq 1 $REPS); do both state-summary $n $n+1000; done
    both readmodel-write-incremental $n $n+1000
  fi
  echo "== end $n $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
done
