package mirror

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig holds the MariaDB servers of the package's tests: server 0 is the
// primary, server 1 the shadow.
var rig = testdb.NewRig(2, nil)

type rigMain struct{ m *testing.M }

func (r rigMain) Run() int { return rig.Run(r.m) }

func TestMain(m *testing.M) {
	if os.Getenv("SQLSHADOW_NO_GOLEAK") != "" {
		os.Exit(rig.Run(m))
	}
	goleak.VerifyTestMain(rigMain{m})
}
