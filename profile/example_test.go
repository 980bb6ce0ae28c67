package profile_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// A Collector polling two simulated FEs: each finished statement is written
// once, with its statistics and (when the FE has one) its profile.
func ExampleCollector() {
	fe1 := profiletest.NewFE(nil)
	defer fe1.Close()
	fe2 := profiletest.NewFE(nil)
	defer fe2.Close()

	id := profiletest.NewQueryID()
	fe1.Run(profiletest.Query{ID: id, SQL: "select count(*) from store_sales", User: "analyst",
		Latency: 92 * time.Millisecond, ScanRows: 2880404, CPUCostNs: 251340117,
		Profile: profiletest.SampleProfile(id, "select count(*) from store_sales"),
		AlsoOn:  []*profiletest.FE{fe2}}) // recorded by both FEs, written once
	fe2.Run(profiletest.Query{SQL: "select * from no_such_table", Failed: true, ErrorMessage: "Unknown table"})

	rec := &sinktest.Recorder{} // in production: sink.NewWriter(bucket, profile.Dataset, nil)
	c, err := profile.NewCollector(rec, profile.StaticDiscovery(fe1.Addr(), fe2.Addr()), &profile.Options{
		Cluster: "prod",
		FE:      &profile.FEOptions{ProfileWait: time.Millisecond}, // do not wait for profiles that never come
	})
	if err != nil {
		panic(err)
	}
	if err := c.Poll(context.Background()); err != nil { // Run polls every Options.Interval
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil { // ends at once, with the final flush
		panic(err)
	}

	recs, _ := sinktest.Decode[dataset.Profile](rec)
	for _, r := range recs {
		fmt.Println(r.Kind, r.State, r.SQLText, "profile:", r.ProfileText != "")
	}
	// Unordered output:
	// statement FINISHED select count(*) from store_sales profile: true
	// statement FAILED select * from no_such_table profile: false
}

func ExampleParseProfile() {
	text := profiletest.SampleProfile("f68172bd-8a0a-11f0-94e0-00163e341b96", "select 1")
	s, err := profile.ParseProfile(text)
	if err != nil {
		panic(err)
	}
	fmt.Println("cpu:", s.CPUTime)
	fmt.Println("peak memory:", s.PeakMemoryBytes)
	fmt.Println("scan bytes:", s.ScanBytes, "rows:", s.ScanRows)
	fmt.Printf("cache hit: %.2f\n", s.CacheHitRatio())
	// Output:
	// cpu: 251.34ms
	// peak memory: 6638535
	// scan bytes: 19652411 rows: 2880404
	// cache hit: 0.75
}

// One FE, polled by hand: the source keeps its eventTime cursor.
func ExampleFESource() {
	fe := profiletest.NewFE(&profiletest.Options{Auth: profiletest.AuthBasic, Users: map[string]string{"collector": "pw"}})
	defer fe.Close()
	fe.Run(profiletest.Query{SQL: "select 1"})

	src := profile.NewFESource(fe.Addr(), &profile.FEOptions{User: "collector", Password: "pw", NoProfiles: true})
	defer src.Close()
	recs, err := src.Collect(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(len(recs), recs[0].State, recs[0].SQLText, recs[0].QueryHash)
	recs, _ = src.Collect(context.Background())
	fmt.Println(len(recs))
	// Output:
	// 1 FINISHED select 1 95adb6e77a0884d9e50232cb8c5c969d
	// 0
}
