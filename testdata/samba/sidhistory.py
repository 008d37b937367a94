#!/usr/bin/python3
"""sidhistory.py SMB_CONF DN SID_BASE64 -- add a value to the sIDHistory of DN.

Samba refuses sIDHistory over LDAP (as AD does: only DsAddSidHistory, a migration tool, writes
it), so this writes it through Samba's own Python bindings on the local database, as the system
session. The running DC sees the change at once. Needs Samba's python3 (/usr/bin/python3)."""
import base64, sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

conf, dn, sid = sys.argv[1:4]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
m = ldb.Message()
m.dn = ldb.Dn(db, dn)
m["sIDHistory"] = ldb.MessageElement([base64.b64decode(sid)], ldb.FLAG_MOD_ADD, "sIDHistory")
db.modify(m)
