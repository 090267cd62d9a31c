#!/bin/sh
# issue 10 "before" figures: the new load tool against the before bridges and the Node sample.
set -u
LOAD=/tmp/after-bin/load
OUT=/work/wt-load/benchmarks/results/issue10-before
mkdir -p "$OUT" /tmp/load-out
for calls in 100 200; do
  echo "== $(date -u +%H:%M:%S) load average $(cut -d' ' -f1-3 /proc/loadavg)"
  $LOAD run --workload realistic --calls $calls --secs 20 \
    --bridge-cmd '/tmp/before-bin/load bridge --agent-url "$OPENAI_REALTIME_URL" --port "$PORT"' \
    --json $OUT/load-bridge-$calls.json > $OUT/load-bridge-$calls.txt 2>&1
  echo "== $(date -u +%H:%M:%S) load average $(cut -d' ' -f1-3 /proc/loadavg)"
  $LOAD run --workload realistic --calls $calls --secs 20 \
    --bridge-cmd "/tmp/before-bin/outbound_call serve --out /tmp/load-out" \
    --json $OUT/serve-$calls.json > $OUT/serve-$calls.txt 2>&1
  echo "== $(date -u +%H:%M:%S) load average $(cut -d' ' -f1-3 /proc/loadavg)"
  $LOAD run --workload realistic --calls $calls --secs 20 \
    --bridge-cmd "node /tmp/node-sample/index.js" \
    --json $OUT/node-$calls.json > $OUT/node-$calls.txt 2>&1
done
echo "== $(date -u +%H:%M:%S) done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
