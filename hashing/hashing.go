package hashing

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// QueryHash returns the lower-case hex MD5 of the exact bytes of sql, with no
// trimming or normalisation: the query_hash of every record.
func QueryHash(sql string) string {
	sum := md5.Sum([]byte(sql))
	return hex.EncodeToString(sum[:])
}

// Fingerprint returns the normalised template of sql.
//
// TEMPORARY first cut (lower-cases and collapses whitespace only); the
// hashing issue replaces it with the full normalisation.
func Fingerprint(sql string) string {
	return strings.Join(strings.Fields(strings.ToLower(sql)), " ")
}

// TemplateHash returns the lower-case hex MD5 of Fingerprint(sql): the
// grouping key of reports and the robust join key to profiles.
func TemplateHash(sql string) string { return QueryHash(Fingerprint(sql)) }
