package sidmap

// SyncAttrAllowlist are the only attributes sync-attrs may copy (and sidmap undo restore):
// descriptive attributes that clients show or search. Identity, security, delegation, logon and
// mapping attributes are not on it, so they can never be written, whatever a plan says.
var SyncAttrAllowlist = []string{
	"displayName", "givenName", "sn", "initials", "telephoneNumber", "mobile", "ipPhone", "homePhone",
	"otherTelephone", "facsimileTelephoneNumber", "pager", "physicalDeliveryOfficeName", "streetAddress",
	"postalCode", "postOfficeBox", "l", "st", "c", "co", "countryCode", "title", "mail", "company",
	"department", "description", "wWWHomePage", "thumbnailPhoto", "manager",
}

// syncAllowed reports whether sync-attrs may copy attribute a (case-insensitive).
func syncAllowed(a string) bool { return Policy(KindSyncAttrs, "").Allows(a) }
