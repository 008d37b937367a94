#!/usr/bin/env python3
"""Writes user.ldif and res.ldif: the small two-forest snapshot the sidmap CLI tests read.
Usage: python3 gen-fixtures.py   (deterministic output)"""
import base64, struct, uuid

def sid(s):
    p = s.split('-')
    subs = [int(x) for x in p[3:]]
    return bytes([1, len(subs)]) + int(p[2]).to_bytes(6, 'big') + b''.join(struct.pack('<I', x) for x in subs)

def b64(b): return base64.b64encode(b).decode()

UF, RF = 'S-1-5-21-1004336348-1177238915-682003330', 'S-1-5-21-3623811015-3361044348-30300820'
UB, RB = 'dc=userforest,dc=test', 'dc=resforest,dc=test'

def entry(out, dn, *lines):
    out.append('dn: ' + dn)
    out.extend(l for l in lines if l)
    out.append('')

def acct(out, base, cn, sam, s, uac, *extra):
    entry(out, 'cn=%s,ou=Users,%s' % (cn, base), 'objectClass: top', 'objectClass: user', 'cn: ' + cn,
          'sAMAccountName: ' + sam, 'objectSid:: ' + b64(sid(s)),
          'objectGUID:: ' + b64(uuid.uuid5(uuid.NAMESPACE_URL, base + cn).bytes_le),
          'userAccountControl: %d' % uac, *extra)

u = []
acct(u, UB, 'Alice Able', 'alice', UF + '-1105', 512, 'displayName: Alice Able', 'title: CFO')
acct(u, UB, 'Bob Baker', 'bob', UF + '-1106', 512, 'displayName: Bob Baker')
acct(u, UB, 'Carol Clark', 'carol', UF + '-1107', 512, 'displayName: Carol Clark')
acct(u, UB, 'Dave Dunn', 'dave', UF + '-1108', 514, 'displayName: Dave Dunn')
acct(u, UB, 'Erin Eve', 'erin', UF + '-1109', 512)
acct(u, UB, 'Erin Two', 'erin2', UF + '-1110', 512)

r = []
ms = lambda n: 'msExchMasterAccountSid:: ' + b64(sid(UF + '-%d' % n))
os_ = lambda n: 'msRTCSIP-OriginatorSid:: ' + b64(sid(UF + '-%d' % n))
sip = lambda s: ('msRTCSIP-UserEnabled: TRUE', 'msRTCSIP-PrimaryUserAddress: sip:%s@contoso.com' % s)
acct(r, RB, 'Alice Able', 'alice-r', RF + '-2101', 514, ms(1105), *sip('alice'), 'displayName: Alice')   # set by master-sid
acct(r, RB, 'Bob Baker', 'bob', RF + '-2102', 514, os_(1106), *sip('bob'))                              # none: mapped
acct(r, RB, 'Carol Clark', 'carol', RF + '-2103', 514, os_(1108), *sip('carol'))                        # conflict: mismatch
acct(r, RB, 'Dave Dunn', 'dave', RF + '-2104', 514, *sip('dave'))                                       # conflict: user disabled
acct(r, RB, 'Erin Eve', 'erin', RF + '-2105', 514, 'mail: erin@contoso.com', *sip('erin'))              # set by sam
acct(r, RB, 'Nobody', 'nobody', RF + '-2106', 514, *sip('nobody'))                                      # conflict: no match
acct(r, RB, 'Enabled', 'erin2', RF + '-2107', 512, *sip('enabled'))                                     # not a candidate

open('user.ldif', 'w').write('\n'.join(u))
open('res.ldif', 'w').write('\n'.join(r))
