package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// TestAlertmanagerToTrackerOnMariaDB is the program end to end: a real
// Alertmanager, configured with the tracker as its webhook receiver,
// delivers the same alerts many times, and the tracker (this program, on
// the SQL store on a real MariaDB) shows one issue per group rule outcome,
// with its lifecycle.
func TestAlertmanagerToTrackerOnMariaDB(t *testing.T) {
	amBin := testdb.RequireBinary(t, "prometheus-alertmanager")
	db, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = db.Remove() })
	name := db.NewDatabase(t)

	t.Setenv("SQLSHADOW_STORE", db.DSN(name))
	t.Setenv("SQLSHADOW_TOKEN", "am-token")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var logs syncBuffer
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-metrics-listen", ""}, &logs, ready)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, logs.String())
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		done <- code
		t.Fatalf("exited %d: %s", code, logs.String())
	}

	// Alertmanager on loopback, clustering off, repeating every second.
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: tracker
  group_by: ['alertname', 'cluster_id']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: tracker
    webhook_configs:
      - url: http://%s/webhook/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: am-token
`, addr)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	amAddr := l.Addr().String()
	l.Close()
	var amLogs bytes.Buffer
	am := exec.Command(amBin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	am.Stdout, am.Stderr = &amLogs, &amLogs
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = am.Process.Signal(syscall.SIGTERM)
		_ = am.Wait()
		if t.Failed() {
			t.Logf("alertmanager:\n%s\ntracker:\n%s", amLogs.String(), logs.String())
		}
	}()
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	until("alertmanager ready", func() bool {
		resp, err := http.Get("http://" + amAddr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	start := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	alerts := []map[string]any{}
	for i := range 3 {
		alerts = append(alerts, map[string]any{
			"labels":   map[string]string{"alertname": "OperationAbnormal", "cluster_id": "sr-9", "instance": fmt.Sprintf("fe-%d", i)},
			"startsAt": start.Add(time.Duration(i) * time.Second),
		})
	}
	body, _ := json.Marshal(alerts)
	for range 3 {
		resp, err := http.Post("http://"+amAddr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	type issue struct {
		ID     string `json:"id"`
		Alerts int    `json:"alerts"`
		Triage string `json:"triage_status"`
	}
	list := func() []issue {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/issues?cluster=sr-9", nil)
		req.Header.Set("Authorization", "Bearer am-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Issues []issue }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Issues
	}
	until("3 alerts in one issue", func() bool { l := list(); return len(l) == 1 && l[0].Alerts == 3 })
	until("at least 4 deliveries", func() bool { return webhookNotifications(t, amAddr) >= 4 })
	got := list()
	if len(got) != 1 || got[0].Alerts != 3 {
		t.Fatalf("after redeliveries: %+v, want one issue of 3 alerts", got)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/issues/"+got[0].ID+"/triage", strings.NewReader(`{"triage_status":"Acknowledged"}`))
	req.Header.Set("Authorization", "Bearer am-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || list()[0].Triage != "Acknowledged" {
		t.Fatalf("triage: %d %+v", resp.StatusCode, list())
	}
}

// webhookNotifications reads alertmanager_notifications_total for the
// webhook integration from Alertmanager's /metrics.
func webhookNotifications(t *testing.T, amAddr string) int {
	resp, err := http.Get("http://" + amAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "alertmanager_notifications_total{") && strings.Contains(line, `integration="webhook"`) {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return int(n)
		}
	}
	return 0
}
