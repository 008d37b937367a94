#!/usr/bin/env bash
# server.sh -- two throwaway Samba AD forests for abkit's tests (see scripts/test.sh for the
# convention): USERFOREST.TEST (accounts) and RESFOREST.TEST (disabled accounts with OCS/Exchange
# attributes), each a real AD DC that allocates its own SIDs and GUIDs.
#
#   server.sh start STATEDIR   install Samba when missing, provision both forests under STATEDIR,
#                              load the OCS/Exchange schema (ocs-schema.ldf), give each DC a
#                              certificate from a throwaway CA, start LDAP, LDAPS and a KDC, seed
#                              users, print KEY=VALUE lines
#   server.sh stop STATEDIR    stop exactly the two samba processes started in STATEDIR and remove
#                              the loopback addresses this script added
#   server.sh sidhistory STATEDIR DN SID_BASE64
#                              add a SID to the sIDHistory of DN in the user forest (a migrated
#                              account; Samba, like AD, refuses sIDHistory over LDAP), through
#                              sidhistory.py on the local database
#
# env: ABKIT_SAMBA_USER_IP (default 127.0.0.2), ABKIT_SAMBA_RES_IP (default 127.0.0.3): other test
#      suites run their own pairs on other addresses at the same time.
# Needs root (ports 88/389/636/3268 and `ip addr add`).
#
# Seed (resource forest accounts point at user forest SIDs, as after Exchange linked mailboxes):
#   user forest: alice bob carol dave (enabled, passwords set)
#   res forest:  alice (master SID = user alice, originator empty), bob (master = originator =
#                user bob), carol (master = user carol, originator = user dave: a mismatch),
#                dave (no master SID, hidden from the GAL), all disabled (514) with SIP addresses;
#                group Sales (global security group) re-using alice's SIP address in proxyAddresses;
#                contact Erin; 30 users bulk01..bulk30 with SIP addresses (paging tests).
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"; STATE="${2:-}"
[ -n "$cmd" ] && [ -n "$STATE" ] || { echo "usage: $0 start|stop STATEDIR" >&2; exit 2; }
export PATH="$PATH:/usr/sbin:/sbin"
USER_IP="${ABKIT_SAMBA_USER_IP:-127.0.0.2}"
RES_IP="${ABKIT_SAMBA_RES_IP:-127.0.0.3}"
PASS='Passw0rd!x9'

stop() {
  local f pid
  for f in "$STATE"/*/samba.mypid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null && grep -q samba "/proc/$pid/comm" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$f"
  done
  for f in "$STATE"/*/added-ip; do
    [ -f "$f" ] || continue
    ip addr del "$(cat "$f")/8" dev lo 2>/dev/null || true
    rm -f "$f"
  done
}

install() {
  if command -v samba >/dev/null && command -v samba-tool >/dev/null && command -v ldapmodify >/dev/null &&
     command -v openssl >/dev/null && command -v ip >/dev/null && command -v ss >/dev/null &&
     command -v kinit >/dev/null; then
    return 0
  fi
  echo "installing samba" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends samba samba-ad-provision samba-ad-dc samba-dsdb-modules \
    samba-vfs-modules ldap-utils iproute2 openssl krb5-user >&2
}

# provision DIR IP REALM DOMAIN: a DC with only the services tests need, bound to IP.
provision() {
  local dir="$1" ip="$2" realm="$3" domain="$4" host
  host="dc-$(echo "$domain" | tr 'A-Z' 'a-z')"
  rm -rf "$dir"; mkdir -p "$dir/run" "$dir/ncalrpc" "$dir/winbindd" "$dir/tls"
  if ! ip -br addr show lo | grep -q " $ip/"; then
    ip addr add "$ip/8" dev lo
    echo "$ip" >"$dir/added-ip"
  fi
  # SAMBA_INTERNAL creates the DomainDnsZones and ForestDnsZones partitions, as a real AD has
  # (a subtree search of the domain returns referrals to them); the DNS service itself is not
  # started (server services below).
  samba-tool domain provision --targetdir="$dir" --realm="$realm" --domain="$domain" \
    --server-role=dc --dns-backend=SAMBA_INTERNAL --adminpass="$PASS" --host-name="$host" \
    --host-ip="$ip" --option="interfaces=$ip" --option="bind interfaces only=yes" >"$dir/provision.log" 2>&1
  # certificate from a throwaway CA, with the DC's DNS name and IP as subject alternative names
  local fqdn="$host.$(echo "$realm" | tr 'A-Z' 'a-z')"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=abkit $realm test CA" \
    -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$fqdn" -keyout "$dir/tls/key.pem" -out "$dir/tls/req.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$fqdn" "$ip" >"$dir/tls/ext.cnf"
  openssl x509 -req -in "$dir/tls/req.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/tls/ext.cnf" -out "$dir/tls/cert.pem" 2>/dev/null
  chmod 600 "$dir/tls/key.pem"
  # provision drops some --option values; patch smb.conf directly: LDAP and KDC only, simple
  # binds over plain LDAP (loopback tests), schema updates, state inside the sandbox, our cert.
  python3 - "$dir" <<'PY'
import re, sys
d = sys.argv[1]; p = d + '/etc/smb.conf'; s = open(p).read()
s = re.sub(r'\tserver services = .*\n', '', s)
s = s.replace('[global]\n', '[global]\n'
  '\tserver services = ldap kdc\n\tldap server require strong auth = no\n'
  '\tdsdb:schema update allowed = yes\n'
  f'\tpid directory = {d}/run\n\tncalrpc dir = {d}/ncalrpc\n\twinbindd socket directory = {d}/winbindd\n'
  f'\ttls enabled = yes\n\ttls keyfile = {d}/tls/key.pem\n\ttls certfile = {d}/tls/cert.pem\n\ttls cafile = {d}/tls/ca.pem\n', 1)
s = re.sub(r'\tlog file = .*\n', f'\tlog file = {d}/log.%m\n', s)
open(p, 'w').write(s)
PY
  echo "$fqdn" >"$dir/fqdn"
}

# run_dc DIR IP: start samba and wait for LDAP.
run_dc() {
  local dir="$1" ip="$2"
  samba -i -M single -s "$dir/etc/smb.conf" >"$dir/samba.out" 2>&1 &
  echo $! >"$dir/samba.mypid"
  for _ in $(seq 1 120); do
    ss -ltn | grep -q "$ip:389 " && ss -ltn | grep -q "$ip:636 " && return 0
    kill -0 "$(cat "$dir/samba.mypid")" 2>/dev/null || break
    sleep 0.25
  done
  echo "samba in $dir did not start (see $dir/samba.out)" >&2
  return 1
}

base_of() { echo "DC=$(echo "$1" | tr 'A-Z' 'a-z' | sed 's/\./,DC=/g')"; }

# ldapmod IP REALM FILE: apply an LDIF as Administrator over loopback LDAP.
ldapmod() {
  ldapmodify -x -H "ldap://$1" -D "Administrator@$(echo "$2" | tr 'A-Z' 'a-z')" -w "$PASS" -f "$3" >/dev/null
}

# sid_b64 IP REALM SAM: the base64 objectSid of an account.
sid_b64() {
  ldapsearch -x -LLL -o ldif-wrap=no -H "ldap://$1" -D "Administrator@$(echo "$2" | tr 'A-Z' 'a-z')" -w "$PASS" \
    -b "$(base_of "$2")" "(sAMAccountName=$3)" objectSid | sed -n 's/^objectSid:: //p'
}

seed() {
  local ub rb ud rd
  ub=$(base_of USERFOREST.TEST); rb=$(base_of RESFOREST.TEST)
  ud="$STATE/user"; rd="$STATE/res"
  for u in alice bob carol dave; do
    samba-tool user create "$u" "$PASS" -s "$ud/etc/smb.conf" --mail-address="$u@contoso.com" \
      --given-name="${u^}" --surname=Test >/dev/null
  done
  local sa sb sc sd
  sa=$(sid_b64 "$USER_IP" USERFOREST.TEST alice); sb=$(sid_b64 "$USER_IP" USERFOREST.TEST bob)
  sc=$(sid_b64 "$USER_IP" USERFOREST.TEST carol); sd=$(sid_b64 "$USER_IP" USERFOREST.TEST dave)
  {
    cat <<EOF
dn: CN=alice,CN=Users,$rb
changetype: add
objectClass: user
sAMAccountName: alice
userAccountControl: 514
displayName: Alice Test
mail: alice@contoso.com
msExchMasterAccountSid:: $sa
msRTCSIP-PrimaryUserAddress: sip:alice@contoso.com
msRTCSIP-UserEnabled: TRUE
msRTCSIP-OptionFlags: 256
proxyAddresses: SMTP:alice@contoso.com
proxyAddresses: sip:alice@contoso.com

dn: CN=bob,CN=Users,$rb
changetype: add
objectClass: user
sAMAccountName: bob
userAccountControl: 514
displayName: Bob Test
mail: bob@contoso.com
msExchMasterAccountSid:: $sb
msRTCSIP-OriginatorSid:: $sb
msRTCSIP-PrimaryUserAddress: sip:bob@contoso.com
msRTCSIP-UserEnabled: TRUE
msRTCSIP-Line: tel:+14255550106
msRTCSIP-OptionFlags: 385

dn: CN=carol,CN=Users,$rb
changetype: add
objectClass: user
sAMAccountName: carol
userAccountControl: 514
mail: carol@contoso.com
msExchMasterAccountSid:: $sc
msRTCSIP-OriginatorSid:: $sd
msRTCSIP-PrimaryUserAddress: sip:carol@contoso.com
msRTCSIP-UserEnabled: TRUE

dn: CN=dave,CN=Users,$rb
changetype: add
objectClass: user
sAMAccountName: dave
userAccountControl: 514
msExchHideFromAddressLists: TRUE
msRTCSIP-PrimaryUserAddress: sip:dave@contoso.com
msRTCSIP-UserEnabled: FALSE

dn: CN=Sales,CN=Users,$rb
changetype: add
objectClass: group
sAMAccountName: sales
groupType: -2147483646
mail: sales@contoso.com
proxyAddresses: SMTP:sales@contoso.com
proxyAddresses: sip:alice@contoso.com
member: CN=alice,CN=Users,$rb
member: CN=bob,CN=Users,$rb

dn: CN=Erin Ext,CN=Users,$rb
changetype: add
objectClass: contact
mail: erin@fabrikam.com
msRTCSIP-PrimaryUserAddress: sip:erin@fabrikam.com

EOF
    for i in $(seq -w 1 30); do
      printf 'dn: CN=bulk%s,CN=Users,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: bulk%s\nuserAccountControl: 514\nmsRTCSIP-PrimaryUserAddress: sip:bulk%s@contoso.com\n\n' "$i" "$rb" "$i" "$i"
    done
  } >"$rd/seed.ldif"
  ldapmod "$RES_IP" RESFOREST.TEST "$rd/seed.ldif"
}

# env_lines PREFIX DIR IP REALM DOMAIN: the KEY=VALUE lines of one forest.
env_lines() {
  local p="ABKIT_SAMBA_$1" dir="$2" ip="$3" realm="$4" domain="$5"
  cat <<EOF
${p}_URL=ldap://$ip
${p}_LDAPS_URL=ldaps://$ip
${p}_GC_URL=ldap://$ip:3268
${p}_BASE=$(base_of "$realm")
${p}_BIND=Administrator@$(echo "$realm" | tr 'A-Z' 'a-z')
${p}_DOMAIN=$domain
${p}_HOST=$(cat "$dir/fqdn")
${p}_CA=$dir/tls/ca.pem
EOF
}

start() {
  install
  stop
  trap 'echo "samba test servers did not start; stopping what was started" >&2; stop' ERR
  mkdir -p "$STATE"
  # provision both forests at once (each takes several seconds)
  provision "$STATE/user" "$USER_IP" USERFOREST.TEST USERFOREST &
  local p1=$!
  provision "$STATE/res" "$RES_IP" RESFOREST.TEST RESFOREST &
  local p2=$!
  wait "$p1" || { echo "provisioning USERFOREST failed (see $STATE/user/provision.log)" >&2; exit 1; }
  wait "$p2" || { echo "provisioning RESFOREST failed (see $STATE/res/provision.log)" >&2; exit 1; }
  run_dc "$STATE/user" "$USER_IP" || { stop; exit 1; }
  run_dc "$STATE/res" "$RES_IP" || { stop; exit 1; }
  for f in user:"$USER_IP":USERFOREST.TEST res:"$RES_IP":RESFOREST.TEST; do
    IFS=: read -r d ip realm <<<"$f"
    sed "s/DC=X/$(base_of "$realm")/g" "$HERE/ocs-schema.ldf" >"$STATE/$d/ocs-schema.ldf"
    ldapmod "$ip" "$realm" "$STATE/$d/ocs-schema.ldf"
  done
  # Windows DCs carry ldap/<fqdn> service principals; a fresh Samba DC has only host/ ones.
  samba-tool spn add "ldap/$(cat "$STATE/user/fqdn")" 'DC-USERFOREST$' -s "$STATE/user/etc/smb.conf" >/dev/null
  samba-tool spn add "ldap/$(cat "$STATE/res/fqdn")" 'DC-RESFOREST$' -s "$STATE/res/etc/smb.conf" >/dev/null
  samba-tool domain exportkeytab "$STATE/user/admin.keytab" --principal=Administrator@USERFOREST.TEST \
    -s "$STATE/user/etc/smb.conf" >/dev/null
  seed
  cat >"$STATE/krb5.conf" <<EOF
[libdefaults]
	default_realm = USERFOREST.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	udp_preference_limit = 1
[realms]
	USERFOREST.TEST = {
		kdc = $USER_IP
	}
	RESFOREST.TEST = {
		kdc = $RES_IP
	}
[domain_realm]
	.userforest.test = USERFOREST.TEST
	.resforest.test = RESFOREST.TEST
EOF
  echo "samba pids $(cat "$STATE/user/samba.mypid") (USERFOREST on $USER_IP), $(cat "$STATE/res/samba.mypid") (RESFOREST on $RES_IP)" >&2
  env_lines USER "$STATE/user" "$USER_IP" USERFOREST.TEST USERFOREST
  env_lines RES "$STATE/res" "$RES_IP" RESFOREST.TEST RESFOREST
  cat <<EOF
ABKIT_SAMBA_PASSWORD=$PASS
ABKIT_SAMBA_KRB5_CONF=$STATE/krb5.conf
ABKIT_SAMBA_USER_KEYTAB=$STATE/user/admin.keytab
ABKIT_SAMBA_STATE=$STATE
EOF
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  sidhistory) /usr/bin/python3 "$HERE/sidhistory.py" "$STATE/user/etc/smb.conf" "$3" "$4" ;;
  *) echo "usage: $0 start|stop|sidhistory STATEDIR" >&2; exit 2 ;;
esac
