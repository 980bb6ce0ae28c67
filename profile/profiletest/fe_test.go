package profiletest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/profile/profiletest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 9, 5, 3, 46, 53, 123_000_000, time.UTC)

func get(t *testing.T, url string, auth ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func details(t *testing.T, body string) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out
}

func TestQueryDetailV1(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now})
	defer fe.Close()
	defer http.DefaultClient.CloseIdleConnections()

	code, _, body := get(t, fe.URL()+"/api/query_detail")
	require.Equal(t, 400, code)
	require.Equal(t, "not valid parameter", body)
	code, _, body = get(t, fe.URL()+"/api/query_detail?event_time=abc")
	require.Equal(t, 500, code)
	require.Contains(t, body, `"status":"FAILED"`)
	code, h, body := get(t, fe.URL()+"/api/query_detail?event_time=0")
	require.Equal(t, 200, code)
	require.Equal(t, "text/html", h.Get("Content-Type"))
	require.Equal(t, "[]", body)

	fe.Run(profiletest.Query{ID: "q1", SQL: "select a >= 1, 'x' from t", Latency: 92 * time.Millisecond,
		ScanRows: 10, CPUCostNs: 5})
	fe.Login("analyst", "10.0.0.1", true)
	_, _, body = get(t, fe.URL()+"/api/query_detail?event_time=%201757044013000%20") // milliseconds: matches everything
	require.Contains(t, body, `select a \u003e\u003d 1, \u0027x\u0027 from t`, "Gson escapes")
	require.True(t, strings.HasPrefix(body, `[{"eventTime":1757044013123000000,"queryId":"q1","isQuery":true,"remoteIP":"127.0.0.1","connId":0,"startTime":1757044013123,"endTime":-1,"latency":-1,"pendingTime":-1,"netTime":-1,"netComputeTime":-1,"state":"RUNNING",`), body)
	ds := details(t, body)
	require.Len(t, ds, 3)
	require.JSONEq(t, `"FINISHED"`, string(ds[1]["state"]))
	require.Equal(t, "1757044013123000001", string(ds[1]["eventTime"]), "same millisecond: counter 1")
	require.Equal(t, string(ds[0]["startTime"]), string(ds[1]["startTime"]))
	require.Equal(t, "92", string(ds[1]["latency"]))
	require.Equal(t, "10", string(ds[1]["scanRows"]))
	require.NotContains(t, ds[2], "sql", "login events have no sql")
	require.Equal(t, "false", string(ds[2]["isQuery"]))
	require.Equal(t, "0", string(ds[2]["startTime"]))

	// Strictly greater than event_time.
	_, _, body = get(t, fe.URL()+"/api/query_detail?event_time=1757044013123000001")
	require.Len(t, details(t, body), 1)

	// Retention: 30 s, by a task every 5 s.
	clock.Advance(31 * time.Second)
	require.Equal(t, 3, fe.Len(), "the expiry task has not run yet")
	clock.Advance(5 * time.Second)
	_, _, body = get(t, fe.URL()+"/api/query_detail?event_time=0")
	require.Equal(t, "[]", body)
}

func TestV32FieldSet(t *testing.T) {
	fe := profiletest.NewFE(&profiletest.Options{V32: true})
	defer fe.Close()
	defer http.DefaultClient.CloseIdleConnections()
	r := fe.Begin(profiletest.Query{SQL: "select 1"})
	r.End()
	_, _, body := get(t, fe.URL()+"/api/query_detail?event_time=0")
	ds := details(t, body)
	for _, k := range []string{"pendingTime", "netTime", "netComputeTime", "warehouse", "catalog"} {
		require.NotContains(t, ds[0], k)
		require.NotContains(t, ds[1], k)
	}
	require.NotContains(t, ds[0], "resourceGroupName", "absent on RUNNING in 3.2")
	require.Contains(t, ds[1], "resourceGroupName")
}

func TestAuthModes(t *testing.T) {
	users := map[string]string{"u": "p:with:colons", "op": "x"}
	fe := profiletest.NewFE(&profiletest.Options{Auth: profiletest.AuthBasicOperate, Users: users, Operators: []string{"op"}})
	defer fe.Close()
	defer http.DefaultClient.CloseIdleConnections()
	code, h, body := get(t, fe.URL()+"/api/query_detail?event_time=0")
	require.Equal(t, 401, code)
	require.Equal(t, `Basic realm=""`, h.Get("WWW-Authenticate"))
	require.JSONEq(t, `{"status":"FAILED","code":"1","msg":"Access denied for @127.0.0.1","message":"Access denied for @127.0.0.1"}`, body)
	code, _, _ = get(t, fe.URL()+"/api/query_detail?event_time=0", "u@10.0.0.1", "p:with:colons")
	require.Equal(t, 403, code, "authenticated, without OPERATE")
	code, _, _ = get(t, fe.URL()+"/api/profile?query_id=x", "op", "x")
	require.Equal(t, 404, code)
	code, _, _ = get(t, fe.URL()+"/api/bootstrap")
	require.Equal(t, 200, code, "bootstrap is never authenticated")
}

func TestProfiles(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now, V2: true, ProfileCap: 2})
	defer fe.Close()
	defer http.DefaultClient.CloseIdleConnections()
	fe.Run(profiletest.Query{ID: "late", SQL: "select 1", Profile: "P1", ProfileDelay: time.Second})
	code, _, body := get(t, fe.URL()+"/api/profile?query_id=late")
	require.Equal(t, 404, code)
	require.Equal(t, "query id late not found.", body)
	code, _, body = get(t, fe.URL()+"/api/v2/profile?query_id=late")
	require.Equal(t, 404, code)
	require.JSONEq(t, `{"code":"404","message":"Query id late not found."}`, body)
	clock.Advance(time.Second)
	_, _, body = get(t, fe.URL()+"/api/profile?query_id=late")
	require.Equal(t, "P1", body)
	_, _, body = get(t, fe.URL()+"/api/v2/profile?query_id=late")
	require.JSONEq(t, `{"code":"0","message":"OK","result":"P1"}`, body)
	code, _, _ = get(t, fe.URL()+"/api/profile")
	require.Equal(t, 400, code)

	fe.Run(profiletest.Query{ID: "b", SQL: "select 2", Profile: "P2"})
	fe.Run(profiletest.Query{ID: "c", SQL: "select 3", Profile: "P3"})
	code, _, _ = get(t, fe.URL()+"/api/profile?query_id=late")
	require.Equal(t, 404, code, "evicted FIFO")

	_, h, body := get(t, fe.URL()+"/api/v2/query_detail?event_time=0&user=ROOT")
	require.Equal(t, "application/json; charset=UTF-8", h.Get("Content-Type"))
	require.True(t, strings.HasPrefix(body, `{"code":"0","message":"OK","result":[{`), body)
	code, _, _ = get(t, fe.URL()+"/api/v2/query_detail")
	require.Equal(t, 400, code)
}

func TestBootstrapRestartAndFailures(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now, Token: "tok"})
	defer fe.Close()
	defer http.DefaultClient.CloseIdleConnections()
	_, _, body := get(t, fe.URL()+"/api/bootstrap")
	require.Contains(t, body, `"feStartTime":0`)
	_, _, body = get(t, fe.URL()+"/api/bootstrap?token=tok")
	require.Contains(t, body, fmt.Sprintf(`"feStartTime":%d`, t0.UnixMilli()))
	fe.Run(profiletest.Query{SQL: "select 1"})
	clock.Advance(time.Minute)
	fe.Restart()
	require.Zero(t, fe.Len())
	_, _, body = get(t, fe.URL()+"/api/bootstrap?token=tok")
	require.NotContains(t, body, fmt.Sprintf(`"feStartTime":%d`, t0.UnixMilli()))
	fe.SetReady(false)
	_, _, body = get(t, fe.URL()+"/api/bootstrap")
	require.Contains(t, body, `"msg":"not ready"`)

	fe.Fail("/api/query_detail", 503)
	code, _, _ := get(t, fe.URL()+"/api/query_detail?event_time=0")
	require.Equal(t, 503, code)
	code, _, _ = get(t, fe.URL()+"/api/query_detail?event_time=0")
	require.Equal(t, 200, code)
	require.Equal(t, 2, fe.Requests("/api/query_detail"))

	_, _, body = get(t, fe.URL()+"/metrics")
	require.Contains(t, body, "starrocks_fe_query_total 1")
	_, _, body = get(t, fe.URL()+"/api/health")
	require.Contains(t, body, `"status":"OK"`)
}

func ExampleFE() {
	fe := profiletest.NewFE(&profiletest.Options{Now: profiletest.NewClock(t0).Now})
	defer fe.Close()
	fe.Run(profiletest.Query{ID: "f68172bd-8a0a-11f0-94e0-00163e341b96", SQL: "select 1", Latency: 92 * time.Millisecond})

	resp, err := http.Get(fe.URL() + "/api/query_detail?event_time=0")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var ds []struct {
		EventTime int64  `json:"eventTime"`
		QueryID   string `json:"queryId"`
		State     string `json:"state"`
		Latency   int64  `json:"latency"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ds); err != nil {
		panic(err)
	}
	for _, d := range ds {
		fmt.Println(d.EventTime, d.QueryID, d.State, d.Latency)
	}
	// Output:
	// 1757044013123000000 f68172bd-8a0a-11f0-94e0-00163e341b96 RUNNING -1
	// 1757044013123000001 f68172bd-8a0a-11f0-94e0-00163e341b96 FINISHED 92
}
