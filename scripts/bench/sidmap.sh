#!/usr/bin/env bash
# sidmap apply speed: 10,000 msRTCSIP-OriginatorSid mappings written to slapd by
# `abkit sidmap apply --yes` against the equivalent LDIF (abkit sidmap apply --write-ldif: the
# same conditional delete/add modifies) written by `ldapmodify -f`, each from the same freshly
# loaded starting state (testdata/sidmap/server.sh); each tool runs twice, in A B B A order, and
# the best of two counts. Target: abkit wall time <= 0.5 x ldapmodify's.
#
# Both tools always run against the same server configuration. Two are measured, and labelled:
#   durable  testdata/slapd's config as is: olcDbNoSync unset, so back-mdb fsyncs (fdatasync)
#            every write transaction before it replies -- the configuration the target is judged on;
#   nosync   the same server with olcDbNoSync: TRUE on the resource database (a common bulk-load
#            setting, not durable), to show how much of either tool's time is the server's fsync.
# The setting read back from each server's cn=config is printed with the figures.
# abkit uses LDAP transactions (RFC 5805) as slapd offers them: --batch (default 500) changes per
# transaction, one fsync each; ldapmodify -f (no -E txn) sends each change on its own.
# env: SIDMAP_BENCH_N (default 10000), SIDMAP_BENCH_CONCURRENCY (default 4),
#      SIDMAP_BENCH_CONFIGS (default "durable nosync")
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${SIDMAP_BENCH_N:-10000}
conc=${SIDMAP_BENCH_CONCURRENCY:-4}
configs=${SIDMAP_BENCH_CONFIGS:-durable nosync}
export PATH="$PATH:/usr/sbin:/sbin"
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

# run_abkit / run_ldapmodify N CONFIG: one timed run on a freshly loaded server; sets $secs.
run_abkit() {
  start "a$1" "$2"
  rm -f "$work/run.journal" "$work/run.undo.ldif"
  local t0 t1; t0=$(now)
  "$bin" --config "$work/a$1.yaml" --no-progress sidmap apply "$work/plan.json" --yes --concurrency "$conc" \
    --journal "$work/run.journal" --undo "$work/run.undo.ldif" >/dev/null 2>"$work/apply.err"
  t1=$(now)
  grep -q "$n changes: $n applied" "$work/apply.err" || { cat "$work/apply.err" >&2; exit 1; }
  txns=$(sed -n 's/.* \([0-9]*\) transactions;.*/\1/p' "$work/apply.err")
  "$bin" --config "$work/a$1.yaml" sidmap verify >/dev/null || { echo "abkit: verify found problems after apply" >&2; exit 1; }
  bash testdata/sidmap/server.sh stop "$work/a$1"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
run_ldapmodify() {
  start "l$1" "$2"
  local t0 t1; t0=$(now)
  ldapmodify -x -H "$url" -D "cn=admin,dc=resforest,dc=test" -w secret -f "$work/changes.ldif" >/dev/null
  t1=$(now)
  "$bin" --config "$work/l$1.yaml" sidmap verify >/dev/null || { echo "ldapmodify: verify found problems" >&2; exit 1; }
  bash testdata/sidmap/server.sh stop "$work/l$1"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# A B B A order, best of two each, so that a change in machine load between runs does not
# favour either tool.
printf 'sidmap apply, %d mappings to slapd (back-mdb), best of 2 (runs in A B B A order), load average %s:\n' \
  "$n" "$(cut -d' ' -f1-3 /proc/loadavg)"
for cfg in $configs; do
  run_abkit 1 "$cfg"; a1=$secs
  run_ldapmodify 1 "$cfg"; l1=$secs
  run_ldapmodify 2 "$cfg"; l2=$secs
  run_abkit 2 "$cfg"; a2=$secs
  awk -v cfg="$cfg" -v dur="$durability" -v n="$n" -v c="$conc" -v tx="$txns" -v a1="$a1" -v a2="$a2" -v l1="$l1" -v l2="$l2" 'BEGIN {
    a = (a1 < a2 ? a1 : a2); l = (l1 < l2 ? l1 : l2)
    printf "[%s] server: %s\n", cfg, dur
    printf "  abkit used %s LDAP transactions (RFC 5805; the server lists 1.3.6.1.1.21.1)\n", tx
    printf "  abkit sidmap apply --yes --concurrency %d: %.2f s (%.0f/s)  [runs %.2f s, %.2f s]\n", c, a, n/a, a1, a2
    printf "  ldapmodify -f:                           %.2f s (%.0f/s)  [runs %.2f s, %.2f s]\n", l, n/l, l1, l2
    if (cfg == "durable")
      printf "  ratio abkit/ldapmodify = %.2f (target <= 0.50): %s\n", a/l, (a/l <= 0.5 ? "met" : "NOT met")
    else
      printf "  ratio abkit/ldapmodify = %.2f (server not durable: for comparison only, not the target)\n", a/l
  }'
done
