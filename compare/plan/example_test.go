package plan_test

import (
	"fmt"

	"github.com/sqlshadow/sqlshadow/compare/plan"
)

// Two MariaDB plans of one join (EXPLAIN FORMAT=JSON), before and after an
// index on o.c: the diff names the access path that changed, and the
// operator whose detail changed with it.
func ExampleDiff() {
	before, err := plan.ParseMySQLJSON([]byte(`{"query_block": {"select_id": 1, "nested_loop": [
		{"table": {"table_name": "cu", "access_type": "const", "key": "PRIMARY", "rows": 1}},
		{"table": {"table_name": "o", "access_type": "ALL", "rows": 1001, "attached_condition": "o.c = 1"}}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	after, err := plan.ParseMySQLJSON([]byte(`{"query_block": {"select_id": 1, "nested_loop": [
		{"table": {"table_name": "cu", "access_type": "const", "key": "PRIMARY", "rows": 1}},
		{"table": {"table_name": "o", "access_type": "ref", "key": "kc", "rows": 10}}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(before.Render())
	for _, c := range plan.Diff(before, after) {
		fmt.Println(c)
	}
	// Output:
	// query_block
	//   nested_loop
	//     table cu [const key=PRIMARY]
	//     table o [ALL]
	// access path changed: o table [ALL] -> o table [ref key=kc]
	// changed at 0/0/1: table o [ALL] -> table o [ref key=kc]
}
