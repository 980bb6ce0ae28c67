package plan

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// ParseStarRocks parses the text of a StarRocks `EXPLAIN` (the `PLAN
// FRAGMENT` form, also the `[fragment statistics]` form of EXPLAIN COSTS)
// into one tree: each EXCHANGE is replaced by the fragment that sends to it,
// so the tree reads like the whole distributed plan.
//
// Within a fragment, an operator line is `N:NAME`; the operator below it in
// the same column is its input, and a `|----N:NAME` line opens another input
// (the build side of a join, a union's branch) one column level deeper.
// Property lines (`|  join op: ...`, `TABLE: t`) belong to the operator above.
func ParseStarRocks(text string) (*Node, error) {
	type fragment struct {
		id       int
		exchange int // the exchange id this fragment sends to, -1 for the result sink
		root     *Node
	}
	type exchangeRef struct {
		node *Node
		id   int
	}
	var (
		frags    []*fragment
		cur      *fragment
		lastAt   map[int]*Node // last operator seen at each column
		lastNode *Node
		exchRefs []exchangeRef
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "PLAN FRAGMENT ") {
			idText := strings.TrimPrefix(trimmed, "PLAN FRAGMENT ")
			if i := strings.IndexAny(idText, "( "); i >= 0 {
				idText = idText[:i]
			}
			id, err := strconv.Atoi(idText)
			if err != nil {
				return nil, fmt.Errorf("%w: fragment id %q", ErrMalformed, trimmed)
			}
			cur = &fragment{id: id, exchange: -1}
			frags = append(frags, cur)
			lastAt, lastNode = map[int]*Node{}, nil
			continue
		}
		if cur == nil {
			continue // text before the first fragment (e.g. "[fragment]")
		}
		// The exchange this fragment sends to.
		for _, prefix := range []string{"EXCHANGE ID:", "OutPut Exchange Id:"} {
			if strings.HasPrefix(trimmed, prefix) && cur.root == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(trimmed, prefix))); err == nil {
					cur.exchange = n
				}
			}
		}
		col, marker, rest := splitPrefix(line)
		if id, op, ok := operatorLine(rest); ok {
			n := &Node{Op: op}
			switch {
			case cur.root == nil:
				cur.root = n
			case marker:
				parent := lastAt[col-5]
				if parent == nil {
					return nil, fmt.Errorf("%w: %q has no parent operator", ErrMalformed, trimmed)
				}
				parent.Children = append(parent.Children, n)
			default:
				parent := lastAt[col]
				if parent == nil {
					return nil, fmt.Errorf("%w: %q has no parent operator", ErrMalformed, trimmed)
				}
				parent.Children = append(parent.Children, n)
			}
			lastAt[col] = n
			// A new operator at a column closes the deeper columns.
			for c := range lastAt {
				if c > col {
					delete(lastAt, c)
				}
			}
			lastNode = n
			if strings.HasSuffix(op, "EXCHANGE") {
				exchRefs = append(exchRefs, exchangeRef{node: n, id: id})
			}
			continue
		}
		if lastNode == nil {
			continue
		}
		key, val, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "TABLE", "table": // "table: t1, rollup: t1" in EXPLAIN COSTS
			if i := strings.IndexByte(val, ','); i >= 0 {
				val = val[:i]
			}
			lastNode.Table = strings.ToLower(strings.TrimSpace(val))
		case "join op":
			lastNode.Detail = val
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(frags) == 0 || frags[0].root == nil {
		return nil, fmt.Errorf("%w: no PLAN FRAGMENT with an operator", ErrMalformed)
	}
	senders := map[int]*fragment{}
	for _, f := range frags {
		if f.exchange >= 0 && f.root != nil {
			senders[f.exchange] = f
		}
	}
	for _, r := range exchRefs {
		// Each sending fragment feeds one exchange: attaching it twice would
		// share subtrees (and could grow the tree exponentially).
		if f, ok := senders[r.id]; ok && f.root != r.node {
			r.node.Children = append(r.node.Children, f.root)
			delete(senders, r.id)
		}
	}
	if hasCycle(frags[0].root, map[*Node]bool{}) {
		return nil, fmt.Errorf("%w: exchanges form a cycle", ErrMalformed)
	}
	return frags[0].root, nil
}

// splitPrefix splits the tree-drawing prefix ("|    |----") off line and
// returns the column where the content starts, whether the content opens a
// new input ("----"), and the content.
func splitPrefix(line string) (col int, marker bool, rest string) {
	i := 0
	for i < len(line) {
		switch {
		case line[i] == '|' || line[i] == ' ':
			i++
		case strings.HasPrefix(line[i:], "----"):
			i += 4
			marker = true
		default:
			return i, marker, line[i:]
		}
	}
	return i, marker, ""
}

// operatorLine recognises "12:HASH JOIN" or "3:OlapScanNode". Slot
// references in property lines ("1: P_PARTKEY") have a space after the colon;
// operators never do.
func operatorLine(s string) (int, string, bool) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || colon > 6 || colon+1 >= len(s) || s[colon+1] == ' ' {
		return 0, "", false
	}
	id, err := strconv.Atoi(s[:colon])
	if err != nil {
		return 0, "", false
	}
	op := strings.TrimSpace(s[colon+1:])
	if op == "" || !(op[0] >= 'A' && op[0] <= 'Z') {
		return 0, "", false
	}
	return id, op, true
}

func hasCycle(n *Node, onPath map[*Node]bool) bool {
	if onPath[n] {
		return true
	}
	onPath[n] = true
	for _, c := range n.Children {
		if hasCycle(c, onPath) {
			return true
		}
	}
	delete(onPath, n)
	return false
}
