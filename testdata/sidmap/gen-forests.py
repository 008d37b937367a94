#!/usr/bin/env python3
"""Writes forests-user.ldif, forests-user2.ldif and forests-res.ldif: the resource- and
central-forest cases of issue 10, loaded by server.sh into sidmap's private slapd (under
ou=Forests of dc=userforest, the suffix dc=userforest2, and ou=Forests / ou=Central of dc=resforest).
Usage: python3 gen-forests.py   (deterministic output)

  ou=Forests,dc=resforest (disabled, SIP-enabled accounts; resource topology):
    Room 101      msExchMasterAccountSid SELF (S-1-5-10)          -> skipped
    Mia Moved     master SID = her OLD-domain SID, now in the       -> set by sid-history
                  sIDHistory of Mia in dc=userforest
    Bea Boss      master SID = Bea's objectSid (dc=userforest)      -> set by master-sid
    Ned North     master SID = Ned's objectSid in dc=userforest2    -> set by master-sid (2nd forest)
    Hal History   no master SID; msExchMasterAccountHistory = Hal's -> set by master-sid-history
    Sam Stranger  master SID of a domain in no configured forest    -> conflict
  ou=Central,dc=resforest (SIP-enabled contacts; central topology):
    Kim Contact   mail and sip address of Kim's mailbox             -> set by proxy
    Lou Contact   mail of Lou's mailbox, a sip address not in it    -> set by proxy; verify finding
"""
import base64, struct, uuid

def sid(s):
    p = s.split('-')
    subs = [int(x) for x in p[3:]]
    return bytes([1, len(subs)]) + int(p[2]).to_bytes(6, 'big') + b''.join(struct.pack('<I', x) for x in subs)

def b64(b): return base64.b64encode(b).decode()

UF = 'S-1-5-21-1004336348-1177238915-682003330'   # dc=userforest (testdata/slapd/gen-seed.py)
UF2 = 'S-1-5-21-2000000001-2000000002-2000000003' # dc=userforest2
OLD = 'S-1-5-21-1111111111-2222222222-333333333'  # a domain Mia was migrated from
FOREIGN = 'S-1-5-21-999999999-999999999-999999999'
RF = 'S-1-5-21-3623811015-3361044348-30300820'
UB, U2B, RB = 'dc=userforest,dc=test', 'dc=userforest2,dc=test', 'dc=resforest,dc=test'
PHOTO = bytes(range(256)) + b'\xff\xd8\xff\xe0\x00'  # every byte value: compared byte-exact

def entry(out, dn, *lines):
    out.append('dn: ' + dn)
    out.extend(l for l in lines if l)
    out.append('')

def guid(dn): return 'objectGUID:: ' + b64(uuid.uuid5(uuid.NAMESPACE_URL, dn).bytes_le)

def user(out, dn, sam, s, uac, *extra):
    cn = dn.split(',')[0][3:]
    entry(out, dn, 'objectClass: top', 'objectClass: user', 'cn: ' + cn, 'sn: ' + cn.split()[-1],
          'sAMAccountName: ' + sam, 'objectSid:: ' + b64(sid(s)), guid(dn), 'userAccountControl: %d' % uac, *extra)

def ou(out, base, name):
    entry(out, 'ou=%s,%s' % (name, base), 'objectClass: top', 'objectClass: organizationalUnit', 'ou: ' + name)

u = []
ou(u, UB, 'Forests')
F = 'ou=Forests,' + UB
user(u, 'cn=Bea Boss,' + F, 'fz-bea', UF + '-3002', 512, 'displayName: Bea Boss', 'title: Director',
     'mail: bea@contoso.com', 'proxyAddresses: SMTP:bea@contoso.com', 'proxyAddresses: sip:bea@contoso.com')
user(u, 'cn=Mia Moved,' + F, 'fz-mia', UF + '-3001', 512, 'sIDHistory:: ' + b64(sid(OLD + '-5001')),
     'displayName: Mia Moved', 'givenName: Mia', 'title: Engineer', 'telephoneNumber: +1 425 555 0142',
     'physicalDeliveryOfficeName: B2/1142', 'l: Redmond', 'st: WA', 'c: US', 'co: United States',
     'countryCode: 840', 'company: Contoso', 'department: R&D', 'mail: mia@contoso.com',
     'thumbnailPhoto:: ' + b64(PHOTO), 'manager: cn=Bea Boss,' + F)
user(u, 'cn=Hal History,' + F, 'fz-hal', UF + '-3005', 512, 'displayName: Hal History')
user(u, 'cn=Kim Mailbox,' + F, 'fz-kim', UF + '-3003', 512, 'mail: kim@contoso.com',
     'proxyAddresses: SMTP:kim@contoso.com', 'proxyAddresses: sip:kim@contoso.com')
user(u, 'cn=Lou Mailbox,' + F, 'fz-lou', UF + '-3004', 512, 'mail: lou@contoso.com',
     'proxyAddresses: SMTP:lou@contoso.com', 'proxyAddresses: sip:lou@contoso.com')

u2 = []
entry(u2, U2B, 'objectClass: top', 'objectClass: domain', 'objectClass: extensibleObject', 'dc: userforest2',
      'objectSid:: ' + b64(sid(UF2)))  # the domain object: its objectSid is the domain SID
ou(u2, U2B, 'Users')
user(u2, 'cn=Ned North,ou=Users,' + U2B, 'fz-ned', UF2 + '-4001', 512, 'displayName: Ned North')

r = []
ou(r, RB, 'Forests')
ou(r, RB, 'Central')
RF_ = 'ou=Forests,' + RB
sip = lambda s: ('msRTCSIP-UserEnabled: TRUE', 'msRTCSIP-PrimaryUserAddress: sip:%s@contoso.com' % s)
ms = lambda s: 'msExchMasterAccountSid:: ' + b64(sid(s))
user(r, 'cn=Room 101,' + RF_, 'fz-room101', RF + '-6001', 514, ms('S-1-5-10'), *sip('room101'))
user(r, 'cn=Mia Moved,' + RF_, 'fz-mia-r', RF + '-6002', 514, ms(OLD + '-5001'), *sip('mia'), 'displayName: Mia')
user(r, 'cn=Bea Boss,' + RF_, 'fz-bea-r', RF + '-6003', 514, ms(UF + '-3002'), *sip('bea'))
user(r, 'cn=Ned North,' + RF_, 'fz-ned-r', RF + '-6004', 514, ms(UF2 + '-4001'), *sip('ned'))
user(r, 'cn=Hal History,' + RF_, 'fz-hal-r', RF + '-6006', 514, 'msExchMasterAccountHistory:: ' + b64(sid(UF + '-3005')), *sip('hal'))
user(r, 'cn=Sam Stranger,' + RF_, 'fz-sam-r', RF + '-6005', 514, ms(FOREIGN + '-7001'), *sip('sam.stranger'))
for cn, mail, addr in [('Kim Contact', 'kim@contoso.com', 'kim'), ('Lou Contact', 'lou@contoso.com', 'lou.other')]:
    dn = 'cn=%s,ou=Central,%s' % (cn, RB)
    entry(r, dn, 'objectClass: top', 'objectClass: contact', 'cn: ' + cn, 'sn: Contact', guid(dn),
          'mail: ' + mail, 'msRTCSIP-UserEnabled: TRUE', 'msRTCSIP-PrimaryUserAddress: sip:%s@contoso.com' % addr)

for name, recs in [('forests-user.ldif', u), ('forests-user2.ldif', u2), ('forests-res.ldif', r)]:
    open(name, 'w').write('\n'.join(recs))
