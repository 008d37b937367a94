#!/usr/bin/env bash
# sidmap apply speed: 10,000 msRTCSIP-OriginatorSid mappings written to slapd by
# `abkit sidmap apply --yes` against the equivalent LDIF (abkit sidmap apply --write-ldif: the
# same conditional delete/add modifies) written by `ldapmodify -f`, each from the same freshly
# loaded starting state (testdata/sidmap/server.sh). Target: abkit wall time <= 0.5 x ldapmodify's.
# env: SIDMAP_BENCH_N (default 10000), SIDMAP_BENCH_CONCURRENCY (default 4)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${SIDMAP_BENCH_N:-10000}
conc=${SIDMAP_BENCH_CONCURRENCY:-4}
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

# start NAME: a fresh private slapd with n bulk pairs; sets $url and writes $work/NAME.yaml.
start() {
  local env
  env=$(ABKIT_SIDMAP_BULK=$n bash testdata/sidmap/server.sh start "$work/$1" 2>/dev/null)
  started+=("$work/$1")
  url=$(sed -n 's/^ABKIT_SIDMAP_SLAPD_URL=//p' <<<"$env")
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

start a
"$bin" --config "$work/a.yaml" sidmap plan -w "$work/plan.json" >/dev/null 2>"$work/plan.err"
grep -q "plan: $n to set" "$work/plan.err" || { cat "$work/plan.err" >&2; exit 1; }
"$bin" --config "$work/a.yaml" sidmap apply "$work/plan.json" --write-ldif "$work/changes.ldif"

t0=$(now)
"$bin" --config "$work/a.yaml" --no-progress sidmap apply "$work/plan.json" --yes --concurrency "$conc" >/dev/null 2>"$work/apply.err"
t1=$(now)
grep -q "$n changes: $n applied" "$work/apply.err" || { cat "$work/apply.err" >&2; exit 1; }
"$bin" --config "$work/a.yaml" sidmap verify >/dev/null || { echo "abkit: verify found problems after apply" >&2; exit 1; }

start b
t2=$(now)
ldapmodify -x -H "$url" -D "cn=admin,dc=resforest,dc=test" -w secret -f "$work/changes.ldif" >/dev/null
t3=$(now)
"$bin" --config "$work/b.yaml" sidmap verify >/dev/null || { echo "ldapmodify: verify found problems" >&2; exit 1; }

awk -v n="$n" -v c="$conc" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" 'BEGIN {
  a = t1 - t0; l = t3 - t2
  printf "sidmap apply, %d mappings to slapd (mdb): abkit --concurrency %d %.2f s (%.0f/s), ldapmodify -f %.2f s (%.0f/s)\n", n, c, a, n/a, l, n/l
  printf "ratio abkit/ldapmodify = %.2f (target <= 0.50): %s\n", a/l, (a/l <= 0.5 ? "met" : "NOT met")
}'
