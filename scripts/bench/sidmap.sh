#!/usr/bin/env bash
# sidmap apply speed: N (default 10,000) msRTCSIP-OriginatorSid mappings written to slapd by
# `abkit sidmap apply --yes`, each run from the same freshly loaded starting state
# (testdata/sidmap/server.sh), against a baseline writing the same changes (abkit sidmap apply
# --write-ldif: the same conditional delete/add modifies) with ldapmodify, in the same script run,
# runs alternating (abkit, baseline, abkit, ...). Every figure is the median of RUNS (default 5)
# wall times of the write alone (server start and load excluded); the ratio is of the medians.
#   txn    abkit with LDAP transactions (RFC 5805; --batch 500 changes each, as slapd offers them)
#          vs `ldapmodify -E txn=commit` over the same changes split into files of 500 (one
#          transaction each). Target: ratio <= 1.0 (abkit also checks every precondition and writes
#          its undo file first).
#   notxn  abkit --no-txn --concurrency C (change by change, as on servers without transactions:
#          Samba, AD) vs `ldapmodify -f` (change by change, one at a time). Target: ratio <= 0.5.
# Both are measured on a server configuration, each labelled with what it reads back from cn=config:
#   durable  testdata/slapd's config as is: olcDbNoSync unset, so back-mdb fsyncs every write
#            transaction before it replies -- the configuration the targets are judged on;
#   nosync   olcDbNoSync: TRUE on the resource database (a bulk-load setting, not durable), to show
#            how much of either tool's time is the server's fsync. For comparison only.
# env: SIDMAP_BENCH_N (default 10000), SIDMAP_BENCH_CONCURRENCY (default 4), RUNS (default 5),
#      SIDMAP_BENCH_MODES (default "txn notxn"), SIDMAP_BENCH_CONFIGS (default "durable")
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${SIDMAP_BENCH_N:-10000}
conc=${SIDMAP_BENCH_CONCURRENCY:-4}
configs=${SIDMAP_BENCH_CONFIGS:-durable}
modes=${SIDMAP_BENCH_MODES:-txn notxn}
runs=${RUNS:-5}
export PATH="$PATH:/usr/sbin:/sbin"
. scripts/bench/lib/common.sh
bin=bin/abkit
[ -x "$bin" ] || go build -o "$bin" ./cmd/abkit

work=$(mktemp -d "${TMPDIR:-/tmp}/abkit-bench-sidmap.XXXXXX")
started=()
cleanup() {
  for s in "${started[@]}"; do bash testdata/sidmap/server.sh stop "$s" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# resdb NAME: the resource database's config entry of server NAME (dc=resforest,dc=test).
resdb() {
  grep -l '^olcSuffix: dc=resforest,dc=test' "$work/$1/slapd/slapd.d/cn=config/"olcDatabase=*.ldif
}

# start NAME [CONFIG]: a fresh private slapd with n bulk pairs, in configuration CONFIG (durable
# or nosync; default durable); sets $url and $durability and writes $work/NAME.yaml.
start() {
  local env
  env=$(ABKIT_SIDMAP_BULK=$n bash testdata/sidmap/server.sh start "$work/$1" 2>/dev/null)
  started+=("$work/$1")
  url=$(sed -n 's/^ABKIT_SIDMAP_SLAPD_URL=//p' <<<"$env")
  if [ "${2:-durable}" = nosync ]; then
    local db; db=$(basename "$(resdb "$1")" .ldif)
    bash testdata/sidmap/server.sh stop "$work/$1"
    printf 'dn: %s,cn=config\nchangetype: modify\nadd: olcDbNoSync\nolcDbNoSync: TRUE\n' "$db" |
      slapmodify -q -n 0 -F "$work/$1/slapd/slapd.d"
    bash testdata/sidmap/server.sh restart "$work/$1"
  fi
  durability=$(sed -n 's/^olcDbNoSync: *//p' "$(resdb "$1")")
  durability="olcDbNoSync: ${durability:-unset (every write transaction fsynced before the reply)}"
  local b="ou=sidmap,dc=resforest,dc=test" admin="cn=admin,dc=resforest,dc=test"
  cat >"$work/$1.yaml" <<YAML
forests:
  - {name: users, url: "$url", base: "ou=users,$b", bind: {method: simple, dn: "$admin", password_env: SIDMAP_BENCH_PW}}
  - {name: res, url: "$url", base: "ou=res,$b", bind: {method: simple, dn: "$admin", password_env: SIDMAP_BENCH_PW}}
sidmap: {user_forest: users, resource_forest: res}
YAML
}
export SIDMAP_BENCH_PW=secret
now() { date +%s.%N; }

# One fresh server for the plan and the change LDIF.
start plan
"$bin" --config "$work/plan.yaml" sidmap plan -w "$work/plan.json" >/dev/null 2>"$work/plan.err"
grep -q "plan: $n to set" "$work/plan.err" || { cat "$work/plan.err" >&2; exit 1; }
"$bin" --config "$work/plan.yaml" sidmap apply "$work/plan.json" --write-ldif "$work/changes.ldif"
bash testdata/sidmap/server.sh stop "$work/plan"

# The change file split into files of 500 changes, for ldapmodify -E txn=commit (one
# transaction per file, as abkit's --batch 500).
mkdir -p "$work/batches"
awk -v dir="$work/batches" 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)dn:/ { f = sprintf("%s/%05d.ldif", dir, int(n / 500)); n++; print > f }' "$work/changes.ldif"
nbatches=$(ls "$work/batches" | wc -l)

# run_abkit / run_base MODE N CONFIG: one timed run on a freshly loaded server; sets $secs.
run_abkit() {
  start "a$2" "$3"
  rm -f "$work/run.journal" "$work/run.undo.ldif"
  local extra=() t0 t1
  [ "$1" = notxn ] && extra=(--no-txn)
  t0=$(now)
  "$bin" --config "$work/a$2.yaml" --no-progress sidmap apply "$work/plan.json" --yes --concurrency "$conc" "${extra[@]}" \
    --journal "$work/run.journal" --undo "$work/run.undo.ldif" >/dev/null 2>"$work/apply.err"
  t1=$(now)
  grep -q "$n changes: $n applied" "$work/apply.err" || { cat "$work/apply.err" >&2; exit 1; }
  txns=$(sed -n 's/.* \([0-9]*\) transactions;.*/\1/p' "$work/apply.err")
  "$bin" --config "$work/a$2.yaml" sidmap verify >/dev/null || { echo "abkit: verify found problems after apply" >&2; exit 1; }
  bash testdata/sidmap/server.sh stop "$work/a$2"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
run_base() {
  start "l$2" "$3"
  local t0 t1 f
  t0=$(now)
  if [ "$1" = txn ]; then
    for f in "$work"/batches/*.ldif; do
      ldapmodify -x -H "$url" -D "cn=admin,dc=resforest,dc=test" -w secret -E txn=commit -f "$f" >/dev/null
    done
  else
    ldapmodify -x -H "$url" -D "cn=admin,dc=resforest,dc=test" -w secret -f "$work/changes.ldif" >/dev/null
  fi
  t1=$(now)
  "$bin" --config "$work/l$2.yaml" sidmap verify >/dev/null || { echo "ldapmodify: verify found problems" >&2; exit 1; }
  bash testdata/sidmap/server.sh stop "$work/l$2"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

printf 'sidmap apply, %d mappings to slapd (back-mdb), median of %d runs alternating with the baseline, load average %s:\n' \
  "$n" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
for cfg in $configs; do
  for mode in $modes; do
    a_all=() b_all=()
    for ((i = 1; i <= runs; i++)); do
      run_abkit "$mode" "$i" "$cfg"; a_all+=("$secs")
      run_base "$mode" "$i" "$cfg"; b_all+=("$secs")
    done
    a=$(printf '%s\n' "${a_all[@]}" | median)
    b=$(printf '%s\n' "${b_all[@]}" | median)
    if [ "$mode" = txn ]; then
      what_a="abkit sidmap apply --yes --concurrency $conc ($txns LDAP transactions)"
      what_b="ldapmodify -E txn=commit, $nbatches files of <= 500 changes"
      target=1.0
    else
      what_a="abkit sidmap apply --yes --no-txn --concurrency $conc"
      what_b="ldapmodify -f (one change at a time)"
      target=0.5
    fi
    awk -v cfg="$cfg" -v mode="$mode" -v dur="$durability" -v n="$n" -v a="$a" -v b="$b" -v wa="$what_a" -v wb="$what_b" \
      -v ra="${a_all[*]}" -v rb="${b_all[*]}" -v t="$target" 'BEGIN {
      printf "[%s, %s] server: %s\n", mode, cfg, dur
      printf "  %-62s %7.2f s (%.0f/s)  [runs %s]\n", wa, a, n / a, ra
      printf "  %-62s %7.2f s (%.0f/s)  [runs %s]\n", wb, b, n / b, rb
      if (cfg == "durable")
        printf "  ratio abkit/baseline (medians) = %.2f (target <= %.1f): %s\n", a / b, t, (a / b <= t ? "met" : "NOT met")
      else
        printf "  ratio abkit/baseline (medians) = %.2f (server not durable: for comparison only, not the target)\n", a / b
    }'
  done
done
