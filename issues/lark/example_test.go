package lark_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

// A backfill of a chat holding one alert card with a firing and a resolved
// section, then a catch-up that finds nothing new.
func ExampleSource() {
	srv := larktest.NewServer(nil)
	defer srv.Close()
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	srv.Add(larktest.Message{ID: "om_dc13264520392913993dd051dba21dcf", ChatID: "oc_alerts", Created: now.Add(-time.Hour),
		Content: larktest.StarRocksCard("StarRocks alerts",
			larktest.Section{ClusterID: "c-91d0e3aa42", Status: "Firing", AlertName: "BeAliveAbnormal"},
			larktest.Section{ClusterID: "c-91d0e3aa42", Status: "Resolved", AlertName: "FeQueryLatencyHigh"})})

	clock := func() time.Time { return now }
	tracker := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: clock})
	client := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL})
	src := lark.NewSource(client, tracker, &lark.SourceOptions{Now: clock})

	ctx := context.Background()
	st, err := src.Run(ctx, "oc_alerts", lark.Backfill(7))
	fmt.Println(st.Messages, "message,", st.Alerts, "alerts,", st.New, "new", err)
	st, err = src.Run(ctx, "oc_alerts", lark.CatchUp())
	fmt.Println(st.Messages, "message,", st.Skipped, "skipped,", st.New, "new", err)
	list, _ := tracker.Issues(ctx, issues.Filter{})
	fmt.Println(len(list), "issue on", list[0].Cluster, list[0].AlertNames)
	// Output:
	// 1 message, 2 alerts, 2 new <nil>
	// 1 message, 1 skipped, 0 new <nil>
	// 1 issue on c-91d0e3aa42 [BeAliveAbnormal FeQueryLatencyHigh]
}
