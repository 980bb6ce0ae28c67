package profile_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig serves the performance_schema tests (started on first use).
var rig = testdb.NewRig(1, nil)

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
