package investigate_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig holds two MariaDB servers: the stores and the primary (0), the shadow
// (1).
var rig = testdb.NewRig(2, nil)

func TestMain(m *testing.M) {
	code := rig.Run(m)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
