package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the program's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunMemStore(t *testing.T) {
	t.Setenv("SQLSHADOW_TOKEN", "tok")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-metrics-listen", "", "-store", "mem"}, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, logs.String())
	}
	payload, err := os.ReadFile("../../issues/testdata/webhook-v4.json")
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, body []byte, token string) (int, []byte) {
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for range 3 {
		if code, body := do("POST", "/webhook/alertmanager", payload, "tok"); code != 200 {
			t.Fatalf("webhook: %d %s", code, body)
		}
	}
	if code, _ := do("POST", "/webhook/alertmanager", payload, ""); code != 401 {
		t.Fatalf("no token: %d, want 401", code)
	}
	code, body := do("GET", "/api/issues?cluster=sr-prod-1", nil, "tok")
	var out struct {
		Issues []struct {
			ID     string `json:"id"`
			Alerts int    `json:"alerts"`
		} `json:"issues"`
	}
	if code != 200 || json.Unmarshal(body, &out) != nil || len(out.Issues) != 1 || out.Issues[0].Alerts != 2 {
		t.Fatalf("issues: %d %s", code, body)
	}
	code, body = do("POST", "/api/issues/"+out.Issues[0].ID+"/triage", []byte(`{"triage_status":"Acknowledged"}`), "tok")
	if code != 200 || !strings.Contains(string(body), `"triage_status":"Acknowledged"`) {
		t.Fatalf("triage: %d %s", code, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if strings.Contains(logs.String(), "tok\"") {
		t.Fatal("the token was logged")
	}
}

func TestBadUsage(t *testing.T) {
	var logs syncBuffer
	if code := run(context.Background(), []string{"-nope"}, &logs, nil); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"-store", "not a dsn", "-metrics-listen", ""}, &logs, nil); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if strings.Contains(logs.String(), "not a dsn") {
		t.Fatal("the DSN was echoed")
	}
}
