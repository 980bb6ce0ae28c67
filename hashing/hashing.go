package hashing

import (
	"crypto/md5"
	"encoding/hex"
	"unsafe"
)

// QueryHash returns the lower-case hex MD5 of the exact bytes of sql, with no
// trimming or normalisation: the query_hash of every record.
func QueryHash(sql string) string {
	// md5.Sum only reads its argument: no copy of the statement (the query
	// log hashes every record's).
	return hexMD5(unsafe.Slice(unsafe.StringData(sql), len(sql)))
}

// TemplateHash returns the lower-case hex MD5 of Fingerprint(sql): the
// grouping key of reports and the robust join key to profiles.
func TemplateHash(sql string) string {
	h, _ := templateHash(sql)
	return h
}

// templateHash returns TemplateHash(sql) and whether a literal's value
// decided part of the fingerprint behind it.
func templateHash(sql string) (string, bool) {
	fp, valueDep := appendFingerprint(make([]byte, 0, len(sql)), sql)
	return hexMD5(fp), valueDep
}

// hexMD5 returns the lower-case hex MD5 of b.
func hexMD5(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}
