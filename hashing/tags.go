package hashing

import "net/url"

// Tags returns the sqlcommenter tags of sql: the key='value' pairs of its
// block comments, such as /*route='screening',controller='search'*/, with
// keys and values URL-decoded (a value that does not decode is kept as it
// is) and \' escapes resolved. Comments that are not a well-formed tag list
// are ignored; when several comments hold tags, a later key wins. Tags
// returns nil when sql has no tags.
func Tags(sql string) map[string]string {
	var m map[string]string
	l := lexer{s: sql}
	for {
		t := l.next()
		switch t.kind {
		case tkEOF:
			return m
		case tkComment:
			c := sql[t.start:t.end]
			if len(c) < 4 || c[0] != '/' || c[len(c)-2] != '*' || c[len(c)-1] != '/' {
				continue
			}
			m = parseTags(c[2:len(c)-2], m)
		}
	}
}

// parseTags parses key='value'(,key='value')* into m (allocated on the
// first tag); malformed text leaves m unchanged.
func parseTags(s string, m map[string]string) map[string]string {
	type kv struct{ k, v string }
	var pairs []kv
	i := 0
	skip := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	for {
		skip()
		if i >= len(s) {
			break
		}
		ks := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != '\'' && !isSpace(s[i]) {
			i++
		}
		key := s[ks:i]
		skip()
		if key == "" || i >= len(s) || s[i] != '=' {
			return m
		}
		i++
		skip()
		if i >= len(s) || s[i] != '\'' {
			return m
		}
		i++
		var val []byte
		closed := false
		for i < len(s) {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				val = append(val, s[i+1])
				i += 2
				continue
			}
			if c == '\'' {
				closed = true
				i++
				break
			}
			val = append(val, c)
			i++
		}
		if !closed {
			return m
		}
		pairs = append(pairs, kv{decode(key), decode(string(val))})
		skip()
		if i < len(s) {
			if s[i] != ',' {
				return m
			}
			i++
		}
	}
	if len(pairs) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string]string, len(pairs))
	}
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m
}

func decode(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
