package profile_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig serves the performance_schema tests (started on first use), with a
// small statement history so that the ring-wrap test stays quick.
var rig = testdb.NewRig(1, &mariadb.Options{ExtraArgs: []string{"--performance-schema-events-statements-history-long-size=200"}})

func TestMain(m *testing.M) {
	code := rig.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
