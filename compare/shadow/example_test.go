package shadow_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
)

// Query logs as the shadow proxy writes them (JSON Lines, one record per
// command per target); here 40 commands of one route, the shadow failing
// four of them and answering one differently.
func exampleLogs() io.Reader {
	var b strings.Builder
	for i := range 40 {
		ts := time.Date(2026, 11, 20, 10, 0, i, 0, time.UTC).Format("2006-01-02T15:04:05.000000Z")
		q := fmt.Sprintf(`/*route='orders'*/ SELECT total FROM orders WHERE id = %d`, i)
		common := fmt.Sprintf(`"ts":%q,"query_id":"q%d","query_text":%q,"query_hash":"h%d","route":"orders","columns_hash":"c"`, ts, i, q, i)
		fmt.Fprintf(&b, `{%s,"target":"primary","duration_ms":2.5,"client_wait_ms":0,"success":true,"result_hash":"r%d"}`+"\n", common, i)
		shadow := fmt.Sprintf(`"success":true,"result_hash":"r%d"`, i)
		switch {
		case i%10 == 3:
			shadow = `"success":false,"error_code":1054,"error":"Unknown column 'total' in 'field list'"`
		case i == 7:
			shadow = `"success":true,"result_hash":"wrong"`
		}
		fmt.Fprintf(&b, `{%s,"target":"shadow","duration_ms":2.6,%s,"primary_duration_ms":2.5,"primary_success":true,"primary_result_hash":"r%d"}`+"\n", common, shadow, i)
	}
	return strings.NewReader(b.String())
}

func ExampleAnalyze() {
	rep, err := shadow.Analyze(context.Background(), shadow.Window{}, []io.Reader{exampleLogs()}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s\n", rep.Verdict(), rep.Summary())
	for _, f := range rep.Findings {
		fmt.Printf("%s: %s\n", f.Kind, f.Title)
	}
	g := rep.Groups[0]
	fmt.Printf("%s: %s, %d pairs, P50 %.1f ms vs %.1f ms\n", g.Label, g.Status, g.Pairs, g.Primary.P50, g.Shadow.P50)
	// Output:
	// fail: 2 findings: 1 shadow failure, 1 result mismatch
	// shadow_failure: 4 statements succeed on the primary and fail on the shadow with error 1054
	// result_mismatch: route:orders returns different answers on the shadow
	// route:orders: no_change, 36 pairs, P50 2.5 ms vs 2.6 ms
}
