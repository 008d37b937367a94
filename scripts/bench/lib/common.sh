# Helpers shared by the benchmark scripts (sourced, not run; bench.sh runs only scripts/bench/*.sh).

# bench_workdir PREFIX: sets $work to $WORK (kept) or to a new temporary folder removed on exit.
bench_workdir() {
  if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
  else
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf "$work"' EXIT
  fi
}

# bench_need_time: GNU time measures CPU and peak RSS.
bench_need_time() {
  [ -x /usr/bin/time ] || { echo "$0 needs GNU time (apt-get install time)" >&2; exit 1; }
}

# median: the median of the numbers on stdin, one per line (the mean of the middle two for an
# even count).
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench_timed FILE MAXRC CMD...: runs CMD under GNU time with GOGC and GOMEMLIMIT removed from the
# environment, stdout to $BENCH_STDOUT (default /dev/null); fails on an exit status above MAXRC; appends
# "cpu_s wall_s peak_rss_kb" (cpu = user + sys) to FILE.
bench_timed() {
  local out=$1 maxrc=$2 rc=0
  shift 2
  env -u GOGC -u GOMEMLIMIT /usr/bin/time -f '%U %S %e %M' -o "$out.time" "$@" >"${BENCH_STDOUT:-/dev/null}" || rc=$?
  [ "$rc" -le "$maxrc" ] || { echo "$* failed with status $rc" >&2; exit 1; }
  # GNU time writes "Command exited with non-zero status N" first: the figures are the last line.
  tail -n1 "$out.time" | awk '{ printf "%.2f %.2f %d\n", $1 + $2, $3, $4 }' >>"$out"
  rm -f "$out.time"
}

# bench_col FILE N: the median of column N of FILE; bench_max FILE N: its largest value.
bench_col() { cut -d' ' -f"$2" "$1" | median; }
bench_max() { cut -d' ' -f"$2" "$1" | sort -g | tail -1; }

# bench_verdict VALUE LIMIT: "met" when VALUE <= LIMIT.
bench_verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v ~ /^[0-9.]+$/ && v + 0 <= t + 0) ? "met" : "NOT met" }'; }
