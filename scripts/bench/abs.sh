#!/usr/bin/env bash
# Address book figures (run by `make bench` after `make build`), issue 15's abs rows:
#   - library, keeping every contact: BenchmarkKeepEveryContact in ./abs decodes the
#     200,000-contact file into a real []Contact of all of them, alternating with the baseline,
#     summing the file's bytes in Go; medians of RUNS iterations. Target: >= 0.5x the baseline.
#   - `abkit abs dump -o json FILE > /dev/null` against `cat FILE > /dev/null` on the same file
#     (page cache warm), alternating, RUNS runs each, medians. Target: >= 300 MB/s on one core
#     (the dump runs with GOMAXPROCS=1).
#   - the peak RSS of that dump (GNU time, the largest of the runs) against the file size.
#     Target: <= file size + 64 MB.
# Each throughput is given by the wall clock and per CPU-second of the process (user + system):
# on a shared machine the wall clock drops with the share of CPU the process gets, the CPU-second
# figure much less. The verdicts use the CPU-second medians.
# Environment: RUNS (median of, default 7, at least 5), BIN (default bin/abkit).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin/abkit}
CONTACTS=200000
RUNS=${RUNS:-7}
((RUNS >= 5)) || { echo "RUNS must be at least 5" >&2; exit 2; }
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/abkit
if ! [ -x /usr/bin/time ]; then
  echo "installing GNU time (peak RSS)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >&2; else sudo apt-get install -y -qq time >&2; fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/F-0A10.lsabs"
# The same options as the benchmarks' in-memory file (abs.Generate, 200,000 contacts, seed 1,
# 100 duplicates, day 0A10): the library and the command read the same bytes.
"$BIN" abs gen --contacts "$CONTACTS" --seed 1 --duplicates 100 --day 0A10 -w "$file" 2>/dev/null
size=$(stat -c %s "$file")

now_ns() { date +%s%N; }
# mbps BYTES NANOSECONDS prints MB/s (10^6 bytes per second).
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1e6 }'; }
# median N...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# timed CMD...: runs CMD (stdout to /dev/null) under GNU time; sets wall, cpu (ns) and rss (KB).
timed() {
  local t0 t1 user sys
  t0=$(now_ns)
  /usr/bin/time -f '%U %S %M' -o "$work/time" "$@" >/dev/null
  t1=$(now_ns)
  wall=$((t1 - t0))
  read -r user sys rss < <(tail -n1 "$work/time")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1e9 }')
  ((cpu > 0)) || cpu=10000000 # GNU time's resolution is 10 ms
}

cat "$file" >/dev/null # warm the page cache
cat_wall=() cat_cpu=() dump_wall=() dump_cpu=() rss_max=0
for ((i = 0; i < RUNS; i++)); do
  timed cat "$file"
  cat_wall+=("$wall") cat_cpu+=("$cpu")
  GOMAXPROCS=1 timed "$BIN" --no-progress abs dump -o json "$file"
  dump_wall+=("$wall") dump_cpu+=("$cpu")
  if ((rss > rss_max)); then rss_max=$rss; fi
done
cat_mbps=$(mbps "$size" "$(median "${cat_wall[@]}")") cat_cpu_mbps=$(mbps "$size" "$(median "${cat_cpu[@]}")")
dump_mbps=$(mbps "$size" "$(median "${dump_wall[@]}")") dump_cpu_mbps=$(mbps "$size" "$(median "${dump_cpu[@]}")")

# Library: BenchmarkKeepEveryContact, RUNS alternating iterations, one goroutine.
lib_out=$(go test -run '^$' -bench '^BenchmarkKeepEveryContact$' -benchtime "${RUNS}x" -count 1 -cpu 1 ./abs/)
lib_field() { awk -v unit="$1" '$1 ~ /^BenchmarkKeepEveryContact/ { for (i = 2; i <= NF; i++) if ($i == unit) v = $(i-1) } END { print v }' <<<"$lib_out"; }
keep=$(lib_field keep-MB/s) keep_cpu=$(lib_field keep-MB/cpu-s)
sum=$(lib_field sum-MB/s) sum_cpu=$(lib_field sum-MB/cpu-s) ratio=$(lib_field keep/sum)

size_mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
rss_mb=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
over_mb=$(awk -v k="$rss_max" -v b="$size" 'BEGIN { printf "%.1f", (k * 1024 - b) / 1e6 }')
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }

echo "abs: $CONTACTS contacts, $size_mb MB, medians of $RUNS alternating runs; $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-52s %7s MB/s %7s MB/cpu-s\n' "cat FILE > /dev/null" "$cat_mbps" "$cat_cpu_mbps"
printf '  %-52s %7s MB/s %7s MB/cpu-s   target >= 300 MB/s on one core: %s\n' "abkit abs dump -o json FILE > /dev/null (GOMAXPROCS=1)" "$dump_mbps" "$dump_cpu_mbps" "$(verdict "$dump_cpu_mbps" 300 '>=')"
printf '  %-52s %7s MB/s %7s MB/cpu-s\n' "library baseline: sum the file's bytes in Go" "$sum" "$sum_cpu"
printf '  %-52s %7s MB/s %7s MB/cpu-s   %.2fx the baseline, target >= 0.5x: %s\n' "library: keep all contacts in a []Contact" "$keep" "$keep_cpu" "$ratio" "$(verdict "$ratio" 0.5 '>=')"
printf '  %-52s %7s MB (file %s MB, %+.1f MB)   target <= +64: %s\n' "dump -o json peak RSS (largest of the runs)" "$rss_mb" "$size_mb" "$over_mb" "$(verdict "$over_mb" 64 '<=')"
