#!/usr/bin/env bash
# rtcdb figures: the UserData address scan (throughput) and a 50-row delete through the real
# go-mssqldb driver and the test responder (client and protocol overhead only: no SQL Server).
# Go benchmarks run RUNS times (-count, default 5); every metric printed is the median of the
# runs. No target and no baseline: these figures only show the client side's own cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib/common.sh
out=$(go test -run '^$' -bench 'BenchmarkFindAddresses|BenchmarkDelete50' -benchtime "${BENCHTIME:-2s}" -count "${RUNS:-5}" ./rtcdb/)
echo "rtcdb (go test -bench, median of ${RUNS:-5} runs; load average $(cut -d' ' -f1-3 /proc/loadavg)):"
for name in $(awk '/^Benchmark/ { print $1 }' <<<"$out" | sort -u); do
  line="  $name"
  for unit in $(awk -v n="$name" '$1 == n { for (i = 4; i <= NF; i += 2) print $i }' <<<"$out" | awk '!seen[$0]++'); do
    v=$(awk -v n="$name" -v u="$unit" '$1 == n { for (i = 4; i <= NF; i += 2) if ($i == u) print $(i - 1) }' <<<"$out" | median)
    line+="  $v $unit"
  done
  echo "$line"
done
