package investigate

import (
	"regexp"
	"strings"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// MaskSQL returns sql with every literal replaced by ?, as package hashing's
// Fingerprint normalises it: what a statement looks like without the
// customer values in it.
func MaskSQL(sql string) string { return hashing.Fingerprint(sql) }

var (
	quotedRE = regexp.MustCompile(`'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"`)
	emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	secretRE = regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization)\b(\s*[=:]\s*|\s+)(\S+)`)
	dsnRE    = regexp.MustCompile(`://([^:/@\s]+):([^@\s]+)@`)
	longNum  = regexp.MustCompile(`\b\d{9,}\b`)
)

// MaskText masks what may be sensitive in free text before it leaves the
// process (to a model, an MCP client): quoted strings, e-mail addresses,
// credentials after password=, token: and the like, passwords in URLs, and
// numbers of nine digits or more (card, account and phone numbers).
// Identifiers, metric names and short numbers stay, so the text still
// explains what happened.
func MaskText(s string) string {
	s = dsnRE.ReplaceAllString(s, "://$1:***@")
	s = secretRE.ReplaceAllString(s, "$1$2***")
	s = quotedRE.ReplaceAllStringFunc(s, func(q string) string { return q[:1] + "?" + q[:1] })
	s = emailRE.ReplaceAllString(s, "<email>")
	s = longNum.ReplaceAllString(s, "<number>")
	return s
}

// maskExcerpt masks one evidence excerpt: as SQL when the tool saw SQL.
func maskExcerpt(tool, s string) string {
	if tool == ToolSQL || tool == ToolShadow {
		return MaskText(s)
	}
	if st := strings.TrimSpace(s); len(st) > 6 && strings.EqualFold(st[:6], "select") {
		return MaskSQL(st)
	}
	return MaskText(s)
}
