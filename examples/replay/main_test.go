package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig: server 0 is the primary of a replay, server 1 the shadow.
var rig = testdb.NewRig(2, nil)

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
