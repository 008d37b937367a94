#!/usr/bin/env bash
# Address book decoding figures (run by `make bench` after `make build`):
#   - library decode throughput (BenchmarkDecode in ./abs: every contact and value iterated),
#   - `abkit abs dump -o json FILE > /dev/null` throughput,
#   each beside `cat FILE > /dev/null` on the same file (page cache warm), and
#   - the peak RSS of that dump against the file size.
# Targets: library >= 800 MB/s, dump -o json >= 150 MB/s, dump peak RSS <= file size + 64 MB.
# Environment: RUNS (best of, default 5), BIN (default bin/abkit).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin/abkit}
CONTACTS=200000
RUNS=${RUNS:-5}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/abkit
if ! [ -x /usr/bin/time ]; then
  echo "installing GNU time (peak RSS)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >&2; else sudo apt-get install -y -qq time >&2; fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/F-0A10.lsabs"
# The same options as BenchmarkDecode's in-memory file (abs.Generate, 200,000 contacts, seed 1,
# 100 duplicates, day 0A10): the library and the command read the same bytes.
"$BIN" abs gen --contacts "$CONTACTS" --seed 1 --duplicates 100 --day 0A10 -w "$file" 2>/dev/null
size=$(stat -c %s "$file")

# now_ns prints the monotonic-enough wall clock in nanoseconds.
now_ns() { date +%s%N; }
# mbps BYTES NANOSECONDS prints MB/s (10^6 bytes per second).
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1e6 }'; }

# best_ns CMD...: the shortest of RUNS wall-clock runs of CMD (stdout to /dev/null), in ns.
best_ns() {
  local best=0 t0 t1 d i
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
    d=$((t1 - t0))
    if ((best == 0 || d < best)); then best=$d; fi
  done
  echo "$best"
}

cat "$file" >/dev/null # warm the page cache
cat_ns=$(best_ns cat "$file")
cat_mbps=$(mbps "$size" "$cat_ns")

# Library: the abs package's decode benchmark (every contact and value iterated, one goroutine),
# fresh contacts (Contacts) and reused ones (ContactsReused). MB/cpu-s divides by the process's
# CPU time, which a loaded machine disturbs less than the wall clock.
lib_out=$(go test -run '^$' -bench '^BenchmarkDecode$' -benchtime 5x -count 1 -cpu 1 ./abs/)
lib_field() { # SUB UNIT
  awk -v sub_="$1" -v unit="$2" '$1 ~ "^BenchmarkDecode/" sub_ { for (i = 2; i <= NF; i++) if ($i == unit) v = $(i-1) } END { printf "%.0f", v }' <<<"$lib_out"
}
lib_fresh=$(lib_field fresh MB/s) lib_fresh_cpu=$(lib_field fresh MB/cpu-s)
lib_reused=$(lib_field reused MB/s) lib_reused_cpu=$(lib_field reused MB/cpu-s)

# CLI: dump -o json, wall clock, CPU time and peak RSS (GNU time) of the same runs.
dump_best=0 cpu_best=0 rss_max=0
for ((i = 0; i < RUNS; i++)); do
  t0=$(now_ns)
  /usr/bin/time -f '%U %S %M' -o "$work/time" "$BIN" --no-progress abs dump -o json "$file" >/dev/null
  t1=$(now_ns)
  d=$((t1 - t0))
  read -r user sys rss < <(tail -n1 "$work/time")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1e9 }')
  if ((dump_best == 0 || d < dump_best)); then dump_best=$d; fi
  if ((cpu_best == 0 || cpu < cpu_best)); then cpu_best=$cpu; fi
  if ((rss > rss_max)); then rss_max=$rss; fi
done
dump_mbps=$(mbps "$size" "$dump_best")
dump_cpu_mbps=$(mbps "$size" "$cpu_best")
size_mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
rss_mb=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
over_mb=$(awk -v k="$rss_max" -v b="$size" 'BEGIN { printf "%.1f", (k * 1024 - b) / 1e6 }')

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }
echo "abs: $CONTACTS contacts, $size_mb MB, best of $RUNS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  cat FILE > /dev/null                  $cat_mbps MB/s"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 800: %s\n' "library decode, fresh contacts" "$lib_fresh" "$lib_fresh_cpu" "$(verdict "$lib_fresh" 800 '>=')"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 800: %s\n' "library decode, reused contacts" "$lib_reused" "$lib_reused_cpu" "$(verdict "$lib_reused" 800 '>=')"
printf '  %-36s %5s MB/s (%s MB/cpu-s)   target >= 150: %s\n' "abkit abs dump -o json > /dev/null" "$dump_mbps" "$dump_cpu_mbps" "$(verdict "$dump_mbps" 150 '>=')"
printf '  %-36s %5s MB (file %s MB, %+.1f MB)   target <= +64: %s\n' "dump -o json peak RSS" "$rss_mb" "$size_mb" "$over_mb" "$(verdict "$over_mb" 64 '<=')"
