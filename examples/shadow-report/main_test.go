package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
)

var hour = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// writeLogs writes 200 commands of route "orders" (both sides) into one
// gzip object of the sink's layout under root; every tenth fails on the
// shadow only when failing is set.
func writeLogs(t *testing.T, root string, at time.Time, failing bool) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	for i := range 200 {
		ts := at.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000Z")
		q := fmt.Sprintf("/*route='orders'*/ SELECT * FROM orders WHERE id = %d", i%20)
		d := 2 + float64(i%7)/10
		qid := fmt.Sprintf("%s-%d", at.Format("150405"), i)
		require.NoError(t, enc.Encode(map[string]any{
			"ts": ts, "query_id": qid, "target": "primary", "query_text": q, "query_hash": fmt.Sprint(i % 20),
			"route": "orders", "duration_ms": d, "client_wait_ms": 0, "success": true, "result_hash": "r", "columns_hash": "c",
		}))
		rec := map[string]any{
			"ts": ts, "query_id": qid, "target": "shadow", "query_text": q, "query_hash": fmt.Sprint(i % 20),
			"route": "orders", "duration_ms": d * 1.01, "success": true, "result_hash": "r", "columns_hash": "c",
			"primary_duration_ms": d, "primary_success": true, "primary_result_hash": "r",
		}
		if failing && i%10 == 0 {
			rec["success"], rec["error_code"], rec["error"], rec["result_hash"] = false, 1054, "Unknown column", ""
		}
		require.NoError(t, enc.Encode(rec))
	}
	require.NoError(t, zw.Close())
	dir := filepath.Join(root, "query-logs", at.Format("year=2006/month=01/day=02/hour=15"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, at.Format("20060102_150405")+"_00000001.jsonl.gz"), buf.Bytes(), 0o644))
}

func TestShadowReportBinary(t *testing.T) {
	root := t.TempDir()
	writeLogs(t, root, hour, true)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"-bucket-url", "file://" + root, "-from", "2026-11-20T00:00:00Z", "-to", "2026-11-21T00:00:00Z", "-out", out}

	var stdout, stderr bytes.Buffer
	code := run(append(args, "-fail"), &stdout, &stderr)
	require.Equal(t, 1, code, "stderr: %s", stderr.String())
	require.True(t, strings.HasPrefix(stdout.String(), "FAIL: 1 finding: 1 shadow failure\n  - shadow_failure: "), "the verdict once, then the finding: %s", stdout.String())
	for _, name := range []string{"report.json", "report.md", "report.html"} {
		require.FileExists(t, filepath.Join(out, name))
	}
	f, err := os.Open(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	defer f.Close()
	rep, err := shadow.ReadReport(f)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	require.EqualValues(t, 20, rep.Failures[0].Count)

	// Without -fail, findings still exit 0.
	stdout.Reset()
	require.Equal(t, 0, run(args, &stdout, &stderr))

	// Flags from the environment.
	t.Setenv("SQLSHADOW_BUCKET_URL", "file://"+root)
	t.Setenv("SQLSHADOW_FAIL", "true")
	require.Equal(t, 1, run(args[2:], &stdout, &stderr))
}

func TestShadowReportBinaryWindows(t *testing.T) {
	root := t.TempDir()
	writeLogs(t, root, hour, false)
	writeLogs(t, root, hour.Add(2*time.Hour), false)
	var stdout, stderr bytes.Buffer
	code := run([]string{"-bucket-url", "file://" + root, "-out", t.TempDir(), "-fail",
		"-windows", "2026-11-20T10:00:00Z/2026-11-20T11:00:00Z,2026-11-20T12:00:00Z/2026-11-20T13:00:00Z"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stdout %s stderr: %s", stdout.String(), stderr.String())
	require.True(t, strings.HasPrefix(stdout.String(), "PASS: "), stdout.String())
}

func TestShadowReportBinaryUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run(nil, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-bucket-url")
	require.Equal(t, 2, run([]string{"-bucket-url", "mem://", "-from", "yesterday"}, &stdout, &stderr))
	require.Equal(t, 2, run([]string{"-bucket-url", "mem://", "-windows", "x"}, &stdout, &stderr))
	require.Equal(t, 2, run([]string{"-nope"}, &stdout, &stderr))
	require.Equal(t, 0, run([]string{"-h"}, &stdout, &stderr))
}

// writeStarRocksLogs writes two hours of logs as the open-source StarRocks
// shadow proxy writes them (its fields only, ts the completion time,
// success true on an ERR packet), primary and shadow records in different
// objects: route-less statements, one shape 3x slower on the shadow, one
// failing there, and commands whose shadow record is missing.
func writeStarRocksLogs(t *testing.T, root string) {
	t.Helper()
	objects := map[string]*bytes.Buffer{}
	for i := range 3600 {
		received := hour.Add(2 * time.Hour * time.Duration(i) / 3600)
		text, ms, factor, errText := fmt.Sprintf("SELECT name FROM users WHERE id = %d", i%50), 2.0+float64(i%5)/10, 1.0, ""
		switch i % 3 {
		case 1:
			text, factor = fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE user_id = %d", i%50), 3
		case 2:
			text = fmt.Sprintf("SELECT total FROM invoices WHERE id = %d", i%50)
			if i%15 == 2 {
				errText = "Unknown column 'total' in 'field list'"
			}
		}
		for _, side := range []string{"primary", "shadow"} {
			d := ms
			if side == "shadow" {
				if i%50 == 0 {
					continue // lost
				}
				d *= factor
			}
			ts := received.Add(time.Duration(d * float64(time.Millisecond)))
			key := ts.Format("year=2006/month=01/day=02/hour=15/20060102_150000_") + side + ".jsonl"
			if objects[key] == nil {
				objects[key] = &bytes.Buffer{}
			}
			rec := map[string]any{
				"ts": ts.Format(time.RFC3339Nano), "query_id": fmt.Sprintf("sr-%d", i), "target": side, "command": "COM_QUERY",
				"query_text": text, "query_hash": fmt.Sprint(i), "duration_ms": d, "bytes_sent": len(text), "bytes_recv": 64,
				"success": true, "error": "", "client_addr": "10.0.0.9:40000", "filtered": false, "filter_reason": "",
			}
			if side == "shadow" {
				rec["error"] = errText
			}
			require.NoError(t, json.NewEncoder(objects[key]).Encode(rec))
		}
	}
	for key, b := range objects {
		path := filepath.Join(root, "query-logs", filepath.FromSlash(key))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	}
}

func TestShadowReportBinaryStarRocksProxyLogs(t *testing.T) {
	root := t.TempDir()
	writeStarRocksLogs(t, root)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-bucket-url", "file://" + root, "-from", "2026-11-20T00:00:00Z", "-to", "2026-11-21T00:00:00Z",
		"-out", out, "-fail"}, &stdout, &stderr)
	require.Equal(t, 1, code, "stdout %s stderr: %s", stdout.String(), stderr.String())
	require.True(t, strings.HasPrefix(stdout.String(), "FAIL: 2 findings: 1 regression, 1 shadow failure\n"), stdout.String())

	f, err := os.Open(filepath.Join(out, "report.json"))
	require.NoError(t, err)
	defer f.Close()
	rep, err := shadow.ReadReport(f)
	require.NoError(t, err)
	require.EqualValues(t, 3600-72, rep.Counts.PairedByQueryID)
	require.EqualValues(t, 72, rep.Counts.UnpairedPrimary)
	require.Zero(t, rep.Counts.UnpairedShadow)
	require.EqualValues(t, 3600/15, rep.Counts.ShadowOnlyFailures)
	require.Zero(t, rep.Input.UnreadableObjects)
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "unpaired primary records: 72")
}
