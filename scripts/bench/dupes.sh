#!/usr/bin/env bash
# Duplicate-detection figures (run by `make bench` after `make build`), each the median of RUNS
# runs alternating with its baseline in the same run (abkit, baseline, abkit, ...), timed by GNU
# time: CPU (user+sys), wall and peak RSS. abkit runs with GOGC and GOMEMLIMIT removed from the
# environment (and sets neither itself), so its peak RSS is its own, not a memory limit's.
#   - `abkit dupes` over an LDIF snapshot of OBJECTS objects with 1% duplicates
#     (internal/dupes/cmd/gensnap; generated here, never committed). Baseline: two `grep -c` passes
#     over the same file, `grep -c '^dn: '` (the objects) then `grep -ci 'sip:'` (the lines with a
#     SIP address), CPU summed. Targets: abkit CPU <= 6x the baseline's; peak RSS <= 1 GB.
#   - `abkit dupes --abs` over a CONTACTS-contact address book file (abkit abs gen). Baseline:
#     `cat FILE > /dev/null`. Target: wall < 1 s.
# The machine's load average is printed too: on a shared machine the wall clock is only as good as
# the CPU the process got; CPU time varies less.
# Environment: RUNS (default 5), BIN (default bin/abkit), OBJECTS (default 1000000), CONTACTS
# (default 200000), WORK (keep the generated files there instead of a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin/abkit}
RUNS=${RUNS:-5}
OBJECTS=${OBJECTS:-1000000}
CONTACTS=${CONTACTS:-200000}
. scripts/bench/lib/common.sh
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/abkit
bench_need_time
bench_workdir abkit-bench-dupes
snap="$work/snap-$OBJECTS.ldif"
book="$work/F-0A10.lsabs"
if ! [ -s "$snap" ]; then
  go run ./internal/dupes/cmd/gensnap -n "$OBJECTS" -dup 0.01 -seed 1 -o "$snap"
fi
if ! [ -s "$book" ]; then
  "$BIN" abs gen --contacts "$CONTACTS" --seed 1 --duplicates 2000 --day 0A10 -w "$book" 2>/dev/null
fi
printf 'forests:\n  - name: bench\n    ldif: %s\n' "$snap" >"$work/abkit.yaml"

# two_greps: the baseline of the snapshot row, one sample of both passes summed. Their output
# goes to a file: with stdout on /dev/null, GNU grep stops at the first match.
two_greps() {
  BENCH_STDOUT="$work/grep.out" bench_timed "$work/g1" 0 grep -c '^dn: ' "$snap"
  BENCH_STDOUT="$work/grep.out" bench_timed "$work/g2" 0 grep -ci 'sip:' "$snap"
  paste -d' ' <(tail -n1 "$work/g1") <(tail -n1 "$work/g2") |
    awk '{ printf "%.2f %.2f %d\n", $1 + $4, $2 + $5, ($3 > $6 ? $3 : $6) }' >>"$work/base.times"
}
col() { bench_col "$@"; }
maxcol() { bench_max "$@"; }
line() { # LABEL FILE
  printf '  %-44s cpu %6.2f s   wall %6.2f s   peak RSS median %5.0f MB, max %5.0f MB\n' "$1" "$(col "$2" 1)" "$(col "$2" 2)" \
    "$(awk -v k="$(col "$2" 3)" 'BEGIN { print k * 1024 / 1e6 }')" "$(awk -v k="$(maxcol "$2" 3)" 'BEGIN { print k * 1024 / 1e6 }')"
}

echo "snapshot: $(stat -L -c %s "$snap" | awk '{ printf "%.0f MB", $1 / 1e6 }'), $OBJECTS objects; address book: $(stat -L -c %s "$book" | awk '{ printf "%.0f MB", $1 / 1e6 }'), $CONTACTS contacts"
echo "median of $RUNS runs alternating with the baseline; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work"/*.times "$work"/g1 "$work"/g2
cat "$snap" "$book" >/dev/null # page cache
for ((i = 0; i < RUNS; i++)); do
  bench_timed "$work/snap.times" 1 "$BIN" dupes --config "$work/abkit.yaml" -o json --no-progress
  two_greps
done
echo "dupes, snapshot of $OBJECTS objects:"
line "abkit dupes -o json" "$work/snap.times"
line "baseline: grep -c '^dn: ' + grep -ci 'sip:'" "$work/base.times"
ratio=$(awk -v a="$(col "$work/snap.times" 1)" -v b="$(col "$work/base.times" 1)" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
rss_mb=$(awk -v k="$(maxcol "$work/snap.times" 3)" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }')
echo "  CPU ratio abkit/baseline: ${ratio}x   target <= 6: $(bench_verdict "$ratio" 6)"
echo "  abkit peak RSS (largest of the runs): $rss_mb MB   target <= 1000 MB: $(bench_verdict "$rss_mb" 1000)"

for ((i = 0; i < RUNS; i++)); do
  bench_timed "$work/abs.times" 1 "$BIN" dupes --abs "$book" -o json --no-progress
  bench_timed "$work/cat.times" 0 cat "$book"
done
echo "dupes --abs, address book file of $CONTACTS contacts:"
line "abkit dupes --abs -o json" "$work/abs.times"
line "baseline: cat FILE > /dev/null" "$work/cat.times"
echo "  abkit wall (median): $(col "$work/abs.times" 2) s   target < 1 s: $(awk -v w="$(col "$work/abs.times" 2)" 'BEGIN { print (w < 1) ? "met" : "NOT met" }')"
echo "  load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
