package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

const larkChat = "oc_alerts"

func larkCard(clusterID, name, status string) string {
	return larktest.StarRocksCard("StarRocks alert", larktest.Section{
		ClusterName: "sr-" + clusterID, ClusterID: clusterID, Region: "us-west-2", Account: "prod",
		Status: status, AlertName: name, Detail: name + " on " + clusterID,
	})
}

// serve runs the program with args until the test ends, and returns the
// address of its API and its logs.
func serve(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-metrics-listen", ""}, args...), logs, ready)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, logs.String())
		}
	})
	select {
	case addr := <-ready:
		return addr, logs
	case code := <-done:
		done <- code
		t.Fatalf("exited %d: %s", code, logs.String())
		return "", nil
	}
}

// storedAlerts returns the message ids of every alert the API shows.
func storedAlerts(addr string) ([]string, error) {
	get := func(path string, v any) error {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	var list struct {
		Issues []struct {
			ID string `json:"id"`
		} `json:"issues"`
	}
	if err := get("/api/issues", &list); err != nil {
		return nil, err
	}
	var ids []string
	for _, is := range list.Issues {
		var msgs struct {
			Alerts []struct {
				ID string `json:"id"`
			} `json:"alerts"`
		}
		if err := get("/api/issues/"+is.ID+"/alerts", &msgs); err != nil {
			return nil, err
		}
		for _, m := range msgs.Alerts {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// The program reads a Lark chat (the simulator) into the SQL store: a
// backfill, a catch-up, a backfill again (a no-op), then a catch-up beside
// the server; each alert is stored once and shown by the API.
func TestLarkBackfillThenCatchUpOnMariaDB(t *testing.T) {
	db, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = db.Remove() })
	t.Setenv("SQLSHADOW_STORE", db.DSN(db.NewDatabase(t)))
	t.Setenv("SQLSHADOW_LARK_APP_SECRET", larktest.AppSecret)
	srv := larktest.NewServer(nil)
	t.Cleanup(srv.Close)
	now := time.Now()
	srv.Add(
		larktest.Message{ID: "om_a", ChatID: larkChat, Created: now.Add(-48 * time.Hour), Content: larktest.StarRocksCard("alerts",
			larktest.Section{ClusterID: "c-1", Status: "Firing", AlertName: "BeAliveAbnormal"},
			larktest.Section{ClusterID: "c-1", Status: "Resolved", AlertName: "FeHeapHigh"})},
		larktest.Message{ID: "om_b", ChatID: larkChat, Created: now.Add(-time.Hour), Content: larkCard("c-2", "QueryLatencyHigh", "Firing")},
		larktest.Message{ID: "om_old", ChatID: larkChat, Created: now.Add(-5 * 24 * time.Hour), Content: larkCard("c-2", "TooOld", "Firing")},
	)
	lark := []string{"-listen", "", "-metrics-listen", "", "-lark-app-id", larktest.AppID, "-lark-chat", larkChat,
		"-lark-base-url", srv.URL}
	once := func(mode string) {
		t.Helper()
		var logs syncBuffer
		code := run(context.Background(), append(slices.Clone(lark), "-lark-mode", mode), &logs, nil)
		require.Equal(t, 0, code, logs.String())
		require.NotContains(t, logs.String(), larktest.AppSecret)
	}
	once("backfill=3")
	srv.Add(larktest.Message{ID: "om_c", ChatID: larkChat, Created: time.Now().Add(-time.Second), Content: larkCard("c-1", "DiskFull", "Firing")})
	once("catch-up")
	once("backfill=3")

	srv.Add(larktest.Message{ID: "om_d", ChatID: larkChat, Created: time.Now(), Content: larkCard("c-3", "BeAliveAbnormal", "Firing")})
	addr, logs := serve(t, "-lark-app-id", larktest.AppID, "-lark-chat", larkChat, "-lark-base-url", srv.URL, "-lark-mode", "catch-up")
	want := []string{"om_a#1", "om_a#2/resolved", "om_b#1", "om_c#1", "om_d#1"}
	require.Eventually(t, func() bool {
		got, err := storedAlerts(addr)
		return err == nil && slices.Equal(want, got)
	}, 30*time.Second, 50*time.Millisecond, "logs: %s", logs)
	got, err := storedAlerts(addr)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// A Lark run that fails (a wrong secret) is logged and the server goes on.
func TestLarkFailureKeepsServing(t *testing.T) {
	t.Setenv("SQLSHADOW_LARK_APP_SECRET", "wrong-s3cret")
	srv := larktest.NewServer(nil)
	t.Cleanup(srv.Close)
	addr, logs := serve(t, "-store", "mem", "-lark-app-id", larktest.AppID, "-lark-chat", larkChat, "-lark-base-url", srv.URL)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "lark: first run failed") }, 30*time.Second, 20*time.Millisecond)
	got, err := storedAlerts(addr)
	require.NoError(t, err)
	require.Empty(t, got)
	require.NotContains(t, logs.String(), "wrong-s3cret")
}

func TestLarkBadUsage(t *testing.T) {
	t.Setenv("SQLSHADOW_LARK_APP_SECRET", "s")
	for _, args := range [][]string{
		{"-listen", ""},
		{"-listen", "", "-lark-app-id", "cli_1"},
		{"-listen", "", "-lark-app-id", "cli_1", "-lark-chat", larkChat, "-lark-mode", "backfill=0"},
		{"-listen", "", "-lark-app-id", "cli_1", "-lark-chat", larkChat, "-lark-tz", "Mars/Olympus"},
	} {
		var logs syncBuffer
		require.Equal(t, 2, run(context.Background(), append(args, "-metrics-listen", ""), &logs, nil), fmt.Sprint(args))
	}
}
