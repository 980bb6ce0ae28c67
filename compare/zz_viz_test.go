package compare

import (
	"os"
	"testing"
)

func TestZZViz(t *testing.T) {
	if os.Getenv("VIZ") == "" {
		t.Skip()
	}
	rep := plantedReport(t)
	f, _ := os.Create("/tmp/cmpviz/report.html")
	rep.WriteHTML(f)
	f.Close()
	f, _ = os.Create("/tmp/cmpviz/report.md")
	rep.WriteMarkdown(f)
	f.Close()
	f, _ = os.Create("/tmp/cmpviz/report.json")
	rep.WriteJSON(f)
	f.Close()
}
