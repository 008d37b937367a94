package cli

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// kerberosDefaults returns the credential cache and krb5.conf of the logged-on user, as MIT and
// Heimdal tools find them, for the current-user sign-in on Linux and macOS: $KRB5CCNAME when it
// names a file cache (FILE:path or a bare path), else /tmp/krb5cc_<uid>; $KRB5_CONFIG ("" lets
// the library use /etc/krb5.conf). On Windows both are "" (SSPI needs neither). A cache of
// another kind (KEYRING:, KCM:, API:, DIR:) cannot be read: the error says how to get a file one.
func kerberosDefaults(getenv func(string) string, goos string, uid int) (ccache, conf string, err error) {
	if goos == "windows" {
		return "", "", nil
	}
	conf = getenv("KRB5_CONFIG")
	name := getenv("KRB5CCNAME")
	if name == "" {
		return "/tmp/krb5cc_" + strconv.Itoa(uid), conf, nil
	}
	kind, path, ok := strings.Cut(name, ":")
	switch {
	case !ok || strings.HasPrefix(name, "/"):
		return name, conf, nil
	case strings.EqualFold(kind, "FILE"):
		return path, conf, nil
	}
	return "", "", fmt.Errorf("KRB5CCNAME=%s is a %s credential cache, which abkit cannot read: sign in into a file cache (export KRB5CCNAME=FILE:/tmp/krb5cc_%d; kinit) or set ccache: in the configuration", name, kind, uid)
}

// userKerberos is kerberosDefaults for this process.
func userKerberos() (ccache, conf string, err error) {
	return kerberosDefaults(os.Getenv, runtime.GOOS, os.Getuid())
}
