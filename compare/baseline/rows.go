package baseline

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strconv"
	"strings"
)

// resultSet is one side's full answer, in canonical form.
type resultSet struct {
	columns []string
	float   []bool // per column: FLOAT/DOUBLE, compared within a tolerance
	rows    []rowValues
}

// rowValues is a canonical row: exact holds the canonical text of every
// non-float column (length-prefixed, NULL distinct from every value), floats
// the values of the float columns (NaN for NULL), text the row for people.
type rowValues struct {
	exact  string
	floats []float64
	text   []*string
}

func fetch(ctx context.Context, c *sql.Conn, q string) (*resultSet, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &resultSet{}
	kinds := make([]string, len(cols))
	for i, ct := range cols {
		res.columns = append(res.columns, ct.Name())
		kinds[i] = strings.ToUpper(ct.DatabaseTypeName())
		res.float = append(res.float, kinds[i] == "FLOAT" || kinds[i] == "DOUBLE")
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		res.rows = append(res.rows, canonicalRow(raw, kinds, res.float))
	}
	return res, rows.Err()
}

// drain runs q and reads every row without keeping it, returning the count.
func drain(ctx context.Context, c *sql.Conn, q string) (int, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func canonicalRow(raw []sql.RawBytes, kinds []string, float []bool) rowValues {
	var r rowValues
	var b strings.Builder
	r.text = make([]*string, len(raw))
	for i, v := range raw {
		if v != nil {
			s := string(v)
			r.text[i] = &s
		}
		if float[i] {
			if v == nil {
				r.floats = append(r.floats, math.NaN())
			} else {
				f, err := strconv.ParseFloat(string(v), 64)
				if err != nil {
					f = math.Inf(1) // unparsable: equal only to itself below
				}
				r.floats = append(r.floats, f)
			}
			continue
		}
		if v == nil {
			b.WriteString("N;")
			continue
		}
		s := string(v)
		if kinds[i] == "DECIMAL" || kinds[i] == "NEWDECIMAL" {
			s = decimal(s)
		}
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	r.exact = b.String()
	return r
}

// normaliseDecimal makes "1.50", "1.5" and "01.5" the same text.
func decimal(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "" || strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	if neg && s != "0" {
		s = "-" + s
	}
	return s
}

// RowsComparison is the rows evidence of a Report.
type RowsComparison struct {
	// Equal is true when both sides returned the same multiset of rows (and,
	// when the query orders its output, in the same order up to ties).
	Equal bool `json:"equal"`
	// ColumnsEqual is false when the number of columns or their kind
	// (float or exact) differs: then no row can match.
	ColumnsEqual bool `json:"columns_equal"`
	// NamesDiffer is set when only the column names differ (an alias the
	// rewrite changed): reported, but not a difference of rows, since
	// clients that read columns by position see the same answer.
	NamesDiffer bool `json:"names_differ,omitempty"`
	// Ordered says whether the order was checked (the query has ORDER BY);
	// OrderEqual whether it matched.
	Ordered    bool `json:"ordered"`
	OrderEqual bool `json:"order_equal"`
	// BaselineOnly and CandidateOnly count the rows found on one side only.
	BaselineOnly  int `json:"baseline_only"`
	CandidateOnly int `json:"candidate_only"`
	// Examples are the first differing rows.
	Examples []RowExample `json:"examples,omitempty"`
}

// RowExample is one row found on one side only, or the first position where
// the order differs.
type RowExample struct {
	// Side is "baseline", "candidate", or "order" for an order difference.
	Side string    `json:"side"`
	Row  []*string `json:"row"`
	// Position is the row's index in its side's output.
	Position int `json:"position"`
}

func compareRows(b, c *resultSet, keys []int, tol float64, maxExamples int) RowsComparison {
	rc := RowsComparison{ColumnsEqual: len(b.columns) == len(c.columns) && slices.Equal(b.float, c.float)}
	if !rc.ColumnsEqual {
		rc.BaselineOnly, rc.CandidateOnly = len(b.rows), len(c.rows)
		return rc
	}
	type posRow struct {
		pos int
		row rowValues
	}
	group := func(rows []rowValues) map[string][]posRow {
		m := map[string][]posRow{}
		for i, r := range rows {
			m[r.exact] = append(m[r.exact], posRow{i, r})
		}
		return m
	}
	for i := range b.columns {
		if !strings.EqualFold(b.columns[i], c.columns[i]) {
			rc.NamesDiffer = true
		}
	}
	bg, cg := group(b.rows), group(c.rows)
	var examples []RowExample
	addExample := func(side string, pr posRow) {
		examples = append(examples, RowExample{Side: side, Row: pr.row.text, Position: pr.pos})
	}
	byFloats := func(x, y posRow) int { return slices.Compare(x.row.floats, y.row.floats) }
	for key, bs := range bg {
		cs := cg[key]
		slices.SortFunc(bs, byFloats)
		slices.SortFunc(cs, byFloats)
		// Match float vectors in sorted order within the tolerance.
		i, j := 0, 0
		for i < len(bs) && j < len(cs) {
			switch floatsCmp(bs[i].row.floats, cs[j].row.floats, tol) {
			case 0:
				i++
				j++
			case -1:
				rc.BaselineOnly++
				addExample("baseline", bs[i])
				i++
			default:
				rc.CandidateOnly++
				addExample("candidate", cs[j])
				j++
			}
		}
		for ; i < len(bs); i++ {
			rc.BaselineOnly++
			addExample("baseline", bs[i])
		}
		for ; j < len(cs); j++ {
			rc.CandidateOnly++
			addExample("candidate", cs[j])
		}
	}
	for key, cs := range cg {
		if _, ok := bg[key]; ok {
			continue
		}
		for _, pr := range cs {
			rc.CandidateOnly++
			addExample("candidate", pr)
		}
	}
	slices.SortFunc(examples, func(x, y RowExample) int {
		if x.Position != y.Position {
			return x.Position - y.Position
		}
		return strings.Compare(x.Side, y.Side)
	})
	if len(examples) > maxExamples {
		examples = examples[:maxExamples]
	}
	rc.Examples = examples
	rc.Equal = rc.BaselineOnly == 0 && rc.CandidateOnly == 0 && rc.ColumnsEqual
	if rc.Equal && keys != nil {
		rc.Ordered = true
		rc.OrderEqual = true
		for i := range b.rows {
			if sortKey(b.rows[i], keys, b.float, tol) != sortKey(c.rows[i], keys, c.float, tol) {
				rc.OrderEqual = false
				rc.Equal = false
				rc.Examples = append(rc.Examples, RowExample{Side: "order", Row: c.rows[i].text, Position: i})
				break
			}
		}
	}
	return rc
}

// floatsCmp compares float vectors with a relative tolerance; NaN (NULL)
// equals only NaN.
func floatsCmp(a, b []float64, tol float64) int {
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			continue
		case math.IsNaN(x):
			return -1
		case math.IsNaN(y):
			return 1
		case x == y || math.Abs(x-y) <= tol*math.Max(math.Abs(x), math.Abs(y)):
			continue
		case x < y:
			return -1
		default:
			return 1
		}
	}
	return 0
}

// sortKey is the canonical text of the ORDER BY columns of a row (floats
// rounded to the tolerance's precision), or of the whole row when keys is
// empty.
func sortKey(r rowValues, keys []int, float []bool, tol float64) string {
	if len(keys) == 0 {
		keys = make([]int, len(r.text))
		for i := range keys {
			keys[i] = i
		}
	}
	digits := int(math.Max(1, math.Min(15, -math.Log10(tol))))
	var b strings.Builder
	for _, k := range keys {
		if k >= len(r.text) {
			continue
		}
		v := r.text[k]
		switch {
		case v == nil:
			b.WriteString("N;")
		case float[k]:
			f, _ := strconv.ParseFloat(*v, 64)
			b.WriteString(strconv.FormatFloat(f, 'g', digits, 64) + ";")
		default:
			b.WriteString(strconv.Itoa(len(*v)) + ":" + *v)
		}
	}
	return b.String()
}

func firstRows(r *resultSet, k int) [][]*string {
	var out [][]*string
	for i := 0; i < len(r.rows) && i < k; i++ {
		out = append(out, r.rows[i].text)
	}
	return out
}

// orderKeys finds the output columns the statement's top-level ORDER BY
// sorts on. It returns nil when there is no ORDER BY (order is not
// compared), and an empty slice when an item cannot be resolved to an
// output column (the whole rows' order is compared).
func orderKeys(stmt string, columns []string) []int {
	tokens := topLevelTokens(stmt)
	at := -1
	for i := 0; i+1 < len(tokens); i++ {
		if strings.EqualFold(tokens[i], "ORDER") && strings.EqualFold(tokens[i+1], "BY") {
			at = i + 2
		}
	}
	if at < 0 {
		return nil
	}
	keys := []int{}
	var item []string
	flush := func() bool {
		defer func() { item = nil }()
		for len(item) > 0 {
			last := strings.ToUpper(item[len(item)-1])
			if last == "ASC" || last == "DESC" {
				item = item[:len(item)-1]
				continue
			}
			break
		}
		if len(item) != 1 {
			return false
		}
		name := item[0]
		if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= len(columns) {
			keys = append(keys, n-1)
			return true
		}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		name = strings.Trim(name, "`")
		for i, c := range columns {
			if strings.EqualFold(c, name) {
				keys = append(keys, i)
				return true
			}
		}
		return false
	}
	for _, tok := range tokens[at:] {
		up := strings.ToUpper(tok)
		if up == "LIMIT" || up == "FOR" || up == "INTO" || up == ";" {
			break
		}
		if tok == "," {
			if !flush() {
				return []int{}
			}
			continue
		}
		item = append(item, tok)
	}
	if !flush() {
		return []int{}
	}
	return keys
}

// topLevelTokens splits a statement into words, punctuation and quoted
// items, dropping everything inside parentheses and comments.
func topLevelTokens(s string) []string {
	var out []string
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case strings.HasPrefix(s[i:], "-- ") || c == '#':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return out
			}
			i += end + 1
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if depth == 0 {
				out = append(out, s[i:min(j+1, len(s))])
			}
			i = j + 1
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth > 0 {
				depth--
			}
			i++
		case identByte(c) || c == '.':
			j := i
			for j < len(s) && (identByte(s[j]) || s[j] == '.' || s[j] == '`') {
				j++
			}
			if depth == 0 {
				out = append(out, s[i:j])
			}
			i = j
		default:
			if depth == 0 {
				out = append(out, string(c))
			}
			i++
		}
	}
	return out
}
