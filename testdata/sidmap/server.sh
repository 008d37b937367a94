#!/usr/bin/env bash
# server.sh -- sidmap's private OpenLDAP slapd (see scripts/test.sh for the convention).
#
# sidmap's integration tests write to the directory and kill the server half-way (fault test), so
# they get their own slapd instead of sharing testdata/slapd's. It is testdata/slapd/server.sh's
# server (same schema, seed and TLS) plus N bulk account pairs under ou=sidmap,dc=resforest,dc=test
# (genbulk/main.go) and the resource/central-forest cases of gen-forests.py (ou=Forests and
# ou=Central of dc=resforest, ou=Forests of dc=userforest, a second user forest
# dc=userforest2,dc=test), loaded offline.
#
#   server.sh start STATEDIR     start it; prints ABKIT_SIDMAP_SLAPD_* lines
#   server.sh restart STATEDIR   start slapd again on the same data and port (after a kill)
#   server.sh stop STATEDIR      stop exactly the slapd started in STATEDIR
#
# env: ABKIT_SIDMAP_BULK   number of bulk account pairs (default 5000)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SLAPD_SH="$ROOT/testdata/slapd/server.sh"
cmd="${1:-}"; STATE="${2:-}"
[ -n "$cmd" ] && [ -n "$STATE" ] || { echo "usage: $0 start|restart|stop STATEDIR" >&2; exit 2; }
export PATH="$PATH:/usr/sbin:/sbin:/usr/local/go/bin"

start() {
  mkdir -p "$STATE"
  local n="${ABKIT_SIDMAP_BULK:-5000}"
  (cd "$ROOT" && go run ./testdata/sidmap/genbulk -n "$n") >"$STATE/bulk.ldif"
  { echo; cat "$HERE/forests-res.ldif"; } >>"$STATE/bulk.ldif"
  local env
  env=$(ABKIT_SLAPD_EXTRA_LDIF="$STATE/bulk.ldif" ABKIT_SLAPD_EXTRA_USER_LDIF="$HERE/forests-user.ldif" \
    ABKIT_SLAPD_USER2_LDIF="$HERE/forests-user2.ldif" bash "$SLAPD_SH" start "$STATE/slapd")
  local url; url=$(sed -n 's/^ABKIT_SLAPD_URL=//p' <<<"$env")
  [ -n "$url" ] || { echo "testdata/slapd/server.sh printed no ABKIT_SLAPD_URL" >&2; exit 1; }
  echo "${url##*:}" >"$STATE/port"
  cat <<EOF
ABKIT_SIDMAP_SLAPD_URL=$url
ABKIT_SIDMAP_SLAPD_STATE=$STATE
ABKIT_SIDMAP_SLAPD_BULK=$n
EOF
}

restart() {
  local port; port=$(cat "$STATE/port")
  slapd -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$((port + 1))/" -F "$STATE/slapd/slapd.d" 2>"$STATE/restart.err"
  for _ in $(seq 1 100); do
    ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" -s base -b "" namingContexts >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "slapd did not come back on port $port (see $STATE/restart.err)" >&2
  exit 1
}

case "$cmd" in
  start) start ;;
  restart) restart ;;
  stop) bash "$SLAPD_SH" stop "$STATE/slapd" ;;
  *) echo "usage: $0 start|restart|stop STATEDIR" >&2; exit 2 ;;
esac
