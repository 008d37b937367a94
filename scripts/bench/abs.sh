#!/usr/bin/env bash
# Address book decoding figures (run by `make bench` after `make build`):
#   - library decode throughput (BenchmarkDecode in ./abs: every contact and value iterated),
#   - `abkit abs dump -o json FILE > /dev/null` throughput,
#   each beside `cat FILE > /dev/null` on the same file (page cache warm; dump and cat alternate),
#   and
#   - the largest peak RSS of that dump against the file size.
# Every figure is the median of RUNS runs (the library's: of RUNS `go test -count` samples).
# Targets: library >= 800 MB/s, dump -o json >= 150 MB/s, dump peak RSS <= file size + 64 MB.
# Environment: RUNS (default 5), BIN (default bin/abkit).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin/abkit}
CONTACTS=200000
RUNS=${RUNS:-5}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/abkit
. scripts/bench/lib/common.sh
bench_need_time
bench_workdir abkit-bench-abs
file="$work/F-0A10.lsabs"
# The same options as BenchmarkDecode's in-memory file (abs.Generate, 200,000 contacts, seed 1,
# 100 duplicates, day 0A10): the library and the command read the same bytes.
"$BIN" abs gen --contacts "$CONTACTS" --seed 1 --duplicates 100 --day 0A10 -w "$file" 2>/dev/null
size=$(stat -c %s "$file")

# mbps BYTES SECONDS prints MB/s (10^6 bytes per second).
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
# cat_s: one `cat FILE > /dev/null`, wall seconds from the nanosecond clock (GNU time's 10 ms
# would be most of it).
cat_s() {
  local t0 t1
  t0=$(date +%s%N); cat "$file" >/dev/null; t1=$(date +%s%N)
  awk -v d=$((t1 - t0)) 'BEGIN { printf "%.6f\n", d / 1e9 }'
}

cat "$file" >/dev/null # warm the page cache
# CLI: dump -o json and cat, alternating; CPU time, wall clock and peak RSS of each run.
for ((i = 0; i < RUNS; i++)); do
  bench_timed "$work/dump.times" 0 "$BIN" --no-progress abs dump -o json "$file"
  cat_s >>"$work/cat.s"
done
cat_mbps=$(mbps "$size" "$(median <"$work/cat.s")")

# Library: the abs package's decode benchmark (every contact and value iterated, one goroutine),
# fresh contacts (Contacts) and reused ones (ContactsReused). MB/cpu-s divides by the process's
# CPU time, which a loaded machine disturbs less than the wall clock.
lib_out=$(go test -run '^$' -bench '^BenchmarkDecode$' -benchtime 5x -count "$RUNS" -cpu 1 ./abs/)
lib_field() { # SUB UNIT: the median over the -count samples
  awk -v sub_="$1" -v unit="$2" '$1 ~ "^BenchmarkDecode/" sub_ { for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' <<<"$lib_out" |
    median | awk '{ printf "%.0f", $1 }'
}
lib_fresh=$(lib_field fresh MB/s) lib_fresh_cpu=$(lib_field fresh MB/cpu-s)
lib_reused=$(lib_field reused MB/s) lib_reused_cpu=$(lib_field reused MB/cpu-s)

dump_mbps=$(mbps "$size" "$(bench_col "$work/dump.times" 2)")
dump_cpu_mbps=$(mbps "$size" "$(bench_col "$work/dump.times" 1)")
rss_max=$(bench_max "$work/dump.times" 3)
size_mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
rss_mb=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
over_mb=$(awk -v k="$rss_max" -v b="$size" 'BEGIN { printf "%.1f", (k * 1024 - b) / 1e6 }')

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }
echo "abs: $CONTACTS contacts, $size_mb MB, median of $RUNS runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  cat FILE > /dev/null                  $cat_mbps MB/s"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 800: %s\n' "library decode, fresh contacts" "$lib_fresh" "$lib_fresh_cpu" "$(verdict "$lib_fresh" 800 '>=')"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 800: %s\n' "library decode, reused contacts" "$lib_reused" "$lib_reused_cpu" "$(verdict "$lib_reused" 800 '>=')"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 150: %s\n' "abkit abs dump -o json > /dev/null" "$dump_mbps" "$dump_cpu_mbps" "$(verdict "$dump_mbps" 150 '>=')"
printf '  %-36s %5s MB (file %s MB, %+.1f MB)   target <= +64: %s\n' "dump -o json peak RSS" "$rss_mb" "$size_mb" "$over_mb" "$(verdict "$over_mb" 64 '<=')"
