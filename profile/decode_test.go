package profile

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The §1.7 example of the reference notes, one object per line as the FE
// writes it, with Gson's HTML escapes.
const exampleV1 = `[{"eventTime":1757044013031000000,"queryId":"f68172bd-8a0a-11f0-94e0-00163e341b96","isQuery":true,"remoteIP":"10.42.3.17","connId":12,"startTime":1757044013031,"endTime":-1,"latency":-1,"pendingTime":-1,"netTime":-1,"netComputeTime":-1,"state":"RUNNING","database":"tpcds","sql":"select ss_store_sk, sum(ss_net_paid) from store_sales where ss_quantity \u003e 10 group by ss_store_sk","user":"analyst","resourceGroupName":"","scanRows":-1,"scanBytes":-1,"returnRows":-1,"cpuCostNs":-1,"memCostBytes":-1,"spillBytes":-1,"warehouse":"default_warehouse","catalog":"default_catalog"},
{"eventTime":1757044013123000000,"queryId":"f68172bd-8a0a-11f0-94e0-00163e341b96","isQuery":true,"remoteIP":"10.42.3.17","connId":12,"startTime":1757044013031,"endTime":1757044013123,"latency":92,"pendingTime":0,"netTime":92,"netComputeTime":81,"state":"FINISHED","database":"tpcds","sql":"select ss_store_sk, sum(ss_net_paid) from store_sales where ss_quantity \u003e 10 group by ss_store_sk","user":"analyst","resourceGroupName":"default_wg","scanRows":2880404,"scanBytes":19652231,"returnRows":12,"cpuCostNs":251340117,"memCostBytes":6638592,"spillBytes":0,"warehouse":"default_warehouse","catalog":"default_catalog"},
{"eventTime":1757044014002000001,"queryId":"0a1b2c3d-8a0b-11f0-94e0-00163e341b96","isQuery":true,"remoteIP":"10.42.3.17","connId":13,"startTime":1757044013990,"endTime":1757044014002,"latency":12,"pendingTime":0,"netTime":12,"netComputeTime":3,"state":"FAILED","database":"tpcds","sql":"select * from no_such_table","user":"analyst","errorMessage":"Getting analyzing error. Detail message: Unknown table \u0027tpcds.no_such_table\u0027.","resourceGroupName":"","scanRows":0,"scanBytes":0,"returnRows":0,"cpuCostNs":0,"memCostBytes":0,"spillBytes":0,"cacheMissRatio":12.5,"warehouse":"default_warehouse","catalog":"default_catalog","someFutureField":{"x":[1,2]}}]`

// A 3.2 record: no pendingTime, warehouse or catalog; no resourceGroupName.
const example32 = `[{"eventTime":1757044013031000007,"queryId":"q","isQuery":true,"remoteIP":"10.0.0.1","connId":1,"startTime":1,"endTime":-1,"latency":-1,"state":"RUNNING","database":"","sql":"select 1","user":"root","scanRows":-1,"scanBytes":-1,"returnRows":-1,"cpuCostNs":-1,"memCostBytes":-1,"spillBytes":-1}]`

func TestDecodeQueryDetails(t *testing.T) {
	ds, err := decodeQueryDetails([]byte(exampleV1))
	require.NoError(t, err)
	require.Len(t, ds, 3)
	require.Equal(t, int64(1757044014002000001), ds[2].EventTime, "exact above 2^53")
	require.NotEqual(t, int64(float64(ds[2].EventTime)), ds[2].EventTime, "a float64 would have lost it")
	require.Equal(t, "select ss_store_sk, sum(ss_net_paid) from store_sales where ss_quantity > 10 group by ss_store_sk", ds[1].SQL)
	require.Equal(t, "Getting analyzing error. Detail message: Unknown table 'tpcds.no_such_table'.", ds[2].ErrorMessage)
	require.Equal(t, 12.5, *ds[2].CacheMissRatio)
	require.Nil(t, ds[1].CacheMissRatio)
	require.Equal(t, int64(251340117), ds[1].CPUCostNs)

	ds, err = decodeQueryDetails([]byte(example32))
	require.NoError(t, err)
	require.Equal(t, int64(-1), ds[0].PendingTime, "absent means not reported")
	require.Equal(t, int64(1757044013031000007), ds[0].EventTime)

	for _, body := range []string{
		`{"code":"0","message":"OK","result":` + example32 + `}`,
		`{"code":0,"result":` + example32 + `}`,
		`{"data":` + example32 + `}`,
		"  \n" + example32 + "\n",
	} {
		ds, err := decodeQueryDetails([]byte(body))
		require.NoError(t, err, body)
		require.Len(t, ds, 1)
	}
	for _, body := range []string{"", "[]", `{"code":"0","message":"OK","result":[]}`, `{"code":"0","message":"OK"}`} {
		ds, err := decodeQueryDetails([]byte(body))
		if body == "" {
			require.ErrorIs(t, err, ErrBadResponse)
			continue
		}
		require.NoError(t, err)
		require.Empty(t, ds)
	}
	for _, body := range []string{
		`{"code":"400","message":"not valid parameter"}`,
		`not valid parameter`,
		`<html>`,
		`[{"eventTime":1.757044013e18}]`,
		`[{"eventTime":"x"}]`,
		`[{"eventTime":1}`,
		`{"result":{"a":1}}`,
	} {
		_, err := decodeQueryDetails([]byte(body))
		require.ErrorIs(t, err, ErrBadResponse, body)
	}
}

func FuzzDecodeQueryDetails(f *testing.F) {
	for _, s := range []string{exampleV1, example32, `{"code":"0","message":"OK","result":` + example32 + `}`,
		`{"data":[]}`, `[{"eventTime":9223372036854775807}]`, `[{"eventTime":-1,"latency":1e3}]`, `[null]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ds, err := decodeQueryDetails(body)
		if err != nil {
			return
		}
		src := NewFESource("127.0.0.1:1", &FEOptions{NoProfiles: true})
		for i := range ds {
			r := src.record(&ds[i])
			if r.DurationMS != nil && (*r.DurationMS < 0 || math.IsNaN(*r.DurationMS)) {
				t.Fatalf("negative duration %v", *r.DurationMS)
			}
		}
	})
}
