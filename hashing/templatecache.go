package hashing

import "encoding/binary"

// TemplateCache computes TemplateHash for a stream of statements, caching
// by statement shape: statements whose tokens are the same except for the
// values of their literals (SELECT c FROM t WHERE id=1, ... id=2) have the
// same template, so each shape is fingerprinted once. Finding a statement's
// shape is lexing it, about half of the work of fingerprinting it, and the
// MD5 of the template is saved too. A shape whose template depends on a
// literal's value (ORDER BY 2) is never cached.
//
// It suits hot paths that see many statements of few shapes, such as a
// query log. It holds a bounded number of shapes, clearing itself when full,
// each under a key of at most 4 KiB (longer statements are fingerprinted
// every time). It is not safe for concurrent use.
type TemplateCache struct {
	max    int
	shapes map[string]string // shape key -> template hash
	key    []byte
}

// NewTemplateCache returns a TemplateCache of at most size shapes (at least
// 1).
func NewTemplateCache(size int) *TemplateCache {
	return &TemplateCache{max: max(size, 1), shapes: make(map[string]string)}
}

// maxShapeKey bounds the key of a cached shape: longer statements are
// fingerprinted every time rather than kept.
const maxShapeKey = 4 << 10

// TemplateHash returns TemplateHash(sql).
func (c *TemplateCache) TemplateHash(sql string) string {
	key, ok := appendShapeKey(c.key[:0], sql)
	if !ok {
		return TemplateHash(sql)
	}
	c.key = key
	if h, ok := c.shapes[string(key)]; ok {
		return h
	}
	h, valueDep := templateHash(sql)
	if !valueDep {
		if len(c.shapes) >= c.max {
			clear(c.shapes)
		}
		c.shapes[string(c.key)] = h
	}
	return h
}

// appendShapeKey appends the shape of sql to dst: the kind of every token
// the fingerprint reads, with the text of each token but literals.
// Comments and hints, which the fingerprint skips, are left out. Two
// statements with the same key differ only in the values of their literals,
// and the fingerprint depends on those only where it reports valueDep. It
// reports false, and stops, when the key would pass maxShapeKey.
func appendShapeKey(dst []byte, sql string) ([]byte, bool) {
	lx := lexer{s: sql}
	for start := len(dst); len(dst)-start <= maxShapeKey; {
		t := lx.next()
		switch t.kind {
		case tkEOF:
			return dst, true
		case tkComment, tkHint:
			continue
		case tkString, tkNumber, tkHex, tkParam:
			dst = append(dst, byte(t.kind))
		default:
			dst = append(dst, byte(t.kind))
			dst = binary.AppendUvarint(dst, uint64(t.end-t.start))
			dst = append(dst, sql[t.start:t.end]...)
		}
	}
	return dst, false
}
