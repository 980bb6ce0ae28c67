package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformed is returned (wrapped) for plan text that cannot be parsed.
var ErrMalformed = errors.New("plan: malformed plan")

// value is a JSON value that keeps the order of object keys: the order of a
// MySQL plan's keys is the order of its operators.
type value struct {
	obj    []member
	arr    []*value
	scalar any
	isObj  bool
	isArr  bool
}

type member struct {
	key string
	val *value
}

func (v *value) get(key string) *value {
	if v == nil {
		return nil
	}
	for _, m := range v.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (v *value) str(key string) string {
	x := v.get(key)
	if x == nil {
		return ""
	}
	switch s := x.scalar.(type) {
	case string:
		return s
	case json.Number:
		return s.String()
	case bool:
		return fmt.Sprint(s)
	}
	if x.isArr {
		var parts []string
		for _, e := range x.arr {
			if s, ok := e.scalar.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	}
	return ""
}

func (v *value) num(key string) (float64, bool) {
	x := v.get(key)
	if x == nil {
		return 0, false
	}
	if n, ok := x.scalar.(json.Number); ok {
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

const maxDepth = 200

func decodeOrdered(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*value, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &value{isObj: true}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				mv, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.obj = append(v.obj, member{k, mv})
			}
			_, err := dec.Token() // '}'
			return v, err
		case '[':
			v := &value{isArr: true}
			for dec.More() {
				ev, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, ev)
			}
			_, err := dec.Token() // ']'
			return v, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return &value{scalar: t}, nil
	}
}

// operatorKeys are the keys of a MySQL/MariaDB JSON plan that are operators
// of the tree; every other key is a property.
var operatorKeys = map[string]bool{
	"query_block": true, "nested_loop": true, "table": true, "filesort": true,
	"temporary_table": true, "ordering_operation": true, "grouping_operation": true,
	"duplicates_removal": true, "union_result": true, "query_specifications": true,
	"subqueries": true, "materialized": true, "block-nl-join": true, "read_sorted_file": true,
	"window_functions_computation": true, "attached_subqueries": true,
	"hash_join": true, "derived": true, "cte": true, "semi_join": true,
}

// ParseMySQLJSON parses the output of MariaDB's or MySQL's
// `EXPLAIN FORMAT=JSON` into a tree.
func ParseMySQLJSON(data []byte) (*Node, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, err
	}
	if !v.isObj {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	root := &Node{Op: "plan"}
	mysqlChildren(v, root)
	if len(root.Children) == 1 {
		return root.Children[0], nil
	}
	if len(root.Children) == 0 {
		return nil, fmt.Errorf("%w: no query_block", ErrMalformed)
	}
	return root, nil
}

// mysqlChildren adds the operators found in v (an object or array) to parent.
func mysqlChildren(v *value, parent *Node) {
	switch {
	case v.isArr:
		for _, e := range v.arr {
			mysqlChildren(e, parent)
		}
	case v.isObj:
		for _, m := range v.obj {
			if !operatorKeys[m.key] {
				// Properties may still hold operators (e.g. a table's
				// "materialized" or a condition's subqueries).
				if m.val.isObj || m.val.isArr {
					mysqlChildren(m.val, parent)
				}
				continue
			}
			n := &Node{Op: m.key}
			if m.key == "table" {
				n.Table = m.val.str("table_name")
				n.Detail = tableDetail(m.val)
			}
			mysqlChildren(m.val, n)
			// Wrappers with a single child add no information.
			if (m.key == "query_specifications" || m.key == "subqueries") && len(n.Children) == 1 {
				parent.Children = append(parent.Children, n.Children[0])
				continue
			}
			parent.Children = append(parent.Children, n)
		}
	}
}

func tableDetail(t *value) string {
	parts := []string{t.str("access_type")}
	if k := t.str("key"); k != "" {
		parts = append(parts, "key="+k)
	}
	if t.get("using_index") != nil && t.str("using_index") == "true" {
		parts = append(parts, "covering")
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

// Stats are the statistics MariaDB's `ANALYZE FORMAT=JSON` reports for a
// statement.
type Stats struct {
	// TotalTimeMS is the query block's r_total_time_ms.
	TotalTimeMS float64 `json:"total_time_ms"`
	// RowsExamined is the sum over tables of r_rows x r_loops.
	RowsExamined float64 `json:"rows_examined"`
	// PagesAccessed is the sum of r_engine_stats.pages_accessed.
	PagesAccessed float64 `json:"pages_accessed"`
	// Tables holds r_rows x r_loops per table.
	Tables map[string]float64 `json:"tables,omitempty"`
}

// ParseMariaDBAnalyze extracts Stats from MariaDB's `ANALYZE FORMAT=JSON`.
func ParseMariaDBAnalyze(data []byte) (Stats, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return Stats{}, err
	}
	qb := v.get("query_block")
	if qb == nil {
		return Stats{}, fmt.Errorf("%w: no query_block", ErrMalformed)
	}
	s := Stats{Tables: map[string]float64{}}
	s.TotalTimeMS, _ = qb.num("r_total_time_ms")
	var walk func(*value, int)
	walk = func(x *value, depth int) {
		if x == nil || depth > maxDepth {
			return
		}
		for _, e := range x.arr {
			walk(e, depth+1)
		}
		for _, m := range x.obj {
			if m.key == "table" && m.val.isObj {
				rows, _ := m.val.num("r_rows")
				loops, ok := m.val.num("r_loops")
				if !ok {
					loops = 1
				}
				s.RowsExamined += rows * loops
				s.Tables[m.val.str("table_name")] += rows * loops
				if pa, ok := m.val.get("r_engine_stats").num("pages_accessed"); ok {
					s.PagesAccessed += pa
				}
			}
			walk(m.val, depth+1)
		}
	}
	walk(qb, 0)
	return s, nil
}
