#!/usr/bin/env bash
# server.sh -- abkit's throwaway OpenLDAP test server (see scripts/test.sh for the convention).
#
#   server.sh start STATEDIR   install slapd + ldap-utils when missing, build a cn=config with the
#                              AD/OCS schema (ad-ocs.ldif), a throwaway CA and server certificate,
#                              load the seed offline (slapadd), start slapd on free loopback ports
#                              (ldap:// with StartTLS, and ldaps://), print KEY=VALUE lines
#   server.sh stop STATEDIR    stop exactly the slapd started in STATEDIR
#
# Suffixes: dc=userforest,dc=test and dc=resforest,dc=test (seed.ldif, from gen-seed.py: 250 bulk
# users under ou=Bulk,dc=resforest), dc=broken,dc=test (broken.ldif: bad SID/GUID values and a
# referral object). Searches outside them get a referral to ldap://referral.invalid/.
# Each suffix's rootdn is cn=admin,<suffix> with password "secret".
# env: ABKIT_SLAPD_LIMIT       size limit of non-paged searches (default 100; paged: unlimited)
#      ABKIT_SLAPD_EXTRA_LDIF  more entries under dc=resforest,dc=test, loaded offline (benchmarks)
#      ABKIT_SLAPD_EXTRA_USER_LDIF  more entries under dc=userforest,dc=test, loaded offline
#      ABKIT_SLAPD_USER2_LDIF  when set, a fourth suffix dc=userforest2,dc=test (a second user
#                              forest) holding exactly these entries (sidmap's tests)
# No root needed once installed (ports are above 1023).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"; STATE="${2:-}"
[ -n "$cmd" ] && [ -n "$STATE" ] || { echo "usage: $0 start|stop STATEDIR" >&2; exit 2; }
export PATH="$PATH:/usr/sbin:/sbin"

stop() {
  [ -f "$STATE/slapd.pid" ] || return 0
  local pid; pid=$(cat "$STATE/slapd.pid")
  if kill -0 "$pid" 2>/dev/null && grep -q slapd "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/slapd.pid"
}

install() {
  command -v slapd >/dev/null && command -v ldapsearch >/dev/null && command -v openssl >/dev/null && return 0
  echo "installing slapd, ldap-utils, openssl" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends slapd ldap-utils openssl >&2
}

# tls writes a throwaway CA and a server certificate for 127.0.0.1/localhost into $STATE/tls.
tls() {
  local d="$STATE/tls"; mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=abkit test CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
  cat "$d/server.pem" "$d/ca.pem" >"$d/chain.pem"
}

# split_seed FILE SUFFIX: the records of FILE whose DN ends with SUFFIX.
split_seed() {
  awk -v s="$2" 'BEGIN{RS="";ORS="\n\n"} { n=split($0,l,"\n"); dn=""; for(i=1;i<=n;i++) if (l[i] ~ /^dn: /) { dn=substr(l[i],5); break }
    if (dn != "" && substr(dn,length(dn)-length(s)+1)==s) print }' "$1"
}

start() {
  install
  stop
  rm -rf "$STATE/slapd.d" "$STATE"/db-*
  mkdir -p "$STATE/slapd.d" "$STATE/db-user" "$STATE/db-res" "$STATE/db-broken"
  cp "$HERE/ad-ocs.ldif" "$STATE/ad-ocs.ldif"
  tls
  sed -e "s#@DIR@#$STATE#g" -e "s#@LIMIT@#${ABKIT_SLAPD_LIMIT:-100}#g" "$HERE/config.ldif.in" >"$STATE/config.ldif"
  if [ -n "${ABKIT_SLAPD_USER2_LDIF:-}" ]; then
    mkdir -p "$STATE/db-user2"
    cat >>"$STATE/config.ldif" <<EOF

dn: olcDatabase={4}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {4}mdb
olcSuffix: dc=userforest2,dc=test
olcRootDN: cn=admin,dc=userforest2,dc=test
olcRootPW: secret
olcDbDirectory: $STATE/db-user2
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: objectSid eq
EOF
  fi
  slapadd -q -n 0 -F "$STATE/slapd.d" -l "$STATE/config.ldif"
  split_seed "$HERE/seed.ldif" "dc=userforest,dc=test" >"$STATE/seed-user.ldif"
  split_seed "$HERE/seed.ldif" "dc=resforest,dc=test" >"$STATE/seed-res.ldif"
  slapadd -q -F "$STATE/slapd.d" -b "dc=userforest,dc=test" -l "$STATE/seed-user.ldif"
  slapadd -q -F "$STATE/slapd.d" -b "dc=resforest,dc=test" -l "$STATE/seed-res.ldif"
  if [ -n "${ABKIT_SLAPD_EXTRA_LDIF:-}" ]; then
    slapadd -q -F "$STATE/slapd.d" -b "dc=resforest,dc=test" -l "$ABKIT_SLAPD_EXTRA_LDIF"
  fi
  if [ -n "${ABKIT_SLAPD_EXTRA_USER_LDIF:-}" ]; then
    slapadd -q -F "$STATE/slapd.d" -b "dc=userforest,dc=test" -l "$ABKIT_SLAPD_EXTRA_USER_LDIF"
  fi
  slapadd -q -F "$STATE/slapd.d" -b "dc=broken,dc=test" -l "$HERE/broken.ldif"
  if [ -n "${ABKIT_SLAPD_USER2_LDIF:-}" ]; then
    slapadd -q -F "$STATE/slapd.d" -b "dc=userforest2,dc=test" -l "$ABKIT_SLAPD_USER2_LDIF"
  fi

  # free ports: pick at random, let slapd fail on a clash and try again
  local port="" try
  for try in $(seq 1 20); do
    local p=$((20000 + RANDOM % 30000))
    if ss -ltn 2>/dev/null | grep -qE "127\.0\.0\.1:($p|$((p + 1))) "; then continue; fi
    if slapd -h "ldap://127.0.0.1:$p/ ldaps://127.0.0.1:$((p + 1))/" -F "$STATE/slapd.d" 2>"$STATE/slapd.err"; then
      for _ in $(seq 1 50); do
        ldapsearch -x -LLL -H "ldap://127.0.0.1:$p" -s base -b "" namingContexts >/dev/null 2>&1 && { port=$p; break; }
        sleep 0.1
      done
      [ -n "$port" ] && break
      stop
    fi
  done
  [ -n "$port" ] || { echo "slapd did not start (see $STATE/slapd.err)" >&2; exit 1; }
  echo "slapd pid $(cat "$STATE/slapd.pid") on 127.0.0.1:$port (ldap) and :$((port + 1)) (ldaps)" >&2
  cat <<EOF
ABKIT_SLAPD_URL=ldap://127.0.0.1:$port
ABKIT_SLAPD_LDAPS_URL=ldaps://127.0.0.1:$((port + 1))
ABKIT_SLAPD_CA=$STATE/tls/ca.pem
ABKIT_SLAPD_USER_BASE=dc=userforest,dc=test
ABKIT_SLAPD_RES_BASE=dc=resforest,dc=test
ABKIT_SLAPD_BROKEN_BASE=dc=broken,dc=test
ABKIT_SLAPD_USER_BIND_DN=cn=admin,dc=userforest,dc=test
ABKIT_SLAPD_RES_BIND_DN=cn=admin,dc=resforest,dc=test
ABKIT_SLAPD_PASSWORD=secret
ABKIT_SLAPD_LIMIT=${ABKIT_SLAPD_LIMIT:-100}
EOF
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATEDIR" >&2; exit 2 ;;
esac
