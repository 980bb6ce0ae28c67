// Package plan turns engine query plans into one tree shape and diffs two
// trees structurally: operators, tables, access paths and join types, and the
// order in which tables are read.
//
// Parsers: MariaDB/MySQL `EXPLAIN FORMAT=JSON` (ParseMySQLJSON), MariaDB
// `ANALYZE FORMAT=JSON` statistics (ParseMariaDBAnalyze), and StarRocks text
// plans from `EXPLAIN` (ParseStarRocks).
//
// Parse the plans of two statements (or of one statement on two servers),
// then Diff(before, after) lists the changes and Node.Render prints a tree
// for people; package compare/baseline does this for every comparison and
// puts both in its report.
//
// Every function is pure and safe for concurrent use. A parser given input
// that is not a plan of its kind returns an error matching ErrMalformed
// (errors.Is).
package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Node is one operator of a plan.
type Node struct {
	// Op is the operator: "HASH JOIN", "OlapScanNode", "AGGREGATE (update
	// serialize)" for StarRocks; "table", "nested_loop", "filesort",
	// "temporary_table", ... for MariaDB/MySQL.
	Op string `json:"op"`
	// Table is the table an access operator reads ("" otherwise).
	Table string `json:"table,omitempty"`
	// Detail is what distinguishes two plans using the same operator: the
	// access type and key of a MySQL table access ("ref key=idx"), the join
	// op of a StarRocks join ("INNER JOIN (BROADCAST)").
	Detail string `json:"detail,omitempty"`
	// Children are the operator's inputs, in plan order.
	Children []*Node `json:"children,omitempty"`
}

// String renders the node as one line: op, table, detail.
func (n *Node) String() string {
	s := n.Op
	if n.Table != "" {
		s += " " + n.Table
	}
	if n.Detail != "" {
		s += " [" + n.Detail + "]"
	}
	return s
}

// Render draws the tree as indented text, one node a line.
func (n *Node) Render() string {
	var b strings.Builder
	var walk func(*Node, int)
	walk = func(x *Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(x.String())
		b.WriteByte('\n')
		for _, c := range x.Children {
			walk(c, depth+1)
		}
	}
	if n != nil {
		walk(n, 0)
	}
	return b.String()
}

// Tables returns the tables the plan reads, in the order its leaves read
// them (the join order).
func (n *Node) Tables() []string {
	var out []string
	var walk func(*Node)
	walk = func(x *Node) {
		if x == nil {
			return
		}
		if x.Table != "" {
			out = append(out, x.Table)
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(n)
	return out
}

// Change is one structural difference between two plans.
type Change struct {
	// Kind is "changed", "added", "removed", "access" or "join_order".
	Kind string `json:"kind"`
	// Path locates the operator in the baseline tree ("0/1/0": root, second
	// child, first child); empty for plan-wide changes.
	Path string `json:"path,omitempty"`
	// Before and After describe the operator (or the join order) in the
	// baseline and candidate plans.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// String renders the change for people.
func (c Change) String() string {
	switch c.Kind {
	case "added":
		return fmt.Sprintf("added %s at %s", c.After, c.Path)
	case "removed":
		return fmt.Sprintf("removed %s at %s", c.Before, c.Path)
	case "access":
		return fmt.Sprintf("access path changed: %s -> %s", c.Before, c.After)
	case "join_order":
		return fmt.Sprintf("join order changed: %s -> %s", c.Before, c.After)
	}
	return fmt.Sprintf("changed at %s: %s -> %s", c.Path, c.Before, c.After)
}

// Diff compares two plans: first what changed per table (access path) and
// in the join order, then a positional tree diff of the operators. Two equal
// plans give no changes.
func Diff(before, after *Node) []Change {
	var out []Change
	// Per-table access paths: the change a person asks about first ("the
	// new index is used").
	bAccess, aAccess := accessByTable(before), accessByTable(after)
	for _, t := range SortedKeys(bAccess, aAccess) {
		b, a := bAccess[t], aAccess[t]
		if b != a {
			out = append(out, Change{Kind: "access", Before: describeAccess(t, b), After: describeAccess(t, a)})
		}
	}
	bt, at := before.Tables(), after.Tables()
	if strings.Join(bt, ",") != strings.Join(at, ",") && sameSet(bt, at) {
		out = append(out, Change{Kind: "join_order", Before: strings.Join(bt, ", "), After: strings.Join(at, ", ")})
	}
	diffTree(before, after, "0", &out)
	return out
}

func describeAccess(table, access string) string {
	if access == "" {
		return table + " (not read)"
	}
	return table + " " + access
}

func accessByTable(n *Node) map[string]string {
	m := map[string]string{}
	var walk func(*Node)
	walk = func(x *Node) {
		if x == nil {
			return
		}
		if x.Table != "" {
			s := x.Op
			if x.Detail != "" {
				s += " [" + x.Detail + "]"
			}
			if prev, ok := m[x.Table]; ok && prev != s {
				s = prev + "; " + s
			}
			m[x.Table] = s
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(n)
	return m
}

// SortedKeys returns the keys of all the maps, once each, sorted.
func SortedKeys[V any](ms ...map[string]V) []string {
	keys := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			keys[k] = true
		}
	}
	return slices.Sorted(maps.Keys(keys))
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, v := range count {
		if v != 0 {
			return false
		}
	}
	return true
}

func diffTree(b, a *Node, path string, out *[]Change) {
	switch {
	case b == nil && a == nil:
		return
	case b == nil:
		*out = append(*out, Change{Kind: "added", Path: path, After: a.String()})
		return
	case a == nil:
		*out = append(*out, Change{Kind: "removed", Path: path, Before: b.String()})
		return
	}
	if b.Op != a.Op || b.Table != a.Table || b.Detail != a.Detail {
		*out = append(*out, Change{Kind: "changed", Path: path, Before: b.String(), After: a.String()})
	}
	n := len(b.Children)
	if len(a.Children) > n {
		n = len(a.Children)
	}
	for i := 0; i < n; i++ {
		var bc, ac *Node
		if i < len(b.Children) {
			bc = b.Children[i]
		}
		if i < len(a.Children) {
			ac = a.Children[i]
		}
		diffTree(bc, ac, fmt.Sprintf("%s/%d", path, i), out)
	}
}
