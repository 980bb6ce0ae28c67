package scoring_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/prometheus/client_golang/api"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

var rig = testdb.NewRig(1, nil)

func TestMain(m *testing.M) {
	code := rig.Run(m)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if t, ok := api.DefaultRoundTripper.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
