package replica

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/mysql"
)

// generator makes the rows of the obfuscated tables: first the rows each
// statement needs, then filler rows, every row checked against the table's
// unique keys.
type generator struct {
	rng *rand.Rand
}

// classes returns the merged constraint of each equivalence class of a
// plan, keyed by the class's root slot.
func (p *plan) classes() map[int]*constraint {
	m := make(map[int]*constraint)
	for s := range p.parent {
		r := p.find(s)
		c := m[r]
		if c == nil {
			c = &constraint{}
			m[r] = c
		}
		x := p.cons[s]
		if c.eq == nil {
			c.eq = x.eq
		}
		if x.lo != nil && (c.lo == nil || compareLit(x.lo, c.lo) > 0) {
			c.lo, c.loInc = x.lo, x.loInc
		}
		if x.hi != nil && (c.hi == nil || compareLit(x.hi, c.hi) < 0) {
			c.hi, c.hiInc = x.hi, x.hiInc
		}
		if c.like == nil {
			c.like = x.like
		}
		c.null = c.null || x.null
	}
	return m
}

// weight is how constrained a plan is: the most constrained plans get their
// rows first, so a looser plan on the same key finds them.
func (p *plan) weight() int {
	n := 0
	for _, c := range p.cons {
		if c.eq != nil || c.lo != nil || c.hi != nil || c.like != nil || c.null {
			n++
		}
	}
	return n
}

// addPlanRows adds the rows a plan needs and reports whether every
// instance got at least one.
func (g *generator) addPlanRows(p *plan) bool {
	classes := p.classes()
	// One value per class, made for the class's first column.
	keys := make([][2]int, len(p.parent))
	for k, s := range p.slots {
		keys[s] = k
	}
	values := make(map[int]string)
	for s, k := range keys {
		r := p.find(s)
		if _, ok := values[r]; ok {
			continue
		}
		values[r] = g.pick(classes[r], p.insts[k[0]].cols[k[1]], p.insts[k[0]], k[1])
	}
	ok := true
	for inst, t := range p.insts {
		fixed := make(map[int]string)
		for s, k := range keys {
			if k[0] == inst {
				fixed[k[1]] = values[p.find(s)]
			}
		}
		added := 0
		for c := 0; c < p.copies; c++ {
			if g.addRow(t, fixed) {
				added++
			}
		}
		if added == 0 && !g.hasRow(t, fixed) {
			ok = false
		}
	}
	return ok
}

// hasRow reports whether t already has a row with the fixed values.
func (g *generator) hasRow(t *table, fixed map[int]string) bool {
	for _, r := range t.rows {
		match := true
		for i, v := range fixed {
			if !strings.EqualFold(r[i], v) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// addRow adds a row with the fixed values and fresh ones elsewhere; it
// retries the fresh values a few times when a unique key collides.
func (g *generator) addRow(t *table, fixed map[int]string) bool {
	for attempt := 0; attempt < 8; attempt++ {
		row := make([]string, len(t.cols))
		for i, c := range t.cols {
			switch v, ok := fixed[i]; {
			case c.skip:
			case ok && (v != "NULL" || !c.notNull):
				row[i] = v
			default:
				row[i] = g.fresh(t, i)
			}
		}
		keys := make([]string, len(t.uniques))
		clash, fixedClash := false, false
		for u, idx := range t.uniques {
			var b strings.Builder
			hasNull := false
			allFixed := true
			for _, i := range idx {
				hasNull = hasNull || row[i] == "NULL"
				_, f := fixed[i]
				allFixed = allFixed && f
				b.WriteString(strings.ToLower(row[i]))
				b.WriteByte(0)
			}
			keys[u] = b.String()
			if !hasNull && t.used[u][keys[u]] {
				clash = true
				fixedClash = fixedClash || allFixed
			}
		}
		if fixedClash {
			return false
		}
		if clash {
			continue
		}
		for u := range t.uniques {
			t.used[u][keys[u]] = true
		}
		t.rows = append(t.rows, row)
		return true
	}
	return false
}

// pick returns a value (SQL text) for column i of t satisfying c.
func (g *generator) pick(c *constraint, col *column, t *table, i int) string {
	switch {
	case c == nil:
	case c.eq != nil:
		return fitLiteral(c.eq, col)
	case c.null && !col.notNull:
		return "NULL"
	case c.like != nil:
		return quoteString(fromPattern(c.like.str))
	case c.lo != nil || c.hi != nil:
		if v, ok := g.between(c, col); ok {
			return v
		}
	}
	return g.fresh(t, i)
}

// fitLiteral returns a literal as a value for col: a number for a string
// column is quoted, a datetime literal for a date column is cut.
func fitLiteral(l *lit, col *column) string {
	switch col.cat {
	case catString, catEnum, catSet, catJSON:
		if l.isNum {
			return quoteString(l.str)
		}
	}
	return l.sql
}

// fromPattern returns a string a LIKE pattern matches.
func fromPattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%':
		case '_':
			b.WriteByte('a')
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteByte(p[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// between returns a value of col's type within c's bounds.
func (g *generator) between(c *constraint, col *column) (string, bool) {
	switch col.cat {
	case catInt, catYear, catDecimal, catFloat:
		step := 1.0
		if col.cat == catDecimal {
			step = math.Pow10(-max(col.dec, 0))
		} else if col.cat == catFloat {
			step = 0.001
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		if c.lo != nil {
			if !c.lo.isNum {
				return "", false
			}
			lo = math.Ceil(c.lo.num/step) * step
			if !c.loInc && lo <= c.lo.num {
				lo += step
			}
		}
		if c.hi != nil {
			if !c.hi.isNum {
				return "", false
			}
			hi = math.Floor(c.hi.num/step) * step
			if !c.hiInc && hi >= c.hi.num {
				hi -= step
			}
		}
		var v float64
		switch {
		case c.lo != nil && c.hi != nil:
			if lo > hi {
				return "", false
			}
			v = lo + math.Floor((hi-lo)/2/step)*step
		case c.lo != nil:
			v = lo
		default:
			v = hi
			if col.unsigned && v < 0 {
				return "", false
			}
			if low := hi - 100*step; !col.unsigned || low >= 0 {
				v = low + math.Floor(g.rng.Float64()*100)*step
			}
		}
		if col.cat == catInt || col.cat == catYear {
			return strconv.FormatFloat(math.Round(v), 'f', 0, 64), true
		}
		prec := 3
		if col.cat == catDecimal {
			prec = max(col.dec, 0)
		}
		return strconv.FormatFloat(v, 'f', prec, 64), true
	case catDate, catDatetime:
		unit := time.Second
		if col.cat == catDate {
			unit = 24 * time.Hour
		}
		var lo, hi time.Time
		if c.lo != nil {
			t, ok := parseTime(c.lo.str)
			if !ok {
				return "", false
			}
			lo = t.Truncate(unit)
			if lo.Before(t) || !c.loInc {
				lo = lo.Add(unit)
			}
		}
		if c.hi != nil {
			t, ok := parseTime(c.hi.str)
			if !ok {
				return "", false
			}
			hi = t.Truncate(unit)
			if !c.hiInc && !hi.Before(t) {
				hi = hi.Add(-unit)
			}
		}
		var v time.Time
		switch {
		case c.lo != nil && c.hi != nil:
			if lo.After(hi) {
				return "", false
			}
			v = lo.Add(hi.Sub(lo) / 2).Truncate(unit)
		case c.lo != nil:
			v = lo
		default:
			v = hi
		}
		return quoteString(formatTime(v, col.cat)), true
	case catString:
		switch {
		case c.lo != nil:
			v := c.lo.str
			if !c.loInc {
				v += "a"
			}
			if c.hi == nil || compareLit(&lit{str: v}, c.hi) < 0 || c.hiInc && v == c.hi.str {
				return quoteString(v), true
			}
		case c.hi != nil && c.hi.str != "":
			return quoteString(""), true
		}
	}
	return "", false
}

func formatTime(t time.Time, cat category) string {
	if cat == catDate {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05")
}

// fresh returns a new value for column i of t: from a sequence when the
// column is in a unique key, at random otherwise.
func (g *generator) fresh(t *table, i int) string {
	c := t.cols[i]
	unique := false
	for _, idx := range t.uniques {
		for _, j := range idx {
			unique = unique || j == i
		}
	}
	seq := int64(-1)
	if unique {
		t.counter[i]++
		seq = t.counter[i]
	}
	switch c.cat {
	case catInt:
		top := intMax(c)
		if seq >= 0 {
			return strconv.FormatInt(min(seq, top), 10)
		}
		return strconv.FormatInt(1+g.rng.Int64N(min(top, 1000)), 10)
	case catYear:
		if seq >= 0 {
			return strconv.FormatInt(min(1901+seq, 2155), 10)
		}
		return strconv.Itoa(2000 + g.rng.IntN(30))
	case catDecimal:
		digits := max(c.flen-max(c.dec, 0), 1)
		top := math.Pow10(min(digits, 6)) - 1
		if seq >= 0 {
			return strconv.FormatInt(min(seq, int64(top)), 10)
		}
		return strconv.FormatFloat(g.rng.Float64()*top, 'f', max(c.dec, 0), 64)
	case catFloat:
		if seq >= 0 {
			return strconv.FormatInt(seq, 10)
		}
		return strconv.FormatFloat(g.rng.Float64()*1000, 'f', 3, 64)
	case catString:
		n := c.flen
		if n <= 0 || n > 12 {
			n = 12
		}
		if seq >= 0 {
			return quoteString(base26(seq, n))
		}
		b := make([]byte, n)
		for k := range b {
			b[k] = byte('a' + g.rng.IntN(26))
		}
		return quoteString(string(b))
	case catEnum:
		if len(c.elems) == 0 {
			return "''"
		}
		if seq >= 0 {
			return quoteString(c.elems[int(seq-1)%len(c.elems)])
		}
		return quoteString(c.elems[g.rng.IntN(len(c.elems))])
	case catSet:
		if len(c.elems) == 0 {
			return "''"
		}
		return quoteString(c.elems[g.rng.IntN(len(c.elems))])
	case catDate, catDatetime:
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		var v time.Time
		if seq >= 0 {
			v = base.Add(time.Duration(seq) * time.Hour * 24)
		} else {
			v = base.Add(time.Duration(g.rng.Int64N(5*365*24*3600)) * time.Second)
		}
		return quoteString(formatTime(v, c.cat))
	case catTime:
		s := g.rng.IntN(24 * 3600)
		if seq >= 0 {
			s = int(seq % (24 * 3600))
		}
		return quoteString(fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60))
	case catBit:
		n := max(c.flen, 1)
		if seq >= 0 {
			return fmt.Sprintf("b'%s'", strconv.FormatInt(seq%(1<<min(n, 62)), 2))
		}
		return fmt.Sprintf("b'%s'", strconv.FormatInt(g.rng.Int64N(1<<min(n, 62)), 2))
	case catJSON:
		if seq >= 0 {
			return quoteString(fmt.Sprintf(`{"k": %d}`, seq))
		}
		return "'{}'"
	}
	if !c.notNull {
		return "NULL"
	}
	return "''"
}

// intMax is the largest value of an integer column, capped at 1<<53.
func intMax(c *column) int64 {
	n := 53
	switch c.tp {
	case mysql.TypeTiny:
		n = 8
	case mysql.TypeShort:
		n = 16
	case mysql.TypeInt24:
		n = 24
	case mysql.TypeLong:
		n = 32
	}
	if !c.unsigned && n < 53 {
		n--
	}
	return 1<<n - 1
}

// base26 writes n as n lower-case letters (a sequence that never repeats
// within 26^n values).
func base26(v int64, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('a' + v%26)
		v /= 26
	}
	return string(b)
}
