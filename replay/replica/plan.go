package replica

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values for the parser's AST
)

// lit is a literal of an (obfuscated) statement.
type lit struct {
	sql   string  // as SQL text
	str   string  // the string value (strings) or the number's text
	num   float64 // numbers
	isNum bool
	pos   int // byte offset in the statement, -1 when unknown
}

// constraint is what one equivalence class of columns must satisfy.
type constraint struct {
	eq           *lit
	lo, hi       *lit
	loInc, hiInc bool
	like         *lit
	null         bool
}

// plan is what one statement needs: one row per table instance (a table
// named in FROM, once per alias) whose columns satisfy the statement's
// filters, the columns of each join predicate sharing one value.
type plan struct {
	insts  []*table
	slots  map[[2]int]int // (instance, column) -> slot
	parent []int          // union-find over slots
	cons   []constraint   // per slot; merged into the root by finish
	copies int            // rows per instance (LIMIT ... OFFSET needs more)
	tables map[string]*table
	db     string // the statement's default database (obfuscated)
}

// scope is one SELECT's names: aliases and tables to instances, and the
// derived tables and CTEs it can see.
type scope struct {
	parent  *scope
	names   map[string]int      // alias or table name -> instance
	order   []int               // instances in FROM order
	derived map[string]*derived // derived table or CTE name -> its query
}

type derived struct {
	sc     *scope
	fields []*ast.SelectField
	busy   bool // being resolved: a name that leads back to itself
}

// analyse parses an obfuscated statement and plans the rows it needs. It
// returns nil for a statement it cannot parse or that is not a query.
func analyse(sql, db string, tables map[string]*table, copies int) *plan {
	stmt, err := parser.New().ParseOneStmt(sql, "", "")
	if err != nil {
		return nil
	}
	p := &plan{slots: make(map[[2]int]int), copies: copies, tables: tables, db: db}
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		return nil
	}
	p.query(stmt, nil)
	return p
}

func (p *plan) slot(inst, col int) int {
	k := [2]int{inst, col}
	if s, ok := p.slots[k]; ok {
		return s
	}
	s := len(p.parent)
	p.slots[k] = s
	p.parent = append(p.parent, s)
	p.cons = append(p.cons, constraint{})
	return s
}

func (p *plan) find(s int) int {
	for p.parent[s] != s {
		p.parent[s] = p.parent[p.parent[s]]
		s = p.parent[s]
	}
	return s
}

func (p *plan) union(a, b int) {
	a, b = p.find(a), p.find(b)
	if a != b {
		p.parent[b] = a
	}
}

// query plans a SELECT, UNION or subquery and returns the scope of its
// (first) SELECT.
func (p *plan) query(n ast.Node, parent *scope) *scope {
	switch q := n.(type) {
	case *ast.SubqueryExpr:
		return p.query(q.Query, parent)
	case *ast.SetOprStmt:
		sc := &scope{parent: parent}
		p.with(q.With, sc)
		var first *scope
		if q.SelectList != nil {
			p.with(q.SelectList.With, sc)
			for _, s := range q.SelectList.Selects {
				if r := p.query(s, sc); first == nil {
					first = r
				}
			}
		}
		p.limit(q.Limit)
		return first
	case *ast.SetOprSelectList:
		sc := &scope{parent: parent}
		p.with(q.With, sc)
		var first *scope
		for _, s := range q.Selects {
			if r := p.query(s, sc); first == nil {
				first = r
			}
		}
		return first
	case *ast.SelectStmt:
		sc := &scope{parent: parent, names: make(map[string]int)}
		p.with(q.With, sc)
		if q.From != nil && q.From.TableRefs != nil {
			p.from(q.From.TableRefs, sc)
		}
		if q.Where != nil {
			p.cond(q.Where, sc)
		}
		p.limit(q.Limit)
		return sc
	}
	return nil
}

func (p *plan) with(w *ast.WithClause, sc *scope) {
	if w == nil {
		return
	}
	for _, cte := range w.CTEs {
		inner := p.query(cte.Query, sc)
		if sc.derived == nil {
			sc.derived = make(map[string]*derived)
		}
		sc.derived[cte.Name.L] = &derived{sc: inner, fields: fieldsOf(cte.Query)}
	}
}

func fieldsOf(n ast.Node) []*ast.SelectField {
	switch q := n.(type) {
	case *ast.SubqueryExpr:
		return fieldsOf(q.Query)
	case *ast.SelectStmt:
		if q.Fields != nil {
			return q.Fields.Fields
		}
	case *ast.SetOprStmt:
		if q.SelectList != nil && len(q.SelectList.Selects) > 0 {
			return fieldsOf(q.SelectList.Selects[0])
		}
	}
	return nil
}

func (p *plan) limit(l *ast.Limit) {
	if l == nil || l.Offset == nil {
		return
	}
	if v, ok := l.Offset.(ast.ValueExpr); ok {
		if n, err := strconv.Atoi(fmt.Sprint(v.GetValue())); err == nil && n+1 > p.copies {
			p.copies = min(n+1, maxCopies)
		}
	}
}

// maxCopies bounds the rows one statement adds to one table.
const maxCopies = 1000

func (p *plan) from(n ast.ResultSetNode, sc *scope) {
	switch f := n.(type) {
	case *ast.Join:
		if f.Left != nil {
			p.from(f.Left, sc)
		}
		if f.Right != nil {
			p.from(f.Right, sc)
		}
		if f.On != nil {
			p.cond(f.On.Expr, sc)
		}
		for _, c := range f.Using {
			first := -1
			for _, inst := range sc.order {
				if ci, ok := p.insts[inst].colIdx[c.Name.L]; ok {
					s := p.slot(inst, ci)
					if first < 0 {
						first = s
					} else {
						p.union(first, s)
					}
				}
			}
		}
	case *ast.TableSource:
		alias := f.AsName.L
		switch src := f.Source.(type) {
		case *ast.TableName:
			name := src.Name.L
			if src.Schema.L == "" && sc.cte(name) != nil {
				if alias != "" {
					sc.addDerived(alias, sc.cte(name))
				}
				return
			}
			db := src.Schema.O
			if db == "" {
				db = p.db
			}
			t := p.tables[strings.ToLower(db)+"."+name]
			if t == nil {
				return
			}
			inst := len(p.insts)
			p.insts = append(p.insts, t)
			sc.order = append(sc.order, inst)
			if alias == "" {
				alias = name
				sc.names[strings.ToLower(db)+"."+name] = inst
			}
			sc.names[alias] = inst
		default:
			inner := p.query(src, sc.parent)
			if alias != "" {
				sc.addDerived(alias, &derived{sc: inner, fields: fieldsOf(src)})
			}
		}
	}
}

func (sc *scope) addDerived(name string, d *derived) {
	if sc.derived == nil {
		sc.derived = make(map[string]*derived)
	}
	sc.derived[name] = d
}

func (sc *scope) cte(name string) *derived {
	for s := sc; s != nil; s = s.parent {
		if d := s.derived[name]; d != nil {
			return d
		}
	}
	return nil
}

// resolve finds the slot of a column reference, searching the scope and
// then its parents (correlated subqueries).
func (p *plan) resolve(c *ast.ColumnName, sc *scope) (int, bool) {
	for s := sc; s != nil; s = s.parent {
		if c.Table.L != "" {
			key := c.Table.L
			if c.Schema.L != "" {
				key = c.Schema.L + "." + key
			}
			if inst, ok := s.names[key]; ok {
				if ci, ok := p.insts[inst].colIdx[c.Name.L]; ok {
					return p.slot(inst, ci), true
				}
				return 0, false
			}
			if d := s.derived[c.Table.L]; d != nil {
				return p.resolveField(d, c.Name.L)
			}
			continue
		}
		for _, inst := range s.order {
			if ci, ok := p.insts[inst].colIdx[c.Name.L]; ok {
				return p.slot(inst, ci), true
			}
		}
		for _, d := range s.derived {
			if sl, ok := p.resolveField(d, c.Name.L); ok {
				return sl, true
			}
		}
	}
	return 0, false
}

// resolveField finds the column behind a derived table's or CTE's output
// column, when it is a plain column of its query.
func (p *plan) resolveField(d *derived, name string) (int, bool) {
	if d.sc == nil || d.busy {
		return 0, false
	}
	d.busy = true
	defer func() { d.busy = false }()
	for _, f := range d.fields {
		ce, ok := unparen(f.Expr).(*ast.ColumnNameExpr)
		if !ok || !(f.AsName.L == name || f.AsName.L == "" && ce.Name.Name.L == name) {
			continue
		}
		return p.resolve(ce.Name, d.sc)
	}
	return 0, false
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		pe, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = pe.Expr
	}
}

func (p *plan) column(e ast.ExprNode, sc *scope) (int, bool) {
	if ce, ok := unparen(e).(*ast.ColumnNameExpr); ok {
		return p.resolve(ce.Name, sc)
	}
	return 0, false
}

// cond plans a filter: conjunctions entirely, the first branch of a
// disjunction, and the predicates a row can be made to satisfy.
func (p *plan) cond(e ast.ExprNode, sc *scope) {
	switch x := unparen(e).(type) {
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd:
			p.cond(x.L, sc)
			p.cond(x.R, sc)
		case opcode.LogicOr:
			p.cond(x.L, sc)
		case opcode.EQ, opcode.NullEQ, opcode.GT, opcode.GE, opcode.LT, opcode.LE:
			p.compare(x.Op, x.L, x.R, sc)
		}
	case *ast.BetweenExpr:
		if x.Not {
			return
		}
		if s, ok := p.column(x.Expr, sc); ok {
			p.bound(s, opcode.GE, litOf(x.Left))
			p.bound(s, opcode.LE, litOf(x.Right))
		}
	case *ast.PatternInExpr:
		if x.Not {
			return
		}
		s, isCol := p.column(x.Expr, sc)
		if x.Sel != nil {
			inner := p.query(x.Sel, sc)
			if fs := fieldsOf(x.Sel); isCol && inner != nil && len(fs) > 0 {
				if s2, ok := p.column(fs[0].Expr, inner); ok {
					p.union(s, s2)
				}
			}
			return
		}
		if isCol && len(x.List) > 0 {
			if l := litOf(x.List[0]); l != nil {
				p.cons[s].eq = l
			}
		}
	case *ast.ExistsSubqueryExpr:
		if !x.Not {
			p.query(x.Sel, sc)
		}
	case *ast.CompareSubqueryExpr:
		p.query(x.R, sc)
	case *ast.PatternLikeOrIlikeExpr:
		if x.Not {
			return
		}
		if s, ok := p.column(x.Expr, sc); ok {
			if l := litOf(x.Pattern); l != nil && !l.isNum {
				p.cons[s].like = l
			}
		}
	case *ast.IsNullExpr:
		if s, ok := p.column(x.Expr, sc); ok && !x.Not {
			p.cons[s].null = true
		}
	}
}

func (p *plan) compare(op opcode.Op, l, r ast.ExprNode, sc *scope) {
	for _, side := range []ast.ExprNode{l, r} {
		if sq, ok := unparen(side).(*ast.SubqueryExpr); ok {
			p.query(sq, sc)
		}
	}
	ls, lok := p.column(l, sc)
	rs, rok := p.column(r, sc)
	switch {
	case lok && rok:
		if op == opcode.EQ || op == opcode.NullEQ {
			p.union(ls, rs)
		}
	case lok:
		p.bound(ls, op, litOf(r))
	case rok:
		p.bound(rs, flip(op), litOf(l))
	}
}

func flip(op opcode.Op) opcode.Op {
	switch op {
	case opcode.GT:
		return opcode.LT
	case opcode.GE:
		return opcode.LE
	case opcode.LT:
		return opcode.GT
	case opcode.LE:
		return opcode.GE
	}
	return op
}

func (p *plan) bound(s int, op opcode.Op, l *lit) {
	if l == nil {
		return
	}
	c := &p.cons[s]
	switch op {
	case opcode.EQ, opcode.NullEQ:
		c.eq = l
	case opcode.GT, opcode.GE:
		if c.lo == nil || compareLit(l, c.lo) > 0 {
			c.lo, c.loInc = l, op == opcode.GE
		}
	case opcode.LT, opcode.LE:
		if c.hi == nil || compareLit(l, c.hi) < 0 {
			c.hi, c.hiInc = l, op == opcode.LE
		}
	}
}

// litOf returns the literal e is, or nil.
func litOf(e ast.ExprNode) *lit {
	neg := false
	e = unparen(e)
	if u, ok := e.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Minus {
		neg, e = true, unparen(u.V)
	}
	v, ok := e.(ast.ValueExpr)
	if !ok {
		return nil
	}
	l := &lit{pos: v.OriginTextPosition()}
	if l.pos <= 0 {
		l.pos = -1
	}
	switch x := v.GetValue().(type) {
	case int64:
		l.str = strconv.FormatInt(x, 10)
	case uint64:
		l.str = strconv.FormatUint(x, 10)
	case float64:
		l.str = strconv.FormatFloat(x, 'g', -1, 64)
	case fmt.Stringer: // a decimal
		l.str = x.String()
	case string:
		if neg {
			return nil
		}
		l.str, l.sql = x, quoteString(x)
		return l
	default:
		return nil
	}
	f, err := strconv.ParseFloat(l.str, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil
	}
	if neg {
		l.str, f = "-"+l.str, -f
	}
	l.sql, l.num, l.isNum = l.str, f, true
	return l
}

// compareLit orders two literals: numbers as numbers, dates and datetimes
// as times, other strings as byte strings.
func compareLit(a, b *lit) int {
	if a.isNum && b.isNum {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	}
	if ta, ok := parseTime(a.str); ok {
		if tb, ok := parseTime(b.str); ok {
			return ta.Compare(tb)
		}
	}
	return strings.Compare(a.str, b.str)
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// quoteString returns s as a single-quoted SQL string.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
