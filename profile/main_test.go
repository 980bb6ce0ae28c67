package profile_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig serves the performance_schema tests (started on first use), with a
// small statement history so that the ring-wrap test stays quick.
var rig = testdb.NewRig(1, &testdb.Options{ExtraArgs: []string{"--performance-schema-events-statements-history-long-size=200"}})

func TestMain(m *testing.M) {
	code := rig.Run(m)
	if code == 0 {
		// golang-lru/v2 v2.0.7's expirable.LRU starts a cleanup goroutine
		// that cannot be stopped (one per Collector).
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1")); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
