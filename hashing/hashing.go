package hashing

import (
	"crypto/md5"
	"encoding/hex"
)

// QueryHash returns the lower-case hex MD5 of the exact bytes of sql, with no
// trimming or normalisation: the query_hash of every record.
func QueryHash(sql string) string {
	sum := md5.Sum([]byte(sql))
	return hex.EncodeToString(sum[:])
}

// TemplateHash returns the lower-case hex MD5 of Fingerprint(sql): the
// grouping key of reports and the robust join key to profiles.
func TemplateHash(sql string) string {
	fp, _ := appendFingerprint(make([]byte, 0, len(sql)), sql)
	sum := md5.Sum(fp)
	return hex.EncodeToString(sum[:])
}
