// Package change is abkit's one write path to a directory: every command that changes entries
// (sidmap apply, undo and sync-attrs, dupes fix and undo) hands it a list of Items and a Policy
// and gets back one Result.
//
// An Item is a DN, the values the entry must still hold and the values it gets: one LDAP modify
// that deletes the first and adds the second, so the server refuses it when the entry changed
// since the plan (the change is then read back, and counts as done when the entry already holds
// the target). Before the first write the engine checks every item against the Policy (only the
// allowlisted attributes, only DNs under the configured base), takes a lock next to the journal,
// and writes and fsyncs the undo file and the journal header, which records the undo file's
// hash. Items run concurrently, or in LDAP transactions (RFC 5805) of BatchSize when the server
// offers them; a batch that does not commit is retried change by change. A re-run with the same
// journal resumes: it skips what is done and re-sends the rest conditionally, which resolves the
// changes that were in flight when a run was cut.
//
// PrepareUndo turns an undo file back into items: only when the journal of the run that wrote it
// records its hash, and only for the items that run applied.
package change
