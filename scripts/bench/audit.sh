#!/usr/bin/env bash
# `abkit audit` (bin/abkit, the real command) over two LDIF snapshots of N people each -- enabled
# user-forest accounts and their mapped, SIP-enabled resource accounts (scripts/bench/genaudit,
# generated before timing, never committed) -- plus the demo address book folder: every check
# reads every object. Each run is timed by GNU time: CPU (user+sys), wall and peak RSS of the
# abkit process alone (generation excluded).
#
#   20,000 and 100,000 people: RUNS runs each, alternating (20k, 100k, 20k, ...); the 20k runs are
#     the baseline of "CPU per person at 100k <= 1.25 x that at 20k". Target: peak RSS <= 400 MB at
#     100k.
#   1,000,000 people (BIG): RUNS runs. Target: peak RSS <= 1 GB.
# Every figure is the median of its runs; the largest peak RSS is printed too, and the memory
# targets are judged on it. Each run's summary
# table is checked (no sidmap findings, the demo folder's two SIP duplicates), so a run that
# skipped work cannot count.
# Environment: RUNS (default 5), SMALL (20000), LARGE (100000; 0 skips the pair), BIG (1000000;
# 0 skips it),
# BIN (default bin/abkit), WORK (keep the generated snapshots there).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/abkit}
RUNS=${RUNS:-5}
SMALL=${SMALL:-20000}
LARGE=${LARGE:-100000}
BIG=${BIG:-1000000}
. scripts/bench/lib/common.sh
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/abkit
bench_need_time
bench_workdir abkit-bench-audit

gen() { # N: generates $work/N (once)
  [ -s "$work/$1/abkit.yaml" ] || go run ./scripts/bench/genaudit -n "$1" -demo testdata/demo -o "$work/$1"
}

# run N: one audit over the N-people snapshots; appends "cpu wall rss_kb" to $work/N.times.
run() {
  local dir="$work/$1"
  # Exit 1: findings (the demo folder's stale file, missing delta and two SIP duplicates).
  BENCH_STDOUT="$dir/summary" bench_timed "$work/$1.times" 1 "$BIN" --config "$dir/abkit.yaml" --no-progress -o tsv audit --out "$dir/out"
  if ! grep -q $'^sidmap\t0\t' "$dir/summary" || ! grep -q $'^duplicate-sip\t2\t' "$dir/summary" ||
    ! grep -q $'^phone-normalization\t0\t' "$dir/summary"; then
    echo "audit over $1 people: unexpected summary:" >&2
    cat "$dir/summary" >&2
    exit 1
  fi
}
col() { bench_col "$work/$1.times" "$2"; } # N COLUMN: the median of a column of N's runs
maxrss() { bench_max "$work/$1.times" 3; }  # N: the largest peak RSS of N's runs
report() { # N
  printf '  %9d people: cpu %7.2f s (%.1f us/person)  wall %7.2f s  peak RSS median %6.0f MB, max %6.0f MB\n' \
    "$1" "$(col "$1" 1)" "$(awk -v c="$(col "$1" 1)" -v n="$1" 'BEGIN { print c / n * 1e6 }')" "$(col "$1" 2)" \
    "$(awk -v k="$(col "$1" 3)" 'BEGIN { print k * 1024 / 1e6 }')" "$(awk -v k="$(maxrss "$1")" 'BEGIN { print k * 1024 / 1e6 }')"
}

[ "$LARGE" = 0 ] || { gen "$SMALL"; gen "$LARGE"; }
[ "$BIG" = 0 ] || gen "$BIG"
rm -f "$work"/*.times
echo "abkit audit, user + resource forest snapshots of N people each + the demo address book folder;"
echo "median of $RUNS runs (GNU time, abkit process only); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$LARGE" != 0 ]; then
  for ((i = 0; i < RUNS; i++)); do
    run "$SMALL"
    run "$LARGE"
  done
  report "$SMALL"
  report "$LARGE"
  ratio=$(awk -v a="$(col "$LARGE" 1)" -v b="$(col "$SMALL" 1)" -v na="$LARGE" -v nb="$SMALL" 'BEGIN { printf "%.2f", (a / na) / (b / nb) }')
  large_mb=$(awk -v k="$(maxrss "$LARGE")" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
  echo "  CPU per person, $LARGE vs $SMALL people: ${ratio}x   target <= 1.25: $(bench_verdict "$ratio" 1.25)"
  echo "  peak RSS at $LARGE people (largest of the runs): $large_mb MB   target <= 400 MB: $(bench_verdict "$large_mb" 400)"
fi
if [ "$BIG" != 0 ]; then
  for ((i = 0; i < RUNS; i++)); do run "$BIG"; done
  report "$BIG"
  big_mb=$(awk -v k="$(maxrss "$BIG")" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
  echo "  peak RSS at $BIG people (largest of the runs): $big_mb MB   target <= 1000 MB: $(bench_verdict "$big_mb" 1000)"
fi
echo "  load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
