#!/usr/bin/env bash
# ldap.sh -- `abkit ldap export -o ldif` against `ldapsearch -LLL -E pr=500/noprompt` on the same
# slapd, filter and attributes, at 20,000 and 100,000 users (loaded offline with slapadd).
# Runs alternate (abkit, ldapsearch, abkit, ...); prints the median wall times, their ratio
# (target: abkit <= 1.0x ldapsearch), the largest ratio of one abkit run to the ldapsearch run
# beside it (target: none above 1.2) and abkit's peak RSS from /usr/bin/time (target < 100 MB).
#
#   bash scripts/bench/ldap.sh            (after `make build`; `make bench` runs it)
# env: BENCH_SIZES (default "20000 100000"), BENCH_RUNS (default 5 per tool and size)
# CPU time (user+sys) is printed too: on a shared machine it varies less than wall time.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x bin/abkit ] || go build -o bin/abkit ./cmd/abkit
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
sizes=${BENCH_SIZES:-20000 100000}
runs=${BENCH_RUNS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/abkit-bench-ldap.XXXXXX")
state="$work/slapd"
trap 'bash testdata/slapd/server.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The default export selection of abkit, spelled out for ldapsearch.
filter='(|(msRTCSIP-PrimaryUserAddress=*)(proxyAddresses=sip:*)(msRTCSIP-OriginatorSid=*)(msExchMasterAccountSid=*))'
attrs=(objectClass objectGUID objectSid msExchMasterAccountSid msRTCSIP-OriginatorSid msRTCSIP-PrimaryUserAddress
  msRTCSIP-UserEnabled msRTCSIP-PrimaryHomeServer msRTCSIP-OptionFlags msRTCSIP-Line proxyAddresses mail displayName
  sAMAccountName userPrincipalName userAccountControl groupType msExchHideFromAddressLists telephoneNumber msDS-SourceObjectDN)

. scripts/bench/lib/common.sh

for n in $sizes; do
  go run ./testdata/slapd/genbulk -n "$n" >"$work/bulk.ldif"
  bash testdata/slapd/server.sh stop "$state" >/dev/null 2>&1 || true
  rm -rf "$state"; mkdir -p "$state"
  load_start=$(date +%s.%N)
  env_lines=$(ABKIT_SLAPD_EXTRA_LDIF="$work/bulk.ldif" bash testdata/slapd/server.sh start "$state" 2>/dev/null)
  load_s=$(awk -v a="$load_start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  url=$(sed -n 's/^ABKIT_SLAPD_URL=//p' <<<"$env_lines")
  base=$(sed -n 's/^ABKIT_SLAPD_RES_BASE=//p' <<<"$env_lines")
  printf 'forests:\n  - {name: bench, url: "%s", base: "%s", page_size: 500}\n' "$url" "$base" >"$work/abkit.yaml"

  abkit_cmd=(bin/abkit --config "$work/abkit.yaml" --no-progress ldap export --forest bench -o ldif)
  ldapsearch_cmd=(ldapsearch -x -LLL -H "$url" -b "$base" -E pr=500/noprompt "$filter" "${attrs[@]}")
  a_n=$("${abkit_cmd[@]}" | grep -c '^dn: ')
  l_n=$("${ldapsearch_cmd[@]}" | grep -c '^dn: ')
  [ "$a_n" = "$l_n" ] || { echo "object counts differ: abkit $a_n, ldapsearch $l_n" >&2; exit 1; }

  : >"$work/a.times"; : >"$work/l.times"
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %M %U %S' -o "$work/t" "${abkit_cmd[@]}" >/dev/null; cat "$work/t" >>"$work/a.times"
    /usr/bin/time -f '%e %M %U %S' -o "$work/t" "${ldapsearch_cmd[@]}" >/dev/null; cat "$work/t" >>"$work/l.times"
  done
  a_wall=$(cut -d' ' -f1 "$work/a.times" | median)
  l_wall=$(cut -d' ' -f1 "$work/l.times" | median)
  a_rss=$(cut -d' ' -f2 "$work/a.times" | sort -n | tail -1)
  l_rss=$(cut -d' ' -f2 "$work/l.times" | sort -n | tail -1)
  a_cpu=$(awk '{print $3 + $4}' "$work/a.times" | median)
  l_cpu=$(awk '{print $3 + $4}' "$work/l.times" | median)
  ratio=$(awk -v a="$a_wall" -v l="$l_wall" 'BEGIN {printf "%.2f", (l > 0 ? a / l : 0)}')
  worst=$(paste -d' ' "$work/a.times" "$work/l.times" | awk '{ r = ($5 > 0 ? $1 / $5 : 99); if (r > m) m = r } END { printf "%.2f", m }')
  printf 'ldap export, %d users (%d objects exported; slapd load %.1f s), median of %d alternating runs:\n' "$n" "$a_n" "$load_s" "$runs"
  printf '  abkit ldap export -o ldif            wall %6.2f s   cpu %6.2f s   peak RSS %6.1f MB\n' "$a_wall" "$a_cpu" "$(awk -v k="$a_rss" 'BEGIN {print k / 1024}')"
  printf '  ldapsearch -LLL -E pr=500/noprompt   wall %6.2f s   cpu %6.2f s   peak RSS %6.1f MB\n' "$l_wall" "$l_cpu" "$(awk -v k="$l_rss" 'BEGIN {print k / 1024}')"
  printf '  wall-time ratio abkit/ldapsearch     %6s    (medians; target <= 1.0: %s)\n' "$ratio" "$(bench_verdict "$ratio" 1.0)"
  printf '  largest single-run ratio             %6s    (run i of each tool; target <= 1.2: %s)\n' "$worst" "$(bench_verdict "$worst" 1.2)"
  bash testdata/slapd/server.sh stop "$state" >/dev/null
done
