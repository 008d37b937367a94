#!/usr/bin/env bash
# Address book decoding figures (run by `make bench` after `make build`):
#   - library decode throughput (BenchmarkDecode in ./abs: every contact and value iterated),
#   - `abkit abs dump -o json FILE > /dev/null` throughput,
#   each beside `cat FILE > /dev/null` on the same file (page cache warm), and
#   - the peak RSS of that dump against the file size.
# Targets: library >= 800 MB/s, dump -o json >= 150 MB/s, dump peak RSS <= file size + 64 MB.
# Environment: RUNS (best of, default 3), BIN (default bin/abkit).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin/abkit}
CONTACTS=200000
RUNS=${RUNS:-3}
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

# Library: the abs package's decode benchmark (every contact and value iterated, one goroutine).
lib_out=$(go test -run '^$' -bench '^BenchmarkDecode$' -benchtime 5x -count 1 -cpu 1 ./abs/)
lib_mbps=$(awk '/^BenchmarkDecode/ { for (i = 1; i <= NF; i++) if ($i == "MB/s") v = $(i-1) } END { printf "%.0f", v }' <<<"$lib_out")

# CLI: dump -o json, wall clock and peak RSS (GNU time) of the same runs.
dump_best=0 rss_max=0
for ((i = 0; i < RUNS; i++)); do
  t0=$(now_ns)
  /usr/bin/time -f %M -o "$work/rss" "$BIN" --no-progress abs dump -o json "$file" >/dev/null
  t1=$(now_ns)
  d=$((t1 - t0)); rss=$(tail -n1 "$work/rss")
  if ((dump_best == 0 || d < dump_best)); then dump_best=$d; fi
  if ((rss > rss_max)); then rss_max=$rss; fi
done
dump_mbps=$(mbps "$size" "$dump_best")
size_mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
rss_mb=$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
over_mb=$(awk -v k="$rss_max" -v b="$size" 'BEGIN { printf "%.1f", (k * 1024 - b) / 1e6 }')

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }
echo "abs: $CONTACTS contacts, $size_mb MB ($file, best of $RUNS)"
printf '  %-34s %6s MB/s   (cat: %s MB/s)   target >= 800: %s\n' "library decode (BenchmarkDecode)" "$lib_mbps" "$cat_mbps" "$(verdict "$lib_mbps" 800 '>=')"
printf '  %-34s %6s MB/s   (cat: %s MB/s)   target >= 150: %s\n' "abkit abs dump -o json > /dev/null" "$dump_mbps" "$cat_mbps" "$(verdict "$dump_mbps" 150 '>=')"
printf '  %-34s %6s MB      (file %s MB, +%s MB)  target <= +64: %s\n' "dump -o json peak RSS" "$rss_mb" "$size_mb" "$over_mb" "$(verdict "$over_mb" 64 '<=')"
