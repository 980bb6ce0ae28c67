// Package hashing holds pure functions on SQL text that every other package
// uses: QueryHash (the MD5 of the exact text), the normalised template
// (Fingerprint, TemplateHash), statement splitting and classification,
// sqlcommenter tag extraction and deterministic obfuscation.
package hashing
