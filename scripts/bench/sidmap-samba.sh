#!/usr/bin/env bash
# sidmap apply change by change on Samba AD, which offers no LDAP transactions (like Active
# Directory): N (default 1,000) msRTCSIP-OriginatorSid writes to N disabled resource accounts by
# `abkit sidmap apply --yes --no-txn --concurrency C` for each C in CONCS (default "1 4 16"),
# against `ldapmodify -f` of the same conditional changes (abkit sidmap apply --write-ldif), one at
# a time. Runs alternate (abkit C1, abkit C2, ..., ldapmodify) in the same script run; every figure
# is the median of RUNS (default 5) wall times of the write alone. Each run starts from the same
# directory state: the previous run's changes are reverted (not timed) with ldapmodify -f of
# abkit's undo file. The server-side bound: Samba's ldb takes one write transaction at a time, so
# changes per second stop growing with C once the server is the bottleneck; the figure per C shows
# where that happens, and the target (abkit <= 0.5 x ldapmodify) is judged at the best C.
# Needs root (testdata/samba/server.sh). env: SIDMAP_SAMBA_N, RUNS, CONCS,
# ABKIT_SAMBA_USER_IP / ABKIT_SAMBA_RES_IP (loopback addresses for the two DCs).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${SIDMAP_SAMBA_N:-1000}
runs=${RUNS:-5}
concs=${CONCS:-1 4 16}
export PATH="$PATH:/usr/sbin:/sbin"
bin=${ABKIT_BIN:-bin/abkit}
[ -x "$bin" ] || go build -o "$bin" ./cmd/abkit
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

work=$(mktemp -d "${TMPDIR:-/tmp}/abkit-bench-sidmap-samba.XXXXXX")
cleanup() {
  bash testdata/samba/server.sh stop "$work/samba" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
env=$(bash testdata/samba/server.sh start "$work/samba" 2>"$work/samba.err") || { tail "$work/samba.err" >&2; exit 1; }
get() { sed -n "s/^$1=//p" <<<"$env"; }
url=$(get ABKIT_SAMBA_RES_URL) base=$(get ABKIT_SAMBA_RES_BASE) bind=$(get ABKIT_SAMBA_RES_BIND)
export SIDMAP_BENCH_PW=$(get ABKIT_SAMBA_PASSWORD)
ou="OU=bench,$base"
lm() { ldapmodify -x -H "$url" -D "$bind" -w "$SIDMAP_BENCH_PW" "$@" >/dev/null; }

# N disabled, SIP-enabled resource accounts and a plan mapping each to a made-up user SID.
{
  printf 'dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n' "$ou"
  for ((i = 0; i < n; i++)); do
    printf 'dn: CN=sb%05d,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: sb%05d\nuserAccountControl: 514\nmsRTCSIP-PrimaryUserAddress: sip:sb%05d@bench.test\n\n' "$i" "$ou" "$i" "$i"
  done
} >"$work/accounts.ldif"
lm -f "$work/accounts.ldif"
awk -v n="$n" -v ou="$ou" 'BEGIN {
  printf "{\"version\":1,\"kind\":\"originator-sid\",\"user_forest\":\"users\",\"resource_forest\":\"res\",\"created\":\"2026-01-01T00:00:00Z\",\"options\":{\"match\":[\"sam\"]},\"rows\":["
  for (i = 0; i < n; i++)
    printf "%s{\"resource_dn\":\"CN=sb%05d,%s\",\"action\":\"set\",\"proposed_sid\":\"S-1-5-21-1-2-3-%d\"}", (i ? "," : ""), i, ou, 100000 + i
  print "]}"
}' >"$work/plan.json"
cat >"$work/abkit.yaml" <<YAML
forests:
  - {name: users, url: "$url", base: "$base", bind: {method: simple, dn: "$bind", password_env: SIDMAP_BENCH_PW}}
  - {name: res, url: "$url", base: "$ou", bind: {method: simple, dn: "$bind", password_env: SIDMAP_BENCH_PW}}
sidmap: {user_forest: users, resource_forest: res}
YAML
"$bin" --config "$work/abkit.yaml" sidmap apply "$work/plan.json" --write-ldif "$work/changes.ldif"

# run_abkit C / run_base: one timed run, then the changes are reverted; sets $secs.
run_abkit() {
  rm -f "$work"/run.*
  local t0 t1; t0=$(now)
  "$bin" --config "$work/abkit.yaml" --no-progress sidmap apply "$work/plan.json" --yes --no-txn --concurrency "$1" \
    --journal "$work/run.journal" --undo "$work/run.undo.ldif" >/dev/null 2>"$work/apply.err"
  t1=$(now)
  grep -q "$n changes: $n applied" "$work/apply.err" || { cat "$work/apply.err" >&2; exit 1; }
  cp "$work/run.undo.ldif" "$work/revert.ldif"
  lm -f "$work/revert.ldif"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
run_base() {
  local t0 t1; t0=$(now)
  lm -f "$work/changes.ldif"
  t1=$(now)
  lm -f "$work/revert.ldif"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

printf 'sidmap apply change by change to Samba %s (no LDAP transactions), %d changes, median of %d alternating runs, load average %s:\n' \
  "$(samba -V | cut -d' ' -f2)" "$n" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A all
for ((r = 1; r <= runs; r++)); do
  for c in $concs; do run_abkit "$c"; all[$c]+="$secs "; done
  run_base; all[base]+="$secs "
done
b=$(tr ' ' '\n' <<<"${all[base]}" | grep . | median)
best=
for c in $concs; do
  a=$(tr ' ' '\n' <<<"${all[$c]}" | grep . | median)
  awk -v c="$c" -v a="$a" -v n="$n" -v b="$b" -v r="${all[$c]}" 'BEGIN {
    printf "  abkit sidmap apply --yes --no-txn --concurrency %-3d %7.2f s (%4.0f/s)  ratio %.2f  [runs %s]\n", c, a, n / a, a / b, r }'
  best=$(awk -v a="$a" -v best="$best" 'BEGIN { print (best == "" || a < best) ? a : best }')
done
awk -v b="$b" -v n="$n" -v r="${all[base]}" -v best="$best" 'BEGIN {
  printf "  ldapmodify -f (one change at a time)              %7.2f s (%4.0f/s)             [runs %s]\n", b, n / b, r
  printf "  best abkit/ldapmodify (medians) = %.2f (target <= 0.5): %s\n", best / b, (best / b <= 0.5 ? "met" : "NOT met")
}'
